/* Private to lisctl's loaders (ctl_csv.c, ctl_csv_network.c): the header map and the
 * checks every wiremap file shares. */
#ifndef CTL_CSV_H
#define CTL_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl_rows.h"

/* The one CSV writer, for lisctl export and lisctl report (RFC 4180): a field is quoted
 * when it holds a comma, a double quote or a line break, or starts or ends with a space or
 * a tab (readers trim those), and a quote inside is doubled. A field a spreadsheet would
 * run as a formula (ctl_csv_is_formula) is written quoted with a leading apostrophe
 * (OWASP, "CSV injection"): wiremap and report cells hold text that others chose (a
 * description, a requester's SIP URI). Reading a CSV file removes that apostrophe again,
 * so that an export imports as it was. */
struct ctl_csv_out {
	FILE *f;
	const char *eol;     /* "\n" for wiremap files, "\r\n" for reports (RFC 4180 §2.1) */
	size_t fields;       /* in the row so far */
};
/* The next field of the row; NULL is an empty one. */
void ctl_csv_put(struct ctl_csv_out *o, const char *s);
void ctl_csv_end_row(struct ctl_csv_out *o);
/* True when s, apostrophes first aside, starts with =, +, -, @, a tab or a CR and is not
 * a number (-87.63 stays as it is). */
bool ctl_csv_is_formula(const char *s);

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
	struct ctl_rows *csv;
	struct ctl_errors *errs;
	struct ctl_row *cur;     /* the row being checked */
	const int *at;       /* at[k]: index in the file of known column k, or -1 */
	struct keyset keys[CTL_KEYSETS_MAX];
	char *rows;          /* the valid rows, row_size bytes each */
	size_t row_size, n;
};

/* Parse path, map its header onto cols, call fn for each well-formed data row, then report
 * the duplicates in each keyset named by key_whats (NULL-terminated, in the order the row
 * function fills ck->keys). Returns 0 with *csv, *rows, *n set when no error was found;
 * else -1 with them empty. */
int ctl_csv_load_file(const char *path, enum ctl_format fmt, const struct column *cols,
		      size_t n_cols,
		      const char *const *key_whats, size_t row_size,
		      void (*fn)(struct ctl_row *r, struct check *ck), struct ctl_rows **csv,
		      void **rows, size_t *n, struct ctl_errors *errs);
/* The cell of known column k in row r (NULL when the file lacks the column), its column
 * in ck->cur for messages (0 when absent), and its value (NULL when absent or empty). */
struct ctl_cell *ctl_csv_cell(struct ctl_row *r, const struct check *ck, size_t k);
unsigned ctl_csv_col(const struct check *ck, size_t k);
const char *ctl_csv_val(struct ctl_row *r, const struct check *ck, size_t k);
/* The next slot of ck->rows, zeroed. */
void *ctl_csv_push(struct check *ck);

/* Error unless column k has a value. */
bool ctl_csv_require(struct check *ck, struct ctl_row *r, size_t k, const char *name);
/* Error if column k's value holds white space (keys appear in logs as key=value). */
bool ctl_csv_check_key(struct check *ck, struct ctl_row *r, size_t k, const char *what);
/* Remember row r's key for keyset `set` (the row function's order of key_whats), reported
 * at column k. */
void ctl_csv_add_key(struct check *ck, size_t set, struct ctl_row *r, size_t k, const char *fmt,
		     ...) __attribute__((format(printf, 5, 6)));
/* Replace a cell's value with its canonical form. False (and an error) when out of memory. */
bool ctl_csv_set(struct check *ck, struct ctl_cell *c, const char *canon);
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
		ctl_rows_free(x->csv);                                                      \
		free(x->rows);                                                             \
		memset(x, 0, sizeof(*x));                                                  \
	}

#endif
