/* held_build_error(), held_build_response(), pidf_build() and civic.c: every document is
 * re-parsed and checked element by element with XPath. */
#include "check.h"
#include "held.h"
#include "schema_check.h"
#include "xp.h"

#include <libxml/parser.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2023-11-14T22:13:20Z and a day later */
#define T0 ((time_t)1700000000)
#define T1 ((time_t)1700086400)

static struct lis_error err;
static xmlDocPtr doc;

/* Parse a built document (proving it well-formed) into the file-wide doc. */
static bool take(char *out, size_t len)
{
	xmlFreeDoc(doc);
	doc = NULL;
	if (!CHECK(out != NULL))
		return false;
	CHECKF(strlen(out) == len, "out_len %zu, strlen %zu", len, strlen(out));
	/* everything lisd builds is valid against the RFC schemas */
	CHECK_SCHEMA_VALID(out, len);
	doc = xp_parse(out, len);
	free(out);
	return CHECK(doc != NULL);
}

static void check_xp(const char *expr, const char *want)
{
	char *got = xp_str(doc, expr);
	if (!CHECK_STR(got, want))
		t_diag("  for %s", expr);
	free(got);
}

static void check_count(const char *expr, int want)
{
	int got = xp_count(doc, expr);
	CHECKF(got == want, "count(%s) = %d, want %d", expr, got, want);
}

static int build_error(enum held_error_code code, const char *msg)
{
	char *out = NULL;
	size_t len = 0;
	memset(&err, 0, sizeof err);
	int rc = held_build_error(code, msg, &out, &len, &err);
	if (rc == 0)
		take(out, len);
	else
		CHECK(out == NULL);
	return rc;
}

static int build_response_echo(const struct held_uri_set *uris, const struct pidf_doc *pd,
			       const struct held_device *device)
{
	char *out = NULL;
	size_t len = 0;
	memset(&err, 0, sizeof err);
	int rc = held_build_response(uris, pd, device, &out, &len, &err);
	if (rc == 0)
		take(out, len);
	else
		CHECK(out == NULL);
	return rc;
}

static int build_response(const struct held_uri_set *uris, const struct pidf_doc *pd)
{
	return build_response_echo(uris, pd, NULL);
}

static int build_pidf(const struct pidf_doc *pd)
{
	char *out = NULL;
	size_t len = 0;
	memset(&err, 0, sizeof err);
	int rc = pidf_build(pd, &out, &len, &err);
	if (rc == 0)
		take(out, len);
	else
		CHECK(out == NULL);
	return rc;
}

static struct civic_address office(void)
{
	struct civic_address ca = { .lang = "en-US" };
	ca.field[CIVIC_COUNTRY] = "US";
	ca.field[CIVIC_A1] = "NY";
	ca.field[CIVIC_A3] = "New York";
	ca.field[CIVIC_RD] = "Broadway";
	ca.field[CIVIC_STS] = "ST";
	ca.field[CIVIC_HNO] = "123";
	ca.field[CIVIC_PC] = "10001";
	ca.field[CIVIC_BLD] = "North";
	ca.field[CIVIC_FLR] = "4";
	ca.field[CIVIC_ROOM] = "410";
	return ca;
}

static struct pidf_doc base_doc(const struct civic_address *ca, const struct pidf_geo *geo)
{
	return (struct pidf_doc){
		.entity = "pres:ws1047@lis.example.net",
		.device_id = "mac:0050b6a1c2d3",
		.method = "Wiremap",
		.timestamp = T0,
		.retransmission_allowed = true,
		.retention_expiry = T1,
		.civic = ca,
		.geo = geo,
	};
}

#define P "/held:locationResponse/pidf:presence"
#define D1 P "/dm:device[1]"
#define D2 P "/dm:device[2]"
#define CA D1 "/gp:geopriv/gp:location-info/ca:civicAddress"
#define LI2 D2 "/gp:geopriv/gp:location-info"

/* ---- errors ---- */

static void test_error_document_for_each_code(void)
{
	static const struct {
		enum held_error_code code;
		const char *name;
	} codes[] = {
		{HELD_E_REQUEST_ERROR, "requestError"},
		{HELD_E_XML_ERROR, "xmlError"},
		{HELD_E_GENERAL_LIS_ERROR, "generalLisError"},
		{HELD_E_LOCATION_UNKNOWN, "locationUnknown"},
		{HELD_E_UNSUPPORTED_MESSAGE, "unsupportedMessage"},
		{HELD_E_TIMEOUT, "timeout"},
		{HELD_E_CANNOT_PROVIDE_LI_TYPE, "cannotProvideLiType"},
		{HELD_E_NOT_LOCATABLE, "notLocatable"},
		{HELD_E_BAD_IDENTIFIER, "badIdentifier"},
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char msg[64];
		snprintf(msg, sizeof msg, "reason %zu", i);
		if (!CHECK(build_error(codes[i].code, msg) == 0))
			continue;
		check_xp("namespace-uri(/*)", HELD_NS);
		check_xp("local-name(/*)", "error");
		check_xp("/held:error/@code", codes[i].name);
		check_count("/held:error/@*", 1);
		check_count("/held:error/*", 1);
		check_xp("/held:error/held:message", msg);
		check_xp("/held:error/held:message/@xml:lang", "en");
	}
}

