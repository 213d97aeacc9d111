/* lisd's metrics, for the admin listener's /metrics (lis_admin.h): counters the request
 * threads bump with lock-free atomics (answers by result and by evidence source, fallbacks,
 * disagreements, an answer-time histogram, connections, TLS handshakes), and the text of one
 * scrape in the Prometheus text exposition format 0.0.4, with the gauges of the snapshot
 * loader (lis_snapshot.h), the query log (lis_querylog.h) and the notifier (lis_notifier.h)
 * read at scrape time. Every
 * name is listed in lisd(8) METRICS. */
#ifndef LIS_METRICS_H
#define LIS_METRICS_H

#include <stdbool.h>

#include "lis_strbuf.h"

/* Request threads counted one by one in lisd_answers_by_thread_total (the range of
 * [server] threads). */
#define LIS_METRICS_THREADS 256

/* Zero every counter and note the start time (once, before any thread serves). */
void lis_metrics_init(void);

/* One answer (a HELD answer or a dereference): result and source as in the log line
 * (lis_held_outcome's result and source: "located", a HELD error code, or the HTTP status
 * of a GET; "port" ... "site-default", "none"); fallback: located from a subnet or a site
 * default; disagreement: the evidence disagreed about the site; seconds: from the request's
 * headers to the answer. */
void lis_metrics_answer(const char *result, const char *source, bool fallback,
			bool disagreement, double seconds);

/* The HELD listener's connections: accepted (before TLS), closed, and the first request on
 * a connection, which means its TLS handshake completed. */
void lis_metrics_connection_opened(void);
void lis_metrics_connection_closed(void);
void lis_metrics_tls_handshake(void);

/* The whole exposition, appended to b (a growing strbuf; b->cut: out of memory). */
void lis_metrics_render(struct strbuf *b);

#endif
