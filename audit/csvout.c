/*
 * csvout.c — one CSV field; see csvout.h.
 */
#include "csvout.h"

#include <string.h>

int csvout_field(FILE *f, const char *s, int text)
{
	int guard, quote;

	if (!s)
		s = "";
	guard = text && *s && strchr("=+-@\t\r", *s);
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote && fputc('"', f) == EOF)
		return -1;
	if (guard && fputc('\'', f) == EOF)
		return -1;
	for (; *s; s++)
		if ((quote && *s == '"' && fputc('"', f) == EOF) || fputc(*s, f) == EOF)
			return -1;
	return quote && fputc('"', f) == EOF ? -1 : 0;
}
