/* wiremapd end to end: a real snmpsimd serving the recordings of
 * tests/data/integration/wiremapd (see its README) on a loopback UDP port, a real PostgreSQL
 * holding one site, its locations, the switch and its wall jacks, a real lisd over TLS, and
 * `wiremapd --once` between them. After one cycle the phone's HELD request (from its own IP,
 * 127.0.0.50) is answered with the location of the port it is plugged into; after the phone
 * moves (the switch answers with the second recording) the next cycle, lisd's NOTIFY reload and
 * the next answer follow it, and the move is kept for auditors. A switch where nothing answers
 * makes --once exit 1 with a status row that says why, and no credential reaches the output. */
#include "check.h"
#include "harness.h"
#include "prom_check.h"
#include "xp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELD_NS "urn:ietf:params:xml:ns:geopriv:held"
#define PHONE_IP "127.0.0.50"
#define PHONE_MAC "00:50:b6:00:00:50"
#define PHONE_MAC12 "0050b6000050"
#define PC_MAC "00:50:b6:00:00:33"
/* Credentials of the config: none of them may reach wiremapd's output. */
#define COMMUNITY_A "wmd-e2e-a"
#define COMMUNITY_B "wmd-e2e-b"
#define V3_AUTH "AuthSecret-7f3a9c"
#define V3_PRIV "PrivSecret-91c2d4"

static struct {
	struct th_pg pg;
	struct th_tls tls;
	struct th_lisd lisd;
	char *work;
	char conf[600];
	int snmp_port, dead_port;
	pid_t snmpsim;
	bool db_up, snmp_up, lisd_up, first_cycle_ok;
} E;

static const char *wiremapd_path(void)
{
	const char *p = getenv("LIS_WIREMAPD");
	return p && *p ? p : "wiremapd";
}

static const char *fixture(const char *name)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof bufs[0], "%s/tests/data/integration/wiremapd/%s", th_srcdir(), name);
	return b;
}

/* ---- snmpsimd ---- */

/* A UDP port nothing listens on (bound, then released). */
static int free_udp_port(const char *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, addr, &sa.sin_addr);
	socklen_t len = sizeof sa;
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void stop_snmpsim(void)
{
	if (E.snmpsim > 0) {
		kill(E.snmpsim, SIGTERM);
		for (int i = 0; i < 100 && waitpid(E.snmpsim, NULL, WNOHANG) == 0; i++)
			th_sleep_ms(20);
		kill(E.snmpsim, SIGKILL);
		waitpid(E.snmpsim, NULL, 0);
		E.snmpsim = 0;
	}
}

static bool snmp_answers(void *ctx)
{
	(void)ctx;
	char target[64];
	snprintf(target, sizeof target, "127.0.0.1:%d", E.snmp_port);
	char *argv[] = {"snmpget", "-v2c", "-c", COMMUNITY_A, "-t", "0.5", "-r", "0", "-Oqv",
		target, "1.3.6.1.2.1.1.5.0", NULL};
	struct th_proc p;
	th_run(&p, argv, NULL, 10);
	bool ok = p.status == 0 && strstr(p.out, "sw-e2e") != NULL;
	th_proc_free(&p);
	return ok;
}

/* snmpsimd with both recordings (community = file name) on 127.0.0.1:free port. It refuses to
 * run as root, so as root it drops to nobody, which must read the data and write the cache. */
/* Start argv (found on PATH) in the background, standard input /dev/null, output to logp,
 * killed when this test dies. The child's pid, or -1. */
