/* XPath checks for the documents lisd emits: every namespace of doc/protocol.md
 * "Namespaces" registered under its usual prefix (held, heldid, pidf, dm, gp, gbp, ca, gml,
 * gs, con). */
#ifndef XP_H
#define XP_H

#include <stddef.h>
#include <libxml/tree.h>

/* Parse an XML document without DTD, entities or network; NULL if not well-formed. */
xmlDocPtr xp_parse(const char *buf, size_t len);
/* string() of an XPath expression; malloc'd ("" when nothing matches), never NULL. */
char *xp_str(xmlDocPtr doc, const char *expr);
/* count() of the node-set an XPath expression selects (-1 if the expression is bad). */
int xp_count(xmlDocPtr doc, const char *expr);

#endif
