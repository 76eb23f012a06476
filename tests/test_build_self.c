/*
 * test_build_self.c — the self-inspection builder on a hand-made store: runs,
 * item results, findings, sources and rejects are inserted with SQL, the
 * document is written as XLSX and read back, and the counts, labels and
 * masking are checked against what was inserted.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "builders.h"
#include "config.h"
#include "mask.h"
#include "store.h"
#include "testutil.h"
#include "xlsx.h"

#define NFINDINGS 250
#define NREJECTS 310

static char *tmp;
static struct store *st;
static struct config *cfg;

static void exec(const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(store_db(st), sql, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", sql, msg ? msg : "");
}

static void setup(void)
{
	struct err e = {0};
	char *path;

	tmp = tu_tmpdir("build-self");
	path = tu_fmt("%s/store.db", tmp);
	ck_assert_msg(store_open(path, 0, &st, &e) == 0, "%s", e.msg);
	free(path);
	cfg = config_default();
	free(cfg->ca_name);
	cfg->ca_name = strdup("示例电子认证服务有限公司");
}

static void teardown(void)
{
	store_close(st);
	config_free(cfg);
	tu_rmdir(tmp);
	free(tmp);
}

/* Two runs; the report must show only the second (latest). */
static void fill_store(void)
{
	char *sql;

	exec("INSERT INTO run(id, started_at, as_of, checklists) VALUES"
	     " (1, '2025-01-01 01:00:00', '2025-01-01', 'miit-2022'),"
	     " (2, '2025-03-01 02:00:00', '2025-03-01', 'miit-2022')");
	exec("INSERT INTO item_result(run, checklist, item, title, kind, basis, method,"
	     " checked, violations, result) VALUES"
	     " (1, 'miit-2022', '1.1', 'old', 'check', '[]', 'sql', 1, 1, 'fail'),"
	     " (2, 'miit-2022', '1.1', '身份查验', 'check',"
	     "  '[\"《电子签名法》第二十条\",\"《管理办法》第三十条\"]', '查询', 100, 250, 'fail'),"
	     " (2, 'miit-2022', '1.2', '审核', 'check', '[]', '查询', 100, 0, 'pass'),"
	     " (2, 'miit-2022', '1.3', '一致性', 'check', '[]', '查询', 100, 0, 'pass'),"
	     " (2, 'miit-2022', '4.1', '投诉处理', 'manual', '[]', '人工', NULL, NULL, 'manual'),"
	     " (2, 'egov-2009', '6', '国密算法', 'check', '[]', '查询', 0, 0, 'na')");
	exec("INSERT INTO attestation(checklist, item, result, note, by, at) VALUES"
	     " ('miit-2022', '4.1', 'pass', '已建立投诉处理制度', '合规部', '2025-02-01')");
	exec("INSERT INTO finding(run, checklist, item, key, severity, message, evidence,"
	     " status, first_seen, last_seen) VALUES (1, 'miit-2022', '1.1', 'serial:00',"
	     " 'high', 'old', '{}', 'open', '2025-01-01', '2025-01-01')");
	sql = tu_fmt("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
		     " INSERT INTO finding(run, checklist, item, key, severity, message, evidence,"
		     " status, first_seen, last_seen)"
		     " SELECT 2, 'miit-2022', '1.1', printf('serial:%%04X', i), 'high',"
		     " '签发前未完成身份查验',"
		     " json_object('serial', printf('%%04X', i), 'applicant_name', '张三丰',"
		     "  'applicant_id', '110101199003071234', 'n', i, 't_identity', NULL),"
		     " CASE WHEN i %% 5 = 0 THEN 'new' ELSE 'open' END, '2025-01-01', '2025-03-01'"
		     " FROM n", NFINDINGS);
	exec(sql);
	free(sql);
	exec("INSERT INTO source_file(path, kind, type, size, sha256, records, rejects) VALUES"
	     " ('logs/ra-2025.jsonl', 'events', 'jsonl', 1000, 'ab12', 500, 310),"
	     " ('ca/index.txt', 'certificates', 'openssl-index', 200, 'cd34', 100, 0)");
	sql = tu_fmt("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
		     " INSERT INTO reject(source, line, reason) SELECT 'logs/ra-2025.jsonl', i,"
		     " 'bad json' FROM n", NREJECTS);
	exec(sql);
	free(sql);
}

