/* wm_delta_apply: changes applied to a live snapshot in place, as lisd's loader applies the
 * change feed. Each kind of key (location, subnet, port, BSSID, endpoint, bindings, VPN
 * binding, declaration) is upserted and deleted; subnet deltas agree with a linear scan; a
 * full table asks for a load; readers running during deltas only ever see a whole old or a
 * whole new answer. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "wm_fixture.h"
#include "wm_resolve.h"

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* ---- building a delta through its sink, as db_changes_poll does ---- */

static struct wm_delta *dx;
static const struct db_delta_sink *dk;

static void d_begin(struct wm_snapshot *s)
{
	dx = wm_delta_new(s);
	dk = wm_delta_sink(dx);
}

/* e: an enum db_entity, DB_FEED_DECLARED or DB_FEED_VPN */
static void d_key(int e, long long id, const char *text)
{
	struct lis_error err = {0};
	fx_check(dk->key(dk->rows.ctx, e, id, text, &err), &err);
}

static int d_end(void)
{
	struct lis_error err = {0};
	int rc = wm_delta_apply(dx, &err);
	if (rc < 0)
		t_diag("wm_delta_apply: %s", err.msg);
	wm_delta_free(dx);
	dx = NULL;
	return rc;
}

/* The fixture's row helpers feed fx_b's sink: point them at the delta's for a moment. */
static void d_location(long long id, long long site, const char *key, const char *room)
{
	struct lis_error err = {0};
	struct db_rec_location r = {.id = id, .site_id = site, .key = key, .lang = "en-US"};
	r.civic[CIVIC_COUNTRY] = "US";
	r.civic[CIVIC_ROOM] = room;
	d_key(DB_LOCATIONS, id, NULL);
	fx_check(dk->rows.location(dk->rows.ctx, &r, &err), &err);
}

static void d_subnet(const char *prefix, long long loc)
{
	struct lis_error err = {0};
	struct db_rec_subnet r = {.prefix = prefix, .location_id = loc};
	d_key(DB_SUBNETS, 0, prefix);
	if (loc)
		fx_check(dk->rows.subnet(dk->rows.ctx, &r, &err), &err);
}

static void d_port(long long sw, const char *port, long long loc, bool present)
{
	struct lis_error err = {0};
	struct db_rec_port r = {.switch_id = sw, .port_id = port, .location_id = loc};
	d_key(DB_PORTS, sw, port);
	if (present)
		fx_check(dk->rows.port(dk->rows.ctx, &r, &err), &err);
}

static void d_endpoint(long long id, const char *key, const char *mac, const char *uri,
		       long long loc)
{
	struct lis_error err = {0};
	struct db_rec_endpoint r = {.id = id, .key = key, .class_ = "desk_phone", .uri = uri,
				    .location_id = loc};
	if (mac) {
		r.has_mac = true;
		fx_mac(mac, r.mac);
	}
	d_key(DB_ENDPOINTS, id, NULL);
	if (key)
		fx_check(dk->rows.endpoint(dk->rows.ctx, &r, &err), &err);
}

static void d_bind_port(const char *mac, long long sw, const char *port, time_t seen)
{
	struct lis_error err = {0};
	struct db_rec_binding r = {.kind = DB_BIND_MAC_PORT, .switch_id = sw, .port_id = port,
				   .first_seen = seen, .last_seen = seen, .source = "snmp"};
	fx_mac(mac, r.mac);
	fx_check(dk->rows.binding(dk->rows.ctx, &r, &err), &err);
}

static const char *room_of(const struct wm_location *l)
{
	return l && l->civic.field[CIVIC_ROOM] ? l->civic.field[CIVIC_ROOM] : "-";
}

/* ---- cases ---- */

