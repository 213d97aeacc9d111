/* held_negotiate(): RFC 5985 §6.2 locationType negotiation, which forms one answer holds and
 * in which order, from what was asked (an ordered list, or any/absent; exact) and what there
 * is. Lists are written as the request would write them ("geodetic civic"). */
#include "check.h"
#include "held.h"

#include <stdio.h>
#include <string.h>

#define CIVIC HELD_LT_CIVIC
#define GEO HELD_LT_GEODETIC
#define URI HELD_LT_URI
#define ALL (CIVIC | GEO | URI)

static struct held_loctypes give;
static unsigned missing;

/* "civic geodetic" to a list; "any" (or "") to the empty list */
static struct held_loctypes list(const char *words)
{
	struct held_loctypes l = {0};
	char buf[128];
	snprintf(buf, sizeof buf, "%s", words);
	char *save = NULL;
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (strcmp(w, "civic") == 0)
			held_loctypes_add(&l, CIVIC);
		else if (strcmp(w, "geodetic") == 0)
			held_loctypes_add(&l, GEO);
		else if (strcmp(w, "locationURI") == 0)
			held_loctypes_add(&l, URI);
	}
	return l;
}

/* the list in words, "" when empty */
static const char *words(const struct held_loctypes *l)
{
	static char buf[64];
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		const char *w = l->form[i] == CIVIC ? "civic" : l->form[i] == GEO ? "geodetic"
			      : l->form[i] == URI ? "locationURI" : "?";
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? " " : "", w);
	}
	return buf;
}

static enum held_error_code negotiate(const char *asked, bool exact, unsigned have)
{
	struct held_loctypes a = list(asked);
	memset(&give, 0xa5, sizeof give);
	missing = 0xdead;
	return held_negotiate(&a, exact, have, &give, &missing);
}

static void expect_give(const char *asked, bool exact, unsigned have, const char *want)
{
	enum held_error_code rc = negotiate(asked, exact, have);
	CHECKF(rc == HELD_OK && strcmp(words(&give), want) == 0,
	       "asked \"%s\" exact %d have %#x: %s, give \"%s\", want \"%s\"", asked, exact, have,
	       held_error_code_name(rc) ? held_error_code_name(rc) : "ok",
	       rc == HELD_OK ? words(&give) : "", want);
}

static void test_absent_or_any_gives_every_form_there_is_civic_first(void)
{
	expect_give("any", false, ALL, "civic geodetic locationURI");
	expect_give("any", false, CIVIC, "civic");
	expect_give("any", false, GEO | URI, "geodetic locationURI");
	/* §6.2.1: exact is ignored for any */
	expect_give("any", true, CIVIC, "civic");
}

static void test_listed_forms_that_exist_are_given_and_no_others(void)
{
	expect_give("civic", false, ALL, "civic");
	expect_give("geodetic", false, ALL, "geodetic");
	expect_give("locationURI", false, ALL, "locationURI");
	expect_give("civic locationURI", false, ALL, "civic locationURI");
	expect_give("civic geodetic", true, ALL, "civic geodetic");
	expect_give("geodetic locationURI", true, ALL, "geodetic locationURI");
}

/* §6.2: the LIS "SHOULD provide the locations in the response in the same order in which
 * they were included in the "locationType" element in the request." */
static void test_listed_forms_keep_the_order_asked(void)
{
	expect_give("geodetic civic", false, ALL, "geodetic civic");
	expect_give("geodetic civic", true, CIVIC | GEO, "geodetic civic");
	expect_give("locationURI geodetic civic", false, ALL, "locationURI geodetic civic");
	expect_give("civic geodetic", false, ALL, "civic geodetic");
	/* a listed form that is missing leaves the others in their order */
	expect_give("geodetic locationURI civic", false, CIVIC | URI, "locationURI civic");
}

static void test_exact_false_substitutes_by_value_after_what_was_asked(void)
{
	/* civic asked, only geodetic recorded: the geodetic form stands in */
	expect_give("civic", false, GEO, "geodetic");
	expect_give("civic", false, GEO | URI, "geodetic");
	/* civic and a URI asked, no civic: the URI, then by value what there is */
	expect_give("civic locationURI", false, GEO | URI, "locationURI geodetic");
	/* only a URI asked and none can be given: location by value instead, civic first */
	expect_give("locationURI", false, CIVIC | GEO, "civic geodetic");
	/* one of two asked by-value forms exists: no substitution */
	expect_give("civic geodetic", false, GEO | URI, "geodetic");
}

