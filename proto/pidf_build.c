/* PIDF-LO presence documents (RFC 3863, RFC 4119, RFC 4479, profiled by RFC 5491), as in
 * doc/protocol.md "PIDF-LO document shape": one dm:device (or tuple) per location form,
 * each with its own geopriv. */
#include "pidf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "held.h"
#include "pidf_tree.h"
#include "xml_safe.h"

#define SRS_2D "urn:ogc:def:crs:EPSG::4326"
#define SRS_3D "urn:ogc:def:crs:EPSG::4979"
#define UOM_METRE "urn:ogc:def:uom:EPSG::9001"
#define OOM_PIDF "out of memory building PIDF-LO"

/* One build: the document, the namespaces declared on presence, and a sticky failure flag
 * so that each step need not check the allocation of the one before. */
struct builder {
	xmlDocPtr doc;
	bool oom;
	int n_devices;
	xmlNsPtr pidf, dm, gp, gbp, ca, gml, gs;
};

/* A child element with (escaped, by libxml2) text content; NULL after any failure. */
static xmlNodePtr add(struct builder *b, xmlNodePtr parent, xmlNsPtr ns, const char *name,
		      const char *text)
{
	if (!parent)
		return NULL;
	xmlNodePtr n = xmlNewDocNode(b->doc, ns, BAD_CAST name, NULL);
	if (!n) {
		b->oom = true;
		return NULL;
	}
	xmlAddChild(parent, n);
	if (text) {
		xmlNodePtr t = xmlNewDocText(b->doc, BAD_CAST text);
		if (!t)
			b->oom = true;
		else
			xmlAddChild(n, t);
	}
	return n;
}

static void set_attr(struct builder *b, xmlNodePtr n, const char *name, const char *value)
{
	if (n && !xmlNewProp(n, BAD_CAST name, BAD_CAST value))
		b->oom = true;
}

int pidf_format_time(char *buf, size_t size, time_t t)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_year < 1 - 1900 || tm.tm_year > 9999 - 1900)
		return -1;
	int n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Fixed-point decimal with at most `decimals` places, trailing zeros trimmed (one digit
 * kept after the point). Integer arithmetic only: printf's %f follows LC_NUMERIC and
 * would write "47,5" under some locales. */
int pidf_format_decimal(char *buf, size_t size, double v, unsigned decimals)
{
	unsigned long long scale = 1;
	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	if (!isfinite(v))
		return -1;
	double mag = (v < 0 ? -v : v) * (double)scale + 0.5;
	if (mag >= 9.0e15) /* beyond exact integers in a double */
		return -1;
	unsigned long long u = (unsigned long long)mag;
	int n = snprintf(buf, size, "%s%llu.%0*llu", v < 0 && u != 0 ? "-" : "", u / scale,
			 (int)decimals, u % scale);
	if (n < 0 || (size_t)n >= size)
		return -1;
	char *dot = strchr(buf, '.');
	char *end = buf + n;
	while (end > dot + 2 && end[-1] == '0')
		*--end = '\0';
	return 0;
}

/* xs:language, as RFC 5646 tags look: 1-8 letters, then -subtags of 1-8 letters/digits. */
bool pidf_is_language_tag(const char *s)
{
	size_t run = 0;
	bool first = true;
	for (;; s++) {
		char c = *s;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		bool digit = c >= '0' && c <= '9';
		if (alpha || (digit && !first)) {
			if (++run > 8)
				return false;
		} else if (c == '-' || c == '\0') {
			if (run == 0)
				return false;
			if (c == '\0')
				return true;
			run = 0;
			first = false;
		} else {
			return false;
		}
	}
}

static int check_text(const char *what, const char *s, struct lis_error *err)
{
	if (!xml_safe_text_ok(s))
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "%s is not valid UTF-8 text for XML", what);
	return 0;
}

static int check_doc(const struct pidf_doc *pd, bool *have_civic, struct lis_error *err)
{
	if (!pd->entity || !pd->entity[0])
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "PIDF-LO needs an entity");
	if (check_text("entity", pd->entity, err) < 0 ||
	    (pd->device_id && check_text("deviceID", pd->device_id, err) < 0) ||
	    (pd->method && check_text("method", pd->method, err) < 0) ||
	    (pd->note && check_text("note", pd->note, err) < 0))
		return -1;
	*have_civic = pd->civic && !civic_address_is_empty(pd->civic);
	if (*have_civic) {
		const struct civic_address *ca = pd->civic;
		if (ca->lang && ca->lang[0] && !pidf_is_language_tag(ca->lang))
			return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
					      "civic xml:lang is not a language tag");
		for (int f = 0; f < CIVIC_N_FIELDS; f++)
			if (ca->field[f] && check_text(civic_field_name(f), ca->field[f], err) < 0)
				return -1;
	}
	if (pd->geo) {
		const struct pidf_geo *g = pd->geo;
		if (!isfinite(g->lat) || !isfinite(g->lon) || g->lat < -90 || g->lat > 90 ||
		    g->lon < -180 || g->lon > 180)
			return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
					      "geodetic position is not a WGS 84 "
					      "latitude/longitude");
		if ((g->has_alt && !isfinite(g->alt)) || !isfinite(g->radius) || g->radius < 0)
			return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
					      "geodetic altitude or radius is not a number "
					      "of metres");
	}
	if (!*have_civic && !pd->geo)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "PIDF-LO needs a civic or a geodetic location");
	return 0;
}

