/*
 * test_run.c — `ca-audit run`, the cron job: the reports due on the as-of
 * date, and the lock that keeps two runs apart.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "testutil.h"

static char *tmp, *ds;

static void setup(void)
{
	struct tu_out o;

	tmp = tu_tmpdir("run");
	ds = tu_fmt("%s/ds", tmp);
	o = tu_run("'%s' -o '%s' --certs 120 --seed 11 --violations 0.1", tu_gen(), ds);
	ck_assert_msg(o.status == 0, "generator failed: %s", o.err);
	tu_out_free(&o);
}

static void teardown(void)
{
	tu_rmdir(tmp);
	free(tmp);
	free(ds);
}

static struct tu_out run(const char *as_of, const char *args)
{
	return tu_run("'%s' -c '%s/ca-audit.yaml' --as-of %s --no-progress run %s", tu_bin(), ds,
		      as_of, args);
}

START_TEST(early_january_writes_every_report)
{
	struct tu_out o = run("2026-01-05", "");

	ck_assert_msg(o.status == 0 || o.status == 2, "run failed (%d): %s", o.status, o.err);
	ck_assert_msg(strstr(o.out, "self-inspection-"), "%s", o.out);
	ck_assert_msg(strstr(o.out, "rectification-"), "%s", o.out);
	ck_assert_msg(strstr(o.out, "monthly-2025-12"), "%s", o.out);
	ck_assert_msg(strstr(o.out, "annual-2025"), "%s", o.out);
	tu_out_free(&o);
}
END_TEST

START_TEST(mid_month_writes_only_the_standing_reports)
{
	struct tu_out o = run("2026-03-15", "");

	ck_assert_msg(o.status == 0 || o.status == 2, "run failed (%d): %s", o.status, o.err);
	ck_assert_msg(strstr(o.out, "self-inspection-"), "%s", o.out);
	ck_assert_msg(strstr(o.out, "rectification-"), "%s", o.out);
	ck_assert_msg(!strstr(o.out, "monthly-"), "%s", o.out);
	ck_assert_msg(!strstr(o.out, "annual-"), "%s", o.out);
	tu_out_free(&o);
}
END_TEST

START_TEST(explicit_reports_and_check_table)
{
	struct tu_out o = run("2026-03-15", "--reports self-inspection");

	ck_assert_msg(o.status == 0 || o.status == 2, "run failed (%d): %s", o.status, o.err);
	ck_assert_int_eq(tu_count_lines(o.out, ".xlsx"), 1);
	ck_assert_int_eq(tu_count_lines(o.out, "rectification-"), 0);
	/* the check's table is the run's result on stdout */
	ck_assert_msg(strstr(o.out, "miit-2022"), "%s", o.out);
	tu_out_free(&o);
}
END_TEST

START_TEST(second_run_is_refused_while_the_first_holds_the_lock)
{
	char *lock = tu_fmt("%s/ca-audit.db.lock", ds);
	int fd = open(lock, O_RDWR | O_CREAT, 0644);
	struct tu_out o;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(write(fd, "4242\n", 5), 5);
	o = run("2026-03-15", "--reports self-inspection");
	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(strstr(o.err, "another ca-audit run is in progress (pid 4242)"), "%s", o.err);
	ck_assert_msg(strstr(o.err, "ca-audit.db.lock"), "%s", o.err);
	tu_out_free(&o);
	/* released: the next run goes ahead */
	close(fd);
	o = run("2026-03-15", "--reports self-inspection");
	ck_assert_msg(o.status == 0 || o.status == 2, "run failed (%d): %s", o.status, o.err);
	tu_out_free(&o);
	free(lock);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, early_january_writes_every_report);
	tcase_add_test(tc, mid_month_writes_only_the_standing_reports);
	tcase_add_test(tc, explicit_reports_and_check_table);
	tcase_add_test(tc, second_run_is_refused_while_the_first_holds_the_lock);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
