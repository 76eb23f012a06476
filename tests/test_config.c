/*
 * test_config.c — the configuration loader (audit/config.h): a full file
 * read back key by key, defaults, path resolution, the shipped example, and
 * every error a user can make with the exact file:line:col and message that
 * points them at it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

/* Every key of DESIGN §4, with values that differ from the defaults. */
static const char full_yaml[] =
	"ca:\n"
	"  name: 示例电子认证服务有限公司\n"
	"  license: ECP44030020XXXX\n"
	"  province: 广东省\n"
	"timezone: Asia/Hong_Kong\n"
	"store: data/audit.db\n"
	"sources:\n"
	"  certificates:\n"
	"    - {type: openssl-index, index: ca/index.txt, certs: ca/newcerts}\n"
	"    - {type: pem, path: \"certs/**/*.pem\"}\n"
	"    - {type: cfssl, db: cfssl/certs.db}\n"
	"    - type: ejbca-csv\n"
	"      path: /srv/exports/CertificateData.csv\n"
	"  events:\n"
	"    - {type: jsonl, path: \"logs/ra-*.jsonl\"}\n"
	"    - {type: csv, path: exports/ra.csv, mapping: mappings/ra.yaml}\n"
	"  crls:\n"
	"    - {path: \"crl/*.crl\"}\n"
	"    - {type: crl, path: crl2/x.crl, issuers: \"ca/*.pem\"}\n"
	"cps:\n"
	"  - {version: 3.1, effective: 2021-05-01}\n"
	"  - {version: \"3.2\", effective: 2023-01-01}\n"
	"identity:\n"
	"  - {oid: 1.2.3.4, type: resident_id}\n"
	"  - {attribute: UID}\n"
	"policy:\n"
	"  revocation_hours: 12\n"
	"  crl_publish_hours: 6\n"
	"  max_validity_days: 730\n"
	"mutual_recognition:\n"
	"  cert_types: [粤港互认个人证书, 粤港互认机构证书]\n"
	"  policy_oids: [\"2.16.344.8.2.2008.810.2\"]\n"
	"  issuers: \"CN=Example MR CA,O=Example,C=CN\"\n"
	"checklists: [miit-2022, my/rules.yaml]\n"
	"attestations: attestations.yaml\n"
	"waivers: waivers.yaml\n"
	"reports:\n"
	"  output: out/\n"
	"  formats: [csv, xlsx]\n"
	"  responsible:\n"
	"    default: 合规部\n"
	"    \"miit-2022:1.*\": 注册审核部\n";

/* Writes text to a fresh directory and loads it; the directory is returned
 * for removal. */
static struct config *load_text(const char *text, char **dir, char **path, struct err *e)
{
	struct config *c = NULL;
	int rc;

	*dir = tu_tmpdir("config");
	*path = tu_write_in(*dir, "ca-audit.yaml", text);
	err_clear(e);
	rc = config_load(*path, &c, e);
	ck_assert_int_eq(rc, c ? 0 : -1);
	return c;
}

