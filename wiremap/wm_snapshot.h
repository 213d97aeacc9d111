/* The in-memory wiremap: a snapshot built from the database in one go, then read by any
 * number of threads without a lock while one writer applies the changes of the change feed
 * in place (wm_delta_apply, wm_builder.h): each changed key is swapped in with one atomic
 * store, and what it replaced stays in memory until the snapshot is freed. lisd swaps a
 * whole new snapshot in (RCU) at start-up, after an outage and after large changes. Lookups
 * take no lock and allocate nothing. */
#ifndef WM_SNAPSHOT_H
#define WM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "civic.h"
#include "lis_error.h"

struct db_conn;
struct pidf_frag;

struct wm_site {
	long long id;
	const char *key, *name;
	const struct wm_location *default_location; /* NULL: none */
	bool allow_default;
};

struct wm_location {
	/* A delta that changed or deleted this location made a new version: newer points at
	 * it (&wm_location_gone: deleted). Read it through wm_location_current(). Every
	 * lookup reads it, and then site: they share the first cache line. */
	const struct wm_location *newer;
	const struct wm_site *site;
	long long id;
	const char *key;
	struct civic_address civic;          /* strings owned by the snapshot */
	bool has_civic;
	bool has_geo;
	double lat, lon;
	bool has_alt;
	double alt;
	double uncertainty;                  /* metres; 0 = unknown */
	const struct wm_location *older;     /* the version before this one (the writer's) */
	/* Written after the build too: the answer's pieces of this location
	 * (proto/held_write.h), made on first use by wm_pidf_frag() and installed with
	 * wm_location_set_frag(); NULL until then. */
	struct pidf_frag *_Atomic frag;
};

/* What the versions of a deleted location point at. */
extern const struct wm_location wm_location_gone;

/* The version of l in force now, NULL when its row was deleted (and when l is NULL). */
static inline const struct wm_location *wm_location_current(const struct wm_location *l)
{
	while (l) {
		const struct wm_location *n = __atomic_load_n(&l->newer, __ATOMIC_ACQUIRE);
		if (!n)
			return l;
		if (n == &wm_location_gone)
			return NULL;
		l = n;
	}
	return NULL;
}

struct wm_switch {
	long long id;
	const char *key, *chassis_id, *mgmt_address;
	const struct wm_site *site;
	const struct wm_location *location;  /* default for ports; NULL: none */
};

struct wm_port {
	const struct wm_switch *sw;
	const char *port_id;
	const struct wm_location *location;  /* NULL: the switch's (if any); changes in place */
	bool gone;                           /* its row was deleted */
};

struct wm_bssid {
	uint8_t bssid[6];
	unsigned prefix_len;
	const char *key;
	const struct wm_location *location;  /* changes in place */
};

/* What a class's policy answers when no evidence it counts is fresh (47 CFR 9.16(b)). */
enum wm_no_fresh {
	WM_NO_FRESH_UNKNOWN,      /* locationUnknown: the call server routes on the carrier's */
	WM_NO_FRESH_SITE_DEFAULT, /* the site's default (where the site allows it), a fallback */
	WM_NO_FRESH_DECLARED,     /* the user's current declaration, even stale: unconfirmed */
};
/* Kinds of evidence a class counts (wm_class.evidence). */
enum {
	WM_EV_PORT = 1u << 0,     /* switch port and the switch's default */
	WM_EV_BSSID = 1u << 1,    /* observed and client-reported access points */
	WM_EV_SUBNET = 1u << 2,
	WM_EV_STATIC = 1u << 3,   /* the endpoint's static assignment */
	WM_EV_DECLARED = 1u << 4, /* the user's declared location */
};
/* An endpoint class and its policy (migration 0008). */
struct wm_class {
	const char *key;
	unsigned evidence;            /* WM_EV_* */
	unsigned max_binding_age;     /* seconds; 0: wm_policy's */
	unsigned reconfirm_interval;  /* seconds; 0: a declaration lasts until it expires */
	enum wm_no_fresh no_fresh;
};
/* The policy of a target with no class (no endpoint, no VPN binding, or a class the
 * snapshot lacks): every piece of office evidence, then the site default, as before
 * classes. */
extern const struct wm_class wm_class_none;
/* "locationUnknown", "site-default", "declared" */
const char *wm_no_fresh_name(enum wm_no_fresh a);

