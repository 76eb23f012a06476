/*
 * config.c — loading and validating ca-audit.yaml (DESIGN §4); see config.h.
 *
 * The configuration decides which records are audited and against which
 * thresholds, so a typo must stop the run rather than silently change the
 * result: every mapping is checked for unknown keys, every value for its
 * type, and each error names file:line:col through the YAML helper. Paths
 * are kept as written and resolved only by config_path(), so that messages
 * and reports show what the user wrote.
 */
#include "config.h"
#include "pathglob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "yamlutil.h"

/* What the loader carries from section to section. */
struct loader {
	struct ydoc *d;   /* the parsed file, borrowed */
	struct config *c; /* being filled, borrowed */
	struct err *e;    /* the caller's, borrowed */
};

/* One kind of source entry: its type name and the keys it takes; every key
 * after "type" is required. */
struct source_type {
	const char *type;
	const char *const *keys;
};

static const char *const top_keys[] = {
	"ca", "timezone", "store", "sources", "cps", "identity", "policy",
	"mutual_recognition", "checklists", "attestations", "waivers", "reports", NULL};
static const char *const ca_keys[] = {"name", "license", "province", NULL};
static const char *const sources_keys[] = {"certificates", "events", "crls", NULL};
static const char *const cps_keys[] = {"version", "effective", NULL};
static const char *const identity_keys[] = {"oid", "attribute", "type", NULL};
static const char *const policy_keys[] = {"revocation_hours", "crl_publish_hours",
					  "max_validity_days", NULL};
static const char *const mr_keys[] = {"cert_types", "policy_oids", "issuers", NULL};
static const char *const reports_keys[] = {"output", "formats", "responsible", NULL};
static const char *const report_formats[] = {"xlsx", "pdf", "csv", NULL};
static const char *const id_types[] = {"resident_id", "uscc", "org_code", "passport",
				       "hk_id", "other", NULL};
static const char *const default_checklists[] = {"miit-2022", "egov-2009",
						 "shenzhen-2011", "gd-hk-2012", NULL};

static const char *const k_openssl_index[] = {"type", "index", "certs", NULL};
static const char *const k_path[] = {"type", "path", NULL};
static const char *const k_cfssl[] = {"type", "db", NULL};
static const char *const k_csv[] = {"type", "path", "mapping", NULL};
/* Keys of every kind, so that a misspelt "type" is reported as unknown. */
static const char *const k_any_cert[] = {"type", "index", "certs", "path", "db", NULL};
static const char *const k_any_event[] = {"type", "path", "mapping", NULL};

static const struct source_type cert_types[] = {
	{"openssl-index", k_openssl_index}, {"pem", k_path},
	{"cfssl", k_cfssl}, {"ejbca-csv", k_path}, {NULL, NULL}};
static const struct source_type event_types[] = {
	{"jsonl", k_path}, {"csv", k_csv}, {NULL, NULL}};
/* issuers is optional: CRL signatures are checked when it is given. */
static const char *const k_crl[] = {"type", "path", "issuers", NULL};
static const struct source_type crl_types[] = {{"crl", k_crl}, {NULL, NULL}};

/* ---- freeing and defaults ---- */

static void sources_free(struct source_cfg *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		free(s[i].type);
		free(s[i].path);
		free(s[i].index);
		free(s[i].certs);
		free(s[i].db);
		free(s[i].mapping);
		free(s[i].issuers);
	}
	free(s);
}

