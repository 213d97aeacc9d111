/* The notifier thread (see lis_notifier.h). */
#include "lis_notifier.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "db_notify.h"
#include "lis_log.h"
#include "lis_notify.h"
#include "lis_recipients.h"

/* How often the outbox is looked at when nothing is due. */
#define POLL_MS 200
/* Notifications planned per transaction. */
#define PLAN_BATCH 50
/* Reconnect backoff: 0.5 s doubling to this. */
#define BACKOFF_MAX_MS 10000

static struct {
	bool started, stopping;
	const struct lis_config *cfg;
	struct lis_notify_transport tr;
	struct lis_recipients rs;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_ullong delivered, retries, failed;   /* attempts by outcome, for /metrics */
} N = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* Sleep ms, waking early only to stop; true when stopping. */
static bool pause_ms(long ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	long long ns = until.tv_nsec + (long long)ms * 1000000LL;
	until.tv_sec += (time_t)(ns / 1000000000LL);
	until.tv_nsec = (long)(ns % 1000000000LL);
	pthread_mutex_lock(&N.lock);
	if (!N.stopping)
		pthread_cond_timedwait(&N.cond, &N.lock, &until);
	bool stop = N.stopping;
	pthread_mutex_unlock(&N.lock);
	return stop;
}

static size_t recipients_of(void *ctx, const char *site, const char **channel,
			    const char **recipient, size_t max)
{
	(void)ctx;
	const struct lis_recipient *r[32];
	size_t n = lis_recipients_of(&N.rs, site, r, max < 32 ? max : 32);
	for (size_t i = 0; i < n; i++) {
		channel[i] = lis_channel_name(r[i]->channel);
		recipient[i] = r[i]->address;
	}
	return n;
}

/* The recipient for the log: a webhook URL without its query (it may hold a token). */
static const char *loggable_recipient(const char *r, char *buf, size_t size)
{
	char cut[400];
	snprintf(cut, sizeof cut, "%.*s", (int)strcspn(r, "?#"), r);
	return lis_log_value(buf, size, cut);
}

/* The wait before attempt number `done` + 1: retry_min doubled for each attempt made after
 * the first, at most retry_max. */
static unsigned long backoff_s(int done)
{
	unsigned long s = N.cfg->notify_retry_min;
	for (int i = 1; i < done && s < N.cfg->notify_retry_max; i++)
		s *= 2;
	return s < N.cfg->notify_retry_max ? s : N.cfg->notify_retry_max;
}

/* Deliver the claimed delivery and record the attempt. -1 when the record failed. */
static int deliver(struct db_conn *db, struct db_notification *n)
{
	char why[300], v[300], rv[450];
	int rc = lis_notify_send(&N.tr, n, why, sizeof why);
	int done = n->attempts + 1;
	enum db_notify_outcome o = rc == 0 ? DB_NOTIFY_DELIVERED
				   : done >= (int)N.cfg->notify_attempts ? DB_NOTIFY_FAILED
									 : DB_NOTIFY_RETRY;
	unsigned long retry = o == DB_NOTIFY_RETRY ? backoff_s(done) : 0;
	struct lis_error err = {0};
	int frc = db_notify_finish(db, n, o, rc == 0 ? NULL : why, retry,
				   N.cfg->querylog_instance, &err);
	atomic_fetch_add(o == DB_NOTIFY_DELIVERED ? &N.delivered
			 : o == DB_NOTIFY_RETRY ? &N.retries : &N.failed, 1);
	loggable_recipient(n->recipient, rv, sizeof rv);
	if (o == DB_NOTIFY_DELIVERED)
		lis_log(LIS_LOG_INFO, "notify", "notification=%lld channel=%s recipient=%s "
			"test=%s attempt=%d result=delivered%s", n->id, n->channel, rv,
			n->test ? "yes" : "no", done, frc < 0 ? " recorded=no" : "");
	else
		lis_log(o == DB_NOTIFY_FAILED ? LIS_LOG_ERR : LIS_LOG_WARN, "notify",
			"notification=%lld channel=%s recipient=%s test=%s attempt=%d result=%s "
			"retry_in=%lu reason=%s%s", n->id, n->channel, rv, n->test ? "yes" : "no",
			done, o == DB_NOTIFY_FAILED ? "failed" : "retry", retry,
			lis_log_value(v, sizeof v, why), frc < 0 ? " recorded=no" : "");
	if (frc < 0)
		/* Delivered but not recorded: the delivery is due again once PostgreSQL answers,
		 * and goes out a second time with the same id (Idempotency-Key, Message-ID). */
		lis_log(LIS_LOG_WARN, "notify", "notification=%lld result=unrecorded reason=%s",
			n->id, lis_log_value(v, sizeof v, err.msg));
	return frc;
}

