/* The resolver: turns what is known about a target into a location and the reason for it.
 * Today the only evidence is the requester's address against the subnet wiremap; the
 * correlation engine (switch port, BSSID, identity) replaces the inside, not this API. */
#ifndef WM_RESOLVE_H
#define WM_RESOLVE_H

#include "db.h"
#include "lis_error.h"

enum wm_source {
	WM_SRC_NONE = 0,
	WM_SRC_SUBNET,      /* IP subnet wiremap */
};

struct wm_result {
	enum wm_source source;
	const char *method;              /* RFC 4119 method token for the PIDF-LO ("Wiremap") */
	struct db_location loc;          /* valid when source != WM_SRC_NONE */
};

/* Resolve the location of the device at address ip (text, IPv4 or IPv6).
 * Returns 1 when located, 0 when no evidence covers it, -1 on an internal error
 * (database unreachable...) with err filled. */
int wm_resolve_ip(struct db_conn *db, const char *ip, struct wm_result *res, struct lis_error *err);
void wm_result_clear(struct wm_result *res);
const char *wm_source_name(enum wm_source s);

#endif
