/* setsockopt(2) for the whole process (lis_sockopt.h says why). The definition here takes
 * the place of the C library's for lisd and every library it loads: the executable's
 * symbols come first in the dynamic linker's lookup. What it does not spare it hands to the
 * kernel itself, as the C library would on Linux, with the caller's arguments unchanged. */
#include "lis_sockopt.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Per descriptor: 1 while marked. Written by the connection's libmicrohttpd thread (adopt,
 * forget), read by whichever thread calls setsockopt on that number; 64 KiB of zero pages,
 * touched only where descriptors are marked. */
static atomic_uchar marked[LIS_SOCKOPT_FDS];
static atomic_ulong spared;

static int kernel_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	return (int)syscall(SYS_setsockopt, fd, level, name, value, len);
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	if (level == IPPROTO_TCP && (name == TCP_NODELAY || name == TCP_CORK) && value &&
	    len >= (socklen_t)sizeof(int) && fd >= 0 && fd < LIS_SOCKOPT_FDS &&
	    atomic_load_explicit(&marked[fd], memory_order_acquire)) {
		atomic_fetch_add_explicit(&spared, 1, memory_order_relaxed);
		return 0;
	}
	return kernel_setsockopt(fd, level, name, value, len);
}

int lis_sockopt_adopt(int fd)
{
	if (fd < 0 || fd >= LIS_SOCKOPT_FDS) {
		errno = EBADF;
		return -1;
	}
	int on = 1;
	if (kernel_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0)
		return -1;
	atomic_store_explicit(&marked[fd], 1, memory_order_release);
	return 0;
}

void lis_sockopt_forget(int fd)
{
	if (fd >= 0 && fd < LIS_SOCKOPT_FDS)
		atomic_store_explicit(&marked[fd], 0, memory_order_release);
}

unsigned long lis_sockopt_spared_total(void)
{
	return atomic_load_explicit(&spared, memory_order_relaxed);
}
