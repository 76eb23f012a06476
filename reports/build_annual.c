/*
 * build_annual.c — the annual report (年度报告) that egov-2009 art. 32 asks
 * a CA to submit by 31 January: the year's certificate business (issued,
 * renewed, revoked, expired) by sector, applicant type, key algorithm and
 * month, the valid certificates at year end, CRL publication per issuer,
 * the findings of the latest check and how far their rectification went,
 * and the manual sections answered in the attestations. Also the activity
 * table (report_activity) that the monthly statistics share.
 */
#include "builders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "period.h"
#include "timeutil.h"

static int annual_oom(struct err *e)
{
	return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
}

/* report_local_month(utc): "YYYY-MM" of a stored UTC time in the
 * configured zone, so that a certificate issued at 07:00 on 1 January
 * Beijing time counts in January. */
static void annual_local_month(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const unsigned char *t = sqlite3_value_text(argv[0]);
	char date[11];

	(void)argc;
	if (!t || time_utc_local_date((const char *)t, date) < 0) {
		sqlite3_result_null(cx);
		return;
	}
	sqlite3_result_text(cx, date, 7, SQLITE_TRANSIENT);
}

/* Facts: one row per issuance (1), renewal (2), revocation (3), expiry (4)
 * and certificate valid at the end (5, dated at the start so that the
 * period's filter keeps it). ?1, ?2 are the period's UTC bounds. */
static const char annual_facts[] =
	"WITH cert AS (SELECT c.serial, c.not_before, c.not_after, c.key_alg,"
	"  coalesce(c.revoked_at, (SELECT min(at) FROM event WHERE kind = 'revoke'"
	"   AND serial = c.serial)) AS rev_at, ie.app, coalesce(ie.at, c.not_before) AS t_issue"
	"  FROM certificate c LEFT JOIN (SELECT serial, app, min(at) AS at FROM event"
	"   WHERE kind = 'issue' GROUP BY serial) ie ON ie.serial = c.serial"
	"  WHERE c.is_ca = 0),"
	" fact AS (SELECT 1 AS what, t_issue AS t, app, key_alg FROM cert"
	"  UNION ALL SELECT 2, e.at, coalesce(e.app, c.app), c.key_alg FROM event e"
	"   LEFT JOIN cert c ON c.serial = coalesce(e.new_serial, e.serial) WHERE e.kind = 'renew'"
	"  UNION ALL SELECT 3, rev_at, app, key_alg FROM cert WHERE rev_at IS NOT NULL"
	"  UNION ALL SELECT 4, not_after, app, key_alg FROM cert"
	"  UNION ALL SELECT 5, ?1, app, key_alg FROM cert WHERE not_before <= ?2"
	"   AND not_after > ?2 AND (rev_at IS NULL OR rev_at > ?2)),"
	" g AS (SELECT %s, f.what FROM fact f LEFT JOIN application a ON a.app = f.app"
	"  WHERE f.t >= ?1 AND f.t < ?2)";

static const char *const annual_col_titles[] = {"签发", "更新", "撤销", "到期", "期末有效"};

/* The SQL of one activity table; malloc'd. */
static char *annual_sql(size_t ndims, const char *const *dims, int mask, int total)
{
	char sel[1024] = "", keys[256] = "", cols[512] = "", *sql = NULL, *head = NULL;
	size_t i;

	for (i = 0; i < ndims; i++) {
		size_t n = strlen(sel), k = strlen(keys);

		snprintf(sel + n, sizeof(sel) - n, "%s%s AS d%zu", i ? ", " : "",
			 dims[i] ? dims[i] : "report_local_month(f.t)", i);
		snprintf(keys + k, sizeof(keys) - k, "%sd%zu", i ? ", " : "", i);
	}
	for (i = 0; i < 5; i++) {
		size_t n = strlen(cols);

		if (mask & (1 << i))
			snprintf(cols + n, sizeof(cols) - n,
				 ", count(CASE WHEN g.what = %zu THEN 1 END)", i + 1);
	}
	if (asprintf(&head, annual_facts, sel) < 0)
		return NULL;
	if (total) {
		char blanks[128] = "";

		for (i = 1; i < ndims; i++)
			strcat(blanks, ", NULL");
		if (asprintf(&sql, "%s SELECT '合计'%s%s FROM g", head, blanks, cols) < 0)
			sql = NULL;
	} else if (!dims[0]) {
		if (asprintf(&sql, "%s, months(m) AS (SELECT substr(?3, 1, 7) UNION ALL"
			     " SELECT substr(date(m || '-01', '+1 month'), 1, 7) FROM months"
			     " WHERE m < substr(?4, 1, 7))"
			     " SELECT m%s FROM months LEFT JOIN g ON g.d0 = m GROUP BY m ORDER BY m",
			     head, cols) < 0)
			sql = NULL;
	} else if (asprintf(&sql, "%s SELECT %s%s FROM g GROUP BY %s ORDER BY %s", head, keys,
			    cols, keys, keys) < 0) {
		sql = NULL;
	}
	free(head);
	return sql;
}

