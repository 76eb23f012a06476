/*
 * test_matcache.c — the materialised views kept in the store between runs
 * (audit/matcache.h), with the real binary on a generated CA: a check makes
 * them and the triggers; writes of every kind are noted; the next check's
 * refresh gives the same tables and the same findings as making them anew
 * (--rebuild) on a copy; a table from another definition, or more writes
 * than a refresh pays for, is made again. The first check makes the three
 * at once (audit/parcopy.h); with CA_AUDIT_THREADS=1 it makes them one
 * after another, to the same rows and rowids.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define ALL "--checklist miit-2022 --checklist egov-2009 --checklist shenzhen-2011" \
	" --checklist gd-hk-2012"

static char *ds, *cfg, *db;

static void setup(void)
{
	struct tu_out o;

	ds = tu_tmpdir("matcache");
	o = tu_run("'%s' -o '%s' --certs 300 --seed 11 --violations 0.2 --checklists all",
		   tu_gen(), ds);
	ck_assert_msg(o.status == 0, "generator failed: %s", o.err);
	tu_out_free(&o);
	cfg = tu_fmt("%s/ca-audit.yaml", ds);
	db = tu_fmt("%s/ca-audit.db", ds);
	o = tu_run("'%s' --no-progress -c '%s' ingest", tu_bin(), cfg);
	ck_assert_msg(o.status == 0, "ingest failed: %s", o.err);
	tu_out_free(&o);
}

static void teardown(void)
{
	tu_rmdir(ds);
	free(ds);
	free(cfg);
	free(db);
}

/* check on store path with extra options and environment assignments env;
 * its findings (JSON Lines, unmasked), and its stderr in *err when err is
 * not NULL. */
static char *check_env(const char *env, const char *path, const char *extra, char **err)
{
	struct tu_out o = tu_run("%s '%s' -v --no-progress -c '%s' --db '%s' --as-of 2026-01-15"
				 " check " ALL " %s --format json --reveal", env, tu_bin(), cfg,
				 path, extra);
	char *out;

	ck_assert_msg(o.status == 0 || o.status == 2, "check failed (%d): %s", o.status, o.err);
	out = o.out;
	if (err)
		*err = strdup(o.err);
	o.out = NULL;
	tu_out_free(&o);
	return out;
}

/* With two threads whatever the machine: the kept views made at once. */
static char *check(const char *path, const char *extra, char **err)
{
	return check_env("CA_AUDIT_THREADS=2", path, extra, err);
}

static void sql(const char *path, const char *text)
{
	sqlite3 *h;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, text, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", text, msg);
	sqlite3_close(h);
}

/* The first column of query's row on the store at path, with the store at
 * other attached as "o" when other is not NULL. */
static long long scalar(const char *path, const char *other, const char *query)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long long n;

	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	if (other) {
		char *attach = tu_fmt("ATTACH '%s' AS o", other);

		ck_assert_int_eq(sqlite3_exec(h, attach, NULL, NULL, NULL), SQLITE_OK);
		free(attach);
	}
	ck_assert_msg(sqlite3_prepare_v2(h, query, -1, &st, NULL) == SQLITE_OK, "%s: %s", query,
		      sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static long long count(const char *path, const char *query)
{
	return scalar(path, NULL, query);
}

static char *copy_store(const char *name)
{
	char *to = tu_fmt("%s/%s", ds, name);

	sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	{
		struct tu_out o = tu_run("cp '%s' '%s'", db, to);
		ck_assert_int_eq(o.status, 0);
		tu_out_free(&o);
	}
	return to;
}

/* Rows of main.mat_<t> in one store and not the other, both ways; with
 * their rowids when cols is "rowid, *", else "*". */
static long long differing_cols(const char *a, const char *b, const char *t, const char *cols)
{
	char *q = tu_fmt("SELECT (SELECT count(*) FROM (SELECT %s FROM main.mat_%s EXCEPT"
			 " SELECT %s FROM o.mat_%s)) + (SELECT count(*) FROM (SELECT %s FROM"
			 " o.mat_%s EXCEPT SELECT %s FROM main.mat_%s))", cols, t, cols, t, cols, t,
			 cols, t);
	long long n = scalar(a, b, q);

	free(q);
	return n;
}

/* The three kept tables of store a are not empty and equal b's, compared
 * on cols. */
static void same_tables(const char *a, const char *b, const char *cols)
{
	static const char *const tables[] = {"issuance", "app_flow", "revocation"};

	for (size_t i = 0; i < 3; i++) {
		char *q = tu_fmt("SELECT count(*) FROM mat_%s", tables[i]);

		ck_assert_int_gt(count(a, q), 0);
		ck_assert_msg(differing_cols(a, b, tables[i], cols) == 0, "mat_%s differs",
			      tables[i]);
		free(q);
	}
}

START_TEST(first_check_makes_tables_and_triggers)
{
	char *err;

	ck_assert_int_eq(count(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"),
			 0);  /* nothing kept yet: ingest pays for no triggers */
	free(check(db, "", &err));
	/* all three up front, each SELECT in a thread of its own: no item pays */
	ck_assert_msg(strstr(err, "made kept view 'issuance' in "), "%s", err);
	ck_assert_msg(strstr(err, "made kept view 'app_flow' in "), "%s", err);
	ck_assert_msg(strstr(err, "made kept view 'revocation' in "), "%s", err);
	ck_assert_int_eq(tu_count_lines(err, ", 3 at once"), 3);
	ck_assert_msg(strstr(err, "item '1.1': fail in ") && !strstr(err, "making views"), "%s",
		      err);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM mat_state"), 3);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM mat_issuance"),
			 count(db, "SELECT count(*) FROM certificate WHERE is_ca = 0"));
	ck_assert_int_eq(count(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"
			       " AND name LIKE 'mat_%'"), 12);
	free(err);
	/* a second check without writes in between makes nothing */
	free(check(db, "", &err));
	ck_assert_msg(!strstr(err, "made kept view"), "%s", err);
	ck_assert_msg(!strstr(err, "refreshed"), "%s", err);
	ck_assert_msg(strstr(err, "item '1.1': ") && !strstr(err, "making views"), "%s", err);
	free(err);
}
END_TEST

