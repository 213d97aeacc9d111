/* lisd end to end: a real PostgreSQL holding tests/data/integration, lisd on 127.0.0.1 and on
 * [::1] over TLS, libcurl as the HELD client. Every answer is checked element by element. */
#include "check.h"
#include "harness.h"
#include "xp.h"

#include "lis_version.h"

#include <curl/curl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static struct th_pg pg;
static struct th_tls tls;
static struct th_lisd v4, v6;
static bool up;

#define HELD_NS "urn:ietf:params:xml:ns:geopriv:held"
#define DOMAIN "lis.test.invalid"

static const char *req_civic =
	"<locationRequest xmlns=\"" HELD_NS "\" responseTime=\"emergencyRouting\">"
	"<locationType exact=\"true\">civic</locationType></locationRequest>";
static const char *req_geodetic_exact =
	"<locationRequest xmlns=\"" HELD_NS "\">"
	"<locationType exact=\"true\">geodetic</locationType></locationRequest>";
static const char *req_any = "<locationRequest xmlns=\"" HELD_NS "\"/>";

/* ---- document checks ---- */

static bool is_held_ct(const char *ct)
{
	return strncmp(ct, "application/held+xml", 20) == 0 &&
	       (ct[20] == '\0' || ct[20] == ';' || ct[20] == ' ');
}

/* An HTTP 200 HELD error with this code and a message. */
static void check_held_error(const struct th_resp *r, const char *code)
{
	if (!CHECKF(r->curl_code == 0, "curl: %s", r->errbuf))
		return;
	CHECKF(r->status == 200, "HTTP %ld", r->status);
	CHECKF(is_held_ct(r->content_type), "Content-Type %s", r->content_type);
	xmlDocPtr d = xp_parse(r->body, r->body_len);
	if (!CHECKF(d != NULL, "not XML: %s", th_flat(r->body)))
		return;
	CHECKF(xp_count(d, "/held:error") == 1, "root is not held:error: %s", th_flat(r->body));
	char *c = xp_str(d, "/held:error/@code");
	CHECK_STR(c, code);
	free(c);
	char *m = xp_str(d, "normalize-space(/held:error/held:message)");
	CHECKF(m[0] != '\0', "empty message: %s", th_flat(r->body));
	free(m);
	xmlFreeDoc(d);
}

/* A locationResponse carrying a presence document; returns the parsed document. */
static xmlDocPtr check_location_response(const struct th_resp *r)
{
	if (!CHECKF(r->curl_code == 0, "curl: %s", r->errbuf))
		return NULL;
	CHECKF(r->status == 200, "HTTP %ld", r->status);
	CHECKF(is_held_ct(r->content_type), "Content-Type %s", r->content_type);
	xmlDocPtr d = xp_parse(r->body, r->body_len);
	if (!CHECKF(d != NULL, "not XML: %s", th_flat(r->body)))
		return NULL;
	if (!CHECKF(xp_count(d, "/held:locationResponse/pidf:presence") == 1,
		    "no locationResponse/presence: %s", th_flat(r->body))) {
		xmlFreeDoc(d);
		return NULL;
	}
	char *e = xp_str(d, "/held:locationResponse/pidf:presence/@entity");
	size_t el = strlen(e), dl = strlen("@" DOMAIN);
	CHECKF(strncmp(e, "pres:", 5) == 0 && el > 5 + dl &&
	       strcmp(e + el - dl, "@" DOMAIN) == 0, "entity \"%s\"", e);
	free(e);
	/* RFC 5491 §3: one location per geopriv */
	CHECK(xp_count(d, "//gp:geopriv[count(gp:location-info) != 1]") == 0);
	CHECK(xp_count(d, "//gp:location-info[count(*) != 1]") == 0);
	/* lisd knows no device identifier (RFC 4479 dm:device needs dm:deviceID), so each
	 * location is a PIDF tuple: status > geopriv, then timestamp. */
	CHECK(xp_count(d, "//dm:*") == 0);
	CHECK(xp_count(d, "/held:locationResponse/pidf:presence/*[not(self::pidf:tuple)]") == 0);
	CHECK(xp_count(d, "/held:locationResponse/pidf:presence/pidf:tuple[not(@id)]") == 0);
	/* every geopriv: method, usage rules, and a tuple timestamp */
	const char *G = "/held:locationResponse/pidf:presence/pidf:tuple/pidf:status/gp:geopriv";
	char x[512];
	snprintf(x, sizeof x, "%s[gp:method != 'Wiremap']", G);
	CHECK(xp_count(d, x) == 0);
	snprintf(x, sizeof x, "%s[gp:usage-rules/gbp:retransmission-allowed != 'true']", G);
	CHECK(xp_count(d, x) == 0);
	int nd = xp_count(d, "/held:locationResponse/pidf:presence/pidf:tuple");
	CHECK(nd >= 1);
	for (int i = 1; i <= nd; i++) {
		snprintf(x, sizeof x, "/held:locationResponse/pidf:presence/pidf:tuple[%d]/pidf:timestamp",
			 i);
		char *ts = xp_str(d, x);
		CHECKF(th_is_datetime(ts), "timestamp \"%s\"", ts);
		free(ts);
		snprintf(x, sizeof x, "/held:locationResponse/pidf:presence/pidf:tuple[%d]/pidf:status/"
			 "gp:geopriv/gp:usage-rules/gbp:retention-expiry", i);
		char *re = xp_str(d, x);
		CHECKF(th_is_datetime(re), "retention-expiry \"%s\"", re);
		free(re);
	}
	return d;
}

static char *civ(xmlDocPtr d, const char *el)
{
	char x[256];
	snprintf(x, sizeof x, "/held:locationResponse/pidf:presence/pidf:tuple/pidf:status/gp:geopriv/"
		 "gp:location-info/ca:civicAddress/ca:%s", el);
	return xp_str(d, x);
}

#define CHECK_CIVIC(d, el, want) do { char *v_ = civ(d, el); CHECK_STR(v_, want); free(v_); } while (0)

static void check_hq_410_civic(xmlDocPtr d)
{
	CHECK(xp_count(d, "/held:locationResponse/pidf:presence/pidf:tuple/pidf:status/gp:geopriv/"
		       "gp:location-info/ca:civicAddress") == 1);
	char *lang = xp_str(d, "//ca:civicAddress/@xml:lang");
	CHECK_STR(lang, "en-US");
	free(lang);
	CHECK_CIVIC(d, "country", "US");
	CHECK_CIVIC(d, "A1", "NY");
	CHECK_CIVIC(d, "A3", "New York");
	CHECK_CIVIC(d, "RD", "Broadway");
	CHECK_CIVIC(d, "STS", "ST");
	CHECK_CIVIC(d, "HNO", "123");
	CHECK_CIVIC(d, "PC", "10001");
	CHECK_CIVIC(d, "BLD", "North");
	CHECK_CIVIC(d, "FLR", "4");
	CHECK_CIVIC(d, "ROOM", "410");
	/* nothing that was not in the wiremap */
	CHECK(xp_count(d, "//ca:civicAddress/ca:UNIT") == 0);
	CHECK(xp_count(d, "//ca:civicAddress/*[normalize-space(.) = '']") == 0);
}

