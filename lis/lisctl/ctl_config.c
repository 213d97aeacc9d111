/* What lisctl reads of lis.conf(5), which it shares with lisd: where the database is
 * ([database] conninfo: --db, else $LIS_DB, else the file) and how old a binding may be to
 * count as evidence ([wiremap] max_binding_age, for `explain` and the reports). The file is
 * read whole through lisd's key table (lis/conf), so that lisctl refuses the files lisd
 * refuses, with the same words, and takes the same defaults. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "lis_conf.h"

void ctl_settings_clear(struct ctl_settings *s)
{
	if (!s)
		return;
	free(s->conninfo);
	lis_config_free(&s->cfg);
	memset(s, 0, sizeof *s);
}

int ctl_settings_read(const char *db_option, const char *config, struct ctl_settings *out,
		      struct lis_error *err)
{
	const char *path = config ? config : LIS_CONFIG_DEFAULT_FILE;
	const char *env = getenv("LIS_DB");

	memset(out, 0, sizeof *out);
	/* lisctl(8): without the default file (and no -c), libpq's own defaults apply (PGHOST,
	 * PGDATABASE, ...), not the table's dbname=lis. A file that is there but cannot be read
	 * is an error. */
	bool no_file = !config && access(path, F_OK) < 0 && errno == ENOENT;
	if (lis_conf_load(&out->cfg, no_file ? NULL : path, err) < 0) {
		lis_config_free(&out->cfg);
		return -1;
	}
	out->conninfo = strdup(db_option ? db_option : env ? env : no_file ? ""
								      : out->cfg.conninfo);
	/* at most 315360000 (the table's limit): fits */
	out->max_binding_age = (unsigned)out->cfg.max_binding_age;
	out->include_device_id = out->cfg.include_device_id;
	if (!out->conninfo)
		return lis_error_set(err, LIS_E_SYSTEM, "out of memory");
	return 0;
}

int ctl_take_opt(int argc, char **argv, int *i, const char *name, const char **out)
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

int ctl_parse_when(const char *s, time_t *out)
{
	int y, m, d, n = 0;
	if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10) {
		char buf[32];
		snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
		return ctl_parse_timestamp(buf, out);
	}
	return ctl_parse_timestamp(s, out);
}
