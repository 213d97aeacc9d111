/* The ID token of OpenID Connect, without the network: a provider's key set (JWKS, RFC 7517
 * §5) parsed into keys libcjose can verify with, and an ID token (a compact JWS, RFC 7515
 * §7.1) checked against them and against what the relying party expects (OpenID Connect
 * Core 1.0 §3.1.3.7). lis_oidc.c fetches and calls; the test and the fuzz target call these
 * directly with tokens they make. Private to lis/web: lis_web includes lis_oidc.h only. */
#ifndef LIS_OIDC_JWT_H
#define LIS_OIDC_JWT_H

#include <stddef.h>
#include <time.h>

#include "lis_oidc.h"

/* Bounds on what a provider sends. */
#define LIS_OIDC_JWKS_MAX (64 * 1024)   /* bytes of a JWKS document */
#define LIS_OIDC_KEYS_MAX 32            /* keys kept from one JWKS */
#define LIS_OIDC_JWT_MAX (16 * 1024)    /* bytes of an ID token */
#define LIS_OIDC_SKEW 60                /* seconds of clock difference allowed (exp, iat, nbf) */
#define LIS_OIDC_IAT_MAX_AGE 600        /* an ID token issued longer ago than this is stale */

/* lis_oidc_verify_id_token()'s return when no key of the set fits the token (its kid is
 * unknown, or there is no key for its alg): the caller may fetch the keys again, once. */
#define LIS_OIDC_NO_KEY (-2)

struct lis_oidc_keys;

/* Parse a JWKS document (len bytes, at most LIS_OIDC_JWKS_MAX). Keys for encryption
 * ("use": "enc"), symmetric keys (kty oct) and kinds libcjose does not know are left out;
 * a set with no key left is refused. 0, or -1 with a sentence in err. */
int lis_oidc_keys_parse(const char *json, size_t len, struct lis_oidc_keys **out, char *err,
			size_t errlen);
void lis_oidc_keys_free(struct lis_oidc_keys *k);
/* How many keys were kept. */
size_t lis_oidc_keys_count(const struct lis_oidc_keys *k);

/* What the relying party expects of the token. */
struct lis_oidc_expect {
	const char *issuer;      /* iss, exactly */
	const char *client_id;   /* in aud; azp when present (required with several aud) */
	const char *nonce;       /* the nonce of the authorization request */
	const char *user_claim;  /* the claim copied into id->user_key */
	time_t now;
};

/* Verify jwt (len bytes): a compact JWS signed with RS256/384/512, PS256/384/512 or
 * ES256/384/512 by a key of k whose kind fits the alg (alg none and HS* are refused), then
 * iss, aud, azp, exp, nbf, iat and nonce; fill *id. 0; LIS_OIDC_NO_KEY; or -1, with a
 * sentence in err that names the check and never quotes the token. */
int lis_oidc_verify_id_token(const struct lis_oidc_keys *k, const char *jwt, size_t len,
			     const struct lis_oidc_expect *x, struct lis_oidc_identity *id,
			     char *err, size_t errlen);

/* Put a printf-style sentence into err (errlen bytes; err may be NULL); returns -1. */
int lis_oidc_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
