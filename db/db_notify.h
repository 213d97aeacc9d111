/* The notification outbox's SQL (db/migrations/0009_notify.sql): the session settings that
 * make the query log's batches open notifications (0016), the planning of their deliveries, the
 * claim of one due delivery under a row lock, and the record of each attempt. */
#ifndef DB_NOTIFY_H
#define DB_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/* On this connection, every emergency query log row db_query_log_insert() stores opens or
 * joins a notification whose window is window_s seconds (lis.notify_window for the session;
 * the insert calls notifications_for() in its transaction, migration 0016). */
int db_notify_session(struct db_conn *c, unsigned long window_s, struct lis_error *err);

/* A delivery claimed, with its notification. Strings are malloc'd ("" for SQL NULL);
 * db_notification_clear() frees them. */
struct db_notification {
	long long id;                 /* the notification's */
	long long delivery_id;        /* 0: not from the outbox (lisctl notify test) */
	char *channel, *recipient;
	int attempts;                 /* before this one */
	bool test;
	char *target, *first_at, *last_at; /* times ISO 8601 UTC "YYYY-MM-DDThh:mm:ss.ffffffZ" */
	int queries;                  /* the target's emergency queries in the window so far
	                               * (query_log, counted at the claim), last_at the last */
	char *instance, *requester_ip, *requester_subject, *response_time, *result;
	char *site_key, *location_key, *address, *source, *evidence;
};
void db_notification_clear(struct db_notification *n);

/* Recipients of a site (NULL: unknown site): fills channel[i], recipient[i] for i < max with
 * strings that live until the next call; returns how many. */
typedef size_t db_notify_recipients_fn(void *ctx, const char *site, const char **channel,
				       const char **recipient, size_t max);

/* Make the deliveries of up to limit notifications not planned yet, each its recipients for
 * its site, in one transaction (rows locked, SKIP LOCKED: two lisd never plan one twice).
 * *planned gets how many notifications; *unaddressed how many had no recipient. */
int db_notify_plan(struct db_conn *c, size_t limit, db_notify_recipients_fn *fn, void *ctx,
		   size_t *planned, size_t *unaddressed, struct lis_error *err);

/* Begin a transaction and lock the most overdue pending delivery (SKIP LOCKED). Returns 1
 * with *n filled and the transaction open (end it with db_notify_finish() or
 * db_notify_release()), 0 when none is due (no transaction left open), -1 on error. */
int db_notify_claim(struct db_conn *c, struct db_notification *n, struct lis_error *err);

enum db_notify_outcome { DB_NOTIFY_DELIVERED, DB_NOTIFY_RETRY, DB_NOTIFY_FAILED };

/* Record the attempt on the claimed delivery n: its state (delivered, pending again in
 * retry_s seconds, failed), attempts + 1, a notify_log row (error: NULL or the reason), and
 * commit. */
int db_notify_finish(struct db_conn *c, const struct db_notification *n,
		     enum db_notify_outcome outcome, const char *error, unsigned long retry_s,
		     const char *sender, struct lis_error *err);
/* Roll the claim back (the delivery stays due). */
void db_notify_release(struct db_conn *c);

/* A notify_log row for an attempt outside the outbox (`lisctl notify test`). */
int db_notify_log_add(struct db_conn *c, const char *site, const char *channel,
		      const char *recipient, bool test, enum db_notify_outcome outcome,
		      const char *error, const char *sender, struct lis_error *err);

/* Retention, with the query log's (`lisctl purge`): delete the notifications opened before
 * `before` (ISO 8601 with its zone) that have no delivery pending, with their deliveries and
 * the log of those (ON DELETE CASCADE), and the log rows of `lisctl notify test` older than
 * that. dry_run: only count. *n gets the number of notifications; 0 on a schema without
 * them (before migration 0009). */
int db_notify_purge(struct db_conn *c, const char *before, bool dry_run, long long *n,
		    struct lis_error *err);

#endif
