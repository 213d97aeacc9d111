/* Asynchronous SNMP polling of many switches at once (net-snmp's single-session API).
 * One wm_snmp_poll() call polls a list of switches: up to `concurrency` in flight, each
 * switch's table walks one after the other (GETBULK, SNMPv2c or SNMPv3), and fills one
 * struct wm_switch_tables per switch with the raw rows it saw. No database, no logging:
 * errors are words in the result, and never contain a community or a password. */
#ifndef WM_SNMP_H
#define WM_SNMP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lis_error.h"
#include "lldp_med.h"

/* Credentials for one switch. Borrowed for the poll; never copied into a message. */
struct wm_snmp_cred {
	int version;              /* 2 (SNMPv2c) or 3 (SNMPv3 USM) */
	const char *community;    /* v2c */
	const char *user;         /* v3 securityName */
	const char *auth_proto;   /* v3: "SHA" (SHA-1), "SHA-224", "SHA-256", "SHA-384", "SHA-512",
	                           * "MD5"; NULL or "": noAuthNoPriv */
	const char *auth_pass;
	const char *priv_proto;   /* v3: "AES" (AES-128 CFB), "DES"; NULL or "": authNoPriv */
	const char *priv_pass;
	const char *context;      /* v3 contextName; NULL or "": the default context */
};

/* One switch to poll. Everything borrowed for the duration of wm_snmp_poll(). */
struct wm_snmp_target {
	const char *name;         /* for messages: "switch NAME (ADDRESS)" */
	const char *address;      /* IPv4 or IPv6 literal, or a host name */
	unsigned port;            /* UDP port; 0: 161 */
	const struct wm_snmp_cred *cred;
	unsigned timeout_ms;      /* per request; 0: 2000 */
	unsigned retries;         /* resends after the first try (tries = retries + 1) */
	void *user;               /* handed back untouched */
};

/* A string of octets exactly as the agent sent it (not NUL-terminated data, but data[len]
 * is 0 so that text can be read directly). data is NULL when len is 0 and absent. */
struct wm_octets {
	unsigned char *data;
	size_t len;
};

/* LLDP-MIB lldpLocPortTable (1.0.8802.1.1.2.1.3.7): our own ports as LLDP names them. */
struct wm_lldp_loc_port {
	long port_num;            /* lldpLocPortNum: the lldpRemLocalPortNum of remote rows */
	int id_subtype;           /* lldpLocPortIdSubtype (port subtypes, 0 = absent) */
	struct wm_octets id;      /* lldpLocPortId */
	struct wm_octets desc;    /* lldpLocPortDesc */
};

/* LLDP-MIB lldpRemTable (1.0.8802.1.1.2.1.4.1) joined with the LLDP-EXT-MED-MIB columns of
 * lldp_med.h on the same index. */
struct wm_lldp_rem {
	long time_mark, local_port_num, index;
	int chassis_subtype;      /* 0 = absent */
	struct wm_octets chassis_id;
	int port_subtype;         /* 0 = absent */
	struct wm_octets port_id;
	struct wm_octets port_desc, sys_name, sys_desc;
	struct wm_octets caps_supported, caps_enabled;   /* LldpSystemCapabilitiesMap BITS */
	struct wm_octets med[LLDP_MED_N];   /* by enum lldp_med_field; absent: len 0 */
};

/* IF-MIB: ifDescr (1.3.6.1.2.1.2.2.1.2), ifName (.31.1.1.1.1), ifAlias (.31.1.1.1.18). */
struct wm_if {
	long if_index;
	struct wm_octets name, descr, alias;
};

/* BRIDGE-MIB dot1dBasePortIfIndex (1.3.6.1.2.1.17.1.4.1.2): bridge port -> ifIndex. */
struct wm_bridge_port {
	long port;
	long if_index;
};

/* A forwarding-table row: BRIDGE-MIB dot1dTpFdbTable (1.3.6.1.2.1.17.4.3.1) or Q-BRIDGE-MIB
 * dot1qTpFdbTable (1.3.6.1.2.1.17.7.1.2.2.1). The MAC comes from the index. */
enum wm_fdb_status { WM_FDB_OTHER = 1, WM_FDB_INVALID = 2, WM_FDB_LEARNED = 3, WM_FDB_SELF = 4,
		     WM_FDB_MGMT = 5 };
struct wm_fdb {
	long fdb_id;              /* Q-BRIDGE dot1qFdbId; 0 for BRIDGE-MIB rows */
	uint8_t mac[6];
	long port;                /* bridge port (dot1dBasePort); 0: unknown */
	int status;               /* enum wm_fdb_status; 0: not reported */
};

