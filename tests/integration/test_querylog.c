/* The query log: every HELD answer and every dereference is one row of query_log with the
 * right fields; nothing is lost or doubled when PostgreSQL goes away during a run of
 * requests, nor when lisd is killed (SIGKILL) while it is away; answers do not wait for the
 * log. */
#include "check.h"
#include "corr.h"
#include "db.h"
#include "db_querylog.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define INSTANCE "qtest"

static struct ck_env E;
static char spool_dir[400], spool_file[500], lisd_sections[2048];
static struct th_ca ca;
static struct th_cert psap;      /* an allowed subject */
static char uri60[512];          /* a location URI for 127.0.0.60 */

static void test_setup_wiremap_and_lisd_with_query_log(void)
{
	if (!ck_db_setup(&E))
		return;
	char *d = th_tmpdir("qlspool");
	if (!CHECK(d != NULL))
		return;
	snprintf(spool_dir, sizeof spool_dir, "%s/spool", d);
	snprintf(spool_file, sizeof spool_file, "%s/%s.spool", spool_dir, INSTANCE);
	if (!CHECK(th_ca_make(&ca, "PSAP CA") == 0) ||
	    !CHECK(th_cert_make(&ca, "psap", "/O=County/CN=psap.example.gov", &psap) == 0))
		return;
	char key[600];
	snprintf(key, sizeof key, "%s/uri.key", E.work);
	if (!CHECK(th_write_file(key, "000102030405060708090a0b0c0d0e0f"
				 "101112131415161718191a1b1c1d1e1f\n") == 0) ||
	    !CHECK(chmod(key, 0600) == 0))   /* lisd refuses a key others can read */
		return;
	snprintf(lisd_sections, sizeof lisd_sections,
		 "[held]\nuri_base = https://127.0.0.1:{PORT}/loc/\nuri_key_file = %s\n"
		 "[auth]\nclient_ca = %s\nallowed_subjects = CN=psap.example.gov,O=County\n"
		 "[querylog]\nspool_dir = %s\ninstance = " INSTANCE "\nbatch = 100\n"
		 "flush_ms = 50\n", key, ca.cert, spool_dir);
	if (!ck_lisd_start(&E, &E.lisd, lisd_sections))
		return;
	E.up = true;
}

/* ---- waiting for and reading rows ---- */

struct count_ctx {
	const char *sql;
	long want;
	long got;
};

static bool count_reaches(void *ctx)
{
	struct count_ctx *c = ctx;
	c->got = th_pg_count(&E.pg, c->sql);
	return c->got >= c->want;
}

/* Wait (bounded) until the rows of requester ip number want; returns how many there are. */
static long wait_rows(const char *ip, long want, double timeout_s)
{
	char sql[300];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM query_log WHERE instance = '" INSTANCE
		 "' AND requester_ip = '%s'", ip);
	struct count_ctx c = {sql, want, -1};
	th_wait_until(timeout_s, 100, count_reaches, &c, NULL);
	/* a moment more: a duplicate would show now */
	th_sleep_ms(200);
	return th_pg_count(&E.pg, sql);
}

/* One column of the (only) row of requester ip; "NULL" for SQL NULL. */
static char *col(const char *ip, const char *expr)
{
	char sql[600];
	snprintf(sql, sizeof sql, "SELECT coalesce((%s)::text, 'NULL') FROM query_log "
		 "WHERE instance = '" INSTANCE "' AND requester_ip = '%s' ORDER BY seq LIMIT 1",
		 expr, ip);
	char *v = th_pg_query1(&E.pg, sql);
	return v ? v : strdup("(no row)");
}

/* kind|target|source|location_key|site_key|method|fallback|result|response_time */
static char *summary(const char *ip)
{
	return col(ip, "concat_ws('|', kind, coalesce(target, '-'), coalesce(source, '-'), "
		   "coalesce(location_key, '-'), coalesce(site_key, '-'), coalesce(method, '-'), "
		   "coalesce(fallback::text, '-'), result, coalesce(response_time, '-'))");
}

static void check_col(const char *ip, const char *expr, const char *want)
{
	char *v = col(ip, expr);
	CHECKF(strcmp(v, want) == 0, "%s of %s: got \"%s\", want \"%s\"", expr, ip, v, want);
	free(v);
}

static void check_summary(const char *ip, const char *want)
{
	char *v = summary(ip);
	CHECKF(strcmp(v, want) == 0, "row of %s:\n  got  %s\n  want %s", ip, v, want);
	free(v);
}

static const char *req_rt(const char *rt)
{
	static char b[512];
	snprintf(b, sizeof b, "<locationRequest xmlns=\"" HELD_NS "\" responseTime=\"%s\">"
		 "<locationType exact=\"false\">civic</locationType></locationRequest>", rt);
	return b;
}

/* ---- every kind of answer, once, with its fields ---- */

