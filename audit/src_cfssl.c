/*
 * src_cfssl.c — the `cfssl` certificate source: cfssl's certdb, an SQLite
 * file whose `certificates` table has the columns of cfssl's migrations 001
 * and 002 (serial_number, authority_key_identifier, ca_label, status,
 * reason, expiry, revoked_at, pem; issued_at, not_before, metadata, sans,
 * common_name).
 *
 * The certificate itself comes from `pem`, read with x509.h; the row adds
 * what only cfssl knows: status ('good' is stored as valid, 'revoked' as
 * revoked, as the source says — expiry is for the rules to judge against
 * --as-of), revoked_at and the RFC 5280 reason code. The database is opened
 * read-only and only here: it is a foreign file, not the evidence store, so
 * this module talks to SQLite directly. The whole database is one unit of
 * ingest; a row whose pem cannot be read is rejected with its rowid as the
 * position. A database in WAL mode should be checkpointed before ingest:
 * changes still in the -wal file do not change the file's digest.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "log.h"
#include "timeutil.h"
#include "x509.h"

#define CFSSL_QUERY                                                                 \
	"SELECT rowid, CAST(serial_number AS TEXT), CAST(status AS TEXT), reason, "  \
	"revoked_at, CAST(pem AS TEXT) FROM certificates ORDER BY rowid"

/* One row being read. */
struct cfssl_row {
	struct ingest_ctx *ctx;
	struct ingest_file *f;
	struct err *e;
	sqlite3_stmt *q;   /* positioned on the row */
	long rowid;
	const char *serial; /* borrowed from q: cfssl's decimal serial_number */
	int certs;          /* certificates found in pem */
};

/* cfssl's revoked_at: Go's time text ("2024-03-01 09:12:00.5+08:00") or,
 * from other writers, epoch seconds. Go's zero time means not revoked.
 * 0 and out[0] = '\0' when unset, -1 when unreadable. */
static int revoked_time(sqlite3_stmt *q, int col, char out[20])
{
	const char *s;
	struct err te = {0};

	out[0] = '\0';
	switch (sqlite3_column_type(q, col)) {
	case SQLITE_NULL:
		return 0;
	case SQLITE_INTEGER:
		if (sqlite3_column_int64(q, col) > 0)
			time_epoch_utc((time_t)sqlite3_column_int64(q, col), out);
		return 0;
	default:
		s = (const char *)sqlite3_column_text(q, col);
		if (!s || !*s || !strncmp(s, "0001-01-01", 10))
			return 0;
		return time_to_utc(s, out, &te);
	}
}

static int cfssl_bad(long pos, const char *reason, void *arg)
{
	struct cfssl_row *r = arg;

	(void)pos;
	return ingest_reject(r->ctx, r->f, r->rowid, r->e,
			     "certificate serial_number %s (rowid %ld): unreadable pem: %s",
			     r->serial ? r->serial : "?", r->rowid, reason);
}

static int cfssl_cert(const unsigned char *der, size_t len, long pos, void *arg)
{
	struct cfssl_row *r = arg;
	const struct config *cfg = r->ctx->cfg;
	const char *status = (const char *)sqlite3_column_text(r->q, 2);
	struct cert_rec c = {0};
	struct err pe = {0};
	char when[20];
	int added = 0, rc;

	if (r->certs++)
		return ingest_reject(r->ctx, r->f, r->rowid, r->e, "certificate serial_number "
				     "%s (rowid %ld): pem holds more than one certificate; only "
				     "the first is read", r->serial ? r->serial : "?", r->rowid);
	if (x509_read_der(der, len, cfg->identity, cfg->n_identity, &c, &pe) < 0)
		return cfssl_bad(pos, pe.msg, arg);
	if (status && !strcmp(status, "good"))
		set_str(&c.status, "valid");
	else if (status && !strcmp(status, "revoked"))
		set_str(&c.status, "revoked");
	else
		debugf("%s: rowid %ld: status '%s' is not cfssl's good or revoked: not recorded",
		       r->f->source, r->rowid, status ? status : "");
	if (revoked_time(r->q, 4, when)) {
		cert_rec_clear(&c);
		return ingest_reject(r->ctx, r->f, r->rowid, r->e, "certificate serial_number "
				     "%s (rowid %ld): unreadable revoked_at '%s'",
				     r->serial ? r->serial : "?", r->rowid,
				     (const char *)sqlite3_column_text(r->q, 4));
	}
	if (c.status && !strcmp(c.status, "revoked")) {
		set_str(&c.revoked_at, when[0] ? when : NULL);
		if (sqlite3_column_type(r->q, 3) == SQLITE_INTEGER)
			set_str(&c.revocation_reason,
				src_crl_reason_name((long)sqlite3_column_int64(r->q, 3)));
	}
	set_str(&c.source, r->f->source);
	rc = store_put_certificate(r->ctx->st, &c, &added, r->e);
	cert_rec_clear(&c);
	if (rc)
		return -1;
	ingest_count(r->ctx, r->f, added);
	return 0;
}

static int read_rows(struct ingest_ctx *ctx, struct ingest_file *f, sqlite3 *db,
		     struct err *e)
{
	struct cfssl_row r = {.ctx = ctx, .f = f, .e = e};
	int step, rc = 0;

	if (sqlite3_prepare_v2(db, CFSSL_QUERY, -1, &r.q, NULL) != SQLITE_OK)
		return err_set(e, CA_EINPUT, f->source, 0, 0, "not a cfssl certdb (expected a "
			       "'certificates' table with cfssl's columns): %s",
			       sqlite3_errmsg(db));
	while (!rc && (step = sqlite3_step(r.q)) == SQLITE_ROW) {
		const unsigned char *pem = sqlite3_column_text(r.q, 5);
		int len = sqlite3_column_bytes(r.q, 5);
		int64_t rejects = f->rejects;

		r.rowid = (long)sqlite3_column_int64(r.q, 0);
		r.serial = (const char *)sqlite3_column_text(r.q, 1);
		r.certs = 0;
		if (!pem || !len)
			rc = cfssl_bad(0, "empty", &r);
		else if (x509_split(pem, (size_t)len, cfssl_cert, cfssl_bad, &r) < 0)
			rc = -1;
		else if (!r.certs && f->rejects == rejects)
			rc = cfssl_bad(0, "no certificate in it", &r);
	}
	if (!rc && step != SQLITE_DONE)
		rc = err_set(e, CA_EINPUT, f->source, 0, 0, "unable to read the cfssl certdb: %s",
			     sqlite3_errmsg(db));
	sqlite3_finalize(r.q);
	return rc;
}

int src_cfssl(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e)
{
	struct ingest_file f;
	sqlite3 *db = NULL;
	char *path;
	int rc;

	if (!src->db)
		return err_set(e, CA_EINPUT, ctx->cfg->path, src->line, 0,
			       "source of type 'cfssl' needs a 'db'");
	if (!(path = config_path(ctx->cfg, src->db)))
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
	rc = ingest_file_begin(ctx, path, "certificates", "cfssl", &f, e);
	free(path);
	if (rc)
		return rc > 0 ? 0 : -1;
	if (sqlite3_open_v2(f.path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		rc = err_set(e, CA_EINPUT, f.source, 0, 0, "unable to open the cfssl certdb: %s",
			     db ? sqlite3_errmsg(db) : "out of memory");
	else
		rc = read_rows(ctx, &f, db, e);
	sqlite3_close(db);
	if (rc) {
		ingest_file_abort(ctx, &f);
		return -1;
	}
	return ingest_file_end(ctx, &f, e);
}
