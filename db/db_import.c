/* Import of a wiremap (sites, locations, subnets, switches, ports, BSSIDs, endpoints and
 * observed bindings) in one transaction: all or nothing. Each upsert rewrites a row only
 * when a value differs, so that importing the same files twice changes nothing and the
 * counts say what really changed. References are resolved by the upserts themselves, so a
 * key may come from the files or from the database alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

static int db_import_remove(struct db_conn *c, const struct db_import_set *set,
			    const struct db_import_opts *opts, struct db_import_stats *st,
			    struct lis_error *err);

static const struct db_stmt upsert_site = {
	DB_STMT_UPSERT_SITE, "lis_upsert_site",
	"INSERT INTO site (key, name, description) VALUES ($1::text, $2::text, $3::text)"
	" ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name,"
	" description = EXCLUDED.description"
	" WHERE (site.name, site.description)"
	" IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description)",
	3,
};

#define COL_(c) #c ", "
#define SET_(c) #c " = EXCLUDED." #c ", "
#define OLD_(c) "location." #c ", "
#define NEW_(c) "EXCLUDED." #c ", "

/* $1 key, $2 site key, $3 lang, $4..$34 civic fields in enum order, $35..$38 geo.
 * Returns (site found: 0/1, rows written: 0/1). */
static const struct db_stmt upsert_location = {
	DB_STMT_UPSERT_LOCATION, "lis_upsert_location",
	"WITH s AS (SELECT id FROM site WHERE key = $2::text),"
	" u AS (INSERT INTO location (key, site_id, lang, " DB_CIVIC_COLUMNS(COL_)
	"latitude, longitude, altitude, uncertainty)"
	" SELECT $1::text, s.id, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text,"
	" $9::text, $10::text, $11::text, $12::text, $13::text, $14::text, $15::text, $16::text,"
	" $17::text, $18::text, $19::text, $20::text, $21::text, $22::text, $23::text, $24::text,"
	" $25::text, $26::text, $27::text, $28::text, $29::text, $30::text, $31::text, $32::text,"
	" $33::text, $34::text, $35::float8, $36::float8, $37::float8, $38::float8 FROM s"
	" ON CONFLICT (key) DO UPDATE SET site_id = EXCLUDED.site_id, lang = EXCLUDED.lang, "
	DB_CIVIC_COLUMNS(SET_)
	"latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,"
	" altitude = EXCLUDED.altitude, uncertainty = EXCLUDED.uncertainty"
	" WHERE (location.site_id, location.lang, " DB_CIVIC_COLUMNS(OLD_)
	"location.latitude, location.longitude, location.altitude, location.uncertainty)"
	" IS DISTINCT FROM (EXCLUDED.site_id, EXCLUDED.lang, " DB_CIVIC_COLUMNS(NEW_)
	"EXCLUDED.latitude, EXCLUDED.longitude, EXCLUDED.altitude, EXCLUDED.uncertainty)"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM u)",
	38,
};

/* $1 prefix, $2 location key, $3 description. Returns (location found, rows written). */
static const struct db_stmt upsert_subnet = {
	DB_STMT_UPSERT_SUBNET, "lis_upsert_subnet",
	"WITH l AS (SELECT id FROM location WHERE key = $2::text),"
	" u AS (INSERT INTO subnet (prefix, location_id, description)"
	" SELECT $1::cidr, l.id, $3::text FROM l"
	" ON CONFLICT (prefix) DO UPDATE SET location_id = EXCLUDED.location_id,"
	" description = EXCLUDED.description"
	" WHERE (subnet.location_id, subnet.description)"
	" IS DISTINCT FROM (EXCLUDED.location_id, EXCLUDED.description)"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM u)",
	3,
};

/* $1 site key, $2 default location key, $3 allow_default; after locations are written.
 * Returns (location found, its site's key, rows written). */
static const struct db_stmt update_site_default = {
	DB_STMT_UPDATE_SITE_DEFAULT, "lis_update_site_default",
	"WITH l AS (SELECT l.id, l.site_id, si.key AS site_key FROM location l"
	"           JOIN site si ON si.id = l.site_id WHERE l.key = $2::text),"
	" u AS (UPDATE site SET default_location_id = (SELECT id FROM l),"
	" allow_default = $3::boolean"
	" WHERE site.key = $1::text"
	" AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM l WHERE l.site_id = site.id))"
	" AND (site.default_location_id, site.allow_default)"
	" IS DISTINCT FROM ((SELECT id FROM l), $3::boolean)"
	" RETURNING 1)"
	" SELECT $2::text IS NULL OR EXISTS (SELECT 1 FROM l), (SELECT site_key FROM l),"
	" (SELECT count(*) FROM u)",
	3,
};

/* $1 key, $2 site key, $3 chassis_id, $4 mgmt_address, $5 location key, $6 description,
 * $7 snmp_profile, $8 snmp_port (NULL: 161), $9 poll_interval, $10 poll_enabled.
 * Returns (site found, location found or not given, rows written). */
