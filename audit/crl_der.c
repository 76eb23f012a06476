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

#include "der.h"

#define TAG_BOOLEAN 0x01
#define TAG_INTEGER 0x02
#define TAG_BIT_STRING 0x03
#define TAG_OCTET_STRING 0x04
#define TAG_OID 0x06
#define TAG_UTCTIME 0x17
#define TAG_GENTIME 0x18
#define TAG_SEQUENCE 0x30
#define TAG_CTX0 0xa0 /* [0] EXPLICIT, constructed */

/* Strict DER throughout: whatever it refuses, d2i_X509_CRL reads instead. */
static int tlv_read(const unsigned char *p, const unsigned char *end, struct der_tlv *t)
{
	return der_read(p, end, DER_STRICT, t);
}

/* Reads the next element at *pp, which must have the given tag. */
static int tlv_expect(const unsigned char **pp, const unsigned char *end, unsigned char tag,
		      struct der_tlv *t)
{
	if (tlv_read(*pp, end, t) || t->id != tag)
		return -1;
	*pp = t->end;
	return 0;
}

static struct crl_der_span span_of(const struct der_tlv *t)
{
	return (struct crl_der_span){t->start, der_size(t)};
}

/* What c2i_ASN1_INTEGER accepts: not empty, no redundant leading octet. */
static int integer_ok(const struct der_tlv *t)
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
static int oid_ok(const struct der_tlv *t)
{
	if (!t->len || t->p[t->len - 1] & 0x80)
		return 0;
	for (size_t i = 0; i < t->len; i++)
		if (t->p[i] == 0x80 && (i == 0 || !(t->p[i - 1] & 0x80)))
			return 0;
	return 1;
}

/* A revocation date ASN1_TIME_to_tm surely reads: the plain DER forms,
 * every field in range, GeneralizedTime years from 1000. Anything fancier
 * (fractions, offsets) is left to OpenSSL by refusing the CRL here. */
static int date_ok(const struct der_tlv *t)
{
	struct der_time v;

	return der_time(t, 1000, &v) == 0;
}

/* AlgorithmIdentifier: an OID and at most one parameter element. */
static int algorithm_ok(const struct der_tlv *alg)
{
	const unsigned char *p = alg->p;
	struct der_tlv oid, param;

	if (tlv_expect(&p, alg->end, TAG_OID, &oid) || !oid_ok(&oid))
		return 0;
	if (p < alg->end && tlv_read(p, alg->end, &param))
		return 0;
	return p == alg->end || param.end == alg->end;
}

/* Extensions: SEQUENCE SIZE (1..MAX) OF {OID, BOOLEAN DEFAULT FALSE,
 * OCTET STRING}. */
static int extensions_ok(const struct der_tlv *exts)
{
	const unsigned char *p = exts->p;

	if (exts->id != TAG_SEQUENCE || !exts->len)
		return 0;
	while (p < exts->end) {
		struct der_tlv ext, oid, t;
		const unsigned char *q;

		if (tlv_expect(&p, exts->end, TAG_SEQUENCE, &ext))
			return 0;
		q = ext.p;
		if (tlv_expect(&q, ext.end, TAG_OID, &oid) || !oid_ok(&oid) ||
		    tlv_read(q, ext.end, &t))
			return 0;
		/* DER: critical only when TRUE, and TRUE is 0xFF; OpenSSL would
		 * re-encode anything else differently for the SM2 check. */
		if (t.id == TAG_BOOLEAN) {
			if (t.len != 1 || t.p[0] != 0xff || tlv_read(t.end, ext.end, &t))
				return 0;
		}
		if (t.id != TAG_OCTET_STRING || t.end != ext.end)
			return 0;
	}
	return 1;
}

int crl_der_next(const struct crl_der *c, const unsigned char **cursor,
		 struct crl_der_entry *out)
{
	const unsigned char *end, *p;
	struct der_tlv ent, serial, date, exts;

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
static int tbs_head(const unsigned char **pp, const struct der_tlv *tbs, struct crl_der *out)
{
	struct der_tlv t;

	if (tlv_read(*pp, tbs->end, &t))
		return -1;
	if (t.id == TAG_INTEGER) {
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
	if (tlv_read(*pp, tbs->end, &t) || (t.id != TAG_UTCTIME && t.id != TAG_GENTIME))
		return -1;
	out->this_update = span_of(&t);
	*pp = t.end;
	if (*pp < tbs->end && tlv_read(*pp, tbs->end, &t) == 0 &&
	    (t.id == TAG_UTCTIME || t.id == TAG_GENTIME)) {
		out->next_update = span_of(&t);
		*pp = t.end;
	}
	return 0;
}

/* revokedCertificates, every entry checked, then crlExtensions. */
static int tbs_tail(const unsigned char *p, const struct der_tlv *tbs, struct crl_der *out)
{
	struct der_tlv t, exts;

	if (p < tbs->end && tlv_read(p, tbs->end, &t) == 0 && t.id == TAG_SEQUENCE) {
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
	struct der_tlv crl, tbs, alg, sig;

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
