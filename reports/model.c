/*
 * model.c — building, iterating and freeing the report document model; see
 * model.h. Arrays whose capacity the structs do not record (sections, blocks,
 * metadata, key/value pairs) grow to the next power of two, so the capacity
 * follows from the count; stored table rows keep an explicit capacity and
 * double. Nothing here knows about XLSX, PDF or compliance.
 *
 * rm_iter_start_ahead reads a stream on a thread of its own into two
 * batches of rows that it and the caller hand back and forth: while a
 * writer turns one batch into XML, the builder's query fills the next.
 */
#include "model.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for element n of *arr when n reaches the implied capacity
 * (0, 4, 8, 16, ...). */
static int model_grow(void *arr, size_t n, size_t size)
{
	void **p = arr;
	size_t cap;
	void *q;

	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;
	cap = n ? n * 2 : 4;
	if (cap > SIZE_MAX / size)
		return -1;
	q = realloc(*p, cap * size);
	if (!q)
		return -1;
	*p = q;
	return 0;
}

/* strdup that maps NULL to NULL; *ok is cleared when memory ran out. */
static char *model_dup(const char *s, int *ok)
{
	char *c;

	if (!s)
		return NULL;
	c = strdup(s);
	if (!c)
		*ok = 0;
	return c;
}

struct rm_doc *rm_doc_new(const char *title)
{
	struct rm_doc *d = calloc(1, sizeof(*d));
	int ok = 1;

	if (!d)
		return NULL;
	d->title = model_dup(title, &ok);
	if (!ok) {
		free(d);
		return NULL;
	}
	return d;
}

static void model_table_free(struct rm_table *t)
{
	size_t i;

	if (!t)
		return;
	free(t->title);
	for (i = 0; i < t->ncols; i++)
		free(t->cols[i].title);
	free(t->cols);
	for (i = 0; i < t->nrows * t->ncols; i++)
		free((char *)t->cells[i].text);
	free(t->cells);
	free(t->sheet);
	free(t);
}

static void model_block_free(struct rm_block *b)
{
	size_t i;

	free(b->text);
	for (i = 0; i < b->nkv; i++) {
		free(b->keys[i]);
		free(b->values[i]);
	}
	free(b->keys);
	free(b->values);
	model_table_free(b->table);
}

void rm_doc_free(struct rm_doc *d)
{
	size_t i, j;

	if (!d)
		return;
	for (i = 0; i < d->nsections; i++) {
		struct rm_section *s = &d->sections[i];

		for (j = 0; j < s->nblocks; j++)
			model_block_free(&s->blocks[j]);
		free(s->blocks);
		free(s->title);
		free(s->sheet);
	}
	free(d->sections);
	for (i = 0; i < d->nmeta; i++) {
		free(d->meta_keys[i]);
		free(d->meta_values[i]);
	}
	free(d->meta_keys);
	free(d->meta_values);
	free(d->title);
	free(d->ca_name);
	free(d->author);
	free(d->subject);
	free(d->as_of);
	free(d);
}

/* Replaces *field with a copy of value (NULL clears it). */
static int model_replace(char **field, const char *value)
{
	int ok = 1;
	char *c = model_dup(value, &ok);

	if (!ok)
		return -1;
	free(*field);
	*field = c;
	return 0;
}

int rm_doc_set(struct rm_doc *d, const char *ca_name, const char *author,
	       const char *subject, const char *as_of)
{
	if (model_replace(&d->ca_name, ca_name) < 0 ||
	    model_replace(&d->author, author) < 0 ||
	    model_replace(&d->subject, subject) < 0 ||
	    model_replace(&d->as_of, as_of) < 0)
		return -1;
	return 0;
}

/* Appends a key/value pair to two parallel arrays counted by *n. */
static int model_pair(char ***keys, char ***values, size_t *n, const char *key,
		      const char *value)
{
	int ok = 1;
	char *k, *v;

	if (model_grow(keys, *n, sizeof(**keys)) < 0 ||
	    model_grow(values, *n, sizeof(**values)) < 0)
		return -1;
	k = model_dup(key ? key : "", &ok);
	v = model_dup(value ? value : "", &ok);
	if (!ok) {
		free(k);
		free(v);
		return -1;
	}
	(*keys)[*n] = k;
	(*values)[*n] = v;
	(*n)++;
	return 0;
}