static void test_located_answer_is_logged_once_with_its_fields(void)
{
	/* 127.0.0.40: port hq-410 (site hq), and a subnet of site branch: a disagreement */
	ck_expect(&E, req_rt("emergencyRouting"), "127.0.0.40", NULL, "hq-410", "Wiremap",
		  NULL, false);
	long n = wait_rows("127.0.0.40", 1, 10);
	if (!CHECKF(n == 1, "%ld rows for 127.0.0.40", n))
		return;
	check_summary("127.0.0.40",
		      "held|ip:127.0.0.40|port|hq-410|hq|Wiremap|false|located|emergencyRouting");
	check_col("127.0.0.40", "address",
		  "country=US; A1=NY; A3=New York; RD=Broadway; STS=ST; HNO=123; FLR=4; "
		  "PC=10001; BLD=North; ROOM=410");
	check_col("127.0.0.40", "location_id = (SELECT id FROM location WHERE key = 'hq-410')",
		  "true");
	check_col("127.0.0.40", "disagreement IS NOT NULL AND disagreement <> ''", "true");
	/* the walk: ip -> mac, then the port (chosen, seen 60 s ago), then the subnet */
	check_col("127.0.0.40", "evidence LIKE 'ip->mac %' AND evidence LIKE '%port %chosen%' "
		  "AND evidence LIKE '%subnet %'", "true");
	check_col("127.0.0.40", "evidence_age_s BETWEEN 30 AND 600", "true");
	check_col("127.0.0.40", "latency_ms > 0 AND latency_ms < 5000", "true");
	check_col("127.0.0.40", "at BETWEEN now() - interval '1 minute' AND now()", "true");
	check_col("127.0.0.40", "requester_subject", "NULL");
	char *ev = col("127.0.0.40", "evidence");
	t_diag("evidence: %s", ev);
	free(ev);
}

static void test_fallback_answer_says_fallback(void)
{
	ck_expect(&E, req_rt("250"), "127.0.2.5", NULL, "campus", "Wiremap", NULL, true);
	if (!CHECK(wait_rows("127.0.2.5", 1, 10) == 1))
		return;
	check_summary("127.0.2.5", "held|ip:127.0.2.5|subnet|campus|campus|Wiremap|true|located|"
		      "250 ms");
	check_col("127.0.2.5", "evidence_age_s", "NULL");
}

static void test_locationUnknown_is_logged(void)
{
	free(ck_expect_error(&E, req_rt("emergencyDispatch"), "127.0.0.16", NULL,
			     "locationUnknown"));
	if (!CHECK(wait_rows("127.0.0.16", 1, 10) == 1))
		return;
	check_summary("127.0.0.16",
		      "held|ip:127.0.0.16|-|-|-|-|-|locationUnknown|emergencyDispatch");
	check_col("127.0.0.16", "address IS NULL AND location_id IS NULL", "true");
}

static void test_xmlError_is_logged(void)
{
	free(ck_expect_error(&E, "<locationRequest xmlns=\"" HELD_NS "\"><oops", "127.0.0.41",
			     NULL, "xmlError"));
	if (!CHECK(wait_rows("127.0.0.41", 1, 10) == 1))
		return;
	check_summary("127.0.0.41", "held|-|-|-|-|-|-|xmlError|-");
}

static void test_unauthorized_third_party_badIdentifier_is_logged(void)
{
	free(ck_expect_error(&E, ck_req_device("<ip v=\"4\">127.0.0.10</ip>"), "127.0.0.42", NULL,
			     "badIdentifier"));
	if (!CHECK(wait_rows("127.0.0.42", 1, 10) == 1))
		return;
	check_summary("127.0.0.42", "held|ip:127.0.0.10|-|-|-|-|-|badIdentifier|-");
}

static void test_authorized_third_party_logs_the_certificate_subject(void)
{
	ck_expect(&E, ck_req_device_type("<ip v=\"4\">127.0.0.10</ip>", "civic", false),
		  "127.0.0.46", &psap,
		  "hq-410", "Wiremap", NULL, false);
	if (!CHECK(wait_rows("127.0.0.46", 1, 10) == 1))
		return;
	check_summary("127.0.0.46", "held|ip:127.0.0.10|port|hq-410|hq|Wiremap|false|located|-");
	check_col("127.0.0.46", "requester_subject", "CN=psap.example.gov,O=County");
}

