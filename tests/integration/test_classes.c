/* Beyond the desk (47 CFR 9.16(b), migration 0008) end to end: a real PostgreSQL with the
 * correlation wiremap plus a VPN pool (127.0.8.0/24, a remote subnet), a real lisd, and
 * lisctl declare / vpn-bind as an operator runs them. A softphone on a VPN address is never
 * answered with an office; a declared address answers with method Manual; an expired one
 * as its class says; every change to a declaration is audited; a VPN binding ends with its
 * lifetime. Every answer is validated against the schemas by the harness. */
#include "check.h"
#include "corr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ck_env E;
static char *home_file;

#define PIDF "/held:locationResponse/pidf:presence/pidf:tuple/pidf:status/gp:geopriv"

static void test_setup_wiremap_vpn_pool_and_lisd(void)
{
	/* 127.0.0.2 is the SBC: it may ask about other devices (RFC 6155) */
	if (!ck_setup(&E, "[auth]\nallowed_addresses = 127.0.0.2\n"))
		return;
	CHECK(ck_import(&E, "--subnets", "prefix,location,description,remote\n"
			"127.0.8.0/24,,VPN pool,true\n"));
	/* bob's phone has a carrier: mobile */
	CHECK(ck_import(&E, "--endpoints", "endpoint,class,uri,owner\n"
			"bob-mobile,mobile,sip:bob@example.com,bob\n"
			"dora-soft,softphone,sip:dora@example.com,dora\n"));
	home_file = strdup(ck_fixture("../declared/home.csv"));
}

#define LISCTL_OK(...) CK_LISCTL_OK(&E, __VA_ARGS__)

/* A change reaches lisd through the change feed: wait. */
static bool eventually(const char *from, const char *what)
{
	struct ck_answer w = {&E, &E.lisd, from, what};
	return th_wait_until(20, 100, ck_answers_method, &w, NULL);
}

static void test_softphone_on_a_vpn_pool_address_is_not_answered_with_the_office(void)
{
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "vpn-bind", "127.0.8.5", "alice", "--ttl", "3600",
		  (char *)NULL);
	ck_lisctl_ok("vpn-bind", &p);
	CHECK(strstr(p.out, "bound 127.0.8.5 to user alice (class softphone) until ") != NULL);
	th_proc_free(&p);
	/* alice declared nothing yet: off premises, no office, no declaration */
	CHECKF(eventually("127.0.8.5", "error:locationUnknown"), "127.0.8.5 was located");
	char *body = ck_expect_error(&E, ck_req(NULL, false), "127.0.8.5", NULL,
				     "locationUnknown");
	CHECKF(strstr(body, "off premises") != NULL, "%s", th_flat(body));
	free(body);
	/* an address of the pool that nobody was bound to: no office either */
	free(ck_expect_error(&E, ck_req(NULL, false), "127.0.8.9", NULL, "locationUnknown"));
}

static void test_declared_home_address_is_answered_with_method_Manual(void)
{
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "declare", "alice", "home", "--address-file", home_file,
		  "--current", "--days", "30", (char *)NULL);
	ck_lisctl_ok("declare", &p);
	CHECK(strstr(p.out, "declared alice/home (current)") != NULL);
	th_proc_free(&p);
	CHECKF(eventually("127.0.8.5", "Manual"), "no Manual answer for alice's VPN address");
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, ck_req(NULL, false), "127.0.8.5", &r);
	xmlDocPtr d = ck_held_located(&r);
	if (d) {
		char *rd = xp_str(d, PIDF "/gp:location-info/ca:civicAddress/ca:RD");
		char *a3 = xp_str(d, PIDF "/gp:location-info/ca:civicAddress/ca:A3");
		char *note = xp_str(d, "/held:locationResponse/pidf:presence/pidf:tuple/"
				       "pidf:note");
		CHECK_STR(rd, "Maple");
		CHECK_STR(a3, "Springfield");
		CHECKF(note && strstr(note, "declared by user alice (home)"), "note %s", note);
		CHECK(xp_count(d, PIDF "/gp:location-info/gml:*") == 0);
		free(rd);
		free(a3);
		free(note);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
	CHECK(ck_log_has(&E.lisd, "requester=127.0.8.5 ", "source=declared", (char *)NULL));
}

