/* epoll_wait(2) for the whole process (lis_epoll.h says why). The definition here takes the
 * place of the C library's for lisd and the libraries it loads, as lis_sockopt.c's does for
 * setsockopt(2); it calls epoll_pwait(2) with no signal mask, which is epoll_wait(2). */
#include "lis_epoll.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/epoll.h>

/* What the thread's HELD connections did since its last epoll_wait(). */
static _Thread_local bool handshake_waited, progressed;

void lis_epoll_note_handshake_wait(void)
{
	handshake_waited = true;
}

void lis_epoll_note_progress(void)
{
	progressed = true;
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	if (timeout == 0 && handshake_waited && !progressed)
		timeout = LIS_EPOLL_HANDSHAKE_WAIT_MS;
	handshake_waited = progressed = false;
	return epoll_pwait(epfd, events, maxevents, timeout, NULL);
}
