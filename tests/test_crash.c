/*
 * test_crash.c — crash safety (DESIGN §11): `ingest` and `check` killed with
 * SIGKILL at several moments leave a store from which the next run completes
 * the work, to exactly the result of an uninterrupted run.
 *
 * main() generates one dataset of two thousand certificates and makes the
 * reference: a store ingested and checked without interruption. Each test
 * spawns the binary on the same dataset with --db naming a fresh store,
 * kills it after a delay, runs it again to completion, and compares the
 * store with the reference as sorted dumps read through the SQLite API: the
 * evidence (certificate, event, application, reject, crl, crl_entry and what
 * each source file contributed) and the latest run's item results and
 * findings — without the history fields, which a check that was killed after
 * committing legitimately changes ("open" instead of "new").
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define AS_OF "2026-01-15"


static const char *const evidence_sql[] = {
	"SELECT * FROM certificate", "SELECT * FROM event", "SELECT * FROM application",
	"SELECT * FROM reject", "SELECT * FROM crl", "SELECT * FROM crl_entry",
	"SELECT path, kind, type, size, sha256, lines, records, rejects FROM source_file",
	NULL};

static const char *const results_sql[] = {
	"SELECT checklist, item, result, checked, violations, value, note FROM item_result"
	" WHERE run = (SELECT max(id) FROM run)",
	"SELECT checklist, item, key, severity, message, evidence, record_date FROM finding"
	" WHERE run = (SELECT max(id) FROM run) AND status <> 'fixed'",
	NULL};

static char *ds, *cfg, *ref_db, *ref_evidence, *ref_results;

/* check's passing asserts report to the runner, which main() is not under
 * while it makes the reference: helpers only abort on failure. */
#define NEED(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The rows of each query, sorted, one line each, after a count line. */
static char *dump(const char *db_path, const char *const *queries)
{
	sqlite3 *db;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	NEED(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open %s",
	     db_path);
	for (int q = 0; queries[q]; q++) {
		sqlite3_stmt *st;
		char **rows = NULL;
		size_t n = 0, cap = 0;

		NEED(sqlite3_prepare_v2(db, queries[q], -1, &st, NULL) == SQLITE_OK, "%s: %s",
		     queries[q], sqlite3_errmsg(db));
		while (sqlite3_step(st) == SQLITE_ROW) {
			char *r = NULL;
			size_t rl = 0;
			FILE *rm = open_memstream(&r, &rl);

			for (int i = 0; i < sqlite3_column_count(st); i++) {
				const unsigned char *v = sqlite3_column_text(st, i);
				fprintf(rm, "%s%s", i ? "|" : "", v ? (const char *)v : "~");
			}
			fclose(rm);
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				rows = realloc(rows, cap * sizeof *rows);
			}
			rows[n++] = r;
		}
		sqlite3_finalize(st);
		if (n) /* qsort wants a non-null array even when empty */
			qsort(rows, n, sizeof *rows, cmp_str);
		fprintf(m, "== %s: %zu rows\n", queries[q], n);
		for (size_t i = 0; i < n; i++) {
			fprintf(m, "%s\n", rows[i]);
			free(rows[i]);
		}
		free(rows);
	}
	sqlite3_close(db);
	fclose(m);
	return out;
}

/* The first line where a and b differ, for the failure message. */
static char *first_difference(const char *a, const char *b)
{
	const char *la = a, *lb = b;

	while (*a && *a == *b) {
		if (*a == '\n') {
			la = a + 1;
			lb = b + 1;
		}
		a++;
		b++;
	}
	return tu_fmt("want '%.200s', got '%.200s'", la, lb);
}

static void assert_same(const char *want, const char *got, const char *what)
{
	if (strcmp(want, got)) {
		char *d = first_difference(want, got);

		ck_abort_msg("%s differs from the uninterrupted run: %s", what, d);
	}
}

/* Runs ca-audit with args on store db, killing it with SIGKILL after ms
 * milliseconds (0: let it finish). Returns 1 when it was killed, 0 when it
 * had already finished. */
