/* The resolver: turns what is known about a target into a location and the reason for it.
 * Evidence, most precise first (issue "correlation engine"):
 *   switch port  (IP -> MAC -> port, or MAC -> port; the port's location, else its switch's)
 *   BSSID        (the client's RFC 7105 802.11 measurement, or an observed MAC <-> BSSID)
 *   static       (the endpoint's statically assigned location)
 *   subnet       (longest prefix of the IP address)
 *   site default (only where the site's policy allows it, and the class's)
 *   declared     (the user's declared civic address: RAY BAUM'S Act, off premises)
 * The target's endpoint class (or its VPN binding's) says which of these count, how old a
 * binding may be, and what to answer when nothing it counts is fresh (wm_class). A
 * deactivated endpoint is no endpoint (no class, owner, static location; a request naming
 * it by URI or tel learns no MAC from it), a deactivated user no user (no declared
 * location; the user's VPN bindings still say the address is off premises). A target
 * off premises (a VPN address, a remote subnet, an address in no office subnet that the
 * office network does not see) is never answered with an office's location. Bindings
 * older than the class's max_binding_age are listed but are not evidence. Pure and
 * lock-free: everything it returns points into the snapshot. */
#ifndef WM_RESOLVE_H
#define WM_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ident.h"
#include "wm_snapshot.h"

enum wm_source {
	WM_SRC_NONE = 0,
	WM_SRC_PORT,          /* the switch port's own location */
	WM_SRC_SWITCH,        /* the port has none: its switch's default location */
	WM_SRC_BSSID,         /* the access point the network saw the device associated with */
	WM_SRC_STATIC,        /* the endpoint's static assignment */
	WM_SRC_CLIENT_BSSID,  /* the access point the client says it is associated with: used
	                       * only where the network's own evidence puts the device in the
	                       * same site, and never above that evidence */
	WM_SRC_SUBNET,        /* the IP subnet's location (a fallback) */
	WM_SRC_SITE_DEFAULT,  /* the site's default location (a fallback) */
	WM_SRC_DECLARED,      /* the user's declared location (RFC 4119 method Manual) */
};
#define WM_SRC_LAST WM_SRC_DECLARED
/* "port", "switch", "bssid", "static", "client-bssid", "subnet", "site-default",
 * "declared", "none" */
const char *wm_source_name(enum wm_source s);

/* Who is being located: identities (proto/ident.h), at most one of each kind, of kinds the
 * resolver locates by (wm_resolve_locates_by()), and the serving BSSID the client reported.
 * ip is the requester's own address for a request about itself. Values are checked and
 * normalized here, so text as received will do. */
struct wm_target {
	const struct ident *ids;
	size_t n_ids;
	const char *bssid;    /* serving BSSID the client reported (RFC 7105), or NULL */
};

/* True when the resolver can find a device by an identity of kind k. */
bool wm_resolve_locates_by(enum ident_kind k);

/* Check t before any lookup: each identity of a kind the resolver locates by, one of each
 * kind, each value (and the BSSID) well formed, something given at all. Returns 0, or -1
 * with err saying what is wrong and quoting the value. */
int wm_target_check(const struct wm_target *t, struct lis_error *err);

struct wm_policy {
	time_t now;
	unsigned max_binding_age;  /* seconds; older bindings are not evidence */
};

