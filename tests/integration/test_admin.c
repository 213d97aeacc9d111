/* The admin listener ([admin], lisd(8) ADMIN LISTENER) scraped over HTTPS: /healthz, /readyz
 * before and after the first snapshot and while PostgreSQL is away, /metrics in the Prometheus
 * text format 0.0.4 (every line checked by a validator here) whose counters move by exactly
 * the answers given, 404 and 405, and the loopback rule of [admin] listen. */
#include "check.h"
#include "corr.h"
#include "prom_check.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ck_env E;
static char admin[160];          /* https://127.0.0.1:PORT */
static bool up;

static void test_validator_refuses_what_the_format_does_not_allow(void)
{
	/* the validator is what the scrapes below lean on: it must say no */
	static const char *const bad[] = {
		"x 1\n",                                                  /* no TYPE */
		"# HELP x h\n# TYPE x gauge\nx{a=\"b} 1\n",                /* open quote */
		"# HELP x h\n# TYPE x gauge\nx{a=\"\\q\"} 1\n",            /* bad escape */
		"# HELP x h\n# TYPE x gauge\nx one\n",                      /* value */
		"# HELP x h\n# TYPE x gauge\nx 1\nx 2\n",                   /* twice */
		"# HELP x h\n# TYPE x gauge\ny 1\n",                        /* other family */
		"# HELP x h\n# TYPE x frob\nx 1\n",                         /* type */
		("# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
		 "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),           /* not cumulative */
		/* _count is not the +Inf bucket */
		"# HELP h h\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
		"# HELP x h\n# TYPE x gauge\nx 1",                          /* no final newline */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECKF(prom_check(bad[i])[0] != '\0', "accepted: %s", th_flat(bad[i]));
	const char *good = "# HELP x h\n# TYPE x gauge\nx{a=\"q\\\"\\\\\\n\"} NaN\nx 1e3 123\n"
			   "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\n"
			   "h_bucket{le=\"+Inf\"} 2\nh_sum 1.5\nh_count 2\n";
	CHECKF(prom_check(good)[0] == '\0', "refused: %s", prom_check(good));
}

/* ---- scraping ---- */

/* method path on the admin listener; false (a failed check) when no answer came. r is to be
 * freed either way. */
static bool get(const char *path, const char *method, struct th_resp *r)
{
	char url[300];
	memset(r, 0, sizeof *r);
	if (!up)
		return false;
	snprintf(url, sizeof url, "%s%s", admin, path);
	struct th_req q = {.method = method, .url = url, .cafile = E.tls.cert};
	th_https(&q, r);
	return CHECKF(r->curl_code == 0, "%s %s: %s", method, url, r->errbuf);
}

/* The status of method path, and its Allow header in allow (64 bytes); -1: no answer. */
static long status_of(const char *path, const char *method, char *allow)
{
	struct th_resp r;
	long st = get(path, method, &r) ? r.status : -1;
	snprintf(allow, 64, "%.63s", r.allow);
	th_resp_free(&r);
	return st;
}

/* /metrics, checked against the format; NULL after a failed check. */
static char *scrape(void)
{
	struct th_resp r;
	if (!get("/metrics", "GET", &r)) {
		th_resp_free(&r);
		return NULL;
	}
	bool ok = CHECKF(r.status == 200, "status %ld", r.status) &&
		  CHECK_STR(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	const char *why = ok ? prom_check(r.body) : "";
	ok = ok && CHECKF(!why[0], "%s", why);
	char *body = ok ? strdup(r.body) : NULL;
	th_resp_free(&r);
	return body;
}

/* A series changed by exactly want between two scrapes. */
static void check_delta_at(const char *before, const char *after, const char *series,
			   double want, int line)
{
	double a = prom_sample(before, series), b = prom_sample(after, series);
	t_check(!isnan(a) && !isnan(b) && b - a == want, __FILE__, line, series,
		"%s went from %g to %g, not by %g", series, a, b, want);
}
#define check_delta(a, b, s, want) check_delta_at((a), (b), (s), (want), __LINE__)

struct series_ctx {
	const char *series;
	double want;
	bool at_least;
};

static bool series_is(void *ctx)
{
	struct series_ctx *c = ctx;
	char *m = scrape();
	double v = m ? prom_sample(m, c->series) : NAN;
	free(m);
	return c->at_least ? v >= c->want : v == c->want;
}

static bool wait_series(const char *series, double want, bool at_least)
{
	struct series_ctx c = {series, want, at_least};
	return CHECKF(th_wait_until(60, 100, series_is, &c, NULL), "%s never %s %g", series,
		      at_least ? ">=" : "==", want);
}

/* ---- tests ---- */

static void test_setup_lisd_with_postgresql_down(void)
{
	/* The wiremap is in PostgreSQL, which is then stopped: lisd starts without a snapshot. */
	if (!ck_db_setup(&E) || !CHECK(th_pg_stop(&E.pg) == 0))
		return;
	int port = th_free_port("127.0.0.1");
	char sect[256];
	snprintf(sect, sizeof sect, "[wiremap]\nmax_binding_age = 86400\n[admin]\nport = %d\n",
		 port);
	if (!CHECK(port > 0) ||
	    !CHECK(th_lisd_start(&E.lisd, "127.0.0.1", &E.tls, E.pg.conninfo, NULL, sect) == 0))
		return;
	snprintf(admin, sizeof admin, "https://127.0.0.1:%d", port);
	up = true;
}

static void test_healthz_answers_ok(void)
{
	struct th_resp r;
	char allow[64];
	if (get("/healthz", "GET", &r)) {
		CHECKF(r.status == 200, "status %ld", r.status);
		CHECK_STR(r.body, "ok\n");
		CHECK_STR(r.content_type, "text/plain; charset=utf-8");
	}
	th_resp_free(&r);
	CHECK(status_of("/healthz", "HEAD", allow) == 200);
}

static void test_readyz_is_503_before_the_first_snapshot(void)
{
	struct th_resp r;
	if (get("/readyz", "GET", &r)) {
		CHECKF(r.status == 503, "status %ld", r.status);
		CHECK_STR(r.body, "not ready: no wiremap snapshot loaded yet database=down\n");
	}
	th_resp_free(&r);
	char *m = up ? scrape() : NULL;
	if (m) {
		CHECK(prom_sample(m, "lisd_snapshot_loaded") == 0);
		CHECK(isnan(prom_sample(m, "lisd_snapshot_age_seconds")));
		CHECK(prom_sample(m, "lisd_database_up") == 0);
		CHECK(prom_sample(m, "lisd_snapshot_loads_total") == 0);
	}
	/* and a HELD request now is generalLisError, counted with no source */
	char *before = m;
	char *w = up ? ck_which(&E, &E.lisd, ck_req(NULL, false), "127.0.0.10") : NULL;
	CHECK_STR(w, "error:generalLisError");
	free(w);
	char *after = before ? scrape() : NULL;
	if (after) {
		check_delta(before, after, "lisd_answers_total{result=\"generalLisError\"}", 1);
		check_delta(before, after, "lisd_answers_by_source_total{source=\"none\"}", 1);
		check_delta(before, after, "lisd_answer_duration_seconds_count", 1);
	}
	free(before);
	free(after);
}

static void test_readyz_is_200_once_the_snapshot_is_loaded(void)
{
	if (!up || !CHECK(th_pg_restart(&E.pg) == 0))
		return;
	if (!wait_series("lisd_snapshot_loaded", 1, false))
		return;
	struct th_resp r;
	if (get("/readyz", "GET", &r)) {
		CHECKF(r.status == 200, "status %ld", r.status);
		CHECKF(strncmp(r.body, "ready snapshot_age=", 19) == 0 &&
		       strstr(r.body, " database=up\n"), "body %s", th_flat(r.body));
	}
	th_resp_free(&r);
	char *m = scrape();
	if (m) {
		CHECK(prom_sample(m, "lisd_snapshot_loads_total") >= 1);
		CHECK(prom_sample(m, "lisd_snapshot_age_seconds") >= 0);
		CHECK(prom_sample(m, "lisd_snapshot_last_load_duration_seconds") > 0);
		CHECK(prom_sample(m, "lisd_snapshot_last_load_timestamp_seconds") >=
		      prom_sample(m, "lisd_start_time_seconds"));
		CHECK(prom_sample(m, "lisd_database_up") == 1);
		CHECK(prom_sample(m, "lisd_querylog_enabled") == 1);
		CHECK(prom_sample(m, "lisd_querylog_lost_total") == 0);
	}
	free(m);
}

/* Looks at the change feed that took over 0.25 s, from a scrape (NaN: not there). */
static double slow_feed_polls(const char *m)
{
	return prom_sample(m, "lisd_feed_poll_duration_seconds_bucket{le=\"+Inf\"}") -
	       prom_sample(m, "lisd_feed_poll_duration_seconds_bucket{le=\"0.25\"}");
}

/* For th_wait_until(): has a backend been waiting on a lock for 0.3 s or more in a query
 * of the change feed (lisd's poll, behind the test's lock)? */
static bool feed_poll_waited(void *ctx)
{
	(void)ctx;
	return th_pg_count(&E.pg, "SELECT count(*) FROM pg_stat_activity WHERE "
			   "wait_event_type = 'Lock' AND query LIKE '%wiremap_change%' AND "
			   "clock_timestamp() - query_start >= interval '300 ms'") >= 1;
}

/* For th_wait_until(): has a slow look at the feed been counted since the scrape ctx? */
static bool slow_poll_counted(void *ctx)
{
	char *m = scrape();
	bool yes = m && slow_feed_polls(m) >= slow_feed_polls(ctx) + 1;
	free(m);
	return yes;
}

static void test_a_slow_look_at_the_change_feed_shows_in_its_histogram(void)
{
	/* The loader looks at the feed every 20 ms; the test holds a lock on the feed's table
	 * until one look has waited 0.3 s for it: that look lands above 0.25 s, however fast
	 * or slow the machine. */
	char *before = up ? scrape() : NULL;
	if (!before)
		return;
	CHECK(prom_sample(before, "lisd_feed_poll_duration_seconds_count") >= 1);
	CHECK(prom_sample(before, "lisd_feed_poll_duration_seconds_sum") >= 0);
	PGconn *c = PQconnectdb(E.pg.conninfo);
	PGresult *r = NULL;
	if (CHECKF(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c))) {
		r = PQexec(c, "BEGIN; LOCK TABLE wiremap_change IN ACCESS EXCLUSIVE MODE");
		if (CHECKF(PQresultStatus(r) == PGRES_COMMAND_OK, "lock: %s", PQerrorMessage(c)))
			CHECK(th_wait_until(60, 20, feed_poll_waited, NULL, NULL));
		PQclear(r);
		r = PQexec(c, "COMMIT");
		CHECKF(PQresultStatus(r) == PGRES_COMMAND_OK, "commit: %s", PQerrorMessage(c));
		PQclear(r);
	}
	PQfinish(c);
	CHECKF(th_wait_until(60, 50, slow_poll_counted, before, NULL),
	       "no look at the change feed counted above 0.25 s");
	char *after = scrape();
	if (after) {
		double sum = prom_sample(after, "lisd_feed_poll_duration_seconds_sum") -
			     prom_sample(before, "lisd_feed_poll_duration_seconds_sum");
		CHECKF(sum >= 0.3, "the durations added up grew by %g s only", sum);
		CHECK(prom_sample(after, "lisd_feed_poll_duration_seconds_count") >
		      prom_sample(before, "lisd_feed_poll_duration_seconds_count"));
	}
	free(before);
	free(after);
}

static void test_counters_move_by_exactly_the_answers_given(void)
{
	if (!up || !wait_series("lisd_connections_open", 0, false))
		return;
	char *before = scrape();
	if (!before)
		return;
	/* four answers, each on a connection of its own (TLS, one request) */
	static const struct {
		const char *from, *want;
	} asks[] = {
		{"127.0.0.10", "hq-410"},               /* switch port */
		{"127.0.2.5", "campus"},                /* subnet: a fallback */
		{"127.0.0.15", "hq-lobby"},             /* site default: a fallback */
		{"127.0.0.16", "error:locationUnknown"},
	};
	for (size_t i = 0; i < 4; i++) {
		char *w = ck_which(&E, &E.lisd, ck_req(NULL, false), asks[i].from);
		CHECK_STR(w, asks[i].want);
		free(w);
	}
	/* and a connection that never starts TLS: accepted, but no handshake */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)E.lisd.port)};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
	wait_series("lisd_connections_open", 1, false);
	if (fd >= 0)
		close(fd);
	/* every connection closed again (lisd sees the close a moment after curl) */
	wait_series("lisd_connections_open", 0, false);
	char *after = scrape();
	if (after) {
		check_delta(before, after, "lisd_answers_total{result=\"located\"}", 3);
		check_delta(before, after, "lisd_answers_total{result=\"locationUnknown\"}", 1);
		check_delta(before, after, "lisd_answers_total{result=\"generalLisError\"}", 0);
		check_delta(before, after, "lisd_answers_by_source_total{source=\"port\"}", 1);
		check_delta(before, after, "lisd_answers_by_source_total{source=\"subnet\"}", 1);
		check_delta(before, after, "lisd_answers_by_source_total{source=\"site-default\"}",
			    1);
		check_delta(before, after, "lisd_answers_by_source_total{source=\"none\"}", 1);
		check_delta(before, after, "lisd_answers_by_source_total{source=\"bssid\"}", 0);
		check_delta(before, after, "lisd_fallbacks_total", 2);
		check_delta(before, after, "lisd_disagreements_total", 0);
		check_delta(before, after, "lisd_answer_duration_seconds_count", 4);
		check_delta(before, after, "lisd_answer_duration_seconds_bucket{le=\"+Inf\"}", 4);
		check_delta(before, after, "lisd_connections_total", 5);
		check_delta(before, after, "lisd_tls_handshakes_total", 4);
		/* each answer's header left with its body */
		check_delta(before, after, "lisd_tls_joined_writes_total", 4);
		/* two per answer (lis_sockopt.h): TCP_NODELAY after each of its two records, or,
		 * for the short error, a cork before its header and TCP_NODELAY after its body */
		check_delta(before, after, "lisd_sockopt_calls_spared_total", 8);
		check_delta(before, after, "lisd_connections_open", 0);
		CHECK(prom_sample(after, "lisd_answer_duration_seconds_sum") >
		      prom_sample(before, "lisd_answer_duration_seconds_sum"));
	}
	free(before);
	free(after);
}

