/*
 * fuzzutil.c — the scratch directory, configuration and store that the
 * source harnesses share (fuzzutil.h).
 */
#include "fuzzutil.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

static struct fuzz_env *fuzzutil_env;

static void fuzzutil_die(const char *what, const struct err *e)
{
	fprintf(stderr, "fuzz setup: %s: %s:%d: %s\n", what, e ? e->file : "",
		e ? e->line : 0, e ? e->msg : "");
	abort();
}

static void fuzzutil_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) == EOF || fclose(f))
		fuzzutil_die(path, NULL);
}

static void fuzzutil_cleanup(void)
{
	char cmd[300];

	if (!fuzzutil_env)
		return;
	store_close(fuzzutil_env->st);
	config_free(fuzzutil_env->cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzzutil_env->dir);
	if (system(cmd)) {
		/* nothing to do: a scratch directory left behind is harmless */
	}
	fuzzutil_env = NULL;
}

static void fuzzutil_open_store(struct fuzz_env *env)
{
	char db[300];
	struct err e = {0};

	snprintf(db, sizeof db, "%s/store.db", env->dir);
	unlink(db);
	if (store_open(db, 0, &env->st, &e))
		fuzzutil_die("store", &e);
	/* durability is not under test, and an fsync per file would make the
	 * harness a hundred times slower */
	sqlite3_exec(store_db(env->st), "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	env->ctx.st = env->st;
}

void fuzz_env_init(struct fuzz_env *env, const char *data_name, const char *sources_yaml,
		   const char *const *extra)
{
	const char *tmp = getenv("TMPDIR");
	char path[300], *yaml;
	struct err e = {0};

	memset(env, 0, sizeof *env);
	snprintf(env->dir, sizeof env->dir, "%s/ca-fuzz-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(env->dir))
		fuzzutil_die("mkdtemp", NULL);
	fuzzutil_env = env;
	atexit(fuzzutil_cleanup);
	for (size_t i = 0; extra && extra[i]; i += 2) {
		snprintf(path, sizeof path, "%s/%s", env->dir, extra[i]);
		fuzzutil_write(path, extra[i + 1]);
	}
	if (asprintf(&yaml, "ca: {name: fuzz}\ntimezone: Asia/Shanghai\nsources:\n%s",
		     sources_yaml) < 0)
		abort();
	snprintf(path, sizeof path, "%s/ca-audit.yaml", env->dir);
	fuzzutil_write(path, yaml);
	free(yaml);
	if (config_load(path, &env->cfg, &e))
		fuzzutil_die("config", &e);
	snprintf(env->data, sizeof env->data, "%s/%s", env->dir, data_name);
	log_set_level(LOG_QUIET);
	log_set_progress(0);
	env->ctx.cfg = env->cfg;
	fuzzutil_open_store(env);
}

int fuzz_env_feed(struct fuzz_env *env, const uint8_t *data, size_t size)
{
	int fd;
	ssize_t w = 0;

	if (++env->runs % 256 == 0) {
		store_close(env->st);
		fuzzutil_open_store(env);
	}
	fd = open(env->data, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	if (size)
		w = write(fd, data, size);
	close(fd);
	return w == (ssize_t)size ? 0 : -1;
}
