/* lisctl's CSV loading and validation (lis-wiremap(5)), without a database.
 * Runs in tests/data/csv, so that file names in messages are the bare fixture names. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ctl.h"
#include "ctl_csv.h"

/* The rows of a loaded file, as its entity's row struct. */
#define ROWS(f, type) ((const struct type *)(f).rows)

static struct ctl_errors errs;

/* The collected errors equal `want` (NULL-terminated), in order. */
static void check_errors(const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	CHECKF(errs.total == n, "%zu errors, want %zu", errs.total, n);
	for (size_t i = 0; i < errs.n && i < n; i++)
		CHECK_STR(errs.msg[i], want[i]);
	for (size_t i = errs.n; i < n; i++)
		t_diag("missing error: %s", want[i]);
	for (size_t i = n; i < errs.n; i++)
		t_diag("extra error: %s", errs.msg[i]);
}

static int load_sites(const char *path, struct ctl_file *s)
{
	memset(&errs, 0, sizeof(errs));
	return ctl_load(DB_SITES, path, CTL_FORMAT_AUTO, s, &errs);
}

static void test_good_sites_parse_with_quoted_commas(void)
{
	struct ctl_file s;

	CHECK(load_sites("sites.csv", &s) == 0);
	CHECK(errs.total == 0);
	if (CHECK(s.n == 2)) {
		CHECK_STR(ROWS(s, db_site_row)[0].key, "hq");
		CHECK_STR(ROWS(s, db_site_row)[0].name, "Example Corp Headquarters");
		CHECK_STR(ROWS(s, db_site_row)[0].description, "Main office, 3 floors");
		CHECK(ROWS(s, db_site_row)[0].line == 2);
		CHECK_STR(ROWS(s, db_site_row)[1].description, NULL);
		CHECK_STR(ROWS(s, db_site_row)[1].file, "sites.csv");
		CHECK(ROWS(s, db_site_row)[1].line == 3);
	}
	ctl_file_free(&s);
}

static void test_good_locations_parse_with_quotes_and_newlines(void)
{
	struct ctl_file l;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_LOCATIONS, "locations.csv", CTL_FORMAT_AUTO, &l, &errs) == 0);
	for (size_t i = 0; i < errs.n; i++)
		t_diag("%s", errs.msg[i]);
	if (!CHECK(l.n == 3))
		goto out;
	const struct db_location_row *a = &ROWS(l, db_location_row)[0], *b = &ROWS(l, db_location_row)[1], *c = &ROWS(l, db_location_row)[2];
	CHECK_STR(a->key, "hq-f1-lobby");
	CHECK_STR(a->site_key, "hq");
	CHECK_STR(a->lang, "en-US");
	CHECK_STR(a->civic[CIVIC_COUNTRY], "US");
	CHECK_STR(a->civic[CIVIC_A3], "New York");
	CHECK_STR(a->civic[CIVIC_LOC], "Front desk, left of the \"big\" door\n(ask security)");
	CHECK_STR(a->civic[CIVIC_A2], NULL);
	CHECK(!a->has_geo);
	CHECK(a->line == 2);
	/* The quoted LOC field of line 2 spans two lines: the next row starts on line 4. */
	CHECK(b->line == 4);
	CHECK(b->has_geo && b->lat == 40.7484 && b->lon == -73.9857);
	CHECK(b->uncertainty == 25 && !b->has_alt);
	CHECK_STR(b->civic[CIVIC_COUNTRY], NULL);
	CHECK(c->line == 5);
	CHECK_STR(c->civic[CIVIC_NAM], "Example, Inc.");
	CHECK(c->ref_col == 2);
out:
	ctl_file_free(&l);
}

static void test_good_subnets_are_canonical(void)
{
	struct ctl_file s;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SUBNETS, "subnets.csv", CTL_FORMAT_AUTO, &s, &errs) == 0);
	if (CHECK(s.n == 4)) {
		CHECK_STR(ROWS(s, db_subnet_row)[0].prefix, "10.1.0.0/16");
		CHECK_STR(ROWS(s, db_subnet_row)[1].description, "roof, antennas");
		CHECK_STR(ROWS(s, db_subnet_row)[2].prefix, "2001:db8:0:1::/64");
		CHECK_STR(ROWS(s, db_subnet_row)[3].prefix, "192.0.2.7/32");
		CHECK_STR(ROWS(s, db_subnet_row)[3].location_key, "branch-1");
		CHECK(ROWS(s, db_subnet_row)[3].ref_col == 2);
	}
	ctl_file_free(&s);
}

static void test_columns_in_any_order(void)
{
	struct ctl_file s;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SUBNETS, "reordered_subnets.csv", CTL_FORMAT_AUTO, &s, &errs) == 0);
	if (CHECK(s.n == 1)) {
		CHECK_STR(ROWS(s, db_subnet_row)[0].prefix, "198.51.100.0/24");
		CHECK_STR(ROWS(s, db_subnet_row)[0].location_key, "hq-roof");
		CHECK_STR(ROWS(s, db_subnet_row)[0].description, "moved columns");
		CHECK(ROWS(s, db_subnet_row)[0].ref_col == 2);
	}
	ctl_file_free(&s);
}

static void test_crlf_line_endings(void)
{
	struct ctl_file s;

	CHECK(load_sites("crlf_sites.csv", &s) == 0);
	if (CHECK(s.n == 2)) {
		CHECK_STR(ROWS(s, db_site_row)[0].name, "Headquarters");
		CHECK_STR(ROWS(s, db_site_row)[0].description, "two\r\nlines");
		CHECK_STR(ROWS(s, db_site_row)[1].key, "branch");
		CHECK(ROWS(s, db_site_row)[1].line == 4);
	}
	ctl_file_free(&s);
}

static void test_utf8_bom_is_stripped(void)
{
	struct ctl_file s;

	CHECK(load_sites("bom_sites.csv", &s) == 0);
	if (CHECK(s.n == 1))
		CHECK_STR(ROWS(s, db_site_row)[0].key, "hq");
	ctl_file_free(&s);
}

static void test_invalid_utf8_is_refused(void)
{
	struct ctl_file s;

	CHECK(load_sites("bad_utf8_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"bad_utf8_sites.csv:3:2: invalid UTF-8 (byte 0xE9 at offset 3 of the field)",
		NULL});
	/* what passed stays, for the checks across files */
	CHECK(s.n == 1 && strcmp(ROWS(s, db_site_row)[0].key, "hq") == 0 && s.n_broken == 0);
	ctl_file_free(&s);
}

