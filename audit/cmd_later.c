/*
 * cmd_later.c — subcommands of the contract (DESIGN §3) that this version
 * does not have yet. They say so plainly and fail, rather than pretend.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int not_yet(const char *name, int argc, char **argv, struct err *e)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("ca-audit %s: not available in ca-audit %s yet\n", name,
			       CA_AUDIT_VERSION);
			return CA_EXIT_OK;
		}
	return err_set(e, CA_EINPUT, NULL, 0, 0,
		       "'%s' is not available in ca-audit %s yet", name, CA_AUDIT_VERSION),
	       CA_EXIT_ERROR;
}

int cmd_run(struct cli *c, int argc, char **argv, struct err *e)
{
	(void)c;
	return not_yet("run", argc, argv, e);
}
