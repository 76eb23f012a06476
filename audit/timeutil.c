/*
 * timeutil.c — parsing the times that logs and exports carry and turning
 * them into the store's UTC text; see timeutil.h.
 *
 * Times with an offset are converted with our own calendar arithmetic
 * (days from the civil date), so that they never depend on the process's
 * TZ. Only times without an offset, local dates and "today" go through the
 * tz database, by pointing TZ at the configured zone and using mktime and
 * localtime_r. The zone is kept here, in one static, and re-applied before
 * every local conversion, because other code may have changed TZ meanwhile.
 */
#include "timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TIME_EXPECTED "expected an RFC 3339 time such as '2024-03-01T09:12:00+08:00'"
#define TIME_DEFAULT_ZONE "Asia/Shanghai"

static char zone_name[128] = TIME_DEFAULT_ZONE;

/* The fields of a parsed time, before range checks. */
struct civil {
	int year, mon, day, hour, min, sec;
	int has_time;   /* a time of day was given */
	int has_offset; /* an offset or Z was given */
	int offset;     /* seconds east of UTC */
};

static const char *zoneinfo_dir(void)
{
	const char *d = getenv("TZDIR");
	return d && *d ? d : "/usr/share/zoneinfo";
}

/* Points TZ at zone unless it already is; tzset only when it changes, as it
 * rereads the zone file. */
static void apply_zone(const char *zone)
{
	const char *cur = getenv("TZ");

	if (cur && strcmp(cur, zone) == 0)
		return;
	setenv("TZ", zone, 1);
	tzset();
}

/* A zone is known when the tz database has a compiled file for it; the TZif
 * magic keeps out zone.tab, leapseconds and the like, which glibc would
 * otherwise take silently as UTC. */
static int zone_exists(const char *zone)
{
	struct stat sb;
	char path[512], magic[4];
	FILE *f;
	int ok;

	if (!zone || !*zone || zone[0] == '/' || strstr(zone, ".."))
		return 0;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", zoneinfo_dir(), zone) >= sizeof path)
		return 0;
	if (stat(path, &sb) || !S_ISREG(sb.st_mode) || !(f = fopen(path, "rb")))
		return 0;
	ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "TZif", 4);
	fclose(f);
	return ok;
}

static int unknown_zone(const char *zone, struct err *e)
{
	return err_set(e, CA_EINPUT, NULL, 0, 0,
		       "unknown time zone '%s' (expected an IANA zone such as "
		       "'Asia/Shanghai' with a file in %s)", zone ? zone : "", zoneinfo_dir());
}

int time_set_zone(const char *zone, struct err *e)
{
	if (!zone_exists(zone) || strlen(zone) >= sizeof zone_name)
		return unknown_zone(zone, e);
	snprintf(zone_name, sizeof zone_name, "%s", zone);
	apply_zone(zone_name);
	return 0;
}

const char *time_zone(void)
{
	return zone_name;
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic
 * Gregorian date, valid for every year an int holds. */
long long time_days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void time_civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int time_days_in_month(int y, int m)
{
	static const int n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : n[m - 1];
}

/* Reads exactly n digits at *p into *v and advances; 0 if not n digits. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return 0;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return 1;
}

/* [+-]HH, [+-]HHMM or [+-]HH:MM; *p at the sign. */
static int parse_offset(const char **p, struct civil *c, int *oh, int *om)
{
	int sign = **p == '-' ? -1 : 1;

	(*p)++;
	*om = 0;
	if (!digits(p, 2, oh))
		return 0;
	if (**p == ':') {
		(*p)++;
		if (!digits(p, 2, om))
			return 0;
	} else if (isdigit((unsigned char)**p) && !digits(p, 2, om)) {
		return 0;
	}
	c->has_offset = 1;
	c->offset = sign * (*oh * 3600 + *om * 60);
	return 1;
}

/* The time of day, fraction and offset after the date; *p after the T. */
static int parse_clock(const char **p, struct civil *c, int *oh, int *om)
{
	if (!digits(p, 2, &c->hour) || **p != ':')
		return 0;
	(*p)++;
	if (!digits(p, 2, &c->min) || **p != ':')
		return 0;
	(*p)++;
	if (!digits(p, 2, &c->sec))
		return 0;
	c->has_time = 1;
	if (**p == '.' || **p == ',') {
		if (!isdigit((unsigned char)(*p)[1]))
			return 0;
		(*p)++;
		while (isdigit((unsigned char)**p))
			(*p)++;
	}
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		c->has_offset = 1;
		c->offset = 0;
	} else if (**p == '+' || **p == '-') {
		return parse_offset(p, c, oh, om);
	}
	return 1;
}

