/* RFC 5985 §6.2 locationType: what a request asks for, and which forms an answer holds. */
#include "held.h"

#define BY_VALUE (HELD_LT_CIVIC | HELD_LT_GEODETIC)
#define FORMS (BY_VALUE | HELD_LT_URI)

static bool asks_any(unsigned asked)
{
	/* §6.2: an absent locationType means any */
	return asked == 0 || (asked & HELD_LT_ANY);
}

bool held_request_wants(const struct held_request *req, enum held_loctype t)
{
	if (!req)
		return false;
	return asks_any(req->loctypes) || (req->loctypes & (unsigned)t) != 0;
}

enum held_error_code held_negotiate(unsigned asked, bool exact, unsigned have, unsigned *give,
				    unsigned *missing)
{
	static const unsigned order[] = {HELD_LT_CIVIC, HELD_LT_GEODETIC, HELD_LT_URI};
	*give = 0;
	if (missing)
		*missing = 0;
	have &= FORMS;
	if (exact) {
		/* §6.2.1: exact="true" means every listed form, or cannotProvideLiType (§6.3) */
		for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
			if ((asked & order[i]) && !(have & order[i])) {
				if (missing)
					*missing = order[i];
				return HELD_E_CANNOT_PROVIDE_LI_TYPE;
			}
		}
	}
	/* §6.2: any gives every form there is; a list gives the listed ones there are */
	unsigned g = asks_any(asked) ? have : asked & have;
	/* §6.2.1: with exact="false" other forms may stand in. When none of the forms asked by
	 * value exists, or only a URI was asked and none can be given, give what there is by
	 * value. */
	if (!exact && !(g & BY_VALUE) && ((asked & BY_VALUE) || !(g & HELD_LT_URI)))
		g |= have & BY_VALUE;
	if (!g)
		return HELD_E_LOCATION_UNKNOWN;
	*give = g;
	return HELD_OK;
}
