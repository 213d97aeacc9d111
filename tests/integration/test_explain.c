/* lisctl explain: the administrator's test mode. For each kind of target it walks the same
 * snapshot lisd would, prints the evidence and the winner, and the exact PIDF-LO lisd would
 * send; exit 0 located, 3 not located, 1 error (2 usage). The PIDF-LO part is parsed and
 * checked by XPath like lisd's answers. */
#include "check.h"
#include "corr.h"
#include "schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ck_env E;
static bool db_up;

static void test_setup_wiremap(void)
{
	db_up = ck_db_setup(&E);
}

/* lisctl --db C explain ARGS...; at most 4 args after "explain". */
static void explain(struct th_proc *p, const char *a1, const char *a2, const char *a3,
		    const char *a4)
{
	th_lisctl(p, E.pg.conninfo, "explain", a1, a2, a3, a4, (char *)NULL);
}

/* The PIDF-LO in explain's output: from "<?xml" (or "<presence") to the last
 * "</presence>", validated as lisd's bodies are (tests/common/schema.h); what names the
 * case. NULL when there is none. */
static xmlDocPtr pidf_part(const char *out, const char *what)
{
	const char *b = strstr(out, "<?xml");
	if (!b)
		b = strstr(out, "<presence");
	if (!b)
		return NULL;
	const char *e = NULL;
	for (const char *p = b; (p = strstr(p, "</presence>")) != NULL; p++)
		e = p;
	if (!e)
		return NULL;
	size_t len = (size_t)(e + strlen("</presence>") - b);
	char desc[200];
	snprintf(desc, sizeof desc, "PIDF-LO printed by lisctl explain %s", what);
	CHECK_SCHEMA(b, len, desc);
	return xp_parse(b, len);
}

/* Some line names source as the winner ("won", "chosen", "winner", "answer"). */
static bool names_winner(const char *out, const char *source)
{
	bool found = false;
	char *copy = strdup(out);
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "<"))
			continue;
		char lower[1024];
		size_t n = 0;
		for (; line[n] && n + 1 < sizeof lower; n++)
			lower[n] = (char)tolower((unsigned char)line[n]);
		lower[n] = '\0';
		bool w = strstr(lower, "won") || strstr(lower, "chosen") || strstr(lower, "winner");
		found = w && strstr(lower, source);
	}
	free(copy);
	return found;
}

static void expect_located(const char *what, const char *a1, const char *a2, const char *a3,
			   const char *a4, const char *source, const char *loc_key,
			   const char *method, const char *mac12, bool fallback)
{
	struct th_proc p;
	explain(&p, a1, a2, a3, a4);
	CHECKF(p.status == 0, "%s: exit %d, stderr %s", what, p.status, th_flat(p.err));
	CHECKF(names_winner(p.out, source), "%s: no line names %s as the winner: %s", what, source,
	       th_flat(p.out));
	xmlDocPtr d = pidf_part(p.out, what);
	if (CHECKF(d != NULL, "%s: no well-formed PIDF-LO in: %s", what, th_flat(p.out))) {
		CHECK(xp_count(d, "/pidf:presence") == 1);
		ck_pidf(d, "/pidf:presence", loc_key, method, mac12, fallback);
	}
	xmlFreeDoc(d);
	th_proc_free(&p);
}

static void test_explain_ip_port_chain(void)
{
	expect_located("--ip 127.0.0.10", "--ip", "127.0.0.10", NULL, NULL, "port", "hq-410",
		       "Wiremap", NULL, false);
	/* the chain it walked: the MAC and the switch port appear */
	struct th_proc p;
	explain(&p, "--ip", "127.0.0.10", NULL, NULL);
	CHECKF(strstr(p.out, "00:50:b6:00:00:0a") && strstr(p.out, "Gi1/0/7"),
	       "chain not shown: %s", th_flat(p.out));
	th_proc_free(&p);
}

static void test_explain_mac_port_without_location_gives_switch(void)
{
	expect_located("--mac", "--mac", "00-50-B6-00-00-0B", NULL, NULL, "switch", "hq-floor4",
		       "Wiremap", NULL, false);
}