static int annual_fill(struct store *st, struct rm_table *t, const char *sql,
		       const struct period *p, struct err *e)
{
	sqlite3_stmt *q;

	if (!sql)
		return annual_oom(e);
	if (report_prepare(st, sql, &q, e) < 0)
		return -1;
	sqlite3_bind_text(q, 1, p->utc_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, p->utc_to, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(q) >= 4) {
		sqlite3_bind_text(q, 3, p->from, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, p->to, -1, SQLITE_STATIC);
	}
	return report_fill(st, q, t, e) < 0 ? -1 : 0;
}

int report_activity(struct store *st, struct rm_section *s, const char *title,
		    size_t ndims, const char *const *titles, const char *const *dims,
		    int mask, const struct period *p, struct err *e)
{
	const char *ct[16];
	enum rm_type ty[16];
	size_t n = 0, i;
	struct rm_table *t;
	char *sql;
	int rc;

	if (ndims > 4)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "too many dimensions for '%s'", title);
	if (sqlite3_create_function(store_db(st), "report_local_month", 1,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, annual_local_month,
				    NULL, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to register a function: %s",
			       sqlite3_errmsg(store_db(st)));
	for (i = 0; i < ndims; i++, n++) {
		ct[n] = titles[i];
		ty[n] = RM_TEXT;
	}
	for (i = 0; i < 5; i++)
		if (mask & (1 << i)) {
			ct[n] = annual_col_titles[i];
			ty[n++] = RM_INT;
		}
	t = rm_table(s, title, n, ct, ty);
	if (!t)
		return annual_oom(e);
	sql = annual_sql(ndims, dims, mask, 0);
	rc = annual_fill(st, t, sql, p, e);
	free(sql);
	if (rc < 0)
		return -1;
	sql = annual_sql(ndims, dims, mask, 1);
	rc = annual_fill(st, t, sql, p, e);
	free(sql);
	return rc;
}

static int annual_business(struct store *st, struct rm_section *s, const struct period *p,
			   struct err *e)
{
	static const char *const sector_t[] = {"业务类别"}, *const sector_d[] = {
		REPORT_SQL_SECTOR("a.sector")};
	static const char *const appl_t[] = {"申请人类型"}, *const appl_d[] = {
		REPORT_SQL_APPLICANT("a.applicant_type")};
	static const char *const alg_t[] = {"密钥算法"}, *const alg_d[] = {
		"coalesce(f.key_alg, '未知')"};
	static const char *const month_t[] = {"月份"}, *const month_d[] = {NULL};
	const int all = REPORT_ISSUED | REPORT_RENEWED | REPORT_REVOKED | REPORT_EXPIRED;

	if (report_activity(st, s, "按业务类别", 1, sector_t, sector_d, all | REPORT_VALID, p, e) < 0 ||
	    report_activity(st, s, "按申请人类型", 1, appl_t, appl_d, all | REPORT_VALID, p, e) < 0 ||
	    report_activity(st, s, "按密钥算法", 1, alg_t, alg_d, all | REPORT_VALID, p, e) < 0 ||
	    report_activity(st, s, "按月份", 1, month_t, month_d, all, p, e) < 0)
		return -1;
	return 0;
}

