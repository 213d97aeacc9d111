/* HELD locationRequest parsing (RFC 5985 §6.1, §6.2; RFC 6155 device identity).
 *
 * Which error code, and why (RFC 5985 §6.3, the HELD error codes; wording as registered in
 * the IANA "HELD Error Codes" registry):
 * - xmlError: "the XML content of the request was either badly formed or invalid". So a
 *   body that is not well-formed, that carries a DTD, that is too big or too deep, and a
 *   value the schema does not allow (an unknown locationType token, an exact that is not
 *   an xs:boolean, a responseTime that is neither token nor non-negative integer, text or
 *   elements where the schema has none) is xmlError: the document is not valid.
 * - unsupportedMessage: "a HELD request contains a document element that is not supported
 *   by the receiver": any document element other than locationRequest, and an element of
 *   the HELD namespace we do not know (a newer HELD message part we cannot honour).
 * - requestError: "badly formed in some fashion" where the document is still valid: a
 *   responseTime too large to hold, more device identifiers than we keep, two devices.
 * - badIdentifier (RFC 6155, same registry): a device identifier that is badly formatted, and
 *   what names a target lisd will not locate (see names_a_target()).
 * Elements of other namespaces are extensions (the schema's xs:any namespace="##other"
 * processContents="lax") and are ignored, except RFC 6155 device, which we read, and those
 * that name a target.
 *
 * The document is read as it is parsed (xml_safe_read(): libxml2's hardened parser, no tree):
 * each check runs where the walk of a tree would have run it, in document order, and the
 * first one that fails is the answer, unless the document proves not well-formed or too deep
 * by its end (xml_safe_read()'s refusals come first, as when a tree was built before any
 * check). Text an element must hold whole (a locationType, an identifier, a BSSID) is
 * gathered, comments left out, and judged at the element's end. */
#include "held.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml_safe.h"
#include "lis_strbuf.h"

/* How many characters of an offending value go back to the client. */
#define QUOTE_MAX 40

static bool is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is(const xmlChar *s, const char *t)
{
	return s && strcmp((const char *)s, t) == 0;
}

