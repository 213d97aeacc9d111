/* lisctl import of the correlation wiremap (switches, ports, BSSIDs, endpoints, bindings)
 * into a real PostgreSQL: rows as stored, all-or-nothing with file:line:col errors, and the
 * NOTIFY every write path sends. */
#include "check.h"
#include "corr.h"

#include <libpq-fe.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ck_env E;
static bool db_up;

static void test_setup_and_import_every_fixture(void)
{
	db_up = ck_db_setup(&E);
}

static long rows(const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	return th_pg_count(&E.pg, sql);
}

static void test_every_row_imported(void)
{
	CHECK(rows("site") == 3);
	CHECK(rows("location") == 10);
	CHECK(rows("subnet") == 7);
	CHECK(rows("switch") == 3);
	CHECK(rows("switch_port") == 5);
	CHECK(rows("bssid") == 2);
	CHECK(rows("endpoint") == 5);
	CHECK(rows("binding_ip_mac") == 15);
	CHECK(rows("binding_mac_port") == 11);
	CHECK(rows("binding_mac_bssid") == 4);
}

static void check_q(const char *sql, const char *want)
{
	char *v = th_pg_query1(&E.pg, sql);
	if (!CHECK_STR(v, want))
		t_diag("query: %s", sql);
	free(v);
}

static void test_values_stored_canonical(void)
{
	/* chassis ID: a MAC in canonical form, anything else verbatim */
	check_q("SELECT chassis_id FROM switch WHERE key = 'sw3'", "00:1b:54:bb:00:03");
	check_q("SELECT chassis_id FROM switch WHERE key = 'sw2'", "sw2.hq.example.net");
	check_q("SELECT host(mgmt_address) FROM switch WHERE key = 'sw1'", "10.0.0.1");
	check_q("SELECT bssid::text || '/' || prefix_len FROM bssid WHERE key LIKE 'ap-east%'",
		"00:12:f0:a0:80:e0/44");
	check_q("SELECT bssid::text || '/' || prefix_len FROM bssid WHERE key = 'ap-west'",
		"00:12:f0:b0:00:01/48");
	check_q("SELECT uri FROM endpoint WHERE key = 'alice'", "sip:alice@example.com");
	check_q("SELECT tel FROM endpoint WHERE key = 'desk-612'", "tel:+15551230612");
	check_q("SELECT class FROM endpoint WHERE key = 'alice'", "softphone");
	/* site policy and default */
	check_q("SELECT s.allow_default::text || ' ' || l.key FROM site s JOIN location l "
		"ON l.id = s.default_location_id WHERE s.key = 'hq'", "true hq-lobby");
	check_q("SELECT s.allow_default::text || ' ' || l.key FROM site s JOIN location l "
		"ON l.id = s.default_location_id WHERE s.key = 'branch'", "false branch-lobby");
	check_q("SELECT allow_default::text || coalesce(default_location_id::text, '-') FROM site "
		"WHERE key = 'campus'", "false-");
	/* bindings: source defaults to import; timestamps as given */
	check_q("SELECT source FROM binding_ip_mac WHERE ip = '127.0.0.12'", "import");
	check_q("SELECT source FROM binding_mac_port WHERE mac = '00:50:b6:00:00:30'", "snmp");
	check_q("SELECT (now() - last_seen > interval '2 days')::text FROM binding_mac_port "
		"WHERE mac = '00:50:b6:00:00:30'", "true");
	check_q("SELECT sw.key || ' ' || b.port_id FROM binding_mac_port b JOIN switch sw "
		"ON sw.id = b.switch_id WHERE b.mac = '00:50:b6:00:0a:11'", "sw1 Gi1/0/9");
}

static char *digest(void)
{
	return th_pg_query1(&E.pg,
		"SELECT md5(concat_ws('#',"
		" (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM switch t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM switch_port t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM bssid t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM endpoint t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM site t),"
		" (SELECT count(*) FROM binding_ip_mac), (SELECT count(*) FROM binding_mac_port),"
		" (SELECT count(*) FROM binding_mac_bssid)))");
}

/* Import one bad file of `kind`; expect exit 1, an error naming path:line:, nothing
 * written. */
static void expect_rejected(const char *kind, const char *name, const char *csv, int line)
{
	char *before = digest();
	char path[600];
	snprintf(path, sizeof path, "%s/%s", E.work, name);
	th_write_file(path, csv);
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "import", kind, path, (char *)NULL);
	CHECKF(p.status == 1, "%s: exit %d", name, p.status);
	char want[700];
	snprintf(want, sizeof want, "%s:%d:", path, line);
	CHECKF(strstr(p.err, want) != NULL, "%s: stderr lacks %s: %s", name, want, th_flat(p.err));
	th_proc_free(&p);
	char *after = digest();
	CHECKF(before && after && strcmp(before, after) == 0, "%s: the database changed", name);
	free(before);
	free(after);
}

