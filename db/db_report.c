/* Report queries (see db_report.h). Read-only: nothing here writes. Every statement starts
 * with the same CTE `p` that binds all seven parameters, so that each section can use the
 * ones it needs and PostgreSQL can still type every parameter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "db_report.h"

/* $1 from, $2 to (epoch seconds, NULL = open), $3 site, $4 result, $5 source, $6 days,
 * $7 max binding age (seconds). */
#define P "WITH p AS (SELECT to_timestamp($1::float8) AS t_from, " \
	  "to_timestamp($2::float8) AS t_to, $3::text AS site, $4::text AS result, " \
	  "$5::text AS source, $6::int AS days, $7::int AS max_age) "
#define N_PARAMS 7
#define REPORT_STATEMENT_TIMEOUT "10min"

/* Timestamps leave as ISO 8601 in UTC, whatever the session's TimeZone. */
#define TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* x within the period [from, to). */
#define IN_PERIOD(x) "(p.t_from IS NULL OR " x " >= p.t_from) AND " \
		     "(p.t_to IS NULL OR " x " < p.t_to)"
#define EMERGENCY "('emergencyRouting', 'emergencyDispatch')"
/* Not a test-mode request (lisd(8) TEST MODE): tests stay out of the risk figures. Read
 * through to_jsonb so that a schema before 0009 (no column test) is read as all real. */
#define NOT_TEST(q) "NOT coalesce((to_jsonb(" q ") ->> 'test')::boolean, false)"
/* An endpoint not deactivated (lisctl endpoint deactivate), read the same way for a schema
 * before 0010 (no column active: all active). */
#define ACTIVE(e) "coalesce((to_jsonb(" e ") ->> 'active')::boolean, true)"

/* The site of the longest subnet prefix covering inet expression x. */
#define SUBNET_SITE(x) "(SELECT si.key FROM subnet n JOIN location l ON l.id = n.location_id " \
		       "JOIN site si ON si.id = l.site_id WHERE n.prefix >>= " x " " \
		       "ORDER BY masklen(n.prefix) DESC LIMIT 1)"
/* The site of the switch where MAC expression x was seen last. */
#define MAC_SITE(x) "(SELECT si.key FROM binding_mac_port b JOIN switch w ON w.id = b.switch_id " \
		    "JOIN site si ON si.id = w.site_id WHERE b.mac = " x " " \
		    "ORDER BY b.last_seen DESC LIMIT 1)"

/* A dotted-quad IPv4 literal, strict enough that the ::inet cast cannot fail. */
#define OCTET "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#define IPV4_TARGET "'^ip:(" OCTET "\\.){3}" OCTET "$'"
#define MAC_TARGET "'^mac:([0-9a-f]{2}(:[0-9a-f]{2}){5}|[0-9a-f]{12})$'"

/* A user's class, for re-confirming declarations (lisctl(8) report declarations): of the
 * classes of the endpoints the user owns and of the user's VPN bindings, the one with the
 * shortest reconfirm_interval; none when no such class has one. A LATERAL join that gives
 * r.cls and r.secs for user expression u. */
#define RECONFIRM_OF(u) "LEFT JOIN LATERAL (SELECT c.key AS cls, " \
	"c.reconfirm_interval AS secs FROM endpoint_class c " \
	"WHERE c.reconfirm_interval IS NOT NULL AND (c.key IN (SELECT e.class FROM " \
	"endpoint e WHERE e.owner = " u ") OR c.key IN (SELECT v.class FROM " \
	"vpn_binding v WHERE v.user_key = " u ")) " \
	"ORDER BY c.reconfirm_interval LIMIT 1) r ON true"

struct section {
	const char *name;
	const char *needs[3];           /* tables that may be missing on an older schema */
	const char *sql;                /* NULL: made by sql_of() */
};

