/*
 * test_sources_more.c — the cfssl, ejbca-csv and mapped csv sources and the
 * CRL signature check, end to end through the real parts: CAs, certificates
 * and CRLs made with the openssl CLI (RSA and SM2), a cfssl certdb built
 * with SQLite from the columns of cfssl's migrations, an EJBCA
 * CertificateData export, the GB18030 fixture through its example mapping,
 * a configuration loaded with config_load, a store on a scratch file and
 * ingest_run; assertions are on the store's rows.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ingest.h"
#include "store.h"
#include "testutil.h"

/* Makes a CA under $1 ($2 = rsa | sm2) with openssl ca: ca.pem, leaf
 * certificates l1 (valid), l2 (revoked, keyCompromise), l3 (2020, expired),
 * and crl.pem signed as $3 asks (distid = GM/T default ID, plain = none). */
static const char make_ca_sh[] =
	"set -e\n"
	"d=$1; alg=$2; cd $d\n"
	"mkdir -p db new; : > db/index.txt; echo 01 > db/crlnumber; echo 1001 > db/serial\n"
	"if [ $alg = sm2 ]; then md=sm3; gen='-algorithm EC -pkeyopt ec_paramgen_curve:SM2';\n"
	"else md=sha256; gen='-algorithm RSA -pkeyopt rsa_keygen_bits:2048'; fi\n"
	"cat > ca.cnf <<EOF\n"
	"[ca]\ndefault_ca = c\n[c]\ndatabase = db/index.txt\nnew_certs_dir = new\n"
	"serial = db/serial\ncrlnumber = db/crlnumber\ndefault_md = $md\ndefault_days = 365\n"
	"default_crl_days = 30\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n"
	"[leaf]\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nEOF\n"
	"openssl genpkey $gen -out ca.key 2>/dev/null\n"
	"openssl genpkey $gen -out leaf.key 2>/dev/null\n"
	"openssl req -new -x509 -key ca.key -$md -days 3650 -subj \"/CN=Test $alg CA/O=Test/C=CN\" "
	"-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign "
	"-out ca.pem\n"
	"ca='openssl ca -batch -config ca.cnf -keyfile ca.key -cert ca.pem'\n"
	"for n in 1 2 3; do\n"
	"  openssl req -new -key leaf.key -$md -subj \"/CN=leaf$n/C=CN\" -out l$n.csr\n"
	"  dates=; [ $n = 3 ] && dates='-startdate 20200101000000Z -enddate 20210101000000Z'\n"
	"  $ca -extensions leaf $dates -in l$n.csr -out l$n.pem 2>/dev/null\n"
	"done\n"
	"$ca -revoke l2.pem -crl_reason keyCompromise 2>/dev/null\n"
	"opt=; [ \"$3\" = distid ] && opt='-sigopt distid:1234567812345678'\n"
	"$ca -gencrl $opt -out crl.pem 2>/dev/null\n";

/* A CA of alg in dir/sub. */
static void make_ca(const char *dir, const char *sub, const char *alg, const char *crl_sig)
{
	char *script = tu_write_in(dir, "make_ca.sh", make_ca_sh);
	struct tu_out o = tu_run("mkdir -p %s/%s && sh %s %s/%s %s %s", dir, sub, script, dir,
				 sub, alg, crl_sig);

	ck_assert_msg(o.status == 0, "make_ca %s: %s", alg, o.err);
	tu_out_free(&o);
	free(script);
}

/* The first column of the first row of sql, as text ("" for NULL, "-" for
 * no row); owned by the caller. */
static char *q1(struct tu_src *x, const char *sql)
{
	sqlite3_stmt *st;
	char *out;

	ck_assert_msg(sqlite3_prepare_v2(store_db(x->st), sql, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(store_db(x->st)));
	if (sqlite3_step(st) == SQLITE_ROW)
		out = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
							 : "");
	else
		out = strdup("-");
	sqlite3_finalize(st);
	return out;
}

#define ASSERT_Q(x, want, ...)                                            \
	do {                                                              \
		char *sql_ = tu_fmt(__VA_ARGS__), *got_ = q1((x), sql_); \
		ck_assert_msg(!strcmp(got_, (want)), "%s: got '%s', want '%s'", sql_, got_, \
			      (want));                                    \
		free(got_);                                               \
		free(sql_);                                               \
	} while (0)