static const struct db_stmt upsert_switch = {
	DB_STMT_UPSERT_SWITCH, "lis_upsert_switch",
	"WITH s AS (SELECT id FROM site WHERE key = $2::text),"
	" l AS (SELECT id FROM location WHERE key = $5::text),"
	" u AS (INSERT INTO switch AS w (key, site_id, chassis_id, mgmt_address, location_id,"
	" description, snmp_profile, snmp_port, poll_interval, poll_enabled)"
	" SELECT $1::text, s.id, $3::text, $4::inet, (SELECT id FROM l), $6::text, $7::text,"
	" coalesce($8::integer, 161), $9::integer, $10::boolean FROM s"
	" WHERE $5::text IS NULL OR EXISTS (SELECT 1 FROM l)"
	" ON CONFLICT (key) DO UPDATE SET site_id = EXCLUDED.site_id,"
	" chassis_id = EXCLUDED.chassis_id, mgmt_address = EXCLUDED.mgmt_address,"
	" location_id = EXCLUDED.location_id, description = EXCLUDED.description,"
	" snmp_profile = EXCLUDED.snmp_profile, snmp_port = EXCLUDED.snmp_port,"
	" poll_interval = EXCLUDED.poll_interval, poll_enabled = EXCLUDED.poll_enabled"
	" WHERE (w.site_id, w.chassis_id, w.mgmt_address, w.location_id, w.description,"
	" w.snmp_profile, w.snmp_port, w.poll_interval, w.poll_enabled)"
	" IS DISTINCT FROM (EXCLUDED.site_id, EXCLUDED.chassis_id, EXCLUDED.mgmt_address,"
	" EXCLUDED.location_id, EXCLUDED.description, EXCLUDED.snmp_profile,"
	" EXCLUDED.snmp_port, EXCLUDED.poll_interval, EXCLUDED.poll_enabled)"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM s), $5::text IS NULL OR EXISTS (SELECT 1 FROM l),"
	" (SELECT count(*) FROM u)",
	10,
};

/* $1 switch key, $2 port, $3 location key, $4 description.
 * Returns (switch found, location found or not given, rows written). */
static const struct db_stmt upsert_port = {
	DB_STMT_UPSERT_PORT, "lis_upsert_port",
	"WITH w AS (SELECT id FROM switch WHERE key = $1::text),"
	" l AS (SELECT id FROM location WHERE key = $3::text),"
	" u AS (INSERT INTO switch_port (switch_id, port_id, location_id, description)"
	" SELECT w.id, $2::text, (SELECT id FROM l), $4::text FROM w"
	" WHERE $3::text IS NULL OR EXISTS (SELECT 1 FROM l)"
	" ON CONFLICT (switch_id, port_id) DO UPDATE SET location_id = EXCLUDED.location_id,"
	" description = EXCLUDED.description"
	" WHERE (switch_port.location_id, switch_port.description)"
	" IS DISTINCT FROM (EXCLUDED.location_id, EXCLUDED.description)"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM w), $3::text IS NULL OR EXISTS (SELECT 1 FROM l),"
	" (SELECT count(*) FROM u)",
	4,
};

/* $1 bssid, $2 prefix_len, $3 AP name, $4 location key.
 * Returns (location found, rows written). */
static const struct db_stmt upsert_bssid = {
	DB_STMT_UPSERT_BSSID, "lis_upsert_bssid",
	"WITH l AS (SELECT id FROM location WHERE key = $4::text),"
	" u AS (INSERT INTO bssid AS b (bssid, prefix_len, key, location_id)"
	" SELECT $1::macaddr, $2::integer, $3::text, l.id FROM l"
	" ON CONFLICT (bssid, prefix_len) DO UPDATE SET key = EXCLUDED.key,"
	" location_id = EXCLUDED.location_id"
	" WHERE (b.key, b.location_id) IS DISTINCT FROM (EXCLUDED.key, EXCLUDED.location_id)"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM u)",
	4,
};

/* $1 key, $2 class, $3 mac, $4 uri, $5 tel, $6 location key.
 * Returns (location found or not given, rows written). */
static const struct db_stmt upsert_endpoint = {
	DB_STMT_UPSERT_ENDPOINT, "lis_upsert_endpoint",
	"WITH l AS (SELECT id FROM location WHERE key = $6::text),"
	" u AS (INSERT INTO endpoint AS e (key, class, mac, uri, tel, location_id)"
	" SELECT $1::text, $2::text, $3::macaddr, $4::text, $5::text, (SELECT id FROM l)"
	" WHERE $6::text IS NULL OR EXISTS (SELECT 1 FROM l)"
	" ON CONFLICT (key) DO UPDATE SET class = EXCLUDED.class, mac = EXCLUDED.mac,"
	" uri = EXCLUDED.uri, tel = EXCLUDED.tel, location_id = EXCLUDED.location_id"
	" WHERE (e.class, e.mac, e.uri, e.tel, e.location_id) IS DISTINCT FROM"
	" (EXCLUDED.class, EXCLUDED.mac, EXCLUDED.uri, EXCLUDED.tel, EXCLUDED.location_id)"
	" RETURNING 1)"
	" SELECT $6::text IS NULL OR EXISTS (SELECT 1 FROM l), (SELECT count(*) FROM u)",
	6,
};

