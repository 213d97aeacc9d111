/* CSV in and out (RFC 4180): wiremap files read with libcsv into rows of cells (ctl_rows.h),
 * and the one writer that lisctl export and lisctl report use, with the formula rule that
 * reading undoes. Errors name PATH:LINE:COL, where LINE is the physical line a field starts
 * on (a quoted field may span lines) and COL the field's number. */
#include <csv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_csv.h"

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
	const char *path;
	struct ctl_errors *errs;
	bool (*on_row)(void *ctx, struct ctl_row *r);
	void *ctx;
	long n_rows;
	size_t header_n;     /* fields of the header: the cells a row is given to begin with */
	struct ctl_row cur;
	size_t cur_cap;
	unsigned line;       /* line of the byte being fed */
	unsigned field_line; /* line the current field started on */
	unsigned row_line;
	bool need_start, at_row_start, oom;
};

static bool check_text(struct parse *p, const unsigned char *s, size_t n, unsigned col)
{
	return ctl_check_text(p->errs, p->path, p->field_line, col, s, n);
}

static void on_field(void *data, size_t len, void *ctx)
{
	struct parse *p = ctx;
	struct ctl_cell cell = {NULL, p->field_line, false, 0};

	p->need_start = true;
	if (p->oom)
		return;
	if (p->cur.n == p->cur_cap) {
		/* as many cells as the header has, to begin with: a million rows of 16 cells
		 * where 5 are used cost 250 MB more (issue 10 point 7) */
		size_t first = p->header_n ? p->header_n : 16;
		size_t cap = p->cur_cap ? 2 * p->cur_cap : first;
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
	p->cur.line = p->row_line;
	if (p->cur.n && p->cur.n < p->cur_cap) {
		/* a row longer than the header grew by doubling: keep what it uses */
		struct ctl_cell *c = realloc(p->cur.cells, p->cur.n * sizeof(*c));
		if (c)
			p->cur.cells = c;
	}
	if (!p->n_rows++)
		p->header_n = p->cur.n;
	if (!p->on_row(p->ctx, &p->cur))
		ctl_row_free(&p->cur);
	p->cur = (struct ctl_row){0};
	p->cur_cap = 0;
}

/* Syntax errors (a stray quote, an unterminated quoted field) stop the parse: what follows
 * cannot be trusted. The file is read in blocks, and each row handed over as soon as it
 * ends, so that a large file never needs to be in memory whole (issue 10). */
long ctl_csv_each(const char *path, struct ctl_errors *errs,
		  bool (*row)(void *ctx, struct ctl_row *r), void *ctx)
{
	struct csv_parser cp;
	struct parse p = {.path = path, .errs = errs, .on_row = row, .ctx = ctx};
	const size_t size = 65536;
	size_t len, i = 0;
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	bool failed = false, first = true;

	if (!f) {
		ctl_errors_add(errs, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (!(buf = malloc(size)) ||
	    csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		ctl_errors_add(errs, "%s: out of memory", path);
		free(buf);
		fclose(f);
		return -1;
	}
	p.line = 1;
	p.need_start = p.at_row_start = true;
	while (!failed && !p.oom && (len = fread(buf, 1, size, f)) > 0) {
		i = 0;
		/* A UTF-8 byte order mark (as some spreadsheets write) is not part of the
		 * header. */
		if (first && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
			i = 3;
		first = false;
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
				       "malformed CSV: a quote may only open a field, close it, or "
				       "be doubled inside a quoted field");
				failed = true;
				break;
			}
			if (b == '\n')
				p.line++;
		}
	}
	if (!failed && ferror(f)) {
		ctl_errors_add(errs, "%s: cannot read: %s", path, strerror(errno));
		failed = true;
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
	fclose(f);
	if (failed)
		return -1;
	if (p.n_rows == 0) {
		ctl_error_at(errs, path, 1, 1, "empty file: the first row must name the columns");
		return -1;
	}
	return p.n_rows;
}

/* Keep every row. */
static bool keep_row(void *ctx, struct ctl_row *r)
{
	struct ctl_rows *csv = ctx;

	if (csv->n_rows == csv->cap) {
		size_t cap = csv->cap ? 2 * csv->cap : 64;
		struct ctl_row *rows = realloc(csv->rows, cap * sizeof(*rows));
		if (!rows)
			return false; /* seen as a row too few: ctl_csv_read() fails */
		csv->rows = rows;
		csv->cap = cap;
	}
	csv->rows[csv->n_rows++] = *r;
	return true;
}

struct ctl_rows *ctl_csv_read(const char *path, struct ctl_errors *errs)
{
	struct ctl_rows *csv = calloc(1, sizeof(*csv));
	long n;

	if (!csv || !(csv->path = strdup(path))) {
		ctl_errors_add(errs, "%s: out of memory", path);
		ctl_rows_free(csv);
		return NULL;
	}
	n = ctl_csv_each(path, errs, keep_row, csv);
	if (n >= 0 && (size_t)n != csv->n_rows) {
		ctl_errors_add(errs, "%s: out of memory", path);
		n = -1;
	}
	if (n < 0) {
		ctl_rows_free(csv);
		return NULL;
	}
	return csv;
}
