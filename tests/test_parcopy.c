/*
 * test_parcopy.c — several SELECTs at once, their rows inserted by one
 * writer (audit/parcopy.h), on a real WAL store file: every storage class
 * arrives as it left, in order (rowids as CREATE TABLE ... AS SELECT gives
 * them) across many batches; the workers' connections get the caller's
 * set-up; the writer's transaction stays its own; failures name the table
 * and leave the caller to drop what was filled; one failure stops the rest;
 * each job's done runs once its rows are in, not after the others', and
 * the others go on stepping meanwhile.
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

/* Makes the tables (SQL), then runs jobs[0..n) from src in a transaction
 * that it commits; the run must succeed. */
static void copy_ok(const struct parcopy_src *src, const struct parcopy_job *jobs, size_t n,
		    const char *tables)
{
	struct err e = {0};

	exec_ok(tables);
	exec_ok("BEGIN IMMEDIATE");
	ck_assert_msg(parcopy_run(db, src, jobs, n, &e) == 0, "%s", e.msg);
	exec_ok("COMMIT");
}

START_TEST(rows_arrive_as_they_left)
{
	const struct parcopy_src src = {.path = path};
	const struct parcopy_job jobs[] = {
		{"SELECT * FROM src ORDER BY rowid", "main.copy_all", NULL, NULL},
		{"SELECT * FROM src WHERE rowid % 2 = 0 ORDER BY i DESC", "main.copy_even", NULL, NULL},
		{"SELECT * FROM src WHERE 0", "main.copy_none", NULL, NULL},
	};

	copy_ok(&src, jobs, 3,
		"CREATE TABLE copy_all AS SELECT * FROM src LIMIT 0;"
		"CREATE TABLE copy_even AS SELECT * FROM src LIMIT 0;"
		"CREATE TABLE copy_none AS SELECT * FROM src LIMIT 0;"
		"CREATE TABLE want_even AS SELECT * FROM src WHERE rowid % 2 = 0 ORDER BY i DESC");
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
		{"SELECT * FROM src", "main.copy_all", NULL, NULL},
		{"SELECT * FROM src WHERE rowid % 2 = 0", "main.copy_even", NULL, NULL},
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
	const struct parcopy_job jobs[] = {{"SELECT k, v FROM temp.halves", "main.doubled", NULL, NULL}};

	copy_ok(&src, jobs, 1, "CREATE TABLE doubled(k, v)");
	ck_assert_int_eq(scalar("SELECT count(*) FROM doubled WHERE v = 2 * k"), 30001);
}
END_TEST

/* The workers read the last commit; the rows land in the caller's
 * transaction, which a rollback takes back. */
START_TEST(writes_stay_in_the_callers_transaction)
{
	const struct parcopy_src src = {.path = path};
	const struct parcopy_job jobs[] = {{"SELECT i FROM src", "main.ids", NULL, NULL}};
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
		{"SELECT * FROM src", "main.fine", NULL, NULL},
		{"SELECT twice(i) FROM src", "main.needs_setup", NULL, NULL},
	};
	const struct parcopy_job bad_table[] = {{"SELECT i, t FROM src", "main.one_column", NULL, NULL}};
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
		 " WHERE x < 3000000) SELECT x FROM k", "main.many", NULL, NULL},
		{"SELECT json('not json')", "main.broken", NULL, NULL},
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

/* done: what the writer saw of each table when its SELECT's rows were in,
 * and a flag the other SELECT waits on. */
struct seen {
	const char *table;
	long long rows;  /* -1 until done is called */
	int calls;
};

static int small_done;

static int count_rows(sqlite3 *h, void *arg, struct err *e)
{
	struct seen *s = arg;
	char *q = tu_fmt("SELECT count(*) FROM %s", s->table);

	(void)h;
	(void)e;
	s->rows = scalar(q);
	s->calls++;
	free(q);
	if (!strcmp(s->table, "copy_even"))
		__atomic_store_n(&small_done, 1, __ATOMIC_RELEASE);
	return 0;
}

/* 1 once the small SELECT's done has run; 0 after 20 s without it, and at
 * once from then on. */
static void fn_waited(sqlite3_context *c, int argc, sqlite3_value **v)
{
	static int gave_up;

	(void)argc;
	(void)v;
	for (int i = 0; i < 2000 && !gave_up && !__atomic_load_n(&small_done, __ATOMIC_ACQUIRE);
	     i++)
		sqlite3_sleep(10);
	gave_up = !__atomic_load_n(&small_done, __ATOMIC_ACQUIRE);
	sqlite3_result_int(c, !gave_up);
}

