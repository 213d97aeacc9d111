/* libFuzzer target: location URI tokens (lisd/lis_uri.c), the secret at the end of a URI
 * that anyone may send to the dereference path. The first byte chooses the test:
 *   even: the rest is a token as it arrives in a URL; lis_uri_token_decode() must refuse it
 *         or give back a NUL-terminated identity that fits and an expiry after now;
 *   odd:  the rest is an expiry (8 bytes, big-endian) and an identity; what
 *         lis_uri_token_encode() makes must decode to the same before its expiry, not at
 *         it, and no other spelling of the token (one character changed, as the input's
 *         last two bytes say) may decode at all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lis_uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct lis_uri_key key = { .k = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
					       15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
					       27, 28, 29, 30, 31, 32 } };

/* A token from the outside: any outcome but a bad identity or expiry is fine. */
static void decode_any(const uint8_t *data, size_t size)
{
	char token[LIS_URI_TOKEN_MAX + 64];
	char identity[LIS_URI_IDENTITY_MAX + 1];
	time_t expiry = 0;
	size_t n = size < sizeof token - 1 ? size : sizeof token - 1;
	memcpy(token, data, n);
	token[n] = '\0';
	if (lis_uri_token_decode(&key, token, 1, identity, sizeof identity, &expiry) < 0)
		return;
	size_t len = strnlen(identity, sizeof identity);
	if (len == 0 || len == sizeof identity || expiry <= 1)
		abort();
}

static void round_trip(const uint8_t *data, size_t size)
{
	char identity[LIS_URI_IDENTITY_MAX + 2], back[LIS_URI_IDENTITY_MAX + 1];
	char token[LIS_URI_TOKEN_MAX + 1];
	uint64_t e = 0;
	time_t expiry = 0;
	struct lis_error err = { 0 };

	if (size < 9)
		return;
	for (int i = 0; i < 8; i++)
		e = e << 8 | data[i];
	size_t n = strnlen((const char *)data + 8, size - 8);
	if (n == 0 || n >= sizeof identity || (int64_t)e <= INT64_MIN + 1)
		return;
	memcpy(identity, data + 8, n);
	identity[n] = '\0';
	if (lis_uri_token_encode(&key, identity, (time_t)e, token, sizeof token, &err) < 0) {
		if (n <= LIS_URI_IDENTITY_MAX)
			abort();  /* an identity that fits is always encoded */
		return;
	}
	if (lis_uri_token_decode(&key, token, (time_t)e - 1, back, sizeof back, &expiry) < 0 ||
	    strcmp(back, identity) != 0 || expiry != (time_t)e)
		abort();
	if (lis_uri_token_decode(&key, token, (time_t)e, back, sizeof back, &expiry) == 0)
		abort();  /* expired */

	/* Another spelling: one character of the token changed to another of the alphabet (the
	 * input's last byte says which, counted from the end; the one before it, how). */
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t tlen = strlen(token);
	size_t at = tlen - 1 - data[size - 1] % tlen;
	const char *c = strchr(alphabet, token[at]);
	if (!c)
		abort();
	token[at] = alphabet[(size_t)(c - alphabet) ^ (data[size - 2] % 63u + 1)];
	if (lis_uri_token_decode(&key, token, (time_t)e - 1, back, sizeof back, &expiry) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		round_trip(data + 1, size - 1);
	else
		decode_any(data + 1, size - 1);
	return 0;
}
