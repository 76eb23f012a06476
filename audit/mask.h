/*
 * mask.h — masking personal data in every output unless --reveal.
 *
 * mask_name keeps the first character (the surname) and replaces each other
 * character with '*': "张三丰" → "张**"; a one-character name becomes "*".
 * mask_id keeps the first 4 and last 4 characters and stars the rest:
 * "110101199003071234" → "1101**********1234"; 8 characters or fewer are
 * starred whole. Both are UTF-8 aware (a character is a code point).
 * Results are malloc'd and owned by the caller; NULL in gives NULL out (and
 * NULL when memory runs out).
 */
#ifndef CA_MASK_H
#define CA_MASK_H

char *mask_name(const char *s);
char *mask_id(const char *s);

/* Which evidence fields hold personal data (names compared ignoring case):
 *   'n' names: applicant_name, recipient_name, cn (an organisation's cn is
 *       masked too: a field name cannot tell individuals apart, and
 *       over-masking is the safe side);
 *   'i' identity numbers: applicant_id, recipient_id, id_number, id;
 *   'd' a distinguished name: subject (see mask_dn);
 *   0 otherwise (issuer, o, serial, app, times... are not personal). */
int mask_field_kind(const char *field);
/* Masks value according to field's kind; a copy when the field is not
 * personal. */
char *mask_field(const char *field, const char *value);

/* An RFC 4514 DN with the values of its personal attributes masked: CN,
 * SN (surname) and GN (givenName) as names, serialNumber as an identity
 * number; other attributes, separators and escapes are kept as written.
 * "CN=张三,serialNumber=110101199003071234,C=CN" →
 * "CN=张*,serialNumber=1101**********1234,C=CN". A hex (#...) value of a
 * personal attribute is starred whole. */
char *mask_dn(const char *dn);

#endif