static void test_explain_sip_uri(void)
{
	expect_located("--uri", "--uri", "sip:alice@example.com", NULL, NULL, "port", "hq-420",
		       "Wiremap", NULL, false);
}

static void test_explain_tel_static(void)
{
	expect_located("--tel", "--tel", "tel:+15551230612", NULL, NULL, "static", "hq-612",
		       "Manual", NULL, false);
}

static void test_explain_reported_bssid(void)
{
	expect_located("--ip --bssid", "--ip", "127.0.0.13", "--bssid", "00-12-f0-a0-80-ef",
		       "client-bssid", "hq-ap-east", "802.11", NULL, false);
}

static void test_explain_subnet_fallback_shows_note(void)
{
	expect_located("--ip subnet", "--ip", "127.0.2.5", NULL, NULL, "subnet", "campus",
		       "Wiremap", NULL, true);
}

static void test_explain_site_default(void)
{
	expect_located("--ip site default", "--ip", "127.0.0.15", NULL, NULL, "site-default",
		       "hq-lobby", "Manual", NULL, true);
}

static void test_explain_lists_stale_evidence_and_does_not_use_it(void)
{
	expect_located("--ip stale", "--ip", "127.0.0.30", NULL, NULL, "bssid", "hq-ap-west",
		       "802.11", NULL, false);
	struct th_proc p;
	explain(&p, "--ip", "127.0.0.30", NULL, NULL);
	CHECKF(strstr(p.out, "stale") != NULL, "stale binding not shown as stale: %s",
	       th_flat(p.out));
	th_proc_free(&p);
}

static void test_explain_max_binding_age_option_makes_old_binding_evidence(void)
{
	/* ten days: the 3-day-old port binding of 127.0.0.30 counts again, and wins */
	expect_located("--max-binding-age", "--ip", "127.0.0.30", "--max-binding-age", "864000",
		       "port", "hq-410", "Wiremap", NULL, false);
}

/* lisctl reads [wiremap] max_binding_age from lis.conf, so that explain judges bindings as
 * the lisd using that file does; it reads the file through lisd's key table, so lisd's other
 * keys do not bother it and a bad value stops both programs with the same words. */
static void test_explain_takes_max_binding_age_from_the_config_file(void)
{
	char dir[] = "/tmp/lis-explain-conf.XXXXXX", conf[128];
	if (!CHECK(mkdtemp(dir) != NULL))
		return;
	snprintf(conf, sizeof conf, "%s/lis.conf", dir);
	FILE *f = fopen(conf, "w");
	if (!CHECK(f != NULL))
		return;
	fprintf(f, "[database]\nconninfo = %s\n[wiremap]\nmax_binding_age = 864000\n"
		"[server]\nport = 9443\n[querylog]\nenabled = false\n", E.pg.conninfo);
	fclose(f);
	struct th_proc p;
	char *const argv[] = {(char *)th_lisctl_path(), "-c", conf, "explain", "--ip", "127.0.0.30",
			      NULL};
	th_run(&p, argv, NULL, 30);
	CHECKF(p.status == 0, "exit %d, stderr %s", p.status, th_flat(p.err));
	CHECKF(names_winner(p.out, "port"), "the 3-day-old port binding did not win: %s",
	       th_flat(p.out));
	th_proc_free(&p);

	/* a bad value stops lisctl with file:line */
	f = fopen(conf, "w");
	if (CHECK(f != NULL)) {
		fprintf(f, "[database]\nconninfo = %s\n[wiremap]\nmax_binding_age = soon\n",
			E.pg.conninfo);
		fclose(f);
		th_run(&p, argv, NULL, 30);
		CHECKF(p.status == 2, "exit %d", p.status);
		char want[256];
		snprintf(want, sizeof want,
			 "lisctl: %s:4: max_binding_age: \"soon\" is not a whole number in "
			 "1..315360000\n", conf);
		CHECKF(strcmp(p.err, want) == 0, "want %s got: %s", want, th_flat(p.err));
		th_proc_free(&p);
		char *const lisd[] = {(char *)th_lisd_path(), "-c", conf, "--check-config", NULL};
		th_run(&p, lisd, NULL, 30);
		CHECKF(p.status == 2, "lisd exit %d", p.status);
		char lisd_want[256];
		snprintf(lisd_want, sizeof lisd_want, "lisd: %s", want + strlen("lisctl: "));
		CHECKF(strcmp(p.err, lisd_want) == 0, "want %s got: %s", lisd_want, th_flat(p.err));
		th_proc_free(&p);
	}
	unlink(conf);
	rmdir(dir);
}

