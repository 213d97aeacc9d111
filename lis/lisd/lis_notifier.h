/* The notifier thread (lisd(8) NOTIFICATIONS): delivers the notifications that the query
 * log's rows of emergency answers open in PostgreSQL (db/migrations/0009_notify.sql). It
 * plans each notification's deliveries (the [notify] recipients of its site), then sends
 * every due delivery through lis/notify's channels, one at a time under a row lock, and
 * records each attempt; a failed one is tried again after a backoff doubling from retry_min
 * to retry_max, at most `attempts` times. Request threads never call it: the query log entry
 * of the answer is all a request does. */
#ifndef LIS_NOTIFIER_H
#define LIS_NOTIFIER_H

#include "lis_config.h"
#include "lis_error.h"

/* Check the [notify] keys together, read the webhook secret, start the thread. Does nothing
 * when [notify] enabled = false. Call before privileges are dropped. */
int lis_notifier_start(const struct lis_config *cfg, struct lis_error *err);
/* For /metrics (lisd(8) METRICS): attempts by outcome since start. */
struct lis_notifier_stats {
	bool enabled;
	unsigned long long delivered, retries, failed;
};
void lis_notifier_get_stats(struct lis_notifier_stats *st);

/* Stop the thread (an attempt under way ends first, at most [notify] timeout) and wipe the
 * secret. */
void lis_notifier_stop(void);

#endif
