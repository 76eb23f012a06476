/*
 * test_gen.c — the dataset generator (fixtures/gen.c), run as a program:
 * the files it promises exist; certificates and CRLs parse and verify
 * against their roots with OpenSSL; every log line is §5 JSON of a known
 * kind; the same seed gives the same bytes; and truth.jsonl is recomputed
 * from the logs themselves, so that a wrong truth line fails here rather
 * than in the checker's end-to-end test.
 */
#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idcodes.h"
#include "testutil.h"

#define N_CERTS 300
#define SM2_ID "1234567812345678"

/* Made once by the unchecked fixture: a, b with the same options; clean
 * without violations. */
static char *tmp, *ds_a, *ds_b, *ds_clean;

static char *generate(const char *name, const char *extra)
{
	char *dir = tu_fmt("%s/%s", tmp, name);
	struct tu_out o = tu_run("'%s' -o '%s' --certs %d --seed 5 --start 2012-01-01 %s",
				 tu_gen(), dir, N_CERTS, extra);
	if (o.status != 0) {
		fprintf(stderr, "generator failed (%d): %s\n", o.status, o.err);
		abort();
	}
	tu_out_free(&o);
	return dir;
}

static void suite_setup(void)
{
	tmp = tu_tmpdir("gen");
	ds_a = generate("a", "--violations 0.3");
	ds_b = generate("b", "--violations 0.3");
	ds_clean = generate("clean", "--violations 0");
}

static void suite_teardown(void)
{
	tu_rmdir(tmp);
	free(tmp);
	free(ds_a);
	free(ds_b);
	free(ds_clean);
}

static char *read_in(const char *dir, const char *name)
{
	char *path = tu_fmt("%s/%s", dir, name);
	char *s = tu_read(path, NULL);
	ck_assert_msg(s != NULL, "cannot read %s", path);
	free(path);
	return s;
}

/* All files matching dir/pattern, concatenated in name order. */
static char *read_glob(const char *dir, const char *pattern, size_t *n_files)
{
	char *pat = tu_fmt("%s/%s", dir, pattern), *all = strdup("");
	glob_t g;

	*n_files = 0;
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char *s = tu_read(g.gl_pathv[i], NULL), *t = tu_fmt("%s%s", all, s);
			free(all);
			free(s);
			all = t;
		}
		*n_files = g.gl_pathc;
		globfree(&g);
	}
	free(pat);
	return all;
}

