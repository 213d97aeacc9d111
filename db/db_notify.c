/* The notification outbox's SQL (see db_notify.h and db/migrations/0009_notify.sql). */
#include "db_notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

int db_notify_session(struct db_conn *c, unsigned long window_s, struct lis_error *err)
{
	char w[32];
	snprintf(w, sizeof w, "%lu", window_s);
	const char *const v[] = {w};
	PGresult *res = db_exec(c, "notify: session settings",
				"SELECT set_config('lis.notify_window', $1, false)", 1, v,
				PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	PQclear(res);
	c->notify = true;
	return 0;
}

static const char *outcome_name(enum db_notify_outcome o)
{
	return o == DB_NOTIFY_DELIVERED ? "delivered" : o == DB_NOTIFY_RETRY ? "retry" : "failed";
}

void db_notification_clear(struct db_notification *n)
{
	if (!n)
		return;
	char **s[] = {&n->channel, &n->recipient, &n->target, &n->first_at, &n->last_at,
		      &n->instance, &n->requester_ip, &n->requester_subject, &n->response_time,
		      &n->result, &n->site_key, &n->location_key, &n->address, &n->source,
		      &n->evidence};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		free(*s[i]);
	memset(n, 0, sizeof *n);
}

static const char add_delivery_sql[] =
	"INSERT INTO notify_delivery (notification_id, channel, recipient)"
	" VALUES ($1::bigint, $2, $3) ON CONFLICT DO NOTHING";

int db_notify_plan(struct db_conn *c, size_t limit, db_notify_recipients_fn *fn, void *ctx,
		   size_t *planned, size_t *unaddressed, struct lis_error *err)
{
	char lim[32];
	*planned = *unaddressed = 0;
	snprintf(lim, sizeof lim, "%zu", limit);
	if (db_run(c, "notify: begin planning", "BEGIN", err) < 0)
		return -1;
	const char *const v[] = {lim};
	PGresult *res = db_exec(c, "notify: notifications to plan",
				"SELECT id, site_key FROM notification WHERE NOT planned "
				"ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED", 1, v,
				PGRES_TUPLES_OK, err);
	if (!res)
		goto fail;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *id = PQgetvalue(res, i, 0);
		const char *site = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
		const char *ch[32], *to[32];
		size_t n = fn(ctx, site, ch, to, 32);
		for (size_t k = 0; k < n; k++) {
			const char *const dv[] = {id, ch[k], to[k]};
			PGresult *r = db_exec(c, "notify: add a delivery", add_delivery_sql, 3, dv,
					      PGRES_COMMAND_OK, err);
			if (!r) {
				PQclear(res);
				goto fail;
			}
			PQclear(r);
		}
		const char *const uv[] = {id};
		PGresult *r = db_exec(c, "notify: planned", "UPDATE notification SET planned = true"
				      " WHERE id = $1::bigint", 1, uv, PGRES_COMMAND_OK, err);
		if (!r) {
			PQclear(res);
			goto fail;
		}
		PQclear(r);
		(*planned)++;
		if (n == 0)
			(*unaddressed)++;
	}
	PQclear(res);
	return db_run(c, "notify: commit planning", "COMMIT", err);
fail:
	db_rollback(c);
	return -1;
}

#define ISO(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

int db_notify_claim(struct db_conn *c, struct db_notification *n, struct lis_error *err)
{
	memset(n, 0, sizeof *n);
	if (db_run(c, "notify: begin delivery", "BEGIN", err) < 0)
		return -1;
	PGresult *res = db_exec(c, "notify: claim a delivery",
		"SELECT n.id, d.id, d.channel, d.recipient, d.attempts, n.test, n.target, "
		ISO("n.first_at") ", " ISO("n.window_end") ", 0, n.instance, "
		"host(n.requester_ip), n.requester_subject, n.response_time, n.result, "
		"n.site_key, n.location_key, n.address, n.source, n.evidence "
		"FROM notify_delivery d JOIN notification n ON n.id = d.notification_id "
		"WHERE d.state = 'pending' AND d.next_at <= now() "
		"ORDER BY d.next_at, d.id LIMIT 1 FOR UPDATE OF d SKIP LOCKED",
		0, NULL, PGRES_TUPLES_OK, err);
	if (!res) {
		db_rollback(c);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return db_run(c, "notify: end", "COMMIT", err) < 0 ? -1 : 0;
	}
	char **s[] = {&n->channel, &n->recipient, NULL, NULL, &n->target, &n->first_at,
		      &n->last_at, NULL, &n->instance, &n->requester_ip, &n->requester_subject,
		      &n->response_time, &n->result, &n->site_key, &n->location_key, &n->address,
		      &n->source, &n->evidence};
	bool oom = false;
	for (int k = 0; k < (int)(sizeof s / sizeof s[0]); k++) {
		if (!s[k])
			continue;
		*s[k] = strdup(PQgetvalue(res, 0, k + 2));   /* "" for NULL */
		oom |= !*s[k];
	}
	n->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	n->delivery_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	n->attempts = atoi(PQgetvalue(res, 0, 4));
	n->test = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	PQclear(res);
	if (oom) {
		db_notification_clear(n);
		db_rollback(c);
		return lis_error_set(err, LIS_E_SYSTEM, "notify: out of memory");
	}
	/* The target's emergency queries of the window so far, and the last: opening the window
	 * does not count them (0009_notify.sql). last_at held window_end until now. */
	const char *const cv[] = {n->target, n->test ? "t" : "f", n->first_at, n->last_at};
	res = db_exec(c, "notify: count the queries",
		      "SELECT count(*), " ISO("coalesce(max(at), $3::timestamptz)") " FROM query_log "
		      "WHERE target = $1 AND test = $2::boolean AND kind = 'held' AND response_time "
		      "IN ('emergencyRouting', 'emergencyDispatch') AND at >= $3::timestamptz "
		      "AND at < $4::timestamptz", 4, cv, PGRES_TUPLES_OK, err);
	char *last = res ? strdup(PQgetvalue(res, 0, 1)) : NULL;
	if (!last) {
		PQclear(res);
		db_notification_clear(n);
		db_rollback(c);
		return res ? lis_error_set(err, LIS_E_SYSTEM, "notify: out of memory") : -1;
	}
	n->queries = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	free(n->last_at);
	n->last_at = last;
	return 1;
}

