/* OpenID Connect sign-in (lis/web/lis_oidc.h) against a real provider: oidc-provider under
 * node (tests/oidc/provider.mjs) over HTTPS on 127.0.0.1, with a certificate made here. The
 * browser's part is played by libcurl with a cookie jar: the authorization URL, the dev
 * login form, the consent form, and the redirect to redirect_uri, which is not followed; its
 * code and state go to lis_oidc_finish(). The ID token checks that a real provider will not
 * fail are driven through lis_oidc_verify_id_token() with tokens signed here (libcjose).
 *
 * Needs node and tests/oidc/node_modules (tests/run.sh runs `npm ci` there; this test runs
 * it too when it is missing, and skips when that fails). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "check.h"
#include "harness.h"
#include "lis_oidc.h"
#include "lis_oidc_jwt.h"

#define REDIRECT_PATH "/signin/oidc/callback"

static struct th_tls TLS;
static char DIR_[256];
static int PORT, FOREIGN_PORT;
static char ISSUER[64], FOREIGN_ISSUER[64], REDIRECT_URI[96];

/* ---- the provider ---- */

static bool port_open(void *ctx)
{
	int port = *(int *)ctx, fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	bool ok;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* node_modules of tests/oidc, installed by `npm ci` when missing. NULL: no way to run. */
static const char *provider_ready(const char **why)
{
	static char mod[600];
	const char *dir = th_src("tests/oidc");
	struct th_proc p;
	struct stat st;

	snprintf(mod, sizeof mod, "%s/node_modules/oidc-provider/package.json", dir);
	if (stat(mod, &st) == 0)
		return dir;
	char *const argv[] = { "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts",
			       "--prefix", (char *)dir, NULL };
	th_run(&p, argv, NULL, 300);
	if (p.status != 0)
		t_diag("npm ci in %s: exit %d: %s", dir, p.status, th_flat(p.err));
	th_proc_free(&p);
	if (stat(mod, &st) == 0)
		return dir;
	*why = "tests/oidc/node_modules is missing and `npm ci --prefix tests/oidc` failed";
	return NULL;
}

static pid_t start_provider(const char *dir, int port, const char *mode)
{
	char script[600], ports[16], log[400];
	pid_t pid;
	snprintf(script, sizeof script, "%s/provider.mjs", dir);
	snprintf(ports, sizeof ports, "%d", port);
	snprintf(log, sizeof log, "%s/provider-%s.log", DIR_, mode);
	char *const argv[] = { "node", script, ports, TLS.cert, TLS.key, REDIRECT_URI,
			       (char *)mode, NULL };
	pid = th_spawn(argv, log);
	if (pid < 0)
		return -1;
	if (!th_wait_until(90, 100, port_open, &port, NULL)) {
		char *text = th_read_file(log, NULL);
		t_diag("oidc-provider did not listen on %d: %s", port, th_flat(text));
		free(text);
		th_stop(pid);
		return -1;
	}
	return pid;
}

/* ---- the browser ---- */

struct page {
	char *s;
	size_t len;
};

static size_t keep(char *p, size_t size, size_t n, void *ctx)
{
	struct page *b = ctx;
	char *s = realloc(b->s, b->len + size * n + 1);
	if (!s)
		return 0;
	memcpy(s + b->len, p, size * n);
	b->s = s;
	b->len += size * n;
	b->s[b->len] = '\0';
	return size * n;
}

/* The value of name in the query of url (decoded, malloc'd), or NULL. */
static char *query_param(const char *url, const char *name)
{
	const char *q = strchr(url, '?');
	size_t n = strlen(name);
	while (q) {
		q++;
		if (strncmp(q, name, n) == 0 && q[n] == '=') {
			const char *v = q + n + 1;
			size_t vl = strcspn(v, "&#");
			int outlen;
			char *d = curl_easy_unescape(NULL, v, (int)vl, &outlen);
			char *r = d ? strdup(d) : NULL;
			curl_free(d);
			return r;
		}
		q = strchr(q, '&');
	}
	return NULL;
}

/* Play the browser from the authorization URL to the redirect to REDIRECT_URI: log in as
 * user on the dev login form, consent, and hand back the redirect's code and state
 * (malloc'd). 0, or -1 with a diagnostic. */
static int sign_in(const char *auth_url, const char *user, char **code, char **state)
{
	CURL *c = curl_easy_init();
	char *url = strdup(auth_url), form[200];
	const char *post = NULL;
	int rc = -1;

	*code = *state = NULL;
	curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(c, CURLOPT_CAINFO, TLS.cert);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	for (int step = 0; step < 12 && url; step++) {
		struct page b = { 0 };
		char *loc = NULL, *act;
		long status = 0;
		CURLcode cc;

		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		if (post)
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
		else
			curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
		post = NULL;
		if (cc != CURLE_OK) {
			t_diag("sign-in step %d: %s", step, curl_easy_strerror(cc));
			free(b.s);
			break;
		}
		if (status >= 300 && status < 400 && loc) {
			free(url);
			if (strncmp(loc, REDIRECT_URI, strlen(REDIRECT_URI)) == 0) {
				*code = query_param(loc, "code");
				*state = query_param(loc, "state");
				if (!*code)
					t_diag("redirect without a code: %s", th_flat(loc));
				rc = *code ? 0 : -1;
				url = NULL;
			} else {
				url = strdup(loc);
			}
			free(b.s);
			continue;
		}
		/* A form of the provider's dev interactions: its action, and which prompt. */
		act = b.s ? strstr(b.s, "action=\"") : NULL;
		if (status != 200 || !act) {
			t_diag("sign-in step %d: HTTP %ld without a form: %s", step, status,
			       th_flat(b.s));
			free(b.s);
			break;
		}
		act += 8;
		act[strcspn(act, "\"")] = '\0';
		if (act[0] == '/') {
			/* A path: on the origin of the page the form came from. */
			char *o = strchr(url + 8, '/'), *abs;
			size_t on = o ? (size_t)(o - url) : strlen(url);
			abs = malloc(on + strlen(act) + 1);
			memcpy(abs, url, on);
			memcpy(abs + on, act, strlen(act) + 1);
			free(url);
			url = abs;
		} else {
			free(url);
			url = strdup(act);
		}
		if (strstr(act + strlen(act) + 1, "value=\"login\""))
			snprintf(form, sizeof form, "prompt=login&login=%s&password=any", user);
		else
			snprintf(form, sizeof form, "prompt=consent");
		post = form;
		free(b.s);
	}
	free(url);
	curl_easy_cleanup(c);
	return rc;
}

/* ---- the flow ---- */

static struct lis_oidc_conf conf_for(const char *issuer, const char *client_id,
				     const char *secret, const char *user_claim)
{
	return (struct lis_oidc_conf){ .issuer = issuer, .client_id = client_id,
		.client_secret = secret, .redirect_uri = REDIRECT_URI, .user_claim = user_claim,
		.ca_file = TLS.cert, .timeout_ms = 10000 };
}

/* One sign-in up to the callback: open, begin, the browser's part as user. */
struct flow {
	struct lis_oidc *o;
	struct lis_oidc_pending p;
	char url[2048];
	char *code, *state;
	char err[300];
};

static bool flow_start(struct flow *f, const char *issuer, const char *client_id,
		       const char *secret, const char *user_claim, const char *user)
{
	struct lis_oidc_conf conf = conf_for(issuer, client_id, secret, user_claim);
	memset(f, 0, sizeof *f);
	if (!CHECKF(lis_oidc_open(&f->o, &conf, f->err, sizeof f->err) == 0, "%s", f->err))
		return false;
	if (!CHECKF(lis_oidc_begin(f->o, &f->p, f->url, sizeof f->url, f->err, sizeof f->err)
		    == 0, "%s", f->err))
		return false;
	return CHECK(sign_in(f->url, user, &f->code, &f->state) == 0);
}

static void flow_end(struct flow *f)
{
	free(f->code);
	free(f->state);
	lis_oidc_close(f->o);
}

/* lis_oidc_finish() on f's callback (state: NULL for f's own), which must fail with a
 * message containing want and neither the code nor secret. */
static void finish_refused(struct flow *f, const char *state, const char *want,
			   const char *secret)
{
	struct lis_oidc_identity id;
	CHECK(lis_oidc_finish(f->o, &f->p, f->code, state ? state : f->state, &id, f->err,
			      sizeof f->err) == -1);
	CHECKF(strstr(f->err, want), "%s", f->err);
	CHECKF(!strstr(f->err, f->code) && (!secret || !strstr(f->err, secret)), "%s", f->err);
	CHECK_STR(id.user_key, "");
}

static void test_public_client_rs256_signs_in_alice_by_email(void)
{
	struct lis_oidc_identity id;
	struct flow f;

	if (flow_start(&f, ISSUER, "lis", NULL, NULL, "alice")) {
		CHECK_STR(f.state, f.p.state);
		CHECKF(lis_oidc_finish(f.o, &f.p, f.code, f.state, &id, f.err, sizeof f.err) == 0,
		       "%s", f.err);
		CHECK_STR(id.user_key, "alice@example.org");
		CHECK_STR(id.email, "alice@example.org");
		CHECK_STR(id.name, "Alice Example");
	}
	flow_end(&f);
}

static void test_confidential_client_es256_signs_in_bob_by_sub(void)
{
	struct lis_oidc_identity id;
	struct flow f;

	if (flow_start(&f, ISSUER, "lis-es", "lis-es-secret", "sub", "bob")) {
		CHECKF(lis_oidc_finish(f.o, &f.p, f.code, f.state, &id, f.err, sizeof f.err) == 0,
		       "%s", f.err);
		CHECK_STR(id.user_key, "bob");
		CHECK_STR(id.email, "bob@example.org");
	}
	flow_end(&f);
	/* The wrong secret: the token endpoint refuses the client; the message says so
	 * without the secret. */
	if (flow_start(&f, ISSUER, "lis-es", "not-the-secret", "sub", "bob"))
		finish_refused(&f, NULL, "invalid_client", "not-the-secret");
	flow_end(&f);
}

static void test_authorization_url_carries_pkce_s256_state_and_nonce(void)
{
	struct lis_oidc_conf conf = conf_for(ISSUER, "lis", NULL, NULL);
	struct lis_oidc *o = NULL;
	struct lis_oidc_pending p, p2;
	unsigned char d[SHA256_DIGEST_LENGTH];
	char url[2048], url2[2048], err[300] = "", want[64], *v;

	CHECKF(lis_oidc_open(&o, &conf, err, sizeof err) == 0, "%s", err);
	if (!o)
		return;
	CHECK(lis_oidc_begin(o, &p, url, sizeof url, err, sizeof err) == 0);
	CHECKF(strncmp(url, ISSUER, strlen(ISSUER)) == 0, "%s", url);
	struct { const char *name, *want; } params[] = {
		{ "response_type", "code" }, { "client_id", "lis" },
		{ "redirect_uri", REDIRECT_URI }, { "scope", "openid email profile" },
		{ "state", p.state }, { "nonce", p.nonce }, { "code_challenge_method", "S256" },
	};
	for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
		v = query_param(url, params[i].name);
		CHECK_STR(v, params[i].want);
		free(v);
	}
	/* RFC 7636 §4.2, computed here independently. */
	SHA256((const unsigned char *)p.verifier, strlen(p.verifier), d);
	EVP_EncodeBlock((unsigned char *)want, d, sizeof d);
	for (char *s = want; *s; s++)
		*s = *s == '+' ? '-' : *s == '/' ? '_' : *s;
	want[strcspn(want, "=")] = '\0';
	v = query_param(url, "code_challenge");
	CHECK_STR(v, want);
	free(v);
	CHECK(strlen(p.verifier) == 43 && strlen(p.state) == 43 && strlen(p.nonce) == 43);
	CHECK(strspn(p.verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
	      == 43);
	/* The redirect_uri is percent-encoded in the URL itself. */
	CHECKF(strstr(url, "redirect_uri=https%3A%2F%2F127.0.0.1%3A"), "%s", url);
	/* Fresh values each time. */
	CHECK(lis_oidc_begin(o, &p2, url2, sizeof url2, err, sizeof err) == 0);
	CHECK(strcmp(p.state, p2.state) != 0 && strcmp(p.nonce, p2.nonce) != 0 &&
	      strcmp(p.verifier, p2.verifier) != 0);
	/* Too small a buffer is an error, not a cut URL. */
	CHECK(lis_oidc_begin(o, &p2, url2, 100, err, sizeof err) == -1);
	CHECKF(strstr(err, "does not fit"), "%s", err);
	lis_oidc_close(o);
}

static void test_wrong_state_is_refused_before_the_code_is_spent(void)
{
	struct lis_oidc_identity id;
	struct lis_oidc_pending other;
	struct flow f;
	char url[2048];

	if (flow_start(&f, ISSUER, "lis", NULL, NULL, "alice")) {
		/* Another browser's sign-in state with this callback. */
		CHECK(lis_oidc_begin(f.o, &other, url, sizeof url, f.err, sizeof f.err) == 0);
		finish_refused(&f, other.state, "state", NULL);
		finish_refused(&f, "", "state", NULL);
		finish_refused(&f, "x", "state", NULL);
		/* The code was not spent by the refusals. */
		CHECKF(lis_oidc_finish(f.o, &f.p, f.code, f.state, &id, f.err, sizeof f.err) == 0,
		       "%s", f.err);
		CHECK_STR(id.user_key, "alice@example.org");
	}
	flow_end(&f);
}

static void test_replayed_code_is_refused(void)
{
	struct lis_oidc_identity id;
	struct flow f;

	if (flow_start(&f, ISSUER, "lis", NULL, NULL, "alice")) {
		CHECKF(lis_oidc_finish(f.o, &f.p, f.code, f.state, &id, f.err, sizeof f.err) == 0,
		       "%s", f.err);
		finish_refused(&f, NULL, "token endpoint refused the code: HTTP status 400, "
			       "error invalid_grant", NULL);
	}
	flow_end(&f);
}

/* The provider's jwks_uri publishes other keys than those it signs with: the kid is unknown,
 * the keys are fetched again, and the kid is still unknown. */
static void test_token_signed_by_a_key_not_in_the_jwks_is_refused(void)
{
	struct flow f;
	if (flow_start(&f, FOREIGN_ISSUER, "lis", NULL, NULL, "alice"))
		finish_refused(&f, NULL, "no key of the provider's JWKS has kid", NULL);
	flow_end(&f);
}

static const char *PROVIDER_DIR;
static pid_t MAIN_PID = -1;

/* The provider restarts with new keys (a key roll) after lis_oidc_open() read the old ones:
 * the ID token's kid is unknown, the keys are fetched again, and the sign-in succeeds. */
static void test_rolled_keys_are_fetched_again(void)
{
	struct lis_oidc_identity id;
	struct flow f;
	if (flow_start(&f, ISSUER, "lis", NULL, NULL, "alice")) {
		th_stop(MAIN_PID);
		MAIN_PID = start_provider(PROVIDER_DIR, PORT, "normal");
		CHECK(MAIN_PID > 0);
		free(f.code);
		free(f.state);
		CHECK(lis_oidc_begin(f.o, &f.p, f.url, sizeof f.url, f.err, sizeof f.err) == 0);
		if (CHECK(sign_in(f.url, "alice", &f.code, &f.state) == 0))
			CHECKF(lis_oidc_finish(f.o, &f.p, f.code, f.state, &id, f.err,
					       sizeof f.err) == 0, "%s", f.err);
		CHECK_STR(id.user_key, "alice@example.org");
	}
	flow_end(&f);
}

static void test_unreachable_provider_is_a_clear_error_at_open(void)
{
	char issuer[64], err[300] = "";
	struct lis_oidc *o = (struct lis_oidc *)&o;
	struct lis_oidc_conf conf;

	snprintf(issuer, sizeof issuer, "https://127.0.0.1:%d", th_free_port("127.0.0.1"));
	conf = conf_for(issuer, "lis", NULL, NULL);
	CHECK(lis_oidc_open(&o, &conf, err, sizeof err) == -1);
	CHECK(o == NULL);
	CHECKF(strstr(err, "could not be fetched") && strstr(err, issuer) &&
	       strstr(err, "/.well-known/openid-configuration"), "%s", err);
}

static void test_open_refuses_http_other_issuer_bad_scope_spoilt_discovery_untrusted_ca(void)
{
	char issuer[64], err[300] = "";
	struct lis_oidc *o = NULL;
	struct lis_oidc_conf conf;

	snprintf(issuer, sizeof issuer, "http://127.0.0.1:%d", PORT);
	conf = conf_for(issuer, "lis", NULL, NULL);
	CHECK(lis_oidc_open(&o, &conf, err, sizeof err) == -1);
	CHECKF(strstr(err, "not an https URL"), "%s", err);

	/* A scope without openid asks for no ID token. */
	conf = conf_for(ISSUER, "lis", NULL, NULL);
	conf.scope = "email profile openidx";
	CHECK(lis_oidc_open(&o, &conf, err, sizeof err) == -1);
	CHECKF(strstr(err, "lacks openid"), "%s", err);

	/* The same server under another name: its discovery document names 127.0.0.1. */
	snprintf(issuer, sizeof issuer, "https://localhost:%d", PORT);
	conf = conf_for(issuer, "lis", NULL, NULL);
	CHECK(lis_oidc_open(&o, &conf, err, sizeof err) == -1);
	CHECKF(strstr(err, "names another issuer"), "%s", err);

	/* Discovery documents spoilt by the provider (tests/oidc/provider.mjs). */
	struct { const char *path, *want; } spoilt[] = {
		{ "/huge", "is larger than 65536 bytes" },
		{ "/plain-token", "token_endpoint is not an https URL" },
		{ "/redirect", "HTTP status 302, not 200" },
	};
	for (size_t i = 0; i < sizeof spoilt / sizeof spoilt[0]; i++) {
		snprintf(issuer, sizeof issuer, "%s%s", ISSUER, spoilt[i].path);
		conf = conf_for(issuer, "lis", NULL, NULL);
		CHECK(lis_oidc_open(&o, &conf, err, sizeof err) == -1);
		CHECKF(strstr(err, spoilt[i].want), "%s: %s", spoilt[i].path, err);
	}

	/* A CA that did not sign the provider's certificate. */
	struct th_ca ca;
	if (th_ca_make(&ca, "Other CA") == 0) {
		conf = conf_for(ISSUER, "lis", NULL, NULL);
		conf.ca_file = ca.cert;
		CHECK(lis_oidc_open(&o, &conf, err, sizeof err) == -1);
		CHECKF(strstr(err, "could not be fetched"), "%s", err);
	}
	CHECK(o == NULL);
}

/* ---- the verifier alone, with tokens signed here ---- */

static cjose_jwk_t *T_RSA, *T_EC, *T_OTHER;
static struct lis_oidc_keys *KEYS;
static const char *const T_ISS = "https://idp.example.org";
static const char *const T_NONCE = "n-0S6_WzA2Mj";

static char *b64url(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	int len = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

static json_t *claims(void)
{
	time_t now = time(NULL);
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:b}", "iss", T_ISS,
			 "sub", "alice", "aud", "lis", "exp", (json_int_t)now + 300,
			 "iat", (json_int_t)now, "nonce", T_NONCE, "email", "alice@example.org",
			 "name", "Alice", "email_verified", 1);
}

