/*
 * xlsx.c — the XLSX writer; see xlsx.h.
 *
 * Constant-memory mode is used for every workbook: it only requires that
 * each sheet's rows are written in increasing order, which this writer does
 * by finishing one sheet before it starts the next. Column widths, frozen
 * panes and autofilters are sheet settings that libxlsxwriter stores until
 * the workbook closes, so they are set after a sheet's rows are written,
 * when the content's widths and the table's last row are known: one pass
 * over a streamed table suffices. That pass reads the stream a batch ahead
 * on another thread (rm_iter_start_ahead), which is joined before the table
 * is done: at a million rows the builder's query and libxlsxwriter's XML
 * then share the time instead of adding up. The parts are deflated at zlib's
 * fastest level (xlsx_zip.h).
 */
#include "xlsx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <xlsxwriter.h>

#include "log.h"
#include "output.h"
#include "xlsx_zip.h"

#define XLSX_COVER "概要"
#define XLSX_MAX_WIDTH 60   /* wider text wraps in a column this wide */
#define XLSX_MIN_WIDTH 8
#define XLSX_STR_MAX 32767  /* Excel's cell limit, in bytes for libxlsxwriter */

static uint32_t xlsx_row_limit = LXW_ROW_MAX;

void xlsx_set_row_limit(uint32_t rows)
{
	xlsx_row_limit = rows ? rows : LXW_ROW_MAX;
}

/* One workbook being written. */
struct xw {
	lxw_workbook *wb;
	lxw_format *title;     /* the cover's title */
	lxw_format *bold;      /* headings, keys, table titles */
	lxw_format *head;      /* table header cells */
	lxw_format *wrap;      /* text wider than XLSX_MAX_WIDTH */
	lxw_format *date, *datetime, *percent;
	char **names;          /* sheet names taken so far, owned */
	size_t nnames;
	const char *path;      /* the target, for messages */
	struct err *e;
};

/* The sheet a table is being written to, continued on new sheets when full. */
struct xsheet {
	struct xw *w;
	lxw_worksheet *ws;
	char *name;            /* owned: the first sheet's name, base of continuations */
	int part;              /* 1 on the first sheet, 2 on "<name> (2)", ... */
	uint32_t row;          /* next free row */
	double *width;         /* owned: widest content per column */
	int *fixed;            /* owned: width asked for by the model, 0 = fit */
	size_t ncols;          /* columns tracked in width and fixed */
	int has_filter;        /* the sheet's one autofilter is taken */
	int filter_open;       /* the table being written owns it */
	uint32_t filter_row;   /* its header row */
	uint16_t filter_cols;
};

static uint32_t xlsx_decode(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t cp = s[0];
	int n = 0, i;

	if (cp >= 0xF0 && cp < 0xF8) {
		n = 3;
		cp &= 0x07;
	} else if (cp >= 0xE0) {
		n = 2;
		cp &= 0x0F;
	} else if (cp >= 0xC0) {
		n = 1;
		cp &= 0x1F;
	}
	for (i = 1; i <= n && (s[i] & 0xC0) == 0x80; i++)
		cp = (cp << 6) | (s[i] & 0x3F);
	*p = s + i;
	return cp;
}

