/* The collector's SQL: switches to poll, one poll's observations, poll status.
 * A poll of one switch is a handful of statements in one transaction, each carrying all
 * rows of its kind as text-array parameters expanded by unnest(): a 48-port switch or a
 * router with thousands of ARP entries costs the same few round trips, and no SQL text is
 * ever built from data (only the array literals, which are parameters). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_collect.h"
#include "db_internal.h"

#define EPOCH(p) "to_timestamp(" p "::bigint)"

static const struct db_stmt collect_switches = {
	DB_STMT_COLLECT_SWITCHES, "lis_collect_switches",
	"SELECT s.id, s.key, host(s.mgmt_address), s.snmp_profile, s.snmp_port,"
	" coalesce(s.poll_interval, 0),"
	" coalesce(floor(date_part('epoch', p.last_attempt))::bigint, 0),"
	" coalesce(floor(date_part('epoch', p.last_success))::bigint, 0),"
	" coalesce(p.consecutive_failures, 0)"
	" FROM switch s LEFT JOIN switch_poll_status p ON p.switch_id = s.id"
	" WHERE s.mgmt_address IS NOT NULL AND s.poll_enabled ORDER BY s.key",
	0,
};

/* The observations of a poll as a set: the same MAC on the same port in several VLANs is
 * one binding, and ON CONFLICT DO UPDATE may not meet a row twice in one statement. */
#define OBS_MAC_PORTS \
	"SELECT DISTINCT m::macaddr AS mac, p AS port_id" \
	" FROM unnest($4::text[], $5::text[]) AS t(m, p)"

/* $1 switch, $2 at, $3 source, $4 MACs, $5 ports. Runs before the bindings are written.
 * A MAC moved when its newest binding (ties: one this poll confirms) is on a (switch,
 * port) this poll did not see it on. A binding newer than `at` means this observation is
 * the stale one (a late write after a restart), not a move. One row per MAC even when
 * this poll sees it on several ports. The newest binding is looked up per MAC (LATERAL,
 * LIMIT 1) so that the primary key's (mac, ...) prefix serves it: a plain IN (...)
 * against all bindings got a sequential scan from the generic plan, 3 ms a switch. */
static const struct db_stmt collect_moves = {
	DB_STMT_COLLECT_MOVES, "lis_collect_moves",
	"WITH o AS (" OBS_MAC_PORTS "),"
	" n AS (SELECT m.mac, b.switch_id, b.port_id, b.last_seen"
	"       FROM (SELECT DISTINCT mac FROM o) m CROSS JOIN LATERAL"
	"       (SELECT b.switch_id, b.port_id, b.last_seen FROM binding_mac_port b"
	"        WHERE b.mac = m.mac"
	"        ORDER BY b.last_seen DESC, (b.switch_id = $1::bigint AND EXISTS"
	"        (SELECT 1 FROM o WHERE o.mac = b.mac AND o.port_id = b.port_id)) DESC,"
	"        b.switch_id, b.port_id LIMIT 1) b),"
	" mv AS (SELECT DISTINCT ON (o.mac) o.mac, n.switch_id, n.port_id, o.port_id AS to_port"
	"       FROM o JOIN n ON n.mac = o.mac"
	"       WHERE n.last_seen <= " EPOCH("$2")
	"       AND NOT (n.switch_id = $1::bigint AND EXISTS"
	"                (SELECT 1 FROM o o2 WHERE o2.mac = n.mac AND o2.port_id = n.port_id))"
	"       ORDER BY o.mac, o.port_id)"
	" INSERT INTO mac_move (mac, from_switch_id, from_port_id, to_switch_id, to_port_id,"
	" moved_at, source)"
	" SELECT mac, switch_id, port_id, $1::bigint, to_port, " EPOCH("$2") ", $3::text FROM mv",
	5,
};

/* first_seen only ever moves back and last_seen forward, so a late or repeated write
 * cannot undo a newer one; the source follows the newest observation. A row is rewritten
 * only when something differs: the same write twice at the same time changes nothing. */
