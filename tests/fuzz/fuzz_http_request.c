/* libFuzzer target: lisd's handling of an HTTP request before HELD (lisd/lis_http_route.c,
 * lis_accept.c), what lis_http.c does with the method, path and header values that
 * libmicrohttpd hands over, and with the body as it arrives. The input is LF-separated:
 *   flags byte, method, path, Content-Type, Accept, Content-Length, Transfer-Encoding, the
 *   name of an If-* field, then the body;
 * flag bits 0-4 say which of the five header fields are present, bit 5 turns location URIs
 * off, bits 6-7 choose max_body. The body is appended in pieces of the flags' size. Checks:
 * a refusal is one of lisd's statuses with its text, a request let through is a POST of
 * application/held+xml to held_path or a location URI, or a GET or HEAD of a location URI;
 * the body kept is the body sent, unless over max_body; Accept weights are in range and the
 * choice among offers is their first best. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lis_accept.h"
#include "lis_http_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next LF-terminated field of [*p, end) as a string in a fresh allocation. */
static char *field(const char **p, const char *end)
{
	const char *lf = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = lf ? (size_t)(lf - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = lf ? lf + 1 : end;
	return s;
}

static void check_route(const struct lis_config *cfg, const char *method, const char *url,
			const struct lis_http_fields *f)
{
	struct lis_refusal ref;
	enum lis_deref_form form = LIS_DEREF_HELD;
	enum lis_route r = lis_http_route(cfg, url, method, f, &ref, &form);
	const char *deref = lis_config_deref_path(cfg);

	if ((r != LIS_ROUTE_HELD && r != LIS_ROUTE_DEREF) || (r == LIS_ROUTE_DEREF && !deref))
		abort();
	if (strcmp(url, cfg->held_path) == 0 && r != LIS_ROUTE_HELD)
		abort();
	if (ref.status) {
		static const unsigned statuses[] = { 400, 404, 405, 406, 412, 413 };
		bool known = false;
		for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
			known |= ref.status == statuses[i];
		if (!known || !ref.text || strnlen(ref.why, sizeof ref.why) == sizeof ref.why ||
		    (ref.status == 405) != (ref.allow != NULL))
			abort();
		/* ambiguous framing, and only it, closes the connection: a body length that is
		 * not one number, or given with Transfer-Encoding too */
		if ((ref.status == 400) != ref.close ||
		    (ref.close && !f->content_length))
			abort();
		return;
	}
	if (r == LIS_ROUTE_DEREF && lis_http_is_get(method)) {
		if (form != LIS_DEREF_HELD && form != LIS_DEREF_PIDF && form != LIS_DEREF_PIDF_ONLY)
			abort();
		return;
	}
	/* let through otherwise: a POST of HELD, with no If-* field, that Accept allows */
	const char *ct = f->content_type;
	if (strcmp(method, "POST") != 0 || !ct || f->condition ||
	    lis_accept_weight(f->accept, HELD_CONTENT_TYPE) == 0)
		abort();
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, HELD_MEDIA_TYPE, strlen(HELD_MEDIA_TYPE)) != 0)
		abort();
}

static void check_accept(const char *accept)
{
	static const char *const offers[] = { HELD_CONTENT_TYPE, PIDF_CONTENT_TYPE, "text/plain",
					      "application/xml;q=1" };
	int weights[4], best = -1;
	int chosen = lis_accept_choose(accept, offers, 4, weights);
	for (int i = 0; i < 4; i++) {
		if (weights[i] < 0 || weights[i] > 1000 ||
		    weights[i] != lis_accept_weight(accept, offers[i]))
			abort();
		if (weights[i] > 0 && (best < 0 || weights[i] > weights[best]))
			best = i;
	}
	if (chosen != best)
		abort();
}

static void check_body(const char *body, size_t len, size_t piece, size_t max)
{
	struct lis_http_body b = { 0 };
	for (size_t at = 0; at < len; at += piece) {
		size_t n = len - at < piece ? len - at : piece;
		if (lis_http_body_append(&b, body + at, n, max) < 0)
			abort();
	}
	if (b.len > max || b.too_large != (len > max))
		abort();
	if (!b.too_large && len > 0 && (b.len != len || memcmp(b.data, body, len) != 0 ||
					b.data[len] != '\0'))
		abort();
	free(b.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned long max_bodies[] = { 0, 16, 100, 65536 };
	if (size == 0)
		return 0;
	uint8_t flags = data[0];
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	char held_path[] = "/held", uri_base[] = "https://lis.example.net:8443/loc/", none[] = "";
	struct lis_config cfg = { .held_path = held_path,
				  .uri_base = flags & 0x20 ? none : uri_base,
				  .max_body = max_bodies[flags >> 6] };
	char *v[7];
	for (int i = 0; i < 7; i++)
		v[i] = field(&p, end);
	struct lis_http_fields f = {
		.content_type = flags & 0x01 ? v[2] : NULL,
		.accept = flags & 0x02 ? v[3] : NULL,
		.content_length = flags & 0x04 ? v[4] : NULL,
		.transfer_encoding = flags & 0x08 ? v[5] : NULL,
		.condition = flags & 0x10 ? v[6] : NULL,
	};
	check_route(&cfg, v[0], v[1], &f);
	(void)lis_http_announces_body(&f);
	check_accept(f.accept);
	check_body(p, (size_t)(end - p), (flags & 0x0f) * 5 + 1, cfg.max_body);
	for (int i = 0; i < 7; i++)
		free(v[i]);
	return 0;
}
