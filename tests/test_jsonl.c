/*
 * test_jsonl.c — the JSON Lines RA-event source, end to end through the real
 * parts: a configuration file loaded with config_load, a SQLite store in a
 * scratch directory, and ingest_run, set up by testutil's tu_src fixture as
 * the other source suites are. It checks that each kind of §5 lands in
 * `event` (and `application`) with its columns normalised, that the issuance
 * view joins them to a certificate, that every kind of bad line is rejected
 * with its source, line and reason, that ingest is idempotent and picks up
 * appended lines, and that --strict stops at the first reject.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "ingest.h"
#include "store.h"
#include "testutil.h"
#include "timeutil.h"

#define LOG "logs/ra-1.jsonl"
#define SOURCES "  events:\n    - {type: jsonl, path: \"logs/ra-*.jsonl\"}\n"
#define DEFAULT_ZONE "timezone: Asia/Shanghai\n"

/* A tu_src with the RA log source configured, its logs directory made, and
 * LOG written from lines (NULL ends) unless lines is NULL. */
static void fx_open(struct tu_src *x, const char *const *lines)
{
	char *logs;
	FILE *f;

	memset(x, 0, sizeof *x);
	x->dir = tu_tmpdir("jsonl");
	tu_src_open(x, SOURCES);
	logs = tu_fmt("%s/logs", x->dir);
	ck_assert_int_eq(mkdir(logs, 0700), 0);
	if (lines) {
		char *path = tu_fmt("%s/%s", x->dir, LOG);
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		for (size_t i = 0; lines[i]; i++)
			fprintf(f, "%s\n", lines[i]);
		fclose(f);
		free(path);
	}
	free(logs);
}

/* tu_src_open always writes the default zone; a test of another one puts
 * that zone in the configuration file instead and loads it again, so that
 * the zone still comes from the file. */
static void fx_zone(struct tu_src *x, const char *zone)
{
	char *path = tu_fmt("%s/ca-audit.yaml", x->dir);
	char *yaml = tu_read(path, NULL), *at, *out;

	ck_assert_msg(yaml && (at = strstr(yaml, DEFAULT_ZONE)),
		      "no default timezone line in '%s'", path);
	*at = '\0';
	out = tu_fmt("%stimezone: %s\n%s", yaml, zone, at + strlen(DEFAULT_ZONE));
	ck_assert_int_eq(tu_write(path, out), 0);
	config_free(x->cfg);
	ck_assert_msg(config_load(path, &x->cfg, &x->e) == 0, "%s", x->e.msg);
	x->ctx.cfg = x->cfg;
	free(path);
	free(yaml);
	free(out);
}

static void ingest_ok(struct tu_src *x)
{
	ck_assert_msg(tu_src_ingest(x) == 0, "ingest failed: %s:%d: %s", x->e.file, x->e.line,
		      x->e.msg);
}

/* The first row of a query, its columns joined with '|' and NULL as '~';
 * NULL when there is no row. Owned by the caller. */
static char *row(struct tu_src *x, const char *sql)
{
	sqlite3_stmt *st;
	char *out = NULL;
	size_t len = 0;
	FILE *m;

	ck_assert_msg(sqlite3_prepare_v2(store_db(x->st), sql, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(store_db(x->st)));
	if (sqlite3_step(st) == SQLITE_ROW) {
		m = open_memstream(&out, &len);
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *v = sqlite3_column_text(st, i);
			fprintf(m, "%s%s", i ? "|" : "", v ? (const char *)v : "~");
		}
		fclose(m);
	}
	sqlite3_finalize(st);
	return out;
}

static void assert_row(struct tu_src *x, const char *sql, const char *want)
{
	char *got = row(x, sql);

	ck_assert_msg(got && !strcmp(got, want), "%s\n got: %s\nwant: %s", sql,
		      got ? got : "(no row)", want);
	free(got);
}

#define EVENT_COLS "SELECT at, kind, app, serial, actor, method, result, reason, items," \
	" covers, cps_version, contract, new_serial, recipient_name, recipient_id_type," \
	" recipient_id, sha256, source FROM event WHERE line = "

#define SHA "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"

