/*
 * pathglob.c — expands source path patterns; see pathglob.h.
 *
 * The pattern is matched one component at a time against directory
 * listings with fnmatch(3), which gives glob(3)'s rules for * ? [..] (a
 * leading dot must be matched explicitly) without having to escape the
 * parts of the path already matched. "**" walks directories without
 * following symbolic links to them, so a link loop cannot make it run
 * forever. Matches are sorted and de-duplicated (two "**" components can reach a
 * file twice) before they are appended.
 */
#include "pathglob.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The pattern's components; comps[i] are owned by the one copy in buf. */
struct pg {
	char **comps;
	size_t n;
	struct strlist found;
	struct err *e;
};

static int pathglob_has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static char *pathglob_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *s = malloc(dl + nl + 2);

	if (!s)
		return NULL;
	memcpy(s, dir, dl);
	if (dl && dir[dl - 1] != '/')
		s[dl++] = '/';
	memcpy(s + dl, name, nl + 1);
	return s;
}

static int pathglob_walk(struct pg *g, const char *dir, size_t i);

/* Calls walk for each entry of dir that matches pat (NULL: every
 * directory, for "**"). */
static int pathglob_each(struct pg *g, const char *dir, const char *pat, size_t next)
{
	DIR *d = opendir(*dir ? dir : ".");
	struct dirent *de;
	int rc = 0;

	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_set(g->e, CA_EIO, dir, 0, 0, "unable to read directory '%s': %s", dir,
			       strerror(errno));
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *path;
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (pat ? fnmatch(pat, de->d_name, FNM_PERIOD) != 0 : de->d_name[0] == '.')
			continue;
		if (!(path = pathglob_join(dir, de->d_name))) {
			rc = err_set(g->e, CA_EINTERNAL, "", 0, 0, "out of memory");
			break;
		}
		if (pat || (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)))
			rc = pathglob_walk(g, path, next);
		free(path);
	}
	closedir(d);
	return rc;
}

/* Matches components i.. below dir (which exists or was just listed). */
static int pathglob_walk(struct pg *g, const char *dir, size_t i)
{
	struct stat st;
	char *path;
	int rc;

	if (i == g->n) {
		if (stat(dir, &st) == 0 && S_ISREG(st.st_mode) && strlist_push(&g->found, dir) < 0)
			return err_set(g->e, CA_EINTERNAL, "", 0, 0, "out of memory");
		return 0;
	}
	if (!strcmp(g->comps[i], "**")) {
		if (pathglob_walk(g, dir, i + 1) < 0)
			return -1;
		return pathglob_each(g, dir, NULL, i);
	}
	if (pathglob_has_magic(g->comps[i]))
		return pathglob_each(g, dir, g->comps[i], i + 1);
	if (!(path = pathglob_join(dir, g->comps[i])))
		return err_set(g->e, CA_EINTERNAL, "", 0, 0, "out of memory");
	rc = pathglob_walk(g, path, i + 1);
	free(path);
	return rc;
}

static int pathglob_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pathglob(const char *pattern, struct strlist *out, struct err *e)
{
	struct pg g = {.e = e};
	struct stat st;
	char *buf, *tok, *save = NULL;
	int rc = 0;

	if (!pathglob_has_magic(pattern)) {
		if (stat(pattern, &st) < 0)
			return err_set(e, CA_EIO, pattern, 0, 0, "unable to open '%s': %s", pattern,
				       strerror(errno));
		if (!S_ISREG(st.st_mode))
			return err_set(e, CA_EINPUT, pattern, 0, 0, "'%s' is not a regular file",
				       pattern);
		if (strlist_push(out, pattern) < 0)
			return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
		return 0;
	}
	if (!(buf = strdup(pattern)) || !(g.comps = calloc(strlen(pattern) / 2 + 2, sizeof *g.comps))) {
		free(buf);
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	}
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		g.comps[g.n++] = tok;
	rc = pathglob_walk(&g, pattern[0] == '/' ? "/" : "", 0);
	if (rc == 0) {
		if (g.found.n)
			qsort(g.found.v, g.found.n, sizeof *g.found.v, pathglob_cmp);
		for (size_t i = 0; i < g.found.n && rc == 0; i++)
			if ((!i || strcmp(g.found.v[i], g.found.v[i - 1])) &&
			    strlist_push(out, g.found.v[i]) < 0)
				rc = err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	}
	strlist_free(&g.found);
	free(g.comps);
	free(buf);
	return rc;
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}
