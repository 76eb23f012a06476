/*
 * test_xlsx.c — the XLSX writer: documents are written with xlsx_write and
 * read back with openpyxl (tests/xlsx_dump.py), so the assertions are about
 * what a spreadsheet program sees: sheet names, cell types and values, frozen
 * panes, autofilters, widths, split sheets, reproducible bytes and errors.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "testutil.h"
#include "xlsx.h"

static char *tmp;

static void setup(void)
{
	tmp = tu_tmpdir("xlsx");
	xlsx_set_row_limit(0);
}

static void teardown(void)
{
	xlsx_set_row_limit(0);
	tu_rmdir(tmp);
	free(tmp);
}

/* The workbook at path as xlsx_dump.py prints it. */
static json_t *dump(const char *path)
{
	struct tu_out o = tu_run("python3 '%s/tests/xlsx_dump.py' '%s'", tu_root(), path);
	json_error_t je;
	json_t *j;

	ck_assert_msg(o.status == 0, "xlsx_dump failed: %s", o.err);
	j = json_loads(o.out, 0, &je);
	ck_assert_msg(j != NULL, "xlsx_dump printed no JSON: %s", je.text);
	tu_out_free(&o);
	return j;
}

static json_t *sheet(json_t *wb, const char *name)
{
	json_t *sheets = json_object_get(wb, "sheets"), *s;
	size_t i;

	json_array_foreach(sheets, i, s)
		if (!strcmp(json_string_value(json_object_get(s, "name")), name))
			return s;
	ck_abort_msg("no sheet '%s'", name);
	return NULL;
}

/* [type, value, number_format] of the cell at 0-based row, col, or NULL. */
static json_t *cell(json_t *sh, size_t row, size_t col)
{
	json_t *r = json_array_get(json_object_get(sh, "rows"), row);
	json_t *c = r ? json_array_get(r, col) : NULL;

	return c && !json_is_null(c) ? c : NULL;
}

static const char *cell_type(json_t *sh, size_t row, size_t col)
{
	json_t *c = cell(sh, row, col);

	return c ? json_string_value(json_array_get(c, 0)) : "";
}

static const char *cell_str(json_t *sh, size_t row, size_t col)
{
	json_t *c = cell(sh, row, col);
	const char *s = c ? json_string_value(json_array_get(c, 1)) : NULL;

	return s ? s : "";
}

static double cell_num(json_t *sh, size_t row, size_t col)
{
	json_t *c = cell(sh, row, col);

	ck_assert_msg(c != NULL, "empty cell at %zu,%zu", row, col);
	return json_number_value(json_array_get(c, 1));
}

static const char *sheet_str(json_t *sh, const char *key)
{
	const char *s = json_string_value(json_object_get(sh, key));

	return s ? s : "";
}

static long sheet_int(json_t *sh, const char *key)
{
	return (long)json_integer_value(json_object_get(sh, key));
}

static const char *const typed_titles[] = {"名称", "数量", "日期", "时间", "比例"};
static const enum rm_type typed_types[] = {RM_TEXT, RM_INT, RM_DATE, RM_DATE, RM_PERCENT};

/* A document with every column type, CJK text, formula-looking text and a
 * long text. */
