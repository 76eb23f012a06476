/*
 * store.c — the evidence store on SQLite; see store.h. The schema is
 * store_schema.sql, embedded at build time as STORE_SCHEMA_SQL.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_schema.h"
#include "threads.h"
#include "timeutil.h"
#include "walckpt.h"

enum {
	ST_CERT, ST_EVENT, ST_APP, ST_REJECT, ST_SRC_GET, ST_SRC_PUT, ST_CRL, ST_CRL_ENTRY,
	ST_CRL_FIRST, ST_CRL_LATER, ST_COUNT_
};

static const char *const stmt_sql[ST_COUNT_] = {
	[ST_CERT] = "INSERT INTO certificate(serial, issuer, subject, cn, o, ou, c, st, l,"
		    " email, id_type, id_number, not_before, not_after, sig_alg, key_alg,"
		    " key_bits, key_usage, ext_key_usage, policies, crl_dp, ocsp, is_ca,"
		    " status, revoked_at, revocation_reason, sha256, source)"
		    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
		    " ON CONFLICT(issuer, serial) DO UPDATE SET"
		    " status = coalesce(excluded.status, status),"
		    " revoked_at = coalesce(excluded.revoked_at, revoked_at),"
		    " revocation_reason = coalesce(excluded.revocation_reason, revocation_reason)"
		    " WHERE coalesce(excluded.status, status) IS NOT status"
		    " OR coalesce(excluded.revoked_at, revoked_at) IS NOT revoked_at"
		    " OR coalesce(excluded.revocation_reason, revocation_reason) IS NOT revocation_reason",
	[ST_EVENT] = "INSERT OR IGNORE INTO event(at, kind, app, serial, actor, method, result,"
		     " reason, items, covers, cps_version, contract, new_serial,"
		     " recipient_name, recipient_id_type, recipient_id, sha256, source, line)"
		     " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_APP] = "INSERT OR IGNORE INTO application(app, applicant_type, applicant_name,"
		   " applicant_id_type, applicant_id, cert_type, sector, channel, applied_at)"
		   " VALUES(?,?,?,?,?,?,?,?,?)",
	[ST_REJECT] = "INSERT OR IGNORE INTO reject(source, line, reason) VALUES(?,?,?)",
	[ST_SRC_GET] = "SELECT kind, type, size, sha256, records, rejects, lines, mtime_ns"
		       " FROM source_file"
		       " WHERE path = ?",
	[ST_SRC_PUT] = "INSERT OR REPLACE INTO source_file(path, kind, type, size, sha256,"
		       " records, rejects, lines, mtime_ns, ingested_at)"
		       " VALUES(?,?,?,?,?,?,?,?,?,strftime('%Y-%m-%d %H:%M:%S','now'))",
	[ST_CRL] = "INSERT OR IGNORE INTO crl(issuer, this_update, next_update, number, source)"
		   " VALUES(?,?,?,?,?)",
	[ST_CRL_ENTRY] = "INSERT OR IGNORE INTO crl_entry(issuer, serial, revoked_at, reason,"
			 " crl_this_update) VALUES(?,?,?,?,?)",
	[ST_CRL_FIRST] = "SELECT min(crl_this_update) FROM crl_entry WHERE issuer = ? AND serial = ?",
	[ST_CRL_LATER] = "DELETE FROM crl_entry WHERE issuer = ? AND serial = ?"
			 " AND crl_this_update > ?",
};

struct store {
	sqlite3 *db;                   /* owned */
	char *path;                    /* owned */
	sqlite3_stmt *stmt[ST_COUNT_]; /* owned, prepared on first use */
	int in_tx;                     /* a transaction is open */
	int grouping;                  /* between store_group_begin and _end */
	int group_open;                /* the group's own transaction is open */
	double group_t0;               /* when it was opened */
	int group_spills;              /* the cache's spills then */
	int in_savepoint;              /* the open transaction is a savepoint in a group */
	unsigned deferred;             /* bulk_indexes dropped by store_bulk_begin */
	struct walckpt *ckpt;          /* while checkpoints are aside, or NULL */
};

