/*
 * fuzzutil.h — what the libFuzzer harnesses under fuzz/ share: a scratch
 * directory with a configuration naming one source, a store to ingest into,
 * and a way to feed one input to a source module as the file it reads.
 *
 * The sources are driven through their public functions (src_jsonl, src_csv,
 * src_crl) on a real SQLite store, exactly as `ca-audit ingest` drives them,
 * so a harness finds what a hostile file would do to a real run. Nothing here
 * is part of the tool.
 */
#ifndef CA_FUZZUTIL_H
#define CA_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ingest.h"

struct fuzz_env {
	char dir[256];         /* scratch directory, removed at exit */
	char data[300];        /* the file the source reads (dir/<name>) */
	struct config *cfg;    /* owned: loaded from dir/ca-audit.yaml */
	struct store *st;      /* owned: dir/store.db, recreated now and then */
	struct ingest_ctx ctx;
	unsigned long runs;
};

/* Makes the scratch directory, writes extra files (name, text pairs, NULL
 * ended) and a configuration whose sources section is sources_yaml, loads it
 * and opens the store. data_name is the file each input is written to. Aborts
 * on failure: a harness that cannot set up must not report crashes. */
void fuzz_env_init(struct fuzz_env *env, const char *data_name, const char *sources_yaml,
		   const char *const *extra);

/* Writes the input to env->data and returns 0, -1 when writing failed. The
 * store is recreated every few hundred runs so that it stays small. */
int fuzz_env_feed(struct fuzz_env *env, const uint8_t *data, size_t size);

#endif