static void test_a_bad_address_is_refused_like_a_wiremap_location(void)
{
	size_t n = strlen(E.work) + 20;
	char *bad = malloc(n);
	snprintf(bad, n, "%s/bad-home.csv", E.work);
	th_write_file(bad, "country,A1,A3,RD\nUS,IL,Springfield,Maple\n");
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "declare", "alice", "cabin", "--address-file", bad,
		  (char *)NULL);
	CHECKF(p.status == 1 && strstr(p.err, "is not dispatchable: no street number (HNO)"),
	       "exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location WHERE label = 'cabin'")
	      == 0);
	free(bad);
}

static void test_expired_declaration_is_answered_as_the_class_says(void)
{
	/* bob (mobile: no_fresh locationUnknown) and alice (softphone: no_fresh declared) */
	LISCTL_OK("declare", "bob", "hotel", "--address-file", home_file, "--current");
	LISCTL_OK("vpn-bind", "127.0.8.6", "bob", "--class", "mobile");
	CHECKF(eventually("127.0.8.6", "Manual"), "bob's hotel not answered");
	CHECK(th_pg_exec(&E.pg, "lis", "UPDATE declared_location SET expires_at = now() - "
			 "interval '1 hour'") == 0);
	CHECKF(eventually("127.0.8.6", "error:locationUnknown"),
	       "bob's expired declaration still answered");
	char *body = ck_expect_error(&E, ck_req(NULL, false), "127.0.8.6", NULL,
				     "locationUnknown");
	CHECKF(strstr(body, "class mobile: route on the carrier's location"), "%s", th_flat(body));
	free(body);
	/* alice's softphone answers her last declaration, unconfirmed (a fallback) */
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, ck_req(NULL, false), "127.0.8.5", &r);
	xmlDocPtr d = ck_held_located(&r);
	if (d) {
		char *method = xp_str(d, PIDF "/gp:method");
		char *note = xp_str(d, "/held:locationResponse/pidf:presence/pidf:tuple/"
				       "pidf:note");
		CHECK_STR(method, "Manual");
		CHECKF(note && strncmp(note, "unconfirmed", 11) == 0, "note %s", note);
		free(method);
		free(note);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
}

static void test_every_change_to_a_declaration_is_audited(void)
{
	/* alice: one insert by lisctl; bob: an insert, and the expiry by plain SQL */
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit WHERE user_key = "
			  "'alice' AND op = 'insert' AND via = 'lisctl' AND from_addr <> '' AND "
			  "old IS NULL AND new->>'rd' = 'Maple'") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit WHERE user_key = "
			  "'bob' AND op = 'update' AND via = 'sql' AND old->>'expires_at' <> "
			  "new->>'expires_at'") == 1);
	LISCTL_OK("declare", "alice", "home", "--confirm");
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "declarations", "alice", "--audit", (char *)NULL);
	ck_lisctl_ok("declarations", &p);
	CHECKF(strstr(p.out, "alice/home current confirmed ") && strstr(p.out, "(expired)") &&
	       strstr(p.out, " insert home by ") && strstr(p.out, " update home by ") &&
	       strstr(p.out, " via lisctl from "), "%s", th_flat(p.out));
	th_proc_free(&p);
}

/* The SBC names the softphone by its SIP URI (and the address it calls from): the endpoint's
 * owner is the user whose declared location answers. */
