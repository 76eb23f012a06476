/*
 * test_security.c — what a hostile checklist or hostile record data must not
 * be able to do, checked end to end through the ca-audit binary:
 *
 * - a checklist given by path in the configuration cannot write to the
 *   store (DELETE, UPDATE, INSERT, REPLACE, ATTACH, PRAGMA, DROP, CREATE,
 *   VACUUM, load_extension, a second statement smuggled into `where` or
 *   `from`); test_engine.c checks the authorizer's messages at the engine
 *   level, this checks the exit status and the store's contents after `check`;
 * - output paths never come from record data: certificates whose subject
 *   holds "../" and "/" make no file outside the output directory, and an
 *   openssl-index serial with a path in it is rejected, not opened;
 * - record data in XLSX stays text: an application id beginning with =, +,
 *   - or @ is a string cell, never a formula;
 * - personal data (individual applicants' and recipients' names and resident
 *   identity numbers, taken from the generated RA logs) appears in no output
 *   (check text/json/csv, every report kind as XLSX and PDF, the monthly
 *   CSV, the sample file) — and does appear with --reveal, so that the test
 *   can fail.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define AS_OF "2026-01-15"

/* A generated dataset, made once by main() before the tests fork. */
static char *ds;

static struct tu_out run(const char *cfg, const char *args)
{
	return tu_run("'%s' -c '%s' --as-of " AS_OF " --no-progress %s", tu_bin(), cfg, args);
}

static void run_ok(const char *cfg, const char *args)
{
	struct tu_out o = run(cfg, args);

	ck_assert_msg(o.status == 0 || o.status == 2, "%s: exit %d: %s", args, o.status, o.err);
	tu_out_free(&o);
}

/* Every row of the evidence tables, in a fixed order, as one string: what a
 * write by a checklist would change. */
static char *evidence_dump(const char *db_path)
{
	static const char *const tables[] = {"certificate", "event", "application", "reject",
					     "crl", "crl_entry", "cps", "source_file", "meta",
					     NULL};
	sqlite3 *db;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (int t = 0; tables[t]; t++) {
		char *sql = tu_fmt("SELECT * FROM %s ORDER BY 1, 2", tables[t]);
		sqlite3_stmt *st;
		int64_t n = 0;

		ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s",
			      sql, sqlite3_errmsg(db));
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int i = 0; i < sqlite3_column_count(st); i++) {
				const unsigned char *v = sqlite3_column_text(st, i);
				fprintf(m, "%s%s", i ? "|" : "", v ? (const char *)v : "~");
			}
			fputc('\n', m);
			n++;
		}
		fprintf(m, "== %s %lld\n", tables[t], (long long)n);
		sqlite3_finalize(st);
		free(sql);
	}
	sqlite3_close(db);
	fclose(m);
	return out;
}

/* ---- checklist SQL cannot write ---- */

static const char evil_yaml[] =
	"checklist: evil\n"
	"title: 越权\n"
	"items:\n"
	"  - {id: del, title: D, check: {sql: DELETE FROM certificate, message: m}}\n"
	"  - {id: upd, title: U, check: {sql: \"UPDATE event SET actor = 'x'\", message: m}}\n"
	"  - {id: ins, title: I, check: {sql: \"INSERT INTO cps VALUES('9', '2020-01-01')\","
	" message: m}}\n"
	"  - {id: rep, title: R, check: {sql: \"REPLACE INTO application(app) VALUES('x')\","
	" message: m}}\n"
	"  - {id: att, title: A, check: {sql: \"ATTACH DATABASE 'evil.db' AS x\", message: m}}\n"
	"  - {id: pra, title: P, check: {sql: PRAGMA writable_schema = 1, message: m}}\n"
	"  - {id: drop, title: X, check: {sql: DROP TABLE reject, message: m}}\n"
	"  - {id: trig, title: T, check: {sql: \"CREATE TRIGGER t AFTER INSERT ON finding"
	" BEGIN DELETE FROM certificate; END\", message: m}}\n"
	"  - {id: vac, title: V, check: {sql: \"VACUUM INTO 'copy.db'\", message: m}}\n"
	"  - {id: ext, title: E, check: {sql: \"SELECT load_extension('x') AS key,"
	" 1 AS record_date\", message: m}}\n"
	"  - {id: where, title: W, check: {from: certificate, where: \"1); DELETE FROM"
	" certificate; --\", key: serial, evidence: [serial], message: m}}\n"
	"  - {id: from, title: F, check: {from: \"certificate; DELETE FROM event; --\","
	" where: \"1\", key: serial, evidence: [serial], message: m}}\n"
	"  - {id: ok, title: O, check: {from: certificate, where: \"serial = 'none'\","
	" key: serial, evidence: [serial], message: m}}\n";

