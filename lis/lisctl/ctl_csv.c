/* Wiremap CSV files (lis-wiremap(5)): parse with libcsv, then validate every row before
 * anything touches the database. Errors name PATH:LINE:COL, where LINE is the physical line
 * a field starts on (a quoted field may span lines) and COL the field's number. */
#include <arpa/inet.h>
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civic.h"
#include "ctl_csv.h"
#include "ctl_json.h"

/* ---- writing, and the formula rule reading undoes ---- */

/* A decimal number as written in wiremap files and reports (-87.63, 12, 1e-3): a
 * spreadsheet reads it as a number, not a formula, so it is left alone. */
static bool is_number(const char *s)
{
	size_t digits, n;

	s += *s == '+' || *s == '-';
	digits = strspn(s, "0123456789");
	s += digits;
	if (*s == '.') {
		n = strspn(++s, "0123456789");
		s += n;
		digits += n;
	}
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		s += *s == '+' || *s == '-';
		if (!(n = strspn(s, "0123456789")))
			return false;
		s += n;
	}
	return *s == '\0';
}

bool ctl_csv_is_formula(const char *s)
{
	/* Apostrophes first count as part of the defusing: "'=x" is written "''=x", so that
	 * reading takes exactly one off whatever the value was. */
	s += strspn(s, "'");
	return s[0] && strchr("=+-@\t\r", s[0]) && !is_number(s);
}

void ctl_csv_put(struct ctl_csv_out *o, const char *s)
{
	bool defuse, quote;
	size_t n;

	if (o->fields++)
		fputc(',', o->f);
	if (!s)
		return;
	n = strlen(s);
	defuse = ctl_csv_is_formula(s);
	/* RFC 4180 §2.6-2.7; white space at either end is quoted too, or readers trim it. */
	quote = defuse || strpbrk(s, ",\"\r\n") ||
		(n && (strchr(" \t", s[0]) || strchr(" \t", s[n - 1])));
	if (!quote) {
		fputs(s, o->f);
		return;
	}
	fputs(defuse ? "\"'" : "\"", o->f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', o->f);
		fputc(*s, o->f);
	}
	fputc('"', o->f);
}

void ctl_csv_end_row(struct ctl_csv_out *o)
{
	fputs(o->eol, o->f);
	o->fields = 0;
}

/* ---- parsing ---- */

struct parse {
	struct ctl_rows *csv;
	struct ctl_errors *errs;
	struct ctl_row cur;
	size_t cur_cap;
	unsigned line;       /* line of the byte being fed */
	unsigned field_line; /* line the current field started on */
	unsigned row_line;
	bool need_start, at_row_start, oom;
};

static bool check_text(struct parse *p, const unsigned char *s, size_t n, unsigned col)
{
	return ctl_check_text(p->errs, p->csv->path, p->field_line, col, s, n);
}

static void on_field(void *data, size_t len, void *ctx)
{
	struct parse *p = ctx;
	struct ctl_cell cell = {NULL, p->field_line, false, 0};

	p->need_start = true;
	if (p->oom)
		return;
	if (p->cur.n == p->cur_cap) {
		size_t cap = p->cur_cap ? 2 * p->cur_cap : 16;
		struct ctl_cell *c = realloc(p->cur.cells, cap * sizeof(*c));
		if (!c) {
			p->oom = true;
			return;
		}
		p->cur.cells = c;
		p->cur_cap = cap;
	}
	if (!check_text(p, data, len, (unsigned)p->cur.n + 1))
		cell.bad = true;
	else if (len > 0) {
		cell.s = malloc(len + 1);
		if (!cell.s) {
			p->oom = true;
			return;
		}
		memcpy(cell.s, data, len);
		cell.s[len] = '\0';
		/* What ctl_csv_put() defused reads back as it was before. */
		if (cell.s[0] == '\'' && ctl_csv_is_formula(cell.s))
			memmove(cell.s, cell.s + 1, len);
	}
	p->cur.cells[p->cur.n++] = cell;
}

