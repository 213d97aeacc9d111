/* Reading one wiremap file of an entity (lis-wiremap(5)), CSV or JSON, and checking every
 * row before anything touches the database. The walk is the same for every entity: map the
 * header onto the entity's columns (db_entities, db_entity.c), then for each row check the
 * required values, read each value as its kind says (ctl_values.c), remember the row's
 * identity and unique values for the duplicate check, and last run the entity's own row
 * check, if it has one, on what needs several columns at once. Errors name
 * PATH:LINE:COL, where LINE is the line a field starts on (a quoted field may span lines)
 * and COL the field's number (JSON: the character column of its key). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl_csv.h"
#include "ctl_json.h"
#include "ctl_values.h"

#define MAX_COLS 64

/* A key seen on a row, for the duplicate check (which also covers rows with other
 * errors). */
struct keyref {
	char *key;
	unsigned line, col;
};
struct keyset {
	const char *what;    /* names the key in messages: "site", "chassis_id" */
	struct keyref *refs; /* one per data row at most */
	size_t n;
};

/* One file's load. */
struct load {
	enum db_entity e;
	const struct db_entity_desc *d;
	struct ctl_rows *file;
	struct ctl_errors *errs;
	int at[MAX_COLS];        /* at[k]: the file's field of column k, or -1 */
	struct keyset keys[MAX_COLS + 1]; /* [0]: the rows' identity; then the unique columns */
	size_t n_keysets;
	char *rows;              /* the valid rows, d->row_size bytes each */
	size_t n;
	char *broken;            /* rows with errors whose identity was read */
	size_t n_broken;
	/* Streaming (ctl_load_each): each row goes to on_row, in `one`, instead of rows and
	 * broken, and duplicates are left to on_row's owner. */
	void (*on_row)(void *ctx, const void *row, bool ok, unsigned key_col);
	void *ctx;
	char *one;
	bool header_ok;
};

/* ---- cells ---- */

static struct ctl_cell *cell(struct ctl_row *r, const struct load *L, size_t k)
{
	return L->at[k] < 0 ? NULL : &r->cells[L->at[k]];
}

static const char *val(struct ctl_row *r, const struct load *L, size_t k)
{
	struct ctl_cell *c = cell(r, L, k);
	return c ? c->s : NULL;
}

/* The column of k for messages: its field's number (JSON: where its key is); 0 when the
 * file lacks it. */
static unsigned colno(struct ctl_row *r, const struct load *L, size_t k)
{
	if (L->at[k] < 0)
		return 0;
	if (r->cells[L->at[k]].col)
		return r->cells[L->at[k]].col;
	return (unsigned)L->at[k] + 1;
}

