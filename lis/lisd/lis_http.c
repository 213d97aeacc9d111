#include "lis_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "held.h"
#include "lis_auth.h"
#include "lis_conn.h"
#include "lis_epoll.h"
#include "lis_front.h"
#include "lis_held.h"
#include "lis_http_route.h"
#include "lis_log.h"
#include "lis_metrics.h"
#include "lis_priv.h"
#include "lis_querylog.h"
#include "lis_strbuf.h"
#include "lis_tls.h"
#include "lis_uri.h"
#include "pidf.h"

/* GnuTLS priorities (lis_http.h; the admin listener uses the same). */
#define TLS_PRIORITIES LIS_HTTP_TLS_PRIORITIES
/* Per-connection memory pool (headers, read and write buffers); bodies live outside it.
 * libmicrohttpd 0.9.75 zeroes the whole pool after every request (MHD_pool_reset): at
 * 64 KB that memset was 5.4% of lisd's CPU under wrk, at 32 KB 1.7% (perf). 32 KB still
 * takes about 31 KB of request header fields (curl); more is refused with 431. */
#define CONNECTION_MEMORY_LIMIT (32 * 1024)
/* An oversized body is read and thrown away so that the client gets its 413 (libmicrohttpd
 * takes no answer in the middle of a body); past this many bytes the connection is dropped. */
#define DISCARD_LIMIT (1024 * 1024)

struct lis_http {
	struct MHD_Daemon *mhd;
	const struct lis_config *cfg;
	struct lis_connguard *guard;  /* handshake_timeout */
	struct lis_acl proxy_from;    /* [server] proxy_from: balancers that send PROXY v2 */
	struct lis_front *front;      /* lisd's own accept thread, with proxy_from only */
	atomic_bool starting;         /* MHD_start_daemon() is running: keep its last message */
	char start_msg[256];
};

/* State of one request, from its headers to its completion. */
struct request {
	struct timespec start;
	enum lis_route route;
	bool get;                     /* LIS_ROUTE_DEREF and GET or HEAD */
	enum lis_deref_form form;     /* get: the answer's form, negotiated on Accept */
	struct lis_refusal refusal;       /* sent once the request is in */
	char token[LIS_URI_TOKEN_MAX + 2]; /* LIS_ROUTE_DEREF: the path after the prefix (a secret:
	                                    * never logged) */
	struct lis_http_body body;
	unsigned long long seen;      /* body bytes received, kept or not */
};

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The requester as text; IPv4-mapped IPv6 (::ffff:a.b.c.d, dual-stack socket) unmapped. */
static void client_address(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(buf, size, "unknown");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)size);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf, (socklen_t)size);
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)size);
	}
}

/* Queue r (NULL: it could not be made) with status, adding allow and vary (header values or
 * NULL), and let go of it. */
static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r,
			     const char *allow, const char *vary)
{
	if (!r)
		return MHD_NO;
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (vary)
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, vary);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A one-line text/plain body saying why. */
static struct MHD_Response *text_response(const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								  MHD_RESPMEM_PERSISTENT);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; charset=utf-8");
	return r;
}

static enum MHD_Result queue_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	return queue(conn, status, text_response(text), NULL, NULL);
}

/* The path as it may be logged: a location URI's token is a secret (possession of it is
 * the authorization), so paths under the dereference prefix are logged as PREFIX*. */
static const char *loggable_path(const struct lis_config *cfg, const char *url, char *buf,
				 size_t size)
{
	const char *deref = lis_config_deref_path(cfg);
	size_t n = deref ? strlen(deref) : 0;
	if (deref && strcmp(url, cfg->held_path) != 0 && strncmp(url, deref, n) == 0 && url[n]) {
		char masked[300];
		snprintf(masked, sizeof masked, "%s*", deref);
		return lis_log_value(buf, size, masked);
	}
	return lis_log_value(buf, size, url);
}

