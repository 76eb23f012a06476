/*
 * test_reports_more.c — the rectification, annual and monthly reports made
 * by the real binary on a generated dataset (build/gen, fixed seed): ingest,
 * check, report. Figures read back from the XLSX are compared with counts
 * the test computes itself with SQL on the store (local dates by the +8
 * hours of Asia/Shanghai, not the tool's own conversion); rectification due
 * dates with workdays_add; the CSV with the XLSX; the PDFs with pdftotext.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "builders.h"
#include "rules.h"
#include "store.h"
#include "testutil.h"
#include "workdays.h"

static char *tmp, *cfg, *db;

static void run_ok(const char *what, struct tu_out *o, int ok2)
{
	ck_assert_msg(o->status == 0 || (ok2 && o->status == 2), "%s: exit %d: %s", what,
		      o->status, o->err);
}

static void setup(void)
{
	struct tu_out o;

	tmp = tu_tmpdir("reports-more");
	o = tu_run("'%s' -o '%s/ds' --certs 160 --seed 11 --violations 0.25", tu_gen(), tmp);
	run_ok("gen", &o, 0);
	tu_out_free(&o);
	cfg = tu_fmt("%s/ds/ca-audit.yaml", tmp);
	db = tu_fmt("%s/ds/ca-audit.db", tmp);
	o = tu_run("'%s' -c '%s' --as-of 2026-01-15 ingest", tu_bin(), cfg);
	run_ok("ingest", &o, 0);
	tu_out_free(&o);
	o = tu_run("'%s' -c '%s' --as-of 2026-01-15 check", tu_bin(), cfg);
	run_ok("check", &o, 1);
	tu_out_free(&o);
}

static void teardown(void)
{
	tu_rmdir(tmp);
	free(tmp);
	free(cfg);
	free(db);
}

static struct tu_out report(const char *as_of, const char *args)
{
	return tu_run("'%s' -c '%s' --as-of %s report %s -o '%s/out'", tu_bin(), cfg, as_of,
		      args, tmp);
}

/* One integer from a query with text parameters. */
static long long q1(const char *sql, const char *a, const char *b)
{
	struct store *st;
	struct err e = {0};
	sqlite3_stmt *q;
	long long n = -1;

	ck_assert_msg(store_open(db, 1, &st, &e) == 0, "%s", e.msg);
	ck_assert_msg(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL) == SQLITE_OK, "%s: %s",
		      sql, sqlite3_errmsg(store_db(st)));
	if (a)
		sqlite3_bind_text(q, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(q, 2, b, -1, SQLITE_TRANSIENT);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	store_close(st);
	return n;
}

static json_t *dump(const char *path)
{
	struct tu_out o = tu_run("python3 '%s/tests/xlsx_dump.py' '%s'", tu_root(), path);
	json_error_t je;
	json_t *j;

	ck_assert_msg(o.status == 0, "xlsx_dump '%s': %s", path, o.err);
	j = json_loads(o.out, 0, &je);
	ck_assert_ptr_nonnull(j);
	tu_out_free(&o);
	return j;
}

static json_t *sheet(json_t *wb, const char *name)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(wb, "sheets"), i, s)
		if (!strcmp(json_string_value(json_object_get(s, "name")), name))
			return s;
	ck_abort_msg("no sheet '%s'", name);
	return NULL;
}

static json_t *cell(json_t *sh, size_t r, size_t c)
{
	json_t *v = json_array_get(json_array_get(json_object_get(sh, "rows"), r), c);

	return json_is_array(v) ? json_array_get(v, 1) : NULL;
}

static const char *text(json_t *sh, size_t r, size_t c)
{
	json_t *v = cell(sh, r, c);

	return json_is_string(v) ? json_string_value(v) : "";
}

static long long num(json_t *sh, size_t r, size_t c)
{
	json_t *v = cell(sh, r, c);

	ck_assert_msg(json_is_number(v), "row %zu col %zu is not a number", r, c);
	return (long long)json_number_value(v);
}

