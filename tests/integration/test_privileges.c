/* lisd started as root with [server] user gives root up once it has bound its port and read
 * its keys: it then runs as that user and group only, with no capability left, and goes on
 * answering, logging queries and compacting its spool. Needs root (the suite runs as root in
 * CI); skipped otherwise. */
#include "check.h"
#include "corr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct ck_env E;
static char spool_dir[400], spool_file[500];

static void test_setup_lisd_started_as_root_with_user_nobody(void)
{
	if (!ck_db_setup(&E))
		return;
	/* nobody must reach PostgreSQL's socket and the spool's folder; the folder under it is
	 * created by lisd (as root) and handed over */
	char dir[300];
	snprintf(dir, sizeof dir, "%s/ql", E.work);
	snprintf(spool_dir, sizeof spool_dir, "%s/spool", dir);
	snprintf(spool_file, sizeof spool_file, "%s/priv.spool", spool_dir);
	if (!CHECK(chmod(E.pg.dir, 0711) == 0) || !CHECK(chmod(E.work, 0711) == 0) ||
	    !CHECK(mkdir(dir, 0755) == 0))
		return;
	char sect[1024];
	snprintf(sect, sizeof sect, "[server]\nuser = nobody\n[querylog]\nspool_dir = %s\n"
		 "instance = priv\nflush_ms = 20\n", spool_dir);
	E.up = ck_lisd_start(&E, &E.lisd, sect);
}

static void test_runs_as_nobody_with_no_capability(void)
{
	char uid[128], gid[128], groups[128], caps[64], capp[64];
	th_status_field(E.lisd.pid, "Uid", uid, sizeof uid);
	th_status_field(E.lisd.pid, "Gid", gid, sizeof gid);
	th_status_field(E.lisd.pid, "Groups", groups, sizeof groups);
	th_status_field(E.lisd.pid, "CapEff", caps, sizeof caps);
	th_status_field(E.lisd.pid, "CapPrm", capp, sizeof capp);
	CHECK_STR(uid, "65534 65534 65534 65534");
	CHECK_STR(gid, "65534 65534 65534 65534");
	CHECKF(strcmp(groups, "65534") == 0 || strcmp(groups, "65534 ") == 0, "Groups: %s",
	       groups);
	CHECK_STR(caps, "0000000000000000");
	CHECK_STR(capp, "0000000000000000");
	CHECK(ck_log_has(&E.lisd, "start", "user=nobody", (char *)NULL));
}

static bool spool_is_compact(void *ctx)
{
	(void)ctx;
	char *s = th_read_file(spool_file, NULL);
	bool ok = s && strncmp(s, "M1\t", 3) == 0 && strchr(s, '\n') &&
		  strchr(s, '\n')[1] == '\0';
	free(s);
	return ok;
}

static bool rows_for_10(void *ctx)
{
	(void)ctx;
	return th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'priv' "
			   "AND requester_ip = '127.0.0.10'") >= 3;
}

static void test_answers_logs_and_compacts_its_spool_as_nobody(void)
{
	for (int i = 0; i < 3; i++) {
		char *w = ck_which(&E, &E.lisd, ck_req("civic", false), "127.0.0.10");
		CHECK_STR(w, "hq-410");
		free(w);
	}
	CHECKF(th_wait_until(60, 50, rows_for_10, NULL, NULL), "answers not in query_log");
	CHECKF(th_wait_until(60, 50, spool_is_compact, NULL, NULL), "spool not compacted");
	struct stat st;
	CHECK(stat(spool_file, &st) == 0 && st.st_uid == 65534);
	CHECK(th_lisd_stop(&E.lisd) == 0);
}

int main(void)
{
	if (geteuid() != 0) {
		t_skip("privileges", "not root: giving up root cannot be tried");
		return t_done();
	}
	t_run("setup_lisd_started_as_root_with_user_nobody",
	      test_setup_lisd_started_as_root_with_user_nobody);
	if (!E.up) {
		t_skip("privilege cases", "setup failed");
	} else {
		t_run("runs_as_nobody_with_no_capability", test_runs_as_nobody_with_no_capability);
		t_run("answers_logs_and_compacts_its_spool_as_nobody",
		      test_answers_logs_and_compacts_its_spool_as_nobody);
	}
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
