/* Endpoint classes (47 CFR 9.16(b), migration 0008): which evidence each class counts, how
 * old a binding may be, on and off premises, declared locations, and what each class
 * answers when nothing fresh is known. One small wiremap:
 *   site hq (default allowed: hq-default); subnet 10.1.0.0/16 -> hq-subnet; 10.8.0.0/16 is
 *   a remote subnet (the VPN pool); sw-hq port Gi1 -> hq-port; AP 02:00:00:00:01:00 -> hq-ap
 *   classes as migration 0008 ships them, and "noport" (counts no switch port)
 *   desk (desk_phone, mac d1, static hq-static) on Gi1 from 10.1.1.1; desk2 (desk_phone,
 *     mac d2) whose port binding is stale; desk3 (desk_phone, mac d3, static hq-static)
 *     at 192.0.2.10, which no subnet covers
 *   wifi (wifi_handset, mac w1) on the AP 600 s ago: older than its class allows
 *   alice (softphone): declared home, fresh; VPN address 10.8.0.5
 *   carol (softphone): her declaration expired; dave (softphone): not confirmed again in
 *   time; frank (mobile): expired; bob (mobile): declared hotel, fresh
 *   np (noport, mac n1) on Gi1 from 10.1.4.4
 *   10.8.0.6 was bound to erin until 5 s ago
 */
#include <stdio.h>

#include "pidf.h"
#include "wm_fixture.h"
#include "wm_pidf.h"
#include "wm_resolve.h"

#define NOW 1000000
#define AGE 3600
#define DAY 86400

enum { L_PORT = 10, L_AP, L_STATIC, L_SUBNET, L_DEFAULT };

static struct wm_snapshot *world;

static void build_world(void)
{
	fx_begin();
	fx_site(1, "hq", true, L_DEFAULT);
	fx_location(L_PORT, 1, "hq-port", true);
	fx_location(L_AP, 1, "hq-ap", false);
	fx_location(L_STATIC, 1, "hq-static", false);
	fx_location(L_SUBNET, 1, "hq-subnet", false);
	fx_location(L_DEFAULT, 1, "hq-default", false);
	fx_subnet("10.1.0.0/16", L_SUBNET);
	fx_remote_subnet("10.8.0.0/16");
	fx_switch(1, 1, "sw-hq", "00:00:5e:00:53:01", 0);
	fx_port(1, "Gi1", L_PORT);
	fx_port(1, "Gi2", 0);
	fx_bssid("02:00:00:00:01:00", 48, "ap-hq-1", L_AP);
	fx_class("desk_phone", "pbst", 0, 0, "site-default");
	fx_class("softphone", "pbstd", 900, DAY, "declared");
	fx_class("wifi_handset", "pbst", 300, 0, "site-default");
	fx_class("mobile", "pbstd", 300, DAY, "locationUnknown");
	fx_class("noport", "bst", 0, 0, "locationUnknown");
	fx_endpoint_of(1, "desk", "desk_phone", NULL, "d1:00:00:00:00:01", NULL, NULL, L_STATIC);
	fx_endpoint_of(2, "desk2", "desk_phone", NULL, "d1:00:00:00:00:02", NULL, NULL, 0);
	fx_endpoint_of(3, "desk3", "desk_phone", NULL, "d1:00:00:00:00:03", NULL, NULL, L_STATIC);
	fx_endpoint_of(4, "wifi", "wifi_handset", NULL, "d1:00:00:00:00:04", NULL, NULL, 0);
	fx_endpoint_of(5, "alice-soft", "softphone", "alice", NULL, "sip:alice@example.com", NULL,
		       0);
	fx_endpoint_of(6, "carol-soft", "softphone", "carol", NULL, "sip:carol@example.com", NULL,
		       0);
	fx_endpoint_of(7, "dave-soft", "softphone", "dave", NULL, "sip:dave@example.com", NULL, 0);
	fx_endpoint_of(8, "frank-mobile", "mobile", "frank", NULL, NULL, "tel:+15550000001", 0);
	fx_endpoint_of(9, "bob-mobile", "mobile", "bob", NULL, NULL, "tel:+15550000002", 0);
	fx_endpoint_of(10, "np", "noport", NULL, "d1:00:00:00:00:05", NULL, NULL, 0);
	fx_endpoint_of(11, "eve-soft", "softphone", "eve", "d1:00:00:00:00:06", NULL, NULL, 0);
	fx_declared(1, "alice", "home", "Main", NOW - 100, NOW + DAY);
	fx_declared(2, "carol", "home", "Oak", NOW - 100, NOW - 10);
	fx_declared(3, "dave", "home", "Elm", NOW - 2 * DAY, NOW + 30 * DAY);
	fx_declared(4, "frank", "hotel", "Pine", NOW - 100, NOW - 10);
	fx_declared(5, "bob", "hotel", "Lake", NOW - 100, NOW + DAY);
	fx_declared(6, "eve", "home", "Birch", NOW - 100, NOW + DAY);
	fx_vpn("10.8.0.5", "alice", "softphone", NOW + 600);
	fx_vpn("10.8.0.6", "erin", "softphone", NOW - 5);
	fx_bind(DB_BIND_MAC_PORT, "d1:00:00:00:00:01", 1, "Gi1", NULL, NULL, NOW - 10);
	fx_bind(DB_BIND_IP_MAC, "d1:00:00:00:00:01", 0, NULL, "10.1.1.1", NULL, NOW - 10);
	fx_bind(DB_BIND_MAC_PORT, "d1:00:00:00:00:02", 1, "Gi1", NULL, NULL, NOW - 7200);
	fx_bind(DB_BIND_MAC_BSSID, "d1:00:00:00:00:04", 0, NULL, NULL, "02:00:00:00:01:00",
		NOW - 600);
	fx_bind(DB_BIND_MAC_PORT, "d1:00:00:00:00:05", 1, "Gi1", NULL, NULL, NOW - 10);
	fx_bind(DB_BIND_IP_MAC, "d1:00:00:00:00:05", 0, NULL, "10.1.4.4", NULL, NOW - 10);
	/* eve's softphone on a port without a location, from an address no subnet covers */
	fx_bind(DB_BIND_MAC_PORT, "d1:00:00:00:00:06", 1, "Gi2", NULL, NULL, NOW - 10);
	fx_bind(DB_BIND_IP_MAC, "d1:00:00:00:00:06", 0, NULL, "192.0.2.50", NULL, NOW - 10);
	world = fx_end();
}