static const char log_sql[] =
	"INSERT INTO notify_log (delivery_id, notification_id, site_key, channel, recipient, "
	"test, outcome, error, sender) VALUES ($1::bigint, $2::bigint, nullif($3, ''), $4, $5, "
	"$6::boolean, $7, $8, $9)";

int db_notify_finish(struct db_conn *c, const struct db_notification *n,
		     enum db_notify_outcome outcome, const char *error, unsigned long retry_s,
		     const char *sender, struct lis_error *err)
{
	char did[32], nid[32], retry[32];
	snprintf(did, sizeof did, "%lld", n->delivery_id);
	snprintf(nid, sizeof nid, "%lld", n->id);
	snprintf(retry, sizeof retry, "%lu", retry_s);
	const char *state = outcome == DB_NOTIFY_DELIVERED ? "delivered"
			    : outcome == DB_NOTIFY_RETRY ? "pending" : "failed";
	const char *const uv[] = {did, state, retry};
	PGresult *res = db_exec(c, "notify: record the attempt",
				"UPDATE notify_delivery SET state = $2, attempts = attempts + 1, "
				"next_at = now() + make_interval(secs => $3::int), "
				"delivered_at = CASE WHEN $2 = 'delivered' THEN now() END "
				"WHERE id = $1::bigint", 3, uv, PGRES_COMMAND_OK, err);
	if (!res)
		goto fail;
	PQclear(res);
	const char *const lv[] = {did, nid, n->site_key, n->channel, n->recipient,
				  n->test ? "t" : "f", outcome_name(outcome), error, sender};
	res = db_exec(c, "notify: log the attempt", log_sql, 9, lv, PGRES_COMMAND_OK, err);
	if (!res)
		goto fail;
	PQclear(res);
	return db_run(c, "notify: commit the attempt", "COMMIT", err);
fail:
	db_rollback(c);
	return -1;
}

void db_notify_release(struct db_conn *c)
{
	db_rollback(c);
}

#define PURGEABLE_NOTIFICATIONS "FROM notification n WHERE n.first_at < $1::timestamptz " \
	"AND NOT EXISTS (SELECT 1 FROM notify_delivery d WHERE d.notification_id = n.id " \
	"AND d.state = 'pending')"

int db_notify_purge(struct db_conn *c, const char *before, bool dry_run, long long *n,
		    struct lis_error *err)
{
	const char *const v[] = {before};
	*n = 0;
	PGresult *res = db_exec(c, "notify: purge", "SELECT to_regclass('notification') IS NULL",
				0, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	bool none = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (none)
		return 0;
	res = db_exec(c, "notify: purge", dry_run ? "SELECT count(*) " PURGEABLE_NOTIFICATIONS
		      : "WITH gone AS (DELETE " PURGEABLE_NOTIFICATIONS " RETURNING 1), "
			"tests AS (DELETE FROM notify_log WHERE delivery_id IS NULL "
			"AND at < $1::timestamptz) SELECT count(*) FROM gone",
		      1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	*n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int db_notify_log_add(struct db_conn *c, const char *site, const char *channel,
		      const char *recipient, bool test, enum db_notify_outcome outcome,
		      const char *error, const char *sender, struct lis_error *err)
{
	const char *const lv[] = {NULL, NULL, site ? site : "", channel, recipient,
				  test ? "t" : "f", outcome_name(outcome), error, sender};
	PGresult *res = db_exec(c, "notify: log the attempt", log_sql, 9, lv, PGRES_COMMAND_OK,
				err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}
