#include "xml_safe.h"

#include "held.h"
#include "lis_strbuf.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

/* What one parse saw, and whom it tells; hangs off ctxt->_private, which libxml2 never
 * touches. */
struct capture {
	bool doctype;
	bool have_error;
	int line;
	char text[160];
	const struct xml_safe_reader *reader;
	unsigned depth, max_depth;
	bool too_deep;                       /* an element was nested deeper than max_depth */
	bool root;                           /* the document element started */
};

/* Keep text as the document's error at line (0: none) unless an error is kept already.
 * libxml2 messages end in a newline: it and trailing blanks go before quoting. */
static void keep_error(struct capture *cap, int line, const char *text)
{
	if (!cap || cap->have_error)
		return;
	cap->have_error = true;
	cap->line = line;
	char raw[sizeof cap->text];
	snprintf(raw, sizeof raw, "%s", text);
	size_t n = strlen(raw);
	while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r' || raw[n - 1] == ' '))
		raw[--n] = '\0';
	xml_safe_quote(cap->text, sizeof cap->text, raw, 120);
}

static void record_error(struct capture *cap, xmlErrorPtr e)
{
	if (e && e->level >= XML_ERR_ERROR)
		keep_error(cap, e->line, e->message ? e->message : "XML error");
}

/* Parser errors: a structured handler on this parser context only (ctxt->sax->serror).
 * libxml2 2.9 has no xmlCtxtSetErrorHandler; its user data is the context itself. */
static void on_parser_error(void *user, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = user;
	record_error(ctxt ? ctxt->_private : NULL, e);
}

/* Errors raised without a parser context (encoding conversion, I/O) reach only the
 * thread's structured handler, or else stderr. libxml2 keeps that handler per thread
 * (threaded build), so it is set for the length of one parse and then restored. */
static void on_thread_error(void *user, xmlErrorPtr e)
{
	record_error(user, e);
}

/* What libxml2 reports through the thread's generic handler only (the push parser's
 * "xmlParseChunk: encoder error"): kept as an error of the document when it is the first. */
static void on_generic_error(void *user, const char *msg, ...)
{
	char text[160];
	va_list ap;
	va_start(ap, msg);
	vsnprintf(text, sizeof text, msg, ap);
	va_end(ap);
	keep_error(user, 0, text);
}

/* SAX internalSubset fires on any <!DOCTYPE ...>, before the internal subset is read and
 * before any external DTD could be fetched. A HELD request has no use for a DTD, and a DTD
 * is where entity tricks (billion laughs, XXE) live, so stop right here. */
static void on_doctype(void *user, const xmlChar *name, const xmlChar *external_id,
		       const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	xmlParserCtxtPtr ctxt = user;
	struct capture *cap = ctxt->_private;
	cap->doctype = true;
	xmlStopParser(ctxt);
}

/* The reader's handlers, behind the depth limit: what lies deeper than max_depth is not
 * handed on (the document is refused for it once it proves well-formed). */
static void on_start(void *user, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri,
		     int n_ns, const xmlChar **ns, int n_attrs, int n_defaulted,
		     const xmlChar **attrs)
{
	(void)prefix;
	(void)n_ns;
	(void)ns;
	(void)n_defaulted;
	xmlParserCtxtPtr ctxt = user;
	struct capture *cap = ctxt->_private;
	cap->root = true;
	if (++cap->depth > xmlParserMaxDepth) {
		/* libxml2's own limit, which it enforces only where it builds a tree: an error
		 * of the document, as it would have been */
		char text[64];
		snprintf(text, sizeof text, "Excessive depth in document: %u", xmlParserMaxDepth);
		keep_error(cap, ctxt->input ? ctxt->input->line : 0, text);
		xmlStopParser(ctxt);
		return;
	}
	if (cap->depth > cap->max_depth) {
		cap->too_deep = true;
		return;
	}
	if (cap->reader->start)
		cap->reader->start(cap->reader->user, name, uri, n_attrs, attrs);
}

static void on_end(void *user, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
	(void)name;
	(void)prefix;
	(void)uri;
	xmlParserCtxtPtr ctxt = user;
	struct capture *cap = ctxt->_private;
	if (cap->depth-- <= cap->max_depth && cap->reader->end)
		cap->reader->end(cap->reader->user);
}

