/* The kernel neighbour table (ARP and IPv6 neighbour discovery) of the host wiremapd runs on,
 * through libnl-route-3: a dump at start, then RTM_NEWNEIGH/RTM_DELNEIGH events, each
 * turned into an IP -> MAC observation for the caller. No database, no logging: the caller
 * gets a callback per usable entry and decides what to keep.
 *
 * Usable: IPv4 or IPv6, a unicast neighbour (RTN_UNICAST, not a proxy entry) whose link-layer
 * address is a 6-byte unicast MAC, in a state where that address is known
 * (reachable, stale, delay, probe, permanent). Incomplete, failed and noarp entries, bridge
 * FDB entries, multicast, and link-local neighbours (169.254/16, fe80::/10: their address
 * means nothing off the link) are left out. */
#ifndef WM_NEIGH_H
#define WM_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "lis_error.h"

struct wm_neigh_obs {
	int family;                 /* AF_INET or AF_INET6 */
	char ip[46];                /* the neighbour's address in text (INET6_ADDRSTRLEN) */
	uint8_t mac[6];
	int ifindex;                /* interface it was learned on */
	int state;                  /* NUD_* of the entry */
	bool gone;                  /* from RTM_DELNEIGH: the kernel forgot it (an observation
				     * that it was there until now, not a denial) */
};

/* Called once per usable entry; obs is valid for the call only. */
typedef void (*wm_neigh_fn)(const struct wm_neigh_obs *obs, void *arg);

struct wm_neigh;

/* Subscribe to neighbour events (RTNLGRP_NEIGH). Nothing is delivered until wm_neigh_dump()
 * or wm_neigh_receive(). Reading the table and its events needs no privilege. */
struct wm_neigh *wm_neigh_open(wm_neigh_fn fn, void *arg, struct lis_error *err);
void wm_neigh_close(struct wm_neigh *n);

/* Deliver every usable entry of the table as it is now; *count gets how many (may be NULL). */
int wm_neigh_dump(struct wm_neigh *n, unsigned *count, struct lis_error *err);

/* File descriptor that becomes readable when events wait (for poll()). */
int wm_neigh_fd(const struct wm_neigh *n);

/* Deliver the events waiting, without blocking; *count gets how many usable ones (may be
 * NULL). When the kernel dropped events because we were slow (ENOBUFS), the whole table is
 * dumped again, so that nothing is missed; *resynced (may be NULL) then says so. */
int wm_neigh_receive(struct wm_neigh *n, unsigned *count, bool *resynced, struct lis_error *err);

/* True when an entry with this state, type and flags and this link-layer address length
 * carries a usable IP -> MAC binding (the rule above, without the address checks). */
bool wm_neigh_entry_is_usable(int state, int type, unsigned flags, unsigned lladdr_len);

#endif