static const struct section sections[DB_REP_N_] = {
	[DB_REP_QUERIES] = {"queries", {"query_log"},
		P "SELECT " TS("q.at") " AS at, q.instance, q.seq, q.kind, "
		"host(q.requester_ip) AS requester_ip, q.requester_subject, q.target, "
		"q.site_key AS site, q.source, q.location_key AS location, q.address, q.method, "
		"q.fallback, q.disagreement, q.result, q.response_time, q.latency_ms, "
		"q.evidence, q.evidence_age_s "
		"FROM p, query_log q WHERE " IN_PERIOD("q.at") " "
		"AND (p.site IS NULL OR q.site_key = p.site) "
		"AND (p.result IS NULL OR q.result = p.result) "
		"AND (p.source IS NULL OR q.source = p.source) "
		"ORDER BY q.at, q.instance, q.seq"},

	/* The schema requires a location for BSSIDs and for subnets that are not remote (a
	 * VPN pool needs none); these sections stay so that a relaxed schema or a damaged
	 * database cannot hide a gap. */
	[DB_REP_SUBNETS_NO_LOCATION] = {"subnets_without_location", {NULL},
		P "SELECT si.key AS site, n.prefix::text AS prefix, n.description "
		"FROM p, subnet n LEFT JOIN location l ON l.id = n.location_id "
		"LEFT JOIN site si ON si.id = l.site_id "
		"WHERE l.id IS NULL AND NOT n.remote AND (p.site IS NULL OR si.key = p.site) "
		"ORDER BY n.prefix"},

	/* A port answers with its own location, else its switch's: a gap is a port with
	 * neither, whether it is in the wiremap or only seen in a MAC binding. */
	[DB_REP_PORTS_NO_LOCATION] = {"ports_without_location", {NULL},
		P "SELECT si.key AS site, w.key AS switch, x.port_id AS port, x.in_wiremap, "
		"x.description FROM p, ("
		"SELECT sp.switch_id, sp.port_id, true AS in_wiremap, sp.description "
		"FROM switch_port sp WHERE sp.location_id IS NULL "
		"UNION "
		"SELECT b.switch_id, b.port_id, false, NULL::text FROM binding_mac_port b "
		"WHERE NOT EXISTS (SELECT 1 FROM switch_port sp WHERE sp.switch_id = b.switch_id "
		"AND sp.port_id = b.port_id)"
		") x JOIN switch w ON w.id = x.switch_id JOIN site si ON si.id = w.site_id "
		"WHERE w.location_id IS NULL AND (p.site IS NULL OR si.key = p.site) "
		"ORDER BY si.key, w.key, x.port_id"},

	[DB_REP_BSSIDS_NO_LOCATION] = {"bssids_without_location", {NULL},
		P "SELECT si.key AS site, CASE WHEN a.prefix_len = 48 THEN a.bssid::text "
		"ELSE a.bssid::text || '/' || a.prefix_len END AS bssid, a.key AS ap "
		"FROM p, bssid a LEFT JOIN location l ON l.id = a.location_id "
		"LEFT JOIN site si ON si.id = l.site_id "
		"WHERE l.id IS NULL AND (p.site IS NULL OR si.key = p.site) ORDER BY a.bssid"},

	/* No static location, and nothing on the network to locate it by: no MAC, or no
	 * switch-port or Wi-Fi binding younger than lisd's max_binding_age. Its site is where
	 * its MAC was last seen on a switch, if anywhere. */
	[DB_REP_ENDPOINTS_UNLOCATABLE] = {"endpoints_unlocatable", {NULL},
		P "SELECT e.key AS endpoint, e.class, e.mac::text AS mac, e.uri, e.tel, "
		"es.site, CASE WHEN e.mac IS NULL THEN 'no static location and no MAC address' "
		"WHEN lb.last_seen IS NULL THEN 'no static location and its MAC was never seen' "
		"ELSE 'no static location and no fresh binding for its MAC' END AS reason, "
		TS("lb.last_seen") " AS last_seen "
		"FROM p, endpoint e "
		"LEFT JOIN LATERAL (SELECT max(t) AS last_seen FROM ("
		"SELECT max(last_seen) AS t FROM binding_mac_port WHERE mac = e.mac UNION ALL "
		"SELECT max(last_seen) FROM binding_mac_bssid WHERE mac = e.mac) z) lb ON true "
		"LEFT JOIN LATERAL (SELECT " MAC_SITE("e.mac") " AS site) es ON true "
		"WHERE " ACTIVE("e") " AND e.location_id IS NULL "
		"AND (e.mac IS NULL OR lb.last_seen IS NULL OR "
		"lb.last_seen < now() - make_interval(secs => p.max_age)) "
		"AND (p.site IS NULL OR es.site = p.site) ORDER BY e.key"},

	/* Dispatchable: country, A1, A3, RD and HNO; and FLR where the building (the site's
	 * locations with the same BLD) has locations on more than one floor. */
	[DB_REP_LOCATIONS_NOT_DISPATCHABLE] = {"locations_not_dispatchable", {NULL},
		P ", b AS (SELECT site_id, bld, count(DISTINCT flr) AS floors, "
		"string_agg(DISTINCT flr, ', ' ORDER BY flr) AS flrs FROM location "
		"GROUP BY site_id, bld), "
		"x AS (SELECT l.*, b.floors, b.flrs, "
		"coalesce(l.flr, '') = '' AND b.floors > 1 AS needs_flr FROM location l "
		"JOIN b ON b.site_id = l.site_id AND b.bld IS NOT DISTINCT FROM l.bld) "
		"SELECT si.key AS site, x.key AS location, concat_ws(', ', "
		"CASE WHEN coalesce(x.country, '') = '' THEN 'country' END, "
		"CASE WHEN coalesce(x.a1, '') = '' THEN 'A1' END, "
		"CASE WHEN coalesce(x.a3, '') = '' THEN 'A3' END, "
		"CASE WHEN coalesce(x.rd, '') = '' THEN 'RD' END, "
		"CASE WHEN coalesce(x.hno, '') = '' THEN 'HNO' END, "
		"CASE WHEN x.needs_flr THEN 'FLR' END) AS missing, "
		"CASE WHEN x.needs_flr THEN 'building ' || coalesce(x.bld, '(no BLD)') || "
		"' has locations on floors ' || x.flrs END AS note "
		"FROM p, x JOIN site si ON si.id = x.site_id "
		"WHERE (coalesce(x.country, '') = '' OR coalesce(x.a1, '') = '' OR "
		"coalesce(x.a3, '') = '' OR coalesce(x.rd, '') = '' OR coalesce(x.hno, '') = '' "
		"OR x.needs_flr) AND (p.site IS NULL OR si.key = p.site) ORDER BY si.key, x.key"},

	[DB_REP_STALE_BINDINGS] = {"stale_bindings", {NULL},
		P "SELECT x.kind, x.mac::text AS mac, x.seen_on, x.site, "
		TS("x.last_seen") " AS last_seen, "
		"floor(extract(epoch FROM now() - x.last_seen) / 86400)::int AS age_days, x.source "
		"FROM p, ("
		"SELECT 'mac-port' AS kind, b.mac, w.key || ' ' || b.port_id AS seen_on, "
		"si.key AS site, b.last_seen, b.source FROM binding_mac_port b "
		"JOIN switch w ON w.id = b.switch_id JOIN site si ON si.id = w.site_id "
		"UNION ALL SELECT 'ip-mac', b.mac, host(b.ip), " SUBNET_SITE("b.ip") ", "
		"b.last_seen, b.source FROM binding_ip_mac b "
		"UNION ALL SELECT 'mac-bssid', b.mac, b.bssid::text, (SELECT si.key FROM bssid a "
		"JOIN location l ON l.id = a.location_id JOIN site si ON si.id = l.site_id "
		"WHERE lis_mac_bits(a.bssid) >> (48 - a.prefix_len) = "
		"lis_mac_bits(b.bssid) >> (48 - a.prefix_len) ORDER BY a.prefix_len DESC LIMIT 1), "
		"b.last_seen, b.source FROM binding_mac_bssid b"
		") x WHERE x.last_seen < now() - make_interval(days => p.days) "
		"AND (p.site IS NULL OR x.site = p.site) ORDER BY x.last_seen, x.kind, x.mac"},

	/* Users' current declared locations (47 CFR 9.16(b)(3)) that lisd no longer takes as
	 * fresh: expired, or not confirmed again within the shortest reconfirm_interval of
	 * the classes of the user's endpoints and VPN bindings. They belong to no site. */
	[DB_REP_STALE_DECLARATIONS] = {"stale_declarations", {"declared_location"},
		P "SELECT d.user_key AS user, d.label, " TS("d.confirmed_at") " AS confirmed_at, "
		TS("d.expires_at") " AS expires_at, CASE WHEN d.expires_at <= now() "
		"THEN 'expired' ELSE 'not confirmed again within ' || r.secs || ' s (class ' || "
		"r.cls || ')' END AS reason "
		"FROM p, declared_location d " RECONFIRM_OF("d.user_key") " "
		"WHERE d.is_current AND p.site IS NULL AND (d.expires_at <= now() OR "
		"d.confirmed_at < now() - make_interval(secs => r.secs)) "
		"ORDER BY d.user_key, d.label"},

	/* Switches wiremapd polls (a management address, polling not disabled) without a
	 * success within the period. poll_enabled is read through to_jsonb so that the
	 * statement does not depend on the column being there. */
	[DB_REP_STALE_SWITCHES] = {"stale_switches", {"switch_poll_status"},
		P "SELECT si.key AS site, w.key AS switch, host(w.mgmt_address) AS mgmt_address, "
		"CASE WHEN ps.last_success IS NULL THEN 'never polled successfully' "
		"ELSE 'no successful poll for ' || "
		"floor(extract(epoch FROM now() - ps.last_success) / 86400)::int || ' days' "
		"END AS status, " TS("ps.last_success") " AS last_success, "
		TS("ps.last_attempt") " AS last_attempt, ps.last_error, ps.consecutive_failures "
		"FROM p, switch w JOIN site si ON si.id = w.site_id "
		"LEFT JOIN switch_poll_status ps ON ps.switch_id = w.id "
		"WHERE w.mgmt_address IS NOT NULL "
		"AND coalesce((to_jsonb(w) ->> 'poll_enabled')::boolean, true) "
		"AND (ps.last_success IS NULL OR "
		"ps.last_success < now() - make_interval(days => p.days)) "
		"AND (p.site IS NULL OR si.key = p.site) ORDER BY si.key, w.key"},

	/* Per location answered in the period: how many distinct targets, from how many
	 * sites. A target's site is where its MAC was last seen on a switch ("mac:" targets),
	 * else the site of the subnet of its address ("ip:" targets), else of the requester's
	 * address. Listed when the targets come from more than one site. */
	[DB_REP_SHARED_LOCATIONS] = {"shared_locations", {"query_log"},
		P ", q AS (SELECT ql.location_key, ql.site_key, ql.target, "
		"CASE WHEN ql.target ~ " IPV4_TARGET " THEN substr(ql.target, 4)::inet "
		"ELSE ql.requester_ip END AS ip, "
		"CASE WHEN ql.target ~* " MAC_TARGET " THEN substr(ql.target, 5)::macaddr END AS mac "
		"FROM p, query_log ql WHERE ql.location_key IS NOT NULL AND " IN_PERIOD("ql.at") " "
		"AND " NOT_TEST("ql") "), "
		"e AS (SELECT q.location_key, q.site_key, q.target, coalesce(" MAC_SITE("q.mac") ", "
		SUBNET_SITE("q.ip") ", '(unknown)') AS endpoint_site FROM q), "
		"per AS (SELECT location_key, max(site_key) AS location_site, endpoint_site, "
		"count(DISTINCT target) AS n FROM e GROUP BY location_key, endpoint_site) "
		"SELECT per.location_key AS location, max(per.location_site) AS site, "
		"sum(per.n)::int AS endpoints, "
		"(count(*) FILTER (WHERE per.endpoint_site <> '(unknown)'))::int AS endpoint_sites, "
		"string_agg(per.endpoint_site || ' ' || per.n, ', ' "
		"ORDER BY per.n DESC, per.endpoint_site) AS endpoints_by_site "
		"FROM p, per GROUP BY per.location_key, p.site "
		"HAVING count(*) FILTER (WHERE per.endpoint_site <> '(unknown)') > 1 "
		"AND (p.site IS NULL OR max(per.location_site) = p.site "
		"OR bool_or(per.endpoint_site = p.site)) "
		"ORDER BY endpoints DESC, location"},

	[DB_REP_SITE_DISAGREEMENTS] = {"site_disagreements", {"query_log"},
		P "SELECT q.target, count(*)::int AS queries, " TS("min(q.at)") " AS first_at, "
		TS("max(q.at)") " AS last_at, string_agg(DISTINCT q.site_key, ', ') AS answered_sites, "
		"string_agg(DISTINCT q.disagreement, '; ') AS disagreement "
		"FROM p, query_log q WHERE coalesce(q.disagreement, '') <> '' "
		"AND " IN_PERIOD("q.at") " AND (p.site IS NULL OR q.site_key = p.site) "
		"AND " NOT_TEST("q") " GROUP BY q.target ORDER BY queries DESC, q.target"},

	[DB_REP_EMERGENCY_FALLBACK] = {"emergency_fallback", {"query_log"},
		P "SELECT " TS("q.at") " AS at, q.target, q.response_time, "
		"CASE WHEN q.result <> 'located' THEN 'not located' ELSE 'fallback' END AS problem, "
		"q.result, q.source, q.location_key AS location, q.site_key AS site, "
		"q.instance, q.seq FROM p, query_log q "
		"WHERE q.response_time IN " EMERGENCY " "
		"AND (q.result <> 'located' OR coalesce(q.fallback, false)) "
		"AND " IN_PERIOD("q.at") " AND (p.site IS NULL OR q.site_key = p.site) "
		"AND " NOT_TEST("q") " "
		"ORDER BY q.at, q.instance, q.seq"},

	[DB_REP_MAC_MOVES_BETWEEN_SITES] = {"mac_moves_between_sites", {"mac_move"},
		P "SELECT " TS("m.moved_at") " AS moved_at, m.mac::text AS mac, "
		"fs.key AS from_site, fw.key AS from_switch, m.from_port_id AS from_port, "
		"ts.key AS to_site, tw.key AS to_switch, m.to_port_id AS to_port, m.source "
		"FROM p, mac_move m JOIN switch fw ON fw.id = m.from_switch_id "
		"JOIN site fs ON fs.id = fw.site_id JOIN switch tw ON tw.id = m.to_switch_id "
		"JOIN site ts ON ts.id = tw.site_id "
		"WHERE fs.id <> ts.id AND " IN_PERIOD("m.moved_at") " "
		"AND (p.site IS NULL OR p.site IN (fs.key, ts.key)) ORDER BY m.moved_at, m.id"},

	/* Its per-site counts come from db_entities (summary_sites below). */
	[DB_REP_SUMMARY_SITES] = {"sites", {"query_log"}, NULL},

	[DB_REP_SUMMARY_SOURCES] = {"sources", {"query_log"},
		P "SELECT coalesce(q.source, '(none)') AS source, count(*)::int AS queries, "
		"(count(*) FILTER (WHERE q.result = 'located'))::int AS located, "
		"(count(*) FILTER (WHERE q.fallback))::int AS fallback, "
		"(count(*) FILTER (WHERE q.response_time IN " EMERGENCY "))::int AS emergency "
		"FROM p, query_log q WHERE " IN_PERIOD("q.at") " "
		"AND (p.site IS NULL OR q.site_key = p.site) "
		"GROUP BY 1 ORDER BY queries DESC, source"},

	/* A located answer that was a fallback is its own category: it is what auditors look
	 * for. Days are UTC days. */
	/* Onboarding: active endpoints no located answer of the query log names, by an
	 * identity of the target (mac:, uri:, tel:) or by the endpoint in the evidence (the
	 * class's "(endpoint KEY)", a static step's "endpoint KEY (found by ...)"). */
	[DB_REP_NEVER_LOCATED] = {"never_located", {"query_log", "lis_user"},
		P ", seen AS (SELECT m[1] AS key FROM p, query_log q, "
		"regexp_matches(coalesce(q.evidence, ''), "
		"'endpoint ([^ ()]+)(?:\\)| \\((?:found by|its class))', 'g') m "
		"WHERE q.result = 'located' AND " IN_PERIOD("q.at") " "
		"UNION SELECT e.key FROM p, query_log q "
		"CROSS JOIN LATERAL regexp_split_to_table(coalesce(q.target, ''), ' ') w(word) "
		"JOIN endpoint e ON w.word IN ('mac:' || e.mac::text, 'uri:' || e.uri, e.tel) "
		"WHERE q.result = 'located' AND " IN_PERIOD("q.at") ") "
		"SELECT e.key AS endpoint, e.class, e.owner, e.mac::text AS mac, e.uri, e.tel, "
		"coalesce(si.key, " MAC_SITE("e.mac") ") AS site, "
		TS("e.created_at") " AS created_at "
		"FROM p, endpoint e LEFT JOIN location l ON l.id = e.location_id "
		"LEFT JOIN site si ON si.id = l.site_id "
		"WHERE e.active AND NOT EXISTS (SELECT 1 FROM seen WHERE seen.key = e.key) "
		"AND (p.site IS NULL OR coalesce(si.key, " MAC_SITE("e.mac") ") = p.site) "
		"ORDER BY e.created_at, e.key"},

	/* Declarations (lisctl(8) report declarations): every expired one ... */
	[DB_REP_DECLARATIONS_EXPIRED] = {"declarations_expired", {"declared_location", "lis_user"},
		P "SELECT d.user_key AS user, d.label, d.is_current AS current, "
		TS("d.confirmed_at") " AS confirmed_at, " TS("d.expires_at") " AS expires_at, "
		"NOT EXISTS (SELECT 1 FROM lis_user u WHERE u.key = d.user_key AND NOT u.active) "
		"AS user_active FROM p, declared_location d "
		"WHERE d.expires_at <= now() AND p.site IS NULL ORDER BY d.user_key, d.label"},
	/* ... current ones that expire, or are due to be confirmed again by the user's class
	 * (RECONFIRM_OF), within the next --days ... */
	[DB_REP_DECLARATIONS_DUE] = {"declarations_due", {"declared_location", "lis_user"},
		P ", x AS (SELECT d.*, r.cls, r.secs, "
		"d.confirmed_at + make_interval(secs => r.secs) AS reconfirm_by "
		"FROM p, declared_location d " RECONFIRM_OF("d.user_key") " "
		"WHERE d.is_current AND d.expires_at > now()) "
		"SELECT x.user_key AS user, x.label, " TS("x.confirmed_at") " AS confirmed_at, "
		TS("least(x.expires_at, x.reconfirm_by)") " AS due_at, "
		"CASE WHEN x.reconfirm_by < x.expires_at THEN 'confirm again (class ' || x.cls "
		"|| ': every ' || x.secs || ' s)' ELSE 'expires' END AS due, "
		"NOT EXISTS (SELECT 1 FROM lis_user u WHERE u.key = x.user_key AND NOT u.active) "
		"AS user_active FROM p, x "
		"WHERE least(x.expires_at, x.reconfirm_by) < now() + make_interval(days => p.days) "
		"AND p.site IS NULL ORDER BY least(x.expires_at, x.reconfirm_by), x.user_key"},
	/* ... and active users owning an active endpoint of a class that counts declared
	 * locations (use_declared: may be off premises) with no current declaration that has
	 * not expired. */
	[DB_REP_USERS_WITHOUT_DECLARATION] = {"users_without_declaration",
		{"declared_location", "lis_user"},
		P "SELECT e.owner AS user, string_agg(e.key, ' ' ORDER BY e.key) AS endpoints, "
		"string_agg(DISTINCT e.class, ' ') AS classes, "
		"EXISTS (SELECT 1 FROM declared_location d WHERE d.user_key = e.owner AND "
		"d.is_current) AS has_expired_current "
		"FROM p, endpoint e JOIN endpoint_class c ON c.key = e.class "
		"WHERE e.active AND c.use_declared AND e.owner IS NOT NULL AND p.site IS NULL "
		"AND NOT EXISTS (SELECT 1 FROM lis_user u WHERE u.key = e.owner AND NOT u.active) "
		"AND NOT EXISTS (SELECT 1 FROM declared_location d WHERE d.user_key = e.owner "
		"AND d.is_current AND d.expires_at > now()) "
		"GROUP BY e.owner ORDER BY e.owner"},

	[DB_REP_SUMMARY_DAYS] = {"queries_per_day", {"query_log"},
		P "SELECT to_char(q.at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, "
		"CASE WHEN q.result = 'located' AND coalesce(q.fallback, false) "
		"THEN 'located (fallback)' ELSE q.result END AS result, count(*)::int AS queries "
		"FROM p, query_log q WHERE " IN_PERIOD("q.at") " "
		"AND (p.site IS NULL OR q.site_key = p.site) GROUP BY 1, 2 ORDER BY 1, 2"},

	[DB_REP_COMPLIANCE_DATABASE] = {"database", {"lis_schema"},
		P "SELECT current_database() AS database, "
		"current_setting('server_version') AS server_version, "
		"(SELECT max(version) FROM lis_schema)::int AS schema_version, "
		TS("now()") " AS read_at FROM p"},

	[DB_REP_COMPLIANCE_SITES] = {"sites", {NULL},
		P "SELECT si.key AS site, si.name, (SELECT count(*) FROM location l "
		"WHERE l.site_id = si.id)::int AS locations "
		"FROM p, site si WHERE p.site IS NULL OR si.key = p.site ORDER BY si.key"},

	/* An ERL as a dispatcher reads it: street line, city, state and postal code,
	 * country; then building, floor and room. */
	[DB_REP_COMPLIANCE_ERLS] = {"erls", {NULL},
		P "SELECT si.key AS site, l.key AS location, concat_ws(', ', "
		"nullif(concat_ws(' ', l.hno, l.hns, l.prd, l.rd, l.sts, l.pod), ''), l.loc, "
		"l.a3, nullif(concat_ws(' ', l.a1, l.pc), ''), l.country) AS address, "
		"l.bld AS building, l.flr AS floor, l.room "
		"FROM p, location l JOIN site si ON si.id = l.site_id "
		"WHERE p.site IS NULL OR si.key = p.site ORDER BY si.key, l.key"},

	/* Every active endpoint (0010: an offboarded one is answered nothing), with the site
	 * where its MAC was last seen on a switch; lisctl resolves each and filters by site
	 * itself. active is read through to_jsonb: a schema before 0010 has all active. */
	[DB_REP_COMPLIANCE_ENDPOINTS] = {"endpoints", {NULL},
		P "SELECT e.key AS endpoint, e.class, e.mac::text AS mac, e.uri, e.tel, "
		"e.owner, " MAC_SITE("e.mac") " AS seen_site FROM p, endpoint e "
		"WHERE coalesce((to_jsonb(e) ->> 'active')::boolean, true) ORDER BY e.key"},

	/* The ports of ports_without_location's count: those in the wiremap and those only
	 * seen in MAC bindings; located when the port or its switch has a location. */
	[DB_REP_COMPLIANCE_PORTS] = {"port_coverage", {NULL},
		P "SELECT si.key AS site, count(x.port_id)::int AS ports, "
		"(count(x.port_id) FILTER (WHERE coalesce(x.location_id, w.location_id) "
		"IS NOT NULL))::int AS located FROM p, site si "
		"LEFT JOIN switch w ON w.site_id = si.id LEFT JOIN ("
		"SELECT sp.switch_id, sp.port_id, sp.location_id FROM switch_port sp UNION "
		"SELECT b.switch_id, b.port_id, NULL::bigint FROM binding_mac_port b "
		"WHERE NOT EXISTS (SELECT 1 FROM switch_port sp WHERE sp.switch_id = b.switch_id "
		"AND sp.port_id = b.port_id)) x ON x.switch_id = w.id "
		"WHERE p.site IS NULL OR si.key = p.site GROUP BY si.key ORDER BY si.key"},

	/* A BSSID belongs to the site of its location; one without a location belongs to no
	 * site and is a finding of bssids_without_location. */
	[DB_REP_COMPLIANCE_BSSIDS] = {"bssid_coverage", {NULL},
		P "SELECT si.key AS site, count(a.id)::int AS bssids, "
		"count(a.id)::int AS located FROM p, site si "
		"LEFT JOIN location l ON l.site_id = si.id LEFT JOIN bssid a ON a.location_id = l.id "
		"WHERE p.site IS NULL OR si.key = p.site GROUP BY si.key ORDER BY si.key"},

	/* Real calls' notifications opened in the period; a notification with no delivery
	 * planned is one row with state "none". */
	[DB_REP_NOTIFICATION_LOG] = {"notification_log", {"notification"},
		P "SELECT n.id AS notification, " TS("n.first_at") " AS call_at, n.target, "
		"n.response_time, n.result, n.site_key AS site, n.location_key AS location, "
		"d.channel, d.recipient, coalesce(d.state, 'none') AS state, d.attempts, "
		TS("d.delivered_at") " AS delivered_at, (SELECT g.error FROM notify_log g "
		"WHERE g.delivery_id = d.id AND g.error IS NOT NULL ORDER BY g.at DESC, g.id DESC "
		"LIMIT 1) AS last_error "
		"FROM p, notification n LEFT JOIN notify_delivery d ON d.notification_id = n.id "
		"WHERE NOT n.test AND " IN_PERIOD("n.first_at") " "
		"AND (p.site IS NULL OR n.site_key = p.site) "
		"ORDER BY n.first_at, n.id, d.channel, d.recipient"},

	/* lisd(8) TEST MODE: queries marked test, kept out of every other figure. */
	[DB_REP_TEST_CALLS] = {"test_calls", {"notification"},
		P "SELECT " TS("q.at") " AS at, q.target, q.response_time, q.result, "
		"q.site_key AS site, q.location_key AS location, q.source, "
		"(SELECT string_agg(d.channel || ' ' || d.recipient || ': ' || d.state, '; ' "
		"ORDER BY d.channel, d.recipient) FROM notification n JOIN notify_delivery d "
		"ON d.notification_id = n.id WHERE n.instance = q.instance AND n.seq = q.seq) "
		"AS notified FROM p, query_log q WHERE q.test AND " IN_PERIOD("q.at") " "
		"AND (p.site IS NULL OR q.site_key = p.site) ORDER BY q.at, q.instance, q.seq"},
};

