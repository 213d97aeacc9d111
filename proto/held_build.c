/* HELD locationResponse and error documents (RFC 5985 §5.2, §5.3; codes §6.3). */
#include "held.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "pidf_tree.h"
#include "xml_safe.h"

static const char *const code_names[] = {
	[HELD_E_REQUEST_ERROR] = "requestError",
	[HELD_E_XML_ERROR] = "xmlError",
	[HELD_E_GENERAL_LIS_ERROR] = "generalLisError",
	[HELD_E_LOCATION_UNKNOWN] = "locationUnknown",
	[HELD_E_UNSUPPORTED_MESSAGE] = "unsupportedMessage",
	[HELD_E_TIMEOUT] = "timeout",
	[HELD_E_CANNOT_PROVIDE_LI_TYPE] = "cannotProvideLiType",
	[HELD_E_NOT_LOCATABLE] = "notLocatable",
	[HELD_E_BAD_IDENTIFIER] = "badIdentifier",
};

const char *held_error_code_name(enum held_error_code code)
{
	if ((int)code <= HELD_OK || (size_t)code >= sizeof code_names / sizeof code_names[0])
		return NULL;
	return code_names[code];
}

/* A document whose root is a HELD_NS element (default namespace) named `name`. */
static xmlDocPtr new_held_doc(const char *name, xmlNodePtr *root)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr r = doc ? xmlNewDocNode(doc, NULL, BAD_CAST name, NULL) : NULL;
	xmlNsPtr ns = r ? xmlNewNs(r, BAD_CAST HELD_NS, NULL) : NULL;
	if (!ns) {
		xmlFreeNode(r);
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlSetNs(r, ns);
	xmlDocSetRootElement(doc, r);
	*root = r;
	return doc;
}

/* <child>text</child> in the parent's namespace; NULL on allocation failure. */
static xmlNodePtr add_text_child(xmlNodePtr parent, const char *name, const char *text)
{
	xmlNodePtr n = xmlNewDocNode(parent->doc, parent->ns, BAD_CAST name, NULL);
	if (!n)
		return NULL;
	xmlAddChild(parent, n);
	xmlNodePtr t = xmlNewDocText(parent->doc, BAD_CAST text);
	if (!t)
		return NULL;
	xmlAddChild(n, t);
	return n;
}

int held_build_error(enum held_error_code code, const char *message, char **out,
		     size_t *out_len, struct lis_error *err)
{
	if (!out)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "no output buffer");
	*out = NULL;
	const char *name = held_error_code_name(code);
	if (!name)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "%d is not a HELD error code",
				      (int)code);
	xmlNodePtr root;
	xmlDocPtr doc = new_held_doc("error", &root);
	if (!doc)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "out of memory building error");
	bool ok = xmlNewProp(root, BAD_CAST "code", BAD_CAST name) != NULL;
	if (ok && message && message[0]) {
		/* an error answer must always go out: degrade a bad message, never fail on it */
		char safe[256];
		if (!xml_safe_text_ok(message)) {
			xml_safe_quote(safe, sizeof safe, message, sizeof safe - 4);
			message = safe;
		}
		xmlNodePtr m = add_text_child(root, "message", message);
		if (m)
			xmlNodeSetLang(m, BAD_CAST "en");
		ok = m != NULL;
	}
	int rc = ok ? xml_safe_dump(doc, out, out_len, err)
		    : lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "out of memory building error");
	xmlFreeDoc(doc);
	return rc;
}

/* RFC 5985 §6.5: locationUriSet expires="dateTime" with one or more locationURI. */
static int add_uri_set(xmlNodePtr root, const struct held_uri_set *uris, struct lis_error *err)
{
	char expires[32];
	if (!uris->uris || uris->n == 0)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "locationUriSet needs at least one URI");
	if (pidf_format_time(expires, sizeof expires, uris->expires) < 0)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "locationUriSet expires out of range");
	for (size_t i = 0; i < uris->n; i++)
		if (!uris->uris[i] || !uris->uris[i][0] || !xml_safe_text_ok(uris->uris[i]))
			return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
					      "location URI %zu is empty or not valid text", i + 1);
	xmlNodePtr set = xmlNewDocNode(root->doc, root->ns, BAD_CAST "locationUriSet", NULL);
	if (!set)
		goto oom;
	xmlAddChild(root, set);
	if (!xmlNewProp(set, BAD_CAST "expires", BAD_CAST expires))
		goto oom;
	for (size_t i = 0; i < uris->n; i++)
		if (!add_text_child(set, "locationURI", uris->uris[i]))
			goto oom;
	return 0;
