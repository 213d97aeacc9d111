/* Identities of a device: the one list of the kinds lisd knows (IP, MAC, SIP and tel URI, and
 * the other RFC 6155 identifiers it reads but cannot locate by), each described once in a
 * table (ident.c), and the spellings the wiremap stores (MAC, SIP/tel URI).
 *
 * An identity is a (kind, value) pair: the HELD parser makes them from RFC 6155 <device>
 * elements, lisctl explain from its options, the resolver walks them, and a location URI's
 * token carries them as identity text ("ip:192.0.2.7 mac:00:11:22:33:44:55"). Adding a kind
 * is one enum value and one table entry with its parser; the resolver (wiremap/wm_resolve.c)
 * says which kinds it can locate by. Pure: no I/O, no state. */
#ifndef IDENT_H
#define IDENT_H

#include <stddef.h>
#include <stdint.h>

/* In table order, which is also the order of words in identity text. */
enum ident_kind {
	IDENT_IP,        /* RFC 6155 §3.1 <ip v="4|6">: an IPv4 or IPv6 address */
	IDENT_MAC,       /* RFC 6155 §3.2 <mac> */
	IDENT_SIP,       /* RFC 6155 §3 <uri> holding a sip: or sips: URI */
	IDENT_TEL,       /* RFC 6155 §3 <uri> holding a tel: URI */
	IDENT_FQDN,
	IDENT_NAI,
	IDENT_DUID,
	IDENT_UDPPORT,   /* RFC 6155 §3.3 ports: 0..65535 */
	IDENT_TCPPORT,
	IDENT_SCTPPORT,
	IDENT_MSISDN,
	IDENT_IMSI,
	IDENT_IMEI,
	IDENT_MIN,
	IDENT_MDN,
	IDENT_OTHER,     /* an identifier element of no kind above; value: its local name */
	IDENT_N_KINDS
};

/* Longest value kept, with its NUL. */
#define IDENT_VALUE_MAX 256

struct ident {
	enum ident_kind kind;
	char value[IDENT_VALUE_MAX];      /* as the kind's parser keeps it: SIP and tel URIs
					   * normalized, IP and MAC as written */
};

struct ident_kind_info {
	const char *name;                 /* in messages, logs, lisctl options: "ip", "uri" */
	const char *element;              /* the RFC 6155 element that carries it; NULL: none */
	const char *word;                 /* before the value in identity text: "ip:"; "" when
					   * the value names its own scheme (tel:); NULL: never
					   * written */
	const char *label;                /* before the value in a sentence: "ip "; "" for URIs */
	const char *what;                 /* for "\"TEXT\" is not WHAT" */
	/* Check text and write the value kept; -1 when text is not WHAT or does not fit. */
	int (*parse)(const char *text, char *value, size_t size);
};

/* The table entry of kind k; NULL outside the enum. */
const struct ident_kind_info *ident_kind_info(enum ident_kind k);

/* Read text as kind k into id. Returns 0, or -1 when text is not of that kind. */
int ident_parse(enum ident_kind k, const char *text, struct ident *id);

/* Read text as the RFC 6155 element named element: the kinds it may carry are tried in
 * table order (<uri>: SIP, then tel). Returns 0, -1 when none of them accepts text, -2 when
 * no kind is carried by that element. */
int ident_parse_element(const char *element, const char *text, struct ident *id);

/* The kind's name; for IDENT_OTHER, the element's name kept in the value. */
const char *ident_name(const struct ident *id);

/* The identity of kind k in ids[0..n), or NULL. */
const struct ident *ident_find(const struct ident *ids, size_t n, enum ident_kind k);

/* Identity text: one word per identity, in table order, space-separated
 * ("ip:192.0.2.7 uri:sip:alice@example.com tel:+15551234567"). It is what a location URI
 * token carries, so its spelling is fixed: lisd instances sharing a key read each other's.
 * Returns 0; -1 when it does not fit in size (buf holds what did) or a kind is never
 * written. */
int ident_text_format(const struct ident *ids, size_t n, char *buf, size_t size);

/* Back from identity text: at most max identities, at most one of each kind, each checked
 * by its kind's parser. Returns 0 with *n set, -1 for anything else. */
int ident_text_parse(const char *text, struct ident *ids, size_t max, size_t *n);

/* 00:11:22:33:44:55, 00-11-22-33-44-55, 0011.2233.4455 or 001122334455; -1 otherwise. */
int ident_mac_parse(const char *text, uint8_t mac[6]);
/* "00:11:22:33:44:55" */
void ident_mac_format(const uint8_t mac[6], char buf[18]);
/* Normalized SIP/SIPS or tel URI, as endpoints are stored; -1 if not such a URI. */
int ident_uri_normalize(const char *uri, char *buf, size_t size);

#endif
