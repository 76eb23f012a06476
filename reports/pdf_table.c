/*
 * pdf_table.c — tables in the PDF writer: column widths from the content,
 * cells wrapped inside their column, a bold shaded header row repeated at
 * the top of every page the table crosses, numbers right-aligned and
 * formatted, and a cap on the rows shown (the XLSX holds them all).
 *
 * Rows are pulled one at a time through rm_iter, for streamed detail tables
 * as much as stored ones; only one row's cells and layouts are alive at once.
 *
 * Wide tables: the page stays A4 portrait and the text shrinks (9 pt down to
 * 7 pt) and wraps inside cells. Turning single pages to landscape would make
 * the running header, footer and binding edge jump around in a printed
 * report, and the report tables are at most a dozen columns, which fit a
 * portrait page at 7-9 pt once long text wraps.
 */
#include "pdf_int.h"
#include "pdf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column widths are measured at this size; the table may be set smaller. */
#define PDF_BASE_SIZE 9.0
/* A unit is the width of a Latin character (a CJK character is two), as
 * in rm_column.width: about half an em in Noto Sans CJK. */
#define PDF_UNIT_EM 0.55
/* No column starts wider than this many units; longer texts wrap. */
#define PDF_UNITS_MAX 44.0
/* Below this many units a text column is too narrow to read; the font
 * shrinks before columns get narrower than this. */
#define PDF_UNITS_MIN 12.0
#define PDF_NUM_LEN 40
/* Rows taller than this split across pages when at least
 * PDF_SPLIT_ROOM is free; shorter rows move whole to the next page. */
#define PDF_SPLIT_H ((PDF_BODY_BOTTOM - PDF_BODY_TOP) / 4)
#define PDF_SPLIT_ROOM(pt) ((pt)->size * 6 + 2 * PDF_CELL_PAD)

struct pdf_table {
	struct rm_table *t;      /* borrowed */
	double size;             /* font size of the whole table */
	double *w;               /* owned: column widths in points */
	PangoLayout **hl;        /* owned: the header cells */
	PangoLayout **cl;        /* owned: body cells, reused row to row */
	double hh;               /* header row height */
	double max_h;            /* the most a cell may take before it is cut */
	double *ch;              /* owned: text height of each cell of the current row */
	double *cut;             /* owned: where each cell splits at a page break */
	struct rm_cell *cells;   /* owned: the current row */
	char *num;               /* owned: ncols formatted numbers */
};

static int pdf_numeric(enum rm_type type)
{
	return type == RM_INT || type == RM_PERCENT;
}

/* The text shown for column c of the current row. */
static const char *pdf_cell_text(struct pdf_table *pt, size_t c)
{
	const struct rm_cell *cell = &pt->cells[c];
	char *buf = pt->num + c * PDF_NUM_LEN;

	if (!pdf_numeric(pt->t->cols[c].type))
		return cell->is_null ? NULL : cell->text;
	if (cell->is_null)
		return NULL;
	pdf_format_num(pt->t->cols[c].type, cell->num, buf, PDF_NUM_LEN);
	return buf;
}

static int pdf_rows_failed(struct pdf *p, const struct rm_table *t)
{
	return err_set(p->e, CA_EIO, NULL, 0, 0, "unable to read the rows of table '%s'",
		       t->title ? t->title : t->sheet ? t->sheet : "");
}

/* Width of text set at PDF_BASE_SIZE, in points. */
static double pdf_measure(struct pdf *p, PangoLayout *l, const char *text, int bold)
{
	struct pdf_style st = {PDF_BASE_SIZE, bold, PANGO_ALIGN_LEFT, 0};
	int w;

	if (!text || !*text)
		return 0;
	pdf_set(p, l, text, &st, -1);
	pango_layout_get_size(l, &w, NULL);
	return (double)w / PANGO_SCALE;
}

/* Natural width of each column at PDF_BASE_SIZE, measured from the header
 * and the rows that will be shown (a builder's suggested width wins), then
 * held between the narrowest readable and the widest useful column. */