/* The element that carries one geopriv. RFC 4479 gives dm:device a mandatory dm:deviceID,
 * so dm:device is used when the device's identifier is known (RFC 5491 §3, rule #8: a
 * reader takes the first dm:device before any tuple); otherwise a PIDF tuple, as in RFC
 * 5985's own example.
 *   dm:device id=".." > gp:geopriv > gp:location-info
 *   tuple id=".." > status > gp:geopriv > gp:location-info
 * Returns location-info; finish_holder() adds the rest. */
static xmlNodePtr start_holder(struct builder *b, xmlNodePtr presence, const struct pidf_doc *pd,
			       xmlNodePtr *geopriv)
{
	char id[16];
	xmlNodePtr holder, parent;
	if (pd->device_id) {
		snprintf(id, sizeof id, "d%d", ++b->n_devices);
		holder = parent = add(b, presence, b->dm, "device", NULL);
	} else {
		snprintf(id, sizeof id, "t%d", ++b->n_devices);
		holder = add(b, presence, b->pidf, "tuple", NULL);
		parent = add(b, holder, b->pidf, "status", NULL);
	}
	set_attr(b, holder, "id", id);
	*geopriv = add(b, parent, b->gp, "geopriv", NULL);
	return add(b, *geopriv, b->gp, "location-info", NULL);
}

/* RFC 4119 §2.2.2 usage-rules, §2.2.3 method; then RFC 4479 dm:deviceID and dm:timestamp
 * on a device (RFC 4479 §5.1.2), or RFC 3863 timestamp after status on a tuple (RFC 3863
 * §4.4): the time the target was located (doc/protocol.md "Usage rules, method and
 * timestamp"). */
static void finish_holder(struct builder *b, xmlNodePtr holder, xmlNodePtr geopriv,
			  const struct pidf_doc *pd, const char *retention, const char *timestamp)
{
	xmlNodePtr rules = add(b, geopriv, b->gp, "usage-rules", NULL);
	add(b, rules, b->gbp, "retransmission-allowed",
	    pd->retransmission_allowed ? "true" : "false");
	add(b, rules, b->gbp, "retention-expiry", retention);
	if (pd->method)
		add(b, geopriv, b->gp, "method", pd->method);
	/* RFC 4479 device: deviceID, note*, timestamp; RFC 3863 tuple: status, note*, timestamp */
	xmlNsPtr ns = pd->device_id ? b->dm : b->pidf;
	if (pd->device_id)
		add(b, holder, b->dm, "deviceID", pd->device_id);
	if (pd->note && pd->note[0]) {
		xmlNodePtr note = add(b, holder, ns, "note", pd->note);
		if (note)
			xmlNodeSetLang(note, BAD_CAST "en");
	}
	add(b, holder, ns, "timestamp", timestamp);
}

/* RFC 5139: civicAddress children in schema order, empty fields left out. */
static void add_civic(struct builder *b, xmlNodePtr li, const struct civic_address *ca)
{
	xmlNodePtr node = add(b, li, b->ca, "civicAddress", NULL);
	if (node && ca->lang && ca->lang[0])
		xmlNodeSetLang(node, BAD_CAST ca->lang);
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		if (ca->field[f] && ca->field[f][0])
			add(b, node, b->ca, civic_field_name(f), ca->field[f]);
}

/* RFC 5491 §5: Point (2-D EPSG::4326, 3-D EPSG::4979), Circle (2-D) or Sphere (3-D) with
 * the radius in metres; positions are "lat lon [alt]". */
