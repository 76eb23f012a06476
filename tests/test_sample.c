/*
 * test_sample.c — `ca-audit sample` and the spot-check report on a
 * generated dataset (build/gen, fixed seed) through the real binary:
 * reproducibility (same seed, same file), a different seed giving another
 * list, --size and --rate, stratified shares, every usage error with its
 * message, and the spot-check record listing each sampled key with
 * results that agree with the check's findings in the store.
 */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "testutil.h"

static char *tmp, *cfg, *db;

static void setup(void)
{
	struct tu_out o;

	tmp = tu_tmpdir("sample");
	o = tu_run("'%s' -o '%s/ds' --certs 120 --seed 5 --violations 0.3", tu_gen(), tmp);
	ck_assert_msg(o.status == 0, "gen: %s", o.err);
	tu_out_free(&o);
	cfg = tu_fmt("%s/ds/ca-audit.yaml", tmp);
	db = tu_fmt("%s/ds/ca-audit.db", tmp);
	o = tu_run("'%s' -c '%s' --as-of 2026-01-15 ingest && '%s' -c '%s' --as-of 2026-01-15"
		   " check >/dev/null; test $? -le 2", tu_bin(), cfg, tu_bin(), cfg);
	ck_assert_msg(o.status == 0, "ingest/check: %s", o.err);
	tu_out_free(&o);
}

static void teardown(void)
{
	tu_rmdir(tmp);
	free(tmp);
	free(cfg);
	free(db);
}

static struct tu_out sample(const char *args)
{
	return tu_run("'%s' -c '%s' --as-of 2026-01-15 sample %s", tu_bin(), cfg, args);
}

static json_t *sample_json(const char *args)
{
	struct tu_out o = sample(args);
	json_error_t je;
	json_t *j;

	ck_assert_msg(o.status == 0, "sample %s: %s", args, o.err);
	j = json_loads(o.out, 0, &je);
	ck_assert_msg(j != NULL, "not JSON: %s", je.text);
	tu_out_free(&o);
	return j;
}

static long long q1(const char *sql, const char *a, const char *b)
{
	struct store *st;
	struct err e = {0};
	sqlite3_stmt *q;
	long long n;

	ck_assert_msg(store_open(db, 1, &st, &e) == 0, "%s", e.msg);
	ck_assert_msg(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL) == SQLITE_OK, "%s", sql);
	sqlite3_bind_text(q, 1, a, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, b, -1, SQLITE_TRANSIENT);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	store_close(st);
	return n;
}

static char *keys_of(json_t *s)
{
	json_t *r;
	size_t i;
	char *out = strdup(""), *next;

	json_array_foreach(json_object_get(s, "records"), i, r) {
		next = tu_fmt("%s%s\n", out, json_string_value(json_object_get(r, "key")));
		free(out);
		out = next;
	}
	return out;
}

START_TEST(same_seed_same_file)
{
	struct tu_out a, b, c;
	char *k1, *k2, *args = tu_fmt("--seed 2026-省局-01 --size 12 -o '%s/s1.json'", tmp);
	json_t *j1, *j2;

	a = sample(args);
	free(args);
	ck_assert_msg(a.status == 0, "%s", a.err);
	ck_assert_msg(strstr(a.err, "sample: 12 of 120 certificates"), "%s", a.err);
	ck_assert_str_eq(a.out, "");
	b = sample("--seed 2026-省局-01 --size 12");
	c = tu_run("cat '%s/s1.json'", tmp);
	ck_assert_str_eq(b.out, c.out);
	tu_out_free(&a);
	tu_out_free(&b);
	tu_out_free(&c);
	j1 = sample_json("--seed 2026-省局-01 --size 12");
	j2 = sample_json("--seed 2026-省局-02 --size 12");
	ck_assert_int_eq(json_array_size(json_object_get(j1, "records")), 12);
	ck_assert_int_eq(json_integer_value(json_object_get(j1, "population")),
			 q1("SELECT count(DISTINCT serial) FROM certificate WHERE is_ca = 0"
			    " AND ?1 IS NULL AND ?2 IS NULL", NULL, NULL));
	k1 = keys_of(j1);
	k2 = keys_of(j2);
	ck_assert_msg(strcmp(k1, k2), "two seeds gave the same list:\n%s", k1);
	/* every key is a certificate of the store */
	{
		json_t *r;
		size_t i;

		json_array_foreach(json_object_get(j1, "records"), i, r) {
			const char *key = json_string_value(json_object_get(r, "key"));

			ck_assert_msg(!strncmp(key, "serial:", 7), "%s", key);
			ck_assert_int_eq(q1("SELECT count(*) FROM certificate WHERE serial = ?1"
					    " AND ?2 IS NULL", key + 7, NULL), 1);
		}
	}
	free(k1);
	free(k2);
	json_decref(j1);
	json_decref(j2);
}
END_TEST

