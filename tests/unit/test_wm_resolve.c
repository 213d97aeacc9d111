/* The correlation chain (wm_resolve) and its PIDF-LO (wm_pidf_fill) on one small wiremap:
 *   site hq (default allowed: hq-default), branch (default not allowed), campus (no default)
 *   sw-hq (location hq-switch): Gi1/0/1 -> hq-port, Gi1/0/2 without location
 *   sw-bare (hq, no location): Gi1/0/3 without location
 *   sw-br (branch, no location): Gi2 without location
 *   APs: 02:00:00:00:01:00 -> hq-ap; 02:00:00:00:02:00/44 -> br-ap
 *   endpoints: phone (mac ..:07, sip:alice@example.com, tel:+15551234567) -> hq-static;
 *              soft (sip:bob@example.com), no location
 *   subnets: 10.1.0.0/16 -> hq-subnet, 10.1.2.0/24 -> br-subnet, 2001:db8:1::/48 -> hq-subnet
 *   addresses: 10.1.7.70 is the phone's; 10.1.8.8 has two fresh MACs (A and B)
 */
#include <stdio.h>
#include <string.h>

#include "pidf.h"
#include "wm_fixture.h"
#include "wm_pidf.h"
#include "wm_resolve.h"

#define NOW 1000000
#define AGE 3600

enum { L_PORT = 10, L_SWITCH, L_AP, L_STATIC, L_SUBNET, L_BR_SUBNET, L_BR_AP, L_DEFAULT = 100,
       L_BR_DEFAULT = 200 };

static struct wm_snapshot *world;

static void build_world(void)
{
	fx_begin();
	fx_site(1, "hq", true, L_DEFAULT);
	fx_site(2, "branch", false, L_BR_DEFAULT);
	fx_site(3, "campus", true, 0);
	fx_location(L_PORT, 1, "hq-port", true);
	fx_location(L_SWITCH, 1, "hq-switch", false);
	fx_location(L_AP, 1, "hq-ap", true);
	fx_location(L_STATIC, 1, "hq-static", false);
	fx_location(L_SUBNET, 1, "hq-subnet", false);
	fx_location(L_DEFAULT, 1, "hq-default", false);
	fx_location(L_BR_SUBNET, 2, "br-subnet", false);
	fx_location(L_BR_AP, 2, "br-ap", false);
	fx_location(L_BR_DEFAULT, 2, "br-default", false);
	fx_subnet("10.1.0.0/16", L_SUBNET);
	fx_subnet("10.1.2.0/24", L_BR_SUBNET);
	fx_subnet("2001:db8:1::/48", L_SUBNET);
	fx_switch(1, 1, "sw-hq", "00:00:5e:00:53:01", L_SWITCH);
	fx_switch(2, 1, "sw-bare", "sw-bare-chassis", 0);
	fx_switch(3, 2, "sw-br", "sw-br-chassis", 0);
	fx_port(1, "Gi1/0/1", L_PORT);
	fx_port(1, "Gi1/0/2", 0);
	fx_port(2, "Gi1/0/3", 0);
	fx_port(3, "Gi2", 0);
	fx_bssid("02:00:00:00:01:00", 48, "ap-hq-1", L_AP);
	fx_bssid("02:00:00:00:02:00", 44, "ap-br-1", L_BR_AP);
	fx_endpoint(1, "phone", "aa:00:00:00:00:07", "sip:alice@example.com", "tel:+15551234567",
		    L_STATIC);
	fx_endpoint(2, "soft", NULL, "sip:bob@example.com", NULL, 0);
	/* A: on a located port, reached from 10.1.5.5 (and from IPv6) */
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:01", 1, "Gi1/0/1", NULL, NULL, NOW - 10);
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:01", 0, NULL, "10.1.5.5", NULL, NOW - 20);
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:01", 0, NULL, "2001:db8:1::5", NULL, NOW - 20);
	/* B: on a port without location */
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:02", 1, "Gi1/0/2", NULL, NULL, NOW - 10);
	/* C: its port binding is stale, its AP binding fresh */
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:03", 1, "Gi1/0/1", NULL, NULL, NOW - 7200);
	fx_bind(DB_BIND_MAC_BSSID, "aa:00:00:00:00:03", 0, NULL, NULL, "02:00:00:00:01:00", NOW - 5);
	/* D: on a switch with no location anywhere, site hq allows its default */
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:04", 2, "Gi1/0/3", NULL, NULL, NOW - 10);
	/* E: on a switch that is not in the wiremap */
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:05", 99, "Gi9", NULL, NULL, NOW - 10);
	/* F: port at hq, associated with a branch AP (range): the sites disagree */
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:06", 1, "Gi1/0/1", NULL, NULL, NOW - 10);
	fx_bind(DB_BIND_MAC_BSSID, "aa:00:00:00:00:06", 0, NULL, NULL, "02:00:00:00:02:05", NOW - 5);
	/* H: on the branch switch, whose site does not allow its default */
	fx_bind(DB_BIND_MAC_PORT, "aa:00:00:00:00:08", 3, "Gi2", NULL, NULL, NOW - 10);
	/* the phone at 10.1.7.70; 10.1.8.8 is claimed by two MACs at once */
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:07", 0, NULL, "10.1.7.70", NULL, NOW - 30);
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:01", 0, NULL, "10.1.8.8", NULL, NOW - 30);
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:02", 0, NULL, "10.1.8.8", NULL, NOW - 40);
	/* 10.1.9.9 had a MAC long ago */
	fx_bind(DB_BIND_IP_MAC, "aa:00:00:00:00:01", 0, NULL, "10.1.9.9", NULL, NOW - 99999);
	world = fx_end();
}

