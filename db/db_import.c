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
	P_ID_TEXT,  /* the identity's values as text */
};

/* Where the last_seen column's parameter is: a first_seen falls back to it. */
static int last_seen_param(const struct db_entity_desc *d, const int *p)
{
	for (size_t k = 0; k < d->n_cols; k++)
		if (d->cols[k].kind == DB_K_LAST_SEEN)
			return p[k];
	return 0;
}

/* How values are named: $N in an upsert of one row (ONE_ROW); the stage table's column pN
 * in the merge of staged rows, their references joined as rN instead of looked up in CTEs.
 * ON CONFLICT DO UPDATE sees only EXCLUDED, not whether the row gave a first_seen, so
 * staged rows are merged in two statements, those that give one and those that do not. */
enum naming { ONE_ROW, STAGED_FIRST_SEEN, STAGED_NO_FIRST_SEEN };

static const char *arg(enum naming staged)
{
	return staged != ONE_ROW ? "s.p" : "$";
}

static void value(struct strbuf *t, const struct db_entity_desc *d, const int *p, size_t k,
		  int part, enum naming staged)
{
	const struct db_column *c = &d->cols[k];
	const char *a = arg(staged);

	if (part)
		strbuf_printf(t, "%s%d::integer", a, p[k] + 1);
	else if (c->kind == DB_K_REF && ((c->flags & DB_COL_REQUIRED) || staged))
		strbuf_printf(t, "r%d.%s", p[k], c->flags & DB_COL_BYKEY ? "ref_key" : "id");
	else if (c->kind == DB_K_REF)
		strbuf_printf(t, "(SELECT %s FROM r%d)", c->flags & DB_COL_BYKEY ? "ref_key" : "id",
			     p[k]);
	else if (c->kind == DB_K_FIRST_SEEN)
		strbuf_printf(t, "coalesce(%s%d::timestamptz, %s%d::timestamptz)", a, p[k], a,
			     last_seen_param(d, p));
	else if (c->db_default)
		strbuf_printf(t, "coalesce(%s%d::%s, %s)", a, p[k], c->cast ? c->cast : "text",
			     c->db_default);
	else
		strbuf_printf(t, "%s%d::%s", a, p[k], c->cast ? c->cast : "text");
}

/* A binding's first_seen absent from the file keeps the stored one, or moves it back to
 * last_seen, which it may not follow; a DB_COL_KEEP value absent keeps the stored one. */
static void new_value(struct strbuf *t, const struct db_entity_desc *d, const int *p,
		      size_t k, int part, enum naming staged)
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
		if (d->cols[j].kind == DB_K_LAST_SEEN && staged == STAGED_FIRST_SEEN)
			strbuf_printf(t, "EXCLUDED.%s", c->db);
		else if (d->cols[j].kind == DB_K_LAST_SEEN && staged == STAGED_NO_FIRST_SEEN)
			strbuf_printf(t, "least(t.%s, EXCLUDED.%s)", c->db, d->cols[j].db);
		else if (d->cols[j].kind == DB_K_LAST_SEEN)
			strbuf_printf(t, "CASE WHEN $%d::timestamptz IS NULL THEN least(t.%s, "
				     "EXCLUDED.%s) ELSE EXCLUDED.%s END", p[k], c->db, d->cols[j].db,
				     c->db);
}

static void pieces(struct strbuf *t, const struct db_entity_desc *d, const int *p,
		   enum piece what, enum naming staged)
{
	const char *sep = "";

	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		bool id = c->flags & DB_COL_ID;

		if ((c->flags & DB_COL_LATER) || ((what == P_CONFLICT || what == P_ID_TEXT) && !id) ||
		    (what >= P_SET && what <= P_NEW && id))
			continue;
		for (int part = 0; part < n_parts(c); part++) {
			strbuf_puts(t, sep);
			sep = ", ";
			if (what == P_VALUE || what == P_ID_TEXT)
				value(t, d, p, k, part, staged);
			else if (what == P_OLD)
				strbuf_printf(t, "t.%s", part_name(c, part));
			else if (what == P_NEW)
				new_value(t, d, p, k, part, staged);
			else
				strbuf_puts(t, part_name(c, part));
			if (what == P_ID_TEXT)
				strbuf_puts(t, "::text");
			if (what == P_SET) {
				strbuf_puts(t, " = ");
				new_value(t, d, p, k, part, staged);
			}
		}
	}
}

