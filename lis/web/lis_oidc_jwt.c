/* JWKS parsing and ID token verification (lis_oidc_jwt.h). libcjose checks signatures;
 * which key may check which token, and every claim, is decided here, so that a token cannot
 * choose its own rules (RFC 8725 §2.1, §3.1: the alg is checked against the key, never
 * trusted alone). */
#include "lis_oidc_jwt.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/crypto.h>

#define fail(...) lis_oidc_fail(__VA_ARGS__)

struct oidc_key {
	cjose_jwk_t *jwk;
	char kid[128];           /* "" when the key has none */
	char alg[16];            /* the key's own "alg", or "" */
	cjose_jwk_kty_t kty;
	cjose_jwk_ec_curve crv;  /* EC keys only */
};

struct lis_oidc_keys {
	struct oidc_key key[LIS_OIDC_KEYS_MAX];
	size_t n;
};

int lis_oidc_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A value from outside (a kid, an alg, an issuer) made safe to quote in one line: printable
 * ASCII only, at most 64 characters. */
static const char *show(const char *s, char out[72])
{
	size_t i;
	for (i = 0; s && s[i] && i < 64; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
	if (s && s[i]) {
		out[i++] = '.';
		out[i++] = '.';
	}
	out[i] = '\0';
	return out;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Whether s (n bytes) is unpadded base64url that can be decoded (RFC 7515 §2: no '='; a
 * length of 4k+1 leaves a lone 6 bits). Checked here before libcjose sees it: Debian's
 * libcjose 0.6.2 asserts, aborting the process, on such a length. */
static bool is_b64url(const char *s, size_t n)
{
	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* ---- keys ---- */

/* The members of an RSA or EC JWK that are base64url (RFC 7518 §6.2, §6.3). */
static const char *const b64_members[] = { "n", "e", "d", "p", "q", "dp", "dq", "qi", "x",
					   "y" };

static bool import_key(json_t *jk, struct oidc_key *out)
{
	const char *kty = json_string_value(json_object_get(jk, "kty"));
	const char *use = json_string_value(json_object_get(jk, "use"));
	const char *kid = json_string_value(json_object_get(jk, "kid"));
	const char *alg = json_string_value(json_object_get(jk, "alg"));
	cjose_err cerr;
	char *text;
	cjose_jwk_t *jwk;

	/* Only public keys for signatures: a shared secret (oct) in a published set would let
	 * anyone who reads the set sign, and an "enc" key is not for us (RFC 7517 §4.2). */
	if (!kty || (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0))
		return false;
	if (use && strcmp(use, "sig") != 0)
		return false;
	if ((kid && strlen(kid) >= sizeof out->kid) || (alg && strlen(alg) >= sizeof out->alg))
		return false;
	for (size_t i = 0; i < sizeof b64_members / sizeof b64_members[0]; i++) {
		json_t *m = json_object_get(jk, b64_members[i]);
		if (m && !(json_is_string(m) &&
			   is_b64url(json_string_value(m), json_string_length(m))))
			return false;
	}
	text = json_dumps(jk, JSON_COMPACT);
	if (!text)
		return false;
	jwk = cjose_jwk_import(text, strlen(text), &cerr);
	free(text);
	if (!jwk)
		return false;
	out->jwk = jwk;
	out->kty = cjose_jwk_get_kty(jwk, &cerr);
	out->crv = out->kty == CJOSE_JWK_KTY_EC ? cjose_jwk_EC_get_curve(jwk, &cerr) : 0;
	copy_str(out->kid, sizeof out->kid, kid ? kid : "");
	copy_str(out->alg, sizeof out->alg, alg ? alg : "");
	/* RFC 7518 §3.3: RSA keys of 2048 bits or more. */
	if (out->kty == CJOSE_JWK_KTY_RSA && cjose_jwk_get_keysize(jwk, &cerr) < 2048) {
		cjose_jwk_release(jwk);
		out->jwk = NULL;
		return false;
	}
	return out->kty == CJOSE_JWK_KTY_RSA || out->kty == CJOSE_JWK_KTY_EC;
}

int lis_oidc_keys_parse(const char *json, size_t len, struct lis_oidc_keys **out, char *err,
			size_t errlen)
{
	json_error_t jerr;
	json_t *doc, *arr, *jk;
	struct lis_oidc_keys *k;
	size_t i;

	*out = NULL;
	if (len > LIS_OIDC_JWKS_MAX)
		return fail(err, errlen, "the JWKS is larger than %d bytes", LIS_OIDC_JWKS_MAX);
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return fail(err, errlen, "the JWKS is not JSON (line %d: %s)", jerr.line,
			    jerr.text);
	arr = json_object_get(doc, "keys");
	if (!json_is_array(arr)) {
		json_decref(doc);
		return fail(err, errlen, "the JWKS has no \"keys\" array");
	}
	k = calloc(1, sizeof *k);
	if (!k) {
		json_decref(doc);
		return fail(err, errlen, "out of memory reading the JWKS");
	}
	json_array_foreach(arr, i, jk) {
		if (k->n == LIS_OIDC_KEYS_MAX)
			break;
		if (json_is_object(jk) && import_key(jk, &k->key[k->n]))
			k->n++;
	}
	json_decref(doc);
	if (k->n == 0) {
		lis_oidc_keys_free(k);
		return fail(err, errlen, "the JWKS has no RSA or EC signature key");
	}
	*out = k;
	return 0;
}

void lis_oidc_keys_free(struct lis_oidc_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		cjose_jwk_release(k->key[i].jwk);
	free(k);
}

size_t lis_oidc_keys_count(const struct lis_oidc_keys *k)
{
	return k ? k->n : 0;
}

/* ---- the token ---- */

/* The algorithms we verify, each with the kind of key (and curve) it needs. */
static const struct {
	const char *alg;
	cjose_jwk_kty_t kty;
	cjose_jwk_ec_curve crv;
} algs[] = {
	{ "RS256", CJOSE_JWK_KTY_RSA, 0 },
	{ "RS384", CJOSE_JWK_KTY_RSA, 0 },
	{ "RS512", CJOSE_JWK_KTY_RSA, 0 },
	{ "PS256", CJOSE_JWK_KTY_RSA, 0 },
	{ "PS384", CJOSE_JWK_KTY_RSA, 0 },
	{ "PS512", CJOSE_JWK_KTY_RSA, 0 },
	{ "ES256", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_256 },
	{ "ES384", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_384 },
	{ "ES512", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_521 },
};

static bool key_fits(const struct oidc_key *key, const char *alg, size_t a)
{
	if (key->kty != algs[a].kty)
		return false;
	if (key->kty == CJOSE_JWK_KTY_EC && key->crv != algs[a].crv)
		return false;
	return key->alg[0] == '\0' || strcmp(key->alg, alg) == 0;
}

/* A NumericDate claim (RFC 7519 §2): a JSON number. */
static bool get_time(json_t *claims, const char *name, double *t)
{
	json_t *v = json_object_get(claims, name);
	if (!json_is_number(v))
		return false;
	*t = json_number_value(v);
	return true;
}

static bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

/* Copy a claim's string value into dst when it is a string that fits and has no control
 * characters; else dst is "". Returns whether it was copied. */
static bool copy_claim(char *dst, size_t size, json_t *claims, const char *name)
{
	const char *v = json_string_value(json_object_get(claims, name));
	size_t n;
	dst[0] = '\0';
	if (!v)
		return false;
	n = strlen(v);
	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	memcpy(dst, v, n + 1);
	return true;
}

/* OpenID Connect Core 1.0 §3.1.3.7 items 2-5, 9-11, and §2 (sub). */
static int check_claims(json_t *c, const struct lis_oidc_expect *x, struct lis_oidc_identity *id,
			char *err, size_t errlen)
{
	char s1[72], s2[72];
	const char *iss = json_string_value(json_object_get(c, "iss"));
	const char *azp = json_string_value(json_object_get(c, "azp"));
	const char *nonce = json_string_value(json_object_get(c, "nonce"));
	json_t *aud = json_object_get(c, "aud"), *v, *ev;
	size_t i, naud = 0;
	bool ours = false;
	double exp, iat, nbf;

	if (!iss || strcmp(iss, x->issuer) != 0)
		return fail(err, errlen, "the ID token's iss \"%s\" is not the issuer \"%s\"",
			    show(iss, s1), show(x->issuer, s2));
	if (json_is_string(aud)) {
		naud = 1;
		ours = strcmp(json_string_value(aud), x->client_id) == 0;
	} else if (json_is_array(aud)) {
		json_array_foreach(aud, i, v) {
			if (!json_is_string(v))
				return fail(err, errlen, "the ID token's aud has a non-string "
					    "entry");
			naud++;
			ours = ours || strcmp(json_string_value(v), x->client_id) == 0;
		}
	}
	if (!ours)
		return fail(err, errlen, "the ID token's aud does not contain the client_id \"%s\"",
			    show(x->client_id, s1));
	if (naud > 1 && !azp)
		return fail(err, errlen, "the ID token has several audiences and no azp");
	if (azp && strcmp(azp, x->client_id) != 0)
		return fail(err, errlen, "the ID token's azp \"%s\" is not the client_id \"%s\"",
			    show(azp, s1), show(x->client_id, s2));
	if (!get_time(c, "exp", &exp))
		return fail(err, errlen, "the ID token has no exp");
	if ((double)x->now >= exp + LIS_OIDC_SKEW)
		return fail(err, errlen, "the ID token expired %.0f s ago", (double)x->now - exp);
	if (!get_time(c, "iat", &iat))
		return fail(err, errlen, "the ID token has no iat");
	if (iat > (double)x->now + LIS_OIDC_SKEW)
		return fail(err, errlen, "the ID token's iat is %.0f s in the future",
			    iat - (double)x->now);
	if (iat < (double)x->now - LIS_OIDC_IAT_MAX_AGE - LIS_OIDC_SKEW)
		return fail(err, errlen, "the ID token was issued %.0f s ago, more than %d s",
			    (double)x->now - iat, LIS_OIDC_IAT_MAX_AGE);
	if (get_time(c, "nbf", &nbf) && nbf > (double)x->now + LIS_OIDC_SKEW)
		return fail(err, errlen, "the ID token is not valid before %.0f s from now",
			    nbf - (double)x->now);
	/* §3.1.3.7 item 11; constant time so that a guessed nonce learns nothing. */
	if (!nonce || !equal_ct(nonce, x->nonce))
		return fail(err, errlen, "the ID token's nonce is not the sign-in's");
	if (!json_is_string(json_object_get(c, "sub")))
		return fail(err, errlen, "the ID token has no sub");

	memset(id, 0, sizeof *id);
	if (!copy_claim(id->user_key, sizeof id->user_key, c, x->user_claim))
		return fail(err, errlen, "the ID token has no usable claim \"%s\" (a string "
			    "of 1 to %zu characters) to sign in by", show(x->user_claim, s1),
			    sizeof id->user_key - 1);
	/* An address the provider has not verified is anyone's claim (Core §5.1). */
	ev = json_object_get(c, "email_verified");
	if (strcmp(x->user_claim, "email") == 0 && json_is_false(ev))
		return fail(err, errlen, "the ID token's email is not verified (email_verified "
			    "false)");
	copy_claim(id->name, sizeof id->name, c, "name");
	copy_claim(id->email, sizeof id->email, c, "email");
	return 0;
}

int lis_oidc_verify_id_token(const struct lis_oidc_keys *k, const char *jwt, size_t len,
			     const struct lis_oidc_expect *x, struct lis_oidc_identity *id,
			     char *err, size_t errlen)
{
	char s1[72];
	cjose_err cerr;
	cjose_jws_t *jws = NULL;
	cjose_header_t *hdr;
	const char *alg, *kid;
	size_t a, dots = 0, tried = 0;
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	json_t *claims = NULL;
	json_error_t jerr;
	bool verified = false;
	int rc = -1;

	if (len == 0 || len > LIS_OIDC_JWT_MAX)
		return fail(err, errlen, "the ID token is empty or larger than %d bytes",
			    LIS_OIDC_JWT_MAX);
	for (size_t i = 0, from = 0; i <= len; i++) {
		if (i < len && jwt[i] != '.')
			continue;
		if (!is_b64url(jwt + from, i - from))
			return fail(err, errlen, "the ID token's part %zu is not base64url",
				    dots + 1);
		dots += i < len;
		from = i + 1;
	}
	/* RFC 7516 §9: five parts would be an encrypted token, which we did not ask for. */
	if (dots != 2)
		return fail(err, errlen, "the ID token is not a compact JWS (three parts)");
	jws = cjose_jws_import(jwt, len, &cerr);
	if (!jws)
		return fail(err, errlen, "the ID token is not a valid JWS (%s)", cerr.message);
	hdr = cjose_jws_get_protected(jws);
	alg = hdr ? cjose_header_get(hdr, CJOSE_HDR_ALG, &cerr) : NULL;
	kid = hdr ? cjose_header_get(hdr, CJOSE_HDR_KID, &cerr) : NULL;
	if (!alg) {
		fail(err, errlen, "the ID token's header has no alg");
		goto out;
	}
	if (strcmp(alg, "none") == 0) {
		fail(err, errlen, "the ID token is unsigned (alg none)");
		goto out;
	}
	if (strncmp(alg, "HS", 2) == 0) {
		fail(err, errlen, "the ID token is signed with a shared secret (%s), which a "
		     "provider's public key cannot verify", show(alg, s1));
		goto out;
	}
	for (a = 0; a < sizeof algs / sizeof algs[0]; a++)
		if (strcmp(alg, algs[a].alg) == 0)
			break;
	if (a == sizeof algs / sizeof algs[0]) {
		fail(err, errlen, "the ID token's alg \"%s\" is not one we verify", show(alg, s1));
		goto out;
	}
	/* RFC 7515 §4.1.11: we understand no extension, so a critical one refuses the token. */
	if (hdr && json_object_get((json_t *)hdr, "crit")) {
		fail(err, errlen, "the ID token's header has crit extensions");
		goto out;
	}
	for (size_t i = 0; k && i < k->n && !verified; i++) {
		const struct oidc_key *key = &k->key[i];
		if (kid && strcmp(key->kid, kid) != 0)
			continue;
		if (!key_fits(key, alg, a))
			continue;
		tried++;
		verified = cjose_jws_verify(jws, key->jwk, &cerr);
	}
	if (tried == 0) {
		fail(err, errlen, "no key of the provider's JWKS has kid \"%s\" for %s",
		     show(kid ? kid : "(none)", s1), alg);
		rc = LIS_OIDC_NO_KEY;
		goto out;
	}
	if (!verified) {
		fail(err, errlen, "the ID token's %s signature does not verify with the key \"%s\"",
		     alg, show(kid ? kid : "(no kid)", s1));
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &cerr)) {
		fail(err, errlen, "the ID token has no payload (%s)", cerr.message);
		goto out;
	}
	claims = json_loadb((const char *)plain, plain_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(claims)) {
		fail(err, errlen, "the ID token's payload is not a JSON object");
		goto out;
	}
	rc = check_claims(claims, x, id, err, errlen);
out:
	json_decref(claims);
	cjose_jws_release(jws);
	if (rc != 0 && id)
		memset(id, 0, sizeof *id);
	return rc;
}
