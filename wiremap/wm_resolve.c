/* The resolver: walk from what a request says about its target (IP, MAC, SIP/tel URI, the
 * serving BSSID) through the wiremap, write down every piece of evidence met on the way, and
 * answer with the most precise one. Everything lives in the caller's wm_result: no
 * allocation, no lock, bounded work (a fixed number of MACs and bindings per MAC). */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "wm_resolve.h"
#include "ident.h"
#include "lis_strbuf.h"

/* Bounds of the walk: an IP rarely has more than one live MAC, a MAC more than a couple of
 * recent ports or APs; the newest ones are the ones that matter. */
#define MAX_MACS 4
#define MAX_BINDINGS 4
#define MAX_ENDPOINTS 6
/* Slots kept free for the later, less precise steps, so that many bindings cannot crowd
 * the subnet and the site default out of the list. */
#define RESERVE_STATIC 5
#define RESERVE_SUBNET 3

const char *wm_source_name(enum wm_source s)
{
	switch (s) {
	case WM_SRC_PORT:
		return "port";
	case WM_SRC_SWITCH:
		return "switch";
	case WM_SRC_BSSID:
		return "bssid";
	case WM_SRC_STATIC:
		return "static";
	case WM_SRC_CLIENT_BSSID:
		return "client-bssid";
	case WM_SRC_SUBNET:
		return "subnet";
	case WM_SRC_SITE_DEFAULT:
		return "site-default";
	case WM_SRC_DECLARED:
		return "declared";
	case WM_SRC_NONE:
		break;
	}
	return "none";
}

const char *wm_evidence_step(const struct wm_evidence *e)
{
	if (e->source != WM_SRC_NONE)
		return wm_source_name(e->source);
	switch (e->text) {
	case WM_EVT_VPN:
	case WM_EVT_VPN_USER_DEACTIVATED:
		return "vpn";
	case WM_EVT_ENDPOINT_DEACTIVATED:
		return "endpoint";
	default:
		return "ip->mac";
	}
}

struct walk {
	const struct wm_snapshot *s;
	const struct wm_policy *p;
	struct wm_result *res;
	struct wm_ip ip;                          /* the target's IP, when has_ip */
	bool has_ip;
	uint8_t macs[MAX_MACS][6];
	size_t n_macs;
	const struct wm_endpoint *eps[MAX_ENDPOINTS];
	const char *ep_how[MAX_ENDPOINTS];        /* "mac", "uri", "tel": how it was found */
	size_t n_eps;
	const struct wm_endpoint *off_eps[MAX_ENDPOINTS]; /* deactivated ones met: not used */
	size_t n_off;
	int ev_mac[WM_MAX_EVIDENCE];              /* index into macs, -1: none */
	const struct wm_site *ev_site[WM_MAX_EVIDENCE]; /* the site the evidence names */
	size_t n_stale;
	unsigned max_age;                         /* the class's, else the policy's */
	const struct wm_class *cls;
	const struct wm_vpn *vpn;                 /* the requester's live VPN binding */
	const struct wm_vpn *vpn_off;             /* ... when its user is deactivated: it
						   * still says the address is off premises */
	bool on_known;                            /* an office subnet or the office network
						   * itself places the device on premises */
};

static bool fresh(const struct wm_policy *p, const struct wm_binding *b)
{
	/* a binding from the future (clock skew between collector and lisd) counts as now */
	return b->last_seen >= p->now ||
	       (unsigned long long)(p->now - b->last_seen) <= p->max_binding_age;
}

static bool binding_is_fresh(const struct walk *w, const struct wm_binding *b)
{
	struct wm_policy p = {.now = w->p->now, .max_binding_age = w->max_age};
	return fresh(&p, b);
}

/* A new piece of evidence, its text's parts for the caller to fill; NULL when the list is
 * full (but for reserve slots). */
static struct wm_evidence *add_ev(struct walk *w, size_t reserve, enum wm_source src,
				  const struct wm_location *loc, const struct wm_binding *b,
				  int mac_idx, const struct wm_site *site, enum wm_evidence_text text)
{
	struct wm_result *r = w->res;
	if (r->n_evidence + reserve >= WM_MAX_EVIDENCE)
		return NULL;
	size_t i = r->n_evidence++;
	struct wm_evidence *e = &r->ev[i];
	memset(e, 0, sizeof *e);
	e->source = src;
	e->text = text;
	e->loc = loc = wm_location_current(loc);  /* a delta may have changed it since */
	if (b) {
		e->last_seen = b->last_seen;
		e->origin = b->source;
		e->stale = !binding_is_fresh(w, b);
		w->n_stale += e->stale;
	}
	w->ev_mac[i] = mac_idx;
	w->ev_site[i] = loc && loc->site ? loc->site : site;
	return e;
}

static int add_mac(struct walk *w, const uint8_t mac[6])
{
	for (size_t i = 0; i < w->n_macs; i++)
		if (memcmp(w->macs[i], mac, 6) == 0)
			return (int)i;
	if (w->n_macs == MAX_MACS)
		return -1;
	wm_prefetch_mac(w->s, mac);
	memcpy(w->macs[w->n_macs], mac, 6);
	return (int)w->n_macs++;
}

/* An offboarded endpoint named by the request: written down, never followed (no class,
 * owner, static location, nor its MAC when the request named it by URI or tel). */
static void endpoint_deactivated(struct walk *w, const struct wm_endpoint *e, const char *how)
{
	for (size_t i = 0; i < w->n_off; i++)
		if (w->off_eps[i] == e)
			return;
	if (w->n_off == MAX_ENDPOINTS)
		return;
	w->off_eps[w->n_off++] = e;
	if (!w->res->deactivated)
		w->res->deactivated = e;
	struct wm_evidence *ev = add_ev(w, RESERVE_STATIC, WM_SRC_NONE, NULL, NULL, -1, NULL,
					WM_EVT_ENDPOINT_DEACTIVATED);
	if (ev) {
		ev->endpoint = e;
		ev->name = how;
		ev->origin = "deactivated";
	}
}

