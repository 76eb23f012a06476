/*
 * rules.c — loading and validating checklists; see rules.h.
 *
 * Validation does not stop at the first problem: a checklist author fixing a
 * file wants the whole list, so every check records its error in the
 * loader and carries on with the next key or item. Only the YAML syntax
 * itself (which libyaml cannot recover from) ends the load early.
 */
#include "rules.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "yamlutil.h"

#ifndef CA_AUDIT_DATADIR
#define CA_AUDIT_DATADIR "/usr/local/share/ca-audit"
#endif

static const char *const severity_names[] = {"info", "low", "medium", "high", "critical"};

const char *rules_severity_name(int sev)
{
	if (sev < RULE_SEV_INFO || sev > RULE_SEV_CRITICAL)
		return "?";
	return severity_names[sev];
}

int rules_severity_parse(const char *s)
{
	for (int i = RULE_SEV_INFO; s && i <= RULE_SEV_CRITICAL; i++)
		if (!strcmp(s, severity_names[i]))
			return i;
	return -1;
}

/* ---- collecting errors ---- */

struct loader {
	struct ydoc d;
	struct rules_errors *errs; /* borrowed; may be NULL */
	struct err first;          /* the first problem */
	int n_errors;
};

static void errs_push(struct rules_errors *errs, const struct err *e)
{
	if (!errs)
		return;
	if (errs->n == errs->cap) {
		size_t cap = errs->cap ? errs->cap * 2 : 8;
		struct err *v = realloc(errs->v, cap * sizeof *v);
		if (!v)
			return;
		errs->v = v;
		errs->cap = cap;
	}
	errs->v[errs->n++] = *e;
}

static void note(struct loader *L, const struct err *e)
{
	if (!L->n_errors++)
		L->first = *e;
	errs_push(L->errs, e);
}

/* Records a problem at node n and returns -1. */
static int bad(struct loader *L, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct loader *L, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[900];
	struct err e = {0};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ydoc_error(&L->d, n, &e, "%s", msg);
	note(L, &e);
	return -1;
}

/* Wraps a yamlutil call that fails with its own message. */
static int keep(struct loader *L, int rc, const struct err *e)
{
	if (rc)
		note(L, e);
	return rc;
}

/* Reports every key of map not in allowed; returns -1 if map is not a
 * mapping (its content cannot be read then). */
static int check_keys(struct loader *L, yaml_node_t *map, const char *what,
		      const char *const *allowed)
{
	yaml_node_t *k, *v;

	if (!ydoc_is_map(map))
		return bad(L, map, "expected a mapping for %s", what);
	for (size_t i = 0; ydoc_map_pair(&L->d, map, i, &k, &v); i++) {
		const char *s = ydoc_scalar(k);
		size_t j;
		char list[400] = "";

		for (j = 0; allowed[j] && !(s && !strcmp(s, allowed[j])); j++)
			;
		if (allowed[j])
			continue;
		for (j = 0; allowed[j]; j++) {
			size_t used = strlen(list);
			snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", allowed[j]);
		}
		bad(L, k, "unknown key '%s' in %s (expected one of: %s)", s ? s : "?", what, list);
	}
	return 0;
}

static void get_str(struct loader *L, yaml_node_t *map, const char *key, int required,
		    char **out)
{
	struct err e = {0};

	keep(L, ydoc_get_str(&L->d, map, key, required, out, &e), &e);
}

static void get_date(struct loader *L, yaml_node_t *map, const char *key, char **out)
{
	struct err e = {0};

	keep(L, ydoc_get_date(&L->d, map, key, 0, out, &e), &e);
}

static void get_list(struct loader *L, yaml_node_t *map, const char *key,
		     struct strlist *out)
{
	struct err e = {0};

	keep(L, ydoc_get_strlist(&L->d, map, key, 0, out, &e), &e);
}

/* {from, to} dates with from <= to. */
static void get_range(struct loader *L, yaml_node_t *map, const char *key, char **from,
		      char **to)
{
	static const char *const keys[] = {"from", "to", NULL};
	yaml_node_t *n = ydoc_get(&L->d, map, key);
	char what[64];

	if (!n)
		return;
	snprintf(what, sizeof what, "'%s'", key);
	if (check_keys(L, n, what, keys))
		return;
	get_date(L, n, "from", from);
	get_date(L, n, "to", to);
	if (*from && *to && strcmp(*from, *to) > 0)
		bad(L, n, "'%s' ends (%s) before it starts (%s)", key, *to, *from);
}

/* ---- items ---- */

