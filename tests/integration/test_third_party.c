/* Third-party requests (RFC 6155 device identity) and who may make them: a client TLS
 * certificate signed by the configured CA with an allowed subject, or an allowed source
 * address. Real certificates made with the openssl CLI; every answer checked by XPath. */
#include "check.h"
#include "corr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ck_env E;
static struct th_ca ca, other_ca;
static struct th_cert good, good2, wrong_ca, wrong_subject;

#define ID_IP10 "<ip v=\"4\">127.0.0.10</ip>"

static void test_setup_certificates_wiremap_and_lisd(void)
{
	if (!CHECK(th_ca_make(&ca, "LIS Test Client CA") == 0) ||
	    !CHECK(th_ca_make(&other_ca, "Someone Else's CA") == 0) ||
	    !CHECK(th_cert_make(&ca, "sbc1", "/O=Example/CN=sbc1.example.net", &good) == 0) ||
	    !CHECK(th_cert_make(&ca, "sbc2", "/O=Example/CN=sbc2.example.net", &good2) == 0) ||
	    !CHECK(th_cert_make(&other_ca, "sbc1-other", "/O=Example/CN=sbc1.example.net",
				&wrong_ca) == 0) ||
	    !CHECK(th_cert_make(&ca, "rogue", "/O=Example/CN=rogue.example.net",
				&wrong_subject) == 0))
		return;
	char auth[2048];
	snprintf(auth, sizeof auth,
		 "[auth]\n"
		 "client_ca = %s\n"
		 "allowed_subjects = CN=sbc1.example.net,O=Example;CN=sbc2.example.net,O=Example\n"
		 "allowed_addresses = 127.0.0.2, 127.0.3.0/24\n", ca.cert);
	ck_setup(&E, auth);
}

/* ---- authorized by certificate: every identity type ---- */

static void test_cert_authorized_ip_identity(void)
{
	ck_expect(&E, ck_req_device(ID_IP10), NULL, &good, "hq-410", "Wiremap", NULL,
		  false);
	/* the second subject of the list, with a locationType */
	ck_expect(&E, ck_req_device_type("<ip v=\"4\">127.0.0.14</ip>", "civic", true), NULL, &good2,
		  "hq-612", "Manual", NULL, false);
}

static void test_cert_authorized_mac_identity(void)
{
	/* MAC in another spelling than the wiremap's */
	ck_expect(&E, ck_req_device("<mac>00-50-B6-00-00-0B</mac>"), NULL, &good, "hq-floor4",
		  "Wiremap", NULL, false);
	/* a MAC on no port but with an observed BSSID */
	ck_expect(&E, ck_req_device("<mac>00:50:b6:00:00:0c</mac>"), NULL, &good, "hq-ap-west",
		  "802.11", NULL, false);
}

static void test_cert_authorized_sip_uri_identity(void)
{
	/* softphone alice: endpoint by SIP URI, its MAC on sw1 Gi1/0/9 */
	ck_expect(&E, ck_req_device("<uri>sip:alice@example.com</uri>"), NULL, &good, "hq-420",
		  "Wiremap", NULL, false);
}

static void test_cert_authorized_tel_identity(void)
{
	/* desk phone desk-612 by tel URI: its static location */
	ck_expect(&E, ck_req_device("<uri>tel:+15551230612</uri>"), NULL, &good, "hq-612", "Manual",
		  NULL, false);
}

static void test_cert_authorized_unknown_device_gives_locationUnknown(void)
{
	free(ck_expect_error(&E, ck_req_device("<mac>00:50:b6:ff:ff:fe</mac>"), NULL, &good,
			     "locationUnknown"));
	free(ck_expect_error(&E, ck_req_device("<uri>sip:nobody@example.com</uri>"), NULL, &good,
			     "locationUnknown"));
}

static void test_unsupported_identifier_type_gives_badIdentifier(void)
{
	free(ck_expect_error(&E, ck_req_device("<fqdn>pc1.example.com</fqdn>"), NULL, &good,
			     "badIdentifier"));
}

/* RFC 6915 flow identity is not supported: refused for authorized requesters too, whether
 * the flow stands beside the device or inside it, and never answered for the requester. */
