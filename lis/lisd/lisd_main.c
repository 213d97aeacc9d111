/* lisd: the HELD Location Information Server. Parses the configuration, starts the wiremap
 * loader and the HTTPS front, and waits for SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "lis_auth.h"
#include "lis_config.h"
#include "lis_held.h"
#include "lis_snapshot.h"
#include "lis_uri.h"
#include "lis_http.h"
#include "lis_log.h"
#include "lis_querylog.h"
#include "lis_version.h"

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
	if (lis_config_load_tls(&cfg, &cert, &key, &err) < 0) {
		fprintf(stderr, "lisd: %s\n", err.msg);
		lis_config_free(&cfg);
		return LIS_EXIT_USAGE;
	}
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

	/* Block the stop signals before any thread starts, so that every thread inherits the
	 * mask and only sigwait() below receives them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	lis_log_init("lisd", (enum lis_log_target)cfg.log_target,
		     (enum lis_log_level)cfg.log_level);
	/* libxml2 sets up its globals here, before worker threads parse requests. */
	xmlInitParser();
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
	/* The wiremap loads in the background: until it has, requests get generalLisError. */
	if (lis_snapshot_start(&cfg, &err) < 0) {
		char v[300];
		lis_log(LIS_LOG_ERR, "start", "result=failed reason=%s",
			lis_log_value(v, sizeof v, err.msg));
		rc = LIS_EXIT_RUNTIME;
		goto out_querylog;
	}
	struct lis_http *http = lis_http_start(&cfg, cert, key, client_ca, &err);
	lis_free_secret(key);
	key = NULL;
	if (!http) {
		char v[300];
		lis_log(LIS_LOG_ERR, "start", "result=failed reason=%s",
			lis_log_value(v, sizeof v, err.msg));
		rc = LIS_EXIT_RUNTIME;
		goto out_snapshot;
	}
	char path[300], conf[300], base[300];
	lis_log(LIS_LOG_INFO, "start",
		"version=%s listen=%s port=%lu path=%s tls=%s threads=%lu client_ca=%s "
		"third_party=%s uri_base=%s deref_auth=%s config=%s", LIS_VERSION,
		cfg.listen, cfg.port, lis_log_value(path, sizeof path, cfg.held_path),
		LIS_HTTP_TLS_VERSIONS, cfg.threads, client_ca ? "yes" : "no",
		lis_auth_configured() ? "allowed" : "refused",
		lis_log_value(base, sizeof base, cfg.uri_base[0] ? cfg.uri_base : "-"),
		cfg.deref_auth == LIS_DEREF_AUTHORIZED ? "authorized" : "possession",
		lis_log_value(conf, sizeof conf, file ? file : "-"));

	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	lis_log(LIS_LOG_INFO, "stop", "signal=%s", sig == SIGTERM ? "TERM" : "INT");
	lis_http_stop(http);
out_snapshot:
	lis_snapshot_stop();
out_querylog:
	lis_querylog_stop();
out_held:
	lis_held_shutdown();
	if (rc == LIS_EXIT_OK)
		lis_log(LIS_LOG_INFO, "stopped", "result=ok");
out_log:
	xmlCleanupParser();
	lis_log_close();
out:
	lis_auth_shutdown();
	free(client_ca);
	lis_free_secret(key);
	free(cert);
	lis_config_free(&cfg);
	return rc;
}
