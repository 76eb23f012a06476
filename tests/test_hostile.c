/*
 * test_hostile.c — hostile and broken input, end to end through the binary:
 * each case ends in a clear message naming the file (and line where there is
 * one), exit 1 where the run cannot go on, otherwise a counted reject —
 * never a crash, never a record dropped without a word.
 *
 * What other suites already cover is not repeated here: bad JSON lines, wrong
 * JSON types and a 300 kB line (test_jsonl.c), truncated and trailing-data
 * DER and non-BMP names (test_x509.c), CSV column counts and GB18030 errors
 * (test_sources_more.c), configuration YAML with tabs, duplicate and unknown
 * keys (test_config.c), checklist YAML errors (test_rules.c), a store from a
 * newer schema and a foreign database (test_store.c). This suite adds the
 * inputs those do not reach: invalid UTF-8, NUL and control characters, a
 * 10 MB line and a 100,000-character name carried through to every output
 * format; certificates with hostile names, cut short or badly armoured in
 * a real ingest; a CSV quote never closed; directories where files are
 * expected; output under a regular file; a full disk (/dev/full, and a
 * tiny tmpfs when mount is permitted).
 */
#include <check.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define AS_OF "2026-01-15"

static struct tu_out run(const char *cfg, const char *args)
{
	return tu_run("cd \"$(dirname '%s')\" && '%s' -c '%s' --as-of " AS_OF
		      " --no-progress %s", cfg, tu_bin(), cfg, args);
}

/* The first column of each row of sql, joined with '\n'. */
static char *q(const char *db_path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		fprintf(m, "%s%s", n ? "\n" : "", v ? (const char *)v : "~");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	fclose(m);
	return out;
}

static void assert_q(const char *db, const char *sql, const char *want)
{
	char *got = q(db, sql);

	ck_assert_msg(!strcmp(got, want), "%s: got '%s', want '%s'", sql, got, want);
	free(got);
}