static int xlsx_wide(uint32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
	       (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	       (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

int xlsx_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0, max = 0;

	if (!s)
		return 0;
	/* Every cell passes here: ASCII, most of the text, skips the decoder,
	 * and as a line's width only grows, the widest is taken at its end. */
	while (*p) {
		if (*p < 0x80) {
			if (*p++ != '\n') {
				w++;
				continue;
			}
			if (w > max)
				max = w;
			w = 0;
			continue;
		}
		w += xlsx_wide(xlsx_decode(&p)) ? 2 : 1;
	}
	return w > max ? w : max;
}

/* n decimal digits at s into *v; 0 when one is not a digit. */
static int xlsx_digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

/* Three numbers of w, 2 and 2 digits separated by sep, as fmt (the same
 * shape for sscanf, ending in %n) reads them in w + 6 characters. Two date
 * cells a finding: plain digits are read without sscanf, which still
 * decides anything else (signs, spaces), as it always did. */
static int xlsx_triple(const char *s, const char *fmt, char sep, int w, int *a, int *b,
		       int *c)
{
	int n = 0;

	if (xlsx_digits(s, w, a) && s[w] == sep && xlsx_digits(s + w + 1, 2, b) &&
	    s[w + 3] == sep && xlsx_digits(s + w + 4, 2, c))
		return 0;
	return sscanf(s, fmt, a, b, c, &n) == 3 && n == w + 6 ? 0 : -1;
}

/* Parses "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" (or with a 'T'); *has_time
 * tells which. */
static int xlsx_parse_date(const char *s, lxw_datetime *dt, int *has_time)
{
	memset(dt, 0, sizeof(*dt));
	*has_time = 0;
	if (xlsx_triple(s, "%4d-%2d-%2d%n", '-', 4, &dt->year, &dt->month, &dt->day) < 0)
		return -1;
	if (s[10] == ' ' || s[10] == 'T') {
		int h, m, sec;

		if (xlsx_triple(s + 11, "%2d:%2d:%2d%n", ':', 2, &h, &m, &sec) < 0 || s[19] != '\0' || h > 23 ||
		    m > 59 || sec > 60)
			return -1;
		dt->hour = h;
		dt->min = m;
		dt->sec = sec;
		*has_time = 1;
	} else if (s[10] != '\0') {
		return -1;
	}
	if (dt->year < 1900 || dt->month < 1 || dt->month > 12 || dt->day < 1 || dt->day > 31)
		return -1;
	return 0;
}

static int xlsx_lxw_error(struct xw *w, lxw_error rc, const char *what)
{
	return err_set(w->e, CA_EIO, w->path, 0, 0, "unable to write '%s': %s: %s",
		       w->path, what, lxw_strerror(rc));
}

/* Writes text as a string cell, cut at a character boundary when it passes
 * Excel's cell limit. */
static lxw_error xlsx_string(lxw_worksheet *ws, uint32_t row, uint16_t col,
			     const char *text, lxw_format *f)
{
	size_t n = strlen(text);
	char *cut;
	lxw_error rc;

	if (n <= XLSX_STR_MAX)
		return worksheet_write_string(ws, row, col, text, f);
	n = XLSX_STR_MAX;
	while (n && ((unsigned char)text[n] & 0xC0) == 0x80)
		n--;
	cut = strndup(text, n);
	if (!cut)
		return LXW_ERROR_MEMORY_MALLOC_FAILED;
	debugf("a cell of %zu bytes was cut to Excel's limit", strlen(text));
	rc = worksheet_write_string(ws, row, col, cut, f);
	free(cut);
	return rc;
}

/* Sheet names: Excel forbids []:*?/\, a leading or trailing apostrophe and
 * more than 31 characters, and compares names ignoring case. */
static int xlsx_name_taken(struct xw *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nnames; i++)
		if (strcasecmp(w->names[i], name) == 0)
			return 1;
	return 0;
}

/* Copies at most max characters of src without forbidden characters. */
static void xlsx_clean_name(const char *src, char *dst, size_t dstsz, int max)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0;
	int chars = 0;

	while (*p && chars < max) {
		const unsigned char *start = p;
		uint32_t cp = xlsx_decode(&p);
		size_t len = (size_t)(p - start);

		/* cp < 0x80 first: strchr would see only the low byte */
		if (cp < 0x20 || (cp < 0x80 && strchr("[]:*?/\\", (int)cp)) ||
		    (cp == '\'' && o == 0))
			continue;
		if (o + len + 1 > dstsz)
			break;
		memcpy(dst + o, start, len);
		o += len;
		chars++;
	}
	while (o && (dst[o - 1] == '\'' || dst[o - 1] == ' '))
		o--;
	dst[o] = '\0';
}

/* A new sheet named from src (part > 1: "src (part)"), unique in the
 * workbook. */
