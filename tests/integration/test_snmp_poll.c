/* The collector's SNMP poller against real agents: snmpsimd serving tests/data/snmp over
 * SNMPv2c and SNMPv3 (authPriv, SHA + AES), an address where nothing answers, and many
 * switches polled at once. Tables are checked as walked and as turned into bindings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"
#include "snmpsim.h"
#include "wm_collect.h"
#include "wm_snmp.h"
#include "ident.h"

static struct th_snmpsim sim;

#define LIVE_TIMEOUT_MS 10000
static const struct wm_collect_policy policy = {.uplink_mac_threshold = 8};

static struct wm_snmp_cred v2c(const char *community)
{
	return (struct wm_snmp_cred){.version = 2, .community = community};
}

static struct wm_snmp_target target(const char *name, int port, const struct wm_snmp_cred *c)
{
	/* An agent that answers gets a wait no loaded machine runs out of (snmpsimd is Python
	 * and shares the CPU with the suite); only the tests of silence use short ones. */
	return (struct wm_snmp_target){.name = name, .address = "127.0.0.1",
				       .port = (unsigned)port, .cred = c,
				       .timeout_ms = LIVE_TIMEOUT_MS, .retries = 1};
}

/* Poll one target and turn it into bindings. */
static int poll_one(const struct wm_snmp_target *tg, struct wm_switch_tables *t,
		    struct wm_collect_result *r)
{
	struct lis_error err = {0};
	memset(t, 0, sizeof *t);
	int rc = wm_snmp_poll(tg, 1, 1, t, NULL, NULL, NULL, &err);
	CHECKF(rc >= 0, "wm_snmp_poll: %s", err.msg);
	if (t->result != WM_POLL_OK)
		t_diag("%s", t->error);
	if (r && wm_collect_bindings(t, &policy, r, &err) < 0)
		CHECKF(false, "wm_collect_bindings: %s", err.msg);
	return rc;
}

static const struct wm_obs_mac_port *find_mac(const struct wm_collect_result *r,
					       const char *mac)
{
	uint8_t m[6];
	if (ident_mac_parse(mac, m) < 0)
		return NULL;
	for (size_t i = 0; i < r->n_mac_ports; i++)
		if (memcmp(r->mac_ports[i].mac, m, 6) == 0)
			return &r->mac_ports[i];
	return NULL;
}

static const struct wm_obs_ip_mac *find_ip(const struct wm_collect_result *r, const char *ip)
{
	for (size_t i = 0; i < r->n_ip_macs; i++)
		if (strcmp(r->ip_macs[i].ip, ip) == 0)
			return &r->ip_macs[i];
	return NULL;
}

static const struct wm_obs_lldp *find_lldp(const struct wm_collect_result *r,
					   const char *local_port)
{
	for (size_t i = 0; i < r->n_lldp; i++)
		if (strcmp(r->lldp[i].local_port_id, local_port) == 0)
			return &r->lldp[i];
	return NULL;
}

static const char *mac_text(const uint8_t m[6])
{
	static char buf[4][18];
	static int k;
	k = (k + 1) % 4;
	ident_mac_format(m, buf[k]);
	return buf[k];
}