#define SEEN_UPSERT \
	" DO UPDATE SET first_seen = least(b.first_seen, EXCLUDED.first_seen)," \
	" last_seen = greatest(b.last_seen, EXCLUDED.last_seen)," \
	" source = CASE WHEN EXCLUDED.last_seen >= b.last_seen THEN EXCLUDED.source" \
	" ELSE b.source END" \
	" WHERE b.first_seen > EXCLUDED.first_seen OR b.last_seen < EXCLUDED.last_seen" \
	" OR (b.last_seen = EXCLUDED.last_seen AND b.source <> EXCLUDED.source)" \
	" RETURNING xmax = 0 AS inserted)" \
	" SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM u"

/* $1 switch, $2 at, $3 source, $4 MACs, $5 ports. Returns (inserted, updated). */
static const struct db_stmt collect_mac_ports = {
	DB_STMT_COLLECT_MAC_PORTS, "lis_collect_mac_ports",
	"WITH u AS (INSERT INTO binding_mac_port AS b (mac, switch_id, port_id, first_seen,"
	" last_seen, source)"
	" SELECT o.mac, $1::bigint, o.port_id, " EPOCH("$2") ", " EPOCH("$2") ", $3::text"
	" FROM (" OBS_MAC_PORTS ") o"
	" ON CONFLICT (mac, switch_id, port_id)" SEEN_UPSERT,
	5,
};

/* $1 at, $2 source, $3 IPs, $4 MACs. Returns (inserted, updated). */
static const struct db_stmt collect_ip_macs = {
	DB_STMT_COLLECT_IP_MACS, "lis_collect_ip_macs",
	"WITH u AS (INSERT INTO binding_ip_mac AS b (ip, mac, first_seen, last_seen, source)"
	" SELECT DISTINCT i::inet, m::macaddr, " EPOCH("$1") ", " EPOCH("$1") ", $2::text"
	" FROM unnest($3::text[], $4::text[]) AS t(i, m)"
	" ON CONFLICT (ip, mac)" SEEN_UPSERT,
	4,
};

/* The LLDP-MED columns of lldp_neighbor (lldp_med.h), spelt into the statement below in that
 * list's order. */
#define MED_COL_(f, column, ...) ", " column
#define MED_SET_(f, column, ...) ", " column " = EXCLUDED." column
#define MED_OLD_(f, column, ...) ", l." column
#define MED_NEW_(f, column, ...) ", EXCLUDED." column

/* $1 switch, $2 at, $3..$10 the LLDP columns of lldp_neighbor as arrays, in table order, then
 * one text[] per LLDP-MED column. The preprocessor can spell the column names in but cannot
 * count: the LLDP-MED parameters ($11, ...) are numbered as the statement is put together,
 * lldp_head + ", $N::text[]" for each + lldp_tail (lldp_sql). */
enum { LLDP_ARRAYS = 8 };
static const char lldp_head[] =
	"INSERT INTO lldp_neighbor AS l (switch_id, local_port_id, chassis_subtype, chassis_id,"
	" port_subtype, port_id, sys_name, sys_capabilities, is_network_device"
	LLDP_MED_COLUMNS(MED_COL_) ", first_seen, last_seen)"
	" SELECT DISTINCT ON (lp, ci, pi) $1::bigint, lp, cs, ci, ps, pi, sn, sc, nd"
	LLDP_MED_COLUMNS(MED_COL_) ", " EPOCH("$2") ", " EPOCH("$2")
	" FROM (SELECT coalesce(lp, '') AS lp, cs, coalesce(ci, '') AS ci, ps,"
	"       coalesce(pi, '') AS pi, sn, sc, coalesce(nd, false) AS nd"
	LLDP_MED_COLUMNS(MED_COL_)
	"       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
	"       $8::text[], $9::text[], $10::boolean[]";
