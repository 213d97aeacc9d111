/* Integration harness (see harness.h). Children are registered as they start; an atexit
 * handler stops them and removes temporary directories, a handler for SIGTERM/SIGINT/SIGHUP
 * (meson's timeout) kills them with async-signal-safe calls only, and every child carries
 * PR_SET_PDEATHSIG so that nothing outlives a test that died by SIGKILL or a sanitizer. */
#include "harness.h"

#include "check.h"
#include "schema.h"

#include <curl/curl.h>
#include <libpq-fe.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- cleanup registry ---- */

#define TH_MAX_CHILDREN 16
#define TH_MAX_DIRS 32

static volatile pid_t child_pid[TH_MAX_CHILDREN];
static volatile int child_sig[TH_MAX_CHILDREN];   /* signal that stops it (SIGTERM, SIGINT) */
static char *tmp_dirs[TH_MAX_DIRS];
static int n_tmp_dirs;
static bool cleanup_installed;
static pid_t owner_pid;

static void child_add(pid_t pid, int sig)
{
	for (int i = 0; i < TH_MAX_CHILDREN; i++)
		if (child_pid[i] == 0) {
			child_sig[i] = sig;
			child_pid[i] = pid;
			return;
		}
}

static void child_del(pid_t pid)
{
	for (int i = 0; i < TH_MAX_CHILDREN; i++)
		if (child_pid[i] == pid)
			child_pid[i] = 0;
}

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for pid at most ms milliseconds; the wait status, or -1 if still running. */
static int wait_ms(pid_t pid, long ms)
{
	double end = now_s() + (double)ms / 1000.0;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return 0;
		if (now_s() > end)
			return -1;
		msleep(10);
	}
}

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

static void cleanup_at_exit(void)
{
	if (getpid() != owner_pid)
		return;
	for (int i = 0; i < TH_MAX_CHILDREN; i++) {
		pid_t pid = child_pid[i];
		if (pid <= 0)
			continue;
		kill(pid, child_sig[i]);
		if (wait_ms(pid, 10000) < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		child_pid[i] = 0;
	}
	if (!getenv("TH_KEEP"))
		for (int i = 0; i < n_tmp_dirs; i++)
			nftw(tmp_dirs[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < n_tmp_dirs; i++)
		free(tmp_dirs[i]);
	n_tmp_dirs = 0;
}

/* Async-signal-safe: only kill(2), signal(2) and raise(3). */
static void on_fatal_signal(int sig)
{
	for (int i = 0; i < TH_MAX_CHILDREN; i++)
		if (child_pid[i] > 0)
			kill(child_pid[i], SIGKILL == child_sig[i] ? SIGKILL : SIGQUIT);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void cleanup_install(void)
{
	if (cleanup_installed)
		return;
	cleanup_installed = true;
	owner_pid = getpid();
	atexit(cleanup_at_exit);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- paths and files ---- */

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

const char *th_lisd_path(void) { return env_or("LIS_LISD", "lisd"); }
const char *th_lisctl_path(void) { return env_or("LIS_LISCTL", "lisctl"); }
const char *th_srcdir(void) { return env_or("LIS_SRCDIR", "."); }

const char *th_src(const char *rel)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof bufs[0], "%s/%s", th_srcdir(), rel);
	return b;
}

char *th_tmpdir(const char *tag)
{
	cleanup_install();
	char tmpl[256];
	snprintf(tmpl, sizeof tmpl, "/tmp/lis-%s-XXXXXX", tag);
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "th_tmpdir: mkdtemp %s: %s\n", tmpl, strerror(errno));
		return NULL;
	}
	char *d = strdup(tmpl);
	if (n_tmp_dirs < TH_MAX_DIRS)
		tmp_dirs[n_tmp_dirs++] = d;
	return d;
}

int th_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	size_t n = strlen(text);
	int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

char *th_read_file(const char *path, size_t *len)
{
	return t_read_file(path, len);
}

/* ---- processes ---- */

struct run_opts {
	uid_t uid;            /* drop to this user (when root) */
	gid_t gid;
	bool drop;
	int pdeath_sig;
	const char *out_path; /* stdout+stderr of a long-running child */
};

