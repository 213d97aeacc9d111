/* What lisctl reads of lis.conf(5), which it shares with lisd: where the database is
 * ([database] conninfo: --db, else $LIS_DB, else the file) and how old a binding may be to
 * count as evidence ([wiremap] max_binding_age, for `explain`). Other keys are lisd's. */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct reading {
	struct ctl_settings *out;
	const char *path;
	int bad_line;              /* line of a bad value, 0 when none */
	char why[128];
};

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct reading *r = user;

	if (strcmp(section, "database") == 0 && strcmp(name, "conninfo") == 0) {
		free(r->out->conninfo);
		r->out->conninfo = strdup(value);
		return r->out->conninfo != NULL;
	}
	if (strcmp(section, "wiremap") == 0 && strcmp(name, "max_binding_age") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || end == value || *end || v == 0 || v > UINT_MAX || value[0] == '-') {
			snprintf(r->why, sizeof r->why,
				 "[wiremap] max_binding_age \"%.40s\" is not a number of seconds", value);
			return 0;
		}
		r->out->max_binding_age = (unsigned)v;
	}
	return 1;
}

void ctl_settings_clear(struct ctl_settings *s)
{
	if (!s)
		return;
	free(s->conninfo);
	memset(s, 0, sizeof *s);
}

int ctl_settings_read(const char *db_option, const char *config, struct ctl_settings *out)
{
	const char *path = config ? config : CTL_DEFAULT_CONFIG;
	const char *env = getenv("LIS_DB");
	struct reading r = {.out = out, .path = path};

	memset(out, 0, sizeof *out);
	errno = 0;
	int rc = ini_parse(path, on_key, &r);
	if (rc == -1 && !config && errno == ENOENT) {
		/* No configuration at all: libpq's defaults (PGHOST, PGDATABASE, ...). */
		rc = 0;
	} else if (rc == -1) {
		fprintf(stderr, "lisctl: %s: cannot open: %s\n", path, strerror(errno));
		return -1;
	} else if (rc != 0) {
		if (r.why[0])
			fprintf(stderr, "lisctl: %s:%d: %s\n", path, rc, r.why);
		else
			fprintf(stderr, "lisctl: %s:%d: syntax error\n", path, rc);
		ctl_settings_clear(out);
		return -1;
	}
	if (db_option || env) {
		free(out->conninfo);
		out->conninfo = strdup(db_option ? db_option : env);
	} else if (!out->conninfo) {
		out->conninfo = strdup("");
	}
	if (!out->conninfo) {
		fprintf(stderr, "lisctl: out of memory\n");
		return -1;
	}
	return 0;
}
