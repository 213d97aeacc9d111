/* Validation of HELD and PIDF-LO documents against the published RFC schemas, for the proto/
 * unit tests: lis-validate.xsd (which loads RFC 5985, RFC 6155, RFC 3863, RFC 4479, RFC 4119
 * and RFC 5139 schemas) in $LIS_SCHEMA_DIR, else /work/shared/schemas. The schemas are not
 * part of the tree: without them sc_valid() says so and the caller skips the check, so that
 * the tests still run elsewhere. GML shapes pass a lax wildcard unchecked (no GML schema). */
#ifndef SCHEMA_CHECK_H
#define SCHEMA_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "check.h"

static xmlSchemaPtr sc_schema;
static bool sc_tried;
static char sc_first_error[512];

/* libxml2 reports each problem through this; keep the first for the diagnostic, and keep the
 * "Skipping import" warnings of the wrapper off the TAP stream. */
__attribute__((format(printf, 2, 3)))
static inline void sc_error(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	if (sc_first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sc_first_error, sizeof sc_first_error, fmt, ap);
	va_end(ap);
	for (char *p = sc_first_error; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

static inline void sc_quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static inline xmlSchemaPtr sc_load(void)
{
	if (sc_tried)
		return sc_schema;
	sc_tried = true;
	const char *dir = getenv("LIS_SCHEMA_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/lis-validate.xsd",
		 dir && *dir ? dir : "/work/shared/schemas");
	if (access(path, R_OK) != 0) {
		t_diag("no %s: schema checks skipped", path);
		return NULL;
	}
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
	if (!pc)
		return NULL;
	xmlSchemaSetParserErrors(pc, sc_quiet, sc_quiet, NULL);
	sc_schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	if (!sc_schema)
		t_diag("%s does not compile: schema checks skipped", path);
	return sc_schema;
}

/* 1 when doc (len bytes) is valid, 0 when not (why in sc_first_error), -1 when there is no
 * schema to check with. */
static inline int sc_valid(const char *doc, size_t len)
{
	xmlSchemaPtr s = sc_load();
	if (!s)
		return -1;
	sc_first_error[0] = '\0';
	xmlDocPtr d = xmlReadMemory(doc, (int)len, "doc.xml", NULL, XML_PARSE_NONET);
	if (!d) {
		snprintf(sc_first_error, sizeof sc_first_error, "not well-formed");
		return 0;
	}
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(s);
	int rc = -1;
	if (vc) {
		xmlSchemaSetValidErrors(vc, sc_error, sc_error, NULL);
		rc = xmlSchemaValidateDoc(vc, d);
		xmlSchemaFreeValidCtxt(vc);
	}
	xmlFreeDoc(d);
	return rc == 0 ? 1 : 0;
}

/* CHECK that doc is valid (when the schemas are there). */
#define CHECK_SCHEMA_VALID(doc, len) do { \
		int v_ = sc_valid((doc), (len)); \
		if (v_ >= 0) \
			CHECKF(v_ == 1, "schema-invalid: %s", sc_first_error); \
	} while (0)

/* CHECK that doc is not valid (when the schemas are there). */
#define CHECK_SCHEMA_INVALID(doc, len) do { \
		int v_ = sc_valid((doc), (len)); \
		if (v_ >= 0) \
			CHECKF(v_ == 0, "schema-valid, want invalid"); \
	} while (0)

static inline void sc_free(void)
{
	xmlSchemaFree(sc_schema);
	sc_schema = NULL;
}

#endif