static json_t *dump(const char *path)
{
	struct tu_out o = tu_run("python3 '%s/tests/xlsx_dump.py' '%s'", tu_root(), path);
	json_error_t je;
	json_t *j;

	ck_assert_msg(o.status == 0, "xlsx_dump failed: %s", o.err);
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

static const char *str_at(json_t *sh, size_t row, size_t col)
{
	json_t *c = json_array_get(json_array_get(json_object_get(sh, "rows"), row), col);
	const char *s = json_is_array(c) ? json_string_value(json_array_get(c, 1)) : NULL;

	return s ? s : "";
}

/* The value beside key in column A of the cover (the first match). */
static const char *cover_value(json_t *cover, const char *key)
{
	size_t n = json_array_size(json_object_get(cover, "rows"));

	for (size_t r = 0; r < n; r++)
		if (!strcmp(str_at(cover, r, 0), key))
			return str_at(cover, r, 1);
	ck_abort_msg("no '%s' on the cover", key);
	return NULL;
}

static json_t *build_and_dump(int reveal)
{
	struct err e = {0};
	struct rm_doc *d = build_self_inspection(st, cfg, "2025-03-01", "2025", reveal, &e);
	char *path = tu_fmt("%s/self-%d.xlsx", tmp, reveal);
	json_t *wb;

	ck_assert_msg(d != NULL, "%s", e.msg);
	ck_assert_msg(xlsx_write(d, path, &e) == 0, "%s", e.msg);
	report_doc_free(d);
	wb = dump(path);
	free(path);
	return wb;
}

START_TEST(summary_counts_equal_inserted_rows)
{
	json_t *wb, *cover, *rec, *fin, *prov;
	char *n;

	fill_store();
	wb = build_and_dump(0);
	cover = sheet(wb, "概要");
	ck_assert_str_eq(str_at(cover, 0, 0), "自查报告");
	ck_assert_str_eq(cover_value(cover, "机构名称"), "示例电子认证服务有限公司");
	ck_assert_str_eq(cover_value(cover, "报告期间"), "2025");
	ck_assert_str_eq(cover_value(cover, "截止日期"), "2025-03-01");
	ck_assert_str_eq(cover_value(cover, "检查批次"), "2");
	ck_assert_str_eq(cover_value(cover, "检查项"), "5");
	ck_assert_str_eq(cover_value(cover, "符合"), "2");
	ck_assert_str_eq(cover_value(cover, "不符合"), "1");
	ck_assert_str_eq(cover_value(cover, "人工核查"), "1");
	ck_assert_str_eq(cover_value(cover, "不适用"), "1");
	ck_assert_str_eq(cover_value(cover, "检查出错"), "0");
	n = tu_fmt("%d", NFINDINGS);
	ck_assert_str_eq(cover_value(cover, "问题"), n);
	free(n);
	n = tu_fmt("%d", NFINDINGS / 5);
	ck_assert_str_eq(cover_value(cover, "问题（新发现）"), n);
	free(n);
	n = tu_fmt("%d", NREJECTS);
	ck_assert_str_eq(cover_value(cover, "拒收记录数"), n);
	free(n);
	ck_assert_str_eq(cover_value(cover, "源文件数"), "2");

	rec = sheet(wb, "检查记录表");
	/* two tables on the sheet: each under its title */
	ck_assert_str_eq(str_at(rec, 0, 0), "检查记录表");
	ck_assert_str_eq(str_at(rec, 1, 0), "检查清单");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "freeze")), "A3");
	ck_assert_str_eq(str_at(rec, 2, 2), "身份查验");
	ck_assert_str_eq(str_at(rec, 2, 3), "《电子签名法》第二十条；《管理办法》第三十条");
	ck_assert_str_eq(str_at(rec, 2, 7), "不符合");
	ck_assert_str_eq(str_at(rec, 3, 7), "符合");
	ck_assert_str_eq(str_at(rec, 5, 7), "人工核查");
	ck_assert_str_eq(str_at(rec, 6, 7), "不适用");
	/* the manual item's attestation, below the record table */
	ck_assert_str_eq(str_at(rec, 8, 0), "人工核查项");
	ck_assert_str_eq(str_at(rec, 10, 3), "符合");
	ck_assert_str_eq(str_at(rec, 10, 4), "已建立投诉处理制度");

	fin = sheet(wb, "问题明细");
	ck_assert_int_eq(json_integer_value(json_object_get(fin, "max_row")), NFINDINGS + 1);
	ck_assert_str_eq(str_at(fin, 1, 2), "serial:0001");
	ck_assert_str_eq(str_at(fin, 1, 3), "高");
	ck_assert_str_eq(str_at(fin, 1, 4), "未整改");
	ck_assert_str_eq(str_at(fin, 1, 8),
			 "serial=0001; applicant_name=张**; applicant_id=1101**********1234;"
			 " n=1; t_identity=");

	prov = sheet(wb, "数据来源");
	ck_assert_str_eq(str_at(prov, 0, 0), "源文件");
	ck_assert_str_eq(str_at(prov, 1, 0), "文件");
	ck_assert_str_eq(str_at(prov, 2, 0), "ca/index.txt");
	ck_assert_str_eq(str_at(prov, 3, 3), "ab12");
	/* the listed rejects stop at the limit */
	ck_assert_str_eq(str_at(prov, 5, 0), "拒收记录");
	ck_assert_str_eq(str_at(prov, 7, 2), "bad json");
	ck_assert_int_eq(json_integer_value(json_object_get(prov, "max_row")),
			 7 + REPORT_REJECTS_LISTED);
	json_decref(wb);
}
END_TEST