/* INSERT ... ON CONFLICT (identity) DO UPDATE of entity d, rewriting a row only when a
 * value differs. Each reference is looked up by key in a CTE r<its parameter>; a row whose
 * required reference is unknown is not written. The one result row holds, for each
 * reference in column order, whether it was found (an optional one not given counts as
 * found), then the count of rows written. p[k] gets column k's parameter number. */
static int param_numbers(const struct db_entity_desc *d, int *p)
{
	int n = 0;

	for (size_t k = 0; k < d->n_cols; k++) {
		p[k] = n + 1;
		if (!(d->cols[k].flags & DB_COL_LATER))
			n += n_parts(&d->cols[k]);
	}
	return n;
}

static bool any_update(const struct db_entity_desc *d)
{
	for (size_t k = 0; k < d->n_cols; k++)
		if (!(d->cols[k].flags & (DB_COL_ID | DB_COL_LATER)))
			return true;
	return false;
}

/* ON CONFLICT and what follows, up to RETURNING: the same for one row and for staged rows. */
static void on_conflict(const struct db_entity_desc *d, struct strbuf *t, const int *p,
			enum naming staged)
{
	strbuf_puts(t, " ON CONFLICT (");
	pieces(t, d, p, P_CONFLICT, staged);
	if (any_update(d)) {
		strbuf_puts(t, ") DO UPDATE SET ");
		pieces(t, d, p, P_SET, staged);
		strbuf_puts(t, " WHERE (");
		pieces(t, d, p, P_OLD, staged);
		strbuf_puts(t, ") IS DISTINCT FROM (");
		pieces(t, d, p, P_NEW, staged);
		strbuf_puts(t, ")");
	} else {
		strbuf_puts(t, ") DO NOTHING");
	}
}

static int upsert_sql(const struct db_entity_desc *d, struct strbuf *t, int *p)
{
	const char *sep = " FROM ";
	int n = param_numbers(d, p);

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
	pieces(t, d, p, P_COLUMN, ONE_ROW);
	strbuf_puts(t, ") SELECT ");
	pieces(t, d, p, P_VALUE, ONE_ROW);
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
	on_conflict(d, t, p, ONE_ROW);
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

/* ---- staged rows: a large file's rows streamed into a temporary table (issue 10) ---- */

struct db_stage {
	struct db_conn *c;
	const struct db_entity_desc *d;
	int p[MAX_PARAMS];    /* column k's first parameter, as in the upsert: pN in the table */
	int n_params;
	long n;               /* rows put so far */
	struct strbuf line;   /* one COPY line, reused */
	bool failed;
};

static void stage_table(struct strbuf *t, const char *what, const struct db_entity_desc *d)
{
	strbuf_printf(t, "lis_%s_%s", what, d->file);
}

/* The staged rows' references, joined by key as rN (the names value() gives them). */
static void stage_joins(struct strbuf *t, const struct db_entity_desc *d, const int *p)
{
	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *c = &d->cols[k];
		const struct db_entity_desc *ref = &db_entities[c->ref];
		if (c->kind != DB_K_REF || (c->flags & DB_COL_LATER))
			continue;
		strbuf_printf(t, " %sJOIN (SELECT id, %s AS ref_key FROM %s) r%d ON r%d.ref_key = "
			     "s.p%d", c->flags & DB_COL_REQUIRED ? "" : "LEFT ", ref->cols[0].db,
			     ref->table, p[k], p[k], p[k]);
	}
}

/* Run the statement built in sql (one that returns no rows), and empty sql for the next. */
static int run_built(struct db_conn *c, const char *what, struct strbuf *sql,
		     struct lis_error *err)
{
	int rc = sql->cut ? lis_error_set(err, DB_E_QUERY, "%s: out of memory", what)
			  : db_run(c, what, sql->s, err);

	strbuf_free(sql);
	*sql = (struct strbuf){0};
	return rc;
}

struct db_stage *db_stage_open(struct db_conn *c, enum db_entity e, struct lis_error *err)
{
	struct db_stage *st = calloc(1, sizeof(*st));
	struct strbuf sql = {0};
	PGresult *res;

