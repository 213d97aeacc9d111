/* lis_conn_write(): the writes of a TLS session whose response header waits for its body
 * (lis_conn_hold_next). A socket pair with a small send buffer stands for a client that
 * reads slowly; the writer offers again what did not go out, as GnuTLS does. What the peer
 * reads must be every byte, in order, whatever the socket took at each call. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "lis_conn.h"

static struct lis_connguard *guard;

struct pair {
	int w, r;                 /* lis_conn writes w; the test reads r */
	struct lis_conn *c;
};

static bool pair_open(struct pair *p)
{
	int sv[2];
	if (!CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0))
		return false;
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	p->w = sv[0];
	p->r = sv[1];
	p->c = lis_connguard_opened(guard, p->w, "test");
	return CHECK(p->c != NULL);
}

static void pair_close(struct pair *p)
{
	lis_connguard_closed(guard, p->c);
	close(p->w);
	close(p->r);
}

/* Read what is there, at most max bytes, appending to buf at *len. */
static void drain(struct pair *p, char *buf, size_t *len, size_t cap, size_t max)
{
	while (max && *len < cap) {
		size_t want = cap - *len < max ? cap - *len : max;
		ssize_t n = read(p->r, buf + *len, want);
		if (n <= 0)
			return;
		*len += (size_t)n;
		max -= (size_t)n;
	}
}

/* Offer data until all of it went out, draining the peer slowly when the socket is full. */
static bool write_all(struct pair *p, const char *data, size_t size, char *got, size_t *got_len,
		      size_t cap, unsigned *eagains)
{
	size_t off = 0;
	while (off < size) {
		struct iovec v = {.iov_base = (void *)(data + off), .iov_len = size - off};
		ssize_t n = lis_conn_write(p->c, &v, 1);
		if (n < 0) {
			if (!CHECKF(errno == EAGAIN, "errno %d", errno))
				return false;
			++*eagains;
			drain(p, got, got_len, cap, 1000);
			continue;
		}
		if (!CHECK(n > 0))
			return false;
		off += (size_t)n;
	}
	return true;
}

static void test_held_header_goes_out_with_the_body_in_order(void)
{
	struct pair p;
	if (!pair_open(&p))
		return;
	enum { HDR = 180, BODY = 200000 };
	char *want = malloc(HDR + BODY), *got = malloc(HDR + BODY + 1);
	for (size_t i = 0; i < HDR + BODY; i++)
		want[i] = (char)(i < HDR ? 'H' : 'a' + i % 26);
	size_t got_len = 0;
	unsigned eagains = 0;

	lis_conn_hold_next(p.c);
	struct iovec h = {.iov_base = want, .iov_len = HDR};
	CHECK(lis_conn_write(p.c, &h, 1) == HDR);
	/* held: nothing reached the peer */
	CHECK(read(p.r, got, 1) < 0 && errno == EAGAIN);
	if (write_all(&p, want + HDR, BODY, got, &got_len, HDR + BODY + 1, &eagains))
		drain(&p, got, &got_len, HDR + BODY + 1, (size_t)-1);
	CHECKF(got_len == HDR + BODY, "peer read %zu of %d bytes", got_len, HDR + BODY);
	CHECK(got_len == HDR + BODY && memcmp(got, want, got_len) == 0);
	CHECKF(eagains > 0, "the socket was never full: nothing tested");
	free(want);
	free(got);
	pair_close(&p);
}

/* The socket is full when the body comes: nothing goes out, the header stays held, and the
 * body offered again later follows it. */
static void test_header_held_through_a_full_socket(void)
{
	struct pair p;
	if (!pair_open(&p))
		return;
	char fill[512];
	memset(fill, 'F', sizeof fill);
	size_t filled = 0;
	for (;;) {
		struct iovec v = {.iov_base = fill, .iov_len = sizeof fill};
		ssize_t n = lis_conn_write(p.c, &v, 1);
		if (n < 0)
			break;
		filled += (size_t)n;
	}
	CHECK(errno == EAGAIN && filled > 0);
	lis_conn_hold_next(p.c);
	struct iovec h = {.iov_base = "HEADER", .iov_len = 6};
	CHECK(lis_conn_write(p.c, &h, 1) == 6);
	struct iovec b = {.iov_base = "BODY", .iov_len = 4};
	errno = 0;
	CHECK(lis_conn_write(p.c, &b, 1) == -1 && errno == EAGAIN);
	size_t cap = filled + 16, len = 0;
	char *got = malloc(cap);
	drain(&p, got, &len, cap, filled);
	CHECK(len == filled);
	CHECK(lis_conn_write(p.c, &b, 1) == 4);
	drain(&p, got, &len, cap, 16);
	CHECKF(len == filled + 10 && memcmp(got + filled, "HEADERBODY", 10) == 0,
	       "after the fill: %.*s", (int)(len - filled), got + filled);
	free(got);
	pair_close(&p);
}

/* Without a hold every write goes straight out; a record too large to hold is not held. */
static void test_unheld_and_oversized_records_go_straight_out(void)
{
	struct pair p;
	if (!pair_open(&p))
		return;
	char got[3000];
	struct iovec v = {.iov_base = "plain", .iov_len = 5};
	CHECK(lis_conn_write(p.c, &v, 1) == 5);
	CHECK(read(p.r, got, sizeof got) == 5);
	char big[2000];
	memset(big, 'x', sizeof big);
	lis_conn_hold_next(p.c);
	struct iovec b = {.iov_base = big, .iov_len = sizeof big};
	CHECK(lis_conn_write(p.c, &b, 1) == (ssize_t)sizeof big);
	CHECK(read(p.r, got, sizeof got) == (ssize_t)sizeof big);
	/* the hold was used up by that record: the next goes straight out too */
	CHECK(lis_conn_write(p.c, &v, 1) == 5);
	CHECK(read(p.r, got, sizeof got) == 5);
	pair_close(&p);
}

int main(void)
{
	struct lis_error err = {0};
	guard = lis_connguard_start(60, &err);
	if (!guard) {
		t_skip("lis_conn", err.msg);
		return t_done();
	}
	t_run("held_header_goes_out_with_the_body_in_order",
	      test_held_header_goes_out_with_the_body_in_order);
	t_run("header_held_through_a_full_socket", test_header_held_through_a_full_socket);
	t_run("unheld_and_oversized_records_go_straight_out",
	      test_unheld_and_oversized_records_go_straight_out);
	lis_connguard_stop(guard);
	return t_done();
}
