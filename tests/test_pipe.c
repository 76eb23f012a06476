/*
 * test_pipe.c — ingest's producer/consumer pipe (ingest_pipe_run): every
 * item is consumed in the order produced and dropped exactly once; consumed
 * batches go back to the producing thread to be dropped (an item's memory is
 * freed by the thread that allocated it); a failing consume stops the
 * producer and still drops every item; with one thread the two alternate.
 * The same for ingest_pipe_run_par, whose items are read by one worker at a
 * time and decoded by several at once: still consumed in reading order,
 * each decoded once, each worker index always the same thread.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "testutil.h"

#define N 20000
#define IN_FLIGHT (INGEST_PIPE_SLOTS * INGEST_PIPE_BATCH)

struct item {
	long n;
	pthread_t made_by;
	int worked;                  /* times work decoded it */
};

struct run {
	long produced, consumed;
	long fail_at;                /* consume fails on this item; 0: never */
	int dropped[N + 1];
	long dropped_by_maker;       /* dropped in the thread that produced it */
	int out_of_order;
	pthread_mutex_t mu;          /* drop and work run in any thread */
	/* ingest_pipe_run_par: */
	long not_worked;             /* consumed before work decoded it */
	long worked_by[INGEST_PIPE_WORKERS]; /* items decoded by worker i */
	pthread_t worker_thread[INGEST_PIPE_WORKERS];
	int worker_moved;            /* a worker index seen in two threads */
	int bad_worker;              /* an index out of range */
};

static struct run *r;

static void *produce(void *arg)
{
	struct run *run = arg;
	struct item *it;

	if (run->produced == N)
		return NULL;
	it = malloc(sizeof *it);
	ck_assert_ptr_nonnull(it);
	it->n = ++run->produced;
	it->made_by = pthread_self();
	it->worked = 0;
	return it;
}

static int consume(void *item, void *arg, struct err *e)
{
	struct run *run = arg;
	const struct item *it = item;

	if (it->n != run->consumed + 1)
		run->out_of_order = 1;
	if (it->worked != 1)
		run->not_worked++;
	run->consumed = it->n;
	if (it->n == run->fail_at)
		return err_set(e, CA_EINPUT, "log", (int)it->n, 0, "stop here");
	return 0;
}

static void drop(void *item)
{
	struct item *it = item;

	pthread_mutex_lock(&r->mu);
	r->dropped[it->n]++;
	if (pthread_equal(it->made_by, pthread_self()))
		r->dropped_by_maker++;
	pthread_mutex_unlock(&r->mu);
	free(it);
}

/* Decoding takes a while (20 µs an item), so that workers overlap. */
static void work(void *item, void *arg, unsigned worker)
{
	struct run *run = arg;
	struct item *it = item;
	struct timespec ts = {0, 20000};

	nanosleep(&ts, NULL);
	pthread_mutex_lock(&run->mu);
	it->worked++;
	if (worker >= INGEST_PIPE_WORKERS) {
		run->bad_worker = 1;
	} else {
		if (run->worked_by[worker]++ &&
		    !pthread_equal(run->worker_thread[worker], pthread_self()))
			run->worker_moved = 1;
		run->worker_thread[worker] = pthread_self();
	}
	pthread_mutex_unlock(&run->mu);
}

static void setup(void)
{
	r = calloc(1, sizeof *r);
	ck_assert_ptr_nonnull(r);
	pthread_mutex_init(&r->mu, NULL);
}

