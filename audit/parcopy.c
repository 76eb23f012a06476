/*
 * parcopy.c — several SELECTs stepped at once, their rows inserted by one
 * writer; see parcopy.h.
 */
#include "parcopy.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sbuf.h"

/* A batch is sent when it holds this many bytes; a worker stops stepping
 * while this many of its batches wait, which bounds the memory in flight
 * when the writer is the slower. */
#define PC_BATCH_BYTES (256 * 1024)
#define PC_QUEUE 4

/* A worker's page cache: a quarter of the store's own (store.h), since
 * every worker has one on top of the caller's. */
#define PC_CACHE_KIB "-16384"

/* Rows one after another; each column a type byte (SQLITE_INTEGER ...)
 * then, by type, 8 bytes of integer or double, or a 4-byte length and the
 * bytes of the text or blob, or nothing for NULL. */
struct pc_batch {
	struct pc_batch *next;
	size_t rows;
	struct sbuf b;
};

struct pc_worker {
	struct pc *pc;
	const struct parcopy_job *job;
	pthread_t tid;
	int ncols;                     /* the SELECT's columns, set before its first batch */
	/* under pc->mu: */
	struct pc_batch *head, *tail;  /* waiting for the writer */
	int queued;
	int done;                      /* the thread is about to return */
	char why[1024];                /* why it stopped short; "" when it did not */
};

struct pc {
	const struct parcopy_src *src;
	pthread_mutex_t mu;
	pthread_cond_t cv;             /* any change of a queue, done or stop */
	int stop;                      /* the writer gave up: step no further */
};

static void batch_free(struct pc_batch *b)
{
	if (b) {
		sbuf_free(&b->b);
		free(b);
	}
}

static void put_row(struct sbuf *b, sqlite3_stmt *st, int ncols)
{
	for (int c = 0; c < ncols; c++) {
		unsigned char type = (unsigned char)sqlite3_column_type(st, c);

		sbuf_add(b, &type, 1);
		if (type == SQLITE_INTEGER) {
			int64_t v = sqlite3_column_int64(st, c);

			sbuf_add(b, &v, sizeof v);
		} else if (type == SQLITE_FLOAT) {
			double v = sqlite3_column_double(st, c);

			sbuf_add(b, &v, sizeof v);
		} else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
			const void *p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, c)
							    : sqlite3_column_blob(st, c);
			uint32_t len = (uint32_t)sqlite3_column_bytes(st, c);

			sbuf_add(b, &len, sizeof len);
			sbuf_add(b, p ? p : "", len);
		}
	}
}

/* Hands b to the writer; -1 when the writer has given up (b is the
 * caller's still). */
static int send_batch(struct pc_worker *w, struct pc_batch *b)
{
	struct pc *pc = w->pc;

	pthread_mutex_lock(&pc->mu);
	while (w->queued >= PC_QUEUE && !pc->stop)
		pthread_cond_wait(&pc->cv, &pc->mu);
	if (pc->stop) {
		pthread_mutex_unlock(&pc->mu);
		return -1;
	}
	if (w->tail)
		w->tail->next = b;
	else
		w->head = b;
	w->tail = b;
	w->queued++;
	pthread_cond_broadcast(&pc->cv);
	pthread_mutex_unlock(&pc->mu);
	return 0;
}

/* Steps the job's SELECT into batches for the writer; w->why says why
 * when it stops short of the last row, unless the writer gave up. */
static void step_rows(struct pc_worker *w, sqlite3 *db, sqlite3_stmt *st)
{
	struct pc_batch *b = NULL;
	int rc;

	w->ncols = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!b && !(b = calloc(1, sizeof *b)))
			break;
		put_row(&b->b, st, w->ncols);
		b->rows++;
		if (b->b.oom)
			break;
		if (b->b.n >= PC_BATCH_BYTES) {
			if (send_batch(w, b)) {
				batch_free(b);
				return;
			}
			b = NULL;
		}
	}
	if (rc == SQLITE_ROW)
		snprintf(w->why, sizeof w->why, "out of memory");
	else if (rc != SQLITE_DONE)
		snprintf(w->why, sizeof w->why, "%s", sqlite3_errmsg(db));
	else if (b && !send_batch(w, b))
		b = NULL;
	batch_free(b);
}

