/*
 * config.h — the configuration file (DESIGN §4), loaded with libyaml.
 *
 * config_load reads and validates the whole file: unknown keys, wrong types
 * and missing required keys are errors naming file:line:col. Paths inside are
 * kept as written; config_path() resolves one against the configuration
 * file's directory. Defaults: timezone Asia/Shanghai, store ca-audit.db,
 * revocation_hours 24, crl_publish_hours 24, max_validity_days 1825,
 * checklists = the four built-in ones, reports.output reports/,
 * reports.formats [xlsx, pdf], identity = the three locations of §4.
 */
#ifndef CA_CONFIG_H
#define CA_CONFIG_H

#include "err.h"
#include "records.h"

/* One entry under sources.certificates, sources.events or sources.crls. */
struct source_cfg {
	char *type;     /* openssl-index | pem | cfssl | ejbca-csv | jsonl | csv | crl */
	char *path;     /* file or glob (pem, ejbca-csv, jsonl, csv, crl) */
	char *index;    /* openssl-index: index.txt */
	char *certs;    /* openssl-index: directory of <SERIAL>.pem */
	char *db;       /* cfssl: certdb SQLite file */
	char *mapping;  /* csv: mapping file */
	char *issuers;  /* crl, optional: file or glob of issuer CA certificates
			   against which CRL signatures are checked */
	int line;       /* where it is in the configuration, for messages */
};

/* One place where certificates carry identity numbers (§4 identity). */
struct identity_loc {
	char *oid;       /* extension OID, or NULL */
	char *attribute; /* subject attribute name (serialNumber), or NULL */
	char *type;      /* id_type to record: resident_id | uscc | org_code | ...; NULL = infer */
};

struct cps_version {
	char *version;
	char *effective; /* YYYY-MM-DD */
};

struct responsible {
	char *pattern; /* "default" or an item pattern like "miit-2022:1.*" */
	char *owner;
};

struct config {
	char *path;           /* the file as given */
	char *dir;            /* its directory, for relative paths */
	char *ca_name, *ca_license, *ca_province;
	char *timezone;       /* IANA zone, default Asia/Shanghai */
	char *store;          /* as written */
	struct source_cfg *cert_sources; size_t n_cert_sources;
	struct source_cfg *event_sources; size_t n_event_sources;
	struct source_cfg *crl_sources; size_t n_crl_sources;
	struct cps_version *cps; size_t n_cps;
	struct identity_loc *identity; size_t n_identity;
	long revocation_hours, crl_publish_hours, max_validity_days;
	struct strlist mr_cert_types, mr_policy_oids, mr_issuers;
	struct strlist checklists;  /* ids or paths */
	char *attestations, *waivers; /* as written, NULL when absent */
	char *reports_output;
	struct strlist report_formats;
	struct responsible *responsible; size_t n_responsible;
};

/* Loads path; on failure *out is NULL and e says where and why. */
int config_load(const char *path, struct config **out, struct err *e);
/* A configuration with every default and no sources, for commands that can
 * run without a file (rules list). dir is "." */
struct config *config_default(void);
void config_free(struct config *c); /* accepts NULL */

/* rel resolved against the configuration's directory (absolute paths are
 * returned as they are); malloc'd, owned by the caller. */
char *config_path(const struct config *c, const char *rel);

#endif