/* A burst of connections (16 opened back to back before any handshake, as a client opening
 * its pool) is shared among the request threads (2 here): lisd accepts them itself and hands
 * each to the thread its descriptor picks (lis_http.c). libmicrohttpd's own accept gave a
 * burst to the one thread that woke first. */
static double sample_or_0(const char *m, const char *series)
{
	double v = prom_sample(m, series);
	return isnan(v) ? 0 : v;
}

static void test_a_burst_of_connections_is_shared_among_the_threads(void)
{
	char *before = up ? scrape() : NULL;
	if (!before)
		return;
	char script[512], port[16];
	snprintf(script, sizeof script, "%s", th_src("tests/integration/held_burst.py"));
	snprintf(port, sizeof port, "%d", E.lisd.port);
	char *argv[] = {"python3", script, "127.0.0.1", port, E.tls.cert, "16", NULL};
	struct th_proc p;
	th_run(&p, argv, NULL, 120);
	CHECKF(p.status == 0 && strstr(p.out, "answers=16\n"), "exit %d: %s%s", p.status, p.out,
	       th_flat(p.err));
	th_proc_free(&p);
	char *after = scrape();
	if (after) {
		double sum = 0;
		int busy = 0;
		for (int t = 0; t < 2; t++) {
			char series[64];
			snprintf(series, sizeof series,
				 "lisd_answers_by_thread_total{thread=\"%d\"}", t);
			double d = sample_or_0(after, series) - sample_or_0(before, series);
			sum += d;
			busy += d > 0;
		}
		CHECKF(sum == 16 && busy == 2, "answers by thread: %g in all, %d threads answered",
		       sum, busy);
	}
	free(before);
	free(after);
}