/* A compact JWS of c (which is consumed) signed with key (alg, kid); malloc'd. */
static char *sign(const cjose_jwk_t *key, const char *alg, const char *kid, json_t *c)
{
	cjose_err e;
	cjose_header_t *h = cjose_header_new(&e);
	char *payload = json_dumps(c, JSON_COMPACT), *out = NULL;
	const char *ser;
	cjose_jws_t *jws;

	json_decref(c);
	cjose_header_set(h, CJOSE_HDR_ALG, alg, &e);
	if (kid)
		cjose_header_set(h, CJOSE_HDR_KID, kid, &e);
	jws = cjose_jws_sign(key, h, (const uint8_t *)payload, strlen(payload), &e);
	if (jws && cjose_jws_export(jws, &ser, &e))
		out = strdup(ser);
	else
		t_diag("cjose_jws_sign %s: %s", alg, e.message);
	cjose_jws_release(jws);
	cjose_header_release(h);
	free(payload);
	return out;
}

static int verify(const char *tok, struct lis_oidc_identity *id, char *err, size_t errlen)
{
	struct lis_oidc_expect x = { .issuer = T_ISS, .client_id = "lis", .nonce = T_NONCE,
		.user_claim = "email", .now = time(NULL) };
	return lis_oidc_verify_id_token(KEYS, tok, tok ? strlen(tok) : 0, &x, id, err, errlen);
}

