/* lisd's own listening socket and accept thread in front of libmicrohttpd: behind a TCP
 * load balancer ([server] proxy_from), and wherever there is more than one request thread
 * (lis_http.c: libmicrohttpd's own accept gives a burst of connections to one thread;
 * MHD_add_connection() shares them by descriptor). A connection from an address of proxy_from must
 * begin with a PROXY protocol v2 header (proto/proxy_v2.h), which names the client; the
 * connection is then handed to libmicrohttpd (MHD_add_connection) with the client's address,
 * so that lisd locates, authorizes, limits and logs the device, not the balancer. A LOCAL
 * header (the balancer's health check) keeps the balancer's address. Connections from other
 * addresses are served as they come, without a header. Headers are read without blocking,
 * many at once, each within handshake_timeout; a bad or late one closes its connection and
 * is logged. */
#ifndef LIS_FRONT_H
#define LIS_FRONT_H

#include <stddef.h>
#include <sys/socket.h>

#include "lis_acl.h"
#include "lis_error.h"

struct MHD_Daemon;
struct lis_front;

/* Listen on ss (backlog as libmicrohttpd would) and start the accept thread, which hands
 * connections to mhd (started with MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC). Connections
 * wait to be accepted while mhd holds max_connections. from must outlive the front. */
struct lis_front *lis_front_start(const struct sockaddr_storage *ss, struct MHD_Daemon *mhd,
				  const struct lis_acl *from, unsigned handshake_timeout,
				  unsigned max_connections, struct lis_error *err);
/* A connection it handed over has closed (libmicrohttpd's NOTIFY_CLOSED): room for another.
 * Safe from any thread. */
void lis_front_closed(struct lis_front *f);
/* Stop the thread and close the listening socket and the connections still in their
 * header. Call before MHD_stop_daemon(). */
void lis_front_stop(struct lis_front *f);
/* Free it: after MHD_stop_daemon(), whose closing of the connections still open reaches
 * lis_front_closed(). */
void lis_front_free(struct lis_front *f);

#endif
