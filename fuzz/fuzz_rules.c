/*
 * fuzz_rules.c — libFuzzer harness for the checklist loader: the input is a
 * checklist YAML file, loaded and validated with rules_load.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "rules.h"

static char fuzz_path[256];

static void fuzz_cleanup(void)
{
	unlink(fuzz_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct checklist *c = NULL;
	struct rules_errors errs = {0};
	struct err e = {0};
	FILE *f;
	int fd;

	if (!fuzz_path[0]) {
		snprintf(fuzz_path, sizeof fuzz_path, "/tmp/ca-fuzz-rules-XXXXXX.yaml");
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
	if (rules_load(fuzz_path, &c, &errs, &e) == 0)
		checklist_free(c);
	rules_errors_free(&errs);
	return 0;
}
