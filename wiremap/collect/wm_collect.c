/* One switch's tables -> bindings. The joins (IEEE 802.1D, RFC 4188, RFC 4363, RFC 2863):
 * FDB row (MAC, bridge port) -> dot1dBasePortIfIndex -> ifIndex -> ifName; LLDP rows
 * (lldpRemLocalPortNum) -> lldpLocPortTable -> the same port names, so that an uplink found
 * through LLDP and the FDB's MACs behind it meet on one name. */
#include "wm_collect.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wm_lldp.h"

#define NAME_MAX_LEN WM_LLDP_TEXT_MAX

static void octets_free(struct wm_octets *o)
{
	free(o->data);
	o->data = NULL;
	o->len = 0;
}

void wm_switch_tables_clear(struct wm_switch_tables *t)
{
	if (!t)
		return;
	octets_free(&t->sys_name);
	for (size_t i = 0; i < t->n_loc_ports; i++) {
		octets_free(&t->loc_ports[i].id);
		octets_free(&t->loc_ports[i].desc);
	}
	free(t->loc_ports);
	for (size_t i = 0; i < t->n_rem; i++) {
		struct wm_lldp_rem *r = &t->rem[i];
		struct wm_octets *all[] = {
			&r->chassis_id, &r->port_id, &r->port_desc, &r->sys_name, &r->sys_desc,
			&r->caps_supported, &r->caps_enabled,
		};
		for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
			octets_free(all[k]);
		for (int f = 0; f < LLDP_MED_N; f++)
			octets_free(&r->med[f]);
	}
	free(t->rem);
	for (size_t i = 0; i < t->n_ifs; i++) {
		octets_free(&t->ifs[i].name);
		octets_free(&t->ifs[i].descr);
		octets_free(&t->ifs[i].alias);
	}
	free(t->ifs);
	free(t->bridge_ports);
	free(t->fdb);
	free(t->qfdb);
	for (size_t i = 0; i < t->n_arp; i++)
		octets_free(&t->arp[i].phys);
	free(t->arp);
	memset(t, 0, sizeof *t);
}

static const struct wm_if *find_if(const struct wm_switch_tables *t, long if_index)
{
	for (size_t i = 0; i < t->n_ifs; i++)
		if (t->ifs[i].if_index == if_index)
			return &t->ifs[i];
	return NULL;
}

static const struct wm_lldp_loc_port *find_loc_port(const struct wm_switch_tables *t, long num)
{
	for (size_t i = 0; i < t->n_loc_ports; i++)
		if (t->loc_ports[i].port_num == num)
			return &t->loc_ports[i];
	return NULL;
}

/* Text of an octet string if it is non-empty printable text; NULL otherwise. */
static const char *text_of(const struct wm_octets *o, char *buf, size_t size)
{
	if (o->len == 0 || !wm_lldp_text(o->data, o->len, buf, size) || !buf[0])
		return NULL;
	return buf;
}

const char *wm_collect_port_name(const struct wm_switch_tables *t, long if_index, char *buf,
				 size_t size)
{
	if (size == 0)
		return NULL;
	buf[0] = '\0';
	const struct wm_if *ifp = find_if(t, if_index);
	if (ifp && text_of(&ifp->name, buf, size))
		return buf;
	const struct wm_lldp_loc_port *lp = find_loc_port(t, if_index);
	if (lp && lp->id.len > 0) {
		wm_lldp_port_id_text(lp->id_subtype, lp->id.data, lp->id.len, buf, size);
		if (buf[0])
			return buf;
	}
	if (ifp && text_of(&ifp->descr, buf, size))
		return buf;
	buf[0] = '\0';
	return NULL;
}

static bool octets_eq_text(const struct wm_octets *o, const char *s)
{
	size_t n = strlen(s);
	return n > 0 && o->len == n && memcmp(o->data, s, n) == 0;
}

/* The name of the port an LLDP row was heard on. lldpRemLocalPortNum is an lldpLocPortNum,
 * which some agents number like ifIndex and others like dot1dBasePort: match the local
 * port's ID and description against ifName/ifDescr/ifAlias first, then try the number as an
 * ifIndex, and fall back to the local port ID itself. */