static const char lldp_tail[] =
	") AS t(lp, cs, ci, ps, pi, sn, sc, nd" LLDP_MED_COLUMNS(MED_COL_) ")) r"
	" ORDER BY lp, ci, pi"
	" ON CONFLICT (switch_id, local_port_id, chassis_id, port_id) DO UPDATE SET"
	" chassis_subtype = EXCLUDED.chassis_subtype, port_subtype = EXCLUDED.port_subtype,"
	" sys_name = EXCLUDED.sys_name, sys_capabilities = EXCLUDED.sys_capabilities,"
	" is_network_device = EXCLUDED.is_network_device" LLDP_MED_COLUMNS(MED_SET_) ","
	" first_seen = least(l.first_seen, EXCLUDED.first_seen),"
	" last_seen = greatest(l.last_seen, EXCLUDED.last_seen)"
	" WHERE (l.chassis_subtype, l.port_subtype, l.sys_name, l.sys_capabilities,"
	" l.is_network_device" LLDP_MED_COLUMNS(MED_OLD_) ", l.first_seen, l.last_seen)"
	" IS DISTINCT FROM (EXCLUDED.chassis_subtype, EXCLUDED.port_subtype, EXCLUDED.sys_name,"
	" EXCLUDED.sys_capabilities, EXCLUDED.is_network_device" LLDP_MED_COLUMNS(MED_NEW_) ","
	" least(l.first_seen, EXCLUDED.first_seen), greatest(l.last_seen, EXCLUDED.last_seen))";

/* $1 switch, $2 at, $3 rows seen, $4 uplink ports. A status older than the stored one (a
 * late write) leaves it alone, here and on failure. */
static const struct db_stmt collect_status_ok = {
	DB_STMT_COLLECT_STATUS_OK, "lis_collect_status_ok",
	"INSERT INTO switch_poll_status AS p (switch_id, last_attempt, last_success, last_error,"
	" consecutive_failures, rows_seen, uplink_ports, polled_by)"
	" VALUES ($1::bigint, " EPOCH("$2") ", " EPOCH("$2") ", NULL, 0, $3::integer,"
	" $4::text[], $5::text)"
	" ON CONFLICT (switch_id) DO UPDATE SET last_attempt = EXCLUDED.last_attempt,"
	" last_success = EXCLUDED.last_success, last_error = NULL, consecutive_failures = 0,"
	" rows_seen = EXCLUDED.rows_seen, uplink_ports = EXCLUDED.uplink_ports,"
	" polled_by = EXCLUDED.polled_by"
	" WHERE p.last_attempt IS NULL OR p.last_attempt <= EXCLUDED.last_attempt",
	5,
};

/* $1 switch, $2 at, $3 error, $4 collector. */
static const struct db_stmt collect_status_failed = {
	DB_STMT_COLLECT_STATUS_FAILED, "lis_collect_status_failed",
	"INSERT INTO switch_poll_status AS p (switch_id, last_attempt, last_error,"
	" consecutive_failures, polled_by)"
	" VALUES ($1::bigint, " EPOCH("$2") ", $3::text, 1, $4::text)"
	" ON CONFLICT (switch_id) DO UPDATE SET last_attempt = EXCLUDED.last_attempt,"
	" last_error = EXCLUDED.last_error,"
	" consecutive_failures = p.consecutive_failures + 1, polled_by = EXCLUDED.polled_by"
	" WHERE p.last_attempt IS NULL OR p.last_attempt <= EXCLUDED.last_attempt",
	4,
};

/* A MAC as PostgreSQL's macaddr input reads it. */
#define MAC_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]

static int oom(struct lis_error *err, const char *what)
{
	return lis_error_set(err, DB_E_QUERY, "%s: out of memory", what);
}

