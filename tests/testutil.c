/*
 * testutil.c — see testutil.h.
 */
#include "testutil.h"

#include <check.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

int tu_suite_failures(Suite *s, enum fork_status fork_status)
{
	SRunner *r = srunner_create(s);
	int failed;

	srunner_set_fork_status(r, fork_status);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed;
}

const char *tu_bin(void) { return env_or("CA_AUDIT_BIN", "build/ca-audit"); }
const char *tu_gen(void) { return env_or("CA_AUDIT_GEN", "build/gen"); }
const char *tu_root(void) { return env_or("CA_AUDIT_ROOT", "."); }

char *tu_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *tu_tmpdir(const char *tag)
{
	char *path = tu_fmt("%s/ca-audit-%s-XXXXXX", env_or("TMPDIR", "/tmp"), tag);

	if (!mkdtemp(path)) {
		perror("mkdtemp");
		abort();
	}
	return path;
}

void tu_rmdir(const char *dir)
{
	char *cmd;

	if (!dir || getenv("CA_AUDIT_KEEP_TMP"))
		return;
	cmd = tu_fmt("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
}

char *tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap += 65536;
			buf = realloc(buf, cap + 1);
			if (!buf)
				abort();
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int tu_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fputs(text, f) < 0;
	return fclose(f) || rc ? -1 : 0;
}

long long tu_file_size(const char *file)
{
	struct stat sb;

	return stat(file, &sb) ? -1 : (long long)sb.st_size;
}

void tu_pad_rows(sqlite3 *db, const char *table, int n, int bytes)
{
	char *sql = tu_fmt("CREATE TABLE IF NOT EXISTS %s(b BLOB);"
			   " WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k"
			   " WHERE i < %d) INSERT INTO %s SELECT zeroblob(%d) FROM k",
			   table, n, table, bytes);

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	free(sql);
}

char *tu_write_in(const char *dir, const char *name, const char *text)
{
	char *path = tu_fmt("%s/%s", dir, name);

	if (tu_write(path, text)) {
		perror(path);
		abort();
	}
	return path;
}

struct tu_out tu_run(const char *fmt, ...)
{
	struct tu_out o = {0};
	char *cmd, *dir, *full, *outp, *errp;
	va_list ap;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	dir = tu_tmpdir("run");
	outp = tu_fmt("%s/out", dir);
	errp = tu_fmt("%s/err", dir);
	full = tu_fmt("( %s ) </dev/null >'%s' 2>'%s'", cmd, outp, errp);
	st = system(full);
	if (st == -1)
		o.status = -1;
	else if (WIFEXITED(st))
		o.status = WEXITSTATUS(st);
	else
		o.status = 128 + WTERMSIG(st);
	o.out = tu_read(outp, NULL);
	o.err = tu_read(errp, NULL);
	if (!o.out)
		o.out = strdup("");
	if (!o.err)
		o.err = strdup("");
	tu_rmdir(dir);
	free(dir);
	free(outp);
	free(errp);
	free(full);
	free(cmd);
	return o;
}

void tu_out_free(struct tu_out *o)
{
	free(o->out);
	free(o->err);
	o->out = o->err = NULL;
}

int tu_count_lines(const char *s, const char *needle)
{
	int n = 0;

	while (s && *s) {
		const char *eol = strchr(s, '\n');
		size_t len = eol ? (size_t)(eol - s) : strlen(s);
		char *line = strndup(s, len);
		if (strstr(line, needle))
			n++;
		free(line);
		s += len + (eol ? 1 : 0);
	}
	return n;
}

char *tu_dump(const char *db, const char *const *sql, size_t n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	sqlite3 *h;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st;

		ck_assert_msg(sqlite3_prepare_v2(h, sql[i], -1, &st, NULL) == SQLITE_OK, "%s: %s",
			      sql[i], sqlite3_errmsg(h));
		while (sqlite3_step(st) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const unsigned char *t = sqlite3_column_text(st, c);

				fprintf(f, "%s%c", t ? (const char *)t : "-",
					c + 1 < sqlite3_column_count(st) ? '|' : '\n');
			}
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	ck_assert_int_eq(fclose(f), 0);
	return out;
}

void tu_src_open(struct tu_src *x, const char *sources_yaml)
{
	char *yaml = tu_fmt("ca:\n  name: 测试认证中心\ntimezone: Asia/Shanghai\n"
			    "sources:\n%s", sources_yaml);
	char *cfg = tu_write_in(x->dir, "ca-audit.yaml", yaml);
	char *db = tu_fmt("%s/store.db", x->dir);

	ck_assert_msg(config_load(cfg, &x->cfg, &x->e) == 0, "%s", x->e.msg);
	ck_assert_msg(store_open(db, 0, &x->st, &x->e) == 0, "%s", x->e.msg);
	x->ctx.st = x->st;
	x->ctx.cfg = x->cfg;
	free(yaml);
	free(cfg);
	free(db);
}

void tu_src_close(struct tu_src *x)
{
	store_close(x->st);
	config_free(x->cfg);
	tu_rmdir(x->dir);
	free(x->dir);
}

int tu_src_ingest(struct tu_src *x)
{
	err_clear(&x->e);
	return ingest_run(&x->ctx, &x->e);
}
