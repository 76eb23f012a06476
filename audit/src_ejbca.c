/*
 * src_ejbca.c — the `ejbca-csv` certificate source: an export of EJBCA's
 * CertificateData table as CSV with a header row (read with libcsv).
 *
 * Columns are found by name in the header, in any order; base64Cert,
 * serialNumber, status, revocationDate and revocationReason are required
 * (a missing one is an error naming the file and the column), the others
 * (issuerDN, subjectDN, expireDate, fingerprint...) are ignored because the
 * certificate in base64Cert says the same with authority. Times are epoch
 * milliseconds and -1 means unset, as EJBCA writes them.
 *
 * EJBCA's status codes become §6's status as the source says: 20 active and
 * 21 notified-about-expiration are valid, 30 on hold and 40 revoked are
 * revoked, 50 is expired. 60 archived has no counterpart in §6: EJBCA
 * archives a certificate once it has expired or been revoked, so an archived
 * row with a revocationDate is revoked, and one without is expired when its
 * notAfter is before the export's time (the file's modification time, so
 * the same file always reads the same) and valid otherwise.
 */
#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ingest.h"
#include "log.h"
#include "pathglob.h"
#include "timeutil.h"
#include "x509.h"

enum { C_CERT, C_SERIAL, C_STATUS, C_REVOKED, C_REASON, N_COLS };
static const char *const col_names[N_COLS] = {"base64Cert", "serialNumber", "status",
					      "revocationDate", "revocationReason"};

struct ejbca_job {
	struct ingest_ctx *ctx;
	struct ingest_file *f;
	struct err *e;
	char exported[20];     /* the file's modification time, UTC */
	size_t n_header;       /* 0 until the header is read */
	size_t col[N_COLS];    /* index of each required column */
	struct strlist row;    /* fields of the row being read */
	long row_line;         /* line the row started on */
	int rc;
};

static int take_header(struct ejbca_job *job)
{
	for (size_t c = 0; c < N_COLS; c++) {
		size_t j;

		for (j = 0; j < job->row.n && strcmp(job->row.v[j], col_names[c]); j++)
			;
		if (j == job->row.n)
			return err_set(job->e, CA_EINPUT, job->f->source, (int)job->row_line, 0,
				       "the header has no column '%s' (an EJBCA CertificateData "
				       "export needs base64Cert, serialNumber, status, "
				       "revocationDate and revocationReason)", col_names[c]);
		job->col[c] = j;
	}
	job->n_header = job->row.n;
	return 0;
}

/* A decimal integer cell; -1 in *out for EJBCA's "unset". */
static int number(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return !*s || *end || errno ? -1 : 0;
}

/* base64 (white space ignored) to malloc'd bytes; NULL when invalid. */
static unsigned char *unbase64(const char *s, size_t *len)
{
	size_t n = strlen(s), k = 0, pad = 0;
	char *clean = malloc(n + 1);
	unsigned char *out = NULL;
	int got;

	if (!clean)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			clean[k++] = s[i];
	clean[k] = '\0';
	if (k && k % 4 == 0 && (out = malloc(k / 4 * 3 + 1))) {
		got = EVP_DecodeBlock(out, (unsigned char *)clean, (int)k);
		pad = (clean[k - 1] == '=') + (clean[k - 2] == '=');
		if (got < 0 || (size_t)got < pad) {
			free(out);
			out = NULL;
		} else {
			*len = (size_t)got - pad;
		}
	}
	free(clean);
	return out;
}

/* status, revoked_at and revocation_reason from the row. */
static int row_status(struct ejbca_job *job, struct cert_rec *c, char *why, size_t n)
{
	long long status, revoked, reason;
	char when[20] = "";

	if (number(job->row.v[job->col[C_STATUS]], &status))
		return snprintf(why, n, "status: expected an EJBCA status code, found '%.100s'",
				job->row.v[job->col[C_STATUS]]), -1;
	if (number(job->row.v[job->col[C_REVOKED]], &revoked) || revoked < -1)
		return snprintf(why, n, "revocationDate: expected epoch milliseconds or -1, "
				"found '%.100s'", job->row.v[job->col[C_REVOKED]]), -1;
	if (number(job->row.v[job->col[C_REASON]], &reason))
		return snprintf(why, n, "revocationReason: expected a reason code or -1, found "
				"'%.100s'", job->row.v[job->col[C_REASON]]), -1;
	if (revoked >= 0)
		time_epoch_utc((time_t)(revoked / 1000), when);
	switch (status) {
	case 20: case 21: set_str(&c->status, "valid"); break;
	case 30: case 40: set_str(&c->status, "revoked"); break;
	case 50: set_str(&c->status, "expired"); break;
	case 60:
		set_str(&c->status, when[0] ? "revoked"
			: strcmp(c->not_after, job->exported) < 0 ? "expired" : "valid");
		break;
	default:
		return snprintf(why, n, "status: unknown EJBCA status %lld (expected 20, 21, 30, "
				"40, 50 or 60)", status), -1;
	}
	if (!strcmp(c->status, "revoked")) {
		set_str(&c->revoked_at, when[0] ? when : NULL);
		set_str(&c->revocation_reason, src_crl_reason_name((long)reason));
	}
	return 0;
}

