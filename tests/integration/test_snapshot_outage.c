/* lisd serves from an in-memory snapshot: it follows every change (the change feed of every
 * write path; how fast is for bench/run.sh to say), keeps answering right while PostgreSQL is
 * down, says it is stale, and catches up once PostgreSQL is back. */
#include "check.h"
#include "corr.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ck_env E;
static struct th_lisd late;      /* started while PostgreSQL is down */
static bool late_up;

static void test_setup_wiremap_and_lisd(void)
{
	ck_setup(&E, NULL);
}

/* ---- NOTIFY reload ---- */

static void test_lisctl_import_reloads(void)
{
	struct ck_answer c = {&E, &E.lisd, "127.0.0.70", "hq-410"};
	if (!CHECK(ck_answers(&c)))
		return;
	if (!ck_import(&E, "--mac-ports", "mac,switch,port,last_seen,source\n"
		       "00:50:b6:00:00:70,sw1,Gi1/0/9,now,import\n"))
		return;
	c.want = "hq-420";
	double dt = 0;
	/* A deadline, not a measure: how fast the reload is belongs in bench/run.sh (section 4). */
	bool ok = th_wait_until(60, 20, ck_answers, &c, &dt);
	CHECKF(ok, "no change within 60 s");
	t_diag("reload seen %.3f s after lisctl import returned", dt);
	/* and the new answer is a full, right document */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.70", NULL, "hq-420", "Wiremap", NULL,
		  false);
}

static void test_direct_sql_write_reloads(void)
{
	/* every write path notifies (statement trigger): an UPDATE by hand gives sw1 Gi1/0/8 a
	 * location of its own */
	struct ck_answer c = {&E, &E.lisd, "127.0.0.11", "hq-floor4"};
	if (!CHECK(ck_answers(&c)))
		return;
	if (!CHECK(th_pg_exec(&E.pg, "lis",
			      "UPDATE switch_port SET location_id = (SELECT id FROM location "
			      "WHERE key = 'hq-612') WHERE port_id = 'Gi1/0/8'") == 0))
		return;
	c.want = "hq-612";
	double dt = 0;
	bool ok = th_wait_until(60, 20, ck_answers, &c, &dt);
	CHECKF(ok, "reload after UPDATE not seen within 60 s");
	t_diag("reload after UPDATE seen %.3f s after it", dt);
	ck_expect(&E, ck_req(NULL, false), "127.0.0.11", NULL, "hq-612", "Wiremap", NULL,
		  false);
}

static void test_snapshot_reload_is_logged(void)
{
	CHECK(ck_log_has(&E.lisd, "snapshot_age=", (char *)NULL));
}

/* ---- outage ---- */

struct expectation {
	const char *from, *want;
};
static const struct expectation mix[] = {
	{"127.0.0.10", "hq-410"},   /* port */
	{"127.0.0.11", "hq-612"},   /* port, location set by the UPDATE above */
	{"127.0.0.12", "hq-ap-west"}, /* BSSID */
	{"127.0.0.14", "hq-612"},   /* static */
	{"127.0.2.5", "campus"},    /* subnet */
	{"127.0.0.15", "hq-lobby"}, /* site default */
	{"127.0.0.16", "error:locationUnknown"},
	{"127.0.0.70", "hq-420"},   /* moved by the import above */
};
#define N_MIX (sizeof mix / sizeof mix[0])

static atomic_bool pg_stopped;

static void *stop_pg(void *arg)
{
	(void)arg;
	th_pg_stop(&E.pg);
	atomic_store(&pg_stopped, true);
	return NULL;
}

static void test_postgresql_stopped_during_200_requests_every_answer_right(void)
{
	int wrong = 0, slow = 0;
	pthread_t th;
	bool started = false;
	double t0 = th_now(), stopped_at = -1;
	for (int i = 0; i < 200; i++) {
		if (i == 40) {
			started = pthread_create(&th, NULL, stop_pg, NULL) == 0;
			CHECK(started);
		}
		if (started && stopped_at < 0 && atomic_load(&pg_stopped))
			stopped_at = th_now() - t0;
		const struct expectation *x = &mix[(size_t)i % N_MIX];
		double q0 = th_now();
		char *w = ck_which(&E, &E.lisd, ck_req("civic", false), x->from);
		double q = th_now() - q0;
		if (strcmp(w, x->want) != 0) {
			if (wrong++ < 10)
				t_diag("request %d from %s: got %s, want %s", i, x->from, w, x->want);
		}
		if (q > 2.0 && slow++ < 5)
			t_diag("request %d from %s took %.2f s", i, x->from, q);
		free(w);
	}
	if (started)
		pthread_join(th, NULL);
	CHECKF(wrong == 0, "%d of 200 answers wrong", wrong);
	CHECKF(slow == 0, "%d answers slower than 2 s", slow);
	CHECKF(E.pg.pid == 0, "PostgreSQL still running");
	if (stopped_at >= 0)
		t_diag("PostgreSQL was down from %.2f s into the run", stopped_at);
	/* a few more while it is certainly down */
	for (size_t i = 0; i < N_MIX; i++) {
		struct ck_answer c = {&E, &E.lisd, mix[i].from, mix[i].want};
		CHECKF(ck_answers(&c), "after the stop: %s", mix[i].from);
	}
}

