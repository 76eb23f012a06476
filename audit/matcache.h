/*
 * matcache.h — the engine's materialised views kept in the store between
 * runs, so that a nightly check recomputes only what the nightly ingest
 * changed.
 *
 * Checklist SQL scans issuance, app_flow and revocation: views whose
 * correlated subqueries cost tens of seconds at a million certificates. A
 * run materialises each one its items name as a table in the store,
 * main.mat_<name>, and records the definition it was made from
 * (mat_state). While any such table exists, triggers on the tables the
 * views read (certificate, application, event, crl_entry) note each written
 * row's keys — ('serial', serial) and ('app', app) — in mat_dirty. The next
 * run first brings every kept table up to date: it widens the noted keys to
 * all the rows they touch (the serials an application issued, the
 * applications that issued a serial), deletes those rows and inserts them
 * anew from the view. A table whose view has changed (a newer ca-audit) is
 * made again from scratch, as is every table when more keys were noted
 * than a refresh can do faster than a rebuild.
 *
 * The items then read the tables through TEMP views of the plain names,
 * which the temp schema puts before main.issuance.
 */
#ifndef CA_MATCACHE_H
#define CA_MATCACHE_H

#include <sqlite3.h>

#include "err.h"
#include "parcopy.h"

/* The views a run may materialise: issuance, app_flow, revocation. */
#define MATCACHE_N 3

struct matcache {
	sqlite3 *db;
	struct parcopy_src src;  /* for matcache_prepare; path NULL: one at a time */
	int refreshed;          /* the kept tables have been brought up to date */
	unsigned used;          /* bit i: the TEMP view of view i is in place */
};

/* The name items use for view i. */
const char *matcache_name(unsigned i);

/* Makes view i's table usable by this run: brings the kept tables up to
 * date the first time it is called in a run, makes view i's table if it is
 * missing or stale, and puts the TEMP view of its name over it. Runs in
 * the caller's transaction. 0, or -1 with e set. */
int matcache_use(struct matcache *m, unsigned i, struct err *e);

/* The TEMP views of the plain names over the kept tables of the views in
 * used (bit i: view i), on db: another connection to the store, reading
 * what this run made and committed. 0, or -1 with e set. */
int matcache_views(sqlite3 *db, unsigned used, struct err *e);

/* Whether other connections can read the store while m's writes (m->src.path
 * is set and the store is in WAL mode). */
int matcache_shared(const struct matcache *m);

/* Makes at once (parcopy.h), in the caller's transaction, the tables of
 * the views in want (bit i: view i) that are missing or stale, when there
 * are two or more, m->src.path is set and the store is in WAL mode;
 * otherwise leaves each to matcache_use. A failure to make them at once is
 * warned of and leaves them to matcache_use too. 0, or -1 with e set. */
int matcache_prepare(struct matcache *m, unsigned want, struct err *e);

/* Drops the TEMP views matcache_use made; the kept tables stay. */
void matcache_release(struct matcache *m);

/* Drops every kept table, its triggers and the noted keys: the next run
 * makes the tables from scratch. 0, or -1 with e set. */
int matcache_drop(sqlite3 *db, struct err *e);

#endif