/* The summary's row per site: its name, how many rows of each entity marked `summary`
 * (locations, subnets, ...) it has, and the queries answered with its locations. */
static void summary_sites(struct strbuf *t)
{
	strbuf_puts(t, P ", qs AS (SELECT q.site_key, count(*) AS n, "
		    "count(*) FILTER (WHERE q.result = 'located') AS located, "
		    "count(*) FILTER (WHERE q.fallback) AS fallback, "
		    "count(*) FILTER (WHERE q.response_time IN " EMERGENCY ") AS emergency "
		    "FROM p, query_log q WHERE " IN_PERIOD("q.at") " GROUP BY q.site_key) "
		    "SELECT si.key AS site, si.name, ");
	for (int e = 0; e < DB_ENTITY_N; e++) {
		const struct db_entity_desc *d = &db_entities[e];
		if (!d->summary)
			continue;
		strbuf_puts(t, "(SELECT count(*) FROM ");
		strbuf_puts(t, d->from);
		strbuf_puts(t, " WHERE ");
		strbuf_puts(t, d->site);
		strbuf_puts(t, " = si.key)::int AS ");
		strbuf_puts(t, d->file);
		strbuf_puts(t, ", ");
	}
	strbuf_puts(t, "coalesce(qs.n, 0)::int AS queries, coalesce(qs.located, 0)::int AS located, "
		    "coalesce(qs.fallback, 0)::int AS fallback, "
		    "coalesce(qs.emergency, 0)::int AS emergency "
		    "FROM p, site si LEFT JOIN qs ON qs.site_key = si.key "
		    "WHERE p.site IS NULL OR si.key = p.site ORDER BY si.key");
}

