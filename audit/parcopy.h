/*
 * parcopy.h — the rows of several SELECTs, each stepped in a thread of its
 * own on a connection of its own, inserted into tables by the calling
 * thread on its connection, in its open transaction.
 *
 * SQLite runs a statement on one core. The first check of a store spends
 * most of its time making the kept views (matcache.h), three SELECTs that
 * read the evidence and not one another: run at once, they take the time of
 * the longest. Each worker opens the database file read-only — in WAL mode
 * it sees the last commit while the caller's transaction holds the write
 * lock, so no other process can change what it reads — sets its connection
 * up as the caller's (functions, TEMP views) and steps its SELECT. The rows
 * travel in batches, a few at a time per worker, to the calling thread,
 * the one writer, which inserts each SELECT's rows in the order it gave
 * them: the table ends as CREATE TABLE ... AS SELECT would have made it.
 *
 * A worker does not see what the caller's transaction has written: the
 * SELECTs must not read a table the transaction has changed.
 *
 * The rows inserted so far, of all the SELECTs, are counted on the
 * progress bar (log.h) when the caller has started one.
 */
#ifndef CA_PARCOPY_H
#define CA_PARCOPY_H

#include <sqlite3.h>

#include "err.h"

/* At most this many SELECTs in one call. */
#define PARCOPY_MAX 8

struct parcopy_job {
	const char *select;   /* stepped on a worker's connection */
	const char *table;    /* "main.t": made by the caller with the SELECT's columns */
};

/* Where the workers read, and how their connections are set up. */
struct parcopy_src {
	const char *path;     /* the database file, opened read-only */
	/* what the caller's connection has that the SELECTs use (functions,
	 * TEMP views); NULL for nothing. 0, or -1 with e set. Called in the
	 * worker's thread. */
	int (*setup)(sqlite3 *db, void *arg, struct err *e);
	void *arg;
};

/* A read-only connection to src->path, as each worker opens one (a busy
 * timeout, a page cache of its own, src->setup done); NULL with e set. */
sqlite3 *parcopy_open(const struct parcopy_src *src, struct err *e);

/* Runs jobs[0..n) at once and inserts their rows into their tables on db,
 * which has a transaction open. 0, or -1 with e set (the first failure
 * stops every worker): the tables then hold some of the rows, for the
 * caller to drop or roll back. */
int parcopy_run(sqlite3 *db, const struct parcopy_src *src, const struct parcopy_job *jobs,
		size_t n, struct err *e);

#endif
