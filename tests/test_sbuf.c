/*
 * test_sbuf.c — the growable text buffer: text stays terminated as it
 * grows past its first allocation, embedded bytes are kept, reset empties
 * without losing the terminator, take hands over "" for an empty buffer
 * and leaves the buffer zeroed, and a buffer marked out of memory adds
 * nothing and takes NULL.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "testutil.h"

START_TEST(grows_and_stays_terminated)
{
	struct sbuf b = {0};
	char *s;

	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(sbuf_adds(&b, i % 2 ? "乙" : "a"), 0);
	ck_assert_uint_eq(b.n, 500 * (1 + strlen("乙")));
	ck_assert_uint_eq(strlen(b.s), b.n);
	ck_assert_int_eq(memcmp(b.s, "a乙a", 1 + strlen("乙") + 1), 0);
	ck_assert_int_eq(sbuf_add(&b, "x\0y", 3), 0);
	ck_assert_int_eq(memcmp(b.s + b.n - 3, "x\0y", 4), 0);
	s = sbuf_take(&b);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(b.s);
	ck_assert_uint_eq(b.n + b.cap, 0);
	free(s);
}
END_TEST

START_TEST(reset_and_take_empty)
{
	struct sbuf b = {0};
	char *s = sbuf_take(&b);

	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_int_eq(sbuf_reset(&b), 0);
	ck_assert_str_eq(b.s, "");
	ck_assert_int_eq(sbuf_adds(&b, "张三"), 0);
	ck_assert_int_eq(sbuf_reset(&b), 0);
	ck_assert_str_eq(b.s, "");
	ck_assert_int_eq(sbuf_adds(&b, "李四"), 0);
	ck_assert_str_eq(b.s, "李四");
	sbuf_free(&b);
	ck_assert_ptr_null(b.s);
}
END_TEST

START_TEST(out_of_memory_is_sticky)
{
	struct sbuf b = {0};

	ck_assert_int_eq(sbuf_adds(&b, "kept"), 0);
	b.oom = 1;  /* as a failed realloc leaves it */
	ck_assert_int_eq(sbuf_adds(&b, "more"), -1);
	ck_assert_int_eq(sbuf_reset(&b), -1);
	ck_assert_uint_eq(b.n, 4);  /* nothing changes */
	ck_assert_str_eq(b.s, "kept");
	ck_assert_ptr_null(sbuf_take(&b));
	ck_assert_ptr_null(b.s);
	ck_assert_int_eq(b.oom, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sbuf");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_add_test(tc, grows_and_stays_terminated);
	tcase_add_test(tc, reset_and_take_empty);
	tcase_add_test(tc, out_of_memory_is_sticky);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
