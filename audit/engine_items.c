/*
 * engine_items.c — one automated item of a run: its SQL made from the
 * checklist (from/where/key/evidence, or sql as written) and wrapped in the
 * item's scope, each row turned into a finding with its history (new,
 * open, waived; fixed for those of the previous run no longer found), and
 * the records checked counted; a metric item's one number compared with
 * its bound. The SQL runs on a reader (engine_evaluate), the findings are
 * stored on the run's connection (engine_put_finding, engine_settle).
 * engine.c runs the items and owns the run; see engine_int.h.
 */
#include "engine_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"

/* ---- findings ---- */

static json_t *column_json(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, i));
	case SQLITE_NULL:
		return json_null();
	default: {
		json_t *s = json_stringn((const char *)sqlite3_column_text(st, i),
					 (size_t)sqlite3_column_bytes(st, i));
		return s ? s : json_string("(not UTF-8)");
	}
	}
}

int engine_put_finding(struct engine *g, struct item_run *x, const char *key,
		       const char *date, const char *evidence, const char *message,
		       struct err *e)
{
	sqlite3_stmt *pf = g->w[W_PREV_FINDING], *ins = g->w[W_FINDING];
	const char *status = "new";
	char first[32];
	int rc;

	snprintf(first, sizeof first, "%s", g->o->as_of);
	if (x->prev > 0) {
		sqlite3_bind_int64(pf, 1, x->prev);
		sqlite3_bind_text(pf, 2, x->cl->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(pf, 3, x->it->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(pf, 4, key, -1, SQLITE_STATIC);
		rc = sqlite3_step(pf);
		if (rc == SQLITE_ROW && sqlite3_column_text(pf, 0) &&
		    strcmp((const char *)sqlite3_column_text(pf, 0), "fixed")) {
			status = "open";
			if (sqlite3_column_text(pf, 1))
				snprintf(first, sizeof first, "%s", sqlite3_column_text(pf, 1));
		}
		sqlite3_reset(pf);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return engine_db_fail(g, e, "unable to read the previous findings");
	}
	if (findings_waived(g->waivers, x->cl->id, x->it->id, key, g->o->as_of))
		status = "waived";
	sqlite3_bind_int64(ins, 1, g->sum->run);
	sqlite3_bind_text(ins, 2, x->cl->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, x->it->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, rules_severity_name(x->it->severity), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, message, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, evidence, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 9, first, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 10, g->o->as_of, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 11, date, -1, SQLITE_STATIC);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (rc != SQLITE_DONE)
		return engine_db_fail(g, e, "unable to store a finding");
	if (sqlite3_changes(g->db) == 1) {
		x->violations++;
		if (strcmp(status, "waived"))
			x->open++;
	}
	return 0;
}

static int carry_fixed(struct engine *g, struct item_run *x, struct err *e)
{
	sqlite3_stmt *st = g->w[W_FIXED];
	int rc;

	if (x->prev <= 0)
		return 0;
	sqlite3_bind_int64(st, 1, g->sum->run);
	sqlite3_bind_int64(st, 2, x->prev);
	sqlite3_bind_text(st, 3, x->cl->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, x->it->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : engine_db_fail(g, e, "unable to record fixed findings");
}

/* ---- automated items ---- */

static int is_ident(const char *s)
{
	if (!s || !*s || strspn(s, "0123456789") > 0)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") ==
	       strlen(s);
}

static const char *default_date(const char *from)
{
	static const struct { const char *from, *date; } map[] = {
		{"issuance", "coalesce(t_issue, not_before)"},
		{"certificate", "not_before"},
		{"application", "applied_at"},
		{"event", "at"},
		{"crl", "this_update"},
		{"crl_entry", "revoked_at"},
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(from, map[i].from))
			return map[i].date;
	return "record_date";
}

/* The item's SELECT of (key, record_date, evidence...), or NULL with the
 * item failed. Malloc'd. */
static char *check_sql(struct item_run *x)
{
	const struct rule_check *c = &x->it->check;
	char *sql = NULL, *ev = strdup("");
	size_t i;

	if (c->sql) {
		free(ev);
		return strdup(c->sql);
	}
	if (!is_ident(c->key) || !is_ident(c->from)) {
		free(ev);
		engine_item_fail(x, "'key' and 'from' must be plain names, not '%s' and '%s'", c->key,
			  c->from);
		return NULL;
	}
	for (i = 0; ev && i < c->evidence.n; i++) {
		char *next = NULL;
		if (!is_ident(c->evidence.v[i])) {
			free(ev);
			engine_item_fail(x, "evidence column '%s' must be a plain name", c->evidence.v[i]);
			return NULL;
		}
		if (asprintf(&next, "%s, %s", ev, c->evidence.v[i]) < 0)
			next = NULL;
		free(ev);
		ev = next;
	}
	if (!ev || asprintf(&sql, "SELECT '%s:' || (%s) AS \"key\", (%s) AS record_date%s"
			    " FROM %s WHERE (%s)", c->key, c->key,
			    c->date ? c->date : default_date(c->from), ev, c->from, c->where) < 0)
		sql = NULL;
	free(ev);
	if (!sql)
		engine_item_fail(x, "out of memory");
	return sql;
}

static int column_index(sqlite3_stmt *st, const char *name)
{
	for (int i = 0; i < sqlite3_column_count(st); i++)
		if (!strcasecmp(sqlite3_column_name(st, i), name))
			return i;
	return -1;
}

/* Evidence columns: those listed, or all but key and record_date. */
static int evidence_columns(struct item_run *x, sqlite3_stmt *st, int *cols, int *n)
{
	const struct strlist *ev = &x->it->check.evidence;

	*n = 0;
	if (!ev->n) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *nm = sqlite3_column_name(st, i);
			if (strcasecmp(nm, "key") && strcasecmp(nm, "record_date"))
				cols[(*n)++] = i;
		}
		return 0;
	}
	for (size_t i = 0; i < ev->n; i++) {
		int c = column_index(st, ev->v[i]);
		if (c < 0)
			return engine_item_fail(x, "evidence column '%s' is not returned by the SQL",
					 ev->v[i]);
		cols[(*n)++] = c;
	}
	return 0;
}

static char *evidence_json(sqlite3_stmt *st, const int *cols, int n)
{
	json_t *o = json_object();
	char *s;

	for (int i = 0; o && i < n; i++)
		json_object_set_new(o, sqlite3_column_name(st, cols[i]), column_json(st, cols[i]));
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static int scan_findings(struct item_reader *r, struct item_run *x, sqlite3_stmt *st,
			 struct err *e)
{
	int kcol = column_index(st, "key"), dcol = column_index(st, "record_date");
	int ncols = sqlite3_column_count(st), *cols, n, rc;

	if (kcol < 0 || dcol < 0)
		return engine_item_fail(x, "the SQL must return columns 'key' and 'record_date'");
	cols = calloc((size_t)ncols + 1, sizeof *cols);
	if (!cols)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	rc = evidence_columns(x, st, cols, &n);
	while (!rc) {
		const char *key;
		char *ev;
		int step = sqlite3_step(st);

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = engine_item_fail(x, "the SQL failed: %s", sqlite3_errmsg(r->db));
			break;
		}
		if (!(key = (const char *)sqlite3_column_text(st, kcol)))
			continue;
		if (!(ev = evidence_json(st, cols, n))) {
			rc = err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
			break;
		}
		rc = r->found(r, x, key, (const char *)sqlite3_column_text(st, dcol), ev, e);
		free(ev);
	}
	free(cols);
	return rc;
}

static const char scope_filter[] =
	" WHERE record_date IS NULL OR (record_date >= :scope_start AND record_date < :scope_end)";

/* The count made earlier in the run for key, into *n: 1, or 0 if none. */
static int counted(struct engine *g, const char *key, int64_t *n)
{
	int found = 0;

	pthread_mutex_lock(&g->counted_mu);
	for (size_t i = 0; !found && i < g->n_counted; i++)
		if (!strcmp(g->counted[i].sql, key)) {
			*n = g->counted[i].n;
			found = 1;
		}
	pthread_mutex_unlock(&g->counted_mu);
	return found;
}

/* x->checked from st, a count, or from the same count made earlier in the
 * run (st's SQL with its values bound is the key; readers share them). */
static int count_once(struct item_reader *r, struct item_run *x, sqlite3_stmt *st)
{
	struct engine *g = r->g;
	char *key = r->reads_run ? NULL : sqlite3_expanded_sql(st);
	struct counted *more;

	if (key && counted(g, key, &x->checked)) {
		sqlite3_free(key);
		return 0;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_free(key);
		return engine_item_fail(x, "counting the records checked failed: %s",
					sqlite3_errmsg(r->db));
	}
	x->checked = sqlite3_column_int64(st, 0);
	pthread_mutex_lock(&g->counted_mu);
	if (key && (more = realloc(g->counted, (g->n_counted + 1) * sizeof *more))) {
		g->counted = more;
		if ((more[g->n_counted].sql = strdup(key)))
			more[g->n_counted++].n = x->checked;
	}
	pthread_mutex_unlock(&g->counted_mu);
	sqlite3_free(key);
	return 0;
}

static int count_checked(struct item_reader *r, struct item_run *x)
{
	const struct rule_check *c = &x->it->check;
	sqlite3_stmt *st;
	char *inner = NULL, *sql = NULL;
	int rc = 0;

	/* a checklist's date expression in brackets; the engine's own bare, so
	 * that a 'checked' written the same way ("SELECT coalesce(t_issue,
	 * not_before) AS record_date FROM issuance") shares the count */
	if (c->checked)
		inner = strdup(c->checked);
	else if (c->from &&
		 asprintf(&inner, c->date ? "SELECT (%s) AS record_date FROM %s"
					  : "SELECT %s AS record_date FROM %s",
			  c->date ? c->date : default_date(c->from), c->from) < 0)
		inner = NULL;
	if (!inner)
		return c->from || c->checked ? engine_item_fail(x, "out of memory") : 0;
	if (!(rc = engine_prepare_ro(r, x, inner, &st))) {
		sqlite3_finalize(st);
		if (asprintf(&sql, "SELECT count(*) FROM (%s)%s", inner, scope_filter) < 0)
			sql = NULL;
		rc = sql ? engine_prepare_ro(r, x, sql, &st) : engine_item_fail(x, "out of memory");
	}
	if (!rc) {
		rc = count_once(r, x, st);
		sqlite3_finalize(st);
	}
	free(inner);
	free(sql);
	return rc;
}

static int eval_check(struct item_reader *r, struct item_run *x, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *inner = check_sql(x), *sql = NULL;
	int rc;

	if (!inner)
		return 1;
	if ((rc = engine_prepare_ro(r, x, inner, &st)))
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (asprintf(&sql, "SELECT * FROM (%s)%s ORDER BY \"key\"", inner, scope_filter) < 0) {
		sql = NULL;
		rc = engine_item_fail(x, "out of memory");
		goto out;
	}
	if ((rc = engine_prepare_ro(r, x, sql, &st)))
		goto out;
	if ((rc = scan_findings(r, x, st, e)))
		goto out;
	rc = count_checked(r, x);
out:
	sqlite3_finalize(st);
	free(inner);
	free(sql);
	return rc;
}

static int eval_metric(struct item_reader *r, struct item_run *x)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = engine_prepare_ro(r, x, x->it->metric.sql, &st)))
		return rc;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return engine_item_fail(x, rc == SQLITE_DONE ? "the metric SQL returned no row"
				    : "the metric SQL failed: %s", sqlite3_errmsg(r->db));
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		x->result = "na";
	else {
		x->value = sqlite3_column_double(st, 0);
		x->has_value = 1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* A checklist's SQL may not run forever (an unbounded recursive CTE is
 * valid read-only SQL): SQLite calls this every few thousand steps and the
 * statement is interrupted once the item's budget is spent. */
