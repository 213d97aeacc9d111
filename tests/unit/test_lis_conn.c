/* lis_conn_write(): the writes of a TLS session whose response header waits for its body
 * (lis_conn_hold_next). A socket pair with a small send buffer stands for a client that
 * reads slowly; the writer offers again what did not go out, as GnuTLS does. What the peer
 * reads must be every byte, in order, whatever the socket took at each call. */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
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

/* A self-signed ECDSA certificate for the server end of a handshake. */
static bool make_credentials(gnutls_certificate_credentials_t *cred)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	const unsigned char serial[] = {1};
	time_t now = time(NULL);
	bool ok = gnutls_x509_privkey_init(&key) == 0 &&
		  gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) == 0 &&
		  gnutls_x509_crt_init(&crt) == 0 && gnutls_x509_crt_set_version(crt, 3) == 0 &&
		  gnutls_x509_crt_set_serial(crt, serial, sizeof serial) == 0 &&
		  gnutls_x509_crt_set_activation_time(crt, now - 60) == 0 &&
		  gnutls_x509_crt_set_expiration_time(crt, now + 3600) == 0 &&
		  gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "lis_conn", 8) ==
			  0 &&
		  gnutls_x509_crt_set_key(crt, key) == 0 &&
		  gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) == 0 &&
		  gnutls_certificate_allocate_credentials(cred) == 0 &&
		  gnutls_certificate_set_x509_key(*cred, &crt, 1, key) == 0;
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return CHECK(ok);
}

/* A loopback TCP connection: *client and *server, non-blocking. */
static bool tcp_pair(int *client, int *server)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	*client = *server = -1;
	bool ok = l >= 0 && bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 1) == 0 &&
		  getsockname(l, (struct sockaddr *)&sa, &len) == 0 &&
		  (*client = socket(AF_INET, SOCK_STREAM, 0)) >= 0 &&
		  connect(*client, (struct sockaddr *)&sa, sizeof sa) == 0 &&
		  (*server = accept(l, NULL, NULL)) >= 0;
	if (l >= 0)
		close(l);
	if (ok) {
		fcntl(*client, F_SETFL, fcntl(*client, F_GETFL) | O_NONBLOCK);
		fcntl(*server, F_SETFL, fcntl(*server, F_GETFL) | O_NONBLOCK);
	}
	return CHECKF(ok, "loopback TCP connection: %s", strerror(errno));
}

static int quickack(int fd)
{
	int v = -1;
	socklen_t len = sizeof v;
	return getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &v, &len) == 0 ? v : -1;
}

/* One TLS handshake over a loopback TCP connection, the server's session handed to
 * lis_conn_tls_coalesce() as lisd does; then check(server session, its version). */
static void handshake(const char *versions,
		      void (*check)(gnutls_session_t srv, gnutls_session_t cli, int sfd))
{
	int cfd, sfd;
	if (!tcp_pair(&cfd, &sfd))
		return;
	char prio[128];
	snprintf(prio, sizeof prio, "NORMAL:-VERS-ALL:%s", versions);
	gnutls_certificate_credentials_t scred = NULL, ccred = NULL;
	gnutls_session_t srv = NULL, cli = NULL;
	struct lis_conn *c = lis_connguard_opened(guard, sfd, "test");
	if (make_credentials(&scred) && CHECK(c != NULL) &&
	    CHECK(gnutls_certificate_allocate_credentials(&ccred) == 0) &&
	    CHECK(gnutls_init(&srv, GNUTLS_SERVER | GNUTLS_NONBLOCK) == 0) &&
	    CHECK(gnutls_priority_set_direct(srv, prio, NULL) == 0) &&
	    CHECK(gnutls_credentials_set(srv, GNUTLS_CRD_CERTIFICATE, scred) == 0) &&
	    CHECK(gnutls_init(&cli, GNUTLS_CLIENT | GNUTLS_NONBLOCK) == 0) &&
	    CHECK(gnutls_priority_set_direct(cli, prio, NULL) == 0) &&
	    CHECK(gnutls_credentials_set(cli, GNUTLS_CRD_CERTIFICATE, ccred) == 0)) {
		gnutls_transport_set_int(srv, sfd);
		lis_conn_tls_coalesce(c, srv);
		gnutls_transport_set_int(cli, cfd);
		int rs = GNUTLS_E_AGAIN, rc = GNUTLS_E_AGAIN;
		/* each side steps until it waits; then wait for its peer's bytes (10 s at most) */
		for (int rounds = 0; rounds < 100 && (rs || rc); rounds++) {
			if (rc)
				rc = gnutls_handshake(cli);
			if (rs)
				rs = gnutls_handshake(srv);
			if ((rc && rc != GNUTLS_E_AGAIN) || (rs && rs != GNUTLS_E_AGAIN))
				break;
			if (rs || rc) {
				struct pollfd p[2] = {{.fd = rc ? cfd : -1, .events = POLLIN},
						      {.fd = rs ? sfd : -1, .events = POLLIN}};
				poll(p, 2, 10000);
			}
		}
		if (CHECKF(rs == 0 && rc == 0, "server %s, client %s", gnutls_strerror(rs),
			   gnutls_strerror(rc)))
			check(srv, cli, sfd);
	}
	if (cli)
		gnutls_deinit(cli);
	if (srv)
		gnutls_deinit(srv);
	if (ccred)
		gnutls_certificate_free_credentials(ccred);
	if (scred)
		gnutls_certificate_free_credentials(scred);
	lis_connguard_closed(guard, c);
	close(cfd);
	close(sfd);
}