/* The row of the header of the table titled title (the row after it); a
 * sheet's only table has no title row, its header is row 0. */
static size_t table_at(json_t *sh, const char *title)
{
	size_t n = json_array_size(json_object_get(sh, "rows"));

	for (size_t r = 0; r < n; r++)
		if (!strcmp(text(sh, r, 0), title))
			return r + 1;
	if (!strcmp(title, "按证书类型和业务类别") && !strcmp(text(sh, 0, 0), "证书类型"))
		return 0;
	ck_abort_msg("no table '%s'", title);
	return 0;
}

/* The cover value beside key. */
static const char *cover(json_t *wb, const char *key)
{
	json_t *c = sheet(wb, "概要");
	size_t n = json_array_size(json_object_get(c, "rows"));

	for (size_t r = 0; r < n; r++)
		if (!strcmp(text(c, r, 0), key))
			return text(c, r, 1);
	return NULL;
}

/* Independent definitions, local time as UTC + 8 hours. */
#define T_ISSUE "coalesce(t_issue, not_before)"
#define T_REV "coalesce(revoked_at, (SELECT min(at) FROM event v WHERE v.kind = 'revoke'" \
	" AND v.serial = i.serial))"
#define IN(t, fmt) "strftime('" fmt "', " t ", '+8 hours') = ?2"

static const char *const sectors[][2] = {
	{"commercial", "商业"}, {"egov-public", "电子政务（公众）"},
	{"egov-government", "电子政务（政务部门）"}};

START_TEST(annual_figures_match_the_store)
{
	struct tu_out o = report("2026-01-15", "annual --format xlsx,pdf");
	char *x = tu_fmt("%s/out/annual-2025.xlsx", tmp), *want;
	json_t *wb, *sh;
	size_t r, i;
	long long tot_issued = 0, tot_valid = 0;
	const char *end = "2025-12-31 16:00:00";

	run_ok("report annual", &o, 0);
	ck_assert_msg(strstr(o.out, "annual-2025.pdf"), "%s", o.out);
	ck_assert_msg(!strstr(o.err, "deadline"), "%s", o.err);
	tu_out_free(&o);
	wb = dump(x);
	sh = sheet(wb, "证书业务统计");
	r = table_at(sh, "按业务类别");
	ck_assert_str_eq(text(sh, r, 1), "签发");
	for (i = 0; i < 3; i++) {
		size_t k = r + 1;

		while (*text(sh, k, 0) && strcmp(text(sh, k, 0), sectors[i][1]))
			k++;
		if (!*text(sh, k, 0))
			continue; /* no activity in that sector */
		ck_assert_int_eq(num(sh, k, 1), q1("SELECT count(*) FROM issuance i WHERE sector = ?1"
						  " AND " IN(T_ISSUE, "%Y"), sectors[i][0], "2025"));
		ck_assert_int_eq(num(sh, k, 3), q1("SELECT count(*) FROM issuance i WHERE sector = ?1"
						  " AND " IN(T_REV, "%Y"), sectors[i][0], "2025"));
		ck_assert_int_eq(num(sh, k, 4), q1("SELECT count(*) FROM issuance i WHERE sector = ?1"
						  " AND " IN("not_after", "%Y"), sectors[i][0], "2025"));
		ck_assert_int_eq(num(sh, k, 5), q1("SELECT count(*) FROM issuance i WHERE sector = ?1"
						  " AND not_before <= ?2 AND not_after > ?2 AND"
						  " (" T_REV " IS NULL OR " T_REV " > ?2)",
						  sectors[i][0], end));
		tot_issued += num(sh, k, 1);
		tot_valid += num(sh, k, 5);
	}
	/* the total row and the cover agree with the store as a whole */
	while (strcmp(text(sh, r, 0), "合计"))
		r++;
	ck_assert_int_eq(num(sh, r, 1), q1("SELECT count(*) FROM issuance i WHERE ?1 IS NULL AND "
					   IN(T_ISSUE, "%Y"), NULL, "2025"));
	ck_assert_int_eq(num(sh, r, 1), tot_issued);
	ck_assert_int_eq(num(sh, r, 5), tot_valid);
	ck_assert_int_eq(num(sh, r, 2), q1("SELECT count(*) FROM event WHERE kind = 'renew' AND"
					   " ?1 IS NULL AND " IN("at", "%Y"), NULL, "2025"));
	want = tu_fmt("%lld", tot_issued);
	ck_assert_str_eq(cover(wb, "签发证书"), want);
	ck_assert_str_eq(cover(wb, "报告期间"), "2025");
	/* by month: March as the store has it, and the months add up */
	r = table_at(sh, "按月份");
	ck_assert_str_eq(text(sh, r + 3, 0), "2025-03");
	ck_assert_int_eq(num(sh, r + 3, 1), q1("SELECT count(*) FROM issuance i WHERE ?1 IS NULL"
					       " AND " IN(T_ISSUE, "%Y-%m"), NULL, "2025-03"));
	{
		long long sum = 0;

		for (i = 1; i <= 12; i++)
			sum += num(sh, r + i, 1);
		ck_assert_str_eq(text(sh, r + 13, 0), "合计");
		ck_assert_int_eq(sum, tot_issued);
	}
	/* CRLs: each issuer's count in the year */
	sh = sheet(wb, "证书撤销列表");
	for (r = 1; *text(sh, r, 0); r++)
		ck_assert_int_eq(num(sh, r, 1), q1("SELECT count(*) FROM crl WHERE issuer = ?1 AND "
						   IN("this_update", "%Y"), text(sh, r, 0), "2025"));
	ck_assert_int_gt(r, 1);
	json_decref(wb);
	/* the PDF says what it is and carries the figure */
	free(x);
	x = tu_fmt("%s/out/annual-2025.pdf", tmp);
	o = tu_run("pdftotext -layout '%s' -", x);
	ck_assert_int_eq(o.status, 0);
	ck_assert_msg(strstr(o.out, "年度报告"), "%s", o.out);
	{
		char *line = strstr(o.out, "签发证书");

		ck_assert_ptr_nonnull(line);
		line += strlen("签发证书");
		while (*line == ' ')
			line++;
		ck_assert_msg(!strncmp(line, want, strlen(want)), "签发证书 %.20s, want %s", line, want);
	}
	tu_out_free(&o);
	free(want);
	free(x);
}
END_TEST

