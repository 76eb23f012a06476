/*
 * sample.h — the regulator's reproducible random sample (双随机, DESIGN §3):
 * draws records of the evidence store so that the same seed and the same
 * store give the same list on any machine, writes the list as a JSON sample
 * file, and reads it back for the spot-check report.
 *
 * Method: each record of the population (issued certificates keyed
 * "serial:HEX", or applications keyed "app:ID") gets the SHA-256 of
 * "<seed>:<key>"; the records with the smallest digests are taken (ties by
 * key). Neither SQLite's random() nor rand() is used, and the population's
 * order does not matter. Stratified, each stratum gets a share proportional
 * to its population (largest-remainder rounding), at least one per
 * non-empty stratum (taken from the largest shares, so the total stays the
 * requested size unless there are more strata than that).
 *
 * Sample file (JSON): {"seed", "of", "size", "rate" (or null),
 * "stratify_by" (or null), "method", "population", "as_of",
 * "strata": [{"name", "population", "size"}],
 * "records": [{"key", "stratum"}]} with records ordered by stratum, then key.
 *
 * Ownership: a struct sample owns all its strings; sample_free releases it.
 */
#ifndef CA_SAMPLE_H
#define CA_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

enum sample_of { SAMPLE_CERTIFICATES, SAMPLE_APPLICATIONS };
enum sample_strata { SAMPLE_NONE, SAMPLE_BY_SECTOR, SAMPLE_BY_ISSUER, SAMPLE_BY_MONTH };

#define SAMPLE_METHOD "sha256(seed:key), smallest first"

struct sample_opts {
	const char *seed;   /* borrowed: any text */
	long size;          /* records wanted, or 0 when rate is given */
	double rate;        /* fraction of the population in (0, 1], or 0 */
	int of;             /* enum sample_of */
	int stratify;       /* enum sample_strata */
	const char *as_of;  /* borrowed: YYYY-MM-DD, recorded in the file */
};

struct sample_rec {
	char *key;      /* "serial:HEX" or "app:ID" */
	char *stratum;  /* NULL when not stratified */
};

struct sample_stratum {
	char *name;
	int64_t population;
	int64_t size;
};

struct sample {
	char *seed, *of, *stratify_by; /* stratify_by NULL when not stratified */
	char *method, *as_of;
	int64_t size;                   /* records in the sample */
	double rate;                    /* as given, 0 when --size was given */
	int64_t population;
	struct sample_stratum *strata;  /* owned, nstrata of them, by name */
	size_t nstrata;
	struct sample_rec *recs;        /* owned, n of them */
	size_t n;
};

/* "certificates" | "applications" and "sector" | "issuer" | "month" → enum;
 * -1 when unknown. */
int sample_of_parse(const char *s);
int sample_strata_parse(const char *s);

/* Draws the sample from the store. A population with no record is a
 * CA_EINPUT error. *out is owned by the caller. */
int sample_draw(struct store *st, const struct sample_opts *o, struct sample **out,
		struct err *e);

/* The sample file's text (indented JSON, ending in a newline); malloc'd,
 * NULL when memory runs out. */
char *sample_json(const struct sample *s);

/* Reads a sample file; errors name the file. */
int sample_load(const char *path, struct sample **out, struct err *e);

/* The newest (by modification time, then name) file "sample*.json" in dir;
 * *path is malloc'd. An error naming dir when there is none. */
int sample_find_newest(const char *dir, char **path, struct err *e);

void sample_free(struct sample *s); /* accepts NULL */

#endif
