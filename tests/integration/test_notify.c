/* Emergency notifications (lisd(8) NOTIFICATIONS, TEST MODE): an emergency answer reaches
 * the security desk once through each channel (an HTTPS webhook, SMTP with STARTTLS, syslog:
 * real receivers on loopback, tests/integration/notify_sink.py); repeated queries within the
 * window make one; a webhook receiver that is down gets it once when it is back; so does
 * every channel after PostgreSQL was down; a non-emergency query makes none; a test-mode
 * request is answered as a real one, flagged test in the query log, and its notification
 * says TEST. */
#include "check.h"
#include "corr.h"
#include "db_notify.h"
#include "db_querylog.h"
#include "prom_check.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INSTANCE "ntest"
#define SECRET "s3cret-webhook-key"

static struct ck_env E;
static char dir[300], sections[4096];
static int admin_port;

/* One receiver process and the file it writes what it receives to. */
struct sink {
	const char *mode;
	int port;
	char out[400], log[400], sock[400];
	pid_t pid;
};
static struct sink webhook = {.mode = "webhook"}, smtp = {.mode = "smtp"},
		   slog = {.mode = "syslog"};
static char secret_file[400];

static bool log_says_listening(void *ctx)
{
	struct sink *s = ctx;
	char *t = th_read_file(s->log, NULL);
	bool ok = t && strstr(t, "listening");
	free(t);
	return ok;
}

static bool sink_start(struct sink *s)
{
	char port[16], script[400];
	snprintf(port, sizeof port, "%d", s->port);
	snprintf(script, sizeof script, "%s", th_src("tests/integration/notify_sink.py"));
	/* a fresh log each start, so that "listening" is this start's */
	unlink(s->log);
	/* Debian's python3, where python3-aiosmtpd is installed (not another on PATH) */
	char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
	char *argv[10] = {py, script, (char *)s->mode};
	if (strcmp(s->mode, "syslog") == 0) {
		argv[3] = s->sock;
		argv[4] = s->out;
	} else {
		argv[3] = port;
		argv[4] = E.tls.cert;
		argv[5] = E.tls.key;
		if (strcmp(s->mode, "webhook") == 0) {
			argv[6] = secret_file;
			argv[7] = s->out;
		} else {
			argv[6] = s->out;
		}
	}
	s->pid = th_spawn(argv, s->log);
	if (s->pid <= 0 || !th_wait_until(30, 50, log_says_listening, s, NULL)) {
		char *t = th_read_file(s->log, NULL);
		t_diag("%s receiver did not start: %s", s->mode, th_flat(t));
		free(t);
		return false;
	}
	return true;
}

static void test_setup_receivers_and_lisd_with_notifications(void)
{
	if (!ck_db_setup(&E))
		return;
	char *d = th_tmpdir("notify");
	if (!CHECK(d != NULL))
		return;
	snprintf(dir, sizeof dir, "%s", d);
	snprintf(secret_file, sizeof secret_file, "%s/webhook.key", dir);
	if (!CHECK(th_write_file(secret_file, SECRET "\n") == 0))
		return;
	struct sink *all[] = {&webhook, &smtp, &slog};
	for (size_t i = 0; i < 3; i++) {
		struct sink *s = all[i];
		snprintf(s->out, sizeof s->out, "%s/%s.jsonl", dir, s->mode);
		snprintf(s->log, sizeof s->log, "%s/%s.log", dir, s->mode);
		snprintf(s->sock, sizeof s->sock, "%s/syslog.sock", dir);
		s->port = i < 2 ? th_free_port("127.0.0.1") : 0;
		if (!CHECK(sink_start(s)))
			return;
	}
	admin_port = th_free_port("127.0.0.1");
	snprintf(sections, sizeof sections,
		 "[querylog]\nspool_dir = %s/spool\ninstance = " INSTANCE "\nflush_ms = 50\n"
		 "[notify]\nenabled = true\nwindow = 60\n"
		 "recipients = hq = webhook:https://127.0.0.1:%d/hook, mail:desk@hq.example, "
		 "syslog; * = webhook:https://127.0.0.1:%d/hook, mail:soc@example.org, syslog\n"
		 "webhook_ca = %s\nwebhook_secret_file = %s\n"
		 "mail_server = smtp://127.0.0.1:%d\nmail_ca = %s\nmail_from = lis@lis.test\n"
		 "syslog_socket = %s\ntimeout = 5\nretry_min = 1\nretry_max = 2\n"
		 "[test]\naddresses = 127.0.0.14\nheader = true\n[admin]\nport = %d\n",
		 dir, webhook.port, webhook.port, E.tls.cert, secret_file, smtp.port, E.tls.cert,
		 slog.sock, admin_port);
	if (!ck_lisd_start(&E, &E.lisd, sections))
		return;
	E.up = true;
}

