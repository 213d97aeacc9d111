/* lisd behind a real HAProxy, configured by deploy/topology/haproxy.cfg (its ports, CA and
 * the two lisd of the test put in): TCP passthrough with the PROXY protocol v2, health from
 * the admin listeners. A device's request through the balancer is located by the device's
 * own address, not the balancer's; a direct request still works; a PROXY header from an
 * address not in proxy_from, a malformed one and a silent connection from the balancer are
 * refused and logged; stopping one lisd loses no request. */
#include "check.h"
#include "corr.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* HAProxy connects to lisd from here (the shipped file leaves it to the system: 127.0.0.1
 * on one machine), so that the harness, which connects from 127.0.0.1, is a direct client. */
#define BALANCER "127.0.0.2"

static struct ck_env E;
static struct th_lisd other;       /* the second lisd */
static struct th_lisd via;         /* HAProxy's frontend, as a th_lisd for the kit */
static pid_t haproxy;
static char cfg_path[400], haproxy_log[400];
static int admin_a, admin_b;
static bool up;

/* drain: [server] drain, longer than HAProxy's fall 2 x inter 1s of haproxy.cfg */
static bool start_lisd(struct th_lisd *l, int admin_port, int drain)
{
	char sect[300], server[200];
	snprintf(sect, sizeof sect, "[wiremap]\nmax_binding_age = 86400\n"
		 "[admin]\nlisten = 127.0.0.1\nport = %d\n", admin_port);
	snprintf(server, sizeof server, "proxy_from = " BALANCER "\nhandshake_timeout = 2\n"
		 "drain = %d\n", drain);
	if (!CHECK(th_lisd_start(l, "127.0.0.1", &E.tls, E.pg.conninfo, server, sect) == 0))
		return false;
	/* the snapshot is in: the device at 127.0.0.10 is located, directly */
	struct ck_answer c = {&E, l, "127.0.0.10", "hq-410"};
	return CHECKF(th_wait_until(60, 50, ck_answers, &c, NULL), "lisd never located");
}

/* Replace the one occurrence of from in text by to; false when it is not there once. */
static bool subst(char *text, size_t size, const char *from, const char *to)
{
	char *p = strstr(text, from);
	if (!p || strstr(p + 1, from))
		return false;
	size_t tail = strlen(p + strlen(from));
	if (strlen(text) - strlen(from) + strlen(to) >= size)
		return false;
	memmove(p + strlen(to), p + strlen(from), tail + 1);
	memcpy(p, to, strlen(to));
	return true;
}

static bool write_config(int port)
{
	char *text = th_read_file(th_src("deploy/topology/haproxy.cfg"), NULL);
	if (!CHECK(text))
		return false;
	char cfg[8192], to[600];
	snprintf(cfg, sizeof cfg, "%s", text);
	free(text);
	bool ok = true;
	snprintf(to, sizeof to, "bind 127.0.0.1:%d", port);
	ok &= CHECK(subst(cfg, sizeof cfg, "bind 127.0.0.1:8443", to));
	snprintf(to, sizeof to, "server lisd-a 127.0.0.1:%d port %d", E.lisd.port, admin_a);
	ok &= CHECK(subst(cfg, sizeof cfg, "server lisd-a 127.0.0.1:9443 port 9444", to));
	snprintf(to, sizeof to, "server lisd-b 127.0.0.1:%d port %d", other.port, admin_b);
	ok &= CHECK(subst(cfg, sizeof cfg, "server lisd-b 127.0.0.1:9543 port 9544", to));
	snprintf(to, sizeof to, "ca-file %s", E.tls.cert);
	ok &= CHECK(subst(cfg, sizeof cfg, "ca-file /etc/lis/tls/ca.pem", to));
	ok &= CHECK(strstr(cfg, "send-proxy-v2") != NULL);
	ok &= CHECK(subst(cfg, sizeof cfg, "balance leastconn", "balance leastconn\n\tsource "
			  BALANCER));
	snprintf(cfg_path, sizeof cfg_path, "%s/haproxy.cfg", E.work);
	return ok && CHECK(th_write_file(cfg_path, cfg) == 0);
}

static bool haproxy_checks(void)
{
	char *argv[] = {"haproxy", "-c", "-f", cfg_path, NULL};
	struct th_proc p;
	th_run(&p, argv, NULL, 30);
	bool ok = CHECKF(p.status == 0, "haproxy -c: %s %s", th_flat(p.out), th_flat(p.err));
	th_proc_free(&p);
	return ok;
}

