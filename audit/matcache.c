/*
 * matcache.c — the engine's materialised views kept in the store; see
 * matcache.h.
 */
#include "matcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"
#include "walckpt.h"

/* Bumped when the tables' layout or upkeep changes in a way a view's
 * definition does not show: older tables are then made again. */
#define MATCACHE_FORMAT "1"

static const struct mat_view {
	const char *name;   /* the name items use; the table is main.mat_<name> */
	const char *schema; /* where the view whose definition is recorded lives */
	const char *view;   /* that view */
	const char *keyed;  /* its rows for the keys in temp.mat_serial / temp.mat_app */
	const char *key;    /* the table's key: serial or app */
} views[MATCACHE_N] = {
	{"issuance", "main", "issuance",
	 "SELECT * FROM main.issuance WHERE serial IN (SELECT key FROM temp.mat_serial)",
	 "serial"},
	{"app_flow", "temp", "app_flow_def", "SELECT * FROM temp.app_flow_keyed", "app"},
	{"revocation", "temp", "revocation_def",
	 "SELECT * FROM temp.revocation_def WHERE serial IN (SELECT key FROM temp.mat_serial)",
	 "serial"},
};

/* The tables the views read, and the key columns a written row notes. */
static const struct {
	const char *table;
	const char *cols[2];
} watched[] = {
	{"certificate", {"serial", NULL}},
	{"application", {"app", NULL}},
	{"event", {"app", "serial"}},
	{"crl_entry", {"serial", NULL}},
};

static const char *const ops[] = {"INSERT", "UPDATE", "DELETE"};

/* A refresh that would redo more keys than a rebuild's rows divided by
 * this costs more than the rebuild: every kept table is made again. */
#define MATCACHE_REBUILD_RATIO 8

static int db_fail(sqlite3 *db, struct err *e, const char *what)
{
	return err_set(e, CA_EDB, sqlite3_db_filename(db, "main"), 0, 0, "%s: %s", what,
		       sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, struct err *e, const char *what)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_fail(db, e, what);
}

/* Runs sql (one statement, with text ?1 when given) and returns its first
 * column as an integer, or -1 with e set. */
static int64_t scalar(sqlite3 *db, const char *sql, const char *p1, struct err *e)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, e, "unable to read the kept views");
	if (p1)
		sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, e, "unable to read the kept views");
	return v;
}

const char *matcache_name(unsigned i)
{
	return i < MATCACHE_N ? views[i].name : NULL;
}

/* What view i's table is made from: the format and the view's SQL text.
 * Allocated; NULL with e set when the view is missing. */
static char *definition(sqlite3 *db, unsigned i, struct err *e)
{
	char sql[128];
	sqlite3_stmt *st;
	char *def = NULL;

	snprintf(sql, sizeof sql, "SELECT sql FROM %s.sqlite_schema WHERE type = 'view'"
		 " AND name = ?1", views[i].schema);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, e, "unable to read the views' definitions");
		return NULL;
	}
	sqlite3_bind_text(st, 1, views[i].view, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    asprintf(&def, "format " MATCACHE_FORMAT "\n%s", sqlite3_column_text(st, 0)) < 0)
		def = NULL;
	sqlite3_finalize(st);
	if (!def)
		err_set(e, CA_EINTERNAL, "", 0, 0, "the view '%s' is missing", views[i].view);
	return def;
}

enum { MAT_ABSENT, MAT_STALE, MAT_CURRENT };

/* Whether view i's table is kept (MAT_STALE) and was made from def
 * (MAT_CURRENT); -1 with e set on error. */
static int64_t state(sqlite3 *db, unsigned i, const char *def, struct err *e)
{
	char sql[160];

	snprintf(sql, sizeof sql, "SELECT coalesce(max(def = ?1) + 1, 0) FROM main.mat_state"
		 " WHERE name = '%s'", views[i].name);
	return scalar(db, sql, def, e);
}

/* Drops view i's table. SQLite as Debian builds it deletes securely,
 * overwriting each freed page with zeros: for a table of a million rows
 * that wrote ~1.6 GB through the WAL (11 s at 1M). The tables copy rows
 * that stay in the store, so zeros protect nothing here: the drop runs
 * with secure_delete=FAST (zeros only where they cost no I/O) and the
 * connection's setting is restored after. */
