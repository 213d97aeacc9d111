/* The two-data-centre topology of issue 14, on loopback: a PostgreSQL primary and its
 * streaming standby (synchronous, started by the test), lisd A whose loader reads the
 * primary and lisd B whose loader reads the standby ([database] read_conninfo), both writing
 * their query logs through one conninfo naming both servers, and wiremapd polling a switch
 * (snmpsimd serving tests/data/integration/wiremapd) through the same conninfo.
 *
 * wiremapd's bindings reach both lisd; under HELD load on both, the primary crashes and the
 * standby is promoted; every request meanwhile is answered (from memory); each lisd's query
 * log ends on the new primary with every answered request exactly once; and a change after
 * the failover (wiremapd, now writing to the new primary, sees the phone on another port)
 * reaches both lisd: A by reconnecting and loading, B through the change feed of the
 * server it never left. */
#include "check.h"
#include "harness.h"
#include "snmpsim.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PHONE_IP "127.0.0.50"
#define REQ "<locationRequest xmlns=\"urn:ietf:params:xml:ns:geopriv:held\" " \
	"responseTime=\"emergencyRouting\"><locationType exact=\"false\">civic" \
	"</locationType></locationRequest>"

static struct {
	struct th_pg pg, standby;
	struct th_tls tls;
	struct th_lisd a, b;
	struct th_snmpsim snmp;
	char *work;
	char both[1200], wmd_conf[700];
	bool up;
} T;

static const char *wiremapd_path(void)
{
	const char *p = getenv("LIS_WIREMAPD");
	return p && *p ? p : "wiremapd";
}

static bool lisctl_ok(const char *what, struct th_proc *p)
{
	bool ok = CHECKF(p->status == 0, "%s exit %d: %s %s", what, p->status, th_flat(p->out),
			 th_flat(p->err));
	th_proc_free(p);
	return ok;
}

/* HTTP 200 answers each lisd gave the phone: each must be one query-log row. */
static atomic_long answers_a, answers_b;

/* The room the phone's own HELD request is answered with ("" when none, "error" else). */
static void room_of(const struct th_lisd *l, char *out, size_t size)
{
	struct th_resp r;
	th_held_post(l, &T.tls, REQ, PHONE_IP, &r);
	if (r.curl_code == 0 && r.status == 200)
		atomic_fetch_add(l == &T.a ? &answers_a : &answers_b, 1);
	const char *p = r.curl_code == 0 && r.status == 200 && r.body
			? strstr(r.body, "<ca:ROOM>") : NULL;
	if (p) {
		p += strlen("<ca:ROOM>");
		size_t n = strcspn(p, "<");
		snprintf(out, size, "%.*s", (int)n, p);
	} else {
		snprintf(out, size, "error:%d/%ld", r.curl_code, r.status);
	}
	th_resp_free(&r);
}

struct room_ctx {
	const struct th_lisd *l;
	const char *want;
};

static bool room_is(void *ctx)
{
	struct room_ctx *c = ctx;
	char got[64];
	room_of(c->l, got, sizeof got);
	return strcmp(got, c->want) == 0;
}

static bool wait_room(const struct th_lisd *l, const char *name, const char *want)
{
	struct room_ctx c = {l, want};
	double dt = 0;
	bool ok = th_wait_until(60, 20, room_is, &c, &dt);
	if (CHECKF(ok, "lisd %s never answered room %s within 60 s", name, want))
		t_diag("lisd %s answered room %s after %.2f s", name, want, dt);
	return ok;
}

static int wiremapd_once(void)
{
	char *argv[] = {(char *)wiremapd_path(), "-c", T.wmd_conf, "--once", NULL};
	struct th_proc p;
	th_run(&p, argv, NULL, 120);
	int st = p.status;
	if (!CHECKF(st == 0, "wiremapd --once exit %d: %s", st, th_flat(p.err)))
		st = -1;
	th_proc_free(&p);
	return st;
}

static bool start_lisd(struct th_lisd *l, const char *instance, const char *read_conninfo)
{
	const char *spool = th_tmpdir("topo-spool"); /* the harness's: removed at exit */
	char sect[2000];
	snprintf(sect, sizeof sect, "[wiremap]\nmax_binding_age = 86400\n"
		 "[querylog]\nspool_dir = %s\ninstance = %s\nbatch = 100\nflush_ms = 50\n"
		 "%s%s%s", spool ? spool : "/nonexistent", instance,
		 read_conninfo ? "[database]\nread_conninfo = " : "",
		 read_conninfo ? read_conninfo : "", read_conninfo ? "\n" : "");
	return CHECK(th_lisd_start(l, "127.0.0.1", &T.tls, T.both, NULL, sect) == 0);
}

