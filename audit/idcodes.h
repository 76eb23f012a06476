/*
 * idcodes.h — Chinese identity numbers: validation and check digits.
 *
 * resident_id: GB 11643-1999, 18 characters, ISO 7064 MOD 11-2 check
 *   character (0-9 or X), a real birth date, region code not 000000.
 * uscc: GB 32100-2015 统一社会信用代码, 18 characters over the 31-character
 *   alphabet 0-9 A-H J-N P-R T U W-Y, MOD 31 check character; the embedded
 *   organisation code (characters 9-17) must itself be valid.
 * org_code: GB 11714-1997, 8 characters + check character (0-9 or X), written
 *   with or without the hyphen ("12345678-9" or "123456789").
 * Comparisons are case-insensitive: a trailing lowercase x is accepted.
 * Nothing here allocates; every function is pure and thread-safe.
 */
#ifndef CA_IDCODES_H
#define CA_IDCODES_H

#include <stddef.h>

int resident_id_valid(const char *s);
int uscc_valid(const char *s);
int org_code_valid(const char *s);
/* By id_type: resident_id, uscc, org_code are checked; passport, hk_id and
 * other must be non-empty printable text; an unknown type is invalid. */
int id_valid(const char *type, const char *s);

/* Check characters, for generators and tests: given the first 17 (resident
 * id, uscc) or 8 (org code) characters, return the check character, or 0 if
 * the input is not well formed. */
char resident_id_check(const char *first17);
char uscc_check(const char *first17);
char org_code_check(const char *first8);

#endif
