/*
 * test_parcopy.c — several SELECTs at once, their rows inserted by one
 * writer (audit/parcopy.h), on a real WAL store file: every storage class
 * arrives as it left, in order (rowids as CREATE TABLE ... AS SELECT gives
 * them) across many batches; the workers' connections get the caller's
 * set-up; the writer's transaction stays its own; failures name the table
 * and leave the caller to drop what was filled; one failure stops the rest.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parcopy.h"
#include "testutil.h"

static char *dir, *path;
static sqlite3 *db;

static void exec_ok(const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
}

static long long scalar(const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* 30,000 rows of every storage class: some 3 MB, a dozen batches. */
static void setup(void)
{
	dir = tu_tmpdir("parcopy");
	path = tu_fmt("%s/store.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	exec_ok("PRAGMA journal_mode=WAL;"
		"CREATE TABLE src(i INTEGER, r REAL, t TEXT, b BLOB, n);"
		"WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < 30000)"
		" INSERT INTO src SELECT x * 1000003, x / 7.0,"
		"  CASE x % 5 WHEN 0 THEN NULL WHEN 1 THEN '证书' || x ELSE printf('%0100d', x) END,"
		"  CASE x % 3 WHEN 0 THEN NULL ELSE randomblob(x % 17) END,"
		"  CASE x % 4 WHEN 0 THEN x WHEN 1 THEN 'x' || x WHEN 2 THEN x * 0.5 END FROM k;"
		"INSERT INTO src VALUES(NULL, NULL, 'a' || char(0) || 'b', x'00ff00', x'');");
}

static void teardown(void)
{
	sqlite3_close(db);
	tu_rmdir(dir);
	free(dir);
	free(path);
}

/* Rows of a and b that differ, rowid and storage class included, both ways. */
static long long differing(const char *a, const char *b)
{
	char *q = tu_fmt("SELECT (SELECT count(*) FROM (SELECT rowid, *, typeof(i), typeof(r),"
			 " typeof(t), typeof(b), typeof(n) FROM %s EXCEPT SELECT rowid, *, typeof(i),"
			 " typeof(r), typeof(t), typeof(b), typeof(n) FROM %s)) + (SELECT count(*) FROM"
			 " (SELECT rowid, *, typeof(i), typeof(r), typeof(t), typeof(b), typeof(n) FROM"
			 " %s EXCEPT SELECT rowid, *, typeof(i), typeof(r), typeof(t), typeof(b),"
			 " typeof(n) FROM %s))", a, b, b, a);
	long long n = scalar(q);

	free(q);
	return n;
}

START_TEST(rows_arrive_as_they_left)
{
	const struct parcopy_src src = {.path = path};
	const struct parcopy_job jobs[] = {
		{"SELECT * FROM src ORDER BY rowid", "main.copy_all"},
		{"SELECT * FROM src WHERE rowid % 2 = 0 ORDER BY i DESC", "main.copy_even"},
		{"SELECT * FROM src WHERE 0", "main.copy_none"},
	};
	struct err e = {0};

	exec_ok("CREATE TABLE copy_all AS SELECT * FROM src LIMIT 0;"
		"CREATE TABLE copy_even AS SELECT * FROM src LIMIT 0;"
		"CREATE TABLE copy_none AS SELECT * FROM src LIMIT 0;"
		"CREATE TABLE want_even AS SELECT * FROM src WHERE rowid % 2 = 0 ORDER BY i DESC;"
		"BEGIN IMMEDIATE");
	ck_assert_msg(parcopy_run(db, &src, jobs, 3, &e) == 0, "%s", e.msg);
	exec_ok("COMMIT");
	ck_assert_int_eq(scalar("SELECT count(*) FROM copy_all"), 30001);
	ck_assert_int_eq(differing("src", "copy_all"), 0);
	ck_assert_int_eq(scalar("SELECT count(*) FROM copy_even"), 15000);
	ck_assert_int_eq(differing("want_even", "copy_even"), 0);
	ck_assert_int_eq(scalar("SELECT count(*) FROM copy_none"), 0);
	/* the text with a NUL inside kept its length */
	ck_assert_int_eq(scalar("SELECT length(CAST(t AS BLOB)) FROM copy_all WHERE b = x'00ff00'"),
			 3);
}
END_TEST

/* The rows inserted are counted on the caller's progress bar: the last
 * count, of all the SELECTs, is drawn when it ends. */
START_TEST(rows_counted_on_the_bar)
{
	const struct parcopy_src src = {.path = path};
	const struct parcopy_job jobs[] = {
		{"SELECT * FROM src", "main.copy_all"},
		{"SELECT * FROM src WHERE rowid % 2 = 0", "main.copy_even"},
	};
	char *out = tu_fmt("%s/stderr", dir), *text;
	struct err e = {0};

	exec_ok("CREATE TABLE copy_all AS SELECT * FROM src LIMIT 0;"
		"CREATE TABLE copy_even AS SELECT * FROM src LIMIT 0; BEGIN IMMEDIATE");
	fflush(stderr);
	ck_assert_ptr_nonnull(freopen(out, "w", stderr));
	log_set_progress(1);
	progress_start("copying", 0);
	ck_assert_msg(parcopy_run(db, &src, jobs, 2, &e) == 0, "%s", e.msg);
	progress_end();
	fflush(stderr);
	exec_ok("COMMIT");
	text = tu_read(out, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "\r\033[Kcopying 45001\n"), "%s", text);
	/* drawn along the way too: the second the count passed a 1024th row */
	ck_assert_msg(strstr(text, "copying 1024") || strstr(text, "copying 2048"), "%s", text);
	free(text);
	free(out);
}
END_TEST

