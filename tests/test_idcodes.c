/*
 * test_idcodes.c — the identity number validators against the examples
 * printed in the standards (GB 11643-1999, GB 11714-1997) and in public
 * registries (GB 32100-2015 codes of listed companies), and against every
 * kind of damage a typed number suffers: a wrong check character, a wrong
 * length, an impossible birth date, letters where digits belong.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idcodes.h"
#include "testutil.h"

/* Examples from the standards' own texts and public business registries. */
static const char *good_resident[] = {"11010519491231002X", "310104198511300049", NULL};
static const char *good_uscc[] = {"91350100M000100Y43", "91110000600037341L", NULL};
static const char *good_org[] = {"D2143569-X", "D2143569X", "60003734-1", NULL};

/* Replaces the character at i with each other character of alphabet and
 * counts how many of the results the validator still accepts. */
static int accepted_mutations(const char *s, size_t i, const char *alphabet,
			      int (*valid)(const char *))
{
	char buf[32];
	const char *a;
	int n = 0;

	for (a = alphabet; *a; a++) {
		if (*a == s[i])
			continue;
		strcpy(buf, s);
		buf[i] = *a;
		n += valid(buf);
	}
	return n;
}

START_TEST(test_resident_examples)
{
	int i;

	for (i = 0; good_resident[i]; i++) {
		ck_assert_msg(resident_id_valid(good_resident[i]), "%s", good_resident[i]);
		ck_assert_int_eq(resident_id_check(good_resident[i]), good_resident[i][17]);
		ck_assert_int_eq(accepted_mutations(good_resident[i], 17, "0123456789X",
						    resident_id_valid), 0);
	}
	ck_assert(resident_id_valid("11010519491231002x"));
}
END_TEST

START_TEST(test_resident_bad)
{
	char buf[19];

	ck_assert(!resident_id_valid(NULL));
	ck_assert(!resident_id_valid(""));
	ck_assert(!resident_id_valid("11010519491231002"));
	ck_assert(!resident_id_valid("11010519491231002XX"));
	ck_assert(!resident_id_valid("1101051949123100X2"));
	ck_assert(!resident_id_valid("110105A9491231002X"));
	ck_assert_int_eq(resident_id_check("1101051949123100A"), 0);
	ck_assert_int_eq(resident_id_check("1101051949"), 0);
	ck_assert_int_eq(resident_id_check(NULL), 0);
	/* GB 11643's own example, born 1880: right check, but before 1900. */
	ck_assert_int_eq(resident_id_check("440524188001010014"), '4');
	ck_assert(!resident_id_valid("440524188001010014"));

	/* Dates that do not exist, given the right check character so that
	 * only the date can be what is rejected. */
	const char *bodies[] = {"11010519900230123", "11010518991231123", "11010520230229123",
				"11010519901301123", "11010519900100123", "00000019900101123", NULL};
	for (int i = 0; bodies[i]; i++) {
		memcpy(buf, bodies[i], 17);
		buf[17] = resident_id_check(bodies[i]);
		buf[18] = '\0';
		ck_assert_msg(buf[17] != 0, "%s", bodies[i]);
		ck_assert_msg(!resident_id_valid(buf), "%s accepted", buf);
	}
	/* Leap days that do exist. */
	const char *leap[] = {"11010520000229123", "11010520240229123", NULL};
	for (int i = 0; leap[i]; i++) {
		memcpy(buf, leap[i], 17);
		buf[17] = resident_id_check(leap[i]);
		buf[18] = '\0';
		ck_assert_msg(resident_id_valid(buf), "%s rejected", buf);
	}
}
END_TEST

START_TEST(test_uscc_examples)
{
	const char *alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	int i;

	for (i = 0; good_uscc[i]; i++) {
		ck_assert_msg(uscc_valid(good_uscc[i]), "%s", good_uscc[i]);
		ck_assert_int_eq(uscc_check(good_uscc[i]), good_uscc[i][17]);
		ck_assert_int_eq(accepted_mutations(good_uscc[i], 17, alphabet, uscc_valid), 0);
	}
	ck_assert(uscc_valid("91350100m000100y43"));
}
END_TEST

