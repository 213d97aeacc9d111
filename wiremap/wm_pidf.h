/* From a resolver result to the PIDF-LO that tells it: shared by lisd (answers, dereference)
 * and lisctl explain (which shows exactly what lisd would send). */
#ifndef WM_PIDF_H
#define WM_PIDF_H

#include <stdbool.h>

#include "pidf.h"
#include "wm_resolve.h"

struct wm_pidf {
	struct pidf_doc doc;     /* doc.geo and doc.device_id point into this struct: don't copy */
	struct pidf_geo geo;
	char device_id[32];      /* "mac:001122334455" when a MAC is known, else "": in the
	                          * document only after wm_pidf_name_device() */
	/* after wm_pidf_detach(): what doc borrowed, now held here */
	char method[32];
	char note[200];
	struct civic_address civic;
	char *civic_text;        /* the civic address's strings, one allocation */
};

/* Fill p from a located result (r->loc != NULL): method, note (fallbacks say so), the civic
 * address when want_civic and the location has one, the geodetic shape (Point, or
 * Circle/Sphere with the uncertainty as radius) when want_geo and it has one. The document
 * does not name the device (each location goes in a PIDF tuple): RFC 5985 §6.6. The caller
 * sets doc.entity, doc.timestamp, doc.retention_expiry and doc.retransmission_allowed
 * afterwards. */
void wm_pidf_fill(const struct wm_result *r, bool want_civic, bool want_geo, struct wm_pidf *p);

/* The pieces of loc's answers (proto/held_write.h: its civic address and geodetic shape,
 * written once), for held_write_response() and pidf_write() with a document that
 * wm_pidf_fill() made from a result at loc. Made on first use and kept on loc, in snapshot s,
 * which frees them: valid as long as s, so only inside its read-side section. NULL when out
 * of memory (then the tree builders answer). */
const struct pidf_frag *wm_pidf_frag(const struct wm_snapshot *s, const struct wm_location *loc);

/* Name the device in p's document by its MAC (dm:deviceID "mac:...", so each location goes
 * in a dm:device), when one is known. RFC 5985 §6.6: "The LIS MUST NOT include any means of
 * identifying the Device in the PIDF-LO unless ... inclusion of identity is expressly
 * permitted by a Rule Maker", so only where [privacy] include_device_id says so. */
void wm_pidf_name_device(struct wm_pidf *p);

/* Copy what p's document borrows from the snapshot and the result (civic address, method,
 * note) into p itself, so that the document can be built after the snapshot's read-side
 * section has ended and the result is gone. Returns 0, or -1 when out of memory (p is then
 * as before). wm_pidf_release() frees the copy. */
int wm_pidf_detach(struct wm_pidf *p);
/* Free what wm_pidf_detach() allocated; p's document loses its civic address. */
void wm_pidf_release(struct wm_pidf *p);

#endif
