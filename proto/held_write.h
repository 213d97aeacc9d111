/* The answer path's writer: the same bytes as held_build_response() and pidf_build(), without
 * a libxml2 tree and without allocating. What depends on the location alone (its civic
 * address and geodetic shape, checked and XML-escaped) is written once into a struct
 * pidf_frag; an answer copies it in and writes around it what changes per request (entity,
 * timestamps, expiry, URI set, device echo, method, note). The tree builders stay the
 * reference: tests/unit/test_held_write.c compares both byte for byte. Pure code. */
#ifndef HELD_WRITE_H
#define HELD_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "held.h"
#include "pidf.h"

/* One location's pieces, each line marked and indented relative to the first, ready to be
 * indented to its place (not text to send as it is). A piece that cannot be written as
 * valid PIDF-LO is marked bad, and an answer that needs it falls back to the tree builder,
 * which says why. */
struct pidf_frag {
	struct pidf_frag *next;       /* for the owner's list of fragments; unused here */
	bool have_civic, civic_bad;   /* civic: an address with a field (civic_address_is_empty) */
	bool have_geo, geo_bad;
	const char *civic;            /* "<ca:civicAddress ...>" ... "</ca:civicAddress>" */
	size_t civic_len;
	const char *geo;              /* "<gml:Point ...>" ... "</gml:Point>" (or gs:Circle...) */
	size_t geo_len;
	/* the text follows the struct, in the same allocation */
};

/* The pieces of a location with civic address ca and geodetic shape geo (either may be
 * NULL). One malloc; NULL when out of memory. */
struct pidf_frag *pidf_frag_new(const struct civic_address *ca, const struct pidf_geo *geo);
void pidf_frag_free(struct pidf_frag *f);

/* Where an answer is written: the caller's buffer of cap bytes. len is what the document
 * takes; when it is larger than cap - 1, nothing usable was written and the caller retries
 * with a buffer of at least len + 1 bytes. */
struct held_out {
	char *buf;
	size_t cap;
	size_t len;
};

/* held_build_response() and pidf_build() with pd's civic address and geodetic shape taken
 * from frag (built from the same location: pd->civic and pd->geo say only which of them go
 * in; frag may be NULL when neither does). Returns 0 with o->buf holding the document,
 * NUL-terminated, o->len its length; 1 when o->buf is too small (o->len the length
 * needed); -1 when the tree builder must do it (a value that is not valid text, a time out
 * of range, a bad piece): it gives the same error for the same input. */
int held_write_response(const struct held_uri_set *uris, const struct pidf_doc *pd,
			const struct pidf_frag *frag, const struct held_device *device,
			struct held_out *o);
int pidf_write(const struct pidf_doc *pd, const struct pidf_frag *frag, struct held_out *o);

/* xs:dateTime in UTC as pidf_format_time() writes it, without gmtime_r() or printf:
 * "YYYY-MM-DDThh:mm:ssZ" into buf (at least 21 bytes). -1 outside years 1..9999. */
int held_write_time(char *buf, time_t t);

#endif
