/* lisd run the way deploy/lisd.service runs it, without systemd: the unit's own
 * ExecStartPre= and ExecStart= command lines (read from the unit file, %d the credentials
 * folder), its credentials (configuration, certificate and key copied into a folder of the
 * service user's, mode 0400), and its confinement made by confine.sh: every mount read-only
 * but the state directory (ProtectSystem=strict, StateDirectory=lis), an unprivileged user
 * (User=lis; nobody here), no capability, no new privileges. lisd must check its
 * configuration, start, answer, keep its query-log spool in the state directory and get the
 * entries to PostgreSQL, and stop cleanly. Root only (the suite runs as root in CI). */
#include "check.h"
#include "corr.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct ck_env E;
static struct th_lisd L;
static char state[400], creds[400];
static char *pre_argv[32], *start_argv[32];
static int unit_nice;   /* Nice= (0 without) */
static uid_t nobody_uid;
static gid_t nobody_gid;

/* The unit's line that starts with KEY ("Nice="): what follows it, or NULL. */
static const char *unit_line(const char *unit, const char *key)
{
	const char *at = strstr(unit, key);
	while (at && at != unit && at[-1] != '\n')
		at = strstr(at + 1, key);
	return at ? at + strlen(key) : NULL;
}

/* The words of the unit's "KEY=" line, /usr/sbin/lisd made the build's lisd and %d the
 * credentials folder, after confine.sh STATE nobody -- (and nice -n N first, for the
 * unit's Nice=, which systemd applies before it drops root). 0 on success. */
static int unit_command(const char *unit, const char *key, char *argv[], int max)
{
	const char *at = unit_line(unit, key);
	if (!at)
		return -1;
	char line[1024];
	snprintf(line, sizeof line, "%.*s", (int)strcspn(at, "\n"), at);
	int n = 0;
	if (unit_nice) {
		char level[16];
		snprintf(level, sizeof level, "%d", unit_nice);
		argv[n++] = strdup("nice");
		argv[n++] = strdup("-n");
		argv[n++] = strdup(level);
	}
	argv[n++] = strdup(th_src("tests/integration/confine.sh"));
	argv[n++] = strdup(state);
	argv[n++] = strdup("nobody");
	argv[n++] = strdup("--");
	for (char *save = NULL, *w = strtok_r(line, " ", &save); w && n < max - 1;
	     w = strtok_r(NULL, " ", &save)) {
		char word[600];
		if (strcmp(w, "/usr/sbin/lisd") == 0)
			snprintf(word, sizeof word, "%s", th_lisd_path());
		else if (strncmp(w, "%d/", 3) == 0)
			snprintf(word, sizeof word, "%s/%s", creds, w + 3);
		else
			snprintf(word, sizeof word, "%s", w);
		argv[n++] = strdup(word);
	}
	argv[n] = NULL;
	return 0;
}

/* systemd's LoadCredential=: a copy readable by the service's user only. */
static bool credential(const char *from, const char *name)
{
	char to[600];
	snprintf(to, sizeof to, "%s/%s", creds, name);
	char *t = th_read_file(from, NULL);
	bool ok = t && th_write_file(to, t) == 0 && chown(to, nobody_uid, nobody_gid) == 0 &&
		  chmod(to, 0400) == 0;
	free(t);
	return CHECKF(ok, "credential %s from %s", name, from);
}