/* In the child: become opts->uid, arrange the parent-death signal, exec. Never returns. */
static void child_exec(char *const argv[], char *const env[], const struct run_opts *o,
		       pid_t parent)
{
	if (o->drop) {
		if (setgroups(0, NULL) < 0 || setgid(o->gid) < 0 || setuid(o->uid) < 0) {
			fprintf(stderr, "harness: cannot become uid %u: %s\n", (unsigned)o->uid,
				strerror(errno));
			_exit(126);
		}
	}
	/* After the uid change: a credential change clears the parent-death signal. */
	if (o->pdeath_sig) {
		prctl(PR_SET_PDEATHSIG, o->pdeath_sig);
		if (getppid() != parent)
			_exit(125);
	}
	for (int i = 0; env && env[i]; i++)
		putenv(env[i]);
	execvp(argv[0], argv);
	fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int run_with(struct th_proc *p, char *const argv[], char *const env[], int timeout_s,
		    const struct run_opts *o)
{
	cleanup_install();
	memset(p, 0, sizeof *p);
	p->status = -1;
	char outp[] = "/tmp/lis-run-out-XXXXXX", errp[] = "/tmp/lis-run-err-XXXXXX";
	int fo = mkstemp(outp), fe = mkstemp(errp);
	if (fo < 0 || fe < 0) {
		if (fo >= 0) { close(fo); unlink(outp); }
		if (fe >= 0) { close(fe); unlink(errp); }
		return -1;
	}
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		child_exec(argv, env, o, parent);
	}
	close(fo);
	close(fe);
	if (pid > 0) {
		child_add(pid, SIGKILL);
		int st = wait_ms(pid, (long)timeout_s * 1000);
		if (st == -1) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			p->status = 128 + SIGKILL;
		} else {
			p->status = decode_status(st);
		}
		child_del(pid);
	}
	p->out = th_read_file(outp, NULL);
	p->err = th_read_file(errp, NULL);
	unlink(outp);
	unlink(errp);
	if (!p->out)
		p->out = strdup("");
	if (!p->err)
		p->err = strdup("");
	return pid > 0 ? 0 : -1;
}

int th_run(struct th_proc *p, char *const argv[], char *const env[], int timeout_s)
{
	struct run_opts o = {.pdeath_sig = SIGKILL};
	return run_with(p, argv, env, timeout_s, &o);
}

void th_proc_free(struct th_proc *p)
{
	free(p->out);
	free(p->err);
	p->out = p->err = NULL;
}

/* Start a long-running child with output to a file; returns its pid or -1. */
static pid_t spawn(char *const argv[], const struct run_opts *o, int stop_sig)
{
	cleanup_install();
	int fd = open(o->out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0) {
		fprintf(stderr, "harness: %s: %s\n", o->out_path, strerror(errno));
		return -1;
	}
	if (o->drop && fchown(fd, o->uid, o->gid) < 0)
		fprintf(stderr, "harness: chown %s: %s\n", o->out_path, strerror(errno));
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		child_exec(argv, NULL, o, parent);
	}
	close(fd);
	if (pid > 0)
		child_add(pid, stop_sig);
	return pid;
}

pid_t th_spawn(char *const argv[], const char *out_path)
{
	struct run_opts o = {.pdeath_sig = SIGKILL, .out_path = out_path};
	return spawn(argv, &o, SIGTERM);
}

int th_stop(pid_t pid)
{
	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	int st = wait_ms(pid, 10000);
	if (st == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	child_del(pid);
	return decode_status(st);
}

/* ---- PostgreSQL ---- */

static char pg_bindir[256];

static int find_pg_bindir(void)
{
	if (pg_bindir[0])
		return 0;
	const char *env = getenv("PG_BINDIR");
	if (env && *env) {
		snprintf(pg_bindir, sizeof pg_bindir, "%s", env);
		return 0;
	}
	glob_t g;
	if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		/* the highest major version: compare numerically */
		const char *best = NULL;
		long best_v = -1;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			long v = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);
			if (v > best_v) {
				best_v = v;
				best = g.gl_pathv[i];
			}
		}
		snprintf(pg_bindir, sizeof pg_bindir, "%.*s", (int)(strrchr(best, '/') - best), best);
		globfree(&g);
		return 0;
	}
	fprintf(stderr, "th_pg_start: no PostgreSQL server under /usr/lib/postgresql/*/bin "
		"(install the postgresql package or set PG_BINDIR)\n");
	return -1;
}

