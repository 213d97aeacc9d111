/* OpenID Connect sign-in (lis_oidc.h): discovery, the authorization URL with PKCE, the code
 * exchange, and the ID token checked by lis_oidc_jwt.c. Every request to the provider is
 * HTTPS with the peer verified, bounded in time and in size, and never follows a redirect. */
#include "lis_oidc.h"
#include "lis_oidc_jwt.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "lis_strbuf.h"

#define fail(...) lis_oidc_fail(__VA_ARGS__)

#define DOC_MAX (64 * 1024)       /* bytes of a discovery document or a token response */
#define CODE_MAX 2048             /* bytes of an authorization code */
#define PENDING_MAX_AGE 600       /* seconds a sign-in may take between begin and finish */
#define TIMEOUT_DEFAULT 5000

struct lis_oidc {
	char *issuer, *client_id, *client_secret, *redirect_uri, *scope, *user_claim, *ca_file;
	long timeout_ms;
	char *authorization_endpoint, *token_endpoint, *jwks_uri;
	pthread_mutex_t lock;         /* over keys: finish may replace them */
	struct lis_oidc_keys *keys;
};

static bool is_https(const char *url)
{
	return url && strncmp(url, "https://", 8) == 0 && url[8] != '\0' && url[8] != '/';
}

/* RFC 4648 §5 without padding, into out (at least 4 * ceil(n / 3) + 1 bytes). */
static void base64url(const unsigned char *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
}

/* RFC 3986 §2.3: all but the unreserved characters percent-encoded (which is also right for
 * application/x-www-form-urlencoded, RFC 6749 Appendix B). */
static void put_encoded(struct strbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			strbuf_put(b, (const char *)&c, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			strbuf_put(b, e, 3);
		}
	}
}

static void put_param(struct strbuf *b, const char *name, const char *value)
{
	if (b->len > 0 && b->s[b->len - 1] != '?' && b->s[b->len - 1] != '&')
		strbuf_puts(b, "&");
	strbuf_puts(b, name);
	strbuf_puts(b, "=");
	put_encoded(b, value);
}

/* ---- HTTPS to the provider ---- */

struct body {
	char *s;
	size_t len;
	bool too_big;
};

static size_t take(char *p, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t add = size * n;
	char *s;
	if (b->len + add > DOC_MAX) {
		b->too_big = true;
		return 0;
	}
	s = realloc(b->s, b->len + add + 1);
	if (!s)
		return 0;
	memcpy(s + b->len, p, add);
	b->s = s;
	b->len += add;
	b->s[b->len] = '\0';
	return add;
}

/* GET url (form == NULL) or POST form to it; the answer's JSON object in *out. what names the
 * request in errors ("the discovery document"). auth is an Authorization header line or NULL.
 * Returns the HTTP status (> 0) with *out set when the body is a JSON object (NULL else), or
 * -1 with err set when there was no usable answer. */
