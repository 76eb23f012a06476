/*
 * src_jsonl.c — the canonical RA event log (DESIGN §5): one JSON object per
 * line, read with jansson into the store's `event` table, and `application`
 * from each `apply` event.
 *
 * Each line is checked against §5 before anything is stored: the kind, its
 * required fields, the type of every known field and the enumerated values.
 * A line that fails is rejected with a reason naming the field and what was
 * expected (ingest_reject); the file goes on, unless --strict. Fields a kind
 * does not require are still read when present, so that RA systems that log
 * more (an actor on every event, the app on a revoke) lose nothing; fields
 * §5 does not know are ignored. Values are normalised here: times to UTC,
 * serials to OpenSSL's uppercase hex, identity numbers to upper case.
 */
#include "ingest.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "jsonarena.h"
#include "log.h"
#include "pathglob.h"
#include "timeutil.h"

/* The kinds, fields and values of §5 are events.h's, shared with the CSV
 * source. */

/* One line being read: the parsed object, the kind, and the reason when the
 * line must be rejected. The strings of ev and app are not each malloc'd:
 * they are copied into space, the line's own buffer, which jansson no
 * longer needs once the object is parsed (jl_item says why it is large
 * enough). */
struct line {
	json_t *obj;                 /* borrowed from the caller */
	const struct events_kind *kind;
	struct event_rec ev;         /* its strings in space */
	struct app_rec app;          /* for apply; its strings in space */
	char *space, *end;           /* where the next string goes; its end */
	char reason[768];
};

