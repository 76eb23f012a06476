/*
 * x509_str.c — the certificate reader's text: OID names, string values and
 * Names (RFC 4514), for x509.c and x509_ext.c through x509_int.h, and the
 * public x509_name_der_text and x509_name_text (x509.h).
 *
 * DN text is escaped exactly as X509_NAME_print_ex(XN_FLAG_RFC2253 &
 * ~ASN1_STRFLGS_ESC_MSB) does, and built here rather than by OpenSSL so that
 * a BMPString with surrogate pairs, which OpenSSL 3.0 refuses to decode at
 * all, still gives valid UTF-8. A CRL's issuer, which OpenSSL has already
 * parsed, is re-encoded and written by the same code, so that it compares
 * equal as text to a certificate's issuer. OpenSSL's object table is
 * consulted only for names this file has no table entry for.
 */
#include "x509_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "sbuf.h"

static const unsigned char OID_EMAIL[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01};

/* Short names of common attribute types under 2.5.4, as OpenSSL spells
 * them, so that names print without a trip through OpenSSL's table. */
static const char *const x509_attr_2_5_4[] = {
	[3] = "CN", [4] = "SN", [5] = "serialNumber", [6] = "C", [7] = "L",
	[8] = "ST", [9] = "street", [10] = "O", [11] = "OU", [12] = "title",
	[42] = "GN",
};

/* ---- object identifiers --------------------------------------------- */

/* Dotted text of an OBJECT IDENTIFIER's contents; -1 when malformed or too long. */
int x509_oid_text(const unsigned char *p, size_t len, char *out, size_t n)
{
	size_t o = 0;
	uint64_t v = 0;
	int first = 1, w;

	if (!len || (p[len - 1] & 0x80) || n < 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v >> 56)
			return -1;
		v = (v << 7) | (p[i] & 0x7f);
		if (p[i] & 0x80)
			continue;
		if (first) {
			unsigned a = v < 40 ? 0 : v < 80 ? 1 : 2;
			w = snprintf(out + o, n - o, "%u.%llu", a,
				     (unsigned long long)(v - 40 * a));
			first = 0;
		} else {
			w = snprintf(out + o, n - o, ".%llu", (unsigned long long)v);
		}
		if (w < 0 || (size_t)w >= n - o)
			return -1;
		o += (size_t)w;
		v = 0;
	}
	return 0;
}

/* OpenSSL's short or long name for an OID element, or its dotted text. */
void x509_oid_name(const struct der_tlv *oid, int longname, char *out, size_t n)
{
	const unsigned char *q = oid->start;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &q, (long)der_size(oid));
	int nid = obj ? OBJ_obj2nid(obj) : NID_undef;

	ASN1_OBJECT_free(obj);
	ERR_clear_error();
	if (nid != NID_undef) {
		snprintf(out, n, "%s", longname ? OBJ_nid2ln(nid) : OBJ_nid2sn(nid));
		return;
	}
	if (x509_oid_text(oid->p, oid->len, out, n) < 0)
		snprintf(out, n, "?");
}

/* The name an attribute type prints under in a DN. */
void x509_attr_name(const struct der_tlv *oid, char *out, size_t n)
{
	if (oid->len == 3 && oid->p[0] == 0x55 && oid->p[1] == 0x04 &&
	    oid->p[2] < sizeof x509_attr_2_5_4 / sizeof *x509_attr_2_5_4 &&
	    x509_attr_2_5_4[oid->p[2]]) {
		snprintf(out, n, "%s", x509_attr_2_5_4[oid->p[2]]);
		return;
	}
	if (X509_OID_IS(oid, OID_EMAIL)) {
		snprintf(out, n, "emailAddress");
		return;
	}
	x509_oid_name(oid, 0, out, n);
}

/* ---- strings -------------------------------------------------------- */

static void sb_utf8(struct sbuf *b, uint32_t c)
{
	unsigned char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (unsigned char)(0xc0 | (c >> 6));
		u[1] = (unsigned char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (c >> 12));
		u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (c >> 18));
		u[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (c & 0x3f));
		n = 4;
	}
	sbuf_add(b, u, n);
}

static void sb_hex(struct sbuf *b, const unsigned char *p, size_t n, int upper)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char two[2];

	for (size_t i = 0; i < n; i++) {
		two[0] = dig[p[i] >> 4];
		two[1] = dig[p[i] & 15];
		sbuf_add(b, two, 2);
	}
}

