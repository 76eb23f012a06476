/*
 * test_jsonarena.c — jansson's blocks from a bump arena inside a bracket
 * (audit/jsonarena.h): a parsed line lives in the arena and is released
 * there; the next bracket reuses it; a document too big spills to malloc
 * and goes back to free; outside the bracket and in other threads jansson
 * uses malloc as before, and a value made outside is freed to free inside.
 * The sanitizer run (check-sanitize) reports any block freed wrongly or
 * leaked.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jsonarena.h"
#include "testutil.h"

static const char line[] =
	"{\"at\":\"2023-06-01T00:00:23+08:00\",\"kind\":\"apply\",\"app\":\"A-2023-078016\","
	"\"applicant\":{\"type\":\"individual\",\"name\":\"司马玲娟\",\"id_type\":\"resident_id\","
	"\"id\":\"110101197906258884\"},\"cert_type\":\"个人证书\",\"sector\":\"commercial\"}";

static struct jsonarena a;

static void setup(void)
{
	ck_assert_int_eq(jsonarena_init(&a, 16 * 1024), 0);
}

static void teardown(void)
{
	jsonarena_free(&a);
}

static json_t *parse(const char *s)
{
	json_error_t je;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &je);

	ck_assert_msg(v != NULL, "%s", je.text);
	return v;
}

START_TEST(a_line_lives_in_the_arena)
{
	json_t *v;
	size_t first;

	jsonarena_begin(&a);
	v = parse(line);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "applicant"),
							    "name")), "司马玲娟");
	ck_assert_uint_gt(a.used, 0);
	ck_assert_uint_eq(a.spilled, 0);
	first = a.used;
	json_decref(v);
	jsonarena_end();

	/* the next line reuses the arena from its start */
	jsonarena_begin(&a);
	v = parse(line);
	ck_assert_uint_eq(a.used, first);
	json_decref(v);
	jsonarena_end();
}
END_TEST

START_TEST(a_big_document_spills_to_malloc)
{
	char *big = malloc(64 * 1024);
	json_t *v;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 64 * 1024);
	big[0] = '"';
	big[64 * 1024 - 2] = '"';
	big[64 * 1024 - 1] = '\0';
	jsonarena_begin(&a);
	v = parse(big);
	ck_assert_uint_eq(json_string_length(v), 64 * 1024 - 3);
	ck_assert_uint_gt(a.spilled, 0);
	json_decref(v);  /* to free(): LSan would see a leak otherwise */
	jsonarena_end();
	free(big);
}
END_TEST

START_TEST(outside_the_bracket_is_malloc)
{
	json_t *before = parse(line), *v;

	ck_assert_uint_eq(a.used, 0);
	jsonarena_begin(&a);
	v = parse("[1, 2, 3]");
	json_decref(before);  /* made by malloc, freed inside: to free() */
	json_decref(v);
	jsonarena_end();
	v = parse(line);
	jsonarena_begin(&a);
	ck_assert_uint_eq(a.used, 0);
	jsonarena_end();
	json_decref(v);
}
END_TEST

static void *other_thread(void *arg)
{
	json_t *v = parse(line);

	(void)arg;
	json_decref(v);
	return NULL;
}

START_TEST(other_threads_are_not_in_the_bracket)
{
	pthread_t t;

	jsonarena_begin(&a);
	ck_assert_int_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(a.used, 0);
	jsonarena_end();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsonarena");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_line_lives_in_the_arena);
	tcase_add_test(tc, a_big_document_spills_to_malloc);
	tcase_add_test(tc, outside_the_bracket_is_malloc);
	tcase_add_test(tc, other_threads_are_not_in_the_bracket);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
