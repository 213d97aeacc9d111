/* `lisctl import`: validate every given CSV file, then write them in one transaction. */
#include <stdbool.h>
#include <stdio.h>
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
		fprintf(stderr, "lisctl: %s needs a FILE\n", name);
		return -1;
	}
	*out = argv[++*i];
	return 1;
}

enum {
	F_SITES, F_LOCATIONS, F_SUBNETS, F_SWITCHES, F_PORTS, F_BSSIDS, F_ENDPOINTS, F_MAC_PORTS,
	F_IP_MACS, F_MAC_BSSIDS, F_N
};
static const char *const options[F_N] = {
	"--sites", "--locations", "--subnets", "--switches", "--ports", "--bssids", "--endpoints",
	"--mac-ports", "--ip-macs", "--mac-bssids",
};
static const char *const nouns[F_N] = {
	"sites", "locations", "subnets", "switches", "ports", "BSSIDs", "endpoints",
	"MAC-port bindings", "IP-MAC bindings", "MAC-BSSID bindings",
};

static void usage(void)
{
	fprintf(stderr, "usage: lisctl import [--sites FILE] [--locations FILE] [--subnets FILE]\n"
			"         [--switches FILE] [--ports FILE] [--bssids FILE] "
			"[--endpoints FILE]\n"
			"         [--mac-ports FILE] [--ip-macs FILE] [--mac-bssids FILE]\n");
}

int ctl_cmd_import(const char *conninfo, int argc, char **argv)
{
	const char *path[F_N] = {0};
	static struct ctl_errors errs; /* large: not on the stack */
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
	struct db_import_stats st;
	struct lis_error err = {0};
	struct db_conn *c;
	bool any = false;
	int rc = CTL_EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		int r = 0;
		for (int f = 0; f < F_N && r == 0; f++)
			r = file_option(argc, argv, &i, options[f], &path[f]);
		if (r == 0)
			fprintf(stderr, "lisctl: import: unknown argument \"%s\"\n", argv[i]);
		if (r <= 0) {
			usage();
			return CTL_EXIT_USAGE;
		}
	}
	for (int f = 0; f < F_N; f++)
		any |= path[f] != NULL;
	if (!any) {
		fprintf(stderr, "lisctl: import: name at least one file\n");
		usage();
		return CTL_EXIT_USAGE;
	}

	/* Every file is checked, even after one failed, so that one run shows all errors. */
	memset(&errs, 0, sizeof(errs));
	if (path[F_SITES])
		ctl_load_sites(path[F_SITES], &sites, &errs);
	if (path[F_LOCATIONS])
		ctl_load_locations(path[F_LOCATIONS], &locations, &errs);
	if (path[F_SUBNETS])
		ctl_load_subnets(path[F_SUBNETS], &subnets, &errs);
	if (path[F_SWITCHES])
		ctl_load_switches(path[F_SWITCHES], &switches, &errs);
	if (path[F_PORTS])
		ctl_load_ports(path[F_PORTS], &ports, &errs);
	if (path[F_BSSIDS])
		ctl_load_bssids(path[F_BSSIDS], &bssids, &errs);
	if (path[F_ENDPOINTS])
		ctl_load_endpoints(path[F_ENDPOINTS], &endpoints, &errs);
	if (path[F_MAC_PORTS])
		ctl_load_mac_ports(path[F_MAC_PORTS], &mac_ports, &errs);
	if (path[F_IP_MACS])
		ctl_load_ip_macs(path[F_IP_MACS], &ip_macs, &errs);
	if (path[F_MAC_BSSIDS])
		ctl_load_mac_bssids(path[F_MAC_BSSIDS], &mac_bssids, &errs);
	if (errs.total > 0) {
		ctl_errors_print(&errs, stderr);
		fprintf(stderr, "lisctl: import: %zu error%s, nothing written\n", errs.total,
			errs.total == 1 ? "" : "s");
		goto out;
	}

	c = db_connect(conninfo, &err);
	if (!c) {
		fprintf(stderr, "lisctl: %s\n", err.msg);
		goto out;
	}
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
	if (db_import(c, &set, &st, &err) < 0) {
		fprintf(stderr, "%s\nlisctl: import: nothing written\n", err.msg);
	} else {
		const size_t read[F_N] = {
			sites.n, locations.n, subnets.n, switches.n, ports.n, bssids.n, endpoints.n,
			mac_ports.n, ip_macs.n, mac_bssids.n,
		};
		const size_t changed[F_N] = {
			st.sites, st.locations, st.subnets, st.switches, st.ports, st.bssids,
			st.endpoints, st.mac_ports, st.ip_macs, st.mac_bssids,
		};
		const char *sep = "imported ";
		/* One count per file given, in the order they are written. */
		for (int f = 0; f < F_N; f++) {
			if (!path[f])
				continue;
			printf("%s%zu %s (%zu changed)", sep, read[f], nouns[f], changed[f]);
			sep = ", ";
		}
		printf("\n");
		rc = CTL_EXIT_OK;
	}
	db_close(c);
out:
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