START_TEST(reveal_shows_personal_data)
{
	json_t *wb, *fin;

	fill_store();
	wb = build_and_dump(1);
	fin = sheet(wb, "问题明细");
	ck_assert_str_eq(str_at(fin, 2, 8),
			 "serial=0002; applicant_name=张三丰; applicant_id=110101199003071234;"
			 " n=2; t_identity=");
	json_decref(wb);
}
END_TEST

START_TEST(no_run_is_an_error)
{
	struct err e = {0};
	struct rm_doc *d = build_self_inspection(st, cfg, "2025-03-01", NULL, 0, &e);

	ck_assert_ptr_null(d);
	ck_assert_str_eq(e.msg, "no check results in the store: run 'ca-audit check' first");
}
END_TEST

START_TEST(no_findings_says_so)
{
	json_t *wb, *cover;

	exec("INSERT INTO run(id, started_at) VALUES (1, '2025-03-01 02:00:00')");
	exec("INSERT INTO item_result(run, checklist, item, title, kind, basis, checked,"
	     " violations, result) VALUES (1, 'miit-2022', '1.1', 't', 'check', '[]', 3, 0,"
	     " 'pass')");
	wb = build_and_dump(0);
	cover = sheet(wb, "概要");
	ck_assert_str_eq(cover_value(cover, "问题"), "0");
	ck_assert_str_eq(cover_value(cover, "报告期间"), "2025");
	ck_assert_int_eq(json_array_size(json_object_get(wb, "sheets")), 3);
	json_decref(wb);
}
END_TEST

/* Evidence as the engine may write it, and as it should never be but a
 * store may still hold: every text is shown as jansson reads it. */
