/* Accept negotiation (lis_accept.c, RFC 9110 §12.5.1): qvalues, the most specific range
 * wins, parameters, case, white space, wildcards, malformed elements and fields; and the
 * choice between the two forms of a location URI's answer (RFC 6753 §3.2). */
#include "check.h"
#include "lis_accept.h"

#include <stddef.h>
#include <stdio.h>

#define HELD "application/held+xml;charset=utf-8"
#define PIDF "application/pidf+xml;charset=utf-8"

static int w(const char *accept, const char *type)
{
	return lis_accept_weight(accept, type);
}

static void test_absent_accept_takes_anything(void)
{
	CHECK(w(NULL, HELD) == 1000);
	CHECK(w(NULL, PIDF) == 1000);
}

static void test_exact_type_and_default_weight(void)
{
	CHECK(w("application/held+xml", HELD) == 1000);
	CHECK(w("application/held+xml", PIDF) == 0);
	CHECK(w("application/pidf+xml", PIDF) == 1000);
	CHECK(w("text/html", HELD) == 0);
	/* a parameter of the offer need not be named by the range */
	CHECK(w("application/held+xml", HELD) == 1000);
}

static void test_qvalues(void)
{
	CHECK(w("application/held+xml;q=0.5", HELD) == 500);
	CHECK(w("application/held+xml;q=0", HELD) == 0);
	CHECK(w("application/held+xml;q=0.", HELD) == 0);
	CHECK(w("application/held+xml;q=0.001", HELD) == 1);
	CHECK(w("application/held+xml;q=0.07", HELD) == 70);
	CHECK(w("application/held+xml;q=1", HELD) == 1000);
	CHECK(w("application/held+xml;q=1.000", HELD) == 1000);
	CHECK(w("application/held+xml;Q=0.3", HELD) == 300);
	/* RFC 9110 §12.5.1: "q" is the weight wherever it stands */
	CHECK(w("application/held+xml;q=0.4;charset=utf-8", HELD) == 400);
}

static void test_bad_qvalues_make_the_element_malformed(void)
{
	/* skipped, so the next element decides */
	const char *bad[] = {"q=1.5", "q=2", "q=0.0001", "q=-1", "q=.5", "q=1.001", "q=0,5x",
			     "q=\"0.5\"", "q=", "q=0.5;q=0.6", "q=abc"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char a[128];
		snprintf(a, sizeof a, "application/held+xml;%s, application/pidf+xml", bad[i]);
		CHECKF(w(a, HELD) == 0, "%s: held weight %d", a, w(a, HELD));
		CHECKF(w(a, PIDF) == 1000, "%s: pidf weight %d", a, w(a, PIDF));
	}
}

static void test_wildcards(void)
{
	CHECK(w("*/*", HELD) == 1000);
	CHECK(w("application/*", HELD) == 1000);
	CHECK(w("application/*;q=0.2", PIDF) == 200);
	CHECK(w("text/*", HELD) == 0);
	CHECK(w("*/*;q=0", HELD) == 0);
	/* a named type overrides a wildcard, either way */
	CHECK(w("*/*;q=0.1, application/held+xml", HELD) == 1000);
	CHECK(w("*/*;q=0.1, application/held+xml", PIDF) == 100);
	CHECK(w("application/held+xml;q=0, */*", HELD) == 0);
	CHECK(w("application/held+xml;q=0, */*", PIDF) == 1000);
	CHECK(w("application/*;q=0, */*;q=0.9", PIDF) == 0);
	CHECK(w("application/*;q=0, */*;q=0.9", "text/plain") == 900);
}

/* The example of RFC 9110 §12.5.1 and its Table 5. The table gives text/html;level=3 0.7;
 * only text/ and a star matches it, so 0.3 (the 0.7 is a slip from RFC 7231's example, where
 * text/html;q=0.7 was listed). */
static void test_rfc_9110_example(void)
{
	const char *a = "text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed,\r\n"
			" text/plain;format=fixed;q=0.4, */*;q=0.5";
	/* a folded field value is no longer sent (RFC 9112 §5.2); its CR LF is stray text
	 * here, so the fourth element is skipped: check the table on the unfolded value */
	const char *b = "text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed, "
			"text/plain;format=fixed;q=0.4, */*;q=0.5";
	CHECK(w(b, "text/plain;format=flowed") == 1000);
	CHECK(w(b, "text/plain") == 700);
	CHECK(w(b, "text/html") == 300);
	CHECK(w(b, "image/jpeg") == 500);
	CHECK(w(b, "text/plain;format=fixed") == 400);
	CHECK(w(b, "text/html;level=3") == 300);
	CHECK(w(a, "text/plain;format=flowed") == 1000);
	CHECK(w(a, "image/jpeg") == 500);
}

static void test_parameters_must_match_the_offer(void)
{
	CHECK(w("application/held+xml;charset=utf-8", HELD) == 1000);
	CHECK(w("application/held+xml;charset=UTF-8", HELD) == 1000);
	CHECK(w("application/held+xml;charset=\"utf-8\"", HELD) == 1000);
	CHECK(w("application/held+xml;charset=\"ut\\f-8\"", HELD) == 1000);
	CHECK(w("application/held+xml;charset=iso-8859-1", HELD) == 0);
	CHECK(w("application/held+xml;version=2", HELD) == 0);
	/* the range with the parameter is more specific than the one without */
	CHECK(w("application/held+xml;q=0.2, application/held+xml;charset=utf-8;q=0.9", HELD) ==
	      900);
	CHECK(w("application/held+xml;q=0.9, application/held+xml;charset=utf-8;q=0.2", HELD) ==
	      200);
	CHECK(w("application/held+xml;charset=latin1;q=0.9, application/held+xml;q=0.2", HELD) ==
	      200);
	/* an empty parameter is allowed */
	CHECK(w("application/held+xml;;q=0.5;", HELD) == 500);
	/* a quoted value may hold commas and semicolons */
	CHECK(w("text/plain;x=\"a,b;c\", application/held+xml;q=0.6", HELD) == 600);
}

