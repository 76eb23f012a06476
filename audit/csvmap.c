/*
 * csvmap.c — loading and validating a CSV source's mapping file; see
 * csvmap.h. Everything is checked here, at load, so that a mistake in the
 * mapping is one error with a position rather than every row of the export
 * rejected for the same reason.
 */
#include "csvmap.h"

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "timeutil.h"
#include "yamlutil.h"

static const char *const top_keys[] = {"encoding", "delimiter", "time", "columns",
				       "values", "lists", NULL};
static const char *const time_keys[] = {"format", "zone", NULL};
static const char *const encodings[] = {"utf-8", "gb18030", "gbk", NULL};

struct loader {
	struct ydoc d;
	struct csvmap *m;
	struct err *e;
};

void csvmap_free(struct csvmap *m)
{
	if (!m)
		return;
	free(m->file);
	free(m->encoding);
	free(m->time_format);
	free(m->time_zone);
	for (size_t i = 0; i < m->n_columns; i++) {
		free(m->columns[i].header);
		free(m->columns[i].field);
	}
	free(m->columns);
	for (size_t i = 0; i < m->n_values; i++) {
		free(m->values[i].field);
		free(m->values[i].from);
		free(m->values[i].to);
	}
	free(m->values);
	for (size_t i = 0; i < m->n_lists; i++) {
		free(m->lists[i].field);
		free(m->lists[i].sep);
	}
	free(m->lists);
	free(m);
}

static int oom(struct loader *l)
{
	return err_set(l->e, CA_EINTERNAL, l->d.file, 0, 0, "out of memory");
}

static void join(const char *const *names, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", names[i]);
}

/* A canonical field name at node k. */
static int known_field(struct loader *l, yaml_node_t *k, const char **out)
{
	const char *s = ydoc_scalar(k);
	char names[600];

	if (!s || !*s)
		return ydoc_error(&l->d, k, l->e, "expected a canonical field name");
	if (!events_field(&(struct event_rec){0}, &(struct app_rec){0}, s)) {
		join(events_fields, names, sizeof names);
		return ydoc_error(&l->d, k, l->e, "unknown field '%s' (expected one of: %s)", s,
				  names);
	}
	*out = s;
	return 0;
}

/* A non-empty scalar at n. */
static int text(struct loader *l, yaml_node_t *n, const char *what, char **out)
{
	const char *s = ydoc_scalar(n);

	if (!s || !*s)
		return ydoc_error(&l->d, n, l->e, "expected a non-empty string for %s", what);
	free(*out);
	return (*out = strdup(s)) ? 0 : oom(l);
}

