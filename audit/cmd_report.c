/*
 * cmd_report.c — `ca-audit report KIND`: render a report from the results
 * stored by the latest check (never re-running checks) as XLSX and/or PDF,
 * write each file atomically into the output directory, print the paths and
 * record them in the store's report_log (which egov item 32 and the monthly
 * statistics item read back).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builders.h"
#include "cli.h"
#include "output.h"
#include "pdf.h"
#include "period.h"
#include "sample.h"
#include "timeutil.h"
#include "xlsx.h"

/* The report kinds of DESIGN §3: the builder (spot-check has its own, which
 * also takes the sample file), the default period, and whether CSV is one of
 * its formats. */
static const struct {
	const char *name;
	struct rm_doc *(*build)(struct store *, const struct config *, const char *,
				const char *, int, struct err *);
	int period;   /* enum period_default */
	int csv;
	const char *what;
} report_kinds[] = {
	{"self-inspection", build_self_inspection, PERIOD_ALL, 0,
	 "自查报告: inspection record, findings"},
	{"rectification", build_rectification, PERIOD_ALL, 0,
	 "整改方案: per failing item, measures, owner, due date"},
	{"annual", build_annual, PERIOD_PREV_YEAR, 0,
	 "年度报告: the year's certificates, CRLs and findings"},
	{"monthly", build_monthly, PERIOD_PREV_MONTH, 1,
	 "月度统计: last month's issuance, renewal, revocation (also csv)"},
	{"spot-check", NULL, PERIOD_ALL, 0, "抽查记录: a regulator's sample and its results"},
};
#define KIND_SPOT 4
#define NKINDS (sizeof(report_kinds) / sizeof(*report_kinds))

static void report_help(void)
{
	size_t i;

	printf("usage: ca-audit [-c CONFIG] [--as-of DATE] report KIND [--period P]\n"
	       "                [--format xlsx,pdf] [-o DIR] [--reveal]\n"
	       "\n"
	       "Writes a report from the results of the latest 'ca-audit check' (checks are\n"
	       "not run again) and prints the path of each file written.\n"
	       "\n"
	       "kinds:\n");
	for (i = 0; i < NKINDS; i++)
		printf("  %-16s %s\n", report_kinds[i].name, report_kinds[i].what);
	printf("\n"
	       "options:\n"
	       "  --period P     2025 (a year), 2025-10 (a month) or 2022-07-01..2022-10-30;\n"
	       "                 shown in the report and in its file name (default: the\n"
	       "                 year before the as-of date for annual, the month before\n"
	       "                 it for monthly, all records for the others)\n"
	       "  --format LIST  xlsx, pdf or both, comma separated, and csv for monthly\n"
	       "                 (default: reports.formats of the configuration)\n"
	       "  --sample FILE  spot-check: the sample file written by 'ca-audit sample'\n"
	       "                 (default: the newest sample*.json in the output directory)\n"
	       "  -o DIR         output directory, created if missing (default: reports.output\n"
	       "                 of the configuration)\n"
	       "  --reveal       show personal names and identity numbers unmasked\n"
	       "  -h, --help     this help\n"
	       "\n"
	       "Files are named KIND-PERIOD.xlsx (KIND-ASOF.xlsx without --period) and are\n"
	       "replaced atomically.\n"
	       "\n"
	       "example:\n"
	       "  ca-audit --as-of 2025-03-01 report self-inspection --format xlsx -o out/\n");
}

static int report_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int report_is_date(const char *s, size_t n)
{
	return n == 10 && report_digits(s, 4) && s[4] == '-' && report_digits(s + 5, 2) &&
	       s[7] == '-' && report_digits(s + 8, 2);
}

/* YYYY, YYYY-MM or YYYY-MM-DD..YYYY-MM-DD; also what keeps file names safe. */
static int report_period_ok(const char *p)
{
	size_t n = strlen(p);
	const char *dots = strstr(p, "..");

	if (n == 4)
		return report_digits(p, 4);
	if (n == 7)
		return report_digits(p, 4) && p[4] == '-' && report_digits(p + 5, 2) &&
		       p[5] <= '1' && strcmp(p + 5, "00") != 0 && strcmp(p + 5, "12") <= 0;
	return dots && report_is_date(p, (size_t)(dots - p)) &&
	       report_is_date(dots + 2, strlen(dots + 2)) && strcmp(p, dots + 2) <= 0;
}

