/* `lisctl import`: read every given file (CSV or JSON), check each on its own, then all of
 * them against each other and the database, and only then write them in one transaction
 * (or, with --dry-run, write them and roll back, to say what would change). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* --NAME FILE or --NAME=FILE at argv[*i]; advances *i past what it used. */
static int file_option(int argc, char **argv, int *i, const char *name, const char **out)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "lisctl: %s needs a value\n", name);
		return -1;
	}
	*out = argv[++*i];
	return 1;
}

/* Indexed by enum db_entity. */
static const char *const options[DB_ENTITY_N] = {
	"--sites", "--locations", "--subnets", "--switches", "--ports", "--bssids", "--endpoints",
	"--mac-ports", "--ip-macs", "--mac-bssids",
};
static const char *const nouns[DB_ENTITY_N] = {
	"sites", "locations", "subnets", "switches", "ports", "BSSIDs", "endpoints",
	"MAC-port bindings", "IP-MAC bindings", "MAC-BSSID bindings",
};

static void usage(void)
{
	fprintf(stderr, "usage: lisctl import [--sites FILE] [--locations FILE] [--subnets FILE]\n"
			"         [--switches FILE] [--ports FILE] [--bssids FILE] "
			"[--endpoints FILE]\n"
			"         [--mac-ports FILE] [--ip-macs FILE] [--mac-bssids FILE]\n"
			"         [--format csv|json] [--dry-run [--verbose]] [--replace SCOPE]\n"
			"         [--no-warnings]\n"
			"SCOPE: site:KEY, or an entity (sites, locations, subnets, switches, ports,\n"
			"       bssids, endpoints, mac-ports, ip-macs, mac-bssids); repeatable\n");
}

/* Row i of entity e as its key, for --verbose and for "added or changed". */
static const char *row_key(const struct db_import_set *s, enum db_entity e, size_t i,
			   char *buf, size_t size)
{
	switch (e) {
	case DB_SITES: return s->sites[i].key;
	case DB_LOCATIONS: return s->locations[i].key;
	case DB_SUBNETS: return s->subnets[i].prefix;
	case DB_SWITCHES: return s->switches[i].key;
	case DB_PORTS:
		snprintf(buf, size, "%s %s", s->ports[i].switch_key, s->ports[i].port_id);
		return buf;
	case DB_BSSIDS:
		snprintf(buf, size, "%s/%u", s->bssids[i].bssid, s->bssids[i].prefix_len);
		return buf;
	case DB_ENDPOINTS: return s->endpoints[i].key;
	case DB_MAC_PORTS:
		snprintf(buf, size, "%s %s %s", s->mac_ports[i].mac, s->mac_ports[i].switch_key,
			 s->mac_ports[i].port_id);
		return buf;
	case DB_IP_MACS:
		snprintf(buf, size, "%s %s", s->ip_macs[i].ip, s->ip_macs[i].mac);
		return buf;
	case DB_MAC_BSSIDS:
		snprintf(buf, size, "%s %s", s->mac_bssids[i].mac, s->mac_bssids[i].bssid);
		return buf;
	case DB_ENTITY_N: break;
	}
	return "";
}