/* Bindings: first_seen ($F) absent keeps a known binding's first_seen (or moves it back to
 * last_seen, which may not precede it); source absent is "import". */
#define SEEN_INSERT(F, L, S) \
	"to_timestamp(coalesce(" F "::bigint, " L "::bigint)), to_timestamp(" L "::bigint)," \
	" coalesce(" S "::text, 'import')"
#define SEEN_FIRST(F) \
	"CASE WHEN " F "::bigint IS NULL THEN least(b.first_seen, EXCLUDED.last_seen)" \
	" ELSE EXCLUDED.first_seen END"
#define SEEN_UPDATE(F) \
	" DO UPDATE SET first_seen = " SEEN_FIRST(F) ", last_seen = EXCLUDED.last_seen," \
	" source = EXCLUDED.source" \
	" WHERE (b.first_seen, b.last_seen, b.source) IS DISTINCT FROM" \
	" (" SEEN_FIRST(F) ", EXCLUDED.last_seen, EXCLUDED.source)"

/* $1 mac, $2 switch key, $3 port, $4 first_seen, $5 last_seen, $6 source.
 * Returns (switch found, rows written). */
static const struct db_stmt upsert_mac_port = {
	DB_STMT_UPSERT_MAC_PORT, "lis_upsert_mac_port",
	"WITH w AS (SELECT id FROM switch WHERE key = $2::text),"
	" u AS (INSERT INTO binding_mac_port AS b (mac, switch_id, port_id, first_seen,"
	" last_seen, source)"
	" SELECT $1::macaddr, w.id, $3::text, " SEEN_INSERT("$4", "$5", "$6") " FROM w"
	" ON CONFLICT (mac, switch_id, port_id)" SEEN_UPDATE("$4")
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM u)",
	6,
};

/* $1 ip, $2 mac, $3 first_seen, $4 last_seen, $5 source. Returns (rows written). */
static const struct db_stmt upsert_ip_mac = {
	DB_STMT_UPSERT_IP_MAC, "lis_upsert_ip_mac",
	"WITH u AS (INSERT INTO binding_ip_mac AS b (ip, mac, first_seen, last_seen, source)"
	" VALUES ($1::inet, $2::macaddr, " SEEN_INSERT("$3", "$4", "$5") ")"
	" ON CONFLICT (ip, mac)" SEEN_UPDATE("$3")
	" RETURNING 1)"
	" SELECT count(*) FROM u",
	5,
};

/* $1 mac, $2 bssid, $3 first_seen, $4 last_seen, $5 source. Returns (rows written). */
static const struct db_stmt upsert_mac_bssid = {
	DB_STMT_UPSERT_MAC_BSSID, "lis_upsert_mac_bssid",
	"WITH u AS (INSERT INTO binding_mac_bssid AS b (mac, bssid, first_seen, last_seen,"
	" source)"
	" VALUES ($1::macaddr, $2::macaddr, " SEEN_INSERT("$3", "$4", "$5") ")"
	" ON CONFLICT (mac, bssid)" SEEN_UPDATE("$3")
	" RETURNING 1)"
	" SELECT count(*) FROM u",
	5,
};

/* "file:line" of a row, for messages. */
static const char *place(char *buf, size_t size, const char *file, unsigned line)
{
	snprintf(buf, size, "%s:%u", file ? file : "(input)", line);
	return buf;
}

/* True for a result cell saying yes: a count other than 0, or boolean true. */
static bool yes(const PGresult *res, int col)
{
	const char *v = PQgetvalue(res, 0, col);
	return !PQgetisnull(res, 0, col) && strcmp(v, "0") != 0 && strcmp(v, "f") != 0;
}

/* Run an upsert whose one result row holds n_refs columns saying whether each reference
 * was found, then the count of rows written. */
static int upsert(struct db_conn *c, const struct db_stmt *s, const char *where,
		  const char *const *v, bool *found, int n_refs, size_t *changed, bool *flag,
		  struct lis_error *err)
{
	PGresult *res = db_exec_stmt(c, s, where, v, PGRES_TUPLES_OK, err);

	if (!res)
		return -1;
	for (int i = 0; i < n_refs; i++)
		found[i] = yes(res, i);
	*changed += yes(res, n_refs);
	if (flag)
		*flag = yes(res, n_refs);
	PQclear(res);
	return 0;
}

/* The error for a reference to a key that is neither in the files nor in the database;
 * `files` names the file kind it could have come from ("sites", "switches"). */
static int unknown(struct lis_error *err, const char *where, unsigned col, const char *what,
		   const char *files, const char *key)
{
	if (col)
		return lis_error_set(err, DB_E_INPUT,
				     "%s:%u: unknown %s \"%.80s\" (in neither the %s file nor "
				     "the database)", where, col, what, key, files);
	return lis_error_set(err, DB_E_INPUT,
			     "%s: unknown %s \"%.80s\" (in neither the %s file nor the "
			     "database)", where, what, key, files);
}

