/* held_parse_request(): RFC 5985 request shapes, RFC 6155 device identity, and hostile
 * input (DTDs, entities, depth, size, encoding). */
#include "check.h"
#include "held.h"
#include "schema_check.h"

#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define HELD "urn:ietf:params:xml:ns:geopriv:held"
#define HELDID "urn:ietf:params:xml:ns:geopriv:held:id"
#define LM "urn:ietf:params:xml:ns:geopriv:lm"
#define LMW "urn:ietf:params:xml:ns:geopriv:lm:wifi"

static struct held_request req;
static struct lis_error err;

static int parse_with(const char *doc, size_t len, const struct held_limits *limits)
{
	memset(&err, 0, sizeof err);
	return held_parse_request(doc, len, limits, &req, &err);
}

static int parse(const char *doc)
{
	return parse_with(doc, strlen(doc), NULL);
}

/* A locationRequest with the given attributes and body. */
static int parse_req(const char *attrs, const char *body)
{
	char buf[8192];
	int n = snprintf(buf, sizeof buf,
			 "<locationRequest xmlns=\"" HELD "\"%s%s>%s</locationRequest>",
			 attrs[0] ? " " : "", attrs, body);
	if (!CHECKF(n > 0 && (size_t)n < sizeof buf, "request of %d bytes", n))
		return -1;
	return parse(buf);
}

/* The parsed locationType in words, in the order kept: "any" when the list is empty. */
static const char *lt(void)
{
	static char buf[64];
	static const char *const names[] = {"civic", "geodetic", "locationURI"};
	buf[0] = '\0';
	for (size_t i = 0; i < req.loctypes.n; i++) {
		unsigned f = (unsigned)req.loctypes.form[i];
		const char *name = f == HELD_LT_CIVIC ? names[0] : f == HELD_LT_GEODETIC ? names[1]
			: f == HELD_LT_URI ? names[2] : "?";
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? " " : "", name);
	}
	return buf[0] ? buf : "any";
}

/* err.msg must be fit to send to a client: short printable ASCII. */
static bool msg_is_clean(void)
{
	size_t n = strlen(err.msg);
	if (n == 0 || n >= sizeof err.msg)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)err.msg[i] < 0x20 || (unsigned char)err.msg[i] > 0x7e)
			return false;
	return true;
}

static void expect_fault(int rc, enum held_error_code code, const char *in_msg)
{
	CHECKF(rc == -1, "rc %d", rc);
	CHECKF(err.code == LIS_E_HELD && err.held == (int)code, "code %s, want %s (msg: %s)",
	       held_error_code_name(err.held) ? held_error_code_name(err.held) : "?",
	       held_error_code_name(code), err.msg);
	CHECKF(msg_is_clean(), "message not clean: \"%s\"", err.msg);
	if (in_msg)
		CHECKF(strstr(err.msg, in_msg) != NULL, "\"%s\" not in \"%s\"", in_msg, err.msg);
	/* a refused request leaves nothing half-parsed behind */
	CHECK(req.loctypes.n == 0 && req.n_ids == 0 && !req.has_device && req.rt == HELD_RT_ABSENT);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- RFC 5985 / RFC 6155 request shapes ---- */

static void test_minimal_request_means_any_location(void)
{
	CHECK(parse("<locationRequest xmlns=\"" HELD "\"/>") == 0);
	CHECK(err.code == LIS_OK && err.msg[0] == '\0');
	CHECK_STR(lt(), "any");
	CHECK(!req.exact);
	CHECK(req.rt == HELD_RT_ABSENT);
	CHECK(!req.has_device && req.n_ids == 0 && req.n_wifi == 0);
	CHECK(held_request_wants(&req, HELD_LT_CIVIC));
	CHECK(held_request_wants(&req, HELD_LT_GEODETIC));
	CHECK(held_request_wants(&req, HELD_LT_URI));
}

static void test_rfc5985_request_with_xml_declaration_and_prefix(void)
{
	CHECK(parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<held:locationRequest xmlns:held=\"" HELD "\">\n"
		    "  <held:locationType exact=\"false\">civic geodetic</held:locationType>\n"
		    "</held:locationRequest>\n") == 0);
	CHECK_STR(lt(), "civic geodetic");
	CHECK(!req.exact);
}

static void test_rfc5985_request_exact_geodetic_uri_with_response_time(void)
{
	CHECK(parse_req("responseTime=\"8\"",
			"<locationType exact=\"true\">geodetic locationURI</locationType>") == 0);
	CHECK_STR(lt(), "geodetic locationURI");
	CHECK(req.exact);
	CHECK(req.rt == HELD_RT_MILLISECONDS && req.rt_ms == 8);
	CHECK(!held_request_wants(&req, HELD_LT_CIVIC));
	CHECK(held_request_wants(&req, HELD_LT_GEODETIC));
}

static void test_protocol_md_emergency_routing_request(void)
{
	CHECK(parse_req("responseTime=\"emergencyRouting\"",
			"\n  <locationType exact=\"true\">civic geodetic</locationType>\n") == 0);
	CHECK(req.rt == HELD_RT_EMERGENCY_ROUTING);
	CHECK(req.exact);
	CHECK_STR(lt(), "civic geodetic");
}

static void test_rfc6155_request_with_device_uri(void)
{
	CHECK(parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<locationRequest xmlns=\"" HELD "\" responseTime=\"8\">\n"
		    "  <locationType exact=\"true\">geodetic locationURI</locationType>\n"
		    "  <device xmlns=\"" HELDID "\">\n"
		    "    <uri>sip:user@example.net</uri>\n"
		    "  </device>\n"
		    "</locationRequest>\n") == 0);
	CHECK(req.has_device);
	CHECK(req.n_ids == 1);
	CHECK(req.ids[0].kind == IDENT_SIP);
	CHECK_STR(req.ids[0].value, "sip:user@example.net");
	CHECK(req.given[0].kind == IDENT_SIP);
	CHECK_STR(req.given[0].value, "sip:user@example.net");
	CHECK(req.rt == HELD_RT_MILLISECONDS && req.rt_ms == 8);
}

static void test_protocol_md_device_request_exact_false(void)
{
	CHECK(parse_req("", "<locationType exact=\"false\">civic locationURI</locationType>"
			    "<device xmlns=\"" HELDID "\"><uri>tel:+15551234567</uri>"
			    "</device>") == 0);
	CHECK(!req.exact);
	CHECK_STR(lt(), "civic locationURI");
	CHECK(req.n_ids == 1 && req.ids[0].kind == IDENT_TEL);
	CHECK_STR(req.ids[0].value, "tel:+15551234567");
}

/* ---- locationType and exact ---- */

static void test_location_type_single_tokens(void)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"any", "any"}, {"civic", "civic"},
		{"geodetic", "geodetic"}, {"locationURI", "locationURI"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char body[128];
		snprintf(body, sizeof body, "<locationType>%s</locationType>", cases[i].text);
		CHECKF(parse_req("", body) == 0, "%s: %s", cases[i].text, err.msg);
		CHECKF(strcmp(lt(), cases[i].want) == 0, "%s -> %s", cases[i].text, lt());
	}
}

