/* `lisctl export`: the wiremap as stored, written back as the files `lisctl import` reads
 * (lis-wiremap(5)), CSV or JSON, one file per entity, every column, rows in key order, so
 * that importing an export changes nothing and exporting again gives the same bytes. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl_csv.h"

/* One file being written. */
struct out {
	FILE *f;
	bool json;
	const char *const *cols;
	size_t n_cols, rows;
	struct ctl_csv_out csv;
};

static void out_begin(struct out *o)
{
	if (o->json) {
		fputs("[", o->f);
		return;
	}
	for (size_t j = 0; j < o->n_cols; j++)
		ctl_csv_put(&o->csv, o->cols[j]);
	ctl_csv_end_row(&o->csv);
}

/* vals[j]: the text of column j, NULL when absent; is_bool: JSON true/false. */
static void out_row(struct out *o, const char *const *vals, unsigned long long bool_mask)
{
	if (!o->json) {
		for (size_t j = 0; j < o->n_cols; j++)
			ctl_csv_put(&o->csv, vals[j]);
		ctl_csv_end_row(&o->csv);
		o->rows++;
		return;
	}
	json_t *obj = json_object();
	for (size_t j = 0; j < o->n_cols && obj; j++) {
		if (!vals[j])
			continue;
		json_t *x = bool_mask & (1ull << j) ? json_boolean(strcmp(vals[j], "true") == 0)
						    : json_string(vals[j]);
		json_object_set_new(obj, o->cols[j], x);
	}
	char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	fprintf(o->f, "%s\n  %s", o->rows ? "," : "", s ? s : "{}");
	free(s);
	json_decref(obj);
	o->rows++;
}

static int out_end(struct out *o)
{
	if (o->json)
		fputs(o->rows ? "\n]\n" : "]\n", o->f);
	return fclose(o->f);
}

/* The shortest text that reads back as the same double (what PostgreSQL prints too). */
static const char *num(char *buf, size_t size, double v)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

