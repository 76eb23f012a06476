/*
 * test_csvout.c — CSV fields: RFC 4180 quoting, and record text that would
 * be a formula in a spreadsheet written with a leading apostrophe.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvout.h"
#include "testutil.h"

static char *field(const char *s, int text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_int_eq(csvout_field(f, s, text), 0);
	fclose(f);
	return buf;
}

static void expect(const char *s, int text, const char *want)
{
	char *got = field(s, text);

	ck_assert_msg(!strcmp(got, want), "field(%s, %d) = [%s], want [%s]", s ? s : "NULL",
		      text, got, want);
	free(got);
}

START_TEST(quoting)
{
	expect("plain", 1, "plain");
	expect(NULL, 1, "");
	expect("a,b", 1, "\"a,b\"");
	expect("say \"hi\"", 1, "\"say \"\"hi\"\"\"");
	expect("two\r\nlines", 1, "\"two\r\nlines\"");
	expect("个人证书", 1, "个人证书");
}
END_TEST

START_TEST(formulas_stay_text)
{
	expect("=1+1", 1, "'=1+1");
	expect("+1+2", 1, "'+1+2");
	expect("-3+4", 1, "'-3+4");
	expect("@SUM(A1:A9)", 1, "'@SUM(A1:A9)");
	expect("\tx", 1, "'\tx");
	expect("=HYPERLINK(\"http://x/\",\"y\")", 1, "\"'=HYPERLINK(\"\"http://x/\"\",\"\"y\"\")\"");
	/* numbers the tool computed are numbers */
	expect("-3", 0, "-3");
	expect("=1", 0, "=1");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csvout");
	TCase *tc = tcase_create("csvout");
	int failed;

	tcase_add_test(tc, quoting);
	tcase_add_test(tc, formulas_stay_text);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