static void test_dereference_get_and_post_are_logged(void)
{
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, ck_req("locationURI", true), "127.0.0.60", &r);
	xmlDocPtr d = r.curl_code == 0 ? xp_parse(r.body, r.body_len) : NULL;
	char *u = d ? xp_str(d, "normalize-space(/held:locationResponse/held:locationUriSet/"
			     "held:locationURI)") : NULL;
	snprintf(uri60, sizeof uri60, "%s", u ? u : "");
	free(u);
	if (d)
		xmlFreeDoc(d);
	th_resp_free(&r);
	if (!CHECKF(uri60[0], "no location URI for 127.0.0.60"))
		return;

	struct th_req g = {.method = "GET", .url = uri60, .cafile = E.tls.cert,
		.local_addr = "127.0.0.43"};
	th_https(&g, &r);
	CHECKF(r.status == 200, "GET: HTTP %ld", r.status);
	th_resp_free(&r);

	struct th_req p = {.method = "POST", .url = uri60, .cafile = E.tls.cert,
		.local_addr = "127.0.0.44", .content_type = "application/held+xml",
		.body = ck_req("civic", false)};
	th_https(&p, &r);
	CHECKF(r.status == 200, "POST: HTTP %ld", r.status);
	th_resp_free(&r);

	/* a forged token: GET 404 (for the bare presence: RFC 6753 §3.2) */
	char forged[600];
	snprintf(forged, sizeof forged, "%s/loc/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		 E.lisd.base);
	static const char *const pidf_only[] = {"Accept: application/pidf+xml", NULL};
	struct th_req f = {.method = "GET", .url = forged, .cafile = E.tls.cert,
		.local_addr = "127.0.0.45", .headers = pidf_only};
	th_https(&f, &r);
	CHECKF(r.status == 404, "forged GET: HTTP %ld", r.status);
	th_resp_free(&r);

	if (CHECK(wait_rows("127.0.0.60", 1, 10) == 1))
		check_summary("127.0.0.60", "held|ip:127.0.0.60|port|hq-410|hq|Wiremap|false|"
			      "located|-");
	if (CHECK(wait_rows("127.0.0.43", 1, 10) == 1))
		check_summary("127.0.0.43", "deref_get|ip:127.0.0.60|port|hq-410|hq|Wiremap|false|"
			      "located|-");
	check_col("127.0.0.43", "address LIKE 'country=US; %ROOM=410'", "true");
	if (CHECK(wait_rows("127.0.0.44", 1, 10) == 1))
		check_summary("127.0.0.44", "deref_post|ip:127.0.0.60|port|hq-410|hq|Wiremap|false|"
			      "located|-");
	if (CHECK(wait_rows("127.0.0.45", 1, 10) == 1))
		check_summary("127.0.0.45", "deref_get|-|-|-|-|-|-|404|-");
	/* the token is a secret: it is nowhere in the log */
	char sql[800];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM query_log WHERE concat_ws(' ', target, "
		 "evidence, address) LIKE '%%%s%%'", strrchr(uri60, '/') + 1);
	CHECK(th_pg_count(&E.pg, sql) == 0);
}

/* Every row of the instance: no duplicate, no gap in seq, time never going back along seq
 * for rows of sequential requests. */
/* Entries a test destroyed on purpose (a damaged spool): seqs missing for good. */
static long lost_on_purpose;

static void check_no_gaps(const char *what)
{
	long n = th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = '" INSTANCE
			     "'");
	long span = th_pg_count(&E.pg, "SELECT max(seq) - min(seq) + 1 FROM query_log "
				"WHERE instance = '" INSTANCE "'");
	long dup = th_pg_count(&E.pg, "SELECT count(*) - count(DISTINCT seq) FROM query_log");
	CHECKF(n > 0 && n + lost_on_purpose == span && dup == 0,
	       "%s: %ld rows, seq span %ld, %ld lost on purpose, %ld duplicates", what, n, span,
	       lost_on_purpose, dup);
}

/* ---- outage ---- */

static atomic_int pg_state;      /* 0 up, 1 stopping, 2 down, 3 restarting, 4 up again */

static void *stop_pg(void *arg)
{
	(void)arg;
	atomic_store(&pg_state, 1);
	th_pg_stop(&E.pg);
	atomic_store(&pg_state, 2);
	return NULL;
}


static size_t spool_entries(const char *needle)
{
	char *s = th_read_file(spool_file, NULL);
	size_t n = 0;
	for (const char *p = s; p && (p = strstr(p, "Q1\t")); p++) {
		const char *eol = strchr(p, '\n');
		if (!needle || (eol && memmem(p, (size_t)(eol - p), needle, strlen(needle))))
			n++;
	}
	free(s);
	return n;
}

