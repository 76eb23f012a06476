/*
 * build_self.c — the self-inspection report (自查报告, DESIGN §10) from the
 * latest check run: the inspection record (检查记录表) with one row per item,
 * the run's findings (问题明细) streamed from SQLite so that a million
 * findings never sit in memory, manual items with their attestations, and
 * the provenance. Evidence is stored unmasked; it is masked per field as
 * it is turned into text (evtext.h), unless reveal.
 *
 * A report of a million findings is bound by reading them: the run's rows
 * are located once through its index (self_extent) so that counts, and the
 * findings themselves when rowid order is the report's order, are read as
 * one sequential range, and evidence objects of the shape the engine writes
 * are turned into text without a JSON parser (evtext.c).
 */
#include "builders.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtext.h"
#include "log.h"

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

/* The row source of the findings table. */
struct self_stream {
	sqlite3_stmt *st;
	struct evtext *evidence; /* the current row's evidence as text */
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
		const char *json = (const char *)sqlite3_column_text(s->st, 8);

		/* NULL: out of memory */
		if (!json || !(cells[8].text = evtext_render(s->evidence, json)))
			return -1;
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
	evtext_free(s->evidence);
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
	json_error_t je;
	json_t *arr, *v;
	char *out = NULL;
	size_t i, n = 0;
	FILE *f;

	if (!json)
		return NULL;
	arr = json_loads(json, 0, &je);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return strdup(json);
	}
	if (!(f = open_memstream(&out, &n))) {
		json_decref(arr);
		return NULL;
	}
	json_array_foreach(arr, i, v) {
		if (i)
			fputs("；", f);
		if (json_is_string(v))
			fputs(json_string_value(v), f);
	}
	json_decref(arr);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
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

static int self_kv_num(struct rm_section *s, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return rm_kv(s, key, buf);
}

/* Where a run's findings lie in the table. A run's findings are inserted
 * together, so their rowids normally fill one range: reading the range in
 * rowid order is sequential, where the run's index (run, checklist, item,
 * key) costs one table seek per finding — the bulk of the store's time in a
 * report of a million findings. */
struct self_extent {
	int64_t n;             /* findings of the run */
	int64_t lo, hi;        /* the least and greatest rowid among them */
	int sorted;            /* rowid order is the report's order (checklist, item, key) */
};

/* Fills x in one pass over the run's index, which holds the rowids: no
 * table row is read. */
static int self_extent(sqlite3 *db, int64_t run, struct self_extent *x, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(x, 0, sizeof(*x));
	x->sorted = 1;
	if (sqlite3_prepare_v2(db, "SELECT rowid FROM finding WHERE run = ?"
			       " ORDER BY checklist, item, key", -1, &st, NULL) != SQLITE_OK)
		return self_db_error(db, e);
	sqlite3_bind_int64(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (x->n == 0 || id < x->lo)
			x->lo = id;
		if (x->n > 0 && id <= x->hi)
			x->sorted = 0;
		if (x->n == 0 || id > x->hi)
			x->hi = id;
		x->n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : self_db_error(db, e);
}

/* Whether the run's range is worth scanning: at least half its rows are
 * the run's (other runs' rows in it are read and dropped). */
static int self_dense(const struct self_extent *x)
{
	return x->n > 0 && ((uint64_t)x->hi - (uint64_t)x->lo) / 2 < (uint64_t)x->n;
}

/* Runs sql, "SELECT v, count(*) ... GROUP BY v" with the run as ?1 (and
 * x's range as ?2, ?3 when it takes them): counts[i] for the v equal to
 * names[i], *total for all. */
static int self_group(sqlite3 *db, const char *sql, int64_t run, const struct self_extent *x,
		      const char *const *names, size_t n, int64_t *counts, int64_t *total,
		      struct err *e)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	memset(counts, 0, n * sizeof(*counts));
	*total = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return self_db_error(db, e);
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_bind_parameter_count(st) == 3) {
		sqlite3_bind_int64(st, 2, x->lo);
		sqlite3_bind_int64(st, 3, x->hi);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		*total += sqlite3_column_int64(st, 1);
		for (i = 0; v && i < n; i++)
			if (!strcmp(v, names[i]))
				counts[i] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : self_db_error(db, e);
}

