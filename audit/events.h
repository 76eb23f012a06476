/*
 * events.h — the rules of DESIGN §5 for one RA event, for every event source
 * (the CSV source uses it; the JSON Lines source can, once it has checked the
 * JSON types).
 *
 * A source fills struct event_rec with the text it read — `at` already
 * normalised to UTC, because only the source knows its time format; lists
 * comma separated — and the applicant fields into struct app_rec.
 * events_validate then checks the kind, the fields the kind requires, the
 * enumerated values and list items, and normalises what the store expects:
 * serials to OpenSSL's uppercase hex, identity numbers to upper case, sha256
 * to lower case, lists without spaces or repeats. An empty string counts as
 * absent, except in a list the kind requires, where "" is a list with no
 * items (a `notice` that lists nothing is evidence, not an unreadable line).
 */
#ifndef CA_EVENTS_H
#define CA_EVENTS_H

#include <stddef.h>

#include "records.h"

/* The fields of §5 an event kind may require, as bits. */
enum {
	EV_APP = 1 << 0, EV_SERIAL = 1 << 1, EV_METHOD = 1 << 2, EV_RESULT = 1 << 3,
	EV_REASON = 1 << 4, EV_ITEMS = 1 << 5, EV_CPS = 1 << 6, EV_NEW_SERIAL = 1 << 7,
	EV_RECIPIENT = 1 << 8, EV_APPLICANT = 1 << 9, EV_CERT_TYPE = 1 << 10
};

/* The vocabulary of §5, shared by every event source so that they accept
 * and reject the same things. Lists of names are NULL-terminated. */
struct events_kind {
	const char *name;  /* "apply", ... */
	unsigned required; /* EV_* bits */
};
extern const struct events_kind events_kinds[];
extern const size_t events_n_kinds;
extern const char *const events_applicant_types[], *const events_id_types[],
	*const events_sectors[], *const events_channels[], *const events_methods[],
	*const events_results[], *const events_reasons[], *const events_notice_items[],
	*const events_cover_items[];

/* Helpers for sources that check some of §5 themselves (the JSON Lines
 * source checks as it reads each JSON value), so that the two agree on
 * names, messages and normal forms. */

/* Whether s is one of names. */
int events_in_list(const char *s, const char *const *names);

/* names joined with ", " into buf (n bytes), for a message. */
void events_join_names(const char *const *names, char *buf, size_t n);

/* The kind named s; NULL when there is none, with every kind's name joined
 * into names (n bytes) for the message. */
const struct events_kind *events_kind(const char *s, char *names, size_t n);

/* A serial in hex (already checked: one or more hex digits) as OpenSSL
 * prints it: uppercase, whole bytes, no leading zero bytes, so that the
 * log and the certificate agree. Newly allocated; NULL out of memory. */
char *events_serial(const char *hex);

/* The same written into out, which holds strlen(hex) + 2 bytes; returns out.
 * For a caller with its own space, such as a log line's buffer. */
char *events_serial_into(const char *hex, char *out);

/* The dotted names of a party's fields for messages, in the order type,
 * name, id_type, id; key is "applicant" or "recipient". */
const char *const *events_party_fields(const char *key);

/* Validates and normalises ev and, for `apply`, app (whose app and
 * applied_at it sets from ev). For other kinds app is cleared, so that a
 * source stores an application exactly when app->app is set afterwards.
 * Returns 0, or -1 with a reason naming the field (dotted for nested fields:
 * applicant.name) and what was expected written to why. Neither record
 * changes owner. */
int events_validate(struct event_rec *ev, struct app_rec *app, char *why, size_t n);

/* The canonical field names a source may fill, NULL-terminated: at, kind,
 * app, serial, ..., applicant.type, ..., recipient.id. */
extern const char *const events_fields[];

/* Where field (one of events_fields) lives in ev or app; NULL if unknown. */
char **events_field(struct event_rec *ev, struct app_rec *app, const char *field);
/* The same in two steps, for a source that maps the same fields row after
 * row: field's index in events_fields (-1 if unknown), and where the field
 * of that index lives. */
int events_field_index(const char *field);
char **events_slot(struct event_rec *ev, struct app_rec *app, int index);

/* Is field a list (items, covers)? */
int events_is_list(const char *field);

#endif
