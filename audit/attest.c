/*
 * attest.c — loading the attestations file and writing it to the store's
 * attestation table; see attest.h. The file is validated against the
 * checklists themselves, so that a typo in an item id is an error at its
 * line rather than an answer that silently never applies.
 */
#include "attest.h"

#include <stdlib.h>
#include <string.h>

#include "yamlutil.h"

static const char *const results[] = {"pass", "fail", "na", NULL};
static const char *const labels[] = {"符合", "不符合", "不适用", NULL};

const char *attest_label(const char *result)
{
	for (int i = 0; result && results[i]; i++)
		if (!strcmp(result, results[i]))
			return labels[i];
	return NULL;
}

void attest_free(struct attestations *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		struct attestation *x = &a->v[i];
		free(x->checklist);
		free(x->item);
		free(x->result);
		free(x->note);
		free(x->evidence);
		free(x->by);
		free(x->at);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

const struct attestation *attest_find(const struct attestations *a, const char *checklist,
				      const char *item)
{
	for (size_t i = 0; a && i < a->n; i++)
		if (!strcmp(a->v[i].checklist, checklist) && !strcmp(a->v[i].item, item))
			return &a->v[i];
	return NULL;
}

/* The checklists the file names that are not among those run, loaded once
 * each; owned by the loader. */
struct known {
	const struct config *cfg;
	struct checklist *const *lists;
	size_t n;
	struct checklist **extra;
	size_t n_extra;
};

static const struct checklist *known_find(struct known *k, const char *id)
{
	struct checklist *c = NULL, **grown;
	struct err ignored;
	char *path = NULL;

	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->lists[i]->id, id))
			return k->lists[i];
	for (size_t i = 0; i < k->n_extra; i++)
		if (!strcmp(k->extra[i]->id, id))
			return k->extra[i];
	/* an id only: a path here would make the file's meaning depend on cwd */
	if (!k->cfg || strchr(id, '/') || strstr(id, ".yaml") ||
	    rules_find(k->cfg, id, &path, &ignored) ||
	    rules_load(path, &c, NULL, &ignored) || strcmp(c->id, id)) {
		free(path);
		checklist_free(c);
		return NULL;
	}
	free(path);
	if (!(grown = realloc(k->extra, (k->n_extra + 1) * sizeof *grown))) {
		checklist_free(c);
		return NULL;
	}
	k->extra = grown;
	k->extra[k->n_extra++] = c;
	return c;
}

static int check_target(struct ydoc *d, yaml_node_t *n, struct known *k,
			const struct attestation *x, struct err *e)
{
	const struct checklist *cl = known_find(k, x->checklist);
	const struct rule_item *it = NULL;

	if (!cl)
		return ydoc_error(d, ydoc_get(d, n, "checklist"), e, "unknown checklist '%s'",
				  x->checklist);
	for (size_t i = 0; i < cl->n_items && !it; i++)
		if (!strcmp(cl->items[i].id, x->item))
			it = &cl->items[i];
	if (!it)
		return ydoc_error(d, ydoc_get(d, n, "item"), e,
				  "checklist '%s' has no item '%s'", x->checklist, x->item);
	if (it->kind != RULE_MANUAL)
		return ydoc_error(d, ydoc_get(d, n, "item"), e,
				  "item '%s' of checklist '%s' is checked automatically, not"
				  " attested", x->item, x->checklist);
	return 0;
}

static int load_entry(struct ydoc *d, yaml_node_t *n, struct known *k,
		      struct attestations *a, struct err *e)
{
	static const char *const keys[] = {"checklist", "item", "result", "note",
					   "evidence", "by", "at", NULL};
	struct attestation *x = &a->v[a->n];
	const struct attestation *prev;

	if (!ydoc_is_map(n))
		return ydoc_error(d, n, e, "expected an attestation {checklist, item, result,"
				  " note, evidence, by, at}");
	memset(x, 0, sizeof *x);
	x->line = (int)n->start_mark.line + 1;
	a->n++; /* owned from here on, so that attest_free releases a half-read entry */
	if (ydoc_check_keys(d, n, keys, e) ||
	    ydoc_get_str(d, n, "checklist", 1, &x->checklist, e) ||
	    ydoc_get_str(d, n, "item", 1, &x->item, e) ||
	    ydoc_get_str(d, n, "result", 1, &x->result, e) ||
	    ydoc_get_str(d, n, "note", 0, &x->note, e) ||
	    ydoc_get_str(d, n, "evidence", 0, &x->evidence, e) ||
	    ydoc_get_str(d, n, "by", 0, &x->by, e) ||
	    ydoc_get_date(d, n, "at", 0, &x->at, e))
		return -1;
	if (!attest_label(x->result))
		return ydoc_error(d, ydoc_get(d, n, "result"), e,
				  "unknown result '%s' (expected pass, fail or na)", x->result);
	if (check_target(d, n, k, x, e))
		return -1;
	a->n--; /* not yet counted while looking for an earlier answer */
	prev = attest_find(a, x->checklist, x->item);
	a->n++;
	if (prev)
		return ydoc_error(d, n, e, "item '%s' of checklist '%s' is already attested"
				  " at line %d", x->item, x->checklist, prev->line);
	return 0;
}

int attest_load(const char *path, const struct config *cfg,
		struct checklist *const *lists, size_t n, struct attestations *out,
		struct err *e)
{
	static const char *const top[] = {"attestations", NULL};
	struct known k = {.cfg = cfg, .lists = lists, .n = n};
	struct ydoc d;
	yaml_node_t *root, *list, *item;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (ydoc_load(path, &d, e))
		return -1;
	list = root = ydoc_root(&d);
	if (root && ydoc_is_map(root)) {
		if (ydoc_check_keys(&d, root, top, e))
			goto out;
		list = ydoc_get(&d, root, "attestations");
	}
	if (!list || ydoc_is_null(list)) {
		rc = 0;
		goto out;
	}
	if (!ydoc_is_seq(list)) {
		ydoc_error(&d, list, e, "expected a list of attestations");
		goto out;
	}
	if (!(out->v = calloc(ydoc_seq_len(list) + 1, sizeof *out->v))) {
		err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; (item = ydoc_seq_item(&d, list, i)); i++)
		if (load_entry(&d, item, &k, out, e))
			goto out;
	rc = 0;
out:
	for (size_t i = 0; i < k.n_extra; i++)
		checklist_free(k.extra[i]);
	free(k.extra);
	ydoc_free(&d);
	if (rc)
		attest_free(out);
	return rc;
}

int attest_store(sqlite3 *db, const char *db_path, const struct attestations *a,
		 struct err *e)
{
	sqlite3_stmt *ins = NULL;
	int rc = 0;

	if (sqlite3_exec(db, "DELETE FROM main.attestation", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO main.attestation(checklist, item, result, note,"
			       " evidence, by, at) VALUES(?1,?2,?3,?4,?5,?6,?7)", -1, &ins,
			       NULL) != SQLITE_OK)
		return err_set(e, CA_EDB, db_path, 0, 0, "unable to store the attestations: %s",
			       sqlite3_errmsg(db));
	for (size_t i = 0; !rc && i < a->n; i++) {
		const struct attestation *x = &a->v[i];
		const char *v[] = {x->checklist, x->item, x->result, x->note, x->evidence,
				   x->by, x->at};
		for (int j = 0; j < 7; j++)
			sqlite3_bind_text(ins, j + 1, v[j], -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = err_set(e, CA_EDB, db_path, 0, 0, "unable to store the attestations:"
				     " %s", sqlite3_errmsg(db));
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	return rc;
}
