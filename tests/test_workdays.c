/*
 * test_workdays.c — China's working-day calendar: the facts everyone in a
 * Chinese office knows (National Day week, the Sunday before Spring
 * Festival 2025 being a working day, the 2020 extension), arithmetic over
 * holidays and year ends checked against day-by-day counting, every error
 * a calendar file can produce, that the built-in copy equals
 * rules/calendar-cn.txt, and a day-by-day comparison with the holiday-cn
 * reference data when the shared reference folder is present.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "calendar_data.h"
#include "testutil.h"
#include "workdays.h"

/* Days covered by the comparisons: the calendar's years and a margin. */
#define SPAN_FIRST "2016-12-01"
#define SPAN_DAYS 3740

/* date + k days, by the C library, independently of workdays.c. */
static void shift(const char *date, int k, char out[11])
{
	struct tm tm = {0};

	sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_mday += k;
	tm.tm_hour = 12;
	timegm(&tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static char *calendar_path(void)
{
	return tu_fmt("%s/rules/calendar-cn.txt", tu_root());
}

START_TEST(test_known_facts)
{
	const char *off[] = {"2024-10-01", "2024-10-02", "2024-10-03", "2024-10-04",
			     "2024-10-05", "2024-10-06", "2024-10-07", "2025-01-01",
			     "2025-01-28", "2025-02-04", "2020-01-31", "2020-02-01",
			     "2020-02-02", "2024-09-28", "2024-10-13", NULL};
	const char *on[] = {"2024-09-29", "2024-10-12", "2024-10-08", "2024-09-30",
			    "2025-01-26", "2025-02-08", "2020-01-19", "2020-02-03", NULL};
	int i, first, last;

	for (i = 0; off[i]; i++)
		ck_assert_msg(workdays_is_workday(off[i]) == 0, "%s should be a day off", off[i]);
	for (i = 0; on[i]; i++)
		ck_assert_msg(workdays_is_workday(on[i]) == 1, "%s should be a working day", on[i]);
	workdays_range(&first, &last);
	ck_assert_int_eq(first, 2017);
	ck_assert_int_eq(last, 2026);
	/* Outside the covered years only weekends are days off: National
	 * Day 2016 and 2030 fall on weekdays counted as working days. */
	ck_assert_int_eq(workdays_is_workday("2016-10-03"), 1);
	ck_assert_int_eq(workdays_is_workday("2030-10-01"), 1);
	ck_assert_int_eq(workdays_is_workday("2030-10-05"), 0);
}
END_TEST

START_TEST(test_malformed_dates)
{
	const char *bad[] = {"", "2024-1-01", "2024/10/01", "2024-10-32", "2023-02-29",
			     "2024-13-01", "2024-10-01x", "20241001", "abcd-ef-gh", NULL};
	char out[11];
	int n, i;

	for (i = 0; bad[i]; i++) {
		ck_assert_msg(workdays_is_workday(bad[i]) == -1, "'%s' accepted", bad[i]);
		ck_assert_int_eq(workdays_add(bad[i], 1, out), -1);
		ck_assert_int_eq(workdays_between(bad[i], "2024-10-01", &n), -1);
		ck_assert_int_eq(workdays_between("2024-10-01", bad[i], &n), -1);
	}
	ck_assert_int_eq(workdays_is_workday(NULL), -1);
	ck_assert_int_eq(workdays_is_workday("2024-02-29"), 1);
	ck_assert_int_eq(workdays_add("2024-10-01", 100001, out), -1);
}
END_TEST

START_TEST(test_add_examples)
{
	struct { const char *date; int n; const char *want; } cases[] = {
		{"2024-09-30", 1, "2024-10-08"},  /* over National Day */
		{"2024-10-08", -1, "2024-09-30"},
		{"2024-09-27", 1, "2024-09-29"},  /* Friday to an adjusted Sunday */
		{"2024-10-03", 0, "2024-10-08"},  /* a holiday moves on */
		{"2024-10-08", 0, "2024-10-08"},  /* a working day stays */
		{"2024-10-12", 0, "2024-10-12"},  /* so does an adjusted Saturday */
		{"2024-12-31", 1, "2025-01-02"},  /* New Year's Day */
		{"2025-01-02", -1, "2024-12-31"},
		{"2025-01-24", 1, "2025-01-26"},
		{"2025-01-26", 1, "2025-01-27"},
		{"2025-01-27", 1, "2025-02-05"},  /* Spring Festival 2025 */
		{"2030-12-31", 1, "2031-01-01"},  /* beyond the calendar */
		{"2024-09-30", 20, "2024-11-01"},
	};
	char out[11];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(workdays_add(cases[i].date, cases[i].n, out), 0);
		ck_assert_msg(strcmp(out, cases[i].want) == 0, "%s %+d: got %s, want %s",
			      cases[i].date, cases[i].n, out, cases[i].want);
	}
}
END_TEST

START_TEST(test_between_examples)
{
	int n;

	ck_assert_int_eq(workdays_between("2024-09-30", "2024-10-08", &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(workdays_between("2024-10-08", "2024-09-30", &n), 0);
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(workdays_between("2024-10-08", "2024-10-08", &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(workdays_between("2024-12-31", "2025-01-02", &n), 0);
	ck_assert_int_eq(n, 1);
	/* October 2024: 23 weekdays, 5 of them holidays, plus Saturday the 12th. */
	ck_assert_int_eq(workdays_between("2024-09-30", "2024-10-31", &n), 0);
	ck_assert_int_eq(n, 19);
}
END_TEST

/* The arithmetic of workdays_between against counting one day at a time,
 * and workdays_add against its definition, over every day of the calendar
 * and beyond its edges. */
START_TEST(test_arithmetic_matches_counting)
{
	char d[11], x[11];
	int i, n, k, count = 0, got;

	strcpy(d, SPAN_FIRST);
	for (i = 0; i < SPAN_DAYS; i++) {
		shift(SPAN_FIRST, i + 1, d);
		count += workdays_is_workday(d);
		ck_assert_int_eq(workdays_between(SPAN_FIRST, d, &got), 0);
		ck_assert_msg(got == count, "(%s, %s]: %d, counted %d", SPAN_FIRST, d, got, count);
		ck_assert_int_eq(workdays_between(d, SPAN_FIRST, &got), 0);
		ck_assert_int_eq(got, -count);
		for (k = -4; k <= 4; k++) {
			ck_assert_int_eq(workdays_add(d, k, x), 0);
			ck_assert_int_eq(workdays_is_workday(x), 1);
			ck_assert_int_eq(workdays_between(d, x, &n), 0);
			if (k > 0)
				ck_assert_msg(n == k, "%s %+d = %s", d, k, x);
			else if (k < 0)
				ck_assert_msg(n == k + 1 - workdays_is_workday(d), "%s %+d = %s", d, k, x);
			else
				ck_assert_int_eq(n, !workdays_is_workday(d));
		}
	}
}
END_TEST

START_TEST(test_builtin_equals_file)
{
	char *path = calendar_path(), d[11];
	char *text = tu_read(path, NULL);
	int status[SPAN_DAYS], i, first, last;
	struct err e = {0};

	ck_assert_msg(text != NULL, "unable to read %s", path);
	ck_assert_msg(strcmp(text, calendar_data_cn) == 0,
		      "audit/calendar_data.c differs from rules/calendar-cn.txt: regenerate it");
	for (i = 0; i < SPAN_DAYS; i++) {
		shift(SPAN_FIRST, i, d);
		status[i] = workdays_is_workday(d);
	}
	workdays_range(&first, &last);
	ck_assert_int_eq(workdays_load(path, &e), 0);
	for (i = 0; i < SPAN_DAYS; i++) {
		shift(SPAN_FIRST, i, d);
		ck_assert_msg(workdays_is_workday(d) == status[i], "%s differs", d);
	}
	workdays_range(&i, NULL);
	ck_assert_int_eq(i, first);
	workdays_range(NULL, &i);
	ck_assert_int_eq(i, last);
	free(text);
	free(path);
}
END_TEST

START_TEST(test_load_replaces)
{
	char *dir = tu_tmpdir("workdays");
	char *path = tu_write_in(dir, "cal.txt",
				 "# a made-up year\n"
				 "year 2031\n"
				 "2031-03-03..2031-03-04 holiday 测试节  # Monday, Tuesday\n"
				 "2031-03-08 workday 测试节调休\n");
	struct err e = {0};
	int first, last;

	ck_assert_int_eq(workdays_is_workday("2031-03-03"), 1);
	ck_assert_int_eq(workdays_load(path, &e), 0);
	ck_assert_int_eq(workdays_is_workday("2031-03-03"), 0);
	ck_assert_int_eq(workdays_is_workday("2031-03-04"), 0);
	ck_assert_int_eq(workdays_is_workday("2031-03-05"), 1);
	ck_assert_int_eq(workdays_is_workday("2031-03-08"), 1);
	/* The built-in calendar is gone: National Day 2024 is a Tuesday. */
	ck_assert_int_eq(workdays_is_workday("2024-10-01"), 1);
	workdays_range(&first, &last);
	ck_assert_int_eq(first, 2031);
	ck_assert_int_eq(last, 2031);
	tu_rmdir(dir);
	free(dir);
	free(path);
	/* The project's calendar again, for runs with CK_FORK=no. */
	path = calendar_path();
	ck_assert_int_eq(workdays_load(path, &e), 0);
	free(path);
}
END_TEST

/* Each bad calendar, the message it must produce, and that the calendar in
 * force is left alone. */
START_TEST(test_load_errors)
{
	static const struct { const char *text; const char *msg; } cases[] = {
		{"year 2024\n2024-10-01 holiday\n", ":2:19: expected a name after 'holiday'"},
		{"year 2024\n2024-10-01 vacation 国庆\n",
		 ":2:12: expected 'holiday' or 'workday' followed by a name"},
		{"year 2024\n\n  2024-1-01 holiday 元旦\n",
		 ":3:3: expected a date YYYY-MM-DD, 'year' or a comment"},
		{"year 2024\n2024-02-30 holiday x\n",
		 ":2:1: expected a date YYYY-MM-DD, 'year' or a comment"},
		{"year 2024\n2024-10-07..2024-10-01 holiday 国庆\n", ":2:13: range ends before it starts"},
		{"year 2024\n2024-10-01..2024-11-01 holiday 国庆\n", ":2:13: range longer than 31 days"},
		{"year 2024\n2024-10-01..2024-10 holiday 国庆\n",
		 ":2:13: expected a date YYYY-MM-DD after '..'"},
		{"year 2024\n2024-10-01holiday 国庆\n",
		 ":2:11: expected 'holiday' or 'workday' after the date"},
		{"year 2024\n2025-01-01 holiday 元旦\n", ":2:1: date outside the years declared so far"},
		{"2024-01-01 holiday 元旦\nyear 2024\n", ":1:1: date outside the years declared so far"},
		{"year 2024\nyear 2026\n", ":2:6: year 2026 does not follow year 2024"},
		{"year twenty\n", ":1:6: expected a year after 'year'"},
		{"# nothing\n\n", ": calendar declares no 'year'"},
		{"year 2024\n2024-10-01..2024-10-07 holiday 国庆\n# x\n2024-10-05 workday 调休\n",
		 ":4:1: date '2024-10-05' already listed on line 2"},
	};
	char *dir = tu_tmpdir("workdays");
	char buf[2048], *want;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *path = tu_write_in(dir, "bad.txt", cases[i].text);

		memset(&e, 0, sizeof e);
		ck_assert_int_eq(workdays_load(path, &e), -1);
		ck_assert_int_eq(e.kind, CA_EINPUT);
		err_format(&e, buf, sizeof buf);
		want = tu_fmt("%s%s", path, cases[i].msg);
		ck_assert_str_eq(buf, want);
		free(want);
		free(path);
	}
	/* Nothing replaced the built-in calendar. */
	ck_assert_int_eq(workdays_is_workday("2024-10-01"), 0);

	want = tu_fmt("%s/missing.txt", dir);
	memset(&e, 0, sizeof e);
	ck_assert_int_eq(workdays_load(want, &e), -1);
	ck_assert_int_eq(e.kind, CA_EIO);
	err_format(&e, buf, sizeof buf);
	free(want);
	want = tu_fmt("unable to open '%s/missing.txt': No such file or directory", dir);
	ck_assert_str_eq(buf, want);
	free(want);

	/* A directory opens but does not read; a NUL byte is not text. */
	memset(&e, 0, sizeof e);
	ck_assert_int_eq(workdays_load(dir, &e), -1);
	err_format(&e, buf, sizeof buf);
	want = tu_fmt("unable to read '%s'", dir);
	ck_assert_str_eq(buf, want);
	free(want);
	want = tu_fmt("%s/nul.txt", dir);
	{
		FILE *f = fopen(want, "wb");

		ck_assert_ptr_nonnull(f);
		fwrite("year 2024\n\0\n", 1, 12, f);
		fclose(f);
	}
	memset(&e, 0, sizeof e);
	ck_assert_int_eq(workdays_load(want, &e), -1);
	ck_assert_int_eq(e.kind, CA_EINPUT);
	err_format(&e, buf, sizeof buf);
	free(want);
	want = tu_fmt("'%s/nul.txt' is not a text file", dir);
	ck_assert_str_eq(buf, want);
	free(want);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* Every day of the reference set must have its status here; returns how
 * many days were compared, and records them in listed[]. */
static int compare_year(const char *dir, int year, char (*listed)[11], int *nlisted)
{
	char *path = tu_fmt("%s/%d.json", dir, year);
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *days, *day;
	size_t i;
	int n = 0;

	ck_assert_msg(root != NULL, "%s:%d: %s", path, jerr.line, jerr.text);
	days = json_object_get(root, "days");
	ck_assert_msg(json_is_array(days), "%s: no 'days' array", path);
	json_array_foreach(days, i, day) {
		const char *date = json_string_value(json_object_get(day, "date"));
		json_t *off = json_object_get(day, "isOffDay");

		ck_assert_msg(date && json_is_boolean(off), "%s: day %zu malformed", path, i);
		ck_assert_msg(workdays_is_workday(date) == !json_is_true(off),
			      "%s: %s is %s there but not in rules/calendar-cn.txt", path, date,
			      json_is_true(off) ? "a day off" : "a working day");
		snprintf(listed[(*nlisted)++], 11, "%s", date);
		n++;
	}
	json_decref(root);
	free(path);
	return n;
}

static int listed_has(char (*listed)[11], int n, const char *date)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(listed[i], date) == 0)
			return 1;
	return 0;
}

START_TEST(test_reference_data)
{
	char *dir = tu_fmt("%s/../shared/reference/holiday-cn", tu_root());
	char *path = calendar_path();
	static char listed[2000][11];
	struct err e = {0};
	char d[11];
	struct stat st;
	int y, nlisted = 0, compared = 0, i, weekday;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "note: %s not found; calendar not cross-checked\n", dir);
		free(dir);
		free(path);
		return;
	}
	/* The file itself, not the built-in copy (compared separately). */
	ck_assert_msg(workdays_load(path, &e) == 0, "%s", e.msg);
	for (y = 2017; y <= 2026; y++)
		compared += compare_year(dir, y, listed, &nlisted);
	ck_assert_int_gt(compared, 300);
	/* Vice versa: every day whose status differs from the plain weekend
	 * rule must be one the reference lists. */
	for (i = 0; i < SPAN_DAYS; i++) {
		struct tm tm = {0};

		shift(SPAN_FIRST, i, d);
		sscanf(d, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		tm.tm_hour = 12;
		timegm(&tm);
		weekday = tm.tm_wday >= 1 && tm.tm_wday <= 5;
		if (workdays_is_workday(d) != weekday)
			ck_assert_msg(listed_has(listed, nlisted, d),
				      "%s is an exception in rules/calendar-cn.txt but not in %s", d,
				      dir);
	}
	free(dir);
	free(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("workdays");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_known_facts);
	tcase_add_test(tc, test_malformed_dates);
	tcase_add_test(tc, test_add_examples);
	tcase_add_test(tc, test_between_examples);
	tcase_add_test(tc, test_arithmetic_matches_counting);
	tcase_add_test(tc, test_builtin_equals_file);
	tcase_add_test(tc, test_load_replaces);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_reference_data);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