static void test_exact_true_names_the_first_missing_form_in_the_order_asked(void)
{
	CHECK(negotiate("civic", true, GEO | URI) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(missing == CIVIC && give.n == 0);
	CHECK(negotiate("civic geodetic", true, CIVIC) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(missing == GEO);
	/* RFC 6753 §3.1: a URI asked exactly where none can be given */
	CHECK(negotiate("geodetic locationURI", true, CIVIC | GEO) ==
	      HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(missing == URI);
	CHECK(negotiate("civic geodetic locationURI", true, 0) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(missing == CIVIC);
	CHECK(negotiate("locationURI geodetic civic", true, 0) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(missing == URI);
}

static void test_nothing_to_give_is_location_unknown(void)
{
	CHECK(negotiate("any", false, 0) == HELD_E_LOCATION_UNKNOWN);
	CHECK(give.n == 0 && missing == 0);
	CHECK(negotiate("civic", false, 0) == HELD_E_LOCATION_UNKNOWN);
	CHECK(negotiate("locationURI", false, 0) == HELD_E_LOCATION_UNKNOWN);
	/* a location with neither civic nor geodetic data still has a URI to give */
	expect_give("any", false, URI, "locationURI");
}

static void test_missing_may_be_null_and_unknown_bits_are_ignored(void)
{
	struct held_loctypes a = list("civic"), any = list("any"), g;
	CHECK(held_negotiate(&a, true, GEO, &g, NULL) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(held_negotiate(&any, false, ALL | 0x100u, &g, NULL) == HELD_OK);
	CHECK_STR(words(&g), "civic geodetic locationURI");
}

static void test_list_helpers_keep_each_form_once_in_order(void)
{
	struct held_loctypes l = {0};
	held_loctypes_add(&l, URI);
	held_loctypes_add(&l, CIVIC);
	held_loctypes_add(&l, URI);
	held_loctypes_add(&l, GEO);
	held_loctypes_add(&l, CIVIC);
	CHECK_STR(words(&l), "locationURI civic geodetic");
	CHECK(held_loctypes_bits(&l) == ALL);
	struct held_loctypes none = {0};
	CHECK(held_loctypes_bits(&none) == 0);
}

static void test_request_wants_follows_the_same_reading_of_any(void)
{
	struct held_request req = {0};
	CHECK(held_request_wants(&req, HELD_LT_URI));
	req.loctypes = list("civic");
	CHECK(held_request_wants(&req, HELD_LT_CIVIC) && !held_request_wants(&req, HELD_LT_URI));
	CHECK(!held_request_wants(NULL, HELD_LT_CIVIC));
}

int main(void)
{
	t_run("absent_or_any_gives_every_form_there_is_civic_first",
	      test_absent_or_any_gives_every_form_there_is_civic_first);
	t_run("listed_forms_that_exist_are_given_and_no_others",
	      test_listed_forms_that_exist_are_given_and_no_others);
	t_run("listed_forms_keep_the_order_asked", test_listed_forms_keep_the_order_asked);
	t_run("exact_false_substitutes_by_value_after_what_was_asked",
	      test_exact_false_substitutes_by_value_after_what_was_asked);
	t_run("exact_true_names_the_first_missing_form_in_the_order_asked",
	      test_exact_true_names_the_first_missing_form_in_the_order_asked);
	t_run("nothing_to_give_is_location_unknown", test_nothing_to_give_is_location_unknown);
	t_run("missing_may_be_null_and_unknown_bits_are_ignored",
	      test_missing_may_be_null_and_unknown_bits_are_ignored);
	t_run("list_helpers_keep_each_form_once_in_order",
	      test_list_helpers_keep_each_form_once_in_order);
	t_run("request_wants_follows_the_same_reading_of_any",
	      test_request_wants_follows_the_same_reading_of_any);
	return t_done();
}
