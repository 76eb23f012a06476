/*
 * test_sources_cert.c — the certificate sources end to end through the real
 * store: a CA run with `openssl ca` (SM2 with SM3, a Chinese subject that
 * index.txt writes with \x escapes, one certificate revoked for key
 * compromise) read through openssl-index; bundles, DER files and garbage
 * through pem; rejects with their positions; idempotent re-ingest; and the
 * path patterns the pem source expands.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "ingest.h"
#include "log.h"
#include "pathglob.h"
#include "store.h"
#include "testutil.h"

#define RESIDENT "11010519491231002X"

static char *dir; /* the CA and its files, made once by main */

static const char ca_cnf[] =
	"[ca]\ndefault_ca=CA_default\n[CA_default]\ndir=ca\ndatabase=$dir/index.txt\n"
	"new_certs_dir=$dir/newcerts\ncertificate=$dir/ca.pem\nprivate_key=$dir/ca.key\n"
	"serial=$dir/serial\ndefault_md=sm3\ndefault_days=365\npolicy=pol\n"
	"unique_subject=no\nutf8=yes\nstring_mask=utf8only\nx509_extensions=usr\n"
	"[pol]\ncountryName=optional\norganizationName=optional\ncommonName=supplied\n"
	"[usr]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
	"1.2.156.10260.4.1.1=ASN1:EXPLICIT:0,UTF8String:" RESIDENT "\n"
	"[req]\ndistinguished_name=dn\nprompt=no\nutf8=yes\nstring_mask=utf8only\n"
	"[dn]\nCN=Test CA\n[v3ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n";

/* Makes the CA: three certificates issued, 1001 revoked (keyCompromise);
 * certs/ holds a bundle and a broken file, der/ two concatenated DER
 * certificates. */
static int make_ca(void)
{
	struct tu_out o;
	char *cnf = tu_fmt("%s/ca/ca.cnf", dir);
	int rc;

	o = tu_run("cd '%s' && mkdir -p ca/newcerts certs/sub der && touch ca/index.txt &&"
		   " echo 1000 > ca/serial", dir);
	tu_out_free(&o);
	if (tu_write(cnf, ca_cnf))
		return -1;
	free(cnf);
	o = tu_run(
		"cd '%s' && set -e; g() { openssl genpkey -algorithm EC -pkeyopt"
		" ec_paramgen_curve:SM2 -out $1; };"
		" g ca/ca.key; openssl req -new -x509 -key ca/ca.key -sm3 -config ca/ca.cnf"
		" -extensions v3ca -days 3650 -out ca/ca.pem;"
		" for i in 1 2 3 4 5; do g u$i.key; done;"
		" openssl req -new -key u1.key -sm3 -utf8 -config ca/ca.cnf -out u1.csr"
		"  -subj '/C=CN/O=示例科技有限公司/CN=张三';"
		" openssl req -new -key u2.key -sm3 -config ca/ca.cnf -out u2.csr -subj '/CN=Li Si';"
		" openssl req -new -key u3.key -sm3 -config ca/ca.cnf -out u3.csr -subj '/CN=Wang Wu';"
		" for i in 1 2 3; do openssl ca -batch -config ca/ca.cnf -in u$i.csr -out u$i.pem; done;"
		" openssl ca -config ca/ca.cnf -revoke ca/newcerts/1001.pem -crl_reason keyCompromise;"
		" cat ca/ca.pem u1.pem > certs/sub/bundle.pem;"
		" for i in 4 5; do openssl req -new -x509 -key u$i.key -sm3 -config ca/ca.cnf"
		"  -subj /CN=Der$i -outform DER -out d$i.der; done; cat d4.der d5.der > der/two.der",
		dir);
	rc = o.status;
	if (rc)
		fprintf(stderr, "making the CA failed: %s\n", o.err);
	tu_out_free(&o);
	return rc ? -1 : 0;
}

