/*
 * evtext.c — a finding's evidence (a JSON object) as the reports show it:
 * "k=v; k=v", personal fields masked (mask.h) unless revealed; see evtext.h.
 *
 * A report of a million findings renders a million objects, so the flat
 * objects the engine writes are read by hand (ev_fast) and jansson (ev_slow)
 * decides everything else; both give the same text for every input the
 * fast path accepts.
 */
#include "evtext.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "sbuf.h"

/* The evidence object as "k=v; k=v", personal fields masked unless reveal. */
static int ev_slow(struct sbuf *b, const char *json, int reveal)
{
	json_error_t je;
	json_t *obj = json_loads(json, 0, &je), *v;
	const char *k;
	int rc = 0, first = 1;

	if (sbuf_reset(b) < 0)
		return -1;
	if (!json_is_object(obj)) {
		json_decref(obj);
		/* Unreadable evidence may still hold personal data. */
		return sbuf_adds(b, reveal ? json : "（证据无法解析）");
	}
	json_object_foreach(obj, k, v) {
		char *text = NULL, *shown = NULL;

		if (json_is_string(v))
			text = strdup(json_string_value(v));
		else if (!json_is_null(v))
			text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text && !reveal)
			shown = mask_field(k, text);
		if ((!json_is_null(v) && !text) || (text && !reveal && !shown) ||
		    (!first && sbuf_adds(b, "; ") < 0) || sbuf_adds(b, k) < 0 ||
		    sbuf_adds(b, "=") < 0 ||
		    sbuf_adds(b, shown ? shown : text ? text : "") < 0)
			rc = -1;
		free(text);
		free(shown);
		first = 0;
		if (rc)
			break;
	}
	json_decref(obj);
	return rc;
}

#define EV_KINDS 16

/* A key's mask kind, remembered. */
struct ev_kindmemo {
	char key[32];          /* the key as written in the JSON, not terminated */
	size_t n;
	int kind;              /* mask_field_kind */
};

struct evtext {
	int reveal;
	struct sbuf text;      /* the last rendering */
	struct sbuf key, value; /* scratch: a key and a value, terminated */
	struct ev_kindmemo kinds[EV_KINDS];
	size_t nkinds;
};



/* The evidence fast path. The engine writes each finding's evidence as a
 * flat JSON object (jansson, JSON_COMPACT); parsing it with jansson per row
 * was a tenth of a million-finding report. The fast path reads that shape by
 * hand and declines (returns 1) on anything it does not take exactly as
 * jansson does — \u escapes, reals, arrays and objects, duplicate keys,
 * integers jansson would print differently, invalid UTF-8, trailing text —
 * so that the jansson path decides those: both give the same text for every
 * input the fast path accepts. */

#define EV_MAX_PAIRS 64

/* A key or value as it lies in the JSON text. */
struct ev_tok {
	const char *s;
	size_t n;
	int type;              /* EV_STR, EV_LIT (number, true, false) or EV_NULL */
	int esc;               /* a string with backslash escapes */
};

enum { EV_STR, EV_LIT, EV_NULL };

static const char *ev_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The length of the UTF-8 sequence at p when jansson accepts it, else 0. */
static int ev_utf8(const unsigned char *p)
{
	uint32_t v;
	int n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
		v = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		v = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		v = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) ||
	    (n == 4 && v < 0x10000))
		return 0;
	return n;
}

/* A string from p (just after its opening quote); the position after the
 * closing quote, or NULL to decline. */
static const char *ev_str(const char *p, struct ev_tok *t)
{
	const unsigned char *q = (const unsigned char *)p;
	int n;

	t->s = p;
	t->type = EV_STR;
	t->esc = 0;
	while (*q != '"') {
		if (*q < 0x20)  /* a control character, or the end of the text */
			return NULL;
		if (*q == '\\') {
			if (!q[1] || !strchr("\"\\/bfnrt", q[1]))
				return NULL;
			t->esc = 1;
			q += 2;
			continue;
		}
		n = ev_utf8(q);
		if (!n)
			return NULL;
		q += n;
	}
	t->n = (size_t)((const char *)q - p);
	return (const char *)q + 1;
}

/* An integer that jansson prints back as written (no "-0", at most 18
 * digits so it fits), true, false or null; the position after it, or NULL
 * to decline. */
static const char *ev_lit(const char *p, struct ev_tok *t)
{
	const char *q = p;

	t->s = p;
	t->type = EV_LIT;
	t->esc = 0;
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4)) {
		q = p + 4;
		if (*p == 'n')
			t->type = EV_NULL;
	} else if (!strncmp(p, "false", 5)) {
		q = p + 5;
	} else {
		if (*q == '-')
			q++;
		if (*q == '0' && q != p)
			return NULL;
		if (*q == '0' && q[1] >= '0' && q[1] <= '9')
			return NULL;
		while (*q >= '0' && *q <= '9')
			q++;
		if (q == p || q[-1] == '-' || q - p > 18 || *q == '.' || *q == 'e' ||
		    *q == 'E')
			return NULL;
	}
	t->n = (size_t)(q - p);
	return q;
}

