/*
 * test_cmd_report.c — `ca-audit report` run as a user runs it, on a store
 * made by hand (the engine's own output is covered by test_e2e): file names,
 * the default and given output directories, the paths printed, report_log,
 * reproducible bytes, and every error a user can hit with its message and
 * exit code.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"
#include "testutil.h"

static char *tmp, *cfg, *db;

static void setup(void)
{
	struct store *st;
	struct err e = {0};

	tmp = tu_tmpdir("cmd-report");
	cfg = tu_write_in(tmp, "ca-audit.yaml",
			  "ca:\n"
			  "  name: 示例电子认证服务有限公司\n"
			  "  license: ECP-TEST-0001\n"
			  "  province: 广东省\n"
			  "store: store.db\n"
			  "reports:\n"
			  "  output: out/reports/\n"
			  "  formats: [xlsx]\n");
	db = tu_fmt("%s/store.db", tmp);
	ck_assert_msg(store_open(db, 0, &st, &e) == 0, "%s", e.msg);
	store_close(st);
}

static void teardown(void)
{
	tu_rmdir(tmp);
	free(tmp);
	free(cfg);
	free(db);
}

static void sql(const char *q)
{
	struct store *st;
	struct err e = {0};
	char *msg = NULL;

	ck_assert_msg(store_open(db, 0, &st, &e) == 0, "%s", e.msg);
	ck_assert_msg(sqlite3_exec(store_db(st), q, NULL, NULL, &msg) == SQLITE_OK, "%s", msg);
	store_close(st);
}

/* The rows of a query, "a|b|c" a line. */
static int collect(void *ctx, int n, char **vals, char **names)
{
	char **out = ctx, *next;

	(void)names;
	for (int i = 0; i < n; i++) {
		next = tu_fmt("%s%s%s", *out, i ? "|" : "", vals[i] ? vals[i] : "");
		free(*out);
		*out = next;
	}
	next = tu_fmt("%s\n", *out);
	free(*out);
	*out = next;
	return 0;
}

static char *query(const char *q)
{
	struct store *st;
	struct err e = {0};
	char *out = strdup("");

	ck_assert_msg(store_open(db, 1, &st, &e) == 0, "%s", e.msg);
	ck_assert(sqlite3_exec(store_db(st), q, collect, &out, NULL) == SQLITE_OK);
	store_close(st);
	return out;
}

static void add_run(void)
{
	sql("INSERT INTO run(id, started_at) VALUES (1, '2025-03-01 01:00:00');"
	    " INSERT INTO item_result(run, checklist, item, title, kind, basis, checked,"
	    " violations, result) VALUES (1, 'miit-2022', '1.1', '身份查验', 'check', '[]', 10, 1,"
	    " 'fail');"
	    " INSERT INTO finding(run, checklist, item, key, severity, message, evidence, status,"
	    " first_seen, last_seen) VALUES (1, 'miit-2022', '1.1', 'serial:0A', 'high', 'm',"
	    " '{\"applicant_name\":\"李四\"}', 'new', '2025-03-01', '2025-03-01');");
}

static struct tu_out report(const char *args)
{
	return tu_run("'%s' -c '%s' --as-of 2025-03-01 report %s", tu_bin(), cfg, args);
}

START_TEST(writes_into_configured_dir_and_logs)
{
	struct tu_out o;
	char *want, *a, *b;
	size_t la, lb;

	add_run();
	o = report("self-inspection");
	ck_assert_msg(o.status == 0, "exit %d: %s", o.status, o.err);
	want = tu_fmt("%s/out/reports/self-inspection-2025-03-01.xlsx\n", tmp);
	ck_assert_str_eq(o.out, want);
	want[strlen(want) - 1] = '\0';
	a = tu_read(want, &la);
	ck_assert_ptr_nonnull(a);
	{
		char *got = query("SELECT kind, period, as_of, format, path FROM report_log");
		char *row = tu_fmt("self-inspection|all|2025-03-01|xlsx|%s\n", want);

		ck_assert_str_eq(got, row);
		free(row);
		free(got);
	}
	tu_out_free(&o);
	/* the same store and as-of date give the same bytes */
	o = report("self-inspection");
	ck_assert_int_eq(o.status, 0);
	b = tu_read(want, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert_msg(memcmp(a, b, la) == 0, "the report changed between runs");
	tu_out_free(&o);
	free(a);
	free(b);
	free(want);
}
END_TEST

START_TEST(period_and_output_dir_name_the_file)
{
	struct tu_out o;
	char *want, *args;

	add_run();
	args = tu_fmt("self-inspection --period 2025-01-01..2025-02-28 -o '%s/new/dir'"
		      " --format xlsx", tmp);
	o = report(args);
	free(args);
	ck_assert_msg(o.status == 0, "exit %d: %s", o.status, o.err);
	want = tu_fmt("%s/new/dir/self-inspection-2025-01-01..2025-02-28.xlsx\n", tmp);
	ck_assert_str_eq(o.out, want);
	tu_out_free(&o);
	free(want);
}
END_TEST

START_TEST(user_errors_have_messages)
{
	static const struct {
		const char *args;
		int status;
		const char *msg;
	} cases[] = {
		{"annual", 1, "no check results in the store: run 'ca-audit check' first"},
		{"rectification", 1, "no check results in the store: run 'ca-audit check' first"},
		{"self-inspection --format csv", 64, "format 'csv' is only for the monthly report"},
		{"annual --sample s.json", 64, "--sample is only for the spot-check report"},
		{"frobnicate", 64, "unknown report kind 'frobnicate'"},
		{"", 64, "missing report kind"},
		{"self-inspection extra", 64, "unexpected argument 'extra'"},
		{"self-inspection --period 2025-13", 64, "--period expects"},
		{"self-inspection --period 2025-03-01..2025-01-01", 64, "found '2025-03-01..2025-01-01'"},
		{"self-inspection --format docx", 64, "unknown format 'docx' (expected xlsx or pdf)"},
		{"self-inspection --bogus", 64, "unknown option '--bogus'"},
		{"self-inspection -o", 64, "needs an argument"},
		{"self-inspection", 1, "no check results in the store: run 'ca-audit check' first"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct tu_out o = report(cases[i].args);

		ck_assert_msg(o.status == cases[i].status, "'%s': exit %d, stderr %s",
			      cases[i].args, o.status, o.err);
		ck_assert_msg(strstr(o.err, cases[i].msg), "'%s': stderr %s", cases[i].args, o.err);
		ck_assert_str_eq(o.out, "");
		tu_out_free(&o);
	}
	/* a report that could not be made leaves no output directory behind */
	{
		char *dir = tu_fmt("%s/out", tmp);
		struct stat sb;

		ck_assert_int_eq(stat(dir, &sb), -1);
		free(dir);
	}
}
END_TEST

START_TEST(help_lists_the_kinds)
{
	struct tu_out o = report("--help");

	ck_assert_int_eq(o.status, 0);
	ck_assert_msg(strstr(o.out, "usage: ca-audit"), "%s", o.out);
	ck_assert_msg(strstr(o.out, "self-inspection"), "%s", o.out);
	ck_assert_msg(strstr(o.out, "spot-check"), "%s", o.out);
	ck_assert_msg(strstr(o.out, "monthly"), "%s", o.out);
	tu_out_free(&o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmd_report");
	TCase *tc = tcase_create("cmd_report");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, writes_into_configured_dir_and_logs);
	tcase_add_test(tc, period_and_output_dir_name_the_file);
	tcase_add_test(tc, user_errors_have_messages);
	tcase_add_test(tc, help_lists_the_kinds);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
