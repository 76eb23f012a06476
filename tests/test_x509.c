/*
 * test_x509.c — the fast certificate reader against certificates made with
 * the openssl CLI (SM2 with SM3, RSA-2048, Chinese names, GM/T 0015 identity
 * extensions in every form) and with OpenSSL's API (names no CLI can write:
 * BMPString surrogate pairs, UniversalString, multi-valued RDNs, characters
 * RFC 4514 escapes). Every certificate is also read with d2i_X509 and the
 * X509_get_* functions, and the two readings must agree column by column.
 * Damaged input (every truncation, every flipped byte, broken PEM armour)
 * must give an error or a bad() callback, never a crash.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "idcodes.h"
#include "testutil.h"
#include "x509.h"

#define RESIDENT "11010519491231002X"
#define USCC "91350100M000100Y43"

static char *dir;         /* scratch directory made by main */
static char *sm2_key, *rsa_key;

static struct identity_loc default_ids[] = {
	{"1.2.156.10260.4.1.1", NULL, NULL},
	{"1.2.156.10260.4.1.1.1", NULL, NULL},
	{"1.2.156.10260.4.4", NULL, "uscc"},
	{NULL, "serialNumber", NULL},
};
#define N_DEFAULT_IDS (sizeof default_ids / sizeof *default_ids)

/* Makes a self-signed certificate with openssl req; returns its PEM path. */
static char *mkcert(const char *name, const char *key, const char *dn, const char *ext,
		    const char *args)
{
	char *cnf = tu_fmt("%s/%s.cnf", dir, name), *pem = tu_fmt("%s/%s.pem", dir, name);
	char *text = tu_fmt("[req]\ndistinguished_name=dn\nprompt=no\nstring_mask=utf8only\n"
			    "utf8=yes\nx509_extensions=v3\n[dn]\n%s\n[v3]\n"
			    "subjectKeyIdentifier=hash\n%s\n", dn, ext);
	struct tu_out o;

	ck_assert_int_eq(tu_write(cnf, text), 0);
	o = tu_run("openssl req -new -x509 -key '%s' -config '%s' -days 365 %s -out '%s'", key,
		   cnf, args, pem);
	ck_assert_msg(o.status == 0, "openssl req for %s failed: %s", name, o.err);
	tu_out_free(&o);
	free(cnf);
	free(text);
	return pem;
}

static char *mk_sm2(const char *name, const char *dn, const char *ext)
{
	return mkcert(name, sm2_key, dn, ext, "-sm3 -sigopt distid:1234567812345678");
}

static unsigned char *pem_der(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	X509 *x;
	unsigned char *der = NULL;
	int n;

	ck_assert_ptr_nonnull(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	ck_assert_ptr_nonnull(x);
	n = i2d_X509(x, &der);
	ck_assert_int_gt(n, 0);
	X509_free(x);
	*len = (size_t)n;
	return der;
}

static void read_ok(const unsigned char *der, size_t len, const struct identity_loc *ids,
		    size_t n, struct cert_rec *r)
{
	struct err e = {0};

	memset(r, 0, sizeof *r);
	ck_assert_msg(x509_read_der(der, len, ids, n, r, &e) == 0, "read failed: %s", e.msg);
}

static void read_pem(const char *path, const struct identity_loc *ids, size_t n,
		     struct cert_rec *r)
{
	size_t len;
	unsigned char *der = pem_der(path, &len);

	read_ok(der, len, ids, n, r);
	OPENSSL_free(der);
}

/* ---- the reference reading, with d2i_X509 ------------------------------ */

static char *ref_name(const X509_NAME *nm)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s;
	long n;

	X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_get_mem_data(b, &data);
	s = strndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

static char *ref_attr(const X509_NAME *nm, int nid)
{
	int i = X509_NAME_get_index_by_NID(nm, nid, -1);
	unsigned char *u = NULL;
	char *s;

	if (i < 0)
		return NULL;
	ck_assert_int_ge(ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(
						     X509_NAME_get_entry(nm, i))), 0);
	s = strdup((char *)u);
	OPENSSL_free(u);
	return s;
}

static char *ref_time(const ASN1_TIME *t)
{
	struct tm tm;
	char buf[20];

	ck_assert(ASN1_TIME_to_tm(t, &tm));
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
	return strdup(buf);
}