static int parse_number(const char *s, double *out)
{
	char *end;

	if (!s || !*s)
		return -1;
	*out = strtod(s, &end);
	return *end ? -1 : 0;
}

static void parse_check(struct loader *L, yaml_node_t *n, struct rule_check *c)
{
	static const char *const keys[] = {"from", "where", "key", "date", "evidence",
					   "message", "sql", "checked", NULL};

	if (check_keys(L, n, "'check'", keys))
		return;
	get_str(L, n, "from", 0, &c->from);
	get_str(L, n, "where", 0, &c->where);
	get_str(L, n, "key", 0, &c->key);
	get_str(L, n, "date", 0, &c->date);
	get_str(L, n, "sql", 0, &c->sql);
	get_str(L, n, "checked", 0, &c->checked);
	get_str(L, n, "message", 1, &c->message);
	get_list(L, n, "evidence", &c->evidence);
	if (c->sql) {
		if (c->from || c->where || c->key || c->date)
			bad(L, n, "'sql' replaces 'from', 'where', 'key' and 'date': give"
				  " either 'sql' or 'from' with 'where' and 'key'");
		return;
	}
	if (!c->from)
		bad(L, n, "missing key 'from' (or 'sql')");
	if (!c->where)
		bad(L, n, "missing key 'where'");
	if (!c->key)
		bad(L, n, "missing key 'key'");
	if (!c->evidence.n)
		bad(L, n, "missing key 'evidence' (the columns kept with each finding)");
}

static void parse_bound(struct loader *L, yaml_node_t *n, const char *key, int *has,
			double *v)
{
	yaml_node_t *b = ydoc_get(&L->d, n, key);

	if (!b)
		return;
	if (parse_number(ydoc_scalar(b), v))
		bad(L, b, "expected a number for '%s'", key);
	else
		*has = 1;
}

static void parse_metric(struct loader *L, yaml_node_t *n, struct rule_metric *m)
{
	static const char *const keys[] = {"sql", "max", "min", "message", NULL};

	if (check_keys(L, n, "'metric'", keys))
		return;
	get_str(L, n, "sql", 1, &m->sql);
	get_str(L, n, "message", 0, &m->message);
	parse_bound(L, n, "max", &m->has_max, &m->max);
	parse_bound(L, n, "min", &m->has_min, &m->min);
	if (!m->has_max && !m->has_min)
		bad(L, n, "a metric needs 'max' or 'min'");
}

static void parse_rectification(struct loader *L, yaml_node_t *n, struct rule_item *it)
{
	static const char *const keys[] = {"measures", "due", NULL};
	static const char *const due_keys[] = {"workdays", "date", NULL};
	yaml_node_t *due;
	struct err e = {0};

	if (check_keys(L, n, "'rectification'", keys))
		return;
	get_str(L, n, "measures", 0, &it->measures);
	due = ydoc_get(&L->d, n, "due");
	if (!due || check_keys(L, due, "'due'", due_keys))
		return;
	if (keep(L, ydoc_get_int(&L->d, due, "workdays", 0, &it->due_workdays, &e), &e))
		return;
	get_date(L, due, "date", &it->due_date);
	if (ydoc_get(&L->d, due, "workdays") && it->due_workdays <= 0)
		bad(L, ydoc_get(&L->d, due, "workdays"), "'workdays' must be positive");
	if (!!ydoc_get(&L->d, due, "workdays") + !!ydoc_get(&L->d, due, "date") != 1)
		bad(L, due, "'due' takes exactly one of 'workdays' and 'date'");
}

/* Which of check/metric/manual the item has; reports none or several. */
static void parse_kind(struct loader *L, yaml_node_t *n, struct rule_item *it)
{
	yaml_node_t *check = ydoc_get(&L->d, n, "check");
	yaml_node_t *metric = ydoc_get(&L->d, n, "metric");
	yaml_node_t *manual = ydoc_get(&L->d, n, "manual");
	int is_manual = 0;

	if (manual) {
		const char *s = ydoc_scalar(manual);
		if (s && !strcmp(s, "true"))
			is_manual = 1;
		else if (!(s && !strcmp(s, "false")))
			bad(L, manual, "expected true or false for 'manual'");
	}
	if (!!check + !!metric + is_manual != 1) {
		bad(L, n, "item '%s' needs exactly one of 'check', 'metric' and 'manual: true'"
			  " (found %d)", it->id ? it->id : "?", !!check + !!metric + is_manual);
		return;
	}
	if (check) {
		it->kind = RULE_CHECK;
		parse_check(L, check, &it->check);
	} else if (metric) {
		it->kind = RULE_METRIC;
		parse_metric(L, metric, &it->metric);
	} else {
		it->kind = RULE_MANUAL;
	}
}

