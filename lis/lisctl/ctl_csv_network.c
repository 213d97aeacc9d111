/* What the network knows, as CSV (lis-wiremap(5)): switches, their ports, Wi-Fi BSSIDs,
 * endpoints (device and user identities) and observed bindings. Identities are stored in
 * one spelling (ident_mac_format, ident_uri_normalize) so that what a switch or a request says
 * finds what a person imported. References to other files' keys are checked by db_import,
 * which sees the files and the database together. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl_csv.h"
#include "wm_snapshot.h"
#include "ident.h"

/* ---- values shared by several files ---- */

static void error_at(struct check *ck, struct ctl_row *r, size_t k, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void error_at(struct check *ck, struct ctl_row *r, size_t k, const char *fmt, ...)
{
	struct ctl_cell *c = ctl_csv_cell(r, ck, k);
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_error_at(ck->errs, ck->csv->path, c ? c->line : r->line, c ? ctl_csv_col(ck, k) : 1,
		      "%s", msg);
}

/* Column k, when present, as a canonical MAC address. */
static bool check_mac(struct check *ck, struct ctl_row *r, size_t k)
{
	struct ctl_cell *c = ctl_csv_cell(r, ck, k);
	uint8_t mac[6];
	char canon[18];

	if (!c || !c->s)
		return true;
	if (ident_mac_parse(c->s, mac) < 0) {
		error_at(ck, r, k, "%s is not a MAC address (e.g. 00:11:22:33:44:55)", Q(c->s));
		return false;
	}
	ident_mac_format(mac, canon);
	return ctl_csv_set(ck, c, canon);
}

/* Column k, when present, as one host's address in canonical form (an IPv4 address seen
 * through an IPv6 socket, ::ffff:a.b.c.d, is the IPv4 address). */
static bool check_address(struct check *ck, struct ctl_row *r, size_t k)
{
	struct ctl_cell *c = ctl_csv_cell(r, ck, k);
	unsigned char bin[16];
	char canon[INET6_ADDRSTRLEN];

	if (!c || !c->s)
		return true;
	if (strlen(c->s) < sizeof(canon) && inet_pton(AF_INET, c->s, bin) == 1) {
		inet_ntop(AF_INET, bin, canon, sizeof(canon));
	} else if (strlen(c->s) < sizeof(canon) && inet_pton(AF_INET6, c->s, bin) == 1) {
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)bin))
			inet_ntop(AF_INET, bin + 12, canon, sizeof(canon));
		else
			inet_ntop(AF_INET6, bin, canon, sizeof(canon));
	} else {
		error_at(ck, r, k, "%s is not an IP address (one host, no prefix length)",
			 Q(c->s));
		return false;
	}
	return ctl_csv_set(ck, c, canon);
}

/* Column k, when present, as a key (no white space). */
static bool check_ref(struct check *ck, struct ctl_row *r, size_t k, const char *what)
{
	return !ctl_csv_val(r, ck, k) || ctl_csv_check_key(ck, r, k, what);
}

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* RFC 3339 (the ISO 8601 profile): date, "T" (or a space, as psql prints it), time, an
 * optional fraction, and a zone: "Z" or +hh:mm (also +hhmm or +hh). A time without a zone
 * would mean a different instant on every host, so it is refused. */
int ctl_parse_timestamp(const char *s, time_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, zh = 0, zm = 0, sign = 0;
	time_t t;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	s += 19;
	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9')
			return -1;
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		sign = 0;
	} else if (s[0] == '+' || s[0] == '-') {
		size_t n = strlen(s);
		sign = s[0] == '+' ? 1 : -1;
		if (n != 3 && n != 5 && !(n == 6 && s[3] == ':'))
			return -1;
		zh = digits(s + 1, 2);
		if (n > 3)
			zm = digits(s + n - 2, 2);
		if (zh < 0 || zh > 23 || zm < 0 || zm > 59)
			return -1;
	} else {
		return -1;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t - sign * (zh * 3600 + zm * 60);
	return 0;
}

