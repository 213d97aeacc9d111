/* db_snapshot_load() against a real PostgreSQL, a table larger than one FETCH batch: every
 * row arrives once, though the next batch is asked for before the rows of this one are
 * handed on; a database that goes away in the middle gives a connection error that names
 * the table, and a sink that refuses a row leaves the connection ready for the next load.
 * (That lisd keeps serving its snapshot meanwhile: test_snapshot_outage.) */
#include "check.h"
#include "db.h"
#include "db_snapshot.h"
#include "harness.h"
#include "ident.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Two batches of 10000 exactly: the last FETCH is the empty one. */
#define N_SUBNETS 20000

static struct th_pg pg;
static bool pg_up;
static char loader_ci[600];   /* pg.conninfo with an application_name to find it by */

/* What a sink saw, and what it does on the subnet row numbered at (1-based; 0: nothing). */
struct count {
	long sites, locations, subnets;
	long at;
	enum { AT_NOTHING, AT_TERMINATE, AT_REFUSE } act;
};

static int site_cb(void *ctx, const struct db_rec_site *r, struct lis_error *err)
{
	(void)r, (void)err;
	((struct count *)ctx)->sites++;
	return 0;
}

static int location_cb(void *ctx, const struct db_rec_location *r, struct lis_error *err)
{
	(void)r, (void)err;
	((struct count *)ctx)->locations++;
	return 0;
}

static int subnet_cb(void *ctx, const struct db_rec_subnet *r, struct lis_error *err)
{
	struct count *k = ctx;
	(void)r;
	if (++k->subnets != k->at)
		return 0;
	if (k->act == AT_REFUSE)
		return lis_error_set(err, LIS_E_SYSTEM, "subnet %ld refused by the test", k->at);
	/* The loader's backend goes, and pg_terminate_backend waits until it has. */
	char *t = th_pg_query1(&pg, "SELECT bool_and(pg_terminate_backend(pid, 10000)) FROM "
			       "pg_stat_activity WHERE application_name = 'snapshot-load-test'");
	CHECKF(t && strcmp(t, "t") == 0, "pg_terminate_backend: %s", t ? t : "(failed)");
	free(t);
	return 0;
}

static struct db_snapshot_sink sink_of(struct count *k)
{
	return (struct db_snapshot_sink){.ctx = k, .site = site_cb, .location = location_cb,
					 .subnet = subnet_cb};
}

static void test_setup_postgresql_with_20000_subnets(void)
{
	pg_up = th_pg_start(&pg) == 0;
	if (!CHECK(pg_up))
		return;
	snprintf(loader_ci, sizeof loader_ci, "%s application_name=snapshot-load-test",
		 pg.conninfo);
	struct th_proc p;
	char *a[] = {(char *)th_lisctl_path(), "--db", pg.conninfo, "db", "migrate", NULL};
	th_run(&p, a, NULL, 60);
	pg_up = CHECKF(p.status == 0, "lisctl db migrate: %s", th_flat(p.err));
	th_proc_free(&p);
	if (pg_up)
		pg_up = CHECK(th_pg_exec(&pg, "lis",
			"INSERT INTO site (key, name) VALUES ('s1', 'Site 1');"
			"INSERT INTO location (key, site_id, country)"
			" SELECT 'l1', id, 'US' FROM site;"
			"INSERT INTO subnet (prefix, location_id) SELECT"
			" ('10.' || g / 256 || '.' || g % 256 || '.0/24')::cidr, l.id"
			" FROM generate_series(0, 19999) g, location l") == 0);
}

static struct db_conn *connect_loader(void)
{
	struct lis_error err = {0};
	struct db_conn *c = db_connect(loader_ci, &err);
	CHECKF(c, "connect: %s", err.msg);
	return c;
}

/* Load everything through c: each row once. */
static void check_full_load(struct db_conn *c, const char *when)
{
	struct lis_error err = {0};
	struct count k = {0};
	struct db_snapshot_sink sink = sink_of(&k);
	CHECKF(db_snapshot_load(c, &sink, NULL, &err) == 0, "load %s: %s", when, err.msg);
	CHECK(k.sites == 1 && k.locations == 1);
	CHECKF(k.subnets == N_SUBNETS, "%ld subnets %s", k.subnets, when);
}

