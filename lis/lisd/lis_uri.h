/* Location URIs (RFC 5985 locationURI, RFC 6753 dereference): the token at the end of each
 * URI is an AES-256-GCM encryption of the target's identity and the URI's expiry under a key
 * that every lisd sharing uri_key_file holds, so any of them can dereference it and nothing
 * is stored per URI. */
#ifndef LIS_URI_H
#define LIS_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lis_error.h"

#define LIS_URI_KEY_BYTES 32
/* Room for a token: base64url of nonce, ciphertext (version, expiry, identity padded to a
 * multiple of 16) and tag, for an identity of up to LIS_URI_IDENTITY_MAX bytes. */
#define LIS_URI_IDENTITY_MAX 400
#define LIS_URI_TOKEN_MAX 640

struct lis_uri_key {
	unsigned char k[LIS_URI_KEY_BYTES];
	bool random;                       /* made at start: dies with this process */
};

/* Read a key file: 64 hex digits (blank lines and a trailing newline allowed, # comment
 * lines too). On error err says "FILE:LINE: reason"; the key itself is never printed. */
int lis_uri_key_load(const char *path, struct lis_uri_key *key, struct lis_error *err);
/* Parse the text of a key file (path only names it in messages). */
int lis_uri_key_parse(const char *path, const char *text, struct lis_uri_key *key,
		      struct lis_error *err);
/* A fresh key from OpenSSL's CSPRNG. */
int lis_uri_key_random(struct lis_uri_key *key, struct lis_error *err);
void lis_uri_key_wipe(struct lis_uri_key *key);

/* token = base64url(nonce(12) | AES-256-GCM(version 1 | expiry, 8 bytes big-endian |
 * identity NUL-padded) | tag(16)), no padding characters. identity is the target's identity
 * text (proto/ident.h, ident_text_format()), e.g. "ip:192.0.2.7",
 * "mac:00:11:22:33:44:55 uri:sip:alice@example.com", "tel:+15551234567"; this module does
 * not look inside it. Returns 0, or -1 (identity too long, CSPRNG or cipher failure). */
int lis_uri_token_encode(const struct lis_uri_key *key, const char *identity, time_t expiry,
			 char *token, size_t token_size, struct lis_error *err);

/* Check a token. Returns 0 with identity filled when it decrypts under key and has not
 * expired at now; -1 for anything else (malformed, forged, other key, expired), with no
 * further distinction. The work done is the same whatever the outcome: the whole token is
 * always decoded and decrypted, and the expiry compared last, so that timing does not tell
 * an unknown URI from an expired one. */
int lis_uri_token_decode(const struct lis_uri_key *key, const char *token, time_t now,
			 char *identity, size_t identity_size, time_t *expiry);

#endif
