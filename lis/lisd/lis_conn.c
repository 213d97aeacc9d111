/* The connection guard (see lis_conn.h): a list of open connections under one mutex, and a
 * thread that cuts those past their deadline with shutdown(2). shutdown, not close: the
 * socket stays libmicrohttpd's, which sees the end of the stream, cleans up and closes it,
 * after telling us (lis_connguard_closed) while the descriptor is still its own.
 * Then the transport of a connection's TLS session (lis_conn_write, lis_conn_read, the
 * handshake hook): only the connection's libmicrohttpd thread calls them, so they take no
 * lock. */
#include "lis_conn.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "lis_epoll.h"
#include "lis_log.h"
#include "lis_sockopt.h"

struct lis_conn {
	struct lis_conn *prev, *next;
	int fd;
	struct timespec accepted;     /* CLOCK_MONOTONIC */
	atomic_bool requested;
	bool cut;
	char addr[46];
	/* Its TLS session's handshake, writes and reads (lis_conn_tls_coalesce): only the
	 * connection's libmicrohttpd thread touches these. */
	bool handshaken;              /* the client's Finished is in (lis_conn_tls_handshake_hook) */
	bool hold;                    /* keep the next record back */
	size_t pending_len;           /* bytes of records kept back, not yet sent */
	unsigned char pending[1024];  /* a response header's record fits */
	size_t ahead_off, ahead_len;  /* bytes read ahead of GnuTLS's asking (lis_conn_read) */
	unsigned char ahead[LIS_CONN_READ_AHEAD];
};

struct lis_connguard {
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_t thread;
	bool stop;
	long deadline_ms;
	long period_ms;
	struct lis_conn head;         /* circular list, head.next is the oldest */
	size_t n_open;
	atomic_ulong cut_total;
};

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* Cut what is past its deadline; the list is in order of acceptance, so stop at the first
 * connection still within it. Returns how many were cut, and the first one's address. */
static unsigned cut_overdue(struct lis_connguard *g, char *first, size_t first_size)
{
	struct timespec now;
	unsigned n = 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (struct lis_conn *c = g->head.next; c != &g->head; c = c->next) {
		if (ms_between(&c->accepted, &now) < g->deadline_ms)
			break;
		if (c->cut || atomic_load_explicit(&c->requested, memory_order_acquire))
			continue;
		shutdown(c->fd, SHUT_RDWR);
		c->cut = true;
		if (n++ == 0)
			snprintf(first, first_size, "%s", c->addr);
	}
	return n;
}

static void *guard_main(void *arg)
{
	struct lis_connguard *g = arg;
	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (g->period_ms % 1000) * 1000000;
		until.tv_sec += g->period_ms / 1000 + until.tv_nsec / 1000000000;
		until.tv_nsec %= 1000000000;
		while (!g->stop && pthread_cond_timedwait(&g->wake, &g->mu, &until) != ETIMEDOUT)
			;
		if (g->stop)
			break;
		char first[46] = "";
		unsigned n = cut_overdue(g, first, sizeof first);
		if (n) {
			atomic_fetch_add(&g->cut_total, n);
			pthread_mutex_unlock(&g->mu);
			/* one line per pass, not per connection: a flood stays a few lines */
			lis_log(LIS_LOG_INFO, "conn",
				"result=cut count=%u first=%s reason=no request within %ld s", n,
				first, g->deadline_ms / 1000);
			pthread_mutex_lock(&g->mu);
		}
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct lis_connguard *lis_connguard_start(unsigned long deadline_s, struct lis_error *err)
{
	struct lis_connguard *g = calloc(1, sizeof *g);
	if (!g) {
		lis_error_set(err, LIS_E_SYSTEM, "out of memory");
		return NULL;
	}
	g->deadline_ms = (long)deadline_s * 1000;
	/* a connection is cut at most a quarter of its deadline (and 1 s) late */
	g->period_ms = g->deadline_ms / 4 < 1000 ? g->deadline_ms / 4 : 1000;
	if (g->period_ms < 50)
		g->period_ms = 50;
	g->head.next = g->head.prev = &g->head;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->wake, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&g->thread, NULL, guard_main, g);
	if (rc) {
		lis_error_set(err, LIS_E_SYSTEM, "cannot start the connection guard: %s",
			      strerror(rc));
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return NULL;
	}
	return g;
}

struct lis_conn *lis_connguard_opened(struct lis_connguard *g, int fd, const char *addr)
{
	struct lis_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->fd = fd;
	clock_gettime(CLOCK_MONOTONIC, &c->accepted);
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	pthread_mutex_lock(&g->mu);
	/* appended last: the list stays in order of acceptance */
	c->prev = g->head.prev;
	c->next = &g->head;
	g->head.prev->next = c;
	g->head.prev = c;
	g->n_open++;
	pthread_mutex_unlock(&g->mu);
	return c;
}

bool lis_conn_requested(struct lis_conn *c)
{
	return c && !atomic_exchange_explicit(&c->requested, true, memory_order_acq_rel);
}

void lis_connguard_closed(struct lis_connguard *g, struct lis_conn *c)
{
	if (!c)
		return;
	lis_sockopt_forget(c->fd);
	pthread_mutex_lock(&g->mu);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	g->n_open--;
	pthread_mutex_unlock(&g->mu);
	free(c);
}

static atomic_ulong coalesced_total;

