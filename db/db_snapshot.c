/* Reading the whole wiremap for lisd's in-memory snapshot, and waiting for changes.
 * One REPEATABLE READ transaction sees one state of every table; each table is read through
 * a cursor in batches, so that a million rows never sit in one PGresult. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_internal.h"
#include "db_snapshot.h"

/* Rows per FETCH: large enough that round trips do not matter (100 for a million rows),
 * small enough that a batch is a few MB. */
#define DB_SNAPSHOT_BATCH "10000"

/* ---- values ---- */

static long long int_at(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static const char *str_at(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static bool bool_at(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* macaddr as PostgreSQL prints it: "08:00:2b:01:02:03". */
static bool mac_at(const PGresult *res, int row, int col, uint8_t mac[6])
{
	const char *s = PQgetvalue(res, row, col);

	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hex(s[3 * i]), lo = hex(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int bad_mac(const PGresult *res, int row, int col, const char *what,
		   struct lis_error *err)
{
	return lis_error_set(err, DB_E_SCHEMA, "snapshot: %s: \"%.40s\" is not a MAC address",
			     what, PQgetvalue(res, row, col));
}

/* ---- one converter per table: row `i` of a batch to a record, handed to the sink ---- */

static int site_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
		    struct lis_error *err)
{
	const struct db_rec_site r = {
		.id = int_at(res, i, 0),
		.key = str_at(res, i, 1),
		.name = str_at(res, i, 2),
		.default_location_id = int_at(res, i, 3),
		.allow_default = bool_at(res, i, 4),
	};
	return k->site(k->ctx, &r, err);
}

#define COL_(c) ", " #c
enum { LOC_CIVIC = 4, LOC_LAT = LOC_CIVIC + CIVIC_N_FIELDS, LOC_LON, LOC_ALT, LOC_UNC, LOC_N };

static int location_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
			struct lis_error *err)
{
	struct db_rec_location r = {
		.id = int_at(res, i, 0),
		.site_id = int_at(res, i, 1),
		.key = str_at(res, i, 2),
		.lang = str_at(res, i, 3),
	};

	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		r.civic[f] = str_at(res, i, LOC_CIVIC + f);
	if (!PQgetisnull(res, i, LOC_LAT) && !PQgetisnull(res, i, LOC_LON)) {
		r.has_geo = true;
		r.lat = strtod(PQgetvalue(res, i, LOC_LAT), NULL);
		r.lon = strtod(PQgetvalue(res, i, LOC_LON), NULL);
	}
	if (!PQgetisnull(res, i, LOC_ALT)) {
		r.has_alt = true;
		r.alt = strtod(PQgetvalue(res, i, LOC_ALT), NULL);
	}
	if (!PQgetisnull(res, i, LOC_UNC))
		r.uncertainty = strtod(PQgetvalue(res, i, LOC_UNC), NULL);
	return k->location(k->ctx, &r, err);
}

static int subnet_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
		      struct lis_error *err)
{
	const struct db_rec_subnet r = {str_at(res, i, 0), int_at(res, i, 1)};
	return k->subnet(k->ctx, &r, err);
}

static int switch_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
		      struct lis_error *err)
{
	const struct db_rec_switch r = {
		.id = int_at(res, i, 0),
		.site_id = int_at(res, i, 1),
		.key = str_at(res, i, 2),
		.chassis_id = str_at(res, i, 3),
		.mgmt_address = str_at(res, i, 4),
		.location_id = int_at(res, i, 5),
	};
	return k->sw(k->ctx, &r, err);
}

static int port_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
		    struct lis_error *err)
{
	const struct db_rec_port r = {int_at(res, i, 0), str_at(res, i, 1), int_at(res, i, 2)};
	return k->port(k->ctx, &r, err);
}

static int bssid_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
		     struct lis_error *err)
{
	struct db_rec_bssid r = {
		.prefix_len = (unsigned)int_at(res, i, 1),
		.key = str_at(res, i, 2),
		.location_id = int_at(res, i, 3),
	};

	if (!mac_at(res, i, 0, r.bssid))
		return bad_mac(res, i, 0, "bssid", err);
	return k->bssid(k->ctx, &r, err);
}

static int endpoint_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
			struct lis_error *err)
{
	struct db_rec_endpoint r = {
		.id = int_at(res, i, 0),
		.key = str_at(res, i, 1),
		.class_ = str_at(res, i, 2),
		.uri = str_at(res, i, 4),
		.tel = str_at(res, i, 5),
		.location_id = int_at(res, i, 6),
	};

