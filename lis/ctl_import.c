/* `lisctl import`: validate every given CSV file, then write them in one transaction. */
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

int ctl_cmd_import(const char *conninfo, int argc, char **argv)
{
	const char *sites_path = NULL, *locations_path = NULL, *subnets_path = NULL;
	static struct ctl_errors errs; /* large: not on the stack */
	struct ctl_sites sites = {0};
	struct ctl_locations locations = {0};
	struct ctl_subnets subnets = {0};
	struct db_import_stats st;
	struct lis_error err = {0};
	struct db_conn *c;
	int rc = CTL_EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		int r = file_option(argc, argv, &i, "--sites", &sites_path);
		if (r == 0)
			r = file_option(argc, argv, &i, "--locations", &locations_path);
		if (r == 0)
			r = file_option(argc, argv, &i, "--subnets", &subnets_path);
		if (r == 0)
			fprintf(stderr, "lisctl: import: unknown argument \"%s\"\n", argv[i]);
		if (r <= 0) {
			fprintf(stderr, "usage: lisctl import [--sites FILE] [--locations FILE] "
					"[--subnets FILE]\n");
			return CTL_EXIT_USAGE;
		}
	}
	if (!sites_path && !locations_path && !subnets_path) {
		fprintf(stderr, "lisctl: import: name at least one of --sites, --locations, "
				"--subnets\n");
		return CTL_EXIT_USAGE;
	}

	/* Every file is checked, even after one failed, so that one run shows all errors. */
	memset(&errs, 0, sizeof(errs));
	if (sites_path)
		ctl_load_sites(sites_path, &sites, &errs);
	if (locations_path)
		ctl_load_locations(locations_path, &locations, &errs);
	if (subnets_path)
		ctl_load_subnets(subnets_path, &subnets, &errs);
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
		sites.rows, sites.n, locations.rows, locations.n, subnets.rows, subnets.n,
	};
	if (db_import(c, &set, &st, &err) < 0) {
		fprintf(stderr, "%s\nlisctl: import: nothing written\n", err.msg);
	} else {
		printf("imported %zu sites (%zu changed), %zu locations (%zu changed), "
		       "%zu subnets (%zu changed)\n", sites.n, st.sites, locations.n,
		       st.locations, subnets.n, st.subnets);
		rc = CTL_EXIT_OK;
	}
	db_close(c);
out:
	ctl_sites_free(&sites);
	ctl_locations_free(&locations);
	ctl_subnets_free(&subnets);
	return rc;
}