/* The totals as the section's key/value block, read from the tables'
 * 合计 rows so that the figures cannot disagree. */
static int annual_totals(struct rm_section *s, struct err *e)
{
	static const char *const keys[] = {"签发证书", "更新证书", "撤销证书", "到期证书",
					   "期末有效证书"};
	struct rm_table *t = NULL;
	char buf[32];

	for (size_t i = 0; i < s->nblocks; i++)
		if (s->blocks[i].kind == RM_TABLE) {
			t = s->blocks[i].table;
			break;
		}
	if (!t || t->nrows == 0)
		return 0;
	for (size_t i = 1; i < t->ncols && i <= 5; i++) {
		snprintf(buf, sizeof(buf), "%.0f", t->cells[(t->nrows - 1) * t->ncols + i].num);
		if (rm_kv(s, keys[i - 1], buf) < 0)
			return annual_oom(e);
	}
	return 0;
}

static int annual_crl(struct store *st, struct rm_section *s, const struct period *p,
		      struct err *e)
{
	static const char *const titles[] = {"签发者", "发布次数", "首次发布", "最近发布",
					     "最长间隔（小时）"};
	static const enum rm_type types[] = {RM_TEXT, RM_INT, RM_DATE, RM_DATE, RM_INT};
	struct rm_table *t = rm_table(s, "证书撤销列表发布情况", 5, titles, types);
	sqlite3_stmt *q;

	if (!t)
		return annual_oom(e);
	rm_table_width(t, 0, 50);
	if (report_prepare(st, "WITH iss AS (SELECT issuer FROM crl UNION SELECT issuer"
			   "  FROM certificate WHERE is_ca = 0),"
			   " y AS (SELECT issuer, this_update, (julianday(this_update) -"
			   "  julianday(lag(this_update) OVER (PARTITION BY issuer"
			   "  ORDER BY this_update))) * 24 AS gap FROM crl"
			   "  WHERE this_update >= ?1 AND this_update < ?2)"
			   " SELECT iss.issuer, count(y.this_update), min(y.this_update),"
			   " max(y.this_update), round(max(y.gap)) FROM iss"
			   " LEFT JOIN y ON y.issuer = iss.issuer GROUP BY iss.issuer"
			   " ORDER BY iss.issuer", &q, e) < 0)
		return -1;
	sqlite3_bind_text(q, 1, p->utc_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, p->utc_to, -1, SQLITE_STATIC);
	if (report_fill(st, q, t, e) < 0)
		return -1;
	return rm_para(s, "最长间隔为期间内相邻两次发布（this_update）之间的最长时间；"
		       "发布次数为 0 的签发者在期间内没有发布证书撤销列表。") < 0 ? annual_oom(e) : 0;
}

static int annual_findings(struct store *st, struct rm_section *s, int64_t run,
			   struct err *e)
{
	sqlite3_stmt *q;
	int rc;

	if (report_prepare(st, "SELECT (SELECT count(*) FROM item_result WHERE run = ?1),"
			   " (SELECT count(*) FROM item_result WHERE run = ?1 AND result = 'fail'),"
			   " count(CASE WHEN status IN ('new', 'open') THEN 1 END),"
			   " count(CASE WHEN status = 'fixed' THEN 1 END),"
			   " count(CASE WHEN status = 'waived' THEN 1 END)"
			   " FROM finding WHERE run = ?1", &q, e) < 0)
		return -1;
	sqlite3_bind_int64(q, 1, run);
	rc = sqlite3_step(q) == SQLITE_ROW;
	if (rc) {
		static const char *const keys[] = {"检查项", "不符合项", "待整改问题", "已整改问题",
						   "已豁免问题"};
		char buf[32];

		for (int i = 0; i < 5 && rc; i++) {
			snprintf(buf, sizeof(buf), "%lld", (long long)sqlite3_column_int64(q, i));
			rc = rm_kv(s, keys[i], buf) == 0;
		}
		if (!rc)
			annual_oom(e);
	} else {
		err_set(e, CA_EDB, store_path(st), 0, 0, "unable to read the store: %s",
			sqlite3_errmsg(store_db(st)));
	}
	sqlite3_finalize(q);
	if (!rc)
		return -1;
	return report_status_table(st, s, run, e);
}