/* A store in a fresh file and a configuration from yaml in dir. */
struct env {
	struct store *st;
	struct config *cfg;
	struct ingest_ctx ctx;
	char *db;
};

static void env_open(struct env *v, const char *name, const char *yaml)
{
	struct err e = {0};
	char *path = tu_fmt("%s/%s.yaml", dir, name);

	memset(v, 0, sizeof *v);
	v->db = tu_fmt("%s/%s.db", dir, name);
	remove(v->db);
	ck_assert_int_eq(tu_write(path, yaml), 0);
	ck_assert_msg(config_load(path, &v->cfg, &e) == 0, "config: %s", e.msg);
	ck_assert_msg(store_open(v->db, 0, &v->st, &e) == 0, "store: %s", e.msg);
	v->ctx.st = v->st;
	v->ctx.cfg = v->cfg;
	free(path);
}

static void env_close(struct env *v)
{
	store_close(v->st);
	config_free(v->cfg);
	free(v->db);
}

/* The first column of the first row, as text ("" for NULL, NULL for no row). */
static char *q1(struct env *v, const char *sql)
{
	sqlite3_stmt *s;
	char *out = NULL;

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(v->st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		out = strdup(t ? (const char *)t : "");
	}
	sqlite3_finalize(s);
	return out;
}

static void ck_q(struct env *v, const char *sql, const char *want)
{
	char *got = q1(v, sql);

	ck_assert_msg(got && !strcmp(got, want), "%s: got '%s', want '%s'", sql,
		      got ? got : "(no row)", want);
	free(got);
}

/* The revocation time of serial's line in index.txt, as stored UTC text. */
static char *index_revoked_at(const char *serial)
{
	char *path = tu_fmt("%s/ca/index.txt", dir), *text = tu_read(path, NULL), *line, *out;
	char *needle = tu_fmt("\t%s\t", serial), *t;

	ck_assert_ptr_nonnull(text);
	line = strstr(text, needle);
	ck_assert_ptr_nonnull(line);
	while (line > text && line[-1] != '\n')
		line--;
	t = strchr(strchr(line, '\t') + 1, '\t') + 1; /* third field: YYMMDDHHMMSSZ,reason */
	out = tu_fmt("20%.2s-%.2s-%.2s %.2s:%.2s:%.2s", t, t + 2, t + 4, t + 6, t + 8, t + 10);
	free(text);
	free(path);
	free(needle);
	return out;
}

static const char index_yaml[] =
	"ca: {name: 测试CA}\nsources:\n  certificates:\n"
	"    - {type: openssl-index, index: ca/index.txt, certs: ca/newcerts}\n";