/* One line of each kind, with each accepted form of time; line 8 is blank. */
static const char *const every_kind[] = {
	"{\"kind\":\"apply\",\"at\":\"2024-03-01T09:00:00+08:00\",\"app\":\"A-1\","
	"\"applicant\":{\"type\":\"individual\",\"name\":\"张三\",\"id_type\":\"resident_id\","
	"\"id\":\"11010519491231002x\"},\"cert_type\":\"个人证书\",\"sector\":\"commercial\","
	"\"channel\":\"counter\",\"actor\":\"op1\",\"ra_extra\":{\"x\":1}}",
	"{\"kind\":\"notice\",\"at\":\"2024-03-01T01:05:00Z\",\"app\":\"A-1\",\"items\":"
	"[\"usage_conditions\",\"fees\",\"fees\",\"personal_info\"]}",
	"{\"kind\":\"accept\",\"at\":\"2024-03-01 09:10:00\",\"app\":\"A-1\",\"actor\":\"op1\"}",
	"{\"kind\":\"identity_verify\",\"at\":\"2024-03-01T09:20:00.123456+08:00\",\"app\":\"A-1\","
	"\"method\":\"face_to_face\",\"result\":\"pass\",\"actor\":\"op2\"}",
	"{\"kind\":\"review\",\"at\":\"2024-03-01T09:30:00+0800\",\"app\":\"A-1\",\"result\":"
	"\"pass\",\"actor\":\"op3\"}",
	"{\"kind\":\"contract\",\"at\":\"2024-03-01t01:40:00z\",\"app\":\"A-1\",\"contract\":"
	"\"C-9\",\"cps_version\":\"3.2\",\"covers\":[\"rights\",\"obligations\"]}",
	"{\"kind\":\"issue\",\"at\":\"2024-03-01T09:50:00+08\",\"app\":\"A-1\",\"serial\":"
	"\"0a1b2c\",\"actor\":\"sys\"}",
	"   ",
	"{\"kind\":\"deliver\",\"at\":\"2024-03-01T10:00:00+08:00\",\"app\":\"A-1\",\"serial\":"
	"\"A1B2C\",\"recipient\":{\"name\":\"张三\",\"id_type\":\"resident_id\",\"id\":"
	"\" 11010519491231002x \"}}",
	"{\"kind\":\"renew_request\",\"at\":\"2024-06-01T10:00:00+08:00\",\"serial\":"
	"\"0A1B2C\",\"app\":\"A-1\"}",
	"{\"kind\":\"renew\",\"at\":\"2024-06-02T10:00:00+08:00\",\"serial\":\"0A1B2C\","
	"\"new_serial\":\"00FF01\"}",
	"{\"kind\":\"revoke_request\",\"at\":\"2024-07-01T10:00:00+08:00\",\"serial\":\"ff01\","
	"\"reason\":\"key_compromise\"}",
	"{\"kind\":\"revoke\",\"at\":\"2024-07-01T12:00:00+08:00\",\"serial\":\"FF01\","
	"\"reason\":\"key_compromise\",\"actor\":\"op4\",\"app\":null}",
	"{\"kind\":\"archive\",\"at\":\"2024-03-02\",\"app\":\"A-1\",\"sha256\":\"" SHA "\"}",
	"{\"kind\":\"purge\",\"at\":\"2029-03-02T00:00:00+08:00\",\"app\":\"A-1\"}",
	NULL
};