static void on_row(int c, void *ctx)
{
	struct parse *p = ctx;

	(void)c;
	p->need_start = true;
	p->at_row_start = true;
	if (p->oom)
		return;
	if (p->csv->n_rows == p->csv->cap) {
		size_t cap = p->csv->cap ? 2 * p->csv->cap : 64;
		struct ctl_row *r = realloc(p->csv->rows, cap * sizeof(*r));
		if (!r) {
			p->oom = true;
			return;
		}
		p->csv->rows = r;
		p->csv->cap = cap;
	}
	p->cur.line = p->row_line;
	p->csv->rows[p->csv->n_rows++] = p->cur;
	p->cur = (struct ctl_row){0};
	p->cur_cap = 0;
}

/* Parse the whole file into rows of cells. Syntax errors (a stray quote, an unterminated
 * quoted field) stop the parse: what follows cannot be trusted. */
static struct ctl_rows *csv_load(const char *path, struct ctl_errors *errs)
{
	struct csv_parser cp;
	struct parse p = {0};
	size_t len, i = 0;
	char *buf = ctl_read_file(path, &len, errs);
	bool failed = false;

	if (!buf)
		return NULL;
	p.csv = calloc(1, sizeof(*p.csv));
	if (!p.csv || !(p.csv->path = strdup(path)) ||
	    csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		ctl_errors_add(errs, "%s: out of memory", path);
		free(buf);
		ctl_rows_free(p.csv);
		return NULL;
	}
	p.errs = errs;
	p.line = 1;
	p.need_start = p.at_row_start = true;
	/* A UTF-8 byte order mark (as some spreadsheets write) is not part of the header. */
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	/* One byte at a time, so that each field's starting line is known exactly. */
	for (; i < len && !p.oom; i++) {
		unsigned char b = (unsigned char)buf[i];
		if (p.need_start && !(p.at_row_start && (b == '\r' || b == '\n'))) {
			p.field_line = p.line;
			if (p.at_row_start)
				p.row_line = p.line;
			p.need_start = p.at_row_start = false;
		}
		if (csv_parse(&cp, buf + i, 1, on_field, on_row, &p) != 1) {
			ctl_error_at(errs, path, p.line, (unsigned)p.cur.n + 1,
			       "malformed CSV: a quote may only open a field, close it, or be "
			       "doubled inside a quoted field");
			failed = true;
			break;
		}
		if (b == '\n')
			p.line++;
	}
	if (!failed && !p.oom && csv_fini(&cp, on_field, on_row, &p) != 0) {
		ctl_error_at(errs, path, p.field_line, (unsigned)p.cur.n + 1,
		       "malformed CSV: quoted field not closed before the end of the file");
		failed = true;
	}
	if (p.oom) {
		ctl_errors_add(errs, "%s: out of memory", path);
		failed = true;
	}
	csv_free(&cp);
	ctl_row_free(&p.cur);
	free(buf);
	if (failed) {
		ctl_rows_free(p.csv);
		return NULL;
	}
	if (p.csv->n_rows == 0) {
		ctl_error_at(errs, path, 1, 1, "empty file: the first row must name the columns");
		ctl_rows_free(p.csv);
		return NULL;
	}
	return p.csv;
}

/* ---- columns ---- */

/* Map the header onto the known columns: at[k] = index of column k in the file, or -1.
 * Unknown, duplicate and missing required columns are errors at line 1. */
static int map_header(const struct ctl_rows *csv, const struct column *cols, size_t n_cols,
		      int *at, struct ctl_errors *errs)
{
	const struct ctl_row *h = &csv->rows[0];
	size_t before = errs->total;

	for (size_t k = 0; k < n_cols; k++)
		at[k] = -1;
	for (size_t i = 0; i < h->n; i++) {
		const struct ctl_cell *c = &h->cells[i];
		unsigned col = c->col ? c->col : (unsigned)i + 1;
		size_t k;

		if (c->bad)
			continue;
		if (!c->s) {
			ctl_error_at(errs, csv->path, c->line, col, "empty column name");
			continue;
		}
		for (k = 0; k < n_cols && strcmp(cols[k].name, c->s) != 0; k++)
			;
		if (k == n_cols) {
			for (k = 0; k < n_cols && strcasecmp(cols[k].name, c->s) != 0; k++)
				;
			if (k < n_cols)
				ctl_error_at(errs, csv->path, c->line, col,
				       "unknown column %s (did you mean \"%s\"? names are "
				       "case-sensitive)", Q(c->s), cols[k].name);
			else
				ctl_error_at(errs, csv->path, c->line, col, "unknown column %s",
				       Q(c->s));
			continue;
		}
		if (at[k] >= 0) {
			ctl_error_at(errs, csv->path, c->line, col,
			       "duplicate column %s (also column %d)", Q(c->s), at[k] + 1);
			continue;
		}
		at[k] = (int)i;
	}
	/* An empty JSON array names no keys, and needs none. */
	for (size_t k = 0; k < n_cols && !(csv->json && csv->n_rows == 1); k++)
		if (cols[k].required && at[k] < 0)
			ctl_error_at(errs, csv->path, 1, 1, "missing required column \"%s\"",
			       cols[k].name);
	return errs->total == before ? 0 : -1;
}

