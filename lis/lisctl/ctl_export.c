/* `lisctl export`: the wiremap as stored, written back as the files `lisctl import` reads
 * (lis-wiremap(5)), CSV or JSON, one file per entity, every column, rows in key order, so
 * that importing an export changes nothing and exporting again gives the same bytes. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl.h"
#include "ctl_csv.h"

/* One file being written. */
struct out {
	FILE *f;
	bool json;
	const struct db_entity_desc *d;
	size_t rows;
	struct ctl_csv_out csv;
};

static void out_begin(struct out *o)
{
	if (o->json) {
		fputs("[", o->f);
		return;
	}
	for (size_t k = 0; k < o->d->n_cols; k++)
		ctl_csv_put(&o->csv, o->d->cols[k].name);
	ctl_csv_end_row(&o->csv);
}

/* Every column of row r: an empty cell (CSV) or no key (JSON) for an absent value. */
static void out_row(struct out *o, const void *r)
{
	const struct db_entity_desc *d = o->d;
	json_t *obj = o->json ? json_object() : NULL;
	char buf[64];

	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		const char *v = db_column_text(c, r, buf, sizeof(buf));
		if (!o->json) {
			ctl_csv_put(&o->csv, v);
		} else if (v && obj) {
			/* a boolean column (an endpoint's active, whose kind lets it be empty,
			 * included) is a JSON boolean */
			bool boolean = c->kind == DB_K_BOOL ||
				       (c->cast && strcmp(c->cast, "boolean") == 0);
			json_t *x = boolean ? json_boolean(strcmp(v, "true") == 0) : json_string(v);
			json_object_set_new(obj, c->name, x);
		}
	}
	if (!o->json) {
		ctl_csv_end_row(&o->csv);
	} else {
		char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		fprintf(o->f, "%s\n  %s", o->rows ? "," : "", s ? s : "{}");
		free(s);
		json_decref(obj);
	}
	o->rows++;
}

static int out_end(struct out *o)
{
	if (o->json)
		fputs(o->rows ? "\n]\n" : "]\n", o->f);
	return fclose(o->f);
}

/* DIR/FILE.csv (or .json) of entity e, every row of it. */
static int write_entity(const struct db_rows *rows, enum db_entity e, const char *dir,
			bool json)
{
	const struct db_entity_desc *d = &db_entities[e];
	struct out o = {NULL, json, d, 0, {NULL, "\n", 0}};
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.%s", dir, d->file, json ? "json" : "csv");
	if (!(o.f = o.csv.f = fopen(path, "w"))) {
		fprintf(stderr, "lisctl: export: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	out_begin(&o);
	for (size_t i = 0; i < rows->n; i++)
		out_row(&o, (const char *)rows->rows + i * d->row_size);
	return out_end(&o) == 0 ? 0 : -1;
}

void ctl_export_usage(FILE *out)
{
	fprintf(out, "usage: lisctl export --dir DIR [--format csv|json] [--site KEY] "
		     "[--bindings]\n");
}

int ctl_cmd_export(const char *conninfo, int argc, char **argv)
{
	const char *dir = NULL, *site = NULL;
	enum ctl_format fmt = CTL_FORMAT_CSV;
	bool bindings = false;
	struct lis_error err = {0};
	struct db_wiremap w;
	struct db_conn *c;
	int rc = CTL_EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (strcmp(a, "--dir") == 0 && more) {
			dir = argv[++i];
		} else if (strcmp(a, "--site") == 0 && more) {
			site = argv[++i];
		} else if (strcmp(a, "--format") == 0 && more) {
			if (ctl_format_parse(argv[++i], &fmt) < 0) {
				fprintf(stderr, "lisctl: export: --format is csv or json, not "
						"\"%s\"\n", argv[i]);
				return CTL_EXIT_USAGE;
			}
		} else if (strcmp(a, "--bindings") == 0) {
			bindings = true;
		} else {
			fprintf(stderr, "lisctl: export: unknown or incomplete argument \"%s\"\n", a);
			ctl_export_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (!dir) {
		fprintf(stderr, "lisctl: export: --dir DIR is required\n");
		ctl_export_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "lisctl: export: cannot create %s: %s\n", dir, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	c = db_connect(conninfo, &err);
	if (!c) {
		fprintf(stderr, "lisctl: %s\n", err.msg);
		return CTL_EXIT_FAIL;
	}
	if (db_wiremap_read(c, site, bindings, &w, &err) < 0) {
		fprintf(stderr, "lisctl: export: %s\n", err.msg);
		db_close(c);
		return CTL_EXIT_FAIL;
	}
	if (site && w.set.of[DB_SITES].n == 0) {
		fprintf(stderr, "lisctl: export: no site \"%s\" in the database\n", site);
	} else {
		int wrc = 0;
		for (int e = 0; e < DB_ENTITY_N; e++)
			if (bindings || !db_entities[e].binding)
				wrc |= write_entity(&w.set.of[e], (enum db_entity)e, dir,
						    fmt == CTL_FORMAT_JSON);
		if (wrc == 0) {
			const char *sep = "exported ";
			for (int e = 0; e < DB_ENTITY_N; e++, sep = ", ")
				if (bindings || !db_entities[e].binding)
					printf("%s%zu %s", sep, w.set.of[e].n, db_entities[e].noun);
			printf(" to %s\n", dir);
			rc = CTL_EXIT_OK;
		}
	}
	db_wiremap_free(&w);
	db_close(c);
	return rc;
}
