/*
 * src_csv.c — the `csv` event source: RA events exported as CSV, read
 * through a mapping file (csvmap.h, DESIGN §5) into the same event and
 * application rows as the JSON Lines source, with the same validation
 * (events.h).
 *
 * The export is streamed one physical line at a time: each line is decoded
 * from the mapping's encoding to UTF-8 with iconv(3) — GB18030 and GBK never
 * use the byte 0x0A inside a character, so splitting on it first is safe —
 * and fed to libcsv, which joins quoted fields that span lines. A line whose
 * bytes are invalid in the declared encoding is rejected with its number and
 * the byte offset, and so is the row it belongs to. The first row is the
 * header; the mapping's columns are found in it by name, in any order.
 *
 * As in the JSON Lines source, the rows are mapped and checked by several
 * workers (ingest_pipe_run_par) and stored by the calling thread in the
 * file's order, so that rows, rowids and rejects are those of one thread.
 */
#include "ingest.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvmap.h"
#include "events.h"
#include "log.h"
#include "pathglob.h"
#include "sbuf.h"
#include "timeutil.h"

/* CSV_STRICT_FINI: a quoted field still open at the end of the file is an
 * error, not a field that silently swallowed every line after its quote. */
#define CSV_OPTIONS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)

/* The fields of a row, one after another in one block, each ending in a
 * NUL: two allocations a row, where a string each made malloc and free a
 * fifth of the source's time. */
struct csv_row {
	struct sbuf text;
	size_t *at;  /* where each field starts in text */
	size_t n, ncap;
};

static const char *row_field(const struct csv_row *r, size_t i)
{
	return r->text.s + r->at[i];
}

static int row_push(struct csv_row *r, const char *s, size_t len)
{
	if (r->n == r->ncap) {
		size_t cap = r->ncap ? r->ncap * 2 : 32;
		size_t *at = realloc(r->at, cap * sizeof *at);

		if (!at)
			return -1;
		r->at = at;
		r->ncap = cap;
	}
	r->at[r->n] = r->text.n;
	/* the field, and the NUL that ends it */
	if (sbuf_add(&r->text, s, len) || sbuf_add(&r->text, "", 1))
		return -1;
	r->n++;
	return 0;
}

static void row_free(struct csv_row *r)
{
	sbuf_free(&r->text);
	free(r->at);
	memset(r, 0, sizeof *r);
}

/* One export being read. The reading half (csv_next: one worker at a time)
 * owns the parser state below; the mapping half (csv_work: any worker) only
 * reads map, header and col, which the header row fixes before any row is
 * handed on; the storing half (csv_consume: the calling thread) alone
 * touches the store, the counters and the log. */
struct csv_job {
	struct ingest_ctx *ctx;
	struct ingest_file *f;
	const struct csvmap *map;
	FILE *fp;
	iconv_t cd;
	struct csv_parser parser;
	char *buf, *dec;        /* getline's line, and the line decoded */
	size_t cap, dcap;
	long lineno;            /* the last physical line read */
	struct csv_row header;  /* names of the header row, decoded */
	struct csv_col *col;    /* per mapping column, from the header */
	struct csv_row row;     /* fields of the row being read */
	long row_line;          /* physical line the row started on, 0 between rows */
	int skip_row;           /* the row had undecodable bytes: already rejected */
	struct csv_item *head, *tail; /* items made by the last line, in order */
	int finished;           /* the last item has been queued */
	int oom;                /* ... because memory ran out */
	struct err fail;        /* what stops the file: a header without a mapped
				   column, a read error */
};

/* A mapping column as the header places it, worked out once for all rows. */
struct csv_col {
	size_t at;   /* its index in the header */
	int slot;    /* its field's index in events_fields (events_slot) */
	int list;    /* the field is a list (events_is_list) */
	int time;    /* the field is 'at' */
	int mapped;  /* the mapping translates values of the field */
};

