/*
 * x509_ext.c — the certificate reader's extensions and identity numbers,
 * for x509.c's TBSCertificate walk (through x509_int.h).
 *
 * Only the extensions DESIGN §6 has columns for are decoded (basic
 * constraints, key usage, extended key usage, policies, CRL distribution
 * points, OCSP from authority information access, the SAN's first email);
 * the rest are kept aside unread, because the identity numbers live in
 * GM/T 0015 extensions whose OIDs come from the configuration. Those are
 * looked up, with the subject's attributes, in the configured order.
 */
#include "x509_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idcodes.h"
#include "sbuf.h"

static const unsigned char OID_BC[] = {0x55, 0x1d, 0x13};
static const unsigned char OID_KU[] = {0x55, 0x1d, 0x0f};
static const unsigned char OID_EKU[] = {0x55, 0x1d, 0x25};
static const unsigned char OID_CP[] = {0x55, 0x1d, 0x20};
static const unsigned char OID_CRLDP[] = {0x55, 0x1d, 0x1f};
static const unsigned char OID_SAN[] = {0x55, 0x1d, 0x11};
static const unsigned char OID_AIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const unsigned char OID_OCSP[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};

/* Short names of the id-kp purposes (1.3.6.1.5.5.7.3.x) as OpenSSL spells them. */
static const unsigned char OID_KP[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03};
static const char *const x509_kp_names[] = {
	[1] = "serverAuth", [2] = "clientAuth", [3] = "codeSigning",
	[4] = "emailProtection", [8] = "timeStamping", [9] = "OCSPSigning",
};

static const char *const x509_ku_names[] = {
	"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
	"keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly",
};

/* ---- extensions ----------------------------------------------------- */

/* Adds s as the next item of a comma-separated list. */
static void sb_item(struct sbuf *b, const char *s)
{
	if (b->n)
		sbuf_add(b, ",", 1);
	sbuf_adds(b, s);
}
static int ext_key_usage(const unsigned char *p, size_t len, struct cert_rec *out)
{
	const unsigned char *q = p;
	struct der_tlv bs;
	struct sbuf b = {0};

	if (x509_tlv_expect(&q, p + len, V_ASN1_UNIVERSAL, V_ASN1_BIT_STRING, &bs) < 0 ||
	    bs.len < 1 || bs.p[0] > 7)
		return -1;
	for (size_t bit = 0; bit < 9; bit++) {
		size_t byte = 1 + bit / 8;
		if (byte < bs.len && (bs.p[byte] & (0x80 >> (bit % 8))))
			sb_item(&b, x509_ku_names[bit]);
	}
	free(out->key_usage);
	return (out->key_usage = sbuf_take(&b)) ? 0 : -1;
}

/* A SEQUENCE OF OBJECT IDENTIFIER (EKU) or of SEQUENCE { OID, ... } (policies). */
static int ext_oid_list(const unsigned char *p, size_t len, int wrapped, int names, char **dst)
{
	const unsigned char *q = p;
	struct der_tlv seq, el, oid;
	struct sbuf b = {0};
	char txt[256];

	if (x509_tlv_seq(&q, p + len, &seq) < 0)
		return -1;
	q = seq.p;
	while (q < seq.p + seq.len) {
		const unsigned char *r;
		if (x509_tlv_next(&q, seq.p + seq.len, &el) < 0)
			goto bad;
		oid = el;
		if (wrapped) {
			r = el.p;
			if (el.tag != V_ASN1_SEQUENCE ||
			    x509_tlv_expect(&r, el.p + el.len, V_ASN1_UNIVERSAL, V_ASN1_OBJECT,
					    &oid) < 0)
				goto bad;
		} else if (el.tag != V_ASN1_OBJECT || el.cls != V_ASN1_UNIVERSAL) {
			goto bad;
		}
		if (names && oid.len == 8 && memcmp(oid.p, OID_KP, 7) == 0 &&
		    oid.p[7] < sizeof x509_kp_names / sizeof *x509_kp_names &&
		    x509_kp_names[oid.p[7]])
			snprintf(txt, sizeof txt, "%s", x509_kp_names[oid.p[7]]);
		else if (names)
			x509_oid_name(&oid, 0, txt, sizeof txt);
		else if (x509_oid_text(oid.p, oid.len, txt, sizeof txt) < 0)
			goto bad;
		sb_item(&b, txt);
	}
	free(*dst);
	return (*dst = sbuf_take(&b)) ? 0 : -1;
bad:
	free(b.s);
	return -1;
}