static const struct wm_policy policy = {.now = NOW, .max_binding_age = AGE};
static struct wm_result res;

static int resolve(const char *ip, const char *mac, const char *sip, const char *tel)
{
	return fx_resolve(world, &policy, &res, ip, mac, sip, tel);
}

static const char *loc_key(void)
{
	return res.loc ? res.loc->key : NULL;
}

static const char *class_key(void)
{
	return res.cls ? res.cls->key : NULL;
}

/* The evidence of a source, the first one. */
static const struct wm_evidence *evidence(enum wm_source src)
{
	for (size_t i = 0; i < res.n_evidence; i++)
		if (res.ev[i].source == src)
			return &res.ev[i];
	return NULL;
}

/* e's text, as lisd logs it (wm_evidence_text()) */
static const char *text_of(const struct wm_evidence *e)
{
	static char what[WM_EVIDENCE_TEXT_MAX];
	return wm_evidence_text(e, what, sizeof what);
}

static void test_desk_phone_on_its_port_is_answered_by_the_port(void)
{
	CHECK(resolve("10.1.1.1", NULL, NULL, NULL) == 1);
	CHECK_STR(class_key(), "desk_phone");
	CHECK_STR(res.class_how, "endpoint desk");
	CHECK(res.source == WM_SRC_PORT);
	CHECK_STR(loc_key(), "hq-port");
	CHECK(!res.off_premises);
	CHECK_STR(res.premises, "on premises: the address is in an office subnet");
}

static void test_desk_phone_with_nothing_fresh_gets_its_sites_default(void)
{
	/* class desk_phone, no_fresh site-default: the stale port still names the site */
	CHECK(resolve(NULL, "d1:00:00:00:00:02", NULL, NULL) == 1);
	CHECK_STR(class_key(), "desk_phone");
	CHECK(res.source == WM_SRC_SITE_DEFAULT);
	CHECK_STR(loc_key(), "hq-default");
	CHECK(res.fallback);
	CHECK_STR(res.note, "fallback: default location of site hq; no switch-port, Wi-Fi, static or "
		  "subnet location for this device");
	const struct wm_evidence *e = evidence(WM_SRC_PORT);
	CHECK(e && e->stale);
}

static void test_address_in_no_office_subnet_is_off_premises_and_gets_no_office(void)
{
	/* desk3 has a static office location, but 192.0.2.10 is in no office subnet and the
	 * network does not see it: neither the static location nor the site default */
	CHECK(resolve("192.0.2.10", "d1:00:00:00:00:03", NULL, NULL) == 0);
	CHECK(res.off_premises);
	CHECK_STR(res.premises, "off premises: 192.0.2.10 is in no office subnet, and the "
		  "office network does not see the device");
	const struct wm_evidence *e = evidence(WM_SRC_STATIC);
	CHECK(e && e->excluded && e->loc);
	CHECK(evidence(WM_SRC_SITE_DEFAULT) == NULL);
	CHECK(strstr(res.unknown_reason, "off premises") != NULL);
}