static void test_postgresql_stopped_during_300_requests_every_one_logged_once(void)
{
	const int total = 300;
	double ms[3] = {0}, worst[3] = {0};
	int cnt[3] = {0}, wrong = 0;
	pthread_t stopper;
	bool stopping = false;
	size_t spooled_while_down = 0;

	for (int i = 0; i < total; i++) {
		if (i == 100)
			stopping = CHECK(pthread_create(&stopper, NULL, stop_pg, NULL) == 0);
		if (i == 200 && stopping) {
			pthread_join(stopper, NULL);
			stopping = false;
			spooled_while_down = spool_entries("127.0.0.20");
			/* In this thread: the server dies with the thread that started it
			 * (PR_SET_PDEATHSIG). */
			atomic_store(&pg_state, 3);
			CHECK(th_pg_restart(&E.pg) == 0);
			atomic_store(&pg_state, 4);
		}
		int phase = atomic_load(&pg_state) == 0 ? 0 : atomic_load(&pg_state) <= 2 ? 1 : 2;
		double t0 = th_now();
		char *w = ck_which(&E, &E.lisd, ck_req("civic", false), "127.0.0.20");
		double dt = (th_now() - t0) * 1e3;
		if (strcmp(w, "hq-420") != 0 && wrong++ < 5)
			t_diag("request %d: %s", i, w);
		free(w);
		ms[phase] += dt;
		cnt[phase]++;
		if (dt > worst[phase])
			worst[phase] = dt;
	}
	if (stopping)
		pthread_join(stopper, NULL);
	CHECKF(wrong == 0, "%d answers wrong", wrong);
	CHECKF(atomic_load(&pg_state) == 4, "PostgreSQL state %d", atomic_load(&pg_state));
	static const char *const names[] = {"before", "during", "after"};
	for (int k = 0; k < 3; k++)
		t_diag("%s the outage: %d requests, mean %.1f ms, worst %.1f ms", names[k], cnt[k],
		       cnt[k] ? ms[k] / cnt[k] : 0, worst[k]);
	t_diag("entries of the run in the spool while PostgreSQL was down: %zu",
	       spooled_while_down);
	CHECKF(spooled_while_down >= 50, "only %zu entries spooled during the outage",
	       spooled_while_down);
	/* answers do not wait on the log: loose bound, the timing is logged above */
	CHECKF(cnt[1] == 0 || ms[1] / cnt[1] < 500, "mean latency during the outage %.1f ms",
	       ms[1] / cnt[1]);

	/* the inserter reconnects with a backoff of at most 10 s */
	long n = wait_rows("127.0.0.20", total, 60);
	if (!CHECKF(n == total, "%ld rows for %d requests", n, total))
		ck_log_tail(&E.lisd, 2000);
	long distinct = th_pg_count(&E.pg, "SELECT count(DISTINCT seq) FROM query_log WHERE "
				    "instance = '" INSTANCE "' AND requester_ip = '127.0.0.20'");
	long span = th_pg_count(&E.pg, "SELECT max(seq) - min(seq) + 1 FROM query_log WHERE "
				"instance = '" INSTANCE "' AND requester_ip = '127.0.0.20'");
	CHECKF(distinct == total && span == total, "distinct seq %ld, span %ld", distinct, span);
	/* in order: along seq, time never goes back (the requests were one after the other) */
	long back = th_pg_count(&E.pg, "SELECT count(*) FROM (SELECT at < lag(at) OVER (ORDER BY "
				"seq) AS b FROM query_log WHERE instance = '" INSTANCE "' AND "
				"requester_ip = '127.0.0.20') s WHERE b");
	CHECKF(back == 0, "%ld rows earlier than the one before them", back);
	check_no_gaps("after the outage");
	CHECK(ck_log_has(&E.lisd, "querylog", "db=unreachable", (char *)NULL));
	CHECK(ck_log_has(&E.lisd, "querylog", "result=replayed", (char *)NULL));
}

static bool spool_has_50(void *ctx)
{
	(void)ctx;
	return spool_entries("127.0.0.21") >= 50;
}

static void test_sigkill_while_postgresql_down_then_replayed_once(void)
{
	if (!CHECK(th_pg_stop(&E.pg) == 0))
		return;
	for (int i = 0; i < 50; i++) {
		char *w = ck_which(&E, &E.lisd, ck_req("civic", false), "127.0.0.21");
		free(w);
	}
	if (!CHECKF(th_wait_until(60, 20, spool_has_50, NULL, NULL), "%zu of 50 entries spooled",
		    spool_entries("127.0.0.21")))
		return;
	kill(E.lisd.pid, SIGKILL);
	int st = th_lisd_stop(&E.lisd);
	CHECKF(st == 128 + SIGKILL, "lisd status %d", st);

	/* lisd again, PostgreSQL still down: it answers (generalLisError, no wiremap) and
	 * logs those answers too */
	if (!CHECK(th_lisd_start(&E.lisd, "127.0.0.1", &E.tls, E.pg.conninfo, NULL,
				 lisd_sections) == 0))
		return;
	CHECK(ck_log_has(&E.lisd, "querylog", "seq_from=spool", (char *)NULL));
	for (int i = 0; i < 5; i++) {
		struct th_resp r;
		th_held_post(&E.lisd, &E.tls, ck_req(NULL, false), "127.0.0.22", &r);
		ck_held_error(&r, "generalLisError");
		th_resp_free(&r);
	}
	if (!CHECK(th_pg_restart(&E.pg) == 0))
		return;
	long a = wait_rows("127.0.0.21", 50, 60);
	long b = wait_rows("127.0.0.22", 5, 30);
	CHECKF(a == 50 && b == 5, "%ld of 50 before the kill, %ld of 5 after", a, b);
	check_summary("127.0.0.22", "held|ip:127.0.0.22|-|-|-|-|-|generalLisError|-");
	check_no_gaps("after SIGKILL and replay");
}

static bool spool_has_30(void *ctx)
{
	(void)ctx;
	return spool_entries("127.0.0.23") >= 30;
}

/* The start of the n-th (from 1) spool line that holds needle; NULL when none. */
static char *nth_line(char *s, const char *needle, int n)
{
	for (char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char *eol = strchr(p, '\n');
		if (eol && memmem(p, (size_t)(eol - p), needle, strlen(needle)) && --n == 0)
			return p;
	}
	return NULL;
}

