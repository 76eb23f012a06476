/*
 * timeutil.h — times as the evidence store keeps them: UTC text
 * "YYYY-MM-DD HH:MM:SS".
 *
 * time_to_utc accepts RFC 3339 and the common variants real logs have:
 * "2024-03-01T09:12:00+08:00", "...Z", "...+0800", a space instead of T,
 * fractional seconds (dropped, not rounded), and no offset at all, which
 * means the configured zone (time_set_zone). Zones are IANA names resolved
 * through the system's tz database.
 */
#ifndef CA_TIMEUTIL_H
#define CA_TIMEUTIL_H

#include <time.h>

#include "err.h"

/* Sets the zone used for times without offset; default Asia/Shanghai. */
int time_set_zone(const char *zone, struct err *e);
const char *time_zone(void);

/* Normalises in to out[20]; returns -1 (message in e, no position) when the
 * text is not a time. */
int time_to_utc(const char *in, char out[20], struct err *e);
/* Parses with a strptime format in the given zone (NULL = configured). */
int time_parse_fmt(const char *in, const char *fmt, const char *zone, char out[20],
		   struct err *e);

/* Calendar arithmetic on the proleptic Gregorian calendar, shared by every
 * module that counts days: days since 1970-01-01 and back, month lengths,
 * and whether s is exactly a real date "YYYY-MM-DD". */
long long time_days_from_civil(long long y, int m, int d);
void time_civil_from_days(long long z, long long *y, int *m, int *d);
int time_days_in_month(int y, int m);
int time_valid_date(const char *s);

/* Seconds since the epoch for a stored UTC time; -1 if malformed. */
time_t time_utc_epoch(const char *utc);
/* Formats epoch seconds as stored UTC text. */
void time_epoch_utc(time_t t, char out[20]);
/* The local calendar date (configured zone) of a stored UTC time: out[11]. */
int time_utc_local_date(const char *utc, char out[11]);
/* UTC time of local midnight starting the given local date "YYYY-MM-DD". */
int time_local_date_utc(const char *date, char out[20]);
/* Today's date in the configured zone. */
void time_today(char out[11]);

/* Seconds on a monotonic clock, for durations (timings, time budgets). */
double time_monotonic(void);

#endif
