/* The self-service listener (lisd(8) SELF-SERVICE) end to end: a real slapd on loopback
 * (ldaps, the test certificate) holding users alice, bob and carol; a real PostgreSQL with
 * the correlation wiremap, a VPN pool and the users' softphones; a real lisd with
 * [selfservice] and [ldap]; libcurl as the browser and the softphone; the real lisctl for
 * tokens. Sign-in (good and bad password, rate limit, directory down while HELD answers
 * on), the session cookie, CSRF, user A against user B on every route of the API, tokens
 * issued, used and revoked, a deactivated user, and a declaration through the API that a
 * HELD request for the user's softphone then answers with method Manual. */
#include "check.h"
#include "corr.h"
#include "lis_ldap.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ck_env E;
static char ldap_dir[256];
static int ldap_port, web_port;
static pid_t slapd_pid;
static char web_base[96];

#define SUFFIX "dc=example,dc=com"
#define PIDF "/held:locationResponse/pidf:presence/pidf:tuple/pidf:status/gp:geopriv"

/* Each test signs in from an address of its own, so that the per-address rate limit of one
 * test never refuses another's. */
#define FROM_ALICE "127.0.0.1"
#define FROM_BOB "127.0.0.4"
#define FROM_BAD "127.0.0.5"
#define FROM_RATE "127.0.0.3"
#define FROM_DOWN "127.0.0.6"

static const char ldif[] =
	"dn: " SUFFIX "\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n"
	"o: Example\n\n"
	"dn: ou=people," SUFFIX "\nobjectClass: organizationalUnit\nou: people\n\n"
	"dn: uid=alice,ou=people," SUFFIX "\nobjectClass: inetOrgPerson\nuid: alice\n"
	"cn: Alice\nsn: A\nuserPassword: alice-pw\n\n"
	"dn: uid=bob,ou=people," SUFFIX "\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob\n"
	"sn: B\nuserPassword: bob-pw\n\n"
	"dn: uid=carol,ou=people," SUFFIX "\nobjectClass: inetOrgPerson\nuid: carol\n"
	"cn: Carol\nsn: C\nuserPassword: carol-pw\n\n"
	"dn: uid=dave,ou=people," SUFFIX "\nobjectClass: inetOrgPerson\nuid: dave\n"
	"cn: Dave\nsn: D\nuserPassword: dave-pw\n";

static bool port_open(void *ctx)
{
	int port = *(int *)ctx;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
	if (s >= 0)
		close(s);
	return ok;
}

/* slapd with a generated slapd.conf (mdb, the test certificate), the LDIF loaded offline
 * by slapadd, serving ldaps on a free loopback port. */
static bool slapd_start(void)
{
	char *dir = th_tmpdir("slapd");
	if (!CHECK(dir != NULL))
		return false;
	snprintf(ldap_dir, sizeof ldap_dir, "%s", dir);
	char conf[4096], path[320], db[320], data[320], log[320];
	snprintf(db, sizeof db, "%s/db", ldap_dir);
	snprintf(path, sizeof path, "%s/slapd.conf", ldap_dir);
	snprintf(data, sizeof data, "%s/users.ldif", ldap_dir);
	snprintf(log, sizeof log, "%s/slapd.log", ldap_dir);
	snprintf(conf, sizeof conf,
		 "include /etc/ldap/schema/core.schema\n"
		 "include /etc/ldap/schema/cosine.schema\n"
		 "include /etc/ldap/schema/inetorgperson.schema\n"
		 "pidfile %s/slapd.pid\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\n"
		 "TLSCertificateFile %s\nTLSCertificateKeyFile %s\n"
		 "database mdb\nsuffix \"" SUFFIX "\"\nrootdn \"cn=admin," SUFFIX "\"\n"
		 "rootpw admin-pw\ndirectory %s\nmaxsize 16777216\n"
		 "access to attrs=userPassword by anonymous auth by * none\n"
		 "access to * by * read\n", ldap_dir, E.tls.cert, E.tls.key, db);
	char mk[400];
	snprintf(mk, sizeof mk, "mkdir -p %s", db);
	if (!CHECK(th_write_file(path, conf) == 0 && th_write_file(data, ldif) == 0) ||
	    !CHECK(system(mk) == 0))
		return false;
	struct th_proc p;
	char *const add[] = {"/usr/sbin/slapadd", "-f", path, "-l", data, NULL};
	th_run(&p, add, NULL, 60);
	bool ok = CHECKF(p.status == 0, "slapadd exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);
	if (!ok)
		return false;
	ldap_port = th_free_port("127.0.0.1");
	char url[80];
	snprintf(url, sizeof url, "ldaps://127.0.0.1:%d", ldap_port);
	char *const argv[] = {"/usr/sbin/slapd", "-d", "0", "-f", path, "-h", url, NULL};
	slapd_pid = th_spawn(argv, log);
	return CHECKF(slapd_pid > 0 && th_wait_until(30, 50, port_open, &ldap_port, NULL),
		      "slapd did not listen on %s", url);
}

static void test_setup_slapd_wiremap_softphones_and_lisd(void)
{
	if (!ck_db_setup(&E) || !slapd_start())
		return;
	CHECK(ck_import(&E, "--subnets", "prefix,location,description,remote\n"
			"127.0.8.0/24,,VPN pool,true\n"));
	CHECK(ck_import(&E, "--endpoints", "endpoint,class,uri,mac,owner\n"
			"alice-soft,softphone,sip:alice-soft@example.com,,alice\n"
			"bob-desk,desk_phone,,00:11:22:33:44:b0,bob\n"
			"bob-soft,softphone,sip:bob-soft@example.com,,bob\n"
			"dave-soft,softphone,sip:dave-soft@example.com,,dave\n"
			"carol-soft,softphone,sip:carol-soft@example.com,,carol\n"));
	web_port = th_free_port("127.0.0.1");
	char sect[1024];
	snprintf(sect, sizeof sect,
		 "[auth]\nallowed_addresses = 127.0.0.2\n"
		 "[selfservice]\nlisten = 127.0.0.1\nport = %d\nsignin_rate = 5\n"
		 "session_lifetime = 3600\nmax_body = 4096\n"
		 "[ldap]\nuri = ldaps://127.0.0.1:%d\nca_file = %s\n"
		 "bind_dn = uid=%%u,ou=people," SUFFIX "\ntimeout = 3\n"
		 /* a provider nobody answers for: SSO is offered and says it cannot be had */
		 "[oidc]\nissuer = https://127.0.0.1:9/\nclient_id = lis\n"
		 "redirect_uri = https://127.0.0.1:%d/signin/oidc/callback\n",
		 web_port, ldap_port, E.tls.cert, web_port);
	if (!ck_lisd_start(&E, &E.lisd, sect))
		return;
	snprintf(web_base, sizeof web_base, "https://127.0.0.1:%d", web_port);
	/* HELD may answer a moment before the self-service listener is up */
	if (!CHECKF(th_wait_until(30, 50, port_open, &web_port, NULL),
		    "the self-service listener never listened"))
		return;
	E.up = true;
}

/* ---- the client ---- */

struct session {
	char cookie[128];     /* __Host-lis_session=... */
	char csrf[64];
};

/* One request to the self-service listener: cookie (may be NULL), csrf header (NULL:
 * none), bearer token (NULL: none), content type and body (NULL: none). */
static long web(const char *method, const char *path, const char *from, const char *cookie,
		const char *csrf, const char *bearer, const char *ctype, const char *body,
		struct th_resp *r)
{
	char url[256], h_cookie[200], h_csrf[120], h_auth[160];
	const char *headers[6];
	size_t n = 0;
	snprintf(url, sizeof url, "%s%s", web_base, path);
	if (cookie) {
		snprintf(h_cookie, sizeof h_cookie, "Cookie: %s", cookie);
		headers[n++] = h_cookie;
	}
	if (csrf) {
		snprintf(h_csrf, sizeof h_csrf, "X-CSRF-Token: %s", csrf);
		headers[n++] = h_csrf;
	}
	if (bearer) {
		snprintf(h_auth, sizeof h_auth, "Authorization: Bearer %s", bearer);
		headers[n++] = h_auth;
	}
	headers[n] = NULL;
	struct th_req q = {.method = method, .url = url, .cafile = E.tls.cert, .local_addr = from,
			   .content_type = ctype, .body = body, .headers = headers};
	th_https(&q, r);
	return r->status;
}

/* The value of header name (first line of it) into out; false when absent. */
static bool header(const struct th_resp *r, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	for (const char *p = r->headers; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > n + 1 && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			snprintf(out, size, "%.*s", (int)(len - (size_t)(v - p)), v);
			return true;
		}
		p = eol ? eol + 2 : p + len;
	}
	return false;
}

