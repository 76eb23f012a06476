/*
 * main.c — the ca-audit command line: global options, the subcommand table,
 * and the one place that turns errors into messages and exit codes.
 *
 * Global options come before the subcommand (ca-audit -c x.yaml check ...);
 * each subcommand parses its own options and prints its own --help.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cli.h"
#include "log.h"

struct command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv, struct err *e);
	const char *summary;
};

static const struct command commands[] = {
	{"ingest", cmd_ingest, "read the configured sources into the evidence store"},
	{"check", cmd_check, "run the checklists and record findings"},
	{"report", cmd_report, "write a report (XLSX, PDF) from the latest check"},
	{"run", cmd_run, "ingest + check + the reports due today (for cron)"},
	{"sample", cmd_sample, "draw a reproducible random sample for a spot check"},
	{"rules", cmd_rules, "list, show and lint checklists"},
	{"demo", cmd_demo, "make a demo CA dataset and run everything on it"},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ca-audit [-c CONFIG] [--db FILE] [--as-of DATE] [-q|-v] [--no-progress]\n"
		"                [--strict] COMMAND [ARGS]\n"
		"\n"
		"Checks a Chinese certification authority's records (certificates, RA logs,\n"
		"CRLs) against the rules it is bound by (MIIT 2022 campaign, e-government CA\n"
		"rules, Shenzhen rules, Guangdong-Hong Kong mutual recognition) and writes\n"
		"self-inspection reports, rectification plans, annual and monthly submissions.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"global options:\n"
		"  -c, --config FILE  configuration file (default ./ca-audit.yaml)\n"
		"      --db FILE      evidence store (default: the configuration's 'store')\n"
		"      --as-of DATE   take DATE (YYYY-MM-DD) as today, for reproducible runs\n"
		"  -q, --quiet        errors only\n"
		"  -v, --verbose      more detail on stderr (every rejected record)\n"
		"      --no-progress  no progress bar (it shows only on a terminal anyway)\n"
		"      --strict       stop at the first rejected input record\n"
		"  -h, --help         this help; 'ca-audit COMMAND --help' for a command\n"
		"  -V, --version      print the version\n"
		"\n"
		"exit codes: 0 done, no open finding at or above --fail-on; 2 open findings\n"
		"at or above it; 1 error (bad input, I/O, database); 64 bad command line.\n"
		"\n"
		"a first run:\n"
		"  ca-audit -c ca-audit.yaml ingest\n"
		"  ca-audit -c ca-audit.yaml check\n"
		"  ca-audit -c ca-audit.yaml report self-inspection --format xlsx,pdf\n");
}

static int is_opt(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(arg, name, n) && (arg[n] == '\0' || arg[n] == '=');
}

/* Stores the value of an option given as "--opt VALUE", "--opt=VALUE" or
 * "-c VALUE" in *slot; -1 with e set when the value is missing. */
static int take_value(int argc, char **argv, int *i, const char *name,
		      const char **slot, struct err *e)
{
	size_t n = strlen(name);

	if (argv[*i][n] == '=') {
		*slot = argv[*i] + n + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return cli_usage(e, NULL, "option '%s' needs a value", name), -1;
	*slot = argv[++*i];
	return 0;
}

/* Parses the global options; returns the index of the command, or -1 with
 * an exit code in *code. */
static int parse_globals(struct cli *c, int argc, char **argv, int *code, struct err *e)
{
	static const struct {
		const char *name;
		size_t slot; /* offset of the const char * in struct cli */
	} valued[] = {
		{"-c", offsetof(struct cli, config_path)},
		{"--config", offsetof(struct cli, config_path)},
		{"--db", offsetof(struct cli, db)},
		{"--as-of", offsetof(struct cli, as_of)},
	};
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		size_t v;

		for (v = 0; v < sizeof valued / sizeof *valued; v++)
			if (is_opt(a, valued[v].name))
				break;
		if (v < sizeof valued / sizeof *valued) {
			const char **slot = (const char **)((char *)c + valued[v].slot);
			if (take_value(argc, argv, &i, valued[v].name, slot, e)) {
				*code = CA_EXIT_USAGE;
				return -1;
			}
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			*code = CA_EXIT_OK;
			return -1;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("ca-audit %s\n", CA_AUDIT_VERSION);
			*code = CA_EXIT_OK;
			return -1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			log_set_level(LOG_QUIET);
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			log_set_level(LOG_VERBOSE);
		} else if (!strcmp(a, "--no-progress")) {
			log_set_progress(0);
		} else if (!strcmp(a, "--strict")) {
			c->strict = 1;
		} else {
			*code = cli_usage(e, NULL, "unknown option '%s' (see 'ca-audit --help')", a);
			return -1;
		}
	}
	if (i >= argc) {
		usage(stderr);
		*code = cli_usage(e, NULL, "no command given");
		return -1;
	}
	return i;
}

/* Flushes stdout; 1 with e set when anything written to it was lost. */
static int stdout_failed(struct err *e)
{
	int failed;

	errno = 0;
	failed = fflush(stdout) != 0 || ferror(stdout);
	if (failed)
		err_set(e, CA_EIO, "", 0, 0, "unable to write standard output: %s",
			strerror(errno ? errno : EIO));
	return failed;
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	struct err e = {0};
	int code = CA_EXIT_OK, at;
	const struct command *cmd = NULL;

	/* before SQLite's first use: no allocation statistics, which otherwise
	 * take a global mutex on every malloc and free (5% of a check's time) */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	at = parse_globals(&c, argc, argv, &code, &e);
	if (at >= 0) {
		const char *name = argv[at];

		if (!strcmp(name, "help")) {
			if (at + 1 < argc) {
				char *help_argv[] = {argv[at + 1], "--help", NULL};
				argv = help_argv;
				argc = 2;
				at = 0;
				name = argv[0];
			} else {
				usage(stdout);
				goto done;
			}
		}
		for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
			if (!strcmp(name, commands[i].name))
				cmd = &commands[i];
		if (!cmd)
			code = cli_usage(&e, NULL,
					 "unknown command '%s' (see 'ca-audit --help')", name);
		else
			code = cmd->fn(&c, argc - at, argv + at, &e);
	}
done:
	/* stdout carries what was asked for (a listing, the paths written): when
	 * it could not be written — a full disk, a closed pipe — the run failed,
	 * whatever the command thought */
	if (code != CA_EXIT_ERROR && code != CA_EXIT_USAGE && stdout_failed(&e))
		code = CA_EXIT_ERROR;
	/* a subcommand that failed on a bad option value reports a usage error */
	if (code == CA_EXIT_ERROR && e.kind == CA_EUSAGE)
		code = CA_EXIT_USAGE;
	if (code == CA_EXIT_ERROR || code == CA_EXIT_USAGE) {
		char msg[2048];

		if (!e.msg[0])
			snprintf(e.msg, sizeof e.msg, "failed");
		err_format(&e, msg, sizeof msg);
		errorf("%s", msg);
	}
	config_free(c.cfg);
	return code;
}
