/*
 * engine.c — evaluating checklists against the store; see engine.h. This
 * file runs them (set-up, the read-only authorizer, parameters, the
 * materialised views, scope, results, time budgets); engine_items.c turns
 * one automated item into findings.
 *
 * Each automated item becomes one SELECT yielding (key, record_date,
 * evidence...), wrapped in the item's scope (the checklist's scope
 * intersected with the item's effective range, as UTC bounds) and ordered
 * by key so that findings come out the same on every run. The item's own
 * SQL is first prepared bare under the authorizer, so that a write is
 * refused by name ("DELETE on 'certificate'") rather than reported as a
 * syntax error of the wrapper.
 *
 * Manual items take their result (pass, fail, na) and note from the
 * configured attestations file (attest.h), which each run copies into the
 * store's attestation table; an item not attested stays "manual".
 *
 * The authorizer is installed only around the preparation of checklist
 * SQL: SQLite consults it at prepare time, and the engine's own writes
 * (run, item_result, finding) are prepared while it is off.
 */
#include "engine_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_views.h"
#include "log.h"
#include "sqlfuncs.h"
#include "threads.h"
#include "timeutil.h"

static const char *const write_sql[W_COUNT_] = {
	[W_RUN] = "INSERT INTO run(started_at, as_of, tool_version, checklists)"
		  " VALUES(strftime('%Y-%m-%d %H:%M:%S','now'), ?1, ?2, ?3)",
	[W_RUN_END] = "UPDATE run SET finished_at = strftime('%Y-%m-%d %H:%M:%S','now')"
		      " WHERE id = ?1",
	[W_RESULT] = "INSERT OR REPLACE INTO item_result(run, checklist, item, section, title,"
		     " severity, kind, basis, method, checked, violations, value, result, note)"
		     " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
	[W_FINDING] = "INSERT OR IGNORE INTO finding(run, checklist, item, key, severity,"
		      " message, evidence, status, first_seen, last_seen, record_date)"
		      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
	[W_PREV_RUN] = "SELECT max(run) FROM item_result WHERE checklist = ?1 AND item = ?2"
		       " AND run < ?3 AND result NOT IN ('error', 'manual')",
	[W_PREV_FINDING] = "SELECT status, first_seen FROM finding WHERE run = ?1"
			   " AND checklist = ?2 AND item = ?3 AND key = ?4",
	[W_FIXED] = "INSERT OR IGNORE INTO finding(run, checklist, item, key, severity, message,"
		    " evidence, status, first_seen, last_seen, record_date)"
		    " SELECT ?1, checklist, item, key, severity, message, evidence, 'fixed',"
		    " first_seen, last_seen, record_date FROM finding p"
		    " WHERE p.run = ?2 AND p.checklist = ?3 AND p.item = ?4"
		    " AND p.status <> 'fixed' AND NOT EXISTS (SELECT 1 FROM finding f"
		    " WHERE f.run = ?1 AND f.checklist = p.checklist AND f.item = p.item"
		    " AND f.key = p.key)",
};

int engine_db_fail(struct engine *g, struct err *e, const char *what)
{
	return err_set(e, CA_EDB, store_path(g->st), 0, 0, "%s: %s", what,
		       sqlite3_errmsg(g->db));
}

int engine_item_fail(struct item_run *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->note, sizeof x->note, fmt, ap);
	va_end(ap);
	x->result = "error";
	return 1;
}

/* ---- the read-only authorizer ---- */

static const char *action_name(int action)
{
	switch (action) {
	case SQLITE_INSERT: return "INSERT";
	case SQLITE_UPDATE: return "UPDATE";
	case SQLITE_DELETE: return "DELETE";
	case SQLITE_ATTACH: return "ATTACH";
	case SQLITE_DETACH: return "DETACH";
	case SQLITE_PRAGMA: return "PRAGMA";
	case SQLITE_TRANSACTION: return "a transaction";
	case SQLITE_SAVEPOINT: return "SAVEPOINT";
	case SQLITE_ANALYZE: return "ANALYZE";
	case SQLITE_REINDEX: return "REINDEX";
	case SQLITE_ALTER_TABLE: return "ALTER TABLE";
	case SQLITE_DROP_TABLE: case SQLITE_DROP_TEMP_TABLE: return "DROP TABLE";
	case SQLITE_DROP_VIEW: case SQLITE_DROP_TEMP_VIEW: return "DROP VIEW";
	case SQLITE_CREATE_TABLE: case SQLITE_CREATE_TEMP_TABLE: return "CREATE TABLE";
	case SQLITE_CREATE_VIEW: case SQLITE_CREATE_TEMP_VIEW: return "CREATE VIEW";
	case SQLITE_CREATE_INDEX: case SQLITE_CREATE_TEMP_INDEX: return "CREATE INDEX";
	default: return "a statement that is not a query";
	}
}