/* POST /signin; the answer's status. */
static long signin(const char *user, const char *password, const char *from, struct th_resp *r)
{
	char body[200];
	snprintf(body, sizeof body, "user=%s&password=%s", user, password);
	return web("POST", "/signin", from, NULL, NULL, NULL,
		   "application/x-www-form-urlencoded", body, r);
}

/* Sign in and fetch the session's CSRF token (GET /api/v1/me). */
static bool sign_in(const char *user, const char *password, const char *from,
		    struct session *s)
{
	struct th_resp r;
	char set[300];
	memset(s, 0, sizeof *s);
	long st = signin(user, password, from, &r);
	bool ok = CHECKF(st == 303 && header(&r, "Set-Cookie", set, sizeof set),
			 "sign-in of %s: %ld %s", user, st, th_flat(r.body));
	th_resp_free(&r);
	if (!ok)
		return false;
	snprintf(s->cookie, sizeof s->cookie, "%.*s", (int)strcspn(set, ";"), set);
	web("GET", "/api/v1/me", from, s->cookie, NULL, NULL, NULL, NULL, &r);
	json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
	const char *csrf = json_string_value(json_object_get(j, "csrf"));
	ok = CHECKF(r.status == 200 && csrf, "me: %ld %s", r.status, th_flat(r.body));
	if (ok)
		snprintf(s->csrf, sizeof s->csrf, "%s", csrf);
	json_decref(j);
	th_resp_free(&r);
	return ok;
}

static json_t *body_json(const struct th_resp *r)
{
	return r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
}

static struct session alice, bob;

static const char home_json[] =
	"{\"label\":\"home\",\"current\":true,\"days\":30,\"lang\":\"en-US\",\"address\":"
	"{\"country\":\"US\",\"A1\":\"IL\",\"A3\":\"Springfield\",\"RD\":\"Maple\","
	"\"STS\":\"ST\",\"HNO\":\"742\",\"PC\":\"62704\"}}";

/* ---- tests ---- */

static void test_ldap_sign_in_sets_a_strict_host_only_session_cookie(void)
{
	struct th_resp r;
	char set[300], loc[64];
	CHECK(signin("alice", "alice-pw", FROM_ALICE, &r) == 303);
	CHECK(header(&r, "Location", loc, sizeof loc) && strcmp(loc, "/") == 0);
	CHECKF(header(&r, "Set-Cookie", set, sizeof set) &&
	       strncmp(set, "__Host-lis_session=", 19) == 0 && strstr(set, "; Secure") &&
	       strstr(set, "; HttpOnly") && strstr(set, "; SameSite=Strict") &&
	       strstr(set, "; Path=/") && !strstr(set, "Domain="), "Set-Cookie: %s", set);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM lis_user WHERE key = 'alice' AND "
			  "source = 'ldap' AND last_login_at IS NOT NULL AND active") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM web_session WHERE user_key = 'alice' "
			  "AND method = 'ldap' AND expires_at > now() + interval '50 minutes'")
	      == 1);
	CHECK(sign_in("alice", "alice-pw", FROM_ALICE, &alice));
	CHECK(sign_in("bob", "bob-pw", FROM_BOB, &bob));
}

static void test_wrong_password_is_refused_with_a_clear_message(void)
{
	struct th_resp r;
	CHECK(signin("alice", "wrong", FROM_BAD, &r) == 401);
	CHECKF(r.body && strstr(r.body, "The user name or password is wrong."), "%s",
	       th_flat(r.body));
	char set[100];
	CHECK(!header(&r, "Set-Cookie", set, sizeof set));
	th_resp_free(&r);
	/* an empty password is never an (unauthenticated) bind */
	CHECK(signin("alice", "", FROM_BAD, &r) == 400);
	th_resp_free(&r);
	CHECK(signin("nobody", "x", FROM_BAD, &r) == 401);
	th_resp_free(&r);
}

/* [ldap] without bind_dn: an anonymous search finds the DN (the filter's value escaped, so
 * that a user name cannot widen it), then the bind. lis_ldap_check itself, on the slapd. */
static void test_ldap_search_mode_finds_the_dn_and_escapes_the_filter(void)
{
	char uri[64], why[300];
	snprintf(uri, sizeof uri, "ldaps://127.0.0.1:%d", ldap_port);
	struct lis_config cfg = {.ldap_uri = uri, .ldap_ca_file = E.tls.cert,
				 .ldap_bind_dn = "", .ldap_search_base = "ou=people," SUFFIX,
				 .ldap_search_filter = "(uid=%u)", .ldap_timeout = 3};
	CHECKF(lis_ldap_check(&cfg, "bob", "bob-pw", why, sizeof why) == LIS_LDAP_OK, "%s", why);
	CHECK(lis_ldap_check(&cfg, "bob", "nope", why, sizeof why) == LIS_LDAP_DENIED);
	CHECK(lis_ldap_check(&cfg, "b*", "bob-pw", why, sizeof why) == LIS_LDAP_DENIED);
	CHECK(lis_ldap_check(&cfg, "*", "bob-pw", why, sizeof why) == LIS_LDAP_DENIED);
	CHECK(lis_ldap_check(&cfg, "bob", "", why, sizeof why) == LIS_LDAP_DENIED);
	/* a certificate the CA file does not vouch for: not even a bind is tried */
	cfg.ldap_ca_file = "/etc/ssl/certs/ca-certificates.crt";
	CHECKF(lis_ldap_check(&cfg, "bob", "bob-pw", why, sizeof why) == LIS_LDAP_UNREACHABLE,
	       "%s", why);
	/* ldap:// needs StartTLS, which this slapd (ldaps only) cannot give */
	cfg.ldap_ca_file = E.tls.cert;
	snprintf(uri, sizeof uri, "ldap://127.0.0.1:%d", ldap_port);
	CHECK(lis_ldap_check(&cfg, "bob", "bob-pw", why, sizeof why) == LIS_LDAP_UNREACHABLE);
}