START_TEST(checklist_cannot_write)
{
	char *orig = tu_fmt("%s/ca-audit.yaml", ds), *cfg_text = tu_read(orig, NULL);
	char *at = strstr(cfg_text, "checklists: [miit-2022]");
	char *cfg, *db = tu_fmt("%s/ca-audit.db", ds), *before, *after, *evil, *want;
	char *copy = tu_fmt("%s/copy.db", ds), *attached = tu_fmt("%s/evil.db", ds);
	struct tu_out o;

	ck_assert_ptr_nonnull(at);
	memcpy(at, "checklists: [evil.yaml] ", strlen("checklists: [miit-2022]"));
	cfg = tu_write_in(ds, "evil-config.yaml", cfg_text);
	evil = tu_write_in(ds, "evil.yaml", evil_yaml);
	before = evidence_dump(db);
	o = run(cfg, "check");
	ck_assert_int_eq(o.status, 1);
	/* the first refusal names the checklist file and the item's line */
	want = tu_fmt("error: %s:4: checklist 'evil' item 'del': refused: DELETE on 'certificate'"
		      " is not allowed", evil);
	ck_assert_msg(strstr(o.err, want), "no '%s' in: %s", want, o.err);
	for (const char *const *w = (const char *const[]){
		     "item 'upd': refused: UPDATE on 'event'", "item 'ins': refused: INSERT on 'cps'",
		     "item 'rep': refused: INSERT on 'application'", "item 'att': refused: ATTACH",
		     "item 'pra': refused: PRAGMA on 'writable_schema'",
		     "item 'drop': refused:", "item 'trig': refused:",
		     "item 'vac':", "item 'ext': refused: calling load_extension()",
		     "item 'where': more than one SQL statement", "item 'from':", NULL};
	     *w; w++)
		ck_assert_msg(strstr(o.err, *w), "no '%s' in: %s", *w, o.err);
	ck_assert_msg(!strstr(o.err, "item 'ok'"), "%s", o.err);
	tu_out_free(&o);
	after = evidence_dump(db);
	ck_assert_msg(!strcmp(before, after), "the evidence changed");
	ck_assert_int_ne(access(copy, F_OK), 0);
	ck_assert_int_ne(access(attached, F_OK), 0);
	/* the store still works, and the real checklist still finds its findings */
	o = run(orig, "check --format json");
	ck_assert_int_eq(o.status, 2);
	ck_assert_int_gt(tu_count_lines(o.out, "\"checklist\":\"miit-2022\""), 0);
	tu_out_free(&o);
	free(before);
	free(after);
	free(cfg);
	free(cfg_text);
	free(db);
	free(evil);
	free(want);
	free(orig);
	free(copy);
	free(attached);
}
END_TEST

/* ---- output paths never come from record data ---- */

/* end-entity certificates, so that they are sampled and checked */
#define EE "-addext basicConstraints=critical,CA:FALSE -addext keyUsage=digitalSignature "

/* Lists every file under dir (recursively), one path a line. */
static char *tree(const char *dir)
{
	struct tu_out o = tu_run("cd '%s' && find . -type f | sort", dir);
	char *s = o.out;

	o.out = NULL;
	tu_out_free(&o);
	return s;
}