static void add_endpoint(struct walk *w, const struct wm_endpoint *e, const char *how)
{
	if (!e)
		return;
	if (e->deactivated) {
		endpoint_deactivated(w, e, how);
		return;
	}
	for (size_t i = 0; i < w->n_eps; i++)
		if (w->eps[i] == e)
			return;
	if (w->n_eps == MAX_ENDPOINTS)
		return;
	__builtin_prefetch(e);
	w->ep_how[w->n_eps] = how;
	w->eps[w->n_eps++] = e;
}

/* A prefix (wm_prefix_format) into b */
static void put_prefix(struct strbuf *b, const struct wm_prefix *p)
{
	char net[INET6_ADDRSTRLEN + 8];
	wm_prefix_format(p, net, sizeof net);
	strbuf_puts(b, net);
}

static const char *site_key(const struct wm_site *s)
{
	return s && s->key ? s->key : "?";
}

/* Switch port evidence: the port's location, else its switch's default, else nothing (the
 * switch's site may still have a default: see site_default()). */
static void walk_ports(struct walk *w, int mi)
{
	const struct wm_binding *bs[MAX_BINDINGS];
	size_t n = wm_bindings_mac_port(w->s, w->macs[mi], bs, MAX_BINDINGS);
	for (size_t i = 0; i < n; i++) {
		const struct wm_binding *b = bs[i];
		const struct wm_switch *sw = b->sw;
		const struct wm_port *pt = sw ? wm_binding_port(w->s, b) : NULL;
		const struct wm_location *pl = pt ? WM_LOCATION_OF(pt) : NULL;
		struct wm_evidence *e;
		if (!sw)
			e = add_ev(w, RESERVE_STATIC, WM_SRC_PORT, NULL, b, mi, NULL,
				   WM_EVT_PORT_UNKNOWN_SWITCH);
		else if (pl)
			e = add_ev(w, RESERVE_STATIC, WM_SRC_PORT, pl, b, mi, sw->site, WM_EVT_PORT);
		else if (wm_location_current(sw->location))
			e = add_ev(w, RESERVE_STATIC, WM_SRC_SWITCH, sw->location, b, mi, sw->site,
				   WM_EVT_PORT_SWITCH_LOCATION);
		else
			e = add_ev(w, RESERVE_STATIC, WM_SRC_PORT, NULL, b, mi, sw->site,
				   WM_EVT_PORT_NO_LOCATION);
		if (!e)
			continue;
		memcpy(e->mac, w->macs[mi], 6);
		e->sw = sw;
		e->name = b->port_id ? b->port_id : "?";
		e->port_known = pt != NULL;
	}
}

static void bssid_text(const struct wm_bssid *ap, char *buf, size_t size)
{
	char m[18];
	struct strbuf b;
	strbuf_init_text(&b, buf, size);
	ident_mac_format(ap->bssid, m);
	if (ap->prefix_len == 48) {
		strbuf_cat(&b, "AP ", ap->key ? ap->key : m);
	} else {
		strbuf_cat(&b, "AP ", ap->key ? ap->key : "?", " (", m, "/");
		strbuf_put_int(&b, ap->prefix_len);
		strbuf_puts(&b, ")");
	}
}

static void walk_bssids(struct walk *w, int mi)
{
	const struct wm_binding *bs[MAX_BINDINGS];
	size_t n = wm_bindings_mac_bssid(w->s, w->macs[mi], bs, MAX_BINDINGS);
	for (size_t i = 0; i < n; i++) {
		const struct wm_bssid *a = wm_lookup_bssid(w->s, bs[i]->bssid);
		struct wm_evidence *e = a ? add_ev(w, RESERVE_STATIC, WM_SRC_BSSID, WM_LOCATION_OF(a),
						   bs[i], mi, NULL, WM_EVT_BSSID)
					  : add_ev(w, RESERVE_STATIC, WM_SRC_BSSID, NULL, bs[i], mi,
						   NULL, WM_EVT_BSSID_UNKNOWN);
		if (!e)
			continue;
		memcpy(e->mac, w->macs[mi], 6);
		memcpy(e->bssid, bs[i]->bssid, 6);
		e->ap = a;
	}
}

/* At a million entries each lookup is a cache miss or two, and each step of a walk waits
 * for the one before. So the steps of all the walks (the MACs' endpoints, ports and access
 * points, and their locations) are started together, stage by stage, each stage once the
 * one before has arrived, with other work in between: their misses overlap, and the walks
 * find what they read in the cache. Nothing is decided here.
 *
 * Stage 1 (add_mac): the slots of each MAC's endpoint and binding groups. Stage 2: the
 * groups (the endpoints: wm_resolve(), add_endpoint()). */
static void prefetch_groups(struct walk *w)
{
	for (size_t i = 0; i < w->n_macs; i++)
		wm_prefetch_bindings(w->s, w->macs[i]);
}

/* Stage 3: the ports and access points the groups name, with the locations their hints
 * give (binding_group(): those of the newest), and the endpoints' locations. */
static void prefetch_steps(struct walk *w)
{
	for (size_t i = 0; i < w->n_macs; i++) {
		wm_prefetch_ports(w->s, w->macs[i], MAX_BINDINGS);
		wm_prefetch_access_points(w->s, w->macs[i], MAX_BINDINGS);
	}
	for (size_t i = 0; i < w->n_eps; i++)
		__builtin_prefetch(__atomic_load_n(&w->eps[i]->location, __ATOMIC_ACQUIRE));
}

/* Stage 4: the locations of every port and access point, the older ones' included. */
static void prefetch_locations(struct walk *w)
{
	const struct wm_binding *bs[MAX_BINDINGS];
	const struct wm_port *ports[MAX_MACS * MAX_BINDINGS];
	const struct wm_bssid *ap[MAX_MACS * MAX_BINDINGS];
	size_t n_ports = 0, n_aps = 0;
	for (size_t i = 0; i < w->n_macs; i++) {
		size_t n = wm_bindings_mac_port(w->s, w->macs[i], bs, MAX_BINDINGS);
		for (size_t j = 0; j < n; j++)
			if (bs[j]->port)
				ports[n_ports++] = bs[j]->port;
		n = wm_bindings_mac_bssid(w->s, w->macs[i], bs, MAX_BINDINGS);
		for (size_t j = 0; j < n; j++)
			if ((ap[n_aps] = wm_lookup_bssid(w->s, bs[j]->bssid)))
				n_aps++;
	}
	for (size_t i = 0; i < n_ports; i++)
		__builtin_prefetch(__atomic_load_n(&ports[i]->location, __ATOMIC_ACQUIRE));
	for (size_t i = 0; i < n_aps; i++)
		__builtin_prefetch(__atomic_load_n(&ap[i]->location, __ATOMIC_ACQUIRE));
}