/* Appends the URIs ([6]) of GeneralNames to b; remembers the first
 * rfc822Name ([1]) in *email when email is given. */
static int general_names(const unsigned char *p, const unsigned char *end, struct sbuf *b,
			 char **email)
{
	struct der_tlv gn;

	while (p < end) {
		if (x509_tlv_next(&p, end, &gn) < 0)
			return -1;
		if (gn.cls != V_ASN1_CONTEXT_SPECIFIC || gn.cons)
			continue;
		if (gn.tag == 6 && b) {
			if (b->n)
				sbuf_add(b, ",", 1);
			sbuf_add(b, gn.p, gn.len);
		} else if (gn.tag == 1 && email && !*email) {
			if (!(*email = strndup((const char *)gn.p, gn.len)))
				return -1;
		}
	}
	return 0;
}

static int ext_crl_dp(const unsigned char *p, size_t len, struct cert_rec *out)
{
	const unsigned char *q = p;
	struct der_tlv seq, dp, dpn, full;
	struct sbuf b = {0};

	if (x509_tlv_seq(&q, p + len, &seq) < 0)
		return -1;
	q = seq.p;
	while (q < seq.p + seq.len) {
		const unsigned char *r, *s;
		if (x509_tlv_seq(&q, seq.p + seq.len, &dp) < 0)
			goto bad;
		r = dp.p;
		if (r >= dp.p + dp.len)
			continue;
		if (x509_tlv_next(&r, dp.p + dp.len, &dpn) < 0)
			goto bad;
		if (dpn.cls != V_ASN1_CONTEXT_SPECIFIC || dpn.tag != 0 || !dpn.cons)
			continue;
		s = dpn.p;
		if (x509_tlv_next(&s, dpn.p + dpn.len, &full) < 0)
			goto bad;
		if (full.cls == V_ASN1_CONTEXT_SPECIFIC && full.tag == 0 && full.cons &&
		    general_names(full.p, full.p + full.len, &b, NULL) < 0)
			goto bad;
	}
	free(out->crl_dp);
	return (out->crl_dp = sbuf_take(&b)) ? 0 : -1;
bad:
	free(b.s);
	return -1;
}

static int ext_aia(const unsigned char *p, size_t len, struct cert_rec *out)
{
	const unsigned char *q = p;
	struct der_tlv seq, ad, method;
	struct sbuf b = {0};

	if (x509_tlv_seq(&q, p + len, &seq) < 0)
		return -1;
	q = seq.p;
	while (q < seq.p + seq.len) {
		const unsigned char *r;
		if (x509_tlv_seq(&q, seq.p + seq.len, &ad) < 0)
			goto bad;
		r = ad.p;
		if (x509_tlv_expect(&r, ad.p + ad.len, V_ASN1_UNIVERSAL, V_ASN1_OBJECT,
				    &method) < 0)
			goto bad;
		if (X509_OID_IS(&method, OID_OCSP) && general_names(r, ad.p + ad.len, &b, NULL) < 0)
			goto bad;
	}
	free(out->ocsp);
	return (out->ocsp = sbuf_take(&b)) ? 0 : -1;
bad:
	free(b.s);
	return -1;
}

static int ext_basic_constraints(const unsigned char *p, size_t len, struct cert_rec *out)
{
	const unsigned char *q = p;
	struct der_tlv seq, ca;

	if (x509_tlv_seq(&q, p + len, &seq) < 0)
		return -1;
	q = seq.p;
	out->is_ca = 0;
	if (q < seq.p + seq.len) {
		if (x509_tlv_next(&q, seq.p + seq.len, &ca) < 0)
			return -1;
		if (ca.cls == V_ASN1_UNIVERSAL && ca.tag == V_ASN1_BOOLEAN)
			out->is_ca = ca.len == 1 && ca.p[0] != 0;
	}
	return 0;
}

