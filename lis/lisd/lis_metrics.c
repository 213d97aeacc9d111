/* lisd's counters and their Prometheus text (lis_metrics.h). The request threads only add
 * to atomics (relaxed: a scrape needs no order between counters); the scrape reads them and
 * asks the loader and the query log for their gauges. */
#include "lis_metrics.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "held.h"
#include "lis_conn.h"
#include "lis_prom.h"
#include "lis_notifier.h"
#include "lis_querylog.h"
#include "lis_snapshot.h"
#include "lis_sockopt.h"
#include "lis_version.h"
#include "wm_resolve.h"

/* The results an answer can have, in the words of the log line's result=: located, the
 * HELD error codes (RFC 5985 §8.2, RFC 6155), and the HTTP status of a GET of a location
 * URI answered without a document (lis_held_deref_get()). */
#define N_HELD_ERRORS HELD_E_BAD_IDENTIFIER
static const char *const http_results[] = { "403", "404", "500", "503" };
#define N_HTTP_RESULTS (sizeof http_results / sizeof http_results[0])
/* located, the HELD errors, the HTTP statuses, and one for a result not listed (a bug). */
#define N_RESULTS (1 + N_HELD_ERRORS + N_HTTP_RESULTS + 1)
#define N_SOURCES (WM_SRC_LAST + 1)

/* Upper bounds of the answer-time buckets, seconds: an answer from memory takes well under
 * a millisecond, so the buckets start below Prometheus's default 5 ms. */
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				  0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

static struct {
	atomic_ullong results[N_RESULTS];
	atomic_ullong sources[N_SOURCES];
	atomic_ullong fallbacks, disagreements;
	atomic_ullong hist[N_BUCKETS + 1];    /* not cumulative; the last is above every bound */
	atomic_ullong hist_sum_ns;
	atomic_llong conns_open;
	atomic_ullong conns_total, handshakes;
	atomic_ullong by_thread[LIS_METRICS_THREADS];  /* answers, by request thread */
	atomic_uint n_threads;                         /* request threads that answered */
	long long start_time;
} M;

void lis_metrics_init(void)
{
	memset(&M, 0, sizeof M);
	M.start_time = (long long)time(NULL);
}

/* The index of result in results[]: located, HELD errors by code, HTTP statuses, other. */
static size_t result_index(const char *result)
{
	if (!result)
		return N_RESULTS - 1;
	if (strcmp(result, "located") == 0)
		return 0;
	for (int c = 1; c <= N_HELD_ERRORS; c++)
		if (strcmp(result, held_error_code_name((enum held_error_code)c)) == 0)
			return (size_t)c;
	for (size_t i = 0; i < N_HTTP_RESULTS; i++)
		if (strcmp(result, http_results[i]) == 0)
			return 1 + N_HELD_ERRORS + i;
	return N_RESULTS - 1;
}

static const char *result_name(size_t i)
{
	if (i == 0)
		return "located";
	if (i <= N_HELD_ERRORS)
		return held_error_code_name((enum held_error_code)i);
	if (i < 1 + N_HELD_ERRORS + N_HTTP_RESULTS)
		return http_results[i - 1 - N_HELD_ERRORS];
	return "other";
}

static size_t source_index(const char *source)
{
	for (int s = 1; s < (int)N_SOURCES && source; s++)
		if (strcmp(source, wm_source_name((enum wm_source)s)) == 0)
			return (size_t)s;
	return WM_SRC_NONE;
}

