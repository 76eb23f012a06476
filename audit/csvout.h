/*
 * csvout.h — writing one CSV field (RFC 4180), for every CSV the tool
 * writes (findings, monthly statistics).
 *
 * A field with a comma, a quote or a line break is quoted, quotes doubled.
 * Text that came from records and starts with '=', '+', '-', '@', a tab or
 * a carriage return is written with a leading apostrophe, so that Excel or
 * LibreOffice opening the file shows it as text instead of running it as a
 * formula (the OWASP advice on CSV injection); numbers are written as they
 * are.
 */
#ifndef CA_CSVOUT_H
#define CA_CSVOUT_H

#include <stdio.h>

/* Writes s (NULL as empty); text = 1 guards against formulas. Returns 0, or
 * -1 when the stream failed. */
int csvout_field(FILE *f, const char *s, int text);

#endif