/* What the hook does to a socket set to delay its acknowledgements, for a message of type
 * htype seen at when (GNUTLS_HOOK_PRE or _POST), incoming or not: TCP_QUICKACK after. The
 * socket is a fresh connection on which nothing has flowed, so that no acknowledgement is
 * pending and nothing but the hook changes its mode. */
static int hook_effect(gnutls_session_t srv, unsigned int htype, unsigned when,
		       unsigned int incoming)
{
	int x, y, v = -1;
	if (!tcp_pair(&x, &y))
		return -1;
	struct lis_conn *c = lis_connguard_opened(guard, y, "test");
	gnutls_transport_ptr_t conn = gnutls_transport_get_ptr(srv);
	gnutls_transport_set_ptr(srv, c);
	int off = 0;
	if (CHECK(c != NULL) &&
	    CHECK(setsockopt(y, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) == 0) &&
	    CHECK(quickack(y) == 0) &&
	    CHECK(lis_conn_tls_handshake_hook(srv, htype, when, incoming, NULL) == 0))
		v = quickack(y);
	gnutls_transport_set_ptr(srv, conn);
	lis_connguard_closed(guard, c);
	close(x);
	close(y);
	return v;
}

static void check_tls13(gnutls_session_t srv, gnutls_session_t cli, int sfd)
{
	(void)cli;
	(void)sfd;
	CHECK(gnutls_protocol_get_version(srv) == GNUTLS_TLS1_3);
	/* the client's Finished, processed: acknowledge at once */
	CHECK(hook_effect(srv, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST, 1) == 1);
	/* not before it is processed, not for the server's own, not for other messages */
	CHECK(hook_effect(srv, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_PRE, 1) == 0);
	CHECK(hook_effect(srv, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST, 0) == 0);
	CHECK(hook_effect(srv, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST, 1) == 0);
}

static void check_tls12(gnutls_session_t srv, gnutls_session_t cli, int sfd)
{
	(void)cli;
	(void)sfd;
	CHECK(gnutls_protocol_get_version(srv) == GNUTLS_TLS1_2);
	/* the server's Finished follows the client's at once and carries the acknowledgement */
	CHECK(hook_effect(srv, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST, 1) == 0);
}

/* A TLS 1.3 server's last handshake step reads the client's Finished and sends nothing; the
 * kernel may hold its acknowledgement back, and a client without TCP_NODELAY its first
 * request with it. The handshake hook lis_conn sets acknowledges at once (TCP_QUICKACK).
 * (Whether the kernel delays here depends on the client's writes: with GnuTLS at both ends
 * over loopback it acknowledges at once anyway, so the hook's effect is checked directly.) */
static void test_tls13_client_finished_is_acknowledged_at_once(void)
{
	handshake("+VERS-TLS1.3", check_tls13);
}

/* TLS 1.2 handshakes complete with the hook in place, and it leaves them alone. */
static void test_tls12_finished_is_left_alone(void)
{
	handshake("+VERS-TLS1.2", check_tls12);
}

