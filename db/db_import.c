/* Import of a wiremap (sites, locations, subnets, switches, ports, BSSIDs, endpoints and
 * observed bindings) in one transaction: all or nothing. Each entity's upsert is made from
 * its columns in db_entities (db_entity.c) and rewrites a row only when a value differs, so
 * that importing the same files twice changes nothing and the counts say what really
 * changed. References are resolved by the upserts themselves, so a key may come from the
 * files or from the database alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* The most parameters an upsert has (locations: 38), and identity values a row has. */
#define MAX_PARAMS 64
#define MAX_IDS 4

/* ---- an entity's upsert, made from its columns ---- */

/* Parameters of a row: one per column written now (not DB_COL_LATER), in column order, and
 * a second one for a BSSID's length. */
static int n_parts(const struct db_column *c)
{
	return c->kind == DB_K_BSSID ? 2 : 1;
}

static const char *part_name(const struct db_column *c, int part)
{
	return part ? c->db_aux : c->db;
}

/* Column c (part 0), or its BSSID length (part 1), of row r as parameter text: as a file
 * writes it (db_column_text), but a BSSID's MAC and length apart. */
static const char *param(const struct db_column *c, const void *r, int part, char *buf,
			 size_t size)
{
	if (c->kind != DB_K_BSSID)
		return db_column_text(c, r, buf, size);
	if (!part)
		return DB_CFIELD(const char *, r, c->at);
	snprintf(buf, size, "%u", DB_CFIELD(unsigned, r, c->aux));
	return buf;
}

/* The pieces of an upsert, each a list over the columns. */
enum piece {
	P_COLUMN,   /* every column written now */
	P_VALUE,    /* its value */
	P_CONFLICT, /* the identity's columns */
	P_SET,      /* the other columns: column = new value */
	P_OLD,      /* the other columns as stored */
	P_NEW,      /* the other columns' new values */
};

/* Where the last_seen column's parameter is: a first_seen falls back to it. */
static int last_seen_param(const struct db_entity_desc *d, const int *p)
{
	for (size_t k = 0; k < d->n_cols; k++)
		if (d->cols[k].kind == DB_K_LAST_SEEN)
			return p[k];
	return 0;
}

static void value(struct strbuf *t, const struct db_entity_desc *d, const int *p, size_t k,
		  int part)
{
	const struct db_column *c = &d->cols[k];

	if (part)
		strbuf_printf(t, "$%d::integer", p[k] + 1);
	else if (c->kind == DB_K_REF && (c->flags & DB_COL_REQUIRED))
		strbuf_printf(t, "r%d.%s", p[k], c->flags & DB_COL_BYKEY ? "ref_key" : "id");
	else if (c->kind == DB_K_REF)
		strbuf_printf(t, "(SELECT %s FROM r%d)", c->flags & DB_COL_BYKEY ? "ref_key" : "id",
			     p[k]);
	else if (c->kind == DB_K_FIRST_SEEN)
		strbuf_printf(t, "coalesce($%d::timestamptz, $%d::timestamptz)", p[k],
			     last_seen_param(d, p));
	else if (c->db_default)
		strbuf_printf(t, "coalesce($%d::%s, %s)", p[k], c->cast ? c->cast : "text",
			     c->db_default);
	else
		strbuf_printf(t, "$%d::%s", p[k], c->cast ? c->cast : "text");
}

/* A binding's first_seen absent from the file keeps the stored one, or moves it back to
 * last_seen, which it may not follow; a DB_COL_KEEP value absent keeps the stored one. */
static void new_value(struct strbuf *t, const struct db_entity_desc *d, const int *p,
		      size_t k, int part)
{
	const struct db_column *c = &d->cols[k];

	if (c->flags & DB_COL_KEEP) {
		strbuf_printf(t, "coalesce($%d::%s, t.%s)", p[k], c->cast ? c->cast : "text", c->db);
		return;
	}
	if (c->kind != DB_K_FIRST_SEEN) {
		strbuf_printf(t, "EXCLUDED.%s", part_name(c, part));
		return;
	}
	for (size_t j = 0; j < d->n_cols; j++)
		if (d->cols[j].kind == DB_K_LAST_SEEN)
			strbuf_printf(t, "CASE WHEN $%d::timestamptz IS NULL THEN least(t.%s, EXCLUDED.%s)"
				     " ELSE EXCLUDED.%s END", p[k], c->db, d->cols[j].db, c->db);
}

