/* The change feed (migration 0006, db_changes_poll, wm_delta_apply): a write to the wiremap
 * reaches lisd's answers as a delta applied in place, without a full reload (the log's
 * "loaded trigger=" lines do not grow); a transaction that took its seq first but commits
 * last is not stepped over; a change to a site still reloads; and a lisd reading from a
 * streaming standby ([database] read_conninfo) sees the primary's changes, which NOTIFY
 * could not have told it. How fast is for bench/run.sh: here only generous deadlines. */
#include "check.h"
#include "corr.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ck_env E;
static struct th_pg standby;
static struct th_lisd on_standby;
static bool standby_up;

/* Wait (60 s at most: a deadline, not a measure) until l answers from with want. */
static bool wait_answer(const struct th_lisd *l, const char *from, const char *want)
{
	struct ck_answer c = {&E, l, from, want};
	double dt = 0;
	bool ok = th_wait_until(60, 10, ck_answers, &c, &dt);
	if (!CHECKF(ok, "%s never answered %s within 60 s", from, want)) {
		ck_log_tail(l, 1500);
		return false;
	}
	t_diag("%s answered %s %.3f s after the commit", from, want, dt);
	return true;
}

static bool sql(const char *text)
{
	return CHECKF(th_pg_exec(&E.pg, "lis", text) == 0, "SQL failed: %s", text);
}

static void test_setup(void)
{
	ck_setup(&E, NULL);
}

static void test_port_location_change_is_a_delta(void)
{
	if (!wait_answer(&E.lisd, "127.0.0.10", "hq-410"))
		return;
	int before = ck_loads(&E.lisd);
	if (!sql("UPDATE switch_port SET location_id = (SELECT id FROM location WHERE key ="
		 " 'hq-420') WHERE port_id = 'Gi1/0/7'"))
		return;
	if (!wait_answer(&E.lisd, "127.0.0.10", "hq-420"))
		return;
	CHECKF(ck_loads(&E.lisd) == before, "a full load ran (%d -> %d) for a one-row change",
	       before, ck_loads(&E.lisd));
	ck_expect(&E, ck_req(NULL, false), "127.0.0.10", NULL, "hq-420", "Wiremap", NULL, false);
	sql("UPDATE switch_port SET location_id = (SELECT id FROM location WHERE key ="
	    " 'hq-410') WHERE port_id = 'Gi1/0/7'");
	wait_answer(&E.lisd, "127.0.0.10", "hq-410");
}

static bool room_is(void *ctx)
{
	const char *want = ctx;
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, ck_req("civic", false), "127.0.0.10", &r);
	char needle[64];
	snprintf(needle, sizeof needle, "<ca:ROOM>%s</ca:ROOM>", want);
	bool ok = r.curl_code == 0 && r.body && strstr(r.body, needle);
	th_resp_free(&r);
	return ok;
}

/* A location's room changes: every port pointing at it answers with the new room (the new
 * version of the location, which the old one points at). */
static void test_location_room_change_is_a_delta(void)
{
	int before = ck_loads(&E.lisd);
	if (!sql("UPDATE location SET room = '411' WHERE key = 'hq-410'"))
		return;
	double dt = 0;
	CHECKF(th_wait_until(60, 10, room_is, "411", &dt), "room 411 not answered in 60 s");
	t_diag("new room answered %.3f s after the commit", dt);
	CHECK(ck_loads(&E.lisd) == before);
	sql("UPDATE location SET room = '410' WHERE key = 'hq-410'");
	CHECK(th_wait_until(60, 10, room_is, "410", &dt));
}

static void test_subnet_added_then_deleted(void)
{
	int before = ck_loads(&E.lisd);
	if (!sql("INSERT INTO subnet (prefix, location_id) SELECT '127.0.3.0/24', id FROM"
		 " location WHERE key = 'campus'"))
		return;
	wait_answer(&E.lisd, "127.0.3.9", "campus");
	if (!sql("DELETE FROM subnet WHERE prefix = '127.0.3.0/24'"))
		return;
	wait_answer(&E.lisd, "127.0.3.9", "error:locationUnknown");
	CHECK(ck_loads(&E.lisd) == before);
}

