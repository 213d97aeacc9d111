/* Endpoint and user lifecycle (issue 11) end to end: a real PostgreSQL with the correlation
 * wiremap plus a VPN pool (127.0.8.0/24, a remote subnet), a real lisd, and lisctl as an
 * operator runs it. A deactivated desk phone is no longer answered with its static
 * location (lisd says why), and is again once reactivated, both by delta; a deactivated
 * user's declared address and VPN binding are never answered, the user's self-service
 * sessions end, and nothing is deleted; every change is in lifecycle_audit. And a VPN
 * binding or a declaration reaches lisd as a delta, not a full reload (migration 0012).
 * Onboarding: an import with class, owner and active, and the never-located report; the
 * declarations report and purge. */
#include "check.h"
#include "corr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ck_env E;
static char *home_file;

static void test_setup_wiremap_vpn_pool_and_lisd(void)
{
	if (!ck_setup(&E, NULL))
		return;
	CHECK(ck_import(&E, "--subnets", "prefix,location,description,remote\n"
			"127.0.8.0/24,,VPN pool,true\n"));
	home_file = strdup(ck_fixture("../declared/home.csv"));
}

#define LISCTL_OK(...) CK_LISCTL_OK(&E, __VA_ARGS__)

/* A change reaches lisd through the change feed: wait (a deadline, not a measure) until
 * the method of the answer from `from` is what. */
static bool eventually(const char *from, const char *what)
{
	struct ck_answer w = {&E, &E.lisd, from, what};
	return th_wait_until(30, 50, ck_answers_method, &w, NULL);
}

static void test_deactivated_desk_phone_loses_its_static_location_by_delta(void)
{
	/* 127.0.0.14 -> desk-612 (MAC 00:50:b6:00:06:12), no port seen: its static hq-612 */
	CHECKF(eventually("127.0.0.14", "Manual"), "desk-612 not answered with its static");
	int before = ck_loads(&E.lisd);
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "endpoint", "deactivate", "desk-612", (char *)NULL);
	ck_lisctl_ok("endpoint deactivate", &p);
	CHECKF(strstr(p.out, "endpoint desk-612 deactivated"), "%s", th_flat(p.out));
	th_proc_free(&p);
	CHECKF(eventually("127.0.0.14", "error:locationUnknown"),
	       "deactivated desk-612 still answered");
	char *body = ck_expect_error(&E, ck_req(NULL, false), "127.0.0.14", NULL,
				     "locationUnknown");
	CHECKF(strstr(body, "endpoint desk-612 is deactivated"), "%s", th_flat(body));
	free(body);
	CHECK(ck_log_has(&E.lisd, "requester=127.0.0.14 ", "deactivated=", "desk-612",
			 (char *)NULL));
	CHECKF(ck_loads(&E.lisd) == before, "a full load ran (%d -> %d) for one endpoint", before,
	       ck_loads(&E.lisd));
	/* the row stays, with when */
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM endpoint WHERE key = 'desk-612' AND NOT"
			  " active AND deactivated_at IS NOT NULL") == 1);
	/* twice is no error */
	th_lisctl(&p, E.pg.conninfo, "endpoint", "deactivate", "desk-612", (char *)NULL);
	ck_lisctl_ok("endpoint deactivate again", &p);
	CHECKF(strstr(p.out, "endpoint desk-612 was already deactivated"), "%s", th_flat(p.out));
	th_proc_free(&p);
}

static void test_reactivated_desk_phone_gets_its_static_location_again(void)
{
	int before = ck_loads(&E.lisd);
	LISCTL_OK("endpoint", "reactivate", "desk-612");
	CHECKF(eventually("127.0.0.14", "Manual"), "reactivated desk-612 not answered");
	CHECK(ck_loads(&E.lisd) == before);
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "endpoint", "history", "desk-612", (char *)NULL);
	ck_lisctl_ok("endpoint history", &p);
	CHECKF(strstr(p.out, "deactivate ") && strstr(p.out, "reactivate ") &&
	       strstr(p.out, " via lisctl from ") && strstr(p.out, "endpoint desk-612 is active"),
	       "%s", th_flat(p.out));
	th_proc_free(&p);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM lifecycle_audit WHERE kind = 'endpoint'"
			  " AND key = 'desk-612' AND via = 'lisctl'") == 2);
}

static void test_unknown_endpoint_is_an_error(void)
{
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "endpoint", "deactivate", "no-such", (char *)NULL);
	CHECKF(p.status == 1 && strstr(p.err, "no endpoint \"no-such\""), "exit %d: %s",
	       p.status, th_flat(p.err));
	th_proc_free(&p);
}