/* ---- cases ---- */

static bool snapshot_loaded(void *ctx)
{
	struct th_resp r;
	th_held_post(ctx, &tls, req_civic, NULL, &r);
	xmlDocPtr d = r.curl_code == 0 ? xp_parse(r.body, r.body_len) : NULL;
	bool ok = d && xp_count(d, "/held:locationResponse/pidf:presence") == 1;
	xmlFreeDoc(d);
	th_resp_free(&r);
	return ok;
}

static void test_setup_postgresql_wiremap_tls_and_lisd(void)
{
	if (!CHECK(th_pg_start(&pg) == 0) || !CHECK(th_tls_make(&tls) == 0))
		return;
	struct th_proc p;
	char *m[] = {(char *)th_lisctl_path(), "--db", pg.conninfo, "db", "migrate", NULL};
	th_run(&p, m, NULL, 60);
	bool ok = CHECKF(p.status == 0, "migrate: %s%s", p.out, th_flat(p.err));
	th_proc_free(&p);
	char s[512], l[512], n[512];
	snprintf(s, sizeof s, "%s", th_src("tests/data/integration/sites.csv"));
	snprintf(l, sizeof l, "%s", th_src("tests/data/integration/locations.csv"));
	snprintf(n, sizeof n, "%s", th_src("tests/data/integration/subnets.csv"));
	char *im[] = {(char *)th_lisctl_path(), "--db", pg.conninfo, "import", "--sites", s,
		"--locations", l, "--subnets", n, NULL};
	th_run(&p, im, NULL, 60);
	ok = CHECKF(p.status == 0, "import: %s%s", p.out, th_flat(p.err)) && ok;
	th_proc_free(&p);
	if (!ok)
		return;
	if (!CHECK(th_lisd_start(&v4, "127.0.0.1", &tls, pg.conninfo, NULL, NULL) == 0))
		return;
	if (!CHECK(th_lisd_start(&v6, "::1", &tls, pg.conninfo, NULL, NULL) == 0))
		return;
	/* lisd answers from a snapshot it loads after start-up (issue 3): wait for it */
	if (!CHECKF(th_wait_until(60, 50, snapshot_loaded, &v4, NULL) &&
		    th_wait_until(60, 50, snapshot_loaded, &v6, NULL), "no snapshot within 60 s"))
		return;
	up = true;
}

static void test_help_lists_options(void)
{
	struct th_proc p;
	char *a[] = {(char *)th_lisd_path(), "--help", NULL};
	th_run(&p, a, NULL, 10);
	CHECKF(p.status == 0, "exit %d", p.status);
	const char *opts[] = {"--listen", "--port", "--held-path", "--tls-cert", "--tls-key",
		"--threads", "--max-body", "--conninfo", "--domain", "--retention",
		"--check-config", "--version"};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		CHECKF(strstr(p.out, opts[i]) != NULL, "--help does not list %s", opts[i]);
	th_proc_free(&p);
}

/* Does a macro line of the man page (.B, .BI, .BR) begin with opt, as an entry of OPTIONS
 * does (".BI \\-\\-listen " ADDR"", ".BR \\-c ", " \\-\\-config ...")? A mention in a
 * sentence or an example is not an entry. */
static bool man_has_entry(const char *man, const char *opt)
{
	char want[128];
	t_roff_dashes(opt, want, sizeof want);
	size_t n = strlen(want);
	for (const char *l = man; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, ".B", 2) != 0)
			continue;
		const char *a = l + 2 + strspn(l + 2, "IR");
		if (*a != ' ')
			continue;
		a++;
		/* a short twin first: \-c ", " */
		if (a[0] == '\\' && a[1] == '-' && a[2] && a[2] != '\\' &&
		    strncmp(a + 3, " \", \" ", 6) == 0)
			a += 9;
		if (strncmp(a, want, n) == 0 && strchr(" \"\n", a[n]))
			return true;
	}
	return false;
}

/* lisd(8) lists every option --help lists (each key's twin included), each as an entry of
 * its own: the page says it lists them all. */
static void test_man_page_lists_every_option(void)
{
	struct th_proc p;
	char *a[] = {(char *)th_lisd_path(), "--help", NULL};
	th_run(&p, a, NULL, 10);
	char path[1024];
	snprintf(path, sizeof path, "%s/man/lisd.8", th_srcdir());
	char *man = th_read_file(path, NULL);
	if (!CHECKF(p.status == 0 && man, "exit %d, %s read: %s", p.status, path,
		    man ? "yes" : "no"))
		goto out;
	size_t n = 0;
	for (const char *l = p.out; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		/* an option line: "  --listen ADDR ..." or "  -c, --config FILE ..." */
		if (strncmp(l, "  -", 3) != 0)
			continue;
		const char *o = l + 2;
		if (o[1] != '-' && strncmp(o + 2, ", --", 4) == 0)
			o += 4;
		if (strncmp(o, "--", 2) != 0)
			continue;
		char opt[96];
		size_t len = strspn(o, "-abcdefghijklmnopqrstuvwxyz0123456789");
		if (len >= sizeof opt)
			len = sizeof opt - 1;
		memcpy(opt, o, len);
		opt[len] = '\0';
		n++;
		CHECKF(man_has_entry(man, opt), "lisd(8) has no entry for %s", opt);
	}
	CHECKF(n > 60, "only %zu options read from --help", n);
out:
	free(man);
	th_proc_free(&p);
}

static void test_version_prints_version(void)
{
	struct th_proc p;
	char *a[] = {(char *)th_lisd_path(), "--version", NULL};
	th_run(&p, a, NULL, 10);
	CHECKF(p.status == 0, "exit %d", p.status);
	CHECKF(strstr(p.out, LIS_VERSION) != NULL, "stdout: %s", th_flat(p.out));
	th_proc_free(&p);
}

static void test_bad_config_key_exits_2_with_file_line(void)
{
	char *d = th_tmpdir("badconf");
	char path[512];
	snprintf(path, sizeof path, "%s/bad.conf", d);
	th_write_file(path, "[server]\nlisten = 127.0.0.1\nno_such_key = 1\n");
	struct th_proc p;
	char *a[] = {(char *)th_lisd_path(), "-c", path, "--check-config", NULL};
	th_run(&p, a, NULL, 10);
	CHECKF(p.status == 2, "exit %d", p.status);
	char want[600];
	snprintf(want, sizeof want, "%s:3", path);
	CHECKF(strstr(p.err, want) != NULL, "stderr lacks %s: %s", want, th_flat(p.err));
	th_proc_free(&p);
	char *b[] = {(char *)th_lisd_path(), "--no-such-option", "1", NULL};
	th_run(&p, b, NULL, 10);
	CHECKF(p.status == 2, "unknown option: exit %d", p.status);
	th_proc_free(&p);
}

