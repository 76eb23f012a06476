/*
 * ingest.c — runs the configured sources and keeps the per-file bookkeeping
 * that makes ingest idempotent and gives reports their provenance; see
 * ingest.h. Each file is one transaction: its records, its rejects and its
 * source_file row commit together or not at all.
 */
#include "ingest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "threads.h"

static void hex32(const unsigned char *md, char hex[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* SHA-256 and size of a whole file and, when prefix_hex is given, the
 * SHA-256 of its first prefix_len bytes ("" when the file is shorter). */
static int digest_file(const char *path, char hex[65], int64_t *size, int64_t prefix_len,
		       char *prefix_hex, struct err *e)
{
	unsigned char buf[1 << 16], md[32];
	EVP_MD_CTX *md_ctx, *copy = NULL;
	FILE *f;
	size_t n;
	int rc = 0;

	f = fopen(path, "rb");
	if (!f)
		return err_set(e, CA_EIO, path, 0, 0, "unable to open: %s", strerror(errno));
	md_ctx = EVP_MD_CTX_new();
	copy = EVP_MD_CTX_new();
	if (!md_ctx || !copy || !EVP_DigestInit_ex(md_ctx, EVP_sha256(), NULL)) {
		rc = err_set(e, CA_EINTERNAL, path, 0, 0, "unable to start SHA-256");
		goto out;
	}
	*size = 0;
	if (prefix_hex)
		prefix_hex[0] = '\0';
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		size_t head = n;

		/* stop at the prefix's end once, to take its digest on the way */
		if (prefix_hex && *size < prefix_len && *size + (int64_t)n >= prefix_len)
			head = (size_t)(prefix_len - *size);
		EVP_DigestUpdate(md_ctx, buf, head);
		if (head < n || (prefix_hex && *size + (int64_t)n == prefix_len)) {
			EVP_MD_CTX_copy_ex(copy, md_ctx);
			EVP_DigestFinal_ex(copy, md, NULL);
			hex32(md, prefix_hex);
			EVP_DigestUpdate(md_ctx, buf + head, n - head);
		}
		*size += (int64_t)n;
	}
	if (prefix_hex && prefix_len == 0) {
		EVP_MD_CTX_copy_ex(copy, md_ctx);
		/* the digest of nothing: start a fresh one */
		EVP_DigestInit_ex(copy, EVP_sha256(), NULL);
		EVP_DigestFinal_ex(copy, md, NULL);
		hex32(md, prefix_hex);
	}
	if (ferror(f)) {
		rc = err_set(e, CA_EIO, path, 0, 0, "unable to read: %s", strerror(errno));
		goto out;
	}
	EVP_DigestFinal_ex(md_ctx, md, NULL);
	hex32(md, hex);
out:
	EVP_MD_CTX_free(md_ctx);
	EVP_MD_CTX_free(copy);
	fclose(f);
	return rc;
}

/* The name stored in `source` columns: the path relative to the
 * configuration's directory, so that a store stays meaningful when the
 * dataset is moved or read from another working directory. */
static char *source_name(const struct config *cfg, const char *path)
{
	size_t n = strlen(cfg->dir);

	if (strcmp(cfg->dir, ".") && !strncmp(path, cfg->dir, n) && path[n] == '/')
		return strdup(path + n + 1);
	if (!strncmp(path, "./", 2))
		return strdup(path + 2);
	return strdup(path);
}

static void file_release(struct ingest_file *f)
{
	free(f->path);
	free(f->source);
	memset(f, 0, sizeof *f);
}

/* Starts f; log selects the append-aware comparison. */
static int file_begin(struct ingest_ctx *ctx, const char *path, const char *kind,
		      const char *type, int log, struct ingest_file *f, struct err *e)
{
	struct source_state prev = {0};
	char prefix[65] = "";
	struct stat sb;
	int known;

	memset(f, 0, sizeof *f);
	f->path = strdup(path);
	f->source = source_name(ctx->cfg, path);
	if (!f->path || !f->source) {
		file_release(f);
		return err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory");
	}
	snprintf(f->kind, sizeof f->kind, "%s", kind);
	snprintf(f->type, sizeof f->type, "%s", type);
	f->log = log;
	known = store_source_get(ctx->st, f->source, &prev, e);
	if (known < 0)
		goto fail;
	if (stat(path, &sb)) {
		err_set(e, CA_EIO, path, 0, 0, "unable to open: %s", strerror(errno));
		goto fail;
	}
	f->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	/* A nightly run over years of logs must not read gigabytes to learn that
	 * nothing changed: the same size and modification time mean the same
	 * file, as for make and rsync (--full reads everything again). */
	if (known && !ctx->full && prev.mtime_ns && prev.mtime_ns == f->mtime_ns &&
	    prev.size == (int64_t)sb.st_size) {
		debugf("%s: unchanged since the last ingest (size and time)", f->source);
		ctx->files_skipped++;
		file_release(f);
		return 1;
	}
	if (digest_file(path, f->sha256, &f->size, prev.size, log && known ? prefix : NULL, e))
		goto fail;
	f->consumed = f->size;
	if (known && !ctx->full && f->size == prev.size && !strcmp(prev.sha256, f->sha256)) {
		debugf("%s: unchanged since the last ingest", f->source);
		/* only touched: remember the new time, so it is not read again */
		prev.mtime_ns = f->mtime_ns;
		if (store_source_put(ctx->st, f->source, &prev, e))
			goto fail;
		ctx->files_skipped++;
		file_release(f);
		return 1;
	}
	if (store_begin(ctx->st, e))
		goto fail;
	if (log && known && !strcmp(prefix, prev.sha256)) {
		if (!ctx->full) {
			f->offset = prev.size;
			f->start_line = prev.lines;
			f->prev_records = prev.records;
			f->prev_rejects = prev.rejects;
		}
	} else if (known && (log || prev.size > f->size)) {
		warnf("%s: the file was rewritten or truncated since the last ingest"
		      " (%lld bytes then, %lld now); reading it again from the start",
		      f->source, (long long)prev.size, (long long)f->size);
		if (log && store_forget_source(ctx->st, f->source, e)) {
			store_rollback(ctx->st);
			goto fail;
		}
	}
	debugf("%s: reading from byte %lld of %lld", f->source, (long long)f->offset,
	       (long long)f->size);
	return 0;
fail:
	file_release(f);
	return -1;
}

int ingest_file_begin(struct ingest_ctx *ctx, const char *path, const char *kind,
		      const char *type, struct ingest_file *f, struct err *e)
{
	return file_begin(ctx, path, kind, type, 0, f, e);
}

int ingest_file_begin_log(struct ingest_ctx *ctx, const char *path, const char *kind,
			  const char *type, struct ingest_file *f, struct err *e)
{
	return file_begin(ctx, path, kind, type, 1, f, e);
}

int ingest_file_end(struct ingest_ctx *ctx, struct ingest_file *f, struct err *e)
{
	struct source_state st = {0};

	snprintf(st.kind, sizeof st.kind, "%s", f->kind);
	snprintf(st.type, sizeof st.type, "%s", f->type);
	st.size = f->consumed;
	memcpy(st.sha256, f->sha256, sizeof st.sha256);
	/* an incomplete last line left for later: remember the lines before it */
	if (f->consumed < f->size) {
		char whole[65];
		int64_t size;
		if (digest_file(f->path, whole, &size, f->consumed, st.sha256, e)) {
			ingest_file_abort(ctx, f);
			return -1;
		}
	}
	st.lines = f->lines;
	st.mtime_ns = f->mtime_ns;
	st.records = f->prev_records + f->records;
	st.rejects = f->prev_rejects + f->rejects;
	if (store_source_put(ctx->st, f->source, &st, e) || store_commit(ctx->st, e)) {
		ingest_file_abort(ctx, f);
		return -1;
	}
	ctx->files_read++;
	if (f->rejects)
		warnf("%s: %lld of %lld records rejected (listed in the store's reject table"
		      " and in every report's provenance; -v shows each)",
		      f->source, (long long)f->rejects, (long long)f->records);
	file_release(f);
	return 0;
}

void ingest_file_abort(struct ingest_ctx *ctx, struct ingest_file *f)
{
	store_rollback(ctx->st);
	file_release(f);
}

ssize_t ingest_getline(char **buf, size_t *cap, FILE *fp)
{
	ssize_t n;

	errno = 0;
	if ((n = getline(buf, cap, fp)) >= 0)
		return n;
	if (feof(fp) && !ferror(fp))
		return -1;
	if (!errno)
		errno = EIO;
	return -2;
}

int ingest_reject(struct ingest_ctx *ctx, struct ingest_file *f, long line,
		  struct err *e, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	f->records++;
	f->rejects++;
	ctx->records++;
	ctx->rejects++;
	if (ctx->strict)
		return err_set(e, CA_EINPUT, f->source, (int)line, 0, "%s (--strict)", reason);
	if (store_put_reject(ctx->st, f->source, line, reason, NULL, e))
		return -1;
	if (f->rejects == 1 || log_level() >= LOG_VERBOSE) {
		/* the reason may quote the record: no terminal escapes on stderr */
		for (char *p = reason; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		warnf("%s:%ld: rejected: %s", f->source, line, reason);
	}
	return 0;
}

void ingest_count(struct ingest_ctx *ctx, struct ingest_file *f, int added)
{
	f->records++;
	ctx->records++;
	if (added) {
		f->added++;
		ctx->added++;
	}
	progress_update((uint64_t)ctx->records);
}

/* ---- the parse workers ---- */

/* Items travel in batches, so that the threads meet on the lock once per
 * PIPE_BATCH records rather than once per record; PIPE_SLOTS batches bound
 * what is in flight (and so the memory) when the writer is the slower.
 * Each batch is numbered when its items are taken from `next`, and the
 * writer takes the batches by number, so that with several workers the
 * items are still consumed in the order `next` gave them. Consumed batches
 * go back to the worker that made them, which drops them: an item's memory
 * is then freed by the thread that allocated it. Freed by the writer, each
 * of an item's blocks took the worker's malloc arena lock, against the
 * worker's own allocations: a profile of event ingest showed a third of
 * its samples in malloc, free and the lock's futex. */
#define PIPE_BATCH INGEST_PIPE_BATCH
#define PIPE_SLOTS INGEST_PIPE_SLOTS
#define PIPE_WORKERS INGEST_PIPE_WORKERS

struct batch {
	void *v[PIPE_BATCH];
	size_t n;
	unsigned worker;    /* the worker that made it */
	int ready;          /* in a slot: made, not yet taken */
};

struct ring {
	struct batch b[PIPE_SLOTS];
	size_t head, count;
};

struct pipe {
	pthread_mutex_t mu;      /* everything below but what read_mu guards */
	pthread_cond_t can_put, can_take;
	struct batch slot[PIPE_SLOTS];  /* batch number k in slot k % PIPE_SLOTS */
	uint64_t reserved;       /* batches workers have room for: made or being made */
	uint64_t taken;          /* batches the writer has taken */
	uint64_t total;          /* the number of batches, once all_read */
	int all_read;            /* next has returned NULL */
	struct ring spent[PIPE_WORKERS];  /* consumed, for worker i to drop */
	int finished[PIPE_WORKERS];       /* worker i drops no more */
	atomic_int stop;         /* the consumer gave up: make no more */
	pthread_mutex_t read_mu; /* next, and: */
	uint64_t numbered;       /* batches numbered so far */
	int ended;               /* next has returned NULL */
	ingest_produce_fn next;
	ingest_work_fn work;
	void *parg;
	ingest_drop_fn drop;
};

struct worker {
	struct pipe *p;
	unsigned i;
	pthread_t tid;
};

/* Under the lock: adds *b to r (not full) / takes r's oldest into *b. */
static void ring_put(struct ring *r, const struct batch *b)
{
	r->b[(r->head + r->count++) % PIPE_SLOTS] = *b;
}

static void ring_take(struct ring *r, struct batch *b)
{
	*b = r->b[r->head];
	r->head = (r->head + 1) % PIPE_SLOTS;
	r->count--;
}

static void batch_drop(struct pipe *p, struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		p->drop(b->v[i]);
	b->n = 0;
}

/* Under the lock: moves the batches waiting for worker i to drop (at most
 * PIPE_SLOTS) to out; returns how many. */
static size_t take_spent(struct pipe *p, unsigned i, struct batch *out)
{
	size_t n = 0;

	while (p->spent[i].count)
		ring_take(&p->spent[i], &out[n++]);
	return n;
}

/* Numbers the next batch and fills it from next; 1 when next has ended
 * (this batch, perhaps empty, is the last), -1 when an earlier batch was
 * the last (b is not numbered). */
static int batch_read(struct pipe *p, struct batch *b, uint64_t *number)
{
	int last;

	pthread_mutex_lock(&p->read_mu);
	if (p->ended) {
		pthread_mutex_unlock(&p->read_mu);
		return -1;
	}
	*number = p->numbered++;
	b->n = 0;
	while (b->n < PIPE_BATCH && !atomic_load(&p->stop)) {
		if (!(b->v[b->n] = p->next(p->parg))) {
			p->ended = 1;
			break;
		}
		b->n++;
	}
	last = p->ended;
	pthread_mutex_unlock(&p->read_mu);
	return last;
}

static void *pipe_worker(void *arg)
{
	struct worker *w = arg;
	struct pipe *p = w->p;
	struct batch b, spent[2 * PIPE_SLOTS];
	size_t n_spent;

	b.worker = w->i;
	for (;;) {
		uint64_t number = 0;
		int last;

		pthread_mutex_lock(&p->mu);
		while (p->reserved - p->taken >= PIPE_SLOTS && !atomic_load(&p->stop))
			pthread_cond_wait(&p->can_put, &p->mu);
		n_spent = take_spent(p, w->i, spent);
		if (atomic_load(&p->stop) || p->all_read) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		p->reserved++;
		pthread_mutex_unlock(&p->mu);
		while (n_spent)
			batch_drop(p, &spent[--n_spent]);

		if ((last = batch_read(p, &b, &number)) < 0) {
			pthread_mutex_lock(&p->mu);
			p->reserved--;
			pthread_mutex_unlock(&p->mu);
			break;
		}
		for (size_t k = 0; p->work && k < b.n && !atomic_load(&p->stop); k++)
			p->work(b.v[k], p->parg, w->i);

		pthread_mutex_lock(&p->mu);
		if (last) {
			p->total = number + 1;
			p->all_read = 1;
		}
		if (atomic_load(&p->stop)) {
			pthread_mutex_unlock(&p->mu);
			batch_drop(p, &b);
			break;
		}
		b.ready = 1;
		p->slot[number % PIPE_SLOTS] = b;
		pthread_cond_broadcast(&p->can_take);
		pthread_mutex_unlock(&p->mu);
		if (last)
			break;
	}
	pthread_mutex_lock(&p->mu);
	p->finished[w->i] = 1;
	n_spent += take_spent(p, w->i, spent + n_spent);
	pthread_cond_broadcast(&p->can_take);
	pthread_mutex_unlock(&p->mu);
	while (n_spent)
		batch_drop(p, &spent[--n_spent]);
	return NULL;
}

/* Without a thread: each item read, worked, consumed and dropped in turn. */
static int pipe_inline(struct pipe *p, ingest_consume_fn consume, void *carg, struct err *e)
{
	void *item;
	int rc = 0;

	while (!rc && (item = p->next(p->parg)) != NULL) {
		if (p->work)
			p->work(item, p->parg, 0);
		rc = consume(item, carg, e);
		p->drop(item);
	}
	return rc;
}

/* The writer: consumes the batches in their numbers' order. */
static int pipe_consume(struct pipe *p, ingest_consume_fn consume, void *carg, struct err *e)
{
	struct batch b;
	int rc = 0;

	while (!rc) {
		struct batch *s;

		pthread_mutex_lock(&p->mu);
		s = &p->slot[p->taken % PIPE_SLOTS];
		while (!s->ready && !(p->all_read && p->taken == p->total))
			pthread_cond_wait(&p->can_take, &p->mu);
		if (!s->ready) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		b = *s;
		s->ready = 0;
		p->taken++;
		pthread_cond_broadcast(&p->can_put);
		pthread_mutex_unlock(&p->mu);
		for (size_t i = 0; i < b.n && !rc; i++)
			rc = consume(b.v[i], carg, e);
		/* back to its worker to drop, unless that worker has finished or
		 * its ring is full (it empties the ring each time it puts) */
		pthread_mutex_lock(&p->mu);
		if (!p->finished[b.worker] && !rc && p->spent[b.worker].count < PIPE_SLOTS) {
			ring_put(&p->spent[b.worker], &b);
			b.n = 0;
		}
		pthread_mutex_unlock(&p->mu);
		batch_drop(p, &b);
	}
	return rc;
}

static int pipe_run(ingest_produce_fn next, ingest_work_fn work, unsigned workers, void *parg,
		    ingest_consume_fn consume, void *carg, ingest_drop_fn drop, struct err *e)
{
	struct pipe *p = calloc(1, sizeof *p);
	struct worker w[PIPE_WORKERS];
	struct batch b;
	unsigned started = 0;
	int rc = 0;

	if (!p)
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
	p->next = next;
	p->work = work;
	p->parg = parg;
	p->drop = drop;
	atomic_init(&p->stop, 0);
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->read_mu, NULL);
	pthread_cond_init(&p->can_put, NULL);
	pthread_cond_init(&p->can_take, NULL);
	if (threads_wanted() >= 2)
		for (; started < workers; started++) {
			w[started] = (struct worker){.p = p, .i = started};
			if (pthread_create(&w[started].tid, NULL, pipe_worker, &w[started]))
				break;
		}
	if (!started) {
		rc = pipe_inline(p, consume, carg, e);
		goto out;
	}
	rc = pipe_consume(p, consume, carg, e);
	if (rc) {
		pthread_mutex_lock(&p->mu);
		atomic_store(&p->stop, 1);
		pthread_cond_broadcast(&p->can_put);
		pthread_mutex_unlock(&p->mu);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	for (size_t k = 0; k < PIPE_SLOTS; k++)
		if (p->slot[k].ready)
			batch_drop(p, &p->slot[k]);
	for (unsigned i = 0; i < started; i++)
		while (p->spent[i].count) {
			ring_take(&p->spent[i], &b);
			batch_drop(p, &b);
		}
out:
	pthread_cond_destroy(&p->can_take);
	pthread_cond_destroy(&p->can_put);
	pthread_mutex_destroy(&p->read_mu);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return rc ? -1 : 0;
}

int ingest_pipe_run(ingest_produce_fn produce, void *parg, ingest_consume_fn consume,
		    void *carg, ingest_drop_fn drop, struct err *e)
{
	return pipe_run(produce, NULL, 1, parg, consume, carg, drop, e);
}

int ingest_pipe_run_par(ingest_produce_fn next, ingest_work_fn work, void *parg,
			ingest_consume_fn consume, void *carg, ingest_drop_fn drop, struct err *e)
{
	int n = threads_wanted();

	return pipe_run(next, work, n < PIPE_WORKERS ? (unsigned)n : PIPE_WORKERS, parg, consume,
			carg, drop, e);
}

static int unsupported(const struct ingest_ctx *ctx, const struct source_cfg *src,
		       struct err *e)
{
	return err_set(e, CA_EINPUT, ctx->cfg->path, src->line, 0,
		       "source type '%s' is not supported by ca-audit %s yet", src->type,
		       CA_AUDIT_VERSION);
}

static int store_cps(struct ingest_ctx *ctx, struct err *e)
{
	const struct config *cfg = ctx->cfg;
	const char **v = calloc(cfg->n_cps + 1, sizeof *v);
	const char **d = calloc(cfg->n_cps + 1, sizeof *d);
	int rc = -1;

	if (!v || !d) {
		err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_cps; i++) {
		v[i] = cfg->cps[i].version;
		d[i] = cfg->cps[i].effective;
	}
	if (store_begin(ctx->st, e))
		goto out;
	if (store_set_cps(ctx->st, v, d, cfg->n_cps, e)) {
		store_rollback(ctx->st);
		goto out;
	}
	rc = store_commit(ctx->st, e);
out:
	free(v);
	free(d);
	return rc;
}

int ingest_run(struct ingest_ctx *ctx, struct err *e)
{
	const struct config *cfg = ctx->cfg;
	int rc = 0;

	if (store_cps(ctx, e) || store_bulk_begin(ctx->st, e))
		return -1;
	progress_start("ingest: records", 0);
	store_group_begin(ctx->st);
	for (size_t i = 0; !rc && i < cfg->n_cert_sources; i++) {
		const struct source_cfg *src = &cfg->cert_sources[i];

		if (!strcmp(src->type, "openssl-index"))
			rc = src_openssl_index(ctx, src, e);
		else if (!strcmp(src->type, "pem"))
			rc = src_pem(ctx, src, e);
		else if (!strcmp(src->type, "cfssl"))
			rc = src_cfssl(ctx, src, e);
		else if (!strcmp(src->type, "ejbca-csv"))
			rc = src_ejbca_csv(ctx, src, e);
		else
			rc = unsupported(ctx, src, e);
	}
	for (size_t i = 0; !rc && i < cfg->n_event_sources; i++) {
		const struct source_cfg *src = &cfg->event_sources[i];

		if (!strcmp(src->type, "jsonl"))
			rc = src_jsonl(ctx, src, e);
		else if (!strcmp(src->type, "csv"))
			rc = src_csv(ctx, src, e);
		else
			rc = unsupported(ctx, src, e);
	}
	for (size_t i = 0; !rc && i < cfg->n_crl_sources; i++)
		rc = src_crl(ctx, &cfg->crl_sources[i], e);
	if (store_group_end(ctx->st, rc ? NULL : e))
		rc = -1;
	progress_end();
	/* the indexes go back even after a failed source: the files before it
	 * are committed and the checks need them */
	if (store_bulk_end(ctx->st, rc ? NULL : e))
		rc = -1;
	return rc;
}