START_TEST(test_every_kind)
{
	struct tu_src x;

	fx_open(&x, every_kind);
	ingest_ok(&x);
	ck_assert_int_eq(store_count(x.st, "event"), 14);
	ck_assert_int_eq(store_count(x.st, "reject"), 0);
	ck_assert_int_eq(x.ctx.records, 14);
	ck_assert_int_eq(x.ctx.added, 14);
	ck_assert_int_eq(x.ctx.files_read, 1);
	assert_row(&x, EVENT_COLS "1", "2024-03-01 01:00:00|apply|A-1|~|op1|~|~|~|~|~|~|~|~|~|~|~|~|"
		   LOG);
	assert_row(&x, EVENT_COLS "2", "2024-03-01 01:05:00|notice|A-1|~|~|~|~|~|"
		   "usage_conditions,fees,personal_info|~|~|~|~|~|~|~|~|" LOG);
	assert_row(&x, EVENT_COLS "3", "2024-03-01 01:10:00|accept|A-1|~|op1|~|~|~|~|~|~|~|~|~|~|"
		   "~|~|" LOG);
	assert_row(&x, EVENT_COLS "4", "2024-03-01 01:20:00|identity_verify|A-1|~|op2|"
		   "face_to_face|pass|~|~|~|~|~|~|~|~|~|~|" LOG);
	assert_row(&x, EVENT_COLS "5", "2024-03-01 01:30:00|review|A-1|~|op3|~|pass|~|~|~|~|~|~|"
		   "~|~|~|~|" LOG);
	assert_row(&x, EVENT_COLS "6", "2024-03-01 01:40:00|contract|A-1|~|~|~|~|~|~|"
		   "rights,obligations|3.2|C-9|~|~|~|~|~|" LOG);
	assert_row(&x, EVENT_COLS "7", "2024-03-01 01:50:00|issue|A-1|0A1B2C|sys|~|~|~|~|~|~|~|"
		   "~|~|~|~|~|" LOG);
	ck_assert_ptr_null(row(&x, EVENT_COLS "8")); /* the blank line */
	assert_row(&x, EVENT_COLS "9", "2024-03-01 02:00:00|deliver|A-1|0A1B2C|~|~|~|~|~|~|~|~|"
		   "~|张三|resident_id|11010519491231002X|~|" LOG);
	assert_row(&x, EVENT_COLS "10", "2024-06-01 02:00:00|renew_request|A-1|0A1B2C|~|~|~|~|~|"
		   "~|~|~|~|~|~|~|~|" LOG);
	assert_row(&x, EVENT_COLS "11", "2024-06-02 02:00:00|renew|~|0A1B2C|~|~|~|~|~|~|~|~|"
		   "FF01|~|~|~|~|" LOG);
	assert_row(&x, EVENT_COLS "12", "2024-07-01 02:00:00|revoke_request|~|FF01|~|~|~|"
		   "key_compromise|~|~|~|~|~|~|~|~|~|" LOG);
	assert_row(&x, EVENT_COLS "13", "2024-07-01 04:00:00|revoke|~|FF01|op4|~|~|"
		   "key_compromise|~|~|~|~|~|~|~|~|~|" LOG);
	assert_row(&x, EVENT_COLS "14", "2024-03-01 16:00:00|archive|A-1|~|~|~|~|~|~|~|~|~|~|~|~|"
		   "~|abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789|" LOG);
	assert_row(&x, EVENT_COLS "15", "2029-03-01 16:00:00|purge|A-1|~|~|~|~|~|~|~|~|~|~|~|~|~|"
		   "~|" LOG);
	assert_row(&x, "SELECT count(*), min(line), max(line) FROM event", "14|1|15");
	assert_row(&x, "SELECT * FROM application",
		   "A-1|individual|张三|resident_id|11010519491231002X|个人证书|commercial|counter|"
		   "2024-03-01 01:00:00");
	tu_src_close(&x);
}
END_TEST

START_TEST(test_issuance_view)
{
	struct cert_rec c = {0};
	struct tu_src x;
	int added = 0;

	fx_open(&x, every_kind);
	ingest_ok(&x);
	c.serial = strdup("0A1B2C");
	c.issuer = strdup("CN=Test CA,C=CN");
	c.subject = strdup("CN=张三,C=CN");
	c.cn = strdup("张三");
	c.source = strdup("ca/index.txt");
	ck_assert_msg(store_put_certificate(x.st, &c, &added, &x.e) == 0, "%s", x.e.msg);
	ck_assert_int_eq(added, 1);
	cert_rec_clear(&c);
	assert_row(&x, "SELECT serial, app, t_apply, t_notice, notice_items, t_accept,"
		   " t_identity, identity_method, identity_result, identity_actor, t_review,"
		   " t_contract, contract_cps, contract_covers, t_issue, issue_actor, t_deliver,"
		   " recipient_id, applicant_name, applicant_id FROM issuance",
		   "0A1B2C|A-1|2024-03-01 01:00:00|2024-03-01 01:05:00|"
		   "usage_conditions,fees,personal_info|2024-03-01 01:10:00|2024-03-01 01:20:00|"
		   "face_to_face|pass|op2|2024-03-01 01:30:00|2024-03-01 01:40:00|3.2|"
		   "rights,obligations|2024-03-01 01:50:00|sys|2024-03-01 02:00:00|"
		   "11010519491231002X|张三|11010519491231002X");
	tu_src_close(&x);
}
END_TEST

START_TEST(test_zone_from_config)
{
	static const char *const lines[] = {
		"{\"kind\":\"accept\",\"at\":\"2024-01-15 12:00:00\",\"app\":\"A-1\"}",
		"{\"kind\":\"accept\",\"at\":\"2024-07-15 12:00:00\",\"app\":\"A-2\"}",
		"{\"kind\":\"accept\",\"at\":\"2024-07-15T12:00:00+08:00\",\"app\":\"A-3\"}",
		NULL
	};
	struct tu_src x;

	fx_open(&x, lines);
	fx_zone(&x, "America/New_York");
	ingest_ok(&x);
	assert_row(&x, "SELECT group_concat(at, ',') FROM (SELECT at FROM event ORDER BY line)",
		   "2024-01-15 17:00:00,2024-07-15 16:00:00,2024-07-15 04:00:00");
	tu_src_close(&x);
}
END_TEST