static void test_control_character_is_refused(void)
{
	struct ctl_file s;

	CHECK(load_sites("control_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"control_sites.csv:2:2: control character U+0001 is not allowed", NULL});
	ctl_file_free(&s);
}

static void test_stray_quote_is_a_syntax_error(void)
{
	struct ctl_file s;

	CHECK(load_sites("bad_quote_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"bad_quote_sites.csv:2:2: malformed CSV: a quote may only open a field, close it, "
		"or be doubled inside a quoted field",
		NULL});
	ctl_file_free(&s);
}

static void test_unterminated_quote_is_a_syntax_error(void)
{
	struct ctl_file s;

	CHECK(load_sites("unterminated_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"unterminated_sites.csv:2:2: malformed CSV: quoted field not closed before the end "
		"of the file",
		NULL});
	ctl_file_free(&s);
}

static void test_empty_file_needs_a_header(void)
{
	struct ctl_file s;

	CHECK(load_sites("empty_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"empty_sites.csv:1:1: empty file: the first row must name the columns", NULL});
	ctl_file_free(&s);
}

static void test_missing_file(void)
{
	struct ctl_file s;

	CHECK(load_sites("no-such-file.csv", &s) == -1);
	check_errors((const char *const[]){
		"no-such-file.csv: cannot open: No such file or directory", NULL});
	ctl_file_free(&s);
}

static void test_header_unknown_duplicate_and_case(void)
{
	struct ctl_file s;

	CHECK(load_sites("bad_header_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"bad_header_sites.csv:1:2: unknown column \"Name\" (did you mean \"name\"? names "
		"are case-sensitive)",
		"bad_header_sites.csv:1:3: unknown column \"colour\"",
		"bad_header_sites.csv:1:4: duplicate column \"site\" (also column 1)",
		"bad_header_sites.csv:1:1: missing required column \"name\"",
		NULL});
	ctl_file_free(&s);
}

/* Issue 12: a near miss gets the column it probably meant; a file separated by semicolons
 * is said to be one. */
static void test_header_typos_and_semicolons_get_a_hint(void)
{
	struct ctl_file s;

	CHECK(load_sites("typo_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"typo_sites.csv:1:2: unknown column \"nmae\" (did you mean \"name\"?)",
		"typo_sites.csv:1:3: unknown column \"descripton\" (did you mean "
		"\"description\"?)",
		"typo_sites.csv:1:1: missing required column \"name\"",
		NULL});
	ctl_file_free(&s);
	CHECK(load_sites("semicolon_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"semicolon_sites.csv:1:1: unknown column \"site;name;description\": this file seems "
		"separated by semicolons; lisctl reads comma-separated files (RFC 4180)",
		"semicolon_sites.csv:1:1: missing required column \"site\"",
		"semicolon_sites.csv:1:1: missing required column \"name\"",
		NULL});
	ctl_file_free(&s);
}

static void test_header_missing_required_column(void)
{
	struct ctl_file s;

	CHECK(load_sites("missing_column_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"missing_column_sites.csv:1:1: missing required column \"name\"", NULL});
	ctl_file_free(&s);
}

static void test_bad_site_rows(void)
{
	struct ctl_file s;

	CHECK(load_sites("bad_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"bad_sites.csv:4:1: missing value for required column \"site\"",
		"bad_sites.csv:5:1: site key \"main office\" contains white space",
		"bad_sites.csv:6:2: missing value for required column \"name\"",
		"bad_sites.csv:7:4: row has 4 fields, the header has 3 (a value holding a comma "
		"must be in double quotes)",
		"bad_sites.csv:8:2: row has 1 fields, the header has 3",
		"bad_sites.csv:3:1: duplicate site \"hq\" (first on line 2)",
		NULL});
	ctl_file_free(&s);
}

static void test_bad_subnet_rows(void)
{
	struct ctl_file s;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SUBNETS, "bad_subnets.csv", CTL_FORMAT_AUTO, &s, &errs) == -1);
	check_errors((const char *const[]){
		"bad_subnets.csv:2:1: \"10.0.0.0/33\" is not a CIDR prefix",
		"bad_subnets.csv:3:1: \"10.0.0.1/24\" has host bits set (did you mean 10.0.0.0/24?)",
		"bad_subnets.csv:4:1: \"10.0.0.1\" is not a CIDR prefix (write 10.0.0.1/32 for "
		"this one address)",
		"bad_subnets.csv:5:1: \"2001:db8::1/64\" has host bits set (did you mean "
		"2001:db8::/64?)",
		"bad_subnets.csv:6:1: \"not-an-ip/8\" is not a CIDR prefix",
		"bad_subnets.csv:7:1: \"10.0.0.0/8x\" is not a CIDR prefix",
		"bad_subnets.csv:12:2: missing value for column \"location\" (required unless "
		"remote is true)",
		"bad_subnets.csv:13:2: location key \"default route\" contains white space",
		"bad_subnets.csv:9:1: duplicate subnet \"10.1.0.0/16\" (first on line 8)",
		"bad_subnets.csv:11:1: duplicate subnet \"2001:db8::/32\" (first on line 10)",
		NULL});
	ctl_file_free(&s);
}

static void test_bad_location_rows(void)
{
	struct ctl_file l;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_LOCATIONS, "bad_locations.csv", CTL_FORMAT_AUTO, &l, &errs) == -1);
	check_errors((const char *const[]){
		"bad_locations.csv:2:4: \"usa\" is not a country code (two upper-case letters, "
		"ISO 3166 alpha-2, e.g. US)",
		"bad_locations.csv:3:6: \"91\" is not a latitude (decimal degrees, -90 to 90)",
		"bad_locations.csv:4:6: latitude without longitude (give both or neither)",
		"bad_locations.csv:5:7: longitude without latitude (give both or neither)",
		"bad_locations.csv:6:6: \"12abc\" is not a latitude (decimal degrees, -90 to 90)",
		"bad_locations.csv:7:1: location \"f\" has neither a country nor latitude and "
		"longitude",
		"bad_locations.csv:8:8: altitude without latitude and longitude",
		"bad_locations.csv:9:9: \"0\" is not an uncertainty (metres, greater than 0; leave "
		"empty when unknown)",
		"bad_locations.csv:10:3: \"en US\" is not a language tag (e.g. en-US)",
		"bad_locations.csv:11:6: \"nan\" is not a latitude (decimal degrees, -90 to 90)",
		"bad_locations.csv:11:7: \"inf\" is not a longitude (decimal degrees, -180 to 180)",
		"bad_locations.csv:12:1: duplicate location \"a\" (first on line 2)",
		NULL});
	ctl_file_free(&l);
}

static void test_errors_are_capped(void)
{
	memset(&errs, 0, sizeof(errs));
	for (int i = 0; i < CTL_ERRORS_MAX + 7; i++)
		ctl_errors_add(&errs, "x.csv:%d:1: bad", i + 2);
	CHECK(errs.n == CTL_ERRORS_MAX);
	CHECK(errs.total == CTL_ERRORS_MAX + 7);
	CHECK_STR(errs.msg[CTL_ERRORS_MAX - 1], "x.csv:51:1: bad");
}

/* ---- issue 3: site policy, switches, ports, BSSIDs, endpoints, bindings ---- */

static void test_site_default_location_and_policy(void)
{
	struct ctl_file s;

	CHECK(load_sites("network_sites.csv", &s) == 0);
	if (CHECK(s.n == 3)) {
		CHECK_STR(ROWS(s, db_site_row)[0].default_location_key, "hq-lobby");
		CHECK(ROWS(s, db_site_row)[0].allow_default);
		CHECK(ROWS(s, db_site_row)[0].ref_col == 3);
		CHECK_STR(ROWS(s, db_site_row)[1].default_location_key, NULL);
		CHECK(!ROWS(s, db_site_row)[1].allow_default);
		CHECK(!ROWS(s, db_site_row)[2].allow_default);
	}
	ctl_file_free(&s);
}

static void test_bad_site_policy(void)
{
	struct ctl_file s;

	CHECK(load_sites("bad_network_sites.csv", &s) == -1);
	check_errors((const char *const[]){
		"bad_network_sites.csv:2:4: \"maybe\" is not true or false",
		"bad_network_sites.csv:3:4: allow_default is true but the site has no "
		"default_location",
		"bad_network_sites.csv:4:3: location key \"lab 1\" contains white space",
		NULL});
	ctl_file_free(&s);
}

static void test_switch_chassis_mac_is_canonical_and_name_verbatim(void)
{
	struct ctl_file w;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SWITCHES, "switches.csv", CTL_FORMAT_AUTO, &w, &errs) == 0);
	if (CHECK(w.n == 3)) {
		CHECK_STR(ROWS(w, db_switch_row)[0].chassis_id, "00:1b:54:aa:01:00");
		CHECK_STR(ROWS(w, db_switch_row)[0].mgmt_address, "10.10.0.2");
		CHECK_STR(ROWS(w, db_switch_row)[0].location_key, "hq-f1");
		CHECK_STR(ROWS(w, db_switch_row)[0].description, "IDF 1, floor 1");
		CHECK(ROWS(w, db_switch_row)[0].site_col == 2 && ROWS(w, db_switch_row)[0].location_col == 5);
		CHECK_STR(ROWS(w, db_switch_row)[1].chassis_id, "sw2.example.net");
		CHECK_STR(ROWS(w, db_switch_row)[1].mgmt_address, "2001:db8::2");
		CHECK_STR(ROWS(w, db_switch_row)[1].location_key, NULL);
		CHECK_STR(ROWS(w, db_switch_row)[2].chassis_id, "00:1b:54:aa:03:00");
		CHECK_STR(ROWS(w, db_switch_row)[2].mgmt_address, "192.0.2.3");
	}
	ctl_file_free(&w);
}

static void test_switch_polling_columns_parsed_and_defaulted(void)
{
	struct ctl_file w;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SWITCHES, "switches_poll.csv", CTL_FORMAT_AUTO, &w, &errs) == 0);
	if (CHECK(w.n == 3)) {
		CHECK_STR(ROWS(w, db_switch_row)[0].snmp_profile, "core.v3");
		CHECK(ROWS(w, db_switch_row)[0].snmp_port == 1161 && ROWS(w, db_switch_row)[0].poll_interval == 120);
		CHECK(ROWS(w, db_switch_row)[0].poll_enabled);
		CHECK_STR(ROWS(w, db_switch_row)[1].snmp_profile, NULL);
		CHECK(ROWS(w, db_switch_row)[1].snmp_port == 0 && ROWS(w, db_switch_row)[1].poll_interval == 0);
		CHECK(!ROWS(w, db_switch_row)[1].poll_enabled);
		CHECK_STR(ROWS(w, db_switch_row)[2].snmp_profile, NULL);
		CHECK(ROWS(w, db_switch_row)[2].snmp_port == 0 && ROWS(w, db_switch_row)[2].poll_interval == 0);
		CHECK(ROWS(w, db_switch_row)[2].poll_enabled);
	}
	ctl_file_free(&w);
	/* the issue-3 file, without the columns: every switch at the defaults, polled */
	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SWITCHES, "switches.csv", CTL_FORMAT_AUTO, &w, &errs) == 0);
	for (size_t i = 0; i < w.n; i++)
		CHECK(!ROWS(w, db_switch_row)[i].snmp_profile && !ROWS(w, db_switch_row)[i].snmp_port &&
		      !ROWS(w, db_switch_row)[i].poll_interval && ROWS(w, db_switch_row)[i].poll_enabled);
	ctl_file_free(&w);
}