static void stop_haproxy(void)
{
	if (haproxy > 0) {
		kill(haproxy, SIGTERM);
		waitpid(haproxy, NULL, 0);
		haproxy = 0;
	}
}

static bool start_haproxy(void)
{
	snprintf(haproxy_log, sizeof haproxy_log, "%s/haproxy.log", E.work);
	char *argv[] = {"haproxy", "-db", "-f", cfg_path, NULL};
	haproxy = th_spawn(argv, haproxy_log);
	atexit(stop_haproxy);
	return CHECK(haproxy > 0);
}

/* Both servers are up in HAProxy's eyes: a request through it is answered. */
static bool through_answers(void *ctx)
{
	(void)ctx;
	struct ck_answer c = {&E, &via, "127.0.0.10", "hq-410"};
	return ck_answers(&c);
}

static void test_setup(void)
{
	if (!ck_db_setup(&E))
		return;
	admin_a = th_free_port("127.0.0.1");
	if (!start_lisd(&E.lisd, admin_a, 0))
		return;
	admin_b = th_free_port("127.0.0.1");
	while (admin_b == admin_a)
		admin_b = th_free_port("127.0.0.1");
	if (!start_lisd(&other, admin_b, 4))
		return;
	int port = th_free_port("127.0.0.1");
	if (!write_config(port) || !haproxy_checks() || !start_haproxy())
		return;
	via = E.lisd;
	via.port = port;
	snprintf(via.url, sizeof via.url, "https://127.0.0.1:%d/held", port);
	snprintf(via.base, sizeof via.base, "https://127.0.0.1:%d", port);
	if (!CHECKF(th_wait_until(60, 100, through_answers, NULL, NULL),
		    "no answer through HAProxy")) {
		char *log = th_read_file(haproxy_log, NULL);
		t_diag("haproxy: %s", th_flat(log ? log : ""));
		free(log);
		return;
	}
	up = true;
}

/* Each device is located by its own address: the PROXY header carried it past the balancer.
 * Without it, every request would come from 127.0.0.1 and be located nowhere. */
