/*
 * events.c — DESIGN §5's rules for one RA event, independent of the format
 * it was read from; see events.h. The messages are those of the JSON Lines
 * reader (src_jsonl.c) so that a user sees the same reason for the same
 * mistake whichever format their RA exports.
 */
#include "events.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct events_kind events_kinds[] = {
	{"apply", EV_APP | EV_APPLICANT | EV_CERT_TYPE},
	{"notice", EV_APP | EV_ITEMS},
	{"accept", EV_APP},
	{"identity_verify", EV_APP | EV_METHOD | EV_RESULT},
	{"review", EV_APP | EV_RESULT},
	{"contract", EV_APP | EV_CPS},
	{"issue", EV_APP | EV_SERIAL},
	{"deliver", EV_APP | EV_SERIAL | EV_RECIPIENT},
	{"renew_request", EV_SERIAL},
	{"renew", EV_SERIAL | EV_NEW_SERIAL},
	{"revoke_request", EV_SERIAL | EV_REASON},
	{"revoke", EV_SERIAL | EV_REASON},
	{"archive", EV_APP},
	{"purge", EV_APP},
};
const size_t events_n_kinds = sizeof events_kinds / sizeof *events_kinds;

const char *const events_applicant_types[] = {"individual", "organization", "government",
					      NULL};
const char *const events_id_types[] = {"resident_id", "uscc", "org_code", "passport",
				       "hk_id", "other", NULL};
const char *const events_sectors[] = {"commercial", "egov-public", "egov-government", NULL};
const char *const events_channels[] = {"counter", "online", "agent", NULL};
const char *const events_methods[] = {"face_to_face", "public_security", "video",
				      "bank_card", "document_only", "other", NULL};
const char *const events_results[] = {"pass", "fail", NULL};
const char *const events_reasons[] = {"key_compromise", "lost", "holder_request",
				      "info_changed", "contract_breach", "other", NULL};
const char *const events_notice_items[] = {"usage_conditions", "fees", "personal_info",
					   "ca_liability", "holder_liability", NULL};
const char *const events_cover_items[] = {"rights", "obligations", NULL};

const char *const events_fields[] = {
	"at", "kind", "app", "serial", "actor", "method", "result", "reason", "items",
	"covers", "cps_version", "contract", "new_serial", "recipient.name",
	"recipient.id_type", "recipient.id", "sha256", "applicant.type", "applicant.name",
	"applicant.id_type", "applicant.id", "cert_type", "sector", "channel", NULL};

int events_field_index(const char *field)
{
	for (int i = 0; events_fields[i]; i++)
		if (!strcmp(field, events_fields[i]))
			return i;
	return -1;
}

char **events_slot(struct event_rec *ev, struct app_rec *app, int index)
{
	char **const slots[] = {
		&ev->at, &ev->kind, &ev->app, &ev->serial, &ev->actor, &ev->method,
		&ev->result, &ev->reason, &ev->items, &ev->covers, &ev->cps_version,
		&ev->contract, &ev->new_serial, &ev->recipient_name, &ev->recipient_id_type,
		&ev->recipient_id, &ev->sha256, &app->applicant_type, &app->applicant_name,
		&app->applicant_id_type, &app->applicant_id, &app->cert_type, &app->sector,
		&app->channel};

	return index >= 0 && (size_t)index < sizeof slots / sizeof *slots ? slots[index] : NULL;
}

char **events_field(struct event_rec *ev, struct app_rec *app, const char *field)
{
	return events_slot(ev, app, events_field_index(field));
}

int events_is_list(const char *field)
{
	return !strcmp(field, "items") || !strcmp(field, "covers");
}

/* What is being validated, and where the reason goes. */
struct val {
	struct event_rec *ev;
	struct app_rec *app;
	const struct events_kind *kind;
	char *why;
	size_t n;
};

static int bad(struct val *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct val *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->why, v->n, fmt, ap);
	va_end(ap);
	return -1;
}

void events_join_names(const char *const *names, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", names[i]);
}

int events_in_list(const char *s, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return 1;
	return 0;
}

