/* The snapshot's lookups: longest-prefix match, BSSID ranges, ports, switches, endpoints,
 * bindings in recency order, references resolved at finish, stats. */
#include <arpa/inet.h>
#include <stdio.h>

#include "wm_fixture.h"
#include "ident.h"

static void test_ipv4_longest_prefix_nested_with_default_and_host_route(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	for (int i = 1; i <= 5; i++) {
		char key[8];
		snprintf(key, sizeof key, "l%d", i);
		fx_location(i, 1, key, false);
	}
	/* longer ones first: shorter prefixes must still be found below them */
	fx_subnet("10.1.2.3/32", 5);
	fx_subnet("10.1.2.0/24", 4);
	fx_subnet("10.1.0.0/16", 3);
	fx_subnet("10.0.0.0/8", 2);
	fx_subnet("0.0.0.0/0", 1);
	struct wm_snapshot *s = fx_end();
	static const struct { const char *ip, *loc, *matched; } cases[] = {
		{"10.1.2.3", "l5", "10.1.2.3/32"}, {"10.1.2.4", "l4", "10.1.2.0/24"},
		{"10.1.3.1", "l3", "10.1.0.0/16"}, {"10.200.0.1", "l2", "10.0.0.0/8"},
		{"192.0.2.1", "l1", "0.0.0.0/0"}, {"10.1.2.255", "l4", "10.1.2.0/24"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char matched[64];
		const struct wm_location *l = wm_lookup_subnet(s, cases[i].ip, matched, sizeof matched);
		CHECKF(l != NULL, "%s", cases[i].ip);
		if (!l)
			continue;
		CHECK_STR(l->key, cases[i].loc);
		CHECK_STR(matched, cases[i].matched);
	}
	CHECK(wm_lookup_subnet(s, "2001:db8::1", NULL, 0) == NULL);
	CHECK(wm_lookup_subnet(s, "not an ip", NULL, 0) == NULL);
	wm_snapshot_free(s);
}

static void test_ipv6_longest_prefix_nested_with_default_and_host_route(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_location(1, 1, "any", false);
	fx_location(2, 1, "doc", false);
	fx_location(3, 1, "b48", false);
	fx_location(4, 1, "host", false);
	fx_subnet("2001:db8::/32", 2);
	fx_subnet("2001:db8:1::1/128", 4);
	fx_subnet("::/0", 1);
	fx_subnet("2001:db8:1::/48", 3);
	struct wm_snapshot *s = fx_end();
	char m[64];
	const struct wm_location *l = wm_lookup_subnet(s, "2001:db8:1::1", m, sizeof m);
	CHECK(l && strcmp(l->key, "host") == 0);
	CHECK_STR(m, "2001:db8:1::1/128");
	l = wm_lookup_subnet(s, "2001:db8:1::2", m, sizeof m);
	CHECK(l && strcmp(l->key, "b48") == 0);
	CHECK_STR(m, "2001:db8:1::/48");
	l = wm_lookup_subnet(s, "2001:db8:2::2", m, sizeof m);
	CHECK(l && strcmp(l->key, "doc") == 0);
	l = wm_lookup_subnet(s, "fe80::1", m, sizeof m);
	CHECK(l && strcmp(l->key, "any") == 0);
	CHECK_STR(m, "::/0");
	CHECK(wm_lookup_subnet(s, "10.0.0.1", m, sizeof m) == NULL);
	CHECK_STR(m, "");
	wm_snapshot_free(s);
}

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Random overlapping IPv4 prefixes against a linear scan: the lookup must agree everywhere. */
static void test_ipv4_longest_prefix_agrees_with_linear_scan(void)
{
	enum { N = 3000, Q = 30000 };
	static uint32_t net[N];
	static unsigned len[N];
	fx_begin();
	fx_site(1, "hq", false, 0);
	for (int i = 0; i < N; i++) {
		char text[32];
		len[i] = 4 + rnd() % 29;
		/* a few high bits only, so that prefixes nest and overlap a lot */
		net[i] = (rnd() & 0xf00f0f0fu) & (len[i] ? ~0u << (32 - len[i]) : 0);
		snprintf(text, sizeof text, "%u.%u.%u.%u/%u", net[i] >> 24, net[i] >> 16 & 255,
			 net[i] >> 8 & 255, net[i] & 255, len[i]);
		fx_location(i + 1, 1, text, false);
		fx_subnet(text, i + 1);
	}
	struct wm_snapshot *s = fx_end();
	int wrong = 0;
	for (int q = 0; q < Q; q++) {
		uint32_t a = rnd() & 0xf11f1f1fu;
		int best = -1;
		for (int i = 0; i < N; i++) {
			uint32_t mask = ~0u << (32 - len[i]);
			/* the first stored of equal prefixes is kept */
			if ((a & mask) == net[i] && (best < 0 || len[i] > len[best]))
				best = i;
		}
		char ip[20];
		snprintf(ip, sizeof ip, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
		const struct wm_location *l = wm_lookup_subnet(s, ip, NULL, 0);
		bool ok = best < 0 ? l == NULL : l && l->id == best + 1;
		if (!ok && best >= 0 && l) {
			/* an equal prefix stored twice: either row is the same prefix */
			ok = net[l->id - 1] == net[best] && len[l->id - 1] == len[best];
		}
		if (!ok && wrong++ < 5)
			t_diag("%s: got %s, want %s", ip, l ? l->key : "none",
			       best >= 0 ? "a prefix" : "none");
	}
	CHECKF(wrong == 0, "%d wrong answers", wrong);
	wm_snapshot_free(s);
}

static void test_bssid_exact_beats_range_and_range_covers_its_block(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_location(1, 1, "radio", false);
	fx_location(2, 1, "exact", false);
	fx_bssid("02:00:00:00:02:00", 44, "ap-range", 1);
	fx_bssid("02:00:00:00:02:07", 48, "ap-exact", 2);
	struct wm_snapshot *s = fx_end();
	uint8_t m[6];
	ident_mac_parse("02:00:00:00:02:0f", m);
	const struct wm_bssid *b = wm_lookup_bssid(s, m);
	CHECK(b && b->prefix_len == 44 && strcmp(b->location->key, "radio") == 0);
	ident_mac_parse("02:00:00:00:02:07", m);
	b = wm_lookup_bssid(s, m);
	CHECK(b && b->prefix_len == 48 && strcmp(b->key, "ap-exact") == 0);
	ident_mac_parse("02:00:00:00:02:10", m);
	CHECK(wm_lookup_bssid(s, m) == NULL);
	wm_snapshot_free(s);
}

static void test_references_resolve_in_any_order_and_dangling_ones_do_not_crash(void)
{
	fx_begin();
	/* bindings and ports before what they point to, a port of a missing switch */
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:01", 7, "Gi1/0/1", NULL, NULL, 500);
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:01", 99, "Gi9", NULL, NULL, 400);
	fx_port(7, "Gi1/0/1", 3);
	fx_port(42, "lost", 3);
	fx_switch(7, 1, "sw-7", "0011.2233.4455", 0);
	fx_location(3, 1, "room", false);
	fx_site(1, "hq", true, 3);
	struct wm_snapshot *s = fx_end();
	const struct wm_switch *sw = wm_lookup_switch(s, "00-11-22-33-44-55");
	CHECK(sw && sw->id == 7 && sw->site && strcmp(sw->site->key, "hq") == 0);
	CHECK(sw && sw->site->default_location && sw->site->default_location->id == 3);
	const struct wm_port *p = wm_lookup_port(s, sw, "Gi1/0/1");
	CHECK(p && p->sw == sw && p->location && p->location->site == sw->site);
	CHECK(wm_lookup_port(s, sw, "Gi1/0/2") == NULL);
	uint8_t mac[6];
	ident_mac_parse("aa:00:00:00:00:01", mac);
	const struct wm_binding *bs[4];
	size_t n = wm_bindings_mac_port(s, mac, bs, 4);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(bs[0]->last_seen == 500 && bs[0]->port == p && bs[0]->sw == sw);
		CHECK(bs[1]->sw == NULL && bs[1]->port == NULL && strcmp(bs[1]->port_id, "Gi9") == 0);
		CHECK_STR(bs[0]->source, "snmp");
	}
	wm_snapshot_free(s);
}

static void test_bindings_come_back_most_recent_first(void)
{
	fx_begin();
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:01", 0, NULL, "10.0.0.1", NULL, 100);
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:03", 0, NULL, "10.0.0.1", NULL, 300);
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:02", 0, NULL, "10.0.0.1", NULL, 200);
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:09", 0, NULL, "2001:DB8:0::1", NULL, 200);
	fx_bind(DB_BIND_MAC_BSSID, "aa:00:00:00:00:01", 0, NULL, NULL, "02:00:00:00:00:01", 10);
	fx_bind(DB_BIND_MAC_BSSID, "aa:00:00:00:00:01", 0, NULL, NULL, "02:00:00:00:00:02", 20);
	struct wm_snapshot *s = fx_end();
	const struct wm_binding *bs[8];
	size_t n = wm_bindings_ip_mac(s, "10.0.0.1", bs, 8);
	CHECK(n == 3);
	if (n == 3)
		CHECK(bs[0]->last_seen == 300 && bs[1]->last_seen == 200 && bs[2]->last_seen == 100);
	CHECK(wm_bindings_ip_mac(s, "10.0.0.1", bs, 2) == 2);
	n = wm_bindings_ip_mac(s, "2001:db8::1", bs, 8);
	CHECK(n == 1 && strcmp(bs[0]->ip, "2001:db8::1") == 0);
	CHECK(wm_bindings_ip_mac(s, "10.0.0.2", bs, 8) == 0);
	uint8_t mac[6];
	ident_mac_parse("aa:00:00:00:00:01", mac);
	n = wm_bindings_mac_bssid(s, mac, bs, 8);
	CHECK(n == 2 && bs[0]->bssid[5] == 2);
	struct wm_snapshot_stats st;
	wm_snapshot_get_stats(s, &st);
	CHECK(st.bind_ip_mac == 4 && st.bind_mac_bssid == 2 && st.bind_mac_port == 0);
	CHECK(st.bytes > 0 && st.loaded_at > 0);
	wm_snapshot_free(s);
}

/* Two polls within one second: the loader sends bindings in last_seen order at full
 * precision, so the later arrival is the newer observation (a phone that just moved). */
static void test_bindings_seen_in_the_same_second_keep_arrival_order(void)
{
	fx_begin();
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:05", 1, "Gi1/0/3", NULL, NULL, 500);
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:05", 1, "Gi1/0/9", NULL, NULL, 500);
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:05", 0, NULL, "10.0.0.5", NULL, 500);
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:06", 0, NULL, "10.0.0.5", NULL, 500);
	struct wm_snapshot *s = fx_end();
	const struct wm_binding *bs[4];
	uint8_t mac[6];
	ident_mac_parse("aa:00:00:00:00:05", mac);
	size_t n = wm_bindings_mac_port(s, mac, bs, 4);
	if (CHECK(n == 2))
		CHECK_STR(bs[0]->port_id, "Gi1/0/9");
	n = wm_bindings_ip_mac(s, "10.0.0.5", bs, 4);
	if (CHECK(n == 2))
		CHECK(bs[0]->mac[5] == 6);
	wm_snapshot_free(s);
}

static void test_endpoints_found_by_mac_uri_and_tel_in_any_spelling(void)
{
	fx_begin();
	fx_endpoint(1, "phone", "00:11:22:33:44:55", "sip:alice@example.com", "tel:+15551234567", 0);
	struct wm_snapshot *s = fx_end();
	uint8_t mac[6];
	ident_mac_parse("001122334455", mac);
	CHECK(wm_lookup_endpoint_mac(s, mac) != NULL);
	CHECK(wm_lookup_endpoint_uri(s, "SIP:alice@EXAMPLE.COM;transport=udp") != NULL);
	CHECK(wm_lookup_endpoint_uri(s, "sip:ALICE@example.com") == NULL);
	CHECK(wm_lookup_endpoint_tel(s, "tel:+1 (555) 123-4567") != NULL);
	CHECK(wm_lookup_endpoint_tel(s, "tel:+15551234568") == NULL);
	wm_snapshot_free(s);
}

static void test_empty_snapshot_answers_nothing_and_finish_twice_fails(void)
{
	struct wm_builder *b = wm_builder_new();
	struct lis_error err = {0};
	struct wm_snapshot *s = wm_builder_finish(b, &err);
	CHECK(s != NULL);
	CHECK(wm_builder_finish(b, &err) == NULL && err.msg[0]);
	wm_builder_free(b);
	uint8_t m[6] = {0};
	CHECK(wm_lookup_subnet(s, "10.0.0.1", NULL, 0) == NULL);
	CHECK(wm_lookup_bssid(s, m) == NULL);
	CHECK(wm_lookup_switch(s, "x") == NULL);
	CHECK(wm_lookup_endpoint_uri(s, "sip:a@b") == NULL);
	wm_snapshot_free(s);
	wm_snapshot_free(NULL);
	wm_builder_free(NULL);
}

int main(void)
{
	t_run("ipv4_longest_prefix_nested_with_default_and_host_route",
	      test_ipv4_longest_prefix_nested_with_default_and_host_route);
	t_run("ipv6_longest_prefix_nested_with_default_and_host_route",
	      test_ipv6_longest_prefix_nested_with_default_and_host_route);
	t_run("ipv4_longest_prefix_agrees_with_linear_scan",
	      test_ipv4_longest_prefix_agrees_with_linear_scan);
	t_run("bssid_exact_beats_range_and_range_covers_its_block",
	      test_bssid_exact_beats_range_and_range_covers_its_block);
	t_run("references_resolve_in_any_order_and_dangling_ones_do_not_crash",
	      test_references_resolve_in_any_order_and_dangling_ones_do_not_crash);
	t_run("bindings_come_back_most_recent_first", test_bindings_come_back_most_recent_first);
	t_run("bindings_seen_in_the_same_second_keep_arrival_order",
	      test_bindings_seen_in_the_same_second_keep_arrival_order);
	t_run("endpoints_found_by_mac_uri_and_tel_in_any_spelling",
	      test_endpoints_found_by_mac_uri_and_tel_in_any_spelling);
	t_run("empty_snapshot_answers_nothing_and_finish_twice_fails",
	      test_empty_snapshot_answers_nothing_and_finish_twice_fails);
	return t_done();
}
