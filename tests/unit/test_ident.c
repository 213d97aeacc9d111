/* Identity kinds (the table, each kind's parser, identity text) and the MAC and SIP/tel URI
 * spellings the wiremap stores (proto/ident.c). */
#include <stdio.h>
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

/* Every byte value in every position spells as printf's %02x would. */
static void test_mac_format_spells_every_byte(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint8_t m[6];
		char buf[18], want[18];
		for (int i = 0; i < 6; i++)
			m[i] = (uint8_t)(v + 43u * (unsigned)i);
		ident_mac_format(m, buf);
		snprintf(want, sizeof want, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		CHECK_STR(buf, want);
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

/* ---- the table of kinds ---- */

static void test_every_kind_is_described_once(void)
{
	for (int k = 0; k < IDENT_N_KINDS; k++) {
		const struct ident_kind_info *ki = ident_kind_info((enum ident_kind)k);
		CHECKF(ki && ki->name && ki->label && ki->what && ki->parse, "kind %d", k);
		for (int j = 0; ki && j < k; j++) {
			const struct ident_kind_info *kj = ident_kind_info((enum ident_kind)j);
			CHECKF(strcmp(ki->name, kj->name) != 0, "name %s twice", ki->name);
			/* a word must not start another, or identity text would be ambiguous */
			if (ki->word && kj->word && ki->word[0] && kj->word[0])
				CHECKF(strncmp(ki->word, kj->word, strlen(kj->word)) != 0 &&
				       strncmp(kj->word, ki->word, strlen(ki->word)) != 0,
				       "words %s and %s", ki->word, kj->word);
		}
	}
	CHECK(ident_kind_info(IDENT_N_KINDS) == NULL);
	CHECK(ident_kind_info((enum ident_kind)-1) == NULL);
}

static void check_parse(enum ident_kind k, const char *text, const char *want)
{
	struct ident id;
	int rc = ident_parse(k, text, &id);
	if (!want) {
		CHECKF(rc == -1 && id.value[0] == '\0', "%s \"%s\" accepted as \"%s\"",
		       ident_kind_info(k)->name, text, id.value);
		return;
	}
	CHECKF(rc == 0, "%s \"%s\" refused", ident_kind_info(k)->name, text);
	CHECK(id.kind == k);
	CHECK_STR(id.value, want);
}

static void test_each_kind_checks_its_value(void)
{
	check_parse(IDENT_IP, "192.0.2.7", "192.0.2.7");
	check_parse(IDENT_IP, "2001:DB8::7", "2001:DB8::7");   /* kept as written */
	check_parse(IDENT_IP, "192.0.2.300", NULL);
	check_parse(IDENT_IP, "10.0.0.0/8", NULL);
	check_parse(IDENT_MAC, "00-50-B6-A1-C2-D3", "00-50-B6-A1-C2-D3");
	check_parse(IDENT_MAC, "00:50:b6:a1:c2", NULL);
	check_parse(IDENT_SIP, "SIP:alice@EXAMPLE.com;transport=tcp", "sip:alice@example.com");
	check_parse(IDENT_SIP, "tel:+15551234567", NULL);
	check_parse(IDENT_SIP, "http://example.com/", NULL);
	check_parse(IDENT_TEL, "tel:+1-555-123-4567", "tel:+15551234567");
	check_parse(IDENT_TEL, "sip:alice@example.com", NULL);
	check_parse(IDENT_UDPPORT, "65535", "65535");
	check_parse(IDENT_UDPPORT, "65536", NULL);
	check_parse(IDENT_TCPPORT, "-1", NULL);
	check_parse(IDENT_FQDN, "pc1.example.com", "pc1.example.com");
	check_parse(IDENT_FQDN, "", NULL);
	char big[IDENT_VALUE_MAX + 1];
	memset(big, '1', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	check_parse(IDENT_MSISDN, big, NULL);
	big[IDENT_VALUE_MAX - 1] = '\0';
	check_parse(IDENT_MSISDN, big, big);
	struct ident id;
	CHECK(ident_parse(IDENT_N_KINDS, "x", &id) == -1);
	CHECK(ident_parse(IDENT_IP, NULL, &id) == -1);
}

static void test_uri_element_holds_sip_or_tel(void)
{
	struct ident id;
	CHECK(ident_parse_element("uri", "sips:bob@Example.NET", &id) == 0);
	CHECK(id.kind == IDENT_SIP);
	CHECK_STR(id.value, "sips:bob@example.net");
	CHECK(ident_parse_element("uri", "TEL:+1 (555) 123-4567", &id) == 0);
	CHECK(id.kind == IDENT_TEL);
	CHECK_STR(id.value, "tel:+15551234567");
	CHECK(ident_parse_element("uri", "http://example.com/", &id) == -1);
	CHECK(ident_parse_element("ip", "192.0.2.7", &id) == 0 && id.kind == IDENT_IP);
	CHECK(ident_parse_element("imsi", "310150123456789", &id) == 0 && id.kind == IDENT_IMSI);
	/* tel is a kind, not an RFC 6155 element */
	CHECK(ident_parse_element("tel", "tel:+1555", &id) == -2);
	CHECK(ident_parse_element("serial", "42", &id) == -2);
}

static struct ident make(enum ident_kind k, const char *text)
{
	struct ident id;
	CHECKF(ident_parse(k, text, &id) == 0, "%s", text);
	return id;
}

/* The spelling of location URI tokens already issued: words in table order. */
static void test_identity_text_is_the_token_spelling(void)
{
	struct ident ids[] = {make(IDENT_TEL, "tel:+15551234567"),
			      make(IDENT_SIP, "sip:alice@example.com"),
			      make(IDENT_MAC, "00:11:22:33:44:55"), make(IDENT_IP, "192.0.2.7")};
	char text[400];
	CHECK(ident_text_format(ids, 4, text, sizeof text) == 0);
	CHECK_STR(text, "ip:192.0.2.7 mac:00:11:22:33:44:55 uri:sip:alice@example.com "
			"tel:+15551234567");
	CHECK(ident_text_format(ids, 1, text, sizeof text) == 0);
	CHECK_STR(text, "tel:+15551234567");
	/* too long: what fits, and -1 */
	CHECK(ident_text_format(ids, 4, text, 20) == -1);
	CHECK(strlen(text) == 19 && strncmp(text, "ip:192.0.2.7 mac:00", 19) == 0);
	struct ident other = {.kind = IDENT_OTHER};
	snprintf(other.value, sizeof other.value, "serial");
	CHECK(ident_text_format(&other, 1, text, sizeof text) == -1);
	CHECK_STR(ident_name(&other), "serial");
	CHECK_STR(ident_name(&ids[1]), "uri");
}

static void test_identity_text_reads_back(void)
{
	struct ident ids[8];
	size_t n = 0;
	CHECK(ident_text_parse("ip:192.0.2.7 mac:00-11-22-33-44-55 uri:sip:alice@example.com "
			       "tel:+15551234567", ids, 8, &n) == 0);
	CHECK(n == 4);
	CHECK(ids[0].kind == IDENT_IP && ids[1].kind == IDENT_MAC);
	CHECK(ids[2].kind == IDENT_SIP && ids[3].kind == IDENT_TEL);
	CHECK_STR(ids[1].value, "00-11-22-33-44-55");
	CHECK_STR(ids[2].value, "sip:alice@example.com");
	CHECK_STR(ids[3].value, "tel:+15551234567");
	CHECK(ident_text_parse("tel:+15551234567  ip:2001:db8::1", ids, 8, &n) == 0 && n == 2);
	CHECK(ident_find(ids, n, IDENT_IP) == &ids[1]);
	CHECK(ident_find(ids, n, IDENT_MAC) == NULL);
	char round[400];
	CHECK(ident_text_format(ids, n, round, sizeof round) == 0);
	CHECK_STR(round, "ip:2001:db8::1 tel:+15551234567");
}

static void test_identity_text_refuses_anything_else(void)
{
	static const char *bad[] = {"", " ip:192.0.2.7", "ip:", "ip:192.0.2.7 ip:192.0.2.8",
				    "mac:zz", "uri:tel:+1555", "sip:alice@example.com",
				    "foo:bar", "ip:192.0.2.7 x", "tel:+1555 tel:+1666"};
	struct ident ids[8];
	size_t n;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECKF(ident_text_parse(bad[i], ids, 8, &n) == -1, "\"%s\" read", bad[i]);
	CHECK(ident_text_parse("ip:192.0.2.7 mac:00:11:22:33:44:55", ids, 1, &n) == -1);
}

int main(void)
{
	t_run("mac_parse_accepts_the_usual_spellings", test_mac_parse_accepts_the_usual_spellings);
	t_run("mac_format_spells_every_byte", test_mac_format_spells_every_byte);
	t_run("mac_parse_rejects_bad_text", test_mac_parse_rejects_bad_text);
	t_run("sip_uri_scheme_and_host_fold_case_user_does_not",
	      test_sip_uri_scheme_and_host_fold_case_user_does_not);
	t_run("sip_uri_parameters_and_headers_are_dropped",
	      test_sip_uri_parameters_and_headers_are_dropped);
	t_run("tel_uri_visual_separators_are_dropped", test_tel_uri_visual_separators_are_dropped);
	t_run("uri_normalize_refuses_what_is_not_sip_or_tel",
	      test_uri_normalize_refuses_what_is_not_sip_or_tel);
	t_run("every_kind_is_described_once", test_every_kind_is_described_once);
	t_run("each_kind_checks_its_value", test_each_kind_checks_its_value);
	t_run("uri_element_holds_sip_or_tel", test_uri_element_holds_sip_or_tel);
	t_run("identity_text_is_the_token_spelling", test_identity_text_is_the_token_spelling);
	t_run("identity_text_reads_back", test_identity_text_reads_back);
	t_run("identity_text_refuses_anything_else", test_identity_text_refuses_anything_else);
	return t_done();
}
