/*
 * sample.c — drawing, writing and reading the regulator's sample
 * (sample.h). The population is read in key order and each record is ranked
 * by a keyed digest, so the list depends only on the seed and the store's
 * records, never on SQLite's row order or a random number generator.
 */
#include "sample.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "records.h"
#include "timeutil.h"
#include "x509.h"

/* One record of the population while drawing. */
struct sample_cand {
	char *key;
	char *stratum;     /* "" when not stratified */
	char digest[65];
};

struct sample_pop {
	struct sample_cand *v;
	size_t n, cap;
};

static const char *const sample_of_names[] = {"certificates", "applications", NULL};
static const char *const sample_strata_names[] = {"", "sector", "issuer", "month", NULL};

int sample_of_parse(const char *s)
{
	for (int i = 0; s && sample_of_names[i]; i++)
		if (!strcmp(s, sample_of_names[i]))
			return i;
	return -1;
}

int sample_strata_parse(const char *s)
{
	for (int i = 1; s && sample_strata_names[i]; i++)
		if (!strcmp(s, sample_strata_names[i]))
			return i;
	return -1;
}

static int sample_oom(struct err *e)
{
	return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
}

/* The stratum of one record from the query's columns 1 (sector), 2
 * (issuer) and 3 (time, UTC). */
static char *sample_stratum(sqlite3_stmt *q, int by)
{
	const char *v = NULL;
	char month[11];

	if (by == SAMPLE_NONE)
		return strdup("");
	if (by == SAMPLE_BY_SECTOR || by == SAMPLE_BY_ISSUER)
		v = (const char *)sqlite3_column_text(q, by == SAMPLE_BY_SECTOR ? 1 : 2);
	else if (sqlite3_column_text(q, 3) &&
		 time_utc_local_date((const char *)sqlite3_column_text(q, 3), month) == 0) {
		month[7] = '\0';
		v = month;
	}
	return strdup(v && *v ? v : "未知");
}

static int sample_push(struct sample_pop *p, const char *seed, const char *key, char *stratum)
{
	char *buf;
	int n;

	if (!stratum)
		return -1;
	/* Serials shared by two issuers give one key: keep it once. */
	if (p->n && !strcmp(p->v[p->n - 1].key, key)) {
		free(stratum);
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct sample_cand *v = realloc(p->v, cap * sizeof(*v));

		if (!v) {
			free(stratum);
			return -1;
		}
		p->v = v;
		p->cap = cap;
	}
	n = asprintf(&buf, "%s:%s", seed, key);
	if (n < 0) {
		free(stratum);
		return -1;
	}
	digest_sha256_hex((const unsigned char *)buf, (size_t)n, p->v[p->n].digest);
	free(buf);
	p->v[p->n].key = strdup(key);
	p->v[p->n].stratum = stratum;
	if (!p->v[p->n].key) {
		free(stratum);
		return -1;
	}
	p->n++;
	return 0;
}

/* Columns: key, sector, issuer, time; ordered by key. */
static const char *const sample_sql[] = {
	"SELECT 'serial:' || c.serial, a.sector, c.issuer, coalesce(ie.at, c.not_before)"
	" FROM certificate c LEFT JOIN (SELECT serial, app, min(at) AS at FROM event"
	"  WHERE kind = 'issue' GROUP BY serial) ie ON ie.serial = c.serial"
	" LEFT JOIN application a ON a.app = ie.app"
	" WHERE c.is_ca = 0 ORDER BY 1, c.issuer",
	"SELECT 'app:' || a.app, a.sector, (SELECT c.issuer FROM event e"
	"  JOIN certificate c ON c.serial = e.serial WHERE e.app = a.app AND e.kind = 'issue'"
	"  ORDER BY e.at, c.issuer LIMIT 1), a.applied_at"
	" FROM application a ORDER BY 1",
};

static int sample_population(struct store *st, const struct sample_opts *o,
			     struct sample_pop *p, struct err *e)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(db, sample_sql[o->of], -1, &q, NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to read the store: %s",
			       sqlite3_errmsg(db));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (sample_push(p, o->seed, (const char *)sqlite3_column_text(q, 0),
				sample_stratum(q, o->stratify)) < 0) {
			sqlite3_finalize(q);
			return sample_oom(e);
		}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return err_set(e, CA_EDB, store_path(st), 0, 0, "unable to read the store: %s",
			       sqlite3_errmsg(db));
	return 0;
}

/* By stratum, then digest, then key: each stratum's smallest digests first. */
static int sample_cmp(const void *a, const void *b)
{
	const struct sample_cand *x = a, *y = b;
	int c = strcmp(x->stratum, y->stratum);

	if (!c)
		c = strcmp(x->digest, y->digest);
	return c ? c : strcmp(x->key, y->key);
}

static int sample_cmp_out(const void *a, const void *b)
{
	const struct sample_rec *x = a, *y = b;
	int c = strcmp(x->stratum ? x->stratum : "", y->stratum ? y->stratum : "");

	return c ? c : strcmp(x->key, y->key);
}

