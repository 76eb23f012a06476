/*
 * pdf.c — the PDF writer's document level: the two passes (count pages,
 * then draw), pages with their running header and footer, the cover block,
 * section headings with bookmarks, paragraphs and key/value blocks, the
 * document properties and the atomic write. Tables are in pdf_table.c.
 *
 * Both passes share one PangoContext with hinting off and a resolution of
 * 72 dpi, so a point is one unit in cairo and in pango, and the page count
 * from the first pass is exactly the page count of the second.
 */
#include "pdf.h"
#include "pdf_int.h"
#include "output.h"

#include <cairo-pdf.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PDF_TITLE_SIZE 20.0
#define PDF_HEADING_SIZE 13.0
#define PDF_RUNNING_SIZE 8.0

void pdf_format_num(enum rm_type type, double v, char *buf, size_t n)
{
	char digits[64], *o;
	long long x;
	size_t len, i;

	if (type == RM_PERCENT) {
		double r = round(v * 1000.0) / 10.0;

		/* -0.04% rounds to -0.0, which reads as a sign error */
		snprintf(buf, n, "%.1f%%", r == 0.0 ? 0.0 : r);
		return;
	}
	if (!isfinite(v) || fabs(v) >= 9e18) {
		snprintf(buf, n, "%.0f", v);
		return;
	}
	x = llround(v);
	snprintf(digits, sizeof digits, "%llu",
		 x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x);
	len = strlen(digits);
	if (n < len + len / 3 + 2) {
		snprintf(buf, n, "%lld", x);
		return;
	}
	o = buf;
	if (x < 0)
		*o++ = '-';
	for (i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			*o++ = ',';
		*o++ = digits[i];
	}
	*o = '\0';
}

