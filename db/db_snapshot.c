/* Reading the whole wiremap for lisd's in-memory snapshot, and waiting for changes.
 * One REPEATABLE READ transaction sees one state of every table; each table is read through
 * a cursor in batches, so that a million rows never sit in one PGresult, and the next batch
 * is asked for before this one is handed on, so that PostgreSQL makes it meanwhile. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_internal.h"
#include "db_snapshot.h"

/* Rows per FETCH: large enough that round trips do not matter (100 for a million rows),
 * small enough that a batch is a few MB. */
#define DB_SNAPSHOT_BATCH 10000
#define DB_STR_(x) #x
#define DB_STR(x) DB_STR_(x)
#define DB_SNAPSHOT_FETCH "FETCH FORWARD " DB_STR(DB_SNAPSHOT_BATCH) " FROM lis_snapshot"
/* While a batch is handed on, libpq reads what has come of the next one every this many
 * rows: the socket's buffer holds less than a batch, and PostgreSQL stops when it is full. */
#define DB_SNAPSHOT_DRAIN_ROWS 1024

/* ---- values ----
 * The large tables come in PostgreSQL's binary format (struct table's binary): the server
 * then sends an integer, a macaddr, an inet or a timestamp as it stores it instead of
 * printing it, which was a third of its work in a reload (issue 13). Each helper reads a
 * column in either format (PQfformat); libpq ends every value with a NUL, binary ones too,
 * so a text column reads the same in both. Addresses go on as struct db_inet. */

static bool is_binary(const PGresult *res, int col)
{
	return PQfformat(res, col) == 1;
}

/* A binary integer (int2, int4 or int8, by its length), network byte order. */
static long long be_int(const unsigned char *p, int len)
{
	uint64_t v = 0;
	for (int i = 0; i < len; i++)
		v = v << 8 | p[i];
	if (len == 2)
		return (int16_t)v;
	if (len == 4)
		return (int32_t)v;
	return (long long)(int64_t)v;
}

static long long int_at(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	if (is_binary(res, col))
		return be_int((const unsigned char *)PQgetvalue(res, row, col),
			      PQgetlength(res, row, col));
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static const char *str_at(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static bool bool_at(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return false;
	return is_binary(res, col) ? PQgetvalue(res, row, col)[0] != 0
				   : PQgetvalue(res, row, col)[0] == 't';
}

/* Seconds since 1970 of a timestamptz, rounded down: binary, microseconds since 2000-01-01
 * UTC; text, an epoch the query computed. */
#define PG_EPOCH_2000 946684800LL
static time_t epoch_at(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col) || !is_binary(res, col))
		return (time_t)int_at(res, row, col);
	long long us = int_at(res, row, col);
	long long s = us / 1000000 - (us % 1000000 < 0);
	return (time_t)(s + PG_EPOCH_2000);
}

/* An inet or cidr in binary format: family (2 IPv4, 3 IPv6), bits, is_cidr, length, the
 * address. Returns false when NULL or malformed. */
