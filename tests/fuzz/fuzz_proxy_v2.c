/* libFuzzer target: the PROXY protocol v2 header (proto/proxy_v2.c) that a connection from a
 * configured load balancer begins with. Bytes come in as lisd reads them, a piece at a
 * time: fed the first k bytes for every k, proxy_v2_parse() must never read past k, must
 * ask for more only within PROXY_V2_MAX and never for fewer than it has, and, once it
 * accepts, must accept every longer input with the same result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_v2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > PROXY_V2_MAX + 16)
		size = PROXY_V2_MAX + 16;
	struct proxy_v2 first = {0};
	bool done = false;
	for (size_t k = 0; k <= size; k++) {
		/* a copy of exactly k bytes, so that ASan sees any read past them */
		uint8_t *buf = malloc(k ? k : 1);
		if (!buf)
			return 0;
		memcpy(buf, data, k);
		struct proxy_v2 h;
		char why[120];
		int rc = proxy_v2_parse(buf, k, &h, why, sizeof why);
		free(buf);
		if (rc < 0) {
			if (done)
				abort(); /* accepted a prefix, refused more of the same bytes */
			return 0;
		}
		if (rc > 0) {
			if (done || (size_t)rc <= k || rc > PROXY_V2_MAX)
				abort();
			continue;
		}
		if (h.size > k || h.size > PROXY_V2_MAX)
			abort();
		if (!done) {
			first = h;
			done = true;
		} else if (memcmp(&first, &h, sizeof h) != 0) {
			abort();
		}
	}
	return 0;
}