/* The site default answers for the site named by the strongest evidence that names one
 * (a switch, a located AP, endpoint or subnet), and only where that site allows it. The
 * access point a client reports names no site here: the client's word alone moves nothing. */
static void site_default(struct walk *w)
{
	struct wm_result *r = w->res;
	const struct wm_site *site = NULL;
	/* A class policy that asks for the site default with nothing fresh (no_fresh
	 * site-default) also takes the site where stale or uncounted evidence last put the
	 * device; without a class, only fresh evidence names it. */
	int passes = w->cls != &wm_class_none ? 2 : 1, pass;
	for (pass = 0; pass < passes && !site; pass++)
		for (int src = WM_SRC_PORT; src <= WM_SRC_SUBNET && !site; src++)
			for (size_t i = 0; i < r->n_evidence && !site; i++)
				if ((int)r->ev[i].source == src && src != WM_SRC_CLIENT_BSSID &&
				    (pass || (!r->ev[i].stale && !r->ev[i].excluded)) &&
				    w->ev_site[i])
					site = w->ev_site[i];
	if (!site || !wm_location_current(site->default_location))
		return;
	struct wm_evidence *e =
		!site->allow_default
			? add_ev(w, 0, WM_SRC_SITE_DEFAULT, NULL, NULL, -1, site,
				 WM_EVT_SITE_DEFAULT_REFUSED)
			: add_ev(w, 0, WM_SRC_SITE_DEFAULT, site->default_location, NULL, -1, site,
				 pass > 1 ? WM_EVT_SITE_DEFAULT_LAST : WM_EVT_SITE_DEFAULT);
	if (e)
		e->site = site;
}

static void find_disagreement(struct walk *w, size_t win)
{
	struct wm_result *r = w->res;
	const struct wm_site *base = w->ev_site[win];
	const struct wm_site *seen[WM_MAX_EVIDENCE];
	size_t n_seen = 0;
	struct strbuf b;
	if (!base)
		return;
	strbuf_attach_text(&b, r->disagree, sizeof r->disagree);
	for (size_t i = 0; i < r->n_evidence; i++) {
		const struct wm_evidence *e = &r->ev[i];
		const struct wm_site *s = e->loc ? e->loc->site : NULL;
		if (i == win || e->stale || e->unverified || !s || s == base)
			continue;
		bool dup = false;
		for (size_t j = 0; j < n_seen; j++)
			dup |= seen[j] == s;
		if (dup)
			continue;
		seen[n_seen++] = s;
		if (!r->disagreement)
			strbuf_cat(&b, wm_source_name(r->ev[win].source), " says ", site_key(base));
		r->disagreement = true;
		strbuf_cat(&b, ", ", wm_source_name(e->source), " says ", site_key(s));
	}
}

static int bad(struct lis_error *err, const char *what, const char *text)
{
	return lis_error_set(err, LIS_E_INPUT, "\"%s\" is not %s", text, what);
}

/* Step 1 (who is it) for each kind of identity the resolver locates by; a kind without an
 * entry is not supported. names: the identity names the device itself (its MAC, its
 * endpoint); learns: the device is learned from a binding of the identity (an IP's MACs).
 * Every names runs before any learns, so that what the request says comes before what a
 * binding says, in the MACs walked and among equally precise evidence. */
struct kind_step {
	void (*names)(struct walk *w, const struct ident *id);
	void (*learns)(struct walk *w, const struct ident *id);
};

static void names_mac(struct walk *w, const struct ident *id)
{
	uint8_t mac[6];
	if (ident_mac_parse(id->value, mac) == 0)
		add_mac(w, mac);
}

static void names_sip_endpoint(struct walk *w, const struct ident *id)
{
	add_endpoint(w, wm_lookup_endpoint_uri(w->s, id->value), ident_name(id));
}

static void names_tel_endpoint(struct walk *w, const struct ident *id)
{
	add_endpoint(w, wm_lookup_endpoint_tel(w->s, id->value), ident_name(id));
}

/* The IP's live bindings give its MACs; a stale one is written down but followed no
 * further. */
static void learns_ip_macs(struct walk *w, const struct ident *id)
{
	const struct wm_binding *bs[MAX_BINDINGS];
	(void)id; /* wm_resolve() parsed it once, into w->ip */
	size_t n = w->has_ip ? wm_bindings_ip_mac_at(w->s, &w->ip, bs, MAX_BINDINGS) : 0;
	for (size_t i = 0; i < n; i++) {
		bool fresh = binding_is_fresh(w, bs[i]);
		int mi = fresh ? add_mac(w, bs[i]->mac) : -1;
		struct wm_evidence *e = add_ev(w, RESERVE_STATIC, WM_SRC_NONE, NULL, bs[i], mi, NULL,
					       WM_EVT_IP_MAC);
		if (e) {
			memcpy(e->mac, bs[i]->mac, 6);
			e->name = bs[i]->ip;
		}
	}
}

static const struct kind_step kind_steps[IDENT_N_KINDS] = {
	[IDENT_IP] = {.learns = learns_ip_macs},
	[IDENT_MAC] = {.names = names_mac},
	[IDENT_SIP] = {.names = names_sip_endpoint},
	[IDENT_TEL] = {.names = names_tel_endpoint},
};

bool wm_resolve_locates_by(enum ident_kind k)
{
	return (unsigned)k < IDENT_N_KINDS && (kind_steps[k].names || kind_steps[k].learns);
}

/* wm_target_check(), keeping the normalized identities in norm[] (one slot per kind, in
 * table order; kind IDENT_N_KINDS marks an empty slot) and the BSSID in bssid. */
