#include "xp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

static const char *const ns_table[][2] = {
	{"held", "urn:ietf:params:xml:ns:geopriv:held"},
	{"heldid", "urn:ietf:params:xml:ns:geopriv:held:id"},
	{"pidf", "urn:ietf:params:xml:ns:pidf"},
	{"dm", "urn:ietf:params:xml:ns:pidf:data-model"},
	{"gp", "urn:ietf:params:xml:ns:pidf:geopriv10"},
	{"gbp", "urn:ietf:params:xml:ns:pidf:geopriv10:basicPolicy"},
	{"ca", "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"},
	{"gml", "http://www.opengis.net/gml"},
	{"gs", "http://www.opengis.net/pidflo/1.0"},
	{"con", "urn:ietf:params:xml:ns:geopriv:conf"},
};

xmlDocPtr xp_parse(const char *buf, size_t len)
{
	return xmlReadMemory(buf, (int)len, "doc.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
			     XML_PARSE_NOWARNING);
}

static xmlXPathObjectPtr eval(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	if (!ctx)
		return NULL;
	for (size_t i = 0; i < sizeof ns_table / sizeof ns_table[0]; i++)
		xmlXPathRegisterNs(ctx, BAD_CAST ns_table[i][0], BAD_CAST ns_table[i][1]);
	xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlXPathFreeContext(ctx);
	return obj;
}

char *xp_str(xmlDocPtr doc, const char *expr)
{
	size_t n = strlen(expr) + sizeof "string()";
	char *wrapped = malloc(n);
	if (!wrapped)
		abort();
	snprintf(wrapped, n, "string(%s)", expr);
	xmlXPathObjectPtr obj = doc ? eval(doc, wrapped) : NULL;
	free(wrapped);
	char *s = strdup(obj && obj->stringval ? (const char *)obj->stringval : "");
	xmlXPathFreeObject(obj);
	if (!s)
		abort();
	return s;
}

int xp_count(xmlDocPtr doc, const char *expr)
{
	if (!doc)
		return -1;
	xmlXPathObjectPtr obj = eval(doc, expr);
	int n = -1;
	if (obj && obj->type == XPATH_NODESET)
		n = obj->nodesetval ? obj->nodesetval->nodeNr : 0;
	xmlXPathFreeObject(obj);
	return n;
}
