/* The collector's SQL (wiremapd): which switches to poll, and what one poll saw.
 * A poll's observations are written in one transaction as upserts, so a restart loses
 * nothing and a repeated write duplicates nothing: writing the same observations again only
 * moves last_seen (and with the same `at`, changes nothing at all). Bindings go to the
 * issue-3 binding tables, whose statement triggers NOTIFY lisd; switch_poll_status,
 * lldp_neighbor and mac_move are not wiremap inputs and notify nobody. */
#ifndef DB_COLLECT_H
#define DB_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lis_error.h"
#include "lldp_med.h"

struct db_conn;

/* A switch to poll, with its poll status; strings owned by the array. */
struct db_poll_switch {
	long long id;
	char *key;                  /* the switch's name in the wiremap */
	char *address;              /* mgmt_address as text, "10.1.3.12" / "2001:db8::12" */
	char *snmp_profile;         /* a [snmp.NAME] profile of wiremapd.conf; NULL: [snmp] */
	unsigned snmp_port;         /* UDP port, 161 unless set */
	unsigned poll_interval;     /* seconds; 0: the configuration's [poll] interval */
	time_t last_attempt;        /* 0: never polled */
	time_t last_success;        /* 0: never answered */
	int consecutive_failures;   /* since the last success; drives the backoff */
};

/* Every switch with a mgmt_address and poll_enabled, ordered by key. On success *out is an
 * array of *n (NULL when *n is 0), freed with db_collect_switches_free. */
int db_collect_switches(struct db_conn *c, struct db_poll_switch **out, size_t *n,
			struct lis_error *err);
void db_collect_switches_free(struct db_poll_switch *sw, size_t n);

/* Observations. Strings are borrowed for the call. */
struct db_obs_mac_port {          /* a MAC in a switch's forwarding table */
	uint8_t mac[6];
	const char *port_id;        /* as the wiremap names ports: ifName (or LLDP port ID) */
};
struct db_obs_ip_mac {            /* an ARP / neighbour-table entry */
	const char *ip;             /* a host address in text, IPv4 or IPv6 */
	uint8_t mac[6];
};
struct db_obs_lldp {              /* one lldpRemTable row, decoded */
	const char *local_port_id;  /* our port it was heard on (same naming as port_id) */
	const char *chassis_subtype, *chassis_id;   /* e.g. "macAddress", "00:11:22:33:44:55" */
	const char *port_subtype, *port_id;         /* e.g. "interfaceName", "Gi1/0/1" */
	const char *sys_name, *sys_capabilities;    /* NULL: absent */
	bool is_network_device;     /* bridge/router capability: an uplink, not a desk */
	const char *med[LLDP_MED_N];  /* LLDP-MED, by enum lldp_med_field: the lldp_neighbor
	                               * columns of lldp_med.h; NULL: absent */
};

/* Everything one poll of one switch saw. The caller has already left uplink/trunk ports
 * out of mac_ports (they are listed in uplink_ports, for the status only). Duplicates
 * (the same MAC on the same port in several VLANs) are fine. */
struct db_switch_poll {
	long long switch_id;
	time_t at;                  /* observation time: last_seen of everything written */
	const char *source;         /* binding source; NULL: "snmp" */
	const char *collector;      /* switch_poll_status.polled_by: [collector] instance */
	const struct db_obs_mac_port *mac_ports; size_t n_mac_ports;
	const struct db_obs_ip_mac *ip_macs;     size_t n_ip_macs;
	const struct db_obs_lldp *lldp;          size_t n_lldp;
	const char *const *uplink_ports;         size_t n_uplinks;
};

/* What a write did (added to, never reset: one struct can sum a cycle). */
struct db_collect_stats {
	size_t inserted;            /* bindings new to the database */
	size_t updated;             /* bindings already known, last_seen (or source) moved */
	size_t moves;               /* mac_move rows written */
};

/* Write one poll in one transaction: all or nothing.
 * - Moves first: a MAC whose newest mac-port binding (by last_seen, not newer than `at`) is
 *   on another (switch, port) than every port this poll saw it on gets one mac_move row.
 * - Bindings (mac-port on this switch, ip-mac) upserted: first_seen kept, last_seen = the
 *   later of stored and `at`, source set. lldp_neighbor likewise (NULL chassis/port IDs
 *   are stored as "").
 * - switch_poll_status: last_attempt = last_success = at, last_error NULL,
 *   consecutive_failures 0, rows_seen = n_mac_ports + n_ip_macs + n_lldp, uplink_ports,
 *   polled_by = collector.
 * A switch deleted since db_collect_switches fails with DB_E_INPUT. st may be NULL. */
int db_collect_write(struct db_conn *c, const struct db_switch_poll *poll,
		     struct db_collect_stats *st, struct lis_error *err);

/* Record a failed poll: last_attempt = at, last_error = error, consecutive_failures + 1,
 * polled_by = collector (NULL: none); last_success and rows_seen are kept. `error` is
 * stored and shown to operators: the caller must make sure it holds no credential (no
 * community, user key or password). */
int db_collect_failed(struct db_conn *c, long long switch_id, time_t at, const char *error,
		      const char *collector, struct lis_error *err);

/* IP -> MAC observations from the kernel neighbour table (netlink), upserted in one
 * transaction as db_collect_write does; source NULL: "netlink". st may be NULL. */
int db_collect_neighbors(struct db_conn *c, const struct db_obs_ip_mac *obs, size_t n,
			 time_t at, const char *source, struct db_collect_stats *st,
			 struct lis_error *err);

#endif