static void test_location_type_list_with_duplicates_and_any_whitespace(void)
{
	CHECK(parse_req("", "<locationType>\n\tcivic  civic\r\n geodetic\t</locationType>") == 0);
	CHECK_STR(lt(), "civic geodetic");
	CHECK(parse_req("", "<locationType>  any\n</locationType>") == 0);
	CHECK_STR(lt(), "any");
}

/* RFC 5985 §6.2: the answer SHOULD follow the order of the request, so the parser keeps it
 * (first mention wins for a repeated form). */
static void test_location_type_order_is_kept(void)
{
	CHECK(parse_req("", "<locationType>geodetic civic</locationType>") == 0);
	CHECK_STR(lt(), "geodetic civic");
	CHECK(parse_req("", "<locationType>locationURI geodetic civic geodetic</locationType>")
	      == 0);
	CHECK_STR(lt(), "locationURI geodetic civic");
	CHECK(held_request_wants(&req, HELD_LT_CIVIC) && held_request_wants(&req, HELD_LT_URI));
}

/* RFC 5985 §7: locationTypeBase is the token "any" or a locationTypeList of minLength 1; "any"
 * is not a member of the list. A value that is neither is invalid: xmlError (§6.3). */
static void test_any_in_a_list_is_xml_error(void)
{
	static const char *const bad[] = {"civic any", "any civic geodetic locationURI",
					  "any any", "locationURI any"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char body[128];
		snprintf(body, sizeof body, "<locationType>%s</locationType>", bad[i]);
		expect_fault(parse_req("", body), HELD_E_XML_ERROR, "\"any\" must stand alone");
		char doc[256];
		snprintf(doc, sizeof doc,
			 "<locationRequest xmlns=\"" HELD "\">%s</locationRequest>", body);
		CHECK_SCHEMA_INVALID(doc, strlen(doc));
	}
	const char *ok = "<locationRequest xmlns=\"" HELD "\"><locationType> any </locationType>"
			 "</locationRequest>";
	CHECK_SCHEMA_VALID(ok, strlen(ok));
}

static void test_location_type_any_wants_every_form(void)
{
	CHECK(parse_req("", "<locationType exact=\"true\">any</locationType>") == 0);
	CHECK(held_request_wants(&req, HELD_LT_CIVIC));
	CHECK(held_request_wants(&req, HELD_LT_GEODETIC));
	CHECK(held_request_wants(&req, HELD_LT_URI));
}

/* An empty list fails the schema's minLength 1 and is not the token "any" (RFC 5985 §7). */
static void test_empty_location_type_is_xml_error(void)
{
	expect_fault(parse_req("", "<locationType/>"), HELD_E_XML_ERROR, "locationType is empty");
	expect_fault(parse_req("", "<locationType exact=\"true\">  </locationType>"),
		     HELD_E_XML_ERROR, "locationType is empty");
	expect_fault(parse_req("", "<locationType><!-- nothing --></locationType>"),
		     HELD_E_XML_ERROR, "locationType is empty");
	const char *doc = "<locationRequest xmlns=\"" HELD "\"><locationType/></locationRequest>";
	CHECK_SCHEMA_INVALID(doc, strlen(doc));
}

static void test_location_type_cdata_and_comment_accepted(void)
{
	CHECK(parse_req("", "<!-- c --><locationType><![CDATA[civic]]> <!-- x -->geodetic"
			    "</locationType><?pi x?>") == 0);
	CHECK_STR(lt(), "civic geodetic");
}

static void test_unknown_location_type_token_is_xml_error_naming_it(void)
{
	expect_fault(parse_req("", "<locationType>civic postal</locationType>"), HELD_E_XML_ERROR,
		     "\"postal\"");
}

static void test_location_type_tokens_are_case_sensitive(void)
{
	expect_fault(parse_req("", "<locationType>Civic</locationType>"), HELD_E_XML_ERROR,
		     "Civic");
}

static void test_location_type_with_child_element_is_xml_error(void)
{
	expect_fault(parse_req("", "<locationType><x xmlns=\"urn:x\">civic</x></locationType>"),
		     HELD_E_XML_ERROR, "locationType");
}

static void test_duplicate_location_type_is_xml_error(void)
{
	expect_fault(parse_req("", "<locationType>civic</locationType>"
				   "<locationType>geodetic</locationType>"),
		     HELD_E_XML_ERROR, "more than once");
}

