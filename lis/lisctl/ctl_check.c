/* Checks that need every file at once, and the database: references between files (every
 * DB_K_REF column of db_entities), civic addresses a responder can use (doc/protocol.md
 * "Dispatchable location"), floors in multi-floor buildings, and subnets nested across
 * sites. Pure: the caller reads the database (db_wiremap_read) and hands its rows in. */
#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_rows.h"

/* ---- key lookups ---- */

/* A sorted list of keys, each with what it stands for (a row, or its site's key). */
struct entry {
	const char *key;
	const void *row;
	const char *site;     /* the site a location or switch is in */
	bool from_file;
	bool broken;          /* a file's row with errors of its own: its key only counts */
};
struct index {
	struct entry *e;
	size_t n;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static const struct entry *find(const struct index *ix, const char *key)
{
	struct entry k = {.key = key};

	if (!key || ix->n == 0)
		return NULL;
	return bsearch(&k, ix->e, ix->n, sizeof(k), cmp_entry);
}

/* Files' entries first; the database's only for keys no file holds (a file row replaces
 * the stored one). */
static int index_build(struct index *ix, struct entry *file, size_t n_file, struct entry *db,
		       size_t n_db)
{
	ix->e = calloc(n_file + n_db + 1, sizeof(*ix->e));
	if (!ix->e)
		return -1;
	memcpy(ix->e, file, n_file * sizeof(*file));
	ix->n = n_file;
	qsort(ix->e, ix->n, sizeof(*ix->e), cmp_entry);
	size_t n = ix->n;
	for (size_t i = 0; i < n_db; i++) {
		struct index files = {ix->e, n};
		if (!find(&files, db[i].key))
			ix->e[ix->n++] = db[i];
	}
	qsort(ix->e, ix->n, sizeof(*ix->e), cmp_entry);
	return 0;
}

static void unknown(struct ctl_errors *e, const char *file, unsigned line, unsigned col,
		    const char *what, const char *files, const char *key)
{
	ctl_error_at(e, file, line, col, "unknown %s %s (in neither the %s file nor the database)",
		  what, Q(key), files);
}

/* ---- locations ---- */

static unsigned civic_col(const struct db_location_row *r, int f)
{
	return r->civic_col[f] ? r->civic_col[f] : r->key_col;
}

struct row_report {
	const struct db_location_row *r;
	struct ctl_errors *errs, *warns;
};

/* A finding of lis_dispatch_check() at the row's file:line and the field's column. */
static void report_at(void *ctx, int field, bool error, const char *msg)
{
	const struct row_report *rr = ctx;
	ctl_error_at(error ? rr->errs : rr->warns, rr->r->file, rr->r->line,
		     field < 0 ? rr->r->key_col : civic_col(rr->r, field), "%s", msg);
}

void ctl_check_dispatchable(const struct db_location_row *r, const struct lis_iso *iso,
			    struct ctl_errors *errs, struct ctl_errors *warns)
{
	struct row_report rr = {r, errs, warns};
	lis_dispatch_check(r->key, r->civic, r->has_geo, iso, report_at, &rr);
}

/* Sort key of a location for the floor check: site, building, floor. */
static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}
static int cmp_floor(const void *a, const void *b)
{
	const struct db_location_row *x = ((const struct entry *)a)->row;
	const struct db_location_row *y = ((const struct entry *)b)->row;
	int c = cmp_str(x->site_key, y->site_key);

	if (!c)
		c = cmp_str(x->civic[CIVIC_BLD], y->civic[CIVIC_BLD]);
	if (!c)
		c = cmp_str(x->civic[CIVIC_FLR], y->civic[CIVIC_FLR]);
	return c;
}

/* RAY BAUM's Act: in a building of several floors the floor is part of the dispatchable
 * location. A building is a site's BLD (the site itself when BLD is absent); it has
 * several floors when its locations name more than one FLR. */
