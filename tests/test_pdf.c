/*
 * test_pdf.c — the PDF writer on a document with every kind of block, read
 * back with poppler's tools as a reader would: the text on each page
 * (pdftotext), the page count and properties (pdfinfo), the embedded fonts
 * (pdffonts) and the bookmarks (pdftohtml -xml). Also the byte-identical
 * rewrite, the row limit on streamed tables, and the errors a user can meet:
 * a directory that cannot be written and a missing font.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pdf.h"
#include "testutil.h"

/* Under LeakSanitizer (make check-sanitize): fontconfig keeps the patterns
 * it matched in caches it never frees, and cairo 1.16 drops a buffer when a
 * PDF surface with an outline finishes. Neither is ours to free. The price:
 * a cairo object the writer forgot would hide too (pango and glib objects
 * still show), so pdf.c destroys each next to where it is made. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\nleak:libcairo.so\n";
}

#define LONG_CELL "本证书因私钥泄露于二〇二四年三月被撤销，撤销原因已通知订户并在证书撤销列表中发布，" \
	"相关记录保存于注册机构的档案系统 RA-ARCHIVE-0042 中备查"

/* A streamed detail table: rows made on demand, counting rewinds. */
struct stream {
	int i, n;
	int rewinds;
	char serial[32], name[64];
};

static int stream_next(void *ctx, struct rm_cell *cells)
{
	struct stream *s = ctx;

	if (s->i >= s->n)
		return 0;
	s->i++;
	snprintf(s->serial, sizeof s->serial, "SN-STREAM-%05d", s->i);
	snprintf(s->name, sizeof s->name, "流式明细第%d行", s->i);
	cells[0].text = s->serial;
	cells[1].text = s->name;
	cells[2].num = s->i * 1000;
	return 1;
}

static int stream_rewind(void *ctx)
{
	struct stream *s = ctx;

	s->i = 0;
	s->rewinds++;
	return 0;
}

static int stream_fail(void *ctx, struct rm_cell *cells)
{
	(void)ctx;
	(void)cells;
	return -1;
}

static const char *sector[] = {"金融", "政务", "医疗卫生", "教育", "Transport"};

static struct rm_doc *make_doc(struct stream *st)
{
	static const char *titles[] = {"序号", "证书序列号", "主体名称", "签发日期", "有效证书数", "占比"};
	static const enum rm_type types[] = {RM_INT, RM_TEXT, RM_TEXT, RM_DATE, RM_INT, RM_PERCENT};
	static const char *stitles[] = {"序列号", "名称", "金额"};
	static const enum rm_type stypes[] = {RM_TEXT, RM_TEXT, RM_INT};
	struct rm_doc *d = rm_doc_new("自查报告");
	struct rm_section *s;
	struct rm_table *t;
	char buf[512];
	int i;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(rm_doc_set(d, "示例电子认证服务有限公司", "合规部 张三",
				    "电子认证服务自查", "2024-03-31"), 0);
	ck_assert_int_eq(rm_doc_meta(d, "认证机构", "示例电子认证服务有限公司"), 0);
	ck_assert_int_eq(rm_doc_meta(d, "检查期间", "2023-01-01 至 2023-12-31"), 0);
	ck_assert_int_eq(rm_doc_meta(d, "工具版本", "ca-audit " CA_AUDIT_VERSION), 0);

	s = rm_section(d, "一、检查概况", NULL);
	ck_assert_int_eq(rm_para(s, "本次自查依据《电子认证服务管理办法》第三十二条，"
				 "对证书签发、撤销及 CRL 发布情况逐项检查，并记录每一项检查的依据和方法。"), 0);
	ck_assert_int_eq(rm_kv(s, "检查项目数", "12"), 0);
	ck_assert_int_eq(rm_kv(s, "不符合项", "2（证书撤销时限、日志保存期限）"), 0);