static void list_add(char *buf, size_t n, const char *item)
{
	if (*buf)
		strncat(buf, ",", n - strlen(buf) - 1);
	strncat(buf, item, n - strlen(buf) - 1);
}

static void ref_uris(GENERAL_NAMES *gns, char *buf, size_t n)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gns, i);
		if (g->type == GEN_URI)
			list_add(buf, n, (const char *)ASN1_STRING_get0_data(g->d.ia5));
	}
}

static void ck_str(const char *what, const char *got, const char *want)
{
	if (!want || !*want)
		ck_assert_msg(!got || !*got, "%s: got '%s', want nothing", what, got);
	else
		ck_assert_msg(got && !strcmp(got, want), "%s: got '%s', want '%s'", what,
			      got ? got : "(null)", want);
}

/* Compares every column the fast reader filled with d2i_X509's view. */
static void cross_check(const unsigned char *der, size_t len, const struct cert_rec *r,
			int names_too)
{
	static const char *const ku[] = {"digitalSignature", "nonRepudiation", "keyEncipherment",
		"dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly",
		"decipherOnly"};
	static const uint32_t ku_bits[] = {KU_DIGITAL_SIGNATURE, KU_NON_REPUDIATION,
		KU_KEY_ENCIPHERMENT, KU_DATA_ENCIPHERMENT, KU_KEY_AGREEMENT, KU_KEY_CERT_SIGN,
		KU_CRL_SIGN, KU_ENCIPHER_ONLY, KU_DECIPHER_ONLY};
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	char buf[2048], *s, *s2;
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_PKEY *pk;
	BIGNUM *bn;
	STACK_OF(ASN1_OBJECT) *eku;
	CERTIFICATEPOLICIES *cp;
	STACK_OF(DIST_POINT) *dps;
	AUTHORITY_INFO_ACCESS *aia;
	BASIC_CONSTRAINTS *bc;
	uint32_t kuv;

	ck_assert_ptr_nonnull(x);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	s = BN_bn2hex(bn);
	snprintf(buf, sizeof buf, "%s%s", strlen(s) % 2 ? "0" : "", s);
	ck_str("serial", r->serial, buf);
	OPENSSL_free(s);
	BN_free(bn);
	if (names_too) {
		ck_str("issuer", r->issuer, s = ref_name(X509_get_issuer_name(x)));
		free(s);
		ck_str("subject", r->subject, s = ref_name(X509_get_subject_name(x)));
		free(s);
	}
	{
		static const int nids[] = {NID_commonName, NID_organizationName,
			NID_organizationalUnitName, NID_countryName, NID_stateOrProvinceName,
			NID_localityName};
		char *const got[] = {r->cn, r->o, r->ou, r->c, r->st, r->l};
		for (size_t i = 0; names_too && i < 6; i++) {
			ck_str(OBJ_nid2sn(nids[i]), got[i],
			       s = ref_attr(X509_get_subject_name(x), nids[i]));
			free(s);
		}
	}
	s = ref_attr(X509_get_subject_name(x), NID_pkcs9_emailAddress);
	if (!s) {
		GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
		for (int i = 0; i < sk_GENERAL_NAME_num(san) && !s; i++)
			if (sk_GENERAL_NAME_value(san, i)->type == GEN_EMAIL)
				s = strdup((const char *)ASN1_STRING_get0_data(
					sk_GENERAL_NAME_value(san, i)->d.rfc822Name));
		GENERAL_NAMES_free(san);
	}
	ck_str("email", r->email, s);
	free(s);
	ck_str("not_before", r->not_before, s = ref_time(X509_get0_notBefore(x)));
	free(s);
	ck_str("not_after", r->not_after, s = ref_time(X509_get0_notAfter(x)));
	free(s);
	ck_str("sig_alg", r->sig_alg, OBJ_nid2ln(X509_get_signature_nid(x)));
	pk = X509_get0_pubkey(x);
	ck_assert_ptr_nonnull(pk);
	if (EVP_PKEY_is_a(pk, "RSA")) {
		ck_str("key_alg", r->key_alg, "RSA");
	} else {
		ck_assert(EVP_PKEY_get_group_name(pk, buf, sizeof buf, NULL));
		ck_str("key_alg", r->key_alg, !strcmp(buf, "SM2") ? "SM2" : "EC");
	}
	ck_assert_int_eq(r->key_bits, EVP_PKEY_get_bits(pk));

	buf[0] = '\0';
	kuv = X509_get_key_usage(x);
	for (size_t i = 0; kuv != UINT32_MAX && i < 9; i++)
		if (kuv & ku_bits[i])
			list_add(buf, sizeof buf, ku[i]);
	ck_str("key_usage", r->key_usage, buf);

	buf[0] = '\0';
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		char t[128];
		ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(o);
		if (nid != NID_undef)
			snprintf(t, sizeof t, "%s", OBJ_nid2sn(nid));
		else
			OBJ_obj2txt(t, sizeof t, o, 1);
		list_add(buf, sizeof buf, t);
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ck_str("ext_key_usage", r->ext_key_usage, buf);

	buf[0] = '\0';
	cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	for (int i = 0; i < sk_POLICYINFO_num(cp); i++) {
		char t[128];
		OBJ_obj2txt(t, sizeof t, sk_POLICYINFO_value(cp, i)->policyid, 1);
		list_add(buf, sizeof buf, t);
	}
	CERTIFICATEPOLICIES_free(cp);
	ck_str("policies", r->policies, buf);

	buf[0] = '\0';
	dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint && dp->distpoint->type == 0)
			ref_uris(dp->distpoint->name.fullname, buf, sizeof buf);
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	ck_str("crl_dp", r->crl_dp, buf);

	buf[0] = '\0';
	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) == NID_ad_OCSP && ad->location->type == GEN_URI)
			list_add(buf, sizeof buf,
				 (const char *)ASN1_STRING_get0_data(ad->location->d.ia5));
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	ck_str("ocsp", r->ocsp, buf);

	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	ck_assert_int_eq(r->is_ca, bc && bc->ca ? 1 : 0);
	BASIC_CONSTRAINTS_free(bc);

	ck_assert(X509_digest(x, EVP_sha256(), md, &mdlen));
	s2 = buf;
	for (unsigned i = 0; i < mdlen; i++)
		s2 += sprintf(s2, "%02x", md[i]);
	ck_str("sha256", r->sha256, buf);
	X509_free(x);
}

