/*
 * crl_seen.c — the first-listing index and serial keys of crl_seen.h.
 *
 * The index is open addressing over 32-bit offsets into one arena of
 * records, rather than a node per key, so that it stays compact and is
 * freed at once.
 */
#include "crl_seen.h"

#include <stdlib.h>
#include <string.h>

#include "x509.h"

/* ---- the first listings already stored ------------------------------ */

#define SEEN_HEAD 13 /* when, issuer, key length */
#define SEEN_MAX_KEY 255

void crl_seen_free(struct crl_seen *s)
{
	for (size_t i = 0; i < s->n_iss; i++)
		free(s->iss[i]);
	free(s->iss);
	free(s->slot);
	free(s->arena);
	memset(s, 0, sizeof *s);
}

/* The index of an issuer text, added when new; -1 when out of memory. */
long crl_seen_issuer(struct crl_seen *s, const char *issuer)
{
	char **v, *dup;

	if (s->last < s->n_iss && !strcmp(s->iss[s->last], issuer))
		return (long)s->last;
	for (size_t i = 0; i < s->n_iss; i++)
		if (!strcmp(s->iss[i], issuer))
			return (long)(s->last = i);
	v = realloc(s->iss, (s->n_iss + 1) * sizeof *v);
	if (v)
		s->iss = v;
	if (!v || s->n_iss >= UINT32_MAX || !(dup = strdup(issuer)))
		return -1;
	s->iss[s->n_iss] = dup;
	return (long)(s->last = s->n_iss++);
}

static uint64_t seen_hash(uint32_t iss, const unsigned char *key, size_t len)
{
	uint64_t h = 1469598103934665603u;

	for (int i = 0; i < 4; i++)
		h = (h ^ ((iss >> (8 * i)) & 0xff)) * 1099511628211u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 1099511628211u;
	return h;
}

/* The slot holding the key, or the empty one where it would go. */
static uint32_t *seen_slot(const struct crl_seen *s, uint32_t iss, const unsigned char *key,
			   size_t len)
{
	size_t i = (size_t)seen_hash(iss, key, len) & (s->cap - 1);

	for (;; i = (i + 1) & (s->cap - 1)) {
		const unsigned char *r;
		uint32_t riss;

		if (!s->slot[i])
			return &s->slot[i];
		r = s->arena + s->slot[i] - 1;
		memcpy(&riss, r + 8, 4);
		if (riss == iss && r[12] == len && !memcmp(r + SEEN_HEAD, key, len))
			return &s->slot[i];
	}
}

static int seen_grow(struct crl_seen *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	uint32_t *old = s->slot;
	size_t old_cap = s->cap;

	if (!(s->slot = calloc(cap, sizeof *s->slot))) {
		s->slot = old;
		return -1;
	}
	s->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		const unsigned char *r = s->arena + old[i] - 1;
		uint32_t iss;

		if (!old[i])
			continue;
		memcpy(&iss, r + 8, 4);
		*seen_slot(s, iss, r + SEEN_HEAD, r[12]) = old[i];
	}
	free(old);
	return 0;
}

/* Whether a listing of the key in a CRL of thisUpdate `when` must go to the
 * store: the key is new, or this listing is earlier than the stored one. */
int crl_seen_wants(const struct crl_seen *s, uint32_t iss, const unsigned char *key,
		      size_t len, int64_t when)
{
	const unsigned char *r;
	int64_t w;
	uint32_t *slot;

	if (len > SEEN_MAX_KEY || !s->cap || !*(slot = seen_slot(s, iss, key, len)))
		return 1;
	r = s->arena + *slot - 1;
	memcpy(&w, r, 8);
	return w < 0 || when < 0 || when < w;
}

/* After the store took a listing crl_seen_wants asked for: the stored minimum is
 * now `when`, or unknown when either side is not comparable as a number. */