static void test_bad_switch_polling_columns(void)
{
	struct ctl_file w;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SWITCHES, "bad_switches_poll.csv", CTL_FORMAT_AUTO, &w, &errs) == -1);
	check_errors((const char *const[]){
		"bad_switches_poll.csv:2:5: snmp_profile \"core v3\" is not a profile name (up to "
		"64 letters, digits, '_', '.', '-': [snmp.NAME] in wiremapd.conf)",
		"bad_switches_poll.csv:2:6: snmp_port \"0\" is not a whole number from 1 to 65535",
		"bad_switches_poll.csv:2:7: poll_interval (seconds) \"60s\" is not a whole number "
		"from 1 to 2147483647",
		"bad_switches_poll.csv:2:8: poll_enabled \"maybe\" is not true or false",
		"bad_switches_poll.csv:3:5: snmp_profile \"[snmp.core]\" is not a profile name (up "
		"to 64 letters, digits, '_', '.', '-': [snmp.NAME] in wiremapd.conf)",
		"bad_switches_poll.csv:3:6: snmp_port \"65536\" is not a whole number from 1 to "
		"65535",
		"bad_switches_poll.csv:3:7: poll_interval (seconds) \"0\" is not a whole number "
		"from 1 to 2147483647",
		"bad_switches_poll.csv:4:6: snmp_port \"+161\" is not a whole number from 1 to "
		"65535",
		"bad_switches_poll.csv:4:7: poll_interval (seconds) \"99999999999\" is not a whole "
		"number from 1 to 2147483647",
		NULL});
	CHECK(w.n == 0 && w.n_broken == 3);
	ctl_file_free(&w);
}

static void test_bad_switch_rows(void)
{
	struct ctl_file w;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SWITCHES, "bad_switches.csv", CTL_FORMAT_AUTO, &w, &errs) == -1);
	check_errors((const char *const[]){
		"bad_switches.csv:2:4: \"10.10.0.0/24\" is not an IP address (one host, no prefix "
		"length)",
		"bad_switches.csv:3:3: missing value for required column \"chassis_id\"",
		"bad_switches.csv:6:1: switch key \"sw 5\" contains white space",
		"bad_switches.csv:6:5: location key \"hq f1\" contains white space",
		"bad_switches.csv:5:1: duplicate switch \"sw1\" (first on line 2)",
		"bad_switches.csv:4:3: duplicate chassis_id \"00:1b:54:aa:01:00\" (first on line 2)",
		NULL});
	/* rows with errors whose key was read are kept apart (sw1, sw2); "sw 5" is no key */
	CHECK(w.n == 2 && w.n_broken == 2);
	CHECK(strcmp(((const struct db_switch_row *)w.broken)[1].key, "sw2") == 0);
	ctl_file_free(&w);
}

static void test_ports(void)
{
	struct ctl_file p;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_PORTS, "ports.csv", CTL_FORMAT_AUTO, &p, &errs) == 0);
	if (CHECK(p.n == 3)) {
		CHECK_STR(ROWS(p, db_port_row)[0].switch_key, "sw1");
		CHECK_STR(ROWS(p, db_port_row)[0].port_id, "Gi1/0/1");
		CHECK_STR(ROWS(p, db_port_row)[0].location_key, "hq-lobby");
		CHECK(ROWS(p, db_port_row)[0].switch_col == 1 && ROWS(p, db_port_row)[0].location_col == 3);
		CHECK_STR(ROWS(p, db_port_row)[1].location_key, NULL);
		CHECK_STR(ROWS(p, db_port_row)[2].port_id, "GigabitEthernet 1/0/1");
	}
	ctl_file_free(&p);
	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_PORTS, "bad_ports.csv", CTL_FORMAT_AUTO, &p, &errs) == -1);
	check_errors((const char *const[]){
		"bad_ports.csv:3:2: missing value for required column \"port\"",
		"bad_ports.csv:5:1: switch key \"sw 2\" contains white space",
		"bad_ports.csv:4:2: duplicate switch and port \"sw1 Gi1/0/1\" (first on line 2)",
		NULL});
	ctl_file_free(&p);
}

static void test_classes_and_their_defaults(void)
{
	struct ctl_file c;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_CLASSES, "classes.csv", CTL_FORMAT_AUTO, &c, &errs) == 0);
	if (CHECK(c.n == 2)) {
		const struct db_class_row *r = ROWS(c, db_class_row);
		CHECK_STR(r[0].key, "lab_phone");
		CHECK(!r[0].use_port && r[0].use_bssid && r[0].use_subnet && r[0].use_static &&
		      !r[0].use_declared);
		CHECK(r[0].max_binding_age == 120 && r[0].reconfirm_interval == 0);
		CHECK_STR(r[0].no_fresh, "site-default");
		CHECK(r[1].use_port && r[1].use_declared && r[1].reconfirm_interval == 3600);
		CHECK_STR(r[1].no_fresh, "declared");
	}
	ctl_file_free(&c);
	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_CLASSES, "bad_classes.csv", CTL_FORMAT_AUTO, &c, &errs) == -1);
	check_errors((const char *const[]){
		"bad_classes.csv:2:1: class key \"bad class\" contains white space",
		"bad_classes.csv:3:2: port \"maybe\" is not true or false",
		"bad_classes.csv:4:4: max_binding_age (seconds) \"0\" is not a whole number from 1 "
		"to 2147483647",
		"bad_classes.csv:5:5: \"carrier\" is not what to answer with nothing fresh "
		"(locationUnknown, site-default or declared)",
		"bad_classes.csv:6:5: class \"w\" falls back on declared locations (no_fresh "
		"declared) but does not count them (declared is false)",
		"bad_classes.csv:7:1: duplicate class \"x\" (first on line 3)",
		NULL});
	ctl_file_free(&c);
}

static void test_remote_subnet_needs_no_location(void)
{
	struct ctl_file n;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SUBNETS, "remote_subnets.csv", CTL_FORMAT_AUTO, &n, &errs) == -1);
	check_errors((const char *const[]){
		"remote_subnets.csv:3:2: missing value for column \"location\" (required unless "
		"remote is true)",
		NULL});
	if (CHECK(n.n == 2)) {
		CHECK(ROWS(n, db_subnet_row)[0].remote);
		CHECK_STR(ROWS(n, db_subnet_row)[0].location_key, NULL);
		CHECK(ROWS(n, db_subnet_row)[1].remote);
	}
	ctl_file_free(&n);
}

static void test_bssid_ranges(void)
{
	struct ctl_file b;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_BSSIDS, "bssids.csv", CTL_FORMAT_AUTO, &b, &errs) == 0);
	if (CHECK(b.n == 3)) {
		CHECK_STR(ROWS(b, db_bssid_row)[0].bssid, "00:3a:7d:10:20:30");
		CHECK(ROWS(b, db_bssid_row)[0].prefix_len == 48);
		CHECK_STR(ROWS(b, db_bssid_row)[0].ap, "ap-3-1");
		CHECK_STR(ROWS(b, db_bssid_row)[1].bssid, "00:3a:7d:10:20:40");
		CHECK(ROWS(b, db_bssid_row)[1].prefix_len == 44);
		CHECK(ROWS(b, db_bssid_row)[1].location_col == 2);
		/* The same address with another length is another entry. */
		CHECK(ROWS(b, db_bssid_row)[2].prefix_len == 48);
	}
	ctl_file_free(&b);
}

