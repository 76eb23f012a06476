/*
 * test_store.c — the evidence store: schema versioning, refusing what is not
 * ours or is newer, and idempotent puts.
 */
#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "testutil.h"

static char *dir, *path;

static void setup(void)
{
	dir = tu_tmpdir("store");
	path = tu_fmt("%s/t.db", dir);
}

static void teardown(void)
{
	tu_rmdir(dir);
	free(dir);
	free(path);
}

static void raw_exec(const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Sends stderr to file until stderr_back(the returned descriptor). */
static int stderr_to(const char *file)
{
	int saved = dup(2), fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
	return saved;
}

static void stderr_back(int saved)
{
	fflush(stderr);
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
}

static int page_size(const char *file)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int n = -1;

	ck_assert_int_eq(sqlite3_open(file, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

START_TEST(new_store_has_schema_version)
{
	struct store *st;
	struct err e = {0};
	char *v;

	ck_assert_int_eq(store_open(path, 0, &st, &e), 0);
	v = store_meta_get(st, "schema_version");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(atoi(v), STORE_SCHEMA_VERSION);
	free(v);
	ck_assert_int_eq(store_count(st, "certificate"), 0);
	store_close(st);
	ck_assert_int_eq(page_size(path), 16384);
	/* reopening an existing store keeps it */
	ck_assert_int_eq(store_open(path, 1, &st, &e), 0);
	store_close(st);
}
END_TEST

START_TEST(newer_store_is_refused)
{
	struct store *st;
	struct err e = {0};

	ck_assert_int_eq(store_open(path, 0, &st, &e), 0);
	store_close(st);
	raw_exec("UPDATE meta SET value = '999' WHERE key = 'schema_version'");
	ck_assert_int_eq(store_open(path, 0, &st, &e), -1);
	ck_assert_ptr_null(st);
	ck_assert_str_eq(e.file, path);
	ck_assert_msg(strstr(e.msg, "written by a newer ca-audit (schema 999"), "%s", e.msg);
}
END_TEST

static int one_row(void *p, int n, char **v, char **names)
{
	(void)n, (void)v, (void)names;
	++*(int *)p;
	return 0;
}

START_TEST(older_store_is_migrated)
{
	int rows = 0;
	struct store *st;
	struct err e = {0};
	struct source_state ss = {.size = 1, .mtime_ns = 42};
	char *v;

	ck_assert_int_eq(store_open(path, 0, &st, &e), 0);
	store_close(st);
	/* what schema 1 looked like: no mtime_ns, no certificate_not_before */
	raw_exec("ALTER TABLE source_file DROP COLUMN mtime_ns; DROP INDEX certificate_not_before;"
		 " DROP VIEW issuance; CREATE VIEW issuance AS SELECT 1 AS old;"
		 " UPDATE meta SET value = '1' WHERE key = 'schema_version'");
	ck_assert_msg(store_open(path, 0, &st, &e) == 0, "%s", e.msg);
	v = store_meta_get(st, "schema_version");
	ck_assert_int_eq(atoi(v), STORE_SCHEMA_VERSION);
	free(v);
	ck_assert_int_eq(store_source_put(st, "a.jsonl", &ss, &e), 0);
	memset(&ss, 0, sizeof ss);
	ck_assert_int_eq(store_source_get(st, "a.jsonl", &ss, &e), 1);
	ck_assert_int_eq(ss.mtime_ns, 42);
	ck_assert_int_eq(sqlite3_exec(store_db(st), "SELECT 1 FROM sqlite_master WHERE name ="
				      " 'certificate_not_before'", one_row, &rows, NULL), SQLITE_OK);
	ck_assert_int_eq(rows, 1);
	/* the view is this version's again */
	ck_assert_int_eq(sqlite3_exec(store_db(st), "SELECT 1 FROM pragma_table_info('issuance')"
				      " WHERE name = 't_identity'", one_row, &rows, NULL), SQLITE_OK);
	ck_assert_int_eq(rows, 2);
	ck_assert_int_eq(sqlite3_exec(store_db(st), "SELECT 1 FROM pragma_table_info('issuance')"
				      " WHERE name = 't_misdeliver'", one_row, &rows, NULL), SQLITE_OK);
	ck_assert_int_eq(rows, 3);
	store_close(st);
}
END_TEST

/* Schema 5's event_serial held every event; 6 leaves out those naming no
 * certificate, and a lookup by serial still uses it. */
START_TEST(schema_5_store_gets_the_partial_event_serial)
{
	static const char plan[] = "EXPLAIN QUERY PLAN SELECT at FROM event"
				   " WHERE serial = '0A' AND kind = 'issue'";
	struct store *st;
	struct err e = {0};
	sqlite3_stmt *q;
	char *v, *said, *want, *log = tu_fmt("%s/stderr.txt", dir);
	int uses = 0, saved;

	ck_assert_int_eq(store_open(path, 0, &st, &e), 0);
	store_close(st);
	raw_exec("DROP INDEX event_serial; CREATE INDEX event_serial ON event(serial, kind, at);"
		 " UPDATE meta SET value = '5' WHERE key = 'schema_version'");
	saved = stderr_to(log);
	ck_assert_msg(store_open(path, 0, &st, &e) == 0, "%s", e.msg);
	stderr_back(saved);
	/* the user is told why this open takes a while */
	said = tu_read(log, NULL);
	want = tu_fmt("%s: upgrading the store from schema 5 to %d", path, STORE_SCHEMA_VERSION);
	ck_assert_msg(said && strstr(said, want), "stderr: %s", said ? said : "(unreadable)");
	free(said);
	free(want);
	v = store_meta_get(st, "schema_version");
	ck_assert_int_eq(atoi(v), STORE_SCHEMA_VERSION);
	free(v);
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), "SELECT sql FROM sqlite_master WHERE"
					    " name = 'event_serial'", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 0),
			 "CREATE INDEX event_serial ON event(serial, kind, at) WHERE serial IS NOT NULL");
	sqlite3_finalize(q);
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), plan, -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW)
		uses += strstr((const char *)sqlite3_column_text(q, 3), "INDEX event_serial") != NULL;
	sqlite3_finalize(q);
	ck_assert_int_eq(uses, 1);
	store_close(st);
	free(log);
}
END_TEST

