/*
 * cmd_run.c — `ca-audit run`: the nightly job. Takes a lock so that two runs
 * never overlap, then ingests, checks, and writes the reports due on the
 * as-of date: monthly statistics on days 1-10 (for the previous month, due
 * by the 10th), the annual report in January (for the previous year, due by
 * 31 January), and the self-inspection and rectification plan every time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"

static void help(void)
{
	printf("usage: ca-audit [-c CONFIG] [--as-of DATE] run [--reports KIND,...]\n"
	       "                [--fail-on SEVERITY] [--full]\n"
	       "\n"
	       "The nightly job: ingest the sources, run the checklists, and write the\n"
	       "reports that are due on the as-of date (today by default):\n"
	       "  self-inspection, rectification  every run\n"
	       "  monthly                         on the 1st-10th, for the previous month\n"
	       "  annual                          in January, for the previous year\n"
	       "A lock file beside the store (STORE.lock) keeps two runs from overlapping:\n"
	       "a second run started while one is going exits with status 1 at once.\n"
	       "\n"
	       "options:\n"
	       "  --reports LIST    write these kinds instead of those due (comma separated)\n"
	       "  --fail-on SEV     as for check (default high)\n"
	       "  --full            re-read every source file\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "exit codes: as for check (0, 2 when open findings at or above --fail-on),\n"
	       "1 on an error or when another run holds the lock.\n"
	       "\n"
	       "crontab example (every night at 02:30, reports in the configured directory):\n"
	       "  30 2 * * *  ca-audit -q -c /srv/ca/ca-audit.yaml run >>/var/log/ca-audit.log 2>&1\n");
}

/* Takes STORE.lock without waiting; the holder's pid is written in it so
 * that a second run can say who holds it. Returns the descriptor, or -1. */
static int take_lock(struct cli *c, struct err *e)
{
	char *store = c->db ? strdup(c->db) : config_path(c->cfg, c->cfg->store);
	char *path = NULL, pid[32] = "";
	int fd = -1;

	if (!store || asprintf(&path, "%s.lock", store) < 0) {
		free(store);
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(e, CA_EIO, path, 0, 0, "unable to open the lock file: %s", strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB)) {
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		err_set(e, CA_EIO, path, 0, 0,
			"another ca-audit run is in progress%s%s%s; not starting a second one",
			pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
		close(fd);
		fd = -1;
	} else {
		int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)len, 0) != len)
			warnf("%s: unable to write the pid", path);
	}
	free(path);
	free(store);
	return fd;
}

/* Appends the report kinds due on date (YYYY-MM-DD) to kinds. */
static void due_reports(const char *date, const char **kinds, size_t *n)
{
	int month = atoi(date + 5), day = atoi(date + 8);

	kinds[(*n)++] = "self-inspection";
	kinds[(*n)++] = "rectification";
	if (day <= 10)
		kinds[(*n)++] = "monthly";
	if (month == 1)
		kinds[(*n)++] = "annual";
}

static int run_reports(struct cli *c, const char **kinds, size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		char *argv[] = {"report", (char *)kinds[i], NULL};
		int rc = cmd_report(c, 2, argv, e);

		if (rc != CA_EXIT_OK)
			return rc;
	}
	return CA_EXIT_OK;
}

int cmd_run(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {
		{"reports", required_argument, NULL, 'r'},
		{"fail-on", required_argument, NULL, 'f'},
		{"full", no_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *fail_on = "high", *kinds[16];
	char *list = NULL, *ingest_argv[] = {"ingest", NULL, NULL};
	size_t nkinds = 0;
	int opt, lock, rc, checked;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h': help(); free(list); return CA_EXIT_OK;
		case 'r': free(list); list = strdup(optarg); break;
		case 'f': fail_on = optarg; break;
		case 'F': ingest_argv[1] = "--full"; break;
		default:
			free(list);
			return cli_usage(e, "run", "unknown option or missing value '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind < argc) {
		free(list);
		return cli_usage(e, "run", "unexpected argument '%s'", argv[optind]);
	}
	if (cli_config(c, e)) {
		free(list);
		return CA_EXIT_ERROR;
	}
	if (list) {
		for (char *k = strtok(list, ","); k && nkinds < 16; k = strtok(NULL, ","))
			kinds[nkinds++] = k;
	} else {
		due_reports(c->today, kinds, &nkinds);
	}
	lock = take_lock(c, e);
	if (lock < 0) {
		free(list);
		return CA_EXIT_ERROR;
	}
	rc = cmd_ingest(c, ingest_argv[1] ? 2 : 1, ingest_argv, e);
	if (rc == CA_EXIT_OK) {
		char *check_argv[] = {"check", "--fail-on", (char *)fail_on, NULL};
		checked = cmd_check(c, 3, check_argv, e);
		rc = checked == CA_EXIT_ERROR || checked == CA_EXIT_USAGE ? checked
			: run_reports(c, kinds, nkinds, e);
		if (rc == CA_EXIT_OK)
			rc = checked;
	}
	close(lock);
	free(list);
	return rc;
}