static int db_error(struct store *s, struct err *e, const char *what)
{
	return err_set(e, CA_EDB, s->path, 0, 0, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, CA_EDB, s->path, 0, 0, "%s", msg ? msg : "database error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int schema_version(struct store *s, int *version, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*version = 0;
	rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE name = 'meta'",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return err_set(e, CA_EDB, s->path, 0, 0,
			       "not a ca-audit store (%s)", sqlite3_errmsg(s->db));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		/* an empty file is a new store; anything else is not ours */
		rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL);
		if (rc != SQLITE_OK)
			return db_error(s, e, "unable to read the store");
		sqlite3_step(st);
		rc = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (rc)
			return err_set(e, CA_EINPUT, s->path, 0, 0,
				       "not a ca-audit store (it has tables but no meta table)");
		return 0;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema_version'",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, e, "unable to read the schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (*version <= 0)
		return err_set(e, CA_EINPUT, s->path, 0, 0,
			       "not a ca-audit store (no schema version)");
	return 0;
}

/* Brings a store written by an older ca-audit up to this schema, one
 * version at a time, in one transaction; its views are made anew from this
 * version's schema (they hold no data). */
static int migrate(struct store *s, int version, struct err *e)
{
	static const char *const steps[] = {
		/* 1 -> 2: skip unchanged files by size and modification time */
		"ALTER TABLE source_file ADD COLUMN mtime_ns INTEGER;",
		/* 2 -> 3: months of activity found by index (activity_month) */
		"CREATE INDEX IF NOT EXISTS certificate_not_before ON certificate(not_before);",
		/* 3 -> 4: the engine's materialised views kept between runs */
		"CREATE TABLE IF NOT EXISTS mat_state(name TEXT PRIMARY KEY, def TEXT NOT NULL);"
		" CREATE TABLE IF NOT EXISTS mat_dirty(kind TEXT NOT NULL, key TEXT NOT NULL,"
		" PRIMARY KEY(kind, key)) WITHOUT ROWID;",
		/* 4 -> 5: issuance.t_misdeliver (the view is made again below) */
		"SELECT 1;",
		/* 5 -> 6: event_serial without the events naming no certificate */
		("DROP INDEX IF EXISTS event_serial; CREATE INDEX event_serial ON"
		 " event(serial, kind, at) WHERE serial IS NOT NULL;"),
	};
	char buf[64];

	/* a step may rebuild an index: seconds on a large store */
	notef("%s: upgrading the store from schema %d to %d", s->path, version,
	      STORE_SCHEMA_VERSION);
	if (exec(s, "BEGIN IMMEDIATE", e))
		return -1;
	for (int v = version; v < STORE_SCHEMA_VERSION; v++)
		if (exec(s, steps[v - 1], e))
			goto fail;
	if (exec(s, "DROP VIEW IF EXISTS issuance", e) ||
	    exec(s, strstr(STORE_SCHEMA_SQL, "\nCREATE VIEW "), e))
		goto fail;
	snprintf(buf, sizeof buf, "%d", STORE_SCHEMA_VERSION);
	if (store_meta_set(s, "schema_version", buf, e) || exec(s, "COMMIT", e))
		goto fail;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* The page cache, in KiB (SQLite takes it negated) */
#define STORE_CACHE_KIB "-65536"

/* SQLite's default autocheckpoint, in WAL frames. store_checkpoints_aside
 * replaces it with a checkpoint beside the writer each time a commit leaves
 * ASIDE_CHECKPOINT frames (64 MiB of 16 KiB pages); a bulk load raises it
 * to BULK_AUTOCHECKPOINT. */
#define STORE_AUTOCHECKPOINT 1000
#define ASIDE_CHECKPOINT 4096
#define BULK_AUTOCHECKPOINT "16384"

int store_open(const char *path, int readonly, struct store **out, struct err *e)
{
	struct store *s;
	int version, flags;
	char buf[64];

	*out = NULL;
	s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory");
	}
	/* one thread uses a connection at a time (the ingest worker never touches
	 * it): no per-call mutex */
	flags = SQLITE_OPEN_NOMUTEX |
		(readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		err_set(e, readonly ? CA_EINPUT : CA_EIO, path, 0, 0, "unable to open the store: %s",
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	/* 16 KiB pages for a new store (an existing one keeps its own): the
	 * checks scan million-row tables, and a quarter of the page reads, each
	 * a system call and a page-cache lookup, made a nightly check at 1M 20%
	 * faster than 4 KiB pages (BENCHMARKS.md, round 6) */
	if (!readonly && exec(s, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL;"
			      " PRAGMA synchronous=NORMAL;"
			      " PRAGMA foreign_keys=OFF;", e))
		goto fail;
	/* temp tables (the engine's materialised views, sorts) go to a file
	 * through a bounded cache: a million rows in memory would pass the
	 * 256 MB peak the tool keeps to */
	if (exec(s, "PRAGMA cache_size=" STORE_CACHE_KIB "; PRAGMA temp_store=FILE;"
		    " PRAGMA temp.cache_size=-32768;", e))
		goto fail;
	if (schema_version(s, &version, e))
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		err_set(e, CA_EINPUT, path, 0, 0,
			"the store was written by a newer ca-audit (schema %d; this one reads"
			" up to %d): upgrade ca-audit or use another --db", version,
			STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version > 0 && version < STORE_SCHEMA_VERSION && !readonly &&
	    migrate(s, version, e))
		goto fail;
	if (version == 0) {
		if (readonly) {
			err_set(e, CA_EINPUT, path, 0, 0,
				"the store is empty: run 'ca-audit ingest' first");
			goto fail;
		}
		if (exec(s, "BEGIN", e) || exec(s, STORE_SCHEMA_SQL, e))
			goto fail_tx;
		snprintf(buf, sizeof buf, "%d", STORE_SCHEMA_VERSION);
		if (store_meta_set(s, "schema_version", buf, e) || exec(s, "COMMIT", e))
			goto fail_tx;
	}
	*out = s;
	return 0;
fail_tx:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
fail:
	store_close(s);
	return -1;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->in_tx || s->group_open)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	walckpt_stop(s->ckpt, s->db, STORE_AUTOCHECKPOINT);
	for (int i = 0; i < ST_COUNT_; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int store_checkpoints_aside(struct store *s)
{
	if (!s->ckpt && threads_wanted() > 1)
		s->ckpt = walckpt_start(s->db, ASIDE_CHECKPOINT);
	return s->ckpt != NULL;
}

void store_checkpoints_back(struct store *s)
{
	walckpt_stop(s->ckpt, s->db, STORE_AUTOCHECKPOINT);
	s->ckpt = NULL;
}

sqlite3 *store_db(struct store *s) { return s->db; }
const char *store_path(const struct store *s) { return s->path; }

/* Inside a group a file's transaction is the group's transaction, or a
 * savepoint in it for the files after the first; the group's transaction
 * is committed once it has lasted GROUP_SECONDS, or as soon as its
 * dirty pages no longer fit the page cache. A commit writes each page it
 * dirtied to the WAL, and a CRL of a dozen new entries dirties some sixty
 * 16 KiB pages of random index leaves, so 3,650 CRLs a commit each wrote
 * 3.4 GB; but a transaction whose pages outgrow the cache spills them to the
 * WAL and writes them again when they are dirtied again, so a group of files
 * that each dirty thousands of pages (the nightly increment's) costs more
 * than a commit each. A rolled-back savepoint leaves the group's earlier
 * files in it; a group that is never committed (the process killed, or its
 * COMMIT failing, which fails the file that ended it) loses whole files, and
 * their bookkeeping rows with them, so the next ingest reads them again. */
#define GROUP_SECONDS 1.0

static int cache_spills(struct store *s)
{
	int now = 0, high = 0;

	sqlite3_db_status(s->db, SQLITE_DBSTATUS_CACHE_SPILL, &now, &high, 0);
	return now;
}

/* Commits the group's transaction, or rolls it back if the commit fails. */
static int group_commit(struct store *s, struct err *e)
{
	s->group_open = 0;
	if (exec(s, "COMMIT", e)) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

void store_group_begin(struct store *s)
{
	s->grouping = 1;
}

int store_group_end(struct store *s, struct err *e)
{
	int rc = 0;

	if (s->in_tx)
		store_rollback(s);
	if (s->group_open)
		rc = group_commit(s, e);
	s->grouping = 0;
	return rc;
}

/* A file that opens its group's transaction takes no savepoint: there is
 * nothing before it to keep, and a savepoint copies each page that existed
 * when it opened to a statement journal before the file changes it. */
int store_begin(struct store *s, struct err *e)
{
	s->in_savepoint = s->grouping && s->group_open;
	if (exec(s, s->in_savepoint ? "SAVEPOINT file" : "BEGIN IMMEDIATE", e))
		return -1;
	if (s->grouping && !s->group_open) {
		s->group_open = 1;
		s->group_t0 = time_monotonic();
		s->group_spills = cache_spills(s);
	}
	s->in_tx = 1;
	return 0;
}

int store_commit(struct store *s, struct err *e)
{
	/* a group's first file is committed with the group */
	if ((!s->grouping || s->in_savepoint) &&
	    exec(s, s->in_savepoint ? "RELEASE file" : "COMMIT", e))
		return -1;
	s->in_tx = 0;
	if (s->grouping && (time_monotonic() - s->group_t0 >= GROUP_SECONDS ||
			    cache_spills(s) != s->group_spills))
		return group_commit(s, e);
	return 0;
}

void store_rollback(struct store *s)
{
	if (!s->in_tx)
		return;
	if (s->in_savepoint) {
		sqlite3_exec(s->db, "ROLLBACK TO file; RELEASE file", NULL, NULL, NULL);
	} else {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->group_open = 0;
	}
	s->in_tx = 0;
}

static sqlite3_stmt *stmt(struct store *s, int which, struct err *e)
{
	if (!s->stmt[which] &&
	    sqlite3_prepare_v3(s->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
			       &s->stmt[which], NULL) != SQLITE_OK) {
		db_error(s, e, "unable to prepare a statement");
		return NULL;
	}
	sqlite3_reset(s->stmt[which]);
	sqlite3_clear_bindings(s->stmt[which]);
	return s->stmt[which];
}

static void bind_texts(sqlite3_stmt *st, int first, const char *const *v, int n)
{
	for (int i = 0; i < n; i++)
		if (v[i])
			sqlite3_bind_text(st, first + i, v[i], -1, SQLITE_STATIC);
}

/* Steps an insert and reports whether it wrote a row. */
static int step_insert(struct store *s, sqlite3_stmt *st, int *added, struct err *e,
		       const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		db_error(s, e, what);
		sqlite3_reset(st);
		return -1;
	}
	if (added)
		*added = sqlite3_changes(s->db) > 0;
	sqlite3_reset(st);
	return 0;
}

int store_put_certificate(struct store *s, const struct cert_rec *r, int *added,
			  struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_CERT, e);
	const char *const a[] = {r->serial, r->issuer, r->subject, r->cn, r->o, r->ou,
				 r->c, r->st, r->l, r->email, r->id_type, r->id_number,
				 r->not_before, r->not_after, r->sig_alg, r->key_alg};
	const char *const b[] = {r->key_usage, r->ext_key_usage, r->policies, r->crl_dp,
				 r->ocsp};
	const char *const c[] = {r->status, r->revoked_at, r->revocation_reason,
				 r->sha256, r->source};
	if (!st)
		return -1;
	if (!r->serial || !r->issuer)
		return err_set(e, CA_EINPUT, r->source, 0, 0,
			       "certificate without serial or issuer");
	bind_texts(st, 1, a, 16);
	sqlite3_bind_int(st, 17, r->key_bits);
	bind_texts(st, 18, b, 5);
	sqlite3_bind_int(st, 23, r->is_ca);
	bind_texts(st, 24, c, 5);
	/* The UPDATE arm of an upsert leaves last_insert_rowid alone, so a
	 * non-zero rowid afterwards means a new certificate, not a refreshed
	 * status. */
	sqlite3_set_last_insert_rowid(s->db, 0);
	if (step_insert(s, st, NULL, e, "unable to store a certificate"))
		return -1;
	if (added)
		*added = sqlite3_last_insert_rowid(s->db) != 0;
	return 0;
}

int store_put_event(struct store *s, const struct event_rec *r, int *added,
		    struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_EVENT, e);
	const char *const v[] = {r->at, r->kind, r->app, r->serial, r->actor, r->method,
				 r->result, r->reason, r->items, r->covers, r->cps_version,
				 r->contract, r->new_serial, r->recipient_name,
				 r->recipient_id_type, r->recipient_id, r->sha256, r->source};

	if (!st)
		return -1;
	bind_texts(st, 1, v, 18);
	sqlite3_bind_int64(st, 19, r->line);
	return step_insert(s, st, added, e, "unable to store an event");
}

int store_put_application(struct store *s, const struct app_rec *r, int *added,
			  struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_APP, e);
	const char *const v[] = {r->app, r->applicant_type, r->applicant_name,
				 r->applicant_id_type, r->applicant_id, r->cert_type,
				 r->sector, r->channel, r->applied_at};

	if (!st)
		return -1;
	bind_texts(st, 1, v, 9);
	return step_insert(s, st, added, e, "unable to store an application");
}

