/* The wiremap's entities, one entry each (see db_entity.h). A column's entry says what
 * lis-wiremap(5) says of it: its name, what it holds, whether it is required or part of the
 * row's identity, and the table column it is stored in. The upserts are made from these
 * entries (db_import.c); reading rows back (db_export.c) selects each column's `select`
 * from `from`. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"

#define ROW(T) \
	.row_size = sizeof(struct T), .file_at = offsetof(struct T, file), \
	.line_at = offsetof(struct T, line)
#define COLS(a) .cols = a, .n_cols = sizeof(a) / sizeof(a[0])
#define AT(T, f) offsetof(struct T, f)

#define REQ DB_COL_REQUIRED
#define ID DB_COL_ID

/* A binding's observation, the same three columns in each binding file. */
#define SEEN(T, alias)                                                                     \
	{"last_seen", DB_K_LAST_SEEN, REQ, AT(T, seen.last_seen), .db = "last_seen",        \
	 .cast = "timestamptz", .select = "extract(epoch FROM " alias ".last_seen)::bigint"}, \
	{"first_seen", DB_K_FIRST_SEEN, 0, AT(T, seen.first_seen),                          \
	 .aux = AT(T, seen.has_first_seen), .db = "first_seen", .cast = "timestamptz",      \
	 .select = "extract(epoch FROM " alias ".first_seen)::bigint"},                     \
	{"source", DB_K_WORD, 0, AT(T, seen.source), .label = "source", .db = "source",      \
	 .db_default = "'import'", .select = alias ".source"}

static const struct db_column site_cols[] = {
	{"site", DB_K_KEY, REQ | ID, AT(db_site_row, key), .db = "key", .select = "s.key"},
	{"name", DB_K_TEXT, REQ, AT(db_site_row, name), .db = "name", .select = "s.name"},
	{"description", DB_K_TEXT, 0, AT(db_site_row, description), .db = "description",
	 .select = "s.description"},
	{"default_location", DB_K_REF, DB_COL_LATER, AT(db_site_row, default_location_key),
	 .col_at = AT(db_site_row, ref_col), .ref = DB_LOCATIONS, .db = "default_location_id",
	 .select = "d.key"},
	{"allow_default", DB_K_BOOL, DB_COL_LATER, AT(db_site_row, allow_default),
	 .db = "allow_default", .cast = "boolean", .select = "s.allow_default"},
};

/* RFC 5139 elements, in enum civic_field order, named as in the PIDF-LO (civic.c). */
#define CIVIC(f, name, col)                                                                \
	{name, DB_K_TEXT, 0, AT(db_location_row, civic[f]),                                 \
	 .col_at = AT(db_location_row, civic_col[f]), .db = col, .select = "l." col}