static void test_devices_located_by_their_own_address(void)
{
	static const struct { const char *from, *want; } cases[] = {
		{"127.0.0.10", "hq-410"}, {"127.0.0.11", "hq-floor4"}, {"127.0.2.5", "campus"},
		{"127.0.0.16", "error:locationUnknown"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (int k = 0; k < 4; k++) {
			char *w = ck_which(&E, &via, ck_req("civic", false), cases[i].from);
			CHECKF(strcmp(w, cases[i].want) == 0, "via HAProxy from %s: %s, want %s",
			       cases[i].from, w, cases[i].want);
			free(w);
		}
	/* both lisd answered some (leastconn spreads new connections) and logged the device */
	CHECK(ck_log_has(&E.lisd, "127.0.0.10", (char *)NULL));
	CHECK(ck_log_has(&other, "127.0.0.10", (char *)NULL));
}

static void test_direct_requests_still_served(void)
{
	ck_expect(&E, ck_req(NULL, false), "127.0.0.10", NULL, "hq-410", "Wiremap", NULL, false);
}

/* A raw connection from `from` to lisd A: send bytes, then wait (10 s at most) for lisd to
 * close it. True when it did. */
static bool closed_after(const char *from, const void *bytes, size_t n)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in me = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
	inet_pton(AF_INET, from, &me.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	to.sin_port = htons((uint16_t)E.lisd.port);
	bool closed = false;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&me, sizeof me) == 0 &&
	    connect(fd, (struct sockaddr *)&to, sizeof to) == 0 &&
	    (n == 0 || write(fd, bytes, n) == (ssize_t)n)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char buf[256];
		double end = th_now() + 10;
		while (!closed && th_now() < end) {
			if (poll(&p, 1, 200) == 1) {
				ssize_t r = read(fd, buf, sizeof buf);
				closed = r <= 0;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	return closed;
}

static void test_bad_and_missing_headers_from_the_balancer_refused(void)
{
	/* the balancer's address, a version-1 header: not what lisd takes */
	const char *v1 = "PROXY TCP4 127.0.0.10 127.0.0.1 40000 8443\r\n";
	CHECK(closed_after(BALANCER, v1, strlen(v1)));
	CHECK(ck_log_has(&E.lisd, "proxy header refused", "from=" BALANCER,
			 "no PROXY protocol v2 signature", (char *)NULL));
	/* the balancer's address, nothing sent: closed after handshake_timeout (2 s here) */
	CHECK(closed_after(BALANCER, NULL, 0));
	CHECK(ck_log_has(&E.lisd, "proxy header refused", "within handshake_timeout",
			 (char *)NULL));
}

/* Anyone else who sends a PROXY header has it taken as the start of TLS: no answer, and
 * certainly not one for the address it claims. */
static void test_header_from_elsewhere_is_not_honoured(void)
{
	CURL *c = curl_easy_init();
	if (!CHECK(c))
		return;
	char url[200];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/held", E.lisd.port);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/held+xml");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, ck_req(NULL, false));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CAINFO, E.tls.cert);
	curl_easy_setopt(c, CURLOPT_INTERFACE, "127.0.0.12");
	curl_easy_setopt(c, CURLOPT_HAPROXYPROTOCOL, 1L); /* "PROXY TCP4 127.0.0.12 ..." */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	CHECKF(rc != CURLE_OK && status == 0, "a PROXY line from 127.0.0.12 got curl %d, HTTP %ld",
	       rc, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static atomic_long load_ok, load_bad;
static atomic_bool load_stop;

static void *load(void *arg)
{
	(void)arg;
	while (!atomic_load(&load_stop)) {
		char *w = ck_which(&E, &via, ck_req("civic", false), "127.0.0.10");
		atomic_fetch_add(strcmp(w, "hq-410") == 0 ? &load_ok : &load_bad, 1);
		free(w);
	}
	return NULL;
}

static bool more_ok(void *ctx)
{
	return atomic_load(&load_ok) >= *(long *)ctx;
}

static bool b_not_ready(void *ctx)
{
	(void)ctx;
	char url[100];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/readyz", admin_b);
	struct th_req req = {.method = "GET", .url = url, .cafile = E.tls.cert};
	struct th_resp r;
	th_https(&req, &r);
	bool draining = r.curl_code == 0 && r.status == 503 && r.body &&
			strstr(r.body, "draining");
	th_resp_free(&r);
	return draining;
}

static void *stop_b(void *arg)
{
	*(int *)arg = th_lisd_stop(&other);
	return NULL;
}

/* lisd-b stops with [server] drain = 4: its /readyz says 503 at once, HAProxy's checks take
 * it out, and only then does it close its connections. */
static void test_one_lisd_stopped_no_request_lost(void)
{
	pthread_t th, stopper;
	if (!CHECK(pthread_create(&th, NULL, load, NULL) == 0))
		return;
	long n = 30;
	CHECK(th_wait_until(60, 20, more_ok, &n, NULL));
	int rc = -1;
	if (CHECK(pthread_create(&stopper, NULL, stop_b, &rc) == 0)) {
		CHECKF(th_wait_until(10, 50, b_not_ready, NULL, NULL), "/readyz never said draining");
		pthread_join(stopper, NULL);
		CHECKF(rc == 0, "lisd-b exit %d", rc);
		CHECK(ck_log_has(&other, "stop signal=TERM drain_s=4", (char *)NULL));
	}
	n = atomic_load(&load_ok) + 60;
	CHECKF(th_wait_until(60, 20, more_ok, &n, NULL), "no answers after one lisd stopped");
	atomic_store(&load_stop, true);
	pthread_join(th, NULL);
	t_diag("%ld answered through HAProxy, %ld not", atomic_load(&load_ok),
	       atomic_load(&load_bad));
	CHECKF(atomic_load(&load_bad) == 0, "%ld requests lost while a lisd stopped",
	       atomic_load(&load_bad));
}

int main(void)
{
	t_run("setup", test_setup);
	if (!up) {
		t_skip("balancer cases", "setup failed");
	} else {
		t_run("devices_located_by_their_own_address",
		      test_devices_located_by_their_own_address);
		t_run("direct_requests_still_served", test_direct_requests_still_served);
		t_run("bad_and_missing_headers_from_the_balancer_refused",
		      test_bad_and_missing_headers_from_the_balancer_refused);
		t_run("header_from_elsewhere_is_not_honoured",
		      test_header_from_elsewhere_is_not_honoured);
		t_run("one_lisd_stopped_no_request_lost", test_one_lisd_stopped_no_request_lost);
	}
	int rc = t_done();
	stop_haproxy();
	if (E.lisd.pid)
		th_lisd_stop(&E.lisd);
	if (other.pid)
		th_lisd_stop(&other);
	th_pg_stop(&E.pg);
	return rc;
}
