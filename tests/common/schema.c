/* Schema validation of HELD and PIDF-LO documents (see schema.h). */
#include "schema.h"

#include "check.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlversion.h>

#ifndef TEST_SCHEMA_DIR
#error "tests/meson.build defines TEST_SCHEMA_DIR (tests/data/schemas of the source tree)"
#endif

#define WRAPPER "lis-validate.xsd"
/* Enough to say why; the rest of a broken document usually repeats the first error. */
#define MAX_ERRORS 4
/* A failed body is shown in full up to this many lines. */
#define MAX_BODY_LINES 80

#define GP_NS "urn:ietf:params:xml:ns:pidf:geopriv10"
#define GML_NS "http://www.opengis.net/gml"
#define GS_NS "http://www.opengis.net/pidflo/1.0"
/* RFC 5491 §5: the only two CRSs, and metres for distances. */
#define SRS_2D "urn:ogc:def:crs:EPSG::4326"
#define SRS_3D "urn:ogc:def:crs:EPSG::4979"
#define UOM_METRE "urn:ogc:def:uom:EPSG::9001"

/* libxml2 2.12 made the error argument of structured handlers const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

const char *schema_dir(void)
{
	return TEST_SCHEMA_DIR;
}

/* ---- the first errors of one document, as "line N: message; ..." ---- */

struct errs {
	char *buf;
	size_t size, len;
	int n;
};

static void errs_vput(struct errs *e, const char *fmt, va_list ap)
{
	if (e->len + 1 >= e->size)
		return;
	int n = vsnprintf(e->buf + e->len, e->size - e->len, fmt, ap);
	if (n > 0)
		e->len += (size_t)n < e->size - e->len ? (size_t)n : e->size - e->len - 1;
}