static void parse_item(struct loader *L, yaml_node_t *n, struct rule_item *it)
{
	static const char *const keys[] = {"id", "section", "title", "basis", "severity",
					   "effective", "check", "metric", "manual",
					   "rectification", NULL};
	yaml_node_t *sev, *rect;
	char *s = NULL;

	it->line = (int)n->start_mark.line + 1;
	it->severity = RULE_SEV_MEDIUM;
	if (check_keys(L, n, "an item", keys))
		return;
	get_str(L, n, "id", 1, &it->id);
	get_str(L, n, "section", 0, &it->section);
	get_str(L, n, "title", 1, &it->title);
	get_list(L, n, "basis", &it->basis);
	if ((sev = ydoc_get(&L->d, n, "severity"))) {
		get_str(L, n, "severity", 0, &s);
		if (s && (it->severity = rules_severity_parse(s)) < 0) {
			bad(L, sev, "unknown severity '%s' (expected critical, high, medium,"
				    " low or info)", s);
			it->severity = RULE_SEV_MEDIUM;
		}
		free(s);
	}
	get_range(L, n, "effective", &it->eff_from, &it->eff_to);
	parse_kind(L, n, it);
	if ((rect = ydoc_get(&L->d, n, "rectification")))
		parse_rectification(L, rect, it);
}

static void parse_items(struct loader *L, yaml_node_t *seq, struct checklist *c)
{
	size_t n = ydoc_seq_len(seq);
	yaml_node_t *item;

	if (!ydoc_is_seq(seq) || !n) {
		bad(L, seq, "expected a non-empty list of items");
		return;
	}
	c->items = calloc(n, sizeof *c->items);
	if (!c->items) {
		bad(L, seq, "out of memory");
		return;
	}
	for (size_t i = 0; (item = ydoc_seq_item(&L->d, seq, i)); i++) {
		struct rule_item *it = &c->items[c->n_items++];
		parse_item(L, item, it);
		for (size_t j = 0; it->id && j + 1 < c->n_items; j++)
			if (c->items[j].id && !strcmp(c->items[j].id, it->id))
				bad(L, ydoc_get(&L->d, item, "id"),
				    "duplicate item id '%s' (first at line %d)", it->id,
				    c->items[j].line);
	}
}

static void parse_checklist(struct loader *L, yaml_node_t *root, struct checklist *c)
{
	static const char *const keys[] = {"checklist", "title", "authority", "published",
					   "scope", "deadline", "items", NULL};
	yaml_node_t *items;

	if (!root) {
		struct err e = {0};
		err_set(&e, CA_EINPUT, L->d.file, 1, 1, "empty checklist file");
		note(L, &e);
		return;
	}
	if (check_keys(L, root, "a checklist", keys))
		return;
	get_str(L, root, "checklist", 1, &c->id);
	if (c->id && (!*c->id || strspn(c->id, "abcdefghijklmnopqrstuvwxyz0123456789-_.") !=
					 strlen(c->id)))
		bad(L, ydoc_get(&L->d, root, "checklist"),
		    "checklist id '%s' may hold only lowercase letters, digits, '-', '_' and '.'",
		    c->id);
	get_str(L, root, "title", 1, &c->title);
	get_str(L, root, "authority", 0, &c->authority);
	get_date(L, root, "published", &c->published);
	get_date(L, root, "deadline", &c->deadline);
	get_range(L, root, "scope", &c->scope_from, &c->scope_to);
	if (!(items = ydoc_get(&L->d, root, "items")))
		bad(L, root, "missing key 'items'");
	else
		parse_items(L, items, c);
}

int rules_load(const char *path, struct checklist **out, struct rules_errors *errs,
	       struct err *e)
{
	struct loader L = {.errs = errs};
	struct checklist *c;
	struct err ye = {0};

	*out = NULL;
	if (ydoc_load(path, &L.d, &ye)) {
		errs_push(errs, &ye);
		ydoc_free(&L.d);
		if (e)
			*e = ye;
		return -1;
	}
	c = calloc(1, sizeof *c);
	if (!c || !(c->path = strdup(path))) {
		free(c);
		ydoc_free(&L.d);
		return err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory");
	}
	parse_checklist(&L, ydoc_root(&L.d), c);
	ydoc_free(&L.d);
	if (L.n_errors) {
		checklist_free(c);
		if (e)
			*e = L.first;
		return -1;
	}
	*out = c;
	return 0;
}