ssize_t lis_conn_write(struct lis_conn *c, const struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (c->hold) {
		c->hold = false;
		if (total <= sizeof c->pending - c->pending_len) {
			for (int i = 0; i < iovcnt; i++) {
				memcpy(c->pending + c->pending_len, iov[i].iov_base, iov[i].iov_len);
				c->pending_len += iov[i].iov_len;
			}
			atomic_fetch_add_explicit(&coalesced_total, 1, memory_order_relaxed);
			return (ssize_t)total;
		}
	}
	struct iovec v[1 + LIS_CONN_WRITE_IOV];
	int n = 0;
	if (c->pending_len)
		v[n++] = (struct iovec){.iov_base = c->pending, .iov_len = c->pending_len};
	for (int i = 0; i < iovcnt && i < LIS_CONN_WRITE_IOV; i++)
		v[n++] = iov[i];
	struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)n};
	ssize_t r = sendmsg(c->fd, &m, MSG_NOSIGNAL);
	if (r < 0)
		return -1;
	size_t sent = (size_t)r;
	if (sent < c->pending_len || (sent == c->pending_len && total)) {
		memmove(c->pending, c->pending + sent, c->pending_len - sent);
		c->pending_len -= sent;
		errno = EAGAIN;
		return -1;
	}
	sent -= c->pending_len;
	c->pending_len = 0;
	return (ssize_t)sent;
}

/* gnutls_vec_push_func over lis_conn_write(). */
static ssize_t conn_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct iovec v[LIS_CONN_WRITE_IOV];
	int n = 0;
	for (; n < iovcnt && n < LIS_CONN_WRITE_IOV; n++)
		v[n] = (struct iovec){.iov_base = iov[n].iov_base, .iov_len = iov[n].iov_len};
	lis_epoll_note_progress();
	return lis_conn_write(ptr, v, n);
}

ssize_t lis_conn_read(struct lis_conn *c, void *buf, size_t size)
{
	if (c->ahead_len) {
		size_t n = size < c->ahead_len ? size : c->ahead_len;
		memcpy(buf, c->ahead + c->ahead_off, n);
		c->ahead_off += n;
		c->ahead_len -= n;
		lis_epoll_note_progress();
		return (ssize_t)n;
	}
	ssize_t r;
	if (size >= sizeof c->ahead) {
		r = recv(c->fd, buf, size, 0);
	} else {
		r = recv(c->fd, c->ahead, sizeof c->ahead, 0);
		if (r > 0) {
			size_t n = size < (size_t)r ? size : (size_t)r;
			memcpy(buf, c->ahead, n);
			c->ahead_off = n;
			c->ahead_len = (size_t)r - n;
			r = (ssize_t)n;
		}
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !c->handshaken)
		lis_epoll_note_handshake_wait();
	else
		lis_epoll_note_progress();
	return r;
}

/* gnutls_pull_func over lis_conn_read(). */
static ssize_t conn_pull(gnutls_transport_ptr_t ptr, void *buf, size_t size)
{
	return lis_conn_read(ptr, buf, size);
}

/* gnutls_pull_timeout_func: bytes read ahead are there at once; else poll(2) the socket. */
static int conn_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct lis_conn *c = ptr;
	if (c->ahead_len)
		return 1;
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int r = poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
	return r < 0 ? -1 : r;
}

int lis_conn_tls_handshake_hook(void *session, unsigned int htype, unsigned when,
				unsigned int incoming, const void *msg)
{
	(void)msg;
	gnutls_session_t s = session;
	if (htype != GNUTLS_HANDSHAKE_FINISHED || when != GNUTLS_HOOK_POST || !incoming)
		return 0;
	struct lis_conn *c = gnutls_transport_get_ptr(s);
	c->handshaken = true;
	if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3) {
		int on = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
	}
	return 0;
}

static int on_handshake_message(gnutls_session_t s, unsigned int htype, unsigned when,
				unsigned int incoming, const gnutls_datum_t *msg)
{
	return lis_conn_tls_handshake_hook(s, htype, when, incoming, msg);
}

void lis_conn_tls_coalesce(struct lis_conn *c, void *session)
{
	if (!c || !session)
		return;
	gnutls_session_t s = session;
	/* writes and reads come here (lis_conn_write(), lis_conn_read()) */
	gnutls_transport_set_ptr(s, c);
	gnutls_transport_set_vec_push_function(s, conn_push);
	gnutls_transport_set_pull_function(s, conn_pull);
	gnutls_transport_set_pull_timeout_function(s, conn_pull_timeout);
	/* TCP_NODELAY on and never corked, so that libmicrohttpd's calls to cork and push
	 * cost nothing (lis_sockopt.h); if it cannot be set, they go to the kernel as before */
	lis_sockopt_adopt(c->fd);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST,
					   on_handshake_message);
}

void lis_conn_hold_next(struct lis_conn *c)
{
	if (c)
		c->hold = true;
}

unsigned long lis_conn_coalesced_total(void)
{
	return atomic_load_explicit(&coalesced_total, memory_order_relaxed);
}

size_t lis_connguard_open(struct lis_connguard *g)
{
	pthread_mutex_lock(&g->mu);
	size_t n = g->n_open;
	pthread_mutex_unlock(&g->mu);
	return n;
}

unsigned long lis_connguard_cut_total(struct lis_connguard *g)
{
	return atomic_load(&g->cut_total);
}

void lis_connguard_stop(struct lis_connguard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	/* the server has stopped: every connection was closed and forgotten */
	for (struct lis_conn *c = g->head.next, *n; c != &g->head; c = n) {
		n = c->next;
		free(c);
	}
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