START_TEST(full_file)
{
	struct err e;
	char *dir, *path;
	struct config *c = load_text(full_yaml, &dir, &path, &e);

	ck_assert_msg(c != NULL, "%s:%d:%d: %s", e.file, e.line, e.col, e.msg);
	ck_assert_str_eq(c->path, path);
	ck_assert_str_eq(c->dir, dir);
	ck_assert_str_eq(c->ca_name, "示例电子认证服务有限公司");
	ck_assert_str_eq(c->ca_license, "ECP44030020XXXX");
	ck_assert_str_eq(c->ca_province, "广东省");
	ck_assert_str_eq(c->timezone, "Asia/Hong_Kong");
	ck_assert_str_eq(c->store, "data/audit.db");

	ck_assert_uint_eq(c->n_cert_sources, 4);
	ck_assert_str_eq(c->cert_sources[0].type, "openssl-index");
	ck_assert_str_eq(c->cert_sources[0].index, "ca/index.txt");
	ck_assert_str_eq(c->cert_sources[0].certs, "ca/newcerts");
	ck_assert_int_eq(c->cert_sources[0].line, 9);
	ck_assert_str_eq(c->cert_sources[1].type, "pem");
	ck_assert_str_eq(c->cert_sources[1].path, "certs/**/*.pem");
	ck_assert_str_eq(c->cert_sources[2].type, "cfssl");
	ck_assert_str_eq(c->cert_sources[2].db, "cfssl/certs.db");
	ck_assert_str_eq(c->cert_sources[3].type, "ejbca-csv");
	ck_assert_str_eq(c->cert_sources[3].path, "/srv/exports/CertificateData.csv");
	ck_assert_int_eq(c->cert_sources[3].line, 12);

	ck_assert_uint_eq(c->n_event_sources, 2);
	ck_assert_str_eq(c->event_sources[0].type, "jsonl");
	ck_assert_str_eq(c->event_sources[0].path, "logs/ra-*.jsonl");
	ck_assert_ptr_null(c->event_sources[0].mapping);
	ck_assert_str_eq(c->event_sources[1].type, "csv");
	ck_assert_str_eq(c->event_sources[1].path, "exports/ra.csv");
	ck_assert_str_eq(c->event_sources[1].mapping, "mappings/ra.yaml");

	ck_assert_uint_eq(c->n_crl_sources, 2);
	ck_assert_str_eq(c->crl_sources[0].type, "crl");
	ck_assert_str_eq(c->crl_sources[0].path, "crl/*.crl");
	ck_assert_str_eq(c->crl_sources[1].path, "crl2/x.crl");
	/* issuers is optional: absent on the first CRL source */
	ck_assert_ptr_null(c->crl_sources[0].issuers);
	ck_assert_str_eq(c->crl_sources[1].issuers, "ca/*.pem");

	/* An unquoted 3.1 is a plain scalar: its text is kept. */
	ck_assert_uint_eq(c->n_cps, 2);
	ck_assert_str_eq(c->cps[0].version, "3.1");
	ck_assert_str_eq(c->cps[0].effective, "2021-05-01");
	ck_assert_str_eq(c->cps[1].version, "3.2");
	ck_assert_str_eq(c->cps[1].effective, "2023-01-01");

	/* A configured identity list replaces the default one. */
	ck_assert_uint_eq(c->n_identity, 2);
	ck_assert_str_eq(c->identity[0].oid, "1.2.3.4");
	ck_assert_str_eq(c->identity[0].type, "resident_id");
	ck_assert_ptr_null(c->identity[0].attribute);
	ck_assert_str_eq(c->identity[1].attribute, "UID");
	ck_assert_ptr_null(c->identity[1].oid);
	ck_assert_ptr_null(c->identity[1].type);

	ck_assert_int_eq(c->revocation_hours, 12);
	ck_assert_int_eq(c->crl_publish_hours, 6);
	ck_assert_int_eq(c->max_validity_days, 730);

	ck_assert_uint_eq(c->mr_cert_types.n, 2);
	ck_assert_str_eq(c->mr_cert_types.v[1], "粤港互认机构证书");
	ck_assert_uint_eq(c->mr_policy_oids.n, 1);
	ck_assert_str_eq(c->mr_policy_oids.v[0], "2.16.344.8.2.2008.810.2");
	ck_assert_uint_eq(c->mr_issuers.n, 1);
	ck_assert_str_eq(c->mr_issuers.v[0], "CN=Example MR CA,O=Example,C=CN");

	ck_assert_uint_eq(c->checklists.n, 2);
	ck_assert_str_eq(c->checklists.v[0], "miit-2022");
	ck_assert_str_eq(c->checklists.v[1], "my/rules.yaml");
	ck_assert_str_eq(c->attestations, "attestations.yaml");
	ck_assert_str_eq(c->waivers, "waivers.yaml");
	ck_assert_str_eq(c->reports_output, "out/");
	ck_assert_uint_eq(c->report_formats.n, 2);
	ck_assert_str_eq(c->report_formats.v[0], "csv");
	ck_assert_str_eq(c->report_formats.v[1], "xlsx");
	ck_assert_uint_eq(c->n_responsible, 2);
	ck_assert_str_eq(c->responsible[0].pattern, "default");
	ck_assert_str_eq(c->responsible[0].owner, "合规部");
	ck_assert_str_eq(c->responsible[1].pattern, "miit-2022:1.*");
	ck_assert_str_eq(c->responsible[1].owner, "注册审核部");

	config_free(c);
	tu_rmdir(dir);
	free(dir);
	free(path);
}
END_TEST