/* ---- requests ---- */

static const char *req_rt(const char *rt)
{
	static char b[512];
	if (rt)
		snprintf(b, sizeof b, "<locationRequest xmlns=\"" HELD_NS "\" responseTime=\"%s\">"
			 "<locationType exact=\"false\">civic</locationType>"
			 "</locationRequest>", rt);
	else
		snprintf(b, sizeof b, "<locationRequest xmlns=\"" HELD_NS "\">"
			 "<locationType exact=\"false\">civic</locationType></locationRequest>");
	return b;
}

/* POST an emergency request to lisd l from ip, with the test marker when test; the civic
 * address of the answer as one text ("" when none, "error:CODE" for a HELD error). */
static char *post_to(const struct th_lisd *l, const char *ip, const char *rt, bool test)
{
	const char *hdr[] = {"LIS-Test: 1", NULL};
	const char *body = req_rt(rt);
	struct th_req q = {.url = l->url, .content_type = "application/held+xml",
			   .body = body, .cafile = E.tls.cert, .local_addr = ip,
			   .headers = test ? hdr : NULL};
	struct th_resp r;
	th_https(&q, &r);
	xmlDocPtr d = r.curl_code == 0 && r.status == 200 ? xp_parse(r.body, r.body_len) : NULL;
	char *out;
	if (!d) {
		out = strdup("no answer");
	} else if (xp_count(d, "/held:error") == 1) {
		char *c = xp_str(d, "/held:error/@code");
		size_t n = strlen(c) + 8;
		out = malloc(n);
		snprintf(out, n, "error:%s", c);
		free(c);
	} else {
		out = xp_str(d, "//ca:civicAddress");
	}
	xmlFreeDoc(d);
	th_resp_free(&r);
	return out;
}

static char *post(const char *ip, const char *rt, bool test)
{
	return post_to(&E.lisd, ip, rt, test);
}

/* ---- what the receivers got ---- */

/* The records of a receiver's file whose notification is about target: the webhook's by its
 * body's target, a mail or a syslog line by the target's text in it. */