static void test_explain_shows_disagreement(void)
{
	expect_located("--ip disagreement", "--ip", "127.0.0.40", NULL, NULL, "port", "hq-410",
		       "Wiremap", NULL, false);
	struct th_proc p;
	explain(&p, "--ip", "127.0.0.40", NULL, NULL);
	CHECKF(strstr(p.out, "disagree") != NULL, "no disagreement shown: %s", th_flat(p.out));
	th_proc_free(&p);
}

static void test_explain_not_located_exits_3(void)
{
	struct th_proc p;
	explain(&p, "--ip", "127.0.0.99", NULL, NULL);
	CHECKF(p.status == 3, "no evidence: exit %d", p.status);
	xmlDocPtr none = pidf_part(p.out, "--ip 127.0.0.99");
	CHECK(none == NULL);
	xmlFreeDoc(none);
	th_proc_free(&p);
	/* the site default exists but the site forbids it */
	explain(&p, "--ip", "127.0.0.16", NULL, NULL);
	CHECKF(p.status == 3, "forbidden default: exit %d", p.status);
	xmlDocPtr d = pidf_part(p.out, "--ip 127.0.0.16");
	CHECK(d == NULL);
	xmlFreeDoc(d);
	th_proc_free(&p);
	explain(&p, "--uri", "sip:nobody@example.com", NULL, NULL);
	CHECKF(p.status == 3, "unknown URI: exit %d", p.status);
	th_proc_free(&p);
}

static void test_explain_bad_target_exits_1_and_usage_exits_2(void)
{
	struct th_proc p;
	explain(&p, "--mac", "00:50:zz:00:00:0a", NULL, NULL);
	CHECKF(p.status == 1, "bad MAC: exit %d", p.status);
	CHECKF(p.err[0] != '\0', "bad MAC: nothing on stderr");
	th_proc_free(&p);
	explain(&p, "--ip", "not-an-address", NULL, NULL);
	CHECKF(p.status == 1, "bad IP: exit %d", p.status);
	th_proc_free(&p);
	explain(&p, NULL, NULL, NULL, NULL);
	CHECKF(p.status == 2, "no target: exit %d", p.status);
	th_proc_free(&p);
	th_lisctl(&p, "host=/nonexistent/socket/dir connect_timeout=2", "explain", "--ip",
		  "127.0.0.10", (char *)NULL);
	CHECKF(p.status == 1, "no database: exit %d", p.status);
	th_proc_free(&p);
}

/* lisctl verify EXPECTED.csv: the same walk for each row; PASS and FAIL lines with the
 * evidence, malformed rows named FILE:LINE:COL, the summary, exit 1 on any failure. */