static void test_exact_boolean_forms(void)
{
	static const struct {
		const char *v;
		bool want;
	} cases[] = {
		{"true", true}, {"false", false}, {"1", true}, {"0", false}, {" true ", true},
		{"\n0\t", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char attrs[64];
		snprintf(attrs, sizeof attrs, "<locationType exact=\"%s\">civic</locationType>",
			 cases[i].v);
		CHECKF(parse_req("", attrs) == 0, "exact=\"%s\": %s", cases[i].v, err.msg);
		CHECKF(req.exact == cases[i].want, "exact=\"%s\"", cases[i].v);
	}
}

static void test_exact_absent_defaults_to_false(void)
{
	CHECK(parse_req("", "<locationType>civic</locationType>") == 0);
	CHECK(!req.exact);
}

static void test_exact_true_with_civic_only_does_not_want_geodetic(void)
{
	CHECK(parse_req("", "<locationType exact=\"true\">civic</locationType>") == 0);
	CHECK(req.exact);
	CHECK(held_request_wants(&req, HELD_LT_CIVIC));
	CHECK(!held_request_wants(&req, HELD_LT_GEODETIC));
	CHECK(!held_request_wants(&req, HELD_LT_URI));
}

static void test_bad_exact_boolean_is_xml_error(void)
{
	const char *bad[] = {"yes", "TRUE", "True", "", "2", "t"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char body[96];
		snprintf(body, sizeof body, "<locationType exact=\"%s\">civic</locationType>",
			 bad[i]);
		expect_fault(parse_req("", body), HELD_E_XML_ERROR, "exact");
	}
}

/* ---- responseTime ---- */

static void test_response_time_tokens(void)
{
	CHECK(parse_req("responseTime=\"emergencyRouting\"", "") == 0);
	CHECK(req.rt == HELD_RT_EMERGENCY_ROUTING);
	CHECK(parse_req("responseTime=\"emergencyDispatch\"", "") == 0);
	CHECK(req.rt == HELD_RT_EMERGENCY_DISPATCH);
	CHECK(parse_req("responseTime=\" emergencyDispatch \"", "") == 0);
	CHECK(req.rt == HELD_RT_EMERGENCY_DISPATCH);
}

static void test_response_time_milliseconds(void)
{
	CHECK(parse_req("responseTime=\"0\"", "") == 0);
	CHECK(req.rt == HELD_RT_MILLISECONDS && req.rt_ms == 0);
	CHECK(parse_req("responseTime=\" 15000 \"", "") == 0);
	CHECK(req.rt == HELD_RT_MILLISECONDS && req.rt_ms == 15000);
	CHECK(parse_req("responseTime=\"0008\"", "") == 0);
	CHECK(req.rt_ms == 8);
	char attr[64];
	snprintf(attr, sizeof attr, "responseTime=\"%lu\"", (unsigned long)-1);
	CHECK(parse_req(attr, "") == 0);
	CHECK(req.rt_ms == (unsigned long)-1);
}

static void test_response_time_overflow_is_request_error(void)
{
	char attr[96];
	snprintf(attr, sizeof attr, "responseTime=\"%lu0\"", (unsigned long)-1);
	expect_fault(parse_req(attr, ""), HELD_E_REQUEST_ERROR, "too large");
	expect_fault(parse_req("responseTime=\"99999999999999999999999999999\"", ""),
		     HELD_E_REQUEST_ERROR, "responseTime");
}

static void test_response_time_junk_sign_and_case_are_xml_error(void)
{
	const char *bad[] = {"-1", "+5", "5s", "1.5", "", "   ", "emergencyrouting",
			     "EmergencyDispatch", "0x10", "1 2"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char attr[64];
		snprintf(attr, sizeof attr, "responseTime=\"%s\"", bad[i]);
		expect_fault(parse_req(attr, ""), HELD_E_XML_ERROR, "responseTime");
	}
}

/* ---- extensibility and unsupported parts ---- */

static void test_extension_element_in_foreign_namespace_is_ignored(void)
{
	CHECK(parse_req("xmlns:ext=\"urn:example:ext\" ext:flag=\"1\" other=\"x\"",
			"<ext:hint><ext:deep a=\"b\">text<ext:x/></ext:deep></ext:hint>"
			"<locationType>civic</locationType>"
			"<ext:after>x</ext:after>") == 0);
	CHECK_STR(lt(), "civic");
}

static void test_extension_containing_held_element_is_not_inspected(void)
{
	CHECK(parse_req("", "<ext xmlns=\"urn:example:ext\"><locationRequest xmlns=\"" HELD
			    "\"/></ext>") == 0);
}

/* ---- what names a target lisd does not honour ---- */

#define FLOW "urn:ietf:params:xml:ns:geopriv:held:flow"

/* RFC 6915 §3's own example: the flow is a child of locationRequest. The schema's wildcard
 * lets it through, and ignoring it would answer for the requester, not the flow's end. */
static void test_rfc6915_flow_in_location_request_is_bad_identifier(void)
{
	const char *doc =
		"<locationRequest xmlns=\"" HELD "\"\n"
		"                 responseTime=\"8\">\n"
		"  <locationType exact=\"true\">geodetic</locationType>\n"
		"  <flow xmlns=\"" FLOW "\"\n"
		"    layer4=\"tcp\" layer3=\"ipv4\">\n"
		"    <src>\n"
		"      <address>192.0.2.25</address>\n"
		"      <port>1024</port>\n"
		"    </src>\n"
		"    <dst>\n"
		"      <address>198.51.100.238</address>\n"
		"      <port>80</port>\n"
		"    </dst>\n"
		"  </flow>\n"
		"</locationRequest>\n";
	CHECK_SCHEMA_VALID(doc, strlen(doc));
	expect_fault(parse(doc), HELD_E_BAD_IDENTIFIER, "RFC 6915");
	CHECK(strstr(err.msg, "<flow>") && strstr(err.msg, "does not support"));
	/* before or after a device, and with a prefix */
	expect_fault(parse_req("xmlns:f=\"" FLOW "\"",
			       "<f:flow layer3=\"ipv4\" layer4=\"udp\"/><device xmlns=\"" HELDID
			       "\"><ip v=\"4\">192.0.2.5</ip></device>"),
		     HELD_E_BAD_IDENTIFIER, "RFC 6915");
}

/* The device's content is ##any: a flow there names the device by its flow. */
static void test_rfc6915_flow_in_device_is_bad_identifier(void)
{
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><ip v=\"4\">192.0.2.5</ip>"
				   "<flow xmlns=\"" FLOW "\" layer3=\"ipv4\" layer4=\"tcp\"><src>"
				   "<address>192.0.2.5</address><port>5060</port></src><dst>"
				   "<address>198.51.100.1</address><port>5060</port></dst></flow>"
				   "</device>"),
		     HELD_E_BAD_IDENTIFIER, "RFC 6915");
}

/* RFC 6155 §6 declares each identifier globally; §2.2 puts them in a device. Outside one
 * they still name a target. requiredIdentifiers names none (it belongs to errors). */
