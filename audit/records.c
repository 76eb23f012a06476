/*
 * records.c — freeing records and the small string helpers; see records.h.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

#define FREE_FIELDS(r, ...)                                         \
	do {                                                        \
		char **fields_[] = {__VA_ARGS__};                   \
		for (size_t i_ = 0; i_ < sizeof fields_ / sizeof *fields_; i_++) \
			free(*fields_[i_]);                         \
		memset((r), 0, sizeof *(r));                        \
	} while (0)

void cert_rec_clear(struct cert_rec *r)
{
	FREE_FIELDS(r, &r->serial, &r->issuer, &r->subject, &r->cn, &r->o, &r->ou,
		    &r->c, &r->st, &r->l, &r->email, &r->id_type, &r->id_number,
		    &r->not_before, &r->not_after, &r->sig_alg, &r->key_alg,
		    &r->key_usage, &r->ext_key_usage, &r->policies, &r->crl_dp,
		    &r->ocsp, &r->status, &r->revoked_at, &r->revocation_reason,
		    &r->sha256, &r->source);
}

void event_rec_clear(struct event_rec *r)
{
	FREE_FIELDS(r, &r->at, &r->kind, &r->app, &r->serial, &r->actor, &r->method,
		    &r->result, &r->reason, &r->items, &r->covers, &r->cps_version,
		    &r->contract, &r->new_serial, &r->recipient_name,
		    &r->recipient_id_type, &r->recipient_id, &r->sha256, &r->source);
}

void app_rec_clear(struct app_rec *r)
{
	FREE_FIELDS(r, &r->app, &r->applicant_type, &r->applicant_name,
		    &r->applicant_id_type, &r->applicant_id, &r->cert_type,
		    &r->sector, &r->channel, &r->applied_at);
}

int strlist_push(struct strlist *l, const char *s)
{
	char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return -1;
	l->v[l->n++] = copy;
	return 0;
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

void normalise_id(char *s)
{
	size_t start = 0, len;

	if (!s)
		return;
	while (s[start] == ' ' || s[start] == '\t')
		start++;
	len = strlen(s + start);
	memmove(s, s + start, len + 1);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
		       s[len - 1] == '\r' || s[len - 1] == '\n'))
		s[--len] = '\0';
	for (char *p = s; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}