/* Trim XML whitespace (xs:token / whiteSpace="collapse" ends) in place; returns the start. */
static char *trim(char *s)
{
	while (is_xml_space(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_xml_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

static const char *quote(char *buf, size_t size, const char *s)
{
	xml_safe_quote(buf, size, s, QUOTE_MAX);
	return buf;
}

/* Text gathered from the parser's pieces: in the struct up to its size (every request that is
 * not odd), on the heap beyond (bounded by the document's size). */
struct text {
	char *s;
	size_t len, cap;
	bool oom;
	char mem[320];
};

static void text_reset(struct text *t)
{
	if (t->s && t->s != t->mem)
		free(t->s);
	t->s = t->mem;
	t->cap = sizeof t->mem;
	t->len = 0;
	t->mem[0] = '\0';
	t->oom = false;
}

static void text_add(struct text *t, const char *p, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap * 2;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *grown = t->s == t->mem ? malloc(cap) : realloc(t->s, cap);
		if (!grown) {
			t->oom = true;
			return;
		}
		if (t->s == t->mem)
			memcpy(grown, t->mem, t->len + 1);
		t->s = grown;
		t->cap = cap;
	}
	memcpy(t->s + t->len, p, n);
	t->len += n;
	t->s[t->len] = '\0';
}

/* The value of the attribute name without a namespace (what xmlGetNoNsProp() read from a
 * tree), NUL-terminated in t, each "&#38;" the parser left for a '&' made a '&' again; NULL
 * when the element has no such attribute (or memory ran out: t->oom). */
static char *attr(int n_attrs, const xmlChar **a, const char *name, struct text *t)
{
	text_reset(t);
	for (int i = 0; i < n_attrs; i++, a += 5) {
		if (a[2] || !is(a[0], name))
			continue;
		const char *v = (const char *)a[3], *end = (const char *)a[4];
		while (v < end) {
			const char *amp = memchr(v, '&', (size_t)(end - v));
			if (!amp) {
				text_add(t, v, (size_t)(end - v));
				break;
			}
			text_add(t, v, (size_t)(amp - v));
			text_add(t, "&", 1);
			v = (size_t)(end - amp) >= 5 && memcmp(amp, "&#38;", 5) == 0 ? amp + 5
										: amp + 1;
		}
		return t->oom ? NULL : t->s;
	}
	return NULL;
}

/* generalLisError: memory ran out while reading the request. Returns -1. */
static int no_memory(struct lis_error *err)
{
	return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "out of memory parsing the request");
}

/* RFC 5985 §6.1: responseTime is emergencyRouting, emergencyDispatch or a non-negative
 * integer count of milliseconds. */
static int parse_response_time(char *value, struct held_request *req, struct lis_error *err)
{
	char q[64];
	char *v = trim(value);
	if (strcmp(v, "emergencyRouting") == 0) {
		req->rt = HELD_RT_EMERGENCY_ROUTING;
		return 0;
	}
	if (strcmp(v, "emergencyDispatch") == 0) {
		req->rt = HELD_RT_EMERGENCY_DISPATCH;
		return 0;
	}
	if (*v == '\0')
		return lis_error_held(err, HELD_E_XML_ERROR, "responseTime is empty");
	unsigned long ms = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return lis_error_held(err, HELD_E_XML_ERROR,
					      "responseTime \"%s\" is not emergencyRouting, "
					      "emergencyDispatch or a number of milliseconds",
					      quote(q, sizeof q, v));
		unsigned d = (unsigned)(*p - '0');
		if (ms > (ULONG_MAX - d) / 10)
			return lis_error_held(err, HELD_E_REQUEST_ERROR,
					      "responseTime \"%s\" is too large",
					      quote(q, sizeof q, v));
		ms = ms * 10 + d;
	}
	req->rt = HELD_RT_MILLISECONDS;
	req->rt_ms = ms;
	return 0;
}

/* xs:boolean: true, false, 1, 0 (whitespace collapsed). */
static int parse_boolean(char *value, bool *out)
{
	char *v = trim(value);
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* A BSSID as RFC 7105 writes it (IEEE form, 00-12-F0-A0-80-EF), or with colons; stored as
 * lower-case colon form. False when it is neither. */
static bool parse_bssid(const char *s, char out[18])
{
	if (strlen(s) != 17)
		return false;
	char sep = s[2];
	if (sep != '-' && sep != ':')
		return false;
	for (int i = 0; i < 17; i++) {
		char c = s[i];
		if (i % 3 == 2) {
			if (c != sep)
				return false;
			out[i] = ':';
		} else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
			out[i] = c;
		} else if (c >= 'A' && c <= 'F') {
			out[i] = (char)(c - 'A' + 'a');
		} else {
			return false;
		}
	}
	out[17] = '\0';
	return true;
}

/* What the kinds an element may carry are, for a message: "a sip: or sips: URI or a tel:
 * URI". */
static const char *element_what(const char *element, char *buf, size_t size)
{
	struct strbuf b;  /* every identifier of every request: no printf */
	strbuf_init_text(&b, buf, size);
	for (int k = 0; k < IDENT_N_KINDS; k++) {
		const struct ident_kind_info *ki = ident_kind_info((enum ident_kind)k);
		if (ki->element && strcmp(ki->element, element) == 0)
			strbuf_cat(&b, b.len ? " or " : "", ki->what);
	}
	return buf;
}

