/*
 * crl_der.c — finds the parts of a DER CertificateList in place (crl_der.h).
 *
 * Only the low tag-number form, definite minimal lengths and the fields of
 * RFC 5280 §5.1 in their order are accepted, and every element must end
 * exactly where its parent does. Whatever is refused here goes to
 * d2i_X509_CRL instead, so strictness costs speed on odd CRLs, never a
 * different result; laxness would, so when in doubt this file refuses.
 */
#include "crl_der.h"

#include <string.h>

#define TAG_BOOLEAN 0x01
#define TAG_INTEGER 0x02
#define TAG_BIT_STRING 0x03
#define TAG_OCTET_STRING 0x04
#define TAG_OID 0x06
#define TAG_UTCTIME 0x17
#define TAG_GENTIME 0x18
#define TAG_SEQUENCE 0x30
#define TAG_CTX0 0xa0 /* [0] EXPLICIT, constructed */

/* One element: its identifier octet, contents, and whole extent. */
struct tlv {
	unsigned char tag;
	const unsigned char *start; /* first byte of the tag */
	const unsigned char *p;     /* contents */
	size_t len;                 /* length of contents */
	const unsigned char *end;   /* one past the contents */
};

static int tlv_read(const unsigned char *p, const unsigned char *end, struct tlv *t)
{
	size_t avail = (size_t)(end - p), hl = 2, len;

	if (avail < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	len = p[1];
	if (len & 0x80) {
		size_t n = len & 0x7f;

		/* DER: the long form only when needed, with no leading zero. */
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
	t->tag = p[0];
	t->start = p;
	t->p = p + hl;
	t->len = len;
	t->end = t->p + len;
	return 0;
}

/* Reads the next element at *pp, which must have the given tag. */
static int tlv_expect(const unsigned char **pp, const unsigned char *end, unsigned char tag,
		      struct tlv *t)
{
	if (tlv_read(*pp, end, t) || t->tag != tag)
		return -1;
	*pp = t->end;
	return 0;
}

static struct crl_der_span span_of(const struct tlv *t)
{
	return (struct crl_der_span){t->start, (size_t)(t->end - t->start)};
}

/* What c2i_ASN1_INTEGER accepts: not empty, no redundant leading octet. */
static int integer_ok(const struct tlv *t)
{
	if (!t->len)
		return 0;
	if (t->len > 1 && ((t->p[0] == 0x00 && !(t->p[1] & 0x80)) ||
			   (t->p[0] == 0xff && (t->p[1] & 0x80))))
		return 0;
	return 1;
}

/* What c2i_ASN1_OBJECT accepts: complete subidentifiers without a leading
 * 0x80 octet. */
static int oid_ok(const struct tlv *t)
{
	if (!t->len || t->p[t->len - 1] & 0x80)
		return 0;
	for (size_t i = 0; i < t->len; i++)
		if (t->p[i] == 0x80 && (i == 0 || !(t->p[i - 1] & 0x80)))
			return 0;
	return 1;
}

static int digits(const unsigned char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* A revocation date ASN1_TIME_to_tm surely reads: the plain DER forms,
 * every field in range. Anything fancier (fractions, offsets) is left to
 * OpenSSL by refusing the CRL here. */
static int date_ok(const struct tlv *t)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int gen = t->tag == TAG_GENTIME, yl = gen ? 4 : 2;
	const unsigned char *p = t->p;
	int year, mon, day, leap;

	if ((t->tag != TAG_UTCTIME && !gen) || t->len != (size_t)(yl + 11) ||
	    p[t->len - 1] != 'Z')
		return 0;
	year = digits(p, yl);
	mon = digits(p + yl, 2);
	day = digits(p + yl + 2, 2);
	if (year < 0 || mon < 1 || mon > 12 || day < 1 || digits(p + yl + 4, 2) < 0 ||
	    digits(p + yl + 4, 2) > 23 || digits(p + yl + 6, 2) < 0 ||
	    digits(p + yl + 6, 2) > 59 || digits(p + yl + 8, 2) < 0 ||
	    digits(p + yl + 8, 2) > 59)
		return 0;
	if (gen && year < 1000)
		return 0;
	if (!gen)
		year += year < 50 ? 2000 : 1900;
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return day <= mdays[mon - 1] + (mon == 2 && leap);
}

/* AlgorithmIdentifier: an OID and at most one parameter element. */
static int algorithm_ok(const struct tlv *alg)
{
	const unsigned char *p = alg->p;
	struct tlv oid, param;

	if (tlv_expect(&p, alg->end, TAG_OID, &oid) || !oid_ok(&oid))
		return 0;
	if (p < alg->end && tlv_read(p, alg->end, &param))
		return 0;
	return p == alg->end || param.end == alg->end;
}

/* Extensions: SEQUENCE SIZE (1..MAX) OF {OID, BOOLEAN DEFAULT FALSE,
 * OCTET STRING}. */
static int extensions_ok(const struct tlv *exts)
{
	const unsigned char *p = exts->p;

	if (exts->tag != TAG_SEQUENCE || !exts->len)
		return 0;
	while (p < exts->end) {
		struct tlv ext, oid, t;
		const unsigned char *q;

		if (tlv_expect(&p, exts->end, TAG_SEQUENCE, &ext))
			return 0;
		q = ext.p;
		if (tlv_expect(&q, ext.end, TAG_OID, &oid) || !oid_ok(&oid) ||
		    tlv_read(q, ext.end, &t))
			return 0;
		/* DER: critical only when TRUE, and TRUE is 0xFF; OpenSSL would
		 * re-encode anything else differently for the SM2 check. */
		if (t.tag == TAG_BOOLEAN) {
			if (t.len != 1 || t.p[0] != 0xff || tlv_read(t.end, ext.end, &t))
				return 0;
		}
		if (t.tag != TAG_OCTET_STRING || t.end != ext.end)
			return 0;
	}
	return 1;
}

int crl_der_next(const struct crl_der *c, const unsigned char **cursor,
		 struct crl_der_entry *out)
{
	const unsigned char *end, *p;
	struct tlv ent, serial, date, exts;

	if (!c->revoked.p || *cursor >= (end = c->revoked.p + c->revoked.len))
		return 0;
	if (tlv_expect(cursor, end, TAG_SEQUENCE, &ent))
		return -1;
	p = ent.p;
	if (tlv_expect(&p, ent.end, TAG_INTEGER, &serial) || !integer_ok(&serial) ||
	    tlv_read(p, ent.end, &date) || !date_ok(&date))
		return -1;
	p = date.end;
	out->exts = (struct crl_der_span){NULL, 0};
	if (p < ent.end) {
		if (tlv_expect(&p, ent.end, TAG_SEQUENCE, &exts) || !extensions_ok(&exts) ||
		    p != ent.end)
			return -1;
		out->exts = span_of(&exts);
	}
	out->serial = (struct crl_der_span){serial.p, serial.len};
	out->date = span_of(&date);
	return 1;
}

/* version (v1 or v2), signature, issuer, thisUpdate, nextUpdate. */
static int tbs_head(const unsigned char **pp, const struct tlv *tbs, struct crl_der *out)
{
	struct tlv t;

	if (tlv_read(*pp, tbs->end, &t))
		return -1;
	if (t.tag == TAG_INTEGER) {
		if (t.len != 1 || t.p[0] > 1)
			return -1;
		*pp = t.end;
	}
	if (tlv_expect(pp, tbs->end, TAG_SEQUENCE, &t) || !algorithm_ok(&t))
		return -1;
	out->tbs_alg = span_of(&t);
	if (tlv_expect(pp, tbs->end, TAG_SEQUENCE, &t))
		return -1;
	out->issuer = span_of(&t);
	if (tlv_read(*pp, tbs->end, &t) || (t.tag != TAG_UTCTIME && t.tag != TAG_GENTIME))
		return -1;
	out->this_update = span_of(&t);
	*pp = t.end;
	if (*pp < tbs->end && tlv_read(*pp, tbs->end, &t) == 0 &&
	    (t.tag == TAG_UTCTIME || t.tag == TAG_GENTIME)) {
		out->next_update = span_of(&t);
		*pp = t.end;
	}
	return 0;
}

/* revokedCertificates, every entry checked, then crlExtensions. */
static int tbs_tail(const unsigned char *p, const struct tlv *tbs, struct crl_der *out)
{
	struct tlv t, exts;

	if (p < tbs->end && tlv_read(p, tbs->end, &t) == 0 && t.tag == TAG_SEQUENCE) {
		const unsigned char *cur = t.p;
		struct crl_der_entry ent;
		int rc;

		out->revoked = (struct crl_der_span){t.p, t.len};
		while ((rc = crl_der_next(out, &cur, &ent)) == 1)
			out->n_revoked++;
		if (rc < 0)
			return -1;
		p = t.end;
	}
	if (p < tbs->end) {
		const unsigned char *q;

		if (tlv_expect(&p, tbs->end, TAG_CTX0, &t))
			return -1;
		q = t.p;
		if (tlv_read(q, t.end, &exts) || exts.end != t.end || !extensions_ok(&exts))
			return -1;
		out->exts = span_of(&exts);
	}
	return p == tbs->end ? 0 : -1;
}

int crl_der_parse(const unsigned char *buf, size_t len, struct crl_der *out)
{
	const unsigned char *p = buf, *q;
	struct tlv crl, tbs, alg, sig;

	memset(out, 0, sizeof *out);
	if (tlv_expect(&p, buf + len, TAG_SEQUENCE, &crl))
		return -1;
	out->total = (size_t)(crl.end - buf);
	q = crl.p;
	if (tlv_expect(&q, crl.end, TAG_SEQUENCE, &tbs) ||
	    tlv_expect(&q, crl.end, TAG_SEQUENCE, &alg) || !algorithm_ok(&alg) ||
	    tlv_expect(&q, crl.end, TAG_BIT_STRING, &sig) || q != crl.end ||
	    !sig.len || sig.p[0] > 7)
		return -1;
	out->tbs = span_of(&tbs);
	out->sig_alg = span_of(&alg);
	out->sig = (struct crl_der_span){sig.p + 1, sig.len - 1};
	out->sig_unused_bits = sig.p[0];
	q = tbs.p;
	if (tbs_head(&q, &tbs, out) || tbs_tail(q, &tbs, out))
		return -1;
	return 0;
}