START_TEST(test_openssl_index)
{
	struct env v;
	struct err e = {0};
	char *rev = index_revoked_at("1001");
	struct tu_out o;

	env_open(&v, "index", index_yaml);
	ck_assert_msg(src_openssl_index(&v.ctx, &v.cfg->cert_sources[0], &e) == 0, "%s", e.msg);
	ck_assert_int_eq(store_count(v.st, "certificate"), 3);
	ck_assert_int_eq(store_count(v.st, "reject"), 0);
	ck_assert_int_eq(v.ctx.added, 3);
	ck_q(&v, "SELECT status FROM certificate WHERE serial = '1001'", "revoked");
	ck_q(&v, "SELECT revoked_at FROM certificate WHERE serial = '1001'", rev);
	ck_q(&v, "SELECT revocation_reason FROM certificate WHERE serial = '1001'",
	     "keyCompromise");
	ck_q(&v, "SELECT status FROM certificate WHERE serial = '1000'", "valid");
	ck_q(&v, "SELECT revoked_at IS NULL FROM certificate WHERE serial = '1000'", "1");
	ck_q(&v, "SELECT subject FROM certificate WHERE serial = '1000'",
	     "CN=张三,O=示例科技有限公司,C=CN");
	ck_q(&v, "SELECT issuer FROM certificate WHERE serial = '1002'", "CN=Test CA");
	ck_q(&v, "SELECT id_type || ' ' || id_number FROM certificate WHERE serial = '1000'",
	     "resident_id " RESIDENT);
	ck_q(&v, "SELECT sig_alg || ' ' || key_alg || ' ' || key_bits FROM certificate"
		 " WHERE serial = '1002'", "SM2-with-SM3 SM2 256");
	ck_q(&v, "SELECT group_concat(DISTINCT source) FROM certificate", "ca/index.txt");
	ck_q(&v, "SELECT records || ' ' || rejects FROM source_file WHERE path = 'ca/index.txt'",
	     "3 0");

	/* unchanged: skipped, nothing added */
	memset(&v.ctx.files_read, 0, sizeof v.ctx - offsetof(struct ingest_ctx, files_read));
	ck_assert_int_eq(src_openssl_index(&v.ctx, &v.cfg->cert_sources[0], &e), 0);
	ck_assert_int_eq(v.ctx.files_skipped, 1);
	ck_assert_int_eq(v.ctx.added, 0);
	/* read again in full: still nothing new */
	v.ctx.full = 1;
	ck_assert_int_eq(src_openssl_index(&v.ctx, &v.cfg->cert_sources[0], &e), 0);
	ck_assert_int_eq(v.ctx.added, 0);
	ck_assert_int_eq(store_count(v.st, "certificate"), 3);
	v.ctx.full = 0;

	/* a later revocation updates the row */
	o = tu_run("cd '%s' && openssl ca -config ca/ca.cnf -revoke ca/newcerts/1002.pem"
		   " -crl_reason superseded", dir);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	ck_assert_int_eq(src_openssl_index(&v.ctx, &v.cfg->cert_sources[0], &e), 0);
	ck_assert_int_eq(store_count(v.st, "certificate"), 3);
	ck_q(&v, "SELECT status || ' ' || revocation_reason FROM certificate WHERE serial = '1002'",
	     "revoked superseded");
	env_close(&v);
	free(rev);
}
END_TEST

static const char bad_index[] =
	"V\t271121233146Z\t\t1000\tunknown\t/CN=ok\n"
	"X\t271121233146Z\t\t1000\tunknown\t/CN=x\n"
	"V\tsoon\t\t1000\tunknown\t/CN=x\n"
	"R\t271121233146Z\t261121233146Z,badReason\t1001\tunknown\t/CN=x\n"
	"V\t271121233146Z\t\tZZ\tunknown\t/CN=x\n"
	"V\t271121233146Z\t\t1009\tunknown\t/C=CN/CN=\\xE5\\xBC\\xA0\n"
	"V\t271121233146Z\t\t1000\n"
	"V\t271121233146Z\t\t1003\tunknown\t/CN=x\n"
	"V\t271121233146Z\t\t1004\tunknown\t/CN=x\n"
	"R\t271121233146Z\t\t1002\tunknown\t/CN=x\n"
	"\n"
	"R\t271121233146Z\t261121233146Z,keyTime,20261120000000Z\t1002\tunknown\t/CN=x\n";

static void make_bad_index(void)
{
	struct tu_out o = tu_run("cd '%s' && mkdir -p bad/certs && cp ca/newcerts/100[012].pem"
				 " bad/certs/ && cp ca/newcerts/1000.pem bad/certs/1003.pem &&"
				 " echo junk > bad/certs/1004.pem", dir);
	char *path = tu_fmt("%s/bad/index.txt", dir);

	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	ck_assert_int_eq(tu_write(path, bad_index), 0);
	free(path);
}

static const char bad_yaml[] = "ca: {name: X}\nsources:\n  certificates:\n"
			       "    - {type: openssl-index, index: bad/index.txt, certs: bad/certs}\n";

