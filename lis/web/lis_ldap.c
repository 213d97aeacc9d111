/* LDAP simple bind over TLS (lis_ldap.h). One connection per sign-in: sign-ins are rare, and
 * a fresh connection never carries another user's bind. */
#include "lis_ldap.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <ldap.h>

#include "lis_strbuf.h"

/* Replace every %u of tmpl with user, escaped: RFC 4514 §2.4 for a DN, RFC 4515 §3 for a
 * filter. */
static bool expand(const char *tmpl, const char *user, bool filter, char *out, size_t size)
{
	struct strbuf b;
	strbuf_init(&b, out, size);
	for (const char *p = tmpl; *p; p++) {
		if (p[0] != '%' || p[1] != 'u') {
			strbuf_put(&b, p, 1);
			continue;
		}
		p++;
		for (const char *u = user; *u; u++) {
			unsigned char c = (unsigned char)*u;
			if (filter ? strchr("*()\\", c) != NULL
				   : strchr(",+\"\\<>;=", c) != NULL ||
					     (u == user && (c == ' ' || c == '#')) ||
					     (!u[1] && c == ' '))
				strbuf_printf(&b, "\\%02x", c);
			else
				strbuf_put(&b, u, 1);
		}
	}
	return !b.cut;
}

static enum lis_ldap_result failed(LDAP *ld, int rc, const char *what, char *why,
				   size_t why_size)
{
	char *diag = NULL;
	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	snprintf(why, why_size, "%s: %s%s%s", what, ldap_err2string(rc), diag && *diag ? ": " : "",
		 diag ? diag : "");
	ldap_memfree(diag);
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_NO_SUCH_OBJECT ||
			       rc == LDAP_INAPPROPRIATE_AUTH || rc == LDAP_UNWILLING_TO_PERFORM
		       ? LIS_LDAP_DENIED : LIS_LDAP_UNREACHABLE;
}

/* The DN of user by an anonymous search: exactly one entry, or denied. */
static enum lis_ldap_result find_dn(LDAP *ld, const struct lis_config *cfg, const char *user,
				    char *dn, size_t dn_size, char *why, size_t why_size)
{
	char filter[512];
	if (!expand(cfg->ldap_search_filter, user, true, filter, sizeof filter)) {
		snprintf(why, why_size, "the search filter for this user name is too long");
		return LIS_LDAP_DENIED;
	}
	struct timeval tv = {(time_t)cfg->ldap_timeout, 0};
	char *attrs[] = {(char *)LDAP_NO_ATTRS, NULL};
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(ld, cfg->ldap_search_base, LDAP_SCOPE_SUBTREE, filter, attrs,
				   0, NULL, NULL, &tv, 2, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		ldap_msgfree(res);
		return failed(ld, rc, "search for the user", why, why_size);
	}
	int n = ldap_count_entries(ld, res);
	LDAPMessage *e = n == 1 ? ldap_first_entry(ld, res) : NULL;
	char *d = e ? ldap_get_dn(ld, e) : NULL;
	if (d)
		snprintf(dn, dn_size, "%s", d);
	ldap_memfree(d);
	ldap_msgfree(res);
	if (!d) {
		snprintf(why, why_size, "the search found %d entries for the user name", n);
		return LIS_LDAP_DENIED;
	}
	return LIS_LDAP_OK;
}

enum lis_ldap_result lis_ldap_check(const struct lis_config *cfg, const char *user,
				    const char *password, char *why, size_t why_size)
{
	/* RFC 4513 §5.1.2: a simple bind with a DN and no password is an unauthenticated
	 * bind, which many directories accept: never let it through as a sign-in. */
	if (!password[0] || !user[0]) {
		snprintf(why, why_size, "empty user name or password");
		return LIS_LDAP_DENIED;
	}
	LDAP *ld = NULL;
	int rc = ldap_initialize(&ld, cfg->ldap_uri);
	if (rc != LDAP_SUCCESS)
		return failed(NULL, rc, "ldap_initialize", why, why_size);
	int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
	struct timeval tv = {(time_t)cfg->ldap_timeout, 0};
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
	if (cfg->ldap_ca_file[0])
		ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->ldap_ca_file);
	/* the options above apply to a new TLS context */
	ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	if (strncasecmp(cfg->ldap_uri, "ldaps://", 8) != 0) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			/* lis.conf(5): never a plain-text bind */
			failed(ld, rc, "StartTLS", why, why_size);
			return LIS_LDAP_UNREACHABLE;
		}
	}
	char dn[1024];
	enum lis_ldap_result r = LIS_LDAP_OK;
	if (cfg->ldap_bind_dn[0]) {
		if (!expand(cfg->ldap_bind_dn, user, false, dn, sizeof dn)) {
			snprintf(why, why_size, "the DN of this user name is too long");
			ldap_unbind_ext_s(ld, NULL, NULL);
			return LIS_LDAP_DENIED;
		}
	} else if ((r = find_dn(ld, cfg, user, dn, sizeof dn, why, why_size)) != LIS_LDAP_OK) {
		if (r == LIS_LDAP_DENIED)
			ldap_unbind_ext_s(ld, NULL, NULL);
		return r;
	}
	struct berval cred = {strlen(password), (char *)password};
	rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS)
		return failed(ld, rc, "bind", why, why_size);
	ldap_unbind_ext_s(ld, NULL, NULL);
	snprintf(why, why_size, "bound");
	return LIS_LDAP_OK;
}