/* What wiremapd writes: a device seen on a port, and its address. */
static void test_bindings_upserted(void)
{
	int before = ck_loads(&E.lisd);
	if (!sql("INSERT INTO binding_mac_port (mac, switch_id, port_id, first_seen, last_seen,"
		 " source) SELECT '00:50:b6:00:00:71', id, 'Gi1/0/9', now(), now(), 'snmp' FROM"
		 " switch WHERE key = 'sw1'") ||
	    !sql("INSERT INTO binding_ip_mac (ip, mac, first_seen, last_seen, source) VALUES"
		 " ('127.0.0.71', '00:50:b6:00:00:71', now(), now(), 'snmp')"))
		return;
	wait_answer(&E.lisd, "127.0.0.71", "hq-420");
	/* it moves to another port */
	if (!sql("UPDATE binding_mac_port SET port_id = 'Gi1/0/7', last_seen = now() + '1 s'"
		 " WHERE mac = '00:50:b6:00:00:71'"))
		return;
	wait_answer(&E.lisd, "127.0.0.71", "hq-410");
	CHECK(ck_loads(&E.lisd) == before);
}

/* A port that was not in the wiremap when the binding was loaded gets a location later. */
static void test_port_added_after_its_binding(void)
{
	if (!sql("INSERT INTO binding_mac_port (mac, switch_id, port_id, first_seen, last_seen,"
		 " source) SELECT '00:50:b6:00:00:72', id, 'Gi1/0/30', now(), now(), 'snmp' FROM"
		 " switch WHERE key = 'sw1'") ||
	    !sql("INSERT INTO binding_ip_mac (ip, mac, first_seen, last_seen, source) VALUES"
		 " ('127.0.0.72', '00:50:b6:00:00:72', now(), now(), 'snmp')"))
		return;
	/* the port is unknown: the switch's location answers */
	if (!wait_answer(&E.lisd, "127.0.0.72", "hq-floor4"))
		return;
	if (!sql("INSERT INTO switch_port (switch_id, port_id, location_id) SELECT s.id,"
		 " 'Gi1/0/30', l.id FROM switch s, location l WHERE s.key = 'sw1' AND"
		 " l.key = 'hq-612'"))
		return;
	wait_answer(&E.lisd, "127.0.0.72", "hq-612");
	if (!sql("DELETE FROM switch_port WHERE port_id = 'Gi1/0/30'"))
		return;
	wait_answer(&E.lisd, "127.0.0.72", "hq-floor4");
}

