/* The server's TLS certificate and key, swappable while lisd serves: libmicrohttpd asks
 * lis_tls_retrieve() for them at every handshake (MHD_OPTION_HTTPS_CERT_CALLBACK), so a
 * certificate renewed and loaded on SIGHUP serves the next handshake, and connections already
 * established keep theirs. One set per process, shared by every listener. */
#ifndef LIS_TLS_H
#define LIS_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "lis_error.h"

/* Make cert (PEM chain, server certificate first) and key (PEM) the ones served from the next
 * handshake on. The PEM text is not kept. The set it replaces stays in memory until
 * lis_tls_shutdown(): a handshake may still be using it. */
int lis_tls_set(const char *cert, const char *key, struct lis_error *err);
/* gnutls_certificate_retrieve_function2 for MHD_OPTION_HTTPS_CERT_CALLBACK. */
int lis_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int n_req_ca,
		     const gnutls_pk_algorithm_t *pk_algos, int n_pk_algos,
		     gnutls_pcert_st **pcert, unsigned int *n_pcert, gnutls_privkey_t *pkey);
/* How many times lis_tls_set() has succeeded (1 after start). */
unsigned long lis_tls_generation(void);
/* Free every set (after every listener has stopped). */
void lis_tls_shutdown(void);

#endif