static const struct db_column location_cols[] = {
	{"location", DB_K_KEY, REQ | ID, AT(db_location_row, key),
	 .col_at = AT(db_location_row, key_col), .db = "key", .select = "l.key"},
	{"site", DB_K_REF, REQ, AT(db_location_row, site_key),
	 .col_at = AT(db_location_row, ref_col), .ref = DB_SITES, .db = "site_id",
	 .select = "s.key"},
	{"lang", DB_K_LANG, 0, AT(db_location_row, lang), .db = "lang", .select = "l.lang"},
	{"country", DB_K_COUNTRY, 0, AT(db_location_row, civic[CIVIC_COUNTRY]),
	 .col_at = AT(db_location_row, civic_col[CIVIC_COUNTRY]), .db = "country",
	 .select = "l.country"},
	CIVIC(CIVIC_A1, "A1", "a1"), CIVIC(CIVIC_A2, "A2", "a2"), CIVIC(CIVIC_A3, "A3", "a3"),
	CIVIC(CIVIC_A4, "A4", "a4"), CIVIC(CIVIC_A5, "A5", "a5"), CIVIC(CIVIC_A6, "A6", "a6"),
	CIVIC(CIVIC_PRM, "PRM", "prm"), CIVIC(CIVIC_PRD, "PRD", "prd"),
	CIVIC(CIVIC_RD, "RD", "rd"), CIVIC(CIVIC_STS, "STS", "sts"),
	CIVIC(CIVIC_POD, "POD", "pod"), CIVIC(CIVIC_POM, "POM", "pom"),
	CIVIC(CIVIC_RDSEC, "RDSEC", "rdsec"), CIVIC(CIVIC_RDBR, "RDBR", "rdbr"),
	CIVIC(CIVIC_RDSUBBR, "RDSUBBR", "rdsubbr"), CIVIC(CIVIC_HNO, "HNO", "hno"),
	CIVIC(CIVIC_HNS, "HNS", "hns"), CIVIC(CIVIC_LMK, "LMK", "lmk"),
	CIVIC(CIVIC_LOC, "LOC", "loc"), CIVIC(CIVIC_FLR, "FLR", "flr"),
	CIVIC(CIVIC_NAM, "NAM", "nam"), CIVIC(CIVIC_PC, "PC", "pc"),
	CIVIC(CIVIC_BLD, "BLD", "bld"), CIVIC(CIVIC_UNIT, "UNIT", "unit"),
	CIVIC(CIVIC_ROOM, "ROOM", "room"), CIVIC(CIVIC_SEAT, "SEAT", "seat"),
	CIVIC(CIVIC_PLC, "PLC", "plc"), CIVIC(CIVIC_PCN, "PCN", "pcn"),
	CIVIC(CIVIC_POBOX, "POBOX", "pobox"), CIVIC(CIVIC_ADDCODE, "ADDCODE", "addcode"),
	{"latitude", DB_K_REAL, 0, AT(db_location_row, lat), .aux = AT(db_location_row, has_geo),
	 .label = "a latitude (decimal degrees, -90 to 90)", .lo = -90, .hi = 90,
	 .db = "latitude", .cast = "float8", .select = "l.latitude"},
	{"longitude", DB_K_REAL, 0, AT(db_location_row, lon), .aux = AT(db_location_row, has_geo),
	 .label = "a longitude (decimal degrees, -180 to 180)", .lo = -180, .hi = 180,
	 .db = "longitude", .cast = "float8", .select = "l.longitude"},
	{"altitude", DB_K_REAL, 0, AT(db_location_row, alt), .aux = AT(db_location_row, has_alt),
	 .label = "an altitude (metres)", .lo = -HUGE_VAL, .hi = HUGE_VAL, .db = "altitude",
	 .cast = "float8", .select = "l.altitude"},
	{"uncertainty", DB_K_REAL, 0, AT(db_location_row, uncertainty),
	 .label = "an uncertainty (metres, greater than 0; leave empty when unknown)",
	 .lo = DBL_TRUE_MIN, .hi = HUGE_VAL, .db = "uncertainty", .cast = "float8",
	 .select = "l.uncertainty"},
};
_Static_assert(sizeof(location_cols) / sizeof(location_cols[0]) == 3 + CIVIC_N_FIELDS + 4,
	       "locations: a column for every civic field");

static const struct db_column subnet_cols[] = {
	{"prefix", DB_K_CIDR, REQ | ID, AT(db_subnet_row, prefix),
	 .col_at = AT(db_subnet_row, prefix_col), .db = "prefix", .cast = "cidr",
	 .select = "n.prefix::text"},
	/* required unless remote (ctl_check.c) */
	{"location", DB_K_REF, 0, AT(db_subnet_row, location_key),
	 .col_at = AT(db_subnet_row, ref_col), .ref = DB_LOCATIONS, .db = "location_id",
	 .select = "l.key"},
	{"description", DB_K_TEXT, 0, AT(db_subnet_row, description), .db = "description",
	 .select = "n.description"},
	/* a VPN pool: its addresses are off premises */
	{"remote", DB_K_BOOL, 0, AT(db_subnet_row, remote), .label = "remote", .dflt = "false",
	 .db = "remote", .cast = "boolean", .select = "n.remote"},
};