static X509 *read_cert(const char *dir, const char *name)
{
	char *path = tu_fmt("%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	X509 *x;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_msg(x != NULL, "%s is not a PEM certificate", path);
	free(path);
	return x;
}

START_TEST(files_exist)
{
	static const char *const files[] = {"ca/index.txt", "ca/sm2-root.pem", "ca/rsa-root.pem",
					    "ca-audit.yaml", "truth.jsonl"};
	size_t n;

	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		free(read_in(ds_a, files[i]));
	free(read_glob(ds_a, "logs/ra-*.jsonl", &n));
	ck_assert_uint_gt(n, 12);
	free(read_glob(ds_a, "crl/sm2-root-*.crl", &n));
	ck_assert_uint_ge(n, 1);
	free(read_glob(ds_a, "crl/rsa-root-*.crl", &n));
	ck_assert_uint_ge(n, 1);
	char *cfg = read_in(ds_a, "ca-audit.yaml");
	ck_assert_ptr_nonnull(strstr(cfg, "logs/ra-*.jsonl"));
	ck_assert_ptr_nonnull(strstr(cfg, "{version: \"3.2\", effective: 2023-01-01}"));
	free(cfg);
}
END_TEST

/* Each index line: status, expiry, revocation, serial, "unknown", subject;
 * its newcerts file verifies with the root that signed it. */
START_TEST(index_and_certificates)
{
	char *idx = read_in(ds_a, "ca/index.txt"), *save = NULL;
	X509 *sm2 = read_cert(ds_a, "ca/sm2-root.pem");
	X509 *rsa = read_cert(ds_a, "ca/rsa-root.pem");
	int lines = 0, n_sm2 = 0, n_rsa = 0, n_rev = 0;

	ck_assert_int_eq(tu_count_lines(idx, "\t"), N_CERTS);
	for (char *l = strtok_r(idx, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *f[6], *p = l;
		for (int i = 0; i < 6; i++) {
			f[i] = strsep(&p, "\t");
			ck_assert_msg(f[i] != NULL, "short index line '%s'", l);
		}
		ck_assert_ptr_null(p);
		ck_assert_msg(strchr("VRE", f[0][0]) && !f[0][1], "status '%s'", f[0]);
		ck_assert_int_eq((int)strlen(f[1]), 13);
		ck_assert_int_eq(f[0][0] == 'R', *f[2] != '\0');
		ck_assert_int_eq((int)strlen(f[3]), 32);
		ck_assert_str_eq(f[4], "unknown");
		n_rev += f[0][0] == 'R';

		char *path = tu_fmt("ca/newcerts/%s.pem", f[3]);
		X509 *x = read_cert(ds_a, path);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
		char *hex = BN_bn2hex(bn), *subj = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
		ck_assert_str_eq(hex, f[3]);
		ck_assert_str_eq(subj, f[5]);
		if (X509_get_signature_nid(x) == NID_SM2_with_SM3) {
			ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
			ASN1_OCTET_STRING_set(id, (const unsigned char *)SM2_ID, 16);
			X509_set0_distinguishing_id(x, id);
			ck_assert_msg(X509_verify(x, X509_get0_pubkey(sm2)) == 1, "%s", path);
			n_sm2++;
		} else {
			ck_assert_int_eq(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
			ck_assert_msg(X509_verify(x, X509_get0_pubkey(rsa)) == 1, "%s", path);
			n_rsa++;
		}
		OPENSSL_free(hex);
		OPENSSL_free(subj);
		BN_free(bn);
		X509_free(x);
		free(path);
		lines++;
	}
	ck_assert_int_eq(lines, N_CERTS);
	ck_assert_int_gt(n_sm2, n_rsa); /* ~70% SM2 */
	ck_assert_int_gt(n_rsa, N_CERTS / 10);
	ck_assert_int_gt(n_rev, 0);
	X509_free(sm2);
	X509_free(rsa);
	free(idx);
}
END_TEST

static int verify_crl(X509_CRL *crl, EVP_PKEY *key)
{
	unsigned char *tbs = NULL;
	const ASN1_BIT_STRING *sig;
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx;
	int len, ok;

	if (X509_CRL_get_signature_nid(crl) != NID_SM2_with_SM3)
		return X509_CRL_verify(crl, key) == 1;
	/* X509_CRL_verify has no way to pass the SM2 distinguishing id */
	X509_CRL_get0_signature(crl, &sig, NULL);
	len = i2d_re_X509_CRL_tbs(crl, &tbs);
	md = EVP_MD_CTX_new();
	pctx = EVP_PKEY_CTX_new(key, NULL);
	EVP_PKEY_CTX_set1_id(pctx, SM2_ID, 16);
	EVP_MD_CTX_set_pkey_ctx(md, pctx);
	ok = len > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sm3(), NULL, key) == 1 &&
	     EVP_DigestVerify(md, sig->data, (size_t)sig->length, tbs, (size_t)len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_CTX_free(pctx);
	OPENSSL_free(tbs);
	return ok;
}

/* Every CRL verifies with its root; every revoked certificate of the index
 * is listed in some CRL. */
START_TEST(crls_verify)
{
	static const char *const roots[] = {"sm2-root", "rsa-root"};
	char *idx = read_in(ds_a, "ca/index.txt"), *listed = strdup(""), *save = NULL;
	int n_revoked = 0;

	for (int r = 0; r < 2; r++) {
		char *name = tu_fmt("ca/%s.pem", roots[r]);
		X509 *root = read_cert(ds_a, name);
		char *pat = tu_fmt("%s/crl/%s-*.crl", ds_a, roots[r]);
		glob_t g;
		ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
		for (size_t i = 0; i < g.gl_pathc; i++) {
			FILE *f = fopen(g.gl_pathv[i], "rb");
			X509_CRL *crl = d2i_X509_CRL_fp(f, NULL);
			fclose(f);
			ck_assert_msg(crl != NULL, "%s is not a DER CRL", g.gl_pathv[i]);
			ck_assert_int_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl),
						       X509_get_subject_name(root)), 0);
			ck_assert_msg(verify_crl(crl, X509_get0_pubkey(root)), "%s", g.gl_pathv[i]);
			STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
			for (int k = 0; k < sk_X509_REVOKED_num(revs); k++) {
				BIGNUM *bn = ASN1_INTEGER_to_BN(
					X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, k)), NULL);
				char *hex = BN_bn2hex(bn), *needle = tu_fmt("\t%s\t", hex);
				char *line = strstr(idx, needle);
				ck_assert_msg(line != NULL, "CRL lists %s, not in the index", hex);
				while (line > idx && line[-1] != '\n')
					line--;
				ck_assert_int_eq(line[0], 'R');
				char *t = tu_fmt("%s%s", listed, needle);
				free(listed);
				listed = t;
				free(needle);
				OPENSSL_free(hex);
				BN_free(bn);
			}
			X509_CRL_free(crl);
		}
		globfree(&g);
		free(pat);
		free(name);
		X509_free(root);
	}
	for (char *l = strtok_r(idx, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (l[0] != 'R')
			continue;
		char *p = l, *serial;
		for (int i = 0; i < 4; i++)
			serial = strsep(&p, "\t");
		char *needle = tu_fmt("\t%s\t", serial);
		ck_assert_msg(strstr(listed, needle) != NULL, "revoked %s is in no CRL", serial);
		free(needle);
		n_revoked++;
	}
	ck_assert_int_gt(n_revoked, 0);
	free(listed);
	free(idx);
}
END_TEST

