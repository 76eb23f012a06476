/*
 * workdays.c — China's working-day calendar: parsing the project's calendar
 * format (documented at the top of rules/calendar-cn.txt) and the arithmetic
 * rules need for deadlines counted in working days.
 *
 * Dates are handled as day numbers (days since 1970-01-01, proleptic
 * Gregorian), so that weekends follow from arithmetic and the calendar only
 * has to list its exceptions: holidays and adjusted working days, kept
 * sorted for binary search. Until workdays_load is called the built-in copy
 * (calendar_data.c) is parsed once, on first use, under pthread_once so that
 * SQL functions may run on several threads.
 */
#include "workdays.h"
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar_data.h"
#include "log.h"

/* Beyond this a count of working days is a mistake, not a deadline. */
#define WD_MAX_SPAN 100000
/* The longest break ever announced is ten days; a longer range is a typo
 * that would otherwise silently wipe out months of working days. */
#define WD_MAX_RANGE 31

struct wd_entry {
	long day;   /* day number of the date */
	int status; /* 'h' holiday, 'w' adjusted working day */
	int line;   /* line of the calendar file it came from */
};

struct wd_cal {
	struct wd_entry *v; /* owned, sorted by day */
	size_t n;           /* entries in v */
	int first, last;    /* years covered; first > last when none */
};

static struct wd_cal wd_active = {NULL, 0, 1, 0};
static pthread_once_t wd_once = PTHREAD_ONCE_INIT;

/* Day numbers are timeutil.h's (days since 1970-01-01). */
static long wd_day_number(int y, int m, int d)
{
	return (long)time_days_from_civil(y, m, d);
}

static void wd_civil(long z, int *y, int *m, int *d)
{
	long long yy;

	time_civil_from_days(z, &yy, m, d);
	*y = (int)yy;
}

/* Parses exactly "YYYY-MM-DD" (years 1000-9999) at s into a day number. */
static int wd_parse_date(const char *s, long *day, int *year)
{
	int y, m, d, i;

	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return -1;
		} else if (!isdigit((unsigned char)s[i])) {
			return -1;
		}
	}
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1000 || m < 1 || m > 12 || d < 1 || d > time_days_in_month(y, m))
		return -1;
	*day = wd_day_number(y, m, d);
	if (year)
		*year = y;
	return 0;
}

/* 0 Monday ... 6 Sunday; 1970-01-01 was a Thursday. */
static int wd_weekday(long day)
{
	long r = (day + 3) % 7;

	return (int)(r < 0 ? r + 7 : r);
}