static void test_setup(void)
{
	T.work = th_tmpdir("topology");
	if (!CHECK(T.work) || !CHECK(th_pg_start(&T.pg) == 0) || !CHECK(th_tls_make(&T.tls) == 0))
		return;
	struct th_proc p;
	th_lisctl(&p, T.pg.conninfo, "db", "migrate", (char *)NULL);
	if (!lisctl_ok("db migrate", &p))
		return;
	if (!CHECK(th_snmpsim_start_with(&T.snmp, "tests/data/integration/wiremapd") == 0))
		return;
	char sw[800], csv[600], dir[700];
	snprintf(dir, sizeof dir, "%s/tests/data/integration/wiremapd", th_srcdir());
	snprintf(sw, sizeof sw, "%s/switches.csv", T.work);
	snprintf(csv, sizeof csv, "switch,site,chassis_id,mgmt_address,location,snmp_profile,"
		 "snmp_port,poll_enabled\nsw-e2e,e2e,00:1b:54:e2:e0:01,127.0.0.1,e2e-floor1,desk,"
		 "%d,true\n", T.snmp.port);
	if (!CHECK(th_write_file(sw, csv) == 0))
		return;
	char sites[800], locs[800], ports[800];
	snprintf(sites, sizeof sites, "%s/sites.csv", dir);
	snprintf(locs, sizeof locs, "%s/locations.csv", dir);
	snprintf(ports, sizeof ports, "%s/ports.csv", dir);
	th_lisctl(&p, T.pg.conninfo, "import", "--sites", sites, "--locations", locs,
		  "--switches", sw, "--ports", ports, (char *)NULL);
	if (!lisctl_ok("import", &p))
		return;
	/* synchronous: a commit the primary acknowledged is on the standby */
	if (!CHECK(th_pg_standby_start(&T.pg, &T.standby, true) == 0) ||
	    !CHECKF(th_pg_wait_replayed(&T.pg, &T.standby, 60), "standby never caught up"))
		return;
	snprintf(T.both, sizeof T.both, "host=%s,%s user=postgres dbname=lis "
		 "target_session_attrs=read-write", T.pg.dir, T.standby.dir);
	snprintf(T.wmd_conf, sizeof T.wmd_conf, "%s/wiremapd.conf", T.work);
	char conf[2000];
	snprintf(conf, sizeof conf, "[database]\nconninfo = %s connect_timeout=5\n"
		 "[snmp]\nversion = 2c\ncommunity = public\n"
		 "[snmp.desk]\nversion = 2c\ncommunity = wmd-e2e-a\n"
		 "[snmp.moved]\nversion = 2c\ncommunity = wmd-e2e-b\n"
		 "[poll]\ntimeout_ms = 2500\nretries = 1\nuplink_mac_threshold = 8\n"
		 "[netlink]\nenabled = false\n[log]\ntarget = stderr\n", T.both);
	if (!CHECK(th_write_file(T.wmd_conf, conf) == 0))
		return;
	if (!start_lisd(&T.a, "topo-a", NULL) ||
	    !start_lisd(&T.b, "topo-b", T.standby.conninfo))
		return;
	T.up = true;
}

static void test_wiremapd_binding_reaches_both_lisd(void)
{
	if (wiremapd_once() != 0)
		return;
	wait_room(&T.a, "A", "105");
	wait_room(&T.b, "B (standby)", "105");
	/* B's loader is a session of the standby */
	CHECK(th_pg_count(&T.standby, "SELECT count(*) FROM pg_stat_activity WHERE"
			  " datname = 'lis' AND backend_type = 'client backend'") >= 1);
}

/* ---- HELD load on both while the primary dies ---- */

struct load {
	const struct th_lisd *l;
	atomic_long answered, failed;
	char first_failure[64];
};
static struct load la = {.l = &T.a}, lb = {.l = &T.b};
static atomic_bool load_stop;

static void *load(void *arg)
{
	struct load *ld = arg;
	while (!atomic_load(&load_stop)) {
		char got[64];
		room_of(ld->l, got, sizeof got);
		if (strcmp(got, "105") == 0)
			atomic_fetch_add(&ld->answered, 1);
		else if (atomic_fetch_add(&ld->failed, 1) == 0)
			snprintf(ld->first_failure, sizeof ld->first_failure, "%s", got);
	}
	return NULL;
}

static bool both_answered(void *ctx)
{
	long n = *(long *)ctx;
	return atomic_load(&la.answered) >= n && atomic_load(&lb.answered) >= n;
}