static int pg_user(struct run_opts *o)
{
	if (geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam("postgres");
	if (!pw) {
		fprintf(stderr, "th_pg_start: running as root and there is no user postgres\n");
		return -1;
	}
	o->drop = true;
	o->uid = pw->pw_uid;
	o->gid = pw->pw_gid;
	return 0;
}

static int pg_wait_ready(struct th_pg *pg)
{
	char ci[512];
	snprintf(ci, sizeof ci, "host=%s user=postgres dbname=postgres connect_timeout=2", pg->dir);
	double end = now_s() + 60;
	while (now_s() < end) {
		if (PQping(ci) == PQPING_OK)
			return 0;
		int st;
		if (waitpid(pg->pid, &st, WNOHANG) == pg->pid) {
			child_del(pg->pid);
			pg->pid = 0;
			break;
		}
		msleep(50);
	}
	char logp[300];
	snprintf(logp, sizeof logp, "%s/postgres.log", pg->dir);
	char *log = th_read_file(logp, NULL);
	fprintf(stderr, "th_pg_start: PostgreSQL did not come up; its log:\n%s\n", log ? log : "");
	free(log);
	return -1;
}

static int pg_spawn(struct th_pg *pg)
{
	struct run_opts o = {.pdeath_sig = SIGQUIT};
	if (pg_user(&o) < 0)
		return -1;
	char bin[300], data[300], logp[300];
	snprintf(bin, sizeof bin, "%s/postgres", pg_bindir);
	snprintf(data, sizeof data, "%s/data", pg->dir);
	snprintf(logp, sizeof logp, "%s/postgres.log", pg->dir);
	o.out_path = logp;
	char *argv[] = {bin, "-D", data, "-k", pg->dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=40", "-c", "shared_buffers=16MB", NULL};
	/* SIGINT is PostgreSQL's fast shutdown. */
	pg->pid = spawn(argv, &o, SIGINT);
	if (pg->pid < 0) {
		pg->pid = 0;
		return -1;
	}
	return pg_wait_ready(pg);
}

/* A fresh cluster directory (tag names it) the server's user owns; o is set up to run the
 * cluster's tools as that user, bin is PostgreSQL's tool and data the data directory. */
static int pg_new_dir(struct th_pg *pg, const char *tag, struct run_opts *o, const char *tool,
		      char bin[300], char data[300])
{
	memset(pg, 0, sizeof *pg);
	if (find_pg_bindir() < 0)
		return -1;
	char *d = th_tmpdir(tag);
	if (!d)
		return -1;
	snprintf(pg->dir, sizeof pg->dir, "%s", d);
	if (pg_user(o) < 0)
		return -1;
	if (o->drop && chown(pg->dir, o->uid, o->gid) < 0) {
		fprintf(stderr, "harness: chown %s: %s\n", pg->dir, strerror(errno));
		return -1;
	}
	snprintf(bin, 300, "%s/%s", pg_bindir, tool);
	snprintf(data, 300, "%s/data", pg->dir);
	return 0;
}

int th_pg_start(struct th_pg *pg)
{
	struct run_opts o = {.pdeath_sig = SIGKILL};
	char initdb[300], data[300];
	if (pg_new_dir(pg, "pg", &o, "initdb", initdb, data) < 0)
		return -1;
	char *argv[] = {initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
		"--no-locale", "--no-sync", NULL};
	struct th_proc p;
	run_with(&p, argv, NULL, 120, &o);
	if (p.status != 0) {
		fprintf(stderr, "th_pg_start: initdb failed (%d):\n%s%s\n", p.status, p.out, p.err);
		th_proc_free(&p);
		return -1;
	}
	th_proc_free(&p);
	if (pg_spawn(pg) < 0)
		return -1;
	char ci[512];
	snprintf(ci, sizeof ci, "host=%s user=postgres dbname=postgres", pg->dir);
	PGconn *c = PQconnectdb(ci);
	PGresult *r = PQexec(c, "CREATE DATABASE lis");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "th_pg_start: CREATE DATABASE: %s\n", PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	snprintf(pg->conninfo, sizeof pg->conninfo, "host=%s user=postgres dbname=lis", pg->dir);
	return ok ? 0 : -1;
}

int th_pg_stop(struct th_pg *pg)
{
	/* SIGINT is PostgreSQL's fast shutdown. */
	return th_pg_kill(pg, SIGINT);
}

int th_pg_restart(struct th_pg *pg)
{
	th_pg_stop(pg);
	return pg_spawn(pg);
}

int th_pg_standby_start(struct th_pg *primary, struct th_pg *standby, bool sync)
{
	struct run_opts o = {.pdeath_sig = SIGKILL};
	char bin[300], data[300];
	if (pg_new_dir(standby, "pgstandby", &o, "pg_basebackup", bin, data) < 0)
		return -1;
	/* -R writes primary_conninfo (host = the primary's socket) and standby.signal. */
	char *argv[] = {bin, "-D", data, "-R", "-X", "stream", "-c", "fast", "-h", primary->dir,
		"-U", "postgres", "--no-sync", NULL};
	struct th_proc p;
	run_with(&p, argv, NULL, 120, &o);
	if (p.status != 0) {
		fprintf(stderr, "th_pg_standby_start: pg_basebackup failed (%d):\n%s%s\n",
			p.status, p.out, p.err);
		th_proc_free(&p);
		return -1;
	}
	th_proc_free(&p);
	/* After the copy: a standby that inherited synchronous_standby_names would, once
	 * promoted, wait at every commit for a standby it does not have. */
	if (sync && (th_pg_exec(primary, "postgres",
				"ALTER SYSTEM SET synchronous_standby_names = '*'") < 0 ||
		     th_pg_exec(primary, "postgres",
				"ALTER DATABASE lis SET synchronous_commit = on") < 0 ||
		     th_pg_exec(primary, "postgres", "SELECT pg_reload_conf()") < 0))
		return -1;
	if (pg_spawn(standby) < 0)
		return -1;
	snprintf(standby->conninfo, sizeof standby->conninfo, "host=%s user=postgres dbname=lis",
		 standby->dir);
	return 0;
}

struct replayed_ctx {
	const struct th_pg *standby;
	const char *lsn;
};

static bool standby_replayed(void *ctx)
{
	struct replayed_ctx *c = ctx;
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn", c->lsn);
	char *v = th_pg_query1(c->standby, sql);
	bool ok = v && strcmp(v, "t") == 0;
	free(v);
	return ok;
}

bool th_pg_wait_replayed(const struct th_pg *primary, const struct th_pg *standby,
			 double timeout_s)
{
	char *lsn = th_pg_query1(primary, "SELECT pg_current_wal_lsn()");
	if (!lsn)
		return false;
	struct replayed_ctx c = {standby, lsn};
	bool ok = th_wait_until(timeout_s, 50, standby_replayed, &c, NULL);
	free(lsn);
	return ok;
}

static bool accepts_writes(void *ctx)
{
	char *v = th_pg_query1(ctx, "SELECT pg_is_in_recovery()");
	bool ok = v && strcmp(v, "f") == 0;
	free(v);
	return ok;
}

int th_pg_promote(struct th_pg *standby)
{
	char *v = th_pg_query1(standby, "SELECT pg_promote(true, 60)");
	bool ok = v && strcmp(v, "t") == 0;
	free(v);
	if (!ok || !th_wait_until(60, 50, accepts_writes, standby, NULL)) {
		fprintf(stderr, "th_pg_promote: %s was not promoted\n", standby->dir);
		return -1;
	}
	return 0;
}

int th_pg_kill(struct th_pg *pg, int sig)
{
	if (pg->pid <= 0)
		return 0;
	kill(pg->pid, sig);
	int st = wait_ms(pg->pid, 30000);
	if (st == -1) {
		kill(pg->pid, SIGKILL);
		waitpid(pg->pid, &st, 0);
	}
	child_del(pg->pid);
	pg->pid = 0;
	return 0;
}

char *th_pg_query1(const struct th_pg *pg, const char *sql)
{
	PGconn *c = PQconnectdb(pg->conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "th_pg_query1: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PGresult *r = PQexec(c, sql);
	char *v = NULL;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0)
		v = strdup(PQgetvalue(r, 0, 0));
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "th_pg_query1: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return v;
}

int th_pg_exec(const struct th_pg *pg, const char *dbname, const char *sql)
{
	char ci[512];
	snprintf(ci, sizeof ci, "host=%s user=postgres dbname=%s", pg->dir, dbname);
	PGconn *c = PQconnectdb(ci);
	PGresult *r = PQexec(c, sql);
	int st = PQresultStatus(r);
	int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : -1;
	if (rc)
		fprintf(stderr, "th_pg_exec: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}

long th_pg_count(const struct th_pg *pg, const char *sql)
{
	char *v = th_pg_query1(pg, sql);
	long n = v ? strtol(v, NULL, 10) : -1;
	free(v);
	return n;
}

/* ---- TLS ---- */

int th_tls_make(struct th_tls *tls)
{
	memset(tls, 0, sizeof *tls);
	char *d = th_tmpdir("tls");
	if (!d)
		return -1;
	snprintf(tls->dir, sizeof tls->dir, "%s", d);
	snprintf(tls->cert, sizeof tls->cert, "%s/cert.pem", d);
	snprintf(tls->key, sizeof tls->key, "%s/key.pem", d);
	char *argv[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
		"-keyout", tls->key, "-out", tls->cert, "-days", "2", "-subj", "/CN=localhost",
		"-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost", NULL};
	struct th_proc p;
	th_run(&p, argv, NULL, 60);
	int rc = p.status == 0 ? 0 : -1;
	if (rc)
		fprintf(stderr, "th_tls_make: openssl failed (%d): %s\n", p.status, p.err);
	th_proc_free(&p);
	return rc;
}

/* ---- lisd ---- */

int th_free_port(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof ss);
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (fam == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &s4->sin_addr);
		len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		len = sizeof *s6;
	}
	int fd = socket(fam, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&ss, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				: ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return port;
}

char *th_lisd_log(const struct th_lisd *l)
{
	char *s = th_read_file(l->log, NULL);
	return s ? s : strdup("");
}

/* text with "{PORT}" and "{DIR}" replaced (malloc'd; "" for NULL). */
static char *subst_vars(const char *text, int port, const char *dir)
{
	if (!text)
		return strdup("");
	size_t cap = strlen(text) * 2 + 512, n = 0;
	char *out = malloc(cap);
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	for (const char *p = text; *p;) {
		const char *rep = NULL;
		size_t skip = 0;
		if (strncmp(p, "{PORT}", 6) == 0) {
			rep = ps;
			skip = 6;
		} else if (strncmp(p, "{DIR}", 5) == 0) {
			rep = dir;
			skip = 5;
		}
		size_t need = rep ? strlen(rep) : 1;
		if (n + need + 1 > cap) {
			cap = (n + need + 1) * 2;
			out = realloc(out, cap);
		}
		if (rep) {
			memcpy(out + n, rep, need);
			n += need;
			p += skip;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}

int th_lisd_prepare(struct th_lisd *l, const char *listen, const struct th_tls *tls,
		    const char *conninfo, const char *server_extra, const char *extra_sections)
{
	memset(l, 0, sizeof *l);
	char *d = th_tmpdir("lisd");
	if (!d)
		return -1;
	snprintf(l->dir, sizeof l->dir, "%s", d);
	snprintf(l->conf, sizeof l->conf, "%s/lis.conf", d);
	snprintf(l->log, sizeof l->log, "%s/lisd.log", d);
	snprintf(l->listen, sizeof l->listen, "%s", listen);
	l->port = th_free_port(listen);
	if (l->port <= 0) {
		fprintf(stderr, "th_lisd_start: no free port on %s\n", listen);
		return -1;
	}
	bool v6 = strchr(listen, ':') != NULL;
	snprintf(l->base, sizeof l->base, "https://%s%s%s:%d", v6 ? "[" : "", listen,
		 v6 ? "]" : "", l->port);
	snprintf(l->url, sizeof l->url, "%s/held", l->base);

	char *sx = subst_vars(server_extra, l->port, l->dir);
	char *es = subst_vars(extra_sections, l->port, l->dir);
	/* Each lisd its own query log spool (the default one is shared by the whole host),
	 * unless the test sets [querylog] itself. */
	char ql[400] = "";
	if (!strstr(es, "[querylog]"))
		snprintf(ql, sizeof ql, "\n[querylog]\nspool_dir = %s/spool\n", l->dir);
	/* No admin listener (its default port is one per host), unless the test sets [admin]. */
	if (!strstr(es, "[admin]")) {
		size_t n = strlen(ql);
		snprintf(ql + n, sizeof ql - n, "\n[admin]\nport = 0\n");
	}
	char conf[8192];
	snprintf(conf, sizeof conf,
		 "; written by the integration harness\n"
		 "[server]\n"
		 "listen = %s\n"
		 "port = %d\n"
		 "held_path = /held\n"
		 "tls_cert = %s\n"
		 "tls_key = %s\n"
		 "threads = 2\n"
		 "max_body = 4096\n"
		 "%s"
		 "[database]\n"
		 "conninfo = %s connect_timeout=2\n"
		 "[held]\n"
		 "domain = lis.test.invalid\n"
		 "retention = 3600\n"
		 "retransmission_allowed = true\n"
		 "[log]\n"
		 "target = stderr\n"
		 "%s%s",
		 listen, l->port, tls->cert, tls->key, sx, conninfo, es, ql);
	free(sx);
	free(es);
	return th_write_file(l->conf, conf) < 0 ? -1 : 0;
}

int th_lisd_start(struct th_lisd *l, const char *listen, const struct th_tls *tls,
		  const char *conninfo, const char *server_extra, const char *extra_sections)
{
	if (th_lisd_prepare(l, listen, tls, conninfo, server_extra, extra_sections) < 0)
		return -1;
	char *argv[] = {(char *)th_lisd_path(), "-c", l->conf, NULL};
	return th_lisd_run(l, tls, argv);
}

int th_lisd_run(struct th_lisd *l, const struct th_tls *tls, char *const argv[])
{
	struct run_opts o = {.pdeath_sig = SIGTERM, .out_path = l->log};
	l->pid = spawn(argv, &o, SIGTERM);
	if (l->pid < 0) {
		l->pid = 0;
		return -1;
	}
	double end = now_s() + 30;
	while (now_s() < end) {
		int st;
		if (waitpid(l->pid, &st, WNOHANG) == l->pid) {
			child_del(l->pid);
			l->pid = 0;
			char *log = th_lisd_log(l);
			fprintf(stderr, "th_lisd_start: lisd exited (%d) at start-up; log:\n%s\n",
				decode_status(st), log);
			free(log);
			return -1;
		}
		struct th_req rq = {.method = "GET", .url = l->base, .cafile = tls->cert,
			.timeout_ms = 1000};
		struct th_resp rs;
		th_https(&rq, &rs);
		int code = rs.curl_code;
		th_resp_free(&rs);
		if (code == 0)
			return 0;
		msleep(50);
	}
	char *log = th_lisd_log(l);
	fprintf(stderr, "th_lisd_start: lisd did not answer over TLS on %s; log:\n%s\n", l->base,
		log);
	free(log);
	th_lisd_stop(l);
	return -1;
}

int th_lisd_stop(struct th_lisd *l)
{
	if (l->pid <= 0)
		return -1;
	kill(l->pid, SIGTERM);
	int st = wait_ms(l->pid, 15000);
	int rc;
	if (st == -1) {
		fprintf(stderr, "th_lisd_stop: lisd did not stop within 15 s of SIGTERM\n");
		kill(l->pid, SIGKILL);
		waitpid(l->pid, &st, 0);
		rc = 128 + SIGKILL;
	} else {
		rc = decode_status(st);
	}
	child_del(l->pid);
	l->pid = 0;
	return rc;
}

/* ---- HTTPS client ---- */

struct sink {
	char *buf;
	size_t len, cap;
};

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n + 1)
			cap *= 2;
		char *nb = realloc(s->buf, cap);
		if (!nb)
			return 0;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct th_resp *r = ud;
	size_t n = size * nmemb;
	if (n > 6 && strncasecmp(ptr, "Allow:", 6) == 0) {
		const char *v = ptr + 6;
		size_t vl = n - 6;
		while (vl && (*v == ' ' || *v == '\t')) { v++; vl--; }
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
		snprintf(r->allow, sizeof r->allow, "%.*s", (int)vl, v);
	}
	/* a status line starts a response: keep only the last one's headers */
	if (n > 5 && strncmp(ptr, "HTTP/", 5) == 0)
		r->headers[0] = '\0';
	size_t have = strlen(r->headers);
	snprintf(r->headers + have, sizeof r->headers - have, "%.*s", (int)n, ptr);
	return n;
}

/* The one place every HELD and PIDF-LO body from lisd passes through. */
static void check_body(const struct th_req *req, const char *method,
		       const struct th_resp *resp, const char *file, int line)
{
	/* A HEAD answer has the headers of a document and no body (RFC 9110 §9.3.2). */
	if (!schema_media_type(resp->content_type) || strcmp(method, "HEAD") == 0)
		return;
	char what[400];
	snprintf(what, sizeof what, "%s %s: HTTP %ld, %s", method, req->url, resp->status,
		 resp->content_type);
	schema_check_at(resp->body, resp->body_len, what, file, line);
}

int th_https_at(const struct th_req *req, struct th_resp *resp, const char *file, int line)
{
	cleanup_install();
	memset(resp, 0, sizeof *resp);
	CURL *h = curl_easy_init();
	if (!h) {
		resp->curl_code = -1;
		return -1;
	}
	struct sink body = {0};
	struct curl_slist *hdrs = NULL;
	const char *method = req->method ? req->method : "POST";
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");            /* never through a proxy */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : 15000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, req->cafile);
	if (req->tls_min || req->tls_max)
		curl_easy_setopt(h, CURLOPT_SSLVERSION, req->tls_min | req->tls_max);
	if (req->ciphers)
		curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, req->ciphers);
	if (req->client_cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, req->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (req->client_key) {
		curl_easy_setopt(h, CURLOPT_SSLKEY, req->client_key);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	char iface[80];
	if (req->local_addr) {
		snprintf(iface, sizeof iface, "host!%s", req->local_addr);
		curl_easy_setopt(h, CURLOPT_INTERFACE, iface);
	}
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else {
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (req->body || strcmp(method, "POST") == 0) {
			const char *b = req->body ? req->body : "";
			size_t bl = req->body_len ? req->body_len : strlen(b);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bl);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, b);
		}
	}
	char ct[200];
	if (req->content_type) {
		snprintf(ct, sizeof ct, "Content-Type: %s", req->content_type);
		hdrs = curl_slist_append(hdrs, ct);
	} else {
		hdrs = curl_slist_append(hdrs, "Content-Type:");
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	for (const char *const *x = req->headers; x && *x; x++)
		hdrs = curl_slist_append(hdrs, *x);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);

	CURLcode rc = curl_easy_perform(h);
	resp->curl_code = (int)rc;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
		char *t = NULL;
		curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &t);
		if (t)
			snprintf(resp->content_type, sizeof resp->content_type, "%s", t);
	} else if (!resp->errbuf[0]) {
		snprintf(resp->errbuf, sizeof resp->errbuf, "%s", curl_easy_strerror(rc));
	}
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &resp->seconds);
	resp->body = body.buf ? body.buf : strdup("");
	resp->body_len = body.len;
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK)
		check_body(req, method, resp, file, line);
	return rc == CURLE_OK ? 0 : -1;
}

