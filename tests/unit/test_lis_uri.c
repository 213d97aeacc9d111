/* Location URI tokens (lis_uri.c): round trip, tamper, other key, expiry, malformed input,
 * and key files. */
#include "check.h"
#include "ident.h"
#include "lis_uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 ((time_t)1700000000)

static struct lis_uri_key key, other;

static void setup_keys(void)
{
	struct lis_error err = { 0 };
	CHECK(lis_uri_key_parse("k", "000102030405060708090a0b0c0d0e0f"
				     "101112131415161718191a1b1c1d1e1f\n", &key, &err) == 0);
	CHECK(lis_uri_key_random(&other, &err) == 0);
}

static void test_token_round_trip_gives_identity_and_expiry(void)
{
	char tok[LIS_URI_TOKEN_MAX + 1], id[LIS_URI_IDENTITY_MAX + 1];
	struct lis_error err = { 0 };
	time_t exp = 0;
	CHECK(lis_uri_token_encode(&key, "ip:192.0.2.7", T0 + 1800, tok, sizeof tok, &err) == 0);
	CHECKF(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
	       strlen(tok), "token %s is not base64url without padding", tok);
	CHECK(lis_uri_token_decode(&key, tok, T0, id, sizeof id, &exp) == 0);
	CHECK_STR(id, "ip:192.0.2.7");
	CHECK(exp == T0 + 1800);
	CHECK(lis_uri_token_encode(&key, "uri:sip:alice@example.com mac:00:11:22:33:44:55",
				   T0 + 60, tok, sizeof tok, &err) == 0);
	CHECK(lis_uri_token_decode(&key, tok, T0, id, sizeof id, NULL) == 0);
	CHECK_STR(id, "uri:sip:alice@example.com mac:00:11:22:33:44:55");
}

static void test_tokens_are_unguessable_each_time(void)
{
	char a[LIS_URI_TOKEN_MAX + 1], b[LIS_URI_TOKEN_MAX + 1];
	struct lis_error err = { 0 };
	CHECK(lis_uri_token_encode(&key, "ip:192.0.2.7", T0, a, sizeof a, &err) == 0);
	CHECK(lis_uri_token_encode(&key, "ip:192.0.2.7", T0, b, sizeof b, &err) == 0);
	CHECK(strcmp(a, b) != 0);
	/* 12-byte nonce + 16-byte block + 16-byte tag at least: > 128 bits of randomness */
	CHECK(strlen(a) >= 59);
}

static void test_tampered_token_is_refused(void)
{
	char tok[LIS_URI_TOKEN_MAX + 1], id[LIS_URI_IDENTITY_MAX + 1];
	struct lis_error err = { 0 };
	CHECK(lis_uri_token_encode(&key, "tel:+15551234567", T0 + 100, tok, sizeof tok, &err) == 0);
	size_t n = strlen(tok);
	for (size_t i = 0; i < n; i += 7) {
		char t2[LIS_URI_TOKEN_MAX + 1];
		memcpy(t2, tok, n + 1);
		t2[i] = t2[i] == 'A' ? 'B' : 'A';
		CHECKF(lis_uri_token_decode(&key, t2, T0, id, sizeof id, NULL) < 0,
		       "flipped char %zu accepted", i);
		CHECK(id[0] == '\0');
	}
	tok[n - 1] = '\0';
	CHECK(lis_uri_token_decode(&key, tok, T0, id, sizeof id, NULL) < 0);
}

/* Base64url of a length that is not a multiple of 3 leaves spare bits in the last character;
 * only the spelling with them zero is the token (RFC 4648 §3.5), so that a token has one
 * spelling. Found by tests/fuzz/fuzz_uri_token. */
