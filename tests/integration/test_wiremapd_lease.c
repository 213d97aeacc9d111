/* The collector lease end to end (wiremapd(8) LEASE): a real PostgreSQL, a real snmpsimd
 * serving two switches, and two real wiremapd daemons with the same switches and different
 * [collector] instance names, as two data centres would run them. Only the leader polls and
 * writes (switch_poll_status.polled_by, the collector_lease view, each metrics file's
 * wiremapd_leader); when the leader is killed with SIGKILL the other takes over and writes;
 * when the leader's PostgreSQL session is terminated, the lease moves or comes back, and
 * never to both. Every wait is for a condition, under a generous deadline. */
#include "check.h"
#include "harness.h"
#include "prom_check.h"
#include "snmpsim.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A takeover needs one [collector] lease_interval (1 s here) and one poll: well within. */
#define DEADLINE 60

struct collector {
	const char *instance;
	char conf[600], log[600], prom[600];
	pid_t pid;
};

static struct {
	struct th_pg pg;
	struct th_snmpsim snmp;
	char *work;
	bool up;
	struct collector a, b;
} E = { .a = { .instance = "dc-a" }, .b = { .instance = "dc-b" } };

static const char *wiremapd_path(void)
{
	const char *p = getenv("LIS_WIREMAPD");
	return p && *p ? p : "wiremapd";
}

static long count(const char *sql)
{
	return th_pg_count(&E.pg, sql);
}

/* The instances named by the collector_lease view, "" when nobody holds the lease ("?" when
 * the query failed). Rotating static buffers: 4 live at once. */
static const char *lease_holder(void)
{
	static char bufs[4][200];
	static int next;
	char *b = bufs[next++ % 4];
	char *v = th_pg_query1(&E.pg, "SELECT coalesce(string_agg(instance, ','), '') "
			       "FROM collector_lease");
	snprintf(b, sizeof bufs[0], "%s", v ? v : "?");
	free(v);
	return b;
}

/* A file on one line, for a diagnostic. */
static const char *flat_file(const char *path)
{
	char *t = th_read_file(path, NULL);
	const char *f = th_flat(t ? t : "(no file)");
	free(t);
	return f;
}

/* wiremapd_leader in c's metrics file; NAN when there is no file or no such sample. */
static double leader_metric(const struct collector *c)
{
	char *m = th_read_file(c->prom, NULL);
	double v = m ? prom_sample(m, "wiremapd_leader") : NAN;
	free(m);
	return v;
}

static bool log_has(const struct collector *c, const char *a, const char *b)
{
	char *log = th_read_file(c->log, NULL);
	bool hit = false;
	for (char *save = NULL, *line = log ? strtok_r(log, "\n", &save) : NULL; line && !hit;
	     line = strtok_r(NULL, "\n", &save))
		hit = strstr(line, a) && (!b || strstr(line, b));
	free(log);
	return hit;
}

static void write_config(struct collector *c)
{
	char text[2048];
	snprintf(c->conf, sizeof c->conf, "%s/%s.conf", E.work, c->instance);
	snprintf(c->log, sizeof c->log, "%s/%s.log", E.work, c->instance);
	snprintf(c->prom, sizeof c->prom, "%s/%s.prom", E.work, c->instance);
	snprintf(text, sizeof text,
		 "; written by test_wiremapd_lease\n"
		 "[database]\n"
		 "conninfo = %s connect_timeout=5\n"
		 "[snmp.access]\n"
		 "version = 2c\n"
		 "community = access-switch\n"
		 "[poll]\n"
		 "interval = 10\n"
		 "jitter = 0\n"
		 "timeout_ms = 1000\n"
		 "retries = 1\n"
		 "[collector]\n"
		 "instance = %s\n"
		 "lease_interval = 1\n"
		 "[netlink]\n"
		 "enabled = false\n"
		 "[metrics]\n"
		 "textfile = %s\n"
		 "[log]\n"
		 "level = info\n",
		 E.pg.conninfo, c->instance, c->prom);
	CHECK(th_write_file(c->conf, text) == 0);
}

static bool start(struct collector *c)
{
	char *argv[] = {(char *)wiremapd_path(), "-c", c->conf, NULL};
	unlink(c->prom);
	c->pid = th_spawn(argv, c->log);
	return CHECKF(c->pid > 0, "cannot start wiremapd %s", c->instance);
}

static void kill_collector(struct collector *c, int sig)
{
	if (c->pid <= 0)
		return;
	kill(c->pid, sig);
	waitpid(c->pid, NULL, 0);
	c->pid = 0;
}

