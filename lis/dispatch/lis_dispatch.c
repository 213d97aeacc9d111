/* Is a civic address dispatchable (lis_dispatch.h)? The checks lisctl runs on every wiremap
 * location and on a declared address, and lisd's self-service API on a user's. Pure: no
 * I/O but the ISO 3166 lists lis_iso.c reads. */
#include "lis_dispatch.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lis_quoted(char *buf, size_t size, const char *s)
{
	size_t n = 0, limit = size - 6; /* room for `..."` and NUL */
	const size_t max_in = 60;
	size_t in = 0;

	buf[n++] = '"';
	for (; s[in] && n + 4 < limit; in++) {
		unsigned char ch = (unsigned char)s[in];
		if (in >= max_in && (ch & 0xC0) != 0x80) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		if (ch == '"' || ch == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)ch;
		} else if (ch == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else if (ch < 0x20 || ch == 0x7F) {
			buf[n++] = '?';
		} else {
			buf[n++] = (char)ch;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* Edit distance between a and b, case-insensitive, a swap of two neighbours counting as one
 * edit (optimal string alignment), or a large number when either is longer than 31 bytes. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), m[32][32];
	if (la > 31 || lb > 31)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		m[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		m[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t v = m[i - 1][j - 1] + (ca != cb);
			if (m[i - 1][j] + 1 < v)
				v = m[i - 1][j] + 1;
			if (m[i][j - 1] + 1 < v)
				v = m[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && m[i - 2][j - 2] + 1 < v)
				v = m[i - 2][j - 2] + 1;
			m[i][j] = v;
		}
	return m[la][lb];
}

struct lis_near lis_near_start(const char *name)
{
	return (struct lis_near){name, NULL, strlen(name) <= 4 ? 1 : 2};
}

void lis_near_try(struct lis_near *n, const char *candidate)
{
	size_t d = distance(n->name, candidate);

	if (d == 0 || d < n->best_d || (d == n->best_d && !n->best)) {
		n->best = candidate;
		n->best_d = d;
	}
}

/* RFC 4589 §3: the location types registry, as IANA keeps it (urn:ietf:params:xml:ns:
 * location-type); PLC (RFC 4776 §3.4) takes one of these tokens. Sorted. */
static const char *const place_types[] = {
	"aircraft", "airport", "arena", "automobile", "bank", "bar", "bicycle", "bus",
	"bus-station", "cafe", "classroom", "club", "construction", "convention-center",
	"government", "hospital", "hotel", "industrial", "library", "motorcycle", "office",
	"other", "outdoors", "parking", "place-of-worship", "prison", "public",
	"public-transport", "residence", "restaurant", "school", "shopping-area", "stadium",
	"store", "street", "theater", "train", "train-station", "truck", "underway", "unknown",
	"warehouse", "water", "watercraft",
};

static int cmp_token(const void *a, const void *b)
{
	return strcmp(a, *(const char *const *)b);
}

bool lis_place_type_is_known(const char *plc, const char **near)
{
	const size_t n = sizeof(place_types) / sizeof(place_types[0]);
	struct lis_near nr = lis_near_start(plc);

	if (near)
		*near = NULL;
	if (bsearch(plc, place_types, n, sizeof(place_types[0]), cmp_token))
		return true;
	for (size_t i = 0; i < n; i++)
		lis_near_try(&nr, place_types[i]);
	if (near)
		*near = nr.best;
	return false;
}

/* Postal code formats by country, each as a pattern: '9' a digit, 'A' a letter A-Z, '_' a
 * space that may be left out, anything else itself. Sources: USPS Publication 28 (ZIP and
 * ZIP+4), Canada Post, Royal Mail PAF (outward and inward code), Deutsche Post, La Poste,
 * PostNL, Australia Post. Countries not listed here take any code. */
static const struct {
	char country[3];
	const char *format;           /* in words, for the message */
	const char *pattern[8];
} postal_formats[] = {
	{"AU", "4 digits", {"9999"}},
	{"CA", "A9A 9A9", {"A9A_9A9"}},
	{"DE", "5 digits", {"99999"}},
	{"FR", "5 digits", {"99999"}},
	{"GB", "an outward and an inward code, as SW1A 1AA",
	 {"A9_9AA", "A99_9AA", "AA9_9AA", "AA99_9AA", "A9A_9AA", "AA9A_9AA", "GIR_0AA"}},
	{"NL", "4 digits and 2 letters, as 1234 AB", {"9999_AA"}},
	{"US", "5 digits, or ZIP+4 as 12345-6789", {"99999", "99999-9999"}},
};

static bool fits(const char *s, const char *pat)
{
	for (;; s++, pat++) {
		if (*pat == '_') {
			pat++;
			if (*s == ' ')
				s++;
		}
		if (!*pat)
			return !*s;
		if (*pat == '9' ? !(*s >= '0' && *s <= '9') :
		    *pat == 'A' ? !(*s >= 'A' && *s <= 'Z') : *s != *pat)
			return false;
	}
}

bool lis_postal_code_fits(const char *country, const char *pc, const char **format)
{
	for (size_t i = 0; country && i < sizeof(postal_formats) / sizeof(postal_formats[0]);
	     i++) {
		if (strcmp(country, postal_formats[i].country) != 0)
			continue;
		if (format)
			*format = postal_formats[i].format;
		for (size_t k = 0; k < 8 && postal_formats[i].pattern[k]; k++)
			if (fits(pc, postal_formats[i].pattern[k]))
				return true;
		return false;
	}
	return true;
}

/* RFC 4119 §2.2.1 and RFC 5139: HNO is the numeric part of the house number; a suffix
 * ("A", "1/2") goes in HNS. */
static bool is_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool lis_civic_has_any(const char *const civic[CIVIC_N_FIELDS])
{
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		if (civic[f])
			return true;
	return false;
}

unsigned lis_civic_problems(const char *const civic[CIVIC_N_FIELDS], const struct lis_iso *iso)
{
	unsigned p = 0;

	if (!lis_civic_has_any(civic))
		return 0;
	if (!civic[CIVIC_HNO])
		p |= LIS_MISSING_HNO;
	else if (!is_digits(civic[CIVIC_HNO]))
		p |= LIS_BAD_HNO;
	if (!civic[CIVIC_RD])
		p |= LIS_MISSING_RD;
	if (!civic[CIVIC_A3])
		p |= LIS_MISSING_A3;
	if (!civic[CIVIC_A1])
		p |= LIS_MISSING_A1;
	if (!civic[CIVIC_COUNTRY])
		p |= LIS_MISSING_COUNTRY;
	else if (iso && !lis_iso_country_is_known(iso, civic[CIVIC_COUNTRY]))
		p |= LIS_BAD_COUNTRY;
	else if (iso && civic[CIVIC_A1] &&
		 !lis_iso_subdivision_is_known(iso, civic[CIVIC_COUNTRY], civic[CIVIC_A1], NULL))
		p |= LIS_BAD_A1;
	if (civic[CIVIC_PLC] && !lis_place_type_is_known(civic[CIVIC_PLC], NULL))
		p |= LIS_BAD_PLC;
	if (civic[CIVIC_PC] && !lis_postal_code_fits(civic[CIVIC_COUNTRY], civic[CIVIC_PC], NULL))
		p |= LIS_BAD_PC;
	return p;
}



/* " (did you mean \"x\"?)", or nothing. */
static const char *did_you_mean(char *buf, size_t size, const char *near)
{
	if (!near)
		return "";
	snprintf(buf, size, " (did you mean %s?)", lis_quoted((char[96]){0}, 96, near));
	return buf;
}

__attribute__((format(printf, 5, 6)))
static void say(lis_dispatch_report *report, void *ctx, int field, bool error,
		const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	report(ctx, field, error, msg);
}

void lis_dispatch_check(const char *name, const char *const civic[CIVIC_N_FIELDS],
			bool has_geo, const struct lis_iso *iso, lis_dispatch_report *report,
			void *ctx)
{
	char dym[128];
	static const struct {
		unsigned bit;
		int field;
		const char *what;
	} need[] = {
		{LIS_MISSING_COUNTRY, CIVIC_COUNTRY, "no country"},
		{LIS_MISSING_A1, CIVIC_A1, "no state or province (A1)"},
		{LIS_MISSING_A3, CIVIC_A3, "no city (A3)"},
		{LIS_MISSING_RD, CIVIC_RD, "no street name (RD)"},
		{LIS_MISSING_HNO, CIVIC_HNO, "no street number (HNO)"},
	};
	unsigned p = lis_civic_problems(civic, iso);
	const char *near = NULL;
	const char *q = lis_quoted((char[96]){0}, 96, name);

	if (!lis_civic_has_any(civic)) {
		say(report, ctx, -1, false,
		    "warning: location %s has a geodetic point but no civic address", q);
		return;
	}
	if (p & LIS_BAD_COUNTRY)
		say(report, ctx, CIVIC_COUNTRY, true,
		    "location %s is not dispatchable: %s is not an ISO 3166-1 country code", q,
		    lis_quoted((char[96]){0}, 96, civic[CIVIC_COUNTRY]));
	if (p & LIS_BAD_A1) {
		lis_iso_subdivision_is_known(iso, civic[CIVIC_COUNTRY], civic[CIVIC_A1], &near);
		say(report, ctx, CIVIC_A1, true,
		    "location %s is not dispatchable: A1 %s is not a subdivision of %s in "
		    "ISO 3166-2 (give its code, as CA of US-CA, or its name)%s", q,
		    lis_quoted((char[96]){0}, 96, civic[CIVIC_A1]), civic[CIVIC_COUNTRY],
		    did_you_mean(dym, sizeof(dym), near));
	}
	if (p & LIS_BAD_PLC) {
		lis_place_type_is_known(civic[CIVIC_PLC], &near);
		say(report, ctx, CIVIC_PLC, true,
		    "location %s: PLC %s is not an RFC 4589 location type%s", q,
		    lis_quoted((char[96]){0}, 96, civic[CIVIC_PLC]),
		    did_you_mean(dym, sizeof(dym), near));
	}
	if (p & LIS_BAD_HNO)
		say(report, ctx, CIVIC_HNO, true,
		    "location %s: HNO %s must be digits; put a suffix such as 'A' or "
		    "'1/2' in HNS", q, lis_quoted((char[96]){0}, 96, civic[CIVIC_HNO]));
	if (p & LIS_BAD_PC) {
		const char *format = "";
		lis_postal_code_fits(civic[CIVIC_COUNTRY], civic[CIVIC_PC], &format);
		say(report, ctx, CIVIC_PC, true,
		    "location %s: postal code (PC) %s is not in the %s format: %s", q,
		    lis_quoted((char[96]){0}, 96, civic[CIVIC_PC]), civic[CIVIC_COUNTRY], format);
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (p & need[i].bit)
			say(report, ctx, need[i].field, true,
			    "location %s is not dispatchable: %s", q, need[i].what);
	if (!civic[CIVIC_ROOM] && !civic[CIVIC_SEAT] && !civic[CIVIC_UNIT])
		say(report, ctx, -1, false, "warning: location %s has no ROOM, SEAT or UNIT",
		    q);
	if (!has_geo)
		say(report, ctx, -1, false,
		    "warning: location %s has no geodetic point (latitude, longitude)", q);
}
