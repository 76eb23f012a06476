/*
 * cli.c — the configuration and store access every subcommand shares; see
 * cli.h.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

int cli_config(struct cli *c, struct err *e)
{
	if (c->cfg)
		return 0;
	if (config_load(c->config_path ? c->config_path : "ca-audit.yaml", &c->cfg, e))
		return -1;
	if (time_set_zone(c->cfg->timezone, e))
		return -1;
	if (c->as_of) {
		if (!time_valid_date(c->as_of))
			return err_set(e, CA_EUSAGE, NULL, 0, 0,
				       "--as-of expects a date YYYY-MM-DD, found '%s'", c->as_of);
		snprintf(c->today, sizeof c->today, "%s", c->as_of);
	} else {
		time_today(c->today);
	}
	return 0;
}

int cli_store(struct cli *c, int readonly, struct store **out, struct err *e)
{
	char *path;
	int rc;

	if (cli_config(c, e))
		return -1;
	path = c->db ? strdup(c->db) : config_path(c->cfg, c->cfg->store);
	if (!path)
		return err_set(e, CA_EINTERNAL, NULL, 0, 0, "out of memory");
	rc = store_open(path, readonly, out, e);
	free(path);
	return rc;
}

int cli_usage(struct err *e, const char *cmd, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (cmd)
		err_set(e, CA_EUSAGE, NULL, 0, 0, "%s: %s (see 'ca-audit %s --help')", cmd,
			msg, cmd);
	else
		err_set(e, CA_EUSAGE, NULL, 0, 0, "%s", msg);
	return CA_EXIT_USAGE;
}
