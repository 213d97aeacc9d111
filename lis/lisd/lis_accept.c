#include "lis_accept.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* More parameters than this on one media range make the element malformed: no media type
 * lisd offers has more than one, and a range naming more cannot match it anyway. */
#define MAX_PARAMS 8
/* A parameter value longer than this (unquoted) matches nothing lisd offers. */
#define MAX_VALUE 128

/* A piece of the field value. */
struct span {
	const char *s;
	size_t n;
};

/* One media range (RFC 9110 §12.5.1): type "/" subtype, its parameters, its weight. Parameter
 * values are kept as sent (token or quoted-string). */
struct range {
	struct span type, subtype;
	struct span name[MAX_PARAMS], value[MAX_PARAMS];
	size_t n_params;
	int q;                        /* thousandths */
};

/* tchar (RFC 9110 §5.6.2). */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A token at p, possibly empty; returns what follows it. */
static const char *token(const char *p, struct span *t)
{
	t->s = p;
	while (is_tchar((unsigned char)*p))
		p++;
	t->n = (size_t)(p - t->s);
	return p;
}

/* A quoted-string at p (RFC 9110 §5.6.4: qdtext and quoted-pair); returns what follows the
 * closing quote, NULL when it does not close or holds a control character. */
static const char *quoted_string(const char *p)
{
	for (p++; *p != '"'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\\') {
			c = (unsigned char)*++p;
			if (c != '\t' && (c < 0x20 || c == 0x7f))
				return NULL;
		} else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
			return NULL;  /* the end of the string included */
		}
	}
	return p + 1;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2), in
 * thousandths. */
static bool qvalue(struct span v, int *q)
{
	if (v.n == 0 || (v.s[0] != '0' && v.s[0] != '1') || v.n > 5 ||
	    (v.n > 1 && v.s[1] != '.'))
		return false;
	int x = (v.s[0] - '0') * 1000, scale = 100;
	for (size_t i = 2; i < v.n; i++, scale /= 10) {
		if (v.s[i] < '0' || v.s[i] > '9')
			return false;
		x += (v.s[i] - '0') * scale;
	}
	if (x > 1000)
		return false;
	*q = x;
	return true;
}

static bool is_star(struct span t)
{
	return t.n == 1 && t.s[0] == '*';
}

/* media-range [ weight ] at p, up to the ',' or the end that follows it. Returns that
 * position, or NULL when the element is malformed. A parameter named "q" is the weight
 * wherever it stands (RFC 9110 §12.5.1: "Recipients SHOULD process any parameter named "q" as
 * weight, regardless of parameter ordering"). */
static const char *parse_range(const char *p, struct range *r)
{
	bool weighed = false;

	memset(r, 0, sizeof *r);
	r->q = 1000;
	p = token(p, &r->type);
	if (!r->type.n || *p != '/')
		return NULL;
	p = token(p + 1, &r->subtype);
	if (!r->subtype.n || (is_star(r->type) && !is_star(r->subtype)))
		return NULL;
	for (;;) {
		p = skip_ows(p);
		if (*p != ';')
			break;
		p = skip_ows(p + 1);
		if (*p == ';' || *p == ',' || *p == '\0')
			continue;             /* parameters = *( OWS ";" OWS [ parameter ] ) */
		struct span name, value;
		p = token(p, &name);
		if (!name.n || *p != '=')
			return NULL;
		value.s = ++p;
		if (*p == '"') {
			p = quoted_string(p);
			if (!p)
				return NULL;
			value.n = (size_t)(p - value.s);
		} else {
			p = token(p, &value);
			if (!value.n)
				return NULL;
		}
		if (name.n == 1 && (name.s[0] == 'q' || name.s[0] == 'Q')) {
			if (weighed || !qvalue(value, &r->q))
				return NULL;
			weighed = true;
		} else {
			if (r->n_params == MAX_PARAMS)
				return NULL;
			r->name[r->n_params] = name;
			r->value[r->n_params++] = value;
		}
	}
	return *p == ',' || *p == '\0' ? p : NULL;
}

/* Past the list element at p, up to its ',' or the end, quoted strings included. */
static const char *skip_element(const char *p)
{
	while (*p && *p != ',') {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				break;
		}
		p++;
	}
	return p;
}

/* A parameter value without its quotes and escapes, in buf; false when longer than fits. */
static bool unquote(struct span v, char *buf, size_t size, size_t *len)
{
	size_t n = 0;
	if (v.n && v.s[0] == '"') {
		for (size_t i = 1; i + 1 < v.n; i++) {
			if (v.s[i] == '\\')
				i++;
			if (n + 1 >= size)
				return false;
			buf[n++] = v.s[i];
		}
	} else {
		if (v.n >= size)
			return false;
		memcpy(buf, v.s, v.n);
		n = v.n;
	}
	buf[n] = '\0';
	*len = n;
	return true;
}

static bool same_ci(struct span a, struct span b)
{
	return a.n == b.n && strncasecmp(a.s, b.s, a.n) == 0;
}

/* Equal parameter values: compared after unquoting; charset names are case-insensitive
 * (RFC 9110 §8.3.2), other values exactly. */
static bool same_value(struct span name, struct span a, struct span b)
{
	char x[MAX_VALUE], y[MAX_VALUE];
	size_t xn, yn;
	if (!unquote(a, x, sizeof x, &xn) || !unquote(b, y, sizeof y, &yn) || xn != yn)
		return false;
	if (same_ci(name, (struct span){ "charset", 7 }))
		return strncasecmp(x, y, xn) == 0;
	return memcmp(x, y, xn) == 0;
}

/* How specifically r matches the offer, -1 when it does not match: full wildcard 0, subtype
 * wildcard 1, type and subtype 2, plus one for each parameter (RFC 9110 §12.5.1: "the most
 * specific reference has precedence"). */
static int match(const struct range *r, const struct range *offer)
{
	if (is_star(r->type))
		return 0;
	if (!same_ci(r->type, offer->type))
		return -1;
	if (is_star(r->subtype))
		return 1;
	if (!same_ci(r->subtype, offer->subtype))
		return -1;
	for (size_t i = 0; i < r->n_params; i++) {
		size_t j = 0;
		while (j < offer->n_params && !same_ci(r->name[i], offer->name[j]))
			j++;
		if (j == offer->n_params || !same_value(r->name[i], r->value[i], offer->value[j]))
			return -1;
	}
	return 2 + (int)r->n_params;
}

int lis_accept_weight(const char *accept, const char *type)
{
	struct range offer, r;
	bool any = false;
	int best = -1, q = 0;

	if (!accept)
		return 1000;
	if (!parse_range(type, &offer))
		return 0;
	for (const char *p = accept;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;                  /* empty list elements (RFC 9110 §5.6.1) */
		if (!*p)
			break;
		const char *end = parse_range(p, &r);
		if (!end) {
			p = skip_element(p);
			continue;
		}
		any = true;
		int m = match(&r, &offer);
		if (m >= 0 && (m > best || (m == best && r.q > q))) {
			best = m;
			q = r.q;
		}
		p = end;
	}
	if (!any)
		return 1000;
	return best < 0 ? 0 : q;
}

int lis_accept_choose(const char *accept, const char *const *offers, size_t n, int *weights)
{
	int pick = -1, top = 0;
	for (size_t i = 0; i < n; i++) {
		int w = lis_accept_weight(accept, offers[i]);
		if (weights)
			weights[i] = w;
		if (w > top) {
			top = w;
			pick = (int)i;
		}
	}
	return pick;
}
