/*
 * sqlfuncs.c — the SQL functions checklist rules call (DESIGN §6), bound to
 * the modules that do the work: idcodes for identity numbers, workdays and
 * timeutil for deadlines in working days, mask for personal data; the list
 * and DN helpers are small enough to live here.
 *
 * Rules run over whole tables, so a malformed argument (a date that is not
 * one, a count that is not a number) gives NULL rather than an SQL error
 * that would abort the rule: the row then simply fails to match, as NULL
 * does everywhere in SQL.
 */
#include "sqlfuncs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idcodes.h"
#include "mask.h"
#include "timeutil.h"
#include "workdays.h"

struct sqlfuncs_check {
	int (*fn)(const char *s); /* a validator of idcodes.h */
};

struct sqlfuncs_mask {
	char *(*fn)(const char *s); /* a masker of mask.h; result malloc'd */
};

static const struct sqlfuncs_check sqlfuncs_uscc = {uscc_valid};
static const struct sqlfuncs_check sqlfuncs_resident = {resident_id_valid};
static const struct sqlfuncs_check sqlfuncs_org = {org_code_valid};
static const struct sqlfuncs_mask sqlfuncs_mname = {mask_name};
static const struct sqlfuncs_mask sqlfuncs_mid = {mask_id};

static const char *sqlfuncs_text(sqlite3_value *v)
{
	if (sqlite3_value_type(v) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_value_text(v);
}

/* uscc_valid(s), resident_id_valid(s), org_code_valid(s). */
static void sqlfuncs_check_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct sqlfuncs_check *c = sqlite3_user_data(ctx);
	const char *s = sqlfuncs_text(argv[0]);

	(void)argc;
	if (!s)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int(ctx, c->fn(s) ? 1 : 0);
}

/* id_valid(type, s). */
static void sqlfuncs_id_valid(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *type = sqlfuncs_text(argv[0]), *s;

	(void)argc;
	s = sqlfuncs_text(argv[1]);
	if (!type || !s)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int(ctx, id_valid(type, s) ? 1 : 0);
}

/* mask_name(s), mask_id(s). */
static void sqlfuncs_mask_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct sqlfuncs_mask *m = sqlite3_user_data(ctx);
	const char *s = sqlfuncs_text(argv[0]);
	char *r;

	(void)argc;
	if (!s) {
		sqlite3_result_null(ctx);
		return;
	}
	r = m->fn(s);
	if (!r)
		sqlite3_result_error_nomem(ctx);
	else
		sqlite3_result_text(ctx, r, -1, free);
}

/* A calendar date from "YYYY-MM-DD" or a stored UTC time, whose date is
 * the one in the configured zone. */
static int sqlfuncs_date(sqlite3_value *v, char out[11])
{
	const char *s = sqlfuncs_text(v);
	size_t n = s ? strlen(s) : 0;

	if (n == 10) {
		memcpy(out, s, 11);
		return workdays_is_workday(out) < 0 ? -1 : 0;
	}
	if (n == 19)
		return time_utc_local_date(s, out);
	return -1;
}

/* An integral number, from an integer, a whole real or numeric text. */
static int sqlfuncs_int(sqlite3_value *v, int *out)
{
	sqlite3_int64 i;
	double d;

	switch (sqlite3_value_numeric_type(v)) {
	case SQLITE_INTEGER:
		i = sqlite3_value_int64(v);
		break;
	case SQLITE_FLOAT:
		d = sqlite3_value_double(v);
		if (d != (double)(sqlite3_int64)d || d < INT32_MIN || d > INT32_MAX)
			return -1;
		i = (sqlite3_int64)d;
		break;
	default:
		return -1;
	}
	if (i < INT32_MIN || i > INT32_MAX)
		return -1;
	*out = (int)i;
	return 0;
}