/* Each bad line with the reason it must be rejected with. */
static const struct bad_case {
	const char *line, *reason;
} bad_cases[] = {
	{"{\"kind\":\"accept\",\"at\":\"2024-03-01T09:00:00+08:00\",\"app\":\"A-1\"",
	 "invalid JSON at column 61: '}' expected near end of file"},
	{"{\"kind\":\"accept\",\"kind\":\"issue\",\"at\":\"2024-03-01\",\"app\":\"A-1\"}",
	 "invalid JSON at column 23: duplicate object key near '\"kind\"'"},
	{"[\"apply\"]", "expected a JSON object, found an array"},
	{"{\"kind\":\"foo\",\"at\":\"2024-03-01\",\"app\":\"A-1\"}",
	 "unknown kind 'foo' (expected one of: apply, notice, accept, identity_verify, review, "
	 "contract, issue, deliver, renew_request, renew, revoke_request, revoke, archive, "
	 "purge)"},
	{"{\"at\":\"2024-03-01\",\"app\":\"A-1\"}", "missing required field 'kind'"},
	{"{\"kind\":7,\"at\":\"2024-03-01\"}", "field 'kind': expected a string, found a number"},
	{"{\"kind\":\"accept\",\"at\":\"2024-13-01\",\"app\":\"A-1\"}",
	 "field 'at': expected an RFC 3339 time, found '2024-13-01' (month 13 is not in 01-12)"},
	{"{\"kind\":\"accept\",\"at\":\"yesterday\",\"app\":\"A-1\"}",
	 "field 'at': expected an RFC 3339 time such as '2024-03-01T09:12:00+08:00', found "
	 "'yesterday'"},
	{"{\"kind\":\"accept\",\"app\":\"A-1\"}", "missing required field 'at'"},
	{"{\"kind\":\"accept\",\"at\":\"2024-03-01\"}",
	 "missing required field 'app' for kind 'accept'"},
	{"{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"\"}",
	 "field 'app': expected a non-empty string, found ''"},
	{"{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":12345}",
	 "field 'app': expected a string, found a number"},
	{"{\"kind\":\"identity_verify\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"method\":"
	 "\"telepathy\",\"result\":\"pass\"}",
	 "field 'method': expected one of face_to_face, public_security, video, bank_card, "
	 "document_only, other, found 'telepathy'"},
	{"{\"kind\":\"review\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"result\":true}",
	 "field 'result': expected a string, found a boolean"},
	{"{\"kind\":\"apply\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"cert_type\":\"x\","
	 "\"applicant\":{\"type\":\"individual\",\"name\":\"李四\",\"id_type\":\"resident_id\"}}",
	 "missing required field 'applicant.id' for kind 'apply'"},
	{"{\"kind\":\"apply\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"cert_type\":\"x\","
	 "\"applicant\":{\"type\":\"robot\",\"name\":\"R\",\"id_type\":\"other\",\"id\":\"1\"}}",
	 "field 'applicant.type': expected one of individual, organization, government, "
	 "found 'robot'"},
	{"{\"kind\":\"apply\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"cert_type\":\"x\","
	 "\"applicant\":\"李四\"}", "field 'applicant': expected an object, found a string"},
	{"{\"kind\":\"apply\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"cert_type\":\"x\","
	 "\"sector\":\"military\",\"applicant\":{\"type\":\"individual\",\"name\":\"R\","
	 "\"id_type\":\"other\",\"id\":\"1\"}}",
	 "field 'sector': expected one of commercial, egov-public, egov-government, found "
	 "'military'"},
	{"{\"kind\":\"notice\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"items\":[\"fees\","
	 "\"weather\"]}",
	 "field 'items': unknown item 'weather' (expected any of: usage_conditions, fees, "
	 "personal_info, ca_liability, holder_liability)"},
	{"{\"kind\":\"notice\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"items\":\"fees\"}",
	 "field 'items': expected an array of names, found a string"},
	{"{\"kind\":\"notice\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"items\":[\"fees\",3]}",
	 "field 'items': expected an array of names, found a number at index 1"},
	{"{\"kind\":\"issue\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"serial\":\"12:AB\"}",
	 "field 'serial': expected a certificate serial in hex, found '12:AB'"},
	{"{\"kind\":\"issue\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"serial\":4660}",
	 "field 'serial': expected a string, found a number"},
	{"{\"kind\":\"revoke\",\"at\":\"2024-03-01\",\"serial\":\"AB\",\"reason\":\"bored\"}",
	 "field 'reason': expected one of key_compromise, lost, holder_request, info_changed, "
	 "contract_breach, other, found 'bored'"},
	{"{\"kind\":\"renew\",\"at\":\"2024-03-01\",\"serial\":\"AB\"}",
	 "missing required field 'new_serial' for kind 'renew'"},
	{"{\"kind\":\"deliver\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"serial\":\"AB\","
	 "\"recipient\":{\"name\":\"王五\",\"id_type\":\"driving_licence\",\"id\":\"1\"}}",
	 "field 'recipient.id_type': expected one of resident_id, uscc, org_code, passport, "
	 "hk_id, other, found 'driving_licence'"},
	{"{\"kind\":\"contract\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"cps_version\":3.2}",
	 "field 'cps_version': expected a string, found a number"},
	{"{\"kind\":\"contract\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"cps_version\":\"3.2\","
	 "\"covers\":[\"rights\",\"duties\"]}",
	 "field 'covers': unknown item 'duties' (expected any of: rights, obligations)"},
	{"{\"kind\":\"archive\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"sha256\":\"abc\"}",
	 "field 'sha256': expected 64 hex digits, found 'abc'"},
	{"{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-1\",\"actor\":[\"op1\"]}",
	 "field 'actor': expected a string, found an array"},
};
#define N_BAD (sizeof bad_cases / sizeof *bad_cases)

