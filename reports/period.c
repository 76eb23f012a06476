/*
 * period.c — parsing and resolving reporting periods (period.h). Dates are
 * checked by a round trip through timegm, so "2025-02-30" is refused rather
 * than silently becoming 2 March.
 */
#include "period.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

static int period_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Noon UTC of a real date: noon keeps day arithmetic clear of any edge. */
static int period_date_tm(const char *s, size_t n, struct tm *tm)
{
	char back[11];
	time_t t;

	if (n != 10 || !period_digits(s, 4) || s[4] != '-' || !period_digits(s + 5, 2) ||
	    s[7] != '-' || !period_digits(s + 8, 2))
		return -1;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
		      (s[3] - '0') - 1900;
	tm->tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm->tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	tm->tm_hour = 12;
	t = timegm(tm);
	gmtime_r(&t, tm);
	strftime(back, sizeof(back), "%Y-%m-%d", tm);
	return strncmp(back, s, 10) == 0 ? 0 : -1;
}

int period_add_days(const char *date, int n, char out[11])
{
	struct tm tm;
	time_t t;

	if (!date || period_date_tm(date, strlen(date), &tm) < 0)
		return -1;
	t = timegm(&tm) + (time_t)n * 86400;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
	return 0;
}

/* The last day of month m (1-12) of year y. */
static int period_month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

static int period_bounds(struct period *p, struct err *e)
{
	char after[11];

	if (period_add_days(p->to, 1, after) < 0 ||
	    time_local_date_utc(p->from, p->utc_from) < 0 ||
	    time_local_date_utc(after, p->utc_to) < 0)
		return err_set(e, CA_EINTERNAL, "", 0, 0,
			       "unable to convert the period '%s' to UTC", p->text);
	return 0;
}

static int period_bad(const char *text, struct err *e)
{
	return err_set(e, CA_EUSAGE, "", 0, 0, PERIOD_USAGE ", found '%s'", text);
}

int period_parse(const char *text, struct period *p, struct err *e)
{
	size_t n = text ? strlen(text) : 0;
	const char *dots = text ? strstr(text, "..") : NULL;
	struct tm tm;

	memset(p, 0, sizeof(*p));
	if (n == 0) {
		p->all = 1;
		return 0;
	}
	if (n >= sizeof(p->text))
		return period_bad(text, e);
	memcpy(p->text, text, n + 1);
	if (n == 4 && period_digits(text, 4)) {
		snprintf(p->from, sizeof(p->from), "%s-01-01", text);
		snprintf(p->to, sizeof(p->to), "%s-12-31", text);
	} else if (n == 7 && period_digits(text, 4) && text[4] == '-' &&
		   period_digits(text + 5, 2)) {
		int y = (int)strtol(text, NULL, 10), m = (int)strtol(text + 5, NULL, 10);

		if (m < 1 || m > 12)
			return period_bad(text, e);
		snprintf(p->from, sizeof(p->from), "%s-01", text);
		snprintf(p->to, sizeof(p->to), "%s-%02d", text, period_month_days(y, m));
	} else if (dots && period_date_tm(text, (size_t)(dots - text), &tm) == 0 &&
		   period_date_tm(dots + 2, strlen(dots + 2), &tm) == 0 &&
		   strncmp(text, dots + 2, 10) <= 0) {
		memcpy(p->from, text, 10);
		memcpy(p->to, dots + 2, 10);
	} else {
		return period_bad(text, e);
	}
	return period_bounds(p, e);
}

int period_resolve(const char *text, int def, const char *as_of, struct period *p,
		   struct err *e)
{
	char buf[24];
	int y, m;

	if ((text && *text) || def == PERIOD_ALL)
		return period_parse(text, p, e);
	if (!as_of || strlen(as_of) != 10 || period_date_tm(as_of, 10, &(struct tm){0}) < 0)
		return err_set(e, CA_EUSAGE, "", 0, 0, "the as-of date '%s' is not YYYY-MM-DD",
			       as_of ? as_of : "");
	y = (int)strtol(as_of, NULL, 10);
	m = (int)strtol(as_of + 5, NULL, 10);
	if (def == PERIOD_PREV_YEAR) {
		snprintf(buf, sizeof(buf), "%04d", y - 1);
	} else {
		if (--m == 0) {
			m = 12;
			y--;
		}
		snprintf(buf, sizeof(buf), "%04d-%02d", y, m);
	}
	return period_parse(buf, p, e);
}