static void cross_check_pem(const char *path)
{
	struct cert_rec r;
	size_t len;
	unsigned char *der = pem_der(path, &len);

	read_ok(der, len, default_ids, N_DEFAULT_IDS, &r);
	cross_check(der, len, &r, 1);
	cert_rec_clear(&r);
	OPENSSL_free(der);
}

/* ---- fields ----------------------------------------------------------- */

static const char *cn_dn = "C=CN\nST=广东省\nL=深圳市\nO=示例科技有限公司\nOU=研发部\nCN=张三\n"
			   "emailAddress=zhangsan@example.cn";

START_TEST(test_sm2_fields)
{
	struct cert_rec r;
	char *pem = mk_sm2("sm2full", cn_dn,
			   "basicConstraints=critical,CA:FALSE\n"
			   "keyUsage=critical,digitalSignature,nonRepudiation\n"
			   "extendedKeyUsage=clientAuth,emailProtection,1.2.3.4.5\n"
			   "certificatePolicies=1.2.156.112562.2.1.1,2.16.344.8.2.2008.810.2\n"
			   "crlDistributionPoints=URI:http://crl.example.cn/ca.crl\n"
			   "authorityInfoAccess=OCSP;URI:http://ocsp.example.cn/\n"
			   "1.2.156.10260.4.1.1=ASN1:EXPLICIT:0,UTF8String:" RESIDENT);

	read_pem(pem, default_ids, N_DEFAULT_IDS, &r);
	ck_str("sig_alg", r.sig_alg, "SM2-with-SM3");
	ck_str("key_alg", r.key_alg, "SM2");
	ck_assert_int_eq(r.key_bits, 256);
	ck_str("subject", r.subject, "emailAddress=zhangsan@example.cn,CN=张三,OU=研发部,"
				     "O=示例科技有限公司,L=深圳市,ST=广东省,C=CN");
	ck_str("issuer", r.issuer, r.subject);
	ck_str("cn", r.cn, "张三");
	ck_str("o", r.o, "示例科技有限公司");
	ck_str("ou", r.ou, "研发部");
	ck_str("st", r.st, "广东省");
	ck_str("l", r.l, "深圳市");
	ck_str("c", r.c, "CN");
	ck_str("email", r.email, "zhangsan@example.cn");
	ck_str("key_usage", r.key_usage, "digitalSignature,nonRepudiation");
	ck_str("eku", r.ext_key_usage, "clientAuth,emailProtection,1.2.3.4.5");
	ck_str("policies", r.policies, "1.2.156.112562.2.1.1,2.16.344.8.2.2008.810.2");
	ck_str("crl_dp", r.crl_dp, "http://crl.example.cn/ca.crl");
	ck_str("ocsp", r.ocsp, "http://ocsp.example.cn/");
	ck_assert_int_eq(r.is_ca, 0);
	ck_str("id_type", r.id_type, "resident_id");
	ck_str("id_number", r.id_number, RESIDENT);
	ck_assert_int_eq((int)strlen(r.not_before), 19);
	ck_assert(strcmp(r.not_before, r.not_after) < 0);
	ck_assert_ptr_null(r.status);
	ck_assert_ptr_null(r.source);
	cert_rec_clear(&r);
	cross_check_pem(pem);
	free(pem);
}
END_TEST