static int check_floors(const struct index *locs, struct ctl_errors *errs)
{
	struct entry *e = malloc((locs->n + 1) * sizeof(*e));
	size_t n = 0;

	if (!e)
		return -1;
	for (size_t i = 0; i < locs->n; i++)
		if (lis_civic_has_any(((const struct db_location_row *)locs->e[i].row)->civic))
			e[n++] = locs->e[i];
	qsort(e, n, sizeof(*e), cmp_floor);
	for (size_t g = 0; g < n;) {
		const struct db_location_row *first = e[g].row;
		size_t end = g, floors = 0;
		char list[160] = "";
		size_t len = 0;

		while (end < n && cmp_str(((const struct db_location_row *)e[end].row)->site_key,
					  first->site_key) == 0 &&
		       cmp_str(((const struct db_location_row *)e[end].row)->civic[CIVIC_BLD],
			       first->civic[CIVIC_BLD]) == 0)
			end++;
		for (size_t i = g; i < end; i++) {
			const char *f = ((const struct db_location_row *)e[i].row)->civic[CIVIC_FLR];
			const char *prev = i > g ? ((const struct db_location_row *)e[i - 1].row)
							   ->civic[CIVIC_FLR] : NULL;
			if (!f || (prev && strcmp(prev, f) == 0))
				continue;
			floors++;
			if (len < sizeof(list))
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						floors > 1 ? ", " : "", f);
		}
		for (size_t i = g; i < end && floors > 1; i++) {
			const struct db_location_row *r = e[i].row;
			if (!e[i].from_file || r->civic[CIVIC_FLR])
				continue;
			if (r->civic[CIVIC_BLD])
				ctl_error_at(errs, r->file, r->line, civic_col(r, CIVIC_FLR),
					  "location %s is not dispatchable: no floor (FLR), and "
					  "building %s of site %s has locations on floors %s",
					  Q(r->key), Q(r->civic[CIVIC_BLD]), Q(r->site_key), list);
			else
				ctl_error_at(errs, r->file, r->line, civic_col(r, CIVIC_FLR),
					  "location %s is not dispatchable: no floor (FLR), and "
					  "site %s (no BLD) has locations on floors %s", Q(r->key),
					  Q(r->site_key), list);
		}
		g = end;
	}
	free(e);
	return 0;
}

