/*
 * build_self.c — the self-inspection report (自查报告, DESIGN §10) from the
 * latest check run: the inspection record (检查记录表) with one row per item,
 * the run's findings (问题明细) streamed from SQLite so that a million
 * findings never sit in memory, manual items with their attestations, and
 * the provenance. Evidence is stored unmasked; masking happens here, per
 * field, unless reveal.
 */
#include "builders.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mask.h"

/* A growing text buffer. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static int sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p)
			return -1;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static int sbuf_str(struct sbuf *b, const char *s)
{
	return sbuf_add(b, s, strlen(s));
}

static const char *self_label(const char *v, const char *const map[][2])
{
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; map[i][0]; i++)
		if (!strcmp(v, map[i][0]))
			return map[i][1];
	return v;
}

static const char *const self_results[][2] = {
	{"pass", "符合"}, {"fail", "不符合"}, {"manual", "人工核查"},
	{"na", "不适用"}, {"error", "检查出错"}, {NULL, NULL}};
static const char *const self_severities[][2] = {
	{"critical", "严重"}, {"high", "高"}, {"medium", "中"}, {"low", "低"},
	{"info", "提示"}, {NULL, NULL}};
static const char *const self_statuses[][2] = {
	{"new", "新发现"}, {"open", "未整改"}, {"waived", "已豁免"},
	{"fixed", "已整改"}, {NULL, NULL}};

/* The evidence object as "k=v; k=v", personal fields masked unless reveal. */
static int self_evidence(struct sbuf *b, const char *json, int reveal)
{
	json_error_t je;
	json_t *obj = json_loads(json, 0, &je), *v;
	const char *k;
	int rc = 0, first = 1;

	b->len = 0;
	if (sbuf_str(b, "") < 0)
		return -1;
	if (!json_is_object(obj)) {
		json_decref(obj);
		/* Unreadable evidence may still hold personal data. */
		return sbuf_str(b, reveal ? json : "（证据无法解析）");
	}
	json_object_foreach(obj, k, v) {
		char *text = NULL, *shown = NULL;

		if (json_is_string(v))
			text = strdup(json_string_value(v));
		else if (!json_is_null(v))
			text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text && !reveal)
			shown = mask_field(k, text);
		if ((!json_is_null(v) && !text) || (text && !reveal && !shown) ||
		    (!first && sbuf_str(b, "; ") < 0) || sbuf_str(b, k) < 0 ||
		    sbuf_str(b, "=") < 0 ||
		    sbuf_str(b, shown ? shown : text ? text : "") < 0)
			rc = -1;
		free(text);
		free(shown);
		first = 0;
		if (rc)
			break;
	}
	json_decref(obj);
	return rc;
}

/* The row source of the findings table. */
struct self_stream {
	sqlite3_stmt *st;
	int reveal;
	struct sbuf evidence;
};

static int self_next(void *ctx, struct rm_cell *cells)
{
	struct self_stream *s = ctx;
	int rc = sqlite3_step(s->st), i;

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		warnf("reading findings: %s", sqlite3_errmsg(sqlite3_db_handle(s->st)));
		return -1;
	}
	for (i = 0; i < 8; i++)
		cells[i].text = (const char *)sqlite3_column_text(s->st, i);
	cells[3].text = self_label(cells[3].text, self_severities);
	cells[4].text = self_label(cells[4].text, self_statuses);
	if (sqlite3_column_type(s->st, 8) == SQLITE_NULL) {
		cells[8].text = NULL;
	} else {
		if (self_evidence(&s->evidence, (const char *)sqlite3_column_text(s->st, 8),
				  s->reveal) < 0)
			return -1;
		cells[8].text = s->evidence.s;
	}
	return 1;
}

static int self_rewind(void *ctx)
{
	struct self_stream *s = ctx;

	return sqlite3_reset(s->st) == SQLITE_OK ? 0 : -1;
}

static void self_stream_free(void *ctx)
{
	struct self_stream *s = ctx;

	sqlite3_finalize(s->st);
	free(s->evidence.s);
	free(s);
}

static int self_db_error(sqlite3 *db, struct err *e)
{
	return err_set(e, CA_EDB, sqlite3_db_filename(db, "main"), 0, 0,
		       "unable to read the store: %s", sqlite3_errmsg(db));
}

static int self_oom(struct err *e)
{
	return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
}

/* The basis JSON array joined with "；" (the text itself when not an array). */
static char *self_basis(const char *json)
{
	struct sbuf b = {0};
	json_error_t je;
	json_t *arr, *v;
	size_t i;

	if (!json)
		return NULL;
	arr = json_loads(json, 0, &je);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return strdup(json);
	}
	sbuf_str(&b, "");
	json_array_foreach(arr, i, v) {
		if (i)
			sbuf_str(&b, "；");
		if (json_is_string(v))
			sbuf_str(&b, json_string_value(v));
	}
	json_decref(arr);
	return b.s;
}

