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

/* Is field a list (items, covers)? */
int events_is_list(const char *field);

#endif
