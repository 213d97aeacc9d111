/* wm_neigh (the kernel neighbour table through libnl): which entries carry an IP -> MAC
 * binding, and that the table can be read and watched without privilege. The namespace rig
 * in tests/integration sees a neighbour appear after a ping. */
#include "check.h"
#include "wm_neigh.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

static void test_known_states_with_a_mac_are_usable(void)
{
	CHECK(wm_neigh_entry_is_usable(NUD_REACHABLE, RTN_UNICAST, 0, 6));
	CHECK(wm_neigh_entry_is_usable(NUD_STALE, RTN_UNICAST, 0, 6));
	CHECK(wm_neigh_entry_is_usable(NUD_DELAY, RTN_UNICAST, 0, 6));
	CHECK(wm_neigh_entry_is_usable(NUD_PROBE, RTN_UNICAST, 0, 6));
	CHECK(wm_neigh_entry_is_usable(NUD_PERMANENT, RTN_UNICAST, NTF_ROUTER, 6));
}

static void test_unknown_states_proxies_and_odd_addresses_are_not(void)
{
	CHECK(!wm_neigh_entry_is_usable(NUD_INCOMPLETE, RTN_UNICAST, 0, 6));
	CHECK(!wm_neigh_entry_is_usable(NUD_FAILED, RTN_UNICAST, 0, 6));
	CHECK(!wm_neigh_entry_is_usable(NUD_NOARP, RTN_UNICAST, 0, 6));
	CHECK(!wm_neigh_entry_is_usable(NUD_NONE, RTN_UNICAST, 0, 6));
	CHECK(!wm_neigh_entry_is_usable(-1, RTN_UNICAST, 0, 6));
	CHECK(!wm_neigh_entry_is_usable(NUD_REACHABLE, RTN_MULTICAST, 0, 6));
	CHECK(!wm_neigh_entry_is_usable(NUD_REACHABLE, RTN_BROADCAST, 0, 6));
	CHECK(!wm_neigh_entry_is_usable(NUD_PERMANENT, RTN_UNICAST, NTF_PROXY, 6));
	CHECK(!wm_neigh_entry_is_usable(NUD_REACHABLE, RTN_UNICAST, 0, 0));   /* no lladdr */
	CHECK(!wm_neigh_entry_is_usable(NUD_REACHABLE, RTN_UNICAST, 0, 20));  /* InfiniBand */
}

static unsigned seen;
static bool all_sane;

static void count_obs(const struct wm_neigh_obs *o, void *arg)
{
	(void)arg;
	seen++;
	all_sane = all_sane && (o->family == AF_INET || o->family == AF_INET6) && o->ip[0] &&
		   !(o->mac[0] & 1) && strncmp(o->ip, "fe80:", 5) != 0;
}

static void test_dump_and_receive_work_unprivileged(void)
{
	struct lis_error err = { 0 };
	struct wm_neigh *n = wm_neigh_open(count_obs, NULL, &err);
	if (!CHECKF(n != NULL, "%s", err.msg))
		return;
	unsigned count = 99999;
	seen = 0;
	all_sane = true;
	CHECKF(wm_neigh_dump(n, &count, &err) == 0, "%s", err.msg);
	CHECK(count == seen);
	CHECK(all_sane);
	CHECK(wm_neigh_fd(n) >= 0);
	bool resynced = true;
	CHECKF(wm_neigh_receive(n, NULL, &resynced, &err) == 0, "%s", err.msg);
	CHECK(!resynced);
	wm_neigh_close(n);
	wm_neigh_close(NULL);
}

int main(void)
{
	t_run("test_known_states_with_a_mac_are_usable", test_known_states_with_a_mac_are_usable);
	t_run("test_unknown_states_proxies_and_odd_addresses_are_not",
	      test_unknown_states_proxies_and_odd_addresses_are_not);
	t_run("test_dump_and_receive_work_unprivileged", test_dump_and_receive_work_unprivileged);
	return t_done();
}