static pid_t spawn(char *const argv[], const char *logp)
{
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static bool start_snmpsim(void)
{
	char data[700], cache[700], logp[700];
	snprintf(data, sizeof data, "%s/snmp", E.work);
	snprintf(cache, sizeof cache, "%s/snmp-cache", E.work);
	snprintf(logp, sizeof logp, "%s/snmpsimd.log", E.work);
	chmod(E.work, 0755);
	if (!CHECK(mkdir(data, 0755) == 0) || !CHECK(mkdir(cache, 0777) == 0))
		return false;
	chmod(cache, 0777);
	const char *recs[] = {COMMUNITY_A, COMMUNITY_B};
	for (int i = 0; i < 2; i++) {
		char src[64], dst[800];
		snprintf(src, sizeof src, "%s.snmprec", recs[i]);
		snprintf(dst, sizeof dst, "%s/%s.snmprec", data, recs[i]);
		char *text = th_read_file(fixture(src), NULL);
		if (!CHECKF(text && th_write_file(dst, text) == 0, "copy %s", fixture(src))) {
			free(text);
			return false;
		}
		free(text);
		chmod(dst, 0644);
	}
	E.snmp_port = free_udp_port("127.0.0.1");
	char a_data[800], a_cache[800], a_ep[64];
	snprintf(a_data, sizeof a_data, "--data-dir=%s", data);
	snprintf(a_cache, sizeof a_cache, "--cache-dir=%s", cache);
	snprintf(a_ep, sizeof a_ep, "--agent-udpv4-endpoint=127.0.0.1:%d", E.snmp_port);
	char *argv[10];
	int n = 0;
	argv[n++] = "snmpsimd";
	argv[n++] = a_data;
	argv[n++] = a_cache;
	argv[n++] = a_ep;
	argv[n++] = "--logging-method=stderr";
	if (geteuid() == 0) {
		argv[n++] = "--process-user=nobody";
		argv[n++] = "--process-group=nogroup";
	}
	argv[n] = NULL;
	pid_t pid = spawn(argv, logp);
	if (!CHECK(pid > 0))
		return false;
	E.snmpsim = pid;
	atexit(stop_snmpsim);
	double dt = 0;
	if (!CHECKF(th_wait_until(60, 200, snmp_answers, NULL, &dt),
		    "snmpsimd did not answer on 127.0.0.1:%d", E.snmp_port)) {
		char *log = th_read_file(logp, NULL);
		t_diag("snmpsimd log: %s", th_flat(log ? log : ""));
		free(log);
		return false;
	}
	t_diag("snmpsimd answered on 127.0.0.1:%d after %.1f s", E.snmp_port, dt);
	return true;
}

/* ---- database, lisd ---- */

static bool lisctl_ok(const char *what, struct th_proc *p)
{
	bool ok = CHECKF(p->status == 0, "%s exit %d: %s %s", what, p->status, th_flat(p->out),
			 th_flat(p->err));
	th_proc_free(p);
	return ok;
}

static bool import_wiremap(void)
{
	char sw[800];
	snprintf(sw, sizeof sw, "%s/switches.csv", E.work);
	E.dead_port = free_udp_port("127.0.0.9");
	/* sw-dead: nothing answers there; it joins the polls only in the last case */
	char csv[1024];
	snprintf(csv, sizeof csv,
		 "switch,site,chassis_id,mgmt_address,location,description,snmp_profile,snmp_port,"
		 "poll_interval,poll_enabled\n"
		 "sw-e2e,e2e,00:1b:54:e2:e0:01,127.0.0.1,e2e-floor1,access switch,desk,%d,60,true\n"
		 "sw-dead,e2e,00:1b:54:de:ad:01,127.0.0.9,e2e-floor1,nothing answers,locked,%d,,"
		 "false\n", E.snmp_port, E.dead_port);
	if (th_write_file(sw, csv) < 0)
		return CHECK(false);
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "import", "--sites", fixture("sites.csv"), "--locations",
		  fixture("locations.csv"), "--switches", sw, "--ports", fixture("ports.csv"),
		  (char *)NULL);
	if (!lisctl_ok("import (with the collector's switch columns)", &p))
		return false;
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM switch WHERE key = 'sw-e2e' AND "
			  "snmp_profile = 'desk' AND poll_enabled") == 1);
	char q[256];
	snprintf(q, sizeof q, "SELECT snmp_port FROM switch WHERE key = 'sw-e2e'");
	CHECK(th_pg_count(&E.pg, q) == E.snmp_port);
	return true;
}