void th_resp_free(struct th_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
}

int th_held_post_cert_at(const struct th_lisd *l, const struct th_tls *tls, const char *xml,
			 const char *local_addr, const struct th_cert *cert,
			 struct th_resp *resp, const char *file, int line)
{
	struct th_req rq = {.method = "POST", .url = l->url, .content_type = "application/held+xml",
		.body = xml, .cafile = tls->cert, .local_addr = local_addr,
		.client_cert = cert ? cert->cert : NULL, .client_key = cert ? cert->key : NULL};
	return th_https_at(&rq, resp, file, line);
}

void th_status_field(pid_t pid, const char *name, char *out, size_t size)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	out[0] = '\0';
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, name, strlen(name)) == 0 && line[strlen(name)] == ':') {
			char *v = line + strlen(name) + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			for (char *p = v; *p; p++)
				if (*p == '\t')
					*p = ' ';
			snprintf(out, size, "%s", v);
		}
	if (f)
		fclose(f);
}

int th_threads_named_at_nice(pid_t pid, const char *name, int nice, int *threads)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	int at = 0, n = 0;
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		char path[400];
		snprintf(path, sizeof path, "%s/%.255s/stat", dir, e->d_name);
		char *st = th_read_file(path, NULL);
		const char *open = st ? strchr(st, '(') : NULL;
		const char *p = st ? strrchr(st, ')') : NULL;
		long level = 0;
		bool named = !name || (open && p && p > open && (size_t)(p - open - 1) == strlen(name) &&
				       memcmp(open + 1, name, strlen(name)) == 0);
		/* after "(comm)": state, then fields 4 to 18, then nice (field 19) */
		if (named && p &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
				  "%*d %ld", &level) == 1) {
			n++;
			at += level == nice;
		}
		free(st);
	}
	if (d)
		closedir(d);
	if (threads)
		*threads = n;
	return at;
}

