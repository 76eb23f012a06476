/*
 * x509_name.c — distinguished names as RFC 4514 text; see x509_name_text in
 * x509.h. One function, shared by the certificate and CRL readers, so that a
 * CRL's issuer and a certificate's issuer compare equal as text.
 */
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "x509.h"

char *x509_name_text(const void *x509_name)
{
	/* RFC 2253 order and escaping, but UTF-8 kept as UTF-8 (no \XX escapes
	 * of the high bytes), so Chinese names read as written. */
	const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long len;

	if (!bio)
		return NULL;
	if (X509_NAME_print_ex(bio, (const X509_NAME *)x509_name, 0, flags) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		out = malloc((size_t)len + 1);
		if (out) {
			memcpy(out, data, (size_t)len);
			out[len] = '\0';
		}
	}
	BIO_free(bio);
	return out;
}
