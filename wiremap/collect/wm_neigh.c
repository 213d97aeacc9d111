#include "wm_neigh.h"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/socket.h>
#include <netlink/route/neighbour.h>

/* Large enough for a burst of events on a busy segment; when it still overflows, the
 * kernel says ENOBUFS and we dump the table again. */
#define EVENT_BUFFER (1 << 20)

struct wm_neigh {
	struct nl_sock *events;     /* subscribed to RTNLGRP_NEIGH, non-blocking */
	struct nl_sock *sync;       /* request/answer socket for dumps */
	wm_neigh_fn fn;
	void *arg;
	unsigned delivered;         /* usable entries in the current dump or receive */
};

bool wm_neigh_entry_is_usable(int state, int type, unsigned flags, unsigned lladdr_len)
{
	/* NUD_VALID without NUD_NOARP: the kernel holds a link-layer address it learned or was
	 * given; delay and probe are a stale entry being re-checked, still the last address. */
	const int known = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;
	if (state < 0 || !(state & known) || (state & (NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP)))
		return false;
	if (type != RTN_UNICAST || (flags & NTF_PROXY))
		return false;
	return lladdr_len == 6;
}

static bool ip_is_usable(int family, const unsigned char *a)
{
	if (family == AF_INET) {
		/* not 0/8, 127/8, link-local 169.254/16, 224/4 and up (multicast, reserved,
		 * broadcast) */
		return a[0] != 0 && a[0] != 127 && !(a[0] == 169 && a[1] == 254) && a[0] < 224;
	}
	/* IPv6: not unspecified, loopback, multicast (ff00::/8) or link-local (fe80::/10) */
	static const unsigned char zero[15];
	if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
		return false;
	if (a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
		return false;
	return true;
}

static void deliver(struct nl_object *obj, void *arg)
{
	struct wm_neigh *n = arg;
	struct rtnl_neigh *ne = (struct rtnl_neigh *)obj;
	struct wm_neigh_obs o = { 0 };
	int msgtype = nl_object_get_msgtype(obj);

	if (msgtype != RTM_NEWNEIGH && msgtype != RTM_DELNEIGH)
		return;
	o.family = rtnl_neigh_get_family(ne);
	if (o.family != AF_INET && o.family != AF_INET6)
		return;   /* AF_BRIDGE: the host's own bridge FDB, not a neighbour */
	struct nl_addr *dst = rtnl_neigh_get_dst(ne);
	struct nl_addr *ll = rtnl_neigh_get_lladdr(ne);
	if (!dst || !ll)
		return;
	o.state = rtnl_neigh_get_state(ne);
	if (!wm_neigh_entry_is_usable(o.state, rtnl_neigh_get_type(ne), rtnl_neigh_get_flags(ne),
				      nl_addr_get_len(ll)))
		return;
	unsigned want = o.family == AF_INET ? 4 : 16;
	const unsigned char *ip = nl_addr_get_binary_addr(dst);
	if (nl_addr_get_len(dst) != want || !ip_is_usable(o.family, ip))
		return;
	memcpy(o.mac, nl_addr_get_binary_addr(ll), 6);
	/* group bit set: a multicast or broadcast MAC; all zero: no address at all */
	static const uint8_t zero_mac[6];
	if ((o.mac[0] & 1) || memcmp(o.mac, zero_mac, 6) == 0)
		return;
	if (!inet_ntop(o.family, ip, o.ip, sizeof o.ip))
		return;
	o.ifindex = rtnl_neigh_get_ifindex(ne);
	o.gone = msgtype == RTM_DELNEIGH;
	n->delivered++;
	n->fn(&o, n->arg);
}

static int on_event(struct nl_msg *msg, void *arg)
{
	/* A message libnl cannot parse is skipped, not fatal: the next dump will catch up. */
	(void)nl_msg_parse(msg, deliver, arg);
	return NL_OK;
}

int wm_neigh_dump(struct wm_neigh *n, unsigned *count, struct lis_error *err)
{
	struct nl_cache *cache = NULL;
	int rc = rtnl_neigh_alloc_cache(n->sync, &cache);
	if (rc < 0)
		return lis_error_set(err, LIS_E_SYSTEM, "neighbour table dump: %s", nl_geterror(rc));
	n->delivered = 0;
	nl_cache_foreach(cache, deliver, n);
	nl_cache_free(cache);
	if (count)
		*count = n->delivered;
	return 0;
}

int wm_neigh_receive(struct wm_neigh *n, unsigned *count, bool *resynced, struct lis_error *err)
{
	unsigned total = 0;
	if (resynced)
		*resynced = false;
	for (;;) {
		n->delivered = 0;
		int rc = nl_recvmsgs_default(n->events);
		total += n->delivered;
		if (rc >= 0)
			continue;
		if (rc == -NLE_AGAIN)
			break;
		if (rc == -NLE_NOMEM) {
			/* ENOBUFS: the socket overflowed and events are lost; what the kernel
			 * holds now is the truth, so take all of it. */
			unsigned dumped = 0;
			if (wm_neigh_dump(n, &dumped, err) < 0)
				return -1;
			total += dumped;
			if (resynced)
				*resynced = true;
			continue;
		}
		return lis_error_set(err, LIS_E_SYSTEM, "neighbour events: %s", nl_geterror(rc));
	}
	if (count)
		*count = total;
	return 0;
}

int wm_neigh_fd(const struct wm_neigh *n)
{
	return nl_socket_get_fd(n->events);
}

struct wm_neigh *wm_neigh_open(wm_neigh_fn fn, void *arg, struct lis_error *err)
{
	struct wm_neigh *n = calloc(1, sizeof *n);
	int rc;
	if (!n) {
		lis_error_set(err, LIS_E_SYSTEM, "neighbour table: out of memory");
		return NULL;
	}
	n->fn = fn;
	n->arg = arg;
	n->events = nl_socket_alloc();
	n->sync = nl_socket_alloc();
	if (!n->events || !n->sync) {
		lis_error_set(err, LIS_E_SYSTEM, "neighbour table: out of memory");
		goto fail;
	}
	/* Events carry no sequence numbers of ours. */
	nl_socket_disable_seq_check(n->events);
	nl_socket_modify_cb(n->events, NL_CB_VALID, NL_CB_CUSTOM, on_event, n);
	if ((rc = nl_connect(n->events, NETLINK_ROUTE)) < 0 ||
	    (rc = nl_socket_add_membership(n->events, RTNLGRP_NEIGH)) < 0 ||
	    (rc = nl_socket_set_nonblocking(n->events)) < 0 ||
	    (rc = nl_connect(n->sync, NETLINK_ROUTE)) < 0) {
		lis_error_set(err, LIS_E_SYSTEM, "neighbour table: netlink: %s", nl_geterror(rc));
		goto fail;
	}
	/* Best effort: without a larger buffer an overflow only costs a re-dump. */
	(void)nl_socket_set_buffer_size(n->events, EVENT_BUFFER, 0);
	return n;
fail:
	wm_neigh_close(n);
	return NULL;
}

void wm_neigh_close(struct wm_neigh *n)
{
	if (!n)
		return;
	nl_socket_free(n->events);
	nl_socket_free(n->sync);
	free(n);
}
