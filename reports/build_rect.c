/*
 * build_rect.c — the rectification plan (整改方案, DESIGN §10) from the
 * latest check run: one task per failing item with the checklist's measures,
 * an owner from reports.responsible and a due date on China's working-day
 * calendar, its progress from the findings' history, and every finding with
 * its status. Also the helpers the other builders share (builders.h): the
 * latest run, filling tables from SQL and streaming detail tables.
 */
#include "builders.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rules.h"
#include "workdays.h"

static int rect_db_error(struct store *st, struct err *e)
{
	return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to read the store: %s",
		       sqlite3_errmsg(store_db(st)));
}

static int rect_oom(struct err *e)
{
	return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
}

int report_prepare(struct store *st, const char *sql, sqlite3_stmt **q, struct err *e)
{
	if (sqlite3_prepare_v2(store_db(st), sql, -1, q, NULL) != SQLITE_OK)
		return rect_db_error(st, e);
	return 0;
}

int64_t report_latest_run(struct store *st, struct rm_doc *d, char as_of[11],
			  struct err *e)
{
	sqlite3_stmt *q;
	int64_t run = -1;
	int rc;

	if (report_prepare(st, "SELECT id, coalesce(as_of, substr(started_at, 1, 10)),"
			   " checklists FROM run ORDER BY id DESC LIMIT 1", &q, e) < 0)
		return -1;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *at = (const char *)sqlite3_column_text(q, 1);
		const char *lists = (const char *)sqlite3_column_text(q, 2);
		char buf[32];

		run = sqlite3_column_int64(q, 0);
		snprintf(as_of, 11, "%s", at ? at : "");
		snprintf(buf, sizeof(buf), "%" PRId64, run);
		if (d && (rm_doc_meta(d, "检查批次", buf) < 0 ||
			  rm_doc_meta(d, "检查截止日期", as_of) < 0 ||
			  rm_doc_meta(d, "检查清单", lists ? lists : "") < 0)) {
			rect_oom(e);
			run = -1;
		}
	} else if (rc == SQLITE_DONE) {
		err_set(e, CA_EINPUT, "", 0, 0, REPORT_NO_RUN);
	} else {
		rect_db_error(st, e);
	}
	sqlite3_finalize(q);
	return run;
}

long report_fill(struct store *st, sqlite3_stmt *q, struct rm_table *t, struct err *e)
{
	long rows = 0;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (rm_row(t) < 0)
			goto oom;
		for (size_t i = 0; i < t->ncols; i++) {
			enum rm_type ty = t->cols[i].type;

			if (sqlite3_column_type(q, (int)i) == SQLITE_NULL)
				continue;
			if (ty == RM_INT || ty == RM_PERCENT) {
				if (rm_set_num(t, i, sqlite3_column_double(q, (int)i)) < 0)
					goto oom;
			} else if (rm_set_text(t, i, (const char *)sqlite3_column_text(q, (int)i)) < 0) {
				goto oom;
			}
		}
		rows++;
	}
	if (rc != SQLITE_DONE) {
		rect_db_error(st, e);
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	return rows;
oom:
	sqlite3_finalize(q);
	return rect_oom(e);
}

/* A statement as a table's row source. */
struct rect_stream {
	sqlite3_stmt *q;
	const struct rm_table *t;
};

static int rect_next(void *ctx, struct rm_cell *cells)
{
	struct rect_stream *s = ctx;
	int rc = sqlite3_step(s->q);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	for (size_t i = 0; i < s->t->ncols; i++) {
		int null = sqlite3_column_type(s->q, (int)i) == SQLITE_NULL;

		cells[i].is_null = null;
		cells[i].text = null ? NULL : (const char *)sqlite3_column_text(s->q, (int)i);
		cells[i].num = sqlite3_column_double(s->q, (int)i);
	}
	return 1;
}

static int rect_rewind(void *ctx)
{
	struct rect_stream *s = ctx;

	return sqlite3_reset(s->q) == SQLITE_OK ? 0 : -1;
}

static void rect_stream_free(void *ctx)
{
	struct rect_stream *s = ctx;

	sqlite3_finalize(s->q);
	free(s);
}

int report_stream(struct rm_doc *d, struct rm_table *t, sqlite3_stmt *q, const char *sheet,
		  struct err *e)
{
	struct rect_stream *s = calloc(1, sizeof(*s));