static json_t *received(const struct sink *s, const char *target)
{
	json_t *all = json_array();
	char *t = th_read_file(s->out, NULL);
	char needle[200];
	snprintf(needle, sizeof needle, "%s\r\n", target);   /* the mail's "Who:" line */
	for (char *line = t ? strtok(t, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		json_t *o = json_loads(line, 0, NULL);
		if (!o)
			continue;
		bool match;
		if (strcmp(s->mode, "webhook") == 0) {
			const char *got = json_string_value(
				json_object_get(json_object_get(o, "body"), "target"));
			match = got && strcmp(got, target) == 0;
		} else if (strcmp(s->mode, "smtp") == 0) {
			const char *data = json_string_value(json_object_get(o, "data"));
			match = data && strstr(data, needle);
		} else {
			char quoted[200];
			snprintf(quoted, sizeof quoted, "target=\"%s\"", target);
			const char *l = json_string_value(json_object_get(o, "line"));
			match = l && strstr(l, quoted);
		}
		if (match)
			json_array_append(all, o);
		json_decref(o);
	}
	free(t);
	return all;
}

static long n_received(const struct sink *s, const char *target)
{
	json_t *a = received(s, target);
	long n = (long)json_array_size(a);
	json_decref(a);
	return n;
}

struct got {
	const char *target;
};

static bool every_channel_has_it(void *ctx)
{
	struct got *g = ctx;
	return n_received(&webhook, g->target) >= 1 && n_received(&smtp, g->target) >= 1 &&
	       n_received(&slog, g->target) >= 1;
}

struct sql_ctx {
	char sql[700];
	long want;
};

static bool sql_reaches(void *ctx)
{
	struct sql_ctx *c = ctx;
	return th_pg_count(&E.pg, c->sql) >= c->want;
}

/* Wait until sql counts want (30 s at most); the count then. */
static long wait_count(long want, const char *fmt, const char *arg)
{
	struct sql_ctx c = {.want = want};
	snprintf(c.sql, sizeof c.sql, fmt, arg);
	th_wait_until(30, 100, sql_reaches, &c, NULL);
	return th_pg_count(&E.pg, c.sql);
}

#define DELIVERED "SELECT count(*) FROM notify_delivery d JOIN notification n " \
	"ON n.id = d.notification_id WHERE n.target = '%s' AND d.state = 'delivered'"

/* Every channel has target's notification, each once, and PostgreSQL says so: one
 * notification, three deliveries delivered, each delivered once in notify_log. */
static void check_once_everywhere(const char *target)
{
	struct got g = {target};
	if (!CHECKF(th_wait_until(60, 100, every_channel_has_it, &g, NULL),
		    "%s: webhook %ld, mail %ld, syslog %ld", target, n_received(&webhook, target),
		    n_received(&smtp, target), n_received(&slog, target)))
		return;
	/* No sleep to watch for a second delivery: a delivery is sent only while its row is
	 * pending, under the row's lock, and all three are committed delivered. */
	CHECK(wait_count(3, DELIVERED, target) == 3);
	CHECKF(n_received(&webhook, target) == 1, "%s: webhook %ld", target,
	       n_received(&webhook, target));
	CHECKF(n_received(&smtp, target) == 1, "%s: mail %ld", target, n_received(&smtp, target));
	CHECKF(n_received(&slog, target) == 1, "%s: syslog %ld", target,
	       n_received(&slog, target));
	char sql[400];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM notification WHERE target = '%s'", target);
	CHECK(th_pg_count(&E.pg, sql) == 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM notify_log l JOIN notification n ON "
		 "n.id = l.notification_id WHERE n.target = '%s' AND outcome = 'delivered'",
		 target);
	CHECK(th_pg_count(&E.pg, sql) == 3);
}

/* ---- cases ---- */

static void test_emergency_call_is_notified_once_through_each_channel(void)
{
	char *a = post("127.0.0.40", "emergencyRouting", false);
	CHECKF(strstr(a, "410") != NULL, "answer: %s", a);
	free(a);
	check_once_everywhere("ip:127.0.0.40");

	json_t *w = received(&webhook, "ip:127.0.0.40");
	json_t *rec = json_array_get(w, 0), *b = json_object_get(rec, "body");
	char *id = th_pg_query1(&E.pg, "SELECT 'lis-notification-' || id FROM notification "
				"WHERE target = 'ip:127.0.0.40'");
	CHECK(json_is_true(json_object_get(rec, "sig_ok")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(rec, "headers"),
						    "idempotency-key")), id);
	CHECK_STR(json_string_value(json_object_get(b, "id")), id);
	CHECK(json_is_false(json_object_get(b, "test")));
	CHECK_STR(json_string_value(json_object_get(b, "response_time")), "emergencyRouting");
	CHECK(json_integer_value(json_object_get(b, "queries")) == 1);
	const char *at = json_string_value(json_object_get(b, "at"));
	CHECKF(at && th_is_datetime(at), "at: %s", at ? at : "(null)");
	CHECK_STR(json_string_value(json_object_get(b, "site")), "hq");
	CHECK_STR(json_string_value(json_object_get(b, "location")), "hq-410");
	CHECK_STR(json_string_value(json_object_get(b, "source")), "port");
	CHECK_STR(json_string_value(json_object_get(b, "result")), "located");
	const char *addr = json_string_value(json_object_get(b, "address"));
	CHECKF(addr && strstr(addr, "ROOM=410"), "address: %s", addr ? addr : "(null)");
	const char *ev = json_string_value(json_object_get(b, "evidence"));
	CHECKF(ev && strstr(ev, "chosen"), "evidence: %s", ev ? ev : "(null)");
	CHECK(json_is_null(json_object_get(b, "callback")));
	json_decref(w);

	/* the mail went to the site's desk, over TLS, carrying the same id */
	json_t *m = received(&smtp, "ip:127.0.0.40");
	json_t *mail = json_array_get(m, 0);
	CHECK(json_is_true(json_object_get(mail, "tls")));
	CHECK_STR(json_string_value(json_array_get(json_object_get(mail, "rcpt_tos"), 0)),
		  "desk@hq.example");
	const char *data = json_string_value(json_object_get(mail, "data"));
	char mid[200];
	snprintf(mid, sizeof mid, "Message-ID: <%s@lis.test>", id ? id : "?");
	CHECKF(data && strstr(data, mid), "mail: %s", th_flat(data));
	CHECKF(data && strstr(data, "Subject: Emergency call: ip:127.0.0.40 at hq-410"),
	       "mail: %s", th_flat(data));
	json_decref(m);
	free(id);
}

