/* The only code that speaks SQL: migrations and a narrow API over libpq.
 * Every statement is parameterized; nothing here builds SQL from input. */
#ifndef DB_H
#define DB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "civic.h"
#include "db_entity.h"
#include "lis_error.h"

/* This layer fails with DB_E_CONNECT, DB_E_QUERY, DB_E_SCHEMA or DB_E_INPUT (lis_error.h). */

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
 * Returns 1 and fills *loc on a match, 0 when no subnet covers it, -1 on error. No program
 * calls it (lisd answers from its in-memory snapshot): it is the SQL baseline that
 * bench/subnet_lookup times the snapshot against, and test_lisctl's check of IPv6 subnets
 * as PostgreSQL's own inet operators see them. */
int db_lookup_subnet(struct db_conn *c, const char *ip, struct db_location *loc,
		     struct lis_error *err);

/* Rows for import, one struct per entity (their columns: db_entity.c): what lisctl parsed
 * from a file, already validated for shape and written in canonical form (MACs
 * "00:11:22:33:44:55", addresses as inet_ntop prints them, URIs as ident_uri_normalize
 * leaves them). Strings are borrowed; NULL = absent. `line` is the source line and the *_col
 * fields the columns of references (0 = unknown), used in messages. */
struct db_site_row {
	const char *key, *name, *description;
	const char *default_location_key; /* a location of this site; NULL: none */
	bool allow_default;               /* the default may answer (needs a default) */
	const char *file;
	unsigned line;
	unsigned ref_col;                 /* column of default_location_key */
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
	unsigned ref_col;                 /* column of site_key */
	unsigned key_col;                 /* column of key */
	unsigned civic_col[CIVIC_N_FIELDS]; /* column of each civic field; 0: none in the file */
};
struct db_subnet_row {
	const char *prefix, *location_key, *description;
	bool remote;                      /* a VPN pool: off premises (location optional) */
	const char *file;
	unsigned line;
	unsigned ref_col;                 /* column of location_key */
	unsigned prefix_col;              /* column of prefix */
};
struct db_switch_row {
	const char *key, *site_key;
	const char *chassis_id;           /* a MAC in canonical form, anything else verbatim */
	const char *mgmt_address;         /* a host address */
	const char *location_key;         /* default for its ports */
	const char *description;
	/* How wiremapd polls it (at mgmt_address; never without one). Credentials are not
	 * here: snmp_profile names a [snmp.NAME] profile of wiremapd.conf. */
	const char *snmp_profile;         /* NULL: the [snmp] default profile */
	unsigned snmp_port;               /* 0: 161 */
	unsigned poll_interval;           /* seconds; 0: wiremapd.conf's [poll] interval */
	bool poll_enabled;
	const char *file;
	unsigned line;
	unsigned site_col, location_col;
};
struct db_port_row {
	const char *switch_key, *port_id, *location_key, *description;
	const char *file;
	unsigned line;
	unsigned switch_col, location_col;
};
struct db_bssid_row {
	const char *bssid;                /* canonical MAC, bits past prefix_len zero */
	unsigned prefix_len;              /* 1..48; 48 = this one BSSID */
	const char *ap, *location_key;
	const char *file;
	unsigned line;
	unsigned location_col;
};
/* An endpoint class and its policy (lis-wiremap(5) classes.csv). */
struct db_class_row {
	const char *key, *description;
	bool use_port, use_bssid, use_subnet, use_static, use_declared; /* evidence counted */
	unsigned max_binding_age;         /* seconds; 0: lisd's [wiremap] max_binding_age */
	unsigned reconfirm_interval;      /* seconds; 0: a declaration lasts until it expires */
	const char *no_fresh;             /* locationUnknown, site-default, declared */
	const char *file;
	unsigned line;
};
struct db_endpoint_row {
	const char *key;
	const char *class_;               /* an endpoint class: desk_phone, softphone, ... */
	const char *owner;                /* the user it belongs to (declared locations) */
	const char *mac, *uri, *tel;      /* at least one */
	const char *location_key;         /* static assignment */
	const char *active;               /* "true", "false" (offboarded); NULL: as stored (a
					   * new endpoint: true) */
	const char *file;
	unsigned line;
	unsigned location_col, class_col;
};
/* When and by whom a binding was observed. Without first_seen a new binding starts at
 * last_seen and a known one keeps its first_seen; source NULL is stored as "import". */