/* verify() of a token made of c signed by T_RSA, which must fail naming want. */
static void refused(json_t *c, const char *want, const char *what)
{
	struct lis_oidc_identity id;
	char err[300] = "", *tok = sign(T_RSA, "RS256", "k-rsa", c);
	CHECKF(verify(tok, &id, err, sizeof err) == -1 && strstr(err, want), "%s: %s", what,
	       err);
	CHECKF(id.user_key[0] == '\0', "%s", what);
	free(tok);
}

static int make_test_keys(void)
{
	cjose_err e;
	json_t *set = json_pack("{s:[]}", "keys");
	char *text, *pub;
	int rc;
	static const uint8_t e65537[] = { 1, 0, 1 };

	T_RSA = cjose_jwk_create_RSA_random(2048, e65537, sizeof e65537, &e);
	T_OTHER = cjose_jwk_create_RSA_random(2048, e65537, sizeof e65537, &e);
	T_EC = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &e);
	if (!T_RSA || !T_OTHER || !T_EC)
		return -1;
	cjose_jwk_set_kid(T_RSA, "k-rsa", 5, &e);
	cjose_jwk_set_kid(T_EC, "k-ec", 4, &e);
	/* A symmetric key in the set must be left out, never used for HS256. */
	json_array_append_new(json_object_get(set, "keys"),
			      json_pack("{s:s, s:s, s:s}", "kty", "oct", "kid", "k-hs",
					"k", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"));
	const cjose_jwk_t *pubs[] = { T_RSA, T_EC };
	for (size_t i = 0; i < 2; i++) {
		pub = cjose_jwk_to_json(pubs[i], false, &e);
		json_array_append_new(json_object_get(set, "keys"), json_loads(pub, 0, NULL));
		free(pub);
	}
	text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	char err[300] = "";
	rc = lis_oidc_keys_parse(text, strlen(text), &KEYS, err, sizeof err);
	if (rc < 0)
		t_diag("keys: %s", err);
	free(text);
	return rc;
}

static void test_verifier_accepts_rs256_and_es256_and_copies_the_claims(void)
{
	struct lis_oidc_identity id;
	char err[300] = "", *tok;

	CHECK(lis_oidc_keys_count(KEYS) == 2);
	tok = sign(T_RSA, "RS256", "k-rsa", claims());
	CHECKF(verify(tok, &id, err, sizeof err) == 0, "%s", err);
	CHECK_STR(id.user_key, "alice@example.org");
	CHECK_STR(id.name, "Alice");
	free(tok);
	tok = sign(T_EC, "ES256", "k-ec", claims());
	CHECKF(verify(tok, &id, err, sizeof err) == 0, "%s", err);
	free(tok);
	/* No kid: every key of the right kind is tried. */
	tok = sign(T_EC, "ES256", NULL, claims());
	CHECKF(verify(tok, &id, err, sizeof err) == 0, "%s", err);
	free(tok);
	/* Several audiences with azp = client_id. */
	json_t *c = claims();
	json_object_set_new(c, "aud", json_pack("[s, s]", "lis", "other"));
	json_object_set_new(c, "azp", json_string("lis"));
	tok = sign(T_RSA, "RS256", "k-rsa", c);
	CHECKF(verify(tok, &id, err, sizeof err) == 0, "%s", err);
	free(tok);
}

static void test_verifier_refuses_tampered_and_foreign_signatures(void)
{
	struct lis_oidc_identity id;
	char err[300] = "", *tok, *dot, *h, *p, forged[4096];

	/* A payload changed after signing (another user, same signature). */
	tok = sign(T_RSA, "RS256", "k-rsa", claims());
	json_t *c = claims();
	json_object_set_new(c, "email", json_string("mallory@example.org"));
	char *mallory = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	p = b64url(mallory);
	dot = strchr(tok, '.');
	snprintf(forged, sizeof forged, "%.*s.%s%s", (int)(dot - tok), tok, p,
		 strchr(dot + 1, '.'));
	CHECK(verify(forged, &id, err, sizeof err) == -1);
	CHECKF(strstr(err, "signature does not verify"), "%s", err);
	/* One character of the signature changed (to another base64url one). */
	tok[strlen(tok) - 3] = tok[strlen(tok) - 3] == 'A' ? 'B' : 'A';
	CHECK(verify(tok, &id, err, sizeof err) == -1);
	CHECKF(strstr(err, "signature does not verify"), "%s", err);
	free(tok);
	free(p);
	free(mallory);

	/* Signed by another key under a kid of the set. */
	tok = sign(T_OTHER, "RS256", "k-rsa", claims());
	CHECK(verify(tok, &id, err, sizeof err) == -1);
	CHECKF(strstr(err, "signature does not verify"), "%s", err);
	free(tok);
	/* Signed by a key whose kid is not in the set: the caller may fetch the keys again. */
	tok = sign(T_OTHER, "RS256", "k-unknown", claims());
	CHECK(verify(tok, &id, err, sizeof err) == LIS_OIDC_NO_KEY);
	CHECKF(strstr(err, "no key of the provider's JWKS has kid \"k-unknown\""), "%s", err);
	free(tok);
	/* An RSA kid with an EC alg: the key's kind decides, not the token. */
	tok = sign(T_EC, "ES256", "k-rsa", claims());
	CHECK(verify(tok, &id, err, sizeof err) == LIS_OIDC_NO_KEY);
	free(tok);

	/* alg none. */
	h = b64url("{\"alg\":\"none\"}");
	c = claims();
	mallory = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	p = b64url(mallory);
	snprintf(forged, sizeof forged, "%s.%s.", h, p);
	CHECK(verify(forged, &id, err, sizeof err) == -1);
	CHECKF(strstr(err, "unsigned (alg none)") || strstr(err, "not a valid JWS"), "%s", err);
	free(h);
	free(p);
	free(mallory);

	/* HS256 keyed with the RSA key's public JSON, and with a random secret: both refused
	 * before any key is tried. */
	cjose_err e;
	cjose_jwk_t *oct = cjose_jwk_create_oct_random(32, &e);
	tok = sign(oct, "HS256", "k-hs", claims());
	CHECK(verify(tok, &id, err, sizeof err) == -1);
	CHECKF(strstr(err, "shared secret (HS256)"), "%s", err);
	free(tok);
	cjose_jwk_release(oct);

	/* Not three parts. */
	CHECK(verify("ab.cd", &id, err, sizeof err) == -1);
	CHECKF(strstr(err, "compact JWS"), "%s", err);
	/* A part of 4k+1 characters before '=': Debian's libcjose 0.6.2 would assert on it. */
	CHECK(verify("eyJhbGciOiJSUzI1NiJ9.YWJjZ=.c2ln", &id, err, sizeof err) == -1);
	CHECKF(strstr(err, "part 2 is not base64url"), "%s", err);
	CHECK(verify("a.b.c.d.e", &id, err, sizeof err) == -1);
	CHECK(verify("", &id, err, sizeof err) == -1);
}

static void test_verifier_refuses_each_wrong_claim(void)
{
	time_t now = time(NULL);
	json_t *c;

	c = claims();
	json_object_set_new(c, "aud", json_string("someone-else"));
	refused(c, "aud does not contain the client_id", "wrong aud");
	c = claims();
	json_object_set_new(c, "aud", json_pack("[s, s]", "other", "third"));
	refused(c, "aud does not contain", "aud list without us");
	c = claims();
	json_object_del(c, "aud");
	refused(c, "aud does not contain", "no aud");
	c = claims();
	json_object_set_new(c, "aud", json_pack("[s, s]", "lis", "other"));
	refused(c, "several audiences and no azp", "several aud, no azp");
	c = claims();
	json_object_set_new(c, "azp", json_string("other"));
	refused(c, "azp", "azp of another client");
	c = claims();
	json_object_set_new(c, "iss", json_string("https://idp.example.org/"));
	refused(c, "iss", "iss with a trailing slash");
	c = claims();
	json_object_set_new(c, "exp", json_integer(now - 3600));
	refused(c, "expired", "expired");
	c = claims();
	json_object_del(c, "exp");
	refused(c, "no exp", "no exp");
	c = claims();
	json_object_set_new(c, "iat", json_integer(now + 3600));
	refused(c, "in the future", "iat ahead");
	c = claims();
	json_object_set_new(c, "iat", json_integer(now - 86400));
	refused(c, "issued", "iat a day ago");
	c = claims();
	json_object_set_new(c, "nbf", json_integer(now + 3600));
	refused(c, "not valid before", "nbf ahead");
	c = claims();
	json_object_set_new(c, "nonce", json_string("n-0S6_WzA2Mk"));
	refused(c, "nonce", "other nonce");
	c = claims();
	json_object_del(c, "nonce");
	refused(c, "nonce", "no nonce");
	c = claims();
	json_object_set_new(c, "email_verified", json_false());
	refused(c, "not verified", "unverified email");
	c = claims();
	json_object_set_new(c, "email", json_integer(7));
	refused(c, "no usable claim \"email\"", "email not a string");
	c = claims();
	json_object_del(c, "sub");
	refused(c, "no sub", "no sub");

	/* A clock a little behind the provider's is allowed for. */
	struct lis_oidc_identity id;
	char err[300] = "", *tok;
	c = claims();
	json_object_set_new(c, "iat", json_integer(now + LIS_OIDC_SKEW / 2));
	tok = sign(T_RSA, "RS256", "k-rsa", c);
	CHECKF(verify(tok, &id, err, sizeof err) == 0, "%s", err);
	free(tok);
}

static void test_jwks_without_signature_keys_is_refused(void)
{
	struct lis_oidc_keys *k = NULL;
	char err[300] = "";
	const char *oct_only = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}";
	const char *enc_only = "{\"keys\":[{\"kty\":\"EC\",\"use\":\"enc\",\"crv\":\"P-256\","
		"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
		"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
	CHECK(lis_oidc_keys_parse(oct_only, strlen(oct_only), &k, err, sizeof err) == -1);
	CHECKF(strstr(err, "no RSA or EC signature key"), "%s", err);
	const char *odd_x = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"abcde=\","
		"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
	CHECK(lis_oidc_keys_parse(enc_only, strlen(enc_only), &k, err, sizeof err) == -1);
	CHECK(lis_oidc_keys_parse(odd_x, strlen(odd_x), &k, err, sizeof err) == -1);
	CHECK(lis_oidc_keys_parse("[]", 2, &k, err, sizeof err) == -1);
	CHECKF(strstr(err, "no \"keys\" array"), "%s", err);
	CHECK(lis_oidc_keys_parse("{", 1, &k, err, sizeof err) == -1);
	CHECK(k == NULL);
}

