/* libFuzzer target: the collector's decoding of what switches answer to its SNMP walks
 * (wiremap/collect/wm_snmp.c, wm_collect.c): variable bindings are stored into a switch's
 * tables as a poll stores them (wm_snmp_store_varbind(): the table and column from the OID,
 * MAC and IP addresses and LLDP indices from the OID's index, values by their ASN.1 type),
 * then the tables become observations (wm_collect_bindings(): ports, MACs, ARP, LLDP
 * neighbours and LLDP-MED, uplinks). The input is a list of bindings:
 *   table (index into tables[] below; past its end: no prefix), column, number of index
 *   arcs, the arcs (a byte each; 0xff: the next 4 bytes, big-endian), type, value length,
 *   value bytes
 * then what is left is the policy's uplink threshold. Checks: every observation is well
 * formed (a port name, an IP address that parses, uplinks in order). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "lldp_med.h"
#include "wm_collect.h"
#include "wm_lldp.h"
#include "wm_snmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The tables the collector walks (their ...Entry, or the scalar's instance) from the MIBs. */
static const struct { oid o[16]; size_t n; } tables[] = {
	{ { 1, 3, 6, 1, 2, 1, 1, 5, 0 }, 9 },                      /* sysName.0 */
	{ { 1, 3, 6, 1, 2, 1, 31, 1, 1, 1 }, 10 },                 /* ifXEntry */
	{ { 1, 3, 6, 1, 2, 1, 2, 2, 1 }, 9 },                      /* ifEntry */
	{ { 1, 3, 6, 1, 2, 1, 17, 1, 4, 1 }, 10 },                 /* dot1dBasePortEntry */
	{ { 1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1 }, 12 },           /* dot1qTpFdbEntry */
	{ { 1, 3, 6, 1, 2, 1, 17, 4, 3, 1 }, 10 },                 /* dot1dTpFdbEntry */
	{ { 1, 0, 8802, 1, 1, 2, 1, 3, 7, 1 }, 10 },               /* lldpLocPortEntry */
	{ { 1, 0, 8802, 1, 1, 2, 1, 4, 1, 1 }, 10 },               /* lldpRemEntry */
	{ { LLDP_MED_ENTRY_INVENTORY }, 13 },
	{ { LLDP_MED_ENTRY_LOCATION }, 13 },
	{ { 1, 3, 6, 1, 2, 1, 4, 35, 1 }, 9 },                     /* ipNetToPhysicalEntry */
	{ { 1, 3, 6, 1, 2, 1, 4, 22, 1 }, 9 },                     /* ipNetToMediaEntry */
};
#define N_TABLES (sizeof tables / sizeof tables[0])

/* Values net-snmp hands over by type: the integer kinds in val.integer, the rest as octets. */
static const u_char types[] = {
	ASN_OCTET_STR, ASN_INTEGER, ASN_COUNTER, ASN_GAUGE, ASN_TIMETICKS, ASN_UINTEGER,
	ASN_OPAQUE, ASN_IPADDRESS, ASN_NULL, ASN_OBJECT_ID, SNMP_NOSUCHOBJECT,
	SNMP_NOSUCHINSTANCE, SNMP_ENDOFMIBVIEW,
};

static bool is_integer(u_char type)
{
	return type == ASN_INTEGER || type == ASN_COUNTER || type == ASN_GAUGE ||
	       type == ASN_TIMETICKS || type == ASN_UINTEGER;
}

struct input {
	const uint8_t *p, *end;
};

static bool take(struct input *in, size_t n, const uint8_t **out)
{
	if ((size_t)(in->end - in->p) < n)
		return false;
	*out = in->p;
	in->p += n;
	return true;
}

/* One binding from the input into t; false when the input has no whole binding left. */
static bool one_varbind(struct input *in, struct wm_switch_tables *t)
{
	const uint8_t *h, *b, *v;
	oid name[MAX_OID_LEN];
	size_t n = 0;
	if (!take(in, 3, &h))
		return false;
	if (h[0] < N_TABLES) {
		memcpy(name, tables[h[0]].o, tables[h[0]].n * sizeof(oid));
		n = tables[h[0]].n;
		if (h[0] > 0)
			name[n++] = h[1];   /* the column */
	}
	for (unsigned k = 0; k < h[2] % 40; k++) {
		if (!take(in, 1, &b))
			return false;
		oid arc = *b;
		if (arc == 0xff) {
			if (!take(in, 4, &b))
				return false;
			arc = (oid)b[0] << 24 | (oid)b[1] << 16 | (oid)b[2] << 8 | b[3];
		}
		name[n++] = arc;
	}
	if (!take(in, 2, &h) || !take(in, h[1], &v))
		return false;
	netsnmp_variable_list var;
	long integer = 0;
	memset(&var, 0, sizeof var);
	var.name = name;
	var.name_length = n;
	var.type = h[0] < sizeof types ? types[h[0]] : h[0];
	if (is_integer(var.type)) {
		for (size_t i = 0; i < h[1] && i < sizeof integer; i++)
			integer = (long)((unsigned long)integer << 8 | v[i]);
		var.val.integer = &integer;
		var.val_len = sizeof integer;
	} else {
		/* a copy of exactly its length, so that reading past it is caught */
		var.val.string = malloc(h[1] ? h[1] : 1);
		if (!var.val.string)
			abort();
		memcpy(var.val.string, v, h[1]);
		var.val_len = h[1];
	}
	if (wm_snmp_store_varbind(t, (const struct variable_list *)&var) < 0)
		abort();
	if (!is_integer(var.type))
		free(var.val.string);
	return true;
}

static void check(const struct wm_switch_tables *t, const struct wm_collect_result *r)
{
	char buf[WM_LLDP_TEXT_MAX];
	unsigned char addr[16];
	for (size_t i = 0; i < r->n_mac_ports; i++)
		if (!r->mac_ports[i].port_id || !r->mac_ports[i].port_id[0])
			abort();
	for (size_t i = 0; i < r->n_ip_macs; i++)
		if (!r->ip_macs[i].ip || (inet_pton(AF_INET, r->ip_macs[i].ip, addr) != 1 &&
					  inet_pton(AF_INET6, r->ip_macs[i].ip, addr) != 1))
			abort();
	for (size_t i = 0; i < r->n_lldp; i++)
		if (!r->lldp[i].local_port_id || !r->lldp[i].chassis_subtype ||
		    !r->lldp[i].chassis_id || !r->lldp[i].port_subtype || !r->lldp[i].port_id)
			abort();
	for (size_t i = 0; i < r->n_uplinks; i++)
		if (!r->uplinks[i].port_id ||
		    (i > 0 && strcmp(r->uplinks[i - 1].port_id, r->uplinks[i].port_id) > 0))
			abort();
	for (size_t i = 0; i < t->n_ifs; i++) {
		const char *name = wm_collect_port_name(t, t->ifs[i].if_index, buf, sizeof buf);
		if (name && !memchr(buf, '\0', sizeof buf))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };
	struct wm_switch_tables t;
	struct wm_collect_result r;
	struct lis_error err = { 0 };
	memset(&t, 0, sizeof t);
	while (one_varbind(&in, &t))
		;
	struct wm_collect_policy policy = { .uplink_mac_threshold = in.p < in.end ? *in.p : 0 };
	if (wm_collect_bindings(&t, &policy, &r, &err) < 0)
		abort();
	check(&t, &r);
	wm_collect_result_free(&r);
	wm_switch_tables_clear(&t);
	return 0;
}