START_TEST(paths_from_record_data)
{
	char *dir = tu_tmpdir("sec-path");
	char *cfg, *before, *after, *line, *args;
	struct tu_out o;

	o = tu_run("cd '%s' && mkdir certs ca ca/newcerts && "
		   "openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -days 30 " EE
		   "-subj '/CN=..\\/..\\/..\\/evil-rel/O=\\/tmp\\/evil-abs\\/x/C=CN' "
		   "-out certs/a.pem 2>&1 && "
		   "openssl req -x509 -key k.pem -days 30 -set_serial 0x0A " EE
		   "-subj '/CN=\\/\\/evil-unc\\/share/OU=..' -out certs/b.pem 2>&1 && "
		   "rm k.pem", dir);
	ck_assert_msg(o.status == 0, "%s", o.out);
	tu_out_free(&o);
	/* an index whose serial column holds a path, with a certificate where
	 * that path would lead */
	line = tu_fmt("V\t301231000000Z\t\t../../certs/a\tunknown\t/CN=x\n");
	free(tu_write_in(dir, "ca/index.txt", line));
	cfg = tu_write_in(dir, "ca-audit.yaml",
			  "ca: {name: 测试}\n"
			  "sources:\n"
			  "  certificates:\n"
			  "    - {type: pem, path: \"certs/*.pem\"}\n"
			  "    - {type: openssl-index, index: ca/index.txt, certs: ca/newcerts}\n"
			  "checklists: [miit-2022]\n"
			  "reports: {output: out/, formats: [xlsx, pdf]}\n");
	run_ok(cfg, "ingest");
	args = tu_fmt("%s/out", dir);
	mkdir(args, 0755);
	free(args);
	args = tu_fmt("check --format text -o '%s/out/findings.txt'", dir);
	run_ok(cfg, args);
	free(args);
	before = tree(dir);
	args = tu_fmt("sample --seed s --size 2 -o '%s/out/sample.json'", dir);
	run_ok(cfg, args);
	free(args);
	run_ok(cfg, "report self-inspection");
	run_ok(cfg, "report rectification");
	run_ok(cfg, "report annual --period 2025");
	run_ok(cfg, "report monthly --period 2025-12 --format xlsx,pdf,csv");
	run_ok(cfg, "report spot-check");
	args = tu_fmt("report self-inspection --reveal -o '%s/out/revealed'", dir);
	run_ok(cfg, args);
	free(args);
	after = tree(dir);
	/* every new file is under out/, and none is named after the records */
	for (char *p = after; *p;) {
		char *nl = strchr(p, '\n');
		char *f = strndup(p, nl ? (size_t)(nl - p) : strlen(p));

		if (!strstr(before, f))
			ck_assert_msg(!strncmp(f, "./out/", 6), "file written outside out/: %s", f);
		ck_assert_msg(!strstr(f, "evil"), "file named after record data: %s", f);
		free(f);
		p = nl ? nl + 1 : p + strlen(p);
	}
	ck_assert_int_ne(access("/tmp/evil-abs", F_OK), 0);
	ck_assert_int_ne(access("//evil-unc", F_OK), 0);
	/* the pathlike index serial is a reject with its line, and nothing read */
	{
		sqlite3 *db;
		sqlite3_stmt *st;
		char *db_path = tu_fmt("%s/ca-audit.db", dir);

		ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), 0);
		ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT source, line, reason FROM reject",
						    -1, &st, NULL), 0);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ca/index.txt");
		ck_assert_int_eq(sqlite3_column_int(st, 1), 1);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 2),
				 "expected a hexadecimal serial, found '../../certs/a'");
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		/* the two certificates are stored with their subjects as they are */
		ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM certificate WHERE"
						    " subject LIKE '%evil%'", -1, &st, NULL), 0);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
		sqlite3_finalize(st);
		sqlite3_close(db);
		free(db_path);
	}
	free(before);
	free(after);
	free(line);
	free(cfg);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- XLSX cells from record data are strings ---- */

static const char *const formula_apps[] = {
	"=HYPERLINK(\\\"http://evil.example/\\\",\\\"x\\\")", "+1+2", "-3+4", "@SUM(A1:A9)",
	"=cmd|' /C calc'!A0", NULL};
/* the same as they must come out of the workbook (JSON unescaped) */
static const char *const formula_cells[] = {
	"=HYPERLINK(\"http://evil.example/\",\"x\")", "+1+2", "-3+4", "@SUM(A1:A9)",
	"=cmd|' /C calc'!A0", NULL};