/* Load through c with k's action at its subnet row: the load must fail, err says how. */
static void check_stopped_load(struct db_conn *c, struct count *k, struct lis_error *err)
{
	struct db_snapshot_sink sink = sink_of(k);
	CHECK(db_snapshot_load(c, &sink, NULL, err) == -1);
}

static void test_every_row_of_a_table_of_two_batches_arrives_once(void)
{
	struct db_conn *c = connect_loader();
	if (c)
		check_full_load(c, "first");
	db_close(c);
}

static void test_database_gone_mid_load_is_a_connection_error_naming_the_table(void)
{
	struct db_conn *c = connect_loader();
	if (!c)
		return;
	/* in the first batch: the second one is asked for already */
	struct count k = {.at = 5000, .act = AT_TERMINATE};
	struct lis_error err = {0};
	check_stopped_load(c, &k, &err);
	CHECKF(err.code == DB_E_CONNECT, "code %d: %s", err.code, err.msg);
	CHECKF(strncmp(err.msg, "snapshot: subnets: ", 19) == 0, "message: %s", err.msg);
	CHECKF(k.subnets < N_SUBNETS, "%ld subnets after the database went", k.subnets);
	CHECK(!db_is_ok(c));
	t_diag("%s", err.msg);
	db_close(c);
	/* the database itself is fine: a new connection loads everything */
	c = connect_loader();
	if (c)
		check_full_load(c, "on a new connection");
	db_close(c);
}

static void test_refused_row_keeps_its_error_and_the_connection_usable(void)
{
	struct db_conn *c = connect_loader();
	if (!c)
		return;
	struct count k = {.at = 5000, .act = AT_REFUSE};
	struct lis_error err = {0};
	check_stopped_load(c, &k, &err);
	CHECKF(err.code == LIS_E_SYSTEM && strcmp(err.msg, "subnet 5000 refused by the test") == 0,
	       "code %d: %s", err.code, err.msg);
	CHECK(db_is_ok(c));
	/* the FETCH in flight was read and the transaction rolled back: the same connection
	 * loads again */
	check_full_load(c, "on the same connection");
	db_close(c);
}

/* ---- every value of the large tables as PostgreSQL stores it (they come in binary) ---- */

static char seen[4096];   /* one line per row of interest, as the sink got it */

static void seen_add(const char *fmt, ...)
{
	size_t n = strlen(seen);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(seen + n, sizeof seen - n, fmt, ap);
	va_end(ap);
}

static const char *mac_text(const uint8_t m[6], char buf[18])
{
	ident_mac_format(m, buf);
	return buf;
}

/* The loader hands addresses on in binary (struct db_inet), never as text. */
static const char *inet_text(const char *text, const struct db_inet *b, char *buf)
{
	if (text || !b->family)
		return "(text)";
	inet_ntop(b->family == 4 ? AF_INET : AF_INET6, b->addr, buf, INET6_ADDRSTRLEN);
	snprintf(buf + strlen(buf), 8, "/%u", b->bits);
	return buf;
}

static int v_subnet(void *ctx, const struct db_rec_subnet *r, struct lis_error *err)
{
	char t[INET6_ADDRSTRLEN + 8];
	(void)ctx, (void)err;
	if (!r->prefix && r->bin.family == 4 && r->bin.addr[0] == 10)
		return 0;  /* one of the 20000 */
	seen_add("subnet %s loc=%d remote=%d\n", inet_text(r->prefix, &r->bin, t),
		 r->location_id != 0, r->remote);
	return 0;
}

static int v_switch(void *ctx, const struct db_rec_switch *r, struct lis_error *err)
{
	(void)ctx, (void)err;
	seen_add("switch %s site=%d chassis=%s mgmt=%s loc=%d\n", r->key, r->site_id > 0,
		 r->chassis_id, r->mgmt_address ? r->mgmt_address : "-", r->location_id != 0);
	return 0;
}