static void test_repeated_queries_within_the_window_make_one_notification(void)
{
	for (int i = 0; i < 3; i++)
		free(post("127.0.0.40", i ? "emergencyDispatch" : "emergencyRouting", false));
	CHECK(wait_count(4, "SELECT count(*) FROM query_log WHERE target = '%s'",
			 "ip:127.0.0.40") == 4);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM notification WHERE target = "
			  "'ip:127.0.0.40'") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM notify_delivery d JOIN notification n "
			  "ON n.id = d.notification_id WHERE n.target = 'ip:127.0.0.40'") == 3);
	/* one notification and its three deliveries, all delivered before: nothing left to
	 * send again, so the counts are final now */
	CHECK(wait_count(3, DELIVERED, "ip:127.0.0.40") == 3);
	CHECK(n_received(&webhook, "ip:127.0.0.40") == 1);
	CHECK(n_received(&smtp, "ip:127.0.0.40") == 1);
	CHECK(n_received(&slog, "ip:127.0.0.40") == 1);
}

static void test_non_emergency_query_is_not_notified(void)
{
	free(post("127.0.0.15", NULL, false));
	free(post("127.0.0.15", "250", false));
	CHECK(wait_count(2, "SELECT count(*) FROM query_log WHERE target = '%s'",
			 "ip:127.0.0.15") == 2);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM notification WHERE target = "
			  "'ip:127.0.0.15'") == 0);
	CHECK(n_received(&webhook, "ip:127.0.0.15") == 0);
}

/* Migration 0016: no trigger on query_log has a transition table. PostgreSQL fills one for
 * every row inserted while such a trigger exists, whether it runs or not (0.9 us of the
 * backend per row logged with notifications off): lisd's writer calls notifications_for()
 * itself where [notify] is enabled. A writer of before 0016 (a lisd not yet restarted after
 * `lisctl db migrate`) sets lis.notify and calls nothing: a row trigger judges its
 * emergency rows, so that no emergency call goes unnotified during an upgrade; without
 * lis.notify it does nothing. In transactions that are rolled back. */
#define INSERT_EMERGENCY(seq) \
	"INSERT INTO query_log (instance, seq, at, kind, target, result, response_time) VALUES " \
	"('t-0016', " seq ", now(), 'held', 'ip:192.0.2.16', 'located', 'emergencyRouting');"
#define MADE "SELECT count(*) FROM notification WHERE instance = 't-0016'"
static void test_only_writers_of_before_0016_fire_a_trigger(void)
{
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM pg_trigger WHERE tgrelid = "
			  "'query_log'::regclass AND (tgnewtable IS NOT NULL OR tgoldtable IS NOT "
			  "NULL OR tgtype & 1 = 0) AND NOT tgisinternal") == 0);
	CHECK(th_pg_count(&E.pg, "BEGIN; " INSERT_EMERGENCY("1") MADE) == 0);
	CHECK(th_pg_count(&E.pg, "BEGIN; SELECT set_config('lis.notify', 'on', true); "
			  INSERT_EMERGENCY("1") MADE) == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 't-0016'") ==
	      0);
}

/* A batch sent again (after an outage or a crash) opens notifications only for the rows it
 * stores, as the transition table before it held only those: a row stored before was judged
 * then. Target A's row is stored and judged first, and its notification then removed (as if
 * it had been judged under another window); the batch sent again with B's row opens B's
 * alone. Without notifications on the connection, no row opens one. */
