/*
 * fuzz_csv.c — libFuzzer harness for the CSV event reader: the input is an
 * RA export, ingested with src_csv into a real store through one of two
 * mappings, chosen by the first byte: a UTF-8 one with English headers, or
 * the GB18030 one with Chinese headers that fixtures/ ships.
 */
#include <stdint.h>

#include "fuzzutil.h"

static struct fuzz_env fuzz_env;
static int fuzz_ready;

static const char fuzz_utf8_map[] =
	"encoding: utf-8\n"
	"delimiter: \",\"\n"
	"time: {format: \"%Y-%m-%d %H:%M:%S\", zone: Asia/Shanghai}\n"
	"columns: {app: app, kind: kind, at: at, type: applicant.type,\n"
	"  name: applicant.name, id_type: applicant.id_type, id: applicant.id,\n"
	"  items: items, covers: covers, serial: serial, method: method,\n"
	"  result: result, actor: actor, recipient: recipient.name}\n"
	"values:\n"
	"  kind: {A: apply, N: notice}\n"
	"lists: {items: \";\", covers: \"|\"}\n";

static const char fuzz_gb_map[] =
	"encoding: gb18030\n"
	"delimiter: \";\"\n"
	"time: {format: \"%Y-%m-%d %H:%M:%S\", zone: Asia/Shanghai}\n"
	"columns:\n"
	"  \xe4\xb8\x9a\xe5\x8a\xa1\xe6\xb5\x81\xe6\xb0\xb4\xe5\x8f\xb7: app\n"
	"  \xe4\xba\x8b\xe4\xbb\xb6: kind\n"
	"  \xe6\x97\xb6\xe9\x97\xb4: at\n"
	"  \xe7\x94\xb3\xe8\xaf\xb7\xe4\xba\xba\xe5\x90\x8d\xe7\xa7\xb0: applicant.name\n"
	"  \xe8\xaf\x81\xe4\xbb\xb6\xe5\x8f\xb7\xe7\xa0\x81: applicant.id\n"
	"values:\n"
	"  kind: {\xe7\x94\xb3\xe8\xaf\xb7: apply}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const extra[] = {"utf8.yaml", fuzz_utf8_map,
					    "gb.yaml", fuzz_gb_map, NULL};
	struct err e = {0};
	int which;

	if (!fuzz_ready) {
		fuzz_env_init(&fuzz_env, "ra.csv",
			      "  events:\n"
			      "    - {type: csv, path: ra.csv, mapping: utf8.yaml}\n"
			      "    - {type: csv, path: ra.csv, mapping: gb.yaml}\n",
			      extra);
		fuzz_ready = 1;
	}
	if (size < 1)
		return 0;
	which = data[0] & 1;
	if (fuzz_env_feed(&fuzz_env, data + 1, size - 1) == 0)
		src_csv(&fuzz_env.ctx, &fuzz_env.cfg->event_sources[which], &e);
	return 0;
}
