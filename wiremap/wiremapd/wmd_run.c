#include "wmd_run.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "db_collect.h"
#include "db_lease.h"
#include "lis_log.h"
#include "lis_priv.h"
#include "lis_version.h"
#include "wm_snmp.h"
#include "wmd_metrics.h"
#include "wmd_netlink.h"
#include "wmd_poll.h"
#include "wmd_schedule.h"

/* The schema that brought the collector lease and switch_poll_status.polled_by
 * (db/migrations/0007_collector_lease.sql); the collector's tables came with 0003. */
#define SCHEMA_NEEDED 7
/* Longest sleep between looks at the switch list, so that switches added with lisctl are
 * polled without a SIGHUP. */
#define LIST_REFRESH 60
#define RECONNECT_MAX 60

static volatile sig_atomic_t stop_flag, reload_flag, stop_signal;

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		reload_flag = 1;
	} else {
		stop_signal = sig;
		stop_flag = 1;
	}
}

/* The stop and reload signals are blocked except where the main thread waits (ppoll) or
 * polls switches (wm_snmp_poll watches stop_flag), so that a signal never lands in the
 * middle of a database call and is never missed between a look at the flags and a sleep. */
static sigset_t sig_blocked, sig_waiting;

static void signals_setup(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sig_blocked);
	sigaddset(&sig_blocked, SIGTERM);
	sigaddset(&sig_blocked, SIGINT);
	sigaddset(&sig_blocked, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sig_blocked, &sig_waiting);
	sigdelset(&sig_waiting, SIGTERM);
	sigdelset(&sig_waiting, SIGINT);
	sigdelset(&sig_waiting, SIGHUP);
}