static void test_a_batch_sent_again_opens_notifications_only_for_what_it_stores(void)
{
	struct lis_error err = {0};
	struct db_conn *db = db_connect(E.pg.conninfo, &err);
	if (!CHECKF(db != NULL, "%s", err.msg))
		return;
	struct db_query_log_entry e[3];
	static const char *const targets[] = {"ip:192.0.2.31", "ip:192.0.2.32",
					      "ip:192.0.2.33"};
	for (int i = 0; i < 3; i++)
		e[i] = (struct db_query_log_entry){
			.seq = i + 1, .at_us = 1796000000000000LL + i, .kind = "held",
			.requester_ip = "127.0.0.9", .target = targets[i], .evidence_age_s = -1,
			.fallback = -1, .result = "located", .response_time = "emergencyRouting",
			.latency_ms = -1};
	size_t n = 99;
	/* C without notifications: stored, not judged */
	CHECKF(db_query_log_insert(db, "t-again", &e[2], 1, &n, &err) == 0 && n == 1, "%s",
	       err.msg);
	CHECKF(db_notify_session(db, 60, &err) == 0, "%s", err.msg);
	CHECKF(db_query_log_insert(db, "t-again", e, 1, &n, &err) == 0 && n == 1, "%s", err.msg);
	CHECK(th_pg_count(&E.pg, "DELETE FROM notification WHERE instance = 't-again' "
			  "RETURNING 1") == 1);
	CHECKF(db_query_log_insert(db, "t-again", e, 3, &n, &err) == 0, "%s", err.msg);
	CHECKF(n == 1, "stored %zu", n);
	char *made = th_pg_query1(&E.pg, "SELECT string_agg(target || ' ' || seq, ', ' ORDER BY "
				  "seq) FROM notification WHERE instance = 't-again'");
	CHECKF(made && strcmp(made, "ip:192.0.2.32 2") == 0, "notifications: %s",
	       made ? made : "(none)");
	free(made);
	CHECK(th_pg_count(&E.pg, "WITH q AS (DELETE FROM query_log WHERE instance = 't-again' "
			  "RETURNING 1), m AS (DELETE FROM notification WHERE instance = "
			  "'t-again' RETURNING 1) SELECT (SELECT count(*) FROM q) * 10 + "
			  "(SELECT count(*) FROM m)") == 31);
	db_close(db);
}

/* Which query opens a window, query by query as they were inserted: one statement of queries
 * out of order, late, of two targets, test and real, around windows that exist already
 * (window 60 s). The notifications made are those the rule gives (lisd(8)
 * NOTIFICATIONS): a query joins a window of its target and kind (test or real) that started
 * up to one window after it and has not ended; any other opens one. In a transaction that
 * is rolled back. */
#define T0 "'2026-12-01 00:00:00+00'::timestamptz"
#define Q(seq, target, sec, test) \
	"('t-win', " #seq ", " T0 " + interval '" #sec " s', 'held', " target ", 'located', " \
	"'emergencyRouting', " #test ")"
