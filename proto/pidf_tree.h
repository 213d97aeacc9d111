/* Internal to proto/: the one PIDF-LO builder, shared by pidf_build() (a standalone
 * application/pidf+xml document) and held_build_response() (presence inside a HELD
 * locationResponse). Not part of the public API. */
#ifndef PIDF_TREE_H
#define PIDF_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <libxml/tree.h>

#include "ident.h"
#include "pidf.h"

/* Build the presence element for pd in doc, unattached; the caller links it into the tree
 * (or frees it with xmlFreeNode). Returns 0, or -1 with err filled (code
 * HELD_E_GENERAL_LIS_ERROR) when pd cannot be written as valid PIDF-LO. */
int pidf_presence_new(xmlDocPtr doc, const struct pidf_doc *pd, xmlNodePtr *out,
		      struct lis_error *err);

/* xs:dateTime in UTC, "YYYY-MM-DDThh:mm:ssZ"; -1 if t is outside years 1..9999. */
int pidf_format_time(char *buf, size_t size, time_t t);

/* Shared with held_write.c, which must write what the tree builders write. */
/* Fixed-point decimal of at most `decimals` places, trailing zeros trimmed; -1 when v is not
 * finite or too large. */
int pidf_format_decimal(char *buf, size_t size, double v, unsigned decimals);
/* xs:language, as RFC 5646 tags look. */
bool pidf_is_language_tag(const char *s);
/* Identifier id as a device echo writes it (RFC 6155 §2.2, §6): its element, its text (a
 * MAC in the schema's "00-50-B6-A1-C2-D3" form) and, for an ip, its v attribute ("4", "6";
 * NULL for other kinds). -1 when its kind has no element, -2 when the text is empty or not
 * valid text. */
int held_device_id_text(const struct ident *id, char *text, size_t size, const char **element,
			const char **v);

#endif