struct db_seen {
	time_t first_seen, last_seen;
	bool has_first_seen;
	const char *source;
};
struct db_mac_port_row {
	const char *mac, *switch_key, *port_id;
	struct db_seen seen;
	const char *file;
	unsigned line;
	unsigned switch_col;
};
struct db_ip_mac_row {
	const char *ip, *mac;             /* ip: a host address */
	struct db_seen seen;
	const char *file;
	unsigned line;
};
struct db_mac_bssid_row {
	const char *mac, *bssid;
	struct db_seen seen;
	const char *file;
	unsigned line;
};
/* The rows of one entity: an array of its row struct above. */
struct db_rows {
	const void *rows;
	size_t n;
};
struct db_import_set {
	struct db_rows of[DB_ENTITY_N];   /* indexed by enum db_entity */
};
struct db_import_stats {
	size_t changed[DB_ENTITY_N];      /* rows inserted or updated */
	size_t added[DB_ENTITY_N];        /* of those, inserted: staged entities only */
	size_t removed[DB_ENTITY_N];      /* rows deleted by db_import_opts.replace */
};
/* What db_import_ex does besides upserting the set. */
struct db_import_opts {
	bool dry_run;                     /* roll back at the end, whatever changed */
	/* Remove rows of each entity whose bit (1u << db_entity) is set and that the set does
	 * not hold: every such row, or with replace_site only that site's (its locations, the
	 * subnets, BSSIDs and endpoints at them, its switches and their ports and MAC-port
	 * bindings; never the site itself). A row still used by a row that stays is not
	 * removed: the import fails naming both. */
	unsigned replace;
	const char *replace_site;
	/* Optional, one flag per row of the set's entity: set when the row was written. */
	bool *row_changed[DB_ENTITY_N];
	/* Optional: called with each removed row's key ("switch port", "bssid/len", ...). */
	void (*removed)(void *ctx, enum db_entity e, const char *key);
	/* Entities (1u << db_entity) whose rows are staged (db_stage_open) rather than in the
	 * set: the caller began the transaction (db_import_begin) and staged them in it. */
	unsigned staged;
	void *ctx;
	/* Optional: called with each staged row written, by its key, in file order. */
	void (*changed_row)(void *changed_ctx, enum db_entity e, const char *key, bool added);
	void *changed_ctx;
};
/* Upsert everything in one transaction: all or nothing. Keys: site, location, subnet
 * prefix, switch, (switch, port), (bssid, prefix_len), endpoint, and each binding's whole
 * identity. A row the database refuses (a reference in neither the files nor the database,
 * a site's default location of another site, a chassis ID or endpoint identity already
 * taken by another key, a bad value) fails the whole import with "file:line: reason" in
 * err ("file:line:col: reason" when the column is known and the reference is what failed).
 * Rows equal to what is stored are not rewritten, and count nothing in *st. When nothing
 * changed the transaction is rolled back, so that the change feed (migration 0006) tells
 * lisd only of a real change. opts may be NULL (none); a dry run
 * rolls back even when something changed. */
int db_import_ex(struct db_conn *c, const struct db_import_set *set,
		 const struct db_import_opts *opts, struct db_import_stats *st,
		 struct lis_error *err);

/* Rows too many to hold (issue 10) go to the database as they are read, into a temporary
 * table of the import's transaction, and are merged from there by db_import_ex
 * (db_import_opts.staged): db_import_begin checks the schema and begins the transaction;
 * db_stage_open starts an entity's table (COPY FROM STDIN: nothing else may run on c until
 * db_stage_close), db_stage_put adds a row (ok false: it has errors of its own, and only
 * its key counts) with its key as messages write it and the key's column, and
 * db_stage_close ends it (and frees st). db_stage_duplicates then calls fn for each staged
 * row whose key an earlier row has, in file order. db_import_rollback ends the transaction
 * when the import stops before db_import_ex. */
int db_import_begin(struct db_conn *c, struct lis_error *err);
struct db_stage;
struct db_stage *db_stage_open(struct db_conn *c, enum db_entity e, struct lis_error *err);
int db_stage_put(struct db_stage *st, const void *row, bool ok, const char *key,
		 unsigned key_col, struct lis_error *err);
int db_stage_close(struct db_stage *st, struct lis_error *err);
int db_stage_duplicates(struct db_conn *c, enum db_entity e,
			void (*fn)(void *ctx, unsigned line, unsigned col, const char *key,
				   unsigned first_line),
			void *ctx, struct lis_error *err);
void db_import_rollback(struct db_conn *c);

/* The wiremap as stored, in the rows db_import takes (file NULL, line 0), in key order:
 * every row, or with site_key only that site's (as db_import_opts.replace_site says; the
 * site itself included). Bindings only when `bindings`. The strings are owned by w. */
struct db_wiremap {
	struct db_import_set set;
	void *owner_;                     /* the results the strings point into */
};
int db_wiremap_read(struct db_conn *c, const char *site_key, bool bindings,
		    struct db_wiremap *w, struct lis_error *err);
void db_wiremap_free(struct db_wiremap *w);

#endif