/* Writes of each kind the views read, through SQL so that nothing but the
 * triggers can note them. */
static const char *const writes =
	/* a certificate revoked */
	"UPDATE certificate SET status = 'revoked', revoked_at = '2025-06-01 00:00:00'"
	" WHERE serial = (SELECT serial FROM certificate WHERE is_ca = 0 AND status IS NOT"
	" 'revoked' ORDER BY serial LIMIT 1);"
	/* a certificate's expiry changed: its application's last_not_after */
	"UPDATE certificate SET not_after = '2099-01-01 00:00:00' WHERE serial = (SELECT"
	" serial FROM event WHERE kind = 'issue' ORDER BY serial LIMIT 1 OFFSET 5);"
	/* an application's identity checks gone */
	"DELETE FROM event WHERE kind = 'identity_verify' AND app = (SELECT app FROM event"
	" WHERE kind = 'issue' ORDER BY app LIMIT 1 OFFSET 3);"
	/* an issue event moved to another application */
	"UPDATE event SET app = (SELECT app FROM application ORDER BY app LIMIT 1 OFFSET 9)"
	" WHERE rowid = (SELECT rowid FROM event WHERE kind = 'issue' ORDER BY app"
	" LIMIT 1 OFFSET 20);"
	/* an archive and a contract for another */
	"INSERT INTO event(at, kind, app, source, line) SELECT '2025-07-01 00:00:00', 'archive',"
	" app, 'hand', 1 FROM application ORDER BY app LIMIT 1 OFFSET 30;"
	"INSERT INTO event(at, kind, app, cps_version, source, line) SELECT"
	" '2020-01-01 00:00:00', 'contract', app, '0.1', 'hand', 2 FROM application"
	" ORDER BY app LIMIT 1 OFFSET 31;"
	/* a delivery to another identity; an applicant's identity number
	 * changed, so that the deliveries to the old one go to another */
	"INSERT INTO event(at, kind, app, recipient_id, source, line) SELECT"
	" '2025-07-02 00:00:00', 'deliver', app, 'X-OTHER', 'hand', 3 FROM event"
	" WHERE kind = 'issue' ORDER BY app LIMIT 1 OFFSET 50;"
	"UPDATE application SET applicant_id = 'X-CHANGED' WHERE app = (SELECT e.app"
	" FROM event e JOIN application a USING (app) WHERE e.kind = 'deliver'"
	" AND e.recipient_id = a.applicant_id ORDER BY e.app LIMIT 1 OFFSET 60);"
	/* a first CRL listing, an application removed, a certificate added */
	"INSERT INTO crl_entry(issuer, serial, revoked_at, crl_this_update) SELECT issuer,"
	" serial, '2025-06-01 00:00:00', '2025-06-03 00:00:00' FROM certificate"
	" WHERE is_ca = 0 ORDER BY serial LIMIT 1;"
	"DELETE FROM application WHERE app = (SELECT app FROM application ORDER BY app"
	" LIMIT 1 OFFSET 40);"
	"INSERT INTO certificate(serial, issuer, subject, cn, not_before, not_after, is_ca)"
	" SELECT 'FEEDFACE', issuer, subject, cn, not_before, not_after, 0 FROM certificate"
	" WHERE is_ca = 0 ORDER BY serial LIMIT 1;";