static void check_access_switch(const struct wm_switch_tables *t,
				const struct wm_collect_result *r, const char *sys_name)
{
	CHECKF(t->result == WM_POLL_OK, "%s", t->error);
	CHECK_STR(r->sys_name, sys_name);
	CHECKF(t->n_ifs == 9, "%zu interfaces", t->n_ifs);
	CHECKF(t->n_loc_ports == 8, "%zu LLDP local ports", t->n_loc_ports);
	CHECKF(t->n_rem == 2, "%zu LLDP neighbours", t->n_rem);
	CHECKF(t->n_bridge_ports == 8, "%zu bridge ports", t->n_bridge_ports);
	CHECKF(t->n_qfdb == 16, "%zu Q-BRIDGE rows", t->n_qfdb);
	CHECKF(t->n_fdb == 0, "BRIDGE-MIB FDB walked although Q-BRIDGE answered (%zu)", t->n_fdb);

	const struct wm_obs_mac_port *phone = find_mac(r, "00:04:f2:aa:bb:01");
	const struct wm_obs_mac_port *pc = find_mac(r, "3c:52:82:00:00:05");
	CHECK(phone != NULL);
	CHECK(pc != NULL);
	if (phone) {
		CHECK_STR(phone->port_id, "Gi1/0/3");
		CHECK(phone->if_index == 10103);
	}
	if (pc)
		CHECK_STR(pc->port_id, "Gi1/0/5");
	CHECKF(r->n_mac_ports == 2, "%zu MAC-port bindings (the uplink's 12 must be left out)",
	       r->n_mac_ports);
	CHECK(find_mac(r, "00:50:56:00:08:01") == NULL);
	CHECKF(r->n_uplinks == 1, "%zu uplinks", r->n_uplinks);
	if (r->n_uplinks == 1) {
		CHECK_STR(r->uplinks[0].port_id, "Gi1/0/8");
		CHECK(r->uplinks[0].by_lldp);
		CHECK(r->uplinks[0].by_threshold);
		CHECK(r->uplinks[0].macs == 12);
	}

	const struct wm_obs_lldp *ph = find_lldp(r, "Gi1/0/3");
	CHECK(ph != NULL);
	if (ph) {
		CHECK_STR(ph->chassis_subtype, "macAddress");
		CHECK_STR(ph->chassis_id, "00:04:f2:aa:bb:01");
		CHECK_STR(ph->port_subtype, "macAddress");
		CHECK_STR(ph->sys_name, "SEP0004F2AABB01");
		CHECK_STR(ph->sys_capabilities, "bridge,telephone");
		CHECK(!ph->is_network_device);
		CHECK_STR(ph->med[LLDP_MED_MODEL], "VVX 450");
		CHECK_STR(ph->med[LLDP_MED_SERIAL], "PHN0012345");
		CHECK_STR(ph->med[LLDP_MED_SOFTWARE], "5.9.0.1234");
		CHECK_STR(ph->med[LLDP_MED_MFG], "Polycom");
	}
	const struct wm_obs_lldp *up = find_lldp(r, "Gi1/0/8");
	CHECK(up != NULL);
	if (up) {
		CHECK_STR(up->chassis_id, "00:1b:2c:11:00:00");
		CHECK_STR(up->port_subtype, "interfaceName");
		CHECK_STR(up->port_id, "Te1/1/1");
		CHECK_STR(up->sys_capabilities, "bridge,router");
		CHECK(up->is_network_device);
		CHECK(up->med[LLDP_MED_MODEL] == NULL);
	}
}

static void test_v2c_access_switch_gives_ports_neighbours_and_uplink(void)
{
	struct wm_snmp_cred c = v2c("access-switch");
	struct wm_snmp_target tg = target("access-1", sim.port, &c);
	struct wm_switch_tables t;
	struct wm_collect_result r;
	poll_one(&tg, &t, &r);
	check_access_switch(&t, &r, "access-1");
	CHECKF(t.requests < 40, "%u requests", t.requests);
	/* LLDP-MED civic address: the civicAddress(3) row's LCI as hex octets (US, A1 IL, A3
	 * Chicago, FLR 4, ROOM 410), not the coordinate (2) or ELIN (4) rows beside it */
	const struct wm_obs_lldp *ph = find_lldp(&r, "Gi1/0/3");
	const struct wm_obs_lldp *up = find_lldp(&r, "Gi1/0/8");
	if (ph)
		CHECK_STR(ph->med[LLDP_MED_CIVIC],
			  "180255530102494c03074368696361676f1b01341c03343130");
	if (up)
		CHECK(up->med[LLDP_MED_CIVIC] == NULL);
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
}