static void check_defaults(const struct config *c)
{
	ck_assert_str_eq(c->timezone, "Asia/Shanghai");
	ck_assert_str_eq(c->store, "ca-audit.db");
	ck_assert_int_eq(c->revocation_hours, 24);
	ck_assert_int_eq(c->crl_publish_hours, 24);
	ck_assert_int_eq(c->max_validity_days, 1825);
	ck_assert_uint_eq(c->checklists.n, 4);
	ck_assert_str_eq(c->checklists.v[0], "miit-2022");
	ck_assert_str_eq(c->checklists.v[1], "egov-2009");
	ck_assert_str_eq(c->checklists.v[2], "shenzhen-2011");
	ck_assert_str_eq(c->checklists.v[3], "gd-hk-2012");
	ck_assert_str_eq(c->reports_output, "reports/");
	ck_assert_uint_eq(c->report_formats.n, 2);
	ck_assert_str_eq(c->report_formats.v[0], "xlsx");
	ck_assert_str_eq(c->report_formats.v[1], "pdf");
	ck_assert_uint_eq(c->n_identity, 3);
	ck_assert_str_eq(c->identity[0].oid, "1.2.156.10260.4.1.1");
	ck_assert_ptr_null(c->identity[0].type);
	ck_assert_str_eq(c->identity[1].oid, "1.2.156.10260.4.4");
	ck_assert_str_eq(c->identity[1].type, "uscc");
	ck_assert_str_eq(c->identity[2].attribute, "serialNumber");
	ck_assert_ptr_null(c->identity[2].oid);
	ck_assert_uint_eq(c->n_cert_sources + c->n_event_sources + c->n_crl_sources, 0);
	ck_assert_uint_eq(c->n_cps, 0);
	ck_assert_uint_eq(c->mr_cert_types.n + c->mr_policy_oids.n + c->mr_issuers.n, 0);
	ck_assert_ptr_null(c->attestations);
	ck_assert_ptr_null(c->waivers);
	ck_assert_uint_eq(c->n_responsible, 0);
}

START_TEST(minimal_file_defaults)
{
	struct err e;
	char *dir, *path;
	struct config *c = load_text("ca: {name: 某CA}\n", &dir, &path, &e);

	ck_assert_msg(c != NULL, "%s", e.msg);
	ck_assert_str_eq(c->ca_name, "某CA");
	ck_assert_ptr_null(c->ca_license);
	check_defaults(c);
	config_free(c);
	tu_rmdir(dir);
	free(dir);
	free(path);
}
END_TEST

START_TEST(builtin_defaults)
{
	struct config *c = config_default();

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->dir, ".");
	ck_assert_ptr_null(c->ca_name);
	check_defaults(c);
	config_free(c);
	config_free(NULL);
}
END_TEST

/* Empty lists are allowed (a user commenting out every source). */
START_TEST(empty_lists)
{
	struct err e;
	char *dir, *path;
	struct config *c = load_text("ca: {name: X}\nsources:\n  certificates:\n  events: []\n"
				     "checklists: []\nidentity: []\n", &dir, &path, &e);

	ck_assert_msg(c != NULL, "%s", e.msg);
	ck_assert_uint_eq(c->n_cert_sources + c->n_event_sources, 0);
	ck_assert_uint_eq(c->checklists.n, 0);
	ck_assert_uint_eq(c->n_identity, 0);
	config_free(c);
	tu_rmdir(dir);
	free(dir);
	free(path);
}
END_TEST

