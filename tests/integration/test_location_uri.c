/* Location by reference: RFC 5985 locationURI in a locationUriSet with expires, RFC 6753
 * dereference by GET (application/pidf+xml) and POST (HELD), the location as of the
 * dereference, expiry, forged tokens, and a key shared between lisd instances. */
#include "check.h"
#include "corr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct ck_env E;          /* E.lisd: uri_lifetime 1800, the shared key */
static struct th_lisd shortl;    /* uri_lifetime 2, the shared key */
static struct th_lisd otherkey;  /* uri_lifetime 1800, a random key of its own */
static struct th_lisd authd;     /* deref_auth = authorized */
static struct th_ca ca;
static struct th_cert psap;      /* allowed subject, signed by ca */
static char uri60[512];          /* a URI for 127.0.0.60 issued by E.lisd */

static void test_setup_wiremap_and_four_lisds(void)
{
	if (!ck_db_setup(&E))
		return;
	char key[600];
	snprintf(key, sizeof key, "%s/uri.key", E.work);
	if (!CHECK(th_write_file(key, "000102030405060708090a0b0c0d0e0f"
				 "101112131415161718191a1b1c1d1e1f\n") == 0))
		return;
	char s[2048];
	snprintf(s, sizeof s, "[held]\nuri_base = https://127.0.0.1:{PORT}/loc/\n"
		 "uri_key_file = %s\nuri_lifetime = 1800\n", key);
	if (!ck_lisd_start(&E, &E.lisd, s))
		return;
	snprintf(s, sizeof s, "[held]\nuri_base = https://127.0.0.1:{PORT}/loc/\n"
		 "uri_key_file = %s\nuri_lifetime = 2\n", key);
	if (!ck_lisd_start(&E, &shortl, s))
		return;
	if (!ck_lisd_start(&E, &otherkey, "[held]\nuri_base = https://127.0.0.1:{PORT}/loc/\n"
			   "uri_lifetime = 1800\n"))
		return;
	if (!CHECK(th_ca_make(&ca, "PSAP CA") == 0) ||
	    !CHECK(th_cert_make(&ca, "psap", "/O=County/CN=psap.example.gov", &psap) == 0))
		return;
	snprintf(s, sizeof s, "[held]\nuri_base = https://127.0.0.1:{PORT}/loc/\n"
		 "uri_lifetime = 1800\nderef_auth = authorized\n"
		 "[auth]\nclient_ca = %s\nallowed_subjects = CN=psap.example.gov,O=County\n"
		 "allowed_addresses = 127.0.0.2\n", ca.cert);
	if (!ck_lisd_start(&E, &authd, s))
		return;
	E.up = true;
}

/* ---- helpers ---- */

