/*
 * test_engine_par.c — a check's items evaluated on several connections at
 * once (audit/engine_par.c), with the real binary: on a generated CA, two
 * runs with three threads store the very rows (rowids, history) that one
 * thread stores; items finding more rows than the writer's queue holds
 * keep their order and count; an item reading the run's own findings sees
 * those of the items before it; a failing item and an exhausted budget on
 * a worker are reported as with one thread.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define ALL "--checklist miit-2022 --checklist egov-2009 --checklist shenzhen-2011" \
	" --checklist gd-hk-2012"

static char *dir;

static void setup(void)
{
	dir = tu_tmpdir("engine-par");
}

static void teardown(void)
{
	tu_rmdir(dir);
	free(dir);
}

/* What a run stores, by rowid: every finding and item result. */
static char *run_rows(const char *db)
{
	static const char *const q[] = {
		"SELECT rowid, * FROM finding ORDER BY rowid",
		"SELECT rowid, run, checklist, item, checked, violations, value, result, note"
		" FROM item_result ORDER BY rowid",
	};

	return tu_dump(db, q, 2);
}

/* a (one thread's rows) equals b, or the test fails showing where not. */
static void same_rows(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] && a[i] == b[i])
		i++;
	if (!a[i] && !b[i])
		return;
	while (i && a[i - 1] != '\n')
		i--;
	ck_abort_msg("one thread stored\n%.300s\nthree stored\n%.300s", a + i, b + i);
}

/* check with $CA_AUDIT_THREADS=threads (and env) on the store db; its
 * stderr (-v) in *err when err is not NULL; the exit status. */
static int check(int threads, const char *env, const char *cfg, const char *db,
		 const char *args, char **err)
{
	struct tu_out o = tu_run("CA_AUDIT_THREADS=%d %s '%s' -v --no-progress -c '%s' --db '%s'"
				 " --as-of 2026-01-15 check %s -o /dev/null", threads, env,
				 tu_bin(), cfg, db, args);
	int status = o.status;

	ck_assert_msg(status == 0 || status == 1 || status == 2, "check failed (%d): %s",
		      status, o.err);
	if (err)
		*err = strdup(o.err);
	tu_out_free(&o);
	return status;
}

START_TEST(three_threads_store_what_one_stores)
{
	char *cfg = tu_fmt("%s/ca-audit.yaml", dir), *one = tu_fmt("%s/one.db", dir),
	     *three = tu_fmt("%s/three.db", dir), *err, *a, *b;
	struct tu_out o = tu_run("'%s' -o '%s' --certs 300 --seed 5 --violations 0.2"
				 " --checklists all", tu_gen(), dir);

	ck_assert_msg(o.status == 0, "generator failed: %s", o.err);
	tu_out_free(&o);
	o = tu_run("'%s' --no-progress -c '%s' --db '%s' ingest && cp '%s' '%s'", tu_bin(), cfg,
		   one, one, three);
	ck_assert_msg(o.status == 0, "ingest failed: %s", o.err);
	tu_out_free(&o);
	/* twice: the second run's history (open, fixed) comes from the first */
	for (int i = 0; i < 2; i++) {
		check(1, "", cfg, one, ALL, &err);
		ck_assert_msg(!strstr(err, "workers"), "%s", err);
		free(err);
		check(3, "", cfg, three, ALL, &err);
		ck_assert_msg(strstr(err, "items evaluated by 3 workers"), "%s", err);
		free(err);
	}
	a = run_rows(one);
	b = run_rows(three);
	ck_assert_int_gt(tu_count_lines(a, "|open|"), 10);
	same_rows(a, b);
	free(a);
	free(b);
	free(cfg);
	free(one);
	free(three);
}
END_TEST

/* Two items find 60,000 and 50,000 rows of ~250 bytes, more than the
 * writer's queue holds (8 MB); between them, a metric counting the run's
 * findings of the first and an item whose SQL fails. */