/* Names joined only for a message: a source checks millions of events. */
const struct events_kind *events_kind(const char *s, char *names, size_t n)
{
	size_t used = 0;

	for (size_t i = 0; i < events_n_kinds; i++)
		if (!strcmp(s, events_kinds[i].name))
			return &events_kinds[i];
	names[0] = '\0';
	for (size_t i = 0; i < events_n_kinds && used < n; i++)
		used += (size_t)snprintf(names + used, n - used, "%s%s", i ? ", " : "",
					 events_kinds[i].name);
	return NULL;
}

char *events_serial_into(const char *hex, char *out)
{
	char *q = out;

	while (hex[0] == '0' && hex[1])
		hex++;
	if (strlen(hex) % 2)
		*q++ = '0';
	while (*hex)
		*q++ = (char)toupper((unsigned char)*hex++);
	*q = '\0';
	return out;
}

char *events_serial(const char *hex)
{
	char *out = malloc(strlen(hex) + 2);

	return out ? events_serial_into(hex, out) : NULL;
}

const char *const *events_party_fields(const char *key)
{
	static const char *const fields[][4] = {
		{"applicant.type", "applicant.name", "applicant.id_type", "applicant.id"},
		{"recipient.type", "recipient.name", "recipient.id_type", "recipient.id"},
	};

	return fields[strcmp(key, "applicant") != 0];
}

/* Trims *s in place; an empty or blank value becomes absent. */
static void blank_is_absent(char **s)
{
	char *p, *end;

	if (!*s)
		return;
	for (p = *s; isspace((unsigned char)*p); p++)
		;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	memmove(*s, p, (size_t)(end - p));
	(*s)[end - p] = '\0';
	if (!**s) {
		free(*s);
		*s = NULL;
	}
}

static int need(struct val *v, char **s, const char *name, int required)
{
	blank_is_absent(s);
	if (!*s && required)
		return bad(v, "missing required field '%s' for kind '%s'", name, v->kind->name);
	return 0;
}

static int check_enum(struct val *v, char **s, const char *name, int required,
		      const char *const *allowed)
{
	char names[256];

	if (need(v, s, name, required))
		return -1;
	if (*s && !events_in_list(*s, allowed)) {
		events_join_names(allowed, names, sizeof names);
		return bad(v, "field '%s': expected one of %s, found '%s'", name, names, *s);
	}
	return 0;
}

/* Items stored comma separated, without spaces or repeats, in the order
 * given. */
static int check_list(struct val *v, char **s, const char *name, int required,
		      const char *const *allowed)
{
	char names[256], out[256] = "", item[128];
	size_t used = 0;

	if (*s && !**s && !required) {
		/* an empty cell on a kind without this list says nothing */
		free(*s);
		*s = NULL;
	}
	if (!*s)
		return required ? bad(v, "missing required field '%s' for kind '%s'", name,
				      v->kind->name) : 0;
	for (const char *p = *s; *p;) {
		size_t len = strcspn(p, ",");
		const char *a = p, *b = p + len;

		p = *b ? b + 1 : b;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (a == b)
			continue;
		snprintf(item, sizeof item, "%.*s", (int)(b - a), a);
		if (!events_in_list(item, allowed)) {
			events_join_names(allowed, names, sizeof names);
			return bad(v, "field '%s': unknown item '%s' (expected any of: %s)", name,
				   item, names);
		}
		size_t n = strlen(item);
		int dup = 0;
		for (const char *q = out; *q; q = strchr(q, ',') ? strchr(q, ',') + 1 : "")
			if (!strncmp(q, item, n) && (q[n] == ',' || !q[n]))
				dup = 1;
		if (!dup)
			used += (size_t)snprintf(out + used, sizeof out - used, "%s%s",
						 used ? "," : "", item);
	}
	set_str(s, out);
	return 0;
}

/* A serial as OpenSSL prints it: uppercase hex, whole bytes, no leading
 * zero bytes, so that the log and the certificate agree. */
static int check_serial(struct val *v, char **s, const char *name, int required)
{
	const char *p;
	char *out;

	if (need(v, s, name, required))
		return -1;
	if (!*s)
		return 0;
	for (p = *s; *p && isxdigit((unsigned char)*p); p++)
		;
	if (*p)
		return bad(v, "field '%s': expected a certificate serial in hex, found '%s'",
			   name, *s);
	if (!(out = events_serial(*s)))
		return bad(v, "out of memory");
	free(*s);
	*s = out;
	return 0;
}

