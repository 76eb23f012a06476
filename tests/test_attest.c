/*
 * test_attest.c — attestations through the real binary: a manual item takes
 * its result and note from the attestations file, the store's attestation
 * table is replaced on each run, an unattested manual item stays "manual",
 * and every mistake a user can make in the file is an error naming
 * file:line:col.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *dir;

static const char config[] =
	"ca: {name: 测试电子认证服务有限公司}\n"
	"store: ca-audit.db\n"
	"checklists: [miit-2022, egov-2009]\n"
	"attestations: att/attestations.yaml\n";

static void setup(void)
{
	dir = tu_tmpdir("attest");
	free(tu_write_in(dir, "ca-audit.yaml", config));
	struct tu_out o = tu_run("mkdir -p '%s/att'", dir);

	tu_out_free(&o);
	o = tu_run("cd '%s' && '%s' -c ca-audit.yaml ingest", dir, tu_bin());
	ck_assert_msg(o.status == 0, "ingest: %s", o.err);
	tu_out_free(&o);
}

static void teardown(void)
{
	tu_rmdir(dir);
	free(dir);
}

static struct tu_out check_with(const char *attestations)
{
	char *p = tu_fmt("%s/att/attestations.yaml", dir);
	ck_assert_int_eq(tu_write(p, attestations), 0);
	free(p);
	/* from another directory: the path is relative to the configuration */
	return tu_run("cd / && '%s' -c '%s/ca-audit.yaml' --as-of 2026-02-03 check"
		      " --format json", tu_bin(), dir);
}

/* The first column of each row sql selects from the store, one per line,
 * "NULL" for a null. */
static char *query(const char *sql)
{
	char *path = tu_fmt("%s/ca-audit.db", dir), *out = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s",
		      sqlite3_errmsg(db));
	out = strdup("");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		char *t = tu_fmt("%s%s\n", out, v ? v : "NULL");
		free(out);
		out = t;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(path);
	return out;
}

static char *result_of(const char *checklist, const char *item)
{
	char *sql = tu_fmt("SELECT result || '|' || coalesce(note, '-') FROM item_result"
			   " WHERE run = (SELECT max(id) FROM run) AND checklist = '%s'"
			   " AND item = '%s'", checklist, item);
	char *r = query(sql);
	free(sql);
	return r;
}

START_TEST(manual_results_from_the_file)
{
	struct tu_out o = check_with(
		"- {checklist: egov-2009, item: \"13\", result: pass, note: 2025年度评估已完成,\n"
		"   evidence: 评估报告 2025-03, by: 合规部, at: 2025-03-20}\n"
		"- {checklist: egov-2009, item: \"23\", result: fail, note: 未书面告知}\n"
		"- checklist: miit-2022\n"
		"  item: \"4.1\"\n"
		"  result: na\n");
	char *r;

	ck_assert_msg(o.status == 0 || o.status == 2, "check: %d %s", o.status, o.err);
	tu_out_free(&o);
	r = result_of("egov-2009", "13");
	ck_assert_str_eq(r, "pass|2025年度评估已完成\n");
	free(r);
	r = result_of("egov-2009", "23");
	ck_assert_str_eq(r, "fail|未书面告知\n");
	free(r);
	r = result_of("miit-2022", "4.1");
	ck_assert_str_eq(r, "na|-\n");
	free(r);
	r = result_of("egov-2009", "38");
	ck_assert_str_eq(r, "manual|-\n");
	free(r);
	r = query("SELECT checklist || '|' || item || '|' || result || '|' || coalesce(evidence, '-')"
		  " || '|' || coalesce(by, '-') || '|' || coalesce(at, '-') FROM attestation"
		  " ORDER BY checklist, item");
	ck_assert_str_eq(r, "egov-2009|13|pass|评估报告 2025-03|合规部|2025-03-20\n"
			    "egov-2009|23|fail|-|-|-\n"
			    "miit-2022|4.1|na|-|-|-\n");
	free(r);

	/* the next run replaces the rows: 23 and 4.1 are no longer attested */
	o = check_with("attestations:\n"
		       "  - {checklist: egov-2009, item: \"13\", result: fail}\n");
	ck_assert_msg(o.status == 0 || o.status == 2, "check: %d %s", o.status, o.err);
	tu_out_free(&o);
	r = query("SELECT checklist || '|' || item || '|' || result FROM attestation");
	ck_assert_str_eq(r, "egov-2009|13|fail\n");
	free(r);
	r = result_of("egov-2009", "23");
	ck_assert_str_eq(r, "manual|-\n");
	free(r);

	/* an empty file attests nothing */
	o = check_with("");
	ck_assert_msg(o.status == 0 || o.status == 2, "check: %d %s", o.status, o.err);
	tu_out_free(&o);
	r = query("SELECT count(*) FROM attestation");
	ck_assert_str_eq(r, "0\n");
	free(r);
}
END_TEST