static int check_target(const struct wm_target *t, struct ident norm[IDENT_N_KINDS],
			uint8_t bssid[6], struct lis_error *err)
{
	for (int k = 0; k < IDENT_N_KINDS; k++)
		norm[k].kind = IDENT_N_KINDS;
	for (size_t i = 0; i < t->n_ids; i++) {
		const struct ident *id = &t->ids[i];
		if (!wm_resolve_locates_by(id->kind))
			return lis_error_set(err, LIS_E_INPUT, "identifier type %.64s is not supported",
					     ident_name(id));
		if (ident_find(t->ids, i, id->kind))
			return lis_error_set(err, LIS_E_INPUT,
					     "the device names more than one %s identifier; give one "
					     "of each type", ident_name(id));
		if (ident_parse(id->kind, id->value, &norm[id->kind]) < 0) {
			norm[id->kind].kind = IDENT_N_KINDS;
			return bad(err, ident_kind_info(id->kind)->what, id->value);
		}
	}
	if (t->bssid && ident_mac_parse(t->bssid, bssid) < 0)
		return bad(err, "a BSSID", t->bssid);
	if (t->n_ids == 0 && !t->bssid) {
		char kinds[128] = "";
		for (int k = 0; k < IDENT_N_KINDS; k++)
			if (wm_resolve_locates_by((enum ident_kind)k))
				lis_strcatf(kinds, sizeof kinds, "%s%s", kinds[0] ? ", " : "",
					    ident_kind_info((enum ident_kind)k)->name);
		return lis_error_set(err, LIS_E_INPUT, "no target: give an identity (%s) or a bssid",
				     kinds);
	}
	return 0;
}

int wm_target_check(const struct wm_target *t, struct lis_error *err)
{
	struct ident norm[IDENT_N_KINDS];
	uint8_t bssid[6];
	return check_target(t, norm, bssid, err);
}

static bool same_address(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
	return false;
}

/* The one MAC ip's fresh ip-mac bindings name. The bindings of an address are one per MAC
 * and come newest first, so the second one being fresh means two MACs. */
static bool sole_fresh_mac(const struct wm_snapshot *s, const char *ip,
			   const struct wm_policy *p, uint8_t mac[6])
{
	const struct wm_binding *bs[2];
	size_t n = wm_bindings_ip_mac(s, ip, bs, 2);
	if (n == 0 || !fresh(p, bs[0]) || (n == 2 && fresh(p, bs[1])))
		return false;
	memcpy(mac, bs[0]->mac, 6);
	return true;
}

/* The MAC an identity names: a MAC itself, or the MAC of the endpoint a SIP or tel URI
 * names. False for other kinds, unknown and deactivated endpoints (whose record vouches
 * for nothing: lisd(8) Offboarding) and endpoints without a MAC. */
static bool mac_named_by(const struct wm_snapshot *s, const struct ident *id, uint8_t mac[6])
{
	const struct wm_endpoint *e = NULL;
	switch (id->kind) {
	case IDENT_MAC:
		return ident_mac_parse(id->value, mac) == 0;
	case IDENT_SIP:
		e = s ? wm_lookup_endpoint_uri(s, id->value) : NULL;
		break;
	case IDENT_TEL:
		e = s ? wm_lookup_endpoint_tel(s, id->value) : NULL;
		break;
	default:
		return false;
	}
	if (!e || e->deactivated || !e->has_mac)
		return false;
	memcpy(mac, e->mac, 6);
	return true;
}

bool wm_target_is_at(const struct wm_snapshot *s, const struct wm_target *t, const char *ip,
		     const struct wm_policy *p)
{
	struct ident id[IDENT_N_KINDS];
	struct wm_target ids = {.ids = t->ids, .n_ids = t->n_ids};
	uint8_t bssid[6], ip_mac[6], named[6];
	int ip_has_mac = -1;                  /* not looked up yet */
	if (!ip || t->n_ids == 0 || check_target(&ids, id, bssid, NULL) < 0)
		return false;
	for (int k = 0; k < IDENT_N_KINDS; k++) {
		if (id[k].kind != (enum ident_kind)k)
			continue;
		if (k == IDENT_IP) {
			if (!same_address(id[k].value, ip))
				return false;
			continue;
		}
		if (!mac_named_by(s, &id[k], named))
			return false;
		if (ip_has_mac < 0)
			ip_has_mac = s && sole_fresh_mac(s, ip, p, ip_mac);
		if (!ip_has_mac || memcmp(named, ip_mac, 6) != 0)
			return false;
	}
	return true;
}

/* A client may name any access point (RFC 7105 measurements are the client's word), and so
 * move its own emergency location anywhere or map the access points. Its claim counts only
 * where the network's own evidence (a switch port, the controller's association, the
 * subnet of its address) puts the device in the same site; it then refines that evidence's
 * site, ranked below everything the network or an operator says. */
static void verify_client_ap(struct walk *w, size_t i)
{
	struct wm_result *r = w->res;
	struct wm_evidence *c = &r->ev[i];
	const struct wm_site *site = c->loc ? c->loc->site : NULL;
	enum wm_source backer = WM_SRC_NONE;
	for (size_t k = 0; site && k < r->n_evidence && !backer; k++) {
		const struct wm_evidence *e = &r->ev[k];
		bool network = e->source == WM_SRC_PORT || e->source == WM_SRC_SWITCH ||
			       e->source == WM_SRC_BSSID || e->source == WM_SRC_SUBNET;
		if (network && e->loc && !e->stale && e->loc->site == site)
			backer = e->source;
	}
	if (!c->loc)
		return;
	c->site = site;
	if (backer)
		c->backer = backer;
	else
		c->unverified = true;
}

/* The class whose policy applies: the first endpoint's (what the request names comes
 * first), else the class of the requester's live VPN binding, else none (every piece of
 * office evidence, as before classes). The user: the first endpoint owner, else the VPN
 * binding's. The class's max_binding_age holds from here on; the IP's bindings to MACs,
 * read before any endpoint was known, were judged by the policy's. */