/* ---- the whole sign-in, through lisd's self-service page ---- */

/* One GET without following redirects: status, Location and the name=value of the
 * Set-Cookie named cookie_name (each "" when absent). */
struct got {
	long status;
	char location[2048];
	char cookie[256];
	const char *cookie_name;
	struct page body;
};

static size_t got_header(char *p, size_t size, size_t n, void *ctx)
{
	struct got *g = ctx;
	size_t len = size * n;
	char line[2048];
	snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
	line[strcspn(line, "\r\n")] = '\0';
	if (strncasecmp(line, "Location: ", 10) == 0)
		snprintf(g->location, sizeof g->location, "%s", line + 10);
	if (strncasecmp(line, "Set-Cookie: ", 12) == 0 &&
	    strncmp(line + 12, g->cookie_name, strlen(g->cookie_name)) == 0) {
		size_t k = strcspn(line + 12, ";");
		snprintf(g->cookie, sizeof g->cookie, "%.*s",
			 (int)(k < sizeof g->cookie ? k : sizeof g->cookie - 1), line + 12);
	}
	return len;
}

static void get(const char *url, const char *cookie, const char *cookie_name, struct got *g)
{
	CURL *c = curl_easy_init();
	char h[300];
	struct curl_slist *hs = NULL;
	memset(g, 0, sizeof *g);
	g->cookie_name = cookie_name;
	if (cookie) {
		snprintf(h, sizeof h, "Cookie: %s", cookie);
		hs = curl_slist_append(hs, h);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(c, CURLOPT_CAINFO, TLS.cert);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, got_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, g);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &g->body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
	curl_slist_free_all(hs);
	curl_easy_cleanup(c);
}