static void test_bad_bssids(void)
{
	struct ctl_file b;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_BSSIDS, "bad_bssids.csv", CTL_FORMAT_AUTO, &b, &errs) == -1);
	check_errors((const char *const[]){
		"bad_bssids.csv:2:1: \"00:3a:7d:10:20:41/44\" has bits set past the prefix length "
		"(did you mean 00:3a:7d:10:20:40/44?)",
		"bad_bssids.csv:3:1: \"00:3a:7d:10:20:40/49\" is not a BSSID (a MAC address) or "
		"BSSID range (MAC/length, length 1 to 48)",
		"bad_bssids.csv:4:1: \"00:3a:7d:10:20\" is not a BSSID (a MAC address) or BSSID "
		"range (MAC/length, length 1 to 48)",
		"bad_bssids.csv:5:1: \"00:3a:7d:10:20:40/0\" is not a BSSID (a MAC address) or "
		"BSSID range (MAC/length, length 1 to 48)",
		"bad_bssids.csv:8:2: missing value for required column \"location\"",
		"bad_bssids.csv:7:1: duplicate bssid \"00:3a:7d:10:20:30/48\" (first on line 6)",
		NULL});
	ctl_file_free(&b);
}

static void test_endpoint_identities_are_normalized(void)
{
	struct ctl_file e;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_ENDPOINTS, "endpoints.csv", CTL_FORMAT_AUTO, &e, &errs) == 0);
	for (size_t i = 0; i < errs.n; i++)
		t_diag("%s", errs.msg[i]);
	if (CHECK(e.n == 4)) {
		CHECK_STR(ROWS(e, db_endpoint_row)[0].class_, "desk_phone");
		CHECK_STR(ROWS(e, db_endpoint_row)[0].mac, "00:04:f2:11:22:33");
		CHECK_STR(ROWS(e, db_endpoint_row)[0].tel, "tel:+13125550100");
		CHECK_STR(ROWS(e, db_endpoint_row)[0].uri, NULL);
		CHECK_STR(ROWS(e, db_endpoint_row)[1].uri, "sip:alice@example.com");
		CHECK_STR(ROWS(e, db_endpoint_row)[1].location_key, "hq-f2");
		CHECK(ROWS(e, db_endpoint_row)[1].location_col == 6);
		CHECK_STR(ROWS(e, db_endpoint_row)[2].mac, "8c:85:90:aa:bb:cc");
		CHECK_STR(ROWS(e, db_endpoint_row)[2].uri, "sips:bob@example.com");
		CHECK_STR(ROWS(e, db_endpoint_row)[3].class_, "other");
	}
	ctl_file_free(&e);
}

static void test_bad_endpoints(void)
{
	struct ctl_file e;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_ENDPOINTS, "bad_endpoints.csv", CTL_FORMAT_AUTO, &e, &errs) == -1);
	check_errors((const char *const[]){
		"bad_endpoints.csv:2:1: endpoint \"a\" has none of mac, uri and tel",
		"bad_endpoints.csv:3:2: class key \"desk phone\" contains white space",
		"bad_endpoints.csv:4:4: \"http://example.com/c\" is not a SIP URI (sip: or sips:, "
		"e.g. sip:alice@example.com)",
		"bad_endpoints.csv:5:4: \"tel:+15551234567\" is a tel URI: put it in the tel "
		"column",
		"bad_endpoints.csv:6:5: \"+15551234567\" is not a tel URI (e.g. tel:+15551234567)",
		"bad_endpoints.csv:7:3: \"00:04:f2:11:22:3\" is not a MAC address (e.g. "
		"00:11:22:33:44:55)",
		"bad_endpoints.csv:11:7: \"maybe\" is not an active flag (true or false)",
		"bad_endpoints.csv:8:3: duplicate mac \"00:04:f2:11:22:33\" (first on line 3)",
		"bad_endpoints.csv:10:4: duplicate uri \"sip:alice@example.com\" (first on line 9)",
		NULL});
	ctl_file_free(&e);
}

static void test_bindings(void)
{
	struct ctl_file mp;
	struct ctl_file im;
	struct ctl_file mb;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_MAC_PORTS, "mac_ports.csv", CTL_FORMAT_AUTO, &mp, &errs) == 0);
	if (CHECK(mp.n == 2)) {
		CHECK_STR(ROWS(mp, db_mac_port_row)[0].mac, "00:04:f2:11:22:33");
		CHECK(ROWS(mp, db_mac_port_row)[0].seen.last_seen == 1795593600);
		CHECK(ROWS(mp, db_mac_port_row)[0].seen.has_first_seen && ROWS(mp, db_mac_port_row)[0].seen.first_seen == 1793519700);
		CHECK_STR(ROWS(mp, db_mac_port_row)[0].seen.source, NULL);
		CHECK(ROWS(mp, db_mac_port_row)[0].switch_col == 2);
		/* 09:00 at +01:00 is 08:00 UTC. */
		CHECK(ROWS(mp, db_mac_port_row)[1].seen.last_seen == 1795593600);
		CHECK(!ROWS(mp, db_mac_port_row)[1].seen.has_first_seen);
		CHECK_STR(ROWS(mp, db_mac_port_row)[1].seen.source, "snmp");
	}
	ctl_file_free(&mp);
	CHECK(ctl_load(DB_IP_MACS, "ip_macs.csv", CTL_FORMAT_AUTO, &im, &errs) == 0);
	if (CHECK(im.n == 3)) {
		CHECK_STR(ROWS(im, db_ip_mac_row)[0].ip, "10.10.1.23");
		CHECK(ROWS(im, db_ip_mac_row)[0].seen.last_seen == 1795593600);
		CHECK_STR(ROWS(im, db_ip_mac_row)[1].ip, "10.10.1.24");
		CHECK_STR(ROWS(im, db_ip_mac_row)[2].ip, "2001:db8:10:1::23");
		CHECK(ROWS(im, db_ip_mac_row)[2].seen.last_seen == 1795593600 + 5 * 3600);
	}
	ctl_file_free(&im);
	CHECK(ctl_load(DB_MAC_BSSIDS, "mac_bssids.csv", CTL_FORMAT_AUTO, &mb, &errs) == 0);
	if (CHECK(mb.n == 1)) {
		CHECK_STR(ROWS(mb, db_mac_bssid_row)[0].bssid, "00:3a:7d:10:20:30");
		CHECK_STR(ROWS(mb, db_mac_bssid_row)[0].seen.source, "wlc");
	}
	ctl_file_free(&mb);
	CHECK(errs.total == 0);
}

static void test_bad_bindings(void)
{
	struct ctl_file mp;
	struct ctl_file im;
	struct ctl_file mb;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_MAC_PORTS, "bad_mac_ports.csv", CTL_FORMAT_AUTO, &mp, &errs) == -1);
	CHECK(ctl_load(DB_IP_MACS, "bad_ip_macs.csv", CTL_FORMAT_AUTO, &im, &errs) == -1);
	CHECK(ctl_load(DB_MAC_BSSIDS, "bad_mac_bssids.csv", CTL_FORMAT_AUTO, &mb, &errs) == -1);
	check_errors((const char *const[]){
		"bad_mac_ports.csv:2:4: \"2026-11-25T08:00:00\" is not a timestamp (ISO 8601 with "
		"a zone, e.g. 2026-11-25T08:00:00Z)",
		"bad_mac_ports.csv:3:4: \"2026-02-30T08:00:00Z\" is not a timestamp (ISO 8601 with "
		"a zone, e.g. 2026-11-25T08:00:00Z)",
		"bad_mac_ports.csv:4:4: last_seen \"2026-11-25T08:00:00Z\" is before first_seen "
		"\"2026-11-26T08:00:00Z\"",
		"bad_mac_ports.csv:5:6: source \"my source\" contains white space",
		"bad_mac_ports.csv:6:3: missing value for required column \"port\"",
		"bad_mac_ports.csv:8:1: duplicate binding \"00:04:f2:11:22:38 sw1 Gi1/0/1\" (first "
		"on line 7)",
		"bad_ip_macs.csv:2:1: \"10.10.1.0/24\" is not an IP address (one host, no prefix "
		"length)",
		"bad_ip_macs.csv:3:2: \"zz:04:f2:11:22:33\" is not a MAC address (e.g. "
		"00:11:22:33:44:55)",
		"bad_ip_macs.csv:4:3: \"yesterday\" is not a timestamp (ISO 8601 with a zone, e.g. "
		"2026-11-25T08:00:00Z)",
		"bad_ip_macs.csv:5:1: duplicate binding \"10.10.1.23 00:04:f2:11:22:33\" (first on "
		"line 4)",
		"bad_mac_bssids.csv:2:2: \"00:3a:7d:10:20:30/44\" is not a MAC address (e.g. "
		"00:11:22:33:44:55)",
		NULL});
	ctl_file_free(&mp);
	ctl_file_free(&im);
	ctl_file_free(&mb);
}

