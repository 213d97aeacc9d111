/* The self-service listener (lis_web.h): its libmicrohttpd daemon, the routes, sessions and
 * their cookie, the CSRF check, sign-in (LDAP, OpenID Connect) and its rate limit. The JSON
 * API is lis_web_api.c, the HTML page lis_web_page.c. */
#include "lis_web.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "lis_ldap.h"
#include "lis_log.h"
#include "lis_oidc.h"
#include "lis_secret.h"
#include "lis_web_priv.h"

#define WEB_CONNECTION_LIMIT 256
#define WEB_TIMEOUT_S 30
#define WEB_THREADS 2
#define SESSION_COOKIE "__Host-lis_session"
#define OIDC_COOKIE "__Host-lis_oidc"
#define OIDC_PENDING_S 600        /* a sign-in at the provider may take this long */
#define OIDC_RETRY_S 30           /* a provider that could not be opened is tried again */
#define RATE_SLOTS 1024
#define PENDING_SLOTS 256
#define USER_MAX 128

/* Sign-in attempts of one key (a client address, a user name) in the current minute. */
struct rate {
	char key[USER_MAX + 4];
	time_t minute;
	unsigned n;
};

/* An OpenID Connect sign-in between begin and callback, found by the SHA-256 of the secret
 * of its cookie; created 0: a free slot. */
struct pending {
	unsigned char hash[32];
	struct lis_oidc_pending p;
};

struct lis_web {
	struct MHD_Daemon *mhd;
	const struct lis_config *cfg;
	struct lis_iso *iso;
	int (*preview)(const struct lis_web_device *dev, struct lis_web_answer *a);
	pthread_mutex_t oidc_lock;       /* oidc, oidc_tried */
	struct lis_oidc *oidc;           /* NULL: no [oidc], or not opened yet */
	time_t oidc_tried;
	bool oidc_secret_ok;             /* client_secret_file read (or none needed) */
	char oidc_secret[512];
	char csp[256];
	pthread_mutex_t lock;            /* rates, pending */
	struct rate rates[RATE_SLOTS];
	struct pending pending[PENDING_SLOTS];
	atomic_bool starting;
	char start_msg[256];
};

static struct lis_oidc *oidc_get(struct lis_web *w);

/* ---- answers ---- */

enum MHD_Result web_reply(struct web_req *r, unsigned status, const char *type,
			  const char *body, size_t n, const char *cookie, const char *location)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(n, (void *)body,
								     MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "Content-Security-Policy", r->w->csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* not no-referrer: browsers would then send "Origin: null" with the forms' POSTs,
	 * which origin_ok() refuses */
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (cookie)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	if (r->clear_oidc)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, OIDC_COOKIE "=; Secure; "
					"HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
	if (location)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"lis\"");
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result web_json(struct web_req *r, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return web_reply(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
				 "{\"error\":\"out of memory\"}", 25, NULL, NULL);
	enum MHD_Result ret = web_reply(r, status, "application/json", text, strlen(text), NULL,
					NULL);
	free(text);
	return ret;
}

enum MHD_Result web_json_error(struct web_req *r, unsigned status, const char *msg)
{
	return web_json(r, status, json_pack("{ss}", "error", msg));
}

struct db_conn *web_db(struct web_req *r)
{
	struct lis_error err = {0};
	if (!r->db && !(r->db = db_connect(r->cfg->conninfo, &err))) {
		r->db_down = true;
		lis_log(LIS_LOG_WARN, "selfservice", "result=database_down reason=%s",
			WEB_LV(err.msg));
	}
	return r->db;
}

/* ---- sessions, tokens, CSRF ---- */

bool web_auth(struct web_req *r)
{
	struct lis_error err = {0};
	const char *authz = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
							 SESSION_COOKIE);
	const char *secret = NULL;
	if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
		secret = authz + 7;
		r->via = "api";
	} else if (cookie) {
		secret = cookie;
		r->via = "web";
	}
	if (!secret || strlen(secret) > 200 || !web_db(r))
		return false;
	unsigned char h[32];
	lis_secret_hash(secret, h);
	int found = strcmp(r->via, "api") == 0 ? db_token_find(r->db, h, &r->actor, &err)
					       : db_web_session_find(r->db, h, &r->actor, &err);
	if (found < 0)
		lis_log(LIS_LOG_WARN, "selfservice", "result=error reason=%s", WEB_LV(err.msg));
	r->db_down = found < 0; /* 503, not 401 */
	if (found == 1)
		memcpy(r->session_hash, h, sizeof h);
	r->authed = found == 1;
	return r->authed;
}

