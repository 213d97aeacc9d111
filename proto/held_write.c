/* The answer path's writer (held_write.h): the documents of held_build.c and pidf_build.c,
 * written as libxml2 2.9 serialises those trees (xmlDocDumpFormatMemoryEnc, "UTF-8",
 * format 1): an XML declaration; two spaces of indentation a level; an element holding
 * elements has each on a line of its own, one holding text keeps it on its line; text
 * escapes & < > and CR, attribute values & < > " and TAB, LF, CR as character references.
 * Nothing else is written differently, which tests/unit/test_held_write.c checks against
 * the tree builders over every shape of answer. */
#include "held_write.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pidf_tree.h"
#include "xml_safe.h"

#define SRS_2D "urn:ogc:def:crs:EPSG::4326"
#define SRS_3D "urn:ogc:def:crs:EPSG::4979"
#define UOM_METRE "urn:ogc:def:uom:EPSG::9001"
#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* Add n bytes; past the buffer only len grows (so that the caller learns the size). One
 * byte is kept for the NUL. */
static void put(struct held_out *o, const char *s, size_t n)
{
	if (o->len + n < o->cap)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct held_out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void indent(struct held_out *o, unsigned depth)
{
	static const char spaces[] = "                                ";
	put(o, spaces, 2 * depth < sizeof spaces - 1 ? 2 * depth : sizeof spaces - 1);
}

/* s escaped as libxml2 escapes text content (attr false) or an attribute value (true). */
static void put_escaped(struct held_out *o, const char *s, bool attr)
{
	const char *run = s;
	for (; *s; s++) {
		const char *rep;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '\r': rep = "&#13;"; break;
		case '"': rep = attr ? "&quot;" : NULL; break;
		case '\n': rep = attr ? "&#10;" : NULL; break;
		case '\t': rep = attr ? "&#9;" : NULL; break;
		default: rep = NULL; break;
		}
		if (!rep)
			continue;
		put(o, run, (size_t)(s - run));
		puts_(o, rep);
		run = s + 1;
	}
	put(o, run, (size_t)(s - run));
}

/* One line: indentation, then s. */
static void line(struct held_out *o, unsigned depth, const char *s)
{
	indent(o, depth);
	puts_(o, s);
	put(o, "\n", 1);
}

/* <name>text</name> on a line; open is "<name>" (or "<name attr=...>"). An empty text is
 * still a text node in the tree: libxml2 writes "<name></name>". */
static void text_line(struct held_out *o, unsigned depth, const char *open, const char *text,
		      const char *close)
{
	indent(o, depth);
	puts_(o, open);
	put_escaped(o, text, false);
	puts_(o, close);
	put(o, "\n", 1);
}

/* A fragment's lines start with MARK (a byte no valid XML text holds, so none of the text
 * written in them can be taken for one), each followed by its indentation relative to the
 * first: put_lines() puts them at depth. Text may hold line feeds; those stay as they are. */
#define MARK '\x01'

static void mark(struct held_out *o, unsigned depth)
{
	put(o, (const char[]){ MARK }, 1);
	indent(o, depth);
}

static void put_lines(struct held_out *o, unsigned depth, const char *s, size_t n)
{
	const char *end = s + n;
	while (s < end) {
		/* s is at a MARK */
		s++;
		const char *next = memchr(s, MARK, (size_t)(end - s));
		size_t k = next ? (size_t)(next - s) : (size_t)(end - s);
		indent(o, depth);
		put(o, s, k);
		s += k;
	}
}

int held_write_time(char *buf, time_t t)
{
	/* days since 1970-01-01 to a civil date (H. Hinnant's days_from_civil, inverted) */
	long long secs = (long long)t;
	long long days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	long long z = days + 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	long long d = doy - (153 * mp + 2) / 5 + 1;
	long long m = mp < 10 ? mp + 3 : mp - 9;
	long long y = yoe + era * 400 + (m <= 2);
	if (y < 1 || y > 9999)
		return -1;
	long long hh = rem / 3600, mm = rem / 60 % 60, ss = rem % 60;
	char *p = buf;
	*p++ = (char)('0' + y / 1000);
	*p++ = (char)('0' + y / 100 % 10);
	*p++ = (char)('0' + y / 10 % 10);
	*p++ = (char)('0' + y % 10);
	const long long v[5] = { m, d, hh, mm, ss };
	const char sep[5] = { '-', '-', 'T', ':', ':' };
	for (int i = 0; i < 5; i++) {
		*p++ = sep[i];
		*p++ = (char)('0' + v[i] / 10);
		*p++ = (char)('0' + v[i] % 10);
	}
	*p++ = 'Z';
	*p = '\0';
	return 0;
}

