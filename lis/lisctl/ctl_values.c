/* What each kind of wiremap value is (enum db_kind, db_entity.h), both ways: a file's text
 * checked, written in its one canonical spelling and stored in the row (ctl_value_read);
 * db_column_text (db_entity.c) writes them back. Identities are stored in one
 * spelling (ident_mac_format, ident_uri_normalize) so that what a switch or a request says
 * finds what a person imported. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl_values.h"
#include "ident.h"
#include "lis_strbuf.h"

/* ---- parsing ---- */

/* A decimal number, written out in full: no "inf", "nan", hex, or stray characters. */
static bool parse_number(const char *s, double *out)
{
	char *end;

	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return *end == '\0' && errno == 0 && isfinite(*out);
}

/* BCP 47 shape (RFC 5646 §2.1), loosely: letters first, then "-" separated alphanumerics. */
static bool is_language_tag(const char *s)
{
	size_t run = 0;
	bool first = true;

	for (; *s; s++) {
		if (*s == '-') {
			if (run == 0)
				return false;
			run = 0;
			first = false;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (!first && *s >= '0' && *s <= '9')) {
			if (++run > 8)
				return false;
		} else {
			return false;
		}
	}
	return run > 0;
}

enum cidr_result { CIDR_OK, CIDR_BAD, CIDR_NO_LENGTH, CIDR_HOST_BITS };

/* Parse "address/length" strictly (inet_pton forms only). canon gets the network in
 * canonical text; on CIDR_HOST_BITS it is the prefix with host bits cleared. */
static enum cidr_result parse_cidr(const char *s, char *canon, size_t size)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	int af, bits;
	size_t alen, nbytes;
	unsigned long len;
	bool host = false;
	char *end;

	if (!slash) {
		if (strlen(s) < sizeof(addr) &&
		    (inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1))
			return CIDR_NO_LENGTH;
		return CIDR_BAD;
	}
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(addr))
		return CIDR_BAD;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1)
		af = AF_INET, bits = 32;
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		af = AF_INET6, bits = 128;
	else
		return CIDR_BAD;
	if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
		return CIDR_BAD;
	len = strtoul(slash + 1, &end, 10);
	if (*end || len > (unsigned long)bits)
		return CIDR_BAD;
	nbytes = (size_t)bits / 8;
	for (size_t i = 0; i < nbytes; i++) {
		unsigned keep = i * 8 >= len ? 0 : (len - i * 8 >= 8 ? 8 : (unsigned)(len - i * 8));
		unsigned char mask = (unsigned char)(keep ? 0xFF << (8 - keep) : 0);
		if (bin[i] & ~mask)
			host = true;
		bin[i] &= mask;
	}
	inet_ntop(af, bin, addr, sizeof(addr));
	snprintf(canon, size, "%s/%lu", addr, len);
	return host ? CIDR_HOST_BITS : CIDR_OK;
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

int ctl_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* "MAC" or "MAC/len" (len 1 to 48): the BSSIDs whose first len bits are MAC's. canon gets
 * the MAC with the bits past len cleared. 0, -1 when it is no range, 1 when bits past len
 * were set (canon is then what was probably meant). */
static int parse_bssid_range(const char *s, char canon[18], unsigned *len_out)
{
	char mac_text[32], *end;
	const char *slash = strchr(s, '/');
	unsigned long len = 48;
	uint8_t mac[6];
	bool host = false;

	if (slash) {
		size_t n = (size_t)(slash - s);
		if (n >= sizeof(mac_text) || slash[1] < '0' || slash[1] > '9' ||
		    strlen(slash + 1) > 2)
			return -1;
		memcpy(mac_text, s, n);
		mac_text[n] = '\0';
		len = strtoul(slash + 1, &end, 10);
		if (*end || len < 1 || len > 48)
			return -1;
	} else if (strlen(s) < sizeof(mac_text)) {
		memcpy(mac_text, s, strlen(s) + 1);
	} else {
		return -1;
	}
	if (ident_mac_parse(mac_text, mac) < 0)
		return -1;
	for (unsigned bit = (unsigned)len; bit < 48; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		host |= (mac[bit / 8] & m) != 0;
		mac[bit / 8] &= (uint8_t)~m;
	}
	ident_mac_format(mac, canon);
	*len_out = (unsigned)len;
	return host;
}

/* One host's address in canonical form (an IPv4 address seen through an IPv6 socket,
 * ::ffff:a.b.c.d, is the IPv4 address). */
