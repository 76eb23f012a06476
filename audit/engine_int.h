/*
 * engine_int.h — what engine.c (the run: set-up, the read-only authorizer,
 * parameters, materialised views, scope, results, history), engine_items.c
 * (evaluating one automated item into findings) and engine_par.c (items
 * evaluated on several connections at once) share. Not an interface for
 * other modules: engine.h is.
 *
 * An item is evaluated in two halves. Its SQL runs on a reader — the run's
 * own connection, or a worker's read-only one — and each row found goes to
 * the reader's found(): stored at once on the run's connection, or queued
 * for it by a worker. The writer then settles the item on the run's
 * connection (engine_settle): a metric's finding, the findings of the
 * previous run no longer found, the result.
 */
#ifndef CA_ENGINE_INT_H
#define CA_ENGINE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "attest.h"
#include "engine.h"
#include "findings.h"
#include "matcache.h"
#include "rules.h"

/* The engine's own statements (engine.c prepares them in set-up). */
enum { W_RUN, W_RUN_END, W_RESULT, W_FINDING, W_PREV_RUN, W_PREV_FINDING, W_FIXED, W_COUNT_ };

struct engine {
	struct store *st;               /* borrowed */
	sqlite3 *db;                    /* borrowed */
	const struct engine_opts *o;    /* borrowed */
	struct engine_summary *sum;     /* borrowed */
	struct findings_waivers *waivers; /* owned, may be NULL */
	double item_seconds;    /* time budget of one item's SQL */
	struct attestations att;        /* owned: answers to manual items */
	sqlite3_stmt *w[W_COUNT_];      /* owned */
	char as_of_end[20];             /* UTC end of the as-of day */
	long rev_h, crl_h, max_days;
	struct matcache mc;             /* the views materialised for this run */
	double mat_seconds;             /* spent materialising views so far */
	pthread_mutex_t counted_mu;     /* counted, n_counted: readers share them */
	struct counted *counted;        /* owned: records-checked counts made */
	size_t n_counted;
	struct item_reader *own;        /* the run's connection as a reader */
};

struct item_run;

/* Where an item's SQL is prepared and stepped. */
struct item_reader {
	struct engine *g;
	sqlite3 *db;            /* the run's connection, or a worker's */
	int own;                /* db is the run's: it may make kept views */
	char refused[300];      /* what the authorizer refused last */
	int reads_run;          /* the SQL last prepared reads a table the run
				 * writes (finding, item_result, run) */
	double deadline;        /* time_monotonic() when the item's budget is spent */
	int spent;
	const int *cancel;      /* when set and nonzero (read atomically), stop */
	/* A row found: key, record date (may be NULL), evidence JSON; stored
	 * or queued. 0, or -1 with e set (the run cannot go on). */
	int (*found)(struct item_reader *r, struct item_run *x, const char *key,
		     const char *date, const char *evidence, struct err *e);
	void *arg;              /* found()'s */
};

/* A records-checked count made in this run, by its SQL with the values
 * bound: items of one view and scope count the same records, and the
 * evidence does not change during a run. */
struct counted {
	char *sql;
	int64_t n;
};

/* One item being evaluated. */
struct item_run {
	const struct checklist *cl;
	const struct rule_item *it;
	char start[20], end[20];  /* UTC scope, end exclusive */
	int64_t prev;             /* previous run of this item, 0 if none */
	int64_t checked;          /* -1 = unknown */
	int64_t violations;       /* new + open + waived */
	int64_t open;             /* new + open */
	double value;
	int has_value;
	const char *result;
	char note[900];
	double seconds;           /* evaluating it took */
};

/* err set from the connection's last error, after what; returns -1. */
int engine_db_fail(struct engine *g, struct err *e, const char *what);

/* Marks the item failed (result "error", note from fmt) and returns 1. */
int engine_item_fail(struct item_run *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepares checklist SQL on r under the read-only authorizer (on the
 * run's own connection, making the views it names first; a worker's finds
 * them made) and binds its parameters; returns 0, or 1 with the item
 * failed (*out is then NULL). */
int engine_prepare_ro(struct item_reader *r, struct item_run *x, const char *sql,
		      sqlite3_stmt **out);

/* Binds the checklist parameters (:revocation_hours, :as_of, ...) st names;
 * returns 0, or 1 with the item failed. */
int engine_bind_params(struct engine *g, struct item_run *x, sqlite3_stmt *st);

/* The reader's half of an automated item, within the item's time budget:
 * a check's rows given to r->found() in key order and the records checked
 * counted, or a metric's value (x->has_value; result "na" when it is
 * NULL). 0, 1 with the item failed, or -1 with e set. */
int engine_evaluate(struct item_reader *r, struct item_run *x, struct err *e);

/* The writer's half, after engine_evaluate returned 0: a metric's finding
 * when its value is out of bounds, the previous run's findings no longer
 * found carried as fixed, and the result. 0, or -1 with e set. */
int engine_settle(struct engine *g, struct item_run *x, struct err *e);

/* Stores a finding of x in the run with its history (new, open, waived);
 * counts it in x. 0, or -1 with e set. */
int engine_put_finding(struct engine *g, struct item_run *x, const char *key,
		       const char *date, const char *evidence, const char *message,
		       struct err *e);

/* The functions and TEMP views checklist SQL may use, on db: the run's
 * connection, or a worker's (path names the store in errors). 0, or -1
 * with e set. */
int engine_conn_setup(sqlite3 *db, void *path, struct err *e);

/* The mutual-recognition lists of the configuration in db's TEMP tables.
 * 0, or -1 with e set. */
int engine_fill_lists(struct engine *g, sqlite3 *db, struct err *e);

/* Whether the item's SQL names a table the run writes (finding,
 * item_result, run): such an item must see the run's earlier results, so
 * it is evaluated on the run's own connection, in its turn. */
int engine_item_reads_run(const struct rule_item *it);

/* The item's scope as UTC bounds; 0 when it is empty (the item is not in
 * effect during the checklist's scope). */
int engine_item_scope(const struct checklist *cl, const struct rule_item *it,
		      char start[20], char end[20]);

/* Whether the item runs SQL in this run: automated, and in effect within
 * the checklist's scope (its bounds then in start and end). */
int engine_item_automated(const struct checklist *cl, const struct rule_item *it,
			  char start[20], char end[20]);

/* Items evaluated on worker connections while the calling thread, the
 * writer, stores their findings in the items' order (engine_par.c). The
 * store must be in WAL mode, every view the items name made and committed
 * (a worker cannot make one), and the run's transaction open: the workers
 * then read the last commit, which no other connection can change. */
struct engine_par;

/* Starts the workers on the items of lists[0..n) that run SQL, numbered
 * in order across the lists (manual ones too) from 0. NULL when no worker
 * could be started: the items are then evaluated on the run's connection. */
struct engine_par *engine_par_start(struct engine *g, struct checklist *const *lists,
				    size_t n);

/* Item k, an automated one in scope, evaluated: by a worker, its findings
 * stored here as they come (x's history counts), or here on the run's
 * connection when no worker has taken it (or it reads the run's tables).
 * x->seconds is the evaluation's time. engine_evaluate's return. */
int engine_par_take(struct engine_par *p, size_t k, struct item_run *x, struct err *e);

/* Stops the workers (they give up what they are doing) and frees p. */
void engine_par_stop(struct engine_par *p);

#endif