	if (!st) {
		lis_error_set(err, DB_E_QUERY, "import: out of memory");
		return NULL;
	}
	st->c = c;
	st->d = &db_entities[e];
	if (st->d->n_cols > MAX_PARAMS)
		abort();
	st->n_params = param_numbers(st->d, st->p);
	strbuf_puts(&sql, "CREATE TEMP TABLE ");
	stage_table(&sql, "stage", st->d);
	strbuf_puts(&sql, " (n bigint, line integer, kc integer, ok boolean, k text");
	for (int i = 1; i <= st->n_params; i++)
		strbuf_printf(&sql, ", p%d text", i);
	strbuf_puts(&sql, ") ON COMMIT DROP");
	if (run_built(c, "import: stage", &sql, err) < 0)
		goto fail;
	strbuf_puts(&sql, "COPY ");
	stage_table(&sql, "stage", st->d);
	strbuf_puts(&sql, " FROM STDIN");
	if (sql.cut || !(res = db_exec(c, "import: stage", sql.s, 0, NULL, PGRES_COPY_IN, err)))
		goto fail;
	PQclear(res);
	strbuf_free(&sql);
	return st;
fail:
	if (sql.cut)
		lis_error_set(err, DB_E_QUERY, "import: out of memory");
	strbuf_free(&sql);
	free(st);
	return NULL;
}

int db_stage_put(struct db_stage *st, const void *row, bool ok, const char *key,
		 unsigned key_col, struct lis_error *err)
{
	const struct db_entity_desc *d = st->d;
	struct strbuf *b = &st->line;
	char num[64];

	if (st->failed)
		return -1;
	b->len = 0;
	b->cut = false;
	if (b->s)
		b->s[0] = '\0';
	snprintf(num, sizeof num, "%ld", ++st->n);
	db_copy_field(b, num, true);
	snprintf(num, sizeof num, "%u", DB_CFIELD(unsigned, row, d->line_at));
	db_copy_field(b, num, false);
	snprintf(num, sizeof num, "%u", key_col);
	db_copy_field(b, num, false);
	db_copy_field(b, ok ? "t" : "f", false);
	db_copy_field(b, key, false);
	for (size_t k = 0; k < d->n_cols; k++) {
		const struct db_column *col = &d->cols[k];
		for (int part = 0; part < n_parts(col) && !(col->flags & DB_COL_LATER); part++)
			db_copy_field(b, param(col, row, part, num, sizeof(num)), false);
	}
	strbuf_put(b, "\n", 1);
	if (b->cut) {
		st->failed = true;
		return lis_error_set(err, DB_E_QUERY, "import: out of memory");
	}
	if (PQputCopyData(st->c->pg, b->s, (int)b->len) != 1) {
		st->failed = true;
		return lis_error_set(err, DB_E_QUERY, "import: stage: %s",
				     PQerrorMessage(st->c->pg));
	}
	return 0;
}

