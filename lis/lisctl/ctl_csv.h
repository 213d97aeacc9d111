/* Private to lisctl's CSV loaders (ctl_csv.c, ctl_csv_network.c): parsed cells, the header
 * map, and the checks every wiremap file shares. */
#ifndef CTL_CSV_H
#define CTL_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"

struct cell {
	char *s;        /* NULL when the cell is empty (= absent) */
	unsigned line;  /* line the field starts on */
	bool bad;       /* already reported (bad encoding): check nothing more */
	unsigned col;   /* column for messages; 0: the field's number (CSV) */
};
struct row {
	unsigned line;
	size_t n;
	struct cell *cells;
};
struct ctl_csv {
	char *path;
	bool json;        /* read from JSON (ctl_json.c): cells carry their own columns */
	struct row *rows; /* rows[0] is the header */
	size_t n_rows, cap;
};

struct column {
	const char *name;
	bool required;
};

/* A key seen on a row, for the duplicate check (which also covers rows with other errors).
 * Composite keys (switch and port, ...) join their parts with spaces. */
struct keyref {
	char *key;
	unsigned line, col;
};
struct keyset {
	const char *what;    /* "site", "chassis_id", ...: names the key in messages */
	struct keyref *refs; /* one per data row at most */
	size_t n;
};
#define CTL_KEYSETS_MAX 4

/* The state of one file's validation, handed to its row function. */
struct check {
	struct ctl_csv *csv;
	struct ctl_errors *errs;
	struct row *cur;     /* the row being checked */
	const int *at;       /* at[k]: index in the file of known column k, or -1 */
	struct keyset keys[CTL_KEYSETS_MAX];
	char *rows;          /* the valid rows, row_size bytes each */
	size_t row_size, n;
};

/* "PATH:LINE:COL: message" into errs. */
void ctl_csv_error(struct ctl_errors *e, const char *path, unsigned line, unsigned col,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A value as it appears in a message: double-quoted, escaped, cut after about 60 bytes. */
const char *ctl_csv_quoted(char *buf, size_t size, const char *s);
#define Q(s) ctl_csv_quoted((char[96]){0}, 96, (s))

/* Parse path, map its header onto cols, call fn for each well-formed data row, then report
 * the duplicates in each keyset named by key_whats (NULL-terminated, in the order the row
 * function fills ck->keys). Returns 0 with *csv, *rows, *n set when no error was found;
 * else -1 with them empty. */
int ctl_csv_load_file(const char *path, enum ctl_format fmt, const struct column *cols,
		      size_t n_cols,
		      const char *const *key_whats, size_t row_size,
		      void (*fn)(struct row *r, struct check *ck), struct ctl_csv **csv,
		      void **rows, size_t *n, struct ctl_errors *errs);
void ctl_csv_free(struct ctl_csv *csv);

/* The whole file in memory (NUL-terminated), or NULL after adding why to errs. */
char *ctl_csv_read_file(const char *path, size_t *len, struct ctl_errors *errs);
/* False (and an error at line:col) when s[0..n) is not UTF-8 text a PIDF-LO can carry. */
bool ctl_csv_check_text(struct ctl_errors *errs, const char *path, unsigned line,
			unsigned col, const unsigned char *s, size_t n);
/* A JSON wiremap file (an array of objects whose keys are the CSV columns) as the rows and
 * cells a CSV file gives: the header lists every key in order of first use; each cell
 * carries the line and column of its key (of its object when the key is absent). */
struct ctl_csv *ctl_json_load(const char *path, struct ctl_errors *errs);

/* The cell of known column k in row r (NULL when the file lacks the column), its column
 * in ck->cur for messages (0 when absent), and its value (NULL when absent or empty). */
struct cell *ctl_csv_cell(struct row *r, const struct check *ck, size_t k);
unsigned ctl_csv_col(const struct check *ck, size_t k);
const char *ctl_csv_val(struct row *r, const struct check *ck, size_t k);
/* The next slot of ck->rows, zeroed. */
void *ctl_csv_push(struct check *ck);

/* Error unless column k has a value. */
bool ctl_csv_require(struct check *ck, struct row *r, size_t k, const char *name);
/* Error if column k's value holds white space (keys appear in logs as key=value). */
bool ctl_csv_check_key(struct check *ck, struct row *r, size_t k, const char *what);
/* Remember row r's key for keyset `set` (the row function's order of key_whats), reported
 * at column k. */
void ctl_csv_add_key(struct check *ck, size_t set, struct row *r, size_t k, const char *fmt,
		     ...) __attribute__((format(printf, 5, 6)));
/* Replace a cell's value with its canonical form. False (and an error) when out of memory. */
bool ctl_csv_set(struct check *ck, struct cell *c, const char *canon);
/* "true" or "false" (also upper case, yes/no, 1/0: what spreadsheets write); 0 or -1. */
int ctl_csv_parse_bool(const char *s, bool *out);

/* ctl_load_NAME() and ctl_NAME_free() of a loader whose row function is NAME_row; the
 * variable arguments name its keysets. */
#define CTL_CSV_LOADER(name, type, cols, n_cols, ...)                                       \
	int ctl_load_##name(const char *path, struct type *out, struct ctl_errors *errs)   \
	{                                                                                  \
		return ctl_load_##name##_as(path, CTL_FORMAT_AUTO, out, errs);             \
	}                                                                                  \
	int ctl_load_##name##_as(const char *path, enum ctl_format fmt, struct type *out,  \
				 struct ctl_errors *errs)                                  \
	{                                                                                  \
		void *rows;                                                                \
		int rc = ctl_csv_load_file(path, fmt, cols, n_cols,                        \
					   (const char *const[]){__VA_ARGS__, NULL},       \
					   sizeof(*out->rows), name##_row, &out->csv, &rows, \
					   &out->n, errs);                                 \
		out->rows = rows;                                                          \
		return rc;                                                                 \
	}                                                                                  \
	void ctl_##name##_free(struct type *x)                                             \
	{                                                                                  \
		if (!x)                                                                    \
			return;                                                            \
		ctl_csv_free(x->csv);                                                      \
		free(x->rows);                                                             \
		memset(x, 0, sizeof(*x));                                                  \
	}

#endif