/* An error at column k of row r (at the row's first column when the file lacks it). */
static bool error_at(const struct load *L, struct ctl_row *r, size_t k, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static bool error_at(const struct load *L, struct ctl_row *r, size_t k, const char *fmt, ...)
{
	struct ctl_cell *c = cell(r, L, k);
	va_list ap;

	va_start(ap, fmt);
	ctl_verror_at(L->errs, L->file->path, c ? c->line : r->line, c ? colno(r, L, k) : 1,
		      fmt, ap);
	va_end(ap);
	return false;
}

/* The index of the entity's column `name`; the row checks below name theirs. */
static size_t col(const struct load *L, const char *name)
{
	int k = db_column_index(L->e, name);

	if (k < 0)
		abort(); /* a row check names a column its entity lacks */
	return (size_t)k;
}

/* ---- row checks: what needs several columns at once ---- */

static bool check_site(struct load *L, struct ctl_row *r, const void *row)
{
	const struct db_site_row *s = row;

	if (s->allow_default && !s->default_location_key)
		return error_at(L, r, col(L, "allow_default"),
				"allow_default is true but the site has no default_location");
	return true;
}

static bool check_location(struct load *L, struct ctl_row *r, const void *row)
{
	const struct db_location_row *l = row;
	size_t lat = col(L, "latitude"), lon = col(L, "longitude");
	size_t alt = col(L, "altitude"), unc = col(L, "uncertainty");
	bool geo = val(r, L, lat) || val(r, L, lon), ok = true;

	if (val(r, L, lat) && !val(r, L, lon))
		ok = error_at(L, r, lat, "latitude without longitude (give both or neither)");
	else if (val(r, L, lon) && !val(r, L, lat))
		ok = error_at(L, r, lon, "longitude without latitude (give both or neither)");
	if (val(r, L, alt) && !geo)
		ok = error_at(L, r, alt, "altitude without latitude and longitude");
	if (val(r, L, unc) && !geo)
		ok = error_at(L, r, unc, "uncertainty without latitude and longitude");
	if (!l->civic[CIVIC_COUNTRY] && !geo) {
		ctl_error_at(L->errs, L->file->path, r->line, colno(r, L, col(L, "location")),
			     "location %s has neither a country nor latitude and longitude",
			     Q(l->key));
		ok = false;
	}
	return ok;
}

/* A remote subnet (a VPN pool) is never answered with a location: it needs none. */
static bool check_subnet(struct load *L, struct ctl_row *r, const void *row)
{
	const struct db_subnet_row *n = row;

	if (!n->location_key && !n->remote)
		return error_at(L, r, col(L, "location"), "missing value for column \"location\" "
				"(required unless remote is true)");
	return true;
}

static bool check_class(struct load *L, struct ctl_row *r, const void *row)
{
	const struct db_class_row *c = row;

	if (strcmp(c->no_fresh, "declared") == 0 && !c->use_declared)
		return error_at(L, r, col(L, "no_fresh"), "class %s falls back on declared "
				"locations (no_fresh declared) but does not count them (declared "
				"is false)", Q(c->key));
	return true;
}

static bool check_endpoint(struct load *L, struct ctl_row *r, const void *row)
{
	const struct db_endpoint_row *e = row;

	if (!e->mac && !e->uri && !e->tel)
		return error_at(L, r, col(L, "endpoint"), "endpoint %s has none of mac, uri and tel",
				Q(e->key));
	return true;
}

/* The three binding files share their observation columns. */
static bool check_seen(struct load *L, struct ctl_row *r, const struct db_seen *s)
{
	if (s->has_first_seen && s->last_seen < s->first_seen)
		return error_at(L, r, col(L, "last_seen"), "last_seen %s is before first_seen %s",
				Q(val(r, L, col(L, "last_seen"))),
				Q(val(r, L, col(L, "first_seen"))));
	return true;
}

static bool check_mac_port(struct load *L, struct ctl_row *r, const void *row)
{
	return check_seen(L, r, &((const struct db_mac_port_row *)row)->seen);
}

static bool check_ip_mac(struct load *L, struct ctl_row *r, const void *row)
{
	return check_seen(L, r, &((const struct db_ip_mac_row *)row)->seen);
}

static bool check_mac_bssid(struct load *L, struct ctl_row *r, const void *row)
{
	return check_seen(L, r, &((const struct db_mac_bssid_row *)row)->seen);
}

/* Run once every value of a row has been read without error. */
static bool (*const row_checks[DB_ENTITY_N])(struct load *, struct ctl_row *, const void *) = {
	[DB_SITES] = check_site,
	[DB_LOCATIONS] = check_location,
	[DB_SUBNETS] = check_subnet,
	[DB_CLASSES] = check_class,
	[DB_ENDPOINTS] = check_endpoint,
	[DB_MAC_PORTS] = check_mac_port,
	[DB_IP_MACS] = check_ip_mac,
	[DB_MAC_BSSIDS] = check_mac_bssid,
};

/* ---- the walk ---- */

/* The entity's column closest to an unknown name (ctl_near), or NULL. */
static const char *closest_column(const struct db_entity_desc *d, const char *name)
{
	struct lis_near n = lis_near_start(name);

	for (size_t j = 0; j < d->n_cols; j++)
		lis_near_try(&n, d->cols[j].name);
	return n.best;
}

/* Map the header onto the entity's columns. Unknown, duplicate and missing required
 * columns are errors at line 1. */
static int map_header(struct load *L)
{
	const struct ctl_row *h = &L->file->rows[0];
	const struct db_entity_desc *d = L->d;
	const char *path = L->file->path;
	size_t before = L->errs->total;

	for (size_t k = 0; k < d->n_cols; k++)
		L->at[k] = -1;
	for (size_t i = 0; i < h->n; i++) {
		const struct ctl_cell *c = &h->cells[i];
		unsigned cno = c->col ? c->col : (unsigned)i + 1;
		int k;

		if (c->bad)
			continue;
		if (!c->s) {
			ctl_error_at(L->errs, path, c->line, cno, "empty column name");
			continue;
		}
		if ((k = db_column_index(L->e, c->s)) < 0) {
			const char *near = closest_column(d, c->s);
			if (!L->file->json && h->n == 1 && strchr(c->s, ';'))
				ctl_error_at(L->errs, path, c->line, cno,
					     "unknown column %s: this file seems separated by "
					     "semicolons; lisctl reads comma-separated files "
					     "(RFC 4180)", Q(c->s));
			else if (near && strcasecmp(near, c->s) == 0)
				ctl_error_at(L->errs, path, c->line, cno,
					     "unknown column %s (did you mean \"%s\"? names are "
					     "case-sensitive)", Q(c->s), near);
			else if (near)
				ctl_error_at(L->errs, path, c->line, cno,
					     "unknown column %s (did you mean \"%s\"?)", Q(c->s),
					     near);
			else
				ctl_error_at(L->errs, path, c->line, cno, "unknown column %s",
					     Q(c->s));
			continue;
		}
		if (L->at[k] >= 0) {
			ctl_error_at(L->errs, path, c->line, cno,
				     "duplicate column %s (also column %d)", Q(c->s), L->at[k] + 1);
			continue;
		}
		L->at[k] = (int)i;
	}
	/* An empty JSON array names no keys, and needs none. */
	for (size_t k = 0; k < d->n_cols && !(L->file->json && L->file->n_rows == 1); k++)
		if ((d->cols[k].flags & DB_COL_REQUIRED) && L->at[k] < 0)
			ctl_error_at(L->errs, path, 1, 1, "missing required column \"%s\"",
				     d->cols[k].name);
	return L->errs->total == before ? 0 : -1;
}

static void add_key(struct load *L, size_t set, const char *key, unsigned line, unsigned cno)
{
	struct keyset *ks = &L->keys[set];
	char *copy = strdup(key);

	if (!copy) {
		ctl_errors_add(L->errs, "%s: out of memory", L->file->path);
		return;
	}
	ks->refs[ks->n++] = (struct keyref){copy, line, cno};
}

/* Check data row r; a valid one becomes the next row of L->rows. */
static void load_row(struct load *L, struct ctl_row *r)
{
	const struct db_entity_desc *d = L->d;
	char *row = L->on_row ? L->one : L->rows + L->n * d->row_size, key[600];
	bool ok = true, read[MAX_COLS], id_ok = true;
	size_t set = 1;
	int id_at = -1;

	memset(row, 0, d->row_size);
	DB_FIELD(const char *, row, d->file_at) = L->file->path;
	DB_FIELD(unsigned, row, d->line_at) = r->line;
	for (size_t k = 0; k < d->n_cols; k++) {
		read[k] = false;
		if (d->cols[k].col_at)
			DB_FIELD(unsigned, row, d->cols[k].col_at) = colno(r, L, k);
		if ((d->cols[k].flags & DB_COL_REQUIRED) && !val(r, L, k))
			ok = error_at(L, r, k, "missing value for required column \"%s\"",
				      d->cols[k].name);
	}
	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		struct ctl_cell *ce = cell(r, L, k);
		const char *v = ce && ce->s ? ce->s : c->dflt;
		const struct ctl_value_at at = {L->errs, L->file->path, ce ? ce->line : r->line,
						colno(r, L, k), ce && ce->s ? ce : NULL};

		if (v)
			ok = (read[k] = ctl_value_read(L->e, c, v, &at, row)) && ok;
	}
	/* The identity is reported at its first column that is not a reference: the port of
	 * "switch port", the MAC of a binding. Unique values at their own column. */
	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		if (c->flags & DB_COL_ID) {
			id_ok &= read[k];
			if (c->kind != DB_K_REF && id_at < 0)
				id_at = (int)k;
		}
		if ((c->flags & DB_COL_UNIQUE) && read[k] && L->n_keysets)
			add_key(L, set, DB_FIELD(const char *, row, c->at), r->line, colno(r, L, k));
		set += (c->flags & DB_COL_UNIQUE) != 0;
	}
	if (id_ok && L->n_keysets)
		add_key(L, 0, ctl_row_key(L->e, row, key, sizeof(key)), r->line,
			colno(r, L, id_at < 0 ? 0 : (size_t)id_at));
	if (ok && row_checks[L->e])
		ok = row_checks[L->e](L, r, row);
	if (L->on_row) {
		if (ok || id_ok)
			L->on_row(L->ctx, row, ok, colno(r, L, id_at < 0 ? 0 : (size_t)id_at));
	} else if (ok)
		L->n++;
	else if (id_ok)
		memcpy(L->broken + L->n_broken++ * d->row_size, row, d->row_size);
}

