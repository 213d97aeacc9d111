#include "lis_front.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lis_log.h"
#include "proxy_v2.h"

/* Connections in their header at once; more wait in the listen queue. */
#define MAX_PENDING 256
#define BACKLOG 511

struct pending {
	int fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint8_t buf[PROXY_V2_MAX];
	size_t have, need;
	struct timespec deadline;
};

struct lis_front {
	int lfd;
	int stop[2];                  /* a pipe: written once to stop the thread */
	pthread_t thread;
	struct MHD_Daemon *mhd;
	const struct lis_acl *from;
	unsigned timeout_s, max_connections;
	/* Connections handed to libmicrohttpd and not closed yet. Its own count lags: a
	 * connection added waits in a worker's list and is counted when the worker takes it,
	 * so the front would accept past max_connections, and libmicrohttpd would close what
	 * should have waited in the accept queue. */
	atomic_uint open;
	struct pending p[MAX_PENDING];
	size_t n;
};

static void peer_text(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	const void *a = ss->ss_family == AF_INET
			? (const void *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr
			: (const void *)&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
	if (!inet_ntop(ss->ss_family, a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	/* an IPv4 client of a dual-stack socket, as lisd names it elsewhere */
	if (strncmp(buf, "::ffff:", 7) == 0 && strchr(buf + 7, '.'))
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
}

static void hand_over(struct lis_front *f, int fd, const struct sockaddr *sa, socklen_t len)
{
	/* counted first: its close may come before MHD_add_connection() returns */
	atomic_fetch_add(&f->open, 1);
	if (MHD_add_connection(f->mhd, fd, sa, len) == MHD_YES)
		return;
	/* libmicrohttpd closes fd when it cannot take it, and says nothing more of it */
	atomic_fetch_sub(&f->open, 1);
	lis_log(LIS_LOG_WARN, "http", "connection not taken reason=%s", strerror(errno));
}

static void drop(struct lis_front *f, size_t i, const char *why)
{
	char peer[INET6_ADDRSTRLEN];
	peer_text(&f->p[i].peer, peer, sizeof peer);
	lis_log(LIS_LOG_WARN, "http", "proxy header refused from=%s reason=\"%s\"", peer, why);
	close(f->p[i].fd);
	f->p[i] = f->p[--f->n];
}

/* The header of pending connection i is complete: hand it over with the client's address. */
static void relay(struct lis_front *f, size_t i, const struct proxy_v2 *h)
{
	struct pending *p = &f->p[i];
	struct sockaddr_storage client;
	socklen_t len = p->peer_len;
	memcpy(&client, &p->peer, sizeof client);
	if (!h->local) {
		memset(&client, 0, sizeof client);
		if (h->family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&client;
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, h->src, 4);
			sin->sin_port = htons(h->src_port);
			len = sizeof *sin;
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&client;
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, h->src, 16);
			sin6->sin6_port = htons(h->src_port);
			len = sizeof *sin6;
		}
	}
	int fd = p->fd;
	f->p[i] = f->p[--f->n];
	hand_over(f, fd, (const struct sockaddr *)&client, len);
}

/* Read what pending connection i has sent; it may complete or fail its header. */
static void read_header(struct lis_front *f, size_t i)
{
	struct pending *p = &f->p[i];
	ssize_t r = read(p->fd, p->buf + p->have, p->need - p->have);
	if (r == 0) {
		close(p->fd);
		f->p[i] = f->p[--f->n];
		return;
	}
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			drop(f, i, strerror(errno));
		return;
	}
	p->have += (size_t)r;
	struct proxy_v2 h;
	char why[120];
	int rc = proxy_v2_parse(p->buf, p->have, &h, why, sizeof why);
	if (rc < 0)
		drop(f, i, why);
	else if (rc > 0)
		p->need = (size_t)rc; /* only ever as much as the header: the client's bytes stay */
	else
		relay(f, i, &h);
}

static bool from_balancer(const struct lis_front *f, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];
	peer_text(ss, ip, sizeof ip);
	return lis_acl_match(f->from, ip);
}