START_TEST(test_rsa_ca_fields)
{
	struct cert_rec r;
	char *pem = mkcert("rsaca", rsa_key, "C=CN\nO=示例科技有限公司\nCN=张三",
			   "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n"
			   "subjectAltName=email:ca@example.cn,URI:http://example.cn/\n"
			   "1.2.156.10260.4.4=ASN1:UTF8String:" USCC, "-sha256 -set_serial 0x0080");

	read_pem(pem, default_ids, N_DEFAULT_IDS, &r);
	ck_str("sig_alg", r.sig_alg, "sha256WithRSAEncryption");
	ck_str("key_alg", r.key_alg, "RSA");
	ck_assert_int_eq(r.key_bits, 2048);
	ck_str("serial", r.serial, "80");
	ck_str("subject", r.subject, "CN=张三,O=示例科技有限公司,C=CN");
	ck_str("email from SAN", r.email, "ca@example.cn");
	ck_str("key_usage", r.key_usage, "keyCertSign,cRLSign");
	ck_assert_int_eq(r.is_ca, 1);
	ck_str("id_type", r.id_type, "uscc");
	ck_str("id_number", r.id_number, USCC);
	ck_assert_ptr_null(r.ext_key_usage && *r.ext_key_usage ? r.ext_key_usage : NULL);
	cert_rec_clear(&r);
	cross_check_pem(pem);
	free(pem);
}
END_TEST

START_TEST(test_non_bmp_utf8)
{
	struct cert_rec r;
	char *pem = mk_sm2("nonbmp", "C=CN\nO=𠀀科技\nCN=𠀀张", "");

	read_pem(pem, NULL, 0, &r);
	ck_str("cn", r.cn, "𠀀张");
	ck_str("subject", r.subject, "CN=𠀀张,O=𠀀科技,C=CN");
	ck_assert_ptr_null(r.id_number);
	ck_assert_ptr_null(r.id_type);
	cert_rec_clear(&r);
	cross_check_pem(pem);
	free(pem);
}
END_TEST

/* Signs a certificate built with the API, for names the CLI cannot write. */
static unsigned char *api_cert(X509_NAME *nm, size_t *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int n;

	ck_assert_ptr_nonnull(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, nm);
	X509_set_pubkey(x, k);
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	n = i2d_X509(x, &der);
	ck_assert_int_gt(n, 0);
	X509_free(x);
	EVP_PKEY_free(k);
	*len = (size_t)n;
	return der;
}

