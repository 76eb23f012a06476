/*
 * output.c — atomic report files: a temporary file in the target's directory
 * (so that the final rename stays on one file system and is atomic), fsync
 * before rename so the name never points at unwritten blocks, and fsync of
 * the directory so the rename itself survives a crash.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pathglob.h"

char *output_temp(const char *path, struct err *e)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	size_t n = dlen + strlen(base) + 16;
	char *tmp = malloc(n);
	int fd, saved;
	mode_t mask;

	if (!tmp) {
		err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
		return NULL;
	}
	memcpy(tmp, path, dlen);
	snprintf(tmp + dlen, n - dlen, ".%s.XXXXXX", base);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		char *dir = path_dirname(path);

		saved = errno;
		err_set(e, CA_EIO, path, 0, 0, "unable to create a file in '%s': %s",
			dir ? dir : path, strerror(saved));
		free(dir);
		free(tmp);
		return NULL;
	}
	/* mkstemp makes the file 0600; a report is an ordinary file. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0)
		debugf("unable to set the mode of '%s': %s", tmp, strerror(errno));
	close(fd);
	return tmp;
}

/* fsync of the file or directory at path. */
static int output_sync(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

int output_commit(const char *tmp, const char *path, struct err *e)
{
	char *dir;

	if (output_sync(tmp, 0) < 0 || rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		return err_set(e, CA_EIO, path, 0, 0, "unable to write '%s': %s",
			       path, strerror(saved));
	}
	/* The report is complete under its name; a failed directory sync only
	 * weakens durability, so it is not an error. */
	dir = path_dirname(path);
	if (dir)
		output_sync(dir, 1);
	free(dir);
	return 0;
}

void output_abort(const char *tmp)
{
	if (tmp)
		unlink(tmp);
}

int output_mkdirs(const char *dir, struct err *e)
{
	char *p = strdup(dir);
	char *s;
	struct stat sb;

	if (!p)
		return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			int saved = errno;

			err_set(e, CA_EIO, dir, 0, 0, "unable to create directory '%s': %s",
				p, strerror(saved));
			free(p);
			return -1;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return err_set(e, CA_EIO, dir, 0, 0, "'%s' is not a directory", dir);
	return 0;
}