/* Range checks; the message names the field and the range it must be in. */
static int check_ranges(const struct civil *c, int oh, int om, const char *in, struct err *e)
{
	const char *x = "expected an RFC 3339 time";

	if (c->mon < 1 || c->mon > 12)
		return err_set(e, CA_EINPUT, NULL, 0, 0, "%s, found '%s' (month %02d is not "
			       "in 01-12)", x, in, c->mon);
	if (c->day < 1 || c->day > time_days_in_month(c->year, c->mon))
		return err_set(e, CA_EINPUT, NULL, 0, 0, "%s, found '%s' (day %02d is not in "
			       "01-%02d for %04d-%02d)", x, in, c->day,
			       time_days_in_month(c->year, c->mon), c->year, c->mon);
	if (c->hour > 23)
		return err_set(e, CA_EINPUT, NULL, 0, 0, "%s, found '%s' (hour %02d is not "
			       "in 00-23)", x, in, c->hour);
	if (c->min > 59)
		return err_set(e, CA_EINPUT, NULL, 0, 0, "%s, found '%s' (minute %02d is not "
			       "in 00-59)", x, in, c->min);
	if (c->sec > 59)
		return err_set(e, CA_EINPUT, NULL, 0, 0, "%s, found '%s' (second %02d is not "
			       "in 00-59)", x, in, c->sec);
	if (c->has_offset && (oh > 23 || om > 59))
		return err_set(e, CA_EINPUT, NULL, 0, 0, "%s, found '%s' (offset %02d:%02d is "
			       "not within 23:59 of UTC)", x, in, oh, om);
	return 0;
}

static int parse_time(const char *in, struct civil *c, struct err *e)
{
	const char *p = in;
	int oh = 0, om = 0;

	memset(c, 0, sizeof *c);
	if (!*in)
		return err_set(e, CA_EINPUT, NULL, 0, 0, TIME_EXPECTED ", found an empty string");
	if (!digits(&p, 4, &c->year) || *p++ != '-' || !digits(&p, 2, &c->mon) ||
	    *p++ != '-' || !digits(&p, 2, &c->day))
		return err_set(e, CA_EINPUT, NULL, 0, 0, TIME_EXPECTED ", found '%s'", in);
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!parse_clock(&p, c, &oh, &om))
			return err_set(e, CA_EINPUT, NULL, 0, 0, TIME_EXPECTED ", found '%s'", in);
	}
	if (*p)
		return err_set(e, CA_EINPUT, NULL, 0, 0, TIME_EXPECTED ", found '%s' "
			       "(unexpected '%s' after the time)", in, p);
	return check_ranges(c, oh, om, in, e);
}

/* Seconds since the epoch of a local wall-clock time in zone. mktime picks
 * the later instant for a time skipped by a DST change and lets tm_isdst
 * decide an ambiguous one, as the C library does everywhere. */
static int local_epoch(const char *zone, const struct civil *c, time_t *out)
{
	struct tm tm = {0};

	apply_zone(zone);
	tm.tm_year = c->year - 1900;
	tm.tm_mon = c->mon - 1;
	tm.tm_mday = c->day;
	tm.tm_hour = c->hour;
	tm.tm_min = c->min;
	tm.tm_sec = c->sec;
	tm.tm_isdst = -1;
	*out = mktime(&tm);
	if (zone != zone_name)
		apply_zone(zone_name);
	return *out == (time_t)-1 && !(c->year == 1969 || c->year == 1970) ? -1 : 0;
}

static time_t civil_epoch(const struct civil *c)
{
	return (time_t)(time_days_from_civil(c->year, c->mon, c->day) * 86400LL +
			c->hour * 3600 + c->min * 60 + c->sec - c->offset);
}