/* IP-MIB ipNetToPhysicalTable (1.3.6.1.2.1.4.35.1, IPv4 and IPv6) or the older
 * ipNetToMediaTable (1.3.6.1.2.1.4.22.1, IPv4). The address comes from the index. */
enum wm_arp_type { WM_ARP_OTHER = 1, WM_ARP_INVALID = 2, WM_ARP_DYNAMIC = 3, WM_ARP_STATIC = 4,
		   WM_ARP_LOCAL = 5 };
struct wm_arp {
	long if_index;
	int family;               /* AF_INET or AF_INET6 */
	uint8_t addr[16];         /* 4 or 16 bytes used */
	struct wm_octets phys;    /* physAddress as sent (6 bytes for Ethernet) */
	int type;                 /* enum wm_arp_type; 0: not reported */
	bool from_media_table;    /* ipNetToMediaTable rather than ipNetToPhysicalTable */
};

/* WM_POLL_TIMEOUT: no SNMP agent answered within timeout x tries (ICMP port or host
 * unreachable included), e.g. "timeout after 3 tries (ifName)"; SNMPv3 engine ID discovery
 * is asynchronous, so such a switch never holds up the others. WM_POLL_ERROR: an agent
 * answered but could not be used ("SNMPv3 authentication failure: ..."), or a local failure. */
enum wm_poll_result { WM_POLL_PENDING = 0, WM_POLL_OK, WM_POLL_TIMEOUT, WM_POLL_ERROR };

/* Everything one poll of one switch saw. Arrays are in the agent's (OID) order; all memory
 * belongs to the struct and is released by wm_switch_tables_clear(). */
struct wm_switch_tables {
	enum wm_poll_result result;
	char error[256];          /* "" on success, else e.g. "switch sw1 (10.0.0.1:161): timeout
	                           * after 3 tries (walking ifName)"; never a credential */
	struct wm_octets sys_name;
	struct wm_lldp_loc_port *loc_ports; size_t n_loc_ports;
	struct wm_lldp_rem *rem; size_t n_rem;
	struct wm_if *ifs; size_t n_ifs;
	struct wm_bridge_port *bridge_ports; size_t n_bridge_ports;
	struct wm_fdb *fdb; size_t n_fdb;       /* BRIDGE-MIB dot1dTpFdbTable */
	struct wm_fdb *qfdb; size_t n_qfdb;     /* Q-BRIDGE-MIB dot1qTpFdbTable */
	struct wm_arp *arp; size_t n_arp;       /* both IP-MIB tables, physical table first */
	size_t varbinds;          /* rows seen (variable bindings received) */
	unsigned requests;        /* PDUs sent, resends included */
	double ms;                /* wall time of this switch's poll */
};

/* Free what the tables hold and zero them (safe on a zeroed struct; callable twice). */
void wm_switch_tables_clear(struct wm_switch_tables *t);

/* For tests: store one variable binding (net-snmp's netsnmp_variable_list) into t as a poll
 * would, in the table or scalar its name falls in; a name in none is ignored. Returns 0, or
 * -1 when out of memory. */
struct variable_list;
int wm_snmp_store_varbind(struct wm_switch_tables *t, const struct variable_list *v);

/* Called as each switch finishes (success or failure), from inside wm_snmp_poll(), with the
 * matching entry of `out`. It may consume the tables and wm_switch_tables_clear() them. */
typedef void wm_snmp_done_fn(void *user, const struct wm_snmp_target *target,
			     struct wm_switch_tables *tables, void *ctx);

/* Poll n targets, at most `concurrency` at once (0: 32), filling out[i] for targets[i]
 * (out must hold n zeroed or cleared structs). done (may be NULL) is called once per
 * target. If stop is not NULL and becomes non-zero, no new switch is started, switches in
 * flight finish, and the ones never started get result WM_POLL_ERROR, "not polled: stopped".
 * Returns the number of targets that did not answer fully (0: all did), or -1 with err
 * filled if polling could not start at all (net-snmp failed to initialise).
 * Not thread-safe: net-snmp keeps process-wide state; poll from one thread. */
int wm_snmp_poll(const struct wm_snmp_target *targets, size_t n, unsigned concurrency,
		 struct wm_switch_tables *out, wm_snmp_done_fn *done, void *ctx,
		 const volatile sig_atomic_t *stop, struct lis_error *err);

/* Release net-snmp's process-wide state (optional; at exit). */
void wm_snmp_shutdown(void);

#endif
