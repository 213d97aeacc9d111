/* The wiremap as stored, in the rows db_import_ex takes: for `lisctl export`, and for the
 * checks `lisctl import` makes across the files and the database before it writes. Each
 * entity's SELECT is made from its columns in db_entities (db_entity.c). */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

struct owner {
	PGresult *res[DB_ENTITY_N];
};

/* SELECT every column's `select` (and a BSSID's length after it) of the rows of site $1
 * (every row when $1 is NULL; none of a kind that belongs to no site), in key order. */
static void select_sql(const struct db_entity_desc *d, struct strbuf *t)
{
	for (size_t k = 0; k < d->n_cols; k++) {
		strbuf_puts(t, k ? ", " : "SELECT ");
		strbuf_puts(t, d->cols[k].select);
		if (d->cols[k].select_aux) {
			strbuf_puts(t, ", ");
			strbuf_puts(t, d->cols[k].select_aux);
		}
	}
	strbuf_puts(t, " FROM ");
	strbuf_puts(t, d->from);
	strbuf_puts(t, " WHERE $1::text IS NULL");
	if (d->site) {
		strbuf_puts(t, " OR ");
		strbuf_puts(t, d->site);
		strbuf_puts(t, " = $1::text");
	}
	strbuf_puts(t, " ORDER BY ");
	strbuf_puts(t, d->order);
}

/* Result cell (i, j) into column c of row r; returns the cells it used. */
static int from_result(const struct db_column *c, const PGresult *res, int i, int j, void *r)
{
	bool null = PQgetisnull(res, i, j);
	const char *v = null ? NULL : PQgetvalue(res, i, j);

	switch (c->kind) {
	case DB_K_BOOL:
		DB_FIELD(bool, r, c->at) = v && v[0] == 't';
		return 1;
	case DB_K_UINT:
		DB_FIELD(unsigned, r, c->at) = v ? (unsigned)strtoul(v, NULL, 10) : 0;
		return 1;
	case DB_K_REAL:
		DB_FIELD(double, r, c->at) = v ? strtod(v, NULL) : 0;
		if (c->aux && v)
			DB_FIELD(bool, r, c->aux) = true;
		return 1;
	case DB_K_LAST_SEEN:
	case DB_K_FIRST_SEEN:
		DB_FIELD(time_t, r, c->at) = v ? (time_t)strtoll(v, NULL, 10) : 0;
		if (c->aux)
			DB_FIELD(bool, r, c->aux) = v != NULL;
		return 1;
	case DB_K_BSSID:
		DB_FIELD(const char *, r, c->at) = v;
		DB_FIELD(unsigned, r, c->aux) = (unsigned)strtoul(PQgetvalue(res, i, j + 1), NULL,
								  10);
		return 2;
	default:
		DB_FIELD(const char *, r, c->at) = v;
		return 1;
	}
}

void db_wiremap_free(struct db_wiremap *w)
{
	struct owner *o;

	if (!w)
		return;
	o = w->owner_;
	if (o)
		for (int e = 0; e < DB_ENTITY_N; e++)
			PQclear(o->res[e]);
	free(o);
	for (int e = 0; e < DB_ENTITY_N; e++)
		free((void *)w->set.of[e].rows);
	memset(w, 0, sizeof(*w));
}

int db_wiremap_read(struct db_conn *c, const char *site_key, bool bindings,
		    struct db_wiremap *w, struct lis_error *err)
{
	const char *const param[] = {site_key};
	struct owner *o = calloc(1, sizeof(*o));

	memset(w, 0, sizeof(*w));
	if (!o)
		return lis_error_set(err, DB_E_QUERY, "export: out of memory");
	w->owner_ = o;
	for (int e = 0; e < DB_ENTITY_N; e++) {
		const struct db_entity_desc *d = &db_entities[e];
		struct strbuf sql = {0};
		char *rows;
		int n;

		if (d->binding && !bindings)
			continue;
		select_sql(d, &sql);
		if (sql.cut) {
			strbuf_free(&sql);
			goto oom;
		}
		o->res[e] = db_exec(c, "read wiremap", sql.s, 1, param, PGRES_TUPLES_OK, err);
		strbuf_free(&sql);
		if (!o->res[e])
			goto fail;
		n = PQntuples(o->res[e]);
		if (!(rows = calloc((size_t)n + 1, d->row_size)))
			goto oom;
		w->set.of[e] = (struct db_rows){rows, (size_t)n};
		for (int i = 0; i < n; i++)
			for (size_t k = 0, j = 0; k < d->n_cols; k++)
				j += (size_t)from_result(&d->cols[k], o->res[e], i, (int)j,
							 rows + (size_t)i * d->row_size);
	}
	return 0;
oom:
	lis_error_set(err, DB_E_QUERY, "export: out of memory");
fail:
	db_wiremap_free(w);
	return -1;
}