/* Bytes per character of a universal string tag; 0 = UTF-8, -1 = not text. */
int x509_str_width(const struct der_tlv *v)
{
	if (v->cls != V_ASN1_UNIVERSAL || v->cons)
		return -1;
	switch (v->tag) {
	case V_ASN1_UTF8STRING:
		return 0;
	case V_ASN1_NUMERICSTRING: case V_ASN1_PRINTABLESTRING: case V_ASN1_T61STRING:
	case V_ASN1_IA5STRING: case V_ASN1_UTCTIME: case V_ASN1_GENERALIZEDTIME:
	case V_ASN1_VISIBLESTRING:
		return 1;
	case V_ASN1_UNIVERSALSTRING:
		return v->len % 4 ? -1 : 4;
	case V_ASN1_BMPSTRING:
		return v->len % 2 ? -1 : 2;
	default:
		return -1;
	}
}

/* Decodes one strict UTF-8 character; returns its length, or 0 if the byte
 * at p does not start a valid one. */
static size_t utf8_dec(const unsigned char *p, size_t n, uint32_t *c)
{
	size_t k;
	uint32_t v, min;

	if (p[0] < 0x80) {
		*c = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0)
		k = 2, v = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		k = 3, v = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		k = 4, v = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*c = v;
	return k;
}

/* Appends one character of a DN value with RFC 4514 escaping, the way
 * X509_NAME_print_ex(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) does. */
static void dn_char(struct sbuf *b, uint32_t c, int first, int last)
{
	char tmp[4];

	if (c >= 0x80) {
		sb_utf8(b, c);
	} else if (strchr("\"+,;<>\\", (int)c) && c) {
		tmp[0] = '\\';
		tmp[1] = (char)c;
		sbuf_add(b, tmp, 2);
	} else if ((first && (c == '#' || c == ' ')) || (last && c == ' ')) {
		tmp[0] = '\\';
		tmp[1] = (char)c;
		sbuf_add(b, tmp, 2);
	} else if (c < 0x20 || c == 0x7f) {
		snprintf(tmp, sizeof tmp, "\\%02X", (unsigned)c);
		sbuf_add(b, tmp, 3);
	} else {
		tmp[0] = (char)c;
		sbuf_add(b, tmp, 1);
	}
}

/* Appends a string value as UTF-8, escaped for a DN when dn is set. Values
 * that are not text (or cannot be) are appended as '#' and the DER in hex,
 * as RFC 4514 says. */
static void str_append(struct sbuf *b, const struct der_tlv *v, int dn)
{
	int w = x509_str_width(v);
	size_t i = 0;

	if (w < 0) {
		sbuf_add(b, "#", 1);
		sb_hex(b, v->start, der_size(v), 1);
		return;
	}
	while (i < v->len) {
		const unsigned char *p = v->p + i;
		uint32_t c = 0xfffd;
		size_t k = 1;
		int first = i == 0, bad = 0;

		if (w == 0) {
			k = utf8_dec(p, v->len - i, &c);
			bad = k == 0;
			if (bad)
				k = 1;
		} else if (w == 1) {
			c = p[0];
		} else if (w == 2) {
			k = 2;
			c = (uint32_t)p[0] << 8 | p[1];
			if (c >= 0xd800 && c <= 0xdbff && i + 4 <= v->len) {
				uint32_t lo = (uint32_t)p[2] << 8 | p[3];
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
					k = 4;
				}
			}
			if (c >= 0xd800 && c <= 0xdfff)
				c = 0xfffd;
		} else {
			k = 4;
			c = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
			if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
				c = 0xfffd;
		}
		i += k;
		if (bad && dn) {
			char tmp[4];
			snprintf(tmp, sizeof tmp, "\\%02X", p[0]);
			sbuf_add(b, tmp, 3);
		} else if (dn) {
			dn_char(b, bad ? 0xfffd : c, first, i == v->len);
		} else {
			sb_utf8(b, c);
		}
	}
}

char *x509_str_dup(const struct der_tlv *v)
{
	struct sbuf b = {0};

	str_append(&b, v, 0);
	return sbuf_take(&b);
}

/* ---- names ---------------------------------------------------------- */

void x509_name_free(struct x509_name *nm)
{
	free(nm->v);
	nm->v = NULL;
	nm->n = 0;
}