START_TEST(test_openssl_index_rejects)
{
	static const char *const want[] = {
		"2|expected status V, R or E, found 'X'",
		"3|expected an expiry time YYMMDDHHMMSSZ, found 'soon'",
		"4|unknown revocation reason 'badReason': expected unspecified, keyCompromise,"
		" CACompromise, affiliationChanged, superseded, cessationOfOperation,"
		" certificateHold or removeFromCRL",
		"5|expected a hexadecimal serial, found 'ZZ'",
		"6|no certificate file for serial 1009 (/C=CN/CN=张): expected"
		" 'bad/certs/1009.pem' (or .der, .crt)",
		"7|expected 6 tab-separated fields (status, expiry, revocation, serial, file,"
		" subject), found 4",
		"8|certificate file '%s/bad/certs/1003.pem' has serial 1000, the index says 1003",
		"9|certificate file '%s/bad/certs/1004.pem' for serial 1004: neither a PEM nor a"
		" DER certificate",
		"10|revoked certificate without a revocation time: expected YYMMDDHHMMSSZ[,reason]",
	};
	struct env v;
	struct err e = {0};
	sqlite3_stmt *s;
	size_t i = 0;

	make_bad_index();
	env_open(&v, "bad", bad_yaml);
	ck_assert_msg(src_openssl_index(&v.ctx, &v.cfg->cert_sources[0], &e) == 0, "%s", e.msg);
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(v.st), "SELECT line || '|' || reason FROM"
					    " reject WHERE source = 'bad/index.txt' ORDER BY line",
					    -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		char *w;
		ck_assert_uint_lt(i, sizeof want / sizeof *want);
		w = tu_fmt(want[i], dir);
		ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), w);
		free(w);
		i++;
	}
	sqlite3_finalize(s);
	ck_assert_uint_eq(i, sizeof want / sizeof *want);
	ck_assert_int_eq(store_count(v.st, "certificate"), 2);
	/* keyTime is how -crl_compromise records a key compromise */
	ck_q(&v, "SELECT revocation_reason FROM certificate WHERE serial = '1002'",
	     "keyCompromise");
	env_close(&v);

	/* --strict: the first reject stops the run and nothing of the file stays */
	env_open(&v, "bad", bad_yaml);
	v.ctx.strict = 1;
	ck_assert_int_eq(src_openssl_index(&v.ctx, &v.cfg->cert_sources[0], &e), -1);
	ck_assert_str_eq(e.msg, "expected status V, R or E, found 'X' (--strict)");
	ck_assert_int_eq(e.line, 2);
	ck_assert_str_eq(e.file, "bad/index.txt");
	ck_assert_int_eq(store_count(v.st, "certificate"), 0);
	env_close(&v);
}
END_TEST

/* A certificate's file may be <serial>.pem, .der or .crt, named with the
 * serial as the index writes it or in lower case; a missing directory
 * leaves every line to be rejected as missing its file. */