static void choose_class(struct walk *w, const struct ident *ip)
{
	struct wm_result *r = w->res;
	const struct wm_vpn *v = ip && w->has_ip ? wm_lookup_vpn_at(w->s, &w->ip) : NULL;
	struct strbuf how;

	w->cls = &wm_class_none;
	strbuf_init_text(&how, r->class_how, sizeof r->class_how);
	if (v) {
		bool live = v->expires_at > w->p->now;
		bool user_on = wm_user_is_active(w->s, v->user);
		struct wm_evidence *e = add_ev(w, RESERVE_STATIC, WM_SRC_NONE, NULL, NULL, -1, NULL,
					       user_on ? WM_EVT_VPN : WM_EVT_VPN_USER_DEACTIVATED);
		if (e) {
			e->last_seen = v->bound_at;
			e->origin = "vpn";
			e->stale = !live;
			e->vpn = v;
		}
		w->vpn = live && user_on ? v : NULL;
		w->vpn_off = live && !user_on ? v : NULL;
		if (!user_on)
			r->user_deactivated = v->user;
	}
	/* a deactivated user's declarations are never answered (lisd(8) "Offboarding") */
	for (size_t i = 0; i < w->n_eps && !r->user; i++) {
		const char *owner = w->eps[i]->owner;
		if (owner && wm_user_is_active(w->s, owner))
			r->user = owner;
		else if (owner && !r->user_deactivated)
			r->user_deactivated = owner;
	}
	if (!r->user && w->vpn)
		r->user = w->vpn->user;
	if (w->n_eps) {
		const struct wm_endpoint *e = w->eps[0];
		w->cls = e->cls ? e->cls : &wm_class_none;
		strbuf_cat(&how, "endpoint ", e->key,
			   e->cls ? "" : " (its class is not in the wiremap: no policy)");
	} else if (w->vpn) {
		w->cls = w->vpn->cls ? w->vpn->cls : &wm_class_none;
		strbuf_cat(&how, "VPN binding of ", w->vpn->ip);
	} else if (r->deactivated) {
		strbuf_puts(&how, "endpoint ");
		strbuf_putsn(&how, r->deactivated->key, 64);
		strbuf_puts(&how, " is deactivated: located as an unknown device");
	} else if (w->vpn_off) {
		strbuf_puts(&how, "VPN binding of ");
		strbuf_putsn(&how, w->vpn_off->ip, 46);
		strbuf_puts(&how, ": its user is deactivated");
	} else {
		strbuf_puts(&how, "no endpoint or VPN binding names it");
	}
	r->cls = w->cls;
	if (w->cls->max_binding_age)
		w->max_age = w->cls->max_binding_age;
}

/* Off premises (47 CFR 9.16(b)(3)): an address the VPN concentrator bound, one in a remote
 * subnet, or one in no office subnet (where the wiremap has subnets) that the office
 * network does not see: no fresh binding of it to a MAC (a router's neighbour table holds
 * only hosts on its own links), no switch port or access point. A gap in the wiremap's
 * subnets is not taken for absence when the network itself sees the device. */
static void judge_premises(struct walk *w, const char *ip, bool remote,
			   const struct wm_prefix *matched)
{
	struct wm_result *r = w->res;
	bool seen = false, covered = false;
	struct strbuf b;
	for (size_t i = 0; i < r->n_evidence; i++) {
		const struct wm_evidence *e = &r->ev[i];
		bool ip_mac = e->source == WM_SRC_NONE && e->text == WM_EVT_IP_MAC;
		seen |= (ip_mac || e->source == WM_SRC_PORT || e->source == WM_SRC_SWITCH ||
			 e->source == WM_SRC_BSSID) && e->last_seen && !e->stale;
		covered |= e->source == WM_SRC_SUBNET && e->loc;
	}
	strbuf_init_text(&b, r->premises, sizeof r->premises);
	if (w->vpn || w->vpn_off) {
		const struct wm_vpn *v = w->vpn ? w->vpn : w->vpn_off;
		r->off_premises = true;
		strbuf_puts(&b, "off premises: ");
		strbuf_putsn(&b, ip, 64);
		strbuf_puts(&b, " is a VPN address of user ");
		strbuf_putsn(&b, v->user, 64);
		strbuf_puts(&b, w->vpn ? "" : " (deactivated)");
	} else if (remote) {
		char net[INET6_ADDRSTRLEN + 8];
		wm_prefix_format(matched, net, sizeof net);
		r->off_premises = true;
		strbuf_puts(&b, "off premises: ");
		strbuf_putsn(&b, ip, 64);
		strbuf_puts(&b, " is in remote subnet ");
		strbuf_putsn(&b, net, 64);
	} else if (!covered && !seen && wm_snapshot_has_subnets(w->s)) {
		r->off_premises = true;
		strbuf_puts(&b, "off premises: ");
		strbuf_putsn(&b, ip, 64);
		strbuf_puts(&b, " is in no office subnet, and the office network does not see "
			    "the device");
	} else {
		w->on_known = covered || seen;
		strbuf_cat(&b, "on premises: ", covered
			   ? "the address is in an office subnet"
			   : seen ? "the office network sees the device (neighbour table, switch "
				    "port or access point)"
				  : "the wiremap has no subnets to judge by");
	}
}

static unsigned evidence_kind(enum wm_source s)
{
	switch (s) {
	case WM_SRC_PORT:
	case WM_SRC_SWITCH:
		return WM_EV_PORT;
	case WM_SRC_BSSID:
	case WM_SRC_CLIENT_BSSID:
		return WM_EV_BSSID;
	case WM_SRC_STATIC:
		return WM_EV_STATIC;
	case WM_SRC_SUBNET:
		return WM_EV_SUBNET;
	case WM_SRC_DECLARED:
		return WM_EV_DECLARED;
	case WM_SRC_SITE_DEFAULT:
	case WM_SRC_NONE:
		break;
	}
	return 0;
}

/* Mark evidence from `from` on that the class does not count, that is an office's while
 * the target is off premises, or that is the user's declaration while the office network
 * places the target on premises (a home address is no answer for a device in the
 * office). */
static void exclude(struct walk *w, size_t from)
{
	struct wm_result *r = w->res;
	for (size_t i = from; i < r->n_evidence; i++) {
		struct wm_evidence *e = &r->ev[i];
		unsigned kind = evidence_kind(e->source);
		if (e->source == WM_SRC_NONE || !e->loc)
			continue;
		if (r->off_premises && e->source != WM_SRC_DECLARED) {
			e->why_excluded = WM_EXCL_OFF_PREMISES;
		} else if (w->on_known && e->source == WM_SRC_DECLARED) {
			e->why_excluded = WM_EXCL_ON_PREMISES;
		} else if (kind && !(w->cls->evidence & kind)) {
			e->why_excluded = WM_EXCL_CLASS;
			e->excluded_by = w->cls;
		} else {
			continue;
		}
		e->excluded = true;
	}
}