static int drop_table(sqlite3 *db, unsigned i, struct err *e)
{
	int64_t secure = scalar(db, "PRAGMA main.secure_delete", NULL, e);
	char sql[256];
	int rc;

	if (secure < 0)
		return -1;
	snprintf(sql, sizeof sql, "PRAGMA main.secure_delete = FAST;"
		 " DROP TABLE IF EXISTS main.mat_%s;"
		 " DELETE FROM main.mat_state WHERE name = '%s';", views[i].name, views[i].name);
	rc = exec(db, sql, e, "unable to drop a kept view");
	snprintf(sql, sizeof sql, "PRAGMA main.secure_delete = %lld", (long long)secure);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	return rc;
}

/* Creates (create) or drops the triggers that note written keys. */
static int triggers(sqlite3 *db, int create, struct err *e)
{
	char sql[1024];

	for (size_t t = 0; t < sizeof watched / sizeof *watched; t++)
		for (size_t o = 0; o < sizeof ops / sizeof *ops; o++) {
			int n = create
				? snprintf(sql, sizeof sql, "CREATE TRIGGER IF NOT EXISTS main.mat_%s_%s"
					   " AFTER %s ON %s BEGIN", watched[t].table, ops[o], ops[o],
					   watched[t].table)
				: snprintf(sql, sizeof sql, "DROP TRIGGER IF EXISTS main.mat_%s_%s",
					   watched[t].table, ops[o]);

			for (size_t c = 0; create && c < 2 && watched[t].cols[c]; c++)
				for (int old = 0; old < 2; old++) {
					const char *row = old ? "OLD" : "NEW", *col = watched[t].cols[c];

					if ((old && o == 0) || (!old && o == 2))
						continue;  /* INSERT has no OLD, DELETE no NEW */
					n += snprintf(sql + n, sizeof sql - n,
						      " INSERT OR IGNORE INTO mat_dirty SELECT '%s', %s.%s"
						      " WHERE %s.%s IS NOT NULL;", col, row, col, row, col);
				}
			if (create)
				snprintf(sql + n, sizeof sql - n, " END");
			if (exec(db, sql, e, "unable to set up the kept views' triggers"))
				return -1;
		}
	return 0;
}

/* Gives view i's table, just filled, its index, the triggers and the
 * record of the definition it was made from. */
static int finish(sqlite3 *db, unsigned i, const char *def, struct err *e)
{
	const struct mat_view *v = &views[i];
	char sql[256];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof sql, "CREATE INDEX main.mat_%s_%s ON mat_%s(%s);", v->name, v->key,
		 v->name, v->key);
	if (exec(db, sql, e, "unable to make a kept view") || triggers(db, 1, e))
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO main.mat_state(name, def)"
			       " VALUES (?1, ?2)", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, e, "unable to record a kept view");
	sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, def, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db, e, "unable to record a kept view");
}

/* Makes view i's table from the whole view; with no rows (empty), for
 * parcopy to fill. */
static int make_table(sqlite3 *db, unsigned i, int empty, struct err *e)
{
	const struct mat_view *v = &views[i];
	char sql[256];

	snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS main.mat_%s;"
		 " CREATE TABLE main.mat_%s AS SELECT * FROM %s.%s%s;", v->name, v->name,
		 v->schema, v->view, empty ? " LIMIT 0" : "");
	return exec(db, sql, e, "unable to make a kept view");
}

static int build(sqlite3 *db, unsigned i, const char *def, struct err *e)
{
	double t0 = time_monotonic();

	if (make_table(db, i, 0, e) || finish(db, i, def, e))
		return -1;
	debugf("made kept view '%s' in %.2f s", views[i].name, time_monotonic() - t0);
	return 0;
}

/* The noted keys widened to every row they touch, in temp.mat_serial and
 * temp.mat_app: a certificate's issuance row depends on the application
 * that issued it, an application's app_flow row on the certificates it
 * issued. (An issue event deleted or changed notes its old serial and
 * application itself, so the kept tables' old links need no lookup.) */