static void test_unknown_path_is_404_and_other_methods_405(void)
{
	char allow[64];
	CHECK(status_of("/metrics/x", "GET", allow) == 404);
	CHECK(status_of("/", "GET", allow) == 404);
	static const char *const paths[] = {"/healthz", "/readyz", "/metrics"};
	for (size_t i = 0; i < 3; i++) {
		CHECKF(status_of(paths[i], "POST", allow) == 405, "POST %s", paths[i]);
		CHECK_STR(allow, "GET, HEAD");
	}
	CHECK(status_of("/metrics", "DELETE", allow) == 405);
	CHECK_STR(allow, "GET, HEAD");
}

static void test_postgresql_away_keeps_readyz_200_and_spools(void)
{
	if (!up || !CHECK(th_pg_stop(&E.pg) == 0))
		return;
	if (!wait_series("lisd_database_up", 0, false))
		return;
	struct th_resp r;
	if (get("/readyz", "GET", &r)) {
		CHECKF(r.status == 200, "status %ld", r.status);
		CHECKF(strstr(r.body, " database=down\n") != NULL, "body %s", th_flat(r.body));
	}
	th_resp_free(&r);
	/* an answer from memory, its log entry waiting in the spool */
	char *w = ck_which(&E, &E.lisd, ck_req(NULL, false), "127.0.0.10");
	CHECK_STR(w, "hq-410");
	free(w);
	wait_series("lisd_querylog_spool_entries", 1, true);
	CHECK(th_pg_restart(&E.pg) == 0);
	wait_series("lisd_database_up", 1, false);
	wait_series("lisd_querylog_spool_entries", 0, false);
	wait_series("lisd_querylog_queue_entries", 0, false);
	char *m = scrape();
	if (m)
		CHECK(prom_sample(m, "lisd_querylog_lost_total") == 0);
	free(m);
	CHECK(th_lisd_stop(&E.lisd) == 0);
}