/* Report keys that occur twice, naming the first line each was seen on. */
static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}
static void check_duplicates(struct keyset *set, const char *path, struct ctl_errors *errs)
{
	struct keyref *refs = set->refs;

	qsort(refs, set->n, sizeof(*refs), keyref_cmp);
	for (size_t i = 1, first = 0; i < set->n; i++) {
		if (strcmp(refs[first].key, refs[i].key) != 0) {
			first = i;
			continue;
		}
		ctl_error_at(errs, path, refs[i].line, refs[i].col,
			     "duplicate %s %s (first on line %u)", set->what, Q(refs[i].key),
			     refs[first].line);
	}
}

/* Every data row whose field count matches the header and whose cells all decoded; the
 * others are reported and skipped. Then the duplicates. */
static void load_data_row(struct load *L, struct ctl_row *r)
{
	size_t want = L->file->rows[0].n;
	bool bad = false;

	if (r->n != want) {
		ctl_error_at(L->errs, L->file->path, r->line,
			     (unsigned)(r->n < want ? r->n : want) + 1,
			     "row has %zu fields, the header has %zu%s", r->n, want,
			     r->n > want && !L->file->json
			     ? " (a value holding a comma must be in double quotes)" : "");
		return;
	}
	for (size_t j = 0; j < r->n; j++)
		bad |= r->cells[j].bad;
	if (!bad)
		load_row(L, r);
}

