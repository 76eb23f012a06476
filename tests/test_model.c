/*
 * test_model.c — the report document model: building a document, stored
 * rows that grow past their first allocation, streamed rows read twice with
 * a rewind, iteration over both, and freeing (run under ASan by
 * check-sanitize, which catches leaks and use after free).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "testutil.h"

static const char *const titles[] = {"名称", "数量"};
static const enum rm_type types[] = {RM_TEXT, RM_INT};

START_TEST(document_holds_copies)
{
	struct rm_doc *d = rm_doc_new("自查报告");
	char key[16], value[16];
	struct rm_section *s;

	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->title, "自查报告");
	ck_assert_int_eq(rm_doc_set(d, "示例CA", "ca-audit", "自查", "2025-01-01"), 0);
	ck_assert_int_eq(rm_doc_set(d, "示例CA2", NULL, "自查", "2025-01-02"), 0);
	ck_assert_str_eq(d->ca_name, "示例CA2");
	ck_assert_ptr_null(d->author);
	ck_assert_str_eq(d->as_of, "2025-01-02");
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(value, sizeof(value), "v%d", i);
		ck_assert_int_eq(rm_doc_meta(d, key, value), 0);
		key[0] = 'X'; /* the document must hold its own copy */
	}
	ck_assert_uint_eq(d->nmeta, 20);
	ck_assert_str_eq(d->meta_keys[19], "k19");
	ck_assert_str_eq(d->meta_values[7], "v7");
	for (int i = 0; i < 9; i++) {
		snprintf(key, sizeof(key), "s%d", i);
		s = rm_section(d, key, i == 3 ? "表3" : NULL);
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(rm_para(s, "段落"), 0);
	}
	ck_assert_uint_eq(d->nsections, 9);
	ck_assert_str_eq(d->sections[8].title, "s8");
	ck_assert_str_eq(d->sections[3].sheet, "表3");
	ck_assert_ptr_null(d->sections[4].sheet);
	rm_doc_free(d);
	rm_doc_free(NULL);
}
END_TEST

START_TEST(kv_pairs_join_the_last_kv_block)
{
	struct rm_doc *d = rm_doc_new("t");
	struct rm_section *s = rm_section(d, "概况", NULL);

	ck_assert_int_eq(rm_kv(s, "a", "1"), 0);
	ck_assert_int_eq(rm_kv(s, "b", "2"), 0);
	ck_assert_int_eq(rm_para(s, "p"), 0);
	ck_assert_int_eq(rm_kv(s, "c", NULL), 0);
	ck_assert_uint_eq(s->nblocks, 3);
	ck_assert_int_eq(s->blocks[0].kind, RM_KV);
	ck_assert_uint_eq(s->blocks[0].nkv, 2);
	ck_assert_str_eq(s->blocks[0].values[1], "2");
	ck_assert_int_eq(s->blocks[1].kind, RM_PARA);
	ck_assert_str_eq(s->blocks[1].text, "p");
	ck_assert_uint_eq(s->blocks[2].nkv, 1);
	ck_assert_str_eq(s->blocks[2].values[0], "");
	rm_doc_free(d);
}
END_TEST

