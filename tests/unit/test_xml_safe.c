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

/* What a reader was told: the elements started and ended, the first one's name. */
struct seen {
	int starts, ends;
	char first[64];
};

static void seen_start(void *user, const xmlChar *name, const xmlChar *uri, int n_attrs,
		       const xmlChar **attrs)
{
	(void)uri;
	(void)n_attrs;
	(void)attrs;
	struct seen *s = user;
	if (s->starts++ == 0)
		snprintf(s->first, sizeof s->first, "%s", (const char *)name);
}

static void seen_end(void *user)
{
	((struct seen *)user)->ends++;
}

/* xml_safe_read() of text, reporting what the reader saw into *s. */
static int read_doc(const char *text, size_t n, unsigned max_depth, struct seen *s,
		    struct lis_error *err)
{
	memset(s, 0, sizeof *s);
	struct xml_safe_reader r = { .user = s, .start = seen_start, .end = seen_end };
	return xml_safe_read(text, n, 4096, max_depth, &r, err);
}

static void test_nul_then_junk_after_the_document_is_refused(void)
{
	char buf[sizeof doc + 32];
	size_t n = strlen(doc);
	memcpy(buf, doc, n);
	buf[n] = '\0';
	memcpy(buf + n + 1, "<junk/>", 7);           /* junk after the root, behind a NUL */
	struct lis_error err = { 0 };
	struct seen s;
	CHECK(read_doc(buf, n + 8, 32, &s, &err) == -1);
	CHECK(err.code == LIS_E_INPUT);
	CHECKF(strncmp(err.msg, "not well-formed XML", 19) == 0, "%s", err.msg);
	for (const char *p = err.msg; *p; p++)
		CHECKF(*p >= 0x20 && *p < 0x7f, "message not printable ASCII: %s", err.msg);

	buf[5] = '\0';                                /* inside the root element */
	CHECKF(read_doc(buf, n, 32, &s, &err) == -1 && err.code == LIS_E_INPUT, "%s", err.msg);
}

static void test_the_same_document_without_it_is_read(void)
{
	struct lis_error err = { 0 };
	struct seen s;
	CHECKF(read_doc(doc, strlen(doc), 32, &s, &err) == 0, "%s", err.msg);
	CHECKF(s.starts == 1 && s.ends == 1 && strcmp(s.first, "locationRequest") == 0,
	       "%d starts, %d ends, first %s", s.starts, s.ends, s.first);
	/* UTF-16LE with its byte order mark: zero bytes, no NUL character */
	char u16[2 + 2 * sizeof doc];
	size_t n = 0;
	u16[n++] = (char)0xff;
	u16[n++] = (char)0xfe;
	for (const char *p = doc; *p; p++) {
		u16[n++] = *p;
		u16[n++] = '\0';
	}
	CHECKF(read_doc(u16, n, 32, &s, &err) == 0, "UTF-16: %s", err.msg);
	CHECKF(s.starts == 1 && strcmp(s.first, "locationRequest") == 0, "UTF-16: first %s",
	       s.first);
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
		struct seen s;
		int rc = read_doc(seq[i].text, strlen(seq[i].text), 3, &s, &err);
		if (seq[i].refusal)
			CHECKF(rc == -1 && err.code == LIS_E_INPUT && strstr(err.msg, seq[i].refusal),
			       "document %zu: %s", i, rc == 0 ? "read" : err.msg);
		else
			CHECKF(rc == 0 && strcmp(s.first, "locationRequest") == 0,
			       "document %zu: %s", i, err.msg);
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
		struct seen s;
		if (!CHECKF(read_doc(text, (size_t)n, 32, &s, &err) == 0, "%s: %s", text, err.msg))
			return;
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