static int run_killed(const char *db, const char *const *args, long ms)
{
	const char *argv[32];
	int n = 0, status;
	pid_t pid;

	argv[n++] = tu_bin();
	argv[n++] = "-c";
	argv[n++] = cfg;
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n++] = "--as-of";
	argv[n++] = AS_OF;
	argv[n++] = "--no-progress";
	argv[n++] = "-q";
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	NEED(pid >= 0, "fork failed");
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (ms > 0) {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	NEED(waitpid(pid, &status, 0) == pid, "waitpid failed");
	if (WIFSIGNALED(status))
		return 1;
	NEED(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 2),
	     "%s exited %d", args[0], WEXITSTATUS(status));
	return 0;
}

static const char *const ingest_args[] = {"ingest", NULL};
static const char *const check_args[] = {"check", "--checklist", "miit-2022", "--checklist",
					 "egov-2009", "--checklist", "shenzhen-2011",
					 "--checklist", "gd-hk-2012", NULL};

/* Ingest killed after these many milliseconds, then run again. */
static const long ingest_delays[] = {50, 200, 600, 1000, 2000};

START_TEST(ingest_killed)
{
	char *db = tu_fmt("%s/ingest-%ld.db", ds, ingest_delays[_i]);
	char *got;
	int killed;

	killed = run_killed(db, ingest_args, ingest_delays[_i]);
	/* a second interruption of the resumed run */
	if (killed)
		run_killed(db, ingest_args, ingest_delays[_i] / 2 + 10);
	run_killed(db, ingest_args, 0);
	got = dump(db, evidence_sql);
	assert_same(ref_evidence, got, "the evidence");
	free(got);
	run_killed(db, check_args, 0);
	got = dump(db, results_sql);
	assert_same(ref_results, got, "the findings");
	free(got);
	free(db);
}
END_TEST

/* Check killed after these many milliseconds, then run again. */
static const long check_delays[] = {20, 80, 200, 400};

START_TEST(check_killed)
{
	char *db = tu_fmt("%s/check-%ld.db", ds, check_delays[_i]);
	struct tu_out o = tu_run("cp '%s' '%s'", ref_db, db);
	char *got;

	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	/* the reference has one finished run; kill a second, then complete it */
	run_killed(db, check_args, check_delays[_i]);
	run_killed(db, check_args, 0);
	got = dump(db, results_sql);
	assert_same(ref_results, got, "the findings");
	free(got);
	got = dump(db, evidence_sql);
	assert_same(ref_evidence, got, "the evidence");
	free(got);
	free(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("crash");
	struct tu_out o;
	int failed;

	ds = tu_tmpdir("crash");
	o = tu_run("'%s' -o '%s' --certs 2000 --violations 0.2", tu_gen(), ds);
	if (o.status) {
		fprintf(stderr, "dataset: exit %d: %s\n", o.status, o.err);
		return EXIT_FAILURE;
	}
	tu_out_free(&o);
	cfg = tu_fmt("%s/ca-audit.yaml", ds);
	ref_db = tu_fmt("%s/reference.db", ds);
	if (run_killed(ref_db, ingest_args, 0) || run_killed(ref_db, check_args, 0))
		return EXIT_FAILURE;
	ref_evidence = dump(ref_db, evidence_sql);
	ref_results = dump(ref_db, results_sql);
	/* a reference without findings would make the comparison meaningless */
	if (!strstr(ref_results, "serial:") || !strstr(ref_evidence, "== SELECT * FROM event")) {
		fprintf(stderr, "reference has no findings\n");
		return EXIT_FAILURE;
	}
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, ingest_killed, 0, sizeof ingest_delays / sizeof *ingest_delays);
	tcase_add_loop_test(tc, check_killed, 0, sizeof check_delays / sizeof *check_delays);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	tu_rmdir(ds);
	free(ds);
	free(cfg);
	free(ref_db);
	free(ref_evidence);
	free(ref_results);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