static void test_setup_db_snmpsim_and_two_switches(void)
{
	E.work = th_tmpdir("wiremapd-lease");
	if (!CHECK(E.work != NULL) || !CHECK(th_pg_start(&E.pg) == 0))
		return;
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "db", "migrate", (char *)NULL);
	bool ok = CHECKF(p.status == 0, "db migrate: %s", th_flat(p.err));
	th_proc_free(&p);
	if (!ok || !CHECK(th_snmpsim_start(&E.snmp) == 0))
		return;
	char sw[700], csv[1024];
	snprintf(sw, sizeof sw, "%s/switches.csv", E.work);
	snprintf(csv, sizeof csv,
		 "switch,site,chassis_id,mgmt_address,location,description,snmp_profile,snmp_port,"
		 "poll_interval,poll_enabled\n"
		 "sw-l1,e2e,00:1b:54:1e:a5:01,127.0.0.1,e2e-floor1,access,access,%d,10,true\n"
		 "sw-l2,e2e,00:1b:54:1e:a5:02,127.0.0.1,e2e-floor1,access,access,%d,10,true\n",
		 E.snmp.port, E.snmp.port);
	if (!CHECK(th_write_file(sw, csv) == 0))
		return;
	th_lisctl(&p, E.pg.conninfo, "import", "--sites",
		  th_src("tests/data/integration/wiremapd/sites.csv"), "--locations",
		  th_src("tests/data/integration/wiremapd/locations.csv"), "--switches", sw,
		  (char *)NULL);
	ok = CHECKF(p.status == 0, "import: %s %s", th_flat(p.out), th_flat(p.err));
	th_proc_free(&p);
	if (!ok)
		return;
	write_config(&E.a);
	write_config(&E.b);
	E.up = true;
}

/* ---- conditions waited for ---- */

static bool leads(void *ctx)
{
	const struct collector *c = ctx;
	return strcmp(lease_holder(), c->instance) == 0 && leader_metric(c) == 1;
}

static bool follows(void *ctx)
{
	const struct collector *c = ctx;
	return leader_metric(c) == 0 && log_has(c, "result=waiting", "role=follower");
}

/* Both switches last polled, successfully, by c. */
static bool polled_all(void *ctx)
{
	const struct collector *c = ctx;
	char q[300];
	snprintf(q, sizeof q, "SELECT count(*) FROM switch_poll_status WHERE polled_by = '%s' "
		 "AND last_success IS NOT NULL AND last_error IS NULL", c->instance);
	return count(q) == 2;
}

/* The leader has polled each switch twice since it started (two cycles, 10 s apart). */
static bool second_cycle(void *ctx)
{
	const struct collector *c = ctx;
	char *m = th_read_file(c->prom, NULL);
	bool ok = m && prom_sample(m, "wiremapd_polls_total{switch=\"sw-l1\",outcome=\"ok\"}") >= 2
		  && prom_sample(m, "wiremapd_polls_total{switch=\"sw-l2\",outcome=\"ok\"}") >= 2;
	free(m);
	return ok;
}

/* One holder, seen alike by the view and both metrics files. */
static bool one_leader(void *ctx)
{
	(void)ctx;
	const char *h = lease_holder();
	double la = leader_metric(&E.a), lb = leader_metric(&E.b);
	return (strcmp(h, "dc-a") == 0 && la == 1 && lb == 0) ||
	       (strcmp(h, "dc-b") == 0 && la == 0 && lb == 1);
}

static bool said_lost(void *ctx)
{
	return log_has(ctx, "result=lost", "role=follower");
}

/* Whoever holds the lease has polled both switches since `since` (the database's clock). */
static bool holder_polled_since(void *ctx)
{
	const char *since = ctx;
	char q[400];
	snprintf(q, sizeof q, "SELECT count(*) FROM switch_poll_status p JOIN collector_lease l "
		 "ON l.instance = p.polled_by WHERE p.last_success >= '%s'::timestamptz - "
		 "interval '1 second'", since);
	return count(q) == 2;
}

static bool wait_for(bool (*pred)(void *), void *ctx, const char *what)
{
	double dt = 0;
	bool ok = th_wait_until(DEADLINE, 200, pred, ctx, &dt);
	if (ok)
		t_diag("%s after %.1f s", what, dt);
	return ok;
}

/* ---- the cases ---- */

static void test_first_collector_leads_and_polls(void)
{
	if (!CHECKF(E.up, "set-up failed") || !start(&E.a))
		return;
	CHECKF(wait_for(leads, &E.a, "dc-a leads"), "holder \"%s\", dc-a leader=%g: %s",
	       lease_holder(), leader_metric(&E.a), flat_file(E.a.log));
	CHECKF(wait_for(polled_all, &E.a, "dc-a polled both switches"), "%s",
	       flat_file(E.a.log));
	CHECK(log_has(&E.a, "result=acquired", "instance=dc-a"));
	CHECK(count("SELECT count(*) FROM collector WHERE instance = 'dc-a' AND "
		    "leader_since IS NOT NULL AND last_seen > now() - interval '30 seconds'") == 1);
}