static void test_flow_identity_gives_badIdentifier_even_when_authorized(void)
{
	const char *flow = "<flow xmlns=\"urn:ietf:params:xml:ns:geopriv:held:flow\" "
			   "layer3=\"ipv4\" layer4=\"udp\"><src><address>127.0.0.10</address>"
			   "<port>5060</port></src><dst><address>192.0.2.1</address>"
			   "<port>5060</port></dst></flow>";
	char req[1024];
	snprintf(req, sizeof req, "<locationRequest xmlns=\"" HELD_NS "\">%s</locationRequest>",
		 flow);
	char *b = ck_expect_error(&E, req, "127.0.0.10", &good, "badIdentifier");
	CHECKF(strstr(b, "RFC 6915") && !strstr(b, "Broadway"), "%s", th_flat(b));
	free(b);
	char id[1024];
	snprintf(id, sizeof id, "%s%s", ID_IP10, flow);
	b = ck_expect_error(&E, ck_req_device(id), NULL, &good, "badIdentifier");
	CHECKF(strstr(b, "RFC 6915") != NULL, "%s", th_flat(b));
	free(b);
}

/* ---- refused ---- */

/* The refusal is badIdentifier; a TLS-level refusal of a bad certificate is also a refusal
 * (the connection then carries no HELD at all). */