static const char *good_line = "{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-OK\"}";

/* A good line, then the bad cases each followed by a good line. */
static const char **mixed_lines(void)
{
	const char **v = calloc(2 * N_BAD + 2, sizeof *v);

	v[0] = good_line;
	for (size_t i = 0; i < N_BAD; i++) {
		v[1 + 2 * i] = bad_cases[i].line;
		v[2 + 2 * i] = good_line;
	}
	return v;
}

START_TEST(test_rejects)
{
	const char **lines = mixed_lines();
	struct tu_src x;

	fx_open(&x, lines);
	ingest_ok(&x);
	ck_assert_int_eq(store_count(x.st, "event"), (int64_t)N_BAD + 1);
	ck_assert_int_eq(store_count(x.st, "reject"), (int64_t)N_BAD);
	ck_assert_int_eq(x.ctx.rejects, (int64_t)N_BAD);
	ck_assert_int_eq(x.ctx.records, 2 * (int64_t)N_BAD + 1);
	for (size_t i = 0; i < N_BAD; i++) {
		char *sql = tu_fmt("SELECT source, line, reason FROM reject WHERE line = %zu",
				   2 + 2 * i);
		char *want = tu_fmt(LOG "|%zu|%s", 2 + 2 * i, bad_cases[i].reason);

		assert_row(&x, sql, want);
		free(sql);
		free(want);
	}
	/* no application row from the rejected apply lines */
	ck_assert_int_eq(store_count(x.st, "application"), 0);
	tu_src_close(&x);
	free(lines);
}
END_TEST

START_TEST(test_idempotent)
{
	const char **lines = mixed_lines();
	char *path, *text, *more, *last;
	struct tu_src x;

	fx_open(&x, lines);
	ingest_ok(&x);
	ck_assert_int_eq(store_count(x.st, "event"), (int64_t)N_BAD + 1);

	/* unchanged: skipped */
	memset(&x.ctx, 0, sizeof x.ctx);
	x.ctx.st = x.st;
	x.ctx.cfg = x.cfg;
	ingest_ok(&x);
	ck_assert_int_eq(x.ctx.files_skipped, 1);
	ck_assert_int_eq(x.ctx.records, 0);

	/* read again with --full: nothing new */
	x.ctx.full = 1;
	ingest_ok(&x);
	ck_assert_int_eq(x.ctx.files_read, 1);
	ck_assert_int_eq(x.ctx.added, 0);
	ck_assert_int_eq(store_count(x.st, "event"), (int64_t)N_BAD + 1);
	ck_assert_int_eq(store_count(x.st, "reject"), (int64_t)N_BAD);

	/* an appended line is picked up, once */
	x.ctx.full = 0;
	path = tu_fmt("%s/%s", x.dir, LOG);
	text = tu_read(path, NULL);
	more = tu_fmt("%s{\"kind\":\"purge\",\"at\":\"2030-01-01\",\"app\":\"A-OK\"}\n", text);
	ck_assert_int_eq(tu_write(path, more), 0);
	ingest_ok(&x);
	ck_assert_int_eq(store_count(x.st, "event"), (int64_t)N_BAD + 2);
	ck_assert_int_eq(store_count(x.st, "reject"), (int64_t)N_BAD);
	last = tu_fmt("purge|%zu", 2 * N_BAD + 2);
	assert_row(&x, "SELECT kind, line FROM event ORDER BY line DESC", last);
	free(last);
	ingest_ok(&x);
	ck_assert_int_eq(store_count(x.st, "event"), (int64_t)N_BAD + 2);
	free(path);
	free(text);
	free(more);
	tu_src_close(&x);
	free(lines);
}
END_TEST

