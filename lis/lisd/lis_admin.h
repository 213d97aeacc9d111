/* The admin listener ([admin] in lis.conf(5), lisd(8) ADMIN LISTENER): a second
 * libmicrohttpd daemon, HTTPS with [server]'s certificate and TLS priorities, on loopback by
 * default, answering GET (or HEAD) of /healthz (the process serves), /readyz (a snapshot is
 * loaded; its age and the database's state) and /metrics (lis_metrics.h). */
#ifndef LIS_ADMIN_H
#define LIS_ADMIN_H

#include "lis_config.h"
#include "lis_error.h"

struct lis_admin;

/* Start serving (a thread running on return) on [admin] listen and port; *out NULL when
 * port is 0. It serves the certificate of lis_tls_set(). cfg must outlive lis_admin_stop(). */
int lis_admin_start(const struct lis_config *cfg, struct lis_admin **out,
		    struct lis_error *err);
/* Stop and join; NULL does nothing. */
void lis_admin_stop(struct lis_admin *a);
/* From now on /readyz answers 503 (lisd is stopping); HELD is still served. */
void lis_admin_set_draining(void);

#endif