static void test_timestamps(void)
{
	time_t t;

	CHECK(ctl_parse_timestamp("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
	CHECK(ctl_parse_timestamp("2024-02-29T12:00:00Z", &t) == 0 && t == 1709208000);
	CHECK(ctl_parse_timestamp("2024-02-29t12:00:00.999999z", &t) == 0 && t == 1709208000);
	CHECK(ctl_parse_timestamp("2024-02-29T13:30:00+01:30", &t) == 0 && t == 1709208000);
	CHECK(ctl_parse_timestamp("2024-02-29T07:00:00-05", &t) == 0 && t == 1709208000);
	CHECK(ctl_parse_timestamp("2023-02-29T12:00:00Z", &t) == -1);
	CHECK(ctl_parse_timestamp("2024-02-29T24:00:00Z", &t) == -1);
	CHECK(ctl_parse_timestamp("2024-02-29T12:00Z", &t) == -1);
	CHECK(ctl_parse_timestamp("2024-02-29T12:00:00+1", &t) == -1);
	CHECK(ctl_parse_timestamp("2024-02-29T12:00:00.Z", &t) == -1);
	CHECK(ctl_parse_timestamp("1969-12-31T23:59:59Z", &t) == -1);
}

/* ---- JSON, and the checks across files (ctl_check.c) ---- */

static void test_json_sites_and_locations_read_like_csv(void)
{
	struct ctl_file s;
	struct ctl_file l;

	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SITES, "../json/sites.json", CTL_FORMAT_AUTO, &s, &errs) == 0);
	CHECK(ctl_load(DB_LOCATIONS, "../json/locations.json", CTL_FORMAT_AUTO, &l, &errs) == 0);
	for (size_t i = 0; i < errs.n; i++)
		t_diag("%s", errs.msg[i]);
	if (CHECK(s.n == 2)) {
		CHECK_STR(ROWS(s, db_site_row)[0].key, "hq");
		CHECK_STR(ROWS(s, db_site_row)[0].default_location_key, "hq-lobby");
		CHECK(ROWS(s, db_site_row)[0].allow_default);
		CHECK(ROWS(s, db_site_row)[0].line == 2);
		CHECK_STR(ROWS(s, db_site_row)[1].description, NULL);
		CHECK(ROWS(s, db_site_row)[1].line == 4);
	}
	if (CHECK(l.n == 4)) {
		CHECK(ROWS(l, db_location_row)[0].has_geo && ROWS(l, db_location_row)[0].lat == 40.7506 && ROWS(l, db_location_row)[0].uncertainty == 15);
		CHECK_STR(ROWS(l, db_location_row)[3].civic[CIVIC_PC], "07102");
		/* the column of a key is where the key starts; an absent one is the object's */
		CHECK(ROWS(l, db_location_row)[1].key_col == 4);
		CHECK(ROWS(l, db_location_row)[3].civic_col[CIVIC_BLD] == 3);
	}
	ctl_file_free(&s);
	ctl_file_free(&l);
}

/* A small ISO 3166 in iso-codes' shape: three countries, two with subdivisions. */
static const char iso1[] = "{\"3166-1\": [{\"alpha_2\": \"US\", \"name\": \"United States\"},"
			   " {\"alpha_2\": \"DE\", \"name\": \"Germany\"},"
			   " {\"alpha_2\": \"VA\", \"name\": \"Holy See\"}]}";
static const char iso2[] = "{\"3166-2\": [{\"code\": \"US-NY\", \"name\": \"New York\"},"
			   " {\"code\": \"US-CA\", \"name\": \"California\"},"
			   " {\"code\": \"DE-BY\", \"name\": \"Bayern\"},"
			   " {\"code\": \"DE-BE\", \"name\": \"Berlin\"}]}";

static void test_iso_3166_lookups_take_codes_and_names(void)
{
	struct lis_error err = {0};
	struct lis_iso *iso = lis_iso_parse(iso1, iso2, &err);
	const char *near = "x";

	if (!CHECKF(iso, "%s", err.msg))
		return;
	CHECK(lis_iso_country_is_known(iso, "US") && lis_iso_country_is_known(iso, "VA"));
	CHECK(!lis_iso_country_is_known(iso, "UK") && !lis_iso_country_is_known(iso, "us") &&
	      !lis_iso_country_is_known(iso, "USA") && !lis_iso_country_is_known(iso, ""));
	/* RFC 5139 A1: the code without the country, or the name, in any case */
	CHECK(lis_iso_subdivision_is_known(iso, "US", "CA", NULL));
	CHECK(lis_iso_subdivision_is_known(iso, "US", "california", NULL));
	CHECK(lis_iso_subdivision_is_known(iso, "DE", "BY", NULL));
	CHECK(lis_iso_subdivision_is_known(iso, "DE", "Bayern", NULL));
	CHECK(!lis_iso_subdivision_is_known(iso, "DE", "CA", &near) && near == NULL);
	CHECK(!lis_iso_subdivision_is_known(iso, "US", "Californa", &near) && near &&
	      strcmp(near, "California") == 0);
	CHECK(!lis_iso_subdivision_is_known(iso, "US", "NX", &near) && near &&
	      strcmp(near, "NY") == 0);
	/* a country without subdivisions takes any A1 */
	CHECK(lis_iso_subdivision_is_known(iso, "VA", "Anything", NULL));
	lis_iso_free(iso);
	CHECK(!lis_iso_parse("{\"3166-1\": 5}", iso2, &err) && strstr(err.msg, "3166-1"));
	CHECK(!lis_iso_load("/nonexistent", &err) &&
	      strstr(err.msg, "/nonexistent/iso_3166-1.json: cannot open"));
}

/* The system's iso-codes, where installed: the 249 assigned codes, and US-CA, DE-BY. */
static void test_iso_codes_package_data_loads(void)
{
	struct lis_error err = {0};
	struct lis_iso *iso = lis_iso_load(LIS_ISO_CODES_DIR, &err);
	char code[3] = "AA";
	int n = 0;

	if (!iso) {
		t_diag("skipped: %s", err.msg);
		return;
	}
	for (code[0] = 'A'; code[0] <= 'Z'; code[0]++)
		for (code[1] = 'A'; code[1] <= 'Z'; code[1]++)
			n += lis_iso_country_is_known(iso, code);
	CHECKF(n >= 249, "%d codes", n);
	CHECK(lis_iso_subdivision_is_known(iso, "US", "CA", NULL));
	CHECK(lis_iso_subdivision_is_known(iso, "DE", "Bayern", NULL));
	CHECK(!lis_iso_subdivision_is_known(iso, "DE", "CA", NULL));
	lis_iso_free(iso);
}

/* RFC 4589 §3: PLC is one of the registry's tokens. */
static void test_place_types_are_the_rfc_4589_registry(void)
{
	const char *near = "x";

	CHECK(lis_place_type_is_known("office", &near) && near == NULL);
	CHECK(lis_place_type_is_known("aircraft", NULL) && lis_place_type_is_known("watercraft",
										  NULL));
	CHECK(lis_place_type_is_known("place-of-worship", NULL));
	CHECK(!lis_place_type_is_known("offices", &near) && near && strcmp(near, "office") == 0);
	CHECK(!lis_place_type_is_known("trainstation", &near) && near &&
	      strcmp(near, "train-station") == 0);
	CHECK(!lis_place_type_is_known("spaceship", &near) && near == NULL);
}

static void test_civic_problems_name_what_is_missing(void)
{
	const char *c[CIVIC_N_FIELDS] = {0};
	struct lis_iso *iso = lis_iso_parse(iso1, iso2, NULL);

	CHECK(lis_civic_problems(c, iso) == 0); /* no civic address at all: not judged here */
	c[CIVIC_COUNTRY] = "US";
	CHECK(lis_civic_problems(c, iso) ==
	      (LIS_MISSING_HNO | LIS_MISSING_RD | LIS_MISSING_A3 | LIS_MISSING_A1));
	c[CIVIC_A1] = "NY", c[CIVIC_A3] = "New York", c[CIVIC_RD] = "Broadway";
	CHECK(lis_civic_problems(c, iso) == LIS_MISSING_HNO);
	c[CIVIC_HNO] = "123";
	CHECK(lis_civic_problems(c, iso) == 0);
	c[CIVIC_A1] = "BY";
	CHECK(lis_civic_problems(c, iso) == LIS_BAD_A1);
	CHECK(lis_civic_problems(c, NULL) == 0); /* without iso-codes: not checked */
	c[CIVIC_A1] = "NY", c[CIVIC_PLC] = "offise";
	CHECK(lis_civic_problems(c, NULL) == LIS_BAD_PLC);
	c[CIVIC_PLC] = NULL, c[CIVIC_COUNTRY] = "XX";
	CHECK(lis_civic_problems(c, iso) == LIS_BAD_COUNTRY);
	CHECK(lis_civic_problems(c, NULL) == 0);
	c[CIVIC_COUNTRY] = NULL;
	CHECK(lis_civic_problems(c, iso) == LIS_MISSING_COUNTRY);
	lis_iso_free(iso);
}

