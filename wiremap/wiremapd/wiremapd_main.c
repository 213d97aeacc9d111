/* wiremapd: the collector that keeps the wiremap's bindings current over SNMP and netlink.
 * Parses the configuration and hands over to the main loop (wmd_run.c). */
#include <stdio.h>

#include "wmd_config.h"
#include "wmd_run.h"

int main(int argc, char **argv)
{
	struct wmd_config cfg;
	struct lis_error err = { 0 };
	enum wmd_action action;
	const char *file = NULL;

	if (wmd_config_load(&cfg, argc, argv, stdout, &action, &file, &err) < 0) {
		fprintf(stderr, "wiremapd: %s\n", err.msg);
		wmd_config_free(&cfg);
		return lis_error_exit_status(&err);
	}
	if (action == WMD_ACTION_HELP || action == WMD_ACTION_VERSION) {
		wmd_config_free(&cfg);
		return WMD_EXIT_OK;
	}
	if (action == WMD_ACTION_CHECK) {
		printf("configuration OK\n");
		wmd_config_free(&cfg);
		return WMD_EXIT_OK;
	}
	return wmd_run(&cfg, action, file, argc, argv);
}
