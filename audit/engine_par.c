/*
 * engine_par.c — a run's items evaluated on several connections at once;
 * see engine_int.h.
 *
 * SQLite runs a statement on one core, and a check is a few dozen items
 * whose SQL reads the evidence and not one another's results: one after
 * another, a nightly check at a million certificates spends ~12 s in them
 * on one core. Here workers take the items in the run's order, each on a
 * read-only connection of its own set up as the run's (functions, TEMP
 * views and tables, the kept views' names). The rows an item finds travel
 * to the calling thread, the one writer, which stores them in the order
 * found and the items in the run's order, so that the run's rows are those
 * one thread makes. The writer evaluates an item that reads what the run
 * writes (engine_item_reads_run) itself, in its turn, and any item when no
 * worker is left (none could open the store).
 *
 * Memory: a worker stops while the rows waiting for the writer reach
 * PAR_QUEUE_BYTES — except the worker of the item the writer is storing,
 * which stops at that much of its own: the writer always has rows to store,
 * and at most twice that is in flight.
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "threads.h"
#include "timeutil.h"

#define PAR_MAX_WORKERS 4
/* a worker hands its rows over when it holds this many bytes of them */
#define PAR_BATCH_BYTES (64 * 1024)
#define PAR_QUEUE_BYTES (8 * 1024 * 1024)

/* A row found: its key, record date and evidence in one allocation. */
struct par_row {
	struct par_row *next;
	size_t size;           /* bytes held, for the queue's bound */
	const char *date;      /* NULL, or into text */
	const char *evidence;  /* into text */
	char text[];           /* key, date, evidence */
};

enum slot_state {
	SLOT_NONE,   /* no SQL: manual, or not in effect */
	SLOT_OPEN,   /* for the first worker free */
	SLOT_MAIN,   /* the writer evaluates it */
	SLOT_TAKEN,  /* a worker evaluates it */
	SLOT_DONE,   /* the worker has finished it */
};

struct par_slot {
	enum slot_state state;
	struct item_run x;            /* the worker's */
	int rc;                       /* engine_evaluate's, once done */
	struct err err;               /* when rc < 0 */
	struct par_row *head, *tail;  /* rows waiting for the writer */
	size_t bytes;
};

struct par_worker {
	struct engine_par *p;
	pthread_t tid;
	int running;
	size_t k;                     /* the slot it evaluates */
	struct par_row *head, *tail;  /* rows not yet handed over */
	size_t bytes;
	double waited;                /* seconds stopped on the queue's bound */
};

struct engine_par {
	struct engine *g;
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* any slot or queue changed, or stop */
	struct par_slot *slot;
	size_t n;
	size_t next;                  /* slots before it are taken */
	size_t at;                    /* the slot the writer is storing */
	size_t bytes;                 /* rows waiting in all slots */
	int stop;                     /* atomic: the writer has given up */
	int live;                     /* workers that may still take a slot */
	struct par_worker w[PAR_MAX_WORKERS];
};

static void rows_free(struct par_row *r)
{
	while (r) {
		struct par_row *next = r->next;
		free(r);
		r = next;
	}
}

/* The worker's rows not handed over, freed. */
static void drop_pending(struct par_worker *w)
{
	rows_free(w->head);
	w->head = w->tail = NULL;
	w->bytes = 0;
}

/* Appends the worker's rows to its slot's queue, waiting while the queue
 * is at its bound. 0, or -1 with e set when the writer has given up. */