static void test_softphone_on_a_vpn_address_gets_the_declared_home_not_the_office(void)
{
	CHECK(resolve("10.8.0.5", NULL, "sip:alice@example.com", NULL) == 1);
	CHECK_STR(class_key(), "softphone");
	CHECK(res.off_premises);
	CHECK_STR(res.premises, "off premises: 10.8.0.5 is a VPN address of user alice");
	CHECK(res.source == WM_SRC_DECLARED);
	CHECK_STR(loc_key(), "alice/home");
	CHECK(res.loc && res.loc->site == NULL);
	CHECK_STR(res.method, "Manual");
	CHECK(!res.fallback && !res.unconfirmed);
	CHECK_STR(res.user, "alice");
}

static void test_vpn_binding_alone_names_user_and_class(void)
{
	/* no SIP URI: the concentrator's binding says who and which class */
	CHECK(resolve("10.8.0.5", NULL, NULL, NULL) == 1);
	CHECK_STR(class_key(), "softphone");
	CHECK_STR(res.class_how, "VPN binding of 10.8.0.5");
	CHECK_STR(loc_key(), "alice/home");
}

static void test_softphone_the_office_network_sees_never_gets_its_home_address(void)
{
	/* on premises (its port), but no location there: the site default, not eve's home */
	CHECK(resolve("192.0.2.50", NULL, NULL, NULL) == 1);
	CHECK_STR(class_key(), "softphone");
	CHECK(!res.off_premises);
	CHECK_STR(res.premises, "on premises: the office network sees the device (neighbour "
		  "table, switch port or access point)");
	CHECK(res.source == WM_SRC_SITE_DEFAULT);
	CHECK_STR(loc_key(), "hq-default");
	const struct wm_evidence *e = evidence(WM_SRC_DECLARED);
	CHECK(e && e->excluded && strstr(text_of(e), "on premises") != NULL);
}

static void test_expired_vpn_binding_is_not_evidence_and_remote_pool_gets_no_office(void)
{
	CHECK(resolve("10.8.0.6", NULL, NULL, NULL) == 0);
	CHECK(res.user == NULL);
	CHECK(res.cls == &wm_class_none);
	CHECK(res.off_premises);
	CHECK_STR(res.premises, "off premises: 10.8.0.6 is in remote subnet 10.8.0.0/16");
	CHECK_STR(res.class_how, "no endpoint or VPN binding names it");
	CHECK(res.n_evidence >= 1 && res.ev[0].stale && strcmp(res.ev[0].origin, "vpn") == 0);
	CHECK(evidence(WM_SRC_SITE_DEFAULT) == NULL);
	/* the texts lisd logs and lisctl explain prints, written when asked */
	CHECK_STR(res.n_evidence >= 1 ? wm_evidence_step(&res.ev[0]) : NULL, "vpn");
	CHECK_STR(res.n_evidence >= 1 ? text_of(&res.ev[0]) : NULL,
		  "ip 10.8.0.6 bound to user erin by the VPN concentrator, expired "
		  "1970-01-12T13:46:35Z");
	const struct wm_evidence *e = evidence(WM_SRC_SUBNET);
	CHECK_STR(e ? text_of(e) : NULL, "ip 10.8.0.6 in remote subnet 10.8.0.0/16 (a VPN pool)");
}

static void test_softphone_on_premises_is_answered_by_the_office_not_its_declaration(void)
{
	CHECK(resolve("10.1.3.3", NULL, "sip:alice@example.com", NULL) == 1);
	CHECK(!res.off_premises);
	CHECK(res.source == WM_SRC_SUBNET);
	CHECK_STR(loc_key(), "hq-subnet");
	const struct wm_evidence *e = evidence(WM_SRC_DECLARED);
	CHECK(e && e->loc && !e->chosen);
}

static void test_softphone_with_expired_declaration_gets_it_unconfirmed(void)
{
	/* softphone: no_fresh declared */
	CHECK(resolve("10.8.0.7", NULL, "sip:carol@example.com", NULL) == 1);
	CHECK(res.source == WM_SRC_DECLARED);
	CHECK_STR(loc_key(), "carol/home");
	CHECK(res.unconfirmed && res.fallback);
	CHECK_STR(res.note, "unconfirmed: last location declared by user carol (home); not "
		  "current: it expired or was not confirmed again in time");
	CHECK_STR(res.method, "Manual");
	const struct wm_evidence *e = evidence(WM_SRC_DECLARED);
	CHECK(e && e->stale && e->chosen && strstr(text_of(e), "expired") != NULL);
}