int th_threads_at_nice(pid_t pid, int nice, int *threads)
{
	return th_threads_named_at_nice(pid, NULL, nice, threads);
}

static size_t th_discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p; (void)ctx;
	return size * n;
}

long th_keepalive_post(void *curl, const struct th_lisd *l, const char *cafile,
		       const char *local_addr, const char *xml, long *connects, int *code)
{
	CURL *h = curl;
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/held+xml");
	curl_easy_setopt(h, CURLOPT_URL, l->url);
	curl_easy_setopt(h, CURLOPT_CAINFO, cafile);
	curl_easy_setopt(h, CURLOPT_INTERFACE, local_addr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, xml);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, th_discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
	long status = 0;
	*connects = -1;
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, connects);
	}
	if (code)
		*code = (int)rc;
	curl_slist_free_all(hd);
	return status;
}

/* ---- client certificates ---- */

static int openssl_run(char *const argv[], const char *what)
{
	struct th_proc p;
	th_run(&p, argv, NULL, 60);
	int rc = p.status == 0 ? 0 : -1;
	if (rc)
		fprintf(stderr, "%s: openssl failed (%d): %s\n", what, p.status, p.err);
	th_proc_free(&p);
	return rc;
}

int th_ca_make(struct th_ca *ca, const char *cn)
{
	memset(ca, 0, sizeof *ca);
	char *d = th_tmpdir("ca");
	if (!d)
		return -1;
	snprintf(ca->dir, sizeof ca->dir, "%s", d);
	snprintf(ca->cert, sizeof ca->cert, "%s/ca.pem", d);
	snprintf(ca->key, sizeof ca->key, "%s/ca-key.pem", d);
	char subj[200];
	snprintf(subj, sizeof subj, "/CN=%s", cn);
	char *argv[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
		"-keyout", ca->key, "-out", ca->cert, "-days", "2", "-subj", subj,
		"-addext", "basicConstraints=critical,CA:TRUE",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL};
	return openssl_run(argv, "th_ca_make");
}

