/*
 * test_sqlfuncs.c — the SQL functions rules call, through a real in-memory
 * SQLite database: each with typical, edge and NULL arguments, the working
 * days across a holiday for a stored UTC time near local midnight, and that
 * every function is usable where SQLite only admits innocuous ones.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idcodes.h"
#include "sqlfuncs.h"
#include "testutil.h"
#include "timeutil.h"

static sqlite3 *db;

static void setup(void)
{
	struct err e = {0};

	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_msg(sqlfuncs_register(db, &e) == 0, "%s", e.msg);
}

static void teardown(void)
{
	sqlite3_close(db);
	db = NULL;
}

/* Runs a one-value SELECT; returns its text (malloc'd) or NULL for SQL
 * NULL, failing the test on an SQL error. */
static char *q(const char *sql)
{
	sqlite3_stmt *st;
	char *r = NULL;
	int rc;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	ck_assert_msg(rc == SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		r = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return r;
}

/* Asserts the SELECT's value: want NULL means SQL NULL. */
#define ck_q(sql, want)                                                              \
	do {                                                                         \
		char *got_ = q(sql);                                                 \
		const char *want_ = (want);                                          \
		if (want_ == NULL)                                                   \
			ck_assert_msg(got_ == NULL, "%s: got '%s', want NULL", sql, got_); \
		else                                                                 \
			ck_assert_msg(got_ && strcmp(got_, want_) == 0,              \
				      "%s: got '%s', want '%s'", sql,                \
				      got_ ? got_ : "NULL", want_);                  \
		free(got_);                                                          \
	} while (0)

START_TEST(test_validators)
{
	ck_q("SELECT uscc_valid('91350100M000100Y43')", "1");
	ck_q("SELECT uscc_valid('91350100m000100y43')", "1");
	ck_q("SELECT uscc_valid('91350100M000100Y44')", "0");
	ck_q("SELECT uscc_valid('')", "0");
	ck_q("SELECT uscc_valid(NULL)", NULL);
	ck_q("SELECT resident_id_valid('11010519491231002X')", "1");
	ck_q("SELECT resident_id_valid('11010519491231002x')", "1");
	ck_q("SELECT resident_id_valid('110105194912310021')", "0");
	ck_q("SELECT resident_id_valid(110105194912310021)", "0");
	ck_q("SELECT resident_id_valid(NULL)", NULL);
	ck_q("SELECT org_code_valid('D2143569-X')", "1");
	ck_q("SELECT org_code_valid('D2143569X')", "1");
	ck_q("SELECT org_code_valid('D2143569-1')", "0");
	ck_q("SELECT org_code_valid(NULL)", NULL);
	ck_q("SELECT id_valid('resident_id', '11010519491231002X')", "1");
	ck_q("SELECT id_valid('uscc', '11010519491231002X')", "0");
	ck_q("SELECT id_valid('org_code', 'D2143569-X')", "1");
	ck_q("SELECT id_valid('passport', 'E12345678')", "1");
	ck_q("SELECT id_valid('passport', '')", "0");
	ck_q("SELECT id_valid('licence', 'E12345678')", "0");
	ck_q("SELECT id_valid(NULL, 'E12345678')", NULL);
	ck_q("SELECT id_valid('passport', NULL)", NULL);
}
END_TEST

/* A table of generated numbers, each checked in SQL and in C. */
START_TEST(test_validators_over_rows)
{
	char body[32], id[40], sql[128];
	int i, valid = 0;

	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE t(id TEXT)", NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < 50; i++) {
		snprintf(body, sizeof body, "1101051990%02d%02d%03d", i % 13, 1 + i % 30, i);
		snprintf(id, sizeof id, "%s%c", body, i % 3 ? resident_id_check(body) : '0');
		snprintf(sql, sizeof sql, "INSERT INTO t VALUES('%s')", id);
		ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		valid += resident_id_valid(id);
	}
	ck_assert_int_gt(valid, 0);
	ck_assert_int_lt(valid, 50);
	snprintf(sql, sizeof sql, "%d", valid);
	ck_q("SELECT count(*) FROM t WHERE resident_id_valid(id)", sql);
}
END_TEST

