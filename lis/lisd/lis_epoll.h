/* The second C library function lisd replaces: epoll_wait(2), so that a TLS handshake waiting
 * for its client does not keep a request thread spinning.
 *
 * libmicrohttpd 0.9.75 (epoll, edge-triggered) keeps a connection on its "ready" list while
 * it believes the socket readable, and believes so until a read of an established session
 * finds nothing. A handshake's reads are not such reads: once the server has sent its part
 * and waits for the client's (one round trip; for ever, if the client stalls), the thread
 * calls gnutls_handshake() again and again, and epoll_wait() with a timeout of 0 in between:
 * one CPU at 100% per waiting handshake (a client that sends a ClientHello and nothing more
 * held a thread busy until [server] handshake_timeout cut it).
 *
 * lis_conn.c reads each HELD connection's TLS bytes itself and tells this module, per thread,
 * what the reads found: a handshake waiting for its client (lis_epoll_note_handshake_wait()),
 * or anything else (lis_epoll_note_progress(), also for writes and requests). When a thread
 * asks epoll_wait() not to wait (timeout 0) and all its connections did since its last call
 * was find handshakes waiting, the call waits up to LIS_EPOLL_HANDSHAKE_WAIT_MS instead: it
 * returns at once when any of the thread's sockets has news (the waiting client's bytes
 * included), so only work libmicrohttpd has without news from a socket (none of lisd's, as
 * far as lis_conn can tell) can be held back, that long at most. Every other call, and every
 * call of a thread that serves no HELD connection, goes to the kernel unchanged. */
#ifndef LIS_EPOLL_H
#define LIS_EPOLL_H

#define LIS_EPOLL_HANDSHAKE_WAIT_MS 5

/* For the calling thread, until its next epoll_wait(). */
void lis_epoll_note_handshake_wait(void);
void lis_epoll_note_progress(void);

#endif
