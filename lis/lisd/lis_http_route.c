/* The HTTP front's decisions from the method, path and header values alone (lis_http_route.h):
 * routing, the refusals of RFC 5985 §8 and RFC 6753 §3.2, and the request body. */
#include "lis_http_route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "lis_accept.h"

/* "application/held+xml", optionally followed by parameters (RFC 9110 §8.3.1). */
static bool is_held_media_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strlen(HELD_MEDIA_TYPE);
	if (strncasecmp(ct, HELD_MEDIA_TYPE, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

int lis_http_body_append(struct lis_http_body *b, const char *data, size_t size, size_t max)
{
	if (b->too_large || size > max - b->len) {
		b->too_large = true;
		return 0;
	}
	if (b->len + size + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + size + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		char *nb = realloc(b->data, cap);
		if (!nb)
			return -1;
		b->data = nb;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, size);
	b->len += size;
	b->data[b->len] = '\0';
	return 0;
}

bool lis_http_announces_body(const struct lis_http_fields *f)
{
	const char *cl = f->content_length;
	return f->transfer_encoding || (cl && cl[strspn(cl, "0")] != '\0');
}

bool lis_http_is_get(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	       strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/* The form of the answer to a GET of a location URI (RFC 6753 §3.2): "a LIS MUST provide a
 * HELD location response if it receives an HTTP GET request"; the bare presence is for a
 * client whose Accept "includes "application/pidf+xml"", so HELD goes first and wins ties,
 * and the presence only when Accept weighs it higher. A failure is a HELD error when HELD is
 * acceptable at all. False when neither is acceptable. */
static bool negotiate_get(const char *accept, enum lis_deref_form *form)
{
	static const char *const offers[] = { HELD_CONTENT_TYPE, PIDF_CONTENT_TYPE };
	int weights[2];
	switch (lis_accept_choose(accept, offers, 2, weights)) {
	case 0:
		*form = LIS_DEREF_HELD;
		return true;
	case 1:
		*form = weights[0] > 0 ? LIS_DEREF_PIDF : LIS_DEREF_PIDF_ONLY;
		return true;
	default:
		return false;
	}
}

/* The message framing (RFC 9112 §6.3): the Content-Length field lines, joined as one
 * comma-separated list, must hold one and the same 1*DIGIT value ("unless the field value
 * can be successfully parsed as a comma-separated list ..., all values in the list are
 * valid, and all values in the list are the same"). */
static bool one_length(const char *cl)
{
	const char *first = NULL;
	size_t first_n = 0;
	for (const char *p = cl;;) {
		p += strspn(p, " \t");
		size_t n = strspn(p, "0123456789");
		const char *q = p + n + strspn(p + n, " \t");
		if (n == 0 || (*q != ',' && *q != '\0') ||
		    (first && (n != first_n || strncmp(first, p, n) != 0)))
			return false;
		first = p;
		first_n = n;
		if (*q == '\0')
			return true;
		p = q + 1;
	}
}

/* A request whose body length is ambiguous: refused with 400 and the connection closed,
 * as RFC 9112 §6.3 requires ("the server MUST respond with a 400 (Bad Request) status code
 * and then close the connection"), so that nothing after it can be read as another request.
 * Both Transfer-Encoding and Content-Length is refused too, which §6.1 allows ("A server MAY
 * reject a request that contains both ... Regardless, the server MUST close the
 * connection"). */
static bool framing_refused(const struct lis_http_fields *f, struct lis_refusal *ref)
{
	bool invalid = f->content_length && !one_length(f->content_length);
	if (!invalid && !(f->transfer_encoding && f->content_length))
		return false;
	ref->status = MHD_HTTP_BAD_REQUEST;
	ref->close = true;
	ref->text = invalid ? "bad request: Content-Length is not one number\n"
			    : "bad request: both Transfer-Encoding and Content-Length\n";
	snprintf(ref->why, sizeof ref->why, "%s", invalid ? "conflicting Content-Length"
							   : "Transfer-Encoding and Content-Length");
	return true;
}

/* Ambiguous framing 400 (framing_refused); unknown path 404; then wrong method 405; a POST
 * whose Content-Type is not HELD, or whose Accept excludes HELD, 406 (RFC 5985 §8), as is a
 * GET that accepts neither form; a body over max_body 413; and last a conditional request
 * 412 (RFC 5985 §8), as preconditions count only for a request that would otherwise succeed
 * (RFC 9110 §13.2.1). held_path first, then location URIs under uri_base's path. */
enum lis_route lis_http_route(const struct lis_config *cfg, const char *url, const char *method,
			      const struct lis_http_fields *f, struct lis_refusal *ref,
			      enum lis_deref_form *form)
{
	const char *deref = lis_config_deref_path(cfg);
	size_t dlen = deref ? strlen(deref) : 0;
	enum lis_route route = LIS_ROUTE_HELD;
	const char *cl = f->content_length;

	memset(ref, 0, sizeof *ref);
	if (framing_refused(f, ref))
		return route;
	if (strcmp(url, cfg->held_path) == 0) {
		route = LIS_ROUTE_HELD;
	} else if (deref && strncmp(url, deref, dlen) == 0 && url[dlen] != '\0') {
		route = LIS_ROUTE_DEREF;
	} else {
		ref->status = MHD_HTTP_NOT_FOUND;
		ref->text = "not found: HELD requests go to the LIS URI\n";
		return route;
	}
	if (route == LIS_ROUTE_DEREF && lis_http_is_get(method)) {
		if (!negotiate_get(f->accept, form)) {
			ref->status = MHD_HTTP_NOT_ACCEPTABLE;
			ref->text = "not acceptable: a location URI answers with "
				    "application/held+xml or application/pidf+xml\n";
			ref->vary = MHD_HTTP_HEADER_ACCEPT;
			snprintf(ref->why, sizeof ref->why,
				 "Accept excludes application/held+xml and application/pidf+xml");
		}
	} else if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
		ref->status = MHD_HTTP_METHOD_NOT_ALLOWED;
		if (route == LIS_ROUTE_DEREF) {
			ref->text = "method not allowed: location URIs take GET, HEAD or POST\n";
			ref->allow = "GET, HEAD, POST";
		} else {
			ref->text = "method not allowed: HELD requests use POST\n";
			ref->allow = MHD_HTTP_METHOD_POST;
		}
	} else if (!is_held_media_type(f->content_type)) {
		/* RFC 5985 §8 names 406 here, where HTTP alone would say 415 */
		ref->status = MHD_HTTP_NOT_ACCEPTABLE;
		ref->text = "not acceptable: send Content-Type application/held+xml\n";
		snprintf(ref->why, sizeof ref->why, "Content-Type is not application/held+xml");
	} else if (lis_accept_weight(f->accept, HELD_CONTENT_TYPE) == 0) {
		/* No Accept at all passes: lisd's choice, so that a caller whose phone leaves
		 * it out still gets a location; RFC 5985 §8's 406 is a SHOULD. */
		ref->status = MHD_HTTP_NOT_ACCEPTABLE;
		ref->text = "not acceptable: HELD answers are application/held+xml, which Accept "
			    "excludes\n";
		ref->vary = MHD_HTTP_HEADER_ACCEPT;
		snprintf(ref->why, sizeof ref->why, "Accept excludes application/held+xml");
	} else if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno == ERANGE || n > cfg->max_body) {
			ref->status = MHD_HTTP_CONTENT_TOO_LARGE;
			ref->text = "request body too large\n";
		}
	}
	if (!ref->status && f->condition) {
		ref->status = MHD_HTTP_PRECONDITION_FAILED;
		ref->text = "precondition failed: HELD takes no conditional requests (If-*)\n";
		snprintf(ref->why, sizeof ref->why, "conditional header %.40s", f->condition);
	}
	return route;
}