/* lis_conn_read() over a socket pair (the peer writes, the connection reads): small reads
 * take what follows from the bytes read ahead, large ones go to the socket; every byte
 * comes, in order, and a read finds nothing (EAGAIN) only when nothing is left anywhere. */
static void test_reads_ahead_and_loses_nothing(void)
{
	struct pair p;
	if (!pair_open(&p))
		return;
	/* the connection reads p.w here; the peer writes p.r */
	char data[6000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)('a' + i % 26);
	CHECK(write(p.r, data, 3000) == 3000);
	char got[sizeof data];
	size_t have = 0;
	/* a record header: 5 bytes, and the rest of the first LIS_CONN_READ_AHEAD kept */
	CHECK(lis_conn_read(p.c, got, 5) == 5);
	have = 5;
	/* served from what was read ahead, though the peer has written nothing since */
	CHECK(lis_conn_read(p.c, got + have, 100) == 100);
	have += 100;
	/* larger than what is ahead: what is ahead, then the socket */
	ssize_t n = lis_conn_read(p.c, got + have, 3000);
	CHECK(n == LIS_CONN_READ_AHEAD - 105);
	have += n > 0 ? (size_t)n : 0;
	n = lis_conn_read(p.c, got + have, 3000);
	CHECK(n == 3000 - LIS_CONN_READ_AHEAD);
	have += n > 0 ? (size_t)n : 0;
	errno = 0;
	CHECK(lis_conn_read(p.c, got + have, 5) == -1 && errno == EAGAIN);
	CHECK(write(p.r, data + 3000, 3000) == 3000);
	while (have < sizeof data) {
		n = lis_conn_read(p.c, got + have, have % 3 ? 7 : 2500);
		if (!CHECKF(n > 0, "read at %zu: %zd", have, n))
			break;
		have += (size_t)n;
	}
	CHECK(have == sizeof data && memcmp(got, data, sizeof data) == 0);
	errno = 0;
	CHECK(lis_conn_read(p.c, got, 5) == -1 && errno == EAGAIN);
	close(p.r);
	p.r = -1;
	CHECK(lis_conn_read(p.c, got, 5) == 0);
	lis_connguard_closed(guard, p.c);
	close(p.w);
}

/* Records that arrive together (a client pipelining requests, a request larger than what is
 * read ahead) all reach GnuTLS whole and in order. */
static void check_pipelined_records(gnutls_session_t srv, gnutls_session_t cli, int sfd)
{
	static char sent[40000], got[40000];
	const size_t sizes[] = {1, 600, 600, 5, 10000, 700, 2043, 2048, 2049, 16384, 33};
	size_t total = 0;
	for (size_t i = 0; i < sizeof sent; i++)
		sent[i] = (char)(i * 7 + 3);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		ssize_t n = gnutls_record_send(cli, sent + total, sizes[i]);
		if (!CHECKF(n == (ssize_t)sizes[i], "record %zu: %zd", i, n))
			return;
		total += sizes[i];
	}
	size_t have = 0;
	for (int rounds = 0; rounds < 1000 && have < total; rounds++) {
		ssize_t n = gnutls_record_recv(srv, got + have, sizeof got - have);
		if (n == GNUTLS_E_AGAIN) {
			/* nothing read ahead is left unseen: wait for the socket (10 s at most) */
			struct pollfd p = {.fd = sfd, .events = POLLIN};
			CHECKF(poll(&p, 1, 10000) == 1, "stuck at %zu of %zu bytes", have, total);
			continue;
		}
		if (!CHECKF(n > 0, "server read: %s", gnutls_strerror((int)n)))
			return;
		have += (size_t)n;
	}
	CHECK(have == total && memcmp(got, sent, total) == 0);
}

static void test_pipelined_records_arrive_whole(void)
{
	handshake("+VERS-TLS1.3", check_pipelined_records);
	handshake("+VERS-TLS1.2", check_pipelined_records);
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
	t_run("tls13_client_finished_is_acknowledged_at_once",
	      test_tls13_client_finished_is_acknowledged_at_once);
	t_run("tls12_finished_is_left_alone", test_tls12_finished_is_left_alone);
	t_run("reads_ahead_and_loses_nothing", test_reads_ahead_and_loses_nothing);
	t_run("pipelined_records_arrive_whole", test_pipelined_records_arrive_whole);
	lis_connguard_stop(guard);
	return t_done();
}