static int take_row(struct ejbca_job *job)
{
	const struct config *cfg = job->ctx->cfg;
	const char *serial = job->row.n > job->col[C_SERIAL] ? job->row.v[job->col[C_SERIAL]] : "?";
	struct cert_rec c = {0};
	struct err pe = {0};
	unsigned char *der = NULL;
	size_t len = 0;
	char why[600];
	int added = 0, rc = 0;

	if (job->row.n != job->n_header)
		return ingest_reject(job->ctx, job->f, job->row_line, job->e,
				     "expected %zu columns as in the header, found %zu",
				     job->n_header, job->row.n);
	if (!*job->row.v[job->col[C_CERT]])
		return ingest_reject(job->ctx, job->f, job->row_line, job->e, "serialNumber "
				     "%.100s: empty base64Cert (EJBCA keeps certificates in "
				     "Base64CertData when so configured: export that table's "
				     "base64Cert into this column)", serial);
	if (!(der = unbase64(job->row.v[job->col[C_CERT]], &len)))
		return ingest_reject(job->ctx, job->f, job->row_line, job->e,
				     "serialNumber %.100s: base64Cert is not valid base64", serial);
	if (x509_read_der(der, len, cfg->identity, cfg->n_identity, &c, &pe) < 0)
		rc = ingest_reject(job->ctx, job->f, job->row_line, job->e, "serialNumber "
				   "%.100s: unreadable certificate: %s", serial, pe.msg);
	else if (row_status(job, &c, why, sizeof why))
		rc = ingest_reject(job->ctx, job->f, job->row_line, job->e, "serialNumber "
				   "%.100s: %s", serial, why);
	else if (set_str(&c.source, job->f->source), 1) {
		rc = store_put_certificate(job->ctx->st, &c, &added, job->e);
		if (!rc)
			ingest_count(job->ctx, job->f, added);
	}
	free(der);
	cert_rec_clear(&c);
	return rc;
}

static void on_field(void *s, size_t len, void *data)
{
	struct ejbca_job *job = data;
	char *copy;

	if (job->rc)
		return;
	copy = strndup(s ? s : "", len);
	if (!copy || strlist_push(&job->row, copy))
		job->rc = err_set(job->e, CA_EINTERNAL, job->f->source, 0, 0, "out of memory");
	free(copy);
}

static void on_row(int c, void *data)
{
	struct ejbca_job *job = data;

	(void)c;
	if (!job->rc)
		job->rc = job->n_header ? take_row(job) : take_header(job);
	strlist_free(&job->row);
	job->row_line = 0;
}

/* Streams the file a line at a time so that rows know their line. */
static int read_stream(struct ejbca_job *job, FILE *fp)
{
	struct csv_parser p;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t got = 0;
	long lineno = 0;

	if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL))
		return err_set(job->e, CA_EINTERNAL, job->f->source, 0, 0, "out of memory");
	while (!job->rc && (got = ingest_getline(&buf, &cap, fp)) >= 0) {
		size_t len = (size_t)got;

		lineno++;
		if (!job->row_line)
			job->row_line = lineno;
		if (lineno == 1 && len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
			memmove(buf, buf + 3, len -= 3);
		if (csv_parse(&p, buf, len, on_field, on_row, job) != len && !job->rc) {
			const char *why = csv_strerror(csv_error(&p));
			long at = job->row_line;

			strlist_free(&job->row);
			job->row_line = 0;
			csv_free(&p);
			csv_init(&p, CSV_STRICT | CSV_APPEND_NULL);
			job->rc = ingest_reject(job->ctx, job->f, at, job->e, "malformed CSV: %s",
						why);
		}
	}
	if (!job->rc && got == -2)
		job->rc = err_set(job->e, CA_EIO, job->f->source, (int)lineno + 1, 0,
				  "unable to read: %s", strerror(errno));
	if (!job->rc && csv_fini(&p, on_field, on_row, job))
		job->rc = ingest_reject(job->ctx, job->f, job->row_line, job->e, "malformed CSV: "
					"a quoted field is not closed at the end of the file");
	if (!job->rc && !job->n_header)
		job->rc = err_set(job->e, CA_EINPUT, job->f->source, 1, 0,
				  "no header row (expected EJBCA's CertificateData column names)");
	csv_free(&p);
	free(buf);
	strlist_free(&job->row);
	return job->rc;
}

static int ingest_ejbca_file(struct ingest_ctx *ctx, const char *path, struct err *e)
{
	struct ingest_file f;
	struct ejbca_job job = {.ctx = ctx, .f = &f, .e = e};
	struct stat sb;
	FILE *fp;
	int rc = ingest_file_begin(ctx, path, "certificates", "ejbca-csv", &f, e);

	if (rc)
		return rc > 0 ? 0 : -1;
	if (!(fp = fopen(f.path, "rb")) || fstat(fileno(fp), &sb)) {
		rc = err_set(e, CA_EIO, f.source, 0, 0, "unable to open: %s", strerror(errno));
	} else {
		time_epoch_utc(sb.st_mtime, job.exported);
		rc = read_stream(&job, fp);
	}
	if (fp)
		fclose(fp);
	if (rc) {
		ingest_file_abort(ctx, &f);
		return -1;
	}
	return ingest_file_end(ctx, &f, e);
}

int src_ejbca_csv(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e)
{
	struct strlist files = {0};
	char *pattern;
	int rc;

	if (!src->path)
		return err_set(e, CA_EINPUT, ctx->cfg->path, src->line, 0,
			       "source of type 'ejbca-csv' needs a 'path'");
	if (!(pattern = config_path(ctx->cfg, src->path)))
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
	rc = pathglob(pattern, &files, e);
	if (!rc && !files.n)
		warnf("certificate source '%s' matches no file", src->path);
	for (size_t i = 0; !rc && i < files.n; i++)
		rc = ingest_ejbca_file(ctx, files.v[i], e);
	strlist_free(&files);
	free(pattern);
	return rc;
}