static void pieces(struct strbuf *t, const struct db_entity_desc *d, const int *p,
		   enum piece what)
{
	const char *sep = "";

	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		bool id = c->flags & DB_COL_ID;

		if ((c->flags & DB_COL_LATER) || (what == P_CONFLICT && !id) ||
		    (what >= P_SET && id))
			continue;
		for (int part = 0; part < n_parts(c); part++) {
			strbuf_puts(t, sep);
			sep = ", ";
			if (what == P_VALUE)
				value(t, d, p, k, part);
			else if (what == P_OLD)
				strbuf_printf(t, "t.%s", part_name(c, part));
			else if (what == P_NEW)
				new_value(t, d, p, k, part);
			else
				strbuf_puts(t, part_name(c, part));
			if (what == P_SET) {
				strbuf_puts(t, " = ");
				new_value(t, d, p, k, part);
			}
		}
	}
}

/* INSERT ... ON CONFLICT (identity) DO UPDATE of entity d, rewriting a row only when a
 * value differs. Each reference is looked up by key in a CTE r<its parameter>; a row whose
 * required reference is unknown is not written. The one result row holds, for each
 * reference in column order, whether it was found (an optional one not given counts as
 * found), then the count of rows written. p[k] gets column k's parameter number. */
static int upsert_sql(const struct db_entity_desc *d, struct strbuf *t, int *p)
{
	const char *sep = " FROM ";
	bool any_update = false;
	int n = 0;

	for (size_t k = 0; k < d->n_cols; k++) {
		p[k] = n + 1;
		if (!(d->cols[k].flags & DB_COL_LATER))
			n += n_parts(&d->cols[k]);
		any_update |= !(d->cols[k].flags & (DB_COL_ID | DB_COL_LATER));
	}
	strbuf_puts(t, "WITH ");
	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		const struct db_entity_desc *ref = &db_entities[c->ref];
		if (c->kind == DB_K_REF && !(c->flags & DB_COL_LATER))
			strbuf_printf(t, "r%d AS (SELECT id, %s AS ref_key FROM %s"
				     " WHERE %s = $%d::text), ", p[k], ref->cols[0].db, ref->table,
				     ref->cols[0].db, p[k]);
	}
	strbuf_printf(t, "u AS (INSERT INTO %s AS t (", d->table);
	pieces(t, d, p, P_COLUMN);
	strbuf_puts(t, ") SELECT ");
	pieces(t, d, p, P_VALUE);
	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		if (c->kind == DB_K_REF && (c->flags & DB_COL_REQUIRED)) {
			strbuf_printf(t, "%sr%d", sep, p[k]);
			sep = ", ";
		}
	}
	sep = " WHERE ";
	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		if (c->kind == DB_K_REF && !(c->flags & (DB_COL_REQUIRED | DB_COL_LATER))) {
			strbuf_printf(t, "%s($%d::text IS NULL OR EXISTS (SELECT 1 FROM r%d))", sep,
				     p[k], p[k]);
			sep = " AND ";
		}
	}
	strbuf_puts(t, " ON CONFLICT (");
	pieces(t, d, p, P_CONFLICT);
	if (any_update) {
		strbuf_puts(t, ") DO UPDATE SET ");
		pieces(t, d, p, P_SET);
		strbuf_puts(t, " WHERE (");
		pieces(t, d, p, P_OLD);
		strbuf_puts(t, ") IS DISTINCT FROM (");
		pieces(t, d, p, P_NEW);
		strbuf_puts(t, ")");
	} else {
		strbuf_puts(t, ") DO NOTHING");
	}
	strbuf_puts(t, " RETURNING 1) SELECT ");
	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		if (c->kind != DB_K_REF || (c->flags & DB_COL_LATER))
			continue;
		if (c->flags & DB_COL_REQUIRED)
			strbuf_printf(t, "(SELECT count(*) FROM r%d), ", p[k]);
		else
			strbuf_printf(t, "$%d::text IS NULL OR EXISTS (SELECT 1 FROM r%d), ", p[k],
				     p[k]);
	}
	strbuf_puts(t, "(SELECT count(*) FROM u)");
	return n;
}

