/* When each switch is next polled: pure arithmetic over the poll status the database keeps
 * (last attempt, consecutive failures), so that a restarted wiremapd carries on where the
 * last one stopped. No clock, no randomness of its own: callers pass `now`, and the jitter
 * of a wait is drawn from the switch and its last attempt, so that the due time of a switch
 * does not change between two looks at it. */
#ifndef WMD_SCHEDULE_H
#define WMD_SCHEDULE_H

#include <stddef.h>
#include <time.h>

#include "db_collect.h"

struct wmd_schedule_policy {
	unsigned long interval;     /* seconds; a switch's own poll_interval overrides */
	double jitter;              /* 0..0.5: waits spread over interval * (1 +- jitter) */
	unsigned long max_backoff;  /* seconds; longest wait of a failing switch */
};

/* Seconds to wait after an attempt, before spreading: the interval after a success or a
 * first failure; after f consecutive failures interval * 2^(f-1), never more than
 * max_backoff (but never less than the interval either). */
double wmd_schedule_base_wait(unsigned long interval, int failures,
			      const struct wmd_schedule_policy *p);

/* base * (1 + jitter * (2u - 1)) for u in [0, 1): within base * (1 +- jitter). */
double wmd_schedule_spread(double base, double jitter, double u);

/* A number in [0, 1) that depends only on the switch and its last attempt. */
double wmd_schedule_u(long long switch_id, time_t last_attempt);

/* When sw is next due: 0 (at once) for a switch never polled, else last_attempt + the
 * spread wait. */
time_t wmd_schedule_due(const struct db_poll_switch *sw, const struct wmd_schedule_policy *p);

/* Indices of the switches due at `now` into idx (room for n), most overdue first; returns
 * how many. *next (may be NULL) gets the earliest due time among the others (0: none). */
size_t wmd_schedule_select(const struct db_poll_switch *sw, size_t n,
			   const struct wmd_schedule_policy *p, time_t now, size_t *idx,
			   time_t *next);

#endif
