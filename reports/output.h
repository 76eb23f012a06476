/*
 * output.h — writing a report file atomically: the writer renders into a
 * temporary file beside the target, which is flushed to disk and renamed over
 * the target only when complete, so a crash or a failed write never leaves a
 * half-written report under the real name (DESIGN §10).
 *
 * Usage: tmp = output_temp(path, e); render into tmp; then
 * output_commit(tmp, path, e), or output_abort(tmp) on failure. Any writer
 * (XLSX, PDF, CSV) can use it; it knows nothing about formats.
 */
#ifndef CA_OUTPUT_H
#define CA_OUTPUT_H

#include "err.h"

/* Creates an empty, uniquely named file ".<name>.XXXXXX" in path's
 * directory and returns its name (owned by the caller), or NULL with e set
 * ("unable to create a file in 'DIR': ..."). */
char *output_temp(const char *path, struct err *e);

/* Flushes tmp to disk, renames it to path and flushes the directory. On
 * failure tmp is removed and e names the path. Does not free tmp. */
int output_commit(const char *tmp, const char *path, struct err *e);

/* Removes tmp (NULL is a no-op). */
void output_abort(const char *tmp);

/* Creates dir and its missing parents (mode 0777 less the umask). */
int output_mkdirs(const char *dir, struct err *e);

#endif
