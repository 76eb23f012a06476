/*
 * src_openssl_index.c — the `openssl-index` certificate source: the database
 * `openssl ca` keeps (index.txt) and the directory of issued certificates.
 *
 * index.txt has one line per certificate, six tab-separated fields: status
 * (V valid, R revoked, E expired), expiry time, revocation time with an
 * optional reason, serial in hex, file name (always "unknown" in practice)
 * and the subject in the old slash form, in which openssl writes non-ASCII
 * bytes as \xE6\x9D\x8E. The index says what happened to a certificate;
 * the certificate file <certs>/<SERIAL>.pem says what it is, so every column
 * but status and revocation comes from the file. index.txt is the unit of
 * ingest (its digest decides whether anything changed); a line that cannot
 * be used is rejected with its line number.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ingest.h"
#include "x509.h"

#define IDX_FIELDS 6
/* a certificate file's name in its directory: serial and extension */
#define IDX_NAME_MAX 256

/* Revocation reasons as openssl ca writes them, and the RFC 5280 names the
 * CRL reader stores; keyTime and CAkeyTime are how -crl_compromise and
 * -crl_CA_compromise are recorded. */
static const char *const idx_reasons[][2] = {
	{"unspecified", "unspecified"}, {"keyCompromise", "keyCompromise"},
	{"CACompromise", "cACompromise"}, {"affiliationChanged", "affiliationChanged"},
	{"superseded", "superseded"}, {"cessationOfOperation", "cessationOfOperation"},
	{"certificateHold", "certificateHold"}, {"removeFromCRL", "removeFromCRL"},
	{"keyTime", "keyCompromise"}, {"CAkeyTime", "cACompromise"},
};

/* What one worker decoding lines keeps between them. */
struct idx_scratch {
	unsigned char *file;  /* the last certificate file read (idx_read) */
	size_t file_cap;
	/* the first certificate found in a file */
	unsigned char *der;
	size_t der_len;
	char bad[256];
};

/* The index being read: the workers (ingest_pipe_run_par) read its lines in
 * turn and each decodes its lines' certificate files into idx_items; this
 * thread stores them in order. */
struct idx_job {
	struct ingest_ctx *ctx;
	struct ingest_file *f;
	const struct source_cfg *src;
	const char *certs;  /* resolved directory */
	int dirfd;          /* ... open, for the workers' openat */
	FILE *fp;           /* the index, read by one worker at a time */
	char *buf;          /* getline's */
	size_t cap;
	int finished;       /* the last item has been read */
	int oom;            /* ... because the next could not be allocated */
	long line;
	struct idx_scratch scratch[INGEST_PIPE_WORKERS];
};

/* What one index line gave. */
struct idx_item {
	enum { IDX_LINE, IDX_CERT, IDX_REJECT, IDX_FAIL } kind;
	long line;
	char *text;         /* IDX_LINE: the line, to decode */
	struct cert_rec r;  /* IDX_CERT */
	char *reason;       /* IDX_REJECT */
	struct err *err;    /* IDX_FAIL: what stops the file */
};

/* "YYMMDDHHMMSSZ" or "YYYYMMDDHHMMSSZ" as stored UTC text. */
static int idx_time(const char *s, char out[20])
{
	size_t n = strlen(s), yl = n == 13 ? 2 : n == 15 ? 4 : 0;
	unsigned y = 0, v[5];

	if (!yl || s[n - 1] != 'Z' || strspn(s, "0123456789") != n - 1)
		return -1;
	for (size_t i = 0; i < yl; i++)
		y = y * 10 + (unsigned)(s[i] - '0');
	if (yl == 2)
		y += y >= 50 ? 1900 : 2000;
	for (int i = 0; i < 5; i++)
		v[i] = (unsigned)(s[yl + 2 * i] - '0') * 10 + (unsigned)(s[yl + 2 * i + 1] - '0');
	if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 31 || v[2] > 23 || v[3] > 59 || v[4] > 59)
		return -1;
	snprintf(out, 20, "%04u-%02u-%02u %02u:%02u:%02u", y % 10000, v[0] % 100, v[1] % 100,
		 v[2] % 100, v[3] % 100, v[4] % 100);
	return 0;
}

