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

#include "civic.h"
#include "lis_conf.h"
#include "lis_error.h"

struct lis_web;

/* A device of a user, as lisd's resolver names it ("" for what it does not have). */
struct lis_web_device {
	const char *mac, *uri, *tel;
	const char *ip;                   /* a VPN binding's address */
};

/* What lisd would answer for a device now, from its resolver (lis_held_preview). */
struct lis_web_answer {
	char result[40];                  /* "located" or a HELD error code name */
	char source[32];                  /* the evidence that won: "declared", "port"... */
	char method[32];                  /* RFC 4119 method: "Manual", "Wiremap"... */
	int fallback;                     /* 1 a site or subnet default, 0 precise, -1 none */
	const char *civic[CIVIC_N_FIELDS]; /* the address, into text; NULL: absent */
	char text[1024];
	char note[320];                   /* the PIDF-LO note, or why not located */
};

/* What lisd hands the listener: its certificate callback (libmicrohttpd's
 * MHD_OPTION_HTTPS_CERT_CALLBACK, as lis_tls_retrieve), its GnuTLS priorities, and its
 * resolver's answer for a device (NULL: the page cannot say what lisd answers; 0 and *a
 * filled, -1 when it cannot tell). */
struct lis_web_hooks {
	gnutls_certificate_retrieve_function2 *cert_callback;
	const char *priorities;
	int (*preview)(const struct lis_web_device *dev, struct lis_web_answer *a);
};

/* Start serving on [selfservice] listen and port (*out NULL when port is 0). cfg and hooks
 * must outlive lis_web_stop(). */
int lis_web_start(const struct lis_config *cfg, const struct lis_web_hooks *hooks,
		  struct lis_web **out, struct lis_error *err);
/* Stop and join; NULL does nothing. */
void lis_web_stop(struct lis_web *w);

#endif
