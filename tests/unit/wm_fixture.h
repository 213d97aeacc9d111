/* Building small wiremaps for the wiremap unit tests, row by row through the builder's sink
 * exactly as the database loader would. */
#ifndef WM_FIXTURE_H
#define WM_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wm_builder.h"
#include "wm_resolve.h"
#include "ident.h"

static struct wm_builder *fx_b;

static inline void fx_begin(void)
{
	fx_b = wm_builder_new();
}

static inline void fx_check(int rc, struct lis_error *err)
{
	if (rc < 0)
		t_diag("sink refused a row: %s", err->msg);
}

static inline void fx_site(long long id, const char *key, bool allow, long long def)
{
	struct lis_error err = {0};
	struct db_rec_site r = {.id = id, .key = key, .name = key, .default_location_id = def,
				.allow_default = allow};
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->site(k->ctx, &r, &err), &err);
}

static inline void fx_location(long long id, long long site, const char *key, bool geo)
{
	struct lis_error err = {0};
	struct db_rec_location r = {.id = id, .site_id = site, .key = key, .lang = "en-US"};
	r.civic[CIVIC_COUNTRY] = "US";
	r.civic[CIVIC_A1] = "CA";
	r.civic[CIVIC_ROOM] = key;
	if (geo) {
		r.has_geo = true;
		r.lat = 37.5;
		r.lon = -122.25;
		r.uncertainty = 12;
	}
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->location(k->ctx, &r, &err), &err);
}

static inline void fx_subnet(const char *prefix, long long loc)
{
	struct lis_error err = {0};
	struct db_rec_subnet r = {.prefix = prefix, .location_id = loc};
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->subnet(k->ctx, &r, &err), &err);
}

static inline void fx_switch(long long id, long long site, const char *key, const char *chassis,
		      long long loc)
{
	struct lis_error err = {0};
	struct db_rec_switch r = {.id = id, .site_id = site, .key = key, .chassis_id = chassis,
				  .location_id = loc};
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->sw(k->ctx, &r, &err), &err);
}

static inline void fx_port(long long sw, const char *port, long long loc)
{
	struct lis_error err = {0};
	struct db_rec_port r = {.switch_id = sw, .port_id = port, .location_id = loc};
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->port(k->ctx, &r, &err), &err);
}

static inline void fx_mac(const char *text, uint8_t out[6])
{
	if (ident_mac_parse(text, out) < 0)
		t_diag("fixture: bad MAC %s", text);
}

static inline void fx_bssid(const char *mac, unsigned len, const char *key, long long loc)
{
	struct lis_error err = {0};
	struct db_rec_bssid r = {.prefix_len = len, .key = key, .location_id = loc};
	fx_mac(mac, r.bssid);
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->bssid(k->ctx, &r, &err), &err);
}

static inline void fx_endpoint(long long id, const char *key, const char *mac, const char *uri,
			const char *tel, long long loc)
{
	struct lis_error err = {0};
	struct db_rec_endpoint r = {.id = id, .key = key, .class_ = "desk_phone", .uri = uri,
				    .tel = tel, .location_id = loc};
	if (mac) {
		r.has_mac = true;
		fx_mac(mac, r.mac);
	}
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->endpoint(k->ctx, &r, &err), &err);
}

/* An endpoint of a class, owned by a user (or not). */
static inline void fx_endpoint_of(long long id, const char *key, const char *cls, const char *owner,
				  const char *mac, const char *uri, const char *tel, long long loc)
{
	struct lis_error err = {0};
	struct db_rec_endpoint r = {.id = id, .key = key, .class_ = cls, .owner = owner,
				    .uri = uri, .tel = tel, .location_id = loc};
	if (mac) {
		r.has_mac = true;
		fx_mac(mac, r.mac);
	}
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->endpoint(k->ctx, &r, &err), &err);
}

/* The same, deactivated (endpoint.active false: offboarded). */
static inline void fx_endpoint_off(long long id, const char *key, const char *cls,
				   const char *owner, const char *mac, const char *uri,
				   long long loc)
{
	struct lis_error err = {0};
	struct db_rec_endpoint r = {.id = id, .key = key, .class_ = cls, .owner = owner,
				    .uri = uri, .location_id = loc, .deactivated = true};
	if (mac) {
		r.has_mac = true;
		fx_mac(mac, r.mac);
	}
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->endpoint(k->ctx, &r, &err), &err);
}