static const char *lldp_local_port_name(const struct wm_switch_tables *t, long num, char *buf,
					size_t size)
{
	const struct wm_lldp_loc_port *lp = find_loc_port(t, num);
	const char *name;
	if (lp) {
		char id[NAME_MAX_LEN], desc[NAME_MAX_LEN];
		const char *a = text_of(&lp->id, id, sizeof id);
		const char *b = text_of(&lp->desc, desc, sizeof desc);
		for (size_t i = 0; i < t->n_ifs; i++) {
			const struct wm_if *f = &t->ifs[i];
			const char *cand[] = {a, b};
			for (size_t k = 0; k < 2; k++) {
				if (!cand[k])
					continue;
				/* an interface with no name of its own names nothing */
				if ((octets_eq_text(&f->name, cand[k]) ||
				     octets_eq_text(&f->descr, cand[k]) ||
				     octets_eq_text(&f->alias, cand[k])) &&
				    (name = wm_collect_port_name(t, f->if_index, buf, size)))
					return name;
			}
		}
	}
	if (find_if(t, num) && (name = wm_collect_port_name(t, num, buf, size)))
		return name;
	if (lp && lp->id.len > 0) {
		wm_lldp_port_id_text(lp->id_subtype, lp->id.data, lp->id.len, buf, size);
		if (buf[0])
			return buf;
	}
	snprintf(buf, size, "lldp-port-%ld", num);
	return buf;
}

/* Bridge port -> port name (see wm_collect_port_name); *if_index set when known. */
static const char *bridge_port_name(const struct wm_switch_tables *t, long port, long *if_index,
				    char *buf, size_t size)
{
	*if_index = 0;
	if (t->n_bridge_ports == 0) {
		/* No dot1dBasePortIfIndex at all: many small agents number bridge ports as
		 * ifIndex. */
		*if_index = port;
	} else {
		for (size_t i = 0; i < t->n_bridge_ports; i++)
			if (t->bridge_ports[i].port == port)
				*if_index = t->bridge_ports[i].if_index;
	}
	if (*if_index > 0 && wm_collect_port_name(t, *if_index, buf, size))
		return buf;
	snprintf(buf, size, "bridge-port-%ld", port);
	return buf;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = nc;
	return true;
}

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

static char *octets_text_dup(const struct wm_octets *o)
{
	char buf[NAME_MAX_LEN];
	if (o->len == 0)
		return NULL;
	wm_lldp_text(o->data, o->len, buf, sizeof buf);
	return dup_or_null(buf);
}

#define MED_DECODE_(f, column, object, entry, col, sub, decode) \
	[LLDP_MED_##f] = LLDP_MED_DECODE_##decode,

/* An LLDP-MED column's value as lldp_med.h decodes it; NULL when absent or empty. */
static char *med_dup(enum lldp_med_field f, const struct wm_octets *o)
{
	static const enum lldp_med_decode decode[LLDP_MED_N] = {LLDP_MED_COLUMNS(MED_DECODE_)};
	if (decode[f] == LLDP_MED_DECODE_TEXT)
		return octets_text_dup(o);
	char buf[NAME_MAX_LEN];
	wm_lldp_hex(o->data, o->len, buf, sizeof buf);
	return dup_or_null(buf);
}

struct port_count {
	char *port_id;
	unsigned macs;
	bool by_lldp;
};

static struct port_count *port_entry(struct port_count **pc, size_t *n, size_t *cap,
				     const char *port_id)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*pc)[i].port_id, port_id) == 0)
			return &(*pc)[i];
	if (!grow((void **)pc, cap, *n, sizeof **pc))
		return NULL;
	struct port_count *e = &(*pc)[*n];
	memset(e, 0, sizeof *e);
	e->port_id = strdup(port_id);
	if (!e->port_id)
		return NULL;
	(*n)++;
	return e;
}

static int cmp_uplink(const void *a, const void *b)
{
	return strcmp(((const struct wm_uplink *)a)->port_id,
		      ((const struct wm_uplink *)b)->port_id);
}