static void test_subnet_deltas_agree_with_a_linear_scan(void)
{
	enum { N = 400, ROUNDS = 60, PER = 20, Q = 3000 };
	static uint32_t net[N];
	static unsigned len[N];
	static long long loc[N];  /* 0: not stored */
	fx_begin();
	fx_site(1, "hq", false, 0);
	for (int i = 1; i <= 8; i++) {
		char k[8];
		snprintf(k, sizeof k, "l%d", i);
		fx_location(i, 1, k, false);
	}
	for (int i = 0; i < N; i++) {
		len[i] = 8 + rnd() % 25;
		net[i] = (rnd() & 0xc00f0f0fu) & ~0u << (32 - len[i]);
		for (int j = 0; j < i; j++)
			if (net[j] == net[i] && len[j] == len[i])
				len[i] = 0; /* a duplicate: not used */
	}
	struct wm_snapshot *s = fx_end();
	int wrong = 0, applied = 0;
	for (int round = 0; round < ROUNDS; round++) {
		d_begin(s);
		int picked[PER];
		for (int k = 0; k < PER; k++) {
			/* distinct keys: the feed hands over each key's one current row */
			int i = picked[k] = (int)(rnd() % N);
			bool again = false;
			for (int j = 0; j < k; j++)
				again |= picked[j] == i;
			if (!len[i] || again)
				continue;
			char text[32];
			snprintf(text, sizeof text, "%u.%u.%u.%u/%u", net[i] >> 24,
				 net[i] >> 16 & 255, net[i] >> 8 & 255, net[i] & 255, len[i]);
			/* a third of the time deleted, else (re)pointed at one of 8 locations */
			loc[i] = rnd() % 3 == 0 ? 0 : 1 + rnd() % 8;
			d_subnet(text, loc[i]);
		}
		applied += d_end() == 0;
		for (int q = 0; q < Q / ROUNDS; q++) {
			uint32_t a = rnd() & 0xc11f1f1fu;
			int best = -1;
			for (int i = 0; i < N; i++)
				if (len[i] && loc[i] && (a & ~0u << (32 - len[i])) == net[i] &&
				    (best < 0 || len[i] > len[best]))
					best = i;
			char ip[20];
			snprintf(ip, sizeof ip, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
				 a & 255);
			const struct wm_location *l = wm_lookup_subnet(s, ip, NULL, 0);
			bool ok = best < 0 ? !l : l && l->id == loc[best];
			if (!ok && wrong++ < 5)
				t_diag("%s: got %s, want %lld", ip, l ? l->key : "none",
				       best < 0 ? 0 : loc[best]);
		}
	}
	CHECKF(applied == ROUNDS, "%d of %d deltas applied", applied, ROUNDS);
	CHECKF(wrong == 0, "%d wrong answers", wrong);
	wm_snapshot_free(s);
}

/* IPv6 prefixes up to /64 and longer ones are kept apart: each kind is added at a length
 * the snapshot had no subnet of, repointed, deleted and added again. */
static void test_ipv6_subnets_of_new_lengths_added_repointed_deleted(void)
{
	static const struct {
		long long at48, at128;        /* 2001:db8:1::/48, 2001:db8:1::7/128; 0: deleted */
		long long want7, want8;       /* location of 2001:db8:1::7 and of ::8 then */
		const char *match7;
	} steps[] = {
		{2, 1, 1, 2, "2001:db8:1::7/128"},
		{0, 2, 2, 1, "2001:db8:1::7/128"},
		{1, 0, 1, 1, "2001:db8:1::/48"},
		{1, 1, 1, 1, "2001:db8:1::7/128"},
	};
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_location(1, 1, "l1", false);
	fx_location(2, 1, "l2", false);
	fx_subnet("2001:db8::/32", 1);
	struct wm_snapshot *s = fx_end();
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		char m[64];
		d_begin(s);
		d_subnet("2001:db8:1::/48", steps[i].at48);
		d_subnet("2001:db8:1::7/128", steps[i].at128);
		CHECKF(d_end() == 0, "step %zu", i);
		const struct wm_location *l = wm_lookup_subnet(s, "2001:db8:1::7", m, sizeof m);
		CHECKF(l && l->id == steps[i].want7, "step %zu", i);
		CHECK_STR(m, steps[i].match7);
		l = wm_lookup_subnet(s, "2001:db8:1::8", NULL, 0);
		CHECKF(l && l->id == steps[i].want8, "step %zu", i);
	}
	wm_snapshot_free(s);
}