static lxw_worksheet *xlsx_add_sheet(struct xw *w, const char *src, int part,
				     char **name_out)
{
	char name[LXW_MAX_SHEETNAME_LENGTH + 16], base[LXW_MAX_SHEETNAME_LENGTH];
	char suffix[16];
	lxw_worksheet *ws;
	char **names;

	for (;; part++) {
		suffix[0] = '\0';
		if (part > 1)
			snprintf(suffix, sizeof(suffix), " (%d)", part);
		xlsx_clean_name(src && *src ? src : "Sheet", base, sizeof(base),
				LXW_SHEETNAME_MAX - (int)strlen(suffix));
		snprintf(name, sizeof(name), "%s%s", *base ? base : "Sheet", suffix);
		if (!xlsx_name_taken(w, name))
			break;
	}
	names = realloc(w->names, (w->nnames + 1) * sizeof(*names));
	if (!names || !(names[w->nnames] = strdup(name))) {
		if (names)
			w->names = names;
		err_set(w->e, CA_EINTERNAL, "", 0, 0, "out of memory");
		return NULL;
	}
	w->names = names;
	w->nnames++;
	ws = workbook_add_worksheet(w->wb, name);
	if (!ws) {
		err_set(w->e, CA_EINTERNAL, w->path, 0, 0,
			"unable to add sheet '%s' to '%s'", name, w->path);
		return NULL;
	}
	if (name_out)
		*name_out = w->names[w->nnames - 1];
	return ws;
}

static void xsheet_track(struct xsheet *xs, size_t col, double width, int fixed)
{
	if (col >= xs->ncols)
		return;
	if (width > xs->width[col])
		xs->width[col] = width;
	if (fixed > 0)
		xs->fixed[col] = fixed;
}

static int xsheet_grow(struct xsheet *xs, size_t ncols)
{
	double *w;
	int *f;

	if (ncols <= xs->ncols)
		return 0;
	w = realloc(xs->width, ncols * sizeof(*w));
	if (w)
		xs->width = w;
	f = realloc(xs->fixed, ncols * sizeof(*f));
	if (f)
		xs->fixed = f;
	if (!w || !f)
		return err_set(xs->w->e, CA_EINTERNAL, "", 0, 0, "out of memory");
	memset(xs->width + xs->ncols, 0, (ncols - xs->ncols) * sizeof(*w));
	memset(xs->fixed + xs->ncols, 0, (ncols - xs->ncols) * sizeof(*f));
	xs->ncols = ncols;
	return 0;
}

static int xsheet_begin(struct xw *w, struct xsheet *xs, const char *src)
{
	char *name = NULL;

	memset(xs, 0, sizeof(*xs));
	xs->w = w;
	xs->part = 1;
	xs->ws = xlsx_add_sheet(w, src, 1, &name);
	if (!xs->ws)
		return -1;
	xs->name = strdup(name);
	if (!xs->name)
		return err_set(w->e, CA_EINTERNAL, "", 0, 0, "out of memory");
	return 0;
}

static void xsheet_close_filter(struct xsheet *xs)
{
	if (!xs->filter_open)
		return;
	worksheet_autofilter(xs->ws, xs->filter_row, 0, xs->row - 1,
			     (uint16_t)(xs->filter_cols - 1));
	xs->filter_open = 0;
}

/* Settles the current sheet's widths and autofilter. */
static void xsheet_end(struct xsheet *xs)
{
	size_t c;

	if (!xs->ws)
		return;
	xsheet_close_filter(xs);
	for (c = 0; c < xs->ncols; c++) {
		double wd = xs->width[c] + 2;

		if (xs->fixed[c] > 0)
			wd = xs->fixed[c];
		else if (wd > XLSX_MAX_WIDTH)
			wd = XLSX_MAX_WIDTH;
		else if (wd < XLSX_MIN_WIDTH)
			wd = XLSX_MIN_WIDTH;
		worksheet_set_column(xs->ws, (uint16_t)c, (uint16_t)c, wd, NULL);
	}
	memset(xs->width, 0, xs->ncols * sizeof(*xs->width));
	memset(xs->fixed, 0, xs->ncols * sizeof(*xs->fixed));
	xs->ws = NULL;
}

static void xsheet_free(struct xsheet *xs)
{
	free(xs->name);
	free(xs->width);
	free(xs->fixed);
}

/* Ends the current sheet and continues on "<name> (part+1)". */
static int xsheet_next(struct xsheet *xs)
{
	xsheet_end(xs);
	xs->part++;
	xs->ws = xlsx_add_sheet(xs->w, xs->name, xs->part, NULL);
	if (!xs->ws)
		return -1;
	xs->row = 0;
	xs->has_filter = 0;
	return 0;
}

