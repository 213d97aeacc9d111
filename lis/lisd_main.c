/* lisd: the HELD Location Information Server. Parses the configuration, starts the HTTPS
 * front and waits for SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "lis_config.h"
#include "lis_held.h"
#include "lis_http.h"
#include "lis_log.h"
#include "lis_version.h"

int main(int argc, char **argv)
{
	struct lis_config cfg;
	struct lis_error err = { 0 };
	enum lis_config_action action;
	const char *file = NULL;
	char *cert = NULL, *key = NULL;
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

	lis_log_init((enum lis_log_target)cfg.log_target, (enum lis_log_level)cfg.log_level);
	/* libxml2 sets up its globals here, before worker threads parse requests. */
	xmlInitParser();
	if (lis_held_init(&cfg) < 0) {
		lis_log(LIS_LOG_ERR, "start", "result=failed reason=\"cannot create thread key\"");
		rc = LIS_EXIT_RUNTIME;
		goto out;
	}
	struct lis_http *http = lis_http_start(&cfg, cert, key, &err);
	lis_free_secret(key);
	key = NULL;
	if (!http) {
		char v[300];
		lis_log(LIS_LOG_ERR, "start", "result=failed reason=%s",
			lis_log_value(v, sizeof v, err.msg));
		rc = LIS_EXIT_RUNTIME;
		goto out_held;
	}
	char path[300], conf[300];
	lis_log(LIS_LOG_INFO, "start",
		"version=%s listen=%s port=%lu path=%s tls=%s threads=%lu config=%s", LIS_VERSION,
		cfg.listen, cfg.port, lis_log_value(path, sizeof path, cfg.held_path),
		LIS_HTTP_TLS_VERSIONS, cfg.threads,
		lis_log_value(conf, sizeof conf, file ? file : "-"));

	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	lis_log(LIS_LOG_INFO, "stop", "signal=%s", sig == SIGTERM ? "TERM" : "INT");
	lis_http_stop(http);
	lis_log(LIS_LOG_INFO, "stopped", "result=ok");
out_held:
	lis_held_shutdown();
	xmlCleanupParser();
	lis_log_close();
out:
	lis_free_secret(key);
	free(cert);
	lis_config_free(&cfg);
	return rc;
}
