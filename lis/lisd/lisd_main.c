/* lisd: the HELD Location Information Server. Parses the configuration, starts the wiremap
 * loader and the HTTPS front, and waits for SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libxml/parser.h>

#include "lis_admin.h"
#include "lis_auth.h"
#include "lis_config.h"
#include "lis_held.h"
#include "lis_snapshot.h"
#include "lis_uri.h"
#include "lis_http.h"
#include "lis_conf.h"
#include "lis_log.h"
#include "lis_metrics.h"
#include "lis_priv.h"
#include "lis_strbuf.h"
#include "lis_notifier.h"
#include "lis_querylog.h"
#include "lis_tls.h"
#include "lis_web.h"
#include "lis_version.h"

/* SIGHUP: read the configuration (and the key files it names) again. A configuration that
 * does not load is refused and the running one kept; of one that loads, what can change in a
 * running lisd is applied (the log level; the TLS certificate and key when their paths or
 * files changed, served from the next handshake on), and every other key that changed is
 * named as taking effect at the next start. Answers and connections are not touched. */
/* The key files as lisd serves them: path and modification time. */
enum { KF_CERT, KF_KEY, KF_URI_KEY, KF_N };
static struct {
	char path[4096];
	struct timespec mtime;
} key_files[KF_N];

static void key_file_note(int i, const char *path)
{
	struct stat st;
	snprintf(key_files[i].path, sizeof key_files[i].path, "%s", path);
	if (path[0] && stat(path, &st) == 0)
		key_files[i].mtime = st.st_mtim;
}

/* Whether the file at path is not the one lisd started with (a renewed certificate). */
static bool key_file_changed(int i, const char *path)
{
	struct stat st;
	if (!path[0] || strcmp(path, key_files[i].path) != 0 || stat(path, &st) < 0)
		return false;      /* a changed path is named by its key */
	return st.st_mtim.tv_sec != key_files[i].mtime.tv_sec ||
	       st.st_mtim.tv_nsec != key_files[i].mtime.tv_nsec;
}

/* Whether path is another file than the one served, or the same one changed since. */
static bool key_file_differs(int i, const char *path)
{
	return strcmp(path, key_files[i].path) != 0 || key_file_changed(i, path);
}

static bool is_tls_key(const struct conftab_key *k)
{
	return strcmp(k->section, "server") == 0 &&
	       (strcmp(k->name, "tls_cert") == 0 || strcmp(k->name, "tls_key") == 0);
}

/* The self-service page's "if you call 911 now" (lis_web_hooks): the resolver's answer for
 * a user's device, named by what it has, as a request naming it would be answered. */
static int web_preview(const struct lis_web_device *dev, struct lis_web_answer *a)
{
	struct ident ids[4];
	size_t n = 0;
	const struct { enum ident_kind kind; const char *value; } have[] = {
		{IDENT_IP, dev->ip}, {IDENT_MAC, dev->mac}, {IDENT_SIP, dev->uri},
		{IDENT_TEL, dev->tel},
	};
	for (size_t i = 0; i < sizeof have / sizeof have[0]; i++)
		if (have[i].value && have[i].value[0] &&
		    ident_parse(have[i].kind, have[i].value, &ids[n]) == 0)
			n++;
	if (n == 0)
		return -1;
	struct lis_held_outcome oc;
	struct lis_held_preview pv;
	int rc = lis_held_preview(ids, n, &oc, &pv);
	snprintf(a->result, sizeof a->result, "%s", oc.result ? oc.result : "generalLisError");
	snprintf(a->source, sizeof a->source, "%s", oc.source ? oc.source : "none");
	snprintf(a->method, sizeof a->method, "%s", oc.method);
	a->fallback = oc.fallback;
	snprintf(a->note, sizeof a->note, "%s", pv.note);
	memset(a->civic, 0, sizeof a->civic);
	if (rc == 0) {
		_Static_assert(sizeof a->text == sizeof pv.text, "the address text is copied whole");
		memcpy(a->text, pv.text, sizeof a->text);
		for (int f = 0; f < CIVIC_N_FIELDS; f++)
			a->civic[f] = pv.civic[f] ? a->text + (pv.civic[f] - pv.text) : NULL;
	}
	return 0;
}

