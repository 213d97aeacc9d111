/* Users' declared locations and the VPN concentrator's address bindings (migration 0008):
 * what lisctl writes now, and a web front end later. Every change to a declaration is
 * audited by the database itself (declared_location_audit) with the actor set here. */
#ifndef DB_DECLARED_H
#define DB_DECLARED_H

#include <stdbool.h>
#include <time.h>

#include "civic.h"
#include "lis_error.h"

struct db_conn;

/* Who acts on this connection from now on, for the audit: who ("root", a user's login),
 * via ("lisctl"; a web front end: "web"), from (an address, "local"). */
int db_set_actor(struct db_conn *c, const char *who, const char *via, const char *from,
		 struct lis_error *err);

/* A declaration as written: the civic fields (NULL: absent) replace the stored ones. */
struct db_declaration {
	const char *user, *label, *lang;
	const char *civic[CIVIC_N_FIELDS];
	bool current;                     /* make it the user's current one */
	time_t expires_at;
};
/* Insert or replace the user's declaration of that label, confirmed now. 0 or -1. */
int db_declare(struct db_conn *c, const struct db_declaration *d, struct lis_error *err);

enum db_declared_op {
	DB_DECLARED_CONFIRM,              /* confirmed_at = now */
	DB_DECLARED_MAKE_CURRENT,
	DB_DECLARED_REMOVE,
};
/* 1 when the declaration was there (and changed), 0 when not, -1 on error. */
int db_declared_change(struct db_conn *c, const char *user, const char *label,
		       enum db_declared_op op, struct lis_error *err);

/* One declaration, or one audit row, as text (times ISO 8601 UTC). */
struct db_declared_row {
	const char *label;
	bool current;
	const char *address;              /* "HNO RD STS, A3, A1, country" and the rest */
	const char *confirmed_at, *expires_at;
	bool expired;
};
struct db_declared_audit_row {
	const char *at, *who, *via, *from, *label, *op;
	const char *old, *new_;           /* the row as JSON; NULL: none */
};
/* The user's declarations (current first), then, with audit, the audit rows (oldest
 * first), each to its callback. 0 or -1. */
int db_declared_list(struct db_conn *c, const char *user,
		     void (*row)(void *ctx, const struct db_declared_row *r),
		     void (*audit)(void *ctx, const struct db_declared_audit_row *a), void *ctx,
		     struct lis_error *err);

/* Delete the declarations that are not current and expired before `before` (each delete
 * is audited: the audit rows stay); with dry_run only count them. Returns how many, or
 * -1. */
long db_declared_purge(struct db_conn *c, time_t before, bool dry_run, struct lis_error *err);

/* Bind ip to user for ttl seconds (replacing any binding of ip), as class cls (NULL:
 * softphone); *expires gets when it ends. Expired bindings are deleted on the way. */
int db_vpn_bind(struct db_conn *c, const char *ip, const char *user, const char *cls,
		unsigned ttl, const char *source, char *expires, size_t expires_size,
		struct lis_error *err);
/* 1 when ip had a binding (now removed), 0 when not, -1 on error. */
int db_vpn_unbind(struct db_conn *c, const char *ip, struct lis_error *err);

#endif