/* Rows whose field count matches the header and whose cells all decoded; others are
 * reported and skipped. Calls fn for each good data row. */
static void each_row(struct ctl_rows *csv, struct ctl_errors *errs,
		     void (*fn)(struct ctl_row *r, struct check *ck), struct check *ck)
{
	size_t want = csv->rows[0].n;

	for (size_t i = 1; i < csv->n_rows; i++) {
		struct ctl_row *r = &csv->rows[i];
		bool bad = false;

		if (r->n != want) {
			ctl_error_at(errs, csv->path, r->line, (unsigned)(r->n < want ? r->n : want) + 1,
			       "row has %zu fields, the header has %zu", r->n, want);
			continue;
		}
		for (size_t j = 0; j < r->n; j++)
			bad |= r->cells[j].bad;
		ck->cur = r;
		if (!bad)
			fn(r, ck);
		ck->cur = NULL;
	}
}

/* Value of a cell, or NULL when absent or empty. */
static const char *val(const struct ctl_cell *c)
{
	return c ? c->s : NULL;
}

struct ctl_cell *ctl_csv_cell(struct ctl_row *r, const struct check *ck, size_t k)
{
	return ck->at[k] < 0 ? NULL : &r->cells[ck->at[k]];
}

unsigned ctl_csv_col(const struct check *ck, size_t k)
{
	if (ck->at[k] < 0)
		return 0;
	if (ck->cur && ck->cur->cells[ck->at[k]].col)
		return ck->cur->cells[ck->at[k]].col;
	return (unsigned)ck->at[k] + 1;
}

const char *ctl_csv_val(struct ctl_row *r, const struct check *ck, size_t k)
{
	struct ctl_cell *c = ctl_csv_cell(r, ck, k);
	return c ? c->s : NULL;
}

void *ctl_csv_push(struct check *ck)
{
	void *slot = ck->rows + ck->n++ * ck->row_size;

	memset(slot, 0, ck->row_size);
	return slot;
}

bool ctl_csv_require(struct check *ck, struct ctl_row *r, size_t k, const char *name)
{
	struct ctl_cell *c = ctl_csv_cell(r, ck, k);
	if (c && c->s)
		return true;
	ctl_error_at(ck->errs, ck->csv->path, c ? c->line : r->line,
		      c ? ctl_csv_col(ck, k) : 1, "missing value for required column \"%s\"",
		      name);
	return false;
}

bool ctl_csv_check_key(struct check *ck, struct ctl_row *r, size_t k, const char *what)
{
	struct ctl_cell *c = ctl_csv_cell(r, ck, k);

	if (strpbrk(c->s, " \t\r\n")) {
		ctl_error_at(ck->errs, ck->csv->path, c->line, ctl_csv_col(ck, k),
			      "%s key %s contains white space", what, Q(c->s));
		return false;
	}
	return true;
}

void ctl_csv_add_key(struct check *ck, size_t set, struct ctl_row *r, size_t k, const char *fmt,
		     ...)
{
	struct keyset *ks = &ck->keys[set];
	char *key;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&key, fmt, ap);
	va_end(ap);
	if (n < 0) {
		ctl_errors_add(ck->errs, "%s: out of memory", ck->csv->path);
		return;
	}
	ks->refs[ks->n++] = (struct keyref){key, r->line, ctl_csv_col(ck, k)};
}

