/* The query log's SQL. A batch goes in with COPY FROM STDIN, one text line per entry: the
 * cheapest way into PostgreSQL for the server (20,000 entries on the bench cluster: 202-208
 * ms of COPY against 340-404 ms of an INSERT ... SELECT FROM unnest() of one array per
 * column), and no SQL text is built from data (a COPY line is data, its fields escaped).
 *
 * A batch is new almost always: the writer sends each entry once, and again only after an
 * outage or a crash left it unsure. COPY has no ON CONFLICT: when the unique key (instance,
 * seq) refuses it (the batch holds entries stored before), it stores nothing, and the batch
 * goes in again as one INSERT ... SELECT FROM unnest() of one array parameter per column,
 * with ON CONFLICT DO NOTHING, which skips what is stored already.
 *
 * Where the connection opens notifications (db_notify_session()), the batch and the call of
 * notifications_for() with the seqs it stored (all of a COPY, those the INSERT returns) are
 * one transaction: a row is stored and judged together, or neither. */
#include "db_querylog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_internal.h"

#define COLUMNS \
	"instance, seq, at, kind, requester_ip, requester_subject, target, source, evidence," \
	" evidence_age_s, location_id, location_key, site_key, address, method, fallback," \
	" disagreement, result, response_time, latency_ms, test"
static const char copy_sql[] = "COPY query_log (" COLUMNS ") FROM STDIN";
static const char insert_again_sql[] =
	"INSERT INTO query_log (" COLUMNS ")"
	" SELECT $1, u.* FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::inet[],"
	" $6::text[], $7::text[], $8::text[], $9::text[], $10::integer[], $11::bigint[],"
	" $12::text[], $13::text[], $14::text[], $15::text[], $16::boolean[], $17::text[],"
	" $18::text[], $19::text[], $20::real[], $21::boolean[]) AS u"
	" ON CONFLICT (instance, seq) DO NOTHING";
static const char returning_sql[] = " RETURNING seq";

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

/* The text of an entry's values that are not strings already. */
struct entry_text {
	char seq[24], at[48], age[24], loc[24], lat[32];
};

/* The values of entry x, in column order after instance (NULL: SQL NULL); those that are
 * no strings are written into t. */
#define N_VALUES 20
static void entry_values(const struct db_query_log_entry *x, const char *v[N_VALUES],
			 struct entry_text *t)
{
	snprintf(t->seq, sizeof t->seq, "%lld", x->seq);
	format_at(x->at_us, t->at, sizeof t->at);
	snprintf(t->age, sizeof t->age, "%lld", (long long)x->evidence_age_s);
	snprintf(t->loc, sizeof t->loc, "%lld", (long long)x->location_id);
	snprintf(t->lat, sizeof t->lat, "%.3f", x->latency_ms);
	const char *vals[N_VALUES] = {
		t->seq, t->at, x->kind, x->requester_ip, x->requester_subject, x->target, x->source,
		x->evidence, x->evidence_age_s < 0 ? NULL : t->age,
		x->location_id <= 0 ? NULL : t->loc,
		x->location_key, x->site_key, x->address, x->method,
		x->fallback < 0 ? NULL : x->fallback ? "t" : "f", x->disagreement, x->result,
		x->response_time, x->latency_ms >= 0 ? t->lat : NULL, x->test ? "t" : "f"};
	memcpy(v, vals, sizeof vals);
}

/* COPY the batch in. Returns the COPY's result (NULL: out of memory, *oom set, or the
 * connection failed). */
static PGresult *copy_in(struct db_conn *c, const char *instance,
			 const struct db_query_log_entry *e, size_t n, bool *oom)
{
	struct strbuf t = {0};
	for (size_t i = 0; i < n; i++) {
		const char *v[N_VALUES];
		struct entry_text text;
		entry_values(&e[i], v, &text);
		db_copy_field(&t, instance, true);
		for (size_t k = 0; k < N_VALUES; k++)
			db_copy_field(&t, v[k], false);
		strbuf_put(&t, "\n", 1);
	}
	if (t.cut) {
		strbuf_free(&t);
		*oom = true;
		return NULL;
	}
	PGresult *res = PQexec(c->pg, copy_sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		strbuf_free(&t);
		return res;  /* the server refused the COPY itself */
	}
	PQclear(res);
	/* a failed send leaves the connection broken: PQgetResult then says so */
	if (PQputCopyData(c->pg, t.s, (int)t.len) == 1)
		(void)PQputCopyEnd(c->pg, NULL);
	strbuf_free(&t);
	/* the COPY's own result, then NULL; keep the first (its error is the COPY's) */
	res = PQgetResult(c->pg);
	for (PGresult *more; (more = PQgetResult(c->pg));)
		PQclear(more);
	return res;
}