static int import_sites(struct db_conn *c, const struct db_import_set *set, bool *changed,
			struct lis_error *err)
{
	for (size_t i = 0; i < set->n_sites; i++) {
		const struct db_site_row *r = &set->sites[i];
		const char *const v[] = {r->key, r->name, r->description};
		char where[160];
		PGresult *res;

		res = db_exec_stmt(c, &upsert_site, place(where, sizeof(where), r->file, r->line),
				   v, PGRES_COMMAND_OK, err);
		if (!res)
			return -1;
		changed[i] = strcmp(PQcmdTuples(res), "0") != 0;
		PQclear(res);
	}
	return 0;
}

/* The sites' default locations, once every location is written. A site's default must be
 * one of its own locations: a default in another building would send help to the wrong
 * address. */
static int import_site_defaults(struct db_conn *c, const struct db_import_set *set,
				bool *changed, struct lis_error *err)
{
	for (size_t i = 0; i < set->n_sites; i++) {
		const struct db_site_row *r = &set->sites[i];
		const char *const v[] = {r->key, r->default_location_key,
					 r->allow_default ? "true" : "false"};
		char where[160];
		PGresult *res;
		bool found;

		place(where, sizeof(where), r->file, r->line);
		res = db_exec_stmt(c, &update_site_default, where, v, PGRES_TUPLES_OK, err);
		if (!res)
			return -1;
		found = yes(res, 0);
		if (found && r->default_location_key && strcmp(PQgetvalue(res, 0, 1), r->key) != 0) {
			lis_error_set(err, DB_E_INPUT,
				      "%s:%u: default location \"%.80s\" belongs to site \"%.80s\", "
				      "not to \"%.80s\"", where, r->ref_col, r->default_location_key,
				      PQgetvalue(res, 0, 1), r->key);
			PQclear(res);
			return -1;
		}
		changed[i] |= yes(res, 2);
		PQclear(res);
		if (!found)
			return unknown(err, where, r->ref_col, "location",
				      "locations", r->default_location_key);
	}
	return 0;
}

/* Text for an optional double parameter: NULL when absent; %.17g round-trips exactly, so an
 * unchanged value compares equal on re-import. */
static const char *num(char *buf, size_t size, bool present, double v)
{
	if (!present)
		return NULL;
	snprintf(buf, size, "%.17g", v);
	return buf;
}

static int import_locations(struct db_conn *c, const struct db_import_set *set, size_t *changed, bool *flags,
			    struct lis_error *err)
{
	for (size_t i = 0; i < set->n_locations; i++) {
		const struct db_location_row *r = &set->locations[i];
		const char *v[3 + CIVIC_N_FIELDS + 4];
		char where[160], lat[32], lon[32], alt[32], unc[32];
		bool found;
		int n = 0;

		v[n++] = r->key;
		v[n++] = r->site_key;
		v[n++] = r->lang;
		for (int f = 0; f < CIVIC_N_FIELDS; f++)
			v[n++] = r->civic[f];
		v[n++] = num(lat, sizeof(lat), r->has_geo, r->lat);
		v[n++] = num(lon, sizeof(lon), r->has_geo, r->lon);
		v[n++] = num(alt, sizeof(alt), r->has_geo && r->has_alt, r->alt);
		v[n++] = num(unc, sizeof(unc), r->has_geo && r->uncertainty > 0, r->uncertainty);
		place(where, sizeof(where), r->file, r->line);
		if (upsert(c, &upsert_location, where, v, &found, 1, changed, flags ? &flags[i] : NULL, err) < 0)
			return -1;
		if (!found)
			return unknown(err, where, r->ref_col, "site", "sites", r->site_key);
	}
	return 0;
}

static int import_subnets(struct db_conn *c, const struct db_import_set *set, size_t *changed, bool *flags,
			  struct lis_error *err)
{
	for (size_t i = 0; i < set->n_subnets; i++) {
		const struct db_subnet_row *r = &set->subnets[i];
		const char *const v[] = {r->prefix, r->location_key, r->description};
		char where[160];
		bool found;

		place(where, sizeof(where), r->file, r->line);
		if (upsert(c, &upsert_subnet, where, v, &found, 1, changed, flags ? &flags[i] : NULL, err) < 0)
			return -1;
		if (!found)
			return unknown(err, where, r->ref_col, "location", "locations", r->location_key);
	}
	return 0;
}

