/*
 * crl_der.h — a CRL (RFC 5280 §5.1 CertificateList) read in place from its
 * DER bytes, without d2i_X509_CRL.
 *
 * A daily cumulative CRL lists every revocation so far, so a year of them
 * holds millions of entries that are almost all known already. d2i_X509_CRL
 * builds OpenSSL structures for every one; this walker only finds where each
 * part is, so that the CRL source can verify the signature over the
 * TBSCertList bytes and look at each entry's serial before deciding whether
 * to decode anything more.
 *
 * The walker accepts strict DER only (definite, minimal lengths; minimal
 * INTEGERs; revocation dates in the plain forms YYMMDDHHMMSSZ and
 * YYYYMMDDHHMMSSZ with valid calendar values): a CRL it refuses may still be
 * one OpenSSL reads, and the caller then falls back to d2i_X509_CRL, so that
 * what it accepts is always a subset of what OpenSSL does. Every length is
 * checked against its enclosing element. The walker allocates nothing: every
 * pointer in struct crl_der and struct crl_der_entry points into the caller's
 * buffer and is borrowed for as long as that buffer lives.
 *
 * Which entries are worth decoding is crl_seen.h's business, not this
 * walker's.
 */
#ifndef CA_CRL_DER_H
#define CA_CRL_DER_H

#include <stddef.h>

/* A part of the buffer. */
struct crl_der_span {
	const unsigned char *p; /* NULL when the part is absent */
	size_t len;
};

struct crl_der {
	size_t total;                 /* bytes of the whole CertificateList */
	struct crl_der_span tbs;      /* TBSCertList, tag and length included: what is signed */
	struct crl_der_span tbs_alg;  /* TBSCertList.signature AlgorithmIdentifier (whole TLV) */
	struct crl_der_span sig_alg;  /* signatureAlgorithm AlgorithmIdentifier (whole TLV) */
	struct crl_der_span sig;      /* signatureValue contents after the unused-bits byte */
	int sig_unused_bits;          /* that byte */
	struct crl_der_span issuer;   /* the issuer Name, whole TLV */
	struct crl_der_span this_update; /* Time, whole TLV */
	struct crl_der_span next_update; /* Time, whole TLV; p NULL when absent */
	struct crl_der_span revoked;  /* contents of revokedCertificates; p NULL when absent */
	struct crl_der_span exts;     /* crlExtensions' Extensions SEQUENCE, whole TLV; p NULL when absent */
	size_t n_revoked;             /* number of entries */
};

/* One revokedCertificates entry. */
struct crl_der_entry {
	struct crl_der_span serial; /* INTEGER contents (two's complement, minimal) */
	struct crl_der_span date;   /* revocationDate, whole TLV (UTCTime or GeneralizedTime) */
	struct crl_der_span exts;   /* crlEntryExtensions, whole TLV; p NULL when absent */
};

/* Reads the CertificateList at the start of buf (len bytes; more may
 * follow it). Returns 0 with out filled, -1 when it is not one this walker
 * accepts (no message: the caller tries OpenSSL next). */
int crl_der_parse(const unsigned char *buf, size_t len, struct crl_der *out);

/* Iterates over a parsed CRL's entries: set *cursor to c->revoked.p first.
 * Returns 1 with out filled, 0 after the last, -1 on malformed input
 * (impossible after crl_der_parse accepted the CRL). */
int crl_der_next(const struct crl_der *c, const unsigned char **cursor,
		 struct crl_der_entry *out);

#endif