static int xsheet_header(struct xsheet *xs, const struct rm_table *t)
{
	size_t c;
	lxw_error rc;

	for (c = 0; c < t->ncols; c++) {
		rc = xlsx_string(xs->ws, xs->row, (uint16_t)c, t->cols[c].title, xs->w->head);
		if (rc)
			return xlsx_lxw_error(xs->w, rc, "header");
		xsheet_track(xs, c, xlsx_text_width(t->cols[c].title), t->cols[c].width);
	}
	if (!xs->has_filter) {
		worksheet_freeze_panes(xs->ws, xs->row + 1, 0);
		xs->has_filter = xs->filter_open = 1;
		xs->filter_row = xs->row;
		xs->filter_cols = (uint16_t)t->ncols;
	}
	xs->row++;
	return 0;
}

static lxw_error xsheet_cell(struct xsheet *xs, uint16_t col, enum rm_type type,
			     const struct rm_cell *v)
{
	struct xw *w = xs->w;
	lxw_datetime dt;
	char buf[64];
	int has_time, width;
	lxw_error rc;

	if (v->is_null || ((type == RM_TEXT || type == RM_DATE) && !v->text))
		return LXW_NO_ERROR;
	switch (type) {
	case RM_INT:
		rc = worksheet_write_number(xs->ws, xs->row, col, v->num, NULL);
		width = snprintf(buf, sizeof(buf), "%.15g", v->num);
		break;
	case RM_PERCENT:
		rc = worksheet_write_number(xs->ws, xs->row, col, v->num, w->percent);
		width = snprintf(buf, sizeof(buf), "%.1f%%", v->num * 100);
		break;
	case RM_DATE:
		if (xlsx_parse_date(v->text, &dt, &has_time) == 0) {
			rc = worksheet_write_datetime(xs->ws, xs->row, col, &dt,
						      has_time ? w->datetime : w->date);
			width = has_time ? 19 : 10;
			break;
		}
		/* a date that does not parse stays readable as text */
		__attribute__((fallthrough));
	default:
		width = xlsx_text_width(v->text);
		rc = xlsx_string(xs->ws, xs->row, col, v->text,
				 width > XLSX_MAX_WIDTH ? w->wrap : NULL);
		break;
	}
	xsheet_track(xs, col, width, 0);
	return rc;
}

/* Writes t's rows; a stream's rows are read ahead on a thread of their own
 * (the source's query and this XML overlap), which is ended on every path
 * before the table's source is touched again. */
static int xsheet_rows(struct xsheet *xs, struct rm_table *t, struct rm_cell *cells)
{
	struct rm_iter it;
	lxw_error lrc = LXW_NO_ERROR;
	size_t c;
	int rc, bad = 0;

	rm_iter_start_ahead(&it, t);
	while (!bad && (rc = rm_iter_next(&it, cells)) > 0) {
		if (xs->row >= xlsx_row_limit &&
		    (xsheet_next(xs) < 0 || xsheet_header(xs, t) < 0)) {
			bad = 1;
			break;
		}
		for (c = 0; c < t->ncols && !lrc; c++)
			lrc = xsheet_cell(xs, (uint16_t)c, t->cols[c].type, &cells[c]);
		if (lrc)
			bad = xlsx_lxw_error(xs->w, lrc, "cell");
		xs->row++;
	}
	rm_iter_end(&it);
	if (bad)
		return -1;
	if (rc < 0)
		return err_set(xs->w->e, CA_EIO, xs->w->path, 0, 0,
			       "unable to read the rows of table '%s'",
			       t->title ? t->title : xs->name);
	return 0;
}

/* Writes t from the current row on; show_title puts its title above it. */
static int xsheet_table(struct xsheet *xs, struct rm_table *t, int show_title)
{
	struct rm_cell *cells;
	int rc;

	if (t->ncols > LXW_COL_MAX)
		return err_set(xs->w->e, CA_EINTERNAL, xs->w->path, 0, 0,
			       "table '%s' has more columns than a sheet can hold",
			       t->title ? t->title : "");
	if (xsheet_grow(xs, t->ncols ? t->ncols : 1) < 0)
		return -1;
	if (xs->row + 2 >= xlsx_row_limit && xsheet_next(xs) < 0)
		return -1;
	if (show_title && t->title) {
		lxw_error lrc = xlsx_string(xs->ws, xs->row++, 0, t->title, xs->w->bold);

		if (lrc)
			return xlsx_lxw_error(xs->w, lrc, "table title");
	}
	if (xsheet_header(xs, t) < 0)
		return -1;
	cells = calloc(t->ncols ? t->ncols : 1, sizeof(*cells));
	if (!cells)
		return err_set(xs->w->e, CA_EINTERNAL, "", 0, 0, "out of memory");
	rc = xsheet_rows(xs, t, cells);
	free(cells);
	if (rc == 0)
		xsheet_close_filter(xs);
	return rc;
}