static int check_sha256(struct val *v)
{
	char **s = &v->ev->sha256;
	size_t n = 0;

	blank_is_absent(s);
	if (!*s)
		return 0;
	while (isxdigit((unsigned char)(*s)[n]))
		n++;
	if (n != 64 || (*s)[n])
		return bad(v, "field 'sha256': expected 64 hex digits, found '%s'", *s);
	for (char *p = *s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* {name, id_type, id} and, for the applicant, type: all or nothing, and all
 * when required. */
static int check_party(struct val *v, const char *key, int required, char **type,
		       char **name, char **id_type, char **id)
{
	const char *const *f = events_party_fields(key);
	int any;

	blank_is_absent(name);
	blank_is_absent(id_type);
	blank_is_absent(id);
	if (type)
		blank_is_absent(type);
	any = *name || *id_type || *id || (type && *type);
	if (!any && !required)
		return 0;
	if ((type && check_enum(v, type, f[0], 1, events_applicant_types)) ||
	    need(v, name, f[1], 1) || check_enum(v, id_type, f[2], 1, events_id_types) ||
	    need(v, id, f[3], 1))
		return -1;
	normalise_id(*id);
	return 0;
}

static int check_kind(struct val *v)
{
	char names[512];

	blank_is_absent(&v->ev->kind);
	if (!v->ev->kind)
		return bad(v, "missing required field 'kind'");
	if ((v->kind = events_kind(v->ev->kind, names, sizeof names)))
		return 0;
	return bad(v, "unknown kind '%s' (expected one of: %s)", v->ev->kind, names);
}

static int check_application(struct val *v)
{
	struct app_rec *a = v->app;
	unsigned req = v->kind->required;

	if (strcmp(v->kind->name, "apply")) {
		app_rec_clear(a);
		return 0;
	}
	if (check_party(v, "applicant", !!(req & EV_APPLICANT), &a->applicant_type,
			&a->applicant_name, &a->applicant_id_type, &a->applicant_id) ||
	    need(v, &a->cert_type, "cert_type", !!(req & EV_CERT_TYPE)) ||
	    check_enum(v, &a->sector, "sector", 0, events_sectors) ||
	    check_enum(v, &a->channel, "channel", 0, events_channels))
		return -1;
	set_str(&a->app, v->ev->app);
	set_str(&a->applied_at, v->ev->at);
	return 0;
}

int events_validate(struct event_rec *ev, struct app_rec *app, char *why, size_t n)
{
	struct val v = {.ev = ev, .app = app, .why = why, .n = n};
	unsigned req;

	if (check_kind(&v))
		return -1;
	blank_is_absent(&ev->at);
	if (!ev->at)
		return bad(&v, "missing required field 'at'");
	req = v.kind->required;
	if (need(&v, &ev->app, "app", !!(req & EV_APP)) ||
	    check_serial(&v, &ev->serial, "serial", !!(req & EV_SERIAL)) ||
	    check_serial(&v, &ev->new_serial, "new_serial", !!(req & EV_NEW_SERIAL)) ||
	    need(&v, &ev->actor, "actor", 0) ||
	    check_enum(&v, &ev->method, "method", !!(req & EV_METHOD), events_methods) ||
	    check_enum(&v, &ev->result, "result", !!(req & EV_RESULT), events_results) ||
	    check_enum(&v, &ev->reason, "reason", !!(req & EV_REASON), events_reasons) ||
	    check_list(&v, &ev->items, "items", !!(req & EV_ITEMS), events_notice_items) ||
	    check_list(&v, &ev->covers, "covers", 0, events_cover_items) ||
	    need(&v, &ev->cps_version, "cps_version", !!(req & EV_CPS)) ||
	    need(&v, &ev->contract, "contract", 0) ||
	    check_party(&v, "recipient", !!(req & EV_RECIPIENT), NULL, &ev->recipient_name,
			&ev->recipient_id_type, &ev->recipient_id) ||
	    check_sha256(&v))
		return -1;
	return check_application(&v);
}