static PGconn *connect_lis(void)
{
	PGconn *c = PQconnectdb(E.pg.conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		CHECKF(false, "connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

static bool run(PGconn *c, const char *text)
{
	PGresult *r = PQexec(c, text);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	CHECKF(ok, "%s: %s", text, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

/* Transaction A writes first (the smaller seq) and commits last; B commits in between and
 * lisd applies it. A reader that remembered only the highest seq it saw would step over A
 * for ever. */
static void test_late_commit_with_smaller_seq_is_not_missed(void)
{
	PGconn *a = connect_lis(), *b = connect_lis();
	if (!a || !b)
		goto out;
	if (!run(a, "BEGIN") ||
	    !run(a, "INSERT INTO subnet (prefix, location_id) SELECT '127.0.4.0/24', id FROM"
		 " location WHERE key = 'campus'") ||
	    !run(b, "INSERT INTO subnet (prefix, location_id) SELECT '127.0.5.0/24', id FROM"
		 " location WHERE key = 'campus'"))
		goto out;
	char *seqs = th_pg_query1(&E.pg, "SELECT string_agg(key_text, ',' ORDER BY seq) FROM"
				  " wiremap_change WHERE key_text LIKE '127.0.5.%'");
	t_diag("committed so far: %s", seqs ? seqs : "?");
	free(seqs);
	if (!wait_answer(&E.lisd, "127.0.5.9", "campus"))
		goto out;
	/* A is still open: its subnet is not there */
	CHECK(ck_answers(&(struct ck_answer){&E, &E.lisd, "127.0.4.9", "error:locationUnknown"}));
	if (!run(a, "COMMIT"))
		goto out;
	wait_answer(&E.lisd, "127.0.4.9", "campus");
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM wiremap_change a, wiremap_change b WHERE"
			  " a.key_text = '127.0.4.0/24' AND b.key_text = '127.0.5.0/24' AND"
			  " a.seq < b.seq") == 1);
out:
	if (a)
		PQfinish(a);
	if (b)
		PQfinish(b);
}

/* Sites are not applied in place: lisd loads anew, and the answer follows. */
static void test_site_change_reloads(void)
{
	int before = ck_loads(&E.lisd);
	if (!sql("UPDATE site SET allow_default = false WHERE key = 'hq'"))
		return;
	wait_answer(&E.lisd, "127.0.0.15", "error:locationUnknown");
	CHECKF(ck_loads(&E.lisd) > before, "no full load after a site change");
	sql("UPDATE site SET allow_default = true WHERE key = 'hq'");
	wait_answer(&E.lisd, "127.0.0.15", "hq-lobby");
}

/* A bulk change (more rows in one statement than the feed lists one by one) reloads. */
static void test_bulk_change_reloads(void)
{
	int before = ck_loads(&E.lisd);
	if (!sql("INSERT INTO binding_ip_mac (ip, mac, first_seen, last_seen, source)"
		 " SELECT ('10.200.0.0'::inet + g), ('02' || lpad(to_hex(g), 10, '0'))::macaddr,"
		 " now(), now(), 'import' FROM generate_series(1, lis_change_max_rows() + 1) g"))
		return;
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM wiremap_change WHERE tbl ="
			  " 'binding_ip_mac' AND key_text IS NULL") == 1);
	double dt = 0;
	struct ck_answer c = {&E, &E.lisd, "127.0.0.10", "hq-410"};
	bool reloaded = false;
	for (int i = 0; i < 600 && !reloaded; i++) {
		reloaded = ck_loads(&E.lisd) > before;
		if (!reloaded)
			th_sleep_ms(100);
	}
	CHECKF(reloaded, "no full load within 60 s of a bulk change");
	CHECK(th_wait_until(60, 10, ck_answers, &c, &dt));
	sql("DELETE FROM binding_ip_mac WHERE ip << '10.200.0.0/16'");
}

/* ---- what a poll costs PostgreSQL ---- */

#define LIST_SQL "pg_snapshot_xmin(pg_current_snapshot())"
#define FEED_BEGIN "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"

struct feed_log {
	char path[300];
	size_t from;            /* the log's length when the window opened */
	int lists, begins;      /* in the window */
	int prepared;           /* lists that ran the statement lisd prepared */
};

static int count_in(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static bool feed_log_read(void *ctx)
{
	struct feed_log *f = ctx;
	size_t len = 0;
	char *log = th_read_file(f->path, &len);
	if (!log)
		return false;
	const char *w = len > f->from ? log + f->from : "";
	f->lists = count_in(w, LIST_SQL);
	f->begins = count_in(w, FEED_BEGIN);
	f->prepared = count_in(w, "execute lis_feed_list: ");
	free(log);
	return f->lists >= 20;
}

/* An idle poll is one statement: the list of changes, in a transaction of its own, and a
 * statement prepared once, not parsed and planned again 50 times a second. Only a poll
 * that finds a change opens the REPEATABLE READ transaction the rows are read in.
 * PostgreSQL logs every statement meanwhile (log_statement, reloaded into the sessions). */
static void test_an_idle_poll_is_one_statement(void)
{
	struct feed_log f = {0};
	snprintf(f.path, sizeof f.path, "%s/postgres.log", E.pg.dir);
	if (!wait_answer(&E.lisd, "127.0.0.10", "hq-410") ||
	    !sql("ALTER SYSTEM SET log_statement = 'all'") || !sql("SELECT pg_reload_conf()"))
		return;
	size_t len = 0;
	char *log = th_read_file(f.path, &len);
	free(log);
	f.from = len;
	/* 20 polls (20 ms apart: 0.4 s; 60 s is a deadline, not a measure) */
	CHECKF(th_wait_until(60, 50, feed_log_read, &f, NULL), "%d polls logged within 60 s",
	       f.lists);
	CHECKF(f.begins == 0, "%d of %d idle polls opened a transaction", f.begins, f.lists);
	CHECKF(f.prepared == f.lists, "%d of %d polls ran the prepared statement", f.prepared,
	       f.lists);
	/* a change: that poll reads its list again with the rows, in one snapshot */
	if (sql("UPDATE switch_port SET location_id = (SELECT id FROM location WHERE key ="
		" 'hq-420') WHERE port_id = 'Gi1/0/7'") &&
	    wait_answer(&E.lisd, "127.0.0.10", "hq-420")) {
		feed_log_read(&f);
		CHECKF(f.begins >= 1, "no transaction for the poll that found a change");
	}
	sql("ALTER SYSTEM RESET log_statement");
	sql("SELECT pg_reload_conf()");
	sql("UPDATE switch_port SET location_id = (SELECT id FROM location WHERE key ="
	    " 'hq-410') WHERE port_id = 'Gi1/0/7'");
	wait_answer(&E.lisd, "127.0.0.10", "hq-410");
}

/* ---- a lisd that reads from a streaming standby ---- */

static void test_lisd_reads_from_a_standby(void)
{
	if (!CHECK(th_pg_standby_start(&E.pg, &standby, false) == 0))
		return;
	standby_up = true;
	char sect[1200];
	snprintf(sect, sizeof sect, "[database]\nread_conninfo = %s\n", standby.conninfo);
	/* conninfo (the query log's) stays the primary's */
	if (!ck_lisd_start(&E, &on_standby, sect))
		return;
	CHECK(ck_log_has(&on_standby, "loaded trigger=start", (char *)NULL));
	/* the loader's session is the standby's: PostgreSQL says so */
	CHECK(th_pg_count(&standby, "SELECT count(*) FROM pg_stat_activity WHERE"
			  " datname = 'lis' AND application_name <> 'psql'") >= 1);
	int before = ck_loads(&on_standby);
	if (!sql("UPDATE switch_port SET location_id = (SELECT id FROM location WHERE key ="
		 " 'hq-612') WHERE port_id = 'Gi1/0/7'"))
		return;
	wait_answer(&on_standby, "127.0.0.10", "hq-612");
	wait_answer(&E.lisd, "127.0.0.10", "hq-612");
	CHECK(ck_loads(&on_standby) == before);
}

static void test_stop(void)
{
	int a = th_lisd_stop(&E.lisd);
	int b = on_standby.pid ? th_lisd_stop(&on_standby) : 0;
	CHECKF(a == 0 && b == 0, "lisd exit %d, standby's lisd exit %d", a, b);
}

int main(void)
{
	t_run("setup", test_setup);
	if (!E.up) {
		t_skip("change feed cases", "setup failed");
		return t_done();
	}
	t_run("port_location_change_is_a_delta", test_port_location_change_is_a_delta);
	t_run("location_room_change_is_a_delta", test_location_room_change_is_a_delta);
	t_run("subnet_added_then_deleted", test_subnet_added_then_deleted);
	t_run("bindings_upserted", test_bindings_upserted);
	t_run("port_added_after_its_binding", test_port_added_after_its_binding);
	t_run("late_commit_with_smaller_seq_is_not_missed",
	      test_late_commit_with_smaller_seq_is_not_missed);
	t_run("site_change_reloads", test_site_change_reloads);
	t_run("bulk_change_reloads", test_bulk_change_reloads);
	t_run("an_idle_poll_is_one_statement", test_an_idle_poll_is_one_statement);
	t_run("lisd_reads_from_a_standby", test_lisd_reads_from_a_standby);
	t_run("stop", test_stop);
	int rc = t_done();
	if (standby_up)
		th_pg_stop(&standby);
	th_pg_stop(&E.pg);
	return rc;
}
