/* The PROXY protocol v2 header (proto/proxy_v2.c): what HAProxy's send-proxy-v2 sends for an
 * IPv4 and an IPv6 client, with and without TLVs; a LOCAL header (a health check); the
 * header arriving a byte at a time; and every kind of header lisd must refuse. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "proxy_v2.h"

static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
				0x54, 0x0a};

/* A header: signature, ver_cmd, fam, then len bytes of body. Returns its size. */
static size_t hdr(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body, size_t len)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(len >> 8);
	out[15] = (uint8_t)len;
	if (len)
		memcpy(out + 16, body, len);
	return 16 + len;
}

static void test_ipv4_client_then_the_clients_bytes(void)
{
	uint8_t b[64];
	const uint8_t body[12] = {127, 0, 0, 10, 127, 0, 0, 1, 0x9c, 0x40, 0x20, 0xfb};
	size_t n = hdr(b, 0x21, 0x11, body, sizeof body);
	b[n] = 0x16; /* the TLS ClientHello begins */
	struct proxy_v2 h;
	char why[100];
	CHECK(proxy_v2_parse(b, n + 1, &h, why, sizeof why) == 0);
	CHECK(h.size == 28 && !h.local && h.family == AF_INET && h.src_port == 40000);
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET, h.src, ip, sizeof ip);
	CHECK_STR(ip, "127.0.0.10");
}

static void test_ipv6_client_with_tlvs(void)
{
	uint8_t b[128], body[36 + 7] = {0};
	body[0] = 0x20;
	body[1] = 0x01;
	body[2] = 0x0d;
	body[3] = 0xb8;
	body[15] = 0x05;                   /* 2001:db8::5 */
	body[32] = 0x13;
	body[33] = 0x88;                   /* port 5000 */
	memcpy(body + 36, "\x04\x00\x04" "abcd", 7); /* a TLV (PP2_TYPE_NOOP), skipped */
	size_t n = hdr(b, 0x21, 0x21, body, sizeof body);
	struct proxy_v2 h;
	CHECK(proxy_v2_parse(b, n, &h, NULL, 0) == 0);
	CHECK(h.size == n && h.family == AF_INET6 && h.src_port == 5000);
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, h.src, ip, sizeof ip);
	CHECK_STR(ip, "2001:db8::5");
}

static void test_local_keeps_the_peer(void)
{
	uint8_t b[32];
	size_t n = hdr(b, 0x20, 0x00, NULL, 0);
	struct proxy_v2 h;
	CHECK(proxy_v2_parse(b, n, &h, NULL, 0) == 0);
	CHECK(h.local && h.size == 16);
	/* PROXY with an unspecified family: the balancer cannot say; keep the peer too */
	n = hdr(b, 0x21, 0x00, NULL, 0);
	CHECK(proxy_v2_parse(b, n, &h, NULL, 0) == 0 && h.local);
}

static void test_a_byte_at_a_time(void)
{
	uint8_t b[64];
	const uint8_t body[12] = {10, 1, 2, 3, 10, 0, 0, 1, 0, 1, 0, 2};
	size_t n = hdr(b, 0x21, 0x11, body, sizeof body);
	struct proxy_v2 h;
	int wrong = 0;
	for (size_t k = 0; k < n; k++) {
		int rc = proxy_v2_parse(b, k, &h, NULL, 0);
		int want = k < 16 ? 16 : (int)n;
		if (rc != want && wrong++ < 3)
			t_diag("%zu bytes: %d, want %d", k, rc, want);
	}
	CHECK(wrong == 0);
	CHECK(proxy_v2_parse(b, n, &h, NULL, 0) == 0);
}

static void test_refusals_say_why(void)
{
	uint8_t b[2048];
	const uint8_t body[12] = {0};
	struct proxy_v2 h;
	char why[120];
	/* v1, TLS, HTTP: not a v2 header, told from the first wrong byte */
	CHECK(proxy_v2_parse((const uint8_t *)"PROXY TCP4 ", 11, &h, why, sizeof why) < 0);
	CHECK(strstr(why, "signature") != NULL);
	CHECK(proxy_v2_parse((const uint8_t *)"\x16\x03\x01", 3, &h, why, sizeof why) < 0);
	CHECK(proxy_v2_parse(sig, 5, &h, why, sizeof why) == 16);
	size_t n = hdr(b, 0x11, 0x11, body, 12);
	CHECK(proxy_v2_parse(b, n, &h, why, sizeof why) < 0 && strstr(why, "version"));
	n = hdr(b, 0x22, 0x11, body, 12);
	CHECK(proxy_v2_parse(b, n, &h, why, sizeof why) < 0 && strstr(why, "command"));
	n = hdr(b, 0x21, 0x12, body, 12);
	CHECK(proxy_v2_parse(b, n, &h, why, sizeof why) < 0 && strstr(why, "transport"));
	n = hdr(b, 0x21, 0x31, body, 12);
	CHECK(proxy_v2_parse(b, n, &h, why, sizeof why) < 0 && strstr(why, "family"));
	n = hdr(b, 0x21, 0x11, body, 8);
	CHECK(proxy_v2_parse(b, n, &h, why, sizeof why) < 0 && strstr(why, "short"));
	n = hdr(b, 0x21, 0x21, body, 12);
	CHECK(proxy_v2_parse(b, n, &h, why, sizeof why) < 0 && strstr(why, "short"));
	/* a length past what lisd reads: refused at once, not waited for */
	memcpy(b, sig, 12);
	b[12] = 0x21;
	b[13] = 0x11;
	b[14] = 0x04;
	b[15] = 0x00;
	CHECK(proxy_v2_parse(b, 16, &h, why, sizeof why) < 0 && strstr(why, "longer"));
}

int main(void)
{
	t_run("ipv4_client_then_the_clients_bytes", test_ipv4_client_then_the_clients_bytes);
	t_run("ipv6_client_with_tlvs", test_ipv6_client_with_tlvs);
	t_run("local_keeps_the_peer", test_local_keeps_the_peer);
	t_run("a_byte_at_a_time", test_a_byte_at_a_time);
	t_run("refusals_say_why", test_refusals_say_why);
	return t_done();
}