static struct rm_doc *typed_doc(void)
{
	static const char *const texts[] = {"=1+1", "@SUM(A1)", "+1", "-1", "证书持有人"};
	struct rm_doc *d = rm_doc_new("自查报告");
	struct rm_section *s;
	struct rm_table *t;
	char long_text[400];
	size_t i;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(rm_doc_set(d, "示例电子认证服务有限公司", "ca-audit", "self-inspection",
				    "2025-03-01"), 0);
	ck_assert_int_eq(rm_doc_meta(d, "机构名称", "示例电子认证服务有限公司"), 0);
	ck_assert_int_eq(rm_doc_meta(d, "截止日期", "2025-03-01"), 0);
	s = rm_section(d, "检查记录表", NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(rm_para(s, "本表列出每个检查项的结果。"), 0);
	ck_assert_int_eq(rm_kv(s, "检查项", "12"), 0);
	ck_assert_int_eq(rm_kv(s, "不符合", "3"), 0);
	t = rm_table(s, "结果", 5, typed_titles, typed_types);
	ck_assert_ptr_nonnull(t);
	for (i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		ck_assert_int_eq(rm_row(t), 0);
		ck_assert_int_eq(rm_set_text(t, 0, texts[i]), 0);
		ck_assert_int_eq(rm_set_num(t, 1, (double)(i * 1000 + 7)), 0);
		ck_assert_int_eq(rm_set_text(t, 2, "2024-02-29"), 0);
		ck_assert_int_eq(rm_set_text(t, 3, "2024-02-29 13:45:10"), 0);
		ck_assert_int_eq(rm_set_num(t, 4, 0.25), 0);
	}
	memset(long_text, 'x', 300);
	long_text[300] = '\0';
	ck_assert_int_eq(rm_row(t), 0);
	ck_assert_int_eq(rm_set_text(t, 0, long_text), 0);
	ck_assert_int_eq(rm_set_text(t, 2, "not a date"), 0);
	return d;
}

START_TEST(types_read_back)
{
	struct rm_doc *d = typed_doc();
	char *path = tu_fmt("%s/typed.xlsx", tmp);
	struct err e = {0};
	json_t *wb, *cover, *sh, *sheets, *widths;

	ck_assert_msg(xlsx_write(d, path, &e) == 0, "%s", e.msg);
	{
		/* an ordinary file, not the temporary file's 0600 */
		struct stat sb;
		mode_t mask = umask(022);

		umask(mask);
		ck_assert_int_eq(stat(path, &sb), 0);
		ck_assert_int_eq(sb.st_mode & 0777, 0666 & ~mask);
	}
	wb = dump(path);
	sheets = json_object_get(wb, "sheets");
	ck_assert_int_eq(json_array_size(sheets), 2);
	cover = sheet(wb, "概要");
	ck_assert_str_eq(cell_str(cover, 0, 0), "自查报告");
	ck_assert_str_eq(cell_str(cover, 2, 0), "机构名称");
	ck_assert_str_eq(cell_str(cover, 2, 1), "示例电子认证服务有限公司");
	ck_assert_str_eq(cell_str(cover, 3, 1), "2025-03-01");
	ck_assert_str_eq(cell_str(cover, 5, 0), "检查记录表");
	ck_assert_str_eq(cell_str(cover, 6, 0), "本表列出每个检查项的结果。");
	ck_assert_str_eq(cell_str(cover, 7, 0), "检查项");
	ck_assert_str_eq(cell_str(cover, 7, 1), "12");
	ck_assert_str_eq(cell_str(cover, 8, 0), "不符合");

	sh = sheet(wb, "检查记录表");
	for (size_t c = 0; c < 5; c++)
		ck_assert_str_eq(cell_str(sh, 0, c), typed_titles[c]);
	ck_assert_str_eq(sheet_str(sh, "freeze"), "A2");
	ck_assert_str_eq(sheet_str(sh, "autofilter"), "A1:E7");
	ck_assert_int_eq(sheet_int(sh, "max_row"), 7);
	/* text that looks like a formula stays text */
	ck_assert_str_eq(cell_type(sh, 1, 0), "s");
	ck_assert_str_eq(cell_str(sh, 1, 0), "=1+1");
	ck_assert_str_eq(cell_type(sh, 2, 0), "s");
	ck_assert_str_eq(cell_str(sh, 2, 0), "@SUM(A1)");
	ck_assert_str_eq(cell_str(sh, 3, 0), "+1");
	ck_assert_str_eq(cell_str(sh, 4, 0), "-1");
	ck_assert_str_eq(cell_str(sh, 5, 0), "证书持有人");
	ck_assert_str_eq(cell_type(sh, 2, 1), "n");
	ck_assert(cell_num(sh, 2, 1) == 1007);
	ck_assert_str_eq(cell_type(sh, 1, 2), "d");
	ck_assert_str_eq(cell_str(sh, 1, 2), "2024-02-29T00:00:00");
	ck_assert_str_eq(json_string_value(json_array_get(cell(sh, 1, 2), 2)), "yyyy-mm-dd");
	ck_assert_str_eq(cell_type(sh, 1, 3), "d");
	ck_assert_str_eq(cell_str(sh, 1, 3), "2024-02-29T13:45:10");
	ck_assert_str_eq(cell_type(sh, 1, 4), "n");
	ck_assert(cell_num(sh, 1, 4) == 0.25);
	ck_assert_str_eq(json_string_value(json_array_get(cell(sh, 1, 4), 2)), "0.0%");
	/* a date that does not parse is kept as text; empty cells stay empty */
	ck_assert_str_eq(cell_type(sh, 6, 2), "s");
	ck_assert_str_eq(cell_str(sh, 6, 2), "not a date");
	ck_assert_ptr_null(cell(sh, 6, 1));
	/* widths: the 300-character text is capped; CJK counts double */
	widths = json_object_get(sh, "widths");
	ck_assert(json_number_value(json_object_get(widths, "A")) <= 61);
	ck_assert(json_number_value(json_object_get(widths, "A")) >= 50);
	ck_assert(json_number_value(json_object_get(widths, "E")) >= 8);

	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(wb, "properties"),
							   "title")), "自查报告");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(wb, "properties"),
							   "created")), "2025-03-01T00:00:00");
	json_decref(wb);
	rm_doc_free(d);
	free(path);
}
END_TEST