/* One flipped byte in the middle of a record and one damaged LF (which glues a record to
 * the next) cost those two records only: the other 28 are replayed, the damaged bytes are
 * kept aside in <spool>.damaged, and the log says so (it used to cut the spool off at the
 * first damaged record and blame a crash). */
static void test_damaged_spool_records_cost_only_themselves(void)
{
	if (!CHECK(th_pg_stop(&E.pg) == 0))
		return;
	for (int i = 0; i < 30; i++)
		free(ck_which(&E, &E.lisd, ck_req("civic", false), "127.0.0.23"));
	if (!CHECKF(th_wait_until(60, 20, spool_has_30, NULL, NULL), "%zu of 30 entries spooled",
		    spool_entries("127.0.0.23")))
		return;
	kill(E.lisd.pid, SIGKILL);
	th_lisd_stop(&E.lisd);

	size_t len = 0;
	char *s = th_read_file(spool_file, &len);
	char *r10 = s ? nth_line(s, "127.0.0.23", 10) : NULL;
	char *r20 = s ? nth_line(s, "127.0.0.23", 20) : NULL;
	if (!CHECK(r10 && r20)) {
		free(s);
		return;
	}
	r10[strcspn(r10, "\n") / 2] ^= 0x04;       /* one byte in the middle of record 10 */
	r20[strcspn(r20, "\n")] = 'x';             /* record 20's LF */
	CHECK(th_write_file(spool_file, s) == 0);
	free(s);
	lost_on_purpose += 2;

	if (!CHECK(th_lisd_start(&E.lisd, "127.0.0.1", &E.tls, E.pg.conninfo, NULL,
				 lisd_sections) == 0))
		return;
	CHECK(ck_log_has(&E.lisd, "querylog", "result=damaged", "records=2", (char *)NULL));
	CHECK(ck_log_has(&E.lisd, "querylog", "result=damaged_record", "kept=yes",
			 (char *)NULL));
	CHECK(ck_log_lacks(&E.lisd, "querylog", "result=truncated", (char *)NULL));
	char damaged[600];
	snprintf(damaged, sizeof damaged, "%s.damaged", spool_file);
	char *d = th_read_file(damaged, NULL);
	size_t lines = 0;
	for (const char *p = d; p && (p = strchr(p, '\n')); p++)
		lines++;
	CHECKF(d && lines == 2 && strstr(d, "127.0.0.23"), "%s: %s", damaged, th_flat(d));
	free(d);
	if (!CHECK(th_pg_restart(&E.pg) == 0))
		return;
	long n = wait_rows("127.0.0.23", 28, 60);
	CHECKF(n == 28, "%ld of the 28 undamaged entries stored", n);
	check_no_gaps("after a damaged spool");
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

static void test_spool_is_one_mark_line_once_everything_is_stored(void)
{
	bool ok = th_wait_until(60, 100, spool_is_compact, NULL, NULL);
	char *s = th_read_file(spool_file, NULL);
	CHECKF(ok, "spool: %s", th_flat(s));
	free(s);
}

static void test_sigterm_then_seq_continues_after_restart(void)
{
	long before = th_pg_count(&E.pg, "SELECT max(seq) FROM query_log WHERE instance = '"
				  INSTANCE "'");
	CHECK(th_lisd_stop(&E.lisd) == 0);
	if (!ck_lisd_start(&E, &E.lisd, lisd_sections))
		return;
	ck_expect(&E, ck_req("civic", false), "127.0.2.6", NULL, "campus", "Wiremap", NULL, true);
	if (!CHECK(wait_rows("127.0.2.6", 1, 10) == 1))
		return;
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM query_log WHERE instance = '" INSTANCE
		 "' AND seq <= %ld AND requester_ip = '127.0.2.6'", before);
	CHECK(th_pg_count(&E.pg, sql) == 0);
	check_no_gaps("after a restart");
	/* Stopped right after its entry is stored, before the inserter has been idle for the
	 * second that compacts the spool otherwise: the stop drops what is committed. */
	CHECK(th_lisd_stop(&E.lisd) == 0);
	char *s = th_read_file(spool_file, NULL);
	CHECKF(spool_is_compact(NULL), "spool after SIGTERM: %s", th_flat(s));
	free(s);
}

static void test_second_lisd_on_the_same_spool_refuses_to_start(void)
{
	struct th_lisd a, b;
	char sect[800];
	snprintf(sect, sizeof sect, "[querylog]\nspool_dir = %s\ninstance = twin\n", spool_dir);
	if (!CHECK(th_lisd_start(&a, "127.0.0.1", &E.tls, E.pg.conninfo, NULL, sect) == 0))
		return;
	CHECK(th_lisd_start(&b, "127.0.0.1", &E.tls, E.pg.conninfo, NULL, sect) < 0);
	char *log = th_lisd_log(&b);
	CHECKF(log && strstr(log, "in use by another lisd"), "log: %s", th_flat(log));
	free(log);
	CHECK(th_lisd_stop(&a) == 0);
}