int th_cert_make(const struct th_ca *ca, const char *tag, const char *subj, struct th_cert *out)
{
	memset(out, 0, sizeof *out);
	char csr[320], ext[320];
	snprintf(out->cert, sizeof out->cert, "%s/%s.pem", ca->dir, tag);
	snprintf(out->key, sizeof out->key, "%s/%s-key.pem", ca->dir, tag);
	snprintf(csr, sizeof csr, "%s/%s.csr", ca->dir, tag);
	snprintf(ext, sizeof ext, "%s/%s.ext", ca->dir, tag);
	if (th_write_file(ext, "basicConstraints=CA:FALSE\n"
			  "keyUsage=critical,digitalSignature,keyEncipherment\n"
			  "extendedKeyUsage=clientAuth\n") < 0)
		return -1;
	char *a1[] = {"openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", out->key,
		"-out", csr, "-subj", (char *)subj, NULL};
	if (openssl_run(a1, "th_cert_make (req)") < 0)
		return -1;
	char *a2[] = {"openssl", "x509", "-req", "-in", csr, "-CA", (char *)ca->cert,
		"-CAkey", (char *)ca->key, "-CAcreateserial", "-out", out->cert, "-days", "2",
		"-extfile", ext, NULL};
	return openssl_run(a2, "th_cert_make (sign)");
}