static const struct wd_entry *wd_find(const struct wd_cal *c, long day)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->v[mid].day == day)
			return &c->v[mid];
		if (c->v[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Index of the first entry on or after day. */
static size_t wd_lower_bound(const struct wd_cal *c, long day)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->v[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int wd_entry_cmp(const void *a, const void *b)
{
	const struct wd_entry *x = a, *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

/* Parser state for one calendar text. */
struct wd_parse {
	const char *file; /* name for messages */
	int line;         /* current line, 1-based */
	struct wd_cal cal;
	size_t cap;
};

static int wd_push(struct wd_parse *p, long day, int status, struct err *e)
{
	if (p->cal.n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct wd_entry *v = realloc(p->cal.v, cap * sizeof *v);

		if (!v)
			return err_set(e, CA_EINTERNAL, p->file, p->line, 0, "out of memory");
		p->cal.v = v;
		p->cap = cap;
	}
	p->cal.v[p->cal.n++] = (struct wd_entry){day, status, p->line};
	return 0;
}

/* "year YYYY [URL...]": years come in order, without gaps. */
static int wd_parse_year(struct wd_parse *p, const char *s, const char *line, struct err *e)
{
	int col = (int)(s - line) + 1;
	char *end;
	long y;

	errno = 0;
	y = strtol(s, &end, 10);
	if (end == s || (*end && !isspace((unsigned char)*end)) || errno || y < 1000 || y > 9999)
		return err_set(e, CA_EINPUT, p->file, p->line, col, "expected a year after 'year'");
	if (p->cal.first <= p->cal.last && y != p->cal.last + 1)
		return err_set(e, CA_EINPUT, p->file, p->line, col,
			       "year %ld does not follow year %d", y, p->cal.last);
	if (p->cal.first > p->cal.last)
		p->cal.first = (int)y;
	p->cal.last = (int)y;
	return 0;
}

/* "DATE[..DATE] holiday|workday NAME". */
static int wd_parse_days(struct wd_parse *p, const char *s, const char *line, struct err *e)
{
	const char *q = s;
	long from, to, d;
	int yfrom, yto, status;

	if (wd_parse_date(q, &from, &yfrom) < 0)
		return err_set(e, CA_EINPUT, p->file, p->line, (int)(q - line) + 1,
			       "expected a date YYYY-MM-DD, 'year' or a comment");
	q += 10;
	to = from;
	yto = yfrom;
	if (q[0] == '.' && q[1] == '.') {
		q += 2;
		if (wd_parse_date(q, &to, &yto) < 0)
			return err_set(e, CA_EINPUT, p->file, p->line, (int)(q - line) + 1,
				       "expected a date YYYY-MM-DD after '..'");
		if (to < from)
			return err_set(e, CA_EINPUT, p->file, p->line, (int)(q - line) + 1,
				       "range ends before it starts");
		if (to - from >= WD_MAX_RANGE)
			return err_set(e, CA_EINPUT, p->file, p->line, (int)(q - line) + 1,
				       "range longer than %d days", WD_MAX_RANGE);
		q += 10;
	}
	if (p->cal.first > p->cal.last || yfrom < p->cal.first || yto > p->cal.last)
		return err_set(e, CA_EINPUT, p->file, p->line, (int)(s - line) + 1,
			       "date outside the years declared so far");
	if (!isspace((unsigned char)*q))
		return err_set(e, CA_EINPUT, p->file, p->line, (int)(q - line) + 1,
			       "expected 'holiday' or 'workday' after the date");
	while (isspace((unsigned char)*q))
		q++;
	if (strncmp(q, "holiday", 7) == 0 && (!q[7] || isspace((unsigned char)q[7])))
		status = 'h';
	else if (strncmp(q, "workday", 7) == 0 && (!q[7] || isspace((unsigned char)q[7])))
		status = 'w';
	else
		return err_set(e, CA_EINPUT, p->file, p->line, (int)(q - line) + 1,
			       "expected 'holiday' or 'workday' followed by a name");
	q += 7;
	while (isspace((unsigned char)*q))
		q++;
	if (!*q)
		return err_set(e, CA_EINPUT, p->file, p->line, (int)(q - line) + 1,
			       "expected a name after '%s'", status == 'h' ? "holiday" : "workday");
	for (d = from; d <= to; d++)
		if (wd_push(p, d, status, e) < 0)
			return -1;
	return 0;
}

/* One line, NUL-terminated, comment and trailing blanks removed. */
static int wd_parse_line(struct wd_parse *p, char *line, struct err *e)
{
	char *s = line, *hash = strchr(line, '#');
	size_t n;

	if (hash)
		*hash = '\0';
	n = strlen(line);
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return 0;
	if (strncmp(s, "year", 4) == 0 && isspace((unsigned char)s[4])) {
		s += 4;
		while (isspace((unsigned char)*s))
			s++;
		return wd_parse_year(p, s, line, e);
	}
	return wd_parse_days(p, s, line, e);
}

/* Sorts the entries and rejects a date listed twice, naming both lines. */
static int wd_finish(struct wd_parse *p, struct err *e)
{
	size_t i;

	if (p->cal.first > p->cal.last)
		return err_set(e, CA_EINPUT, p->file, 0, 0, "calendar declares no 'year'");
	qsort(p->cal.v, p->cal.n, sizeof *p->cal.v, wd_entry_cmp);
	for (i = 1; i < p->cal.n; i++) {
		const struct wd_entry *a = &p->cal.v[i - 1], *b = &p->cal.v[i];

		if (a->day == b->day) {
			int y, m, d;
			const struct wd_entry *later = a->line > b->line ? a : b;

			wd_civil(a->day, &y, &m, &d);
			return err_set(e, CA_EINPUT, p->file, later->line, 1,
				       "date '%04d-%02d-%02d' already listed on line %d", y, m, d,
				       a->line < b->line ? a->line : b->line);
		}
	}
	return 0;
}

/* Parses text (modified in place) into out. */
static int wd_parse_text(const char *file, char *text, struct wd_cal *out, struct err *e)
{
	struct wd_parse p = {file, 0, {NULL, 0, 1, 0}, 0};
	char *line = text, *nl;

	while (line && *line) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		p.line++;
		if (wd_parse_line(&p, line, e) < 0)
			goto fail;
		line = nl ? nl + 1 : NULL;
	}
	if (wd_finish(&p, e) < 0)
		goto fail;
	*out = p.cal;
	return 0;
fail:
	free(p.cal.v);
	return -1;
}

static void wd_builtin_init(void)
{
	struct err e = {0};
	char *text = strdup(calendar_data_cn);

	if (!text || wd_parse_text("built-in calendar", text, &wd_active, &e) < 0) {
		char buf[1600];

		err_format(&e, buf, sizeof buf);
		warnf("built-in working-day calendar unusable, counting weekends only: %s", buf);
	}
	free(text);
}

/* The calendar in force: the loaded one, else the built-in one. */
static const struct wd_cal *wd_cal(void)
{
	pthread_once(&wd_once, wd_builtin_init);
	return &wd_active;
}

static char *wd_read_file(const char *path, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!f) {
		err_set(e, CA_EIO, NULL, 0, 0, "unable to open '%s': %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got > 0);
	if (ferror(f)) {
		err_set(e, CA_EIO, NULL, 0, 0, "unable to read '%s'", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		err_set(e, CA_EINPUT, NULL, 0, 0, "'%s' is not a text file", path);
		return NULL;
	}
	return buf;
}

int workdays_load(const char *path, struct err *e)
{
	struct wd_cal cal;
	char *text;
	int rc;

	if (!path)
		return err_set(e, CA_EUSAGE, "", 0, 0, "no calendar file given");
	text = wd_read_file(path, e);
	if (!text)
		return -1;
	rc = wd_parse_text(path, text, &cal, e);
	free(text);
	if (rc < 0)
		return -1;
	/* Settle the built-in parse first so that it cannot overwrite this. */
	wd_cal();
	free(wd_active.v);
	wd_active = cal;
	return 0;
}

void workdays_range(int *first, int *last)
{
	const struct wd_cal *c = wd_cal();

	if (first)
		*first = c->first;
	if (last)
		*last = c->last;
}

static int wd_is_workday_day(const struct wd_cal *c, long day)
{
	const struct wd_entry *x = wd_find(c, day);

	if (x)
		return x->status == 'w';
	return wd_weekday(day) < 5;
}

int workdays_is_workday(const char *date)
{
	long day;

	if (!date || strlen(date) != 10 || wd_parse_date(date, &day, NULL) < 0)
		return -1;
	return wd_is_workday_day(wd_cal(), day);
}

static void wd_format(long day, char out[11])
{
	int y, m, d;

	wd_civil(day, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

int workdays_add(const char *date, int n, char out[11])
{
	const struct wd_cal *c = wd_cal();
	int step = n < 0 ? -1 : 1, left = n < 0 ? -n : n, y, m, dd;
	long day;

	if (!date || strlen(date) != 10 || wd_parse_date(date, &day, NULL) < 0)
		return -1;
	if (n < -WD_MAX_SPAN || n > WD_MAX_SPAN)
		return -1;
	if (n == 0) {
		while (!wd_is_workday_day(c, day))
			day++;
	}
	while (left > 0) {
		day += step;
		left -= wd_is_workday_day(c, day);
	}
	wd_civil(day, &y, &m, &dd);
	if (y < 1000 || y > 9999)
		return -1;
	wd_format(day, out);
	return 0;
}

/* Monday-to-Friday days among day numbers [0, u) counted from a Monday;
 * a signed count for negative u, so differences give counts of ranges. */
static long wd_weekdays_before(long u)
{
	long q = u >= 0 ? u / 7 : -((-u + 6) / 7), r = u - 7 * q;

	return 5 * q + (r < 5 ? r : 5);
}

/* Working days d with a < d <= b, for a <= b. */
static long wd_count(const struct wd_cal *c, long a, long b)
{
	/* Day number 4 (1970-01-05) was a Monday: shift so Mondays are 0 mod 7. */
	long n = wd_weekdays_before(b + 1 - 4) - wd_weekdays_before(a + 1 - 4);
	size_t i;

	for (i = wd_lower_bound(c, a + 1); i < c->n && c->v[i].day <= b; i++) {
		int weekday = wd_weekday(c->v[i].day) < 5;

		if (c->v[i].status == 'h' && weekday)
			n--;
		else if (c->v[i].status == 'w' && !weekday)
			n++;
	}
	return n;
}

int workdays_between(const char *a, const char *b, int *out)
{
	const struct wd_cal *c = wd_cal();
	long da, db;

	if (!a || !b || strlen(a) != 10 || strlen(b) != 10 || wd_parse_date(a, &da, NULL) < 0 ||
	    wd_parse_date(b, &db, NULL) < 0)
		return -1;
	*out = (int)(da <= db ? wd_count(c, da, db) : -wd_count(c, db, da));
	return 0;
}