static void test_identifier_outside_device_is_bad_identifier(void)
{
	static const char *const bodies[] = {
		"<ip xmlns=\"" HELDID "\" v=\"4\">192.0.2.5</ip>",
		"<locationType>civic</locationType>"
		"<mac xmlns=\"" HELDID "\">00-50-B6-A1-C2-D3</mac>",
		"<id:uri xmlns:id=\"" HELDID "\">sip:bob@example.com</id:uri>",
		"<id:serial xmlns:id=\"" HELDID "\">42</id:serial>",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
		expect_fault(parse_req("", bodies[i]), HELD_E_BAD_IDENTIFIER,
			     "must be inside <device>");
	CHECK(parse_req("", "<requiredIdentifiers xmlns=\"" HELDID "\">mac</requiredIdentifiers>")
	      == 0);
	CHECK(!req.has_device && req.n_ids == 0);
}


static void test_rfc7105_wifi_measurement_gives_serving_bssid(void)
{
	CHECK(parse_req("", "<locationType>civic</locationType>"
			    "<measurements xmlns=\"" LM "\" time=\"2026-01-01T00:00:00Z\">"
			    "<wifi xmlns=\"" LMW "\">"
			    "<ap><bssid>00:12:f0:a0:80:01</bssid><ssid>guest</ssid></ap>"
			    "<ap serving=\"true\"><bssid> 00-12-F0-A0-80-EF </bssid>"
			    "<ssid>corp</ssid></ap>"
			    "</wifi></measurements>") == 0);
	CHECK_STR(lt(), "civic");
	if (!CHECK(req.n_wifi == 2))
		return;
	CHECK_STR(req.wifi[0].bssid, "00:12:f0:a0:80:01");
	CHECK(!req.wifi[0].serving);
	CHECK_STR(req.wifi[1].bssid, "00:12:f0:a0:80:ef");
	CHECK(req.wifi[1].serving);
}

/* RFC 7105 §3: measurements are hints; what cannot be read is left out, never fatal. */
static void test_unreadable_wifi_entries_are_skipped(void)
{
	CHECK(parse_req("", "<measurements xmlns=\"" LM "\"><wifi xmlns=\"" LMW "\">"
			    "<ap serving=\"true\"><bssid>not-a-mac</bssid></ap>"
			    "<ap serving=\"maybe\"><bssid>00-12-f0-a0-80-02</bssid></ap>"
			    "<ap serving=\"1\"/>"
			    "<ap><bssid><x/></bssid></ap>"
			    "<other xmlns=\"urn:example\"><ap><bssid>00-12-f0-a0-80-03</bssid></ap>"
			    "</other>"
			    "</wifi><cell xmlns=\"urn:ietf:params:xml:ns:geopriv:lm:cell\"/>"
			    "</measurements>") == 0);
	if (!CHECK(req.n_wifi == 1))
		return;
	CHECK_STR(req.wifi[0].bssid, "00:12:f0:a0:80:02");
	CHECK(!req.wifi[0].serving);
}

static void test_more_access_points_than_kept_are_ignored(void)
{
	char body[8192];
	size_t o = (size_t)snprintf(body, sizeof body,
				    "<measurements xmlns=\"" LM "\"><wifi xmlns=\"" LMW "\">");
	for (int i = 0; i < HELD_MAX_WIFI + 5; i++)
		o += (size_t)snprintf(body + o, sizeof body - o,
				      "<ap><bssid>00-12-f0-a0-81-%02x</bssid></ap>", i);
	snprintf(body + o, sizeof body - o, "</wifi></measurements>");
	CHECK(parse_req("", body) == 0);
	CHECK(req.n_wifi == HELD_MAX_WIFI);
	CHECK_STR(req.wifi[HELD_MAX_WIFI - 1].bssid, "00:12:f0:a0:81:0f");
}

static void test_unknown_held_element_is_unsupported_message(void)
{
	expect_fault(parse_req("", "<locationType>civic</locationType><frobnicate/>"),
		     HELD_E_UNSUPPORTED_MESSAGE, "frobnicate");
}

static void test_unqualified_child_element_is_xml_error(void)
{
	expect_fault(parse("<h:locationRequest xmlns:h=\"" HELD "\"><foo/></h:locationRequest>"),
		     HELD_E_XML_ERROR, "foo");
}

static void test_text_in_location_request_is_xml_error(void)
{
	expect_fault(parse_req("", "hello<locationType>civic</locationType>"), HELD_E_XML_ERROR,
		     "text");
}

static void test_other_held_message_as_root_is_unsupported_message(void)
{
	expect_fault(parse("<locationResponse xmlns=\"" HELD "\"/>"), HELD_E_UNSUPPORTED_MESSAGE,
		     "locationResponse");
	expect_fault(parse("<error xmlns=\"" HELD "\" code=\"timeout\"/>"),
		     HELD_E_UNSUPPORTED_MESSAGE, "error");
}

static void test_root_in_other_namespace_is_unsupported_message(void)
{
	expect_fault(parse("<locationRequest xmlns=\"urn:example:not-held\"/>"),
		     HELD_E_UNSUPPORTED_MESSAGE, "locationRequest");
	expect_fault(parse("<locationRequest/>"), HELD_E_UNSUPPORTED_MESSAGE, NULL);
	expect_fault(parse("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"/>"),
		     HELD_E_UNSUPPORTED_MESSAGE, "presence");
}

/* ---- not well-formed and hostile input ---- */

static void test_not_well_formed_is_xml_error_with_line(void)
{
	expect_fault(parse("<locationRequest xmlns=\"" HELD "\">\n<locationType>civic"
			   "</locationRequest>"),
		     HELD_E_XML_ERROR, "line 2");
	expect_fault(parse("<locationRequest xmlns=\"" HELD "\""), HELD_E_XML_ERROR, NULL);
	expect_fault(parse("not xml at all"), HELD_E_XML_ERROR, NULL);
	expect_fault(parse("<a/><b/>"), HELD_E_XML_ERROR, NULL);
}

static void test_undeclared_namespace_prefix_is_xml_error(void)
{
	expect_fault(parse("<locationRequest xmlns=\"" HELD "\"><x:y/></locationRequest>"),
		     HELD_E_XML_ERROR, NULL);
}

static void test_empty_body_is_xml_error(void)
{
	expect_fault(parse_with("", 0, NULL), HELD_E_XML_ERROR, "empty");
	expect_fault(parse_with(NULL, 0, NULL), HELD_E_XML_ERROR, "empty");
	expect_fault(parse(" \n\t "), HELD_E_XML_ERROR, NULL);
}

static void test_billion_laughs_is_refused_quickly_without_expansion(void)
{
	const char *doc =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE lolz [\n"
		" <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
		" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
		" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
		" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
		" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
		"]>\n"
		"<locationRequest xmlns=\"" HELD "\"><locationType>&lol9;</locationType>"
		"</locationRequest>\n";
	double t0 = now_s();
	int rc = parse(doc);
	double dt = now_s() - t0;
	expect_fault(rc, HELD_E_XML_ERROR, "DOCTYPE");
	CHECKF(dt < 5.0, "took %.3f s", dt);   /* expanded, 10^9 "lol"s would take far longer */
	CHECK(strstr(err.msg, "lollol") == NULL);
}

static void test_external_entity_is_refused_and_file_never_read(void)
{
	expect_fault(parse("<?xml version=\"1.0\"?>\n"
			   "<!DOCTYPE locationRequest [\n"
			   "  <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n"
			   "]>\n"
			   "<locationRequest xmlns=\"" HELD "\">"
			   "<locationType>&xxe;</locationType></locationRequest>"),
		     HELD_E_XML_ERROR, "DOCTYPE");
	CHECK(strstr(err.msg, "root:") == NULL);
	CHECK(strstr(err.msg, "/bin/") == NULL);
}

static void test_parameter_entity_is_refused(void)
{
	expect_fault(parse("<!DOCTYPE r [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>"
			   "<locationRequest xmlns=\"" HELD "\"/>"),
		     HELD_E_XML_ERROR, "DOCTYPE");
}

static void test_external_dtd_is_refused(void)
{
	expect_fault(parse("<!DOCTYPE locationRequest SYSTEM \"http://127.0.0.1:9/evil.dtd\">"
			   "<locationRequest xmlns=\"" HELD "\"/>"),
		     HELD_E_XML_ERROR, "DOCTYPE");
	expect_fault(parse("<!DOCTYPE locationRequest PUBLIC \"-//x//y\" \"file:///etc/passwd\">"
			   "<locationRequest xmlns=\"" HELD "\"/>"),
		     HELD_E_XML_ERROR, "DOCTYPE");
}

static void test_empty_doctype_is_refused(void)
{
	expect_fault(parse("<!DOCTYPE locationRequest><locationRequest xmlns=\"" HELD "\"/>"),
		     HELD_E_XML_ERROR, "DOCTYPE");
}

static void test_undeclared_entity_reference_is_xml_error(void)
{
	expect_fault(parse_req("", "<locationType>&xxe;</locationType>"), HELD_E_XML_ERROR, NULL);
}

static void test_predefined_and_character_references_are_decoded(void)
{
	CHECK(parse_req("", "<locationType>&#99;ivic</locationType>"
			    "<device xmlns=\"" HELDID "\"><uri>sip:a&amp;b@x&#x2e;example</uri>"
			    "</device>") == 0);
	CHECK_STR(lt(), "civic");
	CHECK_STR(req.ids[0].value, "sip:a&b@x.example");
}

/* The parser hands text on in pieces (around comments, CDATA sections, references): a value
 * is judged whole, as the element holds it. */
static void test_text_in_pieces_is_read_whole(void)
{
	CHECK(parse_req("", "<locationType>civ<!-- x -->ic geo<![CDATA[det]]>ic</locationType>"
			    "<device xmlns=\"" HELDID "\"><uri> sip:a@<!-- y -->example&#46;com "
			    "</uri></device>"
			    "<measurements xmlns=\"" LM "\"><wifi xmlns=\"" LMW "\"><ap><bssid>"
			    "00-12-F0<!-- z -->-A0-80-<![CDATA[EF]]></bssid></ap></wifi>"
			    "</measurements>") == 0);
	CHECK_STR(lt(), "civic geodetic");
	CHECK_STR(req.ids[0].value, "sip:a@example.com");
	CHECK(req.n_wifi == 1 && strcmp(req.wifi[0].bssid, "00:12:f0:a0:80:ef") == 0);
	/* an element inside the first bssid: that access point is left out, nothing else */
	CHECK(parse_req("", "<measurements xmlns=\"" LM "\"><wifi xmlns=\"" LMW "\">"
			    "<ap><bssid>00-12-F0-A0-80-01<b/></bssid></ap>"
			    "<ap><bssid>00-12-F0-A0-80-02</bssid></ap></wifi></measurements>") == 0);
	CHECK(req.n_wifi == 1 && strcmp(req.wifi[0].bssid, "00:12:f0:a0:80:02") == 0);
}

/* Attribute values as the parser gives them hold "&#38;" for each '&': read as '&'. */
static void test_attribute_references_are_decoded(void)
{
	expect_fault(parse_req("responseTime=\"a&amp;b&#38;c&lt;\"", ""), HELD_E_XML_ERROR,
		     "\"a&b&c<\"");
	CHECK(parse_req("", "<locationType exact=\"&#116;rue\">civic</locationType>"
			    "<device xmlns=\"" HELDID "\"><ip v=\"&#52;\">192.0.2.1</ip></device>")
	      == 0);
	CHECK(req.exact && req.n_ids == 1 && req.ids[0].kind == IDENT_IP);
}

/* Values longer than the reader keeps in place (padding, repeated words) are read whole. */
static void test_long_values_are_read_whole(void)
{
	char body[7000];
	size_t o = (size_t)snprintf(body, sizeof body, "<locationType>");
	for (int i = 0; i < 400; i++)
		o += (size_t)snprintf(body + o, sizeof body - o, "%s ", i % 2 ? "civic" : "geodetic");
	o += (size_t)snprintf(body + o, sizeof body - o, "</locationType><device xmlns=\"" HELDID
			      "\"><mac>%*s00-11-22-aa-bb-cc%*s</mac></device>", 900, "", 900, "");
	CHECK(parse_req("", body) == 0);
	CHECK_STR(lt(), "geodetic civic");
	CHECK_STR(req.ids[0].value, "00-11-22-aa-bb-cc");
	char attrs[1200];
	snprintf(attrs, sizeof attrs, "responseTime=\"%*s%s%*s\"", 500, "", "8000", 500, "");
	CHECK(parse_req(attrs, "") == 0 && req.rt == HELD_RT_MILLISECONDS && req.rt_ms == 8000);
	char uri[400];
	snprintf(uri, sizeof uri, "<device xmlns=\"" HELDID "\"><uri>sip:%0300d@x</uri></device>",
		 0);
	expect_fault(parse_req("", uri), HELD_E_BAD_IDENTIFIER, "longer than 255 bytes");
}

static char *nested(unsigned depth)
{
	/* root + (depth - 1) extension elements */
	size_t cap = 256 + (size_t)depth * 32;
	char *buf = malloc(cap);
	size_t o = (size_t)snprintf(buf, cap, "<locationRequest xmlns=\"" HELD "\">");
	for (unsigned i = 1; i < depth; i++)
		o += (size_t)snprintf(buf + o, cap - o, "<e:x xmlns:e=\"urn:e\">");
	for (unsigned i = 1; i < depth; i++)
		o += (size_t)snprintf(buf + o, cap - o, "</e:x>");
	snprintf(buf + o, cap - o, "</locationRequest>");
	return buf;
}

static void test_nesting_at_depth_limit_is_accepted(void)
{
	char *doc = nested(HELD_DEFAULT_MAX_DEPTH);
	CHECKF(parse(doc) == 0, "%s", err.msg);
	free(doc);
	struct held_limits lim = { .max_depth = 3 };
	doc = nested(3);
	CHECK(parse_with(doc, strlen(doc), &lim) == 0);
	free(doc);
}

static void test_too_deep_nesting_is_xml_error(void)
{
	char *doc = nested(HELD_DEFAULT_MAX_DEPTH + 1);
	expect_fault(parse(doc), HELD_E_XML_ERROR, "deep");
	free(doc);
	struct held_limits lim = { .max_depth = 3 };
	doc = nested(4);
	expect_fault(parse_with(doc, strlen(doc), &lim), HELD_E_XML_ERROR, "3 deep");
	free(doc);
	/* far beyond libxml2's own limit as well: refused, not a stack overflow */
	struct held_limits big = { .max_bytes = 1u << 20, .max_depth = 100000 };
	doc = nested(5000);
	expect_fault(parse_with(doc, strlen(doc), &big), HELD_E_XML_ERROR, NULL);
	free(doc);
}

static void test_oversized_body_is_refused_before_parsing(void)
{
	size_t n = HELD_DEFAULT_MAX_BYTES + 1;
	char *doc = malloc(n + 1);
	memset(doc, ' ', n);
	const char *head = "<locationRequest xmlns=\"" HELD "\"/>";
	memcpy(doc, head, strlen(head));
	doc[n] = '\0';
	expect_fault(parse_with(doc, n, NULL), HELD_E_XML_ERROR, "65536");
	/* the same document one byte shorter is within the limit */
	CHECKF(parse_with(doc, n - 1, NULL) == 0, "%s", err.msg);
	struct held_limits lim = { .max_bytes = 40 };
	expect_fault(parse_with(doc, strlen(head), &lim), HELD_E_XML_ERROR, "limit is 40");
	free(doc);
}

static void test_non_utf8_junk_is_xml_error(void)
{
	static const char junk[] = "\xff\xfe\x00\x01\x80\x81\xc3\x28garbage\xf5\xff";
	expect_fault(parse_with(junk, sizeof junk - 1, NULL), HELD_E_XML_ERROR, NULL);
	expect_fault(parse_req("", "<locationType>civ\xc3\x28ic</locationType>"),
		     HELD_E_XML_ERROR, NULL);
	expect_fault(parse_req("", "<locationType>\xed\xa0\x80</locationType>"),
		     HELD_E_XML_ERROR, NULL);
}

/* Errors libxml2 raises outside the parser context (encoding conversion) still end up in
 * err->msg and are never printed to stderr (lisd's log). */
static void encoding_error_is_reported_not_printed(const char *doc, size_t len,
						  const char *in_msg)
{
	fflush(stderr);
	FILE *capture = tmpfile();
	int saved = dup(STDERR_FILENO);
	if (!CHECK(capture && saved >= 0))
		return;
	dup2(fileno(capture), STDERR_FILENO);
	int rc = parse_with(doc, len, NULL);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	struct stat st;
	long printed = fstat(fileno(capture), &st) == 0 ? (long)st.st_size : -1;
	fclose(capture);
	expect_fault(rc, HELD_E_XML_ERROR, in_msg);
	CHECKF(printed == 0, "%ld bytes printed to stderr", printed);
	CHECK(strstr(err.msg, "line 0") == NULL);
}

static void test_encoding_errors_are_reported_not_printed(void)
{
	static const char doc[] = "<?xml version=\"1.0\" encoding=\"EUC-JP\"?>"
				  "<locationRequest xmlns=\"" HELD "\">\x8e\xff\x00\x00"
				  "</locationRequest>";
	encoding_error_is_reported_not_printed(doc, sizeof doc - 1, "conversion");
	/* UCS-4 by its first bytes, then a byte sequence no UCS-4 character is: converted as
	 * the document is handed to the push parser, which libxml2 also reports through the
	 * thread's generic error handler only (found by fuzzing) */
	static const char ucs4[] = "<\0\0\0\x10" "5n";
	encoding_error_is_reported_not_printed(ucs4, sizeof ucs4, "conversion");
}

static void test_nul_byte_in_body_is_xml_error(void)
{
	static const char doc[] = "<locationRequest xmlns=\"" HELD "\">\0</locationRequest>";
	expect_fault(parse_with(doc, sizeof doc - 1, NULL), HELD_E_XML_ERROR, NULL);
}

static void test_latin1_declared_document_is_accepted(void)
{
	CHECK(parse("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
		    "<locationRequest xmlns=\"" HELD "\"><e xmlns=\"urn:e\">\xe9</e>"
		    "<locationType>civic</locationType></locationRequest>") == 0);
	CHECK_STR(lt(), "civic");
}

static void test_error_message_quotes_hostile_value_safely(void)
{
	expect_fault(parse_req("", "<locationType>\xc3\xa9t\xc3\xa9&#1;</locationType>"),
		     HELD_E_XML_ERROR, NULL);
	/* XML 1.0 forbids &#1;, so try a long and non-ASCII token instead */
	char body[512];
	snprintf(body, sizeof body, "<locationType>civic \xc3\xa9%s</locationType>",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	expect_fault(parse_req("", body), HELD_E_XML_ERROR, "\"??aaa");
	CHECK(strstr(err.msg, "...") != NULL);
	CHECK(strlen(err.msg) < 160);
}

/* ---- RFC 6155 device identity ---- */

static void test_device_ip_v4_and_v6(void)
{
	CHECK(parse_req("", "<device xmlns=\"" HELDID "\"><ip v=\"4\"> 192.0.2.5 </ip>"
			    "<ip v=\"6\">2001:db8::5</ip></device>") == 0);
	CHECK(req.has_device && req.n_ids == 2);
	CHECK(req.ids[0].kind == IDENT_IP);
	CHECK_STR(req.ids[0].value, "192.0.2.5");
	CHECK(req.ids[1].kind == IDENT_IP);
	CHECK_STR(req.ids[1].value, "2001:db8::5");
}

static void test_device_ip_without_version_is_bad_identifier(void)
{
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><ip>192.0.2.5</ip></device>"),
		     HELD_E_BAD_IDENTIFIER, "v=");
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><ip v=\"5\">192.0.2.5</ip>"
				   "</device>"),
		     HELD_E_BAD_IDENTIFIER, "v=");
}

static void test_device_ip_not_matching_version_is_bad_identifier(void)
{
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><ip v=\"4\">2001:db8::1</ip>"
				   "</device>"),
		     HELD_E_BAD_IDENTIFIER, "\"2001:db8::1\" is not an IPv4 address");
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><ip v=\"6\">host</ip></device>"),
		     HELD_E_BAD_IDENTIFIER, "IPv6");
}