/* What the text of a piece of evidence says (wm_evidence_text() writes it). */
enum wm_evidence_text {
	WM_EVT_IP_MAC,                  /* "ip 10.1.2.3 has mac 00:11:22:33:44:55" */
	WM_EVT_PORT_UNKNOWN_SWITCH,     /* "mac ... on port Gi1/0/7 of a switch not in ..." */
	WM_EVT_PORT,                    /* "mac ... on sw-3-12 port Gi1/0/7" */
	WM_EVT_PORT_SWITCH_LOCATION,    /* "... (port without a location; the switch's ...)" */
	WM_EVT_PORT_NO_LOCATION,        /* "...: neither port nor switch has a location" */
	WM_EVT_BSSID,                   /* "mac ... associated with bssid ..., AP ap-1" */
	WM_EVT_BSSID_UNKNOWN,           /* "..., not in the wiremap" */
	WM_EVT_CLIENT_BSSID,            /* "serving bssid ... reported by the client, ..." */
	WM_EVT_STATIC,                  /* "endpoint ... (found by mac) has a static location" */
	WM_EVT_STATIC_NONE,             /* "... has no static location" */
	WM_EVT_SUBNET,                  /* "ip 10.1.2.3 in subnet 10.1.2.0/24" */
	WM_EVT_NO_SUBNET,               /* "no subnet covers ip ..." */
	WM_EVT_SITE_DEFAULT,            /* "default location of site hq" */
	WM_EVT_SITE_DEFAULT_REFUSED,    /* "site ... has a default location, but its policy ..." */
	WM_EVT_SITE_DEFAULT_LAST,       /* "... (where stale evidence last put the device)" */
	WM_EVT_REMOTE_SUBNET,           /* "ip 10.8.0.5 in remote subnet 10.8.0.0/16 (a VPN ..." */
	WM_EVT_VPN,                     /* "ip 10.8.0.5 bound to user alice by the VPN ..." */
	WM_EVT_NO_USER,                 /* "no user known for the device (no endpoint ...)" */
	WM_EVT_NO_DECLARED,             /* "user alice has no current declared location" */
	WM_EVT_DECLARED,                /* "user alice declared location home" */
	WM_EVT_DECLARED_EXPIRED,        /* "..., expired 2026-01-02T03:04:05Z" */
	WM_EVT_DECLARED_UNCONFIRMED,    /* "..., not confirmed again since 2026-01-02T03:04:05Z" */
	WM_EVT_ENDPOINT_DEACTIVATED,    /* "endpoint desk-12 (found by mac) is deactivated: ..." */
	WM_EVT_VPN_USER_DEACTIVATED,    /* "ip 10.8.0.5 bound to user alice ...; user ..." */
	WM_EVT_USER_DEACTIVATED,        /* "user alice is deactivated: ..." */
};

/* Why evidence is not used though it has a location (the end of its text says so). */
enum wm_exclusion {
	WM_EXCL_NONE,
	WM_EXCL_OFF_PREMISES,           /* "; not used: off premises" */
	WM_EXCL_ON_PREMISES,            /* "; not used: on premises" (a declaration) */
	WM_EXCL_CLASS,                  /* "; not counted by class softphone" */
};

/* One step of the walk, for logs and `lisctl explain`. */
struct wm_evidence {
	enum wm_source source;          /* what this evidence would give */
	const struct wm_location *loc;  /* NULL when it leads nowhere (e.g. port without location) */
	time_t last_seen;               /* 0 when not a binding */
	const char *origin;             /* binding source ("snmp", "import"...), or NULL */
	bool stale;                     /* older than max_binding_age: not used */
	bool unverified;                /* a client's claim no network evidence backs: not used */
	bool excluded;                  /* the class does not count it, or the target is off
					 * premises and it is an office's: not used */
	bool chosen;                    /* the one that answered */
	/* The parts of its text, put together by wm_evidence_text() only when a log line or
	 * `lisctl explain` asks: formatting them costs more than the walk. They point into the
	 * snapshot, so ask while it is held. */
	enum wm_evidence_text text;
	uint8_t mac[6];                 /* the device's MAC; client-bssid: the BSSID reported */
	uint8_t bssid[6];               /* bssid: the BSSID the device was seen associated with */
	const char *name;               /* ip-mac: the IP; port: the port; static: found by what;
					 * no declared: the user */
	const struct wm_switch *sw;     /* port */
	bool port_known;                /* port: the port is in the wiremap */
	const struct wm_bssid *ap;      /* bssid, client-bssid: the access point; NULL: none */
	const struct wm_endpoint *endpoint;  /* static */
	const struct wm_vpn *vpn;       /* vpn: the requester's VPN binding */
	const struct wm_declared *declared;  /* declared: the user's declaration */
	enum wm_exclusion why_excluded; /* when excluded */
	const struct wm_class *excluded_by;  /* WM_EXCL_CLASS: the class */
	const struct wm_site *site;     /* site default; client-bssid: the site it was checked in */
	enum wm_source backer;          /* client-bssid: the evidence that puts it there too */
	struct wm_prefix subnet;        /* subnet: the prefix matched */
	char ip[46];                    /* subnet: the IP address as the request gave it */
};