static bool inet_at(const PGresult *res, int row, int col, struct db_inet *out)
{
	if (PQgetisnull(res, row, col) || !is_binary(res, col))
		return false;
	const unsigned char *p = (const unsigned char *)PQgetvalue(res, row, col);
	int len = PQgetlength(res, row, col);
	bool v4 = len == 8 && p[0] == 2 && p[3] == 4, v6 = len == 20 && p[0] == 3 && p[3] == 16;
	if ((!v4 && !v6) || p[1] > (v4 ? 32 : 128))
		return false;
	*out = (struct db_inet){.family = v4 ? 4 : 6, .bits = p[1]};
	memcpy(out->addr, p + 4, p[3]);
	return true;
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

/* macaddr: binary, its 6 bytes; text, as PostgreSQL prints it: "08:00:2b:01:02:03". */
static bool mac_at(const PGresult *res, int row, int col, uint8_t mac[6])
{
	const char *s = PQgetvalue(res, row, col);

	if (PQgetisnull(res, row, col))
		return false;
	if (is_binary(res, col)) {
		if (PQgetlength(res, row, col) != 6)
			return false;
		memcpy(mac, s, 6);
		return true;
	}
	if (PQgetlength(res, row, col) != 17)
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
	if (is_binary(res, col))
		return lis_error_set(err, DB_E_SCHEMA, "snapshot: %s: a MAC address of %d bytes",
				     what, PQgetlength(res, row, col));
	return lis_error_set(err, DB_E_SCHEMA, "snapshot: %s: \"%.40s\" is not a MAC address",
			     what, PQgetvalue(res, row, col));
}

static int bad_inet(const char *what, struct lis_error *err)
{
	return lis_error_set(err, DB_E_SCHEMA, "snapshot: %s: not an IP address", what);
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
	struct db_rec_subnet r = {.location_id = int_at(res, i, 1), .remote = bool_at(res, i, 2)};
	if (!inet_at(res, i, 0, &r.bin))
		return bad_inet("subnet", err);
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

static int class_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
		     struct lis_error *err)
{
	const struct db_rec_class r = {
		.key = str_at(res, i, 0),
		.use_port = bool_at(res, i, 1),
		.use_bssid = bool_at(res, i, 2),
		.use_subnet = bool_at(res, i, 3),
		.use_static = bool_at(res, i, 4),
		.use_declared = bool_at(res, i, 5),
		.max_binding_age = (unsigned)int_at(res, i, 6),
		.reconfirm_interval = (unsigned)int_at(res, i, 7),
		.no_fresh = str_at(res, i, 8),
	};
	return k->cls(k->ctx, &r, err);
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
		.owner = str_at(res, i, 7),
		.deactivated = !bool_at(res, i, 8),
	};

	if (!PQgetisnull(res, i, 3)) {
		if (!mac_at(res, i, 3, r.mac))
			return bad_mac(res, i, 3, "endpoint", err);
		r.has_mac = true;
	}
	return k->endpoint(k->ctx, &r, err);
}

/* Bindings share their last three columns: first_seen, last_seen, source.
 * They arrive in last_seen order at full precision, so that two observations within the
 * same second still come oldest first (the builder breaks ties by arrival). */
static int binding_row(const PGresult *res, int i, struct db_rec_binding *r,
		       const struct db_snapshot_sink *k, struct lis_error *err)
{
	int n = PQnfields(res);

	r->first_seen = epoch_at(res, i, n - 3);
	r->last_seen = epoch_at(res, i, n - 2);
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
	struct db_rec_binding r = {.kind = DB_BIND_IP_MAC};
	if (!inet_at(res, i, 1, &r.ip_bin))
		return bad_inet("binding", err);
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

static int declared_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
			struct lis_error *err)
{
	struct db_rec_declared r = {
		.id = int_at(res, i, 0),
		.user = str_at(res, i, 1),
		.label = str_at(res, i, 2),
		.lang = str_at(res, i, 3),
		.confirmed_at = (time_t)int_at(res, i, LOC_CIVIC + CIVIC_N_FIELDS),
		.expires_at = (time_t)int_at(res, i, LOC_CIVIC + CIVIC_N_FIELDS + 1),
	};

	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		r.civic[f] = str_at(res, i, LOC_CIVIC + f);
	return k->declared(k->ctx, &r, err);
}

static int vpn_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
		   struct lis_error *err)
{
	const struct db_rec_vpn r = {
		.ip = str_at(res, i, 0),
		.user = str_at(res, i, 1),
		.class_ = str_at(res, i, 2),
		.bound_at = (time_t)int_at(res, i, 3),
		.expires_at = (time_t)int_at(res, i, 4),
	};
	return k->vpn(k->ctx, &r, err);
}

static int user_row(const PGresult *res, int i, const struct db_snapshot_sink *k,
		    struct lis_error *err)
{
	const struct db_rec_user r = {.key = str_at(res, i, 0)};
	return k->user(k->ctx, &r, err);
}

/* ---- the entities, in the order of enum db_entity (the order the sink gets them) ---- */

#define SEEN_COLUMNS ", first_seen, last_seen, source"

/* What the loader reads of each entity: lisd's view, with ids instead of keys. */
struct table {
	const char *sql;           /* without WHERE and ORDER BY */
	const char *order;         /* " ORDER BY ...", or "" */
	int n_fields;
	int (*row)(const PGresult *res, int i, const struct db_snapshot_sink *k,
		   struct lis_error *err);
	/* the sink's callback: a NULL one skips the table */
	enum { CB_SITE, CB_LOCATION, CB_SUBNET, CB_SW, CB_PORT, CB_BSSID, CB_CLASS, CB_ENDPOINT,
	       CB_BINDING, CB_DECLARED, CB_VPN, CB_USER } callback;
	bool binary;               /* rows in binary format (the large tables) */
};

