/* The correlation engine end to end: a real PostgreSQL holding the wiremap of
 * tests/data/integration/correlation (see its README for who is where), a real lisd over TLS
 * answering from its in-memory snapshot, requests from chosen loopback addresses. Each step
 * of the chain, precedence, staleness, and a site disagreement; every PIDF-LO is checked
 * element by element (corr.c: ck_pidf). */
#include "check.h"
#include "corr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ck_env E;

static void test_setup_wiremap_and_lisd(void)
{
	ck_setup(&E, NULL);
}

/* ---- each step of the chain ---- */

static void test_ip_to_mac_to_port_gives_port_location_method_Wiremap(void)
{
	/* 127.0.0.10 -> ip-mac 00:50:b6:00:00:0a -> sw1 Gi1/0/7 -> hq-410 */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.10", NULL, "hq-410", "Wiremap", NULL,
		  false);
	ck_expect(&E, ck_req("civic", true), "127.0.0.10", NULL, "hq-410", "Wiremap",
		  NULL, false);
}

static void test_port_without_location_gives_its_switchs_location(void)
{
	/* sw1 Gi1/0/8 has no location: sw1's hq-floor4 */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.11", NULL, "hq-floor4", "Wiremap",
		  NULL, false);
}

static void test_observed_mac_bssid_binding_gives_method_802_11(void)
{
	ck_expect(&E, ck_req(NULL, false), "127.0.0.12", NULL, "hq-ap-west", "802.11",
		  NULL, false);
}

static void test_client_reported_bssid_in_range_gives_method_802_11(void)
{
	/* RFC 7105 serving AP 00-12-f0-a0-80-ef is inside 00:12:f0:a0:80:e0/44 (ap-east, site
	 * hq); the requester 127.0.0.13 has no binding, but its subnet is at hq: the network
	 * backs the claim, and the AP refines the subnet */
	ck_expect(&E, ck_req_wifi("00-12-f0-a0-80-ef"), "127.0.0.13", NULL, "hq-ap-east", "802.11",
		  NULL, false);
	/* the first BSSID of the range too */
	ck_expect(&E, ck_req_wifi("00:12:F0:A0:80:E0"), "127.0.0.13", NULL, "hq-ap-east", "802.11",
		  NULL, false);
}

static void test_client_reported_bssid_outside_every_range_is_no_evidence(void)
{
	/* 00-12-f0-a0-80-f0 is one past the /44: only the subnet is known of 127.0.0.13 */
	ck_expect(&E, ck_req_wifi("00-12-f0-a0-80-f0"), "127.0.0.13", NULL, "hq-floor4",
		  "Wiremap", NULL, true);
}

static bool unverified_logged(void *ctx)
{
	(void)ctx;
	return th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE requester_ip = "
			   "'127.0.2.5' AND source = 'subnet' AND evidence LIKE "
			   "'%client-bssid serving bssid 00:12:f0:a0:80:ef%unverified%'") > 0;
}

/* A client may name any access point. One the network's evidence does not put in the
 * requester's site moves nothing: 127.0.2.5's subnet is campus, it claims an hq AP, campus
 * answers, and the log lists the claim as unverified. */
static void test_client_reported_bssid_the_network_does_not_back_moves_nothing(void)
{
	ck_expect(&E, ck_req_wifi("00-12-f0-a0-80-ef"), "127.0.2.5", NULL, "campus", "Wiremap",
		  NULL, true);
	CHECK(ck_log_has(&E.lisd, "requester=127.0.2.5 ", "source=subnet", (char *)NULL));
	CHECKF(th_wait_until(60, 50, unverified_logged, NULL, NULL),
	       "no query_log row of 127.0.2.5 with the claim unverified");
}

static void test_static_endpoint_assignment_gives_method_Manual(void)
{
	/* 127.0.0.14 -> desk phone desk-612 (MAC 00:50:b6:00:06:12), no port seen: its static
	 * location */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.14", NULL, "hq-612", "Manual", NULL,
		  false);
}

static void test_subnet_fallback_gives_Wiremap_with_a_fallback_note(void)
{
	ck_expect(&E, ck_req(NULL, false), "127.0.2.5", NULL, "campus", "Wiremap", NULL, true);
}

static void test_site_default_answers_where_the_site_allows_it(void)
{
	/* sw2 ge-0/0/1: no port, no switch location; site hq allows its default hq-lobby */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.15", NULL, "hq-lobby", "Manual", NULL,
		  true);
}