/* Splits a Name (SEQUENCE OF SET OF AttributeTypeAndValue) into entries. */
int x509_name_parse(const struct der_tlv *seq, struct x509_name *nm)
{
	const unsigned char *p = seq->p, *end = seq->p + seq->len;
	size_t cap = 0;
	int set = 0;

	nm->v = NULL;
	nm->n = 0;
	while (p < end) {
		struct der_tlv rdn;
		const unsigned char *q;
		if (x509_tlv_expect(&p, end, V_ASN1_UNIVERSAL, V_ASN1_SET, &rdn) < 0 || !rdn.cons)
			return -1;
		q = rdn.p;
		while (q < rdn.p + rdn.len) {
			struct der_tlv atv;
			struct x509_name_ent ent = {.set = set};
			const unsigned char *r;
			if (x509_tlv_seq(&q, rdn.p + rdn.len, &atv) < 0)
				return -1;
			r = atv.p;
			if (x509_tlv_expect(&r, atv.p + atv.len, V_ASN1_UNIVERSAL, V_ASN1_OBJECT,
					    &ent.oid) < 0 ||
			    x509_tlv_next(&r, atv.p + atv.len, &ent.val) < 0 ||
			    r != atv.p + atv.len)
				return -1;
			if (nm->n == cap) {
				struct x509_name_ent *v;
				cap = cap ? cap * 2 : 16;
				v = realloc(nm->v, cap * sizeof *v);
				if (!v)
					return -1;
				nm->v = v;
			}
			nm->v[nm->n++] = ent;
		}
		set++;
	}
	return 0;
}

/* RFC 4514 text: the last RDN first, '+' inside an RDN. */
char *x509_name_string(const struct x509_name *nm)
{
	struct sbuf b = {0};
	char key[128];

	for (size_t k = nm->n; k-- > 0;) {
		const struct x509_name_ent *ent = &nm->v[k];
		if (k + 1 < nm->n)
			sbuf_add(&b, nm->v[k + 1].set == ent->set ? "+" : ",", 1);
		x509_attr_name(&ent->oid, key, sizeof key);
		sbuf_adds(&b, key);
		sbuf_add(&b, "=", 1);
		if (isdigit((unsigned char)key[0])) {
			/* unknown types are dumped, as XN_FLAG_DUMP_UNKNOWN_FIELDS does */
			sbuf_add(&b, "#", 1);
			sb_hex(&b, ent->val.start, der_size(&ent->val), 1);
		} else {
			str_append(&b, &ent->val, 1);
		}
	}
	return sbuf_take(&b);
}

char *x509_name_der_text(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	struct der_tlv seq;
	struct x509_name nm;
	char *text = NULL;

	if (x509_tlv_seq(&p, der + len, &seq) < 0 || p != der + len)
		return NULL;
	if (x509_name_parse(&seq, &nm) == 0)
		text = x509_name_string(&nm);
	x509_name_free(&nm);
	return text;
}

/* For names OpenSSL has already parsed, such as a CRL's issuer. */
char *x509_name_text(const void *x509_name)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME((const X509_NAME *)x509_name, &der);
	char *text;

	if (len <= 0)
		return NULL;
	text = x509_name_der_text(der, (size_t)len);
	OPENSSL_free(der);
	return text;
}

/* The first value of the attribute with the given 2.5.4.x (or email) type. */
static const struct der_tlv *name_find(const struct x509_name *nm, const unsigned char *oid,
				       size_t len)
{
	for (size_t i = 0; i < nm->n; i++)
		if (nm->v[i].oid.len == len && memcmp(nm->v[i].oid.p, oid, len) == 0)
			return &nm->v[i].val;
	return NULL;
}

int x509_subject_fields(const struct x509_name *nm, struct cert_rec *out)
{
	static const struct { unsigned char x; size_t off; } map[] = {
		{3, offsetof(struct cert_rec, cn)}, {10, offsetof(struct cert_rec, o)},
		{11, offsetof(struct cert_rec, ou)}, {6, offsetof(struct cert_rec, c)},
		{8, offsetof(struct cert_rec, st)}, {7, offsetof(struct cert_rec, l)},
	};
	const struct der_tlv *v;

	for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
		unsigned char oid[3] = {0x55, 0x04, map[i].x};
		if ((v = name_find(nm, oid, 3)) != NULL) {
			char **dst = (char **)((char *)out + map[i].off);
			if (!(*dst = x509_str_dup(v)))
				return -1;
		}
	}
	if ((v = name_find(nm, OID_EMAIL, sizeof OID_EMAIL)) != NULL &&
	    !(out->email = x509_str_dup(v)))
		return -1;
	return 0;
}

