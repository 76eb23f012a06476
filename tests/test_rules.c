/*
 * test_rules.c — the checklist loader: a valid checklist loads with every
 * field; each validation problem is reported with file:line:col, several at
 * once; lookup by id; the shipped miit-2022 checklist lints clean, also
 * through `ca-audit rules lint`.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules.h"
#include "testutil.h"

static char *dir;

static void setup(void) { dir = tu_tmpdir("rules"); }
static void teardown(void)
{
	tu_rmdir(dir);
	free(dir);
}

/* Loads text as a checklist file and returns its errors formatted, one a
 * line ("" when it loads). */
static char *problems(const char *text, char **path_out)
{
	char *path = tu_write_in(dir, "c.yaml", text), *all = strdup("");
	struct rules_errors errs = {0};
	struct checklist *cl = NULL;
	struct err e = {0};

	if (!rules_load(path, &cl, &errs, &e)) {
		ck_assert_uint_eq(errs.n, 0);
		checklist_free(cl);
	} else {
		ck_assert_ptr_null(cl);
		ck_assert_uint_gt(errs.n, 0);
		ck_assert_str_eq(e.msg, errs.v[0].msg); /* e is the first problem */
	}
	for (size_t i = 0; i < errs.n; i++) {
		char line[1200], *next;
		err_format(&errs.v[i], line, sizeof line);
		next = tu_fmt("%s%s\n", all, line);
		free(all);
		all = next;
	}
	rules_errors_free(&errs);
	if (path_out)
		*path_out = path;
	else
		free(path);
	return all;
}

START_TEST(valid_checklist_loads)
{
	char *path = tu_write_in(dir, "ok.yaml",
		"checklist: demo-1\n"
		"title: 演示\n"
		"authority: 某部门\n"
		"published: 2022-08-02\n"
		"scope: {from: 2017-07-01, to: 2022-12-31}\n"
		"deadline: 2022-10-30\n"
		"items:\n"
		"  - id: \"1.1\"\n"
		"    section: 甲\n"
		"    title: 身份查验\n"
		"    basis: [法一, 法二]\n"
		"    severity: critical\n"
		"    effective: {from: 2018-01-01}\n"
		"    check:\n"
		"      from: issuance\n"
		"      where: t_identity IS NULL\n"
		"      key: serial\n"
		"      evidence: [serial, app]\n"
		"      message: 未查验\n"
		"    rectification: {measures: 补查, due: {workdays: 20}}\n"
		"  - id: m\n"
		"    title: 指标\n"
		"    metric: {sql: SELECT 1, max: 0.5}\n"
		"    rectification: {due: {date: 2022-10-30}}\n"
		"  - id: h\n"
		"    title: 人工\n"
		"    manual: true\n");
	struct checklist *cl = NULL;
	struct err e = {0};

	ck_assert_int_eq(rules_load(path, &cl, NULL, &e), 0);
	ck_assert_str_eq(cl->id, "demo-1");
	ck_assert_str_eq(cl->scope_from, "2017-07-01");
	ck_assert_str_eq(cl->scope_to, "2022-12-31");
	ck_assert_str_eq(cl->deadline, "2022-10-30");
	ck_assert_uint_eq(cl->n_items, 3);
	ck_assert_int_eq(cl->items[0].kind, RULE_CHECK);
	ck_assert_int_eq(cl->items[0].severity, RULE_SEV_CRITICAL);
	ck_assert_uint_eq(cl->items[0].basis.n, 2);
	ck_assert_str_eq(cl->items[0].basis.v[1], "法二");
	ck_assert_str_eq(cl->items[0].eff_from, "2018-01-01");
	ck_assert_ptr_null(cl->items[0].eff_to);
	ck_assert_str_eq(cl->items[0].check.where, "t_identity IS NULL");
	ck_assert_uint_eq(cl->items[0].check.evidence.n, 2);
	ck_assert_int_eq(cl->items[0].due_workdays, 20);
	ck_assert_int_eq(cl->items[1].kind, RULE_METRIC);
	ck_assert(cl->items[1].metric.has_max && !cl->items[1].metric.has_min);
	ck_assert(cl->items[1].metric.max == 0.5);
	ck_assert_str_eq(cl->items[1].due_date, "2022-10-30");
	ck_assert_int_eq(cl->items[1].severity, RULE_SEV_MEDIUM); /* the default */
	ck_assert_int_eq(cl->items[2].kind, RULE_MANUAL);
	checklist_free(cl);
	free(path);
}
END_TEST