/* What an element is to the reader. Depth 1 is the document element. */
enum role {
	R_REQUEST,        /* locationRequest */
	R_LOCATION_TYPE,  /* its locationType */
	R_DEVICE,         /* its RFC 6155 device */
	R_IDENTIFIER,     /* an identifier of the device, of a kind lisd knows */
	R_MEASUREMENTS,   /* RFC 7105 measurements */
	R_WIFI,           /* their 802.11 part */
	R_AP,             /* an access point of it */
	R_BSSID,          /* the first bssid of that access point */
};
#define ROLE_DEPTH 5      /* measurements/wifi/ap/bssid under locationRequest */

struct reader {
	struct held_request *req;
	struct lis_error *err;
	bool failed;               /* a check failed: err holds the answer, the rest is not read */
	unsigned depth;            /* of the element the parser is in (0: none yet) */
	unsigned skip;             /* nonzero: the depth of an element whose content is not
				    * read (an extension, an identifier of no known kind, ...) */
	enum role role[ROLE_DEPTH + 1];
	bool seen_location_type;
	char element[32];          /* the identifier being read (of a known kind: short) */
	int ip_version;            /* its v attribute: 4 or 6; 0 for neither */
	bool bssid_seen;           /* the access point's first bssid element started */
	bool bssid_ok;             /* it held a BSSID, now in bssid */
	bool bssid_elements;       /* it held elements: no BSSID */
	bool serving;              /* the access point's serving attribute */
	char bssid[18];
	struct text text;          /* of the locationType, identifier or BSSID being read */
	struct text value;         /* of an attribute */
};

/* Does the element name (namespace uri), a child of locationRequest or of device, name the target in a way lisd does not
 * honour? RFC 6915 §3: a <flow> says "which end of the flow corresponds to the Target of the
 * <locationRequest>", as a child of locationRequest in its example, or inside a device
 * (whose content is ##any). RFC 6155 §6 makes each identifier a global element, so the
 * schema's wildcard lets <ip>, <mac>, <uri>... through outside a device as well; RFC 6155
 * §2.2 carries them in a device. RFC 5985 §5.1 has a LIS ignore what it does not
 * understand, but ignoring these would locate the requester in place of the target they
 * name: they get badIdentifier, "an identifier that is ... not supported by the LIS" (RFC
 * 6155 §2.2), with words saying why. Returns -1 with err filled for such an element, else
 * 0. in_device: it is a child of device (where the identifiers of RFC 6155 belong). */
static int names_a_target(const xmlChar *name, const xmlChar *uri, bool in_device,
			  struct lis_error *err)
{
	char q[64];
	if (is(uri, HELD_FLOW_NS))
		return lis_error_held(err, HELD_E_BAD_IDENTIFIER,
				      "<%s> (RFC 6915 flow identity) names the target by a network "
				      "flow, which this LIS does not support; it does not answer "
				      "with the requester's own location instead",
				      quote(q, sizeof q, (const char *)name));
	if (!in_device && is(uri, HELD_ID_NS) && !is(name, "device") &&
	    !is(name, "requiredIdentifiers"))
		return lis_error_held(err, HELD_E_BAD_IDENTIFIER,
				      "identifier <%s> must be inside <device> (RFC 6155 section "
				      "2.2); this LIS does not answer with the requester's own "
				      "location instead",
				      quote(q, sizeof q, (const char *)name));
	return 0;
}

/* RFC 5985 §6.3 unsupportedMessage for a document element the LIS does not support;
 * locationRequest's responseTime. */
static int start_request(struct reader *r, const xmlChar *name, const xmlChar *uri,
			 int n_attrs, const xmlChar **attrs)
{
	char q[64];
	if (!is(uri, HELD_NS) || !is(name, "locationRequest")) {
		const char *n = quote(q, sizeof q, (const char *)name);
		if (is(uri, HELD_NS))
			return lis_error_held(r->err, HELD_E_UNSUPPORTED_MESSAGE,
					      "HELD message <%s> is not supported; send "
					      "locationRequest", n);
		return lis_error_held(r->err, HELD_E_UNSUPPORTED_MESSAGE,
				      "document element <%s> is not a HELD locationRequest "
				      "(namespace %s)", n, HELD_NS);
	}
	r->role[1] = R_REQUEST;
	char *rt = attr(n_attrs, attrs, "responseTime", &r->value);
	if (r->value.oom)
		return no_memory(r->err);
	return rt ? parse_response_time(rt, r->req, r->err) : 0;
}

