/* Civic address elements of RFC 5139 (PIDF-LO civicAddress), in schema order. */
#ifndef CIVIC_H
#define CIVIC_H

#include <stddef.h>

/* RFC 5139 §4: civicAddress is an xs:sequence; this enum is that order. */
enum civic_field {
	CIVIC_COUNTRY, CIVIC_A1, CIVIC_A2, CIVIC_A3, CIVIC_A4, CIVIC_A5, CIVIC_A6,
	CIVIC_PRM, CIVIC_PRD, CIVIC_RD, CIVIC_STS, CIVIC_POD, CIVIC_POM,
	CIVIC_RDSEC, CIVIC_RDBR, CIVIC_RDSUBBR, CIVIC_HNO, CIVIC_HNS,
	CIVIC_LMK, CIVIC_LOC, CIVIC_FLR, CIVIC_NAM, CIVIC_PC, CIVIC_BLD,
	CIVIC_UNIT, CIVIC_ROOM, CIVIC_SEAT, CIVIC_PLC, CIVIC_PCN, CIVIC_POBOX,
	CIVIC_ADDCODE,
	CIVIC_N_FIELDS
};

/* Element name of a field ("country", "A1", ...). */
const char *civic_field_name(enum civic_field f);
/* Field for an element name (exact, case-sensitive), or -1. civic_field_name() returns NULL
 * for a value outside the enum. */
int civic_field_from_name(const char *name);

/* A civic address: pointers are borrowed (the caller owns the strings); NULL = absent. */
struct civic_address {
	const char *lang;                   /* xml:lang, e.g. "en-US"; NULL omits it */
	const char *field[CIVIC_N_FIELDS];
};

/* True (non-zero) when NO field is present; a field that is "" counts as absent. A NULL
 * address is empty. xml:lang alone does not make an address non-empty. */
int civic_address_is_empty(const struct civic_address *ca);

#endif
