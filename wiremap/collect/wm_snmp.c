/* Asynchronous SNMP polling with net-snmp's single-session API: one session (one UDP socket)
 * per switch in flight, one select() over all of them, each switch walking its tables one
 * GETBULK after another. net-snmp resends and times out requests itself
 * (snmp_sess_timeout); the callback only records what came back, and the loop decides what
 * to send next, so no request is ever sent from inside net-snmp's own read path.
 *
 * SNMPv3 engine ID discovery is asynchronous too. Left alone, net-snmp 5.9 probes the
 * agent's engine ID synchronously (snmp_sess_synch_response) inside the first
 * snmp_sess_async_send() of a session whose engine ID is unknown: its "delayed probe", done
 * unless the session has SNMP_FLAGS_DONT_PROBE, a flag snmp_sess_open() clears once the
 * session is open. One v3 switch that does not answer would then stall every switch in the
 * loop for timeout x tries. So the flag is set again on the open session, and the loop sends
 * the probe itself (RFC 3414 §4: a noAuthNoPriv GET with no user and no variables); the
 * agent's usmStatsUnknownEngineIDs REPORT carries the engine ID, the session takes it, the
 * USM user is localised for it, and the walks start. The library does not resend the first
 * request by itself after such a report; that is why discovery is a step of its own. */
#include "wm_snmp.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/snmpusm.h>
#include <net-snmp/library/scapi.h>
#include <net-snmp/library/keytools.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_REPETITIONS 25
#define MAX_CONCURRENCY 512  /* select(): every session is one descriptor below FD_SETSIZE */

/* ---- what to walk ---- */

/* A walk covers columns [first, last] of one conceptual row (an ...Entry OID), or is a
 * single GET when `get` is set. */
struct walk_def {
	const char *name;
	oid entry[24];
	size_t entry_len;
	unsigned first, last;
	bool get;
	bool skip_if_qbridge;   /* BRIDGE-MIB FDB: not needed when Q-BRIDGE answered */
};

/* The LLDP-MED columns are walked one by one, each on its own (W_MED + enum lldp_med_field),
 * right after lldpRemTable, whose rows they join: a column of lldp_med.h is a walk with no
 * code of its own here. */
enum walk_id {
	W_SYSNAME, W_IFNAME, W_IFDESCR, W_IFALIAS, W_BASEPORT, W_QFDB, W_FDB, W_LOCPORT, W_REM,
	W_MED, W_NETPHYS_ADDR = W_MED + LLDP_MED_N, W_NETPHYS_TYPE, W_NETMEDIA_ADDR,
	W_NETMEDIA_TYPE, W_COUNT
};