static void test_too_many_sign_ins_get_429(void)
{
	struct th_resp r;
	long st = 0;
	int n = 0;
	/* signin_rate = 5 a minute: the sixth attempt of carol from one address is refused */
	for (; n < 6; n++) {
		st = signin("carol", "wrong", FROM_RATE, &r);
		if (st == 429)
			CHECKF(r.body && strstr(r.body, "Too many sign-in attempts"), "%s",
			       th_flat(r.body));
		th_resp_free(&r);
		if (st == 429)
			break;
	}
	CHECKF(st == 429 && n == 5, "attempt %d: %ld", n + 1, st);
	/* refused even with the right password: the limit is before the directory */
	CHECK(signin("carol", "carol-pw", FROM_RATE, &r) == 429);
	th_resp_free(&r);
	/* and for the user name, from any address */
	CHECK(signin("carol", "carol-pw", "127.0.0.7", &r) == 429);
	th_resp_free(&r);
}

static void test_writes_without_the_right_csrf_token_get_403(void)
{
	struct th_resp r;
	CHECK(web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, NULL, NULL,
		  "application/json", home_json, &r) == 403);
	th_resp_free(&r);
	CHECK(web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, "forged", NULL,
		  "application/json", home_json, &r) == 403);
	th_resp_free(&r);
	CHECK(web("POST", "/locations", FROM_ALICE, alice.cookie, NULL, NULL,
		  "application/x-www-form-urlencoded", "label=x&country=US", &r) == 403);
	th_resp_free(&r);
	CHECK(web("POST", "/signout", FROM_ALICE, alice.cookie, NULL, NULL,
		  "application/x-www-form-urlencoded", "csrf=forged", &r) == 403);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location") == 0);
	/* the session still works */
	CHECK(web("GET", "/api/v1/me", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r)
	      == 200);
	th_resp_free(&r);
}

static void test_bad_input_gets_clear_json_errors_and_saves_nothing(void)
{
	struct th_resp r;
	CHECK(web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, alice.csrf, NULL,
		  "text/plain", home_json, &r) == 415);
	th_resp_free(&r);
	CHECK(web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, alice.csrf, NULL,
		  "application/json", "{\"label\":", &r) == 400);
	th_resp_free(&r);
	/* no street number: the dispatchability check of lisctl declare, by field */
	web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, alice.csrf, NULL,
	    "application/json", "{\"label\":\"cabin\",\"address\":{\"country\":\"US\","
	    "\"A1\":\"IL\",\"A3\":\"Springfield\",\"RD\":\"Maple\",\"XX\":\"1\"}}", &r);
	json_t *j = body_json(&r);
	CHECKF(r.status == 400 && j, "%ld %s", r.status, th_flat(r.body));
	bool xx = false;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(j, "errors"), i, e) {
		const char *f = json_string_value(json_object_get(e, "field"));
		xx |= f && strcmp(f, "address.XX") == 0;
	}
	CHECKF(xx, "%s", th_flat(r.body));
	json_decref(j);
	th_resp_free(&r);
	web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, alice.csrf, NULL,
	    "application/json", "{\"label\":\"cabin\",\"address\":{\"country\":\"US\","
	    "\"A1\":\"IL\",\"A3\":\"Springfield\",\"RD\":\"Maple\",\"PC\":\"1\"}}", &r);
	CHECKF(r.status == 400 && strstr(r.body, "\"field\":\"address.HNO\"") &&
	       strstr(r.body, "no street number (HNO)") && strstr(r.body, "\"address.PC\""),
	       "%ld %s", r.status, th_flat(r.body));
	th_resp_free(&r);
	/* ISO 3166, as lisctl checks it */
	web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, alice.csrf, NULL,
	    "application/json", "{\"label\":\"cabin\",\"address\":{\"country\":\"XQ\","
	    "\"A1\":\"IL\",\"A3\":\"Springfield\",\"RD\":\"Maple\",\"HNO\":\"1\"}}", &r);
	CHECKF(r.status == 400 && strstr(r.body, "\"field\":\"address.country\"") &&
	       strstr(r.body, "is not an ISO 3166-1 country code"), "%ld %s", r.status,
	       th_flat(r.body));
	th_resp_free(&r);
	/* larger than [selfservice] max_body */
	char *big = malloc(8192);
	memset(big, ' ', 8191);
	big[8191] = '\0';
	CHECK(web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, alice.csrf, NULL,
		  "application/json", big, &r) == 413);
	free(big);
	th_resp_free(&r);
	CHECK(web("PATCH", "/api/v1/locations/home", FROM_ALICE, alice.cookie, alice.csrf, NULL,
		  NULL, NULL, &r) == 405);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location") == 0);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit") == 0);
}

/* The SBC (127.0.0.2, allowed) asks for the softphone of uri at a VPN pool address. */
static const char *by_uri(const char *uri)
{
	static char id[200];
	snprintf(id, sizeof id, "<uri>%s</uri><ip v=\"4\">127.0.8.20</ip>", uri);
	return ck_req_device(id);
}

/* The SBC's answer for the softphone of uri (ctx) has method Manual. */
static bool softphone_is_manual(void *ctx)
{
	struct th_resp r;
	th_held_post(&E.lisd, &E.tls, by_uri(ctx), "127.0.0.2", &r);
	bool ok = r.body && strstr(r.body, "<gp:method>Manual</gp:method>");
	th_resp_free(&r);
	return ok;
}

/* The SBC's answer for the softphone of uri is the declared 742 Maple ST. */
static void check_softphone_at_maple(const char *uri)
{
	struct th_resp r;
	CHECKF(th_wait_until(30, 100, softphone_is_manual, (void *)uri, NULL),
	       "%s was not answered with its user's declaration", uri);
	th_held_post(&E.lisd, &E.tls, by_uri(uri), "127.0.0.2", &r);
	xmlDocPtr x = ck_held_located(&r);
	if (x) {
		char *rd = xp_str(x, PIDF "/gp:location-info/ca:civicAddress/ca:RD");
		char *hno = xp_str(x, PIDF "/gp:location-info/ca:civicAddress/ca:HNO");
		CHECK_STR(rd, "Maple");
		CHECK_STR(hno, "742");
		free(rd);
		free(hno);
		xmlFreeDoc(x);
	}
	th_resp_free(&r);
}

/* GET me's "answer" (lisd's resolver, through the change feed) for alice. */
static char *alice_answer(void)
{
	struct th_resp r;
	web("GET", "/api/v1/me", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r);
	json_t *j = body_json(&r);
	const char *a = json_string_value(json_object_get(j, "answer"));
	char *out = strdup(a ? a : "");
	json_decref(j);
	th_resp_free(&r);
	return out;
}

static bool alice_answer_is_her_home(void *ctx)
{
	(void)ctx;
	char *a = alice_answer();
	bool ok = strstr(a, "(method Manual, from declared)") != NULL;
	free(a);
	return ok;
}