static void test_check_config_accepts_good_config(void)
{
	struct th_proc p;
	char *a[] = {(char *)th_lisd_path(), "-c", v4.conf, "--check-config", NULL};
	th_run(&p, a, NULL, 20);
	CHECKF(p.status == 0, "exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);
}

static void test_civic_request_gives_civic_pidf_lo(void)
{
	struct th_resp r;
	th_held_post(&v4, &tls, req_civic, NULL, &r);
	xmlDocPtr d = check_location_response(&r);
	if (d) {
		CHECK(xp_count(d, "//pidf:tuple") == 1);
		check_hq_410_civic(d);
		CHECK(xp_count(d, "//gml:Point | //gs:Circle") == 0);
		CHECK(xp_count(d, "/held:locationResponse/held:locationUriSet") == 0);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
}

/* The presence entity is random in every answer (an answer cannot be linked to another by
 * it), past the 32 entities one refill of a thread's random store gives. */
static void test_entities_differ_in_every_answer(void)
{
	enum { N = 80 };
	static char seen[N][40];
	for (int i = 0; i < N; i++) {
		struct th_resp r;
		th_held_post(&v4, &tls, req_civic, NULL, &r);
		xmlDocPtr d = check_location_response(&r);
		th_resp_free(&r);
		if (!d)
			return;
		char *e = xp_str(d, "/held:locationResponse/pidf:presence/@entity");
		xmlFreeDoc(d);
		CHECKF(strlen(e) == 5 + 32 + strlen("@" DOMAIN) &&
		       strspn(e + 5, "0123456789abcdef") == 32, "entity \"%s\"", e);
		snprintf(seen[i], sizeof seen[i], "%.37s", e);
		free(e);
		for (int j = 0; j < i; j++)
			if (!CHECKF(strcmp(seen[i], seen[j]) != 0, "answers %d and %d: %s", j, i,
				    seen[i]))
				return;
	}
}

static void test_content_type_with_charset_is_accepted(void)
{
	struct th_req rq = {.url = v4.url, .content_type = "application/held+xml; charset=utf-8",
		.body = req_civic, .cafile = tls.cert};
	struct th_resp r;
	th_https(&rq, &r);
	xmlDocPtr d = check_location_response(&r);
	if (d)
		check_hq_410_civic(d);
	xmlFreeDoc(d);
	th_resp_free(&r);
}

static void test_no_location_type_gives_civic(void)
{
	struct th_resp r;
	th_held_post(&v4, &tls, req_any, NULL, &r);
	xmlDocPtr d = check_location_response(&r);
	if (d)
		check_hq_410_civic(d);
	xmlFreeDoc(d);
	th_resp_free(&r);
}

static void check_hq_geo_point(xmlDocPtr d)
{
	const char *LI = "/held:locationResponse/pidf:presence/pidf:tuple/pidf:status/gp:geopriv/"
			 "gp:location-info";
	char x[512];
	snprintf(x, sizeof x, "%s/gml:Point | %s/gs:Circle", LI, LI);
	if (!CHECK(xp_count(d, x) == 1))
		return;
	snprintf(x, sizeof x, "normalize-space((%s/gml:Point/gml:pos | %s/gs:Circle/gml:pos)[1])",
		 LI, LI);
	char *pos = xp_str(d, x);
	double lat = 0, lon = 0;
	CHECKF(sscanf(pos, "%lf %lf", &lat, &lon) == 2, "pos \"%s\"", pos);
	CHECKF(lat > 40.7505 && lat < 40.7507 && lon > -73.9936 && lon < -73.9934,
	       "pos \"%s\" (latitude first)", pos);
	free(pos);
	snprintf(x, sizeof x, "(%s/gml:Point/@srsName | %s/gs:Circle/@srsName)[1]", LI, LI);
	char *srs = xp_str(d, x);
	CHECKF(strcmp(srs, "urn:ogc:def:crs:EPSG::4326") == 0 ||
	       strcmp(srs, "urn:ogc:def:crs:EPSG::4979") == 0, "srsName \"%s\"", srs);
	free(srs);
	if (xp_count(d, "//gs:Circle") == 1) {
		char *rad = xp_str(d, "normalize-space(//gs:Circle/gs:radius)");
		CHECKF(strtod(rad, NULL) == 15.0, "radius \"%s\"", rad);
		free(rad);
		char *uom = xp_str(d, "//gs:Circle/gs:radius/@uom");
		CHECK_STR(uom, "urn:ogc:def:uom:EPSG::9001");
		free(uom);
	}
}

static void test_geodetic_request_over_ipv6_gives_point(void)
{
	struct th_resp r;
	th_held_post(&v6, &tls, req_geodetic_exact, NULL, &r);
	xmlDocPtr d = check_location_response(&r);
	if (d) {
		check_hq_geo_point(d);
		/* exact="true" geodetic: no civic form */
		CHECK(xp_count(d, "//ca:civicAddress") == 0);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
}

static void test_civic_and_geodetic_go_in_separate_geoprivs(void)
{
	const char *req = "<locationRequest xmlns=\"" HELD_NS "\">"
			  "<locationType exact=\"true\">civic geodetic</locationType>"
			  "</locationRequest>";
	struct th_resp r;
	th_held_post(&v6, &tls, req, NULL, &r);
	xmlDocPtr d = check_location_response(&r);
	if (d) {
		CHECK(xp_count(d, "//gp:geopriv") == 2);
		CHECK(xp_count(d, "//gp:location-info/ca:civicAddress") == 1);
		CHECK_CIVIC(d, "FLR", "2");
		check_hq_geo_point(d);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
}

static void test_nested_subnets_longest_prefix_wins(void)
{
	struct th_resp r;
	th_held_post(&v4, &tls, req_civic, "127.1.2.3", &r);
	xmlDocPtr d = check_location_response(&r);
	if (d) {
		CHECK_CIVIC(d, "BLD", "Lab");
		CHECK_CIVIC(d, "ROOM", "B12");
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
	th_held_post(&v4, &tls, req_civic, "127.1.9.9", &r);
	d = check_location_response(&r);
	if (d) {
		CHECK_CIVIC(d, "BLD", "Campus");
		CHECK(xp_count(d, "//ca:ROOM") == 0);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
}

static void test_unmapped_source_gives_locationUnknown(void)
{
	struct th_resp r;
	th_held_post(&v4, &tls, req_civic, "127.0.0.2", &r);
	check_held_error(&r, "locationUnknown");
	th_resp_free(&r);
}

static void test_exact_geodetic_for_civic_only_gives_cannotProvideLiType(void)
{
	struct th_resp r;
	th_held_post(&v4, &tls, req_geodetic_exact, NULL, &r);
	check_held_error(&r, "cannotProvideLiType");
	th_resp_free(&r);
}

static void test_exact_locationURI_gives_cannotProvideLiType(void)
{
	const char *req = "<locationRequest xmlns=\"" HELD_NS "\">"
			  "<locationType exact=\"true\">locationURI</locationType>"
			  "</locationRequest>";
	struct th_resp r;
	th_held_post(&v4, &tls, req, NULL, &r);
	check_held_error(&r, "cannotProvideLiType");
	th_resp_free(&r);
}

static void test_unknown_held_message_gives_unsupportedMessage(void)
{
	const char *req = "<locationSubscription xmlns=\"" HELD_NS "\"/>";
	struct th_resp r;
	th_held_post(&v4, &tls, req, NULL, &r);
	check_held_error(&r, "unsupportedMessage");
	th_resp_free(&r);
}

static void test_malformed_xml_gives_xmlError(void)
{
	const char *req = "<locationRequest xmlns=\"" HELD_NS "\"><locationType>civic";
	struct th_resp r;
	th_held_post(&v4, &tls, req, NULL, &r);
	check_held_error(&r, "xmlError");
	th_resp_free(&r);
}

static void test_billion_laughs_gives_xmlError_quickly(void)
{
	const char *req =
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
		"<locationRequest xmlns=\"" HELD_NS "\">"
		"<locationType>&lol9;</locationType></locationRequest>";
	struct th_resp r;
	th_held_post(&v4, &tls, req, NULL, &r);
	check_held_error(&r, "xmlError");
	CHECKF(r.seconds < 5.0, "took %.1f s", r.seconds);
	th_resp_free(&r);
}

static void test_third_party_device_request_is_refused(void)
{
	const char *req = "<locationRequest xmlns=\"" HELD_NS "\">"
			  "<locationType exact=\"false\">civic</locationType>"
			  "<device xmlns=\"urn:ietf:params:xml:ns:geopriv:held:id\">"
			  "<uri>sip:alice@example.com</uri></device></locationRequest>";
	struct th_resp r;
	th_held_post(&v4, &tls, req, NULL, &r);
	/* RFC 6155 §2.2: badIdentifier covers an identifier the requester may not use */
	check_held_error(&r, "badIdentifier");
	/* nothing about any location leaks into the refusal */
	xmlDocPtr d = xp_parse(r.body, r.body_len);
	CHECK(xp_count(d, "//*[contains(., 'Broadway')] | //@*[contains(., 'Broadway')]") == 0);
	xmlFreeDoc(d);
	th_resp_free(&r);
}

static void test_get_gives_405_with_allow_post(void)
{
	struct th_req rq = {.method = "GET", .url = v4.url, .cafile = tls.cert};
	struct th_resp r;
	th_https(&rq, &r);
	CHECKF(r.curl_code == 0, "curl: %s", r.errbuf);
	CHECKF(r.status == 405, "HTTP %ld", r.status);
	CHECK_STR(r.allow, "POST");
	CHECKF(strncmp(r.content_type, "text/plain", 10) == 0, "Content-Type %s", r.content_type);
	th_resp_free(&r);
}

/* RFC 5985 §8: without "the appropriate Content-Type and Accept header fields, the LIS
 * SHOULD fail the request, returning a 406 (not acceptable) response" (it was 415). */
static void test_text_xml_gives_406(void)
{
	struct th_req rq = {.url = v4.url, .content_type = "text/xml", .body = req_civic,
		.cafile = tls.cert};
	struct th_resp r;
	th_https(&rq, &r);
	CHECKF(r.curl_code == 0, "curl: %s", r.errbuf);
	CHECKF(r.status == 406, "HTTP %ld", r.status);
	CHECKF(strstr(r.body, "Content-Type application/held+xml") != NULL, "body: %s",
	       th_flat(r.body));
	th_resp_free(&r);
}

/* The header fields of a request live in libmicrohttpd's per-connection pool (32 KB, lisd's
 * CONNECTION_MEMORY_LIMIT): 24 KB of them is still answered, 40 KB is refused with 431. */
static long status_with_header_of(size_t n)
{
	char *line = malloc(n + 16);
	memcpy(line, "X-Padding: ", 11);
	memset(line + 11, 'a', n);
	line[11 + n] = '\0';
	const char *const hs[] = {line, NULL};
	struct th_req rq = {.url = v4.url, .content_type = "application/held+xml",
		.body = req_civic, .cafile = tls.cert, .headers = hs};
	struct th_resp r;
	th_https(&rq, &r);
	long st = r.curl_code == 0 ? r.status : -1;
	th_resp_free(&r);
	free(line);
	return st;
}

static void test_header_fields_of_24_kb_answered_40_kb_refused_431(void)
{
	long st = status_with_header_of(24 * 1024);
	CHECKF(st == 200, "24 KB: HTTP %ld", st);
	st = status_with_header_of(40 * 1024);
	CHECKF(st == 431, "40 KB: HTTP %ld", st);
}

static void test_body_over_max_body_gives_413(void)
{
	/* max_body = 4096 in the harness config; a well-formed request padded past it */
	size_t n = 6000;
	char *big = malloc(n + 1);
	const char *head = "<locationRequest xmlns=\"" HELD_NS "\"><!--";
	const char *tail = "--></locationRequest>";
	size_t hl = strlen(head), tl = strlen(tail);
	memcpy(big, head, hl);
	memset(big + hl, 'x', n - hl - tl);
	memcpy(big + n - tl, tail, tl);
	big[n] = '\0';
	struct th_req rq = {.url = v4.url, .content_type = "application/held+xml", .body = big,
		.cafile = tls.cert};
	struct th_resp r;
	th_https(&rq, &r);
	CHECKF(r.curl_code == 0, "curl: %s", r.errbuf);
	CHECKF(r.status == 413, "HTTP %ld", r.status);
	th_resp_free(&r);
	free(big);
	/* lisd still serves afterwards */
	th_held_post(&v4, &tls, req_civic, NULL, &r);
	xmlFreeDoc(check_location_response(&r));
	th_resp_free(&r);
}

static void test_other_path_gives_404(void)
{
	char url[200];
	snprintf(url, sizeof url, "%s/nothing-here", v4.base);
	struct th_req rq = {.url = url, .content_type = "application/held+xml", .body = req_civic,
		.cafile = tls.cert};
	struct th_resp r;
	th_https(&rq, &r);
	CHECKF(r.curl_code == 0, "curl: %s", r.errbuf);
	CHECKF(r.status == 404, "HTTP %ld", r.status);
	th_resp_free(&r);
}

/* RFC 9112 §6.3: a body length that is not one number is an unrecoverable error, 400 and
 * the connection closed; libmicrohttpd used to take the first Content-Length. Both
 * Transfer-Encoding and Content-Length likewise (§6.1). */
static void test_ambiguous_body_length_gives_400_and_closes(void)
{
	char cl[40];
	snprintf(cl, sizeof cl, "Content-Length: %zu", strlen(req_civic));
	const char *const twice[] = {cl, "Content-Length: 5", NULL};
	const char *const both[] = {"Transfer-Encoding: chunked", cl, NULL};
	const char *const *cases[] = {twice, both};
	for (size_t i = 0; i < 2; i++) {
		struct th_req rq = {.url = v4.url, .content_type = "application/held+xml",
			.body = req_civic, .cafile = tls.cert, .headers = cases[i]};
		struct th_resp r;
		th_https(&rq, &r);
		CHECKF(r.curl_code == 0 && r.status == 400, "case %zu: %s HTTP %ld", i, r.errbuf,
		       r.status);
		CHECKF(strcasestr(r.headers, "Connection: close") != NULL, "case %zu: %s", i,
		       th_flat(r.headers));
		th_resp_free(&r);
	}
	char *log = th_lisd_log(&v4);
	CHECK(log && strstr(log, "result=400 method=POST path=/held") &&
	      strstr(log, "reason=\"conflicting Content-Length\"") &&
	      strstr(log, "reason=\"Transfer-Encoding and Content-Length\""));
	free(log);
}

static void test_plain_http_gets_no_http_response(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)v4.port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (!CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)) {
		close(fd);
		return;
	}
	const char *req = "POST /held HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			  "Content-Type: application/held+xml\r\nContent-Length: 0\r\n"
			  "Connection: close\r\n\r\n";
	ssize_t w = write(fd, req, strlen(req));
	CHECK(w == (ssize_t)strlen(req));
	char buf[256] = {0};
	ssize_t n = read(fd, buf, sizeof buf - 1);
	CHECKF(n <= 0 || strncmp(buf, "HTTP/", 5) != 0, "plain HTTP answered: %.60s", th_flat(buf));
	close(fd);
	/* and lisd still serves TLS */
	struct th_resp r;
	th_held_post(&v4, &tls, req_civic, NULL, &r);
	xmlFreeDoc(check_location_response(&r));
	th_resp_free(&r);
}

static void test_tls_1_1_refused_1_2_and_1_3_accepted(void)
{
	/* SECLEVEL=0 lets our client offer TLS 1.1, so a failure is the server's refusal */
	struct th_req rq = {.url = v4.url, .content_type = "application/held+xml",
		.body = req_civic, .cafile = tls.cert, .tls_min = CURL_SSLVERSION_TLSv1_1,
		.tls_max = CURL_SSLVERSION_MAX_TLSv1_1, .ciphers = "DEFAULT:@SECLEVEL=0"};
	struct th_resp r;
	th_https(&rq, &r);
	CHECKF(r.curl_code != 0, "TLS 1.1 got HTTP %ld", r.status);
	t_diag("TLS 1.1: %s", r.errbuf);
	th_resp_free(&r);

	rq.tls_min = CURL_SSLVERSION_TLSv1_2;
	rq.tls_max = CURL_SSLVERSION_MAX_TLSv1_2;
	rq.ciphers = NULL;
	th_https(&rq, &r);
	CHECKF(r.curl_code == 0 && r.status == 200, "TLS 1.2: %s HTTP %ld", r.errbuf, r.status);
	th_resp_free(&r);

	rq.tls_min = CURL_SSLVERSION_TLSv1_3;
	rq.tls_max = CURL_SSLVERSION_MAX_TLSv1_3;
	th_https(&rq, &r);
	CHECKF(r.curl_code == 0 && r.status == 200, "TLS 1.3: %s HTTP %ld", r.errbuf, r.status);
	th_resp_free(&r);
}

/* TLS 1.2 as offered: forward secrecy and AEAD only. A client that offers nothing else
 * than static RSA key exchange, CBC with SHA-1, or finite-field DHE is refused; ECDHE with
 * AES-GCM or ChaCha20-Poly1305 is served. */
static void test_tls_1_2_offers_only_ecdhe_with_aead(void)
{
	static const char *const refused[] = {
		"AES128-GCM-SHA256:AES256-GCM-SHA384",          /* static RSA key exchange */
		"AES128-SHA:AES256-SHA",                        /* static RSA, CBC, SHA-1 */
		"ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA",    /* CBC with SHA-1 */
		"ECDHE-RSA-AES128-SHA256",                      /* CBC */
		"DHE-RSA-AES128-GCM-SHA256",                    /* finite-field DHE */
	};
	static const char *const served[] = {
		"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-RSA-CHACHA20-POLY1305",
	};
	struct th_req rq = {.url = v4.url, .content_type = "application/held+xml",
		.body = req_civic, .cafile = tls.cert, .tls_min = CURL_SSLVERSION_TLSv1_2,
		.tls_max = CURL_SSLVERSION_MAX_TLSv1_2};
	struct th_resp r;
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		rq.ciphers = refused[i];
		th_https(&rq, &r);
		CHECKF(r.curl_code != 0, "%s got HTTP %ld", refused[i], r.status);
		th_resp_free(&r);
	}
	for (size_t i = 0; i < sizeof served / sizeof served[0]; i++) {
		rq.ciphers = served[i];
		th_https(&rq, &r);
		CHECKF(r.curl_code == 0 && r.status == 200, "%s: %s HTTP %ld", served[i], r.errbuf,
		       r.status);
		th_resp_free(&r);
	}
}

/* The answers' lines of test_one_log_line_per_request, found in the log so far. */
struct answer_lines {
	bool located, unknown;
	char located_line[600];
};

static bool answer_lines_logged(void *ctx)
{
	struct answer_lines *a = ctx;
	char *log = th_lisd_log(&v4);
	for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strstr(line, "held ") || !strstr(line, "ms="))
			continue;
		if (strstr(line, "requester=127.0.0.1 ") && strstr(line, "result=located") &&
		    strstr(line, "source=subnet") && strstr(line, "location=hq-410")) {
			a->located = true;
			snprintf(a->located_line, sizeof a->located_line, "%s", line);
		}
		if (strstr(line, "requester=127.0.0.2 ") && strstr(line, "result=locationUnknown"))
			a->unknown = true;
	}
	free(log);
	return a->located && a->unknown;
}

static void test_one_log_line_per_request(void)
{
	/* lisd writes these lines in batches, a few milliseconds after the answers */
	struct answer_lines a = {false, false, ""};
	(void)th_wait_until(30, 20, answer_lines_logged, &a, NULL);
	CHECK(a.located);
	CHECK(a.unknown);
	/* the fields in lisd(8)'s order, the time in ms with two decimals */
	const char *held = strstr(a.located_line, " held ");
	char age[16] = "", whole[16] = "", frac[8] = "";
	int used = 0;
	CHECKF(held && sscanf(held, " held requester=127.0.0.1 target=ip:127.0.0.1 "
			      "result=located source=subnet location=hq-410 snapshot_age=%15[0-9-] "
			      "ms=%15[0-9].%7[0-9] method=POST path=/held%n", age, whole, frac,
			      &used) == 3 && strlen(frac) == 2 && held[used] == '\0',
	       "%s", a.located_line);
	char *log = th_lisd_log(&v4);
	CHECKF(strstr(log, "key.pem") == NULL || strstr(log, "BEGIN") == NULL, "key material?");
	CHECKF(strstr(log, pg.dir) == NULL, "conninfo leaked into the log");
	free(log);
}

/* Issue 3: lisd answers from its in-memory snapshot, so PostgreSQL going away changes no
 * answer (it used to be generalLisError); test_snapshot_outage covers the details. */
static void test_database_down_keeps_answering_from_snapshot(void)
{
	CHECK(th_pg_stop(&pg) == 0);
	struct th_resp r;
	for (int i = 0; i < 4; i++) {
		th_held_post(&v4, &tls, req_civic, NULL, &r);
		xmlDocPtr d = check_location_response(&r);
		if (d)
			check_hq_410_civic(d);
		xmlFreeDoc(d);
		CHECKF(r.seconds < 5.0, "took %.1f s", r.seconds);
		th_resp_free(&r);
	}
	th_held_post(&v4, &tls, req_civic, "127.0.0.2", &r);
	check_held_error(&r, "locationUnknown");
	th_resp_free(&r);

	if (!CHECK(th_pg_restart(&pg) == 0))
		return;
	for (int i = 0; i < 4; i++) {
		th_held_post(&v4, &tls, req_civic, NULL, &r);
		xmlDocPtr d = check_location_response(&r);
		if (d)
			check_hq_410_civic(d);
		xmlFreeDoc(d);
		th_resp_free(&r);
	}
}

/* RFC 5985 §5: "The 'charset' parameter MUST be included with the XML document"; written as
 * in the RFC 5985 §10.1 example, for answers and HELD errors alike. */
static void test_answers_say_charset_utf_8(void)
{
	struct th_resp r;
	th_held_post(&v4, &tls, req_civic, NULL, &r);
	xmlFreeDoc(check_location_response(&r));
	CHECK_STR(r.content_type, "application/held+xml;charset=utf-8");
	th_resp_free(&r);
	th_held_post(&v4, &tls, req_civic, "127.0.0.2", &r);
	check_held_error(&r, "locationUnknown");
	CHECK_STR(r.content_type, "application/held+xml;charset=utf-8");
	th_resp_free(&r);
}

static long post_with(const char *content_type, const char *const *headers, const char *url)
{
	struct th_req rq = {.url = url ? url : v4.url, .content_type = content_type,
		.body = req_civic, .cafile = tls.cert, .headers = headers};
	struct th_resp r;
	th_https(&rq, &r);
	long status = r.curl_code == 0 ? r.status : -1;
	if (status == 200)
		xmlFreeDoc(check_location_response(&r));
	th_resp_free(&r);
	return status;
}

/* RFC 5985 §8: "LIS and Device MUST provide this value in the HTTP Content-Type and Accept
 * header fields. If the LIS does not receive the appropriate Content-Type and Accept header
 * fields, the LIS SHOULD fail the request, returning a 406 (not acceptable) response." */
static void test_post_without_held_content_type_or_accept_gives_406(void)
{
	CHECKF(post_with(NULL, NULL, NULL) == 406, "no Content-Type");
	CHECKF(post_with("application/pidf+xml", NULL, NULL) == 406, "pidf Content-Type");
	static const char *const html[] = {"Accept: text/html", NULL};
	static const char *const pidf[] = {"Accept: application/pidf+xml", NULL};
	static const char *const q0[] = {"Accept: application/held+xml;q=0, */*", NULL};
	static const char *const none[] = {"Accept: */*;q=0", NULL};
	const char *const *refused[] = {html, pidf, q0, none};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		CHECKF(post_with("application/held+xml", refused[i], NULL) == 406, "%s",
		       refused[i][0]);
	/* accepted: HELD named, by a wildcard, curl's own, or no Accept at all (lisd's choice:
	 * a caller's phone that leaves Accept out still gets its location) */
	static const char *const held[] = {"Accept: application/held+xml", NULL};
	static const char *const app[] = {"Accept: application/*;q=0.1, text/html", NULL};
	static const char *const absent[] = {"Accept:", NULL};
	static const char *const utf8[] = {"Accept: application/held+xml;charset=utf-8", NULL};
	const char *const *taken[] = {held, app, absent, utf8, NULL};
	for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
		CHECKF(post_with("application/held+xml", taken[i], NULL) == 200, "%s",
		       taken[i] ? taken[i][0] : "curl's Accept");
	char *log = th_lisd_log(&v4);
	CHECKF(strstr(log, "result=406 method=POST path=/held") &&
	       strstr(log, "Accept excludes application/held+xml") &&
	       strstr(log, "Content-Type is not application/held+xml"), "log: %s",
	       th_flat(log + (strlen(log) > 1400 ? strlen(log) - 1400 : 0)));
	free(log);
}

/* RFC 5985 §8: "In the case that the LIS receives a request from the Device containing an
 * If-* (conditional) header, the LIS SHOULD return a 412 (precondition failed) response." */
static void test_conditional_headers_give_412(void)
{
	const char *conds[] = {"If-Match: *", "If-None-Match: \"xyzzy\"",
			       "If-Modified-Since: Sat, 29 Oct 1994 19:43:31 GMT",
			       "If-Unmodified-Since: Sat, 29 Oct 1994 19:43:31 GMT",
			       "If-Range: \"xyzzy\"", "if-match: *"};
	for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
		const char *const h[] = {conds[i], NULL};
		CHECKF(post_with("application/held+xml", h, NULL) == 412, "%s", conds[i]);
	}
	char *log = th_lisd_log(&v4);
	CHECKF(strstr(log, "result=412 method=POST path=/held") &&
	       strstr(log, "reason=\"conditional header If-Unmodified-Since"), "log: %s",
	       th_flat(log + (strlen(log) > 1400 ? strlen(log) - 1400 : 0)));
	free(log);
	/* the refusals decided first keep their order: path, method, media type */
	const char *const h[] = {"If-Match: *", NULL};
	char url[200];
	snprintf(url, sizeof url, "%s/nothing-here", v4.base);
	CHECK(post_with("application/held+xml", h, url) == 404);
	CHECK(post_with("text/xml", h, NULL) == 406);
	struct th_req get = {.method = "GET", .url = v4.url, .cafile = tls.cert, .headers = h};
	struct th_resp r;
	th_https(&get, &r);
	CHECKF(r.curl_code == 0 && r.status == 405, "GET: curl %d HTTP %ld", r.curl_code,
	       r.status);
	th_resp_free(&r);
}