	if (!s) {
		sqlite3_finalize(q);
		return rect_oom(e);
	}
	s->q = q;
	s->t = t;
	if (report_own(d, s, rect_stream_free) < 0)
		return rect_oom(e);
	rm_table_stream(t, rect_next, rect_rewind, s);
	rm_table_detail(t, sheet);
	return 0;
}

int report_status_table(struct store *st, struct rm_section *s, int64_t run, struct err *e)
{
	static const char *const titles[] = {"检查清单", "编号", "检查项", "结论", "新发现",
					     "未整改", "已整改", "已豁免"};
	static const enum rm_type types[] = {RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT, RM_INT,
					     RM_INT, RM_INT, RM_INT};
	struct rm_table *t = rm_table(s, "整改情况", 8, titles, types);
	sqlite3_stmt *q;

	if (!t)
		return rect_oom(e);
	if (report_prepare(st, "SELECT r.checklist, r.item, r.title, " REPORT_SQL_RESULT("r.result")
			   ", sum(f.status = 'new'), sum(f.status = 'open'),"
			   " sum(f.status = 'fixed'), sum(f.status = 'waived')"
			   " FROM item_result r JOIN finding f ON f.run = r.run"
			   " AND f.checklist = r.checklist AND f.item = r.item"
			   " WHERE r.run = ? GROUP BY r.checklist, r.item ORDER BY min(r.rowid)",
			   &q, e) < 0)
		return -1;
	sqlite3_bind_int64(q, 1, run);
	return report_fill(st, q, t, e) < 0 ? -1 : 0;
}

/* The owner of checklist:item from reports.responsible. */
static const char *rect_owner(const struct config *cfg, const char *checklist,
			      const char *item)
{
	const char *def = "";
	char name[256];

	snprintf(name, sizeof(name), "%s:%s", checklist, item);
	for (size_t i = 0; cfg && i < cfg->n_responsible; i++) {
		const struct responsible *r = &cfg->responsible[i];

		if (!strcmp(r->pattern, "default"))
			def = r->owner;
		else if (fnmatch(r->pattern, name, 0) == 0)
			return r->owner;
	}
	return def;
}

/* Checklists loaded once per document, by id; a NULL list is one that
 * could not be loaded (warned about once). */
struct rect_lists {
	char **ids;
	struct checklist **v;
	size_t n;
};

static const struct checklist *rect_list(struct rect_lists *l, const struct config *cfg,
					 const char *id)
{
	struct checklist *c = NULL, **v;
	struct err e = {0};
	char *path = NULL, **ids;

	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->ids[i], id))
			return l->v[i];
	/* Without its checklist a task has no measures or due date, but the
	 * plan is still worth having. */
	if (rules_find(cfg, id, &path, &e) < 0 || rules_load(path, &c, NULL, &e) < 0) {
		char msg[1200];

		err_format(&e, msg, sizeof(msg));
		warnf("rectification: checklist '%s' not loaded, measures and due dates left"
		      " blank: %s", id, msg);
	}
	free(path);
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v)
		l->v = v;
	ids = realloc(l->ids, (l->n + 1) * sizeof(*ids));
	if (ids)
		l->ids = ids;
	if (!v || !ids || !(l->ids[l->n] = strdup(id))) {
		checklist_free(c);
		return NULL;
	}
	l->v[l->n++] = c;
	return c;
}

static void rect_lists_free(struct rect_lists *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->ids[i]);
		checklist_free(l->v[i]);
	}
	free(l->ids);
	free(l->v);
}

static const struct rule_item *rect_item(const struct checklist *c, const char *id)
{
	for (size_t i = 0; c && i < c->n_items; i++)
		if (!strcmp(c->items[i].id, id))
			return &c->items[i];
	return NULL;
}

/* The due date of an item into out[11] ("" when there is none). */
static void rect_due(const struct checklist *c, const struct rule_item *it,
		     const char *from, char out[11])
{
	out[0] = '\0';
	if (it && it->due_workdays > 0 && workdays_add(from, (int)it->due_workdays, out) == 0)
		return;
	out[0] = '\0';
	if (it && it->due_date)
		snprintf(out, 11, "%s", it->due_date);
	else if (c && c->deadline)
		snprintf(out, 11, "%s", c->deadline);
}

/* Columns of the task query. */
enum { RQ_LIST, RQ_ITEM, RQ_TITLE, RQ_PROBLEM, RQ_COUNT, RQ_NEW, RQ_OPEN, RQ_FIXED,
       RQ_WAIVED, RQ_FIRST, RQ_LAST };