static void test_error_without_message_has_no_message_element(void)
{
	CHECK(build_error(HELD_E_TIMEOUT, NULL) == 0);
	check_xp("/held:error/@code", "timeout");
	check_count("/held:error/*", 0);
	CHECK(build_error(HELD_E_TIMEOUT, "") == 0);
	check_count("/held:error/*", 0);
}

static void test_error_with_invalid_code_is_refused(void)
{
	CHECK(build_error(HELD_OK, "x") == -1);
	CHECK(err.code == LIS_E_HELD && err.held == HELD_E_GENERAL_LIS_ERROR && err.msg[0]);
	CHECK(build_error((enum held_error_code)42, "x") == -1);
}

static void test_error_message_special_characters_round_trip(void)
{
	const char *msg = "a & b < c > d \"q\" 'a' \xc3\xa9\xe2\x82\xac ]]> &amp;";
	CHECK(build_error(HELD_E_REQUEST_ERROR, msg) == 0);
	check_xp("/held:error/held:message", msg);
}

static void test_error_message_with_invalid_utf8_is_degraded_not_dropped(void)
{
	CHECK(build_error(HELD_E_XML_ERROR, "bad \xff\xfe byte \x01") == 0);
	check_xp("/held:error/@code", "xmlError");
	check_xp("/held:error/held:message", "bad ?? byte ?");
}

/* ---- responses ---- */

static void test_civic_only_response(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_xp("namespace-uri(/*)", HELD_NS);
	check_xp("local-name(/*)", "locationResponse");
	check_count("/held:locationResponse/*", 1);
	check_count("/held:locationResponse/held:locationUriSet", 0);
	check_count(P "/dm:device", 1);
	check_count(P "/dm:device/gp:geopriv", 1);
	check_xp(D1 "/@id", "d1");
	check_xp(CA "/@xml:lang", "en-US");
	check_count(CA "/*", 10);
	check_xp(CA "/ca:country", "US");
	check_xp(CA "/ca:A1", "NY");
	check_xp(CA "/ca:A3", "New York");
	check_xp(CA "/ca:RD", "Broadway");
	check_xp(CA "/ca:STS", "ST");
	check_xp(CA "/ca:HNO", "123");
	check_xp(CA "/ca:PC", "10001");
	check_xp(CA "/ca:BLD", "North");
	check_xp(CA "/ca:FLR", "4");
	check_xp(CA "/ca:ROOM", "410");
	check_count(P "//gml:*", 0);
	check_count(P "//gs:*", 0);
}

static void test_device_children_in_rfc4479_order(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	CHECK(build_response(NULL, &pd) == 0);
	check_count(D1 "/*", 3);
	check_xp("name(" D1 "/*[1])", "gp:geopriv");
	check_xp("name(" D1 "/*[2])", "dm:deviceID");
	check_xp("name(" D1 "/*[3])", "dm:timestamp");
	check_xp(D1 "/dm:deviceID", "mac:0050b6a1c2d3");
	/* geopriv: location-info, usage-rules, method (RFC 4119 §2.2) */
	check_count(D1 "/gp:geopriv/*", 3);
	check_xp("name(" D1 "/gp:geopriv/*[1])", "gp:location-info");
	check_xp("name(" D1 "/gp:geopriv/*[2])", "gp:usage-rules");
	check_xp("name(" D1 "/gp:geopriv/*[3])", "gp:method");
	/* PIDF tuple/status are not used with dm:device (RFC 5491 erratum 1888) */
	check_count(P "//pidf:status", 0);
}

static void test_usage_rules_method_and_timestamp(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	CHECK(build_response(NULL, &pd) == 0);
	const char *ur = D1 "/gp:geopriv/gp:usage-rules";
	check_count(ur, 1);
	check_count("/descendant::gp:usage-rules[1]/*", 2);
	check_xp("name(/descendant::gp:usage-rules[1]/*[1])", "gbp:retransmission-allowed");
	check_xp("name(/descendant::gp:usage-rules[1]/*[2])", "gbp:retention-expiry");
	check_xp(D1 "/gp:geopriv/gp:usage-rules/gbp:retransmission-allowed", "true");
	check_xp(D1 "/gp:geopriv/gp:usage-rules/gbp:retention-expiry", "2023-11-15T22:13:20Z");
	check_xp(D1 "/gp:geopriv/gp:method", "Wiremap");
	check_xp(D1 "/dm:timestamp", "2023-11-14T22:13:20Z");

	pd.retransmission_allowed = false;
	pd.timestamp = 0;
	pd.retention_expiry = (time_t)253402300799; /* 9999-12-31T23:59:59Z */
	CHECK(build_response(NULL, &pd) == 0);
	check_xp(D1 "/gp:geopriv/gp:usage-rules/gbp:retransmission-allowed", "false");
	check_xp(D1 "/dm:timestamp", "1970-01-01T00:00:00Z");
	check_xp(D1 "/gp:geopriv/gp:usage-rules/gbp:retention-expiry", "9999-12-31T23:59:59Z");
}