/* A section's statement: its constant text, or the one made from db_entities. */
static const char *sql_of(enum db_report_section s, struct strbuf *t)
{
	if (sections[s].sql)
		return sections[s].sql;
	summary_sites(t);
	return t->cut ? NULL : t->s;
}

const char *db_report_section_name(enum db_report_section s)
{
	return (unsigned)s < DB_REP_N_ ? sections[s].name : "?";
}

void db_table_clear(struct db_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->cols && i < t->n_cols; i++)
		free(t->cols[i]);
	for (size_t i = 0; t->cells && i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cols);
	free(t->types);
	free(t->cells);
	free(t->missing);
	memset(t, 0, sizeof *t);
}

const char *db_table_cell(const struct db_table *t, size_t row, size_t col)
{
	if (row >= t->n_rows || col >= t->n_cols)
		return NULL;
	return t->cells[row * t->n_cols + col];
}

/* Built-in type OIDs (pg_type.dat); stable across PostgreSQL versions. */
static enum db_col_type col_type(Oid oid)
{
	switch (oid) {
	case 16:                        /* bool */
		return DB_COL_BOOL;
	case 20: case 21: case 23:      /* int8, int2, int4 */
		return DB_COL_INT;
	case 700: case 701: case 1700:  /* float4, float8, numeric */
		return DB_COL_REAL;
	default:
		return DB_COL_TEXT;
	}
}