/* The summary counts: items by result (anything else counts as an error),
 * findings by status. */
static int self_summary(sqlite3 *db, int64_t run, struct rm_section *s,
			const struct self_extent *x, struct err *e)
{
	static const char *const results[] = {"pass", "fail", "manual", "na"};
	static const char *const statuses[] = {"new", "open", "waived", "fixed"};
	int64_t items, known = 0, counts[4], total;
	char key[64];
	size_t i;

	if (self_group(db, "SELECT result, count(*) FROM item_result WHERE run = ?1"
		       " GROUP BY result", run, x, results, 4, counts, &items, e) < 0)
		return -1;
	if (self_kv_num(s, "检查项", items) < 0)
		return self_oom(e);
	for (i = 0; i < 4; i++) {
		known += counts[i];
		if (self_kv_num(s, self_label(results[i], self_results), counts[i]) < 0)
			return self_oom(e);
	}
	if (self_kv_num(s, "检查出错", items - known) < 0 || self_kv_num(s, "问题", x->n) < 0)
		return self_oom(e);
	if (x->n > 0 &&
	    self_group(db, self_dense(x)
		       ? "SELECT status, count(*) FROM finding WHERE rowid BETWEEN ?2 AND ?3"
			 " AND +run = ?1 GROUP BY status"
		       : "SELECT status, count(*) FROM finding WHERE run = ?1 GROUP BY status",
		       run, x, statuses, 4, counts, &total, e) < 0)
		return -1;
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "问题（%s）", self_label(statuses[i], self_statuses));
		if (self_kv_num(s, key, x->n > 0 ? counts[i] : 0) < 0)
			return self_oom(e);
	}
	return 0;
}

#define SELF_FINDING_COLUMNS "SELECT checklist, item, key, severity, status, message," \
	" first_seen, last_seen, evidence FROM finding"

static int self_findings(struct rm_doc *d, sqlite3 *db, int64_t run,
			 const struct self_extent *x, int reveal, struct err *e)
{
	static const char *const titles[] = {"检查清单", "编号", "对象", "严重程度", "状态",
					     "问题描述", "首次发现", "最近发现", "证据"};
	static const enum rm_type types[] = {RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT,
					     RM_TEXT, RM_DATE, RM_DATE, RM_TEXT};
	struct rm_section *s = rm_section(d, "问题明细", NULL);
	int by_rowid = x->sorted && self_dense(x);
	struct self_stream *ss;
	struct rm_table *t;

	if (!s)
		return self_oom(e);
	if (x->n == 0)
		return rm_para(s, "本次检查未发现问题。") < 0 ? self_oom(e) : 0;
	if (rm_para(s, reveal ? "证据中的个人信息未作遮蔽（--reveal）。"
		    : "证据中的姓名和证件号码已作遮蔽。") < 0)
		return self_oom(e);
	ss = calloc(1, sizeof(*ss));
	if (!ss || !(ss->evidence = evtext_new(reveal))) {
		free(ss);
		return self_oom(e);
	}
	/* rowid order when it is the report's order; else the run's index */
	if (sqlite3_prepare_v2(db, by_rowid
			       ? SELF_FINDING_COLUMNS " WHERE rowid BETWEEN ?2 AND ?3"
				 " AND +run = ?1 ORDER BY rowid"
			       : SELF_FINDING_COLUMNS " WHERE run = ?1 ORDER BY checklist, item, key",
			       -1, &ss->st, NULL) != SQLITE_OK) {
		self_db_error(db, e);
		self_stream_free(ss);
		return -1;
	}
	sqlite3_bind_int64(ss->st, 1, run);
	if (by_rowid) {
		sqlite3_bind_int64(ss->st, 2, x->lo);
		sqlite3_bind_int64(ss->st, 3, x->hi);
	}
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
	struct self_extent x;
	int64_t run;

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
	if (self_extent(db, run, &x, e) < 0 ||
	    self_summary(db, run, s, &x, e) < 0 ||
	    self_record(db, run, s, e) < 0 ||
	    self_manual(db, run, s, e) < 0 ||
	    self_findings(d, db, run, &x, reveal, e) < 0 ||
	    report_provenance(d, store, e) < 0)
		goto fail;
	return d;
fail:
	report_doc_free(d);
	return NULL;
}