void lis_metrics_answer(const char *result, const char *source, bool fallback,
			bool disagreement, double seconds)
{
	atomic_fetch_add_explicit(&M.results[result_index(result)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&M.sources[source_index(source)], 1, memory_order_relaxed);
	if (fallback)
		atomic_fetch_add_explicit(&M.fallbacks, 1, memory_order_relaxed);
	if (disagreement)
		atomic_fetch_add_explicit(&M.disagreements, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&M.hist[prom_bucket(buckets, N_BUCKETS, seconds)], 1,
				  memory_order_relaxed);
	double ns = seconds > 0 ? seconds * 1e9 : 0;
	atomic_fetch_add_explicit(&M.hist_sum_ns, (unsigned long long)ns, memory_order_relaxed);
	/* this thread's number: the order in which the request threads first answered */
	static _Thread_local unsigned thread = UINT_MAX;
	if (thread == UINT_MAX)
		thread = atomic_fetch_add_explicit(&M.n_threads, 1, memory_order_relaxed);
	if (thread < LIS_METRICS_THREADS)
		atomic_fetch_add_explicit(&M.by_thread[thread], 1, memory_order_relaxed);
}

void lis_metrics_connection_opened(void)
{
	atomic_fetch_add_explicit(&M.conns_open, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&M.conns_total, 1, memory_order_relaxed);
}

void lis_metrics_connection_closed(void)
{
	atomic_fetch_sub_explicit(&M.conns_open, 1, memory_order_relaxed);
}

void lis_metrics_tls_handshake(void)
{
	atomic_fetch_add_explicit(&M.handshakes, 1, memory_order_relaxed);
}

/* ---- the exposition (text format 0.0.4) ---- */

static unsigned long long get(atomic_ullong *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void sample_labelled(struct strbuf *b, const char *name, const char *label,
			    const char *value, unsigned long long v)
{
	strbuf_printf(b, "%s{%s=\"", name, label);
	prom_label_value(b, value);
	strbuf_printf(b, "\"} %llu\n", v);
}

static void render_answers(struct strbuf *b)
{
	prom_family(b, "lisd_answers_total", "counter",
	       "HELD answers and location URI dereferences, by result (as result= in the log).");
	for (size_t i = 0; i < N_RESULTS; i++)
		sample_labelled(b, "lisd_answers_total", "result", result_name(i),
				get(&M.results[i]));
	prom_family(b, "lisd_answers_by_source_total", "counter",
	       "Answers by the evidence that decided the location (none: no location).");
	for (size_t s = 1; s <= N_SOURCES; s++) {
		size_t i = s % N_SOURCES;       /* port ... site-default, then none */
		sample_labelled(b, "lisd_answers_by_source_total", "source",
				wm_source_name((enum wm_source)i), get(&M.sources[i]));
	}
	const struct prom_scalar m[] = {
		{ "lisd_fallbacks_total", "counter", "Located answers from a fallback: the "
		  "subnet's or the site's default location.", (double)get(&M.fallbacks) },
		{ "lisd_disagreements_total", "counter",
		  "Answers whose evidence disagreed about the site.",
		  (double)get(&M.disagreements) },
	};
	prom_scalars(b, m, sizeof m / sizeof m[0]);

	unsigned long long hist[N_BUCKETS + 1];
	for (size_t i = 0; i <= N_BUCKETS; i++)
		hist[i] = get(&M.hist[i]);
	prom_histogram(b, "lisd_answer_duration_seconds",
		       "Time from a request's headers to its answer.", buckets, hist, N_BUCKETS,
		       (double)get(&M.hist_sum_ns) / 1e9);

	prom_family(b, "lisd_answers_by_thread_total", "counter",
	       "Answers by request thread (numbered as they first answered): far apart counts "
	       "mean connections crowd some threads while others idle.");
	unsigned n = atomic_load_explicit(&M.n_threads, memory_order_relaxed);
	for (unsigned i = 0; i < n && i < LIS_METRICS_THREADS; i++) {
		char label[16];
		snprintf(label, sizeof label, "%u", i);
		sample_labelled(b, "lisd_answers_by_thread_total", "thread", label,
				get(&M.by_thread[i]));
	}
}

static void render_snapshot(struct strbuf *b)
{
	struct lis_snapshot_stats st;
	lis_snapshot_get_stats(&st);
	const struct prom_scalar m[] = {
		{ "lisd_snapshot_loaded", "gauge", "1 when a wiremap snapshot is being served.",
		  st.loaded },
		{ "lisd_snapshot_age_seconds", "gauge", "Seconds since the snapshot last matched "
		  "the database; NaN: no snapshot.", st.loaded ? (double)st.age : NAN },
		{ "lisd_snapshot_loads_total", "counter", "Snapshot loads published.",
		  (double)st.reloads },
		{ "lisd_snapshot_deltas_total", "counter",
		  "Changes from the change feed applied to the snapshot in place.",
		  (double)st.deltas },
		{ "lisd_snapshot_load_failures_total", "counter",
		  "Snapshot loads that failed (the snapshot in use was kept).",
		  (double)st.failures },
		{ "lisd_snapshot_last_load_duration_seconds", "gauge",
		  "How long the last published load took.", st.last_load_s },
		{ "lisd_snapshot_last_load_timestamp_seconds", "gauge",
		  "When the last load was published (Unix time); 0: none yet.",
		  (double)st.last_load_at },
		{ "lisd_database_up", "gauge",
		  "1 while the snapshot loader is connected to PostgreSQL.", st.db_up },
	};
	prom_scalars(b, m, sizeof m / sizeof m[0]);

	prom_histogram(b, "lisd_feed_poll_duration_seconds",
		       "How long each look at the change feed took (every 20 ms): its round trips "
		       "to PostgreSQL and the changes it found applied, not a full load it "
		       "started. A change reaches answers within 20 ms of its commit plus one "
		       "look.", lis_feed_poll_buckets, st.feed_polls, LIS_FEED_POLL_BUCKETS,
		       st.feed_poll_sum_s);
}

static void render_querylog(struct strbuf *b)
{
	struct lis_querylog_stats st;
	lis_querylog_get_stats(&st);
	const struct prom_scalar m[] = {
		{ "lisd_querylog_enabled", "gauge", "1 when answers are logged to query_log.",
		  st.enabled },
		{ "lisd_querylog_queue_entries", "gauge",
		  "Query log entries in memory, not yet in the spool.", (double)st.queued },
		{ "lisd_querylog_spool_entries", "gauge",
		  "Query log entries in the spool, not yet committed to PostgreSQL.",
		  (double)st.spooled },
		{ "lisd_querylog_lost_total", "counter",
		  "Query log entries lost because the spool could not be written.",
		  (double)st.lost },
		{ "lisd_querylog_queue_full_total", "counter",
		  "Answers that found the query log queue full and waited for the spool's disk.",
		  (double)st.waited },
	};
	prom_scalars(b, m, sizeof m / sizeof m[0]);
}

static void render_notify(struct strbuf *b)
{
	struct lis_notifier_stats st;
	lis_notifier_get_stats(&st);
	const struct prom_scalar m[] = {
		{ "lisd_notify_enabled", "gauge",
		  "1 when emergency answers are notified ([notify] enabled).", st.enabled },
		{ "lisd_notify_delivered_total", "counter",
		  "Notification deliveries this lisd made that the receiver took.",
		  (double)st.delivered },
		{ "lisd_notify_retries_total", "counter",
		  "Notification delivery attempts that failed and will be tried again.",
		  (double)st.retries },
		{ "lisd_notify_failed_total", "counter",
		  "Notification deliveries given up after [notify] attempts.", (double)st.failed },
	};
	prom_scalars(b, m, sizeof m / sizeof m[0]);
}

static void render_connections(struct strbuf *b)
{
	long long open = atomic_load_explicit(&M.conns_open, memory_order_relaxed);
	const struct prom_scalar m[] = {
		{ "lisd_connections_open", "gauge", "Connections open on the HELD listener.",
		  open > 0 ? (double)open : 0 },
		{ "lisd_connections_total", "counter",
		  "Connections accepted on the HELD listener (before TLS).",
		  (double)get(&M.conns_total) },
		{ "lisd_tls_handshakes_total", "counter", "HELD listener connections whose TLS "
		  "handshake completed and a request arrived.", (double)get(&M.handshakes) },
		{ "lisd_tls_joined_writes_total", "counter", "Answers whose header and body "
		  "left in one write.", (double)lis_conn_coalesced_total() },
		{ "lisd_sockopt_calls_spared_total", "counter", "libmicrohttpd's calls to "
		  "set TCP_NODELAY or TCP_CORK on HELD listener connections, answered without a "
		  "system call.", (double)lis_sockopt_spared_total() },
	};
	prom_scalars(b, m, sizeof m / sizeof m[0]);
}

void lis_metrics_render(struct strbuf *b)
{
	prom_family(b, "lisd_build_info", "gauge", "Always 1; the version in a label.");
	strbuf_puts(b, "lisd_build_info{version=\"");
	prom_label_value(b, LIS_VERSION);
	strbuf_puts(b, "\"} 1\n");
	const struct prom_scalar start = { "lisd_start_time_seconds", "gauge",
				      "When lisd started (Unix time).", (double)M.start_time };
	prom_scalars(b, &start, 1);
	render_answers(b);
	render_snapshot(b);
	render_querylog(b);
	render_notify(b);
	render_connections(b);
}