START_TEST(test_uscc_bad)
{
	char buf[19];

	ck_assert(!uscc_valid(NULL));
	ck_assert(!uscc_valid(""));
	ck_assert(!uscc_valid("91350100M000100Y4"));
	ck_assert(!uscc_valid("91350100M000100Y433"));
	/* I, O, S, V and Z are outside the alphabet even with a fitting check. */
	ck_assert_int_eq(uscc_check("91350100M000100YI"), 0);
	ck_assert_int_eq(uscc_check("9135010OM000100Y4"), 0);
	ck_assert_int_eq(uscc_check("913501"), 0);

	/* A correct MOD 31 check but a broken embedded organisation code. */
	memcpy(buf, "91350100M000100Y5", 17);
	buf[17] = uscc_check(buf);
	buf[18] = '\0';
	ck_assert(buf[17] != 0);
	ck_assert_msg(!org_code_valid("M000100Y5"), "fixture org code should be wrong");
	ck_assert_msg(!uscc_valid(buf), "%s accepted", buf);
}
END_TEST

START_TEST(test_org_code)
{
	const char *digits = "0123456789X";
	int i;

	for (i = 0; good_org[i]; i++) {
		const char *s = good_org[i];
		size_t chk = strlen(s) - 1;

		ck_assert_msg(org_code_valid(s), "%s", s);
		ck_assert_int_eq(org_code_check(s), s[chk]);
		ck_assert_int_eq(accepted_mutations(s, chk, digits, org_code_valid), 0);
	}
	ck_assert(org_code_valid("d2143569-x"));
	ck_assert(!org_code_valid(NULL));
	ck_assert(!org_code_valid(""));
	ck_assert(!org_code_valid("D2143569"));
	ck_assert(!org_code_valid("D2143569--X"));
	ck_assert(!org_code_valid("D2143569_X"));
	ck_assert(!org_code_valid("D214356-9X"));
	ck_assert(!org_code_valid("D2143569-XX"));
	ck_assert_int_eq(org_code_check("D21435*9"), 0);
	ck_assert_int_eq(org_code_check("D214"), 0);
	ck_assert_int_eq(org_code_check(NULL), 0);
}
END_TEST

/* The two ends of the check's range: 11 → '0' and 10 → 'X'. */
START_TEST(test_org_code_check_ends)
{
	char body[9];
	int seen0 = 0, seenx = 0, n;

	for (n = 0; n < 1000 && !(seen0 && seenx); n++) {
		char c;

		snprintf(body, sizeof body, "%08d", n * 7919);
		c = org_code_check(body);
		if (c == '0')
			seen0 = 1;
		if (c == 'X')
			seenx = 1;
	}
	ck_assert(seen0 && seenx);
}
END_TEST

START_TEST(test_id_valid)
{
	ck_assert(id_valid("resident_id", "11010519491231002X"));
	ck_assert(!id_valid("resident_id", "11010519491231002Y"));
	ck_assert(id_valid("uscc", "91350100M000100Y43"));
	ck_assert(!id_valid("uscc", "11010519491231002X"));
	ck_assert(id_valid("org_code", "D2143569-X"));
	ck_assert(!id_valid("org_code", "D2143569-1"));
	ck_assert(id_valid("passport", "E12345678"));
	ck_assert(id_valid("hk_id", "A123456(7)"));
	ck_assert(id_valid("other", "军官证 123"));
	ck_assert(!id_valid("passport", ""));
	ck_assert(!id_valid("passport", "   "));
	ck_assert(!id_valid("other", "a\tb"));
	ck_assert(!id_valid("driving_licence", "E12345678"));
	ck_assert(!id_valid(NULL, "E12345678"));
	ck_assert(!id_valid("passport", NULL));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("idcodes");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_add_test(tc, test_resident_examples);
	tcase_add_test(tc, test_resident_bad);
	tcase_add_test(tc, test_uscc_examples);
	tcase_add_test(tc, test_uscc_bad);
	tcase_add_test(tc, test_org_code);
	tcase_add_test(tc, test_org_code_check_ends);
	tcase_add_test(tc, test_id_valid);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