static void on_text(void *user, const xmlChar *s, int len)
{
	xmlParserCtxtPtr ctxt = user;
	struct capture *cap = ctxt->_private;
	if (cap->depth <= cap->max_depth && cap->reader->text)
		cap->reader->text(cap->reader->user, s, len);
}

/* One parser context per thread, reset for each document rather than made and freed (that
 * was 3% of lisd's CPU under load). It is a push parser's, given the whole document as its
 * one chunk: libxml2 2.9's pull parser over a memory buffer asked that buffer for more input
 * at every step within 250 bytes of its end, which for a request of a few hundred bytes is
 * every step (a third of a request's parse, measured). The push parser reads the same bytes
 * with the same checks and limits, and asks for nothing more. Everything a parse sets
 * (handlers, options, the capture) is set again for each document, and xmlCtxtReset()
 * clears what a parse leaves (input, stacks, well-formedness, a stop, counters). Its
 * dictionary keeps the names of the documents it parsed: past DICT_KEEP of them the context
 * is freed and made anew, so that a thread keeps at most that many names and one
 * document's. */
#define DICT_KEEP 1024

static pthread_key_t context_key;
static pthread_once_t context_once = PTHREAD_ONCE_INIT;

static void context_free(void *ctxt)
{
	xmlFreeParserCtxt(ctxt);
}

static void context_key_make(void)
{
	(void)pthread_key_create(&context_key, context_free);
}

static xmlParserCtxtPtr context_for(const char *buf, int len)
{
	pthread_once(&context_once, context_key_make);
	xmlParserCtxtPtr ctxt = pthread_getspecific(context_key);
	if (!ctxt) {
		ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, NULL);
		if (!ctxt || !ctxt->sax || pthread_setspecific(context_key, ctxt) != 0) {
			xmlFreeParserCtxt(ctxt);
			return NULL;
		}
	}
	/* new, or reset by context_done() after its last document: the whole document is
	 * the one chunk, read by xml_safe_read() in one xmlParseChunk(). */
	if (xmlCtxtResetPush(ctxt, buf, len, NULL, NULL) != 0)
		return NULL;
	return ctxt;
}

/* After a parse: the input is let go now (it holds a copy of the document); the context is
 * kept unless its dictionary holds more than DICT_KEEP names. */
static void context_done(xmlParserCtxtPtr ctxt)
{
	xmlCtxtReset(ctxt);
	if (!ctxt->dict || xmlDictSize(ctxt->dict) > DICT_KEEP) {
		(void)pthread_setspecific(context_key, NULL);
		xmlFreeParserCtxt(ctxt);
	}
}

size_t xml_safe_kept_names(void)
{
	pthread_once(&context_once, context_key_make);
	xmlParserCtxtPtr ctxt = pthread_getspecific(context_key);
	return ctxt && ctxt->dict ? (size_t)xmlDictSize(ctxt->dict) : 0;
}