static void test_setup_db_snmpsim_and_lisd(void)
{
	/* not "wmd-e2e": the path is in the output, and with a random suffix starting with "a" it
	 * would hold the credential "wmd-e2e-a" the test looks for */
	E.work = th_tmpdir("wiremapd-e2e");
	if (!CHECK(E.work != NULL) || !CHECK(th_pg_start(&E.pg) == 0) ||
	    !CHECK(th_tls_make(&E.tls) == 0))
		return;
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "db", "migrate", (char *)NULL);
	if (!lisctl_ok("db migrate", &p))
		return;
	E.db_up = true;
	if (!start_snmpsim())
		return;
	E.snmp_up = true;
	if (!import_wiremap())
		return;
	snprintf(E.conf, sizeof E.conf, "%s/wiremapd.conf", E.work);
	char conf[2048];
	snprintf(conf, sizeof conf,
		 "; written by test_wiremapd_e2e\n"
		 "[database]\n"
		 "conninfo = %s connect_timeout=5\n"
		 "[snmp]\n"
		 "version = 2c\n"
		 "community = public\n"
		 "[snmp.desk]\n"
		 "version = 2c\n"
		 "community = " COMMUNITY_A "\n"
		 "[snmp.moved]\n"
		 "version = 2c\n"
		 "community = " COMMUNITY_B "\n"
		 "[snmp.locked]\n"
		 "version = 3\n"
		 "user = lis-e2e\n"
		 "auth_protocol = SHA\n"
		 "auth_password = " V3_AUTH "\n"
		 "priv_protocol = AES\n"
		 "priv_password = " V3_PRIV "\n"
		 "[poll]\n"
		 "interval = 300\n"
		 "jitter = 0.1\n"
		 "concurrency = 4\n"
		 "timeout_ms = 2500\n"
		 "retries = 1\n"
		 "max_backoff = 3600\n"
		 "uplink_mac_threshold = 8\n"
		 "[netlink]\n"
		 "enabled = false\n"
		 "[metrics]\n"
		 "textfile = %s/wiremapd.prom\n"
		 "[log]\n"
		 "target = stderr\n"
		 "level = info\n",
		 E.pg.conninfo, E.work);
	if (!CHECK(th_write_file(E.conf, conf) == 0))
		return;
	/* the answers below name the phone by its MAC (dm:deviceID): the operator's opt-in of
	 * RFC 5985 §6.6, off by default */
	if (!CHECK(th_lisd_start(&E.lisd, "127.0.0.1", &E.tls, E.pg.conninfo, NULL,
				 "[wiremap]\nmax_binding_age = 86400\n"
				 "[privacy]\ninclude_device_id = true\n") == 0))
		return;
	E.lisd_up = true;
}

/* ---- wiremapd ---- */

/* Cycles are minutes apart in real life; here they would follow each other within the same
 * second, and bindings are stamped to the second: an old port's last_seen would tie with the
 * new one's. A pause of just over a second keeps the cycles apart as a schedule would. */
static int run_once(struct th_proc *p)
{
	static double last;
	double wait = last + 1.1 - th_now();
	if (last > 0 && wait > 0)
		th_sleep_ms((long)(wait * 1000));
	last = th_now();
	char *argv[] = {(char *)wiremapd_path(), "-c", E.conf, "--once", NULL};
	th_run(p, argv, NULL, 120);
	return p->status;
}

/* The output never holds a credential of the config. */
static void check_no_secrets(const struct th_proc *p)
{
	const char *secrets[] = {COMMUNITY_A, COMMUNITY_B, V3_AUTH, V3_PRIV};
	for (int i = 0; i < 4; i++) {
		const char *hit = strstr(p->out, secrets[i]);
		if (!hit)
			hit = strstr(p->err, secrets[i]);
		if (!CHECKF(!hit, "wiremapd's output holds the credential \"%s\"", secrets[i]))
			t_diag("...%.120s", hit > p->err + 60 && hit < p->err + strlen(p->err) ? hit - 60 : hit);
	}
}

/* A line of text holding every needle (NULL-terminated). */
static bool has_line(const char *text, const char *const needles[])
{
	char *copy = strdup(text);
	bool found = false;
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		bool all = true;
		for (int i = 0; needles[i] && all; i++)
			all = strstr(line, needles[i]) != NULL;
		found = all;
	}
	free(copy);
	return found;
}

static long count(const char *sql)
{
	return th_pg_count(&E.pg, sql);
}

/* [metrics] textfile after one --once: in the Prometheus text format, the switch's poll
 * counted under outcome, one cycle, bindings written. Every --once starts from zero. */