static void test_token_with_spare_bits_set_is_refused(void)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	/* a 4-byte identity makes 44 bytes (2 spare bits), a 30-byte one 76 (4 spare bits) */
	static const char *const ids[] = { "ip:1", "uri:sip:alice@example.com:5061" };
	char tok[LIS_URI_TOKEN_MAX + 1], id[LIS_URI_IDENTITY_MAX + 1];
	struct lis_error err = { 0 };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		CHECK(lis_uri_token_encode(&key, ids[i], T0 + 100, tok, sizeof tok, &err) == 0);
		size_t n = strlen(tok);
		CHECKF(n % 4 != 0, "token of %s has no spare bits", ids[i]);
		CHECK(lis_uri_token_decode(&key, tok, T0, id, sizeof id, NULL) == 0);
		tok[n - 1] = b64[(strchr(b64, tok[n - 1]) - b64) ^ 1];
		CHECKF(lis_uri_token_decode(&key, tok, T0, id, sizeof id, NULL) < 0,
		       "%s: last character with a spare bit set accepted", ids[i]);
	}
}

static void test_token_under_other_key_is_refused(void)
{
	char tok[LIS_URI_TOKEN_MAX + 1], id[LIS_URI_IDENTITY_MAX + 1];
	struct lis_error err = { 0 };
	CHECK(lis_uri_token_encode(&other, "ip:192.0.2.7", T0 + 100, tok, sizeof tok, &err) == 0);
	CHECK(lis_uri_token_decode(&key, tok, T0, id, sizeof id, NULL) < 0);
}

static void test_expired_token_is_refused(void)
{
	char tok[LIS_URI_TOKEN_MAX + 1], id[LIS_URI_IDENTITY_MAX + 1];
	struct lis_error err = { 0 };
	CHECK(lis_uri_token_encode(&key, "ip:192.0.2.7", T0 + 100, tok, sizeof tok, &err) == 0);
	CHECK(lis_uri_token_decode(&key, tok, T0 + 99, id, sizeof id, NULL) == 0);
	CHECK(lis_uri_token_decode(&key, tok, T0 + 100, id, sizeof id, NULL) < 0);
	CHECK(lis_uri_token_decode(&key, tok, T0 + 100000, id, sizeof id, NULL) < 0);
}