static const char *const kinds[] = {"apply", "notice", "accept", "identity_verify", "review",
				    "contract", "issue", "deliver", "renew_request", "renew",
				    "revoke_request", "revoke", "archive", "purge"};
#define N_KINDS (sizeof kinds / sizeof *kinds)

/* Epoch seconds of an RFC 3339 time; no offset means Asia/Shanghai. */
static time_t parse_at(const char *s)
{
	struct tm tm = {0};
	int n = 0, oh = 0, om = 0;
	long off = 8 * 3600;

	ck_assert_int_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
				&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n), 6);
	s += n;
	if (*s == '.')
		while (*++s >= '0' && *s <= '9')
			;
	if (*s == 'Z') {
		off = 0;
	} else if (*s == '+' || *s == '-') {
		ck_assert_int_eq(sscanf(s + 1, "%2d:%2d", &oh, &om), 2);
		off = (*s == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
	} else {
		ck_assert_int_eq(*s, '\0');
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm) - off;
}

/* The logs of a dataset as parsed events, in file order. */
static json_t *load_events(const char *dir)
{
	size_t n;
	char *all = read_glob(dir, "logs/ra-*.jsonl", &n), *save = NULL;
	json_t *arr = json_array();

	for (char *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_error_t err;
		json_t *o = json_loads(l, 0, &err);
		ck_assert_msg(o != NULL, "bad JSON line '%s': %s", l, err.text);
		json_array_append_new(arr, o);
	}
	free(all);
	return arr;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

START_TEST(logs_are_known_kinds)
{
	json_t *evs = load_events(ds_a), *o;
	int seen[N_KINDS] = {0}, lower_x = 0;
	size_t i;

	ck_assert_uint_gt(json_array_size(evs), N_CERTS * 8);
	json_array_foreach(evs, i, o) {
		const char *kind = str(o, "kind"), *at = str(o, "at");
		size_t k;
		ck_assert_ptr_nonnull(kind);
		ck_assert_ptr_nonnull(at);
		parse_at(at);
		for (k = 0; k < N_KINDS && strcmp(kinds[k], kind); k++)
			;
		ck_assert_msg(k < N_KINDS, "unknown kind '%s'", kind);
		seen[k]++;
		if (!strcmp(kind, "apply")) {
			json_t *who = json_object_get(o, "applicant");
			const char *id = str(who, "id");
			ck_assert_msg(id_valid(str(who, "id_type"), id), "invalid id '%s'", id);
			lower_x += strlen(id) == 18 && id[17] == 'x';
		}
	}
	for (size_t k = 0; k < N_KINDS; k++)
		ck_assert_msg(seen[k] > 0, "no '%s' event", kinds[k]);
	ck_assert_int_eq(seen[6], N_CERTS); /* one issue per certificate */
	ck_assert_int_gt(lower_x, 0);
	json_decref(evs);
}
END_TEST

/* An application's events may span two monthly files but are in time order
 * across them (times compared in UTC, whatever offset they are written in). */
START_TEST(application_events_in_order)
{
	json_t *evs = load_events(ds_a), *last = json_object(), *o;
	size_t i;

	json_array_foreach(evs, i, o) {
		const char *app = str(o, "app");
		if (!app)
			continue;
		json_int_t t = (json_int_t)parse_at(str(o, "at"));
		json_t *prev = json_object_get(last, app);
		ck_assert_msg(!prev || json_integer_value(prev) <= t, "%s: '%s' at %s goes back in time",
			      app, str(o, "kind"), str(o, "at"));
		json_object_set_new(last, app, json_integer(t));
	}
	ck_assert_uint_gt(json_object_size(last), N_CERTS / 2);
	json_decref(last);
	json_decref(evs);
}
END_TEST

START_TEST(same_seed_same_bytes)
{
	static const char *const files[] = {"ca/index.txt", "truth.jsonl", "ca-audit.yaml"};
	size_t na, nb;

	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char *a = read_in(ds_a, files[i]), *b = read_in(ds_b, files[i]);
		ck_assert_msg(!strcmp(a, b), "%s differs between two runs", files[i]);
		free(a);
		free(b);
	}
	char *a = read_glob(ds_a, "logs/ra-*.jsonl", &na), *b = read_glob(ds_b, "logs/ra-*.jsonl", &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(zero_rate_no_truth)
{
	char *clean = read_in(ds_clean, "truth.jsonl"), *dirty = read_in(ds_a, "truth.jsonl");
	ck_assert_str_eq(clean, "");
	ck_assert_int_gt(tu_count_lines(dirty, "\"checklist\":\"miit-2022\""), 10);
	free(clean);
	free(dirty);
}
END_TEST

/* Serials, one per line, whose application has no passing `kind` at or
 * before the certificate's issue, recomputed from the logs. */
static char *lacking(json_t *evs, const char *kind)
{
	char *out = strdup("");
	json_t *iss;
	size_t i, j;

	json_array_foreach(evs, i, iss) {
		if (strcmp(str(iss, "kind"), "issue"))
			continue;
		time_t t_issue = parse_at(str(iss, "at"));
		int ok = 0;
		json_t *o;
		json_array_foreach(evs, j, o) {
			if (!strcmp(str(o, "kind"), kind) && !strcmp(str(o, "app"), str(iss, "app")) &&
			    !strcmp(str(o, "result"), "pass") && parse_at(str(o, "at")) <= t_issue)
				ok = 1;
		}
		if (!ok) {
			char *t = tu_fmt("%s%s\n", out, str(iss, "serial"));
			free(out);
			out = t;
		}
	}
	return out;
}

/* Truth keys of one item, one serial per line, in the same order as
 * `lacking` (the logs issue in index order, truth is in index order). */
static char *truth_serials(const char *dir, const char *item)
{
	char *truth = read_in(dir, "truth.jsonl"), *out = strdup(""), *save = NULL;

	for (char *l = strtok_r(truth, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(l, 0, NULL);
		ck_assert_ptr_nonnull(o);
		ck_assert_str_eq(str(o, "checklist"), "miit-2022");
		if (!strcmp(str(o, "item"), item)) {
			const char *key = str(o, "key");
			ck_assert_msg(!strncmp(key, "serial:", 7), "key '%s'", key);
			char *t = tu_fmt("%s%s\n", out, key + 7);
			free(out);
			out = t;
		}
		json_decref(o);
	}
	free(truth);
	return out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of s, sorted: issue events and truth come in different orders. */
static char *sorted(char *s)
{
	char *v[N_CERTS * 2], *save = NULL, *out = strdup("");
	int n = 0;

	for (char *l = strtok_r(s, "\n", &save); l && n < N_CERTS * 2; l = strtok_r(NULL, "\n", &save))
		v[n++] = l;
	qsort(v, (size_t)n, sizeof *v, cmp_str);
	for (int i = 0; i < n; i++) {
		char *t = tu_fmt("%s%s\n", out, v[i]);
		free(out);
		out = t;
	}
	free(s);
	return out;
}

START_TEST(truth_1_1_recomputed)
{
	json_t *evs = load_events(ds_a);
	char *want = sorted(lacking(evs, "identity_verify")), *got = sorted(truth_serials(ds_a, "1.1"));

	ck_assert_int_gt(tu_count_lines(got, ""), 0);
	ck_assert_str_eq(got, want);
	free(want);
	free(got);
	json_decref(evs);
	evs = load_events(ds_clean);
	want = lacking(evs, "identity_verify");
	ck_assert_str_eq(want, "");
	free(want);
	json_decref(evs);
}
END_TEST

START_TEST(truth_1_2_recomputed)
{
	json_t *evs = load_events(ds_a);
	char *want = sorted(lacking(evs, "review")), *got = sorted(truth_serials(ds_a, "1.2"));

	ck_assert_int_gt(tu_count_lines(got, ""), 0);
	ck_assert_str_eq(got, want);
	free(want);
	free(got);
	json_decref(evs);
}
END_TEST

START_TEST(usage_errors)
{
	struct tu_out o = tu_run("'%s' --certs 5", tu_gen());
	ck_assert_int_eq(o.status, 64);
	ck_assert_ptr_nonnull(strstr(o.err, "usage: gen -o DIR"));
	tu_out_free(&o);

	o = tu_run("'%s' -o '%s/x' --violations 2", tu_gen(), tmp);
	ck_assert_int_eq(o.status, 1);
	ck_assert_str_eq(o.err, "gen: --violations: expected a rate from 0 to 1, got '2'\n");
	tu_out_free(&o);

	o = tu_run("'%s' -o '%s/x' --certs 0", tu_gen(), tmp);
	ck_assert_int_eq(o.status, 1);
	ck_assert_str_eq(o.err, "gen: --certs: expected a number from 1 to 10000000, got '0'\n");
	tu_out_free(&o);

	o = tu_run("'%s' -o '%s/x' --start 2021-13-01", tu_gen(), tmp);
	ck_assert_int_eq(o.status, 1);
	ck_assert_str_eq(o.err, "gen: --start: expected a date YYYY-MM-DD, got '2021-13-01'\n");
	tu_out_free(&o);

	o = tu_run("'%s' -o '%s/x' --start 2024-01-01 --end 2024-01-10", tu_gen(), tmp);
	ck_assert_int_eq(o.status, 1);
	ck_assert_str_eq(o.err, "gen: the period 2024-01-01..2024-01-10 is shorter than 30 days\n");
	tu_out_free(&o);

	o = tu_run("'%s' -o '%s' --certs 5", tu_gen(), ds_a);
	ck_assert_int_eq(o.status, 1);
	char *msg = tu_fmt("gen: '%s' already holds a dataset; remove it first\n", ds_a);
	ck_assert_str_eq(o.err, msg);
	free(msg);
	tu_out_free(&o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gen");
	TCase *tc = tcase_create("dataset");
	int failed;

	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, files_exist);
	tcase_add_test(tc, index_and_certificates);
	tcase_add_test(tc, crls_verify);
	tcase_add_test(tc, logs_are_known_kinds);
	tcase_add_test(tc, application_events_in_order);
	tcase_add_test(tc, same_seed_same_bytes);
	tcase_add_test(tc, zero_rate_no_truth);
	tcase_add_test(tc, truth_1_1_recomputed);
	tcase_add_test(tc, truth_1_2_recomputed);
	tcase_add_test(tc, usage_errors);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