static void test_time_beyond_year_9999_is_refused(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	pd.retention_expiry = (time_t)253402300800;
	CHECK(build_response(NULL, &pd) == -1);
	CHECK(err.code == LIS_E_HELD && err.held == HELD_E_GENERAL_LIS_ERROR);
}

static void test_entity_attribute_and_namespace_declarations(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	CHECK(build_response(NULL, &pd) == 0);
	check_xp(P "/@entity", "pres:ws1047@lis.example.net");
	check_xp("namespace-uri(" P ")", PIDF_NS);
	static const char *const decl[][2] = {
		{"dm", PIDF_DM_NS}, {"gp", PIDF_GP_NS}, {"gbp", PIDF_GBP_NS}, {"ca", PIDF_CA_NS},
		{"gml", PIDF_GML_NS}, {"gs", PIDF_GS_NS},
	};
	for (size_t i = 0; i < sizeof decl / sizeof decl[0]; i++) {
		char expr[128];
		snprintf(expr, sizeof expr, P "/namespace::*[name()='%s']", decl[i][0]);
		check_xp(expr, decl[i][1]);
	}
}

static void test_civic_and_geodetic_point_go_in_separate_devices(void)
{
	struct civic_address ca = office();
	struct pidf_geo geo = { .lat = 40.7505, .lon = -73.9934 };
	struct pidf_doc pd = base_doc(&ca, &geo);
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_count(P "/dm:device", 2);
	check_xp(D1 "/@id", "d1");
	check_xp(D2 "/@id", "d2");
	/* RFC 5491 §3: one location per geopriv */
	check_count(P "//gp:location-info", 2);
	check_count(P "//gp:location-info[count(*) != 1]", 0);
	check_count(D1 "//ca:civicAddress", 1);
	check_count(D1 "//gml:*", 0);
	check_count(D2 "//ca:*", 0);
	check_count(LI2 "/*", 1);
	check_xp("name(" LI2 "/*)", "gml:Point");
	check_xp(LI2 "/gml:Point/@srsName", "urn:ogc:def:crs:EPSG::4326");
	check_xp(LI2 "/gml:Point/gml:pos", "40.7505 -73.9934");
	check_xp(D2 "/gp:geopriv/gp:method", "Wiremap");
	check_xp(D2 "/gp:geopriv/gp:usage-rules/gbp:retention-expiry", "2023-11-15T22:13:20Z");
	check_xp(D2 "/dm:deviceID", "mac:0050b6a1c2d3");
	check_xp(D2 "/dm:timestamp", "2023-11-14T22:13:20Z");
}

static void test_geodetic_circle(void)
{
	struct pidf_geo geo = { .lat = -34.407, .lon = 150.88001, .radius = 850.24 };
	struct pidf_doc pd = base_doc(NULL, &geo);
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_count(P "/dm:device", 1);
	check_xp(D1 "/@id", "d1");
	check_xp("name(" D1 "/gp:geopriv/gp:location-info/*)", "gs:Circle");
	check_xp(D1 "//gs:Circle/@srsName", "urn:ogc:def:crs:EPSG::4326");
	check_xp(D1 "//gs:Circle/gml:pos", "-34.407 150.88001");
	check_xp(D1 "//gs:Circle/gs:radius", "850.24");
	check_xp(D1 "//gs:Circle/gs:radius/@uom", "urn:ogc:def:uom:EPSG::9001");
	check_xp("name(" D1 "//gs:Circle/*[1])", "gml:pos");
	check_xp("name(" D1 "//gs:Circle/*[2])", "gs:radius");
}

static void test_geodetic_3d_point_uses_epsg_4979(void)
{
	struct pidf_geo geo = { .lat = 51.5, .lon = -0.1276, .has_alt = true, .alt = 35.5 };
	struct pidf_doc pd = base_doc(NULL, &geo);
	CHECK(build_response(NULL, &pd) == 0);
	check_xp(D1 "//gml:Point/@srsName", "urn:ogc:def:crs:EPSG::4979");
	check_xp(D1 "//gml:Point/gml:pos", "51.5 -0.1276 35.5");
}

static void test_geodetic_3d_with_radius_is_sphere(void)
{
	struct pidf_geo geo = { .lat = 1, .lon = 2, .has_alt = true, .alt = -3, .radius = 4 };
	struct pidf_doc pd = base_doc(NULL, &geo);
	CHECK(build_response(NULL, &pd) == 0);
	check_count(D1 "//gs:Circle", 0);
	check_xp(D1 "//gs:Sphere/@srsName", "urn:ogc:def:crs:EPSG::4979");
	check_xp(D1 "//gs:Sphere/gml:pos", "1.0 2.0 -3.0");
	check_xp(D1 "//gs:Sphere/gs:radius", "4.0");
}

static void test_coordinates_keep_seven_decimals_and_round(void)
{
	struct pidf_geo geo = { .lat = -0.00000001, .lon = 179.99999996, .radius = 0.0004 };
	struct pidf_doc pd = base_doc(NULL, &geo);
	CHECK(build_response(NULL, &pd) == 0);
	/* radius rounds to 0.0 but is > 0, so still a circle */
	check_xp(D1 "//gs:Circle/gml:pos", "0.0 180.0");
	geo = (struct pidf_geo){ .lat = 12.3456789, .lon = -98.7654321 };
	CHECK(build_response(NULL, &pd) == 0);
	check_xp(D1 "//gml:Point/gml:pos", "12.3456789 -98.7654321");
}

