/*
 * csvmap.h — the mapping file of a CSV event source (DESIGN §5): the
 * export's encoding, delimiter and time format, which header names which
 * canonical field, how exported values translate to canonical ones, and
 * which fields are lists with what separator.
 *
 * csvmap_load reads it with yamlutil and validates it whole: unknown keys,
 * unknown canonical fields, an encoding other than utf-8, gb18030 or gbk, an
 * unknown time zone, two headers for one field, and a mapping without a
 * column for `kind` or `at` are errors naming file:line:col. Headers and
 * values are UTF-8, as YAML is; the CSV source decodes the export before
 * comparing.
 */
#ifndef CA_CSVMAP_H
#define CA_CSVMAP_H

#include <stddef.h>

#include "err.h"

/* One header → canonical field. */
struct csvmap_column {
	char *header; /* owned: as written in the export's header row */
	char *field;  /* owned: one of events_fields (events.h) */
};

/* One exported value → canonical value, for one field. */
struct csvmap_value {
	char *field;  /* owned */
	char *from;   /* owned: as exported */
	char *to;     /* owned: canonical */
};

/* A list field and its separator. */
struct csvmap_list {
	char *field;  /* owned: items or covers */
	char *sep;    /* owned, non-empty */
};

struct csvmap {
	char *file;                     /* owned: the mapping's path, for messages */
	char *encoding;                 /* owned: utf-8 | gb18030 | gbk */
	char delimiter;                 /* default ',' */
	char *time_format;              /* owned: strptime format, NULL = RFC 3339 */
	char *time_zone;                /* owned: IANA zone, NULL = the configured one */
	struct csvmap_column *columns; size_t n_columns; /* owned */
	struct csvmap_value *values; size_t n_values;    /* owned */
	struct csvmap_list *lists; size_t n_lists;       /* owned */
};

/* Loads path; on failure *out is NULL and e says where and why. */
int csvmap_load(const char *path, struct csvmap **out, struct err *e);
void csvmap_free(struct csvmap *m); /* accepts NULL */

/* The canonical value of an exported one for field: the mapped value, or
 * raw itself when the mapping has none for it (validation then judges it).
 * Borrowed from m or raw. */
const char *csvmap_value_of(const struct csvmap *m, const char *field, const char *raw);
/* The separator of a list field, NULL when the mapping declares none. */
const char *csvmap_list_sep(const struct csvmap *m, const char *field);

#endif
