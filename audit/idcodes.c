/*
 * idcodes.c — check characters and validity of Chinese identity numbers:
 * the resident identity number (GB 11643-1999), the unified social credit
 * code (GB 32100-2015) and the organisation code (GB 11714-1997).
 *
 * Applications and certificates carry these numbers as free text typed at a
 * counter, so the validators accept any letter case; everything else is
 * strict, because a wrong check character is exactly the finding rules want.
 * The USCC's first two characters (registration authority and category) are
 * only checked against the alphabet: the authorities have added codes since
 * 2015 and a stale list would raise false findings.
 */
#include "idcodes.h"

#include <ctype.h>
#include <string.h>

static const int resident_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char resident_checks[] = "10X98765432";

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int uscc_weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

static const int org_weights[8] = {3, 7, 9, 10, 5, 8, 4, 2};

/* Value of c in the USCC alphabet, or -1. */
static int idcodes_uscc_value(char c)
{
	const char *p;

	c = (char)toupper((unsigned char)c);
	if (c == '\0')
		return -1;
	p = strchr(uscc_alphabet, c);
	return p ? (int)(p - uscc_alphabet) : -1;
}

/* Value of c in the organisation code alphabet 0-9 A-Z (A = 10), or -1. */
static int idcodes_org_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)toupper((unsigned char)c);
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

static int idcodes_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* 1 if the eight digits at s are a real date YYYYMMDD from 1900 on. */
static int idcodes_real_date(const char *s)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = 0, m = 0, d = 0, i, dim;

	for (i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	d = (s[6] - '0') * 10 + (s[7] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return 0;
	dim = mdays[m - 1] + (m == 2 && idcodes_is_leap(y));
	return d <= dim;
}

char resident_id_check(const char *first17)
{
	int i, sum = 0;

	if (!first17)
		return 0;
	for (i = 0; i < 17; i++) {
		if (!isdigit((unsigned char)first17[i]))
			return 0;
		sum += (first17[i] - '0') * resident_weights[i];
	}
	return resident_checks[sum % 11];
}

int resident_id_valid(const char *s)
{
	char want;

	if (!s || strlen(s) != 18)
		return 0;
	want = resident_id_check(s);
	if (!want || toupper((unsigned char)s[17]) != want)
		return 0;
	if (strncmp(s, "000000", 6) == 0)
		return 0;
	return idcodes_real_date(s + 6);
}

char org_code_check(const char *first8)
{
	int i, v, sum = 0, c;

	if (!first8)
		return 0;
	for (i = 0; i < 8; i++) {
		v = idcodes_org_value(first8[i]);
		if (v < 0)
			return 0;
		sum += v * org_weights[i];
	}
	c = 11 - sum % 11;
	if (c == 10)
		return 'X';
	if (c == 11)
		return '0';
	return (char)('0' + c);
}

/* Checks the eight body characters at body and the check character chk. */
static int idcodes_org_parts_valid(const char *body, char chk)
{
	char want = org_code_check(body);

	return want && toupper((unsigned char)chk) == want;
}

int org_code_valid(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n == 9)
		return idcodes_org_parts_valid(s, s[8]);
	if (n == 10 && s[8] == '-')
		return idcodes_org_parts_valid(s, s[9]);
	return 0;
}

char uscc_check(const char *first17)
{
	int i, v, sum = 0, c;

	if (!first17)
		return 0;
	for (i = 0; i < 17; i++) {
		v = idcodes_uscc_value(first17[i]);
		if (v < 0)
			return 0;
		sum += v * uscc_weights[i];
	}
	c = 31 - sum % 31;
	return uscc_alphabet[c == 31 ? 0 : c];
}

int uscc_valid(const char *s)
{
	char want;

	if (!s || strlen(s) != 18)
		return 0;
	want = uscc_check(s);
	if (!want || toupper((unsigned char)s[17]) != want)
		return 0;
	/* Characters 9-17 are the organisation code, body and check. */
	return idcodes_org_parts_valid(s + 8, s[16]);
}

/* Non-empty, no control characters, and not only blanks. */
static int idcodes_printable(const char *s)
{
	const unsigned char *p;
	int seen = 0;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p != ' ')
			seen = 1;
	}
	return seen;
}

int id_valid(const char *type, const char *s)
{
	if (!type || !s)
		return 0;
	if (strcmp(type, "resident_id") == 0)
		return resident_id_valid(s);
	if (strcmp(type, "uscc") == 0)
		return uscc_valid(s);
	if (strcmp(type, "org_code") == 0)
		return org_code_valid(s);
	if (strcmp(type, "passport") == 0 || strcmp(type, "hk_id") == 0 ||
	    strcmp(type, "other") == 0)
		return idcodes_printable(s);
	return 0;
}
