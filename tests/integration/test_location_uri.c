/* Location by reference: RFC 5985 locationURI in a locationUriSet with expires, RFC 6753
 * dereference by GET (a HELD answer, or application/pidf+xml by Accept) and POST (HELD), the
 * location as of the dereference, expiry, forged tokens, and a key shared between lisd
 * instances. */
#include "check.h"
#include "corr.h"

#include <curl/curl.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
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
				 "101112131415161718191a1b1c1d1e1f\n") == 0) ||
	    !CHECK(chmod(key, 0600) == 0))   /* lisd refuses a key others can read */
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

/* Accept header lines for GET (NULL-terminated lists for th_req.headers). */
static const char *const ACCEPT_PIDF[] = {"Accept: application/pidf+xml", NULL};
static const char *const ACCEPT_NONE[] = {"Accept:", NULL};     /* curl then sends none */

/* GET url with these header lines (NULL: curl's own Accept, which takes anything). */
static void deref_get_with(const char *url, const char *const *headers, struct th_resp *r)
{
	struct th_req rq = {.method = "GET", .url = url, .cafile = E.tls.cert, .headers = headers};
	th_https(&rq, r);
}

/* GET url asking for the bare presence only. */
static void deref_get(const char *url, struct th_resp *r)
{
	deref_get_with(url, ACCEPT_PIDF, r);
}

static void deref_post(const char *url, const char *body, struct th_resp *r)
{
	struct th_req rq = {.method = "POST", .url = url, .content_type = "application/held+xml",
		.body = body, .cafile = E.tls.cert};
	th_https(&rq, r);
}

/* GET url for the presence: 200 application/pidf+xml holding loc_key. */
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

/* GET url for the presence only: 404, no location. */
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

/* A dereference of a bad URI, by POST and by GET in HELD form: HELD locationUnknown, never
 * notLocatable, which would tell the recipient to stop asking this LIS at all (RFC 5985
 * §6.3). */
