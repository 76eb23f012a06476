/*
 * records.h — the records that sources produce and the store keeps.
 *
 * Every char * field is owned by the record (malloc'd, NUL-terminated UTF-8)
 * or NULL for "absent"; the *_clear functions free them all and zero the
 * record so that it can be filled again. Times are UTC "YYYY-MM-DD HH:MM:SS".
 * Serials are uppercase hex, even length, as OpenSSL prints them. Identity
 * numbers are trimmed and uppercased (a trailing x becomes X) by the source
 * before they reach the store. Lists (items, covers, key_usage, policies...)
 * are comma separated with no spaces.
 */
#ifndef CA_RECORDS_H
#define CA_RECORDS_H

/* One certificate: the columns of DESIGN §6 `certificate`. */
struct cert_rec {
	char *serial;            /* "0A1B2C" */
	char *issuer;            /* RFC 4514, UTF-8 */
	char *subject;           /* RFC 4514, UTF-8 */
	char *cn, *o, *ou, *c, *st, *l, *email; /* first value of each subject attribute */
	char *id_type;           /* resident_id | uscc | org_code | other, from the identity config */
	char *id_number;         /* normalised identity number */
	char *not_before;        /* UTC */
	char *not_after;         /* UTC */
	char *sig_alg;           /* "SM2-with-SM3", "sha256WithRSAEncryption", ... */
	char *key_alg;           /* "SM2", "RSA", "EC", or the OID */
	int key_bits;            /* 256 for SM2, modulus bits for RSA */
	char *key_usage;         /* "digitalSignature,nonRepudiation" */
	char *ext_key_usage;     /* "clientAuth,emailProtection" or OIDs */
	char *policies;          /* "2.16.344.8.2.2008.810.2,1.2.3" */
	char *crl_dp;            /* URIs */
	char *ocsp;              /* URIs */
	int is_ca;               /* basicConstraints cA */
	char *status;            /* valid | revoked | expired, as the source says; NULL if it says nothing */
	char *revoked_at;        /* UTC */
	char *revocation_reason; /* "keyCompromise", ... as the source says */
	char *sha256;            /* lowercase hex of the DER */
	char *source;            /* file the certificate came from */
};

/* One RA event: the columns of DESIGN §6 `event`. */
struct event_rec {
	char *at;                /* UTC */
	char *kind;              /* apply, notice, accept, ... (DESIGN §5) */
	char *app, *serial, *actor, *method, *result, *reason;
	char *items, *covers;    /* comma-separated lists */
	char *cps_version, *contract, *new_serial;
	char *recipient_name, *recipient_id_type, *recipient_id;
	char *sha256;
	char *source;            /* file */
	long line;               /* 1-based line in source */
};

/* One application, from its `apply` event. */
struct app_rec {
	char *app;
	char *applicant_type;    /* individual | organization | government */
	char *applicant_name;
	char *applicant_id_type; /* resident_id | uscc | org_code | passport | hk_id | other */
	char *applicant_id;
	char *cert_type, *sector, *channel;
	char *applied_at;        /* UTC */
};

void cert_rec_clear(struct cert_rec *r);
void event_rec_clear(struct event_rec *r);
void app_rec_clear(struct app_rec *r);

/* A growable list of owned strings. */
struct strlist {
	char **v;   /* owned, each owned */
	size_t n;
	size_t cap;
};

int strlist_push(struct strlist *l, const char *s); /* copies s; -1 on ENOMEM */
void strlist_free(struct strlist *l);               /* frees items, zeroes l */

/* strdup that accepts NULL. */
char *xstrdup(const char *s);
/* Replaces *dst (freeing it) with a copy of s. */
void set_str(char **dst, const char *s);
/* Uppercases ASCII letters in place and trims surrounding white space. */
void normalise_id(char *s);

#endif