static void identity_free(struct identity_loc *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].oid);
		free(v[i].attribute);
		free(v[i].type);
	}
	free(v);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->dir);
	free(c->ca_name);
	free(c->ca_license);
	free(c->ca_province);
	free(c->timezone);
	free(c->store);
	sources_free(c->cert_sources, c->n_cert_sources);
	sources_free(c->event_sources, c->n_event_sources);
	sources_free(c->crl_sources, c->n_crl_sources);
	for (size_t i = 0; c->cps && i < c->n_cps; i++) {
		free(c->cps[i].version);
		free(c->cps[i].effective);
	}
	free(c->cps);
	identity_free(c->identity, c->n_identity);
	strlist_free(&c->mr_cert_types);
	strlist_free(&c->mr_policy_oids);
	strlist_free(&c->mr_issuers);
	strlist_free(&c->checklists);
	free(c->attestations);
	free(c->waivers);
	free(c->reports_output);
	strlist_free(&c->report_formats);
	for (size_t i = 0; c->responsible && i < c->n_responsible; i++) {
		free(c->responsible[i].pattern);
		free(c->responsible[i].owner);
	}
	free(c->responsible);
	free(c);
}

static int strlist_set(struct strlist *l, const char *const *v)
{
	strlist_free(l);
	for (size_t i = 0; v[i]; i++)
		if (strlist_push(l, v[i]))
			return -1;
	return 0;
}

/* The three identity locations of §4: GM/T 0015 IdentityCode, the USCC
 * extension, and the subject's serialNumber. */
static int identity_defaults(struct config *c)
{
	c->identity = calloc(3, sizeof *c->identity);
	if (!c->identity)
		return -1;
	c->n_identity = 3;
	c->identity[0].oid = strdup("1.2.156.10260.4.1.1");
	c->identity[1].oid = strdup("1.2.156.10260.4.4");
	c->identity[1].type = strdup("uscc");
	c->identity[2].attribute = strdup("serialNumber");
	if (!c->identity[0].oid || !c->identity[1].oid || !c->identity[1].type ||
	    !c->identity[2].attribute)
		return -1;
	return 0;
}

/* Fills every default into a zeroed config; -1 when memory runs out. */
static int config_defaults(struct config *c)
{
	static const char *const formats[] = {"xlsx", "pdf", NULL};

	c->timezone = strdup("Asia/Shanghai");
	c->store = strdup("ca-audit.db");
	c->reports_output = strdup("reports/");
	c->revocation_hours = 24;
	c->crl_publish_hours = 24;
	c->max_validity_days = 1825;
	if (!c->timezone || !c->store || !c->reports_output)
		return -1;
	if (strlist_set(&c->checklists, default_checklists) ||
	    strlist_set(&c->report_formats, formats))
		return -1;
	return identity_defaults(c);
}

struct config *config_default(void)
{
	struct config *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->dir = strdup(".");
	if (!c->dir || config_defaults(c)) {
		config_free(c);
		return NULL;
	}
	return c;
}

