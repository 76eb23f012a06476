/*
 * test_walckpt.c — WAL checkpoints beside the writer: a commit past the
 * limit gets its frames copied into the database file by the other thread,
 * a commit below it does not, nothing is lost, and stopping gives the
 * writer its own autocheckpoint back. Where there is no WAL file there is
 * no checkpointer.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "walckpt.h"

static char *dir, *path;
static sqlite3 *db;
static long long before;  /* the database file's size once set up */

static void setup(void)
{
	dir = tu_tmpdir("walckpt");
	path = tu_fmt("%s/t.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL;"
				      " PRAGMA synchronous=NORMAL;"
				      " CREATE TABLE t(b BLOB);",
				      NULL, NULL, NULL), SQLITE_OK);
	/* the table's creation is in the database file, the rows to come not */
	ck_assert_int_eq(sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE,
						   NULL, NULL), SQLITE_OK);
	before = tu_file_size(path);
}

static void teardown(void)
{
	sqlite3_close(db);
	tu_rmdir(dir);
	free(dir);
	free(path);
}

/* A checkpointer for db at `pages` frames. */
static struct walckpt *started(int pages)
{
	struct walckpt *w = walckpt_start(db, pages);

	ck_assert_ptr_nonnull(w);
	return w;
}

/* One transaction of n rows of a page each (4 KiB pages). */
static void commit_rows(int n)
{
	tu_pad_rows(db, "t", n, 3000);
}

/* Waits up to ten seconds for w's thread to have run a checkpoint. */
static unsigned wait_runs(struct walckpt *w)
{
	for (int i = 0; i < 1000 && walckpt_runs(w) == 0; i++)
		usleep(10000);
	return walckpt_runs(w);
}

/* The rows of t, read on another connection. */
static long long rows(void)
{
	const char *const count[] = {"SELECT count(*) FROM t"};
	char *dump = tu_dump(path, count, 1);
	long long n = atoll(dump);

	free(dump);
	return n;
}

START_TEST(a_commit_past_the_limit_is_checkpointed_by_the_other_thread)
{
	struct walckpt *w = started(50);

	commit_rows(200);
	ck_assert_uint_ge(wait_runs(w), 1);
	/* the 200 pages are in the database file now, not only in the WAL */
	ck_assert_int_ge(tu_file_size(path), before + 200 * 4096);
	walckpt_stop(w, db, 1000);
	ck_assert_int_eq(rows(), 200);
}
END_TEST

START_TEST(a_commit_below_the_limit_is_left_in_the_wal)
{
	struct walckpt *w = started(100000);

	commit_rows(200);
	commit_rows(200);
	usleep(200000);
	ck_assert_uint_eq(walckpt_runs(w), 0);
	ck_assert_int_eq(tu_file_size(path), before);
	walckpt_stop(w, db, 100000);
	ck_assert_int_eq(rows(), 400);
}
END_TEST

START_TEST(stopping_gives_the_writer_its_autocheckpoint_back)
{
	struct walckpt *w = started(100000);

	walckpt_stop(w, db, 20);
	/* the writer checkpoints in its own commit again: the file has grown
	 * when the commit returns */
	commit_rows(100);
	ck_assert_int_ge(tu_file_size(path), before + 100 * 4096);
}
END_TEST

START_TEST(writes_go_on_while_it_checkpoints)
{
	struct walckpt *w = started(20);

	for (int i = 0; i < 40; i++)
		commit_rows(50);
	walckpt_stop(w, db, 1000);
	ck_assert_int_eq(rows(), 2000);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA integrity_check", NULL, NULL, NULL), SQLITE_OK);
}
END_TEST

START_TEST(no_checkpointer_without_a_wal_file)
{
	sqlite3 *mem, *rollback;
	char *other = tu_fmt("%s/rollback.db", dir);

	ck_assert_int_eq(sqlite3_open(":memory:", &mem), SQLITE_OK);
	ck_assert_ptr_null(walckpt_start(mem, 10));
	sqlite3_close(mem);
	ck_assert_int_eq(sqlite3_open(other, &rollback), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(rollback, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x)",
				      NULL, NULL, NULL), SQLITE_OK);
	ck_assert_ptr_null(walckpt_start(rollback, 10));
	sqlite3_close(rollback);
	free(other);
	walckpt_stop(NULL, db, 1000);  /* does nothing */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walckpt");
	TCase *tc = tcase_create("walckpt");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_commit_past_the_limit_is_checkpointed_by_the_other_thread);
	tcase_add_test(tc, a_commit_below_the_limit_is_left_in_the_wal);
	tcase_add_test(tc, stopping_gives_the_writer_its_autocheckpoint_back);
	tcase_add_test(tc, writes_go_on_while_it_checkpoints);
	tcase_add_test(tc, no_checkpointer_without_a_wal_file);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