static void expect_locationUnknown(const char *url, const char *what)
{
	struct th_resp r;
	deref_post(url, ck_req("civic", false), &r);
	if (r.curl_code != 0 || r.status != 200)
		t_diag("%s", what);
	ck_held_error(&r, "locationUnknown");
	th_resp_free(&r);
	deref_get_with(url, NULL, &r);
	if (r.curl_code != 0 || r.status != 200)
		t_diag("GET %s", what);
	ck_held_error(&r, "locationUnknown");
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

static bool get_gives_404(void *url)
{
	struct th_resp r;
	deref_get(url, &r);
	bool gone = r.curl_code == 0 && r.status == 404;
	th_resp_free(&r);
	return gone;
}

static void test_expired_uri_gives_404_and_locationUnknown(void)
{
	char uri[512];
	get_uri(&shortl, "127.0.0.10", 2, uri, sizeof uri);
	if (!CHECK(uri[0]))
		return;
	/* still valid at once */
	expect_get_location(uri, "hq-410", "Wiremap", NULL);
	/* wait for the expiry (2 s) rather than sleep a guess */
	CHECKF(th_wait_until(60, 250, get_gives_404, uri, NULL), "still valid after 60 s");
	expect_get_404(uri, "expired URI");
	expect_locationUnknown(uri, "expired URI");
	/* the log says why it is not notLocatable */
	CHECK(ck_log_has(&shortl, "result=locationUnknown",
			 "location URI unknown, forged or expired",
			 "notLocatable would bar the recipient from this LIS", NULL));
}

static void test_forged_or_garbled_token_gives_404_and_locationUnknown(void)
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
	expect_locationUnknown(forged, "one character changed");
	/* truncated */
	snprintf(forged, sizeof forged, "%.*s", (int)(n - 4), uri60);
	expect_get_404(forged, "truncated");
	expect_locationUnknown(forged, "truncated");
	/* garbage, not base64url at all, and empty */
	snprintf(forged, sizeof forged, "%s/loc/not*a*token!~", E.lisd.base);
	expect_get_404(forged, "garbage");
	expect_locationUnknown(forged, "garbage");
	snprintf(forged, sizeof forged, "%s/loc/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		 E.lisd.base);
	expect_get_404(forged, "well-formed random token");
	expect_locationUnknown(forged, "well-formed random token");
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
	/* possession alone is not enough: badIdentifier for POST and a GET in HELD form, 403
	 * for a GET of the presence only */
	struct th_resp r;
	deref_get(uri, &r);
	CHECKF(r.curl_code == 0 && r.status == 403, "GET without authorization: curl %d HTTP %ld",
	       r.curl_code, r.status);
	xmlDocPtr d = xp_parse(r.body, r.body_len);
	CHECK(xp_count(d, "//ca:* | //pidf:*") <= 0);
	xmlFreeDoc(d);
	th_resp_free(&r);
	deref_get_with(uri, NULL, &r);
	ck_held_error(&r, "badIdentifier");
	th_resp_free(&r);
	deref_post(uri, ck_req("civic", false), &r);
	ck_held_error(&r, "badIdentifier");
	th_resp_free(&r);
	/* a PSAP with an allowed certificate */
	struct th_req rq = {.method = "GET", .url = uri, .cafile = E.tls.cert,
		.client_cert = psap.cert, .client_key = psap.key, .headers = ACCEPT_PIDF};
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

/* RFC 5985 §5: the charset parameter MUST be included; the same for the bare presence. */
static void test_dereference_answers_say_charset_utf_8(void)
{
	if (!CHECK(uri60[0]))
		return;
	static const char *const pidf[] = {"Accept: application/pidf+xml", NULL};
	struct th_req rq = {.method = "GET", .url = uri60, .cafile = E.tls.cert, .headers = pidf};
	struct th_resp r;
	th_https(&rq, &r);
	CHECKF(r.curl_code == 0 && r.status == 200, "GET: curl %d HTTP %ld", r.curl_code, r.status);
	CHECK_STR(r.content_type, "application/pidf+xml;charset=utf-8");
	th_resp_free(&r);
	deref_post(uri60, ck_req("civic", false), &r);
	xmlFreeDoc(ck_held_located(&r));
	CHECK_STR(r.content_type, "application/held+xml;charset=utf-8");
	th_resp_free(&r);
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr; (void)ud;
	return size * nmemb;
}

/* Two requests of method on one curl handle: both get want_status, and the second goes on
 * the first one's connection (CURLINFO_NUM_CONNECTS counts the connections it opened). */
static void two_on_one_connection(const char *method, const char *url, const char *accept,
				  long want_status)
{
	CURL *h = curl_easy_init();
	if (!CHECK(h != NULL))
		return;
	struct curl_slist *hd = curl_slist_append(NULL, accept);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_CAINFO, E.tls.cert);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	for (int i = 0; i < 2; i++) {
		long status = 0, opened = -1;
		CURLcode rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &opened);
		CHECKF(rc == CURLE_OK && status == want_status, "%s %d: curl %d HTTP %ld", method,
		       i + 1, (int)rc, status);
		if (i == 1)
			CHECKF(opened == 0, "the second %s opened %ld connection(s)", method,
			       opened);
	}
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
}

/* RFC 5985 §8: "The LIS SHOULD support persistent connections and request pipelining." A GET
 * of a location URI, and a refusal of a request without a body, keep the connection. */
static void test_get_dereference_keeps_the_connection(void)
{
	if (!CHECK(uri60[0]))
		return;
	two_on_one_connection("GET", uri60, "Accept: application/pidf+xml", 200);
	two_on_one_connection("GET", E.lisd.url, "Accept: */*", 405);
}

/* A GET answered in HELD form: a locationResponse by value (RFC 6753 §3.1: no URI set),
 * application/held+xml;charset=utf-8, varying on Accept. */
static void expect_held_get(const char *url, const char *const *headers, const char *loc_key,
			    const char *mac12)
{
	struct th_resp r;
	deref_get_with(url, headers, &r);
	const char *what = headers ? headers[0] : "curl's Accept";
	xmlDocPtr d = ck_held_located(&r);
	if (CHECKF(d != NULL, "GET with %s", what)) {
		ck_pidf(d, "/held:locationResponse/pidf:presence", loc_key, "Wiremap", mac12,
			false);
		CHECK(xp_count(d, "/held:locationResponse/held:locationUriSet") == 0);
	}
	xmlFreeDoc(d);
	CHECKF(strcmp(r.content_type, "application/held+xml;charset=utf-8") == 0,
	       "GET with %s: Content-Type %s", what, r.content_type);
	CHECKF(strstr(r.headers, "\r\nVary: Accept\r\n") != NULL, "GET with %s: headers %s",
	       what, th_flat(r.headers));
	th_resp_free(&r);
}

