/* Declared locations and VPN bindings (db_declared.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_declared.h"
#include "db_internal.h"

#define NAME_(c) ", " #c

int db_set_actor(struct db_conn *c, const char *who, const char *via, const char *from,
		 struct lis_error *err)
{
	const char *const v[] = {who, via, from};
	PGresult *res = db_exec(c, "set the audit's actor",
				"SELECT set_config('lis.who', $1, false),"
				" set_config('lis.via', $2, false),"
				" set_config('lis.from', $3, false)",
				3, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int db_declare(struct db_conn *c, const struct db_declaration *d, struct lis_error *err)
{
	/* $1 user, $2 label, $3 current, $4 expires, $5 lang, $6.. the civic fields */
	const char *v[5 + CIVIC_N_FIELDS];
	char expires[32];
	struct tm tm;
	gmtime_r(&d->expires_at, &tm);
	strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &tm);
	v[0] = d->user;
	v[1] = d->label;
	v[2] = d->current ? "true" : "false";
	v[3] = expires;
	v[4] = d->lang;
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		v[5 + f] = d->civic[f];
	PGresult *res = db_exec(c, "declare a location",
		"INSERT INTO declared_location (user_key, label, is_current, expires_at, lang"
		DB_CIVIC_COLUMNS(NAME_) ")"
		" VALUES ($1, $2, $3::boolean, $4::timestamptz, $5, $6, $7, $8, $9, $10, $11, $12,"
		" $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28,"
		" $29, $30, $31, $32, $33, $34, $35, $36)"
		" ON CONFLICT (user_key, label) DO UPDATE SET"
		" is_current = EXCLUDED.is_current OR declared_location.is_current,"
		" expires_at = EXCLUDED.expires_at, confirmed_at = now(), lang = EXCLUDED.lang,"
		" country = EXCLUDED.country, a1 = EXCLUDED.a1, a2 = EXCLUDED.a2,"
		" a3 = EXCLUDED.a3, a4 = EXCLUDED.a4, a5 = EXCLUDED.a5, a6 = EXCLUDED.a6,"
		" prm = EXCLUDED.prm, prd = EXCLUDED.prd, rd = EXCLUDED.rd, sts = EXCLUDED.sts,"
		" pod = EXCLUDED.pod, pom = EXCLUDED.pom, rdsec = EXCLUDED.rdsec,"
		" rdbr = EXCLUDED.rdbr, rdsubbr = EXCLUDED.rdsubbr, hno = EXCLUDED.hno,"
		" hns = EXCLUDED.hns, lmk = EXCLUDED.lmk, loc = EXCLUDED.loc, flr = EXCLUDED.flr,"
		" nam = EXCLUDED.nam, pc = EXCLUDED.pc, bld = EXCLUDED.bld, unit = EXCLUDED.unit,"
		" room = EXCLUDED.room, seat = EXCLUDED.seat, plc = EXCLUDED.plc,"
		" pcn = EXCLUDED.pcn, pobox = EXCLUDED.pobox, addcode = EXCLUDED.addcode",
		5 + CIVIC_N_FIELDS, v, PGRES_COMMAND_OK, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

long db_declared_purge(struct db_conn *c, time_t before, bool dry_run, struct lis_error *err)
{
	char t[32];
	snprintf(t, sizeof t, "%lld", (long long)before);
	const char *const v[] = {t};
	if (!dry_run)
		return db_exec_touched(c, "purge declarations",
				       "DELETE FROM declared_location WHERE NOT is_current AND"
				       " expires_at < to_timestamp($1::float8)", 1, v, err);
	PGresult *res = db_exec(c, "purge declarations",
				"SELECT count(*) FROM declared_location WHERE NOT is_current AND"
				" expires_at < to_timestamp($1::float8)", 1, v, PGRES_TUPLES_OK,
				err);
	if (!res)
		return -1;
	long n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

int db_declared_change(struct db_conn *c, const char *user, const char *label,
		       enum db_declared_op op, struct lis_error *err)
{
	static const char *const sql[] = {
		[DB_DECLARED_CONFIRM] = "UPDATE declared_location SET confirmed_at = now()"
					" WHERE user_key = $1 AND label = $2",
		[DB_DECLARED_MAKE_CURRENT] = "UPDATE declared_location SET is_current = true"
					     " WHERE user_key = $1 AND label = $2",
		[DB_DECLARED_REMOVE] = "DELETE FROM declared_location"
				       " WHERE user_key = $1 AND label = $2",
	};
	const char *const v[] = {user, label};
	int n = db_exec_touched(c, "change a declared location", sql[op], 2, v, err);
	return n < 0 ? -1 : n > 0;
}

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

int db_declared_list(struct db_conn *c, const char *user,
		     void (*row)(void *ctx, const struct db_declared_row *r),
		     void (*audit)(void *ctx, const struct db_declared_audit_row *a), void *ctx,
		     struct lis_error *err)
{
	const char *const v[] = {user};
	PGresult *res = db_exec(c, "list declared locations",
		"SELECT label, is_current, concat_ws(', ', nullif(concat_ws(' ', hno, hns, prd, rd,"
		" sts, pod), ''), nullif(concat_ws(' ', 'UNIT', unit), 'UNIT'),"
		" nullif(concat_ws(' ', 'FLR', flr), 'FLR'), a3, a1, pc, country), "
		ISO("confirmed_at") ", " ISO("expires_at") ", expires_at <= now()"
		" FROM declared_location WHERE user_key = $1 ORDER BY is_current DESC, label",
		1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const struct db_declared_row r = {
			.label = PQgetvalue(res, i, 0),
			.current = PQgetvalue(res, i, 1)[0] == 't',
			.address = PQgetvalue(res, i, 2),
			.confirmed_at = PQgetvalue(res, i, 3),
			.expires_at = PQgetvalue(res, i, 4),
			.expired = PQgetvalue(res, i, 5)[0] == 't',
		};
		row(ctx, &r);
	}
	PQclear(res);
	if (!audit)
		return 0;
	res = db_exec(c, "list the audit of declared locations",
		      "SELECT " ISO("at") ", who, via, from_addr, label, op, old::text, new::text"
		      " FROM declared_location_audit WHERE user_key = $1 ORDER BY id", 1, v,
		      PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const struct db_declared_audit_row a = {
			.at = PQgetvalue(res, i, 0),
			.who = PQgetvalue(res, i, 1),
			.via = PQgetvalue(res, i, 2),
			.from = PQgetvalue(res, i, 3),
			.label = PQgetvalue(res, i, 4),
			.op = PQgetvalue(res, i, 5),
			.old = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6),
			.new_ = PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7),
		};
		audit(ctx, &a);
	}
	PQclear(res);
	return 0;
}

