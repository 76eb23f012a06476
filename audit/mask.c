/*
 * mask.c — masking personal names and identity numbers for outputs; see
 * mask.h. Counting is by UTF-8 code point so that a Chinese name (three bytes
 * a character) or a rare surname outside the BMP (four bytes) loses exactly
 * the characters a reader sees. Invalid UTF-8 is not rejected: a byte that
 * does not start a sequence counts as a character of its own, so masking
 * never fails on a damaged record.
 */
#include "mask.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Byte length of the character starting at s (at least 1, stops at NUL). */
static size_t char_len(const char *s)
{
	size_t n = 1;

	while (n < 4 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n++;
	return n;
}

static size_t char_count(const char *s)
{
	size_t n = 0;

	for (; *s; s += char_len(s))
		n++;
	return n;
}

/* Byte offset of character number idx (idx may equal the count). */
static size_t char_offset(const char *s, size_t idx)
{
	const char *p = s;

	while (idx-- && *p)
		p += char_len(p);
	return (size_t)(p - s);
}

/* Keeps `head` leading and `tail` trailing characters and stars the rest. */
static char *keep_ends(const char *s, size_t head, size_t tail)
{
	size_t n = char_count(s), stars, hb, tb;
	char *out;

	if (head + tail > n)
		head = tail = 0;
	stars = n - head - tail;
	hb = char_offset(s, head);
	tb = strlen(s) - char_offset(s, n - tail);
	out = malloc(hb + stars + tb + 1);
	if (!out)
		return NULL;
	memcpy(out, s, hb);
	memset(out + hb, '*', stars);
	memcpy(out + hb + stars, s + strlen(s) - tb, tb);
	out[hb + stars + tb] = '\0';
	return out;
}

char *mask_name(const char *s)
{
	if (!s)
		return NULL;
	/* Keeping the only character would reveal the whole name. */
	return keep_ends(s, char_count(s) > 1, 0);
}

char *mask_id(const char *s)
{
	if (!s)
		return NULL;
	if (char_count(s) <= 8)
		return keep_ends(s, 0, 0);
	return keep_ends(s, 4, 4);
}

int mask_field_kind(const char *field)
{
	static const char *const names[] = {"applicant_name", "recipient_name", "cn", NULL};
	static const char *const ids[] = {"applicant_id", "recipient_id", "id_number", "id",
					  NULL};

	if (!field)
		return 0;
	for (size_t i = 0; names[i]; i++)
		if (!strcasecmp(field, names[i]))
			return 'n';
	for (size_t i = 0; ids[i]; i++)
		if (!strcasecmp(field, ids[i]))
			return 'i';
	if (!strcasecmp(field, "subject"))
		return 'd';
	return 0;
}

char *mask_field(const char *field, const char *value)
{
	if (!value)
		return NULL;
	switch (mask_field_kind(field)) {
	case 'n':
		return mask_name(value);
	case 'i':
		return mask_id(value);
	case 'd':
		return mask_dn(value);
	default:
		return strdup(value);
	}
}

/* ---- distinguished names ---- */

/* A growable output buffer; on allocation failure `failed` sticks and the
 * result is dropped at the end rather than checked at every append. */
struct buf {
	char *p;
	size_t n, cap;
	int failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 64) + n;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undoes RFC 4514 escapes (\, and \E5) in the n bytes at v. */
static char *dn_unescape(const char *v, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n) {
			int hi = hexval(v[i + 1]), lo = i + 2 < n ? hexval(v[i + 2]) : -1;
			if (hi >= 0 && lo >= 0) {
				*o++ = (char)(hi * 16 + lo);
				i += 2;
			} else {
				*o++ = v[++i];
			}
		} else {
			*o++ = v[i];
		}
	}
	*o = '\0';
	return out;
}

/* Appends s escaped as an RFC 4514 attribute value. */
static void dn_escape(struct buf *b, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int esc = strchr(",+\"\\<>;=", c) != NULL || (i == 0 && (c == '#' || c == ' ')) ||
			  (i == len - 1 && c == ' ');
		if (esc)
			buf_add(b, "\\", 1);
		buf_add(b, &c, 1);
	}
}

/* Which attribute types of a DN are personal: 'n' (names) or 'i'. */
static int dn_attr_kind(const char *type, size_t n)
{
	static const struct { const char *type; int kind; } kinds[] = {
		{"CN", 'n'}, {"commonName", 'n'}, {"2.5.4.3", 'n'},
		{"SN", 'n'}, {"surname", 'n'}, {"2.5.4.4", 'n'},
		{"GN", 'n'}, {"givenName", 'n'}, {"2.5.4.42", 'n'},
		{"serialNumber", 'i'}, {"2.5.4.5", 'i'},
	};

	while (n && type[n - 1] == ' ')
		n--;
	while (n && *type == ' ')
		type++, n--;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strlen(kinds[i].type) == n && !strncasecmp(type, kinds[i].type, n))
			return kinds[i].kind;
	return 0;
}

/* Length of the attribute value at v: up to an unescaped ',' or '+'. */
static size_t dn_value_len(const char *v)
{
	size_t i = 0;

	while (v[i] && v[i] != ',' && v[i] != '+') {
		if (v[i] == '\\' && v[i + 1])
			i++;
		i++;
	}
	return i;
}

/* Appends one "type=value" with the value masked when personal. Spaces
 * around the value (OpenSSL's "CN = x, O = y" style) are kept as they are
 * rather than counted as characters of the name. */
static void dn_mask_ava(struct buf *b, const char *ava, size_t n)
{
	const char *eq = memchr(ava, '=', n);
	int kind = eq ? dn_attr_kind(ava, (size_t)(eq - ava)) : 0;
	size_t start, end;
	char *raw, *masked;

	if (!kind) {
		buf_add(b, ava, n);
		return;
	}
	start = (size_t)(eq - ava) + 1;
	while (start < n && ava[start] == ' ')
		start++;
	end = n;
	while (end > start + 1 && ava[end - 1] == ' ' && ava[end - 2] != '\\')
		end--;
	buf_add(b, ava, start);
	/* A hex-encoded (#...) value is BER, not text: starring it whole keeps
	 * no personal byte and no half-decoded garbage. */
	if (start < end && ava[start] == '#') {
		buf_add(b, "#", 1);
		for (size_t i = start + 1; i < end; i++)
			buf_add(b, "*", 1);
	} else {
		raw = dn_unescape(ava + start, end - start);
		masked = raw ? (kind == 'n' ? mask_name(raw) : mask_id(raw)) : NULL;
		if (!masked)
			b->failed = 1;
		else
			dn_escape(b, masked);
		free(raw);
		free(masked);
	}
	buf_add(b, ava + end, n - end);
}

char *mask_dn(const char *dn)
{
	struct buf b = {0};
	const char *p = dn;

	if (!dn)
		return NULL;
	buf_add(&b, "", 0);
	while (*p) {
		const char *eq = p;
		size_t n;

		/* The value starts after the first '=', which types never contain. */
		while (*eq && *eq != '=' && *eq != ',' && *eq != '+')
			eq++;
		n = (size_t)(eq - p);
		if (*eq == '=')
			n += 1 + dn_value_len(eq + 1);
		dn_mask_ava(&b, p, n);
		p += n;
		if (*p) {
			buf_add(&b, p, 1);
			p++;
		}
	}
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
