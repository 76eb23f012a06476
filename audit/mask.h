/*
 * mask.h — masking personal data in every output unless --reveal.
 *
 * mask_name keeps the first character (the surname) and replaces each other
 * character with '*': "张三丰" → "张**"; a one-character name becomes "*".
 * mask_id keeps the first 4 and last 4 characters and stars the rest:
 * "110101199003071234" → "1101**********1234"; 8 characters or fewer are
 * starred whole. Both are UTF-8 aware (a character is a code point).
 * Results are malloc'd and owned by the caller; NULL in gives NULL out.
 */
#ifndef CA_MASK_H
#define CA_MASK_H

char *mask_name(const char *s);
char *mask_id(const char *s);

/* Which evidence fields hold personal data: returns 'n' for names
 * (applicant_name, recipient_name, cn of an individual...), 'i' for identity
 * numbers (applicant_id, recipient_id, id_number), 0 otherwise. */
int mask_field_kind(const char *field);
/* Masks value according to field's kind; a copy when the field is not
 * personal. */
char *mask_field(const char *field, const char *value);

#endif