int store_put_reject(struct store *s, const char *source, long line, const char *reason,
		     int *added, struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_REJECT, e);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, line);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	return step_insert(s, st, added, e, "unable to store a reject");
}

int store_put_crl(struct store *s, const char *issuer, const char *this_update,
		  const char *next_update, const char *number, const char *source,
		  int *added, struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_CRL, e);
	const char *const v[] = {issuer, this_update, next_update, number, source};

	if (!st)
		return -1;
	bind_texts(st, 1, v, 5);
	return step_insert(s, st, added, e, "unable to store a CRL");
}

/* Whether a listing of (issuer, serial) in the CRL of crl_this_update is
 * the earliest one known: 1, having dropped any later one; 0 when an earlier
 * or equal listing is stored already; -1 on error. Only the first listing is
 * kept because that is all a revocation check asks (when was it first
 * published), and daily cumulative CRLs would otherwise make the table grow
 * with the square of the revocations. */
static int crl_first_listing(struct store *s, const char *issuer, const char *serial,
			     const char *crl_this_update, struct err *e)
{
	sqlite3_stmt *q = stmt(s, ST_CRL_FIRST, e), *d;
	const char *const v[] = {issuer, serial, crl_this_update};
	const unsigned char *t;
	int rc, later;

	if (!q)
		return -1;
	bind_texts(q, 1, v, 2);
	if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
		sqlite3_reset(q);
		return db_error(s, e, "unable to read the CRL entries");
	}
	t = sqlite3_column_text(q, 0);
	later = t && crl_this_update && strcmp((const char *)t, crl_this_update) > 0;
	rc = !t || later;
	sqlite3_reset(q);
	if (!later)
		return rc;
	if (!(d = stmt(s, ST_CRL_LATER, e)))
		return -1;
	bind_texts(d, 1, v, 3);
	return step_insert(s, d, NULL, e, "unable to replace a CRL entry") ? -1 : 1;
}

