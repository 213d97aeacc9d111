/* Where lisctl finds its database: --db, else $LIS_DB, else [database] conninfo of the
 * configuration file (lis.conf(5), shared with lisd; other keys are lisd's business). */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	char **conninfo = user;

	if (strcmp(section, "database") == 0 && strcmp(name, "conninfo") == 0) {
		free(*conninfo);
		*conninfo = strdup(value);
		if (!*conninfo)
			return 0;
	}
	return 1;
}

int ctl_conninfo(const char *db_option, const char *config, char **out)
{
	const char *path = config ? config : CTL_DEFAULT_CONFIG;
	const char *env = getenv("LIS_DB");
	char *conninfo = NULL;
	int rc;

	if (db_option || env) {
		*out = strdup(db_option ? db_option : env);
		return *out ? 0 : -1;
	}
	errno = 0;
	rc = ini_parse(path, on_key, &conninfo);
	if (rc == -1 && !config && errno == ENOENT) {
		/* No configuration at all: libpq's defaults (PGHOST, PGDATABASE, ...). */
		*out = strdup("");
		return *out ? 0 : -1;
	}
	if (rc == -1) {
		fprintf(stderr, "lisctl: %s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	if (rc != 0) {
		fprintf(stderr, "lisctl: %s:%d: syntax error\n", path, rc);
		free(conninfo);
		return -1;
	}
	*out = conninfo ? conninfo : strdup("");
	return *out ? 0 : -1;
}
