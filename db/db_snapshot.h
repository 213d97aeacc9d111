/* Reading the whole wiremap for an in-memory snapshot, and then its changes (the feed).
 * db/ knows rows, not the snapshot's structures: the loader hands each row to a sink that
 * the caller (wiremap/) provides. Rows of one load come from one REPEATABLE READ
 * transaction, so a snapshot is consistent even while imports run. */
#ifndef DB_SNAPSHOT_H
#define DB_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "civic.h"
#include "db_entity.h"
#include "lis_error.h"

struct db_conn;

/* Strings in records are valid only during the callback: copy what you keep. MAC addresses
 * and BSSIDs are 6 bytes; IP addresses and prefixes are text as PostgreSQL prints them. */
struct db_rec_site {
	long long id;
	const char *key, *name;
	long long default_location_id;     /* 0: none */
	bool allow_default;                /* the site's policy lets its default answer */
};
struct db_rec_location {
	long long id, site_id;
	const char *key, *lang;
	const char *civic[CIVIC_N_FIELDS]; /* NULL = absent */
	bool has_geo;
	double lat, lon;
	bool has_alt;
	double alt;
	double uncertainty;                /* metres; 0 = unknown */
};
/* An address or prefix as PostgreSQL stores an inet or cidr: what the loader hands on for
 * the rows it reads in binary format, so that nobody prints and parses it again. */
struct db_inet {
	uint8_t family;                    /* 4 or 6; 0: none, the record's text says it */
	uint8_t bits;                      /* the prefix length (32 or 128 for an address) */
	uint8_t addr[16];                  /* IPv4: the first 4 */
};
struct db_rec_subnet {
	const char *prefix;                /* "10.1.2.0/24", "2001:db8::/48"; NULL when bin */
	long long location_id;             /* 0: none (a remote subnet may have none) */
	bool remote;                       /* a VPN pool: its addresses are off premises */
	struct db_inet bin;                /* the prefix, when family is set */
};
struct db_rec_switch {
	long long id, site_id;
	const char *key;                   /* the switch's name in the wiremap */
	const char *chassis_id;            /* as LLDP reports it, normalized (see lis-wiremap(5)) */
	const char *mgmt_address;          /* NULL when unknown */
	long long location_id;             /* default for its ports; 0: none */
};
struct db_rec_port {
	long long switch_id;
	const char *port_id;               /* LLDP port ID or ifName */
	long long location_id;             /* 0: none (falls back to the switch's) */
};
struct db_rec_bssid {
	uint8_t bssid[6];
	unsigned prefix_len;               /* 48 = exactly this BSSID; 44 = 16 BSSIDs of one radio */
	const char *key;                   /* the AP's name */
	long long location_id;
};
/* An endpoint class and its policy (migration 0008). */
struct db_rec_class {
	const char *key;
	bool use_port, use_bssid, use_subnet, use_static, use_declared;
	unsigned max_binding_age;          /* seconds; 0: lisd's */
	unsigned reconfirm_interval;       /* seconds; 0: none */
	const char *no_fresh;              /* "locationUnknown", "site-default", "declared" */
};
struct db_rec_endpoint {
	long long id;
	const char *key;
	const char *class_;                /* an endpoint_class key ("desk_phone", ...) */
	const char *owner;                 /* the user it belongs to; NULL: none */
	bool has_mac;
	uint8_t mac[6];
	const char *uri;                   /* normalized SIP/SIPS URI, NULL if none */
	const char *tel;                   /* normalized tel URI ("tel:+15551234567"), NULL if none */
	long long location_id;             /* static assignment; 0: none */
	bool deactivated;                  /* endpoint.active is false (lisctl endpoint
					    * deactivate) */
};
enum db_binding_kind {
	DB_BIND_MAC_PORT,                  /* mac on switch_id/port_id */
	DB_BIND_IP_MAC,                    /* ip has mac */
	DB_BIND_MAC_BSSID,                 /* mac associated with bssid */
};
struct db_rec_binding {
	enum db_binding_kind kind;
	uint8_t mac[6];
	long long switch_id;               /* MAC_PORT */
	const char *port_id;               /* MAC_PORT */
	const char *ip;                    /* IP_MAC: an address, no prefix; NULL when ip_bin */
	struct db_inet ip_bin;             /* IP_MAC: the address, when its family is set */
	uint8_t bssid[6];                  /* MAC_BSSID */
	time_t first_seen, last_seen;
	const char *source;                /* "snmp", "netlink", "import", ... */
};
/* A user's current declared location (only the current one of each user is loaded). */
struct db_rec_declared {
	long long id;
	const char *user, *label, *lang;
	const char *civic[CIVIC_N_FIELDS]; /* NULL = absent */
	time_t confirmed_at, expires_at;
};
/* An address the VPN concentrator bound to a user until expires_at. */
struct db_rec_vpn {
	const char *ip;                    /* an address, no prefix */
	const char *user, *class_;
	time_t bound_at, expires_at;
};
/* A deactivated user (lis_user.active false, migration 0010): only those are loaded; a user
 * with no row, or an active one, is active. */