START_TEST(size_and_rate)
{
	json_t *j = sample_json("--seed x --rate 0.1 --of applications");
	long long apps = q1("SELECT count(*) FROM application WHERE ?1 IS NULL AND ?2 IS NULL",
			    NULL, NULL);

	ck_assert_int_eq(json_integer_value(json_object_get(j, "size")),
			 (long long)ceil(apps * 0.1));
	ck_assert_int_eq(json_array_size(json_object_get(j, "records")),
			 (size_t)ceil(apps * 0.1));
	ck_assert(fabs(json_number_value(json_object_get(j, "rate")) - 0.1) < 1e-9);
	ck_assert_str_eq(json_string_value(json_object_get(j, "of")), "applications");
	ck_assert(!strncmp(json_string_value(json_object_get(json_array_get(
		json_object_get(j, "records"), 0), "key")), "app:", 4));
	json_decref(j);
	j = sample_json("--seed x --size 7");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "size")), 7);
	ck_assert(json_is_null(json_object_get(j, "rate")));
	json_decref(j);
	/* more than there are: all of them */
	j = sample_json("--seed x --size 100000");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "size")),
			 json_integer_value(json_object_get(j, "population")));
	json_decref(j);
}
END_TEST

START_TEST(stratified_shares)
{
	json_t *j = sample_json("--seed strata --size 20 --stratify-by sector"), *s, *r;
	long long pop = json_integer_value(json_object_get(j, "population")), total = 0;
	size_t i;

	ck_assert_str_eq(json_string_value(json_object_get(j, "stratify_by")), "sector");
	ck_assert_int_ge(json_array_size(json_object_get(j, "strata")), 2);
	json_array_foreach(json_object_get(j, "strata"), i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		long long n = json_integer_value(json_object_get(s, "population"));
		long long k = json_integer_value(json_object_get(s, "size"));
		double exact = 20.0 * (double)n / (double)pop;
		size_t in = 0, m;

		ck_assert_int_eq(n, q1("SELECT count(*) FROM issuance WHERE sector = ?1"
				       " AND ?2 IS NULL", name, NULL));
		ck_assert_msg(fabs((double)k - exact) < 1.0 || k == 1, "%s: %lld for %.2f", name,
			      k, exact);
		ck_assert_int_ge(k, 1);
		json_array_foreach(json_object_get(j, "records"), m, r)
			in += !strcmp(json_string_value(json_object_get(r, "stratum")), name);
		ck_assert_int_eq(in, k);
		total += k;
	}
	ck_assert_int_eq(total, 20);
	json_decref(j);
}
END_TEST

START_TEST(usage_errors)
{
	static const struct {
		const char *args, *msg;
	} cases[] = {
		{"--seed 1 --size 3 --rate 0.5", "give either --size or --rate, not both"},
		{"--seed 1", "give --size N or --rate R"},
		{"--size 3", "--seed is required"},
		{"--seed 1 --size 0", "--size expects a whole number of at least 1, found '0'"},
		{"--seed 1 --size 3x", "found '3x'"},
		{"--seed 1 --rate 1.5", "--rate expects a number greater than 0 and at most 1,"
		 " found '1.5'"},
		{"--seed 1 --size 3 --stratify-by colour", "unknown --stratify-by 'colour'"},
		{"--seed 1 --size 3 --of people", "unknown --of 'people'"},
		{"--seed 1 --size 3 extra", "unexpected argument 'extra'"},
		{"--seed", "needs an argument"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct tu_out o = sample(cases[i].args);

		ck_assert_msg(o.status == 64, "'%s': exit %d", cases[i].args, o.status);
		ck_assert_msg(strstr(o.err, cases[i].msg), "'%s': %s", cases[i].args, o.err);
		ck_assert_str_eq(o.out, "");
		tu_out_free(&o);
	}
}
END_TEST

static json_t *dump(const char *path)
{
	struct tu_out o = tu_run("python3 '%s/tests/xlsx_dump.py' '%s'", tu_root(), path);
	json_error_t je;
	json_t *j;

	ck_assert_msg(o.status == 0, "xlsx_dump: %s", o.err);
	j = json_loads(o.out, 0, &je);
	ck_assert_ptr_nonnull(j);
	tu_out_free(&o);
	return j;
}

static const char *text(json_t *sh, size_t r, size_t c)
{
	json_t *v = json_array_get(json_array_get(json_array_get(json_object_get(sh, "rows"), r),
						  c), 1);

	return json_is_string(v) ? json_string_value(v) : "";
}

static json_t *sheet(json_t *wb, const char *name)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(wb, "sheets"), i, s)
		if (!strcmp(json_string_value(json_object_get(s, "name")), name))
			return s;
	ck_abort_msg("no sheet '%s'", name);
	return NULL;
}

