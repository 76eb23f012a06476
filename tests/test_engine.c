/*
 * test_engine.c — the rule engine on a store built by hand: the exact
 * findings of miit-2022 item 1.1 for each identity-verification case and
 * the scope boundary; the read-only authorizer refusing each kind of write
 * by name; findings history across runs (open, fixed, first_seen kept);
 * the JSON Lines output of §9 with and without masking.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "findings.h"
#include "rules.h"
#include "store.h"
#include "testutil.h"
#include "timeutil.h"

static char *dir;
static struct store *st;
static long line_no;

static void put_cert(const char *serial)
{
	struct cert_rec r = {0};
	struct err e = {0};

	r.serial = (char *)serial;
	r.issuer = (char *)"CN=Test CA,C=CN";
	r.subject = (char *)"CN=张三,C=CN";
	r.cn = (char *)"张三";
	r.c = (char *)"CN";
	r.id_type = (char *)"resident_id";
	r.id_number = (char *)"11010519491231002X";
	r.not_before = (char *)"2017-01-01 00:00:00";
	r.not_after = (char *)"2030-01-01 00:00:00";
	r.sig_alg = (char *)"SM2-with-SM3";
	r.key_alg = (char *)"SM2";
	r.key_bits = 256;
	r.key_usage = (char *)"digitalSignature";
	r.source = (char *)"certs.pem";
	ck_assert_msg(store_put_certificate(st, &r, NULL, &e) == 0, "%s", e.msg);
}

/* Stores r as the next line of ra.jsonl. */
static void put_rec(struct event_rec *r)
{
	struct err e = {0};

	r->source = (char *)"ra.jsonl";
	r->line = ++line_no;
	ck_assert_msg(store_put_event(st, r, NULL, &e) == 0, "%s", e.msg);
}

static void put_event(const char *at, const char *kind, const char *app, const char *serial,
		      const char *result)
{
	struct event_rec r = {.at = (char *)at, .kind = (char *)kind, .app = (char *)app,
			      .serial = (char *)serial, .result = (char *)result,
			      .method = result ? (char *)"face_to_face" : NULL};

	put_rec(&r);
}

static void put_app(const char *app, const char *at)
{
	struct app_rec r = {0};
	struct err e = {0};

	r.app = (char *)app;
	r.applicant_type = (char *)"individual";
	r.applicant_name = (char *)"张三";
	r.applicant_id_type = (char *)"resident_id";
	r.applicant_id = (char *)"11010519491231002X";
	r.applied_at = (char *)at;
	ck_assert_msg(store_put_application(st, &r, NULL, &e) == 0, "%s", e.msg);
}

/* One issued certificate whose application applied the day before. */
static void issued(const char *serial, const char *app, const char *t_issue)
{
	put_cert(serial);
	put_app(app, "2017-01-01 00:00:00");
	put_event(t_issue, "issue", app, serial, NULL);
}

/* The 1.1 cases. Times are UTC; the scope starts 2017-07-01 in
 * Asia/Shanghai, which is 2017-06-30 16:00:00 UTC. */
static void build_store(void)
{
	struct err e = {0};
	char *path = tu_fmt("%s/store.db", dir);

	ck_assert_msg(store_open(path, 0, &st, &e) == 0, "%s", e.msg);
	free(path);
	line_no = 0;
	ck_assert_int_eq(store_begin(st, &e), 0);
	issued("01", "A1", "2020-01-10 10:00:00"); /* no identity_verify */
	issued("02", "A2", "2020-01-10 10:00:00"); /* failed only */
	put_event("2020-01-09 10:00:00", "identity_verify", "A2", NULL, "fail");
	issued("03", "A3", "2020-01-10 10:00:00"); /* passed after the issue */
	put_event("2020-01-09 10:00:00", "identity_verify", "A3", NULL, "fail");
	put_event("2020-01-11 10:00:00", "identity_verify", "A3", NULL, "pass");
	issued("04", "A4", "2020-01-10 10:00:00"); /* failed, then passed before: ok */
	put_event("2020-01-08 10:00:00", "identity_verify", "A4", NULL, "fail");
	put_event("2020-01-09 10:00:00", "identity_verify", "A4", NULL, "pass");
	issued("05", "A5", "2020-01-10 10:00:00"); /* passed at the very issue time: ok */
	put_event("2020-01-10 10:00:00", "identity_verify", "A5", NULL, "pass");
	issued("06", "A6", "2017-06-30 15:59:59"); /* before the scope: not checked */
	issued("07", "A7", "2017-06-30 16:00:00"); /* first second of the scope */
	ck_assert_int_eq(store_commit(st, &e), 0);
}