/* The port points at location 2; the location gets a new room, then is deleted. */
static void test_location_new_version_then_deleted(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_location(1, 1, "floor", false);
	fx_location(2, 1, "room-a", false);
	fx_switch(1, 1, "sw1", "00:1b:54:aa:00:01", 1);
	fx_port(1, "Gi1", 2);
	struct wm_snapshot *s = fx_end();
	const struct wm_switch *sw = wm_lookup_switch(s, "00:1b:54:aa:00:01");
	const struct wm_port *p = wm_lookup_port(s, sw, "Gi1");
	if (!CHECK(p))
		goto out;
	const struct wm_location *v1 = WM_LOCATION_OF(p);
	CHECK(strcmp(room_of(v1), "room-a") == 0);
	for (int i = 0; i < 3; i++) {
		char room[16];
		snprintf(room, sizeof room, "room-b%d", i);
		d_begin(s);
		d_location(2, 1, "room-a", room);
		CHECK(d_end() == 0);
		/* the port still holds version 1; it reads the newest */
		CHECKF(strcmp(room_of(WM_LOCATION_OF(p)), room) == 0, "got %s",
		       room_of(WM_LOCATION_OF(p)));
		CHECK(strcmp(room_of(wm_location_current(v1)), room) == 0);
	}
	d_begin(s);
	d_key(DB_LOCATIONS, 2, NULL);
	CHECK(d_end() == 0);
	CHECK(WM_LOCATION_OF(p) == NULL);
	CHECK(wm_location_current(v1) == NULL);
	/* a location whose site the snapshot lacks: only a load can place it */
	d_begin(s);
	d_location(3, 99, "elsewhere", "x");
	CHECK(d_end() == 1);
out:
	wm_snapshot_free(s);
}

static void test_port_added_changed_deleted(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_location(1, 1, "floor", false);
	fx_location(2, 1, "room", false);
	fx_switch(1, 1, "sw1", "00:1b:54:aa:00:01", 1);
	fx_bind(DB_BIND_MAC_PORT, "00:50:b6:00:00:01", 1, "Gi9", NULL, NULL, 1000);
	struct wm_snapshot *s = fx_end();
	const struct wm_switch *sw = wm_lookup_switch(s, "00:1b:54:aa:00:01");
	const struct wm_binding *b[4];
	uint8_t mac[6];
	fx_mac("00:50:b6:00:00:01", mac);
	if (!CHECK(wm_bindings_mac_port(s, mac, b, 4) == 1))
		goto out;
	CHECK(wm_binding_port(s, b[0]) == NULL);   /* not in the wiremap */
	d_begin(s);
	d_port(1, "Gi9", 2, true);
	CHECK(d_end() == 0);
	const struct wm_port *p = wm_binding_port(s, b[0]);
	CHECK(p && WM_LOCATION_OF(p) && WM_LOCATION_OF(p)->id == 2);
	d_begin(s);
	d_port(1, "Gi9", 0, true);                  /* its location taken away */
	CHECK(d_end() == 0);
	CHECK(wm_binding_port(s, b[0]) == p && WM_LOCATION_OF(p) == NULL);
	d_begin(s);
	d_port(1, "Gi9", 0, false);                 /* the row deleted */
	CHECK(d_end() == 0);
	CHECK(wm_binding_port(s, b[0]) == NULL);
	CHECK(wm_lookup_port(s, sw, "Gi9") == NULL);
	/* a port of a switch the snapshot does not have: a load is needed */
	d_begin(s);
	d_port(77, "Gi1", 1, true);
	CHECK(d_end() == 1);
out:
	wm_snapshot_free(s);
}

static void test_endpoint_mac_moves_and_uri_stays(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_location(1, 1, "desk", false);
	fx_endpoint(5, "alice", "00:50:b6:00:00:0a", "sip:alice@example.com", NULL, 1);
	struct wm_snapshot *s = fx_end();
	uint8_t m1[6], m2[6];
	fx_mac("00:50:b6:00:00:0a", m1);
	fx_mac("00:50:b6:00:00:0b", m2);
	CHECK(wm_lookup_endpoint_mac(s, m1) != NULL);
	d_begin(s);
	d_endpoint(5, "alice", "00:50:b6:00:00:0b", "sip:alice@example.com", 1);
	CHECK(d_end() == 0);
	CHECK(wm_lookup_endpoint_mac(s, m1) == NULL);
	const struct wm_endpoint *e = wm_lookup_endpoint_mac(s, m2);
	CHECK(e && e->id == 5);
	CHECK(wm_lookup_endpoint_uri(s, "sip:alice@example.com") == e);
	d_begin(s);
	d_endpoint(5, NULL, NULL, NULL, 0);          /* deleted */
	CHECK(d_end() == 0);
	CHECK(wm_lookup_endpoint_mac(s, m2) == NULL);
	CHECK(wm_lookup_endpoint_uri(s, "sip:alice@example.com") == NULL);
	struct wm_snapshot_stats st;
	wm_snapshot_get_stats(s, &st);
	CHECK(st.endpoints == 0 && st.deltas == 2);
	wm_snapshot_free(s);
}

