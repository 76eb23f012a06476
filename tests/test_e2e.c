/*
 * test_e2e.c — the whole pipeline through the real binaries: the generator
 * makes a CA dataset with injected violations, ca-audit ingests it, checks
 * it and writes a report; the findings must equal the generator's truth.
 */
#include <check.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* One dataset for the whole suite: generating is the slow part. */
static char *tmp, *ds, *cfg, *db;

static void make_dataset(const char *name, const char *rate)
{
	struct tu_out o;

	ds = tu_fmt("%s/%s", tmp, name);
	o = tu_run("'%s' -o '%s' --certs 400 --seed 7 --violations %s", tu_gen(), ds, rate);
	ck_assert_msg(o.status == 0, "generator failed: %s", o.err);
	tu_out_free(&o);
	cfg = tu_fmt("%s/ca-audit.yaml", ds);
	db = tu_fmt("%s/ca-audit.db", ds);
}

static void setup(void)
{
	tmp = tu_tmpdir("e2e");
}

static void teardown(void)
{
	tu_rmdir(tmp);
	free(tmp);
	free(ds);
	free(cfg);
	free(db);
	tmp = ds = cfg = db = NULL;
}

static long long query_int(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long long v = -1;

	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static struct tu_out ca_audit(const char *args)
{
	return tu_run("'%s' -c '%s' --as-of 2026-01-15 --no-progress %s", tu_bin(), cfg, args);
}

/* The newline-joined keys of item in a JSON Lines text whose lines
 * carry "checklist", "item" and "key". */
static char *keys_of(const char *jsonl, const char *checklist, const char *item)
{
	size_t n = 0, cap = 64;
	char **keys = malloc(cap * sizeof *keys), *out;
	size_t total = 1;
	const char *p = jsonl;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		json_error_t je;
		json_t *o = json_loadb(p, len, 0, &je);

		if (o) {
			const char *c = json_string_value(json_object_get(o, "checklist"));
			const char *i = json_string_value(json_object_get(o, "item"));
			const char *k = json_string_value(json_object_get(o, "key"));
			const char *s = json_string_value(json_object_get(o, "status"));
			if (c && i && k && !strcmp(c, checklist) && !strcmp(i, item) &&
			    (!s || strcmp(s, "fixed"))) {
				if (n == cap)
					keys = realloc(keys, (cap *= 2) * sizeof *keys);
				keys[n++] = strdup(k);
				total += strlen(k) + 1;
			}
			json_decref(o);
		}
		p += len + (eol ? 1 : 0);
	}
	out = calloc(1, total);
	for (size_t i = 0; i < n; i++) {
		strcat(out, keys[i]);
		strcat(out, "\n");
		free(keys[i]);
	}
	free(keys);
	return out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys of keys_of, sorted, newline-terminated. */
static char *sorted_keys(const char *jsonl, const char *checklist, const char *item)
{
	char *joined = keys_of(jsonl, checklist, item), *out;
	char **lines = NULL;
	size_t n = 0;

	for (char *tok = strtok(joined, "\n"); tok; tok = strtok(NULL, "\n")) {
		lines = realloc(lines, (n + 1) * sizeof *lines);
		lines[n++] = tok;
	}
	if (n)
		qsort(lines, n, sizeof *lines, cmp_str);
	out = calloc(1, strlen(jsonl) + 1);
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
	}
	free(lines);
	free(joined);
	return out;
}

