#include "lis_uri.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lis_config.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define TOKEN_VERSION 1
/* version byte and 8-byte expiry before the identity */
#define HEADER_LEN 9
/* Largest plaintext: header and identity with at least one NUL, in 16-byte steps. */
#define PLAIN_MAX ((HEADER_LEN + LIS_URI_IDENTITY_MAX + 1 + 15) / 16 * 16)
#define RAW_MAX (NONCE_LEN + PLAIN_MAX + TAG_LEN)
#define RAW_MIN (NONCE_LEN + 16 + TAG_LEN)

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding (RFC 4648 §5). Returns the text length, or 0 when it does not
 * fit. */
static size_t b64url_encode(const unsigned char *in, size_t n, char *out, size_t size)
{
	size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	if (need + 1 > size)
		return 0;
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

/* One base64url character's value, without a branch on which character it is; *bad gets
 * set for anything outside the alphabet. */
static unsigned b64url_value(unsigned char c, unsigned *bad)
{
	unsigned v = 0, ok = 0;
	unsigned up = (unsigned)((c >= 'A') & (c <= 'Z'));
	unsigned lo = (unsigned)((c >= 'a') & (c <= 'z'));
	unsigned dg = (unsigned)((c >= '0') & (c <= '9'));
	unsigned mi = (unsigned)(c == '-');
	unsigned us = (unsigned)(c == '_');
	v |= (unsigned)(-(int)up) & (unsigned)(c - 'A');
	v |= (unsigned)(-(int)lo) & (unsigned)(c - 'a' + 26);
	v |= (unsigned)(-(int)dg) & (unsigned)(c - '0' + 52);
	v |= (unsigned)(-(int)mi) & 62u;
	v |= (unsigned)(-(int)us) & 63u;
	ok = up | lo | dg | mi | us;
	*bad |= ok ^ 1u;
	return v & 63u;
}

/* One line of exactly 64 hex digits into key; false otherwise. */
static bool parse_hex_key(const char *p, size_t n, struct lis_uri_key *key)
{
	if (n != 2 * LIS_URI_KEY_BYTES)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		unsigned v;
		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = (unsigned)(c - 'A' + 10);
		else
			return false;
		key->k[i / 2] = (unsigned char)(key->k[i / 2] << 4 | v);
	}
	return true;
}

int lis_uri_key_parse(const char *path, const char *text, struct lis_uri_key *key,
		      struct lis_error *err)
{
	unsigned line = 0;
	bool have = false;
	const char *p = text;

	memset(key, 0, sizeof *key);
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		line++;
		size_t a = 0, b = len;
		while (a < b && (p[a] == ' ' || p[a] == '\t' || p[a] == '\r'))
			a++;
		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' || p[b - 1] == '\r'))
			b--;
		if (a < b && p[a] != '#') {
			if (have || !parse_hex_key(p + a, b - a, key)) {
				lis_uri_key_wipe(key);
				return lis_error_set(err, LIS_E_USAGE,
						     "%s:%u: expected one line of 64 hex digits (a 32-byte "
						     "key), e.g. made with: openssl rand -hex 32",
						     path, line);
			}
			have = true;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	if (!have)
		return lis_error_set(err, LIS_E_USAGE,
				     "%s:%u: no key: expected 64 hex digits (a 32-byte key), e.g. "
				     "made with: openssl rand -hex 32", path, line ? line : 1);
	key->random = false;
	return 0;
}

int lis_uri_key_load(const char *path, struct lis_uri_key *key, struct lis_error *err)
{
	char *text = NULL;
	size_t len;
	if (lis_read_secret(path, 4096, &text, &len, err) < 0) {
		err->code = LIS_E_USAGE;
		return -1;
	}
	if (strlen(text) != len) {
		lis_free_secret(text);
		return lis_error_set(err, LIS_E_USAGE, "%s:1: NUL byte in the key file", path);
	}
	int rc = lis_uri_key_parse(path, text, key, err);
	lis_free_secret(text);
	return rc;
}

int lis_uri_key_random(struct lis_uri_key *key, struct lis_error *err)
{
	if (RAND_bytes(key->k, sizeof key->k) != 1) {
		ERR_clear_error();
		return lis_error_set(err, LIS_E_SYSTEM, "RAND_bytes failed: no location URI key");
	}
	key->random = true;
	return 0;
}

void lis_uri_key_wipe(struct lis_uri_key *key)
{
	if (key)
		OPENSSL_cleanse(key->k, sizeof key->k);
}

int lis_uri_token_encode(const struct lis_uri_key *key, const char *identity, time_t expiry,
			 char *token, size_t token_size, struct lis_error *err)
{
	unsigned char plain[PLAIN_MAX], raw[RAW_MAX];
	size_t idlen = strlen(identity);
	int rc = -1, n = 0, fin = 0;

	if (idlen > LIS_URI_IDENTITY_MAX)
		return lis_error_set(err, LIS_E_INPUT, "target identity longer than %d bytes",
				     LIS_URI_IDENTITY_MAX);
	/* Padding to 16 bytes keeps the token from telling the identity's exact length. */
	size_t plen = (HEADER_LEN + idlen + 1 + 15) / 16 * 16;
	memset(plain, 0, sizeof plain);
	plain[0] = TOKEN_VERSION;
	uint64_t e = (uint64_t)(int64_t)expiry;
	for (int i = 0; i < 8; i++)
		plain[1 + i] = (unsigned char)(e >> (56 - 8 * i));
	memcpy(plain + HEADER_LEN, identity, idlen);

	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx || RAND_bytes(raw, NONCE_LEN) != 1 ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key->k, raw) != 1 ||
	    EVP_EncryptUpdate(ctx, raw + NONCE_LEN, &n, plain, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, raw + NONCE_LEN + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + NONCE_LEN + plen) != 1) {
		lis_error_set(err, LIS_E_SYSTEM, "AES-256-GCM encryption failed");
		goto out;
	}
	if (!b64url_encode(raw, NONCE_LEN + plen + TAG_LEN, token, token_size)) {
		lis_error_set(err, LIS_E_SYSTEM, "location URI token does not fit in %zu bytes", token_size);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(plain, sizeof plain);
	return rc;
}