int rm_doc_meta(struct rm_doc *d, const char *key, const char *value)
{
	return model_pair(&d->meta_keys, &d->meta_values, &d->nmeta, key, value);
}

struct rm_section *rm_section(struct rm_doc *d, const char *title, const char *sheet)
{
	struct rm_section *s;
	int ok = 1;

	if (model_grow(&d->sections, d->nsections, sizeof(*d->sections)) < 0)
		return NULL;
	s = &d->sections[d->nsections];
	memset(s, 0, sizeof(*s));
	s->title = model_dup(title, &ok);
	s->sheet = model_dup(sheet, &ok);
	if (!ok) {
		free(s->title);
		free(s->sheet);
		return NULL;
	}
	d->nsections++;
	return s;
}

/* A new zeroed block at the end of s, or NULL. */
static struct rm_block *model_block(struct rm_section *s, enum rm_block_kind kind)
{
	struct rm_block *b;

	if (model_grow(&s->blocks, s->nblocks, sizeof(*s->blocks)) < 0)
		return NULL;
	b = &s->blocks[s->nblocks];
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	return b;
}

int rm_para(struct rm_section *s, const char *text)
{
	struct rm_block *b = model_block(s, RM_PARA);
	int ok = 1;

	if (!b)
		return -1;
	b->text = model_dup(text ? text : "", &ok);
	if (!ok)
		return -1;
	s->nblocks++;
	return 0;
}

int rm_kv(struct rm_section *s, const char *key, const char *value)
{
	struct rm_block *b;

	if (s->nblocks && s->blocks[s->nblocks - 1].kind == RM_KV) {
		b = &s->blocks[s->nblocks - 1];
		return model_pair(&b->keys, &b->values, &b->nkv, key, value);
	}
	b = model_block(s, RM_KV);
	if (!b)
		return -1;
	if (model_pair(&b->keys, &b->values, &b->nkv, key, value) < 0) {
		free(b->keys);
		free(b->values);
		return -1;
	}
	s->nblocks++;
	return 0;
}

struct rm_table *rm_table(struct rm_section *s, const char *title, size_t ncols,
			  const char *const *titles, const enum rm_type *types)
{
	struct rm_table *t = calloc(1, sizeof(*t));
	struct rm_block *b;
	int ok = 1;
	size_t i;

	if (!t)
		return NULL;
	t->title = model_dup(title, &ok);
	t->cols = calloc(ncols ? ncols : 1, sizeof(*t->cols));
	if (!t->cols)
		ok = 0;
	t->ncols = t->cols ? ncols : 0;
	for (i = 0; i < t->ncols; i++) {
		t->cols[i].title = model_dup(titles && titles[i] ? titles[i] : "", &ok);
		t->cols[i].type = types ? types[i] : RM_TEXT;
	}
	if (!ok || !(b = model_block(s, RM_TABLE))) {
		model_table_free(t);
		return NULL;
	}
	b->table = t;
	s->nblocks++;
	return t;
}

void rm_table_width(struct rm_table *t, size_t col, int width)
{
	if (col < t->ncols)
		t->cols[col].width = width;
}

int rm_row(struct rm_table *t)
{
	size_t i, base;

	if (t->nrows == t->caprows) {
		size_t cap = t->caprows ? t->caprows * 2 : 16;
		struct rm_cell *c;

		if (t->ncols && cap > SIZE_MAX / sizeof(*c) / t->ncols)
			return -1;
		c = realloc(t->cells, cap * (t->ncols ? t->ncols : 1) * sizeof(*c));
		if (!c)
			return -1;
		t->cells = c;
		t->caprows = cap;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i].text = NULL;
		t->cells[base + i].num = 0;
		t->cells[base + i].is_null = 1;
	}
	t->nrows++;
	return 0;
}

/* The cell col of the last stored row, or NULL when there is none. */
static struct rm_cell *model_cell(struct rm_table *t, size_t col)
{
	if (!t->nrows || col >= t->ncols)
		return NULL;
	return &t->cells[(t->nrows - 1) * t->ncols + col];
}

int rm_set_text(struct rm_table *t, size_t col, const char *text)
{
	struct rm_cell *c = model_cell(t, col);
	int ok = 1;
	char *copy;

	if (!c)
		return -1;
	copy = model_dup(text, &ok);
	if (!ok)
		return -1;
	free((char *)c->text);
	c->text = copy;
	c->is_null = copy == NULL;
	return 0;
}