static void test_sbc_naming_a_softphone_by_uri_finds_its_users_declaration(void)
{
	LISCTL_OK("declare", "dora", "home", "--address-file", home_file, "--current");
	const char *by_uri = ck_req_device("<uri>sip:dora@example.com</uri>"
					   "<ip v=\"4\">127.0.8.20</ip>");
	struct th_resp r;
	/* the declaration reaches lisd with its next snapshot */
	for (int i = 0; i < 200; i++) {
		th_held_post(&E.lisd, &E.tls, by_uri, "127.0.0.2", &r);
		bool manual = r.body && strstr(r.body, "<gp:method>Manual</gp:method>");
		if (manual || i == 199)
			break;
		th_resp_free(&r);
		th_sleep_ms(100);
	}
	xmlDocPtr d = ck_held_located(&r);
	if (d) {
		char *rd = xp_str(d, PIDF "/gp:location-info/ca:civicAddress/ca:RD");
		char *method = xp_str(d, PIDF "/gp:method");
		CHECK_STR(rd, "Maple");
		CHECK_STR(method, "Manual");
		CHECK(xp_count(d, "/held:locationResponse/heldid:device/heldid:uri") == 1);
		free(rd);
		free(method);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
	CHECK(ck_log_has(&E.lisd, "requester=127.0.0.2 ", "source=declared", (char *)NULL));
}

static void test_staleness_report_lists_expired_declarations(void)
{
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "report", "staleness", "--format", "json", (char *)NULL);
	CHECKF(p.status == 0 && strstr(p.out, "\"stale_declarations\"") &&
	       strstr(p.out, "\"user\": \"alice\"") && strstr(p.out, "\"user\": \"bob\"") &&
	       strstr(p.out, "\"reason\": \"expired\""), "exit %d: %s %s", p.status,
	       th_flat(p.out), th_flat(p.err));
	th_proc_free(&p);
}

static void test_vpn_binding_ends_with_its_lifetime(void)
{
	LISCTL_OK("declare", "carol", "home", "--address-file", home_file, "--current");
	LISCTL_OK("vpn-bind", "127.0.8.7", "carol", "--ttl", "5");
	CHECKF(eventually("127.0.8.7", "Manual"), "carol's home not answered while bound");
	/* no write happens when the lifetime ends: lisd judges it by the clock */
	CHECKF(eventually("127.0.8.7", "error:locationUnknown"),
	       "127.0.8.7 still carol's after its lifetime");
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "explain", "--ip", "127.0.8.7", (char *)NULL);
	CHECKF(strstr(p.out, "ip 127.0.8.7 bound to user carol by the VPN concentrator, "
			     "expired ") && strstr(p.out, "expired: not evidence") &&
	       strstr(p.out, "premises: off premises: 127.0.8.7 is in remote subnet "
			     "127.0.8.0/24"), "%s", th_flat(p.out));
	th_proc_free(&p);
	th_lisctl(&p, E.pg.conninfo, "vpn-unbind", "127.0.8.7", (char *)NULL);
	ck_lisctl_ok("vpn-unbind", &p);
	CHECK(strstr(p.out, "removed the VPN binding of 127.0.8.7") != NULL);
	th_proc_free(&p);
}

static void test_explain_shows_the_policy_that_decided(void)
{
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "explain", "--ip", "127.0.8.5", (char *)NULL);
	CHECKF(p.status == 0 &&
	       strstr(p.out, "class: softphone (from VPN binding of 127.0.8.5); counts: port "
			     "bssid static subnet declared; bindings up to 900 s old; "
			     "declarations confirmed within 86400 s; with nothing fresh: "
			     "declared") &&
	       strstr(p.out, "user: alice") &&
	       strstr(p.out, "premises: off premises: 127.0.8.5 is a VPN address of user alice") &&
	       strstr(p.out, "winner: declared chosen, location alice/home (declared, no site), "
			     "method Manual"), "exit %d: %s", p.status, th_flat(p.out));
	th_proc_free(&p);
}

#define RUN(name) t_run(#name, test_##name)

int main(void)
{
	RUN(setup_wiremap_vpn_pool_and_lisd);
	if (!E.up) {
		t_skip("beyond the desk", "setup failed");
	} else {
		RUN(softphone_on_a_vpn_pool_address_is_not_answered_with_the_office);
		RUN(declared_home_address_is_answered_with_method_Manual);
		RUN(a_bad_address_is_refused_like_a_wiremap_location);
		RUN(sbc_naming_a_softphone_by_uri_finds_its_users_declaration);
		RUN(expired_declaration_is_answered_as_the_class_says);
		RUN(every_change_to_a_declaration_is_audited);
		RUN(staleness_report_lists_expired_declarations);
		RUN(vpn_binding_ends_with_its_lifetime);
		RUN(explain_shows_the_policy_that_decided);
	}
	if (E.up)
		th_lisd_stop(&E.lisd);
	th_pg_stop(&E.pg);
	free(home_file);
	return t_done();
}
