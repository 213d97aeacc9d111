/* HELD request handling: from a request body and the requester's address to a HELD answer
 * (locationResponse or error). Knows nothing of HTTP. */
#ifndef LIS_HELD_H
#define LIS_HELD_H

#include <stdbool.h>
#include <stddef.h>

#include "lis_config.h"

/* What happened, for the request's log line. */
struct lis_held_outcome {
	const char *result;           /* "located" or a HELD error code name */
	const char *source;           /* wm_source_name(), "none" when not located */
	char location[128];           /* the location's key, "" when none */
	bool internal;                /* a fault of the LIS (database...), not of the request */
	char reason[320];             /* why it failed, for the log only; "" when located */
};

/* Set up per-thread database connections. cfg must outlive every request. */
int lis_held_init(const struct lis_config *cfg);
/* After the HTTP server has stopped (its threads have closed their connections). */
void lis_held_shutdown(void);

/* Answer one HELD request body from requester (IP address text, IPv4-mapped already
 * unmapped). On success returns 0 with *out a malloc'd application/held+xml document (free()
 * it); -1 only when not even a HELD error could be built. */
int lis_held_handle(const char *requester, const char *body, size_t len, char **out,
		    size_t *out_len, struct lis_held_outcome *oc);

#endif