START_TEST(test_non_bmp_bmpstring_universalstring)
{
	/* U+20000 as a UTF-16 surrogate pair in a BMPString, then 'A'. OpenSSL
	 * refuses to encode such a name, so the certificate is made with a
	 * placeholder of the same length (U+4E00 U+4E01 'A') and patched. */
	static const unsigned char placeholder[] = {0x4e, 0x00, 0x4e, 0x01, 0x00, 0x41};
	static const unsigned char bmp[] = {0xd8, 0x40, 0xdc, 0x00, 0x00, 0x41};
	/* U+20000 and U+5F20 (张) in a UniversalString */
	static const unsigned char univ[] = {0, 2, 0, 0, 0, 0, 0x5f, 0x20};
	X509_NAME *nm = X509_NAME_new();
	struct cert_rec r;
	unsigned char *der, *hit;
	const unsigned char *p;
	X509 *x;
	size_t len;

	X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"CN", -1, -1, 0);
	ck_assert(X509_NAME_add_entry_by_NID(nm, NID_organizationName, V_ASN1_BMPSTRING,
					     placeholder, sizeof placeholder, -1, 0));
	ck_assert(X509_NAME_add_entry_by_NID(nm, NID_commonName, V_ASN1_UNIVERSALSTRING, univ,
					     sizeof univ, -1, 0));
	der = api_cert(nm, &len);
	read_ok(der, len, NULL, 0, &r);
	ck_str("o before patching", r.o, "一丁A");
	cross_check(der, len, &r, 1);
	cert_rec_clear(&r);
	for (size_t k = 0; k < 2; k++) {
		hit = memmem(der, len, placeholder, sizeof placeholder);
		ck_assert_ptr_nonnull(hit);
		memcpy(hit, bmp, sizeof bmp);
	}
	read_ok(der, len, NULL, 0, &r);
	ck_str("o", r.o, "𠀀A");
	ck_str("cn", r.cn, "𠀀张");
	ck_str("subject", r.subject, "CN=𠀀张,O=𠀀A,C=CN");
	ck_str("issuer", r.issuer, "CN=𠀀张,O=𠀀A,C=CN");
	ck_str("key_alg", r.key_alg, "EC");
	ck_assert_int_eq(r.key_bits, 256);
	ck_str("sig_alg", r.sig_alg, "ecdsa-with-SHA256");
	/* d2i_X509 itself rejects the surrogates (it cannot canonicalise the
	 * name), which is why names are built here rather than printed by it */
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	ck_assert_ptr_null(x);
	cert_rec_clear(&r);
	OPENSSL_free(der);
	X509_NAME_free(nm);
}
END_TEST

START_TEST(test_rfc4514_escaping)
{
	X509_NAME *nm = X509_NAME_new();
	struct cert_rec r;
	unsigned char *der;
	size_t len;

	X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_UTF8, (const unsigned char *)"CN", -1, -1, 0);
	X509_NAME_add_entry_by_txt(nm, "OU", MBSTRING_UTF8, (const unsigned char *)"部门 A", -1,
				   -1, 0);
	/* a second attribute in the same RDN; DER sorts the SET, shorter first,
	 * and the reversed text puts it last */
	X509_NAME_add_entry_by_txt(nm, "OU", MBSTRING_UTF8, (const unsigned char *)"#二 ", -1,
				   -1, -1);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
				   (const unsigned char *)"a,b+c\"d\\e<f>g;h=i", -1, -1, 0);
	X509_NAME_add_entry_by_txt(nm, "1.2.3.4", MBSTRING_UTF8, (const unsigned char *)"x", -1,
				   -1, 0);
	der = api_cert(nm, &len);
	read_ok(der, len, NULL, 0, &r);
	ck_str("cn", r.cn, "a,b+c\"d\\e<f>g;h=i");
	ck_str("subject", r.subject,
	       "1.2.3.4=#0C0178,CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h=i,OU=部门 A+OU=\\#二\\ ,C=CN");
	cross_check(der, len, &r, 1);
	cert_rec_clear(&r);
	OPENSSL_free(der);
	X509_NAME_free(nm);
}
END_TEST

/* ---- identity numbers ------------------------------------------------- */

static void check_id(const char *name, const char *ext, const char *dn_extra,
		     const struct identity_loc *ids, size_t n, const char *type, const char *number)
{
	struct cert_rec r;
	char *dn = tu_fmt("C=CN\nCN=张三%s", dn_extra);
	char *pem = mk_sm2(name, dn, ext);

	read_pem(pem, ids, n, &r);
	ck_str(name, r.id_number, number);
	ck_str(name, r.id_type, type);
	cert_rec_clear(&r);
	free(pem);
	free(dn);
}