/* v as width digits, zero-padded. */
static char *put_digits(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

/* Writes a date (and time when with_time) to out, which holds n bytes; via a
 * wide buffer so that the compiler can see nothing is truncated silently.
 * Years 0-9999 (all a store holds) without printf: an event ingest formats
 * millions of these. */
static void format_stamp(char *out, size_t n, long long y, int m, int d, int hh, int mm,
			 int ss, int with_time)
{
	char buf[96];

	if (y >= 0 && y <= 9999 && n >= (with_time ? 20u : 11u)) {
		char *p = put_digits(out, (int)y, 4);

		*p++ = '-';
		p = put_digits(p, m, 2);
		*p++ = '-';
		p = put_digits(p, d, 2);
		if (with_time) {
			*p++ = ' ';
			p = put_digits(p, hh, 2);
			*p++ = ':';
			p = put_digits(p, mm, 2);
			*p++ = ':';
			p = put_digits(p, ss, 2);
		}
		*p = '\0';
		return;
	}
	if (with_time)
		snprintf(buf, sizeof buf, "%04lld-%02d-%02d %02d:%02d:%02d", y, m, d, hh, mm, ss);
	else
		snprintf(buf, sizeof buf, "%04lld-%02d-%02d", y, m, d);
	snprintf(out, n, "%.*s", (int)n - 1, buf);
}

void time_epoch_utc(time_t t, char out[20])
{
	long long days = (long long)t / 86400, rem = (long long)t % 86400, y;
	int m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	time_civil_from_days(days, &y, &m, &d);
	format_stamp(out, 20, y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
		     (int)(rem % 60), 1);
}

/* Copies in without surrounding white space, which exports often carry. */
static const char *trimmed(const char *in, char *buf, size_t n)
{
	size_t len;

	while (isspace((unsigned char)*in))
		in++;
	len = strlen(in);
	while (len && isspace((unsigned char)in[len - 1]))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(buf, in, len);
	buf[len] = '\0';
	return buf;
}

int time_to_utc(const char *in, char out[20], struct err *e)
{
	struct civil c;
	char buf[128];
	time_t t;

	if (!in)
		return err_set(e, CA_EINPUT, NULL, 0, 0, TIME_EXPECTED ", found nothing");
	if (strlen(in) >= sizeof buf)
		return err_set(e, CA_EINPUT, NULL, 0, 0, TIME_EXPECTED ", found '%.40s...'", in);
	if (parse_time(trimmed(in, buf, sizeof buf), &c, e))
		return -1;
	if (c.has_offset) {
		t = civil_epoch(&c);
	} else if (local_epoch(zone_name, &c, &t)) {
		return err_set(e, CA_EINPUT, NULL, 0, 0, "time '%s' cannot be represented in "
			       "zone '%s'", buf, zone_name);
	}
	time_epoch_utc(t, out);
	return 0;
}

/* Whether the parsed struct tm still names a real date (strptime accepts
 * Feb 31). */
static int tm_valid(const struct tm *tm)
{
	int y = tm->tm_year + 1900, m = tm->tm_mon + 1;

	return m >= 1 && m <= 12 && tm->tm_mday >= 1 &&
	       tm->tm_mday <= time_days_in_month(y, m) && tm->tm_hour <= 23 &&
	       tm->tm_min <= 59 && tm->tm_sec <= 59;
}

int time_parse_fmt(const char *in, const char *fmt, const char *zone, char out[20],
		   struct err *e)
{
	struct tm tm = {0};
	struct civil c = {0};
	const char *end;
	time_t t;

	if (zone && !zone_exists(zone))
		return unknown_zone(zone, e);
	tm.tm_mday = 1;
	end = in ? strptime(in, fmt, &tm) : NULL;
	while (end && isspace((unsigned char)*end))
		end++;
	if (!end || *end || !tm_valid(&tm))
		return err_set(e, CA_EINPUT, NULL, 0, 0, "expected a time in the format '%s', "
			       "found '%s'", fmt, in ? in : "");
	c.year = tm.tm_year + 1900;
	c.mon = tm.tm_mon + 1;
	c.day = tm.tm_mday;
	c.hour = tm.tm_hour;
	c.min = tm.tm_min;
	c.sec = tm.tm_sec;
	if (strstr(fmt, "%z")) {
		/* glibc's strptime stores a parsed %z in tm_gmtoff */
		c.offset = (int)tm.tm_gmtoff;
		t = civil_epoch(&c);
	} else if (local_epoch(zone ? zone : zone_name, &c, &t)) {
		return err_set(e, CA_EINPUT, NULL, 0, 0, "time '%s' cannot be represented in "
			       "zone '%s'", in, zone ? zone : zone_name);
	}
	time_epoch_utc(t, out);
	return 0;
}

time_t time_utc_epoch(const char *utc)
{
	struct civil c = {0};
	const char *p = utc;

	if (!p || !digits(&p, 4, &c.year) || *p++ != '-' || !digits(&p, 2, &c.mon) ||
	    *p++ != '-' || !digits(&p, 2, &c.day) || *p++ != ' ' ||
	    !digits(&p, 2, &c.hour) || *p++ != ':' || !digits(&p, 2, &c.min) ||
	    *p++ != ':' || !digits(&p, 2, &c.sec) || *p)
		return -1;
	if (c.mon < 1 || c.mon > 12 || c.day < 1 || c.day > time_days_in_month(c.year, c.mon) ||
	    c.hour > 23 || c.min > 59 || c.sec > 59)
		return -1;
	return civil_epoch(&c);
}

int time_utc_local_date(const char *utc, char out[11])
{
	time_t t = time_utc_epoch(utc);
	struct tm tm;

	if (t == (time_t)-1 && (!utc || strcmp(utc, "1969-12-31 23:59:59") != 0))
		return -1;
	apply_zone(zone_name);
	if (!localtime_r(&t, &tm))
		return -1;
	format_stamp(out, 11, tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0, 0);
	return 0;
}

int time_local_date_utc(const char *date, char out[20])
{
	struct civil c = {0};
	const char *p = date;
	time_t t;

	if (!p || !digits(&p, 4, &c.year) || *p++ != '-' || !digits(&p, 2, &c.mon) ||
	    *p++ != '-' || !digits(&p, 2, &c.day) || *p)
		return -1;
	if (c.mon < 1 || c.mon > 12 || c.day < 1 || c.day > time_days_in_month(c.year, c.mon))
		return -1;
	if (local_epoch(zone_name, &c, &t))
		return -1;
	time_epoch_utc(t, out);
	return 0;
}

double time_monotonic(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

void time_today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	apply_zone(zone_name);
	localtime_r(&now, &tm);
	format_stamp(out, 11, tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0, 0);
}

int time_valid_date(const char *s)
{
	int y, m, d;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	return m >= 1 && m <= 12 && d >= 1 && d <= time_days_in_month(y, m);
}