/* Splits a flat object into its pairs; 0, or 1 to decline. */
static int ev_pairs(const char *json, struct ev_tok *keys, struct ev_tok *vals,
		      size_t *npairs)
{
	const char *p = ev_ws(json);
	size_t n = 0, i;

	if (*p != '{')
		return 1;
	p = ev_ws(p + 1);
	while (*p != '}') {
		/* keys with escapes (rare) are declined, so that comparing raw
		 * text finds every duplicate */
		if (n == EV_MAX_PAIRS || *p != '"' || !(p = ev_str(p + 1, &keys[n])) ||
		    keys[n].esc)
			return 1;
		for (i = 0; i < n; i++)
			if (keys[i].n == keys[n].n && !memcmp(keys[i].s, keys[n].s, keys[n].n))
				return 1;
		p = ev_ws(p);
		if (*p != ':')
			return 1;
		p = ev_ws(p + 1);
		p = *p == '"' ? ev_str(p + 1, &vals[n]) : ev_lit(p, &vals[n]);
		if (!p)
			return 1;
		n++;
		p = ev_ws(p);
		if (*p == '}')
			break;
		if (*p != ',' || *(p = ev_ws(p + 1)) != '"')
			return 1;  /* no comma, or a trailing one */
	}
	*npairs = n;
	return *ev_ws(p + 1) ? 1 : 0;
}

/* Appends a string token's text with its escapes decoded. */
static int ev_unescape(struct sbuf *b, const struct ev_tok *t)
{
	size_t i, from = 0;

	if (!t->esc)
		return sbuf_add(b, t->s, t->n);
	for (i = 0; i < t->n; i++) {
		char c;

		if (t->s[i] != '\\')
			continue;
		switch (t->s[i + 1]) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		default: c = t->s[i + 1]; break;  /* " \ / */
		}
		if (sbuf_add(b, t->s + from, i - from) < 0 || sbuf_add(b, &c, 1) < 0)
			return -1;
		from = ++i + 1;
	}
	return sbuf_add(b, t->s + from, t->n - from);
}

/* The mask kind of a key (mask_field_kind), remembered for the few keys
 * that every finding of an item repeats. */
static int ev_kind(struct evtext *s, const struct ev_tok *k)
{
	struct ev_kindmemo *m;
	size_t i;
	int kind;

	for (i = 0; i < s->nkinds; i++)
		if (s->kinds[i].n == k->n && !memcmp(s->kinds[i].key, k->s, k->n))
			return s->kinds[i].kind;
	if (sbuf_reset(&s->key) < 0 || sbuf_add(&s->key, k->s, k->n) < 0)
		return -1;
	kind = mask_field_kind(s->key.s);
	if (k->n < sizeof(m->key) && s->nkinds < EV_KINDS) {
		m = &s->kinds[s->nkinds++];
		memcpy(m->key, k->s, k->n);
		m->n = k->n;
		m->kind = kind;
	}
	return kind;
}

/* Appends the value v of key k masked. */
static int ev_masked(struct evtext *s, const struct ev_tok *k,
		       const struct ev_tok *v)
{
	char *shown;
	int rc;

	if (sbuf_reset(&s->key) < 0 || sbuf_add(&s->key, k->s, k->n) < 0 ||
	    sbuf_reset(&s->value) < 0 ||
	    ev_unescape(&s->value, v) < 0)
		return -1;
	shown = mask_field(s->key.s, s->value.s);
	if (!shown)
		return -1;
	rc = sbuf_adds(&s->text, shown);
	free(shown);
	return rc;
}

/* ev_slow for the flat objects the engine writes: 0, 1 to leave it to
 * ev_slow, -1 when memory ran out. */
static int ev_fast(struct evtext *s, const char *json)
{
	struct ev_tok keys[EV_MAX_PAIRS], vals[EV_MAX_PAIRS];
	struct sbuf *b = &s->text;
	size_t n, i;
	int kind = 0;

	if (ev_pairs(json, keys, vals, &n))
		return 1;
	if (sbuf_reset(b) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((i && sbuf_add(b, "; ", 2) < 0) || sbuf_add(b, keys[i].s, keys[i].n) < 0 ||
		    sbuf_add(b, "=", 1) < 0)
			return -1;
		if (vals[i].type == EV_NULL)
			continue;
		if (!s->reveal && (kind = ev_kind(s, &keys[i])) < 0)
			return -1;
		if ((kind ? ev_masked(s, &keys[i], &vals[i]) : ev_unescape(b, &vals[i])) < 0)
			return -1;
	}
	return 0;
}

struct evtext *evtext_new(int reveal)
{
	struct evtext *t = calloc(1, sizeof *t);

	if (t)
		t->reveal = reveal;
	return t;
}

const char *evtext_render(struct evtext *t, const char *json)
{
	int rc = ev_fast(t, json);

	if (rc == 1)
		rc = ev_slow(&t->text, json, t->reveal);
	return rc < 0 ? NULL : t->text.s;
}

void evtext_free(struct evtext *t)
{
	if (!t)
		return;
	sbuf_free(&t->text);
	sbuf_free(&t->key);
	sbuf_free(&t->value);
	free(t);
}