START_TEST(xlsx_record_data_is_text)
{
	char *dir = tu_tmpdir("sec-xlsx");
	char *cfg, *log = NULL, *py, *xml;
	size_t len = 0;
	FILE *m = open_memstream(&log, &len);
	struct tu_out o;
	json_t *dump, *sheets;
	json_error_t je;
	size_t found = 0, si;
	json_t *sheet;

	/* accepted applications without a notice: miit-2022 2.1-2.5 key them by
	 * app and show the app id as evidence */
	for (int i = 0; formula_apps[i]; i++)
		fprintf(m,
			"{\"at\":\"2025-03-0%dT09:00:00+08:00\",\"kind\":\"apply\",\"app\":\"%s\","
			"\"applicant\":{\"type\":\"organization\",\"name\":\"公司%d\",\"id_type\":"
			"\"uscc\",\"id\":\"91350100M000100Y43\"},\"cert_type\":\"机构证书\","
			"\"sector\":\"commercial\",\"channel\":\"counter\"}\n"
			"{\"at\":\"2025-03-0%dT10:00:00+08:00\",\"kind\":\"accept\",\"app\":\"%s\"}\n",
			i + 1, formula_apps[i], i, i + 1, formula_apps[i]);
	fclose(m);
	free(tu_write_in(dir, "ra.jsonl", log));
	cfg = tu_write_in(dir, "ca-audit.yaml",
			  "ca: {name: 测试}\n"
			  "sources:\n  events:\n    - {type: jsonl, path: ra.jsonl}\n"
			  "checklists: [miit-2022]\n"
			  "reports: {output: out/, formats: [xlsx]}\n");
	run_ok(cfg, "ingest");
	run_ok(cfg, "check");
	run_ok(cfg, "report self-inspection");
	run_ok(cfg, "report rectification");
	/* no formula element anywhere in the workbooks */
	o = tu_run("cd '%s/out' && for f in *.xlsx; do unzip -p \"$f\" 'xl/worksheets/*.xml'; done",
		   dir);
	ck_assert_int_eq(o.status, 0);
	xml = o.out;
	ck_assert_msg(strstr(xml, "<sheetData") != NULL, "no sheet XML");
	ck_assert_msg(!strstr(xml, "<f>") && !strstr(xml, "<f "), "a formula in a sheet");
	tu_out_free(&o);
	/* and openpyxl reads each value back as a string cell */
	py = tu_fmt("%s/tests/xlsx_dump.py", tu_root());
	o = tu_run("python3 '%s' \"$(ls '%s'/out/self-inspection-*.xlsx)\"", py, dir);
	ck_assert_msg(o.status == 0, "%s", o.err);
	dump = json_loads(o.out, 0, &je);
	ck_assert_msg(dump != NULL, "%s", je.text);
	sheets = json_object_get(dump, "sheets");
	json_array_foreach(sheets, si, sheet) {
		size_t ri, ci;
		json_t *rowv, *cell;

		json_array_foreach(json_object_get(sheet, "rows"), ri, rowv) {
			json_array_foreach(rowv, ci, cell) {
				const char *v;

				if (!json_is_array(cell) || !json_is_string(json_array_get(cell, 1)))
					continue;
				v = json_string_value(json_array_get(cell, 1));
				for (int k = 0; formula_cells[k]; k++)
					if (strstr(v, formula_cells[k])) {
						ck_assert_str_eq(
							json_string_value(json_array_get(cell, 0)), "s");
						found++;
					}
			}
		}
	}
	ck_assert_msg(found >= 5, "only %zu of the formula-like ids found", found);
	json_decref(dump);
	tu_out_free(&o);
	free(py);
	free(log);
	free(cfg);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- masking holds in every output ---- */

struct secrets {
	char **v;
	size_t n, cap;
};

static void secret_add(struct secrets *s, const char *v)
{
	if (!v || strlen(v) < 2)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], v))
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = strdup(v);
}

/* A person's name and resident id: individual applicants and every
 * recipient of a resident id. Organization names are not personal data. */
static void secrets_of_person(struct secrets *s, json_t *p, int individual)
{
	const char *idt = json_string_value(json_object_get(p, "id_type"));

	if (!json_is_object(p))
		return;
	if (individual)
		secret_add(s, json_string_value(json_object_get(p, "name")));
	if (idt && !strcmp(idt, "resident_id"))
		secret_add(s, json_string_value(json_object_get(p, "id")));
}

static void collect_secrets(struct secrets *s, const char *logs)
{
	struct tu_out o = tu_run("cat '%s'/*.jsonl", logs);
	char *line = o.out;

	ck_assert_int_eq(o.status, 0);
	while (line && *line) {
		char *nl = strchr(line, '\n');
		json_t *j, *a;

		if (nl)
			*nl = 0;
		j = json_loads(line, 0, NULL);
		if (j) {
			const char *type;

			a = json_object_get(j, "applicant");
			type = json_string_value(json_object_get(a, "type"));
			secrets_of_person(s, a, type && !strcmp(type, "individual"));
			a = json_object_get(j, "recipient");
			/* a recipient identified by a resident id is a person (for some
			 * organization certificates the generator names the organization) */
			a = json_object_get(j, "recipient");
			type = json_string_value(json_object_get(a, "id_type"));
			secrets_of_person(s, a, type && !strcmp(type, "resident_id"));
			json_decref(j);
		}
		line = nl ? nl + 1 : NULL;
	}
	tu_out_free(&o);
}