static const char big_yaml[] =
	"checklist: big\ntitle: big\nitems:\n"
	"  - {id: big1, title: B1, check: {sql: \"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
	" SELECT i+1 FROM n WHERE i < 60000) SELECT printf('a%06d', 60001 - i) AS key,"
	" '2024-01-01 00:00:00' AS record_date, printf('%0200d', i) AS pad FROM n\","
	" message: m}}\n"
	"  - {id: count, title: C, metric: {sql: \"SELECT count(*) FROM finding WHERE run ="
	" (SELECT max(id) FROM run) AND item = 'big1'\", max: 0}}\n"
	"  - {id: bad, title: Bad, check: {sql: \"SELECT nosuch FROM certificate\", message: m}}\n"
	"  - {id: big2, title: B2, check: {sql: \"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
	" SELECT i+1 FROM n WHERE i < 50000) SELECT printf('b%06d', i) AS key, NULL AS"
	" record_date, printf('%0300d', i) AS pad FROM n\", message: m}}\n"
	"  - {id: none, title: N, check: {from: certificate, where: \"1\", key: serial,"
	" evidence: [serial], message: m}}\n";

START_TEST(more_rows_than_the_queue_holds)
{
	char *cfg = tu_write_in(dir, "ca-audit.yaml", "ca:\n  name: Test CA\n"),
	     *list = tu_write_in(dir, "big.yaml", big_yaml), *one = tu_fmt("%s/one.db", dir),
	     *three = tu_fmt("%s/three.db", dir), *args = tu_fmt("--checklist '%s'", list),
	     *err, *a, *b;

	ck_assert_int_eq(check(1, "", cfg, one, args, NULL), 1);
	ck_assert_int_eq(check(3, "", cfg, three, args, &err), 1);
	/* the item reading the run's findings is the writer's: three items for
	 * the workers */
	ck_assert_msg(strstr(err, "items evaluated by 3 workers"), "%s", err);
	ck_assert_msg(strstr(err, "big.yaml:6: checklist 'big' item 'bad': invalid SQL: no such"
			      " column: nosuch"), "%s", err);
	free(err);
	a = run_rows(one);
	b = run_rows(three);
	ck_assert_int_eq(tu_count_lines(b, "|big|big1|a"), 60000);
	ck_assert_int_eq(tu_count_lines(b, "|big|big2|b"), 50000);
	/* big1's findings in key order, the first stored first */
	ck_assert_ptr_nonnull(strstr(b, "1|1|big|big1|a000001|"));
	ck_assert_ptr_nonnull(strstr(b, "\n60000|1|big|big1|a060000|"));
	ck_assert_msg(strstr(b, "|1|big|count|-|1|60000.0|fail|-\n"), "%s",
		      strstr(b, "|1|big|count|"));
	ck_assert_ptr_nonnull(strstr(b, "|1|big|bad|-|-|-|error|invalid SQL: no such column:"
					" nosuch\n"));
	ck_assert_ptr_nonnull(strstr(b, "|1|big|none|0|0|-|na|-\n"));
	same_rows(a, b);
	free(a);
	free(b);
	free(cfg);
	free(list);
	free(one);
	free(three);
	free(args);
}
END_TEST

/* An unbounded recursive CTE on a worker: its budget stops it, and the
 * item after it is evaluated as ever. */
START_TEST(budget_on_a_worker)
{
	char *cfg = tu_write_in(dir, "ca-audit.yaml", "ca:\n  name: Test CA\n"),
	     *list = tu_write_in(dir, "loop.yaml",
				 "checklist: loop\ntitle: loop\nitems:\n"
				 "  - {id: l, title: L, check: {sql: \"WITH RECURSIVE c(x) AS"
				 " (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x AS key,"
				 " '2024-01-01' AS record_date FROM c WHERE x < 0\", message: m}}\n"
				 "  - {id: ok, title: OK, check: {sql: \"SELECT 'k' AS key, NULL"
				 " AS record_date\", message: m}}\n"),
	     *db = tu_fmt("%s/loop.db", dir), *args = tu_fmt("--checklist '%s'", list), *err, *rows;
	static const char *const q[] = {"SELECT item, result, violations, note FROM item_result"
					" ORDER BY rowid"};

	ck_assert_int_eq(check(2, "CA_AUDIT_ITEM_SECONDS=0.5", cfg, db, args, &err), 1);
	ck_assert_msg(strstr(err, "items evaluated by 2 workers"), "%s", err);
	free(err);
	rows = tu_dump(db, q, 1);
	ck_assert_str_eq(rows, "l|error|-|the SQL ran longer than its budget of 0.5 s (set"
			 " CA_AUDIT_ITEM_SECONDS to allow more)\nok|fail|1|-\n");
	free(rows);
	free(cfg);
	free(list);
	free(db);
	free(args);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine_par");
	TCase *tc = tcase_create("engine_par");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, three_threads_store_what_one_stores);
	tcase_add_test(tc, more_rows_than_the_queue_holds);
	tcase_add_test(tc, budget_on_a_worker);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