static void errs_put(struct errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errs_put(struct errs *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	errs_vput(e, fmt, ap);
	va_end(ap);
}

/* One error at line (0: no line); past MAX_ERRORS only counted, shown as "...". */
static void errs_add(struct errs *e, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void errs_add(struct errs *e, long line, const char *fmt, ...)
{
	e->n++;
	if (e->n > MAX_ERRORS) {
		if (e->n == MAX_ERRORS + 1)
			errs_put(e, "; ...");
		return;
	}
	if (e->n > 1)
		errs_put(e, "; ");
	if (line > 0)
		errs_put(e, "line %ld: ", line);
	va_list ap;
	va_start(ap, fmt);
	errs_vput(e, fmt, ap);
	va_end(ap);
}

/* libxml2's messages end with a newline, which would break the TAP line. */
static int msg_len(const char *m)
{
	size_t n = m ? strlen(m) : 0;
	while (n && isspace((unsigned char)m[n - 1]))
		n--;
	return n > INT_MAX ? INT_MAX : (int)n;
}

static void on_xml_error(void *ud, xml_error_arg err)
{
	/* warnings are the wrapper's skipped second imports of a namespace: expected */
	if (err->level < XML_ERR_ERROR)
		return;
	errs_add(ud, err->line, "%.*s", msg_len(err->message), err->message ? err->message : "");
}

/* ---- the schema: loaded once, shared by every thread ---- */

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static xmlSchemaPtr schema;
static char load_errors[1024];
static atomic_ulong n_validated, n_refused, n_shapes;

static void summary(void)
{
	t_diag("schema: %lu documents validated against %s, %lu GML shapes against RFC 5491 §5; "
	       "%lu documents refused", atomic_load(&n_validated), WRAPPER,
	       atomic_load(&n_shapes), atomic_load(&n_refused));
}

static void load(void)
{
	xmlInitParser();
	/* The schema parser takes no parse options, so XML_PARSE_NONET cannot reach the files it
	 * reads (the wrapper and its imports): this loader refuses http:// and ftp:// for every
	 * load of the process instead. The wrapper imports local files only, and names
	 * xml.xsd first so that pidf.xsd's import from www.w3.org is skipped, not fetched. */
	xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", TEST_SCHEMA_DIR, WRAPPER);
	struct errs e = {load_errors, sizeof load_errors, 0, 0};
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
	if (pc) {
		xmlSchemaSetParserStructuredErrors(pc, on_xml_error, &e);
		schema = xmlSchemaParse(pc);
		xmlSchemaFreeParserCtxt(pc);
	}
	if (!schema)
		errs_add(&e, 0, "cannot load %s", path);
	t_at_done(summary);
}

/* ---- RFC 5491 §5 for the shapes lisd writes (doc/protocol.md, "Geodetic shapes") ---- */

static bool in_ns(xmlNodePtr n, const char *ns)
{
	return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

static bool is_elem(xmlNodePtr n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && in_ns(n, ns) &&
	       strcmp((const char *)n->name, name) == 0;
}

/* xs:double's lexical form (RFC 5491 §5 asks for it), read by hand: strtod() follows
 * LC_NUMERIC, and a test may run in a decimal-comma locale. INF and NaN are lexically doubles
 * but no coordinate or distance: refused. */
static bool parse_double(const char *s, size_t n, double *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	double m = 0;
	long scale = 0;
	int digits = 0;
	for (; i < n && isdigit((unsigned char)s[i]); i++, digits++)
		m = m * 10 + (s[i] - '0');
	if (i < n && s[i] == '.')
		for (i++; i < n && isdigit((unsigned char)s[i]); i++, digits++, scale--)
			m = m * 10 + (s[i] - '0');
	if (!digits)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		bool eneg = false;
		long ex = 0;
		size_t d0;
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (d0 = i; i < n && isdigit((unsigned char)s[i]); i++)
			if (ex < 100000)
				ex = ex * 10 + (s[i] - '0');
		if (i == d0)
			return false;
		scale += eneg ? -ex : ex;
	}
	if (i != n)
		return false;
	for (; scale > 0 && isfinite(m) && m != 0; scale--)
		m *= 10;
	for (; scale < 0 && m != 0; scale++)
		m /= 10;
	*out = neg ? -m : m;
	return true;
}

static bool xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The numbers of a whitespace-separated list (gml:pos, or one gs:radius): how many there
 * are (only the first max kept), or -1 after an error naming the token that is no number. */
static int numbers(xmlNodePtr n, double *v, int max, struct errs *e)
{
	xmlChar *text = xmlNodeGetContent(n);
	const char *p = text ? (const char *)text : "";
	int k = 0, bad = 0;
	for (;;) {
		while (xml_space(*p))
			p++;
		if (!*p)
			break;
		size_t len = 0;
		while (p[len] && !xml_space(p[len]))
			len++;
		double d = 0;
		if (!parse_double(p, len, &d) || !isfinite(d)) {
			errs_add(e, xmlGetLineNo(n), "%s:%s: \"%.*s\" is not a finite xs:double "
				 "(RFC 5491 §5)", n->ns->prefix ? (const char *)n->ns->prefix : "",
				 (const char *)n->name, (int)len, p);
			bad = 1;
		} else if (k < max) {
			v[k] = d;
		}
		k++;
		p += len;
	}
	xmlFree(text);
	return bad ? -1 : k;
}

/* dims: 2 or 3 from srsName, 0 when srsName said neither (then 2 or 3 numbers pass). */
static void check_pos(xmlNodePtr pos, int dims, struct errs *e)
{
	double v[3];
	long line = xmlGetLineNo(pos);
	int k = numbers(pos, v, 3, e);
	if (k < 0)
		return;
	if (dims ? k != dims : k != 2 && k != 3) {
		errs_add(e, line, "gml:pos has %d numbers, want %s (RFC 5491 §5: EPSG::4326 is "
			 "latitude longitude, EPSG::4979 adds altitude)", k,
			 dims == 3 ? "3" : dims == 2 ? "2" : "2 or 3");
		return;
	}
	/* §5.2.1: "WGS 84 (latitude, longitude)"; a swapped pair shows as a latitude out of
	 * range whenever the longitude is beyond ±90 */
	if (v[0] < -90 || v[0] > 90)
		errs_add(e, line, "gml:pos latitude (first number) %g outside -90..90 "
			 "(RFC 5491 §5.2.1: latitude, longitude[, altitude])", v[0]);
	if (v[1] < -180 || v[1] > 180)
		errs_add(e, line, "gml:pos longitude (second number) %g outside -180..180", v[1]);
}

static void check_radius(xmlNodePtr r, struct errs *e)
{
	long line = xmlGetLineNo(r);
	xmlChar *uom = xmlGetNoNsProp(r, BAD_CAST "uom");
	if (!uom || strcmp((const char *)uom, UOM_METRE) != 0)
		errs_add(e, line, "gs:radius uom \"%s\", want \"%s\" (RFC 5491 §5: metres)",
			 uom ? (const char *)uom : "(none)", UOM_METRE);
	xmlFree(uom);
	double v = 0;
	int k = numbers(r, &v, 1, e);
	if (k >= 0 && (k != 1 || !(v > 0)))
		errs_add(e, line, "gs:radius must be one positive number (got %d numbers, "
			 "first %g)", k, k ? v : 0.0);
}

/* §5: the CRS "MUST NOT be respecified or changed for any sub-elements"; srsDimension
 * "SHOULD be omitted", and lisd omits it. */
static void check_no_crs(xmlNodePtr n, bool outermost, struct errs *e)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!outermost && xmlHasNsProp(n, BAD_CAST "srsName", NULL))
			errs_add(e, xmlGetLineNo(n), "srsName again on %s (RFC 5491 §5: the CRS "
				 "MUST NOT be respecified below the outermost geometry element)",
				 (const char *)n->name);
		if (xmlHasNsProp(n, BAD_CAST "srsDimension", NULL))
			errs_add(e, xmlGetLineNo(n), "srsDimension on %s (RFC 5491 §5: SHOULD be "
				 "omitted)", (const char *)n->name);
		check_no_crs(n->children, false, e);
		if (outermost)
			return;
	}
}

