/*
 * test_incremental.c — incremental ingest of append-only logs: appended
 * lines are read on from where the last ingest stopped, a rewritten or
 * truncated log is detected and read again, and an incomplete last line
 * waits for the next ingest. Runs the real binary.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *dir;

static const char *const day1 =
	"{\"kind\":\"apply\",\"at\":\"2024-03-01T09:00:00+08:00\",\"app\":\"A-1\","
	"\"applicant\":{\"type\":\"individual\",\"name\":\"张三\",\"id_type\":\"resident_id\","
	"\"id\":\"11010519491231002x\"},\"cert_type\":\"个人证书\"}\n"
	"{\"kind\":\"accept\",\"at\":\"2024-03-01T09:05:00+08:00\",\"app\":\"A-1\"}\n"
	"{\"kind\":\"bogus\",\"at\":\"2024-03-01T09:06:00+08:00\"}\n";
static const char *const day2 =
	"{\"kind\":\"review\",\"at\":\"2024-03-02T10:00:00Z\",\"app\":\"A-1\",\"result\":\"pass\"}\n"
	"{\"kind\":\"issue\",\"at\":\"2024-03-02T10:01:00\",\"app\":\"A-1\",\"serial\":\"0a1b\"}\n";

static void setup(void)
{
	char *cfg;

	dir = tu_tmpdir("incr");
	cfg = tu_fmt("ca: {name: 测试CA}\nstore: ca-audit.db\n"
		     "sources:\n  events:\n    - {type: jsonl, path: \"logs/*.jsonl\"}\n");
	free(tu_write_in(dir, "ca-audit.yaml", cfg));
	free(cfg);
	{
		struct tu_out o = tu_run("mkdir -p '%s/logs'", dir);
		tu_out_free(&o);
	}
}

static void teardown(void)
{
	tu_rmdir(dir);
	free(dir);
}

/* ingest into db under dir, with environment assignments env */
static struct tu_out ingest_env(const char *env, const char *db)
{
	return tu_run("%s '%s' -c '%s/ca-audit.yaml' --db '%s/%s' ingest", env, tu_bin(), dir,
		      dir, db);
}

static struct tu_out ingest(const char *db)
{
	return ingest_env("", db);
}