static long request(const struct lis_oidc *o, const char *what, const char *url,
		    const char *form, const char *auth, json_t **out, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *h, *h2;
	struct body b = { 0 };
	json_error_t jerr;
	CURLcode cc;
	long status = -1;
	CURL *c;

	*out = NULL;
	c = curl_easy_init();
	if (!c)
		return fail(err, errlen, "%s: cannot start libcurl", what);
	h = curl_slist_append(NULL, "Accept: application/json");
	h2 = h && auth ? curl_slist_append(h, auth) : h;
	if (!h2) {
		curl_slist_free_all(h);
		curl_easy_cleanup(c);
		return fail(err, errlen, "%s: out of memory", what);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)DOC_MAX);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "lis-oidc");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (form) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	}
	cc = curl_easy_perform(c);
	if (b.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		fail(err, errlen, "%s at %s is larger than %d bytes", what, url, DOC_MAX);
	} else if (cc != CURLE_OK) {
		fail(err, errlen, "%s at %s could not be fetched: %s", what, url,
		     cerr[0] ? cerr : curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		*out = b.s ? json_loadb(b.s, b.len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
		if (*out && !json_is_object(*out)) {
			json_decref(*out);
			*out = NULL;
		}
	}
	if (b.s)
		OPENSSL_cleanse(b.s, b.len);
	free(b.s);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

/* GET a JSON document that must come with 200. */
static json_t *get_json(const struct lis_oidc *o, const char *what, const char *url, char *err,
			size_t errlen)
{
	json_t *doc;
	long status = request(o, what, url, NULL, NULL, &doc, err, errlen);
	if (status < 0)
		return NULL;
	if (status != 200) {
		json_decref(doc);
		fail(err, errlen, "%s at %s: HTTP status %ld, not 200", what, url, status);
		return NULL;
	}
	if (!doc)
		fail(err, errlen, "%s at %s is not a JSON object", what, url);
	return doc;
}

/* Fetch jwks_uri and parse it; on success the new set replaces o->keys (caller holds lock). */
static int fetch_keys(struct lis_oidc *o, char *err, size_t errlen)
{
	struct lis_oidc_keys *k;
	char *text, e[200];
	json_t *doc = get_json(o, "the JWKS", o->jwks_uri, err, errlen);
	int rc;
	if (!doc)
		return -1;
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text)
		return fail(err, errlen, "the JWKS at %s: out of memory", o->jwks_uri);
	rc = lis_oidc_keys_parse(text, strlen(text), &k, e, sizeof e);
	free(text);
	if (rc < 0)
		return fail(err, errlen, "%s: %s", o->jwks_uri, e);
	lis_oidc_keys_free(o->keys);
	o->keys = k;
	return 0;
}

/* ---- open, close ---- */

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;
	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

/* A string member of the discovery document that must be an https URL. */
static char *endpoint(json_t *doc, const char *name, char *err, size_t errlen)
{
	const char *v = json_string_value(json_object_get(doc, name));
	char *d;
	if (!v) {
		fail(err, errlen, "the discovery document has no %s", name);
		return NULL;
	}
	if (!is_https(v) || strlen(v) > 1024) {
		fail(err, errlen, "the discovery document's %s is not an https URL", name);
		return NULL;
	}
	d = strdup(v);
	if (!d)
		fail(err, errlen, "out of memory");
	return d;
}

static bool offers_s256(json_t *doc)
{
	json_t *m = json_object_get(doc, "code_challenge_methods_supported"), *v;
	size_t i;
	if (!m)
		return true;  /* not said; the token endpoint checks the verifier all the same */
	json_array_foreach(m, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), "S256") == 0)
			return true;
	return false;
}

/* Whether the space-separated list has word (RFC 6749 §3.3 scopes). */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

int lis_oidc_open(struct lis_oidc **out, const struct lis_oidc_conf *conf, char *err,
		  size_t errlen)
{
	struct lis_oidc *o;
	char url[1200], e[300];
	struct strbuf b;
	const char *iss;
	json_t *doc;
	bool oom = false;
	size_t n;

	*out = NULL;
	if (!conf->issuer || !conf->client_id || !conf->redirect_uri)
		return fail(err, errlen, "[oidc] needs issuer, client_id and redirect_uri");
	/* Discovery §3: an https URL with no query or fragment. */
	if (!is_https(conf->issuer) || strpbrk(conf->issuer, "?#"))
		return fail(err, errlen, "the issuer %s is not an https URL without query or "
			    "fragment", conf->issuer);
	if (!is_https(conf->redirect_uri))
		return fail(err, errlen, "the redirect_uri %s is not an https URL",
			    conf->redirect_uri);
	if (conf->scope && !has_word(conf->scope, "openid"))
		return fail(err, errlen, "the scope \"%s\" lacks openid (OpenID Connect Core "
			    "1.0 §3.1.2.1)", conf->scope);
	n = strlen(conf->issuer);
	if (n > 1024)
		return fail(err, errlen, "the issuer is longer than 1024 characters");
	o = calloc(1, sizeof *o);
	if (!o)
		return fail(err, errlen, "out of memory");
	pthread_mutex_init(&o->lock, NULL);
	o->issuer = dup_or_null(conf->issuer, &oom);
	o->client_id = dup_or_null(conf->client_id, &oom);
	o->client_secret = dup_or_null(conf->client_secret, &oom);
	o->redirect_uri = dup_or_null(conf->redirect_uri, &oom);
	o->scope = dup_or_null(conf->scope ? conf->scope : "openid email profile", &oom);
	o->user_claim = dup_or_null(conf->user_claim ? conf->user_claim : "email", &oom);
	o->ca_file = dup_or_null(conf->ca_file, &oom);
	o->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : TIMEOUT_DEFAULT;
	if (oom) {
		lis_oidc_close(o);
		return fail(err, errlen, "out of memory");
	}

	/* OpenID Connect Discovery 1.0 §4: the issuer without its trailing slash, then
	 * /.well-known/openid-configuration. */
	strbuf_init(&b, url, sizeof url);
	strbuf_put(&b, o->issuer, o->issuer[n - 1] == '/' ? n - 1 : n);
	strbuf_puts(&b, "/.well-known/openid-configuration");
	doc = get_json(o, "the discovery document", url, e, sizeof e);
	if (!doc)
		goto bad;
	/* Discovery §4.3: the issuer in the document is exactly the one we were given. */
	iss = json_string_value(json_object_get(doc, "issuer"));
	if (!iss || strcmp(iss, o->issuer) != 0) {
		fail(e, sizeof e, "the discovery document at %s names another issuer", url);
		json_decref(doc);
		goto bad;
	}
	if (!(o->authorization_endpoint = endpoint(doc, "authorization_endpoint", e, sizeof e)) ||
	    !(o->token_endpoint = endpoint(doc, "token_endpoint", e, sizeof e)) ||
	    !(o->jwks_uri = endpoint(doc, "jwks_uri", e, sizeof e))) {
		json_decref(doc);
		goto bad;
	}
	if (!offers_s256(doc)) {
		fail(e, sizeof e, "the provider %s does not offer PKCE with S256", o->issuer);
		json_decref(doc);
		goto bad;
	}
	json_decref(doc);
	if (fetch_keys(o, e, sizeof e) < 0)
		goto bad;
	*out = o;
	return 0;
bad:
	fail(err, errlen, "OIDC provider %s: %s", o->issuer, e);
	lis_oidc_close(o);
	return -1;
}