/* RFC 6753 §3.2: "a LIS MUST provide a HELD location response if it receives an HTTP GET
 * request", as if Figure 1 (geodetic civic, exact="false") had been POSTed: without Accept,
 * with curl's, asking for HELD (§5 Figure 6), or weighing HELD and the presence alike. */
static void test_get_gives_a_held_location_response(void)
{
	if (!CHECK(uri60[0]))
		return;
	static const char *const held[] = {"Accept: application/held+xml", NULL};
	static const char *const tie[] = {
		"Accept: application/pidf+xml;q=0.5, application/held+xml;q=0.5", NULL};
	static const char *const wild[] = {"Accept: application/*", NULL};
	expect_held_get(uri60, ACCEPT_NONE, "hq-420", NULL);
	expect_held_get(uri60, NULL, "hq-420", NULL);
	expect_held_get(uri60, held, "hq-420", NULL);
	expect_held_get(uri60, tie, "hq-420", NULL);
	expect_held_get(uri60, wild, "hq-420", NULL);
	CHECK(ck_log_has(&E.lisd, "method=GET", "result=located", "form=held", NULL));
}

/* The presence "by including an "Accept" header that includes "application/pidf+xml""
 * (RFC 6753 §3.2) that weighs it above HELD: §5 Figure 7, or the presence alone. */
static void test_get_gives_the_presence_when_accept_prefers_it(void)
{
	if (!CHECK(uri60[0]))
		return;
	static const char *const fig7[] = {
		"Accept: application/pidf+xml,application/held+xml;q=0.5", NULL};
	static const char *const noheld[] = {"Accept: application/held+xml;q=0, */*", NULL};
	const char *const *accepts[] = {fig7, ACCEPT_PIDF, noheld};
	for (size_t i = 0; i < sizeof accepts / sizeof accepts[0]; i++) {
		struct th_resp r;
		deref_get_with(uri60, accepts[i], &r);
		CHECKF(r.curl_code == 0 && r.status == 200, "%s: curl %d HTTP %ld", accepts[i][0],
		       r.curl_code, r.status);
		CHECKF(strcmp(r.content_type, "application/pidf+xml;charset=utf-8") == 0,
		       "%s: Content-Type %s", accepts[i][0], r.content_type);
		xmlDocPtr d = xp_parse(r.body, r.body_len);
		if (CHECKF(d && xp_count(d, "/pidf:presence") == 1, "%s: %s", accepts[i][0],
			   th_flat(r.body)))
			ck_pidf(d, "/pidf:presence", "hq-420", "Wiremap", NULL, false);
		xmlFreeDoc(d);
		CHECK(strstr(r.headers, "\r\nVary: Accept\r\n") != NULL);
		th_resp_free(&r);
	}
	CHECK(ck_log_has(&E.lisd, "method=GET", "result=located", "form=pidf", NULL));
}

/* Neither form acceptable: 406 (RFC 9110 §15.5.7), decided from the headers, nothing
 * located; the text says what a location URI offers. */
static void test_get_with_neither_form_acceptable_gives_406(void)
{
	if (!CHECK(uri60[0]))
		return;
	static const char *const html[] = {"Accept: text/html", NULL};
	static const char *const none[] = {"Accept: */*;q=0", NULL};
	static const char *const zero[] = {
		"Accept: application/held+xml;q=0, application/pidf+xml;q=0, text/*", NULL};
	const char *const *accepts[] = {html, none, zero};
	for (size_t i = 0; i < sizeof accepts / sizeof accepts[0]; i++) {
		struct th_resp r;
		deref_get_with(uri60, accepts[i], &r);
		CHECKF(r.curl_code == 0 && r.status == 406, "%s: curl %d HTTP %ld", accepts[i][0],
		       r.curl_code, r.status);
		CHECK(strncmp(r.content_type, "text/plain", 10) == 0);
		CHECKF(strstr(r.body, "application/held+xml") &&
		       strstr(r.body, "application/pidf+xml"), "body: %s", th_flat(r.body));
		th_resp_free(&r);
	}
	CHECK(ck_log_has(&E.lisd, "result=406", "method=GET", "path=/loc/*", NULL));
}

/* A failed GET is a HELD error in a 200 whenever HELD is acceptable (RFC 5985 §6.3), the
 * presence preferred or not; only a client that takes the presence alone gets the HTTP
 * status. */
