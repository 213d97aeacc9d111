/* OpenID Connect sign-in for the self-service page (lis.conf(5) [oidc]): the authorization
 * code flow with PKCE (RFC 7636, S256) of OpenID Connect Core 1.0 §3.1, against a provider
 * found by discovery (/.well-known/openid-configuration). The ID token's signature is checked
 * against the provider's published keys (jwks_uri) with libcjose; its iss, aud, azp, exp,
 * iat and nonce are checked here. HTTP to the provider is libcurl over HTTPS only.
 *
 * The caller (lis_web) keeps a lis_oidc_pending between begin and finish (in its sign-in
 * state, bound to the browser by a cookie) and never shows it to anyone else.
 *
 * open copies what it needs of the conf (the caller may free it after). begin and finish may
 * run in several threads at once on one struct lis_oidc; close only when none runs. The
 * caller reads client_secret from lis.conf(5)'s client_secret_file (refused when others may
 * read it) and passes the text. The ID token is verified by lis_oidc_jwt.c, with the bounds
 * of lis_oidc_jwt.h (private to lis/web). */
#ifndef LIS_OIDC_H
#define LIS_OIDC_H

#include <stddef.h>
#include <time.h>

struct lis_oidc_conf {
	const char *issuer;        /* https://...; discovery is issuer + /.well-known/... */
	const char *client_id;
	const char *client_secret; /* NULL: a public client (PKCE only) */
	const char *redirect_uri;  /* https://.../signin/oidc/callback, registered */
	const char *scope;         /* NULL: "openid email profile" */
	const char *user_claim;    /* the claim that is the user_key; NULL: "email" */
	const char *ca_file;       /* NULL: the system's CAs */
	int timeout_ms;            /* each request to the provider; 0: 5000 */
};

/* What begin hands the caller to keep until the callback: random, URL-safe. */
struct lis_oidc_pending {
	char state[44];
	char nonce[44];
	char verifier[64];  /* the PKCE code_verifier (43..128 chars) */
	time_t created;
};

/* Who signed in. */
struct lis_oidc_identity {
	char user_key[256]; /* the user_claim's value */
	char name[256];     /* "name", or "" */
	char email[256];    /* "email", or "" */
};

struct lis_oidc;

/* Fetch the discovery document and the keys. On failure returns -1 with a sentence in err
 * (the provider unreachable, a non-HTTPS endpoint, an issuer mismatch...). */
int lis_oidc_open(struct lis_oidc **out, const struct lis_oidc_conf *conf, char *err,
		  size_t errlen);
void lis_oidc_close(struct lis_oidc *o);

/* A fresh pending state and the authorization URL to redirect the browser to. */
int lis_oidc_begin(struct lis_oidc *o, struct lis_oidc_pending *p, char *url, size_t urllen,
		   char *err, size_t errlen);

/* The callback: check state against p (constant time) and p's age (10 minutes at most),
 * exchange code (with p's verifier) at the token endpoint, verify the ID token (signature by
 * a key of jwks_uri, refetched once when the kid is unknown; iss, aud, azp, exp, iat, nonce)
 * and fill *id. -1 with a sentence in err on any failure; the sentence names the check that
 * failed, never a secret, a code or a token. A refused state leaves the code unspent. */
int lis_oidc_finish(struct lis_oidc *o, const struct lis_oidc_pending *p, const char *code,
		    const char *state, struct lis_oidc_identity *id, char *err, size_t errlen);

#endif
