/*
 * threads.c — how many threads ca-audit's parallel steps may use; see
 * threads.h.
 */
#include "threads.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

static int wanted;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void decide(void)
{
	const char *v = getenv("CA_AUDIT_THREADS");
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	char *end;
	long n = v ? strtol(v, &end, 10) : 0;

	if (v && (end == v || *end || n < 1 || n > 1024)) {
		warnf("CA_AUDIT_THREADS='%s' is not a whole number from 1 to 1024; using %ld", v,
		      online > 0 ? online : 1);
		v = NULL;
	}
	wanted = v ? (int)n : online > 1 ? (int)(online > 1024 ? 1024 : online) : 1;
}

int threads_wanted(void)
{
	pthread_once(&once, decide);
	return wanted;
}