/* ---- writing rows ---- */

/* "file:line" of a row, for messages. */
static const char *place(char *buf, size_t size, const struct db_entity_desc *d,
			 const void *r)
{
	const char *file = DB_CFIELD(const char *, r, d->file_at);

	snprintf(buf, size, "%s:%u", file ? file : "(input)", DB_CFIELD(unsigned, r, d->line_at));
	return buf;
}

/* True for a result cell saying yes: a count other than 0, or boolean true. */
static bool yes(const PGresult *res, int col)
{
	const char *v = PQgetvalue(res, 0, col);
	return !PQgetisnull(res, 0, col) && strcmp(v, "0") != 0 && strcmp(v, "f") != 0;
}

/* The error for a reference to a key that is neither in the files nor in the database. */
static int unknown(struct lis_error *err, const char *where, unsigned col,
		   const struct db_entity_desc *ref, const char *key)
{
	if (col)
		return lis_error_set(err, DB_E_INPUT,
				     "%s:%u: unknown %s \"%.80s\" (in neither the %s file nor "
				     "the database)", where, col, ref->one, key, ref->name);
	return lis_error_set(err, DB_E_INPUT,
			     "%s: unknown %s \"%.80s\" (in neither the %s file nor the "
			     "database)", where, ref->one, key, ref->name);
}

/* Upsert every row of entity e; changed[i] is set when row i was written. */
static int import_rows(struct db_conn *c, enum db_entity e, const struct db_rows *rows,
		       bool *changed, struct lis_error *err)
{
	const struct db_entity_desc *d = &db_entities[e];
	struct strbuf sql = {0};
	char name[48], where[160], num[MAX_PARAMS][32];
	const char *v[MAX_PARAMS];
	int p[MAX_PARAMS] = {0}, n_params, rc = 0;

	if (!rows->n)
		return 0;
	if (d->n_cols > MAX_PARAMS)
		abort();
	n_params = upsert_sql(d, &sql, p);
	if (sql.cut || n_params > MAX_PARAMS) {
		strbuf_free(&sql);
		return lis_error_set(err, DB_E_QUERY, "import: out of memory");
	}
	snprintf(name, sizeof(name), "lis_upsert_%s", d->file);
	const struct db_stmt stmt = {DB_STMT_UPSERT + e, name, sql.s, n_params};
	for (size_t i = 0; i < rows->n && rc == 0; i++) {
		const char *r = (const char *)rows->rows + i * d->row_size;
		PGresult *res;
		int n = 0, found = 0;

		for (size_t k = 0; k < d->n_cols; k++) {
			const struct db_column *col = &d->cols[k];
			for (int part = 0; part < n_parts(col) && !(col->flags & DB_COL_LATER);
			     part++, n++)
				v[n] = param(col, r, part, num[n], sizeof(num[n]));
		}
		place(where, sizeof(where), d, r);
		res = db_exec_stmt(c, &stmt, where, v, PGRES_TUPLES_OK, err);
		if (!res) {
			rc = -1;
			break;
		}
		for (size_t k = 0; k < d->n_cols && rc == 0; k++) {
			const struct db_column *col = &d->cols[k];
			if (col->kind != DB_K_REF || (col->flags & DB_COL_LATER))
				continue;
			if (!yes(res, found++))
				rc = unknown(err, where, col->col_at ? DB_CFIELD(unsigned, r, col->col_at)
								   : 0,
					     &db_entities[col->ref], DB_CFIELD(const char *, r, col->at));
		}
		changed[i] = yes(res, found);
		PQclear(res);
	}
	strbuf_free(&sql);
	return rc;
}

/* $1 site key, $2 default location key, $3 allow_default; after locations are written.
 * Returns (location found, its site's key, rows written). */