static void test_vpn_binding_and_declaration_are_deltas_not_reloads(void)
{
	int before = ck_loads(&E.lisd);
	LISCTL_OK("vpn-bind", "127.0.8.6", "bob", "--ttl", "3600");
	CHECKF(eventually("127.0.8.6", "error:locationUnknown"), "bob's VPN address located");
	LISCTL_OK("declare", "bob", "home", "--address-file", home_file, "--current");
	CHECKF(eventually("127.0.8.6", "Manual"), "bob's home not answered");
	CHECKF(ck_loads(&E.lisd) == before, "a full load ran (%d -> %d) for a VPN binding and a "
	       "declaration", before, ck_loads(&E.lisd));
	LISCTL_OK("vpn-unbind", "127.0.8.6");
	CHECKF(eventually("127.0.8.6", "error:locationUnknown"), "unbound address located");
	LISCTL_OK("vpn-bind", "127.0.8.6", "bob", "--ttl", "3600");
	CHECKF(eventually("127.0.8.6", "Manual"), "bob's home not answered again");
	CHECK(ck_loads(&E.lisd) == before);
}

static void test_deactivated_user_is_never_answered_and_loses_sessions(void)
{
	CHECK(th_pg_exec(&E.pg, "lis", "INSERT INTO web_session (id_hash, user_key, method, csrf,"
			 " from_addr, expires_at) VALUES (sha256('s1'), 'bob', 'oidc', 'c',"
			 " '127.0.0.1', now() + interval '1 hour')") == 0);
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "user", "deactivate", "bob", (char *)NULL);
	ck_lisctl_ok("user deactivate", &p);
	CHECKF(strstr(p.out, "user bob deactivated") &&
	       strstr(p.out, "ended 1 self-service session of user bob"), "%s", th_flat(p.out));
	th_proc_free(&p);
	CHECKF(eventually("127.0.8.6", "error:locationUnknown"),
	       "deactivated bob's declaration still answered");
	char *body = ck_expect_error(&E, ck_req(NULL, false), "127.0.8.6", NULL,
				     "locationUnknown");
	CHECKF(strstr(body, "off premises"), "%s", th_flat(body));
	free(body);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM web_session WHERE user_key = 'bob'") == 0);
	/* nothing else is deleted */
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location WHERE user_key = 'bob'")
	      == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM vpn_binding WHERE user_key = 'bob'") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM lis_user WHERE key = 'bob' AND NOT active"
			  " AND source = 'lisctl'") == 1);
	th_lisctl(&p, E.pg.conninfo, "explain", "--ip", "127.0.8.6", (char *)NULL);
	CHECKF(strstr(p.out, "user deactivated: not used") &&
	       strstr(p.out, "deactivated user: bob"), "%s", th_flat(p.out));
	th_proc_free(&p);
}

static void test_reactivated_user_is_answered_again_and_history_kept(void)
{
	LISCTL_OK("user", "reactivate", "bob");
	CHECKF(eventually("127.0.8.6", "Manual"), "reactivated bob not answered");
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "user", "history", "bob", (char *)NULL);
	ck_lisctl_ok("user history", &p);
	CHECKF(strstr(p.out, "deactivate ") && strstr(p.out, "reactivate ") &&
	       strstr(p.out, "user bob is active"), "%s", th_flat(p.out));
	th_proc_free(&p);
	/* a user without a row is active: reactivating creates the row and changes nothing */
	th_lisctl(&p, E.pg.conninfo, "user", "reactivate", "zoe", (char *)NULL);
	ck_lisctl_ok("user reactivate zoe", &p);
	CHECKF(strstr(p.out, "user zoe was already active"), "%s", th_flat(p.out));
	th_proc_free(&p);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM lis_user WHERE key = 'zoe' AND active")
	      == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM lifecycle_audit WHERE kind = 'user'"
			  " AND key = 'bob'") == 2);
}

/* Onboarding: a bulk import of new endpoints with class, owner and active; a routine
 * import without the column never reactivates; export writes it. */
static void test_import_onboards_with_class_owner_and_active(void)
{
	CHECK(ck_import(&E, "--endpoints", "endpoint,class,uri,owner,active\n"
			"nina-soft,softphone,sip:nina@example.com,nina,\n"
			"oscar-soft,softphone,sip:oscar@example.com,oscar,false\n"));
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM endpoint WHERE key = 'nina-soft' AND"
			  " active AND owner = 'nina' AND class = 'softphone'") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM endpoint WHERE key = 'oscar-soft' AND"
			  " NOT active AND deactivated_at IS NOT NULL") == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM lifecycle_audit WHERE key = 'oscar-soft'"
			  " AND op = 'deactivate'") == 1);
	CHECK(ck_import(&E, "--endpoints", "endpoint,class,uri,owner\n"
			"oscar-soft,softphone,sip:oscar@example.com,oscar\n"));
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM endpoint WHERE key = 'oscar-soft' AND"
			  " NOT active") == 1);
	char *dir = th_tmpdir("export"); /* the harness's: removed and freed at exit */
	if (!CHECK(dir != NULL))
		return;
	CK_LISCTL_OK(&E, "export", "--dir", dir);
	size_t n = strlen(dir) + 20;
	char *path = malloc(n);
	snprintf(path, n, "%s/endpoints.csv", dir);
	char *csv = th_read_file(path, NULL);
	CHECKF(csv && strstr(csv, ",active") &&
	       strstr(csv, "oscar-soft,softphone,,sip:oscar@example.com,,,oscar,false"),
	       "%s", th_flat(csv));
	free(csv);
	CK_LISCTL_OK(&E, "export", "--dir", dir, "--format", "json");
	snprintf(path, n, "%s/endpoints.json", dir);
	char *json = th_read_file(path, NULL);
	CHECKF(json && strstr(json, "\"owner\":\"oscar\",\"active\":false}"), "%s", th_flat(json));
	free(json);
	free(path);
}