/* The queue is full when the spool's disk stalls longer than it lasts: then the answer
 * itself spools what is queued, and waits for the disk; nothing is dropped. Here a queue of
 * 16 entries and a spooler that waits for 10,000 of them (or a minute): every 17th answer
 * finds it full. 34 answers: two waited, said in the log, and all 34 reach PostgreSQL once. */
static void test_a_full_queue_makes_the_answer_spool_it_and_loses_nothing(void)
{
	struct th_lisd l;
	char sect[800];
	snprintf(sect, sizeof sect, "[querylog]\nspool_dir = %s\ninstance = qfull\nqueue = 16\n"
		 "batch = 10000\nflush_ms = 60000\n", spool_dir);
	if (!CHECK(th_lisd_start(&l, "127.0.0.1", &E.tls, E.pg.conninfo, NULL, sect) == 0))
		return;
	/* no request before the snapshot is in: an answer then would count too */
	if (!CHECK(ck_log_has(&l, "wiremap loaded trigger=start", (char *)NULL))) {
		th_lisd_stop(&l);
		return;
	}
	for (int i = 0; i < 34; i++) {
		char *w = ck_which(&E, &l, ck_req(NULL, false), "127.0.2.7");
		CHECK_STR(w, "campus");
		free(w);
	}
	struct count_ctx c = {"SELECT count(DISTINCT seq) FROM query_log WHERE instance = 'qfull'",
			      34, -1};
	CHECKF(th_wait_until(60, 100, count_reaches, &c, NULL), "%ld of 34 stored", c.got);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'qfull'") == 34);
	char *log = th_lisd_log(&l);
	CHECKF(log && strstr(log, "result=queue_full waited_total=1 queue=16"), "log: %s",
	       th_flat(log));
	free(log);
	CHECK(th_lisd_stop(&l) == 0);
	log = th_lisd_log(&l);
	CHECKF(log && strstr(log, "lost_total=0"), "log: %s", th_flat(log));
	free(log);
}

/* A batch is sent again after an outage or a crash, whole or overlapping the entries already
 * stored: db_query_log_insert() stores what is new, once, and says how many that was (the
 * COPY meets the unique key; the batch goes in again with ON CONFLICT DO NOTHING). */
static void test_a_batch_sent_again_stores_only_what_is_new(void)
{
	struct lis_error err = {0};
	struct db_conn *db = db_connect(E.pg.conninfo, &err);
	if (!CHECKF(db != NULL, "%s", err.msg))
		return;
	struct db_query_log_entry e[5];
	for (int i = 0; i < 5; i++)
		e[i] = (struct db_query_log_entry){
			.seq = i + 1, .at_us = 1796000000000000LL + i, .kind = "held",
			.requester_ip = "127.0.0.9", .target = "ip:127.0.0.9", .evidence_age_s = -1,
			.fallback = -1, .result = "locationUnknown", .latency_ms = -1};
	size_t n = 99;
	CHECKF(db_query_log_insert(db, "again", e, 3, &n, &err) == 0, "%s", err.msg);
	CHECK(n == 3);
	/* seq 2 and 3 again, with 4 and 5 */
	CHECKF(db_query_log_insert(db, "again", &e[1], 4, &n, &err) == 0, "%s", err.msg);
	CHECKF(n == 2, "inserted %zu", n);
	/* all five again */
	CHECKF(db_query_log_insert(db, "again", e, 5, &n, &err) == 0, "%s", err.msg);
	CHECKF(n == 0, "inserted %zu", n);
	CHECK(th_pg_count(&E.pg, "SELECT count(DISTINCT seq) * 10 + count(*) FROM query_log "
			  "WHERE instance = 'again'") == 55);
	db_close(db);
}

/* Migration 0015: an entry is keyed by (instance, seq) alone, with no surrogate id (one
 * index and one identity value less per answer logged); the key is the replica identity. */
static void test_entries_are_keyed_by_instance_and_seq_alone(void)
{
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM pg_attribute WHERE attrelid = "
			  "'query_log'::regclass AND attname = 'id' AND NOT attisdropped") == 0);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM pg_index WHERE indrelid = "
			  "'query_log'::regclass") == 3);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM pg_index i JOIN pg_class c ON "
			  "c.oid = i.indrelid WHERE c.relname = 'query_log' AND "
			  "c.relreplident = 'i' AND i.indisreplident AND i.indisunique AND "
			  "i.indnatts = 2") == 1);
}

/* Every character a value may hold arrives as it was sent, and a NULL as NULL, whether the
 * batch goes in new (COPY, where tab, newline, carriage return and backslash are
 * delimiters) or again (the INSERT of arrays, where quotes and backslashes are); a value
 * the server refuses costs the whole batch and is an input error, so that the writer can
 * find it entry by entry. */