static void test_windows_are_opened_by_the_queries_the_rule_names(void)
{
	const char *sql =
		"BEGIN; SELECT set_config('lis.notify_window', '60', true); "
		/* open already: A real [-30, 30), F real [0, 60) */
		"INSERT INTO notification (target, test, first_at, window_end, instance, seq, "
		"response_time, result) VALUES "
		"('ip:192.0.2.1', false, " T0 " - interval '30 s', " T0 " + interval '30 s', "
		"'t-old', 1, 'emergencyRouting', 'located'), "
		"('ip:192.0.2.6', false, " T0 ", " T0 " + interval '60 s', 't-old', 2, "
		"'emergencyRouting', 'located'); "
		"INSERT INTO query_log (instance, seq, at, kind, target, result, response_time, "
		"test) VALUES "
		Q(1, "'ip:192.0.2.1'", 0, false) ", "    /* in A's open window */
		Q(2, "'ip:192.0.2.1'", 40, false) ", "   /* after it: opens [40, 100) */
		Q(3, "'ip:192.0.2.1'", 20, false) ", "   /* late, in [-30, 30) */
		Q(4, "'ip:192.0.2.1'", 20, true) ", "    /* test: its own window */
		Q(5, "'ip:192.0.2.1'", 130, false) ", "  /* opens [130, 190) */
		Q(6, "'ip:192.0.2.1'", 75, false) ", "   /* in [40, 100) */
		Q(7, "'ip:192.0.2.2'", 5, false) ", "    /* B: opens [5, 65) */
		Q(8, "'ip:192.0.2.2'", -50, false) ", "  /* late: [5, 65) started within 60 s */
		Q(9, "'ip:192.0.2.2'", -70, false) ", "  /* later still: opens [-70, -10) */
		Q(10, "'ip:192.0.2.6'", 1, false) ", "   /* F: all three in [0, 60) */
		Q(11, "'ip:192.0.2.6'", 59, false) ", "
		Q(12, "'ip:192.0.2.6'", 30, false) ", "
		Q(13, "NULL", 0, false) ", "
		"('t-win', 14, " T0 ", 'held', 'ip:192.0.2.3', 'located', NULL, false), "
		"('t-win', 15, " T0 ", 'deref_get', 'ip:192.0.2.4', 'located', 'emergencyRouting', "
		"false); "
		"SELECT notifications_for('t-win', array(SELECT generate_series(1, 15)::bigint)); "
		"SELECT count(*) FROM (SELECT string_agg(format('%s %s %s %s', target, test, "
		"extract(epoch FROM first_at - " T0 ")::int, seq), ', ' "
		"ORDER BY target, test, first_at) AS made FROM notification "
		"WHERE instance = 't-win') x WHERE made = "
		"'ip:192.0.2.1 f 40 2, ip:192.0.2.1 f 130 5, ip:192.0.2.1 t 20 4, "
		"ip:192.0.2.2 f -70 9, ip:192.0.2.2 f 5 7'";
	CHECK(th_pg_count(&E.pg, sql) == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 't-win'") == 0);
}

static void test_webhook_receiver_down_then_up_gets_it_once(void)
{
	if (!CHECK(th_stop(webhook.pid) >= 0))
		return;
	free(post("127.0.0.10", "emergencyDispatch", false));
	/* mail and syslog go out; the webhook is retried */
	CHECK(wait_count(2, DELIVERED, "ip:127.0.0.10") == 2);
	CHECK(wait_count(2, "SELECT count(*) FROM notify_log l JOIN notification n ON "
			 "n.id = l.notification_id WHERE n.target = '%s' AND l.channel = 'webhook' "
			 "AND l.outcome = 'retry'", "ip:127.0.0.10") >= 2);
	if (!CHECK(sink_start(&webhook)))
		return;
	check_once_everywhere("ip:127.0.0.10");
}

static void test_postgresql_down_then_up_delivers_once(void)
{
	if (!CHECK(th_pg_stop(&E.pg) == 0))
		return;
	/* answered from the snapshot while PostgreSQL is away (campus: the * recipients) */
	char *a = post("127.0.2.5", "emergencyRouting", false);
	CHECKF(a[0] && strncmp(a, "error:", 6) != 0 && strcmp(a, "no answer") != 0,
	       "answer: %s", a);
	free(a);
	if (!CHECK(th_pg_restart(&E.pg) == 0))
		return;
	check_once_everywhere("ip:127.0.2.5");
	json_t *m = received(&smtp, "ip:127.0.2.5");
	CHECK_STR(json_string_value(json_array_get(json_object_get(json_array_get(m, 0),
								   "rcpt_tos"), 0)),
		  "soc@example.org");
	json_decref(m);
}

static void check_test_flagged(const char *target)
{
	CHECK(wait_count(1, "SELECT count(*) FROM query_log WHERE target = '%s' AND test",
			 target) == 1);
	check_once_everywhere(target);
	json_t *w = received(&webhook, target);
	json_t *rec = json_array_get(w, 0);
	CHECK(json_is_true(json_object_get(json_object_get(rec, "body"), "test")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(rec, "headers"),
						    "x-lis-test")), "1");
	json_decref(w);
	json_t *m = received(&smtp, target);
	const char *data = json_string_value(json_object_get(json_array_get(m, 0), "data"));
	CHECKF(data && strstr(data, "Subject: [TEST] Emergency call"), "mail: %s", th_flat(data));
	json_decref(m);
	json_t *s = received(&slog, target);
	const char *line = json_string_value(json_object_get(json_array_get(s, 0), "line"));
	CHECKF(line && strstr(line, "emergency_call TEST "), "syslog: %s", line ? line : "");
	json_decref(s);
}

