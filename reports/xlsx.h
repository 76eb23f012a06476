/*
 * xlsx.h — renders any report document (model.h) as an XLSX workbook with
 * libxlsxwriter; the only module that calls libxlsxwriter.
 *
 * Layout: a cover sheet 概要 (title, metadata, each section's paragraphs and
 * key/value blocks), then per section one sheet with its tables and one
 * sheet per detail table. Every table has a bold header row, frozen panes,
 * an autofilter and column widths fitted to its content (a CJK character
 * counts two). A sheet that would pass the row limit continues on
 * "<name> (2)", "<name> (3)", ... with the header repeated. The workbook is
 * written in constant-memory mode (rows in order, one sheet at a time), so
 * streamed detail tables of millions of rows use bounded memory.
 *
 * Text is always written as a string cell, never a formula; RM_INT and
 * RM_PERCENT are number cells, RM_DATE date cells. The file's creation time
 * is the document's as_of at 00:00 UTC, so the same document gives the same
 * bytes. The file is written to a temporary name beside path and renamed.
 */
#ifndef CA_XLSX_H
#define CA_XLSX_H

#include <stdint.h>

#include "err.h"
#include "model.h"

/* Writes d to path (replacing it atomically). Streamed tables are read once
 * each (rewound first), a batch ahead on a thread of their own: while a
 * streamed table is being written its source (and so the store connection
 * it reads) belongs to that thread, so nothing else may use the connection
 * until xlsx_write returns. */
int xlsx_write(const struct rm_doc *d, const char *path, struct err *e);

/* Rows per sheet, header included, before a table continues on a new sheet;
 * 0 restores Excel's limit of 1,048,576. For tests. */
void xlsx_set_row_limit(uint32_t rows);

/* Display width of UTF-8 text in Latin characters: East Asian wide and
 * full-width characters count 2; the widest line when there are several. */
int xlsx_text_width(const char *s);

#endif
