/* SIGHUP reloads lisd's configuration instead of killing it (the signal's default action):
 * a configuration that loads is taken (the log level and a renewed TLS certificate at once,
 * other keys named as needing a restart), one that does not is refused with its reason and
 * the running one kept; lisd answers throughout. */
#include "check.h"
#include "corr.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <curl/curl.h>

static struct ck_env E;

static void test_setup_wiremap_and_lisd(void)
{
	ck_setup(&E, NULL);
}

struct log_ctx {
	const struct th_lisd *l;
	const char *a, *b;
};

static bool log_has(void *ctx)
{
	struct log_ctx *c = ctx;
	return ck_log_has(c->l, "reload", c->a, c->b, (char *)NULL);
}

/* Replace the first "from" in lisd's configuration file by "to". */
static bool edit_conf(const char *from, const char *to)
{
	char *s = th_read_file(E.lisd.conf, NULL);
	char *at = s ? strstr(s, from) : NULL;
	if (!CHECKF(at, "\"%s\" not in %s", from, E.lisd.conf)) {
		free(s);
		return false;
	}
	size_t n = strlen(s) + strlen(to) + 1;
	char *t = malloc(n);
	snprintf(t, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	bool ok = th_write_file(E.lisd.conf, t) == 0;
	free(s);
	free(t);
	return ok;
}

static void answers_hq_410(void)
{
	char *w = ck_which(&E, &E.lisd, ck_req("civic", false), "127.0.0.10");
	CHECK_STR(w, "hq-410");
	free(w);
}

static bool alive(void)
{
	return waitpid(E.lisd.pid, NULL, WNOHANG) == 0;
}

static void test_sighup_with_the_same_file_keeps_lisd_answering(void)
{
	CHECK(kill(E.lisd.pid, SIGHUP) == 0);
	struct log_ctx c = {&E.lisd, "result=ok", "restart_needed=-"};
	CHECKF(th_wait_until(60, 50, log_has, &c, NULL), "no \"reload result=ok\" line");
	CHECK(alive());
	answers_hq_410();
}

static void test_bad_configuration_is_refused_and_the_running_one_kept(void)
{
	if (!edit_conf("target = stderr\n", "target = stderr\nlevel = chatty\n"))
		return;
	CHECK(kill(E.lisd.pid, SIGHUP) == 0);
	struct log_ctx c = {&E.lisd, "result=refused", "kept=running"};
	CHECKF(th_wait_until(60, 50, log_has, &c, NULL), "no \"reload result=refused\" line");
	CHECK(ck_log_has(&E.lisd, "reload", "level", "chatty", (char *)NULL));
	CHECK(alive());
	answers_hq_410();
	edit_conf("level = chatty\n", "");
}

static void test_log_level_applies_and_other_keys_wait_for_a_restart(void)
{
	char from[64], to[64];
	snprintf(from, sizeof from, "port = %d", E.lisd.port);
	snprintf(to, sizeof to, "port = %d", E.lisd.port + 1);
	if (!edit_conf("target = stderr\n", "target = stderr\nlevel = debug\n") ||
	    !edit_conf(from, to))
		return;
	CHECK(kill(E.lisd.pid, SIGHUP) == 0);
	struct log_ctx c = {&E.lisd, "applied=log.level", "restart_needed=server.port"};
	CHECKF(th_wait_until(60, 50, log_has, &c, NULL), "no reload line naming both keys");
	/* still on the old port: the port waits for a restart */
	answers_hq_410();
	CHECK(alive());
}

static long post_on(CURL *h, const char *cafile, long *connects, int *code)
{
	return th_keepalive_post(h, &E.lisd, cafile, "127.0.0.10", ck_req(NULL, false),
				 connects, code);
}

/* The status of a POST on a new connection trusting only cafile. */
static long post_new(const char *cafile, int *code)
{
	CURL *h = curl_easy_init();
	long connects, st = post_on(h, cafile, &connects, code);
	curl_easy_cleanup(h);
	return st;
}

static bool copy_file(const char *from, const char *to)
{
	char *t = th_read_file(from, NULL);
	bool ok = t && th_write_file(to, t) == 0 && chmod(to, 0600) == 0;
	free(t);
	return CHECKF(ok, "copy %s to %s", from, to);
}

/* A renewed certificate and key, written over the files lisd serves: SIGHUP loads them, the
 * next handshake presents the new certificate, and a connection established before goes on
 * with the old one. A renewal whose key does not match is refused, the last good one kept. */
static void test_renewed_certificate_serves_the_next_handshake(void)
{
	struct th_tls renewed;
	char old_cert[400];
	if (!CHECK(th_tls_make(&renewed) == 0))
		return;
	snprintf(old_cert, sizeof old_cert, "%s/old-cert.pem", renewed.dir);
	if (!copy_file(E.tls.cert, old_cert))
		return;
	CURL *h = curl_easy_init();
	long connects;
	int code;
	CHECK(post_on(h, old_cert, &connects, &code) == 200 && connects == 1);
	if (!copy_file(renewed.cert, E.tls.cert) || !copy_file(renewed.key, E.tls.key))
		return;
	CHECK(kill(E.lisd.pid, SIGHUP) == 0);
	struct log_ctx t = {&E.lisd, "result=ok", "tls=renewed"};
	CHECKF(th_wait_until(60, 50, log_has, &t, NULL), "no \"reload ... tls=renewed\" line");
	/* the established connection is kept (and keeps its certificate) */
	CHECK(post_on(h, old_cert, &connects, &code) == 200);
	CHECKF(connects == 0, "the established connection was dropped (%ld new)", connects);
	curl_easy_cleanup(h);
	/* a new handshake presents the renewed certificate, and only it */
	CHECKF(post_new(renewed.cert, &code) == 200, "renewed: %s",
	       curl_easy_strerror((CURLcode)code));
	CHECKF(post_new(old_cert, &code) == 0 && code == CURLE_PEER_FAILED_VERIFICATION,
	       "the old certificate is still served: %s", curl_easy_strerror((CURLcode)code));

	/* the renewed certificate with a key that is not its own: refused, the good one kept */
	struct th_tls other;
	if (!CHECK(th_tls_make(&other) == 0) || !copy_file(other.key, E.tls.key))
		return;
	CHECK(kill(E.lisd.pid, SIGHUP) == 0);
	struct log_ctx r = {&E.lisd, "result=refused", "does not match"};
	CHECKF(th_wait_until(60, 50, log_has, &r, NULL), "mismatched key not refused");
	CHECKF(post_new(renewed.cert, &code) == 200, "after a refused renewal: %s",
	       curl_easy_strerror((CURLcode)code));
	CHECK(alive());
	CHECK(th_lisd_stop(&E.lisd) == 0);
}

int main(void)
{
	t_run("setup_wiremap_and_lisd", test_setup_wiremap_and_lisd);
	t_run("sighup_with_the_same_file_keeps_lisd_answering",
	      test_sighup_with_the_same_file_keeps_lisd_answering);
	t_run("bad_configuration_is_refused_and_the_running_one_kept",
	      test_bad_configuration_is_refused_and_the_running_one_kept);
	t_run("log_level_applies_and_other_keys_wait_for_a_restart",
	      test_log_level_applies_and_other_keys_wait_for_a_restart);
	t_run("renewed_certificate_serves_the_next_handshake",
	      test_renewed_certificate_serves_the_next_handshake);
	int rc = t_done();
	th_pg_stop(&E.pg);
	return rc;
}
