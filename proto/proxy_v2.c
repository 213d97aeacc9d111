#include "proxy_v2.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t signature[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

static int refuse(char *why, size_t why_size, const char *text)
{
	if (why && why_size)
		snprintf(why, why_size, "%s", text);
	return -1;
}

int proxy_v2_parse(const uint8_t *buf, size_t n, struct proxy_v2 *out, char *why,
		   size_t why_size)
{
	/* a wrong signature is told as soon as its first wrong byte is in */
	size_t sig = n < sizeof signature ? n : sizeof signature;
	if (memcmp(buf, signature, sig) != 0)
		return refuse(why, why_size, "no PROXY protocol v2 signature");
	if (n < PROXY_V2_FIXED)
		return PROXY_V2_FIXED;
	unsigned version = buf[12] >> 4, command = buf[12] & 0x0f;
	unsigned family = buf[13] >> 4, transport = buf[13] & 0x0f;
	size_t len = (size_t)buf[14] << 8 | buf[15];
	if (version != 2)
		return refuse(why, why_size, "PROXY protocol version is not 2");
	if (command > 1)
		return refuse(why, why_size, "PROXY protocol command is neither LOCAL nor PROXY");
	if (PROXY_V2_FIXED + len > PROXY_V2_MAX)
		return refuse(why, why_size, "PROXY protocol header longer than lisd reads");
	memset(out, 0, sizeof *out);
	out->size = PROXY_V2_FIXED + len;
	if (n < out->size)
		return (int)out->size;
	/* LOCAL: the balancer speaks for itself; the family is to be ignored */
	if (command == 0 || family == 0) {
		out->local = true;
		return 0;
	}
	if (transport != 1)
		return refuse(why, why_size, "PROXY protocol transport is not a stream (TCP)");
	const uint8_t *a = buf + PROXY_V2_FIXED;
	if (family == 1) {
		if (len < 12)
			return refuse(why, why_size, "PROXY protocol INET addresses cut short");
		out->family = AF_INET;
		memcpy(out->src, a, 4);
		out->src_port = (uint16_t)(a[8] << 8 | a[9]);
	} else if (family == 2) {
		if (len < 36)
			return refuse(why, why_size, "PROXY protocol INET6 addresses cut short");
		out->family = AF_INET6;
		memcpy(out->src, a, 16);
		out->src_port = (uint16_t)(a[32] << 8 | a[33]);
	} else {
		return refuse(why, why_size, "PROXY protocol family is not INET or INET6");
	}
	return 0;
}