/* lisd gave up root ([server] user): the URI key file is root's and stays unread. A renewed
 * TLS certificate and key are read all the same: they must be readable by lisd's user (the
 * key's group, mode 0640), and the reload is refused, saying why, when they are not. */
static bool dropped;

static void reload(const struct lis_config *run, int argc, char **argv)
{
	struct lis_config next;
	struct lis_error err = { 0 };
	enum lis_config_action action;
	char *cert = NULL, *key = NULL, v[300];

	lis_log(LIS_LOG_INFO, "reload", "signal=HUP");
	int rc = lis_config_load(&next, argc, argv, stdout, &action, NULL, &err);
	bool tls = rc == 0 && (key_file_differs(KF_CERT, next.tls_cert) ||
			       key_file_differs(KF_KEY, next.tls_key));
	if (tls)
		rc = lis_config_load_tls(&next, &cert, &key, &err);
	if (tls && rc == 0)
		rc = lis_tls_set(cert, key, &err);
	lis_free_secret(cert);
	lis_free_secret(key);
	if (rc == 0 && !dropped && next.uri_key_file[0]) {
		struct lis_uri_key k;
		rc = lis_uri_key_load(next.uri_key_file, &k, &err);
		lis_uri_key_wipe(&k);
	}
	if (rc < 0) {
		lis_log(LIS_LOG_ERR, "reload", "result=refused reason=%s kept=running",
			lis_log_value(v, sizeof v, err.msg));
		lis_config_free(&next);
		return;
	}
	char applied[256] = "", later[1024] = "";
	for (size_t i = 0; i < lis_conf_table.n_keys; i++) {
		const struct conftab_key *k = &lis_conf_table.keys[i];
		if (conftab_same(k, run, &next) || is_tls_key(k))
			continue;
		bool live = k->type == CONFTAB_LOG_LEVEL;
		if (live)
			lis_log_set_level((enum lis_log_level)next.log_level);
		lis_strcatf(live ? applied : later, live ? sizeof applied : sizeof later, "%s%s.%s",
			    (live ? applied : later)[0] ? "," : "", k->section, k->name);
	}
	/* The TLS files now served; a new URI key file waits for a restart (URIs handed out
	 * would stop working). */
	if (tls) {
		key_file_note(KF_CERT, next.tls_cert);
		key_file_note(KF_KEY, next.tls_key);
	}
	if (key_file_changed(KF_URI_KEY, next.uri_key_file))
		lis_strcatf(later, sizeof later, "%sheld.uri_key_file(file)", later[0] ? "," : "");
	lis_log(LIS_LOG_INFO, "reload", "result=ok applied=%s tls=%s restart_needed=%s",
		applied[0] ? applied : "-", tls ? "renewed" : "unchanged",
		later[0] ? later : "-");
	lis_config_free(&next);
}

