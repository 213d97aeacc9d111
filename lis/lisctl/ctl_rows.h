/* A wiremap file as rows of cells, whatever its format: ctl_csv.c reads CSV, ctl_json.c
 * JSON, and lisctl's loader (ctl_load.c) checks the cells of either the same way. Private
 * to lisctl. */
#ifndef CTL_ROWS_H
#define CTL_ROWS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"

struct ctl_cell {
	char *s;        /* NULL when the cell is empty (= absent) */
	unsigned line;  /* line the field starts on */
	bool bad;       /* already reported (bad encoding): check nothing more */
	unsigned col;   /* column for messages; 0: the field's number (CSV) */
};
struct ctl_row {
	unsigned line;
	size_t n;
	struct ctl_cell *cells;
};
struct ctl_rows {
	char *path;
	bool json;            /* read from JSON: cells carry their own columns */
	struct ctl_row *rows; /* rows[0] is the header */
	size_t n_rows, cap;
};
void ctl_row_free(struct ctl_row *r);
void ctl_rows_free(struct ctl_rows *rows);

/* The whole file in memory (NUL-terminated), or NULL after adding why to errs. */
char *ctl_read_file(const char *path, size_t *len, struct ctl_errors *errs);
/* False (and an error at line:col) when s[0..n) is not UTF-8 text a PIDF-LO can carry. */
bool ctl_check_text(struct ctl_errors *errs, const char *path, unsigned line, unsigned col,
		    const unsigned char *s, size_t n);

/* "PATH:LINE:COL: message" into errs; a row that came from no file is "(input)", and
 * column 0 (unknown) its first. */
void ctl_error_at(struct ctl_errors *e, const char *path, unsigned line, unsigned col,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void ctl_verror_at(struct ctl_errors *e, const char *path, unsigned line, unsigned col,
		   const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
#define Q(s) lis_quoted((char[96]){0}, 96, (s))

#endif