static int pdf_natural(struct pdf *p, struct pdf_table *pt, double *nat)
{
	struct rm_table *t = pt->t;
	PangoLayout *l = pango_layout_new(p->pc);
	double em = PDF_UNIT_EM * PDF_BASE_SIZE;
	struct rm_iter it;
	size_t c, n = 0;
	int r = 0;

	for (c = 0; c < t->ncols; c++)
		nat[c] = pdf_measure(p, l, t->cols[c].title, 1);
	rm_iter_start(&it, t);
	while (n < p->row_limit && (r = rm_iter_next(&it, pt->cells)) == 1) {
		for (c = 0; c < t->ncols; c++) {
			double w = pdf_measure(p, l, pdf_cell_text(pt, c), 0);

			if (w > nat[c])
				nat[c] = w;
		}
		n++;
	}
	g_object_unref(l);
	if (n < p->row_limit && r < 0)
		return pdf_rows_failed(p, t);
	for (c = 0; c < t->ncols; c++) {
		if (t->cols[c].width > 0)
			nat[c] = t->cols[c].width * em;
		if (nat[c] > PDF_UNITS_MAX * em)
			nat[c] = PDF_UNITS_MAX * em;
		if (nat[c] < 2 * em)
			nat[c] = 2 * em;
	}
	return 0;
}

/* A column of natural width nat (at PDF_BASE_SIZE) set at size: text
 * widths scale exactly with the size, since hinting is off. */
static double pdf_col_pt(double nat, double size)
{
	return nat * size / PDF_BASE_SIZE + 2 * PDF_CELL_PAD + 1;
}

/* Picks the font size, then shares the text width: columns narrower than
 * an equal share keep their natural width, the rest split what is left
 * in proportion to the square root of their natural widths (so short
 * number columns never wrap because a text column is long).
 * When everything fits, the spare width is spread in proportion. */
static void pdf_widths(struct pdf_table *pt, const double *nat, char *fixed)
{
	static const double sizes[] = {PDF_BASE_SIZE, 8.0, 7.0};
	size_t n = pt->t->ncols, c, k, i;
	double rem = PDF_TEXT_W, sum = 0, weights = 0, least = PDF_UNITS_MIN * PDF_UNIT_EM * PDF_BASE_SIZE;
	int changed;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		double need = 0;

		pt->size = sizes[i];
		for (c = 0; c < n; c++)
			need += pdf_col_pt(nat[c] < least ? nat[c] : least, pt->size);
		if (need <= PDF_TEXT_W)
			break;
	}
	for (c = 0; c < n; c++)
		pt->w[c] = pdf_col_pt(nat[c], pt->size);
	k = n;
	do {
		changed = 0;
		for (c = 0; c < n && k; c++) {
			if (fixed[c] || pt->w[c] > rem / k)
				continue;
			fixed[c] = 1;
			rem -= pt->w[c];
			k--;
			changed = 1;
		}
	} while (changed && k);
	/* The wide columns share what is left by the square root of their
	 * natural widths: a long measures column gets more than a short title
	 * column, without starving it. */
	for (c = 0; c < n; c++)
		if (!fixed[c])
			weights += sqrt(pt->w[c]);
	for (c = 0; c < n; c++) {
		if (!fixed[c])
			pt->w[c] = rem * sqrt(pt->w[c]) / weights;
		sum += pt->w[c];
	}
	if (!k && sum > 0)
		for (c = 0; c < n; c++)
			pt->w[c] += rem * pt->w[c] / sum;
}

/* Sets one row (the header when header is set) into ls; returns its height. */
static double pdf_row_set(struct pdf *p, struct pdf_table *pt, PangoLayout **ls, int header)
{
	struct pdf_style st = {pt->size, header, PANGO_ALIGN_LEFT, pt->max_h};
	double h = 0;
	size_t c;

	for (c = 0; c < pt->t->ncols; c++) {
		double ch;

		if (header)
			st.align = PANGO_ALIGN_CENTER;
		else
			st.align = pdf_numeric(pt->t->cols[c].type) ? PANGO_ALIGN_RIGHT
								   : PANGO_ALIGN_LEFT;
		ch = pdf_set(p, ls[c], header ? pt->t->cols[c].title : pdf_cell_text(pt, c),
			     &st, pt->w[c] - 2 * PDF_CELL_PAD);
		if (!header)
			pt->ch[c] = ch;
		if (ch > h)
			h = ch;
	}
	return h + 2 * PDF_CELL_PAD;
}

/* Draws a row h high. With skip, each cell shows its text from skip[c]
 * down, clipped to show[c] points: one part of a row split across pages. */
