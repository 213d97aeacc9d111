/* Stand-in for lis_oidc.c (lis_oidc.h) until it is merged: every call fails with one
 * sentence, so that the routes that call it can be built and the page says why SSO is not
 * offered. */
#include "lis_oidc.h"

#include <stdio.h>

#define NOT_BUILT "OpenID Connect support is not built"

int lis_oidc_open(struct lis_oidc **out, const struct lis_oidc_conf *conf, char *err,
		  size_t errlen)
{
	(void)conf;
	*out = NULL;
	snprintf(err, errlen, NOT_BUILT);
	return -1;
}

void lis_oidc_close(struct lis_oidc *o)
{
	(void)o;
}

int lis_oidc_begin(struct lis_oidc *o, struct lis_oidc_pending *p, char *url, size_t urllen,
		   char *err, size_t errlen)
{
	(void)o; (void)p; (void)url; (void)urllen;
	snprintf(err, errlen, NOT_BUILT);
	return -1;
}

int lis_oidc_finish(struct lis_oidc *o, const struct lis_oidc_pending *p, const char *code,
		    const char *state, struct lis_oidc_identity *id, char *err, size_t errlen)
{
	(void)o; (void)p; (void)code; (void)state; (void)id;
	snprintf(err, errlen, NOT_BUILT);
	return -1;
}
