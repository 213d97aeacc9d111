/* LLDP identifiers as text. See wm_lldp.h for the forms. */
#include "wm_lldp.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ident.h"

const char *wm_lldp_chassis_subtype_name(int subtype)
{
	static const char *const names[] = {
		NULL, "chassisComponent", "interfaceAlias", "portComponent", "macAddress",
		"networkAddress", "interfaceName", "local",
	};
	if (subtype >= 1 && subtype <= 7)
		return names[subtype];
	return "unknown";
}

const char *wm_lldp_port_subtype_name(int subtype)
{
	static const char *const names[] = {
		NULL, "interfaceAlias", "portComponent", "macAddress", "networkAddress",
		"interfaceName", "agentCircuitId", "local",
	};
	if (subtype >= 1 && subtype <= 7)
		return names[subtype];
	return "unknown";
}

/* Lowercase hex, colon-separated when sep is set; only whole octets that fit. */
static void hex_text(const unsigned char *s, size_t len, bool sep, char *buf, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	if (size == 0)
		return;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		bool colon = sep && i > 0;
		if (o + colon + 2 >= size)
			break;
		if (colon)
			buf[o++] = ':';
		buf[o++] = digits[s[i] >> 4];
		buf[o++] = digits[s[i] & 15];
	}
	buf[o] = '\0';
}

static void put_hex(const unsigned char *s, size_t len, char *buf, size_t size)
{
	hex_text(s, len, true, buf, size);
}

void wm_lldp_hex(const unsigned char *s, size_t len, char *buf, size_t size)
{
	hex_text(s, s ? len : 0, false, buf, size);
}

/* Well-formed UTF-8 (RFC 3629 §4: no overlongs, no surrogates, at most U+10FFFF) without
 * C0/C1 control characters or DEL. */
static bool is_printable_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += n + 1;
	}
	return true;
}

int wm_lldp_text(const unsigned char *s, size_t len, char *buf, size_t size)
{
	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (!s)
		len = 0;
	while (len > 0 && s[len - 1] == 0)
		len--;
	if (len == 0)
		return 0;
	if (is_printable_utf8(s, len)) {
		size_t n = len < size - 1 ? len : size - 1;
		/* Do not cut a multi-byte sequence in half. */
		while (n < len && n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
		memcpy(buf, s, n);
		buf[n] = '\0';
		return 1;
	}
	put_hex(s, len, buf, size);
	return 0;
}

static int mac_text(const unsigned char *s, size_t len, char *buf, size_t size)
{
	if (len == 6 && size >= 18) {
		char m[18];
		ident_mac_format(s, m);
		snprintf(buf, size, "%s", m);
		return 1;
	}
	put_hex(s, len, buf, size);
	return 0;
}

/* IEEE 802.1AB §8.5.2.3: one octet of IANA address family number, then the address. */
static int network_address_text(const unsigned char *s, size_t len, char *buf, size_t size)
{
	char tmp[INET6_ADDRSTRLEN];
	if (len == 5 && s[0] == 1 && inet_ntop(AF_INET, s + 1, tmp, sizeof tmp)) {
		snprintf(buf, size, "%s", tmp);
		return 1;
	}
	if (len == 17 && s[0] == 2 && inet_ntop(AF_INET6, s + 1, tmp, sizeof tmp)) {
		snprintf(buf, size, "%s", tmp);
		return 1;
	}
	if (len == 7 && s[0] == 6)
		return mac_text(s + 1, 6, buf, size);
	put_hex(s, len, buf, size);
	return 0;
}

static int id_text(bool is_mac, bool is_net, bool known, const unsigned char *id, size_t len,
		   char *buf, size_t size)
{
	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (!id || len == 0)
		return 0;
	if (is_mac)
		return mac_text(id, len, buf, size);
	if (is_net)
		return network_address_text(id, len, buf, size);
	if (!known) {
		put_hex(id, len, buf, size);
		return 0;
	}
	return wm_lldp_text(id, len, buf, size);
}

int wm_lldp_chassis_id_text(int subtype, const unsigned char *id, size_t len, char *buf,
			    size_t size)
{
	return id_text(subtype == WM_LLDP_CHASSIS_MAC, subtype == WM_LLDP_CHASSIS_NETWORK_ADDRESS,
		       subtype >= 1 && subtype <= 7, id, len, buf, size);
}

int wm_lldp_port_id_text(int subtype, const unsigned char *id, size_t len, char *buf,
			 size_t size)
{
	/* agentCircuitId (RFC 3046 §3.1) is opaque octets: text only when printable. */
	return id_text(subtype == WM_LLDP_PORT_MAC, subtype == WM_LLDP_PORT_NETWORK_ADDRESS,
		       subtype >= 1 && subtype <= 7, id, len, buf, size);
}

unsigned wm_lldp_caps(const unsigned char *bits, size_t len)
{
	unsigned caps = 0;
	/* BITS (RFC 2578 §7.1.4): bit 0 is the high bit of the first octet. */
	for (size_t i = 0; i < len && i < 2; i++)
		for (unsigned b = 0; b < 8; b++)
			if (bits[i] & (0x80u >> b))
				caps |= 1u << (i * 8 + b);
	return caps & 0xffu;
}

void wm_lldp_caps_text(unsigned caps, char *buf, size_t size)
{
	static const char *const names[] = {
		"other", "repeater", "bridge", "wlanAccessPoint", "router", "telephone",
		"docsisCableDevice", "stationOnly",
	};
	if (size == 0)
		return;
	buf[0] = '\0';
	size_t o = 0;
	for (unsigned b = 0; b < 8; b++) {
		if (!(caps & (1u << b)))
			continue;
		int w = snprintf(buf + o, size - o, "%s%s", o ? "," : "", names[b]);
		if (w < 0 || (size_t)w >= size - o)
			return;
		o += (size_t)w;
	}
}

bool wm_lldp_caps_is_network_device(unsigned caps)
{
	if (caps & (WM_LLDP_CAP_TELEPHONE | WM_LLDP_CAP_STATION))
		return false;
	return (caps & (WM_LLDP_CAP_BRIDGE | WM_LLDP_CAP_ROUTER | WM_LLDP_CAP_REPEATER)) != 0;
}