static int xlsx_cover_kv(struct xw *w, lxw_worksheet *ws, uint32_t *row,
			 const char *key, const char *value, double *wk, double *wv)
{
	int kw = xlsx_text_width(key), vw = xlsx_text_width(value);
	lxw_error rc;

	rc = xlsx_string(ws, *row, 0, key, w->bold);
	if (!rc)
		rc = xlsx_string(ws, *row, 1, value, vw > XLSX_MAX_WIDTH ? w->wrap : NULL);
	if (rc)
		return xlsx_lxw_error(w, rc, "cover");
	if (kw > *wk)
		*wk = kw;
	if (vw > *wv)
		*wv = vw;
	(*row)++;
	return 0;
}

/* The cover: title, metadata, then each section's paragraphs and key/value
 * blocks under the section's title. */
static int xlsx_cover(struct xw *w, const struct rm_doc *d)
{
	lxw_worksheet *ws = xlsx_add_sheet(w, XLSX_COVER, 1, NULL);
	double wk = 10, wv = 20;
	uint32_t row = 0;
	size_t i, j, k;
	lxw_error rc;

	if (!ws)
		return -1;
	rc = xlsx_string(ws, row, 0, d->title ? d->title : "", w->title);
	if (rc)
		return xlsx_lxw_error(w, rc, "cover");
	row += 2;
	for (i = 0; i < d->nmeta; i++)
		if (xlsx_cover_kv(w, ws, &row, d->meta_keys[i], d->meta_values[i], &wk, &wv) < 0)
			return -1;
	for (i = 0; i < d->nsections; i++) {
		const struct rm_section *s = &d->sections[i];
		int heading = 0;

		for (j = 0; j < s->nblocks; j++) {
			const struct rm_block *b = &s->blocks[j];

			if (b->kind == RM_TABLE)
				continue;
			if (!heading) {
				row++;
				rc = xlsx_string(ws, row++, 0, s->title ? s->title : "", w->bold);
				if (rc)
					return xlsx_lxw_error(w, rc, "cover");
				heading = 1;
			}
			if (b->kind == RM_PARA) {
				/* Left unwrapped in column A: it runs on over the empty cells. */
				rc = xlsx_string(ws, row++, 0, b->text, NULL);
				if (rc)
					return xlsx_lxw_error(w, rc, "cover");
				continue;
			}
			for (k = 0; k < b->nkv; k++)
				if (xlsx_cover_kv(w, ws, &row, b->keys[k], b->values[k], &wk, &wv) < 0)
					return -1;
		}
	}
	worksheet_set_column(ws, 0, 0, wk + 2 > 30 ? 30 : wk + 2, NULL);
	worksheet_set_column(ws, 1, 1, wv + 2 > XLSX_MAX_WIDTH ? XLSX_MAX_WIDTH : wv + 2, NULL);
	return 0;
}

/* One sheet for the section's ordinary tables, then one per detail table. */
static int xlsx_section(struct xw *w, const struct rm_section *s)
{
	struct xsheet xs;
	size_t j, ntables = 0;
	int rc = 0, started = 0;

	for (j = 0; j < s->nblocks; j++)
		if (s->blocks[j].kind == RM_TABLE && !s->blocks[j].table->detail)
			ntables++;
	memset(&xs, 0, sizeof(xs));
	for (j = 0; j < s->nblocks && rc == 0; j++) {
		struct rm_table *t = s->blocks[j].table;

		if (s->blocks[j].kind != RM_TABLE || t->detail)
			continue;
		if (!started) {
			rc = xsheet_begin(w, &xs, s->sheet ? s->sheet : s->title);
			started = 1;
		} else {
			xs.row++; /* a blank row between tables */
		}
		if (rc == 0)
			rc = xsheet_table(&xs, t, ntables > 1);
	}
	xsheet_end(&xs);
	xsheet_free(&xs);
	for (j = 0; j < s->nblocks && rc == 0; j++) {
		struct rm_table *t = s->blocks[j].table;

		if (s->blocks[j].kind != RM_TABLE || !t->detail)
			continue;
		rc = xsheet_begin(w, &xs, t->sheet ? t->sheet : t->title ? t->title : s->title);
		if (rc == 0)
			rc = xsheet_table(&xs, t, 0);
		xsheet_end(&xs);
		xsheet_free(&xs);
	}
	return rc;
}

