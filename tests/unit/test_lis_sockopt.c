/* lis_sockopt.c: the setsockopt(2) lisd replaces. This program links it, so its own
 * setsockopt() calls are the replacement's, as libmicrohttpd's are in lisd. A call that
 * reaches the kernel shows in getsockopt(); to tell a spared call from one that went through,
 * the test first turns TCP_NODELAY off behind the replacement's back (the raw system call),
 * then asks for it on: spared, it stays off. Real TCP sockets over loopback. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "lis_sockopt.h"

struct tcp {
	int a, b;                 /* the two ends of one loopback connection */
};

static bool tcp_open(struct tcp *t)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	t->a = t->b = -1;
	bool ok = l >= 0 && bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 1) == 0 &&
		  getsockname(l, (struct sockaddr *)&sa, &len) == 0 &&
		  (t->a = socket(AF_INET, SOCK_STREAM, 0)) >= 0 &&
		  connect(t->a, (struct sockaddr *)&sa, sizeof sa) == 0 &&
		  (t->b = accept(l, NULL, NULL)) >= 0;
	if (l >= 0)
		close(l);
	return CHECKF(ok, "loopback TCP connection: %s", strerror(errno));
}

static void tcp_close(struct tcp *t)
{
	lis_sockopt_forget(t->a);
	close(t->a);
	close(t->b);
}

static int get_opt(int fd, int name)
{
	int v = -1;
	socklen_t len = sizeof v;
	if (getsockopt(fd, IPPROTO_TCP, name, &v, &len) < 0)
		return -1;
	return v;
}

static void kernel_nodelay_off(int fd)
{
	int off = 0;
	syscall(SYS_setsockopt, fd, IPPROTO_TCP, TCP_NODELAY, &off, (socklen_t)sizeof off);
}

static int ask_nodelay(int fd)
{
	int on = 1;
	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

/* Adopted: TCP_NODELAY is on in the kernel; asking again costs no system call. */
static void test_adopted_socket_spares_the_call(void)
{
	struct tcp t;
	if (!tcp_open(&t))
		return;
	CHECK(get_opt(t.a, TCP_NODELAY) == 0);
	CHECK(lis_sockopt_adopt(t.a) == 0);
	CHECK(get_opt(t.a, TCP_NODELAY) == 1);
	unsigned long before = lis_sockopt_spared_total();
	kernel_nodelay_off(t.a);
	CHECK(ask_nodelay(t.a) == 0);
	CHECK(ask_nodelay(t.a) == 0);
	CHECK(get_opt(t.a, TCP_NODELAY) == 0);            /* not the kernel's doing */
	CHECK(lis_sockopt_spared_total() - before == 2);
	/* data still flows both ways */
	CHECK(write(t.a, "ping", 4) == 4);
	char buf[8];
	CHECK(read(t.b, buf, sizeof buf) == 4);
	tcp_close(&t);
}

/* Sockets never adopted, the other end of the same connection included, are the kernel's. */
static void test_other_sockets_go_to_the_kernel(void)
{
	struct tcp t;
	if (!tcp_open(&t))
		return;
	CHECK(lis_sockopt_adopt(t.a) == 0);
	unsigned long before = lis_sockopt_spared_total();
	CHECK(ask_nodelay(t.b) == 0);
	CHECK(get_opt(t.b, TCP_NODELAY) == 1);
	int v = 1;
	CHECK(setsockopt(t.b, IPPROTO_TCP, TCP_CORK, &v, sizeof v) == 0);
	CHECK(get_opt(t.b, TCP_CORK) == 1);
	/* other levels and options on an adopted socket go through too */
	int size = 8192;
	CHECK(setsockopt(t.a, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) == 0);
	int keepcnt = 3;
	CHECK(setsockopt(t.a, IPPROTO_TCP, TCP_KEEPCNT, &keepcnt, sizeof keepcnt) == 0);
	CHECK(get_opt(t.a, TCP_KEEPCNT) == 3);
	CHECK(lis_sockopt_spared_total() == before);
	tcp_close(&t);
}

/* Corking an adopted socket, or turning TCP_NODELAY off, is spared too: the socket stays
 * uncorked with TCP_NODELAY on, and what is written leaves at once. */
static void test_cork_and_nodelay_off_are_spared(void)
{
	int v1 = 1, v0 = 0;
	struct tcp t;
	if (!tcp_open(&t))
		return;
	CHECK(lis_sockopt_adopt(t.a) == 0);
	unsigned long before = lis_sockopt_spared_total();
	CHECK(setsockopt(t.a, IPPROTO_TCP, TCP_CORK, &v1, sizeof v1) == 0);
	CHECK(setsockopt(t.a, IPPROTO_TCP, TCP_NODELAY, &v0, sizeof v0) == 0);
	CHECK(get_opt(t.a, TCP_CORK) == 0);
	CHECK(get_opt(t.a, TCP_NODELAY) == 1);
	CHECK(write(t.a, "x", 1) == 1);
	char c;
	CHECK(read(t.b, &c, 1) == 1);
	CHECK(setsockopt(t.a, IPPROTO_TCP, TCP_CORK, &v0, sizeof v0) == 0);
	CHECK(lis_sockopt_spared_total() - before == 3);
	/* a malformed call is the kernel's to refuse */
	errno = 0;
	CHECK(setsockopt(t.a, IPPROTO_TCP, TCP_CORK, &v1, 1) == -1 && errno == EINVAL);
	tcp_close(&t);
}

/* Forgotten (as before its close), the descriptor number is the kernel's again: a socket
 * that gets the same number later is not taken for the adopted one. */
static void test_forgotten_descriptor_is_the_kernels(void)
{
	struct tcp t;
	if (!tcp_open(&t))
		return;
	CHECK(lis_sockopt_adopt(t.a) == 0);
	int fd = t.a;
	tcp_close(&t);
	struct tcp u;
	if (!tcp_open(&u))
		return;
	/* the new connection's socket under the old number */
	if (!CHECK(dup2(u.a, fd) == fd))
		return;
	kernel_nodelay_off(fd);
	CHECK(ask_nodelay(fd) == 0);
	CHECK(get_opt(fd, TCP_NODELAY) == 1);
	close(fd);
	tcp_close(&u);
}

/* Errors are the kernel's, and a socket that cannot take TCP_NODELAY is not adopted. */
static void test_errors_are_the_kernels(void)
{
	int on = 1;
	errno = 0;
	CHECK(setsockopt(-1, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == -1 && errno == EBADF);
	int sv[2];
	if (!CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0))
		return;
	errno = 0;
	CHECK(lis_sockopt_adopt(sv[0]) == -1 && errno == EOPNOTSUPP);
	errno = 0;
	CHECK(ask_nodelay(sv[0]) == -1 && errno == EOPNOTSUPP);
	errno = 0;
	CHECK(lis_sockopt_adopt(LIS_SOCKOPT_FDS) == -1 && errno == EBADF);
	lis_sockopt_forget(LIS_SOCKOPT_FDS);     /* out of range: no-op */
	lis_sockopt_forget(-1);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	t_run("adopted_socket_spares_the_call", test_adopted_socket_spares_the_call);
	t_run("other_sockets_go_to_the_kernel", test_other_sockets_go_to_the_kernel);
	t_run("cork_and_nodelay_off_are_spared", test_cork_and_nodelay_off_are_spared);
	t_run("forgotten_descriptor_is_the_kernels", test_forgotten_descriptor_is_the_kernels);
	t_run("errors_are_the_kernels", test_errors_are_the_kernels);
	return t_done();
}
