/* `lisctl import`: read every given file (CSV or JSON), check each on its own, then all of
 * them against each other and the database, and only then write them in one transaction
 * (or, with --dry-run, write them and roll back, to say what would change). The binding
 * files, the large ones, are streamed into that transaction as they are checked (issue 10):
 * see stream_file(). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_rows.h"

/* Words on out, wrapped before column `width` (0: never) onto lines that start with
 * `indent`. */
struct wrap {
	FILE *out;
	int col;
	const char *indent;
	int width;
};
static void word(struct wrap *w, const char *fmt, const char *s)
{
	int n = snprintf(NULL, 0, fmt, s);

	if (w->width && w->col + n > w->width)
		w->col = fprintf(w->out, "\n%s", w->indent) - 1;
	w->col += fprintf(w->out, fmt, s);
}

/* The entities' names: "sites, locations, ..., mac-bssids". */
static void entity_names(struct wrap *w)
{
	for (int e = 0; e < DB_ENTITY_N; e++)
		word(w, e == 0 ? "%s," : e + 1 < DB_ENTITY_N ? " %s," : " %s", db_entities[e].name);
}

void ctl_import_synopsis(FILE *out, const char *lead)
{
	struct wrap w = {out, fprintf(out, "%s", lead), "        ", 78};

	for (int e = 0; e < DB_ENTITY_N; e++)
		word(&w, " [--%s FILE]", db_entities[e].name);
	fprintf(out, "\n         [--format csv|json] [--dry-run [--verbose]] [--replace SCOPE]\n"
		"         [--no-warnings]\n");
}

void ctl_import_usage(FILE *out)
{
	ctl_import_synopsis(out, "usage: lisctl import");
	struct wrap w = {out, fprintf(out, "SCOPE: site:KEY, or an entity ("), "      ", 78};
	entity_names(&w);
	fprintf(out, "); repeatable\n");
}