static bool parse_address(const char *s, char canon[INET6_ADDRSTRLEN])
{
	unsigned char bin[16];

	if (strlen(s) >= INET6_ADDRSTRLEN)
		return false;
	if (inet_pton(AF_INET, s, bin) == 1)
		return inet_ntop(AF_INET, bin, canon, INET6_ADDRSTRLEN) != NULL;
	if (inet_pton(AF_INET6, s, bin) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)bin))
		return inet_ntop(AF_INET, bin + 12, canon, INET6_ADDRSTRLEN) != NULL;
	return inet_ntop(AF_INET6, bin, canon, INET6_ADDRSTRLEN) != NULL;
}

/* A whole number in lo..hi: decimal digits only ("1e3", "+5" or "60s" in a spreadsheet is a
 * mistake worth hearing about). */
static bool parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
		       unsigned *out)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > hi)
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

/* snmp_profile names a [snmp.NAME] section of wiremapd.conf, so it takes the characters a
 * section name may hold. */
static bool is_profile_name(const char *s)
{
	return strlen(s) <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
		       strlen(s);
}

/* "a, b, c or d" */
static const char *list(char *buf, size_t size, const char *const *v)
{
	size_t n = 0;
	struct strbuf b;

	while (v[n])
		n++;
	strbuf_init(&b, buf, size);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", v[i]);
	return buf;
}

/* ---- reading ---- */