START_TEST(test_add_workdays)
{
	ck_q("SELECT add_workdays('2024-09-30', 1)", "2024-10-08");
	ck_q("SELECT add_workdays('2024-10-08', -1)", "2024-09-30");
	ck_q("SELECT add_workdays('2024-10-03', 0)", "2024-10-08");
	ck_q("SELECT add_workdays('2024-12-31', 1)", "2025-01-02");
	ck_q("SELECT add_workdays('2024-12-31', '1')", "2025-01-02");
	ck_q("SELECT add_workdays('2024-12-31', 1.0)", "2025-01-02");
	ck_q("SELECT add_workdays('2025-01-24', 1)", "2025-01-26");
	/* Stored UTC times: 2024-09-30 16:30 UTC is 00:30 on National Day in
	 * Shanghai, 15:59:59 UTC still the last working day before it. */
	ck_q("SELECT add_workdays('2024-09-30 16:30:00', 0)", "2024-10-08");
	ck_q("SELECT add_workdays('2024-09-30 15:59:59', 0)", "2024-09-30");
	ck_q("SELECT add_workdays('2024-09-30 15:59:59', 1)", "2024-10-08");
	ck_q("SELECT add_workdays(NULL, 1)", NULL);
	ck_q("SELECT add_workdays('2024-09-30', NULL)", NULL);
	ck_q("SELECT add_workdays('2024-09-30', 'x')", NULL);
	ck_q("SELECT add_workdays('2024-09-30', 1.5)", NULL);
	ck_q("SELECT add_workdays('2024-09-30', 10000000000)", NULL);
	ck_q("SELECT add_workdays('2024-09-31', 1)", NULL);
	ck_q("SELECT add_workdays('2024-09-30T16:30:00', 1)", NULL);
	ck_q("SELECT add_workdays('yesterday', 1)", NULL);
}
END_TEST

START_TEST(test_add_workdays_zone)
{
	struct err e = {0};

	ck_assert_int_eq(time_set_zone("UTC", &e), 0);
	ck_q("SELECT add_workdays('2024-09-30 16:30:00', 0)", "2024-09-30");
	ck_q("SELECT workdays_between('2024-09-30 23:00:00', '2024-10-08 00:30:00')", "1");
	/* Back to the default, for runs with CK_FORK=no. */
	ck_assert_int_eq(time_set_zone("Asia/Shanghai", &e), 0);
}
END_TEST

START_TEST(test_workdays_between)
{
	ck_q("SELECT workdays_between('2024-09-30', '2024-10-08')", "1");
	ck_q("SELECT workdays_between('2024-10-08', '2024-09-30')", "-1");
	ck_q("SELECT workdays_between('2024-10-08', '2024-10-08')", "0");
	ck_q("SELECT workdays_between('2024-12-31', '2025-01-02')", "1");
	/* Applied 2024-09-30 17:00 local (09:00 UTC), delivered 10-09 local. */
	ck_q("SELECT workdays_between('2024-09-30 09:00:00', '2024-10-09 01:00:00')", "2");
	ck_q("SELECT workdays_between('2024-09-30 09:00:00', '2024-10-08 17:00:00')", "2");
	ck_q("SELECT workdays_between(NULL, '2024-10-08')", NULL);
	ck_q("SELECT workdays_between('2024-10-08', NULL)", NULL);
	ck_q("SELECT workdays_between('2024-10-08', 'soon')", NULL);
	ck_q("SELECT workdays_between(20241008, '2024-10-09')", NULL);
}
END_TEST

START_TEST(test_has_item)
{
	ck_q("SELECT has_item('digitalSignature,nonRepudiation', 'nonRepudiation')", "1");
	ck_q("SELECT has_item('digitalSignature,nonRepudiation', 'digitalSignature')", "1");
	ck_q("SELECT has_item('digitalSignature, nonRepudiation', 'nonRepudiation')", "1");
	ck_q("SELECT has_item('digitalSignature,nonRepudiation', 'Signature')", "0");
	ck_q("SELECT has_item('digitalSignature,nonRepudiation', 'digitalSignature,')", "0");
	ck_q("SELECT has_item('digitalSignature,nonRepudiation', 'nonrepudiation')", "0");
	ck_q("SELECT has_item('keyCertSign', 'keyCertSign')", "1");
	ck_q("SELECT has_item('', 'keyCertSign')", "0");
	ck_q("SELECT has_item('a,,b', '')", "1");
	ck_q("SELECT has_item(NULL, 'keyCertSign')", "0");
	ck_q("SELECT has_item('keyCertSign', NULL)", "0");
}
END_TEST