struct db_rec_user {
	const char *key;
};

/* The loader calls these in this order: sites, locations, subnets, switches, ports, bssids,
 * classes, endpoints, bindings (MAC-port, then IP-MAC, then MAC-BSSID), then declared
 * locations, VPN bindings and deactivated users. A callback returning < 0
 * stops the load (its err is kept). A NULL callback: that table is not read. */
struct db_snapshot_sink {
	void *ctx;
	int (*site)(void *ctx, const struct db_rec_site *r, struct lis_error *err);
	int (*location)(void *ctx, const struct db_rec_location *r, struct lis_error *err);
	int (*subnet)(void *ctx, const struct db_rec_subnet *r, struct lis_error *err);
	int (*sw)(void *ctx, const struct db_rec_switch *r, struct lis_error *err);
	int (*port)(void *ctx, const struct db_rec_port *r, struct lis_error *err);
	int (*bssid)(void *ctx, const struct db_rec_bssid *r, struct lis_error *err);
	int (*cls)(void *ctx, const struct db_rec_class *r, struct lis_error *err);
	int (*endpoint)(void *ctx, const struct db_rec_endpoint *r, struct lis_error *err);
	int (*binding)(void *ctx, const struct db_rec_binding *r, struct lis_error *err);
	int (*declared)(void *ctx, const struct db_rec_declared *r, struct lis_error *err);
	int (*vpn)(void *ctx, const struct db_rec_vpn *r, struct lis_error *err);
	int (*user)(void *ctx, const struct db_rec_user *r, struct lis_error *err);
};

/* Where a reader of the change feed is: everything committed before the snapshot whose
 * xmin this is has been applied, and so have the rows listed in seen. Zero it to start;
 * db_snapshot_load() sets it. */
struct db_change_seen {
	long long seq;
	unsigned long long xid;
};
struct db_change_cursor {
	unsigned long long xmin;
	struct db_change_seen *seen;  /* applied rows with xid >= xmin, by seq */
	size_t n_seen, cap_seen;
};
void db_change_cursor_free(struct db_change_cursor *cur);

/* Stream the whole wiremap into sink (rows fetched in batches, not one result in memory).
 * With cur, also start the change feed at this load's snapshot. Returns 0, or -1 with err
 * filled (DB_E_CONNECT when the connection broke). */
int db_snapshot_load(struct db_conn *c, const struct db_snapshot_sink *sink,
		     struct db_change_cursor *cur, struct lis_error *err);

/* The change feed (table wiremap_change, migration 0006): every write to a wiremap table
 * leaves the keys it changed there, in its own transaction, so that it replicates to
 * standbys, where NOTIFY does not reach. For each table with changed keys, db_changes_poll
 * calls sink->key once per key (locations and endpoints: key_id is the id; subnets:
 * key_text is the prefix; ports: switch id and port ID; BSSIDs: prefix length and BSSID;
 * bindings: key_text is the MAC, or the IP address for IP-MAC; DB_FEED_DECLARED: key_text
 * is the user; DB_FEED_VPN: the address, migration 0012), then hands the keys' current rows
 * to sink->rows as the loader would: a key without rows was deleted (a user's declared
 * location: the user has no current one now). Tables come in db_snapshot_load's order.
 * Sites, switches, classes and users are not fed by key: a change to one of them, a
 * statement that changed very many rows, or more than DB_FEED_MAX_KEYS keys at once return
 * DB_FEED_RELOAD. Returns DB_FEED_NONE, DB_FEED_CHANGES, DB_FEED_RELOAD, or -1 with err
 * filled (the cursor is then unchanged: the next poll sees the same changes). */
/* The keyed tables beyond the wiremap's entities: sink->key's e is an enum db_entity or
 * one of these. */
enum { DB_FEED_DECLARED = DB_ENTITY_N, DB_FEED_VPN, DB_FEED_N };
struct db_delta_sink {
	struct db_snapshot_sink rows;
	int (*key)(void *ctx, int e, long long key_id, const char *key_text,
		   struct lis_error *err);
};
#define DB_FEED_MAX_KEYS 50000
enum { DB_FEED_NONE = 0, DB_FEED_CHANGES = 1, DB_FEED_RELOAD = 2 };
int db_changes_poll(struct db_conn *c, struct db_change_cursor *cur,
		    const struct db_delta_sink *sink, struct lis_error *err);

#endif