/* The tables a run writes: SQL reading them sees the run's own results. */
static const char *const run_tables[] = {"finding", "item_result", "run"};

static int authorize(void *ctx, int action, const char *a, const char *b,
		     const char *dbname, const char *trigger)
{
	struct item_reader *r = ctx;

	(void)dbname;
	(void)trigger;
	switch (action) {
	case SQLITE_READ:
		for (size_t i = 0; a && i < sizeof run_tables / sizeof *run_tables; i++)
			if (!strcasecmp(a, run_tables[i]))
				r->reads_run = 1;
		return SQLITE_OK;
	case SQLITE_SELECT:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_FUNCTION:
		if (b && !strcasecmp(b, "load_extension")) {
			snprintf(r->refused, sizeof r->refused, "calling load_extension()");
			return SQLITE_DENY;
		}
		return SQLITE_OK;
	default:
		if (!r->refused[0])
			snprintf(r->refused, sizeof r->refused, "%s%s%s%s", action_name(action),
				 a ? " on '" : "", a ? a : "", a ? "'" : "");
		return SQLITE_DENY;
	}
}

/* ---- parameters ---- */

int engine_bind_params(struct engine *g, struct item_run *x, sqlite3_stmt *st)
{
	int n = sqlite3_bind_parameter_count(st);

	for (int i = 1; i <= n; i++) {
		const char *p = sqlite3_bind_parameter_name(st, i);

		if (!p)
			return engine_item_fail(x, "anonymous parameter in the SQL: use a named one"
					    " (:as_of, :scope_start...)");
		if (!strcmp(p, ":revocation_hours"))
			sqlite3_bind_int64(st, i, g->rev_h);
		else if (!strcmp(p, ":crl_publish_hours"))
			sqlite3_bind_int64(st, i, g->crl_h);
		else if (!strcmp(p, ":max_validity_days"))
			sqlite3_bind_int64(st, i, g->max_days);
		else if (!strcmp(p, ":as_of"))
			sqlite3_bind_text(st, i, g->as_of_end, -1, SQLITE_STATIC);
		else if (!strcmp(p, ":as_of_date"))
			sqlite3_bind_text(st, i, g->o->as_of, -1, SQLITE_STATIC);
		else if (!strcmp(p, ":scope_start"))
			sqlite3_bind_text(st, i, x->start, -1, SQLITE_STATIC);
		else if (!strcmp(p, ":scope_end"))
			sqlite3_bind_text(st, i, x->end, -1, SQLITE_STATIC);
		else
			return engine_item_fail(x, "unknown parameter '%s' (known: :revocation_hours,"
					    " :crl_publish_hours, :max_validity_days, :as_of,"
					    " :as_of_date, :scope_start, :scope_end)", p);
	}
	return 0;
}

/* ---- materialised views ---- */

static int ident_char(char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (unsigned char)c >= 0x80;
}

/* Whether sql names the identifier name (a word, in any case). */
static int names(const char *sql, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strcasestr(sql, name); p; p = strcasestr(p + 1, name))
		if ((p == sql || !ident_char(p[-1])) && !ident_char(p[n]))
			return 1;
	return 0;
}

/* Whether any of the item's SQL names the identifier name. */
static int item_names(const struct rule_item *it, const char *name)
{
	const char *sql[] = {it->check.from, it->check.where, it->check.date, it->check.key,
			     it->check.sql, it->check.checked, it->metric.sql};

	for (size_t k = 0; k < sizeof sql / sizeof *sql; k++)
		if (sql[k] && names(sql[k], name))
			return 1;
	return 0;
}

