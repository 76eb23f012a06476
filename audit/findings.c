/*
 * findings.c — waivers and the text, JSON Lines and CSV renderings of a
 * run; see findings.h. jansson keeps an object's keys in insertion order,
 * which is what gives §9 its fixed key order.
 */
#include "findings.h"
#include "csvout.h"
#include "log.h"

#include <fnmatch.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "rules.h"
#include "yamlutil.h"

/* ---- waivers ---- */

struct waiver {
	char *checklist, *item, *key; /* fnmatch patterns */
	char *justification, *approver;
	char *expires;                /* YYYY-MM-DD or NULL */
};

struct findings_waivers {
	struct waiver *v; /* owned */
	size_t n;
};

void findings_waivers_free(struct findings_waivers *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++) {
		struct waiver *x = &w->v[i];
		free(x->checklist);
		free(x->item);
		free(x->key);
		free(x->justification);
		free(x->approver);
		free(x->expires);
	}
	free(w->v);
	free(w);
}

static int load_waiver(struct ydoc *d, yaml_node_t *n, struct waiver *x, struct err *e)
{
	static const char *const keys[] = {"checklist", "item", "key", "justification",
					   "approver", "expires", NULL};

	if (ydoc_check_keys(d, n, keys, e) ||
	    ydoc_get_str(d, n, "checklist", 0, &x->checklist, e) ||
	    ydoc_get_str(d, n, "item", 1, &x->item, e) ||
	    ydoc_get_str(d, n, "key", 0, &x->key, e) ||
	    ydoc_get_str(d, n, "justification", 1, &x->justification, e) ||
	    ydoc_get_str(d, n, "approver", 1, &x->approver, e) ||
	    ydoc_get_date(d, n, "expires", 0, &x->expires, e))
		return -1;
	return 0;
}

int findings_waivers_load(const char *path, struct findings_waivers **out, struct err *e)
{
	static const char *const top[] = {"waivers", NULL};
	struct ydoc d;
	struct findings_waivers *w;
	yaml_node_t *root, *list, *item;
	int rc = -1;

	*out = NULL;
	if (ydoc_load(path, &d, e))
		return -1;
	if (!(w = calloc(1, sizeof *w))) {
		ydoc_free(&d);
		return err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory");
	}
	root = ydoc_root(&d);
	if (!root) {
		rc = 0;
		goto out;
	}
	if (ydoc_check_keys(&d, root, top, e))
		goto out;
	list = ydoc_get(&d, root, "waivers");
	if (list && !ydoc_is_seq(list)) {
		ydoc_error(&d, list, e, "expected a list of waivers");
		goto out;
	}
	if (!(w->v = calloc(ydoc_seq_len(list) + 1, sizeof *w->v))) {
		err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory");
		goto out;
	}
	/* counted before loading, so that a half-loaded waiver is freed too */
	for (size_t i = 0; (item = ydoc_seq_item(&d, list, i)); i++) {
		w->n = i + 1;
		if (load_waiver(&d, item, &w->v[i], e))
			goto out;
	}
	rc = 0;
out:
	ydoc_free(&d);
	if (rc)
		findings_waivers_free(w);
	else
		*out = w;
	return rc;
}

static int matches(const char *pattern, const char *s)
{
	return !pattern || !fnmatch(pattern, s, 0);
}

size_t findings_waivers_expired(const struct findings_waivers *w, const char *path,
				const char *as_of)
{
	size_t n = 0;

	for (size_t i = 0; w && as_of && i < w->n; i++) {
		const struct waiver *x = &w->v[i];
		if (!x->expires || strcmp(as_of, x->expires) <= 0)
			continue;
		n++;
		warnf("%s: the waiver of %s %s %s approved by %s expired on %s; its findings"
		      " count again", path, x->checklist ? x->checklist : "*", x->item,
		      x->key ? x->key : "*", x->approver, x->expires);
	}
	return n;
}

