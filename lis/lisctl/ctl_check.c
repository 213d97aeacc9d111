/* Checks that need every file at once, and the database: references between files (every
 * DB_K_REF column of db_entities), civic addresses a responder can use (doc/protocol.md
 * "Dispatchable location"), floors in multi-floor buildings, and subnets nested across
 * sites. Pure: the caller reads the database (db_wiremap_read) and hands its rows in. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_rows.h"

/* ISO 3166-1 alpha-2, the 249 assigned codes (as in tzdata's iso3166.tab), sorted. */
static const char countries[][3] = {
	"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW",
	"AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN",
	"BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG",
	"CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ",
	"DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI",
	"FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
	"GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR",
	"HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
	"JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA",
	"LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME",
	"MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU",
	"MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
	"NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR",
	"PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
	"SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
	"SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
	"TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
	"VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

static int cmp_code(const void *a, const void *b)
{
	return strcmp(a, b);
}

bool ctl_country_is_known(const char *code)
{
	if (!code || strlen(code) != 2)
		return false;
	return bsearch(code, countries, sizeof(countries) / sizeof(countries[0]),
		       sizeof(countries[0]), cmp_code) != NULL;
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

bool ctl_postal_code_fits(const char *country, const char *pc, const char **format)
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

static bool has_civic(const char *const civic[CIVIC_N_FIELDS])
{
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		if (civic[f])
			return true;
	return false;
}

unsigned ctl_civic_problems(const char *const civic[CIVIC_N_FIELDS])
{
	unsigned p = 0;

	if (!has_civic(civic))
		return 0;
	if (!civic[CIVIC_HNO])
		p |= CTL_MISSING_HNO;
	else if (!is_digits(civic[CIVIC_HNO]))
		p |= CTL_BAD_HNO;
	if (!civic[CIVIC_RD])
		p |= CTL_MISSING_RD;
	if (!civic[CIVIC_A3])
		p |= CTL_MISSING_A3;
	if (!civic[CIVIC_A1])
		p |= CTL_MISSING_A1;
	if (!civic[CIVIC_COUNTRY])
		p |= CTL_MISSING_COUNTRY;
	else if (!ctl_country_is_known(civic[CIVIC_COUNTRY]))
		p |= CTL_BAD_COUNTRY;
	if (civic[CIVIC_PC] && !ctl_postal_code_fits(civic[CIVIC_COUNTRY], civic[CIVIC_PC], NULL))
		p |= CTL_BAD_PC;
	return p;
}

/* ---- key lookups ---- */

/* A sorted list of keys, each with what it stands for (a row, or its site's key). */
struct entry {
	const char *key;
	const void *row;
	const char *site;     /* the site a location or switch is in */
	bool from_file;
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

static void check_dispatchable(const struct db_location_row *r, struct ctl_errors *errs,
			       struct ctl_errors *warns)
{
	static const struct {
		unsigned bit;
		int field;
		const char *what;
	} need[] = {
		{CTL_MISSING_COUNTRY, CIVIC_COUNTRY, "no country"},
		{CTL_MISSING_A1, CIVIC_A1, "no state or province (A1)"},
		{CTL_MISSING_A3, CIVIC_A3, "no city (A3)"},
		{CTL_MISSING_RD, CIVIC_RD, "no street name (RD)"},
		{CTL_MISSING_HNO, CIVIC_HNO, "no street number (HNO)"},
	};
	unsigned p = ctl_civic_problems(r->civic);

	if (!has_civic(r->civic)) {
		ctl_error_at(warns, r->file, r->line, r->key_col,
			  "warning: location %s has a geodetic point but no civic address",
			  Q(r->key));
		return;
	}
	if (p & CTL_BAD_COUNTRY)
		ctl_error_at(errs, r->file, r->line, civic_col(r, CIVIC_COUNTRY),
			  "location %s is not dispatchable: %s is not an ISO 3166-1 country code",
			  Q(r->key), Q(r->civic[CIVIC_COUNTRY]));
	if (p & CTL_BAD_HNO)
		ctl_error_at(errs, r->file, r->line, civic_col(r, CIVIC_HNO),
			  "location %s: HNO %s must be digits; put a suffix such as 'A' or "
			  "'1/2' in HNS", Q(r->key), Q(r->civic[CIVIC_HNO]));
	if (p & CTL_BAD_PC) {
		const char *format = "";
		ctl_postal_code_fits(r->civic[CIVIC_COUNTRY], r->civic[CIVIC_PC], &format);
		ctl_error_at(errs, r->file, r->line, civic_col(r, CIVIC_PC),
			  "location %s: postal code (PC) %s is not in the %s format: %s",
			  Q(r->key), Q(r->civic[CIVIC_PC]), r->civic[CIVIC_COUNTRY], format);
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (p & need[i].bit)
			ctl_error_at(errs, r->file, r->line, civic_col(r, need[i].field),
				  "location %s is not dispatchable: %s", Q(r->key), need[i].what);
	if (!r->civic[CIVIC_ROOM] && !r->civic[CIVIC_SEAT] && !r->civic[CIVIC_UNIT])
		ctl_error_at(warns, r->file, r->line, r->key_col,
			  "warning: location %s has no ROOM, SEAT or UNIT", Q(r->key));
	if (!r->has_geo)
		ctl_error_at(warns, r->file, r->line, r->key_col,
			  "warning: location %s has no geodetic point (latitude, longitude)",
			  Q(r->key));
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
		if (has_civic(((const struct db_location_row *)locs->e[i].row)->civic))
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

/* ---- subnets ---- */

struct prefix {
	unsigned char af, len;
	unsigned char addr[16];
	const struct db_subnet_row *row;
	const char *site;
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
		snprintf(buf, size, "%s:%u", p->row->file ? p->row->file : "(input)", p->row->line);
	else
		snprintf(buf, size, "the database");
	return buf;
}

/* A subnet inside another answers for part of it; when the two are in different sites,
 * a caller's site depends on which prefix is longer, which is almost always a typo in
 * one of them. Sorted by address then length, every prefix comes after those that
 * contain it, so a stack of the enclosing ones finds each nesting once. */
static int check_overlaps(struct prefix *p, size_t n, struct ctl_errors *errs)
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
			if (!o->site || !p[i].site || strcmp(o->site, p[i].site) == 0)
				continue;
			if (p[i].from_file)
				ctl_error_at(errs, p[i].row->file, p[i].row->line, p[i].row->prefix_col,
					  "subnet %s (site %s) lies inside %s (%s, site %s): nested "
					  "subnets must be in the same site", Q(p[i].row->prefix),
					  Q(p[i].site), o->row->prefix, origin(a, sizeof(a), o),
					  Q(o->site));
			else if (o->from_file)
				ctl_error_at(errs, o->row->file, o->row->line, o->row->prefix_col,
					  "subnet %s (site %s) contains %s (%s, site %s): nested "
					  "subnets must be in the same site", Q(o->row->prefix),
					  Q(o->site), p[i].row->prefix, origin(a, sizeof(a), &p[i]),
					  Q(p[i].site));
			else
				continue;
			break;
		}
		if (depth < sizeof(stack) / sizeof(stack[0]))
			stack[depth++] = &p[i];
	}
	return 0;
}

/* ---- all together ---- */

/* The keys of entity e: the files' (f), and the database's (db) that no file holds. Each
 * entry knows its site (through the entity's reference to a site, if it has one). */
static int index_entity(struct index *ix, enum db_entity e, const struct db_import_set *f,
			const struct db_import_set *db)
{
	const struct db_entity_desc *d = &db_entities[e];
	const struct db_column *site = NULL;
	struct entry *en[2] = {NULL, NULL};
	int rc = -1;

	for (size_t k = 0; k < d->n_cols && !site; k++)
		if (d->cols[k].kind == DB_K_REF && d->cols[k].ref == DB_SITES)
			site = &d->cols[k];
	for (int pass = 0; pass < 2; pass++) {
		const struct db_rows *rows = &(pass ? db : f)->of[e];
		if (!(en[pass] = calloc(rows->n + 1, sizeof(struct entry))))
			goto out;
		for (size_t i = 0; i < rows->n; i++) {
			const char *r = (const char *)rows->rows + i * d->row_size;
			en[pass][i] = (struct entry){DB_CFIELD(const char *, r, d->cols[0].at), r,
				site ? DB_CFIELD(const char *, r, site->at) : NULL, !pass};
		}
	}
	rc = index_build(ix, en[0], f->of[e].n, en[1], db->of[e].n);
out:
	free(en[0]);
	free(en[1]);
	return rc;
}

int ctl_check_wiremap(const struct db_import_set *f, const struct db_import_set *db,
		      struct ctl_errors *errs, struct ctl_errors *warns)
{
	size_t before = errs->total;
	struct index ix[DB_ENTITY_N] = {0};
	const struct index *locs = &ix[DB_LOCATIONS];
	struct prefix *pre = NULL;
	int rc = -1;

	/* An index of every entity another refers to (sites, locations, switches). */
	for (int e = 0; e < DB_ENTITY_N; e++)
		for (size_t k = 0; k < db_entities[e].n_cols; k++) {
			const struct db_column *c = &db_entities[e].cols[k];
			if (c->kind == DB_K_REF && !ix[c->ref].e &&
			    index_entity(&ix[c->ref], c->ref, f, db) < 0)
				goto out;
		}
	for (int e = 0; e < DB_ENTITY_N; e++) {
		const struct db_entity_desc *d = &db_entities[e];
		for (size_t i = 0; i < f->of[e].n; i++) {
			const char *r = (const char *)f->of[e].rows + i * d->row_size;
			const char *file = DB_CFIELD(const char *, r, d->file_at);
			unsigned line = DB_CFIELD(unsigned, r, d->line_at);
			for (size_t k = 0; k < d->n_cols; k++) {
				const struct db_column *c = &d->cols[k];
				const char *key = c->kind == DB_K_REF ?
						  DB_CFIELD(const char *, r, c->at) : NULL;
				if (key && !find(&ix[c->ref], key))
					unknown(errs, file, line,
						c->col_at ? DB_CFIELD(unsigned, r, c->col_at) : 0,
						db_entities[c->ref].one, db_entities[c->ref].name, key);
			}
			if (e == DB_LOCATIONS)
				check_dispatchable((const struct db_location_row *)(const void *)r,
						   errs, warns);
		}
		if (e == DB_LOCATIONS && check_floors(locs, errs) < 0)
			goto out;
	}

	/* Subnets: the files' and the database's, a file row replacing a stored prefix. */
	pre = calloc(f->of[DB_SUBNETS].n + db->of[DB_SUBNETS].n + 1, sizeof(*pre));
	if (!pre)
		goto out;
	size_t np = 0;
	for (size_t pass = 0; pass < 2; pass++) {
		const struct db_rows *s = &(pass ? db : f)->of[DB_SUBNETS];
		const struct db_subnet_row *nets = s->rows;
		size_t n_file = np;
		for (size_t i = 0; i < s->n; i++) {
			struct prefix p = {.row = &nets[i], .from_file = !pass};
			const struct entry *l = find(locs, nets[i].location_key);
			bool dup = false;
			if (!prefix_parse(nets[i].prefix, &p))
				continue;
			if (pass)
				dup = bsearch(&p, pre, n_file, sizeof(p), cmp_prefix) != NULL;
			if (dup)
				continue;
			p.site = l ? l->site : NULL;
			pre[np++] = p;
		}
		if (!pass)
			qsort(pre, np, sizeof(*pre), cmp_prefix);
	}
	check_overlaps(pre, np, errs);
	rc = errs->total == before ? 0 : -1;
out:
	if (rc < 0 && errs->total == before)
		ctl_errors_add(errs, "lisctl: out of memory");
	free(pre);
	for (int e = 0; e < DB_ENTITY_N; e++)
		free(ix[e].e);
	return rc;
}