static void test_test_marker_request_is_answered_alike_flagged_and_marked_test(void)
{
	char *real = post("127.0.0.12", NULL, false);
	char *test = post("127.0.0.12", "emergencyRouting", true);
	CHECKF(real[0] && strcmp(real, test) == 0, "real: %s | test: %s", real, test);
	free(real);
	free(test);
	check_test_flagged("ip:127.0.0.12");
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE target = 'ip:127.0.0.12' "
			  "AND NOT test") == 1);
}

static void test_test_requester_address_is_flagged_and_marked_test(void)
{
	free(post("127.0.0.14", "emergencyDispatch", false));
	check_test_flagged("ip:127.0.0.14");
}

/* Two lisd on one database, each its own query log instance, both notifying: the queries
 * for one target through both make one notification, delivered once per channel. */
static void test_two_lisd_sharing_a_database_make_one_notification(void)
{
	static char second[4096];
	struct th_lisd b;
	const char *from = "instance = " INSTANCE "\n";
	const char *at = strstr(sections, from);
	if (!CHECK(at != NULL))
		return;
	snprintf(second, sizeof second, "%.*sinstance = " INSTANCE "2\n%s", (int)(at - sections),
		 sections, at + strlen(from));
	/* its own spool folder too */
	char *sp = strstr(second, "/spool\n");
	if (!CHECK(sp != NULL))
		return;
	memcpy(sp, "/spoo2", 6);
	/* no admin listener of its own: the port is the first lisd's */
	char *admin = strstr(second, "[admin]");
	if (!CHECK(admin != NULL))
		return;
	snprintf(admin, sizeof second - (size_t)(admin - second), "[admin]\nport = 0\n");
	if (!CHECK(ck_lisd_start(&E, &b, second)))
		return;
	for (int i = 0; i < 6; i++)
		free(post_to(i % 2 ? &b : &E.lisd, "127.0.0.16", "emergencyDispatch", false));
	CHECK(wait_count(6, "SELECT count(*) FROM query_log WHERE target = '%s'",
			 "ip:127.0.0.16") == 6);
	CHECK(th_pg_count(&E.pg, "SELECT count(DISTINCT instance) FROM query_log WHERE "
			  "target = 'ip:127.0.0.16'") == 2);
	check_once_everywhere("ip:127.0.0.16");
	CHECK(th_lisd_stop(&b) == 0);
}

static void test_lisctl_notify_test_reaches_every_channel_of_the_site_marked_test(void)
{
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "-c", E.lisd.conf, "notify", "test", "hq", (char *)NULL);
	CHECKF(p.status == 0, "exit %d: %s %s", p.status, th_flat(p.out), th_flat(p.err));
	char want[3][300];
	snprintf(want[0], sizeof want[0], "webhook https://127.0.0.1:%d/hook delivered\n",
		 webhook.port);
	snprintf(want[1], sizeof want[1], "mail desk@hq.example delivered\n");
	snprintf(want[2], sizeof want[2], "syslog syslog delivered\n");
	for (int i = 0; i < 3; i++)
		CHECKF(strstr(p.out, want[i]) != NULL, "want \"%s\" in: %s", want[i],
		       th_flat(p.out));
	th_proc_free(&p);
	/* the syslog receiver may write its datagram a moment after lisctl sent it */
	const char *t = "lisctl-notify-test";
	struct got g = {t};
	CHECK(th_wait_until(30, 50, every_channel_has_it, &g, NULL));
	CHECKF(n_received(&webhook, t) == 1 && n_received(&smtp, t) == 1 &&
	       n_received(&slog, t) == 1, "webhook %ld, mail %ld, syslog %ld",
	       n_received(&webhook, t), n_received(&smtp, t), n_received(&slog, t));
	json_t *w = received(&webhook, t);
	json_t *b = json_object_get(json_array_get(w, 0), "body");
	CHECK(json_is_true(json_object_get(b, "test")));
	CHECK_STR(json_string_value(json_object_get(b, "site")), "hq");
	const char *id = json_string_value(json_object_get(b, "id"));
	CHECKF(id && strncmp(id, "lis-test-", 9) == 0, "id: %s", id ? id : "(null)");
	json_decref(w);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM notify_log WHERE sender = 'lisctl' AND "
			  "test AND outcome = 'delivered' AND site_key = 'hq'") == 3);
}

