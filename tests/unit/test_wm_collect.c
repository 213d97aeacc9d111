/* One switch's tables -> bindings, with tables built by hand: FDB -> bridge port -> ifIndex
 * -> port name, Q-BRIDGE over BRIDGE-MIB, uplinks by LLDP and by MAC count, ARP filters. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

#include "check.h"
#include "wm_collect.h"
#include "wm_lldp.h"
#include "ident.h"

static struct wm_octets oct(const char *s)
{
	struct wm_octets o = {0};
	if (s) {
		o.len = strlen(s);
		o.data = (unsigned char *)strdup(s);
	}
	return o;
}

static struct wm_octets oct_bin(const void *p, size_t n)
{
	struct wm_octets o = {.data = malloc(n + 1), .len = n};
	memcpy(o.data, p, n);
	o.data[n] = 0;
	return o;
}

/* An 8-port switch: ifIndex 10101..10108 named Gi1/0/N, bridge ports 1..8, LLDP local ports
 * 1..8 with interfaceName IDs. */
static void switch8(struct wm_switch_tables *t)
{
	memset(t, 0, sizeof *t);
	t->sys_name = oct("sw-1");
	t->ifs = calloc(8, sizeof *t->ifs);
	t->bridge_ports = calloc(8, sizeof *t->bridge_ports);
	t->loc_ports = calloc(8, sizeof *t->loc_ports);
	for (int n = 1; n <= 8; n++) {
		char name[32];
		snprintf(name, sizeof name, "Gi1/0/%d", n);
		t->ifs[n - 1] = (struct wm_if){.if_index = 10100 + n, .name = oct(name),
					       .descr = oct("GigabitEthernet")};
		t->bridge_ports[n - 1] = (struct wm_bridge_port){.port = n, .if_index = 10100 + n};
		t->loc_ports[n - 1] = (struct wm_lldp_loc_port){.port_num = n, .id_subtype = 5,
								.id = oct(name)};
	}
	t->n_ifs = t->n_bridge_ports = t->n_loc_ports = 8;
	t->result = WM_POLL_OK;
}

static void add_fdb(struct wm_fdb **arr, size_t *n, long fdb_id, const char *mac, long port,
		    int status)
{
	*arr = realloc(*arr, (*n + 1) * sizeof **arr);
	struct wm_fdb *f = &(*arr)[(*n)++];
	memset(f, 0, sizeof *f);
	f->fdb_id = fdb_id;
	ident_mac_parse(mac, f->mac);
	f->port = port;
	f->status = status;
}

static void add_rem(struct wm_switch_tables *t, long local_port, int cs, struct wm_octets cid,
		    int ps, struct wm_octets pid, unsigned char caps)
{
	t->rem = realloc(t->rem, (t->n_rem + 1) * sizeof *t->rem);
	struct wm_lldp_rem *r = &t->rem[t->n_rem++];
	memset(r, 0, sizeof *r);
	r->local_port_num = local_port;
	r->index = (long)t->n_rem;
	r->chassis_subtype = cs;
	r->chassis_id = cid;
	r->port_subtype = ps;
	r->port_id = pid;
	r->caps_enabled = oct_bin(&caps, 1);
}

static const struct wm_obs_mac_port *find_mac(const struct wm_collect_result *r, const char *mac)
{
	uint8_t m[6];
	ident_mac_parse(mac, m);
	for (size_t i = 0; i < r->n_mac_ports; i++)
		if (memcmp(r->mac_ports[i].mac, m, 6) == 0)
			return &r->mac_ports[i];
	return NULL;
}

static const struct wm_collect_policy pol8 = {.uplink_mac_threshold = 8};

