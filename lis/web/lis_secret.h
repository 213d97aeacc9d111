/* Secrets the self-service listener and lisctl token hand out: random, URL-safe, shown once;
 * only their SHA-256 is stored (db_web.h), compared in constant time. */
#ifndef LIS_SECRET_H
#define LIS_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define LIS_SECRET_BYTES 32
/* base64url of 32 bytes, no padding: 43 characters */
#define LIS_SECRET_TEXT 44
/* An API token: this prefix, then a secret (lisctl token issue). */
#define LIS_TOKEN_PREFIX "lis_"
/* How much of a token names it in lists and logs: the prefix and 8 characters. */
#define LIS_TOKEN_SHOWN 12

/* A fresh random secret as base64url (out: LIS_SECRET_TEXT bytes). -1 when the system's
 * random source fails. */
int lis_secret_new(char out[LIS_SECRET_TEXT]);
/* SHA-256 of text. */
void lis_secret_hash(const char *text, unsigned char out[32]);
/* a and b equal, in time that depends on their lengths only. */
bool lis_secret_equal(const char *a, const char *b);
/* base64url (no padding) of n bytes into out (4 * n / 3 + 2 bytes at least). */
void lis_base64url(const unsigned char *in, size_t n, char *out);

#endif