	s = rm_section(d, "二、证书明细", NULL);
	t = rm_table(s, "表 1 有效证书", 6, titles, types);
	ck_assert_ptr_nonnull(t);
	for (i = 1; i <= 200; i++) {
		ck_assert_int_eq(rm_row(t), 0);
		rm_set_num(t, 0, i);
		snprintf(buf, sizeof buf, "3A5F%08X", (unsigned)i * 7919u);
		rm_set_text(t, 1, buf);
		if (i == 7)
			snprintf(buf, sizeof buf, "%s", LONG_CELL);
		else
			snprintf(buf, sizeof buf, "%s客户%03d Co., Ltd.", sector[i % 5], i);
		rm_set_text(t, 2, buf);
		snprintf(buf, sizeof buf, "2023-%02d-%02d", i % 12 + 1, i % 28 + 1);
		rm_set_text(t, 3, buf);
		rm_set_num(t, 4, i == 3 ? 1234567 : i * 11);
		rm_set_num(t, 5, i == 3 ? 0.25 : i / 1000.0);
	}
	t = rm_table(s, "表 2 流式明细", 3, stitles, stypes);
	rm_table_stream(t, stream_next, stream_rewind, st);
	rm_table_detail(t, "明细");
	return d;
}

/* Writes the standard document into dir and returns the PDF's path. */
static char *write_doc(const char *dir, const char *name, struct stream *st,
		       const struct pdf_options *opt)
{
	struct rm_doc *d = make_doc(st);
	char *path = tu_fmt("%s/%s", dir, name);
	struct err e = {0};

	ck_assert_msg(pdf_write_opts(d, path, opt, &e) == 0, "%s", e.msg);
	rm_doc_free(d);
	return path;
}

static int pdf_pages(const char *path)
{
	struct tu_out o = tu_run("pdfinfo '%s'", path);
	const char *p;
	int n = -1;

	ck_assert_int_eq(o.status, 0);
	p = strstr(o.out, "\nPages:");
	ck_assert_ptr_nonnull(p);
	n = atoi(p + 7);
	tu_out_free(&o);
	return n;
}

static char *pdf_text(const char *path, int first, int last)
{
	struct tu_out o = tu_run("pdftotext -layout -f %d -l %d '%s' -", first, last, path);
	char *text;

	ck_assert_msg(o.status == 0, "%s", o.err);
	text = o.out;
	o.out = NULL;
	tu_out_free(&o);
	return text;
}

/* Whether pdfinfo's output has the field name with a value starting with value. */
static int info_has(const char *out, const char *name, const char *value)
{
	size_t n = strlen(name);
	const char *p;

	for (p = out; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, name, n) && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " ");
			return !strncmp(p, value, strlen(value));
		}
	}
	return 0;
}

