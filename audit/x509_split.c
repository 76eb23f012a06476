/*
 * x509_split.c — finding the certificates in a file's bytes (x509_split in
 * x509.h): PEM blocks, other PEM blocks skipped, or concatenated DER. It
 * only finds the boundaries; x509.c reads each certificate.
 */
#include "x509.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>

#include "der.h"

/* Moves *pp past the DER SEQUENCE it starts with, whose whole length goes to
 * *total; -1 when there is none within end. Read by the same rules as
 * x509.c reads the certificate (DER_BER). */
static int der_sequence(const unsigned char **pp, const unsigned char *end, size_t *total)
{
	struct der_tlv t;

	if (der_read(*pp, end, DER_BER, &t) || !t.cons || t.cls != V_ASN1_UNIVERSAL ||
	    t.tag != V_ASN1_SEQUENCE)
		return -1;
	*total = der_size(&t);
	*pp = t.end;
	return 0;
}

/* Base64 digit values; B64_SPACE for what isspace() accepts in the C
 * locale, B64_PAD for '=', B64_BAD for the rest: one table look-up per
 * character (a million certificates are a gigabyte of base64). */
enum { B64_SPACE = 64, B64_PAD = 65, B64_BAD = 255 };

static unsigned char b64_table[256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void b64_init(void)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memset(b64_table, B64_BAD, sizeof b64_table);
	for (int i = 0; i < 64; i++)
		b64_table[(unsigned char)digits[i]] = (unsigned char)i;
	for (const char *w = " \t\n\v\f\r"; *w; w++)
		b64_table[(unsigned char)*w] = B64_SPACE;
	b64_table['='] = B64_PAD;
}

/* Decodes base64 text (white space ignored). Returns 0, -1 on bad padding
 * or a length that is not whole groups, or -2 with *bad_at at the first
 * character that is neither base64, '=' nor white space (which wins over a
 * padding error before it). */
static int b64_decode(const unsigned char *s, size_t n, unsigned char *out, size_t *outlen,
		      size_t *bad_at)
{
	unsigned v = 0;
	size_t o = 0, k = 0, pad = 0;
	int rc = 0;

	pthread_once(&b64_once, b64_init);
	for (size_t i = 0; i < n; i++) {
		unsigned d = b64_table[s[i]];

		if (d < 64 && !pad && !rc) {
			v = v << 6 | d;
			if (++k % 4 == 0) {
				out[o++] = (unsigned char)(v >> 16);
				out[o++] = (unsigned char)(v >> 8);
				out[o++] = (unsigned char)v;
				v = 0;
			}
		} else if (d == B64_PAD) {
			pad++;
			k++;
		} else if (d == B64_BAD) {
			*bad_at = i;
			return -2;
		} else if (d < 64) {
			rc = -1; /* data after padding; look on for a bad character */
		}
	}
	if (rc || k % 4 || pad > 2)
		return -1;
	if (pad == 1) {
		out[o++] = (unsigned char)(v >> 10);
		out[o++] = (unsigned char)(v >> 2);
	} else if (pad == 2) {
		out[o++] = (unsigned char)(v >> 4);
	}
	*outlen = o;
	return 0;
}

static int pem_is_cert_label(const char *s, size_t n)
{
	return (n == 11 && !memcmp(s, "CERTIFICATE", 11)) ||
	       (n == 16 && !memcmp(s, "X509 CERTIFICATE", 16)) ||
	       (n == 19 && !memcmp(s, "TRUSTED CERTIFICATE", 19));
}

