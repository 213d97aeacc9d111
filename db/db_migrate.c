/* Schema migrations: db/migrations/NNNN_name.sql, compiled in by embed_migrations.py. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "db_migrations.h"

/* pg_advisory_xact_lock key shared by every `lisctl db migrate`: ASCII "LISMIGR". */
#define DB_MIGRATE_LOCK "5494763433715026"

int db_schema_latest(void)
{
	return db_n_migrations ? db_migrations[db_n_migrations - 1].version : 0;
}

/* The schema's version: the highest migration of this program below which every one of
 * its migrations is recorded in lis_schema (a migration missing in the middle, one merged
 * from a branch after a higher one, makes the schema older than its highest number); the
 * highest recorded when that is newer than this program knows. 0 when the table does not
 * exist yet (empty database). */
static int read_version(struct db_conn *c, int *version, bool *table, struct lis_error *err)
{
	PGresult *res = db_exec(c, "read schema version",
				"SELECT to_regclass('lis_schema') IS NOT NULL", 0, NULL,
				PGRES_TUPLES_OK, err);
	bool exists;

	if (!res)
		return -1;
	exists = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	*version = 0;
	if (table)
		*table = exists;
	if (!exists)
		return 0;
	res = db_exec(c, "read schema version", "SELECT version FROM lis_schema ORDER BY 1", 0,
		      NULL, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	int n = PQntuples(res), highest = n ? atoi(PQgetvalue(res, n - 1, 0)) : 0;
	if (highest > db_schema_latest()) {
		*version = highest;
	} else {
		/* both lists ascend: walk them side by side */
		int row = 0;
		for (size_t i = 0; i < db_n_migrations; i++) {
			int v = db_migrations[i].version;
			while (row < n && atoi(PQgetvalue(res, row, 0)) < v)
				row++;
			if (row == n || atoi(PQgetvalue(res, row, 0)) != v)
				break;
			*version = v;
		}
	}
	PQclear(res);
	return 0;
}

int db_schema_version(struct db_conn *c, int *version, struct lis_error *err)
{
	return read_version(c, version, NULL, err);
}

/* Whether migration version v is recorded in lis_schema (false when there is no such
 * table: an empty database). Every migration not recorded is pending, not only those above
 * the highest: numbers are taken per branch, and one merged after a higher one must still
 * run where the higher one has. */
static int is_applied(struct db_conn *c, bool table, int v, bool *applied,
		      struct lis_error *err)
{
	char vtext[16];
	*applied = false;
	if (!table)
		return 0;
	snprintf(vtext, sizeof vtext, "%d", v);
	const char *const val[] = {vtext};
	PGresult *res = db_exec(c, "read schema version",
				"SELECT count(*) FROM lis_schema WHERE version = $1::int", 1, val,
				PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	*applied = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	PQclear(res);
	return 0;
}

/* Apply the next pending migration in its own transaction, under an advisory lock so that
 * two concurrent `db migrate` runs serialize and the second sees the first one's work.
 * *done is set when nothing was left to apply. */
static int apply_next(struct db_conn *c, int *done, struct lis_error *err)
{
	const char *const lock[] = {DB_MIGRATE_LOCK};
	int version;
	PGresult *res;

	if (db_run(c, "begin migration", "BEGIN", err) < 0)
		return -1;
	res = db_exec(c, "lock for migration", "SELECT pg_advisory_xact_lock($1::bigint)", 1,
		      lock, PGRES_TUPLES_OK, err);
	if (!res)
		goto fail;
	PQclear(res);
	/* A migration may rebuild an index on a large table: no 5 s limit here. */
	if (db_run(c, "migration", "SET LOCAL statement_timeout = 0", err) < 0)
		goto fail;
	bool table;
	if (read_version(c, &version, &table, err) < 0)
		goto fail;
	if (version > db_schema_latest()) {
		lis_error_set(err, DB_E_SCHEMA,
			      "database schema is at version %d, newer than this program knows "
			      "(%d): upgrade lis", version, db_schema_latest());
		goto fail;
	}
	for (unsigned i = 0; i < db_n_migrations; i++) {
		const struct db_migration *m = &db_migrations[i];
		char what[160], vtext[16];

		bool applied;
		if (is_applied(c, table, m->version, &applied, err) < 0)
			goto fail;
		if (applied)
			continue;
		snprintf(what, sizeof(what), "migration %s", m->name);
		/* Migration files hold several statements, which only the simple query
		 * protocol runs; their text is compiled in, never input. */
		res = PQexec(c->pg, m->sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			db_set_error(c, res, err, what);
			if (err)
				err->code = DB_E_SCHEMA;
			PQclear(res);
			goto fail;
		}
		PQclear(res);
		snprintf(vtext, sizeof(vtext), "%d", m->version);
		const char *const rec[] = {vtext, m->name};
		res = db_exec(c, what, "INSERT INTO lis_schema (version, name) VALUES ($1, $2)", 2,
			      rec, PGRES_COMMAND_OK, err);
		if (!res)
			goto fail;
		PQclear(res);
		if (db_run(c, what, "COMMIT", err) < 0)
			goto fail;
		*done = 0;
		return 0;
	}
	*done = 1;
	return db_run(c, "end migration", "COMMIT", err);
fail:
	db_rollback(c);
	return -1;
}

int db_migrate(struct db_conn *c, int *applied, struct lis_error *err)
{
	int done = 0;

	*applied = 0;
	while (!done) {
		if (apply_next(c, &done, err) < 0)
			return -1;
		if (!done)
			(*applied)++;
	}
	return 0;
}