static bool is_base64url(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

/* Check a locationUriSet in d: expires within [now + lifetime - 60, now + lifetime + 60],
 * one locationURI under base + "/loc/" with a token of at least 128 bits. Copies the URI. */
static void check_uri_set(xmlDocPtr d, const struct th_lisd *l, long lifetime, char *uri,
			  size_t uri_size)
{
	uri[0] = '\0';
	if (!CHECK(xp_count(d, "/held:locationResponse/held:locationUriSet") == 1))
		return;
	char *exp = xp_str(d, "/held:locationResponse/held:locationUriSet/@expires");
	time_t t = th_parse_datetime(exp), now = time(NULL);
	CHECKF(t != (time_t)-1 && t >= now + lifetime - 60 && t <= now + lifetime + 60,
	       "expires \"%s\" (lifetime %ld s)", exp, lifetime);
	free(exp);
	CHECK(xp_count(d, "/held:locationResponse/held:locationUriSet/held:locationURI") == 1);
	char *u = xp_str(d, "normalize-space(/held:locationResponse/held:locationUriSet/"
			 "held:locationURI)");
	char prefix[200];
	snprintf(prefix, sizeof prefix, "%s/loc/", l->base);
	if (CHECKF(strncmp(u, prefix, strlen(prefix)) == 0, "URI \"%s\" not under %s", u, prefix)) {
		const char *tok = u + strlen(prefix);
		/* 128 bits at least: 22 base64url characters */
		CHECKF(strlen(tok) >= 22 && is_base64url(tok), "token \"%s\"", tok);
		snprintf(uri, uri_size, "%s", u);
	}
	free(u);
}

/* Ask l for a URI for requester `from`; the URI or "" in uri. */
static void get_uri(const struct th_lisd *l, const char *from, long lifetime, char *uri,
		    size_t size)
{
	struct th_resp r;
	th_held_post(l, &E.tls, ck_req("locationURI", true), from, &r);
	xmlDocPtr d = xp_parse(r.body, r.body_len);
	uri[0] = '\0';
	if (CHECKF(r.curl_code == 0 && r.status == 200 && d &&
		   xp_count(d, "/held:locationResponse") == 1, "curl %d HTTP %ld: %s", r.curl_code,
		   r.status, th_flat(r.body)))
		check_uri_set(d, l, lifetime, uri, size);
	xmlFreeDoc(d);
	th_resp_free(&r);
}

static void deref_get(const char *url, struct th_resp *r)
{
	struct th_req rq = {.method = "GET", .url = url, .cafile = E.tls.cert};
	th_https(&rq, r);
}

static void deref_post(const char *url, const char *body, struct th_resp *r)
{
	struct th_req rq = {.method = "POST", .url = url, .content_type = "application/held+xml",
		.body = body, .cafile = E.tls.cert};
	th_https(&rq, r);
}

/* GET url: 200 application/pidf+xml holding loc_key. */
static void expect_get_location(const char *url, const char *loc_key, const char *method,
				const char *mac12)
{
	struct th_resp r;
	deref_get(url, &r);
	if (CHECKF(r.curl_code == 0, "curl: %s", r.errbuf)) {
		CHECKF(r.status == 200, "HTTP %ld: %s", r.status, th_flat(r.body));
		CHECKF(strncmp(r.content_type, "application/pidf+xml", 20) == 0, "Content-Type %s",
		       r.content_type);
		xmlDocPtr d = xp_parse(r.body, r.body_len);
		if (CHECKF(d && xp_count(d, "/pidf:presence") == 1, "not a PIDF: %s",
			   th_flat(r.body)))
			ck_pidf(d, "/pidf:presence", loc_key, method, mac12, false);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
}

static void expect_get_404(const char *url, const char *what)
{
	struct th_resp r;
	deref_get(url, &r);
	CHECKF(r.curl_code == 0 && r.status == 404, "%s: curl %d HTTP %ld", what, r.curl_code,
	       r.status);
	xmlDocPtr d = xp_parse(r.body, r.body_len);
	CHECKF(xp_count(d, "//ca:* | //pidf:*") <= 0, "%s: location in a 404", what);
	xmlFreeDoc(d);
	th_resp_free(&r);
}

static void expect_post_notLocatable(const char *url, const char *what)
{
	struct th_resp r;
	deref_post(url, ck_req("civic", false), &r);
	if (r.curl_code != 0 || r.status != 200)
		t_diag("%s", what);
	ck_held_error(&r, "notLocatable");
	th_resp_free(&r);
}

/* ---- cases ---- */

static void test_locationURI_request_gives_uri_set_with_expires_only(void)
{
	get_uri(&E.lisd, "127.0.0.60", 1800, uri60, sizeof uri60);
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, ck_req("locationURI", true), "127.0.0.60", &r);
	xmlDocPtr d = xp_parse(r.body, r.body_len);
	/* only locationURI asked: just the set */
	CHECK(xp_count(d, "/held:locationResponse/pidf:presence") == 0);
	CHECK(xp_count(d, "/held:locationResponse/*") == 1);
	xmlFreeDoc(d);
	th_resp_free(&r);
}

static void test_any_gives_uri_set_and_pidf_lo(void)
{
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, ck_req("any", false), "127.0.0.10", &r);
	xmlDocPtr d = ck_held_located(&r);
	if (d) {
		char uri[512];
		check_uri_set(d, &E.lisd, 1800, uri, sizeof uri);
		ck_pidf(d, "/held:locationResponse/pidf:presence", "hq-410", "Wiremap",
			NULL, false);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
}

static void test_two_requests_get_different_uris(void)
{
	char a[512], b[512];
	get_uri(&E.lisd, "127.0.0.10", 1800, a, sizeof a);
	get_uri(&E.lisd, "127.0.0.10", 1800, b, sizeof b);
	CHECKF(a[0] && strcmp(a, b) != 0, "same URI twice: %s", a);
}

static void test_get_dereference_gives_pidf_xml_location(void)
{
	if (!CHECK(uri60[0]))
		return;
	expect_get_location(uri60, "hq-410", "Wiremap", NULL);
}

struct which_ctx {
	const char *from, *want;
};

static bool answers(void *ctx)
{
	struct which_ctx *c = ctx;
	char *w = ck_which(&E, &E.lisd, ck_req("civic", false), c->from);
	bool ok = strcmp(w, c->want) == 0;
	free(w);
	return ok;
}

static void test_get_dereference_follows_a_binding_change(void)
{
	if (!CHECK(uri60[0]))
		return;
	/* 127.0.0.60's MAC moves to Gi1/0/9 (hq-420) after the URI was issued */
	if (!ck_import(&E, "--mac-ports", "mac,switch,port,last_seen\n"
		       "00:50:b6:00:00:60,sw1,Gi1/0/9,now\n"))
		return;
	struct which_ctx c = {"127.0.0.60", "hq-420"};
	CHECKF(th_wait_until(60, 50, answers, &c, NULL), "lisd never saw the move");
	expect_get_location(uri60, "hq-420", "Wiremap", NULL);
}

static void test_post_dereference_gives_location_response(void)
{
	if (!CHECK(uri60[0]))
		return;
	struct th_resp r;
	deref_post(uri60, ck_req("civic", true), &r);
	xmlDocPtr d = ck_held_located(&r);
	if (d) {
		ck_pidf(d, "/held:locationResponse/pidf:presence", "hq-420", "Wiremap",
			NULL, false);
		CHECK(xp_count(d, "/held:locationResponse/held:locationUriSet") == 0);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
	/* no locationType: by value, never a URI again */
	deref_post(uri60, ck_req(NULL, false), &r);
	d = ck_held_located(&r);
	if (d) {
		CHECK(xp_count(d, "/held:locationResponse/held:locationUriSet") == 0);
		xmlFreeDoc(d);
	}
	th_resp_free(&r);
	/* RFC 6753: a dereference may not ask for a URI */
	deref_post(uri60, ck_req("locationURI", true), &r);
	ck_held_error(&r, "cannotProvideLiType");
	th_resp_free(&r);
}

static void test_expired_uri_gives_404_and_notLocatable(void)
{
	char uri[512];
	get_uri(&shortl, "127.0.0.10", 2, uri, sizeof uri);
	if (!CHECK(uri[0]))
		return;
	/* still valid at once */
	expect_get_location(uri, "hq-410", "Wiremap", NULL);
	th_sleep_ms(3500);
	expect_get_404(uri, "expired URI");
	expect_post_notLocatable(uri, "expired URI");
}

static void test_forged_or_garbled_token_gives_404_and_notLocatable(void)
{
	if (!CHECK(uri60[0]))
		return;
	char forged[600];
	/* one character of the token changed (the middle: ciphertext or tag) */
	snprintf(forged, sizeof forged, "%s", uri60);
	size_t n = strlen(forged), base = strlen(E.lisd.base) + strlen("/loc/");
	size_t mid = base + (n - base) / 2;
	forged[mid] = forged[mid] == 'A' ? 'B' : 'A';
	expect_get_404(forged, "one character changed");
	expect_post_notLocatable(forged, "one character changed");
	/* truncated */
	snprintf(forged, sizeof forged, "%.*s", (int)(n - 4), uri60);
	expect_get_404(forged, "truncated");
	expect_post_notLocatable(forged, "truncated");
	/* garbage, not base64url at all, and empty */
	snprintf(forged, sizeof forged, "%s/loc/not*a*token!~", E.lisd.base);
	expect_get_404(forged, "garbage");
	expect_post_notLocatable(forged, "garbage");
	snprintf(forged, sizeof forged, "%s/loc/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		 E.lisd.base);
	expect_get_404(forged, "well-formed random token");
	expect_post_notLocatable(forged, "well-formed random token");
}

static void test_uri_of_an_instance_with_another_key_gives_404(void)
{
	char uri[512];
	get_uri(&otherkey, "127.0.0.10", 1800, uri, sizeof uri);
	if (!CHECK(uri[0]))
		return;
	/* valid where it was issued */
	expect_get_location(uri, "hq-410", "Wiremap", NULL);
	/* the same token presented to E.lisd, which has another key */
	char moved[700];
	snprintf(moved, sizeof moved, "%s/loc/%s", E.lisd.base,
		 uri + strlen(otherkey.base) + strlen("/loc/"));
	expect_get_404(moved, "token of another key");
}

static void test_uri_of_an_instance_with_the_shared_key_dereferences(void)
{
	char uri[512];
	get_uri(&shortl, "127.0.0.11", 2, uri, sizeof uri);
	if (!CHECK(uri[0]))
		return;
	char moved[700];
	snprintf(moved, sizeof moved, "%s/loc/%s", E.lisd.base,
		 uri + strlen(shortl.base) + strlen("/loc/"));
	expect_get_location(moved, "hq-floor4", "Wiremap", NULL);
}

static void test_deref_auth_authorized_needs_an_authorized_dereferencer(void)
{
	char uri[512];
	get_uri(&authd, "127.0.0.10", 1800, uri, sizeof uri);
	if (!CHECK(uri[0]))
		return;
	/* possession alone is not enough: 403 for GET, badIdentifier for POST */
	struct th_resp r;
	deref_get(uri, &r);
	CHECKF(r.curl_code == 0 && r.status == 403, "GET without authorization: curl %d HTTP %ld",
	       r.curl_code, r.status);
	xmlDocPtr d = xp_parse(r.body, r.body_len);
	CHECK(xp_count(d, "//ca:* | //pidf:*") <= 0);
	xmlFreeDoc(d);
	th_resp_free(&r);
	deref_post(uri, ck_req("civic", false), &r);
	ck_held_error(&r, "badIdentifier");
	th_resp_free(&r);
	/* a PSAP with an allowed certificate */
	struct th_req rq = {.method = "GET", .url = uri, .cafile = E.tls.cert,
		.client_cert = psap.cert, .client_key = psap.key};
	th_https(&rq, &r);
	CHECKF(r.curl_code == 0 && r.status == 200, "GET with certificate: curl %d (%s) HTTP %ld",
	       r.curl_code, r.errbuf, r.status);
	d = xp_parse(r.body, r.body_len);
	if (CHECKF(d && xp_count(d, "/pidf:presence") == 1, "not a PIDF: %s", th_flat(r.body)))
		ck_pidf(d, "/pidf:presence", "hq-410", "Wiremap", NULL, false);
	xmlFreeDoc(d);
	th_resp_free(&r);
	/* an allowed address */
	struct th_req rq2 = {.method = "POST", .url = uri, .cafile = E.tls.cert,
		.content_type = "application/held+xml", .body = ck_req("civic", false),
		.local_addr = "127.0.0.2"};
	th_https(&rq2, &r);
	d = ck_held_located(&r);
	if (d)
		ck_pidf(d, "/held:locationResponse/pidf:presence", "hq-410", "Wiremap",
			NULL, false);
	xmlFreeDoc(d);
	th_resp_free(&r);
}

static void test_sigterm_stops_every_lisd_cleanly(void)
{
	int a = th_lisd_stop(&E.lisd), b = th_lisd_stop(&shortl), c = th_lisd_stop(&otherkey);
	int d = th_lisd_stop(&authd);
	CHECKF(a == 0 && b == 0 && c == 0 && d == 0, "exit %d %d %d %d", a, b, c, d);
	if (a != 0)
		ck_log_tail(&E.lisd, 1500);
	/* no token reaches a log */
	char *log = th_lisd_log(&E.lisd);
	const char *tok = uri60[0] ? uri60 + strlen(E.lisd.base) + strlen("/loc/") : NULL;
	CHECKF(!tok || !strstr(log, tok), "a location URI token is in the log");
	free(log);
}

int main(void)
{
	t_run("setup_wiremap_and_four_lisds", test_setup_wiremap_and_four_lisds);
	if (!E.up) {
		t_skip("location URI cases", "setup failed");
		return t_done();
	}
	t_run("locationURI_request_gives_uri_set_with_expires_only",
	      test_locationURI_request_gives_uri_set_with_expires_only);
	t_run("any_gives_uri_set_and_pidf_lo", test_any_gives_uri_set_and_pidf_lo);
	t_run("two_requests_get_different_uris", test_two_requests_get_different_uris);
	t_run("get_dereference_gives_pidf_xml_location", test_get_dereference_gives_pidf_xml_location);
	t_run("get_dereference_follows_a_binding_change",
	      test_get_dereference_follows_a_binding_change);
	t_run("post_dereference_gives_location_response",
	      test_post_dereference_gives_location_response);
	t_run("expired_uri_gives_404_and_notLocatable", test_expired_uri_gives_404_and_notLocatable);
	t_run("forged_or_garbled_token_gives_404_and_notLocatable",
	      test_forged_or_garbled_token_gives_404_and_notLocatable);
	t_run("uri_of_an_instance_with_another_key_gives_404",
	      test_uri_of_an_instance_with_another_key_gives_404);
	t_run("uri_of_an_instance_with_the_shared_key_dereferences",
	      test_uri_of_an_instance_with_the_shared_key_dereferences);
	t_run("deref_auth_authorized_needs_an_authorized_dereferencer",
	      test_deref_auth_authorized_needs_an_authorized_dereferencer);
	t_run("sigterm_stops_every_lisd_cleanly", test_sigterm_stops_every_lisd_cleanly);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
