/*
 * cmd_check.c — `ca-audit check`: run the checklists against the evidence
 * store, record the run with its findings history, and print the results.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "engine.h"
#include "findings.h"
#include "output.h"
#include "log.h"
#include "rules.h"

static void help(void)
{
	printf("usage: ca-audit [-c CONFIG] [--as-of DATE] check [--checklist ID]...\n"
	       "                [--format text|json|csv] [-o FILE] [--fail-on SEVERITY]\n"
	       "                [--reveal] [--rebuild]\n"
	       "\n"
	       "Runs the checklists (those of the configuration, or those named) against\n"
	       "the evidence store and records the run: each item's records checked,\n"
	       "violations and result, and each finding with its history — new (first\n"
	       "seen in this run), open (seen before), fixed (gone since the previous\n"
	       "run) or waived (an accepted exception from the waivers file). Manual\n"
	       "items take their result from the attestations file. Reports are made\n"
	       "from the latest run.\n"
	       "\n"
	       "The views the items scan (issuance, app_flow, revocation) are kept in\n"
	       "the store as tables, made by the first check that needs them (at once,\n"
	       "one thread each, unless CA_AUDIT_THREADS=1); each later check first\n"
	       "redoes only the rows of what was ingested since, which makes a nightly\n"
	       "check after a nightly ingest quick. The items are evaluated several at\n"
	       "a time, each on a connection of its own (CA_AUDIT_THREADS=1: one after\n"
	       "another); the findings are stored in the items' order all the same.\n"
	       "\n"
	       "options:\n"
	       "  --checklist ID     run this checklist only (repeatable); an id such as\n"
	       "                     miit-2022, or a path to a checklist YAML file\n"
	       "  --format FORMAT    text (default): a table per checklist, then the\n"
	       "                     findings count; json: one finding per line (JSON\n"
	       "                     Lines); csv: one finding per row, with a header\n"
	       "  -o, --output FILE  write there instead of standard output\n"
	       "  --fail-on SEVERITY exit 2 when a new or open finding is at or above\n"
	       "                     SEVERITY: critical, high (default), medium, low, info\n"
	       "  --reveal           show personal names and identity numbers unmasked\n"
	       "  --rebuild          make the kept views anew from the whole store\n"
	       "                     instead of refreshing them (after editing the\n"
	       "                     store by hand, or to time a first check)\n"
	       "  -h, --help         this help\n"
	       "\n"
	       "exit status: 0 no new or open finding at or above --fail-on; 2 some;\n"
	       "1 an error (including a checklist item whose SQL failed); 64 usage.\n"
	       "\n"
	       "examples:\n"
	       "  ca-audit check\n"
	       "  ca-audit --as-of 2022-08-30 check --checklist miit-2022 --format json -o f.jsonl\n"
	       "  ca-audit check --fail-on critical --format csv > findings.csv\n");
}

struct check_opts {
	struct strlist ids;   /* --checklist */
	int format;           /* enum findings_format */
	const char *output;   /* -o, or NULL */
	int fail_on;          /* enum rule_severity */
	int reveal;
	int rebuild;          /* --rebuild */
};

static int parse(struct check_opts *o, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {
		{"checklist", required_argument, NULL, 'l'},
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"fail-on", required_argument, NULL, 'F'},
		{"reveal", no_argument, NULL, 'r'},
		{"rebuild", no_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			help();
			return 1;
		case 'l':
			if (strlist_push(&o->ids, optarg))
				return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
			break;
		case 'f':
			if ((o->format = findings_format_parse(optarg)) < 0)
				return cli_usage(e, "check", "unknown format '%s' (expected text,"
					       " json or csv)", optarg), -1;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'F':
			if ((o->fail_on = rules_severity_parse(optarg)) < 0)
				return cli_usage(e, "check", "unknown severity '%s' (expected"
					       " critical, high, medium, low or info)", optarg), -1;
			break;
		case 'r':
			o->reveal = 1;
			break;
		case 'B':
			o->rebuild = 1;
			break;
		case ':':
			return cli_usage(e, "check", "option '%s' needs an argument",
					 argv[optind - 1]), -1;
		default:
			return cli_usage(e, "check", "unknown option '%s'", argv[optind - 1]), -1;
		}
	}
	if (optind < argc)
		return cli_usage(e, "check", "unexpected argument '%s'", argv[optind]), -1;
	return 0;
}

/* Loads the named checklists (or the configured ones) into *lists. */
static int load_lists(struct cli *c, const struct strlist *named,
		      struct checklist ***lists, size_t *n, struct err *e)
{
	const struct strlist *ids = named->n ? named : &c->cfg->checklists;

