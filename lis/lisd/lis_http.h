/* The HTTPS front: libmicrohttpd with its built-in TLS, method/path/media-type/size checks,
 * then the HELD handler (held_path) or a location URI dereference (under uri_base's path). */
#ifndef LIS_HTTP_H
#define LIS_HTTP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lis_config.h"
#include "lis_error.h"

struct lis_http;

/* Start serving (threads running on return) with the certificate and key of lis_tls_set(),
 * which must have been called. client_ca (PEM, or NULL) makes clients be asked for a
 * certificate; it must outlive the server. */
struct lis_http *lis_http_start(const struct lis_config *cfg, const char *client_ca,
				struct lis_error *err);
/* Stop: closes the listening socket and every connection, joins the threads. NULL is a no-op. */
void lis_http_stop(struct lis_http *h);

/* GnuTLS priorities of every lisd listener: TLS 1.2 and 1.3 only; in TLS 1.2 only ephemeral
 * elliptic-curve key exchange (forward secrecy: no static RSA, no finite-field DHE) and AEAD
 * ciphers (no CBC, no SHA-1 MAC). TLS 1.3 offers nothing else. Our cipher order. */
#define LIS_HTTP_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" \
	":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA" \
	":-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305" \
	":-MAC-ALL:+AEAD:%SERVER_PRECEDENCE"

/* What lisd's listeners share. The socket address of a listen key (IPv4 or IPv6 literal;
 * IPv6 adds MHD_USE_DUAL_STACK to *flags), or -1 with "KEY: ... is not an address". */
struct sockaddr_storage;
int lis_http_sockaddr(const char *key, const char *addr, unsigned long port,
		      struct sockaddr_storage *ss, unsigned *flags, struct lis_error *err);
/* libmicrohttpd's own messages (TLS handshake failures and the like, frequent and caused by
 * clients) at debug level, tagged listener=NAME unless NULL; while starting, the last one is
 * kept in start_msg for the error. */
void lis_http_mhd_message(const char *listener, bool starting, char *start_msg, size_t size,
			  const char *fmt, va_list ap);

/* TLS versions lisd accepts, for the start log line. */
#define LIS_HTTP_TLS_VERSIONS "1.2,1.3"

/* lisd(8) TEST MODE: with [test] header = true, a request carrying this header with the value
 * "1" is a test. */
#define LIS_TEST_HEADER "LIS-Test"

#endif