static void test_sigterm_stops_lisd_cleanly(void)
{
	int a = th_lisd_stop(&v4), b = th_lisd_stop(&v6);
	CHECKF(a == 0, "lisd (IPv4) exit %d", a);
	CHECKF(b == 0, "lisd (IPv6) exit %d", b);
	if (a != 0 || b != 0) {
		char *log = th_lisd_log(&v4);
		t_diag("lisd log tail: %s", th_flat(strlen(log) > 1400 ? log + strlen(log) - 1400 : log));
		free(log);
	}
}

/* ---- RFC 5985 §7 locationType values, §6.5.2 URI lifetime ---- */

/* The schema makes locationType the token "any" or a non-empty list of civic, geodetic and
 * locationURI: "civic any" and an empty element are invalid, xmlError (§6.3). */
static void test_location_type_any_in_a_list_or_empty_gives_xmlError(void)
{
	static const char *const bodies[] = {
		"<locationType>civic any</locationType>",
		"<locationType exact=\"true\">any geodetic</locationType>",
		"<locationType/>",
		"<locationType>  </locationType>",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		char req[512];
		snprintf(req, sizeof req,
			 "<locationRequest xmlns=\"" HELD_NS "\">%s</locationRequest>", bodies[i]);
		struct th_resp r;
		th_held_post(&v4, &tls, req, NULL, &r);
		check_held_error(&r, "xmlError");
		th_resp_free(&r);
	}
	/* "any" alone is fine */
	const char *any = "<locationRequest xmlns=\"" HELD_NS "\">"
			  "<locationType> any </locationType></locationRequest>";
	struct th_resp r;
	th_held_post(&v4, &tls, any, NULL, &r);
	xmlDocPtr d = check_location_response(&r);
	if (d)
		check_hq_410_civic(d);
	xmlFreeDoc(d);
	th_resp_free(&r);
}