/* ---- geodetic points ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of sorted v[0..n) without one element equal to x. */
static double median_without(const double *v, size_t n, double x)
{
	size_t k = 0, lo = 0, hi = n, m = n - 1;

	while (lo < hi) { /* k: the first element not below x, which is x */
		size_t mid = (lo + hi) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	k = lo;
	size_t r1 = (m - 1) / 2, r2 = m / 2;
	double a = v[r1 < k ? r1 : r1 + 1], b = v[r2 < k ? r2 : r2 + 1];
	return (a + b) / 2;
}

/* Great-circle distance in km (haversine, mean Earth radius). */
static double km_between(double lat1, double lon1, double lat2, double lon2)
{
	const double rad = 3.14159265358979323846 / 180, r = 6371.0088;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double h = sin(dlat / 2) * sin(dlat / 2) +
		   cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

static int cmp_site(const void *a, const void *b)
{
	return cmp_str(((const struct entry *)a)->site, ((const struct entry *)b)->site);
}

/* A site is one place: a location whose point lies more than CTL_GEO_MAX_KM from the median
 * of the site's other points (at least two) has a typo in a coordinate. The median, not
 * the mean, so that one wrong point does not drag the others' reference with it. */
static int check_geo(const struct index *locs, struct ctl_errors *errs)
{
	struct entry *e = malloc((locs->n + 1) * sizeof(*e));
	double *lat = malloc((locs->n + 1) * sizeof(double));
	double *lon = malloc((locs->n + 1) * sizeof(double));
	size_t n = 0;
	int rc = -1;

	if (!e || !lat || !lon)
		goto out;
	for (size_t i = 0; i < locs->n; i++) {
		const struct db_location_row *r = locs->e[i].row;
		if (r->has_geo && !locs->e[i].broken && locs->e[i].site)
			e[n++] = locs->e[i];
	}
	qsort(e, n, sizeof(*e), cmp_site);
	for (size_t g = 0, end; g < n; g = end) {
		for (end = g; end < n && strcmp(e[end].site, e[g].site) == 0; end++) {
			lat[end - g] = ((const struct db_location_row *)e[end].row)->lat;
			lon[end - g] = ((const struct db_location_row *)e[end].row)->lon;
		}
		size_t m = end - g;
		if (m < 3)
			continue;
		qsort(lat, m, sizeof(double), cmp_double);
		qsort(lon, m, sizeof(double), cmp_double);
		for (size_t i = g; i < end; i++) {
			const struct db_location_row *r = e[i].row;
			if (!e[i].from_file)
				continue;
			double mlat = median_without(lat, m, r->lat);
			double mlon = median_without(lon, m, r->lon);
			double km = km_between(r->lat, r->lon, mlat, mlon);
			if (km <= CTL_GEO_MAX_KM)
				continue;
			ctl_error_at(errs, r->file, r->line, r->key_col,
				  "location %s lies %.0f km from the median (%.4f, %.4f) of the "
				  "other %zu geodetic points of site %s, more than %.0f km: check "
				  "its latitude and longitude", Q(r->key), km, mlat, mlon, m - 1,
				  Q(r->site_key), CTL_GEO_MAX_KM);
		}
	}
	rc = 0;
out:
	free(e);
	free(lat);
	free(lon);
	return rc;
}

/* ---- switches and ports: their locations in their own site ---- */

static void check_switch_sites(const struct db_rows *switches, const struct db_rows *ports,
			       const struct index *sw, const struct index *locs,
			       struct ctl_errors *errs)
{
	const struct db_switch_row *w = switches->rows;
	const struct db_port_row *p = ports->rows;

	for (size_t i = 0; i < switches->n; i++) {
		const struct entry *l = find(locs, w[i].location_key);
		if (l && l->site && w[i].site_key && strcmp(l->site, w[i].site_key) != 0)
			ctl_error_at(errs, w[i].file, w[i].line, w[i].location_col,
				  "switch %s is in site %s, but its location %s is in site %s: a "
				  "switch's location must be in its own site", Q(w[i].key),
				  Q(w[i].site_key), Q(w[i].location_key), Q(l->site));
	}
	for (size_t i = 0; i < ports->n; i++) {
		const struct entry *l = find(locs, p[i].location_key);
		const struct entry *s = find(sw, p[i].switch_key);
		if (l && s && l->site && s->site && strcmp(l->site, s->site) != 0)
			ctl_error_at(errs, p[i].file, p[i].line, p[i].location_col,
				  "port %s %s: location %s is in site %s, but switch %s is in "
				  "site %s: a port's location must be in its switch's site",
				  Q(p[i].switch_key), Q(p[i].port_id), Q(p[i].location_key),
				  Q(l->site), Q(p[i].switch_key), Q(s->site));
	}
}

/* ---- subnets and BSSID prefixes ---- */

struct prefix {
	unsigned char af, len;        /* af 4 or 6 (an IP prefix), 48 (a MAC: a BSSID range) */
	unsigned char addr[16];
	char text[64];                /* as messages write it */
	const char *file;
	unsigned line, col;
	const char *site;
	const char *ap;               /* a BSSID's access point */
	bool from_file;
};

static bool prefix_parse(const char *s, struct prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(p->addr, 0, sizeof(p->addr));
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->af = 4, p->len = 32;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->af = 6, p->len = 128;
	else
		return false;
	if (slash)
		p->len = (unsigned char)atoi(slash + 1);
	return true;
}

/* A BSSID row's range: its canonical MAC ("00:3a:7d:10:20:40") and length. */
static bool bssid_parse(const struct db_bssid_row *b, struct prefix *p)
{
	unsigned char *a = p->addr;

	memset(p->addr, 0, sizeof(p->addr));
	if (!b->bssid || sscanf(b->bssid, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &a[0], &a[1], &a[2],
				&a[3], &a[4], &a[5]) != 6)
		return false;
	p->af = 48;
	p->len = (unsigned char)b->prefix_len;
	return true;
}
static int cmp_prefix(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;
	int c = (x->af > y->af) - (x->af < y->af);

	if (!c)
		c = memcmp(x->addr, y->addr, 16);
	if (!c)
		c = (x->len > y->len) - (x->len < y->len);
	return c;
}

static bool contains(const struct prefix *outer, const struct prefix *inner)
{
	if (outer->af != inner->af || outer->len > inner->len)
		return false;
	for (unsigned bit = 0; bit < outer->len; bit++) {
		unsigned char m = (unsigned char)(0x80u >> (bit % 8));
		if ((outer->addr[bit / 8] & m) != (inner->addr[bit / 8] & m))
			return false;
	}
	return true;
}

static const char *origin(char *buf, size_t size, const struct prefix *p)
{
	if (p->from_file)
		snprintf(buf, size, "%s:%u", p->file ? p->file : "(input)", p->line);
	else
		snprintf(buf, size, "the database");
	return buf;
}

/* What check_overlaps() calls the prefixes. */
struct prefix_kind {
	enum db_entity e;
	const char *one, *many;
};
static const struct prefix_kind subnet_kind = {DB_SUBNETS, "subnet", "subnets"};
static const struct prefix_kind bssid_kind = {DB_BSSIDS, "BSSID", "BSSID ranges"};

/* A subnet inside another answers for part of it; when the two are in different sites,
 * a caller's site depends on which prefix is longer, which is almost always a typo in
 * one of them. The same holds for a BSSID inside a BSSID range (a /44 of an access point's
 * radios). Sorted by address then length, every prefix comes after those that contain it,
 * so a stack of the enclosing ones finds each nesting once. */
static int check_overlaps(struct prefix *p, size_t n, const struct prefix_kind *k,
			  struct ctl_errors *errs)
{
	const struct prefix *stack[129];
	size_t depth = 0;
	char a[160];

	qsort(p, n, sizeof(*p), cmp_prefix);
	for (size_t i = 0; i < n; i++) {
		while (depth > 0 && !contains(stack[depth - 1], &p[i]))
			depth--;
		for (size_t d = depth; d-- > 0;) {
			const struct prefix *o = stack[d];
			const struct prefix *in = p[i].from_file ? &p[i] : o;
			const struct prefix *other = p[i].from_file ? o : &p[i];
			if (!o->site || !p[i].site || strcmp(o->site, p[i].site) == 0)
				continue;
			if (!in->from_file)
				continue;
			ctl_error_at(errs, in->file, in->line, in->col,
				  "%s %s (site %s) %s %s (%s, site %s): nested %s must be in the "
				  "same site", k->one, Q(in->text), Q(in->site),
				  in == &p[i] ? "lies inside" : "contains", other->text,
				  origin(a, sizeof(a), other), Q(other->site), k->many);
			break;
		}
		if (depth < sizeof(stack) / sizeof(stack[0]))
			stack[depth++] = &p[i];
	}
	return 0;
}

static int cmp_ap(const void *a, const void *b)
{
	return cmp_str(((const struct prefix *)a)->ap, ((const struct prefix *)b)->ap);
}

/* An access point stands in one place: its BSSIDs (the `ap` column) in two sites mean one
 * of them names the wrong location. Reports each file row whose site differs from the site
 * of another BSSID of the same access point. */
static void check_ap_sites(struct prefix *p, size_t n, struct ctl_errors *errs)
{
	char a[160];

	qsort(p, n, sizeof(*p), cmp_ap);
	for (size_t g = 0, end; g < n; g = end) {
		for (end = g + 1; end < n && cmp_str(p[end].ap, p[g].ap) == 0; end++)
			;
		for (size_t i = g; i < end && p[g].ap; i++) {
			const struct prefix *o = NULL;
			for (size_t j = g; j < end && !o; j++)
				if (p[i].site && p[j].site && strcmp(p[i].site, p[j].site) != 0)
					o = &p[j];
			if (!p[i].from_file || !o)
				continue;
			ctl_error_at(errs, p[i].file, p[i].line, p[i].col,
				  "BSSID %s of access point %s is in site %s, but its BSSID %s "
				  "(%s) is in site %s: an access point's BSSIDs must be in one "
				  "site",
				  Q(p[i].text), Q(p[i].ap), Q(p[i].site), o->text,
				  origin(a, sizeof(a), o), Q(o->site));
		}
	}
}

/* The prefixes of entity k->e (subnets or BSSIDs): the files', and the database's that no
 * file row replaces, each with the site of its location. */
static struct prefix *prefixes(const struct ctl_check_in *in, const struct prefix_kind *k,
			       const struct index *locs, size_t *np)
{
	const struct db_entity_desc *d = &db_entities[k->e];
	struct prefix *pre = calloc(in->files->of[k->e].n + in->db->of[k->e].n + 1, sizeof(*pre));

	*np = 0;
	if (!pre)
		return NULL;
	for (size_t pass = 0; pass < 2; pass++) {
		const struct db_rows *s = &(pass ? in->db : in->files)->of[k->e];
		size_t n_file = *np;
		for (size_t i = 0; i < s->n; i++) {
			const char *r = (const char *)s->rows + i * d->row_size;
			struct prefix p = {.from_file = !pass};
			const char *loc;
			bool ok;
			if (k->e == DB_SUBNETS) {
				const struct db_subnet_row *net = (const void *)r;
				ok = prefix_parse(net->prefix, &p);
				snprintf(p.text, sizeof(p.text), "%s", net->prefix);
				p.col = net->prefix_col;
				loc = net->location_key;
			} else {
				const struct db_bssid_row *b = (const void *)r;
				ok = bssid_parse(b, &p);
				ctl_row_key(DB_BSSIDS, b, p.text, sizeof(p.text));
				p.ap = b->ap;
				loc = b->location_key;
			}
			if (!ok || (pass && bsearch(&p, pre, n_file, sizeof(p), cmp_prefix)))
				continue;
			const struct entry *l = find(locs, loc);
			p.file = DB_CFIELD(const char *, r, d->file_at);
			p.line = DB_CFIELD(unsigned, r, d->line_at);
			p.site = l ? l->site : NULL;
			pre[(*np)++] = p;
		}
		if (!pass)
			qsort(pre, *np, sizeof(*pre), cmp_prefix);
	}
	return pre;
}

/* ---- unique values ---- */

static int index_entity(struct index *ix, enum db_entity e, const struct ctl_check_in *in);

/* The site a row is in: through its reference to a site, else to a location. */
static const char *row_site(enum db_entity e, const char *r, const struct index *locs)
{
	const struct db_entity_desc *d = &db_entities[e];

	for (size_t k = 0; k < d->n_cols; k++)
		if (d->cols[k].kind == DB_K_REF && d->cols[k].ref == DB_SITES)
			return DB_CFIELD(const char *, r, d->cols[k].at);
	for (size_t k = 0; k < d->n_cols; k++)
		if (d->cols[k].kind == DB_K_REF && d->cols[k].ref == DB_LOCATIONS) {
			const char *key = DB_CFIELD(const char *, r, d->cols[k].at);
			const struct entry *l = find(locs, key);
			return l ? l->site : NULL;
		}
	return NULL;
}

/* A unique value (a switch's chassis_id, an endpoint's MAC, URI or TEL) that the database
 * holds for another key would make PostgreSQL refuse the whole import with words about a
 * constraint; say instead which row has it. */
static void check_unique_column(enum db_entity e, const struct db_column *c,
				const struct db_rows *f, const struct index *held,
				struct ctl_errors *errs)
{
	const struct db_entity_desc *d = &db_entities[e];
	char mine[600], theirs[600];

	for (size_t i = 0; i < f->n; i++) {
		const char *r = (const char *)f->rows + i * d->row_size;
		const struct entry *x = find(held, DB_CFIELD(const char *, r, c->at));
		if (!x)
			continue;
		ctl_row_key(e, r, mine, sizeof(mine));
		if (strcmp(mine, ctl_row_key(e, x->row, theirs, sizeof(theirs))) == 0)
			continue;
		ctl_error_at(errs, DB_CFIELD(const char *, r, d->file_at),
			  DB_CFIELD(unsigned, r, d->line_at),
			  c->col_at ? DB_CFIELD(unsigned, r, c->col_at) : 0,
			  "%s %s of %s %s is already %s %s%s%s%s in the database", c->name,
			  Q(x->key), d->one, Q(mine), d->one, Q(theirs), x->site ? " (site " : "",
			  x->site ? Q(x->site) : "", x->site ? ")" : "");
	}
}

/* A stored row that a file row of the same key replaces gives its values up, so only the
 * others count. (The entities with unique columns, switches and endpoints, have a one-column
 * key.) */
static int check_unique(const struct ctl_check_in *in, const struct index *locs,
			struct ctl_errors *errs)
{
	static const struct db_import_set none;
	const struct ctl_check_in files_only = {in->files, NULL, 0, &none, NULL};

	for (int e = 0; e < DB_ENTITY_N; e++) {
		const struct db_entity_desc *d = &db_entities[e];
		const struct db_rows *f = &in->files->of[e], *db = &in->db->of[e];
		struct index given = {0};
		for (size_t k = 0; k < d->n_cols && f->n && db->n; k++) {
			const struct db_column *c = &d->cols[k];
			struct entry *v;
			size_t n = 0;
			if (!(c->flags & DB_COL_UNIQUE))
				continue;
			if (!given.e && index_entity(&given, (enum db_entity)e, &files_only) < 0)
				return -1;
			if (!(v = calloc(db->n + 1, sizeof(*v)))) {
				free(given.e);
				return -1;
			}
			for (size_t i = 0; i < db->n; i++) {
				const char *r = (const char *)db->rows + i * d->row_size;
				const char *val = DB_CFIELD(const char *, r, c->at);
				const char *site = row_site((enum db_entity)e, r, locs);
				if (val && !find(&given, DB_CFIELD(const char *, r, d->cols[0].at)))
					v[n++] = (struct entry){val, r, site, false, false};
			}
			qsort(v, n, sizeof(*v), cmp_entry);
			check_unique_column((enum db_entity)e, c, f, &(struct index){v, n}, errs);
			free(v);
		}
		free(given.e);
	}
	return 0;
}

/* ---- all together ---- */

/* The keys of entity e: the files' (valid, then broken), and the database's that no file
 * holds. Each entry knows its site (through the entity's reference to a site, if it has
 * one). */
static int index_entity(struct index *ix, enum db_entity e, const struct ctl_check_in *in)
{
	const struct db_entity_desc *d = &db_entities[e];
	const struct db_column *site = NULL;
	const struct db_rows empty = {NULL, 0};
	const struct db_rows *src[3] = {&in->files->of[e], in->broken ? &in->broken->of[e] : &empty,
					&in->db->of[e]};
	struct entry *en = NULL;
	size_t n = 0, n_file = 0;
	int rc = -1;

	for (size_t k = 0; k < d->n_cols && !site; k++)
		if (d->cols[k].kind == DB_K_REF && d->cols[k].ref == DB_SITES)
			site = &d->cols[k];
	if (!(en = calloc(src[0]->n + src[1]->n + src[2]->n + 1, sizeof(struct entry))))
		return -1;
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < src[pass]->n; i++) {
			const char *r = (const char *)src[pass]->rows + i * d->row_size;
			en[n++] = (struct entry){DB_CFIELD(const char *, r, d->cols[0].at), r,
				site ? DB_CFIELD(const char *, r, site->at) : NULL, pass == 0,
				pass == 1};
		}
		if (pass == 1)
			n_file = n;
	}
	rc = index_build(ix, en, n_file, en + n_file, n - n_file);
	free(en);
	return rc;
}

