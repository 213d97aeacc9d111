/* Private to db/: the connection struct, prepared-statement plumbing, the helpers of
 * db_util.c (statements, transactions, array literals), and the civic column list. */
#ifndef DB_INTERNAL_H
#define DB_INTERNAL_H

#include <libpq-fe.h>

#include "db.h"
#include "lis_strbuf.h"

/* Statements prepared lazily, once per connection; the enum value is a bit in
 * db_conn.prepared. */
enum db_stmt_id {
	DB_STMT_LOOKUP_SUBNET,
	DB_STMT_UPDATE_SITE_DEFAULT,
	DB_STMT_UPSERT,           /* + enum db_entity: each entity's upsert (db_import.c) */
	DB_STMT_COLLECT_SWITCHES = DB_STMT_UPSERT + DB_ENTITY_N,
	DB_STMT_COLLECT_MOVES,
	DB_STMT_COLLECT_MAC_PORTS,
	DB_STMT_COLLECT_IP_MACS,
	DB_STMT_COLLECT_LLDP,
	DB_STMT_COLLECT_STATUS_OK,
	DB_STMT_COLLECT_STATUS_FAILED,
	DB_STMT_LEASE_CHECK,
	DB_STMT_FEED_LIST,
	DB_STMT_N_
};
_Static_assert(DB_STMT_N_ <= 32, "db_conn.prepared has one bit per statement");

struct db_stmt {
	enum db_stmt_id id;
	const char *name;
	const char *sql;
	int n_params;
};

struct db_conn {
	PGconn *pg;
	unsigned prepared; /* bit (1u << db_stmt_id) set once prepared on this connection */
	bool notify;       /* db_notify_session(): query log batches open notifications */
};

/* Run a constant SQL text with parameters (PQexecParams, text format). Returns the result
 * when its status is `want`, else NULL with err filled ("what: server message"). */
PGresult *db_exec(struct db_conn *c, const char *what, const char *sql, int n_params,
		  const char *const *values, ExecStatusType want, struct lis_error *err);
/* Same, the result in binary format when binary (parameters still text). */
PGresult *db_exec_fmt(struct db_conn *c, const char *what, const char *sql, int n_params,
		      const char *const *values, bool binary, ExecStatusType want,
		      struct lis_error *err);
/* Same for a statement from a module's table, preparing it first if this connection has not.
 * Errors are prefixed with `what`, or the statement's name when what is NULL. */
PGresult *db_exec_stmt(struct db_conn *c, const struct db_stmt *s, const char *what,
		       const char *const *values, ExecStatusType want, struct lis_error *err);
/* Fill err from a failed result (or from the connection when res is NULL), prefixed by what.
 * The code is DB_E_CONNECT when the connection broke, DB_E_INPUT for data the server refused
 * (SQLSTATE classes 22 and 23), else DB_E_QUERY. Returns -1. */
int db_set_error(struct db_conn *c, const PGresult *res, struct lis_error *err,
		 const char *what);

/* Run a write of n parameters that returns no rows: the number of rows it touched, or -1. */
int db_exec_touched(struct db_conn *c, const char *what, const char *sql, int n,
		    const char *const *values, struct lis_error *err);
/* Run a constant statement that returns no rows (BEGIN, COMMIT, SET, DECLARE, ...). */
int db_run(struct db_conn *c, const char *what, const char *sql, struct lis_error *err);
/* Roll back the transaction a failed step left open, when the connection still works. */
void db_rollback(struct db_conn *c);

/* One field of a line of COPY ... FROM STDIN (text format), after a tab unless first;
 * v NULL: \N. The caller ends the line with "\n". */
void db_copy_field(struct strbuf *b, const char *v, bool first);

/* A PostgreSQL array literal ({"a","b",NULL}) for a text[] (or any other array) parameter.
 * Every element is quoted, so that no value can end or split the array. */
struct db_array {
	struct strbuf t;
	size_t n;         /* elements so far */
};
void db_array_add(struct db_array *a, const char *v);  /* v NULL: a NULL element */
/* A short formatted element holding no quote or backslash (a number, a MAC). */
void db_array_addf(struct db_array *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Close the literal; NULL when out of memory. Call once. */
const char *db_array_end(struct db_array *a);
/* Free n arrays. */
void db_arrays_free(struct db_array *a, size_t n);

/* The RFC 5139 columns of table location, in enum civic_field order (proto/civic.h). */
#define DB_CIVIC_COLUMNS(X) \
	X(country) X(a1) X(a2) X(a3) X(a4) X(a5) X(a6) \
	X(prm) X(prd) X(rd) X(sts) X(pod) X(pom) \
	X(rdsec) X(rdbr) X(rdsubbr) X(hno) X(hns) \
	X(lmk) X(loc) X(flr) X(nam) X(pc) X(bld) \
	X(unit) X(room) X(seat) X(plc) X(pcn) X(pobox) \
	X(addcode)
#define DB_COUNT_ONE_(c) +1
_Static_assert(0 DB_CIVIC_COLUMNS(DB_COUNT_ONE_) == CIVIC_N_FIELDS,
	       "DB_CIVIC_COLUMNS must list every civic field");

#endif
