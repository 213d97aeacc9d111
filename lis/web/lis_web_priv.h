/* Private to lis/web: one request as the handlers see it, and the helpers the routes of
 * lis_web.c, the JSON API (lis_web_api.c) and the page (lis_web_page.c) share. */
#ifndef LIS_WEB_PRIV_H
#define LIS_WEB_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "civic.h"
#include "db.h"
#include "db_web.h"
#include "lis_conf.h"
#include "lis_dispatch.h"
#include "lis_log.h"
#include "lis_web.h"
#include "lis_strbuf.h"

struct lis_web;

struct web_req {
	struct lis_web *w;
	const struct lis_config *cfg;
	const struct lis_iso *iso;        /* NULL: country and A1 not checked */
	bool sso;                         /* "Sign in with SSO" is offered */
	/* lisd's resolver (lis_web_hooks); NULL: GET me cannot say what lisd answers */
	int (*preview)(const struct lis_web_device *dev, struct lis_web_answer *a);
	struct MHD_Connection *conn;
	const char *method, *url;
	struct strbuf body;
	bool too_big;
	char from[64];                    /* the client's address */
	struct db_conn *db;               /* opened by web_db() */
	bool db_down;                     /* web_db() could not connect */
	bool clear_oidc;                  /* the answer ends the OIDC sign-in's cookie */
	/* who, once web_auth() found a session or a token */
	bool authed;
	const char *via;                  /* "web" (session) or "api" (token) */
	struct db_web_actor actor;
	unsigned char session_hash[DB_WEB_HASH_LEN];
};

/* s as one log value (lis_log_value: quoted and escaped when it must be), in a buffer of
 * the calling statement. */
#define WEB_LV(s) lis_log_value((char[320]){0}, 320, (s))

/* The request's database connection, opened on first use; NULL (and 503 is the answer)
 * when the database cannot be reached. */
struct db_conn *web_db(struct web_req *r);

/* Queue an answer with the security headers of every answer (Content-Security-Policy,
 * no-store, nosniff, no referrer); cookie a Set-Cookie value or NULL, location a Location
 * or NULL. */
enum MHD_Result web_reply(struct web_req *r, unsigned status, const char *type,
			  const char *body, size_t n, const char *cookie, const char *location);
enum MHD_Result web_json(struct web_req *r, unsigned status, json_t *j);
/* {"error": msg} with status. */
enum MHD_Result web_json_error(struct web_req *r, unsigned status, const char *msg);

/* The session of the cookie, or the API token of an Authorization: Bearer header; true and
 * r->actor when one is valid. */
bool web_auth(struct web_req *r);
/* For a session: the CSRF token given (form field or X-CSRF-Token header) is the
 * session's. A token (no cookie rides along) needs none. */
bool web_csrf_ok(const struct web_req *r, const char *given);

/* A user's location write: the operations of the API and of the page's forms. */
enum web_loc_op { WEB_LOC_CREATE, WEB_LOC_REPLACE, WEB_LOC_DELETE, WEB_LOC_CURRENT,
		  WEB_LOC_CONFIRM };
struct web_loc_in {
	const char *label, *lang;
	const char *civic[CIVIC_N_FIELDS];
	bool current;
	long days;                        /* 0: the default */
};
/* Check in (label, values, dispatchability: each problem added to errors as {"field",
 * "message"}) and apply op for r's user in one audited transaction. The HTTP status: 200,
 * 201, 400 (errors filled), 404, 409, 503; msg a sentence for anything but 2xx. */
unsigned web_loc_apply(struct web_req *r, enum web_loc_op op, const struct web_loc_in *in,
		       json_t *errors, char *msg, size_t msg_size);
/* A location as the API shows it. */
json_t *web_loc_json(const struct db_web_location *l);
/* The user's locations as a JSON array, current first; NULL on a database error. */
json_t *web_locations_json(struct web_req *r);
/* GET me's object: the user, their endpoints with their class policy and what lisd's
 * resolver answers for each now, their current declaration and its state, and that answer
 * in words. NULL on a database error. */
json_t *web_me_json(struct web_req *r);

/* What an endpoint's answer of GET me says, in one sentence: "KEY: ADDRESS (method M, from
 * SOURCE)[: note]" or "KEY: no location (RESULT): reason". */
void web_answer_words(const char *endpoint, const json_t *answer, char *buf, size_t size);

/* The JSON API (lis_web_api.c): every /api/v1/ request. */
enum MHD_Result web_api(struct web_req *r);
/* The page (lis_web_page.c): GET /, the forms' POSTs; the sign-in page with msg (may be
 * NULL) and status. */
enum MHD_Result web_page(struct web_req *r);
enum MHD_Result web_page_signin(struct web_req *r, unsigned status, const char *msg,
				const char *user);
/* The value of name in a application/x-www-form-urlencoded body (decoded into buf), or
 * NULL. */
const char *web_form_value(const struct web_req *r, const char *name, char *buf, size_t size);
/* The stylesheet the page inlines (its hash is in the Content-Security-Policy). */
extern const char web_style[];

#endif