static void test_learned_fdb_entries_map_through_bridge_port_to_ifname(void)
{
	struct wm_switch_tables t;
	switch8(&t);
	add_fdb(&t.fdb, &t.n_fdb, 0, "00:04:f2:aa:bb:01", 3, WM_FDB_LEARNED);
	add_fdb(&t.fdb, &t.n_fdb, 0, "3c:52:82:00:00:05", 5, WM_FDB_LEARNED);
	add_fdb(&t.fdb, &t.n_fdb, 0, "00:1b:2c:00:00:00", 0, WM_FDB_SELF);
	add_fdb(&t.fdb, &t.n_fdb, 0, "00:11:22:33:44:55", 4, WM_FDB_INVALID);
	add_fdb(&t.fdb, &t.n_fdb, 0, "00:11:22:33:44:56", 4, WM_FDB_MGMT);
	add_fdb(&t.fdb, &t.n_fdb, 0, "01:00:5e:00:00:01", 4, WM_FDB_LEARNED); /* multicast */
	add_fdb(&t.fdb, &t.n_fdb, 0, "00:11:22:33:44:57", 42, WM_FDB_LEARNED); /* unknown port */
	struct wm_collect_result r;
	CHECK(wm_collect_bindings(&t, &pol8, &r, NULL) == 0);
	CHECK_STR(r.sys_name, "sw-1");
	CHECKF(r.n_mac_ports == 3, "%zu", r.n_mac_ports);
	const struct wm_obs_mac_port *m = find_mac(&r, "00:04:f2:aa:bb:01");
	CHECK(m && strcmp(m->port_id, "Gi1/0/3") == 0 && m->if_index == 10103);
	m = find_mac(&r, "3c:52:82:00:00:05");
	CHECK(m && strcmp(m->port_id, "Gi1/0/5") == 0);
	m = find_mac(&r, "00:11:22:33:44:57");
	CHECK(m && strcmp(m->port_id, "bridge-port-42") == 0);
	CHECK(r.skipped == 4);
	CHECK(r.n_uplinks == 0);
	wm_collect_result_free(&r);
	wm_collect_result_free(&r); /* twice is harmless */
	wm_switch_tables_clear(&t);
}

static void test_qbridge_wins_over_bridge_mib_and_vlans_collapse(void)
{
	struct wm_switch_tables t;
	switch8(&t);
	add_fdb(&t.fdb, &t.n_fdb, 0, "3c:52:82:00:00:05", 5, WM_FDB_LEARNED);
	add_fdb(&t.qfdb, &t.n_qfdb, 10, "00:04:f2:aa:bb:01", 3, WM_FDB_LEARNED);
	add_fdb(&t.qfdb, &t.n_qfdb, 20, "00:04:f2:aa:bb:01", 3, WM_FDB_LEARNED);
	struct wm_collect_result r;
	CHECK(wm_collect_bindings(&t, &pol8, &r, NULL) == 0);
	CHECKF(r.n_mac_ports == 1, "%zu", r.n_mac_ports);
	CHECK(find_mac(&r, "00:04:f2:aa:bb:01") != NULL);
	CHECK(find_mac(&r, "3c:52:82:00:00:05") == NULL);
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
}

static void test_port_names_fall_back_to_lldp_id_then_ifdescr(void)
{
	struct wm_switch_tables t;
	switch8(&t);
	/* no ifName on 10102 and no LLDP port numbered 10102: ifDescr */
	free(t.ifs[1].name.data);
	t.ifs[1].name = (struct wm_octets){0};
	/* ifIndex == LLDP port num 7 (some agents): the LLDP ID */
	t.ifs[6].if_index = 7;
	free(t.ifs[6].name.data);
	t.ifs[6].name = oct("");
	t.bridge_ports[6].if_index = 7;
	char buf[WM_LLDP_TEXT_MAX];
	CHECK_STR(wm_collect_port_name(&t, 10102, buf, sizeof buf), "GigabitEthernet");
	CHECK_STR(wm_collect_port_name(&t, 7, buf, sizeof buf), "Gi1/0/7");
	CHECK(wm_collect_port_name(&t, 999, buf, sizeof buf) == NULL);
	/* no dot1dBasePortIfIndex at all: bridge port = ifIndex */
	struct wm_switch_tables u = {0};
	u.ifs = calloc(1, sizeof *u.ifs);
	u.ifs[0] = (struct wm_if){.if_index = 5, .descr = oct("port 5")};
	u.n_ifs = 1;
	add_fdb(&u.fdb, &u.n_fdb, 0, "00:16:3e:00:05:05", 5, WM_FDB_LEARNED);
	struct wm_collect_result r;
	CHECK(wm_collect_bindings(&u, NULL, &r, NULL) == 0);
	CHECK(r.n_mac_ports == 1 && strcmp(r.mac_ports[0].port_id, "port 5") == 0);
	CHECK(r.sys_name == NULL);
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&u);
	wm_switch_tables_clear(&t);
	wm_switch_tables_clear(&t);
}