START_TEST(test_identity_locations)
{
	static const struct identity_loc attr_first[] = {
		{NULL, "serialNumber", NULL}, {"1.2.156.10260.4.4", NULL, "uscc"}};
	static const struct identity_loc untyped[] = {{"1.2.156.10260.4.4", NULL, NULL}};
	static const struct identity_loc by_oid[] = {{NULL, "2.5.4.5", "other"}};
	char *hex = malloc(2 * sizeof RESIDENT + 1), *ext;

	for (size_t i = 0; i < strlen(RESIDENT); i++)
		sprintf(hex + 2 * i, "%02X", RESIDENT[i]);
	/* the 2012 edition: explicit [0] around a PrintableString, lower-case x */
	check_id("id_exp", "1.2.156.10260.4.1.1=ASN1:EXPLICIT:0,PRINTABLESTRING:11010519491231002x",
		 "", default_ids, N_DEFAULT_IDS, "resident_id", RESIDENT);
	check_id("id_bare", "1.2.156.10260.4.1.1=ASN1:PRINTABLESTRING:" RESIDENT, "", default_ids,
		 N_DEFAULT_IDS, "resident_id", RESIDENT);
	ext = tu_fmt("1.2.156.10260.4.1.1=DER:8012%s", hex);
	check_id("id_implicit", ext, "", default_ids, N_DEFAULT_IDS, "resident_id", RESIDENT);
	free(ext);
	check_id("id_passport", "1.2.156.10260.4.1.1=ASN1:EXPLICIT:2,PRINTABLESTRING:E12345678",
		 "", default_ids, N_DEFAULT_IDS, "passport", "E12345678");
	check_id("id_sub", "1.2.156.10260.4.1.1.1=ASN1:UTF8String: D2143569-X ", "", default_ids,
		 N_DEFAULT_IDS, "org_code", "D2143569-X");
	check_id("id_uscc", "1.2.156.10260.4.4=ASN1:UTF8String:" USCC, "", untyped, 1, "uscc",
		 USCC);
	check_id("id_attr", "", "\nserialNumber=" RESIDENT, default_ids, N_DEFAULT_IDS,
		 "resident_id", RESIDENT);
	check_id("id_attr_oid", "", "\nserialNumber=P-1", by_oid, 1, "other", "P-1");
	/* a mistyped check character keeps its type so that rules can flag it */
	check_id("id_badcheck", "", "\nserialNumber=110105194912310021", default_ids,
		 N_DEFAULT_IDS, "resident_id", "110105194912310021");
	/* first location found wins */
	check_id("id_order1", "1.2.156.10260.4.4=ASN1:UTF8String:" USCC,
		 "\nserialNumber=" RESIDENT, default_ids, N_DEFAULT_IDS, "uscc", USCC);
	check_id("id_order2", "1.2.156.10260.4.4=ASN1:UTF8String:" USCC,
		 "\nserialNumber=" RESIDENT, attr_first, 2, "resident_id", RESIDENT);
	check_id("id_none", "", "", default_ids, N_DEFAULT_IDS, NULL, NULL);
	free(hex);
}
END_TEST

/* ---- damage ----------------------------------------------------------- */

