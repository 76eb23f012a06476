/*
 * pathglob.h — expands a source path pattern to a sorted list of files.
 *
 * Supports the glob(3) wildcards (* ? [..]) in any component and "**" as a
 * whole component meaning zero or more directories: "certs/STARSTAR/STAR.pem"
 * (written out, with STAR = '*') finds .pem files at any depth under certs.
 * A pattern without wildcards names one file, which must exist. Only regular
 * files are returned, sorted bytewise so that runs are reproducible.
 */
#ifndef CA_PATHGLOB_H
#define CA_PATHGLOB_H

#include "err.h"
#include "records.h"

/* Appends matches to out. A pattern with wildcards that matches nothing is
 * not an error (0 files); a plain path that does not exist is. */
int pathglob(const char *pattern, struct strlist *out, struct err *e);

/* The directory part of path: "." when it has none, "/" for the root;
 * malloc'd, owned by the caller, NULL on ENOMEM. */
char *path_dirname(const char *path);

#endif