int store_put_crl_entry(struct store *s, const char *issuer, const char *serial,
			const char *revoked_at, const char *reason,
			const char *crl_this_update, struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_CRL_ENTRY, e);
	const char *const v[] = {issuer, serial, revoked_at, reason, crl_this_update};
	int first;

	if (!st || (first = crl_first_listing(s, issuer, serial, crl_this_update, e)) < 0)
		return -1;
	if (!first)
		return 0;
	bind_texts(st, 1, v, 5);
	return step_insert(s, st, NULL, e, "unable to store a CRL entry");
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

int store_source_get(struct store *s, const char *path, struct source_state *out,
		     struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_SRC_GET, e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		copy_col(out->kind, sizeof out->kind, st, 0);
		copy_col(out->type, sizeof out->type, st, 1);
		out->size = sqlite3_column_int64(st, 2);
		copy_col(out->sha256, sizeof out->sha256, st, 3);
		out->records = sqlite3_column_int64(st, 4);
		out->rejects = sqlite3_column_int64(st, 5);
		out->lines = sqlite3_column_int64(st, 6);
		out->mtime_ns = sqlite3_column_int64(st, 7);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_error(s, e, "unable to read the source table");
}

int store_source_put(struct store *s, const char *path, const struct source_state *in,
		     struct err *e)
{
	sqlite3_stmt *st = stmt(s, ST_SRC_PUT, e);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, in->size);
	sqlite3_bind_text(st, 5, in->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, in->records);
	sqlite3_bind_int64(st, 7, in->rejects);
	sqlite3_bind_int64(st, 8, in->lines);
	sqlite3_bind_int64(st, 9, in->mtime_ns);
	return step_insert(s, st, NULL, e, "unable to record a source");
}