static int import_switches(struct db_conn *c, const struct db_import_set *set, size_t *changed, bool *flags,
			   struct lis_error *err)
{
	for (size_t i = 0; i < set->n_switches; i++) {
		const struct db_switch_row *r = &set->switches[i];
		char where[160], port[12], interval[12];

		snprintf(port, sizeof(port), "%u", r->snmp_port);
		snprintf(interval, sizeof(interval), "%u", r->poll_interval);
		const char *const v[] = {r->key, r->site_key, r->chassis_id, r->mgmt_address,
					 r->location_key, r->description, r->snmp_profile,
					 r->snmp_port ? port : NULL,
					 r->poll_interval ? interval : NULL,
					 r->poll_disabled ? "false" : "true"};
		bool found[2];

		place(where, sizeof(where), r->file, r->line);
		if (upsert(c, &upsert_switch, where, v, found, 2, changed, flags ? &flags[i] : NULL, err) < 0)
			return -1;
		if (!found[0])
			return unknown(err, where, r->site_col, "site", "sites", r->site_key);
		if (!found[1])
			return unknown(err, where, r->location_col, "location", "locations", r->location_key);
	}
	return 0;
}

static int import_ports(struct db_conn *c, const struct db_import_set *set, size_t *changed, bool *flags,
			struct lis_error *err)
{
	for (size_t i = 0; i < set->n_ports; i++) {
		const struct db_port_row *r = &set->ports[i];
		const char *const v[] = {r->switch_key, r->port_id, r->location_key, r->description};
		char where[160];
		bool found[2];

		place(where, sizeof(where), r->file, r->line);
		if (upsert(c, &upsert_port, where, v, found, 2, changed, flags ? &flags[i] : NULL, err) < 0)
			return -1;
		if (!found[0])
			return unknown(err, where, r->switch_col, "switch", "switches", r->switch_key);
		if (!found[1])
			return unknown(err, where, r->location_col, "location", "locations", r->location_key);
	}
	return 0;
}

static int import_bssids(struct db_conn *c, const struct db_import_set *set, size_t *changed, bool *flags,
			 struct lis_error *err)
{
	for (size_t i = 0; i < set->n_bssids; i++) {
		const struct db_bssid_row *r = &set->bssids[i];
		char where[160], len[8];
		bool found;

		snprintf(len, sizeof(len), "%u", r->prefix_len);
		const char *const v[] = {r->bssid, len, r->ap, r->location_key};
		place(where, sizeof(where), r->file, r->line);
		if (upsert(c, &upsert_bssid, where, v, &found, 1, changed, flags ? &flags[i] : NULL, err) < 0)
			return -1;
		if (!found)
			return unknown(err, where, r->location_col, "location", "locations", r->location_key);
	}
	return 0;
}

static int import_endpoints(struct db_conn *c, const struct db_import_set *set,
			    size_t *changed, bool *flags, struct lis_error *err)
{
	for (size_t i = 0; i < set->n_endpoints; i++) {
		const struct db_endpoint_row *r = &set->endpoints[i];
		const char *const v[] = {r->key, r->class_, r->mac, r->uri, r->tel,
					 r->location_key};
		char where[160];
		bool found;

		place(where, sizeof(where), r->file, r->line);
		if (upsert(c, &upsert_endpoint, where, v, &found, 1, changed, flags ? &flags[i] : NULL, err) < 0)
			return -1;
		if (!found)
			return unknown(err, where, r->location_col, "location", "locations", r->location_key);
	}
	return 0;
}

/* Parameter texts of a binding's db_seen: first_seen (NULL when not given), last_seen. */
struct seen_text {
	char first[24], last[24];
};
static const char *seen_first(struct seen_text *t, const struct db_seen *s)
{
	snprintf(t->last, sizeof(t->last), "%lld", (long long)s->last_seen);
	if (!s->has_first_seen)
		return NULL;
	snprintf(t->first, sizeof(t->first), "%lld", (long long)s->first_seen);
	return t->first;
}

static int import_mac_ports(struct db_conn *c, const struct db_import_set *set,
			    size_t *changed, bool *flags, struct lis_error *err)
{
	for (size_t i = 0; i < set->n_mac_ports; i++) {
		const struct db_mac_port_row *r = &set->mac_ports[i];
		struct seen_text t;
		const char *first = seen_first(&t, &r->seen);
		const char *const v[] = {r->mac, r->switch_key, r->port_id, first, t.last,
					 r->seen.source};
		char where[160];
		bool found;

		place(where, sizeof(where), r->file, r->line);
		if (upsert(c, &upsert_mac_port, where, v, &found, 1, changed, flags ? &flags[i] : NULL, err) < 0)
			return -1;
		if (!found)
			return unknown(err, where, r->switch_col, "switch", "switches", r->switch_key);
	}
	return 0;
}

static int import_ip_macs(struct db_conn *c, const struct db_import_set *set, size_t *changed, bool *flags,
			  struct lis_error *err)
{
	for (size_t i = 0; i < set->n_ip_macs; i++) {
		const struct db_ip_mac_row *r = &set->ip_macs[i];
		struct seen_text t;
		const char *first = seen_first(&t, &r->seen);
		const char *const v[] = {r->ip, r->mac, first, t.last, r->seen.source};
		char where[160];

		place(where, sizeof(where), r->file, r->line);
		if (upsert(c, &upsert_ip_mac, where, v, NULL, 0, changed, flags ? &flags[i] : NULL, err) < 0)
			return -1;
	}
	return 0;
}

