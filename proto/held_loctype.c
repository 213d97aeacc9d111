/* RFC 5985 §6.2 locationType: what a request asks for, and which forms an answer holds, in
 * which order. */
#include "held.h"

#define BY_VALUE (HELD_LT_CIVIC | HELD_LT_GEODETIC)

/* lisd's own order, for "any" and for forms given in place of those asked: civic first,
 * because the dispatchable location of an emergency call is a street address and RFC 5491
 * §3 rule #8 has readers take the first location of a document. */
static const enum held_loctype preferred[HELD_N_LOCTYPES] = {
	HELD_LT_CIVIC, HELD_LT_GEODETIC, HELD_LT_URI,
};

void held_loctypes_add(struct held_loctypes *l, enum held_loctype t)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->form[i] == t)
			return;
	if (l->n < HELD_N_LOCTYPES)
		l->form[l->n++] = t;
}

unsigned held_loctypes_bits(const struct held_loctypes *l)
{
	unsigned bits = 0;
	for (size_t i = 0; i < l->n; i++)
		bits |= (unsigned)l->form[i];
	return bits;
}

bool held_request_wants(const struct held_request *req, enum held_loctype t)
{
	if (!req)
		return false;
	/* §6.2: an absent locationType means any */
	return req->loctypes.n == 0 || (held_loctypes_bits(&req->loctypes) & (unsigned)t) != 0;
}

/* Append to give the forms of `forms` (bits) that it lacks, in lisd's order. */
static void add_preferred(struct held_loctypes *give, unsigned forms)
{
	for (size_t i = 0; i < HELD_N_LOCTYPES; i++)
		if (forms & (unsigned)preferred[i])
			held_loctypes_add(give, preferred[i]);
}

enum held_error_code held_negotiate(const struct held_loctypes *asked, bool exact, unsigned have,
				    struct held_loctypes *give, unsigned *missing)
{
	give->n = 0;
	if (missing)
		*missing = 0;
	have &= BY_VALUE | HELD_LT_URI;
	if (asked->n == 0) {
		/* §6.2: any gives every form there is; §6.2.1: exact does not apply to it */
		add_preferred(give, have);
		return give->n ? HELD_OK : HELD_E_LOCATION_UNKNOWN;
	}
	/* §6.2.1: exact="true" means every listed form, or cannotProvideLiType (§6.3) */
	for (size_t i = 0; exact && i < asked->n; i++) {
		if (!(have & (unsigned)asked->form[i])) {
			if (missing)
				*missing = asked->form[i];
			return HELD_E_CANNOT_PROVIDE_LI_TYPE;
		}
	}
	/* §6.2: the listed forms there are, in the order listed */
	for (size_t i = 0; i < asked->n; i++)
		if (have & (unsigned)asked->form[i])
			held_loctypes_add(give, asked->form[i]);
	/* §6.2.1: with exact="false" other forms may stand in. When none of the forms asked by
	 * value exists, or only a URI was asked and none can be given, give what there is by
	 * value, after what was asked. */
	unsigned g = held_loctypes_bits(give), a = held_loctypes_bits(asked);
	if (!exact && !(g & BY_VALUE) && ((a & BY_VALUE) || !(g & HELD_LT_URI)))
		add_preferred(give, have & BY_VALUE);
	return give->n ? HELD_OK : HELD_E_LOCATION_UNKNOWN;
}
