/* The collector lease's SQL (db_lease.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "db_lease.h"

/* The lock of 0007_collector_lease.sql, which its view collector_lease looks for. */
#define LEASE_LOCK "1279873792, 1"

/* $1 instance, $2 host, $3 pid. A session that holds the lock does not take it again (each
 * pg_try_advisory_lock would stack one more hold); CASE keeps that order. A backend pid is
 * reused by later sessions: another row's stale copy of ours is cleared, so that the view
 * never names two holders. The holder is read from the view as the statement began. */
static const struct db_stmt lease_check = {
	DB_STMT_LEASE_CHECK, "lis_lease_check",
	"WITH l AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
	"   AND pid = pg_backend_pid() AND granted AND classid = 1279873792 AND objid = 1"
	"   AND objsubid = 2) THEN true ELSE pg_try_advisory_lock(" LEASE_LOCK ") END AS held),"
	" stale AS (UPDATE collector SET backend_pid = NULL"
	"   WHERE backend_pid = pg_backend_pid() AND instance <> $1::text),"
	" me AS (INSERT INTO collector AS c (instance, host, pid, backend_pid, started, last_seen,"
	"   leader_since)"
	"   SELECT $1::text, $2::text, $3::integer, pg_backend_pid(), now(), now(),"
	"   CASE WHEN l.held THEN now() END FROM l"
	"   ON CONFLICT (instance) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,"
	"   backend_pid = EXCLUDED.backend_pid,"
	"   started = CASE WHEN c.host = EXCLUDED.host AND c.pid = EXCLUDED.pid THEN c.started"
	"   ELSE EXCLUDED.started END,"
	"   last_seen = EXCLUDED.last_seen,"
	/* still leading on the same session: since the first time */
	"   leader_since = CASE WHEN EXCLUDED.leader_since IS NULL THEN NULL"
	"   WHEN c.leader_since IS NOT NULL AND c.backend_pid = EXCLUDED.backend_pid"
	"   AND c.host = EXCLUDED.host AND c.pid = EXCLUDED.pid THEN c.leader_since"
	"   ELSE EXCLUDED.leader_since END"
	"   RETURNING leader_since IS NOT NULL AS leader)"
	" SELECT me.leader, (SELECT instance FROM collector_lease LIMIT 1) FROM me",
	3,
};

int db_lease_check(struct db_conn *c, const struct db_lease_member *m, bool *leader,
		   char *holder, size_t size, struct lis_error *err)
{
	char pid[24];

	snprintf(pid, sizeof(pid), "%ld", m->pid);
	const char *const v[] = {m->instance, m->host, pid};
	PGresult *res = db_exec_stmt(c, &lease_check, "collector lease", v, PGRES_TUPLES_OK,
				     err);
	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return lis_error_set(err, DB_E_QUERY, "collector lease: no row returned");
	}
	*leader = PQgetvalue(res, 0, 0)[0] == 't';
	if (holder && size)
		snprintf(holder, size, "%s", PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

int db_lease_session(struct db_conn *c, unsigned seconds, struct lis_error *err)
{
	char s[24], ms[24];

	snprintf(s, sizeof(s), "%u", seconds);
	snprintf(ms, sizeof(ms), "%u", seconds * 4000u);
	const char *const v[] = {s, ms};
	PGresult *res = db_exec(c, "collector lease: keepalives",
				"SELECT set_config('tcp_keepalives_idle', $1, false),"
				" set_config('tcp_keepalives_interval', $1, false),"
				" set_config('tcp_keepalives_count', '3', false),"
				" set_config('tcp_user_timeout', $2, false)",
				2, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int db_lease_holder(struct db_conn *c, struct db_lease_holder *h, struct lis_error *err)
{
	memset(h, 0, sizeof(*h));
	PGresult *res = db_exec(c, "collector lease holder",
				"SELECT to_regclass('collector_lease') IS NOT NULL", 0, NULL,
				PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	bool exists = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!exists)
		return 0;
	res = db_exec(c, "collector lease holder",
		      "SELECT instance, host, pid,"
		      " to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'),"
		      " floor(date_part('epoch', now() - renewed))::bigint"
		      " FROM collector_lease ORDER BY since LIMIT 1",
		      0, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	int found = PQntuples(res) == 1;
	if (found) {
		snprintf(h->instance, sizeof(h->instance), "%s", PQgetvalue(res, 0, 0));
		snprintf(h->host, sizeof(h->host), "%s", PQgetvalue(res, 0, 1));
		h->pid = strtol(PQgetvalue(res, 0, 2), NULL, 10);
		snprintf(h->since, sizeof(h->since), "%s", PQgetvalue(res, 0, 3));
		h->renewed_ago = strtol(PQgetvalue(res, 0, 4), NULL, 10);
	}
	PQclear(res);
	return found;
}
