/*
 * evtext.h — a finding's evidence, stored as a JSON object, as the reports
 * show it: "k=v; k=v" in the object's order, the values of personal fields
 * (mask_field: names, identity numbers) masked unless revealed, null as
 * empty; evidence that is not an object shows as "（证据无法解析）" (or as
 * stored, when revealed: it may hold personal data).
 *
 * One evtext renders many objects in turn, reusing its buffers and what it
 * learnt of each key's mask kind: a report streams a million findings.
 */
#ifndef CA_EVTEXT_H
#define CA_EVTEXT_H

struct evtext;

/* A renderer; reveal: no masking. NULL when memory ran out. Owned by the
 * caller (evtext_free). */
struct evtext *evtext_new(int reveal);

/* json as text, or NULL when memory ran out. The text is owned by t and
 * valid until its next rendering. */
const char *evtext_render(struct evtext *t, const char *json);

void evtext_free(struct evtext *t); /* accepts NULL */

#endif
