/*
 * err.h — the one error record passed up from where an error happens.
 *
 * A fallible function returns 0 on success and -1 on failure, having filled
 * the caller's struct err once, at the point of failure, with the input's
 * position (file, line, column; 0 when not known) and a message. Callers pass
 * it up unchanged. Only main.c turns it into a printed diagnostic and an exit
 * code. A failed compliance check is a result, never an error.
 */
#ifndef CA_ERR_H
#define CA_ERR_H

#include <stddef.h>

enum ca_errkind {
	CA_EINPUT = 1, /* bad input: a file, a record, a checklist, the configuration */
	CA_EIO,        /* reading or writing a file failed */
	CA_EDB,        /* the evidence store failed */
	CA_EUSAGE,     /* the command line is wrong */
	CA_EINTERNAL   /* a bug or an allocation failure */
};

struct err {
	int kind;        /* enum ca_errkind; 0 while no error was set */
	char file[512];  /* the input the error is about, "" when none */
	int line;        /* 1-based line, 0 when not known */
	int col;         /* 1-based column, 0 when not known */
	char msg[1024];  /* lowercase, no full stop: "expected a mapping" */
};

/* Sets every field of e (which may be NULL) and returns -1, so that
 * `return err_set(...)` reads as a failed return. */
int err_set(struct err *e, int kind, const char *file, int line, int col,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Zeroes e. */
void err_clear(struct err *e);

/* Writes "file:line:col: msg" (parts that are unknown are left out) to buf. */
void err_format(const struct err *e, char *buf, size_t n);

#endif