static const char *const evidence_cases[] = {
	"{\"serial\":\"01\",\"cn\":\"张三\",\"id_number\":\"110101199003071234\"}",
	"{}", " { } ", "{\"a\":null}", "{ \"cn\" : \"李四\" ,\n \"n\" : 5 }\n",
	"{\"subject\":\"CN=张三\\\\,x,serialNumber=110101199003071234\","
	" \"note\":\"a\\\"b\\\\c\\/d\\n\\t\\b\\f\\r\"}",
	"{\"cn\":\"\\u5f20\\u4e09\"}", "{\"c\\u006e\":\"张三\"}", "{\"a\\\"b\":1}",
	"{\"x\":1.5,\"y\":1e3,\"z\":-0,\"w\":-0.0,\"v\":2E-2}",
	"{\"z\":-0}", "{\"z\":-01}", "{\"z\":0,\"y\":5e}",
	"{\"n\":12345678901234567890}", "{\"n\":123456789012345678,\"m\":-12,\"o\":0}",
	"{\"id\":12345678901,\"applicant_id\":-1234567890}",
	"{\"t\":true,\"f\":false,\"cn\":true}", "{\"a\":[1,\"张三\"],\"b\":{\"cn\":\"d\"}}",
	"{\"cn\":\"甲\",\"cn\":\"乙乙乙\"}", "{\"a\":1}x", "{\"a\":1,}", "{\"a\":01}",
	"{\"a\":tru}", "{\"a\":truex}", "{\"a\":1 2}", "{\"a\":1 \"b\":2}", "{\"a\":\"x\"\"b\":2}", "{\"a\" 1}", "{\"a\":-}", "{\"a\":1.}",
	"[1,2]", "\"张三\"", "nul", "", "{", "{\"a\":\"b",
	"{\"cn\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
	"{\"cn\":\"\xe5\xbc\"}", "{\"cn\":\"\xf0\x9f\x98\x80张\"}", "{\"a\":\"x\ty\"}",
	"{\"a\":\"\x7f\"}", "{\"\":\"v\"}", "{\"a\":\"\\x\"}",
	"{\"applicant_name\":\"欧阳娜娜\",\"recipient_id\":\"A1234567\",\"ID\":\"abc\","
	" \"Subject\":\"CN=王五,O=示例\",\"recipient_name\":\"\"}",
};

/* The evidence text as the builder always made it: jansson, then mask_field
 * per value. */
