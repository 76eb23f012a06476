/*
 * test_accuracy.c — the four checklists against the generator's truth,
 * through the real binaries: on a seeded dataset with violations of every
 * kind (build/gen --checklists all), each automated item's open findings
 * are exactly truth.jsonl's keys for that item; on a clean dataset no
 * automated item has a finding.
 *
 * monthly-stats and egov 32 judge the store's report history, not the
 * records, so the generator has no truth for them. This suite writes the
 * history itself into report_log, as cron would have: a monthly report for
 * every month, on time, except for a few months taken from the logs' file
 * names (months with activity), which get none, and one month whose report
 * was made at 00:30 local time on the 11th (16:30 UTC on the 10th), which
 * is late. The expected monthly-stats keys are those months. A month
 * reported at 23:30 local time on the 10th is on time. egov 32 is out of
 * its effective range at the main as-of date (2025), so it must not fire
 * there; it is checked at an as-of date of 2024-02-05, first without and
 * then with a 2023 annual report made in time.
 */
#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define AS_OF "2025-04-03"
#define LAST_MONTH_JUDGED "2025-02" /* its deadline, 2025-03-10, is before AS_OF */

static char *tmp, *dirty, *clean;

static void gen(const char *dir, const char *args)
{
	struct tu_out o = tu_run("'%s' -o '%s' --checklists all %s", tu_gen(), dir, args);
	ck_assert_msg(o.status == 0, "gen %s: %s", args, o.err);
	tu_out_free(&o);
	o = tu_run("'%s' -q -c '%s/ca-audit.yaml' --as-of " AS_OF " ingest", tu_bin(), dir);
	ck_assert_msg(o.status == 0, "ingest: %s", o.err);
	tu_out_free(&o);
}

static void exec_sql(const char *dir, const char *sql)
{
	char *path = tu_fmt("%s/ca-audit.db", dir), *msg = NULL;
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
	sqlite3_close(db);
	free(path);
}

/* The month after "YYYY-MM". */
static void next_month(const char *m, char out[16])
{
	int y = atoi(m), mo = atoi(m + 5) + 1;
	if (mo == 13) {
		mo = 1;
		y++;
	}
	snprintf(out, 16, "%04d-%02d", (y % 10000 + 10000) % 10000, mo % 100);
}

/* report_log rows for every month from `from` to LAST_MONTH_JUDGED: made
 * 23:30 local on the 10th of the next month, except `missing` (none) and
 * `late` (00:30 local on the 11th). Months are " YYYY-MM " in the lists. */
static void write_history(const char *dir, const char *from, const char *missing,
			  const char *late)
{
	char m[16], n[16], *sql = strdup("BEGIN;"), *done;

	snprintf(m, sizeof m, "%s", from);
	for (; strcmp(m, LAST_MONTH_JUDGED) <= 0; snprintf(m, sizeof m, "%s", n)) {
		char *tag = tu_fmt(" %s ", m), *t;
		next_month(m, n);
		if (!strstr(missing, tag)) {
			t = tu_fmt("%sINSERT INTO report_log(kind, period, made_at, as_of, format,"
				   " path) VALUES('monthly', '%s', '%s-10 %s', '%s-10', 'xlsx',"
				   " 'reports/monthly-%s.xlsx');", sql, m, n,
				   strstr(late, tag) ? "16:30:00" : "15:30:00", n, m);
			free(sql);
			sql = t;
		}
		free(tag);
	}
	done = tu_fmt("%sCOMMIT;", sql);
	exec_sql(dir, done);
	free(done);
	free(sql);
}

/* The months that have a log file, i.e. RA activity, in order. */
static size_t log_months(const char *dir, char months[][8], size_t max)
{
	char *pat = tu_fmt("%s/logs/ra-*.jsonl", dir);
	glob_t g;
	size_t n = 0;

	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc && n < max; i++) {
		const char *b = strrchr(g.gl_pathv[i], '/') + 4;
		snprintf(months[n++], 8, "%.7s", b);
	}
	globfree(&g);
	free(pat);
	return n;
}

