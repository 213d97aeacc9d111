#include "lis_snapshot.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <urcu-bp.h>

#include "db.h"
#include "db_snapshot.h"
#include "lis_log.h"
#include "lis_prom.h"
#include "wm_builder.h"
#include "wm_snapshot.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* How often the loader asks the change feed for news: a change reaches answers this long
 * after its commit at most, plus the time to apply it. One indexed query that usually
 * returns one row. */
#define POLL_MS 20
/* Deltas leave what they replaced in the snapshot's memory: once they have taken this much
 * (and half the snapshot's own size), a fresh load gives it back. */
#define COMPACT_MIN_BYTES ((size_t)64 << 20)

/* The published snapshot: written by the loader only (rcu_assign_pointer), read under
 * rcu_read_lock() by any thread. */
static struct wm_snapshot *current;
/* When the published snapshot was last known to match the database (seconds, wall clock);
 * 0: no snapshot. */
static atomic_llong fresh_at;

/* For lis_snapshot_get_stats(). */
static atomic_bool db_up;
static atomic_ullong n_reloads, n_failures, n_deltas;
/* Where the loader is in the change feed (loader thread only). */
static struct db_change_cursor cursor;
static atomic_ullong last_load_us;
static atomic_llong last_load_at;
/* How long the loader's looks at the change feed took (lis_snapshot_stats.feed_polls). */
const double lis_feed_poll_buckets[LIS_FEED_POLL_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};
static atomic_ullong feed_polls[LIS_FEED_POLL_BUCKETS + 1];
static atomic_ullong feed_poll_ns;

static const struct lis_config *snap_cfg;
static pthread_t loader;
static bool loader_started;
static atomic_bool stopping;
static pthread_mutex_t stop_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cv = PTHREAD_COND_INITIALIZER;

void lis_snapshot_read_lock(void)
{
	rcu_read_lock();
}

void lis_snapshot_read_unlock(void)
{
	rcu_read_unlock();
}

const struct wm_snapshot *lis_snapshot_current(void)
{
	return rcu_dereference(current);
}

long lis_snapshot_age(void)
{
	long long t = atomic_load(&fresh_at);
	if (t == 0)
		return -1;
	long long now = (long long)time(NULL);
	return now > t ? (long)(now - t) : 0;
}

static void mark_fresh(void)
{
	atomic_store(&fresh_at, (long long)time(NULL));
}

static void format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Reconnect and reload retries wait twice as long each time, up to BACKOFF_MAX_MS. */
static unsigned next_backoff(unsigned ms)
{
	return ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
}