static char *reference_evidence(const char *json, int reveal)
{
	json_t *obj = json_loads(json, 0, NULL), *v;
	char *out = strdup(""), *next;
	const char *k;
	int first = 1;

	if (!json_is_object(obj)) {
		json_decref(obj);
		free(out);
		return strdup(reveal ? json : "（证据无法解析）");
	}
	json_object_foreach(obj, k, v) {
		char *text = json_is_string(v) ? strdup(json_string_value(v))
			     : json_is_null(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		char *shown = text && !reveal ? mask_field(k, text) : NULL;

		next = tu_fmt("%s%s%s=%s", out, first ? "" : "; ", k,
			      shown ? shown : text ? text : "");
		free(out);
		out = next;
		free(text);
		free(shown);
		first = 0;
	}
	json_decref(obj);
	return out;
}

/* The streamed findings table of a self-inspection document. */
static struct rm_table *findings_table(struct rm_doc *d)
{
	for (size_t i = 0; i < d->nsections; i++)
		for (size_t j = 0; j < d->sections[i].nblocks; j++) {
			struct rm_block *b = &d->sections[i].blocks[j];

			if (b->kind == RM_TABLE && b->table->detail &&
			    !strcmp(b->table->title, "问题明细"))
				return b->table;
		}
	ck_abort_msg("no findings table");
	return NULL;
}

START_TEST(evidence_reads_as_jansson_does)
{
	size_t n = sizeof(evidence_cases) / sizeof(*evidence_cases), seen;
	sqlite3_stmt *q;

	exec("INSERT INTO run(id, started_at) VALUES (1, '2025-03-01 02:00:00')");
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), "INSERT INTO finding(run, checklist,"
					    " item, key, evidence) VALUES (1, 'miit-2022', '1.1',"
					    " printf('k%03d', ?1), ?2)", -1, &q, NULL), SQLITE_OK);
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(q, 1, (sqlite3_int64)i);
		sqlite3_bind_text(q, 2, evidence_cases[i], -1, SQLITE_STATIC);
		ck_assert_int_eq(sqlite3_step(q), SQLITE_DONE);
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	for (int reveal = 0; reveal < 2; reveal++) {
		struct err e = {0};
		struct rm_doc *d = build_self_inspection(st, cfg, "2025-03-01", NULL, reveal, &e);
		struct rm_cell cells[9];
		struct rm_iter it;

		ck_assert_msg(d != NULL, "%s", e.msg);
		rm_iter_start(&it, findings_table(d));
		for (seen = 0; rm_iter_next(&it, cells) == 1; seen++) {
			size_t i = (size_t)atoi(cells[2].text + 1);
			char *want = reference_evidence(evidence_cases[i], reveal);

			ck_assert_msg(!strcmp(cells[8].text, want), "evidence %zu '%s' (reveal %d):"
				      " '%s', want '%s'", i, evidence_cases[i], reveal,
				      cells[8].text, want);
			free(want);
		}
		ck_assert_uint_eq(seen, n);
		report_doc_free(d);
	}
}
END_TEST

/* The value beside key in the document's key/value blocks. */
static const char *doc_kv(const struct rm_doc *d, const char *key)
{
	for (size_t i = 0; i < d->nsections; i++)
		for (size_t j = 0; j < d->sections[i].nblocks; j++) {
			const struct rm_block *b = &d->sections[i].blocks[j];

			for (size_t k = 0; b->kind == RM_KV && k < b->nkv; k++)
				if (!strcmp(b->keys[k], key))
					return b->values[k];
		}
	ck_abort_msg("no '%s' in the document", key);
	return NULL;
}

/* The report lists run 3's findings in (checklist, item, key) order with
 * their counts by status, however the store's rows lie: inserted in that
 * order, in reverse, with other runs' rows among them or far apart. */
static void check_order_and_counts(void)
{
	static const char *const statuses[] = {"new", "open", "waived", "fixed"};
	static const char *const labels[] = {"问题（新发现）", "问题（未整改）", "问题（已豁免）",
					     "问题（已整改）"};
	struct err e = {0};
	struct rm_doc *d = build_self_inspection(st, cfg, "2025-03-01", NULL, 0, &e);
	struct rm_cell cells[9];
	struct rm_iter it;
	sqlite3_stmt *q;
	int rc;

	ck_assert_msg(d != NULL, "%s", e.msg);
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), "SELECT checklist, item, key FROM"
					    " finding WHERE run = 3 ORDER BY checklist, item, key",
					    -1, &q, NULL), SQLITE_OK);
	rm_iter_start(&it, findings_table(d));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ck_assert_int_eq(rm_iter_next(&it, cells), 1);
		for (int c = 0; c < 3; c++)
			ck_assert_str_eq(cells[c].text, (const char *)sqlite3_column_text(q, c));
	}
	ck_assert_int_eq(rc, SQLITE_DONE);
	ck_assert_int_eq(rm_iter_next(&it, cells), 0);
	sqlite3_finalize(q);
	for (size_t i = 0; i < 4; i++) {
		char *sql = tu_fmt("SELECT count(*) FROM finding WHERE run = 3 AND status = '%s'",
				   statuses[i]);
		char *want;

		ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
		want = tu_fmt("%lld", (long long)sqlite3_column_int64(q, 0));
		ck_assert_str_eq(doc_kv(d, labels[i]), want);
		free(want);
		free(sql);
		sqlite3_finalize(q);
	}
	report_doc_free(d);
}