START_TEST(test_strict)
{
	static const char *const lines[] = {
		"{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-1\"}",
		"",
		"{\"kind\":\"accept\",\"at\":\"2024-02-30\",\"app\":\"A-2\"}",
		"{\"kind\":\"nope\",\"at\":\"2024-03-01\",\"app\":\"A-3\"}",
		NULL
	};
	char buf[2048];
	struct tu_src x;

	fx_open(&x, lines);
	x.ctx.strict = 1;
	ck_assert_int_eq(tu_src_ingest(&x), -1);
	ck_assert_int_eq(x.e.kind, CA_EINPUT);
	err_format(&x.e, buf, sizeof buf);
	ck_assert_str_eq(buf, LOG ":3: field 'at': expected an RFC 3339 time, found "
			 "'2024-02-30' (day 30 is not in 01-29 for 2024-02) (--strict)");
	/* the file is rolled back as a whole: the run can be repeated */
	ck_assert_int_eq(store_count(x.st, "event"), 0);
	ck_assert_int_eq(store_count(x.st, "reject"), 0);
	ck_assert_int_eq(store_count(x.st, "source_file"), 0);
	tu_src_close(&x);
}
END_TEST

/* Windows-written logs: a byte order mark, CRLF line ends, no final newline;
 * and a line much longer than any fixed buffer. */
START_TEST(test_line_forms)
{
	char *path, *actor, *text, *want;
	struct tu_src x;

	fx_open(&x, NULL);
	actor = malloc(300001);
	memset(actor, 'a', 300000);
	actor[300000] = '\0';
	text = tu_fmt("\xEF\xBB\xBF{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-1\"}\r\n"
		      "\r\n"
		      "{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-2\",\"actor\":\"%s\"}\r\n"
		      "{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-3\"}", actor);
	path = tu_write_in(x.dir, LOG, text);
	ingest_ok(&x);
	ck_assert_int_eq(store_count(x.st, "reject"), 0);
	assert_row(&x, "SELECT group_concat(app || ':' || line, ',') FROM event",
		   "A-1:1,A-2:3,A-3:4");
	want = tu_fmt("%d", 300000);
	assert_row(&x, "SELECT length(actor) FROM event WHERE app = 'A-2'", want);
	free(want);
	free(actor);
	free(text);
	free(path);
	tu_src_close(&x);
}
END_TEST

/* The glob picks up every matching file and only those; each file keeps its
 * own source name, relative to the configuration. */
START_TEST(test_files)
{
	struct tu_src x;
	char *p1, *p2, *p3;

	fx_open(&x, NULL);
	p1 = tu_write_in(x.dir, "logs/ra-2024.jsonl",
			 "{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-1\"}\n");
	p2 = tu_write_in(x.dir, "logs/ra-2025.jsonl",
			 "{\"kind\":\"accept\",\"at\":\"2025-03-01\",\"app\":\"A-2\"}\n"
			 "{\"kind\":\"accept\",\"at\":\"2025-03-01\"}\n");
	p3 = tu_write_in(x.dir, "logs/other.jsonl",
			 "{\"kind\":\"accept\",\"at\":\"2025-03-01\",\"app\":\"A-3\"}\n");
	ingest_ok(&x);
	ck_assert_int_eq(x.ctx.files_read, 2);
	assert_row(&x, "SELECT group_concat(app || '@' || source, ',') FROM"
		   " (SELECT * FROM event ORDER BY source)",
		   "A-1@logs/ra-2024.jsonl,A-2@logs/ra-2025.jsonl");
	assert_row(&x, "SELECT source, line FROM reject", "logs/ra-2025.jsonl|2");
	free(p1);
	free(p2);
	free(p3);
	tu_src_close(&x);
}
END_TEST

/* A log of n lines of several kinds, local times and offsets mixed, with a
 * broken line every 400 and a blank one every 900. */