int rm_set_num(struct rm_table *t, size_t col, double v)
{
	struct rm_cell *c = model_cell(t, col);

	if (!c)
		return -1;
	c->num = v;
	c->is_null = 0;
	return 0;
}

void rm_table_stream(struct rm_table *t, rm_next_fn next, rm_rewind_fn rewind, void *ctx)
{
	t->next = next;
	t->rewind = rewind;
	t->ctx = ctx;
}

void rm_table_detail(struct rm_table *t, const char *sheet)
{
	t->detail = 1;
	if (sheet)
		model_replace(&t->sheet, sheet);
}

void rm_iter_start(struct rm_iter *it, struct rm_table *t)
{
	it->t = t;
	it->row = 0;
	it->started = 0;
	it->ahead = NULL;
}

#define MODEL_BATCH 512        /* rows per batch read ahead */

/* Rows read ahead, their text copied into one arena. */
struct model_batch {
	struct rm_cell *cells;     /* MODEL_BATCH * ncols */
	size_t *off;               /* per cell: its text's offset in arena, SIZE_MAX: none */
	char *arena;
	size_t len, cap;
	size_t nrows;
	int rc;                    /* 1: more batches follow; 0: the end; -1: an error */
};

struct rm_ahead {
	struct rm_table *t;        /* borrowed */
	pthread_t th;
	pthread_mutex_t mu;        /* guards full[] and stop */
	pthread_cond_t cv;         /* full[] or stop changed */
	struct model_batch b[2];
	int full[2];               /* batch i is the caller's to read */
	int stop;                  /* the caller is done */
	int take;                  /* the batch the caller reads next */
	struct model_batch *cur;   /* the caller's batch, or NULL */
	size_t pos;                /* the next row in cur */
	struct rm_cell *row;       /* the reader's row from the source: ncols */
};

/* Appends row to b, its text copied. */
static int model_keep(struct model_batch *b, const struct rm_cell *row, size_t ncols)
{
	struct rm_cell *c = &b->cells[b->nrows * ncols];
	size_t *off = &b->off[b->nrows * ncols], i, n;

	for (i = 0; i < ncols; i++) {
		c[i] = row[i];
		off[i] = SIZE_MAX;
		if (!row[i].text)
			continue;
		n = strlen(row[i].text) + 1;
		if (b->len + n > b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 65536;
			char *p;

			while (cap < b->len + n)
				cap *= 2;
			p = realloc(b->arena, cap);
			if (!p)
				return -1;
			b->arena = p;
			b->cap = cap;
		}
		memcpy(b->arena + b->len, row[i].text, n);
		off[i] = b->len;
		b->len += n;
	}
	b->nrows++;
	return 0;
}

/* Fills b from the source, up to MODEL_BATCH rows. */
static void model_fill(struct rm_ahead *a, struct model_batch *b)
{
	size_t ncols = a->t->ncols, i;
	int rc = 1;

	b->nrows = 0;
	b->len = 0;
	while (b->nrows < MODEL_BATCH) {
		for (i = 0; i < ncols; i++) {
			a->row[i].text = NULL;
			a->row[i].num = 0;
			a->row[i].is_null = 0;
		}
		rc = a->t->next(a->t->ctx, a->row);
		if (rc != 1)
			break;
		if (model_keep(b, a->row, ncols) < 0) {
			rc = -1;
			break;
		}
	}
	/* pointers only now: the arena moves as it grows */
	for (i = 0; i < b->nrows * ncols; i++)
		b->cells[i].text = b->off[i] == SIZE_MAX ? NULL : b->arena + b->off[i];
	b->rc = rc == 1 ? 1 : rc < 0 ? -1 : 0;
}

