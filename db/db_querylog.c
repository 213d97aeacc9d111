/* The query log's SQL. A batch goes in as one INSERT ... SELECT FROM unnest() of one array
 * parameter per column: one statement text whatever the batch size, and every value still
 * a parameter (array literals are built here, element by element quoted). */
#include "db_querylog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_internal.h"

static const char insert_sql[] =
	"INSERT INTO query_log (instance, seq, at, kind, requester_ip, requester_subject, target,"
	" source, evidence, evidence_age_s, location_id, location_key, site_key, address, method,"
	" fallback, disagreement, result, response_time, latency_ms)"
	" SELECT $1, u.* FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::inet[],"
	" $6::text[], $7::text[], $8::text[], $9::text[], $10::integer[], $11::bigint[],"
	" $12::text[], $13::text[], $14::text[], $15::text[], $16::boolean[], $17::text[],"
	" $18::text[], $19::text[], $20::real[]) AS u"
	" ON CONFLICT (instance, seq) DO NOTHING";
#define N_ARRAYS 19

/* A growing text buffer for one array literal. */
struct abuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void ab_put(struct abuf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void ab_sep(struct abuf *b, size_t i)
{
	ab_put(b, i == 0 ? "{" : ",", 1);
}

/* One element of a PostgreSQL array literal: NULL unquoted, anything else double-quoted with
 * " and \ escaped (the array input syntax; this is not SQL). */
static void ab_elem(struct abuf *b, size_t i, const char *v)
{
	ab_sep(b, i);
	if (!v) {
		ab_put(b, "NULL", 4);
		return;
	}
	ab_put(b, "\"", 1);
	for (const char *p = v; *p; ) {
		size_t run = strcspn(p, "\"\\");
		ab_put(b, p, run);
		p += run;
		if (*p) {
			ab_put(b, "\\", 1);
			ab_put(b, p, 1);
			p++;
		}
	}
	ab_put(b, "\"", 1);
}

static void ab_num(struct abuf *b, size_t i, bool null, long long v)
{
	char t[32];
	ab_sep(b, i);
	if (null) {
		ab_put(b, "NULL", 4);
		return;
	}
	int n = snprintf(t, sizeof t, "%lld", v);
	ab_put(b, t, (size_t)n);
}

static void ab_close(struct abuf *b, size_t n)
{
	ab_put(b, n ? "}" : "{}", n ? 1 : 2);
}

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
	struct abuf a[N_ARRAYS];
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
		ab_num(&a[0], i, false, x->seq);
		ab_elem(&a[1], i, at);
		ab_elem(&a[2], i, x->kind);
		ab_elem(&a[3], i, x->requester_ip);
		ab_elem(&a[4], i, x->requester_subject);
		ab_elem(&a[5], i, x->target);
		ab_elem(&a[6], i, x->source);
		ab_elem(&a[7], i, x->evidence);
		ab_num(&a[8], i, x->evidence_age_s < 0, x->evidence_age_s);
		ab_num(&a[9], i, x->location_id <= 0, x->location_id);
		ab_elem(&a[10], i, x->location_key);
		ab_elem(&a[11], i, x->site_key);
		ab_elem(&a[12], i, x->address);
		ab_elem(&a[13], i, x->method);
		ab_elem(&a[14], i, x->fallback < 0 ? NULL : x->fallback ? "t" : "f");
		ab_elem(&a[15], i, x->disagreement);
		ab_elem(&a[16], i, x->result);
		ab_elem(&a[17], i, x->response_time);
		ab_elem(&a[18], i, x->latency_ms >= 0 ? lat : NULL);
	}
	const char *values[1 + N_ARRAYS] = {instance};
	for (size_t k = 0; k < N_ARRAYS; k++) {
		ab_close(&a[k], n);
		if (a[k].oom) {
			lis_error_set(err, DB_E_QUERY, "query log insert: out of memory");
			goto out;
		}
		values[1 + k] = a[k].s;
	}
	PGresult *res = db_exec(c, "query log insert", insert_sql, 1 + N_ARRAYS, values,
				PGRES_COMMAND_OK, err);
	if (!res)
		goto out;
	if (inserted)
		*inserted = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	rc = 0;
out:
	for (size_t k = 0; k < N_ARRAYS; k++)
		free(a[k].s);
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
