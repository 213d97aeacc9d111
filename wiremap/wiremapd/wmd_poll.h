/* One batch of SNMP polls: the due switches polled at once (wm_snmp_poll), each switch's
 * tables turned into bindings (wm_collect_bindings) and written in its own transaction
 * (db_collect_write, or db_collect_failed), one log line per switch. */
#ifndef WMD_POLL_H
#define WMD_POLL_H

#include <signal.h>
#include <stddef.h>

#include "db.h"
#include "db_collect.h"
#include "wmd_config.h"

struct wmd_poll_stats {
	size_t polled;          /* switches that got an answer or a failure recorded */
	size_t ok;              /* answered and written */
	size_t failed;          /* timeout, SNMP error, no profile, or the write failed */
	size_t not_polled;      /* stopped (SIGTERM) before their turn */
	size_t moves;
};

/* Poll sw[idx[0..k-1]] with the credentials of cfg's profiles. stop: see wm_snmp_poll().
 * Returns 0, or -1 with err filled when polling could not start at all. */
int wmd_poll(struct db_conn *db, const struct wmd_config *cfg, const struct db_poll_switch *sw,
	     const size_t *idx, size_t k, const volatile sig_atomic_t *stop,
	     struct wmd_poll_stats *st, struct lis_error *err);

#endif