int xml_safe_read(const char *buf, size_t len, size_t max_bytes, unsigned max_depth,
		  const struct xml_safe_reader *reader, struct lis_error *err)
{
	if (max_bytes > INT_MAX)
		max_bytes = INT_MAX;
	if (!buf || len == 0)
		return lis_error_set(err, LIS_E_INPUT, "the request body is empty");
	if (len > max_bytes)
		return lis_error_set(err, LIS_E_INPUT, "the request is %zu bytes; the limit is %zu",
				     len, max_bytes);

	struct capture cap = { .reader = reader, .max_depth = max_depth };
	/* from here on: handing the document to the context converts its encoding already */
	xmlStructuredErrorFunc saved_handler = xmlStructuredError;
	void *saved_context = xmlStructuredErrorContext;
	xmlGenericErrorFunc saved_generic = xmlGenericError;
	void *saved_generic_context = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(&cap, on_thread_error);
	xmlSetGenericErrorFunc(&cap, on_generic_error);
	xmlParserCtxtPtr ctxt = context_for(buf, (int)len);
	if (!ctxt) {
		xmlSetStructuredErrorFunc(saved_context, saved_handler);
		xmlSetGenericErrorFunc(saved_generic_context, saved_generic);
		return lis_error_set(err, LIS_E_SYSTEM, "out of memory parsing the request");
	}
	ctxt->_private = &cap;
	/* No tree: the reader's handlers alone (no startDocument, so no document either), and
	 * never a handler that declares, resolves or references entities. */
	memset(ctxt->sax, 0, sizeof *ctxt->sax);
	ctxt->sax->initialized = XML_SAX2_MAGIC;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	ctxt->sax->characters = on_text;
	ctxt->sax->ignorableWhitespace = on_text;
	ctxt->sax->serror = on_parser_error;
	ctxt->sax->internalSubset = on_doctype;
	/* Never XML_PARSE_NOENT (entity substitution), DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or
	 * HUGE (which lifts libxml2's own depth and size limits). NOCDATA: CDATA sections come
	 * as text. */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				       XML_PARSE_NOCDATA);
	ctxt->replaceEntities = 0;
	ctxt->loadsubset = 0;
	ctxt->validate = 0;

	xmlParseChunk(ctxt, NULL, 0, 1);
	xmlSetStructuredErrorFunc(saved_context, saved_handler);
	xmlSetGenericErrorFunc(saved_generic_context, saved_generic);

	bool ok = ctxt->wellFormed && ctxt->nsWellFormed && !ctxt->disableSAX;
	/* libxml2's pull parser took a NUL character (never XML: XML 1.0 §2.2) for the end of
	 * the input, so a document followed by a NUL and anything else within the stated length
	 * parsed as well-formed with the rest unread. The push parser calls that rest extra
	 * content; should a well-formed parse still leave bytes unread, it is refused here.
	 * Everything sent must have been read. */
	bool unread = ok && ctxt->input && ctxt->input->cur && ctxt->input->end &&
		      ctxt->input->cur < ctxt->input->end;
	ctxt->_private = NULL;
	context_done(ctxt);

	if (cap.doctype)
		return lis_error_set(err, LIS_E_INPUT,
				     "DOCTYPE declarations (DTDs, entities) are not accepted");
	if (!ok || !cap.root) {
		if (cap.have_error && cap.line > 0)
			return lis_error_set(err, LIS_E_INPUT, "not well-formed XML: line %d: %s",
					     cap.line, cap.text);
		if (cap.have_error)
			return lis_error_set(err, LIS_E_INPUT, "not well-formed XML: %s", cap.text);
		return lis_error_set(err, LIS_E_INPUT, "not well-formed XML");
	}
	if (unread)
		return lis_error_set(err, LIS_E_INPUT, "not well-formed XML: the document ends at "
				     "a NUL character and more follows it");
	if (cap.too_deep)
		return lis_error_set(err, LIS_E_INPUT, "elements are nested more than %u deep",
				     max_depth);
	return 0;
}

void xml_safe_quote(char *dst, size_t size, const char *s, size_t max)
{
	if (!dst || size == 0)
		return;
	if (!s)
		s = "(none)";
	size_t o = 0, i = 0;
	for (; s[i] && i < max && o + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i] && size > 4) {
		if (o + 4 > size)
			o = size - 4;
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

bool xml_safe_text_ok(const char *s)
{
	if (!s)
		return false;
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	while (left) {
		uint32_t cp;
		size_t n = lis_utf8_seq(p, left, &cp);
		if (n == 0)
			return false;
		/* XML 1.0 §2.2 Char */
		if (cp < 0x20 && cp != 0x9 && cp != 0xa && cp != 0xd)
			return false;
		if (cp == 0xfffe || cp == 0xffff)
			return false;
		p += n;
		left -= n;
	}
	return true;
}

int xml_safe_dump(xmlDocPtr doc, char **out, size_t *out_len, struct lis_error *err)
{
	xmlChar *mem = NULL;
	int size = 0;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	if (!mem || size <= 0) {
		xmlFree(mem);
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "could not serialise the XML document");
	}
	/* copy: the caller frees with free(), and xmlFree need not be free() */
	char *copy = malloc((size_t)size + 1);
	if (!copy) {
		xmlFree(mem);
		return lis_error_held(err, HELD_E_GENERAL_LIS_ERROR,
				      "out of memory serialising the XML document");
	}
	memcpy(copy, mem, (size_t)size);
	copy[size] = '\0';
	xmlFree(mem);
	*out = copy;
	if (out_len)
		*out_len = (size_t)size;
	return 0;
}