/* Row i of entity e as its key, for --verbose and for "added or changed". */
static const char *row_key(const struct db_import_set *s, enum db_entity e, size_t i,
			   char *buf, size_t size)
{
	return ctl_row_key(e, (const char *)s->of[e].rows + i * db_entities[e].row_size, buf,
			   size);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys the database holds, per entity, sorted (strdup'd). */
struct keys {
	char **k;
	size_t n;
};
static int keys_build(struct keys *out, const struct db_import_set *s, enum db_entity e)
{
	char buf[600];

	out->n = s->of[e].n;
	out->k = calloc(out->n + 1, sizeof(*out->k));
	if (!out->k)
		return -1;
	for (size_t i = 0; i < out->n; i++)
		if (!(out->k[i] = strdup(row_key(s, e, i, buf, sizeof(buf)))))
			return -1;
	qsort(out->k, out->n, sizeof(*out->k), cmp_str);
	return 0;
}
static bool keys_have(const struct keys *k, const char *key)
{
	return k->n && bsearch(&key, k->k, k->n, sizeof(*k->k), cmp_str) != NULL;
}
static void keys_free(struct keys *k)
{
	for (size_t i = 0; k->k && i < k->n; i++)
		free(k->k[i]);
	free(k->k);
}

/* Removed rows' keys, for --verbose. */
struct removed {
	char **key;
	enum db_entity *e;
	size_t n, cap;
};
static void on_removed(void *ctx, enum db_entity e, const char *key)
{
	struct removed *r = ctx;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		char **k = realloc(r->key, cap * sizeof(*k));
		if (k)
			r->key = k;
		enum db_entity *x = realloc(r->e, cap * sizeof(*x));
		if (x)
			r->e = x;
		if (!k || !x)
			return;
		r->cap = cap;
	}
	if ((r->key[r->n] = strdup(key)))
		r->e[r->n++] = e;
}

/* A binding file, streamed (issue 10): each row checked as it is read, its references
 * looked up in what the other files and the database hold, and staged in the database;
 * duplicates are then found there. Without a database the rows are only checked. */
struct stream {
	enum db_entity e;
	const struct ctl_refs *refs;   /* NULL: no database */
	struct db_stage *stage;
	struct ctl_errors *errs;
	struct lis_error err;          /* the first staging failure */
	bool failed;
	size_t n;                      /* rows that passed their own checks */
	const char *path;
};

static void stream_row(void *ctx, const void *row, bool ok, unsigned key_col)
{
	struct stream *s = ctx;
	char key[600];

	s->n += ok;
	if (s->refs)
		ctl_refs_check(s->refs, s->e, row, s->errs);
	if (s->stage && !s->failed &&
	    db_stage_put(s->stage, row, ok, ctl_row_key(s->e, row, key, sizeof(key)), key_col,
			 &s->err) < 0)
		s->failed = true;
}

static void stream_duplicate(void *ctx, unsigned line, unsigned col, const char *key,
			     unsigned first)
{
	struct stream *s = ctx;

	ctl_error_at(s->errs, s->path, line, col, "duplicate %s %s (first on line %u)",
		     db_entities[s->e].dup, Q(key), first);
}

/* Read, check and stage the file of e; -1 (with s->err) when the database failed. */
static int stream_file(struct stream *s, struct db_conn *c, enum ctl_format fmt)
{
	bool unread;

	if (c && !(s->stage = db_stage_open(c, s->e, &s->err)))
		return -1;
	ctl_load_each(s->e, s->path, fmt, s->errs, stream_row, s, &unread);
	if (c && db_stage_close(s->stage, s->failed ? NULL : &s->err) < 0)
		s->failed = true;
	s->stage = NULL;
	if (c && !s->failed &&
	    db_stage_duplicates(c, s->e, stream_duplicate, s, &s->err) < 0)
		s->failed = true;
	return s->failed ? -1 : 0;
}

/* --verbose's lines of staged rows, kept in a temporary file until their entity's
 * counts are printed. */
static void staged_changed(void *ctx, enum db_entity e, const char *key, bool added)
{
	FILE **f = ctx;

	if (f[e] || (f[e] = tmpfile()))
		fprintf(f[e], "  %s %s\n", added ? "added" : "changed", key);
}

/* --replace SCOPE, once or more: site:KEY (alone) or entity names. */
static int parse_scope(const char *s, const char **site, unsigned *entities)
{
	int e;

	if (strncmp(s, "site:", 5) == 0 && s[5]) {
		if (*site) {
			fprintf(stderr, "lisctl: import: --replace names one site at most\n");
			return -1;
		}
		*site = s + 5;
		return 0;
	}
	if ((e = db_entity_by_name(s)) >= 0) {
		*entities |= 1u << e;
		return 0;
	}
	struct wrap w = {stderr, fprintf(stderr, "lisctl: import: --replace %s: not site:KEY nor "
					 "an entity (", s), "", 0};
	entity_names(&w);
	fprintf(stderr, ")\n");
	return -1;
}

int ctl_cmd_import(const char *conninfo, int argc, char **argv)
{
	const char *path[DB_ENTITY_N] = {0}, *fmt_name = NULL, *replace_site = NULL;
	static struct ctl_errors errs, warns; /* large: not on the stack */
	struct ctl_file files[DB_ENTITY_N] = {0};
	enum ctl_format fmt = CTL_FORMAT_AUTO;
	struct db_import_set set = {0}, broken = {0};
	struct ctl_check_in check = {&set, &broken, 0, NULL, NULL};
	struct lis_iso *iso = NULL;
	struct db_import_stats st;
	struct db_import_opts opts = {0};
	struct db_wiremap stored = {0};
	struct keys have[DB_ENTITY_N] = {0};
	struct removed removed = {0};
	struct stream streamed[DB_ENTITY_N] = {0};
	struct ctl_refs *refs = NULL;
	FILE *listed[DB_ENTITY_N] = {NULL};
	struct lis_error err = {0};
	struct db_conn *c = NULL;
	bool any = false, dry_run = false, verbose = false, no_warnings = false, begun = false;
	unsigned replace = 0, stream = 0;
	int rc = CTL_EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		const char *scope = NULL;
		int r = 0;
		if (strcmp(argv[i], "--dry-run") == 0) {
			dry_run = true;
			continue;
		} else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
			verbose = true;
			continue;
		} else if (strcmp(argv[i], "--no-warnings") == 0) {
			no_warnings = true;
			continue;
		}
		for (int e = 0; e < DB_ENTITY_N && r == 0; e++) {
			char opt[64];
			snprintf(opt, sizeof opt, "--%s", db_entities[e].name);
			r = ctl_take_opt(argc, argv, &i, opt, &path[e]);
		}
		if (r == 0 && (r = ctl_take_opt(argc, argv, &i, "--format", &fmt_name)) == 1 &&
		    ctl_format_parse(fmt_name, &fmt) < 0) {
			fprintf(stderr, "lisctl: import: --format is csv or json, not \"%s\"\n",
				fmt_name);
			r = -1;
		}
		if (r == 0 && (r = ctl_take_opt(argc, argv, &i, "--replace", &scope)) == 1 &&
		    parse_scope(scope, &replace_site, &replace) < 0)
			r = -1;
		if (r == 0)
			fprintf(stderr, "lisctl: import: unknown argument \"%s\"\n", argv[i]);
		if (r <= 0) {
			ctl_import_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	for (int e = 0; e < DB_ENTITY_N; e++)
		any |= path[e] != NULL;
	if (!any) {
		fprintf(stderr, "lisctl: import: name at least one file\n");
		ctl_import_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (replace_site && replace) {
		fprintf(stderr, "lisctl: import: --replace site:KEY and --replace ENTITY do not "
				"mix: run them one after the other\n");
		return CTL_EXIT_USAGE;
	}
	for (int e = 0; e < DB_ENTITY_N; e++) {
		if ((replace & (1u << e)) && !path[e]) {
			fprintf(stderr, "lisctl: import: --replace %s needs --%s FILE: without the "
					"file every row would be removed\n", db_entities[e].name,
				db_entities[e].name);
			return CTL_EXIT_USAGE;
		}
		/* A site scope covers the site's rows of each kind whose file is given. */
		if (replace_site && path[e] && e != DB_SITES)
			replace |= 1u << e;
		/* Binding files are the large ones: they are streamed (issue 10). */
		if (path[e] && db_entities[e].binding)
			stream |= 1u << e;
		streamed[e] = (struct stream){.e = (enum db_entity)e, .errs = &errs, .path = path[e]};
	}

	/* Every file is checked, even after one failed, and then all of them against each
	 * other and the database, so that one run shows all errors: a row with errors of its
	 * own still counts as a key that others may name. */
	memset(&errs, 0, sizeof(errs));
	memset(&warns, 0, sizeof(warns));
	for (int e = 0; e < DB_ENTITY_N; e++) {
		if (path[e] && !(stream & (1u << e)))
			ctl_load((enum db_entity)e, path[e], fmt, &files[e], &errs);
		set.of[e] = (struct db_rows){files[e].rows, files[e].n};
		broken.of[e] = (struct db_rows){files[e].broken, files[e].n_broken};
		check.unread |= files[e].unread ? 1u << e : 0;
	}
	if (path[DB_LOCATIONS] && !(iso = lis_iso_load(NULL, &err)))
		fprintf(stderr, "lisctl: warning: country and A1 are not checked against ISO "
				"3166: %s (install iso-codes)\n", err.msg);
	c = db_connect(conninfo, &err);
	if (!c) {
		for (int e = 0; e < DB_ENTITY_N; e++)
			if (stream & (1u << e))
				stream_file(&streamed[e], NULL, fmt);
		ctl_errors_print(&errs, stderr);
		fprintf(stderr, "lisctl: %s\n", err.msg);
		goto out;
	}
	/* The files against each other and against what is stored (bindings, which nothing
	 * refers to, are not read). Then the streamed files, row by row, in the import's
	 * transaction. */
	int read = db_wiremap_read(c, NULL, false, &stored, &err);
	if (read == 0 && stream)
		begun = db_import_begin(c, &err) == 0;
	if (read < 0 || (stream && !begun)) {
		ctl_errors_print(&errs, stderr);
		fprintf(stderr, "lisctl: import: %s\n", err.msg);
		goto out;
	}
	check.db = &stored.set;
	check.iso = iso;
	ctl_check_wiremap(&check, &errs, &warns);
	if (stream && !(refs = ctl_refs_new(&check))) {
		fprintf(stderr, "lisctl: import: out of memory\n");
		goto out;
	}
	for (int e = 0; e < DB_ENTITY_N; e++) {
		streamed[e].refs = refs;
		if ((stream & (1u << e)) && stream_file(&streamed[e], c, fmt) < 0) {
			ctl_errors_print(&errs, stderr);
			fprintf(stderr, "lisctl: import: %s\nlisctl: import: nothing written\n",
				streamed[e].err.msg);
			goto out;
		}
	}
	if (replace_site) {
		const struct db_site_row *ss = stored.set.of[DB_SITES].rows;
		const struct db_site_row *fs = set.of[DB_SITES].rows;
		bool known = false;
		for (size_t i = 0; i < stored.set.of[DB_SITES].n && !known; i++)
			known = strcmp(ss[i].key, replace_site) == 0;
		for (size_t i = 0; i < set.of[DB_SITES].n && !known; i++)
			known = strcmp(fs[i].key, replace_site) == 0;
		if (!known)
			ctl_errors_add(&errs, "--replace site:%s: no such site in the files or the "
				       "database", replace_site);
	}
	if (!no_warnings && warns.total > 0) {
		ctl_errors_print(&warns, stderr);
		fprintf(stderr, "lisctl: import: %zu warning%s\n", warns.total,
			warns.total == 1 ? "" : "s");
	}
	if (errs.total > 0) {
		/* begun: the staged rows are rolled back at out */
		ctl_errors_print(&errs, stderr);
		fprintf(stderr, "lisctl: import: %zu error%s, nothing written%s\n", errs.total,
			errs.total == 1 ? "" : "s", path[DB_LOCATIONS] && !iso ?
			" (ISO 3166 check skipped)" : "");
		goto out;
	}

	opts.dry_run = dry_run;
	opts.replace = replace;
	opts.replace_site = replace_site;
	opts.removed = on_removed;
	opts.ctx = &removed;
	opts.staged = stream;
	opts.changed_row = verbose ? staged_changed : NULL;
	opts.changed_ctx = listed;
	for (int e = 0; e < DB_ENTITY_N; e++) {
		opts.row_changed[e] = calloc(set.of[e].n + 1, sizeof(bool));
		if (!opts.row_changed[e] || keys_build(&have[e], &stored.set, e) < 0) {
			fprintf(stderr, "lisctl: import: out of memory\n");
			goto out;
		}
	}
	begun = false; /* db_import_ex ends the transaction, whatever happens */
	if (db_import_ex(c, &set, &opts, &st, &err) < 0) {
		fprintf(stderr, "%s\nlisctl: import: nothing written\n", err.msg);
		goto out;
	}
	if (!dry_run) {
		const char *sep = "imported ";
		/* One count per file given, in the order they are written. */
		for (int e = 0; e < DB_ENTITY_N; e++) {
			if (!path[e])
				continue;
			printf("%s%zu %s (%zu changed", sep, set.of[e].n + streamed[e].n,
			       db_entities[e].noun, st.changed[e]);
			if (replace & (1u << e))
				printf(", %zu removed", st.removed[e]);
			printf(")");
			sep = ", ";
		}
		printf("\n");
	} else {
		printf("dry run: nothing written\n");
	}
	if (path[DB_LOCATIONS] && !iso)
		printf("ISO 3166 check skipped: country and A1 were not checked\n");
	for (int e = 0; e < DB_ENTITY_N && (dry_run || verbose); e++) {
		size_t added = 0, changed = 0, same = 0;
		char buf[600];
		if (!path[e])
			continue;
		if (stream & (1u << e)) {
			added = st.added[e];
			changed = st.changed[e] - added;
			same = streamed[e].n - st.changed[e];
		}
		for (size_t i = 0; i < set.of[e].n; i++) {
			if (!opts.row_changed[e][i])
				same++;
			else if (keys_have(&have[e], row_key(&set, e, i, buf, sizeof(buf))))
				changed++;
			else
				added++;
		}
		printf("%s: added %zu, changed %zu, ", db_entities[e].noun, added, changed);
		if (replace & (1u << e))
			printf("removed %zu, ", st.removed[e]);
		printf("unchanged %zu\n", same);
		if (listed[e]) {
			char line[700];
			rewind(listed[e]);
			while (fgets(line, sizeof(line), listed[e]))
				fputs(line, stdout);
		}
		for (size_t i = 0; verbose && i < set.of[e].n; i++) {
			const char *k = row_key(&set, e, i, buf, sizeof(buf));
			if (opts.row_changed[e][i])
				printf("  %s %s\n", keys_have(&have[e], k) ? "changed" : "added", k);
		}
		for (size_t i = 0; verbose && i < removed.n; i++)
			if (removed.e[i] == (enum db_entity)e)
				printf("  removed %s\n", removed.key[i]);
	}
	rc = CTL_EXIT_OK;
out:
	if (begun)
		db_import_rollback(c);
	ctl_refs_free(refs);
	for (int e = 0; e < DB_ENTITY_N; e++)
		if (listed[e])
			fclose(listed[e]);
	lis_iso_free(iso);
	db_close(c);
	db_wiremap_free(&stored);
	for (int e = 0; e < DB_ENTITY_N; e++) {
		free(opts.row_changed[e]);
		keys_free(&have[e]);
		ctl_file_free(&files[e]);
	}
	for (size_t i = 0; i < removed.n; i++)
		free(removed.key[i]);
	free(removed.key);
	free(removed.e);
	return rc;
}