static int collect_lldp(const struct wm_switch_tables *t, struct wm_collect_result *out,
			struct port_count **pc, size_t *npc, size_t *cappc)
{
	size_t cap = 0;
	for (size_t i = 0; i < t->n_rem; i++) {
		const struct wm_lldp_rem *r = &t->rem[i];
		if (!grow((void **)&out->lldp, &cap, out->n_lldp, sizeof *out->lldp))
			return -1;
		struct wm_obs_lldp *o = &out->lldp[out->n_lldp++];
		memset(o, 0, sizeof *o);
		char buf[NAME_MAX_LEN];
		o->local_port_id = strdup(lldp_local_port_name(t, r->local_port_num, buf,
							       sizeof buf));
		o->chassis_subtype = wm_lldp_chassis_subtype_name(r->chassis_subtype);
		wm_lldp_chassis_id_text(r->chassis_subtype, r->chassis_id.data, r->chassis_id.len,
					buf, sizeof buf);
		o->chassis_id = strdup(buf);
		o->port_subtype = wm_lldp_port_subtype_name(r->port_subtype);
		wm_lldp_port_id_text(r->port_subtype, r->port_id.data, r->port_id.len, buf,
				     sizeof buf);
		o->port_id = strdup(buf);
		if (!o->local_port_id || !o->chassis_id || !o->port_id)
			return -1;
		o->sys_name = octets_text_dup(&r->sys_name);
		const struct wm_octets *capo = r->caps_enabled.len ? &r->caps_enabled
								   : &r->caps_supported;
		unsigned caps = wm_lldp_caps(capo->data, capo->len);
		if (capo->len > 0) {
			wm_lldp_caps_text(caps, buf, sizeof buf);
			o->sys_capabilities = strdup(buf);
			if (!o->sys_capabilities)
				return -1;
		}
		o->is_network_device = wm_lldp_caps_is_network_device(caps);
		for (int f = 0; f < LLDP_MED_N; f++)
			o->med[f] = med_dup((enum lldp_med_field)f, &r->med[f]);
		if (o->is_network_device) {
			struct port_count *e = port_entry(pc, npc, cappc, o->local_port_id);
			if (!e)
				return -1;
			e->by_lldp = true;
		}
	}
	return 0;
}

static int collect_fdb(const struct wm_switch_tables *t, const struct wm_collect_policy *p,
		       struct wm_collect_result *out, struct port_count **pc, size_t *npc,
		       size_t *cappc)
{
	/* RFC 4363: on a VLAN-aware bridge dot1dTpFdbTable shows only the default VLAN, so
	 * Q-BRIDGE wins whenever it has rows. */
	const struct wm_fdb *fdb = t->n_qfdb ? t->qfdb : t->fdb;
	size_t n = t->n_qfdb ? t->n_qfdb : t->n_fdb;
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		const struct wm_fdb *f = &fdb[i];
		if (f->status != WM_FDB_LEARNED || f->port <= 0 || (f->mac[0] & 1)) {
			out->skipped++;
			continue;
		}
		char buf[NAME_MAX_LEN];
		long if_index;
		const char *name = bridge_port_name(t, f->port, &if_index, buf, sizeof buf);
		bool dup = false;
		for (size_t k = 0; k < out->n_mac_ports && !dup; k++)
			dup = memcmp(out->mac_ports[k].mac, f->mac, 6) == 0 &&
			      strcmp(out->mac_ports[k].port_id, name) == 0;
		if (dup)
			continue;
		if (!grow((void **)&out->mac_ports, &cap, out->n_mac_ports,
			  sizeof *out->mac_ports))
			return -1;
		struct wm_obs_mac_port *o = &out->mac_ports[out->n_mac_ports];
		memcpy(o->mac, f->mac, 6);
		o->if_index = if_index;
		o->port_id = strdup(name);
		if (!o->port_id)
			return -1;
		out->n_mac_ports++;
		struct port_count *e = port_entry(pc, npc, cappc, name);
		if (!e)
			return -1;
		e->macs++;
	}

	/* Uplinks: listed, and their MACs left out (they are not desks). */
	size_t ucap = 0;
	for (size_t i = 0; i < *npc; i++) {
		struct port_count *e = &(*pc)[i];
		bool by_threshold = p && p->uplink_mac_threshold > 0 &&
				    e->macs > p->uplink_mac_threshold;
		if (!e->by_lldp && !by_threshold)
			continue;
		if (!grow((void **)&out->uplinks, &ucap, out->n_uplinks, sizeof *out->uplinks))
			return -1;
		struct wm_uplink *u = &out->uplinks[out->n_uplinks++];
		u->port_id = e->port_id;
		e->port_id = NULL;
		u->macs = e->macs;
		u->by_lldp = e->by_lldp;
		u->by_threshold = by_threshold;
	}
	if (out->n_uplinks > 1)
		qsort(out->uplinks, out->n_uplinks, sizeof *out->uplinks, cmp_uplink);
	size_t w = 0;
	for (size_t i = 0; i < out->n_mac_ports; i++) {
		bool up = false;
		for (size_t k = 0; k < out->n_uplinks && !up; k++)
			up = strcmp(out->uplinks[k].port_id, out->mac_ports[i].port_id) == 0;
		if (up) {
			free(out->mac_ports[i].port_id);
			out->skipped++;
			continue;
		}
		out->mac_ports[w++] = out->mac_ports[i];
	}
	out->n_mac_ports = w;
	return 0;
}

