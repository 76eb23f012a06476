/*
 * builders.h — one builder per report kind: each reads stored check results
 * and evidence from the store and fills a report document (model.h). A
 * builder never re-runs checks and never calls a writer; it knows what a
 * report says, not how it looks.
 *
 * Detail tables are streamed from SQLite with prepared statements on the
 * store's handle, so a document from a builder must be released with
 * report_doc_free (which finalizes those statements and then frees the
 * document) before the store is closed.
 *
 * Personal names and identity numbers in evidence are masked (mask.h)
 * unless reveal is set.
 */
#ifndef CA_BUILDERS_H
#define CA_BUILDERS_H

#include "config.h"
#include "err.h"
#include "model.h"
#include "store.h"

/* The message (and e) when the store holds no check run. */
#define REPORT_NO_RUN "no check results in the store: run 'ca-audit check' first"

/* 自查报告 from the latest run (highest run id): the inspection record per
 * item, every finding of the run (streamed), manual items with their
 * attestations, and the provenance. period is shown as given (NULL: all
 * records). Returns a document owned by the caller (report_doc_free), or
 * NULL with e set (CA_EINPUT with REPORT_NO_RUN when there is no run). */
struct rm_doc *build_self_inspection(struct store *st, const struct config *cfg,
				     const char *as_of, const char *period,
				     int reveal, struct err *e);

/* Frees a builder's document and the stream contexts registered for it.
 * Accepts NULL. */
void report_doc_free(struct rm_doc *d);

/* Hands ctx to d: free_fn(ctx) runs in report_doc_free(d). On failure
 * (memory) free_fn(ctx) runs at once and -1 is returned. */
int report_own(struct rm_doc *d, void *ctx, void (*free_fn)(void *));

/* What every report states (DESIGN §10), from provenance.c: sets the
 * document's CA name, author (ca-audit and its version), subject and as-of
 * date, and the cover metadata: CA name, licence, province, period (or 全部),
 * as-of date and tool version. */
int report_header(struct rm_doc *d, const struct config *cfg, const char *subject,
		  const char *as_of, const char *period, struct err *e);

/* Appends the section 数据来源: each ingested source file with its type,
 * SHA-256, record and reject counts, the total number of rejected records
 * and the first REPORT_REJECTS_LISTED of them (source, line, reason). */
#define REPORT_REJECTS_LISTED 300
int report_provenance(struct rm_doc *d, struct store *st, struct err *e);

#endif