START_TEST(test_openssl_index_file_names)
{
	static const char index[] = "V\t271121233146Z\t\t1000\tunknown\t/CN=a\n"
				    "V\t271121233146Z\t\t1001\tunknown\t/CN=b\n"
				    "V\t271121233146Z\t\tABCD\tunknown\t/CN=lc\n";
	static const char yaml[] = "ca: {name: X}\nsources:\n  certificates:\n"
				   "    - {type: openssl-index, index: names/index.txt,"
				   " certs: names/certs}\n";
	static const char gone[] = "ca: {name: X}\nsources:\n  certificates:\n"
				   "    - {type: openssl-index, index: names/index.txt,"
				   " certs: names/nowhere}\n";
	struct tu_out o = tu_run(
		"cd '%s' && mkdir -p names/certs &&"
		" openssl x509 -in ca/newcerts/1000.pem -outform DER -out names/certs/1000.der &&"
		" cp ca/newcerts/1001.pem names/certs/1001.crt &&"
		" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
		" -subj /CN=lc -set_serial 0xABCD -days 10 -keyout /dev/null"
		" -out names/certs/abcd.pem 2>&1", dir);
	char *path = tu_fmt("%s/names/index.txt", dir);
	struct env v;
	struct err e = {0};

	ck_assert_msg(o.status == 0, "%s", o.out);
	tu_out_free(&o);
	ck_assert_int_eq(tu_write(path, index), 0);
	free(path);
	env_open(&v, "names", yaml);
	ck_assert_msg(src_openssl_index(&v.ctx, &v.cfg->cert_sources[0], &e) == 0, "%s", e.msg);
	ck_q(&v, "SELECT group_concat(serial || ' ' || cn, ';') FROM"
	     " (SELECT * FROM certificate ORDER BY serial)", "1000 张三;1001 Li Si;ABCD lc");
	ck_assert_int_eq(store_count(v.st, "reject"), 0);
	env_close(&v);

	env_open(&v, "gone", gone);
	ck_assert_msg(src_openssl_index(&v.ctx, &v.cfg->cert_sources[0], &e) == 0, "%s", e.msg);
	ck_assert_int_eq(store_count(v.st, "certificate"), 0);
	ck_q(&v, "SELECT count(*) || ' ' || min(reason) FROM reject",
	     "3 no certificate file for serial 1000 (/CN=a): expected"
	     " 'names/nowhere/1000.pem' (or .der, .crt)");
	env_close(&v);
}
END_TEST

/* Every certificate (all columns) and reject of a store, in the order
 * they were stored. */
static char *dump_by_rowid(const char *db)
{
	static const char *const sql[] = {"SELECT * FROM certificate ORDER BY rowid",
					  "SELECT * FROM reject ORDER BY rowid"};

	return tu_dump(db, sql, sizeof sql / sizeof *sql);
}

/* The certificate files are decoded by several workers at once
 * (ingest_pipe_run_par); the store gets what one thread gives: every column
 * of every certificate in the index's order, and the rejects with their
 * lines. 700 lines are a few of the pipe's batches. */
START_TEST(test_openssl_index_workers)
{
	static const char yaml[] = "ca: {name: X}\nsources:\n  certificates:\n"
				   "    - {type: openssl-index, index: ca/index.txt,"
				   " certs: ca/newcerts}\n";
	char *ds = tu_fmt("%s/many", dir), *cfg = tu_fmt("%s/c.yaml", ds), *one, *three, *db;
	struct tu_out o = tu_run("'%s' -o '%s' --certs 700 --seed 3 --violations 0.1 &&"
				 " cd '%s' && sed -i -e '2s/^./Q/' -e '300s/\t[0-9A-F]*\t/\tDEADBEEF\t/'"
				 " -e '651s/^./Q/' ca/index.txt", tu_gen(), ds, ds);

	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	ck_assert_int_eq(tu_write(cfg, yaml), 0);
	for (int t = 1; t <= 3; t += 2) {
		o = tu_run("CA_AUDIT_THREADS=%d '%s' --no-progress -c '%s' --db '%s/t%d.db' ingest",
			   t, tu_bin(), cfg, ds, t);
		ck_assert_msg(o.status == 0 && strstr(o.err, "700 records, 697 new, 3 rejected"),
			      "%d threads: %s", t, o.err);
		tu_out_free(&o);
	}
	one = dump_by_rowid(db = tu_fmt("%s/t1.db", ds));
	free(db);
	three = dump_by_rowid(db = tu_fmt("%s/t3.db", ds));
	free(db);
	ck_assert_msg(!strcmp(one, three), "one thread:\n%.2000s\nthree:\n%.2000s", one, three);
	ck_assert_msg(strstr(one, "ca/index.txt|2|expected status V, R or E, found 'Q'"), "%s",
		      strstr(one, "ca/index.txt|"));
	ck_assert_msg(strstr(one, "ca/index.txt|300|no certificate file for serial DEADBEEF"),
		      "%s", strstr(one, "ca/index.txt|"));
	ck_assert_msg(strstr(one, "ca/index.txt|651|expected status"), "%s",
		      strstr(one, "ca/index.txt|"));
	free(one);
	free(three);
	free(cfg);
	free(ds);
}
END_TEST

