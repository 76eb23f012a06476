/*
 * engine.h — runs loaded checklists (rules.h) against the evidence store and
 * records the results as one run: a `run` row, an `item_result` row per item
 * and a `finding` row per violation, with its history (new, open, fixed,
 * waived) carried over from the previous run of the same item.
 *
 * Checklist SQL runs read-only: every item's statements are prepared under
 * an SQLite authorizer that allows only reads, SELECT and function calls
 * (load_extension excepted), so writes, ATTACH, DETACH and PRAGMA are
 * refused. Before the authorizer goes in, the engine registers the SQL
 * functions (sqlfuncs.h, plus local_date(utc)), the TEMP tables
 * mr_cert_type(v), mr_policy_oid(v), mr_issuer(v) and the TEMP views
 * app_flow (one row per application with the first time of each step) and
 * revocation (one row per revoked certificate with its first CRL listing).
 * Every item may use the named parameters :revocation_hours,
 * :crl_publish_hours, :max_validity_days, :as_of (UTC end of the as-of day),
 * :as_of_date, :scope_start and :scope_end (UTC bounds of the item's scope,
 * end exclusive).
 *
 * Each item's SQL has a time budget ($CA_AUDIT_ITEM_SECONDS, default 600 s):
 * a statement that runs longer is interrupted and the item fails.
 *
 * A failing item (bad SQL, a refused statement, an exhausted budget) is recorded with result
 * "error" and a note, and the run goes on; the summary counts such items.
 * The engine never prints except progress and warnings through log.h.
 */
#ifndef CA_ENGINE_H
#define CA_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "rules.h"
#include "store.h"

struct engine_opts {
	const struct config *cfg;  /* borrowed: policy, mutual recognition, cps; NULL = defaults */
	const char *as_of;         /* borrowed: the run's "today", YYYY-MM-DD */
	const char *tool_version;  /* borrowed; may be NULL */
	const char *waivers;       /* borrowed: path of a waivers file, or NULL */
	int rebuild;               /* make the kept materialised views anew (matcache.h) */
};

struct engine_summary {
	int64_t run;             /* id of the run written */
	size_t items;            /* items evaluated */
	size_t errors;           /* items whose result is "error" */
	size_t waivers_expired;  /* waivers that no longer apply (each warned about) */
	struct err first_error;  /* the first of them, naming checklist and item */
};

/* Runs lists[0..n-1] (borrowed) as one run, committed as one transaction:
 * an interrupted run leaves no trace. With more than one thread
 * (threads.h) the items are evaluated on several connections, which read
 * the last commit: the kept views the items name (and the configured CPS
 * versions and attestations) are then committed first, in a transaction of
 * their own, and the run's follows. Returns -1 (e set) only when the run
 * itself cannot be done (the store fails); item errors are in *sum. */
int engine_run(struct store *st, struct checklist *const *lists, size_t n,
	       const struct engine_opts *o, struct engine_summary *sum, struct err *e);

/* The id of the latest run, 0 when there is none, -1 on error. */
int64_t engine_last_run(struct store *st, struct err *e);

#endif
