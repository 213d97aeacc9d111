/* Giving up root: a daemon started as root opens what needs root (its listening socket, its
 * key files), then runs as an unprivileged user with nothing else kept. And giving up
 * priority: lisd's busy threads run below its wiremap loader. */
#ifndef LIS_PRIV_H
#define LIS_PRIV_H

#include <stddef.h>
#include <sys/types.h>

#include "lis_error.h"

/* The uid and gid of user (a name or a number) and group (likewise; "" or NULL: the user's
 * own group). -1 with LIS_E_USAGE when either does not exist. */
int lis_priv_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid,
		    struct lis_error *err);

/* Become uid:gid for good, in every thread (supplementary groups dropped, capabilities lost
 * with root). Started as that user already: nothing to do. Not root and another user: -1
 * with LIS_E_USAGE. Checks that root cannot be taken back. */
int lis_priv_drop(uid_t uid, gid_t gid, struct lis_error *err);

/* How many nice levels below the rest of lisd its request threads and its query log's
 * threads run (lisd(8) --threads). Under full load the request threads keep every core
 * busy; without this the wiremap loader, which needs a few milliseconds every 20 ms, waited
 * for the CPU up to 0.7 s between its round trips to PostgreSQL, and a change took that
 * long to reach the answers (bench/run.sh section 5 at 10k entries, wrk on the same 2
 * cores: p99 777 ms). The query log's spooler and inserter run at the request threads'
 * level, not above it: a batch of theirs (a few ms of CPU) then no longer goes ahead of
 * the answers on its core, and the spool absorbs their being late. */
#define LIS_WORKER_NICE 5

/* Lower the calling thread's priority by `by` nice levels (its own, not the process's).
 * Lowering needs no privilege. 0, or -1 with errno where it is refused (a seccomp filter
 * without setpriority). */
int lis_priv_lower_thread(int by);

/* lis.conf / wiremapd.conf checks (conftab_check_fn) of a user and of a group key: "" or
 * one that exists, a name or a number. */
struct conftab_key;
int lis_priv_check_user(const struct conftab_key *k, const char *v, char *why,
			size_t why_size);
int lis_priv_check_group(const struct conftab_key *k, const char *v, char *why,
			 size_t why_size);

#endif