static void setup(void)
{
	tmp = tu_tmpdir("accuracy");
	dirty = tu_fmt("%s/dirty", tmp);
	clean = tu_fmt("%s/clean", tmp);
	/* from before miit-2022's scope to after egov-2009's end */
	gen(dirty, "--certs 450 --seed 17 --violations 0.35 --start 2016-10-01 --end 2025-03-31");
	gen(clean, "--certs 150 --seed 12 --violations 0 --start 2023-09-01 --end 2025-03-31");
}

static void teardown(void)
{
	tu_rmdir(tmp);
	free(tmp);
	free(dirty);
	free(clean);
}

/* checklist/item → set of keys, as a JSON object of objects. */
static void add_key(json_t *sets, const char *checklist, const char *item, const char *key)
{
	char *id = tu_fmt("%s %s", checklist, item);
	json_t *s = json_object_get(sets, id);
	if (!s)
		json_object_set_new(sets, id, s = json_object());
	json_object_set_new(s, key, json_true());
	free(id);
}

static json_t *truth_sets(const char *dir)
{
	char *path = tu_fmt("%s/truth.jsonl", dir), *text = tu_read(path, NULL), *save = NULL;
	json_t *sets = json_object();

	ck_assert_ptr_nonnull(text);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(l, 0, NULL);
		ck_assert_msg(o != NULL, "bad truth line '%s'", l);
		add_key(sets, json_string_value(json_object_get(o, "checklist")),
			json_string_value(json_object_get(o, "item")),
			json_string_value(json_object_get(o, "key")));
		json_decref(o);
	}
	free(text);
	free(path);
	return sets;
}

