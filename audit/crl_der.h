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
 * Also here, for the same purpose: struct crl_seen, an in-memory index of the
 * first listing stored for each (issuer, serial), which lets the CRL source
 * skip an entry it has stored before without asking SQLite; and struct
 * crl_serial, a serial as that index's key and as the text stored.
 */
#ifndef CA_CRL_DER_H
#define CA_CRL_DER_H

#include <stddef.h>
#include <stdint.h>

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

/* ---- the first listings already stored ----------------------------- */

/* (issuer, serial) → the earliest crl_this_update stored, as the number
 * YYYYMMDDHHMMSS (crl_seen_time), or -1 when that text has another shape:
 * the store, which compares texts, then decides every time. Keys are an
 * issuer index (crl_seen_issuer) and a serial key (struct crl_serial);
 * records sit in one arena, so a CA with millions of revocations costs some
 * 50 bytes each. Zero-initialise; crl_seen_free releases. */
struct crl_seen {
	uint32_t *slot;       /* owned: 1 + a record's offset in arena; 0 is empty */
	size_t cap, n;        /* slots (a power of two), records */
	unsigned char *arena; /* owned: records [int64 when][uint32 issuer][uint8 len][key] */
	size_t used, size;    /* bytes of arena in use, allocated */
	char **iss;           /* owned: issuer texts, by index */
	size_t n_iss, last;   /* count; the index found last */
	int loaded;           /* set by the caller once it has filled the index */
};

void crl_seen_free(struct crl_seen *s);
/* The index of an issuer text, added when new; -1 when out of memory. */
long crl_seen_issuer(struct crl_seen *s, const char *issuer);
/* Whether a listing of the key in a CRL of thisUpdate `when` must go to the
 * store: the key is unknown, or this listing is earlier than the stored one
 * (or either time is -1). */
int crl_seen_wants(const struct crl_seen *s, uint32_t iss, const unsigned char *key,
		   size_t len, int64_t when);
/* After the store took a listing that crl_seen_wants asked for (or, when
 * filling the index, for each stored key and its earliest time): the stored
 * earliest is now `when`. Keys over 255 bytes are not indexed (the store
 * decides for them). 0, or -1 when out of memory. */
int crl_seen_note(struct crl_seen *s, uint32_t iss, const unsigned char *key, size_t len,
		  int64_t when);
/* "YYYY-MM-DD HH:MM:SS" as the number YYYYMMDDHHMMSS, which orders as the
 * text does; -1 for any other shape. */
int64_t crl_seen_time(const char *t);

/* ---- serials ------------------------------------------------------- */

/* A serial as an index key and as the text stored, in a buffer reused from
 * entry to entry. Zero-initialise; crl_serial_free releases. */
struct crl_serial {
	unsigned char *key; /* owned: [1 if negative][magnitude without leading zero bytes] */
	size_t len, cap;    /* key bytes; allocated */
	char *text;         /* owned: room for crl_serial_text */
};

void crl_serial_free(struct crl_serial *k);
/* From a sign and a big-endian magnitude (an ASN1_INTEGER's data). */
int crl_serial_set(struct crl_serial *k, int neg, const unsigned char *mag, size_t len);
/* From an INTEGER's DER contents (two's complement). */
int crl_serial_from_der(struct crl_serial *k, const unsigned char *p, size_t len);
/* From a serial as crl_serial_text writes it; -1 for any other text (which
 * no CRL entry can produce). */
int crl_serial_from_text(struct crl_serial *k, const char *t);
/* The serial as stored: uppercase hex, even length, as BN_bn2hex gave it
 * and padded with a leading "0"; so a negative reads "0-" and the magnitude.
 * Borrowed from k until its next change. */
const char *crl_serial_text(struct crl_serial *k);

#endif
