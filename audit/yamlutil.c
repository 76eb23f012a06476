/*
 * yamlutil.c — loading YAML with positions and strict typed lookups; see
 * yamlutil.h. libyaml already rejects tabs used as indentation; this module
 * adds what a strict configuration needs on top: no duplicate keys, one
 * document, and messages that point at the node.
 */
#include "yamlutil.h"
#include "timeutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int line_of(const yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 0; }
static int col_of(const yaml_node_t *n) { return n ? (int)n->start_mark.column + 1 : 0; }

int ydoc_error(struct ydoc *d, const yaml_node_t *n, struct err *e,
	       const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(e, CA_EINPUT, d->file, line_of(n), col_of(n), "%s", msg);
}

int ydoc_is_map(const yaml_node_t *n) { return n && n->type == YAML_MAPPING_NODE; }
int ydoc_is_seq(const yaml_node_t *n) { return n && n->type == YAML_SEQUENCE_NODE; }
int ydoc_is_scalar(const yaml_node_t *n) { return n && n->type == YAML_SCALAR_NODE; }

const char *ydoc_scalar(const yaml_node_t *n)
{
	return ydoc_is_scalar(n) ? (const char *)n->data.scalar.value : NULL;
}

int ydoc_is_null(const yaml_node_t *n)
{
	const char *s = ydoc_scalar(n);

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

yaml_node_t *ydoc_root(struct ydoc *d)
{
	return d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
}

size_t ydoc_seq_len(const yaml_node_t *seq)
{
	if (!ydoc_is_seq(seq))
		return 0;
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *ydoc_seq_item(struct ydoc *d, yaml_node_t *seq, size_t i)
{
	if (i >= ydoc_seq_len(seq))
		return NULL;
	return yaml_document_get_node(&d->doc, seq->data.sequence.items.start[i]);
}

int ydoc_map_pair(struct ydoc *d, yaml_node_t *map, size_t i, yaml_node_t **key,
		  yaml_node_t **value)
{
	yaml_node_pair_t *p;

	if (!ydoc_is_map(map))
		return 0;
	p = map->data.mapping.pairs.start + i;
	if (p >= map->data.mapping.pairs.top)
		return 0;
	*key = yaml_document_get_node(&d->doc, p->key);
	*value = yaml_document_get_node(&d->doc, p->value);
	return 1;
}

yaml_node_t *ydoc_get(struct ydoc *d, yaml_node_t *map, const char *key)
{
	yaml_node_t *k, *v;

	for (size_t i = 0; ydoc_map_pair(d, map, i, &k, &v); i++) {
		const char *s = ydoc_scalar(k);
		if (s && !strcmp(s, key))
			return v;
	}
	return NULL;
}

/* Walks every mapping once (node ids are a flat array) looking for a key
 * that appears twice. */
static int check_duplicates(struct ydoc *d, struct err *e)
{
	for (yaml_node_t *n = d->doc.nodes.start; n < d->doc.nodes.top; n++) {
		yaml_node_t *k1, *v1, *k2, *v2;

		if (n->type != YAML_MAPPING_NODE)
			continue;
		for (size_t i = 0; ydoc_map_pair(d, n, i, &k1, &v1); i++) {
			const char *a = ydoc_scalar(k1);
			if (!a)
				return ydoc_error(d, k1, e, "expected a plain key, not a collection");
			for (size_t j = i + 1; ydoc_map_pair(d, n, j, &k2, &v2); j++) {
				const char *b = ydoc_scalar(k2);
				if (b && !strcmp(a, b))
					return ydoc_error(d, k2, e,
							  "duplicate key '%s' (first at line %d)",
							  b, line_of(k1));
			}
		}
	}
	return 0;
}

int ydoc_load_buffer(const char *name, const unsigned char *buf, size_t len,
		     struct ydoc *d, struct err *e)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	int rc = -1;

	memset(d, 0, sizeof *d);
	d->file = strdup(name);
	if (!d->file)
		return err_set(e, CA_EINTERNAL, name, 0, 0, "out of memory");
	if (!yaml_parser_initialize(&parser))
		return err_set(e, CA_EINTERNAL, name, 0, 0, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, buf, len);
	if (!yaml_parser_load(&parser, &d->doc)) {
		const yaml_mark_t *m = parser.problem_mark.line || parser.problem_mark.column
					       ? &parser.problem_mark : &parser.context_mark;
		/* libyaml's message for a tab says nothing of tabs; say it */
		int tab = m->index < len && buf[m->index] == '\t';
		err_set(e, CA_EINPUT, name, (int)m->line + 1, (int)m->column + 1,
			"invalid YAML: %s%s%s%s", parser.problem ? parser.problem : "syntax error",
			parser.context ? " " : "", parser.context ? parser.context : "",
			tab ? " (a tab: YAML is indented with spaces only)" : "");
		goto out;
	}
	d->loaded = 1;
	if (yaml_document_get_root_node(&d->doc)) {
		if (!yaml_parser_load(&parser, &extra)) {
			err_set(e, CA_EINPUT, name, (int)parser.problem_mark.line + 1,
				(int)parser.problem_mark.column + 1, "invalid YAML: %s",
				parser.problem ? parser.problem : "syntax error");
			goto out;
		}
		if (yaml_document_get_root_node(&extra)) {
			yaml_node_t *r = yaml_document_get_root_node(&extra);
			err_set(e, CA_EINPUT, name, line_of(r), col_of(r),
				"expected one YAML document, found a second");
			yaml_document_delete(&extra);
			goto out;
		}
		yaml_document_delete(&extra);
	}
	rc = check_duplicates(d, e);
out:
	yaml_parser_delete(&parser);
	return rc;
}

int ydoc_load(const char *path, struct ydoc *d, struct err *e)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, got;
	int rc;

	memset(d, 0, sizeof *d);
	if (!f)
		return err_set(e, CA_EIO, path, 0, 0, "unable to open: %s", strerror(errno));
	do {
		if (cap - len < 65536) {
			unsigned char *nb = realloc(buf, cap + 65536);
			if (!nb) {
				free(buf);
				fclose(f);
				return err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory");
			}
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return err_set(e, CA_EIO, path, 0, 0, "unable to read: %s", strerror(errno));
	}
	fclose(f);
	rc = ydoc_load_buffer(path, buf, len, d, e);
	free(buf);
	return rc;
}

void ydoc_free(struct ydoc *d)
{
	if (!d)
		return;
	if (d->loaded)
		yaml_document_delete(&d->doc);
	free(d->file);
	memset(d, 0, sizeof *d);
}

int ydoc_check_keys(struct ydoc *d, yaml_node_t *map, const char *const *allowed,
		    struct err *e)
{
	yaml_node_t *k, *v;

	if (!ydoc_is_map(map))
		return ydoc_error(d, map, e, "expected a mapping");
	for (size_t i = 0; ydoc_map_pair(d, map, i, &k, &v); i++) {
		const char *s = ydoc_scalar(k);
		size_t j;
		char list[600] = "";

		for (j = 0; allowed[j]; j++)
			if (s && !strcmp(s, allowed[j]))
				break;
		if (allowed[j])
			continue;
		for (j = 0; allowed[j]; j++) {
			size_t used = strlen(list);
			snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", allowed[j]);
		}
		return ydoc_error(d, k, e, "unknown key '%s' (expected one of: %s)",
				  s ? s : "?", list);
	}
	return 0;
}

int ydoc_to_str(struct ydoc *d, yaml_node_t *n, char **out, struct err *e)
{
	const char *s = ydoc_scalar(n);
	char *copy;

	if (!s)
		return ydoc_error(d, n, e, "expected a string, found a %s",
				  ydoc_is_map(n) ? "mapping" : "sequence");
	copy = strdup(s);
	if (!copy)
		return err_set(e, CA_EINTERNAL, d->file, 0, 0, "out of memory");
	free(*out);
	*out = copy;
	return 0;
}

int ydoc_to_int(struct ydoc *d, yaml_node_t *n, long *out, struct err *e)
{
	const char *s = ydoc_scalar(n);
	char *end;
	long v;

	if (!s || !*s)
		return ydoc_error(d, n, e, "expected an integer");
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end)
		return ydoc_error(d, n, e, "expected an integer, found '%s'", s);
	*out = v;
	return 0;
}