static void test_declaration_through_the_api_answers_the_softphone_with_Manual(void)
{
	struct th_resp r;
	/* before: what lisd's resolver answers for her softphone, in words */
	char *before = alice_answer();
	CHECKF(strncmp(before, "alice-soft: no location (locationUnknown): ", 43) == 0,
	       "%s", before);
	free(before);
	web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, alice.csrf, NULL,
	    "application/json", home_json, &r);
	json_t *j = body_json(&r);
	CHECKF(r.status == 201 && j && json_is_true(json_object_get(j, "current")) &&
	       strcmp(json_string_value(json_object_get(j, "state")), "valid") == 0,
	       "%ld %s", r.status, th_flat(r.body));
	json_decref(j);
	th_resp_free(&r);
	/* the same label again: 409 */
	CHECK(web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, alice.csrf, NULL,
		  "application/json", home_json, &r) == 409);
	th_resp_free(&r);
	web("GET", "/api/v1/me", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r);
	j = body_json(&r);
	json_t *d = json_object_get(j, "declaration");
	CHECKF(r.status == 200 && strcmp(json_string_value(json_object_get(j, "user")), "alice")
	       == 0 && strcmp(json_string_value(json_object_get(d, "label")), "home") == 0 &&
	       json_array_size(json_object_get(j, "endpoints")) == 1, "%s", th_flat(r.body));
	json_decref(j);
	th_resp_free(&r);
	/* the page's answer follows the declaration once lisd has it */
	CHECKF(th_wait_until(30, 100, alice_answer_is_her_home, NULL, NULL),
	       "GET me never showed alice's home as the answer");
	web("GET", "/api/v1/me", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r);
	j = body_json(&r);
	json_t *a = json_object_get(json_array_get(json_object_get(j, "endpoints"), 0), "answer");
	CHECKF(strcmp(json_string_value(json_object_get(j, "answer")), "alice-soft: 742 Maple "
		      "ST, Springfield IL 62704 US (method Manual, from declared): location "
		      "declared by user alice (home)") == 0 &&
	       strcmp(json_string_value(json_object_get(a, "result")), "located") == 0 &&
	       strcmp(json_string_value(json_object_get(a, "source")), "declared") == 0 &&
	       json_is_false(json_object_get(a, "fallback")) &&
	       strcmp(json_string_value(json_object_get(json_object_get(a, "address"), "RD")),
		      "Maple") == 0, "%s", th_flat(r.body));
	json_decref(j);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit WHERE "
			  "user_key = 'alice' AND who = 'alice' AND via = 'web' AND "
			  "from_addr = '127.0.0.1' AND op = 'insert'") == 1);
	check_softphone_at_maple("sip:alice-soft@example.com");
}

/* bob has a desk phone and a softphone: GET me answers for each, the sentence is the
 * softphone's (its class counts declarations), and the page lists what each device would
 * send. */
static void test_the_page_shows_what_each_device_would_send(void)
{
	struct th_resp r;
	web("GET", "/api/v1/me", FROM_BOB, bob.cookie, NULL, NULL, NULL, NULL, &r);
	json_t *j = body_json(&r);
	json_t *eps = json_object_get(j, "endpoints");
	const char *a = json_string_value(json_object_get(j, "answer"));
	CHECKF(json_array_size(eps) == 2 && a && strncmp(a, "bob-soft: no location "
	       "(locationUnknown): ", 40) == 0 && strcmp(json_string_value(json_object_get(
	       json_object_get(json_array_get(eps, 0), "answer"), "result")), "locationUnknown")
	       == 0, "%s", th_flat(r.body));
	json_decref(j);
	th_resp_free(&r);
	web("GET", "/", FROM_BOB, bob.cookie, NULL, NULL, NULL, NULL, &r);
	CHECKF(r.status == 200 && r.body && strstr(r.body, "<ul id=\"devices\"><li>bob-desk: no "
	       "location (locationUnknown): ") && strstr(r.body, "</li><li>bob-soft: no location "
	       "(locationUnknown): "), "%s", th_flat(r.body));
	th_resp_free(&r);
	/* alice has one device: no list */
	web("GET", "/", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r);
	CHECKF(r.status == 200 && r.body && !strstr(r.body, "id=\"devices\""), "%s",
	       th_flat(r.body));
	th_resp_free(&r);
}

/* Every route of the API, as bob, against alice's "home": bob sees and changes nothing
 * of hers. */
static void test_a_user_can_neither_read_nor_change_another_users_locations(void)
{
	struct th_resp r;
	long before = th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit");
	web("GET", "/api/v1/locations", FROM_BOB, bob.cookie, NULL, NULL, NULL, NULL, &r);
	CHECKF(r.status == 200 && strcmp(r.body, "{\"locations\":[]}") == 0, "%s",
	       th_flat(r.body));
	th_resp_free(&r);
	web("GET", "/api/v1/me", FROM_BOB, bob.cookie, NULL, NULL, NULL, NULL, &r);
	json_t *j = body_json(&r);
	CHECKF(strcmp(json_string_value(json_object_get(j, "user")), "bob") == 0 &&
	       json_is_null(json_object_get(j, "declaration")), "%s", th_flat(r.body));
	json_decref(j);
	th_resp_free(&r);
	static const struct {
		const char *method, *path;
		const char *body;
	} writes[] = {
		{"PUT", "/api/v1/locations/home", "{\"address\":{\"country\":\"US\",\"A1\":\"IL\","
		 "\"A3\":\"Springfield\",\"RD\":\"Elm\",\"HNO\":\"1\"}}"},
		{"DELETE", "/api/v1/locations/home", NULL},
		{"POST", "/api/v1/locations/home/current", NULL},
		{"POST", "/api/v1/locations/home/confirm", NULL},
	};
	for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
		long st = web(writes[i].method, writes[i].path, FROM_BOB, bob.cookie, bob.csrf,
			      NULL, writes[i].body ? "application/json" : NULL, writes[i].body,
			      &r);
		CHECKF(st == 404, "%s %s as bob: %ld %s", writes[i].method, writes[i].path, st,
		       th_flat(r.body));
		th_resp_free(&r);
	}
	/* the page's forms too */
	char form[120];
	snprintf(form, sizeof form, "csrf=%s", bob.csrf);
	CHECK(web("POST", "/locations/home/delete", FROM_BOB, bob.cookie, NULL, NULL,
		  "application/x-www-form-urlencoded", form, &r) == 404);
	th_resp_free(&r);
	/* alice's CSRF token is no use with bob's cookie */
	CHECK(web("DELETE", "/api/v1/locations/home", FROM_BOB, bob.cookie, alice.csrf, NULL,
		  NULL, NULL, &r) == 403);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location WHERE user_key = "
			  "'alice' AND label = 'home' AND rd = 'Maple' AND is_current") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location WHERE user_key = "
			  "'bob'") == 0);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit") == before);
	/* bob's own "home" is his: a create of the same label is no conflict with alice's */
	CHECK(web("POST", "/api/v1/locations", FROM_BOB, bob.cookie, bob.csrf, NULL,
		  "application/json", home_json, &r) == 201);
	th_resp_free(&r);
	web("GET", "/api/v1/locations", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r);
	j = body_json(&r);
	CHECKF(json_array_size(json_object_get(j, "locations")) == 1, "%s", th_flat(r.body));
	json_decref(j);
	th_resp_free(&r);
	/* without a session: 401 on every route */
	CHECK(web("GET", "/api/v1/locations", FROM_BOB, NULL, NULL, NULL, NULL, NULL, &r) == 401);
	th_resp_free(&r);
	CHECK(web("GET", "/api/v1/me", FROM_BOB, "__Host-lis_session=forged", NULL, NULL, NULL,
		  NULL, &r) == 401);
	th_resp_free(&r);
}