static const struct db_stmt update_site_default = {
	DB_STMT_UPDATE_SITE_DEFAULT, "lis_update_site_default",
	"WITH l AS (SELECT l.id, l.site_id, si.key AS site_key FROM location l"
	"           JOIN site si ON si.id = l.site_id WHERE l.key = $2::text),"
	" u AS (UPDATE site SET default_location_id = (SELECT id FROM l),"
	" allow_default = $3::boolean"
	" WHERE site.key = $1::text"
	" AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM l WHERE l.site_id = site.id))"
	" AND (site.default_location_id, site.allow_default)"
	" IS DISTINCT FROM ((SELECT id FROM l), $3::boolean)"
	" RETURNING 1)"
	" SELECT $2::text IS NULL OR EXISTS (SELECT 1 FROM l), (SELECT site_key FROM l),"
	" (SELECT count(*) FROM u)",
	3,
};

/* The sites' DB_COL_LATER columns, once every location is written. A site's default must
 * be one of its own locations: a default in another building would send help to the wrong
 * address. */
static int import_site_defaults(struct db_conn *c, const struct db_rows *rows, bool *changed,
				struct lis_error *err)
{
	const struct db_site_row *sites = rows->rows;

	for (size_t i = 0; i < rows->n; i++) {
		const struct db_site_row *r = &sites[i];
		const char *const v[] = {r->key, r->default_location_key,
					 r->allow_default ? "true" : "false"};
		char where[160];
		PGresult *res;
		bool found;

		place(where, sizeof(where), &db_entities[DB_SITES], r);
		res = db_exec_stmt(c, &update_site_default, where, v, PGRES_TUPLES_OK, err);
		if (!res)
			return -1;
		found = yes(res, 0);
		if (found && r->default_location_key && strcmp(PQgetvalue(res, 0, 1), r->key) != 0) {
			lis_error_set(err, DB_E_INPUT,
				      "%s:%u: default location \"%.80s\" belongs to site \"%.80s\", "
				      "not to \"%.80s\"", where, r->ref_col, r->default_location_key,
				      PQgetvalue(res, 0, 1), r->key);
			PQclear(res);
			return -1;
		}
		changed[i] |= yes(res, 2);
		PQclear(res);
		if (!found)
			return unknown(err, where, r->ref_col, &db_entities[DB_LOCATIONS],
				       r->default_location_key);
	}
	return 0;
}

/* ---- --replace: removing what the files no longer hold ---- */

/* Remove the rows of each entity of opts->replace that the set does not hold, dependents
 * first (the reverse of the import order), so that what refers to a row is gone (or found
 * to stay) before it. */
