/* Internal to proto/: the one PIDF-LO builder, shared by pidf_build() (a standalone
 * application/pidf+xml document) and held_build_response() (presence inside a HELD
 * locationResponse). Not part of the public API. */
#ifndef PIDF_TREE_H
#define PIDF_TREE_H

#include <libxml/tree.h>

#include "pidf.h"

/* Build the presence element for pd in doc, unattached; the caller links it into the tree
 * (or frees it with xmlFreeNode). Returns 0, or -1 with err filled (code
 * HELD_E_GENERAL_LIS_ERROR) when pd cannot be written as valid PIDF-LO. */
int pidf_presence_new(xmlDocPtr doc, const struct pidf_doc *pd, xmlNodePtr *out,
		      struct lis_error *err);

/* xs:dateTime in UTC, "YYYY-MM-DDThh:mm:ssZ"; -1 if t is outside years 1..9999. */
int pidf_format_time(char *buf, size_t size, time_t t);

#endif