int engine_item_reads_run(const struct rule_item *it)
{
	for (size_t i = 0; i < sizeof run_tables / sizeof *run_tables; i++)
		if (item_names(it, run_tables[i]))
			return 1;
	return 0;
}

/* Materialises each view sql names, the first time it is named in the run
 * (matcache.h), on the run's own connection; a worker's finds them made
 * before the items ran. Returns 0, or 1 with the item failed. */
static int materialise(struct item_reader *r, struct item_run *x, const char *sql)
{
	struct engine *g = r->g;

	for (unsigned i = 0; i < MATCACHE_N; i++) {
		struct err me = {0};
		double t0 = time_monotonic();

		if ((g->mc.used & 1u << i) || !names(sql, matcache_name(i)))
			continue;
		if (!r->own)
			return engine_item_fail(x, "the kept view '%s' was not made before the"
						" items ran", matcache_name(i));
		if (matcache_use(&g->mc, i, &me))
			return engine_item_fail(x, "unable to materialise '%s': %s", matcache_name(i),
					 me.msg);
		/* matcache says what it made or refreshed (-v) */
		g->mat_seconds += time_monotonic() - t0;
	}
	return 0;
}

/* Prepares checklist SQL under the authorizer and binds the parameters;
 * returns 0, or 1 with the item failed. */
int engine_prepare_ro(struct item_reader *r, struct item_run *x, const char *sql,
		      sqlite3_stmt **out)
{
	const char *tail = NULL;
	int rc;

	*out = NULL;
	r->refused[0] = '\0';
	r->reads_run = 0;
	if (materialise(r, x, sql))
		return 1;
	sqlite3_set_authorizer(r->db, authorize, r);
	rc = sqlite3_prepare_v2(r->db, sql, -1, out, &tail);
	sqlite3_set_authorizer(r->db, NULL, NULL);
	if (rc != SQLITE_OK) {
		if (r->refused[0])
			return engine_item_fail(x, "refused: %s is not allowed (checklist SQL is"
					    " read-only)", r->refused);
		return engine_item_fail(x, "invalid SQL: %s", sqlite3_errmsg(r->db));
	}
	if (!*out)
		return engine_item_fail(x, "the SQL is empty");
	tail += strspn(tail, " \t\r\n;");
	if (*tail) {
		sqlite3_finalize(*out);
		*out = NULL;
		return engine_item_fail(x, "more than one SQL statement (near '%.40s')", tail);
	}
	if (!sqlite3_stmt_readonly(*out)) {
		sqlite3_finalize(*out);
		*out = NULL;
		return engine_item_fail(x, "refused: the statement writes (checklist SQL is read-only)");
	}
	if (engine_bind_params(r->g, x, *out)) {
		sqlite3_finalize(*out);
		*out = NULL;
		return 1;
	}
	return 0;
}

/* ---- scope ---- */