static void test_second_collector_follows_and_writes_nothing(void)
{
	if (!CHECKF(E.up && E.a.pid > 0, "no leader") || !start(&E.b))
		return;
	CHECKF(wait_for(follows, &E.b, "dc-b follows"), "dc-b leader=%g: %s",
	       leader_metric(&E.b), flat_file(E.b.log));
	CHECKF(log_has(&E.b, "result=waiting", "holder=dc-a"), "%s", flat_file(E.b.log));
	/* dc-a polls again meanwhile; dc-b never does */
	CHECKF(wait_for(second_cycle, &E.a, "dc-a's second cycle"), "%s",
	       flat_file(E.a.prom));
	CHECK_STR(lease_holder(), "dc-a");
	CHECK(leader_metric(&E.a) == 1);
	CHECK(leader_metric(&E.b) == 0);
	CHECK(polled_all(&E.a));
	CHECK(count("SELECT count(*) FROM switch_poll_status WHERE polled_by IS DISTINCT FROM "
		    "'dc-a'") == 0);
	CHECKF(!log_has(&E.b, "poll ", "switch="), "dc-b polled: %s",
	       flat_file(E.b.log));
	char *m = th_read_file(E.b.prom, NULL);
	CHECKF(m && prom_sample(m, "wiremapd_cycles_total") == 0, "%s", th_flat(m));
	free(m);
	CHECK(count("SELECT count(*) FROM collector WHERE instance = 'dc-b' AND "
		    "leader_since IS NULL") == 1);
	/* what an operator asks */
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "db", "status", (char *)NULL);
	CHECKF(p.status == 0 && strstr(p.out, "\ncollector lease held by dc-a (host "),
	       "lisctl db status: %s %s", th_flat(p.out), th_flat(p.err));
	th_proc_free(&p);
}

static void test_leader_killed_the_other_takes_over_and_writes(void)
{
	if (!CHECKF(E.a.pid > 0 && E.b.pid > 0, "two collectors needed"))
		return;
	kill_collector(&E.a, SIGKILL);
	CHECKF(wait_for(leads, &E.b, "dc-b took over"), "holder \"%s\", dc-b leader=%g: %s",
	       lease_holder(), leader_metric(&E.b), flat_file(E.b.log));
	CHECKF(wait_for(polled_all, &E.b, "dc-b polled both switches"), "%s",
	       flat_file(E.b.log));
	CHECK(log_has(&E.b, "result=acquired", "instance=dc-b"));
	CHECK(count("SELECT count(*) FROM collector_lease") == 1);
}

static void test_leader_session_terminated_one_leader_after(void)
{
	if (!CHECKF(E.b.pid > 0, "no leader"))
		return;
	/* dc-a back, as a follower of dc-b */
	unlink(E.a.log);
	if (!start(&E.a))
		return;
	CHECKF(wait_for(follows, &E.a, "dc-a follows"), "%s",
	       flat_file(E.a.log));
	CHECK(one_leader(NULL));
	CHECK(th_pg_exec(&E.pg, "lis", "SELECT pg_terminate_backend(backend_pid) FROM "
			 "collector_lease") == 0);
	char *since = th_pg_query1(&E.pg, "SELECT now()");
	CHECK(th_pg_exec(&E.pg, "lis", "SELECT pg_terminate_backend(backend_pid) FROM "
			 "collector_lease") == 0);
	CHECKF(wait_for(said_lost, &E.b, "dc-b lost the lease"),
	       "dc-b never said it lost the lease: %s", flat_file(E.b.log));
	CHECKF(wait_for(one_leader, NULL, "one leader again"), "holder \"%s\" a=%g b=%g",
	       lease_holder(), leader_metric(&E.a), leader_metric(&E.b));
	/* the leader, whichever it is, polls and writes; still one of them leads after */
	if (CHECK(since != NULL))
		CHECKF(wait_for(holder_polled_since, since, "the leader polled"), "%s | %s",
		       flat_file(E.a.log), flat_file(E.b.log));
	free(since);
	CHECK(one_leader(NULL));
	CHECK(count("SELECT count(*) FROM collector_lease") == 1);
	t_diag("after the session was terminated: %s leads", lease_holder());
}

int main(void)
{
	t_run("setup_db_snmpsim_and_two_switches", test_setup_db_snmpsim_and_two_switches);
	t_run("first_collector_leads_and_polls", test_first_collector_leads_and_polls);
	t_run("second_collector_follows_and_writes_nothing",
	      test_second_collector_follows_and_writes_nothing);
	t_run("leader_killed_the_other_takes_over_and_writes",
	      test_leader_killed_the_other_takes_over_and_writes);
	t_run("leader_session_terminated_one_leader_after",
	      test_leader_session_terminated_one_leader_after);
	int rc = t_done();
	kill_collector(&E.a, SIGTERM);
	kill_collector(&E.b, SIGTERM);
	th_snmpsim_stop(&E.snmp);
	th_pg_stop(&E.pg);
	return rc;
}
