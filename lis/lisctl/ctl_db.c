/* `lisctl db migrate`, `lisctl db status` and `lisctl purge` (retention of the query log and
 * of the notifications). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "db_lease.h"
#include "db_notify.h"
#include "db_querylog.h"

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
	/* wiremapd(8) LEASE: which collector polls now */
	struct db_lease_holder h;
	int held = db_lease_holder(c, &h, &err);
	if (held < 0) {
		fprintf(stderr, "lisctl: db status: %s\n", err.msg);
		db_close(c);
		return CTL_EXIT_FAIL;
	}
	if (held)
		printf("collector lease held by %s (host %s, pid %ld) since %s, renewed %lds ago\n",
		       h.instance, h.host, h.pid, h.since, h.renewed_ago);
	else if (version >= DB_LEASE_SCHEMA)
		printf("collector lease held by nobody\n");
	db_close(c);
	return CTL_EXIT_OK;
}

int ctl_parse_count(const char *cmd, const char *opt, const char *text, long lo, long hi,
		    const char *unit, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || *end || end == text || v < lo || v > hi) {
		fprintf(stderr, "lisctl: %s: %s \"%s\" is not a number of %s (%ld to %ld)\n", cmd,
			opt, text, unit, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

void ctl_db_usage(FILE *out)
{
	fprintf(out, "usage: lisctl db migrate|status\n");
}

void ctl_purge_usage(FILE *out)
{
	fprintf(out, "usage: lisctl purge (--older-than DAYS | --before T) [--dry-run]\n");
}

static int purge_usage(void)
{
	ctl_purge_usage(stderr);
	return CTL_EXIT_USAGE;
}

int ctl_cmd_purge(const char *conninfo, int argc, char **argv)
{
	const char *days = NULL, *before = NULL;
	bool dry_run = false;
	for (int i = 1; i < argc; i++) {
		int r;
		if (strcmp(argv[i], "--dry-run") == 0)
			dry_run = true;
		else if ((r = ctl_take_opt(argc, argv, &i, "--older-than", &days)) != 0 ||
			 (r = ctl_take_opt(argc, argv, &i, "--before", &before)) != 0) {
			if (r < 0)
				return purge_usage();
		} else {
			fprintf(stderr, "lisctl: purge: unknown option \"%s\"\n", argv[i]);
			return purge_usage();
		}
	}
	if (!days == !before) {
		fprintf(stderr, "lisctl: purge: give --older-than or --before (one of them)\n");
		return purge_usage();
	}
	time_t cut;
	if (days) {
		long d;
		if (ctl_parse_count("purge", "--older-than", days, 1, 36500, "days", &d) < 0)
			return CTL_EXIT_USAGE;
		cut = time(NULL) - (time_t)d * 86400;
	} else if (ctl_parse_when(before, &cut) < 0) {
		fprintf(stderr, "lisctl: purge: --before \"%s\" is not a date (2026-11-01) or a "
			"timestamp with its zone (2026-11-01T08:00:00Z)\n", before);
		return CTL_EXIT_USAGE;
	}
	if (cut > time(NULL)) {
		fprintf(stderr, "lisctl: purge: --before is in the future: that would purge the "
			"query log of today\n");
		return CTL_EXIT_USAGE;
	}
	char when[32];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&cut));
	struct lis_error err = {0};
	struct db_conn *c = connect_or_say(conninfo);
	if (!c)
		return CTL_EXIT_FAIL;
	long long n, nn = 0;
	int rc = db_query_log_purge(c, when, dry_run, &n, &err);
	if (rc < 0) {
		db_close(c);
		fprintf(stderr, "lisctl: purge: %s (%lld entries purged before that)\n", err.msg, n);
		return CTL_EXIT_FAIL;
	}
	printf("%s %lld query-log entries answered before %s (each lisd's newest entry is kept)\n",
	       dry_run ? "would purge" : "purged", n, when);
	/* lisd(8) NOTIFICATIONS: the outbox and its log go with the query log they came from */
	rc = db_notify_purge(c, when, dry_run, &nn, &err);
	db_close(c);
	if (rc < 0) {
		fprintf(stderr, "lisctl: purge: %s\n", err.msg);
		return CTL_EXIT_FAIL;
	}
	printf("%s %lld notifications opened before %s (none with a delivery pending), with "
	       "their deliveries and log\n", dry_run ? "would purge" : "purged", nn, when);
	return CTL_EXIT_OK;
}