static void test_replace_pick_confirm_and_delete_through_the_api(void)
{
	struct th_resp r;
	CHECK(web("POST", "/api/v1/locations", FROM_ALICE, alice.cookie, alice.csrf, NULL,
		  "application/json", "{\"label\":\"office2\",\"address\":{\"country\":\"US\","
		  "\"A1\":\"IL\",\"A3\":\"Springfield\",\"RD\":\"Oak\",\"HNO\":\"10\"}}", &r)
	      == 201);
	th_resp_free(&r);
	CHECK(web("PUT", "/api/v1/locations/office2", FROM_ALICE, alice.cookie, alice.csrf, NULL,
		  "application/json", "{\"address\":{\"country\":\"US\",\"A1\":\"IL\","
		  "\"A3\":\"Springfield\",\"RD\":\"Oak\",\"HNO\":\"12\"}}", &r) == 200);
	th_resp_free(&r);
	CHECK(web("POST", "/api/v1/locations/office2/current", FROM_ALICE, alice.cookie,
		  alice.csrf, NULL, NULL, NULL, &r) == 200);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location WHERE user_key = "
			  "'alice' AND is_current AND label = 'office2' AND hno = '12'") == 1);
	CHECK(web("POST", "/api/v1/locations/home/current", FROM_ALICE, alice.cookie,
		  alice.csrf, NULL, NULL, NULL, &r) == 200);
	th_resp_free(&r);
	CHECK(web("POST", "/api/v1/locations/home/confirm", FROM_ALICE, alice.cookie,
		  alice.csrf, NULL, NULL, NULL, &r) == 200);
	th_resp_free(&r);
	CHECK(web("DELETE", "/api/v1/locations/office2", FROM_ALICE, alice.cookie, alice.csrf,
		  NULL, NULL, NULL, &r) == 200);
	th_resp_free(&r);
	CHECK(web("DELETE", "/api/v1/locations/office2", FROM_ALICE, alice.cookie, alice.csrf,
		  NULL, NULL, NULL, &r) == 404);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit WHERE "
			  "user_key = 'alice' AND label = 'office2' AND via = 'web'") >= 4);
	CHECK(ck_log_has(&E.lisd, "event=location op=delete user=alice label=office2 via=web "
			 "from=127.0.0.1 result=not_found", (char *)NULL));
}

/* lisctl token issue; the secret (the line that starts with lis_) into out. */
static bool issue(const char *user, const char *endpoint, char *out, size_t size)
{
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "token", "issue", "--user", user, "--endpoint", endpoint,
		  "--label", "test", "--expires", "30", (char *)NULL);
	const char *t = p.out ? strstr(p.out, "\nlis_") : NULL;
	bool ok = CHECKF(p.status == 0 && t, "exit %d: %s %s", p.status, th_flat(p.out),
			 th_flat(p.err));
	if (ok)
		snprintf(out, size, "%.*s", (int)strcspn(t + 1, "\n"), t + 1);
	th_proc_free(&p);
	return ok && strlen(out) == 47;
}

static void test_tokens_are_issued_used_and_revoked_with_lisctl(void)
{
	char token[80];
	struct th_resp r;
	if (!issue("alice", "alice-soft", token, sizeof token))
		return;
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM api_token WHERE user_key = 'alice' AND "
			  "endpoint_key = 'alice-soft' AND length(token_hash) = 32") == 1);
	web("GET", "/api/v1/me", FROM_ALICE, NULL, NULL, token, NULL, NULL, &r);
	json_t *j = body_json(&r);
	CHECKF(r.status == 200 && strcmp(json_string_value(json_object_get(j, "user")), "alice")
	       == 0 && strcmp(json_string_value(json_object_get(j, "via")), "api") == 0 &&
	       !json_object_get(j, "csrf"), "%s", th_flat(r.body));
	json_decref(j);
	th_resp_free(&r);
	/* a token needs no CSRF token (no cookie rides along); the audit says api */
	CHECK(web("POST", "/api/v1/locations/home/confirm", FROM_ALICE, NULL, NULL, token, NULL,
		  NULL, &r) == 200);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit WHERE "
			  "user_key = 'alice' AND via = 'api' AND who = 'alice'") == 1);
	/* alice's token lists alice's rows only (bob has a "home" too) */
	web("GET", "/api/v1/locations", FROM_ALICE, NULL, NULL, token, NULL, NULL, &r);
	j = body_json(&r);
	CHECKF(r.status == 200 && (long)json_array_size(json_object_get(j, "locations")) ==
	       th_pg_count(&E.pg, "SELECT count(*) FROM declared_location WHERE user_key = "
			   "'alice'"), "%s", th_flat(r.body));
	json_decref(j);
	th_resp_free(&r);
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "token", "list", "--user", "alice", (char *)NULL);
	char prefix[13];
	snprintf(prefix, sizeof prefix, "%.12s", token);
	CHECKF(p.status == 0 && strstr(p.out, prefix) && strstr(p.out, "state=valid") &&
	       !strstr(p.out, token), "%s", th_flat(p.out));
	th_proc_free(&p);
	th_lisctl(&p, E.pg.conninfo, "token", "revoke", prefix, (char *)NULL);
	CHECKF(p.status == 0, "revoke: %s", th_flat(p.err));
	th_proc_free(&p);
	CHECK(web("GET", "/api/v1/me", FROM_ALICE, NULL, NULL, token, NULL, NULL, &r) == 401);
	th_resp_free(&r);
	/* a token of a deactivated endpoint is refused too */
	char t2[80];
	if (issue("alice", "alice-soft", t2, sizeof t2)) {
		CHECK(th_pg_exec(&E.pg, "lis", "UPDATE endpoint SET active = false, deactivated_at "
				 "= now() WHERE key = 'alice-soft'") == 0);
		CHECK(web("GET", "/api/v1/me", FROM_ALICE, NULL, NULL, t2, NULL, NULL, &r) == 401);
		th_resp_free(&r);
		CHECK(th_pg_exec(&E.pg, "lis", "UPDATE endpoint SET active = true, deactivated_at "
				 "= NULL WHERE key = 'alice-soft'") == 0);
	}
}

static void test_a_deactivated_users_session_token_and_sign_in_are_refused(void)
{
	char token[80];
	struct th_resp r;
	if (!issue("bob", "bob-soft", token, sizeof token))
		return;
	CHECK(web("GET", "/api/v1/me", FROM_BOB, NULL, NULL, token, NULL, NULL, &r) == 200);
	th_resp_free(&r);
	CHECK(th_pg_exec(&E.pg, "lis", "UPDATE lis_user SET active = false, deactivated_at = "
			 "now() WHERE key = 'bob'") == 0);
	CHECK(web("GET", "/api/v1/me", FROM_BOB, NULL, NULL, token, NULL, NULL, &r) == 401);
	th_resp_free(&r);
	CHECK(web("GET", "/api/v1/me", FROM_BOB, bob.cookie, NULL, NULL, NULL, NULL, &r) == 401);
	th_resp_free(&r);
	CHECK(signin("bob", "bob-pw", FROM_BOB, &r) == 403);
	CHECKF(r.body && strstr(r.body, "deactivated"), "%s", th_flat(r.body));
	th_resp_free(&r);
}