static int remove_rows(struct db_conn *c, const struct db_import_set *set,
		       const struct db_import_opts *opts, struct db_import_stats *st,
		       struct lis_error *err)
{
	for (int e = DB_ENTITY_N; e-- > 0;) {
		const struct db_entity_desc *d = &db_entities[e];
		struct db_array a[MAX_IDS] = {0};
		const char *v[MAX_IDS + 1] = {NULL};
		char num[32];
		PGresult *res;
		int n_ids = 0, rc = 0;

		if (!(opts->replace & (1u << e)) || (d->whole_only && opts->replace_site))
			continue;
		for (size_t k = 0; k < d->n_cols; k++)
			if (d->cols[k].flags & DB_COL_ID)
				n_ids += n_parts(&d->cols[k]);
		if (n_ids > MAX_IDS)
			abort();
		for (size_t i = 0; i < set->of[e].n; i++) {
			const char *r = (const char *)set->of[e].rows + i * d->row_size;
			int j = 0;
			for (size_t k = 0; k < d->n_cols; k++)
				for (int part = 0; part < n_parts(&d->cols[k]) &&
						   (d->cols[k].flags & DB_COL_ID); part++)
					db_array_add(&a[j++], param(&d->cols[k], r, part, num,
								    sizeof(num)));
		}
		for (int j = 0; j < n_ids && rc == 0; j++)
			if (!(v[j] = db_array_end(&a[j])))
				rc = lis_error_set(err, DB_E_QUERY, "import: out of memory");
		v[n_ids] = opts->replace_site;
		if (rc == 0 && d->in_use) {
			res = db_exec(c, "replace: check references", d->in_use, 2, v,
				      PGRES_TUPLES_OK, err);
			if (!res)
				rc = -1;
			else if (PQntuples(res) > 0)
				rc = lis_error_set(err, DB_E_INPUT,
						   "replace: cannot remove %s \"%.80s\" (not in the "
						   "files): %s still uses it; remove that too, or "
						   "point it elsewhere", d->one,
						   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
			PQclear(res);
		}
		if (rc == 0) {
			res = db_exec(c, "replace: remove", d->remove, n_ids + 1, v,
				      PGRES_TUPLES_OK, err);
			if (!res) {
				rc = -1;
			} else {
				st->removed[e] += (size_t)PQntuples(res);
				for (int i = 0; opts->removed && i < PQntuples(res); i++)
					opts->removed(opts->ctx, (enum db_entity)e,
						      PQgetvalue(res, i, 0));
				PQclear(res);
			}
		}
		db_arrays_free(a, MAX_IDS);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- the whole import ---- */

static size_t total(const struct db_import_stats *s)
{
	size_t n = 0;

	for (int e = 0; e < DB_ENTITY_N; e++)
		n += s->changed[e] + s->removed[e];
	return n;
}

int db_import_ex(struct db_conn *c, const struct db_import_set *set,
		 const struct db_import_opts *opts, struct db_import_stats *st,
		 struct lis_error *err)
{
	static const struct db_import_opts none;
	struct db_import_stats counts = {0};
	bool *changed[DB_ENTITY_N] = {NULL};
	int version, rc = -1;

	if (!opts)
		opts = &none;
	if (st)
		*st = counts;
	if (db_schema_version(c, &version, err) < 0)
		return -1;
	if (version > db_schema_latest())
		return lis_error_set(err, DB_E_SCHEMA,
				     "database schema is at version %d, newer than this program "
				     "knows (%d): upgrade lis", version, db_schema_latest());
	if (version < db_schema_latest())
		return lis_error_set(err, DB_E_SCHEMA,
				     "database schema is at version %d, this program needs %d: "
				     "migrate it first (lisctl db migrate)", version,
				     db_schema_latest());
	for (int e = 0; e < DB_ENTITY_N; e++)
		if (!(changed[e] = calloc(set->of[e].n + 1, sizeof(bool)))) {
			lis_error_set(err, DB_E_QUERY, "import: out of memory");
			goto out;
		}
	if (db_run(c, "import: begin", "BEGIN", err) < 0)
		goto out;
	/* Each entity refers only to those before it, except a site's default location,
	 * written once the locations are (a site counts once, whichever of its row and its
	 * default changed). */
	for (int e = 0; e < DB_ENTITY_N; e++) {
		if (import_rows(c, (enum db_entity)e, &set->of[e], changed[e], err) < 0 ||
		    (e == DB_LOCATIONS &&
		     import_site_defaults(c, &set->of[DB_SITES], changed[DB_SITES], err) < 0))
			goto fail;
	}
	for (int e = 0; e < DB_ENTITY_N; e++)
		for (size_t i = 0; i < set->of[e].n; i++) {
			counts.changed[e] += changed[e][i];
			if (opts->row_changed[e])
				opts->row_changed[e][i] = changed[e][i];
		}
	if (opts->replace && remove_rows(c, set, opts, &counts, err) < 0)
		goto fail;
	/* The site and switch tables' change-feed triggers record a "whole table" change even
	 * for statements that wrote no row; rolling back an import that changed nothing keeps
	 * lisd from reloading for it. A dry run always rolls back. */
	bool commit = total(&counts) > 0 && !opts->dry_run;
	if (db_run(c, commit ? "import: commit" : "import: rollback",
		   commit ? "COMMIT" : "ROLLBACK", err) < 0)
		goto fail;
	if (st)
		*st = counts;
	rc = 0;
	goto out;
fail:
	db_rollback(c);
out:
	for (int e = 0; e < DB_ENTITY_N; e++)
		free(changed[e]);
	return rc;
}