/* A function registered by the set-up: the workers have it too. */
static void fn_twice(sqlite3_context *c, int argc, sqlite3_value **v)
{
	(void)argc;
	sqlite3_result_int64(c, 2 * sqlite3_value_int64(v[0]));
}

static int add_twice(sqlite3 *h, void *arg, struct err *e)
{
	ck_assert_str_eq(arg, "given");
	if (sqlite3_create_function(h, "twice", 1, SQLITE_UTF8, NULL, fn_twice, NULL, NULL) ||
	    sqlite3_exec(h, "CREATE TEMP VIEW halves AS SELECT rowid AS k, twice(rowid) AS v"
			 " FROM src", NULL, NULL, NULL))
		return err_set(e, CA_EDB, "", 0, 0, "set-up: %s", sqlite3_errmsg(h));
	return 0;
}

START_TEST(workers_are_set_up_as_the_caller)
{
	const struct parcopy_src src = {.path = path, .setup = add_twice, .arg = "given"};
	const struct parcopy_job jobs[] = {{"SELECT k, v FROM temp.halves", "main.doubled"}};
	struct err e = {0};

	exec_ok("CREATE TABLE doubled(k, v); BEGIN IMMEDIATE");
	ck_assert_msg(parcopy_run(db, &src, jobs, 1, &e) == 0, "%s", e.msg);
	exec_ok("COMMIT");
	ck_assert_int_eq(scalar("SELECT count(*) FROM doubled WHERE v = 2 * k"), 30001);
}
END_TEST

/* The workers read the last commit; the rows land in the caller's
 * transaction, which a rollback takes back. */
START_TEST(writes_stay_in_the_callers_transaction)
{
	const struct parcopy_src src = {.path = path};
	const struct parcopy_job jobs[] = {{"SELECT i FROM src", "main.ids"}};
	struct err e = {0};

	exec_ok("CREATE TABLE ids(i); BEGIN IMMEDIATE; DELETE FROM src WHERE rowid > 10");
	ck_assert_msg(parcopy_run(db, &src, jobs, 1, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(scalar("SELECT count(*) FROM ids"), 30001);  /* the committed rows */
	exec_ok("ROLLBACK");
	ck_assert_int_eq(scalar("SELECT count(*) FROM ids"), 0);
	ck_assert_int_eq(scalar("SELECT count(*) FROM src"), 30001);
}
END_TEST

START_TEST(failures_name_the_table)
{
	const struct parcopy_src plain = {.path = path};
	const struct parcopy_job bad_sql[] = {
		{"SELECT * FROM src", "main.fine"},
		{"SELECT twice(i) FROM src", "main.needs_setup"},
	};
	const struct parcopy_job bad_table[] = {{"SELECT i, t FROM src", "main.one_column"}};
	const struct parcopy_src nowhere = {.path = "/nonexistent/store.db"};
	struct err e = {0};

	exec_ok("CREATE TABLE fine AS SELECT * FROM src LIMIT 0; CREATE TABLE needs_setup(x);"
		"CREATE TABLE one_column(x); BEGIN IMMEDIATE");
	ck_assert_int_eq(parcopy_run(db, &plain, bad_sql, 2, &e), -1);
	ck_assert_msg(strstr(e.msg, "main.needs_setup") && strstr(e.msg, "no such function"),
		      "%s", e.msg);
	memset(&e, 0, sizeof e);
	ck_assert_int_eq(parcopy_run(db, &plain, bad_table, 1, &e), -1);
	ck_assert_msg(strstr(e.msg, "main.one_column") && strstr(e.msg, "2 values"), "%s", e.msg);
	memset(&e, 0, sizeof e);
	ck_assert_int_eq(parcopy_run(db, &nowhere, bad_table, 1, &e), -1);
	ck_assert_msg(strstr(e.msg, "unable to open the store"), "%s", e.msg);
	exec_ok("ROLLBACK");
}
END_TEST

/* A SELECT that fails stops the run at once: the writer does not go on
 * filling the other tables (three million rows here) to no purpose. */
START_TEST(a_failure_stops_the_others)
{
	const struct parcopy_src plain = {.path = path};
	const struct parcopy_job jobs[] = {
		{"WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k"
		 " WHERE x < 3000000) SELECT x FROM k", "main.many"},
		{"SELECT json('not json')", "main.broken"},
	};
	struct err e = {0};

	exec_ok("CREATE TABLE many(x); CREATE TABLE broken(x); BEGIN IMMEDIATE");
	ck_assert_int_eq(parcopy_run(db, &plain, jobs, 2, &e), -1);
	ck_assert_msg(strstr(e.msg, "main.broken") && strstr(e.msg, "malformed JSON"), "%s",
		      e.msg);
	ck_assert_int_lt(scalar("SELECT count(*) FROM many"), 3000000);
	exec_ok("ROLLBACK");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parcopy");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rows_arrive_as_they_left);
	tcase_add_test(tc, rows_counted_on_the_bar);
	tcase_add_test(tc, workers_are_set_up_as_the_caller);
	tcase_add_test(tc, writes_stay_in_the_callers_transaction);
	tcase_add_test(tc, failures_name_the_table);
	tcase_add_test(tc, a_failure_stops_the_others);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
