/* The query log's SQL. A batch goes in as one INSERT ... SELECT FROM unnest() of one array
 * parameter per column: one statement text whatever the batch size, and every value still
 * a parameter (array literals are built here, element by element quoted).
 *
 * A batch is new almost always: the writer sends each entry once, and again only after an
 * outage or a crash left it unsure. So it goes in as a plain INSERT first; ON CONFLICT DO
 * NOTHING, which costs PostgreSQL a speculative insertion per row (the plain INSERT of
 * 100,000 rows took 0.48 s, with ON CONFLICT 0.72 s, bench cluster), runs only when the
 * unique key (instance, seq) refused the plain one: the batch holds entries stored before,
 * and goes in again without them. */
#include "db_querylog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_internal.h"

#define INSERT_SQL \
	"INSERT INTO query_log (instance, seq, at, kind, requester_ip, requester_subject, target," \
	" source, evidence, evidence_age_s, location_id, location_key, site_key, address, method," \
	" fallback, disagreement, result, response_time, latency_ms, test)" \
	" SELECT $1, u.* FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::inet[]," \
	" $6::text[], $7::text[], $8::text[], $9::text[], $10::integer[], $11::bigint[]," \
	" $12::text[], $13::text[], $14::text[], $15::text[], $16::boolean[], $17::text[]," \
	" $18::text[], $19::text[], $20::real[], $21::boolean[]) AS u"
static const char insert_sql[] = INSERT_SQL;
static const char insert_again_sql[] = INSERT_SQL " ON CONFLICT (instance, seq) DO NOTHING";
#define N_ARRAYS 20

/* "2026-11-25 08:00:00.123456+00": timestamptz input, exact to the microsecond. */
static void format_at(long long at_us, char *buf, size_t size)
{
	long long s = at_us / 1000000, us = at_us % 1000000;
	if (us < 0) {
		us += 1000000;
		s--;
	}
	time_t t = (time_t)s;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

int db_query_log_insert(struct db_conn *c, const char *instance,
			const struct db_query_log_entry *e, size_t n, size_t *inserted,
			struct lis_error *err)
{
	struct db_array a[N_ARRAYS];
	int rc = -1;

	if (inserted)
		*inserted = 0;
	if (n == 0)
		return 0;
	memset(a, 0, sizeof a);
	for (size_t i = 0; i < n; i++) {
		const struct db_query_log_entry *x = &e[i];
		char at[48], lat[32];
		format_at(x->at_us, at, sizeof at);
		if (x->latency_ms >= 0)
			snprintf(lat, sizeof lat, "%.3f", x->latency_ms);
		db_array_addf(&a[0], "%lld", x->seq);
		db_array_add(&a[1], at);
		db_array_add(&a[2], x->kind);
		db_array_add(&a[3], x->requester_ip);
		db_array_add(&a[4], x->requester_subject);
		db_array_add(&a[5], x->target);
		db_array_add(&a[6], x->source);
		db_array_add(&a[7], x->evidence);
		if (x->evidence_age_s < 0)
			db_array_add(&a[8], NULL);
		else
			db_array_addf(&a[8], "%lld", (long long)x->evidence_age_s);
		if (x->location_id <= 0)
			db_array_add(&a[9], NULL);
		else
			db_array_addf(&a[9], "%lld", (long long)x->location_id);
		db_array_add(&a[10], x->location_key);
		db_array_add(&a[11], x->site_key);
		db_array_add(&a[12], x->address);
		db_array_add(&a[13], x->method);
		db_array_add(&a[14], x->fallback < 0 ? NULL : x->fallback ? "t" : "f");
		db_array_add(&a[15], x->disagreement);
		db_array_add(&a[16], x->result);
		db_array_add(&a[17], x->response_time);
		db_array_add(&a[18], x->latency_ms >= 0 ? lat : NULL);
		db_array_add(&a[19], x->test ? "t" : "f");
	}
	const char *values[1 + N_ARRAYS] = {instance};
	for (size_t k = 0; k < N_ARRAYS; k++) {
		values[1 + k] = db_array_end(&a[k]);
		if (!values[1 + k]) {
			lis_error_set(err, DB_E_QUERY, "query log insert: out of memory");
			goto out;
		}
	}
	if (!db_is_ok(c)) {
		lis_error_set(err, DB_E_CONNECT, "query log insert: not connected");
		goto out;
	}
	PGresult *res = PQexecParams(c->pg, insert_sql, 1 + N_ARRAYS, NULL, values, NULL, NULL,
				     0);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state && strcmp(state, "23505") == 0) {
		PQclear(res);
		res = PQexecParams(c->pg, insert_again_sql, 1 + N_ARRAYS, NULL, values, NULL, NULL,
				   0);
	}
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_set_error(c, res, err, "query log insert");
		PQclear(res);
		goto out;
	}
	if (inserted)
		*inserted = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	rc = 0;
out:
	db_arrays_free(a, N_ARRAYS);
	return rc;
}

int db_query_log_max_seq(struct db_conn *c, const char *instance, long long *seq,
			 struct lis_error *err)
{
	const char *const v[] = {instance};
	PGresult *res = db_exec(c, "query log: highest seq",
				"SELECT coalesce(max(seq), 0) FROM query_log WHERE instance = $1", 1,
				v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	*seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/* What may go: answered before $1, and not its instance's newest entry. */
#define PURGEABLE "FROM query_log q WHERE q.at < $1::timestamptz AND q.seq < " \
	"(SELECT max(m.seq) FROM query_log m WHERE m.instance = q.instance)"
/* Rows per DELETE: each its own transaction, so that lisd's inserts never wait long. */
#define PURGE_BATCH "10000"

int db_query_log_purge(struct db_conn *c, const char *before, bool dry_run, long long *n,
		       struct lis_error *err)
{
	const char *const v[] = {before};
	*n = 0;
	if (dry_run) {
		PGresult *res = db_exec(c, "query log: entries to purge",
					"SELECT count(*) " PURGEABLE, 1, v, PGRES_TUPLES_OK, err);
		if (!res)
			return -1;
		*n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		return 0;
	}
	for (;;) {
		PGresult *res = db_exec(c, "query log: purge",
					"DELETE FROM query_log WHERE (instance, seq) IN "
					"(SELECT q.instance, q.seq " PURGEABLE " LIMIT " PURGE_BATCH ")",
					1, v, PGRES_COMMAND_OK, err);
		if (!res)
			return -1;
		long long k = strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		*n += k;
		if (k == 0)
			return 0;
	}
}
