/* The wiremap lisd answers from: a wm_snapshot, loaded by one loader thread with its own
 * database connection ([database] read_conninfo: a standby will do) and swapped in with
 * liburcu-bp (RCU), so that request threads never take a lock and never wait for
 * PostgreSQL. The loader polls the change feed (db_changes_poll) every 20 ms and applies
 * what changed in place (wm_delta_apply), loading anew only for large changes; while
 * PostgreSQL is unreachable the last snapshot keeps serving. */
#ifndef LIS_SNAPSHOT_H
#define LIS_SNAPSHOT_H

#include <stdbool.h>

#include "lis_config.h"
#include "lis_error.h"

struct wm_snapshot;

/* Start the loader thread. It connects in the background (with backoff): requests that come
 * before the first load find no snapshot. cfg must outlive lis_snapshot_stop(). */
int lis_snapshot_start(const struct lis_config *cfg, struct lis_error *err);
/* Stop and join the loader, then free the snapshot. Call after the HTTP server stopped. */
void lis_snapshot_stop(void);

/* Readers: between lis_snapshot_read_lock() and lis_snapshot_read_unlock(), the snapshot
 * returned by lis_snapshot_current() (NULL before the first load) and everything it points
 * to stay valid. Read-side sections nest and never block. */
void lis_snapshot_read_lock(void);
void lis_snapshot_read_unlock(void);
const struct wm_snapshot *lis_snapshot_current(void);

/* Seconds since the snapshot in use was last known to match the database: 0 while the
 * loader's connection is up and no change is pending; grows while PostgreSQL is unreachable.
 * -1 when there is no snapshot yet. */
long lis_snapshot_age(void);

/* Upper bounds (seconds) of the buckets of struct lis_snapshot_stats.feed_polls. */
#define LIS_FEED_POLL_BUCKETS 9
extern const double lis_feed_poll_buckets[LIS_FEED_POLL_BUCKETS];

/* For the admin listener (lis_admin.h): the loader's counts, read without a lock. */
struct lis_snapshot_stats {
	bool loaded;                  /* a snapshot is being served */
	long age;                     /* lis_snapshot_age() */
	bool db_up;                   /* the loader's connection to PostgreSQL is up */
	unsigned long long reloads;   /* loads published since start (the first one included) */
	unsigned long long failures;  /* loads that failed (the old snapshot was kept) */
	unsigned long long deltas;    /* change-feed deltas applied in place */
	double last_load_s;           /* how long the last published load took; 0: none yet */
	long long last_load_at;       /* when it was published (Unix time); 0: none yet */
	/* Looks at the change feed by how long each took (its round trips to PostgreSQL and the
	 * changes it found applied, not a full load it started): feed_polls[i] those within
	 * lis_feed_poll_buckets[i] seconds and above the bucket before (not cumulative), the
	 * last one those above every bucket. A change reaches answers within POLL_MS (20 ms)
	 * of its commit plus one such look. */
	unsigned long long feed_polls[LIS_FEED_POLL_BUCKETS + 1];
	double feed_poll_sum_s;       /* their durations added up */
};
void lis_snapshot_get_stats(struct lis_snapshot_stats *st);

#endif
