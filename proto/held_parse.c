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
 * that name a target. */
#include "held.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "xml_safe.h"
#include "lis_strbuf.h"

/* How many characters of an offending value go back to the client. */
#define QUOTE_MAX 40

static bool is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool node_ns_is(const xmlNode *n, const char *uri)
{
	return n->ns && n->ns->href && strcmp((const char *)n->ns->href, uri) == 0;
}

static bool node_name_is(const xmlNode *n, const char *name)
{
	return n->name && strcmp((const char *)n->name, name) == 0;
}

static bool all_space(const xmlChar *s)
{
	for (; s && *s; s++)
		if (!is_xml_space((char)*s))
			return false;
	return true;
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

/* Text of an element that must have simple content (no child elements), malloc'd by
 * libxml2; NULL if it has child elements (or on allocation failure). */
static xmlChar *simple_content(xmlNodePtr n)
{
	if (xmlFirstElementChild(n))
		return NULL;
	xmlChar *s = xmlNodeGetContent(n);
	if (!s)
		s = xmlStrdup(BAD_CAST "");
	return s;
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

/* RFC 5985 §6.2: locationType lists the forms wanted, kept in the order given (the answer
 * SHOULD follow it); "any" leaves the list empty. The §7 schema makes its value a union:
 * the token "any" alone, or a list of civic, geodetic and locationURI with minLength 1
 * (duplicates allowed). "civic any" and an empty element are neither, so they are xmlError
 * ("invalid"), not read as any. Attribute exact defaults to false. */
static int parse_location_type(xmlNodePtr n, struct held_request *req, struct lis_error *err)
{
	char q[64];
	xmlChar *exact = xmlGetNoNsProp(n, BAD_CAST "exact");
	if (exact) {
		int rc = parse_boolean((char *)exact, &req->exact);
		if (rc < 0)
			lis_error_held(err, HELD_E_XML_ERROR,
				       "locationType exact=\"%s\" is not true, false, 1 or 0",
				       quote(q, sizeof q, (const char *)exact));
		xmlFree(exact);
		if (rc < 0)
			return -1;
	}
	xmlChar *text = simple_content(n);
	if (!text)
		return lis_error_held(err, HELD_E_XML_ERROR,
				      "locationType must hold a list of words, not elements");
	int rc = 0;
	unsigned n_tokens = 0;
	bool any = false;
	char *save = NULL;
	for (char *tok = strtok_r((char *)text, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		n_tokens++;
		if (strcmp(tok, "any") == 0)
			any = true;
		else if (strcmp(tok, "civic") == 0)
			held_loctypes_add(&req->loctypes, HELD_LT_CIVIC);
		else if (strcmp(tok, "geodetic") == 0)
			held_loctypes_add(&req->loctypes, HELD_LT_GEODETIC);
		else if (strcmp(tok, "locationURI") == 0)
			held_loctypes_add(&req->loctypes, HELD_LT_URI);
		else {
			rc = lis_error_held(err, HELD_E_XML_ERROR,
					    "locationType \"%s\" is not any, civic, geodetic or "
					    "locationURI", quote(q, sizeof q, tok));
			break;
		}
	}
	xmlFree(text);
	if (rc == 0 && n_tokens == 0)
		rc = lis_error_held(err, HELD_E_XML_ERROR,
				    "locationType is empty: give any, or a list of civic, geodetic "
				    "and locationURI, or leave the element out");
	else if (rc == 0 && any && n_tokens > 1)
		rc = lis_error_held(err, HELD_E_XML_ERROR,
				    "locationType \"any\" must stand alone, not in a list with "
				    "civic, geodetic or locationURI");
	return rc;
}

/* The ip element's v attribute and address; RFC 6155 §3.1 (ip with v="4" or v="6"). */
static int check_ip(xmlNodePtr n, const char *value, struct lis_error *err)
{
	char q[64];
	int version = 0;
	xmlChar *v = xmlGetNoNsProp(n, BAD_CAST "v");
	char *ver = v ? trim((char *)v) : NULL;
	if (ver && strcmp(ver, "4") == 0)
		version = 4;
	else if (ver && strcmp(ver, "6") == 0)
		version = 6;
	xmlFree(v);
	if (!version)
		return lis_error_held(err, HELD_E_BAD_IDENTIFIER,
				      "device identifier <ip> needs v=\"4\" or v=\"6\"");
	unsigned char addr[16];
	if (inet_pton(version == 4 ? AF_INET : AF_INET6, value, addr) != 1)
		return lis_error_held(err, HELD_E_BAD_IDENTIFIER,
				      "device identifier <ip v=\"%d\"> \"%s\" is not an IPv%d "
				      "address", version, quote(q, sizeof q, value), version);
	return 0;
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

/* One RFC 6155 identifier element into an identity of the kind it carries (ident.h), read
 * by that kind's parser: a value the kind does not allow is badIdentifier (RFC 6155 §2.2).
 * given gets the same kind with the value as written, for the echo. */
static int parse_identifier(xmlNodePtr n, struct ident *id, struct ident *given,
			    struct lis_error *err)
{
	char q[64], qv[64], what[128];
	const char *element = (const char *)n->name;
	memset(id, 0, sizeof *id);
	memset(given, 0, sizeof *given);
	if (!node_ns_is(n, HELD_ID_NS) || !element_what(element, what, sizeof what)[0]) {
		/* kept by name so that the caller can say which identifier it does not support */
		id->kind = IDENT_OTHER;
		snprintf(id->value, sizeof id->value, "%s", element);
		*given = *id;
		return 0;
	}
	const char *name = quote(q, sizeof q, element);
	xmlChar *text = simple_content(n);
	if (!text)
		return lis_error_held(err, HELD_E_BAD_IDENTIFIER,
				      "device identifier <%s> must hold text, not elements", name);
	char *v = trim((char *)text);
	size_t len = strlen(v);
	int rc = 0;
	if (len == 0)
		rc = lis_error_held(err, HELD_E_BAD_IDENTIFIER, "device identifier <%s> is empty",
				    name);
	else if (len >= sizeof id->value)
		rc = lis_error_held(err, HELD_E_BAD_IDENTIFIER,
				    "device identifier <%s> is longer than %zu bytes", name,
				    sizeof id->value - 1);
	else if (strcmp(element, "ip") == 0 && check_ip(n, v, err) < 0)
		rc = -1;
	else if (ident_parse_element(element, v, id) < 0)
		rc = lis_error_held(err, HELD_E_BAD_IDENTIFIER,
				    "device identifier <%s> \"%s\" is not %s", name,
				    quote(qv, sizeof qv, v), what);
	if (rc == 0) {
		given->kind = id->kind;
		memcpy(given->value, v, len + 1);
	}
	xmlFree(text);
	return rc;
}

/* Does n, a child of locationRequest or of device, name the target in a way lisd does not
 * honour? RFC 6915 §3: a <flow> says "which end of the flow corresponds to the Target of the
 * <locationRequest>", as a child of locationRequest in its example, or inside a device
 * (whose content is ##any). RFC 6155 §6 makes each identifier a global element, so the
 * schema's wildcard lets <ip>, <mac>, <uri>... through outside a device as well; RFC 6155
 * §2.2 carries them in a device. RFC 5985 §5.1 has a LIS ignore what it does not
 * understand, but ignoring these would locate the requester in place of the target they
 * name: they get badIdentifier, "an identifier that is ... not supported by the LIS" (RFC
 * 6155 §2.2), with words saying why. Returns -1 with err filled for such an element, else
 * 0. in_device: n is a child of device (where the identifiers of RFC 6155 belong). */
static int names_a_target(xmlNodePtr n, bool in_device, struct lis_error *err)
{
	char q[64];
	if (node_ns_is(n, HELD_FLOW_NS))
		return lis_error_held(err, HELD_E_BAD_IDENTIFIER,
				      "<%s> (RFC 6915 flow identity) names the target by a network "
				      "flow, which this LIS does not support; it does not answer "
				      "with the requester's own location instead",
				      quote(q, sizeof q, (const char *)n->name));
	if (!in_device && node_ns_is(n, HELD_ID_NS) && !node_name_is(n, "device") &&
	    !node_name_is(n, "requiredIdentifiers"))
		return lis_error_held(err, HELD_E_BAD_IDENTIFIER,
				      "identifier <%s> must be inside <device> (RFC 6155 section "
				      "2.2); this LIS does not answer with the requester's own "
				      "location instead",
				      quote(q, sizeof q, (const char *)n->name));
	return 0;
}

/* RFC 6155: <device xmlns="urn:ietf:params:xml:ns:geopriv:held:id"> holding one or more
 * identifiers of the same device. */
static int parse_device(xmlNodePtr dev, struct held_request *req, struct lis_error *err)
{
	if (req->has_device)
		return lis_error_held(err, HELD_E_REQUEST_ERROR,
				      "the request names more than one device");
	req->has_device = true;
	for (xmlNodePtr c = dev->children; c; c = c->next) {
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
		    !all_space(c->content))
			return lis_error_held(err, HELD_E_XML_ERROR,
					      "device must hold identifier elements, not text");
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (names_a_target(c, true, err) < 0)
			return -1;
		if (req->n_ids == HELD_MAX_IDS)
			return lis_error_held(err, HELD_E_REQUEST_ERROR,
					      "the device has more than %d identifiers",
					      HELD_MAX_IDS);
		if (parse_identifier(c, &req->ids[req->n_ids], &req->given[req->n_ids], err) < 0)
			return -1;
		req->n_ids++;
	}
	if (req->n_ids == 0)
		return lis_error_held(err, HELD_E_REQUEST_ERROR, "the device names no identifier");
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

/* RFC 7105 §5.3 measurements, 802.11 part: the access points the client sees, the one it is
 * associated with marked serving="true". Measurements are hints (§3: a LIS uses what it
 * can), so an AP entry we cannot read is skipped, not an error, and APs past HELD_MAX_WIFI
 * are ignored. */
static void parse_measurements(xmlNodePtr m, struct held_request *req)
{
	for (xmlNodePtr w = xmlFirstElementChild(m); w; w = xmlNextElementSibling(w)) {
		if (!node_ns_is(w, HELD_LM_WIFI_NS) || !node_name_is(w, "wifi"))
			continue;
		for (xmlNodePtr ap = xmlFirstElementChild(w); ap; ap = xmlNextElementSibling(ap)) {
			if (!node_ns_is(ap, HELD_LM_WIFI_NS) || !node_name_is(ap, "ap"))
				continue;
			if (req->n_wifi == HELD_MAX_WIFI)
				return;
			struct held_wifi_ap *out = &req->wifi[req->n_wifi];
			bool have_bssid = false;
			for (xmlNodePtr f = xmlFirstElementChild(ap); f; f = xmlNextElementSibling(f)) {
				if (!node_ns_is(f, HELD_LM_WIFI_NS) || !node_name_is(f, "bssid"))
					continue;
				xmlChar *text = simple_content(f);
				if (text)
					have_bssid = parse_bssid(trim((char *)text), out->bssid);
				xmlFree(text);
				break;
			}
			if (!have_bssid)
				continue;
			xmlChar *serving = xmlGetNoNsProp(ap, BAD_CAST "serving");
			out->serving = false;
			if (serving && parse_boolean((char *)serving, &out->serving) < 0)
				out->serving = false;
			xmlFree(serving);
			req->n_wifi++;
		}
	}
}

static int parse_location_request(xmlNodePtr root, struct held_request *req,
				  struct lis_error *err)
{
	char q[64];
	if (!node_ns_is(root, HELD_NS) || !node_name_is(root, "locationRequest")) {
		/* RFC 5985 §6.3 unsupportedMessage: a document element the LIS does not support */
		const char *name = quote(q, sizeof q, (const char *)root->name);
		if (node_ns_is(root, HELD_NS))
			return lis_error_held(err, HELD_E_UNSUPPORTED_MESSAGE,
					      "HELD message <%s> is not supported; send "
					      "locationRequest", name);
		return lis_error_held(err, HELD_E_UNSUPPORTED_MESSAGE,
				      "document element <%s> is not a HELD locationRequest "
				      "(namespace %s)", name, HELD_NS);
	}

	xmlChar *rt = xmlGetNoNsProp(root, BAD_CAST "responseTime");
	if (rt) {
		int rc = parse_response_time((char *)rt, req, err);
		xmlFree(rt);
		if (rc < 0)
			return -1;
	}

	bool seen_location_type = false;
	for (xmlNodePtr c = root->children; c; c = c->next) {
		switch (c->type) {
		case XML_ELEMENT_NODE:
			break;
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (!all_space(c->content))
				return lis_error_held(err, HELD_E_XML_ERROR,
						      "locationRequest must not hold text");
			continue;
		case XML_COMMENT_NODE:
		case XML_PI_NODE:
			continue;
		default:
			return lis_error_held(err, HELD_E_XML_ERROR,
					      "unexpected content in locationRequest");
		}
		const char *name = (const char *)c->name;
		if (node_ns_is(c, HELD_NS)) {
			if (!node_name_is(c, "locationType"))
				return lis_error_held(err, HELD_E_UNSUPPORTED_MESSAGE,
						      "HELD element <%s> is not supported",
						      quote(q, sizeof q, name));
			if (seen_location_type)
				return lis_error_held(err, HELD_E_XML_ERROR,
						      "locationType appears more than once");
			seen_location_type = true;
			if (parse_location_type(c, req, err) < 0)
				return -1;
		} else if (!c->ns) {
			/* xs:any namespace="##other" admits no unqualified elements */
			return lis_error_held(err, HELD_E_XML_ERROR,
					      "element <%s> in locationRequest has no namespace",
					      quote(q, sizeof q, name));
		} else if (names_a_target(c, false, err) < 0) {
			return -1;
		} else if (node_ns_is(c, HELD_ID_NS) && node_name_is(c, "device")) {
			if (parse_device(c, req, err) < 0)
				return -1;
		} else if (node_ns_is(c, HELD_LM_NS) && node_name_is(c, "measurements")) {
			parse_measurements(c, req);
		}
		/* anything else is an extension we do not understand: ignore it */
	}
	return 0;
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

	struct lis_error perr = { 0 };
	xmlDocPtr doc = xml_safe_parse(buf, len, max_bytes, max_depth, &perr);
	if (!doc)
		return lis_error_held(err, perr.code == LIS_E_SYSTEM ? HELD_E_GENERAL_LIS_ERROR
				      : HELD_E_XML_ERROR,
				      "%s", perr.msg);
	int rc = parse_location_request(xmlDocGetRootElement(doc), req, err);
	xmlFreeDoc(doc);
	if (rc < 0) {
		memset(req, 0, sizeof *req);
		return -1;
	}
	if (err) {
		err->code = LIS_OK;
		err->held = 0;
		err->msg[0] = '\0';
	}
	return 0;
}