const char *findings_waived(const struct findings_waivers *w, const char *checklist,
			    const char *item, const char *key, const char *as_of)
{
	for (size_t i = 0; w && i < w->n; i++) {
		const struct waiver *x = &w->v[i];
		if (x->expires && as_of && strcmp(as_of, x->expires) > 0)
			continue;
		if (matches(x->checklist, checklist) && matches(x->item, item) &&
		    matches(x->key, key))
			return x->justification;
	}
	return NULL;
}

/* ---- rendering ---- */

int findings_format_parse(const char *s)
{
	if (!strcmp(s, "text"))
		return FINDINGS_TEXT;
	if (!strcmp(s, "json"))
		return FINDINGS_JSON;
	if (!strcmp(s, "csv"))
		return FINDINGS_CSV;
	return -1;
}

/* The evidence object with personal fields masked (unless reveal). */
static json_t *evidence_masked(const char *evidence, int reveal)
{
	json_t *o = json_loads(evidence ? evidence : "{}", 0, NULL);
	const char *k;
	json_t *v;

	if (!o || !json_is_object(o) || reveal)
		return o;
	json_object_foreach(o, k, v) {
		char *m;
		if (!json_is_string(v) || !mask_field_kind(k))
			continue;
		m = mask_field(k, json_string_value(v));
		if (m)
			json_string_set(v, m);
		free(m);
	}
	return o;
}

static json_t *str_or_null(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;

	return v ? v : json_null();
}

char *findings_json_line(const char *checklist, const char *item, const char *severity,
			 const char *status, const char *key, const char *message,
			 const char *first_seen, const char *evidence, int reveal)
{
	json_t *o = json_object(), *ev = evidence_masked(evidence, reveal);
	char *s = NULL;

	if (o && ev) {
		json_object_set_new(o, "checklist", str_or_null(checklist));
		json_object_set_new(o, "item", str_or_null(item));
		json_object_set_new(o, "severity", str_or_null(severity));
		json_object_set_new(o, "status", str_or_null(status));
		json_object_set_new(o, "key", str_or_null(key));
		json_object_set_new(o, "message", str_or_null(message));
		json_object_set_new(o, "first_seen", str_or_null(first_seen));
		json_object_set(o, "evidence", ev);
		s = json_dumps(o, JSON_COMPACT);
	}
	json_decref(o);
	json_decref(ev);
	return s;
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void csv_field(FILE *out, const char *s, int last)
{
	csvout_field(out, s, 1);
	fputs(last ? "\r\n" : ",", out);
}

static int write_findings(struct store *st, int64_t run, int format, int reveal, FILE *out,
			  struct err *e)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT checklist, item, severity, status, key, message,"
				   " first_seen, evidence, last_seen FROM finding WHERE run = ?1"
				   " ORDER BY checklist, item, key", -1, &q, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to read findings: %s",
			       sqlite3_errmsg(db));
	sqlite3_bind_int64(q, 1, run);
	if (format == FINDINGS_CSV)
		fputs("checklist,item,severity,status,key,message,first_seen,last_seen,"
		      "evidence\r\n", out);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *line = findings_json_line(col(q, 0), col(q, 1), col(q, 2), col(q, 3),
						col(q, 4), col(q, 5), col(q, 6), col(q, 7), reveal);
		if (format == FINDINGS_JSON && line) {
			fprintf(out, "%s\n", line);
		} else if (format == FINDINGS_CSV) {
			json_t *o = line ? json_loads(line, 0, NULL) : NULL;
			char *ev = o ? json_dumps(json_object_get(o, "evidence"), JSON_COMPACT)
				     : NULL;
			for (int i = 0; i < 7; i++)
				csv_field(out, i == 6 ? col(q, 6) : col(q, i), 0);
			csv_field(out, col(q, 8), 0);
			csv_field(out, ev, 1);
			free(ev);
			json_decref(o);
		}
		free(line);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to read findings: %s",
			       sqlite3_errmsg(db));
	return 0;
}

