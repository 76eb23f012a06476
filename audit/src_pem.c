/*
 * src_pem.c — the `pem` certificate source: files matched by a path pattern,
 * each holding one or more certificates as PEM blocks or concatenated DER.
 *
 * Each file is one unit of ingest (ingest_file_begin/end): its certificates
 * and its rejects are committed together. A certificate that cannot be read
 * is rejected with its position — the line of its BEGIN line for PEM, the
 * byte offset for DER — and the file goes on with the next one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "log.h"
#include "pathglob.h"
#include "x509.h"

/* What the x509_split callbacks need. */
struct pem_job {
	struct ingest_ctx *ctx;
	struct ingest_file *f;
	struct err *e;
	int pem; /* positions are lines (PEM) or byte offsets (DER) */
};

/* Reads a whole file; NULL with e set on failure. */
static unsigned char *src_pem_slurp(const char *path, size_t *len, struct err *e)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL, *nb;
	size_t n = 0, cap = 0, got;

	if (!fp) {
		err_set(e, CA_EIO, path, 0, 0, "unable to open '%s': %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			if (!(nb = realloc(buf, cap))) {
				err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory reading '%s'", path);
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got);
	if (ferror(fp)) {
		err_set(e, CA_EIO, path, 0, 0, "unable to read '%s': %s", path, strerror(errno));
		goto fail;
	}
	fclose(fp);
	*len = n;
	return buf;
fail:
	fclose(fp);
	free(buf);
	return NULL;
}

static int src_pem_bad(long pos, const char *reason, void *arg)
{
	struct pem_job *job = arg;

	if (job->pem)
		return ingest_reject(job->ctx, job->f, pos, job->e, "unreadable certificate: %s",
				     reason);
	return ingest_reject(job->ctx, job->f, pos, job->e,
			     "unreadable certificate at byte offset %ld: %s", pos, reason);
}

static int src_pem_cert(const unsigned char *der, size_t len, long pos, void *arg)
{
	struct pem_job *job = arg;
	const struct config *cfg = job->ctx->cfg;
	struct cert_rec r = {0};
	struct err pe = {0};
	int added = 0, rc;

	if (x509_read_der(der, len, cfg->identity, cfg->n_identity, &r, &pe) < 0)
		return src_pem_bad(pos, pe.msg, arg);
	if (!(r.source = strdup(job->f->source))) {
		cert_rec_clear(&r);
		return err_set(job->e, CA_EINTERNAL, "", 0, 0, "out of memory");
	}
	rc = store_put_certificate(job->ctx->st, &r, &added, job->e);
	cert_rec_clear(&r);
	if (rc < 0)
		return -1;
	ingest_count(job->ctx, job->f, added);
	return 0;
}

static int src_pem_file(struct ingest_ctx *ctx, const char *path, struct err *e)
{
	struct ingest_file f;
	struct pem_job job = {.ctx = ctx, .f = &f, .e = e};
	unsigned char *buf;
	size_t len = 0;
	int rc;

	rc = ingest_file_begin(ctx, path, "certificates", "pem", &f, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!(buf = src_pem_slurp(path, &len, e))) {
		ingest_file_abort(ctx, &f);
		return -1;
	}
	/* the same test x509_split makes, to word positions right */
	job.pem = memmem(buf, len, "-----BEGIN ", 11) != NULL;
	rc = x509_split(buf, len, src_pem_cert, src_pem_bad, &job);
	free(buf);
	if (rc < 0) {
		ingest_file_abort(ctx, &f);
		return -1;
	}
	return ingest_file_end(ctx, &f, e);
}

int src_pem(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e)
{
	struct strlist files = {0};
	char *pattern;
	int rc = 0;

	if (!src->path)
		return err_set(e, CA_EINPUT, ctx->cfg->path, src->line, 0,
			       "a pem source needs a 'path'");
	if (!(pattern = config_path(ctx->cfg, src->path)))
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	rc = pathglob(pattern, &files, e);
	if (rc == 0 && files.n == 0)
		notef("%s: no file matches '%s'", ctx->cfg->path, src->path);
	for (size_t i = 0; rc == 0 && i < files.n; i++)
		rc = src_pem_file(ctx, files.v[i], e);
	strlist_free(&files);
	free(pattern);
	return rc;
}