/* ---- lisctl, time, waiting ---- */

int th_lisctl(struct th_proc *p, const char *conninfo, ...)
{
	const char *argv[40];
	int n = 0;
	argv[n++] = th_lisctl_path();
	argv[n++] = "--db";
	argv[n++] = conninfo;
	va_list ap;
	va_start(ap, conninfo);
	const char *a;
	while (n < 39 && (a = va_arg(ap, const char *)) != NULL)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	th_run(p, (char *const *)argv, NULL, 60);
	return p->status;
}

double th_now(void) { return now_s(); }
void th_sleep_ms(long ms) { msleep(ms); }

const char *th_iso8601(time_t t)
{
	static char bufs[8][32];
	static int next;
	char *b = bufs[next++ % 8];
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(b, sizeof bufs[0], "%Y-%m-%dT%H:%M:%SZ", &tm);
	return b;
}

time_t th_parse_datetime(const char *s)
{
	if (!s || !th_is_datetime(s))
		return (time_t)-1;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return (time_t)-1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	const char *z = s + 19;
	if (*z == '.')
		for (z++; isdigit((unsigned char)*z); z++)
			;
	if (*z == '+' || *z == '-') {
		int hh = 0, mm = 0;
		sscanf(z + 1, "%2d:%2d", &hh, &mm);
		long off = (long)hh * 3600 + (long)mm * 60;
		t -= *z == '+' ? off : -off;
	}
	return t;
}