sqlite3 *parcopy_open(const struct parcopy_src *src, struct err *e)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(src->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		err_set(e, CA_EDB, src->path, 0, 0, "unable to open the store: %s",
			db ? sqlite3_errmsg(db) : "out of memory");
	else if (sqlite3_busy_timeout(db, 5000),
		 sqlite3_exec(db, "PRAGMA cache_size=" PC_CACHE_KIB, NULL, NULL, NULL) != SQLITE_OK)
		err_set(e, CA_EDB, src->path, 0, 0, "%s", sqlite3_errmsg(db));
	else if (!src->setup || !src->setup(db, src->arg, e))
		return db;
	sqlite3_close(db);
	return NULL;
}

static void *work(void *arg)
{
	struct pc_worker *w = arg;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	struct err e = {0};

	if (!(db = parcopy_open(w->pc->src, &e)))
		snprintf(w->why, sizeof w->why, "%.1000s", e.msg);
	else if (sqlite3_prepare_v2(db, w->job->select, -1, &st, NULL) != SQLITE_OK)
		snprintf(w->why, sizeof w->why, "%s", sqlite3_errmsg(db));
	else
		step_rows(w, db, st);
	sqlite3_finalize(st);
	sqlite3_close(db);
	pthread_mutex_lock(&w->pc->mu);
	w->done = 1;
	pthread_cond_broadcast(&w->pc->cv);
	pthread_mutex_unlock(&w->pc->mu);
	return NULL;
}

/* Inserts b's rows with ins, whose parameters are the columns; *count
 * counts them, on the caller's progress bar. */
static int insert_rows(sqlite3_stmt *ins, int ncols, const struct pc_batch *b,
		       uint64_t *count)
{
	const unsigned char *p = (const unsigned char *)b->b.s;

	for (size_t r = 0; r < b->rows; r++) {
		for (int c = 1; c <= ncols; c++) {
			int type = *p++;
			int64_t i;
			double d;
			uint32_t len;

			if (type == SQLITE_INTEGER) {
				memcpy(&i, p, sizeof i);
				p += sizeof i;
				sqlite3_bind_int64(ins, c, i);
			} else if (type == SQLITE_FLOAT) {
				memcpy(&d, p, sizeof d);
				p += sizeof d;
				sqlite3_bind_double(ins, c, d);
			} else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
				memcpy(&len, p, sizeof len);
				p += sizeof len;
				if (type == SQLITE_TEXT)
					sqlite3_bind_text(ins, c, (const char *)p, (int)len, SQLITE_STATIC);
				else
					sqlite3_bind_blob(ins, c, p, (int)len, SQLITE_STATIC);
				p += len;
			} else {
				sqlite3_bind_null(ins, c);
			}
		}
		if (sqlite3_step(ins) != SQLITE_DONE) {
			sqlite3_reset(ins);
			return -1;
		}
		sqlite3_reset(ins);
		progress_update(++*count);
	}
	return 0;
}

/* The INSERT for w's table, with a parameter per column of its SELECT. */
static sqlite3_stmt *prepare_insert(sqlite3 *db, const struct pc_worker *w)
{
	struct sbuf q = {0};
	sqlite3_stmt *st = NULL;
	char num[16];

	sbuf_adds(&q, "INSERT INTO ");
	sbuf_adds(&q, w->job->table);
	sbuf_adds(&q, " VALUES(");
	for (int c = 1; c <= w->ncols; c++) {
		snprintf(num, sizeof num, "%s?%d", c > 1 ? "," : "", c);
		sbuf_adds(&q, num);
	}
	if (!sbuf_adds(&q, ")"))
		sqlite3_prepare_v2(db, q.s, -1, &st, NULL);
	sbuf_free(&q);
	return st;
}