static void test_values_arrive_as_sent_by_copy_and_by_insert(void)
{
	struct lis_error err = {0};
	struct db_conn *db = db_connect(E.pg.conninfo, &err);
	if (!CHECKF(db != NULL, "%s", err.msg))
		return;
	static const char odd[] = "tab\there\nnew line\r\\ \\N {\"q\",'s'} caf\xc3\xa9 \\t";
	struct db_query_log_entry e[3];
	for (int i = 0; i < 3; i++)
		e[i] = (struct db_query_log_entry){
			.seq = i + 1, .at_us = 1796000000123456LL, .kind = "held",
			.requester_ip = i == 2 ? NULL : "2001:db8::9", .requester_subject = odd,
			.target = odd, .evidence = odd, .evidence_age_s = i == 1 ? -1 : 7,
			.location_id = i == 1 ? 0 : 42, .address = odd, .fallback = i - 1,
			.disagreement = i == 0 ? NULL : odd, .result = "located",
			.latency_ms = i == 1 ? -1 : 1.5, .test = i == 2};
	size_t n = 99;
	CHECKF(db_query_log_insert(db, "odd", e, 2, &n, &err) == 0, "%s", err.msg);
	CHECK(n == 2);
	/* 1 and 2 again, with 3: only 3 is new */
	CHECKF(db_query_log_insert(db, "odd", e, 3, &n, &err) == 0, "%s", err.msg);
	CHECKF(n == 1, "inserted %zu", n);
	const char *same = "requester_subject = $$%1$s$$ AND target = $$%1$s$$ AND "
			   "evidence = $$%1$s$$ AND address = $$%1$s$$";
	char sql[1024], cond[512];
	snprintf(cond, sizeof cond, same, odd);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM query_log WHERE instance = 'odd' AND %s "
		 "AND at = '2026-11-30 00:53:20.123456+00'", cond);
	CHECK(th_pg_count(&E.pg, sql) == 3);
	/* the NULLs: each row has its own */
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'odd' AND seq = 1"
			  " AND disagreement IS NULL AND fallback IS NULL AND evidence_age_s = 7 AND"
			  " location_id = 42 AND latency_ms = 1.5 AND NOT test AND"
			  " requester_ip = '2001:db8::9'") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'odd' AND seq = 2"
			  " AND NOT fallback AND evidence_age_s IS NULL AND location_id IS NULL"
			  " AND latency_ms IS NULL AND location_key IS NULL") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'odd' AND seq = 3"
			  " AND requester_ip IS NULL AND fallback AND test") == 1);
	/* a refused value: nothing of its batch is stored, and it is the input's fault */
	struct db_query_log_entry bad[3];
	for (int i = 0; i < 3; i++)
		bad[i] = (struct db_query_log_entry){
			.seq = i + 1, .at_us = 1796000000000000LL, .kind = "held",
			.requester_ip = i == 1 ? "10.0.0.300" : "10.0.0.3", .evidence_age_s = -1,
			.fallback = -1, .result = "locationUnknown", .latency_ms = -1};
	CHECK(db_query_log_insert(db, "refused", bad, 3, &n, &err) < 0);
	CHECKF(err.code == DB_E_INPUT && strstr(err.msg, "10.0.0.300"), "%d %s", (int)err.code,
	       err.msg);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'refused'") == 0);
	db_close(db);
}

/* The rows of a new batch go in as COPY's binary rows, those of a batch sent again as the
 * INSERT of text arrays: both store the same values. The same 12 entries go to two
 * instances; "ins" holds the first already, so that its batch meets the unique key and the
 * rest goes in by INSERT, while "bin" takes all 12 by COPY. Then the two instances' rows 2
 * to 12 are compared column by column. */