static void pdf_row_draw(struct pdf *p, struct pdf_table *pt, PangoLayout **ls, double h,
			 int header, const double *skip, const double *show)
{
	double x = PDF_MARGIN_X;
	size_t c;

	for (c = 0; c < pt->t->ncols; x += pt->w[c], c++) {
		if (!p->cr)
			continue;
		cairo_rectangle(p->cr, x, p->y, pt->w[c], h);
		if (header) {
			pdf_grey(p, 0.88);
			cairo_fill_preserve(p->cr);
		}
		pdf_grey(p, 0.45);
		cairo_set_line_width(p->cr, 0.5);
		cairo_stroke(p->cr);
		if (!skip) {
			pdf_show(p, ls[c], x + PDF_CELL_PAD, p->y + PDF_CELL_PAD);
			continue;
		}
		cairo_save(p->cr);
		cairo_rectangle(p->cr, x, p->y + PDF_CELL_PAD, pt->w[c], show[c]);
		cairo_clip(p->cr);
		pdf_show(p, ls[c], x + PDF_CELL_PAD, p->y + PDF_CELL_PAD - skip[c]);
		cairo_restore(p->cr);
	}
	p->y += h;
}

/* The bottom of the last line of l that ends within limit points. */
static double pdf_cut(PangoLayout *l, double limit)
{
	PangoLayoutIter *it = pango_layout_get_iter(l);
	double cut = 0;

	do {
		int y0, y1;

		pango_layout_iter_get_line_yrange(it, &y0, &y1);
		if ((double)y1 / PANGO_SCALE > limit)
			break;
		cut = (double)y1 / PANGO_SCALE;
	} while (pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
	return cut;
}

/* A tall row that does not fit: the lines that fit stay on this page, the
 * rest go below the repeated header on the next, each cell cut between
 * lines, so a long remark does not leave most of a page empty. */
static void pdf_row_split(struct pdf *p, struct pdf_table *pt)
{
	size_t n = pt->t->ncols, c;
	double *cut = pt->cut, *left = cut + n, *zero = cut + 2 * n;
	double avail = PDF_BODY_BOTTOM - p->y, rest = 0;

	for (c = 0; c < n; c++) {
		cut[c] = pdf_cut(pt->cl[c], avail - 2 * PDF_CELL_PAD);
		left[c] = pt->ch[c] - cut[c];
		zero[c] = 0;
		if (left[c] > rest)
			rest = left[c];
	}
	pdf_row_draw(p, pt, pt->cl, avail, 0, zero, cut);
	pdf_need(p, PDF_PAGE_H);
	pdf_row_draw(p, pt, pt->cl, rest + 2 * PDF_CELL_PAD, 0, cut, left);
}

/* Places the current row (set, h high): whole, on this page or the next,
 * or split when it is tall and a fair part of this page is free. */
static void pdf_row_place(struct pdf *p, struct pdf_table *pt, double h)
{
	double room = PDF_BODY_BOTTOM - p->y;

	if (h > room && h > PDF_SPLIT_H && room > PDF_SPLIT_ROOM(pt) && p->y > p->page_top) {
		pdf_row_split(p, pt);
		return;
	}
	pdf_need(p, h);
	pdf_row_draw(p, pt, pt->cl, h, 0, NULL, NULL);
}

void pdf_table_head(struct pdf *p, struct pdf_table *pt)
{
	pdf_row_draw(p, pt, pt->hl, pt->hh, 1, NULL, NULL);
}

static void pdf_table_free(struct pdf_table *pt)
{
	size_t c;

	for (c = 0; c < pt->t->ncols; c++) {
		if (pt->hl && pt->hl[c])
			g_object_unref(pt->hl[c]);
		if (pt->cl && pt->cl[c])
			g_object_unref(pt->cl[c]);
	}
	free(pt->hl);
	free(pt->cl);
	free(pt->w);
	free(pt->cells);
	free(pt->num);
	free(pt->ch);
	free(pt->cut);
}

/* The caption, kept with the next keep points (the header row and the
 * start of the first row). */
static void pdf_caption(struct pdf *p, struct pdf_table *pt, double keep)
{
	struct pdf_style st = {PDF_BODY_SIZE, 1, PANGO_ALIGN_LEFT, 0};
	PangoLayout *l;
	double h;

	if (!pt->t->title) {
		pdf_need(p, keep);
		return;
	}
	l = pango_layout_new(p->pc);
	h = pdf_set(p, l, pt->t->title, &st, PDF_TEXT_W);
	pdf_need(p, h + 4 + keep);
	pdf_show(p, l, PDF_MARGIN_X, p->y);
	p->y += h + 4;
	g_object_unref(l);
}

/* Caption, header and rows, up to the limit; the rest are counted, not
 * drawn. The first row is set before the header is placed, so that a header
 * never stands alone at the foot of a page. */
static int pdf_rows(struct pdf *p, struct pdf_table *pt)
{
	struct pdf_style st = {PDF_BODY_SIZE - 1, 0, PANGO_ALIGN_LEFT, 0};
	struct rm_iter it;
	size_t n = 0, more = 0;
	double h = 0, keep;
	int r;

	rm_iter_start(&it, pt->t);
	r = rm_iter_next(&it, pt->cells);
	if (r == 1)
		h = pdf_row_set(p, pt, pt->cl, 0);
	/* a row that pdf_row_place may split needs only a few lines' room */
	keep = pt->hh + (h <= PDF_SPLIT_H ? h : PDF_SPLIT_ROOM(pt) + 1);
	pdf_caption(p, pt, keep);
	pdf_table_head(p, pt);
	p->thead = pt;
	for (; r == 1; r = rm_iter_next(&it, pt->cells)) {
		if (n == p->row_limit) {
			more++;
			continue;
		}
		if (n)
			h = pdf_row_set(p, pt, pt->cl, 0);
		pdf_row_place(p, pt, h);
		n++;
	}
	p->thead = NULL;
	if (r < 0)
		return pdf_rows_failed(p, pt->t);
	p->y += 3;
	if (n == 0)
		pdf_para(p, "（无记录）", &st);
	if (more) {
		char num[PDF_NUM_LEN], line[160];

		pdf_format_num(RM_INT, (double)more, num, sizeof num);
		snprintf(line, sizeof line,
			 "（以上列出前 %zu 行，另有 %s 行未列出，完整明细见 XLSX 报告）", n, num);
		pdf_para(p, line, &st);
	}
	return 0;
}

int pdf_table(struct pdf *p, struct rm_table *t)
{
	struct pdf_table pt;
	double *nat;
	char *fixed;
	size_t n = t->ncols ? t->ncols : 1, c;
	int rc = -1;

	memset(&pt, 0, sizeof pt);
	pt.t = t;
	pt.w = calloc(n, sizeof *pt.w);
	pt.hl = calloc(n, sizeof *pt.hl);
	pt.cl = calloc(n, sizeof *pt.cl);
	pt.cells = calloc(n, sizeof *pt.cells);
	pt.num = calloc(n, PDF_NUM_LEN);
	pt.ch = calloc(n, sizeof *pt.ch);
	pt.cut = calloc(3 * n, sizeof *pt.cut);
	nat = calloc(n, sizeof *nat);
	fixed = calloc(n, 1);
	if (!fixed || !pt.w || !pt.hl || !pt.cl || !pt.cells || !pt.num || !pt.ch || !pt.cut || !nat) {
		err_set(p->e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
		goto out;
	}
	if (!t->ncols) {
		rc = 0;
		goto out;
	}
	if (pdf_natural(p, &pt, nat) < 0)
		goto out;
	pdf_widths(&pt, nat, fixed);
	for (c = 0; c < t->ncols; c++) {
		pt.hl[c] = pango_layout_new(p->pc);
		pt.cl[c] = pango_layout_new(p->pc);
	}
	pt.max_h = (PDF_BODY_BOTTOM - PDF_BODY_TOP) * 0.3;
	pt.hh = pdf_row_set(p, &pt, pt.hl, 1);
	/* a cell taller than a page below the header could never be placed:
	 * it is cut with an ellipsis (the XLSX has the full text) */
	pt.max_h = PDF_BODY_BOTTOM - PDF_BODY_TOP - pt.hh - 2 * PDF_CELL_PAD - 2;
	rc = pdf_rows(p, &pt);
out:
	p->thead = NULL;
	free(nat);
	free(fixed);
	pdf_table_free(&pt);
	return rc;
}
