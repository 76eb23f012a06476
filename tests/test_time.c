/*
 * test_time.c — time normalisation: every form of time the sources accept,
 * with the UTC it must become (worked out by hand, including a leap day and
 * times that cross midnight and the year), every malformed time with the
 * message the user sees, and local dates in zones with and without DST. The
 * epoch conversions are compared with the C library's gmtime_r/timegm over a
 * sweep of instants, and "today" with date(1).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "timeutil.h"

static void use_zone(const char *zone)
{
	struct err e = {0};

	ck_assert_msg(time_set_zone(zone, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(time_zone(), zone);
}

static void assert_utc(const char *in, const char *want)
{
	struct err e = {0};
	char out[20];

	ck_assert_msg(time_to_utc(in, out, &e) == 0, "'%s' rejected: %s", in, e.msg);
	ck_assert_msg(strcmp(out, want) == 0, "'%s' gave '%s', want '%s'", in, out, want);
}

/* Asserts the rejection and that its message contains each fragment. */
static void assert_bad(const char *in, const char *frag1, const char *frag2)
{
	struct err e = {0};
	char out[20];

	ck_assert_msg(time_to_utc(in, out, &e) == -1, "'%s' accepted as '%s'", in, out);
	ck_assert_int_eq(e.kind, CA_EINPUT);
	ck_assert_msg(strstr(e.msg, frag1), "'%s': message '%s' lacks '%s'", in, e.msg, frag1);
	if (frag2)
		ck_assert_msg(strstr(e.msg, frag2), "'%s': message '%s' lacks '%s'", in, e.msg,
			      frag2);
}

START_TEST(test_accepted_forms)
{
	use_zone("Asia/Shanghai");
	assert_utc("2024-03-01T09:12:00+08:00", "2024-03-01 01:12:00");
	assert_utc("2024-03-01T01:12:00Z", "2024-03-01 01:12:00");
	assert_utc("2024-03-01t01:12:00z", "2024-03-01 01:12:00");
	assert_utc("2024-03-01T09:12:00+0800", "2024-03-01 01:12:00");
	assert_utc("2024-03-01T09:12:00+08", "2024-03-01 01:12:00");
	assert_utc("2024-03-01 09:12:00+08:00", "2024-03-01 01:12:00");
	assert_utc("2024-03-01T09:12:00.123456+08:00", "2024-03-01 01:12:00");
	/* fractions are dropped, never rounded up into the next second */
	assert_utc("2024-03-01T01:12:59.999Z", "2024-03-01 01:12:59");
	assert_utc("2024-03-01 09:12:00", "2024-03-01 01:12:00");
	assert_utc("2024-03-01 09:12:00.5", "2024-03-01 01:12:00");
	assert_utc("  2024-03-01T01:12:00Z\r\n", "2024-03-01 01:12:00");
	assert_utc("2024-03-01T00:00:00-03:30", "2024-03-01 03:30:00");
	assert_utc("2024-03-01T05:45:00+05:45", "2024-03-01 00:00:00");
	assert_utc("1969-12-31T23:59:59Z", "1969-12-31 23:59:59");
}
END_TEST

START_TEST(test_crossing_days)
{
	use_zone("Asia/Shanghai");
	/* a date alone is local midnight, which is the previous UTC day: here
	 * the leap day */
	assert_utc("2024-03-01", "2024-02-29 16:00:00");
	assert_utc("2024-03-01T05:00:00+08:00", "2024-02-29 21:00:00");
	assert_utc("2023-03-01T05:00:00+08:00", "2023-02-28 21:00:00");
	assert_utc("2024-02-29T12:00:00Z", "2024-02-29 12:00:00");
	assert_utc("2000-02-29 07:59:59", "2000-02-28 23:59:59");
	assert_utc("2024-12-31T20:00:00-05:00", "2025-01-01 01:00:00");
	assert_utc("2025-01-01 07:00:00", "2024-12-31 23:00:00");
}
END_TEST

