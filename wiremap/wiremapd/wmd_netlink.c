#include "wmd_netlink.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db_collect.h"
#include "lis_log.h"
#include "wm_neigh.h"

/* Observations kept while the database is away; a neighbour table rarely holds more. */
#define PENDING_MAX 65536
#define RECONNECT_MAX 60

struct obs {
	char ip[46];
	uint8_t mac[6];
};

struct pending {
	struct obs *v;
	size_t n, cap;
	bool need_dump;             /* observations were dropped: take the whole table again */
};

struct wmd_netlink {
	pthread_t thread;
	int stop_pipe[2];
	char *conninfo;
	unsigned long write_interval;
	struct wm_neigh *nl;
	struct db_conn *db;
	struct pending p;
	time_t next_connect;
	unsigned backoff;
};

static int obs_cmp(const void *a, const void *b)
{
	const struct obs *x = a, *y = b;
	int c = strcmp(x->ip, y->ip);
	return c ? c : memcmp(x->mac, y->mac, 6);
}

/* Sort and drop repeats: an entry seen in many events is written once. */
static void pending_unique(struct pending *p)
{
	if (p->n < 2)
		return;
	qsort(p->v, p->n, sizeof *p->v, obs_cmp);
	size_t o = 1;
	for (size_t i = 1; i < p->n; i++)
		if (obs_cmp(&p->v[i], &p->v[o - 1]) != 0)
			p->v[o++] = p->v[i];
	p->n = o;
}

static void on_obs(const struct wm_neigh_obs *o, void *arg)
{
	struct pending *p = arg;
	/* A deleted entry was there until now, but a fresh sighting is what a binding means:
	 * the last RTM_NEWNEIGH already counted it. */
	if (o->gone)
		return;
	if (p->n == p->cap) {
		if (p->cap >= PENDING_MAX) {
			pending_unique(p);
			if (p->n == p->cap) {
				p->n = 0;
				p->need_dump = true;
				return;
			}
		} else {
			size_t cap = p->cap ? p->cap * 2 : 256;
			struct obs *v = realloc(p->v, cap * sizeof *v);
			if (!v) {
				p->need_dump = true;
				return;
			}
			p->v = v;
			p->cap = cap;
		}
	}
	memcpy(p->v[p->n].ip, o->ip, sizeof o->ip);
	memcpy(p->v[p->n].mac, o->mac, 6);
	p->n++;
}

/* Write the pending observations in one transaction; kept for the next try on failure. */
static int write_pending(struct db_conn *db, struct pending *p, struct db_collect_stats *st,
			 struct lis_error *err)
{
	pending_unique(p);
	if (p->n == 0)
		return 0;
	struct db_obs_ip_mac *v = calloc(p->n, sizeof *v);
	if (!v)
		return lis_error_set(err, LIS_E_SYSTEM, "out of memory");
	for (size_t i = 0; i < p->n; i++) {
		v[i].ip = p->v[i].ip;
		memcpy(v[i].mac, p->v[i].mac, 6);
	}
	int rc = db_collect_neighbors(db, v, p->n, time(NULL), "netlink", st, err);
	free(v);
	if (rc == 0)
		p->n = 0;
	return rc;
}

static void log_failure(const char *what, const struct lis_error *err)
{
	char why[300];
	lis_log(LIS_LOG_WARN, "neighbors", "result=failed step=%s reason=%s", what,
		lis_log_value(why, sizeof why, err->msg));
}

static void flush(struct wmd_netlink *n)
{
	struct lis_error err = { 0 };
	if (n->p.n == 0 && !n->p.need_dump)
		return;
	if (n->db && !db_is_ok(n->db)) {
		db_close(n->db);
		n->db = NULL;
	}
	if (!n->db) {
		time_t now = time(NULL);
		if (now < n->next_connect)
			return;
		n->db = db_connect(n->conninfo, &err);
		if (!n->db) {
			n->backoff = n->backoff ? n->backoff * 2 : 1;
			if (n->backoff > RECONNECT_MAX)
				n->backoff = RECONNECT_MAX;
			n->next_connect = now + n->backoff;
			log_failure("connect", &err);
			return;
		}
		n->backoff = 0;
	}
	if (n->p.need_dump) {
		unsigned count = 0;
		n->p.need_dump = false;
		if (wm_neigh_dump(n->nl, &count, &err) < 0) {
			n->p.need_dump = true;
			log_failure("dump", &err);
		}
	}
	struct db_collect_stats st = { 0 };
	size_t before = n->p.n;
	if (write_pending(n->db, &n->p, &st, &err) < 0) {
		log_failure("write", &err);
		return;
	}
	if (before)
		lis_log(LIS_LOG_DEBUG, "neighbors",
			"result=ok written=%zu inserted=%zu updated=%zu",
			st.inserted + st.updated, st.inserted, st.updated);
}