static void test_device_every_identifier_type(void)
{
	CHECK(parse_req("", "<device xmlns=\"" HELDID "\">"
			    "<mac>00-50-b6-a1-c2-d3</mac><fqdn>pc1.example.com</fqdn>"
			    "<nai>user@example.com</nai><duid>000100011c39cf88080027fe8f95</duid>"
			    "<udpport>5060</udpport><tcpport>5061</tcpport><sctpport>0</sctpport>"
			    "<msisdn>15551234567</msisdn></device>") == 0);
	CHECK(req.n_ids == 8);
	enum ident_kind want[] = {IDENT_MAC, IDENT_FQDN, IDENT_NAI, IDENT_DUID,
				  IDENT_UDPPORT, IDENT_TCPPORT, IDENT_SCTPPORT, IDENT_MSISDN};
	for (size_t i = 0; i < 8 && i < req.n_ids; i++)
		CHECKF(req.ids[i].kind == want[i], "id %zu", i);
	CHECK_STR(req.ids[0].value, "00-50-b6-a1-c2-d3");
	CHECK_STR(req.ids[4].value, "5060");
	CHECK(parse_req("", "<device xmlns=\"" HELDID "\"><imsi>310150123456789</imsi>"
			    "<imei>490154203237518</imei><min>5551234567</min><mdn>5551234567</mdn>"
			    "</device>") == 0);
	CHECK(req.n_ids == 4);
	CHECK(req.ids[0].kind == IDENT_IMSI && req.ids[1].kind == IDENT_IMEI);
	CHECK(req.ids[2].kind == IDENT_MIN && req.ids[3].kind == IDENT_MDN);
	CHECK_STR(req.ids[0].value, "310150123456789");
}

