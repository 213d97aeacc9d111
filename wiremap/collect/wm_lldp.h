/* LLDP identifiers as text (IEEE 802.1AB-2009 §8.5.2, §8.5.3, §8.5.8; LLDP-MIB TCs
 * LldpChassisIdSubtype, LldpPortIdSubtype, LldpSystemCapabilitiesMap). Agents send odd
 * things (Hex-STRING where text was meant, short or empty IDs, bytes that are not UTF-8):
 * every input gives some text, never an error, so one bad row cannot break a poll. */
#ifndef WM_LLDP_H
#define WM_LLDP_H

#include <stdbool.h>
#include <stddef.h>

/* Large enough for any decoded ID: 255 octets as colon-separated hex. */
#define WM_LLDP_TEXT_MAX 800

/* LldpChassisIdSubtype */
enum wm_lldp_chassis_subtype {
	WM_LLDP_CHASSIS_COMPONENT = 1, WM_LLDP_CHASSIS_IF_ALIAS = 2,
	WM_LLDP_CHASSIS_PORT_COMPONENT = 3, WM_LLDP_CHASSIS_MAC = 4,
	WM_LLDP_CHASSIS_NETWORK_ADDRESS = 5, WM_LLDP_CHASSIS_IF_NAME = 6,
	WM_LLDP_CHASSIS_LOCAL = 7,
};
/* LldpPortIdSubtype */
enum wm_lldp_port_subtype {
	WM_LLDP_PORT_IF_ALIAS = 1, WM_LLDP_PORT_COMPONENT = 2, WM_LLDP_PORT_MAC = 3,
	WM_LLDP_PORT_NETWORK_ADDRESS = 4, WM_LLDP_PORT_IF_NAME = 5,
	WM_LLDP_PORT_AGENT_CIRCUIT_ID = 6, WM_LLDP_PORT_LOCAL = 7,
};

/* The MIB's name of a subtype ("macAddress", "interfaceName", ...); "unknown" otherwise. */
const char *wm_lldp_chassis_subtype_name(int subtype);
const char *wm_lldp_port_subtype_name(int subtype);

/* Decode an ID into buf (NUL-terminated, truncated to size):
 * - MAC subtypes, 6 octets: "00:11:22:33:44:55" (ident_mac_format);
 * - network address: IANA address family octet + address: 1 (IPv4, 4 octets) and 2 (IPv6,
 *   16 octets) as inet_ntop text, 6 (802, 6 octets) as a MAC;
 * - the other subtypes: the octets as text when they are printable UTF-8;
 * - anything else (wrong length, unprintable, unknown subtype): lowercase colon-separated
 *   hex ("0a", "00:1b:..."); empty input gives "".
 * Returns 1 when the subtype's own form was used, 0 for the hex/empty fallback. */
int wm_lldp_chassis_id_text(int subtype, const unsigned char *id, size_t len, char *buf,
			    size_t size);
int wm_lldp_port_id_text(int subtype, const unsigned char *id, size_t len, char *buf,
			 size_t size);

/* Printable UTF-8 (no control characters) -> copied; else colon-separated hex. Trailing NULs
 * that some agents add to DisplayStrings are dropped. Returns 1 for text, 0 for hex. */
int wm_lldp_text(const unsigned char *s, size_t len, char *buf, size_t size);

/* Opaque octets as lowercase hex, two digits each and nothing between ("0a1b"), for values
 * kept as they came (an LLDP-MED column of decode HEX, lldp_med.h). Cut to the whole octets
 * that fit size; empty input gives "". */
void wm_lldp_hex(const unsigned char *s, size_t len, char *buf, size_t size);

/* LldpSystemCapabilitiesMap: BITS, bit 0 = the most significant bit of the first octet. */
enum wm_lldp_cap {
	WM_LLDP_CAP_OTHER = 1u << 0, WM_LLDP_CAP_REPEATER = 1u << 1, WM_LLDP_CAP_BRIDGE = 1u << 2,
	WM_LLDP_CAP_WLAN_AP = 1u << 3, WM_LLDP_CAP_ROUTER = 1u << 4,
	WM_LLDP_CAP_TELEPHONE = 1u << 5, WM_LLDP_CAP_DOCSIS = 1u << 6,
	WM_LLDP_CAP_STATION = 1u << 7,
};
/* The BITS value as a mask of enum wm_lldp_cap (empty or absent: 0). */
unsigned wm_lldp_caps(const unsigned char *bits, size_t len);
/* "bridge,telephone" (MIB names, in bit order); "" for none. */
void wm_lldp_caps_text(unsigned caps, char *buf, size_t size);
/* A neighbour that forwards for others: bridge or router (or repeater), and not a telephone
 * or station. IP phones with a PC port advertise bridge+telephone and are desks. */
bool wm_lldp_caps_is_network_device(unsigned caps);

#endif