bool web_csrf_ok(const struct web_req *r, const char *given)
{
	if (!r->authed)
		return false;
	if (strcmp(r->via, "api") == 0)
		return true;
	return given && r->actor.csrf[0] && lis_secret_equal(given, r->actor.csrf);
}

/* ---- sign-in ---- */

/* Count an attempt of key; false when it is over [selfservice] signin_rate this minute. */
static bool rate_take(struct lis_web *w, const char *key)
{
	time_t minute = time(NULL) / 60;
	unsigned long h = 5381;
	for (const char *p = key; *p; p++)
		h = h * 33 + (unsigned char)*p;
	pthread_mutex_lock(&w->lock);
	/* a slot per key by its hash; keys that collide within a minute share its count,
	 * which errs on refusing */
	struct rate *s = &w->rates[h % RATE_SLOTS];
	if (s->minute != minute) {
		/* a longer key is kept cut: it only names the slot */
		snprintf(s->key, sizeof s->key, "%.*s", (int)sizeof s->key - 1, key);
		s->minute = minute;
		s->n = 0;
	}
	bool ok = ++s->n <= w->cfg->web_signin_rate;
	pthread_mutex_unlock(&w->lock);
	return ok;
}

/* A user name as lis_user keys it: 1..128 bytes of letters, digits and . _ @ - + */
static bool user_name_is_valid(const char *u)
{
	size_t n = strlen(u);
	if (n == 0 || n > USER_MAX)
		return false;
	for (const char *p = u; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._@-+", *p)))
			return false;
	return true;
}

/* The user signed in (LDAP or OIDC): their lis_user row, a session, its cookie, and the
 * main page (303 to /). */
static enum MHD_Result start_session(struct web_req *r, const char *user, const char *method,
				     const char *name, const char *email)
{
	struct lis_error err = {0};
	if (!web_db(r))
		return web_page_signin(r, MHD_HTTP_SERVICE_UNAVAILABLE, "The database cannot be "
				       "reached: sign-in is not possible now. Emergency calls are "
				       "not affected; try again later.", user);
	int active = db_web_user_signin(r->db, user, method, name, email, &err);
	if (active == 0) {
		lis_log(LIS_LOG_INFO, "selfservice", "event=signin method=%s user=%s from=%s "
			"result=deactivated", method, user, r->from);
		return web_page_signin(r, MHD_HTTP_FORBIDDEN, "Your account is deactivated: ask "
				       "the help desk.", user);
	}
	char secret[LIS_SECRET_TEXT], csrf[LIS_SECRET_TEXT];
	unsigned char h[32];
	if (active < 0 || lis_secret_new(secret) < 0 || lis_secret_new(csrf) < 0 ||
	    (lis_secret_hash(secret, h), db_web_session_new(r->db, h, user, method, csrf, r->from,
							    r->cfg->web_session_lifetime,
							    &err)) < 0) {
		lis_log(LIS_LOG_WARN, "selfservice", "event=signin user=%s result=error "
			"reason=%s", user, WEB_LV(err.msg));
		return web_page_signin(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Signing in failed on "
				       "our side; try again later.", user);
	}
	lis_log(LIS_LOG_INFO, "selfservice", "event=signin method=%s user=%s from=%s result=ok",
		method, user, r->from);
	char cookie[160];
	snprintf(cookie, sizeof cookie, SESSION_COOKIE "=%s; Secure; HttpOnly; SameSite=Strict; "
		 "Path=/; Max-Age=%lu", secret, r->cfg->web_session_lifetime);
	OPENSSL_cleanse(secret, sizeof secret);
	return web_reply(r, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", "signed in\n", 10,
			 cookie, "/");
}

static enum MHD_Result signin_ldap(struct web_req *r)
{
	char user[USER_MAX + 2], password[512], why[300];
	if (!web_form_value(r, "user", user, sizeof user))
		user[0] = '\0';
	if (!web_form_value(r, "password", password, sizeof password))
		password[0] = '\0';
	char addr_key[80], user_key[USER_MAX + 8];
	snprintf(addr_key, sizeof addr_key, "a:%s", r->from);
	snprintf(user_key, sizeof user_key, "u:%s", user);
	bool ok_addr = rate_take(r->w, addr_key), ok_user = rate_take(r->w, user_key);
	enum MHD_Result ret;
	if (!r->cfg->ldap_uri[0]) {
		ret = web_page_signin(r, MHD_HTTP_NOT_FOUND, "Sign-in with a password is not "
				      "offered here.", NULL);
	} else if (!ok_addr || !ok_user) {
		lis_log(LIS_LOG_WARN, "selfservice", "event=signin method=ldap from=%s "
			"result=rate_limited", r->from);
		ret = web_page_signin(r, MHD_HTTP_TOO_MANY_REQUESTS, "Too many sign-in attempts "
				      "from this address or for this user name: wait a minute, "
				      "then try again.", user);
	} else if (!user_name_is_valid(user) || !password[0]) {
		ret = web_page_signin(r, MHD_HTTP_BAD_REQUEST, "Give your user name and password.",
				      user);
	} else {
		enum lis_ldap_result lr = lis_ldap_check(r->cfg, user, password, why, sizeof why);
		if (lr == LIS_LDAP_OK) {
			ret = start_session(r, user, "ldap", NULL, NULL);
		} else {
			lis_log(LIS_LOG_INFO, "selfservice", "event=signin method=ldap user=%s "
				"from=%s result=%s reason=%s", user, r->from,
				lr == LIS_LDAP_DENIED ? "denied" : "directory_down", WEB_LV(why));
			ret = lr == LIS_LDAP_DENIED
				      ? web_page_signin(r, MHD_HTTP_UNAUTHORIZED, "The user name or "
							"password is wrong.", user)
				      : web_page_signin(r, MHD_HTTP_SERVICE_UNAVAILABLE,
							"The directory cannot be reached, so nobody "
							"can sign in right now. Emergency calls are not "
							"affected; try again later.", user);
		}
	}
	OPENSSL_cleanse(password, sizeof password);
	return ret;
}

/* GET /signin/oidc: a pending sign-in kept here, bound to the browser by a short-lived
 * cookie; the browser goes to the provider. */
static enum MHD_Result signin_oidc(struct web_req *r)
{
	char url[2048], err[256] = "", secret[LIS_SECRET_TEXT];
	struct pending pd = {0};
	struct lis_oidc *o;
	if (!r->sso)
		return web_page_signin(r, MHD_HTTP_NOT_FOUND, "Sign-in with SSO is not available "
				       "here.", NULL);
	if (!(o = oidc_get(r->w)) ||
	    lis_oidc_begin(o, &pd.p, url, sizeof url, err, sizeof err) < 0 ||
	    lis_secret_new(secret) < 0) {
		lis_log(LIS_LOG_WARN, "selfservice", "event=signin method=oidc result=error "
			"reason=%s", WEB_LV(err));
		return web_page_signin(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Sign-in with SSO is not "
				       "possible now; try again later.", NULL);
	}
	lis_secret_hash(secret, pd.hash);
	pd.p.created = time(NULL);
	pthread_mutex_lock(&r->w->lock);
	size_t slot = 0;
	for (size_t i = 0; i < PENDING_SLOTS; i++) {
		struct pending *s = &r->w->pending[i];
		if (!s->p.created || s->p.created + OIDC_PENDING_S < pd.p.created) {
			slot = i;
			break;
		}
		if (s->p.created < r->w->pending[slot].p.created)
			slot = i; /* all in use: the oldest gives way */
	}
	r->w->pending[slot] = pd;
	pthread_mutex_unlock(&r->w->lock);
	OPENSSL_cleanse(&pd, sizeof pd);
	/* SameSite=Lax: the provider's redirect back is a top-level GET from another site */
	char cookie[160];
	snprintf(cookie, sizeof cookie, OIDC_COOKIE "=%s; Secure; HttpOnly; SameSite=Lax; "
		 "Path=/; Max-Age=%d", secret, OIDC_PENDING_S);
	return web_reply(r, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", "to the provider\n",
			 16, cookie, url);
}

/* GET /signin/oidc/callback?code=...&state=...: the pending sign-in of the cookie (taken:
 * it serves once), checked and exchanged by lis_oidc_finish. */
static enum MHD_Result signin_oidc_callback(struct web_req *r)
{
	const char *secret = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, OIDC_COOKIE);
	const char *code = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "code");
	const char *state = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "state");
	const char *perr = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "error");
	struct lis_oidc *o;
	if (!r->sso)
		return web_page_signin(r, MHD_HTTP_NOT_FOUND, "Sign-in with SSO is not available "
				       "here.", NULL);
	struct pending pd = {0};
	bool found = false;
	r->clear_oidc = secret != NULL; /* a pending sign-in serves once, whatever comes */
	if (secret && strlen(secret) < 200) {
		unsigned char h[32];
		lis_secret_hash(secret, h);
		time_t now = time(NULL);
		pthread_mutex_lock(&r->w->lock);
		for (size_t i = 0; i < PENDING_SLOTS && !found; i++) {
			struct pending *s = &r->w->pending[i];
			if (s->p.created && s->p.created + OIDC_PENDING_S >= now &&
			    CRYPTO_memcmp(s->hash, h, sizeof h) == 0) {
				pd = *s;
				memset(s, 0, sizeof *s);
				found = true;
			}
		}
		pthread_mutex_unlock(&r->w->lock);
	}
	if (!found || perr || !code || !state)
		return web_page_signin(r, MHD_HTTP_BAD_REQUEST, perr ? "The provider refused the "
				       "sign-in." : "This sign-in has expired or was not started "
				       "here: sign in again.", NULL);
	struct lis_oidc_identity id = {0};
	char err[256] = "the provider cannot be reached";
	int rc = (o = oidc_get(r->w)) ? lis_oidc_finish(o, &pd.p, code, state, &id, err,
							 sizeof err) : -1;
	OPENSSL_cleanse(&pd, sizeof pd);
	if (rc < 0 || !user_name_is_valid(id.user_key)) {
		lis_log(LIS_LOG_WARN, "selfservice", "event=signin method=oidc from=%s "
			"result=denied reason=%s", r->from,
			WEB_LV(rc < 0 ? err : "the user claim is not a user name"));
		return web_page_signin(r, MHD_HTTP_UNAUTHORIZED, "Sign-in with SSO failed: sign "
				       "in again.", NULL);
	}
	return start_session(r, id.user_key, "oidc", id.name, id.email);
}

