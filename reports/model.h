/*
 * model.h — the report document model: what a report says, independent of
 * how it is rendered. One builder per report kind fills a struct rm_doc; the
 * XLSX writer (xlsx.h) and the PDF writer (pdf.h) render any document. A
 * builder never calls libxlsxwriter or cairo; a writer knows nothing about
 * compliance.
 *
 * A document is a title, metadata (key/value, shown on the cover block and
 * written into the file's properties) and sections. A section is a sequence
 * of blocks: paragraphs, key/value blocks and tables. A table has typed
 * columns and either rows held in memory (rm_row_*) or, for detail tables
 * that can reach millions of rows, a row source the writers pull from and
 * can rewind (rm_table_stream), so memory stays bounded.
 *
 * Ownership: the document owns everything added to it (strings are copied);
 * rm_doc_free releases it all. Stream contexts stay the builder's.
 */
#ifndef CA_MODEL_H
#define CA_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum rm_type {
	RM_TEXT,    /* any UTF-8 text; always written as a string cell */
	RM_INT,     /* a whole number */
	RM_DATE,    /* "YYYY-MM-DD" (or "YYYY-MM-DD HH:MM:SS"); a real date cell in XLSX */
	RM_PERCENT  /* a fraction: 0.25 is shown as 25.0% */
};

struct rm_column {
	char *title;       /* owned */
	enum rm_type type;
	int width;         /* suggested width in Latin characters (a CJK character is 2); 0 = auto */
};

/* One cell value. text is used for RM_TEXT and RM_DATE; num for RM_INT and
 * RM_PERCENT. A NULL text (or is_null) is an empty cell. */
struct rm_cell {
	const char *text; /* borrowed in a row source, owned in stored rows */
	double num;
	int is_null;
};

/* Fills cells[0..ncols-1] for the next row and returns 1, or returns 0 at the
 * end, -1 on error. The cells' text must stay valid until the next call. */
typedef int (*rm_next_fn)(void *ctx, struct rm_cell *cells);
typedef int (*rm_rewind_fn)(void *ctx);

struct rm_table {
	char *title;               /* owned; may be NULL */
	struct rm_column *cols;    /* owned */
	size_t ncols;
	struct rm_cell *cells;     /* owned: nrows * ncols stored cells */
	size_t nrows, caprows;
	rm_next_fn next;           /* row source, or NULL for stored rows */
	rm_rewind_fn rewind;
	void *ctx;                 /* borrowed */
	int detail;                /* a long detail table: its own sheet(s) in XLSX */
	char *sheet;               /* owned: sheet name for a detail table */
};

enum rm_block_kind { RM_PARA, RM_KV, RM_TABLE };

struct rm_block {
	enum rm_block_kind kind;
	char *text;                /* RM_PARA: owned */
	char **keys, **values;     /* RM_KV: owned */
	size_t nkv;
	struct rm_table *table;    /* RM_TABLE: owned */
};

struct rm_section {
	char *title;               /* owned; a bookmark in PDF */
	char *sheet;               /* owned: XLSX sheet name (≤ 31 chars), NULL = from title */
	struct rm_block *blocks;   /* owned */
	size_t nblocks;
};

struct rm_doc {
	char *title;               /* owned: "自查报告" */
	char *ca_name;             /* owned: running header in PDF */
	char *author;              /* owned: document property */
	char *subject;             /* owned: document property */
	char *as_of;               /* owned: "YYYY-MM-DD": creation date in both formats */
	char **meta_keys, **meta_values; /* owned: the cover key/value block */
	size_t nmeta;
	struct rm_section *sections; /* owned */
	size_t nsections;
};

struct rm_doc *rm_doc_new(const char *title);
void rm_doc_free(struct rm_doc *d); /* accepts NULL */
int rm_doc_set(struct rm_doc *d, const char *ca_name, const char *author,
	       const char *subject, const char *as_of);
int rm_doc_meta(struct rm_doc *d, const char *key, const char *value);

/* Returns the new section (owned by d), NULL on ENOMEM. The pointer is into
 * d's array and moves when the next section is added: finish a section
 * before starting the next. */
struct rm_section *rm_section(struct rm_doc *d, const char *title, const char *sheet);
int rm_para(struct rm_section *s, const char *text);
/* Appends a key/value pair to the section's last block if it is a KV block,
 * else starts one. */
int rm_kv(struct rm_section *s, const char *key, const char *value);

/* Moves the section's last block, when it is a key/value block (totals
 * computed after the tables), before its first table, so that a reader sees
 * the totals before the breakdowns. */
void rm_kv_first(struct rm_section *s);

/* A table with ncols columns described by titles[] and types[]. */
struct rm_table *rm_table(struct rm_section *s, const char *title, size_t ncols,
			  const char *const *titles, const enum rm_type *types);
void rm_table_width(struct rm_table *t, size_t col, int width);
/* Stored rows: start a row, then set each cell (unset cells are empty). */
int rm_row(struct rm_table *t);
int rm_set_text(struct rm_table *t, size_t col, const char *text);
int rm_set_num(struct rm_table *t, size_t col, double v);
/* A streamed detail table: writers call next until it returns 0, and call
 * rewind before every pass after the first. */
void rm_table_stream(struct rm_table *t, rm_next_fn next, rm_rewind_fn rewind, void *ctx);
void rm_table_detail(struct rm_table *t, const char *sheet);

/* Iterates a table's rows whether stored or streamed: starts at row 0
 * (rewinding a stream), then fills cells until it returns 0. */
struct rm_ahead;
struct rm_iter {
	struct rm_table *t;
	size_t row;
	int started;
	struct rm_ahead *ahead;    /* owned: the reader of rm_iter_start_ahead, or NULL */
};
void rm_iter_start(struct rm_iter *it, struct rm_table *t);
int rm_iter_next(struct rm_iter *it, struct rm_cell *cells);

/* Like rm_iter_start, but a streamed table's rows are read (and the stream
 * rewound) by a thread of their own, a batch ahead of the caller, so that
 * the source's work overlaps the caller's. Meanwhile the caller must not
 * touch what the source uses (a builder's database connection). Stored
 * tables, or no thread to be had, iterate as rm_iter_start does. End with
 * rm_iter_end. */
void rm_iter_start_ahead(struct rm_iter *it, struct rm_table *t);
/* Stops and joins the reader, if any, and frees its rows; the cells last
 * returned are then invalid. Any iterator may be ended; ending twice is
 * harmless. */
void rm_iter_end(struct rm_iter *it);

#endif
