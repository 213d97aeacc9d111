/* libFuzzer target: the collector's LLDP decoding (wiremap/collect/wm_lldp.c) of what a
 * switch's agent says about a neighbour: chassis and port IDs by subtype, DisplayStrings,
 * LLDP-MED octets, the capabilities BITS. Input: a selector byte (which decoder, and the
 * subtype), a buffer size byte, then the octets. Every decoder is run twice, into a buffer
 * of exactly the chosen size and into one of WM_LLDP_TEXT_MAX: both are NUL-terminated, the
 * short one is a prefix of the long one (or the hex fallback, when the subtype's own form
 * does not fit), and the hex fallback spells the octets. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wm_lldp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The decoder sel says, into buf[0..size); its return value, or 2 where it has none. */
static int run(uint8_t sel, const unsigned char *s, size_t len, char *buf, size_t size)
{
	int subtype = sel >> 3;   /* 0..31: the 7 of each MIB, and unknown ones */
	switch (sel & 7) {
	case 0: return wm_lldp_chassis_id_text(subtype, s, len, buf, size);
	case 1: return wm_lldp_port_id_text(subtype, s, len, buf, size);
	case 2: return wm_lldp_text(s, len, buf, size);
	case 3: wm_lldp_hex(s, len, buf, size); return 2;
	default: {
		unsigned caps = wm_lldp_caps(s, len);
		if (caps > 0xff)
			abort();
		(void)wm_lldp_caps_is_network_device(caps);
		wm_lldp_caps_text(caps, buf, size);
		return 2;
	}
	}
}

/* buf is lowercase colon-separated hex of s[0..len). */
static bool spells(const char *buf, const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	if (strlen(buf) != (len ? 3 * len - 1 : 0))
		return false;
	for (size_t i = 0; i < len; i++)
		if (buf[3 * i] != hex[s[i] >> 4] || buf[3 * i + 1] != hex[s[i] & 15] ||
		    (i + 1 < len && buf[3 * i + 2] != ':'))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char full[WM_LLDP_TEXT_MAX];
	if (size < 2)
		return 0;
	uint8_t sel = data[0];
	size_t small = (size_t)data[1] + 1;
	const unsigned char *s = data + 2;
	size_t len = size - 2 > 255 ? 255 : size - 2;   /* an LLDP ID is at most 255 octets */

	char *buf = malloc(small);
	if (!buf)
		return 0;
	memset(full, 'x', sizeof full);
	int rc = run(sel, s, len, full, sizeof full);
	int rc_small = run(sel, s, len, buf, small);
	if (!memchr(full, '\0', sizeof full) || !memchr(buf, '\0', small) ||
	    (rc != 0 && rc != 1 && rc != 2))
		abort();
	/* The same form, cut; or the hex fallback because the subtype's form did not fit. */
	if (rc == rc_small ? strncmp(full, buf, strlen(buf)) != 0
			   : rc != 1 || rc_small != 0 || strlen(full) < small)
		abort();
	/* the fallback spells the octets (a DisplayString's trailing NULs left out) */
	size_t text_len = len;
	while (text_len > 0 && s[text_len - 1] == 0)
		text_len--;
	if (rc == 0 && (sel & 7) < 3 && !spells(full, s, len) && !spells(full, s, text_len))
		abort();
	free(buf);
	return 0;
}
