/* The wiremap as stored, in the rows db_import takes: for `lisctl export`, and for the
 * checks `lisctl import` makes across the files and the database before it writes. */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

#define SEL_(c) ", l." #c

/* Each query takes $1: a site's key, or NULL for every site. */
static const char q_sites[] =
	"SELECT s.key, s.name, s.description, d.key, s.allow_default FROM site s"
	" LEFT JOIN location d ON d.id = s.default_location_id"
	" WHERE $1::text IS NULL OR s.key = $1::text ORDER BY s.key";
static const char q_locations[] =
	"SELECT l.key, s.key, l.lang" DB_CIVIC_COLUMNS(SEL_)
	", l.latitude, l.longitude, l.altitude, l.uncertainty FROM location l"
	" JOIN site s ON s.id = l.site_id"
	" WHERE $1::text IS NULL OR s.key = $1::text ORDER BY l.key";
static const char q_subnets[] =
	"SELECT n.prefix::text, l.key, n.description FROM subnet n"
	" JOIN location l ON l.id = n.location_id JOIN site s ON s.id = l.site_id"
	" WHERE $1::text IS NULL OR s.key = $1::text ORDER BY n.prefix";
static const char q_switches[] =
	"SELECT w.key, s.key, w.chassis_id, host(w.mgmt_address), l.key, w.description,"
	" w.snmp_profile, w.snmp_port, w.poll_interval, w.poll_enabled FROM switch w"
	" JOIN site s ON s.id = w.site_id LEFT JOIN location l ON l.id = w.location_id"
	" WHERE $1::text IS NULL OR s.key = $1::text ORDER BY w.key";
static const char q_ports[] =
	"SELECT w.key, p.port_id, l.key, p.description FROM switch_port p"
	" JOIN switch w ON w.id = p.switch_id JOIN site s ON s.id = w.site_id"
	" LEFT JOIN location l ON l.id = p.location_id"
	" WHERE $1::text IS NULL OR s.key = $1::text ORDER BY w.key, p.port_id";
static const char q_bssids[] =
	"SELECT b.bssid::text, b.prefix_len, b.key, l.key FROM bssid b"
	" JOIN location l ON l.id = b.location_id JOIN site s ON s.id = l.site_id"
	" WHERE $1::text IS NULL OR s.key = $1::text ORDER BY b.bssid, b.prefix_len";
static const char q_endpoints[] =
	"SELECT e.key, e.class, e.mac::text, e.uri, e.tel, l.key FROM endpoint e"
	" LEFT JOIN location l ON l.id = e.location_id LEFT JOIN site s ON s.id = l.site_id"
	" WHERE $1::text IS NULL OR s.key = $1::text ORDER BY e.key";
#define EPOCHS "extract(epoch FROM b.first_seen)::bigint, extract(epoch FROM b.last_seen)::bigint"
static const char q_mac_ports[] =
	"SELECT b.mac::text, w.key, b.port_id, " EPOCHS ", b.source FROM binding_mac_port b"
	" JOIN switch w ON w.id = b.switch_id JOIN site s ON s.id = w.site_id"
	" WHERE $1::text IS NULL OR s.key = $1::text ORDER BY w.key, b.port_id, b.mac";
/* IP-MAC and MAC-BSSID bindings belong to no site: exported only for the whole wiremap. */
static const char q_ip_macs[] =
	"SELECT host(b.ip), b.mac::text, " EPOCHS ", b.source FROM binding_ip_mac b"
	" WHERE $1::text IS NULL ORDER BY b.ip, b.mac";
static const char q_mac_bssids[] =
	"SELECT b.mac::text, b.bssid::text, " EPOCHS ", b.source FROM binding_mac_bssid b"
	" WHERE $1::text IS NULL ORDER BY b.mac, b.bssid";

struct owner {
	PGresult *res[DB_ENTITY_N];
};

static const char *v(const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
}

static double d(const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j) ? 0 : strtod(PQgetvalue(r, i, j), NULL);
}