/* Plan what is new, then deliver everything due. -1 when the database failed. */
static int round_trip(struct db_conn *db)
{
	struct lis_error err = {0};
	char v[300];
	size_t planned, unaddressed;
	if (db_notify_plan(db, PLAN_BATCH, recipients_of, NULL, &planned, &unaddressed,
			   &err) < 0) {
		lis_log(LIS_LOG_WARN, "notify", "result=plan_failed reason=%s",
			lis_log_value(v, sizeof v, err.msg));
		return -1;
	}
	if (unaddressed)
		lis_log(LIS_LOG_ERR, "notify", "notifications=%zu result=no_recipient "
			"reason=\"no [notify] recipients rule for their site, nor *\"",
			unaddressed);
	for (;;) {
		pthread_mutex_lock(&N.lock);
		bool stop = N.stopping;
		pthread_mutex_unlock(&N.lock);
		if (stop)
			return 0;
		struct db_notification n;
		int rc = db_notify_claim(db, &n, &err);
		if (rc < 0) {
			lis_log(LIS_LOG_WARN, "notify", "result=claim_failed reason=%s",
				lis_log_value(v, sizeof v, err.msg));
			return -1;
		}
		if (rc == 0)
			return planned == PLAN_BATCH ? round_trip(db) : 0;
		rc = deliver(db, &n);
		db_notification_clear(&n);
		if (rc < 0)
			return -1;
	}
}

static void *notifier_main(void *arg)
{
	(void)arg;
	struct db_conn *db = NULL;
	long backoff = 500;
	bool down_logged = false;
	char v[300];
	for (;;) {
		long wait = POLL_MS;
		if (!db) {
			struct lis_error err = {0};
			db = db_connect(N.cfg->conninfo, &err);
			if (!db) {
				if (!down_logged)
					lis_log(LIS_LOG_WARN, "notify", "db=unreachable reason=%s",
						lis_log_value(v, sizeof v, err.msg));
				down_logged = true;
				wait = backoff;
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
								       : backoff * 2;
			} else if (down_logged) {
				lis_log(LIS_LOG_INFO, "notify", "db=ok");
				down_logged = false;
			}
		}
		if (db) {
			backoff = 500;
			if (round_trip(db) < 0 && !db_is_ok(db)) {
				db_close(db);
				db = NULL;
				down_logged = true;
				lis_log(LIS_LOG_WARN, "notify", "db=unreachable result=waiting");
			}
		}
		if (pause_ms(wait))
			break;
	}
	db_close(db);
	return NULL;
}

int lis_notifier_start(const struct lis_config *cfg, struct lis_error *err)
{
	char why[200];
	if (!cfg->notify_enabled)
		return 0;
	if (lis_conf_check_notify(cfg, err) < 0)
		return -1;
	N.cfg = cfg;
	N.stopping = false;
	if (lis_recipients_parse(cfg->notify_recipients, &N.rs, why, sizeof why) < 0)
		return lis_error_set(err, LIS_E_USAGE, "[notify] recipients: %s", why);
	if (lis_notify_global_init(err) < 0 || lis_notify_transport_init(&N.tr, cfg, err) < 0)
		goto fail;
	if (pthread_create(&N.thread, NULL, notifier_main, NULL) != 0) {
		lis_error_set(err, LIS_E_SYSTEM, "notify: cannot start the notifier thread");
		goto fail;
	}
	N.started = true;
	lis_log(LIS_LOG_INFO, "notify", "recipients=%zu window=%lu attempts=%lu", N.rs.n,
		cfg->notify_window, cfg->notify_attempts);
	return 0;
fail:
	lis_notify_transport_wipe(&N.tr);
	lis_recipients_free(&N.rs);
	return -1;
}

void lis_notifier_get_stats(struct lis_notifier_stats *st)
{
	st->enabled = N.started;
	st->delivered = atomic_load(&N.delivered);
	st->retries = atomic_load(&N.retries);
	st->failed = atomic_load(&N.failed);
}

void lis_notifier_stop(void)
{
	if (!N.started)
		return;
	pthread_mutex_lock(&N.lock);
	N.stopping = true;
	pthread_cond_broadcast(&N.cond);
	pthread_mutex_unlock(&N.lock);
	pthread_join(N.thread, NULL);
	N.started = false;
	lis_notify_transport_wipe(&N.tr);
	lis_recipients_free(&N.rs);
}