int store_forget_source(struct store *s, const char *source, struct err *e)
{
	static const char *const sql[] = {"DELETE FROM event WHERE source = ?",
					   "DELETE FROM reject WHERE source = ?"};

	for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
		sqlite3_stmt *st;
		int rc;

		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return db_error(s, e, "unable to prepare a statement");
		sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return db_error(s, e, "unable to forget a rewritten source");
	}
	return 0;
}

/* The lookup indexes of store_schema.sql that a bulk load defers while
 * their table is empty (nothing reads them during an ingest); keep in step
 * with it. */
static const char *const bulk_indexes[][3] = {
	{"event", "event_app", "CREATE INDEX IF NOT EXISTS event_app ON event(app, kind, at)"},
	{"event", "event_serial", "CREATE INDEX IF NOT EXISTS event_serial ON event(serial, kind, at)"
				  " WHERE serial IS NOT NULL"},
	{"event", "event_kind", "CREATE INDEX IF NOT EXISTS event_kind ON event(kind, at)"},
	{"certificate", "certificate_serial",
	 "CREATE INDEX IF NOT EXISTS certificate_serial ON certificate(serial)"},
	{"certificate", "certificate_not_before",
	 "CREATE INDEX IF NOT EXISTS certificate_not_before ON certificate(not_before)"},
};