static int v_port(void *ctx, const struct db_rec_port *r, struct lis_error *err)
{
	(void)ctx, (void)err;
	seen_add("port %s switch=%d loc=%d\n", r->port_id, r->switch_id > 0, r->location_id != 0);
	return 0;
}

static int v_bssid(void *ctx, const struct db_rec_bssid *r, struct lis_error *err)
{
	char m[18];
	(void)ctx, (void)err;
	seen_add("bssid %s/%u %s loc=%d\n", mac_text(r->bssid, m), r->prefix_len, r->key,
		 r->location_id != 0);
	return 0;
}

static int v_endpoint(void *ctx, const struct db_rec_endpoint *r, struct lis_error *err)
{
	char m[18];
	(void)ctx, (void)err;
	seen_add("endpoint %s id=%d %s mac=%s uri=%s tel=%s loc=%d owner=%s off=%d\n", r->key,
		 r->id > 0, r->class_, r->has_mac ? mac_text(r->mac, m) : "-",
		 r->uri ? r->uri : "-", r->tel ? r->tel : "-", r->location_id != 0,
		 r->owner ? r->owner : "-", r->deactivated);
	return 0;
}

static int v_binding(void *ctx, const struct db_rec_binding *r, struct lis_error *err)
{
	char m[18], b[18], t[INET6_ADDRSTRLEN + 8];
	(void)ctx, (void)err;
	seen_add("binding %d %s", (int)r->kind, mac_text(r->mac, m));
	if (r->kind == DB_BIND_MAC_PORT)
		seen_add(" switch=%d port=%s", r->switch_id > 0, r->port_id);
	else if (r->kind == DB_BIND_IP_MAC)
		seen_add(" ip=%s", inet_text(r->ip, &r->ip_bin, t));
	else
		seen_add(" bssid=%s", mac_text(r->bssid, b));
	seen_add(" %lld %lld %s\n", (long long)r->first_seen, (long long)r->last_seen, r->source);
	return 0;
}

/* A timestamp before 2000 (PostgreSQL's binary epoch) and fractions of a second: the
 * seconds are rounded down, as floor(date_part('epoch', ...)) did. IPv6 and IPv4, a /32,
 * NULLs, a BSSID range. */
