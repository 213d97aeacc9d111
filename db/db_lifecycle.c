/* Endpoint and user lifecycle (db_lifecycle.h). */
#include <string.h>

#include "db_internal.h"
#include "db_lifecycle.h"

/* Whether one row of sql ($1 = key) exists: 1, 0, or -1. */
static int exists(struct db_conn *c, const char *what, const char *sql, const char *key,
		  struct lis_error *err)
{
	const char *const v[] = {key};
	PGresult *res = db_exec(c, what, sql, 1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	int n = PQntuples(res);
	PQclear(res);
	return n > 0;
}

int db_endpoint_set_active(struct db_conn *c, const char *key, bool active,
			   struct lis_error *err)
{
	const char *const v[] = {key, active ? "true" : "false"};
	const char *what = active ? "reactivate an endpoint" : "deactivate an endpoint";
	int n = db_exec_touched(c, what, "UPDATE endpoint SET active = $2::boolean,"
				" deactivated_at = CASE WHEN $2::boolean THEN NULL ELSE now() END"
				" WHERE key = $1 AND active <> $2::boolean", 2, v, err);
	if (n != 0)
		return n < 0 ? -1 : 1;
	int e = exists(c, what, "SELECT 1 FROM endpoint WHERE key = $1", key, err);
	if (e < 0)
		return -1;
	if (!e)
		return lis_error_set(err, DB_E_INPUT, "no endpoint \"%s\" in the wiremap", key);
	return 0;
}

int db_user_set_active(struct db_conn *c, const char *key, bool active, int *sessions,
		       struct lis_error *err)
{
	const char *const v[] = {key};
	*sessions = 0;
	if (active) {
		/* the row is created when missing (an active one: nothing changes for lisd) */
		PGresult *res = db_exec(c, "reactivate a user",
					"INSERT INTO lis_user (key, source) VALUES ($1, 'lisctl')"
					" ON CONFLICT (key) DO UPDATE SET active = true,"
					" deactivated_at = NULL WHERE NOT lis_user.active"
					" RETURNING xmax::text <> '0'", 1, v, PGRES_TUPLES_OK, err);
		if (!res)
			return -1;
		int changed = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		return changed;
	}
	if (db_run(c, "deactivate a user", "BEGIN", err) < 0)
		return -1;
	int n = db_exec_touched(c, "deactivate a user",
				"INSERT INTO lis_user (key, source, active, deactivated_at)"
				" VALUES ($1, 'lisctl', false, now()) ON CONFLICT (key) DO UPDATE"
				" SET active = false, deactivated_at = now() WHERE lis_user.active",
				1, v, err);
	int s = n < 0 ? -1 : db_exec_touched(c, "end the user's sessions",
					     "DELETE FROM web_session WHERE user_key = $1", 1, v,
					     err);
	if (s < 0 || db_run(c, "deactivate a user", "COMMIT", err) < 0) {
		db_rollback(c);
		return -1;
	}
	*sessions = s;
	return n > 0;
}

int db_lifecycle_history(struct db_conn *c, const char *kind, const char *key,
			 void (*fn)(void *ctx, const struct db_lifecycle_row *r), void *ctx,
			 bool *known, bool *active, struct lis_error *err)
{
	bool ep = strcmp(kind, "endpoint") == 0;
	const char *const v[] = {key};
	PGresult *res = db_exec(c, "lifecycle history", ep
				? "SELECT active FROM endpoint WHERE key = $1"
				: "SELECT active FROM lis_user WHERE key = $1", 1, v,
				PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	*known = PQntuples(res) == 1;
	*active = !*known || PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	const char *const w[] = {ep ? "endpoint" : "user", key};
	res = db_exec(c, "lifecycle history",
		      "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		      " who, via, from_addr, op FROM lifecycle_audit"
		      " WHERE kind = $1 AND key = $2 ORDER BY at, id", 2, w, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const struct db_lifecycle_row r = {
			PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
			PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		};
		fn(ctx, &r);
	}
	PQclear(res);
	return 0;
}