/* RFC 5985 §6.5.2: expires "is RECOMMENDED not to exceed 24 hours": more is a configuration
 * error that says so; less than 30 minutes starts with a warning. */
static void test_uri_lifetime_over_a_day_is_refused_and_under_30_minutes_warned(void)
{
	char *dir = th_tmpdir("lifetime");
	char path[512];
	snprintf(path, sizeof path, "%s/long.conf", dir);
	th_write_file(path, "[held]\nuri_lifetime = 86401\n");
	struct th_proc p;
	char *a[] = {(char *)th_lisd_path(), "-c", path, "--check-config", NULL};
	th_run(&p, a, NULL, 10);
	CHECKF(p.status == 2, "exit %d", p.status);
	CHECKF(strstr(p.err, "uri_lifetime") && strstr(p.err, "24 hours"), "stderr: %s",
	       th_flat(p.err));
	th_proc_free(&p);

	struct th_lisd l;
	if (!CHECK(th_lisd_start(&l, "127.0.0.1", &tls, pg.conninfo, NULL,
				 "[held]\nuri_base = https://127.0.0.1:{PORT}/loc/\n"
				 "uri_lifetime = 60\n") == 0))
		return;
	char *log = th_lisd_log(&l);
	CHECKF(strstr(log, "uri_lifetime=60") && strstr(log, "6.5.2"), "log: %s", th_flat(log));
	free(log);
	CHECK(th_lisd_stop(&l) == 0);
}