static bool desk_612_logged(void *ctx)
{
	(void)ctx;
	return th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE result = 'located' AND"
			   " evidence LIKE '%(endpoint desk-612)%'") > 0;
}

static void test_never_located_report_lists_active_endpoints_lisd_never_located(void)
{
	CHECKF(th_wait_until(60, 50, desk_612_logged, NULL, NULL), "desk-612 not in query_log");
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "report", "never-located", (char *)NULL);
	ck_lisctl_ok("report never-located", &p);
	/* nina-soft was onboarded and never asked for; desk-612 was located; oscar-soft is
	 * not active */
	CHECKF(strstr(p.out, "endpoint,class,owner,mac,uri,tel,site,created_at") &&
	       strstr(p.out, "nina-soft,softphone,nina,,sip:nina@example.com,,,") &&
	       !strstr(p.out, "desk-612") && !strstr(p.out, "oscar-soft"), "%s",
	       th_flat(p.out));
	th_proc_free(&p);
	/* an offboarded endpoint is no coverage finding either */
	th_lisctl(&p, E.pg.conninfo, "report", "coverage", (char *)NULL);
	ck_lisctl_ok("report coverage", &p);
	CHECKF(strstr(p.out, "endpoints_unlocatable,nina-soft,") && !strstr(p.out, "oscar-soft"),
	       "%s", th_flat(p.out));
	th_proc_free(&p);
}

static void test_declarations_report_and_purge(void)
{
	/* bob: current home (softphone: confirm again every day), and an old hotel */
	CK_LISCTL_OK(&E, "declare", "bob", "hotel", "--address-file", home_file);
	CHECK(th_pg_exec(&E.pg, "lis", "UPDATE declared_location SET expires_at = now() -"
			 " interval '2 days' WHERE user_key = 'bob' AND label = 'hotel'") == 0);
	struct th_proc p;
	th_lisctl(&p, E.pg.conninfo, "report", "declarations", "--days", "2", "--format", "json",
		  (char *)NULL);
	ck_lisctl_ok("report declarations", &p);
	CHECKF(strstr(p.out, "\"declarations_expired\"") && strstr(p.out, "\"label\": \"hotel\"") &&
	       strstr(p.out, "\"declarations_due\"") &&
	       strstr(p.out, "\"due\": \"confirm again (class softphone: every 86400 s)\"") &&
	       strstr(p.out, "\"users_without_declaration\"") &&
	       strstr(p.out, "\"user\": \"nina\"") && !strstr(p.out, "\"user\": \"oscar\""),
	       "%s", th_flat(p.out));
	th_proc_free(&p);
	th_lisctl(&p, E.pg.conninfo, "declarations", "purge", "--expired-before", "2100-01-01",
		  "--dry-run", (char *)NULL);
	ck_lisctl_ok("declarations purge --dry-run", &p);
	CHECKF(strstr(p.out, "would delete 1 declaration expired before 2100-01-01"), "%s",
	       th_flat(p.out));
	th_proc_free(&p);
	th_lisctl(&p, E.pg.conninfo, "declarations", "purge", "--expired-before", "2100-01-01",
		  (char *)NULL);
	ck_lisctl_ok("declarations purge", &p);
	CHECKF(strstr(p.out, "deleted 1 declaration expired before 2100-01-01"), "%s",
	       th_flat(p.out));
	th_proc_free(&p);
	/* the current one stays, however old; the audit keeps the deleted one */
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location WHERE user_key = 'bob'")
	      == 1);
	CHECK(th_pg_count(&E.pg, "SELECT count(*) FROM declared_location_audit WHERE user_key ="
			  " 'bob' AND label = 'hotel' AND op = 'delete' AND via = 'lisctl'") == 1);
}

#define RUN(name) t_run(#name, test_##name)

int main(void)
{
	RUN(setup_wiremap_vpn_pool_and_lisd);
	if (!E.up) {
		t_skip("lifecycle", "setup failed");
	} else {
		RUN(deactivated_desk_phone_loses_its_static_location_by_delta);
		RUN(reactivated_desk_phone_gets_its_static_location_again);
		RUN(unknown_endpoint_is_an_error);
		RUN(vpn_binding_and_declaration_are_deltas_not_reloads);
		RUN(deactivated_user_is_never_answered_and_loses_sessions);
		RUN(reactivated_user_is_answered_again_and_history_kept);
		RUN(import_onboards_with_class_owner_and_active);
		RUN(never_located_report_lists_active_endpoints_lisd_never_located);
		RUN(declarations_report_and_purge);
	}
	if (E.up)
		th_lisd_stop(&E.lisd);
	th_pg_stop(&E.pg);
	free(home_file);
	return t_done();
}