static const char rect_sql[] =
	"SELECT r.checklist, r.item, r.title,"
	" coalesce((SELECT group_concat(m, '；') FROM (SELECT DISTINCT message AS m"
	"  FROM finding WHERE run = r.run AND checklist = r.checklist AND item = r.item"
	"  AND message IS NOT NULL ORDER BY 1)), r.note, r.title),"
	" count(CASE WHEN f.status IN ('new', 'open') THEN 1 END),"
	" count(CASE WHEN f.status = 'new' THEN 1 END),"
	" count(CASE WHEN f.status = 'open' THEN 1 END),"
	" count(CASE WHEN f.status = 'fixed' THEN 1 END),"
	" count(CASE WHEN f.status = 'waived' THEN 1 END),"
	" min(f.first_seen), max(f.last_seen)"
	" FROM item_result r LEFT JOIN finding f ON f.run = r.run"
	" AND f.checklist = r.checklist AND f.item = r.item"
	" WHERE r.run = ? AND r.result = 'fail'"
	" GROUP BY r.checklist, r.item ORDER BY min(r.rowid)";

static int rect_task(struct rm_table *plan, struct rm_table *prog, sqlite3_stmt *q,
		     const struct config *cfg, struct rect_lists *lists, const char *from)
{
	const char *list = (const char *)sqlite3_column_text(q, RQ_LIST);
	const char *item = (const char *)sqlite3_column_text(q, RQ_ITEM);
	const struct checklist *c = rect_list(lists, cfg, list);
	const struct rule_item *it = rect_item(c, item);
	char due[11];
	int bad;

	rect_due(c, it, from, due);
	bad = rm_row(plan) < 0 || rm_set_text(plan, 0, list) < 0 ||
	      rm_set_text(plan, 1, item) < 0 ||
	      rm_set_text(plan, 2, (const char *)sqlite3_column_text(q, RQ_TITLE)) < 0 ||
	      rm_set_text(plan, 3, (const char *)sqlite3_column_text(q, RQ_PROBLEM)) < 0 ||
	      rm_set_num(plan, 4, sqlite3_column_double(q, RQ_COUNT)) < 0 ||
	      rm_set_text(plan, 5, it && it->measures ? it->measures : "") < 0 ||
	      rm_set_text(plan, 6, rect_owner(cfg, list, item)) < 0 ||
	      (*due && rm_set_text(plan, 7, due) < 0);
	bad = bad || rm_row(prog) < 0 || rm_set_text(prog, 0, list) < 0 ||
	      rm_set_text(prog, 1, item) < 0;
	for (int i = RQ_NEW; i <= RQ_WAIVED && !bad; i++)
		bad = rm_set_num(prog, (size_t)(i - RQ_NEW + 2), sqlite3_column_double(q, i)) < 0;
	for (int i = RQ_FIRST; i <= RQ_LAST && !bad; i++)
		bad = rm_set_text(prog, (size_t)(i - RQ_FIRST + 6),
				  (const char *)sqlite3_column_text(q, i)) < 0;
	return bad ? -1 : 0;
}

static int rect_plan(struct store *st, struct rm_section *s, const struct config *cfg,
		     int64_t run, const char *from, struct err *e)
{
	static const char *const pt[] = {"检查清单", "编号", "检查项", "存在问题", "问题数",
					 "整改措施", "责任部门", "完成期限"};
	static const enum rm_type pty[] = {RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT, RM_INT,
					   RM_TEXT, RM_TEXT, RM_DATE};
	static const char *const gt[] = {"检查清单", "编号", "新发现", "未整改", "已整改",
					 "已豁免", "首次发现", "最近发现"};
	static const enum rm_type gty[] = {RM_TEXT, RM_TEXT, RM_INT, RM_INT, RM_INT, RM_INT,
					   RM_DATE, RM_DATE};
	struct rect_lists lists = {0};
	struct rm_table *plan = rm_table(s, "整改任务", 8, pt, pty), *prog;
	sqlite3_stmt *q;
	long n = 0;
	int rc;

	prog = plan ? rm_table(s, "整改进展", 8, gt, gty) : NULL;
	if (!prog)
		return rect_oom(e);
	/* The PDF writer shares the width among the columns wider than an
	 * equal share: keep the titles narrow so that the measures get room. */
	rm_table_width(plan, 2, 18);
	rm_table_width(plan, 3, 18);
	rm_table_width(plan, 5, 60);
	if (report_prepare(st, rect_sql, &q, e) < 0)
		return -1;
	sqlite3_bind_int64(q, 1, run);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (rect_task(plan, prog, q, cfg, &lists, from) < 0) {
			rc = -1;
			break;
		}
		n++;
	}
	sqlite3_finalize(q);
	rect_lists_free(&lists);
	if (rc == -1)
		return rect_oom(e);
	if (rc != SQLITE_DONE)
		return rect_db_error(st, e);
	if (n == 0 && rm_para(s, "本次检查没有不符合项，无需整改。") < 0)
		return rect_oom(e);
	return 0;
}

