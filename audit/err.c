/*
 * err.c — filling and formatting struct err; see err.h.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int kind, const char *file, int line, int col,
	    const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->kind = kind;
	snprintf(e->file, sizeof e->file, "%s", file ? file : "");
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

void err_clear(struct err *e)
{
	if (e)
		memset(e, 0, sizeof *e);
}

void err_format(const struct err *e, char *buf, size_t n)
{
	if (!e->file[0])
		snprintf(buf, n, "%s", e->msg);
	else if (e->line && e->col)
		snprintf(buf, n, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
	else if (e->line)
		snprintf(buf, n, "%s:%d: %s", e->file, e->line, e->msg);
	else
		snprintf(buf, n, "%s: %s", e->file, e->msg);
}