static enum MHD_Result signout(struct web_req *r)
{
	char csrf[LIS_SECRET_TEXT + 8];
	struct lis_error err = {0};
	if (!web_auth(r))
		return web_reply(r, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", "\n", 1,
				 NULL, "/");
	if (!web_csrf_ok(r, web_form_value(r, "csrf", csrf, sizeof csrf)))
		return web_page_signin(r, MHD_HTTP_FORBIDDEN, "The form was stale or forged: "
				       "reload the page and try again.", NULL);
	if (strcmp(r->via, "web") == 0 && db_web_session_end(r->db, r->session_hash, &err) < 0)
		return web_page_signin(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Signing out failed; try "
				       "again.", NULL);
	return web_reply(r, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", "signed out\n", 11,
			 SESSION_COOKIE "=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
			 "/");
}

/* ---- the daemon ---- */

/* A POST from another origin (the Origin header browsers send) is refused outright: with
 * SameSite=Strict and the CSRF token this is a third lock, and the one that covers the
 * sign-in form (no session yet). */
static bool origin_ok(struct web_req *r)
{
	const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_HOST);
	if (!origin || strcmp(origin, "null") == 0)
		return !origin;
	return host && strncasecmp(origin, "https://", 8) == 0 &&
	       strcasecmp(origin + 8, host) == 0;
}