/* Each identifier is read by its kind's parser (proto/ident.h): SIP and tel URIs are kept
 * normalized, a <uri> holds either. */
static void test_device_uri_is_kept_normalized_as_sip_or_tel(void)
{
	CHECK(parse_req("", "<device xmlns=\"" HELDID "\"><uri>SIP:Alice@EXAMPLE.com;transport=tcp"
			    "</uri><uri> tel:+1-555-123-4567 </uri></device>") == 0);
	CHECK(req.n_ids == 2 && req.ids[0].kind == IDENT_SIP && req.ids[1].kind == IDENT_TEL);
	CHECK_STR(req.ids[0].value, "sip:Alice@example.com");
	CHECK_STR(req.ids[1].value, "tel:+15551234567");
	/* RFC 6155 §2.2 echo: the identifiers as the request wrote them (trimmed) */
	CHECK(req.given[0].kind == IDENT_SIP && req.given[1].kind == IDENT_TEL);
	CHECK_STR(req.given[0].value, "SIP:Alice@EXAMPLE.com;transport=tcp");
	CHECK_STR(req.given[1].value, "tel:+1-555-123-4567");
}

static void test_device_malformed_value_is_bad_identifier(void)
{
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><mac>00:11:22</mac></device>"),
		     HELD_E_BAD_IDENTIFIER, "<mac> \"00:11:22\" is not a MAC address");
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><uri>http://example.com/</uri>"
				   "</device>"),
		     HELD_E_BAD_IDENTIFIER, "is not a sip: or sips: URI or a tel: URI");
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><uri>tel:+1-CALL</uri></device>"),
		     HELD_E_BAD_IDENTIFIER, "\"tel:+1-CALL\"");
}

static void test_device_unknown_identifier_is_other_by_name(void)
{
	CHECK(parse_req("", "<device xmlns=\"" HELDID "\"><tel>+1555</tel>"
			    "<x:serial xmlns:x=\"urn:example:ids\"><x:n>42</x:n></x:serial>"
			    "</device>") == 0);
	CHECK(req.n_ids == 2);
	CHECK(req.ids[0].kind == IDENT_OTHER);
	CHECK_STR(req.ids[0].value, "tel");
	CHECK(req.ids[1].kind == IDENT_OTHER);
	CHECK_STR(req.ids[1].value, "serial");
}

static void test_device_with_too_many_identifiers_is_request_error(void)
{
	char body[2048] = "<device xmlns=\"" HELDID "\">";
	for (int i = 0; i <= HELD_MAX_IDS; i++) {
		char one[64];
		snprintf(one, sizeof one, "<uri>sip:u%d@example.net</uri>", i);
		strncat(body, one, sizeof body - strlen(body) - 1);
	}
	strncat(body, "</device>", sizeof body - strlen(body) - 1);
	expect_fault(parse_req("", body), HELD_E_REQUEST_ERROR, "identifiers");
	/* exactly HELD_MAX_IDS is fine */
	char ok[2048] = "<device xmlns=\"" HELDID "\">";
	for (int i = 0; i < HELD_MAX_IDS; i++)
		strncat(ok, "<mac>00:11:22:33:44:55</mac>", sizeof ok - strlen(ok) - 1);
	strncat(ok, "</device>", sizeof ok - strlen(ok) - 1);
	CHECK(parse_req("", ok) == 0);
	CHECK(req.n_ids == HELD_MAX_IDS);
}