START_TEST(test_dn_attr)
{
	ck_q("SELECT dn_attr('CN=张三,O=某某科技有限公司,C=CN', 'CN')", "张三");
	ck_q("SELECT dn_attr('CN=张三,O=某某科技有限公司,C=CN', 'o')", "某某科技有限公司");
	ck_q("SELECT dn_attr('CN=张三,O=某某科技有限公司,C=CN', 'c')", "CN");
	ck_q("SELECT dn_attr('CN=张三,O=某某科技有限公司,C=CN', 'OU')", NULL);
	ck_q("SELECT dn_attr('CN=Foo\\, Inc.,O=Bar', 'CN')", "Foo, Inc.");
	ck_q("SELECT dn_attr('CN=back\\\\slash,O=Bar', 'CN')", "back\\slash");
	ck_q("SELECT dn_attr('CN=\"Quoted, Name\",O=Bar', 'CN')", "Quoted, Name");
	ck_q("SELECT dn_attr('CN=\"Quoted, Name\" ,O=Bar', 'O')", "Bar");
	ck_q("SELECT dn_attr('CN=\\E5\\BC\\A0,O=Bar', 'CN')", "张");
	ck_q("SELECT dn_attr('CN=a+serialNumber=123,O=Bar', 'serialNumber')", "123");
	ck_q("SELECT dn_attr('CN = spaced , O = Bar', 'CN')", "spaced");
	ck_q("SELECT dn_attr('CN=\\ lead\\ ,O=Bar', 'CN')", " lead ");
	ck_q("SELECT dn_attr('OU=first,OU=second', 'OU')", "first");
	ck_q("SELECT dn_attr('CN=x=y,O=Bar', 'CN')", "x=y");
	ck_q("SELECT dn_attr('CN=,O=Bar', 'CN')", "");
	ck_q("SELECT dn_attr('XCN=a,CN=b', 'CN')", "b");
	ck_q("SELECT dn_attr('not a dn', 'CN')", NULL);
	ck_q("SELECT dn_attr(NULL, 'CN')", NULL);
	ck_q("SELECT dn_attr('CN=a', NULL)", NULL);
	ck_q("SELECT dn_attr('CN=a', '')", NULL);
}
END_TEST

START_TEST(test_masks)
{
	ck_q("SELECT mask_name('张三丰')", "张**");
	ck_q("SELECT mask_name('张')", "*");
	ck_q("SELECT mask_name(NULL)", NULL);
	ck_q("SELECT mask_id('110101199003071234')", "1101**********1234");
	ck_q("SELECT mask_id('12345678')", "********");
	ck_q("SELECT mask_id(NULL)", NULL);
}
END_TEST

/* SQLITE_DIRECTONLY-free and innocuous: usable in a view queried with
 * trusted_schema off, which refuses any function not marked innocuous. */
START_TEST(test_innocuous)
{
	const char *sql =
		"PRAGMA trusted_schema=OFF;"
		"CREATE TABLE a(dn TEXT, id TEXT, at TEXT, ku TEXT, name TEXT);"
		"INSERT INTO a VALUES('CN=x,O=y', '91350100M000100Y43', '2024-09-30', 'a,b', '张三');"
		"CREATE VIEW v AS SELECT dn_attr(dn, 'O') o, uscc_valid(id) u, resident_id_valid(id) r,"
		" org_code_valid(id) g, id_valid('uscc', id) i, add_workdays(at, 1) w,"
		" workdays_between(at, '2024-10-08') b, has_item(ku, 'b') h, mask_name(name) mn,"
		" mask_id(id) mi FROM a;";

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
	ck_q("SELECT o || u || r || g || i || w || b || h || mn || mi FROM v",
	     "y10012024-10-0811张*9135**********0Y43");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqlfuncs");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_validators);
	tcase_add_test(tc, test_validators_over_rows);
	tcase_add_test(tc, test_add_workdays);
	tcase_add_test(tc, test_add_workdays_zone);
	tcase_add_test(tc, test_workdays_between);
	tcase_add_test(tc, test_has_item);
	tcase_add_test(tc, test_dn_attr);
	tcase_add_test(tc, test_masks);
	tcase_add_test(tc, test_innocuous);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