/* The batch again, as one INSERT of arrays with ON CONFLICT DO NOTHING; with returning, the
 * seqs it stored come back as rows. */
static PGresult *insert_again(struct db_conn *c, const char *instance,
			      const struct db_query_log_entry *e, size_t n, bool returning,
			      bool *oom)
{
	struct db_array a[N_VALUES];
	PGresult *res = NULL;
	memset(a, 0, sizeof a);
	for (size_t i = 0; i < n; i++) {
		const char *v[N_VALUES];
		struct entry_text text;
		entry_values(&e[i], v, &text);
		for (size_t k = 0; k < N_VALUES; k++)
			db_array_add(&a[k], v[k]);
	}
	const char *values[1 + N_VALUES] = {instance};
	for (size_t k = 0; k < N_VALUES; k++) {
		values[1 + k] = db_array_end(&a[k]);
		if (!values[1 + k]) {
			*oom = true;
			goto out;
		}
	}
	char sql[sizeof insert_again_sql + sizeof returning_sql];
	snprintf(sql, sizeof sql, "%s%s", insert_again_sql, returning ? returning_sql : "");
	res = PQexecParams(c->pg, sql, 1 + N_VALUES, NULL, values, NULL, NULL, 0);
out:
	db_arrays_free(a, N_VALUES);
	return res;
}

/* notifications_for(instance, the seqs of e[0..n), or of res's rows when res is not NULL)
 * in the open transaction. */
static bool notify_for(struct db_conn *c, const char *instance,
		       const struct db_query_log_entry *e, size_t n, const PGresult *res,
		       struct lis_error *err)
{
	struct db_array seqs = {0};
	if (res)
		for (int i = 0; i < PQntuples(res); i++)
			db_array_add(&seqs, PQgetvalue(res, i, 0));
	else
		for (size_t i = 0; i < n; i++)
			db_array_addf(&seqs, "%lld", e[i].seq);
	const char *const v[] = {instance, db_array_end(&seqs)};
	PGresult *r = NULL;
	if (!v[1])
		lis_error_set(err, DB_E_QUERY, "query log insert: out of memory");
	else
		r = db_exec(c, "query log insert: notifications",
			    "SELECT notifications_for($1, $2::bigint[])", 2, v, PGRES_TUPLES_OK, err);
	db_arrays_free(&seqs, 1);
	PQclear(r);
	return r != NULL;
}

int db_query_log_insert(struct db_conn *c, const char *instance,
			const struct db_query_log_entry *e, size_t n, size_t *inserted,
			struct lis_error *err)
{
	if (inserted)
		*inserted = 0;
	if (n == 0)
		return 0;
	if (!db_is_ok(c))
		return lis_error_set(err, DB_E_CONNECT, "query log insert: not connected");
	bool oom = false, again = false;
	if (c->notify && db_run(c, "query log insert", "BEGIN", err) < 0)
		return -1;
	PGresult *res = copy_in(c, instance, e, n, &oom);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state && strcmp(state, "23505") == 0) {
		PQclear(res);
		res = NULL;
		/* the failed COPY ended the transaction's use: a new one for the INSERT */
		if (c->notify) {
			db_rollback(c);
			if (db_run(c, "query log insert", "BEGIN", err) < 0)
				return -1;
		}
		res = insert_again(c, instance, e, n, c->notify, &oom);
		again = true;
	}
	ExecStatusType want = again && c->notify ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
	if (!res || PQresultStatus(res) != want) {
		if (oom)
			lis_error_set(err, DB_E_QUERY, "query log insert: out of memory");
		else
			db_set_error(c, res, err, "query log insert");
		PQclear(res);
		if (c->notify)
			db_rollback(c);
		return -1;
	}
	size_t stored = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
	if (c->notify) {
		if (!notify_for(c, instance, e, n, again ? res : NULL, err) ||
		    db_run(c, "query log insert", "COMMIT", err) < 0) {
			PQclear(res);
			db_rollback(c);
			return -1;
		}
	}
	if (inserted)
		*inserted = stored;
	PQclear(res);
	return 0;
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