/* Run only where main() found a locale whose decimal separator is not '.'. */
static void test_numbers_ignore_lc_numeric(void)
{
	CHECK(setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8"));
	struct pidf_geo geo = { .lat = 47.5, .lon = 8.25 };
	struct pidf_doc pd = base_doc(NULL, &geo);
	CHECK(build_response(NULL, &pd) == 0);
	check_xp(D1 "//gml:Point/gml:pos", "47.5 8.25");
	setlocale(LC_NUMERIC, "C");
}

static void test_bad_geodetic_values_are_refused(void)
{
	struct pidf_geo bad[] = {
		{ .lat = 90.5, .lon = 0 }, { .lat = 0, .lon = -180.1 }, { .lat = NAN, .lon = 0 },
		{ .lat = 0, .lon = INFINITY }, { .lat = 0, .lon = 0, .radius = -1 },
		{ .lat = 0, .lon = 0, .has_alt = true, .alt = NAN },
		{ .lat = 0, .lon = 0, .has_alt = true, .alt = 1e300 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct pidf_doc pd = base_doc(NULL, &bad[i]);
		CHECKF(build_response(NULL, &pd) == -1, "case %zu", i);
		CHECK(err.code == LIS_E_HELD && err.held == HELD_E_GENERAL_LIS_ERROR && err.msg[0]);
	}
}

static void test_empty_civic_element_set_is_left_out(void)
{
	struct civic_address empty = { .lang = "en" };
	empty.field[CIVIC_A1] = "";
	struct pidf_geo geo = { .lat = 1.5, .lon = 2.5 };
	struct pidf_doc pd = base_doc(&empty, &geo);
	CHECK(build_response(NULL, &pd) == 0);
	check_count(P "/dm:device", 1);
	check_count(P "//ca:civicAddress", 0);
	check_xp(D1 "/@id", "d1");
	check_count(D1 "//gml:Point", 1);
	/* an empty civic address and no geodetic: nothing to say, refuse */
	pd.geo = NULL;
	CHECK(build_response(NULL, &pd) == -1);
	CHECK(err.code == LIS_E_HELD && err.held == HELD_E_GENERAL_LIS_ERROR);
}

static void test_empty_string_fields_are_left_out(void)
{
	struct civic_address ca = office();
	ca.field[CIVIC_A2] = "";
	ca.field[CIVIC_SEAT] = "";
	struct pidf_doc pd = base_doc(&ca, NULL);
	CHECK(build_response(NULL, &pd) == 0);
	check_count(CA "/*", 10);
	check_count(CA "/ca:A2", 0);
}

static void test_all_31_civic_fields_in_schema_order(void)
{
	struct civic_address ca = { .lang = "en" };
	char values[CIVIC_N_FIELDS][16];
	for (int f = 0; f < CIVIC_N_FIELDS; f++) {
		snprintf(values[f], sizeof values[f], "v%d", f);
		ca.field[f] = values[f];
	}
	/* RFC 5139 §4: country is two capital letters (lisctl refuses anything else) */
	snprintf(values[CIVIC_COUNTRY], sizeof values[0], "VA");
	struct pidf_doc pd = base_doc(&ca, NULL);
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	CHECK(CIVIC_N_FIELDS == 31);
	check_count(CA "/*", 31);
	static const char *const rfc5139_order[] = {
		"country", "A1", "A2", "A3", "A4", "A5", "A6", "PRM", "PRD", "RD", "STS", "POD",
		"POM", "RDSEC", "RDBR", "RDSUBBR", "HNO", "HNS", "LMK", "LOC", "FLR", "NAM", "PC",
		"BLD", "UNIT", "ROOM", "SEAT", "PLC", "PCN", "POBOX", "ADDCODE",
	};
	for (int i = 0; i < CIVIC_N_FIELDS; i++) {
		char expr[160], want[32];
		snprintf(expr, sizeof expr, "local-name(" CA "/*[%d])", i + 1);
		check_xp(expr, rfc5139_order[i]);
		snprintf(expr, sizeof expr, "namespace-uri(" CA "/*[%d])", i + 1);
		check_xp(expr, PIDF_CA_NS);
		snprintf(expr, sizeof expr, CA "/*[%d]", i + 1);
		snprintf(want, sizeof want, "v%d", i);
		check_xp(expr, i == CIVIC_COUNTRY ? "VA" : want);
	}
}

static void test_civic_without_lang_has_no_xml_lang(void)
{
	struct civic_address ca = office();
	ca.lang = NULL;
	struct pidf_doc pd = base_doc(&ca, NULL);
	CHECK(build_response(NULL, &pd) == 0);
	check_count(CA "/@xml:lang", 0);
	check_count(CA "/@*", 0);
}

static void test_bad_language_tag_is_refused(void)
{
	const char *bad[] = {"en US", "-en", "en-", "toolonglang", "en_US", "e\"n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct civic_address ca = office();
		ca.lang = bad[i];
		struct pidf_doc pd = base_doc(&ca, NULL);
		CHECKF(build_response(NULL, &pd) == -1, "lang \"%s\"", bad[i]);
	}
	struct civic_address ca = office();
	ca.lang = "zh-Hant-TW";
	struct pidf_doc pd = base_doc(&ca, NULL);
	CHECK(build_response(NULL, &pd) == 0);
	check_xp(CA "/@xml:lang", "zh-Hant-TW");
}

/* RFC 4479 makes dm:deviceID mandatory in dm:device: with no device identifier the location
 * travels in a PIDF tuple (status > geopriv, then timestamp), as in RFC 5985's example. */
static void test_without_device_id_tuples_carry_the_locations(void)
{
	struct civic_address ca = office();
	struct pidf_geo geo = { .lat = 40.7505, .lon = -73.9934, .radius = 15 };
	struct pidf_doc pd = base_doc(&ca, &geo);
	pd.device_id = NULL;
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_count(P "/dm:device", 0);
	check_count(P "/*", 2);
	check_count(P "/pidf:tuple", 2);
	check_xp(P "/pidf:tuple[1]/@id", "t1");
	check_xp(P "/pidf:tuple[2]/@id", "t2");
	for (int i = 1; i <= 2; i++) {
		char t[64], x[256];
		snprintf(t, sizeof t, P "/pidf:tuple[%d]", i);
		snprintf(x, sizeof x, "%s/*", t);
		check_count(x, 2);
		snprintf(x, sizeof x, "name(%s/*[1])", t);
		check_xp(x, "status");
		snprintf(x, sizeof x, "name(%s/*[2])", t);
		check_xp(x, "timestamp");
		snprintf(x, sizeof x, "%s/pidf:timestamp", t);
		check_xp(x, "2023-11-14T22:13:20Z");
		snprintf(x, sizeof x, "%s/pidf:status/*", t);
		check_count(x, 1);
		snprintf(x, sizeof x, "%s/pidf:status/gp:geopriv/gp:method", t);
		check_xp(x, "Wiremap");
		snprintf(x, sizeof x, "%s/pidf:status/gp:geopriv/gp:usage-rules/gbp:retention-expiry", t);
		check_xp(x, "2023-11-15T22:13:20Z");
		snprintf(x, sizeof x, "%s/pidf:status/gp:geopriv/gp:location-info/*", t);
		check_count(x, 1);
	}
	check_xp(P "/pidf:tuple[1]/pidf:status/gp:geopriv/gp:location-info/ca:civicAddress/ca:HNO",
		 "123");
	check_xp(P "/pidf:tuple[2]/pidf:status/gp:geopriv/gp:location-info/gs:Circle/gs:radius",
		 "15.0");
	check_count(P "//dm:*", 0);
}

/* RFC 5985 §6.2: the forms in the order asked; RFC 5491 §3 rule #8: the first holder is
 * the one read first. Civic first unless geodetic_first. */
static void test_geodetic_first_puts_the_geodetic_holder_first(void)
{
	struct civic_address ca = office();
	struct pidf_geo geo = { .lat = 40.7505, .lon = -73.9934, .radius = 15 };
	struct pidf_doc pd = base_doc(&ca, &geo);
	pd.geodetic_first = true;
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_count(D1 "/gp:geopriv/gp:location-info/gs:Circle", 1);
	check_count(LI2 "/ca:civicAddress", 1);
	check_xp(D1 "/@id", "d1");
	pd.device_id = NULL;
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_count(P "/pidf:tuple[1]/pidf:status/gp:geopriv/gp:location-info/gs:Circle", 1);
	check_count(P "/pidf:tuple[2]/pidf:status/gp:geopriv/gp:location-info/ca:civicAddress", 1);
	/* one form only: the flag changes nothing */
	pd.civic = NULL;
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_count(P "/*", 1);
	check_count(P "/pidf:tuple/pidf:status/gp:geopriv/gp:location-info/gs:Circle", 1);
	pd.civic = &ca;
	pd.geo = NULL;
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_count(P "/*", 1);
	check_count(P "/pidf:tuple/pidf:status/gp:geopriv/gp:location-info/ca:civicAddress", 1);
}

/* A fallback says so in words: a note (RFC 3863 tuple note, RFC 4479 dm:note) before the
 * timestamp, with xml:lang. */
static void test_note_goes_before_timestamp_in_tuple_and_device(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	const char *note = "location of subnet 10.1.2.0/24 & no port evidence";
	pd.note = note;
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_count(D1 "/*", 4);
	check_xp("name(" D1 "/*[2])", "dm:deviceID");
	check_xp("name(" D1 "/*[3])", "dm:note");
	check_xp("name(" D1 "/*[4])", "dm:timestamp");
	check_xp(D1 "/dm:note", note);
	check_xp(D1 "/dm:note/@xml:lang", "en");

	pd.device_id = NULL;
	if (!CHECK(build_response(NULL, &pd) == 0))
		return;
	check_count(P "/pidf:tuple/*", 3);
	check_xp("name(" P "/pidf:tuple/*[1])", "status");
	check_xp("name(" P "/pidf:tuple/*[2])", "note");
	check_xp("name(" P "/pidf:tuple/*[3])", "timestamp");
	check_xp(P "/pidf:tuple/pidf:note", note);
	check_xp(P "/pidf:tuple/pidf:note/@xml:lang", "en");

	pd.note = "bad \x01 control";
	CHECK(build_response(NULL, &pd) == -1);
}

static void test_optional_method_is_left_out(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	pd.method = NULL;
	CHECK(build_response(NULL, &pd) == 0);
	check_count(D1 "/gp:geopriv/gp:method", 0);
	check_count(D1 "/gp:geopriv/*", 2);
	check_count(D1 "/*", 3);
}

static void test_missing_entity_is_refused(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	pd.entity = NULL;
	CHECK(build_response(NULL, &pd) == -1);
	pd.entity = "";
	CHECK(build_response(NULL, &pd) == -1);
	CHECK(err.code == LIS_E_HELD && err.held == HELD_E_GENERAL_LIS_ERROR);
}

static void test_special_characters_are_escaped_and_round_trip(void)
{
	struct civic_address ca = { .lang = "de-CH" };
	const char *nam = "Ben & Jerry's <Ice> \"Cream\" ]]> &amp; &#38;";
	const char *rd = "Stra\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x9a\x92 \xe5\x8c\x97\xe4\xba\xac";
	const char *loc = "line1\nline2\ttab";
	ca.field[CIVIC_COUNTRY] = "CH";
	ca.field[CIVIC_NAM] = nam;
	ca.field[CIVIC_RD] = rd;
	ca.field[CIVIC_LOC] = loc;
	struct pidf_doc pd = base_doc(&ca, NULL);
	pd.entity = "pres:a&b<c>\"d\"@lis.example";
	pd.device_id = "uri:sip:x&y@z";
	pd.method = "Manual <by & hand>";
	const char *uris[] = {"https://lis.example/l?a=1&b=<2>"};
	struct held_uri_set set = { .expires = T1, .n = 1, .uris = uris };
	if (!CHECK(build_response(&set, &pd) == 0))
		return;
	check_xp(CA "/ca:NAM", nam);
	check_xp(CA "/ca:RD", rd);
	check_xp(CA "/ca:LOC", loc);
	check_xp(P "/@entity", "pres:a&b<c>\"d\"@lis.example");
	check_xp(D1 "/dm:deviceID", "uri:sip:x&y@z");
	check_xp(D1 "/gp:geopriv/gp:method", "Manual <by & hand>");
	check_xp("/held:locationResponse/held:locationUriSet/held:locationURI",
		 "https://lis.example/l?a=1&b=<2>");
	/* escaping did not create elements */
	check_count(CA "/*", 4);
}

static void test_invalid_utf8_or_control_characters_are_refused(void)
{
	const char *bad[] = {"caf\xc3", "\xff", "a\x01\x62", "\xed\xa0\x80", "\xc0\xaf",
			     "\xef\xbf\xbe"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct civic_address ca = office();
		ca.field[CIVIC_LOC] = bad[i];
		struct pidf_doc pd = base_doc(&ca, NULL);
		CHECKF(build_response(NULL, &pd) == -1, "case %zu", i);
		CHECKF(strstr(err.msg, "LOC") != NULL, "%s", err.msg);
	}
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	pd.method = "x\x1b[31m";
	CHECK(build_response(NULL, &pd) == -1);
	CHECK(strstr(err.msg, "method") != NULL);
}

/* ---- RFC 6155 §2.2 device echo ---- */

#define DEV "/held:locationResponse/heldid:device"

/* "A LIS that supports this specification echoes the "device" element in a successful HELD
 * response, including the identifiers that were used": after the presence (the §7 schema's
 * other-namespace slot), each identifier as given, a MAC in the schema's hyphen form. */
static void test_device_echo_comes_last_with_each_identifier(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	pd.device_id = NULL;
	struct ident ids[] = {
		{IDENT_IP, "192.0.2.5"}, {IDENT_MAC, "00:50:b6:a1:c2:d3"},
		{IDENT_SIP, "sip:alice@example.com"}, {IDENT_TEL, "tel:+1-555-123-4567"},
	};
	struct held_device dev = { .n = 4, .ids = ids };
	const char *uris[] = {"https://lis.example.net/loc/3q2-6w"};
	struct held_uri_set set = { .expires = T1, .n = 1, .uris = uris };
	if (!CHECK(build_response_echo(&set, &pd, &dev) == 0))
		return;
	check_count("/held:locationResponse/*", 3);
	check_xp("local-name(/held:locationResponse/*[1])", "locationUriSet");
	check_xp("local-name(/held:locationResponse/*[2])", "presence");
	check_xp("local-name(/held:locationResponse/*[3])", "device");
	check_count(DEV "/*", 4);
	check_xp(DEV "/heldid:ip", "192.0.2.5");
	check_xp(DEV "/heldid:ip/@v", "4");
	check_xp(DEV "/heldid:mac", "00-50-B6-A1-C2-D3");
	check_xp(DEV "/heldid:uri[1]", "sip:alice@example.com");
	check_xp(DEV "/heldid:uri[2]", "tel:+1-555-123-4567");
	check_xp("namespace-uri(" DEV "/*[4])", HELD_ID_NS);

	/* IPv6 gets v="6"; a MAC already in the schema's form is kept as written; by
	 * reference only, the echo follows the URI set */
	struct ident more[] = { {IDENT_IP, "2001:db8::1:ea7:fee1:d1e"},
				{IDENT_MAC, "a0-12-34-56-78-90"} };
	struct held_device dev2 = { .n = 2, .ids = more };
	if (!CHECK(build_response_echo(&set, NULL, &dev2) == 0))
		return;
	check_count("/held:locationResponse/*", 2);
	check_xp("local-name(/held:locationResponse/*[2])", "device");
	check_xp(DEV "/heldid:ip/@v", "6");
	check_xp(DEV "/heldid:ip", "2001:db8::1:ea7:fee1:d1e");
	check_xp(DEV "/heldid:mac", "a0-12-34-56-78-90");
}

static void test_device_echo_refuses_what_has_no_element(void)
{
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	struct ident other[] = { {IDENT_OTHER, "flow"} };
	struct held_device dev = { .n = 1, .ids = other };
	CHECK(build_response_echo(NULL, &pd, &dev) == -1);
	CHECK(err.code == LIS_E_HELD && err.held == HELD_E_GENERAL_LIS_ERROR);
	struct ident bad_mac[] = { {IDENT_MAC, "00:50"} };
	dev.ids = bad_mac;
	CHECK(build_response_echo(NULL, &pd, &dev) == -1);
	struct held_device none = { .n = 0, .ids = NULL };
	CHECK(build_response_echo(NULL, &pd, &none) == -1);
}

static void test_location_uri_set_only(void)
{
	const char *uris[] = {"https://lis.example.net/loc/3q2-6w", "sip:loc-3q2@lis.example.net"};
	struct held_uri_set set = { .expires = T1, .n = 2, .uris = uris };
	if (!CHECK(build_response(&set, NULL) == 0))
		return;
	check_count("/held:locationResponse/*", 1);
	check_xp("/held:locationResponse/held:locationUriSet/@expires", "2023-11-15T22:13:20Z");
	check_count("/held:locationResponse/held:locationUriSet/held:locationURI", 2);
	check_xp("/held:locationResponse/held:locationUriSet/held:locationURI[1]", uris[0]);
	check_xp("/held:locationResponse/held:locationUriSet/held:locationURI[2]", uris[1]);
	check_count("//pidf:presence", 0);
}

static void test_uri_set_comes_before_presence(void)
{
	const char *uris[] = {"https://lis.example.net/loc/x"};
	struct held_uri_set set = { .expires = T1, .n = 1, .uris = uris };
	struct civic_address ca = office();
	struct pidf_doc pd = base_doc(&ca, NULL);
	CHECK(build_response(&set, &pd) == 0);
	check_count("/held:locationResponse/*", 2);
	check_xp("local-name(/held:locationResponse/*[1])", "locationUriSet");
	check_xp("local-name(/held:locationResponse/*[2])", "presence");
	check_xp("namespace-uri(/held:locationResponse/*[2])", PIDF_NS);
}

static void test_neither_uri_set_nor_presence_is_refused(void)
{
	CHECK(build_response(NULL, NULL) == -1);
	CHECK(err.code == LIS_E_HELD && err.held == HELD_E_GENERAL_LIS_ERROR && err.msg[0]);
	struct held_uri_set empty = { .expires = T1, .n = 0, .uris = NULL };
	CHECK(build_response(&empty, NULL) == -1);
	const char *uris[] = {""};
	struct held_uri_set blank = { .expires = T1, .n = 1, .uris = uris };
	CHECK(build_response(&blank, NULL) == -1);
}

/* ---- standalone PIDF-LO ---- */

static void test_standalone_pidf_matches_protocol_example(void)
{
	struct civic_address ca = office();
	struct pidf_geo geo = { .lat = 40.7505, .lon = -73.9934, .radius = 30 };
	struct pidf_doc pd = base_doc(&ca, &geo);
	if (!CHECK(build_pidf(&pd) == 0))
		return;
	check_xp("namespace-uri(/*)", PIDF_NS);
	check_xp("local-name(/*)", "presence");
	check_xp("/pidf:presence/@entity", "pres:ws1047@lis.example.net");
	check_count("/pidf:presence/dm:device", 2);
	check_xp("/pidf:presence/dm:device[1]/gp:geopriv/gp:location-info/ca:civicAddress/ca:HNO",
		 "123");
	check_xp("/pidf:presence/dm:device[2]//gs:Circle/gs:radius", "30.0");
	check_count("/pidf:presence/dm:device[@id='d1']", 1);
	check_count("/pidf:presence/dm:device[@id='d2']", 1);
}

static void test_pidf_refuses_no_location(void)
{
	struct pidf_doc pd = base_doc(NULL, NULL);
	CHECK(build_pidf(&pd) == -1);
	CHECK(build_pidf(NULL) == -1);
}

/* ---- civic.c ---- */

static void test_civic_field_names_round_trip(void)
{
	for (int f = 0; f < CIVIC_N_FIELDS; f++) {
		const char *name = civic_field_name(f);
		CHECK(name != NULL);
		CHECKF(civic_field_from_name(name) == f, "%s", name);
	}
	CHECK_STR(civic_field_name(CIVIC_COUNTRY), "country");
	CHECK_STR(civic_field_name(CIVIC_ADDCODE), "ADDCODE");
	CHECK(civic_field_name(CIVIC_N_FIELDS) == NULL);
	CHECK(civic_field_from_name("Country") == -1);
	CHECK(civic_field_from_name("a1") == -1);
	CHECK(civic_field_from_name("") == -1);
	CHECK(civic_field_from_name(NULL) == -1);
}

static void test_civic_address_is_empty_when_no_field_present(void)
{
	struct civic_address ca = { .lang = "en" };
	CHECK(civic_address_is_empty(&ca));
	CHECK(civic_address_is_empty(NULL));
	ca.field[CIVIC_ROOM] = "";
	CHECK(civic_address_is_empty(&ca));
	ca.field[CIVIC_ADDCODE] = "X";
	CHECK(!civic_address_is_empty(&ca));
}

int main(void)
{
	xmlInitParser();
	t_run("error_document_for_each_code", test_error_document_for_each_code);
	t_run("error_without_message_has_no_message_element",
	      test_error_without_message_has_no_message_element);
	t_run("error_with_invalid_code_is_refused", test_error_with_invalid_code_is_refused);
	t_run("error_message_special_characters_round_trip",
	      test_error_message_special_characters_round_trip);
	t_run("error_message_with_invalid_utf8_is_degraded_not_dropped",
	      test_error_message_with_invalid_utf8_is_degraded_not_dropped);
	t_run("civic_only_response", test_civic_only_response);
	t_run("device_children_in_rfc4479_order", test_device_children_in_rfc4479_order);
	t_run("usage_rules_method_and_timestamp", test_usage_rules_method_and_timestamp);
	t_run("time_beyond_year_9999_is_refused", test_time_beyond_year_9999_is_refused);
	t_run("entity_attribute_and_namespace_declarations",
	      test_entity_attribute_and_namespace_declarations);
	t_run("civic_and_geodetic_point_go_in_separate_devices",
	      test_civic_and_geodetic_point_go_in_separate_devices);
	t_run("geodetic_circle", test_geodetic_circle);
	t_run("geodetic_3d_point_uses_epsg_4979", test_geodetic_3d_point_uses_epsg_4979);
	t_run("geodetic_3d_with_radius_is_sphere", test_geodetic_3d_with_radius_is_sphere);
	t_run("coordinates_keep_seven_decimals_and_round",
	      test_coordinates_keep_seven_decimals_and_round);
	/* tests/run.sh compiles a de_DE locale into the build tree when the machine has none */
	const char *locpath = getenv("LIS_TEST_LOCPATH");
	if (locpath && locpath[0])
		setenv("LOCPATH", locpath, 1);
	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
		setlocale(LC_NUMERIC, "C");
		t_run("numbers_ignore_lc_numeric", test_numbers_ignore_lc_numeric);
	} else {
		t_skip("numbers_ignore_lc_numeric", "no de_DE or fr_FR locale installed");
	}
	t_run("bad_geodetic_values_are_refused", test_bad_geodetic_values_are_refused);
	t_run("empty_civic_element_set_is_left_out", test_empty_civic_element_set_is_left_out);
	t_run("empty_string_fields_are_left_out", test_empty_string_fields_are_left_out);
	t_run("all_31_civic_fields_in_schema_order", test_all_31_civic_fields_in_schema_order);
	t_run("civic_without_lang_has_no_xml_lang", test_civic_without_lang_has_no_xml_lang);
	t_run("bad_language_tag_is_refused", test_bad_language_tag_is_refused);
	t_run("without_device_id_tuples_carry_the_locations",
	      test_without_device_id_tuples_carry_the_locations);
	t_run("geodetic_first_puts_the_geodetic_holder_first",
	      test_geodetic_first_puts_the_geodetic_holder_first);
	t_run("optional_method_is_left_out", test_optional_method_is_left_out);
	t_run("note_goes_before_timestamp_in_tuple_and_device",
	      test_note_goes_before_timestamp_in_tuple_and_device);
	t_run("missing_entity_is_refused", test_missing_entity_is_refused);
	t_run("special_characters_are_escaped_and_round_trip",
	      test_special_characters_are_escaped_and_round_trip);
	t_run("invalid_utf8_or_control_characters_are_refused",
	      test_invalid_utf8_or_control_characters_are_refused);
	t_run("device_echo_comes_last_with_each_identifier",
	      test_device_echo_comes_last_with_each_identifier);
	t_run("device_echo_refuses_what_has_no_element",
	      test_device_echo_refuses_what_has_no_element);
	t_run("location_uri_set_only", test_location_uri_set_only);
	t_run("uri_set_comes_before_presence", test_uri_set_comes_before_presence);
	t_run("neither_uri_set_nor_presence_is_refused",
	      test_neither_uri_set_nor_presence_is_refused);
	t_run("standalone_pidf_matches_protocol_example",
	      test_standalone_pidf_matches_protocol_example);
	t_run("pidf_refuses_no_location", test_pidf_refuses_no_location);
	t_run("civic_field_names_round_trip", test_civic_field_names_round_trip);
	t_run("civic_address_is_empty_when_no_field_present",
	      test_civic_address_is_empty_when_no_field_present);
	xmlFreeDoc(doc);
	sc_free();
	xmlCleanupParser();
	return t_done();
}
