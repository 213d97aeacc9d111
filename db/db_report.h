/* Read-only report queries for auditors (`lisctl report`, lisctl(8)). Each report section is
 * one constant, parameterized SELECT; the result comes back as a table of text cells with a
 * type per column, so that lisctl can write it as CSV, JSON or HTML without knowing SQL. */
#ifndef DB_REPORT_H
#define DB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "db.h"

/* Every section lisctl can ask for. The order is the order sections appear in a report. */
enum db_report_section {
	DB_REP_QUERIES,                 /* query_log rows of the period */
	DB_REP_SUBNETS_NO_LOCATION,     /* coverage */
	DB_REP_PORTS_NO_LOCATION,
	DB_REP_BSSIDS_NO_LOCATION,
	DB_REP_ENDPOINTS_UNLOCATABLE,
	DB_REP_LOCATIONS_NOT_DISPATCHABLE,
	DB_REP_STALE_BINDINGS,          /* staleness */
	DB_REP_STALE_SWITCHES,
	DB_REP_STALE_DECLARATIONS,
	DB_REP_SHARED_LOCATIONS,        /* risk */
	DB_REP_SITE_DISAGREEMENTS,
	DB_REP_EMERGENCY_FALLBACK,
	DB_REP_MAC_MOVES_BETWEEN_SITES,
	DB_REP_SUMMARY_SITES,           /* summary */
	DB_REP_SUMMARY_SOURCES,
	DB_REP_SUMMARY_DAYS,
	DB_REP_NEVER_LOCATED,           /* never-located (onboarding) */
	DB_REP_DECLARATIONS_EXPIRED,    /* declarations */
	DB_REP_DECLARATIONS_DUE,
	DB_REP_USERS_WITHOUT_DECLARATION,
	DB_REP_COMPLIANCE_DATABASE,     /* compliance: what the rest is read from */
	DB_REP_COMPLIANCE_SITES,
	DB_REP_COMPLIANCE_ERLS,         /* every location of a site: its dispatchable address */
	DB_REP_COMPLIANCE_ENDPOINTS,    /* active endpoints, for lisctl to resolve */
	DB_REP_COMPLIANCE_PORTS,        /* ports per site, and how many have a location */
	DB_REP_COMPLIANCE_BSSIDS,
	DB_REP_NOTIFICATION_LOG,        /* real calls' notifications, one row per delivery */
	DB_REP_TEST_CALLS,              /* test-mode queries and what their notices did */
	DB_REP_N_
};

/* What a column's cells hold; cells are always text as PostgreSQL prints them, except
 * booleans, which are "true"/"false". */
enum db_col_type { DB_COL_TEXT, DB_COL_INT, DB_COL_REAL, DB_COL_BOOL };

/* One section's answer. Everything is owned by the struct. */
struct db_table {
	enum db_report_section section;
	const char *name;               /* the section's identifier, e.g. "stale_switches" */
	size_t n_cols, n_rows;
	char **cols;                    /* column names */
	enum db_col_type *types;
	char **cells;                   /* row-major, n_rows * n_cols; NULL = SQL NULL */
	char *missing;                  /* set when a table the section reads does not exist
					 * (schema older than the migration that adds it): why */
};
void db_table_clear(struct db_table *t);
/* Cell (row, col), NULL for SQL NULL. */
const char *db_table_cell(const struct db_table *t, size_t row, size_t col);

/* Filters. Unset members do not filter. */
struct db_report_filter {
	bool has_from, has_to;
	time_t from, to;                /* query_log.at / mac_move.moved_at in [from, to) */
	const char *site;               /* a site key */
	const char *result;             /* query_log.result */
	const char *source;             /* query_log.source */
	unsigned days;                  /* staleness: older than this many days; declarations:
					 * due within this many days */
	unsigned max_binding_age;       /* coverage: seconds; older bindings locate nothing */
};

/* The section's identifier ("ports_without_location", ...). */
const char *db_report_section_name(enum db_report_section s);

/* Run one section. Returns 0 with *out filled (out->missing set, and no rows, when a table
 * it needs does not exist yet), or -1 with err filled. */
int db_report_run(struct db_conn *c, enum db_report_section s,
		  const struct db_report_filter *f, struct db_table *out, struct lis_error *err);

#endif
