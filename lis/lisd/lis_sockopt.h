/* The one C library function lisd replaces: setsockopt(2), to spare libmicrohttpd's system
 * calls that cork and push the HELD listener's connections.
 *
 * libmicrohttpd 0.9.75 pushes each response out with setsockopt(TCP_NODELAY, 1) after each
 * gnutls_record_send(), unless it knows the socket is uncorked with TCP_NODELAY on; it
 * knows that only of connections it accepted itself. Of those added with
 * MHD_add_connection() (lis_front.c) the cork state stays "unknown" for ever, so every
 * answer cost two setsockopt(2) calls that changed nothing; an answer under 1400 bytes, a
 * third, to cork the socket before its header. lisd's own writes (lis_conn_write()) need
 * none of it: they leave with one sendmsg(2) per answer, header and body together.
 *
 * lis_sockopt_adopt() turns TCP_NODELAY on for a connection's socket, which is never corked,
 * and marks it. While it is marked, setsockopt(fd, IPPROTO_TCP, TCP_NODELAY or TCP_CORK, ...)
 * returns 0 without a system call, and the socket stays as it is: uncorked, TCP_NODELAY on,
 * so that every write leaves at once. Sparing a cork or a "TCP_NODELAY off" can only make
 * data leave sooner, never later; nothing waits for a push. Every other call, on any socket,
 * goes to the kernel as before. lis_sockopt_forget() unmarks before the socket is closed
 * (libmicrohttpd tells lisd of a closing connection while its descriptor is still open), so
 * a descriptor number reused by anything else (PostgreSQL, a webhook) is never taken for a
 * marked one. Descriptors at or above LIS_SOCKOPT_FDS are never marked. */
#ifndef LIS_SOCKOPT_H
#define LIS_SOCKOPT_H

#define LIS_SOCKOPT_FDS 65536

/* Set TCP_NODELAY on fd (a connected TCP socket lisd writes with lis_conn_write()) and
 * mark it. 0, or -1 with errno (not TCP, fd too large: then it is not marked). */
int lis_sockopt_adopt(int fd);
/* Unmark fd, before it is closed. Any fd: no-op when not marked. */
void lis_sockopt_forget(int fd);
/* TCP_NODELAY and TCP_CORK calls answered without a system call since start (metrics). */
unsigned long lis_sockopt_spared_total(void);

#endif