static void test_malformed_tokens_are_refused(void)
{
	char id[LIS_URI_IDENTITY_MAX + 1];
	static const char *const bad[] = {
		"", "A", "AA", "not-a-token", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
		"AAAA/AAAA", "AAAA=", "%2e%2e",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECKF(lis_uri_token_decode(&key, bad[i], T0, id, sizeof id, NULL) < 0, "%s", bad[i]);
	char *huge = malloc(5000);
	memset(huge, 'A', 4999);
	huge[4999] = '\0';
	CHECK(lis_uri_token_decode(&key, huge, T0, id, sizeof id, NULL) < 0);
	free(huge);
}

static void test_identity_too_long_is_refused(void)
{
	char tok[LIS_URI_TOKEN_MAX + 1], id[LIS_URI_IDENTITY_MAX + 2];
	struct lis_error err = { 0 };
	memset(id, 'x', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	CHECK(lis_uri_token_encode(&key, id, T0, tok, sizeof tok, &err) < 0);
	id[LIS_URI_IDENTITY_MAX] = '\0';
	CHECK(lis_uri_token_encode(&key, id, T0 + 5, tok, sizeof tok, &err) == 0);
	char back[LIS_URI_IDENTITY_MAX + 1];
	CHECK(lis_uri_token_decode(&key, tok, T0, back, sizeof back, NULL) == 0);
	CHECK(strlen(back) == LIS_URI_IDENTITY_MAX);
}

static void test_key_file_errors_name_file_and_line(void)
{
	struct lis_uri_key k;
	struct lis_error err = { 0 };
	CHECK(lis_uri_key_parse("uri.key", "# made with openssl rand -hex 32\n\n"
				"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n",
				&k, &err) == 0);
	CHECK(k.k[0] == 0x00 && k.k[10] == 0xaa && k.k[31] == 0xff && !k.random);
	CHECK(lis_uri_key_parse("uri.key", "# c\n0011\n", &k, &err) < 0);
	CHECKF(strncmp(err.msg, "uri.key:2: ", 11) == 0, "%s", err.msg);
	CHECK(lis_uri_key_parse("uri.key", "", &k, &err) < 0);
	CHECKF(strncmp(err.msg, "uri.key:1: ", 11) == 0, "%s", err.msg);
	CHECK(lis_uri_key_parse("uri.key",
				"0011223344556677889900112233445566778899001122334455667788990g\n", &k,
				&err) < 0);
	CHECK(strstr(err.msg, "0011") == NULL);   /* the key never appears in a message */
	CHECK(lis_uri_key_parse("uri.key",
				"00112233445566778899001122334455667788990011223344556677889900ab\n"
				"00112233445566778899001122334455667788990011223344556677889900ab\n",
				&k, &err) < 0);
	CHECKF(strncmp(err.msg, "uri.key:2: ", 11) == 0, "%s", err.msg);
	CHECK(lis_uri_key_load("/nonexistent/uri.key", &k, &err) < 0);
	CHECK(strstr(err.msg, "/nonexistent/uri.key") != NULL);
}

/* Two lisd sharing a key read each other's URIs: a token issued before identities became one
 * list (identity text as lisd then wrote it: ip, mac as received, uri:, the tel URI alone;
 * expiry 2100-01-01) still decodes into the same identities, and they write the same text. */
static void test_token_issued_before_the_ident_table_still_reads(void)
{
	static const char old[] =
		"dCsUhiOGf4MeRxXhn6qT5xAuQVOmwQISodLM17GBMJGab-Xv5Dm7cfo3IKkDJ_sZcNQriWW-hi5ktaNe"
		"yHVoCUclg6poLt8B_gj7EQdk2Al-lpGsRYjlVsP7_WLUlTiCen2Gyc7sDUPi0J6vtKnJZvL30waDm9oo"
		"wUUl2g";
	static const char text[] =
		"ip:192.0.2.7 mac:00-50-b6-a1-c2-d3 uri:sip:alice@example.com tel:+15551234567";
	char id[LIS_URI_IDENTITY_MAX + 1], again[LIS_URI_IDENTITY_MAX + 1];
	CHECK(lis_uri_token_decode(&key, old, T0, id, sizeof id, NULL) == 0);
	CHECK_STR(id, text);
	struct ident ids[8];
	size_t n = 0;
	CHECK(ident_text_parse(id, ids, 8, &n) == 0 && n == 4);
	CHECK(ident_find(ids, n, IDENT_IP) && ident_find(ids, n, IDENT_MAC) &&
	      ident_find(ids, n, IDENT_SIP) && ident_find(ids, n, IDENT_TEL));
	CHECK(ident_text_format(ids, n, again, sizeof again) == 0);
	CHECK_STR(again, text);
}

int main(void)
{
	setup_keys();
	t_run("token_round_trip_gives_identity_and_expiry",
	      test_token_round_trip_gives_identity_and_expiry);
	t_run("tokens_are_unguessable_each_time", test_tokens_are_unguessable_each_time);
	t_run("tampered_token_is_refused", test_tampered_token_is_refused);
	t_run("token_with_spare_bits_set_is_refused", test_token_with_spare_bits_set_is_refused);
	t_run("token_under_other_key_is_refused", test_token_under_other_key_is_refused);
	t_run("expired_token_is_refused", test_expired_token_is_refused);
	t_run("malformed_tokens_are_refused", test_malformed_tokens_are_refused);
	t_run("identity_too_long_is_refused", test_identity_too_long_is_refused);
	t_run("key_file_errors_name_file_and_line", test_key_file_errors_name_file_and_line);
	t_run("token_issued_before_the_ident_table_still_reads",
	      test_token_issued_before_the_ident_table_still_reads);
	return t_done();
}
