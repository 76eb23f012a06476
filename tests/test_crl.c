/*
 * test_crl.c — the CRL source's fast path (issue #6): CRLs read in place,
 * entries already stored skipped through the in-memory first-listing index,
 * and the CRLs that still go through d2i_X509_CRL (RSA-PSS signatures, CRLs
 * that are not strict DER). CRLs are made with the openssl CLI (openssl ca
 * with fixed lastUpdate times and edited revocation dates) or, for the
 * serials and dates the CLI cannot make, with OpenSSL's API; they are
 * ingested with ingest_run into a real store, and the assertions are on its
 * rows and rejects.
 */
#include <check.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ingest.h"
#include "store.h"
#include "testutil.h"

/* An RSA CA in $1 with two leaves: c1.pem (lastUpdate 2024-01-01) lists l1,
 * revoked 2023-12-30 12:00; c2.pem (2024-01-08) lists l1, its date restated
 * as 2023-12-31 12:00, and l2; pss.pem is c2 signed with RSA-PSS; .der
 * copies of each. */
static const char make_ca_sh[] =
	"set -e\n"
	"cd $1\n"
	"mkdir -p db new; : > db/index.txt; echo 01 > db/crlnumber; echo 1001 > db/serial\n"
	"cat > ca.cnf <<EOF\n"
	"[ca]\ndefault_ca = c\n[c]\ndatabase = db/index.txt\nnew_certs_dir = new\n"
	"serial = db/serial\ncrlnumber = db/crlnumber\ndefault_md = sha256\ndefault_days = 365\n"
	"default_crl_days = 30\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n"
	"EOF\n"
	"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca.key 2>/dev/null\n"
	"openssl req -new -x509 -key ca.key -sha256 -days 3650 -subj '/CN=CRL CA/O=Test/C=CN' "
	"-out ca.pem\n"
	"ca='openssl ca -batch -config ca.cnf -keyfile ca.key -cert ca.pem'\n"
	"for n in 1 2; do\n"
	"  openssl req -new -key ca.key -subj \"/CN=leaf$n/C=CN\" -out l$n.csr\n"
	"  $ca -in l$n.csr -out l$n.pem 2>/dev/null\n"
	"done\n"
	"redate() { awk -F'\\t' -v OFS='\\t' -v d=$2 '$4==\"'$1'\" {sub(/^[0-9]+Z/, d, $3)} 1' "
	"db/index.txt > t && mv t db/index.txt; }\n"
	"$ca -revoke l1.pem -crl_reason keyCompromise 2>/dev/null\n"
	"redate 1001 231230120000Z\n"
	"$ca -gencrl -crl_lastupdate 240101000000Z -crl_nextupdate 240108000000Z -out c1.pem "
	"2>/dev/null\n"
	"redate 1001 231231120000Z\n"
	"$ca -revoke l2.pem -crl_reason superseded 2>/dev/null\n"
	"redate 1002 240105000000Z\n"
	"$ca -gencrl -crl_lastupdate 240108000000Z -crl_nextupdate 240115000000Z -out c2.pem "
	"2>/dev/null\n"
	"$ca -gencrl -crl_lastupdate 240108000000Z -crl_nextupdate 240115000000Z "
	"-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -out pss.pem 2>/dev/null\n"
	"for c in c1 c2 pss; do openssl crl -in $c.pem -outform DER -out $c.der; done\n"
	"mkdir crl\n";

#define ISSUER "C=CN,O=Test,CN=CRL CA"
#define SOURCES "  crls:\n    - {path: \"crl/*\", issuers: ca.pem}\n"

static void fx_ca(struct tu_src *x)
{
	char *script = tu_write_in(x->dir, "make_ca.sh", make_ca_sh);
	struct tu_out o = tu_run("sh %s %s", script, x->dir);

	ck_assert_msg(o.status == 0, "make_ca: %s", o.err);
	tu_out_free(&o);
	free(script);
}