static const struct wm_policy policy = {.now = NOW, .max_binding_age = AGE};
static struct wm_result res;

/* An identity of kind k holding text as received: the resolver checks and normalizes it. */
static struct ident raw(enum ident_kind k, const char *text)
{
	struct ident id = {.kind = k};
	snprintf(id.value, sizeof id.value, "%s", text);
	return id;
}

/* uri is read as an RFC 6155 <uri> element is: a tel: URI there is of kind tel. */
static struct wm_target target(struct ident ids[4], const char *ip, const char *mac,
				const char *uri, const char *tel)
{
	struct ident probe;
	struct wm_target t = {.ids = ids};
	if (ip)
		ids[t.n_ids++] = raw(IDENT_IP, ip);
	if (mac)
		ids[t.n_ids++] = raw(IDENT_MAC, mac);
	if (uri)
		ids[t.n_ids++] = raw(ident_parse_element("uri", uri, &probe) == 0 ? probe.kind
									 : IDENT_SIP, uri);
	if (tel)
		ids[t.n_ids++] = raw(IDENT_TEL, tel);
	return t;
}

static int resolve(const char *ip, const char *mac, const char *uri, const char *tel,
		   const char *bssid)
{
	struct ident ids[4];
	struct wm_target t = target(ids, ip, mac, uri, tel);
	t.bssid = bssid;
	struct lis_error err = {0};
	int rc = wm_resolve(world, &t, &policy, &res, &err);
	if (rc < 0)
		t_diag("wm_resolve: %s", err.msg);
	return rc;
}

static const char *loc_key(void)
{
	return res.loc ? res.loc->key : NULL;
}

static bool has_ev(enum wm_source src, const char *loc, bool stale)
{
	for (size_t i = 0; i < res.n_evidence; i++) {
		const struct wm_evidence *e = &res.ev[i];
		if (e->source == src && e->stale == stale &&
		    (loc ? e->loc && strcmp(e->loc->key, loc) == 0 : e->loc == NULL))
			return true;
	}
	return false;
}

/* The text of evidence i (valid until the next call). */
static const char *ev_text(size_t i)
{
	static char what[WM_EVIDENCE_TEXT_MAX];
	return wm_evidence_text(&res.ev[i], what, sizeof what);
}

/* On a failure, the walk that led to it. */
static void dump(void)
{
	char what[WM_EVIDENCE_TEXT_MAX];
	for (size_t i = 0; i < res.n_evidence; i++)
		t_diag("  %s%s%s: %s", wm_source_name(res.ev[i].source),
		       res.ev[i].stale ? " (stale)" : "", res.ev[i].chosen ? " (chosen)" : "",
		       wm_evidence_text(&res.ev[i], what, sizeof what));
}