static void check_metrics_file_at(const char *sw, const char *outcome, bool wrote, int line)
{
	char path[600], series[200];
	snprintf(path, sizeof path, "%s/wiremapd.prom", E.work);
	char *m = th_read_file(path, NULL);
	if (!t_check(m != NULL, __FILE__, line, "metrics file", "no %s", path))
		return;
	const char *why = prom_check(m);
	t_check(!why[0], __FILE__, line, "prom_check", "%s: %s", path, why);
	snprintf(series, sizeof series, "wiremapd_polls_total{switch=\"%s\",outcome=\"%s\"}",
		 sw, outcome);
	t_check(prom_sample(m, series) == 1, __FILE__, line, series, "%s is %g, not 1", series,
		prom_sample(m, series));
	t_check(prom_sample(m, "wiremapd_cycles_total") == 1, __FILE__, line, "cycles", "%g",
		prom_sample(m, "wiremapd_cycles_total"));
	t_check(prom_sample(m, "wiremapd_last_cycle_duration_seconds") > 0, __FILE__, line,
		"cycle time", "not > 0");
	static const char *const kinds[] = { "mac_port", "ip_mac", "lldp" };
	for (size_t k = 0; wrote && k < 3; k++) {
		snprintf(series, sizeof series, "wiremapd_bindings_written_total{kind=\"%s\"}",
			 kinds[k]);
		t_check(prom_sample(m, series) >= 2, __FILE__, line, series, "%s", th_flat(m));
	}
	free(m);
}
#define check_metrics_file(sw, outcome, wrote) \
	check_metrics_file_at((sw), (outcome), (wrote), __LINE__)

static void test_once_writes_bindings_lldp_and_status_from_snmp(void)
{
	if (!E.snmp_up || !E.lisd_up) {
		CHECKF(false, "set-up failed");
		return;
	}
	struct th_proc p;
	run_once(&p);
	CHECKF(p.status == 0, "wiremapd --once exit %d: %s | %s", p.status, th_flat(p.out),
	       th_flat(p.err));
	const char *ok_line[] = {"poll", "switch=sw-e2e", "result=ok", "rows=", "ms=", NULL};
	CHECKF(has_line(p.err, ok_line) || has_line(p.out, ok_line),
	       "no `poll switch=sw-e2e ... result=ok` line: %s", th_flat(p.err));
	check_no_secrets(&p);
	th_proc_free(&p);
	check_metrics_file("sw-e2e", "ok", true);

	/* MAC -> port, from the FDB: the phone on Gi1/0/5, the PC on Gi1/0/3 */
	CHECK(count("SELECT count(*) FROM binding_mac_port b JOIN switch s ON s.id = b.switch_id "
		    "WHERE s.key = 'sw-e2e' AND b.mac = '" PHONE_MAC "' AND b.port_id = 'Gi1/0/5' "
		    "AND b.source = 'snmp' AND b.last_seen > now() - interval '5 minutes'") == 1);
	CHECK(count("SELECT count(*) FROM binding_mac_port WHERE mac = '" PHONE_MAC "'") == 1);
	CHECK(count("SELECT count(*) FROM binding_mac_port WHERE mac = '" PC_MAC "' AND "
		    "port_id = 'Gi1/0/3' AND source = 'snmp'") == 1);
	/* the uplink's 10 MACs are not desks */
	long up = count("SELECT count(*) FROM binding_mac_port WHERE port_id = 'Gi1/0/12'");
	CHECKF(up == 0, "%ld mac-port bindings on the uplink Gi1/0/12", up);
	/* IP -> MAC from the gateway's ipNetToPhysicalTable */
	CHECK(count("SELECT count(*) FROM binding_ip_mac WHERE ip = '" PHONE_IP "' AND mac = '"
		    PHONE_MAC "' AND source = 'snmp'") == 1);
	CHECK(count("SELECT count(*) FROM binding_ip_mac WHERE ip = '127.0.0.51' AND mac = '"
		    PC_MAC "'") == 1);
	/* LLDP: the phone with its LLDP-MED inventory, the core switch as a network device */
	CHECK(count("SELECT count(*) FROM lldp_neighbor n JOIN switch s ON s.id = n.switch_id "
		    "WHERE s.key = 'sw-e2e' AND n.local_port_id = 'Gi1/0/5' AND "
		    "n.sys_name = 'SEP0050B6000050' AND NOT n.is_network_device AND "
		    "n.med_model = 'DeskPhone 7' AND n.med_serial = 'PHN-0050' AND "
		    "n.med_mfg = 'ExampleTel'") == 1);
	CHECK(count("SELECT count(*) FROM lldp_neighbor WHERE local_port_id = 'Gi1/0/12' AND "
		    "sys_name = 'core-1' AND is_network_device") == 1);
	/* status: success, no error, the uplink named */
	CHECK(count("SELECT count(*) FROM switch_poll_status t JOIN switch s ON s.id = t.switch_id "
		    "WHERE s.key = 'sw-e2e' AND t.last_success IS NOT NULL AND t.last_error IS NULL "
		    "AND t.consecutive_failures = 0 AND t.rows_seen > 0 AND "
		    "'Gi1/0/12' = ANY (t.uplink_ports)") == 1);
	CHECK(count("SELECT count(*) FROM mac_move") == 0);
	/* sw-dead has poll_enabled = false: not polled */
	CHECK(count("SELECT count(*) FROM switch_poll_status t JOIN switch s ON s.id = t.switch_id "
		    "WHERE s.key = 'sw-dead'") == 0);
	E.first_cycle_ok = true;
}

