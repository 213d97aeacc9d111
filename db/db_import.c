/* Import of a wiremap (sites, locations, subnets) in one transaction: all or nothing.
 * Each upsert rewrites a row only when a value differs, so that importing the same files
 * twice changes nothing and the counts say what really changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

static const struct db_stmt upsert_site = {
	DB_STMT_UPSERT_SITE, "lis_upsert_site",
	"INSERT INTO site (key, name, description) VALUES ($1::text, $2::text, $3::text)"
	" ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name,"
	" description = EXCLUDED.description"
	" WHERE (site.name, site.description)"
	" IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description)",
	3,
};

#define COL_(c) #c ", "
#define SET_(c) #c " = EXCLUDED." #c ", "
#define OLD_(c) "location." #c ", "
#define NEW_(c) "EXCLUDED." #c ", "

/* $1 key, $2 site key, $3 lang, $4..$34 civic fields in enum order, $35..$38 geo.
 * Returns (site found: 0/1, rows written: 0/1). */
static const struct db_stmt upsert_location = {
	DB_STMT_UPSERT_LOCATION, "lis_upsert_location",
	"WITH s AS (SELECT id FROM site WHERE key = $2::text),"
	" u AS (INSERT INTO location (key, site_id, lang, " DB_CIVIC_COLUMNS(COL_)
	"latitude, longitude, altitude, uncertainty)"
	" SELECT $1::text, s.id, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text,"
	" $9::text, $10::text, $11::text, $12::text, $13::text, $14::text, $15::text, $16::text,"
	" $17::text, $18::text, $19::text, $20::text, $21::text, $22::text, $23::text, $24::text,"
	" $25::text, $26::text, $27::text, $28::text, $29::text, $30::text, $31::text, $32::text,"
	" $33::text, $34::text, $35::float8, $36::float8, $37::float8, $38::float8 FROM s"
	" ON CONFLICT (key) DO UPDATE SET site_id = EXCLUDED.site_id, lang = EXCLUDED.lang, "
	DB_CIVIC_COLUMNS(SET_)
	"latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,"
	" altitude = EXCLUDED.altitude, uncertainty = EXCLUDED.uncertainty"
	" WHERE (location.site_id, location.lang, " DB_CIVIC_COLUMNS(OLD_)
	"location.latitude, location.longitude, location.altitude, location.uncertainty)"
	" IS DISTINCT FROM (EXCLUDED.site_id, EXCLUDED.lang, " DB_CIVIC_COLUMNS(NEW_)
	"EXCLUDED.latitude, EXCLUDED.longitude, EXCLUDED.altitude, EXCLUDED.uncertainty)"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM u)",
	38,
};

/* $1 prefix, $2 location key, $3 description. Returns (location found, rows written). */
static const struct db_stmt upsert_subnet = {
	DB_STMT_UPSERT_SUBNET, "lis_upsert_subnet",
	"WITH l AS (SELECT id FROM location WHERE key = $2::text),"
	" u AS (INSERT INTO subnet (prefix, location_id, description)"
	" SELECT $1::cidr, l.id, $3::text FROM l"
	" ON CONFLICT (prefix) DO UPDATE SET location_id = EXCLUDED.location_id,"
	" description = EXCLUDED.description"
	" WHERE (subnet.location_id, subnet.description)"
	" IS DISTINCT FROM (EXCLUDED.location_id, EXCLUDED.description)"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM u)",
	3,
};

/* "file:line" of a row, for messages. */
static const char *place(char *buf, size_t size, const char *file, unsigned line)
{
	snprintf(buf, size, "%s:%u", file ? file : "(input)", line);
	return buf;
}

static int import_sites(struct db_conn *c, const struct db_import_set *set, size_t *changed,
			struct lis_error *err)
{
	for (size_t i = 0; i < set->n_sites; i++) {
		const struct db_site_row *r = &set->sites[i];
		const char *const v[] = {r->key, r->name, r->description};
		char where[160];
		PGresult *res;

		res = db_exec_stmt(c, &upsert_site, place(where, sizeof(where), r->file, r->line),
				   v, PGRES_COMMAND_OK, err);
		if (!res)
			return -1;
		*changed += strcmp(PQcmdTuples(res), "0") != 0;
		PQclear(res);
	}
	return 0;
}

/* Text for an optional double parameter: NULL when absent; %.17g round-trips exactly, so an
 * unchanged value compares equal on re-import. */
static const char *num(char *buf, size_t size, bool present, double v)
{
	if (!present)
		return NULL;
	snprintf(buf, size, "%.17g", v);
	return buf;
}

