#include "civic.h"

#include <string.h>

/* RFC 5139 §4: the civicAddress xs:sequence, element by element. */
static const char *const field_names[CIVIC_N_FIELDS] = {
	[CIVIC_COUNTRY] = "country", [CIVIC_A1] = "A1", [CIVIC_A2] = "A2",
	[CIVIC_A3] = "A3", [CIVIC_A4] = "A4", [CIVIC_A5] = "A5", [CIVIC_A6] = "A6",
	[CIVIC_PRM] = "PRM", [CIVIC_PRD] = "PRD", [CIVIC_RD] = "RD", [CIVIC_STS] = "STS",
	[CIVIC_POD] = "POD", [CIVIC_POM] = "POM", [CIVIC_RDSEC] = "RDSEC",
	[CIVIC_RDBR] = "RDBR", [CIVIC_RDSUBBR] = "RDSUBBR", [CIVIC_HNO] = "HNO",
	[CIVIC_HNS] = "HNS", [CIVIC_LMK] = "LMK", [CIVIC_LOC] = "LOC", [CIVIC_FLR] = "FLR",
	[CIVIC_NAM] = "NAM", [CIVIC_PC] = "PC", [CIVIC_BLD] = "BLD", [CIVIC_UNIT] = "UNIT",
	[CIVIC_ROOM] = "ROOM", [CIVIC_SEAT] = "SEAT", [CIVIC_PLC] = "PLC", [CIVIC_PCN] = "PCN",
	[CIVIC_POBOX] = "POBOX", [CIVIC_ADDCODE] = "ADDCODE",
};

const char *civic_field_name(enum civic_field f)
{
	if ((int)f < 0 || f >= CIVIC_N_FIELDS)
		return NULL;
	return field_names[f];
}

int civic_field_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < CIVIC_N_FIELDS; i++)
		if (strcmp(field_names[i], name) == 0)
			return i;
	return -1;
}

int civic_address_is_empty(const struct civic_address *ca)
{
	if (!ca)
		return 1;
	for (int i = 0; i < CIVIC_N_FIELDS; i++)
		if (ca->field[i] && ca->field[i][0])
			return 0;
	return 1;
}