/* ---- HELD ---- */

static const char *req_any(void)
{
	return "<locationRequest xmlns=\"" HELD_NS "\"/>";
}

#define CA_PATH "/held:locationResponse/pidf:presence/dm:device/gp:geopriv/gp:location-info/" \
	"ca:civicAddress"

/* ca:ROOM of the answer to the phone's request ("error:CODE" / "curl:N" otherwise). */
static char *phone_room(void)
{
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, req_any(), PHONE_IP, &r);
	char out[128];
	xmlDocPtr d = r.curl_code == 0 ? xp_parse(r.body, r.body_len) : NULL;
	if (r.curl_code != 0) {
		snprintf(out, sizeof out, "curl:%d", r.curl_code);
	} else if (!d) {
		snprintf(out, sizeof out, "http:%ld", r.status);
	} else if (xp_count(d, "/held:error") == 1) {
		char *c = xp_str(d, "/held:error/@code");
		snprintf(out, sizeof out, "error:%s", c);
		free(c);
	} else {
		char *room = xp_str(d, "string(//ca:civicAddress/ca:ROOM)");
		snprintf(out, sizeof out, "%s", room);
		free(room);
	}
	if (d)
		xmlFreeDoc(d);
	th_resp_free(&r);
	return strdup(out);
}

struct room_ctx {
	const char *want;
	char last[128];
};

static bool room_is(void *ctx)
{
	struct room_ctx *c = ctx;
	char *room = phone_room();
	snprintf(c->last, sizeof c->last, "%s", room);
	bool ok = strcmp(room, c->want) == 0;
	free(room);
	return ok;
}

/* The answer to 127.0.0.50, element by element: one dm:device of the phone's MAC, method
 * Wiremap, the civic address of the port's location (room). */
static void expect_phone_at(const char *room)
{
	struct room_ctx c = {.want = room};
	double dt = 0;
	if (!CHECKF(th_wait_until(60, 100, room_is, &c, &dt),
		    "the phone's answer says ROOM \"%s\", want \"%s\"", c.last, room)) {
		char *log = th_lisd_log(&E.lisd);
		size_t n = strlen(log);
		t_diag("lisd log tail: %s", th_flat(n > 1200 ? log + n - 1200 : log));
		free(log);
		return;
	}
	t_diag("lisd answered ROOM %s %.2f s after the cycle", room, dt);
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, req_any(), PHONE_IP, &r);
	CHECKF(r.curl_code == 0 && r.status == 200, "curl %d HTTP %ld", r.curl_code, r.status);
	xmlDocPtr d = xp_parse(r.body, r.body_len);
	if (!CHECKF(d != NULL, "not XML: %s", th_flat(r.body))) {
		th_resp_free(&r);
		return;
	}
	const char *P = "/held:locationResponse/pidf:presence";
	char x[512];
	CHECK(xp_count(d, P) == 1);
	snprintf(x, sizeof x, "%s/dm:device", P);
	CHECK(xp_count(d, x) == 1);
	snprintf(x, sizeof x, "%s/pidf:tuple", P);
	CHECK(xp_count(d, x) == 0);
	snprintf(x, sizeof x, "string(%s/dm:device/dm:deviceID)", P);
	char *v = xp_str(d, x);
	CHECK_STR(v, "mac:" PHONE_MAC12);
	free(v);
	snprintf(x, sizeof x, "string(%s/dm:device/gp:geopriv/gp:method)", P);
	v = xp_str(d, x);
	CHECK_STR(v, "Wiremap");
	free(v);
	CHECK(xp_count(d, CA_PATH) == 1);
	struct {
		const char *el, *want;
	} civic[] = {{"country", "US"}, {"A1", "NY"}, {"A3", "New York"}, {"RD", "Broadway"},
		     {"STS", "ST"}, {"HNO", "200"}, {"PC", "10001"}, {"BLD", "East"},
		     {"FLR", "1"}, {"ROOM", room}};
	for (size_t i = 0; i < sizeof civic / sizeof civic[0]; i++) {
		snprintf(x, sizeof x, "string(" CA_PATH "/ca:%s)", civic[i].el);
		v = xp_str(d, x);
		CHECKF(strcmp(v, civic[i].want) == 0, "ca:%s is \"%s\", want \"%s\"", civic[i].el, v,
		       civic[i].want);
		free(v);
	}
	/* a port answer is precise: no fallback note */
	snprintf(x, sizeof x, "%s/dm:device/dm:note", P);
	CHECK(xp_count(d, x) == 0);
	xmlFreeDoc(d);
	th_resp_free(&r);
}