/* The text of every output file under dir: XLSX sheets and shared strings,
 * PDF text, and everything else as it is. */
static char *outputs_text(const char *dir)
{
	struct tu_out o = tu_run(
		"cd '%s' && for f in $(find . -type f | sort); do case \"$f\" in "
		"*.xlsx) unzip -p \"$f\" 'xl/worksheets/*.xml' 'xl/sharedStrings.xml' "
		"2>/dev/null ;; *.pdf) pdftotext -q \"$f\" - ;; *) cat \"$f\" ;; esac; done",
		dir);
	char *s = o.out;

	o.out = NULL;
	tu_out_free(&o);
	return s;
}

/* How many of the secrets text holds; the first few are listed in shown. */
static size_t leaks(const struct secrets *s, const char *text, char *shown, size_t len)
{
	size_t n = 0, used = 0;

	for (size_t i = 0; i < s->n; i++)
		if (strstr(text, s->v[i])) {
			if (shown && n < 5 && used < len)
				used += snprintf(shown + used, len - used, "'%s' ", s->v[i]);
			n++;
		}
	return n;
}

START_TEST(masking_in_every_output)
{
	char *cfg = tu_fmt("%s/ca-audit.yaml", ds);
	char *logs = tu_fmt("%s/logs", ds);
	char *out = tu_fmt("%s/masked", ds), *rev = tu_fmt("%s/revealed", ds);
	char *args, *text;
	struct secrets s = {0};
	char shown[512] = "";
	size_t n;

	collect_secrets(&s, logs);
	ck_assert_uint_gt(s.n, 20);
	mkdir(out, 0755);
	run_ok(cfg, "check");
	args = tu_fmt("check --format text -o '%s/check.txt'", out);
	run_ok(cfg, args);
	free(args);
	args = tu_fmt("check --format json -o '%s/check.json'", out);
	run_ok(cfg, args);
	free(args);
	args = tu_fmt("check --format csv -o '%s/check.csv'", out);
	run_ok(cfg, args);
	free(args);
	args = tu_fmt("sample --seed 2025 --size 40 -o '%s/sample.json'", out);
	run_ok(cfg, args);
	free(args);
	static const char *const kinds[] = {
		"self-inspection", "rectification", "annual --period 2025",
		"monthly --period 2025-11 --format xlsx,pdf,csv", "spot-check", NULL};
	for (int k = 0; kinds[k]; k++) {
		args = tu_fmt("report %s -o '%s'%s", kinds[k], out,
			      strstr(kinds[k], "--format") ? "" : " --format xlsx,pdf");
		run_ok(cfg, args);
		free(args);
	}
	text = outputs_text(out);
	ck_assert_msg(strstr(text, "<sheetData") && strlen(text) > 10000,
		      "outputs missing: %zu bytes", strlen(text));
	n = leaks(&s, text, shown, sizeof shown);
	ck_assert_msg(n == 0, "%zu of %zu personal values unmasked: %s", n, s.n, shown);
	free(text);
	/* the same outputs with --reveal show them: the search can find them */
	mkdir(rev, 0755);
	args = tu_fmt("check --reveal --format json -o '%s/check.json'", rev);
	run_ok(cfg, args);
	free(args);
	args = tu_fmt("report self-inspection --reveal --format xlsx,pdf -o '%s'", rev);
	run_ok(cfg, args);
	free(args);
	text = outputs_text(rev);
	ck_assert_uint_gt(leaks(&s, text, NULL, 0), 5);
	free(text);
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i]);
	free(s.v);
	free(cfg);
	free(logs);
	free(out);
	free(rev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("security");
	TCase *tc = tcase_create("security");
	struct tu_out o;
	int failed;

	ds = tu_tmpdir("security");
	o = tu_run("'%s' -o '%s' --certs 300 --violations 0.2 >/dev/null && '%s' -c '%s/ca-audit.yaml'"
		   " --as-of " AS_OF " --no-progress -q ingest",
		   tu_gen(), ds, tu_bin(), ds);
	if (o.status) {
		fprintf(stderr, "dataset: exit %d: %s\n", o.status, o.err);
		return EXIT_FAILURE;
	}
	tu_out_free(&o);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, checklist_cannot_write);
	tcase_add_test(tc, paths_from_record_data);
	tcase_add_test(tc, xlsx_record_data_is_text);
	tcase_add_test(tc, masking_in_every_output);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	tu_rmdir(ds);
	free(ds);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