static bool more_answers(long by)
{
	long n = (atomic_load(&la.answered) > atomic_load(&lb.answered)
		  ? atomic_load(&la.answered) : atomic_load(&lb.answered)) + by;
	return th_wait_until(90, 20, both_answered, &n, NULL);
}

static void test_primary_killed_standby_promoted_every_request_answered(void)
{
	pthread_t ta, tb;
	if (!CHECK(pthread_create(&ta, NULL, load, &la) == 0))
		return;
	if (!CHECK(pthread_create(&tb, NULL, load, &lb) == 0)) {
		atomic_store(&load_stop, true);
		pthread_join(ta, NULL);
		return;
	}
	CHECKF(more_answers(30), "no load before the crash");
	CHECK(th_pg_kill(&T.pg, SIGQUIT) == 0);
	CHECKF(more_answers(30), "no answers without a primary");
	CHECK(th_pg_promote(&T.standby) == 0);
	CHECKF(more_answers(30), "no answers after the promotion");
	atomic_store(&load_stop, true);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	t_diag("answered A %ld B %ld; failed A %ld B %ld", atomic_load(&la.answered),
	       atomic_load(&lb.answered), atomic_load(&la.failed), atomic_load(&lb.failed));
	CHECKF(atomic_load(&la.failed) == 0, "A: %ld not answered right, the first: %s",
	       atomic_load(&la.failed), la.first_failure);
	CHECKF(atomic_load(&lb.failed) == 0, "B: %ld not answered right, the first: %s",
	       atomic_load(&lb.failed), lb.first_failure);
}

struct logged_ctx {
	const char *instance;
	long want, got;
};

static bool logged(void *ctx)
{
	struct logged_ctx *c = ctx;
	char q[300];
	snprintf(q, sizeof q, "SELECT count(*) FROM query_log WHERE instance = '%s' AND"
		 " requester_ip = '" PHONE_IP "'", c->instance);
	c->got = th_pg_count(&T.standby, q);
	return c->got >= c->want;
}

static void query_log_once(const char *instance, atomic_long *answers)
{
	/* the load's answers and those of the waits before it */
	struct logged_ctx c = {instance, atomic_load(answers), 0};
	bool ok = th_wait_until(90, 100, logged, &c, NULL);
	CHECKF(ok, "%s: %ld rows for %ld answers after 90 s", instance, c.got, c.want);
	char q[300];
	snprintf(q, sizeof q, "SELECT count(*) - count(DISTINCT seq) FROM query_log WHERE"
		 " instance = '%s'", instance);
	long dup = th_pg_count(&T.standby, q);
	CHECKF(dup == 0, "%s: %ld duplicate rows", instance, dup);
	logged(&c);
	CHECKF(c.got == c.want, "%s: %ld rows for %ld answers", instance, c.got, c.want);
}

/* Every answer of the load, and of the waits before it, is one row; none twice. */
static void test_query_logs_on_new_primary_have_every_answer_once(void)
{
	query_log_once("topo-a", &answers_a);
	query_log_once("topo-b", &answers_b);
}

static void test_change_after_failover_reaches_both_lisd(void)
{
	/* the switch now answers with the recording where the phone is on Gi1/0/9 */
	if (!CHECK(th_pg_exec(&T.standby, "lis", "UPDATE switch SET snmp_profile = 'moved'"
			      " WHERE key = 'sw-e2e'") == 0))
		return;
	/* wiremapd's conninfo names both servers: it finds the new primary by itself */
	if (wiremapd_once() != 0)
		return;
	wait_room(&T.a, "A", "109");
	wait_room(&T.b, "B (promoted standby)", "109");
}

static void test_stop(void)
{
	CHECK(th_lisd_stop(&T.a) == 0);
	CHECK(th_lisd_stop(&T.b) == 0);
}

int main(void)
{
	t_run("setup", test_setup);
	if (!T.up) {
		t_skip("topology cases", "setup failed");
	} else {
		t_run("wiremapd_binding_reaches_both_lisd", test_wiremapd_binding_reaches_both_lisd);
		t_run("primary_killed_standby_promoted_every_request_answered",
		      test_primary_killed_standby_promoted_every_request_answered);
		t_run("query_logs_on_new_primary_have_every_answer_once",
		      test_query_logs_on_new_primary_have_every_answer_once);
		t_run("change_after_failover_reaches_both_lisd",
		      test_change_after_failover_reaches_both_lisd);
		t_run("stop", test_stop);
	}
	int rc = t_done();
	th_snmpsim_stop(&T.snmp);
	th_pg_stop(&T.standby);
	th_pg_stop(&T.pg);
	return rc;
}