/* Sleep until `deadline` or a signal. */
static void wait_until(time_t deadline)
{
	time_t now = time(NULL);
	if (stop_flag || reload_flag || deadline <= now)
		return;
	struct timespec ts = { .tv_sec = deadline - now };
	ppoll(NULL, 0, &ts, &sig_waiting);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Connect and check that the schema has the collector's tables. */
static struct db_conn *connect_db(const struct wmd_config *cfg, struct lis_error *err)
{
	struct db_conn *db = db_connect(cfg->conninfo, err);
	int version = 0;
	if (!db)
		return NULL;
	if (db_schema_version(db, &version, err) < 0) {
		db_close(db);
		return NULL;
	}
	if (version < SCHEMA_NEEDED) {
		lis_error_set(err, DB_E_SCHEMA, "database schema is version %d, wiremapd needs %d: "
			      "run lisctl db migrate", version, SCHEMA_NEEDED);
		db_close(db);
		return NULL;
	}
	return db;
}

/* When each switch was last attempted by this process: a switch whose result could not be
 * written (database trouble) keeps its old last_attempt in the database and would be due
 * again at once; this keeps it from being polled in a tight loop. Sorted by id. */
struct attempt {
	long long id;
	time_t at;
};
struct attempts {
	struct attempt *v;
	size_t n;
};

static int attempt_cmp(const void *a, const void *b)
{
	const struct attempt *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void attempts_apply(const struct attempts *a, struct db_poll_switch *sw, size_t n)
{
	for (size_t i = 0; i < n && a->n; i++) {
		struct attempt key = { .id = sw[i].id };
		const struct attempt *hit = bsearch(&key, a->v, a->n, sizeof *a->v, attempt_cmp);
		if (hit && hit->at > sw[i].last_attempt)
			sw[i].last_attempt = hit->at;
	}
}

static void attempts_record(struct attempts *a, const struct db_poll_switch *sw,
			    const size_t *idx, size_t k, time_t at)
{
	for (size_t j = 0; j < k; j++) {
		struct attempt key = { .id = sw[idx[j]].id, .at = at };
		struct attempt *hit = a->n ? bsearch(&key, a->v, a->n, sizeof *a->v, attempt_cmp)
					   : NULL;
		if (hit) {
			hit->at = at;
			continue;
		}
		struct attempt *v = realloc(a->v, (a->n + 1) * sizeof *v);
		if (!v)
			return;
		a->v = v;
		a->v[a->n++] = key;
		qsort(a->v, a->n, sizeof *a->v, attempt_cmp);
	}
}

/* [metrics] textfile, when set: a file that cannot be written is logged, and polling goes
 * on. */
static void write_metrics(const struct wmd_config *cfg)
{
	struct lis_error err = { 0 };
	char why[300];
	if (cfg->metrics_textfile[0] && wmd_metrics_write(cfg->metrics_textfile, &err) < 0)
		lis_log(LIS_LOG_WARN, "metrics", "result=failed reason=%s",
			lis_log_value(why, sizeof why, err.msg));
}

/* One look at the switch list: poll the due ones (all of them when `all`) in one batch.
 * *next gets the earliest due time of the rest (0: none). */
static int cycle(struct db_conn *db, const struct wmd_config *cfg, bool all,
		 struct attempts *mem, time_t *next, struct wmd_poll_stats *st,
		 struct lis_error *err)
{
	struct db_poll_switch *sw = NULL;
	size_t n = 0, k = 0;
	int rc = -1;

	*next = 0;
	if (db_collect_switches(db, &sw, &n, err) < 0)
		return -1;
	size_t *idx = calloc(n + 1, sizeof *idx);
	if (!idx) {
		lis_error_set(err, LIS_E_SYSTEM, "out of memory for %zu switches", n);
		goto out;
	}
	if (all) {
		for (size_t i = 0; i < n; i++)
			idx[k++] = i;
	} else {
		struct wmd_schedule_policy policy = {
			.interval = cfg->interval, .jitter = cfg->jitter,
			.max_backoff = cfg->max_backoff,
		};
		attempts_apply(mem, sw, n);
		k = wmd_schedule_select(sw, n, &policy, time(NULL), idx, next);
	}
	rc = 0;
	if (k == 0)
		goto out;

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	time_t started = time(NULL);
	pthread_sigmask(SIG_UNBLOCK, &sig_blocked, NULL);
	rc = wmd_poll(db, cfg, sw, idx, k, &stop_flag, st, err);
	pthread_sigmask(SIG_BLOCK, &sig_blocked, NULL);
	attempts_record(mem, sw, idx, k, started);
	double ms = ms_since(&t0);
	if (rc == 0)
		lis_log(LIS_LOG_INFO, "cycle",
			"switches=%zu due=%zu ok=%zu failed=%zu not_polled=%zu moves=%zu ms=%.0f",
			n, k, st->ok, st->failed, st->not_polled, st->moves, ms);
	wmd_metrics_cycle(ms / 1e3);
	write_metrics(cfg);
	/* Switches may have come due while this batch ran: look again at once. */
	*next = time(NULL);
out:
	free(idx);
	db_collect_switches_free(sw, n);
	return rc;
}

static void log_failure(const char *event, const char *step, const struct lis_error *err)
{
	char why[300];
	lis_log(LIS_LOG_ERR, event, "result=failed step=%s reason=%s", step,
		lis_log_value(why, sizeof why, err->msg));
}

/* [collector] lease (wiremapd(8) LEASE): this process polls only as the leader. Unknown
 * until the first check; with lease off it is always the leader. */
enum role { ROLE_UNKNOWN = 0, ROLE_FOLLOWER, ROLE_LEADER };

/* One log line and the metrics file on every change of role. */
static void set_role(const struct wmd_config *cfg, enum role *role, enum role now,
		     const char *holder, const char *reason)
{
	char inst[200], hv[200], why[300];
	if (*role == now)
		return;
	bool changed = *role == ROLE_LEADER || now == ROLE_LEADER;
	lis_log_value(inst, sizeof inst, cfg->instance);
	lis_log_value(hv, sizeof hv, holder && holder[0] ? holder : "-");
	lis_log_value(why, sizeof why, reason);
	if (now == ROLE_LEADER)
		lis_log(LIS_LOG_INFO, "lease", "result=acquired role=leader instance=%s reason=%s",
			inst, why);
	else if (*role == ROLE_LEADER)
		lis_log(LIS_LOG_WARN, "lease", "result=lost role=follower instance=%s holder=%s "
			"reason=%s", inst, hv, why);
	else
		lis_log(LIS_LOG_INFO, "lease", "result=waiting role=follower instance=%s "
			"holder=%s reason=%s", inst, hv, why);
	*role = now;
	wmd_metrics_leader(now == ROLE_LEADER, changed);
	write_metrics(cfg);
}

/* Take the lease if free, renew this collector's row; the role follows. On a failed check
 * the role stays unless the connection broke (the lock belongs to the session: while the
 * session lives, a leader still holds it, and nobody else can take it). */
static int lease_check(struct db_conn *db, const struct wmd_config *cfg, bool *keepalives,
		       enum role *role, struct lis_error *err)
{
	static char host[256];
	char holder[200];
	bool leader = false;
	if (!host[0] && gethostname(host, sizeof host - 1) < 0)
		snprintf(host, sizeof host, "unknown");
	if (!*keepalives) {
		if (db_lease_session(db, (unsigned)cfg->lease_interval, err) < 0)
			return -1;
		*keepalives = true;
	}
	const struct db_lease_member me = { cfg->instance, host, (long)getpid() };
	if (db_lease_check(db, &me, &leader, holder, sizeof holder, err) < 0) {
		if (!db_is_ok(db) && *role == ROLE_LEADER)
			set_role(cfg, role, ROLE_FOLLOWER, NULL, "database connection lost");
		return -1;
	}
	set_role(cfg, role, leader ? ROLE_LEADER : ROLE_FOLLOWER, holder,
		 leader ? "lock taken" : *role == ROLE_LEADER ? "lock not held" : "held elsewhere");
	return 0;
}

/* [daemon] user as it was applied at start ("-": as started). */
static char running_as[80] = "-";

/* Started as root with [daemon] user: become that user before anything else runs (wiremapd
 * needs nothing of root: no port to bind, no root-only file once the configuration is read;
 * the neighbour table is readable by anyone). */
static int drop_root(const struct wmd_config *cfg, struct lis_error *err)
{
	uid_t uid;
	gid_t gid;
	if (!cfg->user[0] && !cfg->group[0])
		return 0;
	if (!cfg->user[0])
		return lis_error_set(err, LIS_E_USAGE, "[daemon] group needs [daemon] user");
	if (lis_priv_lookup(cfg->user, cfg->group, &uid, &gid, err) < 0 ||
	    lis_priv_drop(uid, gid, err) < 0)
		return -1;
	lis_log_value(running_as, sizeof running_as, cfg->user);
	return 0;
}

static void log_start(const char *event, const struct wmd_config *cfg, const char *file,
		      const char *mode)
{
	char conf[300], names[600];
	size_t o = 0;
	names[0] = '\0';
	for (size_t i = 0; i < cfg->n_profiles && o < sizeof names; i++) {
		int w = snprintf(names + o, sizeof names - o, "%s%s", i ? "," : "",
				 cfg->profiles[i].name[0] ? cfg->profiles[i].name : "default");
		if (w > 0)
			o += (size_t)w;
	}
	char nv[700], inst[200];
	/* Profile names only: never a community, user or password. */
	lis_log(LIS_LOG_INFO, event,
		"version=%s mode=%s config=%s interval=%lu jitter=%.2f concurrency=%lu "
		"timeout_ms=%lu retries=%lu max_backoff=%lu netlink=%s profiles=%s user=%s "
		"lease=%s lease_interval=%lu instance=%s",
		LIS_VERSION, mode, lis_log_value(conf, sizeof conf, file ? file : "-"),
		cfg->interval, cfg->jitter, cfg->concurrency, cfg->timeout_ms, cfg->retries,
		cfg->max_backoff, cfg->netlink_enabled ? "on" : "off",
		lis_log_value(nv, sizeof nv, names), running_as, cfg->lease ? "on" : "off",
		cfg->lease_interval, lis_log_value(inst, sizeof inst, cfg->instance));
	struct stat stt;
	if (file && wmd_config_has_secrets(cfg) && stat(file, &stt) == 0 &&
	    (stt.st_mode & S_IROTH))
		lis_log(LIS_LOG_WARN, "config", "file=%s reason=\"holds SNMP secrets and is "
			"readable by others; chmod 640\"", conf);
}

static int run_once(const struct wmd_config *cfg)
{
	struct lis_error err = { 0 };
	struct wmd_poll_stats st = { 0 };
	struct attempts mem = { 0 };
	time_t next;
	int rc = WMD_EXIT_OK;

	struct db_conn *db = connect_db(cfg, &err);
	if (!db) {
		log_failure("once", "connect", &err);
		return WMD_EXIT_RUNTIME;
	}
	if (cycle(db, cfg, true, &mem, &next, &st, &err) < 0) {
		log_failure("once", "poll", &err);
		rc = WMD_EXIT_RUNTIME;
	} else if (st.failed || st.not_polled) {
		rc = WMD_EXIT_RUNTIME;
	}
	free(mem.v);
	if (cfg->netlink_enabled && !stop_flag) {
		unsigned written = 0;
		if (wmd_netlink_once(db, &written, &err) < 0) {
			log_failure("neighbors", "dump", &err);
			rc = WMD_EXIT_RUNTIME;
		} else {
			lis_log(LIS_LOG_INFO, "neighbors", "result=ok written=%u", written);
		}
	}
	db_close(db);
	lis_log(LIS_LOG_INFO, "stopped", "result=%s ok=%zu failed=%zu",
		rc == WMD_EXIT_OK ? "ok" : "incomplete", st.ok, st.failed + st.not_polled);
	return rc;
}

static struct wmd_netlink *netlink_start(const struct wmd_config *cfg)
{
	struct lis_error err = { 0 };
	if (!cfg->netlink_enabled)
		return NULL;
	/* The thread inherits the blocked stop/reload signals: they reach the main thread. */
	struct wmd_netlink *nl = wmd_netlink_start(cfg, &err);
	if (!nl)
		log_failure("neighbors", "start", &err);
	return nl;
}

/* SIGHUP: read the configuration again (the same file and options). A bad file is logged
 * and the running configuration kept. */
static void reload(struct wmd_config *cfg, const char **file, int argc, char **argv,
		   struct wmd_netlink **nl, struct db_conn **db)
{
	struct wmd_config next;
	struct lis_error err = { 0 };
	enum wmd_action action;
	const char *next_file = NULL;
	FILE *devnull = fopen("/dev/null", "w");

	int rc = wmd_config_load(&next, argc, argv, devnull ? devnull : stderr, &action,
				 &next_file, &err);
	if (devnull)
		fclose(devnull);
	if (rc < 0) {
		wmd_config_free(&next);
		log_failure("reload", "config", &err);
		return;
	}
	/* The neighbour thread logs: it is stopped while the log module is set up again. */
	wmd_netlink_stop(*nl);
	*nl = NULL;
	if (strcmp(next.conninfo, cfg->conninfo) != 0) {
		db_close(*db);
		*db = NULL;
	}
	/* who wiremapd runs as was settled at start */
	bool user_changed = strcmp(next.user, cfg->user) != 0 || strcmp(next.group, cfg->group);
	wmd_config_free(cfg);
	*cfg = next;
	*file = next_file;
	lis_log_init("wiremapd", (enum lis_log_target)cfg->log_target,
		     (enum lis_log_level)cfg->log_level);
	log_start("reload", cfg, *file, "daemon");
	if (user_changed)
		lis_log(LIS_LOG_WARN, "reload", "restart_needed=daemon.user,daemon.group "
			"reason=\"wiremapd changes user only at start\"");
	*nl = netlink_start(cfg);
}

int wmd_run(struct wmd_config *cfg, enum wmd_action action, const char *config_file,
	    int argc, char **argv)
{
	struct wmd_netlink *nl = NULL;
	struct db_conn *db = NULL;
	struct attempts mem = { 0 };
	unsigned backoff = 0;
	int rc = WMD_EXIT_OK;
	enum role role = cfg->lease ? ROLE_UNKNOWN : ROLE_LEADER;
	bool keepalives = false;
	time_t next_cycle = 0;

	signals_setup();
	lis_log_init("wiremapd", (enum lis_log_target)cfg->log_target,
		     (enum lis_log_level)cfg->log_level);
	struct lis_error perr = { 0 };
	if (drop_root(cfg, &perr) < 0) {
		log_failure("start", "user", &perr);
		wmd_config_free(cfg);
		lis_log_close();
		return lis_error_exit_status(&perr);
	}
	log_start("start", cfg, config_file, action == WMD_ACTION_ONCE ? "once" : "daemon");
	wmd_metrics_init();
	/* --once does not take part in the lease: it is the operator's own poll. */
	wmd_metrics_leader(!cfg->lease || action == WMD_ACTION_ONCE, false);
	write_metrics(cfg);

	if (action == WMD_ACTION_ONCE) {
		rc = run_once(cfg);
		goto out;
	}
	/* The neighbour thread runs whatever the role: each host's neighbour table is its own
	 * evidence, which no other collector sees (wiremapd(8) LEASE). */
	nl = netlink_start(cfg);
	while (!stop_flag) {
		struct lis_error err = { 0 };
		if (reload_flag) {
			bool had_lease = cfg->lease;
			reload_flag = 0;
			reload(cfg, &config_file, argc, argv, &nl, &db);
			if (!cfg->lease)
				set_role(cfg, &role, ROLE_LEADER, NULL, "lease off");
			else if (!had_lease)
				role = ROLE_UNKNOWN;
			continue;
		}
		if (db && !db_is_ok(db)) {
			db_close(db);
			db = NULL;
		}
		if (!db) {
			keepalives = false;
			if (role == ROLE_LEADER && cfg->lease)
				set_role(cfg, &role, ROLE_FOLLOWER, NULL, "database connection lost");
			db = connect_db(cfg, &err);
			if (!db) {
				backoff = backoff ? backoff * 2 : 1;
				if (backoff > RECONNECT_MAX)
					backoff = RECONNECT_MAX;
				char why[300];
				lis_log(LIS_LOG_WARN, "database",
					"result=unavailable retry_in=%us reason=%s", backoff,
					lis_log_value(why, sizeof why, err.msg));
				wait_until(time(NULL) + backoff);
				continue;
			}
			if (backoff)
				lis_log(LIS_LOG_INFO, "database", "result=connected");
			backoff = 0;
		}
		time_t now = time(NULL);
		if (cfg->lease) {
			enum role was = role;
			if (lease_check(db, cfg, &keepalives, &role, &err) < 0) {
				log_failure("lease", "check", &err);
				wait_until(now + (time_t)cfg->lease_interval);
				continue;
			}
			if (role != ROLE_LEADER) {
				wait_until(now + (time_t)cfg->lease_interval);
				continue;
			}
			if (was != ROLE_LEADER)
				next_cycle = 0;
		}
		if (now >= next_cycle) {
			struct wmd_poll_stats st = { 0 };
			time_t next = 0;
			if (cycle(db, cfg, false, &mem, &next, &st, &err) < 0) {
				log_failure("cycle", "poll", &err);
				/* A broken connection is seen above; anything else gets a pause. */
				wait_until(now + 5);
				continue;
			}
			next_cycle = now + LIST_REFRESH;
			if (next && next < next_cycle)
				next_cycle = next;
		}
		/* The leader renews the lease between cycles as often as followers look at it. */
		time_t until = next_cycle;
		if (cfg->lease && now + (time_t)cfg->lease_interval < until)
			until = now + (time_t)cfg->lease_interval;
		wait_until(until);
	}
	if (cfg->lease && role == ROLE_LEADER) {
		char inst[200];
		lis_log(LIS_LOG_INFO, "lease", "result=released instance=%s",
			lis_log_value(inst, sizeof inst, cfg->instance));
	}
	if (stop_flag)
		lis_log(LIS_LOG_INFO, "stop", "signal=%s",
			stop_signal == SIGTERM ? "TERM" : "INT");
	wmd_netlink_stop(nl);
	lis_log(LIS_LOG_INFO, "stopped", "result=ok");
out:
	free(mem.v);
	db_close(db);
	wm_snmp_shutdown();
	wmd_metrics_free();
	wmd_config_free(cfg);
	lis_log_close();
	return rc;
}