static void test_the_page_is_served_with_its_security_headers(void)
{
	struct th_resp r;
	char v[400];
	web("GET", "/", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r);
	CHECK(r.status == 200 && strncmp(r.content_type, "text/html", 9) == 0);
	CHECKF(header(&r, "Content-Security-Policy", v, sizeof v) &&
	       strstr(v, "default-src 'none'") && strstr(v, "style-src 'sha256-") &&
	       strstr(v, "form-action 'self'") && strstr(v, "frame-ancestors 'none'"), "%s", v);
	CHECK(header(&r, "X-Content-Type-Options", v, sizeof v) && strcmp(v, "nosniff") == 0);
	CHECK(header(&r, "Referrer-Policy", v, sizeof v) && strcmp(v, "same-origin") == 0);
	CHECK(header(&r, "Cache-Control", v, sizeof v) && strcmp(v, "no-store") == 0);
	CHECKF(r.body && strstr(r.body, "name=\"viewport\"") && strstr(r.body, alice.csrf) &&
	       strstr(r.body, "id=\"add\"") && !strstr(r.body, "<script"), "%s",
	       th_flat(r.body));
	th_resp_free(&r);
	/* signed out: the sign-in form, and SSO as [oidc] is set */
	web("GET", "/", FROM_ALICE, NULL, NULL, NULL, NULL, NULL, &r);
	CHECK(r.status == 200 && r.body && strstr(r.body, "id=\"signin\"") &&
	      strstr(r.body, "id=\"sso\""));
	th_resp_free(&r);
	/* the provider cannot be reached: a sentence, no redirect, no cookie */
	CHECK(web("GET", "/signin/oidc", FROM_ALICE, NULL, NULL, NULL, NULL, NULL, &r) == 503);
	CHECKF(r.body && strstr(r.body, "Sign-in with SSO is not possible now") &&
	       !header(&r, "Location", v, sizeof v) && !header(&r, "Set-Cookie", v, sizeof v),
	       "%s", th_flat(r.body));
	th_resp_free(&r);
	/* a callback that no sign-in of this browser started */
	CHECK(web("GET", "/signin/oidc/callback?code=x&state=y", FROM_ALICE, NULL, NULL, NULL,
		  NULL, NULL, &r) == 400);
	CHECK(r.body && strstr(r.body, "was not started here"));
	th_resp_free(&r);
	CHECK(web("GET", "/signin/oidc/callback?code=x&state=y", FROM_ALICE,
		  "__Host-lis_oidc=forged", NULL, NULL, NULL, NULL, &r) == 400);
	CHECK(header(&r, "Set-Cookie", v, sizeof v) && strstr(v, "__Host-lis_oidc=;") &&
	      strstr(v, "Max-Age=0"));
	th_resp_free(&r);
	/* the forms: add, confirm; a redirect to the page after each */
	char form[400];
	snprintf(form, sizeof form, "csrf=%s&label=cabin&HNO=9&RD=Lake&A3=Springfield&A1=IL&"
		 "country=US&current=1", alice.csrf);
	CHECK(web("POST", "/locations", FROM_ALICE, alice.cookie, NULL, NULL,
		  "application/x-www-form-urlencoded", form, &r) == 303);
	th_resp_free(&r);
	snprintf(form, sizeof form, "csrf=%s", alice.csrf);
	CHECK(web("POST", "/locations/cabin/confirm", FROM_ALICE, alice.cookie, NULL, NULL,
		  "application/x-www-form-urlencoded", form, &r) == 303);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location WHERE user_key = "
			  "'alice' AND label = 'cabin' AND is_current AND rd = 'Lake'") == 1);
	/* a bad address: the page again, with the reason */
	snprintf(form, sizeof form, "csrf=%s&label=bad&RD=Lake&A3=X&A1=IL&country=US",
		 alice.csrf);
	web("POST", "/locations", FROM_ALICE, alice.cookie, NULL, NULL,
	    "application/x-www-form-urlencoded", form, &r);
	CHECKF(r.status == 400 && r.body && strstr(r.body, "no street number (HNO)"), "%ld %s",
	       r.status, th_flat(r.body));
	th_resp_free(&r);
}

/* tests/browser (npm ci there: playwright-core) and Chromium are installed. */
static bool browser_kit_found(void)
{
	char path[600];
	snprintf(path, sizeof path, "%s/node_modules/playwright-core/package.json",
		 th_src("tests/browser"));
	return access(path, R_OK) == 0 && access("/usr/bin/chromium", X_OK) == 0 &&
	       access("/usr/bin/node", X_OK) == 0;
}

/* PNG signature, then IHDR: width and height, big-endian, at bytes 16 and 20. */
static bool png_size(const char *path, unsigned *w, unsigned *h)
{
	size_t len = 0;
	unsigned char *b = (unsigned char *)th_read_file(path, &len);
	bool ok = b && len > 24 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0 &&
		  memcmp(b + 12, "IHDR", 4) == 0;
	if (ok) {
		*w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
		*h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
	}
	free(b);
	return ok;
}

/* The no-JavaScript flow in headless Chromium on a phone's screen (tests/browser): sign
 * in, see no location, declare, confirm, see the answer become the address, sign out; no
 * console errors (a CSP violation is one), the key elements inside the viewport and drawn
 * in the whole page's screenshot (decoded in selfservice.mjs), a screenshot of the
 * viewport; then the SBC's HELD answer is that address. */
static void test_the_page_works_in_headless_chromium_on_a_phone(void)
{
	char *out = th_tmpdir("browser"), script[600], png[400];
	/* kept for a look when LIS_KEEP_SCREENSHOT names a file */
	const char *keep = getenv("LIS_KEEP_SCREENSHOT");
	if (!CHECK(out != NULL))
		return;
	snprintf(script, sizeof script, "%s/selfservice.mjs", th_src("tests/browser"));
	char *const argv[] = {"/usr/bin/node", script, web_base, "dave", "dave-pw", out, NULL};
	struct th_proc p;
	th_run(&p, argv, NULL, 120);
	CHECKF(p.status == 0 && strstr(p.out, "\"ok\":true"), "exit %d: %s %s", p.status,
	       th_flat(p.out), th_flat(p.err));
	th_proc_free(&p);
	unsigned w = 0, h = 0;
	snprintf(png, sizeof png, "%s/selfservice.png", out);
	CHECKF(png_size(png, &w, &h) && w == 390 && h == 844, "%s: %ux%u", png, w, h);
	if (keep && *keep) {
		size_t n = 0;
		char *b = th_read_file(png, &n);
		FILE *f = b ? fopen(keep, "wb") : NULL;
		if (f) {
			fwrite(b, 1, n, f);
			fclose(f);
		}
		free(b);
	}
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location WHERE user_key = "
			  "'dave' AND label = 'home' AND is_current AND rd = 'Maple'") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit WHERE "
			  "user_key = 'dave' AND via = 'web' AND who = 'dave'") == 2);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM web_session WHERE user_key = 'dave'")
	      == 0);
	/* the HELD answer changed as the page said: the SBC's request for dave's softphone */
	check_softphone_at_maple("sip:dave-soft@example.com");
}

/* GET me's answer for alice holds ctx (a string). */
static bool alice_answer_has(void *ctx)
{
	char *a = alice_answer();
	bool ok = strstr(a, ctx) != NULL;
	free(a);
	return ok;
}

static bool alice_answer_lacks(void *ctx)
{
	return !alice_answer_has(ctx);
}

/* The state of alice's current declaration in GET me; "" when none. */
static void alice_state(char *out, size_t size)
{
	struct th_resp r;
	web("GET", "/api/v1/me", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r);
	json_t *j = body_json(&r);
	const char *st = json_string_value(json_object_get(json_object_get(j, "declaration"),
							   "state"));
	snprintf(out, size, "%s", st ? st : "");
	json_decref(j);
	th_resp_free(&r);
}

/* Re-confirmation (class softphone: every 86400 s): a declaration last confirmed two days
 * ago is due; lisd answers it marked unconfirmed, as a fallback (the page and the SBC
 * alike); a confirmation through the API makes it valid and the answer plain again. */