/* RFC 5985 §6.2: locationType's exact attribute, defaulting to false (its words are judged
 * at its end: end_location_type()). */
static int start_location_type(struct reader *r, int n_attrs, const xmlChar **attrs)
{
	char q[64];
	if (r->seen_location_type)
		return lis_error_held(r->err, HELD_E_XML_ERROR,
				      "locationType appears more than once");
	r->seen_location_type = true;
	char *exact = attr(n_attrs, attrs, "exact", &r->value);
	if (exact && parse_boolean(exact, &r->req->exact) < 0)
		return lis_error_held(r->err, HELD_E_XML_ERROR,
				      "locationType exact=\"%s\" is not true, false, 1 or 0",
				      quote(q, sizeof q, exact));
	if (r->value.oom)
		return no_memory(r->err);
	text_reset(&r->text);
	return 0;
}

/* A child element of locationRequest. */
static int start_request_child(struct reader *r, const xmlChar *name, const xmlChar *uri,
			       int n_attrs, const xmlChar **attrs, enum role *role)
{
	char q[64];
	if (is(uri, HELD_NS)) {
		if (!is(name, "locationType"))
			return lis_error_held(r->err, HELD_E_UNSUPPORTED_MESSAGE,
					      "HELD element <%s> is not supported",
					      quote(q, sizeof q, (const char *)name));
		*role = R_LOCATION_TYPE;
		return start_location_type(r, n_attrs, attrs);
	}
	if (!uri)
		/* xs:any namespace="##other" admits no unqualified elements */
		return lis_error_held(r->err, HELD_E_XML_ERROR,
				      "element <%s> in locationRequest has no namespace",
				      quote(q, sizeof q, (const char *)name));
	if (names_a_target(name, uri, false, r->err) < 0)
		return -1;
	if (is(uri, HELD_ID_NS) && is(name, "device")) {
		/* RFC 6155: <device xmlns="urn:ietf:params:xml:ns:geopriv:held:id"> holding one
		 * or more identifiers of the same device */
		if (r->req->has_device)
			return lis_error_held(r->err, HELD_E_REQUEST_ERROR,
					      "the request names more than one device");
		r->req->has_device = true;
		*role = R_DEVICE;
		return 0;
	}
	if (is(uri, HELD_LM_NS) && is(name, "measurements")) {
		*role = R_MEASUREMENTS;
		return 0;
	}
	return 1;  /* an extension we do not understand: ignore it */
}

/* A child element of device: one RFC 6155 identifier. One of a kind lisd knows is read at
 * its end (end_identifier()); another is kept by name, so that the caller can say which
 * identifier it does not support. */
static int start_identifier(struct reader *r, const xmlChar *name, const xmlChar *uri,
			    int n_attrs, const xmlChar **attrs, enum role *role)
{
	char what[128];
	struct held_request *req = r->req;
	if (names_a_target(name, uri, true, r->err) < 0)
		return -1;
	if (req->n_ids == HELD_MAX_IDS)
		return lis_error_held(r->err, HELD_E_REQUEST_ERROR,
				      "the device has more than %d identifiers", HELD_MAX_IDS);
	struct ident *id = &req->ids[req->n_ids], *given = &req->given[req->n_ids];
	memset(id, 0, sizeof *id);
	memset(given, 0, sizeof *given);
	if (!is(uri, HELD_ID_NS) || !element_what((const char *)name, what, sizeof what)[0] ||
	    strlen((const char *)name) >= sizeof r->element) {
		id->kind = IDENT_OTHER;
		snprintf(id->value, sizeof id->value, "%s", (const char *)name);
		*given = *id;
		req->n_ids++;
		return 1;
	}
	snprintf(r->element, sizeof r->element, "%s", (const char *)name);
	r->ip_version = 0;
	if (is(name, "ip")) {
		/* RFC 6155 §3.1: ip with v="4" or v="6" */
		char *v = attr(n_attrs, attrs, "v", &r->value);
		char *ver = v ? trim(v) : NULL;
		if (ver && strcmp(ver, "4") == 0)
			r->ip_version = 4;
		else if (ver && strcmp(ver, "6") == 0)
			r->ip_version = 6;
	}
	text_reset(&r->text);
	*role = R_IDENTIFIER;
	return 0;
}