	if (!PQgetisnull(res, i, 3)) {
		if (!mac_at(res, i, 3, r.mac))
			return bad_mac(res, i, 3, "endpoint", err);
		r.has_mac = true;
	}
	return k->endpoint(k->ctx, &r, err);
}

/* Bindings share their last three columns: first_seen, last_seen (epoch seconds), source.
 * They arrive in last_seen order at full precision, so that two observations within the
 * same second still come oldest first (the builder breaks ties by arrival). */
static int binding_row(const PGresult *res, int i, struct db_rec_binding *r,
		       const struct db_snapshot_sink *k, struct lis_error *err)
{
	int n = PQnfields(res);

	r->first_seen = (time_t)int_at(res, i, n - 3);
	r->last_seen = (time_t)int_at(res, i, n - 2);
	r->source = str_at(res, i, n - 1);
	if (!mac_at(res, i, 0, r->mac))
		return bad_mac(res, i, 0, "binding", err);
	return k->binding(k->ctx, r, err);
}

static int mac_port_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
			struct lis_error *err)
{
	struct db_rec_binding r = {
		.kind = DB_BIND_MAC_PORT,
		.switch_id = int_at(res, i, 1),
		.port_id = str_at(res, i, 2),
	};
	return binding_row(res, i, &r, k, err);
}

static int ip_mac_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
		      struct lis_error *err)
{
	struct db_rec_binding r = {.kind = DB_BIND_IP_MAC, .ip = str_at(res, i, 1)};
	return binding_row(res, i, &r, k, err);
}

static int mac_bssid_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
			 struct lis_error *err)
{
	struct db_rec_binding r = {.kind = DB_BIND_MAC_BSSID};

	if (!mac_at(res, i, 1, r.bssid))
		return bad_mac(res, i, 1, "binding", err);
	return binding_row(res, i, &r, k, err);
}

/* ---- the entities, in the order of enum db_entity (the order the sink gets them) ---- */

#define SEEN_COLUMNS \
	", floor(date_part('epoch', first_seen))::bigint" \
	", floor(date_part('epoch', last_seen))::bigint, source"

/* What the loader reads of each entity: lisd's view, with ids instead of keys. */
struct table {
	const char *sql;
	int n_fields;
	int (*row)(const PGresult *res, int i, const struct db_snapshot_sink *k,
		   struct lis_error *err);
	enum { CB_SITE, CB_LOCATION, CB_SUBNET, CB_SW, CB_PORT, CB_BSSID, CB_ENDPOINT,
	       CB_BINDING } callback; /* the sink's callback: a NULL one skips the table */
};

static const struct table tables[DB_ENTITY_N] = {
	[DB_SITES] = {"SELECT id, key, name, coalesce(default_location_id, 0), allow_default"
		      " FROM site", 5, site_row, CB_SITE},
	[DB_LOCATIONS] = {"SELECT id, site_id, key, lang" DB_CIVIC_COLUMNS(COL_)
			  ", latitude, longitude, altitude, uncertainty FROM location",
			  LOC_N, location_row, CB_LOCATION},
	[DB_SUBNETS] = {"SELECT prefix::text, location_id FROM subnet", 2, subnet_row,
			CB_SUBNET},
	[DB_SWITCHES] = {"SELECT id, site_id, key, chassis_id, host(mgmt_address),"
			 " coalesce(location_id, 0) FROM switch", 6, switch_row, CB_SW},
	[DB_PORTS] = {"SELECT switch_id, port_id, coalesce(location_id, 0) FROM switch_port", 3,
		      port_row, CB_PORT},
	[DB_BSSIDS] = {"SELECT bssid::text, prefix_len, key, location_id FROM bssid", 4,
		       bssid_row, CB_BSSID},
	[DB_ENDPOINTS] = {"SELECT id, key, class, mac::text, uri, tel, coalesce(location_id, 0)"
			  " FROM endpoint", 7, endpoint_row, CB_ENDPOINT},
	[DB_MAC_PORTS] = {"SELECT mac::text, switch_id, port_id" SEEN_COLUMNS
			  " FROM binding_mac_port ORDER BY last_seen", 6, mac_port_row,
			  CB_BINDING},
	[DB_IP_MACS] = {"SELECT mac::text, host(ip)" SEEN_COLUMNS
			" FROM binding_ip_mac ORDER BY last_seen", 5, ip_mac_row, CB_BINDING},
	[DB_MAC_BSSIDS] = {"SELECT mac::text, bssid::text" SEEN_COLUMNS
			   " FROM binding_mac_bssid ORDER BY last_seen", 5, mac_bssid_row,
			   CB_BINDING},
};

