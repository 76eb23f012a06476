/*
 * fuzz_x509.c — libFuzzer harness for the certificate reader: the input is a
 * certificate file (PEM, bundle or DER) as src_pem would read it. Every block
 * x509_split finds goes through x509_read_der with the default identity
 * locations, and the input is also read as a bare DER Name.
 */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "x509.h"

static struct config *fuzz_cfg;

static int fuzz_cert(const unsigned char *der, size_t len, long pos, void *ctx)
{
	struct cert_rec r = {0};
	struct err e = {0};

	(void)pos;
	(void)ctx;
	x509_read_der(der, len, fuzz_cfg->identity, fuzz_cfg->n_identity, &r, &e);
	cert_rec_clear(&r);
	return 0;
}

static int fuzz_bad(long pos, const char *reason, void *ctx)
{
	(void)pos;
	(void)reason;
	(void)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name;

	if (!fuzz_cfg && !(fuzz_cfg = config_default()))
		abort();
	x509_split(data, size, fuzz_cert, fuzz_bad, NULL);
	name = x509_name_der_text(data, size);
	free(name);
	return 0;
}