/* RFC 4119: HNO is the numeric part only; "12A" or "12 1/2" puts the suffix in HNS. */
static void test_hno_with_a_suffix_and_a_misshapen_postal_code_are_problems(void)
{
	const char *c[CIVIC_N_FIELDS] = {0};

	c[CIVIC_COUNTRY] = "US", c[CIVIC_A1] = "NY", c[CIVIC_A3] = "New York";
	c[CIVIC_RD] = "Broadway", c[CIVIC_HNO] = "12A", c[CIVIC_PC] = "10001";
	CHECK(lis_civic_problems(c, NULL) == LIS_BAD_HNO);
	c[CIVIC_HNO] = "12 1/2";
	CHECK(lis_civic_problems(c, NULL) == LIS_BAD_HNO);
	c[CIVIC_HNO] = "12", c[CIVIC_PC] = "1001";
	CHECK(lis_civic_problems(c, NULL) == LIS_BAD_PC);
	c[CIVIC_PC] = "10001-2345";
	CHECK(lis_civic_problems(c, NULL) == 0);
}

static void test_postal_codes_fit_their_countrys_format(void)
{
	static const char *const good[][2] = {
		{"US", "10001"}, {"US", "10001-2345"}, {"CA", "K1A 0B1"}, {"CA", "K1A0B1"},
		{"GB", "SW1A 1AA"}, {"GB", "M1 1AE"}, {"GB", "B33 8TH"}, {"GB", "CR2 6XH"},
		{"GB", "DN55 1PT"}, {"GB", "W1A 0AX"}, {"GB", "EC1A1BB"}, {"GB", "GIR 0AA"},
		{"DE", "10115"}, {"FR", "75008"}, {"NL", "1012 AB"}, {"NL", "1012AB"},
		{"AU", "2000"}, {"SE", "114 55"}, {"JP", "anything"},
	};
	static const char *const bad[][2] = {
		{"US", "1000"}, {"US", "100011"}, {"US", "10001-23"}, {"US", "10001 2345"},
		{"US", "ABCDE"}, {"CA", "K1A-0B1"}, {"CA", "11A 0B1"}, {"CA", "k1a 0b1"},
		{"GB", "SW1A"}, {"GB", "SW1A 1A"}, {"GB", "12345"}, {"DE", "1011"},
		{"FR", "750080"}, {"NL", "1012"}, {"NL", "1012 ABC"}, {"AU", "200"},
		{"AU", "20000"}, {"US", ""},
	};
	const char *format = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECKF(lis_postal_code_fits(good[i][0], good[i][1], NULL), "%s %s", good[i][0],
		       good[i][1]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(!lis_postal_code_fits(bad[i][0], bad[i][1], NULL), "%s %s", bad[i][0],
		       bad[i][1]);
	CHECK(!lis_postal_code_fits("US", "1", &format) && format &&
	      strcmp(format, "5 digits, or ZIP+4 as 12345-6789") == 0);
}

/* A location row of site `site` in building bld on floor flr (NULL: none). */
static struct db_location_row loc(const char *key, const char *site, const char *bld,
				  const char *flr, unsigned line)
{
	struct db_location_row r = {.key = key, .site_key = site, .file = "locations.csv",
				    .line = line, .key_col = 1, .has_geo = true};
	r.civic[CIVIC_COUNTRY] = "US", r.civic[CIVIC_A1] = "NY", r.civic[CIVIC_A3] = "NYC";
	r.civic[CIVIC_RD] = "Broadway", r.civic[CIVIC_HNO] = "1", r.civic[CIVIC_ROOM] = "1";
	r.civic[CIVIC_BLD] = bld, r.civic[CIVIC_FLR] = flr;
	r.civic_col[CIVIC_FLR] = 7;
	return r;
}

/* ctl_check_wiremap() into errs and warns, both emptied first. */
static struct ctl_errors warns;
static int check_across(const struct ctl_check_in *in)
{
	memset(&errs, 0, sizeof(errs));
	memset(&warns, 0, sizeof(warns));
	return ctl_check_wiremap(in, &errs, &warns);
}

static void test_nested_subnets_in_two_sites_are_refused(void)
{
	const struct db_site_row sites[] = {{.key = "a"}, {.key = "b"}};
	const struct db_location_row stored_locs[] = {loc("la", "a", NULL, "1", 0),
						      loc("lb", "b", NULL, "1", 0)};
	const struct db_subnet_row stored_nets[] = {{.prefix = "10.0.0.0/8", .location_key = "la"}};
	const struct db_subnet_row nets[] = {
		{.prefix = "10.1.0.0/16", .location_key = "la", .file = "subnets.csv", .line = 2,
		 .prefix_col = 1},  /* same site: fine */
		{.prefix = "10.2.0.0/16", .location_key = "lb", .file = "subnets.csv", .line = 3,
		 .prefix_col = 1},  /* inside the stored 10/8 of site a */
		{.prefix = "10.2.3.0/24", .location_key = "la", .file = "subnets.csv", .line = 4,
		 .prefix_col = 1},  /* inside the file's 10.2/16 of site b */
		{.prefix = "::/0", .location_key = "lb", .file = "subnets.csv", .line = 5,
		 .prefix_col = 1},  /* IPv6 holds no IPv4 prefix */
	};
	const struct db_import_set db = {.of = {[DB_SITES] = {sites, 2},
						[DB_LOCATIONS] = {stored_locs, 2},
						[DB_SUBNETS] = {stored_nets, 1}}};
	const struct db_import_set files = {.of = {[DB_SUBNETS] = {nets, 4}}};

	CHECK(check_across(&(struct ctl_check_in){&files, NULL, 0, &db, NULL}) == -1);
	check_errors((const char *const[]){
		"subnets.csv:3:1: subnet \"10.2.0.0/16\" (site \"b\") lies inside 10.0.0.0/8 (the "
		"database, site \"a\"): nested subnets must be in the same site",
		"subnets.csv:4:1: subnet \"10.2.3.0/24\" (site \"a\") lies inside 10.2.0.0/16 "
		"(subnets.csv:3, site \"b\"): nested subnets must be in the same site",
		NULL});
	CHECK(warns.total == 0);
}

static void test_endpoint_class_must_exist_in_the_files_or_the_database(void)
{
	const struct db_class_row stored[] = {{.key = "desk_phone", .no_fresh = "site-default"}};
	const struct db_class_row classes[] = {{.key = "nomad", .no_fresh = "declared",
						.use_declared = true, .file = "classes.csv",
						.line = 2}};
	const struct db_endpoint_row eps[] = {
		{.key = "a", .class_ = "desk_phone", .mac = "00:00:5e:00:53:01",
		 .file = "endpoints.csv", .line = 2, .class_col = 2},
		{.key = "b", .class_ = "nomad", .uri = "sip:b@example.com",
		 .file = "endpoints.csv", .line = 3, .class_col = 2},
		{.key = "c", .class_ = "robot", .uri = "sip:c@example.com",
		 .file = "endpoints.csv", .line = 4, .class_col = 2},
	};
	const struct db_import_set db = {.of = {[DB_CLASSES] = {stored, 1}}};
	const struct db_import_set files = {.of = {[DB_CLASSES] = {classes, 1},
						   [DB_ENDPOINTS] = {eps, 3}}};

	CHECK(check_across(&(struct ctl_check_in){&files, NULL, 0, &db, NULL}) == -1);
	check_errors((const char *const[]){
		"endpoints.csv:4:2: unknown class \"robot\" (in neither the classes file nor the "
		"database)",
		NULL});
}

static void test_multi_floor_building_needs_a_floor(void)
{
	const struct db_site_row sites[] = {{.key = "a"}};
	const struct db_location_row stored[] = {loc("f1", "a", "North", "1", 0),
						 loc("f2", "a", "North", "2", 0),
						 loc("s1", "a", "South", "1", 0)};
	const struct db_location_row rows[] = {
		loc("north-nofloor", "a", "North", NULL, 2),
		loc("south-nofloor", "a", "South", NULL, 3),  /* one floor: fine */
		loc("nobld", "a", NULL, NULL, 4),             /* the site has no BLD rows */
	};
	const struct db_import_set db = {.of = {[DB_SITES] = {sites, 1}, [DB_LOCATIONS] = {stored, 3}}};
	const struct db_import_set files = {.of = {[DB_LOCATIONS] = {rows, 3}}};

	CHECK(check_across(&(struct ctl_check_in){&files, NULL, 0, &db, NULL}) == -1);
	check_errors((const char *const[]){
		"locations.csv:2:7: location \"north-nofloor\" is not dispatchable: no floor (FLR), "
		"and building \"North\" of site \"a\" has locations on floors 1, 2",
		NULL});
}

/* A site is one place: a point 5,500 km off (longitude sign lost) is refused, one in town
 * is not, and a site of two points has no median to compare with. */
static void test_geodetic_point_far_from_its_site_is_refused(void)
{
	const struct db_site_row sites[] = {{.key = "a"}, {.key = "b"}};
	struct db_location_row stored[] = {
		loc("s1", "a", "N", "1", 0), loc("s2", "a", "N", "1", 0),
		loc("s3", "a", "N", "1", 0), loc("t1", "b", "N", "1", 0),
	};
	struct db_location_row rows[] = {
		loc("near", "a", "N", "1", 2), loc("far", "a", "N", "1", 3),
		loc("alone", "b", "N", "1", 4),
	};
	const double at[][2] = {{40.7506, -73.9935}, {40.7510, -73.9930}, {40.7480, -73.9850},
				{41.8781, -87.6298}};

	for (int i = 0; i < 4; i++)
		stored[i].lat = at[i][0], stored[i].lon = at[i][1];
	rows[0].lat = 40.7600, rows[0].lon = -73.9800;
	rows[1].lat = 40.7506, rows[1].lon = 73.9935;
	rows[2].lat = 48.8566, rows[2].lon = 2.3522;
	const struct db_import_set db = {.of = {[DB_SITES] = {sites, 2},
						[DB_LOCATIONS] = {stored, 4}}};
	const struct db_import_set files = {.of = {[DB_LOCATIONS] = {rows, 3}}};

	CHECK(check_across(&(struct ctl_check_in){&files, NULL, 0, &db, NULL}) == -1);
	CHECKF(errs.total == 1 &&
	       strstr(errs.msg[0], "locations.csv:3:1: location \"far\" lies ") &&
	       strstr(errs.msg[0], " km from the median (40.7508, -73.9890) of the other 4 "
			      "geodetic points of site \"a\", more than 50 km: check its latitude "
			      "and longitude"), "%s", errs.n ? errs.msg[0] : "(none)");
}

/* Switches, ports and BSSIDs in one site with their locations; the unique values the
 * database holds for another key are named with that key. */
static void test_cross_site_switches_ports_and_bssids_are_refused(void)
{
	const struct db_site_row sites[] = {{.key = "a"}, {.key = "b"}};
	const struct db_location_row locs[] = {loc("la", "a", NULL, "1", 0),
					       loc("lb", "b", NULL, "1", 0)};
	const struct db_switch_row stored_sw[] = {
		{.key = "sw-old", .site_key = "a", .chassis_id = "00:00:5e:00:53:01"},
		{.key = "sw-a", .site_key = "a", .chassis_id = "00:00:5e:00:53:09"},
		{.key = "sw-swap", .site_key = "a", .chassis_id = "00:00:5e:00:53:07"},
	};
	const struct db_bssid_row stored_b[] = {{.bssid = "00:3a:7d:10:20:00", .prefix_len = 44,
						 .ap = "ap-1", .location_key = "la"}};
	const struct db_switch_row sw[] = {
		/* takes the stored sw-a's own chassis_id: no conflict */
		{.key = "sw-a", .site_key = "a", .chassis_id = "00:00:5e:00:53:09",
		 .location_key = "lb", .file = "switches.csv", .line = 2, .location_col = 5},
		{.key = "sw-new", .site_key = "b", .chassis_id = "00:00:5e:00:53:01",
		 .file = "switches.csv", .line = 3},
		/* sw-swap's stored chassis_id goes to sw-took, and sw-swap gets another: fine */
		{.key = "sw-swap", .site_key = "a", .chassis_id = "00:00:5e:00:53:08",
		 .file = "switches.csv", .line = 4},
		{.key = "sw-took", .site_key = "a", .chassis_id = "00:00:5e:00:53:07",
		 .file = "switches.csv", .line = 5},
	};
	const struct db_port_row ports[] = {
		{.switch_key = "sw-old", .port_id = "Gi1/0/1", .location_key = "la",
		 .file = "ports.csv", .line = 2, .location_col = 3},  /* fine */
		{.switch_key = "sw-old", .port_id = "Gi1/0/2", .location_key = "lb",
		 .file = "ports.csv", .line = 3, .location_col = 3},
	};
	const struct db_bssid_row b[] = {
		{.bssid = "00:3a:7d:10:20:04", .prefix_len = 48, .ap = "ap-2", .location_key = "lb",
		 .file = "bssids.csv", .line = 2, .location_col = 3},
		{.bssid = "00:3a:7d:99:00:00", .prefix_len = 48, .ap = "ap-1", .location_key = "lb",
		 .file = "bssids.csv", .line = 3, .location_col = 3},
	};
	const struct db_import_set db = {.of = {[DB_SITES] = {sites, 2}, [DB_LOCATIONS] = {locs, 2},
						[DB_SWITCHES] = {stored_sw, 3},
						[DB_BSSIDS] = {stored_b, 1}}};
	const struct db_import_set files = {.of = {[DB_SWITCHES] = {sw, 4}, [DB_PORTS] = {ports, 2},
						   [DB_BSSIDS] = {b, 2}}};

	CHECK(check_across(&(struct ctl_check_in){&files, NULL, 0, &db, NULL}) == -1);
	check_errors((const char *const[]){
		"switches.csv:2:5: switch \"sw-a\" is in site \"a\", but its location \"lb\" is in "
		"site \"b\": a switch's location must be in its own site",
		"ports.csv:3:3: port \"sw-old\" \"Gi1/0/2\": location \"lb\" is in site \"b\", but "
		"switch \"sw-old\" is in site \"a\": a port's location must be in its switch's "
		"site",
		"switches.csv:3:1: chassis_id \"00:00:5e:00:53:01\" of switch \"sw-new\" is "
		"already "
		"switch \"sw-old\" (site \"a\") in the database",
		"bssids.csv:2:1: BSSID \"00:3a:7d:10:20:04/48\" (site \"b\") lies inside "
		"00:3a:7d:10:20:00/44 (the database, site \"a\"): nested BSSID ranges must be in "
		"the same site",
		"bssids.csv:3:1: BSSID \"00:3a:7d:99:00:00/48\" of access point \"ap-1\" is in "
		"site "
		"\"b\", but its BSSID 00:3a:7d:10:20:00/44 (the database) is in site \"a\": an "
		"access point's BSSIDs must be in one site",
		NULL});
}

/* A reference to a key whose own row had errors is not reported again; one to an entity
 * whose file could not be read is not checked at all. */
static void test_broken_rows_count_as_known_keys(void)
{
	const struct db_location_row bad = loc("half-read", "a", NULL, "1", 2);
	const struct db_subnet_row nets[] = {
		{.prefix = "10.1.0.0/16", .location_key = "half-read", .file = "subnets.csv",
		 .line = 2, .ref_col = 2},
		{.prefix = "10.2.0.0/16", .location_key = "nowhere", .file = "subnets.csv",
		 .line = 3, .ref_col = 2},
	};
	const struct db_port_row ports[] = {{.switch_key = "sw-x", .port_id = "1",
					     .file = "ports.csv", .line = 2, .switch_col = 1}};
	const struct db_import_set db = {0};
	const struct db_import_set broken = {.of = {[DB_LOCATIONS] = {&bad, 1}}};
	const struct db_import_set files = {.of = {[DB_SUBNETS] = {nets, 2},
						   [DB_PORTS] = {ports, 1}}};

	CHECK(check_across(&(struct ctl_check_in){&files, &broken, 1u << DB_SWITCHES, &db,
						  NULL}) == -1);
	check_errors((const char *const[]){
		"subnets.csv:3:2: unknown location \"nowhere\" (in neither the locations file nor "
		"the database)",
		NULL});
}

/* ---- the one CSV writer (ctl_csv_put) and its formula rule ---- */

static void test_csv_writer_defuses_formulas_and_the_reader_undoes_it(void)
{
	static const char *const values[] = {
		"=1+2", "@SUM(A1)", "+1 555 0100", "-5 dB", "\tfirst", "\rfirst", "-",
		"'=already", "''@twice", "'plain", "it's", "-87.6298", "+12", "1e5", "-.5",
		"a,b", "say \"hi\"", " spaced ", "tab\t", "two\nlines", "=", NULL,
	};
	static const char *const written[] = {
		"\"'=1+2\"", "\"'@SUM(A1)\"", "\"'+1 555 0100\"", "\"'-5 dB\"", "\"'\tfirst\"",
		"\"'\rfirst\"", "\"'-\"", "\"''=already\"", "\"'''@twice\"", "'plain", "it's",
		"-87.6298", "+12", "1e5", "-.5", "\"a,b\"", "\"say \"\"hi\"\"\"", "\" spaced \"",
		"\"tab\t\"", "\"two\nlines\"", "\"'=\"",
	};
	char path[] = "/tmp/test_csv_writer_XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct ctl_file s = {0};

	if (!CHECK(f))
		return;
	struct ctl_csv_out o = {f, "\n", 0};
	ctl_csv_put(&o, "site");
	ctl_csv_put(&o, "name");
	ctl_csv_end_row(&o);
	for (size_t i = 0; values[i]; i++) {
		char *one_field = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&one_field, &len);
		struct ctl_csv_out one = {m, "", 0};

		ctl_csv_put(&one, values[i]);
		fclose(m);
		CHECKF(strcmp(one_field, written[i]) == 0, "%s written as %s", values[i],
		       one_field);
		free(one_field);
		fprintf(f, "k%zu", i);
		o.fields = 1;
		ctl_csv_put(&o, values[i]);
		ctl_csv_end_row(&o);
	}
	fclose(f);
	memset(&errs, 0, sizeof(errs));
	CHECK(ctl_load(DB_SITES, path, CTL_FORMAT_AUTO, &s, &errs) == 0);
	for (size_t i = 0; i < errs.n; i++)
		t_diag("%s", errs.msg[i]);
	CHECK(s.n == sizeof(written) / sizeof(written[0]));
	for (size_t i = 0; values[i] && i < s.n; i++)
		CHECKF(strcmp(ROWS(s, db_site_row)[i].name, values[i]) == 0, "%s read back as %s", values[i],
		       ROWS(s, db_site_row)[i].name);
	ctl_file_free(&s);
	unlink(path);
}