/* What the reader found: a row to map (CI_ROW, made CI_EVENT or CI_REJECT
 * by a worker, CI_OOM when that ran out of memory), a line or row it
 * rejected itself, or the failure that stops the file. */
struct csv_item {
	enum { CI_ROW, CI_EVENT, CI_REJECT, CI_FAIL, CI_OOM } kind;
	long line;              /* where the row started */
	struct csv_row row;     /* CI_ROW */
	struct event_rec ev;    /* CI_EVENT */
	struct app_rec app;
	char *reason;           /* CI_REJECT */
	struct csv_item *next;
};

/* The header row: every mapped column must be in it. */
static int take_header(struct csv_job *job)
{
	const struct csvmap *m = job->map;

	job->header = job->row;
	memset(&job->row, 0, sizeof job->row);
	if (!(job->col = calloc(m->n_columns ? m->n_columns : 1, sizeof *job->col)))
		return job->oom = 1, -1;
	for (size_t i = 0; i < m->n_columns; i++) {
		size_t j;

		for (j = 0; j < job->header.n &&
			    strcmp(row_field(&job->header, j), m->columns[i].header); j++)
			;
		if (j == job->header.n)
			return err_set(&job->fail, CA_EINPUT, job->f->source, (int)job->row_line, 0,
				       "the header has no column '%s', which the mapping '%s' maps "
				       "to '%s'", m->columns[i].header, m->file, m->columns[i].field);
		job->col[i] = (struct csv_col){.at = j,
					       .slot = events_field_index(m->columns[i].field),
					       .list = events_is_list(m->columns[i].field),
					       .time = !strcmp(m->columns[i].field, "at")};
		for (size_t k = 0; k < m->n_values && !job->col[i].mapped; k++)
			job->col[i].mapped = !strcmp(m->values[k].field, m->columns[i].field);
	}
	return 0;
}

/* A list cell: split on the mapping's separator, each item mapped, joined
 * with commas as the store keeps lists. */
static char *list_value(const struct csvmap *m, const char *field, const char *raw)
{
	const char *sep = csvmap_list_sep(m, field), *p = raw;
	size_t cap = strlen(raw) * 4 + 64, used = 0, slen;
	char *out = malloc(cap), item[256];

	if (!sep)
		sep = ",";
	slen = strlen(sep);
	if (!out)
		return NULL;
	out[0] = '\0';
	while (*p) {
		const char *end = strstr(p, sep);
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *v;

		snprintf(item, sizeof item, "%.*s", (int)len, p);
		v = csvmap_value_of(m, field, item);
		if (used + strlen(v) + 2 < cap)
			used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "", v);
		p = end ? end + slen : p + len;
	}
	return out;
}

/* Fills ev/app from a row; the reason in why on failure. Times in the
 * mapping's format are read in the process's zone, which ingest_csv_file
 * sets to the mapping's for the file. */
static int map_row(const struct csv_job *job, const struct csv_row *row, struct event_rec *ev,
		   struct app_rec *app, char *why, size_t n)
{
	const struct csvmap *m = job->map;

	for (size_t i = 0; i < m->n_columns; i++) {
		const struct csv_col *c = &job->col[i];
		const char *field = m->columns[i].field, *raw = row_field(row, c->at);
		char **slot = events_slot(ev, app, c->slot), utc[20];
		struct err te = {0};

		if (c->list) {
			free(*slot);
			if (!(*slot = list_value(m, field, raw)))
				return snprintf(why, n, "out of memory"), -1;
			continue;
		}
		if (!*raw)
			continue;
		if (c->time) {
			if (m->time_format ? time_parse_fmt(raw, m->time_format, NULL, utc, &te)
					   : time_to_utc(raw, utc, &te))
				return snprintf(why, n, "field 'at' (column '%.200s'): %.500s",
						m->columns[i].header, te.msg), -1;
			set_str(slot, utc);
		} else {
			set_str(slot, c->mapped ? csvmap_value_of(m, field, raw) : raw);
		}
	}
	return events_validate(ev, app, why, n);
}

