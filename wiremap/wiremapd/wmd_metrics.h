/* wiremapd's metrics ([metrics] textfile, wiremapd(8) METRICS): polls by switch and outcome,
 * bindings written, cycles and their time, the collector lease role, counted in memory and
 * written after every cycle and every change of role to a file in the Prometheus text
 * format, whole or not at all (a temporary file renamed over it), for node_exporter's
 * textfile collector or any scraper that reads files. */
#ifndef WMD_METRICS_H
#define WMD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "lis_error.h"

/* Note the start time (before any thread runs). */
void wmd_metrics_init(void);
/* One switch polled: outcome "ok", "timeout" or "error" (as result= in the log line); on
 * "ok" the observations written: MAC -> port, IP -> MAC, LLDP neighbours. */
void wmd_metrics_poll(const char *switch_key, const char *outcome, size_t mac_ports,
		      size_t ip_macs, size_t lldp);
/* The collector's role (wiremapd(8) LEASE): leader polls, a follower waits; changed: it
 * took or lost the lease just now. */
void wmd_metrics_leader(bool leader, bool changed);
/* One cycle ended: it took seconds. */
void wmd_metrics_cycle(double seconds);
/* Write the file at path (atomically). -1 with err filled when it cannot be written. */
int wmd_metrics_write(const char *path, struct lis_error *err);
/* Free what the counters hold (at exit). */
void wmd_metrics_free(void);

#endif
