/* What the CSV and JSON wiremap file targets share (fuzz_csv_import.c, fuzz_json_import.c):
 * the input's first byte chooses the entity (sites, locations, ... lisctl import --sites,
 * --locations, ...), the rest is the file. lisctl reads it as an operator's file, through a
 * memfd, with ctl_load(): the reader, the header and every per-row check; a file found
 * valid then goes through the cross-file checks (ctl_check_wiremap(), against an empty
 * database). Nothing touches PostgreSQL. Besides not crashing: the verdict and the error
 * list agree, and every row of a valid file has a key. */
#ifndef FUZZ_IMPORT_H
#define FUZZ_IMPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_rows.h"
#include "db_entity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void errors_check(const struct ctl_errors *e)
{
	if (e->n != (e->total < CTL_ERRORS_MAX ? e->total : CTL_ERRORS_MAX))
		abort();
	for (size_t i = 0; i < e->n; i++)
		if (strnlen(e->msg[i], sizeof e->msg[i]) == sizeof e->msg[i] || !e->msg[i][0])
			abort();
}

static void fuzz_import(const uint8_t *data, size_t size, enum ctl_format fmt)
{
	static int fd = -1;
	static char path[64];
	static struct ctl_errors errs, warns;
	if (fd < 0) {
		fd = memfd_create("wiremap", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (size == 0)
		return;
	enum db_entity e = (enum db_entity)(data[0] % DB_ENTITY_N);
	if (ftruncate(fd, 0) < 0 ||
	    (size > 1 && pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1)))
		abort();

	struct ctl_file out;
	memset(&errs, 0, sizeof errs);
	int rc = ctl_load(e, path, fmt, &out, &errs);
	errors_check(&errs);
	if ((rc == 0) != (errs.total == 0) || (out.unread && (out.n || out.n_broken)))
		abort();
	/* A file with errors keeps its rows, valid and broken, for the checks across files. */
	if (!out.unread) {
		struct db_import_set files = { 0 }, db = { 0 };
		char key[512];
		if (!out.cells || (out.n > 0 && out.n >= out.cells->n_rows))
			abort();
		for (size_t i = 0; i < out.n; i++) {
			const char *row = (const char *)out.rows + i * db_entities[e].row_size;
			if (!ctl_row_key(e, row, key, sizeof key) || strnlen(key, sizeof key) ==
			    sizeof key)
				abort();
		}
		struct db_import_set broken = { 0 };
		files.of[e] = (struct db_rows){ out.rows, out.n };
		broken.of[e] = (struct db_rows){ out.broken, out.n_broken };
		memset(&errs, 0, sizeof errs);
		memset(&warns, 0, sizeof warns);
		const struct ctl_check_in in = { &files, &broken, 0, &db, NULL };
		ctl_check_wiremap(&in, &errs, &warns);
		errors_check(&errs);
		errors_check(&warns);
	}
	ctl_file_free(&out);
}

#endif
