/* Third-party authorization (RFC 6155 §1.1, §4.2, §5): who may ask for the location of a
 * device other than itself, or dereference location URIs under deref_auth = authorized.
 * A requester is authorized by a TLS client certificate that verifies against client_ca and
 * whose subject DN is in allowed_subjects, or by its source address being in
 * allowed_addresses. */
#ifndef LIS_AUTH_H
#define LIS_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "lis_acl.h"
#include "lis_config.h"
#include "lis_error.h"

/* Parse the [auth] keys and read client_ca (*client_ca_pem: malloc'd PEM for the TLS
 * server, NULL when client_ca is empty). Errors are configuration errors (exit 2). */
int lis_auth_init(const struct lis_config *cfg, char **client_ca_pem, struct lis_error *err);
void lis_auth_shutdown(void);
/* True when a third-party requester could be authorized at all (some list is set). */
bool lis_auth_configured(void);

struct lis_auth_result {
	bool checked;                 /* lis_auth_check() ran */
	bool authorized;
	const char *how;              /* "certificate" or "address" when authorized */
	char subject[256];            /* the client certificate's subject DN, "" when none */
	char why[160];                /* why not, for the log */
};

/* Decide from the verified subject ("" or NULL when no certificate verified) and the
 * requester's address. Pure: what lis_auth_check() uses after the TLS part. */
void lis_auth_decide(const char *verified_subject, const char *ip, struct lis_auth_result *ar);

struct MHD_Connection;
/* Verify the connection's client certificate (if any) against client_ca and decide. */
void lis_auth_check(struct MHD_Connection *conn, const char *ip, struct lis_auth_result *ar);

/* lisd(8) TEST MODE: the requester is a configured test requester ([test] addresses, or a
 * client certificate that verifies and whose subject is in [test] subjects). */
bool lis_auth_is_test(struct MHD_Connection *conn, const char *ip);

#endif