static void test_a_due_declaration_is_answered_unconfirmed_until_confirmed(void)
{
	char state[32];
	struct th_resp r;
	CHECK(th_pg_exec(&E.pg, "lis", "UPDATE declared_location SET confirmed_at = now() - "
			 "interval '2 days' WHERE user_key = 'alice' AND label = 'home'") == 0);
	CHECKF(th_wait_until(30, 100, alice_answer_has, "unconfirmed: last", NULL),
	       "GET me never said alice's home is unconfirmed");
	alice_state(state, sizeof state);
	CHECK_STR(state, "due");
	th_held_post(&E.lisd, &E.tls, by_uri("sip:alice-soft@example.com"), "127.0.0.2", &r);
	xmlDocPtr x = ck_held_located(&r);
	if (x) {
		char *note = xp_str(x, "/held:locationResponse/pidf:presence/pidf:tuple/"
				       "pidf:note");
		CHECKF(note && strncmp(note, "unconfirmed", 11) == 0, "note %s", note);
		free(note);
		xmlFreeDoc(x);
	}
	th_resp_free(&r);
	CHECK(web("POST", "/api/v1/locations/home/confirm", FROM_ALICE, alice.cookie,
		  alice.csrf, NULL, NULL, NULL, &r) == 200);
	th_resp_free(&r);
	CHECKF(th_wait_until(30, 100, alice_answer_lacks, "unconfirmed", NULL),
	       "alice's home still unconfirmed after she confirmed it");
	alice_state(state, sizeof state);
	CHECK_STR(state, "valid");
	check_softphone_at_maple("sip:alice-soft@example.com");
}

/* ---- lisd(8)'s API examples, run as written ---- */

/* One example of lisd(8) SELF-SERVICE "API examples": the command (groff escapes undone;
 * "\" continuations and a here-document kept) and the output printed under it: JSON, then
 * the status line. */
struct example {
	int line;                         /* of its .EX in man/lisd.8 */
	char cmd[2048];
	char out[4096];
	bool get;                         /* no -X, no data: safe to run again */
};

/* groff's escapes in .EX text: \- \e \(aq \(dq \& */
static void unescape(const char *in, char *out, size_t size)
{
	static const struct { const char *esc, *text; } map[] = {
		{"\\-", "-"}, {"\\e", "\\"}, {"\\(aq", "'"}, {"\\(dq", "\""}, {"\\&", ""},
	};
	size_t n = 0;
	while (*in && n + 1 < size) {
		size_t k = 0;
		for (; k < sizeof map / sizeof map[0]; k++)
			if (strncmp(in, map[k].esc, strlen(map[k].esc)) == 0)
				break;
		if (k < sizeof map / sizeof map[0]) {
			size_t t = strlen(map[k].text);
			if (n + t + 1 > size)
				break;
			memcpy(out + n, map[k].text, t);
			n += t;
			in += strlen(map[k].esc);
		} else {
			out[n++] = *in++;
		}
	}
	out[n] = '\0';
}

static void append(char *buf, size_t size, const char *line)
{
	size_t n = strlen(buf);
	snprintf(buf + n, size - n, "%s\n", line);
}

/* The examples of the subsection, in order; their number (at most max), -1 when the
 * subsection is missing. */
static int read_examples(struct example *ex, int max)
{
	char *man = th_read_file(th_src("man/lisd.8"), NULL);
	if (!man)
		return -1;
	int n = -1, lineno = 0;
	bool in_ss = false, in_ex = false, in_cmd = false, in_heredoc = false;
	for (char *save = NULL, *l = strtok_r(man, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (strncmp(l, ".SS ", 4) == 0 || strncmp(l, ".SH ", 4) == 0) {
			if (in_ss)
				break;
			in_ss = strcmp(l, ".SS API examples") == 0;
			n = in_ss ? 0 : n;
			continue;
		}
		if (!in_ss)
			continue;
		if (strcmp(l, ".EX") == 0 && n < max) {
			in_ex = true;
			memset(&ex[n], 0, sizeof ex[n]);
			ex[n].line = lineno;
			continue;
		}
		if (strcmp(l, ".EE") == 0 && in_ex) {
			in_ex = in_cmd = in_heredoc = false;
			ex[n].get = !strstr(ex[n].cmd, " -X ") && !strstr(ex[n].cmd, " --data");
			n++;
			continue;
		}
		if (!in_ex)
			continue;
		char text[1024];
		unescape(l, text, sizeof text);
		if (strncmp(text, "$ ", 2) == 0 && !in_heredoc) {
			append(ex[n].cmd, sizeof ex[n].cmd, text + 2);
		} else if (in_cmd || in_heredoc) {
			append(ex[n].cmd, sizeof ex[n].cmd, text);
			if (in_heredoc && strcmp(text, "EOF") == 0)
				in_heredoc = false;
		} else {
			append(ex[n].out, sizeof ex[n].out, text);
		}
		size_t len = strlen(text);
		if (strstr(text, "<<'EOF'"))
			in_heredoc = true;
		in_cmd = !in_heredoc && len && text[len - 1] == '\\';
	}
	free(man);
	return n;
}

/* Output as the examples show it: JSON, then the HTTP status on the last line. */
static json_t *split_output(char *out, long *status)
{
	size_t n = strlen(out);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	char *last = strrchr(out, '\n');
	if (!last)
		return NULL;
	*last = '\0';
	*status = strtol(last + 1, NULL, 10);
	return json_loads(out, 0, NULL);
}

/* actual is what the example shows: the same members (no more, no fewer), the same values,
 * any time for a time. */
static bool json_like(const json_t *want, const json_t *got)
{
	if (json_is_string(want) && json_is_string(got) &&
	    th_is_datetime(json_string_value(want)))
		return th_is_datetime(json_string_value(got));
	if (json_is_object(want)) {
		const char *k;
		const json_t *v;
		if (!json_is_object(got) || json_object_size(want) != json_object_size(got))
			return false;
		json_object_foreach((json_t *)want, k, v)
			if (!json_like(v, json_object_get(got, k)))
				return false;
		return true;
	}
	if (json_is_array(want)) {
		if (!json_is_array(got) || json_array_size(want) != json_array_size(got))
			return false;
		for (size_t i = 0; i < json_array_size(want); i++)
			if (!json_like(json_array_get(want, i), json_array_get(got, i)))
				return false;
		return true;
	}
	return json_equal((json_t *)want, (json_t *)got);
}

struct example_run {
	const struct example *ex, *prelude;
	char *const *env;
	char got[8192];
};

/* Run the example in sh after its prelude; true when it printed what the page shows. */
static bool example_matches(void *ctx)
{
	struct example_run *x = ctx;
	char script[4096];
	snprintf(script, sizeof script, "%s%s", x->prelude->cmd, x->ex->cmd);
	char *const argv[] = {"/bin/sh", "-c", script, NULL};
	struct th_proc p;
	th_run(&p, argv, x->env, 60);
	snprintf(x->got, sizeof x->got, "%s%s", p.out ? p.out : "", p.err ? p.err : "");
	char want_text[sizeof x->ex->out], got_text[sizeof x->got];
	snprintf(want_text, sizeof want_text, "%s", x->ex->out);
	snprintf(got_text, sizeof got_text, "%s", p.out ? p.out : "");
	th_proc_free(&p);
	long want_status = 0, got_status = -1;
	json_t *want = split_output(want_text, &want_status);
	json_t *got = split_output(got_text, &got_status);
	bool ok = want && got && want_status == got_status && json_like(want, got);
	json_decref(want);
	json_decref(got);
	return ok;
}

/* lisd(8) shows each route of the API with a curl command and its output: run them all,
 * in order, as carol with a token of lisctl token issue, and compare. A GET waits (the
 * answer follows a write through the change feed); the writes run once. */
static void test_the_man_pages_api_examples_run_as_written(void)
{
	struct example ex[24];
	int n = read_examples(ex, 24);
	if (!CHECKF(n >= 10, "man/lisd.8 has %d API examples (its .SS API examples)", n))
		return;
	CHECKF(ex[0].out[0] == '\0' && ex[0].cmd[0], "the first example (line %d) is the "
	       "prelude: a command and no output", ex[0].line);
	char token[80], e_token[100], e_lis[100], e_ca[400];
	if (!issue("carol", "carol-soft", token, sizeof token))
		return;
	snprintf(e_token, sizeof e_token, "TOKEN=%s", token);
	snprintf(e_lis, sizeof e_lis, "LIS=%s", web_base);
	snprintf(e_ca, sizeof e_ca, "CURL_CA_BUNDLE=%s", E.tls.cert);
	char *const env[] = {e_token, e_lis, e_ca, NULL};
	/* every route of the API has its example */
	static const char *const routes[] = {
		"GET me", "GET locations", "POST locations", "PUT locations/", "DELETE locations/",
		"POST locations/ /current", "POST locations/ /confirm",
	};
	bool seen[sizeof routes / sizeof routes[0]] = {0};
	for (int i = 1; i < n; i++) {
		struct example_run x = {.ex = &ex[i], .prelude = &ex[0], .env = env};
		bool ok = ex[i].get ? th_wait_until(30, 100, example_matches, &x, NULL)
				    : example_matches(&x);
		if (!CHECKF(ok, "man/lisd.8:%d: %s printed: %s", ex[i].line, th_flat(ex[i].cmd),
			    th_flat(x.got)))
			continue;
		const char *m = ex[i].get ? "GET" : strstr(ex[i].cmd, "-X PUT") ? "PUT"
			       : strstr(ex[i].cmd, "-X DELETE") ? "DELETE" : "POST";
		const char *path = strstr(ex[i].cmd, "$LIS/api/v1/");
		char route[200] = "";
		if (path) {
			path += strlen("$LIS/api/v1/");
			size_t len = strcspn(path, " \n");
			const char *slash = memchr(path, '/', len);
			const char *action = slash ? memchr(slash + 1, '/', len - (size_t)(slash + 1 -
									      path)) : NULL;
			snprintf(route, sizeof route, "%s %.*s%s%.*s", m,
				 (int)(slash ? (size_t)(slash + 1 - path) : len), path,
				 action ? " " : "", action ? (int)(len - (size_t)(action - path)) : 0,
				 action ? action : "");
		}
		for (size_t k = 0; k < sizeof routes / sizeof routes[0]; k++)
			seen[k] |= strcmp(route, routes[k]) == 0;
	}
	for (size_t k = 0; k < sizeof routes / sizeof routes[0]; k++)
		CHECKF(seen[k], "man/lisd.8 has no API example of %s", routes[k]);
	/* what the examples did is carol's: audited as api, nothing of anybody else's */
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit WHERE "
			  "user_key = 'carol' AND via = 'api' AND who = 'carol'") >= 5);
}