/* Outcome of an upsert that resolves a reference: found = the referenced key exists. */
static int reference_upsert(struct db_conn *c, const struct db_stmt *s, const char *where,
			    const char *const *v, bool *found, size_t *changed,
			    struct lis_error *err)
{
	PGresult *res = db_exec_stmt(c, s, where, v, PGRES_TUPLES_OK, err);

	if (!res)
		return -1;
	*found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	*changed += strcmp(PQgetvalue(res, 0, 1), "0") != 0;
	PQclear(res);
	return 0;
}

static int import_locations(struct db_conn *c, const struct db_import_set *set, size_t *changed,
			    struct lis_error *err)
{
	for (size_t i = 0; i < set->n_locations; i++) {
		const struct db_location_row *r = &set->locations[i];
		const char *v[3 + CIVIC_N_FIELDS + 4];
		char where[160], lat[32], lon[32], alt[32], unc[32];
		bool found;
		int n = 0;

		v[n++] = r->key;
		v[n++] = r->site_key;
		v[n++] = r->lang;
		for (int f = 0; f < CIVIC_N_FIELDS; f++)
			v[n++] = r->civic[f];
		v[n++] = num(lat, sizeof(lat), r->has_geo, r->lat);
		v[n++] = num(lon, sizeof(lon), r->has_geo, r->lon);
		v[n++] = num(alt, sizeof(alt), r->has_geo && r->has_alt, r->alt);
		v[n++] = num(unc, sizeof(unc), r->has_geo && r->uncertainty > 0, r->uncertainty);
		place(where, sizeof(where), r->file, r->line);
		if (reference_upsert(c, &upsert_location, where, v, &found, changed, err) < 0)
			return -1;
		if (!found) {
			if (r->ref_col)
				return lis_error_set(err, DB_E_INPUT,
						     "%s:%u: unknown site \"%.80s\" (in neither "
						     "the sites file nor the database)",
						     where, r->ref_col, r->site_key);
			return lis_error_set(err, DB_E_INPUT,
					     "%s: unknown site \"%.80s\" (in neither the sites "
					     "file nor the database)", where, r->site_key);
		}
	}
	return 0;
}

static int import_subnets(struct db_conn *c, const struct db_import_set *set, size_t *changed,
			  struct lis_error *err)
{
	for (size_t i = 0; i < set->n_subnets; i++) {
		const struct db_subnet_row *r = &set->subnets[i];
		const char *const v[] = {r->prefix, r->location_key, r->description};
		char where[160];
		bool found;

		place(where, sizeof(where), r->file, r->line);
		if (reference_upsert(c, &upsert_subnet, where, v, &found, changed, err) < 0)
			return -1;
		if (!found) {
			if (r->ref_col)
				return lis_error_set(err, DB_E_INPUT,
						     "%s:%u: unknown location \"%.80s\" (in neither "
						     "the locations file nor the database)",
						     where, r->ref_col, r->location_key);
			return lis_error_set(err, DB_E_INPUT,
					     "%s: unknown location \"%.80s\" (in neither the "
					     "locations file nor the database)", where,
					     r->location_key);
		}
	}
	return 0;
}

static int run(struct db_conn *c, const char *what, const char *sql, ExecStatusType want,
	       struct lis_error *err)
{
	PGresult *res = db_exec(c, what, sql, 0, NULL, want, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int db_import(struct db_conn *c, const struct db_import_set *set, struct db_import_stats *st,
	      struct lis_error *err)
{
	struct db_import_stats counts = {0};
	int version;

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
	if (run(c, "import: begin", "BEGIN", PGRES_COMMAND_OK, err) < 0)
		return -1;
	/* Sites before locations before subnets: each refers to the one before. */
	if (import_sites(c, set, &counts.sites, err) < 0 ||
	    import_locations(c, set, &counts.locations, err) < 0 ||
	    import_subnets(c, set, &counts.subnets, err) < 0)
		goto fail;
	/* Readers (lisd) reload on this; NOTIFY is delivered only if we commit. */
	if (counts.sites + counts.locations + counts.subnets > 0 &&
	    run(c, "import: notify", "SELECT pg_notify('wiremap_changed', '')", PGRES_TUPLES_OK,
		err) < 0)
		goto fail;
	if (run(c, "import: commit", "COMMIT", PGRES_COMMAND_OK, err) < 0)
		goto fail;
	if (st)
		*st = counts;
	return 0;
fail:
	if (db_is_ok(c))
		PQclear(PQexec(c->pg, "ROLLBACK"));
	return -1;
}