static long long int_at(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static char *dup_at(const PGresult *res, int row, int col, bool *ok)
{
	char *s;

	if (PQgetisnull(res, row, col))
		return NULL;
	s = strdup(PQgetvalue(res, row, col));
	if (!s)
		*ok = false;
	return s;
}

void db_collect_switches_free(struct db_poll_switch *sw, size_t n)
{
	if (!sw)
		return;
	for (size_t i = 0; i < n; i++) {
		free(sw[i].key);
		free(sw[i].address);
		free(sw[i].snmp_profile);
	}
	free(sw);
}

int db_collect_switches(struct db_conn *c, struct db_poll_switch **out, size_t *n,
			struct lis_error *err)
{
	const char *what = "switches to poll";
	PGresult *res;
	struct db_poll_switch *sw = NULL;
	size_t rows;
	bool ok = true;

	*out = NULL;
	*n = 0;
	res = db_exec_stmt(c, &collect_switches, what, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	rows = (size_t)PQntuples(res);
	if (rows && !(sw = calloc(rows, sizeof(*sw)))) {
		PQclear(res);
		return oom(err, what);
	}
	for (size_t i = 0; i < rows; i++) {
		int r = (int)i;

		sw[i].id = int_at(res, r, 0);
		sw[i].key = dup_at(res, r, 1, &ok);
		sw[i].address = dup_at(res, r, 2, &ok);
		sw[i].snmp_profile = dup_at(res, r, 3, &ok);
		sw[i].snmp_port = (unsigned)int_at(res, r, 4);
		sw[i].poll_interval = (unsigned)int_at(res, r, 5);
		sw[i].last_attempt = (time_t)int_at(res, r, 6);
		sw[i].last_success = (time_t)int_at(res, r, 7);
		sw[i].consecutive_failures = (int)int_at(res, r, 8);
	}
	PQclear(res);
	if (!ok) {
		db_collect_switches_free(sw, rows);
		return oom(err, what);
	}
	*out = sw;
	*n = rows;
	return 0;
}

static void count(struct db_collect_stats *st, const PGresult *res)
{
	if (!st)
		return;
	st->inserted += (size_t)int_at(res, 0, 0);
	st->updated += (size_t)int_at(res, 0, 1);
}

/* Run one statement of a write; a result with rows is (inserted, updated) counts. */
static int step(struct db_conn *c, const struct db_stmt *s, const char *what,
		const char *const *v, ExecStatusType want, struct db_collect_stats *st,
		size_t *moves, struct lis_error *err)
{
	PGresult *res = db_exec_stmt(c, s, what, v, want, err);

	if (!res)
		return -1;
	if (want == PGRES_TUPLES_OK)
		count(st, res);
	else if (moves)
		*moves += strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

/* The ip-mac upsert, shared by a router's ARP table and the kernel's neighbour table. */
static int write_ip_macs(struct db_conn *c, const char *what, const char *at,
			 const char *source, const struct db_obs_ip_mac *obs, size_t n,
			 struct db_collect_stats *st, struct lis_error *err)
{
	struct db_array a[2] = {0};
	int rc = -1;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		db_array_add(&a[0], obs[i].ip);
		db_array_addf(&a[1], MAC_FMT, MAC_ARGS(obs[i].mac));
	}
	const char *const v[] = {at, source, db_array_end(&a[0]), db_array_end(&a[1])};
	if (!v[2] || !v[3])
		oom(err, what);
	else
		rc = step(c, &collect_ip_macs, what, v, PGRES_TUPLES_OK, st, NULL, err);
	db_arrays_free(a, 2);
	return rc;
}

static int write_mac_ports(struct db_conn *c, const char *what, const char *id,
			   const char *at, const char *source, const struct db_switch_poll *p,
			   struct db_collect_stats *st, struct lis_error *err)
{
	struct db_array a[2] = {0};
	size_t moves = 0;
	int rc = -1;

	if (!p->n_mac_ports)
		return 0;
	for (size_t i = 0; i < p->n_mac_ports; i++) {
		db_array_addf(&a[0], MAC_FMT, MAC_ARGS(p->mac_ports[i].mac));
		db_array_add(&a[1], p->mac_ports[i].port_id);
	}
	const char *const v[] = {id, at, source, db_array_end(&a[0]), db_array_end(&a[1])};
	if (!v[3] || !v[4])
		oom(err, what);
	else if (step(c, &collect_moves, what, v, PGRES_COMMAND_OK, NULL, &moves, err) == 0 &&
		 step(c, &collect_mac_ports, what, v, PGRES_TUPLES_OK, st, NULL, err) == 0)
		rc = 0;
	if (st)
		st->moves += moves;
	db_arrays_free(a, 2);
	return rc;
}

static void lldp_sql(struct strbuf *t)
{
	strbuf_puts(t, lldp_head);
	for (int f = 0; f < LLDP_MED_N; f++)
		strbuf_printf(t, ", $%d::text[]", 3 + LLDP_ARRAYS + f);
	strbuf_puts(t, lldp_tail);
}

static int write_lldp(struct db_conn *c, const char *what, const char *id, const char *at,
		      const struct db_switch_poll *p, struct lis_error *err)
{
	enum { N = LLDP_ARRAYS + LLDP_MED_N };
	struct db_array a[N] = {0};
	const char *v[2 + N] = {id, at};
	struct strbuf sql = {0};
	int rc = -1;

	if (!p->n_lldp)
		return 0;
	for (size_t i = 0; i < p->n_lldp; i++) {
		const struct db_obs_lldp *l = &p->lldp[i];

		db_array_add(&a[0], l->local_port_id);
		db_array_add(&a[1], l->chassis_subtype);
		db_array_add(&a[2], l->chassis_id);
		db_array_add(&a[3], l->port_subtype);
		db_array_add(&a[4], l->port_id);
		db_array_add(&a[5], l->sys_name);
		db_array_add(&a[6], l->sys_capabilities);
		db_array_add(&a[7], l->is_network_device ? "t" : "f");
		for (int f = 0; f < LLDP_MED_N; f++)
			db_array_add(&a[LLDP_ARRAYS + f], l->med[f]);
	}
	lldp_sql(&sql);
	rc = sql.cut ? -1 : 0;
	for (int i = 0; i < N; i++)
		if (!(v[2 + i] = db_array_end(&a[i])))
			rc = -1;
	const struct db_stmt stmt = {DB_STMT_COLLECT_LLDP, "lis_collect_lldp", sql.s, 2 + N};
	if (rc < 0)
		oom(err, what);
	else
		rc = step(c, &stmt, what, v, PGRES_COMMAND_OK, NULL, NULL, err);
	db_arrays_free(a, N);
	strbuf_free(&sql);
	return rc;
}

static int write_status(struct db_conn *c, const char *what, const char *id, const char *at,
			const struct db_switch_poll *p, struct lis_error *err)
{
	struct db_array up = {0};
	char rows[24];
	int rc = -1;

	snprintf(rows, sizeof(rows), "%zu", p->n_mac_ports + p->n_ip_macs + p->n_lldp);
	for (size_t i = 0; i < p->n_uplinks; i++)
		db_array_add(&up, p->uplink_ports[i]);
	const char *const v[] = {id, at, rows, db_array_end(&up), p->collector};
	if (!v[3])
		oom(err, what);
	else
		rc = step(c, &collect_status_ok, what, v, PGRES_COMMAND_OK, NULL, NULL, err);
	db_arrays_free(&up, 1);
	return rc;
}

int db_collect_write(struct db_conn *c, const struct db_switch_poll *p,
		     struct db_collect_stats *st, struct lis_error *err)
{
	const char *source = p->source ? p->source : "snmp";
	char what[64], id[24], at[24];

	snprintf(what, sizeof(what), "switch %lld: poll write", p->switch_id);
	snprintf(id, sizeof(id), "%lld", p->switch_id);
	snprintf(at, sizeof(at), "%lld", (long long)p->at);
	if (db_run(c, what, "BEGIN", err) < 0)
		return -1;
	/* Status first: a switch deleted since it was listed fails here, on its foreign key,
	 * with the clearest message. Moves are found before the bindings change. */
	if (write_status(c, what, id, at, p, err) < 0 ||
	    write_mac_ports(c, what, id, at, source, p, st, err) < 0 ||
	    write_ip_macs(c, what, at, source, p->ip_macs, p->n_ip_macs, st, err) < 0 ||
	    write_lldp(c, what, id, at, p, err) < 0 ||
	    db_run(c, what, "COMMIT", err) < 0) {
		db_rollback(c);
		return -1;
	}
	return 0;
}

int db_collect_failed(struct db_conn *c, long long switch_id, time_t when, const char *error,
		      const char *collector, struct lis_error *err)
{
	char what[64], id[24], at[24];

	snprintf(what, sizeof(what), "switch %lld: poll status", switch_id);
	snprintf(id, sizeof(id), "%lld", switch_id);
	snprintf(at, sizeof(at), "%lld", (long long)when);
	const char *const v[] = {id, at, error ? error : "unknown error", collector};
	return step(c, &collect_status_failed, what, v, PGRES_COMMAND_OK, NULL, NULL, err);
}

int db_collect_neighbors(struct db_conn *c, const struct db_obs_ip_mac *obs, size_t n,
			 time_t when, const char *source, struct db_collect_stats *st,
			 struct lis_error *err)
{
	const char *what = "neighbour table write";
	char at[24];

	if (!n)
		return 0;
	snprintf(at, sizeof(at), "%lld", (long long)when);
	/* One statement is one transaction already. */
	return write_ip_macs(c, what, at, source ? source : "netlink", obs, n, st, err);
}
