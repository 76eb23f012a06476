/*
 * pdf_int.h — what the PDF writer's two files share: the page geometry, the
 * layout state threaded through both rendering passes, and the primitives
 * the table code (pdf_table.c) uses from pdf.c. Not part of the interface:
 * only pdf.c and pdf_table.c include it.
 *
 * Every rendering function runs twice with the same inputs: first with
 * cr == NULL, when it only measures and advances (to count the pages), then
 * with a cairo context on the PDF surface. Layout decisions therefore never
 * depend on whether anything is drawn, and both passes agree on every break.
 */
#ifndef CA_PDF_INT_H
#define CA_PDF_INT_H

#include <cairo.h>
#include <pango/pangocairo.h>

#include "err.h"
#include "model.h"

/* A4 portrait in points. */
#define PDF_PAGE_W 595.28
#define PDF_PAGE_H 841.89
#define PDF_MARGIN_X 56.69           /* 20 mm left and right */
#define PDF_BODY_TOP 72.0            /* below the running header and its rule */
#define PDF_BODY_BOTTOM (PDF_PAGE_H - 62.0) /* above the footer */
#define PDF_TEXT_W (PDF_PAGE_W - 2 * PDF_MARGIN_X)

#define PDF_BODY_SIZE 10.0           /* paragraphs and key/value blocks */
#define PDF_CELL_PAD 3.0             /* inside each table cell */

struct pdf_table;

struct pdf {
	cairo_t *cr;                 /* NULL in the counting pass */
	cairo_surface_t *surf;       /* the PDF surface; NULL while counting */
	PangoContext *pc;            /* shared by both passes, so they measure alike */
	PangoFontDescription *fd;    /* the family; size and weight set per use */
	const struct rm_doc *d;      /* borrowed */
	size_t row_limit;            /* rows shown per table */
	int page;                    /* current page number; 0 before the first */
	int npages;                  /* total from the counting pass; 0 while counting */
	double y;                    /* top of the free space on the current page */
	double page_top;             /* y where content starts on this page */
	struct pdf_table *thead;     /* the table whose header repeats, or NULL */
	struct err *e;               /* where a failure is reported */
};

/* How a text is set: size in points, bold, alignment and, when positive,
 * the most height it may take (the rest is cut with an ellipsis). */
struct pdf_style {
	double size;
	int bold;
	PangoAlignment align;
	double max_h;
};

/* Sets text in l with style st, wrapped to width points; returns its height. */
double pdf_set(struct pdf *p, PangoLayout *l, const char *text,
	       const struct pdf_style *st, double width);
/* Draws l with its top-left corner at x, y (nothing while counting). */
void pdf_show(struct pdf *p, PangoLayout *l, double x, double y);
/* Starts a new page when h points do not fit below p->y, unless the page
 * holds nothing yet (then the block overflows rather than loop). */
void pdf_need(struct pdf *p, double h);
/* A paragraph wrapped to the text width and split between lines across pages. */
void pdf_para(struct pdf *p, const char *text, const struct pdf_style *st);
/* Sets the grey level for the next fill or stroke (nothing while counting). */
void pdf_grey(struct pdf *p, double level);

/* Renders a table (pdf_table.c); -1 with p->e set when its rows fail. */
int pdf_table(struct pdf *p, struct rm_table *t);
/* Draws the header row of the table being rendered, at p->y (pdf_table.c). */
void pdf_table_head(struct pdf *p, struct pdf_table *pt);

#endif