static void xlsx_formats(struct xw *w)
{
	w->title = workbook_add_format(w->wb);
	format_set_bold(w->title);
	format_set_font_size(w->title, 16);
	w->bold = workbook_add_format(w->wb);
	format_set_bold(w->bold);
	w->head = workbook_add_format(w->wb);
	format_set_bold(w->head);
	format_set_pattern(w->head, LXW_PATTERN_SOLID);
	format_set_bg_color(w->head, 0xD9E1F2);
	format_set_border(w->head, LXW_BORDER_THIN);
	w->wrap = workbook_add_format(w->wb);
	format_set_text_wrap(w->wrap);
	format_set_align(w->wrap, LXW_ALIGN_VERTICAL_TOP);
	w->date = workbook_add_format(w->wb);
	format_set_num_format(w->date, "yyyy-mm-dd");
	w->datetime = workbook_add_format(w->wb);
	format_set_num_format(w->datetime, "yyyy-mm-dd hh:mm:ss");
	w->percent = workbook_add_format(w->wb);
	format_set_num_format(w->percent, "0.0%");
}

/* File properties: fixed creation time (the as-of date) for reproducible
 * bytes, and the metadata as custom properties. */
static void xlsx_properties(struct xw *w, const struct rm_doc *d)
{
	lxw_doc_properties p;
	struct tm tm;
	size_t i;

	memset(&p, 0, sizeof(p));
	p.title = d->title;
	p.author = d->author;
	p.subject = d->subject;
	p.company = d->ca_name;
	memset(&tm, 0, sizeof(tm));
	if (d->as_of && sscanf(d->as_of, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) == 3) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		p.created = timegm(&tm);
	}
	workbook_set_properties(w->wb, &p);
	for (i = 0; i < d->nmeta; i++)
		if (*d->meta_keys[i] && strlen(d->meta_keys[i]) < 255 &&
		    strlen(d->meta_values[i]) < 255)
			workbook_set_custom_property_string(w->wb, d->meta_keys[i],
							    d->meta_values[i]);
}

int xlsx_write(const struct rm_doc *d, const char *path, struct err *e)
{
	lxw_workbook_options opt = {.constant_memory = LXW_TRUE};
	struct xw w;
	char *tmp;
	size_t i;
	int rc = 0;
	lxw_error lrc;

	if (xlsx_zip_ready() < 0)
		return err_set(e, CA_EIO, path, 0, 0,
			       "unable to write '%s': minizip's zipOpenNewFileInZip4_64 not found",
			       path);
	tmp = output_temp(path, e);
	if (!tmp)
		return -1;
	memset(&w, 0, sizeof(w));
	w.path = path;
	w.e = e;
	w.wb = workbook_new_opt(tmp, &opt);
	if (!w.wb) {
		output_abort(tmp);
		free(tmp);
		return err_set(e, CA_EIO, path, 0, 0, "unable to write '%s'", path);
	}
	xlsx_formats(&w);
	xlsx_properties(&w, d);
	rc = xlsx_cover(&w, d);
	for (i = 0; i < d->nsections && rc == 0; i++)
		rc = xlsx_section(&w, &d->sections[i]);
	/* Closing also frees the workbook; after a failure it still must run. */
	lrc = workbook_close(w.wb);
	if (rc == 0 && lrc != LXW_NO_ERROR)
		rc = xlsx_lxw_error(&w, lrc, "closing the workbook");
	for (i = 0; i < w.nnames; i++)
		free(w.names[i]);
	free(w.names);
	if (rc == 0)
		rc = output_commit(tmp, path, e);
	else
		output_abort(tmp);
	free(tmp);
	return rc;
}