static void *run(void *arg)
{
	struct wmd_netlink *n = arg;
	struct pollfd fds[2] = {
		{ .fd = wm_neigh_fd(n->nl), .events = POLLIN },
		{ .fd = n->stop_pipe[0], .events = POLLIN },
	};
	time_t next_flush = time(NULL);

	for (;;) {
		time_t now = time(NULL);
		if (now >= next_flush) {
			flush(n);
			next_flush = now + (time_t)n->write_interval;
		}
		int wait_ms = (int)(next_flush - now) * 1000;
		int r = poll(fds, 2, wait_ms < 0 ? 0 : wait_ms);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (fds[1].revents)
			break;
		if (fds[0].revents) {
			struct lis_error err = { 0 };
			bool resynced = false;
			if (wm_neigh_receive(n->nl, NULL, &resynced, &err) < 0) {
				log_failure("receive", &err);
				n->p.need_dump = true;
			}
			if (resynced)
				lis_log(LIS_LOG_INFO, "neighbors",
					"result=resynced reason=\"events lost (ENOBUFS)\"");
		}
	}
	flush(n);
	return NULL;
}

static void free_netlink(struct wmd_netlink *n)
{
	wm_neigh_close(n->nl);
	db_close(n->db);
	if (n->stop_pipe[0] >= 0)
		close(n->stop_pipe[0]);
	if (n->stop_pipe[1] >= 0)
		close(n->stop_pipe[1]);
	if (n->conninfo) {
		explicit_bzero(n->conninfo, strlen(n->conninfo));
		free(n->conninfo);
	}
	free(n->p.v);
	free(n);
}

struct wmd_netlink *wmd_netlink_start(const struct wmd_config *cfg, struct lis_error *err)
{
	struct wmd_netlink *n = calloc(1, sizeof *n);
	if (!n) {
		lis_error_set(err, LIS_E_SYSTEM, "out of memory");
		return NULL;
	}
	n->stop_pipe[0] = n->stop_pipe[1] = -1;
	n->write_interval = cfg->netlink_write_interval;
	n->conninfo = strdup(cfg->conninfo);
	if (!n->conninfo || pipe(n->stop_pipe) < 0) {
		lis_error_set(err, LIS_E_SYSTEM, "netlink thread: %s", strerror(errno));
		goto fail;
	}
	/* Subscribe before the dump, so that nothing between them is missed. */
	n->nl = wm_neigh_open(on_obs, &n->p, err);
	if (!n->nl)
		goto fail;
	unsigned count = 0;
	if (wm_neigh_dump(n->nl, &count, err) < 0)
		goto fail;
	lis_log(LIS_LOG_INFO, "neighbors", "result=dumped entries=%u", count);
	int rc = pthread_create(&n->thread, NULL, run, n);
	if (rc != 0) {
		lis_error_set(err, LIS_E_SYSTEM, "netlink thread: %s", strerror(rc));
		goto fail;
	}
	return n;
fail:
	free_netlink(n);
	return NULL;
}

void wmd_netlink_stop(struct wmd_netlink *n)
{
	if (!n)
		return;
	ssize_t w = write(n->stop_pipe[1], "x", 1);
	(void)w;
	pthread_join(n->thread, NULL);
	free_netlink(n);
}

int wmd_netlink_once(struct db_conn *db, unsigned *written, struct lis_error *err)
{
	struct pending p = { 0 };
	struct wm_neigh *nl = wm_neigh_open(on_obs, &p, err);
	int rc = -1;
	*written = 0;
	if (!nl)
		return -1;
	if (wm_neigh_dump(nl, NULL, err) < 0)
		goto out;
	pending_unique(&p);
	size_t n = p.n;
	if (write_pending(db, &p, NULL, err) < 0)
		goto out;
	*written = (unsigned)n;
	rc = 0;
out:
	wm_neigh_close(nl);
	free(p.v);
	return rc;
}
