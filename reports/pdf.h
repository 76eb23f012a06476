/*
 * pdf.h — the PDF writer: renders any report document (model.h) as an A4
 * PDF with cairo and pango, in an embedded CJK font (Noto Sans CJK SC).
 *
 * The file has a cover block (title, metadata), then each section with a
 * bookmark; tables repeat their header row on every page they cross; every
 * page carries a running header (CA name, report title) and the footer
 * "第 X 页 共 Y 页". Rendering takes two passes over the document (one to
 * count pages, one to draw), so streamed tables are rewound once; they are
 * never held in memory. Document properties are set from the document, with
 * the creation date taken from doc->as_of, so the same document always gives
 * the same bytes.
 *
 * The file is written to a temporary file in the target directory and
 * renamed into place: a failed or interrupted write leaves no partial file.
 * This module is the only one that calls cairo or pango.
 */
#ifndef CA_PDF_H
#define CA_PDF_H

#include <stddef.h>

#include "err.h"
#include "model.h"

/* The font family used when none is given: fontconfig falls back to the
 * second family when the first is missing. */
#define PDF_FONT_DEFAULT "Noto Sans CJK SC,Noto Sans CJK"
/* A table longer than this shows its first rows and a line saying how many
 * more are in the XLSX: a PDF of a million rows helps no reader. */
#define PDF_ROW_LIMIT_DEFAULT 5000

struct pdf_options {
	const char *font;  /* borrowed for the call: a pango family list; NULL = PDF_FONT_DEFAULT */
	size_t row_limit;  /* rows shown per table; 0 = PDF_ROW_LIMIT_DEFAULT */
};

/* Writes d to path (replaced atomically) with the default options. Returns 0,
 * or -1 with e naming the path (or the font, or the table whose rows could not
 * be read). */
int pdf_write(const struct rm_doc *d, const char *path, struct err *e);

/* As pdf_write, with options (NULL = defaults). */
int pdf_write_opts(const struct rm_doc *d, const char *path,
		   const struct pdf_options *opt, struct err *e);

/* Formats an RM_INT value with thousands separators ("-1,234,567") or an
 * RM_PERCENT fraction as a percentage with one decimal ("25.0%") into buf. */
void pdf_format_num(enum rm_type type, double v, char *buf, size_t n);

#endif