static void test_v2c_router_gives_ip_mac_from_both_ip_mib_tables(void)
{
	struct wm_snmp_cred c = v2c("router");
	struct wm_snmp_target tg = target("core-rtr-1", sim.port, &c);
	struct wm_switch_tables t;
	struct wm_collect_result r;
	poll_one(&tg, &t, &r);
	CHECKF(t.result == WM_POLL_OK, "%s", t.error);
	CHECK_STR(r.sys_name, "core-rtr-1");
	const struct wm_obs_ip_mac *e = find_ip(&r, "127.0.0.50");
	CHECK(e != NULL);
	if (e) {
		CHECK_STR(mac_text(e->mac), "00:04:f2:aa:bb:01");
		CHECK(!e->is_static);
	}
	e = find_ip(&r, "2001:db8::50");
	CHECK(e != NULL);
	if (e)
		CHECK_STR(mac_text(e->mac), "00:04:f2:aa:bb:01");
	CHECK(find_ip(&r, "127.0.0.51") != NULL);
	e = find_ip(&r, "127.0.0.53");
	CHECK(e != NULL && e->is_static);
	e = find_ip(&r, "127.0.0.61"); /* only in ipNetToMediaTable */
	CHECK(e != NULL);
	if (e)
		CHECK_STR(mac_text(e->mac), "00:11:22:33:44:61");
	CHECK(find_ip(&r, "127.0.0.52") == NULL);  /* invalid */
	CHECK(find_ip(&r, "127.0.0.60") == NULL);  /* incomplete (zero MAC) */
	CHECK(find_ip(&r, "10.9.9.9") == NULL);    /* local */
	CHECK(find_ip(&r, "fe80::204:f2ff:feaa:bb01") == NULL);
	CHECKF(r.n_ip_macs == 5, "%zu ip-mac bindings", r.n_ip_macs);
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
}

static void test_v2c_odd_switch_decodes_every_subtype_without_failing(void)
{
	struct wm_snmp_cred c = v2c("odd-switch");
	struct wm_snmp_target tg = target("odd-1", sim.port, &c);
	struct wm_switch_tables t;
	struct wm_collect_result r;
	poll_one(&tg, &t, &r);
	CHECKF(t.result == WM_POLL_OK, "%s", t.error);
	CHECK_STR(r.sys_name, "6f:64:64:2d:31:ff");
	CHECKF(r.n_lldp == 8, "%zu neighbours", r.n_lldp);
	struct {
		const char *local, *cs, *cid, *ps, *pid;
	} want[] = {
		{"00:16:3e:00:00:01", "chassisComponent", "chassis-A", "interfaceAlias",
		 "uplink to A"},
		{"00:16:3e:00:00:02", "interfaceAlias", "c0:ff:ee", "portComponent", ""},
		{"00:16:3e:00:00:03", "portComponent", "slot3", "macAddress", "0a"},
		{"00:16:3e:00:00:04", "macAddress", "00:11", "networkAddress", "192.168.10.5"},
		{"port 5", "networkAddress", "2001:db8::5", "interfaceName", "eth0"},
		{"port 6", "interfaceName", "sw-odd-ifname", "agentCircuitId", "00:01:02"},
		{"port 7", "local", "local-chassis-7", "local", "42"},
		{"port 8", "networkAddress", "10.0.0.1", "unknown", "77:68:61:74"},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct wm_obs_lldp *o = find_lldp(&r, want[i].local);
		CHECKF(o != NULL, "no neighbour on %s", want[i].local);
		if (!o)
			continue;
		CHECK_STR(o->chassis_subtype, want[i].cs);
		CHECK_STR(o->chassis_id, want[i].cid);
		CHECK_STR(o->port_subtype, want[i].ps);
		CHECK_STR(o->port_id, want[i].pid);
	}
	/* bridge (0x20) on 3, router (0x08 0x00) on 4, bridge+router (0x28) on 8: uplinks by
	 * LLDP; other (0x80), telephone (0x04), station (0x01), bridge+telephone (0x24): not */
	CHECKF(r.n_uplinks == 3, "%zu uplinks", r.n_uplinks);
	if (r.n_uplinks == 3) {
		CHECK_STR(r.uplinks[0].port_id, "00:16:3e:00:00:03");
		CHECK_STR(r.uplinks[1].port_id, "00:16:3e:00:00:04");
		CHECK_STR(r.uplinks[2].port_id, "port 8");
	}
	/* BRIDGE-MIB only, no dot1dBasePortIfIndex: bridge port 5 taken as ifIndex 5 */
	const struct wm_obs_mac_port *m = find_mac(&r, "00:16:3e:00:05:05");
	CHECK(m != NULL);
	if (m)
		CHECK_STR(m->port_id, "port 5");
	CHECKF(r.n_mac_ports == 1, "%zu MAC-port bindings", r.n_mac_ports);
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
}

