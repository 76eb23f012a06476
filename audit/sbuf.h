/*
 * sbuf.h — a growable NUL-terminated text buffer. Running out of memory is
 * sticky (oom): later additions do nothing, so a caller that builds text
 * from many pieces may check once, at the end.
 */
#ifndef CA_SBUF_H
#define CA_SBUF_H

#include <stddef.h>

/* Zero-initialise; s (owned) is NULL until something is added. */
struct sbuf {
	char *s;
	size_t n, cap;
	int oom;
};

/* Appends n bytes of p; 0, or -1 when memory has run out (now or before). */
int sbuf_add(struct sbuf *b, const void *p, size_t n);
int sbuf_adds(struct sbuf *b, const char *s);

/* Empties b, keeping its memory; s is "" afterwards (-1 on oom). */
int sbuf_reset(struct sbuf *b);

/* The text as an owned string ("" when empty), b zeroed; NULL on oom. */
char *sbuf_take(struct sbuf *b);

/* Frees b's memory and zeroes it. */
void sbuf_free(struct sbuf *b);

#endif
