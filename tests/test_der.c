/*
 * test_der.c — the shared DER reader (der.h) on hand-made bytes: short and
 * long lengths, lengths past the end of the buffer or of the parent, the
 * indefinite form, high tag numbers, under both DER_STRICT (the CRL walker's
 * rules) and DER_BER (the certificate reader's, ASN1_get_object's); the two
 * time types at the calendar's edges; and, through crl_der_parse, that the
 * CRL walker still refuses what its stricter rules refuse.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crl_der.h"
#include "der.h"
#include "testutil.h"

/* Reads buf[0..n) under flags and asserts every field of the element. */
static void assert_tlv(const unsigned char *buf, size_t n, unsigned flags, unsigned char id,
		       int tag, int cls, int cons, size_t hl, size_t len)
{
	struct der_tlv t;

	ck_assert_int_eq(der_read(buf, buf + n, flags, &t), 0);
	ck_assert_ptr_eq(t.start, buf);
	ck_assert_ptr_eq(t.p, buf + hl);
	ck_assert_uint_eq(t.len, len);
	ck_assert_ptr_eq(t.end, buf + hl + len);
	ck_assert_uint_eq(der_size(&t), hl + len);
	ck_assert_uint_eq(t.id, id);
	ck_assert_int_eq(t.tag, tag);
	ck_assert_int_eq(t.cls, cls);
	ck_assert_int_eq(t.cons, cons);
}

static void assert_refused(const unsigned char *buf, size_t n, unsigned flags)
{
	struct der_tlv t;
	const unsigned char *p = buf;

	ck_assert_int_eq(der_read(buf, buf + n, flags, &t), -1);
	ck_assert_int_eq(der_next(&p, buf + n, flags, &t), -1);
	ck_assert_ptr_eq(p, buf);
}

START_TEST(test_short_form)
{
	static const unsigned char b[] = {0x04, 0x03, 'a', 'b', 'c', 0xff};
	static const unsigned char ctx[] = {0xa0, 0x00};
	unsigned flags[] = {DER_STRICT, DER_BER};
	const unsigned char *p = b;
	struct der_tlv t;

	for (int i = 0; i < 2; i++) {
		assert_tlv(b, sizeof b, flags[i], 0x04, 4, 0x00, 0, 2, 3);
		assert_tlv(ctx, sizeof ctx, flags[i], 0xa0, 0, 0x80, 0x20, 2, 0);
	}
	ck_assert_int_eq(der_next(&p, b + sizeof b, DER_STRICT, &t), 0);
	ck_assert_ptr_eq(p, b + 5);
	ck_assert_int_eq(memcmp(t.p, "abc", 3), 0);
	/* the one byte left is no element; nor is nothing */
	assert_refused(p, 1, DER_STRICT);
	assert_refused(p, 1, DER_BER);
	assert_refused(b, 0, DER_STRICT);
	assert_refused(b, 0, DER_BER);
}
END_TEST

START_TEST(test_long_form)
{
	unsigned char b[300] = {0};
	/* 0x81 0x80: one length octet, minimal since 128 needs the long form */
	b[0] = 0x04, b[1] = 0x81, b[2] = 0x80;
	assert_tlv(b, 3 + 128, DER_STRICT, 0x04, 4, 0, 0, 3, 128);
	assert_tlv(b, 3 + 128, DER_BER, 0x04, 4, 0, 0, 3, 128);
	b[0] = 0x30, b[1] = 0x82, b[2] = 0x01, b[3] = 0x00;
	assert_tlv(b, 4 + 256, DER_STRICT, 0x30, 16, 0, 0x20, 4, 256);
	assert_tlv(b, 4 + 256, DER_BER, 0x30, 16, 0, 0x20, 4, 256);
	/* the long form for a length the short form holds: BER only */
	b[0] = 0x04, b[1] = 0x81, b[2] = 0x05;
	assert_refused(b, 8, DER_STRICT);
	assert_tlv(b, 8, DER_BER, 0x04, 4, 0, 0, 3, 5);
	/* a leading zero length octet: BER only */
	b[1] = 0x82, b[2] = 0x00, b[3] = 0x05;
	assert_refused(b, 9, DER_STRICT);
	assert_tlv(b, 9, DER_BER, 0x04, 4, 0, 0, 4, 5);
	/* five length octets, four of them zero: more than strict reads */
	memcpy(b, "\x04\x85\x00\x00\x00\x00\x05", 7);
	assert_refused(b, 12, DER_STRICT);
	assert_tlv(b, 12, DER_BER, 0x04, 4, 0, 0, 7, 5);
}
END_TEST

