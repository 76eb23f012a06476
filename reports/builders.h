/*
 * builders.h — one builder per report kind: each reads stored check results
 * and evidence from the store and fills a report document (model.h). A
 * builder never re-runs checks and never calls a writer; it knows what a
 * report says, not how it looks.
 *
 * Detail tables are streamed from SQLite with prepared statements on the
 * store's handle, so a document from a builder must be released with
 * report_doc_free (which finalizes those statements and then frees the
 * document) before the store is closed.
 *
 * Personal names and identity numbers in evidence are masked (mask.h)
 * unless reveal is set.
 */
#ifndef CA_BUILDERS_H
#define CA_BUILDERS_H

#include "config.h"
#include "err.h"
#include "model.h"
#include "store.h"

/* The message (and e) when the store holds no check run. */
#define REPORT_NO_RUN "no check results in the store: run 'ca-audit check' first"

/* 自查报告 from the latest run (highest run id): the inspection record per
 * item, every finding of the run (streamed), manual items with their
 * attestations, and the provenance. period is shown as given (NULL: all
 * records). Returns a document owned by the caller (report_doc_free), or
 * NULL with e set (CA_EINPUT with REPORT_NO_RUN when there is no run). */
struct rm_doc *build_self_inspection(struct store *st, const struct config *cfg,
				     const char *as_of, const char *period,
				     int reveal, struct err *e);

/* Frees a builder's document and the stream contexts registered for it.
 * Accepts NULL. */
void report_doc_free(struct rm_doc *d);

/* Hands ctx to d: free_fn(ctx) runs in report_doc_free(d). On failure
 * (memory) free_fn(ctx) runs at once and -1 is returned. */
int report_own(struct rm_doc *d, void *ctx, void (*free_fn)(void *));

/* What every report states (DESIGN §10), from provenance.c: sets the
 * document's CA name, author (ca-audit and its version), subject and as-of
 * date, and the cover metadata: CA name, licence, province, period (or 全部),
 * as-of date and tool version. */
int report_header(struct rm_doc *d, const struct config *cfg, const char *subject,
		  const char *as_of, const char *period, struct err *e);

/* Appends the section 数据来源: each ingested source file with its type,
 * SHA-256, record and reject counts, the total number of rejected records
 * and the first REPORT_REJECTS_LISTED of them (source, line, reason). */
#define REPORT_REJECTS_LISTED 300
int report_provenance(struct rm_doc *d, struct store *st, struct err *e);

/* 整改方案 from the latest run: per failing item the problem, the number of
 * new and open findings, the checklist's measures, the owner (reports.
 * responsible: the first "checklist:item" pattern that matches, else
 * "default"), the due date (the item's working days counted from the run's
 * as-of date on China's calendar, or its fixed date, or the checklist's
 * deadline), the counts by status, first and last seen; then every finding
 * of the run with its status (streamed). */
struct rm_doc *build_rectification(struct store *st, const struct config *cfg,
				   const char *as_of, const char *period,
				   int reveal, struct err *e);

/* The warning of a late annual report (after 31 January of the next year). */
#define REPORT_ANNUAL_LATE "本报告晚于1月31日报送期限"

/* 年度报告 (egov art. 32) for a year (period NULL: the year before as_of):
 * certificates issued, renewed, revoked and expired by sector, applicant
 * type, key algorithm and month; valid certificates at year end; CRLs per
 * issuer; findings and rectification status of the latest run; manual
 * sections from attestations. Warns (document and warnf) when as_of is
 * after 31 January of the next year. */
struct rm_doc *build_annual(struct store *st, const struct config *cfg, const char *as_of,
			    const char *period, int reveal, struct err *e);

/* 月度统计 (Shenzhen) for a month (period NULL: the month before as_of):
 * issuance, renewal and revocation by certificate type and sector, and the
 * valid certificates at the end of the period. The first table of the
 * section 月度统计 is the main table that build_monthly_csv writes. */
struct rm_doc *build_monthly(struct store *st, const struct config *cfg, const char *as_of,
			     const char *period, int reveal, struct err *e);

/* Writes the main table of a monthly document as UTF-8 CSV with a BOM (so
 * that Excel reads the Chinese), CRLF line ends, replaced atomically. */
int build_monthly_csv(const struct rm_doc *d, const char *path, struct err *e);