/* Sleep up to ms, waking early on stop. Returns true when stopping. */
static bool sleep_or_stop(unsigned ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&stop_mu);
	while (!atomic_load(&stopping)) {
		if (pthread_cond_timedwait(&stop_cv, &stop_mu, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&stop_mu);
	return atomic_load(&stopping);
}

/* Swap s in: readers see it from now on. Returns the snapshot it replaced (NULL: none), for
 * retire(). Runs on the loader thread, never on the request path. */
static struct wm_snapshot *publish(struct wm_snapshot *s)
{
	struct wm_snapshot *old = current;
	rcu_assign_pointer(current, s);
	return old;
}

/* Free old once no reader can still hold it (synchronize_rcu waits for read-side sections
 * that began before the swap).
 * Then malloc_trim(0) hands the old snapshot's pages back to the kernel. free() alone keeps
 * most of them: the snapshot is many small blocks in the loader thread's malloc arena, and
 * glibc returns only the free space at the top of a heap, so VmRSS climbed with each full
 * reload (1M entries: 199 MiB after one reload, 413 MiB after three; with the trim about
 * 143 MiB, steady). A reload thus needs the old and the new snapshot only while it runs. */
static void retire(struct wm_snapshot *old)
{
	synchronize_rcu();
	if (old) {
		wm_snapshot_free(old);
		malloc_trim(0);
	}
}

static void log_loaded(const struct wm_snapshot *s, const char *trigger)
{
	struct wm_snapshot_stats st;
	memset(&st, 0, sizeof st);
	wm_snapshot_get_stats(s, &st);
	lis_log(LIS_LOG_INFO, "wiremap",
		"loaded trigger=%s sites=%zu locations=%zu subnets=%zu switches=%zu ports=%zu "
		"bssids=%zu endpoints=%zu bindings_mac_port=%zu bindings_ip_mac=%zu "
		"bindings_mac_bssid=%zu classes=%zu declared=%zu vpn=%zu users_deactivated=%zu "
		"bytes=%zu ms=%.1f",
		trigger, st.sites, st.locations, st.subnets, st.switches, st.ports, st.bssids,
		st.endpoints, st.bind_mac_port, st.bind_ip_mac, st.bind_mac_bssid, st.classes,
		st.declared, st.vpn, st.users_inactive, st.bytes, st.load_ms);
}

/* Load and publish. Returns 0, or -1 with err filled (the connection may have broken). */
static int reload(struct db_conn *db, const char *trigger, struct lis_error *err)
{
	time_t started = time(NULL);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct wm_snapshot *s = wm_snapshot_load(db, &cursor, err);
	if (!s) {
		atomic_fetch_add(&n_failures, 1);
		return -1;
	}
	struct wm_snapshot *old = publish(s);
	/* once readers have it: whoever waits for this line (tests, bench/run.sh) may ask; and
	 * before the old one is freed, which answers wait for no more */
	log_loaded(s, trigger);
	retire(old);
	/* The snapshot is as of its transaction, which began at `started`. */
	atomic_store(&fresh_at, (long long)started);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long us = (long long)(t1.tv_sec - t0.tv_sec) * 1000000LL +
		       (t1.tv_nsec - t0.tv_nsec) / 1000;
	atomic_store(&last_load_us, (unsigned long long)(us > 0 ? us : 0));
	atomic_store(&last_load_at, (long long)time(NULL));
	atomic_fetch_add(&n_reloads, 1);
	return 0;
}

void lis_snapshot_get_stats(struct lis_snapshot_stats *st)
{
	st->age = lis_snapshot_age();
	st->loaded = st->age >= 0;
	st->db_up = atomic_load(&db_up);
	st->reloads = atomic_load(&n_reloads);
	st->failures = atomic_load(&n_failures);
	st->deltas = atomic_load(&n_deltas);
	st->last_load_s = (double)atomic_load(&last_load_us) / 1e6;
	st->last_load_at = atomic_load(&last_load_at);
	for (size_t i = 0; i <= LIS_FEED_POLL_BUCKETS; i++)
		st->feed_polls[i] = atomic_load(&feed_polls[i]);
	st->feed_poll_sum_s = (double)atomic_load(&feed_poll_ns) / 1e9;
}

/* One look at the change feed, begun at t0, is over: count it in its bucket. Returns its
 * milliseconds. */
static double poll_done(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (long long)(t1.tv_sec - t0->tv_sec) * 1000000000LL +
		       (t1.tv_nsec - t0->tv_nsec);
	if (ns < 0)
		ns = 0;
	atomic_fetch_add(&feed_polls[prom_bucket(lis_feed_poll_buckets, LIS_FEED_POLL_BUCKETS,
						 (double)ns / 1e9)], 1);
	atomic_fetch_add(&feed_poll_ns, (unsigned long long)ns);
	return (double)ns / 1e6;
}

/* One look at the change feed: apply what changed to the snapshot in place, or load a new
 * one when the change is too large for that. Returns 0, or -1 with err filled. */
static int follow(struct db_conn *db, struct lis_error *err)
{
	struct wm_delta *d = wm_delta_new(current);
	if (!d)
		return lis_error_set(err, LIS_E_SYSTEM, "wiremap delta: out of memory");
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = db_changes_poll(db, &cursor, wm_delta_sink(d), err);
	if (rc == DB_FEED_CHANGES) {
		rc = wm_delta_apply(d, err);
		wm_delta_free(d);
		double ms = poll_done(&t0);
		if (rc < 0)
			return -1;
		if (rc > 0)
			return reload(db, "delta-too-large", err);
		atomic_fetch_add(&n_deltas, 1);
		struct wm_snapshot_stats st;
		wm_snapshot_get_stats(current, &st);
		lis_log(LIS_LOG_DEBUG, "wiremap", "delta applied ms=%.1f deltas=%llu delta_bytes=%zu",
			ms, st.deltas, st.delta_bytes);
		if (st.delta_bytes > COMPACT_MIN_BYTES && st.delta_bytes > st.bytes / 3)
			return reload(db, "compact", err);
		return 0;
	}
	wm_delta_free(d);
	poll_done(&t0);
	if (rc == DB_FEED_RELOAD)
		return reload(db, "change", err);
	return rc < 0 ? -1 : 0;
}

/* The loader: connect (with backoff), load (which starts the change feed's cursor), then
 * follow the change feed until the connection breaks or lisd stops. */
static void *loader_main(void *arg)
{
	(void)arg;
	unsigned backoff = BACKOFF_MIN_MS;
	time_t stale_since = 0;       /* when the connection broke, 0 while fine */
	bool warned_down = false;     /* "unavailable" said for this outage */
	char v[400], t[40];

	while (!atomic_load(&stopping)) {
		struct lis_error err = { 0 };
		const char *ci = snap_cfg->read_conninfo && snap_cfg->read_conninfo[0]
				 ? snap_cfg->read_conninfo : snap_cfg->conninfo;
		struct db_conn *db = db_connect(ci, &err);
		atomic_store(&db_up, db != NULL);
		if (!db) {
			if (!warned_down) {
				lis_log(current ? LIS_LOG_WARN : LIS_LOG_ERR, "wiremap",
					"unavailable snapshot=%s retry_ms=%u reason=%s",
					current ? "kept" : "none", backoff,
					lis_log_value(v, sizeof v, err.msg));
				warned_down = true;
			} else {
				lis_log(LIS_LOG_DEBUG, "wiremap", "connect failed retry_ms=%u reason=%s",
					backoff, lis_log_value(v, sizeof v, err.msg));
			}
			if (sleep_or_stop(backoff))
				break;
			backoff = next_backoff(backoff);
			continue;
		}

		if (stale_since) {
			format_time(stale_since, t, sizeof t);
			lis_log(LIS_LOG_INFO, "wiremap", "reconnected catching-up stale_since=%s "
				"stale_s=%ld", t, (long)(time(NULL) - stale_since));
		}
		const char *trigger = stale_since ? "reconnect" : current ? "reconnect" : "start";
		if (reload(db, trigger, &err) < 0) {
			lis_log(LIS_LOG_ERR, "wiremap", "load failed snapshot=%s retry_ms=%u reason=%s",
				current ? "kept" : "none", backoff,
				lis_log_value(v, sizeof v, err.msg));
			db_close(db);
			atomic_store(&db_up, false);
			if (!stale_since && current)
				stale_since = time(NULL);
			if (sleep_or_stop(backoff))
				break;
			backoff = next_backoff(backoff);
			continue;
		}
		backoff = BACKOFF_MIN_MS;
		stale_since = 0;
		warned_down = false;

		/* Follow the change feed. */
		for (;;) {
			if (sleep_or_stop(POLL_MS))
				break;
			if (follow(db, &err) == 0) {
				mark_fresh();
				backoff = BACKOFF_MIN_MS;
				continue;
			}
			if (db_is_ok(db)) {
				/* The connection holds (a query error, a standby's recovery conflict):
				 * keep serving, try again after a backoff; the cursor has not moved. */
				lis_log(LIS_LOG_ERR, "wiremap", "change feed failed snapshot=kept "
					"retry_ms=%u reason=%s", backoff,
					lis_log_value(v, sizeof v, err.msg));
				if (sleep_or_stop(backoff))
					break;
				backoff = next_backoff(backoff);
				continue;
			}
			/* The connection broke: keep the snapshot, say since when, reconnect. */
			stale_since = (time_t)atomic_load(&fresh_at);
			if (!stale_since)
				stale_since = time(NULL);
			format_time(stale_since, t, sizeof t);
			lis_log(LIS_LOG_WARN, "wiremap", "stale since=%s snapshot=%s reason=%s", t,
				current ? "kept" : "none",
				lis_log_value(v, sizeof v, err.msg[0] ? err.msg : "connection lost"));
			warned_down = true;
			break;
		}
		db_close(db);
		atomic_store(&db_up, false);
		if (atomic_load(&stopping))
			break;
		if (sleep_or_stop(backoff))
			break;
		backoff = next_backoff(backoff);
	}
	return NULL;
}

int lis_snapshot_start(const struct lis_config *cfg, struct lis_error *err)
{
	snap_cfg = cfg;
	atomic_store(&stopping, false);
	int rc = pthread_create(&loader, NULL, loader_main, NULL);
	if (rc != 0)
		return lis_error_set(err, LIS_E_SYSTEM, "cannot start the wiremap loader thread: %s",
				     strerror(rc));
	loader_started = true;
	return 0;
}

void lis_snapshot_stop(void)
{
	if (loader_started) {
		pthread_mutex_lock(&stop_mu);
		atomic_store(&stopping, true);
		pthread_cond_broadcast(&stop_cv);
		pthread_mutex_unlock(&stop_mu);
		pthread_join(loader, NULL);
		loader_started = false;
	}
	struct wm_snapshot *old = current;
	rcu_assign_pointer(current, NULL);
	synchronize_rcu();
	wm_snapshot_free(old);
	atomic_store(&fresh_at, 0);
	db_change_cursor_free(&cursor);
}