/* lisd --check-config on a file with this [admin] section: its exit status and stderr. */
static int check_config(const char *admin_section, char **err)
{
	const char *d = th_tmpdir("admin-conf");      /* the harness's: removed at exit */
	char path[300], text[2048];
	snprintf(path, sizeof path, "%s/lis.conf", d ? d : "/tmp");
	snprintf(text, sizeof text, "[server]\ntls_cert = %s\ntls_key = %s\n[querylog]\n"
		 "enabled = false\n%s", E.tls.cert, E.tls.key, admin_section);
	if (th_write_file(path, text) < 0)
		return -1;
	char *const argv[] = {(char *)th_lisd_path(), "-c", path, "--check-config", NULL};
	struct th_proc p;
	th_run(&p, argv, NULL, 30);
	*err = strdup(p.err ? p.err : "");
	int status = p.status;
	th_proc_free(&p);
	return status;
}

/* lisd --check-config with this [admin] section exits want, stderr holding needle (or
 * nothing when needle is NULL). */
static void expect_config_at(const char *section, int want, const char *needle, int line)
{
	char *err = NULL;
	int st = check_config(section, &err);
	t_check(st == want && (needle ? err && strstr(err, needle) != NULL : err && !err[0]),
		__FILE__, line, section, "exit %d, stderr %s", st, th_flat(err));
	free(err);
}
#define expect_config(s, want, needle) expect_config_at((s), (want), (needle), __LINE__)