struct shape_rule {
	const char *ns, *name;
	int dims;          /* CRS dimensions it must have; 0: either (Point) */
	bool radius;       /* gml:pos is followed by gs:radius */
};

/* What lisd writes (add_geo() in proto/pidf_build.c). A point with uncertainty is a Circle
 * in 2D (§5.2.3: "the center point ... is specified by using a two-dimensional CRS") and a
 * Sphere in 3D (§5.2.6: "has to be specified using a three-dimensional CRS"). */
static const struct shape_rule shapes[] = {
	{GML_NS, "Point", 0, false},
	{GS_NS, "Circle", 2, true},
	{GS_NS, "Sphere", 3, true},
};

static void check_shape(xmlNodePtr s, struct errs *e)
{
	long line = xmlGetLineNo(s);
	const char *name = (const char *)s->name;
	const struct shape_rule *r = NULL;
	atomic_fetch_add(&n_shapes, 1);
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && !r; i++)
		if (is_elem(s, shapes[i].ns, shapes[i].name))
			r = &shapes[i];
	if (!r) {
		/* so that nothing geodetic reaches a PSAP unchecked: a new shape needs its rules */
		errs_add(e, line, "%s in location-info is not a shape lisd writes (Point, Circle, "
			 "Sphere: doc/protocol.md), so its RFC 5491 §5 rules are not checked here",
			 name);
		return;
	}
	xmlChar *srs = xmlGetNoNsProp(s, BAD_CAST "srsName");
	const char *srs_s = srs ? (const char *)srs : NULL;
	int dims = !srs_s ? 0 : strcmp(srs_s, SRS_2D) == 0 ? 2 : strcmp(srs_s, SRS_3D) == 0 ? 3 : 0;
	if (!srs_s)
		errs_add(e, line, "%s without srsName (RFC 5491 §5: the CRS MUST be on the "
			 "outermost geometry element)", name);
	else if (!dims)
		errs_add(e, line, "%s srsName \"%s\" is neither %s nor %s (RFC 5491 §5)", name,
			 srs_s, SRS_2D, SRS_3D);
	else if (r->dims && dims != r->dims)
		errs_add(e, line, "%s srsName \"%s\", want %s (RFC 5491 §5.2: a %s is %dD)", name,
			 srs_s, r->dims == 2 ? SRS_2D : SRS_3D, name, r->dims);
	xmlFree(srs);
	if (!dims)
		dims = r->dims;
	check_no_crs(s, true, e);

	/* the GeoShape profile's content, as every figure of §5.2 writes it; no gml:coordinates
	 * (§4: deprecated) */
	xmlNodePtr kid[2] = {NULL, NULL};
	int nk = 0;
	for (xmlNodePtr c = s->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			if (nk < 2)
				kid[nk] = c;
			nk++;
		} else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
			   !xmlIsBlankNode(c)) {
			errs_add(e, line, "%s holds text outside its elements", name);
		}
	}
	if (nk != (r->radius ? 2 : 1) || !is_elem(kid[0], GML_NS, "pos") ||
	    (r->radius && !is_elem(kid[1], GS_NS, "radius"))) {
		errs_add(e, line, "%s must hold %s and nothing else", name,
			 r->radius ? "gml:pos then gs:radius" : "one gml:pos");
		return;
	}
	check_pos(kid[0], dims, e);
	if (r->radius)
		check_radius(kid[1], e);
}