static void test_uplink_by_mac_count_is_listed_and_its_macs_left_out(void)
{
	struct wm_switch_tables t;
	switch8(&t);
	for (int i = 1; i <= 9; i++) {
		char mac[18];
		snprintf(mac, sizeof mac, "00:50:56:00:08:%02x", i);
		add_fdb(&t.qfdb, &t.n_qfdb, 10, mac, 8, WM_FDB_LEARNED);
	}
	for (int i = 1; i <= 8; i++) { /* exactly the threshold: still a desk (hub) */
		char mac[18];
		snprintf(mac, sizeof mac, "00:50:56:00:06:%02x", i);
		add_fdb(&t.qfdb, &t.n_qfdb, 10, mac, 6, WM_FDB_LEARNED);
	}
	struct wm_collect_result r;
	CHECK(wm_collect_bindings(&t, &pol8, &r, NULL) == 0);
	CHECKF(r.n_uplinks == 1, "%zu", r.n_uplinks);
	if (r.n_uplinks == 1) {
		CHECK_STR(r.uplinks[0].port_id, "Gi1/0/8");
		CHECK(r.uplinks[0].macs == 9 && r.uplinks[0].by_threshold && !r.uplinks[0].by_lldp);
	}
	CHECKF(r.n_mac_ports == 8, "%zu", r.n_mac_ports);
	CHECK(find_mac(&r, "00:50:56:00:08:01") == NULL);
	wm_collect_result_free(&r);
	/* threshold 0: only LLDP makes uplinks */
	struct wm_collect_policy none = {0};
	CHECK(wm_collect_bindings(&t, &none, &r, NULL) == 0);
	CHECK(r.n_uplinks == 0 && r.n_mac_ports == 17);
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
}

static void test_uplink_by_lldp_bridge_but_not_by_phone(void)
{
	struct wm_switch_tables t;
	switch8(&t);
	static const unsigned char phone[6] = {0x00, 0x04, 0xf2, 0xaa, 0xbb, 0x01};
	static const unsigned char dist[6] = {0x00, 0x1b, 0x2c, 0x11, 0x00, 0x00};
	add_rem(&t, 3, 4, oct_bin(phone, 6), 3, oct_bin(phone, 6), 0x24);
	t.rem[0].med[LLDP_MED_MODEL] = oct("VVX 450");
	t.rem[0].sys_name = oct("");
	add_rem(&t, 2, 4, oct_bin(dist, 6), 5, oct("Te1/1/1"), 0x28);
	add_fdb(&t.qfdb, &t.n_qfdb, 20, "00:04:f2:aa:bb:01", 3, WM_FDB_LEARNED);
	add_fdb(&t.qfdb, &t.n_qfdb, 10, "00:1b:2c:11:00:00", 2, WM_FDB_LEARNED);
	struct wm_collect_result r;
	CHECK(wm_collect_bindings(&t, &pol8, &r, NULL) == 0);
	CHECK(r.n_lldp == 2);
	CHECK_STR(r.lldp[0].local_port_id, "Gi1/0/3");
	CHECK(!r.lldp[0].is_network_device);
	CHECK_STR(r.lldp[0].med[LLDP_MED_MODEL], "VVX 450");
	CHECK(r.lldp[0].sys_name == NULL);
	CHECK(r.lldp[0].med[LLDP_MED_SERIAL] == NULL);
	CHECK_STR(r.lldp[1].local_port_id, "Gi1/0/2");
	CHECK_STR(r.lldp[1].chassis_id, "00:1b:2c:11:00:00");
	CHECK(r.lldp[1].is_network_device);
	CHECK(r.n_uplinks == 1 && strcmp(r.uplinks[0].port_id, "Gi1/0/2") == 0 &&
	      r.uplinks[0].by_lldp && r.uplinks[0].macs == 1);
	CHECK(r.n_mac_ports == 1 && find_mac(&r, "00:04:f2:aa:bb:01"));
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
}