static const char *when(char *buf, size_t size, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static const char *uint_or_null(char *buf, size_t size, unsigned v)
{
	if (!v)
		return NULL;
	snprintf(buf, size, "%u", v);
	return buf;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const char *const site_cols[] = {"site", "name", "description", "default_location",
					"allow_default"};
static const char *const subnet_cols[] = {"prefix", "location", "description"};
static const char *const switch_cols[] = {"switch", "site", "chassis_id", "mgmt_address",
					  "location", "description", "snmp_profile", "snmp_port",
					  "poll_interval", "poll_enabled"};
static const char *const port_cols[] = {"switch", "port", "location", "description"};
static const char *const bssid_cols[] = {"bssid", "location", "ap"};
static const char *const endpoint_cols[] = {"endpoint", "class", "mac", "uri", "tel",
					    "location"};
static const char *const mac_port_cols[] = {"mac", "switch", "port", "last_seen",
					    "first_seen", "source"};
static const char *const ip_mac_cols[] = {"ip", "mac", "last_seen", "first_seen", "source"};
static const char *const mac_bssid_cols[] = {"mac", "bssid", "last_seen", "first_seen",
					     "source"};

static int open_out(struct out *o, const char *dir, const char *name, bool json,
		    const char *const *cols, size_t n_cols)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, json ? "json" : "csv");
	*o = (struct out){fopen(path, "w"), json, cols, n_cols, 0, {NULL, "\n", 0}};
	o->csv.f = o->f;
	if (!o->f) {
		fprintf(stderr, "lisctl: export: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	out_begin(o);
	return 0;
}

static int write_all(const struct db_import_set *s, const char *dir, bool json, bool bindings)
{
	const char *location_cols[3 + CIVIC_N_FIELDS + 4];
	struct out o;
	char b[4][40];
	int rc = 0;

	if (open_out(&o, dir, "sites", json, site_cols, N(site_cols)) < 0)
		return -1;
	for (size_t i = 0; i < s->n_sites; i++) {
		const struct db_site_row *r = &s->sites[i];
		const char *v[] = {r->key, r->name, r->description, r->default_location_key,
				   r->allow_default ? "true" : "false"};
		out_row(&o, v, 1u << 4);
	}
	rc |= out_end(&o);

	size_t nc = 0;
	location_cols[nc++] = "location";
	location_cols[nc++] = "site";
	location_cols[nc++] = "lang";
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		location_cols[nc++] = civic_field_name((enum civic_field)f);
	location_cols[nc++] = "latitude";
	location_cols[nc++] = "longitude";
	location_cols[nc++] = "altitude";
	location_cols[nc++] = "uncertainty";
	if (open_out(&o, dir, "locations", json, location_cols, nc) < 0)
		return -1;
	for (size_t i = 0; i < s->n_locations; i++) {
		const struct db_location_row *r = &s->locations[i];
		const char *v[3 + CIVIC_N_FIELDS + 4];
		size_t n = 0;
		v[n++] = r->key;
		v[n++] = r->site_key;
		v[n++] = r->lang;
		for (int f = 0; f < CIVIC_N_FIELDS; f++)
			v[n++] = r->civic[f];
		v[n++] = r->has_geo ? num(b[0], sizeof(b[0]), r->lat) : NULL;
		v[n++] = r->has_geo ? num(b[1], sizeof(b[1]), r->lon) : NULL;
		v[n++] = r->has_geo && r->has_alt ? num(b[2], sizeof(b[2]), r->alt) : NULL;
		v[n++] = r->has_geo && r->uncertainty > 0 ? num(b[3], sizeof(b[3]), r->uncertainty)
							 : NULL;
		out_row(&o, v, 0);
	}
	rc |= out_end(&o);

	if (open_out(&o, dir, "subnets", json, subnet_cols, N(subnet_cols)) < 0)
		return -1;
	for (size_t i = 0; i < s->n_subnets; i++) {
		const struct db_subnet_row *r = &s->subnets[i];
		const char *v[] = {r->prefix, r->location_key, r->description};
		out_row(&o, v, 0);
	}
	rc |= out_end(&o);

	if (open_out(&o, dir, "switches", json, switch_cols, N(switch_cols)) < 0)
		return -1;
	for (size_t i = 0; i < s->n_switches; i++) {
		const struct db_switch_row *r = &s->switches[i];
		const char *v[] = {r->key, r->site_key, r->chassis_id, r->mgmt_address,
				   r->location_key, r->description, r->snmp_profile,
				   uint_or_null(b[0], sizeof(b[0]), r->snmp_port),
				   uint_or_null(b[1], sizeof(b[1]), r->poll_interval),
				   r->poll_disabled ? "false" : "true"};
		out_row(&o, v, 1u << 9);
	}
	rc |= out_end(&o);

	if (open_out(&o, dir, "ports", json, port_cols, N(port_cols)) < 0)
		return -1;
	for (size_t i = 0; i < s->n_ports; i++) {
		const struct db_port_row *r = &s->ports[i];
		const char *v[] = {r->switch_key, r->port_id, r->location_key, r->description};
		out_row(&o, v, 0);
	}
	rc |= out_end(&o);

	if (open_out(&o, dir, "bssids", json, bssid_cols, N(bssid_cols)) < 0)
		return -1;
	for (size_t i = 0; i < s->n_bssids; i++) {
		const struct db_bssid_row *r = &s->bssids[i];
		char range[40];
		snprintf(range, sizeof(range), "%s/%u", r->bssid, r->prefix_len);
		const char *v[] = {r->prefix_len == 48 ? r->bssid : range, r->location_key, r->ap};
		out_row(&o, v, 0);
	}
	rc |= out_end(&o);

	if (open_out(&o, dir, "endpoints", json, endpoint_cols, N(endpoint_cols)) < 0)
		return -1;
	for (size_t i = 0; i < s->n_endpoints; i++) {
		const struct db_endpoint_row *r = &s->endpoints[i];
		const char *v[] = {r->key, r->class_, r->mac, r->uri, r->tel, r->location_key};
		out_row(&o, v, 0);
	}
	rc |= out_end(&o);
	if (!bindings)
		return rc ? -1 : 0;

	if (open_out(&o, dir, "mac_ports", json, mac_port_cols, N(mac_port_cols)) < 0)
		return -1;
	for (size_t i = 0; i < s->n_mac_ports; i++) {
		const struct db_mac_port_row *r = &s->mac_ports[i];
		const char *v[] = {r->mac, r->switch_key, r->port_id,
				   when(b[0], sizeof(b[0]), r->seen.last_seen),
				   when(b[1], sizeof(b[1]), r->seen.first_seen), r->seen.source};
		out_row(&o, v, 0);
	}
	rc |= out_end(&o);
	if (open_out(&o, dir, "ip_macs", json, ip_mac_cols, N(ip_mac_cols)) < 0)
		return -1;
	for (size_t i = 0; i < s->n_ip_macs; i++) {
		const struct db_ip_mac_row *r = &s->ip_macs[i];
		const char *v[] = {r->ip, r->mac, when(b[0], sizeof(b[0]), r->seen.last_seen),
				   when(b[1], sizeof(b[1]), r->seen.first_seen), r->seen.source};
		out_row(&o, v, 0);
	}
	rc |= out_end(&o);
	if (open_out(&o, dir, "mac_bssids", json, mac_bssid_cols, N(mac_bssid_cols)) < 0)
		return -1;
	for (size_t i = 0; i < s->n_mac_bssids; i++) {
		const struct db_mac_bssid_row *r = &s->mac_bssids[i];
		const char *v[] = {r->mac, r->bssid, when(b[0], sizeof(b[0]), r->seen.last_seen),
				   when(b[1], sizeof(b[1]), r->seen.first_seen), r->seen.source};
		out_row(&o, v, 0);
	}
	rc |= out_end(&o);
	return rc ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: lisctl export --dir DIR [--format csv|json] [--site KEY] "
			"[--bindings]\n");
}

int ctl_cmd_export(const char *conninfo, int argc, char **argv)
{
	const char *dir = NULL, *site = NULL;
	enum ctl_format fmt = CTL_FORMAT_CSV;
	bool bindings = false;
	struct lis_error err = {0};
	struct db_wiremap w;
	struct db_conn *c;
	int rc = CTL_EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (strcmp(a, "--dir") == 0 && more) {
			dir = argv[++i];
		} else if (strcmp(a, "--site") == 0 && more) {
			site = argv[++i];
		} else if (strcmp(a, "--format") == 0 && more) {
			if (ctl_format_parse(argv[++i], &fmt) < 0) {
				fprintf(stderr, "lisctl: export: --format is csv or json, not "
						"\"%s\"\n", argv[i]);
				return CTL_EXIT_USAGE;
			}
		} else if (strcmp(a, "--bindings") == 0) {
			bindings = true;
		} else {
			fprintf(stderr, "lisctl: export: unknown or incomplete argument \"%s\"\n", a);
			usage();
			return CTL_EXIT_USAGE;
		}
	}
	if (!dir) {
		fprintf(stderr, "lisctl: export: --dir DIR is required\n");
		usage();
		return CTL_EXIT_USAGE;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "lisctl: export: cannot create %s: %s\n", dir, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	c = db_connect(conninfo, &err);
	if (!c) {
		fprintf(stderr, "lisctl: %s\n", err.msg);
		return CTL_EXIT_FAIL;
	}
	if (db_wiremap_read(c, site, bindings, &w, &err) < 0) {
		fprintf(stderr, "lisctl: export: %s\n", err.msg);
		db_close(c);
		return CTL_EXIT_FAIL;
	}
	if (site && w.set.n_sites == 0) {
		fprintf(stderr, "lisctl: export: no site \"%s\" in the database\n", site);
	} else if (write_all(&w.set, dir, fmt == CTL_FORMAT_JSON, bindings) == 0) {
		printf("exported %zu sites, %zu locations, %zu subnets, %zu switches, %zu ports, "
		       "%zu BSSIDs, %zu endpoints", w.set.n_sites, w.set.n_locations,
		       w.set.n_subnets, w.set.n_switches, w.set.n_ports, w.set.n_bssids,
		       w.set.n_endpoints);
		if (bindings)
			printf(", %zu MAC-port, %zu IP-MAC, %zu MAC-BSSID bindings",
			       w.set.n_mac_ports, w.set.n_ip_macs, w.set.n_mac_bssids);
		printf(" to %s\n", dir);
		rc = CTL_EXIT_OK;
	}
	db_wiremap_free(&w);
	db_close(c);
	return rc;
}