START_TEST(test_text)
{
	struct stream st = {0, 40, 0, "", ""};
	char *dir = tu_tmpdir("pdf"), *path = write_doc(dir, "r.pdf", &st, NULL);
	int n = pdf_pages(path), i;
	char *all = pdf_text(path, 1, n), *p2 = pdf_text(path, 2, 2), *want;

	ck_assert_int_gt(n, 4);
	ck_assert_ptr_nonnull(strstr(all, "自查报告"));
	ck_assert_ptr_nonnull(strstr(all, "一、检查概况"));
	ck_assert_ptr_nonnull(strstr(all, "二、证书明细"));
	ck_assert_ptr_nonnull(strstr(all, "《电子认证服务管理办法》"));
	ck_assert_ptr_nonnull(strstr(all, "示例电子认证服务有限公司"));
	ck_assert_ptr_nonnull(strstr(all, "医疗卫生客户197"));
	ck_assert_ptr_nonnull(strstr(all, "1,234,567"));
	ck_assert_ptr_nonnull(strstr(all, "25.0%"));
	ck_assert_ptr_nonnull(strstr(all, "2023-06-06"));
	ck_assert_ptr_nonnull(strstr(all, "SN-STREAM-00040"));
	ck_assert_ptr_nonnull(strstr(all, "40,000"));
	ck_assert_ptr_null(strstr(all, "行未列出"));
	/* the long cell wraps inside its column: its start and end are there,
	 * never on one line */
	ck_assert_ptr_nonnull(strstr(all, "本证书因私钥泄露"));
	ck_assert_ptr_nonnull(strstr(all, "RA-ARCHIVE-0042"));
	ck_assert_int_eq(tu_count_lines(all, "本证书因私钥泄露于二〇二四年三月被撤销，撤销原因已通知订户"), 0);
	for (i = 1; i <= n; i++) {
		want = tu_fmt("第 %d 页 共 %d 页", i, n);
		ck_assert_msg(tu_count_lines(all, want) == 1, "missing '%s'", want);
		free(want);
	}
	/* page 2 is inside the 200-row table: its header row repeats there,
	 * with the running header */
	ck_assert_ptr_nonnull(strstr(p2, "证书序列号"));
	ck_assert_ptr_nonnull(strstr(p2, "有效证书数"));
	ck_assert_ptr_nonnull(strstr(p2, "示例电子认证服务有限公司"));
	ck_assert_ptr_null(strstr(p2, "一、检查概况"));
	free(all);
	free(p2);
	free(path);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_fonts_and_info)
{
	struct stream st = {0, 5, 0, "", ""};
	char *dir = tu_tmpdir("pdf"), *path = write_doc(dir, "r.pdf", &st, NULL);
	struct tu_out o = tu_run("pdffonts '%s'", path);
	char *line, *save = NULL;
	int noto = 0;

	ck_assert_int_eq(o.status, 0);
	for (line = strtok_r(o.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[32];
		int n = 0;
		char *t, *s2 = NULL;

		if (!strstr(line, "NotoSansCJK"))
			continue;
		for (t = strtok_r(line, " ", &s2); t && n < 32; t = strtok_r(NULL, " ", &s2))
			tok[n++] = t;
		/* name type... encoding emb sub uni object-id generation */
		ck_assert_int_ge(n, 6);
		ck_assert_str_eq(tok[n - 5], "yes");
		noto++;
	}
	ck_assert_int_ge(noto, 1);
	tu_out_free(&o);

	o = tu_run("pdfinfo -isodates '%s'", path);
	ck_assert_int_eq(o.status, 0);
	ck_assert(info_has(o.out, "Title", "自查报告"));
	ck_assert(info_has(o.out, "Author", "合规部 张三"));
	ck_assert(info_has(o.out, "Subject", "电子认证服务自查"));
	ck_assert(info_has(o.out, "Creator", "ca-audit " CA_AUDIT_VERSION));
	ck_assert(info_has(o.out, "CreationDate", "2024-03-31T00:00:00+08"));
	ck_assert(info_has(o.out, "ModDate", "2024-03-31T00:00:00+08"));
	ck_assert(info_has(o.out, "Page size", "595.28 x 841.89 pts (A4)"));
	tu_out_free(&o);

	/* one bookmark per section, in order */
	o = tu_run("pdftohtml -xml -i -stdout '%s' | grep -o '<item page=\"[0-9]*\">[^<]*'", path);
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "<item page=\"1\">一、检查概况\n"));
	ck_assert_ptr_nonnull(strstr(o.out, "二、证书明细"));
	ck_assert_int_eq(tu_count_lines(o.out, "<item"), 2);
	tu_out_free(&o);
	free(path);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_identical)
{
	struct stream st = {0, 30, 0, "", ""};
	char *dir = tu_tmpdir("pdf");
	char *a = write_doc(dir, "a.pdf", &st, NULL), *b;
	struct tu_out o;

	/* each write rewinds the stream before both of its passes */
	ck_assert_int_ge(st.rewinds, 2);
	sleep(1); /* a clock-derived date would now differ */
	b = write_doc(dir, "b.pdf", &st, NULL);
	o = tu_run("cmp '%s' '%s'", a, b);
	ck_assert_msg(o.status == 0, "%s", o.out);
	tu_out_free(&o);
	/* and no temporary file is left beside them */
	o = tu_run("ls -A '%s'", dir);
	ck_assert_str_eq(o.out, "a.pdf\nb.pdf\n");
	tu_out_free(&o);
	free(a);
	free(b);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_row_limit)
{
	struct stream st = {0, 60, 0, "", ""};
	struct pdf_options opt = {NULL, 50};
	char *dir = tu_tmpdir("pdf"), *path = write_doc(dir, "r.pdf", &st, &opt);
	char *all = pdf_text(path, 1, pdf_pages(path));

	ck_assert_ptr_nonnull(strstr(all, "SN-STREAM-00050"));
	ck_assert_ptr_null(strstr(all, "SN-STREAM-00051"));
	ck_assert_ptr_nonnull(strstr(all, "另有 10 行未列出"));
	/* the stored table is capped too */
	ck_assert_ptr_nonnull(strstr(all, "另有 150 行未列出"));
	ck_assert_ptr_null(strstr(all, "医疗卫生客户197"));
	free(all);
	free(path);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_empty_table)
{
	static const char *titles[] = {"检查项", "结果"};
	static const enum rm_type types[] = {RM_TEXT, RM_TEXT};
	struct rm_doc *d = rm_doc_new("整改方案");
	char *dir = tu_tmpdir("pdf"), *path = tu_fmt("%s/e.pdf", dir), *all;
	struct err e = {0};

	rm_table(rm_section(d, "不符合项", NULL), NULL, 2, titles, types);
	ck_assert_msg(pdf_write(d, path, &e) == 0, "%s", e.msg);
	all = pdf_text(path, 1, 1);
	ck_assert_ptr_nonnull(strstr(all, "检查项"));
	ck_assert_ptr_nonnull(strstr(all, "（无记录）"));
	ck_assert_ptr_nonnull(strstr(all, "第 1 页 共 1 页"));
	free(all);
	rm_doc_free(d);
	free(path);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* A row taller than a quarter page that meets the foot of a page splits
 * between lines: nothing is lost or repeated, the header repeats above the
 * rest. */
START_TEST(test_tall_row)
{
	static const char *titles[] = {"项目", "情况说明"};
	static const enum rm_type types[] = {RM_TEXT, RM_TEXT};
	struct rm_doc *d = rm_doc_new("整改方案");
	struct rm_section *s = rm_section(d, "整改措施", NULL);
	char *dir = tu_tmpdir("pdf"), *path = tu_fmt("%s/t.pdf", dir), *all, *p1, *p2;
	char text[8192] = "", sent[64];
	struct rm_table *t;
	struct err e = {0};
	int i;

	for (i = 0; i < 15; i++)
		rm_para(s, "本页先由段落占去大半，使表格从页面下部开始。");
	t = rm_table(s, NULL, 2, titles, types);
	rm_row(t);
	rm_set_text(t, 0, "日志保存");
	for (i = 1; i <= 40; i++) {
		snprintf(sent, sizeof sent, "第%02d句：已补齐审计日志。\n", i);
		strcat(text, sent);
	}
	rm_set_text(t, 1, text);
	ck_assert_msg(pdf_write(d, path, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(pdf_pages(path), 2);
	all = pdf_text(path, 1, 2);
	p1 = pdf_text(path, 1, 1);
	p2 = pdf_text(path, 2, 2);
	for (i = 1; i <= 40; i++) {
		snprintf(sent, sizeof sent, "第%02d句", i);
		ck_assert_msg(tu_count_lines(all, sent) == 1, "%s", sent);
	}
	ck_assert_ptr_nonnull(strstr(p1, "第01句"));
	ck_assert_ptr_nonnull(strstr(p2, "第40句"));
	ck_assert_ptr_nonnull(strstr(p2, "情况说明"));
	free(all);
	free(p1);
	free(p2);
	rm_doc_free(d);
	free(path);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_unwritable)
{
	struct rm_doc *d = rm_doc_new("自查报告");
	char *dir = tu_tmpdir("pdf"), *file = tu_write_in(dir, "plain", "x");
	char *path = tu_fmt("%s/missing/r.pdf", dir), *path2 = tu_fmt("%s/r.pdf", file);
	struct err e = {0};
	struct tu_out o;

	ck_assert_int_eq(pdf_write(d, path, &e), -1);
	ck_assert_int_eq(e.kind, CA_EIO);
	ck_assert_msg(strstr(e.msg, "unable to create") && strstr(e.msg, "missing"), "%s", e.msg);
	err_clear(&e);
	ck_assert_int_eq(pdf_write(d, path2, &e), -1);
	ck_assert_msg(strstr(e.msg, "plain"), "%s", e.msg);
	ck_assert_int_eq(access(path2, F_OK), -1);
	o = tu_run("ls -A '%s'", dir);
	ck_assert_str_eq(o.out, "plain\n");
	tu_out_free(&o);
	rm_doc_free(d);
	free(file);
	free(path);
	free(path2);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_failing_stream)
{
	static const char *titles[] = {"序列号"};
	static const enum rm_type types[] = {RM_TEXT};
	struct rm_doc *d = rm_doc_new("自查报告");
	char *dir = tu_tmpdir("pdf"), *path = tu_fmt("%s/r.pdf", dir);
	struct rm_table *t = rm_table(rm_section(d, "明细", NULL), "吊销明细", 1, titles, types);
	struct err e = {0};
	struct tu_out o;

	rm_table_stream(t, stream_fail, NULL, NULL);
	ck_assert_int_eq(pdf_write(d, path, &e), -1);
	ck_assert_str_eq(e.msg, "unable to read the rows of table '吊销明细'");
	o = tu_run("ls -A '%s'", dir);
	ck_assert_str_eq(o.out, "");
	tu_out_free(&o);
	rm_doc_free(d);
	free(path);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_missing_font)
{
	struct rm_doc *d = rm_doc_new("自查报告");
	struct pdf_options opt = {"No Such Font Family", 0};
	char *dir = tu_tmpdir("pdf"), *path = tu_fmt("%s/r.pdf", dir);
	struct err e = {0};

	ck_assert_int_eq(pdf_write_opts(d, path, &opt, &e), -1);
	ck_assert_str_eq(e.msg, "font 'No Such Font Family' is not installed (install fonts-noto-cjk)");
	ck_assert_int_eq(access(path, F_OK), -1);
	rm_doc_free(d);
	free(path);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_format_num)
{
	static const struct {
		enum rm_type type;
		double v;
		const char *want;
	} cases[] = {
		{RM_INT, 0, "0"},
		{RM_INT, 999, "999"},
		{RM_INT, 1000, "1,000"},
		{RM_INT, 1234567, "1,234,567"},
		{RM_INT, -1234, "-1,234"},
		{RM_INT, -100, "-100"},
		{RM_PERCENT, 0.25, "25.0%"},
		{RM_PERCENT, 1, "100.0%"},
		{RM_PERCENT, 0.12345, "12.3%"},
		{RM_PERCENT, -0.0001, "0.0%"},
	};
	char buf[40];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pdf_format_num(cases[i].type, cases[i].v, buf, sizeof buf);
		ck_assert_str_eq(buf, cases[i].want);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pdf");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_fonts_and_info);
	tcase_add_test(tc, test_identical);
	tcase_add_test(tc, test_row_limit);
	tcase_add_test(tc, test_empty_table);
	tcase_add_test(tc, test_tall_row);
	tcase_add_test(tc, test_unwritable);
	tcase_add_test(tc, test_failing_stream);
	tcase_add_test(tc, test_missing_font);
	tcase_add_test(tc, test_format_num);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
