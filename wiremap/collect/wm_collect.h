/* One switch's raw SNMP tables (wm_snmp.h) -> observations for the wiremap: which MAC sits
 * on which port, which IP has which MAC, which LLDP neighbour is on which port. Uplink and
 * trunk ports (an LLDP neighbour that is a bridge/router, or more learned MACs than the
 * policy's threshold) are recognised, listed, and their MACs left out. No database. */
#ifndef WM_COLLECT_H
#define WM_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lis_error.h"
#include "wm_snmp.h"

struct wm_collect_policy {
	unsigned uplink_mac_threshold;  /* a port with more learned MACs than this is an
	                                 * uplink/trunk; 0: no threshold (LLDP only) */
};

/* A MAC learned on a port (status learned(3)). Q-BRIDGE rows are used when the switch has
 * any, else BRIDGE-MIB rows; the same MAC in several VLANs on one port is listed once. */
struct wm_obs_mac_port {
	uint8_t mac[6];
	char *port_id;                  /* ifName; else the LLDP local port ID; else ifDescr;
	                                 * else "bridge-port-N" */
	long if_index;                  /* 0: the bridge port had no ifIndex */
};

/* An ARP/ND entry of type dynamic, static or other (never invalid or local), with a
 * 6-octet physical address. Both IP-MIB tables; an address seen in both is listed once. */
struct wm_obs_ip_mac {
	char *ip;                       /* "127.0.0.50", "2001:db8::50" */
	uint8_t mac[6];
	bool is_static;
};

/* One lldpRemTable row, decoded (wm_lldp.h); field names as in db_obs_lldp. */
struct wm_obs_lldp {
	char *local_port_id;            /* our port, named as for wm_obs_mac_port */
	const char *chassis_subtype;    /* static: wm_lldp_chassis_subtype_name() */
	char *chassis_id;
	const char *port_subtype;       /* static: wm_lldp_port_subtype_name() */
	char *port_id;
	char *sys_name;                 /* NULL: absent or empty */
	char *sys_capabilities;         /* enabled caps ("bridge,router"); NULL: none reported */
	bool is_network_device;
	char *med[LLDP_MED_N];          /* LLDP-MED, by enum lldp_med_field, decoded as
	                                 * lldp_med.h says; NULL: absent */
};

/* An uplink/trunk port, and why. */
struct wm_uplink {
	char *port_id;
	unsigned macs;                  /* learned MACs on it (all left out) */
	bool by_lldp;                   /* a bridge/router neighbour */
	bool by_threshold;              /* macs > uplink_mac_threshold */
};

/* Everything owned by the result; free with wm_collect_result_free(). */
struct wm_collect_result {
	char *sys_name;                 /* NULL: absent */
	struct wm_obs_mac_port *mac_ports; size_t n_mac_ports;
	struct wm_obs_ip_mac *ip_macs;     size_t n_ip_macs;
	struct wm_obs_lldp *lldp;          size_t n_lldp;
	struct wm_uplink *uplinks;         size_t n_uplinks;   /* ordered by port_id */
	size_t skipped;                 /* rows left out: not learned, invalid, bad MAC, ... */
};

/* Fill out (zeroed first) from t. Returns 0, or -1 with err filled (out of memory; then out
 * holds nothing). Odd rows are skipped and counted, never an error. */
int wm_collect_bindings(const struct wm_switch_tables *t, const struct wm_collect_policy *p,
			struct wm_collect_result *out, struct lis_error *err);
/* Free what r holds and zero it; NULL does nothing. */
void wm_collect_result_free(struct wm_collect_result *r);

/* The name wm_collect_bindings() gives an ifIndex (ifName, else the LLDP local port ID of
 * lldpLocPortNum == ifIndex, else ifDescr), written into buf (WM_LLDP_TEXT_MAX is enough);
 * returns buf, or NULL if the switch names that ifIndex nowhere. */
const char *wm_collect_port_name(const struct wm_switch_tables *t, long if_index, char *buf,
				 size_t size);

#endif
