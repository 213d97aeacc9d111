/* CSV in and out (RFC 4180). Private to lisctl. */
#ifndef CTL_CSV_H
#define CTL_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl_rows.h"

/* A CSV wiremap file as rows of cells; NULL after adding to errs what is wrong. A leading
 * byte order mark is skipped, and the apostrophe ctl_csv_put adds to a formula-looking cell
 * is taken off again. */
struct ctl_rows *ctl_csv_read(const char *path, struct ctl_errors *errs);
/* The same, a row at a time without keeping the file: on_row gets each row (the header
 * first) as soon as it is read, and either keeps it (returns true; ctl_row_free it later)
 * or leaves it to be freed. Returns the number of rows, or -1 after adding to errs what is
 * wrong (rows before a syntax error have been handed over). */
long ctl_csv_each(const char *path, struct ctl_errors *errs,
		  bool (*on_row)(void *ctx, struct ctl_row *r), void *ctx);

/* The one CSV writer, for lisctl export and lisctl report: a field is quoted when it holds
 * a comma, a double quote or a line break, or starts or ends with a space or a tab (readers
 * trim those), and a quote inside is doubled. A field a spreadsheet would run as a formula
 * (ctl_csv_is_formula) is written quoted with a leading apostrophe (OWASP, "CSV
 * injection"): wiremap and report cells hold text that others chose (a description, a
 * requester's SIP URI). ctl_csv_read removes that apostrophe again, so that an export
 * imports as it was. */
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

#endif