static void test_get_failures_follow_the_form(void)
{
	char forged[600];
	snprintf(forged, sizeof forged, "%s/loc/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		 E.lisd.base);
	static const char *const fig7[] = {
		"Accept: application/pidf+xml,application/held+xml;q=0.5", NULL};
	static const char *const noheld[] = {"Accept: application/held+xml;q=0, */*", NULL};
	struct th_resp r;
	deref_get_with(forged, NULL, &r);
	ck_held_error(&r, "locationUnknown");
	th_resp_free(&r);
	deref_get_with(forged, fig7, &r);
	ck_held_error(&r, "locationUnknown");
	th_resp_free(&r);
	expect_get_404(forged, "presence only");
	deref_get_with(forged, noheld, &r);
	CHECKF(r.curl_code == 0 && r.status == 404, "HELD q=0: curl %d HTTP %ld", r.curl_code,
	       r.status);
	th_resp_free(&r);
}

/* The value of header name in the header lines hs, "" when absent (static buffer). */
static const char *header_value(const char *hs, const char *name)
{
	static char v[256];
	size_t n = strlen(name);
	v[0] = '\0';
	for (const char *l = hs; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *b = l + n + 1;
			b += strspn(b, " \t");
			size_t len = strcspn(b, "\r\n");
			snprintf(v, sizeof v, "%.*s", (int)len, b);
			break;
		}
	}
	return v;
}

/* HEAD and GET of url with these header lines: the same status and the same headers
 * (RFC 9110 §9.3.2), HEAD without a body. */
static void expect_head_as_get(const char *url, const char *const *headers, long status)
{
	struct th_req get = {.method = "GET", .url = url, .cafile = E.tls.cert,
		.headers = headers};
	struct th_req head = get;
	head.method = "HEAD";
	struct th_resp g, h;
	th_https(&get, &g);
	th_https(&head, &h);
	const char *what = headers ? headers[0] : "curl's Accept";
	CHECKF(g.curl_code == 0 && h.curl_code == 0 && g.status == status && h.status == status,
	       "%s: GET curl %d HTTP %ld, HEAD curl %d (%s) HTTP %ld", what, g.curl_code,
	       g.status, h.curl_code, h.errbuf, h.status);
	CHECKF(h.body_len == 0, "%s: HEAD body %s", what, th_flat(h.body));
	const char *names[] = {"Content-Type", "Content-Length", "Cache-Control", "Vary"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char gv[256];
		snprintf(gv, sizeof gv, "%s", header_value(g.headers, names[i]));
		CHECKF(strcmp(gv, header_value(h.headers, names[i])) == 0,
		       "%s: %s: GET \"%s\", HEAD \"%s\"", what, names[i], gv,
		       header_value(h.headers, names[i]));
	}
	CHECKF(strtol(header_value(h.headers, "Content-Length"), NULL, 10) > 0,
	       "%s: HEAD headers %s", what, th_flat(h.headers));
	th_resp_free(&g);
	th_resp_free(&h);
}