START_TEST(same_document_same_bytes)
{
	struct rm_doc *d = typed_doc();
	char *a = tu_fmt("%s/a.xlsx", tmp), *b = tu_fmt("%s/b.xlsx", tmp);
	char *da, *db;
	size_t la, lb;
	struct err e = {0};

	ck_assert_msg(xlsx_write(d, a, &e) == 0, "%s", e.msg);
	sleep(1); /* a clock-derived timestamp would differ now */
	ck_assert_msg(xlsx_write(d, b, &e) == 0, "%s", e.msg);
	da = tu_read(a, &la);
	db = tu_read(b, &lb);
	ck_assert_ptr_nonnull(da);
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_eq(la, lb);
	ck_assert_msg(memcmp(da, db, la) == 0, "the two files differ");
	free(da);
	free(db);
	free(a);
	free(b);
	rm_doc_free(d);
}
END_TEST

/* Every part is deflated at zlib's fastest level (xlsx_zip.h): the zip's
 * general-purpose flags say so (bits 1-2 both set: "super fast", which
 * minizip writes for level 1; 0 for the default level 6). */
START_TEST(parts_deflated_at_fastest_level)
{
	struct rm_doc *d = typed_doc();
	char *path = tu_fmt("%s/z.xlsx", tmp);
	struct err e = {0};
	struct tu_out o;
	char name[256];
	int method, flags, parts = 0, n;
	const char *p;

	ck_assert_msg(xlsx_write(d, path, &e) == 0, "%s", e.msg);
	o = tu_run("python3 -c 'import sys, zipfile\n"
		   "for i in zipfile.ZipFile(sys.argv[1]).infolist():"
		   " print(i.filename, i.compress_type, i.flag_bits)' '%s'", path);
	ck_assert_msg(o.status == 0, "reading the zip failed: %s", o.err);
	for (p = o.out; sscanf(p, "%255s %d %d%n", name, &method, &flags, &n) == 3; p += n) {
		ck_assert_msg(method == 8, "%s: method %d, not deflate", name, method);
		ck_assert_msg((flags & 6) == 6, "%s: flags %#x, not level 1", name, flags);
		parts++;
	}
	ck_assert_int_ge(parts, 8);  /* content types, rels, workbook, sheets, styles, ... */
	tu_out_free(&o);
	free(path);
	rm_doc_free(d);
}
END_TEST

/* A streamed table of n rows: "row i", i, and an error at row fail_at;
 * with holes, every seventh row from the fourth is empty. */
struct counter {
	long n, i, fail_at;
	int rewinds;
	int holes;
	int rewind_fails;
	char buf[32];
};