/* The certificate's serial as stored (openssl x509 -serial). */
static char *serial_of(const char *pem)
{
	struct tu_out o = tu_run("openssl x509 -in %s -noout -serial | cut -d= -f2", pem);
	char *s = strdup(o.out);

	s[strcspn(s, "\n")] = '\0';
	tu_out_free(&o);
	return s;
}

/* ---- cfssl ---- */

static const char cfssl_schema[] =
	"CREATE TABLE certificates (serial_number blob NOT NULL, "
	"authority_key_identifier blob NOT NULL, ca_label blob, status blob NOT NULL, "
	"reason int, expiry timestamp, revoked_at timestamp, pem blob NOT NULL, "
	"PRIMARY KEY(serial_number, authority_key_identifier));"
	"ALTER TABLE certificates ADD COLUMN issued_at timestamp;"
	"ALTER TABLE certificates ADD COLUMN not_before timestamp;"
	"ALTER TABLE certificates ADD COLUMN metadata text;"
	"ALTER TABLE certificates ADD COLUMN sans text;"
	"ALTER TABLE certificates ADD COLUMN common_name text;";

static void cfssl_row(sqlite3 *db, const char *serial, const char *status, int reason,
		      const char *revoked_at, const char *pem)
{
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO certificates (serial_number, "
					    "authority_key_identifier, status, reason, revoked_at,"
					    " pem, expiry) VALUES (?, 'aki', ?, ?, ?, ?, "
					    "'2030-01-01 00:00:00+00:00')", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, reason);
	sqlite3_bind_text(st, 4, revoked_at, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, pem, (int)strlen(pem), SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

START_TEST(test_cfssl)
{
	struct tu_src x = {.dir = tu_tmpdir("cfssl")};
	char *p1 = tu_fmt("%s/ca/l1.pem", x.dir), *p2 = tu_fmt("%s/ca/l2.pem", x.dir);
	char *pem1, *pem2, *s1, *s2, *dbp = tu_fmt("%s/certs.db", x.dir);
	sqlite3 *db;

	make_ca(x.dir, "ca", "rsa", "plain");
	pem1 = tu_read(p1, NULL);
	pem2 = tu_read(p2, NULL);
	s1 = serial_of(p1);
	s2 = serial_of(p2);
	ck_assert_int_eq(sqlite3_open(dbp, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, cfssl_schema, NULL, NULL, NULL), SQLITE_OK);
	cfssl_row(db, "4097", "good", 0, "0001-01-01 00:00:00+00:00", pem1);
	cfssl_row(db, "4098", "revoked", 1, "2024-05-01 16:30:00.123456+08:00", pem2);
	cfssl_row(db, "4099", "good", 0, NULL, "-----BEGIN CERTIFICATE-----\nAAAA\n"
		  "-----END CERTIFICATE-----\n");
	sqlite3_close(db);
	tu_src_open(&x, "  certificates:\n    - {type: cfssl, db: certs.db}\n");
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);

	ASSERT_Q(&x, "2", "SELECT count(*) FROM certificate");
	ASSERT_Q(&x, "valid", "SELECT status FROM certificate WHERE serial = '%s'", s1);
	ASSERT_Q(&x, "", "SELECT revoked_at FROM certificate WHERE serial = '%s'", s1);
	ASSERT_Q(&x, "revoked", "SELECT status FROM certificate WHERE serial = '%s'", s2);
	ASSERT_Q(&x, "2024-05-01 08:30:00", "SELECT revoked_at FROM certificate WHERE "
		 "serial = '%s'", s2);
	ASSERT_Q(&x, "keyCompromise", "SELECT revocation_reason FROM certificate WHERE "
		 "serial = '%s'", s2);
	ASSERT_Q(&x, "leaf2", "SELECT cn FROM certificate WHERE serial = '%s'", s2);
	ASSERT_Q(&x, "certs.db", "SELECT source FROM certificate WHERE serial = '%s'", s2);
	/* the bad row is rejected at its rowid, naming cfssl's serial */
	ASSERT_Q(&x, "3", "SELECT line FROM reject");
	ASSERT_Q(&x, "1", "SELECT count(*) FROM reject WHERE reason LIKE "
		 "'certificate serial_number 4099 (rowid 3): unreadable pem%%'");
	ASSERT_Q(&x, "cfssl", "SELECT type FROM source_file WHERE path = 'certs.db'");

	free(pem1), free(pem2), free(s1), free(s2), free(p1), free(p2), free(dbp);
	tu_src_close(&x);
}
END_TEST

START_TEST(test_cfssl_not_certdb)
{
	struct tu_src x = {.dir = tu_tmpdir("cfssl")};
	char *dbp = tu_fmt("%s/certs.db", x.dir);
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(dbp, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE t (a)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	tu_src_open(&x, "  certificates:\n    - {type: cfssl, db: certs.db}\n");
	ck_assert_int_eq(tu_src_ingest(&x), -1);
	ck_assert_str_eq(x.e.file, "certs.db");
	ck_assert_msg(strstr(x.e.msg, "not a cfssl certdb (expected a 'certificates' table"),
		      "%s", x.e.msg);
	free(dbp);
	tu_src_close(&x);
}
END_TEST

/* ---- EJBCA ---- */

/* base64 of a PEM file's DER on one line. */
static char *b64_of(const char *pem)
{
	struct tu_out o = tu_run("openssl x509 -in %s -outform DER | openssl base64 -A", pem);
	char *s = strdup(o.out);

	s[strcspn(s, "\n")] = '\0';
	tu_out_free(&o);
	return s;
}

START_TEST(test_ejbca)
{
	struct tu_src x = {.dir = tu_tmpdir("ejbca")};
	char *b[4], *s[4], *csv;

	make_ca(x.dir, "ca", "sm2", "plain");
	for (int i = 1; i <= 3; i++) {
		char *p = tu_fmt("%s/ca/l%d.pem", x.dir, i);
		b[i] = b64_of(p);
		s[i] = serial_of(p);
		free(p);
	}
	/* columns in EJBCA's own order, not the reader's */
	csv = tu_fmt("fingerprint,issuerDN,subjectDN,status,serialNumber,expireDate,"
		     "revocationDate,revocationReason,base64Cert,username\n"
		     "aa,CN=Test sm2 CA,CN=leaf1,20,4097,1893456000000,-1,-1,%s,u1\n"
		     "bb,CN=Test sm2 CA,CN=leaf2,40,4098,1893456000000,1714552200000,1,%s,u2\n"
		     "cc,CN=Test sm2 CA,CN=leaf3,60,4099,1609459200000,-1,-1,%s,u3\n"
		     "dd,CN=Test sm2 CA,CN=x,20,4100,1,-1,-1,AAAA,u4\n"
		     "ee,CN=Test sm2 CA,CN=x,20,4101,1,-1,-1,%%%%not base64,u5\n"
		     "ff,CN=Test sm2 CA,CN=x,20,4102,1,-1\n",
		     b[1], b[2], b[3]);
	free(tu_write_in(x.dir, "CertificateData.csv", csv));
	tu_src_open(&x, "  certificates:\n    - {type: ejbca-csv, path: CertificateData.csv}\n");
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);

	ASSERT_Q(&x, "3", "SELECT count(*) FROM certificate");
	ASSERT_Q(&x, "valid", "SELECT status FROM certificate WHERE serial = '%s'", s[1]);
	ASSERT_Q(&x, "SM2", "SELECT key_alg FROM certificate WHERE serial = '%s'", s[1]);
	ASSERT_Q(&x, "revoked", "SELECT status FROM certificate WHERE serial = '%s'", s[2]);
	/* 1714552200000 ms = 2024-05-01 08:30:00 UTC */
	ASSERT_Q(&x, "2024-05-01 08:30:00", "SELECT revoked_at FROM certificate WHERE "
		 "serial = '%s'", s[2]);
	ASSERT_Q(&x, "keyCompromise", "SELECT revocation_reason FROM certificate WHERE "
		 "serial = '%s'", s[2]);
	/* archived and past its notAfter (2021) */
	ASSERT_Q(&x, "expired", "SELECT status FROM certificate WHERE serial = '%s'", s[3]);
	ASSERT_Q(&x, "3", "SELECT count(*) FROM reject");
	ASSERT_Q(&x, "1", "SELECT count(*) FROM reject WHERE line = 5 AND reason LIKE "
		 "'serialNumber 4100: unreadable certificate:%%'");
	ASSERT_Q(&x, "serialNumber 4101: base64Cert is not valid base64",
		 "SELECT reason FROM reject WHERE line = 6");
	ASSERT_Q(&x, "expected 10 columns as in the header, found 7",
		 "SELECT reason FROM reject WHERE line = 7");
	for (int i = 1; i <= 3; i++)
		free(b[i]), free(s[i]);
	free(csv);
	tu_src_close(&x);
}
END_TEST

START_TEST(test_ejbca_missing_column)
{
	struct tu_src x = {.dir = tu_tmpdir("ejbca")};

	free(tu_write_in(x.dir, "c.csv", "serialNumber,status,revocationDate,base64Cert\n"
			 "1,20,-1,AAAA\n"));
	tu_src_open(&x, "  certificates:\n    - {type: ejbca-csv, path: c.csv}\n");
	ck_assert_int_eq(tu_src_ingest(&x), -1);
	ck_assert_str_eq(x.e.file, "c.csv");
	ck_assert_int_eq(x.e.line, 1);
	ck_assert_msg(strstr(x.e.msg, "the header has no column 'revocationReason'"), "%s",
		      x.e.msg);
	tu_src_close(&x);
}
END_TEST

/* ---- mapped CSV ---- */

/* Copies the fixture mapping, and the fixture export or extra (UTF-8 lines,
 * written as GB18030, then raw appended as is). */
static void csv_setup(struct tu_src *x, const char *extra_utf8, const char *raw)
{
	struct tu_out o = tu_run("mkdir -p %s/mappings && cp %s/fixtures/mappings/ra-gb18030.yaml"
				 " %s/mappings/ && cp %s/fixtures/ra-gb18030.csv %s/ra.csv",
				 x->dir, tu_root(), x->dir, tu_root(), x->dir);

	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	if (extra_utf8) {
		char *u = tu_write_in(x->dir, "extra.txt", extra_utf8);
		o = tu_run("iconv -f UTF-8 -t GB18030 %s > %s/ra.csv", u, x->dir);
		ck_assert_msg(o.status == 0, "%s", o.err);
		tu_out_free(&o);
		free(u);
	}
	if (raw) {
		char *path = tu_fmt("%s/ra.csv", x->dir);
		FILE *f = fopen(path, "ab");
		fputs(raw, f);
		fclose(f);
		free(path);
	}
	tu_src_open(x, "  events:\n    - {type: csv, path: ra.csv, "
		"mapping: mappings/ra-gb18030.yaml}\n");
}

START_TEST(test_csv_gb18030)
{
	struct tu_src x = {.dir = tu_tmpdir("csv")};

	csv_setup(&x, NULL, NULL);
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_Q(&x, "5", "SELECT count(*) FROM event");
	ASSERT_Q(&x, "0", "SELECT count(*) FROM reject");
	ASSERT_Q(&x, "张三", "SELECT applicant_name FROM application WHERE app = 'A-2024-0001'");
	ASSERT_Q(&x, "11010519491231002X", "SELECT applicant_id FROM application WHERE "
		 "app = 'A-2024-0001'");
	ASSERT_Q(&x, "示例科技有限公司", "SELECT applicant_name FROM application WHERE "
		 "app = 'A-2024-0002'");
	ASSERT_Q(&x, "organization|uscc|机构证书", "SELECT applicant_type || '|' || "
		 "applicant_id_type || '|' || cert_type FROM application WHERE app = 'A-2024-0002'");
	/* 09:12 in Shanghai is 01:12 UTC; lines count the header as 1 */
	ASSERT_Q(&x, "2024-03-01 01:12:00|apply|2", "SELECT at || '|' || kind || '|' || line "
		 "FROM event WHERE app = 'A-2024-0001' ORDER BY at");
	ASSERT_Q(&x, "usage_conditions,fees,personal_info,ca_liability,holder_liability",
		 "SELECT items FROM event WHERE kind = 'notice'");
	ASSERT_Q(&x, "face_to_face|pass|op02", "SELECT method || '|' || result || '|' || actor"
		 " FROM event WHERE kind = 'identity_verify'");
	ASSERT_Q(&x, "", "SELECT items FROM event WHERE kind = 'accept'");
	tu_src_close(&x);
}
END_TEST

START_TEST(test_csv_rejects)
{
	struct tu_src x = {.dir = tu_tmpdir("csv")};

	csv_setup(&x, "业务流水号,事件,时间,申请人类型,申请人名称,证件类型,证件号码,证书类型,"
		  "告知事项,核验方式,结果,操作员\n"
		  "A-1,受理,2024-03-01 09:20:00,,,,,,,,,op01\n"
		  "A-1,受理,2024-03-01 09:20:00,,,op01\n"
		  "A-1,注销,2024-03-01 09:20:00,,,,,,,,,op01\n"
		  "A-1,身份核验,2024-03-01 09:30:00,,,,,,,当面核验,,op02\n"
		  "A-1,受理,昨天,,,,,,,,,op01\n",
		  "A-1,\xCA\xDC\xC0\xED,2024-03-01 09:21:00,\xFF\xFF,,,,,,,,op01\n"
		  "A-1,\xCA\xDC\xC0\xED,2024-03-01 09:22:00,,,,,,,,,op01\n");
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_Q(&x, "2", "SELECT count(*) FROM event");
	ASSERT_Q(&x, "5", "SELECT count(*) FROM reject");
	ASSERT_Q(&x, "expected 12 columns as in the header, found 6",
		 "SELECT reason FROM reject WHERE line = 3");
	ASSERT_Q(&x, "1", "SELECT count(*) FROM reject WHERE line = 4 AND reason LIKE "
		 "'unknown kind ''注销''%%'");
	ASSERT_Q(&x, "missing required field 'result' for kind 'identity_verify'",
		 "SELECT reason FROM reject WHERE line = 5");
	ASSERT_Q(&x, "1", "SELECT count(*) FROM reject WHERE line = 6 AND reason LIKE "
		 "'field ''at'' (column ''时间''): expected a time%%'");
	ASSERT_Q(&x, "bytes invalid in the mapping's encoding 'gb18030' at byte 30 of the line",
		 "SELECT reason FROM reject WHERE line = 7");
	ASSERT_Q(&x, "8", "SELECT line FROM event ORDER BY line DESC");
	tu_src_close(&x);
}
END_TEST

START_TEST(test_csv_mapping_errors)
{
	struct tu_src x = {.dir = tu_tmpdir("csv")};
	char *m;

	csv_setup(&x, "业务流水号,事件,时间\nA-1,受理,2024-03-01 09:20:00\n", NULL);
	/* the header lacks columns the mapping names */
	ck_assert_int_eq(tu_src_ingest(&x), -1);
	ck_assert_str_eq(x.e.file, "ra.csv");
	ck_assert_int_eq(x.e.line, 1);
	ck_assert_msg(strstr(x.e.msg, "the header has no column '申请人类型', which the mapping"),
		      "%s", x.e.msg);
	/* an unknown key and an unknown field, with positions */
	m = tu_write_in(x.dir, "mappings/ra-gb18030.yaml",
			"encoding: gb18030\ncolums: {a: app}\n");
	ck_assert_int_eq(tu_src_ingest(&x), -1);
	ck_assert_int_eq(x.e.line, 2);
	ck_assert_int_eq(x.e.col, 1);
	ck_assert_msg(strstr(x.e.msg, "unknown key 'colums'"), "%s", x.e.msg);
	free(m);
	m = tu_write_in(x.dir, "mappings/ra-gb18030.yaml",
			"encoding: gb18030\ncolumns: {事件: kind, 时间: at, 编号: application}\n");
	ck_assert_int_eq(tu_src_ingest(&x), -1);
	ck_assert_int_eq(x.e.line, 2);
	ck_assert_msg(strstr(x.e.msg, "unknown field 'application' (expected one of: at,"),
		      "%s", x.e.msg);
	free(m);
	m = tu_write_in(x.dir, "mappings/ra-gb18030.yaml",
			"encoding: big5\ncolumns: {事件: kind, 时间: at}\n");
	ck_assert_int_eq(tu_src_ingest(&x), -1);
	ck_assert_msg(strstr(x.e.msg, "unknown encoding 'big5' (expected one of: utf-8, "
			     "gb18030, gbk)"), "%s", x.e.msg);
	free(m);
	m = tu_write_in(x.dir, "mappings/ra-gb18030.yaml", "columns: {事件: kind}\n");
	ck_assert_int_eq(tu_src_ingest(&x), -1);
	ck_assert_msg(strstr(x.e.msg, "no column maps to the field 'at'"), "%s", x.e.msg);
	free(m);
	tu_src_close(&x);
}
END_TEST

/* A CSV export of n rows for test_csv_workers, with what each kind of bad
 * row gives; *events and *rejects count what ingest must report. Forty
 * columns the mapping does not name come first, as in a full export; every
 * seventh row has 700 bytes in the first, row 7 a 600-byte actor. */
#define LONG_CELL_100 "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
#define LONG_CELL LONG_CELL_100 LONG_CELL_100 LONG_CELL_100 LONG_CELL_100 LONG_CELL_100 \
	LONG_CELL_100 LONG_CELL_100

static char *workers_csv(int n, int *events, int *rejects)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	*events = *rejects = 0;
	fputs("\xEF\xBB\xBF", f);
	for (int c = 1; c <= 40; c++)
		fprintf(f, "x%d,", c);
	fputs("app,kind,at,actor,atype,name,idtype,id,ctype\n", f);
	for (int i = 1; i <= n; i++) {
		int h = i / 3600 % 24, m = i / 60 % 60, sec = i % 60;

		fprintf(f, "%.*s,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,", i % 7 ? 0 : 700, LONG_CELL);
		if (i == 7) {
			fprintf(f, "A-7,accept,2024-03-01 00:00:07,op7%.600s,,,,,\n", LONG_CELL);
			++*events;
			continue;
		}

		if (i % 97 == 0) /* bytes that are not UTF-8 */
			fprintf(f, "A-%d,accept,2024-03-01 %02d:%02d:%02d,op\xff%d,,,,,\n", i, h, m,
				sec, i);
		else if (i % 89 == 0) /* a column short */
			fprintf(f, "A-%d,accept,2024-03-01 %02d:%02d:%02d,,,,,\n", i, h, m, sec);
		else if (i % 83 == 0)
			fprintf(f, "A-%d,accept,yesterday,op%d,,,,,\n", i, i);
		else if (i % 79 == 0)
			fprintf(f, "A-%d,nosuch,2024-03-01 %02d:%02d:%02d,op%d,,,,,\n", i, h, m, sec, i);
		else if (i % 10 == 0) /* a name quoted over two physical lines */
			fprintf(f, "A-%d,apply,2024-03-01 %02d:%02d:%02d,,individual,\"Zhang\nSan %d\","
				"resident_id,11010119900101%04d,personal\n", i, h, m, sec, i, i);
		else
			fprintf(f, "A-%d,accept,2024-03-01 %02d:%02d:%02d,op%d,,,,,\n", i, h, m, sec, i);
		if (i % 97 == 0 || i % 89 == 0 || i % 83 == 0 || i % 79 == 0)
			++*rejects;
		else
			++*events;
	}
	/* a quote left open: its row and the two lines after it, one reject */
	fputs("A-x,accept,\"2024-03-02 00:00:00,op1\nA-y,accept,2024-03-02 00:00:00,op1,,,,,\n"
	      "A-z,accept,2024-03-02 00:00:00,op1,,,,,\n", f);
	++*rejects;
	fclose(f);
	return text;
}