/* ---- the entity table (db_entity.c) ---- */

/* What the walkers take for granted: names that find their entry, a key that references
 * can name, a place for every second value, and the civic columns named as the PIDF-LO
 * names the fields (proto/civic.c), each in its own slot. */
static void test_entity_table_is_consistent(void)
{
	for (int e = 0; e < DB_ENTITY_N; e++) {
		const struct db_entity_desc *d = &db_entities[e];
		size_t ids = 0;

		CHECKF(db_entity_by_name(d->name) == e, "%s", d->name);
		for (size_t k = 0; k < d->n_cols; k++) {
			const struct db_column *c = &d->cols[k];
			const struct db_column *key = &db_entities[c->ref].cols[0];
			CHECKF(db_column_index((enum db_entity)e, c->name) == (int)k, "%s.%s",
			       d->name, c->name);
			CHECKF(c->db && c->select, "%s.%s", d->name, c->name);
			CHECKF(c->kind != DB_K_REF || ((key->flags & DB_COL_ID) &&
						       key->kind == DB_K_KEY),
			       "%s.%s refers to an entity whose first column is not its key",
			       d->name, c->name);
			CHECKF((c->kind != DB_K_BSSID && c->kind != DB_K_FIRST_SEEN) || c->aux,
			       "%s.%s", d->name, c->name);
			CHECKF(c->kind != DB_K_BSSID || (c->db_aux && c->select_aux), "%s.%s",
			       d->name, c->name);
			CHECKF(c->kind != DB_K_ENUM || (c->values && c->label), "%s.%s", d->name,
			       c->name);
			ids += (c->flags & DB_COL_ID) != 0;
		}
		CHECKF(ids > 0, "%s has no identity", d->name);
		CHECKF(d->from && d->order && d->remove && d->table, "%s", d->name);
	}
	for (int f = 0; f < CIVIC_N_FIELDS; f++) {
		int k = db_column_index(DB_LOCATIONS, civic_field_name((enum civic_field)f));
		CHECKF(k >= 0 && db_entities[DB_LOCATIONS].cols[k].at ==
				 offsetof(struct db_location_row, civic[f]),
		       "civic field %s", civic_field_name((enum civic_field)f));
	}
}