static char *many_lines(int n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	for (int i = 1; i <= n; i++) {
		char *line;
		int app = i / 3, min = i % 60;

		if (i % 900 == 0)
			line = strdup("");
		else if (i % 400 == 0)
			line = tu_fmt(i % 800 ? "{\"kind\":\"accept\",\"at\":\"2024-03-01\""
					 : "{\"kind\":\"nosuch\",\"at\":\"2024-03-01\",\"app\":\"A-%d\"}",
				      app);
		else if (i % 3 == 0)
			line = tu_fmt("{\"kind\":\"apply\",\"at\":\"2024-03-01T10:%02d:00\","
				      "\"app\":\"A-%d\",\"applicant\":{\"type\":\"individual\","
				      "\"name\":\"张三%d\",\"id_type\":\"resident_id\","
				      "\"id\":\"11010119900101%04dx\"},\"cert_type\":\"个人证书\"}",
				      min, app, i, i % 10000);
		else if (i % 3 == 1)
			line = tu_fmt("{\"kind\":\"accept\",\"at\":\"2024-03-01T10:%02d:00+08:00\","
				      "\"app\":\"A-%d\",\"actor\":\"op-%d\"}", min, app, i % 7);
		else
			line = tu_fmt("{\"kind\":\"issue\",\"at\":\"2024-03-01T02:%02d:00Z\","
				      "\"app\":\"A-%d\",\"serial\":\"0%X\"}", min, app, 4096 + i);
		fprintf(f, "%s\n", line);
		free(line);
	}
	ck_assert_int_eq(fclose(f), 0);
	return out;
}

/* The lines are parsed by several workers at once (CA_AUDIT_THREADS) and
 * stored by one writer in the order of the file: the events, applications
 * and rejects are those of one thread, row for row, rowid for rowid. */
