/* Third-party authorization lists (lis_auth.c): CIDR matching for IPv4 and IPv6, subject DN
 * lists, and the decision. */
#include "check.h"
#include "lis_auth.h"

#include <string.h>

static void test_acl_matches_addresses_and_prefixes(void)
{
	struct lis_acl a;
	char why[200];
	CHECK(lis_acl_parse("192.0.2.10, 198.51.100.0/24,2001:db8:1::/48 10.0.0.0/9", &a, why,
			    sizeof why) == 0);
	CHECK(a.n == 4);
	CHECK(lis_acl_match(&a, "192.0.2.10"));
	CHECK(!lis_acl_match(&a, "192.0.2.11"));
	CHECK(lis_acl_match(&a, "198.51.100.0"));
	CHECK(lis_acl_match(&a, "198.51.100.255"));
	CHECK(!lis_acl_match(&a, "198.51.101.1"));
	CHECK(lis_acl_match(&a, "10.127.255.255"));
	CHECK(!lis_acl_match(&a, "10.128.0.0"));
	CHECK(lis_acl_match(&a, "2001:db8:1:ffff::1"));
	CHECK(!lis_acl_match(&a, "2001:db8:2::1"));
	CHECK(!lis_acl_match(&a, "::ffff:192.0.2.10"));   /* callers unmap first */
	CHECK(!lis_acl_match(&a, "not-an-ip"));
	CHECK(!lis_acl_match(NULL, "192.0.2.10"));
	lis_acl_free(&a);
}

static void test_acl_zero_prefix_matches_family(void)
{
	struct lis_acl a;
	char why[200];
	CHECK(lis_acl_parse("0.0.0.0/0", &a, why, sizeof why) == 0);
	CHECK(lis_acl_match(&a, "203.0.113.9"));
	CHECK(!lis_acl_match(&a, "2001:db8::1"));
	lis_acl_free(&a);
}

static void test_acl_refuses_bad_entries(void)
{
	struct lis_acl a;
	char why[200];
	CHECK(lis_acl_parse("", &a, why, sizeof why) == 0 && a.n == 0);
	CHECK(lis_acl_parse("10.0.0.0/33", &a, why, sizeof why) < 0);
	CHECKF(strstr(why, "10.0.0.0/33") != NULL, "%s", why);
	CHECK(lis_acl_parse("10.0.0.1/24", &a, why, sizeof why) < 0);
	CHECKF(strstr(why, "host bits") != NULL, "%s", why);
	CHECK(lis_acl_parse("sbc.example.net", &a, why, sizeof why) < 0);
	CHECK(lis_acl_parse("10.0.0.0/", &a, why, sizeof why) < 0);
	CHECK(lis_acl_parse("2001:db8::/129", &a, why, sizeof why) < 0);
	CHECK(lis_acl_parse("192.0.2.1; 192.0.2.2", &a, why, sizeof why) < 0);
}

static void test_subjects_compare_exactly_after_trimming(void)
{
	struct lis_subjects s;
	char why[200];
	CHECK(lis_subjects_parse(" CN=sbc1.example.net,O=Example ;CN=sbc2.example.net,O=Example;;",
				 &s, why, sizeof why) == 0);
	CHECK(s.n == 2);
	CHECK(lis_subjects_match(&s, "CN=sbc1.example.net,O=Example"));
	CHECK(lis_subjects_match(&s, "CN=sbc2.example.net,O=Example"));
	CHECK(!lis_subjects_match(&s, "CN=sbc3.example.net,O=Example"));
	CHECK(!lis_subjects_match(&s, "CN=sbc1.example.net"));
	CHECK(!lis_subjects_match(&s, ""));
	lis_subjects_free(&s);
	CHECK(lis_subjects_parse("sbc1.example.net", &s, why, sizeof why) < 0);
}

static void test_decision_needs_listed_subject_or_address(void)
{
	struct lis_config cfg;
	struct lis_error err = { 0 };
	char *pem = NULL;
	memset(&cfg, 0, sizeof cfg);
	cfg.client_ca = "";
	cfg.allowed_subjects = "";
	cfg.allowed_addresses = "192.0.2.0/24";
	CHECK(lis_auth_init(&cfg, &pem, &err) == 0);
	CHECK(pem == NULL);
	CHECK(lis_auth_configured());
	struct lis_auth_result ar;
	memset(&ar, 0, sizeof ar);
	lis_auth_decide(NULL, "192.0.2.5", &ar);
	CHECK(ar.authorized);
	CHECK_STR(ar.how, "address");
	memset(&ar, 0, sizeof ar);
	lis_auth_decide("CN=x", "203.0.113.5", &ar);
	CHECK(!ar.authorized);
	CHECK(ar.why[0] != '\0');
	lis_auth_shutdown();

	/* allowed_subjects without client_ca cannot be verified: refused at start */
	cfg.allowed_subjects = "CN=sbc1.example.net";
	CHECK(lis_auth_init(&cfg, &pem, &err) < 0);
	CHECK(strstr(err.msg, "client_ca") != NULL);
	cfg.client_ca = "/nonexistent/ca.pem";
	CHECK(lis_auth_init(&cfg, &pem, &err) < 0);
	CHECK(strstr(err.msg, "/nonexistent/ca.pem") != NULL);
	lis_auth_shutdown();
	CHECK(!lis_auth_configured());
}

int main(void)
{
	t_run("acl_matches_addresses_and_prefixes", test_acl_matches_addresses_and_prefixes);
	t_run("acl_zero_prefix_matches_family", test_acl_zero_prefix_matches_family);
	t_run("acl_refuses_bad_entries", test_acl_refuses_bad_entries);
	t_run("subjects_compare_exactly_after_trimming",
	      test_subjects_compare_exactly_after_trimming);
	t_run("decision_needs_listed_subject_or_address",
	      test_decision_needs_listed_subject_or_address);
	return t_done();
}