/* The next waiting batch of any worker, fairly by turns from *turn; NULL
 * once every worker is done and nothing waits, or as soon as one has
 * failed: the run fails then, and the rows of the others are not wanted. */
static struct pc_batch *next_batch(struct pc *pc, struct pc_worker *ws, size_t n, size_t *turn,
				   struct pc_worker **from)
{
	struct pc_batch *b = NULL;

	pthread_mutex_lock(&pc->mu);
	for (;;) {
		int running = 0;

		for (size_t k = 0; k < n; k++)
			if (ws[k].done && ws[k].why[0])
				goto out;
		for (size_t k = 0; k < n && !b; k++) {
			struct pc_worker *w = &ws[(*turn + k) % n];

			if (w->head) {
				b = w->head;
				if (!(w->head = b->next))
					w->tail = NULL;
				w->queued--;
				*from = w;
				*turn = (size_t)(w - ws) + 1;
			} else if (!w->done) {
				running = 1;
			}
		}
		if (b || !running)
			break;
		pthread_cond_wait(&pc->cv, &pc->mu);
	}
	if (b)
		pthread_cond_broadcast(&pc->cv);
out:
	pthread_mutex_unlock(&pc->mu);
	return b;
}

int parcopy_run(sqlite3 *db, const struct parcopy_src *src, const struct parcopy_job *jobs,
		size_t n, struct err *e)
{
	struct pc pc = {.src = src};
	struct pc_worker ws[PARCOPY_MAX] = {{0}};
	sqlite3_stmt *ins[PARCOPY_MAX] = {0};
	struct pc_worker *w;
	struct pc_batch *b;
	size_t started = 0, turn = 0;
	uint64_t count = 0;
	int rc = 0;

	if (n > PARCOPY_MAX)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "more than %d SELECTs at once",
			       PARCOPY_MAX);
	pthread_mutex_init(&pc.mu, NULL);
	pthread_cond_init(&pc.cv, NULL);
	for (; started < n; started++) {
		ws[started].pc = &pc;
		ws[started].job = &jobs[started];
		if (pthread_create(&ws[started].tid, NULL, work, &ws[started])) {
			rc = err_set(e, CA_EINTERNAL, "", 0, 0, "unable to start a thread");
			break;
		}
	}
	while (!rc && (b = next_batch(&pc, ws, started, &turn, &w)) != NULL) {
		size_t k = (size_t)(w - ws);

		if (!ins[k] && !(ins[k] = prepare_insert(db, w)))
			rc = err_set(e, CA_EDB, src->path, 0, 0, "unable to fill %s: %s", w->job->table,
				     sqlite3_errmsg(db));
		else if (insert_rows(ins[k], w->ncols, b, &count))
			rc = err_set(e, CA_EDB, src->path, 0, 0, "unable to fill %s: %s", w->job->table,
				     sqlite3_errmsg(db));
		batch_free(b);
	}
	pthread_mutex_lock(&pc.mu);
	pc.stop = 1;
	pthread_cond_broadcast(&pc.cv);
	pthread_mutex_unlock(&pc.mu);
	for (size_t k = 0; k < started; k++) {
		pthread_join(ws[k].tid, NULL);
		while ((b = ws[k].head) != NULL) {
			ws[k].head = b->next;
			batch_free(b);
		}
		if (!rc && ws[k].why[0])
			rc = err_set(e, CA_EDB, src->path, 0, 0, "unable to read for %s: %s",
				     ws[k].job->table, ws[k].why);
		sqlite3_finalize(ins[k]);
	}
	pthread_cond_destroy(&pc.cv);
	pthread_mutex_destroy(&pc.mu);
	return rc ? -1 : 0;
}
