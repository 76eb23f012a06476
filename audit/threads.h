/*
 * threads.h — how many threads ca-audit's parallel steps may use.
 *
 * Three steps use more cores: ingest parses in other threads while one
 * stores (ingest.h) — certificate files and RA logs (JSON Lines, mapped
 * CSV) are decoded by as many workers as this allows, at most four; the
 * first check makes its kept views at once, each SELECT on a connection of
 * its own (parcopy.h); and every check evaluates its items on as many
 * connections, at most four, while one thread stores the findings
 * (engine_par.c) and another copies the kept views' pages from the WAL into
 * the store (walckpt.h).
 * $CA_AUDIT_THREADS=1 keeps each to one thread: for a machine shared with
 * other work, or to compare the two ways' results.
 */
#ifndef CA_THREADS_H
#define CA_THREADS_H

/* $CA_AUDIT_THREADS when it is a positive whole number, else the processors
 * online (at least 1). A value that is not a number is warned of, once. */
int threads_wanted(void);

#endif
