/*
 * cli.h — what main.c hands every subcommand: the global options and lazy
 * access to the configuration and the store.
 *
 * A subcommand is `int cmd_NAME(struct cli *, int argc, char **argv,
 * struct err *)`; argv[0] is the subcommand's name and options are parsed
 * with getopt_long from there. It returns an exit code (CA_EXIT_*); when it
 * returns CA_EXIT_ERROR or CA_EXIT_USAGE, e says why and main prints it.
 * Subcommands print what the user asked for to stdout and nothing else;
 * `--help` prints the subcommand's help to stdout and returns 0. Only main.c
 * exits.
 */
#ifndef CA_CLI_H
#define CA_CLI_H

#include "config.h"
#include "err.h"
#include "store.h"

enum {
	CA_EXIT_OK = 0,       /* done; no open finding at or above --fail-on */
	CA_EXIT_ERROR = 1,    /* bad input, I/O, database */
	CA_EXIT_FINDINGS = 2, /* open findings at or above --fail-on */
	CA_EXIT_USAGE = 64    /* bad command line */
};

struct cli {
	const char *config_path; /* -c; default ./ca-audit.yaml */
	const char *db;          /* --db; overrides the configuration's store */
	const char *as_of;       /* --as-of as given, or NULL */
	char today[11];          /* the as-of date, resolved: YYYY-MM-DD */
	int strict;              /* --strict: the first rejected record is fatal */
	struct config *cfg;      /* owned; loaded by cli_config */
};

/* Loads the configuration once (later calls return the loaded one) and sets
 * the time zone; fills today from --as-of or the current date. */
int cli_config(struct cli *c, struct err *e);
/* Opens the store named by --db or the configuration. readonly stores must
 * exist. *out is owned by the caller (store_close). */
int cli_store(struct cli *c, int readonly, struct store **out, struct err *e);
/* Sets e for a usage error ("unknown option", "missing argument") and
 * returns CA_EXIT_USAGE. */
int cli_usage(struct err *e, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int cmd_ingest(struct cli *c, int argc, char **argv, struct err *e);
int cmd_check(struct cli *c, int argc, char **argv, struct err *e);
int cmd_report(struct cli *c, int argc, char **argv, struct err *e);
int cmd_run(struct cli *c, int argc, char **argv, struct err *e);
int cmd_sample(struct cli *c, int argc, char **argv, struct err *e);
int cmd_rules(struct cli *c, int argc, char **argv, struct err *e);
int cmd_demo(struct cli *c, int argc, char **argv, struct err *e);

#endif