static int counter_next(void *ctx, struct rm_cell *cells)
{
	struct counter *c = ctx;

	if (c->i == c->fail_at)
		return -1;
	if (c->i >= c->n)
		return 0;
	snprintf(c->buf, sizeof(c->buf), "row %ld", c->i);
	if (c->holes && c->i % 7 == 3) {
		cells[1].is_null = 1;
	} else {
		cells[0].text = c->buf;
		cells[1].num = (double)c->i;
	}
	c->i++;
	return 1;
}

static int counter_rewind(void *ctx)
{
	struct counter *c = ctx;

	c->i = 0;
	c->rewinds++;
	return c->rewind_fails ? -1 : 0;
}

static struct rm_doc *stream_doc(struct counter *c)
{
	static const char *const titles[] = {"行", "序号"};
	static const enum rm_type types[] = {RM_TEXT, RM_INT};
	struct rm_doc *d = rm_doc_new("明细");
	struct rm_section *s = rm_section(d, "问题明细", NULL);
	struct rm_table *t = rm_table(s, "问题", 2, titles, types);

	ck_assert_ptr_nonnull(t);
	rm_doc_set(d, "CA", "ca-audit", "test", "2025-01-01");
	rm_table_stream(t, counter_next, counter_rewind, c);
	rm_table_detail(t, "明细");
	return d;
}

/* Reads rows from..to-1 of a counter stream with holes from it. */
static void check_rows_ahead(struct rm_iter *it, long from, long to)
{
	struct rm_cell cells[2];
	char want[32];

	for (long i = from; i < to; i++) {
		ck_assert_int_eq(rm_iter_next(it, cells), 1);
		snprintf(want, sizeof(want), "row %ld", i);
		if (i % 7 == 3) {
			ck_assert_ptr_null(cells[0].text);
			ck_assert_int_eq(cells[1].is_null, 1);
		} else {
			ck_assert_str_eq(cells[0].text, want);
			ck_assert(cells[1].num == (double)i && !cells[1].is_null);
		}
	}
}

/* Rows read ahead on another thread come in order, with their empty
 * cells, across batch boundaries, from a rewound stream. */
START_TEST(read_ahead_gives_every_row_in_order)
{
	static const long sizes[] = {0, 1, 511, 512, 513, 1024, 2500};

	for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
		struct counter c = {.n = sizes[k], .fail_at = -1, .holes = 1};
		struct rm_doc *d = stream_doc(&c);
		struct rm_table *t = d->sections[0].blocks[0].table;
		struct rm_cell cells[2];
		struct rm_iter it;

		c.i = 17;
		rm_iter_start_ahead(&it, t);
		check_rows_ahead(&it, 0, sizes[k]);
		ck_assert_int_eq(rm_iter_next(&it, cells), 0);
		ck_assert_int_eq(rm_iter_next(&it, cells), 0);
		rm_iter_end(&it);
		rm_iter_end(&it);
		ck_assert_int_eq(c.rewinds, 1);
		rm_doc_free(d);
	}
}
END_TEST

/* A source's error comes after the rows before it; a failed rewind is an
 * error at once; a reader left early stops within its two batches. */
START_TEST(read_ahead_errors_and_early_end)
{
	struct counter c = {.n = 2000, .fail_at = 700, .holes = 1};
	struct rm_doc *d = stream_doc(&c);
	struct rm_table *t = d->sections[0].blocks[0].table;
	struct rm_cell cells[2];
	struct rm_iter it;

	rm_iter_start_ahead(&it, t);
	check_rows_ahead(&it, 0, 700);
	ck_assert_int_eq(rm_iter_next(&it, cells), -1);
	ck_assert_int_eq(rm_iter_next(&it, cells), -1);
	rm_iter_end(&it);

	c.fail_at = -1;
	c.rewind_fails = 1;
	rm_iter_start_ahead(&it, t);
	ck_assert_int_eq(rm_iter_next(&it, cells), -1);
	rm_iter_end(&it);

	c.rewind_fails = 0;
	c.n = 1000000;
	rm_iter_start_ahead(&it, t);
	check_rows_ahead(&it, 0, 10);
	rm_iter_end(&it);
	ck_assert_int_le(c.i, 3 * 512);
	ck_assert_int_gt(c.i, 10);
	rm_doc_free(d);
}
END_TEST