int main(void)
{
	t_run("test_good_sites_parse_with_quoted_commas", test_good_sites_parse_with_quoted_commas);
	t_run("test_good_locations_parse_with_quotes_and_newlines",
	      test_good_locations_parse_with_quotes_and_newlines);
	t_run("test_good_subnets_are_canonical", test_good_subnets_are_canonical);
	t_run("test_columns_in_any_order", test_columns_in_any_order);
	t_run("test_crlf_line_endings", test_crlf_line_endings);
	t_run("test_utf8_bom_is_stripped", test_utf8_bom_is_stripped);
	t_run("test_invalid_utf8_is_refused", test_invalid_utf8_is_refused);
	t_run("test_control_character_is_refused", test_control_character_is_refused);
	t_run("test_stray_quote_is_a_syntax_error", test_stray_quote_is_a_syntax_error);
	t_run("test_unterminated_quote_is_a_syntax_error",
	      test_unterminated_quote_is_a_syntax_error);
	t_run("test_empty_file_needs_a_header", test_empty_file_needs_a_header);
	t_run("test_missing_file", test_missing_file);
	t_run("test_header_unknown_duplicate_and_case", test_header_unknown_duplicate_and_case);
	t_run("test_header_typos_and_semicolons_get_a_hint",
	      test_header_typos_and_semicolons_get_a_hint);
	t_run("test_header_missing_required_column", test_header_missing_required_column);
	t_run("test_bad_site_rows", test_bad_site_rows);
	t_run("test_bad_subnet_rows", test_bad_subnet_rows);
	t_run("test_bad_location_rows", test_bad_location_rows);
	t_run("test_errors_are_capped", test_errors_are_capped);
	t_run("test_site_default_location_and_policy", test_site_default_location_and_policy);
	t_run("test_bad_site_policy", test_bad_site_policy);
	t_run("test_switch_chassis_mac_is_canonical_and_name_verbatim",
	      test_switch_chassis_mac_is_canonical_and_name_verbatim);
	t_run("test_bad_switch_rows", test_bad_switch_rows);
	t_run("test_switch_polling_columns_parsed_and_defaulted",
	      test_switch_polling_columns_parsed_and_defaulted);
	t_run("test_bad_switch_polling_columns", test_bad_switch_polling_columns);
	t_run("test_ports", test_ports);
	t_run("test_bssid_ranges", test_bssid_ranges);
	t_run("test_bad_bssids", test_bad_bssids);
	t_run("test_endpoint_identities_are_normalized", test_endpoint_identities_are_normalized);
	t_run("test_bad_endpoints", test_bad_endpoints);
	t_run("test_bindings", test_bindings);
	t_run("test_bad_bindings", test_bad_bindings);
	t_run("test_timestamps", test_timestamps);
	t_run("test_json_sites_and_locations_read_like_csv",
	      test_json_sites_and_locations_read_like_csv);
	t_run("test_iso_3166_lookups_take_codes_and_names",
	      test_iso_3166_lookups_take_codes_and_names);
	t_run("test_iso_codes_package_data_loads", test_iso_codes_package_data_loads);
	t_run("test_place_types_are_the_rfc_4589_registry",
	      test_place_types_are_the_rfc_4589_registry);
	t_run("test_civic_problems_name_what_is_missing", test_civic_problems_name_what_is_missing);
	t_run("test_hno_with_a_suffix_and_a_misshapen_postal_code_are_problems",
	      test_hno_with_a_suffix_and_a_misshapen_postal_code_are_problems);
	t_run("test_postal_codes_fit_their_countrys_format",
	      test_postal_codes_fit_their_countrys_format);
	t_run("test_nested_subnets_in_two_sites_are_refused",
	      test_nested_subnets_in_two_sites_are_refused);
	t_run("test_multi_floor_building_needs_a_floor", test_multi_floor_building_needs_a_floor);
	t_run("test_geodetic_point_far_from_its_site_is_refused",
	      test_geodetic_point_far_from_its_site_is_refused);
	t_run("test_cross_site_switches_ports_and_bssids_are_refused",
	      test_cross_site_switches_ports_and_bssids_are_refused);
	t_run("test_broken_rows_count_as_known_keys", test_broken_rows_count_as_known_keys);
	t_run("test_csv_writer_defuses_formulas_and_the_reader_undoes_it",
	      test_csv_writer_defuses_formulas_and_the_reader_undoes_it);
	t_run("test_entity_table_is_consistent", test_entity_table_is_consistent);
	t_run("test_classes_and_their_defaults", test_classes_and_their_defaults);
	t_run("test_remote_subnet_needs_no_location", test_remote_subnet_needs_no_location);
	t_run("test_endpoint_class_must_exist_in_the_files_or_the_database",
	      test_endpoint_class_must_exist_in_the_files_or_the_database);
	return t_done();
}
