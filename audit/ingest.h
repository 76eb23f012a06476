/*
 * ingest.h — reading the configured sources into the store, and the
 * interface every source module implements.
 *
 * ingest_run walks the configuration's sources in order. Each source module
 * expands its paths (pathglob), and for each file calls ingest_file_begin —
 * which says whether the file is unchanged since the last ingest and can be
 * skipped — then stores its records with store_put_*, reports unreadable
 * records with ingest_reject, and finishes with ingest_file_end. A file's
 * records, its rejects and its bookkeeping row are one transaction (or a
 * savepoint in one: ingest_run commits small files together, see
 * store_group_begin), so an interrupted ingest leaves either the whole file
 * or none of it, and the next run completes the work; a file that fails the
 * run is rolled back alone, the files before it are kept.
 */
#ifndef CA_INGEST_H
#define CA_INGEST_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "store.h"

struct ingest_ctx {
	struct store *st;          /* borrowed */
	const struct config *cfg;  /* borrowed */
	int strict;                /* first reject is fatal */
	int full;                  /* re-read files even when unchanged */
	/* totals of this run, for the summary line */
	int64_t files_read, files_skipped;
	int64_t records, added, rejects;
};

/* One file being ingested. */
struct ingest_file {
	char *path;        /* owned: path to open */
	char *source;      /* owned: name stored in the `source` columns: path
			      relative to the configuration's directory */
	char kind[32];     /* certificates | events | crls */
	char type[32];     /* the source type */
	char sha256[65];   /* digest of the whole file */
	int64_t size;
	int64_t mtime_ns;  /* modification time before it was read */
	int64_t records;   /* read from this file in this pass */
	int64_t rejects;   /* rejected in this pass */
	int64_t added;     /* new rows in this pass */
	/* Logs (ingest_file_begin_log) are read on from where the last ingest
	 * stopped: */
	int64_t offset;    /* byte to start reading at */
	int64_t start_line; /* lines before offset */
	int64_t consumed;  /* set by the source: bytes consumed, counted from the
			      start of the file (default: all of it) */
	int64_t lines;     /* set by the source: lines consumed, from the start */
	int log;           /* opened with ingest_file_begin_log */
	int64_t prev_records, prev_rejects; /* from earlier ingests of an appended log */
};

/* Runs every configured source. */
int ingest_run(struct ingest_ctx *ctx, struct err *e);

/* Starts a file: digests it, returns 1 if it is unchanged since the last
 * ingest (f is then released, skip it), 0 if it must be read (a transaction
 * is open), -1 on error. */
int ingest_file_begin(struct ingest_ctx *ctx, const char *path, const char *kind,
		      const char *type, struct ingest_file *f, struct err *e);
/* The same for an append-only log (JSON Lines): when the file only grew
 * since the last ingest — the digest of its first `size` bytes still matches
 * — f->offset and f->start_line say where to read on from; when it was
 * rewritten or truncated, the rows it gave before are forgotten (a warning
 * says so) and it is read from the start. The source sets f->consumed and
 * f->lines to what it has read; an incomplete last line may be left for the
 * next ingest. */
int ingest_file_begin_log(struct ingest_ctx *ctx, const char *path, const char *kind,
			  const char *type, struct ingest_file *f, struct err *e);
/* Commits the file's records and bookkeeping and releases f. */
int ingest_file_end(struct ingest_ctx *ctx, struct ingest_file *f, struct err *e);
/* Rolls the file back and releases f (after an error). */
void ingest_file_abort(struct ingest_ctx *ctx, struct ingest_file *f);

/* Records a rejected record: stored in `reject`, counted, warned about once
 * per file (the rest with -v). Returns -1 with e set under --strict (the run
 * stops), else 0. */
int ingest_reject(struct ingest_ctx *ctx, struct ingest_file *f, long line,
		  struct err *e, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Counts a record read and, when added, stored. */
void ingest_count(struct ingest_ctx *ctx, struct ingest_file *f, int added);

/* getline(3) that tells the end of the file from a failure: the line's
 * length, -1 at the end, -2 when it could not be read (errno says why).
 * getline returns -1 for both, and a line too long for the memory left
 * (ENOMEM) sets neither the stream's end nor its error indicator, so that
 * a source testing ferror alone took it for the end of the file. */
ssize_t ingest_getline(char **buf, size_t *cap, FILE *fp);

/* An ordered producer/consumer pair, so that a source parses its next
 * records in a second thread while this one stores the last ones in SQLite
 * (the store has one writer). produce runs in the worker thread: it returns
 * the next item (owned by the pipe) or NULL at the end, and must not touch
 * the store, the context's counters or the log. consume runs in the calling
 * thread, in production order, and reads each item; the pipe gives every
 * item to drop afterwards (in the worker thread when it can, so that memory
 * is freed by the thread that allocated it: drop must be safe in either).
 * When consume returns -1 (a store failure, a reject under --strict) the run
 * stops: the worker is told to stop, the items still queued are dropped, and
 * ingest_pipe_run returns -1 with e as consume left it. At most a bounded
 * number of items are in flight. With one thread wanted (threads.h), or
 * when no thread can be started, the two alternate in the calling thread. */
#define INGEST_PIPE_BATCH 256  /* items handed over at once */
#define INGEST_PIPE_SLOTS 8    /* batches in flight, and batches waiting to be dropped */
#define INGEST_PIPE_WORKERS 4  /* most workers of ingest_pipe_run_par */
typedef void *(*ingest_produce_fn)(void *parg);
typedef int (*ingest_consume_fn)(void *item, void *carg, struct err *e);
typedef void (*ingest_drop_fn)(void *item);
int ingest_pipe_run(ingest_produce_fn produce, void *parg, ingest_consume_fn consume,
		    void *carg, ingest_drop_fn drop, struct err *e);

/* The same with the production split in two, for a source whose records
 * are read cheaply and decoded dearly (a certificate file per index line,
 * a JSON object per log line):
 * next, called by one worker at a time, returns the next item undecoded;
 * work decodes it in place, in as many workers at once as threads_wanted()
 * allows (at most INGEST_PIPE_WORKERS; worker is 0 .. that less one, for
 * the source's per-worker scratch). consume still sees the items in next's
 * order, and drop runs in the worker that read the item when it can. work
 * must not touch the store, the counters or the log, nor any state another
 * worker uses. With one thread: next, work, consume, drop in turn. */
typedef void (*ingest_work_fn)(void *item, void *parg, unsigned worker);
int ingest_pipe_run_par(ingest_produce_fn next, ingest_work_fn work, void *parg,
			ingest_consume_fn consume, void *carg, ingest_drop_fn drop,
			struct err *e);

/* The source modules. Each ingests every file of one configured source. */
int src_openssl_index(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e);
int src_pem(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e);
int src_jsonl(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e);
int src_crl(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e);
/* The RFC 5280 name of a CRLReason code ("keyCompromise"), NULL when out of
 * range; static storage. */
const char *src_crl_reason_name(long code);
int src_cfssl(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e);
int src_ejbca_csv(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e);
int src_csv(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e);


#endif