START_TEST(every_problem_at_once)
{
	char *path, *got = problems(
		"checklist: t\n"                                   /* 1 */
		"title: T\n"                                       /* 2 */
		"items:\n"                                         /* 3 */
		"  - id: a\n"                                      /* 4 */
		"    title: A\n"                                   /* 5 */
		"    severity: urgent\n"                           /* 6 */
		"    manual: true\n"                               /* 7 */
		"  - id: a\n"                                      /* 8 */
		"    title: B\n"                                   /* 9 */
		"    check: {sql: SELECT 1, message: m}\n"         /* 10 */
		"    metric: {sql: SELECT 1, max: 0}\n"            /* 11 */
		"  - id: c\n"                                      /* 12 */
		"    title: C\n"                                   /* 13 */
		"    colour: red\n",                               /* 14 */
		&path);
	char *want = tu_fmt(
		"%1$s:6:15: unknown severity 'urgent' (expected critical, high, medium, low or info)\n"
		"%1$s:8:5: item 'a' needs exactly one of 'check', 'metric' and 'manual: true' (found 2)\n"
		"%1$s:8:9: duplicate item id 'a' (first at line 4)\n"
		"%1$s:14:5: unknown key 'colour' in an item (expected one of: id, section, title,"
		" basis, severity, effective, check, metric, manual, rectification)\n"
		"%1$s:12:5: item 'c' needs exactly one of 'check', 'metric' and 'manual: true' (found 0)\n",
		path);

	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	free(path);
}
END_TEST

START_TEST(unknown_top_level_key)
{
	char *path, *got = problems("checklist: t\ntitle: T\nowner: me\nitems:\n"
				    "  - {id: a, title: A, manual: true}\n", &path);
	char *want = tu_fmt("%s:3:1: unknown key 'owner' in a checklist (expected one of:"
			    " checklist, title, authority, published, scope, deadline, items)\n",
			    path);

	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	free(path);
}
END_TEST

START_TEST(check_and_rectification_problems)
{
	char *path, *got = problems(
		"checklist: t\n"
		"title: T\n"
		"scope: {from: 2022-02-30}\n"
		"items:\n"
		"  - id: a\n"
		"    title: A\n"
		"    check: {from: issuance, key: serial, evidence: [serial], mesage: x}\n"
		"    rectification: {due: {workdays: 5, date: 2022-10-30}}\n"
		"  - id: b\n"
		"    title: B\n"
		"    check: {sql: SELECT 1, from: issuance, message: m}\n"
		"    effective: {from: 2020-01-01, to: 2019-01-01}\n",
		&path);
	char *want = tu_fmt(
		"%1$s:3:15: expected a date YYYY-MM-DD, found '2022-02-30'\n"
		"%1$s:7:62: unknown key 'mesage' in 'check' (expected one of: from, where, key,"
		" date, evidence, message, sql, checked)\n"
		"%1$s:7:12: missing key 'message'\n"
		"%1$s:7:12: missing key 'where'\n"
		"%1$s:8:26: 'due' takes exactly one of 'workdays' and 'date'\n"
		"%1$s:12:16: 'effective' ends (2019-01-01) before it starts (2020-01-01)\n"
		"%1$s:11:12: 'sql' replaces 'from', 'where', 'key' and 'date': give either 'sql'"
		" or 'from' with 'where' and 'key'\n",
		path);

	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	free(path);
}
END_TEST

START_TEST(yaml_syntax_error_has_position)
{
	char *path, *got = problems("checklist: t\ntitle: [unclosed\n", &path);

	ck_assert_msg(strncmp(got, path, strlen(path)) == 0 && strstr(got, ": invalid YAML"),
		      "got %s", got);
	ck_assert_int_eq(tu_count_lines(got, ""), 1);
	free(got);
	free(path);
}
END_TEST

