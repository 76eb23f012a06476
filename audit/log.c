/*
 * log.c — diagnostics and the progress bar; see log.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

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
	if (bar.drawn) {
		fputs("\r\033[K", stderr);
		bar.drawn = 0;
	}
	fprintf(stderr, "ca-audit: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
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
	if (bar.total)
		fprintf(stderr, "\r\033[K%s %llu/%llu (%d%%)", bar.label,
			(unsigned long long)bar.done, (unsigned long long)bar.total,
			(int)(bar.done * 100 / bar.total));
	else
		fprintf(stderr, "\r\033[K%s %llu", bar.label,
			(unsigned long long)bar.done);
	bar.drawn = 1;
}

void progress_start(const char *label, uint64_t total)
{
	bar.label = label;
	bar.total = total;
	bar.done = 0;
	bar.last = 0;
	if (progress_enabled())
		draw();
}

void progress_update(uint64_t done)
{
	time_t now;

	bar.done = done;
	if (!progress_enabled() || (done & 1023))
		return;
	now = time(NULL);
	if (now != bar.last) {
		bar.last = now;
		draw();
	}
}

void progress_end(void)
{
	if (progress_enabled() && bar.drawn) {
		draw();
		fputc('\n', stderr);
		bar.drawn = 0;
	}
}
