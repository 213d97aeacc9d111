#include "wmd_schedule.h"

#include <stdint.h>
#include <stdlib.h>

double wmd_schedule_base_wait(unsigned long interval, int failures,
			      const struct wmd_schedule_policy *p)
{
	if (interval == 0)
		interval = p->interval;
	double wait = (double)interval;
	double cap = (double)(p->max_backoff > interval ? p->max_backoff : interval);
	/* The first failure may be a lost packet: retry on the normal schedule; then double. */
	for (int f = 1; f < failures && wait < cap; f++)
		wait *= 2;
	return wait < cap ? wait : cap;
}

double wmd_schedule_spread(double base, double jitter, double u)
{
	return base * (1.0 + jitter * (2.0 * u - 1.0));
}

/* splitmix64 (Vigna): a well-mixed hash of the two numbers, so that switches polled at the
 * same moment still spread apart. */
double wmd_schedule_u(long long switch_id, time_t last_attempt)
{
	uint64_t z = (uint64_t)switch_id * 0x9e3779b97f4a7c15u ^ (uint64_t)last_attempt;
	z += 0x9e3779b97f4a7c15u;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;   /* 53 bits / 2^53 */
}

time_t wmd_schedule_due(const struct db_poll_switch *sw, const struct wmd_schedule_policy *p)
{
	if (sw->last_attempt == 0)
		return 0;
	double base = wmd_schedule_base_wait(sw->poll_interval, sw->consecutive_failures, p);
	double wait = wmd_schedule_spread(base, p->jitter,
					  wmd_schedule_u(sw->id, sw->last_attempt));
	return sw->last_attempt + (time_t)(wait + 0.5);
}

struct due_entry {
	time_t due;
	size_t i;
};

static int by_due(const void *a, const void *b)
{
	const struct due_entry *x = a, *y = b;
	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

size_t wmd_schedule_select(const struct db_poll_switch *sw, size_t n,
			   const struct wmd_schedule_policy *p, time_t now, size_t *idx,
			   time_t *next)
{
	struct due_entry *due = n ? malloc(n * sizeof *due) : NULL;
	size_t k = 0;
	time_t earliest = 0;

	for (size_t i = 0; i < n; i++) {
		time_t d = wmd_schedule_due(&sw[i], p);
		if (d <= now) {
			if (due)
				due[k] = (struct due_entry){ d, i };
			else
				idx[k] = i;
			k++;
		} else if (earliest == 0 || d < earliest) {
			earliest = d;
		}
	}
	/* Without memory for sorting the order is the list's (by key): still correct. */
	if (due) {
		qsort(due, k, sizeof *due, by_due);
		for (size_t j = 0; j < k; j++)
			idx[j] = due[j].i;
		free(due);
	}
	if (next)
		*next = earliest;
	return k;
}