static void test_reimport_changes_nothing(void)
{
	char *before = digest();
	ck_import_fixtures(&E);
	char *after = digest();
	CHECKF(before && after && strcmp(before, after) == 0, "a re-import changed the wiremap");
	CHECK(rows("binding_mac_port") == 11);
	free(before);
	free(after);
}

static void test_bad_rows_are_rejected_with_file_line_col(void)
{
	expect_rejected("--bssids", "bad_range.csv",
			"bssid,location,ap\n00:12:f0:a0:80:e1/44,hq-410,host bits set\n", 2);
	expect_rejected("--bssids", "bad_len.csv",
			"bssid,location,ap\n00:12:f0:a0:80:e0/49,hq-410,\n", 2);
	expect_rejected("--mac-ports", "bad_time.csv",
			"mac,switch,port,last_seen\n00:50:b6:00:00:01,sw1,Gi1/0/7,2026-11-25T08:00:00Z\n"
			"00:50:b6:00:00:02,sw1,Gi1/0/7,2026-11-25 08:00\n", 3);
	expect_rejected("--mac-ports", "bad_switch.csv",
			"mac,switch,port,last_seen\n00:50:b6:00:00:01,no-such-switch,Gi1/0/7,"
			"2026-11-25T08:00:00Z\n", 2);
	expect_rejected("--ip-macs", "bad_mac.csv",
			"ip,mac,last_seen\n127.0.0.9,00:50:b6:zz:00:01,2026-11-25T08:00:00Z\n", 2);
	expect_rejected("--ip-macs", "bad_ip.csv",
			"ip,mac,last_seen\n127.0.0.0/24,00:50:b6:00:00:01,2026-11-25T08:00:00Z\n", 2);
	expect_rejected("--endpoints", "no_identity.csv",
			"endpoint,class\nghost,softphone\n", 2);
	expect_rejected("--endpoints", "bad_class.csv",
			"endpoint,class,uri\nx,toaster,sip:x@example.com\n", 2);
	expect_rejected("--switches", "bad_site.csv",
			"switch,site,chassis_id\nsw9,no-such-site,00:1b:54:aa:00:09\n", 2);
	expect_rejected("--ports", "bad_location.csv",
			"switch,port,location\nsw1,Gi1/0/1,no-such-location\n", 2);
	expect_rejected("--sites", "bad_allow.csv",
			"site,name,allow_default\nx,X,maybe\n", 2);
}

/* Every write path leaves its keys in the change feed (migration 0006), which lisd polls:
 * an import, and a write by hand (a switch: a "whole table" row, lisd loads anew). */
static void test_every_write_is_in_the_change_feed(void)
{
	long before = th_pg_count(&E.pg, "SELECT coalesce(max(seq), 0) FROM wiremap_change");
	ck_import(&E, "--mac-bssids", "mac,bssid,last_seen\n00:50:b6:00:00:0c,00:12:f0:b0:00:01,now\n");
	th_pg_exec(&E.pg, "lis", "UPDATE switch SET description = 'touched' WHERE key = 'sw2'");
	char q[300];
	snprintf(q, sizeof q, "SELECT count(*) FROM wiremap_change WHERE seq > %ld AND tbl ="
		 " 'binding_mac_bssid' AND key_text = '00:50:b6:00:00:0c'", before);
	CHECKF(th_pg_count(&E.pg, q) == 1, "the import's binding is not in the change feed");
	snprintf(q, sizeof q, "SELECT count(*) FROM wiremap_change WHERE seq > %ld AND tbl ="
		 " 'switch' AND key_id IS NULL AND key_text IS NULL", before);
	CHECKF(th_pg_count(&E.pg, q) == 1, "the UPDATE of a switch is not in the change feed");
}

int main(void)
{
	t_run("setup_and_import_every_fixture", test_setup_and_import_every_fixture);
	if (!db_up) {
		t_skip("import cases", "setup failed");
		return t_done();
	}
	t_run("every_row_imported", test_every_row_imported);
	t_run("values_stored_canonical", test_values_stored_canonical);
	t_run("reimport_changes_nothing", test_reimport_changes_nothing);
	t_run("bad_rows_are_rejected_with_file_line_col", test_bad_rows_are_rejected_with_file_line_col);
	t_run("every_write_is_in_the_change_feed", test_every_write_is_in_the_change_feed);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