static int add_geo(struct builder *b, xmlNodePtr li, const struct pidf_geo *g,
		   struct lis_error *err)
{
	char lat[40], lon[40], alt[40], radius[40], pos[128];
	if (pidf_format_decimal(lat, sizeof lat, g->lat, 7) < 0 ||
	    pidf_format_decimal(lon, sizeof lon, g->lon, 7) < 0 ||
	    (g->has_alt && pidf_format_decimal(alt, sizeof alt, g->alt, 3) < 0) ||
	    pidf_format_decimal(radius, sizeof radius, g->radius, 3) < 0)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "geodetic value out of range for PIDF-LO");
	snprintf(pos, sizeof pos, "%s %s%s%s", lat, lon, g->has_alt ? " " : "",
		 g->has_alt ? alt : "");
	const char *srs = g->has_alt ? SRS_3D : SRS_2D;
	xmlNodePtr shape;
	if (g->radius > 0) {
		shape = add(b, li, b->gs, g->has_alt ? "Sphere" : "Circle", NULL);
		set_attr(b, shape, "srsName", srs);
		add(b, shape, b->gml, "pos", pos);
		xmlNodePtr r = add(b, shape, b->gs, "radius", radius);
		set_attr(b, r, "uom", UOM_METRE);
	} else {
		shape = add(b, li, b->gml, "Point", NULL);
		set_attr(b, shape, "srsName", srs);
		add(b, shape, b->gml, "pos", pos);
	}
	return 0;
}

static void declare_namespaces(struct builder *b, xmlNodePtr presence)
{
	b->pidf = xmlNewNs(presence, BAD_CAST PIDF_NS, NULL);
	b->dm = xmlNewNs(presence, BAD_CAST PIDF_DM_NS, BAD_CAST "dm");
	b->gp = xmlNewNs(presence, BAD_CAST PIDF_GP_NS, BAD_CAST "gp");
	b->gbp = xmlNewNs(presence, BAD_CAST PIDF_GBP_NS, BAD_CAST "gbp");
	b->ca = xmlNewNs(presence, BAD_CAST PIDF_CA_NS, BAD_CAST "ca");
	b->gml = xmlNewNs(presence, BAD_CAST PIDF_GML_NS, BAD_CAST "gml");
	b->gs = xmlNewNs(presence, BAD_CAST PIDF_GS_NS, BAD_CAST "gs");
	if (!b->pidf || !b->dm || !b->gp || !b->gbp || !b->ca || !b->gml || !b->gs)
		b->oom = true;
	xmlSetNs(presence, b->pidf);
}

int pidf_presence_new(xmlDocPtr doc, const struct pidf_doc *pd, xmlNodePtr *out,
		      struct lis_error *err)
{
	bool have_civic = false;
	if (!pd)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "no PIDF-LO to build");
	if (check_doc(pd, &have_civic, err) < 0)
		return -1;
	char timestamp[32], retention[32];
	if (pidf_format_time(timestamp, sizeof timestamp, pd->timestamp) < 0 ||
	    pidf_format_time(retention, sizeof retention, pd->retention_expiry) < 0)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "timestamp or retention-expiry out of range");

	struct builder b = { .doc = doc };
	xmlNodePtr presence = xmlNewDocNode(doc, NULL, BAD_CAST "presence", NULL);
	if (!presence)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, OOM_PIDF);
	declare_namespaces(&b, presence);
	set_attr(&b, presence, "entity", pd->entity);

	/* RFC 5491 §3: one location per geopriv; civic and geodetic in separate holders, in the
	 * order asked for (RFC 5985 §6.2), since rule #8 gives the first one priority */
	for (int i = 0; i < 2; i++) {
		bool geo = (i == 0) == pd->geodetic_first;
		if (geo ? !pd->geo : !have_civic)
			continue;
		xmlNodePtr geopriv;
		xmlNodePtr li = start_holder(&b, presence, pd, &geopriv);
		if (geo && add_geo(&b, li, pd->geo, err) < 0) {
			xmlFreeNode(presence);
			return -1;
		}
		if (!geo)
			add_civic(&b, li, pd->civic);
		finish_holder(&b, presence->last, geopriv, pd, retention, timestamp);
	}
	if (b.oom) {
		xmlFreeNode(presence);
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, OOM_PIDF);
	}
	*out = presence;
	return 0;
}

int pidf_build(const struct pidf_doc *doc, char **out, size_t *out_len, struct lis_error *err)
{
	if (!out)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, "no output buffer");
	*out = NULL;
	xmlDocPtr xdoc = xmlNewDoc(BAD_CAST "1.0");
	if (!xdoc)
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR, OOM_PIDF);
	xmlNodePtr presence;
	int rc = pidf_presence_new(xdoc, doc, &presence, err);
	if (rc == 0) {
		xmlDocSetRootElement(xdoc, presence);
		rc = xml_safe_dump(xdoc, out, out_len, err);
	}
	xmlFreeDoc(xdoc);
	return rc;
}