static int add_waited(sqlite3 *h, void *arg, struct err *e)
{
	(void)arg;
	if (sqlite3_create_function(h, "waited", 0, SQLITE_UTF8, NULL, fn_waited, NULL, NULL))
		return err_set(e, CA_EDB, "", 0, 0, "set-up: %s", sqlite3_errmsg(h));
	return 0;
}

/* A job's done runs once, when every row of its SELECT is in its table,
 * and without waiting for the others: here the large SELECT does not give
 * a row until the small one's done has run. */
START_TEST(done_runs_once_its_rows_are_in)
{
	const struct parcopy_src src = {.path = path, .setup = add_waited};
	struct seen small = {"copy_even", -1, 0}, large = {"copy_waited", -1, 0};
	const struct parcopy_job jobs[] = {
		{"SELECT waited() AS w, i FROM src", "main.copy_waited", count_rows, &large},
		{"SELECT * FROM src WHERE rowid % 2 = 0", "main.copy_even", count_rows, &small},
	};

	small_done = 0;
	copy_ok(&src, jobs, 2, "CREATE TABLE copy_even AS SELECT * FROM src LIMIT 0;"
		"CREATE TABLE copy_waited(w, i)");
	ck_assert_int_eq(small.calls, 1);
	ck_assert_int_eq(small.rows, 15000);
	ck_assert_int_eq(large.calls, 1);
	ck_assert_int_eq(large.rows, 30001);
	ck_assert_int_eq(scalar("SELECT count(*) FROM copy_waited WHERE w = 1"), 30001);
}
END_TEST

/* The rows the large SELECT has stepped so far. */
static int stepped;

static void fn_step(sqlite3_context *c, int argc, sqlite3_value **v)
{
	(void)argc;
	(void)v;
	sqlite3_result_int(c, __atomic_add_fetch(&stepped, 1, __ATOMIC_RELAXED));
}

static int add_step(sqlite3 *h, void *arg, struct err *e)
{
	(void)arg;
	if (sqlite3_create_function(h, "step", 0, SQLITE_UTF8, NULL, fn_step, NULL, NULL))
		return err_set(e, CA_EDB, "", 0, 0, "set-up: %s", sqlite3_errmsg(h));
	return 0;
}

/* done that waits (up to 10 s) for the large SELECT to step 25,000 rows,
 * noting in *arg how many it saw. */
static int wait_for_steps(sqlite3 *h, void *arg, struct err *e)
{
	int *seen = arg;

	(void)h;
	(void)e;
	for (int i = 0; i < 1000 && __atomic_load_n(&stepped, __ATOMIC_RELAXED) < 25000; i++)
		sqlite3_sleep(10);
	*seen = __atomic_load_n(&stepped, __ATOMIC_RELAXED);
	return 0;
}

/* While the writer is in a done (indexing a table, say), the other
 * SELECTs go on stepping: more batches may wait for it than the four of
 * the rest of the run, which stop a worker at some 14,000 rows here. */
START_TEST(workers_go_on_while_done_runs)
{
	const struct parcopy_src src = {.path = path, .setup = add_step};
	int seen = 0;
	const struct parcopy_job jobs[] = {
		{"SELECT 1", "main.one", wait_for_steps, &seen},
		{"SELECT step(), * FROM src", "main.copy_stepped", NULL, NULL},
	};

	stepped = 0;
	copy_ok(&src, jobs, 2, "CREATE TABLE one(x); CREATE TABLE copy_stepped(s, i, r, t, b, n)");
	ck_assert_int_ge(seen, 25000);
	ck_assert_int_eq(scalar("SELECT count(*) FROM copy_stepped"), 30001);
}
END_TEST

static int refuse(sqlite3 *h, void *arg, struct err *e)
{
	(void)h;
	return err_set(e, CA_EDB, "", 0, 0, "%s refused", (const char *)arg);
}

/* A done that fails fails the run with its message and stops the rest. */
START_TEST(a_failing_done_stops_the_run)
{
	const struct parcopy_src plain = {.path = path};
	const struct parcopy_job jobs[] = {
		{"WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k"
		 " WHERE x < 3000000) SELECT x FROM k", "main.many", NULL, NULL},
		{"SELECT 1", "main.one", refuse, "the index of main.one"},
	};
	struct err e = {0};

	exec_ok("CREATE TABLE many(x); CREATE TABLE one(x); BEGIN IMMEDIATE");
	ck_assert_int_eq(parcopy_run(db, &plain, jobs, 2, &e), -1);
	ck_assert_str_eq(e.msg, "the index of main.one refused");
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
	tcase_add_test(tc, done_runs_once_its_rows_are_in);
	tcase_add_test(tc, a_failing_done_stops_the_run);
	tcase_add_test(tc, workers_go_on_while_done_runs);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