static void test_site_default_not_used_where_the_site_forbids_it(void)
{
	/* sw3 Gi0/1 at site branch, which has a default but allow_default=false */
	char *b = ck_expect_error(&E, ck_req(NULL, false), "127.0.0.16", NULL, "locationUnknown");
	xmlDocPtr d = xp_parse(b, strlen(b));
	/* nothing of the forbidden default leaks */
	CHECK(xp_count(d, "//pidf:presence | //ca:civicAddress") == 0);
	xmlFreeDoc(d);
	free(b);
}

static void test_no_evidence_at_all_gives_locationUnknown(void)
{
	free(ck_expect_error(&E, ck_req(NULL, false), "127.0.0.99", NULL, "locationUnknown"));
}

/* ---- precedence: port > BSSID > static > subnet ---- */

static void test_port_beats_bssid_static_and_subnet(void)
{
	/* 127.0.0.20: port Gi1/0/9 (hq-420), ap-west binding, static hq-612, subnet campus */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.20", NULL, "hq-420", "Wiremap", NULL,
		  false);
	/* and beats a BSSID the client reports */
	ck_expect(&E, ck_req_wifi("00-12-f0-a0-80-e3"), "127.0.0.20", NULL, "hq-420", "Wiremap",
		  NULL, false);
}

static void test_bssid_beats_static_and_subnet(void)
{
	ck_expect(&E, ck_req(NULL, false), "127.0.0.21", NULL, "hq-ap-west", "802.11",
		  NULL, false);
}

static void test_static_beats_subnet_and_a_reported_bssid(void)
{
	ck_expect(&E, ck_req(NULL, false), "127.0.0.22", NULL, "hq-612", "Manual", NULL,
		  false);
	/* the client's word ranks below what an operator assigned */
	ck_expect(&E, ck_req_wifi("00-12-f0-a0-80-e1"), "127.0.0.22", NULL, "hq-612", "Manual",
		  NULL, false);
}

/* ---- staleness: bindings older than max_binding_age are not evidence ---- */

static void test_stale_port_binding_ignored_next_source_answers(void)
{
	/* 127.0.0.30: its port binding (Gi1/0/7, hq-410) is 3 days old; ap-west is fresh */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.30", NULL, "hq-ap-west", "802.11",
		  NULL, false);
}

static void test_stale_ip_mac_binding_ignored_subnet_answers(void)
{
	/* 127.0.0.31: ip-mac is 3 days old (its MAC sits fresh on Gi1/0/7); a stale binding
	 * is not evidence, so no MAC is known and the subnet answers, as a fallback */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.31", NULL, "campus", "Wiremap", NULL, true);
}

/* ---- disagreement ---- */

static void test_port_and_subnet_disagree_port_answers_and_lisd_logs_it(void)
{
	/* 127.0.0.40: port says hq-410 (site hq), subnet says branch-2 (site branch) */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.40", NULL, "hq-410", "Wiremap", NULL,
		  false);
	if (!CHECKF(ck_log_has(&E.lisd, "requester=127.0.0.40 ", "disagree=", (char *)NULL),
		    "no HELD log line for 127.0.0.40 with disagree=..."))
		ck_log_tail(&E.lisd, 1500);
	/* an agreeing answer logs no disagreement (its line written first) */
	CHECK(ck_log_has(&E.lisd, "requester=127.0.0.10 ", "result=located", (char *)NULL));
	CHECK(ck_log_lacks(&E.lisd, "requester=127.0.0.10 ", "disagree=", (char *)NULL));
}

static void test_held_log_line_names_source_location_and_snapshot_age(void)
{
	bool ok = CHECK(ck_log_has(&E.lisd, "held ", "requester=127.0.0.10 ", "result=located",
				   "source=port", "location=hq-410", "snapshot_age=", "ms=",
				   (char *)NULL));
	ok = CHECK(ck_log_has(&E.lisd, "requester=127.0.0.11 ", "source=switch",
			      "location=hq-floor4", (char *)NULL)) && ok;
	ok = CHECK(ck_log_has(&E.lisd, "requester=127.0.0.12 ", "source=bssid", (char *)NULL)) && ok;
	ok = CHECK(ck_log_has(&E.lisd, "requester=127.0.0.14 ", "source=static", (char *)NULL)) && ok;
	ok = CHECK(ck_log_has(&E.lisd, "requester=127.0.2.5 ", "source=subnet", (char *)NULL)) && ok;
	ok = CHECK(ck_log_has(&E.lisd, "requester=127.0.0.15 ", "source=site-default",
			      (char *)NULL)) && ok;
	ok = CHECK(ck_log_has(&E.lisd, "requester=127.0.0.16 ", "result=locationUnknown",
			      (char *)NULL)) && ok;
	if (!ok)
		ck_log_tail(&E.lisd, 1500);
}