/* ------------------------------------------------------------------ a location's pieces */

/* RFC 5139 civicAddress, at depth 0: what add_civic() of pidf_build.c builds. */
static void write_civic(struct held_out *o, const struct civic_address *ca)
{
	mark(o, 0);
	if (ca->lang && ca->lang[0]) {
		puts_(o, "<ca:civicAddress xml:lang=\"");
		put_escaped(o, ca->lang, true);
		puts_(o, "\">\n");
	} else {
		puts_(o, "<ca:civicAddress>\n");
	}
	for (int f = 0; f < CIVIC_N_FIELDS; f++) {
		if (!ca->field[f] || !ca->field[f][0])
			continue;
		const char *name = civic_field_name((enum civic_field)f);
		mark(o, 1);
		puts_(o, "<ca:");
		puts_(o, name);
		put(o, ">", 1);
		put_escaped(o, ca->field[f], false);
		puts_(o, "</ca:");
		puts_(o, name);
		puts_(o, ">\n");
	}
	mark(o, 0);
	puts_(o, "</ca:civicAddress>\n");
}

static bool civic_ok(const struct civic_address *ca)
{
	if (ca->lang && ca->lang[0] && !pidf_is_language_tag(ca->lang))
		return false;
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		if (ca->field[f] && !xml_safe_text_ok(ca->field[f]))
			return false;
	return true;
}

/* RFC 5491 §5 shape, at depth 0: what add_geo() of pidf_build.c builds. -1 when check_doc()
 * or add_geo() would refuse it. */
static int write_geo(struct held_out *o, const struct pidf_geo *g)
{
	char lat[40], lon[40], alt[40], radius[40];
	if (!isfinite(g->lat) || !isfinite(g->lon) || g->lat < -90 || g->lat > 90 ||
	    g->lon < -180 || g->lon > 180 || (g->has_alt && !isfinite(g->alt)) ||
	    !isfinite(g->radius) || g->radius < 0)
		return -1;
	if (pidf_format_decimal(lat, sizeof lat, g->lat, 7) < 0 ||
	    pidf_format_decimal(lon, sizeof lon, g->lon, 7) < 0 ||
	    (g->has_alt && pidf_format_decimal(alt, sizeof alt, g->alt, 3) < 0) ||
	    pidf_format_decimal(radius, sizeof radius, g->radius, 3) < 0)
		return -1;
	const char *srs = g->has_alt ? SRS_3D : SRS_2D;
	const char *shape = g->radius > 0 ? (g->has_alt ? "gs:Sphere" : "gs:Circle")
					  : "gml:Point";
	mark(o, 0);
	put(o, "<", 1);
	puts_(o, shape);
	puts_(o, " srsName=\"");
	puts_(o, srs);
	puts_(o, "\">\n");
	mark(o, 1);
	puts_(o, "<gml:pos>");
	puts_(o, lat);
	put(o, " ", 1);
	puts_(o, lon);
	if (g->has_alt) {
		put(o, " ", 1);
		puts_(o, alt);
	}
	puts_(o, "</gml:pos>\n");
	if (g->radius > 0) {
		mark(o, 1);
		puts_(o, "<gs:radius uom=\"" UOM_METRE "\">");
		puts_(o, radius);
		puts_(o, "</gs:radius>\n");
	}
	mark(o, 0);
	puts_(o, "</");
	puts_(o, shape);
	puts_(o, ">\n");
	return 0;
}

/* Both pieces into o; the flags into f. */
static void write_frag(struct held_out *o, const struct civic_address *ca,
		       const struct pidf_geo *geo, struct pidf_frag *f, size_t *civic_len)
{
	f->have_civic = ca && !civic_address_is_empty(ca);
	f->have_geo = geo != NULL;
	if (f->have_civic) {
		f->civic_bad = !civic_ok(ca);
		if (!f->civic_bad)
			write_civic(o, ca);
	}
	*civic_len = o->len;
	if (f->have_geo) {
		size_t at = o->len;
		f->geo_bad = write_geo(o, geo) < 0;
		if (f->geo_bad)
			o->len = at;
	}
}