static void setup(void)
{
	struct err e = {0};

	dir = tu_tmpdir("engine");
	ck_assert_int_eq(time_set_zone("Asia/Shanghai", &e), 0);
	build_store();
}

static void teardown(void)
{
	store_close(st);
	st = NULL;
	tu_rmdir(dir);
	free(dir);
}

static struct checklist *load(const char *path)
{
	struct checklist *cl = NULL;
	struct err e = {0};

	ck_assert_msg(rules_load(path, &cl, NULL, &e) == 0, "%s:%d: %s", e.file, e.line, e.msg);
	return cl;
}

static struct checklist *load_miit(void)
{
	char *path = tu_fmt("%s/rules/miit-2022.yaml", tu_root());
	struct checklist *cl = load(path);

	free(path);
	return cl;
}

static int64_t run(struct checklist *cl, const char *as_of, struct engine_summary *sum)
{
	struct engine_opts o = {.as_of = as_of, .tool_version = "test"};
	struct err e = {0};

	ck_assert_msg(engine_run(st, &cl, 1, &o, sum, &e) == 0, "%s", e.msg);
	return sum->run;
}

/* Rows of a query as "a|b|c" lines. */
static char *rows(const char *sql, int64_t run_id, const char *item)
{
	sqlite3_stmt *q;
	char *all = strdup("");

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_int64(q, 1, run_id);
	if (item)
		sqlite3_bind_text(q, 2, item, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(q); i++) {
			const char *v = (const char *)sqlite3_column_text(q, i);
			char *next = tu_fmt("%s%s%s", all, i ? "|" : "", v ? v : "NULL");
			free(all);
			all = next;
		}
		char *next = tu_fmt("%s\n", all);
		free(all);
		all = next;
	}
	sqlite3_finalize(q);
	return all;
}

static void assert_rows(const char *sql, int64_t run_id, const char *item, const char *want)
{
	char *got = rows(sql, run_id, item);

	ck_assert_str_eq(got, want);
	free(got);
}

static const char findings_1_1[] =
	"SELECT key, status, first_seen, last_seen FROM finding WHERE run = ?1"
	" AND checklist = 'miit-2022' AND item = ?2 ORDER BY key";

START_TEST(identity_verification_cases)
{
	struct checklist *cl = load_miit();
	struct engine_summary sum;
	int64_t r = run(cl, "2025-01-03", &sum);

	ck_assert_uint_eq(sum.errors, 0);
	ck_assert_uint_eq(sum.items, cl->n_items);
	assert_rows(findings_1_1, r, "1.1",
		    "serial:01|new|2025-01-03|2025-01-03\n"
		    "serial:02|new|2025-01-03|2025-01-03\n"
		    "serial:03|new|2025-01-03|2025-01-03\n"
		    "serial:07|new|2025-01-03|2025-01-03\n");
	assert_rows("SELECT checked, violations, result, kind, severity FROM item_result"
		    " WHERE run = ?1 AND item = ?2", r, "1.1", "6|4|fail|check|high\n");
	/* 1.1's evidence: the failed attempt is what the view reports for A2 */
	assert_rows("SELECT evidence FROM finding WHERE run = ?1 AND item = '1.1'"
		    " AND key = ?2", r, "serial:02",
		    "{\"serial\":\"02\",\"app\":\"A2\",\"applicant_name\":\"张三\","
		    "\"identity_method\":\"face_to_face\",\"identity_result\":\"fail\","
		    "\"t_identity\":\"2020-01-09 10:00:00\",\"t_issue\":\"2020-01-10 10:00:00\"}\n");
	assert_rows("SELECT result FROM item_result WHERE run = ?1 AND item = ?2", r, "4.1",
		    "manual\n");
	checklist_free(cl);
}
END_TEST