static void *model_reader(void *arg)
{
	struct rm_ahead *a = arg;
	int fill = 0, rewound = !a->t->rewind || a->t->rewind(a->t->ctx) == 0, stop, rc;

	for (;;) {
		pthread_mutex_lock(&a->mu);
		while (a->full[fill] && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		stop = a->stop;
		pthread_mutex_unlock(&a->mu);
		if (stop)
			break;
		if (rewound) {
			model_fill(a, &a->b[fill]);
		} else {
			a->b[fill].nrows = 0;
			a->b[fill].rc = -1;
		}
		rc = a->b[fill].rc;
		pthread_mutex_lock(&a->mu);
		a->full[fill] = 1;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		if (rc != 1)
			break;
		fill ^= 1;
	}
	return NULL;
}

static void model_ahead_free(struct rm_ahead *a)
{
	int i;

	for (i = 0; i < 2; i++) {
		free(a->b[i].cells);
		free(a->b[i].off);
		free(a->b[i].arena);
	}
	free(a->row);
	free(a);
}

void rm_iter_start_ahead(struct rm_iter *it, struct rm_table *t)
{
	struct rm_ahead *a;
	int i, ok;

	rm_iter_start(it, t);
	if (!t->next || !t->ncols || t->ncols > SIZE_MAX / MODEL_BATCH / sizeof(struct rm_cell))
		return;
	a = calloc(1, sizeof(*a));
	if (!a)
		return;
	a->t = t;
	a->row = calloc(t->ncols, sizeof(*a->row));
	ok = a->row != NULL;
	for (i = 0; i < 2 && ok; i++) {
		a->b[i].cells = calloc(MODEL_BATCH * t->ncols, sizeof(*a->b[i].cells));
		a->b[i].off = calloc(MODEL_BATCH * t->ncols, sizeof(*a->b[i].off));
		ok = a->b[i].cells && a->b[i].off;
	}
	if (!ok || pthread_mutex_init(&a->mu, NULL) != 0) {
		model_ahead_free(a);
		return;
	}
	if (pthread_cond_init(&a->cv, NULL) != 0) {
		pthread_mutex_destroy(&a->mu);
		model_ahead_free(a);
		return;
	}
	if (pthread_create(&a->th, NULL, model_reader, a) != 0) {
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		model_ahead_free(a);
		return;
	}
	it->ahead = a;
	it->started = 1;
}

/* The caller's side: hands a read batch back when done with it. */
static int model_ahead_next(struct rm_ahead *a, struct rm_cell *cells)
{
	size_t ncols = a->t->ncols;

	while (!a->cur || a->pos == a->cur->nrows) {
		if (a->cur) {
			if (a->cur->rc != 1)
				return a->cur->rc;
			pthread_mutex_lock(&a->mu);
			a->full[a->take] = 0;
			a->take ^= 1;
			pthread_cond_broadcast(&a->cv);
			pthread_mutex_unlock(&a->mu);
			a->cur = NULL;
		}
		pthread_mutex_lock(&a->mu);
		while (!a->full[a->take])
			pthread_cond_wait(&a->cv, &a->mu);
		pthread_mutex_unlock(&a->mu);
		a->cur = &a->b[a->take];
		a->pos = 0;
	}
	memcpy(cells, &a->cur->cells[a->pos * ncols], ncols * sizeof(*cells));
	a->pos++;
	return 1;
}

void rm_iter_end(struct rm_iter *it)
{
	struct rm_ahead *a = it->ahead;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	model_ahead_free(a);
	it->ahead = NULL;
}

int rm_iter_next(struct rm_iter *it, struct rm_cell *cells)
{
	struct rm_table *t = it->t;
	size_t i;

	if (it->ahead)
		return model_ahead_next(it->ahead, cells);
	if (t->next) {
		/* A stream may have been read by an earlier pass or writer. */
		if (!it->started && t->rewind && t->rewind(t->ctx) < 0)
			return -1;
		it->started = 1;
		/* A source need not touch the cells it leaves empty. */
		for (i = 0; i < t->ncols; i++) {
			cells[i].text = NULL;
			cells[i].num = 0;
			cells[i].is_null = 0;
		}
		return t->next(t->ctx, cells);
	}
	it->started = 1;
	if (it->row >= t->nrows)
		return 0;
	memcpy(cells, &t->cells[it->row * t->ncols], t->ncols * sizeof(*cells));
	it->row++;
	return 1;
}

void rm_kv_first(struct rm_section *s)
{
	struct rm_block last;
	size_t at = 0;

	if (s->nblocks < 2 || s->blocks[s->nblocks - 1].kind != RM_KV)
		return;
	while (at < s->nblocks - 1 && s->blocks[at].kind == RM_PARA)
		at++;
	last = s->blocks[s->nblocks - 1];
	memmove(&s->blocks[at + 1], &s->blocks[at], (s->nblocks - 1 - at) * sizeof(last));
	s->blocks[at] = last;
}