static void sh(struct tu_src *x, const char *cmd)
{
	struct tu_out o = tu_run("cd %s && %s", x->dir, cmd);

	ck_assert_msg(o.status == 0, "%s: %s", cmd, o.err);
	tu_out_free(&o);
}

/* The rows of sql, one per line, columns joined by '|'; owned. */
static char *rows(struct tu_src *x, const char *sql)
{
	sqlite3_stmt *st;
	char *out = strdup(""), *next;

	ck_assert_msg(sqlite3_prepare_v2(store_db(x->st), sql, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(store_db(x->st)));
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			next = tu_fmt("%s%s%s", out, i ? "|" : "", t ? (const char *)t : "");
			free(out);
			out = next;
		}
		next = tu_fmt("%s\n", out);
		free(out);
		out = next;
	}
	sqlite3_finalize(st);
	return out;
}

#define ASSERT_ROWS(x, want, sql)                                                     \
	do {                                                                          \
		char *got_ = rows((x), (sql));                                        \
		ck_assert_msg(!strcmp(got_, (want)), "%s:\ngot:\n%swant:\n%s", (sql), got_, \
			      (want));                                                \
		free(got_);                                                           \
	} while (0)

#define ENTRIES "SELECT serial, revoked_at, reason, crl_this_update FROM crl_entry ORDER BY 1, 4"

/* What c1 then c2 leave: l1 first listed by c1, with c1's date for it. */
static const char first_listings[] =
	"1001|2023-12-30 12:00:00|keyCompromise|2024-01-01 00:00:00\n"
	"1002|2024-01-05 00:00:00|superseded|2024-01-08 00:00:00\n";

START_TEST(test_cumulative_in_order)
{
	struct tu_src x = {.dir = tu_tmpdir("crl")};

	fx_ca(&x);
	sh(&x, "cp c1.der crl/a.crl && cp c2.der crl/b.crl");
	tu_src_open(&x, SOURCES);
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_ROWS(&x, first_listings, ENTRIES);
	ASSERT_ROWS(&x, ISSUER "|2024-01-01 00:00:00|2024-01-08 00:00:00|01|crl/a.crl\n"
		    ISSUER "|2024-01-08 00:00:00|2024-01-15 00:00:00|02|crl/b.crl\n",
		    "SELECT * FROM crl ORDER BY 2");
	ASSERT_ROWS(&x, "", "SELECT * FROM reject");
	tu_src_close(&x);
}
END_TEST

/* The later CRL read first, in the same run: the earlier one's listing
 * replaces it. */
START_TEST(test_cumulative_later_first)
{
	struct tu_src x = {.dir = tu_tmpdir("crl")};

	fx_ca(&x);
	sh(&x, "cp c2.der crl/a.crl && cp c1.der crl/b.crl");
	tu_src_open(&x, SOURCES);
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_ROWS(&x, first_listings, ENTRIES);
	tu_src_close(&x);
}
END_TEST

/* The same across runs, the index then coming from the store; a CRL read
 * again (a copy) adds nothing. */
START_TEST(test_cumulative_later_first_two_runs)
{
	struct tu_src x = {.dir = tu_tmpdir("crl")};

	fx_ca(&x);
	sh(&x, "cp c2.der crl/a.crl");
	tu_src_open(&x, SOURCES);
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_ROWS(&x, "1001|2023-12-31 12:00:00|keyCompromise|2024-01-08 00:00:00\n"
		    "1002|2024-01-05 00:00:00|superseded|2024-01-08 00:00:00\n", ENTRIES);
	sh(&x, "cp c1.der crl/b.crl && cp c2.pem crl/c.crl");
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_ROWS(&x, first_listings, ENTRIES);
	ASSERT_ROWS(&x, "2\n", "SELECT count(*) FROM crl");
	tu_src_close(&x);
}
END_TEST

