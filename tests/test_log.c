/*
 * test_log.c — the progress bar and messages on stderr (audit/log.h): a
 * short count (a check's items) is drawn as it goes, a long one (records)
 * every 1024th call at most once a second, none when no bar was started;
 * a message clears the bar first; messages from several threads come out
 * whole, one per line.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

static char *dir, *path;
static int saved = -1;

/* stderr into a file of the scratch directory. */
static void setup(void)
{
	dir = tu_tmpdir("log");
	path = tu_fmt("%s/stderr", dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_ptr_nonnull(freopen(path, "w", stderr));
	log_set_progress(1);
	log_set_level(LOG_VERBOSE);
}

static void teardown(void)
{
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	tu_rmdir(dir);
	free(dir);
	free(path);
}

/* What went to stderr so far. */
static char *written(void)
{
	char *s;

	fflush(stderr);
	s = tu_read(path, NULL);
	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(short_count_drawn_as_it_goes)
{
	char *s;

	progress_start("checking", 30);
	progress_update(1);
	s = written();
	ck_assert_msg(strstr(s, "checking 0/30 (0%)") && strstr(s, "checking 1/30 (3%)"), "%s", s);
	free(s);
	debugf("item done");
	progress_update(30);
	progress_end();
	s = written();
	/* the message starts on a cleared line; the end is drawn whole */
	ck_assert_msg(strstr(s, "\r\033[Kca-audit: item done\n"), "%s", s);
	ck_assert_msg(strstr(s, "checking 30/30 (100%)\n"), "%s", s);
	free(s);
}
END_TEST

START_TEST(long_count_drawn_every_1024th)
{
	char *s;

	/* counted with no bar started (parcopy counts rows for whoever wants
	 * them): nothing drawn */
	progress_update(1024);
	s = written();
	ck_assert_str_eq(s, "");
	free(s);

	progress_start("ingesting", 1000000);
	progress_update(1);
	progress_update(1023);
	s = written();
	ck_assert_msg(!strstr(s, "ingesting 1/") && !strstr(s, "ingesting 1023/"), "%s", s);
	free(s);
	progress_update(1024);
	s = written();
	ck_assert_msg(strstr(s, "ingesting 1024/1000000 (0%)"), "%s", s);
	free(s);
	progress_update(5000);
	progress_end();  /* the last count, whatever the call */
	s = written();
	ck_assert_msg(strstr(s, "ingesting 5000/1000000 (0%)\n"), "%s", s);
	free(s);
}
END_TEST

static void *say(void *arg)
{
	for (int i = 0; i < 200; i++)
		debugf("thread %s line %03d", (const char *)arg, i);
	return NULL;
}

START_TEST(messages_of_threads_whole)
{
	pthread_t a, b;
	char *s, *line, *save = NULL;
	int n = 0;

	progress_start("checking", 30);
	pthread_create(&a, NULL, say, "a");
	pthread_create(&b, NULL, say, "b");
	for (uint64_t i = 1; i <= 30; i++)
		progress_update(i);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	progress_end();
	s = written();
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *msg = strstr(line, "ca-audit: thread ");

		if (!msg)
			continue;
		n++;
		ck_assert_msg(strlen(msg) == strlen("ca-audit: thread a line 000") &&
			      !strstr(msg + 1, "ca-audit"), "%s", line);
	}
	ck_assert_int_eq(n, 400);
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, short_count_drawn_as_it_goes);
	tcase_add_test(tc, long_count_drawn_every_1024th);
	tcase_add_test(tc, messages_of_threads_whole);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