/* Largest-remainder shares of total over the strata, at least one each. */
static void sample_shares(struct sample_stratum *s, size_t ns, int64_t pop, int64_t total)
{
	double *frac = calloc(ns ? ns : 1, sizeof(*frac));
	int64_t given = 0;
	size_t i, j;

	for (i = 0; i < ns; i++) {
		double exact = (double)total * (double)s[i].population / (double)pop;

		s[i].size = (int64_t)floor(exact);
		if (frac)
			frac[i] = exact - (double)s[i].size;
		given += s[i].size;
	}
	/* Strata are in name order, so ties go to the first name. */
	while (given < total && frac) {
		size_t best = ns;

		for (j = 0; j < ns; j++)
			if (s[j].size < s[j].population && (best == ns || frac[j] > frac[best]))
				best = j;
		if (best == ns)
			break;
		s[best].size++;
		frac[best] = -1;
		given++;
	}
	for (i = 0; i < ns; i++) {
		size_t big = ns;

		if (s[i].size > 0)
			continue;
		s[i].size = 1;
		for (j = 0; j < ns; j++)
			if (s[j].size > 1 && (big == ns || s[j].size > s[big].size))
				big = j;
		if (big != ns)
			s[big].size--;
	}
	free(frac);
}

/* Counts the strata of the sorted population into s->strata. */
static int sample_strata(struct sample *s, const struct sample_pop *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct sample_stratum *last = s->nstrata ? &s->strata[s->nstrata - 1] : NULL;

		if (!last || strcmp(last->name, p->v[i].stratum)) {
			struct sample_stratum *v = realloc(s->strata,
							   (s->nstrata + 1) * sizeof(*v));

			if (!v)
				return -1;
			s->strata = v;
			last = &v[s->nstrata++];
			last->population = 0;
			last->size = 0;
			if (!(last->name = strdup(p->v[i].stratum)))
				return -1;
		}
		last->population++;
	}
	return 0;
}

static int sample_pick(struct sample *s, const struct sample_pop *p, int stratified)
{
	size_t i = 0, k, total = 0;

	for (k = 0; k < s->nstrata; k++)
		total += (size_t)s->strata[k].size;
	s->recs = calloc(total ? total : 1, sizeof(*s->recs));
	if (!s->recs)
		return -1;
	for (k = 0; k < s->nstrata; k++) {
		for (int64_t taken = 0; taken < s->strata[k].population; taken++, i++) {
			struct sample_rec *r = &s->recs[s->n];

			if (taken >= s->strata[k].size)
				continue;
			r->key = strdup(p->v[i].key);
			r->stratum = stratified ? strdup(p->v[i].stratum) : NULL;
			s->n++;
			if (!r->key || (stratified && !r->stratum))
				return -1;
		}
	}
	s->size = (int64_t)s->n;
	qsort(s->recs, s->n, sizeof(*s->recs), sample_cmp_out);
	return 0;
}

static void sample_pop_free(struct sample_pop *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].key);
		free(p->v[i].stratum);
	}
	free(p->v);
}

int sample_draw(struct store *st, const struct sample_opts *o, struct sample **out,
		struct err *e)
{
	struct sample_pop p = {0};
	struct sample *s = calloc(1, sizeof(*s));
	int64_t want;

	*out = NULL;
	if (!s)
		return sample_oom(e);
	if (sample_population(st, o, &p, e) < 0)
		goto fail;
	if (p.n == 0) {
		err_set(e, CA_EINPUT, store_path(st), 0, 0,
			"no %s in the store to sample from: run 'ca-audit ingest' first",
			sample_of_names[o->of]);
		goto fail;
	}
	qsort(p.v, p.n, sizeof(*p.v), sample_cmp);
	s->population = (int64_t)p.n;
	s->rate = o->size > 0 ? 0 : o->rate;
	want = o->size > 0 ? o->size : (int64_t)ceil(o->rate * (double)p.n - 1e-9);
	if (want > s->population)
		want = s->population;
	if (want < 1)
		want = 1;
	s->seed = strdup(o->seed);
	s->of = strdup(sample_of_names[o->of]);
	s->method = strdup(SAMPLE_METHOD);
	s->as_of = strdup(o->as_of ? o->as_of : "");
	s->stratify_by = o->stratify ? strdup(sample_strata_names[o->stratify]) : NULL;
	if (!s->seed || !s->of || !s->method || !s->as_of || (o->stratify && !s->stratify_by) ||
	    sample_strata(s, &p) < 0) {
		sample_oom(e);
		goto fail;
	}
	sample_shares(s->strata, s->nstrata, s->population, want);
	if (sample_pick(s, &p, o->stratify != SAMPLE_NONE) < 0) {
		sample_oom(e);
		goto fail;
	}
	sample_pop_free(&p);
	*out = s;
	return 0;
fail:
	sample_pop_free(&p);
	sample_free(s);
	return -1;
}