/* Inserts findings of run for i in [from, to] stepping by step, keys spread
 * over two checklists and items so that order is not insertion order. */
static void insert_run(int run, int from, int to, int step)
{
	char *sql = tu_fmt("WITH RECURSIVE n(i) AS (SELECT %d UNION ALL SELECT i + %d FROM n"
			   " WHERE i + %d BETWEEN min(%d, %d) AND max(%d, %d))"
			   " INSERT INTO finding(run, checklist, item, key, status, first_seen,"
			   " last_seen, evidence) SELECT %d, CASE WHEN i %% 3 = 0 THEN 'egov-2009'"
			   " ELSE 'miit-2022' END, '1.' || (i %% 2), printf('serial:%%05d', i),"
			   " CASE i %% 4 WHEN 0 THEN 'new' WHEN 1 THEN 'open' WHEN 2 THEN 'waived'"
			   " ELSE 'fixed' END, '2025-01-01', '2025-03-01', json_object('n', i)"
			   " FROM n", from, step, step, from, to, from, to, run);

	exec(sql);
	free(sql);
}

START_TEST(findings_in_order_however_stored)
{
	exec("INSERT INTO run(id, started_at) VALUES (1, '2025-01-01 02:00:00'),"
	     " (2, '2025-02-01 02:00:00'), (3, '2025-03-01 02:00:00')");
	/* in report order already: checklist, item, key ascending */
	exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
	     " INSERT INTO finding(run, checklist, item, key, status) SELECT 3, 'miit-2022',"
	     " '1.1', printf('serial:%05d', i), CASE WHEN i % 7 = 0 THEN 'new' ELSE 'open' END"
	     " FROM n");
	check_order_and_counts();
	/* the same with another run's rows inside the run's range */
	exec("INSERT INTO finding(run, checklist, item, key, status) SELECT 1, checklist,"
	     " item, key, 'waived' FROM finding WHERE key < 'serial:00100'");
	exec("WITH RECURSIVE n(i) AS (SELECT 301 UNION ALL SELECT i + 1 FROM n WHERE i < 340)"
	     " INSERT INTO finding(run, checklist, item, key, status) SELECT 3, 'miit-2022',"
	     " '1.1', printf('serial:%05d', i), 'new' FROM n");
	check_order_and_counts();
	/* other runs' rows inside the run's range, fewer than its own */
	exec("DELETE FROM finding");
	insert_run(3, 1, 100, 1);
	insert_run(1, 1, 50, 1);
	insert_run(3, 101, 300, 1);
	check_order_and_counts();
	/* in reverse */
	exec("DELETE FROM finding");
	insert_run(3, 300, 1, -1);
	check_order_and_counts();
	/* far apart: many rows of other runs between the run's */
	exec("DELETE FROM finding");
	insert_run(3, 1, 10, 1);
	insert_run(2, 1, 1000, 1);
	insert_run(3, 11, 20, 1);
	check_order_and_counts();
	/* sorted, yet far apart */
	exec("DELETE FROM finding");
	exec("INSERT INTO finding(run, checklist, item, key, status) VALUES"
	     " (3, 'a', '1', 'k1', 'new')");
	insert_run(2, 1, 1000, 1);
	exec("INSERT INTO finding(run, checklist, item, key, status) VALUES"
	     " (3, 'b', '1', 'k2', 'fixed')");
	check_order_and_counts();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("build_self");
	TCase *tc = tcase_create("build_self");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, summary_counts_equal_inserted_rows);
	tcase_add_test(tc, reveal_shows_personal_data);
	tcase_add_test(tc, no_run_is_an_error);
	tcase_add_test(tc, no_findings_says_so);
	tcase_add_test(tc, evidence_reads_as_jansson_does);
	tcase_add_test(tc, findings_in_order_however_stored);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