/* A binding's last_seen, first_seen and source columns (the same in the three files). */
enum { SEEN_LAST, SEEN_FIRST, SEEN_SOURCE };
static bool check_seen(struct check *ck, struct ctl_row *r, const size_t k[3], struct db_seen *out)
{
	const char *last = ctl_csv_val(r, ck, k[SEEN_LAST]);
	const char *first = ctl_csv_val(r, ck, k[SEEN_FIRST]);
	const char *source = ctl_csv_val(r, ck, k[SEEN_SOURCE]);
	bool ok = true;

	memset(out, 0, sizeof(*out));
	if (last && ctl_parse_timestamp(last, &out->last_seen) < 0) {
		error_at(ck, r, k[SEEN_LAST], "%s is not a timestamp (ISO 8601 with a zone, e.g. "
			 "2026-11-25T08:00:00Z)", Q(last));
		ok = false;
	}
	if (first && ctl_parse_timestamp(first, &out->first_seen) < 0) {
		error_at(ck, r, k[SEEN_FIRST], "%s is not a timestamp (ISO 8601 with a zone, e.g. "
			 "2026-11-25T08:00:00Z)", Q(first));
		ok = false;
	}
	out->has_first_seen = first != NULL;
	if (ok && last && first && out->last_seen < out->first_seen) {
		error_at(ck, r, k[SEEN_LAST], "last_seen %s is before first_seen %s", Q(last),
			 Q(first));
		ok = false;
	}
	/* The source appears in lisd's and explain's output as one word. */
	if (source && strpbrk(source, " \t\r\n")) {
		error_at(ck, r, k[SEEN_SOURCE], "source %s contains white space", Q(source));
		ok = false;
	}
	out->source = source;
	return ok;
}

/* ---- switches.csv ---- */

enum {
	W_SWITCH, W_SITE, W_CHASSIS_ID, W_MGMT_ADDRESS, W_LOCATION, W_DESCRIPTION,
	W_SNMP_PROFILE, W_SNMP_PORT, W_POLL_INTERVAL, W_POLL_ENABLED, W_N
};
static const struct column switch_columns[W_N] = {
	[W_SWITCH] = {"switch", true}, [W_SITE] = {"site", true},
	[W_CHASSIS_ID] = {"chassis_id", true}, [W_MGMT_ADDRESS] = {"mgmt_address", false},
	[W_LOCATION] = {"location", false}, [W_DESCRIPTION] = {"description", false},
	[W_SNMP_PROFILE] = {"snmp_profile", false}, [W_SNMP_PORT] = {"snmp_port", false},
	[W_POLL_INTERVAL] = {"poll_interval", false}, [W_POLL_ENABLED] = {"poll_enabled", false},
};

/* Column k, when present, as a whole number in lo..hi (decimal digits only: "1e3", "+5"
 * or "60s" in a spreadsheet is a mistake worth hearing about). */