START_TEST(test_past_end)
{
	static const unsigned char shrt[] = {0x04, 0x05, 'a', 'b'};
	static const unsigned char lng[] = {0x04, 0x81, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	static const unsigned char huge[] = {0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0};
	static const unsigned char two[] = {0x30, 0x03, 0x04, 0x02, 'a', 'b'};
	unsigned flags[] = {DER_STRICT, DER_BER};
	struct der_tlv t, in;

	for (int i = 0; i < 2; i++) {
		assert_refused(shrt, sizeof shrt, flags[i]);
		assert_refused(lng, sizeof lng, flags[i]);
		assert_refused(huge, sizeof huge, flags[i]);
		/* the length octets themselves cut off */
		assert_refused(lng, 2, flags[i]);
		/* an inner element running past its parent, though not the buffer */
		ck_assert_int_eq(der_read(two, two + sizeof two, flags[i], &t), 0);
		ck_assert_ptr_eq(t.end, two + 5);
		ck_assert_int_eq(der_read(t.p, t.end, flags[i], &in), -1);
		ck_assert_int_eq(der_read(t.p, two + sizeof two, flags[i], &in), 0);
	}
}
END_TEST

START_TEST(test_indefinite)
{
	static const unsigned char cons[] = {0x30, 0x80, 0x04, 0x01, 'a', 0x00, 0x00};
	static const unsigned char prim[] = {0x04, 0x80, 'a', 0x00, 0x00};

	assert_refused(cons, sizeof cons, DER_STRICT);
	assert_refused(cons, sizeof cons, DER_BER);
	assert_refused(prim, sizeof prim, DER_STRICT);
	assert_refused(prim, sizeof prim, DER_BER);
}
END_TEST

START_TEST(test_high_tag)
{
	/* [128] primitive: tag octets 0x81 0x00 */
	static const unsigned char t128[] = {0x9f, 0x81, 0x00, 0x01, 'A'};
	/* universal 2 spelt in the high form, with a redundant 0x80 octet too */
	static const unsigned char int2[] = {0x1f, 0x02, 0x01, 0x05};
	static const unsigned char int2pad[] = {0x1f, 0x80, 0x02, 0x01, 0x05};
	static const unsigned char cut[] = {0x1f, 0x81};

	assert_refused(t128, sizeof t128, DER_STRICT);
	assert_tlv(t128, sizeof t128, DER_BER, 0x9f, 128, 0x80, 0, 4, 1);
	/* the certificate reader takes these as INTEGERs, as OpenSSL does */
	assert_refused(int2, sizeof int2, DER_STRICT);
	assert_tlv(int2, sizeof int2, DER_BER, 0x1f, 2, 0, 0, 3, 1);
	assert_refused(int2pad, sizeof int2pad, DER_STRICT);
	assert_tlv(int2pad, sizeof int2pad, DER_BER, 0x1f, 2, 0, 0, 4, 1);
	assert_refused(cut, sizeof cut, DER_STRICT);
	assert_refused(cut, sizeof cut, DER_BER);
}
END_TEST

START_TEST(test_digits)
{
	ck_assert_int_eq(der_digits((const unsigned char *)"0123", 4), 123);
	ck_assert_int_eq(der_digits((const unsigned char *)"9999", 4), 9999);
	ck_assert_int_eq(der_digits((const unsigned char *)"12a4", 4), -1);
	ck_assert_int_eq(der_digits((const unsigned char *)"1/", 2), -1);
	ck_assert_int_eq(der_digits((const unsigned char *)"x", 0), 0);
}
END_TEST

/* der_time on text wrapped in an element with identifier id. */
static int time_of(unsigned char id, const char *text, int min_year, struct der_time *v)
{
	unsigned char b[64];
	size_t n = strlen(text);
	struct der_tlv t;

	b[0] = id;
	b[1] = (unsigned char)n;
	memcpy(b + 2, text, n);
	ck_assert_int_eq(der_read(b, b + 2 + n, DER_STRICT, &t), 0);
	return der_time(&t, min_year, v);
}

static void assert_time(unsigned char id, const char *text, int y, int mo, int d, int h,
			int mi, int s)
{
	struct der_time v = {0};

	ck_assert_msg(time_of(id, text, 1000, &v) == 0, "'%s' refused", text);
	ck_assert_msg(v.year == y && v.mon == mo && v.day == d && v.hour == h && v.min == mi &&
		      v.sec == s, "'%s' read as %04d-%02d-%02d %02d:%02d:%02d", text, v.year,
		      v.mon, v.day, v.hour, v.min, v.sec);
}

static void assert_time_rc(unsigned char id, const char *text, int rc)
{
	struct der_time v;

	ck_assert_msg(time_of(id, text, 0, &v) == rc, "'%s' not %d", text, rc);
}

START_TEST(test_utctime)
{
	assert_time(0x17, "240229120000Z", 2024, 2, 29, 12, 0, 0);
	assert_time(0x17, "240430235959Z", 2024, 4, 30, 23, 59, 59);
	assert_time(0x17, "500101000000Z", 1950, 1, 1, 0, 0, 0);
	assert_time(0x17, "491231235959Z", 2049, 12, 31, 23, 59, 59);
	assert_time_rc(0x17, "230229120000Z", -1); /* 2023 is no leap year */
	assert_time_rc(0x17, "240431000000Z", -1);
	assert_time_rc(0x17, "240101240000Z", -1);
	assert_time_rc(0x17, "240101006000Z", -1);
	assert_time_rc(0x17, "240101000060Z", -1);
	assert_time_rc(0x17, "241301000000Z", -1);
	assert_time_rc(0x17, "240100000000Z", -1);
	assert_time_rc(0x17, "24a101000000Z", -1);
	/* other forms are for ASN1_TIME_to_tm to judge */
	assert_time_rc(0x17, "240101000000", 1);
	assert_time_rc(0x17, "2401010000Z", 1);
	assert_time_rc(0x17, "240101000000+0800", 1);
}
END_TEST

START_TEST(test_gentime)
{
	struct der_time v;

	assert_time(0x18, "20240229120000Z", 2024, 2, 29, 12, 0, 0);
	assert_time(0x18, "20000229000000Z", 2000, 2, 29, 0, 0, 0);
	assert_time(0x18, "99991231235959Z", 9999, 12, 31, 23, 59, 59);
	assert_time_rc(0x18, "20230229120000Z", -1);
	assert_time_rc(0x18, "21000229000000Z", -1); /* a century, not a leap year */
	assert_time_rc(0x18, "20240431000000Z", -1);
	assert_time_rc(0x18, "20240101240000Z", -1);
	assert_time_rc(0x18, "20240101000000", 1);
	assert_time_rc(0x18, "20240101000000.5Z", 1);
	assert_time_rc(0x18, "20240101000000+0800", 1);
	/* the year floor is the caller's: the CRL walker asks for 1000 */
	ck_assert_int_eq(time_of(0x18, "09990101000000Z", 0, &v), 0);
	ck_assert_int_eq(v.year, 999);
	ck_assert_int_eq(time_of(0x18, "09990101000000Z", 1000, &v), -1);
	ck_assert_int_eq(time_of(0x18, "10000101000000Z", 1000, &v), 0);
}
END_TEST

START_TEST(test_not_a_time)
{
	struct der_time v;

	ck_assert_int_eq(time_of(0x04, "240101000000Z", 0, &v), -1); /* OCTET STRING */
	ck_assert_int_eq(time_of(0x97, "240101000000Z", 0, &v), -1); /* [23] */
	ck_assert_int_eq(time_of(0x37, "240101000000Z", 0, &v), -1); /* constructed */
	ck_assert_int_eq(time_of(0x37, "2401010000Z", 0, &v), -1);
}
END_TEST

/* Appends a minimal DER element to out at *n. */
static void put(unsigned char *out, size_t *n, unsigned char id, const void *c, size_t len)
{
	out[(*n)++] = id;
	if (len >= 0x80) {
		out[(*n)++] = 0x81;
		ck_assert_uint_lt(len, 0x100);
	}
	out[(*n)++] = (unsigned char)len;
	memcpy(out + *n, c, len);
	*n += len;
}

/* A CertificateList with one entry revoked at date (tag date_id), and
 * whether crl_der_parse accepts it. */
static int crl_with_entry(unsigned char date_id, const char *date, int bad_length)
{
	static const unsigned char oid[] = {0x06, 0x03, 0x2a, 0x03, 0x04};
	unsigned char ent[64], rev[64], tbs[256], crl[300], all[320], sig[] = {0x00, 0x01};
	size_t ne = 0, nr = 0, nt = 0, nc = 0, na = 0;
	struct crl_der c;

	put(ent, &ne, 0x02, "\x01", 1);
	put(ent, &ne, date_id, date, strlen(date));
	put(rev, &nr, 0x30, ent, ne);
	put(tbs, &nt, 0x30, oid, sizeof oid);
	put(tbs, &nt, 0x30, "", 0);
	put(tbs, &nt, 0x17, "240101000000Z", 13);
	if (bad_length) { /* revokedCertificates with a non-minimal length */
		tbs[nt++] = 0x30, tbs[nt++] = 0x81, tbs[nt++] = (unsigned char)nr;
		memcpy(tbs + nt, rev, nr);
		nt += nr;
	} else {
		put(tbs, &nt, 0x30, rev, nr);
	}
	put(crl, &nc, 0x30, tbs, nt);
	put(crl, &nc, 0x30, oid, sizeof oid);
	put(crl, &nc, 0x03, sig, sizeof sig);
	put(all, &na, 0x30, crl, nc);
	if (crl_der_parse(all, na, &c))
		return 0;
	ck_assert_uint_eq(c.total, na);
	ck_assert_uint_eq(c.n_revoked, 1);
	return 1;
}

START_TEST(test_crl_walker_rules)
{
	ck_assert_int_eq(crl_with_entry(0x17, "240229000000Z", 0), 1);
	ck_assert_int_eq(crl_with_entry(0x18, "20240229000000Z", 0), 1);
	ck_assert_int_eq(crl_with_entry(0x17, "230229000000Z", 0), 0);
	ck_assert_int_eq(crl_with_entry(0x18, "20240431000000Z", 0), 0);
	ck_assert_int_eq(crl_with_entry(0x17, "240101240000Z", 0), 0);
	/* left to d2i_X509_CRL: other time forms, early years, BER lengths */
	ck_assert_int_eq(crl_with_entry(0x17, "240101000000+0800", 0), 0);
	ck_assert_int_eq(crl_with_entry(0x18, "09990101000000Z", 0), 0);
	ck_assert_int_eq(crl_with_entry(0x17, "240229000000Z", 1), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("der");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_add_test(tc, test_short_form);
	tcase_add_test(tc, test_long_form);
	tcase_add_test(tc, test_past_end);
	tcase_add_test(tc, test_indefinite);
	tcase_add_test(tc, test_high_tag);
	tcase_add_test(tc, test_digits);
	tcase_add_test(tc, test_utctime);
	tcase_add_test(tc, test_gentime);
	tcase_add_test(tc, test_not_a_time);
	tcase_add_test(tc, test_crl_walker_rules);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
