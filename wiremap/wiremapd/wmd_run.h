/* wiremapd's main loop: signals, the database connection (reconnected with backoff), the
 * switch list, the schedule, the batches of polls, the neighbour thread, reloads. */
#ifndef WMD_RUN_H
#define WMD_RUN_H

#include "wmd_config.h"

/* Run until SIGTERM/SIGINT (or one cycle for WMD_ACTION_ONCE). cfg is owned from here on
 * (a reload replaces it; argc/argv are read again then). Returns the exit status. */
int wmd_run(struct wmd_config *cfg, enum wmd_action action, const char *config_file,
	    int argc, char **argv);

#endif