static enum MHD_Result dispatch(struct web_req *r)
{
	bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	bool post = strcmp(r->method, "POST") == 0;
	if (r->too_big) {
		char msg[96];
		snprintf(msg, sizeof msg, "the request body is larger than %lu bytes",
			 r->cfg->web_max_body);
		return strncmp(r->url, "/api/", 5) == 0
			       ? web_json_error(r, MHD_HTTP_CONTENT_TOO_LARGE, msg)
			       : web_reply(r, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain; charset=utf-8",
					   msg, strlen(msg), NULL, NULL);
	}
	if (!get && !origin_ok(r))
		return web_reply(r, MHD_HTTP_FORBIDDEN, "text/plain; charset=utf-8",
				 "cross-origin request refused\n", 29, NULL, NULL);
	if (strncmp(r->url, "/api/v1/", 8) == 0)
		return web_api(r);
	if (strncmp(r->url, "/api/", 5) == 0)
		return web_json_error(r, MHD_HTTP_NOT_FOUND, "no such API: see /api/v1/");
	if (strcmp(r->url, "/signin") == 0 && post)
		return signin_ldap(r);
	if (strcmp(r->url, "/signin/oidc") == 0 && get)
		return signin_oidc(r);
	if (strcmp(r->url, "/signin/oidc/callback") == 0 && get)
		return signin_oidc_callback(r);
	if (strcmp(r->url, "/signout") == 0 && post)
		return signout(r);
	return web_page(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct lis_web *w = cls;
	struct web_req *r = *con_cls;
	(void)version;
	if (!r) {
		if (!(r = calloc(1, sizeof *r)))
			return MHD_NO;
		r->w = w;
		r->cfg = w->cfg;
		r->iso = w->iso;
		r->preview = w->preview;
		r->sso = w->cfg->oidc_issuer[0] != '\0';
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (r->body.len + *upload_data_size > w->cfg->web_max_body)
			r->too_big = true;
		else
			strbuf_put(&r->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	r->conn = conn;
	r->method = method;
	r->url = url;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->from,
			  sizeof r->from);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->from,
			  sizeof r->from);
	else
		snprintf(r->from, sizeof r->from, "unknown");
	if (r->body.cut)
		return web_json_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct web_req *r = *con_cls;
	(void)cls; (void)conn; (void)toe;
	if (!r)
		return;
	db_close(r->db);
	if (r->body.s)
		OPENSSL_cleanse(r->body.s, r->body.size);
	strbuf_free(&r->body);
	free(r);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct lis_web *w = cls;
	char line[200];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (atomic_load(&w->starting))
		snprintf(w->start_msg, sizeof w->start_msg, "%s", line);
	lis_log(LIS_LOG_DEBUG, "selfservice", "mhd=\"%s\"", line);
}

/* The Content-Security-Policy: nothing but the page's own inline stylesheet (by its hash)
 * and forms to itself. */
static void make_csp(struct lis_web *w)
{
	unsigned char h[32];
	unsigned char b64[64];
	SHA256((const unsigned char *)web_style, strlen(web_style), h);
	EVP_EncodeBlock(b64, h, sizeof h);
	snprintf(w->csp, sizeof w->csp, "default-src 'none'; style-src 'sha256-%s'; "
		 "form-action 'self'; frame-ancestors 'none'; base-uri 'none'", b64);
}

/* [oidc] client_secret_file, read once at start (lisd may drop root after). */
static void read_oidc_secret(struct lis_web *w)
{
	const struct lis_config *cfg = w->cfg;
	w->oidc_secret_ok = !cfg->oidc_client_secret_file[0];
	if (!cfg->oidc_issuer[0] || w->oidc_secret_ok)
		return;
	FILE *f = fopen(cfg->oidc_client_secret_file, "r");
	w->oidc_secret_ok = f && fgets(w->oidc_secret, sizeof w->oidc_secret, f);
	if (f)
		fclose(f);
	w->oidc_secret[strcspn(w->oidc_secret, "\r\n")] = '\0';
	if (!w->oidc_secret_ok)
		lis_log(LIS_LOG_ERR, "selfservice", "event=oidc result=error reason=\"cannot read "
			"[oidc] client_secret_file\" file=%s", WEB_LV(cfg->oidc_client_secret_file));
}

/* The OpenID Provider of [oidc]: opened at start, or, when it could not be reached then, at
 * a later sign-in (at most every OIDC_RETRY_S), so that a provider that was down when lisd
 * started is not down for good. NULL when it cannot be had now; the failure is logged. */
static struct lis_oidc *oidc_get(struct lis_web *w)
{
	const struct lis_config *cfg = w->cfg;
	char err[256] = "";
	pthread_mutex_lock(&w->oidc_lock);
	time_t now = time(NULL);
	if (!w->oidc && cfg->oidc_issuer[0] && w->oidc_secret_ok &&
	    (!w->oidc_tried || now - w->oidc_tried >= OIDC_RETRY_S)) {
		const struct lis_oidc_conf oc = {
			.issuer = cfg->oidc_issuer,
			.client_id = cfg->oidc_client_id,
			.client_secret = w->oidc_secret[0] ? w->oidc_secret : NULL,
			.redirect_uri = cfg->oidc_redirect_uri,
			.user_claim = cfg->oidc_user_claim,
			.ca_file = cfg->oidc_ca_file[0] ? cfg->oidc_ca_file : NULL,
		};
		w->oidc_tried = now;
		if (lis_oidc_open(&w->oidc, &oc, err, sizeof err) < 0) {
			w->oidc = NULL;
			lis_log(LIS_LOG_ERR, "selfservice", "event=oidc result=error issuer=%s "
				"reason=%s retry_s=%d", WEB_LV(cfg->oidc_issuer), WEB_LV(err),
				OIDC_RETRY_S);
		}
	}
	struct lis_oidc *o = w->oidc;
	pthread_mutex_unlock(&w->oidc_lock);
	return o;
}

int lis_web_start(const struct lis_config *cfg, const struct lis_web_hooks *hooks,
		  struct lis_web **out, struct lis_error *err)
{
	struct sockaddr_storage ss = {0};
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG;
	*out = NULL;
	if (cfg->web_port == 0)
		return 0;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, cfg->web_listen, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)cfg->web_port);
	} else if (inet_pton(AF_INET6, cfg->web_listen, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)cfg->web_port);
		flags |= MHD_USE_IPv6;
	} else {
		return lis_error_set(err, LIS_E_USAGE, "[selfservice] listen: \"%s\" is not an "
				     "address", cfg->web_listen);
	}
	struct lis_web *w = calloc(1, sizeof *w);
	if (!w)
		return lis_error_set(err, LIS_E_SYSTEM, "out of memory");
	w->cfg = cfg;
	w->preview = hooks->preview;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->oidc_lock, NULL);
	make_csp(w);
	struct lis_error ierr = {0};
	if (!(w->iso = lis_iso_load(NULL, &ierr)))
		lis_log(LIS_LOG_WARN, "selfservice", "event=iso result=missing reason=%s "
			"note=\"country and A1 of declared addresses are not checked\"",
			WEB_LV(ierr.msg));
	read_oidc_secret(w);
	oidc_get(w);
	atomic_store(&w->starting, true);
	w->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_HTTPS_CERT_CALLBACK, hooks->cert_callback,
				  MHD_OPTION_HTTPS_PRIORITIES, hooks->priorities,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)WEB_THREADS,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)WEB_CONNECTION_LIMIT,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)WEB_TIMEOUT_S,
				  MHD_OPTION_END);
	atomic_store(&w->starting, false);
	if (!w->mhd) {
		lis_error_set(err, LIS_E_SYSTEM, "cannot serve the self-service listener on %s port "
			      "%lu: %s ([selfservice] port = 0 turns it off)", cfg->web_listen,
			      cfg->web_port,
			      w->start_msg[0] ? w->start_msg : "libmicrohttpd refused to start");
		lis_web_stop(w);
		return -1;
	}
	*out = w;
	return 0;
}

void lis_web_stop(struct lis_web *w)
{
	if (!w)
		return;
	if (w->mhd)
		MHD_stop_daemon(w->mhd);
	lis_oidc_close(w->oidc);
	lis_iso_free(w->iso);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->oidc_lock);
	OPENSSL_cleanse(w->oidc_secret, sizeof w->oidc_secret);
	OPENSSL_cleanse(w->pending, sizeof w->pending);
	free(w);
}