/* Two CRLs in one PEM file, and two in one DER file. */
START_TEST(test_two_per_file)
{
	struct tu_src x = {.dir = tu_tmpdir("crl")};

	fx_ca(&x);
	sh(&x, "cat c2.pem c1.pem > crl/both.pem && cat c1.der c2.der > crl/both.der");
	tu_src_open(&x, SOURCES);
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_ROWS(&x, first_listings, ENTRIES);
	ASSERT_ROWS(&x, "crl/both.der|2024-01-01 00:00:00\ncrl/both.der|2024-01-08 00:00:00\n",
		    "SELECT source, this_update FROM crl ORDER BY 2");
	ASSERT_ROWS(&x, "", "SELECT * FROM reject");
	tu_src_close(&x);
}
END_TEST

#define UNREADABLE "not a readable CRL (expected a PEM ''X509 CRL'' block or a DER " \
	"CertificateList) at byte "

/* Garbage, a truncated CRL, junk after a CRL and a PEM block that is not a
 * CRL give the reject they gave before the walker, with its position: the
 * byte offset (also in the line column for DER). */
START_TEST(test_unreadable)
{
	struct tu_src x = {.dir = tu_tmpdir("crl")};
	struct tu_out size;
	char *want;

	fx_ca(&x);
	sh(&x, "head -c 300 c1.der > crl/a.crl && echo 'no CRL here, only text' > crl/b.crl && "
	   "cp c1.der crl/c.crl && head -c 32 /dev/zero | tr '\\0' '\\377' >> crl/c.crl && "
	   "printf -- '-----BEGIN X509 CRL-----\\nAAAA\\n-----END X509 CRL-----\\n' > crl/d.crl");
	tu_src_open(&x, SOURCES);
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	size = tu_run("stat -c %%s %s/c1.der | tr -d '\\n'", x.dir);
	want = tu_fmt("crl/a.crl|0|0\ncrl/b.crl|0|0\ncrl/c.crl|%s|%s\ncrl/d.crl|0|0\n", size.out,
		      size.out);
	ASSERT_ROWS(&x, want, "SELECT source, line, substr(reason, length('" UNREADABLE "') + 1)"
		    " FROM reject WHERE reason LIKE 'not a readable CRL (expected a PEM ''X509 CRL''"
		    " block or a DER CertificateList) at byte %' ORDER BY 1");
	ASSERT_ROWS(&x, "4\n", "SELECT count(*) FROM reject");
	/* the CRL before the junk is kept */
	ASSERT_ROWS(&x, "crl/c.crl\n", "SELECT source FROM crl");
	tu_out_free(&size);
	free(want);
	tu_src_close(&x);
}
END_TEST

/* RSA-PSS names no digest in its algorithm identifier: X509_CRL_verify
 * decides, and still rejects a CRL whose signature was altered. */
START_TEST(test_rsa_pss)
{
	struct tu_src x = {.dir = tu_tmpdir("crl")};

	fx_ca(&x);
	sh(&x, "openssl crl -in pss.pem -noout -text | grep -q rsassaPss && "
	   "cp pss.der crl/a.crl && cp pss.der t.der && n=$(($(stat -c %s t.der) - 3)) && "
	   "printf '\\001' | dd of=t.der bs=1 seek=$n conv=notrunc 2>/dev/null && "
	   "cp t.der crl/b.crl && cmp -s t.der pss.der; [ $? = 1 ]");
	tu_src_open(&x, SOURCES);
	ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
	ASSERT_ROWS(&x, "crl/a.crl\n", "SELECT source FROM crl");
	ASSERT_ROWS(&x, "2\n", "SELECT count(*) FROM crl_entry");
	ASSERT_ROWS(&x, "crl/b.crl|CRL signature does not verify with the issuer certificate '"
		    ISSUER "'\n", "SELECT source, reason FROM reject");
	tu_src_close(&x);
}
END_TEST

/* A CRL made with OpenSSL's API, with what openssl ca cannot make:
 * GeneralizedTime lastUpdate and revocation dates, and the serials 0, 0x80
 * (a leading zero octet), -1, -129 and a 20-octet one. DER, *len bytes. */