struct wm_endpoint {
	long long id;
	const char *key;
	const struct wm_class *cls;          /* NULL: the class is not in the snapshot */
	const char *class_key;               /* as the endpoint names it */
	const char *owner;                   /* the user it belongs to; NULL: none */
	bool has_mac;
	uint8_t mac[6];
	const char *uri, *tel;
	const struct wm_location *location;  /* static assignment; NULL: none; changes in place */
	bool deactivated;                    /* offboarded: lisd treats what names it as
					      * naming no endpoint (wm_resolve.h) */
};

/* The fields a delta changes in place, read as a reader must: the location is the version
 * in force (wm_location_current). */
#define WM_LOCATION_OF(obj) \
	wm_location_current(__atomic_load_n(&(obj)->location, __ATOMIC_ACQUIRE))

/* One observed binding; `source` is where it came from (snmp, netlink, import). */
struct wm_binding {
	time_t first_seen, last_seen;
	const char *source;
	uint8_t mac[6];
	const struct wm_port *port;          /* MAC_PORT (NULL if the port is not in the wiremap:
	                                      * then sw and port_id say where) */
	const struct wm_switch *sw;          /* MAC_PORT */
	const char *port_id;                 /* MAC_PORT */
	const char *ip;                      /* IP_MAC */
	uint8_t bssid[6];                    /* MAC_BSSID */
};

/* A user's current declared location: loc has no site (it is no office). */
struct wm_declared {
	long long id;
	const char *user, *label;
	time_t confirmed_at, expires_at;
	struct wm_location loc;
};
/* An address the VPN concentrator bound to a user (until expires_at). */
struct wm_vpn {
	const char *ip, *user, *class_key;
	const struct wm_class *cls;          /* NULL: not in the snapshot */
	time_t bound_at, expires_at;
};

struct wm_snapshot;
struct db_change_cursor;

struct wm_snapshot_stats {
	size_t sites, locations, subnets, switches, ports, bssids, endpoints;
	size_t classes, declared, vpn, users_inactive;
	size_t bind_mac_port, bind_ip_mac, bind_mac_bssid;
	size_t bytes;                        /* memory held by the snapshot */
	size_t prefaulted;                   /* memory the builder took (its rows while it
					      * built included) that a thread had written
					      * ahead of it (wm_builder_prefault) */
	double load_ms;                      /* time db_snapshot_load + build took */
	time_t loaded_at;
	unsigned long long deltas;           /* deltas applied in place since */
	size_t delta_bytes;                  /* memory they took (what they replaced stays) */
};

/* Build a snapshot from the database (db_snapshot_load); with cur, start the change feed at
 * it. Returns NULL with err filled. */
struct wm_snapshot *wm_snapshot_load(struct db_conn *db, struct db_change_cursor *cur,
				     struct lis_error *err);
void wm_snapshot_free(struct wm_snapshot *s);
void wm_snapshot_get_stats(const struct wm_snapshot *s, struct wm_snapshot_stats *st);
/* Install f as loc's fragment unless another thread did first (compare-and-swap); returns
 * the one loc holds now (f, or the winner's: then f is freed). The snapshot s that loc
 * belongs to frees it. Safe from any number of readers at once. */
const struct pidf_frag *wm_location_set_frag(const struct wm_snapshot *s,
					     const struct wm_location *loc, struct pidf_frag *f);

/* A stored subnet, as a lookup matched it. */
struct wm_prefix {
	uint8_t fam;                         /* 4 or 6; 0: none */
	uint8_t len;
	uint8_t a[16];
};
/* "10.1.2.0/24", "2001:db8::/48"; "" for none. */
void wm_prefix_format(const struct wm_prefix *p, char *buf, size_t size);

/* Lookups. Results point into the snapshot and live as long as it does. Bindings come back
 * most recent first; the functions return how many were written to out (at most max). */
const struct wm_location *wm_lookup_subnet(const struct wm_snapshot *s, const char *ip,
					   char *matched, size_t matched_size);
/* The same, also saying whether the longest matching prefix is a remote subnet (a VPN
 * pool: then no location comes back, and *remote is true). */
const struct wm_location *wm_lookup_subnet_ex(const struct wm_snapshot *s, const char *ip,
					      char *matched, size_t matched_size, bool *remote);
