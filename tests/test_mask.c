/*
 * test_mask.c — masking of names, identity numbers and distinguished names
 * (audit/mask.h), the last line of defence before personal data reaches a
 * report, so each case compares the whole output.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "testutil.h"

/* Compares fn(in) with want and frees the result. */
static void expect(char *(*fn)(const char *), const char *in, const char *want)
{
	char *got = fn(in);

	ck_assert_msg(got != NULL, "NULL for '%s'", in);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(name_lengths)
{
	expect(mask_name, "张", "*");
	expect(mask_name, "张三", "张*");
	expect(mask_name, "张三丰", "张**");
	expect(mask_name, "欧阳娜娜", "欧***");
	expect(mask_name, "", "");
}
END_TEST

START_TEST(name_non_bmp)
{
	/* U+20BB7 𠮷 is four bytes in UTF-8 and one character. */
	expect(mask_name, "\xF0\xA0\xAE\xB7" "三", "\xF0\xA0\xAE\xB7" "*");
	expect(mask_name, "王\xF0\xA0\xAE\xB7", "王*");
}
END_TEST

START_TEST(name_ascii)
{
	expect(mask_name, "Li Wei", "L*****");
	expect(mask_name, "A", "*");
}
END_TEST

START_TEST(name_null)
{
	ck_assert_ptr_null(mask_name(NULL));
}
END_TEST

START_TEST(id_lengths)
{
	expect(mask_id, "110101199003071234", "1101**********1234");
	expect(mask_id, "11010119900307X", "1101*******307X");
	expect(mask_id, "91350100M000100Y43", "9135**********0Y43");
	expect(mask_id, "123456789", "1234*6789");
	expect(mask_id, "12345678", "********");
	expect(mask_id, "A123", "****");
	expect(mask_id, "", "");
	ck_assert_ptr_null(mask_id(NULL));
}
END_TEST

START_TEST(id_utf8)
{
	/* Characters, not bytes: nine characters keep 4 + 4. */
	expect(mask_id, "粤港一二三四五六七", "粤港一二*四五六七");
}
END_TEST

START_TEST(field_kinds)
{
	ck_assert_int_eq(mask_field_kind("applicant_name"), 'n');
	ck_assert_int_eq(mask_field_kind("recipient_name"), 'n');
	ck_assert_int_eq(mask_field_kind("cn"), 'n');
	ck_assert_int_eq(mask_field_kind("applicant_id"), 'i');
	ck_assert_int_eq(mask_field_kind("recipient_id"), 'i');
	ck_assert_int_eq(mask_field_kind("id_number"), 'i');
	ck_assert_int_eq(mask_field_kind("ID_NUMBER"), 'i');
	ck_assert_int_eq(mask_field_kind("subject"), 'd');
	ck_assert_int_eq(mask_field_kind("issuer"), 0);
	ck_assert_int_eq(mask_field_kind("serial"), 0);
	ck_assert_int_eq(mask_field_kind("applicant_id_type"), 0);
	ck_assert_int_eq(mask_field_kind(NULL), 0);
}
END_TEST

START_TEST(field_values)
{
	char *s;

	s = mask_field("applicant_name", "张三丰");
	ck_assert_str_eq(s, "张**");
	free(s);
	s = mask_field("recipient_id", "110101199003071234");
	ck_assert_str_eq(s, "1101**********1234");
	free(s);
	s = mask_field("app", "A-2024-000123");
	ck_assert_str_eq(s, "A-2024-000123");
	free(s);
	s = mask_field("subject", "CN=李四,C=CN");
	ck_assert_str_eq(s, "CN=李*,C=CN");
	free(s);
	ck_assert_ptr_null(mask_field("applicant_name", NULL));
}
END_TEST

START_TEST(dn_personal_attributes)
{
	expect(mask_dn, "CN=张三,serialNumber=110101199003071234,O=示例公司,C=CN",
	       "CN=张*,serialNumber=1101**********1234,O=示例公司,C=CN");
	expect(mask_dn, "C=CN,O=Example,cn=Wang Fang", "C=CN,O=Example,cn=W********");
	expect(mask_dn, "SN=欧阳+GN=娜娜,C=CN", "SN=欧*+GN=娜*,C=CN");
	expect(mask_dn, "2.5.4.5=123456789,C=CN", "2.5.4.5=1234*6789,C=CN");
	expect(mask_dn, "O=No Person,C=CN", "O=No Person,C=CN");
	expect(mask_dn, "", "");
	ck_assert_ptr_null(mask_dn(NULL));
}
END_TEST

START_TEST(dn_escapes)
{
	/* An escaped comma belongs to the value; the kept first character is
	 * re-escaped where RFC 4514 requires it. */
	expect(mask_dn, "CN=Smith\\, John,C=CN", "CN=S**********,C=CN");
	expect(mask_dn, "CN=\\#hash,O=X", "CN=\\#****,O=X");
	/* Hex-escaped UTF-8 is decoded before counting: 张三 is two characters. */
	expect(mask_dn, "CN=\\E5\\BC\\A0\\E4\\B8\\89,C=CN", "CN=张*,C=CN");
	expect(mask_dn, "CN=#0c06e5bca0e4b889,C=CN", "CN=#****************,C=CN");
	/* OpenSSL's one-line style: spaces around '=' and after ',' are not
	 * part of the value. */
	expect(mask_dn, "C = CN, CN = 张三丰 , serialNumber = 123456789",
	       "C = CN, CN = 张** , serialNumber = 1234*6789");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mask");
	TCase *tc = tcase_create("mask");
	int failed;

	tcase_add_test(tc, name_lengths);
	tcase_add_test(tc, name_non_bmp);
	tcase_add_test(tc, name_ascii);
	tcase_add_test(tc, name_null);
	tcase_add_test(tc, id_lengths);
	tcase_add_test(tc, id_utf8);
	tcase_add_test(tc, field_kinds);
	tcase_add_test(tc, field_values);
	tcase_add_test(tc, dn_personal_attributes);
	tcase_add_test(tc, dn_escapes);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