static unsigned u(const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j) ? 0 : (unsigned)strtoul(PQgetvalue(r, i, j), NULL, 10);
}

static struct db_seen seen(const PGresult *r, int i, int j)
{
	return (struct db_seen){
		.first_seen = (time_t)strtoll(PQgetvalue(r, i, j), NULL, 10),
		.last_seen = (time_t)strtoll(PQgetvalue(r, i, j + 1), NULL, 10),
		.has_first_seen = true,
		.source = v(r, i, j + 2),
	};
}

void db_wiremap_free(struct db_wiremap *w)
{
	struct owner *o;

	if (!w)
		return;
	o = w->owner_;
	if (o)
		for (int e = 0; e < DB_ENTITY_N; e++)
			PQclear(o->res[e]);
	free(o);
	free((void *)w->set.sites);
	free((void *)w->set.locations);
	free((void *)w->set.subnets);
	free((void *)w->set.switches);
	free((void *)w->set.ports);
	free((void *)w->set.bssids);
	free((void *)w->set.endpoints);
	free((void *)w->set.mac_ports);
	free((void *)w->set.ip_macs);
	free((void *)w->set.mac_bssids);
	memset(w, 0, sizeof(*w));
}

int db_wiremap_read(struct db_conn *c, const char *site_key, bool bindings,
		    struct db_wiremap *w, struct lis_error *err)
{
	static const char *const sql[DB_ENTITY_N] = {
		q_sites, q_locations, q_subnets, q_switches, q_ports, q_bssids, q_endpoints,
		q_mac_ports, q_ip_macs, q_mac_bssids,
	};
	const char *const param[] = {site_key};
	struct owner *o = calloc(1, sizeof(*o));
	struct db_import_set *s = &w->set;
	int n[DB_ENTITY_N] = {0};

