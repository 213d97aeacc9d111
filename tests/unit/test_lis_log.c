/* lis_log() to stderr: "YYYY-MM-DDTHH:MM:SS.mmmZ level program event fields", the time in
 * UTC and the clock's own (the date and time to the second are made once a second per
 * thread, so the lines across a change of second are checked too). stderr goes to a file.
 * lis_log_batched(): written late by a thread of their own, whole, in order, none lost. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "lis_log.h"

static char path[] = "/tmp/lis-test-log-XXXXXX";
static FILE *logged;            /* what lis_log wrote, read as it comes */

/* The next line logged, in buf; false when there is none. */
static bool next_line(char *buf, size_t size)
{
	clearerr(logged);
	return fgets(buf, (int)size, logged) != NULL;
}

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);   /* time(2) may be a tick behind this clock */
	return ts.tv_sec;
}

/* The Unix time a line says, its milliseconds in *ms; -1 when it does not parse. */
static long long line_time(const char *line, int *ms, char *rest, size_t rest_size)
{
	struct tm tm = {0};
	int used = 0;
	if (sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, ms, &used) != 7 || used != 25)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	snprintf(rest, rest_size, "%s", line + used);
	return (long long)timegm(&tm);
}

/* Log line n and check it against the clock read around it; its second in *t. */
static bool log_and_check(int n, long long *t)
{
	char line[256], rest[256], want[64];
	int ms = -1;
	time_t before = now_s();
	lis_log(LIS_LOG_INFO, "tick", "n=%d", n);
	time_t after = now_s();
	if (!CHECKF(next_line(line, sizeof line), "line %d missing", n))
		return false;
	*t = line_time(line, &ms, rest, sizeof rest);
	snprintf(want, sizeof want, "info test-log tick n=%d\n", n);
	return CHECKF(*t >= before && *t <= after && ms >= 0 && ms <= 999, "line %d: %s", n,
		      line) && CHECK_STR(rest, want);
}

static void test_lines_carry_the_clock_across_a_change_of_second(void)
{
	long long first, second;
	if (!log_and_check(0, &first) || !log_and_check(1, &second))
		return;
	/* wait (polling the clock, 10 s at most) until the second has changed, then again */
	time_t deadline = now_s() + 10;
	struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
	while (now_s() <= second && now_s() < deadline)
		nanosleep(&tick, NULL);
	long long third;
	if (log_and_check(2, &third))
		CHECKF(third > second, "the line after a change of second says %lld, before %lld",
		       third, second);
}

static void test_warn_and_err_levels_are_named(void)
{
	char line[256], rest[256];
	int ms;
	while (next_line(line, sizeof line))
		;
	lis_log(LIS_LOG_WARN, "w", NULL);
	lis_log(LIS_LOG_ERR, "e", "k=%s", "v");
	CHECK(next_line(line, sizeof line) && line_time(line, &ms, rest, sizeof rest) > 0);
	CHECK_STR(rest, "warn test-log w\n");
	CHECK(next_line(line, sizeof line) && line_time(line, &ms, rest, sizeof rest) > 0);
	CHECK_STR(rest, "err test-log e k=v\n");
}

static void drain(void);

/* Fields made already ("%s", copied without printf) read as printf writes them, cut to the
 * same 2 KiB line. */
static void test_made_fields_read_as_printf_writes_them(void)
{
	static char big[3000], a[4096], b[4096];
	char ra[4096], rb[4096];
	int ms;
	memset(big, 'x', sizeof big - 1);
	drain();
	lis_log(LIS_LOG_INFO, "held", "%s", "requester=10.0.0.1 result=located");
	lis_log(LIS_LOG_INFO, "held", "%s", big);
	lis_log(LIS_LOG_INFO, "held", "%s%s", big, "");
	CHECK(next_line(a, sizeof a) && line_time(a, &ms, ra, sizeof ra) > 0);
	CHECK_STR(ra, "info test-log held requester=10.0.0.1 result=located\n");
	CHECK(next_line(a, sizeof a) && line_time(a, &ms, ra, sizeof ra) > 0);
	CHECK(next_line(b, sizeof b) && line_time(b, &ms, rb, sizeof rb) > 0);
	CHECK_STR(ra, rb);
	CHECKF(strlen(a) == 2047 && a[2046] == '\n', "%zu bytes", strlen(a));
}

/* Skip what was logged before. */
static void drain(void)
{
	char line[2048];
	while (next_line(line, sizeof line))
		;
}

/* Batched lines come whole and in order; a lis_log() line comes after every batched line
 * logged before it; stopping writes what still waits; without the thread they go at once. */