/* One Extension; on failure *oid is the extension's type, for the message. */
static int ext_one(const struct der_tlv *ext, struct cert_rec *out, struct x509_ext_state *xs,
		   struct der_tlv *oidp)
{
	const unsigned char *p = ext->p, *end = ext->p + ext->len;
	struct der_tlv oid, val;
	int rc = 0;

	if (x509_tlv_expect(&p, end, V_ASN1_UNIVERSAL, V_ASN1_OBJECT, &oid) < 0 ||
	    x509_tlv_next(&p, end, &val) < 0)
		return -1;
	if (val.cls == V_ASN1_UNIVERSAL && val.tag == V_ASN1_BOOLEAN &&
	    x509_tlv_next(&p, end, &val) < 0)
		return -1;
	*oidp = oid;
	if (val.cls != V_ASN1_UNIVERSAL || val.tag != V_ASN1_OCTET_STRING || val.cons)
		return -1;
	if (X509_OID_IS(&oid, OID_BC))
		rc = ext_basic_constraints(val.p, val.len, out);
	else if (X509_OID_IS(&oid, OID_KU))
		rc = ext_key_usage(val.p, val.len, out);
	else if (X509_OID_IS(&oid, OID_EKU))
		rc = ext_oid_list(val.p, val.len, 0, 1, &out->ext_key_usage);
	else if (X509_OID_IS(&oid, OID_CP))
		rc = ext_oid_list(val.p, val.len, 1, 0, &out->policies);
	else if (X509_OID_IS(&oid, OID_CRLDP))
		rc = ext_crl_dp(val.p, val.len, out);
	else if (X509_OID_IS(&oid, OID_AIA))
		rc = ext_aia(val.p, val.len, out);
	else if (X509_OID_IS(&oid, OID_SAN)) {
		struct der_tlv seq;
		const unsigned char *q = val.p;
		rc = x509_tlv_seq(&q, val.p + val.len, &seq) < 0 ? -1
			: general_names(seq.p, seq.p + seq.len, NULL, &xs->san_email);
	} else if (xs->n_other < X509_MAX_OTHER_EXT) {
		xs->other[xs->n_other++] = (struct x509_other_ext){oid, val.p, val.len};
	}
	return rc;
}

/* Walks [3] EXPLICIT Extensions. */
int x509_extensions_parse(const struct der_tlv *tagged, struct cert_rec *out,
			  struct x509_ext_state *xs, struct err *e)
{
	const unsigned char *p = tagged->p, *end = tagged->p + tagged->len;
	struct der_tlv seq, ext, oid;
	char what[128];

	if (x509_tlv_seq(&p, end, &seq) < 0 || p != end)
		return err_set(e, CA_EINPUT, "", 0, 0, "malformed extensions");
	p = seq.p;
	while (p < seq.p + seq.len) {
		if (x509_tlv_seq(&p, seq.p + seq.len, &ext) < 0)
			return err_set(e, CA_EINPUT, "", 0, 0, "malformed extension");
		oid.len = 0;
		if (ext_one(&ext, out, xs, &oid) < 0) {
			if (oid.len)
				x509_oid_name(&oid, 0, what, sizeof what);
			return err_set(e, CA_EINPUT, "", 0, 0, "malformed %s extension",
				       oid.len ? what : "an");
		}
	}
	return 0;
}

/* ---- identity numbers ----------------------------------------------- */

