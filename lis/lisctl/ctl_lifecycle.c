/* lisctl endpoint and lisctl user: offboarding (deactivate), its undoing (reactivate) and
 * the history of both (issue 11). Nothing is deleted: lisd stops answering what the row
 * vouched for (lisd(8) "Offboarding"), and the database records who did it, when and from
 * where (lifecycle_audit, migration 0012). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "db_lifecycle.h"

void ctl_endpoint_usage(FILE *out)
{
	fprintf(out, "usage: lisctl endpoint (deactivate | reactivate | history) KEY\n");
}

void ctl_user_usage(FILE *out)
{
	fprintf(out, "usage: lisctl user (deactivate | reactivate | history) KEY\n");
}

static void print_history(void *ctx, const struct db_lifecycle_row *r)
{
	(void)ctx;
	printf("%s  %-10s  by %s via %s from %s\n", r->at, r->op, r->who, r->via, r->from);
}

static int history(const char *conninfo, const char *kind, const char *key)
{
	struct lis_error err = {0};
	struct db_conn *c = db_connect(conninfo, &err);
	bool known = false, active = true;
	int rc = c ? db_lifecycle_history(c, kind, key, print_history, NULL, &known, &active,
					  &err) : -1;
	db_close(c);
	if (rc < 0) {
		fprintf(stderr, "lisctl: %s history: %s: %s\n", kind, key, err.msg);
		return CTL_EXIT_FAIL;
	}
	if (!known && strcmp(kind, "endpoint") == 0) {
		fprintf(stderr, "lisctl: endpoint history: no endpoint \"%s\" in the wiremap\n",
			key);
		return CTL_EXIT_FAIL;
	}
	printf("%s %s is %s%s\n", kind, key, active ? "active" : "deactivated",
	       known ? "" : " (no user row: active)");
	return CTL_EXIT_OK;
}

/* argv: "endpoint"|"user", the action, KEY. */
static int run(const char *conninfo, int argc, char **argv, void (*usage)(FILE *out))
{
	const char *kind = argv[0];
	const char *act = argc > 1 ? argv[1] : "", *key = argc > 2 ? argv[2] : NULL;
	bool deactivate = strcmp(act, "deactivate") == 0;
	if (argc != 3 || !*key || strpbrk(key, " \t\r\n") || key[0] == '-' ||
	    (!deactivate && strcmp(act, "reactivate") != 0 && strcmp(act, "history") != 0)) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(act, "history") == 0)
		return history(conninfo, kind, key);
	char cmd[32];
	snprintf(cmd, sizeof cmd, "%s %s", kind, act);
	struct db_conn *c = ctl_connect_as_actor(conninfo, cmd);
	if (!c)
		return CTL_EXIT_FAIL;
	struct lis_error err = {0};
	int sessions = 0;
	int n = strcmp(kind, "endpoint") == 0
		? db_endpoint_set_active(c, key, !deactivate, &err)
		: db_user_set_active(c, key, !deactivate, &sessions, &err);
	db_close(c);
	if (n < 0) {
		fprintf(stderr, "lisctl: %s: %s: %s\n", cmd, key, err.msg);
		return CTL_EXIT_FAIL;
	}
	if (!n)
		printf("%s %s was already %s\n", kind, key, deactivate ? "deactivated" : "active");
	else
		printf("%s %s %s\n", kind, key, deactivate ? "deactivated" : "reactivated");
	if (sessions)
		printf("ended %d self-service session%s of user %s\n", sessions,
		       sessions == 1 ? "" : "s", key);
	return CTL_EXIT_OK;
}

int ctl_cmd_endpoint(const char *conninfo, int argc, char **argv)
{
	return run(conninfo, argc, argv, ctl_endpoint_usage);
}

int ctl_cmd_user(const char *conninfo, int argc, char **argv)
{
	return run(conninfo, argc, argv, ctl_user_usage);
}