static void test_held_from_phone_ip_gives_its_port_location(void)
{
	if (!CHECKF(E.first_cycle_ok, "no first cycle"))
		return;
	expect_phone_at("105");
}

static void test_second_cycle_duplicates_nothing(void)
{
	if (!CHECKF(E.first_cycle_ok, "no first cycle"))
		return;
	char *first = th_pg_query1(&E.pg, "SELECT first_seen FROM binding_mac_port WHERE mac = '"
				   PHONE_MAC "'");
	char *last = th_pg_query1(&E.pg, "SELECT last_seen FROM binding_mac_port WHERE mac = '"
				  PHONE_MAC "'");
	long macs = count("SELECT count(*) FROM binding_mac_port");
	long ips = count("SELECT count(*) FROM binding_ip_mac");
	long nb = count("SELECT count(*) FROM lldp_neighbor");
	struct th_proc p;
	run_once(&p);
	CHECKF(p.status == 0, "wiremapd --once exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);
	CHECK(count("SELECT count(*) FROM binding_mac_port") == macs);
	CHECK(count("SELECT count(*) FROM binding_ip_mac") == ips);
	CHECK(count("SELECT count(*) FROM lldp_neighbor") == nb);
	CHECK(count("SELECT count(*) FROM mac_move") == 0);
	char *first2 = th_pg_query1(&E.pg, "SELECT first_seen FROM binding_mac_port WHERE mac = '"
				    PHONE_MAC "'");
	char *last2 = th_pg_query1(&E.pg, "SELECT last_seen FROM binding_mac_port WHERE mac = '"
				   PHONE_MAC "'");
	CHECK_STR(first2, first);
	CHECKF(last && last2 && strcmp(last2, last) > 0, "last_seen %s then %s", last, last2);
	free(first);
	free(last);
	free(first2);
	free(last2);
}

static void test_phone_moves_next_cycle_and_held_answer_follow(void)
{
	if (!CHECKF(E.first_cycle_ok, "no first cycle"))
		return;
	/* the switch now answers with the recording where the phone is on Gi1/0/9 */
	CHECK(th_pg_exec(&E.pg, "lis", "UPDATE switch SET snmp_profile = 'moved' "
			 "WHERE key = 'sw-e2e'") == 0);
	struct th_proc p;
	run_once(&p);
	CHECKF(p.status == 0, "wiremapd --once exit %d: %s", p.status, th_flat(p.err));
	const char *moved[] = {"poll", "switch=sw-e2e", "result=ok", "moves=1", NULL};
	CHECKF(has_line(p.err, moved) || has_line(p.out, moved),
	       "no `poll switch=sw-e2e ... result=ok ... moves=1` line: %s", th_flat(p.err));
	check_no_secrets(&p);
	th_proc_free(&p);
	CHECK(count("SELECT count(*) FROM mac_move m JOIN switch s ON s.id = m.to_switch_id "
		    "WHERE m.mac = '" PHONE_MAC "' AND m.from_switch_id = s.id AND "
		    "m.from_port_id = 'Gi1/0/5' AND m.to_port_id = 'Gi1/0/9' AND s.key = 'sw-e2e' "
		    "AND m.moved_at > now() - interval '5 minutes' AND m.source = 'snmp'") == 1);
	CHECK(count("SELECT count(*) FROM mac_move") == 1);
	CHECK(count("SELECT count(*) FROM binding_mac_port WHERE mac = '" PHONE_MAC "' AND "
		    "port_id = 'Gi1/0/9' AND source = 'snmp'") == 1);
	/* the newest binding is on the new port */
	char *newest = th_pg_query1(&E.pg, "SELECT port_id FROM binding_mac_port WHERE mac = '"
				    PHONE_MAC "' ORDER BY last_seen DESC LIMIT 1");
	CHECK_STR(newest, "Gi1/0/9");
	free(newest);
	CHECK(count("SELECT count(*) FROM lldp_neighbor WHERE local_port_id = 'Gi1/0/9' AND "
		    "sys_name = 'SEP0050B6000050'") == 1);
	/* lisd reloads on the NOTIFY and the phone's answer follows it */
	expect_phone_at("109");
}

static void test_unreachable_switch_exit_1_status_says_why_no_credentials(void)
{
	if (!CHECKF(E.first_cycle_ok, "no first cycle"))
		return;
	CHECK(th_pg_exec(&E.pg, "lis", "UPDATE switch SET poll_enabled = true "
			 "WHERE key = 'sw-dead'") == 0);
	struct th_proc p;
	double t0 = th_now();
	run_once(&p);
	double dt = th_now() - t0;
	CHECKF(p.status == 1, "wiremapd --once exit %d, want 1: %s", p.status, th_flat(p.err));
	t_diag("--once with an unreachable switch took %.1f s", dt);
	const char *dead[] = {"poll", "switch=sw-dead", "address=127.0.0.9", NULL};
	const char *ok[] = {"poll", "switch=sw-e2e", "result=ok", NULL};
	CHECKF(has_line(p.err, dead) || has_line(p.out, dead), "no poll line for sw-dead: %s",
	       th_flat(p.err));
	/* nothing answers: a timeout (wiremapd(8) LOGGING: result=ok|timeout|error), in words */
	const char *dead_timeout[] = {"switch=sw-dead", "result=timeout", NULL};
	CHECKF(has_line(p.err, dead_timeout) || has_line(p.out, dead_timeout),
	       "sw-dead's poll line does not say result=timeout");
	CHECKF(has_line(p.err, ok) || has_line(p.out, ok), "sw-e2e was not polled too: %s",
	       th_flat(p.err));
	check_no_secrets(&p);
	check_metrics_file("sw-dead", "timeout", false);
	char *line = strstr(p.err, "switch=sw-dead");
	if (line)
		t_diag("%.*s", (int)strcspn(line, "\n"), line);
	th_proc_free(&p);
	char *err = th_pg_query1(&E.pg, "SELECT coalesce(t.last_error, '') FROM switch_poll_status t "
				 "JOIN switch s ON s.id = t.switch_id WHERE s.key = 'sw-dead'");
	CHECKF(err && err[0], "sw-dead last_error \"%s\"", err ? err : "(no row)");
	if (err) {
		CHECK(!strstr(err, V3_AUTH) && !strstr(err, V3_PRIV));
		CHECKF(strcasestr(err, "timeout") || strcasestr(err, "timed out"),
		       "last_error does not say it timed out");
		/* words, not a raw library code ("Unknown error -24") */
		CHECKF(!strstr(err, "Unknown error"), "last_error \"%s\"", err);
		t_diag("sw-dead last_error: %s", err);
	}
	free(err);
	CHECK(count("SELECT count(*) FROM switch_poll_status t JOIN switch s ON s.id = t.switch_id "
		    "WHERE s.key = 'sw-dead' AND t.last_success IS NULL AND "
		    "t.consecutive_failures >= 1 AND t.last_attempt > now() - interval '5 minutes'")
	      == 1);
	CHECK(count("SELECT count(*) FROM switch_poll_status t JOIN switch s ON s.id = t.switch_id "
		    "WHERE s.key = 'sw-e2e' AND t.last_error IS NULL AND "
		    "t.consecutive_failures = 0") == 1);
	/* the phone is still where it was */
	expect_phone_at("109");
}

/* An unknown [daemon] user is a configuration error, said before anything runs. */
static void test_unknown_user_is_a_configuration_error(void)
{
	struct th_proc p;
	char *argv[] = {(char *)wiremapd_path(), "-c", E.conf, "--user", "no-such-user-wmd",
		"--check-config", NULL};
	th_run(&p, argv, NULL, 30);
	CHECKF(p.status == 2, "exit %d: %s", p.status, th_flat(p.err));
	CHECKF(strstr(p.err, "user \"no-such-user-wmd\" does not exist") != NULL, "%s",
	       th_flat(p.err));
	th_proc_free(&p);
}

struct wmd_log {
	const char *path;
	const char *const *needles;
};

static bool wmd_log_has(void *ctx)
{
	struct wmd_log *l = ctx;
	char *log = th_read_file(l->path, NULL);
	bool ok = log && has_line(log, l->needles);
	free(log);
	return ok;
}

/* Started as root with [daemon] user = nobody, wiremapd is nobody from the start: no
 * capability, no supplementary group, and it polls and writes as nobody (PostgreSQL's socket
 * folder is opened to others for it). Root only. */
static void test_started_as_root_runs_as_its_user(void)
{
	if (!CHECKF(E.first_cycle_ok, "no first cycle") || !CHECK(chmod(E.pg.dir, 0711) == 0))
		return;
	/* sw-e2e due at once, the unreachable one out of the way */
	CHECK(th_pg_exec(&E.pg, "lis", "UPDATE switch SET poll_enabled = (key = 'sw-e2e')") == 0);
	CHECK(th_pg_exec(&E.pg, "lis", "UPDATE switch_poll_status SET last_attempt = "
			 "last_attempt - interval '1 day', last_success = last_success - "
			 "interval '1 day'") == 0);
	char logp[700];
	snprintf(logp, sizeof logp, "%s/wiremapd-nobody.log", E.work);
	char *argv[] = {(char *)wiremapd_path(), "-c", E.conf, "--user", "nobody",
		"--group", "nogroup", NULL};
	pid_t pid = spawn(argv, logp);
	if (!CHECK(pid > 0))
		return;
	const char *started[] = {"start", "mode=daemon", "user=nobody", NULL};
	const char *polled[] = {"poll", "switch=sw-e2e", "result=ok", NULL};
	struct wmd_log a = {logp, started}, b = {logp, polled};
	CHECKF(th_wait_until(60, 100, wmd_log_has, &a, NULL), "no start line naming nobody");
	CHECKF(th_wait_until(120, 100, wmd_log_has, &b, NULL), "sw-e2e not polled as nobody");
	char uid[128], gid[128], groups[128], caps[64];
	th_status_field(pid, "Uid", uid, sizeof uid);
	th_status_field(pid, "Gid", gid, sizeof gid);
	th_status_field(pid, "Groups", groups, sizeof groups);
	th_status_field(pid, "CapEff", caps, sizeof caps);
	CHECKF(strcmp(uid, "65534 65534 65534 65534") == 0, "Uid: %s", uid);
	CHECKF(strcmp(gid, "65534 65534 65534 65534") == 0, "Gid: %s", gid);
	CHECKF(strcmp(groups, "65534") == 0 || strcmp(groups, "65534 ") == 0, "Groups: %s",
	       groups);
	CHECKF(strcmp(caps, "0000000000000000") == 0, "CapEff: %s", caps);
	kill(pid, SIGTERM);
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char *log = th_read_file(logp, NULL);
	CHECKF(log && !strstr(log, COMMUNITY_A) && !strstr(log, V3_AUTH), "secret in the log");
	free(log);
}

int main(void)
{
	t_run("setup_db_snmpsim_and_lisd", test_setup_db_snmpsim_and_lisd);
	t_run("once_writes_bindings_lldp_and_status_from_snmp",
	      test_once_writes_bindings_lldp_and_status_from_snmp);
	t_run("held_from_phone_ip_gives_its_port_location",
	      test_held_from_phone_ip_gives_its_port_location);
	t_run("second_cycle_duplicates_nothing", test_second_cycle_duplicates_nothing);
	t_run("phone_moves_next_cycle_and_held_answer_follow",
	      test_phone_moves_next_cycle_and_held_answer_follow);
	t_run("unreachable_switch_exit_1_status_says_why_no_credentials",
	      test_unreachable_switch_exit_1_status_says_why_no_credentials);
	t_run("unknown_user_is_a_configuration_error", test_unknown_user_is_a_configuration_error);
	if (geteuid() == 0)
		t_run("started_as_root_runs_as_its_user", test_started_as_root_runs_as_its_user);
	else
		t_skip("started_as_root_runs_as_its_user", "not root: giving up root cannot be "
		       "tried");
	int rc = t_done();
	if (E.lisd.pid > 0)
		th_lisd_stop(&E.lisd);
	stop_snmpsim();
	th_pg_stop(&E.pg);
	return rc;
}