void lis_oidc_close(struct lis_oidc *o)
{
	if (!o)
		return;
	if (o->client_secret) {
		OPENSSL_cleanse(o->client_secret, strlen(o->client_secret));
		free(o->client_secret);
	}
	free(o->issuer);
	free(o->client_id);
	free(o->redirect_uri);
	free(o->scope);
	free(o->user_claim);
	free(o->ca_file);
	free(o->authorization_endpoint);
	free(o->token_endpoint);
	free(o->jwks_uri);
	lis_oidc_keys_free(o->keys);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/* ---- begin ---- */

/* 32 random bytes, base64url: 43 characters (RFC 7636 §4.1 asks for 256 bits of entropy). */
static int random_text(char *out, size_t size)
{
	unsigned char r[32];
	if (size < 44 || RAND_bytes(r, sizeof r) != 1)
		return -1;
	base64url(r, sizeof r, out);
	OPENSSL_cleanse(r, sizeof r);
	return 0;
}

int lis_oidc_begin(struct lis_oidc *o, struct lis_oidc_pending *p, char *url, size_t urllen,
		   char *err, size_t errlen)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char challenge[48];
	struct strbuf b;

	memset(p, 0, sizeof *p);
	if (random_text(p->state, sizeof p->state) < 0 ||
	    random_text(p->nonce, sizeof p->nonce) < 0 ||
	    random_text(p->verifier, sizeof p->verifier) < 0) {
		memset(p, 0, sizeof *p);
		return fail(err, errlen, "no random bytes from OpenSSL for the sign-in");
	}
	p->created = time(NULL);
	/* RFC 7636 §4.2: S256, code_challenge = BASE64URL(SHA256(ASCII(code_verifier))). */
	SHA256((const unsigned char *)p->verifier, strlen(p->verifier), digest);
	base64url(digest, sizeof digest, challenge);

	strbuf_init(&b, url, urllen);
	strbuf_puts(&b, o->authorization_endpoint);
	strbuf_puts(&b, strchr(o->authorization_endpoint, '?') ? "&" : "?");
	put_param(&b, "response_type", "code");
	put_param(&b, "client_id", o->client_id);
	put_param(&b, "redirect_uri", o->redirect_uri);
	put_param(&b, "scope", o->scope);
	put_param(&b, "state", p->state);
	put_param(&b, "nonce", p->nonce);
	put_param(&b, "code_challenge", challenge);
	put_param(&b, "code_challenge_method", "S256");
	if (b.cut) {
		memset(p, 0, sizeof *p);
		return fail(err, errlen, "the authorization URL does not fit in %zu bytes", urllen);
	}
	return 0;
}

/* ---- finish ---- */

