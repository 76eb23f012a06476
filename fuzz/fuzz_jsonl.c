/*
 * fuzz_jsonl.c — libFuzzer harness for the RA event log reader: the input is
 * a JSON Lines file, ingested with src_jsonl into a real store.
 */
#include <stdint.h>

#include "fuzzutil.h"

static struct fuzz_env fuzz_env;
static int fuzz_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};

	if (!fuzz_ready) {
		fuzz_env_init(&fuzz_env, "ra.jsonl",
			      "  events:\n    - {type: jsonl, path: ra.jsonl}\n", NULL);
		fuzz_ready = 1;
	}
	if (fuzz_env_feed(&fuzz_env, data, size) == 0)
		src_jsonl(&fuzz_env.ctx, &fuzz_env.cfg->event_sources[0], &e);
	return 0;
}
