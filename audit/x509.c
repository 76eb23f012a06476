/*
 * x509.c — reads certificates into struct cert_rec without d2i_X509.
 *
 * OpenSSL 3.0's d2i_X509 spends most of its ~90 µs per certificate setting
 * up a provider-backed public-key decoder that an audit never needs. This
 * reader walks the Certificate and TBSCertificate with der.h (DER_BER) and
 * decodes each piece itself: this file does the walk, the times, the serial
 * and the public key's algorithm and size; x509_str.c the names (RFC 4514
 * text) and string values; x509_ext.c the handful of extensions DESIGN §6
 * has columns for and the identity numbers. They share x509_int.h. Every
 * length is checked against its enclosing element, so a malformed
 * certificate is an error, never a read out of bounds.
 */
#include "x509.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "der.h"
#include "x509_int.h"

static const unsigned char OID_SM2_SM3[] = {0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75};
static const unsigned char OID_SM2_CURVE[] = {0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d};
static const unsigned char OID_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const unsigned char OID_SHA256_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
static const unsigned char OID_EC_KEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const unsigned char OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const unsigned char OID_P521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};

/* ---- times, serial, key --------------------------------------------- */

/* Writes "YYYY-MM-DD HH:MM:SS"; fields must be in range (year 0..9999). */
static void time_fmt(char out[20], int y, int mo, int d, int h, int mi, int s)
{
	int v[6] = {y, mo, d, h, mi, s};
	static const char sep[] = " -- ::";
	char *o = out;

	for (int i = 0; i < 6; i++) {
		int w = i ? 2 : 4, x = v[i] < 0 ? 0 : v[i];
		if (i)
			*o++ = sep[i];
		for (int k = w - 1; k >= 0; k--, x /= 10)
			o[k] = (char)('0' + x % 10);
		o += w;
	}
	*o = '\0';
}

/* UTCTime or GeneralizedTime as stored UTC text; the plain DER forms are read
 * by der_time (any year), anything unusual (offsets, fractions) by
 * ASN1_TIME_to_tm. */