static int self_record(sqlite3 *db, int64_t run, struct rm_section *s, struct err *e)
{
	static const char *const titles[] = {"检查清单", "编号", "检查项", "检查依据", "检查方法",
					     "检查记录数", "问题数", "结论", "备注"};
	static const enum rm_type types[] = {RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT,
					     RM_INT, RM_INT, RM_TEXT, RM_TEXT};
	struct rm_table *t = rm_table(s, "检查记录表", 9, titles, types);
	sqlite3_stmt *st;
	int rc, bad = 0;

	if (!t)
		return self_oom(e);
	if (sqlite3_prepare_v2(db, "SELECT checklist, item, title, basis, method, checked,"
			       " violations, result, note FROM item_result WHERE run = ?"
			       " ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
		return self_db_error(db, e);
	sqlite3_bind_int64(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !bad) {
		char *basis = self_basis((const char *)sqlite3_column_text(st, 3));
		int i;

		bad = rm_row(t) < 0;
		for (i = 0; i < 9 && !bad; i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);

			if (i == 3)
				v = basis;
			else if (i == 7)
				v = self_label(v, self_results);
			if (types[i] == RM_INT) {
				if (sqlite3_column_type(st, i) != SQLITE_NULL)
					bad = rm_set_num(t, (size_t)i,
							 (double)sqlite3_column_int64(st, i)) < 0;
			} else {
				bad = rm_set_text(t, (size_t)i, v) < 0;
			}
		}
		free(basis);
	}
	sqlite3_finalize(st);
	if (bad)
		return self_oom(e);
	if (rc != SQLITE_DONE)
		return self_db_error(db, e);
	return 0;
}

/* Manual items with the attestation that answers each (or none yet); the
 * table is made on the first such item, as an empty one would only puzzle a
 * reader. */
static int self_manual(sqlite3 *db, int64_t run, struct rm_section *s, struct err *e)
{
	static const char *const titles[] = {"检查清单", "编号", "检查项", "核查结论", "说明",
					     "证明材料", "核查人", "核查日期"};
	static const enum rm_type types[] = {RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT,
					     RM_TEXT, RM_TEXT, RM_DATE};
	struct rm_table *t = NULL;
	sqlite3_stmt *st;
	int rc, bad = 0, i;

	if (sqlite3_prepare_v2(db, "SELECT r.checklist, r.item, r.title,"
			       " coalesce(a.result, '未作答'), a.note, a.evidence, a.by, a.at"
			       " FROM item_result r LEFT JOIN attestation a"
			       " ON a.checklist = r.checklist AND a.item = r.item"
			       " WHERE r.run = ? AND r.kind = 'manual' ORDER BY r.rowid",
			       -1, &st, NULL) != SQLITE_OK)
		return self_db_error(db, e);
	sqlite3_bind_int64(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !bad) {
		if (!t && !(t = rm_table(s, "人工核查项", 8, titles, types))) {
			bad = 1;
			break;
		}
		bad = rm_row(t) < 0;
		for (i = 0; i < 8 && !bad; i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);

			bad = rm_set_text(t, (size_t)i,
					  i == 3 ? self_label(v, self_results) : v) < 0;
		}
	}
	sqlite3_finalize(st);
	if (bad)
		return self_oom(e);
	if (rc != SQLITE_DONE)
		return self_db_error(db, e);
	return 0;
}

static int64_t self_count(sqlite3 *db, const char *sql, int64_t run, struct err *e)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		self_db_error(db, e);
		return -1;
	}
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		self_db_error(db, e);
	sqlite3_finalize(st);
	return n;
}

static int self_kv_num(struct rm_section *s, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return rm_kv(s, key, buf);
}

/* The summary counts: items by result (anything else counts as an error),
 * findings by status. */
static int self_summary(sqlite3 *db, int64_t run, struct rm_section *s,
			int64_t *nfindings, struct err *e)
{
	static const char *const results[] = {"pass", "fail", "manual", "na"};
	static const char *const statuses[] = {"new", "open", "waived", "fixed"};
	int64_t items, k, known = 0;
	char sql[160], key[64];
	size_t i;

	items = self_count(db, "SELECT count(*) FROM item_result WHERE run = ?", run, e);
	if (items < 0 || self_kv_num(s, "检查项", items) < 0)
		return items < 0 ? -1 : self_oom(e);
	for (i = 0; i < sizeof(results) / sizeof(*results); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM item_result WHERE run = ?"
			 " AND result = '%s'", results[i]);
		k = self_count(db, sql, run, e);
		if (k < 0)
			return -1;
		known += k;
		if (self_kv_num(s, self_label(results[i], self_results), k) < 0)
			return self_oom(e);
	}
	if (self_kv_num(s, "检查出错", items - known) < 0)
		return self_oom(e);
	*nfindings = self_count(db, "SELECT count(*) FROM finding WHERE run = ?", run, e);
	if (*nfindings < 0)
		return -1;
	if (self_kv_num(s, "问题", *nfindings) < 0)
		return self_oom(e);
	for (i = 0; i < sizeof(statuses) / sizeof(*statuses); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM finding WHERE run = ?"
			 " AND status = '%s'", statuses[i]);
		k = self_count(db, sql, run, e);
		if (k < 0)
			return -1;
		snprintf(key, sizeof(key), "问题（%s）", self_label(statuses[i], self_statuses));
		if (self_kv_num(s, key, k) < 0)
			return self_oom(e);
	}
	return 0;
}