double pdf_set(struct pdf *p, PangoLayout *l, const char *text,
	       const struct pdf_style *st, double width)
{
	const char *s = text ? text : "";
	char *valid = NULL;
	int h;

	/* pango refuses invalid UTF-8 and would draw nothing */
	if (!g_utf8_validate(s, -1, NULL))
		s = valid = g_utf8_make_valid(s, -1);
	pango_font_description_set_size(p->fd, (gint)(st->size * PANGO_SCALE));
	pango_font_description_set_weight(p->fd, st->bold ? PANGO_WEIGHT_BOLD
					  : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(l, p->fd);
	pango_layout_set_width(l, width > 0 ? (int)(width * PANGO_SCALE) : -1);
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(l, st->align);
	pango_layout_set_ellipsize(l, st->max_h > 0 ? PANGO_ELLIPSIZE_END
				   : PANGO_ELLIPSIZE_NONE);
	pango_layout_set_height(l, st->max_h > 0 ? (int)(st->max_h * PANGO_SCALE) : -1);
	pango_layout_set_text(l, s, -1);
	g_free(valid);
	pango_layout_get_size(l, NULL, &h);
	return (double)h / PANGO_SCALE;
}

void pdf_show(struct pdf *p, PangoLayout *l, double x, double y)
{
	if (!p->cr)
		return;
	cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
	cairo_move_to(p->cr, x, y);
	pango_cairo_show_layout(p->cr, l);
}

void pdf_grey(struct pdf *p, double level)
{
	if (p->cr)
		cairo_set_source_rgb(p->cr, level, level, level);
}

/* The running header (CA name left, report title right, a rule) and the
 * footer; both are known when the page starts, since the total is. */
static void pdf_page_frame(struct pdf *p)
{
	struct pdf_style st = {PDF_RUNNING_SIZE, 0, PANGO_ALIGN_LEFT, PDF_RUNNING_SIZE * 1.6};
	PangoLayout *l;
	char foot[64];
	double half = PDF_TEXT_W / 2 - 6;

	if (!p->cr)
		return;
	l = pango_layout_new(p->pc);
	pdf_set(p, l, p->d->ca_name, &st, half);
	pdf_show(p, l, PDF_MARGIN_X, 40);
	st.align = PANGO_ALIGN_RIGHT;
	pdf_set(p, l, p->d->title, &st, half);
	pdf_show(p, l, PDF_PAGE_W - PDF_MARGIN_X - half, 40);
	pdf_grey(p, 0.45);
	cairo_set_line_width(p->cr, 0.6);
	cairo_move_to(p->cr, PDF_MARGIN_X, 56);
	cairo_line_to(p->cr, PDF_PAGE_W - PDF_MARGIN_X, 56);
	cairo_stroke(p->cr);

	/* double spaces: a single space between a CJK character and a digit
	 * is too narrow for text extraction (pdftotext, a regulator's search)
	 * to see, and the airier footer reads as well on paper */
	snprintf(foot, sizeof foot, "第  %d  页  共  %d  页", p->page, p->npages);
	st.size = 9;
	st.align = PANGO_ALIGN_CENTER;
	pdf_set(p, l, foot, &st, PDF_TEXT_W);
	pdf_show(p, l, PDF_MARGIN_X, PDF_PAGE_H - 44);
	g_object_unref(l);
}

static void pdf_page_begin(struct pdf *p)
{
	p->page++;
	p->y = PDF_BODY_TOP;
	pdf_page_frame(p);
	if (p->thead)
		pdf_table_head(p, p->thead);
	p->page_top = p->y;
}

void pdf_need(struct pdf *p, double h)
{
	if (p->y + h <= PDF_BODY_BOTTOM || p->y <= p->page_top)
		return;
	if (p->cr)
		cairo_show_page(p->cr);
	pdf_page_begin(p);
}

void pdf_para(struct pdf *p, const char *text, const struct pdf_style *st)
{
	PangoLayout *l = pango_layout_new(p->pc);
	PangoLayoutIter *it;

	pdf_set(p, l, text, st, PDF_TEXT_W);
	it = pango_layout_get_iter(l);
	do {
		int y0, y1, base;
		double h;

		pango_layout_iter_get_line_yrange(it, &y0, &y1);
		base = pango_layout_iter_get_baseline(it);
		h = (double)(y1 - y0) / PANGO_SCALE;
		pdf_need(p, h);
		if (p->cr) {
			PangoLayoutLine *line = pango_layout_iter_get_line_readonly(it);
			PangoRectangle ink, logical;
			double x = PDF_MARGIN_X;

			/* lines are laid out within the text width: keep their offset
			 * so that centred or right-aligned paragraphs stay so */
			pango_layout_iter_get_line_extents(it, &ink, &logical);
			x += (double)logical.x / PANGO_SCALE;
			cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
			cairo_move_to(p->cr, x, p->y + (double)(base - y0) / PANGO_SCALE);
			pango_cairo_show_layout_line(p->cr, line);
		}
		p->y += h;
	} while (pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
	g_object_unref(l);
}

/* Keys in a column as wide as the widest key (at most 40% of the text
 * width), values wrapped beside them; a pair never splits across pages. */
static void pdf_kv(struct pdf *p, char *const *keys, char *const *values, size_t n)
{
	struct pdf_style ks = {PDF_BODY_SIZE, 1, PANGO_ALIGN_LEFT, 0};
	struct pdf_style vs = {PDF_BODY_SIZE, 0, PANGO_ALIGN_LEFT, 0};
	PangoLayout *kl = pango_layout_new(p->pc), *vl = pango_layout_new(p->pc);
	double kw = 0, gap = 14;
	size_t i;

	for (i = 0; i < n; i++) {
		int w;

		pdf_set(p, kl, keys[i], &ks, -1);
		pango_layout_get_size(kl, &w, NULL);
		if ((double)w / PANGO_SCALE > kw)
			kw = (double)w / PANGO_SCALE;
	}
	if (kw > PDF_TEXT_W * 0.4)
		kw = PDF_TEXT_W * 0.4;
	/* a pair taller than a page would never fit: cut it */
	ks.max_h = vs.max_h = (PDF_BODY_BOTTOM - PDF_BODY_TOP) * 0.9;
	for (i = 0; i < n; i++) {
		double kh = pdf_set(p, kl, keys[i], &ks, kw + 0.5);
		double vh = pdf_set(p, vl, values[i], &vs, PDF_TEXT_W - kw - gap);
		double h = (kh > vh ? kh : vh) + 2;

		pdf_need(p, h);
		pdf_show(p, kl, PDF_MARGIN_X, p->y);
		pdf_show(p, vl, PDF_MARGIN_X + kw + gap, p->y);
		p->y += h;
	}
	g_object_unref(kl);
	g_object_unref(vl);
}

static void pdf_cover(struct pdf *p)
{
	struct pdf_style st = {PDF_TITLE_SIZE, 1, PANGO_ALIGN_CENTER, 0};

	p->y += 8;
	pdf_para(p, p->d->title, &st);
	p->y += 18;
	if (p->d->nmeta) {
		pdf_kv(p, p->d->meta_keys, p->d->meta_values, p->d->nmeta);
		p->y += 10;
	}
	if (p->cr) {
		pdf_grey(p, 0.3);
		cairo_set_line_width(p->cr, 1.0);
		cairo_move_to(p->cr, PDF_MARGIN_X, p->y);
		cairo_line_to(p->cr, PDF_PAGE_W - PDF_MARGIN_X, p->y);
		cairo_stroke(p->cr);
	}
	p->y += 14;
}

/* A heading keeps at least a few lines of its section below it, and is the
 * target of the section's bookmark. */
static void pdf_heading(struct pdf *p, const char *title)
{
	struct pdf_style st = {PDF_HEADING_SIZE, 1, PANGO_ALIGN_LEFT, 0};
	PangoLayout *l = pango_layout_new(p->pc);
	double h = pdf_set(p, l, title, &st, PDF_TEXT_W);

	if (p->y > p->page_top)
		p->y += 10;
	pdf_need(p, h + 60);
	pdf_show(p, l, PDF_MARGIN_X, p->y);
	if (p->surf && title) {
		char dest[64];

		snprintf(dest, sizeof dest, "page=%d pos=[%d %d]", p->page,
			 (int)PDF_MARGIN_X, (int)p->y);
		cairo_pdf_surface_add_outline(p->surf, CAIRO_PDF_OUTLINE_ROOT, title,
					      dest, 0);
	}
	p->y += h + 6;
	g_object_unref(l);
}

static int pdf_section(struct pdf *p, const struct rm_section *s)
{
	struct pdf_style st = {PDF_BODY_SIZE, 0, PANGO_ALIGN_LEFT, 0};
	size_t i;

	pdf_heading(p, s->title);
	for (i = 0; i < s->nblocks; i++) {
		const struct rm_block *b = &s->blocks[i];

		if (b->kind == RM_PARA) {
			pdf_para(p, b->text, &st);
		} else if (b->kind == RM_KV) {
			pdf_kv(p, b->keys, b->values, b->nkv);
		} else if (pdf_table(p, b->table) < 0) {
			return -1;
		}
		p->y += 8;
	}
	return 0;
}

/* One pass over the whole document; the same code counts and draws. */
static int pdf_render(struct pdf *p)
{
	size_t i;

	p->page = 0;
	p->thead = NULL;
	pdf_page_begin(p);
	pdf_cover(p);
	for (i = 0; i < p->d->nsections; i++)
		if (pdf_section(p, &p->d->sections[i]) < 0)
			return -1;
	if (p->cr)
		cairo_show_page(p->cr);
	return 0;
}

/* Fontconfig substitutes some font for any family; a report drawn in a
 * font without Chinese glyphs is unreadable, so a missing family is an
 * error rather than a silent substitution. */
static int pdf_check_font(struct pdf *p, const char *family)
{
	PangoFont *f;
	PangoFontDescription *got;
	const char *name;
	char **want;
	int ok = 0, i;

	pango_font_description_set_size(p->fd, 10 * PANGO_SCALE);
	f = pango_context_load_font(p->pc, p->fd);
	if (!f)
		return err_set(p->e, CA_EINPUT, NULL, 0, 0, "font '%s' is not installed", family);
	got = pango_font_describe(f);
	name = pango_font_description_get_family(got);
	want = g_strsplit(family, ",", -1);
	for (i = 0; want[i] && name && !ok; i++)
		ok = !strcasecmp(g_strstrip(want[i]), name);
	g_strfreev(want);
	pango_font_description_free(got);
	g_object_unref(f);
	if (!ok)
		return err_set(p->e, CA_EINPUT, NULL, 0, 0,
			       "font '%s' is not installed (install fonts-noto-cjk)", family);
	return 0;
}

static int pdf_setup(struct pdf *p, const struct rm_doc *d, const struct pdf_options *opt,
		     struct err *e)
{
	cairo_font_options_t *fo;
	const char *family = opt && opt->font ? opt->font : PDF_FONT_DEFAULT;

	memset(p, 0, sizeof *p);
	p->d = d;
	p->e = e;
	p->row_limit = opt && opt->row_limit ? opt->row_limit : PDF_ROW_LIMIT_DEFAULT;
	p->pc = pango_font_map_create_context(pango_cairo_font_map_get_default());
	pango_cairo_context_set_resolution(p->pc, 72);
	fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(p->pc, fo);
	cairo_font_options_destroy(fo);
	/* PDF positions glyphs exactly; rounding to whole units would only
	 * make the text uneven */
	pango_context_set_round_glyph_positions(p->pc, FALSE);
	p->fd = pango_font_description_new();
	pango_font_description_set_family(p->fd, family);
	return pdf_check_font(p, family);
}

static void pdf_cleanup(struct pdf *p)
{
	if (p->fd)
		pango_font_description_free(p->fd);
	if (p->pc)
		g_object_unref(p->pc);
}

static cairo_status_t pdf_sink(void *closure, const unsigned char *data, unsigned int len)
{
	return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS
						    : CAIRO_STATUS_WRITE_ERROR;
}

/* The document properties. The dates come from as_of, never the clock,
 * so that the same document gives the same bytes. */
static void pdf_metadata(cairo_surface_t *s, const struct rm_doc *d)
{
	char date[40];

	if (d->title)
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, d->title);
	if (d->author)
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_AUTHOR, d->author);
	if (d->subject)
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT, d->subject);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR,
				       "ca-audit " CA_AUDIT_VERSION);
	if (d->as_of && strlen(d->as_of) >= 10) {
		snprintf(date, sizeof date, "%.10sT00:00:00+08:00", d->as_of);
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, date);
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_MOD_DATE, date);
	}
}