static size_t set_count(const struct db_import_set *s, enum db_entity e)
{
	const size_t n[DB_ENTITY_N] = {
		s->n_sites, s->n_locations, s->n_subnets, s->n_switches, s->n_ports, s->n_bssids,
		s->n_endpoints, s->n_mac_ports, s->n_ip_macs, s->n_mac_bssids,
	};
	return n[e];
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys the database holds, per entity, sorted (strdup'd). */
struct keys {
	char **k;
	size_t n;
};
static int keys_build(struct keys *out, const struct db_import_set *s, enum db_entity e)
{
	char buf[600];

	out->n = set_count(s, e);
	out->k = calloc(out->n + 1, sizeof(*out->k));
	if (!out->k)
		return -1;
	for (size_t i = 0; i < out->n; i++)
		if (!(out->k[i] = strdup(row_key(s, e, i, buf, sizeof(buf)))))
			return -1;
	qsort(out->k, out->n, sizeof(*out->k), cmp_str);
	return 0;
}
static bool keys_have(const struct keys *k, const char *key)
{
	return k->n && bsearch(&key, k->k, k->n, sizeof(*k->k), cmp_str) != NULL;
}
static void keys_free(struct keys *k)
{
	for (size_t i = 0; k->k && i < k->n; i++)
		free(k->k[i]);
	free(k->k);
}

/* Removed rows' keys, for --verbose. */
struct removed {
	char **key;
	enum db_entity *e;
	size_t n, cap;
};
static void on_removed(void *ctx, enum db_entity e, const char *key)
{
	struct removed *r = ctx;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		char **k = realloc(r->key, cap * sizeof(*k));
		if (k)
			r->key = k;
		enum db_entity *x = realloc(r->e, cap * sizeof(*x));
		if (x)
			r->e = x;
		if (!k || !x)
			return;
		r->cap = cap;
	}
	if ((r->key[r->n] = strdup(key)))
		r->e[r->n++] = e;
}

/* --replace SCOPE, once or more: site:KEY (alone) or entity names. */
static int parse_scope(const char *s, const char **site, unsigned *entities)
{
	static const char *const names[DB_ENTITY_N] = {
		"sites", "locations", "subnets", "switches", "ports", "bssids", "endpoints",
		"mac-ports", "ip-macs", "mac-bssids",
	};

	if (strncmp(s, "site:", 5) == 0 && s[5]) {
		if (*site) {
			fprintf(stderr, "lisctl: import: --replace names one site at most\n");
			return -1;
		}
		*site = s + 5;
		return 0;
	}
	for (int e = 0; e < DB_ENTITY_N; e++)
		if (strcmp(s, names[e]) == 0) {
			*entities |= 1u << e;
			return 0;
		}
	fprintf(stderr, "lisctl: import: --replace %s: not site:KEY nor an entity (sites, "
			"locations, subnets, switches, ports, bssids, endpoints, mac-ports, "
			"ip-macs, mac-bssids)\n", s);
	return -1;
}

int ctl_cmd_import(const char *conninfo, int argc, char **argv)
{
	const char *path[DB_ENTITY_N] = {0}, *fmt_name = NULL, *replace_site = NULL;
	static struct ctl_errors errs, warns; /* large: not on the stack */
	struct ctl_sites sites = {0};
	struct ctl_locations locations = {0};
	struct ctl_subnets subnets = {0};
	struct ctl_switches switches = {0};
	struct ctl_ports ports = {0};
	struct ctl_bssids bssids = {0};
	struct ctl_endpoints endpoints = {0};
	struct ctl_mac_ports mac_ports = {0};
	struct ctl_ip_macs ip_macs = {0};
	struct ctl_mac_bssids mac_bssids = {0};
	enum ctl_format fmt = CTL_FORMAT_AUTO;
	struct db_import_stats st;
	struct db_import_opts opts = {0};
	struct db_wiremap stored = {0};
	struct keys have[DB_ENTITY_N] = {0};
	struct removed removed = {0};
	struct lis_error err = {0};
	struct db_conn *c = NULL;
	bool any = false, dry_run = false, verbose = false, no_warnings = false, bindings = false;
	unsigned replace = 0;
	int rc = CTL_EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		const char *scope = NULL;
		int r = 0;
		if (strcmp(argv[i], "--dry-run") == 0) {
			dry_run = true;
			continue;
		} else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
			verbose = true;
			continue;
		} else if (strcmp(argv[i], "--no-warnings") == 0) {
			no_warnings = true;
			continue;
		}
		for (int f = 0; f < DB_ENTITY_N && r == 0; f++)
			r = file_option(argc, argv, &i, options[f], &path[f]);
		if (r == 0 && (r = file_option(argc, argv, &i, "--format", &fmt_name)) == 1 &&
		    ctl_format_parse(fmt_name, &fmt) < 0) {
			fprintf(stderr, "lisctl: import: --format is csv or json, not \"%s\"\n",
				fmt_name);
			r = -1;
		}
		if (r == 0 && (r = file_option(argc, argv, &i, "--replace", &scope)) == 1 &&
		    parse_scope(scope, &replace_site, &replace) < 0)
			r = -1;
		if (r == 0)
			fprintf(stderr, "lisctl: import: unknown argument \"%s\"\n", argv[i]);
		if (r <= 0) {
			usage();
			return CTL_EXIT_USAGE;
		}
	}
	for (int f = 0; f < DB_ENTITY_N; f++)
		any |= path[f] != NULL;
	if (!any) {
		fprintf(stderr, "lisctl: import: name at least one file\n");
		usage();
		return CTL_EXIT_USAGE;
	}
	if (replace_site && replace) {
		fprintf(stderr, "lisctl: import: --replace site:KEY and --replace ENTITY do not "
				"mix: run them one after the other\n");
		return CTL_EXIT_USAGE;
	}
	for (int e = 0; e < DB_ENTITY_N; e++) {
		if ((replace & (1u << e)) && !path[e]) {
			fprintf(stderr, "lisctl: import: --replace %s needs %s FILE: without the "
					"file every row would be removed\n", options[e] + 2,
				options[e]);
			return CTL_EXIT_USAGE;
		}
		/* A site scope covers the site's rows of each kind whose file is given. */
		if (replace_site && path[e] && e != DB_SITES)
			replace |= 1u << e;
	}
	bindings = path[DB_MAC_PORTS] || path[DB_IP_MACS] || path[DB_MAC_BSSIDS];

	/* Every file is checked, even after one failed, so that one run shows all errors. */
	memset(&errs, 0, sizeof(errs));
	memset(&warns, 0, sizeof(warns));
	if (path[DB_SITES])
		ctl_load_sites_as(path[DB_SITES], fmt, &sites, &errs);
	if (path[DB_LOCATIONS])
		ctl_load_locations_as(path[DB_LOCATIONS], fmt, &locations, &errs);
	if (path[DB_SUBNETS])
		ctl_load_subnets_as(path[DB_SUBNETS], fmt, &subnets, &errs);
	if (path[DB_SWITCHES])
		ctl_load_switches_as(path[DB_SWITCHES], fmt, &switches, &errs);
	if (path[DB_PORTS])
		ctl_load_ports_as(path[DB_PORTS], fmt, &ports, &errs);
	if (path[DB_BSSIDS])
		ctl_load_bssids_as(path[DB_BSSIDS], fmt, &bssids, &errs);
	if (path[DB_ENDPOINTS])
		ctl_load_endpoints_as(path[DB_ENDPOINTS], fmt, &endpoints, &errs);
	if (path[DB_MAC_PORTS])
		ctl_load_mac_ports_as(path[DB_MAC_PORTS], fmt, &mac_ports, &errs);
	if (path[DB_IP_MACS])
		ctl_load_ip_macs_as(path[DB_IP_MACS], fmt, &ip_macs, &errs);
	if (path[DB_MAC_BSSIDS])
		ctl_load_mac_bssids_as(path[DB_MAC_BSSIDS], fmt, &mac_bssids, &errs);
	const struct db_import_set set = {
		.sites = sites.rows, .n_sites = sites.n,
		.locations = locations.rows, .n_locations = locations.n,
		.subnets = subnets.rows, .n_subnets = subnets.n,
		.switches = switches.rows, .n_switches = switches.n,
		.ports = ports.rows, .n_ports = ports.n,
		.bssids = bssids.rows, .n_bssids = bssids.n,
		.endpoints = endpoints.rows, .n_endpoints = endpoints.n,
		.mac_ports = mac_ports.rows, .n_mac_ports = mac_ports.n,
		.ip_macs = ip_macs.rows, .n_ip_macs = ip_macs.n,
		.mac_bssids = mac_bssids.rows, .n_mac_bssids = mac_bssids.n,
	};
	if (errs.total == 0) {
		c = db_connect(conninfo, &err);
		if (!c) {
			fprintf(stderr, "lisctl: %s\n", err.msg);
			goto out;
		}
		/* The files against each other and against what is stored. */
		if (db_wiremap_read(c, NULL, bindings, &stored, &err) < 0) {
			fprintf(stderr, "lisctl: import: %s\n", err.msg);
			goto out;
		}
		ctl_check_wiremap(&set, &stored.set, &errs, &warns);
		if (replace_site) {
			bool known = false;
			for (size_t i = 0; i < stored.set.n_sites && !known; i++)
				known = strcmp(stored.set.sites[i].key, replace_site) == 0;
			for (size_t i = 0; i < set.n_sites && !known; i++)
				known = strcmp(set.sites[i].key, replace_site) == 0;
			if (!known)
				ctl_errors_add(&errs, "--replace site:%s: no such site in the files or "
					       "the database", replace_site);
		}
	}
	if (!no_warnings && warns.total > 0) {
		ctl_errors_print(&warns, stderr);
		fprintf(stderr, "lisctl: import: %zu warning%s\n", warns.total,
			warns.total == 1 ? "" : "s");
	}
	if (errs.total > 0) {
		ctl_errors_print(&errs, stderr);
		fprintf(stderr, "lisctl: import: %zu error%s, nothing written\n", errs.total,
			errs.total == 1 ? "" : "s");
		goto out;
	}

	opts.dry_run = dry_run;
	opts.replace = replace;
	opts.replace_site = replace_site;
	opts.removed = on_removed;
	opts.ctx = &removed;
	for (int e = 0; e < DB_ENTITY_N; e++) {
		opts.row_changed[e] = calloc(set_count(&set, e) + 1, sizeof(bool));
		if (!opts.row_changed[e] || keys_build(&have[e], &stored.set, e) < 0) {
			fprintf(stderr, "lisctl: import: out of memory\n");
			goto out;
		}
	}
	if (db_import_ex(c, &set, &opts, &st, &err) < 0) {
		fprintf(stderr, "%s\nlisctl: import: nothing written\n", err.msg);
		goto out;
	}
	if (!dry_run) {
		const size_t changed[DB_ENTITY_N] = {
			st.sites, st.locations, st.subnets, st.switches, st.ports, st.bssids,
			st.endpoints, st.mac_ports, st.ip_macs, st.mac_bssids,
		};
		const char *sep = "imported ";
		/* One count per file given, in the order they are written. */
		for (int f = 0; f < DB_ENTITY_N; f++) {
			if (!path[f])
				continue;
			printf("%s%zu %s (%zu changed", sep, set_count(&set, f), nouns[f], changed[f]);
			if (replace & (1u << f))
				printf(", %zu removed", st.removed[f]);
			printf(")");
			sep = ", ";
		}
		printf("\n");
	} else {
		printf("dry run: nothing written\n");
	}
	for (int e = 0; e < DB_ENTITY_N && (dry_run || verbose); e++) {
		size_t added = 0, changed = 0, same = 0;
		char buf[600];
		if (!path[e])
			continue;
		for (size_t i = 0; i < set_count(&set, e); i++) {
			if (!opts.row_changed[e][i])
				same++;
			else if (keys_have(&have[e], row_key(&set, e, i, buf, sizeof(buf))))
				changed++;
			else
				added++;
		}
		printf("%s: added %zu, changed %zu, ", nouns[e], added, changed);
		if (replace & (1u << e))
			printf("removed %zu, ", st.removed[e]);
		printf("unchanged %zu\n", same);
		for (size_t i = 0; verbose && i < set_count(&set, e); i++) {
			const char *k = row_key(&set, e, i, buf, sizeof(buf));
			if (opts.row_changed[e][i])
				printf("  %s %s\n", keys_have(&have[e], k) ? "changed" : "added", k);
		}
		for (size_t i = 0; verbose && i < removed.n; i++)
			if (removed.e[i] == (enum db_entity)e)
				printf("  removed %s\n", removed.key[i]);
	}
	rc = CTL_EXIT_OK;
out:
	db_close(c);
	db_wiremap_free(&stored);
	for (int e = 0; e < DB_ENTITY_N; e++) {
		free(opts.row_changed[e]);
		keys_free(&have[e]);
	}
	for (size_t i = 0; i < removed.n; i++)
		free(removed.key[i]);
	free(removed.key);
	free(removed.e);
	ctl_sites_free(&sites);
	ctl_locations_free(&locations);
	ctl_subnets_free(&subnets);
	ctl_switches_free(&switches);
	ctl_ports_free(&ports);
	ctl_bssids_free(&bssids);
	ctl_endpoints_free(&endpoints);
	ctl_mac_ports_free(&mac_ports);
	ctl_ip_macs_free(&ip_macs);
	ctl_mac_bssids_free(&mac_bssids);
	return rc;
}