/* ---- RFC 5985 §6.6: the PIDF-LO names the device only where a Rule Maker allows it ---- */

static struct th_lisd deref;    /* uri_base set, [privacy] as by default */
static struct th_lisd named;    /* uri_base set, include_device_id = true */

static void test_setup_lisds_with_location_uris(void)
{
	CHECK(ck_lisd_start(&E, &deref, "[held]\nuri_base = https://127.0.0.1:{PORT}/loc/\n"));
	CHECK(ck_lisd_start(&E, &named, "[held]\nuri_base = https://127.0.0.1:{PORT}/loc/\n"
			    "[privacy]\ninclude_device_id = true\n"));
}

/* Nothing in body names the device 00:50:b6:00:00:0a in any spelling. */
static void check_device_not_named(const char *what, const struct th_resp *r)
{
	if (!CHECKF(r->curl_code == 0 && r->body, "%s: %s", what, r->errbuf))
		return;
	xmlDocPtr d = xp_parse(r->body, r->body_len);
	CHECKF(d && xp_count(d, "//pidf:presence") == 1, "%s: no presence: %s", what,
	       th_flat(r->body));
	CHECKF(xp_count(d, "//dm:*") == 0, "%s: %s", what, th_flat(r->body));
	CHECKF(!strstr(r->body, "0050b600000a") && !strstr(r->body, "00:50:b6:00:00:0a") &&
	       !strstr(r->body, "00-50-b6-00-00-0a"), "%s: the MAC is in %s", what,
	       th_flat(r->body));
	xmlFreeDoc(d);
}

/* RFC 5985 §6.6: "The LIS MUST NOT include any means of identifying the Device in the
 * PIDF-LO unless ... inclusion of identity is expressly permitted by a Rule Maker" and
 * "deviceID" elements "are not used". lisd knows the MAC of 127.0.0.10 and still does not
 * send it: each location goes in a tuple. */
static void test_device_is_not_named_although_its_mac_is_known(void)
{
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, ck_req(NULL, false), "127.0.0.10", &r);
	check_device_not_named("HELD", &r);
	th_resp_free(&r);
	ck_expect(&E, ck_req("civic geodetic", false), "127.0.0.10", NULL, "hq-410", "Wiremap",
		  NULL, false);
}

/* A location URI leads to a document built the same way: whoever holds the URI learns the
 * location, not the device (RFC 6753 §6: only an unlinked pseudonym unless policy allows
 * identity disclosure). GET and POST alike. */
static char *issue_uri(const struct th_lisd *l, const char *from)
{
	struct th_resp r;
	th_held_post(l, &E.tls, ck_req("locationURI", true), from, &r);
	xmlDocPtr d = r.curl_code == 0 ? xp_parse(r.body, r.body_len) : NULL;
	char *uri = d && xp_count(d, "//held:locationURI") == 1
			    ? xp_str(d, "normalize-space(//held:locationURI)") : NULL;
	CHECKF(uri != NULL, "no location URI: %s", th_flat(r.body));
	xmlFreeDoc(d);
	th_resp_free(&r);
	return uri;
}

static void test_dereference_does_not_name_the_device(void)
{
	char *uri = issue_uri(&deref, "127.0.0.10");
	if (!uri)
		return;
	struct th_req g = {.method = "GET", .url = uri, .cafile = E.tls.cert};
	struct th_resp r;
	th_https(&g, &r);
	CHECKF(r.status == 200, "GET: HTTP %ld", r.status);
	check_device_not_named("GET", &r);
	th_resp_free(&r);
	struct th_req p = {.url = uri, .content_type = "application/held+xml",
		.body = ck_req(NULL, false), .cafile = E.tls.cert};
	th_https(&p, &r);
	check_device_not_named("POST", &r);
	th_resp_free(&r);
	free(uri);
}

/* [privacy] include_device_id = true is the Rule Maker's permission: each location goes in a
 * dm:device with dm:deviceID mac:..., in answers and dereferences. */
