/* The kinds of wiremap values (enum db_kind) as lisctl reads and writes them. Private to
 * lisctl. */
#ifndef CTL_VALUES_H
#define CTL_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_rows.h"
#include "db.h"

/* Where the value being read is, for messages, and its cell, which gets the canonical
 * spelling (NULL when the value is the column's default). */
struct ctl_value_at {
	struct ctl_errors *errs;
	const char *path;
	unsigned line, col;
	struct ctl_cell *cell;
};

/* Check text s as column c of entity e says, and store it in row (text kinds point to the
 * cell, in canonical form). False after adding an error at `at`. */
bool ctl_value_read(enum db_entity e, const struct db_column *c, const char *s,
		    const struct ctl_value_at *at, void *row);
/* "true" or "false" (also upper case, yes/no, 1/0: what spreadsheets write); 0 or -1. */
int ctl_parse_bool(const char *s, bool *out);

#endif