static void test_declaration_not_confirmed_within_the_class_interval_is_stale(void)
{
	CHECK(resolve("10.8.0.7", NULL, "sip:dave@example.com", NULL) == 1);
	CHECK(res.unconfirmed);
	const struct wm_evidence *e = evidence(WM_SRC_DECLARED);
	CHECK(e && e->stale && strstr(text_of(e), "not confirmed again") != NULL);
}

static void test_mobile_with_nothing_fresh_routes_on_the_carrier(void)
{
	/* mobile: no_fresh locationUnknown, its declaration expired */
	CHECK(resolve(NULL, NULL, NULL, "tel:+15550000001") == 0);
	CHECK_STR(class_key(), "mobile");
	CHECK(res.cls->no_fresh == WM_NO_FRESH_UNKNOWN);
	CHECK(strstr(res.unknown_reason, "carrier") != NULL);
	const struct wm_evidence *e = evidence(WM_SRC_DECLARED);
	CHECK(e && e->stale && !e->chosen);
}

static void test_mobile_with_a_fresh_declaration_gets_it(void)
{
	CHECK(resolve(NULL, NULL, NULL, "tel:+15550000002") == 1);
	CHECK_STR(loc_key(), "bob/hotel");
	CHECK_STR(res.method, "Manual");
}

static void test_wifi_handset_binding_older_than_its_class_allows_is_stale(void)
{
	/* 600 s: fresh for lisd's 3600 s, stale for wifi_handset's 300 s; no_fresh
	 * site-default, and the stale AP names the site */
	CHECK(resolve(NULL, "d1:00:00:00:00:04", NULL, NULL) == 1);
	CHECK_STR(class_key(), "wifi_handset");
	const struct wm_evidence *e = evidence(WM_SRC_BSSID);
	CHECK(e && e->stale);
	CHECK(res.source == WM_SRC_SITE_DEFAULT);
	CHECK(res.fallback);
}

static void test_class_that_counts_no_port_skips_the_port(void)
{
	CHECK(resolve("10.1.4.4", NULL, NULL, NULL) == 1);
	CHECK_STR(class_key(), "noport");
	const struct wm_evidence *e = evidence(WM_SRC_PORT);
	CHECK(e && e->excluded && strstr(text_of(e), "not counted by class noport") != NULL);
	CHECK(res.source == WM_SRC_SUBNET);
}

static void test_unclassed_target_keeps_the_policy_before_classes(void)
{
	/* 10.1.9.9: no endpoint, no VPN binding: every office evidence, then the site default */
	CHECK(resolve("10.1.9.9", NULL, NULL, NULL) == 1);
	CHECK(res.cls == &wm_class_none);
	CHECK(res.source == WM_SRC_SUBNET);
}

static void test_declared_answer_says_method_Manual_in_the_pidf(void)
{
	CHECK(resolve("10.8.0.5", NULL, "sip:alice@example.com", NULL) == 1);
	struct wm_pidf p;
	wm_pidf_fill(&res, true, true, &p);
	CHECK_STR(p.doc.method, "Manual");
	CHECK(p.doc.civic != NULL);
	CHECK(p.doc.civic && strcmp(p.doc.civic->field[CIVIC_RD], "Main") == 0);
	CHECK(p.doc.geo == NULL);
	CHECK(p.doc.note && strstr(p.doc.note, "declared by user alice") != NULL);
}

#define RUN(name) t_run(#name, test_##name)

int main(void)
{
	build_world();
	if (!world)
		return 1;
	RUN(desk_phone_on_its_port_is_answered_by_the_port);
	RUN(desk_phone_with_nothing_fresh_gets_its_sites_default);
	RUN(address_in_no_office_subnet_is_off_premises_and_gets_no_office);
	RUN(softphone_on_a_vpn_address_gets_the_declared_home_not_the_office);
	RUN(vpn_binding_alone_names_user_and_class);
	RUN(softphone_the_office_network_sees_never_gets_its_home_address);
	RUN(expired_vpn_binding_is_not_evidence_and_remote_pool_gets_no_office);
	RUN(softphone_on_premises_is_answered_by_the_office_not_its_declaration);
	RUN(softphone_with_expired_declaration_gets_it_unconfirmed);
	RUN(declaration_not_confirmed_within_the_class_interval_is_stale);
	RUN(mobile_with_nothing_fresh_routes_on_the_carrier);
	RUN(mobile_with_a_fresh_declaration_gets_it);
	RUN(wifi_handset_binding_older_than_its_class_allows_is_stale);
	RUN(class_that_counts_no_port_skips_the_port);
	RUN(unclassed_target_keeps_the_policy_before_classes);
	RUN(declared_answer_says_method_Manual_in_the_pidf);
	wm_snapshot_free(world);
	return t_done();
}