static void test_mac_on_located_port_gives_port_wiremap(void)
{
	CHECK(resolve(NULL, "aa:00:00:00:00:01", NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_PORT);
	CHECK_STR(loc_key(), "hq-port");
	CHECK_STR(res.method, "Wiremap");
	CHECK(!res.fallback && res.note[0] == '\0');
	CHECK(res.has_mac && res.mac[5] == 1);
	CHECK(!res.disagreement);
}

static void test_ip_to_mac_to_port_beats_the_subnet(void)
{
	CHECK(resolve("10.1.5.5", NULL, NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_PORT);
	CHECK_STR(loc_key(), "hq-port");
	CHECK(res.has_mac && res.mac[5] == 1);
	CHECK(has_ev(WM_SRC_NONE, NULL, false));       /* the ip -> mac step */
	CHECK(has_ev(WM_SRC_SUBNET, "hq-subnet", false));
	CHECK(has_ev(WM_SRC_SITE_DEFAULT, "hq-default", false));
	size_t chosen = 0;
	for (size_t i = 0; i < res.n_evidence; i++)
		chosen += res.ev[i].chosen;
	if (!CHECK(chosen == 1))
		dump();
}

static void test_ipv6_to_mac_to_port(void)
{
	CHECK(resolve("2001:DB8:1:0::5", NULL, NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_PORT);
}

static void test_port_without_location_gives_switch_location(void)
{
	CHECK(resolve(NULL, "aa:00:00:00:00:02", NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_SWITCH);
	CHECK_STR(loc_key(), "hq-switch");
	CHECK_STR(res.method, "Wiremap");
	CHECK(!res.fallback);
}

static void test_stale_port_binding_is_listed_and_bssid_binding_answers(void)
{
	CHECK(resolve(NULL, "aa:00:00:00:00:03", NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_BSSID);
	CHECK_STR(loc_key(), "hq-ap");
	CHECK_STR(res.method, "802.11");
	CHECK(has_ev(WM_SRC_PORT, "hq-port", true));
	for (size_t i = 0; i < res.n_evidence; i++)
		if (res.ev[i].stale) {
			CHECK(!res.ev[i].chosen);
			CHECK(res.ev[i].last_seen == NOW - 7200);
			CHECK_STR(res.ev[i].origin, "snmp");
		}
}

static void test_stale_ip_binding_is_not_followed_and_subnet_answers_with_note(void)
{
	CHECK(resolve("10.1.9.9", NULL, NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_SUBNET);
	CHECK_STR(loc_key(), "hq-subnet");
	CHECK_STR(res.method, "Wiremap");
	CHECK(res.fallback);
	CHECK_STR(res.note, "fallback: location of subnet 10.1.0.0/16; no switch-port or Wi-Fi "
			    "evidence for this device");
	CHECK(has_ev(WM_SRC_NONE, NULL, true));
	CHECK(!has_ev(WM_SRC_PORT, "hq-port", false));
	CHECK(!res.has_mac);
}

static void test_switch_without_location_gives_site_default_when_allowed(void)
{
	CHECK(resolve(NULL, "aa:00:00:00:00:04", NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_SITE_DEFAULT);
	CHECK_STR(loc_key(), "hq-default");
	CHECK_STR(res.method, "Manual");
	CHECK(res.fallback && strstr(res.note, "default location of site hq") != NULL);
}

static void test_site_default_not_allowed_gives_not_located(void)
{
	CHECK(resolve(NULL, "aa:00:00:00:00:08", NULL, NULL, NULL) == 0);
	CHECK(res.source == WM_SRC_NONE && res.loc == NULL);
	CHECK(has_ev(WM_SRC_SITE_DEFAULT, NULL, false));
	CHECK(res.unknown_reason[0] != '\0');
	CHECK(res.has_mac);
}

static void test_binding_to_unknown_switch_is_listed_without_location(void)
{
	CHECK(resolve(NULL, "aa:00:00:00:00:05", NULL, NULL, NULL) == 0);
	CHECK(has_ev(WM_SRC_PORT, NULL, false));
	CHECK(strstr(ev_text(0), "not in the wiremap") != NULL);
}

static void test_precedence_port_bssid_static_subnet_site_default(void)
{
	/* phone (mac ..:07) has a static location; a BSSID the client reports ranks below it */
	CHECK(resolve("10.1.7.7", "aa:00:00:00:00:07", NULL, NULL, "02:00:00:00:01:00") == 1);
	CHECK(res.source == WM_SRC_STATIC);
	CHECK(has_ev(WM_SRC_CLIENT_BSSID, "hq-ap", false));
	CHECK(has_ev(WM_SRC_SUBNET, "hq-subnet", false));
	CHECK(has_ev(WM_SRC_SITE_DEFAULT, "hq-default", false));
	CHECK(resolve("10.1.7.7", "aa:00:00:00:00:07", NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_STATIC);
	CHECK_STR(res.method, "Manual");
	CHECK(!res.fallback);
	CHECK(resolve("10.1.7.7", NULL, NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_SUBNET);
	/* the port beats the reported BSSID */
	CHECK(resolve(NULL, "aa:00:00:00:00:01", NULL, NULL, "02:00:00:00:01:00") == 1);
	CHECK(res.source == WM_SRC_PORT);
	CHECK(has_ev(WM_SRC_CLIENT_BSSID, "hq-ap", false));
}

/* A reported access point in the site the subnet gives refines the subnet, says so in the
 * PIDF-LO's note, and is the network-backed 802.11 answer. */
static void test_reported_bssid_in_the_subnets_site_answers(void)
{
	CHECK(resolve("10.1.2.9", NULL, NULL, NULL, "02-00-00-00-02-0A") == 1);
	CHECK(res.source == WM_SRC_CLIENT_BSSID);
	CHECK_STR(loc_key(), "br-ap");
	CHECK(!res.has_mac && !res.fallback && !res.disagreement);
	CHECK_STR(res.method, "802.11");
	CHECK_STR(res.note, "location of the Wi-Fi access point the device reported, in the "
		  "site its network evidence gives (branch); not seen by the network itself");
	CHECK(strstr(ev_text(0), "the subnet puts it in site branch too") != NULL ||
	      strstr(ev_text(1), "the subnet puts it in site branch too") != NULL);
	struct wm_pidf pd;
	wm_pidf_fill(&res, true, true, &pd);
	CHECK(pd.doc.note && strstr(pd.doc.note, "not seen by the network itself"));
	wm_pidf_release(&pd);
	/* a BSSID outside the range is in no access point's */
	CHECK(resolve("10.1.2.9", NULL, NULL, NULL, "02:00:00:00:02:10") == 1);
	CHECK(res.source == WM_SRC_SUBNET);
}

/* The client's word alone, or against the network's, moves nothing: the subnet answers (or
 * nothing does), the claim is listed as unverified, and no disagreement is counted. */
static void test_reported_bssid_the_network_does_not_back_is_not_used(void)
{
	/* 10.1.7.7 is in an hq subnet; the client claims a branch access point */
	CHECK(resolve("10.1.7.7", NULL, NULL, NULL, "02:00:00:00:02:05") == 1);
	CHECK(res.source == WM_SRC_SUBNET);
	CHECK_STR(loc_key(), "hq-subnet");
	CHECK(res.fallback && !res.disagreement);
	bool listed = false;
	for (size_t i = 0; i < res.n_evidence; i++)
		if (res.ev[i].source == WM_SRC_CLIENT_BSSID)
			listed = res.ev[i].unverified && !res.ev[i].chosen &&
				 strstr(ev_text(i), "unverified") != NULL;
	CHECK(listed);
	/* no address, no identity: nothing backs the claim */
	CHECK(resolve(NULL, NULL, NULL, NULL, "02-00-00-00-02-0A") == 0);
	CHECKF(res.n_evidence == 1 && res.ev[0].unverified, "%zu pieces of evidence",
	       res.n_evidence);
}

static void test_sites_disagree_port_wins_and_says_so(void)
{
	CHECK(resolve(NULL, "aa:00:00:00:00:06", NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_PORT);
	CHECK(res.disagreement);
	CHECK_STR(res.disagree, "port says hq, bssid says branch");
	/* subnet 10.1.2.0/24 is at branch too; the stale-free port still wins */
	CHECK(resolve("10.1.2.9", "aa:00:00:00:00:01", NULL, NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_PORT && res.disagreement);
	CHECK_STR(res.disagree, "port says hq, subnet says branch");
}

static void test_no_disagreement_when_the_other_site_is_only_stale(void)
{
	CHECK(resolve(NULL, "aa:00:00:00:00:03", NULL, NULL, NULL) == 1);
	CHECK(!res.disagreement);
}

static void test_sip_uri_with_parameters_and_case_finds_the_endpoint(void)
{
	CHECK(resolve(NULL, NULL, "SIP:alice@EXAMPLE.com;transport=tcp", NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_STATIC);
	CHECK_STR(loc_key(), "hq-static");
	CHECK(res.has_mac && res.mac[5] == 7);
	/* the user part is case-sensitive */
	CHECK(resolve(NULL, NULL, "sip:Alice@example.com", NULL, NULL) == 0);
	/* an endpoint without a static location and nothing else: not located */
	CHECK(resolve(NULL, NULL, "sip:bob@example.com", NULL, NULL) == 0);
	CHECK(has_ev(WM_SRC_STATIC, NULL, false));
}

static void test_tel_with_separators_finds_the_endpoint(void)
{
	CHECK(resolve(NULL, NULL, NULL, "tel:+1-555-123-4567", NULL) == 1);
	CHECK_STR(loc_key(), "hq-static");
	CHECK(resolve(NULL, NULL, "tel:+1 (555) 123.4567", NULL, NULL) == 1);
	CHECK_STR(loc_key(), "hq-static");
}

static void test_unknown_everything_is_not_located_with_a_reason(void)
{
	CHECK(resolve("192.0.2.77", "aa:bb:cc:dd:ee:ff", "sip:nobody@example.com",
		      "tel:+15550000000", "02:00:00:00:09:09") == 0);
	CHECK(res.source == WM_SRC_NONE && res.loc == NULL && res.method == NULL);
	CHECK(strstr(res.unknown_reason, "192.0.2.77") != NULL);
	t_diag("reason: %s", res.unknown_reason);
}

/* A target of one identity; checked by wm_target_check() and refused the same way by
 * wm_resolve(). Returns the message. */
static const char *refused(struct ident id, const char *bssid, size_t n)
{
	static struct lis_error err;
	struct wm_target t = {.ids = &id, .n_ids = n, .bssid = bssid};
	memset(&err, 0, sizeof err);
	CHECKF(wm_target_check(&t, &err) == -1, "%s \"%s\" accepted", ident_name(&id), id.value);
	CHECK(wm_resolve(world, &t, &policy, &res, &err) == -1);
	return err.msg;
}

static void test_malformed_target_is_an_error(void)
{
	CHECK(strstr(refused(raw(IDENT_MAC, "aa:bb:cc:dd:ee"), NULL, 1), "aa:bb:cc:dd:ee") != NULL);
	refused(raw(IDENT_IP, "10.1.2.300"), NULL, 1);
	refused(raw(IDENT_SIP, "http://example.com/"), NULL, 1);
	refused(raw(IDENT_SIP, "tel:+15551234567"), NULL, 1);
	refused(raw(IDENT_TEL, "sip:alice@example.com"), NULL, 1);
	refused(raw(IDENT_MAC, "aa:00:00:00:00:01"), "nope", 1);
	refused(raw(IDENT_MAC, ""), NULL, 0);
}

static void test_unsupported_or_repeated_kind_is_an_error(void)
{
	CHECK_STR(refused(raw(IDENT_FQDN, "pc1.example.com"), NULL, 1),
		  "identifier type fqdn is not supported");
	CHECK_STR(refused(raw(IDENT_OTHER, "serial"), NULL, 1),
		  "identifier type serial is not supported");
	struct ident two[] = {raw(IDENT_TEL, "tel:+1555"), raw(IDENT_TEL, "tel:+1666")};
	struct wm_target t = {.ids = two, .n_ids = 2};
	struct lis_error err = {0};
	CHECK(wm_target_check(&t, &err) == -1);
	CHECK(strstr(err.msg, "more than one tel identifier") != NULL);
	/* one of each kind is fine */
	struct ident each[] = {raw(IDENT_IP, "10.1.7.7"), raw(IDENT_MAC, "aa:00:00:00:00:07"),
			       raw(IDENT_SIP, "sip:alice@example.com"),
			       raw(IDENT_TEL, "tel:+15551234567")};
	t = (struct wm_target){.ids = each, .n_ids = 4, .bssid = "02:00:00:00:01:00"};
	CHECKF(wm_target_check(&t, &err) == 0, "%s", err.msg);
}

static void test_kinds_located_by_are_ip_mac_sip_tel(void)
{
	for (int k = 0; k < IDENT_N_KINDS; k++)
		CHECKF(wm_resolve_locates_by((enum ident_kind)k) ==
		       (k == IDENT_IP || k == IDENT_MAC || k == IDENT_SIP || k == IDENT_TEL),
		       "kind %s", ident_kind_info((enum ident_kind)k)->name);
	CHECK(!wm_resolve_locates_by(IDENT_N_KINDS));
}

/* RFC 5985 §6.6: the MAC is known, but the document names the device only when asked to
 * (wm_pidf_name_device(), where a Rule Maker allows it). */
static void test_pidf_fill_port_with_mac_names_no_device_unless_asked_and_both_forms(void)
{
	struct wm_pidf p;
	CHECK(resolve(NULL, "AA-00-00-00-00-01", NULL, NULL, NULL) == 1);
	wm_pidf_fill(&res, true, true, &p);
	CHECK(p.doc.device_id == NULL);
	CHECK_STR(p.device_id, "mac:aa0000000001");
	wm_pidf_name_device(&p);
	CHECK_STR(p.doc.device_id, "mac:aa0000000001");
	CHECK_STR(p.doc.method, "Wiremap");
	CHECK(p.doc.note == NULL);
	CHECK(p.doc.civic && strcmp(p.doc.civic->field[CIVIC_ROOM], "hq-port") == 0);
	CHECK(p.doc.geo == &p.geo && p.geo.lat == 37.5 && p.geo.radius == 12);
	wm_pidf_fill(&res, true, false, &p);
	CHECK(p.doc.civic && p.doc.geo == NULL);
	wm_pidf_fill(&res, false, true, &p);
	CHECK(!p.doc.civic && p.doc.geo);
	p.doc.entity = "pres:test@lis.invalid";
	p.doc.timestamp = NOW;
	p.doc.retention_expiry = NOW + 86400;
	p.doc.retransmission_allowed = true;
	char *xml = NULL;
	size_t len = 0;
	struct lis_error err = {0};
	wm_pidf_fill(&res, true, true, &p);
	p.doc.entity = "pres:test@lis.invalid";
	p.doc.timestamp = NOW;
	p.doc.retention_expiry = NOW + 86400;
	CHECKF(pidf_build(&p.doc, &xml, &len, &err) == 0, "%s", err.msg);
	free(xml);
}

static void test_pidf_fill_subnet_without_mac_has_note_and_no_device_id(void)
{
	struct wm_pidf p;
	CHECK(resolve("10.1.7.7", NULL, NULL, NULL, NULL) == 1);
	wm_pidf_fill(&res, true, true, &p);
	CHECK(p.doc.device_id == NULL);
	/* nothing to name even when allowed */
	wm_pidf_name_device(&p);
	CHECK(p.doc.device_id == NULL);
	CHECK(p.doc.note && strstr(p.doc.note, "subnet 10.1.0.0/16") != NULL);
	CHECK_STR(p.doc.method, "Wiremap");
	CHECK(p.doc.civic != NULL && p.doc.geo == NULL); /* hq-subnet has no geo */
}

/* lisd builds its answer after the snapshot's read-side section: a detached document holds
 * its own copy of everything it borrowed. */
static void test_pidf_detach_copies_what_the_document_borrows(void)
{
	struct wm_pidf p;
	CHECK(resolve("10.1.7.7", NULL, NULL, NULL, NULL) == 1);
	wm_pidf_fill(&res, true, true, &p);
	const struct civic_address *shared = p.doc.civic;
	CHECK(wm_pidf_detach(&p) == 0);
	CHECK(p.doc.civic == &p.civic && p.doc.civic != shared);
	CHECK(p.doc.civic->field[CIVIC_ROOM] != shared->field[CIVIC_ROOM]);
	CHECK_STR(p.doc.civic->field[CIVIC_ROOM], shared->field[CIVIC_ROOM]);
	CHECK(p.doc.note == p.note && strstr(p.note, "subnet 10.1.0.0/16") != NULL);
	CHECK(p.doc.method == p.method);
	CHECK_STR(p.method, "Wiremap");
	/* the result may go: the document still reads */
	memset(&res, 0, sizeof res);
	CHECK_STR(p.doc.method, "Wiremap");
	CHECK(strstr(p.doc.note, "fallback") != NULL);
	wm_pidf_release(&p);
	CHECK(p.doc.civic == NULL && p.civic_text == NULL);
	wm_pidf_release(NULL);
}

static void test_pidf_fill_bssid_and_site_default_methods(void)
{
	struct wm_pidf p;
	CHECK(resolve(NULL, "aa:00:00:00:00:03", NULL, NULL, NULL) == 1);
	wm_pidf_fill(&res, true, true, &p);
	CHECK_STR(p.doc.method, "802.11");
	CHECK(p.doc.note == NULL);
	CHECK(resolve(NULL, "aa:00:00:00:00:04", NULL, NULL, NULL) == 1);
	wm_pidf_fill(&res, true, true, &p);
	CHECK_STR(p.doc.method, "Manual");
	CHECK(p.doc.note && strstr(p.doc.note, "site hq") != NULL);
}

/* ---- wm_target_is_at(): RFC 6155 §1.1 "uniquely attributable to the requestor" ---- */

static bool is_at(const char *from, const struct wm_snapshot *s, const char *ip, const char *mac,
		  const char *uri, const char *tel)
{
	struct ident ids[4];
	struct wm_target t = target(ids, ip, mac, uri, tel);
	return wm_target_is_at(s, &t, from, &policy);
}

static void test_identities_bound_to_the_requesters_address_are_the_requester(void)
{
	/* the phone at 10.1.7.70 naming itself by SIP URI, tel URI, MAC, or all with its IP */
	CHECK(is_at("10.1.7.70", world, NULL, NULL, "sip:alice@example.com", NULL));
	CHECK(is_at("10.1.7.70", world, NULL, NULL, "SIP:alice@EXAMPLE.COM;transport=tcp", NULL));
	CHECK(is_at("10.1.7.70", world, NULL, NULL, NULL, "tel:+1-555-123-4567"));
	CHECK(is_at("10.1.7.70", world, NULL, "AA-00-00-00-00-07", NULL, NULL));
	CHECK(is_at("10.1.7.70", world, "10.1.7.70", "aa:00:00:00:00:07", "sip:alice@example.com",
		    "tel:+15551234567"));
	/* the address alone needs no wiremap; IPv6 compares as addresses */
	CHECK(is_at("10.1.7.70", NULL, "10.1.7.70", NULL, NULL, NULL));
	CHECK(is_at("2001:db8:1::5", world, "2001:DB8:1:0::5", "aa:00:00:00:00:01", NULL, NULL));
}

static void test_identities_not_shown_to_be_the_requester_are_not(void)
{
	/* another device's identity, or one that names no MAC */
	CHECK(!is_at("10.1.5.5", world, NULL, NULL, "sip:alice@example.com", NULL));
	CHECK(!is_at("10.1.7.70", world, "10.1.5.5", NULL, NULL, NULL));
	CHECK(!is_at("10.1.7.70", world, "10.1.7.70", "aa:00:00:00:00:01", NULL, NULL));
	CHECK(!is_at("10.1.7.70", world, NULL, NULL, "sip:bob@example.com", NULL));
	CHECK(!is_at("10.1.7.70", world, NULL, NULL, "sip:nobody@example.com", NULL));
	/* not uniquely attributable: two fresh MACs on the address; only a stale binding */
	CHECK(!is_at("10.1.8.8", world, NULL, "aa:00:00:00:00:01", NULL, NULL));
	CHECK(!is_at("10.1.8.8", world, NULL, "aa:00:00:00:00:02", NULL, NULL));
	CHECK(!is_at("10.1.9.9", world, NULL, "aa:00:00:00:00:01", NULL, NULL));
	/* no wiremap yet, a kind the resolver does not know, nothing at all */
	CHECK(!is_at("10.1.7.70", NULL, NULL, NULL, "sip:alice@example.com", NULL));
	struct ident fqdn = raw(IDENT_FQDN, "phone.example.com");
	struct wm_target t = {.ids = &fqdn, .n_ids = 1};
	CHECK(!wm_target_is_at(world, &t, "10.1.7.70", &policy));
	t.n_ids = 0;
	CHECK(!wm_target_is_at(world, &t, "10.1.7.70", &policy));
	CHECK(!is_at(NULL, world, "10.1.7.70", NULL, NULL, NULL));
}

/* Every evidence text, word for word: the query log's evidence and `lisctl explain` read
 * them, and they are put together from pieces without printf. Cut, they are cut as snprintf
 * cuts: the prefix that fits. */
static void test_every_evidence_text_word_for_word(void)
{
	static const struct wm_site hq = {.key = "hq"};
	static const struct wm_switch sw = {.key = "sw-1"};
	static const struct wm_bssid ap = {.bssid = {2, 0, 0, 0, 1, 0}, .prefix_len = 48,
					   .key = "ap-1"};
	static const struct wm_bssid ap44 = {.bssid = {2, 0, 0, 0, 2, 0}, .prefix_len = 44};
	static const struct wm_endpoint ep = {.key = "desk-12"};
	static const struct wm_vpn vpn = {.ip = "10.8.0.5", .user = "alice",
					  .expires_at = 86400 + 3723};
	static const struct wm_declared decl = {.label = "home", .expires_at = 120,
						.confirmed_at = 60};
	static const struct wm_class cls = {.key = "softphone"};
#define M .mac = {0, 0x11, 0x22, 0x33, 0x44, 0x55}
#define B .bssid = {2, 0, 0, 0, 1, 0}
#define NET(p, q, r, s, l) .subnet = {.fam = 4, .len = l, .a = {p, q, r, s}}
	static const struct {
		struct wm_evidence e;
		const char *want;
	} c[] = {
		{{.text = WM_EVT_IP_MAC, M, .name = "10.1.2.3"},
		 "ip 10.1.2.3 has mac 00:11:22:33:44:55"},
		{{.text = WM_EVT_PORT_UNKNOWN_SWITCH, M, .name = "Gi1/0/7"},
		 "mac 00:11:22:33:44:55 on port Gi1/0/7 of a switch not in the wiremap"},
		{{.text = WM_EVT_PORT, M, .sw = &sw, .name = "Gi1/0/7"},
		 "mac 00:11:22:33:44:55 on sw-1 port Gi1/0/7"},
		{{.text = WM_EVT_PORT_SWITCH_LOCATION, M, .sw = &sw, .name = "Gi1/0/7",
		  .port_known = true},
		 "mac 00:11:22:33:44:55 on sw-1 port Gi1/0/7 (port without a location; the "
		 "switch's location)"},
		{{.text = WM_EVT_PORT_SWITCH_LOCATION, M, .sw = &sw, .name = "Gi1/0/7"},
		 "mac 00:11:22:33:44:55 on sw-1 port Gi1/0/7 (port not in the wiremap; the "
		 "switch's location)"},
		{{.text = WM_EVT_PORT_NO_LOCATION, M, .sw = &sw, .name = "Gi1/0/7"},
		 "mac 00:11:22:33:44:55 on sw-1 port Gi1/0/7: neither port nor switch has a "
		 "location"},
		{{.text = WM_EVT_BSSID, M, B, .ap = &ap},
		 "mac 00:11:22:33:44:55 associated with bssid 02:00:00:00:01:00, AP ap-1"},
		{{.text = WM_EVT_BSSID, M, B, .ap = &ap44},
		 "mac 00:11:22:33:44:55 associated with bssid 02:00:00:00:01:00, "
		 "AP ? (02:00:00:00:02:00/44)"},
		{{.text = WM_EVT_BSSID_UNKNOWN, M, B},
		 "mac 00:11:22:33:44:55 associated with bssid 02:00:00:00:01:00, not in the "
		 "wiremap"},
		{{.text = WM_EVT_CLIENT_BSSID, .mac = {2, 0, 0, 0, 1, 0}, .ap = &ap,
		  .backer = WM_SRC_PORT, .site = &hq},
		 "serving bssid 02:00:00:00:01:00 reported by the client, AP ap-1; the port puts it "
		 "in site hq too"},
		{{.text = WM_EVT_CLIENT_BSSID, .mac = {2, 0, 0, 0, 1, 0}, .unverified = true,
		  .site = &hq},
		 "serving bssid 02:00:00:00:01:00 reported by the client, not in the wiremap; "
		 "unverified: no network evidence puts the device in site hq"},
		{{.text = WM_EVT_STATIC, .endpoint = &ep, .name = "mac"},
		 "endpoint desk-12 (found by mac) has a static location"},
		{{.text = WM_EVT_STATIC_NONE, .endpoint = &ep, .name = "sip"},
		 "endpoint desk-12 (found by sip) has no static location"},
		{{.text = WM_EVT_SUBNET, .ip = "10.1.2.3", NET(10, 1, 2, 0, 24)},
		 "ip 10.1.2.3 in subnet 10.1.2.0/24"},
		{{.text = WM_EVT_NO_SUBNET, .ip = "10.1.2.3"}, "no subnet covers ip 10.1.2.3"},
		{{.text = WM_EVT_SITE_DEFAULT, .site = &hq}, "default location of site hq"},
		{{.text = WM_EVT_SITE_DEFAULT_REFUSED, .site = &hq},
		 "site hq has a default location, but its policy does not allow it"},
		{{.text = WM_EVT_SITE_DEFAULT_LAST},
		 "default location of site ? (where stale evidence last put the device)"},
		{{.text = WM_EVT_REMOTE_SUBNET, .ip = "10.8.0.5", NET(10, 8, 0, 0, 16)},
		 "ip 10.8.0.5 in remote subnet 10.8.0.0/16 (a VPN pool)"},
		{{.text = WM_EVT_VPN, .vpn = &vpn},
		 "ip 10.8.0.5 bound to user alice by the VPN concentrator, until "
		 "1970-01-02T01:02:03Z"},
		{{.text = WM_EVT_VPN_USER_DEACTIVATED, .vpn = &vpn, .stale = true},
		 "ip 10.8.0.5 bound to user alice by the VPN concentrator, expired "
		 "1970-01-02T01:02:03Z; user deactivated: not used"},
		{{.text = WM_EVT_ENDPOINT_DEACTIVATED, .endpoint = &ep, .name = "tel"},
		 "endpoint desk-12 (found by tel) is deactivated: its class, owner and static "
		 "location are not used"},
		{{.text = WM_EVT_USER_DEACTIVATED, .name = "alice"},
		 "user alice is deactivated: no declared location is answered"},
		{{.text = WM_EVT_NO_USER},
		 "no user known for the device (no endpoint owner, no VPN binding)"},
		{{.text = WM_EVT_NO_DECLARED, .name = "alice"},
		 "user alice has no current declared location"},
		{{.text = WM_EVT_DECLARED, .name = "alice", .declared = &decl},
		 "user alice declared location home"},
		{{.text = WM_EVT_DECLARED_EXPIRED, .name = "alice", .declared = &decl},
		 "user alice declared location home, expired 1970-01-01T00:02:00Z"},
		{{.text = WM_EVT_DECLARED_UNCONFIRMED, .name = "alice", .declared = &decl},
		 "user alice declared location home, not confirmed again since "
		 "1970-01-01T00:01:00Z"},
		{{.text = WM_EVT_PORT, M, .sw = &sw, .name = "Gi1/0/7", .excluded = true,
		  .why_excluded = WM_EXCL_OFF_PREMISES},
		 "mac 00:11:22:33:44:55 on sw-1 port Gi1/0/7; not used: off premises"},
		{{.text = WM_EVT_DECLARED, .name = "alice", .declared = &decl, .excluded = true,
		  .why_excluded = WM_EXCL_ON_PREMISES},
		 "user alice declared location home; not used: on premises"},
		{{.text = WM_EVT_SUBNET, .ip = "10.1.2.3", NET(10, 1, 2, 0, 24), .excluded = true,
		  .why_excluded = WM_EXCL_CLASS, .excluded_by = &cls},
		 "ip 10.1.2.3 in subnet 10.1.2.0/24; not counted by class softphone"},
		/* excluded_by is read only when the exclusion is the class's */
		{{.text = WM_EVT_NO_USER, .why_excluded = WM_EXCL_CLASS},
		 "no user known for the device (no endpoint owner, no VPN binding)"},
	};
#undef M
#undef B
#undef NET
	char buf[WM_EVIDENCE_TEXT_MAX];
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		CHECK_STR(wm_evidence_text(&c[i].e, buf, sizeof buf), c[i].want);
	/* every size a caller may give: the prefix that fits, NUL-terminated */
	const struct wm_evidence *e = &c[10].e;
	const char *want = c[10].want;
	size_t len = strlen(want);
	bool prefixes = true;
	for (size_t size = 1; size <= len + 1; size++) {
		memset(buf, 'x', sizeof buf);
		wm_evidence_text(e, buf, size);
		prefixes &= strlen(buf) == size - 1 && strncmp(buf, want, size - 1) == 0;
	}
	CHECK(prefixes);
	buf[0] = 'x';
	CHECK(wm_evidence_text(e, buf, 0) == buf && buf[0] == 'x');
}

#define RUN(name) t_run(#name, test_##name)

int main(void)
{
	build_world();
	if (!world)
		return 1;
	RUN(mac_on_located_port_gives_port_wiremap);
	RUN(ip_to_mac_to_port_beats_the_subnet);
	RUN(ipv6_to_mac_to_port);
	RUN(port_without_location_gives_switch_location);
	RUN(stale_port_binding_is_listed_and_bssid_binding_answers);
	RUN(stale_ip_binding_is_not_followed_and_subnet_answers_with_note);
	RUN(switch_without_location_gives_site_default_when_allowed);
	RUN(site_default_not_allowed_gives_not_located);
	RUN(binding_to_unknown_switch_is_listed_without_location);
	RUN(precedence_port_bssid_static_subnet_site_default);
	RUN(reported_bssid_in_the_subnets_site_answers);
	RUN(reported_bssid_the_network_does_not_back_is_not_used);
	RUN(sites_disagree_port_wins_and_says_so);
	RUN(no_disagreement_when_the_other_site_is_only_stale);
	RUN(sip_uri_with_parameters_and_case_finds_the_endpoint);
	RUN(tel_with_separators_finds_the_endpoint);
	RUN(unknown_everything_is_not_located_with_a_reason);
	RUN(malformed_target_is_an_error);
	RUN(unsupported_or_repeated_kind_is_an_error);
	RUN(kinds_located_by_are_ip_mac_sip_tel);
	RUN(pidf_fill_port_with_mac_names_no_device_unless_asked_and_both_forms);
	RUN(pidf_fill_subnet_without_mac_has_note_and_no_device_id);
	RUN(pidf_fill_bssid_and_site_default_methods);
	RUN(pidf_detach_copies_what_the_document_borrows);
	RUN(identities_bound_to_the_requesters_address_are_the_requester);
	RUN(identities_not_shown_to_be_the_requester_are_not);
	RUN(every_evidence_text_word_for_word);
	wm_snapshot_free(world);
	return t_done();
}
