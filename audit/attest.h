/*
 * attest.h — attestations (DESIGN §4 `attestations:`, §6 table attestation):
 * the compliance officer's answers to the manual items of the checklists,
 * kept in a YAML file beside the configuration:
 *
 *   - {checklist: egov-2009, item: "13", result: pass, note: 2024年度评估已完成,
 *      evidence: 评估报告 2024-03, by: 合规部 张三, at: 2024-03-20}
 *
 * (a list at the top, or the same list under an `attestations:` key).
 * checklist, item and result (pass | fail | na) are required; note, evidence,
 * by and at (a date) are optional. Unknown keys, a bad result, a checklist or
 * item that does not exist, an item that is not manual and a second answer to
 * the same item are errors with file:line:col.
 *
 * The engine loads the file before it runs the checklists, replaces the
 * store's attestation rows with it, and takes each manual item's result
 * from its attestation (engine.c).
 *
 * Ownership: struct attestations owns its entries and their strings;
 * attest_free releases them.
 */
#ifndef CA_ATTEST_H
#define CA_ATTEST_H

#include <sqlite3.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "rules.h"

struct attestation {
	char *checklist, *item;
	char *result;           /* "pass", "fail" or "na" */
	char *note, *evidence, *by; /* may be NULL */
	char *at;               /* YYYY-MM-DD or NULL */
	int line;               /* where the entry starts */
};

struct attestations {
	struct attestation *v; /* owned, n of them, in file order */
	size_t n;
};

/* Loads and validates path. Checklists are looked up among lists[0..n-1]
 * (borrowed), then by id through rules_find with cfg (may be NULL: then only
 * lists are known). On failure *out is left empty. */
int attest_load(const char *path, const struct config *cfg,
		struct checklist *const *lists, size_t n, struct attestations *out,
		struct err *e);
void attest_free(struct attestations *a); /* frees the entries, zeroes a */

/* The attestation of checklist/item, or NULL. Borrowed from a. */
const struct attestation *attest_find(const struct attestations *a, const char *checklist,
				      const char *item);

/* Replaces every row of the store's attestation table with a's entries
 * (a may be empty). Runs inside the caller's transaction, if any. */
int attest_store(sqlite3 *db, const char *db_path, const struct attestations *a,
		 struct err *e);

/* The item_result value for an attestation result: "pass", "fail", "na";
 * the Chinese label (符合, 不符合, 不适用) with attest_label. */
const char *attest_label(const char *result);

#endif
