/* Offboarding (issue 11, lisd(8) "Offboarding"): a deactivated endpoint is no endpoint (no
 * class, owner, static location; named by URI it lends no MAC), yet the device it was is
 * located by network evidence like any unknown device; a deactivated user's declarations
 * and VPN bindings are never answered, though the binding still says "off premises". And
 * the endpoint's active flag travels through a delta. One small wiremap:
 *   site hq (default allowed); subnet 10.1.0.0/16; 10.8.0.0/16 is remote (the VPN pool);
 *   sw-hq port Gi1 -> hq-port
 *   old-desk (desk_phone, deactivated, mac o1, sip:old@, static hq-static) on Gi1 from
 *     10.1.1.1; old-desk2 (desk_phone, deactivated, mac o2, static hq-static), not seen
 *   old-soft (softphone, deactivated, owner alice, sip:alice@); alice is active, declared
 *     home, VPN address 10.8.0.6
 *   bob-soft (softphone, active, owner bob, sip:bob@); bob is deactivated, declared home,
 *     VPN address 10.8.0.5
 */
#include <stdio.h>

#include "wm_fixture.h"
#include "wm_resolve.h"

#define NOW 1000000
#define DAY 86400

enum { L_PORT = 10, L_STATIC, L_SUBNET, L_DEFAULT };

static struct wm_snapshot *world;

static void build_world(void)
{
	fx_begin();
	fx_site(1, "hq", true, L_DEFAULT);
	fx_location(L_PORT, 1, "hq-port", true);
	fx_location(L_STATIC, 1, "hq-static", false);
	fx_location(L_SUBNET, 1, "hq-subnet", false);
	fx_location(L_DEFAULT, 1, "hq-default", false);
	fx_subnet("10.1.0.0/16", L_SUBNET);
	fx_remote_subnet("10.8.0.0/16");
	fx_switch(1, 1, "sw-hq", "00:00:5e:00:53:01", 0);
	fx_port(1, "Gi1", L_PORT);
	fx_class("desk_phone", "pbst", 0, 0, "site-default");
	fx_class("softphone", "pbstd", 900, DAY, "declared");
	fx_endpoint_off(1, "old-desk", "desk_phone", NULL, "0e:00:00:00:00:01",
			"sip:old@example.com", L_STATIC);
	fx_endpoint_off(2, "old-desk2", "desk_phone", NULL, "0e:00:00:00:00:02", NULL, L_STATIC);
	fx_endpoint_off(3, "old-soft", "softphone", "alice", NULL, "sip:alice@example.com", 0);
	fx_endpoint_of(4, "bob-soft", "softphone", "bob", NULL, "sip:bob@example.com", NULL, 0);
	fx_user_off("bob");
	fx_declared(1, "alice", "home", "Main", NOW - 100, NOW + DAY);
	fx_declared(2, "bob", "home", "Oak", NOW - 100, NOW + DAY);
	fx_vpn("10.8.0.5", "bob", "softphone", NOW + 600);
	fx_vpn("10.8.0.6", "alice", "softphone", NOW + 600);
	fx_bind(DB_BIND_MAC_PORT, "0e:00:00:00:00:01", 1, "Gi1", NULL, NULL, NOW - 10);
	fx_bind(DB_BIND_IP_MAC, "0e:00:00:00:00:01", 0, NULL, "10.1.1.1", NULL, NOW - 10);
	world = fx_end();
}

static const struct wm_policy policy = {.now = NOW, .max_binding_age = 3600};
static struct wm_result res;

static int resolve(const char *ip, const char *mac, const char *sip)
{
	return fx_resolve(world, &policy, &res, ip, mac, sip, NULL);
}

static const struct wm_evidence *evidence_text(enum wm_evidence_text text)
{
	for (size_t i = 0; i < res.n_evidence; i++)
		if (res.ev[i].text == text)
			return &res.ev[i];
	return NULL;
}

static const struct wm_evidence *evidence(enum wm_source src)
{
	for (size_t i = 0; i < res.n_evidence; i++)
		if (res.ev[i].source == src)
			return &res.ev[i];
	return NULL;
}

