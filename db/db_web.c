/* Users, sessions, API tokens and a user's own declarations (db_web.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "db_web.h"

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define NAME_(c) ", " #c

/* A hash as a bytea literal in text format: \x and 64 hex digits. */
static const char *hex_of(const unsigned char h[DB_WEB_HASH_LEN], char out[2 * 32 + 3])
{
	static const char d[] = "0123456789abcdef";
	out[0] = '\\';
	out[1] = 'x';
	for (int i = 0; i < DB_WEB_HASH_LEN; i++) {
		out[2 + 2 * i] = d[h[i] >> 4];
		out[3 + 2 * i] = d[h[i] & 15];
	}
	out[2 + 2 * DB_WEB_HASH_LEN] = '\0';
	return out;
}

/* Run a statement of n parameters; the rows it returned (or touched), or -1. */
static int count_of(struct db_conn *c, const char *what, const char *sql, int n,
		    const char *const *v, bool tuples, struct lis_error *err)
{
	PGresult *res = db_exec(c, what, sql, n, v, tuples ? PGRES_TUPLES_OK : PGRES_COMMAND_OK,
				err);
	if (!res)
		return -1;
	int k = tuples ? PQntuples(res) : atoi(PQcmdTuples(res));
	PQclear(res);
	return k;
}

int db_web_user_signin(struct db_conn *c, const char *user, const char *source,
		       const char *name, const char *email, struct lis_error *err)
{
	const char *const v[] = {user, source, name && *name ? name : NULL,
				 email && *email ? email : NULL};
	/* A deactivated user's row is left as it is: the WHERE of the update refuses it, and
	 * RETURNING then gives no row. */
	int n = count_of(c, "sign in a user",
			 "INSERT INTO lis_user (key, source, display_name, email, last_login_at)"
			 " VALUES ($1, $2, $3, $4, now()) ON CONFLICT (key) DO UPDATE SET"
			 " last_login_at = now(),"
			 " display_name = coalesce(EXCLUDED.display_name, lis_user.display_name),"
			 " email = coalesce(EXCLUDED.email, lis_user.email)"
			 " WHERE lis_user.active RETURNING key", 4, v, true, err);
	return n < 0 ? -1 : n > 0;
}

int db_web_session_new(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
		       const char *user, const char *method, const char *csrf, const char *from,
		       unsigned long lifetime, struct lis_error *err)
{
	char hx[68], life[24];
	snprintf(life, sizeof life, "%lu", lifetime);
	const char *const v[] = {hex_of(hash, hx), user, method, csrf, from, life};
	/* Sessions that have ended go as new ones come. */
	if (count_of(c, "end expired sessions", "DELETE FROM web_session WHERE expires_at < now()",
		     0, NULL, false, err) < 0)
		return -1;
	return count_of(c, "start a session",
			"INSERT INTO web_session (id_hash, user_key, method, csrf, from_addr,"
			" expires_at) VALUES ($1::bytea, $2, $3, $4, $5,"
			" now() + make_interval(secs => $6::integer))", 6, v, false, err) < 0
		       ? -1 : 0;
}