bool ctl_csv_set(struct check *ck, struct ctl_cell *c, const char *canon)
{
	char *copy;

	if (strcmp(canon, c->s) == 0)
		return true;
	copy = strdup(canon);
	if (!copy) {
		ctl_errors_add(ck->errs, "%s: out of memory", ck->csv->path);
		return false;
	}
	free(c->s);
	c->s = copy;
	return true;
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

int ctl_csv_load_file(const char *path, enum ctl_format fmt, const struct column *cols,
		      size_t n_cols, const char *const *key_whats, size_t row_size,
		      void (*fn)(struct ctl_row *r, struct check *ck), struct ctl_rows **csv,
		      void **rows, size_t *n, struct ctl_errors *errs)
{
	int at[64];
	size_t before = errs->total, n_sets = 0;
	struct check ck = {.errs = errs, .at = at, .row_size = row_size};
	bool oom = false;

	*csv = NULL;
	*rows = NULL;
	*n = 0;
	if (n_cols > sizeof(at) / sizeof(at[0]))
		abort();
	ck.csv = ctl_format_of(path, fmt) == CTL_FORMAT_JSON ? ctl_json_read(path, errs)
							     : csv_load(path, errs);
	if (!ck.csv)
		return -1;
	if (map_header(ck.csv, cols, n_cols, at, errs) < 0)
		goto fail;
	ck.rows = calloc(ck.csv->n_rows, row_size);
	oom = !ck.rows;
	for (; key_whats[n_sets] && n_sets < CTL_KEYSETS_MAX; n_sets++) {
		ck.keys[n_sets].what = key_whats[n_sets];
		ck.keys[n_sets].refs = calloc(ck.csv->n_rows, sizeof(struct keyref));
		oom |= !ck.keys[n_sets].refs;
	}
	if (oom) {
		ctl_errors_add(errs, "%s: out of memory", path);
	} else {
		each_row(ck.csv, errs, fn, &ck);
		for (size_t i = 0; i < n_sets; i++)
			check_duplicates(&ck.keys[i], path, errs);
	}
	for (size_t i = 0; i < n_sets; i++) {
		for (size_t j = 0; j < ck.keys[i].n; j++)
			free(ck.keys[i].refs[j].key);
		free(ck.keys[i].refs);
	}
	if (errs->total == before) {
		*csv = ck.csv;
		*rows = ck.rows;
		*n = ck.n;
		return 0;
	}
fail:
	free(ck.rows);
	ctl_rows_free(ck.csv);
	return -1;
}

int ctl_csv_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* ---- sites.csv ---- */

enum { S_SITE, S_NAME, S_DESCRIPTION, S_DEFAULT_LOCATION, S_ALLOW_DEFAULT, S_N };
static const struct column site_columns[S_N] = {
	[S_SITE] = {"site", true}, [S_NAME] = {"name", true},
	[S_DESCRIPTION] = {"description", false},
	[S_DEFAULT_LOCATION] = {"default_location", false},
	[S_ALLOW_DEFAULT] = {"allow_default", false},
};

static void sites_row(struct ctl_row *r, struct check *ck)
{
	const char *allow = ctl_csv_val(r, ck, S_ALLOW_DEFAULT);
	const char *def = ctl_csv_val(r, ck, S_DEFAULT_LOCATION);
	bool ok = ctl_csv_require(ck, r, S_SITE, "site"), allow_default = false;

	if (ok)
		ctl_csv_add_key(ck, 0, r, S_SITE, "%s", ctl_csv_val(r, ck, S_SITE));
	ok = ctl_csv_require(ck, r, S_NAME, "name") && ok;
	if (!ok || !ctl_csv_check_key(ck, r, S_SITE, "site"))
		return;
	if (def && !ctl_csv_check_key(ck, r, S_DEFAULT_LOCATION, "location"))
		ok = false;
	if (allow && ctl_csv_parse_bool(allow, &allow_default) < 0) {
		ctl_error_at(ck->errs, ck->csv->path, ctl_csv_cell(r, ck, S_ALLOW_DEFAULT)->line,
			      ctl_csv_col(ck, S_ALLOW_DEFAULT), "%s is not true or false",
			      Q(allow));
		ok = false;
	} else if (allow_default && !def) {
		ctl_error_at(ck->errs, ck->csv->path, ctl_csv_cell(r, ck, S_ALLOW_DEFAULT)->line,
			      ctl_csv_col(ck, S_ALLOW_DEFAULT),
			      "allow_default is true but the site has no default_location");
		ok = false;
	}
	if (!ok)
		return;
	*(struct db_site_row *)ctl_csv_push(ck) = (struct db_site_row){
		.key = ctl_csv_val(r, ck, S_SITE),
		.name = ctl_csv_val(r, ck, S_NAME),
		.description = ctl_csv_val(r, ck, S_DESCRIPTION),
		.default_location_key = def,
		.allow_default = allow_default,
		.file = ck->csv->path,
		.line = r->line,
		.ref_col = ctl_csv_col(ck, S_DEFAULT_LOCATION),
	};
}

CTL_CSV_LOADER(sites, ctl_sites, site_columns, S_N, "site")

/* ---- locations.csv ---- */

enum {
	L_LOCATION, L_SITE, L_LANG, L_CIVIC,
	L_LATITUDE = L_CIVIC + CIVIC_N_FIELDS, L_LONGITUDE, L_ALTITUDE, L_UNCERTAINTY, L_N
};

/* The columns, built once: the civic ones are named by proto/civic.h. */
static const struct column *location_cols(void)
{
	static struct column cols[L_N];

	if (cols[0].name)
		return cols;
	cols[L_LOCATION] = (struct column){"location", true};
	cols[L_SITE] = (struct column){"site", true};
	cols[L_LANG] = (struct column){"lang", false};
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		cols[L_CIVIC + f] = (struct column){civic_field_name((enum civic_field)f), false};
	cols[L_LATITUDE] = (struct column){"latitude", false};
	cols[L_LONGITUDE] = (struct column){"longitude", false};
	cols[L_ALTITUDE] = (struct column){"altitude", false};
	cols[L_UNCERTAINTY] = (struct column){"uncertainty", false};
	return cols;
}

/* A decimal number, written out in full: no "inf", "nan", hex, or stray characters. */
static bool parse_number(const char *s, double *out)
{
	char *end;

	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return *end == '\0' && errno == 0 && isfinite(*out);
}

/* BCP 47 shape (RFC 5646 §2.1), loosely: letters first, then "-" separated alphanumerics. */
static bool is_language_tag(const char *s)
{
	size_t run = 0;
	bool first = true;

	for (; *s; s++) {
		if (*s == '-') {
			if (run == 0)
				return false;
			run = 0;
			first = false;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (!first && *s >= '0' && *s <= '9')) {
			if (++run > 8)
				return false;
		} else {
			return false;
		}
	}
	return run > 0;
}


static bool number_in(struct check *ck, struct ctl_row *r, size_t k, double lo, double hi,
		      const char *what, double *v)
{
	struct ctl_cell *c = ctl_csv_cell(r, ck, k);

	if (parse_number(c->s, v) && *v >= lo && *v <= hi)
		return true;
	ctl_error_at(ck->errs, ck->csv->path, c->line, ctl_csv_col(ck, k), "%s is not %s", Q(c->s),
	       what);
	return false;
}

static void locations_row(struct ctl_row *r, struct check *ck)
{
	const char *path = ck->csv->path;
	struct db_location_row row = {.file = path, .line = r->line,
				      .ref_col = ctl_csv_col(ck, L_SITE),
				      .key_col = ctl_csv_col(ck, L_LOCATION)};
	struct ctl_cell *lat = ctl_csv_cell(r, ck, L_LATITUDE), *lon = ctl_csv_cell(r, ck, L_LONGITUDE);
	struct ctl_cell *alt = ctl_csv_cell(r, ck, L_ALTITUDE), *unc = ctl_csv_cell(r, ck, L_UNCERTAINTY);
	struct ctl_cell *country = ctl_csv_cell(r, ck, L_CIVIC + CIVIC_COUNTRY);
	struct ctl_cell *lang = ctl_csv_cell(r, ck, L_LANG);
	bool ok = ctl_csv_require(ck, r, L_LOCATION, "location");

	if (ok)
		ctl_csv_add_key(ck, 0, r, L_LOCATION, "%s", ctl_csv_val(r, ck, L_LOCATION));
	ok = ctl_csv_require(ck, r, L_SITE, "site") && ok;
	if (!ok)
		return;
	ok = ctl_csv_check_key(ck, r, L_LOCATION, "location");
	ok = ctl_csv_check_key(ck, r, L_SITE, "site") && ok;
	row.key = val(ctl_csv_cell(r, ck, L_LOCATION));
	row.site_key = val(ctl_csv_cell(r, ck, L_SITE));
	row.lang = val(lang);
	if (row.lang && !is_language_tag(row.lang)) {
		ctl_error_at(ck->errs, path, lang->line, ctl_csv_col(ck, L_LANG),
		       "%s is not a language tag (e.g. en-US)", Q(row.lang));
		ok = false;
	}
	for (int f = 0; f < CIVIC_N_FIELDS; f++) {
		row.civic[f] = val(ctl_csv_cell(r, ck, L_CIVIC + (size_t)f));
		row.civic_col[f] = ctl_csv_col(ck, L_CIVIC + (size_t)f);
	}
	/* RFC 5139 §3.1: country is the ISO 3166 alpha-2 code, upper case. */
	if (row.civic[CIVIC_COUNTRY]) {
		const char *s = row.civic[CIVIC_COUNTRY];
		if (!(strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z')) {
			ctl_error_at(ck->errs, path, country->line, ctl_csv_col(ck, L_CIVIC),
			       "%s is not a country code (two upper-case letters, ISO 3166 "
			       "alpha-2, e.g. US)", Q(s));
			ok = false;
		}
	}
	if (val(lat) && !number_in(ck, r, L_LATITUDE, -90, 90,
				   "a latitude (decimal degrees, -90 to 90)", &row.lat))
		ok = false;
	if (val(lon) && !number_in(ck, r, L_LONGITUDE, -180, 180,
				   "a longitude (decimal degrees, -180 to 180)", &row.lon))
		ok = false;
	if (val(lat) && !val(lon)) {
		ctl_error_at(ck->errs, path, lat->line, ctl_csv_col(ck, L_LATITUDE),
		       "latitude without longitude (give both or neither)");
		ok = false;
	} else if (val(lon) && !val(lat)) {
		ctl_error_at(ck->errs, path, lon->line, ctl_csv_col(ck, L_LONGITUDE),
		       "longitude without latitude (give both or neither)");
		ok = false;
	}
	row.has_geo = val(lat) && val(lon);
	if (val(alt)) {
		row.has_alt = true;
		if (!number_in(ck, r, L_ALTITUDE, -HUGE_VAL, HUGE_VAL, "an altitude (metres)",
			       &row.alt)) {
			ok = false;
		} else if (!val(lat) && !val(lon)) {
			ctl_error_at(ck->errs, path, alt->line, ctl_csv_col(ck, L_ALTITUDE),
			       "altitude without latitude and longitude");
			ok = false;
		}
	}
	if (val(unc)) {
		if (!parse_number(unc->s, &row.uncertainty) || row.uncertainty <= 0) {
			ctl_error_at(ck->errs, path, unc->line, ctl_csv_col(ck, L_UNCERTAINTY),
			       "%s is not an uncertainty (metres, greater than 0; leave empty "
			       "when unknown)", Q(unc->s));
			ok = false;
		} else if (!val(lat) && !val(lon)) {
			ctl_error_at(ck->errs, path, unc->line, ctl_csv_col(ck, L_UNCERTAINTY),
			       "uncertainty without latitude and longitude");
			ok = false;
		}
	}
	if (!row.civic[CIVIC_COUNTRY] && !val(lat) && !val(lon)) {
		ctl_error_at(ck->errs, path, r->line, ctl_csv_col(ck, L_LOCATION),
		       "location %s has neither a country nor latitude and longitude",
		       Q(row.key));
		ok = false;
	}
	if (ok)
		*(struct db_location_row *)ctl_csv_push(ck) = row;
}

CTL_CSV_LOADER(locations, ctl_locations, location_cols(), L_N, "location")

/* ---- subnets.csv ---- */

enum { N_PREFIX, N_LOCATION, N_DESCRIPTION, N_N };
static const struct column subnet_columns[N_N] = {
	[N_PREFIX] = {"prefix", true}, [N_LOCATION] = {"location", true},
	[N_DESCRIPTION] = {"description", false},
};

enum cidr_result { CIDR_OK, CIDR_BAD, CIDR_NO_LENGTH, CIDR_HOST_BITS };

/* Parse "address/length" strictly (inet_pton forms only). canon gets the network in
 * canonical text; on CIDR_HOST_BITS it is the prefix with host bits cleared. */
static enum cidr_result parse_cidr(const char *s, char *canon, size_t size)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	int af, bits;
	size_t alen, nbytes;
	unsigned long len;
	bool host = false;
	char *end;

	if (!slash) {
		if (strlen(s) < sizeof(addr) &&
		    (inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1))
			return CIDR_NO_LENGTH;
		return CIDR_BAD;
	}
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(addr))
		return CIDR_BAD;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1)
		af = AF_INET, bits = 32;
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		af = AF_INET6, bits = 128;
	else
		return CIDR_BAD;
	if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
		return CIDR_BAD;
	len = strtoul(slash + 1, &end, 10);
	if (*end || len > (unsigned long)bits)
		return CIDR_BAD;
	nbytes = (size_t)bits / 8;
	for (size_t i = 0; i < nbytes; i++) {
		unsigned keep = i * 8 >= len ? 0 : (len - i * 8 >= 8 ? 8 : (unsigned)(len - i * 8));
		unsigned char mask = (unsigned char)(keep ? 0xFF << (8 - keep) : 0);
		if (bin[i] & ~mask)
			host = true;
		bin[i] &= mask;
	}
	inet_ntop(af, bin, addr, sizeof(addr));
	snprintf(canon, size, "%s/%lu", addr, len);
	return host ? CIDR_HOST_BITS : CIDR_OK;
}