/* Does table name exist (in the search path)? 1 yes, 0 no, -1 error. */
static int table_exists(struct db_conn *c, const char *name, struct lis_error *err)
{
	const char *const v[] = {name};
	PGresult *r = db_exec(c, "report: schema check", "SELECT to_regclass($1) IS NOT NULL",
			      1, v, PGRES_TUPLES_OK, err);
	if (!r)
		return -1;
	int yes = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return yes;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int fill_table(PGresult *r, struct db_table *t, struct lis_error *err)
{
	size_t nc = (size_t)PQnfields(r), nr = (size_t)PQntuples(r);

	t->cols = calloc(nc ? nc : 1, sizeof *t->cols);
	t->types = calloc(nc ? nc : 1, sizeof *t->types);
	t->cells = calloc(nr * nc > 0 ? nr * nc : 1, sizeof *t->cells);
	if (!t->cols || !t->types || !t->cells)
		return lis_error_set(err, DB_E_QUERY, "report %s: out of memory", t->name);
	t->n_cols = nc;
	for (size_t j = 0; j < nc; j++) {
		t->cols[j] = strdup(PQfname(r, (int)j));
		t->types[j] = col_type(PQftype(r, (int)j));
		if (!t->cols[j])
			return lis_error_set(err, DB_E_QUERY, "report %s: out of memory", t->name);
	}
	t->n_rows = nr;
	for (size_t i = 0; i < nr; i++) {
		for (size_t j = 0; j < nc; j++) {
			const char *v = NULL;
			if (!PQgetisnull(r, (int)i, (int)j)) {
				v = PQgetvalue(r, (int)i, (int)j);
				if (t->types[j] == DB_COL_BOOL)
					v = v[0] == 't' ? "true" : "false";
			}
			t->cells[i * nc + j] = dup_or_null(v);
			if (v && !t->cells[i * nc + j])
				return lis_error_set(err, DB_E_QUERY, "report %s: out of memory",
						     t->name);
		}
	}
	return 0;
}

int db_report_run(struct db_conn *c, enum db_report_section s,
		  const struct db_report_filter *f, struct db_table *out, struct lis_error *err)
{
	memset(out, 0, sizeof *out);
	if ((unsigned)s >= DB_REP_N_)
		return lis_error_set(err, DB_E_QUERY, "report: no section %d", (int)s);
	const struct section *sec = &sections[s];
	out->section = s;
	out->name = sec->name;

	/* Report text leaves as UTF-8 whatever the client's locale: JSON and HTML need it. */
	if (db_is_ok(c) && PQsetClientEncoding(c->pg, "UTF8") != 0)
		return db_set_error(c, NULL, err, "report: set client_encoding");

	/* A report may read the whole query log: the 5 s limit db_connect sets for lisd's
	 * lookups would cut an audit of a busy year short. */
	const char *const tv[] = {REPORT_STATEMENT_TIMEOUT};
	PGresult *tr = db_exec(c, "report: set statement_timeout",
			       "SELECT set_config('statement_timeout', $1, false)", 1, tv,
			       PGRES_TUPLES_OK, err);
	if (!tr)
		return -1;
	PQclear(tr);

	for (size_t i = 0; i < sizeof sec->needs / sizeof sec->needs[0] && sec->needs[i]; i++) {
		int ex = table_exists(c, sec->needs[i], err);
		if (ex < 0)
			return -1;
		if (!ex) {
			char msg[200];
			snprintf(msg, sizeof msg, "table %s does not exist (the schema predates it; "
				 "run lisctl db migrate): %s cannot be reported", sec->needs[i],
				 sec->name);
			out->missing = strdup(msg);
			return out->missing ? 0 : lis_error_set(err, DB_E_QUERY, "out of memory");
		}
	}

	char from[32], to[32], days[16], age[16];
	snprintf(from, sizeof from, "%lld", (long long)f->from);
	snprintf(to, sizeof to, "%lld", (long long)f->to);
	snprintf(days, sizeof days, "%u", f->days);
	snprintf(age, sizeof age, "%u", f->max_binding_age);
	const char *const v[N_PARAMS] = {f->has_from ? from : NULL, f->has_to ? to : NULL,
		f->site, f->result, f->source, days, age};
	char what[80];
	snprintf(what, sizeof what, "report %s", sec->name);
	struct strbuf made = {0};
	const char *sql = sql_of(s, &made);
	PGresult *r = sql ? db_exec(c, what, sql, N_PARAMS, v, PGRES_TUPLES_OK, err) : NULL;
	if (!sql)
		lis_error_set(err, DB_E_QUERY, "%s: out of memory", what);
	strbuf_free(&made);
	if (!r)
		return -1;
	int rc = fill_table(r, out, err);
	PQclear(r);
	if (rc < 0)
		db_table_clear(out);
	return rc;
}