/* Log an HTTP-level refusal (no HELD processing happened), with why when it is not "". */
static void log_refusal(const struct lis_config *cfg, struct MHD_Connection *conn,
			const char *method, const char *url, unsigned status, const char *why,
			const struct timespec *t0)
{
	char ip[INET6_ADDRSTRLEN], m[40], p[300], w[200];
	client_address(conn, ip, sizeof ip);
	char res[16];
	/* status 0: the connection is dropped without an answer. */
	snprintf(res, sizeof res, status ? "%u" : "dropped", status);
	lis_log(LIS_LOG_INFO, "http", "requester=%s result=%s method=%s path=%s ms=%.2f%s%s", ip,
		res, lis_log_value(m, sizeof m, method), loggable_path(cfg, url, p, sizeof p),
		ms_since(t0), why[0] ? " reason=" : "",
		why[0] ? lis_log_value(w, sizeof w, why) : "");
}

/* lis_requester.authorize: the TLS client certificate or the address (lis_auth.c). */
static void authorize_connection(void *ctx, const char *ip, struct lis_auth_result *ar)
{
	lis_auth_check(ctx, ip, ar);
}

/* x >= 0 with two decimals, as "%.2f" writes the milliseconds a request took. */
static void put_hundredths(struct strbuf *b, double x)
{
	long long h = x > 0 ? (long long)(x * 100 + 0.5) : 0;
	char d[3] = {(char)('0' + h / 10 % 10), (char)('0' + h % 10), '\0'};
	strbuf_put_int(b, h / 100);
	strbuf_cat(b, ".", d);
}

/* One line per answered request (lisd(8) LOGGING): requester, subject, target, result, the
 * source that won, location key, disagreement, snapshot age, time; for a GET of a location
 * URI the form negotiated ("held" or "pidf"), else form is NULL. */
static void log_answer(struct lis_http *h, const char *ip, const char *method, const char *url,
		       const char *form, const struct lis_held_outcome *oc,
		       const struct timespec *t0)
{
	char m[40], p[300], loc[300], tgt[400], line[2048];
	struct strbuf x;  /* from pieces: no printf on every answer */
	double ms = ms_since(t0);

	strbuf_init_text(&x, line, sizeof line);
	strbuf_cat(&x, "requester=", ip, " target=",
		   lis_log_value(tgt, sizeof tgt, oc->target[0] ? oc->target : "-"), " result=",
		   oc->result, " source=", oc->source, " location=",
		   lis_log_value(loc, sizeof loc, oc->location[0] ? oc->location : "-"),
		   " snapshot_age=");
	strbuf_put_int(&x, oc->snapshot_age);
	strbuf_puts(&x, " ms=");
	put_hundredths(&x, ms);
	strbuf_cat(&x, " method=", lis_log_value(m, sizeof m, method), " path=",
		   loggable_path(h->cfg, url, p, sizeof p));
	char v[700];
	if (oc->auth.subject[0])
		strbuf_cat(&x, " subject=", lis_log_value(v, sizeof v, oc->auth.subject));
	if (oc->auth.checked)
		strbuf_cat(&x, " auth=", oc->auth.authorized ? oc->auth.how : "refused");
	if (form)
		strbuf_cat(&x, " form=", form);
	if (oc->uri_issued)
		strbuf_puts(&x, " uri=issued");
	if (oc->test)
		strbuf_puts(&x, " test=yes");
	if (oc->disagree[0]) {
		strbuf_cat(&x, " disagree=", lis_log_value(v, sizeof v, oc->disagree),
			   " disagreements=");
		strbuf_put_int(&x, (long long)oc->disagreements);
	}
	if (oc->deactivated[0])
		strbuf_cat(&x, " deactivated=", lis_log_value(v, sizeof v, oc->deactivated));
	if (oc->reason[0] && strcmp(oc->result, "located") != 0)
		strbuf_cat(&x, " reason=", lis_log_value(v, sizeof v, oc->reason));
	if (oc->auth.checked && !oc->auth.authorized && oc->auth.why[0])
		strbuf_cat(&x, " auth_detail=", lis_log_value(v, sizeof v, oc->auth.why));
	/* An internal failure (no wiremap yet) is the operator's business: warn. */
	enum lis_log_level lvl = oc->internal ? LIS_LOG_WARN : LIS_LOG_INFO;
	lis_log_batched(lvl, "held", "%s", line);
}

