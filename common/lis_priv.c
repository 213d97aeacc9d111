#include "lis_priv.h"

#include "lis_conftab.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* A decimal id: true with *id set. */
static bool number(const char *s, unsigned long *id)
{
	char *end;
	if (!s[0] || s[0] == '-')
		return false;
	errno = 0;
	*id = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *id < (unsigned long)(uid_t)-1;
}

int lis_priv_lower_thread(int by)
{
	id_t tid = (id_t)gettid();
	errno = 0;
	int now = getpriority(PRIO_PROCESS, tid);
	if (now == -1 && errno)
		return -1;
	return setpriority(PRIO_PROCESS, tid, now + by);
}

int lis_priv_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid,
		    struct lis_error *err)
{
	unsigned long id;
	struct passwd *pw = getpwnam(user);
	if (!pw && number(user, &id))
		pw = getpwuid((uid_t)id);
	if (!pw)
		return lis_error_set(err, LIS_E_USAGE, "user \"%.64s\" does not exist", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (!group || !group[0])
		return 0;
	struct group *gr = getgrnam(group);
	if (!gr && number(group, &id))
		gr = getgrgid((gid_t)id);
	if (!gr)
		return lis_error_set(err, LIS_E_USAGE, "group \"%.64s\" does not exist", group);
	*gid = gr->gr_gid;
	return 0;
}

int lis_priv_drop(uid_t uid, gid_t gid, struct lis_error *err)
{
	if (geteuid() == uid && getuid() == uid && getegid() == gid)
		return 0;
	if (geteuid() != 0)
		return lis_error_set(err, LIS_E_USAGE, "cannot become uid %u: not started as root",
				     (unsigned)uid);
	/* glibc applies each of these to every thread of the process. */
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return lis_error_set(err, LIS_E_SYSTEM, "cannot become uid %u gid %u: %s",
				     (unsigned)uid, (unsigned)gid, strerror(errno));
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return lis_error_set(err, LIS_E_SYSTEM, "root could be taken back after "
				     "becoming uid %u", (unsigned)uid);
	return 0;
}

/* "" or an existing user (group false) or group (true), for a conftab key. */
static int check_id(const struct conftab_key *k, const char *v, bool group, char *why,
		    size_t why_size)
{
	struct lis_error err = { 0 };
	uid_t uid;
	gid_t gid;
	if (v[0] && lis_priv_lookup(group ? "0" : v, group ? v : NULL, &uid, &gid, &err) < 0) {
		snprintf(why, why_size, "%s: %s", k->name, err.msg);
		return -1;
	}
	return 0;
}

int lis_priv_check_user(const struct conftab_key *k, const char *v, char *why,
			size_t why_size)
{
	return check_id(k, v, false, why, why_size);
}

int lis_priv_check_group(const struct conftab_key *k, const char *v, char *why,
			 size_t why_size)
{
	return check_id(k, v, true, why, why_size);
}
