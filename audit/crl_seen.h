/*
 * crl_seen.h — an in-memory index of the first CRL listing already stored
 * for each (issuer, serial), and the serial keys it is looked up by.
 *
 * CAs publish cumulative CRLs, each listing every revocation so far, and the
 * store keeps only the first listing of each (issuer, serial); so a year of
 * daily CRLs repeats millions of entries the store already holds. The CRL
 * source (src_crl.c) loads this index from crl_entry once per source and
 * asks it about each entry's serial, so that it decodes and writes only the
 * listings that are new or earlier than the stored one, without a SQLite
 * query per entry. struct crl_serial is a serial both as the index's key and
 * as the text stored, so the two always agree.
 *
 * Depends on x509.h for the serial's text; knows nothing of DER or SQLite
 * (crl_der.h walks the CRL, the caller talks to the store). Ownership is
 * stated at each struct: both own their buffers and are released by their
 * _free, after which they are zeroed and may be used again.
 */
#ifndef CA_CRL_SEEN_H
#define CA_CRL_SEEN_H

#include <stddef.h>
#include <stdint.h>

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