#define MED_WALK_(f, column, object, entry, col, ...) \
	[W_MED + LLDP_MED_##f] = {object, {LLDP_MED_ENTRY_##entry}, \
				  sizeof((oid[]){LLDP_MED_ENTRY_##entry}) / sizeof(oid), col, col, \
				  false, false},

static const struct walk_def walks[W_COUNT] = {
	[W_SYSNAME] = {"sysName", {1, 3, 6, 1, 2, 1, 1, 5, 0}, 9, 0, 0, true, false},
	[W_IFNAME] = {"ifName", {1, 3, 6, 1, 2, 1, 31, 1, 1, 1}, 10, 1, 1, false, false},
	[W_IFDESCR] = {"ifDescr", {1, 3, 6, 1, 2, 1, 2, 2, 1}, 9, 2, 2, false, false},
	[W_IFALIAS] = {"ifAlias", {1, 3, 6, 1, 2, 1, 31, 1, 1, 1}, 10, 18, 18, false, false},
	[W_BASEPORT] = {"dot1dBasePortIfIndex", {1, 3, 6, 1, 2, 1, 17, 1, 4, 1}, 10, 2, 2, false,
			false},
	[W_QFDB] = {"dot1qTpFdbTable", {1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1}, 12, 2, 3, false,
		    false},
	[W_FDB] = {"dot1dTpFdbTable", {1, 3, 6, 1, 2, 1, 17, 4, 3, 1}, 10, 2, 3, false, true},
	[W_LOCPORT] = {"lldpLocPortTable", {1, 0, 8802, 1, 1, 2, 1, 3, 7, 1}, 10, 2, 4, false,
		       false},
	[W_REM] = {"lldpRemTable", {1, 0, 8802, 1, 1, 2, 1, 4, 1, 1}, 10, 4, 12, false, false},
	LLDP_MED_COLUMNS(MED_WALK_)
	[W_NETPHYS_ADDR] = {"ipNetToPhysicalTable", {1, 3, 6, 1, 2, 1, 4, 35, 1}, 9, 4, 4, false,
			    false},
	[W_NETPHYS_TYPE] = {"ipNetToPhysicalTable", {1, 3, 6, 1, 2, 1, 4, 35, 1}, 9, 6, 6, false,
			    false},
	[W_NETMEDIA_ADDR] = {"ipNetToMediaTable", {1, 3, 6, 1, 2, 1, 4, 22, 1}, 9, 2, 2, false,
			     false},
	[W_NETMEDIA_TYPE] = {"ipNetToMediaTable", {1, 3, 6, 1, 2, 1, 4, 22, 1}, 9, 4, 4, false,
			     false},
};

/* ---- one switch in flight ---- */

enum slot_state { S_SEND, S_WAIT, S_DONE };

struct slot {
	size_t idx;                     /* into targets/out */
	void *sessp;
	enum slot_state state;
	bool discovering;               /* SNMPv3: the engine ID probe comes first */
	bool sec_error;                 /* net-snmp reported a security error for this request */
	double deadline;                /* give up waiting for the current request then (ms) */
	int walk;                       /* enum walk_id; -1 before the first */
	oid last[MAX_OID_LEN];
	size_t last_len;
	double t0;
	struct wm_switch_tables *t;
	const struct wm_snmp_target *target;
	size_t hint;                    /* row search hint for column merges */
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void slot_fail(struct slot *s, enum wm_poll_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What the switch is doing, for messages. */
static const char *step_name(const struct slot *s)
{
	if (s->discovering)
		return "engine ID discovery";
	return s->walk >= 0 && s->walk < W_COUNT ? walks[s->walk].name : "opening";
}

static unsigned tries_of(const struct wm_snmp_target *tg)
{
	return tg->retries + 1;
}

static void slot_fail(struct slot *s, enum wm_poll_result r, const char *fmt, ...)
{
	const struct wm_snmp_target *tg = s->target;
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(s->t->error, sizeof s->t->error, "switch %s (%s:%u): %s",
		 tg->name ? tg->name : "?", tg->address ? tg->address : "?",
		 tg->port ? tg->port : 161, what);
	s->t->result = r;
	s->state = S_DONE;
}

/* net-snmp errors that mean the SNMPv3 credentials do not fit the agent. */
static bool is_auth_error(int liberr)
{
	switch (liberr) {
	case SNMPERR_AUTHENTICATION_FAILURE:
	case SNMPERR_USM_AUTHENTICATIONFAILURE:
	case SNMPERR_UNKNOWN_USER_NAME:
	case SNMPERR_USM_UNKNOWNSECURITYNAME:
	case SNMPERR_UNSUPPORTED_SEC_LEVEL:
	case SNMPERR_USM_UNSUPPORTEDSECURITYLEVEL:
	case SNMPERR_DECRYPTION_ERR:
	case SNMPERR_USM_DECRYPTIONERROR:
		return true;
	default:
		return false;
	}
}

/* Fail the switch for net-snmp library error liberr (SNMPERR_*, may be 0) and system error
 * syserr (errno, may be 0), in clear words and with the result that fits: nothing answering
 * is a timeout, credentials that do not fit are an error. net-snmp's own words
 * (snmp_api_errstring) never contain a community or a password. */
static void fail_snmp_error(struct slot *s, const char *doing, int liberr, int syserr)
{
	const char *step = step_name(s);
	if (liberr == SNMPERR_TIMEOUT) {
		slot_fail(s, WM_POLL_TIMEOUT, "SNMP timeout after %u tries (%s)",
			  tries_of(s->target), step);
		return;
	}
	switch (syserr) {
	case ECONNREFUSED:  /* ICMP port unreachable */
		slot_fail(s, WM_POLL_TIMEOUT, "no SNMP agent answers (port unreachable) (%s)",
			  step);
		return;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
		slot_fail(s, WM_POLL_TIMEOUT, "no SNMP agent answers (%s) (%s)", strerror(syserr),
			  step);
		return;
	default:
		break;
	}
	if (is_auth_error(liberr)) {
		slot_fail(s, WM_POLL_ERROR, "SNMPv3 authentication failure: %s (%s)",
			  snmp_api_errstring(liberr), step);
		return;
	}
	slot_fail(s, WM_POLL_ERROR, "SNMP %s failed (%s): %s%s%s", doing, step,
		  liberr ? snmp_api_errstring(liberr) : "no library error",
		  syserr ? ": " : "", syserr ? strerror(syserr) : "");
}

/* ---- storing values ---- */

static int octets_set(struct wm_octets *o, const netsnmp_variable_list *v)
{
	if (v->type != ASN_OCTET_STR && v->type != ASN_OPAQUE)
		return 0;
	unsigned char *p = malloc(v->val_len + 1);
	if (!p)
		return -1;
	if (v->val_len)
		memcpy(p, v->val.string, v->val_len);
	p[v->val_len] = 0;
	free(o->data);
	o->data = p;
	o->len = v->val_len;
	return 0;
}

static bool int_of(const netsnmp_variable_list *v, long *out)
{
	switch (v->type) {
	case ASN_INTEGER:
	case ASN_COUNTER:
	case ASN_GAUGE:
	case ASN_TIMETICKS:
	case ASN_UINTEGER:
		*out = *v->val.integer;
		return true;
	default:
		return false;
	}
}

static bool grow(void **arr, size_t n, size_t elem)
{
	/* Capacity is the next power of two at or above n (n + 1 needed). */
	if (n != 0 && (n & (n - 1)) != 0)
		return true;
	size_t cap = n ? n * 2 : 8;
	void *p = realloc(*arr, cap * elem);
	if (!p)
		return false;
	*arr = p;
	return true;
}

/* Find the row whose key equals key[0..klen) (keys stored as longs), from the hint on (column
 * walks come in the same order), or append a zeroed one. */
#define ROW_FIND(s, arr, n, keyexpr, out) \
	do { \
		(out) = NULL; \
		for (size_t k_ = 0; k_ < (n); k_++) { \
			size_t i_ = ((s)->hint + k_) % (n); \
			__typeof__(&(arr)[0]) r_ = &(arr)[i_]; \
			if (keyexpr) { \
				(out) = r_; \
				(s)->hint = i_ + 1; \
				break; \
			} \
		} \
	} while (0)

#define ROW_ADD(arr, n, out) \
	do { \
		(out) = NULL; \
		if (grow((void **)&(arr), (n), sizeof (arr)[0])) { \
			(out) = &(arr)[(n)++]; \
			memset((out), 0, sizeof *(out)); \
		} \
	} while (0)

/* Index sub-identifiers that must each fit a byte (MAC, IP address octets). */
static bool idx_bytes(const oid *idx, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		if (idx[i] > 255)
			return false;
		out[i] = (uint8_t)idx[i];
	}
	return true;
}

/* The lldpRemTable row of index (lldpRemTimeMark, lldpRemLocalPortNum, lldpRemIndex). */
static struct wm_lldp_rem *find_rem(struct slot *s, const oid *idx)
{
	struct wm_lldp_rem *r;
	ROW_FIND(s, s->t->rem, s->t->n_rem,
		 r_->time_mark == (long)idx[0] && r_->local_port_num == (long)idx[1] &&
			 r_->index == (long)idx[2],
		 r);
	return r;
}

#define MED_SUB_(f, column, object, entry, col, sub, ...) [LLDP_MED_##f] = sub,

/* A value of LLDP-MED column f with index idx[0..ilen): the lldpRemTable index, then the
 * column's own index arc if it has one (lldp_med.h). */
static int store_med(struct slot *s, enum lldp_med_field f, const oid *idx, size_t ilen,
		     const netsnmp_variable_list *v)
{
	static const oid subs[LLDP_MED_N] = {LLDP_MED_COLUMNS(MED_SUB_)};
	if (ilen != (subs[f] ? 4 : 3) || (subs[f] && idx[3] != subs[f]))
		return 0;
	struct wm_lldp_rem *r = find_rem(s, idx);
	if (!r)
		return 0; /* a neighbour we have no lldpRemTable row for */
	return octets_set(&r->med[f], v);
}

/* One variable of walk w at column col with index idx[0..ilen). 0, or -1: out of memory.
 * A row whose index cannot be read is skipped. */
static int store(struct slot *s, int w, unsigned col, const oid *idx, size_t ilen,
		 const netsnmp_variable_list *v)
{
	struct wm_switch_tables *t = s->t;
	long val = 0;
	if (w >= W_MED && w < W_MED + LLDP_MED_N)
		return store_med(s, (enum lldp_med_field)(w - W_MED), idx, ilen, v);
	switch (w) {
	case W_SYSNAME:
		return octets_set(&t->sys_name, v);
	case W_IFNAME:
	case W_IFDESCR:
	case W_IFALIAS: {
		if (ilen != 1)
			return 0;
		struct wm_if *r;
		ROW_FIND(s, t->ifs, t->n_ifs, r_->if_index == (long)idx[0], r);
		if (!r) {
			ROW_ADD(t->ifs, t->n_ifs, r);
			if (!r)
				return -1;
			r->if_index = (long)idx[0];
		}
		return octets_set(w == W_IFNAME ? &r->name : w == W_IFDESCR ? &r->descr : &r->alias,
				  v);
	}
	case W_BASEPORT: {
		if (ilen != 1 || !int_of(v, &val))
			return 0;
		struct wm_bridge_port *r;
		ROW_ADD(t->bridge_ports, t->n_bridge_ports, r);
		if (!r)
			return -1;
		r->port = (long)idx[0];
		r->if_index = val;
		return 0;
	}
	case W_QFDB:
	case W_FDB: {
		size_t off = w == W_QFDB ? 1 : 0;
		uint8_t mac[6];
		if (ilen != 6 + off || !idx_bytes(idx + off, 6, mac) || !int_of(v, &val))
			return 0;
		long fdb_id = off ? (long)idx[0] : 0;
		struct wm_fdb **arr = w == W_QFDB ? &t->qfdb : &t->fdb;
		size_t *n = w == W_QFDB ? &t->n_qfdb : &t->n_fdb;
		struct wm_fdb *r;
		ROW_FIND(s, *arr, *n, r_->fdb_id == fdb_id && memcmp(r_->mac, mac, 6) == 0, r);
		if (!r) {
			ROW_ADD(*arr, *n, r);
			if (!r)
				return -1;
			r->fdb_id = fdb_id;
			memcpy(r->mac, mac, 6);
		}
		if (col == 2)
			r->port = val;
		else
			r->status = (int)val;
		return 0;
	}
	case W_LOCPORT: {
		if (ilen != 1)
			return 0;
		struct wm_lldp_loc_port *r;
		ROW_FIND(s, t->loc_ports, t->n_loc_ports, r_->port_num == (long)idx[0], r);
		if (!r) {
			ROW_ADD(t->loc_ports, t->n_loc_ports, r);
			if (!r)
				return -1;
			r->port_num = (long)idx[0];
		}
		if (col == 2)
			return int_of(v, &val) ? (r->id_subtype = (int)val, 0) : 0;
		return octets_set(col == 3 ? &r->id : &r->desc, v);
	}
	case W_REM: {
		if (ilen != 3)
			return 0;
		struct wm_lldp_rem *r = find_rem(s, idx);
		if (!r) {
			ROW_ADD(t->rem, t->n_rem, r);
			if (!r)
				return -1;
			r->time_mark = (long)idx[0];
			r->local_port_num = (long)idx[1];
			r->index = (long)idx[2];
		}
		switch (col) {
		case 4:
			return int_of(v, &val) ? (r->chassis_subtype = (int)val, 0) : 0;
		case 5: return octets_set(&r->chassis_id, v);
		case 6:
			return int_of(v, &val) ? (r->port_subtype = (int)val, 0) : 0;
		case 7: return octets_set(&r->port_id, v);
		case 8: return octets_set(&r->port_desc, v);
		case 9: return octets_set(&r->sys_name, v);
		case 10: return octets_set(&r->sys_desc, v);
		case 11: return octets_set(&r->caps_supported, v);
		case 12: return octets_set(&r->caps_enabled, v);
		default: return 0;
		}
	}
	case W_NETPHYS_ADDR:
	case W_NETPHYS_TYPE:
	case W_NETMEDIA_ADDR:
	case W_NETMEDIA_TYPE: {
		bool media = w == W_NETMEDIA_ADDR || w == W_NETMEDIA_TYPE;
		uint8_t addr[16] = {0};
		int family;
		if (media) {
			/* ipNetToMediaEntry INDEX { ipNetToMediaIfIndex, ipNetToMediaNetAddress } */
			if (ilen != 5 || !idx_bytes(idx + 1, 4, addr))
				return 0;
			family = AF_INET;
		} else {
			/* INDEX { ifIndex, InetAddressType, InetAddress (length-prefixed) } */
			if (ilen < 3 || idx[2] != ilen - 3)
				return 0;
			if (idx[1] == 1 && idx[2] == 4)
				family = AF_INET;
			else if (idx[1] == 2 && idx[2] == 16)
				family = AF_INET6;
			else
				return 0; /* ipv4z/ipv6z/dns: not a host address we can use */
			if (!idx_bytes(idx + 3, idx[2], addr))
				return 0;
		}
		size_t alen = family == AF_INET ? 4 : 16;
		long ifx = (long)idx[0];
		struct wm_arp *r;
		ROW_FIND(s, t->arp, t->n_arp,
			 r_->if_index == ifx && r_->family == family && r_->from_media_table == media &&
				 memcmp(r_->addr, addr, alen) == 0,
			 r);
		if (!r) {
			ROW_ADD(t->arp, t->n_arp, r);
			if (!r)
				return -1;
			r->if_index = ifx;
			r->family = family;
			r->from_media_table = media;
			memcpy(r->addr, addr, alen);
		}
		if (w == W_NETPHYS_ADDR || w == W_NETMEDIA_ADDR)
			return octets_set(&r->phys, v);
		return int_of(v, &val) ? (r->type = (int)val, 0) : 0;
	}
	default:
		return 0;
	}
}

/* ---- the response callback ---- */

static bool walk_ended(const netsnmp_variable_list *v)
{
	return v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT ||
	       v->type == SNMP_NOSUCHINSTANCE;
}

/* v is a cell of one of the columns [first, last] that table walk d covers. */
static bool walk_has(const struct walk_def *d, const netsnmp_variable_list *v)
{
	return v->name_length > d->entry_len &&
	       netsnmp_oid_is_subtree(d->entry, d->entry_len, v->name, v->name_length) == 0 &&
	       v->name[d->entry_len] >= d->first && v->name[d->entry_len] <= d->last;
}

int wm_snmp_store_varbind(struct wm_switch_tables *t, const struct variable_list *v)
{
	struct slot s = {.t = t};
	if (walk_ended(v))
		return 0;
	for (int w = 0; w < W_COUNT; w++) {
		const struct walk_def *d = &walks[w];
		if (d->get &&
		    snmp_oid_compare(v->name, v->name_length, d->entry, d->entry_len) == 0) {
			t->varbinds++;
			return store(&s, w, 0, NULL, 0, v);
		}
		if (!d->get && walk_has(d, v)) {
			t->varbinds++;
			size_t at = d->entry_len;
			return store(&s, w, (unsigned)v->name[at], v->name + at + 1,
				     v->name_length - at - 1, v);
		}
	}
	return 0;
}

static void next_walk(struct slot *s)
{
	s->hint = 0;
	s->last_len = 0;
	for (s->walk++; s->walk < W_COUNT; s->walk++) {
		if (walks[s->walk].skip_if_qbridge && s->t->n_qfdb > 0)
			continue;
		break;
	}
	s->state = s->walk < W_COUNT ? S_SEND : S_DONE;
	if (s->state == S_DONE)
		s->t->result = WM_POLL_OK;
}

/* The USM user (keys localised for the agent's engine ID) must exist before a v3 request is
 * built: net-snmp creates it when its own probe succeeds; ours does it here, and again if
 * another session to the same engine and user forgot it meanwhile. 0, or -1. */
static int ensure_usm_user(netsnmp_session *ss)
{
	if (ss->version != SNMP_VERSION_3 || !ss->securityEngineIDLen || !ss->securityName)
		return 0;
	if (usm_get_user(ss->securityEngineID, ss->securityEngineIDLen, ss->securityName))
		return 0;
	return usm_create_user_from_session(ss) == SNMPERR_SUCCESS ? 0 : -1;
}

static int copy_engine_id(u_char **dst, size_t *dst_len, const u_char *src, size_t len)
{
	u_char *p = malloc(len);
	if (!p)
		return -1;
	memcpy(p, src, len);
	free(*dst);
	*dst = p;
	*dst_len = len;
	return 0;
}

/* The answer to our engine ID probe: normally a usmStatsUnknownEngineIDs REPORT whose
 * msgAuthoritativeEngineID is the agent's. */
static void on_discovery(struct slot *s, netsnmp_session *ss, netsnmp_pdu *pdu)
{
	if (pdu->command != SNMP_MSG_REPORT && pdu->command != SNMP_MSG_RESPONSE) {
		slot_fail(s, WM_POLL_ERROR, "SNMPv3 engine ID discovery failed: unexpected answer");
		return;
	}
	/* Some net-snmp versions take the engine ID into the session before this callback,
	 * others after it: take it here so that the next request can be built at once. */
	if (!ss->securityEngineIDLen && pdu->securityEngineIDLen) {
		if (copy_engine_id(&ss->securityEngineID, &ss->securityEngineIDLen,
				   pdu->securityEngineID, pdu->securityEngineIDLen) < 0 ||
		    (!ss->contextEngineIDLen &&
		     copy_engine_id(&ss->contextEngineID, &ss->contextEngineIDLen,
				    pdu->securityEngineID, pdu->securityEngineIDLen) < 0)) {
			slot_fail(s, WM_POLL_ERROR, "out of memory");
			return;
		}
	}
	if (!ss->securityEngineIDLen) {
		slot_fail(s, WM_POLL_ERROR, "SNMPv3 engine ID discovery failed: the agent sent "
			  "no engine ID");
		return;
	}
	if (ensure_usm_user(ss) < 0) {
		slot_fail(s, WM_POLL_ERROR, "SNMPv3 engine ID discovery: cannot set up the USM "
			  "user");
		return;
	}
	s->discovering = false;
	next_walk(s);
}

/* 1: handled; 0: keep waiting (net-snmp resends by itself). */
static int on_response(struct slot *s, netsnmp_session *ss, netsnmp_pdu *pdu)
{
	if (s->discovering && pdu->command != 0) {
		on_discovery(s, ss, pdu);
		return 1;
	}
	if (pdu->command != SNMP_MSG_REPORT && pdu->command != SNMP_MSG_RESPONSE) {
		/* net-snmp hands over an answer whose USM check failed (wrong digest, wrong
		 * key) as a PDU without a command. */
		slot_fail(s, WM_POLL_ERROR, "SNMPv3 authentication failure: the answer did not "
			  "verify (check user, protocols and passwords) (%s)", step_name(s));
		return 1;
	}
	const struct walk_def *d = &walks[s->walk];
	if (pdu->command == SNMP_MSG_REPORT) {
		int e = snmpv3_get_report_type(pdu);
		if (e == SNMPERR_NOT_IN_TIME_WINDOW)
			return 0;   /* net-snmp resynchronises the clock and resends */
		if (is_auth_error(e))
			slot_fail(s, WM_POLL_ERROR, "SNMPv3 authentication failure: %s (%s)",
				  snmp_api_errstring(e), d->name);
		else
			slot_fail(s, WM_POLL_ERROR, "SNMPv3 report from the agent: %s (%s)",
				  snmp_api_errstring(e), d->name);
		return 1;
	}
	if (pdu->errstat != SNMP_ERR_NOERROR) {
		/* An agent that refuses one table (noSuchName from a v1-minded agent, genErr,
		 * noAccess) still has the others: that table is empty. */
		next_walk(s);
		return 1;
	}
	if (d->get) {
		for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable) {
			s->t->varbinds++;
			if (!walk_ended(v) && store(s, s->walk, 0, NULL, 0, v) < 0) {
				slot_fail(s, WM_POLL_ERROR, "out of memory");
				return 1;
			}
		}
		next_walk(s);
		return 1;
	}
	bool more = pdu->variables != NULL;
	for (netsnmp_variable_list *v = pdu->variables; v && more; v = v->next_variable) {
		if (walk_ended(v) || !walk_has(d, v)) {
			more = false;
			break;
		}
		/* A agent that goes backwards or repeats would make us walk forever. */
		if (s->last_len &&
		    snmp_oid_compare(v->name, v->name_length, s->last, s->last_len) <= 0) {
			more = false;
			break;
		}
		s->t->varbinds++;
		unsigned col = (unsigned)v->name[d->entry_len];
		if (store(s, s->walk, col, v->name + d->entry_len + 1,
			  v->name_length - d->entry_len - 1, v) < 0) {
			slot_fail(s, WM_POLL_ERROR, "out of memory");
			return 1;
		}
		memcpy(s->last, v->name, v->name_length * sizeof(oid));
		s->last_len = v->name_length;
	}
	if (more)
		s->state = S_SEND;
	else
		next_walk(s);
	return 1;
}

static int callback(int op, netsnmp_session *sess, int reqid, netsnmp_pdu *pdu, void *magic)
{
	(void)reqid;
	struct slot *s = magic;
	if (!s || s->state != S_WAIT)
		return 1;
	switch (op) {
	case NETSNMP_CALLBACK_OP_RESEND:       /* net-snmp retrying by itself: keep waiting */
	case NETSNMP_CALLBACK_OP_CONNECT:
	case NETSNMP_CALLBACK_OP_DISCONNECT:
		break;
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
		return pdu ? on_response(s, sess, pdu) : 1;
	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		slot_fail(s, WM_POLL_TIMEOUT, "SNMP timeout after %u tries (%s)",
			  tries_of(s->target), step_name(s));
		break;
	case NETSNMP_CALLBACK_OP_SEC_ERROR:
		/* net-snmp 5.9 says this for a REPORT just before handing the REPORT itself
		 * over (RECEIVED_MESSAGE), and for a request it cannot build (the send then
		 * fails): decide on those. Remembered in case nothing else follows. */
		s->sec_error = true;
		break;
	default:
		fail_snmp_error(s, "send", sess ? sess->s_snmp_errno : 0,
				sess ? sess->s_errno : 0);
		break;
	}
	return 1;
}

/* ---- sessions ---- */

/* RFC 3414 §4 discovery: noAuthNoPriv, no user, no variables (as net-snmp's own probe). */
static netsnmp_pdu *probe_pdu(void)
{
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
	if (!pdu)
		return NULL;
	pdu->version = SNMP_VERSION_3;
	pdu->securityName = strdup("");
	pdu->securityNameLen = 0;
	pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
	pdu->securityModel = SNMP_SEC_MODEL_USM;
	if (!pdu->securityName) {
		snmp_free_pdu(pdu);
		return NULL;
	}
	return pdu;
}

/* Send one request of this switch's walk (or its engine-ID probe) and arm its deadline; a
 * send that fails ends the switch's poll with the library's words. */
static void send_pdu(struct slot *s, const struct wm_snmp_target *tg, netsnmp_pdu *pdu)
{
	s->state = S_WAIT;
	s->sec_error = false;
	s->t->requests++;
	s->deadline = now_ms() + (double)(tg->timeout_ms ? tg->timeout_ms : 2000) *
		      tries_of(tg) + 1000;
	if (snmp_sess_async_send(s->sessp, pdu, callback, s) == 0) {
		/* snmp_sess_error(sess, &errno, &snmp_errno, &text): system error first. */
		int syserr = 0, liberr = 0;
		char *msg = NULL;
		snmp_sess_error(s->sessp, &syserr, &liberr, &msg);
		free(msg);
		snmp_free_pdu(pdu);
		if (s->state == S_WAIT)
			fail_snmp_error(s, "send", liberr, syserr);
	}
}

static void send_next(struct slot *s)
{
	const struct wm_snmp_target *tg = s->target;
	netsnmp_session *ss = snmp_sess_session(s->sessp);
	if (!ss) {
		slot_fail(s, WM_POLL_ERROR, "SNMP session lost");
		return;
	}
	if (s->discovering) {
		netsnmp_pdu *pdu = probe_pdu();
		if (!pdu) {
			slot_fail(s, WM_POLL_ERROR, "out of memory");
			return;
		}
		send_pdu(s, tg, pdu);
		return;
	}
	if (ensure_usm_user(ss) < 0) {
		slot_fail(s, WM_POLL_ERROR, "SNMPv3: cannot set up the USM user (%s)",
			  step_name(s));
		return;
	}
	const struct walk_def *d = &walks[s->walk];
	netsnmp_pdu *pdu = snmp_pdu_create(d->get ? SNMP_MSG_GET : SNMP_MSG_GETBULK);
	if (!pdu) {
		slot_fail(s, WM_POLL_ERROR, "out of memory");
		return;
	}
	if (d->get) {
		snmp_add_null_var(pdu, d->entry, d->entry_len);
	} else {
		pdu->non_repeaters = 0;
		pdu->max_repetitions = MAX_REPETITIONS;
		if (s->last_len) {
			snmp_add_null_var(pdu, s->last, s->last_len);
		} else {
			oid start[MAX_OID_LEN];
			memcpy(start, d->entry, d->entry_len * sizeof(oid));
			start[d->entry_len] = d->first;
			snmp_add_null_var(pdu, start, d->entry_len + 1);
		}
	}
	send_pdu(s, tg, pdu);
}

static int set_key(netsnmp_session *ss, const oid *hash, size_t hash_len, const char *pass,
		   u_char *key, size_t *key_len)
{
	*key_len = USM_AUTH_KU_LEN;
	if (!pass || strlen(pass) < 8)   /* RFC 3414 §11.2: at least 8 characters */
		return -1;
	(void)ss;
	return generate_Ku(hash, (u_int)hash_len, (const u_char *)pass, strlen(pass), key,
			   key_len) == SNMPERR_SUCCESS ? 0 : -1;
}

static int slot_open(struct slot *s)
{
	const struct wm_snmp_target *tg = s->target;
	const struct wm_snmp_cred *c = tg->cred;
	netsnmp_session ss;
	char peer[300];
	snmp_sess_init(&ss);
	if (!tg->address || !tg->address[0]) {
		slot_fail(s, WM_POLL_ERROR, "no address");
		return -1;
	}
	if (!c || (c->version != 2 && c->version != 3)) {
		slot_fail(s, WM_POLL_ERROR, "SNMP version must be 2c or 3");
		return -1;
	}
	unsigned port = tg->port ? tg->port : 161;
	if (strchr(tg->address, ':'))
		snprintf(peer, sizeof peer, "udp6:[%s]:%u", tg->address, port);
	else
		snprintf(peer, sizeof peer, "udp:%s:%u", tg->address, port);
	ss.peername = peer;
	ss.timeout = (long)(tg->timeout_ms ? tg->timeout_ms : 2000) * 1000L;
	ss.retries = (int)tg->retries;
	ss.callback = callback;
	ss.callback_magic = s;
	if (c->version == 2) {
		if (!c->community || !c->community[0]) {
			slot_fail(s, WM_POLL_ERROR, "SNMPv2c without a community");
			return -1;
		}
		ss.version = SNMP_VERSION_2c;
		ss.community = (u_char *)(uintptr_t)c->community;
		ss.community_len = strlen(c->community);
	} else {
		if (!c->user || !c->user[0]) {
			slot_fail(s, WM_POLL_ERROR, "SNMPv3 without a user");
			return -1;
		}
		ss.version = SNMP_VERSION_3;
		/* No synchronous engine ID probe when opening (versions that still probe
		 * there); the probe on the first send is switched off below. */
		ss.flags |= SNMP_FLAGS_DONT_PROBE;
		ss.securityName = (char *)(uintptr_t)c->user;
		ss.securityNameLen = strlen(c->user);
		ss.securityLevel = SNMP_SEC_LEVEL_NOAUTH;
		if (c->context && c->context[0]) {
			ss.contextName = (char *)(uintptr_t)c->context;
			ss.contextNameLen = strlen(c->context);
		}
		if (c->auth_proto && c->auth_proto[0]) {
			int at = usm_lookup_auth_type(c->auth_proto);
			size_t olen = 0;
			const oid *aoid = at >= 0 ? sc_get_auth_oid(at, &olen) : NULL;
			if (!aoid) {
				slot_fail(s, WM_POLL_ERROR, "unknown SNMPv3 auth protocol \"%s\"",
					  c->auth_proto);
				return -1;
			}
			ss.securityAuthProto = snmp_duplicate_objid(aoid, olen);
			ss.securityAuthProtoLen = olen;
			if (set_key(&ss, aoid, olen, c->auth_pass, ss.securityAuthKey,
				    &ss.securityAuthKeyLen) < 0) {
				slot_fail(s, WM_POLL_ERROR, "SNMPv3 auth password missing or shorter "
					  "than 8 characters");
				return -1;
			}
			ss.securityLevel = SNMP_SEC_LEVEL_AUTHNOPRIV;
			if (c->priv_proto && c->priv_proto[0]) {
				int pt = usm_lookup_priv_type(c->priv_proto);
				size_t plen = 0;
				const oid *poid = pt >= 0 ? sc_get_priv_oid(pt, &plen) : NULL;
				if (!poid) {
					slot_fail(s, WM_POLL_ERROR,
						  "unknown SNMPv3 priv protocol \"%s\"", c->priv_proto);
					return -1;
				}
				ss.securityPrivProto = snmp_duplicate_objid(poid, plen);
				ss.securityPrivProtoLen = plen;
				/* RFC 3826 §1.2 / RFC 3414 §2.6: the privacy key is localized
				 * with the authentication hash. */
				if (set_key(&ss, aoid, olen, c->priv_pass, ss.securityPrivKey,
					    &ss.securityPrivKeyLen) < 0) {
					slot_fail(s, WM_POLL_ERROR, "SNMPv3 priv password missing "
						  "or shorter than 8 characters");
					return -1;
				}
				ss.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
			}
		}
	}
	/* snmp_sess_open() copies the session. */
	s->sessp = snmp_sess_open(&ss);
	int liberr = ss.s_snmp_errno;
	free(ss.securityAuthProto);
	free(ss.securityPrivProto);
	memset(ss.securityAuthKey, 0, sizeof ss.securityAuthKey);
	memset(ss.securityPrivKey, 0, sizeof ss.securityPrivKey);
	if (!s->sessp) {
		if (liberr == SNMPERR_TIMEOUT)
			slot_fail(s, WM_POLL_TIMEOUT, "SNMP timeout after %u tries (engine ID "
				  "discovery)", tg->retries + 1);
		else
			slot_fail(s, WM_POLL_ERROR, "cannot open SNMP session: %s",
				  liberr ? snmp_api_errstring(liberr) : "unknown error");
		return -1;
	}
	if (c->version == 3) {
		/* snmp_sess_open() cleared SNMP_FLAGS_DONT_PROBE; without it the first
		 * snmp_sess_async_send() would probe synchronously. We probe ourselves. */
		netsnmp_session *in = snmp_sess_session(s->sessp);
		if (!in) {
			slot_fail(s, WM_POLL_ERROR, "cannot open SNMP session");
			return -1;
		}
		in->flags |= SNMP_FLAGS_DONT_PROBE;
		s->discovering = in->securityEngineIDLen == 0;
	}
	return 0;
}

/* Forget the USM user this session created, so that changed passwords (a configuration
 * reload, or a wrong password next to a right one) are never served from net-snmp's cache. */
static void forget_usm_user(void *sessp)
{
	netsnmp_session *ss = snmp_sess_session(sessp);
	if (!ss || ss->version != SNMP_VERSION_3 || !ss->securityEngineIDLen || !ss->securityName)
		return;
	struct usmUser *u = usm_get_user(ss->securityEngineID, ss->securityEngineIDLen,
					 ss->securityName);
	if (u) {
		usm_remove_user(u);
		usm_free_user(u);
	}
}

/* Another switch in flight uses the same USM user (same engine ID and user name): its
 * requests and answers need it, so it must not be forgotten yet. */
static bool usm_user_shared(const struct slot *s, const struct slot *slots, unsigned n)
{
	netsnmp_session *a = snmp_sess_session(s->sessp);
	if (!a || a->version != SNMP_VERSION_3 || !a->securityEngineIDLen || !a->securityName)
		return false;
	for (unsigned i = 0; i < n; i++) {
		const struct slot *o = &slots[i];
		if (o == s || !o->t || !o->sessp)
			continue;
		netsnmp_session *b = snmp_sess_session(o->sessp);
		if (b && b->version == SNMP_VERSION_3 && b->securityName &&
		    b->securityEngineIDLen == a->securityEngineIDLen &&
		    memcmp(b->securityEngineID, a->securityEngineID, a->securityEngineIDLen) == 0 &&
		    strcmp(b->securityName, a->securityName) == 0)
			return true;
	}
	return false;
}

static void slot_close(struct slot *s, const struct slot *slots, unsigned n)
{
	if (s->sessp) {
		if (!usm_user_shared(s, slots, n))
			forget_usm_user(s->sessp);
		snmp_sess_close(s->sessp);
		s->sessp = NULL;
	}
}

/* ---- initialisation ---- */

static bool initialised;

static int snmp_init_once(struct lis_error *err)
{
	if (initialised)
		return 0;
	/* No MIB files (numeric OIDs only), no persistent state under /var/lib/net-snmp, no
	 * configuration files, nothing printed on stderr. */
	setenv("MIBS", "", 1);
	setenv("MIBDIRS", "", 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_CONFIG_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_QUICK_PRINT, 1);
	snmp_disable_log();
	netsnmp_init_mib_internals();
	init_snmp("wiremapd");
	/* With no handler at all net-snmp falls back to stderr ("Authentication failed for
	 * USER"): install one that discards. */
	snmp_disable_log();
	netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_EMERG);
	initialised = true;
	(void)err;
	return 0;
}

void wm_snmp_shutdown(void)
{
	if (!initialised)
		return;
	snmp_shutdown("wiremapd");
	initialised = false;
}

/* ---- the loop ---- */

int wm_snmp_poll(const struct wm_snmp_target *targets, size_t n, unsigned concurrency,
		 struct wm_switch_tables *out, wm_snmp_done_fn *done, void *ctx,
		 const volatile sig_atomic_t *stop, struct lis_error *err)
{
	if (n > 0 && (!targets || !out))
		return lis_error_set(err, LIS_E_USAGE, "wm_snmp_poll: no targets or no result array");
	if (snmp_init_once(err) < 0)
		return -1;
	if (concurrency == 0)
		concurrency = 32;
	if (concurrency > MAX_CONCURRENCY)
		concurrency = MAX_CONCURRENCY;
	if (concurrency > n)
		concurrency = (unsigned)(n ? n : 1);
	struct slot *slots = calloc(concurrency, sizeof *slots);
	if (!slots)
		return lis_error_set(err, LIS_E_SYSTEM, "wm_snmp_poll: out of memory");
	size_t next = 0, active = 0, failed = 0;

	for (;;) {
		/* Start switches in free slots. */
		for (unsigned i = 0; i < concurrency; i++) {
			struct slot *s = &slots[i];
			if (!s->t && next < n && !(stop && *stop)) {
				memset(s, 0, sizeof *s);
				s->t0 = now_ms();
				s->idx = next++;
				s->target = &targets[s->idx];
				s->t = &out[s->idx];
				wm_switch_tables_clear(s->t);
				s->walk = -1;
				active++;
				if (slot_open(s) == 0) {
					if (s->discovering)
						s->state = S_SEND;
					else
						next_walk(s);
				}
			}
		}
		/* Send what is due; finish what is done. */
		bool freed = false;
		for (unsigned i = 0; i < concurrency; i++) {
			struct slot *s = &slots[i];
			if (!s->t)
				continue;
			if (s->state == S_SEND)
				send_next(s);
			if (s->state != S_DONE)
				continue;
			slot_close(s, slots, concurrency);
			s->t->ms = now_ms() - s->t0;
			if (s->t->result != WM_POLL_OK)
				failed++;
			if (done)
				done(s->target->user, s->target, s->t, ctx);
			s->t = NULL;
			active--;
			freed = true;
		}
		if (freed && next < n && !(stop && *stop))
			continue;
		if (active == 0 && (next >= n || (stop && *stop)))
			break;
		if (active == 0)
			continue;

		int maxfd = 0, block = 1;
		fd_set fds;
		FD_ZERO(&fds);
		struct timeval tv = {1, 0};
		for (unsigned i = 0; i < concurrency; i++)
			if (slots[i].t && slots[i].sessp && slots[i].state == S_WAIT)
				snmp_sess_select_info(slots[i].sessp, &maxfd, &fds, &tv, &block);
		if (block) {
			tv.tv_sec = 0;
			tv.tv_usec = 100000;
		}
		int r = select(maxfd, &fds, NULL, NULL, &tv);
		if (r < 0 && errno != EINTR) {
			free(slots);
			return lis_error_set(err, LIS_E_SYSTEM, "wm_snmp_poll: select: %s", strerror(errno));
		}
		for (unsigned i = 0; i < concurrency; i++) {
			struct slot *s = &slots[i];
			if (!s->t || !s->sessp || s->state != S_WAIT)
				continue;
			if (r > 0 && snmp_sess_read(s->sessp, &fds) < 0 && s->state == S_WAIT) {
				/* A receive error: only ICMP errors that mean nobody answers end
				 * the switch; anything else waits for net-snmp's timeout. */
				netsnmp_session *ss = snmp_sess_session(s->sessp);
				int e = ss ? ss->s_errno : 0;
				if (e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
				    e == EHOSTDOWN)
					fail_snmp_error(s, "receive", ss->s_snmp_errno, e);
			}
			if (s->state == S_WAIT)
				snmp_sess_timeout(s->sessp);
			/* Whatever net-snmp does (a security error with no answer after it, a
			 * request it dropped), a switch never waits past timeout x tries. */
			if (s->state == S_WAIT && now_ms() > s->deadline) {
				if (s->sec_error)
					slot_fail(s, WM_POLL_ERROR, "SNMPv3 security error (%s): "
						  "check user, protocols and passwords",
						  step_name(s));
				else
					slot_fail(s, WM_POLL_TIMEOUT, "SNMP timeout after %u tries "
						  "(%s)", tries_of(s->target), step_name(s));
			}
		}
	}
	/* Switches never started (stop requested). */
	for (size_t i = next; i < n; i++) {
		wm_switch_tables_clear(&out[i]);
		struct slot tmp = {.target = &targets[i], .t = &out[i]};
		slot_fail(&tmp, WM_POLL_ERROR, "not polled: stopped");
		failed++;
		if (done)
			done(targets[i].user, &targets[i], &out[i], ctx);
	}
	free(slots);
	return (int)failed;
}
