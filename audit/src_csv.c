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
 */
#include "ingest.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvmap.h"
#include "events.h"
#include "log.h"
#include "pathglob.h"
#include "timeutil.h"

/* CSV_STRICT_FINI: a quoted field still open at the end of the file is an
 * error, not a field that silently swallowed every line after its quote. */
#define CSV_OPTIONS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)

/* One export being read. */
struct csv_job {
	struct ingest_ctx *ctx;
	struct ingest_file *f;
	const struct csvmap *map;
	struct err *e;
	struct strlist header;  /* names of the header row, decoded */
	size_t *col;            /* per mapping column: its index in the header */
	struct strlist row;     /* fields of the row being read */
	long row_line;          /* physical line the row started on, 0 between rows */
	int skip_row;           /* the row had undecodable bytes: already rejected */
	int rc;                 /* -1 once a callback failed (e is set) */
};

/* The header row: every mapped column must be in it. */
static int take_header(struct csv_job *job)
{
	const struct csvmap *m = job->map;

	job->header = job->row;
	memset(&job->row, 0, sizeof job->row);
	if (!(job->col = calloc(m->n_columns ? m->n_columns : 1, sizeof *job->col)))
		return err_set(job->e, CA_EINTERNAL, job->f->source, 0, 0, "out of memory");
	for (size_t i = 0; i < m->n_columns; i++) {
		size_t j;

		for (j = 0; j < job->header.n && strcmp(job->header.v[j], m->columns[i].header); j++)
			;
		if (j == job->header.n)
			return err_set(job->e, CA_EINPUT, job->f->source, (int)job->row_line, 0,
				       "the header has no column '%s', which the mapping '%s' maps "
				       "to '%s'", m->columns[i].header, m->file, m->columns[i].field);
		job->col[i] = j;
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

/* Fills ev/app from the row; the reason in why on failure. */
static int map_row(struct csv_job *job, struct event_rec *ev, struct app_rec *app,
		   char *why, size_t n)
{
	const struct csvmap *m = job->map;

	for (size_t i = 0; i < m->n_columns; i++) {
		const char *field = m->columns[i].field, *raw = job->row.v[job->col[i]];
		char **slot = events_field(ev, app, field), utc[20];
		struct err te = {0};

		if (events_is_list(field)) {
			free(*slot);
			if (!(*slot = list_value(m, field, raw)))
				return snprintf(why, n, "out of memory"), -1;
			continue;
		}
		if (!*raw)
			continue;
		if (!strcmp(field, "at")) {
			if (m->time_format ? time_parse_fmt(raw, m->time_format, m->time_zone, utc, &te)
					   : time_to_utc(raw, utc, &te))
				return snprintf(why, n, "field 'at' (column '%.200s'): %.500s",
						m->columns[i].header, te.msg), -1;
			set_str(slot, utc);
		} else {
			set_str(slot, csvmap_value_of(m, field, raw));
		}
	}
	return events_validate(ev, app, why, n);
}

static int take_row(struct csv_job *job)
{
	struct event_rec ev = {0};
	struct app_rec app = {0};
	char why[768];
	int added = 0, rc = 0;

	if (job->row.n != job->header.n)
		return ingest_reject(job->ctx, job->f, job->row_line, job->e,
				     "expected %zu columns as in the header, found %zu",
				     job->header.n, job->row.n);
	if (map_row(job, &ev, &app, why, sizeof why)) {
		rc = ingest_reject(job->ctx, job->f, job->row_line, job->e, "%s", why);
		goto out;
	}
	set_str(&ev.source, job->f->source);
	ev.line = job->row_line;
	if (store_put_event(job->ctx->st, &ev, &added, job->e) ||
	    (app.app && store_put_application(job->ctx->st, &app, NULL, job->e))) {
		rc = -1;
		goto out;
	}
	ingest_count(job->ctx, job->f, added);
out:
	event_rec_clear(&ev);
	app_rec_clear(&app);
	return rc;
}

static void on_field(void *s, size_t len, void *data)
{
	struct csv_job *job = data;
	char *copy;

	if (job->rc)
		return;
	/* trimmed: exports pad cells, and no canonical value has edge blanks */
	while (len && (((char *)s)[len - 1] == ' ' || ((char *)s)[len - 1] == '\t'))
		len--;
	while (len && (*(char *)s == ' ' || *(char *)s == '\t'))
		s = (char *)s + 1, len--;
	copy = strndup(s ? s : "", len);
	if (!copy || strlist_push(&job->row, copy))
		job->rc = err_set(job->e, CA_EINTERNAL, job->f->source, 0, 0, "out of memory");
	free(copy);
}

static void on_row(int c, void *data)
{
	struct csv_job *job = data;

	(void)c;
	if (!job->rc && !job->skip_row)
		job->rc = job->header.n ? take_row(job) : take_header(job);
	strlist_free(&job->row);
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

static int feed_line(struct csv_job *job, struct csv_parser *p, iconv_t cd, long lineno,
		     char *text, size_t len, char **dec, size_t *cap)
{
	size_t n = 0;
	long bad = decode(cd, text, len, dec, cap, &n);

	if (bad == -2)
		return err_set(job->e, CA_EINTERNAL, job->f->source, 0, 0, "out of memory");
	if (!job->row_line)
		job->row_line = lineno;
	if (bad >= 0) {
		if (job->row.n)
			job->skip_row = 1;
		else
			job->row_line = 0;
		return ingest_reject(job->ctx, job->f, lineno, job->e,
				     "bytes invalid in the mapping's encoding '%s' at byte %ld of "
				     "the line", job->map->encoding, bad + 1);
	}
	if (lineno == 1 && n >= 3 && !memcmp(*dec, "\xEF\xBB\xBF", 3))
		memmove(*dec, *dec + 3, n -= 3);
	(*dec)[n++] = '\n';
	if (csv_parse(p, *dec, n, on_field, on_row, job) != n) {
		long at = job->row_line;
		const char *why = csv_strerror(csv_error(p));

		strlist_free(&job->row);
		job->row_line = 0;
		csv_free(p);
		csv_init(p, CSV_OPTIONS);
		csv_set_delim(p, (unsigned char)job->map->delimiter);
		return ingest_reject(job->ctx, job->f, at, job->e, "malformed CSV: %s", why);
	}
	return job->rc;
}

static int read_stream(struct csv_job *job, FILE *fp, iconv_t cd)
{
	struct csv_parser p;
	char *buf = NULL, *dec = NULL;
	size_t cap = 0, dcap = 0;
	ssize_t got;
	long lineno = 0;
	int rc = 0;

	if (csv_init(&p, CSV_OPTIONS))
		return err_set(job->e, CA_EINTERNAL, job->f->source, 0, 0, "out of memory");
	csv_set_delim(&p, (unsigned char)job->map->delimiter);
	while (!rc && (got = getline(&buf, &cap, fp)) >= 0) {
		size_t len = (size_t)got;

		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
		rc = feed_line(job, &p, cd, ++lineno, buf, len, &dec, &dcap);
	}
	if (!rc && ferror(fp))
		rc = err_set(job->e, CA_EIO, job->f->source, (int)lineno + 1, 0,
			     "unable to read: %s", strerror(errno));
	if (!rc && csv_fini(&p, on_field, on_row, job)) {
		/* say which lines went into the rejected record, so that none is
		 * lost without a word */
		if (job->row_line && job->row_line < lineno)
			rc = ingest_reject(job->ctx, job->f, job->row_line, job->e,
					   "malformed CSV: a quoted field is not closed at the end "
					   "of the file (lines %ld-%ld rejected as one record)",
					   job->row_line, lineno);
		else
			rc = ingest_reject(job->ctx, job->f, job->row_line, job->e,
					   "malformed CSV: a quoted field is not closed at the end "
					   "of the file");
	}
	if (!rc)
		rc = job->rc;
	if (!rc && !job->header.n)
		warnf("%s: no header row: nothing read", job->f->source);
	csv_free(&p);
	free(buf);
	free(dec);
	return rc;
}

static int ingest_csv_file(struct ingest_ctx *ctx, const struct csvmap *map,
			   const char *path, struct err *e)
{
	struct ingest_file f;
	struct csv_job job = {.ctx = ctx, .f = &f, .map = map, .e = e};
	iconv_t cd;
	FILE *fp;
	int rc = ingest_file_begin(ctx, path, "events", "csv", &f, e);

	if (rc)
		return rc > 0 ? 0 : -1;
	cd = iconv_open("UTF-8", map->encoding);
	if (cd == (iconv_t)-1) {
		err_set(e, CA_EINPUT, map->file, 0, 0, "encoding '%s' is not available: %s",
			map->encoding, strerror(errno));
		ingest_file_abort(ctx, &f);
		return -1;
	}
	if (!(fp = fopen(f.path, "rb"))) {
		rc = err_set(e, CA_EIO, f.source, 0, 0, "unable to open: %s", strerror(errno));
	} else {
		rc = read_stream(&job, fp, cd);
		fclose(fp);
	}
	iconv_close(cd);
	strlist_free(&job.header);
	strlist_free(&job.row);
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
