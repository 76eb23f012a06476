/*
 * fuzz_config.c — libFuzzer harness for the two YAML files a user writes
 * besides checklists: the input is loaded both as a configuration
 * (config_load) and as a CSV mapping (csvmap_load).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "csvmap.h"
#include "log.h"

static char fuzz_path[256];

static void fuzz_cleanup(void)
{
	unlink(fuzz_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct csvmap *m = NULL;
	struct err e = {0};
	FILE *f;
	int fd;

	if (!fuzz_path[0]) {
		snprintf(fuzz_path, sizeof fuzz_path, "/tmp/ca-fuzz-config-XXXXXX.yaml");
		if ((fd = mkstemps(fuzz_path, 5)) < 0)
			abort();
		close(fd);
		atexit(fuzz_cleanup);
		log_set_level(LOG_QUIET);
	}
	if (!(f = fopen(fuzz_path, "w")))
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (config_load(fuzz_path, &c, &e) == 0) {
		char *p = config_path(c, "x");
		free(p);
		config_free(c);
	}
	err_clear(&e);
	if (csvmap_load(fuzz_path, &m, &e) == 0)
		csvmap_free(m);
	return 0;
}