/* Every GML or GeoShape element directly in a gp:location-info is a shape. */
static void check_shapes(xmlNodePtr n, struct errs *e)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!is_elem(n, GP_NS, "location-info")) {
			check_shapes(n->children, e);
			continue;
		}
		for (xmlNodePtr c = n->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE && (in_ns(c, GML_NS) || in_ns(c, GS_NS)))
				check_shape(c, e);
	}
}

/* ---- validation ---- */

static int validate_doc(const char *body, size_t len, struct errs *e)
{
	if (!schema) {
		errs_add(e, 0, "no schema: %s", load_errors);
		return -1;
	}
	if (len > INT_MAX) {
		errs_add(e, 0, "body of %zu bytes", len);
		return -1;
	}
	xmlParserCtxtPtr pc = xmlNewParserCtxt();
	if (!pc) {
		errs_add(e, 0, "out of memory");
		return -1;
	}
	/* NONET: nothing in a body makes the tests fetch anything; no DTD is loaded and no
	 * entity is substituted either (no such option given). */
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
	xmlDocPtr doc = xmlCtxtReadMemory(pc, body, (int)len, "body.xml", NULL, opts);
	if (!doc) {
		xmlErrorPtr le = xmlCtxtGetLastError(pc);
		const char *m = le && le->message ? le->message : "";
		errs_add(e, le ? le->line : 0, "not well-formed: %.*s", msg_len(m), m);
		xmlFreeParserCtxt(pc);
		return -1;
	}
	xmlFreeParserCtxt(pc);
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	if (!vc) {
		xmlFreeDoc(doc);
		errs_add(e, 0, "out of memory");
		return -1;
	}
	xmlSchemaSetValidStructuredErrors(vc, on_xml_error, e);
	int rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	if (rc != 0 && e->n == 0)
		errs_add(e, 0, "xmlSchemaValidateDoc() returned %d", rc);
	check_shapes(xmlDocGetRootElement(doc), e);
	xmlFreeDoc(doc);
	return e->n ? -1 : 0;
}

int schema_validate(const char *body, size_t len, char *err, size_t errsize)
{
	pthread_once(&load_once, load);
	char dummy[1];
	struct errs e = {errsize ? err : dummy, errsize ? errsize : sizeof dummy, 0, 0};
	e.buf[0] = '\0';
	atomic_fetch_add(&n_validated, 1);
	int rc = validate_doc(body ? body : "", body ? len : 0, &e);
	if (rc < 0)
		atomic_fetch_add(&n_refused, 1);
	return rc;
}

/* The body as diagnostic lines ("#   | ..."): readable, and no raw newline in the TAP stream. */
static void diag_body(const char *body, size_t len)
{
	const char *p = body ? body : "", *end = p + (body ? len : 0);
	for (int n = 0; p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		size_t l = (size_t)((nl ? nl : end) - p);
		if (n == MAX_BODY_LINES) {
			t_diag("  | ... (%zu more bytes)", (size_t)(end - p));
			return;
		}
		if (l && p[l - 1] == '\r')
			l--;
		t_diag("  | %.*s", (int)l, p);
		p = next;
	}
}

bool schema_check_at(const char *body, size_t len, const char *what, const char *file, int line)
{
	char err[2048];
	if (schema_validate(body, len, err, sizeof err) == 0)
		return true;
	t_check(false, file, line, "schema_validate(body) == 0", "%s: %s", what, err);
	diag_body(body, len);
	return false;
}

bool schema_media_type(const char *content_type)
{
	static const char *const types[] = {"application/held+xml", "application/pidf+xml"};
	const char *ct = content_type ? content_type : "";
	while (*ct == ' ' || *ct == '\t')
		ct++;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t n = strlen(types[i]);
		if (strncasecmp(ct, types[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t'))
			return true;
	}
	return false;
}