	memset(w, 0, sizeof(*w));
	if (!o)
		return lis_error_set(err, DB_E_QUERY, "export: out of memory");
	w->owner_ = o;
	for (int e = 0; e < DB_ENTITY_N; e++) {
		if (e >= DB_MAC_PORTS && !bindings)
			continue;
		o->res[e] = db_exec(c, "read wiremap", sql[e], 1, param, PGRES_TUPLES_OK, err);
		if (!o->res[e])
			goto fail;
		n[e] = PQntuples(o->res[e]);
	}
#define ALLOC(field, count, e)                                                            \
	do {                                                                              \
		s->count = (size_t)n[e];                                                  \
		s->field = calloc(s->count + 1, sizeof(*s->field));                       \
		if (!s->field)                                                            \
			goto oom;                                                         \
	} while (0)
	ALLOC(sites, n_sites, DB_SITES);
	ALLOC(locations, n_locations, DB_LOCATIONS);
	ALLOC(subnets, n_subnets, DB_SUBNETS);
	ALLOC(switches, n_switches, DB_SWITCHES);
	ALLOC(ports, n_ports, DB_PORTS);
	ALLOC(bssids, n_bssids, DB_BSSIDS);
	ALLOC(endpoints, n_endpoints, DB_ENDPOINTS);
	ALLOC(mac_ports, n_mac_ports, DB_MAC_PORTS);
	ALLOC(ip_macs, n_ip_macs, DB_IP_MACS);
	ALLOC(mac_bssids, n_mac_bssids, DB_MAC_BSSIDS);
#undef ALLOC
	PGresult *r = o->res[DB_SITES];
	for (int i = 0; i < n[DB_SITES]; i++)
		((struct db_site_row *)s->sites)[i] = (struct db_site_row){
			.key = v(r, i, 0), .name = v(r, i, 1), .description = v(r, i, 2),
			.default_location_key = v(r, i, 3),
			.allow_default = strcmp(PQgetvalue(r, i, 4), "t") == 0,
		};
	r = o->res[DB_LOCATIONS];
	for (int i = 0; i < n[DB_LOCATIONS]; i++) {
		struct db_location_row *l = &((struct db_location_row *)s->locations)[i];
		int j = 3 + CIVIC_N_FIELDS;
		l->key = v(r, i, 0);
		l->site_key = v(r, i, 1);
		l->lang = v(r, i, 2);
		for (int f = 0; f < CIVIC_N_FIELDS; f++)
			l->civic[f] = v(r, i, 3 + f);
		l->has_geo = !PQgetisnull(r, i, j);
		l->lat = d(r, i, j);
		l->lon = d(r, i, j + 1);
		l->has_alt = !PQgetisnull(r, i, j + 2);
		l->alt = d(r, i, j + 2);
		l->uncertainty = d(r, i, j + 3);
	}
	r = o->res[DB_SUBNETS];
	for (int i = 0; i < n[DB_SUBNETS]; i++)
		((struct db_subnet_row *)s->subnets)[i] = (struct db_subnet_row){
			.prefix = v(r, i, 0), .location_key = v(r, i, 1), .description = v(r, i, 2),
		};
	r = o->res[DB_SWITCHES];
	for (int i = 0; i < n[DB_SWITCHES]; i++)
		((struct db_switch_row *)s->switches)[i] = (struct db_switch_row){
			.key = v(r, i, 0), .site_key = v(r, i, 1), .chassis_id = v(r, i, 2),
			.mgmt_address = v(r, i, 3), .location_key = v(r, i, 4),
			.description = v(r, i, 5), .snmp_profile = v(r, i, 6),
			.snmp_port = u(r, i, 7), .poll_interval = u(r, i, 8),
			.poll_disabled = strcmp(PQgetvalue(r, i, 9), "f") == 0,
		};
	r = o->res[DB_PORTS];
	for (int i = 0; i < n[DB_PORTS]; i++)
		((struct db_port_row *)s->ports)[i] = (struct db_port_row){
			.switch_key = v(r, i, 0), .port_id = v(r, i, 1), .location_key = v(r, i, 2),
			.description = v(r, i, 3),
		};
	r = o->res[DB_BSSIDS];
	for (int i = 0; i < n[DB_BSSIDS]; i++)
		((struct db_bssid_row *)s->bssids)[i] = (struct db_bssid_row){
			.bssid = v(r, i, 0), .prefix_len = u(r, i, 1), .ap = v(r, i, 2),
			.location_key = v(r, i, 3),
		};
	r = o->res[DB_ENDPOINTS];
	for (int i = 0; i < n[DB_ENDPOINTS]; i++)
		((struct db_endpoint_row *)s->endpoints)[i] = (struct db_endpoint_row){
			.key = v(r, i, 0), .class_ = v(r, i, 1), .mac = v(r, i, 2),
			.uri = v(r, i, 3), .tel = v(r, i, 4), .location_key = v(r, i, 5),
		};
	r = o->res[DB_MAC_PORTS];
	for (int i = 0; i < n[DB_MAC_PORTS]; i++)
		((struct db_mac_port_row *)s->mac_ports)[i] = (struct db_mac_port_row){
			.mac = v(r, i, 0), .switch_key = v(r, i, 1), .port_id = v(r, i, 2),
			.seen = seen(r, i, 3),
		};
	r = o->res[DB_IP_MACS];
	for (int i = 0; i < n[DB_IP_MACS]; i++)
		((struct db_ip_mac_row *)s->ip_macs)[i] = (struct db_ip_mac_row){
			.ip = v(r, i, 0), .mac = v(r, i, 1), .seen = seen(r, i, 2),
		};
	r = o->res[DB_MAC_BSSIDS];
	for (int i = 0; i < n[DB_MAC_BSSIDS]; i++)
		((struct db_mac_bssid_row *)s->mac_bssids)[i] = (struct db_mac_bssid_row){
			.mac = v(r, i, 0), .bssid = v(r, i, 1), .seen = seen(r, i, 2),
		};
	return 0;
oom:
	lis_error_set(err, DB_E_QUERY, "export: out of memory");
fail:
	db_wiremap_free(w);
	return -1;
}