/* "now" or "now-N[smhd]" -> the timestamp; false when cell is not such a token. */
static bool now_token(const char *cell, size_t len, time_t now, const char **out)
{
	if (len < 3 || strncmp(cell, "now", 3) != 0)
		return false;
	if (len == 3) {
		*out = th_iso8601(now);
		return true;
	}
	if (cell[3] != '-')
		return false;
	long v = 0;
	size_t i = 4;
	if (i >= len || !isdigit((unsigned char)cell[i]))
		return false;
	for (; i < len && isdigit((unsigned char)cell[i]); i++)
		v = v * 10 + (cell[i] - '0');
	long mul = 1;
	if (i < len) {
		switch (cell[i]) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return false;
		}
		if (++i != len)
			return false;
	}
	*out = th_iso8601(now - (time_t)(v * mul));
	return true;
}

int th_csv_from_template(const char *tmpl, const char *dst)
{
	char *src = th_read_file(tmpl, NULL);
	if (!src) {
		fprintf(stderr, "th_csv_from_template: cannot read %s\n", tmpl);
		return -1;
	}
	time_t now = time(NULL);
	size_t cap = strlen(src) * 2 + 1024, n = 0;
	char *out = malloc(cap);
	const char *p = src;
	while (*p) {
		/* one cell: up to , or newline (templates use no quoted timestamps) */
		size_t len = strcspn(p, ",\r\n");
		const char *rep = NULL;
		if (!now_token(p, len, now, &rep))
			rep = NULL;
		size_t need = (rep ? strlen(rep) : len) + 2;
		if (n + need + 1 > cap) {
			cap = (n + need + 1) * 2;
			out = realloc(out, cap);
		}
		if (rep) {
			memcpy(out + n, rep, strlen(rep));
			n += strlen(rep);
		} else {
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
		if (*p)
			out[n++] = *p++;
	}
	out[n] = '\0';
	int rc = th_write_file(dst, out);
	free(out);
	free(src);
	return rc;
}

bool th_wait_until(double timeout_s, long poll_ms, bool (*pred)(void *ctx), void *ctx,
		   double *elapsed)
{
	double t0 = now_s();
	for (;;) {
		bool ok = pred(ctx);
		double dt = now_s() - t0;
		if (ok || dt > timeout_s) {
			if (elapsed)
				*elapsed = dt;
			return ok;
		}
		msleep(poll_ms);
	}
}

/* ---- checks ---- */

static bool digits(const char **p, int n)
{
	for (int i = 0; i < n; i++, (*p)++)
		if (!isdigit((unsigned char)**p))
			return false;
	return true;
}

bool th_is_datetime(const char *s)
{
	const char *p = s;
	if (!digits(&p, 4) || *p++ != '-' || !digits(&p, 2) || *p++ != '-' || !digits(&p, 2) ||
	    *p++ != 'T' || !digits(&p, 2) || *p++ != ':' || !digits(&p, 2) || *p++ != ':' ||
	    !digits(&p, 2))
		return false;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z')
		return p[1] == '\0';
	if (*p != '+' && *p != '-')
		return false;
	p++;
	return digits(&p, 2) && *p++ == ':' && digits(&p, 2) && *p == '\0';
}

const char *th_flat(const char *s)
{
	static char bufs[8][1600];
	static int next;
	char *b = bufs[next++ % 8];
	size_t n = 0;
	for (; s && *s && n + 4 < sizeof bufs[0]; s++) {
		if (*s == '\n') {
			if (s[1] == '\0')
				break;
			memcpy(b + n, " | ", 3);
			n += 3;
		} else if (*s != '\r') {
			b[n++] = *s;
		}
	}
	b[n] = '\0';
	return b;
}