/* The subject with openssl's \xHH escapes turned back into bytes, for messages. */
static void idx_subject(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s && o + 1 < n; s++) {
		if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
		    isxdigit((unsigned char)s[3])) {
			char hex[3] = {s[2], s[3], 0};
			out[o++] = (char)strtol(hex, NULL, 16);
			s += 3;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

/* Reads the whole of file in the certificates directory into sc->file
 * (kept for the next): 0, 1 when it cannot be opened, -1 out of memory. A
 * read error ends the bytes, as at the end of the file. One path lookup of
 * one name, no stdio: the worker reads a million of these. */
static int idx_read(const struct idx_job *job, struct idx_scratch *sc, const char *file,
		    size_t *len)
{
	int fd = openat(job->dirfd, file, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t got;

	if (fd < 0)
		return 1;
	for (;;) {
		if (sc->file_cap - n < 16384) {
			size_t cap = sc->file_cap ? sc->file_cap * 2 : 65536;
			unsigned char *nb = realloc(sc->file, cap);

			if (!nb) {
				close(fd);
				return -1;
			}
			sc->file = nb;
			sc->file_cap = cap;
		}
		got = read(fd, sc->file + n, sc->file_cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	*len = n;
	return 0;
}

static int idx_first_cert(const unsigned char *der, size_t len, long pos, void *arg)
{
	struct idx_scratch *sc = arg;

	(void)pos;
	if (sc->der || sc->bad[0])
		return 0;
	if (!(sc->der = malloc(len)))
		return -1;
	memcpy(sc->der, der, len);
	sc->der_len = len;
	return 0;
}

static int idx_bad_cert(long pos, const char *reason, void *arg)
{
	struct idx_scratch *sc = arg;

	(void)pos;
	if (!sc->der && !sc->bad[0])
		snprintf(sc->bad, sizeof sc->bad, "%s", reason);
	return 0;
}

/* Finds and reads <certs>/<serial>.{pem,der,crt} (the serial as written
 * and in lower case); 1 when no such file exists, file says which was read
 * (its name in the directory). */
static int idx_load(const struct idx_job *job, struct idx_scratch *sc, const char *serial,
		    char file[IDX_NAME_MAX])
{
	static const char *const exts[] = {".pem", ".der", ".crt"};
	size_t n = strlen(serial);
	int upper = 0;

	if (n + 5 > IDX_NAME_MAX)
		return 1;
	for (size_t i = 0; i < n; i++)
		upper |= isupper((unsigned char)serial[i]) != 0;
	for (size_t k = 0; k < 3; k++)
		for (size_t c = 0; c < 1u + upper; c++) {
			size_t len = 0;
			int rc;

			for (size_t i = 0; i < n; i++)
				file[i] = c ? (char)tolower((unsigned char)serial[i]) : serial[i];
			memcpy(file + n, exts[k], 5);
			if ((rc = idx_read(job, sc, file, &len)) != 0) {
				if (rc < 0)
					return -1;
				continue;
			}
			sc->bad[0] = '\0';
			if (x509_split(sc->file, len, idx_first_cert, idx_bad_cert, sc) < 0)
				snprintf(sc->bad, sizeof sc->bad, "out of memory");
			return 0;
		}
	return 1;
}

static const char *idx_reason(const char *s)
{
	for (size_t i = 0; i < sizeof idx_reasons / sizeof *idx_reasons; i++)
		if (!strcasecmp(s, idx_reasons[i][0]))
			return idx_reasons[i][1];
	return NULL;
}

/* Out of memory: the file stops (idx_consume says why). */
static int idx_oom(struct idx_item *it)
{
	it->kind = IDX_FAIL;
	return -1;
}

static int idx_reject(struct idx_item *it, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The reason is cut where ingest_reject would cut it. */
static int idx_reject(struct idx_item *it, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	it->kind = IDX_REJECT;
	if (!(it->reason = strdup(reason)))
		return idx_oom(it);
	return 0;
}

#define REJECT(...) return idx_reject(it, __VA_ARGS__)

/* Decodes the certificate the line's file holds, with the line's status. */
static int idx_cert(const struct idx_job *job, struct idx_scratch *sc, char **fld,
		    const char *revoked_at, const char *reason, struct idx_item *it)
{
	const struct config *cfg = job->ctx->cfg;
	struct cert_rec *r = &it->r;
	struct err pe = {0};
	char file[IDX_NAME_MAX], subj[512];
	const char *status = fld[0][0] == 'V' ? "valid" : fld[0][0] == 'R' ? "revoked" : "expired";
	int rc;

	rc = idx_load(job, sc, fld[3], file);
	if (rc < 0)
		return idx_oom(it);
	if (rc == 1) {
		idx_subject(fld[5], subj, sizeof subj);
		REJECT("no certificate file for serial %s (%s): expected '%s/%s.pem' (or .der, .crt)",
		       fld[3], subj, job->src->certs, fld[3]);
	}
	if (!sc->der)
		return idx_reject(it, "certificate file '%s/%s' for serial %s: %s", job->certs,
				  file, fld[3], sc->bad[0] ? sc->bad : "no certificate in it");
	rc = x509_read_der(sc->der, sc->der_len, cfg->identity, cfg->n_identity, r, &pe);
	free(sc->der);
	sc->der = NULL;
	if (rc < 0) {
		cert_rec_clear(r);
		rc = idx_reject(it, "certificate file '%s/%s' for serial %s: %s", job->certs, file,
				fld[3], pe.msg);
	} else if (strcmp(r->serial, fld[3])) {
		rc = idx_reject(it, "certificate file '%s/%s' has serial %s, the index says %s",
				job->certs, file, r->serial, fld[3]);
		cert_rec_clear(r);
	} else {
		it->kind = IDX_CERT;
		r->status = strdup(status);
		r->revoked_at = xstrdup(revoked_at);
		r->revocation_reason = xstrdup(reason);
		r->source = strdup(job->f->source);
		if (!r->status || !r->source || (revoked_at && !r->revoked_at) ||
		    (reason && !r->revocation_reason)) {
			cert_rec_clear(r);
			rc = idx_oom(it);
		}
	}
	return rc;
}

/* Checks one line's fields and decodes its certificate. */
static int idx_line(const struct idx_job *job, struct idx_scratch *sc, char *text,
		    struct idx_item *it)
{
	char *fld[IDX_FIELDS + 1], *p = text, *rev_reason = NULL;
	char t[20], revoked_at[20];
	const char *reason = NULL;
	size_t n = 0, sl;

	while (n < IDX_FIELDS + 1) {
		fld[n++] = p;
		if (!(p = strchr(p, '\t')))
			break;
		*p++ = '\0';
	}
	if (n != IDX_FIELDS)
		REJECT("expected 6 tab-separated fields (status, expiry, revocation, serial, file,"
		       " subject), found %zu", n);
	if (strlen(fld[0]) != 1 || !strchr("VRE", fld[0][0]))
		REJECT("expected status V, R or E, found '%s'", fld[0]);
	if (idx_time(fld[1], t) < 0)
		REJECT("expected an expiry time YYMMDDHHMMSSZ, found '%s'", fld[1]);
	if (fld[0][0] == 'R') {
		if (!fld[2][0])
			REJECT("revoked certificate without a revocation time: expected"
			       " YYMMDDHHMMSSZ[,reason]");
		if ((rev_reason = strchr(fld[2], ',')) != NULL) {
			char *extra = strchr(rev_reason + 1, ',');
			*rev_reason++ = '\0';
			if (extra)
				*extra = '\0';
			if (!(reason = idx_reason(rev_reason)))
				REJECT("unknown revocation reason '%s': expected unspecified,"
				       " keyCompromise, CACompromise, affiliationChanged, superseded,"
				       " cessationOfOperation, certificateHold or removeFromCRL",
				       rev_reason);
		}
		if (idx_time(fld[2], revoked_at) < 0)
			REJECT("expected a revocation time YYMMDDHHMMSSZ, found '%s'", fld[2]);
	}
	sl = strlen(fld[3]);
	if (!sl || strspn(fld[3], "0123456789abcdefABCDEF") != sl || sl > 200)
		REJECT("expected a hexadecimal serial, found '%s'", fld[3]);
	for (char *s = fld[3]; *s; s++)
		*s = (char)toupper((unsigned char)*s);
	if (sl % 2) {
		memmove(fld[3] + 1, fld[3], sl + 1);
		fld[3][0] = '0';
	}
	return idx_cert(job, sc, fld, fld[0][0] == 'R' ? revoked_at : NULL, reason, it);
}

/* One worker at a time: the next non-blank line's item, to decode (or one
 * that stops the file), NULL after the last. */
static void *idx_next(void *arg)
{
	struct idx_job *job = arg;
	struct idx_item *it;
	ssize_t n;
	char *line;

	if (job->finished)
		return NULL;
	do {
		if ((n = ingest_getline(&job->buf, &job->cap, job->fp)) < 0) {
			int errnum = errno;

			job->finished = 1;
			if (n == -1)
				return NULL;
			if (!(it = calloc(1, sizeof *it)) || !(it->err = calloc(1, sizeof *it->err))) {
				free(it);
				job->oom = 1;
				return NULL;
			}
			it->kind = IDX_FAIL;
			err_set(it->err, CA_EIO, job->f->path, 0, 0, "unable to read '%s': %s",
				job->f->path, strerror(errnum));
			return it;
		}
		job->line++;
		while (n && (job->buf[n - 1] == '\n' || job->buf[n - 1] == '\r'))
			job->buf[--n] = '\0';
	} while (!n);
	if (!(it = calloc(1, sizeof *it))) {
		job->finished = job->oom = 1;
		return NULL;
	}
	it->line = job->line;
	/* room for idx_line to pad an odd-length serial */
	if (!(line = malloc((size_t)n + 2))) {
		idx_oom(it);
		job->finished = 1;
	} else {
		memcpy(line, job->buf, (size_t)n + 1);
		it->kind = IDX_LINE;
		it->text = line;
	}
	return it;
}

/* Any worker: decodes a line's item in place. */
static void idx_work(void *item, void *arg, unsigned worker)
{
	struct idx_item *it = item;
	struct idx_job *job = arg;

	if (it->kind != IDX_LINE)
		return;
	idx_line(job, &job->scratch[worker], it->text, it);
	free(it->text);
	it->text = NULL;
}

static void idx_drop(void *item)
{
	struct idx_item *it = item;

	cert_rec_clear(&it->r);
	free(it->text);
	free(it->reason);
	free(it->err);
	free(it);
}

/* This thread: stores or rejects one line's item. */
static int idx_consume(void *item, void *arg, struct err *e)
{
	struct idx_item *it = item;
	struct idx_job *job = arg;
	int rc = 0, added = 0;

	switch (it->kind) {
	case IDX_CERT:
		if ((rc = store_put_certificate(job->ctx->st, &it->r, &added, e)) == 0)
			ingest_count(job->ctx, job->f, added);
		break;
	case IDX_REJECT:
		rc = ingest_reject(job->ctx, job->f, it->line, e, "%s", it->reason);
		break;
	case IDX_LINE: /* not decoded: the pipe decodes every item it passes on */
	case IDX_FAIL:
		/* without err, the worker ran out of memory */
		if (it->err)
			*e = *it->err;
		else
			err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
		rc = -1;
		break;
	}
	return rc;
}

static int idx_file(struct idx_job *job, const char *path, struct err *e)
{
	int rc;

	if (!(job->fp = fopen(path, "r")))
		return err_set(e, CA_EIO, path, 0, 0, "unable to open '%s': %s", path,
			       strerror(errno));
	rc = ingest_pipe_run_par(idx_next, idx_work, job, idx_consume, job, idx_drop, e);
	if (!rc && job->oom)
		rc = err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	free(job->buf);
	job->buf = NULL;
	fclose(job->fp);
	job->fp = NULL;
	return rc;
}

int src_openssl_index(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e)
{
	struct ingest_file f;
	struct idx_job job = {.ctx = ctx, .f = &f, .src = src};
	char *index, *certs;
	int rc;

	if (!src->index || !src->certs)
		return err_set(e, CA_EINPUT, ctx->cfg->path, src->line, 0,
			       "an openssl-index source needs 'index' and 'certs'");
	index = config_path(ctx->cfg, src->index);
	certs = config_path(ctx->cfg, src->certs);
	if (!index || !certs) {
		free(index);
		free(certs);
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	}
	job.certs = certs;
	/* when it cannot be opened, every certificate is missing: openat
	 * fails on -1 and each line is rejected saying where it looked */
	job.dirfd = open(certs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = ingest_file_begin(ctx, index, "certificates", "openssl-index", &f, e);
	if (rc == 0) {
		if (idx_file(&job, index, e) < 0) {
			ingest_file_abort(ctx, &f);
			rc = -1;
		} else {
			rc = ingest_file_end(ctx, &f, e);
		}
	}
	if (job.dirfd >= 0)
		close(job.dirfd);
	for (size_t i = 0; i < INGEST_PIPE_WORKERS; i++) {
		free(job.scratch[i].file);
		free(job.scratch[i].der);
	}
	free(index);
	free(certs);
	return rc < 0 ? -1 : 0;
}