/* Subnets and endpoints stay fed by key with classes (migration 0008): a subnet that becomes
 * remote, and an endpoint whose class and owner change. */
static void test_subnet_turns_remote_and_endpoint_changes_class_and_owner(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_location(10, 1, "hq-net", false);
	fx_subnet("10.8.0.0/16", 10);
	fx_class("desk_phone", "pbst", 0, 0, "site-default");
	fx_class("softphone", "pbstd", 900, 86400, "declared");
	fx_endpoint(1, "lap", NULL, "sip:ann@example.com", NULL, 0);
	struct wm_snapshot *s = fx_end();
	bool remote = true;
	CHECK(wm_lookup_subnet_ex(s, "10.8.1.1", NULL, 0, &remote) != NULL && !remote);
	const struct wm_endpoint *e = wm_lookup_endpoint_uri(s, "sip:ann@example.com");
	CHECK(e && e->cls && strcmp(e->cls->key, "desk_phone") == 0 && !e->owner);

	d_begin(s);
	struct lis_error err = {0};
	struct db_rec_subnet n = {.prefix = "10.8.0.0/16", .remote = true};
	d_key(DB_SUBNETS, 0, n.prefix);
	fx_check(dk->rows.subnet(dk->rows.ctx, &n, &err), &err);
	struct db_rec_endpoint r = {.id = 1, .key = "lap", .class_ = "softphone", .owner = "ann",
				    .uri = "sip:ann@example.com"};
	d_key(DB_ENDPOINTS, 1, NULL);
	fx_check(dk->rows.endpoint(dk->rows.ctx, &r, &err), &err);
	CHECK(d_end() == 0);

	char matched[64];
	CHECK(wm_lookup_subnet_ex(s, "10.8.1.1", matched, sizeof matched, &remote) == NULL);
	CHECK(remote);
	CHECK_STR(matched, "10.8.0.0/16");
	CHECK(wm_lookup_subnet(s, "10.8.1.1", NULL, 0) == NULL);
	e = wm_lookup_endpoint_uri(s, "sip:ann@example.com");
	CHECK(e && e->cls && strcmp(e->cls->key, "softphone") == 0);
	CHECK(e && e->owner && strcmp(e->owner, "ann") == 0);
	wm_snapshot_free(s);
}

static void test_bindings_of_a_key_replaced_then_removed(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_location(1, 1, "a", false);
	fx_switch(1, 1, "sw1", "00:1b:54:aa:00:01", 0);
	fx_port(1, "Gi1", 1);
	fx_port(1, "Gi2", 1);
	fx_bind(DB_BIND_MAC_PORT, "00:50:b6:00:00:01", 1, "Gi1", NULL, NULL, 1000);
	struct wm_snapshot *s = fx_end();
	uint8_t mac[6];
	fx_mac("00:50:b6:00:00:01", mac);
	d_begin(s);
	d_key(DB_MAC_PORTS, 0, "00:50:b6:00:00:01");
	d_bind_port("00:50:b6:00:00:01", 1, "Gi1", 1000);
	d_bind_port("00:50:b6:00:00:01", 1, "Gi2", 2000);
	CHECK(d_end() == 0);
	const struct wm_binding *b[4];
	if (CHECK(wm_bindings_mac_port(s, mac, b, 4) == 2))
		CHECK(strcmp(b[0]->port_id, "Gi2") == 0 && b[0]->port != NULL);
	struct wm_snapshot_stats st;
	wm_snapshot_get_stats(s, &st);
	CHECK(st.bind_mac_port == 2);
	d_begin(s);
	d_key(DB_MAC_PORTS, 0, "00:50:b6:00:00:01");
	CHECK(d_end() == 0);
	CHECK(wm_bindings_mac_port(s, mac, b, 4) == 0);
	wm_snapshot_get_stats(s, &st);
	CHECK(st.bind_mac_port == 0 && st.delta_bytes > 0);
	wm_snapshot_free(s);
}