/* The user's current declared location, when the class counts declarations or falls back
 * on them: fresh until it expires and, with the class's reconfirm_interval, for that long
 * after it was last confirmed. Returns its evidence's index, or SIZE_MAX. */
static size_t walk_declared(struct walk *w)
{
	struct wm_result *r = w->res;
	const struct wm_class *c = w->cls;
	if (!(c->evidence & WM_EV_DECLARED) && c->no_fresh != WM_NO_FRESH_DECLARED)
		return SIZE_MAX;
	if (!r->user) {
		struct wm_evidence *e = add_ev(w, 0, WM_SRC_DECLARED, NULL, NULL, -1, NULL,
					       r->user_deactivated ? WM_EVT_USER_DEACTIVATED
								   : WM_EVT_NO_USER);
		if (e)
			e->name = r->user_deactivated;
		return SIZE_MAX;
	}
	const struct wm_declared *d = wm_lookup_declared(w->s, r->user);
	if (!d) {
		struct wm_evidence *e = add_ev(w, 0, WM_SRC_DECLARED, NULL, NULL, -1, NULL,
					       WM_EVT_NO_DECLARED);
		if (e)
			e->name = r->user;
		return SIZE_MAX;
	}
	time_t now = w->p->now;
	bool expired = d->expires_at <= now;
	bool unconfirmed = c->reconfirm_interval &&
			   now - d->confirmed_at > (time_t)c->reconfirm_interval;
	struct wm_evidence *e = add_ev(w, 0, WM_SRC_DECLARED, &d->loc, NULL, -1, NULL,
				       expired ? WM_EVT_DECLARED_EXPIRED
				       : unconfirmed ? WM_EVT_DECLARED_UNCONFIRMED
						     : WM_EVT_DECLARED);
	if (!e)
		return SIZE_MAX;
	e->declared = d;
	e->name = r->user;
	e->last_seen = d->confirmed_at;
	e->origin = "declared";
	e->stale = expired || unconfirmed;
	return r->n_evidence - 1;
}

int wm_resolve(const struct wm_snapshot *s, const struct wm_target *t, const struct wm_policy *p,
	       struct wm_result *res, struct lis_error *err)
{
	struct walk w = {.s = s, .p = p, .res = res, .max_age = p->max_binding_age};
	struct ident id[IDENT_N_KINDS];
	uint8_t bssid[6];

	/* the evidence is set one by one as it is added */
	memset(res, 0, offsetof(struct wm_result, ev));
	/* Check everything first: a malformed target is the requester's error, not unknown. */
	if (check_target(t, id, bssid, err) < 0)
		return -1;
	const struct ident *ip = id[IDENT_IP].kind == IDENT_IP ? &id[IDENT_IP] : NULL;
	/* the IP's bindings and subnet are both looked up: start loading both */
	w.has_ip = ip && wm_ip_parse(ip->value, &w.ip) == 0;
	if (w.has_ip)
		wm_prefetch_ip(s, &w.ip);

	/* 1. who is it: what the request names (MACs, endpoints), the endpoints' MACs, then
	 * what bindings of its identities say (an IP's MACs), then the MACs' endpoints */
	for (int k = 0; k < IDENT_N_KINDS; k++)
		if (id[k].kind == (enum ident_kind)k && kind_steps[k].names)
			kind_steps[k].names(&w, &id[k]);
	for (size_t i = 0; i < w.n_eps; i++)
		if (w.eps[i]->has_mac)
			add_mac(&w, w.eps[i]->mac);
	for (int k = 0; k < IDENT_N_KINDS; k++)
		if (id[k].kind == (enum ident_kind)k && kind_steps[k].learns)
			kind_steps[k].learns(&w, &id[k]);
	prefetch_groups(&w);
	for (size_t i = 0; i < w.n_macs; i++)
		add_endpoint(&w, wm_lookup_endpoint_mac(s, w.macs[i]), "mac");
	prefetch_steps(&w);
	/* ... and which policy applies to it (its class), and whose it is */
	choose_class(&w, ip);

	/* 2. switch ports; what steps 2 to 4 read is on its way (prefetch_groups() ...) */
	prefetch_locations(&w);
	for (size_t i = 0; i < w.n_macs; i++)
		walk_ports(&w, (int)i);

	/* 3. Wi-Fi: the associations the network observed (the controller's own word) */
	for (size_t i = 0; i < w.n_macs; i++)
		walk_bssids(&w, (int)i);
	/* ... and the access point the client says it is associated with: a claim anyone can
	 * make, checked against the network's evidence once it is all in (verify_client_ap) */
	size_t client_ap = SIZE_MAX;
	if (t->bssid) {
		const struct wm_bssid *a = wm_lookup_bssid(s, bssid);
		struct wm_evidence *e = add_ev(&w, RESERVE_STATIC, WM_SRC_CLIENT_BSSID,
					       a ? WM_LOCATION_OF(a) : NULL, NULL, -1, NULL,
					       WM_EVT_CLIENT_BSSID);
		if (e) {
			memcpy(e->mac, bssid, 6);
			e->ap = a;
			client_ap = res->n_evidence - 1;
		}
	}

	/* 4. static assignments */
	for (size_t i = 0; i < w.n_eps; i++) {
		const struct wm_endpoint *e = w.eps[i];
		int mi = -1;
		for (size_t j = 0; e->has_mac && j < w.n_macs; j++)
			if (memcmp(w.macs[j], e->mac, 6) == 0)
				mi = (int)j;
		const struct wm_location *el = WM_LOCATION_OF(e);
		struct wm_evidence *ev = add_ev(&w, RESERVE_SUBNET, WM_SRC_STATIC, el, NULL, mi, NULL,
						el ? WM_EVT_STATIC : WM_EVT_STATIC_NONE);
		if (ev) {
			ev->endpoint = e;
			ev->name = w.ep_how[i];
		}
	}

