/* LLDP identifiers as text: every chassis and port subtype, and odd values that must never
 * break a poll (Hex-STRING, short, empty, not UTF-8). */
#include <string.h>

#include "check.h"
#include "wm_lldp.h"

static char buf[WM_LLDP_TEXT_MAX];

#define U(s) (const unsigned char *)(s), sizeof(s) - 1

static void test_chassis_subtypes_decode_to_their_own_form(void)
{
	CHECK(wm_lldp_chassis_id_text(1, U("chassis-A"), buf, sizeof buf) == 1);
	CHECK_STR(buf, "chassis-A");
	wm_lldp_chassis_id_text(2, U("Uplink"), buf, sizeof buf);
	CHECK_STR(buf, "Uplink");
	wm_lldp_chassis_id_text(3, U("slot3"), buf, sizeof buf);
	CHECK_STR(buf, "slot3");
	CHECK(wm_lldp_chassis_id_text(4, U("\x00\x04\xf2\xaa\xbb\x01"), buf, sizeof buf) == 1);
	CHECK_STR(buf, "00:04:f2:aa:bb:01");
	CHECK(wm_lldp_chassis_id_text(5, U("\x01\xc0\xa8\x0a\x05"), buf, sizeof buf) == 1);
	CHECK_STR(buf, "192.168.10.5");
	wm_lldp_chassis_id_text(5, U("\x02\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x05"), buf,
				sizeof buf);
	CHECK_STR(buf, "2001:db8::5");
	wm_lldp_chassis_id_text(5, U("\x06\x00\x11\x22\x33\x44\x55"), buf, sizeof buf);
	CHECK_STR(buf, "00:11:22:33:44:55");
	wm_lldp_chassis_id_text(6, U("eth0"), buf, sizeof buf);
	CHECK_STR(buf, "eth0");
	wm_lldp_chassis_id_text(7, U("42"), buf, sizeof buf);
	CHECK_STR(buf, "42");
	CHECK_STR(wm_lldp_chassis_subtype_name(4), "macAddress");
	CHECK_STR(wm_lldp_chassis_subtype_name(5), "networkAddress");
	CHECK_STR(wm_lldp_chassis_subtype_name(0), "unknown");
	CHECK_STR(wm_lldp_chassis_subtype_name(8), "unknown");
}

static void test_port_subtypes_decode_to_their_own_form(void)
{
	wm_lldp_port_id_text(1, U("desk 3-12"), buf, sizeof buf);
	CHECK_STR(buf, "desk 3-12");
	wm_lldp_port_id_text(2, U("port-7"), buf, sizeof buf);
	CHECK_STR(buf, "port-7");
	wm_lldp_port_id_text(3, U("\x00\x04\xf2\xaa\xbb\x01"), buf, sizeof buf);
	CHECK_STR(buf, "00:04:f2:aa:bb:01");
	wm_lldp_port_id_text(4, U("\x01\x0a\x00\x00\x01"), buf, sizeof buf);
	CHECK_STR(buf, "10.0.0.1");
	wm_lldp_port_id_text(5, U("Gi1/0/3"), buf, sizeof buf);
	CHECK_STR(buf, "Gi1/0/3");
	CHECK(wm_lldp_port_id_text(6, U("\x00\x01\x02"), buf, sizeof buf) == 0);
	CHECK_STR(buf, "00:01:02");
	wm_lldp_port_id_text(6, U("circuit-9"), buf, sizeof buf);
	CHECK_STR(buf, "circuit-9");
	wm_lldp_port_id_text(7, U("1"), buf, sizeof buf);
	CHECK_STR(buf, "1");
	CHECK_STR(wm_lldp_port_subtype_name(3), "macAddress");
	CHECK_STR(wm_lldp_port_subtype_name(6), "agentCircuitId");
}

static void test_odd_values_fall_back_to_hex_or_empty(void)
{
	/* 1-byte and 2-byte "MACs" */
	CHECK(wm_lldp_chassis_id_text(4, U("\x0a"), buf, sizeof buf) == 0);
	CHECK_STR(buf, "0a");
	wm_lldp_port_id_text(3, U("\x00\x11"), buf, sizeof buf);
	CHECK_STR(buf, "00:11");
	/* empty */
	CHECK(wm_lldp_chassis_id_text(6, (const unsigned char *)"", 0, buf, sizeof buf) == 0);
	CHECK_STR(buf, "");
	CHECK(wm_lldp_port_id_text(5, NULL, 0, buf, sizeof buf) == 0);
	CHECK_STR(buf, "");
	/* not UTF-8, control characters */
	wm_lldp_chassis_id_text(2, U("\xc0\xff\xee"), buf, sizeof buf);
	CHECK_STR(buf, "c0:ff:ee");
	wm_lldp_port_id_text(5, U("a\nb"), buf, sizeof buf);
	CHECK_STR(buf, "61:0a:62");
	/* network address: wrong family or length */
	wm_lldp_chassis_id_text(5, U("\x01\x0a\x00"), buf, sizeof buf);
	CHECK_STR(buf, "01:0a:00");
	wm_lldp_chassis_id_text(5, U("\x63\x0a\x00\x00\x01"), buf, sizeof buf);
	CHECK_STR(buf, "63:0a:00:00:01");
	/* unknown subtype: always hex, even if printable */
	wm_lldp_port_id_text(99, U("what"), buf, sizeof buf);
	CHECK_STR(buf, "77:68:61:74");
	/* UTF-8 text and trailing NULs */
	wm_lldp_port_id_text(1, U("B\xc3\xbcro 3"), buf, sizeof buf);
	CHECK_STR(buf, "B\xc3\xbcro 3");
	wm_lldp_port_id_text(5, U("Gi1/0/1\0\0"), buf, sizeof buf);
	CHECK_STR(buf, "Gi1/0/1");
	/* overlong encoding and a lone surrogate are not UTF-8 */
	wm_lldp_port_id_text(5, U("\xc0\xaf"), buf, sizeof buf);
	CHECK_STR(buf, "c0:af");
	wm_lldp_port_id_text(5, U("\xed\xa0\x80"), buf, sizeof buf);
	CHECK_STR(buf, "ed:a0:80");
}

