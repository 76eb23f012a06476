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
 *
 * Speed (issue #6): CAs publish cumulative CRLs, each listing every
 * revocation so far, and the store keeps only the first listing of each
 * (issuer, serial). So a CRL is read in place with crl_der.h rather than
 * d2i_X509_CRL, its signature checked over the TBSCertList bytes, and each
 * entry's serial looked up in an in-memory index of the first listings
 * stored (loaded from crl_entry once per source); only an entry that is new,
 * or listed earlier than what is stored, has its date and reason decoded and
 * goes to store_put_crl_entry. CRLs the walker refuses, and signatures whose
 * algorithm names no digest (RSA-PSS, Ed25519), go through d2i_X509_CRL as
 * before, so results and messages are the same either way.
 */
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crl_der.h"
#include "crl_seen.h"
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

static int seen_load(struct crl_seen *s, struct crl_serial *k, sqlite3 *db, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	s->loaded = 1;
	if (sqlite3_prepare_v2(db, "SELECT issuer, serial, min(crl_this_update) FROM"
			       " crl_entry GROUP BY issuer, serial", -1, &st, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, NULL, 0, 0, "unable to read the CRL entries: %s",
			       sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *iss = (const char *)sqlite3_column_text(st, 0);
		const char *serial = (const char *)sqlite3_column_text(st, 1);
		const char *min = (const char *)sqlite3_column_text(st, 2);
		long idx;

		/* A serial of another shape never equals one written here. */
		if (!iss || !serial || !min || crl_serial_from_text(k, serial))
			continue;
		if ((idx = crl_seen_issuer(s, iss)) < 0 ||
		    crl_seen_note(s, (uint32_t)idx, k->key, k->len, crl_seen_time(min))) {
			sqlite3_finalize(st);
			return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
		}
	}
	if (rc != SQLITE_DONE)
		err_set(e, CA_EDB, NULL, 0, 0, "unable to read the CRL entries: %s",
			sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- CRLs ----------------------------------------------------------- */

/* One src_crl call. */
struct crl_run {
	struct ingest_ctx *ctx;   /* borrowed */
	STACK_OF(X509) *issuers;  /* owned: the configured issuer certificates; NULL
				     when the source names none */
	struct crl_seen seen;         /* loaded before the first CRL is stored */
	struct crl_serial key;       /* the entry at hand */
};

/* What either reader gives of a CRL before its entries. */
struct crl_head {
	char *issuer;             /* owned: RFC 4514, NULL when unreadable */
	char this_update[20];     /* UTC, "" when unreadable */
	char next_update[20];     /* UTC, "" when absent or unreadable */
	char *number;             /* owned: cRLNumber in hex, or NULL */
	uint32_t iss;             /* the issuer's index in the seen issuers */
	int64_t when;             /* crl_seen_time(this_update) */
};

#define MSG_UNREADABLE "not a readable CRL (expected a PEM 'X509 CRL' block or a DER " \
	"CertificateList) at byte %ld"

static int oom(struct err *e)
{
	return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
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

static char *reason_of(const STACK_OF(X509_EXTENSION) *exts)
{
	ASN1_ENUMERATED *en = exts ? X509V3_get_d2i(exts, NID_crl_reason, NULL, NULL) : NULL;
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

static char *crl_number(const STACK_OF(X509_EXTENSION) *exts)
{
	ASN1_INTEGER *num = exts ? X509V3_get_d2i(exts, NID_crl_number, NULL, NULL) : NULL;
	char *hex = num ? integer_hex(num) : NULL;

	ASN1_INTEGER_free(num);
	return hex;
}

static void head_times(struct crl_head *h, const ASN1_TIME *this_update,
		       const ASN1_TIME *next_update)
{
	if (asn1_time_utc(this_update, h->this_update))
		h->this_update[0] = '\0';
	if (next_update && asn1_time_utc(next_update, h->next_update))
		h->next_update[0] = '\0';
}

static void head_free(struct crl_head *h)
{
	free(h->issuer);
	free(h->number);
}

/* The configured issuer certificates: every certificate of every file the
 * issuers pattern matches. */
static int issuers_load(const struct config *cfg, const char *pattern,
			STACK_OF(X509) *out, struct err *e)
{
	struct strlist files = {0};
	char *full = config_path(cfg, pattern);
	int rc = full ? pathglob(full, &files, e) : oom(e);

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

/* ---- signatures ----------------------------------------------------- */

/* An SM2 signature over TBS bytes, with the given distinguishing ID. */
static int verify_sm2_id(const unsigned char *tbs, size_t tbs_len, const unsigned char *sig,
			 size_t sig_len, EVP_PKEY *key, const char *id)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(key, NULL);
	int ok = 0;

	if (md && pctx && EVP_PKEY_CTX_set1_id(pctx, id, strlen(id)) > 0) {
		EVP_MD_CTX_set_pkey_ctx(md, pctx);
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sm3(), NULL, key) == 1 &&
		     EVP_DigestVerify(md, sig, sig_len, tbs, tbs_len) == 1;
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return ok;
}

/* A decoded CRL's signature, as before the walker. */
static int crl_verifies(X509_CRL *crl, EVP_PKEY *key)
{
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	unsigned char *tbs = NULL;
	int len, ok = 0;

	if (X509_CRL_get_signature_nid(crl) == NID_SM2_with_SM3) {
		X509_CRL_get0_signature(crl, &sig, &alg);
		len = i2d_re_X509_CRL_tbs(crl, &tbs);
		ok = len > 0 && verify_sm2_id(tbs, (size_t)len, sig->data, (size_t)sig->length,
					      key, SM2_DEFAULT_ID);
		OPENSSL_free(tbs);
	}
	if (!ok)
		ok = X509_CRL_verify(crl, key) == 1;
	ERR_clear_error();
	return ok;
}

/* The pieces of a walked CRL that the signature check and the issuer
 * comparison decode (each small). */
struct der_parts {
	X509_NAME *name;          /* owned: the issuer */
	X509_ALGOR *outer, *inner; /* owned: signatureAlgorithm, TBSCertList.signature */
};

static void der_parts_free(struct der_parts *d)
{
	X509_NAME_free(d->name);
	X509_ALGOR_free(d->outer);
	X509_ALGOR_free(d->inner);
}

/* The signature over the TBS bytes, checked as X509_CRL_verify does
 * (equal algorithm identifiers, no unused bits, a key of the algorithm's
 * type, its digest). -2 when the algorithm names no digest (RSA-PSS,
 * Ed25519): X509_CRL_verify must decide. */
static int der_verifies(const struct crl_der *c, const struct der_parts *d, EVP_PKEY *key)
{
	int nid = OBJ_obj2nid(d->outer->algorithm), md_nid, pkey_nid, ok;
	EVP_MD_CTX *md;

	if (nid == NID_SM2_with_SM3 && verify_sm2_id(c->tbs.p, c->tbs.len, c->sig.p,
						      c->sig.len, key, SM2_DEFAULT_ID))
		return 1;
	if (X509_ALGOR_cmp(d->outer, d->inner) || c->sig_unused_bits ||
	    !OBJ_find_sigid_algs(nid, &md_nid, &pkey_nid))
		return 0;
	if (md_nid == NID_undef)
		return -2;
	if (!EVP_PKEY_is_a(key, OBJ_nid2sn(pkey_nid)) || !(md = EVP_MD_CTX_new()))
		return 0;
	ok = EVP_DigestVerifyInit_ex(md, NULL, OBJ_nid2sn(md_nid), NULL, NULL, key, NULL) == 1 &&
	     EVP_DigestVerify(md, c->sig.p, c->sig.len, c->tbs.p, c->tbs.len) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

/* One CRL's signature, from whichever reader read it. */
struct crl_sig {
	const struct crl_der *c;    /* the walked CRL, or NULL */
	const struct der_parts *d;  /* with c */
	const unsigned char *der;   /* with c: the CRL's bytes (c->total of them) */
	X509_CRL *crl;              /* the decoded CRL; with c, decoded here only
				       when X509_CRL_verify must decide */
	int own;                    /* crl was decoded here */
};

static int sig_verifies(struct crl_sig *s, X509 *issuer)
{
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	int ok;

	ERR_clear_error();
	if (!key)
		return 0;
	if (s->c && (ok = der_verifies(s->c, s->d, key)) != -2)
		return ok;
	if (!s->crl) {
		const unsigned char *q = s->der;

		s->crl = d2i_X509_CRL(NULL, &q, (long)s->c->total);
		s->own = 1;
		ERR_clear_error();
		if (!s->crl)
			return 0;
	}
	return crl_verifies(s->crl, key);
}

/* 1 when the CRL may be stored: no configured certificate has its issuer's
 * subject, or one of those that have verifies it. 0 when all that have fail;
 * *subject (malloc'd) then names the issuer for the message. */
static int signature_ok(STACK_OF(X509) *issuers, const X509_NAME *name, struct crl_sig *s,
			char **subject)
{
	int seen = 0;

	for (int i = 0; issuers && i < sk_X509_num(issuers); i++) {
		X509 *x = sk_X509_value(issuers, i);

		if (X509_NAME_cmp(X509_get_subject_name(x), name))
			continue;
		if (sig_verifies(s, x))
			return 1;
		if (!seen++)
			*subject = x509_name_text(X509_get_subject_name(x));
	}
	if (!seen && issuers)
		debugf("no configured issuer certificate for a CRL: its signature is not "
		       "checked");
	return !seen;
}

/* ---- storing -------------------------------------------------------- */

/* Rejects the CRL, or stores its row: 1 when its entries are to be read,
 * 0 when it was rejected, -1 on error. */
static int crl_begin(struct crl_run *r, struct ingest_file *f, long pos, struct crl_head *h,
		     int sig_ok, const char *signer, struct err *e)
{
	int added = 0;
	long idx;

	if (!sig_ok)
		return ingest_reject(r->ctx, f, pos, e, "CRL signature does not verify with the "
				     "issuer certificate '%s'", signer ? signer : "?");
	if (!h->issuer || !h->this_update[0])
		return ingest_reject(r->ctx, f, pos, e,
				     "CRL without a readable issuer or thisUpdate");
	if (store_put_crl(r->ctx->st, h->issuer, h->this_update,
			  h->next_update[0] ? h->next_update : NULL, h->number, f->source,
			  &added, e))
		return -1;
	ingest_count(r->ctx, f, added);
	if (!r->seen.loaded && seen_load(&r->seen, &r->key, store_db(r->ctx->st), e))
		return -1;
	if ((idx = crl_seen_issuer(&r->seen, h->issuer)) < 0)
		return oom(e);
	h->iss = (uint32_t)idx;
	h->when = crl_seen_time(h->this_update);
	return 1;
}

/* Stores the entry whose key is r->key, which crl_seen_wants asked for. */
static int put_entry(struct crl_run *r, const struct crl_head *h, const char *revoked_at,
		     const STACK_OF(X509_EXTENSION) *exts, struct err *e)
{
	char *reason = reason_of(exts);
	int rc = store_put_crl_entry(r->ctx->st, h->issuer, crl_serial_text(&r->key), revoked_at,
				     reason, h->this_update, e);

	free(reason);
	ERR_clear_error();
	if (!rc && crl_seen_note(&r->seen, h->iss, r->key.key, r->key.len, h->when))
		rc = oom(e);
	return rc;
}

static int reject_entry(struct crl_run *r, struct ingest_file *f, long pos, int i,
			struct err *e)
{
	return ingest_reject(r->ctx, f, pos, e, "CRL entry %d has an unreadable serial or date",
			     i + 1);
}

/* The entries of a walked CRL: only those the store must see are decoded. */
static int der_entries(struct crl_run *r, struct ingest_file *f, long pos,
		       const struct crl_der *c, const struct crl_head *h, struct err *e)
{
	const unsigned char *cur = c->revoked.p;
	struct crl_der_entry ent;

	for (int i = 0; crl_der_next(c, &cur, &ent) == 1; i++) {
		const unsigned char *q = ent.date.p;
		STACK_OF(X509_EXTENSION) *exts = NULL;
		ASN1_TIME *date;
		char when[20];
		int rc;

		if (crl_serial_from_der(&r->key, ent.serial.p, ent.serial.len))
			return oom(e);
		if (!crl_seen_wants(&r->seen, h->iss, r->key.key, r->key.len, h->when))
			continue;
		date = d2i_ASN1_TIME(NULL, &q, (long)ent.date.len);
		if (ent.exts.p) {
			q = ent.exts.p;
			exts = d2i_X509_EXTENSIONS(NULL, &q, (long)ent.exts.len);
		}
		rc = asn1_time_utc(date, when) ? reject_entry(r, f, pos, i, e)
					       : put_entry(r, h, when, exts, e);
		ASN1_TIME_free(date);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		ERR_clear_error();
		if (rc)
			return -1;
	}
	return 0;
}

/* A walked CRL: 0, -1 on error, 1 when a part does not decode and OpenSSL
 * must read the whole CRL instead (nothing was stored then). */
static int store_der(struct crl_run *r, struct ingest_file *f, long pos,
		     const unsigned char *der, const struct crl_der *c, struct err *e)
{
	struct crl_head h = {0};
	struct der_parts d = {0};
	struct crl_sig s = {.c = c, .d = &d, .der = der};
	STACK_OF(X509_EXTENSION) *exts = NULL;
	ASN1_TIME *this_update, *next_update = NULL;
	const unsigned char *q;
	char *signer = NULL;
	int rc = 1;

	q = c->issuer.p, d.name = d2i_X509_NAME(NULL, &q, (long)c->issuer.len);
	q = c->sig_alg.p, d.outer = d2i_X509_ALGOR(NULL, &q, (long)c->sig_alg.len);
	q = c->tbs_alg.p, d.inner = d2i_X509_ALGOR(NULL, &q, (long)c->tbs_alg.len);
	q = c->this_update.p, this_update = d2i_ASN1_TIME(NULL, &q, (long)c->this_update.len);
	if (c->next_update.p)
		q = c->next_update.p,
		next_update = d2i_ASN1_TIME(NULL, &q, (long)c->next_update.len);
	if (c->exts.p)
		q = c->exts.p, exts = d2i_X509_EXTENSIONS(NULL, &q, (long)c->exts.len);
	ERR_clear_error();
	if (!d.name || !d.outer || !d.inner || !this_update ||
	    (c->next_update.p && !next_update) || (c->exts.p && !exts))
		goto out;
	h.issuer = x509_name_der_text(c->issuer.p, c->issuer.len);
	h.number = crl_number(exts);
	head_times(&h, this_update, next_update);
	rc = signature_ok(r->issuers, d.name, &s, &signer);
	rc = crl_begin(r, f, pos, &h, rc, signer, e);
	if (rc == 1)
		rc = der_entries(r, f, pos, c, &h, e);
	rc = rc < 0 ? -1 : 0;
out:
	free(signer);
	if (s.own)
		X509_CRL_free(s.crl);
	ASN1_TIME_free(this_update);
	ASN1_TIME_free(next_update);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	der_parts_free(&d);
	head_free(&h);
	return rc;
}

/* A CRL OpenSSL decoded, as before the walker. */
static int store_x509(struct crl_run *r, struct ingest_file *f, long pos, X509_CRL *crl,
		      struct err *e)
{
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
	struct crl_head h = {.issuer = x509_name_text(X509_CRL_get_issuer(crl))};
	struct crl_sig s = {.crl = crl};
	char *signer = NULL;
	int rc;

	h.number = crl_number(X509_CRL_get0_extensions(crl));
	head_times(&h, X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl));
	rc = signature_ok(r->issuers, X509_CRL_get_issuer(crl), &s, &signer);
	rc = crl_begin(r, f, pos, &h, rc, signer, e);
	for (int i = 0; rc == 1 && i < sk_X509_REVOKED_num(revoked); i++) {
		const X509_REVOKED *rv = sk_X509_REVOKED_value(revoked, i);
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(rv);
		char when[20];

		if (crl_serial_set(&r->key, ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER,
			    ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn)))
			rc = oom(e);
		else if (asn1_time_utc(X509_REVOKED_get0_revocationDate(rv), when))
			rc = reject_entry(r, f, pos, i, e) ? -1 : 1;
		else if (crl_seen_wants(&r->seen, h.iss, r->key.key, r->key.len, h.when))
			rc = put_entry(r, &h, when, X509_REVOKED_get0_extensions(rv), e) ? -1 : 1;
	}
	free(signer);
	head_free(&h);
	return rc < 0 ? -1 : 0;
}

/* ---- files ---------------------------------------------------------- */

/* The CRL at byte *pos of a DER file that the walker refused, read by
 * d2i_X509_CRL_bio from there as before, so that where a CRL ends, and
 * whether junk at the end of the file is a reject, stay what they were.
 * 1 when a CRL was read (*pos then moves past it), 0 at the end, -1. */
static int der_openssl(struct crl_run *r, struct ingest_file *f, size_t *pos, int n,
		       struct err *e)
{
	BIO *bio = BIO_new_file(f->path, "rb");
	long at = (long)*pos;
	X509_CRL *crl;
	int rc;

	if (!bio)
		return err_set(e, CA_EIO, f->source, 0, 0, "unable to open: %s", strerror(errno));
	crl = BIO_seek(bio, at) == 0 ? d2i_X509_CRL_bio(bio, NULL) : NULL;
	if (!crl) {
		rc = (!BIO_eof(bio) || !n) && ingest_reject(r->ctx, f, at, e, MSG_UNREADABLE, at)
			     ? -1 : 0;
	} else {
		*pos = (size_t)BIO_tell(bio);
		rc = store_x509(r, f, at, crl, e) ? -1 : 1;
	}
	X509_CRL_free(crl);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

static int read_der(struct crl_run *r, struct ingest_file *f, FILE *fp, struct err *e)
{
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, pos = 0;
	int rc = 0, n = 0;

	for (;;) {
		if (len == cap) {
			unsigned char *b = realloc(buf, cap = cap ? cap * 2 : 1 << 16);
			if (!b) {
				free(buf);
				return oom(e);
			}
			buf = b;
		}
		size_t got = fread(buf + len, 1, cap - len, fp);
		if (!got)
			break;
		len += got;
	}
	if (ferror(fp)) {
		free(buf);
		return err_set(e, CA_EIO, f->source, 0, 0, "unable to read: %s", strerror(errno));
	}
	while (pos < len || !n) {
		struct crl_der c;

		if (pos < len && !crl_der_parse(buf + pos, len - pos, &c) &&
		    (rc = store_der(r, f, (long)pos, buf + pos, &c, e)) != 1) {
			n++;
			pos += c.total;
		} else if ((rc = der_openssl(r, f, &pos, n, e)) == 1) {
			n++;
			rc = 0;
		} else {
			break;
		}
		if (rc)
			break;
	}
	free(buf);
	return rc;
}

static int read_pem(struct crl_run *r, struct ingest_file *f, struct err *e)
{
	BIO *bio = BIO_new_file(f->path, "rb");
	int rc = 0, n = 0;

	if (!bio)
		return err_set(e, CA_EIO, f->source, 0, 0, "unable to open: %s", strerror(errno));
	while (!rc) {
		long pos = BIO_tell(bio), len = 0;
		unsigned char *der = NULL;
		const unsigned char *q;
		X509_CRL *crl = NULL;
		struct crl_der c;

		if (PEM_bytes_read_bio(&der, &len, NULL, PEM_STRING_X509_CRL, bio, NULL,
				       NULL) == 1 &&
		    !crl_der_parse(der, (size_t)len, &c) &&
		    (rc = store_der(r, f, n + 1, der, &c, e)) != 1) {
			n++;
		} else if (der && (q = der, crl = d2i_X509_CRL(NULL, &q, len))) {
			rc = store_x509(r, f, ++n, crl, e);
		} else {
			if (!BIO_eof(bio) || !n)
				rc = ingest_reject(r->ctx, f, 0, e, MSG_UNREADABLE, pos);
			OPENSSL_free(der);
			break;
		}
		X509_CRL_free(crl);
		OPENSSL_free(der);
	}
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}

/* Reads every CRL of one file: PEM blocks, or concatenated DER. */
static int read_file(struct crl_run *r, struct ingest_file *f, struct err *e)
{
	FILE *fp = fopen(f->path, "rb");
	char head[10];
	int pem, rc;

	if (!fp)
		return err_set(e, CA_EIO, f->source, 0, 0, "unable to open: %s", strerror(errno));
	pem = fread(head, 1, 10, fp) == 10 && !memcmp(head, "-----BEGIN", 10);
	rewind(fp);
	rc = pem ? read_pem(r, f, e) : read_der(r, f, fp, e);
	fclose(fp);
	return rc;
}

int src_crl(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e)
{
	struct strlist files = {0};
	struct crl_run r = {.ctx = ctx, .issuers = src->issuers ? sk_X509_new_null() : NULL};
	char *pattern = config_path(ctx->cfg, src->path);
	int rc = pattern && (r.issuers || !src->issuers) ? pathglob(pattern, &files, e) : oom(e);

	if (!rc && r.issuers)
		rc = issuers_load(ctx->cfg, src->issuers, r.issuers, e);

	for (size_t i = 0; !rc && i < files.n; i++) {
		struct ingest_file f;
		int skip = ingest_file_begin(ctx, files.v[i], "crls", "crl", &f, e);

		if (skip)
			rc = skip < 0 ? -1 : 0;
		else if (read_file(&r, &f, e))
			ingest_file_abort(ctx, &f), rc = -1;
		else
			rc = ingest_file_end(ctx, &f, e);
	}
	sk_X509_pop_free(r.issuers, X509_free);
	crl_seen_free(&r.seen);
	free(r.key.key);
	free(r.key.text);
	strlist_free(&files);
	free(pattern);
	return rc;
}