/* With one thread the views are made as items first name them, each
 * item's line saying the making apart; tables (rowids too) and findings are
 * those of making them at once. */
START_TEST(one_thread_makes_the_same)
{
	char *copy = copy_store("one.db"), *a, *b, *err;

	a = check(db, "", NULL);
	b = check_env("CA_AUDIT_THREADS=1", copy, "", &err);
	ck_assert_msg(strstr(err, "made kept view 'issuance' in ") && !strstr(err, "at once"),
		      "%s", err);
	/* the first item naming issuance has the making said apart; the next not */
	ck_assert_msg(strstr(err, "item '1.1': fail in ") &&
		      strstr(strstr(err, "item '1.1': fail in "), " s making views)\n") <
		      strstr(err, "item '1.2'"), "%s", err);
	free(err);
	ck_assert_int_gt(tu_count_lines(a, "\"item\""), 10);
	ck_assert_str_eq(a, b);
	same_tables(db, copy, "rowid, *");
	free(a);
	free(b);
	/* a value that is no number is said, and the check goes on */
	free(copy);
	copy = copy_store("two.db");
	free(check_env("CA_AUDIT_THREADS=two", copy, "--rebuild", &err));
	ck_assert_msg(strstr(err, "CA_AUDIT_THREADS='two' is not a whole number"), "%s", err);
	ck_assert_msg(strstr(err, "made kept view 'issuance' in "), "%s", err);
	free(err);
	free(copy);
}
END_TEST

START_TEST(refresh_equals_rebuild)
{
	char *a, *b, *err, *copy;

	free(check(db, "", NULL));
	sql(db, writes);
	ck_assert_int_gt(count(db, "SELECT count(*) FROM mat_dirty WHERE kind = 'app'"), 0);
	ck_assert_int_gt(count(db, "SELECT count(*) FROM mat_dirty WHERE kind = 'serial'"), 0);
	copy = copy_store("copy.db");
	a = check(db, "", &err);
	ck_assert_msg(strstr(err, "refreshed the kept views"), "%s", err);
	ck_assert_msg(!strstr(err, "made kept view"), "%s", err);
	free(err);
	b = check(copy, "--rebuild", &err);
	ck_assert_msg(strstr(err, "made kept view 'issuance'"), "%s", err);
	free(err);
	ck_assert_int_gt(tu_count_lines(a, "\"item\""), 10);
	ck_assert_str_eq(a, b);
	same_tables(db, copy, "*");
	ck_assert_int_eq(count(db, "SELECT count(*) FROM mat_issuance WHERE serial = 'FEEDFACE'"),
			 1);
	/* the two deliveries' certificates now have t_misdeliver */
	ck_assert_int_gt(count(db, "SELECT count(*) FROM mat_issuance"
			       " WHERE t_misdeliver = '2025-07-02 00:00:00'"), 0);
	ck_assert_int_gt(count(db, "SELECT count(*) FROM mat_issuance WHERE app = (SELECT app"
			       " FROM application WHERE applicant_id = 'X-CHANGED')"
			       " AND t_misdeliver IS NOT NULL"), 0);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM mat_dirty"), 0);
	free(a);
	free(b);
	free(copy);
}
END_TEST

START_TEST(other_definition_is_made_again)
{
	char *err;

	free(check(db, "", NULL));
	/* a table made by another version, which also missed rows */
	sql(db, "UPDATE mat_state SET def = 'format 0' WHERE name = 'issuance';"
		" DELETE FROM mat_issuance WHERE rowid % 2 = 0;");
	free(check(db, "", &err));
	ck_assert_msg(strstr(err, "made kept view 'issuance'"), "%s", err);
	ck_assert_msg(!strstr(err, "made kept view 'app_flow'"), "%s", err);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM mat_issuance"),
			 count(db, "SELECT count(*) FROM certificate WHERE is_ca = 0"));
	ck_assert_int_eq(count(db, "SELECT count(*) FROM mat_state WHERE def LIKE 'format 1%'"),
			 3);
	free(err);
}
END_TEST

START_TEST(many_writes_make_tables_again)
{
	char *err;

	free(check(db, "", NULL));
	sql(db, "UPDATE certificate SET status = status");  /* every serial noted */
	free(check(db, "", &err));
	ck_assert_msg(strstr(err, "the kept views are made again"), "%s", err);
	ck_assert_msg(strstr(err, "made kept view 'revocation'"), "%s", err);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM mat_dirty"), 0);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM mat_state"), 3);
	free(err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("matcache");
	TCase *tc = tcase_create("matcache");
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, first_check_makes_tables_and_triggers);
	tcase_add_test(tc, one_thread_makes_the_same);
	tcase_add_test(tc, refresh_equals_rebuild);
	tcase_add_test(tc, other_definition_is_made_again);
	tcase_add_test(tc, many_writes_make_tables_again);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