/* Another connection's write committed while a check began: when the
 * run's transaction opens after the kept views were committed (the items
 * to be evaluated on workers' connections), this one certificate issued
 * without an identity check. */
static int wrote;

static int write_between(void *arg, sqlite3 *db, const char *name, int pages)
{
	sqlite3 *other;

	(void)arg;
	(void)db;
	(void)name;
	(void)pages;
	if (wrote++)
		return SQLITE_OK;
	ck_assert_int_eq(sqlite3_open(sqlite3_db_filename(db, "main"), &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other,
		"INSERT INTO certificate(serial, issuer, subject, cn, not_before, not_after, is_ca)"
		" VALUES('08', 'CN=Test CA,C=CN', 'CN=李四,C=CN', '李四', '2020-02-01 00:00:00',"
		" '2030-01-01 00:00:00', 0);"
		"INSERT INTO event(at, kind, app, serial, source, line) VALUES"
		" ('2020-02-01 00:00:00', 'issue', 'A8', '08', 'other.jsonl', 1);",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	return SQLITE_OK;
}

/* The items then run on the check's own connection, the kept views made
 * again with that write: its finding is there. */
START_TEST(write_while_the_check_begins)
{
	struct checklist *cl = load_miit();
	struct engine_summary sum;
	int64_t r;

	setenv("CA_AUDIT_THREADS", "2", 1);  /* read once per process: this test's */
	wrote = 0;
	sqlite3_wal_hook(store_db(st), write_between, NULL);
	r = run(cl, "2025-01-03", &sum);
	sqlite3_wal_hook(store_db(st), NULL, NULL);
	ck_assert_int_ge(wrote, 1);
	ck_assert_uint_eq(sum.errors, 0);
	assert_rows(findings_1_1, r, "1.1",
		    "serial:01|new|2025-01-03|2025-01-03\n"
		    "serial:02|new|2025-01-03|2025-01-03\n"
		    "serial:03|new|2025-01-03|2025-01-03\n"
		    "serial:07|new|2025-01-03|2025-01-03\n"
		    "serial:08|new|2025-01-03|2025-01-03\n");
	checklist_free(cl);
}
END_TEST

/* No item worker can open the store (its path names nothing any more; the
 * check's connection keeps its open file): the check's own connection
 * evaluates every item, with the findings one thread gives. The kept views
 * are made by the first run, while the path still names the store. */
START_TEST(no_worker_can_open_the_store)
{
	struct checklist *cl = load_miit();
	struct engine_summary sum;
	char *path = tu_fmt("%s/store.db", dir), *moved = tu_fmt("%s/moved.db", dir);
	sqlite3 *probe = NULL;
	int64_t r;

	setenv("CA_AUDIT_THREADS", "3", 1);  /* read once per process: this test's */
	run(cl, "2025-01-03", &sum);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_ne(sqlite3_open_v2(path, &probe, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_close(probe);
	r = run(cl, "2025-01-04", &sum);
	ck_assert_int_eq(rename(moved, path), 0);
	ck_assert_uint_eq(sum.errors, 0);
	assert_rows(findings_1_1, r, "1.1",
		    "serial:01|open|2025-01-03|2025-01-04\n"
		    "serial:02|open|2025-01-03|2025-01-04\n"
		    "serial:03|open|2025-01-03|2025-01-04\n"
		    "serial:07|open|2025-01-03|2025-01-04\n");
	assert_rows("SELECT checked, violations, result FROM item_result"
		    " WHERE run = ?1 AND item = ?2", r, "1.1", "6|4|fail\n");
	free(path);
	free(moved);
	checklist_free(cl);
}
END_TEST

START_TEST(history_open_and_fixed)
{
	struct checklist *cl = load_miit();
	struct engine_summary sum;
	struct err e = {0};
	int64_t r1, r2, r3;

	r1 = run(cl, "2025-01-03", &sum);
	r2 = run(cl, "2025-01-04", &sum);
	ck_assert_int_gt(r2, r1);
	assert_rows(findings_1_1, r2, "1.1",
		    "serial:01|open|2025-01-03|2025-01-04\n"
		    "serial:02|open|2025-01-03|2025-01-04\n"
		    "serial:03|open|2025-01-03|2025-01-04\n"
		    "serial:07|open|2025-01-03|2025-01-04\n");
	/* the missing identity check of A1 turns up in a later log */
	ck_assert_int_eq(store_begin(st, &e), 0);
	put_event("2020-01-10 09:00:00", "identity_verify", "A1", NULL, "pass");
	ck_assert_int_eq(store_commit(st, &e), 0);
	r3 = run(cl, "2025-01-05", &sum);
	assert_rows(findings_1_1, r3, "1.1",
		    "serial:01|fixed|2025-01-03|2025-01-04\n"
		    "serial:02|open|2025-01-03|2025-01-05\n"
		    "serial:03|open|2025-01-03|2025-01-05\n"
		    "serial:07|open|2025-01-03|2025-01-05\n");
	assert_rows("SELECT checked, violations, result FROM item_result"
		    " WHERE run = ?1 AND item = ?2", r3, "1.1", "6|3|fail\n");
	/* fixed once is not carried again */
	r3 = run(cl, "2025-01-06", &sum);
	assert_rows("SELECT count(*) FROM finding WHERE run = ?1 AND item = ?2"
		    " AND status = 'fixed'", r3, "1.1", "0\n");
	checklist_free(cl);
}
END_TEST

static void put_delivery(const char *app, const char *serial, const char *at,
			 const char *recipient_id)
{
	struct event_rec r = {.at = (char *)at, .kind = (char *)"deliver", .app = (char *)app,
			      .serial = (char *)serial, .recipient_name = (char *)"张三",
			      .recipient_id_type = (char *)"resident_id",
			      .recipient_id = (char *)recipient_id};

	put_rec(&r);
}

/* issuance.t_misdeliver and item 1.3 on it: a delivery of the certificate,
 * or of its application without a serial, to another identity counts; one
 * of another certificate of the application does not, nor does the
 * applicant's own number in lower case or one without a recipient id. */
START_TEST(misdelivery_per_certificate)
{
	struct checklist *cl = load_miit();
	struct engine_summary sum;
	struct err e = {0};
	int64_t r;

	ck_assert_int_eq(store_begin(st, &e), 0);
	put_event("2020-01-10 10:00:00", "issue", "A1", "11", NULL); /* A1's second */
	put_delivery("A1", "11", "2020-01-11 10:00:00", "110105194912310021");
	put_delivery("A2", NULL, "2020-01-12 10:00:00", "110105194912310021");
	put_delivery("A2", NULL, "2020-01-11 10:00:00", "11010519491231002x");
	put_delivery("A3", "03", "2020-01-11 10:00:00", NULL);
	put_delivery("A4", "04", "2020-01-11 10:00:00", "11010519491231002x");
	ck_assert_int_eq(store_commit(st, &e), 0);
	put_cert("11");
	assert_rows("SELECT serial, t_misdeliver FROM issuance WHERE app IN ('A1', 'A2', 'A3',"
		    " 'A4') AND ?1 AND ?2 IS NOT NULL ORDER BY serial", 1, "",
		    "01|NULL\n02|2020-01-12 10:00:00\n03|NULL\n04|NULL\n11|2020-01-11 10:00:00\n");
	r = run(cl, "2025-01-03", &sum);
	assert_rows("SELECT key FROM finding WHERE run = ?1 AND item = ?2 ORDER BY key", r,
		    "1.3", "serial:02\nserial:11\n");
	checklist_free(cl);
}
END_TEST

static void put_contract(const char *app, const char *at, const char *cps_version)
{
	struct event_rec r = {.at = (char *)at, .kind = (char *)"contract", .app = (char *)app,
			      .contract = (char *)"C-1", .covers = (char *)"rights,obligations",
			      .cps_version = (char *)cps_version};

	put_rec(&r);
}

/* 3.3: the CPS version in force when a contract was signed, by the local
 * day (Asia/Shanghai): 3.2 from 2023-01-01, which starts at 16:00 UTC on
 * 2022-12-31; before 3.1's first day no version is in force. The
 * applications have no application record: their contract dates them. */
START_TEST(contract_cps_version_by_local_day)
{
	const char *versions[] = {"3.1", "3.2"}, *dates[] = {"2021-01-01", "2023-01-01"};
	struct checklist *cl = load_miit();
	struct engine_summary sum;
	struct err e = {0};
	int64_t r;

	ck_assert_int_eq(store_set_cps(st, versions, dates, 2, &e), 0);
	ck_assert_int_eq(store_begin(st, &e), 0);
	put_contract("C1", "2022-12-31 15:59:59", "3.1"); /* 23:59:59 local: ok */
	put_contract("C2", "2022-12-31 16:00:00", "3.1"); /* the new version's first second */
	put_contract("C3", "2022-12-31 16:00:00", "3.2"); /* ok */
	put_contract("C4", "2020-06-01 00:00:00", "3.1"); /* before any version */
	put_contract("C5", "2020-06-01 00:00:00", NULL);  /* no version named: not judged */
	put_contract("C7", "2025-01-01 00:00:00", "3.1"); /* long after 3.2 */
	ck_assert_int_eq(store_commit(st, &e), 0);
	r = run(cl, "2025-01-03", &sum);
	assert_rows("SELECT key FROM finding WHERE run = ?1 AND item = ?2 ORDER BY key", r,
		    "3.3", "app:C2\napp:C4\napp:C7\n");
	checklist_free(cl);
}
END_TEST

/* Three items over issuance: two count the same records (the second's
 * count is the first's, made once), one whose effective period starts later
 * counts fewer, and two whose checked SQL reads this run's findings count
 * what the run has written so far, their own included. */
static const char counts_yaml[] =
	"checklist: counts\n"
	"title: 计数\n"
	"scope: {from: 2017-07-01}\n"
	"items:\n"
	"  - {id: a, title: A, check: {from: issuance, where: \"serial = '01'\", key: serial,"
	" evidence: [serial], message: m}}\n"
	"  - {id: b, title: B, check: {from: issuance, where: \"serial = '02'\", key: serial,"
	" evidence: [serial], message: m}}\n"
	"  - {id: c, title: C, effective: {from: 2018-01-01}, check: {from: issuance,"
	" where: \"serial = '03'\", key: serial, evidence: [serial], message: m}}\n"
	"  - {id: d, title: D, check: {sql: \"SELECT 'x' AS key, NULL AS record_date\","
	" checked: \"SELECT NULL AS record_date FROM finding WHERE run = (SELECT max(id)"
	" FROM run)\", message: m}}\n"
	"  - {id: e, title: E, check: {sql: \"SELECT 'x' AS key, NULL AS record_date\","
	" checked: \"SELECT NULL AS record_date FROM finding WHERE run = (SELECT max(id)"
	" FROM run)\", message: m}}\n";

START_TEST(checked_counts_per_scope)
{
	char *path = tu_write_in(dir, "counts.yaml", counts_yaml);
	struct checklist *cl = load(path);
	struct engine_summary sum;
	int64_t r = run(cl, "2025-01-03", &sum);

	ck_assert_uint_eq(sum.errors, 0);
	/* 01-05 and 07 are in the scope, 06 before it; c's period leaves 07 */
	assert_rows("SELECT item, checked, violations FROM item_result WHERE run = ?1"
		    " ORDER BY item", r, NULL, "a|6|1\nb|6|1\nc|5|1\nd|4|1\ne|5|1\n");
	checklist_free(cl);
	free(path);
}
END_TEST

static const char evil_yaml[] =
	"checklist: evil\n"
	"title: 越权\n"
	"items:\n"
	"  - {id: del, title: D, check: {sql: DELETE FROM certificate, message: m}}\n"
	"  - {id: upd, title: U, check: {sql: \"UPDATE certificate SET cn = 'x'\", message: m}}\n"
	"  - {id: ins, title: I, check: {sql: \"INSERT INTO cps VALUES('9', '2020-01-01')\","
	" message: m}}\n"
	"  - {id: att, title: A, check: {sql: \"ATTACH DATABASE ':memory:' AS x\", message: m}}\n"
	"  - {id: pra, title: P, check: {sql: PRAGMA user_version = 5, message: m}}\n"
	"  - {id: ext, title: E, check: {sql: \"SELECT load_extension('x') AS key,"
	" 1 AS record_date\", message: m}}\n"
	"  - {id: where, title: W, check: {from: certificate, where: \"1); DELETE FROM"
	" certificate; --\", key: serial, evidence: [serial], message: m}}\n"
	"  - {id: par, title: Q, check: {from: certificate, where: \"cn = :nobody\","
	" key: serial, evidence: [serial], message: m}}\n"
	"  - {id: ok, title: O, check: {from: certificate, where: \"serial = '01'\","
	" key: serial, evidence: [serial], message: m}}\n";

START_TEST(authorizer_refuses_writes)
{
	char *path = tu_write_in(dir, "evil.yaml", evil_yaml);
	struct checklist *cl = load(path);
	struct engine_summary sum;
	int64_t r = run(cl, "2025-01-03", &sum);

	ck_assert_uint_eq(sum.errors, 8);
	ck_assert_str_eq(sum.first_error.msg,
			 "checklist 'evil' item 'del': refused: DELETE on 'certificate' is not"
			 " allowed (checklist SQL is read-only)");
	ck_assert_str_eq(sum.first_error.file, path);
	ck_assert_int_eq(sum.first_error.line, 4);
	assert_rows("SELECT item, result, note FROM item_result WHERE run = ?1 ORDER BY rowid",
		    r, NULL,
		    "del|error|refused: DELETE on 'certificate' is not allowed (checklist SQL is"
		    " read-only)\n"
		    "upd|error|refused: UPDATE on 'certificate' is not allowed (checklist SQL is"
		    " read-only)\n"
		    "ins|error|refused: INSERT on 'cps' is not allowed (checklist SQL is"
		    " read-only)\n"
		    "att|error|refused: ATTACH on ':memory:' is not allowed (checklist SQL is"
		    " read-only)\n"
		    "pra|error|refused: PRAGMA on 'user_version' is not allowed (checklist SQL is"
		    " read-only)\n"
		    "ext|error|refused: calling load_extension() is not allowed (checklist SQL is"
		    " read-only)\n"
		    "where|error|more than one SQL statement (near 'DELETE FROM certificate; --)')\n"
		    "par|error|unknown parameter ':nobody' (known: :revocation_hours,"
		    " :crl_publish_hours, :max_validity_days, :as_of, :as_of_date, :scope_start,"
		    " :scope_end)\n"
		    "ok|fail|NULL\n");
	/* nothing was changed */
	ck_assert_int_eq(store_count(st, "certificate"), 7);
	ck_assert_int_eq(store_count(st, "cps"), 0);
	checklist_free(cl);
	free(path);
}
END_TEST

static const char months_yaml[] =
	"checklist: months\n"
	"title: 月份\n"
	"items:\n"
	"  - {id: m, title: M, check: {sql: \"SELECT month AS key, first_at AS record_date,"
	" first_at FROM activity_month\", message: m}}\n";

/* activity_month buckets event and certificate times (UTC) by local month:
 * 16:00 UTC on the last day of a month is the next month in Shanghai. */
START_TEST(activity_month_by_local_time)
{
	char *path = tu_write_in(dir, "months.yaml", months_yaml);
	struct checklist *cl = load(path);
	struct engine_summary sum;
	struct err e = {0};
	int64_t r;

	ck_assert_int_eq(store_begin(st, &e), 0);
	put_event("2019-12-31 16:00:00", "notice", "A1", NULL, NULL);
	put_event("2021-03-31 15:59:59", "revoke", NULL, "01", NULL);
	ck_assert_int_eq(store_commit(st, &e), 0);
	r = run(cl, "2025-01-03", &sum);
	assert_rows("SELECT key, json_extract(evidence, '$.first_at') FROM finding"
		    " WHERE run = ?1 ORDER BY key", r, NULL,
		    "2017-01|2017-01-01 00:00:00\n" /* the certificates' notBefore */
		    "2017-06|2017-06-30 15:59:59\n"
		    "2017-07|2017-06-30 16:00:00\n"
		    "2020-01|2019-12-31 16:00:00\n"
		    "2021-03|2021-03-31 15:59:59\n");
	checklist_free(cl);
	free(path);
}
END_TEST

/* The line of the JSON output for one key of item 1.1. */
static char *json_line_for(int64_t r, int reveal, const char *key)
{
	char *buf = NULL, *line = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct err e = {0};

	ck_assert_int_eq(findings_write(st, r, FINDINGS_JSON, reveal, f, &e), 0);
	fclose(f);
	for (p = strtok(buf, "\n"); p && !line; p = strtok(NULL, "\n"))
		if (strstr(p, "\"item\":\"1.1\"") && strstr(p, key))
			line = strdup(p);
	free(buf);
	ck_assert_ptr_nonnull(line);
	return line;
}

/* An unbounded recursive CTE is read-only SQL: the item's time budget stops
 * it and the run goes on with the next item. */
START_TEST(runaway_sql_is_stopped)
{
	char *path = tu_write_in(dir, "loop.yaml",
				 "checklist: loop\ntitle: loop\nitems:\n"
				 "  - {id: l, title: L, check: {sql: \"WITH RECURSIVE c(x) AS"
				 " (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x AS key,"
				 " '2024-01-01' AS record_date FROM c WHERE x < 0\", message: m}}\n"
				 "  - {id: ok, title: OK, check: {from: certificate, where: \"0\","
				 " key: serial, evidence: [serial], message: m}}\n");
	struct checklist *cl = load(path);
	struct engine_summary sum;
	int64_t r;

	setenv("CA_AUDIT_ITEM_SECONDS", "0.3", 1);
	r = run(cl, "2025-01-03", &sum);
	unsetenv("CA_AUDIT_ITEM_SECONDS");
	ck_assert_uint_eq(sum.errors, 1);
	ck_assert_str_eq(sum.first_error.msg,
			 "checklist 'loop' item 'l': the SQL ran longer than its budget of 0.3 s"
			 " (set CA_AUDIT_ITEM_SECONDS to allow more)");
	assert_rows("SELECT item, result FROM item_result WHERE run = ?1 ORDER BY rowid", r,
		    NULL, "l|error\nok|pass\n");
	checklist_free(cl);
	free(path);
}
END_TEST

START_TEST(json_output_masks)
{
	struct checklist *cl = load_miit();
	struct engine_summary sum;
	int64_t r = run(cl, "2025-01-03", &sum), failing = 0;
	struct err e = {0};
	char *line;

	run(cl, "2025-01-04", &sum);
	r = sum.run;
	line = json_line_for(r, 0, "serial:01");
	ck_assert_str_eq(line,
			 "{\"checklist\":\"miit-2022\",\"item\":\"1.1\",\"severity\":\"high\","
			 "\"status\":\"open\",\"key\":\"serial:01\",\"message\":\"签发前未完成身份查验\","
			 "\"first_seen\":\"2025-01-03\",\"evidence\":{\"serial\":\"01\",\"app\":\"A1\","
			 "\"applicant_name\":\"张*\",\"identity_method\":null,\"identity_result\":null,"
			 "\"t_identity\":null,\"t_issue\":\"2020-01-10 10:00:00\"}}");
	free(line);
	line = json_line_for(r, 1, "serial:01");
	ck_assert_msg(strstr(line, "\"applicant_name\":\"张三\""), "%s", line);
	free(line);
	/* --fail-on: 1.1 is high, so four at high, and critical counts none of them */
	ck_assert_int_eq(findings_count_failing(st, r, RULE_SEV_CRITICAL, &failing, &e), 0);
	ck_assert_int_eq(failing, 0);
	ck_assert_int_eq(findings_count_failing(st, r, RULE_SEV_HIGH, &failing, &e), 0);
	ck_assert_int_ge(failing, 4);
	checklist_free(cl);
}
END_TEST

START_TEST(waivers_apply_until_expiry)
{
	char *wpath = tu_write_in(dir, "waivers.yaml",
				  "waivers:\n"
				  "  - {checklist: miit-2022, item: \"1.1\", key: \"serial:0[12]\","
				  " justification: 历史数据, approver: 王五, expires: 2025-01-03}\n");
	struct checklist *cl = load_miit();
	struct engine_opts o = {.as_of = "2025-01-03", .waivers = wpath};
	struct engine_summary sum;
	struct err e = {0};

	ck_assert_int_eq(engine_run(st, &cl, 1, &o, &sum, &e), 0);
	ck_assert_int_eq(sum.waivers_expired, 0);
	assert_rows(findings_1_1, sum.run, "1.1",
		    "serial:01|waived|2025-01-03|2025-01-03\n"
		    "serial:02|waived|2025-01-03|2025-01-03\n"
		    "serial:03|new|2025-01-03|2025-01-03\n"
		    "serial:07|new|2025-01-03|2025-01-03\n");
	o.as_of = "2025-01-04"; /* expired: open again, and said so */
	ck_assert_int_eq(engine_run(st, &cl, 1, &o, &sum, &e), 0);
	ck_assert_int_eq(sum.waivers_expired, 1);
	assert_rows(findings_1_1, sum.run, "1.1",
		    "serial:01|open|2025-01-03|2025-01-04\n"
		    "serial:02|open|2025-01-03|2025-01-04\n"
		    "serial:03|open|2025-01-03|2025-01-04\n"
		    "serial:07|open|2025-01-03|2025-01-04\n");
	tu_write(wpath, "waivers:\n  - {item: \"1.1\", justification: x}\n");
	ck_assert_int_eq(engine_run(st, &cl, 1, &o, &sum, &e), -1);
	ck_assert_str_eq(e.msg, "missing key 'approver'");
	ck_assert_int_eq(e.line, 2);
	checklist_free(cl);
	free(wpath);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, identity_verification_cases);
	tcase_add_test(tc, history_open_and_fixed);
	tcase_add_test(tc, write_while_the_check_begins);
	tcase_add_test(tc, no_worker_can_open_the_store);
	tcase_add_test(tc, authorizer_refuses_writes);
	tcase_add_test(tc, checked_counts_per_scope);
	tcase_add_test(tc, misdelivery_per_certificate);
	tcase_add_test(tc, contract_cps_version_by_local_day);
	tcase_add_test(tc, runaway_sql_is_stopped);
	tcase_add_test(tc, json_output_masks);
	tcase_add_test(tc, waivers_apply_until_expiry);
	tcase_add_test(tc, activity_month_by_local_time);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