START_TEST(test_workers)
{
	static const char *const sql[] = {"SELECT rowid, * FROM event ORDER BY rowid",
					  "SELECT rowid, * FROM application ORDER BY rowid",
					  "SELECT rowid, * FROM reject ORDER BY rowid"};
	char *dir = tu_tmpdir("jsonlw"), *logs = tu_fmt("%s/logs", dir), *text = many_lines(3000);
	char *log, *cfg, *dump[2], *db;
	struct tu_out o;

	ck_assert_int_eq(mkdir(logs, 0700), 0);
	log = tu_write_in(logs, "ra-1.jsonl", text);
	cfg = tu_write_in(dir, "c.yaml", "ca: {name: X}\n" DEFAULT_ZONE "sources:\n" SOURCES);
	for (int k = 0; k < 2; k++) {
		o = tu_run("CA_AUDIT_THREADS=%d '%s' --no-progress -c '%s' --db '%s/t%d.db' ingest",
			   1 + 2 * k, tu_bin(), cfg, dir, k);
		/* 3000 lines: 3 blank, 7 broken */
		ck_assert_msg(o.status == 0 && strstr(o.err, "2997 records, 2990 new, 7 rejected"),
			      "%d threads: %s", 1 + 2 * k, o.err);
		tu_out_free(&o);
		dump[k] = tu_dump(db = tu_fmt("%s/t%d.db", dir, k), sql, 3);
		free(db);
	}
	ck_assert_msg(!strcmp(dump[0], dump[1]), "one thread:\n%.2000s\nthree:\n%.2000s", dump[0],
		      dump[1]);
	/* each event and each reject names its file and line */
	ck_assert_int_eq(tu_count_lines(dump[0], "|logs/ra-1.jsonl|"), 2990 + 7);
	/* an application per apply line: every third, less the blank and
	 * broken ones among them (900, 1800, 2700; 1200, 2400) */
	ck_assert_int_eq(tu_count_lines(dump[0], "|11010119900101"), 995);
	ck_assert_msg(strstr(dump[0], "|logs/ra-1.jsonl|800|unknown kind 'nosuch'"), "%s",
		      strstr(dump[0], "|logs/ra-1.jsonl|400|"));
	ck_assert_msg(strstr(dump[0], "|logs/ra-1.jsonl|2800|invalid JSON"), "%s",
		      strstr(dump[0], "|logs/ra-1.jsonl|400|"));
	for (int k = 0; k < 2; k++)
		free(dump[k]);
	free(cfg);
	free(log);
	free(text);
	free(logs);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

#ifndef __SANITIZE_ADDRESS__
/* The rows of one query on the store at db, as tu_dump gives them. */
static void assert_db(const char *db, const char *sql, const char *want)
{
	char *got = tu_dump(db, &sql, 1);

	ck_assert_msg(!strcmp(got, want), "%s: got %s, want %s", sql, got, want);
	free(got);
}
#endif

/* A line longer than the memory the process may take: getline fails with
 * ENOMEM and sets neither the end-of-file nor the error indicator, which
 * once read as the end of the log (the lines after it skipped, the ingest
 * "successful"). Now the file fails with its name and line and nothing of
 * it is kept; with the memory it needs, every line is read. Both line
 * readers that take a log whole: a JSON Lines log (the long line's 160 MiB
 * of blanks before its object) and a mapped CSV export (the long row's in
 * an unmapped quoted cell). (Not under AddressSanitizer, whose shadow
 * memory a limit on the address space forbids.) */
struct long_line {
	const char *file, *first, *long_head, *long_tail, *last, *source, *mapping, *fails_at;
};

static const struct long_line long_lines[] = {
	{"ra.jsonl", "{\"at\":\"2024-03-01T09:00:00+08:00\",\"kind\":\"accept\",\"app\":\"A-1\"}\n",
	 "", "{\"at\":\"2024-03-01T09:00:00+08:00\",\"kind\":\"accept\",\"app\":\"A-2\"}\n",
	 "{\"at\":\"2024-03-01T09:00:00+08:00\",\"kind\":\"accept\",\"app\":\"A-3\"}\n",
	 "{type: jsonl, path: ra.jsonl}", NULL, "ra.jsonl:2: unable to read"},
	{"ra.csv", "app,kind,at,note\nA-1,accept,2024-03-01 09:00:00,\n",
	 "A-2,accept,2024-03-01 09:00:00,\"", "\"\n", "A-3,accept,2024-03-01 09:00:00,x\n",
	 "{type: csv, path: ra.csv, mapping: map.yaml}",
	 "encoding: utf-8\ntime: {format: \"%Y-%m-%d %H:%M:%S\", zone: Asia/Shanghai}\n"
	 "columns: {app: app, kind: kind, at: at}\n", "ra.csv:3: unable to read"},
};

START_TEST(test_line_beyond_memory)
{
#ifndef __SANITIZE_ADDRESS__
	const struct long_line *c = &long_lines[_i];
	char *dir = tu_tmpdir("long-line"), *log = tu_fmt("%s/%s", dir, c->file), *cfg, *db, *text;
	static char pad[1 << 20];
	struct tu_out o;
	FILE *f = fopen(log, "w");

	ck_assert_ptr_nonnull(f);
	memset(pad, ' ', sizeof pad);
	fputs(c->first, f);
	fputs(c->long_head, f);
	for (int i = 0; i < 160; i++) /* 160 MiB of blanks */
		fwrite(pad, 1, sizeof pad, f);
	fputs(c->long_tail, f);
	fputs(c->last, f);
	ck_assert_int_eq(fclose(f), 0);
	if (c->mapping)
		free(tu_write_in(dir, "map.yaml", c->mapping));
	text = tu_fmt("ca: {name: X}\n" DEFAULT_ZONE "sources:\n  events:\n    - %s\n", c->source);
	cfg = tu_write_in(dir, "c.yaml", text);
	free(text);
	db = tu_fmt("%s/s.db", dir);
	o = tu_run("ulimit -v 150000 && '%s' --no-progress -c '%s' --db '%s' ingest", tu_bin(), cfg,
		   db);
	ck_assert_msg(o.status == 1 && strstr(o.err, c->fails_at) &&
		      strstr(o.err, ": Cannot allocate memory"), "%d: %s", o.status, o.err);
	tu_out_free(&o);
	assert_db(db, "SELECT count(*) FROM event", "0\n");
	assert_db(db, "SELECT count(*) FROM source_file", "0\n");
	o = tu_run("'%s' --no-progress -c '%s' --db '%s' ingest", tu_bin(), cfg, db);
	ck_assert_msg(o.status == 0 && strstr(o.err, "3 records, 3 new"), "%s", o.err);
	tu_out_free(&o);
	assert_db(db, "SELECT group_concat(app) FROM event", "A-1,A-2,A-3\n");
	free(db);
	free(cfg);
	free(log);
	tu_rmdir(dir);
	free(dir);
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsonl");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_kind);
	tcase_add_test(tc, test_issuance_view);
	tcase_add_test(tc, test_zone_from_config);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_idempotent);
	tcase_add_test(tc, test_strict);
	tcase_add_test(tc, test_line_forms);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_workers);
	tcase_add_loop_test(tc, test_line_beyond_memory, 0,
			    (int)(sizeof long_lines / sizeof *long_lines));
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