START_TEST(findings_equal_truth_for_1_1)
{
	struct tu_out o;
	char *truth_path, *truth, *want, *got;
	long long certs;

	make_dataset("violations", "0.2");
	o = ca_audit("ingest");
	ck_assert_msg(o.status == 0, "ingest failed: %s", o.err);
	tu_out_free(&o);
	certs = query_int(db, "SELECT count(*) FROM certificate WHERE is_ca = 0");
	ck_assert_int_eq(certs, 400);
	ck_assert_int_gt(query_int(db, "SELECT count(*) FROM event"), 400 * 6);

	o = ca_audit("check --checklist miit-2022 --format json --reveal");
	ck_assert_msg(o.status == 0 || o.status == 2, "check failed (%d): %s", o.status, o.err);
	truth_path = tu_fmt("%s/truth.jsonl", ds);
	truth = tu_read(truth_path, NULL);
	ck_assert_ptr_nonnull(truth);
	want = sorted_keys(truth, "miit-2022", "1.1");
	got = sorted_keys(o.out, "miit-2022", "1.1");
	ck_assert_msg(strlen(want) > 0, "the generator injected no 1.1 violation");
	ck_assert_str_eq(got, want);
	/* a high-severity finding is open, so the default --fail-on high says 2 */
	ck_assert_int_eq(o.status, 2);
	free(want);
	free(got);
	free(truth);
	free(truth_path);
	tu_out_free(&o);
}
END_TEST

START_TEST(second_ingest_adds_nothing)
{
	struct tu_out o;
	long long certs, events, apps, rejects;

	make_dataset("idem", "0.1");
	o = ca_audit("ingest");
	ck_assert_msg(o.status == 0, "ingest failed: %s", o.err);
	tu_out_free(&o);
	certs = query_int(db, "SELECT count(*) FROM certificate");
	events = query_int(db, "SELECT count(*) FROM event");
	apps = query_int(db, "SELECT count(*) FROM application");
	rejects = query_int(db, "SELECT count(*) FROM reject");
	o = ca_audit("ingest");
	ck_assert_msg(o.status == 0, "second ingest failed: %s", o.err);
	ck_assert_msg(strstr(o.err, " 0 new"), "second ingest says: %s", o.err);
	tu_out_free(&o);
	/* even re-reading every file stores nothing twice */
	o = ca_audit("ingest --full");
	ck_assert_msg(o.status == 0, "full ingest failed: %s", o.err);
	tu_out_free(&o);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM certificate"), certs);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM event"), events);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM application"), apps);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM reject"), rejects);
}
END_TEST

START_TEST(clean_dataset_has_no_1_1_finding)
{
	struct tu_out o;
	char *got;

	make_dataset("clean", "0");
	o = ca_audit("ingest");
	ck_assert_msg(o.status == 0, "ingest failed: %s", o.err);
	tu_out_free(&o);
	o = ca_audit("check --checklist miit-2022 --format json");
	ck_assert_msg(o.status == 0 || o.status == 2, "check failed: %s", o.err);
	got = sorted_keys(o.out, "miit-2022", "1.1");
	ck_assert_str_eq(got, "");
	free(got);
	tu_out_free(&o);
}
END_TEST

START_TEST(report_workbook_counts_match_check)
{
	struct tu_out o;
	char *out_dir, *xlsx, *args;

	make_dataset("report", "0.2");
	o = ca_audit("ingest");
	tu_out_free(&o);
	o = ca_audit("check --checklist miit-2022 --format json");
	tu_out_free(&o);
	out_dir = tu_fmt("%s/out", tmp);
	args = tu_fmt("report self-inspection --format xlsx -o '%s'", out_dir);
	o = ca_audit(args);
	free(args);
	ck_assert_msg(o.status == 0, "report failed: %s", o.err);
	xlsx = strdup(o.out);
	xlsx[strcspn(xlsx, "\n")] = '\0';
	ck_assert_msg(strstr(xlsx, ".xlsx"), "report printed: %s", o.out);
	tu_out_free(&o);
	/* the inspection record's 1.1 row carries the engine's violation count,
	 * as a number cell */
	o = tu_run("python3 '%s/tests/xlsx_dump.py' '%s' | python3 -c 'import json,sys\n"
		   "d = json.load(sys.stdin)\n"
		   "s = [s for s in d[\"sheets\"] if s[\"name\"] == \"检查记录表\"][0]\n"
		   "for r in s[\"rows\"]:\n"
		   "  if r and r[1] and r[1][1] == \"1.1\": print(r[6][0], r[6][1])'",
		   tu_root(), xlsx);
	ck_assert_msg(o.status == 0, "xlsx_dump failed: %s", o.err);
	{
		long long v = query_int(db, "SELECT violations FROM item_result WHERE item = '1.1'"
					    " AND run = (SELECT max(id) FROM run)");
		char *want = tu_fmt("n %lld\n", v);
		ck_assert_int_gt(v, 0);
		ck_assert_str_eq(o.out, want);
		free(want);
	}
	tu_out_free(&o);
	free(xlsx);
	free(out_dir);
}
END_TEST