/* One query log entry per answer (lis_querylog.h); never waits for the database. */
static void log_query(const char *kind, const char *ip, const struct lis_held_outcome *oc,
		      const struct timespec *t0)
{
	unsigned char a[16];
	bool is_ip = inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1;
	/* The location columns say what was returned: only for an answer that located. */
	bool located = strcmp(oc->result, "located") == 0;
	double ms = ms_since(t0);
	lis_metrics_answer(oc->result, oc->source, located && oc->fallback == 1,
			   oc->disagree[0] != '\0', ms / 1e3);
	struct db_query_log_entry e = {
		.kind = kind,
		.requester_ip = is_ip ? ip : NULL,
		.requester_subject = oc->auth.subject[0] ? oc->auth.subject : NULL,
		.target = oc->target[0] ? oc->target : NULL,
		.source = located ? oc->source : NULL,
		.evidence = oc->evidence[0] ? oc->evidence : NULL,
		.evidence_age_s = oc->evidence_age,
		.location_id = located ? oc->location_id : 0,
		.location_key = located ? oc->location : NULL,
		.site_key = located && oc->site[0] ? oc->site : NULL,
		.address = located && oc->address[0] ? oc->address : NULL,
		.method = located && oc->method[0] ? oc->method : NULL,
		.fallback = located ? oc->fallback : -1,
		.disagreement = oc->disagree[0] ? oc->disagree : NULL,
		.result = oc->result,
		.response_time = oc->response_time[0] ? oc->response_time : NULL,
		.latency_ms = ms,
		.test = oc->test,
	};
	lis_querylog_append(&e);
}

/* A document (malloc'd out, freed here whatever happens) of media type type. */
static struct MHD_Response *doc_response(char *out, size_t out_len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(out_len, out,
								  MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(out);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* A location is personal data of the moment: no cache may keep it. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return r;
}

/* A document answer, queued: its header and body leave in one write (lis_conn_hold_next;
 * not for HEAD, where no body follows the header). */
static enum MHD_Result queue_doc(struct MHD_Connection *conn, const char *method, char *out,
				 size_t out_len, const char *type, const char *vary)
{
	struct MHD_Response *r = doc_response(out, out_len, type);
	if (r && out_len && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		lis_conn_hold_next(ci ? ci->socket_context : NULL);
	}
	return queue(conn, MHD_HTTP_OK, r, NULL, vary);
}

/* lisd(8) TEST MODE: a configured test requester, or the marker header when [test] header is
 * on. The answer does not depend on it; the log and the notification say TEST. */
static bool is_test(const struct lis_config *cfg, struct MHD_Connection *conn, const char *ip)
{
	if (cfg->test_header) {
		const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, LIS_TEST_HEADER);
		if (v && strcmp(v, "1") == 0)
			return true;
	}
	return lis_auth_is_test(conn, ip);
}

/* POST of a HELD locationRequest: to held_path, or to a location URI. */
static enum MHD_Result answer_held(struct lis_http *h, struct MHD_Connection *conn,
				   const char *method, const char *url, struct request *rq)
{
	char ip[INET6_ADDRSTRLEN];
	struct lis_held_outcome oc;
	char *out = NULL;
	size_t out_len = 0;
	int rc;

	client_address(conn, ip, sizeof ip);
	struct lis_requester who = { .ip = ip, .authorize = authorize_connection, .ctx = conn };
	const char *body = rq->body.data ? rq->body.data : "";
	if (rq->route == LIS_ROUTE_DEREF)
		rc = lis_held_deref_post(&who, rq->token, body, rq->body.len, &out, &out_len,
					 &oc);
	else
		rc = lis_held_handle(&who, body, rq->body.len, &out, &out_len, &oc);
	oc.test = is_test(h->cfg, conn, ip);
	log_answer(h, ip, method, url, NULL, &oc, &rq->start);
	log_query(rq->route == LIS_ROUTE_DEREF ? "deref_post" : "held", ip, &oc, &rq->start);
	if (rc < 0) {
		free(out);
		return queue_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
	}
	return queue_doc(conn, method, out, out_len, HELD_CONTENT_TYPE, NULL);
}