/* Tables never grow in place: past 3/4 full, the delta asks for a load. */
static void test_a_full_table_asks_for_a_load(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_switch(1, 1, "sw1", "00:1b:54:aa:00:01", 0);
	struct wm_snapshot *s = fx_end();
	int rc = 0, i;
	for (i = 0; i < 100 && rc == 0; i++) {
		char port[16];
		snprintf(port, sizeof port, "Gi%d", i);
		d_begin(s);
		d_port(1, port, 0, true);
		rc = d_end();
	}
	CHECKF(rc == 1 && i > 1, "rc %d after %d ports", rc, i);
	wm_snapshot_free(s);
}

static void d_vpn(const char *key, const char *ip, const char *user, time_t expires)
{
	struct lis_error err = {0};
	struct db_rec_vpn r = {.ip = ip, .user = user, .class_ = "softphone",
			       .bound_at = expires - 600, .expires_at = expires};
	d_key(DB_FEED_VPN, 0, key);
	if (ip)
		fx_check(dk->rows.vpn(dk->rows.ctx, &r, &err), &err);
}

static void d_declared(const char *user, const char *label, const char *rd)
{
	struct lis_error err = {0};
	struct db_rec_declared r = {.id = 7, .user = user, .label = label, .lang = "en-US",
				    .confirmed_at = 1000, .expires_at = 9000};
	r.civic[CIVIC_COUNTRY] = "US";
	r.civic[CIVIC_RD] = rd;
	d_key(DB_FEED_DECLARED, 0, user);
	if (label)
		fx_check(dk->rows.declared(dk->rows.ctx, &r, &err), &err);
}

/* Migration 0012: a VPN binding is keyed by its address (as PostgreSQL's host() spells it),
 * a declaration by its user; each is added, replaced and removed in place. */
static void test_vpn_bindings_and_declarations_added_replaced_removed(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_class("softphone", "pbstd", 900, 0, "declared");
	fx_vpn("10.8.0.5", "alice", "softphone", 5000);
	struct wm_snapshot *s = fx_end();
	struct wm_snapshot_stats st;

	d_begin(s);
	d_vpn("10.8.0.6", "10.8.0.6", "bob", 5000);
	d_vpn("2001:db8::5", "2001:db8:0:0::5", "carol", 5000);
	d_declared("bob", "home", "Oak");
	CHECK(d_end() == 0);
	const struct wm_vpn *v = wm_lookup_vpn(s, "10.8.0.6");
	CHECK(v && strcmp(v->user, "bob") == 0 && v->cls && strcmp(v->cls->key, "softphone") == 0);
	v = wm_lookup_vpn(s, "2001:db8::5");
	CHECK(v && strcmp(v->user, "carol") == 0);
	const struct wm_declared *dl = wm_lookup_declared(s, "bob");
	CHECK(dl && strcmp(dl->label, "home") == 0 &&
	      strcmp(dl->loc.civic.field[CIVIC_RD], "Oak") == 0);
	wm_snapshot_get_stats(s, &st);
	CHECK(st.vpn == 3 && st.declared == 1);

	/* replaced: another user on an address, another current declaration */
	d_begin(s);
	d_vpn("10.8.0.5", "10.8.0.5", "dave", 6000);
	d_declared("bob", "hotel", "Lake");
	CHECK(d_end() == 0);
	v = wm_lookup_vpn(s, "10.8.0.5");
	CHECK(v && strcmp(v->user, "dave") == 0 && v->expires_at == 6000);
	dl = wm_lookup_declared(s, "bob");
	CHECK(dl && strcmp(dl->label, "hotel") == 0);
	wm_snapshot_get_stats(s, &st);
	CHECK(st.vpn == 3 && st.declared == 1);

	/* removed: a key without a row */
	d_begin(s);
	d_vpn("10.8.0.6", NULL, NULL, 0);
	d_declared("bob", NULL, NULL);
	CHECK(d_end() == 0);
	CHECK(wm_lookup_vpn(s, "10.8.0.6") == NULL);
	CHECK(wm_lookup_declared(s, "bob") == NULL);
	CHECK(wm_lookup_vpn(s, "10.8.0.5") != NULL);
	wm_snapshot_get_stats(s, &st);
	CHECK(st.vpn == 2 && st.declared == 0);

	/* a key that is no address asks for a load */
	d_begin(s);
	d_vpn("not-an-ip", NULL, NULL, 0);
	CHECK(d_end() == 1);
	wm_snapshot_free(s);
}