static void load_rows(struct load *L)
{
	for (size_t i = 1; i < L->file->n_rows; i++)
		load_data_row(L, &L->file->rows[i]);
	for (size_t i = 0; i < L->n_keysets; i++)
		check_duplicates(&L->keys[i], L->file->path, L->errs);
}

enum ctl_format ctl_format_of(const char *path, enum ctl_format forced)
{
	size_t n = strlen(path);

	if (forced != CTL_FORMAT_AUTO)
		return forced;
	return n >= 5 && strcasecmp(path + n - 5, ".json") == 0 ? CTL_FORMAT_JSON : CTL_FORMAT_CSV;
}

int ctl_format_parse(const char *s, enum ctl_format *out)
{
	if (strcmp(s, "csv") == 0)
		return *out = CTL_FORMAT_CSV, 0;
	if (strcmp(s, "json") == 0)
		return *out = CTL_FORMAT_JSON, 0;
	return -1;
}

int ctl_load(enum db_entity e, const char *path, enum ctl_format fmt, struct ctl_file *out,
	     struct ctl_errors *errs)
{
	struct load L = {.e = e, .d = &db_entities[e], .errs = errs};
	size_t before = errs->total;
	bool oom;

	memset(out, 0, sizeof(*out));
	if (L.d->n_cols > MAX_COLS)
		abort();
	L.file = ctl_format_of(path, fmt) == CTL_FORMAT_JSON ? ctl_json_read(path, errs)
							     : ctl_csv_read(path, errs);
	if (!L.file) {
		out->unread = true;
		return -1;
	}
	if (map_header(&L) < 0) {
		ctl_rows_free(L.file);
		out->unread = true;
		return -1;
	}
	L.rows = calloc(L.file->n_rows, L.d->row_size);
	L.broken = calloc(L.file->n_rows, L.d->row_size);
	oom = !L.rows || !L.broken;
	L.keys[L.n_keysets++].what = L.d->dup;
	for (size_t k = 0; k < L.d->n_cols; k++)
		if (L.d->cols[k].flags & DB_COL_UNIQUE)
			L.keys[L.n_keysets++].what = L.d->cols[k].name;
	for (size_t i = 0; i < L.n_keysets; i++)
		oom |= !(L.keys[i].refs = calloc(L.file->n_rows, sizeof(struct keyref)));
	if (oom)
		ctl_errors_add(errs, "%s: out of memory", path);
	else
		load_rows(&L);
	for (size_t i = 0; i < L.n_keysets; i++) {
		for (size_t j = 0; j < L.keys[i].n; j++)
			free(L.keys[i].refs[j].key);
		free(L.keys[i].refs);
	}
	*out = (struct ctl_file){L.file, L.rows, L.n, L.broken, L.n_broken, oom};
	return errs->total == before ? 0 : -1;
}