START_TEST(check_output_file_is_whole_or_an_error)
{
	struct tu_out o;
	char *args, *path, *text;

	make_dataset("output", "0.2");
	o = ca_audit("ingest");
	tu_out_free(&o);
	o = ca_audit("check --format json -o /dev/full");
	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(strstr(o.err, "/dev/full: unable to write: No space left on device"), "%s",
		      o.err);
	tu_out_free(&o);
	path = tu_fmt("%s/findings.jsonl", tmp);
	args = tu_fmt("check --format json -o '%s'", path);
	o = ca_audit(args);
	ck_assert_msg(o.status == 2, "check failed (%d): %s", o.status, o.err);
	text = tu_read(path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(tu_count_lines(text, "\"checklist\""),
			 (int)query_int(db, "SELECT count(*) FROM finding"
					    " WHERE run = (SELECT max(id) FROM run)"));
	tu_out_free(&o);
	/* no temporary file is left beside it */
	o = tu_run("ls -a '%s' | grep -c '^\\.findings' || true", tmp);
	ck_assert_str_eq(o.out, "0\n");
	tu_out_free(&o);
	free(text);
	free(args);
	free(path);
}
END_TEST

/* The self-inspection PDF's inspection record: for every item of the run,
 * the row that starts with its checklist and id carries the start of its
 * title, its records checked and its violations (numbers sit on a row's
 * first line). */
START_TEST(report_pdf_lists_each_item_with_its_counts)
{
	struct tu_out o;
	char *args, *pdf;
	sqlite3 *h;
	sqlite3_stmt *q;
	int rows = 0;

	make_dataset("pdf", "0.2");
	o = ca_audit("ingest");
	tu_out_free(&o);
	o = ca_audit("check --checklist miit-2022");
	tu_out_free(&o);
	args = tu_fmt("report self-inspection --format pdf -o '%s/pdf'", tmp);
	o = ca_audit(args);
	ck_assert_msg(o.status == 0, "report failed: %s", o.err);
	pdf = strdup(o.out);
	pdf[strcspn(pdf, "\n")] = '\0';
	tu_out_free(&o);
	o = tu_run("pdftotext -layout '%s' -", pdf);
	ck_assert_int_eq(o.status, 0);
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT checklist, item, substr(title, 1, 4),"
					    " checked, violations FROM item_result"
					    " WHERE run = (SELECT max(id) FROM run) AND kind = 'check'",
					    -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *cl = (const char *)sqlite3_column_text(q, 0);
		const char *item = (const char *)sqlite3_column_text(q, 1);
		const char *title = (const char *)sqlite3_column_text(q, 2);
		char *head = tu_fmt("%s %s ", cl, item), *found = NULL, *text = strdup(o.out);
		char *nums = tu_fmt(" %lld %lld ", (long long)sqlite3_column_int64(q, 3),
				    (long long)sqlite3_column_int64(q, 4));

		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
			char *squeezed = tu_fmt(" %s ", line), *w = squeezed;
			/* fold runs of spaces so that column padding does not matter */
			for (char *r = squeezed; *r; r++)
				if (*r != ' ' || w == squeezed || w[-1] != ' ')
					*w++ = *r;
			*w = '\0';
			if (strstr(squeezed, head) && strstr(squeezed, title) && strstr(squeezed, nums))
				found = line;
			free(squeezed);
			if (found)
				break;
		}
		ck_assert_msg(found, "no row '%s... %s ...%s' in the PDF", head, title, nums);
		rows++;
		free(head);
		free(nums);
		free(text);
	}
	ck_assert_int_eq(rows, 14);
	sqlite3_finalize(q);
	sqlite3_close(h);
	tu_out_free(&o);
	free(pdf);
	free(args);
}
END_TEST