/* A VPN concentrator binds thousands of addresses between two loads: the table has room. */
static void test_many_vpn_bindings_fit_without_a_load(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	struct wm_snapshot *s = fx_end();
	int rc = 0, i;
	for (i = 0; i < 1500 && rc == 0; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "10.8.%d.%d", i / 250, i % 250 + 1);
		d_begin(s);
		d_vpn(ip, ip, "u", 5000);
		rc = d_end();
	}
	CHECKF(rc == 0, "rc %d after %d bindings", rc, i);
	CHECK(wm_lookup_vpn(s, "10.8.5.250") != NULL);
	wm_snapshot_free(s);
}

/* ---- readers during deltas ---- */

static struct wm_snapshot *shared;
static atomic_bool done;
static atomic_long bad, reads;

static void *reader(void *arg)
{
	(void)arg;
	uint8_t mac[6];
	fx_mac("00:50:b6:00:00:01", mac);
	struct wm_policy pol = {.now = 3000, .max_binding_age = 86400};
	struct ident id = {.kind = IDENT_MAC, .value = "00:50:b6:00:00:01"};
	struct wm_target t = {.ids = &id, .n_ids = 1};
	while (!atomic_load(&done)) {
		struct wm_result res;
		struct lis_error err = {0};
		int rc = wm_resolve(shared, &t, &pol, &res, &err);
		const char *room = rc == 1 ? room_of(res.loc) : "none";
		/* every version of location 2 is "r-..." and location 3 is "other" */
		if (rc != 1 || (strncmp(room, "r-", 2) != 0 && strcmp(room, "other") != 0))
			atomic_fetch_add(&bad, 1);
		const struct wm_location *l = wm_lookup_subnet(shared, "10.9.1.1", NULL, 0);
		if (l && strncmp(room_of(l), "r-", 2) != 0 && strcmp(room_of(l), "other") != 0)
			atomic_fetch_add(&bad, 1);
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void test_readers_during_deltas_see_whole_answers(void)
{
	fx_begin();
	fx_site(1, "hq", false, 0);
	fx_location(1, 1, "floor", false);
	fx_location(2, 1, "r-0", false);
	fx_location(3, 1, "other", false);
	fx_switch(1, 1, "sw1", "00:1b:54:aa:00:01", 1);
	fx_port(1, "Gi1", 2);
	fx_port(1, "Gi2", 3);
	fx_bind(DB_BIND_MAC_PORT, "00:50:b6:00:00:01", 1, "Gi1", NULL, NULL, 1000);
	shared = fx_end();
	pthread_t th[2];
	int started = 0;
	for (int i = 0; i < 2; i++)
		started += pthread_create(&th[i], NULL, reader, NULL) == 0;
	int failed = 0;
	for (int i = 0; i < 3000; i++) {
		char room[16];
		snprintf(room, sizeof room, "r-%d", i);
		d_begin(shared);
		switch (i % 4) {
		case 0:
			d_location(2, 1, "room", room);
			break;
		case 1:
			d_key(DB_MAC_PORTS, 0, "00:50:b6:00:00:01");
			d_bind_port("00:50:b6:00:00:01", 1, i % 8 == 1 ? "Gi2" : "Gi1", 1000 + i);
			break;
		case 2:
			d_subnet("10.9.0.0/16", 2 + (i % 8 == 2));
			break;
		default:
			d_port(1, "Gi1", 2, true);
		}
		failed += d_end() != 0;
	}
	atomic_store(&done, true);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	CHECK(started == 2);
	CHECKF(failed == 0, "%d deltas not applied", failed);
	CHECKF(atomic_load(&bad) == 0, "%ld of %ld reads saw a broken answer", atomic_load(&bad),
	       atomic_load(&reads));
	t_diag("%ld reads during 3000 deltas", atomic_load(&reads));
	wm_snapshot_free(shared);
}

/* ---- a large snapshot built with its memory prefaulted ---- */

/* Large enough that the arena takes huge blocks (past 16 MB) and tables need more than a
 * huge page each: the blocks wm_builder_prefault() has written ahead of the builder. */
#define BIG_SWITCHES 100
#define BIG_PORTS 3000      /* per switch */
#define BIG_DEVICES 20000
#define BIG_SUBNETS 70000

static void big_mac(int d, char *buf, size_t size)
{
	snprintf(buf, size, "00:50:b6:%02x:%02x:%02x", d >> 16 & 255, d >> 8 & 255, d & 255);
}

static void big_ip(int d, char *buf, size_t size)
{
	snprintf(buf, size, "%d.%d.%d.9", 20 + (d >> 16), d >> 8 & 255, d & 255);
}

static struct wm_snapshot *big(bool prefault)
{
	char a[64], b[64], c[64];
	fx_begin();
	if (prefault)
		wm_builder_prefault(fx_b);
	fx_site(1, "hq", false, 0);
	for (int l = 1; l <= 100; l++) {
		snprintf(a, sizeof a, "loc-%d", l);
		fx_location(l, 1, a, false);
	}
	for (int w = 1; w <= BIG_SWITCHES; w++) {
		snprintf(a, sizeof a, "sw-%d", w);
		snprintf(b, sizeof b, "02:00:00:00:%02x:%02x", w >> 8, w & 255);
		fx_switch(w, 1, a, b, 0);
		for (int p = 0; p < BIG_PORTS; p++) {
			snprintf(a, sizeof a, "Gi1/0/%d", p);
			fx_port(w, a, 1 + (w * BIG_PORTS + p) % 100);
		}
	}
	for (int i = 0; i < BIG_SUBNETS; i++) {
		snprintf(a, sizeof a, "%d.%d.%d.0/24", 20 + (i >> 16), i >> 8 & 255, i & 255);
		fx_subnet(a, 1 + i % 97);
	}
	for (int d = 0; d < BIG_DEVICES; d++) {
		big_mac(d, a, sizeof a);
		big_ip(d, b, sizeof b);
		snprintf(c, sizeof c, "Gi1/0/%d", d % BIG_PORTS);
		fx_bind(DB_BIND_MAC_PORT, a, 1 + d % BIG_SWITCHES, c, NULL, NULL, 1000 + d);
		fx_bind(DB_BIND_IP_MAC, a, 0, NULL, b, NULL, 1000 + d);
		snprintf(c, sizeof c, "sip:u%d@example.com", d);
		snprintf(b, sizeof b, "ep-%d", d);
		fx_endpoint(d + 1, b, a, c, NULL, 1 + d % 89);
	}
	return fx_end();
}

static const char *key_of(const struct wm_location *l)
{
	return l ? l->key : "-";
}

/* What device d's lookups find in s, as one line. */
static void big_finds(const struct wm_snapshot *s, int d, char *out, size_t size)
{
	char mac[32], ip[32], uri[64];
	uint8_t m[6];
	big_mac(d, mac, sizeof mac);
	big_ip(d, ip, sizeof ip);
	snprintf(uri, sizeof uri, "sip:u%d@example.com", d);
	fx_mac(mac, m);
	const struct wm_binding *pb[4], *ib[4];
	size_t np = wm_bindings_mac_port(s, m, pb, 4), ni = wm_bindings_ip_mac(s, ip, ib, 4);
	const struct wm_port *port = np ? wm_binding_port(s, pb[0]) : NULL;
	const struct wm_endpoint *e = wm_lookup_endpoint_uri(s, uri);
	const struct wm_endpoint *em = wm_lookup_endpoint_mac(s, m);
	snprintf(out, size, "%zu %s/%s %s | %zu %s | %s %s %s | %s", np,
		 port ? port->sw->key : "-", port ? port->port_id : "-",
		 port ? key_of(WM_LOCATION_OF(port)) : "-", ni,
		 ni && memcmp(ib[0]->mac, m, 6) == 0 ? "mac" : "-", e ? e->key : "-",
		 em ? em->key : "-", e ? key_of(WM_LOCATION_OF(e)) : "-",
		 key_of(wm_lookup_subnet(s, ip, NULL, 0)));
}

static int threads_now(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

static void test_a_prefaulted_snapshot_finds_and_changes_like_a_plain_one(void)
{
	struct wm_snapshot *plain = big(false), *pre = big(true);
	if (!CHECK(plain && pre))
		return;
	struct wm_snapshot_stats sp, sq;
	wm_snapshot_get_stats(plain, &sp);
	wm_snapshot_get_stats(pre, &sq);
	/* about the same memory (the arena's blocks are cut differently), from elsewhere: most
	 * of it written before the builder came to it */
	CHECKF(sq.bytes <= sp.bytes + sp.bytes / 100 && sp.bytes <= sq.bytes + sq.bytes / 100,
	       "bytes %zu prefaulted, %zu plain", sq.bytes, sp.bytes);
	CHECKF(sp.prefaulted == 0 && sq.prefaulted > sq.bytes / 2, "prefaulted %zu of %zu",
	       sq.prefaulted, sq.bytes);
	CHECK(sq.ports == (size_t)BIG_SWITCHES * BIG_PORTS && sq.subnets == BIG_SUBNETS &&
	      sq.bind_mac_port == BIG_DEVICES && sq.endpoints == BIG_DEVICES);
	char x[256], y[256];
	int differ = 0, located = 0;
	for (int d = 0; d < BIG_DEVICES; d++) {
		big_finds(plain, d, x, sizeof x);
		big_finds(pre, d, y, sizeof y);
		if (strcmp(x, y) != 0 && differ++ < 3)
			t_diag("device %d: plain \"%s\", prefaulted \"%s\"", d, x, y);
		located += strstr(y, "loc-") != NULL && strncmp(y, "1 sw-", 5) == 0;
	}
	CHECKF(differ == 0, "%d devices found differently", differ);
	CHECKF(located == BIG_DEVICES, "%d of %d devices on a located port", located, BIG_DEVICES);
	struct wm_result r1, r2;
	for (int d = 0; d < BIG_DEVICES; d += 997) {
		char ip[32];
		big_ip(d, ip, sizeof ip);
		struct wm_policy pol = {.max_binding_age = 0};
		if (CHECK(fx_resolve(plain, &pol, &r1, ip, NULL, NULL, NULL) == 1 &&
			  fx_resolve(pre, &pol, &r2, ip, NULL, NULL, NULL) == 1))
			CHECK(strcmp(r1.loc->key, r2.loc->key) == 0 && r1.source == r2.source);
	}

	/* deltas: device 0 moves to another port (its switch and port looked up in the live
	 * tables); a subnet of a new length (a table of its own, not from the region) */
	char mac[32];
	big_mac(0, mac, sizeof mac);
	d_begin(pre);
	d_key(DB_MAC_PORTS, 0, mac);
	d_bind_port(mac, 7, "Gi1/0/42", 5000);
	d_subnet("20.0.0.0/28", 5);
	CHECK(d_end() == 0);
	big_finds(pre, 0, y, sizeof y);
	CHECKF(strncmp(y, "1 sw-7/Gi1/0/42 loc-", 20) == 0, "device 0 after the delta: %s", y);
	CHECK(strcmp(key_of(wm_lookup_subnet(pre, "20.0.0.9", NULL, 0)), "loc-5") == 0);
	wm_snapshot_free(plain);
	wm_snapshot_free(pre);

	/* a builder dropped before it finishes takes its writer with it */
	int before = threads_now();
	fx_begin();
	wm_builder_prefault(fx_b);
	CHECK(threads_now() == before + 1);
	fx_site(1, "hq", false, 0);
	wm_builder_free(fx_b);
	fx_b = NULL;
	CHECKF(threads_now() == before, "%d threads, %d before", threads_now(), before);
}

int main(void)
{
	t_run("subnet_deltas_agree_with_a_linear_scan",
	      test_subnet_deltas_agree_with_a_linear_scan);
	t_run("ipv6_subnets_of_new_lengths_added_repointed_deleted",
	      test_ipv6_subnets_of_new_lengths_added_repointed_deleted);
	t_run("location_new_version_then_deleted", test_location_new_version_then_deleted);
	t_run("port_added_changed_deleted", test_port_added_changed_deleted);
	t_run("endpoint_mac_moves_and_uri_stays", test_endpoint_mac_moves_and_uri_stays);
	t_run("subnet_turns_remote_and_endpoint_changes_class_and_owner",
	      test_subnet_turns_remote_and_endpoint_changes_class_and_owner);
	t_run("bindings_of_a_key_replaced_then_removed",
	      test_bindings_of_a_key_replaced_then_removed);
	t_run("a_full_table_asks_for_a_load", test_a_full_table_asks_for_a_load);
	t_run("vpn_bindings_and_declarations_added_replaced_removed",
	      test_vpn_bindings_and_declarations_added_replaced_removed);
	t_run("many_vpn_bindings_fit_without_a_load", test_many_vpn_bindings_fit_without_a_load);
	t_run("readers_during_deltas_see_whole_answers",
	      test_readers_during_deltas_see_whole_answers);
	t_run("a_prefaulted_snapshot_finds_and_changes_like_a_plain_one",
	      test_a_prefaulted_snapshot_finds_and_changes_like_a_plain_one);
	return t_done();
}