static int bad(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->reason, sizeof l->reason, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* The member key of obj; NULL when absent or null (exports write null for
 * an empty column). */
static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

/* n bytes of the line's space. The space holds every value a line can give
 * (see JL_SPACE_SLACK); should it not, the line is rejected (NULL), never
 * cut short. */
static char *reserve(struct line *l, size_t n)
{
	char *p = l->space;

	if (n > (size_t)(l->end - l->space)) {
		bad(l, "the line's values do not fit the space read for them"
		    " (%zu bytes more); please report this",
		    n - (size_t)(l->end - l->space));
		return NULL;
	}
	l->space += n;
	return p;
}

/* Copies s (NULL stays NULL) into the line's space as *dst. */
static int keep(struct line *l, char **dst, const char *s)
{
	size_t n;

	if (!s) {
		*dst = NULL;
		return 0;
	}
	n = strlen(s) + 1;
	if (!(*dst = reserve(l, n)))
		return -1;
	memcpy(*dst, s, n);
	return 0;
}

static int missing(struct line *l, const char *field)
{
	return bad(l, "missing required field '%s' for kind '%s'", field, l->kind->name);
}

/* A string member: *out stays NULL when absent and not required. name is the
 * field as the user sees it (dotted for nested fields). */
static int get_str(struct line *l, json_t *obj, const char *key, const char *name,
		   int required, const char **out)
{
	json_t *v = member(obj, key);

	*out = NULL;
	if (!v)
		return required ? missing(l, name) : 0;
	if (!json_is_string(v))
		return bad(l, "field '%s': expected a string, found %s", name, json_kind(v));
	if (required && !*json_string_value(v))
		return bad(l, "field '%s': expected a non-empty string, found ''", name);
	*out = json_string_value(v);
	return 0;
}

static int get_copy(struct line *l, json_t *obj, const char *key, const char *name,
		    int required, char **dst)
{
	const char *s;

	if (get_str(l, obj, key, name, required, &s))
		return -1;
	return keep(l, dst, s);
}

static int get_enum(struct line *l, json_t *obj, const char *key, const char *name,
		    int required, const char *const *allowed, char **dst)
{
	const char *s;
	char names[256];

	if (get_str(l, obj, key, name, required, &s))
		return -1;
	if (!s)
		return 0;
	if (!events_in_list(s, allowed)) {
		events_join_names(allowed, names, sizeof names);
		return bad(l, "field '%s': expected one of %s, found '%s'", name, names, s);
	}
	return keep(l, dst, s);
}

static int listed(const char *csv, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = csv; *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
		if (!strncmp(p, name, n) && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

/* A list as an array of known names, stored comma separated without
 * repeats, in the order given. */
static int get_list(struct line *l, const char *key, int required,
		    const char *const *allowed, char **dst)
{
	json_t *v = member(l->obj, key), *item;
	char names[256], buf[256] = "";
	size_t i, used = 0;

	if (!v)
		return required ? missing(l, key) : 0;
	if (!json_is_array(v))
		return bad(l, "field '%s': expected an array of names, found %s", key,
			   json_kind(v));
	json_array_foreach(v, i, item) {
		const char *s = json_string_value(item);
		size_t n;

		if (!s)
			return bad(l, "field '%s': expected an array of names, found %s at "
				   "index %zu", key, json_kind(item), i);
		if (!events_in_list(s, allowed)) {
			events_join_names(allowed, names, sizeof names);
			return bad(l, "field '%s': unknown item '%s' (expected any of: %s)", key,
				   s, names);
		}
		/* allowed names are short: every one of them fits */
		if (listed(buf, s) || (n = strlen(s)) + 2 > sizeof buf - used)
			continue;
		if (used)
			buf[used++] = ',';
		memcpy(buf + used, s, n + 1);
		used += n;
	}
	return keep(l, dst, buf);
}

/* A serial as OpenSSL prints it: uppercase hex, whole bytes, no leading
 * zero bytes (BN_bn2hex), so that the log and the certificate agree. */
static int get_serial(struct line *l, const char *key, int required, char **dst)
{
	const char *s, *p;
	char *out;

	if (get_str(l, l->obj, key, key, required, &s))
		return -1;
	if (!s)
		return 0;
	for (p = s; *p && isxdigit((unsigned char)*p); p++)
		;
	if (!*s || *p)
		return bad(l, "field '%s': expected a certificate serial in hex, found '%s'",
			   key, s);
	/* Space for the longest form; what it does not use goes back. */
	if (!(out = reserve(l, (size_t)(p - s) + 2)))
		return -1;
	*dst = events_serial_into(s, out);
	l->space = out + strlen(out) + 1;
	return 0;
}

static int get_time(struct line *l)
{
	struct err te = {0};
	const char *s;
	char utc[20];

	if (get_str(l, l->obj, "at", "at", 0, &s))
		return -1;
	if (!s)
		return bad(l, "missing required field 'at'");
	if (time_to_utc(s, utc, &te))
		return bad(l, "field 'at': %s", te.msg);
	return keep(l, &l->ev.at, utc);
}

static int get_sha256(struct line *l)
{
	const char *s;
	size_t n = 0;

	if (get_str(l, l->obj, "sha256", "sha256", 0, &s))
		return -1;
	if (!s)
		return 0;
	while (isxdigit((unsigned char)s[n]))
		n++;
	if (n != 64 || s[n])
		return bad(l, "field 'sha256': expected 64 hex digits, found '%s'", s);
	if (keep(l, &l->ev.sha256, s))
		return -1;
	for (char *p = l->ev.sha256; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* A person or organisation: {name, id_type, id} and, for the applicant,
 * type. key is "applicant" or "recipient". */
static int get_party(struct line *l, const char *key, int required, char **type,
		     char **name, char **id_type, char **id)
{
	const char *const *f = events_party_fields(key);
	json_t *v = member(l->obj, key);

	if (!v)
		return required ? missing(l, key) : 0;
	if (!json_is_object(v))
		return bad(l, "field '%s': expected an object, found %s", key, json_kind(v));
	if ((type && get_enum(l, v, "type", f[0], 1, events_applicant_types, type)) ||
	    get_copy(l, v, "name", f[1], 1, name) ||
	    get_enum(l, v, "id_type", f[2], 1, events_id_types, id_type) ||
	    get_copy(l, v, "id", f[3], 1, id))
		return -1;
	normalise_id(*id);
	if (!**id)
		return bad(l, "field '%s': expected a non-empty string, found blanks", f[3]);
	return 0;
}

static int get_kind(struct line *l)
{
	char names[512];
	const char *s;

	if (get_str(l, l->obj, "kind", "kind", 0, &s))
		return -1;
	if (!s)
		return bad(l, "missing required field 'kind'");
	if (!(l->kind = events_kind(s, names, sizeof names)))
		return bad(l, "unknown kind '%s' (expected one of: %s)", s, names);
	return keep(l, &l->ev.kind, s);
}

/* Fills the apply event's application record. */
static int get_application(struct line *l)
{
	struct app_rec *a = &l->app;
	unsigned req = l->kind->required;

	if (get_party(l, "applicant", !!(req & EV_APPLICANT), &a->applicant_type,
		      &a->applicant_name, &a->applicant_id_type, &a->applicant_id) ||
	    get_copy(l, l->obj, "cert_type", "cert_type", !!(req & EV_CERT_TYPE),
		     &a->cert_type) ||
	    get_enum(l, l->obj, "sector", "sector", 0, events_sectors, &a->sector) ||
	    get_enum(l, l->obj, "channel", "channel", 0, events_channels, &a->channel))
		return -1;
	/* the event's own strings, in the same space */
	a->app = l->ev.app;
	a->applied_at = l->ev.at;
	return 0;
}

/* Validates the whole line into l->ev (and l->app for apply). */
static int read_event(struct line *l)
{
	struct event_rec *ev = &l->ev;
	unsigned req;

	if (get_kind(l) || get_time(l))
		return -1;
	req = l->kind->required;
	if (get_copy(l, l->obj, "app", "app", !!(req & EV_APP), &ev->app) ||
	    get_serial(l, "serial", !!(req & EV_SERIAL), &ev->serial) ||
	    get_serial(l, "new_serial", !!(req & EV_NEW_SERIAL), &ev->new_serial) ||
	    get_copy(l, l->obj, "actor", "actor", 0, &ev->actor) ||
	    get_enum(l, l->obj, "method", "method", !!(req & EV_METHOD), events_methods,
		     &ev->method) ||
	    get_enum(l, l->obj, "result", "result", !!(req & EV_RESULT), events_results,
		     &ev->result) ||
	    get_enum(l, l->obj, "reason", "reason", !!(req & EV_REASON), events_reasons,
		     &ev->reason) ||
	    get_list(l, "items", !!(req & EV_ITEMS), events_notice_items, &ev->items) ||
	    get_list(l, "covers", 0, events_cover_items, &ev->covers) ||
	    get_copy(l, l->obj, "cps_version", "cps_version", !!(req & EV_CPS),
		     &ev->cps_version) ||
	    get_copy(l, l->obj, "contract", "contract", 0, &ev->contract) ||
	    get_party(l, "recipient", !!(req & EV_RECIPIENT), NULL, &ev->recipient_name,
		      &ev->recipient_id_type, &ev->recipient_id) ||
	    get_sha256(l))
		return -1;
	return !strcmp(l->kind->name, "apply") ? get_application(l) : 0;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

static int complete_json(const char *s, size_t n)
{
	json_error_t je;
	json_t *v = json_loadb(s, n, 0, &je);

	json_decref(v);
	return v != NULL;
}

/* The log being read: the workers (ingest_pipe_run_par) read its lines in
 * turn, and each parses and validates its lines into jl_items; this thread
 * stores them in order. Parsing (JSON and the §5 checks) costs more than
 * storing, so one parse thread held the writer back; with one per core it
 * no longer does. */
struct jl_job {
	struct ingest_ctx *ctx;
	struct ingest_file *f;
	FILE *fp;         /* read by one worker at a time */
	char *buf;        /* getline's */
	size_t cap;
	long lineno;
	int64_t pos;
	int finished;     /* the last item has been read */
	int oom;          /* ... because the next could not be allocated */
	/* jansson's blocks while a line is parsed, one arena per worker */
	struct jsonarena arena[INGEST_PIPE_WORKERS];
};

/* What one line gave. Every line read makes an item, blank ones too, so
 * that this thread can advance f->consumed and f->lines in step. A line to
 * parse is read as JL_LINE and parsed in place by a worker into JL_EVENT or
 * JL_REJECT (JL_OOM when that ran out of memory).
 *
 * An item is one allocation: the struct, then the line's text, which once
 * parsed becomes the space for the event's strings (struct line). A line's
 * strings decoded take no more bytes than their JSON text, quotes included
 * (the closing quote pays for the NUL); only two values may grow: `at`,
 * always 19 characters in UTC, from a shorter text, and a serial by a
 * leading zero, which its quotes pay for. JL_SPACE_SLACK covers `at`. One
 * malloc a line instead of some fifteen: at a million certificates, the
 * parse workers' malloc and free were a tenth of event ingest's CPU. */
#define JL_SPACE_SLACK 32

struct jl_item {
	enum { JL_LINE, JL_EVENT, JL_BLANK, JL_REJECT, JL_INCOMPLETE, JL_IOERR, JL_OOM } kind;
	long lineno;
	int64_t pos;          /* bytes consumed after this line */
	size_t len;           /* JL_LINE: of the text */
	struct event_rec ev;  /* JL_EVENT; its strings in text, source borrowed */
	struct app_rec app;   /* JL_EVENT of kind apply; its strings in text */
	char *reason;         /* JL_REJECT; strerror for JL_IOERR */
	char text[];          /* JL_LINE: the line without its newline; then
			       * the event's strings (len + 1 + JL_SPACE_SLACK) */
};

/* Parses the item's line with the worker's arena: an event, or the reason
 * to reject it cut where ingest_reject would cut it. 0, or -1 out of
 * memory. */
static int parse_line(struct jl_job *job, struct jsonarena *arena, struct jl_item *it)
{
	struct line l = {.space = it->text, .end = it->text + it->len + 1 + JL_SPACE_SLACK};
	json_error_t je;
	char reason[1024];
	int rc;

	jsonarena_begin(arena);
	l.obj = json_loadb(it->text, it->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!l.obj) {
		jsonarena_end();
		snprintf(reason, sizeof reason, "invalid JSON at column %d: %s", je.column,
			 je.text);
		it->kind = JL_REJECT;
		return (it->reason = strdup(reason)) ? 0 : -1;
	}
	if (!json_is_object(l.obj))
		rc = bad(&l, "expected a JSON object, found %s", json_kind(l.obj));
	else
		rc = read_event(&l);
	json_decref(l.obj);
	jsonarena_end();
	if (rc) {
		it->kind = JL_REJECT;
		return (it->reason = strdup(l.reason)) ? 0 : -1;
	}
	l.ev.source = job->f->source;
	l.ev.line = it->lineno;
	it->kind = JL_EVENT;
	it->ev = l.ev;
	it->app = l.app;
	return 0;
}

static void jl_drop(void *item)
{
	struct jl_item *it = item;

	free(it->reason);
	free(it);
}

/* A zeroed item with room for a line of len bytes and its strings (none
 * when len is 0); NULL out of memory. */
static struct jl_item *item_new(size_t len)
{
	size_t room = len ? len + 1 + JL_SPACE_SLACK : 0;
	struct jl_item *it = malloc(sizeof *it + room);

	if (it)
		memset(it, 0, sizeof *it);
	return it;
}

/* One worker at a time: the next line's item, NULL after the last. */
static void *jl_next(void *arg)
{
	struct jl_job *job = arg;
	struct jl_item *it;
	ssize_t got;
	size_t len;
	char *text;
	int read_errno;

	if (job->finished)
		return NULL;
	if ((got = ingest_getline(&job->buf, &job->cap, job->fp)) < 0) {
		job->finished = 1;
		if (got == -1)
			return NULL;
		read_errno = errno;  /* before malloc may change it */
		if (!(it = item_new(0)) || !(it->reason = strdup(strerror(read_errno)))) {
			free(it);
			job->oom = 1;
			return NULL;
		}
		it->kind = JL_IOERR;
		it->lineno = job->lineno;
		return it;
	}
	len = (size_t)got;
	text = job->buf;
	/* A last line with no newline may still be being written: if it is
	 * not yet a JSON object, leave it for the next ingest. */
	if (text[len - 1] != '\n' && !blank(text, len) && !complete_json(text, len)) {
		job->finished = 1;
		if (!(it = item_new(0))) {
			job->oom = 1;
			return NULL;
		}
		it->kind = JL_INCOMPLETE;
		it->lineno = ++job->lineno;
		return it;
	}
	/* a byte order mark, as Windows editors write */
	if (job->lineno == 0 && len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		len -= 3;
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (blank(text, len))
		len = 0;
	if (!(it = item_new(len))) {
		job->finished = job->oom = 1;
		return NULL;
	}
	it->lineno = ++job->lineno;
	job->pos += got;
	it->pos = job->pos;
	it->kind = JL_BLANK;
	if (!len)
		return it;
	memcpy(it->text, text, len);
	it->text[len] = '\0';
	it->len = len;
	it->kind = JL_LINE;
	return it;
}

/* Any worker: parses a line's item in place. */
static void jl_work(void *item, void *arg, unsigned worker)
{
	struct jl_item *it = item;
	struct jl_job *job = arg;

	if (it->kind != JL_LINE)
		return;
	if (parse_line(job, &job->arena[worker], it))
		it->kind = JL_OOM;
}

/* This thread: stores or rejects one line. -1 only for what stops the
 * file: a store failure, a read error, or a reject under --strict. */
static int jl_consume(void *item, void *arg, struct err *e)
{
	struct jl_item *it = item;
	struct jl_job *job = arg;
	struct ingest_file *f = job->f;
	int added = 0, rc = 0;

	switch (it->kind) {
	case JL_INCOMPLETE:
		warnf("%s:%ld: the last line is incomplete (no newline, not yet valid"
		      " JSON); it will be read when it is complete", f->source, it->lineno);
		break;
	case JL_IOERR:
		rc = err_set(e, CA_EIO, f->source, (int)it->lineno + 1, 0, "unable to read: %s",
			     it->reason);
		break;
	case JL_LINE: /* not parsed: the pipe parses every item it passes on */
	case JL_OOM:
		rc = err_set(e, CA_EINTERNAL, f->source, (int)it->lineno, 0, "out of memory");
		break;
	default:
		f->consumed = it->pos;
		f->lines = it->lineno;
		if (it->kind == JL_REJECT) {
			rc = ingest_reject(job->ctx, f, it->lineno, e, "%s", it->reason);
		} else if (it->kind == JL_EVENT) {
			if (store_put_event(job->ctx->st, &it->ev, &added, e) ||
			    (it->app.app && store_put_application(job->ctx->st, &it->app, NULL, e)))
				rc = -1;
			else
				ingest_count(job->ctx, f, added);
		}
	}
	return rc;
}

static int ingest_stream(struct ingest_ctx *ctx, struct ingest_file *f, FILE *fp,
			 struct err *e)
{
	struct jl_job job = {.ctx = ctx, .f = f, .fp = fp, .lineno = (long)f->start_line,
			     .pos = f->offset};
	int rc;

	errno = 0;
	f->consumed = job.pos;
	f->lines = job.lineno;
	if (job.pos && fseeko(fp, (off_t)job.pos, SEEK_SET))
		return err_set(e, CA_EIO, f->source, 0, 0, "unable to seek to byte %lld: %s",
			       (long long)job.pos, strerror(errno));
	/* a line of a few hundred bytes takes a few KiB of jansson's blocks;
	 * a longer one spills to malloc */
	for (size_t i = 0; i < INGEST_PIPE_WORKERS; i++)
		if (jsonarena_init(&job.arena[i], 64 * 1024)) {
			while (i--)
				jsonarena_free(&job.arena[i]);
			return err_set(e, CA_EINTERNAL, f->source, 0, 0, "out of memory");
		}
	rc = ingest_pipe_run_par(jl_next, jl_work, &job, jl_consume, &job, jl_drop, e);
	if (!rc && job.oom)
		rc = err_set(e, CA_EINTERNAL, f->source, 0, 0, "out of memory");
	for (size_t i = 0; i < INGEST_PIPE_WORKERS; i++)
		jsonarena_free(&job.arena[i]);
	free(job.buf);
	return rc;
}

static int ingest_jsonl_file(struct ingest_ctx *ctx, const char *path, struct err *e)
{
	struct ingest_file f;
	FILE *fp;
	int rc;

	rc = ingest_file_begin_log(ctx, path, "events", "jsonl", &f, e);
	if (rc)
		return rc > 0 ? 0 : -1;
	fp = fopen(f.path, "r");
	if (!fp) {
		err_set(e, CA_EIO, f.source, 0, 0, "unable to open: %s", strerror(errno));
		ingest_file_abort(ctx, &f);
		return -1;
	}
	rc = ingest_stream(ctx, &f, fp, e);
	fclose(fp);
	if (rc) {
		ingest_file_abort(ctx, &f);
		return -1;
	}
	return ingest_file_end(ctx, &f, e);
}

int src_jsonl(struct ingest_ctx *ctx, const struct source_cfg *src, struct err *e)
{
	const struct config *cfg = ctx->cfg;
	struct strlist files = {0};
	char *pattern;
	int rc = 0;

	if (!src->path)
		return err_set(e, CA_EINPUT, cfg->path, src->line, 0,
			       "source of type 'jsonl' needs a 'path'");
	if (cfg->timezone && strcmp(time_zone(), cfg->timezone) &&
	    time_set_zone(cfg->timezone, e))
		return -1;
	pattern = config_path(cfg, src->path);
	if (!pattern)
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
	if (pathglob(pattern, &files, e)) {
		free(pattern);
		return -1;
	}
	if (!files.n)
		warnf("events source '%s' matches no file", src->path);
	for (size_t i = 0; !rc && i < files.n; i++)
		rc = ingest_jsonl_file(ctx, files.v[i], e);
	strlist_free(&files);
	free(pattern);
	return rc;
}