static void test_lldp_local_port_matched_by_name_when_numbers_differ(void)
{
	struct wm_switch_tables t;
	switch8(&t);
	/* lldpLocPortNum 3 names Gi1/0/3 = ifIndex 10103; an ifIndex 3 that is something else
	 * must not be taken. */
	t.ifs[0].if_index = 3;
	free(t.ifs[0].name.data);
	t.ifs[0].name = oct("Vl3");
	t.bridge_ports[0].if_index = 3;
	add_rem(&t, 3, 7, oct("x"), 7, oct("y"), 0x00);
	struct wm_collect_result r;
	CHECK(wm_collect_bindings(&t, &pol8, &r, NULL) == 0);
	CHECK(r.n_lldp == 1);
	CHECK_STR(r.lldp[0].local_port_id, "Gi1/0/3");
	CHECK(r.lldp[0].sys_capabilities && strcmp(r.lldp[0].sys_capabilities, "") == 0);
	wm_collect_result_free(&r);
	/* unknown local port number: named after the number */
	t.rem[0].local_port_num = 77;
	CHECK(wm_collect_bindings(&t, &pol8, &r, NULL) == 0);
	CHECK_STR(r.lldp[0].local_port_id, "lldp-port-77");
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
}

/* An interface the switch gives no ifName or ifDescr (only an ifAlias) names no LLDP local
 * port: the next name is used, and a poll never fails on it. Found by
 * tests/fuzz/fuzz_snmp_decode (it was strdup(NULL)). */
static void test_lldp_local_port_on_an_interface_without_name_falls_back(void)
{
	struct wm_switch_tables t;
	switch8(&t);
	t.ifs = realloc(t.ifs, 10 * sizeof *t.ifs);
	t.ifs[8] = (struct wm_if){.if_index = 20, .alias = oct("desk 20")};
	t.ifs[9] = (struct wm_if){.if_index = 30, .alias = oct("desk 30")};
	t.n_ifs = 10;
	/* lldpLocPort 21 is described like ifIndex 30, which has no name either */
	t.loc_ports = realloc(t.loc_ports, 9 * sizeof *t.loc_ports);
	t.loc_ports[8] = (struct wm_lldp_loc_port){.port_num = 21, .id_subtype = 7,
						   .id = oct("port 21"), .desc = oct("desk 30")};
	t.n_loc_ports = 9;
	add_rem(&t, 20, 7, oct("x"), 7, oct("y"), 0x00);
	add_rem(&t, 21, 7, oct("x"), 7, oct("z"), 0x00);
	struct wm_collect_result r;
	CHECK(wm_collect_bindings(&t, &pol8, &r, NULL) == 0);
	CHECK(r.n_lldp == 2);
	CHECK_STR(r.lldp[0].local_port_id, "lldp-port-20");
	CHECK_STR(r.lldp[1].local_port_id, "port 21");
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
}

static void add_arp(struct wm_switch_tables *t, int family, const char *ip, const char *mac,
		    int type, bool media)
{
	t->arp = realloc(t->arp, (t->n_arp + 1) * sizeof *t->arp);
	struct wm_arp *a = &t->arp[t->n_arp++];
	memset(a, 0, sizeof *a);
	a->family = family;
	inet_pton(family, ip, a->addr);
	a->type = type;
	a->from_media_table = media;
	if (mac) {
		uint8_t m[6];
		if (ident_mac_parse(mac, m) == 0)
			a->phys = oct_bin(m, 6);
		else
			a->phys = oct(mac); /* odd length */
	}
}