/* One RFC 6155 identifier into an identity of the kind it carries (ident.h), read by that
 * kind's parser: a value the kind does not allow is badIdentifier (RFC 6155 §2.2). given
 * gets the same kind with the value as written, for the echo. */
static int end_identifier(struct reader *r)
{
	char q[64], qv[64], what[128];
	struct held_request *req = r->req;
	struct ident *id = &req->ids[req->n_ids], *given = &req->given[req->n_ids];
	const char *element = r->element;
	if (r->text.oom)
		return no_memory(r->err);
	element_what(element, what, sizeof what);
	const char *name = quote(q, sizeof q, element);
	char *v = trim(r->text.s);
	size_t len = strlen(v);
	if (len == 0)
		return lis_error_held(r->err, HELD_E_BAD_IDENTIFIER,
				      "device identifier <%s> is empty", name);
	if (len >= sizeof id->value)
		return lis_error_held(r->err, HELD_E_BAD_IDENTIFIER,
				      "device identifier <%s> is longer than %zu bytes", name,
				      sizeof id->value - 1);
	if (strcmp(element, "ip") == 0) {
		unsigned char addr[16];
		int version = r->ip_version;
		if (!version)
			return lis_error_held(r->err, HELD_E_BAD_IDENTIFIER,
					      "device identifier <ip> needs v=\"4\" or v=\"6\"");
		if (inet_pton(version == 4 ? AF_INET : AF_INET6, v, addr) != 1)
			return lis_error_held(r->err, HELD_E_BAD_IDENTIFIER,
					      "device identifier <ip v=\"%d\"> \"%s\" is not an "
					      "IPv%d address", version, quote(qv, sizeof qv, v),
					      version);
	}
	if (ident_parse_element(element, v, id) < 0)
		return lis_error_held(r->err, HELD_E_BAD_IDENTIFIER,
				      "device identifier <%s> \"%s\" is not %s", name,
				      quote(qv, sizeof qv, v), what);
	given->kind = id->kind;
	memcpy(given->value, v, len + 1);
	req->n_ids++;
	return 0;
}

/* RFC 5985 §6.2: locationType lists the forms wanted, kept in the order given (the answer
 * SHOULD follow it); "any" leaves the list empty. The §7 schema makes its value a union:
 * the token "any" alone, or a list of civic, geodetic and locationURI with minLength 1
 * (duplicates allowed). "civic any" and an empty element are neither, so they are xmlError
 * ("invalid"), not read as any. */
