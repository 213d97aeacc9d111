/* Sign-in by LDAP simple bind (lis.conf(5) [ldap]), over TLS only: ldaps://, or ldap://
 * with StartTLS, the directory's certificate verified against ca_file (or the system's).
 * The user's DN is bind_dn with %u replaced by the user name (RFC 4514 escaped), or the one
 * entry an anonymous search of search_base with search_filter (%u RFC 4515 escaped) finds. */
#ifndef LIS_LDAP_H
#define LIS_LDAP_H

#include <stddef.h>

#include "lis_conf.h"

enum lis_ldap_result {
	LIS_LDAP_OK = 0,
	LIS_LDAP_DENIED = -1,      /* no such user, wrong password, empty password */
	LIS_LDAP_UNREACHABLE = -2, /* the directory cannot be reached or TLS failed */
};

/* Bind as user with password. why gets a sentence for the log (never the password). */
enum lis_ldap_result lis_ldap_check(const struct lis_config *cfg, const char *user,
				    const char *password, char *why, size_t why_size);

#endif