/* Decodes one certificate block's base64 lines [b, e) and calls fn. */
static int pem_block(const unsigned char *b, const unsigned char *e, long begin, long first,
		     x509_cert_fn fn, x509_bad_fn bad, void *ctx)
{
	unsigned char *der;
	size_t n = 0, at = 0;
	int rc;

	der = malloc((size_t)(e - b) / 4 * 3 + 3);
	if (!der)
		return bad(begin, "out of memory", ctx) ? -1 : 0;
	rc = b64_decode(b, (size_t)(e - b), der, &n, &at);
	if (rc == -2) {
		char msg[96];
		long line = first;

		for (const unsigned char *p = b; p < b + at; p++)
			line += *p == '\n';
		free(der);
		snprintf(msg, sizeof msg, "invalid base64 character on line %ld", line);
		return bad(begin, msg, ctx) ? -1 : 0;
	}
	if (rc < 0 || !n) {
		free(der);
		return bad(begin, "base64 does not decode: bad padding or length", ctx) ? -1 : 0;
	}
	rc = fn(der, n, begin, ctx);
	free(der);
	return rc ? -1 : 0;
}

static const unsigned char *line_end(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

/* Trimmed line [p, q) is "-----<word> <label>-----"; returns the label. */
static int pem_armour(const unsigned char *p, const unsigned char *q, const char *word,
		      const char **label, size_t *n)
{
	size_t wl = strlen(word);

	while (q > p && isspace(q[-1]))
		q--;
	if ((size_t)(q - p) < 10 + wl + 1 || memcmp(p, "-----", 5) || memcmp(p + 5, word, wl) ||
	    p[5 + wl] != ' ' || memcmp(q - 5, "-----", 5))
		return 0;
	*label = (const char *)p + 6 + wl;
	*n = (size_t)(q - 5 - (p + 6 + wl));
	return 1;
}

static int split_pem(const unsigned char *buf, size_t len, x509_cert_fn fn, x509_bad_fn bad,
		     void *ctx)
{
	const unsigned char *p = buf, *end = buf + len, *body = NULL;
	const char *label = NULL, *l2;
	size_t label_n = 0, n2;
	long line = 1, begin = 0;

	for (; p < end; line++) {
		const unsigned char *q = line_end(p, end);
		if (pem_armour(p, q, "BEGIN", &l2, &n2)) {
			if (body && pem_is_cert_label(label, label_n)) {
				char msg[96];
				snprintf(msg, sizeof msg, "no END line before the BEGIN line %ld", line);
				if (bad(begin, msg, ctx))
					return -1;
			}
			label = l2, label_n = n2, begin = line;
			body = q < end ? q + 1 : q;
		} else if (body && pem_armour(p, q, "END", &l2, &n2)) {
			if (n2 != label_n || memcmp(l2, label, n2)) {
				if (pem_is_cert_label(label, label_n) &&
				    bad(begin, "END line does not match the BEGIN line", ctx))
					return -1;
			} else if (pem_is_cert_label(label, label_n) &&
				   pem_block(body, p, begin, begin + 1, fn, bad, ctx) < 0) {
				return -1;
			}
			body = NULL;
		}
		p = q < end ? q + 1 : q;
	}
	if (body && pem_is_cert_label(label, label_n) &&
	    bad(begin, "no END CERTIFICATE line", ctx))
		return -1;
	return 0;
}

static int split_der(const unsigned char *buf, size_t len, x509_cert_fn fn, x509_bad_fn bad,
		     void *ctx)
{
	const unsigned char *p = buf, *end = buf + len;
	size_t total;

	while (p < end) {
		long pos = (long)(p - buf);
		const unsigned char *q = p;
		if (der_sequence(&q, end, &total) < 0) {
			const char *why = *p == 0x30 ? "truncated or malformed DER certificate"
				: pos ? "data after the last DER certificate is not a certificate"
				: "neither a PEM nor a DER certificate";
			return bad(pos, why, ctx) ? -1 : 0;
		}
		if (fn(p, total, pos, ctx))
			return -1;
		p = q;
	}
	return 0;
}

int x509_split(const unsigned char *buf, size_t len, x509_cert_fn fn, x509_bad_fn bad,
	       void *ctx)
{
	size_t i = 0;

	if (memmem(buf, len, "-----BEGIN ", 11))
		return split_pem(buf, len, fn, bad, ctx);
	while (i < len && isspace(buf[i]))
		i++;
	if (i == len)
		return 0;
	return split_der(buf, len, fn, bad, ctx);
}