static bool error(const struct ctl_value_at *at, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool error(const struct ctl_value_at *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verror_at(at->errs, at->path, at->line, at->col, fmt, ap);
	va_end(ap);
	return false;
}

/* Replace the cell's text with its canonical form, which the row then points to. */
static bool canonical(const struct ctl_value_at *at, const char *canon, const char **field)
{
	struct ctl_cell *c = at->cell;
	char *copy;

	if (strcmp(canon, c->s) != 0) {
		if (!(copy = strdup(canon))) {
			ctl_errors_add(at->errs, "%s: out of memory", at->path);
			return false;
		}
		free(c->s);
		c->s = copy;
	}
	*field = c->s;
	return true;
}

static bool no_space(const struct ctl_value_at *at, const char *what, const char *s)
{
	if (!strpbrk(s, " \t\r\n"))
		return true;
	return error(at, "%s %s contains white space", what, Q(s));
}

bool ctl_value_read(enum db_entity e, const struct db_column *c, const char *s,
		    const struct ctl_value_at *at, void *row)
{
	/* The field of a text kind; the others' fields have other types. */
	const char **text = c->kind <= DB_K_TEL_URI ? &DB_FIELD(const char *, row, c->at) : NULL;
	char canon[INET6_ADDRSTRLEN + 512], what[96];
	uint8_t mac[6];

	switch (c->kind) {
	case DB_K_TEXT:
		break;
	case DB_K_KEY:
	case DB_K_REF:
		snprintf(what, sizeof(what), "%s key",
			 db_entities[c->kind == DB_K_REF ? c->ref : e].one);
		if (!no_space(at, what, s))
			return false;
		break;
	case DB_K_WORD:
		/* It appears in lisd's and explain's output as one word. */
		if (!no_space(at, c->label, s))
			return false;
		break;
	case DB_K_ENUM:
		for (size_t i = 0; c->values[i]; i++)
			if (strcmp(s, c->values[i]) == 0)
				return *text = s, true;
		return error(at, "%s is not %s (%s)", Q(s), c->label,
			     list(canon, sizeof(canon), c->values));
	case DB_K_PROFILE:
		if (!is_profile_name(s))
			return error(at, "%s %s is not a profile name (up to 64 letters, digits, "
				     "'_', '.', '-': [snmp.NAME] in wiremapd.conf)", c->label, Q(s));
		break;
	case DB_K_LANG:
		if (!is_language_tag(s))
			return error(at, "%s is not a language tag (e.g. en-US)", Q(s));
		break;
	case DB_K_COUNTRY:
		/* RFC 5139 §3.3: the ISO 3166 alpha-2 code, upper case. */
		if (!(strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'))
			return error(at, "%s is not a country code (two upper-case letters, ISO "
				     "3166 alpha-2, e.g. US)", Q(s));
		break;
	case DB_K_MAC:
		if (ident_mac_parse(s, mac) < 0)
			return error(at, "%s is not a MAC address (e.g. 00:11:22:33:44:55)", Q(s));
		ident_mac_format(mac, canon);
		return canonical(at, canon, text);
	case DB_K_CHASSIS:
		/* LLDP chassis ID subtype 4 is a MAC: one spelling, whatever the file used. */
		if (ident_mac_parse(s, mac) == 0) {
			ident_mac_format(mac, canon);
			return canonical(at, canon, text);
		}
		break;
	case DB_K_IP:
		if (!parse_address(s, canon))
			return error(at, "%s is not an IP address (one host, no prefix length)",
				     Q(s));
		return canonical(at, canon, text);
	case DB_K_CIDR:
		switch (parse_cidr(s, canon, sizeof(canon))) {
		case CIDR_OK:
			/* so that 2001:DB8::/32 and 2001:db8::/32 are one key */
			return canonical(at, canon, text);
		case CIDR_NO_LENGTH:
			return error(at, "%s is not a CIDR prefix (write %s/%d for this one "
				     "address)", Q(s), s, strchr(s, ':') ? 128 : 32);
		case CIDR_HOST_BITS:
			return error(at, "%s has host bits set (did you mean %s?)", Q(s), canon);
		case CIDR_BAD:
			break;
		}
		return error(at, "%s is not a CIDR prefix", Q(s));
	case DB_K_BSSID:
		switch (parse_bssid_range(s, canon, &DB_FIELD(unsigned, row, c->aux))) {
		case 0:
			return canonical(at, canon, text);
		case 1:
			return error(at, "%s has bits set past the prefix length (did you mean "
				     "%s/%u?)", Q(s), canon, DB_FIELD(unsigned, row, c->aux));
		}
		return error(at, "%s is not a BSSID (a MAC address) or BSSID range (MAC/length, "
			     "length 1 to 48)", Q(s));
	case DB_K_SIP_URI:
	case DB_K_TEL_URI: {
		bool tel = c->kind == DB_K_TEL_URI;
		if (ident_uri_normalize(s, canon, sizeof(canon)) == 0 &&
		    (strncmp(canon, "tel:", 4) == 0) == tel)
			return canonical(at, canon, text);
		if (tel)
			return error(at, "%s is not a tel URI (e.g. tel:+15551234567)", Q(s));
		if (strncasecmp(s, "tel:", 4) == 0)
			return error(at, "%s is a tel URI: put it in the tel column", Q(s));
		return error(at, "%s is not a SIP URI (sip: or sips:, e.g. sip:alice@example.com)",
			     Q(s));
	}
	case DB_K_BOOL:
		if (ctl_parse_bool(s, &DB_FIELD(bool, row, c->at)) == 0)
			return true;
		if (c->label)
			return error(at, "%s %s is not true or false", c->label, Q(s));
		return error(at, "%s is not true or false", Q(s));
	case DB_K_UINT:
		if (parse_uint(s, (unsigned long long)c->lo, (unsigned long long)c->hi,
			       &DB_FIELD(unsigned, row, c->at)))
			return true;
		return error(at, "%s %s is not a whole number from %.0f to %.0f", c->label, Q(s),
			     c->lo, c->hi);
	case DB_K_REAL: {
		double *v = &DB_FIELD(double, row, c->at);
		if (!parse_number(s, v) || *v < c->lo || *v > c->hi)
			return error(at, "%s is not %s", Q(s), c->label);
		if (c->aux)
			DB_FIELD(bool, row, c->aux) = true;
		return true;
	}
	case DB_K_LAST_SEEN:
	case DB_K_FIRST_SEEN:
		if (ctl_parse_timestamp(s, &DB_FIELD(time_t, row, c->at)) < 0)
			return error(at, "%s is not a timestamp (ISO 8601 with a zone, e.g. "
				     "2026-11-25T08:00:00Z)", Q(s));
		if (c->aux)
			DB_FIELD(bool, row, c->aux) = true;
		return true;
	}
	*text = s;
	return true;
}

/* ---- keys ---- */

const char *ctl_row_key(enum db_entity e, const void *row, char *buf, size_t size)
{
	const struct db_entity_desc *d = &db_entities[e];
	struct strbuf b;

	strbuf_init(&b, buf, size);
	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		const char *v;
		if (!(c->flags & DB_COL_ID))
			continue;
		v = DB_CFIELD(const char *, row, c->at); /* identities are text */
		/* A range is one key with its length, whatever the file wrote: 00:..:30/48. */
		if (c->kind == DB_K_BSSID)
			strbuf_printf(&b, "%s%s/%u", b.len ? " " : "", v,
				      DB_CFIELD(unsigned, row, c->aux));
		else
			strbuf_printf(&b, "%s%s", b.len ? " " : "", v ? v : "");
	}
	return buf;
}
