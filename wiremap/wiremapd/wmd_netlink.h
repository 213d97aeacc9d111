/* The kernel neighbour table -> ip-mac bindings (source 'netlink'): a thread of its own with
 * its own database connection, so that a long SNMP cycle never delays it. At start the
 * table is dumped; then events are gathered and written every [netlink] write_interval
 * seconds with db_collect_neighbors. While the database is away observations wait (up to a
 * bound; past it they are dropped and the table is dumped again once it is back). */
#ifndef WMD_NETLINK_H
#define WMD_NETLINK_H

#include "db.h"
#include "wmd_config.h"

struct wmd_netlink;

/* Subscribe, dump and start the thread. Call with the stop and reload signals blocked (the
 * thread inherits the mask). */
struct wmd_netlink *wmd_netlink_start(const struct wmd_config *cfg, struct lis_error *err);
/* Write what is pending (one try), stop the thread and free; NULL does nothing. */
void wmd_netlink_stop(struct wmd_netlink *n);

/* --once: dump the table and write it through db; *written gets the count. */
int wmd_netlink_once(struct db_conn *db, unsigned *written, struct lis_error *err);

#endif