static int hand_over(struct par_worker *w, struct item_reader *r, struct err *e)
{
	struct engine_par *p = w->p;
	struct par_slot *s = &p->slot[w->k];
	double t0 = time_monotonic(), waited;

	pthread_mutex_lock(&p->mu);
	while (!p->stop && (w->k == p->at ? s->bytes : p->bytes) >= PAR_QUEUE_BYTES)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->stop) {
		pthread_mutex_unlock(&p->mu);
		drop_pending(w);
		return err_set(e, CA_EINTERNAL, "", 0, 0, "the check stopped");
	}
	if (w->head) {
		if (s->tail)
			s->tail->next = w->head;
		else
			s->head = w->head;
		s->tail = w->tail;
		s->bytes += w->bytes;
		p->bytes += w->bytes;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	w->head = w->tail = NULL;
	w->bytes = 0;
	/* the item's budget is for its SQL, not for waiting on the writer */
	waited = time_monotonic() - t0;
	r->deadline += waited;
	w->waited += waited;
	return 0;
}

/* found() of a worker's reader: the row kept, handed over by the batch. */
static int queue_found(struct item_reader *r, struct item_run *x, const char *key,
		       const char *date, const char *evidence, struct err *e)
{
	struct par_worker *w = r->arg;
	size_t kn = strlen(key) + 1, dn = date ? strlen(date) + 1 : 0,
	       en = strlen(evidence) + 1;
	struct par_row *row = malloc(sizeof *row + kn + dn + en);

	(void)x;
	if (!row)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	row->next = NULL;
	row->size = sizeof *row + kn + dn + en;
	memcpy(row->text, key, kn);
	row->date = date ? memcpy(row->text + kn, date, dn) : NULL;
	row->evidence = memcpy(row->text + kn + dn, evidence, en);
	if (w->tail)
		w->tail->next = row;
	else
		w->head = row;
	w->tail = row;
	w->bytes += row->size;
	return w->bytes >= PAR_BATCH_BYTES ? hand_over(w, r, e) : 0;
}

/* A read-only connection to the store set up as the run's: as the kept
 * views' workers open theirs (g->mc.src: functions, TEMP views), with the
 * mutual-recognition lists and the kept views' names. NULL with e set. */