int ydoc_to_date(struct ydoc *d, yaml_node_t *n, char **out, struct err *e)
{
	const char *s = ydoc_scalar(n);

	if (!s || !time_valid_date(s))
		return ydoc_error(d, n, e, "expected a date YYYY-MM-DD%s%s%s",
				  s ? ", found '" : "", s ? s : "", s ? "'" : "");
	return ydoc_to_str(d, n, out, e);
}

#define GETTER(name, type, conv)                                                  \
	int name(struct ydoc *d, yaml_node_t *map, const char *key, int required,  \
		 type out, struct err *e)                                          \
	{                                                                          \
		yaml_node_t *v = ydoc_get(d, map, key);                            \
		if (!v)                                                            \
			return required ? ydoc_error(d, map, e, "missing key '%s'", key) : 0; \
		return conv(d, v, out, e);                                         \
	}

GETTER(ydoc_get_str, char **, ydoc_to_str)
GETTER(ydoc_get_int, long *, ydoc_to_int)
GETTER(ydoc_get_date, char **, ydoc_to_date)

int ydoc_get_strlist(struct ydoc *d, yaml_node_t *map, const char *key,
		     int required, struct strlist *out, struct err *e)
{
	yaml_node_t *v = ydoc_get(d, map, key), *item;

	if (!v)
		return required ? ydoc_error(d, map, e, "missing key '%s'", key) : 0;
	if (ydoc_is_scalar(v)) {
		if (strlist_push(out, ydoc_scalar(v)))
			return err_set(e, CA_EINTERNAL, d->file, 0, 0, "out of memory");
		return 0;
	}
	if (!ydoc_is_seq(v))
		return ydoc_error(d, v, e, "expected a list of strings");
	for (size_t i = 0; (item = ydoc_seq_item(d, v, i)); i++) {
		if (!ydoc_is_scalar(item))
			return ydoc_error(d, item, e, "expected a string in the list");
		if (strlist_push(out, ydoc_scalar(item)))
			return err_set(e, CA_EINTERNAL, d->file, 0, 0, "out of memory");
	}
	return 0;
}
