/* lisctl import of large binding files (issue 10): its peak resident memory is bounded and
 * does not grow with the row count, and a bad row anywhere in a large file is reported
 * with every other bad row while the database stays as it was. The peak is the child's
 * ru_maxrss (wait4), measured on the real lisctl against a real PostgreSQL. */
#include "check.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

static struct th_pg pg;
static bool pg_up;
static char *work;

/* The files' sizes: the larger is 8 times the smaller. The old import (every row and
 * every cell in memory) peaked at about 420 MB at 1M rows: about 95 MB at BIG. */
#define SMALL 25000
#define BIG 200000
#define LIMIT_KB (48 * 1024)

/* AddressSanitizer's quarantine keeps freed memory for a while: lisctl built with it grows
 * with what it has freed, which says nothing of what it holds. */
#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif

/* lisctl --db CONNINFO ARGS... (at most 8), its stdout and stderr to files of work; the
 * exit status, and the peak resident set in KiB in *maxrss_kb. */
static int run_ctl(long *maxrss_kb, const char *a1, const char *a2, const char *a3,
		   const char *a4)
{
	char out[600], err[600];
	const char *argv[] = {th_lisctl_path(), "--db", pg.conninfo, a1, a2, a3, a4, NULL};
	struct rusage ru;
	int status;
	pid_t pid;

	snprintf(out, sizeof out, "%s/out", work);
	snprintf(err, sizeof err, "%s/err", work);
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		return -1;
	*maxrss_kb = ru.ru_maxrss;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *ctl_stderr(void)
{
	char path[600];

	snprintf(path, sizeof path, "%s/err", work);
	return th_read_file(path, NULL);
}

/* n MAC-port bindings on sw-hq-4, the k-th with MAC 02:00:00:xx:xx:xx from k; bad lines
 * (1-based data row numbers, 0-terminated) get `bad` instead of their row. */
static const char *write_bindings(const char *name, long n, const long *bad_rows,
				  const char *const *bad)
{
	static char path[600];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", work, name);
	if (!(f = fopen(path, "w")))
		return NULL;
	fputs("mac,switch,port,last_seen,source\n", f);
	for (long k = 1, b = 0; k <= n; k++) {
		if (bad_rows && bad_rows[b] == k) {
			fprintf(f, "%s\n", bad[b++]);
			continue;
		}
		fprintf(f, "02:00:00:%02lx:%02lx:%02lx,sw-hq-4,Gi1/0/%ld,2026-11-25T08:00:00Z,"
			"snmp\n", (k >> 16) & 0xff, (k >> 8) & 0xff, k & 0xff, k % 48 + 1);
	}
	return fclose(f) == 0 ? path : NULL;
}

static void test_setup_postgresql_and_wiremap(void)
{
	struct th_proc p;

	pg_up = th_pg_start(&pg) == 0;
	work = th_tmpdir("impmem");
	if (!CHECK(pg_up && work))
		return;
	const char *migrate[] = {th_lisctl_path(), "--db", pg.conninfo, "db", "migrate", NULL};
	th_run(&p, (char *const *)migrate, NULL, 60);
	CHECKF(p.status == 0, "migrate: %s", p.err);
	th_proc_free(&p);
	const char *imp[] = {th_lisctl_path(), "--db", pg.conninfo, "import",
			     "--sites", th_src("tests/data/csv/wiremap/sites.csv"),
			     "--locations", th_src("tests/data/csv/wiremap/locations.csv"),
			     "--switches", th_src("tests/data/csv/wiremap/switches.csv"), NULL};
	th_run(&p, (char *const *)imp, NULL, 60);
	CHECKF(p.status == 0, "import: %s", p.err);
	th_proc_free(&p);
}

static void test_import_peak_memory_is_bounded_and_flat(void)
{
	const char *small = write_bindings("small.csv", SMALL, NULL, NULL);
	long rss_small = 0, rss_big = 0;
	char *e;

	CHECK(small != NULL);
	CHECKF(run_ctl(&rss_small, "import", "--mac-ports", small, NULL) == 0, "%s",
	       (e = ctl_stderr()));
	free(e);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM binding_mac_port") == SMALL);
	const char *big = write_bindings("big.csv", BIG, NULL, NULL);
	CHECK(big != NULL);
	CHECKF(run_ctl(&rss_big, "import", "--mac-ports", big, NULL) == 0, "%s",
	       (e = ctl_stderr()));
	free(e);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM binding_mac_port") == BIG);
	t_diag("peak RSS: %ld KiB at %d rows, %ld KiB at %d rows", rss_small, SMALL, rss_big,
	       BIG);
#ifdef ASAN
	t_diag("built with AddressSanitizer: the peaks are not compared");
	return;
#endif
	CHECKF(rss_big < LIMIT_KB, "peak RSS %ld KiB at %d rows, want < %d KiB", rss_big, BIG,
	       LIMIT_KB);
	CHECKF(rss_big * 2 < rss_small * 3, "peak RSS %ld KiB at %d rows is 1.5 times or more "
	       "the %ld KiB at %d rows", rss_big, BIG, rss_small, SMALL);
}

/* Format errors, an unknown switch and duplicates, near the start and near the end of a
 * large file: all reported in one run with their lines, and nothing written. */
static void test_bad_rows_anywhere_are_all_reported_and_nothing_written(void)
{
	static const long rows[] = {2, 7, BIG - 3, BIG - 1, BIG, 0};
	static const char *const bad[] = {
		"02:00:00:00:00:01,sw-hq-4,Gi1/0/2,2026-11-25T08:00:00Z,snmp",
		"not-a-mac,sw-hq-4,Gi1/0/1,2026-11-25T08:00:00Z,snmp",
		"02:00:00:ff:00:01,sw-nowhere,Gi1/0/1,2026-11-25T08:00:00Z,snmp",
		"02:00:00:ff:00:02,sw-hq-4,Gi1/0/1,2026-13-45T08:00:00Z,snmp",
		"02:00:00:00:00:06,sw-hq-4,Gi1/0/7,2026-11-25T08:00:00Z,snmp",
	};
	const char *f = write_bindings("bad.csv", BIG, rows, bad);
	char *before = th_pg_query1(&pg, "SELECT md5(string_agg(b::text, '|' ORDER BY b::text))"
					 " FROM binding_mac_port b");
	long rss;
	char want[800];

	CHECK(f != NULL);
	CHECK(run_ctl(&rss, "import", "--mac-ports", f, NULL) == 1);
	char *err = ctl_stderr();
	if (!CHECK(err != NULL))
		return;
	/* line = data row + 1 (the header) */
	snprintf(want, sizeof want, "%s:3:1: duplicate binding \"02:00:00:00:00:01 sw-hq-4 "
		 "Gi1/0/2\" (first on line 2)", f);
	CHECKF(strstr(err, want), "no \"%s\" in: %s", want, err);
	snprintf(want, sizeof want, "%s:8:1: ", f);
	CHECKF(strstr(err, want), "no \"%s\" in: %s", want, err);
	snprintf(want, sizeof want, "%s:%d:2: unknown switch \"sw-nowhere\"", f, BIG - 2);
	CHECKF(strstr(err, want), "no \"%s\" in: %s", want, err);
	snprintf(want, sizeof want, "%s:%d:4: ", f, BIG);
	CHECKF(strstr(err, want), "no \"%s\" in: %s", want, err);
	snprintf(want, sizeof want, "%s:%d:1: duplicate binding \"02:00:00:00:00:06 sw-hq-4 "
		 "Gi1/0/7\" (first on line 7)", f, BIG + 1);
	CHECKF(strstr(err, want), "no \"%s\" in: %s", want, err);
	CHECKF(strstr(err, "lisctl: import: 5 errors, nothing written\n"), "%s", err);
	free(err);
	char *after = th_pg_query1(&pg, "SELECT md5(string_agg(b::text, '|' ORDER BY b::text))"
					" FROM binding_mac_port b");
	CHECK_STR(after, before);
	free(before);
	free(after);
}

/* lisctl import ARGS (at most 6) through th_run. */
static void ctl(struct th_proc *p, const char *a1, const char *a2, const char *a3,
		const char *a4, const char *a5, const char *a6)
{
	const char *argv[] = {th_lisctl_path(), "--db", pg.conninfo, "import", a1, a2, a3, a4,
			      a5, a6, NULL};
	th_run(p, (char *const *)argv, NULL, 120);
}

/* Streamed rows keep what row-by-row upserts did: an unchanged row is not rewritten, a
 * binding without first_seen keeps the stored one, --verbose names each row added or
 * changed in file order, and --replace removes what the file lacks. */
static void test_staged_rows_merge_count_list_and_replace(void)
{
	char path[600];
	struct th_proc p;

	snprintf(path, sizeof path, "%s/a.csv", work);
	th_write_file(path, "mac,switch,port,last_seen,first_seen\n"
			    "02:aa:00:00:00:01,sw-hq-4,Gi1/0/1,2026-11-25T08:00:00Z,\n"
			    "02:aa:00:00:00:02,sw-hq-4,Gi1/0/2,2026-11-25T08:00:00Z,"
			    "2026-11-20T08:00:00Z\n"
			    "02:aa:00:00:00:03,sw-hq-4,Gi1/0/3,2026-11-25T08:00:00Z,\n");
	ctl(&p, "--replace", "mac-ports", "--mac-ports", path, NULL, NULL);
	CHECKF(p.status == 0, "%s", p.err);
	char want[120];
	snprintf(want, sizeof want, "imported 3 MAC-port bindings (3 changed, %d removed)\n",
		 BIG);
	CHECK_STR(p.out, want);
	th_proc_free(&p);
	snprintf(path, sizeof path, "%s/b.csv", work);
	th_write_file(path, "mac,switch,port,last_seen\n"
			    "02:aa:00:00:00:04,sw-hq-4,Gi1/0/4,2026-11-26T08:00:00Z\n"
			    "02:aa:00:00:00:02,sw-hq-4,Gi1/0/2,2026-11-26T08:00:00Z\n"
			    "02:aa:00:00:00:01,sw-hq-4,Gi1/0/1,2026-11-25T08:00:00Z\n");
	ctl(&p, "--replace", "mac-ports", "--verbose", "--mac-ports", path, NULL);
	CHECKF(p.status == 0, "%s", p.err);
	CHECK_STR(p.out, "imported 3 MAC-port bindings (2 changed, 1 removed)\n"
			 "MAC-port bindings: added 1, changed 1, removed 1, unchanged 1\n"
			 "  added 02:aa:00:00:00:04 sw-hq-4 Gi1/0/4\n"
			 "  changed 02:aa:00:00:00:02 sw-hq-4 Gi1/0/2\n"
			 "  removed 02:aa:00:00:00:03 sw-hq-4 Gi1/0/3\n");
	th_proc_free(&p);
	char *first = th_pg_query1(&pg, "SELECT string_agg(b.mac::text || ' ' || "
				       "to_char(b.first_seen AT TIME ZONE 'UTC', 'MM-DD') || ' ' || "
				       "to_char(b.last_seen AT TIME ZONE 'UTC', 'MM-DD'), ', ' "
				       "ORDER BY b.mac) FROM binding_mac_port b");
	CHECK_STR(first, "02:aa:00:00:00:01 11-25 11-25, 02:aa:00:00:00:02 11-20 11-26, "
			 "02:aa:00:00:00:04 11-26 11-26");
	free(first);
	ctl(&p, "--mac-ports", path, NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0, "%s", p.err);
	CHECK_STR(p.out, "imported 3 MAC-port bindings (0 changed)\n");
	th_proc_free(&p);
}

/* --replace site:KEY reads the staged rows in the database too: only that site's bindings
 * that the file lacks go. */
static void test_replace_site_removes_only_its_staged_bindings(void)
{
	char path[600];
	struct th_proc p;
	long before = th_pg_count(&pg, "SELECT count(*) FROM binding_mac_port");

	snprintf(path, sizeof path, "%s/br.csv", work);
	th_write_file(path, "mac,switch,port,last_seen\n"
			    "02:cc:00:00:00:01,sw-br,1,2026-11-25T08:00:00Z\n"
			    "02:cc:00:00:00:02,sw-br,2,2026-11-25T08:00:00Z\n");
	ctl(&p, "--mac-ports", path, NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0, "%s", p.err);
	th_proc_free(&p);
	th_write_file(path, "mac,switch,port,last_seen\n"
			    "02:cc:00:00:00:01,sw-br,1,2026-11-25T08:00:00Z\n");
	ctl(&p, "--replace", "site:branch", "--mac-ports", path, NULL, NULL);
	CHECKF(p.status == 0, "%s", p.err);
	CHECK_STR(p.out, "imported 1 MAC-port bindings (0 changed, 1 removed)\n");
	th_proc_free(&p);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM binding_mac_port") == before + 1);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM binding_mac_port"
			       " WHERE mac = '02:cc:00:00:00:01'") == 1);
}