START_TEST(path_resolution)
{
	struct err e;
	char *dir, *path, *p;
	struct config *c = load_text(full_yaml, &dir, &path, &e);
	struct config *d = config_default();
	char *want;

	ck_assert_ptr_nonnull(c);
	p = config_path(c, c->store);
	want = tu_fmt("%s/data/audit.db", dir);
	ck_assert_str_eq(p, want);
	free(p);
	free(want);
	p = config_path(c, c->cert_sources[3].path);
	ck_assert_str_eq(p, "/srv/exports/CertificateData.csv");
	free(p);
	p = config_path(c, c->cert_sources[1].path);
	want = tu_fmt("%s/certs/**/*.pem", dir);
	ck_assert_str_eq(p, want);
	free(p);
	free(want);
	ck_assert_ptr_null(config_path(c, NULL));

	/* Without a file, paths stay relative to the working directory. */
	p = config_path(d, "ca-audit.db");
	ck_assert_str_eq(p, "ca-audit.db");
	free(p);
	free(d->dir);
	d->dir = strdup("/");
	p = config_path(d, "x.db");
	ck_assert_str_eq(p, "/x.db");
	free(p);

	config_free(c);
	config_free(d);
	tu_rmdir(dir);
	free(dir);
	free(path);
}
END_TEST

/* A configuration file given without a directory lives in ".". */
START_TEST(dir_of_bare_name)
{
	char *dir = tu_tmpdir("config");
	char *path = tu_write_in(dir, "ca-audit.yaml", "ca: {name: X}\n");
	char *cwd = getcwd(NULL, 0);
	struct config *c = NULL;
	struct err e;

	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(config_load("ca-audit.yaml", &c, &e), 0);
	ck_assert_str_eq(c->dir, ".");
	ck_assert_str_eq(c->path, "ca-audit.yaml");
	ck_assert_int_eq(chdir(cwd), 0);
	config_free(c);
	tu_rmdir(dir);
	free(cwd);
	free(dir);
	free(path);
}
END_TEST

/* The shipped example must stay a valid configuration. */
START_TEST(example_file_loads)
{
	char *path = tu_fmt("%s/rules/ca-audit.example.yaml", tu_root());
	struct config *c = NULL;
	struct err e;

	err_clear(&e);
	ck_assert_msg(config_load(path, &c, &e) == 0, "%s:%d:%d: %s", e.file, e.line, e.col,
		      e.msg);
	ck_assert_uint_eq(c->n_cert_sources, 4);
	ck_assert_uint_eq(c->n_event_sources, 2);
	ck_assert_uint_eq(c->n_crl_sources, 1);
	ck_assert_uint_eq(c->n_cps, 2);
	ck_assert_uint_eq(c->n_identity, 3);
	ck_assert_uint_ge(c->n_responsible, 1);
	config_free(c);
	free(path);
}
END_TEST

START_TEST(missing_file)
{
	struct config *c = (struct config *)1;
	struct err e;
	const char *path = "/nonexistent-ca-audit/ca-audit.yaml";

	ck_assert_int_eq(config_load(path, &c, &e), -1);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(e.kind, CA_EIO);
	ck_assert_str_eq(e.file, path);
	ck_assert_int_eq(e.line, 0);
	ck_assert_str_eq(e.msg, "unable to open: No such file or directory");
}
END_TEST

/* One bad configuration and where and how it must be reported. */
struct bad {
	const char *what;
	const char *yaml;
	int line, col;
	const char *msg; /* a substring of the message */
};