/* Parses "xlsx,pdf" into want[] (xlsx, pdf, csv); 0 or a usage code. csv is
 * accepted only when the kind has it; from the configuration (strict 0) it
 * is skipped for the other kinds. */
static int report_formats(const char *list, int *want, int csv, int strict, struct err *e)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int rc = 0;

	if (!copy)
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory"), CA_EXIT_ERROR;
	for (tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "xlsx"))
			want[0] = 1;
		else if (!strcmp(tok, "pdf"))
			want[1] = 1;
		else if (!strcmp(tok, "csv") && csv)
			want[2] = 1;
		else if (!strcmp(tok, "csv") && strict)
			rc = cli_usage(e, "report", "format 'csv' is only for the monthly report");
		else if (strcmp(tok, "csv"))
			rc = cli_usage(e, "report", "unknown format '%s' (expected xlsx or pdf%s)",
				       tok, csv ? " or csv" : "");
	}
	free(copy);
	if (!rc && strict && !want[0] && !want[1] && !want[2])
		rc = cli_usage(e, "report", "no format given");
	return rc;
}

/* Appends a row to report_log for each file written. */
static int report_log_files(struct cli *c, const char *kind, const char *period,
			    char *const *paths, const char *const *formats, size_t n,
			    struct err *e)
{
	struct store *st;
	sqlite3_stmt *ins;
	char made_at[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int rc = 0;

	/* --as-of fixes "today" for everything, the report history too, so that
	 * a rerun for a past date records the report as made on that date */
	if (c->as_of) {
		if (time_local_date_utc(c->today, made_at))
			return err_set(e, CA_EINTERNAL, NULL, 0, 0, "bad as-of date '%s'", c->today);
	} else {
		gmtime_r(&now, &tm);
		strftime(made_at, sizeof(made_at), "%Y-%m-%d %H:%M:%S", &tm);
	}
	if (cli_store(c, 0, &st, e))
		return -1;
	if (sqlite3_prepare_v2(store_db(st), "INSERT INTO report_log(kind, period, made_at,"
			       " as_of, format, path) VALUES (?, ?, ?, ?, ?, ?)", -1, &ins,
			       NULL) != SQLITE_OK) {
		rc = err_set(e, CA_EDB, store_path(st), 0, 0, "unable to log the report: %s",
			     sqlite3_errmsg(store_db(st)));
		store_close(st);
		return rc;
	}
	for (i = 0; i < n && rc == 0; i++) {
		sqlite3_bind_text(ins, 1, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, period, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, made_at, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, c->today, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, formats[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 6, paths[i], -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = err_set(e, CA_EDB, store_path(st), 0, 0,
				     "unable to log the report: %s", sqlite3_errmsg(store_db(st)));
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	store_close(st);
	return rc;
}

/* Builds the document and writes each format into dir; paths[] and
 * formats[] get what was written. */
static struct rm_doc *report_build(struct cli *c, size_t k, struct store *st,
				   const char *period, int reveal, const char *sample,
				   const char *dir, struct err *e)
{
	struct rm_doc *d;
	char *found = NULL;

	if (k != KIND_SPOT)
		return report_kinds[k].build(st, c->cfg, c->today, period, reveal, e);
	if (!sample && sample_find_newest(dir, &found, e) < 0)
		return NULL;
	d = build_spot_check(st, c->cfg, c->today, period, sample ? sample : found, reveal, e);
	free(found);
	return d;
}

static int report_render(struct cli *c, size_t k, const char *period, int reveal,
			 const char *sample, const char *dir, const int *want, char **paths,
			 const char **formats, size_t *n, struct err *e)
{
	const char *name = report_kinds[k].name;
	const char *exts[3] = {"xlsx", "pdf", "csv"};
	struct store *st;
	struct rm_doc *d;
	int rc = 0;

	if (cli_store(c, 1, &st, e))
		return -1;
	d = report_build(c, k, st, period, reveal, sample, dir, e);
	if (!d) {
		store_close(st);
		return -1;
	}
	/* Only now: a report that cannot be made leaves no empty directory. */
	rc = output_mkdirs(dir, e);
	for (size_t i = 0; i < 3 && rc == 0; i++) {
		char *path;

		if (!want[i])
			continue;
		if (asprintf(&path, "%s/%s-%s.%s", dir, name, period ? period : c->today,
			     exts[i]) < 0) {
			rc = err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
			break;
		}
		rc = i == 0 ? xlsx_write(d, path, e) : i == 1 ? pdf_write(d, path, e)
			    : build_monthly_csv(d, path, e);
		if (rc) {
			free(path);
			break;
		}
		printf("%s\n", path);
		fflush(stdout);
		paths[*n] = path;
		formats[(*n)++] = exts[i];
	}
	/* The document's streams use the store's handle: free it first. */
	report_doc_free(d);
	store_close(st);
	return rc;
}

int cmd_report(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {
		{"period", required_argument, NULL, 'p'},
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"reveal", no_argument, NULL, 'r'},
		{"sample", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *period = NULL, *format = NULL, *out = NULL, *sample = NULL, *kind;
	char *dir = NULL, *paths[3] = {NULL, NULL, NULL};
	const char *formats[3];
	struct period p;
	struct err pe = {0};
	int opt, reveal = 0, want[3] = {0, 0, 0}, rc;
	size_t k, n = 0, i;

	optind = 0; /* full reset: this getopt permutes, so KIND may come first */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': period = optarg; break;
		case 'f': format = optarg; break;
		case 'o': out = optarg; break;
		case 'r': reveal = 1; break;
		case 's': sample = optarg; break;
		case 'h': report_help(); return CA_EXIT_OK;
		case ':':
			return cli_usage(e, "report", "option '%s' needs an argument",
					 argv[optind - 1]);
		default:
			return cli_usage(e, "report", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage(e, "report", "missing report kind");
	if (optind + 1 < argc)
		return cli_usage(e, "report", "unexpected argument '%s'", argv[optind + 1]);
	kind = argv[optind];
	for (k = 0; k < NKINDS && strcmp(report_kinds[k].name, kind); k++)
		;
	if (k == NKINDS)
		return cli_usage(e, "report", "unknown report kind '%s'", kind);
	if (sample && k != KIND_SPOT)
		return cli_usage(e, "report", "--sample is only for the spot-check report");
	if (period && (!report_period_ok(period) || period_parse(period, &p, &pe) < 0))
		return cli_usage(e, "report", "--period expects YYYY, YYYY-MM or"
				 " YYYY-MM-DD..YYYY-MM-DD, found '%s'", period);
	if (format && (rc = report_formats(format, want, report_kinds[k].csv, 1, e)))
		return rc;
	if (cli_config(c, e))
		return CA_EXIT_ERROR;
	for (i = 0; !format && i < c->cfg->report_formats.n; i++)
		if ((rc = report_formats(c->cfg->report_formats.v[i], want, report_kinds[k].csv, 0,
					 e)))
			return rc;
	if (!want[0] && !want[1] && !want[2])
		return cli_usage(e, "report", "no format given");
	/* The default period names the file and the report_log row, which
	 * egov item 32 and the monthly-statistics item look for. */
	if (!period && report_kinds[k].period != PERIOD_ALL) {
		if (period_resolve(NULL, report_kinds[k].period, c->today, &p, e) < 0)
			return CA_EXIT_ERROR;
		period = p.text;
	}
	dir = out ? strdup(out) : config_path(c->cfg, c->cfg->reports_output);
	if (!dir)
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory"), CA_EXIT_ERROR;
	/* "reports/" as configured: no "reports//name" in the printed paths */
	for (i = strlen(dir); i > 1 && dir[i - 1] == '/'; i--)
		dir[i - 1] = '\0';
	rc = report_render(c, k, period, reveal, sample, dir, want, paths, formats, &n, e);
	if (n && report_log_files(c, kind, period ? period : "all", paths, formats, n,
				  rc ? NULL : e) && rc == 0)
		rc = -1;
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(dir);
	return rc ? CA_EXIT_ERROR : CA_EXIT_OK;
}