START_TEST(spot_check_agrees_with_findings)
{
	struct tu_out o;
	json_t *j, *wb, *sh, *r;
	size_t i, row, detail = 0, rows;
	char *keys, *x, *args;

	/* no sample yet: a clear error */
	o = tu_run("'%s' -c '%s' --as-of 2026-01-15 report spot-check -o '%s/out'", tu_bin(), cfg,
		   tmp);
	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(strstr(o.err, "no sample file (sample*.json) in"), "%s", o.err);
	tu_out_free(&o);
	/* a rate high enough to meet findings; -o makes the directory */
	args = tu_fmt("--seed spot --rate 0.25 -o '%s/out/sample-a.json'", tmp);
	o = sample(args);
	free(args);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	x = tu_fmt("%s/out/sample-a.json", tmp);
	j = json_load_file(x, 0, NULL);
	ck_assert_ptr_nonnull(j);
	free(x);
	keys = keys_of(j);
	o = tu_run("'%s' -c '%s' --as-of 2026-01-15 report spot-check --format xlsx,pdf -o '%s/out'",
		   tu_bin(), cfg, tmp);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	x = tu_fmt("%s/out/spot-check-2026-01-15.xlsx", tmp);
	wb = dump(x);
	ck_assert_str_eq(text(sheet(wb, "概要"), 0, 0), "抽查记录");
	sh = sheet(wb, "抽查结果");
	rows = json_array_size(json_object_get(sh, "rows"));
	/* the summary lists each sampled key, in the file's order */
	for (row = 0; row < rows && strcmp(text(sh, row, 1), "证书序列号"); row++)
		;
	json_array_foreach(json_object_get(j, "records"), i, r)
		ck_assert_str_eq(text(sh, row + 1 + i, 1),
				 json_string_value(json_object_get(r, "key")) + 7);
	/* each detail row: 不符合 exactly when the run has a new or open
	 * finding for that key and item */
	for (row += 1 + json_array_size(json_object_get(j, "records")); row < rows; row++) {
		const char *serial = text(sh, row, 1), *item = text(sh, row, 3);
		const char *res = text(sh, row, 5);
		char *key;

		if (!*item || !strcmp(item, "编号"))
			continue;
		key = tu_fmt("serial:%s", serial);
		ck_assert_msg(strstr(keys, key), "%s is not in the sample", key);
		ck_assert_int_eq(!strcmp(res, "不符合"),
				 q1("SELECT count(*) FROM finding WHERE run = (SELECT max(id) FROM run)"
				    " AND key = ?1 AND item = ?2 AND status IN ('new', 'open')",
				    key, item));
		detail++;
		free(key);
	}
	ck_assert_int_gt(detail, json_array_size(json_object_get(j, "records")));
	/* and the sample's findings all appear as 不符合 */
	{
		long long want = 0, got = 0;

		json_array_foreach(json_object_get(j, "records"), i, r)
			want += q1("SELECT count(*) FROM finding WHERE run = (SELECT max(id) FROM run)"
				   " AND key = ?1 AND status IN ('new', 'open') AND ?2 IS NULL",
				   json_string_value(json_object_get(r, "key")), NULL);
		for (row = 0; row < rows; row++)
			got += !strcmp(text(sh, row, 5), "不符合");
		ck_assert_int_gt(want, 0);
		ck_assert_int_eq(got, want);
	}
	json_decref(wb);
	o = tu_run("pdftotext '%s/out/spot-check-2026-01-15.pdf' -", tmp);
	ck_assert_msg(strstr(o.out, "抽查记录") && strstr(o.out, "spot"), "%s", o.out);
	tu_out_free(&o);
	free(keys);
	free(x);
	json_decref(j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sample");
	TCase *tc = tcase_create("sample");
	int failed;

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, same_seed_same_file);
	tcase_add_test(tc, size_and_rate);
	tcase_add_test(tc, stratified_shares);
	tcase_add_test(tc, usage_errors);
	tcase_add_test(tc, spot_check_agrees_with_findings);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