static void test_every_value_reads_as_postgresql_stores_it(void)
{
	int rc = th_pg_exec(&pg, "lis",
		"INSERT INTO subnet (prefix, location_id) SELECT '2001:db8:1::/48', id FROM location;"
		"INSERT INTO subnet (prefix, location_id) SELECT '198.51.100.7/32', id FROM location;"
		"INSERT INTO subnet (prefix, remote) VALUES ('192.0.2.0/24', true);"
		"INSERT INTO switch (key, site_id, chassis_id, mgmt_address, location_id)"
		" SELECT 'sw1', s.id, '00:11:22:33:44:55', '2001:db8::10', l.id"
		" FROM site s, location l;"
		"INSERT INTO switch (key, site_id, chassis_id) SELECT 'sw2', id, 'sw2-chassis'"
		" FROM site;"
		"INSERT INTO switch_port (switch_id, port_id) SELECT id, 'Gi1/0/1' FROM switch"
		" WHERE key = 'sw1';"
		"INSERT INTO bssid (bssid, prefix_len, key, location_id)"
		" SELECT '0a:00:00:00:00:10', 44, 'ap-1', id FROM location;"
		"INSERT INTO endpoint (key, class, mac, uri, tel, location_id, owner, active)"
		" SELECT 'ep-1', 'softphone', '02:42:00:00:00:01', 'sip:alice@example.com',"
		" 'tel:+15551234567', id, 'alice', false FROM location;"
		"INSERT INTO endpoint (key, class, uri) VALUES ('ep-2', 'desk_phone',"
		" 'sip:bob@example.com');"
		"INSERT INTO binding_mac_port (mac, switch_id, port_id, first_seen, last_seen, source)"
		" SELECT '02:42:00:00:00:01', id, 'Gi1/0/1', '1999-12-31 23:59:59.5+00',"
		" '2026-01-02 03:04:05.999+00', 'snmp' FROM switch WHERE key = 'sw1';"
		"INSERT INTO binding_ip_mac (ip, mac, first_seen, last_seen, source) VALUES"
		" ('fd00::5', '02:42:00:00:00:01', '2026-01-02 03:04:05+00',"
		"  '2026-01-02 03:04:06.000001+00', 'netlink'),"
		" ('10.9.8.7', '02:42:00:00:00:02', '1970-01-01 00:00:00+00',"
		"  '2026-01-02 03:04:07+00', 'import');"
		"INSERT INTO binding_mac_bssid (mac, bssid, first_seen, last_seen, source) VALUES"
		" ('02:42:00:00:00:03', '0a:00:00:00:00:1f', '1969-12-31 23:59:58.25+00',"
		"  '2026-01-02 03:04:08+00', 'snmp');");
	if (!CHECK(rc == 0))
		return;
	struct db_conn *c = connect_loader();
	if (!c)
		return;
	struct db_snapshot_sink sink = {.subnet = v_subnet, .sw = v_switch, .port = v_port,
					.bssid = v_bssid, .endpoint = v_endpoint,
					.binding = v_binding};
	struct lis_error err = {0};
	seen[0] = '\0';
	CHECKF(db_snapshot_load(c, &sink, NULL, &err) == 0, "load: %s", err.msg);
	db_close(c);
	const char *want =
		"subnet 2001:db8:1::/48 loc=1 remote=0\n"
		"subnet 198.51.100.7/32 loc=1 remote=0\n"
		"subnet 192.0.2.0/24 loc=0 remote=1\n"
		"switch sw1 site=1 chassis=00:11:22:33:44:55 mgmt=2001:db8::10 loc=1\n"
		"switch sw2 site=1 chassis=sw2-chassis mgmt=- loc=0\n"
		"port Gi1/0/1 switch=1 loc=0\n"
		"bssid 0a:00:00:00:00:10/44 ap-1 loc=1\n"
		"endpoint ep-1 id=1 softphone mac=02:42:00:00:00:01 uri=sip:alice@example.com "
		"tel=tel:+15551234567 loc=1 owner=alice off=1\n"
		"endpoint ep-2 id=1 desk_phone mac=- uri=sip:bob@example.com tel=- loc=0 owner=- "
		"off=0\n"
		"binding 0 02:42:00:00:00:01 switch=1 port=Gi1/0/1 946684799 1767323045 snmp\n"
		"binding 1 02:42:00:00:00:01 ip=fd00::5/128 1767323045 1767323046 netlink\n"
		"binding 1 02:42:00:00:00:02 ip=10.9.8.7/32 0 1767323047 import\n"
		"binding 2 02:42:00:00:00:03 bssid=0a:00:00:00:00:1f -2 1767323048 snmp\n";
	CHECKF(strcmp(seen, want) == 0, "the sink got:\n%s", seen);
}

int main(void)
{
	t_run("setup_postgresql_with_20000_subnets", test_setup_postgresql_with_20000_subnets);
	if (!pg_up) {
		t_skip("load cases", "PostgreSQL did not start");
		th_pg_stop(&pg);
		return t_done();
	}
	t_run("every_row_of_a_table_of_two_batches_arrives_once",
	      test_every_row_of_a_table_of_two_batches_arrives_once);
	t_run("database_gone_mid_load_is_a_connection_error_naming_the_table",
	      test_database_gone_mid_load_is_a_connection_error_naming_the_table);
	t_run("refused_row_keeps_its_error_and_the_connection_usable",
	      test_refused_row_keeps_its_error_and_the_connection_usable);
	/* last: it adds rows the cases above do not count */
	t_run("every_value_reads_as_postgresql_stores_it",
	      test_every_value_reads_as_postgresql_stores_it);
	int rc = t_done();
	th_pg_stop(&pg);
	return rc;
}