static bool has_callback(const struct db_snapshot_sink *k, const struct table *t)
{
	switch (t->callback) {
	case CB_SITE: return k->site;
	case CB_LOCATION: return k->location;
	case CB_SUBNET: return k->subnet;
	case CB_SW: return k->sw;
	case CB_PORT: return k->port;
	case CB_BSSID: return k->bssid;
	case CB_ENDPOINT: return k->endpoint;
	case CB_BINDING: return k->binding;
	}
	return false;
}

/* Stream one table through a cursor into the sink. */
static int load_table(struct db_conn *c, enum db_entity e,
		      const struct db_snapshot_sink *sink, struct lis_error *err)
{
	const struct table *t = &tables[e];
	char what[64], declare[1024];
	int rc = 0;

	snprintf(what, sizeof(what), "snapshot: %s", db_entities[e].noun);
	/* The text is one of the constant queries above, never input. */
	snprintf(declare, sizeof(declare), "DECLARE lis_snapshot NO SCROLL CURSOR FOR %s", t->sql);
	if (db_run(c, what, declare, err) < 0)
		return -1;
	for (;;) {
		PGresult *res = db_exec(c, what, "FETCH FORWARD " DB_SNAPSHOT_BATCH
					" FROM lis_snapshot", 0, NULL, PGRES_TUPLES_OK, err);
		int n;

		if (!res)
			return -1;
		n = PQntuples(res);
		if (n > 0 && PQnfields(res) != t->n_fields) {
			PQclear(res);
			return lis_error_set(err, DB_E_SCHEMA, "%s: unexpected result shape", what);
		}
		for (int i = 0; i < n && rc == 0; i++)
			rc = t->row(res, i, sink, err) < 0 ? -1 : 0;
		PQclear(res);
		if (rc < 0)
			return -1;
		if (n == 0)
			break;
	}
	return db_run(c, what, "CLOSE lis_snapshot", err);
}

int db_snapshot_load(struct db_conn *c, const struct db_snapshot_sink *sink, struct lis_error *err)
{
	int version;

	if (db_schema_version(c, &version, err) < 0)
		return -1;
	if (version != db_schema_latest())
		return lis_error_set(err, DB_E_SCHEMA,
				     "snapshot: database schema is at version %d, this program "
				     "reads version %d%s", version, db_schema_latest(),
				     version < db_schema_latest() ? " (run lisctl db migrate)"
								   : " (upgrade lis)");
	/* REPEATABLE READ: every table as of one moment, whatever imports commit meanwhile.
	 * READ ONLY: a loader never writes. */
	if (db_run(c, "snapshot: begin",
		"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err) < 0)
		return -1;
	for (int e = 0; e < DB_ENTITY_N; e++) {
		if (has_callback(sink, &tables[e]) && load_table(c, (enum db_entity)e, sink, err) < 0)
			goto fail;
	}
	if (db_run(c, "snapshot: commit", "COMMIT", err) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(c);
	return -1;
}

/* ---- change notifications ---- */

int db_listen(struct db_conn *c, struct lis_error *err)
{
	return db_run(c, "listen", "LISTEN " DB_WIREMAP_CHANNEL, err);
}

/* Consume every notification libpq holds; true if there was one. */
static bool drain(struct db_conn *c)
{
	PGnotify *n;
	bool any = false;

	while ((n = PQnotifies(c->pg)) != NULL) {
		any = true;
		PQfreemem(n);
	}
	return any;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int db_wait_notify(struct db_conn *c, int timeout_ms, struct lis_error *err)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	if (!db_is_ok(c))
		return lis_error_set(err, DB_E_CONNECT, "wait for changes: not connected");
	/* Notifications may have arrived while other statements ran (a snapshot load). */
	if (drain(c))
		return 1;
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd pfd = {PQsocket(c->pg), POLLIN, 0};
		int r;

		if (pfd.fd < 0)
			return lis_error_set(err, DB_E_CONNECT, "wait for changes: no socket");
		r = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (r < 0 && errno != EINTR)
			return lis_error_set(err, DB_E_CONNECT, "wait for changes: poll: %s",
					     strerror(errno));
		if (r > 0) {
			/* Readable: data, or the server went away (then consuming fails). */
			if (!PQconsumeInput(c->pg) || !db_is_ok(c))
				return db_set_error(c, NULL, err, "wait for changes");
			if (drain(c))
				return 1;
		}
		if (deadline - now_ms() <= 0)
			return 0;
	}
}