/* RFC 6749 §2.3.1: client_secret_basic is Basic over the form-encoded id and secret. */
static int basic_auth(const struct lis_oidc *o, char *line, size_t size)
{
	char raw[1024];
	struct strbuf b;
	size_t n;
	strbuf_init(&b, raw, sizeof raw);
	put_encoded(&b, o->client_id);
	strbuf_puts(&b, ":");
	put_encoded(&b, o->client_secret);
	n = b.len;
	if (b.cut || size < 22 + 4 * ((n + 2) / 3) + 1) {
		OPENSSL_cleanse(raw, sizeof raw);
		return -1;
	}
	memcpy(line, "Authorization: Basic ", 21);
	EVP_EncodeBlock((unsigned char *)line + 21, (const unsigned char *)raw, (int)n);
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

/* An error code of the token endpoint (RFC 6749 §5.2), safe to quote: "" when none. */
static const char *error_code(json_t *doc, char out[48])
{
	const char *v = json_string_value(json_object_get(doc, "error"));
	size_t i = 0;
	/* §5.2: error is %x20-21 / %x23-5B / %x5D-7E; anything else is not quoted. */
	for (; v && v[i] && i < 40; i++) {
		if (v[i] < 0x20 || v[i] > 0x7e || v[i] == '"' || v[i] == '\\')
			return "";
		out[i] = v[i];
	}
	out[i] = '\0';
	return v ? out : "";
}

/* POST the code to the token endpoint; the ID token (malloc'd) in *id_token. */
static int exchange(struct lis_oidc *o, const struct lis_oidc_pending *p, const char *code,
		    char **id_token, char *err, size_t errlen)
{
	char form[4096], auth[1500], ec[48];
	struct strbuf b;
	json_t *doc;
	const char *tok;
	long status;

	*id_token = NULL;
	strbuf_init(&b, form, sizeof form);
	put_param(&b, "grant_type", "authorization_code");
	put_param(&b, "code", code);
	put_param(&b, "redirect_uri", o->redirect_uri);
	put_param(&b, "code_verifier", p->verifier);
	if (!o->client_secret)
		put_param(&b, "client_id", o->client_id);  /* RFC 6749 §4.1.3: a public client */
	if (b.cut) {
		OPENSSL_cleanse(form, sizeof form);
		return fail(err, errlen, "the token request does not fit in %zu bytes",
			    sizeof form);
	}
	if (o->client_secret && basic_auth(o, auth, sizeof auth) < 0) {
		OPENSSL_cleanse(form, sizeof form);
		return fail(err, errlen, "the client_id and client_secret are too long for Basic "
			    "authentication");
	}
	status = request(o, "the token endpoint", o->token_endpoint, form,
			 o->client_secret ? auth : NULL, &doc, err, errlen);
	OPENSSL_cleanse(form, sizeof form);
	OPENSSL_cleanse(auth, sizeof auth);
	if (status < 0)
		return -1;
	if (status != 200) {
		fail(err, errlen, "the token endpoint refused the code: HTTP status %ld%s%s",
		     status, error_code(doc, ec)[0] ? ", error " : "", error_code(doc, ec));
		json_decref(doc);
		return -1;
	}
	tok = json_string_value(json_object_get(doc, "id_token"));
	if (!tok) {
		json_decref(doc);
		return fail(err, errlen, "the token endpoint's answer has no id_token");
	}
	*id_token = strdup(tok);
	json_decref(doc);
	if (!*id_token)
		return fail(err, errlen, "out of memory");
	return 0;
}

int lis_oidc_finish(struct lis_oidc *o, const struct lis_oidc_pending *p, const char *code,
		    const char *state, struct lis_oidc_identity *id, char *err, size_t errlen)
{
	struct lis_oidc_expect x;
	char *tok = NULL, e[300];
	size_t n;
	int rc;

	memset(id, 0, sizeof *id);
	/* RFC 6749 §10.12: the callback must answer the request this browser started. */
	n = strnlen(p->state, sizeof p->state);
	if (n == 0 || n == sizeof p->state || !state || strlen(state) != n ||
	    CRYPTO_memcmp(state, p->state, n) != 0)
		return fail(err, errlen, "the callback's state is not the sign-in's");
	if (time(NULL) - p->created > PENDING_MAX_AGE || time(NULL) < p->created)
		return fail(err, errlen, "the sign-in is older than %d s; start again",
			    PENDING_MAX_AGE);
	if (!code || !code[0] || strlen(code) > CODE_MAX)
		return fail(err, errlen, "the callback has no code (or one over %d bytes)",
			    CODE_MAX);
	if (exchange(o, p, code, &tok, err, errlen) < 0)
		return -1;

	x = (struct lis_oidc_expect){ .issuer = o->issuer, .client_id = o->client_id,
		.nonce = p->nonce, .user_claim = o->user_claim, .now = time(NULL) };
	pthread_mutex_lock(&o->lock);
	rc = lis_oidc_verify_id_token(o->keys, tok, strlen(tok), &x, id, e, sizeof e);
	/* The provider may have rolled its keys since open: fetch them again, once. */
	if (rc == LIS_OIDC_NO_KEY) {
		if (fetch_keys(o, e, sizeof e) == 0)
			rc = lis_oidc_verify_id_token(o->keys, tok, strlen(tok), &x, id, e,
						      sizeof e);
		else
			rc = -1;
	}
	pthread_mutex_unlock(&o->lock);
	OPENSSL_cleanse(tok, strlen(tok));
	free(tok);
	if (rc != 0)
		return fail(err, errlen, "%s", e);
	return 0;
}