static int collect_arp(const struct wm_switch_tables *t, struct wm_collect_result *out)
{
	size_t cap = 0;
	for (size_t i = 0; i < t->n_arp; i++) {
		const struct wm_arp *a = &t->arp[i];
		static const uint8_t zero[6];
		if (a->type == WM_ARP_INVALID || a->type == WM_ARP_LOCAL || a->phys.len != 6 ||
		    memcmp(a->phys.data, zero, 6) == 0 || (a->phys.data[0] & 1) ||
		    (a->family != AF_INET && a->family != AF_INET6)) {
			out->skipped++;
			continue;
		}
		/* fe80::/10 means nothing without its interface; a HELD client never asks
		 * from one. */
		if (a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80) {
			out->skipped++;
			continue;
		}
		char ip[INET6_ADDRSTRLEN];
		if (!inet_ntop(a->family, a->addr, ip, sizeof ip)) {
			out->skipped++;
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < out->n_ip_macs && !dup; k++)
			dup = strcmp(out->ip_macs[k].ip, ip) == 0 &&
			      memcmp(out->ip_macs[k].mac, a->phys.data, 6) == 0;
		if (dup)
			continue;
		if (!grow((void **)&out->ip_macs, &cap, out->n_ip_macs, sizeof *out->ip_macs))
			return -1;
		struct wm_obs_ip_mac *o = &out->ip_macs[out->n_ip_macs];
		o->ip = strdup(ip);
		if (!o->ip)
			return -1;
		memcpy(o->mac, a->phys.data, 6);
		o->is_static = a->type == WM_ARP_STATIC;
		out->n_ip_macs++;
	}
	return 0;
}

int wm_collect_bindings(const struct wm_switch_tables *t, const struct wm_collect_policy *p,
			struct wm_collect_result *out, struct lis_error *err)
{
	memset(out, 0, sizeof *out);
	struct port_count *pc = NULL;
	size_t npc = 0, cappc = 0;
	int rc = 0;
	out->sys_name = octets_text_dup(&t->sys_name);
	if (collect_lldp(t, out, &pc, &npc, &cappc) < 0 ||
	    collect_fdb(t, p, out, &pc, &npc, &cappc) < 0 || collect_arp(t, out) < 0)
		rc = -1;
	for (size_t i = 0; i < npc; i++)
		free(pc[i].port_id);
	free(pc);
	if (rc < 0) {
		wm_collect_result_free(out);
		return lis_error_set(err, LIS_E_SYSTEM, "collect: out of memory");
	}
	return 0;
}

void wm_collect_result_free(struct wm_collect_result *r)
{
	if (!r)
		return;
	free(r->sys_name);
	for (size_t i = 0; i < r->n_mac_ports; i++)
		free(r->mac_ports[i].port_id);
	free(r->mac_ports);
	for (size_t i = 0; i < r->n_ip_macs; i++)
		free(r->ip_macs[i].ip);
	free(r->ip_macs);
	for (size_t i = 0; i < r->n_lldp; i++) {
		struct wm_obs_lldp *o = &r->lldp[i];
		free(o->local_port_id);
		free(o->chassis_id);
		free(o->port_id);
		free(o->sys_name);
		free(o->sys_capabilities);
		for (int f = 0; f < LLDP_MED_N; f++)
			free(o->med[f]);
	}
	free(r->lldp);
	for (size_t i = 0; i < r->n_uplinks; i++)
		free(r->uplinks[i].port_id);
	free(r->uplinks);
	memset(r, 0, sizeof *r);
}