static const struct {
	const char *text;
	const char *where; /* line:col */
	const char *message;
} bad[] = {
	{"- {checklist: egov-2009, item: \"13\", result: pass, sign: x}\n", "1:52",
	 "unknown key 'sign'"},
	{"- {checklist: egov-2009, item: \"13\", result: ok}\n", "1:46",
	 "unknown result 'ok' (expected pass, fail or na)"},
	{"- {checklist: egov-2099, item: \"13\", result: pass}\n", "1:15",
	 "unknown checklist 'egov-2099'"},
	{"- {checklist: egov-2009, item: \"14\", result: pass}\n", "1:32",
	 "checklist 'egov-2009' has no item '14'"},
	{"- {checklist: egov-2009, item: \"6\", result: pass}\n", "1:32",
	 "item '6' of checklist 'egov-2009' is checked automatically, not attested"},
	{"- {checklist: egov-2009, item: \"13\", result: pass}\n"
	 "- {checklist: egov-2009, item: \"13\", result: fail}\n", "2:3",
	 "item '13' of checklist 'egov-2009' is already attested at line 1"},
	{"- {checklist: egov-2009, item: \"13\", result: pass, at: 2025-02-30}\n", "1:",
	 "2025-02-30"},
	{"- {checklist: egov-2009, result: pass}\n", "1:3", "missing key 'item'"},
	{"{checklist: egov-2009}\n", "1:2", "unknown key 'checklist'"},
	{"attestations: {checklist: egov-2009}\n", "1:15", "expected a list of attestations"},
	{"- just text\n", "1:3", "expected an attestation"},
};

START_TEST(file_errors)
{
	struct tu_out o = check_with(bad[_i].text);
	char *want = tu_fmt("att/attestations.yaml:%s", bad[_i].where);

	ck_assert_msg(o.status == 1, "case %d: status %d", _i, o.status);
	ck_assert_msg(strstr(o.err, want) != NULL, "case %d: no '%s' in: %s", _i, want, o.err);
	ck_assert_msg(strstr(o.err, bad[_i].message) != NULL, "case %d: no '%s' in: %s", _i,
		      bad[_i].message, o.err);
	ck_assert_str_eq(o.out, "");
	free(want);
	tu_out_free(&o);
	/* a refused file changes nothing in the store */
	char *r = query("SELECT count(*) FROM run");
	ck_assert_str_eq(r, "0\n");
	free(r);
}
END_TEST

START_TEST(missing_file)
{
	struct tu_out o = tu_run("'%s' -c '%s/ca-audit.yaml' --as-of 2026-02-03 check", tu_bin(),
				 dir);

	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(strstr(o.err, "att/attestations.yaml") != NULL, "%s", o.err);
	tu_out_free(&o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("attest");
	TCase *tc = tcase_create("attest");
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, manual_results_from_the_file);
	tcase_add_loop_test(tc, file_errors, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