static bool held_answers(void *ctx)
{
	(void)ctx;
	char *w = ck_which(&E, &E.lisd, ck_req(NULL, false), "127.0.0.10");
	bool ok = strcmp(w, "hq-410") == 0;
	free(w);
	return ok;
}

static void test_directory_down_says_so_and_held_answers_on(void)
{
	th_stop(slapd_pid);
	slapd_pid = 0;
	struct th_resp r;
	CHECK(signin("alice", "alice-pw", FROM_DOWN, &r) == 503);
	CHECKF(r.body && strstr(r.body, "The directory cannot be reached"), "%s",
	       th_flat(r.body));
	th_resp_free(&r);
	CHECK(held_answers(NULL));
	/* a signed-in user goes on */
	CHECK(web("GET", "/api/v1/me", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r)
	      == 200);
	th_resp_free(&r);
	CHECK(ck_log_has(&E.lisd, "event=signin", "result=directory_down", (char *)NULL));
	CHECK(ck_log_has(&E.lisd, "selfservice", "listen=127.0.0.1", (char *)NULL));
}

/* lisd stops cleanly, and (in a sanitizer build) said nothing of memory or undefined
 * behaviour while it served the page, the API and LDAP. */
static void test_lisd_stops_cleanly_with_no_sanitizer_report(void)
{
	int st = th_lisd_stop(&E.lisd);
	E.up = false;
	char *after = th_lisd_log(&E.lisd);
	CHECKF(st == 0, "lisd exit %d", st);
	CHECKF(after && !strstr(after, "Sanitizer") && !strstr(after, "runtime error:"), "%s",
	       th_flat(after ? after + (strlen(after) > 1400 ? strlen(after) - 1400 : 0) : ""));
	free(after);
}

static void test_sign_out_ends_the_session(void)
{
	struct th_resp r;
	char form[120];
	snprintf(form, sizeof form, "csrf=%s", alice.csrf);
	CHECK(web("POST", "/signout", FROM_ALICE, alice.cookie, NULL, NULL,
		  "application/x-www-form-urlencoded", form, &r) == 303);
	th_resp_free(&r);
	CHECK(web("GET", "/api/v1/me", FROM_ALICE, alice.cookie, NULL, NULL, NULL, NULL, &r)
	      == 401);
	th_resp_free(&r);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM web_session WHERE user_key = 'alice'")
	      == 1); /* the first sign-in's */
}

#define RUN(name) t_run(#name, test_##name)

int main(void)
{
	RUN(setup_slapd_wiremap_softphones_and_lisd);
	if (!E.up) {
		t_skip("self-service", "setup failed");
	} else {
		RUN(ldap_sign_in_sets_a_strict_host_only_session_cookie);
		RUN(wrong_password_is_refused_with_a_clear_message);
		RUN(ldap_search_mode_finds_the_dn_and_escapes_the_filter);
		RUN(too_many_sign_ins_get_429);
		RUN(writes_without_the_right_csrf_token_get_403);
		RUN(bad_input_gets_clear_json_errors_and_saves_nothing);
		RUN(declaration_through_the_api_answers_the_softphone_with_Manual);
		RUN(the_page_shows_what_each_device_would_send);
		RUN(a_user_can_neither_read_nor_change_another_users_locations);
		RUN(replace_pick_confirm_and_delete_through_the_api);
		RUN(a_due_declaration_is_answered_unconfirmed_until_confirmed);
		RUN(tokens_are_issued_used_and_revoked_with_lisctl);
		RUN(the_man_pages_api_examples_run_as_written);
		RUN(the_page_is_served_with_its_security_headers);
		RUN(a_deactivated_users_session_token_and_sign_in_are_refused);
		if (browser_kit_found())
			RUN(the_page_works_in_headless_chromium_on_a_phone);
		else
			t_skip("the_page_works_in_headless_chromium_on_a_phone", "no node, "
			       "chromium or tests/browser/node_modules (npm ci there)");
		RUN(directory_down_says_so_and_held_answers_on);
		RUN(sign_out_ends_the_session);
		RUN(lisd_stops_cleanly_with_no_sanitizer_report);
	}
	if (E.up)
		th_lisd_stop(&E.lisd);
	if (slapd_pid > 0)
		th_stop(slapd_pid);
	th_pg_stop(&E.pg);
	return t_done();
}