static const struct table tables[DB_ENTITY_N] = {
	[DB_SITES] = {"SELECT id, key, name, coalesce(default_location_id, 0), allow_default"
		      " FROM site", "", 5, site_row, CB_SITE, false},
	[DB_LOCATIONS] = {"SELECT id, site_id, key, lang" DB_CIVIC_COLUMNS(COL_)
			  ", latitude, longitude, altitude, uncertainty FROM location", "",
			  LOC_N, location_row, CB_LOCATION, false},
	[DB_SUBNETS] = {"SELECT prefix, coalesce(location_id, 0), remote FROM subnet", "",
			3, subnet_row, CB_SUBNET, true},
	[DB_SWITCHES] = {"SELECT id, site_id, key, chassis_id, host(mgmt_address),"
			 " coalesce(location_id, 0) FROM switch", "", 6, switch_row, CB_SW, true},
	[DB_PORTS] = {"SELECT switch_id, port_id, coalesce(location_id, 0) FROM switch_port", "",
		      3, port_row, CB_PORT, true},
	[DB_BSSIDS] = {"SELECT bssid, prefix_len, key, location_id FROM bssid", "", 4,
		       bssid_row, CB_BSSID, true},
	[DB_CLASSES] = {"SELECT key, use_port, use_bssid, use_subnet, use_static, use_declared,"
			" coalesce(max_binding_age, 0), coalesce(reconfirm_interval, 0), no_fresh"
			" FROM endpoint_class", "", 9, class_row, CB_CLASS, false},
	[DB_ENDPOINTS] = {"SELECT id, key, class, mac, uri, tel, coalesce(location_id, 0),"
			  " owner, active FROM endpoint", "", 9, endpoint_row, CB_ENDPOINT, true},
	[DB_MAC_PORTS] = {"SELECT mac, switch_id, port_id" SEEN_COLUMNS
			  " FROM binding_mac_port", " ORDER BY last_seen", 6, mac_port_row,
			  CB_BINDING, true},
	[DB_IP_MACS] = {"SELECT mac, ip" SEEN_COLUMNS
			" FROM binding_ip_mac", " ORDER BY last_seen", 5, ip_mac_row, CB_BINDING,
			true},
	[DB_MAC_BSSIDS] = {"SELECT mac, bssid" SEEN_COLUMNS
			   " FROM binding_mac_bssid", " ORDER BY last_seen", 5, mac_bssid_row,
			   CB_BINDING, true},
};

/* What lisd needs beyond the wiremap's entities (migrations 0008, 0010), read after them:
 * each user's current declared location, the VPN concentrator's address bindings (expired
 * ones too: the resolver says that they expired), and the deactivated users. */
enum { EXTRA_DECLARED, EXTRA_VPN, EXTRA_USERS, EXTRA_N };
static const char *const extra_nouns[EXTRA_N] = {"declared locations", "VPN bindings",
						 "deactivated users"};
static const struct table extra_tables[EXTRA_N] = {
	[EXTRA_DECLARED] = {"SELECT id, user_key, label, lang" DB_CIVIC_COLUMNS(COL_)
	 ", floor(date_part('epoch', confirmed_at))::bigint"
	 ", floor(date_part('epoch', expires_at))::bigint"
	 " FROM declared_location WHERE is_current", "", LOC_CIVIC + CIVIC_N_FIELDS + 2,
	 declared_row, CB_DECLARED, false},
	[EXTRA_VPN] = {"SELECT host(ip), user_key, class,"
	 " floor(date_part('epoch', bound_at))::bigint,"
	 " floor(date_part('epoch', expires_at))::bigint FROM vpn_binding", "", 5, vpn_row,
	 CB_VPN, false},
	[EXTRA_USERS] = {"SELECT key FROM lis_user WHERE NOT active", "", 1, user_row, CB_USER,
			 false},
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
	case CB_CLASS: return k->cls;
	case CB_ENDPOINT: return k->endpoint;
	case CB_BINDING: return k->binding;
	case CB_DECLARED: return k->declared;
	case CB_VPN: return k->vpn;
	case CB_USER: return k->user;
	}
	return false;
}

