/*
 * build_spot.c — the spot-check record (抽查记录): the regulator's sample
 * (read from the file `ca-audit sample` wrote: seed, size, method,
 * stratification) and, for each sampled certificate or application, its
 * result for each automated item of the latest run, from the findings
 * stored under its key. Nothing is re-checked: the record shows what the
 * latest check found for exactly these records.
 *
 * Which items concern a record: an automated item applies to certificates
 * when its findings (in any run) are keyed serial:…, to applications when
 * app:…; an item that never had a finding applies to both, and is 符合.
 */
#include "builders.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "sample.h"

static int spot_oom(struct err *e)
{
	return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
}

static const char spot_items_sql[] =
	"SELECT r.checklist, r.item, r.title, CASE"
	"  WHEN r.result = 'na' THEN '不适用' WHEN r.result = 'error' THEN '检查出错'"
	"  WHEN f.status IN ('new', 'open') THEN '不符合'"
	"  WHEN f.status = 'waived' THEN '已豁免' ELSE '符合' END,"
	" CASE WHEN f.status IN ('new', 'open', 'waived') THEN f.message END"
	" FROM item_result r LEFT JOIN finding f ON f.run = r.run"
	" AND f.checklist = r.checklist AND f.item = r.item AND f.key = ?2"
	" WHERE r.run = ?1 AND r.kind = 'check'"
	" AND (NOT EXISTS (SELECT 1 FROM finding x WHERE x.checklist = r.checklist"
	"  AND x.item = r.item)"
	"  OR EXISTS (SELECT 1 FROM finding x WHERE x.checklist = r.checklist"
	"  AND x.item = r.item AND substr(x.key, 1, length(?3)) = ?3))"
	" ORDER BY r.rowid";

/* A stratum as the reader knows it: sectors in Chinese, with the code. */
static const char *spot_stratum(const char *v, char *buf, size_t n)
{
	static const char *const map[][2] = {{"commercial", "商业"},
					     {"egov-public", "电子政务（公众）"},
					     {"egov-government", "电子政务（政务部门）"}};

	for (size_t i = 0; v && i < sizeof(map) / sizeof(*map); i++)
		if (!strcmp(v, map[i][0])) {
			snprintf(buf, n, "%s（%s）", map[i][1], v);
			return buf;
		}
	return v;
}

/* The record's serial or application id: the key without "serial:" or
 * "app:", which the column title says. */
static const char *spot_id(const char *key)
{
	const char *colon = strchr(key, ':');

	return colon ? colon + 1 : key;
}

struct spot_ctx {
	struct store *st;
	sqlite3_stmt *items, *holder;
	struct rm_table *sum, *detail;
	const char *prefix;
	int reveal;
};

static int spot_add_num(struct rm_table *t, size_t col, long v)
{
	return rm_set_num(t, col, (double)v);
}