static int rect_findings(struct rm_doc *d, struct store *st, int64_t run, struct err *e)
{
	static const char *const titles[] = {"检查清单", "编号", "对象", "严重程度", "状态",
					     "问题描述", "首次发现", "最近发现"};
	static const enum rm_type types[] = {RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT,
					     RM_TEXT, RM_DATE, RM_DATE};
	struct rm_section *s = rm_section(d, "问题整改明细", NULL);
	struct rm_table *t;
	sqlite3_stmt *q;

	if (!s || !(t = rm_table(s, "问题整改明细", 8, titles, types)))
		return rect_oom(e);
	if (report_prepare(st, "SELECT checklist, item, key, " REPORT_SQL_SEVERITY("severity")
			   ", " REPORT_SQL_STATUS("status") ", message, first_seen, last_seen"
			   " FROM finding WHERE run = ? ORDER BY checklist, item, key", &q, e) < 0)
		return -1;
	sqlite3_bind_int64(q, 1, run);
	return report_stream(d, t, q, "问题整改明细", e);
}

static int rect_summary(struct store *st, struct rm_section *s, int64_t run,
			const char *from, struct err *e)
{
	sqlite3_stmt *q;
	char para[512];
	int rc;

	if (report_prepare(st, "SELECT (SELECT count(*) FROM item_result WHERE run = ?1"
			   " AND result = 'fail'), count(CASE WHEN status IN ('new', 'open')"
			   " THEN 1 END), count(CASE WHEN status = 'fixed' THEN 1 END),"
			   " count(CASE WHEN status = 'waived' THEN 1 END)"
			   " FROM finding WHERE run = ?1", &q, e) < 0)
		return -1;
	sqlite3_bind_int64(q, 1, run);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(q);
		return rect_db_error(st, e);
	}
	snprintf(para, sizeof(para), "根据 %s 的检查结果，共有 %lld 个不符合项、%lld 个待整改"
		 "问题（新发现和未整改），已整改 %lld 个，已豁免 %lld 个。完成期限按检查项规定的"
		 "工作日自检查截止日期起算（按国务院公布的节假日和调休安排），未规定的以检查清单"
		 "的整改期限为准。", from, (long long)sqlite3_column_int64(q, 0),
		 (long long)sqlite3_column_int64(q, 1), (long long)sqlite3_column_int64(q, 2),
		 (long long)sqlite3_column_int64(q, 3));
	sqlite3_finalize(q);
	return rm_para(s, para) < 0 ? rect_oom(e) : 0;
}

struct rm_doc *build_rectification(struct store *st, const struct config *cfg,
				   const char *as_of, const char *period,
				   int reveal, struct err *e)
{
	struct rm_doc *d = rm_doc_new("整改方案");
	struct rm_section *s;
	char from[11];
	int64_t run;

	(void)reveal; /* the plan shows keys and messages, never personal data */
	if (!d) {
		rect_oom(e);
		return NULL;
	}
	if (report_header(d, cfg, "整改方案", as_of, period, e) < 0 ||
	    (run = report_latest_run(st, d, from, e)) < 0)
		goto fail;
	if (!*from)
		snprintf(from, sizeof(from), "%s", as_of ? as_of : "");
	s = rm_section(d, "整改方案", NULL);
	if (!s) {
		rect_oom(e);
		goto fail;
	}
	if (rect_summary(st, s, run, from, e) < 0 || rect_plan(st, s, cfg, run, from, e) < 0 ||
	    rect_findings(d, st, run, e) < 0 || report_provenance(d, st, e) < 0)
		goto fail;
	return d;
fail:
	report_doc_free(d);
	return NULL;
}
