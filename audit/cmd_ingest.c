/*
 * cmd_ingest.c — `ca-audit ingest`: read the configured sources into the
 * evidence store.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ingest.h"
#include "log.h"
#include "timeutil.h"

static void help(void)
{
	printf("usage: ca-audit [-c CONFIG] ingest [--full] [--strict]\n"
	       "\n"
	       "Reads every source of the configuration (certificate databases, RA event\n"
	       "logs, CRLs) into the evidence store. Running it again is safe: files that\n"
	       "have not changed are skipped, and records already stored are not stored\n"
	       "twice. Records that cannot be read are rejected, counted and kept in the\n"
	       "store's reject table with their file and line; they appear in every\n"
	       "report's provenance section.\n"
	       "\n"
	       "options:\n"
	       "  --full     read every file again, even those that have not changed\n"
	       "  --strict   stop at the first rejected record (exit 1)\n"
	       "  -h, --help this help\n"
	       "\n"
	       "example:\n"
	       "  ca-audit -c /srv/ca/ca-audit.yaml ingest\n");
}

int cmd_ingest(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {
		{"full", no_argument, NULL, 'f'},
		{"strict", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct ingest_ctx ctx = {0};
	struct store *st = NULL;
	double t0;
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (opt == 'h') {
			help();
			return CA_EXIT_OK;
		} else if (opt == 'f') {
			ctx.full = 1;
		} else if (opt == 's') {
			c->strict = 1;
		} else {
			return cli_usage(e, "ingest", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(e, "ingest", "unexpected argument '%s'", argv[optind]);
	if (cli_store(c, 0, &st, e))
		return CA_EXIT_ERROR;
	ctx.st = st;
	ctx.cfg = c->cfg;
	ctx.strict = c->strict;
	t0 = time_monotonic();
	rc = ingest_run(&ctx, e);
	if (!rc)
		notef("ingest: %lld files read, %lld unchanged; %lld records, %lld new,"
		      " %lld rejected (%.1f s)",
		      (long long)ctx.files_read, (long long)ctx.files_skipped,
		      (long long)ctx.records, (long long)ctx.added, (long long)ctx.rejects,
		      time_monotonic() - t0);
	store_close(st);
	return rc ? CA_EXIT_ERROR : CA_EXIT_OK;
}