static const struct bad bad[] = {
	{"unknown top-level key", "ca:\n  name: X\nstorage: x.db\n", 3, 1,
	 "unknown key 'storage' (expected one of: ca, timezone, store, sources, cps, identity, "
	 "policy, mutual_recognition, checklists, attestations, waivers, reports)"},
	{"unknown key in a source entry", "ca: {name: X}\nsources:\n  certificates:\n"
	 "    - type: pem\n      pth: a.pem\n", 5, 7, "unknown key 'pth' (expected one of: type, path)"},
	{"misspelt type", "ca: {name: X}\nsources:\n  certificates:\n"
	 "    - {typ: pem, path: a.pem}\n", 4, 8, "unknown key 'typ'"},
	{"key of another source type", "ca: {name: X}\nsources:\n  certificates:\n"
	 "    - {type: pem, path: a.pem, index: i.txt}\n", 4, 32,
	 "unknown key 'index' (expected one of: type, path)"},
	{"unknown key under ca", "ca:\n  name: X\n  licence: L\n", 3, 3,
	 "unknown key 'licence' (expected one of: name, license, province)"},
	{"unknown key in policy", "ca: {name: X}\npolicy: {revocation_hour: 4}\n", 2, 10,
	 "unknown key 'revocation_hour'"},
	{"string where an integer", "ca: {name: X}\npolicy:\n  revocation_hours: soon\n", 3, 21,
	 "expected an integer, found 'soon'"},
	{"zero hours", "ca: {name: X}\npolicy:\n  crl_publish_hours: 0\n", 3, 22,
	 "expected a positive integer, found '0'"},
	{"bad date in cps", "ca: {name: X}\ncps:\n  - {version: \"3.1\", effective: 2021-02-30}\n",
	 3, 33, "expected a date YYYY-MM-DD, found '2021-02-30'"},
	{"cps without effective", "ca: {name: X}\ncps:\n  - {version: \"3.1\"}\n", 3, 5,
	 "missing key 'effective'"},
	{"unknown source type", "ca: {name: X}\nsources:\n  certificates:\n"
	 "    - {type: pkcs12, path: a.p12}\n", 4, 14,
	 "unknown certificate source type 'pkcs12' (expected one of: openssl-index, pem, "
	 "cfssl, ejbca-csv)"},
	{"unknown event source type", "ca: {name: X}\nsources:\n  events:\n"
	 "    - {type: xml, path: a.xml}\n", 4, 14,
	 "unknown event source type 'xml' (expected one of: jsonl, csv)"},
	{"wrong crl type", "ca: {name: X}\nsources:\n  crls:\n    - {type: pem, path: a}\n", 4,
	 14, "unknown crl source type 'pem' (expected one of: crl)"},
	{"empty crl issuers", "ca: {name: X}\nsources:\n  crls:\n"
	 "    - {path: a.crl, issuers: \"\"}\n", 4, 30,
	 "expected a non-empty string for 'issuers'"},
	{"misspelt crl issuers", "ca: {name: X}\nsources:\n  crls:\n"
	 "    - {path: a.crl, issuer: ca.pem}\n", 4, 21,
	 "unknown key 'issuer' (expected one of: type, path, issuers)"},
	{"source without type", "ca: {name: X}\nsources:\n  certificates:\n    - {path: a.pem}\n",
	 4, 7, "missing key 'type'"},
	{"missing ca", "timezone: UTC\n", 1, 1, "missing key 'ca'"},
	{"missing ca.name", "ca:\n  license: L\n", 2, 3, "missing key 'name'"},
	{"empty ca.name", "ca:\n  name: \"\"\n", 2, 9, "expected a non-empty string for 'name'"},
	{"pem without path", "ca: {name: X}\nsources:\n  certificates:\n    - {type: pem}\n", 4,
	 7, "missing key 'path'"},
	{"csv without mapping", "ca: {name: X}\nsources:\n  events:\n"
	 "    - {type: csv, path: a.csv}\n", 4, 7, "missing key 'mapping'"},
	{"sources not a list", "ca: {name: X}\nsources:\n  certificates: {type: pem}\n", 3, 17,
	 "expected a list under 'certificates'"},
	{"source entry not a mapping", "ca: {name: X}\nsources:\n  crls: [a.crl]\n", 3, 10,
	 "expected a mapping"},
	{"tab indentation", "ca:\n\tname: X\n", 2, 1, "invalid YAML"},
	{"duplicate key", "ca:\n  name: X\n  name: Y\n", 3, 3,
	 "duplicate key 'name' (first at line 2)"},
	{"unknown timezone", "ca: {name: X}\ntimezone: Mars/Olympus\n", 2, 11,
	 "unknown time zone 'Mars/Olympus'"},
	{"timezone escaping the database", "ca: {name: X}\ntimezone: ../../etc/passwd\n", 2, 11,
	 "unknown time zone '../../etc/passwd'"},
	{"timezone naming a non-zone file", "ca: {name: X}\ntimezone: zone.tab\n", 2, 11,
	 "unknown time zone 'zone.tab'"},
	{"empty file", "", 0, 0, "empty configuration"},
	{"comments only", "# nothing yet\n\n", 0, 0, "empty configuration"},
	{"root not a mapping", "- ca\n", 1, 1, "expected a mapping"},
	{"identity with oid and attribute", "ca: {name: X}\nidentity:\n"
	 "  - {oid: 1.2.3, attribute: serialNumber}\n", 3, 5,
	 "expected exactly one of 'oid' or 'attribute'"},
	{"identity with neither", "ca: {name: X}\nidentity:\n  - {type: uscc}\n", 3, 5,
	 "expected exactly one of 'oid' or 'attribute'"},
	{"identity bad oid", "ca: {name: X}\nidentity:\n  - {oid: 1..2}\n", 3, 11,
	 "expected a dotted OID such as 1.2.156.10260.4.1.1, found '1..2'"},
	{"identity unknown type", "ca: {name: X}\nidentity:\n  - {oid: 1.2.3, type: ssn}\n", 3,
	 24, "unknown identity type 'ssn' (expected one of: resident_id, uscc, org_code, "
	 "passport, hk_id, other)"},
	{"unknown report format", "ca: {name: X}\nreports:\n  formats: [xlsx, docx]\n", 3, 19,
	 "unknown report format 'docx' (expected one of: xlsx, pdf, csv)"},
	{"responsible not a mapping", "ca: {name: X}\nreports:\n  responsible: [合规部]\n", 3,
	 16, "expected a mapping under 'responsible'"},
	{"responsible without owner", "ca: {name: X}\nreports:\n  responsible: {default: }\n", 3,
	 26, "expected an owner for 'default'"},
	{"checklists a mapping", "ca: {name: X}\nchecklists: {miit-2022: yes}\n", 2, 13,
	 "expected a list of strings for 'checklists'"},
	{"nested list in a list", "ca: {name: X}\nmutual_recognition:\n  issuers: [[a]]\n", 3,
	 13, "expected a string in the list"},
	{"policy not a mapping", "ca: {name: X}\npolicy: 24\n", 2, 9,
	 "expected a mapping under 'policy'"},
	{"store a list", "ca: {name: X}\nstore: [a, b]\n", 2, 8, "expected a string"},
};