START_TEST(usage_errors_exit_64)
{
	struct tu_out o = tu_run("'%s' --no-such-option check", tu_bin());

	ck_assert_int_eq(o.status, 64);
	ck_assert_msg(strstr(o.err, "unknown option '--no-such-option'"), "%s", o.err);
	tu_out_free(&o);
	o = tu_run("'%s' frobnicate", tu_bin());
	ck_assert_int_eq(o.status, 64);
	ck_assert_msg(strstr(o.err, "unknown command 'frobnicate'"), "%s", o.err);
	tu_out_free(&o);
	o = tu_run("'%s' --version", tu_bin());
	ck_assert_int_eq(o.status, 0);
	ck_assert_msg(!strncmp(o.out, "ca-audit ", 9), "%s", o.out);
	tu_out_free(&o);
	o = tu_run("'%s' -c /nonexistent/ca-audit.yaml ingest", tu_bin());
	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(strstr(o.err, "/nonexistent/ca-audit.yaml"), "%s", o.err);
	tu_out_free(&o);
}
END_TEST

START_TEST(every_command_has_help)
{
	static const char *const cmds[] = {"ingest", "check", "report", "run", "sample",
					   "rules", "demo"};

	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
		struct tu_out o = tu_run("'%s' %s --help", tu_bin(), cmds[i]);
		ck_assert_msg(o.status == 0, "%s --help exited %d", cmds[i], o.status);
		ck_assert_msg(strstr(o.out, "usage: ca-audit"), "%s --help: %s", cmds[i], o.out);
		tu_out_free(&o);
	}
}
END_TEST

START_TEST(demo_writes_every_report_kind)
{
	char *out = tu_fmt("%s/demo", tmp);
	struct tu_out o = tu_run("CA_AUDIT_GEN='%s' '%s' --no-progress demo -o '%s' --certs 80",
				 tu_gen(), tu_bin(), out);
	static const char *const files[] = {
		"self-inspection-2026-01-05.xlsx", "self-inspection-2026-01-05.pdf",
		"rectification-2026-01-05.xlsx", "rectification-2026-01-05.pdf",
		"monthly-2025-12.xlsx", "annual-2025.pdf", "spot-check-2026-01-05.xlsx",
		"sample-demo.json",
	};

	ck_assert_msg(o.status == 0, "demo failed (%d): %s", o.status, o.err);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char *path = tu_fmt("%s/reports/%s", out, files[i]);
		size_t len = 0;
		char *data = tu_read(path, &len);
		ck_assert_msg(data && len > 100, "demo did not write %s", path);
		free(data);
		free(path);
	}
	ck_assert_msg(strstr(o.err, "injected violations"), "%s", o.err);
	tu_out_free(&o);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e");
	TCase *tc = tcase_create("pipeline");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, findings_equal_truth_for_1_1);
	tcase_add_test(tc, second_ingest_adds_nothing);
	tcase_add_test(tc, clean_dataset_has_no_1_1_finding);
	tcase_add_test(tc, report_workbook_counts_match_check);
	tcase_add_test(tc, check_output_file_is_whole_or_an_error);
	tcase_add_test(tc, report_pdf_lists_each_item_with_its_counts);
	tcase_add_test(tc, usage_errors_exit_64);
	tcase_add_test(tc, every_command_has_help);
	tcase_add_test(tc, demo_writes_every_report_kind);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