static void test_device_without_identifier_is_request_error(void)
{
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"/>"), HELD_E_REQUEST_ERROR,
		     "no identifier");
}

static void test_two_devices_is_request_error(void)
{
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><uri>sip:a@x</uri></device>"
				   "<device xmlns=\"" HELDID "\"><uri>sip:b@x</uri></device>"),
		     HELD_E_REQUEST_ERROR, "more than one device");
}

static void test_device_identifier_empty_or_too_long_is_bad_identifier(void)
{
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><uri>  </uri></device>"),
		     HELD_E_BAD_IDENTIFIER, "<uri> is empty");
	char body[1024];
	char longuri[400];
	memset(longuri, 'a', sizeof longuri - 1);
	longuri[sizeof longuri - 1] = '\0';
	snprintf(body, sizeof body, "<device xmlns=\"" HELDID "\"><uri>sip:%s</uri></device>",
		 longuri);
	expect_fault(parse_req("", body), HELD_E_BAD_IDENTIFIER, "longer than 255");
	/* 255 bytes is the most that is kept */
	snprintf(body, sizeof body, "<device xmlns=\"" HELDID "\"><uri>sip:%.251s</uri></device>",
		 longuri);
	CHECK(parse_req("", body) == 0);
	CHECK(strlen(req.ids[0].value) == 255);
}

static void test_device_port_out_of_range_is_bad_identifier(void)
{
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><udpport>70000</udpport>"
				   "</device>"),
		     HELD_E_BAD_IDENTIFIER, "\"70000\"");
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><tcpport>-1</tcpport></device>"),
		     HELD_E_BAD_IDENTIFIER, "port");
}

static void test_device_identifier_with_child_elements_is_bad_identifier(void)
{
	expect_fault(parse_req("", "<device xmlns=\"" HELDID "\"><uri><b>sip:a@x</b></uri>"
				   "</device>"),
		     HELD_E_BAD_IDENTIFIER, "<uri>");
}

static void test_device_in_other_namespace_is_ignored(void)
{
	CHECK(parse_req("", "<device xmlns=\"urn:example:not-heldid\"><uri>sip:a@x</uri>"
			    "</device>") == 0);
	CHECK(!req.has_device && req.n_ids == 0);
}

/* ---- robustness of the API ---- */

static void test_null_limits_and_zero_limits_mean_defaults(void)
{
	struct held_limits zero = { 0 };
	const char *doc = "<locationRequest xmlns=\"" HELD "\"/>";
	CHECK(parse_with(doc, strlen(doc), &zero) == 0);
	CHECK(parse_with(doc, strlen(doc), NULL) == 0);
}

static void test_null_error_pointer_is_allowed(void)
{
	const char *bad = "<x/>";
	CHECK(held_parse_request(bad, strlen(bad), NULL, &req, NULL) == -1);
	const char *good = "<locationRequest xmlns=\"" HELD "\"/>";
	CHECK(held_parse_request(good, strlen(good), NULL, &req, NULL) == 0);
}

static void test_error_code_names(void)
{
	CHECK_STR(held_error_code_name(HELD_E_REQUEST_ERROR), "requestError");
	CHECK_STR(held_error_code_name(HELD_E_XML_ERROR), "xmlError");
	CHECK_STR(held_error_code_name(HELD_E_GENERAL_LIS_ERROR), "generalLisError");
	CHECK_STR(held_error_code_name(HELD_E_LOCATION_UNKNOWN), "locationUnknown");
	CHECK_STR(held_error_code_name(HELD_E_UNSUPPORTED_MESSAGE), "unsupportedMessage");
	CHECK_STR(held_error_code_name(HELD_E_TIMEOUT), "timeout");
	CHECK_STR(held_error_code_name(HELD_E_CANNOT_PROVIDE_LI_TYPE), "cannotProvideLiType");
	CHECK_STR(held_error_code_name(HELD_E_NOT_LOCATABLE), "notLocatable");
	CHECK_STR(held_error_code_name(HELD_E_BAD_IDENTIFIER), "badIdentifier");
	CHECK(held_error_code_name(HELD_OK) == NULL);
	CHECK(held_error_code_name((enum held_error_code)99) == NULL);
}

/* Parsers in several threads at once keep their errors apart (no shared handler). */
#define N_THREADS 4
#define N_ROUNDS 300
static void *parse_many(void *arg)
{
	long id = (long)arg;
	long failures = 0;
	for (int i = 0; i < N_ROUNDS; i++) {
		struct held_request r;
		struct lis_error e;
		char doc[256];
		if ((i + id) % 2) {
			snprintf(doc, sizeof doc, "<locationRequest xmlns=\"" HELD "\">\n\n"
						  "<locationType>civic</locationType><t%ld>",
				 id);
			char want[32];
			snprintf(want, sizeof want, "line 3");
			if (held_parse_request(doc, strlen(doc), NULL, &r, &e) != -1 ||
			    e.code != LIS_E_HELD || e.held != HELD_E_XML_ERROR || !strstr(e.msg, want))
				failures++;
		} else {
			snprintf(doc, sizeof doc, "<locationRequest xmlns=\"" HELD "\" "
						  "responseTime=\"%ld\"/>", id * 1000 + i);
			if (held_parse_request(doc, strlen(doc), NULL, &r, &e) != 0 ||
			    r.rt_ms != (unsigned long)(id * 1000 + i))
				failures++;
		}
	}
	return (void *)failures;
}

static void test_parsing_in_parallel_threads_keeps_errors_apart(void)
{
	pthread_t th[N_THREADS];
	for (long i = 0; i < N_THREADS; i++)
		CHECK(pthread_create(&th[i], NULL, parse_many, (void *)i) == 0);
	for (int i = 0; i < N_THREADS; i++) {
		void *failures;
		pthread_join(th[i], &failures);
		CHECKF(failures == NULL, "thread %d: %ld failures", i, (long)failures);
	}
}