static void accept_one(struct lis_front *f)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int fd = accept4(f->lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (!from_balancer(f, &ss)) {
		hand_over(f, fd, (struct sockaddr *)&ss, len);
		return;
	}
	struct pending *p = &f->p[f->n++];
	p->fd = fd;
	p->peer = ss;
	p->peer_len = len;
	p->have = 0;
	p->need = PROXY_V2_FIXED;
	clock_gettime(CLOCK_MONOTONIC, &p->deadline);
	p->deadline.tv_sec += f->timeout_s;
}

static bool full(const struct lis_front *f)
{
	if (f->n == MAX_PENDING)
		return true;
	return atomic_load(&f->open) + f->n >= f->max_connections;
}

static void *front_main(void *arg)
{
	struct lis_front *f = arg;
	struct pollfd pfd[2 + MAX_PENDING];
	for (;;) {
		bool busy = full(f);
		pfd[0] = (struct pollfd){f->stop[0], POLLIN, 0};
		pfd[1] = (struct pollfd){busy ? -1 : f->lfd, POLLIN, 0};
		for (size_t i = 0; i < f->n; i++)
			pfd[2 + i] = (struct pollfd){f->p[i].fd, POLLIN, 0};
		size_t n = f->n;
		/* wake for the nearest deadline, and now and then while full */
		int timeout = busy ? 50 : 1000;
		if (poll(pfd, 2 + n, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* from the end, so that removing i (the last one moves into it) skips nothing */
		for (size_t i = n; i-- > 0;) {
			if (pfd[2 + i].revents)
				read_header(f, i);
			else if (now.tv_sec > f->p[i].deadline.tv_sec ||
				 (now.tv_sec == f->p[i].deadline.tv_sec &&
				  now.tv_nsec >= f->p[i].deadline.tv_nsec))
				drop(f, i, "no complete header within handshake_timeout");
		}
		if (pfd[1].revents & POLLIN)
			accept_one(f);
	}
	return NULL;
}

struct lis_front *lis_front_start(const struct sockaddr_storage *ss, struct MHD_Daemon *mhd,
				  const struct lis_acl *from, unsigned handshake_timeout,
				  unsigned max_connections, struct lis_error *err)
{
	struct lis_front *f = calloc(1, sizeof *f);
	if (!f) {
		lis_error_set(err, LIS_E_SYSTEM, "out of memory");
		return NULL;
	}
	f->mhd = mhd;
	f->from = from;
	f->timeout_s = handshake_timeout ? handshake_timeout : 10;
	f->max_connections = max_connections;
	f->stop[0] = f->stop[1] = -1;
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						   : sizeof(struct sockaddr_in);
	int one = 1, zero = 0;
	f->lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 ||
	    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(f->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0) ||
	    bind(f->lfd, (const struct sockaddr *)ss, len) < 0 || listen(f->lfd, BACKLOG) < 0 ||
	    pipe2(f->stop, O_CLOEXEC) < 0) {
		lis_error_set(err, LIS_E_SYSTEM, "cannot listen: %s", strerror(errno));
		goto fail;
	}
	int rc = pthread_create(&f->thread, NULL, front_main, f);
	if (rc != 0) {
		lis_error_set(err, LIS_E_SYSTEM, "cannot start the accept thread: %s", strerror(rc));
		goto fail;
	}
	return f;
fail:
	if (f->lfd >= 0)
		close(f->lfd);
	if (f->stop[0] >= 0) {
		close(f->stop[0]);
		close(f->stop[1]);
	}
	free(f);
	return NULL;
}

void lis_front_closed(struct lis_front *f)
{
	if (f)
		atomic_fetch_sub(&f->open, 1);
}

void lis_front_stop(struct lis_front *f)
{
	if (!f)
		return;
	if (write(f->stop[1], "x", 1) != 1)
		lis_log(LIS_LOG_WARN, "http", "accept thread stop: %s", strerror(errno));
	pthread_join(f->thread, NULL);
	for (size_t i = 0; i < f->n; i++)
		close(f->p[i].fd);
	close(f->lfd);
	close(f->stop[0]);
	close(f->stop[1]);
	f->n = 0;
}

void lis_front_free(struct lis_front *f)
{
	free(f);
}
