#include "wm_resolve.h"

#include <string.h>

const char *wm_source_name(enum wm_source s)
{
	switch (s) {
	case WM_SRC_SUBNET:
		return "subnet";
	case WM_SRC_NONE:
		break;
	}
	return "none";
}

int wm_resolve_ip(struct db_conn *db, const char *ip, struct wm_result *res, struct lis_error *err)
{
	memset(res, 0, sizeof *res);
	int rc = db_lookup_subnet(db, ip, &res->loc, err);
	if (rc <= 0)
		return rc;
	res->source = WM_SRC_SUBNET;
	/* RFC 4119 method registry: "Wiremap" is location from the wired network's map. */
	res->method = "Wiremap";
	return 1;
}

void wm_result_clear(struct wm_result *res)
{
	if (!res)
		return;
	db_location_clear(&res->loc);
	res->source = WM_SRC_NONE;
	res->method = NULL;
}