/* The keys of every entity another refers to (sites, locations, switches, classes). */
struct ctl_refs {
	struct index ix[DB_ENTITY_N];
	unsigned unread;
};

struct ctl_refs *ctl_refs_new(const struct ctl_check_in *in)
{
	struct ctl_refs *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->unread = in->unread;
	for (int e = 0; e < DB_ENTITY_N; e++)
		for (size_t k = 0; k < db_entities[e].n_cols; k++) {
			const struct db_column *c = &db_entities[e].cols[k];
			if (c->kind == DB_K_REF && !r->ix[c->ref].e &&
			    index_entity(&r->ix[c->ref], c->ref, in) < 0) {
				ctl_refs_free(r);
				return NULL;
			}
		}
	return r;
}

void ctl_refs_check(const struct ctl_refs *refs, enum db_entity e, const void *row,
		    struct ctl_errors *errs)
{
	const struct db_entity_desc *d = &db_entities[e];
	const char *file = DB_CFIELD(const char *, row, d->file_at);
	unsigned line = DB_CFIELD(unsigned, row, d->line_at);

	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		const char *key = c->kind == DB_K_REF && !(refs->unread & (1u << c->ref)) ?
				  DB_CFIELD(const char *, row, c->at) : NULL;
		if (key && !find(&refs->ix[c->ref], key))
			unknown(errs, file, line, c->col_at ? DB_CFIELD(unsigned, row, c->col_at) : 0,
				db_entities[c->ref].one, db_entities[c->ref].name, key);
	}
}

