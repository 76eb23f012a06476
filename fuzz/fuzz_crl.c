/*
 * fuzz_crl.c — libFuzzer harness for the CRL reader: the input is a CRL file
 * (DER or PEM), ingested with src_crl into a real store.
 */
#include <stdint.h>

#include "fuzzutil.h"

static struct fuzz_env fuzz_env;
static int fuzz_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};

	if (!fuzz_ready) {
		fuzz_env_init(&fuzz_env, "ca.crl", "  crls:\n    - {path: ca.crl}\n", NULL);
		fuzz_ready = 1;
	}
	if (fuzz_env_feed(&fuzz_env, data, size) == 0)
		src_crl(&fuzz_env.ctx, &fuzz_env.cfg->crl_sources[0], &e);
	return 0;
}