static int budget_check(void *p)
{
	struct item_reader *r = p;

	if (time_monotonic() >= r->deadline)
		r->spent = 1;
	return r->spent || (r->cancel && __atomic_load_n(r->cancel, __ATOMIC_RELAXED));
}

int engine_evaluate(struct item_reader *r, struct item_run *x, struct err *e)
{
	int rc;

	r->deadline = time_monotonic() + r->g->item_seconds;
	r->spent = 0;
	sqlite3_progress_handler(r->db, 10000, budget_check, r);
	rc = x->it->kind == RULE_CHECK ? eval_check(r, x, e) : eval_metric(r, x);
	sqlite3_progress_handler(r->db, 0, NULL, NULL);
	if (rc >= 0 && r->spent)
		rc = engine_item_fail(x, "the SQL ran longer than its budget of %g s (set"
				      " CA_AUDIT_ITEM_SECONDS to allow more)", r->g->item_seconds);
	return rc;
}

int engine_settle(struct engine *g, struct item_run *x, struct err *e)
{
	const struct rule_metric *m = &x->it->metric;
	char ev[200];

	if (x->it->kind == RULE_METRIC) {
		if (!x->has_value)
			return 0;  /* NULL: not applicable, no history either */
		if ((m->has_max && x->value > m->max) || (m->has_min && x->value < m->min)) {
			snprintf(ev, sizeof ev, "{\"value\":%.17g}", x->value);
			if (engine_put_finding(g, x, "item", NULL, ev,
					       m->message ? m->message : x->it->title, e))
				return -1;
		}
	}
	if (carry_fixed(g, x, e))
		return -1;
	if (x->open)
		x->result = "fail";
	else if (x->it->kind == RULE_CHECK && !x->checked && !x->violations)
		x->result = "na";
	else
		x->result = "pass";
	return 0;
}