static void write_log(const char *text, const char *mode)
{
	char *path = tu_fmt("%s/logs/ra.jsonl", dir);
	FILE *f = fopen(path, mode);

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* Every stored event, reject and source row as text, for comparing stores. */
static char *dump(const char *db)
{
	static const char *const sql[] = {
		"SELECT ifnull(at,'')||'|'||ifnull(kind,'')||'|'||ifnull(app,'')||'|'||ifnull(serial,'')||'|'||ifnull(result,'')||'|'||ifnull(source,'')||'|'||ifnull(line,'')"
		" FROM event ORDER BY source, line",
		"SELECT ifnull(source,'')||'|'||ifnull(line,'')||'|'||ifnull(reason,'') FROM reject ORDER BY source, line",
		"SELECT ifnull(app,'')||'|'||ifnull(applicant_id,'') FROM application ORDER BY app",
		"SELECT ifnull(path,'')||'|'||ifnull(size,'')||'|'||ifnull(sha256,'')||'|'||ifnull(lines,'')||'|'||ifnull(records,'')||'|'||ifnull(rejects,'')"
		" FROM source_file ORDER BY path",
	};
	char *path = tu_fmt("%s/%s", dir, db), *out = calloc(1, 1);
	sqlite3 *h;

	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
		sqlite3_stmt *st;
		ck_assert_int_eq(sqlite3_prepare_v2(h, sql[i], -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char *next = tu_fmt("%s%s\n", out, (const char *)sqlite3_column_text(st, 0));
			free(out);
			out = next;
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	free(path);
	return out;
}

START_TEST(day_by_day_equals_all_at_once)
{
	struct tu_out o;
	char *a, *b;

	write_log(day1, "w");
	o = ingest("daily.db");
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	write_log(day2, "a");
	o = ingest("daily.db");
	ck_assert_msg(o.status == 0, "%s", o.err);
	/* only the two appended lines are read */
	ck_assert_msg(strstr(o.err, "2 records, 2 new"), "%s", o.err);
	tu_out_free(&o);
	o = ingest("once.db");
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	a = dump("daily.db");
	b = dump("once.db");
	ck_assert_msg(!strcmp(a, b), "day by day:\n%s\nat once:\n%s", a, b);
	ck_assert_msg(strstr(a, "2024-03-02 02:01:00|issue|A-1|0A1B||logs/ra.jsonl|5"), "%s", a);
	free(a);
	free(b);
}
END_TEST

/* -v: a first load, whose lookup indexes were deferred, says how long
 * each took to build (the bench reads these lines); a later ingest into a
 * store with events keeps the event indexes and says nothing of them. */
START_TEST(verbose_ingest_times_the_deferred_indexes)
{
	static const char *const indexes[] = {"event_app", "event_serial", "event_kind"};
	struct tu_out o;

	write_log(day1, "w");
	o = tu_run("'%s' -v -c '%s/ca-audit.yaml' --db '%s/v.db' ingest", tu_bin(), dir, dir);
	ck_assert_msg(o.status == 0, "%s", o.err);
	for (size_t i = 0; i < sizeof indexes / sizeof *indexes; i++) {
		char *want = tu_fmt("ca-audit: built index %s in ", indexes[i]);

		ck_assert_msg(strstr(o.err, want), "no '%s' in:\n%s", want, o.err);
		free(want);
	}
	tu_out_free(&o);
	write_log(day2, "a");
	o = tu_run("'%s' -v -c '%s/ca-audit.yaml' --db '%s/v.db' ingest", tu_bin(), dir, dir);
	ck_assert_msg(o.status == 0 && strstr(o.err, "2 records, 2 new"), "%s", o.err);
	ck_assert_msg(!strstr(o.err, "built index event_"), "%s", o.err);
	tu_out_free(&o);
}
END_TEST

/* Parsing in the calling thread (CA_AUDIT_THREADS=1) stores what parsing
 * in a second thread stores: events, rejects with their lines, and where
 * the log was read to, an incomplete last line left for later. */
START_TEST(one_thread_stores_the_same)
{
	struct tu_out o;
	char *a, *b;

	write_log(day1, "w");
	for (int i = 0; i < 300; i++)  /* a few of the pipe's batches */
		write_log(day2, "a");
	write_log("{\"kind\":\"accept\",\"at\":", "a");
	o = ingest_env("CA_AUDIT_THREADS=1", "one.db");
	ck_assert_msg(o.status == 0 && strstr(o.err, "603 records, 602 new, 1 rejected"), "%s",
		      o.err);
	tu_out_free(&o);
	o = ingest_env("CA_AUDIT_THREADS=2", "two.db");
	ck_assert_msg(o.status == 0 && strstr(o.err, "603 records, 602 new, 1 rejected"), "%s",
		      o.err);
	tu_out_free(&o);
	a = dump("one.db");
	b = dump("two.db");
	ck_assert_msg(!strcmp(a, b), "one thread:\n%s\ntwo:\n%s", a, b);
	ck_assert_msg(strstr(a, "logs/ra.jsonl|3|unknown kind 'bogus'"), "%s", a);
	ck_assert_msg(strstr(a, "|issue|A-1|0A1B||logs/ra.jsonl|603\n"), "%s", a);
	free(a);
	free(b);
}
END_TEST

START_TEST(rewritten_log_is_read_again)
{
	struct tu_out o;
	char *a;

	write_log(day1, "w");
	write_log(day2, "a");
	o = ingest("t.db");
	tu_out_free(&o);
	/* the RA system rotated the file: same name, other content */
	write_log(day2, "w");
	o = ingest("t.db");
	ck_assert_msg(o.status == 0, "%s", o.err);
	ck_assert_msg(strstr(o.err, "logs/ra.jsonl: the file was rewritten or truncated"), "%s",
		      o.err);
	tu_out_free(&o);
	a = dump("t.db");
	/* the old lines are gone: only day 2's two events, at lines 1 and 2 */
	ck_assert_int_eq(tu_count_lines(a, "|logs/ra.jsonl|1"), 1);
	ck_assert_msg(!strstr(a, "accept"), "%s", a);
	ck_assert_msg(!strstr(a, "bogus"), "the old reject survived: %s", a);
	free(a);
}
END_TEST

START_TEST(incomplete_last_line_waits)
{
	struct tu_out o;
	char *a;
	const char *half = "{\"kind\":\"review\",\"at\":\"2024-03-02T10:00:00Z\",\"app\"";

	write_log(day1, "w");
	write_log(half, "a");
	o = ingest("t.db");
	ck_assert_msg(o.status == 0, "%s", o.err);
	ck_assert_msg(strstr(o.err, "logs/ra.jsonl:4: the last line is incomplete"), "%s", o.err);
	tu_out_free(&o);
	write_log(":\"A-1\",\"result\":\"pass\"}\n", "a");
	o = ingest("t.db");
	ck_assert_msg(o.status == 0, "%s", o.err);
	ck_assert_msg(strstr(o.err, "1 records, 1 new"), "%s", o.err);
	tu_out_free(&o);
	a = dump("t.db");
	ck_assert_msg(strstr(a, "review|A-1||pass|logs/ra.jsonl|4"), "%s", a);
	ck_assert_int_eq(tu_count_lines(a, "invalid JSON"), 0);
	free(a);
}
END_TEST

/* An unchanged size and modification time mean an unchanged file: it is
 * not read (nor digested) again; --full reads it whatever its time says. */
START_TEST(same_size_and_time_are_not_read_again)
{
	struct tu_out o;
	char *a;

	write_log(day1, "w");
	o = ingest("t.db");
	tu_out_free(&o);
	/* same length, other content, and the old time put back */
	o = tu_run("cd '%s/logs' && cp -p ra.jsonl old && sed -i 's/09:05:00/09:06:00/' ra.jsonl"
		   " && touch -r old ra.jsonl && rm old", dir);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	o = ingest("t.db");
	ck_assert_msg(strstr(o.err, "0 files read, 1 unchanged"), "%s", o.err);
	tu_out_free(&o);
	a = dump("t.db");
	ck_assert_msg(strstr(a, "2024-03-01 01:05:00|accept"), "%s", a);
	free(a);
	o = tu_run("'%s' -c '%s/ca-audit.yaml' --db '%s/t.db' ingest --full", tu_bin(), dir, dir);
	ck_assert_msg(strstr(o.err, "1 files read"), "%s", o.err);
	tu_out_free(&o);
	a = dump("t.db");
	ck_assert_msg(strstr(a, "2024-03-01 01:06:00|accept"), "--full missed the change: %s", a);
	ck_assert_msg(!strstr(a, "2024-03-01 01:05:00|accept"), "%s", a);
	free(a);
	/* a file only touched is digested once, found equal, and then skipped */
	o = tu_run("touch '%s/logs/ra.jsonl'", dir);
	tu_out_free(&o);
	o = ingest("t.db");
	ck_assert_msg(strstr(o.err, "0 files read, 1 unchanged"), "%s", o.err);
	tu_out_free(&o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("incremental");
	TCase *tc = tcase_create("logs");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, day_by_day_equals_all_at_once);
	tcase_add_test(tc, one_thread_stores_the_same);
	tcase_add_test(tc, verbose_ingest_times_the_deferred_indexes);
	tcase_add_test(tc, rewritten_log_is_read_again);
	tcase_add_test(tc, incomplete_last_line_waits);
	tcase_add_test(tc, same_size_and_time_are_not_read_again);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
