/* The query log's SQL. A batch goes in with COPY FROM STDIN: the cheapest way into
 * PostgreSQL for the server (20,000 entries on the bench cluster: 202-208 ms of COPY against
 * 340-404 ms of an INSERT ... SELECT FROM unnest() of one array per column), and no SQL text
 * is built from data (a COPY row is data). The rows go in COPY's binary format: the server
 * then neither splits nor unescapes text, nor parses timestamps, addresses and numbers
 * (200,000 rows of the bench's query log with the table's indexes: 983-1073 ms binary
 * against 1153-1252 ms text; under lisd at full speed its inserting backend spent 5% less
 * per answer on the sample, 8-11% less at 1M entries). A batch with a value the binary
 * format cannot carry as the column's type (an address inet_pton does not read, an age
 * beyond integer) goes as text lines instead, for the server to judge as it always did.
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

#include <arpa/inet.h>
#include <stdint.h>
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
static const char copy_binary_sql[] = "COPY query_log (" COLUMNS ") FROM STDIN (FORMAT binary)";
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

/* ------------------------------------------------------------------ binary rows
 * COPY's binary format (PostgreSQL's COPY page, "Binary Format"): a signature, flags and
 * header extension length (both 0); per row the number of fields, then each field's length
 * (-1: NULL) and bytes, in network byte order; -1 as the field count ends the data. Each
 * value is what the type's receive function reads: text as it is (no escaping), bigint and
 * integer as 8 and 4 bytes, boolean as 1, real as the IEEE bits of a float, timestamptz as
 * microseconds since 2000-01-01 UTC, inet as family, bits, is_cidr, length, address. */
static const char copy_signature[11] = "PGCOPY\n\377\r\n";  /* and its closing NUL */

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC). */
#define PG_EPOCH_US (946684800LL * 1000000)
/* PostgreSQL's own address family numbers (utils/inet.h): AF_INET + 0 and + 1. */
#define PGSQL_AF_INET 2
#define PGSQL_AF_INET6 3

static void put_be(struct strbuf *b, uint64_t v, int bytes)
{
	char x[8];
	for (int i = 0; i < bytes; i++)
		x[i] = (char)(v >> (8 * (bytes - 1 - i)));
	strbuf_put(b, x, (size_t)bytes);
}

static void field_null(struct strbuf *b)
{
	put_be(b, UINT32_MAX, 4);
}

static void field_text(struct strbuf *b, const char *s)
{
	if (!s) {
		field_null(b);
		return;
	}
	size_t n = strlen(s);
	put_be(b, n, 4);
	strbuf_put(b, s, n);
}

/* An integer of bytes bytes (8 bigint, 4 integer, 1 boolean), or NULL when !present. */
static void field_int(struct strbuf *b, bool present, long long v, int bytes)
{
	if (!present) {
		field_null(b);
		return;
	}
	put_be(b, (uint64_t)bytes, 4);
	put_be(b, (uint64_t)v, bytes);
}

/* false: not an address inet_pton reads (the text row lets the server judge it) */
static bool field_inet(struct strbuf *b, const char *ip)
{
	unsigned char a[16];
	bool v6 = strchr(ip, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, ip, a) != 1)
		return false;
	unsigned nb = v6 ? 16 : 4;
	put_be(b, 4 + nb, 4);
	const char head[4] = {v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET, (char)(nb * 8), 0, (char)nb};
	strbuf_put(b, head, 4);
	strbuf_put(b, (const char *)a, nb);
	return true;
}

/* The real the text row gives the server: float4in reads "%.3f" with strtof. */
static void field_real(struct strbuf *b, const char *text)
{
	float f = strtof(text, NULL);
	uint32_t bits;
	memcpy(&bits, &f, sizeof bits);
	put_be(b, 4, 4);
	put_be(b, bits, 4);
}

/* The batch as binary rows into t; false when a value cannot be carried in binary (then t
 * holds a part, to be dropped). */
static bool binary_rows(struct strbuf *t, const char *instance,
			const struct db_query_log_entry *e, size_t n)
{
	strbuf_put(t, copy_signature, sizeof copy_signature);
	put_be(t, 0, 4);  /* flags */
	put_be(t, 0, 4);  /* header extension */
	for (size_t i = 0; i < n; i++) {
		const struct db_query_log_entry *x = &e[i];
		if (x->evidence_age_s > INT32_MAX)
			return false;
		put_be(t, 1 + N_VALUES, 2);
		field_text(t, instance);
		field_int(t, true, x->seq, 8);
		field_int(t, true, x->at_us - PG_EPOCH_US, 8);
		field_text(t, x->kind);
		if (!x->requester_ip)
			field_null(t);
		else if (!field_inet(t, x->requester_ip))
			return false;
		field_text(t, x->requester_subject);
		field_text(t, x->target);
		field_text(t, x->source);
		field_text(t, x->evidence);
		field_int(t, x->evidence_age_s >= 0, x->evidence_age_s, 4);
		field_int(t, x->location_id > 0, x->location_id, 8);
		field_text(t, x->location_key);
		field_text(t, x->site_key);
		field_text(t, x->address);
		field_text(t, x->method);
		field_int(t, x->fallback >= 0, x->fallback > 0, 1);
		field_text(t, x->disagreement);
		field_text(t, x->result);
		field_text(t, x->response_time);
		if (x->latency_ms < 0) {
			field_null(t);
		} else {
			char lat[32];
			snprintf(lat, sizeof lat, "%.3f", x->latency_ms);
			field_real(t, lat);
		}
		field_int(t, true, x->test, 1);
	}
	put_be(t, UINT16_MAX, 2);  /* -1: the end */
	return true;
}

/* The batch as text lines into t. */
static void text_rows(struct strbuf *t, const char *instance,
		      const struct db_query_log_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v[N_VALUES];
		struct entry_text text;
		entry_values(&e[i], v, &text);
		db_copy_field(t, instance, true);
		for (size_t k = 0; k < N_VALUES; k++)
			db_copy_field(t, v[k], false);
		strbuf_put(t, "\n", 1);
	}
}

/* COPY the batch in, binary rows when they can carry it. Returns the COPY's result (NULL:
 * out of memory, *oom set, or the connection failed). */
static PGresult *copy_in(struct db_conn *c, const char *instance,
			 const struct db_query_log_entry *e, size_t n, bool *oom)
{
	struct strbuf t = {0};
	bool binary = binary_rows(&t, instance, e, n);
	if (!binary) {
		strbuf_free(&t);
		t = (struct strbuf){0};
		text_rows(&t, instance, e, n);
	}
	if (t.cut) {
		strbuf_free(&t);
		*oom = true;
		return NULL;
	}
	PGresult *res = PQexec(c->pg, binary ? copy_binary_sql : copy_sql);
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
