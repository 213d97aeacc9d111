/* held_negotiate(): RFC 5985 §6.2 locationType negotiation, which forms one answer holds,
 * from what was asked (list, any, absent; exact) and what there is. */
#include "check.h"
#include "held.h"

#define CIVIC HELD_LT_CIVIC
#define GEO HELD_LT_GEODETIC
#define URI HELD_LT_URI
#define ANY HELD_LT_ANY
#define ALL (CIVIC | GEO | URI)

static unsigned give, missing;

static enum held_error_code negotiate(unsigned asked, bool exact, unsigned have)
{
	give = missing = 0xdead;
	return held_negotiate(asked, exact, have, &give, &missing);
}

static void expect_give(unsigned asked, bool exact, unsigned have, unsigned want)
{
	enum held_error_code rc = negotiate(asked, exact, have);
	CHECKF(rc == HELD_OK && give == want,
	       "asked %#x exact %d have %#x: %s, give %#x, want %#x", asked, exact, have,
	       held_error_code_name(rc) ? held_error_code_name(rc) : "ok", give, want);
}

static void test_absent_or_any_gives_every_form_there_is(void)
{
	expect_give(0, false, ALL, ALL);
	expect_give(ANY, false, ALL, ALL);
	expect_give(0, false, CIVIC, CIVIC);
	expect_give(ANY, false, GEO | URI, GEO | URI);
	/* §6.2.1: exact is ignored for any */
	expect_give(ANY, true, CIVIC, CIVIC);
}

static void test_listed_forms_that_exist_are_given_and_no_others(void)
{
	expect_give(CIVIC, false, ALL, CIVIC);
	expect_give(GEO, false, ALL, GEO);
	expect_give(URI, false, ALL, URI);
	expect_give(CIVIC | URI, false, ALL, CIVIC | URI);
	expect_give(CIVIC | GEO, true, ALL, CIVIC | GEO);
	expect_give(GEO | URI, true, ALL, GEO | URI);
}

static void test_exact_false_substitutes_by_value_when_no_asked_form_by_value_exists(void)
{
	/* civic asked, only geodetic recorded: the geodetic form stands in */
	expect_give(CIVIC, false, GEO, GEO);
	expect_give(CIVIC, false, GEO | URI, GEO);
	/* civic and a URI asked, no civic: the URI and, by value, what there is */
	expect_give(CIVIC | URI, false, GEO | URI, GEO | URI);
	/* only a URI asked and none can be given: location by value instead */
	expect_give(URI, false, CIVIC | GEO, CIVIC | GEO);
	/* one of two asked by-value forms exists: no substitution */
	expect_give(CIVIC | GEO, false, GEO | URI, GEO);
}

static void test_exact_true_names_the_first_missing_form(void)
{
	CHECK(negotiate(CIVIC, true, GEO | URI) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(missing == CIVIC && give == 0);
	CHECK(negotiate(CIVIC | GEO, true, CIVIC) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(missing == GEO);
	/* RFC 6753 §3.1: a URI asked exactly where none can be given */
	CHECK(negotiate(GEO | URI, true, CIVIC | GEO) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(missing == URI);
	CHECK(negotiate(CIVIC | GEO | URI, true, 0) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(missing == CIVIC);
}

static void test_nothing_to_give_is_location_unknown(void)
{
	CHECK(negotiate(0, false, 0) == HELD_E_LOCATION_UNKNOWN);
	CHECK(give == 0 && missing == 0);
	CHECK(negotiate(CIVIC, false, 0) == HELD_E_LOCATION_UNKNOWN);
	CHECK(negotiate(URI, false, 0) == HELD_E_LOCATION_UNKNOWN);
	/* a location with neither civic nor geodetic data still has a URI to give */
	expect_give(0, false, URI, URI);
}

static void test_missing_may_be_null_and_unknown_bits_are_ignored(void)
{
	unsigned g = 0;
	CHECK(held_negotiate(CIVIC, true, GEO, &g, NULL) == HELD_E_CANNOT_PROVIDE_LI_TYPE);
	CHECK(held_negotiate(0, false, ALL | ANY | 0x100u, &g, NULL) == HELD_OK && g == ALL);
}

static void test_request_wants_follows_the_same_reading_of_any(void)
{
	struct held_request req = {0};
	CHECK(held_request_wants(&req, HELD_LT_URI));
	req.loctypes = CIVIC;
	CHECK(held_request_wants(&req, HELD_LT_CIVIC) && !held_request_wants(&req, HELD_LT_URI));
	CHECK(!held_request_wants(NULL, HELD_LT_CIVIC));
}

int main(void)
{
	t_run("absent_or_any_gives_every_form_there_is",
	      test_absent_or_any_gives_every_form_there_is);
	t_run("listed_forms_that_exist_are_given_and_no_others",
	      test_listed_forms_that_exist_are_given_and_no_others);
	t_run("exact_false_substitutes_by_value_when_no_asked_form_by_value_exists",
	      test_exact_false_substitutes_by_value_when_no_asked_form_by_value_exists);
	t_run("exact_true_names_the_first_missing_form",
	      test_exact_true_names_the_first_missing_form);
	t_run("nothing_to_give_is_location_unknown", test_nothing_to_give_is_location_unknown);
	t_run("missing_may_be_null_and_unknown_bits_are_ignored",
	      test_missing_may_be_null_and_unknown_bits_are_ignored);
	t_run("request_wants_follows_the_same_reading_of_any",
	      test_request_wants_follows_the_same_reading_of_any);
	return t_done();
}