START_TEST(test_rejected)
{
	use_zone("Asia/Shanghai");
	assert_bad("", "expected an RFC 3339 time", "found an empty string");
	assert_bad("   ", "expected an RFC 3339 time", "found an empty string");
	assert_bad("yesterday", "expected an RFC 3339 time such as "
		   "'2024-03-01T09:12:00+08:00', found 'yesterday'", NULL);
	assert_bad("2024-13-01", "found '2024-13-01'", "month 13 is not in 01-12");
	assert_bad("2024-00-10", "found '2024-00-10'", "month 00 is not in 01-12");
	assert_bad("2024-02-30T00:00:00Z", "day 30 is not in 01-29 for 2024-02", NULL);
	assert_bad("2023-02-29", "day 29 is not in 01-28 for 2023-02", NULL);
	assert_bad("1900-02-29", "day 29 is not in 01-28 for 1900-02", NULL);
	assert_bad("2024-04-31 10:00:00", "day 31 is not in 01-30 for 2024-04", NULL);
	assert_bad("2024-03-01T24:00:00Z", "hour 24 is not in 00-23", NULL);
	assert_bad("2024-03-01T09:60:00Z", "minute 60 is not in 00-59", NULL);
	assert_bad("2024-03-01T09:12:61Z", "second 61 is not in 00-59", NULL);
	assert_bad("2024-03-01T09:12:00+25:00", "offset 25:00 is not within 23:59 of UTC",
		   "found '2024-03-01T09:12:00+25:00'");
	assert_bad("2024-03-01T09:12:00+08:60", "offset 08:60 is not within 23:59", NULL);
	assert_bad("2024-03-01T09:12:00Zabc", "found '2024-03-01T09:12:00Zabc'",
		   "unexpected 'abc' after the time");
	assert_bad("2024-03-01T09:12:00+08:00 UTC", "unexpected ' UTC' after the time", NULL);
	assert_bad("2024-03-01x", "unexpected 'x' after the time", NULL);
	assert_bad("2024-03-01T09:12", "expected an RFC 3339 time", "found '2024-03-01T09:12'");
	assert_bad("2024-03-01T09:12:00.", "found '2024-03-01T09:12:00.'", NULL);
	assert_bad("2024-03-01T09:12:00+8:00", "found '2024-03-01T09:12:00+8:00'", NULL);
	assert_bad("2024-3-1", "found '2024-3-1'", NULL);
	assert_bad("24-03-01", "found '24-03-01'", NULL);
}
END_TEST

START_TEST(test_zones)
{
	struct err e = {0};

	use_zone("UTC");
	assert_utc("2024-03-01 09:12:00", "2024-03-01 09:12:00");
	assert_utc("2024-03-01", "2024-03-01 00:00:00");

	use_zone("America/New_York");
	assert_utc("2024-01-15 12:00:00", "2024-01-15 17:00:00"); /* EST */
	assert_utc("2024-07-15 12:00:00", "2024-07-15 16:00:00"); /* EDT */
	assert_utc("2024-03-10", "2024-03-10 05:00:00");          /* DST starts at 02:00 */
	assert_utc("2024-03-11", "2024-03-11 04:00:00");
	/* an explicit offset wins over the zone */
	assert_utc("2024-03-01T09:12:00+08:00", "2024-03-01 01:12:00");

	ck_assert_int_eq(time_set_zone("Mars/Olympus_Mons", &e), -1);
	ck_assert_int_eq(e.kind, CA_EINPUT);
	ck_assert_msg(strstr(e.msg, "unknown time zone 'Mars/Olympus_Mons'"), "%s", e.msg);
	ck_assert_msg(strstr(e.msg, "expected an IANA zone such as 'Asia/Shanghai'"), "%s",
		      e.msg);
	ck_assert_str_eq(time_zone(), "America/New_York");
	ck_assert_int_eq(time_set_zone("../../../etc/passwd", &e), -1);
	ck_assert_int_eq(time_set_zone("", &e), -1);
	ck_assert_msg(strstr(e.msg, "unknown time zone ''"), "%s", e.msg);
	ck_assert_int_eq(time_set_zone("Asia", &e), -1);     /* a directory, not a zone */
	ck_assert_int_eq(time_set_zone("zone.tab", &e), -1); /* a file, but no zone */
	ck_assert_str_eq(time_zone(), "America/New_York");
	assert_utc("2024-07-15 12:00:00", "2024-07-15 16:00:00");
}
END_TEST