	*n = 0;
	if (!ids->n)
		return err_set(e, CA_EINPUT, c->cfg->path, 0, 0, "no checklists configured");
	*lists = calloc(ids->n, sizeof **lists);
	if (!*lists)
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
	for (size_t i = 0; i < ids->n; i++) {
		char *path = NULL;
		int rc = rules_find(c->cfg, ids->v[i], &path, e) ||
			 rules_load(path, &(*lists)[*n], NULL, e);
		free(path);
		if (rc)
			return -1;
		(*n)++;
	}
	return 0;
}

/* Writes the findings to stdout, or to -o FILE through a temporary file
 * renamed at the end, so that a full disk or a crash never leaves a
 * truncated findings file that looks complete. A device or pipe given as
 * FILE is written directly. */
static int write_output(struct store *st, int64_t run, const struct check_opts *o,
			struct err *e)
{
	const char *name = o->output ? o->output : "standard output";
	char *tmp = NULL;
	FILE *out = stdout;
	int rc;

	if (o->output) {
		struct stat sb;
		/* a device or a pipe (/dev/stdout, a FIFO) is written as it is */
		int direct = !stat(o->output, &sb) && !S_ISREG(sb.st_mode);

		if (!direct && !(tmp = output_temp(o->output, e)))
			return -1;
		if (!(out = fopen(tmp ? tmp : o->output, "w"))) {
			rc = err_set(e, CA_EIO, o->output, 0, 0, "unable to open for writing: %m");
			output_abort(tmp);
			free(tmp);
			return rc;
		}
	}
	rc = findings_write(st, run, o->format, o->reveal, out, e);
	/* a write that failed early leaves nothing for fflush to report */
	if ((fflush(out) || ferror(out)) && !rc)
		rc = err_set(e, CA_EIO, name, 0, 0, "unable to write: %m");
	if (o->output) {
		if (fclose(out) && !rc)
			rc = err_set(e, CA_EIO, name, 0, 0, "unable to write: %m");
		if (tmp && !rc)
			rc = output_commit(tmp, o->output, e);
		else if (tmp)
			output_abort(tmp);
		free(tmp);
	}
	return rc;
}

static int run(struct cli *c, const struct check_opts *o, struct err *e)
{
	struct checklist **lists = NULL;
	struct engine_summary sum;
	struct store *st = NULL;
	char *waivers = NULL;
	size_t n = 0;
	int64_t failing = 0;
	int rc = CA_EXIT_ERROR;

	if (cli_store(c, 0, &st, e) || load_lists(c, &o->ids, &lists, &n, e))
		goto out;
	/* a first check commits gigabytes of kept views before its items: they
	 * are copied from the WAL into the store beside the items, not before
	 * them (until store_close) */
	store_checkpoints_aside(st);
	if (c->cfg->waivers && !(waivers = config_path(c->cfg, c->cfg->waivers))) {
		err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
		goto out;
	}
	struct engine_opts eo = {.cfg = c->cfg, .as_of = c->today,
				 .tool_version = CA_AUDIT_VERSION, .waivers = waivers,
				 .rebuild = o->rebuild};
	if (engine_run(st, lists, n, &eo, &sum, e) ||
	    write_output(st, sum.run, o, e) ||
	    findings_count_failing(st, sum.run, o->fail_on, &failing, e))
		goto out;
	notef("check: run %lld, %zu items, %lld new or open findings at or above %s",
	      (long long)sum.run, sum.items, (long long)failing,
	      rules_severity_name(o->fail_on));
	if (sum.errors) {
		*e = sum.first_error;
		if (sum.errors > 1)
			warnf("%zu checklist items failed", sum.errors);
		goto out;
	}
	rc = failing ? CA_EXIT_FINDINGS : CA_EXIT_OK;
out:
	for (size_t i = 0; lists && i < n; i++)
		checklist_free(lists[i]);
	free(lists);
	free(waivers);
	store_close(st);
	return rc;
}

int cmd_check(struct cli *c, int argc, char **argv, struct err *e)
{
	struct check_opts o = {.format = FINDINGS_TEXT, .fail_on = RULE_SEV_HIGH};
	int rc = parse(&o, argc, argv, e);

	if (rc)
		rc = rc > 0 ? CA_EXIT_OK : e->kind == CA_EUSAGE ? CA_EXIT_USAGE : CA_EXIT_ERROR;
	else
		rc = run(c, &o, e);
	strlist_free(&o.ids);
	return rc;
}
