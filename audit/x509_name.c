/*
 * x509_name.c — x509_name_text (x509.h) for names OpenSSL has already
 * parsed, such as a CRL's issuer: the name is re-encoded and written by the
 * certificate reader's own name writer, so that a CRL's issuer and a
 * certificate's issuer compare equal as text.
 */
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "x509.h"

char *x509_name_text(const void *x509_name)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME((const X509_NAME *)x509_name, &der);
	char *text;

	if (len <= 0)
		return NULL;
	text = x509_name_der_text(der, (size_t)len);
	OPENSSL_free(der);
	return text;
}