static int import_mac_bssids(struct db_conn *c, const struct db_import_set *set,
			     size_t *changed, bool *flags, struct lis_error *err)
{
	for (size_t i = 0; i < set->n_mac_bssids; i++) {
		const struct db_mac_bssid_row *r = &set->mac_bssids[i];
		struct seen_text t;
		const char *first = seen_first(&t, &r->seen);
		const char *const v[] = {r->mac, r->bssid, first, t.last, r->seen.source};
		char where[160];

		place(where, sizeof(where), r->file, r->line);
		if (upsert(c, &upsert_mac_bssid, where, v, NULL, 0, changed, flags ? &flags[i] : NULL, err) < 0)
			return -1;
	}
	return 0;
}

static size_t total(const struct db_import_stats *s)
{
	size_t removed = 0;

	for (int e = 0; e < DB_ENTITY_N; e++)
		removed += s->removed[e];
	return s->sites + s->locations + s->subnets + s->switches + s->ports + s->bssids +
	       s->endpoints + s->mac_ports + s->ip_macs + s->mac_bssids + removed;
}

int db_import_ex(struct db_conn *c, const struct db_import_set *set,
		 const struct db_import_opts *opts, struct db_import_stats *st,
		 struct lis_error *err)
{
	static const struct db_import_opts none;
	struct db_import_stats counts = {0};
	bool *site_changed = NULL;
	int version;

	if (!opts)
		opts = &none;
	if (st)
		*st = counts;
	if (db_schema_version(c, &version, err) < 0)
		return -1;
	if (version > db_schema_latest())
		return lis_error_set(err, DB_E_SCHEMA,
				     "database schema is at version %d, newer than this program "
				     "knows (%d): upgrade lis", version, db_schema_latest());
	if (version < db_schema_latest())
		return lis_error_set(err, DB_E_SCHEMA,
				     "database schema is at version %d, this program needs %d: "
				     "migrate it first (lisctl db migrate)", version,
				     db_schema_latest());
	/* A site counts once, whether its own row or its default changed. */
	site_changed = calloc(set->n_sites ? set->n_sites : 1, sizeof(*site_changed));
	if (!site_changed)
		return lis_error_set(err, DB_E_QUERY, "import: out of memory");
	if (db_run(c, "import: begin", "BEGIN", err) < 0)
		goto fail;
	/* Each kind refers only to kinds before it, except a site's default location, set
	 * once the locations exist. */
	bool *const *fl = opts->row_changed;
	if (import_sites(c, set, site_changed, err) < 0 ||
	    import_locations(c, set, &counts.locations, fl[DB_LOCATIONS], err) < 0 ||
	    import_site_defaults(c, set, site_changed, err) < 0 ||
	    import_subnets(c, set, &counts.subnets, fl[DB_SUBNETS], err) < 0 ||
	    import_switches(c, set, &counts.switches, fl[DB_SWITCHES], err) < 0 ||
	    import_ports(c, set, &counts.ports, fl[DB_PORTS], err) < 0 ||
	    import_bssids(c, set, &counts.bssids, fl[DB_BSSIDS], err) < 0 ||
	    import_endpoints(c, set, &counts.endpoints, fl[DB_ENDPOINTS], err) < 0 ||
	    import_mac_ports(c, set, &counts.mac_ports, fl[DB_MAC_PORTS], err) < 0 ||
	    import_ip_macs(c, set, &counts.ip_macs, fl[DB_IP_MACS], err) < 0 ||
	    import_mac_bssids(c, set, &counts.mac_bssids, fl[DB_MAC_BSSIDS], err) < 0)
		goto fail;
	for (size_t i = 0; i < set->n_sites; i++) {
		counts.sites += site_changed[i];
		if (fl[DB_SITES])
			fl[DB_SITES][i] = site_changed[i];
	}
	if (opts->replace && db_import_remove(c, set, opts, &counts, err) < 0)
		goto fail;
	/* The wiremap tables' triggers queued NOTIFY wiremap_changed even for statements that
	 * wrote no row; rolling back an import that changed nothing keeps lisd from reloading
	 * for it. A dry run always rolls back. */
	bool commit = total(&counts) > 0 && !opts->dry_run;
	if (db_run(c, commit ? "import: commit" : "import: rollback",
		   commit ? "COMMIT" : "ROLLBACK", err) < 0)
		goto fail;
	free(site_changed);
	if (st)
		*st = counts;
	return 0;
fail:
	free(site_changed);
	db_rollback(c);
	return -1;
}

/* ---- --replace: removing what the files no longer hold ---- */

struct removal {
	enum db_entity e;
	const char *noun;           /* in messages */
	const char *refcheck;       /* rows that stay yet use one to remove: (key, what) */
	const char *sql;            /* DELETE ... RETURNING the removed rows' keys */
	int n_arrays;               /* key arrays before the site parameter */
	bool all_sites_only;        /* has no site: removed only with an entity scope */
};

#define SITE_ID(p) "(SELECT id FROM site WHERE key = " p "::text)"
#define AT_SITE(col, p) "(" p "::text IS NULL OR " col " IN (SELECT l.id FROM location l" \
	" WHERE l.site_id = " SITE_ID(p) "))"

