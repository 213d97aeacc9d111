/* Internal to proto/: hardened XML parsing of untrusted bytes, and the checks and
 * serialisation shared by the document builders. Not part of the public API. */
#ifndef XML_SAFE_H
#define XML_SAFE_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "lis_error.h"

/* What xml_safe_read() hands on as it reads, to user: each element as it starts (its local
 * name; its namespace's URI, NULL for none; its attributes as libxml2's SAX2 gives them,
 * n_attrs groups of five pointers: local name, prefix, namespace URI, value and the value's
 * end, the value not NUL-terminated and with each '&' in it written "&#38;"), as it ends, and
 * the text in between (character data, CDATA sections and whitespace, in as many pieces as
 * libxml2 likes; no comments). A NULL handler is skipped. Nothing nested deeper than
 * max_depth is handed on. */
struct xml_safe_reader {
	void *user;
	void (*start)(void *user, const xmlChar *name, const xmlChar *uri, int n_attrs,
		      const xmlChar **attrs);
	void (*end)(void *user);
	void (*text)(void *user, const xmlChar *s, int len);
};

/* Read buf without building a tree, and without DTDs, entity declarations, network or file
 * access, within the given size and depth limits, calling reader as it goes. Errors are
 * collected per parser context (no process-wide handler), so this is safe to call from
 * several threads at once once xmlInitParser() has run. Returns 0 when the document was
 * read whole, or -1 with err filled: err->code is LIS_E_SYSTEM when memory ran out, else
 * LIS_E_INPUT (empty, over max_bytes, not well-formed, a DOCTYPE, nested deeper than
 * max_depth; in that order of precedence); err->msg printable ASCII. On -1 the reader may
 * have been called for part of the document: what it made of it is to be thrown away.
 * Nothing is printed: the calling thread's structured error handler is borrowed during the
 * parse (for errors libxml2 raises without a context) and restored. */
int xml_safe_read(const char *buf, size_t len, size_t max_bytes, unsigned max_depth,
		  const struct xml_safe_reader *reader, struct lis_error *err);

/* How many names the calling thread's parser context keeps in its dictionary (0 when it has
 * none): at most 1024 and those of the last document parsed. For tests. */
size_t xml_safe_kept_names(void);

/* Copy s into dst (size bytes) as printable ASCII for a message: other bytes become '?',
 * and more than max characters are cut with "...". NULL prints as "(none)". */
void xml_safe_quote(char *dst, size_t size, const char *s, size_t max);

/* True if s is valid UTF-8 made only of XML 1.0 characters (no NUL, no C0 controls
 * other than tab, LF, CR, no surrogates, no U+FFFE/U+FFFF). */
bool xml_safe_text_ok(const char *s);

/* Serialise doc as UTF-8 with an XML declaration into a malloc'd, NUL-terminated buffer. */
int xml_safe_dump(xmlDocPtr doc, char **out, size_t *out_len, struct lis_error *err);

#endif