START_TEST(annual_warns_when_late)
{
	struct tu_out o = report("2026-02-02", "annual --period 2025 --format xlsx,pdf");
	char *x = tu_fmt("%s/out/annual-2025.xlsx", tmp);
	json_t *wb;
	size_t r, n;
	int found = 0;

	run_ok("late annual", &o, 0);
	ck_assert_msg(strstr(o.err, "warning: annual report for '2025' made on 2026-02-02,"
			     " after the deadline of 2026-01-31"), "%s", o.err);
	tu_out_free(&o);
	wb = dump(x);
	n = json_array_size(json_object_get(sheet(wb, "概要"), "rows"));
	for (r = 0; r < n; r++)
		found |= strstr(text(sheet(wb, "概要"), r, 0), REPORT_ANNUAL_LATE) != NULL;
	ck_assert_msg(found, "no late warning on the cover");
	json_decref(wb);
	o = tu_run("pdftotext '%s/out/annual-2025.pdf' -", tmp);
	ck_assert_msg(strstr(o.out, REPORT_ANNUAL_LATE), "%s", o.out);
	tu_out_free(&o);
	/* on the last day it is on time */
	o = report("2026-01-31", "annual --period 2025 --format xlsx,pdf");
	run_ok("annual on time", &o, 0);
	ck_assert_msg(!strstr(o.err, "deadline"), "%s", o.err);
	tu_out_free(&o);
	o = tu_run("pdftotext '%s/out/annual-2025.pdf' -", tmp);
	ck_assert_msg(!strstr(o.out, REPORT_ANNUAL_LATE), "%s", o.out);
	tu_out_free(&o);
	free(x);
}
END_TEST