int crl_seen_note(struct crl_seen *s, uint32_t iss, const unsigned char *key, size_t len,
		     int64_t when)
{
	size_t need = SEEN_HEAD + len;
	unsigned char *r;
	uint32_t *slot;

	if (len > SEEN_MAX_KEY)
		return 0;
	if ((s->n + 1) * 2 > s->cap && seen_grow(s))
		return -1;
	slot = seen_slot(s, iss, key, len);
	if (*slot) {
		int64_t w;

		r = s->arena + *slot - 1;
		memcpy(&w, r, 8);
		w = w < 0 || when < 0 ? -1 : when;
		memcpy(r, &w, 8);
		return 0;
	}
	if (s->used + need >= UINT32_MAX)
		return 0; /* not indexed: the store decides for this key */
	if (s->used + need > s->size) {
		size_t size = s->size ? s->size * 2 : 1 << 16;
		unsigned char *a = realloc(s->arena, size);

		if (!a)
			return -1;
		s->arena = a;
		s->size = size;
	}
	r = s->arena + s->used;
	memcpy(r, &when, 8);
	memcpy(r + 8, &iss, 4);
	r[12] = (unsigned char)len;
	memcpy(r + SEEN_HEAD, key, len);
	*slot = (uint32_t)s->used + 1;
	s->used += need;
	s->n++;
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS" as the number YYYYMMDDHHMMSS, which orders as the
 * text does; -1 for any other shape. */
int64_t crl_seen_time(const char *t)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	int64_t v = 0;

	if (!t || strlen(t) != sizeof shape - 1)
		return -1;
	for (size_t i = 0; i < sizeof shape - 1; i++) {
		if (shape[i] != 'd') {
			if (t[i] != shape[i])
				return -1;
		} else if (t[i] < '0' || t[i] > '9') {
			return -1;
		} else {
			v = v * 10 + (t[i] - '0');
		}
	}
	return v;
}

/* ---- serials -------------------------------------------------------- */

static int serial_fit(struct crl_serial *k, size_t n)
{
	unsigned char *key;
	char *text;

	if (n <= k->cap)
		return 0;
	if (!(key = realloc(k->key, n)))
		return -1;
	k->key = key;
	if (!(text = realloc(k->text, 2 * n + 3)))
		return -1;
	k->text = text;
	k->cap = n;
	return 0;
}

/* Sets the key from a sign and a big-endian magnitude. */
int crl_serial_set(struct crl_serial *k, int neg, const unsigned char *mag, size_t len)
{
	while (len > 1 && mag[0] == 0)
		mag++, len--;
	if (serial_fit(k, len + 1))
		return -1;
	k->key[0] = (unsigned char)neg;
	if (len)
		memcpy(k->key + 1, mag, len);
	else
		k->key[1] = 0;
	k->len = (len ? len : 1) + 1;
	return 0;
}

/* The key of an INTEGER's DER contents (two's complement). */
int crl_serial_from_der(struct crl_serial *k, const unsigned char *p, size_t len)
{
	unsigned char *mag;
	size_t skip = 0;

	if (!len || !(p[0] & 0x80))
		return crl_serial_set(k, 0, p, len);
	if (serial_fit(k, len + 1))
		return -1;
	mag = k->key + 1;
	for (size_t i = 0; i < len; i++)
		mag[i] = (unsigned char)~p[i];
	for (size_t i = len; i-- > 0;)
		if (++mag[i] != 0)
			break;
	while (len - skip > 1 && mag[skip] == 0)
		skip++;
	memmove(mag, mag + skip, len - skip);
	k->key[0] = 1;
	k->len = len - skip + 1;
	return 0;
}

/* The key of a serial as stored, when it is one this file writes: "0-" for a
 * negative, then uppercase hex without a leading zero byte. */
int crl_serial_from_text(struct crl_serial *k, const char *t)
{
	int neg = !strncmp(t, "0-", 2);
	size_t n = strlen(t += neg ? 2 : 0);

	if (!n || n % 2 || serial_fit(k, n / 2 + 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *d = "0123456789ABCDEF", *c = t[i] ? strchr(d, t[i]) : NULL;
		if (!c)
			return -1;
		if (i % 2)
			k->key[1 + i / 2] |= (unsigned char)(c - d);
		else
			k->key[1 + i / 2] = (unsigned char)((c - d) << 4);
	}
	if ((n > 2 && k->key[1] == 0) || (neg && n == 2 && k->key[1] == 0))
		return -1;
	k->key[0] = (unsigned char)neg;
	k->len = n / 2 + 1;
	return 0;
}

/* The serial as stored (what BN_bn2hex gave, padded to even length): for a
 * negative that is "-" and the magnitude, padded with a leading "0". */
const char *crl_serial_text(struct crl_serial *k)
{
	size_t mlen = k->len - 1, o = k->key[0] ? 2 : 0;

	if (o)
		memcpy(k->text, "0-", 2);
	x509_serial_hex(k->key + 1, mlen, k->text + o, 2 * mlen + 1);
	return k->text;
}

void crl_serial_free(struct crl_serial *k)
{
	free(k->key);
	free(k->text);
	memset(k, 0, sizeof *k);
}