/* Send the cursor's next FETCH without waiting for its rows. Returns 0, or -1 with err
 * filled. */
static int fetch_send(struct db_conn *c, const struct table *t, const char *what,
		      struct lis_error *err)
{
	if (!db_is_ok(c))
		return lis_error_set(err, DB_E_CONNECT, "%s: not connected", what);
	/* the FETCH's result format decides, whatever the cursor was declared with */
	if (!PQsendQueryParams(c->pg, DB_SNAPSHOT_FETCH, 0, NULL, NULL, NULL, NULL, t->binary))
		return db_set_error(c, NULL, err, what);
	return 0;
}

/* Read what is left of the command sent last and drop it: the connection is then free for
 * the next one (the ROLLBACK of a load that stops). */
static void fetch_discard(struct db_conn *c)
{
	PGresult *res;

	while ((res = PQgetResult(c->pg)) != NULL)
		PQclear(res);
}

/* The rows of the FETCH sent last (waiting for them), or NULL with err filled: a database
 * gone meanwhile is DB_E_CONNECT, with the server's or libpq's words. */
static PGresult *fetch_wait(struct db_conn *c, const char *what, struct lis_error *err)
{
	PGresult *res = PQgetResult(c->pg);

	fetch_discard(c);
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	db_set_error(c, res, err, what);
	PQclear(res);
	return NULL;
}

/* Stream one table through a cursor into the sink. A full batch is followed at once by the
 * FETCH of the next, before its rows go to the sink, so that PostgreSQL reads and sends the
 * next batch while the sink builds (at 1M rows the backend works about twice as long as the
 * sink, and the two took turns). A short batch is the last. */
static int load_table(struct db_conn *c, const struct table *t, const char *noun,
		      const struct db_snapshot_sink *sink, struct lis_error *err)
{
	char what[64], declare[1024];
	int rc = 0;

	snprintf(what, sizeof(what), "snapshot: %s", noun);
	/* The text is one of the constant queries above, never input. */
	snprintf(declare, sizeof(declare), "DECLARE lis_snapshot NO SCROLL CURSOR FOR %s%s", t->sql,
		 t->order);
	if (db_run(c, what, declare, err) < 0 || fetch_send(c, t, what, err) < 0)
		return -1;
	for (;;) {
		PGresult *res = fetch_wait(c, what, err);
		int n;

		if (!res)
			return -1;
		n = PQntuples(res);
		if (n > 0 && PQnfields(res) != t->n_fields) {
			PQclear(res);
			return lis_error_set(err, DB_E_SCHEMA, "%s: unexpected result shape", what);
		}
		bool more = n == DB_SNAPSHOT_BATCH;
		if (more && fetch_send(c, t, what, err) < 0) {
			PQclear(res);
			return -1;
		}
		for (int i = 0; i < n && rc == 0; i++) {
			rc = t->row(res, i, sink, err) < 0 ? -1 : 0;
			/* a failed read shows at fetch_wait() */
			if (more && i % DB_SNAPSHOT_DRAIN_ROWS == DB_SNAPSHOT_DRAIN_ROWS - 1)
				(void)PQconsumeInput(c->pg);
		}
		PQclear(res);
		if (rc < 0) {
			if (more)
				fetch_discard(c);
			return -1;
		}
		if (!more)
			break;
	}
	return db_run(c, what, "CLOSE lis_snapshot", err);
}

/* ---- the change feed (migration 0006; see db_changes_poll in db_snapshot.h) ---- */

/* The xmin of this transaction's snapshot: every transaction not visible in it has an xid
 * at or above it. */