static void test_admin_listen_must_be_loopback_unless_remote(void)
{
	expect_config("[admin]\nlisten = 192.0.2.1\n", 2,
		      "[admin] listen = 192.0.2.1 is not a loopback address");
	expect_config("[admin]\nlisten = ::\n", 2, "set [admin] remote = true to mean it");
	expect_config("[admin]\nlisten = 192.0.2.1\nremote = true\n", 0, NULL);
	expect_config("[admin]\nlisten = ::1\n", 0, NULL);
	expect_config("[admin]\nlisten = 127.0.0.2\n", 0, NULL);
	expect_config("[admin]\nlisten = 0.0.0.0\nport = 0\n", 0, NULL);
}

int main(void)
{
	t_run("validator_refuses_what_the_format_does_not_allow",
	      test_validator_refuses_what_the_format_does_not_allow);
	t_run("setup_lisd_with_postgresql_down", test_setup_lisd_with_postgresql_down);
	t_run("healthz_answers_ok", test_healthz_answers_ok);
	t_run("readyz_is_503_before_the_first_snapshot",
	      test_readyz_is_503_before_the_first_snapshot);
	t_run("readyz_is_200_once_the_snapshot_is_loaded",
	      test_readyz_is_200_once_the_snapshot_is_loaded);
	t_run("a_slow_look_at_the_change_feed_shows_in_its_histogram",
	      test_a_slow_look_at_the_change_feed_shows_in_its_histogram);
	t_run("counters_move_by_exactly_the_answers_given",
	      test_counters_move_by_exactly_the_answers_given);
	t_run("a_burst_of_connections_is_shared_among_the_threads",
	      test_a_burst_of_connections_is_shared_among_the_threads);
	t_run("unknown_path_is_404_and_other_methods_405",
	      test_unknown_path_is_404_and_other_methods_405);
	t_run("postgresql_away_keeps_readyz_200_and_spools",
	      test_postgresql_away_keeps_readyz_200_and_spools);
	t_run("admin_listen_must_be_loopback_unless_remote",
	      test_admin_listen_must_be_loopback_unless_remote);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
