/*
 * cmd_demo.c — `ca-audit demo`: generate a demo CA dataset with the seeded
 * generator and run the whole pipeline on it (ingest, check, reports), so a
 * newcomer sees every output in one command.
 *
 * The generator is a separate program (fixtures/gen.c, installed as
 * ca-audit-gen); it is found through $CA_AUDIT_GEN, beside this executable
 * (as gen or ca-audit-gen), or in the installed libexec directory.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"

extern char **environ;

/* The generator's default dataset ends on 2025-12-31. */
#define DEMO_AS_OF "2026-01-05"

#ifndef CA_AUDIT_LIBEXECDIR
#define CA_AUDIT_LIBEXECDIR "/usr/local/libexec/ca-audit"
#endif

static void help(void)
{
	printf("usage: ca-audit demo [-o DIR] [--certs N] [--seed S] [--violations RATE]\n"
	       "\n"
	       "Makes a demo certification authority — an SM2 root and an RSA root, N\n"
	       "end-entity certificates, RA event logs, CRLs and a configuration — with\n"
	       "some compliance violations injected (listed in DIR/truth.jsonl), then\n"
	       "runs ingest and check, writes every report kind (self-inspection,\n"
	       "rectification, monthly, annual, and a spot-check of a 50-record sample)\n"
	       "and prints where everything is. The dataset covers 2021-2025, so unless\n"
	       "--as-of is given the demo runs as of " DEMO_AS_OF ", when the annual report\n"
	       "for 2025 and December's statistics are due.\n"
	       "\n"
	       "options:\n"
	       "  -o DIR             where to put the dataset (default ./ca-audit-demo)\n"
	       "  --certs N          end-entity certificates (default 2000)\n"
	       "  --seed S           generator seed; the same seed gives the same data (default 1)\n"
	       "  --violations RATE  share of certificates with an injected violation (default 0.05)\n"
	       "  -h, --help         this help\n");
}

static int exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* Finds the generator; returns a malloc'd path or NULL. */
static char *find_generator(void)
{
	const char *env = getenv("CA_AUDIT_GEN");
	char self[PATH_MAX], cand[PATH_MAX + 32];
	ssize_t n;

	if (env && *env)
		return exists(env) ? strdup(env) : NULL;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		const char *dir = dirname(self);
		snprintf(cand, sizeof cand, "%s/gen", dir);
		if (exists(cand))
			return strdup(cand);
		snprintf(cand, sizeof cand, "%s/ca-audit-gen", dir);
		if (exists(cand))
			return strdup(cand);
	}
	snprintf(cand, sizeof cand, "%s/ca-audit-gen", CA_AUDIT_LIBEXECDIR);
	return exists(cand) ? strdup(cand) : NULL;
}

static int run_generator(const char *gen, const char *dir, const char *certs,
			 const char *seed, const char *rate, struct err *e)
{
	char *argv[] = {(char *)gen, "-o", (char *)dir, "--certs", (char *)certs,
			"--seed", (char *)seed, "--violations", (char *)rate,
			"--checklists", "all", NULL};
	pid_t pid;
	int st, rc;

	rc = posix_spawn(&pid, gen, NULL, NULL, argv, environ);
	if (rc)
		return err_set(e, CA_EIO, gen, 0, 0, "unable to run the generator: %s",
			       strerror(rc));
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return err_set(e, CA_EIO, gen, 0, 0, "the generator failed (status %d)", st);
	return 0;
}

int cmd_demo(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {
		{"certs", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 's'},
		{"violations", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *dir = "ca-audit-demo", *certs = "2000", *seed = "1", *rate = "0.05";
	char config[PATH_MAX];
	char *gen, *ingest_argv[] = {"ingest", NULL};
	char *check_argv[] = {"check", "--fail-on", "critical", NULL};
	static const char *const kinds[] = {"self-inspection", "rectification", "monthly",
					    "annual"};
	char sample[PATH_MAX + 64];
	char *sample_argv[] = {"sample", "--seed", "demo", "--size", "50", "--stratify-by",
			       "sector", "-o", sample, NULL};
	char *spot_argv[] = {"report", "spot-check", "--sample", sample, NULL};
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'h': help(); return CA_EXIT_OK;
		case 'o': dir = optarg; break;
		case 'n': certs = optarg; break;
		case 's': seed = optarg; break;
		case 'r': rate = optarg; break;
		default:
			return cli_usage(e, "demo", "unknown option or missing value '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(e, "demo", "unexpected argument '%s'", argv[optind]);
	gen = find_generator();
	if (!gen)
		return err_set(e, CA_EIO, NULL, 0, 0,
			       "the dataset generator was not found (set CA_AUDIT_GEN, or"
			       " install it as ca-audit-gen beside ca-audit)"), CA_EXIT_ERROR;
	notef("demo: generating %s certificates in '%s'", certs, dir);
	rc = run_generator(gen, dir, certs, seed, rate, e);
	free(gen);
	if (rc)
		return CA_EXIT_ERROR;
	snprintf(config, sizeof config, "%s/ca-audit.yaml", dir);
	snprintf(sample, sizeof sample, "%s/reports/sample-demo.json", dir);
	c->config_path = config;
	c->db = NULL;
	if (!c->as_of)
		c->as_of = DEMO_AS_OF;
	if (cmd_ingest(c, 1, ingest_argv, e) != CA_EXIT_OK)
		return CA_EXIT_ERROR;
	/* Findings are the point of the demo, not a failure. */
	rc = cmd_check(c, 3, check_argv, e);
	if (rc != CA_EXIT_OK && rc != CA_EXIT_FINDINGS)
		return rc;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		char *report_argv[] = {"report", (char *)kinds[i], NULL};
		if (cmd_report(c, 2, report_argv, e) != CA_EXIT_OK)
			return CA_EXIT_ERROR;
	}
	if (cmd_sample(c, 9, sample_argv, e) != CA_EXIT_OK ||
	    cmd_report(c, 4, spot_argv, e) != CA_EXIT_OK)
		return CA_EXIT_ERROR;
	notef("demo: dataset, configuration and store are in '%s' (injected violations:"
	      " %s/truth.jsonl); the reports are listed above", dir, dir);
	return CA_EXIT_OK;
}