static int snapshot_xmin(struct db_conn *c, unsigned long long *xmin, struct lis_error *err)
{
	PGresult *res = db_exec(c, "change feed: xmin",
				"SELECT pg_snapshot_xmin(pg_current_snapshot())::text", 0, NULL,
				PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	*xmin = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

static int cursor_start(struct db_conn *c, struct db_change_cursor *cur, struct lis_error *err)
{
	cur->n_seen = 0;
	return snapshot_xmin(c, &cur->xmin, err);
}

void db_change_cursor_free(struct db_change_cursor *cur)
{
	free(cur->seen);
	*cur = (struct db_change_cursor){0};
}

static int seen_cmp(const void *a, const void *b)
{
	const struct db_change_seen *x = a, *y = b;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* cur->seen is sorted by seq (cursor_advance sorts it). */
static bool cursor_seen(const struct db_change_cursor *cur, long long seq)
{
	struct db_change_seen key = {seq, 0};
	return cur->n_seen && bsearch(&key, cur->seen, cur->n_seen, sizeof key, seen_cmp);
}

static int cursor_add(struct db_change_cursor *cur, long long seq, unsigned long long xid)
{
	if (cur->n_seen == cur->cap_seen) {
		size_t cap = cur->cap_seen ? cur->cap_seen * 2 : 64;
		void *p = realloc(cur->seen, cap * sizeof *cur->seen);
		if (!p)
			return -1;
		cur->seen = p;
		cur->cap_seen = cap;
	}
	cur->seen[cur->n_seen++] = (struct db_change_seen){seq, xid};
	return 0;
}

/* Forget what no later poll can return again (xid below the new xmin). */
static void cursor_advance(struct db_change_cursor *cur, unsigned long long xmin)
{
	size_t k = 0;
	for (size_t i = 0; i < cur->n_seen; i++)
		if (cur->seen[i].xid >= xmin)
			cur->seen[k++] = cur->seen[i];
	cur->n_seen = k;
	cur->xmin = xmin;
	if (k > 1)
		qsort(cur->seen, k, sizeof *cur->seen, seen_cmp);
}

/* What the feed's rows say about each table (the triggers of migrations 0006 and 0012), and
 * how to read the current rows of the changed keys: $1 (and $2) are arrays of key_text
 * (key_id). e: an enum db_entity (its table in tables[]), or DB_FEED_DECLARED, DB_FEED_VPN
 * (in extra_tables[]). */
static const struct feed {
	const char *tbl;
	int e;
	const char *where;         /* after the table's query, which may have a WHERE */
	bool by_id, by_text;       /* which key columns the rows carry */
	const char *id_type;       /* the key_id array's element type */
} feeds[] = {
	{"location", DB_LOCATIONS, " WHERE id = ANY($1::bigint[])", true, false, NULL},
	{"subnet", DB_SUBNETS, " WHERE prefix = ANY($1::cidr[])", false, true, NULL},
	{"switch_port", DB_PORTS, " WHERE (switch_id, port_id) IN"
	 " (SELECT * FROM unnest($2::bigint[], $1::text[]))", true, true, "bigint"},
	{"bssid", DB_BSSIDS, " WHERE (bssid, prefix_len) IN"
	 " (SELECT * FROM unnest($1::macaddr[], $2::int[]))", true, true, "int"},
	{"endpoint", DB_ENDPOINTS, " WHERE id = ANY($1::bigint[])", true, false, NULL},
	{"binding_mac_port", DB_MAC_PORTS, " WHERE mac = ANY($1::macaddr[])", false, true, NULL},
	{"binding_ip_mac", DB_IP_MACS, " WHERE ip = ANY($1::inet[])", false, true, NULL},
	{"binding_mac_bssid", DB_MAC_BSSIDS, " WHERE mac = ANY($1::macaddr[])", false, true,
	 NULL},
	{"declared_location", DB_FEED_DECLARED, " AND user_key = ANY($1::text[])", false, true,
	 NULL},
	{"vpn_binding", DB_FEED_VPN, " WHERE ip = ANY($1::inet[])", false, true, NULL},
};
#define N_FEEDS (sizeof feeds / sizeof feeds[0])

struct fkey {
	long long id;
	char *text;
};
struct fkeys {
	struct fkey *k;
	size_t n, cap;
};

static int fkey_cmp(const void *a, const void *b)
{
	const struct fkey *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return strcmp(x->text ? x->text : "", y->text ? y->text : "");
}

static int fkeys_add(struct fkeys *f, long long id, const char *text)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 32;
		void *p = realloc(f->k, cap * sizeof *f->k);
		if (!p)
			return -1;
		f->k = p;
		f->cap = cap;
	}
	char *t = text ? strdup(text) : NULL;
	if (text && !t)
		return -1;
	f->k[f->n++] = (struct fkey){id, t};
	return 0;
}

static void fkeys_free(struct fkeys *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < f[i].n; j++)
			free(f[i].k[j].text);
		free(f[i].k);
	}
}