START_TEST(miit_2022_lints_clean)
{
	char *path = tu_fmt("%s/rules/miit-2022.yaml", tu_root());
	struct rules_errors errs = {0};
	struct checklist *cl = NULL;
	struct err e = {0};
	static const char *const ids[] = {"1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2",
					  "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3"};

	ck_assert_msg(rules_load(path, &cl, &errs, &e) == 0, "%s:%d:%d: %s", e.file, e.line,
		      e.col, e.msg);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_str_eq(cl->id, "miit-2022");
	ck_assert_str_eq(cl->scope_from, "2017-07-01");
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		ck_assert_str_eq(cl->items[i].id, ids[i]);
		ck_assert_int_eq(cl->items[i].kind, RULE_CHECK);
		ck_assert_uint_gt(cl->items[i].basis.n, 0);
		ck_assert_ptr_nonnull(cl->items[i].check.message);
		ck_assert_ptr_nonnull(cl->items[i].measures);
	}
	ck_assert_str_eq(cl->items[0].check.from, "issuance");
	ck_assert_int_eq(cl->items[cl->n_items - 1].kind, RULE_MANUAL);
	checklist_free(cl);
	free(path);
}
END_TEST

START_TEST(lint_command)
{
	char *bad = tu_write_in(dir, "bad.yaml",
				"checklist: t\ntitle: T\nitems:\n  - {id: a, title: A}\n"
				"  - {id: b, title: B, manual: maybe}\n");
	struct tu_out o = tu_run("cd '%s' && '%s' rules lint '%s/rules/miit-2022.yaml' bad.yaml",
				 dir, tu_bin(), tu_root());

	ck_assert_int_eq(o.status, 1);
	ck_assert_str_eq(o.out,
			 "bad.yaml:4:5: item 'a' needs exactly one of 'check', 'metric' and"
			 " 'manual: true' (found 0)\n"
			 "bad.yaml:5:31: expected true or false for 'manual'\n"
			 "bad.yaml:5:5: item 'b' needs exactly one of 'check', 'metric' and"
			 " 'manual: true' (found 0)\n");
	ck_assert_msg(strstr(o.err, "3 problems in 1 file"), "stderr: %s", o.err);
	tu_out_free(&o);
	o = tu_run("'%s' rules lint '%s/rules/miit-2022.yaml'", tu_bin(), tu_root());
	ck_assert_int_eq(o.status, 0);
	ck_assert_str_eq(o.out, "");
	tu_out_free(&o);
	free(bad);
}
END_TEST

START_TEST(find_by_id_and_path)
{
	char *sub = tu_fmt("%s/more", dir), *path = NULL, *want;
	struct err e = {0};

	ck_assert_int_eq(mkdir(sub, 0700), 0);
	free(tu_write_in(sub, "extra-1.yaml", "checklist: extra-1\n"));
	setenv("CA_AUDIT_RULES", sub, 1);
	ck_assert_int_eq(rules_find(NULL, "extra-1", &path, &e), 0);
	want = tu_fmt("%s/extra-1.yaml", sub);
	ck_assert_msg(strstr(path, "/more/extra-1.yaml") != NULL, "%s", path);
	free(path);
	ck_assert_int_eq(rules_find(NULL, want, &path, &e), 0);
	ck_assert_str_eq(path, want);
	free(path);
	ck_assert_int_eq(rules_find(NULL, "no-such-list", &path, &e), -1);
	ck_assert_ptr_null(path);
	ck_assert_str_eq(e.msg, "unknown checklist 'no-such-list' (no no-such-list.yaml in the"
				" rules directories; see 'ca-audit rules list')");
	ck_assert_int_eq(rules_find(NULL, "missing/x.yaml", &path, &e), -1);
	ck_assert_str_eq(e.msg, "checklist file 'missing/x.yaml' not found");
	unsetenv("CA_AUDIT_RULES");
	free(want);
	free(sub);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, valid_checklist_loads);
	tcase_add_test(tc, every_problem_at_once);
	tcase_add_test(tc, unknown_top_level_key);
	tcase_add_test(tc, check_and_rectification_problems);
	tcase_add_test(tc, yaml_syntax_error_has_position);
	tcase_add_test(tc, miit_2022_lints_clean);
	tcase_add_test(tc, lint_command);
	tcase_add_test(tc, find_by_id_and_path);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
