/* The HTTPS front: libmicrohttpd with its built-in TLS, method/path/media-type/size checks,
 * then the HELD handler. */
#ifndef LIS_HTTP_H
#define LIS_HTTP_H

#include "lis_config.h"
#include "lis_error.h"

struct lis_http;

/* Start serving (threads running on return). cert and key are PEM text; the key is copied
 * by libmicrohttpd and may be wiped by the caller afterwards. */
struct lis_http *lis_http_start(const struct lis_config *cfg, const char *cert, const char *key,
				struct lis_error *err);
/* Stop: closes the listening socket and every connection, joins the threads. NULL is a no-op. */
void lis_http_stop(struct lis_http *h);

/* TLS versions lisd accepts, for the start log line. */
#define LIS_HTTP_TLS_VERSIONS "1.2,1.3"

#endif
