/* The only code that speaks SQL: migrations and a narrow API over libpq.
 * Every statement is parameterized; nothing here builds SQL from input. */
#ifndef DB_H
#define DB_H

#include <stdbool.h>
#include <stddef.h>

#include "civic.h"
#include "lis_error.h"

/* Error codes carried in lis_error.code by this layer. */
enum db_error_code {
	DB_E_CONNECT = 1,   /* PostgreSQL unreachable or refused us */
	DB_E_QUERY,         /* a statement failed */
	DB_E_SCHEMA,        /* schema missing or newer than this program knows */
	DB_E_INPUT,         /* the caller's data was refused (constraint, bad value) */
};

struct db_conn;

/* Connect with a libpq conninfo string ("host=... dbname=..."); a connect timeout applies
 * (connect_timeout=3 unless the string sets one). Never logs the conninfo (it may hold a
 * password). */
struct db_conn *db_connect(const char *conninfo, struct lis_error *err);
void db_close(struct db_conn *c);
/* False once the connection has broken; the caller may db_close() and reconnect. */
bool db_is_ok(const struct db_conn *c);

/* Apply every migration newer than the database's schema version, each in its own
 * transaction. *applied gets the count (0 when up to date). */
int db_migrate(struct db_conn *c, int *applied, struct lis_error *err);
/* Current schema version (0 for an empty database), and the newest one this build knows. */
int db_schema_version(struct db_conn *c, int *version, struct lis_error *err);
int db_schema_latest(void);

/* A location as stored: all strings owned by the struct. */
struct db_location {
	long long id;
	char *key;                        /* the location's name in the wiremap (CSV "location") */
	char *site_key;                   /* its site's key */
	char *site_name;
	char *civic_storage[CIVIC_N_FIELDS];
	char *lang;
	struct civic_address civic;       /* points into civic_storage/lang */
	bool has_geo;
	double lat, lon;
	bool has_alt;
	double alt;
	double uncertainty;               /* metres, 0 when unknown */
	char *matched;                    /* what matched, e.g. the subnet "10.1.2.0/24" */
};
void db_location_clear(struct db_location *loc);

/* Longest-prefix match of an IPv4 or IPv6 address (text) against the subnet wiremap.
 * Returns 1 and fills *loc on a match, 0 when no subnet covers it, -1 on error. */
int db_lookup_subnet(struct db_conn *c, const char *ip, struct db_location *loc,
		     struct lis_error *err);

/* Rows for import: what lisctl parsed from CSV, already validated for shape. Strings are
 * borrowed. `line` is the source line, used in error messages. */
struct db_site_row {
	const char *key, *name, *description;
	const char *file;
	unsigned line;
};
struct db_location_row {
	const char *key, *site_key, *lang;
	const char *civic[CIVIC_N_FIELDS];
	bool has_geo;
	double lat, lon;
	bool has_alt;
	double alt;
	double uncertainty;
	const char *file;
	unsigned line;
	unsigned ref_col;                 /* column of site_key, for messages; 0 = unknown */
};
struct db_subnet_row {
	const char *prefix, *location_key, *description;
	const char *file;
	unsigned line;
	unsigned ref_col;                 /* column of location_key, for messages; 0 = unknown */
};
struct db_import_set {
	const struct db_site_row *sites; size_t n_sites;
	const struct db_location_row *locations; size_t n_locations;
	const struct db_subnet_row *subnets; size_t n_subnets;
};
struct db_import_stats {
	size_t sites, locations, subnets; /* rows inserted or updated */
};
/* Upsert everything in one transaction: all or nothing. A row the database refuses
 * (unknown site or location key, bad prefix) fails the whole import with
 * "file:line: reason" in err ("file:line:col: reason" when ref_col is set and the
 * reference is what failed). Rows equal to what is stored are not rewritten, and count
 * nothing in *st. Sends NOTIFY wiremap_changed on commit when anything changed. */
int db_import(struct db_conn *c, const struct db_import_set *set, struct db_import_stats *st,
	      struct lis_error *err);

#endif
