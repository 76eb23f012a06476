/*
 * testutil.h — helpers shared by the check suites: where the built programs
 * are, scratch directories, running a command and capturing its output,
 * reading and writing files.
 *
 * The Makefile runs each suite with CA_AUDIT_BIN (the ca-audit binary),
 * CA_AUDIT_GEN (the dataset generator) and CA_AUDIT_ROOT (the source tree)
 * in the environment. Strings returned are malloc'd and owned by the caller.
 */
#ifndef CA_TESTUTIL_H
#define CA_TESTUTIL_H

#include <check.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "ingest.h"
#include "store.h"

/* Runs suite s (fork_status: CK_FORK, CK_NOFORK, or CK_FORK_GETENV for
 * $CK_FORK, forking by default) with its runner, which it frees; the number
 * of its tests that failed. */
int tu_suite_failures(Suite *s, enum fork_status fork_status);

const char *tu_bin(void);  /* path of ca-audit */
const char *tu_gen(void);  /* path of the generator */
const char *tu_root(void); /* the source tree */

/* A fresh directory under $TMPDIR (default /tmp), removed by tu_rmdir. */
char *tu_tmpdir(const char *tag);
void tu_rmdir(const char *dir);

/* The result of a command run through the shell. */
struct tu_out {
	int status; /* exit code; 128+N when killed by signal N */
	char *out;  /* owned: all of stdout */
	char *err;  /* owned: all of stderr */
};
/* Runs the printf-formatted shell command; stdin is /dev/null. */
struct tu_out tu_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tu_out_free(struct tu_out *o);

char *tu_read(const char *path, size_t *len); /* NULL if unreadable; NUL-terminated */
int tu_write(const char *path, const char *text); /* 0 on success */
/* Writes to dir/name and returns the full path (owned). */
char *tu_write_in(const char *dir, const char *name, const char *text);
/* printf into a malloc'd string. */
char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Number of lines of s that contain needle. */
int tu_count_lines(const char *s, const char *needle);
/* The size of file in bytes; -1 when it cannot be had. */
long long tu_file_size(const char *file);
/* Commits n rows, each a blob of `bytes` bytes, into table(b BLOB) on db,
 * made if missing: a page a row where bytes is most of a page. A failure
 * fails the test. */
void tu_pad_rows(sqlite3 *db, const char *table, int n, int bytes);
/* The rows of the n queries on the database file db, opened read-only, one
 * line per row, columns joined by '|' and NULL as '-' (owned); a failure
 * fails the test. */
char *tu_dump(const char *db, const char *const *sql, size_t n);

/* A configuration and a store in dir, for suites that call the ingest
 * directly. dir is set by the caller (tu_tmpdir) and owned by the fixture. */
struct tu_src {
	char *dir;
	struct config *cfg;
	struct store *st;
	struct ingest_ctx ctx;
	struct err e;
};

/* Writes dir/ca-audit.yaml (sources_yaml under `sources:`), loads it and
 * opens dir/store.db; a failure fails the test. */
void tu_src_open(struct tu_src *x, const char *sources_yaml);
/* Closes the store, frees the configuration, removes and frees dir. */
void tu_src_close(struct tu_src *x);
/* Ingests every configured source; 0, or -1 with x->e set. */
int tu_src_ingest(struct tu_src *x);

#endif