static const struct db_column switch_cols[] = {
	{"switch", DB_K_KEY, REQ | ID, AT(db_switch_row, key), .db = "key", .select = "w.key"},
	{"site", DB_K_REF, REQ, AT(db_switch_row, site_key), .col_at = AT(db_switch_row, site_col),
	 .ref = DB_SITES, .db = "site_id", .select = "s.key"},
	{"chassis_id", DB_K_CHASSIS, REQ | DB_COL_UNIQUE, AT(db_switch_row, chassis_id),
	 .db = "chassis_id", .select = "w.chassis_id"},
	{"mgmt_address", DB_K_IP, 0, AT(db_switch_row, mgmt_address), .db = "mgmt_address",
	 .cast = "inet", .select = "host(w.mgmt_address)"},
	{"location", DB_K_REF, 0, AT(db_switch_row, location_key),
	 .col_at = AT(db_switch_row, location_col), .ref = DB_LOCATIONS, .db = "location_id",
	 .select = "l.key"},
	{"description", DB_K_TEXT, 0, AT(db_switch_row, description), .db = "description",
	 .select = "w.description"},
	/* How wiremapd polls it; the credentials stay in wiremapd.conf's [snmp.NAME]. */
	{"snmp_profile", DB_K_PROFILE, 0, AT(db_switch_row, snmp_profile),
	 .label = "snmp_profile", .db = "snmp_profile", .select = "w.snmp_profile"},
	{"snmp_port", DB_K_UINT, 0, AT(db_switch_row, snmp_port), .label = "snmp_port",
	 .lo = 1, .hi = 65535, .db = "snmp_port", .cast = "integer", .db_default = "161",
	 .select = "w.snmp_port"},
	{"poll_interval", DB_K_UINT, 0, AT(db_switch_row, poll_interval),
	 .label = "poll_interval (seconds)", .lo = 1, .hi = 2147483647, .db = "poll_interval",
	 .cast = "integer", .select = "w.poll_interval"},
	{"poll_enabled", DB_K_BOOL, 0, AT(db_switch_row, poll_enabled), .label = "poll_enabled",
	 .dflt = "true", .db = "poll_enabled", .cast = "boolean", .select = "w.poll_enabled"},
};

static const struct db_column port_cols[] = {
	{"switch", DB_K_REF, REQ | ID, AT(db_port_row, switch_key),
	 .col_at = AT(db_port_row, switch_col), .ref = DB_SWITCHES, .db = "switch_id",
	 .select = "w.key"},
	{"port", DB_K_TEXT, REQ | ID, AT(db_port_row, port_id), .db = "port_id",
	 .select = "p.port_id"},
	{"location", DB_K_REF, 0, AT(db_port_row, location_key),
	 .col_at = AT(db_port_row, location_col), .ref = DB_LOCATIONS, .db = "location_id",
	 .select = "l.key"},
	{"description", DB_K_TEXT, 0, AT(db_port_row, description), .db = "description",
	 .select = "p.description"},
};

static const struct db_column bssid_cols[] = {
	{"bssid", DB_K_BSSID, REQ | ID, AT(db_bssid_row, bssid), .aux = AT(db_bssid_row, prefix_len),
	 .db = "bssid", .db_aux = "prefix_len", .cast = "macaddr", .select = "b.bssid::text",
	 .select_aux = "b.prefix_len"},
	{"location", DB_K_REF, REQ, AT(db_bssid_row, location_key),
	 .col_at = AT(db_bssid_row, location_col), .ref = DB_LOCATIONS, .db = "location_id",
	 .select = "l.key"},
	{"ap", DB_K_TEXT, 0, AT(db_bssid_row, ap), .db = "key", .select = "b.key"},
};

/* What lisd answers when nothing a class counts is fresh (wm_resolve.h). */
static const char *const no_fresh_actions[] = {"locationUnknown", "site-default", "declared",
					       NULL};