/* The drawing pass into an open file; 0 when cairo reports no error. */
static int pdf_draw(struct pdf *p, FILE *f, const char *path)
{
	cairo_status_t st;
	int rc;

	p->surf = cairo_pdf_surface_create_for_stream(pdf_sink, f, PDF_PAGE_W, PDF_PAGE_H);
	pdf_metadata(p->surf, p->d);
	p->cr = cairo_create(p->surf);
	rc = pdf_render(p);
	cairo_destroy(p->cr);
	p->cr = NULL;
	cairo_surface_finish(p->surf);
	st = cairo_surface_status(p->surf);
	cairo_surface_destroy(p->surf);
	p->surf = NULL;
	if (rc < 0)
		return -1;
	if (st != CAIRO_STATUS_SUCCESS)
		return err_set(p->e, CA_EIO, path, 0, 0, "unable to write '%s': %s", path,
			       st == CAIRO_STATUS_WRITE_ERROR ? strerror(errno)
			       : cairo_status_to_string(st));
	return 0;
}

int pdf_write_opts(const struct rm_doc *d, const char *path,
		   const struct pdf_options *opt, struct err *e)
{
	struct pdf p;
	char *tmp = NULL;
	FILE *f;
	int rc = -1, total;

	if (pdf_setup(&p, d, opt, e) < 0 || pdf_render(&p) < 0)
		goto out;
	total = p.page;
	tmp = output_temp(path, e);
	if (!tmp)
		goto out;
	f = fopen(tmp, "wb");
	if (!f) {
		err_set(e, CA_EIO, path, 0, 0, "unable to write '%s': %s", path, strerror(errno));
		goto out;
	}
	p.npages = total;
	rc = pdf_draw(&p, f, path);
	if (fclose(f) != 0 && rc == 0)
		rc = err_set(e, CA_EIO, path, 0, 0, "unable to write '%s': %s", path,
			     strerror(errno));
	if (rc == 0 && p.page != total)
		rc = err_set(e, CA_EINTERNAL, path, 0, 0,
			     "pages of '%s' changed between passes (%d, then %d)", path,
			     total, p.page);
	if (rc == 0 && output_commit(tmp, path, e) < 0) {
		free(tmp); /* output_commit removed it */
		tmp = NULL;
		rc = -1;
	}
out:
	if (rc < 0)
		output_abort(tmp);
	free(tmp);
	pdf_cleanup(&p);
	return rc;
}

int pdf_write(const struct rm_doc *d, const char *path, struct err *e)
{
	return pdf_write_opts(d, path, NULL, e);
}
