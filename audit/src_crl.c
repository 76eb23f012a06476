/*
 * src_crl.c — the CRL source: PEM or DER files (one or more CRLs each) into
 * the crl and crl_entry tables.
 *
 * Issuer names are written the way the certificate reader writes them
 * (x509_name_text in x509.h) so that rules can join CRLs to certificates on
 * the issuer.
 *
 * When the source names its issuers (a file or glob of CA certificates), each
 * CRL's signature is checked against every configured certificate whose
 * subject is the CRL's issuer, and a CRL that verifies with none of them is
 * rejected: a CRL that does not verify proves nothing about revocation. A CRL
 * whose issuer is not among them is taken as it is (the certificate may
 * simply not have been configured), which -v notes. SM2 signatures are
 * checked with the GM/T 0009 default distinguishing ID "1234567812345678",
 * which Chinese CAs sign with, and, failing that, with none, which is what
 * OpenSSL 3.0 itself signs with when no `-sigopt distid:` is given; OpenSSL
 * 3.0's X509_CRL_verify tries only the latter.
 */
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "log.h"
#include "pathglob.h"
#include "x509.h"

#define SM2_DEFAULT_ID "1234567812345678"

static const char *const reason_names[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "certificateHold", "unused",
	"removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

const char *src_crl_reason_name(long code)
{
	if (code < 0 || code >= (long)(sizeof reason_names / sizeof *reason_names))
		return NULL;
	return reason_names[code];
}

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
	if (src_crl_reason_name(code))
		s = strdup(src_crl_reason_name(code));
	ASN1_ENUMERATED_free(en);
	return s;
}

/* The configured issuer certificates: every certificate of every file the
 * issuers pattern matches. */
static int issuers_load(const struct config *cfg, const char *pattern,
			STACK_OF(X509) *out, struct err *e)
{
	struct strlist files = {0};
	char *full = config_path(cfg, pattern);
	int rc = full ? pathglob(full, &files, e)
		      : err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");

	if (!rc && !files.n)
		warnf("crl issuers '%s' match no file: CRL signatures are not checked", pattern);
	for (size_t i = 0; !rc && i < files.n; i++) {
		BIO *bio = BIO_new_file(files.v[i], "rb");
		X509 *x;
		int n = 0;

		if (!bio) {
			rc = err_set(e, CA_EIO, files.v[i], 0, 0, "unable to open: %s",
				     strerror(errno));
			break;
		}
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) && sk_X509_push(out, x))
			n++;
		if (!n && BIO_reset(bio) == 0 && (x = d2i_X509_bio(bio, NULL)) &&
		    sk_X509_push(out, x))
			n++;
		BIO_free(bio);
		ERR_clear_error();
		if (!n)
			rc = err_set(e, CA_EINPUT, files.v[i], 0, 0, "no certificate in this "
				     "crl issuers file (expected PEM 'CERTIFICATE' blocks or DER)");
	}
	strlist_free(&files);
	free(full);
	return rc;
}

/* An SM2 signature over the CRL's TBS bytes, with the given distinguishing
 * ID. */
static int verify_sm2_id(X509_CRL *crl, EVP_PKEY *key, const char *id)
{
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	unsigned char *tbs = NULL;
	int len = i2d_re_X509_CRL_tbs(crl, &tbs), ok = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(key, NULL);

	X509_CRL_get0_signature(crl, &sig, &alg);
	if (len > 0 && md && pctx && EVP_PKEY_CTX_set1_id(pctx, id, strlen(id)) > 0) {
		EVP_MD_CTX_set_pkey_ctx(md, pctx);
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sm3(), NULL, key) == 1 &&
		     EVP_DigestVerify(md, sig->data, (size_t)sig->length, tbs,
				      (size_t)len) == 1;
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_CTX_free(pctx);
	OPENSSL_free(tbs);
	ERR_clear_error();
	return ok;
}

static int crl_verifies(X509_CRL *crl, X509 *issuer)
{
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	int ok;

	if (!key)
		return 0;
	ok = X509_CRL_get_signature_nid(crl) == NID_SM2_with_SM3 &&
	     verify_sm2_id(crl, key, SM2_DEFAULT_ID);
	if (!ok)
		ok = X509_CRL_verify(crl, key) == 1;
	ERR_clear_error();
	return ok;
}

/* 1 when the CRL may be stored: no configured certificate has its issuer's
 * subject, or one of those that have verifies it. 0 when all that have fail;
 * *subject (malloc'd) then names the issuer for the message. */
static int signature_ok(STACK_OF(X509) *issuers, X509_CRL *crl, char **subject)
{
	int seen = 0;

	for (int i = 0; issuers && i < sk_X509_num(issuers); i++) {
		X509 *x = sk_X509_value(issuers, i);

		if (X509_NAME_cmp(X509_get_subject_name(x), X509_CRL_get_issuer(crl)))
			continue;
		if (crl_verifies(crl, x))
			return 1;
		if (!seen++)
			*subject = x509_name_text(X509_get_subject_name(x));
	}
	if (!seen && issuers)
		debugf("no configured issuer certificate for a CRL: its signature is not "
		       "checked");
	return !seen;
}

static int store_one(struct ingest_ctx *ctx, struct ingest_file *f, X509_CRL *crl,
		     long pos, STACK_OF(X509) *issuers, struct err *e)
{
	char this_update[20], next_update[20] = "", when[20];
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
	char *issuer = x509_name_text(X509_CRL_get_issuer(crl));
	char *number = num ? integer_hex(num) : NULL;
	int added = 0, rc = -1;

	char *signer = NULL;

	ASN1_INTEGER_free(num);
	if (!signature_ok(issuers, crl, &signer)) {
		rc = ingest_reject(ctx, f, pos, e, "CRL signature does not verify with the issuer "
				   "certificate '%s'", signer ? signer : "?");
		free(signer);
		goto out;
	}
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
static int read_file(struct ingest_ctx *ctx, struct ingest_file *f,
		     STACK_OF(X509) *issuers, struct err *e)
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
		rc = store_one(ctx, f, crl, pem ? n : pos, issuers, e);
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
	STACK_OF(X509) *issuers = src->issuers ? sk_X509_new_null() : NULL;
	char *pattern = config_path(ctx->cfg, src->path);
	int rc = pattern && (issuers || !src->issuers)
			 ? pathglob(pattern, &files, e)
			 : err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");

	if (!rc && issuers)
		rc = issuers_load(ctx->cfg, src->issuers, issuers, e);

	for (size_t i = 0; !rc && i < files.n; i++) {
		struct ingest_file f;
		int skip = ingest_file_begin(ctx, files.v[i], "crls", "crl", &f, e);

		if (skip)
			rc = skip < 0 ? -1 : 0;
		else if (read_file(ctx, &f, issuers, e))
			ingest_file_abort(ctx, &f), rc = -1;
		else
			rc = ingest_file_end(ctx, &f, e);
	}
	sk_X509_pop_free(issuers, X509_free);
	strlist_free(&files);
	free(pattern);
	return rc;
}