static int time_parse(const struct der_tlv *t, char out[20])
{
	const unsigned char *q = t->start;
	struct der_time v;
	struct tm tm;
	ASN1_TIME *at;
	int rc = der_time(t, 0, &v), ok;

	if (rc == 0)
		time_fmt(out, v.year, v.mon, v.day, v.hour, v.min, v.sec);
	if (rc <= 0)
		return rc;
	at = d2i_ASN1_TIME(NULL, &q, (long)der_size(t));
	ok = at && ASN1_TIME_to_tm(at, &tm);
	ASN1_TIME_free(at);
	ERR_clear_error();
	if (!ok || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	time_fmt(out, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	return 0;
}

void x509_serial_hex(const unsigned char *p, size_t len, char *out, size_t n)
{
	static const char dig[] = "0123456789ABCDEF";
	size_t o = 0;

	if (!n)
		return;
	while (len > 1 && p[0] == 0)
		p++, len--;
	for (size_t i = 0; i < len && o + 2 < n; i++) {
		out[o++] = dig[p[i] >> 4];
		out[o++] = dig[p[i] & 15];
	}
	if (!len && o + 2 < n) {
		out[o++] = '0';
		out[o++] = '0';
	}
	out[o] = '\0';
}

/* Serial as OpenSSL prints it; negative serials (invalid, but seen) as '-'
 * and the magnitude. */
static char *serial_text(const struct der_tlv *t)
{
	size_t n = t->len * 2 + 4;
	unsigned char *mag;
	char *s = malloc(n);

	if (!s)
		return NULL;
	if (!t->len || !(t->p[0] & 0x80)) {
		x509_serial_hex(t->p, t->len, s, n);
		return s;
	}
	mag = malloc(t->len);
	if (!mag) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < t->len; i++)
		mag[i] = (unsigned char)~t->p[i];
	for (size_t i = t->len; i-- > 0;)
		if (++mag[i] != 0)
			break;
	s[0] = '-';
	x509_serial_hex(mag, t->len, s + 1, n - 1);
	free(mag);
	return s;
}

/* Bits of a big-endian unsigned integer's contents. */
static int int_bits(const unsigned char *p, size_t len)
{
	while (len && p[0] == 0)
		p++, len--;
	if (!len || len > 1 << 20)
		return 0;
	int bits = (int)(len - 1) * 8;
	for (unsigned c = p[0]; c; c >>= 1)
		bits++;
	return bits;
}

static int ec_curve_bits(const struct der_tlv *curve, size_t pointlen)
{
	const unsigned char *q;
	ASN1_OBJECT *obj;
	int nid, bits = 0;

	if (X509_OID_IS(curve, OID_P256))
		return 256;
	if (X509_OID_IS(curve, OID_P384))
		return 384;
	if (X509_OID_IS(curve, OID_P521))
		return 521;
	q = curve->start;
	obj = d2i_ASN1_OBJECT(NULL, &q, (long)der_size(curve));
	nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	ASN1_OBJECT_free(obj);
	if (nid != NID_undef) {
		EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
		if (g)
			bits = EC_GROUP_get_degree(g);
		EC_GROUP_free(g);
	}
	ERR_clear_error();
	/* an uncompressed point is 04 || X || Y */
	if (!bits && pointlen > 1)
		bits = (int)((pointlen - 1) / 2 * 8);
	return bits;
}

static int spki_parse(const struct der_tlv *spki, struct cert_rec *out)
{
	const unsigned char *p = spki->p, *end = spki->p + spki->len, *q;
	struct der_tlv alg, oid, params = {0}, bits;
	char txt[128];

	if (x509_tlv_seq(&p, end, &alg) < 0 ||
	    x509_tlv_expect(&p, end, V_ASN1_UNIVERSAL, V_ASN1_BIT_STRING, &bits) < 0 ||
	    bits.len < 1)
		return -1;
	q = alg.p;
	if (x509_tlv_expect(&q, alg.p + alg.len, V_ASN1_UNIVERSAL, V_ASN1_OBJECT, &oid) < 0)
		return -1;
	if (q < alg.p + alg.len && x509_tlv_next(&q, alg.p + alg.len, &params) < 0)
		return -1;
	if (X509_OID_IS(&oid, OID_RSA)) {
		struct der_tlv rsa, mod;
		q = bits.p + 1;
		if (x509_tlv_seq(&q, bits.p + bits.len, &rsa) < 0)
			return -1;
		q = rsa.p;
		if (x509_tlv_expect(&q, rsa.p + rsa.len, V_ASN1_UNIVERSAL, V_ASN1_INTEGER,
				    &mod) < 0)
			return -1;
		out->key_alg = strdup("RSA");
		out->key_bits = int_bits(mod.p, mod.len);
	} else if (X509_OID_IS(&oid, OID_EC_KEY) || X509_OID_IS(&oid, OID_SM2_CURVE)) {
		int sm2 = X509_OID_IS(&oid, OID_SM2_CURVE) ||
			  (params.tag == V_ASN1_OBJECT && X509_OID_IS(&params, OID_SM2_CURVE));
		out->key_alg = strdup(sm2 ? "SM2" : "EC");
		if (sm2)
			out->key_bits = 256;
		else if (params.p && params.tag == V_ASN1_OBJECT && params.cls == V_ASN1_UNIVERSAL)
			out->key_bits = ec_curve_bits(&params, bits.len - 1);
		else
			out->key_bits = bits.len > 2 ? (int)((bits.len - 2) / 2 * 8) : 0;
	} else {
		if (x509_oid_text(oid.p, oid.len, txt, sizeof txt) < 0)
			return -1;
		out->key_alg = strdup(txt);
	}
	return out->key_alg ? 0 : -1;
}

/* ---- the certificate ------------------------------------------------ */

static int sig_alg(const struct der_tlv *alg, struct cert_rec *out)
{
	const unsigned char *q = alg->p;
	struct der_tlv oid;
	char txt[128];

	if (x509_tlv_expect(&q, alg->p + alg->len, V_ASN1_UNIVERSAL, V_ASN1_OBJECT, &oid) < 0)
		return -1;
	if (X509_OID_IS(&oid, OID_SM2_SM3))
		snprintf(txt, sizeof txt, "SM2-with-SM3");
	else if (X509_OID_IS(&oid, OID_SHA256_RSA))
		snprintf(txt, sizeof txt, "sha256WithRSAEncryption");
	else
		x509_oid_name(&oid, 1, txt, sizeof txt);
	return (out->sig_alg = strdup(txt)) ? 0 : -1;
}

#define BAD(...) do { err_set(e, CA_EINPUT, "", 0, 0, __VA_ARGS__); goto fail; } while (0)
#define OOM() do { err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory"); goto fail; } while (0)

/* TBSCertificate: version, serial, signature, issuer, validity, subject,
 * subjectPublicKeyInfo, then optional unique ids and [3] extensions. */
static int tbs_parse(const struct der_tlv *tbs, const struct identity_loc *ids, size_t n_ids,
		     struct cert_rec *out, struct err *e)
{
	const unsigned char *p = tbs->p, *end = tbs->p + tbs->len, *q;
	struct der_tlv t, serial, alg, issuer, validity, nb, na, subject, spki;
	struct x509_name subj = {0}, iss = {0};
	struct x509_ext_state xs = {0};
	char tbuf[20];

	if (x509_tlv_next(&p, end, &t) < 0)
		BAD("truncated certificate");
	if (t.cls == V_ASN1_CONTEXT_SPECIFIC && t.tag == 0 && t.cons) {
		if (x509_tlv_next(&p, end, &t) < 0)
			BAD("truncated certificate after its version");
	}
	serial = t;
	if (serial.cls != V_ASN1_UNIVERSAL || serial.tag != V_ASN1_INTEGER || serial.cons ||
	    !serial.len)
		BAD("malformed serial number");
	if (x509_tlv_seq(&p, end, &alg) < 0)
		BAD("malformed signature algorithm in the certificate body");
	if (x509_tlv_seq(&p, end, &issuer) < 0 || x509_name_parse(&issuer, &iss) < 0)
		BAD("malformed issuer name");
	if (x509_tlv_seq(&p, end, &validity) < 0)
		BAD("malformed validity");
	q = validity.p;
	if (x509_tlv_next(&q, validity.p + validity.len, &nb) < 0 || time_parse(&nb, tbuf) < 0)
		BAD("malformed notBefore time");
	if (!(out->not_before = strdup(tbuf)))
		OOM();
	if (x509_tlv_next(&q, validity.p + validity.len, &na) < 0 || time_parse(&na, tbuf) < 0)
		BAD("malformed notAfter time");
	if (!(out->not_after = strdup(tbuf)))
		OOM();
	if (x509_tlv_seq(&p, end, &subject) < 0 || x509_name_parse(&subject, &subj) < 0)
		BAD("malformed subject name");
	if (x509_tlv_seq(&p, end, &spki) < 0 || spki_parse(&spki, out) < 0)
		BAD("malformed subject public key info");
	while (p < end) {
		if (x509_tlv_next(&p, end, &t) < 0 || t.cls != V_ASN1_CONTEXT_SPECIFIC)
			BAD("malformed data after the public key");
		if (t.tag == 3 && t.cons && x509_extensions_parse(&t, out, &xs, e) < 0)
			goto fail;
	}
	if (!(out->serial = serial_text(&serial)) || !(out->issuer = x509_name_string(&iss)) ||
	    !(out->subject = x509_name_string(&subj)) || x509_subject_fields(&subj, out) < 0)
		OOM();
	if (!out->email && xs.san_email) {
		out->email = xs.san_email;
		xs.san_email = NULL;
	}
	if (x509_identity_find(ids, n_ids, &subj, &xs, out) < 0)
		OOM();
	free(xs.san_email);
	x509_name_free(&subj);
	x509_name_free(&iss);
	return 0;
fail:
	free(xs.san_email);
	x509_name_free(&subj);
	x509_name_free(&iss);
	return -1;
}

int x509_read_der(const unsigned char *der, size_t len, const struct identity_loc *ids,
		  size_t n_ids, struct cert_rec *out, struct err *e)
{
	const unsigned char *p = der, *end = der + len;
	struct der_tlv cert, tbs, alg, sig;
	char hex[65];

	if (x509_tlv_seq(&p, end, &cert) < 0)
		BAD(len && der[0] == 0x30 ? "truncated certificate" : "not a DER certificate");
	if (p != end)
		BAD("%zu bytes of trailing data after the certificate", (size_t)(end - p));
	p = cert.p;
	end = cert.p + cert.len;
	if (x509_tlv_seq(&p, end, &tbs) < 0)
		BAD("malformed certificate body");
	if (x509_tlv_seq(&p, end, &alg) < 0 || sig_alg(&alg, out) < 0)
		BAD("malformed signature algorithm");
	if (x509_tlv_expect(&p, end, V_ASN1_UNIVERSAL, V_ASN1_BIT_STRING, &sig) < 0 || p != end)
		BAD("malformed signature");
	if (tbs_parse(&tbs, ids, n_ids, out, e) < 0)
		goto fail;
	digest_sha256_hex(cert.start, der_size(&cert), hex);
	if (!(out->sha256 = strdup(hex)))
		OOM();
	return 0;
fail:
	cert_rec_clear(out);
	return -1;
}

static const EVP_MD *x509_sha256_md;
static pthread_once_t x509_sha256_once = PTHREAD_ONCE_INIT;

/* Fetching once saves the implicit fetch EVP_sha256 costs on every digest. */
static void x509_sha256_init(void)
{
	x509_sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

void digest_sha256_hex(const unsigned char *buf, size_t len, char out[65])
{
	static const char dig[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	pthread_once(&x509_sha256_once, x509_sha256_init);
	if (!EVP_Digest(buf, len, md, &n, x509_sha256_md ? x509_sha256_md : EVP_sha256(), NULL) ||
	    n != 32) {
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = dig[md[i] >> 4];
		out[2 * i + 1] = dig[md[i] & 15];
	}
	out[64] = '\0';
}