/* Longest text of a piece of evidence, its NUL included: longer ones are cut. */
#define WM_EVIDENCE_TEXT_MAX 160
/* e's text ("mac 00:11:22:33:44:55 on sw-3-12 port Gi1/0/7") into buf; returns buf. */
const char *wm_evidence_text(const struct wm_evidence *e, char *buf, size_t size);
/* The name of e's step: its source's, or for one followed (no location of its own) "vpn"
 * (the requester's VPN binding) or "ip->mac". */
const char *wm_evidence_step(const struct wm_evidence *e);

#define WM_MAX_EVIDENCE 24
struct wm_result {
	enum wm_source source;          /* WM_SRC_NONE: no location */
	const struct wm_location *loc;
	const char *method;             /* RFC 4119 method token: Wiremap, 802.11, Manual */
	bool fallback;                  /* subnet or site default: not precise; say so */
	char note[200];                 /* human words for a fallback ("" otherwise) */
	bool has_mac;                   /* a MAC was learned for the target (for dm:deviceID) */
	uint8_t mac[6];
	bool disagreement;              /* evidence points at more than one site */
	char disagree[200];             /* "port says hq, subnet says branch" */
	char unknown_reason[240];       /* why nothing matched, when source == WM_SRC_NONE */
	/* The policy that decided: the target's class, how it was found ("endpoint
	 * alice-laptop", "VPN binding of 10.8.0.5", "no endpoint"), and where the target is. */
	const struct wm_class *cls;
	char class_how[120];
	bool off_premises;
	char premises[200];             /* why off (or on) premises; "" when no address given */
	const char *user;               /* the user found (endpoint owner, VPN binding), or NULL */
	/* Offboarded: the first deactivated endpoint the request named (by MAC, URI, tel, or
	 * the MAC of its IP) and the first deactivated user (an endpoint's owner, a VPN
	 * binding's user); NULL: none. What names only them is located as an unknown device
	 * would be: by network evidence, never by their static or declared locations, class or
	 * VPN binding. */
	const struct wm_endpoint *deactivated;
	const char *user_deactivated;
	bool unconfirmed;               /* a stale declaration answered (class no_fresh) */
	size_t n_evidence;
	struct wm_evidence ev[WM_MAX_EVIDENCE];  /* last: only the first n_evidence are set */
};

/* Is every identity of t (its BSSID aside) the device at address ip, as s shows it at p->now?
 * RFC 6155 §1.1: a request naming a device is third-party "unless [the LIS] is able to ensure
 * that the provided Device identity is uniquely attributable to the requestor". ip is the
 * requester's source address, which TCP's return routability vouches for. An ip identity
 * must be that address; a MAC, and the MAC of the endpoint a SIP or tel URI names, must be
 * the one MAC that ip's fresh ip-mac bindings name (two fresh MACs on ip: not unique). False
 * for anything else: another kind, an endpoint without a MAC or deactivated, no fresh
 * binding, a malformed identity, no identity. s may be NULL (no wiremap yet): then only ip
 * identities can match. */
bool wm_target_is_at(const struct wm_snapshot *s, const struct wm_target *t, const char *ip,
		     const struct wm_policy *p);

/* Resolve t against s. Returns 1 when located, 0 when not (res->unknown_reason says why),
 * -1 when wm_target_check() refuses t, with err filled. */
int wm_resolve(const struct wm_snapshot *s, const struct wm_target *t, const struct wm_policy *p,
	       struct wm_result *res, struct lis_error *err);

#endif
