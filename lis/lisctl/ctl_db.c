/* `lisctl db migrate` and `lisctl db status`. */
#include <stdio.h>

#include "ctl.h"

static struct db_conn *connect_or_say(const char *conninfo)
{
	struct lis_error err = {0};
	struct db_conn *c = db_connect(conninfo, &err);

	if (!c)
		fprintf(stderr, "lisctl: %s\n", err.msg);
	return c;
}

int ctl_cmd_db_migrate(const char *conninfo)
{
	struct lis_error err = {0};
	struct db_conn *c = connect_or_say(conninfo);
	int applied, version;

	if (!c)
		return CTL_EXIT_FAIL;
	if (db_migrate(c, &applied, &err) < 0 || db_schema_version(c, &version, &err) < 0) {
		fprintf(stderr, "lisctl: db migrate: %s\n", err.msg);
		db_close(c);
		return CTL_EXIT_FAIL;
	}
	printf("schema at version %d (applied %d)\n", version, applied);
	db_close(c);
	return CTL_EXIT_OK;
}

int ctl_cmd_db_status(const char *conninfo)
{
	struct lis_error err = {0};
	struct db_conn *c = connect_or_say(conninfo);
	int version, latest = db_schema_latest();

	if (!c)
		return CTL_EXIT_FAIL;
	if (db_schema_version(c, &version, &err) < 0) {
		fprintf(stderr, "lisctl: db status: %s\n", err.msg);
		db_close(c);
		return CTL_EXIT_FAIL;
	}
	printf("schema at version %d, latest %d (%s)\n", version, latest,
	       version == latest ? "up to date"
	       : version < latest ? "run lisctl db migrate"
				  : "newer than this lisctl");
	db_close(c);
	return CTL_EXIT_OK;
}