	/* 5. subnet */
	struct wm_prefix matched = {0};
	bool remote = false;
	if (ip) {
		const struct wm_location *loc =
			w.has_ip ? wm_lookup_subnet_at(s, &w.ip, &matched, &remote) : NULL;
		struct wm_evidence *e = add_ev(&w, 2, WM_SRC_SUBNET, loc, NULL, -1, NULL,
					       loc ? WM_EVT_SUBNET
					       : remote ? WM_EVT_REMOTE_SUBNET : WM_EVT_NO_SUBNET);
		if (e) {
			e->subnet = matched;
			/* inet_pton took it: at most INET6_ADDRSTRLEN - 1 characters */
			size_t n = strnlen(ip->value, sizeof e->ip - 1);
			memcpy(e->ip, ip->value, n);
			e->ip[n] = '\0';
		}
	}
	if (client_ap != SIZE_MAX)
		verify_client_ap(&w, client_ap);

	/* on or off premises; then what the class and the premises leave out */
	if (ip)
		judge_premises(&w, ip->value, remote, &matched);
	exclude(&w, 0);

	/* 6. site default: on premises, where the class and the site allow it */
	size_t n_before = res->n_evidence;
	/* (a class that falls back on declarations falls back on the site default instead
	 * where the office places the device) */
	if (!res->off_premises && (w.cls->no_fresh == WM_NO_FRESH_SITE_DEFAULT ||
				   (w.cls->no_fresh == WM_NO_FRESH_DECLARED && w.on_known)))
		site_default(&w);
	/* 7. the user's declared location */
	size_t declared = walk_declared(&w);
	exclude(&w, n_before);

	/* the most precise fresh evidence with a location wins; among equals, the first found
	 * (bindings come most recent first) */
	size_t win = SIZE_MAX;
	for (size_t i = 0; i < res->n_evidence; i++) {
		const struct wm_evidence *e = &res->ev[i];
		bool better = win == SIZE_MAX || e->source < res->ev[win].source;
		if (e->loc && !e->stale && !e->unverified && !e->excluded &&
		    e->source != WM_SRC_NONE && better)
			win = i;
	}
	/* nothing fresh: the class may answer the last declaration, marked unconfirmed */
	if (win == SIZE_MAX && declared != SIZE_MAX && !res->ev[declared].excluded &&
	    w.cls->no_fresh == WM_NO_FRESH_DECLARED && res->ev[declared].loc) {
		win = declared;
		res->unconfirmed = true;
	}
	if (w.n_macs) {
		res->has_mac = true;
		memcpy(res->mac, w.macs[win != SIZE_MAX && w.ev_mac[win] >= 0 ? w.ev_mac[win] : 0], 6);
	}
	if (win == SIZE_MAX) {
		char ident[200] = "";
		for (int k = 0; k < IDENT_N_KINDS; k++)
			if (id[k].kind == (enum ident_kind)k)
				lis_strcatf(ident, sizeof ident, "%s%s%s", *ident ? ", " : "",
					    ident_kind_info(id[k].kind)->label, id[k].value);
		if (t->bssid)
			lis_strcatf(ident, sizeof ident, "%sbssid %s", *ident ? ", " : "", t->bssid);
		if (res->off_premises)
			snprintf(res->unknown_reason, sizeof res->unknown_reason,
				 "%s is off premises and no current declared location locates it",
				 ident);
		else
			snprintf(res->unknown_reason, sizeof res->unknown_reason, "no switch port, "
				 "BSSID, endpoint, subnet or site default locates %s", ident);
		if (w.n_stale)
			lis_strcatf(res->unknown_reason, sizeof res->unknown_reason,
				    " (%zu stale binding%s ignored: older than %u s)", w.n_stale,
				    w.n_stale == 1 ? "" : "s", w.max_age);
		if (w.cls != &wm_class_none)
			lis_strcatf(res->unknown_reason, sizeof res->unknown_reason,
				    "; class %s: %s", w.cls->key,
				    w.cls->no_fresh == WM_NO_FRESH_UNKNOWN
					    ? "route on the carrier's location"
					    : "nothing to fall back on");
		if (res->deactivated)
			lis_strcatf(res->unknown_reason, sizeof res->unknown_reason,
				    "; endpoint %s is deactivated", res->deactivated->key);
		if (res->user_deactivated && !res->user)
			lis_strcatf(res->unknown_reason, sizeof res->unknown_reason,
				    "; user %s is deactivated", res->user_deactivated);
		return 0;
	}

	struct wm_evidence *e = &res->ev[win];
	struct strbuf note;
	strbuf_init_text(&note, res->note, sizeof res->note);
	e->chosen = true;
	res->source = e->source;
	res->loc = e->loc;
	switch (e->source) {
	case WM_SRC_BSSID:
	case WM_SRC_CLIENT_BSSID:
		res->method = "802.11";
		break;
	case WM_SRC_STATIC:
	case WM_SRC_SITE_DEFAULT:
	case WM_SRC_DECLARED:
		/* entered by a person: RFC 4119 method "Manual" */
		res->method = "Manual";
		break;
	default:
		res->method = "Wiremap";
		break;
	}
	if (e->source == WM_SRC_SUBNET) {
		res->fallback = true;
		strbuf_puts(&note, "fallback: location of subnet ");
		put_prefix(&note, &matched);
		strbuf_puts(&note, "; no switch-port or Wi-Fi evidence for this device");
	} else if (e->source == WM_SRC_CLIENT_BSSID) {
		strbuf_cat(&note, "location of the Wi-Fi access point the device reported, in the "
			   "site its network evidence gives (", site_key(w.ev_site[win]),
			   "); not seen by the network itself");
	} else if (e->source == WM_SRC_SITE_DEFAULT) {
		res->fallback = true;
		strbuf_cat(&note, "fallback: default location of site ", site_key(w.ev_site[win]),
			   "; no switch-port, Wi-Fi, static or subnet location for this device");
	} else if (e->source == WM_SRC_DECLARED) {
		const struct wm_declared *d = wm_lookup_declared(s, w.res->user);
		res->fallback = res->unconfirmed;
		strbuf_cat(&note, res->unconfirmed ? "unconfirmed: last " : "",
			   "location declared by user ", res->user, " (", d ? d->label : "?", ")",
			   res->unconfirmed
				   ? "; not current: it expired or was not confirmed again in time"
				   : "");
	}
	find_disagreement(&w, win);
	return 1;
}

