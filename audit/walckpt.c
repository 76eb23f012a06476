/*
 * walckpt.c — WAL checkpoints on a thread of their own; see walckpt.h.
 */
#include "walckpt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"

struct walckpt {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *db;        /* the checkpointer's own connection */
	int pages;          /* a commit leaving this many frames asks for one */
	/* under mu: */
	int wanted;         /* a commit asked for a checkpoint not yet begun */
	int stop;
	unsigned runs;      /* checkpoints that returned SQLITE_OK */
	unsigned failed;    /* and that did not (busy, or an I/O error) */
	double seconds;     /* spent in them */
};

/* The WAL hook, in the writer's thread after each commit: frames is the
 * WAL's length in pages. */
static int committed(void *arg, sqlite3 *db, const char *schema, int frames)
{
	struct walckpt *w = arg;

	(void)db;
	if (frames >= w->pages && !strcmp(schema, "main")) {
		pthread_mutex_lock(&w->mu);
		w->wanted = 1;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
	return SQLITE_OK;
}

static void *checkpointer(void *arg)
{
	struct walckpt *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		double t0;
		int rc;

		while (!w->wanted && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		w->wanted = 0;
		pthread_mutex_unlock(&w->mu);
		t0 = time_monotonic();
		rc = sqlite3_wal_checkpoint_v2(w->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&w->mu);
		w->seconds += time_monotonic() - t0;
		if (rc == SQLITE_OK)
			w->runs++;
		else
			w->failed++;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int walckpt_in_wal(sqlite3 *db)
{
	sqlite3_stmt *st;
	int wal = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA main.journal_mode", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		wal = !sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	return wal;
}

/* Whether db's main database is a file in WAL mode. */
static int wal_file(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");

	return path && *path && walckpt_in_wal(db);
}

struct walckpt *walckpt_start(sqlite3 *db, int pages)
{
	struct walckpt *w;

	if (pages < 1 || !wal_file(db) || !(w = calloc(1, sizeof *w)))
		return NULL;
	w->pages = pages;
	/* the writer's own pragmas are per connection: synchronous=NORMAL syncs
	 * at a checkpoint as the writer's would */
	if (sqlite3_open_v2(sqlite3_db_filename(db, "main"), &w->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(w->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->tid, NULL, checkpointer, w)) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		goto fail;
	}
	sqlite3_wal_hook(db, committed, w);
	return w;
fail:
	debugf("WAL checkpoints stay in the writer's thread: %s",
	       w->db ? sqlite3_errmsg(w->db) : "no connection");
	sqlite3_close(w->db);
	free(w);
	return NULL;
}

unsigned walckpt_runs(struct walckpt *w)
{
	unsigned n;

	pthread_mutex_lock(&w->mu);
	n = w->runs;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void walckpt_stop(struct walckpt *w, sqlite3 *db, int autopages)
{
	if (!w)
		return;
	/* the hook goes first: no commit signals a thread that is leaving */
	sqlite3_wal_autocheckpoint(db, autopages);
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->tid, NULL);
	debugf("%u WAL checkpoints in the background (%.2f s)%s", w->runs, w->seconds,
	       w->failed ? ", some deferred" : "");
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	sqlite3_close(w->db);
	free(w);
}