struct pidf_frag *pidf_frag_new(const struct civic_address *ca, const struct pidf_geo *geo)
{
	struct pidf_frag probe = { 0 };
	struct held_out m = { 0 };
	size_t civic_len;
	write_frag(&m, ca, geo, &probe, &civic_len);
	struct pidf_frag *f = malloc(sizeof *f + m.len + 1);
	if (!f)
		return NULL;
	memset(f, 0, sizeof *f);
	struct held_out o = { .buf = (char *)(f + 1), .cap = m.len + 1 };
	write_frag(&o, ca, geo, f, &civic_len);
	o.buf[o.len] = '\0';
	f->civic = o.buf;
	f->civic_len = civic_len;
	f->geo = o.buf + civic_len;
	f->geo_len = o.len - civic_len;
	return f;
}

void pidf_frag_free(struct pidf_frag *f)
{
	free(f);
}

/* ------------------------------------------------------------------ answers */

/* What pidf_presence_new() checks of the parts that change per answer, and the pieces the
 * answer takes from frag. */
static bool doc_ok(const struct pidf_doc *pd, const struct pidf_frag *frag, bool *civic)
{
	*civic = pd->civic && !civic_address_is_empty(pd->civic);
	if (!pd->entity || !pd->entity[0] || !xml_safe_text_ok(pd->entity) ||
	    (pd->device_id && !xml_safe_text_ok(pd->device_id)) ||
	    (pd->method && !xml_safe_text_ok(pd->method)) ||
	    (pd->note && !xml_safe_text_ok(pd->note)))
		return false;
	if (!*civic && !pd->geo)
		return false;
	if (*civic && (!frag || !frag->have_civic || frag->civic_bad))
		return false;
	if (pd->geo && (!frag || !frag->have_geo || frag->geo_bad))
		return false;
	return true;
}

/* The presence at depth d: what pidf_presence_new() builds. */
static int write_presence(struct held_out *o, unsigned d, const struct pidf_doc *pd,
			  const struct pidf_frag *frag)
{
	bool civic;
	char timestamp[32], retention[32];
	if (!doc_ok(pd, frag, &civic) || held_write_time(timestamp, pd->timestamp) < 0 ||
	    held_write_time(retention, pd->retention_expiry) < 0)
		return -1;
	indent(o, d);
	puts_(o, "<presence xmlns=\"" PIDF_NS "\" xmlns:dm=\"" PIDF_DM_NS "\" xmlns:gp=\""
	      PIDF_GP_NS "\" xmlns:gbp=\"" PIDF_GBP_NS "\" xmlns:ca=\"" PIDF_CA_NS
	      "\" xmlns:gml=\"" PIDF_GML_NS "\" xmlns:gs=\"" PIDF_GS_NS "\" entity=\"");
	put_escaped(o, pd->entity, true);
	puts_(o, "\">\n");
	bool device = pd->device_id != NULL;
	/* tuple > status > geopriv: one level deeper than dm:device > geopriv */
	unsigned g = device ? d + 2 : d + 3;
	int n = 0;
	for (int i = 0; i < 2; i++) {
		bool geo = (i == 0) == pd->geodetic_first;
		if (geo ? !pd->geo : !civic)
			continue;
		char id[8] = { device ? 'd' : 't', (char)('1' + n++), '\0' };
		indent(o, d + 1);
		puts_(o, device ? "<dm:device id=\"" : "<tuple id=\"");
		puts_(o, id);
		puts_(o, "\">\n");
		if (!device)
			line(o, d + 2, "<status>");
		line(o, g, "<gp:geopriv>");
		line(o, g + 1, "<gp:location-info>");
		if (geo)
			put_lines(o, g + 2, frag->geo, frag->geo_len);
		else
			put_lines(o, g + 2, frag->civic, frag->civic_len);
		line(o, g + 1, "</gp:location-info>");
		line(o, g + 1, "<gp:usage-rules>");
		line(o, g + 2, pd->retransmission_allowed
			       ? "<gbp:retransmission-allowed>true</gbp:retransmission-allowed>"
			       : "<gbp:retransmission-allowed>false</gbp:retransmission-allowed>");
		text_line(o, g + 2, "<gbp:retention-expiry>", retention, "</gbp:retention-expiry>");
		line(o, g + 1, "</gp:usage-rules>");
		if (pd->method)
			text_line(o, g + 1, "<gp:method>", pd->method, "</gp:method>");
		line(o, g, "</gp:geopriv>");
		if (device) {
			text_line(o, d + 2, "<dm:deviceID>", pd->device_id, "</dm:deviceID>");
			if (pd->note && pd->note[0])
				text_line(o, d + 2, "<dm:note xml:lang=\"en\">", pd->note,
					  "</dm:note>");
			text_line(o, d + 2, "<dm:timestamp>", timestamp, "</dm:timestamp>");
			line(o, d + 1, "</dm:device>");
		} else {
			line(o, d + 2, "</status>");
			if (pd->note && pd->note[0])
				text_line(o, d + 2, "<note xml:lang=\"en\">", pd->note, "</note>");
			text_line(o, d + 2, "<timestamp>", timestamp, "</timestamp>");
			line(o, d + 1, "</tuple>");
		}
	}
	line(o, d, "</presence>");
	return 0;
}