int main(void)
{
	xmlInitParser();
	t_run("minimal_request_means_any_location", test_minimal_request_means_any_location);
	t_run("rfc5985_request_with_xml_declaration_and_prefix",
	      test_rfc5985_request_with_xml_declaration_and_prefix);
	t_run("rfc5985_request_exact_geodetic_uri_with_response_time",
	      test_rfc5985_request_exact_geodetic_uri_with_response_time);
	t_run("protocol_md_emergency_routing_request", test_protocol_md_emergency_routing_request);
	t_run("rfc6155_request_with_device_uri", test_rfc6155_request_with_device_uri);
	t_run("protocol_md_device_request_exact_false",
	      test_protocol_md_device_request_exact_false);
	t_run("location_type_single_tokens", test_location_type_single_tokens);
	t_run("location_type_list_with_duplicates_and_any_whitespace",
	      test_location_type_list_with_duplicates_and_any_whitespace);
	t_run("location_type_order_is_kept", test_location_type_order_is_kept);
	t_run("any_in_a_list_is_xml_error", test_any_in_a_list_is_xml_error);
	t_run("location_type_any_wants_every_form", test_location_type_any_wants_every_form);
	t_run("empty_location_type_is_xml_error", test_empty_location_type_is_xml_error);
	t_run("location_type_cdata_and_comment_accepted",
	      test_location_type_cdata_and_comment_accepted);
	t_run("unknown_location_type_token_is_xml_error_naming_it",
	      test_unknown_location_type_token_is_xml_error_naming_it);
	t_run("location_type_tokens_are_case_sensitive",
	      test_location_type_tokens_are_case_sensitive);
	t_run("location_type_with_child_element_is_xml_error",
	      test_location_type_with_child_element_is_xml_error);
	t_run("duplicate_location_type_is_xml_error", test_duplicate_location_type_is_xml_error);
	t_run("exact_boolean_forms", test_exact_boolean_forms);
	t_run("exact_absent_defaults_to_false", test_exact_absent_defaults_to_false);
	t_run("exact_true_with_civic_only_does_not_want_geodetic",
	      test_exact_true_with_civic_only_does_not_want_geodetic);
	t_run("bad_exact_boolean_is_xml_error", test_bad_exact_boolean_is_xml_error);
	t_run("response_time_tokens", test_response_time_tokens);
	t_run("response_time_milliseconds", test_response_time_milliseconds);
	t_run("response_time_overflow_is_request_error",
	      test_response_time_overflow_is_request_error);
	t_run("response_time_junk_sign_and_case_are_xml_error",
	      test_response_time_junk_sign_and_case_are_xml_error);
	t_run("extension_element_in_foreign_namespace_is_ignored",
	      test_extension_element_in_foreign_namespace_is_ignored);
	t_run("extension_containing_held_element_is_not_inspected",
	      test_extension_containing_held_element_is_not_inspected);
	t_run("rfc6915_flow_in_location_request_is_bad_identifier",
	      test_rfc6915_flow_in_location_request_is_bad_identifier);
	t_run("rfc6915_flow_in_device_is_bad_identifier",
	      test_rfc6915_flow_in_device_is_bad_identifier);
	t_run("identifier_outside_device_is_bad_identifier",
	      test_identifier_outside_device_is_bad_identifier);
	t_run("rfc7105_wifi_measurement_gives_serving_bssid",
	      test_rfc7105_wifi_measurement_gives_serving_bssid);
	t_run("unreadable_wifi_entries_are_skipped", test_unreadable_wifi_entries_are_skipped);
	t_run("more_access_points_than_kept_are_ignored",
	      test_more_access_points_than_kept_are_ignored);
	t_run("unknown_held_element_is_unsupported_message",
	      test_unknown_held_element_is_unsupported_message);
	t_run("unqualified_child_element_is_xml_error",
	      test_unqualified_child_element_is_xml_error);
	t_run("text_in_location_request_is_xml_error", test_text_in_location_request_is_xml_error);
	t_run("other_held_message_as_root_is_unsupported_message",
	      test_other_held_message_as_root_is_unsupported_message);
	t_run("root_in_other_namespace_is_unsupported_message",
	      test_root_in_other_namespace_is_unsupported_message);
	t_run("not_well_formed_is_xml_error_with_line",
	      test_not_well_formed_is_xml_error_with_line);
	t_run("undeclared_namespace_prefix_is_xml_error",
	      test_undeclared_namespace_prefix_is_xml_error);
	t_run("empty_body_is_xml_error", test_empty_body_is_xml_error);
	t_run("billion_laughs_is_refused_quickly_without_expansion",
	      test_billion_laughs_is_refused_quickly_without_expansion);
	t_run("external_entity_is_refused_and_file_never_read",
	      test_external_entity_is_refused_and_file_never_read);
	t_run("parameter_entity_is_refused", test_parameter_entity_is_refused);
	t_run("external_dtd_is_refused", test_external_dtd_is_refused);
	t_run("empty_doctype_is_refused", test_empty_doctype_is_refused);
	t_run("undeclared_entity_reference_is_xml_error",
	      test_undeclared_entity_reference_is_xml_error);
	t_run("predefined_and_character_references_are_decoded",
	      test_predefined_and_character_references_are_decoded);
	t_run("text_in_pieces_is_read_whole", test_text_in_pieces_is_read_whole);
	t_run("attribute_references_are_decoded", test_attribute_references_are_decoded);
	t_run("long_values_are_read_whole", test_long_values_are_read_whole);
	t_run("nesting_at_depth_limit_is_accepted", test_nesting_at_depth_limit_is_accepted);
	t_run("too_deep_nesting_is_xml_error", test_too_deep_nesting_is_xml_error);
	t_run("oversized_body_is_refused_before_parsing",
	      test_oversized_body_is_refused_before_parsing);
	t_run("non_utf8_junk_is_xml_error", test_non_utf8_junk_is_xml_error);
	t_run("encoding_errors_are_reported_not_printed",
	      test_encoding_errors_are_reported_not_printed);
	t_run("nul_byte_in_body_is_xml_error", test_nul_byte_in_body_is_xml_error);
	t_run("latin1_declared_document_is_accepted", test_latin1_declared_document_is_accepted);
	t_run("error_message_quotes_hostile_value_safely",
	      test_error_message_quotes_hostile_value_safely);
	t_run("device_ip_v4_and_v6", test_device_ip_v4_and_v6);
	t_run("device_ip_without_version_is_bad_identifier",
	      test_device_ip_without_version_is_bad_identifier);
	t_run("device_ip_not_matching_version_is_bad_identifier",
	      test_device_ip_not_matching_version_is_bad_identifier);
	t_run("device_every_identifier_type", test_device_every_identifier_type);
	t_run("device_uri_is_kept_normalized_as_sip_or_tel",
	      test_device_uri_is_kept_normalized_as_sip_or_tel);
	t_run("device_malformed_value_is_bad_identifier",
	      test_device_malformed_value_is_bad_identifier);
	t_run("device_unknown_identifier_is_other_by_name",
	      test_device_unknown_identifier_is_other_by_name);
	t_run("device_with_too_many_identifiers_is_request_error",
	      test_device_with_too_many_identifiers_is_request_error);
	t_run("device_without_identifier_is_request_error",
	      test_device_without_identifier_is_request_error);
	t_run("two_devices_is_request_error", test_two_devices_is_request_error);
	t_run("device_identifier_empty_or_too_long_is_bad_identifier",
	      test_device_identifier_empty_or_too_long_is_bad_identifier);
	t_run("device_port_out_of_range_is_bad_identifier",
	      test_device_port_out_of_range_is_bad_identifier);
	t_run("device_identifier_with_child_elements_is_bad_identifier",
	      test_device_identifier_with_child_elements_is_bad_identifier);
	t_run("device_in_other_namespace_is_ignored", test_device_in_other_namespace_is_ignored);
	t_run("null_limits_and_zero_limits_mean_defaults",
	      test_null_limits_and_zero_limits_mean_defaults);
	t_run("null_error_pointer_is_allowed", test_null_error_pointer_is_allowed);
	t_run("error_code_names", test_error_code_names);
	t_run("parsing_in_parallel_threads_keeps_errors_apart",
	      test_parsing_in_parallel_threads_keeps_errors_apart);
	sc_free();
	xmlCleanupParser();
	return t_done();
}