int main(int argc, char **argv)
{
	struct lis_config cfg;
	struct lis_error err = { 0 };
	enum lis_config_action action;
	const char *file = NULL;
	char *cert = NULL, *key = NULL, *client_ca = NULL;
	int rc = LIS_EXIT_OK;

	if (lis_config_load(&cfg, argc, argv, stdout, &action, &file, &err) < 0) {
		fprintf(stderr, "lisd: %s\n", err.msg);
		lis_config_free(&cfg);
		return LIS_EXIT_USAGE;
	}
	if (action == LIS_ACTION_HELP || action == LIS_ACTION_VERSION) {
		lis_config_free(&cfg);
		return LIS_EXIT_OK;
	}
	if (lis_config_load_tls(&cfg, &cert, &key, &err) < 0 || lis_tls_set(cert, key, &err) < 0) {
		fprintf(stderr, "lisd: %s\n", err.msg);
		rc = LIS_EXIT_USAGE;
		goto out;
	}
	/* GnuTLS holds the key now: no copy of its text is kept */
	lis_free_secret(key);
	key = NULL;
	if (lis_auth_init(&cfg, &client_ca, &err) < 0) {
		fprintf(stderr, "lisd: %s\n", err.msg);
		rc = LIS_EXIT_USAGE;
		goto out;
	}
	if (cfg.uri_key_file[0]) {
		/* Checked here so that a bad key file stops the start before anything runs. */
		struct lis_uri_key k;
		int krc = lis_uri_key_load(cfg.uri_key_file, &k, &err);
		lis_uri_key_wipe(&k);
		if (krc < 0) {
			fprintf(stderr, "lisd: %s\n", err.msg);
			rc = LIS_EXIT_USAGE;
			goto out;
		}
	}
	if (action == LIS_ACTION_CHECK && lis_querylog_check(&cfg, &err) < 0) {
		fprintf(stderr, "lisd: %s\n", err.msg);
		rc = LIS_EXIT_USAGE;
		goto out;
	}
	if (action == LIS_ACTION_CHECK) {
		printf("configuration OK\n");
		goto out;
	}

	key_file_note(KF_CERT, cfg.tls_cert);
	key_file_note(KF_KEY, cfg.tls_key);
	key_file_note(KF_URI_KEY, cfg.uri_key_file);
	/* Block the stop and reload signals before any thread starts, so that every thread
	 * inherits the mask and only sigwait() below receives them (SIGHUP's default action
	 * would kill lisd). */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	lis_log_init("lisd", (enum lis_log_target)cfg.log_target,
		     (enum lis_log_level)cfg.log_level);
	/* the line per answer goes out in batches (lisd(8) LOGGING) */
	if (cfg.log_target == LIS_LOG_STDERR)
		(void)lis_log_batch_start();
	/* libxml2 sets up its globals here, before worker threads parse requests. */
	xmlInitParser();
	lis_metrics_init();
	if (lis_held_init(&cfg, &err) < 0) {
		char v[300];
		lis_log(LIS_LOG_ERR, "start", "result=failed reason=%s",
			lis_log_value(v, sizeof v, err.msg));
		rc = lis_error_exit_status(&err);
		goto out_log;
	}
	/* Before any answer: every answer is logged (a spool that cannot be opened stops the
	 * start: the log would not be what it promises). */
	if (lis_querylog_start(&cfg, &err) < 0) {
		char v[300];
		lis_log(LIS_LOG_ERR, "start", "result=failed reason=%s",
			lis_log_value(v, sizeof v, err.msg));
		rc = LIS_EXIT_RUNTIME;
		goto out_held;
	}
	/* Emergency notifications: made from the query log's rows, sent by their own thread.
	 * Started as root: the webhook secret may be readable by root alone. */
	if (lis_notifier_start(&cfg, &err) < 0) {
		char v[300];
		lis_log(LIS_LOG_ERR, "start", "result=failed reason=%s",
			lis_log_value(v, sizeof v, err.msg));
		rc = lis_error_exit_status(&err);
		goto out_querylog;
	}
	/* The wiremap loads in the background: until it has, requests get generalLisError. */
	if (lis_snapshot_start(&cfg, &err) < 0) {
		char v[300];
		lis_log(LIS_LOG_ERR, "start", "result=failed reason=%s",
			lis_log_value(v, sizeof v, err.msg));
		rc = LIS_EXIT_RUNTIME;
		goto out_notifier;
	}
	struct lis_http *http = lis_http_start(&cfg, client_ca, &err);
	/* The admin listener: /healthz, /readyz, /metrics, with the same certificate. */
	struct lis_admin *admin = NULL;
	if (http && lis_admin_start(&cfg, &admin, &err) < 0) {
		lis_http_stop(http);
		http = NULL;
	}
	/* The self-service page and API, with the same certificate, on a port of its own. */
	struct lis_web *web = NULL;
	const struct lis_web_hooks web_hooks = {lis_tls_retrieve, LIS_HTTP_TLS_PRIORITIES,
						web_preview};
	if (http && lis_web_start(&cfg, &web_hooks, &web, &err) < 0) {
		lis_admin_stop(admin);
		admin = NULL;
		lis_http_stop(http);
		http = NULL;
	}
	if (!http) {
		char v[300];
		lis_log(LIS_LOG_ERR, "start", "result=failed reason=%s",
			lis_log_value(v, sizeof v, err.msg));
		rc = LIS_EXIT_RUNTIME;
		goto out_snapshot;
	}
	/* Bound, keys read, spool open: root is no longer needed. */
	const char *as = "-";
	if (cfg.user[0] || cfg.group[0]) {
		uid_t uid;
		gid_t gid;
		if (!cfg.user[0])
			lis_error_set(&err, LIS_E_USAGE, "[server] group needs [server] user");
		if (!cfg.user[0] || lis_priv_lookup(cfg.user, cfg.group, &uid, &gid, &err) < 0 ||
		    lis_querylog_give_to(uid, gid, &err) < 0 || lis_priv_drop(uid, gid, &err) < 0) {
			char v[300];
			lis_log(LIS_LOG_ERR, "start", "result=failed reason=%s",
				lis_log_value(v, sizeof v, err.msg));
			rc = lis_error_exit_status(&err);
			goto out_http;
		}
		dropped = true;
		as = cfg.user;
	}
	char path[300], conf[300], base[300], user[80];
	lis_log(LIS_LOG_INFO, "start",
		"version=%s listen=%s port=%lu path=%s tls=%s threads=%lu client_ca=%s "
		"third_party=%s uri_base=%s deref_auth=%s config=%s user=%s", LIS_VERSION,
		cfg.listen, cfg.port, lis_log_value(path, sizeof path, cfg.held_path),
		LIS_HTTP_TLS_VERSIONS, cfg.threads, client_ca ? "yes" : "no",
		lis_auth_configured() ? "allowed" : "refused",
		lis_log_value(base, sizeof base, cfg.uri_base[0] ? cfg.uri_base : "-"),
		cfg.deref_auth == LIS_DEREF_AUTHORIZED ? "authorized" : "possession",
		lis_log_value(conf, sizeof conf, file ? file : "-"),
		lis_log_value(user, sizeof user, as));
	if (admin)
		lis_log(LIS_LOG_INFO, "admin", "listen=%s port=%lu tls=%s paths=/healthz,/readyz,"
			"/metrics", cfg.admin_listen, cfg.admin_port, LIS_HTTP_TLS_VERSIONS);
	if (web)
		lis_log(LIS_LOG_INFO, "selfservice", "listen=%s port=%lu tls=%s ldap=%s oidc=%s",
			cfg.web_listen, cfg.web_port, LIS_HTTP_TLS_VERSIONS,
			cfg.ldap_uri[0] ? cfg.ldap_uri : "-",
			cfg.oidc_issuer[0] ? cfg.oidc_issuer : "-");

	int sig = 0;
	for (;;) {
		while (sigwait(&stop, &sig) != 0)
			;
		if (sig != SIGHUP)
			break;
		reload(&cfg, argc, argv);
	}
	lis_log(LIS_LOG_INFO, "stop", "signal=%s drain_s=%lu", sig == SIGTERM ? "TERM" : "INT",
		cfg.drain);
	if (cfg.drain > 0) {
		/* /readyz says 503 and lisd goes on answering for [server] drain seconds, so that
		 * a balancer's health check takes it out of rotation before its connections
		 * close; a second signal ends the wait. */
		lis_admin_set_draining();
		struct timespec t = {(time_t)cfg.drain, 0};
		sigset_t again;
		sigemptyset(&again);
		sigaddset(&again, SIGTERM);
		sigaddset(&again, SIGINT);
		if (sigtimedwait(&again, NULL, &t) > 0)
			lis_log(LIS_LOG_INFO, "stop", "drain=cut-short");
	}
out_http:
	lis_web_stop(web);
	lis_admin_stop(admin);
	lis_http_stop(http);
out_snapshot:
	lis_snapshot_stop();
out_notifier:
	lis_notifier_stop();
out_querylog:
	lis_querylog_stop();
out_held:
	lis_held_shutdown();
	if (rc == LIS_EXIT_OK)
		lis_log(LIS_LOG_INFO, "stopped", "result=ok");
out_log:
	xmlCleanupParser();
	lis_log_batch_stop();
	lis_log_close();
out:
	lis_tls_shutdown();
	lis_auth_shutdown();
	free(client_ca);
	lis_free_secret(key);
	free(cert);
	lis_config_free(&cfg);
	return rc;
}