/* Hand one table's changed keys, then their current rows, to sink. */
static int feed_table(struct db_conn *c, const struct feed *fd, struct fkeys *keys,
		      const struct db_delta_sink *sink, struct lis_error *err)
{
	size_t x = fd->e == DB_FEED_DECLARED ? EXTRA_DECLARED : EXTRA_VPN;
	const struct table *t = fd->e < DB_ENTITY_N ? &tables[fd->e] : &extra_tables[x];
	const char *noun = fd->e < DB_ENTITY_N ? db_entities[fd->e].noun : extra_nouns[x];
	struct db_array a[2] = {0};
	char what[64], sql[1024];
	int rc = -1;

	qsort(keys->k, keys->n, sizeof *keys->k, fkey_cmp);
	for (size_t i = 0; i < keys->n; i++) {
		const struct fkey *k = &keys->k[i];
		if (i > 0 && fkey_cmp(k, &keys->k[i - 1]) == 0)
			continue;
		if (sink->key(sink->rows.ctx, fd->e, k->id, k->text, err) < 0)
			goto out;
		if (fd->by_text)
			db_array_add(&a[0], k->text);
		if (fd->by_id)
			db_array_addf(&a[fd->by_text], "%lld", k->id);
	}
	const char *v[2] = {db_array_end(&a[0]), fd->by_id && fd->by_text ? db_array_end(&a[1])
									  : NULL};
	if (!v[0] || (fd->by_id && fd->by_text && !v[1])) {
		lis_error_set(err, LIS_E_SYSTEM, "change feed: out of memory");
		goto out;
	}
	snprintf(what, sizeof what, "change feed: %s", noun);
	/* The text is built from the constant queries above, never from input. */
	snprintf(sql, sizeof sql, "%s%s%s", t->sql, fd->where, t->order);
	PGresult *res = db_exec_fmt(c, what, sql, fd->by_id && fd->by_text ? 2 : 1, v,
				    t->binary, PGRES_TUPLES_OK, err);
	if (!res)
		goto out;
	int n = PQntuples(res);
	if (n > 0 && PQnfields(res) != t->n_fields) {
		PQclear(res);
		lis_error_set(err, DB_E_SCHEMA, "%s: unexpected result shape", what);
		goto out;
	}
	rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = t->row(res, i, &sink->rows, err) < 0 ? -1 : 0;
	PQclear(res);
out:
	db_arrays_free(a, 2);
	return rc;
}

static const struct feed *feed_of(const char *tbl)
{
	for (size_t i = 0; i < N_FEEDS; i++)
		if (strcmp(feeds[i].tbl, tbl) == 0)
			return &feeds[i];
	return NULL;
}

/* The changes from xmin $1 on; the first column is the xmin of the list's own snapshot,
 * where the next poll starts. Prepared: parsing and planning it were most of what an idle
 * poll cost the server. */
static const struct db_stmt feed_list = {
	DB_STMT_FEED_LIST, "lis_feed_list",
	"SELECT pg_snapshot_xmin(pg_current_snapshot())::text, c.seq, c.xid::text, c.tbl,"
	" c.key_id, c.key_text FROM (SELECT 1) d LEFT JOIN wiremap_change c"
	" ON c.xid >= $1::xid8 ORDER BY c.seq", 1};

/* Whether a list names a change cur has not seen. */
static bool feed_has_news(const PGresult *res, const struct db_change_cursor *cur)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 1) && !cursor_seen(cur, int_at(res, i, 1)))
			return true;
	return false;
}