/* A JSON binding file goes through the same staging: its duplicates are found there. */
static void test_json_bindings_are_staged_too(void)
{
	char path[600], want[800];
	struct th_proc p;

	snprintf(path, sizeof path, "%s/dup.json", work);
	th_write_file(path, "[\n"
			    " {\"ip\": \"10.9.0.1\", \"mac\": \"02:bb:00:00:00:01\",\n"
			    "  \"last_seen\": \"2026-11-25T08:00:00Z\"},\n"
			    " {\"ip\": \"10.9.0.1\", \"mac\": \"02-BB-00-00-00-01\",\n"
			    "  \"last_seen\": \"2026-11-25T09:00:00Z\"}\n"
			    "]\n");
	ctl(&p, "--ip-macs", path, NULL, NULL, NULL, NULL);
	CHECK(p.status == 1);
	snprintf(want, sizeof want, "%s:4:3: duplicate binding \"10.9.0.1 02:bb:00:00:00:01\" "
		 "(first on line 2)\nlisctl: import: 1 error, nothing written\n", path);
	CHECK_STR(p.err, want);
	th_proc_free(&p);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM binding_ip_mac") == 0);
}

int main(void)
{
	t_run("setup_postgresql_and_wiremap", test_setup_postgresql_and_wiremap);
	if (!pg_up || !work) {
		t_skip("database cases", "PostgreSQL did not start");
		return t_done();
	}
	t_run("import_peak_memory_is_bounded_and_flat",
	      test_import_peak_memory_is_bounded_and_flat);
	t_run("bad_rows_anywhere_are_all_reported_and_nothing_written",
	      test_bad_rows_anywhere_are_all_reported_and_nothing_written);
	t_run("staged_rows_merge_count_list_and_replace",
	      test_staged_rows_merge_count_list_and_replace);
	t_run("replace_site_removes_only_its_staged_bindings",
	      test_replace_site_removes_only_its_staged_bindings);
	t_run("json_bindings_are_staged_too", test_json_bindings_are_staged_too);
	int rc = t_done();
	th_pg_stop(&pg);
	return rc;
}