/* A deactivated user (lis_user.active false). */
static inline void fx_user_off(const char *key)
{
	struct lis_error err = {0};
	struct db_rec_user r = {.key = key};
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->user(k->ctx, &r, &err), &err);
}

/* A class: evidence as a string of letters (p port, b bssid, s subnet, t static, d
 * declared), as migration 0008 writes its defaults. */
static inline void fx_class(const char *key, const char *uses, unsigned max_age,
			    unsigned reconfirm, const char *no_fresh)
{
	struct lis_error err = {0};
	struct db_rec_class r = {
		.key = key, .use_port = strchr(uses, 'p'), .use_bssid = strchr(uses, 'b'),
		.use_subnet = strchr(uses, 's'), .use_static = strchr(uses, 't'),
		.use_declared = strchr(uses, 'd'), .max_binding_age = max_age,
		.reconfirm_interval = reconfirm, .no_fresh = no_fresh,
	};
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->cls(k->ctx, &r, &err), &err);
}

static inline void fx_remote_subnet(const char *prefix)
{
	struct lis_error err = {0};
	struct db_rec_subnet r = {.prefix = prefix, .remote = true};
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->subnet(k->ctx, &r, &err), &err);
}

/* A user's current declaration: a dispatchable US address on street `rd`. */
static inline void fx_declared(long long id, const char *user, const char *label, const char *rd,
			       time_t confirmed, time_t expires)
{
	struct lis_error err = {0};
	struct db_rec_declared r = {.id = id, .user = user, .label = label, .lang = "en-US",
				    .confirmed_at = confirmed, .expires_at = expires};
	r.civic[CIVIC_COUNTRY] = "US";
	r.civic[CIVIC_A1] = "IL";
	r.civic[CIVIC_A3] = "Chicago";
	r.civic[CIVIC_RD] = rd;
	r.civic[CIVIC_HNO] = "12";
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->declared(k->ctx, &r, &err), &err);
}

static inline void fx_vpn(const char *ip, const char *user, const char *cls, time_t expires)
{
	struct lis_error err = {0};
	struct db_rec_vpn r = {.ip = ip, .user = user, .class_ = cls, .bound_at = expires - 3600,
			       .expires_at = expires};
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->vpn(k->ctx, &r, &err), &err);
}

static inline void fx_bind(enum db_binding_kind kind, const char *mac, long long sw, const char *port,
		    const char *ip, const char *bssid, time_t last_seen)
{
	struct lis_error err = {0};
	struct db_rec_binding r = {.kind = kind, .switch_id = sw, .port_id = port, .ip = ip,
				   .first_seen = last_seen - 100, .last_seen = last_seen,
				   .source = "snmp"};
	fx_mac(mac, r.mac);
	if (bssid)
		fx_mac(bssid, r.bssid);
	const struct db_snapshot_sink *k = wm_builder_sink(fx_b);
	fx_check(k->binding(k->ctx, &r, &err), &err);
}

/* Resolve the target of these identities (NULL: absent) against s under p, into res. */
static inline int fx_resolve(const struct wm_snapshot *s, const struct wm_policy *p,
			     struct wm_result *res, const char *ip, const char *mac,
			     const char *sip, const char *tel)
{
	const struct {
		enum ident_kind kind;
		const char *value;
	} given[] = {{IDENT_IP, ip}, {IDENT_MAC, mac}, {IDENT_SIP, sip}, {IDENT_TEL, tel}};
	struct ident ids[4];
	struct wm_target t = {.ids = ids};
	for (size_t i = 0; i < 4; i++) {
		if (!given[i].value)
			continue;
		ids[t.n_ids] = (struct ident){.kind = given[i].kind};
		snprintf(ids[t.n_ids++].value, sizeof ids[0].value, "%s", given[i].value);
	}
	struct lis_error err = {0};
	int rc = wm_resolve(s, &t, p, res, &err);
	if (rc < 0)
		t_diag("wm_resolve: %s", err.msg);
	return rc;
}

static inline struct wm_snapshot *fx_end(void)
{
	struct lis_error err = {0};
	struct wm_snapshot *s = wm_builder_finish(fx_b, &err);
	if (!s)
		t_diag("wm_builder_finish: %s", err.msg);
	wm_builder_free(fx_b);
	fx_b = NULL;
	return s;
}

#endif