/* "2026-01-02T03:04:05Z" */
static void utc_text(time_t t, char *buf, size_t size)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The evidence texts are written on every answer (the query log's evidence): from pieces,
 * without printf. */
const char *wm_evidence_text(const struct wm_evidence *e, char *buf, size_t size)
{
	char mac[18], bssid[18], ap[80], when[32];
	struct strbuf b;
	if (!size)
		return buf;
	strbuf_init_text(&b, buf, size);
	ident_mac_format(e->mac, mac);
	ident_mac_format(e->bssid, bssid);
	const char *sw = e->sw ? e->sw->key : NULL;
	switch (e->text) {
	case WM_EVT_IP_MAC:
		strbuf_cat(&b, "ip ", e->name, " has mac ", mac);
		break;
	case WM_EVT_PORT_UNKNOWN_SWITCH:
		strbuf_cat(&b, "mac ", mac, " on port ", e->name, " of a switch not in the wiremap");
		break;
	case WM_EVT_PORT:
		strbuf_cat(&b, "mac ", mac, " on ", sw, " port ", e->name);
		break;
	case WM_EVT_PORT_SWITCH_LOCATION:
		strbuf_cat(&b, "mac ", mac, " on ", sw, " port ", e->name, " (",
			   e->port_known ? "port without a location" : "port not in the wiremap",
			   "; the switch's location)");
		break;
	case WM_EVT_PORT_NO_LOCATION:
		strbuf_cat(&b, "mac ", mac, " on ", sw, " port ", e->name,
			   ": neither port nor switch has a location");
		break;
	case WM_EVT_BSSID:
		bssid_text(e->ap, ap, sizeof ap);
		strbuf_cat(&b, "mac ", mac, " associated with bssid ", bssid, ", ", ap);
		break;
	case WM_EVT_BSSID_UNKNOWN:
		strbuf_cat(&b, "mac ", mac, " associated with bssid ", bssid, ", not in the wiremap");
		break;
	case WM_EVT_CLIENT_BSSID:
		if (e->ap)
			bssid_text(e->ap, ap, sizeof ap);
		strbuf_cat(&b, "serving bssid ", mac, " reported by the client, ",
			   e->ap ? ap : "not in the wiremap");
		if (e->backer)
			strbuf_cat(&b, "; the ", wm_source_name(e->backer), " puts it in site ",
				   site_key(e->site), " too");
		else if (e->unverified)
			strbuf_cat(&b, "; unverified: no network evidence puts the device in site ",
				   site_key(e->site));
		break;
	case WM_EVT_STATIC:
		strbuf_cat(&b, "endpoint ", e->endpoint->key, " (found by ", e->name,
			   ") has a static location");
		break;
	case WM_EVT_STATIC_NONE:
		strbuf_cat(&b, "endpoint ", e->endpoint->key, " (found by ", e->name,
			   ") has no static location");
		break;
	case WM_EVT_SUBNET:
		strbuf_cat(&b, "ip ", e->ip, " in subnet ");
		put_prefix(&b, &e->subnet);
		break;
	case WM_EVT_NO_SUBNET:
		strbuf_cat(&b, "no subnet covers ip ", e->ip);
		break;
	case WM_EVT_SITE_DEFAULT:
		strbuf_cat(&b, "default location of site ", site_key(e->site));
		break;
	case WM_EVT_SITE_DEFAULT_REFUSED:
		strbuf_cat(&b, "site ", site_key(e->site), " has a default location, but its policy "
			   "does not allow it");
		break;
	case WM_EVT_SITE_DEFAULT_LAST:
		strbuf_cat(&b, "default location of site ", site_key(e->site), " (where stale "
			   "evidence last put the device)");
		break;
	case WM_EVT_REMOTE_SUBNET:
		strbuf_cat(&b, "ip ", e->ip, " in remote subnet ");
		put_prefix(&b, &e->subnet);
		strbuf_puts(&b, " (a VPN pool)");
		break;
	case WM_EVT_VPN:
		utc_text(e->vpn->expires_at, when, sizeof when);
		strbuf_cat(&b, "ip ", e->vpn->ip, " bound to user ", e->vpn->user,
			   " by the VPN concentrator, ", e->stale ? "expired" : "until", " ", when);
		break;
	case WM_EVT_ENDPOINT_DEACTIVATED:
		strbuf_cat(&b, "endpoint ", e->endpoint->key, " (found by ", e->name, ") is "
			   "deactivated: its class, owner and static location are not used");
		break;
	case WM_EVT_VPN_USER_DEACTIVATED:
		utc_text(e->vpn->expires_at, when, sizeof when);
		strbuf_cat(&b, "ip ", e->vpn->ip, " bound to user ", e->vpn->user,
			   " by the VPN concentrator, ", e->stale ? "expired" : "until", " ", when,
			   "; user deactivated: not used");
		break;
	case WM_EVT_USER_DEACTIVATED:
		strbuf_cat(&b, "user ", e->name, " is deactivated: no declared location is answered");
		break;
	case WM_EVT_NO_USER:
		strbuf_puts(&b, "no user known for the device (no endpoint owner, no VPN binding)");
		break;
	case WM_EVT_NO_DECLARED:
		strbuf_cat(&b, "user ", e->name, " has no current declared location");
		break;
	case WM_EVT_DECLARED:
		strbuf_cat(&b, "user ", e->name, " declared location ", e->declared->label);
		break;
	case WM_EVT_DECLARED_EXPIRED:
		utc_text(e->declared->expires_at, when, sizeof when);
		strbuf_cat(&b, "user ", e->name, " declared location ", e->declared->label,
			   ", expired ", when);
		break;
	case WM_EVT_DECLARED_UNCONFIRMED:
		utc_text(e->declared->confirmed_at, when, sizeof when);
		strbuf_cat(&b, "user ", e->name, " declared location ", e->declared->label,
			   ", not confirmed again since ", when);
		break;
	default:
		break;
	}
	switch (e->excluded ? e->why_excluded : WM_EXCL_NONE) {
	case WM_EXCL_OFF_PREMISES:
		strbuf_puts(&b, "; not used: off premises");
		break;
	case WM_EXCL_ON_PREMISES:
		strbuf_puts(&b, "; not used: on premises");
		break;
	case WM_EXCL_CLASS:
		strbuf_cat(&b, "; not counted by class ", e->excluded_by->key);
		break;
	case WM_EXCL_NONE:
		break;
	}
	return buf;
}
