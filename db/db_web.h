/* The self-service page and API (lisd(8) SELF-SERVICE) and per-device API tokens (lisctl
 * token) over migration 0010: users (lis_user), sign-in sessions (web_session), API tokens
 * (api_token), and a user's own declared locations. Secrets never reach the database: the
 * caller hands the SHA-256 of a session cookie or a token. Every function that reads or
 * changes a declaration takes the user it acts for and touches that user's rows only. */
#ifndef DB_WEB_H
#define DB_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "civic.h"
#include "db_declared.h"
#include "lis_error.h"

struct db_conn;

#define DB_WEB_HASH_LEN 32 /* SHA-256 */

/* Who a session or a token acts for. */
struct db_web_actor {
	char user[256];
	char csrf[64];      /* the session's anti-forgery token; "" for a token */
	char endpoint[256]; /* the token's endpoint; "" for none */
};

/* A sign-in of user through source ("ldap", "oidc"): the user's row is created or its
 * last_login_at set. 1 when the user is active, 0 when deactivated (nothing changed but
 * nothing either: refuse), -1 on error. */
int db_web_user_signin(struct db_conn *c, const char *user, const char *source,
		       const char *name, const char *email, struct lis_error *err);

/* A session of user for lifetime seconds, keyed by the SHA-256 of its cookie secret. */
int db_web_session_new(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
		       const char *user, const char *method, const char *csrf, const char *from,
		       unsigned long lifetime, struct lis_error *err);
/* The session of hash if it has not expired and its user is not deactivated (its
 * last_seen_at is set): 1 and *out, 0 when there is none, -1 on error. */
int db_web_session_find(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
			struct db_web_actor *out, struct lis_error *err);
/* Sign-out: the session is deleted (with the expired ones of everybody). */
int db_web_session_end(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
		       struct lis_error *err);

/* The token of hash if it is not revoked, not expired, its user not deactivated and its
 * endpoint (if any) active (its last_used_at is set): 1 and *out, 0, or -1. */
int db_token_find(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
		  struct db_web_actor *out, struct lis_error *err);
/* Store a new token (its hash and prefix) for user, through endpoint (NULL: none), expiring
 * in days (0: never). *id its id, expires "" or its end (ISO 8601). 0, or -1 (an unknown
 * endpoint is DB_E_INPUT). */
int db_token_issue(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
		   const char *prefix, const char *user, const char *endpoint, const char *label,
		   unsigned days, long long *id, char *expires, size_t expires_size,
		   struct lis_error *err);
struct db_token_row {
	const char *id, *prefix, *user, *endpoint, *label, *created_at, *expires_at;
	const char *revoked_at, *last_used_at; /* "" when not */
	const char *state;                     /* valid, revoked, expired, user deactivated,
						* endpoint deactivated */
};
/* Every token (user NULL) or the user's, oldest first. 0 or -1. */
int db_token_list(struct db_conn *c, const char *user,
		  void (*row)(void *ctx, const struct db_token_row *r), void *ctx,
		  struct lis_error *err);
/* Revoke the token with this id (digits) or prefix (lis_...): the number revoked (0: none
 * such, or already revoked), or -1; a prefix that names several is refused (DB_E_INPUT). */
int db_token_revoke(struct db_conn *c, const char *id_or_prefix, struct lis_error *err);

/* One transaction of the web's writes, audited (0008) as who, via ("web", "api"), from. */
int db_web_begin(struct db_conn *c, const char *who, const char *via, const char *from,
		 struct lis_error *err);
/* Commit when ok, else roll back. 0 or -1 (the commit failed). */
int db_web_end(struct db_conn *c, bool ok, struct lis_error *err);

/* A declared location of a user, its state as lisd judges it now: "valid", "expired" or
 * "due" (older than its class's reconfirm_interval: confirm it); current: the one lisd
 * answers. */
struct db_web_location {
	const char *label, *lang;              /* lang "" when none */
	const char *civic[CIVIC_N_FIELDS];     /* NULL: absent */
	bool current;
	const char *confirmed_at, *expires_at, *state;
};
/* The user's declarations, current first. 0 or -1. */
int db_web_locations(struct db_conn *c, const char *user,
		     void (*row)(void *ctx, const struct db_web_location *l), void *ctx,
		     struct lis_error *err);
/* Write the user's declaration d: create (1; 0 when the label is taken) or replace its
 * address and expiry, confirmed now (1; 0 when there is no such label). -1 on error. */
int db_web_location_put(struct db_conn *c, const struct db_declaration *d, bool create,
			struct lis_error *err);

/* An endpoint the user owns (endpoint.owner) or a VPN binding of theirs, with its class's
 * policy (0008). */
struct db_web_endpoint {
	const char *key, *cls, *no_fresh;     /* key: endpoint key, or "vpn IP" */
	const char *mac, *uri, *tel;          /* its identities, "" when none */
	const char *ip;                       /* a VPN binding's address, "" for an endpoint */
	bool use_declared;
	unsigned reconfirm_interval;          /* 0: none */
};
int db_web_endpoints(struct db_conn *c, const char *user,
		     void (*row)(void *ctx, const struct db_web_endpoint *e), void *ctx,
		     struct lis_error *err);

#endif
