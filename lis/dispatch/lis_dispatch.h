/* Dispatchable locations (doc/protocol.md "Dispatchable location"; RAY BAUM'S Act): the
 * checks of a civic address that lisctl runs on wiremap locations and declared addresses,
 * and lisd's self-service API on the addresses users declare, so that both refuse the same
 * addresses with the same words. ISO 3166 from Debian's iso-codes (lis_iso.c). Pure. */
#ifndef LIS_DISPATCH_H
#define LIS_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "civic.h"
#include "lis_error.h"

/* A value as it appears in a message: double-quoted, escaped, cut after about 60 bytes. */
const char *lis_quoted(char *buf, size_t size, const char *s);

/* Did-you-mean: the candidate closest to a name that is not one, found by trying each in
 * turn. Close means at most 2 edits (1 for names of 4 bytes or less), case ignored, a swap
 * of two neighbours counting as one edit; best stays NULL when none is that close. */
struct lis_near {
	const char *name;
	const char *best;
	size_t best_d;
};
struct lis_near lis_near_start(const char *name);
void lis_near_try(struct lis_near *n, const char *candidate);

/* ---- ISO 3166, as Debian's iso-codes package ships it (ctl_iso.c) ---- */

#define LIS_ISO_CODES_DIR "/usr/share/iso-codes/json"
struct lis_iso; /* the ISO 3166-1 countries and ISO 3166-2 subdivisions */
/* Read iso_3166-1.json and iso_3166-2.json of dir (NULL: $LIS_ISO_CODES_DIR, else
 * LIS_ISO_CODES_DIR). NULL, with why in err, when either is missing or unreadable. */
struct lis_iso *lis_iso_load(const char *dir, struct lis_error *err);
/* The same from the two files' text. */
struct lis_iso *lis_iso_parse(const char *iso_3166_1, const char *iso_3166_2,
			      struct lis_error *err);
void lis_iso_free(struct lis_iso *iso);
/* ISO 3166-1 alpha-2: one of the assigned codes (upper case). */
bool lis_iso_country_is_known(const struct lis_iso *iso, const char *code);
/* Whether a1 names a subdivision of country: its ISO 3166-2 code without the country ("CA"
 * of US-CA) or its name ("California"), case ignored. A country ISO 3166-2 lists no
 * subdivisions of takes any A1. When not, *near (if not NULL) gets the closest code or
 * name, or NULL. */
bool lis_iso_subdivision_is_known(const struct lis_iso *iso, const char *country,
				  const char *a1, const char **near);

/* Whether postal code pc fits its country's format; countries with a known format: AU, CA,
 * DE, FR, GB, NL, US (lis-wiremap(5)); any code fits another country. When the country has
 * a format, *format (if not NULL) gets it in words. */
bool lis_postal_code_fits(const char *country, const char *pc, const char **format);

/* Whether plc is a token of the RFC 4589 location types registry ("office"); when not,
 * *near (if not NULL) gets the closest token, or NULL. */
bool lis_place_type_is_known(const char *plc, const char **near);

/* What a location lacks to be dispatchable (doc/protocol.md "Dispatchable location": RAY
 * BAUM's Act; country, A1, A3, RD and HNO required): a bit per LIS_MISSING_* problem. A
 * location with no civic element at all (a geodetic point only) is not judged here. With
 * iso NULL, country and A1 are not checked against ISO 3166. */
enum {
	LIS_MISSING_HNO = 1u << 0,     /* street (house) number */
	LIS_MISSING_RD = 1u << 1,      /* street name */
	LIS_MISSING_A3 = 1u << 2,      /* city */
	LIS_MISSING_A1 = 1u << 3,      /* state or province */
	LIS_MISSING_COUNTRY = 1u << 4,
	LIS_BAD_COUNTRY = 1u << 5,     /* not an ISO 3166-1 alpha-2 code */
	LIS_BAD_HNO = 1u << 6,         /* not digits only (a suffix belongs in HNS) */
	LIS_BAD_PC = 1u << 7,          /* not in the country's postal code format */
	LIS_BAD_A1 = 1u << 8,          /* not an ISO 3166-2 subdivision of the country */
	LIS_BAD_PLC = 1u << 9,         /* not an RFC 4589 location type */
};
unsigned lis_civic_problems(const char *const civic[CIVIC_N_FIELDS], const struct lis_iso *iso);

/* Whether any civic field is set. */
bool lis_civic_has_any(const char *const civic[CIVIC_N_FIELDS]);

/* What lis_dispatch_check() finds: an error (the address is refused) or a warning, about
 * civic field `field` (enum civic_field) or the whole address (-1), in one sentence that
 * names the address as name. */
typedef void lis_dispatch_report(void *ctx, int field, bool error, const char *msg);
/* Check one address: missing parts (country, A1, A3, RD, HNO), country and A1 against ISO
 * 3166 (iso NULL: not checked), HNO digits only, PC in its country's format, PLC an RFC
 * 4589 type; warnings for no ROOM, SEAT or UNIT and, unless has_geo, no geodetic point. */
void lis_dispatch_check(const char *name, const char *const civic[CIVIC_N_FIELDS],
			bool has_geo, const struct lis_iso *iso, lis_dispatch_report *report,
			void *ctx);

#endif