/* Dependents first, so that what refers to a row is gone (or found to stay) before it. */
static const struct removal removals[] = {
	{DB_MAC_PORTS, "MAC-port binding", NULL,
	 "DELETE FROM binding_mac_port b USING switch w WHERE w.id = b.switch_id"
	 " AND NOT EXISTS (SELECT 1 FROM unnest($1::macaddr[], $2::text[], $3::text[])"
	 " f(m, s, p) WHERE f.m = b.mac AND f.s = w.key AND f.p = b.port_id)"
	 " AND ($4::text IS NULL OR w.site_id = " SITE_ID("$4") ")"
	 " RETURNING b.mac::text || ' ' || w.key || ' ' || b.port_id", 3, false},
	{DB_IP_MACS, "IP-MAC binding", NULL,
	 "DELETE FROM binding_ip_mac b WHERE NOT EXISTS (SELECT 1 FROM"
	 " unnest($1::inet[], $2::macaddr[]) f(i, m) WHERE f.i = b.ip AND f.m = b.mac)"
	 " AND $3::text IS NULL RETURNING host(b.ip) || ' ' || b.mac::text", 2, true},
	{DB_MAC_BSSIDS, "MAC-BSSID binding", NULL,
	 "DELETE FROM binding_mac_bssid b WHERE NOT EXISTS (SELECT 1 FROM"
	 " unnest($1::macaddr[], $2::macaddr[]) f(m, x) WHERE f.m = b.mac AND f.x = b.bssid)"
	 " AND $3::text IS NULL RETURNING b.mac::text || ' ' || b.bssid::text", 2, true},
	{DB_ENDPOINTS, "endpoint", NULL,
	 "DELETE FROM endpoint e WHERE e.key <> ALL($1::text[]) AND " AT_SITE("e.location_id", "$2")
	 " RETURNING e.key", 1, false},
	{DB_BSSIDS, "BSSID", NULL,
	 "DELETE FROM bssid b WHERE NOT EXISTS (SELECT 1 FROM unnest($1::macaddr[],"
	 " $2::integer[]) f(m, n) WHERE f.m = b.bssid AND f.n = b.prefix_len)"
	 " AND " AT_SITE("b.location_id", "$3")
	 " RETURNING b.bssid::text || '/' || b.prefix_len", 2, false},
	{DB_PORTS, "port", NULL,
	 "DELETE FROM switch_port p USING switch w WHERE w.id = p.switch_id"
	 " AND NOT EXISTS (SELECT 1 FROM unnest($1::text[], $2::text[]) f(s, p)"
	 " WHERE f.s = w.key AND f.p = p.port_id)"
	 " AND ($3::text IS NULL OR w.site_id = " SITE_ID("$3") ")"
	 " RETURNING w.key || ' ' || p.port_id", 2, false},
	{DB_SUBNETS, "subnet", NULL,
	 "DELETE FROM subnet n WHERE n.prefix <> ALL($1::cidr[]) AND "
	 AT_SITE("n.location_id", "$2") " RETURNING n.prefix::text", 1, false},
	/* A switch's ports, poll status and MAC-port bindings go with it (ON DELETE CASCADE). */
	{DB_SWITCHES, "switch", NULL,
	 "DELETE FROM switch w WHERE w.key <> ALL($1::text[])"
	 " AND ($2::text IS NULL OR w.site_id = " SITE_ID("$2") ") RETURNING w.key", 1, false},
	{DB_LOCATIONS, "location",
	 "WITH c AS (SELECT l.id, l.key FROM location l WHERE l.key <> ALL($1::text[])"
	 " AND ($2::text IS NULL OR l.site_id = " SITE_ID("$2") "))"
	 " SELECT c.key, r.what FROM c CROSS JOIN LATERAL ("
	 " SELECT 'subnet ' || n.prefix::text AS what FROM subnet n WHERE n.location_id = c.id"
	 " UNION ALL SELECT 'switch ' || w.key FROM switch w WHERE w.location_id = c.id"
	 " UNION ALL SELECT 'port ' || w.key || ' ' || p.port_id FROM switch_port p"
	 " JOIN switch w ON w.id = p.switch_id WHERE p.location_id = c.id"
	 " UNION ALL SELECT 'BSSID ' || b.bssid::text || '/' || b.prefix_len FROM bssid b"
	 " WHERE b.location_id = c.id"
	 " UNION ALL SELECT 'endpoint ' || e.key FROM endpoint e WHERE e.location_id = c.id"
	 " UNION ALL SELECT 'site ' || s.key || ' (as its default location)' FROM site s"
	 " WHERE s.default_location_id = c.id) r ORDER BY 1, 2 LIMIT 1",
	 "DELETE FROM location l WHERE l.key <> ALL($1::text[])"
	 " AND ($2::text IS NULL OR l.site_id = " SITE_ID("$2") ") RETURNING l.key", 1, false},
	{DB_SITES, "site",
	 "WITH c AS (SELECT s.id, s.key FROM site s WHERE s.key <> ALL($1::text[])"
	 " AND $2::text IS NULL)"
	 " SELECT c.key, r.what FROM c CROSS JOIN LATERAL ("
	 " SELECT 'location ' || l.key AS what FROM location l WHERE l.site_id = c.id"
	 " UNION ALL SELECT 'switch ' || w.key FROM switch w WHERE w.site_id = c.id) r"
	 " ORDER BY 1, 2 LIMIT 1",
	 "DELETE FROM site s WHERE s.key <> ALL($1::text[]) AND $2::text IS NULL"
	 " RETURNING s.key", 1, true},
};