char *config_path(const struct config *c, const char *rel)
{
	const char *dir = c && c->dir ? c->dir : ".";
	size_t n = strlen(dir);
	char *out;

	if (!rel)
		return NULL;
	if (rel[0] == '/' || !strcmp(dir, ".") || !*dir)
		return strdup(rel);
	if (asprintf(&out, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", rel) < 0)
		return NULL;
	return out;
}

/* ---- typed values ---- */

static int oom(struct loader *l)
{
	return err_set(l->e, CA_EINTERNAL, l->d->file, 0, 0, "out of memory");
}

static int in_list(const char *s, const char *const *v)
{
	for (size_t i = 0; v[i]; i++)
		if (!strcmp(s, v[i]))
			return 1;
	return 0;
}

static void join(const char *const *v, char *buf, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; v[i]; i++) {
		size_t used = strlen(buf);
		snprintf(buf + used, n - used, "%s%s", i ? ", " : "", v[i]);
	}
}

/* A string under key that must not be empty; absent leaves *out as it is
 * (a default) unless required. */
static int get_text(struct loader *l, yaml_node_t *map, const char *key, int required,
		    char **out)
{
	yaml_node_t *v = ydoc_get(l->d, map, key);

	if (!v)
		return required ? ydoc_error(l->d, map, l->e, "missing key '%s'", key) : 0;
	if (ydoc_is_null(v) || (ydoc_is_scalar(v) && !*ydoc_scalar(v)))
		return ydoc_error(l->d, v, l->e, "expected a non-empty string for '%s'", key);
	return ydoc_to_str(l->d, v, out, l->e);
}

/* One item of a string list, checked against allowed when given. */
static int list_add(struct loader *l, yaml_node_t *n, const char *const *allowed,
		    const char *what, struct strlist *out)
{
	const char *s = ydoc_scalar(n);
	char names[300];

	if (!s)
		return ydoc_error(l->d, n, l->e, "expected a string in the list");
	if (!*s)
		return ydoc_error(l->d, n, l->e, "expected a non-empty string in the list");
	if (allowed && !in_list(s, allowed)) {
		join(allowed, names, sizeof names);
		return ydoc_error(l->d, n, l->e, "unknown %s '%s' (expected one of: %s)", what,
				  s, names);
	}
	return strlist_push(out, s) ? oom(l) : 0;
}

/* A list of strings under key replacing *out (a lone scalar is a list of
 * one, an empty value an empty list); absent keeps *out. */
static int get_list(struct loader *l, yaml_node_t *map, const char *key,
		    const char *const *allowed, const char *what, struct strlist *out)
{
	yaml_node_t *v = ydoc_get(l->d, map, key), *item;

	if (!v)
		return 0;
	strlist_free(out);
	if (ydoc_is_null(v))
		return 0;
	if (ydoc_is_scalar(v))
		return list_add(l, v, allowed, what, out);
	if (!ydoc_is_seq(v))
		return ydoc_error(l->d, v, l->e, "expected a list of strings for '%s'", key);
	for (size_t i = 0; (item = ydoc_seq_item(l->d, v, i)); i++)
		if (list_add(l, item, allowed, what, out))
			return -1;
	return 0;
}

/* The sequence under key: *seq NULL when absent or empty. */
static int get_seq(struct loader *l, yaml_node_t *map, const char *key,
		   yaml_node_t **seq, size_t *n)
{
	yaml_node_t *v = ydoc_get(l->d, map, key);

	*seq = NULL;
	*n = 0;
	if (!v || ydoc_is_null(v))
		return 0;
	if (!ydoc_is_seq(v))
		return ydoc_error(l->d, v, l->e, "expected a list under '%s'", key);
	*seq = v;
	*n = ydoc_seq_len(v);
	return 0;
}

/* The mapping under key, NULL when absent; -1 when it is something else. */
static int get_map(struct loader *l, yaml_node_t *map, const char *key, yaml_node_t **out)
{
	yaml_node_t *v = ydoc_get(l->d, map, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!ydoc_is_map(v))
		return ydoc_error(l->d, v, l->e, "expected a mapping under '%s'", key);
	*out = v;
	return 0;
}

/* ---- sections ---- */

static int load_ca(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *ca;

	if (get_map(l, root, "ca", &ca))
		return -1;
	if (!ca)
		return ydoc_error(l->d, root, l->e, "missing key 'ca'");
	if (ydoc_check_keys(l->d, ca, ca_keys, l->e) ||
	    get_text(l, ca, "name", 1, &l->c->ca_name) ||
	    get_text(l, ca, "license", 0, &l->c->ca_license) ||
	    get_text(l, ca, "province", 0, &l->c->ca_province))
		return -1;
	return 0;
}

/* A zone is known when the system's TZ database has a compiled file for
 * it; the TZif magic keeps out zone.tab and the like. */
static int zone_known(const char *zone)
{
	const char *dir = getenv("TZDIR");
	char path[1024], magic[4];
	struct stat st;
	FILE *f;
	int ok;

	if (!*zone || zone[0] == '/' || strstr(zone, ".."))
		return 0;
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return 0;
	ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "TZif", 4);
	fclose(f);
	return ok;
}

