/* The query log's SQL (table query_log, db/migrations/0004_query_log.sql): batch insert of
 * entries that may have been sent before, where an instance's numbering stands, and the
 * purge of old entries. */
#ifndef DB_QUERYLOG_H
#define DB_QUERYLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/* One entry, as lisd's writer has it. Strings are borrowed; NULL = SQL NULL. */
struct db_query_log_entry {
	long long seq;                /* > 0; unique per instance */
	long long at_us;              /* when answered: microseconds since the epoch (UTC) */
	const char *kind;             /* "held", "deref_get", "deref_post" */
	const char *requester_ip;     /* an IPv4 or IPv6 address, or NULL */
	const char *requester_subject;
	const char *target;
	const char *source;
	const char *evidence;
	long long evidence_age_s;     /* < 0: NULL */
	long long location_id;        /* <= 0: NULL */
	const char *location_key, *site_key, *address, *method;
	int fallback;                 /* 1, 0, or < 0 for NULL */
	const char *disagreement;
	const char *result;           /* required */
	const char *response_time;
	double latency_ms;            /* < 0: NULL */
	bool test;                    /* a test-mode request (lis.conf(5) [test]) */
};

/* Insert n entries of one instance in one statement (COPY). An entry whose (instance, seq)
 * is already stored is skipped (the batch goes in again as INSERT ... ON CONFLICT DO NOTHING
 * when the COPY meets one): sending a batch again is harmless.
 * *inserted (may be NULL) gets the number of new rows. On failure nothing is inserted;
 * err->code DB_E_CONNECT means try again later, DB_E_INPUT that the server refused a value
 * of one of these entries. */
int db_query_log_insert(struct db_conn *c, const char *instance,
			const struct db_query_log_entry *e, size_t n, size_t *inserted,
			struct lis_error *err);

/* The highest seq stored for instance (0 when none). */
int db_query_log_max_seq(struct db_conn *c, const char *instance, long long *seq,
			 struct lis_error *err);

/* Query-log retention: delete the entries answered before `before` (an ISO 8601 timestamp
 * with its zone), in batches of their own transactions, never an instance's newest entry (so
 * that its numbering goes on). dry_run: only count them. *n gets the number. */
int db_query_log_purge(struct db_conn *c, const char *before, bool dry_run, long long *n,
		       struct lis_error *err);

#endif