static void test_arp_entries_keep_dynamic_and_static_drop_the_rest(void)
{
	struct wm_switch_tables t = {0};
	add_arp(&t, AF_INET, "127.0.0.50", "00:04:f2:aa:bb:01", WM_ARP_DYNAMIC, false);
	add_arp(&t, AF_INET, "127.0.0.50", "00:04:f2:aa:bb:01", WM_ARP_DYNAMIC, true);
	add_arp(&t, AF_INET, "127.0.0.53", "00:11:22:33:44:53", WM_ARP_STATIC, false);
	add_arp(&t, AF_INET, "127.0.0.54", "00:11:22:33:44:54", WM_ARP_OTHER, false);
	add_arp(&t, AF_INET, "127.0.0.52", "00:11:22:33:44:52", WM_ARP_INVALID, false);
	add_arp(&t, AF_INET, "10.9.9.9", "00:11:22:33:44:09", WM_ARP_LOCAL, false);
	add_arp(&t, AF_INET, "127.0.0.60", "00:00:00:00:00:00", WM_ARP_DYNAMIC, true);
	add_arp(&t, AF_INET, "127.0.0.61", NULL, WM_ARP_DYNAMIC, true);
	add_arp(&t, AF_INET, "127.0.0.62", "abc", WM_ARP_DYNAMIC, true);
	add_arp(&t, AF_INET6, "2001:db8::50", "00:04:f2:aa:bb:01", WM_ARP_DYNAMIC, false);
	add_arp(&t, AF_INET6, "fe80::1", "00:04:f2:aa:bb:01", WM_ARP_DYNAMIC, false);
	struct wm_collect_result r;
	CHECK(wm_collect_bindings(&t, &pol8, &r, NULL) == 0);
	CHECKF(r.n_ip_macs == 4, "%zu", r.n_ip_macs);
	if (r.n_ip_macs == 4) {
		CHECK_STR(r.ip_macs[0].ip, "127.0.0.50");
		char m[18];
		ident_mac_format(r.ip_macs[0].mac, m);
		CHECK_STR(m, "00:04:f2:aa:bb:01");
		CHECK(!r.ip_macs[0].is_static);
		CHECK_STR(r.ip_macs[1].ip, "127.0.0.53");
		CHECK(r.ip_macs[1].is_static);
		CHECK_STR(r.ip_macs[2].ip, "127.0.0.54");
		CHECK_STR(r.ip_macs[3].ip, "2001:db8::50");
	}
	CHECK(r.skipped == 6);
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
	wm_collect_result_free(NULL);
	wm_switch_tables_clear(NULL);
}

int main(void)
{
	t_run("learned_fdb_entries_map_through_bridge_port_to_ifname",
	      test_learned_fdb_entries_map_through_bridge_port_to_ifname);
	t_run("qbridge_wins_over_bridge_mib_and_vlans_collapse",
	      test_qbridge_wins_over_bridge_mib_and_vlans_collapse);
	t_run("port_names_fall_back_to_lldp_id_then_ifdescr",
	      test_port_names_fall_back_to_lldp_id_then_ifdescr);
	t_run("uplink_by_mac_count_is_listed_and_its_macs_left_out",
	      test_uplink_by_mac_count_is_listed_and_its_macs_left_out);
	t_run("uplink_by_lldp_bridge_but_not_by_phone", test_uplink_by_lldp_bridge_but_not_by_phone);
	t_run("lldp_local_port_matched_by_name_when_numbers_differ",
	      test_lldp_local_port_matched_by_name_when_numbers_differ);
	t_run("lldp_local_port_on_an_interface_without_name_falls_back",
	      test_lldp_local_port_on_an_interface_without_name_falls_back);
	t_run("arp_entries_keep_dynamic_and_static_drop_the_rest",
	      test_arp_entries_keep_dynamic_and_static_drop_the_rest);
	return t_done();
}