static int load_timezone(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *v = ydoc_get(l->d, root, "timezone");

	if (!v)
		return 0;
	if (get_text(l, root, "timezone", 0, &l->c->timezone))
		return -1;
	if (!zone_known(l->c->timezone))
		return ydoc_error(l->d, v, l->e,
				  "unknown time zone '%s' (expected a TZ database name such as "
				  "Asia/Shanghai)", l->c->timezone);
	return 0;
}

/* Where each source key is stored. */
static char **source_field(struct source_cfg *s, const char *key)
{
	if (!strcmp(key, "path"))
		return &s->path;
	if (!strcmp(key, "index"))
		return &s->index;
	if (!strcmp(key, "certs"))
		return &s->certs;
	if (!strcmp(key, "db"))
		return &s->db;
	if (!strcmp(key, "issuers"))
		return &s->issuers;
	return &s->mapping;
}

/* One source entry; `what` names the group in messages ("certificate"). */
static int load_source(struct loader *l, yaml_node_t *item, const struct source_type *types,
		       const char *const *any_keys, const char *what, struct source_cfg *s)
{
	yaml_node_t *tn;
	const struct source_type *t = types;
	const char *name;
	char names[300] = "";

	if (!ydoc_is_map(item))
		return ydoc_error(l->d, item, l->e, "expected a mapping");
	s->line = (int)item->start_mark.line + 1;
	tn = ydoc_get(l->d, item, "type");
	if (!tn && types[1].type) {
		/* A misspelt "type" is the likelier mistake: name it first. */
		if (ydoc_check_keys(l->d, item, any_keys, l->e))
			return -1;
		return ydoc_error(l->d, item, l->e, "missing key 'type'");
	}
	if (tn) {
		if (!(name = ydoc_scalar(tn)))
			return ydoc_error(l->d, tn, l->e, "expected a string for 'type'");
		for (; t->type && strcmp(t->type, name); t++)
			;
		if (!t->type) {
			for (size_t i = 0; types[i].type; i++) {
				size_t used = strlen(names);
				snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
					 types[i].type);
			}
			return ydoc_error(l->d, tn, l->e,
					  "unknown %s source type '%s' (expected one of: %s)",
					  what, name, names);
		}
	}
	if (!(s->type = strdup(t->type)))
		return oom(l);
	if (ydoc_check_keys(l->d, item, t->keys, l->e))
		return -1;
	for (size_t i = 1; t->keys[i]; i++)
		if (get_text(l, item, t->keys[i], strcmp(t->keys[i], "issuers") != 0,
			     source_field(s, t->keys[i])))
			return -1;
	return 0;
}

static int load_source_list(struct loader *l, yaml_node_t *sources, const char *key,
			    const struct source_type *types, const char *const *any_keys,
			    const char *what, struct source_cfg **out, size_t *n_out)
{
	yaml_node_t *seq, *item;
	size_t n;

	if (get_seq(l, sources, key, &seq, &n))
		return -1;
	if (!n)
		return 0;
	/* Counted in full before filling so that config_free can clean up a
	 * list that failed half-way. */
	if (!(*out = calloc(n, sizeof **out)))
		return oom(l);
	*n_out = n;
	for (size_t i = 0; (item = ydoc_seq_item(l->d, seq, i)); i++)
		if (load_source(l, item, types, any_keys, what, &(*out)[i]))
			return -1;
	return 0;
}

static int load_sources(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *src;
	struct config *c = l->c;

	if (get_map(l, root, "sources", &src))
		return -1;
	if (!src)
		return 0;
	if (ydoc_check_keys(l->d, src, sources_keys, l->e) ||
	    load_source_list(l, src, "certificates", cert_types, k_any_cert, "certificate",
			     &c->cert_sources, &c->n_cert_sources) ||
	    load_source_list(l, src, "events", event_types, k_any_event, "event",
			     &c->event_sources, &c->n_event_sources) ||
	    load_source_list(l, src, "crls", crl_types, k_crl, "crl", &c->crl_sources,
			     &c->n_crl_sources))
		return -1;
	return 0;
}