#define USE(name, f, d)                                                                    \
	{name, DB_K_BOOL, 0, AT(db_class_row, f), .label = name, .dflt = d, .db = #f,        \
	 .cast = "boolean", .select = "c." #f}
static const struct db_column class_cols[] = {
	{"class", DB_K_KEY, REQ | ID, AT(db_class_row, key), .db = "key", .select = "c.key"},
	{"description", DB_K_TEXT, 0, AT(db_class_row, description), .db = "description",
	 .select = "c.description"},
	USE("port", use_port, "true"), USE("bssid", use_bssid, "true"),
	USE("subnet", use_subnet, "true"), USE("static", use_static, "true"),
	USE("declared", use_declared, "false"),
	{"max_binding_age", DB_K_UINT, 0, AT(db_class_row, max_binding_age),
	 .label = "max_binding_age (seconds)", .lo = 1, .hi = 2147483647,
	 .db = "max_binding_age", .cast = "integer", .select = "c.max_binding_age"},
	{"reconfirm_interval", DB_K_UINT, 0, AT(db_class_row, reconfirm_interval),
	 .label = "reconfirm_interval (seconds)", .lo = 1, .hi = 2147483647,
	 .db = "reconfirm_interval", .cast = "integer", .select = "c.reconfirm_interval"},
	{"no_fresh", DB_K_ENUM, REQ, AT(db_class_row, no_fresh),
	 .label = "what to answer with nothing fresh", .values = no_fresh_actions,
	 .db = "no_fresh", .select = "c.no_fresh"},
};

static const char *const true_false[] = {"true", "false", NULL};

static const struct db_column endpoint_cols[] = {
	{"endpoint", DB_K_KEY, REQ | ID, AT(db_endpoint_row, key), .db = "key",
	 .select = "e.key"},
	{"class", DB_K_REF, REQ | DB_COL_BYKEY, AT(db_endpoint_row, class_),
	 .col_at = AT(db_endpoint_row, class_col), .ref = DB_CLASSES, .db = "class",
	 .select = "e.class"},
	{"mac", DB_K_MAC, DB_COL_UNIQUE, AT(db_endpoint_row, mac), .db = "mac", .cast = "macaddr",
	 .select = "e.mac::text"},
	{"uri", DB_K_SIP_URI, DB_COL_UNIQUE, AT(db_endpoint_row, uri), .db = "uri",
	 .select = "e.uri"},
	{"tel", DB_K_TEL_URI, DB_COL_UNIQUE, AT(db_endpoint_row, tel), .db = "tel",
	 .select = "e.tel"},
	{"location", DB_K_REF, 0, AT(db_endpoint_row, location_key),
	 .col_at = AT(db_endpoint_row, location_col), .ref = DB_LOCATIONS, .db = "location_id",
	 .select = "l.key"},
	{"owner", DB_K_WORD, 0, AT(db_endpoint_row, owner), .label = "owner", .db = "owner",
	 .select = "e.owner"},
	{"active", DB_K_ENUM, DB_COL_KEEP, AT(db_endpoint_row, active),
	 .label = "an active flag", .values = true_false, .db = "active",
	 .cast = "boolean", .db_default = "true", .select = "e.active::text"},
};

static const struct db_column mac_port_cols[] = {
	{"mac", DB_K_MAC, REQ | ID, AT(db_mac_port_row, mac), .db = "mac", .cast = "macaddr",
	 .select = "b.mac::text"},
	{"switch", DB_K_REF, REQ | ID, AT(db_mac_port_row, switch_key),
	 .col_at = AT(db_mac_port_row, switch_col), .ref = DB_SWITCHES, .db = "switch_id",
	 .select = "w.key"},
	{"port", DB_K_TEXT, REQ | ID, AT(db_mac_port_row, port_id), .db = "port_id",
	 .select = "b.port_id"},
	SEEN(db_mac_port_row, "b"),
};

static const struct db_column ip_mac_cols[] = {
	{"ip", DB_K_IP, REQ | ID, AT(db_ip_mac_row, ip), .db = "ip", .cast = "inet",
	 .select = "host(b.ip)"},
	{"mac", DB_K_MAC, REQ | ID, AT(db_ip_mac_row, mac), .db = "mac", .cast = "macaddr",
	 .select = "b.mac::text"},
	SEEN(db_ip_mac_row, "b"),
};

static const struct db_column mac_bssid_cols[] = {
	{"mac", DB_K_MAC, REQ | ID, AT(db_mac_bssid_row, mac), .db = "mac", .cast = "macaddr",
	 .select = "b.mac::text"},
	{"bssid", DB_K_MAC, REQ | ID, AT(db_mac_bssid_row, bssid), .db = "bssid",
	 .cast = "macaddr", .select = "b.bssid::text"},
	SEEN(db_mac_bssid_row, "b"),
};

/* The site with key p (a parameter), and a location column at that site (any site when p
 * is NULL): for --replace site:KEY. */
#define SITE_ID(p) "(SELECT id FROM site WHERE key = " p "::text)"
#define AT_SITE(col, p) "(" p "::text IS NULL OR " col " IN (SELECT l.id FROM location l" \
	" WHERE l.site_id = " SITE_ID(p) "))"

const struct db_entity_desc db_entities[DB_ENTITY_N] = {
	[DB_SITES] = {
		"sites", "sites", "sites", "site", "site", .whole_only = true,
		ROW(db_site_row), COLS(site_cols), .table = "site",
		.from = "site s LEFT JOIN location d ON d.id = s.default_location_id",
		.site = "s.key", .order = "s.key",
		.in_use = "WITH c AS (SELECT s.id, s.key FROM site s WHERE s.key <> ALL($1::text[])"
			  " AND $2::text IS NULL)"
			  " SELECT c.key, r.what FROM c CROSS JOIN LATERAL ("
			  " SELECT 'location ' || l.key AS what FROM location l"
			  " WHERE l.site_id = c.id"
			  " UNION ALL SELECT 'switch ' || w.key FROM switch w"
			  " WHERE w.site_id = c.id) r ORDER BY 1, 2 LIMIT 1",
		.remove = "DELETE FROM site s WHERE s.key <> ALL($1::text[]) AND $2::text IS NULL"
			  " RETURNING s.key",
	},
	[DB_LOCATIONS] = {
		"locations", "locations", "locations", "location", "location",
		.summary = true, ROW(db_location_row), COLS(location_cols), .table = "location",
		.from = "location l JOIN site s ON s.id = l.site_id", .site = "s.key",
		.order = "l.key",
		.in_use = "WITH c AS (SELECT l.id, l.key FROM location l"
			  " WHERE l.key <> ALL($1::text[])"
			  " AND ($2::text IS NULL OR l.site_id = " SITE_ID("$2") "))"
			  " SELECT c.key, r.what FROM c CROSS JOIN LATERAL ("
			  " SELECT 'subnet ' || n.prefix::text AS what FROM subnet n"
			  " WHERE n.location_id = c.id"
			  " UNION ALL SELECT 'switch ' || w.key FROM switch w"
			  " WHERE w.location_id = c.id"
			  " UNION ALL SELECT 'port ' || w.key || ' ' || p.port_id FROM switch_port p"
			  " JOIN switch w ON w.id = p.switch_id WHERE p.location_id = c.id"
			  " UNION ALL SELECT 'BSSID ' || b.bssid::text || '/' || b.prefix_len"
			  " FROM bssid b WHERE b.location_id = c.id"
			  " UNION ALL SELECT 'endpoint ' || e.key FROM endpoint e"
			  " WHERE e.location_id = c.id"
			  " UNION ALL SELECT 'site ' || s.key || ' (as its default location)'"
			  " FROM site s WHERE s.default_location_id = c.id) r"
			  " ORDER BY 1, 2 LIMIT 1",
		.remove = "DELETE FROM location l WHERE l.key <> ALL($1::text[])"
			  " AND ($2::text IS NULL OR l.site_id = " SITE_ID("$2") ")"
			  " RETURNING l.key",
	},
	[DB_SUBNETS] = {
		"subnets", "subnets", "subnets", "subnet", "subnet",
		.summary = true, ROW(db_subnet_row), COLS(subnet_cols), .table = "subnet",
		.from = "subnet n LEFT JOIN location l ON l.id = n.location_id"
			" LEFT JOIN site s ON s.id = l.site_id",
		.site = "s.key", .order = "n.prefix",
		.remove = "DELETE FROM subnet n WHERE n.prefix <> ALL($1::cidr[]) AND "
			  AT_SITE("n.location_id", "$2") " RETURNING n.prefix::text",
	},
	/* A switch's ports, poll status and MAC-port bindings go with it (ON DELETE
	 * CASCADE). */
	[DB_SWITCHES] = {
		"switches", "switches", "switches", "switch", "switch",
		.summary = true, ROW(db_switch_row), COLS(switch_cols), .table = "switch",
		.from = "switch w JOIN site s ON s.id = w.site_id"
			" LEFT JOIN location l ON l.id = w.location_id",
		.site = "s.key", .order = "w.key",
		.remove = "DELETE FROM switch w WHERE w.key <> ALL($1::text[])"
			  " AND ($2::text IS NULL OR w.site_id = " SITE_ID("$2") ")"
			  " RETURNING w.key",
	},
	[DB_PORTS] = {
		"ports", "ports", "ports", "port", "switch and port",
		.summary = true, ROW(db_port_row), COLS(port_cols), .table = "switch_port",
		.from = "switch_port p JOIN switch w ON w.id = p.switch_id"
			" JOIN site s ON s.id = w.site_id LEFT JOIN location l ON l.id = p.location_id",
		.site = "s.key", .order = "w.key, p.port_id",
		.remove = "DELETE FROM switch_port p USING switch w WHERE w.id = p.switch_id"
			  " AND NOT EXISTS (SELECT 1 FROM unnest($1::text[], $2::text[]) f(s, p)"
			  " WHERE f.s = w.key AND f.p = p.port_id)"
			  " AND ($3::text IS NULL OR w.site_id = " SITE_ID("$3") ")"
			  " RETURNING w.key || ' ' || p.port_id",
	},
	[DB_BSSIDS] = {
		"bssids", "bssids", "BSSIDs", "BSSID", "bssid",
		.summary = true, ROW(db_bssid_row), COLS(bssid_cols), .table = "bssid",
		.from = "bssid b JOIN location l ON l.id = b.location_id"
			" JOIN site s ON s.id = l.site_id",
		.site = "s.key", .order = "b.bssid, b.prefix_len",
		.remove = "DELETE FROM bssid b WHERE NOT EXISTS (SELECT 1 FROM"
			  " unnest($1::macaddr[], $2::integer[]) f(m, n)"
			  " WHERE f.m = b.bssid AND f.n = b.prefix_len)"
			  " AND " AT_SITE("b.location_id", "$3")
			  " RETURNING b.bssid::text || '/' || b.prefix_len",
	},
	/* Classes belong to no site. */
	[DB_CLASSES] = {
		"classes", "classes", "endpoint classes", "class", "class", .whole_only = true,
		ROW(db_class_row), COLS(class_cols), .table = "endpoint_class",
		.from = "endpoint_class c", .order = "c.key",
		.in_use = "WITH c AS (SELECT c.key FROM endpoint_class c"
			  " WHERE c.key <> ALL($1::text[]) AND $2::text IS NULL)"
			  " SELECT c.key, r.what FROM c CROSS JOIN LATERAL ("
			  " SELECT 'endpoint ' || e.key AS what FROM endpoint e"
			  " WHERE e.class = c.key"
			  " UNION ALL SELECT 'VPN binding ' || host(v.ip) FROM vpn_binding v"
			  " WHERE v.class = c.key) r ORDER BY 1, 2 LIMIT 1",
		.remove = "DELETE FROM endpoint_class c WHERE c.key <> ALL($1::text[])"
			  " AND $2::text IS NULL RETURNING c.key",
	},
	[DB_ENDPOINTS] = {
		"endpoints", "endpoints", "endpoints", "endpoint", "endpoint",
		ROW(db_endpoint_row), COLS(endpoint_cols), .table = "endpoint",
		.from = "endpoint e LEFT JOIN location l ON l.id = e.location_id"
			" LEFT JOIN site s ON s.id = l.site_id",
		.site = "s.key", .order = "e.key",
		.remove = "DELETE FROM endpoint e WHERE e.key <> ALL($1::text[]) AND "
			  AT_SITE("e.location_id", "$2") " RETURNING e.key",
	},
	[DB_MAC_PORTS] = {
		"mac-ports", "mac_ports", "MAC-port bindings", "MAC-port binding", "binding",
		.binding = true, ROW(db_mac_port_row), COLS(mac_port_cols),
		.table = "binding_mac_port",
		.from = "binding_mac_port b JOIN switch w ON w.id = b.switch_id"
			" JOIN site s ON s.id = w.site_id",
		.site = "s.key", .order = "w.key, b.port_id, b.mac",
		.remove = "DELETE FROM binding_mac_port b USING switch w WHERE w.id = b.switch_id"
			  " AND NOT EXISTS (SELECT 1 FROM"
			  " unnest($1::macaddr[], $2::text[], $3::text[]) f(m, s, p)"
			  " WHERE f.m = b.mac AND f.s = w.key AND f.p = b.port_id)"
			  " AND ($4::text IS NULL OR w.site_id = " SITE_ID("$4") ")"
			  " RETURNING b.mac::text || ' ' || w.key || ' ' || b.port_id",
	},
	/* IP-MAC and MAC-BSSID bindings belong to no site. */
	[DB_IP_MACS] = {
		"ip-macs", "ip_macs", "IP-MAC bindings", "IP-MAC binding", "binding",
		.binding = true, .whole_only = true, ROW(db_ip_mac_row), COLS(ip_mac_cols),
		.table = "binding_ip_mac", .from = "binding_ip_mac b", .order = "b.ip, b.mac",
		.remove = "DELETE FROM binding_ip_mac b WHERE NOT EXISTS (SELECT 1 FROM"
			  " unnest($1::inet[], $2::macaddr[]) f(i, m)"
			  " WHERE f.i = b.ip AND f.m = b.mac)"
			  " AND $3::text IS NULL RETURNING host(b.ip) || ' ' || b.mac::text",
	},
	[DB_MAC_BSSIDS] = {
		"mac-bssids", "mac_bssids", "MAC-BSSID bindings", "MAC-BSSID binding", "binding",
		.binding = true, .whole_only = true, ROW(db_mac_bssid_row), COLS(mac_bssid_cols),
		.table = "binding_mac_bssid", .from = "binding_mac_bssid b", .order = "b.mac, b.bssid",
		.remove = "DELETE FROM binding_mac_bssid b WHERE NOT EXISTS (SELECT 1 FROM"
			  " unnest($1::macaddr[], $2::macaddr[]) f(m, x)"
			  " WHERE f.m = b.mac AND f.x = b.bssid)"
			  " AND $3::text IS NULL RETURNING b.mac::text || ' ' || b.bssid::text",
	},
};

/* The shortest text that reads back as the same double, so that an unchanged value
 * compares equal on re-import and exports the same bytes; in plain decimals, never an
 * exponent ("30", not "3e+01": a spreadsheet or a person reads it as written). */
static const char *number(char *buf, size_t size, double v)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, "eE") || !isfinite(v))
		return buf;
	char plain[400];       /* %.0f of the largest double is 309 digits */
	for (int dec = 0; dec <= 340; dec++) {
		int n = snprintf(plain, sizeof plain, "%.*f", dec, v);
		if (n > 0 && (size_t)n < sizeof plain && strtod(plain, NULL) == v) {
			if ((size_t)n < size)   /* else the exponent form stays */
				memcpy(buf, plain, (size_t)n + 1);
			break;
		}
	}
	return buf;
}