/* GET (or HEAD) of a location URI (RFC 6753 §3.2): the target's location now, in the form
 * negotiated on Accept. The answer depends on Accept, and says so (Vary, RFC 9110 §12.5.5). */
static enum MHD_Result answer_deref_get(struct lis_http *h, struct MHD_Connection *conn,
					const char *method, const char *url, struct request *rq)
{
	char ip[INET6_ADDRSTRLEN];
	struct lis_held_outcome oc;
	char *out = NULL;
	size_t out_len = 0;
	bool pidf;
	const char *text;

	client_address(conn, ip, sizeof ip);
	struct lis_requester who = { .ip = ip, .authorize = authorize_connection, .ctx = conn };
	unsigned status = lis_held_deref_get(&who, rq->token, rq->form, &out, &out_len, &pidf, &oc);
	oc.test = is_test(h->cfg, conn, ip);
	log_answer(h, ip, method, url, rq->form == LIS_DEREF_HELD ? "held" : "pidf", &oc,
		   &rq->start);
	log_query("deref_get", ip, &oc, &rq->start);
	switch (status) {
	case MHD_HTTP_OK:
		return queue_doc(conn, method, out, out_len, pidf ? PIDF_CONTENT_TYPE
							       : HELD_CONTENT_TYPE, MHD_HTTP_HEADER_ACCEPT);
	case MHD_HTTP_FORBIDDEN:
		text = "forbidden: not authorized to dereference location URIs\n";
		break;
	case MHD_HTTP_NOT_FOUND:
		text = "not found: no such location URI, or it has expired\n";
		break;
	case MHD_HTTP_SERVICE_UNAVAILABLE:
		text = "the wiremap is not loaded yet; try again later\n";
		break;
	default:
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		text = "internal error\n";
	}
	return queue(conn, status, text_response(text), NULL, MHD_HTTP_HEADER_ACCEPT);
}

/* The header fields lis_http_route() decides on, gathered in one pass over the request's
 * header lines: the first Content-Type, Accept and Transfer-Encoding, the name of the first
 * If-* field (the conditional ones, RFC 9110 §13.1), and every Content-Length field line
 * joined into one list (RFC 9110 §5.3: several field lines are one comma-separated value). */
struct fields {
	struct lis_http_fields *f;
	char length[128];
	bool cut;
};

static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct fields *x = cls;
	struct lis_http_fields *f = x->f;
	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		size_t n = strlen(x->length);
		int w = snprintf(x->length + n, sizeof x->length - n, "%s%s", n ? "," : "",
				 value ? value : "");
		if (w < 0 || (size_t)w >= sizeof x->length - n)
			x->cut = true;
	} else if (!f->content_type && strcasecmp(key, MHD_HTTP_HEADER_CONTENT_TYPE) == 0) {
		f->content_type = value;
	} else if (!f->accept && strcasecmp(key, MHD_HTTP_HEADER_ACCEPT) == 0) {
		f->accept = value;
	} else if (!f->transfer_encoding &&
		   strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encoding = value;
	} else if (!f->condition && strncasecmp(key, "If-", 3) == 0) {
		f->condition = key;
	}
	return MHD_YES;
}