/* The mapped CSV source reads, decodes and splits rows in one worker at a
 * time, maps and checks them in several, and stores them in the file's
 * order: one and three threads give the same rows, rowids, applications
 * and rejects. The mapping's zone (Shanghai) is used for its file only;
 * a JSON Lines log read after it keeps the configured zone (UTC). */
START_TEST(test_csv_workers)
{
	static const char *const sql[] = {"SELECT rowid, * FROM event ORDER BY rowid",
					  "SELECT rowid, * FROM application ORDER BY rowid",
					  "SELECT rowid, * FROM reject ORDER BY rowid"};
	char *dir = tu_tmpdir("csvw"), *dump[2], *db, *want;
	int events, rejects;
	char *text = workers_csv(3000, &events, &rejects);
	struct tu_out o;

	free(tu_write_in(dir, "ra.csv", text));
	free(tu_write_in(dir, "ra.jsonl",
			 "{\"at\":\"2024-03-02T08:00:00\",\"kind\":\"accept\",\"app\":\"J-1\"}\n"));
	free(tu_write_in(dir, "map.yaml",
			 "encoding: utf-8\n"
			 "time: {format: \"%Y-%m-%d %H:%M:%S\", zone: Asia/Shanghai}\n"
			 "columns: {app: app, kind: kind, at: at, actor: actor, atype: applicant.type,"
			 " name: applicant.name, idtype: applicant.id_type, id: applicant.id,"
			 " ctype: cert_type}\n"));
	free(tu_write_in(dir, "c.yaml", "ca: {name: X}\ntimezone: UTC\nsources:\n  events:\n"
			 "    - {type: csv, path: ra.csv, mapping: map.yaml}\n"
			 "    - {type: jsonl, path: ra.jsonl}\n"));
	want = tu_fmt("%d records, %d new, %d rejected", events + rejects + 1, events + 1,
		      rejects);
	for (int k = 0; k < 2; k++) {
		o = tu_run("CA_AUDIT_THREADS=%d '%s' --no-progress -c '%s/c.yaml' --db '%s/t%d.db'"
			   " ingest", 1 + 2 * k, tu_bin(), dir, dir, k);
		ck_assert_msg(o.status == 0 && strstr(o.err, want), "%d threads: %s (want %s)",
			      1 + 2 * k, o.err, want);
		tu_out_free(&o);
		dump[k] = tu_dump(db = tu_fmt("%s/t%d.db", dir, k), sql, 3);
		free(db);
	}
	ck_assert_msg(!strcmp(dump[0], dump[1]), "one thread:\n%.2000s\nthree:\n%.2000s", dump[0],
		      dump[1]);
	/* rows 1-9 on lines 2-10; a two-line name every tenth row */
	ck_assert_msg(strstr(dump[0], "1|2024-02-29 16:00:01|accept|A-1|"), "%.300s", dump[0]);
	ck_assert_msg(strstr(dump[0], "|ra.csv|2\n"), "%.300s", dump[0]);
	ck_assert_msg(strstr(dump[0], "|Zhang\nSan 10|"), "%.300s", dump[0]);
	/* row i starts on line 1 + i + (i - 1) / 10 */
	ck_assert_msg(strstr(dump[0], "|ra.csv|98|expected 49 columns as in the header, found 48"),
		      "%.300s", strstr(dump[0], "|ra.csv|98|"));
	ck_assert_msg(strstr(dump[0], "|2024-03-02 08:00:00|accept|J-1|"), "%.300s",
		      strstr(dump[0], "J-1"));
	ck_assert_int_eq(tu_count_lines(dump[0], "|ra.csv|"), events + rejects);
	ck_assert_int_eq(tu_count_lines(dump[0], "|op7" LONG_CELL_100 LONG_CELL_100 LONG_CELL_100
					LONG_CELL_100 LONG_CELL_100 LONG_CELL_100 "|"), 1);
	/* an application every tenth row, less the three multiples of 10 each of
	 * 79, 83, 89 and 97 make bad */
	ck_assert_int_eq(tu_count_lines(dump[0], "|individual|Zhang"), 300 - 12);
	ck_assert_int_eq(tu_count_lines(dump[0], "bytes invalid in the mapping's encoding"), 30);
	ck_assert_int_eq(tu_count_lines(dump[0], "unknown kind 'nosuch'"), 3000 / 79);
	/* the header, 3000 rows, 288 second lines of a name: the open quote on 3290 */
	ck_assert_int_eq(tu_count_lines(dump[0], "|ra.csv|3290|malformed CSV: a quoted field is "
					"not closed at the end of the file (lines 3290-3292"), 1);
	/* --strict with three threads: the first reject in the file's order (row
	 * 79's kind, on line 87) stops the run, whichever rows the workers mapped
	 * first, and nothing of the file is kept */
	o = tu_run("CA_AUDIT_THREADS=3 '%s' --no-progress -c '%s/c.yaml' --db '%s/s.db' ingest"
		   " --strict", tu_bin(), dir, dir);
	ck_assert_msg(o.status == 1 && strstr(o.err, "ra.csv:87: unknown kind 'nosuch'"), "%d: %s",
		      o.status, o.err);
	tu_out_free(&o);
	db = tu_fmt("%s/s.db", dir);
	free(dump[0]);
	dump[0] = tu_dump(db, (const char *const[]){"SELECT count(*) FROM event"}, 1);
	ck_assert_str_eq(dump[0], "0\n");
	free(db);
	for (int k = 0; k < 2; k++)
		free(dump[k]);
	free(want);
	free(text);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- CRL signatures ---- */

static void crl_case(const char *alg, const char *sig)
{
	struct tu_src x = {.dir = tu_tmpdir("crl")};
	char *s2, *p2 = tu_fmt("%s/ca/l2.pem", x.dir), *want;

	make_ca(x.dir, "ca", alg, sig);
	s2 = serial_of(p2);
	tu_src_open(&x, "  crls:\n    - {path: \"ca/crl.pem\", issuers: \"ca/ca.pem\"}\n");
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_Q(&x, "0", "SELECT count(*) FROM reject");
	want = tu_fmt("C=CN,O=Test,CN=Test %s CA", alg);
	ASSERT_Q(&x, want, "SELECT issuer FROM crl");
	ASSERT_Q(&x, "1", "SELECT count(*) FROM crl_entry");
	ASSERT_Q(&x, "keyCompromise", "SELECT reason FROM crl_entry WHERE serial = '%s'", s2);
	free(want), free(s2), free(p2);
	tu_src_close(&x);
}

START_TEST(test_crl_rsa) { crl_case("rsa", "plain"); }
END_TEST
START_TEST(test_crl_sm2_default_id) { crl_case("sm2", "distid"); }
END_TEST
START_TEST(test_crl_sm2_openssl_id) { crl_case("sm2", "plain"); }
END_TEST

/* A CRL signed by another key with the same issuer name is rejected. */
START_TEST(test_crl_tampered)
{
	struct tu_src x = {.dir = tu_tmpdir("crl")};
	struct tu_out o;

	make_ca(x.dir, "ca", "sm2", "distid");
	make_ca(x.dir, "other", "sm2", "distid");
	/* flip one byte of the signature's value, in DER */
	o = tu_run("cd %s && openssl crl -in ca/crl.pem -outform DER -out t.der && "
		   "n=$(($(stat -c %%s t.der) - 3)) && "
		   "b=$(od -An -tx1 -j$n -N1 t.der | tr -d ' ') && "
		   "printf \"\\\\x$(printf %%02x $((0x$b ^ 1)))\" | "
		   "dd of=t.der bs=1 seek=$n conv=notrunc 2>/dev/null && mkdir crl && "
		   "openssl crl -inform DER -in t.der -out crl/a.crl && cp other/crl.pem crl/b.crl",
		   x.dir);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	tu_src_open(&x, "  crls:\n    - {path: \"crl/*.crl\", issuers: \"ca/ca.pem\"}\n");
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_Q(&x, "0", "SELECT count(*) FROM crl");
	ASSERT_Q(&x, "2", "SELECT count(*) FROM reject WHERE reason = 'CRL signature does not "
		 "verify with the issuer certificate ''C=CN,O=Test,CN=Test sm2 CA'''");
	ASSERT_Q(&x, "crl/a.crl", "SELECT source FROM reject ORDER BY source");
	tu_src_close(&x);
}
END_TEST

START_TEST(test_crl_issuers_empty_file)
{
	struct tu_src x = {.dir = tu_tmpdir("crl")};

	make_ca(x.dir, "ca", "rsa", "plain");
	free(tu_write_in(x.dir, "empty.pem", "nothing here\n"));
	tu_src_open(&x, "  crls:\n    - {path: \"ca/crl.pem\", issuers: empty.pem}\n");
	ck_assert_int_eq(tu_src_ingest(&x), -1);
	ck_assert_msg(strstr(x.e.msg, "no certificate in this crl issuers file"), "%s", x.e.msg);
	tu_src_close(&x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sources_more");
	TCase *tc = tcase_create("sources");
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cfssl);
	tcase_add_test(tc, test_cfssl_not_certdb);
	tcase_add_test(tc, test_ejbca);
	tcase_add_test(tc, test_ejbca_missing_column);
	tcase_add_test(tc, test_csv_gb18030);
	tcase_add_test(tc, test_csv_rejects);
	tcase_add_test(tc, test_csv_mapping_errors);
	tcase_add_test(tc, test_csv_workers);
	tcase_add_test(tc, test_crl_rsa);
	tcase_add_test(tc, test_crl_sm2_default_id);
	tcase_add_test(tc, test_crl_sm2_openssl_id);
	tcase_add_test(tc, test_crl_tampered);
	tcase_add_test(tc, test_crl_issuers_empty_file);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