static json_t *sample_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *sample_json(const struct sample *s)
{
	json_t *root = json_object(), *strata = json_array(), *recs = json_array();
	char *text = NULL, *out = NULL;
	size_t i;

	if (!root || !strata || !recs)
		goto done;
	json_object_set_new(root, "seed", json_string(s->seed));
	json_object_set_new(root, "of", json_string(s->of));
	json_object_set_new(root, "size", json_integer(s->size));
	json_object_set_new(root, "rate", s->rate > 0 ? json_real(s->rate) : json_null());
	json_object_set_new(root, "stratify_by", sample_str(s->stratify_by));
	json_object_set_new(root, "method", json_string(s->method));
	json_object_set_new(root, "population", json_integer(s->population));
	json_object_set_new(root, "as_of", json_string(s->as_of));
	for (i = 0; i < s->nstrata; i++)
		json_array_append_new(strata, json_pack("{s:s, s:I, s:I}", "name",
							s->strata[i].name, "population",
							(json_int_t)s->strata[i].population, "size",
							(json_int_t)s->strata[i].size));
	for (i = 0; i < s->n; i++)
		json_array_append_new(recs, json_pack("{s:s, s:o}", "key", s->recs[i].key,
						      "stratum", sample_str(s->recs[i].stratum)));
	json_object_set(root, "strata", strata);
	json_object_set(root, "records", recs);
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
done:
	free(text);
	json_decref(strata);
	json_decref(recs);
	json_decref(root);
	return out;
}

static char *sample_get_str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static int sample_load_recs(struct sample *s, json_t *root)
{
	json_t *arr = json_object_get(root, "records"), *v;
	size_t i;

	s->recs = calloc(json_array_size(arr) + 1, sizeof(*s->recs));
	if (!s->recs)
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(json_object_get(v, "key")))
			return -1;
		s->recs[s->n].key = sample_get_str(v, "key");
		s->recs[s->n].stratum = sample_get_str(v, "stratum");
		s->n++;
	}
	arr = json_object_get(root, "strata");
	s->strata = calloc(json_array_size(arr) + 1, sizeof(*s->strata));
	if (!s->strata)
		return -1;
	json_array_foreach(arr, i, v) {
		struct sample_stratum *t = &s->strata[s->nstrata++];

		t->name = sample_get_str(v, "name");
		t->population = json_integer_value(json_object_get(v, "population"));
		t->size = json_integer_value(json_object_get(v, "size"));
	}
	return 0;
}

int sample_load(const char *path, struct sample **out, struct err *e)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	struct sample *s;

	*out = NULL;
	if (!root)
		return err_set(e, CA_EINPUT, path, je.line > 0 ? je.line : 0,
			       je.column > 0 ? je.column : 0, "not a sample file: %s", je.text);
	s = calloc(1, sizeof(*s));
	if (!s) {
		json_decref(root);
		return sample_oom(e);
	}
	s->seed = sample_get_str(root, "seed");
	s->of = sample_get_str(root, "of");
	s->method = sample_get_str(root, "method");
	s->as_of = sample_get_str(root, "as_of");
	s->stratify_by = sample_get_str(root, "stratify_by");
	s->size = json_integer_value(json_object_get(root, "size"));
	s->rate = json_number_value(json_object_get(root, "rate"));
	s->population = json_integer_value(json_object_get(root, "population"));
	if (!s->seed || !s->of || sample_of_parse(s->of) < 0 ||
	    !json_is_array(json_object_get(root, "records")) || sample_load_recs(s, root) < 0) {
		json_decref(root);
		sample_free(s);
		return err_set(e, CA_EINPUT, path, 0, 0, "not a sample file: expected 'seed',"
			       " 'of' and 'records' as 'ca-audit sample' writes them");
	}
	json_decref(root);
	*out = s;
	return 0;
}

int sample_find_newest(const char *dir, char **path, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct timespec best_t = {0, 0};
	char *best = NULL;

	*path = NULL;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat sb;
		char *p;

		if (strncmp(de->d_name, "sample", 6) || n < 11 ||
		    strcmp(de->d_name + n - 5, ".json"))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			free(best);
			closedir(d);
			return sample_oom(e);
		}
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    (!best || sb.st_mtim.tv_sec > best_t.tv_sec ||
		     (sb.st_mtim.tv_sec == best_t.tv_sec &&
		      (sb.st_mtim.tv_nsec > best_t.tv_nsec ||
		       (sb.st_mtim.tv_nsec == best_t.tv_nsec && strcmp(p, best) > 0))))) {
			free(best);
			best = p;
			best_t = sb.st_mtim;
		} else {
			free(p);
		}
	}
	if (d)
		closedir(d);
	if (!best)
		return err_set(e, CA_EINPUT, dir, 0, 0, "no sample file (sample*.json) in '%s':"
			       " write one with 'ca-audit sample -o %s/sample.json' or give"
			       " --sample FILE", dir, dir);
	*path = best;
	return 0;
}

void sample_free(struct sample *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->recs[i].key);
		free(s->recs[i].stratum);
	}
	for (i = 0; i < s->nstrata; i++)
		free(s->strata[i].name);
	free(s->recs);
	free(s->strata);
	free(s->seed);
	free(s->of);
	free(s->stratify_by);
	free(s->method);
	free(s->as_of);
	free(s);
}