/* RFC 5985 §6.5 locationUriSet at depth 1: what add_uri_set() of held_build.c builds. */
static int write_uri_set(struct held_out *o, const struct held_uri_set *uris)
{
	char expires[32];
	if (!uris->uris || uris->n == 0 || held_write_time(expires, uris->expires) < 0)
		return -1;
	for (size_t i = 0; i < uris->n; i++)
		if (!uris->uris[i] || !uris->uris[i][0] || !xml_safe_text_ok(uris->uris[i]))
			return -1;
	indent(o, 1);
	puts_(o, "<locationUriSet expires=\"");
	puts_(o, expires);
	puts_(o, "\">\n");
	for (size_t i = 0; i < uris->n; i++)
		text_line(o, 2, "<locationURI>", uris->uris[i], "</locationURI>");
	line(o, 1, "</locationUriSet>");
	return 0;
}

/* RFC 6155 §2.2 device echo at depth 1: what add_device() of held_build.c builds. */
static int write_device(struct held_out *o, const struct held_device *device)
{
	if (!device->ids || device->n == 0)
		return -1;
	line(o, 1, "<device xmlns=\"" HELD_ID_NS "\">");
	for (size_t i = 0; i < device->n; i++) {
		char text[IDENT_VALUE_MAX];
		const char *element, *v;
		if (held_device_id_text(&device->ids[i], text, sizeof text, &element, &v) < 0)
			return -1;
		indent(o, 2);
		put(o, "<", 1);
		puts_(o, element);
		if (v) {
			puts_(o, " v=\"");
			puts_(o, v);
			put(o, "\"", 1);
		}
		put(o, ">", 1);
		put_escaped(o, text, false);
		puts_(o, "</");
		puts_(o, element);
		puts_(o, ">\n");
	}
	line(o, 1, "</device>");
	return 0;
}

/* 0 when the document fits (NUL added), 1 when not. */
static int finish(struct held_out *o)
{
	if (o->len >= o->cap)
		return 1;
	o->buf[o->len] = '\0';
	return 0;
}

int held_write_response(const struct held_uri_set *uris, const struct pidf_doc *pd,
			const struct pidf_frag *frag, const struct held_device *device,
			struct held_out *o)
{
	o->len = 0;
	if (!uris && !pd)
		return -1;
	puts_(o, XML_DECL "<locationResponse xmlns=\"" HELD_NS "\">\n");
	/* RFC 5985 §7 schema order: locationUriSet, presence, device echo */
	if ((uris && write_uri_set(o, uris) < 0) || (pd && write_presence(o, 1, pd, frag) < 0) ||
	    (device && write_device(o, device) < 0))
		return -1;
	puts_(o, "</locationResponse>\n");
	return finish(o);
}

int pidf_write(const struct pidf_doc *pd, const struct pidf_frag *frag, struct held_out *o)
{
	o->len = 0;
	if (!pd)
		return -1;
	puts_(o, XML_DECL);
	if (write_presence(o, 0, pd, frag) < 0)
		return -1;
	return finish(o);
}