static int id_shape_resident(const char *s)
{
	int y, m, d;

	if (strlen(s) != 18)
		return 0;
	for (int i = 0; i < 17; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	if (!isdigit((unsigned char)s[17]) && s[17] != 'X')
		return 0;
	y = der_digits((const unsigned char *)s + 6, 4);
	m = der_digits((const unsigned char *)s + 10, 2);
	d = der_digits((const unsigned char *)s + 12, 2);
	return y >= 1850 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* The type of an identity number nobody named: a valid number of a kind is
 * that kind; failing that, the shape decides, so that a mistyped check
 * character still lands under its type and rules flag it as invalid. */
static const char *id_infer(const char *s)
{
	size_t n = strlen(s);

	if (resident_id_valid(s))
		return "resident_id";
	if (uscc_valid(s))
		return "uscc";
	if (org_code_valid(s))
		return "org_code";
	if (id_shape_resident(s))
		return "resident_id";
	if (n == 18 && strspn(s, "0123456789ABCDEFGHJKLMNPQRTUWXY") == 18)
		return "uscc";
	if ((n == 9 && strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 9) ||
	    (n == 10 && s[8] == '-' && strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 8))
		return "org_code";
	return "other";
}

/* DER contents of a dotted OID; length, or -1 when txt is not an OID. */
static int oid_encode(const char *txt, unsigned char *out, size_t n)
{
	uint64_t arcs[40];
	size_t na = 0, o = 0;
	const char *s = txt;

	while (*s && na < 40) {
		char *end;
		if (!isdigit((unsigned char)*s))
			return -1;
		arcs[na++] = strtoull(s, &end, 10);
		s = end;
		if (*s == '.')
			s++;
		else if (*s)
			return -1;
	}
	if (na < 2 || *s || arcs[0] > 2)
		return -1;
	arcs[1] += arcs[0] * 40;
	for (size_t i = 1; i < na; i++) {
		unsigned char tmp[10];
		size_t k = 0;
		uint64_t v = arcs[i];
		do {
			tmp[k++] = (unsigned char)(v & 0x7f);
			v >>= 7;
		} while (v);
		if (o + k > n)
			return -1;
		while (k--)
			out[o++] = (unsigned char)(tmp[k] | (k ? 0x80 : 0));
	}
	return (int)o;
}

/* The text of a GM/T 0015 identity extension: a string, a [n] tag around
 * one (explicit or implicit) or a SEQUENCE holding one. *hint is set to
 * "passport" for IdentityCode's passportNumber [2]. */
static char *id_ext_value(const unsigned char *p, size_t len, const char **hint, int depth)
{
	const unsigned char *q = p;
	struct der_tlv t;

	if (depth > 3 || x509_tlv_next(&q, p + len, &t) < 0)
		return NULL;
	if (t.cls == V_ASN1_UNIVERSAL && x509_str_width(&t) >= 0)
		return x509_str_dup(&t);
	if (t.cls == V_ASN1_CONTEXT_SPECIFIC && t.tag == 2)
		*hint = "passport";
	if (t.cls == V_ASN1_CONTEXT_SPECIFIC && !t.cons)
		return strndup((const char *)t.p, t.len);
	if (t.cons)
		return id_ext_value(t.p, t.len, hint, depth + 1);
	return NULL;
}

int x509_identity_find(const struct identity_loc *ids, size_t n_ids,
		       const struct x509_name *subj, const struct x509_ext_state *xs,
		       struct cert_rec *out)
{
	for (size_t i = 0; i < n_ids && !out->id_number; i++) {
		const char *hint = NULL;
		char *v = NULL;
		if (ids[i].oid) {
			unsigned char der[64];
			int dl = oid_encode(ids[i].oid, der, sizeof der);
			for (size_t k = 0; dl > 0 && k < xs->n_other && !v; k++)
				if (xs->other[k].oid.len == (size_t)dl &&
				    memcmp(xs->other[k].oid.p, der, (size_t)dl) == 0)
					v = id_ext_value(xs->other[k].val, xs->other[k].len,
							 &hint, 0);
		} else if (ids[i].attribute) {
			char key[128], dotted[128];
			for (size_t k = 0; k < subj->n && !v; k++) {
				x509_attr_name(&subj->v[k].oid, key, sizeof key);
				if (x509_oid_text(subj->v[k].oid.p, subj->v[k].oid.len, dotted,
					     sizeof dotted) < 0)
					dotted[0] = '\0';
				if (!strcasecmp(key, ids[i].attribute) ||
				    !strcmp(dotted, ids[i].attribute))
					v = x509_str_dup(&subj->v[k].val);
			}
		}
		if (!v)
			continue;
		normalise_id(v);
		if (!*v) {
			free(v);
			continue;
		}
		out->id_number = v;
		out->id_type = strdup(ids[i].type ? ids[i].type : hint ? hint : id_infer(v));
		if (!out->id_type)
			return -1;
	}
	return 0;
}