/* ctl_csv_each's rows: the header is kept (in L->file) and mapped, the others checked and
 * let go. */
static bool stream_row(void *ctx, struct ctl_row *r)
{
	struct load *L = ctx;

	if (L->file->n_rows == 0) {
		L->file->rows[L->file->n_rows++] = *r;
		L->header_ok = map_header(L) == 0;
		return true;
	}
	if (L->header_ok)
		load_data_row(L, r);
	return false;
}

int ctl_load_each(enum db_entity e, const char *path, enum ctl_format fmt,
		  struct ctl_errors *errs,
		  void (*on_row)(void *ctx, const void *row, bool ok, unsigned key_col), void *ctx,
		  bool *unread)
{
	struct load L = {.e = e, .d = &db_entities[e], .errs = errs, .on_row = on_row,
			 .ctx = ctx};
	size_t before = errs->total;

	*unread = false;
	if (L.d->n_cols > MAX_COLS)
		abort();
	if (!(L.one = malloc(L.d->row_size))) {
		ctl_errors_add(errs, "%s: out of memory", path);
		*unread = true;
		return -1;
	}
	if (ctl_format_of(path, fmt) == CTL_FORMAT_JSON) {
		/* jansson reads a whole document: JSON files are in memory whole (their rows
		 * still go to on_row one at a time). */
		if ((L.file = ctl_json_read(path, errs)) && (L.header_ok = map_header(&L) == 0))
			load_rows(&L);
	} else if ((L.file = calloc(1, sizeof(*L.file))) &&
		   (L.file->path = strdup(path)) &&
		   (L.file->rows = calloc(1, sizeof(*L.file->rows)))) {
		L.file->cap = 1;
		ctl_csv_each(path, errs, stream_row, &L);
	} else {
		ctl_errors_add(errs, "%s: out of memory", path);
	}
	*unread = !L.file || !L.header_ok;
	ctl_rows_free(L.file);
	free(L.one);
	return errs->total == before ? 0 : -1;
}

void ctl_file_free(struct ctl_file *f)
{
	if (!f)
		return;
	ctl_rows_free(f->cells);
	free(f->rows);
	free(f->broken);
	memset(f, 0, sizeof(*f));
}