/* f's strings point into the request and into x, which must outlive f. */
static void request_fields(struct MHD_Connection *conn, struct lis_http_fields *f,
			   struct fields *x)
{
	memset(f, 0, sizeof *f);
	*x = (struct fields){.f = f};
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_field, x);
	/* a list too long to keep is not one plain number either */
	f->content_length = x->cut ? "," : x->length[0] ? x->length : NULL;
}

/* Send and log a refusal decided from the headers. */
static enum MHD_Result refuse(const struct lis_config *cfg, struct MHD_Connection *conn,
			      const char *method, const char *url, const struct lis_refusal *ref,
			      const struct timespec *t0)
{
	log_refusal(cfg, conn, method, url, ref->status, ref->why, t0);
	struct MHD_Response *r = text_response(ref->text);
	if (r && ref->close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	return queue(conn, ref->status, r, ref->allow, ref->vary);
}

/* On a request thread's first request: lower its priority by LIS_WORKER_NICE (lis_priv.h).
 * Where seccomp refuses setpriority it stays as it is, said once. */
static void worker_nice(void)
{
	static _Thread_local bool done;
	static atomic_bool warned;
	if (done)
		return;
	done = true;
	if (lis_priv_lower_thread(LIS_WORKER_NICE) < 0 && !atomic_exchange(&warned, true))
		lis_log(LIS_LOG_INFO, "http", "worker_nice=unchanged reason=%s", strerror(errno));
}

/* libmicrohttpd calls this first when the headers are in (*con_cls == NULL), then once per
 * piece of body, then once more with *upload_data_size == 0 when the body is complete. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct lis_http *h = cls;
	const struct lis_config *cfg = h->cfg;
	struct request *rq = *con_cls;
	(void)version;
	/* a request (or a piece of its body) is work done: lis_epoll.h */
	lis_epoll_note_progress();

	if (!rq) {
		worker_nice();
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		/* lisd(8) METRICS: a connection's first request completes its TLS handshake */
		if (ci && lis_conn_requested(ci->socket_context))
			lis_metrics_tls_handshake();
		struct timespec t0;
		struct lis_refusal ref;
		struct lis_http_fields f;
		enum lis_deref_form form = LIS_DEREF_HELD;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		struct fields fx;
		request_fields(conn, &f, &fx);
		enum lis_route route = lis_http_route(cfg, url, method, &f, &ref, &form);
		/* An answer queued now, before the body is read, makes libmicrohttpd close the
		 * connection after it (MHD_queue_response() marks it "early" and drops the rest of
		 * the request). That is right for a body we refuse, not for a request without
		 * one: GET, or a refused POST without a body, is answered once the request is in,
		 * so the connection stays open (RFC 5985 §8: persistent connections SHOULD be
		 * supported). */
		if (ref.status && (ref.close || lis_http_announces_body(&f)))
			return refuse(cfg, conn, method, url, &ref, &t0);
		rq = calloc(1, sizeof *rq);
		if (!rq)
			return MHD_NO;
		rq->start = t0;
		rq->route = route;
		rq->refusal = ref;
		rq->get = route == LIS_ROUTE_DEREF && lis_http_is_get(method);
		rq->form = form;
		if (route == LIS_ROUTE_DEREF && !ref.status)
			snprintf(rq->token, sizeof rq->token, "%s",
				 url + strlen(lis_config_deref_path(cfg)));
		*con_cls = rq;
		return MHD_YES;
	}

	if (*upload_data_size) {
		/* A chunked body may grow past max_body: stop keeping it, answer 413 at the end. */
		rq->seen += *upload_data_size;
		if (rq->seen > (unsigned long long)cfg->max_body + DISCARD_LIMIT) {
			log_refusal(cfg, conn, method, url, 0, "", &rq->start);
			return MHD_NO;
		}
		if (lis_http_body_append(&rq->body, upload_data, *upload_data_size,
					 cfg->max_body) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (rq->body.too_large) {
		log_refusal(cfg, conn, method, url, MHD_HTTP_CONTENT_TOO_LARGE, "", &rq->start);
		return queue_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
	}
	if (rq->refusal.status)
		return refuse(cfg, conn, method, url, &rq->refusal, &rq->start);
	if (rq->get)
		return answer_deref_get(h, conn, method, url, rq);
	return answer_held(h, conn, method, url, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls; (void)conn; (void)toe;
	struct request *rq = *con_cls;
	if (!rq)
		return;
	free(rq->body.data);
	memset(rq->token, 0, sizeof rq->token);
	free(rq);
	*con_cls = NULL;
}

/* Every connection, from its acceptance (before TLS) to its end, is known to the guard and
 * counted (lisd(8) METRICS). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct lis_http *h = cls;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		lis_front_closed(h->front);
		lis_connguard_closed(h->guard, *socket_context);
		*socket_context = NULL;
		lis_metrics_connection_closed();
		return;
	}
	lis_metrics_connection_opened();
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char addr[INET6_ADDRSTRLEN];
	client_address(conn, addr, sizeof addr);
	*socket_context = ci ? lis_connguard_opened(h->guard, ci->connect_fd, addr) : NULL;
	const union MHD_ConnectionInfo *ti =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	lis_conn_tls_coalesce(*socket_context, ti ? ti->tls_session : NULL);
}

/* Connections lisd can hold: max_connections, but no more than the file descriptors allow.
 * The soft RLIMIT_NOFILE is raised as far as needed and allowed; FD_RESERVE are kept for the
 * listening socket, the spool, the log, PostgreSQL and the rest. Never below threads
 * (lis.conf(5)); with more than one thread lis_front holds the total and each thread may
 * take all of it (lis_http_start()). */
#define FD_RESERVE 64
static unsigned connection_limit(const struct lis_config *cfg)
{
	rlim_t want = (rlim_t)cfg->max_connections + FD_RESERVE;
	struct rlimit rl;
	unsigned long n = cfg->max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < want) {
		rlim_t old = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want
										: rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = old;
		if (rl.rlim_cur < want) {
			n = rl.rlim_cur > 2 * FD_RESERVE ? (unsigned long)(rl.rlim_cur - FD_RESERVE)
							 : FD_RESERVE;
			lis_log(LIS_LOG_WARN, "http",
				"max_connections=%lu serving=%lu reason=RLIMIT_NOFILE is %llu "
				"(raise LimitNOFILE= or ulimit -n)", cfg->max_connections, n,
				(unsigned long long)rl.rlim_cur);
		}
	}
	return (unsigned)(n < cfg->threads ? cfg->threads : n);
}

void lis_http_mhd_message(const char *listener, bool starting, char *start_msg, size_t size,
			  const char *fmt, va_list ap)
{
	char msg[512], v[600];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	if (starting)
		snprintf(start_msg, size, "%s", msg);
	lis_log(LIS_LOG_DEBUG, "mhd", "%s%s%smsg=%s", listener ? "listener=" : "",
		listener ? listener : "", listener ? " " : "", lis_log_value(v, sizeof v, msg));
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct lis_http *h = cls;
	lis_http_mhd_message(NULL, h->starting, h->start_msg, sizeof h->start_msg, fmt, ap);
}

int lis_http_sockaddr(const char *key, const char *addr, unsigned long port,
		      struct sockaddr_storage *ss, unsigned *flags, struct lis_error *err)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		/* Dual stack: listen = :: also takes IPv4 (seen as ::ffff:a.b.c.d, unmapped). */
		*flags |= MHD_USE_DUAL_STACK;
	} else {
		return lis_error_set(err, LIS_E_USAGE, "%s: \"%s\" is not an IPv4 or IPv6 address",
				     key, addr);
	}
	return 0;
}