/* Appends an item of kind to the reader's queue; NULL (job->oom set) when
 * memory ran out. */
static struct csv_item *queue(struct csv_job *job, int kind, long line)
{
	struct csv_item *it = calloc(1, sizeof *it);

	if (!it) {
		job->oom = 1;
		return NULL;
	}
	it->kind = kind;
	it->line = line;
	if (job->tail)
		job->tail->next = it;
	else
		job->head = it;
	job->tail = it;
	return it;
}

static void queue_reject(struct csv_job *job, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void queue_reject(struct csv_job *job, long line, const char *fmt, ...)
{
	struct csv_item *it = queue(job, CI_REJECT, line);
	va_list ap;

	if (!it)
		return;
	va_start(ap, fmt);
	if (vasprintf(&it->reason, fmt, ap) < 0) {
		it->reason = NULL;
		job->oom = 1;
	}
	va_end(ap);
}

static void on_field(void *s, size_t len, void *data)
{
	struct csv_job *job = data;

	if (job->oom)
		return;
	/* trimmed: exports pad cells, and no canonical value has edge blanks */
	while (len && (((char *)s)[len - 1] == ' ' || ((char *)s)[len - 1] == '\t'))
		len--;
	while (len && (*(char *)s == ' ' || *(char *)s == '\t'))
		s = (char *)s + 1, len--;
	if (row_push(&job->row, s ? s : "", len))
		job->oom = 1;
}

/* A row is complete: the first is the header, the others are queued for
 * the workers. */
static void on_row(int c, void *data)
{
	struct csv_job *job = data;
	struct csv_item *it;

	(void)c;
	if (job->oom || job->fail.kind || job->skip_row) {
		/* nothing: the row was rejected, or the file stops */
	} else if (!job->header.n) {
		take_header(job);
	} else if ((it = queue(job, CI_ROW, job->row_line))) {
		it->row = job->row;
		memset(&job->row, 0, sizeof job->row);
	}
	row_free(&job->row);
	job->row_line = 0;
	job->skip_row = 0;
}

/* Decodes one line into *out; returns the offset of the first invalid
 * byte, or -1 when the line decoded. */
static long decode(iconv_t cd, char *in, size_t len, char **out, size_t *cap,
		   size_t *out_len)
{
	char *ip = in, *op;
	size_t il = len, ol;

	if (*cap < len * 4 + 8) {
		char *nb = realloc(*out, len * 4 + 8);
		if (!nb)
			return -2;
		*out = nb;
		*cap = len * 4 + 8;
	}
	op = *out;
	ol = *cap;
	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
		return ip - in;
	*out_len = (size_t)(op - *out);
	return -1;
}

/* Decodes a physical line and feeds it to libcsv, which calls on_row when
 * it completes a row. */
static void feed_line(struct csv_job *job, char *text, size_t len)
{
	size_t n = 0;
	long lineno = job->lineno, bad = decode(job->cd, text, len, &job->dec, &job->dcap, &n);

	if (bad == -2) {
		job->oom = 1;
		return;
	}
	if (!job->row_line)
		job->row_line = lineno;
	if (bad >= 0) {
		if (job->row.n)
			job->skip_row = 1;
		else
			job->row_line = 0;
		queue_reject(job, lineno, "bytes invalid in the mapping's encoding '%s' at byte "
			     "%ld of the line", job->map->encoding, bad + 1);
		return;
	}
	if (lineno == 1 && n >= 3 && !memcmp(job->dec, "\xEF\xBB\xBF", 3))
		memmove(job->dec, job->dec + 3, n -= 3);
	job->dec[n++] = '\n';
	if (csv_parse(&job->parser, job->dec, n, on_field, on_row, job) != n) {
		long at = job->row_line;

		queue_reject(job, at, "malformed CSV: %s",
			     csv_strerror(csv_error(&job->parser)));
		row_free(&job->row);
		job->row_line = 0;
		csv_free(&job->parser);
		csv_init(&job->parser, CSV_OPTIONS);
		csv_set_delim(&job->parser, (unsigned char)job->map->delimiter);
	}
}

/* The end of the file: a quoted field still open rejects its row, saying
 * which lines went into it, so that none is lost without a word. */
static void finish(struct csv_job *job)
{
	long last = job->lineno;

	if (!csv_fini(&job->parser, on_field, on_row, job))
		return;
	if (job->row_line && job->row_line < last)
		queue_reject(job, job->row_line, "malformed CSV: a quoted field is not closed at"
			     " the end of the file (lines %ld-%ld rejected as one record)",
			     job->row_line, last);
	else
		queue_reject(job, job->row_line, "malformed CSV: a quoted field is not closed at"
			     " the end of the file");
}

/* One worker at a time: the next item, reading lines until one is queued;
 * NULL after the last. */
static void *csv_next(void *arg)
{
	struct csv_job *job = arg;
	struct csv_item *it;

	while (!job->head && !job->finished) {
		ssize_t got;

		if (job->oom || job->fail.kind) {
			job->finished = 1;
		} else if ((got = ingest_getline(&job->buf, &job->cap, job->fp)) >= 0) {
			size_t len = (size_t)got;

			while (len && (job->buf[len - 1] == '\n' || job->buf[len - 1] == '\r'))
				len--;
			job->lineno++;
			feed_line(job, job->buf, len);
		} else {
			if (got == -2)
				err_set(&job->fail, CA_EIO, job->f->source, (int)job->lineno + 1, 0,
					"unable to read: %s", strerror(errno));
			else
				finish(job);
			job->finished = 1;
		}
		if (job->finished && job->fail.kind)
			queue(job, CI_FAIL, job->lineno);
	}
	if ((it = job->head) && !(job->head = it->next))
		job->tail = NULL;
	return it;
}

/* Any worker: maps a row into an event, or the reason to reject it. */
static void csv_work(void *item, void *arg, unsigned worker)
{
	struct csv_item *it = item;
	const struct csv_job *job = arg;
	char why[768];

	(void)worker;
	if (it->kind != CI_ROW)
		return;
	if (it->row.n != job->header.n) {
		if (asprintf(&it->reason, "expected %zu columns as in the header, found %zu",
			     job->header.n, it->row.n) < 0) {
			it->reason = NULL;
			it->kind = CI_OOM;
			return;
		}
		it->kind = CI_REJECT;
	} else if (map_row(job, &it->row, &it->ev, &it->app, why, sizeof why)) {
		event_rec_clear(&it->ev);
		app_rec_clear(&it->app);
		it->kind = (it->reason = strdup(why)) ? CI_REJECT : CI_OOM;
	} else {
		set_str(&it->ev.source, job->f->source);
		it->ev.line = it->line;
		it->kind = it->ev.source ? CI_EVENT : CI_OOM;
	}
	row_free(&it->row);
}

/* This thread: stores or rejects one row, in the file's order. -1 for what
 * stops the file: the reader's failure, a store failure, a reject under
 * --strict. */
static int csv_consume(void *item, void *arg, struct err *e)
{
	struct csv_item *it = item;
	struct csv_job *job = arg;
	int added = 0;

	switch (it->kind) {
	case CI_FAIL:
		if (e)
			*e = job->fail;
		return -1;
	case CI_REJECT:
		return ingest_reject(job->ctx, job->f, it->line, e, "%s", it->reason);
	case CI_EVENT:
		if (store_put_event(job->ctx->st, &it->ev, &added, e) ||
		    (it->app.app && store_put_application(job->ctx->st, &it->app, NULL, e)))
			return -1;
		ingest_count(job->ctx, job->f, added);
		return 0;
	default: /* CI_ROW is never passed on unmapped; CI_OOM */
		return err_set(e, CA_EINTERNAL, job->f->source, (int)it->line, 0, "out of memory");
	}
}

static void csv_drop(void *item)
{
	struct csv_item *it = item;

	row_free(&it->row);
	event_rec_clear(&it->ev);
	app_rec_clear(&it->app);
	free(it->reason);
	free(it);
}

static int read_stream(struct csv_job *job, struct err *e)
{
	int rc;

	if (csv_init(&job->parser, CSV_OPTIONS))
		return err_set(e, CA_EINTERNAL, job->f->source, 0, 0, "out of memory");
	csv_set_delim(&job->parser, (unsigned char)job->map->delimiter);
	rc = ingest_pipe_run_par(csv_next, csv_work, job, csv_consume, job, csv_drop, e);
	if (!rc && job->oom)
		rc = err_set(e, CA_EINTERNAL, job->f->source, 0, 0, "out of memory");
	if (!rc && !job->header.n)
		warnf("%s: no header row: nothing read", job->f->source);
	while (job->head) {
		struct csv_item *it = job->head;

		job->head = it->next;
		csv_drop(it);
	}
	csv_free(&job->parser);
	row_free(&job->row);
	free(job->buf);
	free(job->dec);
	return rc;
}

static int ingest_csv_file(struct ingest_ctx *ctx, const struct csvmap *map,
			   const char *path, struct err *e)
{
	struct ingest_file f;
	struct csv_job job = {.ctx = ctx, .f = &f, .map = map};
	char zone[128];
	int rc = ingest_file_begin(ctx, path, "events", "csv", &f, e);

	if (rc)
		return rc > 0 ? 0 : -1;
	job.cd = iconv_open("UTF-8", map->encoding);
	if (job.cd == (iconv_t)-1) {
		err_set(e, CA_EINPUT, map->file, 0, 0, "encoding '%s' is not available: %s",
			map->encoding, strerror(errno));
		ingest_file_abort(ctx, &f);
		return -1;
	}
	/* the mapping's zone (checked when it was loaded) is the process's for
	 * the file: the workers read times without switching zones per row */
	snprintf(zone, sizeof zone, "%s", time_zone());
	if (map->time_zone && time_set_zone(map->time_zone, e)) {
		rc = -1;
	} else if (!(job.fp = fopen(f.path, "rb"))) {
		rc = err_set(e, CA_EIO, f.source, 0, 0, "unable to open: %s", strerror(errno));
	} else {
		rc = read_stream(&job, e);
		fclose(job.fp);
	}
	if (map->time_zone && time_set_zone(zone, rc ? NULL : e))
		rc = -1;
	iconv_close(job.cd);
	row_free(&job.header);
	free(job.col);
	if (rc) {
		ingest_file_abort(ctx, &f);
		return -1;
	}
	return ingest_file_end(ctx, &f, e);
}

int src_csv(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e)
{
	const struct config *cfg = ctx->cfg;
	struct strlist files = {0};
	struct csvmap *map = NULL;
	char *pattern = NULL, *mpath = NULL;
	int rc = 0;

	if (!src->path || !src->mapping)
		return err_set(e, CA_EINPUT, cfg->path, src->line, 0,
			       "source of type 'csv' needs a 'path' and a 'mapping'");
	if (cfg->timezone && strcmp(time_zone(), cfg->timezone) &&
	    time_set_zone(cfg->timezone, e))
		return -1;
	if (!(pattern = config_path(cfg, src->path)) || !(mpath = config_path(cfg, src->mapping)))
		rc = err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
	if (!rc)
		rc = csvmap_load(mpath, &map, e);
	if (!rc)
		rc = pathglob(pattern, &files, e);
	if (!rc && !files.n)
		warnf("events source '%s' matches no file", src->path);
	for (size_t i = 0; !rc && i < files.n; i++)
		rc = ingest_csv_file(ctx, map, files.v[i], e);
	csvmap_free(map);
	strlist_free(&files);
	free(pattern);
	free(mpath);
	return rc;
}