oom:
	return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "out of memory building response");
}

/* "00-50-B6-A1-C2-D3": what the RFC 6155 §6 schema's macAddress pattern allows; text that
 * already matches is kept as written. -1 when text is no MAC at all. */
static int mac_for_schema(const char *text, char *buf, size_t size)
{
	bool ok = strlen(text) == 17;
	for (size_t i = 0; ok && i < 17; i++) {
		char c = text[i];
		ok = i % 3 == 2 ? c == '-' : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
					     (c >= 'A' && c <= 'F');
	}
	uint8_t m[6];
	if (ok)
		snprintf(buf, size, "%s", text);
	else if (ident_mac_parse(text, m) == 0)
		snprintf(buf, size, "%02X-%02X-%02X-%02X-%02X-%02X", m[0], m[1], m[2], m[3], m[4],
			 m[5]);
	else
		return -1;
	return 0;
}

int held_device_id_text(const struct ident *id, char *text, size_t size, const char **element,
			const char **v)
{
	const struct ident_kind_info *ki = ident_kind_info(id->kind);
	unsigned char addr[16];
	if (!ki || !ki->element)
		return -1;
	*element = ki->element;
	int bad = 0;
	if (id->kind == IDENT_MAC)
		bad = mac_for_schema(id->value, text, size);
	else
		snprintf(text, size, "%s", id->value);
	if (bad || !text[0] || !xml_safe_text_ok(text))
		return -2;
	/* §3.1: v is the IP version, one hex digit */
	*v = id->kind != IDENT_IP ? NULL : inet_pton(AF_INET, text, addr) == 1 ? "4" : "6";
	return 0;
}

/* RFC 6155 §2.2 echo: <device xmlns="...:held:id"> with one element per identifier. */
static int add_device(xmlNodePtr root, const struct held_device *device, struct lis_error *err)
{
	if (!device->ids || device->n == 0)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "device echo without identifiers");
	xmlNodePtr dev = xmlNewDocNode(root->doc, NULL, BAD_CAST "device", NULL);
	xmlNsPtr ns = dev ? xmlNewNs(dev, BAD_CAST HELD_ID_NS, NULL) : NULL;
	if (!ns) {
		xmlFreeNode(dev);
		goto oom;
	}
	xmlSetNs(dev, ns);
	xmlAddChild(root, dev);
	for (size_t i = 0; i < device->n; i++) {
		char text[IDENT_VALUE_MAX];
		const char *element, *v;
		int bad = held_device_id_text(&device->ids[i], text, sizeof text, &element, &v);
		if (bad == -1)
			return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
					      "identifier %zu has no RFC 6155 element", i + 1);
		if (bad < 0)
			return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
					      "identifier %zu is empty or not valid text", i + 1);
		xmlNodePtr e = add_text_child(dev, element, text);
		if (!e || (v && !xmlNewProp(e, BAD_CAST "v", BAD_CAST v)))
			goto oom;
	}
	return 0;
oom:
	return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "out of memory building response");
}

int held_build_response(const struct held_uri_set *uris, const struct pidf_doc *pidf,
			const struct held_device *device, char **out, size_t *out_len,
			struct lis_error *err)
{
	if (!out)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "no output buffer");
	*out = NULL;
	if (!uris && !pidf)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "locationResponse needs a locationUriSet or a presence");
	xmlNodePtr root;
	xmlDocPtr doc = new_held_doc("locationResponse", &root);
	if (!doc)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "out of memory building response");
	/* RFC 5985 §7 schema order: locationUriSet, then elements of other namespaces: the
	 * presence (§6.6), then the device echo (RFC 6155 §2.2) */
	int rc = 0;
	if (uris)
		rc = add_uri_set(root, uris, err);
	if (rc == 0 && pidf) {
		xmlNodePtr presence;
		rc = pidf_presence_new(doc, pidf, &presence, err);
		if (rc == 0)
			xmlAddChild(root, presence);
	}
	if (rc == 0 && device)
		rc = add_device(root, device, err);
	if (rc == 0)
		rc = xml_safe_dump(doc, out, out_len, err);
	xmlFreeDoc(doc);
	return rc;
}