static int load_cps(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *seq, *item;
	size_t n;

	if (get_seq(l, root, "cps", &seq, &n))
		return -1;
	if (!n)
		return 0;
	if (!(l->c->cps = calloc(n, sizeof *l->c->cps)))
		return oom(l);
	l->c->n_cps = n;
	for (size_t i = 0; (item = ydoc_seq_item(l->d, seq, i)); i++) {
		struct cps_version *v = &l->c->cps[i];
		if (ydoc_check_keys(l->d, item, cps_keys, l->e) ||
		    get_text(l, item, "version", 1, &v->version) ||
		    ydoc_get_date(l->d, item, "effective", 1, &v->effective, l->e))
			return -1;
	}
	return 0;
}

/* "1.2.156.10260.4.1.1": digits separated by single dots. */
static int oid_valid(const char *s)
{
	int digits = 0, arcs = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			digits++;
		} else if (*s == '.' && digits) {
			digits = 0;
			arcs++;
		} else {
			return 0;
		}
	}
	return digits && arcs >= 1;
}

static int load_identity_loc(struct loader *l, yaml_node_t *item, struct identity_loc *loc)
{
	yaml_node_t *oid, *attr, *type;
	char names[200];

	if (ydoc_check_keys(l->d, item, identity_keys, l->e))
		return -1;
	oid = ydoc_get(l->d, item, "oid");
	attr = ydoc_get(l->d, item, "attribute");
	if (!oid == !attr)
		return ydoc_error(l->d, item, l->e,
				  "expected exactly one of 'oid' or 'attribute'");
	if (get_text(l, item, "oid", 0, &loc->oid) ||
	    get_text(l, item, "attribute", 0, &loc->attribute) ||
	    get_text(l, item, "type", 0, &loc->type))
		return -1;
	if (loc->oid && !oid_valid(loc->oid))
		return ydoc_error(l->d, oid, l->e,
				  "expected a dotted OID such as 1.2.156.10260.4.1.1, found '%s'",
				  loc->oid);
	type = ydoc_get(l->d, item, "type");
	if (loc->type && !in_list(loc->type, id_types)) {
		join(id_types, names, sizeof names);
		return ydoc_error(l->d, type, l->e,
				  "unknown identity type '%s' (expected one of: %s)", loc->type,
				  names);
	}
	return 0;
}

/* A configured identity list replaces the default one, in its order. */
static int load_identity(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *seq, *item;
	size_t n;

	if (!ydoc_get(l->d, root, "identity"))
		return 0;
	if (get_seq(l, root, "identity", &seq, &n))
		return -1;
	identity_free(l->c->identity, l->c->n_identity);
	l->c->identity = NULL;
	l->c->n_identity = 0;
	if (!n)
		return 0;
	if (!(l->c->identity = calloc(n, sizeof *l->c->identity)))
		return oom(l);
	l->c->n_identity = n;
	for (size_t i = 0; (item = ydoc_seq_item(l->d, seq, i)); i++)
		if (load_identity_loc(l, item, &l->c->identity[i]))
			return -1;
	return 0;
}

static int get_positive(struct loader *l, yaml_node_t *map, const char *key, long *out)
{
	yaml_node_t *v = ydoc_get(l->d, map, key);
	long n;

	if (!v)
		return 0;
	if (ydoc_to_int(l->d, v, &n, l->e))
		return -1;
	if (n <= 0)
		return ydoc_error(l->d, v, l->e, "expected a positive integer, found '%s'",
				  ydoc_scalar(v));
	*out = n;
	return 0;
}

static int load_policy(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *p;

	if (get_map(l, root, "policy", &p))
		return -1;
	if (!p)
		return 0;
	if (ydoc_check_keys(l->d, p, policy_keys, l->e) ||
	    get_positive(l, p, "revocation_hours", &l->c->revocation_hours) ||
	    get_positive(l, p, "crl_publish_hours", &l->c->crl_publish_hours) ||
	    get_positive(l, p, "max_validity_days", &l->c->max_validity_days))
		return -1;
	return 0;
}