static int widen(sqlite3 *db, struct err *e)
{
	static const char *const sql =
		"DELETE FROM temp.mat_serial; DELETE FROM temp.mat_app;\n"
		"INSERT OR IGNORE INTO temp.mat_app SELECT key FROM main.mat_dirty"
		" WHERE kind = 'app';\n"
		"INSERT OR IGNORE INTO temp.mat_serial SELECT key FROM main.mat_dirty"
		" WHERE kind = 'serial';\n"
		"INSERT OR IGNORE INTO temp.mat_serial SELECT serial FROM main.event"
		" WHERE app IN (SELECT key FROM temp.mat_app) AND kind = 'issue'"
		" AND serial IS NOT NULL;\n"
		"INSERT OR IGNORE INTO temp.mat_app SELECT app FROM main.event"
		" WHERE serial IN (SELECT key FROM temp.mat_serial) AND kind = 'issue'"
		" AND app IS NOT NULL;\n";

	return exec(db, sql, e, "unable to find the rows to refresh");
}

/* Redoes the rows of view i's table for the widened keys. */
static int redo(sqlite3 *db, unsigned i, struct err *e)
{
	const struct mat_view *v = &views[i];
	const char *keys = strcmp(v->key, "app") ? "temp.mat_serial" : "temp.mat_app";
	char sql[512];

	snprintf(sql, sizeof sql, "DELETE FROM main.mat_%s WHERE %s IN (SELECT key FROM %s);"
		 " INSERT INTO main.mat_%s %s;", v->name, v->key, keys, v->name, v->keyed);
	return exec(db, sql, e, "unable to refresh a kept view");
}

/* Brings the kept tables up to date with what was written since the last
 * run: drops those made from another definition, then redoes the rows of
 * the noted keys, or drops every table when that is more than a rebuild. */
static int refresh(sqlite3 *db, struct err *e)
{
	int64_t dirty, scale, have = 0;
	int keep[MATCACHE_N];
	double t0 = time_monotonic();

	for (unsigned i = 0; i < MATCACHE_N; i++) {
		char *def = definition(db, i, e);
		int64_t st = def ? state(db, i, def, e) : -1;

		free(def);
		if (st < 0 || (st == MAT_STALE && drop_table(db, i, e)))
			return -1;
		keep[i] = st == MAT_CURRENT;
		have += keep[i];
	}
	dirty = scalar(db, "SELECT count(*) FROM main.mat_dirty", NULL, e);
	scale = scalar(db, "SELECT coalesce(max(rowid), 0) FROM main.certificate", NULL, e);
	if (dirty < 0 || scale < 0)
		return -1;
	if (have > 0 && dirty > 0 && dirty <= scale / MATCACHE_REBUILD_RATIO) {
		if (widen(db, e))
			return -1;
		for (unsigned i = 0; i < MATCACHE_N; i++)
			if (keep[i] && redo(db, i, e))
				return -1;
		debugf("refreshed the kept views for %lld written keys in %.2f s",
		       (long long)dirty, time_monotonic() - t0);
	} else if (have > 0 && dirty > 0) {
		debugf("%lld keys written since the last run: the kept views are made again",
		       (long long)dirty);
		for (unsigned i = 0; i < MATCACHE_N; i++)
			if (keep[i] && drop_table(db, i, e))
				return -1;
		have = 0;
	}
	if (have == 0 && triggers(db, 0, e))
		return -1;
	return exec(db, "DELETE FROM main.mat_dirty", e, "unable to clear the written keys");
}

/* The kept tables brought up to date, once a run. */
static int refresh_once(struct matcache *m, struct err *e)
{
	if (!m->refreshed) {
		if (refresh(m->db, e))
			return -1;
		m->refreshed = 1;
	}
	return 0;
}

/* Whether view i's table must be made (again): 1 with *def its definition
 * (the caller's to free), 0 when it is current, -1 with e set. */
static int to_make(sqlite3 *db, unsigned i, char **def, struct err *e)
{
	int64_t st;

	if (!(*def = definition(db, i, e)))
		return -1;
	if ((st = state(db, i, *def, e)) >= 0 && st != MAT_CURRENT)
		return 1;
	free(*def);
	*def = NULL;
	return st < 0 ? -1 : 0;
}