static void assert_has(const char *hay, const char *needle)
{
	ck_assert_msg(hay && strstr(hay, needle), "no '%s' in: %.2000s", needle, hay);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- RA log lines ---- */

START_TEST(jsonl_hostile_lines)
{
	char *dir = tu_tmpdir("hostile-jsonl");
	char *logs = tu_fmt("%s/logs", dir), *path = tu_fmt("%s/logs/ra-1.jsonl", dir);
	char *db = tu_fmt("%s/ca-audit.db", dir), *cfg, *big, *name, *text;
	size_t big_n = 10 * 1024 * 1024, name_n = 100000, len = 0;
	FILE *m = open_memstream(&text, &len);
	struct tu_out o;
	json_t *j;

	big = malloc(big_n + 1);
	memset(big, 'a', big_n);
	big[big_n] = 0;
	name = malloc(name_n + 1);
	memset(name, 'N', name_n);
	name[name_n] = 0;
#define APPLY(app, nm) "{\"kind\":\"apply\",\"at\":\"2024-03-01\",\"app\":\"" app "\"," \
	"\"cert_type\":\"x\",\"applicant\":{\"type\":\"individual\",\"name\":\"" nm "\"," \
	"\"id_type\":\"resident_id\",\"id\":\"12345\"}}\n" \
	"{\"kind\":\"accept\",\"at\":\"2024-03-02\",\"app\":\"" app "\"}\n"
	fputs("{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-\xff\xfe\"}\n", m); /* 1 */
	fputs(APPLY("A-2", "\\u0001\\u001b[31mRED\\u0007"), m);                          /* 2-3 */
	fprintf(m, "{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-4\",\"actor\":\"%s\"}\n",
		big);                                                                       /* 4 */
	fputs("{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-5", m);
	fputc(0, m);
	fputs("x\"}\n", m);                                                                /* 5 */
	fputs("{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-6\\u0000x\"}\n", m); /* 6 */
	fprintf(m, APPLY("A-7", "%s"), name);                                              /* 7-8 */
	fputs("{\"kind\":\"accept\",\"at\":\"2024-03-01\",\"app\":\"A-9\"}\n", m);         /* 9 */
	fclose(m);
	mkdir(logs, 0755);
	write_bytes(path, text, len);
	cfg = tu_write_in(dir, "ca-audit.yaml",
			  "ca: {name: 测试}\nsources:\n  events:\n"
			  "    - {type: jsonl, path: \"logs/*.jsonl\"}\n"
			  "checklists: [miit-2022, egov-2009]\n"
			  "reports: {output: out/, formats: [xlsx, pdf]}\n");
	o = run(cfg, "ingest");
	ck_assert_msg(o.status == 0, "%s", o.err);
	assert_has(o.err, "logs/ra-1.jsonl:1: rejected: invalid JSON at column 44: unable to"
			  " decode byte 0xff");
	assert_has(o.err, "9 records, 6 new, 3 rejected");
	tu_out_free(&o);
	assert_q(db, "SELECT line || ': ' || reason FROM reject ORDER BY line",
		 "1: invalid JSON at column 44: unable to decode byte 0xff near '\"A-'\n"
		 "5: invalid JSON at column 45: control character 0x0 near '\"A-5'\n"
		 "6: invalid JSON at column 53: \\u0000 is not allowed without JSON_ALLOW_NUL near"
		 " '\"A-6\\u0000x\"'");
	assert_q(db, "SELECT app || ' ' || line FROM event ORDER BY line",
		 "A-2 2\nA-2 3\nA-4 4\nA-7 7\nA-7 8\nA-9 9");
	assert_q(db, "SELECT length(actor) FROM event WHERE app = 'A-4'", "10485760");
	assert_q(db, "SELECT length(applicant_name) FROM application ORDER BY app",
		 "10\n100000");
	/* the names reach findings (egov 30: an invalid resident id) and every
	 * output: JSON stays valid with the characters escaped */
	o = run(cfg, "check --reveal --format json");
	ck_assert_msg(o.status == 0 || o.status == 2, "exit %d: %s", o.status, o.err);
	ck_assert_int_gt(tu_count_lines(o.out, "\"key\":\"app:A-7\""), 0);
	for (char *line = o.out; line && *line;) {
		char *nl = strchr(line, '\n');
		json_error_t je;

		if (nl)
			*nl = 0;
		ck_assert_msg((j = json_loads(line, 0, &je)) != NULL, "%s: %.200s", je.text, line);
		json_decref(j);
		line = nl ? nl + 1 : NULL;
	}
	tu_out_free(&o);
	o = run(cfg, "report self-inspection --reveal");
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	o = tu_run("python3 '%s/tests/xlsx_dump.py' %s/out/self-inspection-*.xlsx", tu_root(), dir);
	ck_assert_msg(o.status == 0, "%s", o.err);
	/* an XLSX cell holds at most 32,767 characters: the name is cut, not lost
	 * with the workbook */
	assert_has(o.out, "NNNNNNNNNN");
	ck_assert_ptr_null(strstr(o.out, name + name_n - 32768));
	tu_out_free(&o);
	o = tu_run("pdftotext -q %s/out/self-inspection-*.pdf - | grep -c RED", dir);
	ck_assert_msg(o.status == 0, "no name in the PDF: %s", o.err);
	tu_out_free(&o);
	free(big);
	free(name);
	free(text);
	free(cfg);
	free(db);
	free(path);
	free(logs);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- a CSV quote never closed ---- */

START_TEST(csv_unclosed_quote)
{
	char *dir = tu_tmpdir("hostile-csv");
	char *db = tu_fmt("%s/ca-audit.db", dir), *cfg, *p;
	struct tu_out o;

	free(tu_write_in(dir, "map.yaml",
			 "encoding: utf-8\ncolumns: {app: app, kind: kind, at: at, actor: actor}\n"
			 "time: {format: \"%Y-%m-%d %H:%M:%S\"}\n"));
	p = tu_fmt("%s/ra.csv", dir);
	write_bytes(p, "app,kind,at,actor\n"
		    "A-1,accept,2024-03-01 09:20:00,op1\n"
		    "A-2,accept,2024-03-01 09:20:00,\"op\xff\xfe\"\n"
		    "A-3,accept,\"2024-03-01 09:20:00,op1\n"
		    "A-4,accept,2024-03-01 09:20:00,op1\n"
		    "A-5,accept,2024-03-01 09:20:00,op1\n", 197);
	cfg = tu_write_in(dir, "ca-audit.yaml",
			  "ca: {name: x}\nsources:\n  events:\n"
			  "    - {type: csv, path: ra.csv, mapping: map.yaml}\n");
	o = run(cfg, "ingest");
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	/* the quote opened on line 4 swallows lines 5 and 6: the reject says so */
	assert_q(db, "SELECT line || ': ' || reason FROM reject ORDER BY line",
		 "3: bytes invalid in the mapping's encoding 'utf-8' at byte 35 of the line\n"
		 "4: malformed CSV: a quoted field is not closed at the end of the file"
		 " (lines 4-6 rejected as one record)");
	assert_q(db, "SELECT group_concat(app) FROM event", "A-1");
	free(p);
	free(cfg);
	free(db);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- certificates ---- */

START_TEST(certificate_files)
{
	char *dir = tu_tmpdir("hostile-cert");
	char *db = tu_fmt("%s/ca-audit.db", dir), *cfg, *der, *p, *at, *pem;
	size_t len;
	struct tu_out o;

	o = tu_run("cd '%s' && mkdir certs && openssl req -x509 -newkey rsa:2048 -nodes"
		   " -keyout k.pem -days 30 -utf8 -subj '/CN=ZZZZ/O=x' -outform DER"
		   " -out good.der 2>&1 && openssl req -x509 -key k.pem -days 30"
		   " -subj \"/CN=$(printf 'a\\001\\033[31mb')\" -out certs/ctl.pem 2>&1", dir);
	ck_assert_msg(o.status == 0, "%s", o.out);
	tu_out_free(&o);
	/* invalid UTF-8 in a UTF8String CN: the signature no longer matches,
	 * which the reader does not check */
	p = tu_fmt("%s/good.der", dir);
	der = tu_read(p, &len);
	ck_assert_ptr_nonnull(at = memmem(der, len, "ZZZZ", 4));
	memcpy(at, "\xff\xfe\xc0\x80", 4);
	free(p);
	p = tu_fmt("%s/certs/badutf8.der", dir);
	write_bytes(p, der, len);
	free(p);
	/* the same certificate cut short, and PEM armour around garbage, and a
	 * bundle whose second block lacks its END line */
	p = tu_fmt("%s/certs/truncated.der", dir);
	write_bytes(p, der, len / 2);
	free(p);
	free(tu_write_in(dir, "certs/armour.pem",
			 "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
			 "-----END CERTIFICATE-----\n"));
	p = tu_fmt("%s/certs/ctl.pem", dir);
	pem = tu_read(p, NULL);
	free(p);
	p = tu_fmt("%s-----BEGIN CERTIFICATE-----\nMIIB\n", pem);
	free(tu_write_in(dir, "certs/bundle.pem", p));
	free(p);
	cfg = tu_write_in(dir, "ca-audit.yaml",
			  "ca: {name: x}\nsources:\n  certificates:\n"
			  "    - {type: pem, path: \"certs/*\"}\n"
			  "reports: {output: out/, formats: [xlsx, pdf]}\n");
	o = run(cfg, "ingest");
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	/* every file either gave its certificates or a reject naming it */
	{
		char *rej = q(db, "SELECT source || ':' || line || ': ' || reason FROM reject"
				  " ORDER BY 1");
		char *certs = q(db, "SELECT source FROM certificate ORDER BY 1");

		assert_has(rej, "certs/armour.pem:1: ");
		assert_has(rej, "certs/truncated.der:0: ");
		assert_has(rej, "certs/bundle.pem:");
		/* the bundle's good first block (the control-character certificate,
		 * also in ctl.pem) is kept, once */
		assert_has(certs, "certs/bundle.pem");
		assert_q(db, "SELECT count(*) FROM certificate WHERE instr(subject, '[31m')", "1");
		/* the bad UTF-8 certificate is stored or rejected, never dropped */
		ck_assert_msg(strstr(certs, "certs/badutf8.der") || strstr(rej, "certs/badutf8.der"),
			      "badutf8.der neither stored nor rejected: %s | %s", certs, rej);
		free(rej);
		free(certs);
	}
	/* whatever is stored is valid UTF-8 in every output */
	o = run(cfg, "check --reveal --format json");
	ck_assert_msg(o.status == 0 || o.status == 2, "%s", o.err);
	tu_out_free(&o);
	o = run(cfg, "report self-inspection --reveal");
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	o = tu_run("python3 '%s/tests/xlsx_dump.py' %s/out/self-inspection-*.xlsx >/dev/null",
		   tu_root(), dir);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	free(pem);
	free(der);
	free(cfg);
	free(db);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- files that are not where or what they should be ---- */

START_TEST(directories_where_files_are_expected)
{
	char *dir = tu_tmpdir("hostile-dir");
	char *cfg, *want;
	struct tu_out o;

	static const char *const dirs[] = {"map.yaml", "list.yaml", "logs", "logs/ra-1.jsonl"};

	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		char *d = tu_fmt("%s/%s", dir, dirs[i]);

		ck_assert_int_eq(mkdir(d, 0755), 0);
		free(d);
	}
	cfg = tu_write_in(dir, "ca-audit.yaml",
			  "ca: {name: x}\nsources:\n  events:\n"
			  "    - {type: csv, path: ra.csv, mapping: map.yaml}\n");
	free(tu_write_in(dir, "ra.csv", "app,kind,at\n"));
	/* the configuration itself */
	o = tu_run("'%s' -c '%s' ingest", tu_bin(), dir);
	ck_assert_int_eq(o.status, 1);
	want = tu_fmt("error: %s: unable to read: Is a directory", dir);
	assert_has(o.err, want);
	free(want);
	tu_out_free(&o);
	/* the store */
	o = tu_run("'%s' -c '%s' --db '%s' ingest", tu_bin(), cfg, dir);
	ck_assert_int_eq(o.status, 1);
	assert_has(o.err, "unable to open the store");
	tu_out_free(&o);
	/* a mapping */
	o = run(cfg, "ingest");
	ck_assert_int_eq(o.status, 1);
	assert_has(o.err, "map.yaml");
	tu_out_free(&o);
	/* a checklist given by path */
	o = run(cfg, "check --checklist ./list.yaml");
	ck_assert_int_eq(o.status, 1);
	assert_has(o.err, "list.yaml");
	tu_out_free(&o);
	/* a log name that a glob matches but is a directory is not read as a log */
	free(cfg);
	cfg = tu_write_in(dir, "ca-audit.yaml",
			  "ca: {name: x}\nsources:\n  events:\n"
			  "    - {type: jsonl, path: \"logs/*.jsonl\"}\n");
	o = run(cfg, "ingest");
	ck_assert_msg(o.status == 0 || o.status == 1, "exit %d", o.status);
	if (o.status == 1)
		assert_has(o.err, "logs/ra-1.jsonl");
	tu_out_free(&o);
	free(cfg);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* A small dataset, ingested and checked, for the output tests. */
static char *dataset(const char *tag)
{
	char *dir = tu_tmpdir(tag);
	struct tu_out o = tu_run("'%s' -o '%s' --certs 40 --violations 0.3 >/dev/null && "
				 "'%s' -c '%s/ca-audit.yaml' --as-of " AS_OF " -q ingest && "
				 "'%s' -c '%s/ca-audit.yaml' --as-of " AS_OF " -q check >/dev/null;"
				 " [ $? -le 2 ]",
				 tu_gen(), dir, tu_bin(), dir, tu_bin(), dir);

	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	return dir;
}

START_TEST(output_where_it_cannot_go)
{
	char *dir = dataset("hostile-out");
	char *cfg = tu_fmt("%s/ca-audit.yaml", dir), *args, *want;
	struct tu_out o;

	/* a directory under a regular file: root cannot write there either */
	args = tu_fmt("report self-inspection -o '%s/ca-audit.yaml/sub'", dir);
	o = run(cfg, args);
	ck_assert_int_eq(o.status, 1);
	want = tu_fmt("error: %s/ca-audit.yaml/sub: unable to create directory", dir);
	assert_has(o.err, want);
	assert_has(o.err, "Not a directory");
	free(want);
	free(args);
	tu_out_free(&o);
	args = tu_fmt("check -o '%s/ca-audit.yaml/x.txt'", dir);
	o = run(cfg, args);
	ck_assert_int_eq(o.status, 1);
	/* check -o writes through a temporary file beside the target */
	want = tu_fmt("error: %s/ca-audit.yaml/x.txt: unable to create a file in"
		      " '%s/ca-audit.yaml': Not a directory", dir, dir);
	assert_has(o.err, want);
	free(want);
	free(args);
	tu_out_free(&o);
	free(cfg);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* Every command that writes to standard output fails when it cannot. */
static const char *const stdout_cmds[] = {
	"rules list", "rules list --format json", "rules show miit-2022", "--help", "help",
	"check --help", "check --format json", "check --format text", "check --format csv",
	"sample --seed 1 --size 3", NULL};

START_TEST(full_disk)
{
	char *dir = dataset("hostile-full");
	char *cfg = tu_fmt("%s/ca-audit.yaml", dir), *args, *tiny;
	struct tu_out o;

	for (int i = 0; stdout_cmds[i]; i++) {
		args = tu_fmt("%s > /dev/full", stdout_cmds[i]);
		o = run(cfg, args);
		ck_assert_msg(o.status == 1, "%s: exit %d", stdout_cmds[i], o.status);
		ck_assert_msg(strstr(o.err, "No space left on device") ||
			      strstr(o.err, "unable to write"), "%s: %s", stdout_cmds[i], o.err);
		tu_out_free(&o);
		free(args);
	}
	/* a real file system that fills up, where mounting one is allowed */
	tiny = tu_fmt("%s/tiny", dir);
	mkdir(tiny, 0755);
	if (mount("tmpfs", tiny, "tmpfs", 0, "size=40k") != 0) {
		fprintf(stderr, "full_disk: cannot mount a tmpfs here: the tmpfs part is skipped\n");
	} else {
		args = tu_fmt("report self-inspection --format xlsx,pdf -o '%s'", tiny);
		o = run(cfg, args);
		ck_assert_int_eq(o.status, 1);
		assert_has(o.err, "/self-inspection-" AS_OF ".xlsx: unable to write");
		tu_out_free(&o);
		free(args);
		/* nothing half-written is left behind */
		o = tu_run("ls -A '%s'", tiny);
		ck_assert_msg(o.out[0] == 0, "left in a full file system: %s", o.out);
		tu_out_free(&o);
		umount(tiny);
	}
	free(tiny);
	free(cfg);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");
	int failed;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, jsonl_hostile_lines);
	tcase_add_test(tc, csv_unclosed_quote);
	tcase_add_test(tc, certificate_files);
	tcase_add_test(tc, directories_where_files_are_expected);
	tcase_add_test(tc, output_where_it_cannot_go);
	tcase_add_test(tc, full_disk);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