/* The holder's name (masked unless reveal), and whether the record exists. */
static int spot_holder(struct spot_ctx *c, const char *key, char **name)
{
	const char *colon = strchr(key, ':');
	int rc;

	*name = NULL;
	sqlite3_reset(c->holder);
	sqlite3_bind_text(c->holder, 1, colon ? colon + 1 : key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(c->holder);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(c->holder, 0);

		*name = v ? (c->reveal ? strdup(v) : mask_name(v)) : strdup("");
		return *name ? 1 : -1;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

static int spot_record(struct spot_ctx *c, size_t no, const struct sample_rec *r, struct err *e)
{
	long items = 0, failed = 0;
	char *holder = NULL, buf[128];
	int found, rc = SQLITE_DONE, bad = 0;

	found = spot_holder(c, r->key, &holder);
	if (found < 0) {
		free(holder);
		return err_set(e, CA_EDB, store_path(c->st), 0, 0, "unable to read the store: %s",
			       sqlite3_errmsg(store_db(c->st)));
	}
	if (found) {
		sqlite3_reset(c->items);
		sqlite3_bind_text(c->items, 2, r->key, -1, SQLITE_TRANSIENT);
		while (!bad && (rc = sqlite3_step(c->items)) == SQLITE_ROW) {
			const char *res = (const char *)sqlite3_column_text(c->items, 3);

			items++;
			failed += res && !strcmp(res, "不符合");
			bad = rm_row(c->detail) < 0 || spot_add_num(c->detail, 0, (long)no) < 0 ||
			      rm_set_text(c->detail, 1, spot_id(r->key)) < 0;
			for (int i = 0; i < 5 && !bad; i++)
				bad = rm_set_text(c->detail, (size_t)i + 2,
						  (const char *)sqlite3_column_text(c->items, i)) < 0;
		}
	}
	bad = bad || rm_row(c->sum) < 0 || spot_add_num(c->sum, 0, (long)no) < 0 ||
	      rm_set_text(c->sum, 1, spot_id(r->key)) < 0 ||
	      rm_set_text(c->sum, 2, spot_stratum(r->stratum, buf, sizeof(buf))) < 0 ||
	      rm_set_text(c->sum, 3, holder) < 0 ||
	      (found && (spot_add_num(c->sum, 4, items) < 0 || spot_add_num(c->sum, 5, failed) < 0)) ||
	      rm_set_text(c->sum, 6, !found ? "存储中无此记录" : failed ? "不符合" : "符合") < 0;
	free(holder);
	if (bad)
		return spot_oom(e);
	if (rc != SQLITE_DONE)
		return err_set(e, CA_EDB, store_path(c->st), 0, 0, "unable to read the store: %s",
			       sqlite3_errmsg(store_db(c->st)));
	return 0;
}

static int spot_info(struct rm_section *s, const struct sample *sm, const char *path,
		     struct err *e)
{
	char size[32], rate[96], pop[32];
	const char *base = strrchr(path, '/');

	snprintf(size, sizeof(size), "%" PRId64, sm->size);
	snprintf(pop, sizeof(pop), "%" PRId64, sm->population);
	if (sm->rate > 0)
		snprintf(rate, sizeof(rate), "%.4g%%", sm->rate * 100);
	else
		snprintf(rate, sizeof(rate), "%.2f%%（按样本量抽取）",
			 sm->population ? 100.0 * (double)sm->size / (double)sm->population : 0);
	if (rm_kv(s, "随机种子", sm->seed) < 0 ||
	    rm_kv(s, "抽样对象", !strcmp(sm->of, "applications") ? "证书申请" : "证书") < 0 ||
	    rm_kv(s, "总体数量", pop) < 0 || rm_kv(s, "样本量", size) < 0 ||
	    rm_kv(s, "抽样比例", rate) < 0 ||
	    rm_kv(s, "抽样方法", sm->method ? sm->method : "") < 0 ||
	    rm_kv(s, "分层依据", sm->stratify_by ? sm->stratify_by : "不分层") < 0 ||
	    rm_kv(s, "抽样日期", sm->as_of ? sm->as_of : "") < 0 ||
	    rm_kv(s, "样本文件", base ? base + 1 : path) < 0)
		return spot_oom(e);
	if (sm->stratify_by && sm->nstrata) {
		static const char *const t[] = {"分层", "总体数量", "样本量"};
		static const enum rm_type ty[] = {RM_TEXT, RM_INT, RM_INT};
		struct rm_table *st = rm_table(s, "分层抽样", 3, t, ty);
		char buf[128];

		for (size_t i = 0; st && i < sm->nstrata; i++)
			if (rm_row(st) < 0 ||
			    rm_set_text(st, 0, spot_stratum(sm->strata[i].name, buf, sizeof(buf))) < 0 ||
			    rm_set_num(st, 1, (double)sm->strata[i].population) < 0 ||
			    rm_set_num(st, 2, (double)sm->strata[i].size) < 0)
				return spot_oom(e);
		if (!st)
			return spot_oom(e);
	}
	return rm_para(s, "抽样方法：对每条记录计算 SHA-256(随机种子:记录标识)，按摘要值从小到大"
		       "取样（分层时各层按总体比例以最大余数法分配样本量，每层至少 1 条）。同一随机种子和"
		       "同一数据得到同一样本，可在任何计算机上复核。") < 0 ? spot_oom(e) : 0;
}

static int spot_results(struct rm_doc *d, struct spot_ctx *c, const struct sample *sm,
			int64_t run, struct err *e)
{
	static const char *st[] = {"序号", "证书序列号", "分层", "持有人", "检查项数",
					 "不符合项数", "结论"};
	static const enum rm_type sty[] = {RM_INT, RM_TEXT, RM_TEXT, RM_TEXT, RM_INT, RM_INT,
					   RM_TEXT};
	static const char *dt[] = {"序号", "证书序列号", "检查清单", "编号", "检查项", "结论",
					 "问题描述"};
	static const enum rm_type dty[] = {RM_INT, RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT,
					   RM_TEXT};
	struct rm_section *s = rm_section(d, "抽查结果", NULL);
	int rc = 0;

	if (!strcmp(sm->of, "applications"))
		st[1] = dt[1] = "申请编号";

	if (!s || !(c->sum = rm_table(s, "抽查结果汇总", 7, st, sty)) ||
	    !(c->detail = rm_table(s, "逐项检查结果", 7, dt, dty)))
		return spot_oom(e);
	/* 32 hex digits on one line; the other wide columns yield */
	rm_table_width(c->sum, 1, 34);
	rm_table_width(c->sum, 2, 20);
	rm_table_width(c->detail, 1, 34);
	rm_table_width(c->detail, 4, 24);
	rm_table_width(c->detail, 6, 20);
	if (report_prepare(c->st, spot_items_sql, &c->items, e) < 0 ||
	    report_prepare(c->st, !strcmp(sm->of, "applications") ?
			   "SELECT applicant_name FROM application WHERE app = ?" :
			   "SELECT cn FROM certificate WHERE serial = ? ORDER BY issuer LIMIT 1",
			   &c->holder, e) < 0)
		return -1;
	sqlite3_bind_int64(c->items, 1, run);
	sqlite3_bind_text(c->items, 3, c->prefix, -1, SQLITE_STATIC);
	for (size_t i = 0; i < sm->n && rc == 0; i++)
		rc = spot_record(c, i + 1, &sm->recs[i], e);
	return rc;
}

struct rm_doc *build_spot_check(struct store *st, const struct config *cfg,
				const char *as_of, const char *period,
				const char *sample_path, int reveal, struct err *e)
{
	struct rm_doc *d = NULL;
	struct sample *sm = NULL;
	struct spot_ctx c = {st, NULL, NULL, NULL, NULL, NULL, reveal};
	struct rm_section *s;
	char run_as_of[11];
	int64_t run;

	if (sample_load(sample_path, &sm, e) < 0)
		return NULL;
	c.prefix = !strcmp(sm->of, "applications") ? "app:" : "serial:";
	if (!(d = rm_doc_new("抽查记录"))) {
		spot_oom(e);
		goto fail;
	}
	if (report_header(d, cfg, "抽查记录", as_of, period, e) < 0 ||
	    (run = report_latest_run(st, d, run_as_of, e)) < 0)
		goto fail;
	if (!(s = rm_section(d, "抽样信息", NULL))) {
		spot_oom(e);
		goto fail;
	}
	if (spot_info(s, sm, sample_path, e) < 0 ||
	    spot_results(d, &c, sm, run, e) < 0 ||
	    report_provenance(d, st, e) < 0)
		goto fail;
	sqlite3_finalize(c.items);
	sqlite3_finalize(c.holder);
	sample_free(sm);
	return d;
fail:
	sqlite3_finalize(c.items);
	sqlite3_finalize(c.holder);
	sample_free(sm);
	report_doc_free(d);
	return NULL;
}
