/*
 * jsonarena.h — jansson's allocations in one thread taken from a bump arena
 * for a while, so that parsing a line costs no malloc or free.
 *
 * The JSON Lines reader parses millions of small objects, each some twenty
 * blocks (the object, its hash table, keys, values, their strings) freed as
 * soon as the line's fields are copied out. Between jsonarena_begin and
 * jsonarena_end, the calling thread's jansson allocations come from the
 * arena and its jansson frees of them are no-ops; the next jsonarena_begin
 * reuses the arena from its start. Every value made in between must be
 * released (json_decref) before jsonarena_end. Other threads, and this one
 * outside the bracket, use malloc and free as before; a block the arena
 * cannot hold comes from malloc and goes back to free.
 */
#ifndef CA_JSONARENA_H
#define CA_JSONARENA_H

#include <stddef.h>

struct jsonarena {
	char *base;      /* owned */
	size_t cap, used;
	size_t spilled;  /* allocations the arena could not hold */
};

/* 0, or -1 out of memory. Installs jansson's hooks on first use: blocks
 * allocated before then are freed to free() as they would have been. */
int jsonarena_init(struct jsonarena *a, size_t cap);
void jsonarena_free(struct jsonarena *a);

void jsonarena_begin(struct jsonarena *a);
void jsonarena_end(void);

#endif