START_TEST(test_local_dates)
{
	char d[11], u[20];

	use_zone("Asia/Shanghai");
	ck_assert_int_eq(time_utc_local_date("2024-02-29 16:00:00", d), 0);
	ck_assert_str_eq(d, "2024-03-01");
	ck_assert_int_eq(time_utc_local_date("2024-02-29 15:59:59", d), 0);
	ck_assert_str_eq(d, "2024-02-29");
	ck_assert_int_eq(time_utc_local_date("2024-12-31 16:00:00", d), 0);
	ck_assert_str_eq(d, "2025-01-01");
	ck_assert_int_eq(time_local_date_utc("2024-03-01", u), 0);
	ck_assert_str_eq(u, "2024-02-29 16:00:00");

	use_zone("America/New_York");
	ck_assert_int_eq(time_utc_local_date("2024-03-01 03:00:00", d), 0);
	ck_assert_str_eq(d, "2024-02-29");
	ck_assert_int_eq(time_utc_local_date("2024-07-04 04:00:00", d), 0);
	ck_assert_str_eq(d, "2024-07-04");
	ck_assert_int_eq(time_utc_local_date("2024-07-04 03:59:59", d), 0);
	ck_assert_str_eq(d, "2024-07-03");
	ck_assert_int_eq(time_local_date_utc("2024-07-04", u), 0);
	ck_assert_str_eq(u, "2024-07-04 04:00:00");
	ck_assert_int_eq(time_local_date_utc("2024-01-04", u), 0);
	ck_assert_str_eq(u, "2024-01-04 05:00:00");

	ck_assert_int_eq(time_utc_local_date("2024-03-01T03:00:00", d), -1);
	ck_assert_int_eq(time_utc_local_date("2024-02-30 03:00:00", d), -1);
	ck_assert_int_eq(time_utc_local_date("", d), -1);
	ck_assert_int_eq(time_local_date_utc("2024-02-30", u), -1);
	ck_assert_int_eq(time_local_date_utc("2024-02-01 00:00:00", u), -1);
	ck_assert_int_eq(time_local_date_utc("2024/02/01", u), -1);
}
END_TEST

/* The date(1) command's idea of today in zone; checked before and after the
 * call under test so that a run across midnight cannot fail it. */
static char *date_in(const char *zone)
{
	struct tu_out o = tu_run("TZ='%s' date +%%F", zone);
	char *s = strndup(o.out, 10);

	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	return s;
}

static void assert_today(const char *zone)
{
	char today[11], *before, *after;

	use_zone(zone);
	before = date_in(zone);
	time_today(today);
	after = date_in(zone);
	ck_assert_msg(strcmp(today, before) == 0 || strcmp(today, after) == 0,
		      "%s: today '%s', date(1) '%s'", zone, today, before);
	free(before);
	free(after);
}

START_TEST(test_today)
{
	assert_today("Asia/Shanghai");
	assert_today("Pacific/Kiritimati"); /* UTC+14: a different date for half the day */
	assert_today("Pacific/Pago_Pago");  /* UTC-11 */
}
END_TEST

START_TEST(test_epoch)
{
	char out[20], lib[20], in[32];
	struct tm tm;
	time_t t;

	ck_assert_int_eq(time_utc_epoch("1970-01-01 00:00:00"), 0);
	time_epoch_utc(0, out);
	ck_assert_str_eq(out, "1970-01-01 00:00:00");
	time_epoch_utc(-1, out);
	ck_assert_str_eq(out, "1969-12-31 23:59:59");
	/* the ends of four-digit years, zero-padded */
	time_epoch_utc(253402300799LL, out);
	ck_assert_str_eq(out, "9999-12-31 23:59:59");
	time_epoch_utc(-62135596800LL, out);
	ck_assert_str_eq(out, "0001-01-01 00:00:00");
	time_epoch_utc(-62135596800LL + 9 * 3600 + 8 * 60 + 7, out);
	ck_assert_str_eq(out, "0001-01-01 09:08:07");
	ck_assert_int_eq(time_utc_epoch("2024-03-01T01:12:00"), -1);
	ck_assert_int_eq(time_utc_epoch("2024-02-30 01:12:00"), -1);
	ck_assert_int_eq(time_utc_epoch("2024-03-01 01:12:00Z"), -1);
	ck_assert_int_eq(time_utc_epoch(""), -1);

	/* 1900..2100 in steps that visit every time of day and month end */
	for (t = -2208988800LL; t < 4102444800LL; t += 86400 * 7 + 3677) {
		gmtime_r(&t, &tm);
		strftime(lib, sizeof lib, "%Y-%m-%d %H:%M:%S", &tm);
		time_epoch_utc(t, out);
		ck_assert_str_eq(out, lib);
		ck_assert_int_eq(time_utc_epoch(lib), t);
		ck_assert_int_eq(timegm(&tm), t);
		strftime(in, sizeof in, "%Y-%m-%dT%H:%M:%S+05:30", &tm);
		ck_assert_int_eq(time_to_utc(in, out, NULL), 0);
		ck_assert_int_eq(time_utc_epoch(out), t - 19800);
	}
}
END_TEST

