/* PIDF-LO (RFC 4119, profiled by RFC 5491) presence documents. */
#ifndef PIDF_H
#define PIDF_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "civic.h"
#include "lis_error.h"

#define PIDF_NS "urn:ietf:params:xml:ns:pidf"
#define PIDF_DM_NS "urn:ietf:params:xml:ns:pidf:data-model"
#define PIDF_GP_NS "urn:ietf:params:xml:ns:pidf:geopriv10"
#define PIDF_GBP_NS "urn:ietf:params:xml:ns:pidf:geopriv10:basicPolicy"
#define PIDF_CA_NS "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
#define PIDF_GML_NS "http://www.opengis.net/gml"
#define PIDF_GS_NS "http://www.opengis.net/pidflo/1.0"
#define PIDF_MEDIA_TYPE "application/pidf+xml"

/* A geodetic location: a Point (radius 0 / absent) or a Circle (radius > 0). */
struct pidf_geo {
	double lat, lon;                  /* WGS 84 degrees */
	bool has_alt;
	double alt;                       /* metres; a 3-D shape (EPSG::4979) when present */
	double radius;                    /* metres; > 0 makes it a gs:Circle */
};

/* One target's location as a PIDF-LO. Strings are borrowed. */
struct pidf_doc {
	const char *entity;               /* presence entity URI, e.g. "pres:abc@lis.example" */
	const char *device_id;            /* dm:deviceID, e.g. "mac:0050b6a1c2d3": each location
	                                   * goes in a dm:device; NULL: in a PIDF tuple instead */
	const char *method;               /* RFC 4119 method token, e.g. "Wiremap" */
	const char *provided_by;          /* reserved; NULL */
	const char *note;                 /* pidf:note / dm:note (xml:lang="en") beside each
	                                   * location: words for a human, e.g. that the answer is
	                                   * a fallback; NULL omits it */
	time_t timestamp;                 /* when the location was determined */
	bool retransmission_allowed;
	time_t retention_expiry;
	const struct civic_address *civic; /* NULL: no civic location */
	const struct pidf_geo *geo;        /* NULL: no geodetic location */
	bool geodetic_first;              /* the geodetic holder before the civic one: the
	                                   * order asked for (RFC 5985 §6.2); else civic first */
};

/* Build a standalone PIDF-LO document (application/pidf+xml). *out is malloc'd. */
int pidf_build(const struct pidf_doc *doc, char **out, size_t *out_len, struct lis_error *err);

#endif