static void test_answer_while_down_is_a_full_document(void)
{
	ck_expect(&E, ck_req(NULL, false), "127.0.0.10", NULL, "hq-410", "Wiremap", NULL,
		  false);
	ck_expect(&E, ck_req(NULL, false), "127.0.2.5", NULL, "campus", "Wiremap", NULL, true);
}

struct log_ctx {
	const struct th_lisd *l;
	const char *needle;
};

static bool log_says(void *ctx)
{
	struct log_ctx *c = ctx;
	return ck_log_has(c->l, c->needle, (char *)NULL);
}

static void test_lisd_logs_that_its_snapshot_is_stale(void)
{
	struct log_ctx c = {&E.lisd, "wiremap stale since"};
	if (!CHECKF(th_wait_until(60, 100, log_says, &c, NULL), "no \"wiremap stale since\" line"))
		ck_log_tail(&E.lisd, 1500);
}

static void test_lisd_started_without_database_gives_generalLisError(void)
{
	if (!CHECK(th_lisd_start(&late, "127.0.0.1", &E.tls, E.pg.conninfo, NULL,
				 "[wiremap]\nmax_binding_age = 86400\n") == 0))
		return;
	late_up = true;
	struct th_resp r;
	th_held_post(&late, &E.tls, ck_req(NULL, false), "127.0.0.10", &r);
	ck_held_error(&r, "generalLisError");
	CHECKF(r.seconds < 5.0, "took %.1f s", r.seconds);
	th_resp_free(&r);
}

static void test_restart_then_a_change_is_picked_up(void)
{
	if (!CHECK(th_pg_restart(&E.pg) == 0))
		return;
	double t0 = th_now();
	if (!ck_import(&E, "--mac-ports", "mac,switch,port,last_seen\n"
		       "00:50:b6:00:00:60,sw1,Gi1/0/9,now\n"))
		return;
	struct ck_answer c = {&E, &E.lisd, "127.0.0.60", "hq-420"};
	double dt = 0;
	/* reconnect backoff is at most 30 s */
	bool ok = th_wait_until(40, 100, ck_answers, &c, &dt);
	CHECKF(ok, "change after restart not seen within 40 s");
	t_diag("change after restart seen %.2f s after the import (%.2f s after restart)", dt,
	       th_now() - t0);
	if (!ok)
		ck_log_tail(&E.lisd, 1500);
	ck_expect(&E, ck_req(NULL, false), "127.0.0.60", NULL, "hq-420", "Wiremap", NULL,
		  false);
}

static void test_lisd_started_without_database_catches_up(void)
{
	if (!CHECK(late_up))
		return;
	struct ck_answer c = {&E, &late, "127.0.0.60", "hq-420"};
	CHECKF(th_wait_until(40, 200, ck_answers, &c, NULL), "the late lisd never loaded a snapshot");
}

static void test_sigterm_stops_lisd_cleanly(void)
{
	int a = th_lisd_stop(&E.lisd);
	int b = late_up ? th_lisd_stop(&late) : 0;
	CHECKF(a == 0 && b == 0, "lisd exit %d, late lisd exit %d", a, b);
	if (a != 0)
		ck_log_tail(&E.lisd, 1500);
}

int main(void)
{
	t_run("setup_wiremap_and_lisd", test_setup_wiremap_and_lisd);
	if (!E.up) {
		t_skip("snapshot cases", "setup failed");
		return t_done();
	}
	t_run("lisctl_import_reloads",
	      test_lisctl_import_reloads);
	t_run("direct_sql_write_reloads",
	      test_direct_sql_write_reloads);
	t_run("snapshot_reload_is_logged", test_snapshot_reload_is_logged);
	t_run("postgresql_stopped_during_200_requests_every_answer_right",
	      test_postgresql_stopped_during_200_requests_every_answer_right);
	t_run("answer_while_down_is_a_full_document", test_answer_while_down_is_a_full_document);
	t_run("lisd_logs_that_its_snapshot_is_stale", test_lisd_logs_that_its_snapshot_is_stale);
	t_run("lisd_started_without_database_gives_generalLisError",
	      test_lisd_started_without_database_gives_generalLisError);
	t_run("restart_then_a_change_is_picked_up", test_restart_then_a_change_is_picked_up);
	t_run("lisd_started_without_database_catches_up",
	      test_lisd_started_without_database_catches_up);
	t_run("sigterm_stops_lisd_cleanly", test_sigterm_stops_lisd_cleanly);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