static void date_next(const char *d, char out[11])
{
	struct tm tm = {0};
	time_t t;

	sscanf(d, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_mday += 1;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int engine_item_scope(const struct checklist *cl, const struct rule_item *it,
		      char start[20], char end[20])
{
	const char *lo = cl->scope_from, *hi = cl->scope_to;
	char next[11];

	if (it->eff_from && (!lo || strcmp(it->eff_from, lo) > 0))
		lo = it->eff_from;
	if (it->eff_to && (!hi || strcmp(it->eff_to, hi) < 0))
		hi = it->eff_to;
	if (lo && hi && strcmp(lo, hi) > 0)
		return 0;
	snprintf(start, 20, "0000-01-01 00:00:00");
	snprintf(end, 20, "9999-12-31 23:59:59");
	if (lo && time_local_date_utc(lo, start))
		return 0;
	if (hi) {
		date_next(hi, next);
		if (time_local_date_utc(next, end))
			return 0;
	}
	return 1;
}

int engine_item_automated(const struct checklist *cl, const struct rule_item *it,
			  char start[20], char end[20])
{
	return it->kind != RULE_MANUAL && engine_item_scope(cl, it, start, end);
}

/* ---- results ---- */

static const char *kind_name(int kind)
{
	return kind == RULE_CHECK ? "check" : kind == RULE_METRIC ? "metric" : "manual";
}

static const char *method_text(int kind)
{
	return kind == RULE_CHECK ? "证据库自动核查" : kind == RULE_METRIC ? "证据库自动统计"
									   : "人工核查";
}

static int store_result(struct engine *g, struct item_run *x, struct err *e)
{
	sqlite3_stmt *st = g->w[W_RESULT];
	json_t *basis = json_array();
	char *bj;
	int rc;

	for (size_t i = 0; basis && i < x->it->basis.n; i++)
		json_array_append_new(basis, json_string(x->it->basis.v[i]));
	bj = basis ? json_dumps(basis, JSON_COMPACT) : NULL;
	json_decref(basis);
	sqlite3_bind_int64(st, 1, g->sum->run);
	sqlite3_bind_text(st, 2, x->cl->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, x->it->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, x->it->section, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, x->it->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, rules_severity_name(x->it->severity), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, kind_name(x->it->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, bj, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, method_text(x->it->kind), -1, SQLITE_STATIC);
	if (x->checked >= 0)
		sqlite3_bind_int64(st, 10, x->checked);
	else
		sqlite3_bind_null(st, 10);
	if (x->it->kind != RULE_MANUAL && strcmp(x->result, "error"))
		sqlite3_bind_int64(st, 11, x->violations);
	else
		sqlite3_bind_null(st, 11);
	if (x->has_value)
		sqlite3_bind_double(st, 12, x->value);
	else
		sqlite3_bind_null(st, 12);
	sqlite3_bind_text(st, 13, x->result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, x->note[0] ? x->note : NULL, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(bj);
	return rc == SQLITE_DONE ? 0 : engine_db_fail(g, e, "unable to store an item result");
}

static int previous_run(struct engine *g, struct item_run *x, struct err *e)
{
	sqlite3_stmt *st = g->w[W_PREV_RUN];
	int rc;

	sqlite3_bind_text(st, 1, x->cl->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->it->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, g->sum->run);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		x->prev = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : engine_db_fail(g, e, "unable to read the previous run");
}

/* A row found on the run's own connection: stored at once. */
static int store_found(struct item_reader *r, struct item_run *x, const char *key,
		       const char *date, const char *evidence, struct err *e)
{
	return engine_put_finding(r->g, x, key, date, evidence, x->it->check.message, e);
}

/* The automated item x evaluated (by a worker when par is given, else
 * here) and settled. 0, or -1 with e set. */
static int evaluate_item(struct engine *g, struct engine_par *par, size_t k,
			 struct item_run *x, struct err *e)
{
	double m0 = g->mat_seconds, t0 = time_monotonic();
	int rc;

	if (par)
		rc = engine_par_take(par, k, x, e);
	else {
		rc = engine_evaluate(g->own, x, e);
		x->seconds = time_monotonic() - t0;
	}
	if (rc < 0 || (rc == 0 && engine_settle(g, x, e)))
		return -1;
	/* the first item naming a view pays for making (or refreshing) it:
	 * said apart when it shows at the printed precision, so that the
	 * item's own time reads true */
	m0 = g->mat_seconds - m0;
	if (m0 >= 0.005)
		debugf("checklist '%s' item '%s': %s in %.2f s (and %.2f s making views)",
		       x->cl->id, x->it->id, x->result, x->seconds - m0, m0);
	else
		debugf("checklist '%s' item '%s': %s in %.2f s", x->cl->id, x->it->id, x->result,
		       x->seconds);
	return 0;
}

/* Item k of the run (numbered across the checklists) evaluated, or
 * answered from the attestations, and its result stored. */
static int run_item(struct engine *g, struct engine_par *par, size_t k,
		    const struct checklist *cl, const struct rule_item *it, struct err *e)
{
	struct item_run x = {.cl = cl, .it = it, .checked = -1, .result = "manual"};

	if (previous_run(g, &x, e))
		return -1;
	if (it->kind == RULE_MANUAL) {
		const struct attestation *a = attest_find(&g->att, cl->id, it->id);
		x.result = a ? a->result : "manual";
		if (a && a->note)
			snprintf(x.note, sizeof x.note, "%s", a->note);
	} else if (!engine_item_scope(cl, it, x.start, x.end)) {
		x.result = "na";
		snprintf(x.note, sizeof x.note, "not in effect within the checklist's scope");
	} else if (evaluate_item(g, par, k, &x, e))
		return -1;
	if (!strcmp(x.result, "error")) {
		if (!g->sum->errors++)
			err_set(&g->sum->first_error, CA_EINPUT, cl->path, it->line, 0,
				"checklist '%s' item '%s': %s", cl->id, it->id, x.note);
		warnf("checklist '%s' item '%s': %s", cl->id, it->id, x.note);
	}
	g->sum->items++;
	return store_result(g, &x, e);
}

/* ---- set-up ---- */

/* The configured attestations file (relative to the configuration's
 * directory), validated against the checklists; none configured, none. */
static int load_attestations(struct engine *g, struct checklist *const *lists, size_t n,
			     struct err *e)
{
	const struct config *cfg = g->o->cfg;
	char *path;
	int rc;

	if (!cfg || !cfg->attestations)
		return 0;
	if (!(path = config_path(cfg, cfg->attestations)))
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	rc = attest_load(path, cfg, lists, n, &g->att, e);
	free(path);
	return rc;
}

static int fill_list(struct engine *g, sqlite3 *db, const char *table,
		     const struct strlist *l, struct err *e)
{
	sqlite3_stmt *st;
	char sql[80];

	snprintf(sql, sizeof sql, "INSERT INTO temp.%s(v) VALUES(?)", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, store_path(g->st), 0, 0, "unable to prepare the"
			       " mutual-recognition lists: %s", sqlite3_errmsg(db));
	for (size_t i = 0; i < l->n; i++) {
		sqlite3_bind_text(st, 1, l->v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			err_set(e, CA_EDB, store_path(g->st), 0, 0, "unable to fill the"
				" mutual-recognition lists: %s", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return 0;
}

int engine_fill_lists(struct engine *g, sqlite3 *db, struct err *e)
{
	const struct config *cfg = g->o->cfg;

	return cfg && (fill_list(g, db, "mr_cert_type", &cfg->mr_cert_types, e) ||
		       fill_list(g, db, "mr_policy_oid", &cfg->mr_policy_oids, e) ||
		       fill_list(g, db, "mr_issuer", &cfg->mr_issuers, e)) ? -1 : 0;
}

/* local_date(utc), and local_midnight('YYYY-MM-DD'): the UTC time the local
 * day starts, so that rules can bound an indexed UTC column by local days
 * instead of converting every row with local_date(). Each is the timeutil
 * converter given as the function's user data; NULL for what it refuses. */
struct time_conv {
	int (*fn)(const char *in, char *out); /* out holds 20 bytes */
};
static const struct time_conv to_local_date = {time_utc_local_date},
			      to_local_midnight = {time_local_date_utc};

static void fn_time_conv(sqlite3_context *c, int argc, sqlite3_value **v)
{
	const struct time_conv *conv = sqlite3_user_data(c);
	const unsigned char *s = sqlite3_value_text(v[0]);
	char out[20];

	(void)argc;
	if (!s || conv->fn((const char *)s, out))
		sqlite3_result_null(c);
	else
		sqlite3_result_text(c, out, -1, SQLITE_TRANSIENT);
}

/* The run's connection, a worker's making the kept views (matcache_prepare)
 * or one evaluating items (engine_par.c). */
int engine_conn_setup(sqlite3 *db, void *path, struct err *e)
{
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	if (sqlfuncs_register(db, e))
		return -1;
	if (sqlite3_create_function(db, "local_date", 1, flags, (void *)&to_local_date,
				    fn_time_conv, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "local_midnight", 1, flags, (void *)&to_local_midnight,
				    fn_time_conv, NULL, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, path, 0, 0, "unable to register local_date() and"
			       " local_midnight(): %s", sqlite3_errmsg(db));
	if (sqlite3_exec(db, engine_views_sql, NULL, NULL, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, path, 0, 0, "unable to create the engine's views: %s",
			       sqlite3_errmsg(db));
	return 0;
}

static int set_up(struct engine *g, struct err *e)
{
	const struct config *cfg = g->o->cfg;
	char next[11], t[20];

	if (engine_conn_setup(g->db, (void *)store_path(g->st), e))
		return -1;
	if (threads_wanted() > 1)
		g->mc.src = (struct parcopy_src){.path = store_path(g->st),
						 .setup = engine_conn_setup,
						 .arg = (void *)store_path(g->st)};
	g->rev_h = cfg ? cfg->revocation_hours : 24;
	g->crl_h = cfg ? cfg->crl_publish_hours : 24;
	g->max_days = cfg ? cfg->max_validity_days : 1825;
	if (engine_fill_lists(g, g->db, e))
		return -1;
	date_next(g->o->as_of, next);
	if (time_local_date_utc(next, t))
		return err_set(e, CA_EINPUT, "", 0, 0, "bad as-of date '%s'", g->o->as_of);
	time_epoch_utc(time_utc_epoch(t) - 1, g->as_of_end);
	for (int i = 0; i < W_COUNT_; i++)
		if (sqlite3_prepare_v2(g->db, write_sql[i], -1, &g->w[i], NULL) != SQLITE_OK)
			return engine_db_fail(g, e, "unable to prepare the engine's statements");
	return 0;
}

static int sync_cps(struct engine *g, struct err *e)
{
	const struct config *cfg = g->o->cfg;
	const char **v, **d;
	int rc;

	if (!cfg || !cfg->n_cps)
		return 0;
	v = calloc(cfg->n_cps, sizeof *v);
	d = calloc(cfg->n_cps, sizeof *d);
	if (!v || !d) {
		free(v);
		free(d);
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	}
	for (size_t i = 0; i < cfg->n_cps; i++) {
		v[i] = cfg->cps[i].version;
		d[i] = cfg->cps[i].effective;
	}
	rc = store_set_cps(g->st, v, d, cfg->n_cps, e);
	free(v);
	free(d);
	return rc;
}

static int begin_run(struct engine *g, struct checklist *const *lists, size_t n,
		     struct err *e)
{
	sqlite3_stmt *st = g->w[W_RUN];
	char ids[1024] = "";
	int rc;

	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(ids);
		snprintf(ids + used, sizeof ids - used, "%s%s", i ? "," : "", lists[i]->id);
	}
	sqlite3_bind_text(st, 1, g->o->as_of, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, g->o->tool_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ids, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return engine_db_fail(g, e, "unable to start a run");
	g->sum->run = sqlite3_last_insert_rowid(g->db);
	return 0;
}

/* The kept views (bit i: matcache view i) that the SQL of the items this
 * run evaluates names. */
static unsigned views_named(struct checklist *const *lists, size_t n)
{
	unsigned want = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < lists[i]->n_items; j++) {
			const struct rule_item *it = &lists[i]->items[j];
			char start[20], end[20];

			if (!engine_item_automated(lists[i], it, start, end))
				continue;
			for (unsigned v = 0; v < MATCACHE_N; v++)
				if (item_names(it, matcache_name(v)))
					want |= 1u << v;
		}
	return want;
}

/* The items evaluated, on workers' connections too when shared. */
static int evaluate(struct engine *g, struct checklist *const *lists, size_t n,
		    int shared, struct err *e)
{
	struct engine_par *par = shared ? engine_par_start(g, lists, n) : NULL;
	uint64_t total = 0, done = 0;
	sqlite3_stmt *end = g->w[W_RUN_END];
	int rc;

	for (size_t i = 0; i < n; i++)
		total += lists[i]->n_items;
	progress_start("checking", total);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < lists[i]->n_items; j++) {
			if (run_item(g, par, done, lists[i], &lists[i]->items[j], e)) {
				progress_end();
				engine_par_stop(par);
				return -1;
			}
			progress_update(++done);
		}
	progress_end();
	engine_par_stop(par);
	sqlite3_bind_int64(end, 1, g->sum->run);
	rc = sqlite3_step(end);
	sqlite3_reset(end);
	return rc == SQLITE_DONE ? 0 : engine_db_fail(g, e, "unable to finish the run");
}

/* Other connections' commits to the store since db's last transaction;
 * -1 when it cannot be read. */
static int64_t data_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Makes every view the items name and commits them (with the other writes
 * of the open transaction), then opens the run's transaction: workers'
 * connections read the last commit, and so must find the views in it.
 * Returns 1 when they can (no other connection committed in between), 0
 * when the items must be evaluated on this connection, -1 with e set. */
static int share_views(struct engine *g, unsigned want, struct err *e)
{
	int64_t before, after;

	if (!matcache_shared(&g->mc))
		return 0;
	if (matcache_prepare(&g->mc, want, e))
		return -1;
	for (unsigned i = 0; i < MATCACHE_N; i++)
		if ((want & 1u << i) && matcache_use(&g->mc, i, e))
			return -1;
	/* read while this transaction holds the write lock: a commit of another
	 * connection's right after ours changes it; ours does not */
	before = data_version(g->db);
	if (store_commit(g->st, e))
		return -1;
	if (store_begin(g->st, e))
		return -1;
	after = data_version(g->db);
	if (before >= 0 && before == after)
		return 1;
	/* the views may not show that write: made (or refreshed) again here */
	debugf("the store was written while the check began: its items are evaluated"
	       " one after another");
	matcache_release(&g->mc);
	return 0;
}

/* Seconds one item's SQL may run: $CA_AUDIT_ITEM_SECONDS, default 600 (a
 * checklist over a million certificates takes seconds per item). */
static double item_budget(void)
{
	const char *v = getenv("CA_AUDIT_ITEM_SECONDS");
	char *end;
	double s = v ? strtod(v, &end) : 0;

	if (!v || end == v || *end || s <= 0) {
		if (v)
			warnf("CA_AUDIT_ITEM_SECONDS='%s' is not a positive number; using 600", v);
		return 600;
	}
	return s;
}

int engine_run(struct store *st, struct checklist *const *lists, size_t n,
	       const struct engine_opts *o, struct engine_summary *sum, struct err *e)
{
	struct engine g = {.st = st, .db = store_db(st), .o = o, .sum = sum,
			   .mc = {.db = store_db(st)}};
	struct item_reader own = {.g = &g, .db = store_db(st), .own = 1, .found = store_found};
	int rc = -1, shared = 0;

	g.own = &own;
	pthread_mutex_init(&g.counted_mu, NULL);
	memset(sum, 0, sizeof *sum);
	g.item_seconds = item_budget();
	if (o->waivers && findings_waivers_load(o->waivers, &g.waivers, e))
		return -1;
	sum->waivers_expired = findings_waivers_expired(g.waivers, o->waivers, o->as_of);
	if (load_attestations(&g, lists, n, e) || set_up(&g, e))
		goto out;
	if (store_begin(st, e))
		goto out;
	/* the engine's own write, before any checklist SQL is prepared under the
	 * read-only authorizer */
	if (sync_cps(&g, e) || attest_store(g.db, store_path(st), &g.att, e) ||
	    (o->rebuild && matcache_drop(g.db, e)) ||
	    (shared = share_views(&g, views_named(lists, n), e)) < 0 ||
	    begin_run(&g, lists, n, e) ||
	    (!shared && matcache_prepare(&g.mc, views_named(lists, n), e)) ||
	    evaluate(&g, lists, n, shared, e)) {
		store_rollback(st);
		goto out;
	}
	rc = store_commit(st, e);
out:
	matcache_release(&g.mc);
	for (size_t i = 0; i < g.n_counted; i++)
		free(g.counted[i].sql);
	free(g.counted);
	for (int i = 0; i < W_COUNT_; i++)
		sqlite3_finalize(g.w[i]);
	findings_waivers_free(g.waivers);
	attest_free(&g.att);
	pthread_mutex_destroy(&g.counted_mu);
	return rc;
}

int64_t engine_last_run(struct store *st, struct err *e)
{
	sqlite3_stmt *q;
	int64_t id = -1;

	if (sqlite3_prepare_v2(store_db(st), "SELECT coalesce(max(id), 0) FROM run", -1, &q,
			       NULL) != SQLITE_OK) {
		err_set(e, CA_EDB, store_path(st), 0, 0, "unable to read the runs: %s",
			sqlite3_errmsg(store_db(st)));
		return -1;
	}
	if (sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return id;
}