static struct wm_snmp_cred v3(const char *auth, const char *priv)
{
	return (struct wm_snmp_cred){.version = 3, .user = TH_SNMPSIM_V3_USER,
				     .auth_proto = "SHA", .auth_pass = auth, .priv_proto = "AES",
				     .priv_pass = priv, .context = "v3-switch"};
}

static void test_v3_authpriv_sha_aes_polls_the_v3_switch(void)
{
	struct wm_snmp_cred c = v3(TH_SNMPSIM_V3_AUTH, TH_SNMPSIM_V3_PRIV);
	struct wm_snmp_target tg = target("v3-access-1", sim.port, &c);
	struct wm_switch_tables t;
	struct wm_collect_result r;
	poll_one(&tg, &t, &r);
	check_access_switch(&t, &r, "v3-access-1");
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
}

static void test_v3_wrong_password_fails_without_the_password_in_the_error(void)
{
	struct wm_snmp_cred c = v3("wrong-auth-password-9", "wrong-priv-password-9");
	struct wm_snmp_target tg = target("v3-access-1", sim.port, &c);
	struct wm_switch_tables t;
	poll_one(&tg, &t, NULL);
	t_diag("result %d, error: %s, %zu ifs", (int)t.result, t.error, t.n_ifs);
	/* the agent answers: not a timeout but an error, said in words */
	CHECKF(t.result == WM_POLL_ERROR, "result %d", (int)t.result);
	CHECK(strstr(t.error, "v3-access-1") != NULL);
	CHECK(strstr(t.error, "wrong-auth-password-9") == NULL);
	CHECK(strstr(t.error, "wrong-priv-password-9") == NULL);
	CHECKF(strstr(t.error, "SNMPv3 authentication failure") != NULL, "%s", t.error);
	CHECK(t.n_ifs == 0);
	wm_switch_tables_clear(&t);

	/* The right password after a wrong one still works (no cached keys). */
	struct wm_snmp_cred ok = v3(TH_SNMPSIM_V3_AUTH, TH_SNMPSIM_V3_PRIV);
	tg.cred = &ok;
	poll_one(&tg, &t, NULL);
	CHECKF(t.result == WM_POLL_OK, "%s", t.error);
	wm_switch_tables_clear(&t);
}

static void test_v2c_unknown_community_times_out_without_the_community(void)
{
	struct wm_snmp_cred c = v2c("no-such-community-secret");
	struct wm_snmp_target tg = target("sw-x", sim.port, &c);
	tg.timeout_ms = 300;
	struct wm_switch_tables t;
	poll_one(&tg, &t, NULL);
	CHECK(t.result == WM_POLL_TIMEOUT);
	CHECK(strstr(t.error, "no-such-community-secret") == NULL);
	wm_switch_tables_clear(&t);
}

static void test_nothing_answering_times_out_within_timeout_times_tries(void)
{
	int port = th_free_udp_port("127.0.0.1");
	struct wm_snmp_cred c = v2c("public");
	struct wm_snmp_target tg = target("sw-dead", port, &c);
	tg.timeout_ms = 400;
	tg.retries = 2;
	struct wm_switch_tables t;
	double t0 = th_now();
	poll_one(&tg, &t, NULL);
	double el = th_now() - t0;
	CHECK(t.result == WM_POLL_TIMEOUT);
	CHECKF(strstr(t.error, "timeout after 3 tries") != NULL, "%s", t.error);
	/* no sooner than 3 x 0.4 s; the tries are counted in the words above, not by the clock */
	CHECKF(el >= 1.1, "took %.2f s for 3 x 0.4 s", el);
	CHECKF(t.ms > 1100, "%.0f ms", t.ms);
	wm_switch_tables_clear(&t);
}

