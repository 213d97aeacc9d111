/* The PROXY protocol, version 2 (HAProxy's "proxy-protocol.txt", section 2.2): the binary
 * header a TCP load balancer (HAProxy send-proxy-v2, and the cloud balancers that speak it)
 * sends before the client's bytes, naming the client's address. lisd locates a device by the
 * source address of its request, which a balancer in TCP mode would otherwise replace with
 * its own. Pure: bytes in, a struct out.
 *
 * The header: 12 bytes of signature, the version (2) and command (LOCAL: the balancer's own
 * connection, e.g. a health check; PROXY: relayed), the address family and transport, the
 * length of what follows (network order), then the addresses (INET: source, destination,
 * source port, destination port; INET6 the same with 16-byte addresses) and optional TLVs,
 * which are skipped. */
#ifndef PROXY_V2_H
#define PROXY_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROXY_V2_FIXED 16      /* signature, version/command, family, length */
#define PROXY_V2_MAX 1024      /* what lisd reads at most: addresses and a few TLVs */

struct proxy_v2 {
	size_t size;           /* bytes of the whole header: where the client's bytes begin */
	bool local;            /* LOCAL command, or an unspecified family: keep the peer's */
	int family;            /* AF_INET or AF_INET6 when !local */
	uint8_t src[16];       /* the client's address (4 bytes for AF_INET) */
	uint16_t src_port;
};

/* Read the header from the n bytes at buf. Returns 0 when it is complete (out filled), or
 * the number of bytes the whole header needs when n is short of it (first PROXY_V2_FIXED,
 * then out->size), or -1 when the bytes are not a header lisd takes (why says which:
 * another signature, version, command, family, transport, or a length beyond
 * PROXY_V2_MAX), and never reads past n. */
int proxy_v2_parse(const uint8_t *buf, size_t n, struct proxy_v2 *out, char *why,
		   size_t why_size);

#endif
