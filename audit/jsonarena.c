/*
 * jsonarena.c — see jsonarena.h.
 */
#include "jsonarena.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define ALIGN 16  /* malloc's alignment on the platforms we build for */

static _Thread_local struct jsonarena *current;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *arena_malloc(size_t n)
{
	struct jsonarena *a = current;
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);

	if (a) {
		if (need >= n && need <= a->cap - a->used) {
			void *p = a->base + a->used;

			a->used += need;
			return p;
		}
		a->spilled++;
	}
	return malloc(n);
}

static void arena_free(void *p)
{
	const struct jsonarena *a = current;
	uintptr_t u = (uintptr_t)p;

	if (a && u >= (uintptr_t)a->base && u < (uintptr_t)a->base + a->cap)
		return;
	free(p);
}

static void install_hooks(void)
{
	json_set_alloc_funcs(arena_malloc, arena_free);
}

int jsonarena_init(struct jsonarena *a, size_t cap)
{
	pthread_once(&hooks_once, install_hooks);
	cap = (cap + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	a->base = aligned_alloc(ALIGN, cap);
	a->cap = a->base ? cap : 0;
	a->used = a->spilled = 0;
	return a->base ? 0 : -1;
}

void jsonarena_free(struct jsonarena *a)
{
	free(a->base);
	a->base = NULL;
	a->cap = a->used = 0;
}

void jsonarena_begin(struct jsonarena *a)
{
	a->used = 0;
	current = a;
}

void jsonarena_end(void)
{
	current = NULL;
}