static void test_case_and_white_space(void)
{
	CHECK(w("APPLICATION/HELD+XML", HELD) == 1000);
	CHECK(w("Application/Held+Xml;Q=0.8", HELD) == 800);
	CHECK(w("  application/held+xml \t;  q=0.5  ,text/html", HELD) == 500);
	CHECK(w(",,application/held+xml;q=0.5,,", HELD) == 500);
	CHECK(w("application/pidf+xml,application/held+xml;q=0.5", HELD) == 500);
	/* no white space around "=" */
	CHECK(w("application/held+xml;q = 0.5, application/pidf+xml", HELD) == 0);
}

static void test_equally_specific_ranges_give_the_highest_weight(void)
{
	CHECK(w("application/held+xml;q=0.3, application/held+xml;q=0.8", HELD) == 800);
	CHECK(w("application/held+xml;q=0.8, application/held+xml;q=0", HELD) == 800);
}

static void test_malformed_elements_are_skipped(void)
{
	const char *bad[] = {"application", "application/", "/held+xml", "*/held+xml",
			     "application/held+xml garbage", "application/held xml",
			     "application/held+xml;=x", "application/held+xml;charset",
			     "application/held+xml;charset=", "appli(ation/held+xml",
			     "application/held+xml;x=a b", "application/held+xml;x=\"a\"b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char a[160];
		snprintf(a, sizeof a, "%s, application/pidf+xml;q=0.4", bad[i]);
		CHECKF(w(a, HELD) == 0, "\"%s\": held weight %d", a, w(a, HELD));
		CHECKF(w(a, PIDF) == 400, "\"%s\": pidf weight %d", a, w(a, PIDF));
	}
	/* an unclosed quote swallows the rest of the field */
	CHECK(w("text/plain;x=\"a, application/held+xml", HELD) == 1000);
}

static void test_a_field_with_nothing_well_formed_is_disregarded(void)
{
	CHECK(w("", HELD) == 1000);
	CHECK(w(" , ,", PIDF) == 1000);
	CHECK(w("garbage", HELD) == 1000);
	CHECK(w("a/b/c, ;q=1", HELD) == 1000);
	CHECK(w("application/held+xml;q=7", HELD) == 1000);
	/* but one good element is enough to decide */
	CHECK(w("garbage, text/html", HELD) == 0);
}

static void test_too_many_parameters_are_malformed(void)
{
	CHECK(w("application/held+xml;a=1;b=2;c=3;d=4;e=5;f=6;g=7;h=8;i=9, text/html", HELD) == 0);
	CHECK(w("application/held+xml;a=1;b=2;c=3;d=4;e=5;f=6;g=7;h=8, */*;q=0.1", HELD) == 100);
}

/* RFC 6753 §3.2 and its examples (§5 Figures 6 and 7): HELD first, the presence only for a
 * client that prefers it. */
static void test_choose_prefers_held_on_a_tie(void)
{
	const char *offers[] = {HELD, PIDF};
	int ws[2];
	CHECK(lis_accept_choose(NULL, offers, 2, ws) == 0 && ws[0] == 1000 && ws[1] == 1000);
	CHECK(lis_accept_choose("*/*", offers, 2, NULL) == 0);
	CHECK(lis_accept_choose("application/held+xml", offers, 2, NULL) == 0);
	CHECK(lis_accept_choose("application/pidf+xml,application/held+xml;q=0.5", offers, 2,
				ws) == 1 && ws[0] == 500 && ws[1] == 1000);
	CHECK(lis_accept_choose("application/pidf+xml", offers, 2, ws) == 1 && ws[0] == 0);
	CHECK(lis_accept_choose("application/pidf+xml;q=0.5, application/held+xml;q=0.5", offers,
				2, NULL) == 0);
	CHECK(lis_accept_choose("text/html", offers, 2, ws) == -1 && ws[0] == 0 && ws[1] == 0);
	CHECK(lis_accept_choose("*/*;q=0", offers, 2, NULL) == -1);
	CHECK(lis_accept_choose("text/html, */*;q=0.8", offers, 2, NULL) == 0);
}

int main(void)
{
	t_run("absent_accept_takes_anything", test_absent_accept_takes_anything);
	t_run("exact_type_and_default_weight", test_exact_type_and_default_weight);
	t_run("qvalues", test_qvalues);
	t_run("bad_qvalues_make_the_element_malformed",
	      test_bad_qvalues_make_the_element_malformed);
	t_run("wildcards", test_wildcards);
	t_run("rfc_9110_example", test_rfc_9110_example);
	t_run("parameters_must_match_the_offer", test_parameters_must_match_the_offer);
	t_run("case_and_white_space", test_case_and_white_space);
	t_run("equally_specific_ranges_give_the_highest_weight",
	      test_equally_specific_ranges_give_the_highest_weight);
	t_run("malformed_elements_are_skipped", test_malformed_elements_are_skipped);
	t_run("a_field_with_nothing_well_formed_is_disregarded",
	      test_a_field_with_nothing_well_formed_is_disregarded);
	t_run("too_many_parameters_are_malformed", test_too_many_parameters_are_malformed);
	t_run("choose_prefers_held_on_a_tie", test_choose_prefers_held_on_a_tie);
	return t_done();
}