START_TEST(test_malformed)
{
	char *pem = mk_sm2("damage", cn_dn, "keyUsage=digitalSignature\n"
			   "crlDistributionPoints=URI:http://crl.example.cn/ca.crl\n"
			   "1.2.156.10260.4.1.1=ASN1:EXPLICIT:0,UTF8String:" RESIDENT);
	char *badku = mk_sm2("badku", "CN=x", "2.5.29.15=critical,DER:0500");
	struct cert_rec r = {0};
	struct err e = {0};
	unsigned char *der, *buf;
	size_t len, blen;

	der = pem_der(pem, &len);
	for (size_t n = 0; n < len; n++) {
		err_clear(&e);
		ck_assert_int_eq(x509_read_der(der, n, default_ids, N_DEFAULT_IDS, &r, &e), -1);
		ck_assert_msg(e.msg[0], "no message for a certificate cut at %zu", n);
		ck_assert_ptr_null(r.serial);
	}
	err_clear(&e);
	x509_read_der(der, len - 1, NULL, 0, &r, &e);
	ck_assert_str_eq(e.msg, "truncated certificate");
	buf = malloc(len + 3);
	memcpy(buf, der, len);
	memcpy(buf + len, "xyz", 3);
	ck_assert_int_eq(x509_read_der(buf, len + 3, NULL, 0, &r, &e), -1);
	ck_assert_str_eq(e.msg, "3 bytes of trailing data after the certificate");
	ck_assert_int_eq(x509_read_der((const unsigned char *)"hello", 5, NULL, 0, &r, &e), -1);
	ck_assert_str_eq(e.msg, "not a DER certificate");
	/* every byte flipped in turn: an error or a record, never a crash */
	for (size_t i = 0; i < len; i++) {
		for (int v = 0; v < 3; v++) {
			memcpy(buf, der, len);
			buf[i] = v == 0 ? (unsigned char)~der[i] : v == 1 ? 0x80 : 0xff;
			if (x509_read_der(buf, len, default_ids, N_DEFAULT_IDS, &r, &e) == 0)
				ck_assert_ptr_nonnull(r.serial);
			cert_rec_clear(&r);
		}
	}
	free(buf);
	OPENSSL_free(der);
	der = pem_der(badku, &blen);
	ck_assert_int_eq(x509_read_der(der, blen, NULL, 0, &r, &e), -1);
	ck_assert_str_eq(e.msg, "malformed keyUsage extension");
	OPENSSL_free(der);
	free(pem);
	free(badku);
}
END_TEST

/* ---- splitting -------------------------------------------------------- */

struct seen {
	long pos[16];
	size_t len[16];
	int n;
	long bad_pos[16];
	char bad[16][128];
	int nbad;
};

static int seen_cert(const unsigned char *der, size_t len, long pos, void *ctx)
{
	struct seen *s = ctx;

	(void)der;
	s->pos[s->n] = pos;
	s->len[s->n++] = len;
	return 0;
}

static int seen_bad(long pos, const char *reason, void *ctx)
{
	struct seen *s = ctx;

	s->bad_pos[s->nbad] = pos;
	snprintf(s->bad[s->nbad++], sizeof s->bad[0], "%s", reason);
	return 0;
}

static struct seen split_text(const char *text)
{
	struct seen s = {0};

	ck_assert_int_eq(x509_split((const unsigned char *)text, strlen(text), seen_cert,
				    seen_bad, &s), 0);
	return s;
}

START_TEST(test_split_pem)
{
	char *pem = mk_sm2("split", "CN=x", "");
	char *cert = tu_read(pem, NULL), *text, *broken, *p;
	struct seen s;
	size_t der_len;
	unsigned char *der = pem_der(pem, &der_len);
	int cert_lines = tu_count_lines(cert, "");

	/* a bundle: text before, a key block skipped, two certificates */
	text = tu_fmt("Certificate:\n  Data: ...\n-----BEGIN PRIVATE KEY-----\nAAAA\n"
		      "-----END PRIVATE KEY-----\n%s\r\n%s", cert, cert);
	s = split_text(text);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.nbad, 0);
	ck_assert_int_eq(s.pos[0], 6);
	ck_assert_int_eq(s.pos[1], 6 + cert_lines + 1);
	ck_assert_uint_eq(s.len[0], der_len);
	free(text);

	/* a bad character on the second line of base64 */
	broken = strdup(cert);
	p = strchr(broken, '\n') + 1;
	p = strchr(p, '\n') + 1;
	p[3] = '*';
	text = tu_fmt("%s%s", broken, cert);
	s = split_text(text);
	ck_assert_int_eq(s.nbad, 1);
	ck_assert_int_eq(s.bad_pos[0], 1);
	ck_assert_str_eq(s.bad[0], "invalid base64 character on line 3");
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.pos[0], cert_lines + 1);
	free(text);
	free(broken);

	/* no END line */
	text = strndup(cert, strstr(cert, "-----END") - cert);
	s = split_text(text);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(s.nbad, 1);
	ck_assert_str_eq(s.bad[0], "no END CERTIFICATE line");
	free(text);

	/* bad padding */
	s = split_text("-----BEGIN CERTIFICATE-----\nMII=A\n-----END CERTIFICATE-----\n");
	ck_assert_int_eq(s.nbad, 1);
	ck_assert_str_eq(s.bad[0], "base64 does not decode: bad padding or length");

	/* END that does not match */
	s = split_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END X509 CRL-----\n");
	ck_assert_int_eq(s.nbad, 1);
	ck_assert_str_eq(s.bad[0], "END line does not match the BEGIN line");

	OPENSSL_free(der);
	free(cert);
	free(pem);
}
END_TEST