static sqlite3 *open_reader(struct engine *g, struct err *e)
{
	sqlite3 *db = parcopy_open(&g->mc.src, e);

	if (db && (engine_fill_lists(g, db, e) || matcache_views(db, g->mc.used, e))) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* The next open slot, taken; 0 when there is none left or the writer has
 * given up. */
static int take_next(struct par_worker *w)
{
	struct engine_par *p = w->p;
	int found = 0;

	pthread_mutex_lock(&p->mu);
	while (p->next < p->n && p->slot[p->next].state != SLOT_OPEN)
		p->next++;
	if (!p->stop && p->next < p->n) {
		w->k = p->next++;
		p->slot[w->k].state = SLOT_TAKEN;
		found = 1;
	}
	pthread_mutex_unlock(&p->mu);
	return found;
}

static void *work(void *arg)
{
	struct par_worker *w = arg;
	struct engine_par *p = w->p;
	struct item_reader r = {.g = p->g, .found = queue_found, .arg = w, .cancel = &p->stop};
	struct err e = {0};

	if (!(r.db = open_reader(p->g, &e)))
		debugf("an item worker did not start: %s", e.msg);
	while (r.db && take_next(w)) {
		struct par_slot *s = &p->slot[w->k];
		double t0 = time_monotonic();
		int rc;

		w->waited = 0;
		rc = engine_evaluate(&r, &s->x, &s->err);
		if (rc >= 0 && hand_over(w, &r, &s->err))
			rc = -1;
		drop_pending(w);  /* those of an item that stopped short */
		s->x.seconds = time_monotonic() - t0 - w->waited;
		pthread_mutex_lock(&p->mu);
		s->rc = rc;
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	sqlite3_close(r.db);
	pthread_mutex_lock(&p->mu);
	p->live--;  /* with none left, the writer evaluates what is open */
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct engine_par *engine_par_start(struct engine *g, struct checklist *const *lists,
				    size_t n)
{
	struct engine_par *p = calloc(1, sizeof *p);
	size_t total = 0, open = 0, k = 0;
	int workers = threads_wanted(), started = 0;

	for (size_t i = 0; i < n; i++)
		total += lists[i]->n_items;
	if (!p || !(p->slot = calloc(total ? total : 1, sizeof *p->slot))) {
		free(p);
		return NULL;
	}
	p->g = g;
	p->n = total;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < lists[i]->n_items; j++, k++) {
			const struct rule_item *it = &lists[i]->items[j];
			struct par_slot *s = &p->slot[k];

			s->x = (struct item_run){.cl = lists[i], .it = it, .checked = -1,
						 .result = "manual"};
			if (!engine_item_automated(lists[i], it, s->x.start, s->x.end))
				s->state = SLOT_NONE;
			else if (engine_item_reads_run(it))
				s->state = SLOT_MAIN;
			else {
				s->state = SLOT_OPEN;
				open++;
			}
		}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (workers > PAR_MAX_WORKERS)
		workers = PAR_MAX_WORKERS;
	if ((size_t)workers > open)
		workers = (int)open;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < workers; i++) {
		p->w[i].p = p;
		if (!pthread_create(&p->w[i].tid, NULL, work, &p->w[i])) {
			p->w[i].running = 1;
			started++;
		}
	}
	p->live = started;
	pthread_mutex_unlock(&p->mu);
	if (started)
		debugf("items evaluated by %d workers", started);
	return p;
}

/* Stores the rows' findings of x; frees them. 0, or -1 with e set. */
static int store_rows(struct engine *g, struct item_run *x, struct par_row *r,
		      struct err *e)
{
	int rc = 0;

	for (; r && !rc; r = r->next)
		rc = engine_put_finding(g, x, r->text, r->date, r->evidence,
					x->it->check.message, e);
	return rc;
}

/* The writer gives up: workers stop at their next row or SQLite step. */
static void stop(struct engine_par *p)
{
	pthread_mutex_lock(&p->mu);
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int engine_par_take(struct engine_par *p, size_t k, struct item_run *x, struct err *e)
{
	struct par_slot *s = &p->slot[k];
	int done, rc = 0;

	pthread_mutex_lock(&p->mu);
	p->at = k;
	pthread_cond_broadcast(&p->cv);
	while (s->state == SLOT_OPEN && p->live)
		pthread_cond_wait(&p->cv, &p->mu);
	if (s->state == SLOT_OPEN || s->state == SLOT_MAIN) {
		double t0 = time_monotonic();

		s->state = SLOT_MAIN;
		pthread_mutex_unlock(&p->mu);
		rc = engine_evaluate(p->g->own, x, e);
		x->seconds = time_monotonic() - t0;
		return rc;
	}
	do {
		struct par_row *rows;

		while (!s->head && s->state != SLOT_DONE)
			pthread_cond_wait(&p->cv, &p->mu);
		rows = s->head;
		done = s->state == SLOT_DONE;
		s->head = s->tail = NULL;
		p->bytes -= s->bytes;
		s->bytes = 0;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (!rc && (rc = store_rows(p->g, x, rows, e)))
			stop(p);  /* the worker gives up: done soon */
		rows_free(rows);
		pthread_mutex_lock(&p->mu);
	} while (!done);
	pthread_mutex_unlock(&p->mu);
	if (rc)
		return -1;
	x->checked = s->x.checked;
	x->value = s->x.value;
	x->has_value = s->x.has_value;
	x->result = s->x.result;
	x->seconds = s->x.seconds;
	memcpy(x->note, s->x.note, sizeof x->note);
	if (s->rc < 0)
		*e = s->err;
	return s->rc;
}

void engine_par_stop(struct engine_par *p)
{
	if (!p)
		return;
	stop(p);
	for (int i = 0; i < PAR_MAX_WORKERS; i++)
		if (p->w[i].running)
			pthread_join(p->w[i].tid, NULL);
	for (size_t k = 0; k < p->n; k++)
		rows_free(p->slot[k].head);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->slot);
	free(p);
}
