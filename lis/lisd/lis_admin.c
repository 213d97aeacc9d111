/* The admin listener (lis_admin.h): /healthz, /readyz and /metrics for load balancers,
 * orchestrators and Prometheus. HTTPS like the HELD listener (lisd speaks nothing else), with
 * the same certificate, key and priorities; no client certificate is asked for. Its own
 * libmicrohttpd daemon with one thread, so that a slow scraper never takes a HELD worker and a
 * flood of HELD requests never hides the health of lisd. */
#include "lis_admin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "lis_http.h"
#include "lis_log.h"
#include "lis_tls.h"
#include "lis_metrics.h"
#include "lis_prom.h"
#include "lis_snapshot.h"
#include "lis_strbuf.h"

/* Scrapers and probes are few: a handful of connections, short idle time, small buffers. */
#define ADMIN_CONNECTION_LIMIT 32
#define ADMIN_TIMEOUT_S 10
#define ADMIN_MEMORY_LIMIT (32 * 1024)

struct lis_admin {
	struct MHD_Daemon *mhd;
	atomic_bool starting;         /* MHD_start_daemon() is running: keep its last message */
	char start_msg[256];
};

enum page { PAGE_NONE, PAGE_HEALTHZ, PAGE_READYZ, PAGE_METRICS };

static enum page page_of(const char *url)
{
	if (strcmp(url, "/healthz") == 0)
		return PAGE_HEALTHZ;
	if (strcmp(url, "/readyz") == 0)
		return PAGE_READYZ;
	if (strcmp(url, "/metrics") == 0)
		return PAGE_METRICS;
	return PAGE_NONE;
}

/* Queue a body of n bytes (copied) with status and type; allow is an Allow header or NULL. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
			      const char *body, size_t n, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)body,
								  MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status,
				   const char *text, const char *allow)
{
	return answer(conn, status, "text/plain; charset=utf-8", text, strlen(text), allow);
}

static atomic_bool draining;

void lis_admin_set_draining(void)
{
	atomic_store(&draining, true);
}

/* Ready when a snapshot is loaded: lisd answers from memory, so it stays ready while
 * PostgreSQL is away (the body and lisd_database_up say so; lisd_snapshot_age_seconds
 * grows). Before the first load every HELD answer would be generalLisError: 503. While
 * stopping ([server] drain), 503 too, so that balancers send new connections elsewhere. */
static enum MHD_Result answer_readyz(struct MHD_Connection *conn)
{
	struct lis_snapshot_stats st;
	char text[160];
	lis_snapshot_get_stats(&st);
	if (atomic_load(&draining))
		return answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "not ready: stopping, draining connections\n", NULL);
	if (st.loaded)
		snprintf(text, sizeof text, "ready snapshot_age=%ld database=%s\n", st.age,
			 st.db_up ? "up" : "down");
	else
		snprintf(text, sizeof text,
			 "not ready: no wiremap snapshot loaded yet database=%s\n",
			 st.db_up ? "up" : "down");
	return answer_text(conn, st.loaded ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, text,
			   NULL);
}

static enum MHD_Result answer_metrics(struct MHD_Connection *conn)
{
	struct strbuf b = { 0 };
	lis_metrics_render(&b);
	if (b.cut || !b.s) {
		strbuf_free(&b);
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	}
	enum MHD_Result ret = answer(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE, b.s, b.len,
				     NULL);
	strbuf_free(&b);
	return ret;
}

/* A request with a body (Content-Length other than 0, or Transfer-Encoding): none of ours. */
static bool has_body(struct MHD_Connection *conn)
{
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	return te || (cl && cl[strspn(cl, "0")] != '\0');
}

/* Unknown path 404, then a method other than GET or HEAD 405. A request without a body is
 * answered once it is complete, so that the connection stays open for the next scrape; one
 * with a body at once (libmicrohttpd then closes the connection rather than read it). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	static int in;                /* *con_cls once the headers were seen */
	(void)cls; (void)version; (void)upload_data;
	if (!*con_cls && !has_body(conn)) {
		*con_cls = &in;
		return MHD_YES;
	}
	*upload_data_size = 0;
	enum page p = page_of(url);
	char m[40], u[300];
	lis_log(LIS_LOG_DEBUG, "admin", "method=%s path=%s", lis_log_value(m, sizeof m, method),
		lis_log_value(u, sizeof u, url));
	if (p == PAGE_NONE)
		return answer_text(conn, MHD_HTTP_NOT_FOUND, "not found: the admin listener serves "
				   "/healthz, /readyz and /metrics\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "method not allowed: use GET\n", "GET, HEAD");
	switch (p) {
	case PAGE_HEALTHZ:
		return answer_text(conn, MHD_HTTP_OK, "ok\n", NULL);
	case PAGE_READYZ:
		return answer_readyz(conn);
	default:
		return answer_metrics(conn);
	}
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct lis_admin *a = cls;
	lis_http_mhd_message("admin", a->starting, a->start_msg, sizeof a->start_msg, fmt, ap);
}

int lis_admin_start(const struct lis_config *cfg, struct lis_admin **out,
		    struct lis_error *err)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG;

	*out = NULL;
	if (cfg->admin_port == 0)
		return 0;
	if (lis_http_sockaddr("[admin] listen", cfg->admin_listen, cfg->admin_port, &ss, &flags,
			      err) < 0)
		return -1;
	struct lis_admin *a = calloc(1, sizeof *a);
	if (!a)
		return lis_error_set(err, LIS_E_SYSTEM, "out of memory");
	a->starting = true;
	a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, a,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_HTTPS_CERT_CALLBACK, lis_tls_retrieve,
				  MHD_OPTION_HTTPS_PRIORITIES, LIS_HTTP_TLS_PRIORITIES,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)ADMIN_CONNECTION_LIMIT,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)ADMIN_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ADMIN_MEMORY_LIMIT,
				  MHD_OPTION_END);
	a->starting = false;
	if (!a->mhd) {
		lis_error_set(err, LIS_E_SYSTEM, "cannot serve the admin listener on %s port %lu: "
			      "%s ([admin] port = 0 turns it off)", cfg->admin_listen,
			      cfg->admin_port,
			      a->start_msg[0] ? a->start_msg : "libmicrohttpd refused to start");
		free(a);
		return -1;
	}
	*out = a;
	return 0;
}

void lis_admin_stop(struct lis_admin *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->mhd);
	free(a);
}