static const char *text_of(const struct wm_evidence *e)
{
	static char what[WM_EVIDENCE_TEXT_MAX];
	return e ? wm_evidence_text(e, what, sizeof what) : "";
}

static void test_deactivated_desk_phone_on_its_port_is_located_by_the_port_not_its_policy(void)
{
	CHECK(resolve("10.1.1.1", NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_PORT);
	CHECK_STR(res.loc ? res.loc->key : NULL, "hq-port");
	CHECK(res.deactivated && strcmp(res.deactivated->key, "old-desk") == 0);
	CHECK(res.cls == &wm_class_none);
	CHECK_STR(res.class_how, "endpoint old-desk is deactivated: located as an unknown device");
	CHECK(evidence(WM_SRC_STATIC) == NULL);
	const struct wm_evidence *e = evidence_text(WM_EVT_ENDPOINT_DEACTIVATED);
	CHECK(e && !e->chosen && !e->loc);
	CHECK_STR(e ? wm_evidence_step(e) : NULL, "endpoint");
	CHECKF(strstr(text_of(e), "endpoint old-desk (found by mac) is deactivated") != NULL,
	       "%s", text_of(e));
}

static void test_deactivated_desk_phone_never_gets_its_static_location(void)
{
	/* not seen by the network: an unknown device with nothing to locate it by */
	CHECK(resolve(NULL, "0e:00:00:00:00:02", NULL) == 0);
	CHECK(res.loc == NULL);
	CHECK(evidence(WM_SRC_STATIC) == NULL);
	CHECKF(strstr(res.unknown_reason, "endpoint old-desk2 is deactivated") != NULL, "%s",
	       res.unknown_reason);
}

static void test_deactivated_endpoint_named_by_uri_lends_no_mac(void)
{
	CHECK(resolve(NULL, NULL, "sip:old@example.com") == 0);
	CHECK(!res.has_mac);
	CHECK(evidence(WM_SRC_PORT) == NULL);
	CHECK(res.deactivated && strcmp(res.deactivated->key, "old-desk") == 0);
}

static void test_deactivated_softphone_answers_no_declaration_of_its_owner(void)
{
	CHECK(resolve(NULL, NULL, "sip:alice@example.com") == 0);
	CHECK(res.user == NULL);
	CHECK(res.cls == &wm_class_none);
	CHECK(evidence(WM_SRC_DECLARED) == NULL || !evidence(WM_SRC_DECLARED)->loc);
}

static void test_deactivated_users_declaration_is_never_answered(void)
{
	/* bob's softphone is active, bob is not */
	CHECK(resolve(NULL, NULL, "sip:bob@example.com") == 0);
	CHECK_STR(res.cls ? res.cls->key : NULL, "softphone");
	CHECK(res.user == NULL);
	CHECK_STR(res.user_deactivated, "bob");
	const struct wm_evidence *e = evidence_text(WM_EVT_USER_DEACTIVATED);
	CHECK(e && !e->loc);
	CHECKF(strstr(text_of(e), "user bob is deactivated") != NULL, "%s", text_of(e));
	CHECKF(strstr(res.unknown_reason, "user bob is deactivated") != NULL, "%s",
	       res.unknown_reason);
}

static void test_deactivated_users_vpn_binding_is_not_used_but_stays_off_premises(void)
{
	CHECK(resolve("10.8.0.5", NULL, NULL) == 0);
	CHECK(res.off_premises);
	CHECKF(strstr(res.premises, "VPN address of user bob (deactivated)") != NULL, "%s",
	       res.premises);
	CHECK(res.cls == &wm_class_none);
	CHECK(res.user == NULL);
	const struct wm_evidence *e = evidence_text(WM_EVT_VPN_USER_DEACTIVATED);
	CHECK(e != NULL);
	CHECK_STR(e ? wm_evidence_step(e) : NULL, "vpn");
	CHECK(evidence(WM_SRC_DECLARED) == NULL);
}

static void test_active_user_keeps_her_declaration_through_her_vpn_binding(void)
{
	/* alice's softphone is deactivated, alice is not */
	CHECK(resolve("10.8.0.6", NULL, NULL) == 1);
	CHECK(res.source == WM_SRC_DECLARED);
	CHECK_STR(res.loc ? res.loc->key : NULL, "alice/home");
}

static void test_reactivation_through_a_delta_restores_class_and_static(void)
{
	struct lis_error err = {0};
	struct wm_delta *d = wm_delta_new(world);
	const struct db_delta_sink *k = wm_delta_sink(d);
	struct db_rec_endpoint r = {.id = 2, .key = "old-desk2", .class_ = "desk_phone",
				    .location_id = L_STATIC, .has_mac = true};
	fx_mac("0e:00:00:00:00:02", r.mac);
	fx_check(k->key(k->rows.ctx, DB_ENDPOINTS, 2, NULL, &err), &err);
	fx_check(k->rows.endpoint(k->rows.ctx, &r, &err), &err);
	CHECK(wm_delta_apply(d, &err) == 0);
	wm_delta_free(d);
	CHECK(resolve(NULL, "0e:00:00:00:00:02", NULL) == 1);
	CHECK(res.source == WM_SRC_STATIC);
	CHECK(res.deactivated == NULL);
	CHECK_STR(res.cls ? res.cls->key : NULL, "desk_phone");

	/* and deactivated again */
	d = wm_delta_new(world);
	k = wm_delta_sink(d);
	r.deactivated = true;
	fx_check(k->key(k->rows.ctx, DB_ENDPOINTS, 2, NULL, &err), &err);
	fx_check(k->rows.endpoint(k->rows.ctx, &r, &err), &err);
	CHECK(wm_delta_apply(d, &err) == 0);
	wm_delta_free(d);
	CHECK(resolve(NULL, "0e:00:00:00:00:02", NULL) == 0);
	CHECK(res.deactivated && res.deactivated->id == 2);
}

/* RFC 6155: the URI of a deactivated endpoint no longer ties the request to the device at
 * the requester's address (a third-party request then, needing authorization). */
static void test_deactivated_endpoints_uri_is_not_attributable_to_the_requester(void)
{
	struct ident id = {.kind = IDENT_SIP};
	snprintf(id.value, sizeof id.value, "%s", "sip:old@example.com");
	struct wm_target t = {.ids = &id, .n_ids = 1};
	CHECK(!wm_target_is_at(world, &t, "10.1.1.1", &policy));
	id = (struct ident){.kind = IDENT_MAC};
	snprintf(id.value, sizeof id.value, "%s", "0e:00:00:00:00:01");
	CHECK(wm_target_is_at(world, &t, "10.1.1.1", &policy));
}

static void test_users_not_listed_are_active(void)
{
	CHECK(wm_user_is_active(world, "alice"));
	CHECK(wm_user_is_active(world, "nobody"));
	CHECK(!wm_user_is_active(world, "bob"));
	struct wm_snapshot_stats st;
	wm_snapshot_get_stats(world, &st);
	CHECK(st.users_inactive == 1);
}

#define RUN(name) t_run(#name, test_##name)

int main(void)
{
	build_world();
	if (!world)
		return 1;
	RUN(deactivated_desk_phone_on_its_port_is_located_by_the_port_not_its_policy);
	RUN(deactivated_desk_phone_never_gets_its_static_location);
	RUN(deactivated_endpoint_named_by_uri_lends_no_mac);
	RUN(deactivated_softphone_answers_no_declaration_of_its_owner);
	RUN(deactivated_users_declaration_is_never_answered);
	RUN(deactivated_users_vpn_binding_is_not_used_but_stays_off_premises);
	RUN(active_user_keeps_her_declaration_through_her_vpn_binding);
	RUN(reactivation_through_a_delta_restores_class_and_static);
	RUN(deactivated_endpoints_uri_is_not_attributable_to_the_requester);
	RUN(users_not_listed_are_active);
	wm_snapshot_free(world);
	return t_done();
}
