/*
 * provenance.c — what every report carries whatever its kind (DESIGN §10):
 * the header block (CA, licence, province, period, as-of date, tool version)
 * and the section 数据来源 listing each ingested source with its digest and
 * record and reject counts, so a reader can tell which inputs a report was
 * made from and that nothing was silently dropped. Also the registry that
 * ties a builder's stream contexts to its document, so that they are freed
 * together.
 */
#include "builders.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef CA_AUDIT_VERSION
#define CA_AUDIT_VERSION "unknown"
#endif

/* Stream contexts owned on behalf of documents; a CLI makes few documents,
 * so a list is enough. */
struct owned {
	struct rm_doc *doc;
	void *ctx;
	void (*free_fn)(void *);
	struct owned *next;
};
static struct owned *owned_list;

int report_own(struct rm_doc *d, void *ctx, void (*free_fn)(void *))
{
	struct owned *o = malloc(sizeof(*o));

	if (!o) {
		free_fn(ctx);
		return -1;
	}
	o->doc = d;
	o->ctx = ctx;
	o->free_fn = free_fn;
	o->next = owned_list;
	owned_list = o;
	return 0;
}

void report_doc_free(struct rm_doc *d)
{
	struct owned **pp = &owned_list;

	if (!d)
		return;
	while (*pp) {
		struct owned *o = *pp;

		if (o->doc == d) {
			*pp = o->next;
			o->free_fn(o->ctx);
			free(o);
		} else {
			pp = &o->next;
		}
	}
	rm_doc_free(d);
}

int report_header(struct rm_doc *d, const struct config *cfg, const char *subject,
		  const char *as_of, const char *period, struct err *e)
{
	const char *ca = cfg && cfg->ca_name ? cfg->ca_name : "";

	if (rm_doc_set(d, ca, "ca-audit " CA_AUDIT_VERSION, subject, as_of) < 0 ||
	    rm_doc_meta(d, "机构名称", ca) < 0 ||
	    rm_doc_meta(d, "电子认证服务许可证编号",
			cfg && cfg->ca_license ? cfg->ca_license : "") < 0 ||
	    rm_doc_meta(d, "所在省份", cfg && cfg->ca_province ? cfg->ca_province : "") < 0 ||
	    rm_doc_meta(d, "报告期间", period && *period ? period : "全部") < 0 ||
	    rm_doc_meta(d, "截止日期", as_of ? as_of : "") < 0 ||
	    rm_doc_meta(d, "工具版本", "ca-audit " CA_AUDIT_VERSION) < 0)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	return 0;
}

static int prov_db_error(sqlite3 *db, struct err *e)
{
	return err_set(e, CA_EDB, sqlite3_db_filename(db, "main"), 0, 0,
		       "unable to read the store: %s", sqlite3_errmsg(db));
}

static int64_t prov_count(sqlite3 *db, const char *sql, struct err *e)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		prov_db_error(db, e);
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		prov_db_error(db, e);
	sqlite3_finalize(st);
	return n;
}

/* Copies the statement's rows into t: column i of the result fills column
 * i of the table, as a number for RM_INT columns. */
static int prov_fill(sqlite3 *db, const char *sql, struct rm_table *t, struct err *e)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return prov_db_error(db, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rm_row(t) < 0)
			goto oom;
		for (i = 0; i < t->ncols; i++) {
			if (sqlite3_column_type(st, (int)i) == SQLITE_NULL)
				continue;
			if (t->cols[i].type == RM_INT) {
				if (rm_set_num(t, i, (double)sqlite3_column_int64(st, (int)i)) < 0)
					goto oom;
			} else if (rm_set_text(t, i, (const char *)sqlite3_column_text(st, (int)i)) < 0) {
				goto oom;
			}
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return prov_db_error(db, e);
	return 0;
oom:
	sqlite3_finalize(st);
	return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
}

static int prov_kv_num(struct rm_section *s, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return rm_kv(s, key, buf);
}

int report_provenance(struct rm_doc *d, struct store *store, struct err *e)
{
	static const char *const src_titles[] = {"文件", "类别", "格式", "SHA-256",
						  "记录数", "拒收数", "导入时间"};
	static const enum rm_type src_types[] = {RM_TEXT, RM_TEXT, RM_TEXT, RM_TEXT,
						 RM_INT, RM_INT, RM_TEXT};
	static const char *const rej_titles[] = {"来源", "行号", "原因"};
	static const enum rm_type rej_types[] = {RM_TEXT, RM_INT, RM_TEXT};
	sqlite3 *db = store_db(store);
	struct rm_section *s;
	struct rm_table *t;
	int64_t nfiles, nrecords, nrejects;
	char sql[256], para[160];

	nfiles = prov_count(db, "SELECT count(*) FROM source_file", e);
	nrecords = nfiles < 0 ? -1 :
		prov_count(db, "SELECT coalesce(sum(records), 0) FROM source_file", e);
	nrejects = nrecords < 0 ? -1 : prov_count(db, "SELECT count(*) FROM reject", e);
	if (nrejects < 0)
		return -1;
	s = rm_section(d, "数据来源", NULL);
	if (!s || prov_kv_num(s, "源文件数", nfiles) < 0 ||
	    prov_kv_num(s, "读取记录数", nrecords) < 0 ||
	    prov_kv_num(s, "拒收记录数", nrejects) < 0)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	if (nfiles == 0 && rm_para(s, "存储中没有导入任何源文件。") < 0)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	t = rm_table(s, "源文件", 7, src_titles, src_types);
	if (!t)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	rm_table_width(t, 3, 66); /* a SHA-256 in hex is 64 characters */
	if (prov_fill(db, "SELECT path, kind, type, sha256, records, rejects, ingested_at"
		      " FROM source_file ORDER BY path", t, e) < 0)
		return -1;
	if (nrejects == 0)
		return 0;
	if (nrejects > REPORT_REJECTS_LISTED) {
		snprintf(para, sizeof(para), "拒收记录共 %" PRId64 " 条，下表列出前 %d 条。",
			 nrejects, REPORT_REJECTS_LISTED);
		if (rm_para(s, para) < 0)
			return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	}
	t = rm_table(s, "拒收记录", 3, rej_titles, rej_types);
	if (!t)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT source, line, reason FROM reject"
		 " ORDER BY source, line, reason LIMIT %d", REPORT_REJECTS_LISTED);
	return prov_fill(db, sql, t, e);
}