int db_stage_close(struct db_stage *st, struct lis_error *err)
{
	PGresult *res;
	int rc = 0;

	if (!st)
		return 0;
	if (PQputCopyEnd(st->c->pg, st->failed ? "import failed" : NULL) != 1)
		rc = lis_error_set(err, DB_E_QUERY, "import: stage: %s", PQerrorMessage(st->c->pg));
	while ((res = PQgetResult(st->c->pg))) {
		if (rc == 0 && !st->failed && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = lis_error_set(err, DB_E_QUERY, "import: stage: %s",
					   PQresultErrorMessage(res));
		PQclear(res);
	}
	if (st->failed && rc == 0)
		rc = -1;
	strbuf_free(&st->line);
	free(st);
	return rc;
}

/* Run sql and hand each result row to fn as it arrives (single-row mode), so that a large
 * result is never held whole. */
static int each_row(struct db_conn *c, const char *what, const char *sql,
		    void (*fn)(void *ctx, const PGresult *res), void *ctx, struct lis_error *err)
{
	PGresult *res;
	int rc = 0;

	if (!PQsendQuery(c->pg, sql) || !PQsetSingleRowMode(c->pg))
		return lis_error_set(err, DB_E_QUERY, "%s: %s", what, PQerrorMessage(c->pg));
	while ((res = PQgetResult(c->pg))) {
		ExecStatusType s = PQresultStatus(res);
		if (s == PGRES_SINGLE_TUPLE && rc == 0)
			fn(ctx, res);
		else if (s != PGRES_TUPLES_OK && s != PGRES_SINGLE_TUPLE && rc == 0)
			rc = lis_error_set(err, DB_E_QUERY, "%s: %s", what,
					   PQresultErrorMessage(res));
		PQclear(res);
	}
	return rc;
}

struct dup_ctx {
	void (*fn)(void *ctx, unsigned line, unsigned col, const char *key, unsigned first);
	void *ctx;
};
static void on_dup(void *ctx, const PGresult *res)
{
	const struct dup_ctx *x = ctx;

	x->fn(x->ctx, (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10),
	      (unsigned)strtoul(PQgetvalue(res, 0, 1), NULL, 10), PQgetvalue(res, 0, 2),
	      (unsigned)strtoul(PQgetvalue(res, 0, 3), NULL, 10));
}

int db_stage_duplicates(struct db_conn *c, enum db_entity e,
			void (*fn)(void *ctx, unsigned line, unsigned col, const char *key,
				   unsigned first_line),
			void *ctx, struct lis_error *err)
{
	struct dup_ctx x = {fn, ctx};
	struct strbuf sql = {0};
	int rc;

	strbuf_puts(&sql, "SELECT line, kc, k, first FROM (SELECT n, line, kc, k,"
		    " first_value(line) OVER w AS first, row_number() OVER w AS i FROM ");
	stage_table(&sql, "stage", &db_entities[e]);
	strbuf_puts(&sql, " WINDOW w AS (PARTITION BY k ORDER BY n)) d WHERE i > 1 ORDER BY n");
	rc = sql.cut ? lis_error_set(err, DB_E_QUERY, "import: out of memory")
		     : each_row(c, "import: duplicates", sql.s, on_dup, &x, err);
	strbuf_free(&sql);
	return rc;
}

struct changed_ctx {
	const struct db_import_opts *opts;
	enum db_entity e;
};
static void on_changed(void *ctx, const PGresult *res)
{
	const struct changed_ctx *x = ctx;

	x->opts->changed_row(x->opts->changed_ctx, x->e, PQgetvalue(res, 0, 1),
			     strcmp(PQgetvalue(res, 0, 0), "t") == 0);
}

/* The staged rows of e into its table in one statement, each rewritten only when a value
 * differs (as import_rows does row by row); what was added or changed is noted in a second
 * temporary table, for the counts and for opts->changed_row. */
static int merge_staged(struct db_conn *c, enum db_entity e, const struct db_import_opts *opts,
			struct db_import_stats *counts, struct lis_error *err)
{
	const struct db_entity_desc *d = &db_entities[e];
	struct changed_ctx x = {opts, e};
	struct strbuf sql = {0};
	int p[MAX_PARAMS], n_ids = 0, first_seen = 0, rc = -1;
	PGresult *res = NULL;
	const char *sep = "";

	param_numbers(d, p);
	strbuf_puts(&sql, "CREATE TEMP TABLE ");
	stage_table(&sql, "changed", d);
	strbuf_puts(&sql, " (added boolean");
	for (size_t k = 0; k < d->n_cols; k++)
		for (int part = 0; part < n_parts(&d->cols[k]) && (d->cols[k].flags & DB_COL_ID);
		     part++)
			strbuf_printf(&sql, ", i%d text", ++n_ids);
	strbuf_puts(&sql, ") ON COMMIT DROP");
	if (run_built(c, "import: merge", &sql, err) < 0)
		goto out;
	for (size_t k = 0; k < d->n_cols; k++)
		if (d->cols[k].kind == DB_K_FIRST_SEEN)
			first_seen = p[k];
	for (enum naming pass = STAGED_FIRST_SEEN; pass <= STAGED_NO_FIRST_SEEN; pass++) {
		if (pass == STAGED_NO_FIRST_SEEN && !first_seen)
			break;
		strbuf_printf(&sql, "WITH u AS (INSERT INTO %s AS t (", d->table);
		pieces(&sql, d, p, P_COLUMN, pass);
		strbuf_puts(&sql, ") SELECT ");
		pieces(&sql, d, p, P_VALUE, pass);
		strbuf_puts(&sql, " FROM ");
		stage_table(&sql, "stage", d);
		strbuf_puts(&sql, " s");
		stage_joins(&sql, d, p);
		strbuf_puts(&sql, " WHERE s.ok");
		if (first_seen)
			strbuf_printf(&sql, " AND s.p%d IS %sNULL", first_seen,
				      pass == STAGED_FIRST_SEEN ? "NOT " : "");
		on_conflict(d, &sql, p, pass);
		strbuf_puts(&sql, " RETURNING t.xmax = 0");
		for (size_t k = 0; k < d->n_cols; k++)
			for (int part = 0; part < n_parts(&d->cols[k]) &&
					   (d->cols[k].flags & DB_COL_ID); part++)
				strbuf_printf(&sql, ", t.%s::text", part_name(&d->cols[k], part));
		strbuf_puts(&sql, ") INSERT INTO ");
		stage_table(&sql, "changed", d);
		strbuf_puts(&sql, " SELECT * FROM u");
		if (run_built(c, "import: merge", &sql, err) < 0)
			goto out;
	}
	strbuf_puts(&sql, "SELECT count(*) FILTER (WHERE added), count(*) FROM ");
	stage_table(&sql, "changed", d);
	if (sql.cut || !(res = db_exec(c, "import: merge", sql.s, 0, NULL, PGRES_TUPLES_OK, err)))
		goto out;
	counts->added[e] = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	counts->changed[e] = strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	if (opts->changed_row && counts->changed[e]) {
		strbuf_free(&sql);
		sql = (struct strbuf){0};
		strbuf_puts(&sql, "SELECT x.added, s.k FROM ");
		stage_table(&sql, "stage", d);
		strbuf_puts(&sql, " s");
		stage_joins(&sql, d, p);
		strbuf_puts(&sql, " JOIN ");
		stage_table(&sql, "changed", d);
		strbuf_puts(&sql, " x ON (");
		for (int i = 1; i <= n_ids; i++, sep = ", ")
			strbuf_printf(&sql, "%sx.i%d", sep, i);
		strbuf_puts(&sql, ") = (");
		pieces(&sql, d, p, P_ID_TEXT, STAGED_FIRST_SEEN);
		strbuf_puts(&sql, ") ORDER BY s.n");
		if (sql.cut || each_row(c, "import: merge", sql.s, on_changed, &x, err) < 0)
			goto out;
	}
	rc = 0;
out:
	if (sql.cut)
		rc = lis_error_set(err, DB_E_QUERY, "import: out of memory");
	PQclear(res);
	strbuf_free(&sql);
	return rc;
}

/* An entity's --replace statement for staged rows: each identity array parameter
 * ($1..$n_ids) becomes the staged rows' values, and the site parameter $1. */
static int staged_sql(const struct db_entity_desc *d, const char *tmpl, int n_ids,
		      struct strbuf *t)
{
	int p[MAX_PARAMS], q[MAX_IDS], j = 0;

	param_numbers(d, p);
	for (size_t k = 0; k < d->n_cols; k++)
		for (int part = 0; part < n_parts(&d->cols[k]) && (d->cols[k].flags & DB_COL_ID) &&
				   j < MAX_IDS; part++)
			q[j++] = p[k] + part;
	for (const char *s = tmpl; *s;) {
		char *end;
		long n = *s == '$' ? strtol(s + 1, &end, 10) : 0;
		if (n >= 1 && n <= n_ids) {
			strbuf_printf(t, "(SELECT coalesce(array_agg(s.p%d ORDER BY s.n), '{}') FROM ",
				      q[n - 1]);
			stage_table(t, "stage", d);
			strbuf_puts(t, " s)");
			s = end;
		} else if (n == n_ids + 1) {
			strbuf_puts(t, "$1");
			s = end;
		} else {
			strbuf_put(t, s++, 1);
		}
	}
	return t->cut ? -1 : 0;
}

/* ---- chassis IDs changing hands ---- */

/* $1 switch keys, $2 their chassis IDs in the files. */
static const char free_chassis_ids[] =
	"UPDATE switch w SET chassis_id = 'lis-import-moving:' || w.id"
	" FROM unnest($1::text[], $2::text[]) f(key, chassis_id)"
	" WHERE w.key = f.key AND w.chassis_id <> f.chassis_id";

/* Switches whose chassis IDs change within one import may trade them (A takes B's, B
 * A's: a swapped line card, two rows typed the wrong way round and fixed). chassis_id is
 * unique at every statement, so each stored switch whose chassis ID the files change first
 * gets a placeholder of its own, which its upsert then replaces. A chassis ID taken by a
 * switch the files do not give is an error before this (ctl_check_wiremap), and one taken
 * twice in the files a duplicate. */
static int free_changed_chassis_ids(struct db_conn *c, const struct db_rows *rows,
				    struct lis_error *err)
{
	const struct db_switch_row *w = rows->rows;
	struct db_array a[2] = {0};
	const char *v[2];
	PGresult *res = NULL;
	int rc = 0;

	if (!rows->n)
		return 0;
	for (size_t i = 0; i < rows->n; i++) {
		db_array_add(&a[0], w[i].key);
		db_array_add(&a[1], w[i].chassis_id);
	}
	if (!(v[0] = db_array_end(&a[0])) || !(v[1] = db_array_end(&a[1])))
		rc = lis_error_set(err, DB_E_QUERY, "import: out of memory");
	else if (!(res = db_exec(c, "import: switches", free_chassis_ids, 2, v, PGRES_COMMAND_OK,
				 err)))
		rc = -1;
	PQclear(res);
	db_arrays_free(a, 2);
	return rc;
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
		const char *v[MAX_IDS + 1] = {NULL}, *in_use = d->in_use, *remove = d->remove;
		struct strbuf in_use_sql = {0}, remove_sql = {0};
		bool staged = opts->staged & (1u << e);
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
		for (int j = 0; j < n_ids && rc == 0 && !staged; j++)
			if (!(v[j] = db_array_end(&a[j])))
				rc = lis_error_set(err, DB_E_QUERY, "import: out of memory");
		v[n_ids] = opts->replace_site;
		/* Staged rows stay in the database: the statements read them there. */
		if (staged && ((in_use && staged_sql(d, in_use, n_ids, &in_use_sql) < 0) ||
			       staged_sql(d, remove, n_ids, &remove_sql) < 0))
			rc = lis_error_set(err, DB_E_QUERY, "import: out of memory");
		if (staged) {
			in_use = in_use ? in_use_sql.s : NULL;
			remove = remove_sql.s;
			v[0] = opts->replace_site;
		}
		if (rc == 0 && in_use) {
			res = db_exec(c, "replace: check references", in_use, staged ? 1 : 2, v,
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
			res = db_exec(c, "replace: remove", remove, staged ? 1 : n_ids + 1, v,
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
		strbuf_free(&in_use_sql);
		strbuf_free(&remove_sql);
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

int db_import_begin(struct db_conn *c, struct lis_error *err)
{
	int version;

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
	if (db_run(c, "import: begin", "BEGIN", err) < 0)
		return -1;
	/* The merge of a million staged rows is one statement: no 5 s limit (db_connect)
	 * here, as for a migration. */
	if (db_run(c, "import: begin", "SET LOCAL statement_timeout = 0", err) < 0) {
		db_rollback(c);
		return -1;
	}
	return 0;
}

void db_import_rollback(struct db_conn *c)
{
	db_rollback(c);
}

int db_import_ex(struct db_conn *c, const struct db_import_set *set,
		 const struct db_import_opts *opts, struct db_import_stats *st,
		 struct lis_error *err)
{
	static const struct db_import_opts none;
	struct db_import_stats counts = {0};
	bool *changed[DB_ENTITY_N] = {NULL};
	int rc = -1;

	if (!opts)
		opts = &none;
	if (st)
		*st = counts;
	if (!opts->staged && db_import_begin(c, err) < 0)
		return -1;
	for (int e = 0; e < DB_ENTITY_N; e++)
		if (!(changed[e] = calloc(set->of[e].n + 1, sizeof(bool)))) {
			lis_error_set(err, DB_E_QUERY, "import: out of memory");
			goto out;
		}
	/* Each entity refers only to those before it, except a site's default location,
	 * written once the locations are (a site counts once, whichever of its row and its
	 * default changed). */
	for (int e = 0; e < DB_ENTITY_N; e++) {
		if (e == DB_SWITCHES && free_changed_chassis_ids(c, &set->of[e], err) < 0)
			goto fail;
		if ((opts->staged & (1u << e) ? merge_staged(c, (enum db_entity)e, opts, &counts, err)
		     : import_rows(c, (enum db_entity)e, &set->of[e], changed[e], err)) < 0 ||
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