/* A stored table read "ahead" is read as it is. */
START_TEST(read_ahead_of_stored_rows)
{
	static const char *const titles[] = {"a", "b"};
	struct rm_doc *d = rm_doc_new("t");
	struct rm_section *s = rm_section(d, "s", NULL);
	struct rm_table *t = rm_table(s, "t", 2, titles, NULL);
	struct rm_cell cells[2];
	struct rm_iter it;

	ck_assert(rm_row(t) == 0 && rm_set_text(t, 0, "x") == 0 && rm_set_num(t, 1, 2) == 0);
	ck_assert(rm_row(t) == 0 && rm_set_text(t, 1, "y") == 0);
	rm_iter_start_ahead(&it, t);
	ck_assert_int_eq(rm_iter_next(&it, cells), 1);
	ck_assert_str_eq(cells[0].text, "x");
	ck_assert(cells[1].num == 2);
	ck_assert_int_eq(rm_iter_next(&it, cells), 1);
	ck_assert_ptr_null(cells[0].text);
	ck_assert_str_eq(cells[1].text, "y");
	ck_assert_int_eq(rm_iter_next(&it, cells), 0);
	rm_iter_end(&it);
	rm_doc_free(d);
}
END_TEST

START_TEST(long_table_continues_on_next_sheet)
{
	struct counter c = {.n = 250, .fail_at = -1};
	struct rm_doc *d = stream_doc(&c);
	char *path = tu_fmt("%s/long.xlsx", tmp);
	struct err e = {0};
	json_t *wb, *s1, *s2, *s3;

	/* 100 rows a sheet: a header and 99 data rows */
	xlsx_set_row_limit(100);
	c.i = 17; /* a stream left part-read is rewound before writing */
	ck_assert_msg(xlsx_write(d, path, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(c.rewinds, 1);
	wb = dump(path);
	ck_assert_int_eq(json_array_size(json_object_get(wb, "sheets")), 4);
	s1 = sheet(wb, "明细");
	s2 = sheet(wb, "明细 (2)");
	s3 = sheet(wb, "明细 (3)");
	ck_assert_int_eq(sheet_int(s1, "max_row"), 100);
	ck_assert_int_eq(sheet_int(s2, "max_row"), 100);
	ck_assert_int_eq(sheet_int(s3, "max_row"), 250 - 2 * 99 + 1);
	ck_assert_str_eq(cell_str(s1, 1, 0), "row 0");
	ck_assert_str_eq(cell_str(s2, 0, 0), "行");
	ck_assert_str_eq(cell_str(s2, 0, 1), "序号");
	ck_assert_str_eq(cell_str(s2, 1, 0), "row 99");
	ck_assert(cell_num(s2, 1, 1) == 99);
	ck_assert_str_eq(cell_str(s3, 52, 0), "row 249");
	ck_assert_str_eq(sheet_str(s2, "freeze"), "A2");
	ck_assert_str_eq(sheet_str(s2, "autofilter"), "A1:B100");
	ck_assert_str_eq(sheet_str(s3, "autofilter"), "A1:B53");
	json_decref(wb);
	rm_doc_free(d);
	free(path);
}
END_TEST

START_TEST(sheet_names_are_valid_and_unique)
{
	static const char *const titles[] = {"a"};
	struct rm_doc *d = rm_doc_new("names");
	const char *srcs[] = {"A/B:C", "a[b]c*?", "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三",
			      "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三", "概要"};
	char *path = tu_fmt("%s/names.xlsx", tmp);
	struct err e = {0};
	json_t *wb, *sheets;

	for (size_t i = 0; i < 5; i++) {
		struct rm_section *s = rm_section(d, srcs[i], NULL);
		struct rm_table *t = rm_table(s, NULL, 1, titles, NULL);

		ck_assert_ptr_nonnull(t);
		ck_assert_int_eq(rm_row(t), 0);
		ck_assert_int_eq(rm_set_text(t, 0, srcs[i]), 0);
	}
	ck_assert_msg(xlsx_write(d, path, &e) == 0, "%s", e.msg);
	wb = dump(path);
	sheets = json_object_get(wb, "sheets");
	ck_assert_int_eq(json_array_size(sheets), 6);
	ck_assert_str_eq(sheet_str(json_array_get(sheets, 0), "name"), "概要");
	ck_assert_str_eq(sheet_str(json_array_get(sheets, 1), "name"), "ABC");
	ck_assert_str_eq(sheet_str(json_array_get(sheets, 2), "name"), "abc (2)");
	ck_assert_str_eq(sheet_str(json_array_get(sheets, 3), "name"),
			 "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一");
	ck_assert_str_eq(sheet_str(json_array_get(sheets, 4), "name"),
			 "一二三四五六七八九十一二三四五六七八九十一二三四五六七 (2)");
	ck_assert_str_eq(sheet_str(json_array_get(sheets, 5), "name"), "概要 (2)");
	ck_assert_str_eq(cell_str(json_array_get(sheets, 2), 1, 0), "a[b]c*?");
	json_decref(wb);
	rm_doc_free(d);
	free(path);
}
END_TEST

/* Names in dir other than . and .., joined by spaces. */
static char *listing(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char *out = strdup(""), *next;

	ck_assert_ptr_nonnull(dh);
	while ((de = readdir(dh))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		next = tu_fmt("%s%s ", out, de->d_name);
		free(out);
		out = next;
	}
	closedir(dh);
	return out;
}

START_TEST(unwritable_target_names_path_and_leaves_nothing)
{
	struct rm_doc *d = typed_doc();
	char *missing = tu_fmt("%s/no-such-dir/r.xlsx", tmp);
	char *dir = tu_fmt("%s/out", tmp), *target = tu_fmt("%s/out/r.xlsx", tmp);
	char *names;
	struct err e = {0};

	ck_assert_int_eq(xlsx_write(d, missing, &e), -1);
	ck_assert_msg(strstr(e.msg, "no-such-dir"), "%s", e.msg);
	ck_assert_int_eq(e.kind, CA_EIO);

	/* the target is a directory: the rename fails after the temp file is
	 * complete, and the temp file must go */
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(mkdir(target, 0755), 0);
	err_clear(&e);
	ck_assert_int_eq(xlsx_write(d, target, &e), -1);
	ck_assert_msg(strstr(e.msg, target), "%s", e.msg);
	names = listing(dir);
	ck_assert_str_eq(names, "r.xlsx ");
	free(names);

	if (geteuid() != 0) {
		char *ro = tu_fmt("%s/ro", tmp), *in_ro = tu_fmt("%s/ro/r.xlsx", tmp);

		ck_assert_int_eq(mkdir(ro, 0555), 0);
		err_clear(&e);
		ck_assert_int_eq(xlsx_write(d, in_ro, &e), -1);
		ck_assert_msg(strstr(e.msg, ro), "%s", e.msg);
		free(ro);
		free(in_ro);
	}
	rm_doc_free(d);
	free(missing);
	free(dir);
	free(target);
}
END_TEST

START_TEST(stream_error_fails_and_leaves_nothing)
{
	struct counter c = {.n = 50, .fail_at = 20};
	struct rm_doc *d = stream_doc(&c);
	char *dir = tu_fmt("%s/err", tmp), *path = tu_fmt("%s/err/r.xlsx", tmp), *names;
	struct err e = {0};

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(xlsx_write(d, path, &e), -1);
	ck_assert_msg(strstr(e.msg, "unable to read the rows of table '问题'"), "%s", e.msg);
	names = listing(dir);
	ck_assert_str_eq(names, "");
	free(names);
	free(dir);
	free(path);
	rm_doc_free(d);
}
END_TEST

START_TEST(text_width_counts_cjk_double)
{
	ck_assert_int_eq(xlsx_text_width("abc"), 3);
	ck_assert_int_eq(xlsx_text_width("自查报告"), 8);
	ck_assert_int_eq(xlsx_text_width("ＡＢ"), 4);
	ck_assert_int_eq(xlsx_text_width("ab\n自查"), 4);
	ck_assert_int_eq(xlsx_text_width(""), 0);
	ck_assert_int_eq(xlsx_text_width(NULL), 0);
	/* the widest line, wherever it is; ASCII and CJK mixed */
	ck_assert_int_eq(xlsx_text_width("自查报告\nab"), 8);
	ck_assert_int_eq(xlsx_text_width("a\n\nabc\nab"), 3);
	ck_assert_int_eq(xlsx_text_width("serial=01; cn=张*"), 17);
	/* a stray byte counts one; a character outside the wide ranges one */
	ck_assert_int_eq(xlsx_text_width("\xff"), 1);
	ck_assert_int_eq(xlsx_text_width("é😀"), 2);
}
END_TEST

/* Which texts in an RM_DATE column become date cells: the plain forms, with
 * a time after a space or a 'T'; anything else stays text. */
START_TEST(dates_parse_only_in_their_forms)
{
	static const char *const dates[] = {"2024-02-29", "2024-02-29 13:45:10",
					    "2024-02-29T00:00:60"};
	static const char *const texts[] = {"2024-2-29", "2024-02-29 13:45", "2024-02-29 24:00:00",
					    "2024-02-29 13:60:00", "2024-02-29x", "1899-12-31",
					    "2024-13-01", "2024-00-10", "2024-01-32", " 2024-02-29",
					    "2024-02-29 13:45:10 ", "2024/02/29", ""};
	static const char *const title[] = {"日期"};
	static const enum rm_type type[] = {RM_DATE};
	struct rm_doc *d = rm_doc_new("日期");
	char *path = tu_fmt("%s/dates.xlsx", tmp);
	struct err e = {0};
	struct rm_section *s;
	struct rm_table *t;
	json_t *wb, *sh;
	size_t i, n = sizeof(dates) / sizeof(*dates);

	s = rm_section(d, "日期", NULL);
	t = rm_table(s, "日期", 1, title, type);
	for (i = 0; i < n; i++)
		ck_assert(rm_row(t) == 0 && rm_set_text(t, 0, dates[i]) == 0);
	for (i = 0; i < sizeof(texts) / sizeof(*texts); i++)
		ck_assert(rm_row(t) == 0 && rm_set_text(t, 0, texts[i]) == 0);
	ck_assert_msg(xlsx_write(d, path, &e) == 0, "%s", e.msg);
	wb = dump(path);
	sh = sheet(wb, "日期");
	ck_assert_str_eq(cell_type(sh, 1, 0), "d");
	ck_assert_str_eq(cell_str(sh, 1, 0), "2024-02-29T00:00:00");
	ck_assert_str_eq(json_string_value(json_array_get(cell(sh, 1, 0), 2)), "yyyy-mm-dd");
	ck_assert_str_eq(cell_str(sh, 2, 0), "2024-02-29T13:45:10");
	ck_assert_str_eq(json_string_value(json_array_get(cell(sh, 2, 0), 2)),
			 "yyyy-mm-dd hh:mm:ss");
	ck_assert_str_eq(cell_type(sh, 3, 0), "d");
	for (i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		ck_assert_msg(!strcmp(cell_type(sh, n + 1 + i, 0), *texts[i] ? "s" : ""),
			      "'%s' was read as a date", texts[i]);
		ck_assert_str_eq(cell_str(sh, n + 1 + i, 0), texts[i]);
	}
	json_decref(wb);
	rm_doc_free(d);
	free(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xlsx");
	TCase *tc = tcase_create("xlsx");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, types_read_back);
	tcase_add_test(tc, same_document_same_bytes);
	tcase_add_test(tc, parts_deflated_at_fastest_level);
	tcase_add_test(tc, long_table_continues_on_next_sheet);
	tcase_add_test(tc, sheet_names_are_valid_and_unique);
	tcase_add_test(tc, unwritable_target_names_path_and_leaves_nothing);
	tcase_add_test(tc, stream_error_fails_and_leaves_nothing);
	tcase_add_test(tc, text_width_counts_cjk_double);
	tcase_add_test(tc, dates_parse_only_in_their_forms);
	tcase_add_test(tc, read_ahead_gives_every_row_in_order);
	tcase_add_test(tc, read_ahead_errors_and_early_end);
	tcase_add_test(tc, read_ahead_of_stored_rows);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
