/*
 * src_crl.c — the CRL source: PEM or DER files (one or more CRLs each) into
 * the crl and crl_entry tables.
 *
 * Issuer names are written the way the certificate reader writes them
 * (x509_name_text in x509.h) so that rules can join CRLs to certificates on
 * the issuer. Signature checking against the issuer's certificate is not
 * done here yet: a CRL is taken as it is.
 */
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "pathglob.h"
#include "x509.h"

static const char *const reason_names[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "certificateHold", "unused",
	"removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

static int asn1_time_utc(const ASN1_TIME *t, char out[20])
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm) || tm.tm_year < -1900 || tm.tm_year > 8099)
		return -1;
	return strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) ? 0 : -1;
}

/* An INTEGER as stored: uppercase hex, even length. */
static char *integer_hex(const ASN1_INTEGER *i)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(i, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL, *out = NULL;

	if (hex) {
		size_t n = strlen(hex);
		out = malloc(n + 2);
		if (out)
			snprintf(out, n + 2, "%s%s", n % 2 ? "0" : "", hex);
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return out;
}

static char *entry_reason(const X509_REVOKED *r)
{
	ASN1_ENUMERATED *en = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
	long code;
	char *s = NULL;

	if (!en)
		return NULL;
	code = ASN1_ENUMERATED_get(en);
	if (code >= 0 && code < (long)(sizeof reason_names / sizeof *reason_names))
		s = strdup(reason_names[code]);
	ASN1_ENUMERATED_free(en);
	return s;
}

static int store_one(struct ingest_ctx *ctx, struct ingest_file *f, X509_CRL *crl,
		     long pos, struct err *e)
{
	char this_update[20], next_update[20] = "", when[20];
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
	char *issuer = x509_name_text(X509_CRL_get_issuer(crl));
	char *number = num ? integer_hex(num) : NULL;
	int added = 0, rc = -1;

	ASN1_INTEGER_free(num);
	if (!issuer || asn1_time_utc(X509_CRL_get0_lastUpdate(crl), this_update)) {
		rc = ingest_reject(ctx, f, pos, e, "CRL without a readable issuer or thisUpdate");
		goto out;
	}
	if (X509_CRL_get0_nextUpdate(crl))
		asn1_time_utc(X509_CRL_get0_nextUpdate(crl), next_update);
	if (store_put_crl(ctx->st, issuer, this_update, next_update[0] ? next_update : NULL,
			  number, f->source, &added, e))
		goto out;
	ingest_count(ctx, f, added);
	for (int i = 0; i < sk_X509_REVOKED_num(revoked); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revoked, i);
		char *serial = integer_hex(X509_REVOKED_get0_serialNumber(r));
		char *reason = entry_reason(r);
		int bad = !serial || asn1_time_utc(X509_REVOKED_get0_revocationDate(r), when);

		rc = bad ? 0 : store_put_crl_entry(ctx->st, issuer, serial, when, reason,
						   this_update, e);
		free(serial);
		free(reason);
		if (rc)
			goto out;
		if (bad && ingest_reject(ctx, f, pos, e,
					 "CRL entry %d has an unreadable serial or date", i + 1))
			goto out;
	}
	rc = 0;
out:
	free(issuer);
	free(number);
	return rc;
}

/* Reads every CRL of one file: PEM blocks, or concatenated DER. */
static int read_file(struct ingest_ctx *ctx, struct ingest_file *f, struct err *e)
{
	BIO *bio = BIO_new_file(f->path, "rb");
	unsigned char head[11] = {0};
	int pem, rc = 0, n = 0;

	if (!bio)
		return err_set(e, CA_EIO, f->source, 0, 0, "unable to open: %s", strerror(errno));
	pem = BIO_read(bio, head, 10) == 10 && !memcmp(head, "-----BEGIN", 10);
	BIO_reset(bio);
	for (;;) {
		long pos = BIO_tell(bio);
		X509_CRL *crl = pem ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)
				    : d2i_X509_CRL_bio(bio, NULL);
		if (!crl) {
			if (!BIO_eof(bio) || !n)
				rc = ingest_reject(ctx, f, pem ? 0 : pos, e,
						   "not a readable CRL (expected a PEM 'X509 CRL'"
						   " block or a DER CertificateList) at byte %ld",
						   pos);
			break;
		}
		n++;
		rc = store_one(ctx, f, crl, pem ? n : pos, e);
		X509_CRL_free(crl);
		if (rc)
			break;
	}
	BIO_free(bio);
	return rc;
}

int src_crl(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e)
{
	struct strlist files = {0};
	char *pattern = config_path(ctx->cfg, src->path);
	int rc = pattern ? pathglob(pattern, &files, e)
			 : err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");

	for (size_t i = 0; !rc && i < files.n; i++) {
		struct ingest_file f;
		int skip = ingest_file_begin(ctx, files.v[i], "crls", "crl", &f, e);

		if (skip)
			rc = skip < 0 ? -1 : 0;
		else if (read_file(ctx, &f, e))
			ingest_file_abort(ctx, &f), rc = -1;
		else
			rc = ingest_file_end(ctx, &f, e);
	}
	strlist_free(&files);
	free(pattern);
	return rc;
}