static void test_batched_lines_keep_their_order_and_stop_writes_them(void)
{
	char line[256], want[64];
	drain();
	if (!CHECK(lis_log_batch_start() == 0))
		return;
	CHECK(lis_log_batch_start() < 0);  /* one thread */
	for (int i = 0; i < 100; i++)
		lis_log_batched(LIS_LOG_INFO, "held", "n=%d", i);
	lis_log_batched(LIS_LOG_DEBUG, "held", "n=too-verbose");
	lis_log(LIS_LOG_WARN, "now", "after=99");
	bool order = true;
	for (int i = 0; i < 100 && order; i++) {
		snprintf(want, sizeof want, "Z info test-log held n=%d\n", i);
		order = next_line(line, sizeof line) && strstr(line, want) != NULL;
		if (!order)
			t_diag("line %d: %s", i, line);
	}
	CHECK(order);
	CHECK(next_line(line, sizeof line) && strstr(line, "Z warn test-log now after=99\n"));
	lis_log_batched(LIS_LOG_INFO, "held", "n=last");
	lis_log_batch_stop();
	CHECK(next_line(line, sizeof line) && strstr(line, "Z info test-log held n=last\n"));
	CHECK(!next_line(line, sizeof line));
	lis_log_batched(LIS_LOG_INFO, "held", "n=direct");
	CHECK(next_line(line, sizeof line) && strstr(line, "Z info test-log held n=direct\n"));
}

/* With nothing else logged, the thread writes a batched line by itself (waited for, 30 s at
 * most: it is a few milliseconds). */
static void test_a_batched_line_is_written_without_help(void)
{
	char line[256];
	drain();
	if (!CHECK(lis_log_batch_start() == 0))
		return;
	lis_log_batched(LIS_LOG_INFO, "held", "n=alone");
	time_t deadline = now_s() + 30;
	struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
	bool got = false;
	while (!(got = next_line(line, sizeof line)) && now_s() < deadline)
		nanosleep(&tick, NULL);
	CHECK(got && strstr(line, "Z info test-log held n=alone\n"));
	lis_log_batch_stop();
}

#define PER_THREAD 12000
static void *log_many(void *arg)
{
	int t = (int)(long)arg;
	for (int i = 0; i < PER_THREAD; i++)
		lis_log_batched(LIS_LOG_INFO, "held", "thread=%d n=%05d pad=%s", t, i,
				"................................................");
	return NULL;
}

/* Two threads log 1.7 MB of lines at once, more than the batch holds (what does not fit is
 * written at once, after the lines waiting): every line arrives once, whole, and each
 * thread's in the order it logged them. */
static void test_two_threads_lose_and_mix_nothing(void)
{
	char line[512];
	drain();
	if (!CHECK(lis_log_batch_start() == 0))
		return;
	pthread_t th[2];
	for (long t = 0; t < 2; t++)
		pthread_create(&th[t], NULL, log_many, (void *)t);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	lis_log_batch_stop();
	int next[2] = {0, 0};
	bool whole = true;
	while (next_line(line, sizeof line)) {
		int t = -1, n = -1, used = 0;
		char *p = strstr(line, " held thread=");
		if (!p || sscanf(p, " held thread=%d n=%d pad=%*[.]%n", &t, &n, &used) != 2 ||
		    t < 0 || t > 1 || p[used] != '\n' || n != next[t]) {
			whole = false;
			t_diag("unexpected line: %s", line);
			break;
		}
		next[t]++;
	}
	CHECK(whole);
	CHECKF(next[0] == PER_THREAD && next[1] == PER_THREAD, "%d and %d lines", next[0],
	       next[1]);
}

int main(void)
{
	int fd = mkstemp(path);
	int saved = dup(STDERR_FILENO);
	logged = fd >= 0 ? fopen(path, "r") : NULL;
	if (!logged || saved < 0 || dup2(fd, STDERR_FILENO) < 0) {
		t_skip("lis_log", "no temporary file for stderr");
		return t_done();
	}
	lis_log_init("test-log", LIS_LOG_STDERR, LIS_LOG_INFO);
	t_run("lines_carry_the_clock_across_a_change_of_second",
	      test_lines_carry_the_clock_across_a_change_of_second);
	t_run("warn_and_err_levels_are_named", test_warn_and_err_levels_are_named);
	t_run("made_fields_read_as_printf_writes_them", test_made_fields_read_as_printf_writes_them);
	t_run("batched_lines_keep_their_order_and_stop_writes_them",
	      test_batched_lines_keep_their_order_and_stop_writes_them);
	t_run("a_batched_line_is_written_without_help", test_a_batched_line_is_written_without_help);
	t_run("two_threads_lose_and_mix_nothing", test_two_threads_lose_and_mix_nothing);
	dup2(saved, STDERR_FILENO);
	fclose(logged);
	unlink(path);
	return t_done();
}