static void teardown(void)
{
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* Each item produced is dropped once; none that was not produced. */
static void assert_all_dropped_once(void)
{
	for (long i = 1; i <= N; i++)
		ck_assert_msg(r->dropped[i] == (i <= r->produced), "item %ld dropped %d times",
			      i, r->dropped[i]);
}

/* Runs the pipe (par: ingest_pipe_run_par) with $CA_AUDIT_THREADS threads
 * and consume failing on item fail_at: the run fails with consume's error,
 * every item up to it consumed once, in order (and decoded, when par), the
 * producer stopped after at most max_produced items, every item dropped
 * once. */
static void run_to_failure(const char *threads, long fail_at, int par, long max_produced)
{
	struct err e = {0};

	setenv("CA_AUDIT_THREADS", threads, 1);
	r->fail_at = fail_at;
	ck_assert_int_eq(par ? ingest_pipe_run_par(produce, work, r, consume, r, drop, &e)
			     : ingest_pipe_run(produce, r, consume, r, drop, &e), -1);
	ck_assert_str_eq(e.msg, "stop here");
	ck_assert_int_eq(r->consumed, fail_at);
	ck_assert_int_eq(r->out_of_order, 0);
	if (par)
		ck_assert_int_eq(r->not_worked, 0);
	ck_assert_msg(r->produced <= max_produced, "produced %ld, at most %ld expected",
		      r->produced, max_produced);
	assert_all_dropped_once();
}

START_TEST(consumed_in_order_dropped_once_by_the_maker)
{
	struct err e = {0};

	setenv("CA_AUDIT_THREADS", "2", 1);
	ck_assert_int_eq(ingest_pipe_run(produce, r, consume, r, drop, &e), 0);
	ck_assert_int_eq(r->produced, N);
	ck_assert_int_eq(r->consumed, N);
	ck_assert_int_eq(r->out_of_order, 0);
	assert_all_dropped_once();
	/* all but the last few batches, which the consumer drops once the
	 * producer has finished: those queued, and those waiting to be dropped */
	ck_assert_msg(r->dropped_by_maker >= N - 2 * IN_FLIGHT, "only %ld of %d dropped by the "
		      "thread that made them", r->dropped_by_maker, N);
}
END_TEST

START_TEST(a_failing_consume_stops_and_drops_the_rest)
{
	/* the producer stopped: no more than what the pipe holds, and the
	 * batch being made and the batches waiting to be dropped */
	run_to_failure("2", 700, 0, 700 + 2 * IN_FLIGHT + INGEST_PIPE_BATCH);
}
END_TEST

START_TEST(one_thread_alternates)
{
	/* produced one at a time: nothing read ahead of the failure */
	run_to_failure("1", 300, 0, 300);
	ck_assert_int_eq(r->produced, 300);
	ck_assert_int_eq(r->dropped_by_maker, 300);
}
END_TEST

START_TEST(par_consumed_in_reading_order_each_decoded_once)
{
	struct err e = {0};
	long workers = 0, total = 0;

	setenv("CA_AUDIT_THREADS", "3", 1);
	ck_assert_int_eq(ingest_pipe_run_par(produce, work, r, consume, r, drop, &e), 0);
	ck_assert_int_eq(r->produced, N);
	ck_assert_int_eq(r->consumed, N);
	ck_assert_int_eq(r->out_of_order, 0);
	ck_assert_int_eq(r->not_worked, 0);
	assert_all_dropped_once();
	ck_assert_int_eq(r->bad_worker, 0);
	ck_assert_int_eq(r->worker_moved, 0);
	for (int i = 0; i < INGEST_PIPE_WORKERS; i++) {
		workers += r->worked_by[i] > 0;
		total += r->worked_by[i];
		if (i >= 3)
			ck_assert_int_eq(r->worked_by[i], 0);
	}
	ck_assert_int_eq(total, N);
	ck_assert_msg(workers >= 2, "only %ld worker decoded items", workers);
	/* items are dropped by the worker that read them, but for the last
	 * few batches of each worker */
	ck_assert_msg(r->dropped_by_maker >= N - 4 * IN_FLIGHT, "only %ld of %d dropped by the "
		      "thread that made them", r->dropped_by_maker, N);
}
END_TEST

START_TEST(par_a_failing_consume_stops_every_worker)
{
	/* no more than the batches in flight and one being read */
	run_to_failure("4", 1500, 1, 1500 + IN_FLIGHT + INGEST_PIPE_BATCH);
}
END_TEST

START_TEST(par_one_thread_alternates)
{
	run_to_failure("1", 300, 1, 300);
	ck_assert_int_eq(r->produced, 300);
	ck_assert_int_eq(r->worked_by[0], 300);
	ck_assert(pthread_equal(r->worker_thread[0], pthread_self()));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pipe");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, consumed_in_order_dropped_once_by_the_maker);
	tcase_add_test(tc, a_failing_consume_stops_and_drops_the_rest);
	tcase_add_test(tc, one_thread_alternates);
	tcase_add_test(tc, par_consumed_in_reading_order_each_decoded_once);
	tcase_add_test(tc, par_a_failing_consume_stops_every_worker);
	tcase_add_test(tc, par_one_thread_alternates);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	/* each test reads CA_AUDIT_THREADS afresh: threads_wanted() reads it
	 * once per process */
	failed = tu_suite_failures(s, CK_FORK);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