START_TEST(foreign_database_is_refused)
{
	struct store *st;
	struct err e = {0};

	raw_exec("CREATE TABLE something(x)");
	ck_assert_int_eq(store_open(path, 0, &st, &e), -1);
	ck_assert_msg(strstr(e.msg, "not a ca-audit store"), "%s", e.msg);
}
END_TEST

START_TEST(missing_store_read_only_is_an_error)
{
	struct store *st;
	struct err e = {0};

	ck_assert_int_eq(store_open(path, 1, &st, &e), -1);
	ck_assert_str_eq(e.file, path);
	ck_assert_msg(strstr(e.msg, "unable to open the store"), "%s", e.msg);
}
END_TEST

/* The number of threads is decided once a process (threads.h): this test
 * sets it before anything asks, and a forked test (check's default) starts
 * afresh. */
START_TEST(checkpoints_go_aside_and_come_back)
{
	struct store *st;
	struct err e = {0};
	long long before;

	setenv("CA_AUDIT_THREADS", "2", 1);
	ck_assert_int_eq(store_open(path, 0, &st, &e), 0);
	ck_assert_int_eq(store_checkpoints_aside(st), 1);
	ck_assert_int_eq(store_checkpoints_aside(st), 1);  /* already aside */
	/* a bulk load while they are aside leaves them there: a commit past
	 * SQLite's 1000 frames, below the 4096 that wake the checkpointer,
	 * stays in the WAL */
	ck_assert_int_eq(store_bulk_begin(st, &e), 0);
	ck_assert_int_eq(store_bulk_end(st, &e), 0);
	before = tu_file_size(path);
	tu_pad_rows(store_db(st), "pad", 1100, 15000);
	ck_assert_int_eq(tu_file_size(path), before);
	store_checkpoints_back(st);
	unsetenv("CA_AUDIT_THREADS");
	/* back with the writer: a commit past SQLite's 1000 frames has put its
	 * pages in the store file when it returns */
	before = tu_file_size(path);
	tu_pad_rows(store_db(st), "pad", 1100, 15000);
	ck_assert_int_ge(tu_file_size(path), before + 1000LL * 16384);
	store_close(st);
}
END_TEST