/* HEAD is GET without the body (RFC 9110 §9.3.2), in each form and for each outcome. */
static void test_head_is_answered_as_get(void)
{
	if (!CHECK(uri60[0]))
		return;
	char forged[600];
	snprintf(forged, sizeof forged, "%s/loc/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		 E.lisd.base);
	static const char *const html[] = {"Accept: text/html", NULL};
	expect_head_as_get(uri60, NULL, 200);
	expect_head_as_get(uri60, ACCEPT_PIDF, 200);
	expect_head_as_get(forged, NULL, 200);
	expect_head_as_get(forged, ACCEPT_PIDF, 404);
	expect_head_as_get(uri60, html, 406);
	CHECK(ck_log_has(&E.lisd, "method=HEAD", "result=located", "form=held", NULL));
	CHECK(ck_log_has(&E.lisd, "method=HEAD", "result=located", "form=pidf", NULL));
	/* other methods: 405 naming HEAD too */
	struct th_req del = {.method = "DELETE", .url = uri60, .cafile = E.tls.cert};
	struct th_resp r;
	th_https(&del, &r);
	CHECKF(r.curl_code == 0 && r.status == 405, "DELETE: curl %d HTTP %ld", r.curl_code,
	       r.status);
	CHECK_STR(r.allow, "GET, HEAD, POST");
	th_resp_free(&r);
}

/* RFC 5985 §8 on a location URI: If-* gets 412, by GET and POST; a POST dereference answers
 * in HELD only, so an Accept without application/held+xml gets 406 (RFC 5985 §8; the
 * presence is a GET's alternative, RFC 6753 §3.2). */
static void test_dereference_refuses_conditions_and_post_without_held(void)
{
	if (!CHECK(uri60[0]))
		return;
	static const char *const cond[] = {"If-None-Match: *", NULL};
	struct th_resp r;
	deref_get_with(uri60, cond, &r);
	CHECKF(r.curl_code == 0 && r.status == 412, "GET If-None-Match: curl %d HTTP %ld",
	       r.curl_code, r.status);
	th_resp_free(&r);
	struct th_req p = {.method = "POST", .url = uri60, .cafile = E.tls.cert,
		.content_type = "application/held+xml", .body = ck_req("civic", false),
		.headers = cond};
	th_https(&p, &r);
	CHECKF(r.curl_code == 0 && r.status == 412, "POST If-None-Match: curl %d HTTP %ld",
	       r.curl_code, r.status);
	th_resp_free(&r);
	p.headers = ACCEPT_PIDF;
	th_https(&p, &r);
	CHECKF(r.curl_code == 0 && r.status == 406, "POST Accept pidf: curl %d HTTP %ld",
	       r.curl_code, r.status);
	th_resp_free(&r);
	CHECK(ck_log_has(&E.lisd, "result=412", "method=GET", "path=/loc/*",
			 "conditional header If-None-Match", NULL));
}

/* RFC 6753 §6: "the LS MUST NOT provide any information about the Target except its
 * location": a failed dereference names no identifier of the target. uri60's target,
 * 127.0.0.60 (MAC 00:50:b6:00:00:60), has no geodetic location. */
static void test_dereference_errors_name_no_target(void)
{
	if (!CHECK(uri60[0]))
		return;
	struct th_resp r;
	deref_post(uri60, ck_req("geodetic", true), &r);
	ck_held_error(&r, "cannotProvideLiType");
	CHECKF(!strstr(r.body, "127.0.0.60") && !strstr(r.body, "0050b6000060") &&
	       !strstr(r.body, "00:50:b6:00:00:60"), "body: %s", th_flat(r.body));
	th_resp_free(&r);
	/* the log keeps the detail for the operator */
	CHECK(ck_log_has(&E.lisd, "result=cannotProvideLiType", "ip:127.0.0.60",
			 "no geodetic location is recorded", NULL));
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
	t_run("expired_uri_gives_404_and_locationUnknown",
	      test_expired_uri_gives_404_and_locationUnknown);
	t_run("forged_or_garbled_token_gives_404_and_locationUnknown",
	      test_forged_or_garbled_token_gives_404_and_locationUnknown);
	t_run("uri_of_an_instance_with_another_key_gives_404",
	      test_uri_of_an_instance_with_another_key_gives_404);
	t_run("uri_of_an_instance_with_the_shared_key_dereferences",
	      test_uri_of_an_instance_with_the_shared_key_dereferences);
	t_run("deref_auth_authorized_needs_an_authorized_dereferencer",
	      test_deref_auth_authorized_needs_an_authorized_dereferencer);
	t_run("dereference_answers_say_charset_utf_8", test_dereference_answers_say_charset_utf_8);
	t_run("get_dereference_keeps_the_connection", test_get_dereference_keeps_the_connection);
	t_run("get_gives_a_held_location_response", test_get_gives_a_held_location_response);
	t_run("get_gives_the_presence_when_accept_prefers_it",
	      test_get_gives_the_presence_when_accept_prefers_it);
	t_run("get_with_neither_form_acceptable_gives_406",
	      test_get_with_neither_form_acceptable_gives_406);
	t_run("get_failures_follow_the_form", test_get_failures_follow_the_form);
	t_run("head_is_answered_as_get", test_head_is_answered_as_get);
	t_run("dereference_refuses_conditions_and_post_without_held",
	      test_dereference_refuses_conditions_and_post_without_held);
	t_run("dereference_errors_name_no_target", test_dereference_errors_name_no_target);
	t_run("sigterm_stops_every_lisd_cleanly", test_sigterm_stops_every_lisd_cleanly);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