START_TEST(stored_rows_grow_and_iterate)
{
	struct rm_doc *d = rm_doc_new("t");
	struct rm_section *s = rm_section(d, "表", NULL);
	struct rm_table *t = rm_table(s, "清单", 2, titles, types);
	struct rm_cell cells[2];
	struct rm_iter it;
	char buf[32];
	int n = 0;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(rm_set_text(t, 0, "x"), -1); /* no row yet */
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(rm_row(t), 0);
		snprintf(buf, sizeof(buf), "行%d", i);
		ck_assert_int_eq(rm_set_text(t, 0, buf), 0);
		if (i % 3)
			ck_assert_int_eq(rm_set_num(t, 1, i), 0);
	}
	ck_assert_int_eq(rm_set_num(t, 2, 1), -1); /* no such column */
	ck_assert_int_eq(rm_set_text(t, 0, "最后"), 0); /* replaces, no leak */
	ck_assert_uint_eq(t->nrows, 1000);
	ck_assert_uint_ge(t->caprows, 1000);
	rm_iter_start(&it, t);
	while (rm_iter_next(&it, cells) == 1) {
		snprintf(buf, sizeof(buf), "行%d", n);
		ck_assert_str_eq(cells[0].text, n == 999 ? "最后" : buf);
		ck_assert_int_eq(cells[1].is_null, n % 3 == 0);
		if (n % 3)
			ck_assert(cells[1].num == n);
		n++;
	}
	ck_assert_int_eq(n, 1000);
	ck_assert_int_eq(rm_iter_next(&it, cells), 0);
	rm_doc_free(d);
}
END_TEST

struct src {
	int n, i, rewinds;
	char buf[16];
};

static int src_next(void *ctx, struct rm_cell *cells)
{
	struct src *s = ctx;

	if (s->i >= s->n)
		return 0;
	snprintf(s->buf, sizeof(s->buf), "r%d", s->i);
	cells[0].text = s->buf;
	cells[1].num = s->i * 2;
	s->i++;
	return 1;
}

static int src_rewind(void *ctx)
{
	struct src *s = ctx;

	s->i = 0;
	s->rewinds++;
	return s->rewinds > 2 ? -1 : 0;
}

START_TEST(streamed_rows_rewind_for_each_pass)
{
	struct rm_doc *d = rm_doc_new("t");
	struct rm_section *s = rm_section(d, "明细", NULL);
	struct rm_table *t = rm_table(s, "问题", 2, titles, types);
	struct src src = {.n = 5};
	struct rm_cell cells[2];
	struct rm_iter it;

	rm_table_stream(t, src_next, src_rewind, &src);
	rm_table_detail(t, "问题明细");
	ck_assert_int_eq(t->detail, 1);
	ck_assert_str_eq(t->sheet, "问题明细");
	for (int pass = 0; pass < 2; pass++) {
		int n = 0;

		rm_iter_start(&it, t);
		while (rm_iter_next(&it, cells) == 1) {
			char want[16];

			snprintf(want, sizeof(want), "r%d", n);
			ck_assert_str_eq(cells[0].text, want);
			ck_assert(cells[1].num == n * 2);
			ck_assert_int_eq(cells[1].is_null, 0);
			n++;
		}
		ck_assert_int_eq(n, 5);
	}
	ck_assert_int_eq(src.rewinds, 2);
	/* a failing rewind is an error, not an empty table */
	rm_iter_start(&it, t);
	ck_assert_int_eq(rm_iter_next(&it, cells), -1);
	ck_assert_uint_eq(t->nrows, 0);
	rm_doc_free(d);
}
END_TEST

START_TEST(table_widths_and_defaults)
{
	struct rm_doc *d = rm_doc_new(NULL);
	struct rm_section *s = rm_section(d, NULL, NULL);
	struct rm_table *t = rm_table(s, NULL, 3, NULL, NULL);

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(d->title);
	ck_assert_str_eq(t->cols[2].title, "");
	ck_assert_int_eq(t->cols[1].type, RM_TEXT);
	rm_table_width(t, 1, 30);
	rm_table_width(t, 7, 30); /* out of range: ignored */
	ck_assert_int_eq(t->cols[1].width, 30);
	ck_assert_int_eq(t->detail, 0);
	ck_assert_ptr_eq(s->blocks[0].table, t);
	rm_doc_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");
	int failed;

	tcase_add_test(tc, document_holds_copies);
	tcase_add_test(tc, kv_pairs_join_the_last_kv_block);
	tcase_add_test(tc, stored_rows_grow_and_iterate);
	tcase_add_test(tc, streamed_rows_rewind_for_each_pass);
	tcase_add_test(tc, table_widths_and_defaults);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