START_TEST(errors)
{
	const struct bad *b = &bad[_i];
	struct err e;
	char *dir, *path;
	struct config *c = load_text(b->yaml, &dir, &path, &e);

	ck_assert_msg(c == NULL, "%s: loaded", b->what);
	ck_assert_msg(e.kind == CA_EINPUT, "%s: kind %d", b->what, e.kind);
	ck_assert_msg(!strcmp(e.file, path), "%s: file %s", b->what, e.file);
	ck_assert_msg(e.line == b->line && e.col == b->col, "%s: at %d:%d, want %d:%d (%s)",
		      b->what, e.line, e.col, b->line, b->col, e.msg);
	ck_assert_msg(strstr(e.msg, b->msg) != NULL, "%s: message '%s' lacks '%s'", b->what,
		      e.msg, b->msg);
	tu_rmdir(dir);
	free(dir);
	free(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	int failed;

	tcase_add_test(tc, full_file);
	tcase_add_test(tc, minimal_file_defaults);
	tcase_add_test(tc, builtin_defaults);
	tcase_add_test(tc, empty_lists);
	tcase_add_test(tc, path_resolution);
	tcase_add_test(tc, dir_of_bare_name);
	tcase_add_test(tc, example_file_loads);
	tcase_add_test(tc, missing_file);
	tcase_add_loop_test(tc, errors, 0, (int)(sizeof bad / sizeof *bad));
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
