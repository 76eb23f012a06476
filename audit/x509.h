/*
 * x509.h — reading certificates into struct cert_rec, fast.
 *
 * x509_read_der walks the DER with OpenSSL's ASN.1 primitives
 * (ASN1_get_object, d2i_X509_NAME, d2i_ASN1_TIME, d2i_X509_EXTENSIONS, ...)
 * rather than a full d2i_X509, which spends most of its time setting up a
 * public-key decoder for every certificate. It fills every column of
 * DESIGN §6 except status, revoked_at, revocation_reason and source, which the
 * source module sets. Identity numbers are taken from the configured
 * locations in order: GM/T 0015 extensions 1.2.156.10260.4.1.1 (IdentityCode;
 * the 2012 edition wraps it in an explicit [0] CHOICE), 1.2.156.10260.4.1.1.1,
 * 1.2.156.10260.4.4 and the subject serialNumber attribute.
 *
 * x509_split finds the certificates in a file's bytes: PEM (one or many
 * "-----BEGIN CERTIFICATE-----" blocks, other blocks skipped) or DER (one or
 * more concatenated certificates).
 */
#ifndef CA_X509_H
#define CA_X509_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "records.h"

/* Fills out (which must be zeroed or cleared) from one DER certificate.
 * On a malformed certificate returns -1 with a message (no position: the
 * caller knows where the certificate was). */
int x509_read_der(const unsigned char *der, size_t len,
		  const struct identity_loc *ids, size_t n_ids,
		  struct cert_rec *out, struct err *e);

/* Calls fn for each certificate in buf. pos is the 1-based line of the
 * BEGIN line for PEM, or the 0-based byte offset for DER. A block that
 * cannot be decoded is passed to bad(pos, reason) and skipped. Returns -1
 * if fn returns non-zero (that value's error in e). */
typedef int (*x509_cert_fn)(const unsigned char *der, size_t len, long pos, void *ctx);
typedef int (*x509_bad_fn)(long pos, const char *reason, void *ctx);
int x509_split(const unsigned char *buf, size_t len, x509_cert_fn fn, x509_bad_fn bad,
	       void *ctx);

/* Serial number bytes as stored: uppercase hex, even length ("0A1B2C"). */
void x509_serial_hex(const unsigned char *p, size_t len, char *out, size_t n);

/* An X509_NAME (passed as void * so that this header needs no OpenSSL
 * include) as RFC 4514 UTF-8 text, exactly as x509_read_der writes issuer and
 * subject; malloc'd, NULL on failure. The CRL reader uses it so that CRL
 * issuers join certificate issuers. */
char *x509_name_text(const void *x509_name);
/* The same, from a DER-encoded Name. */
char *x509_name_der_text(const unsigned char *der, size_t len);

/* SHA-256 of buf as lowercase hex, out[65]. */
void digest_sha256_hex(const unsigned char *buf, size_t len, char out[65]);

#endif
