/* From a resolver result to the pidf_doc that tells it (wm_pidf.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "held_write.h"
#include "lis_strbuf.h"
#include "wm_pidf.h"

/* RFC 5491 §5.2.3, §5.2.6: the location's point, with the uncertainty as a Circle's
 * (Sphere's) radius. */
static void location_geo(const struct wm_location *loc, struct pidf_geo *g)
{
	g->lat = loc->lat;
	g->lon = loc->lon;
	g->has_alt = loc->has_alt;
	g->alt = loc->alt;
	g->radius = loc->uncertainty > 0 ? loc->uncertainty : 0;
}

void wm_pidf_fill(const struct wm_result *r, bool want_civic, bool want_geo, struct wm_pidf *p)
{
	memset(p, 0, sizeof *p);
	/* RFC 4119 §2.2.3: the method says honestly what produced the answer */
	p->doc.method = r->method;
	/* a fallback (subnet, site default), or the client's own word on its access point, is
	 * never presented as if it were the network's precise evidence */
	p->doc.note = r->note[0] ? r->note : NULL;
	if (r->has_mac) {
		/* RFC 4479 deviceID in the "mac:" form of its examples: 12 lower-case hex digits */
		static const char hex[] = "0123456789abcdef";
		char *d = p->device_id;
		_Static_assert(sizeof p->device_id >= 17, "wm_pidf: room for mac:");
		memcpy(d, "mac:", 4);
		for (int i = 0; i < 6; i++) {
			d[4 + 2 * i] = hex[r->mac[i] >> 4];
			d[5 + 2 * i] = hex[r->mac[i] & 15];
		}
		d[16] = '\0';
	}
	const struct wm_location *loc = r->loc;
	if (!loc)
		return;
	if (want_civic && loc->has_civic)
		p->doc.civic = &loc->civic;
	if (want_geo && loc->has_geo) {
		location_geo(loc, &p->geo);
		p->doc.geo = &p->geo;
	}
}

const struct pidf_frag *wm_pidf_frag(const struct wm_snapshot *s, const struct wm_location *loc)
{
	const struct pidf_frag *f = atomic_load(&((struct wm_location *)loc)->frag);
	if (f)
		return f;
	struct pidf_geo geo;
	location_geo(loc, &geo);
	struct pidf_frag *made = pidf_frag_new(loc->has_civic ? &loc->civic : NULL,
					       loc->has_geo ? &geo : NULL);
	return made ? wm_location_set_frag(s, loc, made) : NULL;
}

void wm_pidf_name_device(struct wm_pidf *p)
{
	p->doc.device_id = p->device_id[0] ? p->device_id : NULL;
}

/* One string of the civic address into the block at *o; NULL stays NULL. */
static const char *copy_into(char *block, size_t *o, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	memcpy(block + *o, s, n);
	*o += n;
	return block + *o - n;
}

int wm_pidf_detach(struct wm_pidf *p)
{
	const struct civic_address *ca = p->doc.civic;
	char *block = NULL;
	if (ca) {
		size_t need = ca->lang ? strlen(ca->lang) + 1 : 0;
		for (int f = 0; f < CIVIC_N_FIELDS; f++)
			need += ca->field[f] ? strlen(ca->field[f]) + 1 : 0;
		block = malloc(need ? need : 1);
		if (!block)
			return -1;
		struct civic_address copy = {0};
		size_t o = 0;
		copy.lang = copy_into(block, &o, ca->lang);
		for (int f = 0; f < CIVIC_N_FIELDS; f++)
			copy.field[f] = copy_into(block, &o, ca->field[f]);
		free(p->civic_text);
		p->civic = copy;
		p->civic_text = block;
		p->doc.civic = &p->civic;
	}
	if (p->doc.method && p->doc.method != p->method) {
		lis_strcopy(p->method, sizeof p->method, p->doc.method);
		p->doc.method = p->method;
	}
	if (p->doc.note && p->doc.note != p->note) {
		lis_strcopy(p->note, sizeof p->note, p->doc.note);
		p->doc.note = p->note;
	}
	return 0;
}

void wm_pidf_release(struct wm_pidf *p)
{
	if (!p)
		return;
	if (p->doc.civic == &p->civic)
		p->doc.civic = NULL;
	free(p->civic_text);
	p->civic_text = NULL;
}