static void item_clear(struct rule_item *it)
{
	struct rule_check *c = &it->check;

	free(it->id);
	free(it->section);
	free(it->title);
	strlist_free(&it->basis);
	free(it->eff_from);
	free(it->eff_to);
	free(c->from);
	free(c->where);
	free(c->key);
	free(c->date);
	free(c->sql);
	free(c->checked);
	strlist_free(&c->evidence);
	free(c->message);
	free(it->metric.sql);
	free(it->metric.message);
	free(it->measures);
	free(it->due_date);
}

void checklist_free(struct checklist *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_items; i++)
		item_clear(&c->items[i]);
	free(c->items);
	free(c->path);
	free(c->id);
	free(c->title);
	free(c->authority);
	free(c->published);
	free(c->scope_from);
	free(c->scope_to);
	free(c->deadline);
	free(c);
}

void rules_errors_free(struct rules_errors *errs)
{
	if (!errs)
		return;
	free(errs->v);
	memset(errs, 0, sizeof *errs);
}

/* ---- finding checklists ---- */

static int is_dir(const char *p)
{
	struct stat sb;

	return !stat(p, &sb) && S_ISDIR(sb.st_mode);
}

static int push_dir(struct strlist *out, const char *dir, struct err *e)
{
	char real[PATH_MAX];

	if (!dir || !*dir || !is_dir(dir))
		return 0;
	if (!realpath(dir, real))
		snprintf(real, sizeof real, "%s", dir);
	for (size_t i = 0; i < out->n; i++)
		if (!strcmp(out->v[i], real))
			return 0;
	if (strlist_push(out, real))
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	return 0;
}

static int is_path(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".yaml"));
}

/* Directories of the executable's source tree: build/ca-audit and
 * build/tests/test_* both sit below the tree's root. */
static int push_exe_dirs(struct strlist *out, struct err *e)
{
	char exe[PATH_MAX], dir[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash;

	if (n <= 0)
		return 0;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return 0;
	*slash = '\0';
	snprintf(dir, sizeof dir, "%s/../rules", exe);
	if (push_dir(out, dir, e))
		return -1;
	snprintf(dir, sizeof dir, "%s/../../rules", exe);
	return push_dir(out, dir, e);
}

int rules_dirs(const struct config *cfg, struct strlist *out, struct err *e)
{
	char *p;
	int rc = 0;

	if (cfg) {
		p = config_path(cfg, "rules");
		rc = push_dir(out, p, e);
		free(p);
		for (size_t i = 0; !rc && i < cfg->checklists.n; i++) {
			char *slash;
			if (!is_path(cfg->checklists.v[i]))
				continue;
			p = config_path(cfg, cfg->checklists.v[i]);
			if (p && (slash = strrchr(p, '/'))) {
				*slash = '\0';
				rc = push_dir(out, *p ? p : "/", e);
			}
			free(p);
		}
	}
	if (!rc)
		rc = push_dir(out, getenv("CA_AUDIT_RULES"), e);
	if (!rc)
		rc = push_exe_dirs(out, e);
	if (!rc)
		rc = push_dir(out, CA_AUDIT_DATADIR "/rules", e);
	return rc;
}

int rules_find(const struct config *cfg, const char *id_or_path, char **path,
	       struct err *e)
{
	struct strlist dirs = {0};
	struct stat sb;

	*path = NULL;
	if (is_path(id_or_path)) {
		*path = cfg ? config_path(cfg, id_or_path) : strdup(id_or_path);
		if (!*path)
			return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
		if (stat(*path, &sb)) {
			err_set(e, CA_EINPUT, "", 0, 0, "checklist file '%s' not found", *path);
			free(*path);
			*path = NULL;
			return -1;
		}
		return 0;
	}
	if (rules_dirs(cfg, &dirs, e))
		return -1;
	for (size_t i = 0; i < dirs.n && !*path; i++) {
		char *p = NULL;
		if (asprintf(&p, "%s/%s.yaml", dirs.v[i], id_or_path) < 0)
			p = NULL;
		if (p && !stat(p, &sb))
			*path = p;
		else
			free(p);
	}
	strlist_free(&dirs);
	if (!*path)
		return err_set(e, CA_EINPUT, "", 0, 0,
			       "unknown checklist '%s' (no %s.yaml in the rules directories;"
			       " see 'ca-audit rules list')", id_or_path, id_or_path);
	return 0;
}