/* ---- RFC 5985 §6.2 order of the forms ---- */

/* The holder (tuple or device) in position pos of the presence in d holds a geodetic shape:
 * 1, a civic address: 0, else -1. Works for a locationResponse and a bare presence alike. */
static int holder_is_geodetic(xmlDocPtr d, int pos)
{
	char x[400];
	snprintf(x, sizeof x, "//pidf:presence/*[%d]//gp:location-info/*[self::gml:Point or "
		 "self::gs:Circle or self::gs:Sphere]", pos);
	if (xp_count(d, x) == 1)
		return 1;
	snprintf(x, sizeof x, "//pidf:presence/*[%d]//gp:location-info/ca:civicAddress", pos);
	return xp_count(d, x) == 1 ? 0 : -1;
}

/* "The LIS SHOULD provide the locations in the response in the same order in which they were
 * included in the "locationType" element in the request." (§6.2); RFC 5491 §3 rule #8 makes
 * the first the one read. any (or nothing) keeps lisd's order: civic first. */
static void test_forms_come_in_the_order_of_location_type(void)
{
	static const struct {
		const char *type;       /* NULL: no locationType */
		int first_is_geodetic;
	} cases[] = {
		{"geodetic civic", 1}, {"civic geodetic", 0}, {"geodetic locationURI civic", 1},
		{"any", 0}, {NULL, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char req[512];
		if (cases[i].type)
			snprintf(req, sizeof req, "<locationRequest xmlns=\"" HELD_NS "\">"
				 "<locationType exact=\"false\">%s</locationType>"
				 "</locationRequest>", cases[i].type);
		else
			snprintf(req, sizeof req, "%s", req_any);
		struct th_resp r;
		th_held_post(&v6, &tls, req, NULL, &r);
		xmlDocPtr d = check_location_response(&r);
		if (d) {
			const char *t = cases[i].type ? cases[i].type : "(none)";
			CHECKF(xp_count(d, "//pidf:presence/*") == 2, "%s: %s", t, th_flat(r.body));
			CHECKF(holder_is_geodetic(d, 1) == cases[i].first_is_geodetic, "%s: %s", t,
			       th_flat(r.body));
			CHECKF(holder_is_geodetic(d, 2) == !cases[i].first_is_geodetic, "%s: %s", t,
			       th_flat(r.body));
		}
		xmlFreeDoc(d);
		th_resp_free(&r);
	}
}

struct issue_ctx {
	const struct th_lisd *l;
	const char *req;
	char *uri;                /* the location URI issued, malloc'd */
};

static bool issued_uri(void *ctx)
{
	struct issue_ctx *c = ctx;
	struct th_resp r;
	th_held_post(c->l, &tls, c->req, NULL, &r);
	xmlDocPtr d = r.curl_code == 0 ? xp_parse(r.body, r.body_len) : NULL;
	if (d && xp_count(d, "//held:locationURI") == 1)
		c->uri = xp_str(d, "normalize-space(//held:locationURI)");
	xmlFreeDoc(d);
	th_resp_free(&r);
	return c->uri != NULL;
}

/* RFC 6753 §3.2: a GET of a location URI answers as a request for "geodetic civic" with
 * exact="false" would: geodetic first. Checked on whatever document the GET returns. */
static void test_get_of_a_location_uri_gives_geodetic_first(void)
{
	struct th_lisd l;
	if (!CHECK(th_lisd_start(&l, "::1", &tls, pg.conninfo, NULL,
				 "[held]\nuri_base = https://[::1]:{PORT}/loc/\n") == 0))
		return;
	const char *req = "<locationRequest xmlns=\"" HELD_NS "\"><locationType exact=\"true\">"
			  "locationURI</locationType></locationRequest>";
	struct th_resp r;
	struct issue_ctx c = {.l = &l, .req = req};
	/* the new lisd answers once its snapshot is loaded */
	th_wait_until(60, 100, issued_uri, &c, NULL);
	char *uri = c.uri;
	if (CHECKF(uri != NULL, "no location URI issued")) {
		struct th_req g = {.method = "GET", .url = uri, .cafile = tls.cert};
		th_https(&g, &r);
		CHECKF(r.curl_code == 0 && r.status == 200, "GET: %s HTTP %ld", r.errbuf, r.status);
		xmlDocPtr d = r.body ? xp_parse(r.body, r.body_len) : NULL;
		if (CHECKF(d != NULL, "GET body: %s", th_flat(r.body))) {
			CHECKF(holder_is_geodetic(d, 1) == 1 && holder_is_geodetic(d, 2) == 0, "%s",
			       th_flat(r.body));
		}
		xmlFreeDoc(d);
		th_resp_free(&r);
	}
	free(uri);
	CHECK(th_lisd_stop(&l) == 0);
}

/* ---- a target lisd will not locate is refused, never swapped for the requester ---- */

/* RFC 6915 §3's request: the flow (a child of locationRequest) names the target. Answering
 * with the requester's own location, as lisd did when it ignored the element, is wrong; RFC
 * 6155 §2.2 badIdentifier covers an identifier "not supported by the LIS". */
static void test_rfc6915_flow_is_refused_with_badIdentifier(void)
{
	const char *req =
		"<locationRequest xmlns=\"" HELD_NS "\" responseTime=\"8\">"
		"<locationType exact=\"true\">civic</locationType>"
		"<flow xmlns=\"urn:ietf:params:xml:ns:geopriv:held:flow\" layer4=\"tcp\" "
		"layer3=\"ipv4\"><src><address>192.0.2.25</address><port>1024</port></src>"
		"<dst><address>198.51.100.238</address><port>80</port></dst></flow>"
		"</locationRequest>";
	struct th_resp r;
	th_held_post(&v4, &tls, req, NULL, &r);
	check_held_error(&r, "badIdentifier");
	xmlDocPtr d = xp_parse(r.body, r.body_len);
	char *m = xp_str(d, "string(/held:error/held:message)");
	CHECKF(strstr(m, "RFC 6915") != NULL, "message \"%s\"", m);
	free(m);
	CHECK(xp_count(d, "//*[contains(., 'Broadway')]") == 0);
	xmlFreeDoc(d);
	th_resp_free(&r);
	/* an RFC 6155 identifier outside its device element, likewise */
	const char *bare = "<locationRequest xmlns=\"" HELD_NS "\"><ip xmlns=\""
			   "urn:ietf:params:xml:ns:geopriv:held:id\" v=\"4\">127.0.0.1</ip>"
			   "</locationRequest>";
	th_held_post(&v4, &tls, bare, NULL, &r);
	check_held_error(&r, "badIdentifier");
	th_resp_free(&r);
}

/* The request threads run 5 nice levels below lisd's other threads (lisd(8) --threads):
 * after the requests above, some thread of lisd is at the test's nice + 5 (a request
 * thread) and some still at the test's (the wiremap loader, the main thread). */
static void test_request_threads_run_below_the_loader(void)
{
	int base = getpriority(PRIO_PROCESS, 0), n = 0;
	int lowered = th_threads_at_nice(v4.pid, base + 5, &n);
	int at_base = th_threads_at_nice(v4.pid, base, NULL);
	CHECKF(lowered >= 1 && at_base >= 1, "%d threads: %d at nice %d, %d at nice %d", n,
	       lowered, base + 5, at_base, base);
}

/* lisd sends an answer's header and body in one write (lis_conn_hold_next): the header's
 * TLS record is kept back until the body's. A client that reads slowly makes those writes
 * meet a full socket anywhere in them; every answer must still arrive whole and in order:
 * 2000 pipelined requests on one connection through a 4 KB receive window. */
static void test_answers_arrive_whole_through_a_slow_reader(void)
{
	char script[512], port[16];
	snprintf(script, sizeof script, "%s", th_src("tests/integration/held_pipeline.py"));
	snprintf(port, sizeof port, "%d", v4.port);
	char *argv[] = {"python3", script, "127.0.0.1", port, tls.cert, "2000", NULL};
	struct th_proc p;
	th_run(&p, argv, NULL, 180);
	CHECKF(p.status == 0 && strstr(p.out, "answers=2000 complete=2000\n"), "exit %d: %s%s",
	       p.status, p.out, th_flat(p.err));
	th_proc_free(&p);
}

int main(void)
{
	t_run("setup_postgresql_wiremap_tls_and_lisd", test_setup_postgresql_wiremap_tls_and_lisd);
	t_run("help_lists_options", test_help_lists_options);
	t_run("man_page_lists_every_option", test_man_page_lists_every_option);
	t_run("version_prints_version", test_version_prints_version);
	t_run("bad_config_key_exits_2_with_file_line", test_bad_config_key_exits_2_with_file_line);
	if (!up) {
		t_skip("lisd cases", "setup failed");
		return t_done();
	}
	t_run("check_config_accepts_good_config", test_check_config_accepts_good_config);
	t_run("civic_request_gives_civic_pidf_lo", test_civic_request_gives_civic_pidf_lo);
	t_run("entities_differ_in_every_answer", test_entities_differ_in_every_answer);
	t_run("content_type_with_charset_is_accepted", test_content_type_with_charset_is_accepted);
	t_run("no_location_type_gives_civic", test_no_location_type_gives_civic);
	t_run("geodetic_request_over_ipv6_gives_point", test_geodetic_request_over_ipv6_gives_point);
	t_run("civic_and_geodetic_go_in_separate_geoprivs",
	      test_civic_and_geodetic_go_in_separate_geoprivs);
	t_run("nested_subnets_longest_prefix_wins", test_nested_subnets_longest_prefix_wins);
	t_run("unmapped_source_gives_locationUnknown", test_unmapped_source_gives_locationUnknown);
	t_run("exact_geodetic_for_civic_only_gives_cannotProvideLiType",
	      test_exact_geodetic_for_civic_only_gives_cannotProvideLiType);
	t_run("exact_locationURI_gives_cannotProvideLiType",
	      test_exact_locationURI_gives_cannotProvideLiType);
	t_run("unknown_held_message_gives_unsupportedMessage",
	      test_unknown_held_message_gives_unsupportedMessage);
	t_run("malformed_xml_gives_xmlError", test_malformed_xml_gives_xmlError);
	t_run("billion_laughs_gives_xmlError_quickly", test_billion_laughs_gives_xmlError_quickly);
	t_run("third_party_device_request_is_refused", test_third_party_device_request_is_refused);
	t_run("get_gives_405_with_allow_post", test_get_gives_405_with_allow_post);
	t_run("text_xml_gives_406", test_text_xml_gives_406);
	t_run("body_over_max_body_gives_413", test_body_over_max_body_gives_413);
	t_run("header_fields_of_24_kb_answered_40_kb_refused_431",
	      test_header_fields_of_24_kb_answered_40_kb_refused_431);
	t_run("other_path_gives_404", test_other_path_gives_404);
	t_run("ambiguous_body_length_gives_400_and_closes",
	      test_ambiguous_body_length_gives_400_and_closes);
	t_run("plain_http_gets_no_http_response", test_plain_http_gets_no_http_response);
	t_run("tls_1_2_offers_only_ecdhe_with_aead", test_tls_1_2_offers_only_ecdhe_with_aead);
	t_run("tls_1_1_refused_1_2_and_1_3_accepted", test_tls_1_1_refused_1_2_and_1_3_accepted);
	t_run("one_log_line_per_request", test_one_log_line_per_request);
	t_run("location_type_any_in_a_list_or_empty_gives_xmlError",
	      test_location_type_any_in_a_list_or_empty_gives_xmlError);
	t_run("uri_lifetime_over_a_day_is_refused_and_under_30_minutes_warned",
	      test_uri_lifetime_over_a_day_is_refused_and_under_30_minutes_warned);
	t_run("forms_come_in_the_order_of_location_type",
	      test_forms_come_in_the_order_of_location_type);
	t_run("get_of_a_location_uri_gives_geodetic_first",
	      test_get_of_a_location_uri_gives_geodetic_first);
	t_run("rfc6915_flow_is_refused_with_badIdentifier",
	      test_rfc6915_flow_is_refused_with_badIdentifier);
	t_run("answers_arrive_whole_through_a_slow_reader",
	      test_answers_arrive_whole_through_a_slow_reader);
	t_run("request_threads_run_below_the_loader", test_request_threads_run_below_the_loader);
	t_run("database_down_keeps_answering_from_snapshot",
	      test_database_down_keeps_answering_from_snapshot);
	t_run("answers_say_charset_utf_8", test_answers_say_charset_utf_8);
	t_run("post_without_held_content_type_or_accept_gives_406",
	      test_post_without_held_content_type_or_accept_gives_406);
	t_run("conditional_headers_give_412", test_conditional_headers_give_412);
	t_run("sigterm_stops_lisd_cleanly", test_sigterm_stops_lisd_cleanly);
	int rc = t_done();
	th_pg_stop(&pg);
	return rc;
}