/* 抽查记录: the sample file at sample_path (written by `ca-audit sample`)
 * and, per sampled record, its result for each automated item of the latest
 * run (符合 / 不符合 with the finding's message). */
struct rm_doc *build_spot_check(struct store *st, const struct config *cfg,
				const char *as_of, const char *period,
				const char *sample_path, int reveal, struct err *e);

/* Helpers the builders share (build_rect.c). */

/* The latest run's id, its as-of date into as_of[11] (the run's start date
 * when it has none), and the cover rows 检查批次 and 检查清单 when d is not
 * NULL. -1 with e set (REPORT_NO_RUN when there is none). */
int64_t report_latest_run(struct store *st, struct rm_doc *d, char as_of[11],
			  struct err *e);

/* Prepares sql on the store's handle; e names the store on failure. */
int report_prepare(struct store *st, const char *sql, sqlite3_stmt **q, struct err *e);

/* Steps q (prepared and bound; finalized here) and appends a row to t per
 * result row: column i fills column i, as a number for RM_INT and
 * RM_PERCENT columns. Returns the number of rows, or -1 with e set. */
long report_fill(struct store *st, sqlite3_stmt *q, struct rm_table *t, struct err *e);

/* Streams q (prepared and bound; taken, finalized in report_doc_free) into
 * t as a detail table on the sheet named sheet. */
int report_stream(struct rm_doc *d, struct rm_table *t, sqlite3_stmt *q, const char *sheet,
		  struct err *e);

/* Appends the table 整改情况: per item of run that has findings, the
 * counts of new, open, fixed and waived findings. */
int report_status_table(struct store *st, struct rm_section *s, int64_t run,
			struct err *e);

/* Columns of report_activity (a bit mask). */
enum {
	REPORT_ISSUED = 1,   /* 签发: issuance time (issue event, else not_before) in the period */
	REPORT_RENEWED = 2,  /* 更新: renew events in the period */
	REPORT_REVOKED = 4,  /* 撤销: revoked_at (else the first revoke event) in the period */
	REPORT_EXPIRED = 8,  /* 到期: not_after in the period */
	REPORT_VALID = 16    /* 期末有效: not_before <= end < not_after, not revoked by end */
};

struct period;

/* Appends a table of issued (non-CA) certificates' activity in p (from
 * build_annual.c), grouped by the SQL expressions dims[0..ndims-1] (titled
 * titles[]), which may use the fact's key_alg, t (its UTC time) and the
 * application a.*; a NULL dims[0] groups by local month, listing every
 * month of p. The columns are those of mask, and a last row 合计 totals
 * them. p must have bounds. */
int report_activity(struct store *st, struct rm_section *s, const char *title,
		    size_t ndims, const char *const *titles, const char *const *dims,
		    int mask, const struct period *p, struct err *e);

/* SQL CASE expressions turning stored codes into the reports' Chinese. */
#define REPORT_SQL_STATUS(col) "CASE " col " WHEN 'new' THEN '新发现' WHEN 'open' THEN" \
	" '未整改' WHEN 'fixed' THEN '已整改' WHEN 'waived' THEN '已豁免' ELSE " col " END"
#define REPORT_SQL_SEVERITY(col) "CASE " col " WHEN 'critical' THEN '严重' WHEN 'high'" \
	" THEN '高' WHEN 'medium' THEN '中' WHEN 'low' THEN '低' WHEN 'info' THEN '提示'" \
	" ELSE " col " END"
#define REPORT_SQL_SECTOR(col) "CASE coalesce(" col ", '') WHEN 'commercial' THEN '商业'" \
	" WHEN 'egov-public' THEN '电子政务（公众）' WHEN 'egov-government' THEN" \
	" '电子政务（政务部门）' WHEN '' THEN '未知' ELSE " col " END"
#define REPORT_SQL_APPLICANT(col) "CASE coalesce(" col ", '') WHEN 'individual' THEN" \
	" '个人' WHEN 'organization' THEN '机构' WHEN 'government' THEN '政府部门'" \
	" WHEN '' THEN '未知' ELSE " col " END"
#define REPORT_SQL_RESULT(col) "CASE " col " WHEN 'pass' THEN '符合' WHEN 'fail' THEN" \
	" '不符合' WHEN 'manual' THEN '人工核查' WHEN 'na' THEN '不适用' WHEN 'error'" \
	" THEN '检查出错' ELSE " col " END"

#endif
