/*
 * period.h — the reporting period of `report --period` (DESIGN §3): a year
 * ("2025"), a month ("2025-10") or a range of local dates
 * ("2022-07-01..2022-10-30", both ends inclusive), resolved into local
 * calendar dates and the UTC bounds that stored times (timeutil.h) are
 * compared with. Local means the configured time zone (time_set_zone), so a
 * certificate issued at 2025-01-01 07:00 Beijing time (2024-12-31 23:00 UTC)
 * belongs to 2025.
 *
 * Without --period a kind has its default: annual = the year before the
 * as-of date, monthly = the month before it, the others = all records.
 */
#ifndef CA_PERIOD_H
#define CA_PERIOD_H

#include "err.h"

enum period_default {
	PERIOD_ALL,        /* no bounds */
	PERIOD_PREV_YEAR,  /* the calendar year before the as-of date */
	PERIOD_PREV_MONTH  /* the calendar month before the as-of date */
};

struct period {
	char text[32];      /* "2025", "2025-10", "A..B"; "" for all records */
	int all;            /* 1: no bounds (the fields below are empty) */
	char from[11];      /* first local date, inclusive */
	char to[11];        /* last local date, inclusive */
	char utc_from[20];  /* UTC time of local midnight starting from */
	char utc_to[20];    /* UTC time of local midnight after to: exclusive */
};

/* The usage message for a bad --period, which names what was found. */
#define PERIOD_USAGE "--period expects YYYY, YYYY-MM or YYYY-MM-DD..YYYY-MM-DD"

/* Parses text (NULL or "" = all records) into *p. A malformed text, a date
 * that does not exist or a range that ends before it starts is a CA_EUSAGE
 * error: PERIOD_USAGE ", found '<text>'". */
int period_parse(const char *text, struct period *p, struct err *e);

/* text when given, else the default def relative to as_of ("YYYY-MM-DD"). */
int period_resolve(const char *text, int def, const char *as_of, struct period *p,
		   struct err *e);

/* The date n days after date (n may be negative) into out[11]; -1 when date
 * is not a real "YYYY-MM-DD". */
int period_add_days(const char *date, int n, char out[11]);

#endif
