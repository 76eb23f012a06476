/*
 * cmd_rules.c — `ca-audit rules list | show ID | lint FILE...`: what
 * checklists are available, what one of them checks, and whether a
 * checklist file is valid. Works without a configuration file.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "rules.h"

static void help(void)
{
	printf("usage: ca-audit rules list [--format text|json]\n"
	       "       ca-audit rules show ID\n"
	       "       ca-audit rules lint FILE...\n"
	       "\n"
	       "Checklists are YAML files, one per regulation (README: Checklists). An id such as\n"
	       "miit-2022 is looked up as miit-2022.yaml in: rules/ beside the\n"
	       "configuration file, $CA_AUDIT_RULES, the source tree's rules/, and the\n"
	       "installed rules directory.\n"
	       "\n"
	       "  list   every checklist found: id, items, title (json: one object a line)\n"
	       "  show   a checklist's items: id, severity, kind, title, basis and check\n"
	       "  lint   validate checklist files and print every problem as\n"
	       "         file:line:col: message; exit 1 when there is any\n"
	       "\n"
	       "examples:\n"
	       "  ca-audit rules list\n"
	       "  ca-audit rules show miit-2022\n"
	       "  ca-audit rules lint rules/miit-2022.yaml my-checklist.yaml\n");
}

/* The configuration when there is one; rules work without. */
static int config(struct cli *c, struct err *e)
{
	if (c->cfg)
		return 0;
	if (c->config_path || !access("ca-audit.yaml", F_OK))
		return cli_config(c, e);
	if (!(c->cfg = config_default()))
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
	return 0;
}

static int is_yaml(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".yaml") && name[0] != '.';
}

/* Other YAML lives in rules/ too (calendars, example configurations). */
static int looks_like_checklist(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int found = 0;

	while (f && !found && fgets(line, sizeof line, f))
		found = !strncmp(line, "checklist:", 10);
	if (f)
		fclose(f);
	return found;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every checklist file, sorted per directory; an id found twice keeps the
 * first (the one rules_find would pick). */
static void print_list(struct strlist *dirs, int json)
{
	struct strlist seen = {0};

	for (size_t i = 0; i < dirs->n; i++) {
		struct strlist files = {0};
		DIR *d = opendir(dirs->v[i]);
		struct dirent *de;

		while (d && (de = readdir(d)))
			if (is_yaml(de->d_name) && strncmp(de->d_name, "calendar", 8))
				strlist_push(&files, de->d_name);
		if (d)
			closedir(d);
		qsort(files.v, files.n, sizeof *files.v, by_name);
		for (size_t j = 0; j < files.n; j++) {
			struct checklist *cl;
			struct err e = {0};
			char *path = NULL, msg[1200];
			size_t k;

			if (asprintf(&path, "%s/%s", dirs->v[i], files.v[j]) < 0)
				continue;
			if (!looks_like_checklist(path)) {
				free(path);
				continue;
			}
			if (rules_load(path, &cl, NULL, &e)) {
				err_format(&e, msg, sizeof msg);
				warnf("skipping %s", msg);
				free(path);
				continue;
			}
			for (k = 0; k < seen.n && strcmp(seen.v[k], cl->id); k++)
				;
			if (k == seen.n) {
				strlist_push(&seen, cl->id);
				if (json) {
					json_t *o = json_pack("{s:s,s:s,s:s?,s:s?,s:i,s:s}",
							      "id", cl->id, "title", cl->title,
							      "authority", cl->authority,
							      "published", cl->published,
							      "items", (json_int_t)cl->n_items,
							      "path", path);
					char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
					if (s)
						printf("%s\n", s);
					free(s);
					json_decref(o);
				} else {
					printf("%-16s %3zu items  %s\n", cl->id, cl->n_items, cl->title);
				}
			}
			checklist_free(cl);
			free(path);
		}
		strlist_free(&files);
	}
	strlist_free(&seen);
}

static int list(struct cli *c, int argc, char **argv, struct err *e)
{
	struct strlist dirs = {0};
	int json = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "text") && strcmp(argv[i], "json"))
				return cli_usage(e, "rules", "unknown format '%s' (expected text"
						 " or json)", argv[i]);
			json = !strcmp(argv[i], "json");
		} else {
			return cli_usage(e, "rules", "unexpected argument '%s' to 'list'", argv[i]);
		}
	}
	if (config(c, e) || rules_dirs(c->cfg, &dirs, e))
		return CA_EXIT_ERROR;
	print_list(&dirs, json);
	strlist_free(&dirs);
	return CA_EXIT_OK;
}

