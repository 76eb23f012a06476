/*
 * rules.h — checklists (DESIGN §7): loading the YAML files of rules/ into memory,
 * validating them, and finding a checklist by id.
 *
 * rules_load validates the whole file and reports every problem it finds at
 * once (unknown keys, missing keys, bad severities, duplicate item ids, an
 * item with none or more than one of check/metric/manual), each with
 * file:line:col, so that `rules lint` can show them all. Evaluating items is
 * the engine's business (engine.h); this module never touches SQLite.
 *
 * An automated item's `check` has two forms:
 *   - from/where/key: rows of the view or table `from` matching `where` are
 *     violations; `key` names the column whose value keys the finding
 *     ("serial" gives "serial:0A1B"); `date` is an SQL expression giving the
 *     record's date (default by view, see engine.c); `evidence` lists the
 *     columns kept with each finding;
 *   - sql: a full SELECT returning a column `key` (the whole finding key,
 *     "serial:0A1B"), a column `record_date`, and evidence columns (all the
 *     others, or those listed in `evidence`).
 * `checked` (optional, both forms) is a SELECT returning one row per record
 * considered, with a column record_date; it gives the "records checked".
 *
 * Ownership: a struct checklist owns all its strings and items;
 * checklist_free releases it. struct rules_errors owns its messages.
 */
#ifndef CA_RULES_H
#define CA_RULES_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "records.h"

enum rule_severity {
	RULE_SEV_INFO = 0,
	RULE_SEV_LOW,
	RULE_SEV_MEDIUM,
	RULE_SEV_HIGH,
	RULE_SEV_CRITICAL
};

enum rule_kind {
	RULE_CHECK = 1, /* check: SQL selecting violations */
	RULE_METRIC,    /* metric: SQL returning one number, bounded by max/min */
	RULE_MANUAL     /* answered in the attestations file */
};

struct rule_check {
	char *from;             /* view or table (from/where form), or NULL */
	char *where;            /* condition selecting violations */
	char *key;              /* column keying the finding */
	char *date;             /* SQL expression for the record's date, or NULL */
	char *sql;              /* full SELECT (sql form), or NULL */
	char *checked;          /* SELECT of record_date per record considered, or NULL */
	struct strlist evidence; /* evidence columns */
	char *message;          /* what a finding says (Chinese) */
};

struct rule_metric {
	char *sql;      /* SELECT returning one number */
	int has_max;
	int has_min;
	double max, min;
	char *message;  /* what the finding says when out of bounds; may be NULL */
};

struct rule_item {
	char *id;               /* "1.1": stable, unique in the checklist */
	char *section;          /* may be NULL */
	char *title;
	struct strlist basis;   /* citations */
	int severity;           /* enum rule_severity; RULE_SEV_MEDIUM when absent */
	char *eff_from, *eff_to; /* effective {from, to}: local dates or NULL */
	int kind;               /* enum rule_kind */
	struct rule_check check;
	struct rule_metric metric;
	char *measures;         /* rectification measures, or NULL */
	long due_workdays;      /* rectification due in working days; 0 = none */
	char *due_date;         /* or a fixed date; NULL = none */
	int line;               /* where the item starts, for messages */
};

struct checklist {
	char *path;             /* the file it was loaded from */
	char *id;
	char *title;
	char *authority;        /* may be NULL */
	char *published;        /* YYYY-MM-DD or NULL */
	char *scope_from;       /* local dates or NULL */
	char *scope_to;
	char *deadline;         /* rectification deadline, or NULL */
	struct rule_item *items; /* owned, n_items of them, in file order */
	size_t n_items;
};

/* Every problem found in one file, in file order. */
struct rules_errors {
	struct err *v;  /* owned */
	size_t n, cap;
};

/* Loads and validates path. On success *out is owned by the caller; when any
 * problem is found, *out is NULL, every problem is appended to errs (which
 * may be NULL) and the first is copied to e. */
int rules_load(const char *path, struct checklist **out, struct rules_errors *errs,
	       struct err *e);
void checklist_free(struct checklist *c); /* accepts NULL */
void rules_errors_free(struct rules_errors *errs); /* frees the list, zeroes it */

/* Resolves a checklist id or path to a file (malloc'd, owned by the caller).
 * A value containing '/' or ending in ".yaml" is a path, relative to the
 * configuration's directory. An id is looked up as <id>.yaml in the
 * directories of rules_dirs, first match wins. */
int rules_find(const struct config *cfg, const char *id_or_path, char **path,
	       struct err *e);
/* The directories searched for checklists, in order: rules/ beside the
 * configuration file and the directories of any configured checklist paths,
 * $CA_AUDIT_RULES, rules/ of the source tree the executable was built in,
 * CA_AUDIT_DATADIR/rules. Only existing directories are listed. */
int rules_dirs(const struct config *cfg, struct strlist *out, struct err *e);

/* "critical" ... "info" and back; -1 for an unknown name. */
const char *rules_severity_name(int sev);
int rules_severity_parse(const char *s);

#endif
