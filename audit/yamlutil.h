/*
 * yamlutil.h — a loaded YAML document with positions, for the config and
 * checklist loaders (the only users of libyaml besides this module).
 *
 * ydoc_load parses a whole file into libyaml's node graph and rejects what
 * YAML allows but a configuration must not have: duplicate keys in a mapping,
 * more than one document. Lookups return borrowed nodes, valid until
 * ydoc_free. Every error names file:line:col (1-based) of the offending node.
 */
#ifndef CA_YAMLUTIL_H
#define CA_YAMLUTIL_H

#include <yaml.h>

#include "err.h"
#include "records.h"

struct ydoc {
	yaml_document_t doc; /* owned */
	char *file;          /* owned: path as given, used in messages */
	int loaded;          /* doc must be deleted */
};

int ydoc_load(const char *path, struct ydoc *d, struct err *e);
/* Same, from a buffer; name is used in messages. */
int ydoc_load_buffer(const char *name, const unsigned char *buf, size_t len,
		     struct ydoc *d, struct err *e);
void ydoc_free(struct ydoc *d); /* accepts a zeroed or half-loaded ydoc */

yaml_node_t *ydoc_root(struct ydoc *d);                  /* NULL for an empty file */
int ydoc_is_map(const yaml_node_t *n);
int ydoc_is_seq(const yaml_node_t *n);
int ydoc_is_scalar(const yaml_node_t *n);
const char *ydoc_scalar(const yaml_node_t *n);          /* NULL unless scalar */
/* Is this scalar a plain "~", "null" or empty value? */
int ydoc_is_null(const yaml_node_t *n);

/* Item i of a sequence, NULL past the end. */
yaml_node_t *ydoc_seq_item(struct ydoc *d, yaml_node_t *seq, size_t i);
size_t ydoc_seq_len(const yaml_node_t *seq);
/* Pair i of a mapping: key and value; returns 0 past the end. */
int ydoc_map_pair(struct ydoc *d, yaml_node_t *map, size_t i,
		  yaml_node_t **key, yaml_node_t **value);
/* Value for key in map, NULL if absent. */
yaml_node_t *ydoc_get(struct ydoc *d, yaml_node_t *map, const char *key);

/* Sets e to "file:line:col: <message>" at node n; returns -1. */
int ydoc_error(struct ydoc *d, const yaml_node_t *n, struct err *e,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fails on the first key of map that is not in allowed (NULL-terminated),
 * naming it and listing what is allowed. */
int ydoc_check_keys(struct ydoc *d, yaml_node_t *map,
		    const char *const *allowed, struct err *e);

/* Typed getters: when the key is absent, required=1 fails ("missing key 'x'")
 * and required=0 leaves *out unchanged. A value of the wrong type fails at the
 * value's position ("expected a string"). Strings are copied (owned by caller,
 * replacing and freeing *out). */
int ydoc_get_str(struct ydoc *d, yaml_node_t *map, const char *key, int required,
		 char **out, struct err *e);
int ydoc_get_int(struct ydoc *d, yaml_node_t *map, const char *key, int required,
		 long *out, struct err *e);
/* A date "YYYY-MM-DD", checked for a real calendar date. */
int ydoc_get_date(struct ydoc *d, yaml_node_t *map, const char *key, int required,
		  char **out, struct err *e);
/* A sequence of scalars (a lone scalar is taken as a list of one). */
int ydoc_get_strlist(struct ydoc *d, yaml_node_t *map, const char *key,
		     int required, struct strlist *out, struct err *e);

/* Scalar conversions with the same messages, for nodes already in hand. */
int ydoc_to_str(struct ydoc *d, yaml_node_t *n, char **out, struct err *e);
int ydoc_to_int(struct ydoc *d, yaml_node_t *n, long *out, struct err *e);
int ydoc_to_date(struct ydoc *d, yaml_node_t *n, char **out, struct err *e);

#endif