/* Durations: the clock only moves forward, by at least what was slept. */
START_TEST(test_monotonic)
{
	struct timespec nap = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
	double a = time_monotonic(), b;

	ck_assert(a > 0);
	nanosleep(&nap, NULL);
	b = time_monotonic();
	ck_assert_msg(b - a >= 0.02 && b - a < 5, "slept 0.02 s, measured %f s", b - a);
}
END_TEST

START_TEST(test_parse_fmt)
{
	struct err e = {0};
	char out[20];

	use_zone("Asia/Shanghai");
	ck_assert_int_eq(time_parse_fmt("2024/03/01 09:12", "%Y/%m/%d %H:%M", NULL, out, &e), 0);
	ck_assert_str_eq(out, "2024-03-01 01:12:00");
	ck_assert_int_eq(time_parse_fmt("2024/03/01 09:12", "%Y/%m/%d %H:%M", "UTC", out, &e), 0);
	ck_assert_str_eq(out, "2024-03-01 09:12:00");
	ck_assert_int_eq(time_parse_fmt("2024-07-15 12:00:00", "%Y-%m-%d %H:%M:%S",
					"America/New_York", out, &e), 0);
	ck_assert_str_eq(out, "2024-07-15 16:00:00");
	ck_assert_int_eq(time_parse_fmt("01/03/2024 09:12 +0800", "%d/%m/%Y %H:%M %z",
					"UTC", out, &e), 0);
	ck_assert_str_eq(out, "2024-03-01 01:12:00");
	ck_assert_int_eq(time_parse_fmt("2024年3月1日", "%Y年%m月%d日", NULL, out, &e), 0);
	ck_assert_str_eq(out, "2024-02-29 16:00:00");
	/* another zone for one parse leaves the configured one in place */
	ck_assert_str_eq(time_zone(), "Asia/Shanghai");
	assert_utc("2024-03-01 09:12:00", "2024-03-01 01:12:00");

	ck_assert_int_eq(time_parse_fmt("2024/02/30 09:12", "%Y/%m/%d %H:%M", NULL, out, &e), -1);
	ck_assert_str_eq(e.msg, "expected a time in the format '%Y/%m/%d %H:%M', "
			 "found '2024/02/30 09:12'");
	ck_assert_int_eq(time_parse_fmt("2024/03/01 09:12 pm", "%Y/%m/%d %H:%M", NULL, out,
					&e), -1);
	ck_assert_str_eq(e.msg, "expected a time in the format '%Y/%m/%d %H:%M', "
			 "found '2024/03/01 09:12 pm'");
	ck_assert_int_eq(time_parse_fmt("", "%Y/%m/%d", NULL, out, &e), -1);
	ck_assert_int_eq(time_parse_fmt("2024/03/01", "%Y/%m/%d", "Nowhere/City", out, &e), -1);
	ck_assert_msg(strstr(e.msg, "unknown time zone 'Nowhere/City'"), "%s", e.msg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("time");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_add_test(tc, test_accepted_forms);
	tcase_add_test(tc, test_crossing_days);
	tcase_add_test(tc, test_rejected);
	tcase_add_test(tc, test_zones);
	tcase_add_test(tc, test_local_dates);
	tcase_add_test(tc, test_today);
	tcase_add_test(tc, test_epoch);
	tcase_add_test(tc, test_parse_fmt);
	tcase_add_test(tc, test_monotonic);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