static int load_basics(struct loader *l, yaml_node_t *root)
{
	struct csvmap *m = l->m;
	yaml_node_t *n;
	char names[100], probe[20];
	struct err te = {0};

	if ((n = ydoc_get(&l->d, root, "encoding"))) {
		if (text(l, n, "'encoding'", &m->encoding))
			return -1;
		for (char *p = m->encoding; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		for (size_t i = 0; encodings[i]; i++)
			if (!strcmp(m->encoding, encodings[i]))
				goto delimiter;
		join(encodings, names, sizeof names);
		return ydoc_error(&l->d, n, l->e, "unknown encoding '%s' (expected one of: %s)",
				  m->encoding, names);
	}
delimiter:
	if ((n = ydoc_get(&l->d, root, "delimiter"))) {
		const char *s = ydoc_scalar(n);

		if (!s || strlen(s) != 1 || (unsigned char)*s >= 0x80 || *s == '"' ||
		    *s == '\n' || *s == '\r')
			return ydoc_error(&l->d, n, l->e, "expected one ASCII character other than a "
					  "quote or line break for 'delimiter'");
		m->delimiter = *s;
	}
	if (!(n = ydoc_get(&l->d, root, "time")))
		return 0;
	if (ydoc_check_keys(&l->d, n, time_keys, l->e) ||
	    ydoc_get_str(&l->d, n, "format", 0, &m->time_format, l->e) ||
	    ydoc_get_str(&l->d, n, "zone", 0, &m->time_zone, l->e))
		return -1;
	/* without a format, times are RFC 3339 as in JSON Lines, and those without
	 * an offset are in the configured zone: a zone here would be ignored */
	if (m->time_zone && !m->time_format)
		return ydoc_error(&l->d, ydoc_get(&l->d, n, "zone"), l->e,
				  "'zone' applies to times read with a 'format': add one");
	/* a parse that cannot fail but for the zone */
	if (m->time_zone && time_parse_fmt("2000", "%Y", m->time_zone, probe, &te))
		return ydoc_error(&l->d, ydoc_get(&l->d, n, "zone"), l->e, "%s", te.msg);
	return 0;
}

static int load_columns(struct loader *l, yaml_node_t *root)
{
	struct csvmap *m = l->m;
	yaml_node_t *map = ydoc_get(&l->d, root, "columns"), *k, *v;
	const char *field;
	size_t n = 0;

	if (!map)
		return ydoc_error(&l->d, root, l->e, "missing key 'columns'");
	if (!ydoc_is_map(map))
		return ydoc_error(&l->d, map, l->e, "expected a mapping of header to field");
	while (ydoc_map_pair(&l->d, map, n, &k, &v))
		n++;
	if (!(m->columns = calloc(n ? n : 1, sizeof *m->columns)))
		return oom(l);
	for (size_t i = 0; ydoc_map_pair(&l->d, map, i, &k, &v); i++) {
		if (known_field(l, v, &field))
			return -1;
		for (size_t j = 0; j < m->n_columns; j++)
			if (!strcmp(m->columns[j].field, field))
				return ydoc_error(&l->d, v, l->e, "field '%s' is already the column "
						  "'%s'", field, m->columns[j].header);
		m->n_columns++;
		if (text(l, k, "a header", &m->columns[i].header) ||
		    !(m->columns[i].field = strdup(field)))
			return l->e->kind ? -1 : oom(l);
	}
	for (const char *const *req = (const char *const[]){"kind", "at", NULL}; *req; req++) {
		size_t j;

		for (j = 0; j < m->n_columns && strcmp(m->columns[j].field, *req); j++)
			;
		if (j == m->n_columns)
			return ydoc_error(&l->d, map, l->e, "no column maps to the field '%s'", *req);
	}
	return 0;
}

static int add_value(struct loader *l, const char *field, yaml_node_t *k, yaml_node_t *v)
{
	struct csvmap *m = l->m;
	struct csvmap_value *nv = realloc(m->values, (m->n_values + 1) * sizeof *nv);

	if (!nv)
		return oom(l);
	m->values = nv;
	nv = &m->values[m->n_values++];
	memset(nv, 0, sizeof *nv);
	if (!(nv->field = strdup(field)))
		return oom(l);
	return text(l, k, "an exported value", &nv->from) ||
	       text(l, v, "a canonical value", &nv->to);
}

static int load_values(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *map = ydoc_get(&l->d, root, "values"), *k, *v, *k2, *v2;
	const char *field;

	if (!map)
		return 0;
	if (!ydoc_is_map(map))
		return ydoc_error(&l->d, map, l->e, "expected a mapping of field to values");
	for (size_t i = 0; ydoc_map_pair(&l->d, map, i, &k, &v); i++) {
		if (known_field(l, k, &field))
			return -1;
		if (!ydoc_is_map(v))
			return ydoc_error(&l->d, v, l->e, "expected a mapping of exported value to "
					  "canonical value for '%s'", field);
		for (size_t j = 0; ydoc_map_pair(&l->d, v, j, &k2, &v2); j++)
			if (add_value(l, field, k2, v2))
				return -1;
	}
	return 0;
}

static int load_lists(struct loader *l, yaml_node_t *root)
{
	struct csvmap *m = l->m;
	yaml_node_t *map = ydoc_get(&l->d, root, "lists"), *k, *v;
	const char *field;
	size_t n = 0;

	if (!map)
		return 0;
	if (!ydoc_is_map(map))
		return ydoc_error(&l->d, map, l->e, "expected a mapping of field to separator");
	while (ydoc_map_pair(&l->d, map, n, &k, &v))
		n++;
	if (!(m->lists = calloc(n ? n : 1, sizeof *m->lists)))
		return oom(l);
	for (size_t i = 0; ydoc_map_pair(&l->d, map, i, &k, &v); i++) {
		if (known_field(l, k, &field))
			return -1;
		if (!events_is_list(field))
			return ydoc_error(&l->d, k, l->e, "field '%s' is not a list (expected items "
					  "or covers)", field);
		m->n_lists++;
		if (!(m->lists[i].field = strdup(field)) ||
		    text(l, v, "a list separator", &m->lists[i].sep))
			return l->e->kind ? -1 : oom(l);
	}
	return 0;
}

int csvmap_load(const char *path, struct csvmap **out, struct err *e)
{
	struct loader l = {.e = e};
	yaml_node_t *root;
	int rc = -1;

	*out = NULL;
	if (!(l.m = calloc(1, sizeof *l.m)) || !(l.m->file = strdup(path)) ||
	    !(l.m->encoding = strdup("utf-8"))) {
		csvmap_free(l.m);
		return err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory");
	}
	l.m->delimiter = ',';
	if (ydoc_load(path, &l.d, e))
		goto out;
	if (!(root = ydoc_root(&l.d))) {
		err_set(e, CA_EINPUT, path, 0, 0, "empty mapping file");
		goto out;
	}
	if (ydoc_check_keys(&l.d, root, top_keys, e) || load_basics(&l, root) ||
	    load_columns(&l, root) || load_values(&l, root) || load_lists(&l, root))
		goto out;
	*out = l.m;
	l.m = NULL;
	rc = 0;
out:
	ydoc_free(&l.d);
	csvmap_free(l.m);
	return rc;
}

const char *csvmap_value_of(const struct csvmap *m, const char *field, const char *raw)
{
	for (size_t i = 0; i < m->n_values; i++)
		if (!strcmp(m->values[i].field, field) && !strcmp(m->values[i].from, raw))
			return m->values[i].to;
	return raw;
}

const char *csvmap_list_sep(const struct csvmap *m, const char *field)
{
	for (size_t i = 0; i < m->n_lists; i++)
		if (!strcmp(m->lists[i].field, field))
			return m->lists[i].sep;
	return NULL;
}
