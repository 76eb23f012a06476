/*
 * der.h — DER read in place, one element at a time, for the certificate
 * reader (x509.c, x509_split.c) and the CRL walker (crl_der.c).
 *
 * The two read with different rules, on purpose, and say which at each call:
 * the certificate reader takes whatever OpenSSL's ASN1_get_object takes
 * (DER_BER: high tag numbers, long-form lengths that are not minimal), so it
 * reads every certificate d2i_X509 would; the CRL walker takes strict DER
 * only (DER_STRICT) and hands whatever that refuses to d2i_X509_CRL, so its
 * strictness costs speed on odd CRLs, never a different result. Under both,
 * indefinite lengths are refused and an element running past the end it must
 * fit in is an error, never a read out of bounds.
 *
 * Nothing here allocates: every pointer in struct der_tlv points into the
 * caller's buffer and is borrowed for as long as that buffer lives.
 */
#ifndef CA_DER_H
#define CA_DER_H

#include <stddef.h>

/* How strictly der_read reads identifiers and lengths. */
#define DER_BER 0x0    /* what ASN1_get_object accepts, definite lengths only */
#define DER_STRICT 0x1 /* low tag numbers, minimal lengths of at most four octets */

/* One element. */
struct der_tlv {
	const unsigned char *start; /* first identifier octet */
	const unsigned char *p;     /* contents */
	size_t len;                 /* length of contents */
	const unsigned char *end;   /* one past the contents */
	unsigned char id;           /* first identifier octet: class, constructed bit, tag
				     * number or 0x1f when a high tag number follows */
	int tag;                    /* tag number */
	int cls;                    /* class bits, id & 0xc0 (V_ASN1_UNIVERSAL, ...) */
	int cons;                   /* 0x20 (V_ASN1_CONSTRUCTED) when constructed, else 0 */
};

/* Bytes of the whole element: identifier, length and contents. */
static inline size_t der_size(const struct der_tlv *t)
{
	return (size_t)(t->end - t->start);
}

/* Reads the element starting at p, which must end by end. Returns 0, or -1
 * when there is none by flags' rules (t is then unspecified). */
int der_read(const unsigned char *p, const unsigned char *end, unsigned flags,
	     struct der_tlv *t);
/* As der_read at *pp, and moves *pp past the element; *pp is left alone on -1. */
int der_next(const unsigned char **pp, const unsigned char *end, unsigned flags,
	     struct der_tlv *t);

/* The value of the n decimal digits at p; -1 if any is not a digit. */
int der_digits(const unsigned char *p, int n);

/* A UTCTime or GeneralizedTime, UTC. */
struct der_time {
	int year, mon, day, hour, min, sec;
};

/* Reads a universal, primitive UTCTime or GeneralizedTime in its plain DER
 * form, YYMMDDHHMMSSZ (years 50-99 are 19xx) or YYYYMMDDHHMMSSZ. Returns 0
 * with out filled when every field is in range, the day exists in its month
 * and the year is at least min_year; -1 when t has that form but not such a
 * date, or is no time at all; 1 when t is a time in another form (fractions,
 * an offset, no seconds, no Z), which only a full reader such as
 * ASN1_TIME_to_tm can judge. */
int der_time(const struct der_tlv *t, int min_year, struct der_time *out);

#endif