static void show_item(const struct rule_item *it)
{
	const struct rule_check *k = &it->check;

	printf("\n%s  [%s] %s\n", it->id, rules_severity_name(it->severity), it->title);
	if (it->section)
		printf("  section:   %s\n", it->section);
	for (size_t i = 0; i < it->basis.n; i++)
		printf("  basis:     %s\n", it->basis.v[i]);
	if (it->eff_from || it->eff_to)
		printf("  effective: %s .. %s\n", it->eff_from ? it->eff_from : "",
		       it->eff_to ? it->eff_to : "");
	if (it->kind == RULE_MANUAL) {
		printf("  manual:    answered in the attestations file\n");
	} else if (it->kind == RULE_METRIC) {
		printf("  metric:    %s\n", it->metric.sql);
	} else if (k->sql) {
		printf("  sql:       %s\n", k->sql);
	} else {
		printf("  check:     %s WHERE %s\n  key:       %s\n", k->from, k->where, k->key);
	}
	if (it->kind == RULE_CHECK)
		printf("  message:   %s\n", k->message);
	if (it->measures)
		printf("  measures:  %s\n", it->measures);
	if (it->due_workdays)
		printf("  due:       %ld working days\n", it->due_workdays);
	else if (it->due_date)
		printf("  due:       %s\n", it->due_date);
}

static int show(struct cli *c, int argc, char **argv, struct err *e)
{
	struct checklist *cl;
	char *path = NULL;
	int rc;

	if (argc != 2)
		return cli_usage(e, "rules", "'show' takes one checklist id");
	if (config(c, e) || rules_find(c->cfg, argv[1], &path, e))
		return CA_EXIT_ERROR;
	rc = rules_load(path, &cl, NULL, e);
	free(path);
	if (rc)
		return CA_EXIT_ERROR;
	printf("%s — %s\n", cl->id, cl->title);
	if (cl->authority)
		printf("authority: %s\n", cl->authority);
	if (cl->published)
		printf("published: %s\n", cl->published);
	if (cl->scope_from || cl->scope_to)
		printf("scope:     %s .. %s\n", cl->scope_from ? cl->scope_from : "",
		       cl->scope_to ? cl->scope_to : "");
	if (cl->deadline)
		printf("deadline:  %s\n", cl->deadline);
	for (size_t i = 0; i < cl->n_items; i++)
		show_item(&cl->items[i]);
	checklist_free(cl);
	return CA_EXIT_OK;
}

static int lint(int argc, char **argv, struct err *e)
{
	size_t problems = 0, bad_files = 0;

	if (argc < 2)
		return cli_usage(e, "rules", "'lint' takes one or more files");
	for (int i = 1; i < argc; i++) {
		struct rules_errors errs = {0};
		struct checklist *cl = NULL;
		struct err first = {0};
		char msg[1600];

		if (!rules_load(argv[i], &cl, &errs, &first)) {
			notef("%s: ok (%zu items)", argv[i], cl->n_items);
			checklist_free(cl);
			continue;
		}
		bad_files++;
		if (!errs.n) {
			err_format(&first, msg, sizeof msg);
			printf("%s\n", msg);
			problems++;
		}
		for (size_t j = 0; j < errs.n; j++) {
			err_format(&errs.v[j], msg, sizeof msg);
			printf("%s\n", msg);
			problems++;
		}
		rules_errors_free(&errs);
	}
	if (!bad_files)
		return CA_EXIT_OK;
	err_set(e, CA_EINPUT, NULL, 0, 0, "%zu problem%s in %zu file%s", problems,
		problems == 1 ? "" : "s", bad_files, bad_files == 1 ? "" : "s");
	return CA_EXIT_ERROR;
}

int cmd_rules(struct cli *c, int argc, char **argv, struct err *e)
{
	if (argc < 2)
		return cli_usage(e, "rules", "expected 'list', 'show ID' or 'lint FILE...'");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		help();
		return CA_EXIT_OK;
	}
	if (!strcmp(argv[1], "list"))
		return list(c, argc - 1, argv + 1, e);
	if (!strcmp(argv[1], "show"))
		return show(c, argc - 1, argv + 1, e);
	if (!strcmp(argv[1], "lint"))
		return lint(argc - 1, argv + 1, e);
	return cli_usage(e, "rules", "unknown action '%s' (expected list, show or lint)",
			 argv[1]);
}