static int WEB_PORT;

/* lisd with [selfservice] and [oidc] naming the provider: the browser's path from "Sign in
 * with SSO" to the provider, back to lisd's callback, and a session that says who. */
static void test_sso_sign_in_through_lisds_self_service_page(void)
{
	struct th_pg pg = {0};
	struct th_lisd l = {0};
	struct th_proc p;
	char sect[1024], url[2400];
	struct got g;
	char *code = NULL, *state = NULL;

	if (!CHECKF(th_pg_start(&pg) == 0, "PostgreSQL did not start"))
		return;
	th_lisctl(&p, pg.conninfo, "db", "migrate", (char *)NULL);
	bool migrated = CHECKF(p.status == 0, "lisctl db migrate: %s", th_flat(p.err));
	th_proc_free(&p);
	snprintf(sect, sizeof sect,
		 "[selfservice]\nlisten = 127.0.0.1\nport = %d\n"
		 "[oidc]\nissuer = %s\nclient_id = lis\nredirect_uri = %s\nca_file = %s\n",
		 WEB_PORT, ISSUER, REDIRECT_URI, TLS.cert);
	if (!migrated || !CHECKF(th_lisd_start(&l, "127.0.0.1", &TLS, pg.conninfo, NULL, sect)
				 == 0, "lisd did not start"))
		goto out;
	if (!CHECKF(th_wait_until(30, 50, port_open, &WEB_PORT, NULL),
		    "the self-service listener never listened"))
		goto out;

	snprintf(url, sizeof url, "https://127.0.0.1:%d/signin/oidc", WEB_PORT);
	get(url, NULL, "__Host-lis_oidc=", &g);
	free(g.body.s);
	CHECKF(g.status == 302 || g.status == 303, "GET /signin/oidc: HTTP %ld", g.status);
	CHECKF(strncmp(g.location, ISSUER, strlen(ISSUER)) == 0 &&
	       strstr(g.location, "code_challenge_method=S256"),
	       "not sent to the provider: %s", g.location);
	char pending[256];
	snprintf(pending, sizeof pending, "%s", g.cookie);
	if (!CHECKF(pending[0] && g.location[0], "no sign-in cookie or no Location"))
		goto out;
	if (!CHECKF(sign_in(g.location, "alice", &code, &state) == 0,
		    "the provider did not send the browser back with a code"))
		goto out;

	/* the callback without the browser's sign-in cookie: refused, nothing signed in */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/signin/oidc/callback?code=%s&state=%s",
		 WEB_PORT, code, state);
	get(url, NULL, "__Host-lis_session=", &g);
	free(g.body.s);
	CHECKF(g.status >= 400 && !g.cookie[0], "callback without its cookie: HTTP %ld, %s",
	       g.status, g.cookie);
	/* with it: a session */
	get(url, pending, "__Host-lis_session=", &g);
	free(g.body.s);
	CHECKF(g.status == 302 || g.status == 303, "callback: HTTP %ld", g.status);
	if (!CHECKF(g.cookie[0], "the callback set no session cookie"))
		goto out;
	char session[256];
	snprintf(session, sizeof session, "%s", g.cookie);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/api/v1/me", WEB_PORT);
	get(url, session, "-", &g);
	CHECKF(g.status == 200 && g.body.s && strstr(g.body.s, "alice@example.org"),
	       "GET /api/v1/me: HTTP %ld %s", g.status, th_flat(g.body.s));
	free(g.body.s);
	/* the same code again: spent at the provider, no second session */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/signin/oidc/callback?code=%s&state=%s",
		 WEB_PORT, code, state);
	get(url, pending, "__Host-lis_session=", &g);
	free(g.body.s);
	CHECKF(!g.cookie[0] || strcmp(g.cookie, "__Host-lis_session=") == 0,
	       "a replayed callback signed in again: HTTP %ld", g.status);
	/* lisd's own record: the user row made by the first sign-in */
	char *const psql[] = {"psql", "-X", "-At", pg.conninfo, "-c",
			      "SELECT source FROM lis_user WHERE key = 'alice@example.org'", NULL};
	th_run(&p, psql, NULL, 30);
	CHECKF(p.status == 0 && strstr(p.out, "oidc"), "lis_user: %s %s", th_flat(p.out),
	       th_flat(p.err));
	th_proc_free(&p);