START_TEST(test_pem_source)
{
	static const char yaml[] =
		"ca: {name: X}\nsources:\n  certificates:\n"
		"    - {type: pem, path: \"certs/**/*.pem\"}\n"
		"    - {type: pem, path: der/two.der}\n";
	struct env v;
	struct err e = {0};
	char *broken = tu_fmt("%s/certs/broken.pem", dir), *ca = tu_fmt("%s/ca/ca.pem", dir);
	char *cat = tu_read(ca, NULL), *text;
	int lines = tu_count_lines(cat, "");

	/* line 1 text, then a good certificate, then one with bad base64 */
	text = tu_fmt("junk before\n%s-----BEGIN CERTIFICATE-----\nMIIB*AAA\n"
		      "-----END CERTIFICATE-----\n", cat);
	ck_assert_int_eq(tu_write(broken, text), 0);
	free(text);
	free(cat);
	free(ca);

	env_open(&v, "pem", yaml);
	ck_assert_msg(src_pem(&v.ctx, &v.cfg->cert_sources[0], &e) == 0, "%s", e.msg);
	ck_assert_msg(src_pem(&v.ctx, &v.cfg->cert_sources[1], &e) == 0, "%s", e.msg);
	/* CA + 张三 from the bundle (the CA again from broken.pem), two DER */
	ck_assert_int_eq(store_count(v.st, "certificate"), 4);
	ck_q(&v, "SELECT source FROM certificate WHERE serial = '1000'", "certs/sub/bundle.pem");
	ck_q(&v, "SELECT is_ca FROM certificate WHERE subject = 'CN=Test CA'", "1");
	ck_q(&v, "SELECT group_concat(subject, ';') FROM (SELECT subject FROM certificate"
		 " WHERE source = 'der/two.der' ORDER BY subject)", "CN=Der4;CN=Der5");
	ck_q(&v, "SELECT count(*) FROM reject", "1");
	text = tu_fmt("%d|unreadable certificate: invalid base64 character on line %d",
		      lines + 2, lines + 3);
	ck_q(&v, "SELECT line || '|' || reason FROM reject WHERE source = 'certs/broken.pem'",
	     text);
	free(text);

	/* again: every file unchanged, nothing added */
	memset(&v.ctx.files_read, 0, sizeof v.ctx - offsetof(struct ingest_ctx, files_read));
	ck_assert_int_eq(src_pem(&v.ctx, &v.cfg->cert_sources[0], &e), 0);
	ck_assert_int_eq(src_pem(&v.ctx, &v.cfg->cert_sources[1], &e), 0);
	ck_assert_int_eq(v.ctx.files_skipped, 3);
	ck_assert_int_eq(v.ctx.added, 0);
	ck_assert_int_eq(store_count(v.st, "certificate"), 4);
	ck_assert_int_eq(store_count(v.st, "reject"), 1);
	env_close(&v);
	remove(broken);
	free(broken);
}
END_TEST

START_TEST(test_pem_source_errors)
{
	static const char yaml[] =
		"ca: {name: X}\nsources:\n  certificates:\n"
		"    - {type: pem, path: nothing/here.pem}\n"
		"    - {type: pem, path: \"garbage/*\"}\n";
	struct env v;
	struct err e = {0};
	char *g = tu_fmt("%s/garbage", dir), *f;

	mkdir(g, 0755);
	f = tu_fmt("%s/hello.pem", g);
	ck_assert_int_eq(tu_write(f, "hello world\n"), 0);
	env_open(&v, "pemerr", yaml);
	ck_assert_int_eq(src_pem(&v.ctx, &v.cfg->cert_sources[0], &e), -1);
	ck_assert_msg(strstr(e.msg, "unable to open '") && strstr(e.msg, "nothing/here.pem'"),
		      "%s", e.msg);
	ck_assert_int_eq(src_pem(&v.ctx, &v.cfg->cert_sources[1], &e), 0);
	ck_q(&v, "SELECT source || '|' || line || '|' || reason FROM reject",
	     "garbage/hello.pem|0|unreadable certificate at byte offset 0: neither a PEM nor a"
	     " DER certificate");
	env_close(&v);
	free(f);
	free(g);
}
END_TEST

