/* The connection guard: a connection that has not brought its first request within
 * [server] handshake_timeout of being accepted (TCP, TLS handshake and the request's headers)
 * is cut, however it trickles bytes, so that idle or slow connections cannot hold the
 * server's connection slots away from callers. libmicrohttpd's own timeout ([server] timeout)
 * is an idle timeout, restarted by every byte; this one is a deadline. Once a connection has
 * sent a request, only the idle timeout applies to it (persistent connections, RFC 5985 §8).
 * The connection limits themselves (total, per address) are libmicrohttpd's.
 * Each connection's record also carries its TLS session's transport: its writes, so that an
 * answer's header and body leave in one write, its reads, one recv(2) per record, and a
 * handshake hook (lis_conn_tls_coalesce, below). */
#ifndef LIS_CONN_H
#define LIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

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
/* One write per answer. libmicrohttpd (0.9.75) sends a response's header and its body with
 * two gnutls_record_send() calls: two TLS records, two sendmsg(2), and a client woken twice,
 * the first time for a header it cannot use without the body. lis_conn_tls_coalesce() takes
 * over the writes of c's TLS session (a gnutls_session_t); then lis_conn_hold_next(), called
 * just before a response with a body is queued, keeps the next record (the header's) back
 * until the one after it (the body's), and both leave in one sendmsg. Only for a response
 * whose body libmicrohttpd sends at once after the header (a buffer, not HEAD, not 204 or
 * 304): a held record is sent with the next one, never alone. It also turns TCP_NODELAY on
 * and adopts the socket (lis_sockopt.h), which lis_connguard_closed() undoes, and sets
 * lis_conn_tls_handshake_hook() (below). NULL c: no-op. */
void lis_conn_tls_coalesce(struct lis_conn *c, void *session);
void lis_conn_hold_next(struct lis_conn *c);
/* The handshake hook lis_conn_tls_coalesce() sets (a gnutls_handshake_hook_func; exposed for
 * tests). A TLS 1.3 handshake ends with the client's Finished, which the server answers with
 * nothing: the kernel may delay its acknowledgement (40 ms on Linux), and a client whose
 * socket keeps Nagle's algorithm (no TCP_NODELAY) then holds its first request back until it
 * comes. After the client's Finished (TLS 1.3 only), the hook sets TCP_QUICKACK on the
 * session's socket, which sends a pending acknowledgement at once. Not for TLS 1.2, where the
 * server's own Finished follows at once and carries it. Returns 0. */
int lis_conn_tls_handshake_hook(void *session, unsigned int htype, unsigned when,
				unsigned int incoming, const void *msg);
/* The writes of such a session, for tests: what is held back and then iov[0..iovcnt) (its
 * first LIS_CONN_WRITE_IOV parts) in one sendmsg(2) on c's socket. Returns how many bytes
 * of iov went out (the caller offers the rest again, as GnuTLS does), or -1 with errno:
 * EAGAIN also when the socket took only held bytes. */
#define LIS_CONN_WRITE_IOV 8
ssize_t lis_conn_write(struct lis_conn *c, const struct iovec *iov, int iovcnt);
/* The reads of such a session: GnuTLS asks for a record's 5-byte header, then for its body,
 * two recv(2) per record; lis_conn_read() takes up to LIS_CONN_READ_AHEAD bytes from the
 * socket at the first and serves what follows from them (a request's record, usually), so a
 * request costs one. A read of at least that size goes straight to the socket. What was read
 * ahead is served before the socket is asked again, so nothing waits unseen: libmicrohttpd
 * stops reading a connection only when a read finds nothing (EAGAIN), and then nothing is
 * ahead. Tells lis_epoll what it found (lis_epoll.h). Returns bytes (0: end of stream), or
 * -1 with errno. */
#define LIS_CONN_READ_AHEAD 2048
ssize_t lis_conn_read(struct lis_conn *c, void *buf, size_t size);
/* Records held back and sent with the next one since start (lisd's metrics). */
unsigned long lis_conn_coalesced_total(void);

/* Connections now open, and cut since start. */
size_t lis_connguard_open(struct lis_connguard *g);
unsigned long lis_connguard_cut_total(struct lis_connguard *g);
/* Stop and join the thread (after the server has stopped). NULL is a no-op. */
void lis_connguard_stop(struct lis_connguard *g);

#endif