static int end_location_type(struct reader *r)
{
	char q[64];
	if (r->text.oom)
		return no_memory(r->err);
	unsigned n_tokens = 0;
	bool any = false;
	char *save = NULL;
	for (char *tok = strtok_r(r->text.s, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		n_tokens++;
		if (strcmp(tok, "any") == 0)
			any = true;
		else if (strcmp(tok, "civic") == 0)
			held_loctypes_add(&r->req->loctypes, HELD_LT_CIVIC);
		else if (strcmp(tok, "geodetic") == 0)
			held_loctypes_add(&r->req->loctypes, HELD_LT_GEODETIC);
		else if (strcmp(tok, "locationURI") == 0)
			held_loctypes_add(&r->req->loctypes, HELD_LT_URI);
		else
			return lis_error_held(r->err, HELD_E_XML_ERROR,
					      "locationType \"%s\" is not any, civic, geodetic or "
					      "locationURI", quote(q, sizeof q, tok));
	}
	if (n_tokens == 0)
		return lis_error_held(r->err, HELD_E_XML_ERROR,
				      "locationType is empty: give any, or a list of civic, "
				      "geodetic and locationURI, or leave the element out");
	if (any && n_tokens > 1)
		return lis_error_held(r->err, HELD_E_XML_ERROR,
				      "locationType \"any\" must stand alone, not in a list with "
				      "civic, geodetic or locationURI");
	return 0;
}

/* RFC 7105 §5.3 measurements, 802.11 part: the access points the client sees, the one it is
 * associated with marked serving="true". Measurements are hints (§3: a LIS uses what it
 * can), so an AP entry we cannot read is skipped, not an error, and APs past HELD_MAX_WIFI
 * are ignored: these return 0 for an element read, 1 for one ignored, never an error. */
static int start_measurement(struct reader *r, enum role parent, const xmlChar *name,
			     const xmlChar *uri, int n_attrs, const xmlChar **attrs,
			     enum role *role)
{
	if (parent == R_MEASUREMENTS && is(uri, HELD_LM_WIFI_NS) && is(name, "wifi")) {
		*role = R_WIFI;
		return 0;
	}
	if (parent == R_WIFI && is(uri, HELD_LM_WIFI_NS) && is(name, "ap") &&
	    r->req->n_wifi < HELD_MAX_WIFI) {
		r->bssid_seen = false;
		r->bssid_ok = false;
		char *serving = attr(n_attrs, attrs, "serving", &r->value);
		r->serving = false;
		if (serving && parse_boolean(serving, &r->serving) < 0)
			r->serving = false;
		*role = R_AP;
		return 0;
	}
	if (parent == R_AP && is(uri, HELD_LM_WIFI_NS) && is(name, "bssid") && !r->bssid_seen) {
		r->bssid_seen = true;  /* the first only, whatever it holds */
		r->bssid_elements = false;
		text_reset(&r->text);
		*role = R_BSSID;
		return 0;
	}
	if (parent == R_BSSID)
		r->bssid_elements = true;  /* not a BSSID: the access point is skipped */
	return 1;
}

static void on_start(void *user, const xmlChar *name, const xmlChar *uri, int n_attrs,
		     const xmlChar **attrs)
{
	struct reader *r = user;
	unsigned depth = ++r->depth;
	if (r->failed || (r->skip && depth > r->skip))
		return;
	char q[64];
	enum role role = R_REQUEST;
	int rc = 1;
	if (depth == 1) {
		rc = start_request(r, name, uri, n_attrs, attrs);
		role = R_REQUEST;
	} else {
		switch (r->role[depth - 1]) {
		case R_REQUEST:
			rc = start_request_child(r, name, uri, n_attrs, attrs, &role);
			break;
		case R_LOCATION_TYPE:
			rc = lis_error_held(r->err, HELD_E_XML_ERROR,
					    "locationType must hold a list of words, not elements");
			break;
		case R_DEVICE:
			rc = start_identifier(r, name, uri, n_attrs, attrs, &role);
			break;
		case R_IDENTIFIER:
			rc = lis_error_held(r->err, HELD_E_BAD_IDENTIFIER,
					    "device identifier <%s> must hold text, not elements",
					    quote(q, sizeof q, r->element));
			break;
		case R_MEASUREMENTS:
		case R_WIFI:
		case R_AP:
		case R_BSSID:
			rc = start_measurement(r, r->role[depth - 1], name, uri, n_attrs, attrs,
					       &role);
			break;
		}
	}
	if (rc < 0)
		r->failed = true;
	else if (rc > 0 || depth > ROLE_DEPTH)
		r->skip = depth;
	else
		r->role[depth] = role;
}

static void on_end(void *user)
{
	struct reader *r = user;
	unsigned depth = r->depth--;
	if (r->failed || (r->skip && depth > r->skip))
		return;
	if (r->skip == depth) {
		r->skip = 0;
		return;
	}
	int rc = 0;
	switch (r->role[depth]) {
	case R_LOCATION_TYPE:
		rc = end_location_type(r);
		break;
	case R_IDENTIFIER:
		rc = end_identifier(r);
		break;
	case R_DEVICE:
		if (r->req->n_ids == 0)
			rc = lis_error_held(r->err, HELD_E_REQUEST_ERROR,
					    "the device names no identifier");
		break;
	case R_BSSID:
		r->bssid_ok = !r->bssid_elements && !r->text.oom &&
			      parse_bssid(trim(r->text.s), r->bssid);
		break;
	case R_AP:
		if (r->bssid_ok) {
			struct held_wifi_ap *out = &r->req->wifi[r->req->n_wifi++];
			memcpy(out->bssid, r->bssid, sizeof out->bssid);
			out->serving = r->serving;
		}
		break;
	case R_REQUEST:
	case R_MEASUREMENTS:
	case R_WIFI:
		break;
	}
	if (rc < 0)
		r->failed = true;
}

static void on_text(void *user, const xmlChar *s, int len)
{
	struct reader *r = user;
	if (r->failed || r->depth == 0 || (r->skip && r->depth >= r->skip))
		return;
	int rc = 0;
	switch (r->role[r->depth]) {
	case R_REQUEST:
	case R_DEVICE:
		for (int i = 0; i < len; i++)
			if (!is_xml_space((char)s[i])) {
				rc = lis_error_held(r->err, HELD_E_XML_ERROR,
						    r->role[r->depth] == R_REQUEST
							    ? "locationRequest must not hold text"
							    : "device must hold identifier "
							      "elements, not text");
				break;
			}
		break;
	case R_LOCATION_TYPE:
	case R_IDENTIFIER:
	case R_BSSID:
		text_add(&r->text, (const char *)s, (size_t)len);
		break;
	case R_MEASUREMENTS:
	case R_WIFI:
	case R_AP:
		break;
	}
	if (rc < 0)
		r->failed = true;
}

int held_parse_request(const char *buf, size_t len, const struct held_limits *limits,
		       struct held_request *req, struct lis_error *err)
{
	struct held_request scratch;
	if (!req)
		req = &scratch;
	memset(req, 0, sizeof *req);
	size_t max_bytes = HELD_DEFAULT_MAX_BYTES;
	unsigned max_depth = HELD_DEFAULT_MAX_DEPTH;
	if (limits && limits->max_bytes)
		max_bytes = limits->max_bytes;
	if (limits && limits->max_depth)
		max_depth = limits->max_depth;

	struct lis_error perr = { 0 }, rerr = { 0 };
	struct reader r = { .req = req, .err = &rerr };
	text_reset(&r.text);
	text_reset(&r.value);
	struct xml_safe_reader reader = { .user = &r, .start = on_start, .end = on_end,
					  .text = on_text };
	int rc = xml_safe_read(buf, len, max_bytes, max_depth, &reader, &perr);
	text_reset(&r.text);
	text_reset(&r.value);
	if (rc < 0) {
		memset(req, 0, sizeof *req);
		return lis_error_held(err, perr.code == LIS_E_SYSTEM ? HELD_E_GENERAL_LIS_ERROR
				      : HELD_E_XML_ERROR,
				      "%s", perr.msg);
	}
	if (r.failed) {
		memset(req, 0, sizeof *req);
		if (err)
			*err = rerr;
		return -1;
	}
	if (err) {
		err->code = LIS_OK;
		err->held = 0;
		err->msg[0] = '\0';
	}
	return 0;
}