START_TEST(puts_are_idempotent)
{
	struct store *st;
	struct err e = {0};
	struct cert_rec c = {0};
	struct event_rec ev = {0};
	int added = -1;

	ck_assert_int_eq(store_open(path, 0, &st, &e), 0);
	c.serial = "0A1B";
	c.issuer = "CN=Root,C=CN";
	c.cn = "张三";
	ck_assert_int_eq(store_put_certificate(st, &c, &added, &e), 0);
	ck_assert_int_eq(added, 1);
	ck_assert_int_eq(store_put_certificate(st, &c, &added, &e), 0);
	ck_assert_int_eq(added, 0);
	/* a later source that knows the revocation refreshes the status only */
	c.status = "revoked";
	c.revoked_at = "2024-01-02 03:04:05";
	ck_assert_int_eq(store_put_certificate(st, &c, &added, &e), 0);
	ck_assert_int_eq(added, 0);
	ck_assert_int_eq(store_count(st, "certificate"), 1);

	ev.at = "2024-01-01 00:00:00";
	ev.kind = "accept";
	ev.app = "A-1";
	ev.source = "logs/a.jsonl";
	ev.line = 3;
	ck_assert_int_eq(store_put_event(st, &ev, &added, &e), 0);
	ck_assert_int_eq(added, 1);
	ck_assert_int_eq(store_put_event(st, &ev, &added, &e), 0);
	ck_assert_int_eq(added, 0);
	ck_assert_int_eq(store_put_reject(st, "logs/a.jsonl", 4, "bad", &added, &e), 0);
	ck_assert_int_eq(added, 1);
	ck_assert_int_eq(store_put_reject(st, "logs/a.jsonl", 4, "bad", &added, &e), 0);
	ck_assert_int_eq(added, 0);
	store_close(st);
	{
		sqlite3 *db;
		sqlite3_stmt *q;
		ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT status, revoked_at, cn FROM"
						    " certificate", -1, &q, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "revoked");
		ck_assert_str_eq((const char *)sqlite3_column_text(q, 1), "2024-01-02 03:04:05");
		ck_assert_str_eq((const char *)sqlite3_column_text(q, 2), "张三");
		sqlite3_finalize(q);
		sqlite3_close(db);
	}
}
END_TEST

START_TEST(certificate_needs_serial_and_issuer)
{
	struct store *st;
	struct err e = {0};
	struct cert_rec c = {0};

	ck_assert_int_eq(store_open(path, 0, &st, &e), 0);
	c.serial = "01";
	c.source = "x.pem";
	ck_assert_int_eq(store_put_certificate(st, &c, NULL, &e), -1);
	ck_assert_str_eq(e.msg, "certificate without serial or issuer");
	store_close(st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, new_store_has_schema_version);
	tcase_add_test(tc, schema_5_store_gets_the_partial_event_serial);
	tcase_add_test(tc, newer_store_is_refused);
	tcase_add_test(tc, older_store_is_migrated);
	tcase_add_test(tc, foreign_database_is_refused);
	tcase_add_test(tc, missing_store_read_only_is_an_error);
	tcase_add_test(tc, puts_are_idempotent);
	tcase_add_test(tc, checkpoints_go_aside_and_come_back);
	tcase_add_test(tc, certificate_needs_serial_and_issuer);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