static void test_binary_copy_stores_what_the_text_insert_stores(void)
{
	struct lis_error err = {0};
	struct db_conn *db = db_connect(E.pg.conninfo, &err);
	if (!CHECKF(db != NULL, "%s", err.msg))
		return;
	static const char *const ips[] = {"10.1.2.3", "2001:db8::1", "::ffff:192.0.2.7",
					  "0.0.0.0", "fe80::1:2:3:4", NULL};
	static const double lat[] = {0.0004, 0.0005, 1.23456, 12345.6789, 0.1, 3e-7, 99.9995};
	static const long long ages[] = {0, 1, 2147483647LL, -1};
	struct db_query_log_entry e[12];
	for (int i = 0; i < 12; i++)
		e[i] = (struct db_query_log_entry){
			.seq = 1000 + i, .at_us = 1796000000123456LL + i * 1000003LL - (i == 5) *
			1796000000000000LL, .kind = i % 3 ? "held" : "deref_get",
			.requester_ip = ips[i % 6], .requester_subject = i % 2 ? "CN=sbc" : NULL,
			.target = "ip:10.1.2.3", .source = "switch port", .evidence =
			"caf\xc3\xa9 \t\\ \"q\" 'x'", .evidence_age_s = ages[i % 4],
			.location_id = i % 4 ? 1LL << 40 : 0, .location_key = "loc-1",
			.site_key = i % 5 ? "hq" : NULL, .address = "A1=CA; RD=Main",
			.method = "Wiremap", .fallback = i % 3 - 1, .disagreement = NULL,
			.result = "located", .response_time = i % 2 ? "emergencyRouting" : NULL,
			.latency_ms = i == 11 ? -1 : lat[i % 7], .test = i % 4 == 1};
	size_t n = 99;
	CHECKF(db_query_log_insert(db, "ins", e, 1, &n, &err) == 0 && n == 1, "%s", err.msg);
	CHECKF(db_query_log_insert(db, "ins", e, 12, &n, &err) == 0, "%s", err.msg);
	CHECKF(n == 11, "by INSERT: %zu", n);
	CHECKF(db_query_log_insert(db, "bin", e, 12, &n, &err) == 0, "%s", err.msg);
	CHECKF(n == 12, "by COPY: %zu", n);
	static const char cols[] = "seq, at, kind, requester_ip, requester_subject, target, "
		"source, evidence, evidence_age_s, location_id, location_key, site_key, address, "
		"method, fallback, disagreement, result, response_time, latency_ms, test";
	char sql[2048];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM ((SELECT %s FROM query_log WHERE "
		 "instance = 'bin' AND seq > 1000 EXCEPT SELECT %s FROM query_log WHERE "
		 "instance = 'ins') UNION ALL (SELECT %s FROM query_log WHERE instance = 'ins' "
		 "EXCEPT SELECT %s FROM query_log WHERE instance = 'bin')) d", cols, cols, cols,
		 cols);
	long long differ = th_pg_count(&E.pg, sql);
	CHECKF(differ == 0, "%lld rows differ", differ);
	/* and what the binary rows hold, read back */
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'bin' AND "
			  "seq = 1005 AND at = '1970-01-01 00:00:05.123471+00' AND "
			  "requester_ip IS NULL AND latency_ms = 0 AND evidence_age_s = 1") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'bin' AND "
			  "seq = 1002 AND kind = 'held' AND requester_ip = '::ffff:192.0.2.7' AND "
			  "family(requester_ip) = 6 AND masklen(requester_ip) = 128 AND "
			  "evidence_age_s = 2147483647 AND location_id = 1099511627776 AND "
			  "evidence = $$caf\xc3\xa9 \t\\ \"q\" 'x'$$ AND fallback AND "
			  "latency_ms = 1.235::real AND site_key = 'hq' AND NOT test") == 1);
	/* an age beyond integer cannot be a binary integer: the batch goes as text, and the
	 * server refuses it as it always did (an input error: the writer goes one by one) */
	struct db_query_log_entry big = e[1];
	big.seq = 1;
	big.evidence_age_s = 2147483648LL;
	CHECK(db_query_log_insert(db, "bigage", &big, 1, &n, &err) < 0);
	CHECKF(err.code == DB_E_INPUT && strstr(err.msg, "2147483648"), "%d %s", (int)err.code,
	       err.msg);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'bigage'") == 0);
	db_close(db);
}

int main(void)
{
	t_run("setup_wiremap_and_lisd_with_query_log", test_setup_wiremap_and_lisd_with_query_log);
	if (!E.up) {
		t_skip("query log cases", "setup failed");
		th_pg_stop(&E.pg);
		return t_done();
	}
	t_run("located_answer_is_logged_once_with_its_fields",
	      test_located_answer_is_logged_once_with_its_fields);
	t_run("fallback_answer_says_fallback", test_fallback_answer_says_fallback);
	t_run("locationUnknown_is_logged", test_locationUnknown_is_logged);
	t_run("xmlError_is_logged", test_xmlError_is_logged);
	t_run("unauthorized_third_party_badIdentifier_is_logged",
	      test_unauthorized_third_party_badIdentifier_is_logged);
	t_run("authorized_third_party_logs_the_certificate_subject",
	      test_authorized_third_party_logs_the_certificate_subject);
	t_run("dereference_get_and_post_are_logged", test_dereference_get_and_post_are_logged);
	t_run("postgresql_stopped_during_300_requests_every_one_logged_once",
	      test_postgresql_stopped_during_300_requests_every_one_logged_once);
	t_run("sigkill_while_postgresql_down_then_replayed_once",
	      test_sigkill_while_postgresql_down_then_replayed_once);
	t_run("damaged_spool_records_cost_only_themselves",
	      test_damaged_spool_records_cost_only_themselves);
	t_run("spool_is_one_mark_line_once_everything_is_stored",
	      test_spool_is_one_mark_line_once_everything_is_stored);
	t_run("sigterm_then_seq_continues_after_restart",
	      test_sigterm_then_seq_continues_after_restart);
	t_run("second_lisd_on_the_same_spool_refuses_to_start",
	      test_second_lisd_on_the_same_spool_refuses_to_start);
	t_run("a_full_queue_makes_the_answer_spool_it_and_loses_nothing",
	      test_a_full_queue_makes_the_answer_spool_it_and_loses_nothing);
	t_run("a_batch_sent_again_stores_only_what_is_new",
	      test_a_batch_sent_again_stores_only_what_is_new);
	t_run("entries_are_keyed_by_instance_and_seq_alone",
	      test_entries_are_keyed_by_instance_and_seq_alone);
	t_run("binary_copy_stores_what_the_text_insert_stores",
	      test_binary_copy_stores_what_the_text_insert_stores);
	t_run("values_arrive_as_sent_by_copy_and_by_insert",
	      test_values_arrive_as_sent_by_copy_and_by_insert);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