static int annual_manual(struct store *st, struct rm_section *s, int64_t run, int reveal,
			 struct err *e)
{
	static const char *const titles[] = {"检查清单", "编号", "事项", "结论", "说明",
					     "证明材料", "核查人", "核查日期"};
	static const enum rm_type types[] = {RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT,
					     RM_TEXT, RM_TEXT, RM_DATE};
	struct rm_table *t = rm_table(s, "人工核查事项", 8, titles, types);
	sqlite3_stmt *q;
	long n;

	if (!t)
		return annual_oom(e);
	/* The officers who answered are staff, not holders: shown as recorded,
	 * as in the self-inspection. */
	(void)reveal;
	if (report_prepare(st, "SELECT a.checklist, a.item, r.title, " REPORT_SQL_RESULT("a.result")
			   ", a.note, a.evidence, a.by, a.at FROM attestation a"
			   " LEFT JOIN item_result r ON r.run = ? AND r.checklist = a.checklist"
			   " AND r.item = a.item ORDER BY a.checklist, a.item", &q, e) < 0)
		return -1;
	sqlite3_bind_int64(q, 1, run);
	n = report_fill(st, q, t, e);
	if (n < 0)
		return -1;
	if (n == 0 && rm_para(s, "尚未提交人工核查事项的核查结论（attestations）。") < 0)
		return annual_oom(e);
	return 0;
}

/* Adds the late warning when as_of is after 31 January following the
 * period's last year. */
static int annual_late(struct rm_section *s, const struct period *p, const char *as_of,
		       struct err *e)
{
	char due[16], para[256];
	int year = (int)strtol(p->to, NULL, 10);

	snprintf(due, sizeof(due), "%04d-01-31", (year + 1) % 10000);
	if (!as_of || strcmp(as_of, due) <= 0)
		return 0;
	warnf("annual report for '%s' made on %s, after the deadline of %s", p->text, as_of, due);
	snprintf(para, sizeof(para), "注意：" REPORT_ANNUAL_LATE "（%s），报告日期为 %s。", due,
		 as_of);
	return rm_para(s, para) < 0 ? annual_oom(e) : 0;
}

struct rm_doc *build_annual(struct store *st, const struct config *cfg, const char *as_of,
			    const char *period, int reveal, struct err *e)
{
	struct rm_doc *d = rm_doc_new("年度报告");
	struct rm_section *s;
	struct period p;
	char run_as_of[11], intro[256];
	int64_t run;

	if (!d) {
		annual_oom(e);
		return NULL;
	}
	if (period_resolve(period, PERIOD_PREV_YEAR, as_of, &p, e) < 0 ||
	    report_header(d, cfg, "年度报告", as_of, p.text, e) < 0 ||
	    (run = report_latest_run(st, d, run_as_of, e)) < 0)
		goto fail;
	if (p.all) {
		err_set(e, CA_EUSAGE, "", 0, 0, "the annual report needs a period, not all records");
		goto fail;
	}
	s = rm_section(d, "证书业务统计", NULL);
	snprintf(intro, sizeof(intro), "本报告依据《电子政务电子认证服务管理办法》第三十二条，"
		 "统计 %s 至 %s 期间的电子认证服务情况。", p.from, p.to);
	if (!s || annual_late(s, &p, as_of, e) < 0 || rm_para(s, intro) < 0 ||
	    annual_business(st, s, &p, e) < 0 || annual_totals(s, e) < 0)
		goto fail;
	rm_kv_first(s);
	if (!(s = rm_section(d, "证书撤销列表", NULL)) || annual_crl(st, s, &p, e) < 0)
		goto fail;
	if (!(s = rm_section(d, "检查与整改", NULL)) || annual_findings(st, s, run, e) < 0)
		goto fail;
	if (!(s = rm_section(d, "人工核查事项", NULL)) || annual_manual(st, s, run, reveal, e) < 0)
		goto fail;
	if (report_provenance(d, st, e) < 0)
		goto fail;
	return d;
fail:
	if (!e->kind)
		annual_oom(e);
	report_doc_free(d);
	return NULL;
}