START_TEST(test_split_der)
{
	char *pem = mk_sm2("splitder", "CN=x", "");
	size_t len;
	unsigned char *der = pem_der(pem, &len), *buf = malloc(3 * len);
	struct seen s = {0};

	memcpy(buf, der, len);
	memcpy(buf + len, der, len);
	ck_assert_int_eq(x509_split(buf, 2 * len, seen_cert, seen_bad, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.pos[1], (long)len);
	ck_assert_uint_eq(s.len[1], len);

	memset(&s, 0, sizeof s);
	ck_assert_int_eq(x509_split(buf, 2 * len - 7, seen_cert, seen_bad, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.nbad, 1);
	ck_assert_int_eq(s.bad_pos[0], (long)len);
	ck_assert_str_eq(s.bad[0], "truncated or malformed DER certificate");

	memset(&s, 0, sizeof s);
	ck_assert_int_eq(x509_split((const unsigned char *)"hello\n", 6, seen_cert, seen_bad, &s),
			 0);
	ck_assert_int_eq(s.nbad, 1);
	ck_assert_int_eq(s.bad_pos[0], 0);
	ck_assert_str_eq(s.bad[0], "neither a PEM nor a DER certificate");

	memset(&s, 0, sizeof s);
	ck_assert_int_eq(x509_split((const unsigned char *)" \n", 2, seen_cert, seen_bad, &s), 0);
	ck_assert_int_eq(s.n + s.nbad, 0);
	free(buf);
	OPENSSL_free(der);
	free(pem);
}
END_TEST

static int stop_cert(const unsigned char *der, size_t len, long pos, void *ctx)
{
	(void)der, (void)len, (void)pos, (void)ctx;
	return 1;
}

START_TEST(test_split_stops)
{
	char *pem = mk_sm2("splitstop", "CN=x", "");
	char *cert = tu_read(pem, NULL);
	struct seen s = {0};

	ck_assert_int_eq(x509_split((const unsigned char *)cert, strlen(cert), stop_cert,
				    seen_bad, &s), -1);
	free(cert);
	free(pem);
}
END_TEST

START_TEST(test_serial_and_digest)
{
	static const unsigned char a[] = {0x00, 0x80}, b[] = {0x0a, 0x1b}, z[] = {0x00};
	char out[65];

	x509_serial_hex(a, sizeof a, out, sizeof out);
	ck_assert_str_eq(out, "80");
	x509_serial_hex(b, sizeof b, out, sizeof out);
	ck_assert_str_eq(out, "0A1B");
	x509_serial_hex(z, sizeof z, out, sizeof out);
	ck_assert_str_eq(out, "00");
	/* FIPS 180-2 example */
	digest_sha256_hex((const unsigned char *)"abc", 3, out);
	ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

static Suite *x509_suite(void)
{
	Suite *s = suite_create("x509");
	TCase *tc = tcase_create("reader");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sm2_fields);
	tcase_add_test(tc, test_rsa_ca_fields);
	tcase_add_test(tc, test_non_bmp_utf8);
	tcase_add_test(tc, test_non_bmp_bmpstring_universalstring);
	tcase_add_test(tc, test_rfc4514_escaping);
	tcase_add_test(tc, test_identity_locations);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_split_pem);
	tcase_add_test(tc, test_split_der);
	tcase_add_test(tc, test_split_stops);
	tcase_add_test(tc, test_serial_and_digest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	struct tu_out o;
	int failed;

	dir = tu_tmpdir("x509");
	sm2_key = tu_fmt("%s/sm2.key", dir);
	rsa_key = tu_fmt("%s/rsa.key", dir);
	o = tu_run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 -out '%s' &&"
		   " openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '%s'",
		   sm2_key, rsa_key);
	if (o.status != 0) {
		fprintf(stderr, "cannot make test keys: %s\n", o.err);
		return EXIT_FAILURE;
	}
	tu_out_free(&o);
	failed = tu_suite_failures(x509_suite(), CK_FORK_GETENV);
	tu_rmdir(dir);
	free(dir);
	free(sm2_key);
	free(rsa_key);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
