/* The collector lease (db/migrations/0007_collector_lease.sql): of the wiremapd instances
 * sharing a database, the one whose session holds a PostgreSQL advisory lock polls and
 * writes; the others check again every few seconds. The lock belongs to the session: it is
 * released when the session ends however it ends, and only the holder's own connection can
 * write while it holds it (wiremapd writes its polls on that same connection). */
#ifndef DB_LEASE_H
#define DB_LEASE_H

#include <stdbool.h>
#include <stddef.h>

#include "lis_error.h"

struct db_conn;

/* The schema version that brought the lease (0007_collector_lease.sql). */
#define DB_LEASE_SCHEMA 7

/* Who checks in: strings borrowed for the call. */
struct db_lease_member {
	const char *instance;       /* [collector] instance: the row's key */
	const char *host;           /* the host it runs on */
	long pid;                   /* its process id */
};

/* Take the lease unless this session holds it already, and record the member's check-in
 * in table collector (last_seen = the database's now(), leader_since when it leads), in
 * one statement. *leader gets whether this session holds the lease; holder (size bytes,
 * may be NULL) the instance that held it when the statement began ("" when none known). */
int db_lease_check(struct db_conn *c, const struct db_lease_member *m, bool *leader,
		   char *holder, size_t size, struct lis_error *err);

/* Who holds the lease, as the view collector_lease says (strings owned by the struct). */
struct db_lease_holder {
	char instance[128];
	char host[256];
	long pid;
	char since[40];             /* "YYYY-MM-DD hh:mm:ssZ" (UTC) */
	long renewed_ago;           /* seconds since its last check, on the database's clock */
};

/* 1 and *h filled when some collector holds the lease, 0 when none does (or the schema has
 * no lease yet: before version 7), -1 on error. */
int db_lease_holder(struct db_conn *c, struct db_lease_holder *h, struct lis_error *err);

/* Once per connection, before the first check: make the server notice a silent peer (its
 * host lost, the network cut) after about 4 * seconds, so that the lock is released in a
 * bounded time: TCP keepalives every `seconds` after `seconds` idle, 3 probes, and a
 * tcp_user_timeout. Ignored by the server on a Unix socket. */
int db_lease_session(struct db_conn *c, unsigned seconds, struct lis_error *err);

#endif
