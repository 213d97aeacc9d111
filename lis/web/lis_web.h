/* The self-service listener (lis.conf(5) [selfservice], lisd(8) SELF-SERVICE): a third
 * libmicrohttpd daemon of lisd, HTTPS with [server]'s certificate, on a port of its own, that
 * serves users their declared locations (47 CFR 9.16(b)(3)): an HTML page (sign-in by LDAP
 * or OpenID Connect, then their addresses, pick, enter, confirm) and a JSON API under
 * /api/v1/ for softphones (per-device tokens of lisctl token) and the page's own scripts.
 * Each request opens its own database connection: a slow or absent database makes the
 * page answer 503 and never touches the HELD listener. */
#ifndef LIS_WEB_H
#define LIS_WEB_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "lis_conf.h"
#include "lis_error.h"

struct lis_web;

/* What lisd hands the listener: its certificate callback (libmicrohttpd's
 * MHD_OPTION_HTTPS_CERT_CALLBACK, as lis_tls_retrieve) and its GnuTLS priorities. */
struct lis_web_tls {
	gnutls_certificate_retrieve_function2 *cert_callback;
	const char *priorities;
};

/* Start serving on [selfservice] listen and port (*out NULL when port is 0). cfg and tls
 * must outlive lis_web_stop(). */
int lis_web_start(const struct lis_config *cfg, const struct lis_web_tls *tls,
		  struct lis_web **out, struct lis_error *err);
/* Stop and join; NULL does nothing. */
void lis_web_stop(struct lis_web *w);

#endif
