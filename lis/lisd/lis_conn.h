/* The connection guard: a connection that has not brought its first request within
 * [server] handshake_timeout of being accepted (TCP, TLS handshake and the request's headers)
 * is cut, however it trickles bytes, so that idle or slow connections cannot hold the
 * server's connection slots away from callers. libmicrohttpd's own timeout ([server] timeout)
 * is an idle timeout, restarted by every byte; this one is a deadline. Once a connection has
 * sent a request, only the idle timeout applies to it (persistent connections, RFC 5985 §8).
 * The connection limits themselves (total, per address) are libmicrohttpd's. */
#ifndef LIS_CONN_H
#define LIS_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "lis_error.h"

struct lis_connguard;
struct lis_conn;

/* Start the guard's thread; deadline_s > 0. NULL with err set on failure. */
struct lis_connguard *lis_connguard_start(unsigned long deadline_s, struct lis_error *err);
/* A connection was accepted: fd is its socket, addr its peer's address as text. NULL when
 * out of memory (the connection is then not guarded). */
struct lis_conn *lis_connguard_opened(struct lis_connguard *g, int fd, const char *addr);
/* A request's headers are in: the deadline no longer applies. True for the connection's
 * first request only (c NULL: false). */
bool lis_conn_requested(struct lis_conn *c);
/* The connection is closed (before its socket is): forget it. c may be NULL. */
void lis_connguard_closed(struct lis_connguard *g, struct lis_conn *c);
/* Connections now open, and cut since start. */
size_t lis_connguard_open(struct lis_connguard *g);
unsigned long lis_connguard_cut_total(struct lis_connguard *g);
/* Stop and join the thread (after the server has stopped). NULL is a no-op. */
void lis_connguard_stop(struct lis_connguard *g);

#endif
