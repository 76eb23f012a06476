/*
 * log.c — diagnostics and the progress bar; see log.h.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Messages come from worker threads too (ingest's, a check's): one line
 * at a time, and the bar's state with them. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int level = LOG_NORMAL;
static int progress_on = -1; /* -1: decide from isatty at first use */

static struct {
	const char *label;
	uint64_t total;
	uint64_t done;
	time_t last;
	int drawn;
} bar;

void log_set_level(int l) { level = l; }
int log_level(void) { return level; }
void log_set_progress(int enabled) { progress_on = enabled; }

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&mu);
	if (bar.drawn) {
		fputs("\r\033[K", stderr);
		bar.drawn = 0;
	}
	fprintf(stderr, "ca-audit: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&mu);
}

#define LOGFN(name, prefix, minlevel)                \
	void name(const char *fmt, ...)              \
	{                                            \
		va_list ap;                          \
		if (level < (minlevel))              \
			return;                      \
		va_start(ap, fmt);                   \
		vlog(prefix, fmt, ap);               \
		va_end(ap);                          \
	}

LOGFN(errorf, "error: ", LOG_QUIET)
LOGFN(warnf, "warning: ", LOG_NORMAL)
LOGFN(notef, "", LOG_NORMAL)
LOGFN(debugf, "", LOG_VERBOSE)

static int progress_enabled(void)
{
	if (progress_on < 0)
		progress_on = isatty(STDERR_FILENO);
	return progress_on && level >= LOG_NORMAL;
}

static void draw(void)
{
	uint64_t done = __atomic_load_n(&bar.done, __ATOMIC_RELAXED);

	if (bar.total)
		fprintf(stderr, "\r\033[K%s %llu/%llu (%d%%)", bar.label,
			(unsigned long long)done, (unsigned long long)bar.total,
			(int)(done * 100 / bar.total));
	else
		fprintf(stderr, "\r\033[K%s %llu", bar.label, (unsigned long long)done);
	bar.drawn = 1;
}

void progress_start(const char *label, uint64_t total)
{
	pthread_mutex_lock(&mu);
	bar.label = label;
	bar.total = total;
	__atomic_store_n(&bar.done, 0, __ATOMIC_RELAXED);
	bar.last = 0;
	if (progress_enabled())
		draw();
	pthread_mutex_unlock(&mu);
}

void progress_update(uint64_t done)
{
	time_t now;

	/* called per record: the lock only when the bar may be drawn, every
	 * 1024th call of a long count (a check's few items, each call) */
	__atomic_store_n(&bar.done, done, __ATOMIC_RELAXED);
	if ((done & 1023) && (!bar.total || bar.total > 1024))
		return;
	pthread_mutex_lock(&mu);
	if (progress_enabled() && bar.label && (now = time(NULL)) != bar.last) {
		bar.last = now;
		draw();
	}
	pthread_mutex_unlock(&mu);
}

void progress_end(void)
{
	/* the last count, drawn even when a message has cleared the bar */
	pthread_mutex_lock(&mu);
	if (progress_enabled() && bar.label) {
		draw();
		fputc('\n', stderr);
		bar.drawn = 0;
	}
	bar.label = NULL;
	pthread_mutex_unlock(&mu);
}
