/* Several PostgreSQL servers, one primary (issue 14): lisd with a conninfo that lists a
 * primary and its streaming standby (target_session_attrs=read-write) keeps answering from
 * memory while the primary crashes and the standby is promoted, writes its query log to the
 * new primary exactly once, and takes wiremap changes made on the new primary. */
#include "check.h"
#include "corr.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSTANCE "lisd-failover"
#define LOAD_FROM "127.0.0.11"      /* sw1 Gi1/0/8: hq-floor4 */

static struct ck_env E;
static struct th_pg standby;
static char both[1200];             /* conninfo naming both servers */
static bool up;

static bool located(void *ctx)
{
	const char *want = ctx;
	char *w = ck_which(&E, &E.lisd, ck_req(NULL, false), "127.0.0.10");
	bool ok = strcmp(w, want) == 0;
	free(w);
	return ok;
}

static void test_setup_primary_standby_and_lisd_on_both(void)
{
	if (!ck_db_setup(&E))
		return;
	if (!CHECK(th_pg_standby_start(&E.pg, &standby, true) == 0))
		return;
	if (!CHECKF(th_pg_wait_replayed(&E.pg, &standby, 60), "standby never caught up"))
		return;
	/* The standby is read-only: libpq skips it while the primary is up. */
	snprintf(both, sizeof both, "host=%s,%s user=postgres dbname=lis "
		 "target_session_attrs=read-write", E.pg.dir, standby.dir);
	char *d = th_tmpdir("fospool");
	if (!CHECK(d != NULL))
		return;
	char sect[1200];
	snprintf(sect, sizeof sect, "[wiremap]\nmax_binding_age = 86400\n"
		 "[querylog]\nspool_dir = %s/spool\ninstance = " INSTANCE "\nbatch = 100\n"
		 "flush_ms = 50\n", d);
	if (!CHECK(th_lisd_start(&E.lisd, "127.0.0.1", &E.tls, both, NULL, sect) == 0))
		return;
	if (!CHECKF(th_wait_until(60, 100, located, "hq-410", NULL),
		    "lisd never located 127.0.0.10 from its snapshot")) {
		ck_log_tail(&E.lisd, 1500);
		return;
	}
	up = true;
}

/* ---- HELD load while the primary dies ---- */

static atomic_bool load_stop;
static atomic_long answered, failed;
static char first_failure[200];

static void *load(void *arg)
{
	(void)arg;
	while (!atomic_load(&load_stop)) {
		char *w = ck_which(&E, &E.lisd, ck_req("civic", false), LOAD_FROM);
		if (strcmp(w, "hq-floor4") == 0) {
			atomic_fetch_add(&answered, 1);
		} else if (atomic_fetch_add(&failed, 1) == 0) {
			snprintf(first_failure, sizeof first_failure, "%s", w);
		}
		free(w);
	}
	return NULL;
}

static bool answered_at_least(void *ctx)
{
	return atomic_load(&answered) >= *(long *)ctx;
}

static void test_primary_killed_standby_promoted_every_request_answered(void)
{
	pthread_t th;
	if (!CHECK(pthread_create(&th, NULL, load, NULL) == 0))
		return;
	long n = 50;
	CHECKF(th_wait_until(60, 20, answered_at_least, &n, NULL), "no load before the crash");
	/* An immediate shutdown is a crash to the clients: no checkpoint, connections cut. */
	CHECK(th_pg_kill(&E.pg, SIGQUIT) == 0);
	n = atomic_load(&answered) + 50;
	CHECKF(th_wait_until(60, 20, answered_at_least, &n, NULL), "no answers without a primary");
	CHECK(th_pg_promote(&standby) == 0);
	n = atomic_load(&answered) + 50;
	CHECKF(th_wait_until(60, 20, answered_at_least, &n, NULL), "no answers after promotion");
	atomic_store(&load_stop, true);
	pthread_join(th, NULL);
	t_diag("answered %ld requests, %ld failed", atomic_load(&answered), atomic_load(&failed));
	CHECKF(atomic_load(&failed) == 0, "%ld requests not answered right, the first: %s",
	       atomic_load(&failed), first_failure);
	/* From here on the new primary is the database. */
	E.pg = standby;
}

struct rows_ctx {
	long want, got;
};

static bool rows_logged(void *ctx)
{
	struct rows_ctx *c = ctx;
	c->got = th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = '"
			     INSTANCE "' AND requester_ip = '" LOAD_FROM "'");
	return c->got >= c->want;
}

static void test_query_log_on_new_primary_has_every_answer_once(void)
{
	struct rows_ctx c = {atomic_load(&answered), 0};
	double dt = 0;
	bool ok = th_wait_until(60, 100, rows_logged, &c, &dt);
	CHECKF(ok, "%ld rows of %ld answers after 60 s", c.got, c.want);
	if (ok)
		t_diag("spool drained into the new primary %.2f s after the load", dt);
	rows_logged(&c);
	CHECKF(c.got == c.want, "%ld rows for %ld answers", c.got, c.want);
	long dup = th_pg_count(&E.pg, "SELECT count(*) - count(DISTINCT seq) FROM query_log "
			       "WHERE instance = '" INSTANCE "'");
	CHECKF(dup == 0, "%ld duplicate rows", dup);
	if (!ok)
		ck_log_tail(&E.lisd, 2000);
}

static void test_change_on_new_primary_reaches_lisd(void)
{
	/* The fixture's 127.0.0.10 is 00:50:b6:00:00:0a on sw1 Gi1/0/10 (hq-410). */
	if (!ck_import(&E, "--mac-ports", "mac,switch,port,last_seen,source\n"
		       "00:50:b6:00:00:0a,sw1,Gi1/0/9,now,import\n"))
		return;
	double dt = 0;
	bool ok = th_wait_until(60, 50, located, "hq-420", &dt);
	CHECKF(ok, "the change on the new primary did not reach lisd within 60 s");
	if (ok)
		t_diag("change seen %.2f s after lisctl import returned", dt);
	else
		ck_log_tail(&E.lisd, 2000);
}

int main(void)
{
	t_run("setup_primary_standby_and_lisd_on_both",
	      test_setup_primary_standby_and_lisd_on_both);
	if (!up) {
		t_skip("failover cases", "setup failed");
		return t_done();
	}
	t_run("primary_killed_standby_promoted_every_request_answered",
	      test_primary_killed_standby_promoted_every_request_answered);
	t_run("query_log_on_new_primary_has_every_answer_once",
	      test_query_log_on_new_primary_has_every_answer_once);
	t_run("change_on_new_primary_reaches_lisd", test_change_on_new_primary_reaches_lisd);
	int rc = t_done();
	th_lisd_stop(&E.lisd);
	th_pg_stop(&E.pg);
	return rc;
}