/* Runs check at as_of; the open (not fixed) findings' keys per item. */
static json_t *finding_sets(const char *dir, const char *as_of)
{
	struct tu_out o = tu_run("'%s' -q -c '%s/ca-audit.yaml' --as-of %s check --format json",
				 tu_bin(), dir, as_of);
	json_t *sets = json_object();
	char *save = NULL;

	ck_assert_msg(o.status == 0 || o.status == 2, "check: %d %s", o.status, o.err);
	for (char *l = strtok_r(o.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_t *f = json_loads(l, 0, NULL);
		ck_assert_msg(f != NULL, "bad finding line '%s'", l);
		if (strcmp(json_string_value(json_object_get(f, "status")), "fixed"))
			add_key(sets, json_string_value(json_object_get(f, "checklist")),
				json_string_value(json_object_get(f, "item")),
				json_string_value(json_object_get(f, "key")));
		json_decref(f);
	}
	tu_out_free(&o);
	return sets;
}

/* "checklist item" of every automated item of the latest run, and fails on
 * any item whose SQL failed. */
static json_t *automated_items(const char *dir)
{
	char *path = tu_fmt("%s/ca-audit.db", dir);
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *v = json_array();

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT checklist || ' ' || item, result, note"
					    " FROM item_result WHERE run = (SELECT max(id) FROM"
					    " run) AND kind = 'check'", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		ck_assert_msg(strcmp((const char *)sqlite3_column_text(st, 1), "error"),
			      "%s failed: %s", id, sqlite3_column_text(st, 2));
		json_array_append_new(v, json_string(id));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(path);
	return v;
}

/* Appends to *report the keys of a that are not in b. */
static void diff(json_t *a, json_t *b, const char *what, const char *id, char **report)
{
	const char *key;
	json_t *v;

	json_object_foreach(a, key, v) {
		if (json_object_get(b, key))
			continue;
		char *t = tu_fmt("%s\n%s: %s %s", *report, id, what, key);
		free(*report);
		*report = t;
	}
}

/* Compares every automated item; returns the mismatches, one per line. */
static char *compare(json_t *items, json_t *want, json_t *got)
{
	char *report = strdup("");
	json_t *empty = json_object(), *v;
	size_t i;

	json_array_foreach(items, i, v) {
		const char *id = json_string_value(v);
		json_t *w = json_object_get(want, id), *g = json_object_get(got, id);
		diff(w ? w : empty, g ? g : empty, "missing", id, &report);
		diff(g ? g : empty, w ? w : empty, "extra", id, &report);
	}
	json_decref(empty);
	return report;
}

START_TEST(violations_match_truth)
{
	char months[200][8], missing[64], late[16];
	size_t n = log_months(dirty, months, 200), n_items;
	json_t *want = truth_sets(dirty), *got, *items;
	char *report;

	ck_assert_uint_gt(n, 60);
	/* three months without statistics and one late, all with activity and
	 * judged; 2025-03 has activity but its deadline is after AS_OF */
	snprintf(missing, sizeof missing, " %s %s %s ", months[3], months[30], months[n - 2]);
	snprintf(late, sizeof late, " %s ", months[50]);
	ck_assert_str_eq(months[n - 2], LAST_MONTH_JUDGED);
	write_history(dirty, "2016-01", missing, late);
	const size_t expect[] = {3, 30, n - 2, 50};
	for (size_t i = 0; i < 4; i++) {
		char *key = tu_fmt("month:%s", months[expect[i]]);
		add_key(want, "shenzhen-2011", "monthly-stats", key);
		free(key);
	}

	got = finding_sets(dirty, AS_OF);
	items = automated_items(dirty);
	n_items = json_array_size(items);
	ck_assert_uint_eq(n_items, 14 + 5 + 3 + 1);
	/* the generator injected a violation of every item but egov 32 */
	for (size_t i = 0; i < n_items; i++) {
		const char *id = json_string_value(json_array_get(items, i));
		if (strcmp(id, "egov-2009 32"))
			ck_assert_msg(json_object_size(json_object_get(want, id)) > 0,
				      "truth has no violation of %s", id);
	}
	report = compare(items, want, got);
	ck_assert_msg(!*report, "findings differ from truth:%s", report);
	free(report);
	json_decref(got);
	json_decref(want);
	json_decref(items);
}
END_TEST

START_TEST(annual_report_deadline)
{
	json_t *got = finding_sets(dirty, "2024-02-05"), *s;

	s = json_object_get(got, "egov-2009 32");
	ck_assert_msg(s && json_object_get(s, "item"), "no egov 32 finding without a 2023 report");
	json_decref(got);
	/* made 2024-01-31 23:00 local: on time */
	exec_sql(dirty, "INSERT INTO report_log(kind, period, made_at, as_of, format, path)"
			" VALUES('annual', '2023', '2024-01-31 15:00:00', '2024-01-31', 'pdf',"
			" 'reports/annual-2023.pdf')");
	got = finding_sets(dirty, "2024-02-05");
	ck_assert_ptr_null(json_object_get(got, "egov-2009 32"));
	json_decref(got);
	/* on 31 January itself the deadline has not passed */
	exec_sql(dirty, "DELETE FROM report_log WHERE kind = 'annual'");
	got = finding_sets(dirty, "2024-01-31");
	ck_assert_ptr_null(json_object_get(got, "egov-2009 32"));
	json_decref(got);
}
END_TEST

START_TEST(clean_data_no_findings)
{
	char *truth = tu_fmt("%s/truth.jsonl", clean), *text = tu_read(truth, NULL);
	json_t *want = json_object(), *got, *items;
	char *report;

	ck_assert_str_eq(text, "");
	write_history(clean, "2023-01", "", "");
	got = finding_sets(clean, AS_OF);
	items = automated_items(clean);
	ck_assert_uint_eq(json_array_size(items), 14 + 5 + 3 + 1);
	report = compare(items, want, got);
	ck_assert_msg(!*report, "findings on clean data:%s", report);
	free(report);
	free(text);
	free(truth);
	json_decref(want);
	json_decref(got);
	json_decref(items);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("accuracy");
	TCase *tc = tcase_create("accuracy");
	int failed;

	tcase_set_timeout(tc, 240);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, violations_match_truth);
	tcase_add_test(tc, annual_report_deadline);
	tcase_add_test(tc, clean_data_no_findings);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
