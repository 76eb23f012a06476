/*
 * der.c — the element and time readers of der.h, shared by the certificate
 * reader and the CRL walker.
 *
 * DER_BER is ASN1_get_object itself rather than a copy of its rules: the
 * certificate reader has always accepted exactly what it accepts (a high tag
 * number with redundant leading octets, lengths with leading zero octets,
 * ...), and a re-implementation that missed one quirk would change which
 * certificates are read. DER_STRICT needs no such care, since whatever it
 * refuses goes to OpenSSL anyway, so it is a few lines here that refuse
 * everything DER does not allow.
 */
#include "der.h"

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "timeutil.h"

/* Low tag numbers, definite minimal lengths of at most four octets. */
static int read_strict(const unsigned char *p, const unsigned char *end, struct der_tlv *t)
{
	size_t avail = (size_t)(end - p), hl = 2, len;

	if (avail < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	len = p[1];
	if (len & 0x80) {
		size_t n = len & 0x7f;

		/* The long form only when needed, with no leading zero; n == 0
		 * is the indefinite form. */
		if (n == 0 || n > 4 || avail < 2 + n || p[2] == 0)
			return -1;
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = len << 8 | p[2 + i];
		if (len < 0x80)
			return -1;
		hl += n;
	}
	if (len > avail - hl)
		return -1;
	t->p = p + hl;
	t->len = len;
	t->tag = p[0] & 0x1f;
	t->cons = p[0] & V_ASN1_CONSTRUCTED;
	return 0;
}

static int read_ber(const unsigned char *p, const unsigned char *end, struct der_tlv *t)
{
	const unsigned char *q = p;
	long len;
	int tag, cls, r;

	r = ASN1_get_object(&q, &len, &tag, &cls, (long)(end - p));
	/* 0x80: an error (a length past the end included); 0x21: constructed
	 * with an indefinite length, which walking in place cannot bound. */
	if ((r & 0x80) || r == 0x21 || len < 0 || (size_t)len > (size_t)(end - q)) {
		ERR_clear_error();
		return -1;
	}
	t->p = q;
	t->len = (size_t)len;
	t->tag = tag;
	t->cons = r & V_ASN1_CONSTRUCTED;
	return 0;
}

int der_read(const unsigned char *p, const unsigned char *end, unsigned flags,
	     struct der_tlv *t)
{
	if (p >= end)
		return -1;
	if (flags & DER_STRICT ? read_strict(p, end, t) : read_ber(p, end, t))
		return -1;
	t->start = p;
	t->end = t->p + t->len;
	t->id = p[0];
	t->cls = p[0] & V_ASN1_PRIVATE;
	return 0;
}

int der_next(const unsigned char **pp, const unsigned char *end, unsigned flags,
	     struct der_tlv *t)
{
	if (der_read(*pp, end, flags, t))
		return -1;
	*pp = t->end;
	return 0;
}

int der_digits(const unsigned char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

int der_time(const struct der_tlv *t, int min_year, struct der_time *out)
{
	const unsigned char *p = t->p;
	int gen = t->tag == V_ASN1_GENERALIZEDTIME, yl = gen ? 4 : 2;
	struct der_time v;

	if (t->cls != V_ASN1_UNIVERSAL || t->cons || (t->tag != V_ASN1_UTCTIME && !gen))
		return -1;
	if (t->len != (size_t)(yl + 11) || p[t->len - 1] != 'Z')
		return 1;
	v.year = der_digits(p, yl);
	if (v.year < 0)
		return -1;
	if (!gen)
		v.year += v.year >= 50 ? 1900 : 2000;
	p += yl;
	v.mon = der_digits(p, 2);
	v.day = der_digits(p + 2, 2);
	v.hour = der_digits(p + 4, 2);
	v.min = der_digits(p + 6, 2);
	v.sec = der_digits(p + 8, 2);
	if (v.year < min_year || v.mon < 1 || v.mon > 12 || v.day < 1 ||
	    v.day > time_days_in_month(v.year, v.mon) || v.hour < 0 || v.hour > 23 ||
	    v.min < 0 || v.min > 59 || v.sec < 0 || v.sec > 59)
		return -1;
	*out = v;
	return 0;
}
