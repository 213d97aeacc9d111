/* The HTTP front's decisions that need no connection: where a request goes and whether it is
 * refused, from its method, path and header field values, and the assembly of its body.
 * lis_http.c reads the values off libmicrohttpd; tests/fuzz feeds them arbitrary bytes. */
#ifndef LIS_HTTP_ROUTE_H
#define LIS_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "held.h"
#include "lis_config.h"
#include "lis_held.h"
#include "pidf.h"

/* The media types of answers with their charset: "The 'charset' parameter MUST be included with
 * the XML document" (RFC 5985 §5), written as in the RFC 5985 §10.1 example. The same for the
 * bare presence of a GET (RFC 6753 §3.2): the documents are UTF-8 either way. */
#define HELD_CONTENT_TYPE HELD_MEDIA_TYPE ";charset=utf-8"
#define PIDF_CONTENT_TYPE PIDF_MEDIA_TYPE ";charset=utf-8"

/* Where a request goes. */
enum lis_route {
	LIS_ROUTE_HELD,               /* held_path: POST HELD */
	LIS_ROUTE_DEREF,              /* under uri_base's path: a location URI (RFC 6753) */
};

/* An HTTP-level refusal, decided from the headers. */
struct lis_refusal {
	unsigned status;              /* 0: none */
	const char *text;             /* the text/plain body */
	const char *allow;            /* the Allow header, NULL for none */
	const char *vary;             /* the Vary header, NULL for none */
	char why[96];                 /* for the log line, "" for none */
	bool close;                   /* close the connection after it (ambiguous framing) */
};

/* The request's header fields that the decision reads; NULL when absent. */
struct lis_http_fields {
	const char *content_type;
	const char *accept;
	const char *content_length;   /* every Content-Length field line, joined by "," */
	const char *transfer_encoding;
	const char *condition;        /* the name of the first If-* field (RFC 9110 §13.1) */
};

/* Where the request goes, and in ref whether it is refused (ref->status 0: not), from its
 * headers alone; form gets the answer's form of a GET of a location URI. */
enum lis_route lis_http_route(const struct lis_config *cfg, const char *url, const char *method,
			      const struct lis_http_fields *f, struct lis_refusal *ref,
			      enum lis_deref_form *form);

/* The request announces a body: Transfer-Encoding, or a Content-Length other than 0
 * (RFC 9112 §6.3). */
bool lis_http_announces_body(const struct lis_http_fields *f);

/* GET, or HEAD: the same answer without its body (RFC 9110 §9.3.2; libmicrohttpd leaves the
 * body out and keeps the headers, Content-Length included). */
bool lis_http_is_get(const char *method);

/* A request body as it arrives, NUL-terminated, kept up to max bytes; past that too_large is
 * set and the rest is not kept. Free data when done. */
struct lis_http_body {
	char *data;
	size_t len, cap;
	bool too_large;
};
/* Keep the next size bytes; -1 when out of memory. */
int lis_http_body_append(struct lis_http_body *b, const char *data, size_t size, size_t max);

#endif