static unsigned char *api_crl(int *len)
{
	static const long small[] = {0, 0x80, -1, -129};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *name = X509_NAME_new();
	ASN1_TIME *t = ASN1_GENERALIZEDTIME_new(), *rt = ASN1_GENERALIZEDTIME_new();
	BIGNUM *bn = NULL;
	unsigned char *der = NULL;

	ck_assert(key && crl && name && t && rt);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"API CA",
				   -1, -1, 0);
	ck_assert(X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
		  X509_CRL_set_issuer_name(crl, name) &&
		  ASN1_GENERALIZEDTIME_set_string(t, "20500601000000Z") &&
		  ASN1_GENERALIZEDTIME_set_string(rt, "20510203040506Z") &&
		  X509_CRL_set1_lastUpdate(crl, t));
	ck_assert(BN_hex2bn(&bn, "7F0102030405060708090A0B0C0D0E0F10111213"));
	for (int i = 0; i < 5; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = i < 4 ? ASN1_INTEGER_new() : BN_to_ASN1_INTEGER(bn, NULL);

		ck_assert(r && sn && (i == 4 || ASN1_INTEGER_set(sn, small[i])));
		ck_assert(X509_REVOKED_set_serialNumber(r, sn) &&
			  X509_REVOKED_set_revocationDate(r, rt) && X509_CRL_add0_revoked(crl, r));
		ASN1_INTEGER_free(sn);
	}
	ck_assert(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	*len = i2d_X509_CRL(crl, &der);
	ck_assert_int_gt(*len, 0);
	BN_free(bn);
	ASN1_TIME_free(t);
	ASN1_TIME_free(rt);
	X509_NAME_free(name);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	return der;
}

static void write_bytes(const char *path, const unsigned char *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	ck_assert_msg(fp && fwrite(p, 1, n, fp) == n && fclose(fp) == 0, "%s", path);
}

/* The same CRL read in place and, with its outer length in a redundant
 * long form (BER, which only d2i_X509_CRL reads), by OpenSSL: both store
 * the serials as before, and GeneralizedTime dates. */
START_TEST(test_api_serials_and_generalized_time)
{
	static const char want[] =
		"0-01|2051-02-03 04:05:06||2050-06-01 00:00:00\n"
		"0-81|2051-02-03 04:05:06||2050-06-01 00:00:00\n"
		"00|2051-02-03 04:05:06||2050-06-01 00:00:00\n"
		"7F0102030405060708090A0B0C0D0E0F10111213|2051-02-03 04:05:06||"
		"2050-06-01 00:00:00\n"
		"80|2051-02-03 04:05:06||2050-06-01 00:00:00\n";
	int len;
	unsigned char *der = api_crl(&len), *ber = malloc((size_t)len + 1);

	/* 30 82 hh ll → 30 83 00 hh ll */
	ck_assert(ber && der[0] == 0x30 && der[1] == 0x82);
	memcpy(ber, "\x30\x83\x00", 3);
	memcpy(ber + 3, der + 2, (size_t)len - 2);
	for (int i = 0; i < 2; i++) {
		struct tu_src x = {.dir = tu_tmpdir("crl")};
		char *path = tu_fmt("%s/crl/a.crl", x.dir);

		sh(&x, "mkdir crl");
		write_bytes(path, i ? ber : der, (size_t)len + (size_t)i);
		tu_src_open(&x, "  crls:\n    - {path: \"crl/*\"}\n");
		ck_assert_msg(tu_src_ingest(&x) == 0, "%s", x.e.msg);
		ASSERT_ROWS(&x, want, ENTRIES);
		ASSERT_ROWS(&x, "CN=API CA|2050-06-01 00:00:00|\n",
			    "SELECT issuer, this_update, next_update FROM crl");
		ASSERT_ROWS(&x, "", "SELECT * FROM reject");
		free(path);
		tu_src_close(&x);
	}
	OPENSSL_free(der);
	free(ber);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("crl");
	TCase *tc = tcase_create("crl");
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cumulative_in_order);
	tcase_add_test(tc, test_cumulative_later_first);
	tcase_add_test(tc, test_cumulative_later_first_two_runs);
	tcase_add_test(tc, test_two_per_file);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_rsa_pss);
	tcase_add_test(tc, test_api_serials_and_generalized_time);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