static void expect_refused(const char *req, const char *from, const struct th_cert *cert,
			   const char *what)
{
	struct th_resp r;
	th_held_post_cert(&E.lisd, &E.tls, req, from, cert, &r);
	if (r.curl_code != 0) {
		t_diag("%s: refused at the TLS layer (%s)", what, r.errbuf);
	} else {
		ck_held_error(&r, "badIdentifier");
		xmlDocPtr d = xp_parse(r.body, r.body_len);
		CHECKF(xp_count(d, "//ca:* | //pidf:* | //held:locationUriSet | //heldid:*") == 0,
		       "%s: location or device in a refusal: %s", what, th_flat(r.body));
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
}

static void test_no_certificate_is_refused(void)
{
	expect_refused(ck_req_device(ID_IP10), NULL, NULL, "no certificate");
	expect_refused(ck_req_device("<uri>sip:alice@example.com</uri>"), "127.0.0.1", NULL,
		       "no certificate (uri)");
	if (!CHECK(ck_log_has(&E.lisd, "requester=127.0.0.1 ", "result=badIdentifier",
			      "reason=unauthorized", (char *)NULL)))
		ck_log_tail(&E.lisd, 1500);
}

static void test_certificate_from_another_ca_is_refused(void)
{
	expect_refused(ck_req_device(ID_IP10), NULL, &wrong_ca, "other CA");
}

static void test_certificate_subject_not_on_the_list_is_refused(void)
{
	struct th_resp r;
	th_held_post_cert(&E.lisd, &E.tls, ck_req_device(ID_IP10), NULL, &wrong_subject, &r);
	/* a valid certificate of the right CA: TLS must succeed, HELD refuses */
	ck_held_error(&r, "badIdentifier");
	th_resp_free(&r);
}

static void test_refusal_identical_for_existing_and_nonexisting_devices(void)
{
	const char *pairs[][2] = {
		{ID_IP10, "<ip v=\"4\">127.0.0.99</ip>"},
		{"<mac>00:50:b6:00:00:0a</mac>", "<mac>00:50:b6:ff:ff:fe</mac>"},
		{"<uri>sip:alice@example.com</uri>", "<uri>sip:nobody@example.com</uri>"},
		{"<uri>tel:+15551230612</uri>", "<uri>tel:+15550000000</uri>"},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		char *a = ck_expect_error(&E, ck_req_device(pairs[i][0]), "127.0.0.5", NULL,
					  "badIdentifier");
		char *b = ck_expect_error(&E, ck_req_device(pairs[i][1]), "127.0.0.5", NULL,
					  "badIdentifier");
		/* byte for byte: the refusal tells nothing about the device */
		CHECKF(strcmp(a, b) == 0, "existing: %s | missing: %s", th_flat(a), th_flat(b));
		free(a);
		free(b);
	}
	/* with the wrong-subject certificate as well */
	struct th_resp r1, r2;
	th_held_post_cert(&E.lisd, &E.tls, ck_req_device(ID_IP10), NULL, &wrong_subject, &r1);
	th_held_post_cert(&E.lisd, &E.tls, ck_req_device("<ip v=\"4\">127.0.0.99</ip>"), NULL,
			  &wrong_subject, &r2);
	CHECK(r1.curl_code == 0 && r2.curl_code == 0);
	CHECKF(r1.body && r2.body && strcmp(r1.body, r2.body) == 0, "%s | %s", th_flat(r1.body),
	       th_flat(r2.body));
	th_resp_free(&r1);
	th_resp_free(&r2);
}

/* ---- authorized by address ---- */

static void test_address_allow_list_authorizes_every_identity_type(void)
{
	ck_expect(&E, ck_req_device(ID_IP10), "127.0.0.2", NULL, "hq-410", "Wiremap",
		  NULL, false);
	ck_expect(&E, ck_req_device("<mac>0050.b600.000b</mac>"), "127.0.0.2", NULL, "hq-floor4",
		  "Wiremap", NULL, false);
	ck_expect(&E, ck_req_device("<uri>sip:alice@example.com</uri>"), "127.0.0.2", NULL, "hq-420",
		  "Wiremap", NULL, false);
	ck_expect(&E, ck_req_device("<uri>tel:+15551230612</uri>"), "127.0.0.2", NULL, "hq-612",
		  "Manual", NULL, false);
}

static void test_address_allow_list_prefix_authorizes(void)
{
	ck_expect(&E, ck_req_device(ID_IP10), "127.0.3.7", NULL, "hq-410", "Wiremap",
		  NULL, false);
	/* just outside the /24 */
	expect_refused(ck_req_device(ID_IP10), "127.0.4.7", NULL, "outside the prefix");
}

/* ---- about oneself ---- */

static void test_softphone_asking_about_itself_needs_no_certificate(void)
{
	/* alice's softphone at 127.0.0.50: plainly, and naming its own IP address */
	ck_expect(&E, ck_req(NULL, false), "127.0.0.50", NULL, "hq-420", "Wiremap", NULL,
		  false);
	ck_expect(&E, ck_req_device("<ip v=\"4\">127.0.0.50</ip>"), "127.0.0.50", NULL, "hq-420",
		  "Wiremap", NULL, false);
}

/* ---- RFC 6155 §2.2: the device echoed in successful third-party answers ---- */

/* One expected identifier of the echo: element, text, and for ip its v. */
struct echoed {
	const char *element, *text, *v;
};

/* The answer ends with heldid:device holding exactly want[0..n), in order. */
static void expect_echo(const char *req, const char *from, const struct th_cert *cert,
			const struct echoed *want, size_t n)
{
	struct th_resp r;
	th_held_post_cert(&E.lisd, &E.tls, req, from, cert, &r);
	xmlDocPtr d = ck_held_located(&r);
	if (d) {
		CHECKF(xp_count(d, "/held:locationResponse/heldid:device") == 1 &&
		       xp_count(d, "/held:locationResponse/*[last()][self::heldid:device]") == 1,
		       "no device echo at the end: %s", th_flat(r.body));
		CHECKF(xp_count(d, "/held:locationResponse/heldid:device/*") == (int)n, "%s",
		       th_flat(r.body));
		for (size_t i = 0; i < n; i++) {
			char x[200], ln[220];
			snprintf(x, sizeof x, "/held:locationResponse/heldid:device/*[%zu]", i + 1);
			snprintf(ln, sizeof ln, "local-name(%s)", x);
			char *name = xp_str(d, ln);
			char *text = xp_str(d, x);
			CHECKF(strcmp(name, want[i].element) == 0 &&
			       strcmp(text, want[i].text) == 0,
			       "identifier %zu: <%s>%s, want <%s>%s", i + 1, name, text,
			       want[i].element, want[i].text);
			free(name);
			free(text);
			if (want[i].v) {
				snprintf(ln, sizeof ln, "%s/@v", x);
				char *v = xp_str(d, ln);
				CHECK_STR(v, want[i].v);
				free(v);
			}
		}
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
}

/* "A LIS that supports this specification echoes the "device" element in a successful HELD
 * response, including the identifiers that were used as the basis for location
 * determination." Each identifier the request gave, as given (a MAC in the schema's hyphen
 * form), whoever authorized the requester. */
static void test_third_party_answers_echo_the_device(void)
{
	const struct echoed ip10[] = {{"ip", "127.0.0.10", "4"}};
	expect_echo(ck_req_device(ID_IP10), NULL, &good, ip10, 1);
	const struct echoed mac[] = {{"mac", "00-50-B6-00-00-0B", NULL}};
	expect_echo(ck_req_device("<mac>00-50-B6-00-00-0B</mac>"), "127.0.0.2", NULL, mac, 1);
	const struct echoed cisco[] = {{"mac", "00-50-B6-00-00-0B", NULL}};
	expect_echo(ck_req_device("<mac>0050.b600.000b</mac>"), "127.0.0.2", NULL, cisco, 1);
	const struct echoed sip[] = {{"uri", "sip:alice@example.com", NULL}};
	expect_echo(ck_req_device("<uri>sip:alice@example.com</uri>"), NULL, &good, sip, 1);
	const struct echoed tel[] = {{"uri", "tel:+15551230612", NULL}};
	expect_echo(ck_req_device_type("<uri>tel:+15551230612</uri>", "civic", true), NULL,
		    &good, tel, 1);
	/* two identifiers of the same device, in the order given */
	const struct echoed two[] = {{"mac", "00-50-b6-00-00-0a", NULL},
				     {"ip", "127.0.0.10", "4"}};
	expect_echo(ck_req_device("<mac>00-50-b6-00-00-0a</mac>" ID_IP10), "127.0.3.9", NULL,
		    two, 2);
}

/* "Absence of this indication means that the location information was generated using the
 * source IP address in the request": no echo when lisd located the requester itself. */
static void test_first_party_answers_echo_nothing(void)
{
	const char *reqs[] = {ck_req(NULL, false),
			      ck_req_device("<ip v=\"4\">127.0.0.50</ip>")};
	for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
		struct th_resp r;
		th_held_post(&E.lisd, &E.tls, reqs[i], "127.0.0.50", &r);
		xmlDocPtr d = ck_held_located(&r);
		if (d)
			CHECKF(xp_count(d, "//heldid:*") == 0, "case %zu: %s", i, th_flat(r.body));
		xmlFreeDoc(d);
		th_resp_free(&r);
	}
	/* nor in an error */
	char *b = ck_expect_error(&E, ck_req_device("<mac>00:50:b6:ff:ff:fe</mac>"), NULL, &good,
				  "locationUnknown");
	CHECKF(strstr(b, HELDID_NS) == NULL, "%s", th_flat(b));
	free(b);
}

/* RFC 6155 §1.1: a request naming a device is third-party "unless [the LIS] is able to
 * ensure that the provided Device identity is uniquely attributable to the requestor". The
 * wiremap shows it: alice's softphone (endpoint with sip:alice@example.com, MAC ...0a:11) is
 * the one MAC freshly bound to 127.0.0.50, so naming itself needs no certificate; it is
 * located as itself (by its address: no echo) and the log says auth=same-device. */
static void test_device_naming_its_own_identity_is_first_party(void)
{
	static const struct {
		const char *from, *id, *loc, *method;
	} self[] = {
		{"127.0.0.50", "<uri>sip:alice@example.com</uri>", "hq-420", "Wiremap"},
		{"127.0.0.50", "<uri>sip:alice@example.com</uri><ip v=\"4\">127.0.0.50</ip>",
		 "hq-420", "Wiremap"},
		{"127.0.0.14", "<uri>tel:+15551230612</uri>", "hq-612", "Manual"},
		{"127.0.0.10", "<mac>00-50-B6-00-00-0A</mac>", "hq-410", "Wiremap"},
	};
	for (size_t i = 0; i < sizeof self / sizeof self[0]; i++) {
		struct th_resp r;
		th_held_post(&E.lisd, &E.tls, ck_req_device(self[i].id), self[i].from, &r);
		xmlDocPtr d = ck_held_located(&r);
		if (d) {
			ck_pidf(d, "/held:locationResponse/pidf:presence", self[i].loc,
				self[i].method, NULL, false);
			CHECKF(xp_count(d, "//heldid:*") == 0, "echo in a first-party answer: %s",
			       th_flat(r.body));
		}
		xmlFreeDoc(d);
		th_resp_free(&r);
	}
	if (!CHECK(ck_log_has(&E.lisd, "requester=127.0.0.50 ", "result=located",
			      "auth=same-device", (char *)NULL)))
		ck_log_tail(&E.lisd, 1500);
}

/* Someone else's identity, or one the wiremap cannot tie to the requester's address, stays
 * third-party: refused without authorization, as before. */
static void test_identity_of_another_device_stays_third_party(void)
{
	/* 127.0.0.10's MAC is not alice's; 127.0.0.50 is not the desk phone */
	expect_refused(ck_req_device("<uri>sip:alice@example.com</uri>"), "127.0.0.10", NULL,
		       "alice's URI from 127.0.0.10");
	expect_refused(ck_req_device("<uri>tel:+15551230612</uri>"), "127.0.0.50", NULL,
		       "desk phone's tel from 127.0.0.50");
	/* one identifier of the requester's, one not */
	expect_refused(ck_req_device("<uri>sip:alice@example.com</uri>"
				     "<mac>00-50-B6-00-00-0A</mac>"), "127.0.0.50", NULL,
		       "alice's URI with another MAC");
	/* no binding of the requester's address: nothing ties the URI to it */
	expect_refused(ck_req_device("<uri>sip:alice@example.com</uri>"), "127.0.0.5", NULL,
		       "alice's URI from an unbound address");
}

static void test_sigterm_stops_lisd_cleanly(void)
{
	int rc = th_lisd_stop(&E.lisd);
	CHECKF(rc == 0, "lisd exit %d", rc);
	if (rc != 0)
		ck_log_tail(&E.lisd, 1500);
}

int main(void)
{
	t_run("setup_certificates_wiremap_and_lisd", test_setup_certificates_wiremap_and_lisd);
	if (!E.up) {
		t_skip("third-party cases", "setup failed");
		return t_done();
	}
	t_run("cert_authorized_ip_identity", test_cert_authorized_ip_identity);
	t_run("cert_authorized_mac_identity", test_cert_authorized_mac_identity);
	t_run("cert_authorized_sip_uri_identity", test_cert_authorized_sip_uri_identity);
	t_run("cert_authorized_tel_identity", test_cert_authorized_tel_identity);
	t_run("cert_authorized_unknown_device_gives_locationUnknown",
	      test_cert_authorized_unknown_device_gives_locationUnknown);
	t_run("unsupported_identifier_type_gives_badIdentifier",
	      test_unsupported_identifier_type_gives_badIdentifier);
	t_run("flow_identity_gives_badIdentifier_even_when_authorized",
	      test_flow_identity_gives_badIdentifier_even_when_authorized);
	t_run("no_certificate_is_refused", test_no_certificate_is_refused);
	t_run("certificate_from_another_ca_is_refused", test_certificate_from_another_ca_is_refused);
	t_run("certificate_subject_not_on_the_list_is_refused",
	      test_certificate_subject_not_on_the_list_is_refused);
	t_run("refusal_identical_for_existing_and_nonexisting_devices",
	      test_refusal_identical_for_existing_and_nonexisting_devices);
	t_run("address_allow_list_authorizes_every_identity_type",
	      test_address_allow_list_authorizes_every_identity_type);
	t_run("address_allow_list_prefix_authorizes", test_address_allow_list_prefix_authorizes);
	t_run("softphone_asking_about_itself_needs_no_certificate",
	      test_softphone_asking_about_itself_needs_no_certificate);
	t_run("third_party_answers_echo_the_device", test_third_party_answers_echo_the_device);
	t_run("first_party_answers_echo_nothing", test_first_party_answers_echo_nothing);
	t_run("device_naming_its_own_identity_is_first_party",
	      test_device_naming_its_own_identity_is_first_party);
	t_run("identity_of_another_device_stays_third_party",
	      test_identity_of_another_device_stays_third_party);
	t_run("sigterm_stops_lisd_cleanly", test_sigterm_stops_lisd_cleanly);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