/* Asserts the rows of sql on the store's file, read through a connection
 * of its own (tu_dump): what was committed. One row of one column here. */
static void ck_committed(const struct env *v, const char *sql, const char *want)
{
	char *got = tu_dump(v->db, &sql, 1), *line = tu_fmt("%s\n", want);

	ck_assert_msg(!strcmp(got, line), "%s: got '%s', want '%s'", sql, got, line);
	free(line);
	free(got);
}

/* ingest_run stores many small files a group at a time (store_group_begin):
 * a file that fails the run is rolled back alone, and the files before it
 * are committed when the run returns, as with a transaction per file. */
START_TEST(test_failed_file_keeps_the_files_before_it)
{
	static const char yaml[] =
		"ca: {name: X}\nsources:\n  certificates:\n"
		"    - {type: pem, path: \"grp/*.pem\"}\n";
	static const char files_sql[] = "SELECT group_concat(path, ' ') FROM"
		" (SELECT path FROM source_file ORDER BY path)";
	static const char certs_sql[] = "SELECT group_concat(source || ':' || serial, ' ') FROM"
		" (SELECT source, serial FROM certificate ORDER BY source)";
	struct tu_out o = tu_run("cd '%s' && mkdir -p grp && cp ca/newcerts/1000.pem grp/a1.pem &&"
				 " cp ca/newcerts/1001.pem grp/a2.pem && echo junk > grp/a3.pem &&"
				 " cp ca/newcerts/1002.pem grp/a4.pem", dir);
	struct env v;
	struct err e = {0};

	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	env_open(&v, "grp", yaml);
	v.ctx.strict = 1;
	ck_assert_int_eq(ingest_run(&v.ctx, &e), -1);
	ck_assert_msg(strstr(e.file, "grp/a3.pem") && strstr(e.msg, "(--strict)"), "%s: %s",
		      e.file, e.msg);
	ck_committed(&v, files_sql, "grp/a1.pem grp/a2.pem");
	ck_committed(&v, certs_sql, "grp/a1.pem:1000 grp/a2.pem:1001");
	ck_committed(&v, "SELECT count(*) FROM reject", "0");

	/* the same run without --strict reads on from the failed file */
	memset(&v.ctx.files_read, 0, sizeof v.ctx - offsetof(struct ingest_ctx, files_read));
	v.ctx.strict = 0;
	ck_assert_msg(ingest_run(&v.ctx, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(v.ctx.files_skipped, 2);
	ck_assert_int_eq(v.ctx.files_read, 2);
	ck_committed(&v, files_sql, "grp/a1.pem grp/a2.pem grp/a3.pem grp/a4.pem");
	ck_committed(&v, certs_sql, "grp/a1.pem:1000 grp/a2.pem:1001 grp/a4.pem:1002");
	ck_committed(&v, "SELECT source || '|' || line FROM reject", "grp/a3.pem|0");
	env_close(&v);

	/* the group's first file fails: nothing is kept, and the next run
	 * starts a group of its own */
	o = tu_run("cd '%s' && mv grp/a3.pem grp/a0.pem", dir);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	env_open(&v, "grp", yaml);
	v.ctx.strict = 1;
	ck_assert_int_eq(ingest_run(&v.ctx, &e), -1);
	ck_assert_msg(strstr(e.file, "grp/a0.pem") != NULL, "%s: %s", e.file, e.msg);
	ck_committed(&v, "SELECT count(*) FROM source_file", "0");
	ck_committed(&v, "SELECT count(*) FROM certificate", "0");
	memset(&v.ctx.files_read, 0, sizeof v.ctx - offsetof(struct ingest_ctx, files_read));
	v.ctx.strict = 0;
	ck_assert_msg(ingest_run(&v.ctx, &e) == 0, "%s", e.msg);
	ck_committed(&v, files_sql, "grp/a0.pem grp/a1.pem grp/a2.pem grp/a4.pem");
	ck_committed(&v, certs_sql, "grp/a1.pem:1000 grp/a2.pem:1001 grp/a4.pem:1002");
	env_close(&v);
}
END_TEST

/* ---- path patterns ---------------------------------------------------- */

START_TEST(test_pathglob)
{
	char *root = tu_tmpdir("glob"), *pat;
	struct strlist l = {0};
	struct err e = {0};
	struct tu_out o = tu_run("cd '%s' && mkdir -p a/b/c a/.hidden a/d.pem &&"
				 " touch a/x.pem a/b/c/y.pem a/.hidden/z.pem a/b/n.txt a/.w.pem",
				 root);

	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
#define GLOB(pattern_, count_) do { strlist_free(&l); pat = tu_fmt("%s/%s", root, pattern_); \
		ck_assert_msg(pathglob(pat, &l, &e) == 0, "%s", e.msg); \
		ck_assert_uint_eq(l.n, count_); free(pat); } while (0)
#define AT(i, rel) do { char *w_ = tu_fmt("%s/%s", root, rel); \
		ck_assert_str_eq(l.v[i], w_); free(w_); } while (0)
	GLOB("a/**/*.pem", 2);
	AT(0, "a/b/c/y.pem");
	AT(1, "a/x.pem");
	GLOB("a/*.pem", 1); /* a directory and a dot file do not match */
	AT(0, "a/x.pem");
	GLOB("a/?.pem", 1);
	GLOB("**/y.pem", 1);
	AT(0, "a/b/c/y.pem");
	GLOB("a/**/**/*.pem", 2); /* reached twice, listed once */
	GLOB("a/.hidden/*.pem", 1);
	GLOB("nothing/*.pem", 0);
	GLOB("a/x.pem", 1);
	/* appends to what is there */
	pat = tu_fmt("%s/a/b/*/*.pem", root);
	ck_assert_int_eq(pathglob(pat, &l, &e), 0);
	ck_assert_uint_eq(l.n, 2);
	free(pat);

	pat = tu_fmt("%s/a/missing.pem", root);
	ck_assert_int_eq(pathglob(pat, &l, &e), -1);
	ck_assert_msg(strstr(e.msg, "a/missing.pem': No such file or directory") != NULL, "%s",
		      e.msg);
	free(pat);
	pat = tu_fmt("%s/a/b", root);
	ck_assert_int_eq(pathglob(pat, &l, &e), -1);
	ck_assert_msg(strstr(e.msg, "a/b' is not a regular file") != NULL, "%s", e.msg);
	free(pat);
	strlist_free(&l);
	tu_rmdir(root);
	free(root);
}
END_TEST

static Suite *sources_suite(void)
{
	Suite *s = suite_create("sources_cert");
	TCase *tc = tcase_create("sources");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_openssl_index);
	tcase_add_test(tc, test_openssl_index_rejects);
	tcase_add_test(tc, test_openssl_index_file_names);
	tcase_add_test(tc, test_openssl_index_workers);
	tcase_add_test(tc, test_pem_source);
	tcase_add_test(tc, test_pem_source_errors);
	tcase_add_test(tc, test_failed_file_keeps_the_files_before_it);
	tcase_add_test(tc, test_pathglob);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed;

	log_set_level(LOG_QUIET);
	dir = tu_tmpdir("srccert");
	if (make_ca() < 0)
		return EXIT_FAILURE;
	/* the tests share the CA directory and one changes index.txt */
	failed = tu_suite_failures(sources_suite(), CK_NOFORK);
	tu_rmdir(dir);
	free(dir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
