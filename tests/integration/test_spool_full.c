/* The query-log spool on a full disk (issue 10 point 6): with PostgreSQL away, lisd spools
 * every answer; on a 64 KiB tmpfs the spool fills. What fits is written (a batch is not
 * lost whole while there is room for part of it), every answer that could not be kept is
 * counted, and at stop the count is exact: answers = entries in the spool + lost_total.
 * Once PostgreSQL is back, the spooled entries are all stored. Root only (mounts a tmpfs). */
#include "check.h"
#include "corr.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static struct ck_env E;
static char dir[300], spool_file[400], sections[1024];
static bool mounted;
static long answered;

static int run_cmd(char *const argv[])
{
	struct th_proc p;
	th_run(&p, argv, NULL, 30);
	int st = p.status;
	if (st)
		t_diag("%s: exit %d: %s", argv[0], st, th_flat(p.err));
	th_proc_free(&p);
	return st;
}

static void unmount(void)
{
	if (!mounted)
		return;
	char *argv[] = {"umount", "-l", dir, NULL};
	run_cmd(argv);
	mounted = false;
}

static void test_setup_lisd_spooling_to_a_64k_tmpfs(void)
{
	if (!ck_db_setup(&E))
		return;
	char *d = th_tmpdir("fullspool");
	if (!CHECK(d != NULL))
		return;
	snprintf(dir, sizeof dir, "%s", d);
	char *argv[] = {"mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", dir, NULL};
	if (!CHECK(run_cmd(argv) == 0))
		return;
	mounted = true;
	atexit(unmount);
	snprintf(spool_file, sizeof spool_file, "%s/full.spool", dir);
	/* batches of a few hundred milliseconds of answers: many entries each */
	snprintf(sections, sizeof sections,
		 "[querylog]\nspool_dir = %s\ninstance = full\nflush_ms = 300\n", dir);
	E.up = ck_lisd_start(&E, &E.lisd, sections);
}

static size_t spool_entries(void)
{
	char *s = th_read_file(spool_file, NULL);
	size_t n = 0;
	for (const char *p = s; p && (p = strstr(p, "Q1\t")); p++)
		n++;
	free(s);
	return n;
}

/* n HELD requests; how many were answered. */
static long ask(int n)
{
	long ok = 0;
	for (int i = 0; i < n; i++) {
		struct th_resp r;
		th_held_post(&E.lisd, &E.tls, ck_req("civic", false), "127.0.0.10", &r);
		ok += r.curl_code == 0 && r.status == 200;
		th_resp_free(&r);
	}
	return ok;
}

/* The answers lisd has logged so far ("held requester=..." lines). */
static long held_lines(void)
{
	char *log = th_lisd_log(&E.lisd);
	long n = 0;
	for (const char *p = log; p && (p = strstr(p, " held requester=")); p++)
		n++;
	free(log);
	return n;
}

/* Every answer so far is stored and the spool compacted to its mark line. */
static bool spool_compacted(void *ctx)
{
	(void)ctx;
	return th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'full'") ==
	       held_lines() && spool_entries() == 0;
}

static void test_full_spool_keeps_what_fits_and_counts_the_rest(void)
{
	/* the start-up answers are stored and the spool compacted: from here on, the spool
	 * holds this test's answers only */
	if (!CHECKF(th_wait_until(60, 50, spool_compacted, NULL, NULL), "spool not compacted") ||
	    !CHECK(th_pg_stop(&E.pg) == 0))
		return;
	/* until the spool refuses a write (about 64 KiB of entries) */
	for (int round = 0; round < 200; round++) {
		answered += ask(25);
		if (ck_log_has(&E.lisd, "querylog", "result=write_failed", (char *)NULL))
			break;
	}
	if (!CHECK(ck_log_has(&E.lisd, "querylog", "result=write_failed", (char *)NULL)))
		return;
	/* and more, answered all the same while the spool is full */
	answered += ask(25);
	/* what fits was written: not a page left */
	struct statvfs vf;
	CHECK(statvfs(dir, &vf) == 0);
	CHECKF(vf.f_bavail == 0, "%lu blocks of %lu bytes left free on the spool's disk",
	       (unsigned long)vf.f_bavail, (unsigned long)vf.f_bsize);
	CHECK(th_lisd_stop(&E.lisd) == 0);
	/* every answer is in the spool or counted as lost */
	char *log = th_lisd_log(&E.lisd);
	const char *at = log ? strstr(log, "result=stopped") : NULL;
	const char *lt = at ? strstr(at, "lost_total=") : NULL;
	long lost = lt ? strtol(lt + strlen("lost_total="), NULL, 10) : -1;
	free(log);
	long spooled = (long)spool_entries();
	t_diag("answered %ld: %ld spooled, %ld lost", answered, spooled, lost);
	CHECK(lost > 0);
	CHECKF(spooled + lost == answered, "%ld spooled + %ld lost != %ld answered", spooled,
	       lost, answered);
	E.up = spooled > 0 && spooled + lost == answered;
}

/* The lowest and highest sequence numbers in the spool (lines "Q1<TAB>SEQ<TAB>..."). */
static void spool_seqs(long long *min, long long *max)
{
	char *s = th_read_file(spool_file, NULL);
	*min = -1;
	*max = -1;
	for (const char *p = s; p && (p = strstr(p, "Q1\t")); p++) {
		long long q = strtoll(p + 3, NULL, 10);
		if (*min < 0 || q < *min)
			*min = q;
		if (q > *max)
			*max = q;
	}
	free(s);
}

static char count_sql[200];

static bool all_stored(void *ctx)
{
	return th_pg_count(&E.pg, count_sql) == *(long *)ctx;
}

static void test_postgresql_back_every_spooled_entry_stored(void)
{
	long want = (long)spool_entries();
	long long lo, hi;
	spool_seqs(&lo, &hi);
	snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM query_log WHERE instance = "
		 "'full' AND seq BETWEEN %lld AND %lld", lo, hi);
	if (!CHECK(th_pg_restart(&E.pg) == 0) || !ck_lisd_start(&E, &E.lisd, sections))
		return;
	CHECKF(th_wait_until(60, 100, all_stored, &want, NULL), "%ld entries spooled, %ld stored",
	       want, th_pg_count(&E.pg, count_sql));
	CHECK(th_lisd_stop(&E.lisd) == 0);
}

int main(void)
{
	if (geteuid() != 0) {
		t_skip("spool_full", "not root: cannot mount the small tmpfs");
		return t_done();
	}
	t_run("setup_lisd_spooling_to_a_64k_tmpfs", test_setup_lisd_spooling_to_a_64k_tmpfs);
	if (!E.up) {
		t_skip("spool full cases", "setup failed");
	} else {
		t_run("full_spool_keeps_what_fits_and_counts_the_rest",
		      test_full_spool_keeps_what_fits_and_counts_the_rest);
		if (E.up)
			t_run("postgresql_back_every_spooled_entry_stored",
			      test_postgresql_back_every_spooled_entry_stored);
	}
	int rc = t_done();
	unmount();
	th_pg_stop(&E.pg);
	return rc;
}