int db_changes_poll(struct db_conn *c, struct db_change_cursor *cur,
		    const struct db_delta_sink *sink, struct lis_error *err)
{
	struct fkeys keys[N_FEEDS] = {0};
	struct db_change_cursor fresh = {0}; /* what this poll applies: seen once it committed */
	char xmin_text[24];
	unsigned long long xmin = 0;
	size_t n_new = 0;
	int rc = -1;

	snprintf(xmin_text, sizeof xmin_text, "%llu", cur->xmin);
	const char *v[1] = {xmin_text};
	/* Most polls find nothing new. The list alone, a statement in a transaction of its own
	 * (its snapshot that statement's, as in a REPEATABLE READ transaction of one), answers
	 * those in one round trip instead of three (BEGIN, the list, COMMIT); 50 polls a second
	 * make that 100 round trips a second fewer for each lisd. Only a list that names a
	 * change is taken again, below, with the rows. */
	PGresult *res = db_exec_stmt(c, &feed_list, "change feed", v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (!feed_has_news(res, cur)) {
		/* (SELECT 1) d LEFT JOIN: a first row, with the xmin, even without changes */
		cursor_advance(cur, PQntuples(res) ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0);
		PQclear(res);
		return DB_FEED_NONE;
	}
	PQclear(res);
	/* One snapshot for the list and the rows, so that the rows are the keys' state as of
	 * the moment the list was taken. READ ONLY: a standby serves it. */
	if (db_run(c, "change feed: begin", "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
		   err) < 0)
		return -1;
	res = db_exec_stmt(c, &feed_list, "change feed", v, PGRES_TUPLES_OK, err);
	if (!res)
		goto fail;
	bool whole = false;
	int n = PQntuples(res);
	for (int i = 0; i < n && !whole; i++) {
		if (i == 0)
			xmin = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		if (PQgetisnull(res, i, 1))
			continue;
		long long seq = int_at(res, i, 1);
		if (cursor_seen(cur, seq))
			continue;
		n_new++;
		const struct feed *fd = feed_of(PQgetvalue(res, i, 3));
		bool no_key = PQgetisnull(res, i, 4) && PQgetisnull(res, i, 5);
		if (!fd || no_key || n_new > DB_FEED_MAX_KEYS) {
			whole = true;
			break;
		}
		if (fkeys_add(&keys[fd - feeds], int_at(res, i, 4), str_at(res, i, 5)) < 0 ||
		    cursor_add(&fresh, seq, strtoull(PQgetvalue(res, i, 2), NULL, 10)) < 0) {
			PQclear(res);
			lis_error_set(err, LIS_E_SYSTEM, "change feed: out of memory");
			goto fail;
		}
	}
	PQclear(res);
	if (whole) {
		/* The caller reloads; the reload starts the cursor afresh. */
		rc = DB_FEED_RELOAD;
		if (db_run(c, "change feed: commit", "COMMIT", err) < 0)
			rc = -1;
		goto out;
	}
	for (size_t f = 0; f < N_FEEDS; f++)
		if (keys[f].n && feed_table(c, &feeds[f], &keys[f], sink, err) < 0)
			goto fail;
	if (db_run(c, "change feed: commit", "COMMIT", err) < 0)
		goto out;
	for (size_t i = 0; i < fresh.n_seen; i++)
		if (cursor_add(cur, fresh.seen[i].seq, fresh.seen[i].xid) < 0) {
			/* Forgetting that it was seen only applies a key twice */
			break;
		}
	cursor_advance(cur, xmin);
	rc = n_new ? DB_FEED_CHANGES : DB_FEED_NONE;
	goto out;
fail:
	db_rollback(c);
out:
	fkeys_free(keys, N_FEEDS);
	db_change_cursor_free(&fresh);
	return rc;
}

int db_snapshot_load(struct db_conn *c, const struct db_snapshot_sink *sink,
		     struct db_change_cursor *cur, struct lis_error *err)
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
	/* The change feed goes on from this transaction's snapshot (see db_changes_poll) */
	if (cur && cursor_start(c, cur, err) < 0)
		goto fail;
	for (int e = 0; e < DB_ENTITY_N; e++) {
		if (has_callback(sink, &tables[e]) &&
		    load_table(c, &tables[e], db_entities[e].noun, sink, err) < 0)
			goto fail;
	}
	for (size_t i = 0; i < EXTRA_N; i++)
		if (has_callback(sink, &extra_tables[i]) &&
		    load_table(c, &extra_tables[i], extra_nouns[i], sink, err) < 0)
			goto fail;
	if (db_run(c, "snapshot: commit", "COMMIT", err) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(c);
	return -1;
}