static void test_lisctl_notify_test_says_which_channel_failed(void)
{
	/* campus has no rule of its own: the * rule's recipients */
	if (!CHECK(th_stop(webhook.pid) >= 0))
		return;
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "-c", E.lisd.conf, "notify", "test", "campus", (char *)NULL);
	CHECKF(p.status == 1, "exit %d: %s %s", p.status, th_flat(p.out), th_flat(p.err));
	CHECKF(strstr(p.out, "mail soc@example.org delivered\n") &&
	       strstr(p.out, "syslog syslog delivered\n"), "%s", th_flat(p.out));
	char want[200];
	snprintf(want, sizeof want, "webhook https://127.0.0.1:%d/hook failed: ", webhook.port);
	CHECKF(strstr(p.out, want) != NULL, "%s", th_flat(p.out));
	th_proc_free(&p);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM notify_log WHERE sender = 'lisctl' AND "
			  "channel = 'webhook' AND outcome = 'failed' AND error <> ''") == 1);
	CHECK(sink_start(&webhook));
}

/* lisd(8) METRICS: the attempts of this lisd by outcome. */
static void test_metrics_count_the_deliveries(void)
{
	char url[128];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/metrics", admin_port);
	struct th_req q = {.method = "GET", .url = url, .cafile = E.tls.cert};
	struct th_resp r;
	th_https(&q, &r);
	if (CHECKF(r.curl_code == 0 && r.status == 200, "curl %d status %ld", r.curl_code,
		   r.status)) {
		const char *why = prom_check(r.body);
		CHECKF(!why[0], "%s", why);
		CHECK(prom_sample(r.body, "lisd_notify_enabled") == 1);
		/* 40, 10, 2.5, 12, 14 and 16 (this lisd's share): 3 channels each */
		double d = prom_sample(r.body, "lisd_notify_delivered_total");
		CHECKF(d >= 15, "delivered %g", d);
		CHECK(prom_sample(r.body, "lisd_notify_retries_total") >= 2);
		CHECK(prom_sample(r.body, "lisd_notify_failed_total") == 0);
	}
	th_resp_free(&r);
}

int main(void)
{
	t_run("setup_receivers_and_lisd_with_notifications",
	      test_setup_receivers_and_lisd_with_notifications);
	if (!E.up) {
		t_skip("notification cases", "setup failed");
		th_pg_stop(&E.pg);
		return t_done();
	}
	t_run("emergency_call_is_notified_once_through_each_channel",
	      test_emergency_call_is_notified_once_through_each_channel);
	t_run("repeated_queries_within_the_window_make_one_notification",
	      test_repeated_queries_within_the_window_make_one_notification);
	t_run("non_emergency_query_is_not_notified", test_non_emergency_query_is_not_notified);
	t_run("only_writers_of_before_0016_fire_a_trigger",
	      test_only_writers_of_before_0016_fire_a_trigger);
	t_run("a_batch_sent_again_opens_notifications_only_for_what_it_stores",
	      test_a_batch_sent_again_opens_notifications_only_for_what_it_stores);
	t_run("windows_are_opened_by_the_queries_the_rule_names",
	      test_windows_are_opened_by_the_queries_the_rule_names);
	t_run("webhook_receiver_down_then_up_gets_it_once",
	      test_webhook_receiver_down_then_up_gets_it_once);
	t_run("postgresql_down_then_up_delivers_once", test_postgresql_down_then_up_delivers_once);
	t_run("test_marker_request_is_answered_alike_flagged_and_marked_test",
	      test_test_marker_request_is_answered_alike_flagged_and_marked_test);
	t_run("test_requester_address_is_flagged_and_marked_test",
	      test_test_requester_address_is_flagged_and_marked_test);
	t_run("two_lisd_sharing_a_database_make_one_notification",
	      test_two_lisd_sharing_a_database_make_one_notification);
	t_run("lisctl_notify_test_reaches_every_channel_of_the_site_marked_test",
	      test_lisctl_notify_test_reaches_every_channel_of_the_site_marked_test);
	t_run("lisctl_notify_test_says_which_channel_failed",
	      test_lisctl_notify_test_says_which_channel_failed);
	t_run("metrics_count_the_deliveries", test_metrics_count_the_deliveries);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