static bool check_uint(struct check *ck, struct ctl_row *r, size_t k, unsigned lo, unsigned hi,
		       const char *what, unsigned *out)
{
	const char *s = ctl_csv_val(r, ck, k);
	unsigned long long v = 0;

	*out = 0;
	if (!s)
		return true;
	for (const char *p = s; ; p++) {
		if (*p == '\0' && p != s)
			break;
		if (*p < '0' || *p > '9' || v > hi) {
			v = hi + 1;
			break;
		}
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < lo || v > hi) {
		error_at(ck, r, k, "%s %s is not a whole number from %u to %u", what, Q(s), lo, hi);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

/* The polling columns. snmp_profile names a [snmp.NAME] section of wiremapd.conf, so it
 * takes the characters a section name may hold; the credentials stay in that file. */
static bool check_polling(struct check *ck, struct ctl_row *r, struct db_switch_row *w)
{
	const char *profile = ctl_csv_val(r, ck, W_SNMP_PROFILE);
	const char *enabled = ctl_csv_val(r, ck, W_POLL_ENABLED);
	bool ok = true, on = true;

	if (profile && (strlen(profile) > 64 ||
			strspn(profile, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				 "0123456789_.-") != strlen(profile))) {
		error_at(ck, r, W_SNMP_PROFILE, "snmp_profile %s is not a profile name (up to 64 "
			 "letters, digits, '_', '.', '-': [snmp.NAME] in wiremapd.conf)", Q(profile));
		ok = false;
	}
	ok = check_uint(ck, r, W_SNMP_PORT, 1, 65535, "snmp_port", &w->snmp_port) && ok;
	ok = check_uint(ck, r, W_POLL_INTERVAL, 1, 2147483647, "poll_interval (seconds)",
			&w->poll_interval) && ok;
	if (enabled && ctl_csv_parse_bool(enabled, &on) < 0) {
		error_at(ck, r, W_POLL_ENABLED, "poll_enabled %s is not true or false", Q(enabled));
		ok = false;
	}
	w->snmp_profile = profile;
	w->poll_disabled = !on;
	return ok;
}

static void switches_row(struct ctl_row *r, struct check *ck)
{
	struct ctl_cell *chassis = ctl_csv_cell(r, ck, W_CHASSIS_ID);
	struct db_switch_row poll = {0};
	uint8_t mac[6];
	bool ok = ctl_csv_require(ck, r, W_SWITCH, "switch");

	if (ok)
		ctl_csv_add_key(ck, 0, r, W_SWITCH, "%s", ctl_csv_val(r, ck, W_SWITCH));
	ok = ctl_csv_require(ck, r, W_SITE, "site") && ok;
	if (ctl_csv_require(ck, r, W_CHASSIS_ID, "chassis_id")) {
		/* LLDP chassis ID subtype 4 is a MAC: one spelling, whatever the file used. */
		if (ident_mac_parse(chassis->s, mac) == 0) {
			char canon[18];
			ident_mac_format(mac, canon);
			ok = ctl_csv_set(ck, chassis, canon) && ok;
		}
		ctl_csv_add_key(ck, 1, r, W_CHASSIS_ID, "%s", chassis->s);
	} else {
		ok = false;
	}
	if (!ok)
		return;
	ok = ctl_csv_check_key(ck, r, W_SWITCH, "switch");
	ok = ctl_csv_check_key(ck, r, W_SITE, "site") && ok;
	ok = check_ref(ck, r, W_LOCATION, "location") && ok;
	ok = check_address(ck, r, W_MGMT_ADDRESS) && ok;
	ok = check_polling(ck, r, &poll) && ok;
	if (!ok)
		return;
	*(struct db_switch_row *)ctl_csv_push(ck) = (struct db_switch_row){
		.key = ctl_csv_val(r, ck, W_SWITCH),
		.site_key = ctl_csv_val(r, ck, W_SITE),
		.chassis_id = chassis->s,
		.mgmt_address = ctl_csv_val(r, ck, W_MGMT_ADDRESS),
		.location_key = ctl_csv_val(r, ck, W_LOCATION),
		.description = ctl_csv_val(r, ck, W_DESCRIPTION),
		.snmp_profile = poll.snmp_profile,
		.snmp_port = poll.snmp_port,
		.poll_interval = poll.poll_interval,
		.poll_disabled = poll.poll_disabled,
		.file = ck->csv->path,
		.line = r->line,
		.site_col = ctl_csv_col(ck, W_SITE),
		.location_col = ctl_csv_col(ck, W_LOCATION),
	};
}

CTL_CSV_LOADER(switches, ctl_switches, switch_columns, W_N, "switch", "chassis_id")

/* ---- ports.csv ---- */

enum { P_SWITCH, P_PORT, P_LOCATION, P_DESCRIPTION, P_N };
static const struct column port_columns[P_N] = {
	[P_SWITCH] = {"switch", true}, [P_PORT] = {"port", true},
	[P_LOCATION] = {"location", false}, [P_DESCRIPTION] = {"description", false},
};

static void ports_row(struct ctl_row *r, struct check *ck)
{
	bool ok = ctl_csv_require(ck, r, P_SWITCH, "switch");

	ok = ctl_csv_require(ck, r, P_PORT, "port") && ok;
	if (!ok)
		return;
	/* A switch key holds no white space, so "switch port" names one port unambiguously. */
	ctl_csv_add_key(ck, 0, r, P_PORT, "%s %s", ctl_csv_val(r, ck, P_SWITCH),
			ctl_csv_val(r, ck, P_PORT));
	ok = ctl_csv_check_key(ck, r, P_SWITCH, "switch");
	ok = check_ref(ck, r, P_LOCATION, "location") && ok;
	if (!ok)
		return;
	*(struct db_port_row *)ctl_csv_push(ck) = (struct db_port_row){
		.switch_key = ctl_csv_val(r, ck, P_SWITCH),
		.port_id = ctl_csv_val(r, ck, P_PORT),
		.location_key = ctl_csv_val(r, ck, P_LOCATION),
		.description = ctl_csv_val(r, ck, P_DESCRIPTION),
		.file = ck->csv->path,
		.line = r->line,
		.switch_col = ctl_csv_col(ck, P_SWITCH),
		.location_col = ctl_csv_col(ck, P_LOCATION),
	};
}

CTL_CSV_LOADER(ports, ctl_ports, port_columns, P_N, "switch and port")

/* ---- bssids.csv ---- */

enum { B_BSSID, B_LOCATION, B_AP, B_N };
static const struct column bssid_columns[B_N] = {
	[B_BSSID] = {"bssid", true}, [B_LOCATION] = {"location", true}, [B_AP] = {"ap", false},
};

/* "MAC" or "MAC/len" (len 1 to 48): the BSSIDs whose first len bits are MAC's. */
static bool check_bssid_range(struct check *ck, struct ctl_row *r, unsigned *len_out)
{
	struct ctl_cell *c = ctl_csv_cell(r, ck, B_BSSID);
	char mac_text[32], canon[18], *end;
	const char *slash = strchr(c->s, '/');
	unsigned long len = 48;
	uint8_t mac[6];
	bool host = false;

	if (slash) {
		size_t n = (size_t)(slash - c->s);
		if (n >= sizeof(mac_text) || slash[1] < '0' || slash[1] > '9' ||
		    strlen(slash + 1) > 2)
			goto bad;
		memcpy(mac_text, c->s, n);
		mac_text[n] = '\0';
		len = strtoul(slash + 1, &end, 10);
		if (*end || len < 1 || len > 48)
			goto bad;
	} else if (strlen(c->s) < sizeof(mac_text)) {
		memcpy(mac_text, c->s, strlen(c->s) + 1);
	} else {
		goto bad;
	}
	if (ident_mac_parse(mac_text, mac) < 0)
		goto bad;
	for (unsigned bit = (unsigned)len; bit < 48; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		host |= (mac[bit / 8] & m) != 0;
		mac[bit / 8] &= (uint8_t)~m;
	}
	ident_mac_format(mac, canon);
	if (host) {
		error_at(ck, r, B_BSSID, "%s has bits set past the prefix length (did you mean "
			 "%s/%lu?)", Q(c->s), canon, len);
		return false;
	}
	*len_out = (unsigned)len;
	return ctl_csv_set(ck, c, canon);
bad:
	error_at(ck, r, B_BSSID, "%s is not a BSSID (a MAC address) or BSSID range (MAC/length, "
		 "length 1 to 48)", Q(c->s));
	return false;
}

static void bssids_row(struct ctl_row *r, struct check *ck)
{
	unsigned len = 48;
	bool ok = ctl_csv_require(ck, r, B_BSSID, "bssid");

	if (ok && check_bssid_range(ck, r, &len))
		ctl_csv_add_key(ck, 0, r, B_BSSID, "%s/%u", ctl_csv_val(r, ck, B_BSSID), len);
	else
		ok = false;
	if (ctl_csv_require(ck, r, B_LOCATION, "location"))
		ok = ctl_csv_check_key(ck, r, B_LOCATION, "location") && ok;
	else
		ok = false;
	if (!ok)
		return;
	*(struct db_bssid_row *)ctl_csv_push(ck) = (struct db_bssid_row){
		.bssid = ctl_csv_val(r, ck, B_BSSID),
		.prefix_len = len,
		.ap = ctl_csv_val(r, ck, B_AP),
		.location_key = ctl_csv_val(r, ck, B_LOCATION),
		.file = ck->csv->path,
		.line = r->line,
		.location_col = ctl_csv_col(ck, B_LOCATION),
	};
}

CTL_CSV_LOADER(bssids, ctl_bssids, bssid_columns, B_N, "bssid")

/* ---- endpoints.csv ---- */

enum { E_ENDPOINT, E_CLASS, E_MAC, E_URI, E_TEL, E_LOCATION, E_N };
static const struct column endpoint_columns[E_N] = {
	[E_ENDPOINT] = {"endpoint", true}, [E_CLASS] = {"class", true}, [E_MAC] = {"mac", false},
	[E_URI] = {"uri", false}, [E_TEL] = {"tel", false}, [E_LOCATION] = {"location", false},
};

/* Column k, when present, as a normalized tel: URI (tel) or sip:/sips: URI (!tel). */
static bool check_uri(struct check *ck, struct ctl_row *r, size_t k, bool tel)
{
	struct ctl_cell *c = ctl_csv_cell(r, ck, k);
	char canon[512];

	if (!c || !c->s)
		return true;
	if (ident_uri_normalize(c->s, canon, sizeof(canon)) < 0 ||
	    (strncmp(canon, "tel:", 4) == 0) != tel) {
		if (tel)
			error_at(ck, r, k, "%s is not a tel URI (e.g. tel:+15551234567)", Q(c->s));
		else if (strncasecmp(c->s, "tel:", 4) == 0)
			error_at(ck, r, k, "%s is a tel URI: put it in the tel column", Q(c->s));
		else
			error_at(ck, r, k, "%s is not a SIP URI (sip: or sips:, e.g. "
				 "sip:alice@example.com)", Q(c->s));
		return false;
	}
	return ctl_csv_set(ck, c, canon);
}

static void endpoints_row(struct ctl_row *r, struct check *ck)
{
	static const char *const classes[] = {"desk_phone", "softphone", "mobile", "other"};
	const char *cls = ctl_csv_val(r, ck, E_CLASS);
	bool ok = ctl_csv_require(ck, r, E_ENDPOINT, "endpoint"), known = false;

	if (ok)
		ctl_csv_add_key(ck, 0, r, E_ENDPOINT, "%s", ctl_csv_val(r, ck, E_ENDPOINT));
	if (check_mac(ck, r, E_MAC)) {
		if (ctl_csv_val(r, ck, E_MAC))
			ctl_csv_add_key(ck, 1, r, E_MAC, "%s", ctl_csv_val(r, ck, E_MAC));
	} else {
		ok = false;
	}
	if (check_uri(ck, r, E_URI, false)) {
		if (ctl_csv_val(r, ck, E_URI))
			ctl_csv_add_key(ck, 2, r, E_URI, "%s", ctl_csv_val(r, ck, E_URI));
	} else {
		ok = false;
	}
	if (check_uri(ck, r, E_TEL, true)) {
		if (ctl_csv_val(r, ck, E_TEL))
			ctl_csv_add_key(ck, 3, r, E_TEL, "%s", ctl_csv_val(r, ck, E_TEL));
	} else {
		ok = false;
	}
	if (ctl_csv_require(ck, r, E_CLASS, "class")) {
		for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
			known |= strcmp(cls, classes[i]) == 0;
		if (!known) {
			error_at(ck, r, E_CLASS, "%s is not an endpoint class (desk_phone, "
				 "softphone, mobile or other)", Q(cls));
			ok = false;
		}
	} else {
		ok = false;
	}
	if (!ok)
		return;
	if (!ctl_csv_val(r, ck, E_MAC) && !ctl_csv_val(r, ck, E_URI) &&
	    !ctl_csv_val(r, ck, E_TEL)) {
		error_at(ck, r, E_ENDPOINT, "endpoint %s has none of mac, uri and tel",
			 Q(ctl_csv_val(r, ck, E_ENDPOINT)));
		ok = false;
	}
	ok = ctl_csv_check_key(ck, r, E_ENDPOINT, "endpoint") && ok;
	ok = check_ref(ck, r, E_LOCATION, "location") && ok;
	if (!ok)
		return;
	*(struct db_endpoint_row *)ctl_csv_push(ck) = (struct db_endpoint_row){
		.key = ctl_csv_val(r, ck, E_ENDPOINT),
		.class_ = cls,
		.mac = ctl_csv_val(r, ck, E_MAC),
		.uri = ctl_csv_val(r, ck, E_URI),
		.tel = ctl_csv_val(r, ck, E_TEL),
		.location_key = ctl_csv_val(r, ck, E_LOCATION),
		.file = ck->csv->path,
		.line = r->line,
		.location_col = ctl_csv_col(ck, E_LOCATION),
	};
}

CTL_CSV_LOADER(endpoints, ctl_endpoints, endpoint_columns, E_N, "endpoint", "mac", "uri", "tel")

/* ---- mac_ports.csv ---- */

enum { MP_MAC, MP_SWITCH, MP_PORT, MP_LAST_SEEN, MP_FIRST_SEEN, MP_SOURCE, MP_N };
static const struct column mac_port_columns[MP_N] = {
	[MP_MAC] = {"mac", true}, [MP_SWITCH] = {"switch", true}, [MP_PORT] = {"port", true},
	[MP_LAST_SEEN] = {"last_seen", true}, [MP_FIRST_SEEN] = {"first_seen", false},
	[MP_SOURCE] = {"source", false},
};

static void mac_ports_row(struct ctl_row *r, struct check *ck)
{
	struct db_seen seen;
	bool ok = ctl_csv_require(ck, r, MP_MAC, "mac");

	ok = ctl_csv_require(ck, r, MP_SWITCH, "switch") && ok;
	ok = ctl_csv_require(ck, r, MP_PORT, "port") && ok;
	ok = ctl_csv_require(ck, r, MP_LAST_SEEN, "last_seen") && ok;
	if (!ok || !check_mac(ck, r, MP_MAC))
		return;
	ctl_csv_add_key(ck, 0, r, MP_MAC, "%s %s %s", ctl_csv_val(r, ck, MP_MAC),
			ctl_csv_val(r, ck, MP_SWITCH), ctl_csv_val(r, ck, MP_PORT));
	ok = ctl_csv_check_key(ck, r, MP_SWITCH, "switch");
	ok = check_seen(ck, r, (size_t[]){MP_LAST_SEEN, MP_FIRST_SEEN, MP_SOURCE}, &seen) && ok;
	if (!ok)
		return;
	*(struct db_mac_port_row *)ctl_csv_push(ck) = (struct db_mac_port_row){
		.mac = ctl_csv_val(r, ck, MP_MAC),
		.switch_key = ctl_csv_val(r, ck, MP_SWITCH),
		.port_id = ctl_csv_val(r, ck, MP_PORT),
		.seen = seen,
		.file = ck->csv->path,
		.line = r->line,
		.switch_col = ctl_csv_col(ck, MP_SWITCH),
	};
}

CTL_CSV_LOADER(mac_ports, ctl_mac_ports, mac_port_columns, MP_N, "binding")

/* ---- ip_macs.csv ---- */

enum { IM_IP, IM_MAC, IM_LAST_SEEN, IM_FIRST_SEEN, IM_SOURCE, IM_N };
static const struct column ip_mac_columns[IM_N] = {
	[IM_IP] = {"ip", true}, [IM_MAC] = {"mac", true}, [IM_LAST_SEEN] = {"last_seen", true},
	[IM_FIRST_SEEN] = {"first_seen", false}, [IM_SOURCE] = {"source", false},
};

static void ip_macs_row(struct ctl_row *r, struct check *ck)
{
	struct db_seen seen;
	bool ok = ctl_csv_require(ck, r, IM_IP, "ip");

	ok = ctl_csv_require(ck, r, IM_MAC, "mac") && ok;
	ok = ctl_csv_require(ck, r, IM_LAST_SEEN, "last_seen") && ok;
	if (!ok)
		return;
	ok = check_address(ck, r, IM_IP);
	ok = check_mac(ck, r, IM_MAC) && ok;
	if (!ok)
		return;
	ctl_csv_add_key(ck, 0, r, IM_IP, "%s %s", ctl_csv_val(r, ck, IM_IP),
			ctl_csv_val(r, ck, IM_MAC));
	if (!check_seen(ck, r, (size_t[]){IM_LAST_SEEN, IM_FIRST_SEEN, IM_SOURCE}, &seen))
		return;
	*(struct db_ip_mac_row *)ctl_csv_push(ck) = (struct db_ip_mac_row){
		.ip = ctl_csv_val(r, ck, IM_IP),
		.mac = ctl_csv_val(r, ck, IM_MAC),
		.seen = seen,
		.file = ck->csv->path,
		.line = r->line,
	};
}

CTL_CSV_LOADER(ip_macs, ctl_ip_macs, ip_mac_columns, IM_N, "binding")

/* ---- mac_bssids.csv ---- */

enum { MB_MAC, MB_BSSID, MB_LAST_SEEN, MB_FIRST_SEEN, MB_SOURCE, MB_N };
static const struct column mac_bssid_columns[MB_N] = {
	[MB_MAC] = {"mac", true}, [MB_BSSID] = {"bssid", true},
	[MB_LAST_SEEN] = {"last_seen", true}, [MB_FIRST_SEEN] = {"first_seen", false},
	[MB_SOURCE] = {"source", false},
};

static void mac_bssids_row(struct ctl_row *r, struct check *ck)
{
	struct db_seen seen;
	bool ok = ctl_csv_require(ck, r, MB_MAC, "mac");

	ok = ctl_csv_require(ck, r, MB_BSSID, "bssid") && ok;
	ok = ctl_csv_require(ck, r, MB_LAST_SEEN, "last_seen") && ok;
	if (!ok)
		return;
	ok = check_mac(ck, r, MB_MAC);
	ok = check_mac(ck, r, MB_BSSID) && ok;
	if (!ok)
		return;
	ctl_csv_add_key(ck, 0, r, MB_MAC, "%s %s", ctl_csv_val(r, ck, MB_MAC),
			ctl_csv_val(r, ck, MB_BSSID));
	if (!check_seen(ck, r, (size_t[]){MB_LAST_SEEN, MB_FIRST_SEEN, MB_SOURCE}, &seen))
		return;
	*(struct db_mac_bssid_row *)ctl_csv_push(ck) = (struct db_mac_bssid_row){
		.mac = ctl_csv_val(r, ck, MB_MAC),
		.bssid = ctl_csv_val(r, ck, MB_BSSID),
		.seen = seen,
		.file = ck->csv->path,
		.line = r->line,
	};
}

CTL_CSV_LOADER(mac_bssids, ctl_mac_bssids, mac_bssid_columns, MB_N, "binding")
