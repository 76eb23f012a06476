/*
 * d2i_baseline.c — the yardstick for certificate ingest (make bench): reads
 * the certificates an openssl-index source lists, the same files in the same
 * order as `ca-audit ingest`, and parses each with OpenSSL's own d2i_X509,
 * storing nothing. Prints one line of key=value pairs that bench/run.sh reads:
 * how many certificates, the wall time of the whole loop (read the file,
 * PEM to DER, d2i_X509, X509_free), the part of it spent in d2i_X509, and the
 * peak RSS.
 *
 * usage: d2i_baseline INDEX.TXT CERTS-DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The serial of an index line (fourth tab-separated field), in place. */
static char *index_serial(char *line)
{
	char *p = line;

	for (int i = 0; i < 3; i++) {
		if (!(p = strchr(p, '\t')))
			return NULL;
		p++;
	}
	line = p;
	if ((p = strchr(p, '\t')))
		*p = '\0';
	return line;
}

/* Reads one PEM certificate file to DER; d2i time goes to *t_d2i. */
static int parse_one(const char *path, double *t_d2i)
{
	BIO *bio = BIO_new_file(path, "rb");
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	long len = 0;
	X509 *x;
	double t0;

	if (!bio)
		return -1;
	if (!PEM_read_bio(bio, &name, &header, &data, &len)) {
		BIO_free(bio);
		return -1;
	}
	BIO_free(bio);
	p = data;
	t0 = now();
	x = d2i_X509(NULL, &p, len);
	*t_d2i += now() - t0;
	X509_free(x);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	return x ? 0 : -1;
}

int main(int argc, char **argv)
{
	char *line = NULL, path[4096];
	size_t cap = 0;
	long n = 0, bad = 0;
	double t0, t_d2i = 0;
	struct rusage ru;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: d2i_baseline INDEX.TXT CERTS-DIR\n");
		return 64;
	}
	if (!(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "d2i_baseline: unable to open '%s': %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	t0 = now();
	while (getline(&line, &cap, f) > 0) {
		char *serial = index_serial(line);

		if (!serial)
			continue;
		snprintf(path, sizeof path, "%s/%s.pem", argv[2], serial);
		if (parse_one(path, &t_d2i))
			bad++;
		n++;
	}
	free(line);
	fclose(f);
	getrusage(RUSAGE_SELF, &ru);
	printf("certs=%ld failed=%ld wall=%.3f d2i=%.3f maxrss_kb=%ld\n", n, bad, now() - t0,
	       t_d2i, ru.ru_maxrss);
	return bad ? 1 : 0;
}
