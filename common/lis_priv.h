/* Giving up root: a daemon started as root opens what needs root (its listening socket, its
 * key files), then runs as an unprivileged user with nothing else kept. */
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

/* lis.conf / wiremapd.conf checks (conftab_check_fn) of a user and of a group key: "" or
 * one that exists, a name or a number. */
struct conftab_key;
int lis_priv_check_user(const struct conftab_key *k, const char *v, char *why,
			size_t why_size);
int lis_priv_check_group(const struct conftab_key *k, const char *v, char *why,
			 size_t why_size);

#endif