struct lis_http *lis_http_start(const struct lis_config *cfg, const char *client_ca,
				struct lis_error *err)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG;

	if (lis_http_sockaddr("listen", cfg->listen, cfg->port, &ss, &flags, err) < 0)
		return NULL;

	struct lis_http *h = calloc(1, sizeof *h);
	if (!h) {
		lis_error_set(err, LIS_E_SYSTEM, "out of memory");
		return NULL;
	}
	h->cfg = cfg;
	h->starting = true;
	char why[200];
	if (lis_acl_parse(cfg->proxy_from, &h->proxy_from, why, sizeof why) < 0) {
		lis_error_set(err, LIS_E_USAGE, "proxy_from: %s", why);
		free(h);
		return NULL;
	}
	/* lisd accepts (lis_front.c) and hands connections over: the client named, behind a
	 * balancer; and with more than one request thread, so that connections are shared
	 * among them. libmicrohttpd's own accept (0.9.75) takes up to 10 connections in a
	 * row in whichever thread wakes first: a burst of connections (a client opening its
	 * pool, an SBC's few kept-alive connections) all went to one thread while the others
	 * idled (bench/run.sh: one of two threads served all 16 of wrk's connections);
	 * MHD_add_connection() gives each to the thread its descriptor's number picks. */
	bool own_accept = h->proxy_from.n > 0 || cfg->threads > 1;
	/* libmicrohttpd divides its connection limit among the threads and counts a connection
	 * added from outside only when its thread takes it: with the front, the front holds
	 * the total (lis_front.c counts what it handed over) and each thread may take all of
	 * it, so that libmicrohttpd never closes what should have waited in the accept queue */
	unsigned limit = connection_limit(cfg);
	unsigned mhd_limit = own_accept && limit <= UINT_MAX / cfg->threads
				     ? limit * (unsigned)cfg->threads : limit;
	if (own_accept) {
		flags &= ~(unsigned)MHD_USE_DUAL_STACK;
		flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	}
	h->guard = lis_connguard_start(cfg->handshake_timeout, err);
	if (!h->guard) {
		lis_acl_free(&h->proxy_from);
		free(h);
		return NULL;
	}

	/* With client_ca, libmicrohttpd asks each client for a certificate (not requiring one:
	 * phones asking about themselves have none); lis_auth.c verifies what comes. */
	struct MHD_OptionItem more[3];
	size_t k = 0;
	if (!own_accept)
		more[k++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	if (client_ca)
		more[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0,
						     (void *)client_ca };
	more[k] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
				  MHD_OPTION_HTTPS_CERT_CALLBACK, lis_tls_retrieve,
				  MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->timeout,
				  MHD_OPTION_CONNECTION_LIMIT, mhd_limit,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  (unsigned int)cfg->max_connections_per_address,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_LIMIT,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				  MHD_OPTION_ARRAY, more,
				  MHD_OPTION_END);
	h->starting = false;
	if (h->mhd && own_accept)
		h->front = lis_front_start(&ss, h->mhd, &h->proxy_from, cfg->handshake_timeout,
					   limit, err);
	if (!h->mhd || (own_accept && !h->front)) {
		if (!h->mhd)
			lis_error_set(err, LIS_E_SYSTEM, "cannot serve HTTPS on %s port %lu: %s",
				      cfg->listen, cfg->port, h->start_msg[0] ? h->start_msg
				      : "libmicrohttpd refused to start");
		else {
			char msg[sizeof err->msg];
			snprintf(msg, sizeof msg, "%s", err->msg);
			lis_error_set(err, LIS_E_SYSTEM, "cannot serve HTTPS on %s port %lu: %s",
				      cfg->listen, cfg->port, msg);
		}
		if (h->mhd)
			MHD_stop_daemon(h->mhd);
		lis_connguard_stop(h->guard);
		lis_acl_free(&h->proxy_from);
		free(h);
		return NULL;
	}
	return h;
}

void lis_http_stop(struct lis_http *h)
{
	if (!h)
		return;
	lis_front_stop(h->front);
	MHD_stop_daemon(h->mhd);
	lis_front_free(h->front);  /* after: closing the last connections counts them out */
	lis_connguard_stop(h->guard);
	lis_acl_free(&h->proxy_from);
	free(h);
}