static void test_setup_credentials_and_state_directory(void)
{
	struct passwd *pw = getpwnam("nobody");
	if (!CHECK(pw != NULL))
		return;
	nobody_uid = pw->pw_uid;      /* before getpwnam("postgres") reuses *pw */
	nobody_gid = pw->pw_gid;
	if (!ck_db_setup(&E))
		return;
	/* StateDirectory=lis: made by systemd, owned by the service user, 0700 */
	snprintf(state, sizeof state, "%s/state", E.work);
	snprintf(creds, sizeof creds, "%s/credentials", E.work);
	if (!CHECK(mkdir(state, 0700) == 0) || !CHECK(chown(state, nobody_uid, nobody_gid) == 0) ||
	    !CHECK(mkdir(creds, 0500) == 0) || !CHECK(chmod(E.work, 0711) == 0) ||
	    !CHECK(chmod(E.pg.dir, 0711) == 0))
		return;
	char sect[1200];
	snprintf(sect, sizeof sect, "[wiremap]\nmax_binding_age = 86400\n"
		 "[querylog]\nspool_dir = %s/spool\ninstance = unit\nflush_ms = 20\n", state);
	if (!CHECK(th_lisd_prepare(&L, "127.0.0.1", &E.tls, E.pg.conninfo, NULL, sect) == 0))
		return;
	if (!credential(L.conf, "lis.conf") || !credential(E.tls.cert, "tls.crt") ||
	    !credential(E.tls.key, "tls.key") || !CHECK(chown(creds, nobody_uid, nobody_gid) == 0))
		return;
	char *unit = th_read_file(th_src("deploy/lisd.service"), NULL);
	const char *nice = unit ? unit_line(unit, "Nice=") : NULL;
	unit_nice = nice ? atoi(nice) : 0;
	bool ok = CHECK(unit != NULL) &&
		  CHECKF(unit_command(unit, "ExecStartPre=", pre_argv, 32) == 0,
			 "no ExecStartPre= in deploy/lisd.service") &&
		  CHECKF(unit_command(unit, "ExecStart=", start_argv, 32) == 0,
			 "no ExecStart= in deploy/lisd.service");
	free(unit);
	E.up = ok;
}

static void test_exec_start_pre_checks_the_configuration(void)
{
	struct th_proc p;
	th_run(&p, pre_argv, NULL, 60);
	CHECKF(p.status == 0, "exit %d: %s %s", p.status, th_flat(p.out), th_flat(p.err));
	CHECKF(strstr(p.out, "configuration OK") != NULL, "%s", th_flat(p.out));
	th_proc_free(&p);
}

static bool answers_hq_410(void *ctx)
{
	(void)ctx;
	char *w = ck_which(&E, &L, ck_req(NULL, false), "127.0.0.10");
	bool ok = strcmp(w, "hq-410") == 0;
	free(w);
	return ok;
}

static bool rows_logged(void *ctx)
{
	(void)ctx;
	return th_pg_count(&E.pg, "SELECT count(*) FROM query_log WHERE instance = 'unit' AND "
			   "result = 'located'") >= 1;
}

/* The query log's thread named ctx runs 5 levels below the unit's Nice= (it names and
 * lowers itself as it starts, which it may not have reached yet on a busy machine). */
static bool ql_thread_lowered(void *ctx)
{
	int named = 0;
	return th_threads_named_at_nice(L.pid, ctx, unit_nice + 5, &named) == 1 && named == 1;
}

