/* The hardened XML reader (proto/xml_safe.c) on what arrives in a request body: a NUL
 * character after the document with more behind it is refused (libxml2's pull parser took the
 * NUL for the end and left the rest unread; its push parser, which reads the body now, calls
 * it extra content); the same document without it is read, a UTF-16 one (whose bytes hold
 * zeros) too. */
#include "check.h"
#include "xml_safe.h"

#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

static const char doc[] = "<locationRequest xmlns=\"urn:ietf:params:xml:ns:geopriv:held\"/>";

static void test_nul_then_junk_after_the_document_is_refused(void)
{
	char buf[sizeof doc + 32];
	size_t n = strlen(doc);
	memcpy(buf, doc, n);
	buf[n] = '\0';
	memcpy(buf + n + 1, "<junk/>", 7);           /* junk after the root, behind a NUL */
	struct lis_error err = { 0 };
	xmlDocPtr d = xml_safe_parse(buf, n + 8, 4096, 32, &err);
	CHECK(d == NULL);
	CHECK(err.code == LIS_E_INPUT);
	CHECKF(strncmp(err.msg, "not well-formed XML", 19) == 0, "%s", err.msg);
	for (const char *p = err.msg; *p; p++)
		CHECKF(*p >= 0x20 && *p < 0x7f, "message not printable ASCII: %s", err.msg);
	xmlFreeDoc(d);

	buf[5] = '\0';                                /* inside the root element */
	d = xml_safe_parse(buf, n, 4096, 32, &err);
	CHECKF(d == NULL && err.code == LIS_E_INPUT, "%s", err.msg);
	xmlFreeDoc(d);
}

static void test_the_same_document_without_it_is_read(void)
{
	struct lis_error err = { 0 };
	xmlDocPtr d = xml_safe_parse(doc, strlen(doc), 4096, 32, &err);
	CHECKF(d != NULL, "%s", err.msg);
	xmlFreeDoc(d);
	/* UTF-16LE with its byte order mark: zero bytes, no NUL character */
	char u16[2 + 2 * sizeof doc];
	size_t n = 0;
	u16[n++] = (char)0xff;
	u16[n++] = (char)0xfe;
	for (const char *p = doc; *p; p++) {
		u16[n++] = *p;
		u16[n++] = '\0';
	}
	d = xml_safe_parse(u16, n, 4096, 32, &err);
	CHECKF(d != NULL, "UTF-16: %s", err.msg);
	xmlFreeDoc(d);
}

/* The parser context a thread keeps (reset between documents): each document is judged on
 * its own, whatever the one before it was. */
static void test_each_document_is_judged_on_its_own(void)
{
	static const char doctype[] = "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>";
	static const char broken[] = "<locationRequest xmlns=\"urn:x\"><a></b></locationRequest>";
	static const char deep[] = "<a><a><a><a><a/></a></a></a></a>";
	struct { const char *text; const char *refusal; } seq[] = {
		{doctype, "DOCTYPE"}, {doc, NULL}, {broken, "not well-formed"}, {doc, NULL},
		{deep, "nested more than 3 deep"}, {doc, NULL}, {doctype, "DOCTYPE"},
		{deep, "nested"}, {broken, "not well-formed"}, {doc, NULL},
	};
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
		struct lis_error err = { 0 };
		xmlDocPtr d = xml_safe_parse(seq[i].text, strlen(seq[i].text), 4096, 3, &err);
		if (seq[i].refusal)
			CHECKF(!d && err.code == LIS_E_INPUT && strstr(err.msg, seq[i].refusal),
			       "document %zu: %s", i, d ? "read" : err.msg);
		else
			CHECKF(d && xmlDocGetRootElement(d) &&
			       strcmp((const char *)xmlDocGetRootElement(d)->name,
				      "locationRequest") == 0, "document %zu: %s", i, err.msg);
		xmlFreeDoc(d);
	}
}

/* Names of the documents parsed stay in the kept context's dictionary; a thread keeps a
 * bounded number of them however many different names arrive. */
static void test_a_thread_keeps_a_bounded_number_of_names(void)
{
	size_t most = 0;
	for (int i = 0; i < 5000; i++) {
		char text[128];
		int n = snprintf(text, sizeof text, "<r%d xmlns=\"urn:x%d\" a%d=\"v\"><c%d/></r%d>",
				 i, i, i, i, i);
		struct lis_error err = { 0 };
		xmlDocPtr d = xml_safe_parse(text, (size_t)n, 4096, 32, &err);
		if (!CHECKF(d != NULL, "%s: %s", text, err.msg))
			return;
		xmlFreeDoc(d);
		size_t kept = xml_safe_kept_names();
		if (kept > most)
			most = kept;
	}
	CHECKF(most > 100 && most <= 1024 + 16, "at most %zu names kept", most);
}

int main(void)
{
	xmlInitParser();
	t_run("nul_then_junk_after_the_document_is_refused",
	      test_nul_then_junk_after_the_document_is_refused);
	t_run("the_same_document_without_it_is_read", test_the_same_document_without_it_is_read);
	t_run("each_document_is_judged_on_its_own", test_each_document_is_judged_on_its_own);
	t_run("a_thread_keeps_a_bounded_number_of_names",
	      test_a_thread_keeps_a_bounded_number_of_names);
	int rc = t_done();
	xmlCleanupParser();
	return rc;
}