static void test_hex_of_255_octets_fits_and_small_buffers_truncate(void)
{
	unsigned char big[255];
	memset(big, 0xab, sizeof big);
	wm_lldp_chassis_id_text(1, big, sizeof big, buf, sizeof buf);
	CHECK(strlen(buf) == 255 * 3 - 1);
	char small[6];
	wm_lldp_chassis_id_text(4, U("\x00\x04\xf2\xaa\xbb\x01"), small, sizeof small);
	CHECK(strlen(small) < sizeof small);
	wm_lldp_port_id_text(5, U("Gi1/0/10"), small, sizeof small);
	CHECK_STR(small, "Gi1/0");
	wm_lldp_port_id_text(99, U("\x01\x02\x03"), small, sizeof small);
	CHECK_STR(small, "01:02");
}

static void test_opaque_hex_has_no_separators_and_keeps_whole_octets(void)
{
	/* printable or not, NULs included: the octets as they came */
	wm_lldp_hex(U("\x1a\x02US\x00"), buf, sizeof buf);
	CHECK_STR(buf, "1a02555300");
	unsigned char big[256];
	memset(big, 0xcd, sizeof big);
	wm_lldp_hex(big, sizeof big, buf, sizeof buf);
	CHECK(strlen(buf) == 2 * sizeof big);
	char small[6];
	wm_lldp_hex(U("\x01\x02\x03"), small, sizeof small);
	CHECK_STR(small, "0102");
	wm_lldp_hex(NULL, 3, buf, sizeof buf);
	CHECK_STR(buf, "");
	wm_lldp_hex(U(""), buf, sizeof buf);
	CHECK_STR(buf, "");
}

static void test_capabilities_bits_and_network_devices(void)
{
	unsigned c = wm_lldp_caps(U("\x24"));
	CHECK(c == (WM_LLDP_CAP_BRIDGE | WM_LLDP_CAP_TELEPHONE));
	wm_lldp_caps_text(c, buf, sizeof buf);
	CHECK_STR(buf, "bridge,telephone");
	/* IP phone with a PC port: bridge + telephone is a desk, not an uplink */
	CHECK(!wm_lldp_caps_is_network_device(c));
	c = wm_lldp_caps(U("\x28\x00"));
	wm_lldp_caps_text(c, buf, sizeof buf);
	CHECK_STR(buf, "bridge,router");
	CHECK(wm_lldp_caps_is_network_device(c));
	CHECK(wm_lldp_caps_is_network_device(wm_lldp_caps(U("\x08"))));
	CHECK(!wm_lldp_caps_is_network_device(wm_lldp_caps(U("\x10")))); /* WLAN AP only */
	CHECK(!wm_lldp_caps_is_network_device(wm_lldp_caps(U("\x01")))); /* station */
	CHECK(wm_lldp_caps(NULL, 0) == 0);
	wm_lldp_caps_text(0, buf, sizeof buf);
	CHECK_STR(buf, "");
	wm_lldp_caps_text(0xff, buf, sizeof buf);
	CHECK_STR(buf, "other,repeater,bridge,wlanAccessPoint,router,telephone,docsisCableDevice,"
		       "stationOnly");
}

int main(void)
{
	t_run("chassis_subtypes_decode_to_their_own_form",
	      test_chassis_subtypes_decode_to_their_own_form);
	t_run("port_subtypes_decode_to_their_own_form", test_port_subtypes_decode_to_their_own_form);
	t_run("odd_values_fall_back_to_hex_or_empty", test_odd_values_fall_back_to_hex_or_empty);
	t_run("hex_of_255_octets_fits_and_small_buffers_truncate",
	      test_hex_of_255_octets_fits_and_small_buffers_truncate);
	t_run("opaque_hex_has_no_separators_and_keeps_whole_octets",
	      test_opaque_hex_has_no_separators_and_keeps_whole_octets);
	t_run("capabilities_bits_and_network_devices", test_capabilities_bits_and_network_devices);
	return t_done();
}
