/*
 * findings.h — what happens to findings after the engine stored them:
 * waivers (accepted exceptions, from the configuration's waivers file), and
 * writing a run's results as text, JSON Lines (DESIGN §9) or CSV.
 *
 * Output is rendered from the store (run, item_result, finding), never by
 * re-running checks, so the same run can be written again in any format.
 * Personal fields of the evidence are masked (mask.h) unless reveal is set.
 *
 * Waivers file (YAML):
 *   waivers:
 *     - {checklist: miit-2022, item: "1.4", key: "serial:0A*",
 *        justification: ..., approver: ..., expires: 2025-12-31}
 * checklist, item and key are fnmatch patterns (checklist and key default
 * to "*"); a waiver stops applying after its expiry date.
 */
#ifndef CA_FINDINGS_H
#define CA_FINDINGS_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "store.h"

struct findings_waivers;

/* Loads a waivers file; *out is owned by the caller. */
int findings_waivers_load(const char *path, struct findings_waivers **out, struct err *e);
void findings_waivers_free(struct findings_waivers *w); /* accepts NULL */
/* Warns about each waiver that expired before as_of (its findings count
 * again) and returns how many did. path names the file in the warning. */
size_t findings_waivers_expired(const struct findings_waivers *w, const char *path,
				const char *as_of);
/* The justification of the first waiver in force on as_of (YYYY-MM-DD) that
 * matches, or NULL (also when w is NULL). Borrowed from w. */
const char *findings_waived(const struct findings_waivers *w, const char *checklist,
			    const char *item, const char *key, const char *as_of);

enum findings_format { FINDINGS_TEXT, FINDINGS_JSON, FINDINGS_CSV };

/* "text" | "json" | "csv" → enum, -1 when unknown. */
int findings_format_parse(const char *s);

/* Writes run's results to out: text = per checklist a table of items, then
 * the findings count; json = one line per finding, keys in the order of
 * §9; csv = a header, then one row per finding. Findings are ordered by
 * checklist, item, key. */
int findings_write(struct store *st, int64_t run, int format, int reveal, FILE *out,
		   struct err *e);

/* Findings of run with status new or open whose severity is at least
 * min_severity (enum rule_severity). */
int findings_count_failing(struct store *st, int64_t run, int min_severity, int64_t *n,
			   struct err *e);

/* One finding as the JSON line of §9 (no newline), evidence masked unless
 * reveal; malloc'd, owned by the caller; NULL if evidence is not JSON. */
char *findings_json_line(const char *checklist, const char *item, const char *severity,
			 const char *status, const char *key, const char *message,
			 const char *first_seen, const char *evidence, int reveal);

#endif