int matcache_views(sqlite3 *db, unsigned used, struct err *e)
{
	char sql[160];

	for (unsigned i = 0; i < MATCACHE_N; i++) {
		if (!(used & 1u << i))
			continue;
		snprintf(sql, sizeof sql, "DROP VIEW IF EXISTS temp.%s;"
			 " CREATE TEMP VIEW %s AS SELECT * FROM main.mat_%s;", views[i].name,
			 views[i].name, views[i].name);
		if (exec(db, sql, e, "unable to use a kept view"))
			return -1;
	}
	return 0;
}

int matcache_use(struct matcache *m, unsigned i, struct err *e)
{
	char *def = NULL;
	int rc = 0;

	if (i >= MATCACHE_N || (m->used & 1u << i))
		return 0;
	if (refresh_once(m, e) || (rc = to_make(m->db, i, &def, e)) < 0 ||
	    (rc && build(m->db, i, def, e))) {
		free(def);
		return -1;
	}
	free(def);
	if (matcache_views(m->db, 1u << i, e))
		return -1;
	m->used |= 1u << i;
	return 0;
}

int matcache_shared(const struct matcache *m)
{
	return m->src.path && walckpt_in_wal(m->db);
}

int matcache_prepare(struct matcache *m, unsigned want, struct err *e)
{
	struct parcopy_job jobs[MATCACHE_N];
	char sel[MATCACHE_N][96], table[MATCACHE_N][48], *defs[MATCACHE_N] = {0};
	unsigned make[MATCACHE_N];
	size_t n = 0;
	struct err pe = {0};
	double t0 = time_monotonic();
	int rc = -1, copy_failed;

	if (!matcache_shared(m))
		return 0;
	if (refresh_once(m, e))
		return -1;
	for (unsigned i = 0; i < MATCACHE_N; i++) {
		int made;

		if (!(want & 1u << i) || (m->used & 1u << i))
			continue;
		if ((made = to_make(m->db, i, &defs[n], e)) < 0)
			goto out;
		if (!made)
			continue;
		make[n] = i;
		snprintf(sel[n], sizeof sel[n], "SELECT * FROM %s.%s", views[i].schema, views[i].view);
		snprintf(table[n], sizeof table[n], "main.mat_%s", views[i].name);
		jobs[n] = (struct parcopy_job){.select = sel[n], .table = table[n]};
		n++;
	}
	rc = 0;
	if (n < 2)
		goto out;  /* a lone one is made when an item names it */
	for (size_t k = 0; !rc && k < n; k++)
		rc = make_table(m->db, make[k], 1, e);
	/* half a minute at a million certificates: the rows made are counted */
	progress_start("making the kept views, rows", 0);
	copy_failed = !rc && parcopy_run(m->db, &m->src, jobs, n, &pe);
	progress_end();
	if (copy_failed) {
		warnf("%s; the kept views are made one after another instead", pe.msg);
		for (size_t k = 0; !rc && k < n; k++)
			rc = drop_table(m->db, make[k], e);
		goto out;
	}
	for (size_t k = 0; !rc && k < n; k++)
		rc = finish(m->db, make[k], defs[k], e);
	for (size_t k = 0; !rc && k < n; k++)
		debugf("made kept view '%s' in %.2f s, %zu at once", views[make[k]].name,
		       time_monotonic() - t0, n);
out:
	for (size_t k = 0; k < n; k++)
		free(defs[k]);
	return rc ? -1 : 0;
}

void matcache_release(struct matcache *m)
{
	char sql[80];

	for (unsigned i = 0; i < MATCACHE_N; i++)
		if (m->used & 1u << i) {
			snprintf(sql, sizeof sql, "DROP VIEW IF EXISTS temp.%s", views[i].name);
			sqlite3_exec(m->db, sql, NULL, NULL, NULL);
		}
	m->used = 0;
	m->refreshed = 0;
}

int matcache_drop(sqlite3 *db, struct err *e)
{
	double t0 = time_monotonic();

	for (unsigned i = 0; i < MATCACHE_N; i++)
		if (drop_table(db, i, e))
			return -1;
	if (triggers(db, 0, e) ||
	    exec(db, "DELETE FROM main.mat_dirty", e, "unable to clear the written keys"))
		return -1;
	debugf("dropped the kept views in %.2f s", time_monotonic() - t0);
	return 0;
}
