/* Endpoint and user lifecycle (issue 11; migrations 0010, 0012): deactivating (offboarding)
 * and reactivating endpoints and users. Rows are never deleted: the database itself records
 * every change in lifecycle_audit, with the actor db_set_actor() set (db_declared.h). */
#ifndef DB_LIFECYCLE_H
#define DB_LIFECYCLE_H

#include <stdbool.h>

#include "lis_error.h"

struct db_conn;

/* Set endpoint key active or not (deactivated_at now, or cleared). 1 when it changed, 0
 * when it already was so, -1 with err filled (DB_E_INPUT: no such endpoint). */
int db_endpoint_set_active(struct db_conn *c, const char *key, bool active,
			   struct lis_error *err);

/* Set user key active or not, creating its lis_user row (source lisctl) when it has none.
 * Deactivating also ends the user's self-service sessions (web_session rows; *sessions
 * gets how many); nothing else is revoked: API tokens are refused while the user is
 * inactive. 1 when the user's state changed, 0 when it already was so (a user without a
 * row is active), -1 with err filled. */
int db_user_set_active(struct db_conn *c, const char *key, bool active, int *sessions,
		       struct lis_error *err);

/* One lifecycle_audit row, as text (at: ISO 8601 UTC). */
struct db_lifecycle_row {
	const char *at, *who, *via, *from, *op;
};
/* The history of an endpoint ("endpoint") or a user ("user"), oldest first, each row to
 * fn; *active gets its state now (an endpoint's row, a user's row or none: active), and
 * *known whether the endpoint or user row exists. 0 or -1. */
int db_lifecycle_history(struct db_conn *c, const char *kind, const char *key,
			 void (*fn)(void *ctx, const struct db_lifecycle_row *r), void *ctx,
			 bool *known, bool *active, struct lis_error *err);

#endif