static void subnets_row(struct ctl_row *r, struct check *ck)
{
	struct ctl_cell *p = ctl_csv_cell(r, ck, N_PREFIX);
	unsigned pcol = ctl_csv_col(ck, N_PREFIX);
	char canon[INET6_ADDRSTRLEN + 8];
	bool ok = ctl_csv_require(ck, r, N_PREFIX, "prefix");

	ok = ctl_csv_require(ck, r, N_LOCATION, "location") && ok;
	ok = ok && ctl_csv_check_key(ck, r, N_LOCATION, "location");
	if (!p->s)
		return;
	switch (parse_cidr(p->s, canon, sizeof(canon))) {
	case CIDR_OK:
		break;
	case CIDR_NO_LENGTH:
		ctl_error_at(ck->errs, ck->csv->path, p->line, pcol,
		       "%s is not a CIDR prefix (write %s/%d for this one address)", Q(p->s),
		       p->s, strchr(p->s, ':') ? 128 : 32);
		return;
	case CIDR_HOST_BITS:
		ctl_error_at(ck->errs, ck->csv->path, p->line, pcol,
		       "%s has host bits set (did you mean %s?)", Q(p->s), canon);
		return;
	case CIDR_BAD:
		ctl_error_at(ck->errs, ck->csv->path, p->line, pcol, "%s is not a CIDR prefix",
		       Q(p->s));
		return;
	}
	/* Store the canonical form so that 2001:DB8::/32 and 2001:db8::/32 are one key. */
	if (!ctl_csv_set(ck, p, canon))
		return;
	ctl_csv_add_key(ck, 0, r, N_PREFIX, "%s", p->s);
	if (!ok)
		return;
	*(struct db_subnet_row *)ctl_csv_push(ck) = (struct db_subnet_row){
		.prefix = p->s,
		.location_key = val(ctl_csv_cell(r, ck, N_LOCATION)),
		.description = val(ctl_csv_cell(r, ck, N_DESCRIPTION)),
		.file = ck->csv->path,
		.line = r->line,
		.ref_col = ctl_csv_col(ck, N_LOCATION),
		.prefix_col = pcol,
	};
}

CTL_CSV_LOADER(subnets, ctl_subnets, subnet_columns, N_N, "subnet")