/* Columns a terminal gives s: two for East Asian wide characters. */
static int display_width(const char *s)
{
	int w = 0;

	for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
		unsigned cp = *p;
		int len = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : cp < 0xF0 ? 3 : 4;
		if (len == 3)
			cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
		w += (len >= 3 && cp >= 0x1100) ? 2 : 1;
		for (int i = 0; i < len && *p; i++)
			p++;
	}
	return w;
}

static void pad(FILE *out, const char *s, int width)
{
	fputs(s ? s : "", out);
	for (int w = display_width(s); w < width; w++)
		fputc(' ', out);
}

static int write_text(struct store *st, int64_t run, FILE *out, struct err *e)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	char current[128] = "";
	int rc, first = 1;

	if (sqlite3_prepare_v2(db, "SELECT checklist, item, title, checked, violations, result,"
				   " (SELECT max(length(title)) * 2 FROM item_result r2"
				   "  WHERE r2.run = r.run AND r2.checklist = r.checklist), note,"
				   " (SELECT max(max(length(item)), 4) + 2 FROM item_result r3"
				   "  WHERE r3.run = r.run AND r3.checklist = r.checklist)"
				   " FROM item_result r WHERE run = ?1 ORDER BY rowid",
			       -1, &q, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to read results: %s",
			       sqlite3_errmsg(db));
	sqlite3_bind_int64(q, 1, run);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int tw = sqlite3_column_int(q, 6), iw = sqlite3_column_int(q, 8);
		if (strcmp(current, col(q, 0))) {
			snprintf(current, sizeof current, "%s", col(q, 0));
			fprintf(out, "%s== %s\n", first ? "" : "\n", current);
			first = 0;
			pad(out, "item", iw);
			pad(out, "title", tw + 2);
			fprintf(out, "%8s %10s  %s\n", "checked", "violations", "result");
		}
		pad(out, col(q, 1), iw);
		pad(out, col(q, 2), tw + 2);
		fprintf(out, "%8s %10s  %s%s%s\n", col(q, 3) ? col(q, 3) : "-",
			col(q, 4) ? col(q, 4) : "-", col(q, 5), col(q, 7) ? ": " : "",
			col(q, 7) ? col(q, 7) : "");
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to read results: %s",
			       sqlite3_errmsg(db));
	if (sqlite3_prepare_v2(db, "SELECT count(*), sum(status = 'new'), sum(status = 'open'),"
				   " sum(status = 'fixed'), sum(status = 'waived')"
				   " FROM finding WHERE run = ?1", -1, &q, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to count findings: %s",
			       sqlite3_errmsg(db));
	sqlite3_bind_int64(q, 1, run);
	if (sqlite3_step(q) == SQLITE_ROW)
		fprintf(out, "\nfindings: %lld (new %lld, open %lld, fixed %lld, waived %lld)\n",
			(long long)sqlite3_column_int64(q, 0), (long long)sqlite3_column_int64(q, 1),
			(long long)sqlite3_column_int64(q, 2), (long long)sqlite3_column_int64(q, 3),
			(long long)sqlite3_column_int64(q, 4));
	sqlite3_finalize(q);
	return 0;
}

int findings_write(struct store *st, int64_t run, int format, int reveal, FILE *out,
		   struct err *e)
{
	if (format == FINDINGS_TEXT)
		return write_text(st, run, out, e);
	return write_findings(st, run, format, reveal, out, e);
}

int findings_count_failing(struct store *st, int64_t run, int min_severity, int64_t *n,
			   struct err *e)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	int rc;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT severity, count(*) FROM finding WHERE run = ?1"
				   " AND status IN ('new', 'open') GROUP BY severity",
			       -1, &q, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to count findings: %s",
			       sqlite3_errmsg(db));
	sqlite3_bind_int64(q, 1, run);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (rules_severity_parse(col(q, 0)) >= min_severity)
			*n += sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to count findings: %s",
			       sqlite3_errmsg(db));
	return 0;
}