static void test_v3_nothing_answering_is_a_timeout_in_words(void)
{
	int port = th_free_udp_port("127.0.0.1");
	struct wm_snmp_cred c = v3(TH_SNMPSIM_V3_AUTH, TH_SNMPSIM_V3_PRIV);
	struct wm_snmp_target tg = target("sw-dead-v3", port, &c);
	tg.timeout_ms = 300;
	tg.retries = 1;
	struct wm_switch_tables t;
	double t0 = th_now();
	poll_one(&tg, &t, NULL);
	double el = th_now() - t0;
	t_diag("%s (%.2f s)", t.error, el);
	CHECKF(t.result == WM_POLL_TIMEOUT, "result %d", (int)t.result);
	CHECKF(strstr(t.error, "timeout after 2 tries (engine ID discovery)") != NULL, "%s",
	       t.error);
	CHECKF(strstr(t.error, "Unknown error") == NULL, "%s", t.error);
	CHECK(strstr(t.error, TH_SNMPSIM_V3_AUTH) == NULL);
	CHECK(strstr(t.error, TH_SNMPSIM_V3_PRIV) == NULL);
	CHECKF(el >= 0.55, "took %.2f s for 2 x 0.3 s", el);
	wm_switch_tables_clear(&t);
}

struct timed {
	double t0;
	double done_at[8];
	enum wm_poll_result result[8];
	char error[8][256];
};

static void timed_done(void *user, const struct wm_snmp_target *tg, struct wm_switch_tables *t,
		       void *ctx)
{
	struct timed *m = ctx;
	size_t i = (size_t)(uintptr_t)user;
	(void)tg;
	m->done_at[i] = th_now() - m->t0;
	m->result[i] = t->result;
	snprintf(m->error[i], sizeof m->error[i], "%s", t->error);
}

/* One v3 switch where nothing answers must not stall the others: net-snmp's own engine ID
 * probe is synchronous (timeout x tries inside the first send); ours is not. Shown by order,
 * not by the clock: the four live switches, in the two other slots, are all done before the
 * dead one gives up, and it gives up no sooner than timeout x tries. */
static void test_unreachable_v3_switch_does_not_stall_the_others(void)
{
	int dead = th_free_udp_port("127.0.0.1");
	struct wm_snmp_cred v3ok = v3(TH_SNMPSIM_V3_AUTH, TH_SNMPSIM_V3_PRIV);
	struct wm_snmp_cred access = v2c("access-switch"), router = v2c("router");
	const unsigned timeout_ms = 2500, retries = 1;   /* 5 s before the dead one gives up */
	const double budget = timeout_ms * (retries + 1) / 1000.0;
	struct wm_snmp_target tg[5] = {
		target("v3-dead", dead, &v3ok),       /* first: it takes one slot at once */
		target("v3-access-1", sim.port, &v3ok),
		target("v3-access-2", sim.port, &v3ok),  /* same engine and user, at once */
		target("access-1", sim.port, &access),
		target("core-rtr-1", sim.port, &router),
	};
	struct wm_switch_tables out[5];
	memset(out, 0, sizeof out);
	for (size_t i = 0; i < 5; i++) {
		tg[i].retries = retries;
		tg[i].user = (void *)(uintptr_t)i;
	}
	tg[0].timeout_ms = timeout_ms;
	struct timed m = {.t0 = th_now()};
	struct lis_error err = {0};
	int failed = wm_snmp_poll(tg, 5, 3, out, timed_done, &m, NULL, &err);
	double el = th_now() - m.t0;
	CHECKF(failed == 1, "%d failed: %s", failed, err.msg);
	for (size_t i = 0; i < 5; i++)
		t_diag("%-12s done at %.3f s: result %d %s", tg[i].name, m.done_at[i],
		       (int)m.result[i], m.error[i]);
	t_diag("whole poll %.3f s; timeout x tries %.1f s", el, budget);
	CHECKF(m.result[0] == WM_POLL_TIMEOUT, "v3-dead result %d", (int)m.result[0]);
	CHECKF(strstr(m.error[0], "timeout after 2 tries") != NULL, "%s", m.error[0]);
	CHECK(strstr(m.error[0], TH_SNMPSIM_V3_AUTH) == NULL);
	CHECK(strstr(m.error[0], TH_SNMPSIM_V3_PRIV) == NULL);
	CHECKF(m.done_at[0] >= budget - 0.05, "v3-dead gave up after %.2f s", m.done_at[0]);
	for (size_t i = 1; i < 5; i++) {
		CHECKF(m.result[i] == WM_POLL_OK, "%s: %s", tg[i].name, m.error[i]);
		/* all four, in the two other slots, while the first one waits */
		CHECKF(m.done_at[i] < m.done_at[0], "%s done at %.2f s, after v3-dead gave up "
		       "(%.2f s)", tg[i].name, m.done_at[i], m.done_at[0]);
	}
	CHECK(out[1].n_ifs == 9 && out[2].n_ifs == 9);
	CHECKF(el >= budget - 0.05, "whole poll %.2f s", el);
	for (size_t i = 0; i < 5; i++)
		wm_switch_tables_clear(&out[i]);
}

