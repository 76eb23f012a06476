/*
 * x509_int.h — what the certificate reader's files share; private to
 * x509.c (the Certificate and TBSCertificate, times, serial, key),
 * x509_str.c (OID names, strings, names) and x509_ext.c (extensions and
 * identity numbers). Nothing outside audit/x509*.c includes it: x509.h is
 * the reader's interface.
 *
 * Every struct der_tlv, and every pointer the structs below hold into a
 * certificate, is borrowed from the caller's DER buffer for as long as that
 * buffer lives; what is owned is said where it is.
 */
#ifndef CA_X509_INT_H
#define CA_X509_INT_H

#include <stddef.h>
#include <string.h>

#include <openssl/asn1.h>

#include "config.h"
#include "der.h"
#include "err.h"
#include "records.h"
#include "x509.h"

/* Whether an OBJECT IDENTIFIER element t has the contents arr (an array). */
#define X509_OID_IS(t, arr) \
	((t)->len == sizeof(arr) && memcmp((t)->p, (arr), sizeof(arr)) == 0)

/* One attribute of a Name, in DER order. */
struct x509_name_ent {
	struct der_tlv oid;
	struct der_tlv val;
	int set; /* index of its RelativeDistinguishedName */
};

struct x509_name {
	struct x509_name_ent *v; /* owned */
	size_t n;
};

/* An extension the reader has no column for, kept for identity lookups. */
struct x509_other_ext {
	struct der_tlv oid;
	const unsigned char *val; /* the extnValue's contents */
	size_t len;
};

#define X509_MAX_OTHER_EXT 32

/* What the extension walk collects besides the record's columns. */
struct x509_ext_state {
	struct x509_other_ext other[X509_MAX_OTHER_EXT];
	size_t n_other;
	char *san_email; /* owned: first rfc822Name; the caller frees it */
};

/* Every element is read by ASN1_get_object's rules (DER_BER), as the reader
 * always has: high tag numbers and non-minimal lengths pass, indefinite
 * lengths do not. Inline because the reader calls these for every element. */
static inline int x509_tlv_next(const unsigned char **pp, const unsigned char *end,
				struct der_tlv *t)
{
	return der_next(pp, end, DER_BER, t);
}

/* As x509_tlv_next, and the element must be a universal tag (or context tag
 * when cls is V_ASN1_CONTEXT_SPECIFIC) with the given number. */
static inline int x509_tlv_expect(const unsigned char **pp, const unsigned char *end, int cls,
				  int tag, struct der_tlv *t)
{
	if (x509_tlv_next(pp, end, t) < 0 || t->cls != cls || t->tag != tag)
		return -1;
	return 0;
}

/* As x509_tlv_next, and the element must be a constructed SEQUENCE. */
static inline int x509_tlv_seq(const unsigned char **pp, const unsigned char *end,
			       struct der_tlv *t)
{
	return x509_tlv_expect(pp, end, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, t) < 0 || !t->cons
		? -1 : 0;
}

/* ---- x509_str.c ---- */

/* Dotted text of an OBJECT IDENTIFIER's contents into out[n]; -1 when
 * malformed or too long. */
int x509_oid_text(const unsigned char *p, size_t len, char *out, size_t n);
/* OpenSSL's short (or, with longname, long) name for an OID element, else
 * its dotted text, else "?", into out[n]. */
void x509_oid_name(const struct der_tlv *oid, int longname, char *out, size_t n);
/* The name an attribute type prints under in a DN ("CN", "emailAddress",
 * OpenSSL's short name, or dotted text), into out[n]. */
void x509_attr_name(const struct der_tlv *oid, char *out, size_t n);

/* Bytes per character of a universal string tag; 0 = UTF-8, -1 = not text. */
int x509_str_width(const struct der_tlv *v);
/* A string value as UTF-8 (a value that is not text as '#' and its DER in
 * hex); malloc'd, owned by the caller; NULL when out of memory. */
char *x509_str_dup(const struct der_tlv *v);

/* Splits the contents of a Name SEQUENCE into nm's entries. nm may hold
 * entries on failure too: x509_name_free it either way. */
int x509_name_parse(const struct der_tlv *seq, struct x509_name *nm);
/* Frees nm's entries and zeroes it. */
void x509_name_free(struct x509_name *nm);
/* RFC 4514 text (the last RDN first, '+' inside an RDN), as x509_name_text
 * writes it; malloc'd, owned by the caller; NULL when out of memory. */
char *x509_name_string(const struct x509_name *nm);
/* Sets out's cn, o, ou, c, st, l and email (owned by out) to the first value
 * of each in the subject nm; -1 when out of memory. */
int x509_subject_fields(const struct x509_name *nm, struct cert_rec *out);

/* ---- x509_ext.c ---- */

/* Walks [3] EXPLICIT Extensions (tagged), filling out's extension columns
 * and keeping in xs the extensions with no column and the first SAN email.
 * -1 with e set (CA_EINPUT) when an extension is malformed; xs->san_email
 * is the caller's to free either way. */
int x509_extensions_parse(const struct der_tlv *tagged, struct cert_rec *out,
			  struct x509_ext_state *xs, struct err *e);
/* Sets out->id_number and out->id_type (owned by out) from the first of ids
 * found in xs's extensions or the subject subj; nothing when none is.
 * -1 when out of memory. */
int x509_identity_find(const struct identity_loc *ids, size_t n_ids,
		       const struct x509_name *subj, const struct x509_ext_state *xs,
		       struct cert_rec *out);

#endif