static const char *sector_code(const char *label)
{
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(sectors[i][1], label))
			return sectors[i][0];
	ck_abort_msg("unknown sector label '%s'", label);
	return NULL;
}

START_TEST(monthly_figures_and_csv)
{
	struct tu_out o = report("2026-01-15", "monthly --period 2025-07 --format xlsx,pdf,csv");
	char *x = tu_fmt("%s/out/monthly-2025-07.xlsx", tmp), *csv, *line, *save = NULL;
	json_t *wb, *sh;
	size_t r, len, rows = 0;
	long long issued = 0;

	run_ok("report monthly", &o, 0);
	ck_assert_msg(strstr(o.out, "monthly-2025-07.csv"), "%s", o.out);
	tu_out_free(&o);
	wb = dump(x);
	sh = sheet(wb, "月度统计");
	r = table_at(sh, "按证书类型和业务类别");
	ck_assert_str_eq(text(sh, r, 0), "证书类型");
	for (r++; strcmp(text(sh, r, 0), "合计"); r++) {
		char *key = tu_fmt("%s|%s", text(sh, r, 0), sector_code(text(sh, r, 1)));

		ck_assert_int_eq(num(sh, r, 2),
				 q1("SELECT count(*) FROM issuance i WHERE cert_type || '|' || sector"
				    " = ?1 AND " IN(T_ISSUE, "%Y-%m"), key, "2025-07"));
		ck_assert_int_eq(num(sh, r, 4),
				 q1("SELECT count(*) FROM issuance i WHERE cert_type || '|' || sector"
				    " = ?1 AND " IN(T_REV, "%Y-%m"), key, "2025-07"));
		ck_assert_int_eq(num(sh, r, 5),
				 q1("SELECT count(*) FROM issuance i WHERE cert_type || '|' || sector"
				    " = ?1 AND not_before <= ?2 AND not_after > ?2 AND (" T_REV
				    " IS NULL OR " T_REV " > ?2)", key, "2025-07-31 16:00:00"));
		issued += num(sh, r, 2);
		free(key);
	}
	ck_assert_int_eq(num(sh, r, 2), issued);
	ck_assert_int_eq(issued, q1("SELECT count(*) FROM issuance i WHERE ?1 IS NULL AND "
				    IN(T_ISSUE, "%Y-%m"), NULL, "2025-07"));
	/* the CSV: BOM, header, then the XLSX's rows cell for cell */
	free(x);
	x = tu_fmt("%s/out/monthly-2025-07.csv", tmp);
	csv = tu_read(x, &len);
	ck_assert_ptr_nonnull(csv);
	ck_assert_msg(!memcmp(csv, "\xEF\xBB\xBF", 3), "no BOM");
	r = table_at(sh, "按证书类型和业务类别");
	for (line = strtok_r(csv + 3, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *f, *rest = line;
		size_t c = 0;

		/* strsep keeps the empty fields (the total row has one) */
		for (f = strsep(&rest, ","); f; f = strsep(&rest, ","), c++) {
			json_t *v = cell(sh, r + rows, c);
			char *want = json_is_number(v) ? tu_fmt("%.0f", json_number_value(v))
						       : strdup(text(sh, r + rows, c));

			ck_assert_msg(!strcmp(f, want), "csv row %zu col %zu: '%s', xlsx '%s'", rows,
				      c, f, want);
			free(want);
		}
		rows++;
	}
	ck_assert_str_eq(text(sh, r + rows - 1, 0), "合计");
	ck_assert_str_eq(text(sh, r + rows, 0), "");
	free(csv);
	json_decref(wb);
	o = tu_run("pdftotext -layout '%s/out/monthly-2025-07.pdf' -", tmp);
	ck_assert_msg(strstr(o.out, "月度统计") && strstr(o.out, "2025-07"), "%s", o.out);
	tu_out_free(&o);
	free(x);
}
END_TEST

START_TEST(monthly_defaults_to_last_month)
{
	struct tu_out o = report("2026-01-15", "monthly --format xlsx");
	char *want = tu_fmt("%s/out/monthly-2025-12.xlsx\n", tmp);

	run_ok("monthly default", &o, 0);
	ck_assert_str_eq(o.out, want);
	tu_out_free(&o);
	free(want);
	/* csv is for the monthly report only */
	o = report("2026-01-15", "annual --format csv");
	ck_assert_int_eq(o.status, 64);
	ck_assert_msg(strstr(o.err, "format 'csv' is only for the monthly report"), "%s", o.err);
	tu_out_free(&o);
	o = report("2026-01-15", "monthly --period 2025-02-30..2025-03-01");
	ck_assert_int_eq(o.status, 64);
	ck_assert_msg(strstr(o.err, "--period expects"), "%s", o.err);
	tu_out_free(&o);
}
END_TEST

START_TEST(rectification_due_dates_and_counts)
{
	struct tu_out o = report("2026-01-15", "rectification --format xlsx,pdf");
	char *x = tu_fmt("%s/out/rectification-2026-01-15.xlsx", tmp), *path;
	struct checklist *cl = NULL;
	struct err e = {0};
	json_t *wb, *sh;
	size_t r, tasks = 0;

	run_ok("report rectification", &o, 0);
	tu_out_free(&o);
	path = tu_fmt("%s/rules/miit-2022.yaml", tu_root());
	ck_assert_msg(rules_load(path, &cl, NULL, &e) == 0, "%s", e.msg);
	wb = dump(x);
	sh = sheet(wb, "整改方案");
	r = table_at(sh, "整改任务");
	ck_assert_str_eq(text(sh, r, 7), "完成期限");
	for (r++; *text(sh, r, 0); r++, tasks++) {
		const char *item = text(sh, r, 1);
		const struct rule_item *it = NULL;
		char due[11];

		for (size_t i = 0; i < cl->n_items; i++)
			if (!strcmp(cl->items[i].id, item))
				it = &cl->items[i];
		ck_assert_ptr_nonnull(it);
		ck_assert_int_gt(it->due_workdays, 0);
		ck_assert_int_eq(workdays_add("2026-01-15", (int)it->due_workdays, due), 0);
		ck_assert_msg(!strncmp(text(sh, r, 7), due, 10), "%s: due %s, want %s", item,
			      text(sh, r, 7), due);
		ck_assert_str_eq(text(sh, r, 6), "合规部");
		ck_assert_str_eq(text(sh, r, 5), it->measures);
		ck_assert_int_eq(num(sh, r, 4),
				 q1("SELECT count(*) FROM finding WHERE run = (SELECT max(id) FROM run)"
				    " AND item = ?1 AND status IN ('new', 'open') AND ?2 IS NULL",
				    item, NULL));
	}
	ck_assert_int_eq(tasks, q1("SELECT count(*) FROM item_result WHERE result = 'fail'"
				   " AND ?1 IS NULL", NULL, NULL));
	ck_assert_int_gt(tasks, 0);
	/* every finding of the run in the detail sheet */
	ck_assert_int_eq(json_integer_value(json_object_get(sheet(wb, "问题整改明细"), "max_row")) - 1,
			 q1("SELECT count(*) FROM finding WHERE ?1 IS NULL", NULL, NULL));
	json_decref(wb);
	o = tu_run("pdftotext '%s/out/rectification-2026-01-15.pdf' -", tmp);
	ck_assert_msg(strstr(o.out, "整改方案") && strstr(o.out, "合规部"), "%s", o.out);
	tu_out_free(&o);
	checklist_free(cl);
	free(path);
	free(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reports_more");
	TCase *tc = tcase_create("reports_more");
	int failed;

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, annual_figures_match_the_store);
	tcase_add_test(tc, annual_warns_when_late);
	tcase_add_test(tc, monthly_figures_and_csv);
	tcase_add_test(tc, monthly_defaults_to_last_month);
	tcase_add_test(tc, rectification_due_dates_and_counts);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