static void test_include_device_id_names_the_device_where_allowed(void)
{
	struct th_resp r;
	th_held_post(&named, &E.tls, ck_req(NULL, false), "127.0.0.10", &r);
	xmlDocPtr d = ck_held_located(&r);
	if (d)
		ck_pidf(d, "/held:locationResponse/pidf:presence", "hq-410", "Wiremap",
			"0050b600000a", false);
	xmlFreeDoc(d);
	th_resp_free(&r);
	/* no MAC known (subnet fallback): a tuple all the same */
	th_held_post(&named, &E.tls, ck_req(NULL, false), "127.0.2.5", &r);
	d = ck_held_located(&r);
	if (d)
		ck_pidf(d, "/held:locationResponse/pidf:presence", "campus", "Wiremap", NULL, true);
	xmlFreeDoc(d);
	th_resp_free(&r);
	char *uri = issue_uri(&named, "127.0.0.10");
	if (!uri)
		return;
	struct th_req g = {.method = "GET", .url = uri, .cafile = E.tls.cert};
	th_https(&g, &r);
	d = r.body ? xp_parse(r.body, r.body_len) : NULL;
	char *id = d ? xp_str(d, "string(//pidf:presence/dm:device/dm:deviceID)") : NULL;
	CHECKF(id && strcmp(id, "mac:0050b600000a") == 0, "GET: %s", th_flat(r.body));
	free(id);
	xmlFreeDoc(d);
	th_resp_free(&r);
	free(uri);
}

static void test_sigterm_stops_lisd_cleanly(void)
{
	int rc = th_lisd_stop(&E.lisd);
	CHECKF(rc == 0, "lisd exit %d", rc);
	CHECK(deref.pid == 0 || th_lisd_stop(&deref) == 0);
	CHECK(named.pid == 0 || th_lisd_stop(&named) == 0);
	if (rc != 0)
		ck_log_tail(&E.lisd, 1500);
}

int main(void)
{
	t_run("setup_wiremap_and_lisd", test_setup_wiremap_and_lisd);
	if (!E.up) {
		t_skip("correlation cases", "setup failed");
		return t_done();
	}
	t_run("ip_to_mac_to_port_gives_port_location_method_Wiremap",
	      test_ip_to_mac_to_port_gives_port_location_method_Wiremap);
	t_run("port_without_location_gives_its_switchs_location",
	      test_port_without_location_gives_its_switchs_location);
	t_run("observed_mac_bssid_binding_gives_method_802_11",
	      test_observed_mac_bssid_binding_gives_method_802_11);
	t_run("client_reported_bssid_in_range_gives_method_802_11",
	      test_client_reported_bssid_in_range_gives_method_802_11);
	t_run("client_reported_bssid_outside_every_range_is_no_evidence",
	      test_client_reported_bssid_outside_every_range_is_no_evidence);
	t_run("client_reported_bssid_the_network_does_not_back_moves_nothing",
	      test_client_reported_bssid_the_network_does_not_back_moves_nothing);
	t_run("static_endpoint_assignment_gives_method_Manual",
	      test_static_endpoint_assignment_gives_method_Manual);
	t_run("subnet_fallback_gives_Wiremap_with_a_fallback_note",
	      test_subnet_fallback_gives_Wiremap_with_a_fallback_note);
	t_run("site_default_answers_where_the_site_allows_it",
	      test_site_default_answers_where_the_site_allows_it);
	t_run("site_default_not_used_where_the_site_forbids_it",
	      test_site_default_not_used_where_the_site_forbids_it);
	t_run("no_evidence_at_all_gives_locationUnknown", test_no_evidence_at_all_gives_locationUnknown);
	t_run("port_beats_bssid_static_and_subnet", test_port_beats_bssid_static_and_subnet);
	t_run("bssid_beats_static_and_subnet", test_bssid_beats_static_and_subnet);
	t_run("static_beats_subnet_and_a_reported_bssid",
	      test_static_beats_subnet_and_a_reported_bssid);
	t_run("stale_port_binding_ignored_next_source_answers",
	      test_stale_port_binding_ignored_next_source_answers);
	t_run("stale_ip_mac_binding_ignored_subnet_answers",
	      test_stale_ip_mac_binding_ignored_subnet_answers);
	t_run("port_and_subnet_disagree_port_answers_and_lisd_logs_it",
	      test_port_and_subnet_disagree_port_answers_and_lisd_logs_it);
	t_run("held_log_line_names_source_location_and_snapshot_age",
	      test_held_log_line_names_source_location_and_snapshot_age);
	t_run("setup_lisds_with_location_uris", test_setup_lisds_with_location_uris);
	t_run("device_is_not_named_although_its_mac_is_known",
	      test_device_is_not_named_although_its_mac_is_known);
	t_run("dereference_does_not_name_the_device", test_dereference_does_not_name_the_device);
	t_run("include_device_id_names_the_device_where_allowed",
	      test_include_device_id_names_the_device_where_allowed);
	t_run("sigterm_stops_lisd_cleanly", test_sigterm_stops_lisd_cleanly);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
