/* MAC addresses and SIP/tel URIs as the wiremap stores them (wm_ident.c). */
#include <string.h>

#include "check.h"
#include "ident.h"

static void test_mac_parse_accepts_the_usual_spellings(void)
{
	static const char *ok[] = {"00:11:22:aa:BB:cc", "00-11-22-AA-bb-CC", "0011.22aa.bbcc",
				   "001122AABBCC"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint8_t m[6] = {0};
		char buf[18];
		CHECKF(ident_mac_parse(ok[i], m) == 0, "%s", ok[i]);
		ident_mac_format(m, buf);
		CHECK_STR(buf, "00:11:22:aa:bb:cc");
	}
}

static void test_mac_parse_rejects_bad_text(void)
{
	static const char *bad[] = {"", "00:11:22:33:44", "00:11:22:33:44:5g", "00:11-22:33:44:55",
				    "0011.2233-4455", "00112233445", "0011223344556", "00:11:22:33:44:55:",
				    " 00:11:22:33:44:55", "0:11:22:33:44:55"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t m[6];
		CHECKF(ident_mac_parse(bad[i], m) == -1, "\"%s\" accepted", bad[i]);
	}
	uint8_t m[6];
	const char *none = NULL;
	CHECK(ident_mac_parse(none, m) == -1);
}

static void check_uri(const char *in, const char *want)
{
	char buf[128];
	int rc = ident_uri_normalize(in, buf, sizeof buf);
	if (!want) {
		CHECKF(rc == -1, "\"%s\" normalized to \"%s\"", in ? in : "(null)", buf);
		return;
	}
	CHECKF(rc == 0, "\"%s\" refused", in);
	if (rc == 0)
		CHECK_STR(buf, want);
}

static void test_sip_uri_scheme_and_host_fold_case_user_does_not(void)
{
	check_uri("SIP:alice@EXAMPLE.com", "sip:alice@example.com");
	check_uri("sip:Alice@example.com", "sip:Alice@example.com");
	check_uri("sips:bob@Example.NET", "sips:bob@example.net");
	check_uri("  sip:alice@example.com  ", "sip:alice@example.com");
	check_uri("sip:example.com", "sip:example.com");
}

static void test_sip_uri_parameters_and_headers_are_dropped(void)
{
	check_uri("sip:alice@example.com;transport=tcp", "sip:alice@example.com");
	check_uri("sip:alice@example.com;user=phone?Subject=x", "sip:alice@example.com");
	check_uri("sip:alice@example.com:5061;transport=tls", "sip:alice@example.com:5061");
}

static void test_tel_uri_visual_separators_are_dropped(void)
{
	check_uri("tel:+1-555-123-4567", "tel:+15551234567");
	check_uri("tel:+1.555.123.4567", "tel:+15551234567");
	check_uri("TEL:+1 (555) 123-4567;phone-context=example.com", "tel:+15551234567");
	check_uri("tel:911", "tel:911");
}

static void test_uri_normalize_refuses_what_is_not_sip_or_tel(void)
{
	check_uri("http://example.com/", NULL);
	check_uri("mailto:alice@example.com", NULL);
	check_uri("alice@example.com", NULL);
	check_uri("sip:", NULL);
	check_uri("sip:alice@", NULL);
	check_uri("tel:", NULL);
	check_uri("tel:+", NULL);
	check_uri("tel:+1-555-CALL-NOW", NULL);
	check_uri("sip:al ice@example.com", NULL);
	check_uri(NULL, NULL);
	char small[8];
	CHECK(ident_uri_normalize("sip:alice@example.com", small, sizeof small) == -1);
}

int main(void)
{
	t_run("mac_parse_accepts_the_usual_spellings", test_mac_parse_accepts_the_usual_spellings);
	t_run("mac_parse_rejects_bad_text", test_mac_parse_rejects_bad_text);
	t_run("sip_uri_scheme_and_host_fold_case_user_does_not",
	      test_sip_uri_scheme_and_host_fold_case_user_does_not);
	t_run("sip_uri_parameters_and_headers_are_dropped",
	      test_sip_uri_parameters_and_headers_are_dropped);
	t_run("tel_uri_visual_separators_are_dropped", test_tel_uri_visual_separators_are_dropped);
	t_run("uri_normalize_refuses_what_is_not_sip_or_tel",
	      test_uri_normalize_refuses_what_is_not_sip_or_tel);
	return t_done();
}