/* Whether table has no row: not a count(*), which reads a million-row
 * table through to answer the nightly increment's first question. */
static int table_empty(struct store *s, const char *table)
{
	char sql[128];
	sqlite3_stmt *st;
	int empty = 0;

	snprintf(sql, sizeof sql, "SELECT 1 FROM \"%s\" LIMIT 1", table);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	empty = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return empty;
}

int store_bulk_begin(struct store *s, struct err *e)
{
	char sql[128];

	/* fewer, larger checkpoints, unless they are aside. Aside
	 * (store_checkpoints_aside) gave a first load of 8.8M events nothing:
	 * its parse workers keep the second core busy (BENCHMARKS.md, round 17) */
	if (!s->ckpt && exec(s, "PRAGMA wal_autocheckpoint=" BULK_AUTOCHECKPOINT, e))
		return -1;
	for (size_t i = 0; i < sizeof bulk_indexes / sizeof *bulk_indexes; i++) {
		if (!table_empty(s, bulk_indexes[i][0]))
			continue;
		snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS %s", bulk_indexes[i][1]);
		if (exec(s, sql, e))
			return -1;
		s->deferred |= 1u << i;
	}
	return 0;
}

/* The deferred indexes are built with a second sorting thread, through a
 * smaller page cache, since each sorter thread takes a cache's worth of
 * memory: at 1M events an index of event(serial, kind, at) took 14.0 s
 * (136 MB peak) with one thread and a 64 MB cache, 9.3 s (71 MB) with two
 * and 16 MB. */
int store_bulk_end(struct store *s, struct err *e)
{
	int rc = exec(s, "PRAGMA threads=2; PRAGMA cache_size=-16384", e);

	for (size_t i = 0; !rc && i < sizeof bulk_indexes / sizeof *bulk_indexes; i++) {
		double t0 = time_monotonic();

		rc = exec(s, bulk_indexes[i][2], e);
		if (!rc && s->deferred & (1u << i))
			debugf("built index %s in %.2f s", bulk_indexes[i][1], time_monotonic() - t0);
	}
	s->deferred = 0;
	if (!rc)
		rc = exec(s, "PRAGMA threads=0; PRAGMA cache_size=" STORE_CACHE_KIB, e);
	if (!s->ckpt)  /* aside, they stay aside */
		sqlite3_wal_autocheckpoint(s->db, STORE_AUTOCHECKPOINT);
	return rc ? -1 : 0;
}

int store_set_cps(struct store *s, const char *const *versions,
		  const char *const *effective, size_t n, struct err *e)
{
	sqlite3_stmt *st;

	if (exec(s, "DELETE FROM cps", e))
		return -1;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO cps(version, effective) VALUES(?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, e, "unable to prepare a statement");
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, versions[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, effective[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return db_error(s, e, "unable to store the CPS versions");
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return 0;
}

int64_t store_count(struct store *s, const char *table)
{
	char sql[128];
	sqlite3_stmt *st;
	int64_t n = -1;

	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int store_meta_set(struct store *s, const char *key, const char *value, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, e, "unable to prepare a statement");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(s, e, "unable to write meta");
}

char *store_meta_get(struct store *s, const char *key)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}