/* add_workdays(date, n). */
static void sqlfuncs_add_workdays(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char date[11], out[11];
	int n;

	(void)argc;
	if (sqlfuncs_date(argv[0], date) < 0 || sqlfuncs_int(argv[1], &n) < 0 ||
	    workdays_add(date, n, out) < 0)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

/* workdays_between(a, b). */
static void sqlfuncs_workdays_between(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char a[11], b[11];
	int n;

	(void)argc;
	if (sqlfuncs_date(argv[0], a) < 0 || sqlfuncs_date(argv[1], b) < 0 ||
	    workdays_between(a, b, &n) < 0)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int(ctx, n);
}

/* 1 if item is one of the comma-separated elements of list, blanks around
 * each element ignored (stored lists are written "a,b" but typed "a, b"). */
static int sqlfuncs_list_has(const char *list, const char *item)
{
	size_t ilen = strlen(item);
	const char *p = list;

	for (;;) {
		const char *end = strchr(p, ','), *q;

		if (!end)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		q = end;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if ((size_t)(q - p) == ilen && memcmp(p, item, ilen) == 0)
			return 1;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

/* has_item(list, item). */
static void sqlfuncs_has_item(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *list = sqlfuncs_text(argv[0]), *item;

	(void)argc;
	item = sqlfuncs_text(argv[1]);
	sqlite3_result_int(ctx, list && item && sqlfuncs_list_has(list, item));
}

static int sqlfuncs_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads one attribute value at *pp (RFC 4514: escapes "\," and "\xx",
 * or a quoted string) into out, stopping at the separator; unescaped
 * trailing blanks are dropped. */
static void sqlfuncs_dn_value(const char **pp, char *out)
{
	const char *p = *pp;
	size_t n = 0, keep = 0;
	int quoted = *p == '"';

	if (quoted)
		p++;
	while (*p) {
		if (quoted ? *p == '"' : (*p == ',' || *p == '+' || *p == ';'))
			break;
		if (*p == '\\' && p[1]) {
			int hi = sqlfuncs_hex(p[1]), lo = hi >= 0 ? sqlfuncs_hex(p[2]) : -1;

			if (lo >= 0) {
				out[n++] = (char)(hi * 16 + lo);
				p += 3;
			} else {
				out[n++] = p[1];
				p += 2;
			}
			keep = n;
			continue;
		}
		out[n++] = *p;
		if (quoted || *p != ' ')
			keep = n;
		p++;
	}
	if (quoted && *p == '"') {
		p++;
		while (*p == ' ')
			p++;
	}
	out[keep] = '\0';
	*pp = p;
}

/* The first value of attribute name in dn, malloc'd; NULL if absent. */
static char *sqlfuncs_dn_find(const char *dn, const char *name, int *oom)
{
	char *val = malloc(strlen(dn) + 1);
	const char *p = dn;

	*oom = !val;
	if (!val)
		return NULL;
	while (*p) {
		const char *type, *tend;

		while (*p == ' ')
			p++;
		type = p;
		while (*p && *p != '=' && *p != ',' && *p != '+' && *p != ';')
			p++;
		if (*p != '=')
			break;
		tend = p++;
		while (tend > type && tend[-1] == ' ')
			tend--;
		while (*p == ' ')
			p++;
		sqlfuncs_dn_value(&p, val);
		if ((size_t)(tend - type) == strlen(name) &&
		    strncasecmp(type, name, (size_t)(tend - type)) == 0)
			return val;
		if (*p)
			p++;
	}
	free(val);
	return NULL;
}

/* dn_attr(dn, name). */
static void sqlfuncs_dn_attr(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *dn = sqlfuncs_text(argv[0]), *name;
	char *v;
	int oom;

	(void)argc;
	name = sqlfuncs_text(argv[1]);
	if (!dn || !name || !*name) {
		sqlite3_result_null(ctx);
		return;
	}
	v = sqlfuncs_dn_find(dn, name, &oom);
	if (v)
		sqlite3_result_text(ctx, v, -1, free);
	else if (oom)
		sqlite3_result_error_nomem(ctx);
	else
		sqlite3_result_null(ctx);
}

struct sqlfuncs_def {
	const char *name; /* as rules write it */
	int nargs;
	void (*fn)(sqlite3_context *, int, sqlite3_value **);
	const void *data; /* sqlite3_user_data, or NULL */
};

static const struct sqlfuncs_def sqlfuncs_defs[] = {
	{"uscc_valid", 1, sqlfuncs_check_fn, &sqlfuncs_uscc},
	{"resident_id_valid", 1, sqlfuncs_check_fn, &sqlfuncs_resident},
	{"org_code_valid", 1, sqlfuncs_check_fn, &sqlfuncs_org},
	{"id_valid", 2, sqlfuncs_id_valid, NULL},
	{"add_workdays", 2, sqlfuncs_add_workdays, NULL},
	{"workdays_between", 2, sqlfuncs_workdays_between, NULL},
	{"has_item", 2, sqlfuncs_has_item, NULL},
	{"dn_attr", 2, sqlfuncs_dn_attr, NULL},
	{"mask_name", 1, sqlfuncs_mask_fn, &sqlfuncs_mname},
	{"mask_id", 1, sqlfuncs_mask_fn, &sqlfuncs_mid},
};

int sqlfuncs_register(sqlite3 *db, struct err *e)
{
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	size_t i;

	for (i = 0; i < sizeof sqlfuncs_defs / sizeof sqlfuncs_defs[0]; i++) {
		const struct sqlfuncs_def *d = &sqlfuncs_defs[i];

		if (sqlite3_create_function_v2(db, d->name, d->nargs, flags, (void *)d->data,
					       d->fn, NULL, NULL, NULL) != SQLITE_OK)
			return err_set(e, CA_EDB, NULL, 0, 0, "unable to register SQL function '%s': %s",
				       d->name, sqlite3_errmsg(db));
	}
	return 0;
}