static void test_exec_start_serves_confined(void)
{
	if (!CHECK(th_lisd_run(&L, &E.tls, start_argv) == 0)) {
		ck_log_tail(&L, 2000);
		return;
	}
	/* the wiremap loads in the background: answered once it has */
	CHECKF(th_wait_until(60, 100, answers_hq_410, NULL, NULL), "127.0.0.10 not at hq-410");
	/* the process is lisd itself, as nobody, with nothing to gain */
	char exe[600] = "", uid[128], caps[64], bnd[64], nnp[16];
	char link[64];
	snprintf(link, sizeof link, "/proc/%d/exe", (int)L.pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	CHECKF(strstr(exe, "lisd") != NULL, "pid %d is %s", (int)L.pid, exe);
	th_status_field(L.pid, "Uid", uid, sizeof uid);
	th_status_field(L.pid, "CapEff", caps, sizeof caps);
	th_status_field(L.pid, "CapBnd", bnd, sizeof bnd);
	th_status_field(L.pid, "NoNewPrivs", nnp, sizeof nnp);
	CHECKF(strcmp(uid, "65534 65534 65534 65534") == 0, "Uid: %s", uid);
	CHECKF(strcmp(caps, "0000000000000000") == 0, "CapEff: %s", caps);
	CHECKF(strcmp(bnd, "0000000000000000") == 0, "CapBnd: %s", bnd);
	CHECKF(strcmp(nnp, "1") == 0, "NoNewPrivs: %s", nnp);
	/* at the unit's Nice= level, its request threads 5 below (they have answered) */
	int threads = 0, at_unit = th_threads_at_nice(L.pid, unit_nice, &threads);
	int lowered = th_threads_at_nice(L.pid, unit_nice + 5, NULL);
	CHECKF(at_unit >= 1 && lowered >= 1, "%d threads: %d at nice %d, %d at nice %d", threads,
	       at_unit, unit_nice, lowered, unit_nice + 5);
	/* ... and so do the query log's spooler and inserter, from their start */
	static const char *const ql[] = {"querylog-spool", "querylog-insert"};
	for (size_t i = 0; i < sizeof ql / sizeof *ql; i++) {
		int named = 0, low;
		bool ok = th_wait_until(30, 50, ql_thread_lowered, (void *)ql[i], NULL);
		low = th_threads_named_at_nice(L.pid, ql[i], unit_nice + 5, &named);
		CHECKF(ok, "%s: %d thread(s), %d at nice %d", ql[i], named, low, unit_nice + 5);
	}
	/* its root is read-only, its state directory is not */
	char mi[64];
	snprintf(mi, sizeof mi, "/proc/%d/mountinfo", (int)L.pid);
	char *m = th_read_file(mi, NULL);
	bool root_ro = false, state_rw = false;
	for (char *save = NULL, *line = m ? strtok_r(m, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char mp[512], opts[256];
		if (sscanf(line, "%*s %*s %*s %*s %511s %255s", mp, opts) != 2)
			continue;
		if (strcmp(mp, "/") == 0)
			root_ro = strncmp(opts, "ro", 2) == 0 && (opts[2] == ',' || !opts[2]);
		if (strcmp(mp, state) == 0)
			state_rw = strncmp(opts, "rw", 2) == 0;
	}
	free(m);
	CHECK(root_ro);
	CHECK(state_rw);
	/* the query log went through the spool in the state directory to PostgreSQL */
	CHECKF(th_wait_until(60, 50, rows_logged, NULL, NULL), "no query_log rows from 'unit'");
	char spool[600];
	struct stat st;
	snprintf(spool, sizeof spool, "%s/spool/unit.spool", state);
	CHECKF(stat(spool, &st) == 0 && st.st_uid == nobody_uid, "spool %s", spool);
}

static void test_sigterm_stops_cleanly(void)
{
	CHECK(th_lisd_stop(&L) == 0);
	CHECK(ck_log_has(&L, "stopped", "result=ok", (char *)NULL));
}

int main(void)
{
	if (geteuid() != 0) {
		t_skip("unit_confined", "not root: the unit's confinement cannot be made");
		return t_done();
	}
	struct th_proc p;
	char *probe[] = {(char *)th_src("tests/integration/confine.sh"), "/tmp", "nobody", "--",
		"true", NULL};
	th_run(&p, probe, NULL, 30);
	int probe_status = p.status;
	th_proc_free(&p);
	if (probe_status == 77) {
		t_skip("unit_confined", "no mount namespace here (confine.sh exit 77)");
		return t_done();
	}
	t_run("setup_credentials_and_state_directory", test_setup_credentials_and_state_directory);
	if (!E.up) {
		t_skip("unit cases", "setup failed");
	} else {
		t_run("exec_start_pre_checks_the_configuration",
		      test_exec_start_pre_checks_the_configuration);
		t_run("exec_start_serves_confined", test_exec_start_serves_confined);
		t_run("sigterm_stops_cleanly", test_sigterm_stops_cleanly);
	}
	int rc = t_done();
	for (int i = 0; pre_argv[i]; i++)
		free(pre_argv[i]);
	for (int i = 0; start_argv[i]; i++)
		free(start_argv[i]);
	th_pg_stop(&E.pg);
	return rc;
}