int lis_uri_token_decode(const struct lis_uri_key *key, const char *token, time_t now,
			 char *identity, size_t identity_size, time_t *expiry)
{
	unsigned char raw[RAW_MAX], plain[PLAIN_MAX];
	unsigned bad = 0;

	memset(plain, 0, sizeof plain);
	int n = 0, fin = 0;

	/* Decode: every character of the (bounded) token is read whatever it holds. */
	size_t tlen = strnlen(token, LIS_URI_TOKEN_MAX + 1);
	bad |= (unsigned)(tlen > LIS_URI_TOKEN_MAX);
	if (tlen > LIS_URI_TOKEN_MAX)
		tlen = LIS_URI_TOKEN_MAX;
	bad |= (unsigned)(tlen % 4 == 1);
	memset(raw, 0, sizeof raw);
	size_t rlen = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < tlen; i++) {
		acc = acc << 6 | b64url_value((unsigned char)token[i], &bad);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (rlen < sizeof raw)
				raw[rlen++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* The spare bits of the last character are zero in the one spelling of a token (RFC 4648
	 * §3.5): any other spelling is refused, so that a token is one string. */
	bad |= (unsigned)(acc != 0);
	/* A token of the wrong shape still costs one decryption: of a minimal dummy. */
	size_t clen = rlen >= RAW_MIN ? rlen - NONCE_LEN - TAG_LEN : 16;
	bad |= (unsigned)(rlen < RAW_MIN);
	bad |= (unsigned)(clen % 16 != 0);
	if (clen > PLAIN_MAX)
		clen = PLAIN_MAX;

	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char tag[TAG_LEN];
	memcpy(tag, raw + NONCE_LEN + clen, TAG_LEN);
	if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key->k, raw) != 1 ||
	    EVP_DecryptUpdate(ctx, plain, &n, raw + NONCE_LEN, (int)clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		bad = 1;
	else if (EVP_DecryptFinal_ex(ctx, plain + n, &fin) != 1)
		bad = 1;   /* tag mismatch: forged, altered or another key */
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();

	uint64_t e = 0;
	for (int i = 0; i < 8; i++)
		e = e << 8 | plain[1 + i];
	size_t idlen = strnlen((const char *)plain + HEADER_LEN, clen - HEADER_LEN);
	bad |= (unsigned)(plain[0] != TOKEN_VERSION);
	bad |= (unsigned)(idlen == clen - HEADER_LEN);     /* no terminating NUL */
	bad |= (unsigned)(idlen == 0 || idlen >= identity_size);
	/* Expiry last, after all the work, so an expired token costs what a forged one does. */
	bad |= (unsigned)((int64_t)e <= (int64_t)now);
	if (bad) {
		OPENSSL_cleanse(plain, sizeof plain);
		if (identity_size)
			identity[0] = '\0';
		return -1;
	}
	memcpy(identity, plain + HEADER_LEN, idlen);
	identity[idlen] = '\0';
	if (expiry)
		*expiry = (time_t)(int64_t)e;
	OPENSSL_cleanse(plain, sizeof plain);
	return 0;
}
