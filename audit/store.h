/*
 * store.h — the evidence store: one SQLite file holding everything ingested
 * (DESIGN §6), the source bookkeeping that makes ingest idempotent, and the
 * results of every check run.
 *
 * Schema version: meta.schema_version. A store written by a newer ca-audit is
 * refused; an older one is migrated on open. Bulk loads go through
 * store_begin/store_commit and the store_put_* functions, which reuse
 * prepared statements. Put functions are idempotent: the same certificate
 * (issuer, serial), the same event (source, line) or the same reject
 * (source, line, reason) stored twice is stored once.
 *
 * The engine and SQL-function modules get the raw handle through
 * store_db(); everything else talks to the store through this header.
 */
#ifndef CA_STORE_H
#define CA_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "err.h"
#include "records.h"

#define STORE_SCHEMA_VERSION 6

struct store;

/* Opens (creating when missing, unless readonly) the store at path. */
int store_open(const char *path, int readonly, struct store **out, struct err *e);
void store_close(struct store *s); /* accepts NULL; rolls back an open transaction */
sqlite3 *store_db(struct store *s); /* borrowed, valid until store_close */
const char *store_path(const struct store *s);

int store_begin(struct store *s, struct err *e);
int store_commit(struct store *s, struct err *e);
void store_rollback(struct store *s);

/* Between these, store_begin/commit/rollback open, release and roll back
 * a longer transaction (its first file) or a savepoint in it (the later
 * ones), committed after a second, once its pages outgrow the page cache,
 * and by store_group_end (which rolls back a transaction still open in it):
 * for sources of many small files, each still stored whole or not at all. */
void store_group_begin(struct store *s);
int store_group_end(struct store *s, struct err *e);

/* Each returns 0, or -1 with e set; *added (may be NULL) tells whether a new
 * row was written (0 when it was already there). */
int store_put_certificate(struct store *s, const struct cert_rec *r, int *added,
			  struct err *e);
int store_put_event(struct store *s, const struct event_rec *r, int *added,
		    struct err *e);
int store_put_application(struct store *s, const struct app_rec *r, int *added,
			  struct err *e);
int store_put_reject(struct store *s, const char *source, long line,
		     const char *reason, int *added, struct err *e);

/* A CRL (issuer RFC 4514, times UTC, number in hex or NULL) and one of its
 * entries; both idempotent. */
int store_put_crl(struct store *s, const char *issuer, const char *this_update,
		  const char *next_update, const char *number, const char *source,
		  int *added, struct err *e);
int store_put_crl_entry(struct store *s, const char *issuer, const char *serial,
			const char *revoked_at, const char *reason,
			const char *crl_this_update, struct err *e);

/* Per-file ingest bookkeeping (provenance): what was consumed of each file. */
struct source_state {
	char kind[32];      /* certificates | events | crls */
	char type[32];      /* openssl-index, pem, jsonl, ... */
	int64_t size;       /* bytes consumed */
	int64_t lines;      /* lines consumed (logs), 0 for whole-file sources */
	int64_t mtime_ns;   /* the file's modification time when it was read */
	char sha256[65];    /* digest of the consumed bytes */
	int64_t records;    /* records read from the file, all ingests together */
	int64_t rejects;    /* records rejected */
};
/* 1 and *st filled when path is known, 0 when not, -1 on error. */
int store_source_get(struct store *s, const char *path, struct source_state *st,
		     struct err *e);
int store_source_put(struct store *s, const char *path, const struct source_state *st,
		     struct err *e);

/* Deletes the events and rejects that came from source (a log that was
 * rewritten, about to be read again from its start). */
int store_forget_source(struct store *s, const char *source, struct err *e);

/* Moves the WAL's checkpoints off the thread that commits on s (walckpt.h)
 * until store_checkpoints_back or store_close: for a commit that leaves
 * gigabytes in the WAL while other work could go on. 1 when they are moved,
 * 0 when they stay with the writer (one thread wanted, no WAL file, or no
 * thread to be had). */
int store_checkpoints_aside(struct store *s);
/* Gives the writer its own checkpoints back, after any checkpoint under way
 * beside it. */
void store_checkpoints_back(struct store *s);

/* Bulk load: store_bulk_begin drops the event table's lookup indexes (not
 * its UNIQUE(source, line)) when the table is empty, so that a first
 * ingest appends rows instead of updating four B-trees per event, and
 * raises the WAL checkpoint interval; store_bulk_end (re)creates any missing
 * index. Both run outside a transaction. An ingest killed between the two
 * leaves a store without those indexes: queries stay correct, and the next
 * store_bulk_end puts them back. */
int store_bulk_begin(struct store *s, struct err *e);
int store_bulk_end(struct store *s, struct err *e);

/* Replaces the cps table with the configuration's versions. */
int store_set_cps(struct store *s, const char *const *versions,
		  const char *const *effective, size_t n, struct err *e);

/* Counts rows of a table (certificate, event, application, reject, ...). */
int64_t store_count(struct store *s, const char *table);

/* meta key/value; store_meta_get returns a malloc'd copy or NULL. */
int store_meta_set(struct store *s, const char *key, const char *value, struct err *e);
char *store_meta_get(struct store *s, const char *key);

#endif