static int actor_of(struct db_conn *c, const char *what, const char *sql,
		    const unsigned char hash[DB_WEB_HASH_LEN], struct db_web_actor *out,
		    struct lis_error *err)
{
	char hx[68];
	const char *const v[] = {hex_of(hash, hx)};
	PGresult *res = db_exec(c, what, sql, 1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	int found = PQntuples(res) == 1;
	if (found) {
		snprintf(out->user, sizeof out->user, "%s", PQgetvalue(res, 0, 0));
		snprintf(out->csrf, sizeof out->csrf, "%s", PQgetvalue(res, 0, 1));
		snprintf(out->endpoint, sizeof out->endpoint, "%s", PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return found;
}

int db_web_session_find(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
			struct db_web_actor *out, struct lis_error *err)
{
	/* A user with no lis_user row is active (0010); a deactivated one's sessions end. */
	return actor_of(c, "find a session",
			"UPDATE web_session s SET last_seen_at = now() WHERE id_hash = $1::bytea"
			" AND expires_at > now() AND NOT EXISTS (SELECT 1 FROM lis_user u"
			" WHERE u.key = s.user_key AND NOT u.active) RETURNING user_key, csrf, ''",
			hash, out, err);
}

int db_web_session_end(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
		       struct lis_error *err)
{
	char hx[68];
	const char *const v[] = {hex_of(hash, hx)};
	return count_of(c, "end a session", "DELETE FROM web_session WHERE id_hash = $1::bytea"
			" OR expires_at < now()", 1, v, false, err) < 0 ? -1 : 0;
}

int db_token_find(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
		  struct db_web_actor *out, struct lis_error *err)
{
	return actor_of(c, "find an API token",
			"UPDATE api_token t SET last_used_at = now() WHERE token_hash = $1::bytea"
			" AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
			" AND NOT EXISTS (SELECT 1 FROM lis_user u WHERE u.key = t.user_key"
			" AND NOT u.active) AND (endpoint_key IS NULL OR EXISTS (SELECT 1 FROM"
			" endpoint e WHERE e.key = t.endpoint_key AND e.active))"
			" RETURNING user_key, '', coalesce(endpoint_key, '')", hash, out, err);
}

int db_token_issue(struct db_conn *c, const unsigned char hash[DB_WEB_HASH_LEN],
		   const char *prefix, const char *user, const char *endpoint, const char *label,
		   unsigned days, long long *id, char *expires, size_t expires_size,
		   struct lis_error *err)
{
	char hx[68], d[16];
	snprintf(d, sizeof d, "%u", days);
	const char *const v[] = {hex_of(hash, hx), prefix, user, endpoint, label, d};
	PGresult *res = db_exec(c, "issue an API token",
				"INSERT INTO api_token (token_hash, prefix, user_key, endpoint_key,"
				" label, expires_at) VALUES ($1::bytea, $2, $3, $4, $5,"
				" CASE WHEN $6::integer > 0 THEN now() + make_interval(days =>"
				" $6::integer) END) RETURNING id, coalesce(" ISO("expires_at")
				", '')", 6, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	*id = atoll(PQgetvalue(res, 0, 0));
	snprintf(expires, expires_size, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

int db_token_list(struct db_conn *c, const char *user,
		  void (*row)(void *ctx, const struct db_token_row *r), void *ctx,
		  struct lis_error *err)
{
	const char *const v[] = {user};
	PGresult *res = db_exec(c, "list API tokens",
		"SELECT t.id, t.prefix, t.user_key, coalesce(t.endpoint_key, ''),"
		" coalesce(t.label, ''), " ISO("t.created_at") ", coalesce(" ISO("t.expires_at")
		", ''), coalesce(" ISO("t.revoked_at") ", ''), coalesce(" ISO("t.last_used_at")
		", ''), CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"
		" WHEN t.expires_at <= now() THEN 'expired'"
		" WHEN u.active = false THEN 'user deactivated'"
		" WHEN e.active = false THEN 'endpoint deactivated' ELSE 'valid' END"
		" FROM api_token t LEFT JOIN lis_user u ON u.key = t.user_key"
		" LEFT JOIN endpoint e ON e.key = t.endpoint_key"
		" WHERE $1::text IS NULL OR t.user_key = $1 ORDER BY t.id", 1, v,
		PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const struct db_token_row r = {
			PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
			PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5),
			PQgetvalue(res, i, 6), PQgetvalue(res, i, 7), PQgetvalue(res, i, 8),
			PQgetvalue(res, i, 9),
		};
		row(ctx, &r);
	}
	PQclear(res);
	return 0;
}

int db_token_revoke(struct db_conn *c, const char *id_or_prefix, struct lis_error *err)
{
	const char *const v[] = {id_or_prefix};
	bool is_id = id_or_prefix[0] && strspn(id_or_prefix, "0123456789") ==
					      strlen(id_or_prefix);
	if (!is_id) {
		int n = count_of(c, "find an API token by prefix",
				 "SELECT 1 FROM api_token WHERE prefix = $1", 1, v, true, err);
		if (n < 0)
			return -1;
		if (n > 1)
			return lis_error_set(err, DB_E_INPUT, "prefix %s names %d tokens: give the "
					     "id (lisctl token list)", id_or_prefix, n);
	}
	return count_of(c, "revoke an API token",
			is_id ? "UPDATE api_token SET revoked_at = now() WHERE id = $1::bigint"
				" AND revoked_at IS NULL"
			      : "UPDATE api_token SET revoked_at = now() WHERE prefix = $1"
				" AND revoked_at IS NULL", 1, v, false, err);
}

int db_web_begin(struct db_conn *c, const char *who, const char *via, const char *from,
		 struct lis_error *err)
{
	const char *const v[] = {who, via, from};
	if (db_run(c, "begin", "BEGIN", err) < 0)
		return -1;
	/* is_local: the actor is this transaction's only (the connection may serve others). */
	if (count_of(c, "set the audit's actor", "SELECT set_config('lis.who', $1, true),"
		     " set_config('lis.via', $2, true), set_config('lis.from', $3, true)", 3, v,
		     true, err) < 0) {
		db_rollback(c);
		return -1;
	}
	return 0;
}

int db_web_end(struct db_conn *c, bool ok, struct lis_error *err)
{
	if (!ok) {
		db_rollback(c);
		return 0;
	}
	return db_run(c, "commit", "COMMIT", err);
}

/* The strictest reconfirm_interval of the classes of the user's active endpoints and live
 * VPN bindings ($1): a declaration older than that is due. */
#define RECONFIRM_OF_USER \
	"(SELECT min(k.reconfirm_interval) FROM endpoint_class k WHERE k.key IN" \
	" (SELECT class FROM endpoint WHERE owner = $1 AND active UNION" \
	" SELECT class FROM vpn_binding WHERE user_key = $1 AND expires_at > now()))"

int db_web_locations(struct db_conn *c, const char *user,
		     void (*row)(void *ctx, const struct db_web_location *l), void *ctx,
		     struct lis_error *err)
{
	const char *const v[] = {user};
	PGresult *res = db_exec(c, "list a user's declared locations",
		"SELECT label, coalesce(lang, ''), is_current, " ISO("confirmed_at") ", "
		ISO("expires_at") ", CASE WHEN expires_at <= now() THEN 'expired'"
		" WHEN confirmed_at + make_interval(secs => " RECONFIRM_OF_USER ") <= now()"
		" THEN 'due' ELSE 'valid' END" DB_CIVIC_COLUMNS(NAME_)
		" FROM declared_location WHERE user_key = $1 ORDER BY is_current DESC, label",
		1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct db_web_location l = {
			.label = PQgetvalue(res, i, 0),
			.lang = PQgetvalue(res, i, 1),
			.current = PQgetvalue(res, i, 2)[0] == 't',
			.confirmed_at = PQgetvalue(res, i, 3),
			.expires_at = PQgetvalue(res, i, 4),
			.state = PQgetvalue(res, i, 5),
		};
		for (int f = 0; f < CIVIC_N_FIELDS; f++)
			l.civic[f] = PQgetisnull(res, i, 6 + f) ? NULL : PQgetvalue(res, i, 6 + f);
		row(ctx, &l);
	}
	PQclear(res);
	return 0;
}

int db_web_location_put(struct db_conn *c, const struct db_declaration *d, bool create,
			struct lis_error *err)
{
	if (create) {
		/* db_declare's insert, which on a taken label would replace: look first, in the
		 * caller's transaction, and lock the user's rows against a concurrent create. */
		const char *const v[] = {d->user, d->label};
		int n = count_of(c, "look for a declared location",
				 "SELECT 1 FROM declared_location WHERE user_key = $1 AND"
				 " label = $2 FOR UPDATE", 2, v, true, err);
		if (n != 0)
			return n < 0 ? -1 : 0;
		return db_declare(c, d, err) < 0 ? -1 : 1;
	}
	const char *v[4 + CIVIC_N_FIELDS];
	char expires[32];
	struct tm tm;
	gmtime_r(&d->expires_at, &tm);
	strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &tm);
	v[0] = d->user;
	v[1] = d->label;
	v[2] = expires;
	v[3] = d->lang;
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		v[4 + f] = d->civic[f];
	return count_of(c, "replace a declared location",
		"UPDATE declared_location SET expires_at = $3::timestamptz, confirmed_at = now(),"
		" lang = $4, (country, a1, a2, a3, a4, a5, a6, prm, prd, rd, sts, pod, pom, rdsec,"
		" rdbr, rdsubbr, hno, hns, lmk, loc, flr, nam, pc, bld, unit, room, seat, plc,"
		" pcn, pobox, addcode) = ($5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
		" $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32,"
		" $33, $34, $35) WHERE user_key = $1 AND label = $2",
		4 + CIVIC_N_FIELDS, v, false, err);
}

int db_web_endpoints(struct db_conn *c, const char *user,
		     void (*row)(void *ctx, const struct db_web_endpoint *e), void *ctx,
		     struct lis_error *err)
{
	const char *const v[] = {user};
	PGresult *res = db_exec(c, "list a user's endpoints",
		"SELECT x.key, k.key, k.no_fresh, k.use_declared, coalesce(k.reconfirm_interval, 0),"
		" x.mac, x.uri, x.tel, x.ip"
		" FROM (SELECT key, class, coalesce(mac::text, '') AS mac, coalesce(uri, '') AS uri,"
		" coalesce(tel, '') AS tel, '' AS ip FROM endpoint WHERE owner = $1 AND active"
		" UNION ALL SELECT 'vpn ' || host(ip), class, '', '', '', host(ip) FROM vpn_binding"
		" WHERE user_key = $1 AND expires_at > now()) x"
		" JOIN endpoint_class k ON k.key = x.class ORDER BY 1", 1, v,
		PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const struct db_web_endpoint e = {
			.key = PQgetvalue(res, i, 0),
			.cls = PQgetvalue(res, i, 1),
			.no_fresh = PQgetvalue(res, i, 2),
			.use_declared = PQgetvalue(res, i, 3)[0] == 't',
			.reconfirm_interval = (unsigned)atol(PQgetvalue(res, i, 4)),
			.mac = PQgetvalue(res, i, 5),
			.uri = PQgetvalue(res, i, 6),
			.tel = PQgetvalue(res, i, 7),
			.ip = PQgetvalue(res, i, 8),
		};
		row(ctx, &e);
	}
	PQclear(res);
	return 0;
}