/* The set's keys of entity e as n_arrays array literals. */
static void keys_of(const struct db_import_set *set, enum db_entity e, struct db_array *a)
{
	char len[8];

#define EACH(N, ROWS) for (size_t i = 0; i < set->N; i++)
	switch (e) {
	case DB_SITES:
		EACH(n_sites, sites) db_array_add(&a[0], set->sites[i].key);
		break;
	case DB_LOCATIONS:
		EACH(n_locations, locations) db_array_add(&a[0], set->locations[i].key);
		break;
	case DB_SUBNETS:
		EACH(n_subnets, subnets) db_array_add(&a[0], set->subnets[i].prefix);
		break;
	case DB_SWITCHES:
		EACH(n_switches, switches) db_array_add(&a[0], set->switches[i].key);
		break;
	case DB_PORTS:
		EACH(n_ports, ports) {
			db_array_add(&a[0], set->ports[i].switch_key);
			db_array_add(&a[1], set->ports[i].port_id);
		}
		break;
	case DB_BSSIDS:
		EACH(n_bssids, bssids) {
			snprintf(len, sizeof(len), "%u", set->bssids[i].prefix_len);
			db_array_add(&a[0], set->bssids[i].bssid);
			db_array_add(&a[1], len);
		}
		break;
	case DB_ENDPOINTS:
		EACH(n_endpoints, endpoints) db_array_add(&a[0], set->endpoints[i].key);
		break;
	case DB_MAC_PORTS:
		EACH(n_mac_ports, mac_ports) {
			db_array_add(&a[0], set->mac_ports[i].mac);
			db_array_add(&a[1], set->mac_ports[i].switch_key);
			db_array_add(&a[2], set->mac_ports[i].port_id);
		}
		break;
	case DB_IP_MACS:
		EACH(n_ip_macs, ip_macs) {
			db_array_add(&a[0], set->ip_macs[i].ip);
			db_array_add(&a[1], set->ip_macs[i].mac);
		}
		break;
	case DB_MAC_BSSIDS:
		EACH(n_mac_bssids, mac_bssids) {
			db_array_add(&a[0], set->mac_bssids[i].mac);
			db_array_add(&a[1], set->mac_bssids[i].bssid);
		}
		break;
	case DB_ENTITY_N:
		break;
	}
#undef EACH
}

static int db_import_remove(struct db_conn *c, const struct db_import_set *set,
			    const struct db_import_opts *opts, struct db_import_stats *st,
			    struct lis_error *err)
{
	for (size_t r = 0; r < sizeof(removals) / sizeof(removals[0]); r++) {
		const struct removal *rm = &removals[r];
		struct db_array a[3] = {0};
		const char *v[4] = {NULL};
		PGresult *res;
		int rc = 0;

		if (!(opts->replace & (1u << rm->e)) || (rm->all_sites_only && opts->replace_site))
			continue;
		keys_of(set, rm->e, a);
		for (int k = 0; k < rm->n_arrays; k++) {
			if (!(v[k] = db_array_end(&a[k]))) {
				rc = lis_error_set(err, DB_E_QUERY, "import: out of memory");
				goto next;
			}
		}
		v[rm->n_arrays] = opts->replace_site;
		if (rm->refcheck) {
			res = db_exec(c, "replace: check references", rm->refcheck, 2, v,
				      PGRES_TUPLES_OK, err);
			if (!res) {
				rc = -1;
				goto next;
			}
			if (PQntuples(res) > 0) {
				rc = lis_error_set(err, DB_E_INPUT,
						   "replace: cannot remove %s \"%.80s\" (not in the "
						   "files): %s still uses it; remove that too, or "
						   "point it elsewhere", rm->noun,
						   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
				PQclear(res);
				goto next;
			}
			PQclear(res);
		}
		res = db_exec(c, "replace: remove", rm->sql, rm->n_arrays + 1, v, PGRES_TUPLES_OK,
			      err);
		if (!res) {
			rc = -1;
			goto next;
		}
		st->removed[rm->e] += (size_t)PQntuples(res);
		for (int i = 0; opts->removed && i < PQntuples(res); i++)
			opts->removed(opts->ctx, rm->e, PQgetvalue(res, i, 0));
		PQclear(res);
next:
		for (int k = 0; k < 3; k++)
			db_array_free(&a[k]);
		if (rc < 0)
			return -1;
	}
	return 0;
}