int db_vpn_bind(struct db_conn *c, const char *ip, const char *user, const char *cls,
		unsigned ttl, const char *source, char *expires, size_t expires_size,
		struct lis_error *err)
{
	char ttl_text[16];
	snprintf(ttl_text, sizeof ttl_text, "%u", ttl);
	const char *const v[] = {ip, user, cls ? cls : "softphone", ttl_text, source};
	if (db_run(c, "VPN binding: begin", "BEGIN", err) < 0)
		return -1;
	/* An expired binding answers nothing; old ones go as new ones come. */
	PGresult *res = NULL;
	if (db_exec_touched(c, "VPN binding: expire",
			    "DELETE FROM vpn_binding WHERE expires_at < now() - interval '1 day'",
			    0, NULL, err) >= 0) {
		res = db_exec(c, "VPN binding",
			      "INSERT INTO vpn_binding (ip, user_key, class, bound_at, expires_at,"
			      " source) VALUES ($1::inet, $2, $3, now(),"
			      " now() + make_interval(secs => $4::integer), $5)"
			      " ON CONFLICT (ip) DO UPDATE SET user_key = EXCLUDED.user_key,"
			      " class = EXCLUDED.class, bound_at = EXCLUDED.bound_at,"
			      " expires_at = EXCLUDED.expires_at, source = EXCLUDED.source"
			      " RETURNING " ISO("expires_at"), 5, v, PGRES_TUPLES_OK, err);
	}
	if (!res) {
		db_rollback(c);
		return -1;
	}
	snprintf(expires, expires_size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return db_run(c, "VPN binding: commit", "COMMIT", err);
}

int db_vpn_unbind(struct db_conn *c, const char *ip, struct lis_error *err)
{
	const char *const v[] = {ip};
	int n = db_exec_touched(c, "VPN binding: remove",
				"DELETE FROM vpn_binding WHERE ip = $1::inet", 1, v, err);
	return n < 0 ? -1 : n > 0;
}
