/*
 * log.h — every diagnostic goes through here, to stderr.
 *
 * stdout carries only what the user asked for (findings, lists); warnings,
 * notes and progress go to stderr. The progress bar is drawn only when stderr
 * is a terminal and --no-progress was not given.
 */
#ifndef CA_LOG_H
#define CA_LOG_H

#include <stdint.h>

/* -q gives LOG_QUIET (errors only), -v LOG_VERBOSE. */
enum ca_loglevel { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2 };

void log_set_level(int level);
int log_level(void);
void log_set_progress(int enabled); /* default: enabled when stderr is a tty */

void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* shown unless -q */
void debugf(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* shown with -v */

/* A progress bar for long work: total 0 means unknown. Cheap to call per record. */
void progress_start(const char *label, uint64_t total);
void progress_update(uint64_t done);
void progress_end(void);

#endif