void ctl_refs_free(struct ctl_refs *r)
{
	if (!r)
		return;
	for (int e = 0; e < DB_ENTITY_N; e++)
		free(r->ix[e].e);
	free(r);
}

int ctl_check_wiremap(const struct ctl_check_in *in, struct ctl_errors *errs,
		      struct ctl_errors *warns)
{
	const struct db_import_set *f = in->files;
	size_t before = errs->total;
	struct ctl_refs *refs = NULL;
	const struct index *ix = NULL, *locs = NULL;
	struct prefix *pre = NULL;
	size_t np;
	int rc = -1;

	/* An index of every entity another refers to (sites, locations, switches). */
	if (!(refs = ctl_refs_new(in)))
		goto out;
	ix = refs->ix;
	locs = &ix[DB_LOCATIONS];
	for (int e = 0; e < DB_ENTITY_N; e++) {
		const struct db_entity_desc *d = &db_entities[e];
		for (size_t i = 0; i < f->of[e].n; i++) {
			const char *r = (const char *)f->of[e].rows + i * d->row_size;
			ctl_refs_check(refs, (enum db_entity)e, r, errs);
			if (e == DB_LOCATIONS)
				ctl_check_dispatchable(
					(const struct db_location_row *)(const void *)r, in->iso,
					errs, warns);
		}
		if (e == DB_LOCATIONS &&
		    (check_floors(locs, errs) < 0 || check_geo(locs, errs) < 0))
			goto out;
	}
	check_switch_sites(&f->of[DB_SWITCHES], &f->of[DB_PORTS], &ix[DB_SWITCHES], locs, errs);
	if (check_unique(in, locs, errs) < 0)
		goto out;

	/* Subnets and BSSIDs: the files' and the database's, a file row replacing a stored
	 * one. */
	if (!(pre = prefixes(in, &subnet_kind, locs, &np)))
		goto out;
	check_overlaps(pre, np, &subnet_kind, errs);
	free(pre);
	if (!(pre = prefixes(in, &bssid_kind, locs, &np)))
		goto out;
	check_overlaps(pre, np, &bssid_kind, errs);
	check_ap_sites(pre, np, errs);
	rc = errs->total == before ? 0 : -1;
out:
	if (rc < 0 && errs->total == before)
		ctl_errors_add(errs, "lisctl: out of memory");
	free(pre);
	ctl_refs_free(refs);
	return rc;
}