out:
	free(code);
	free(state);
	if (l.pid > 0)
		CHECKF(th_lisd_stop(&l) == 0, "lisd did not stop cleanly");
	th_pg_stop(&pg);
}

static void fail_here(void)
{
	CHECKF(false, "see the diagnostics above");
}

int main(void)
{
	const char *why = NULL, *dir;
	pid_t foreign_pid = -1;
	char *tmp;

	if (make_test_keys() == 0) {
		t_run("test_verifier_accepts_rs256_and_es256_and_copies_the_claims",
		      test_verifier_accepts_rs256_and_es256_and_copies_the_claims);
		t_run("test_verifier_refuses_tampered_and_foreign_signatures",
		      test_verifier_refuses_tampered_and_foreign_signatures);
		t_run("test_verifier_refuses_each_wrong_claim",
		      test_verifier_refuses_each_wrong_claim);
	} else {
		t_skip("test_verifier", "libcjose could not make test keys");
	}
	t_run("test_jwks_without_signature_keys_is_refused",
	      test_jwks_without_signature_keys_is_refused);

	tmp = th_tmpdir("oidc");
	if (!tmp || th_tls_make(&TLS) != 0) {
		t_skip("test_oidc_provider", "no temporary directory or test certificate");
		goto done;
	}
	snprintf(DIR_, sizeof DIR_, "%s", tmp);
	PORT = th_free_port("127.0.0.1");
	FOREIGN_PORT = th_free_port("127.0.0.1");
	snprintf(ISSUER, sizeof ISSUER, "https://127.0.0.1:%d", PORT);
	snprintf(FOREIGN_ISSUER, sizeof FOREIGN_ISSUER, "https://127.0.0.1:%d", FOREIGN_PORT);
	WEB_PORT = th_free_port("127.0.0.1");
	snprintf(REDIRECT_URI, sizeof REDIRECT_URI, "https://127.0.0.1:%d" REDIRECT_PATH,
		 WEB_PORT);

	t_run("test_unreachable_provider_is_a_clear_error_at_open",
	      test_unreachable_provider_is_a_clear_error_at_open);
	dir = provider_ready(&why);
	if (dir)
		MAIN_PID = start_provider(dir, PORT, "normal");
	PROVIDER_DIR = dir;
	if (!dir) {
		t_skip("test_oidc_provider", why);
		goto done;
	}
	if (MAIN_PID < 0) {
		t_run("test_oidc_provider_starts", fail_here);
		goto done;
	}
	t_run("test_public_client_rs256_signs_in_alice_by_email",
	      test_public_client_rs256_signs_in_alice_by_email);
	t_run("test_confidential_client_es256_signs_in_bob_by_sub",
	      test_confidential_client_es256_signs_in_bob_by_sub);
	t_run("test_authorization_url_carries_pkce_s256_state_and_nonce",
	      test_authorization_url_carries_pkce_s256_state_and_nonce);
	t_run("test_wrong_state_is_refused_before_the_code_is_spent",
	      test_wrong_state_is_refused_before_the_code_is_spent);
	t_run("test_replayed_code_is_refused", test_replayed_code_is_refused);
	t_run("test_open_refuses_http_other_issuer_bad_scope_spoilt_discovery_untrusted_ca",
	      test_open_refuses_http_other_issuer_bad_scope_spoilt_discovery_untrusted_ca);
	t_run("test_sso_sign_in_through_lisds_self_service_page",
	      test_sso_sign_in_through_lisds_self_service_page);
	t_run("test_rolled_keys_are_fetched_again", test_rolled_keys_are_fetched_again);
	foreign_pid = start_provider(dir, FOREIGN_PORT, "foreign-jwks");
	if (foreign_pid > 0)
		t_run("test_token_signed_by_a_key_not_in_the_jwks_is_refused",
		      test_token_signed_by_a_key_not_in_the_jwks_is_refused);
	else
		t_run("test_foreign_jwks_provider_starts", fail_here);
done:
	if (foreign_pid > 0)
		th_stop(foreign_pid);
	if (MAIN_PID > 0)
		th_stop(MAIN_PID);
	lis_oidc_keys_free(KEYS);
	cjose_jwk_release(T_RSA);
	cjose_jwk_release(T_OTHER);
	cjose_jwk_release(T_EC);
	return t_done();
}