static int load_mutual_recognition(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *mr;

	if (get_map(l, root, "mutual_recognition", &mr))
		return -1;
	if (!mr)
		return 0;
	if (ydoc_check_keys(l->d, mr, mr_keys, l->e) ||
	    get_list(l, mr, "cert_types", NULL, NULL, &l->c->mr_cert_types) ||
	    get_list(l, mr, "policy_oids", NULL, NULL, &l->c->mr_policy_oids) ||
	    get_list(l, mr, "issuers", NULL, NULL, &l->c->mr_issuers))
		return -1;
	return 0;
}

static int load_responsible(struct loader *l, yaml_node_t *reports)
{
	yaml_node_t *map, *k, *v;
	size_t n;

	if (get_map(l, reports, "responsible", &map))
		return -1;
	if (!map)
		return 0;
	n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	if (!n)
		return 0;
	if (!(l->c->responsible = calloc(n, sizeof *l->c->responsible)))
		return oom(l);
	l->c->n_responsible = n;
	for (size_t i = 0; ydoc_map_pair(l->d, map, i, &k, &v); i++) {
		struct responsible *r = &l->c->responsible[i];
		if (ydoc_is_null(v) || (ydoc_is_scalar(v) && !*ydoc_scalar(v)))
			return ydoc_error(l->d, v, l->e, "expected an owner for '%s'",
					  ydoc_scalar(k));
		if (ydoc_to_str(l->d, k, &r->pattern, l->e) ||
		    ydoc_to_str(l->d, v, &r->owner, l->e))
			return -1;
	}
	return 0;
}

static int load_reports(struct loader *l, yaml_node_t *root)
{
	yaml_node_t *r;

	if (get_map(l, root, "reports", &r))
		return -1;
	if (!r)
		return 0;
	if (ydoc_check_keys(l->d, r, reports_keys, l->e) ||
	    get_text(l, r, "output", 0, &l->c->reports_output) ||
	    get_list(l, r, "formats", report_formats, "report format", &l->c->report_formats) ||
	    load_responsible(l, r))
		return -1;
	return 0;
}

static int load_root(struct loader *l, yaml_node_t *root)
{
	struct config *c = l->c;

	if (ydoc_check_keys(l->d, root, top_keys, l->e) || load_ca(l, root) ||
	    load_timezone(l, root) || get_text(l, root, "store", 0, &c->store) ||
	    load_sources(l, root) || load_cps(l, root) || load_identity(l, root) ||
	    load_policy(l, root) || load_mutual_recognition(l, root) ||
	    get_list(l, root, "checklists", NULL, NULL, &c->checklists) ||
	    get_text(l, root, "attestations", 0, &c->attestations) ||
	    get_text(l, root, "waivers", 0, &c->waivers) || load_reports(l, root))
		return -1;
	return 0;
}

int config_load(const char *path, struct config **out, struct err *e)
{
	struct ydoc d = {0};
	struct config *c = calloc(1, sizeof *c);
	struct loader l = {&d, c, e};
	yaml_node_t *root;
	int rc = -1;

	*out = NULL;
	if (!c || !(c->path = strdup(path)) || !(c->dir = path_dirname(path)) || config_defaults(c)) {
		err_set(e, CA_EINTERNAL, path, 0, 0, "out of memory");
		goto out;
	}
	if (ydoc_load(path, &d, e))
		goto out;
	root = ydoc_root(&d);
	if (!root) {
		err_set(e, CA_EINPUT, path, 0, 0,
			"empty configuration (expected a mapping with at least ca.name)");
		goto out;
	}
	if (load_root(&l, root))
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	ydoc_free(&d);
	config_free(c);
	return rc;
}