struct many {
	int calls[64];
	size_t ok, timeouts;
};

static void many_done(void *user, const struct wm_snmp_target *tg, struct wm_switch_tables *t,
		      void *ctx)
{
	struct many *m = ctx;
	(void)tg;
	m->calls[(size_t)(uintptr_t)user]++;
	if (t->result == WM_POLL_OK)
		m->ok++;
	else if (t->result == WM_POLL_TIMEOUT)
		m->timeouts++;
	else
		t_diag("target %zu: result %d: %s", (size_t)(uintptr_t)user, (int)t->result,
		       t->error);
	wm_switch_tables_clear(t); /* the daemon consumes as they come */
}

static void test_many_targets_with_concurrency_4_all_finish(void)
{
	static const char *communities[] = {"access-switch", "router", "odd-switch", "v3-switch"};
	int dead = th_free_udp_port("127.0.0.1");
	struct wm_snmp_cred creds[4], none = v2c("public");
	struct wm_snmp_target tg[40];
	struct wm_switch_tables out[40];
	memset(out, 0, sizeof out);
	for (size_t i = 0; i < 4; i++)
		creds[i] = v2c(communities[i]);
	for (size_t i = 0; i < 40; i++) {
		bool is_dead = i % 10 == 9;
		tg[i] = target("sw", is_dead ? dead : sim.port, is_dead ? &none : &creds[i % 4]);
		if (is_dead)
			tg[i].timeout_ms = 300;
		tg[i].user = (void *)(uintptr_t)i;
	}
	struct many m = {0};
	struct lis_error err = {0};
	double t0 = th_now();
	int failed = wm_snmp_poll(tg, 40, 4, out, many_done, &m, NULL, &err);
	double el = th_now() - t0;
	CHECKF(failed == 4, "%d failed: %s", failed, err.msg);
	CHECK(m.ok == 36);
	CHECK(m.timeouts == 4);
	for (size_t i = 0; i < 40; i++)
		CHECKF(m.calls[i] == 1, "target %zu: %d done calls", i, m.calls[i]);
	t_diag("40 targets, concurrency 4: %.2f s", el);
	for (size_t i = 0; i < 40; i++)
		wm_switch_tables_clear(&out[i]);
}

int main(void)
{
	if (th_snmpsim_start(&sim) != 0) {
		t_skip("snmp_poll", "snmpsimd could not be started (see stderr)");
		return t_done();
	}
	t_run("v2c_access_switch_gives_ports_neighbours_and_uplink",
	      test_v2c_access_switch_gives_ports_neighbours_and_uplink);
	t_run("v2c_router_gives_ip_mac_from_both_ip_mib_tables",
	      test_v2c_router_gives_ip_mac_from_both_ip_mib_tables);
	t_run("v2c_odd_switch_decodes_every_subtype_without_failing",
	      test_v2c_odd_switch_decodes_every_subtype_without_failing);
	t_run("v3_authpriv_sha_aes_polls_the_v3_switch",
	      test_v3_authpriv_sha_aes_polls_the_v3_switch);
	t_run("v3_wrong_password_fails_without_the_password_in_the_error",
	      test_v3_wrong_password_fails_without_the_password_in_the_error);
	t_run("v2c_unknown_community_times_out_without_the_community",
	      test_v2c_unknown_community_times_out_without_the_community);
	t_run("nothing_answering_times_out_within_timeout_times_tries",
	      test_nothing_answering_times_out_within_timeout_times_tries);
	t_run("v3_nothing_answering_is_a_timeout_in_words",
	      test_v3_nothing_answering_is_a_timeout_in_words);
	t_run("unreachable_v3_switch_does_not_stall_the_others",
	      test_unreachable_v3_switch_does_not_stall_the_others);
	t_run("many_targets_with_concurrency_4_all_finish",
	      test_many_targets_with_concurrency_4_all_finish);
	th_snmpsim_stop(&sim);
	wm_snmp_shutdown();
	return t_done();
}