const char *db_column_text(const struct db_column *c, const void *r, char *buf, size_t size)
{
	switch (c->kind) {
	case DB_K_BOOL:
		return DB_CFIELD(bool, r, c->at) ? "true" : "false";
	case DB_K_UINT:
		if (!DB_CFIELD(unsigned, r, c->at))
			return NULL;
		snprintf(buf, size, "%u", DB_CFIELD(unsigned, r, c->at));
		return buf;
	case DB_K_REAL:
		if (c->aux ? !DB_CFIELD(bool, r, c->aux) : DB_CFIELD(double, r, c->at) == 0)
			return NULL;
		return number(buf, size, DB_CFIELD(double, r, c->at));
	case DB_K_FIRST_SEEN:
		if (!DB_CFIELD(bool, r, c->aux))
			return NULL;
		/* fall through */
	case DB_K_LAST_SEEN: {
		time_t t = DB_CFIELD(time_t, r, c->at);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return buf;
	}
	case DB_K_BSSID:
		if (DB_CFIELD(unsigned, r, c->aux) == 48)
			break;
		snprintf(buf, size, "%s/%u", DB_CFIELD(const char *, r, c->at),
			 DB_CFIELD(unsigned, r, c->aux));
		return buf;
	default:
		break;
	}
	return DB_CFIELD(const char *, r, c->at);
}

int db_entity_by_name(const char *name)
{
	for (int e = 0; e < DB_ENTITY_N; e++)
		if (strcmp(db_entities[e].name, name) == 0)
			return e;
	return -1;
}

int db_column_index(enum db_entity e, const char *name)
{
	const struct db_entity_desc *d = &db_entities[e];

	for (size_t k = 0; k < d->n_cols; k++)
		if (strcmp(d->cols[k].name, name) == 0)
			return (int)k;
	return -1;
}
