/* wiremapd schedule (wmd_schedule.c): jitter stays in its bounds and spreads, backoff doubles
 * and stops at max_backoff, and the due switches are picked most overdue first. */
#include "check.h"
#include "wmd_schedule.h"

#include <math.h>
#include <string.h>

static const struct wmd_schedule_policy policy = {
	.interval = 300, .jitter = 0.1, .max_backoff = 3600,
};

static struct db_poll_switch sw_at(long long id, time_t last, int failures, unsigned interval)
{
	struct db_poll_switch s;
	memset(&s, 0, sizeof s);
	s.id = id;
	s.last_attempt = last;
	s.last_success = failures ? 0 : last;
	s.consecutive_failures = failures;
	s.poll_interval = interval;
	return s;
}

static void test_spread_stays_within_jitter_bounds(void)
{
	CHECK(fabs(wmd_schedule_spread(300, 0.1, 0.0) - 270) < 1e-9);
	CHECK(fabs(wmd_schedule_spread(300, 0.1, 0.5) - 300) < 1e-9);
	CHECK(wmd_schedule_spread(300, 0.1, 0.999999) < 330);
	CHECK(fabs(wmd_schedule_spread(300, 0.0, 0.9) - 300) < 1e-9);
	/* Every due time of many switches and attempts lies within interval * (1 +- jitter). */
	time_t base = 1700000000;
	time_t lo = base + 300, hi = base;
	for (long long id = 1; id <= 2000; id++) {
		struct db_poll_switch s = sw_at(id, base + id % 7, 0, 0);
		time_t d = wmd_schedule_due(&s, &policy) - (base + id % 7);
		CHECKF(d >= 270 && d <= 330, "switch %lld waits %ld s", id, (long)d);
		if (d < lo - base)
			lo = base + d;
		if (d > hi - base)
			hi = base + d;
	}
	/* ... and actually spreads over most of that range. */
	CHECKF(lo - base <= 275 && hi - base >= 325, "waits only %ld..%ld s", (long)(lo - base),
	       (long)(hi - base));
}

static void test_spread_is_stable_between_looks(void)
{
	struct db_poll_switch s = sw_at(42, 1700000000, 0, 0);
	time_t d = wmd_schedule_due(&s, &policy);
	for (int i = 0; i < 10; i++)
		CHECK(wmd_schedule_due(&s, &policy) == d);
	double u = wmd_schedule_u(42, 1700000000);
	CHECK(u >= 0.0 && u < 1.0);
	CHECK(wmd_schedule_u(43, 1700000000) != u);
	CHECK(wmd_schedule_u(42, 1700000001) != u);
}

static void test_backoff_doubles_per_failure_up_to_the_cap(void)
{
	CHECK(wmd_schedule_base_wait(0, 0, &policy) == 300);
	CHECK(wmd_schedule_base_wait(0, 1, &policy) == 300);    /* one lost poll: no penalty */
	CHECK(wmd_schedule_base_wait(0, 2, &policy) == 600);
	CHECK(wmd_schedule_base_wait(0, 3, &policy) == 1200);
	CHECK(wmd_schedule_base_wait(0, 4, &policy) == 2400);
	CHECK(wmd_schedule_base_wait(0, 5, &policy) == 3600);   /* capped */
	CHECK(wmd_schedule_base_wait(0, 6, &policy) == 3600);
	CHECK(wmd_schedule_base_wait(0, 1000000, &policy) == 3600);  /* no overflow */
	/* A switch's own interval overrides the default, and backs off from there. */
	CHECK(wmd_schedule_base_wait(60, 0, &policy) == 60);
	CHECK(wmd_schedule_base_wait(60, 3, &policy) == 240);
	/* The cap never makes a switch wait less than its interval. */
	CHECK(wmd_schedule_base_wait(7200, 5, &policy) == 7200);
	/* Backoff is spread too (so failing switches do not retry in lockstep) but stays
	 * within the jitter of the cap. */
	struct db_poll_switch s = sw_at(9, 1700000000, 20, 0);
	time_t d = wmd_schedule_due(&s, &policy) - 1700000000;
	CHECKF(d >= 3240 && d <= 3960, "waits %ld s", (long)d);
}

static void test_select_takes_due_switches_most_overdue_first(void)
{
	const time_t now = 1700000000;
	struct wmd_schedule_policy exact = { .interval = 300, .jitter = 0, .max_backoff = 3600 };
	struct db_poll_switch sw[] = {
		sw_at(1, now - 100, 0, 0),      /* due in 200 s */
		sw_at(2, now - 400, 0, 0),      /* 100 s overdue */
		sw_at(3, 0, 0, 0),              /* never polled: at once, first */
		sw_at(4, now - 1000, 0, 0),     /* 700 s overdue */
		sw_at(5, now - 400, 3, 0),      /* failing: waits 1200 s, due in 800 s */
		sw_at(6, now - 30, 0, 30),      /* own interval 30 s: due exactly now */
		sw_at(7, now - 250, 0, 0),      /* due in 50 s: the next wake-up */
	};
	size_t idx[7];
	time_t next = -1;
	size_t k = wmd_schedule_select(sw, 7, &exact, now, idx, &next);
	CHECKF(k == 4, "%zu due", k);
	if (k == 4) {
		CHECK(sw[idx[0]].id == 3);
		CHECK(sw[idx[1]].id == 4);
		CHECK(sw[idx[2]].id == 2);
		CHECK(sw[idx[3]].id == 6);
	}
	CHECKF(next == now + 50, "next wake-up at now%+ld", (long)(next - now));

	/* Nothing due, nothing known: no wake-up. */
	k = wmd_schedule_select(NULL, 0, &exact, now, idx, &next);
	CHECK(k == 0 && next == 0);
}

int main(void)
{
	t_run("test_spread_stays_within_jitter_bounds", test_spread_stays_within_jitter_bounds);
	t_run("test_spread_is_stable_between_looks", test_spread_is_stable_between_looks);
	t_run("test_backoff_doubles_per_failure_up_to_the_cap",
	      test_backoff_doubles_per_failure_up_to_the_cap);
	t_run("test_select_takes_due_switches_most_overdue_first",
	      test_select_takes_due_switches_most_overdue_first);
	return t_done();
}