static int self_findings(struct rm_doc *d, sqlite3 *db, int64_t run, int64_t nfindings,
			 int reveal, struct err *e)
{
	static const char *const titles[] = {"检查清单", "编号", "对象", "严重程度", "状态",
					     "问题描述", "首次发现", "最近发现", "证据"};
	static const enum rm_type types[] = {RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT,
					     RM_TEXT, RM_DATE, RM_DATE, RM_TEXT};
	struct rm_section *s = rm_section(d, "问题明细", NULL);
	struct self_stream *ss;
	struct rm_table *t;

	if (!s)
		return self_oom(e);
	if (nfindings == 0)
		return rm_para(s, "本次检查未发现问题。") < 0 ? self_oom(e) : 0;
	if (rm_para(s, reveal ? "证据中的个人信息未作遮蔽（--reveal）。"
		    : "证据中的姓名和证件号码已作遮蔽。") < 0)
		return self_oom(e);
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return self_oom(e);
	ss->reveal = reveal;
	if (sqlite3_prepare_v2(db, "SELECT checklist, item, key, severity, status, message,"
			       " first_seen, last_seen, evidence FROM finding WHERE run = ?"
			       " ORDER BY checklist, item, key", -1, &ss->st, NULL) != SQLITE_OK) {
		self_db_error(db, e);
		self_stream_free(ss);
		return -1;
	}
	sqlite3_bind_int64(ss->st, 1, run);
	if (report_own(d, ss, self_stream_free) < 0)
		return self_oom(e);
	t = rm_table(s, "问题明细", 9, titles, types);
	if (!t)
		return self_oom(e);
	rm_table_stream(t, self_next, self_rewind, ss);
	rm_table_detail(t, "问题明细");
	return 0;
}

/* The latest run's id and metadata rows for the cover. */
static int64_t self_latest_run(sqlite3 *db, struct rm_doc *d, struct err *e)
{
	sqlite3_stmt *st;
	int64_t run = -1;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id, started_at, checklists, tool_version FROM run"
			       " ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		self_db_error(db, e);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		char buf[32], when[64];
		const char *at = (const char *)sqlite3_column_text(st, 1);
		const char *lists = (const char *)sqlite3_column_text(st, 2);

		run = sqlite3_column_int64(st, 0);
		snprintf(buf, sizeof(buf), "%" PRId64, run);
		snprintf(when, sizeof(when), "%s UTC", at ? at : "");
		if (rm_doc_meta(d, "检查批次", buf) < 0 || rm_doc_meta(d, "检查时间", when) < 0 ||
		    rm_doc_meta(d, "检查清单", lists ? lists : "") < 0) {
			self_oom(e);
			run = -1;
		}
	} else if (rc == SQLITE_DONE) {
		err_set(e, CA_EINPUT, "", 0, 0, REPORT_NO_RUN);
	} else {
		self_db_error(db, e);
	}
	sqlite3_finalize(st);
	return run;
}

struct rm_doc *build_self_inspection(struct store *store, const struct config *cfg,
				     const char *as_of, const char *period,
				     int reveal, struct err *e)
{
	sqlite3 *db = store_db(store);
	struct rm_doc *d = rm_doc_new("自查报告");
	struct rm_section *s;
	int64_t run, nfindings;

	if (!d) {
		self_oom(e);
		return NULL;
	}
	if (report_header(d, cfg, "自查报告", as_of, period, e) < 0)
		goto fail;
	run = self_latest_run(db, d, e);
	if (run < 0)
		goto fail;
	/* The section pointer is used before the next rm_section call moves
	 * the array. */
	s = rm_section(d, "检查记录表", NULL);
	if (!s) {
		self_oom(e);
		goto fail;
	}
	if (self_summary(db, run, s, &nfindings, e) < 0 ||
	    self_record(db, run, s, e) < 0 ||
	    self_manual(db, run, s, e) < 0 ||
	    self_findings(d, db, run, nfindings, reveal, e) < 0 ||
	    report_provenance(d, store, e) < 0)
		goto fail;
	return d;
fail:
	report_doc_free(d);
	return NULL;
}