/* An IP address parsed once for several lookups: wm_ip_parse() returns 0, or -1 when text
 * is not an address. */
struct wm_ip {
	uint8_t fam;                         /* 4 or 6 */
	uint8_t a[16];                       /* IPv4: the first 4; the rest 0 */
};
int wm_ip_parse(const char *text, struct wm_ip *ip);
/* wm_lookup_subnet_ex with the prefix matched left as it is (matched and remote may be
 * NULL). */
const struct wm_location *wm_lookup_subnet_at(const struct wm_snapshot *s, const struct wm_ip *ip,
					      struct wm_prefix *matched, bool *remote);
/* True when the wiremap has subnets to judge an address by. */
bool wm_snapshot_has_subnets(const struct wm_snapshot *s);
const struct wm_class *wm_lookup_class(const struct wm_snapshot *s, const char *key);
const struct wm_declared *wm_lookup_declared(const struct wm_snapshot *s, const char *user);
/* False when user was deactivated (lis_user.active false); a user lis_user does not list is
 * active. */
bool wm_user_is_active(const struct wm_snapshot *s, const char *user);
const struct wm_vpn *wm_lookup_vpn(const struct wm_snapshot *s, const char *ip);
const struct wm_vpn *wm_lookup_vpn_at(const struct wm_snapshot *s, const struct wm_ip *ip);
const struct wm_port *wm_lookup_port(const struct wm_snapshot *s, const struct wm_switch *sw,
				     const char *port_id);
const struct wm_switch *wm_lookup_switch(const struct wm_snapshot *s, const char *chassis_id);
const struct wm_bssid *wm_lookup_bssid(const struct wm_snapshot *s, const uint8_t bssid[6]);
const struct wm_endpoint *wm_lookup_endpoint_mac(const struct wm_snapshot *s, const uint8_t mac[6]);
const struct wm_endpoint *wm_lookup_endpoint_uri(const struct wm_snapshot *s, const char *uri);
const struct wm_endpoint *wm_lookup_endpoint_tel(const struct wm_snapshot *s, const char *tel);
/* The port a MAC-port binding names, as the wiremap has it now (a port added or deleted
 * since the binding was loaded included); NULL: not in the wiremap. */
const struct wm_port *wm_binding_port(const struct wm_snapshot *s, const struct wm_binding *b);
size_t wm_bindings_ip_mac(const struct wm_snapshot *s, const char *ip,
			  const struct wm_binding **out, size_t max);
size_t wm_bindings_ip_mac_at(const struct wm_snapshot *s, const struct wm_ip *ip,
			     const struct wm_binding **out, size_t max);
size_t wm_bindings_mac_port(const struct wm_snapshot *s, const uint8_t mac[6],
			    const struct wm_binding **out, size_t max);
size_t wm_bindings_mac_bssid(const struct wm_snapshot *s, const uint8_t mac[6],
			     const struct wm_binding **out, size_t max);

/* Hints, for a caller about to look up several things at once: start loading what the
 * lookups will read, so that their cache misses overlap instead of following each other.
 * They change nothing and may be skipped. wm_prefetch_mac: the table slots of a MAC's
 * endpoint and bindings; wm_prefetch_bindings: its binding groups (after wm_prefetch_mac);
 * wm_prefetch_bssid: the slots wm_lookup_bssid probes; wm_prefetch_access_points: those of
 * the BSSIDs of a MAC's first max associations, and the access point of its newest (after
 * wm_prefetch_bindings); wm_prefetch_ports: the ports of its first max port bindings, and
 * the location of the newest (after wm_prefetch_bindings); wm_prefetch_ip: the slots of an
 * IP's bindings and of its subnet's prefix lengths. */
void wm_prefetch_mac(const struct wm_snapshot *s, const uint8_t mac[6]);
void wm_prefetch_bindings(const struct wm_snapshot *s, const uint8_t mac[6]);
void wm_prefetch_bssid(const struct wm_snapshot *s, const uint8_t bssid[6]);
void wm_prefetch_access_points(const struct wm_snapshot *s, const uint8_t mac[6], size_t max);
void wm_prefetch_ports(const struct wm_snapshot *s, const uint8_t mac[6], size_t max);
void wm_prefetch_ip(const struct wm_snapshot *s, const struct wm_ip *ip);

#endif
