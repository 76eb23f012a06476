/*
 * engine_int.h — what engine.c (the run: set-up, the read-only authorizer,
 * parameters, materialised views, scope, results, history) and
 * engine_items.c (evaluating one automated item into findings) share. Not
 * an interface for other modules: engine.h is.
 */
#ifndef CA_ENGINE_INT_H
#define CA_ENGINE_INT_H

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
	char refused[300];              /* what the authorizer refused last */
	struct matcache mc;             /* the views materialised for this run */
	double mat_seconds;             /* spent materialising views so far */
	int reads_run;                  /* the SQL last prepared reads a table the
					 * run writes (finding, item_result, run) */
	struct counted *counted;        /* owned: records-checked counts made */
	size_t n_counted;
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
};

/* err set from the connection's last error, after what; returns -1. */
int engine_db_fail(struct engine *g, struct err *e, const char *what);

/* Marks the item failed (result "error", note from fmt) and returns 1. */
int engine_item_fail(struct item_run *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepares checklist SQL under the read-only authorizer, materialising the
 * views it names, and binds its parameters; returns 0, or 1 with the item
 * failed (*out is then NULL). */
int engine_prepare_ro(struct engine *g, struct item_run *x, const char *sql,
		      sqlite3_stmt **out);

/* Binds the checklist parameters (:revocation_hours, :as_of, ...) st names;
 * returns 0, or 1 with the item failed. */
int engine_bind_params(struct engine *g, struct item_run *x, sqlite3_stmt *st);

/* Evaluates a check item (engine_run_check) or a metric item
 * (engine_run_metric): findings written with their history, counts and
 * result set in x. 0, 1 with the item failed, or -1 with e set when the
 * store could not be written. */
int engine_run_check(struct engine *g, struct item_run *x, struct err *e);
int engine_run_metric(struct engine *g, struct item_run *x, struct err *e);

#endif