static void test_verify_passes_fails_and_names_a_malformed_row(void)
{
	const char *dir = th_tmpdir("verify"); /* removed at exit */
	char path[600], good[600], bad_header[600];
	struct th_proc p;

	if (!CHECK(dir))
		return;
	snprintf(path, sizeof path, "%s/expected.csv", dir);
	snprintf(good, sizeof good, "%s/good.csv", dir);
	snprintf(bad_header, sizeof bad_header, "%s/header.csv", dir);
	th_write_file(path, "target,location\n"
			    "127.0.0.10,hq-410\n"
			    "sip:alice@example.com,hq-410\n"
			    "not-an-address,hq-410\n"
			    "127.0.0.99,-\n");
	th_lisctl(&p, E.pg.conninfo, "verify", path, (char *)NULL);
	CHECKF(p.status == 1, "exit %d: %s", p.status, th_flat(p.err));
	char want[4][700];
	snprintf(want[0], sizeof want[0], "PASS %s:2: ip 127.0.0.10 -> hq-410 (site hq) by "
		 "port\n", path);
	snprintf(want[1], sizeof want[1], "FAIL %s:3: uri sip:alice@example.com -> hq-420 "
		 "(site hq) by port, expected hq-410\n", path);
	snprintf(want[2], sizeof want[2], "%s:4:1: target \"not-an-address\" is not an IP "
		 "address, a MAC address, a SIP URI or a tel URI\n", path);
	snprintf(want[3], sizeof want[3], "PASS %s:5: ip 127.0.0.99 -> not located (", path);
	CHECKF(strstr(p.out, want[0]), "no %s in: %s", want[0], p.out);
	CHECKF(strstr(p.out, want[1]), "no %s in: %s", want[1], p.out);
	CHECKF(strstr(p.err, want[2]), "no %s in: %s", want[2], p.err);
	CHECKF(strstr(p.out, want[3]), "no %s in: %s", want[3], p.out);
	/* the evidence under the row, as explain words it */
	CHECKF(strstr(p.out, "Gi1/0/7 -> hq-410 (site hq): chosen\n"), "%s", p.out);
	CHECKF(strstr(p.out, "\n2 passed, 2 failed (1 malformed row)\n"), "%s", p.out);
	th_proc_free(&p);

	th_write_file(good, "location,target\nhq-612,tel:+15551230612\n");
	th_lisctl(&p, E.pg.conninfo, "verify", good, (char *)NULL);
	CHECKF(p.status == 0 && strstr(p.out, "PASS ") && strstr(p.out, "1 passed, 0 failed\n"),
	       "exit %d: %s %s", p.status, p.out, th_flat(p.err));
	th_proc_free(&p);

	th_write_file(bad_header, "taget,location\n127.0.0.10,hq-410\n");
	th_lisctl(&p, E.pg.conninfo, "verify", bad_header, (char *)NULL);
	CHECKF(p.status == 1 && strstr(p.err, "header.csv:1:1: unknown column \"taget\" (did you "
						 "mean \"target\"?)\n"),
	       "exit %d: %s", p.status, p.err);
	th_proc_free(&p);
	th_lisctl(&p, E.pg.conninfo, "verify", (char *)NULL);
	CHECKF(p.status == 2, "no file: exit %d", p.status);
	th_proc_free(&p);
}

int main(void)
{
	t_run("setup_wiremap", test_setup_wiremap);
	if (!db_up) {
		t_skip("explain cases", "setup failed");
		return t_done();
	}
	t_run("explain_ip_port_chain", test_explain_ip_port_chain);
	t_run("explain_mac_port_without_location_gives_switch",
	      test_explain_mac_port_without_location_gives_switch);
	t_run("explain_sip_uri", test_explain_sip_uri);
	t_run("explain_tel_static", test_explain_tel_static);
	t_run("explain_reported_bssid", test_explain_reported_bssid);
	t_run("explain_subnet_fallback_shows_note", test_explain_subnet_fallback_shows_note);
	t_run("explain_site_default", test_explain_site_default);
	t_run("explain_lists_stale_evidence_and_does_not_use_it",
	      test_explain_lists_stale_evidence_and_does_not_use_it);
	t_run("explain_max_binding_age_option_makes_old_binding_evidence",
	      test_explain_max_binding_age_option_makes_old_binding_evidence);
	t_run("explain_takes_max_binding_age_from_the_config_file",
	      test_explain_takes_max_binding_age_from_the_config_file);
	t_run("explain_shows_disagreement", test_explain_shows_disagreement);
	t_run("explain_not_located_exits_3", test_explain_not_located_exits_3);
	t_run("verify_passes_fails_and_names_a_malformed_row",
	      test_verify_passes_fails_and_names_a_malformed_row);
	t_run("explain_bad_target_exits_1_and_usage_exits_2",
	      test_explain_bad_target_exits_1_and_usage_exits_2);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
