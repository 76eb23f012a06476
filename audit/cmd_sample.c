/*
 * cmd_sample.c — `ca-audit sample`: a provincial regulator's reproducible
 * random sample (双随机) of certificates or applications, written as a
 * sample file (sample.h) that the spot-check report reads back. The same
 * seed and the same store give the same file on any machine.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "output.h"
#include "sample.h"

static void sample_help(void)
{
	printf("usage: ca-audit [-c CONFIG] [--as-of DATE] sample --seed S (--size N | --rate R)\n"
	       "                [--stratify-by sector|issuer|month]\n"
	       "                [--of certificates|applications] [-o FILE]\n"
	       "\n"
	       "Draws a reproducible random sample of the store's records for a spot check\n"
	       "(双随机): each record is ranked by the SHA-256 of \"SEED:KEY\" and the\n"
	       "smallest are taken, so the same seed and the same store give the same list\n"
	       "on any machine. Writes the sample file (JSON) that 'ca-audit report\n"
	       "spot-check' reads.\n"
	       "\n"
	       "options:\n"
	       "  --seed S           the seed, any text (e.g. drawn in public)\n"
	       "  --size N           take N records\n"
	       "  --rate R           take the fraction R of the records (0 < R <= 1), rounded up\n"
	       "  --stratify-by F    proportional shares per sector, issuer or month of\n"
	       "                     issuance (largest remainder; at least one per stratum)\n"
	       "  --of WHAT          certificates (default) or applications\n"
	       "  -o, --output FILE  write there (replaced atomically) instead of standard\n"
	       "                     output; 'report spot-check' finds the newest\n"
	       "                     sample*.json in the reports directory\n"
	       "  -h, --help         this help\n"
	       "\n"
	       "example:\n"
	       "  ca-audit sample --seed 20260115 --size 50 --stratify-by sector \\\n"
	       "      -o reports/sample-2026-01-15.json\n");
}

struct sample_args {
	struct sample_opts o;
	const char *size, *rate, *output;
};

static int sample_numbers(struct sample_args *a, struct err *e)
{
	char *end;

	if (!a->o.seed || !*a->o.seed)
		return cli_usage(e, "sample", "--seed is required");
	if (a->size && a->rate)
		return cli_usage(e, "sample", "give either --size or --rate, not both");
	if (!a->size && !a->rate)
		return cli_usage(e, "sample", "give --size N or --rate R");
	errno = 0;
	if (a->size) {
		a->o.size = strtol(a->size, &end, 10);
		if (errno || *end || end == a->size || a->o.size < 1)
			return cli_usage(e, "sample", "--size expects a whole number of at"
					 " least 1, found '%s'", a->size);
	} else {
		a->o.rate = strtod(a->rate, &end);
		if (errno || *end || end == a->rate || !(a->o.rate > 0 && a->o.rate <= 1))
			return cli_usage(e, "sample", "--rate expects a number greater than 0"
					 " and at most 1, found '%s'", a->rate);
	}
	return 0;
}

static int sample_parse(struct sample_args *a, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 's'},
		{"size", required_argument, NULL, 'n'},
		{"rate", required_argument, NULL, 'r'},
		{"stratify-by", required_argument, NULL, 'b'},
		{"of", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 's': a->o.seed = optarg; break;
		case 'n': a->size = optarg; break;
		case 'r': a->rate = optarg; break;
		case 'o': a->output = optarg; break;
		case 'b':
			if ((a->o.stratify = sample_strata_parse(optarg)) < 0)
				return cli_usage(e, "sample", "unknown --stratify-by '%s' (expected"
						 " sector, issuer or month)", optarg);
			break;
		case 'f':
			if ((a->o.of = sample_of_parse(optarg)) < 0)
				return cli_usage(e, "sample", "unknown --of '%s' (expected"
						 " certificates or applications)", optarg);
			break;
		case 'h': sample_help(); return -1;
		case ':':
			return cli_usage(e, "sample", "option '%s' needs an argument",
					 argv[optind - 1]);
		default:
			return cli_usage(e, "sample", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(e, "sample", "unexpected argument '%s'", argv[optind]);
	return sample_numbers(a, e);
}

static int sample_output(const char *path, const char *text, struct err *e)
{
	char *tmp;
	FILE *f;
	int rc;

	if (!path) {
		fputs(text, stdout);
		return fflush(stdout) == 0 ? 0 :
		       err_set(e, CA_EIO, "", 0, 0, "unable to write the sample: %s",
			       strerror(errno));
	}
	{
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;

		if (slash && slash != dir) {
			*slash = '\0';
			rc = output_mkdirs(dir, e);
		} else {
			rc = dir ? 0 : err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
		}
		free(dir);
		if (rc)
			return rc;
	}
	if (!(tmp = output_temp(path, e)))
		return -1;
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		rc = err_set(e, CA_EIO, path, 0, 0, "unable to write '%s': %s", path,
			     strerror(errno));
		output_abort(tmp);
		free(tmp);
		return rc;
	}
	rc = output_commit(tmp, path, e);
	free(tmp);
	return rc;
}

int cmd_sample(struct cli *c, int argc, char **argv, struct err *e)
{
	struct sample_args a = {0};
	struct sample *s = NULL;
	struct store *st;
	char *text;
	int rc;

	rc = sample_parse(&a, argc, argv, e);
	if (rc < 0)
		return CA_EXIT_OK; /* --help */
	if (rc)
		return rc;
	if (cli_config(c, e) || cli_store(c, 1, &st, e))
		return CA_EXIT_ERROR;
	a.o.as_of = c->today;
	rc = sample_draw(st, &a.o, &s, e);
	store_close(st);
	if (rc)
		return CA_EXIT_ERROR;
	text = sample_json(s);
	rc = text ? sample_output(a.output, text, e)
		  : err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
	if (rc == 0)
		notef("sample: %lld of %lld %s (seed '%s')%s%s", (long long)s->size,
		      (long long)s->population, s->of, s->seed, a.output ? " written to " : "",
		      a.output ? a.output : "");
	free(text);
	sample_free(s);
	return rc ? CA_EXIT_ERROR : CA_EXIT_OK;
}
