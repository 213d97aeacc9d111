/* Connecting to PostgreSQL and running statements; every other db_*.c file goes through
 * db_exec() or db_exec_stmt(), so error wording and the prepared-statement cache live here. */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* Server-side limit per statement, so that a stuck query cannot stall a HELD answer. */
#define DB_STATEMENT_TIMEOUT "5s"

/* Copy a libpq message into buf as one line: runs of white space (libpq's message lines)
 * become one space. */
static void one_line(char *buf, size_t size, const char *msg)
{
	size_t n = 0;

	for (; msg && *msg && n + 1 < size; msg++) {
		bool space = *msg == '\n' || *msg == '\r' || *msg == '\t' || *msg == ' ';
		if (space && (n == 0 || buf[n - 1] == ' '))
			continue;
		buf[n++] = space ? ' ' : *msg;
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

struct db_conn *db_connect(const char *conninfo, struct lis_error *err)
{
	/* Defaults come first: with expand_dbname the conninfo string (the "dbname" entry)
	 * overrides every entry before it, so a connect_timeout or application_name the
	 * operator wrote wins. No string is built from the operator's conninfo. */
	const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const values[] = {"3", "lis", conninfo ? conninfo : "", NULL};
	struct db_conn *c = calloc(1, sizeof(*c));
	char msg[200];

	if (!c) {
		lis_error_set(err, DB_E_CONNECT, "database: out of memory");
		return NULL;
	}
	c->pg = PQconnectdbParams(keys, values, 1);
	if (!c->pg) {
		free(c);
		lis_error_set(err, DB_E_CONNECT, "database: out of memory");
		return NULL;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		/* libpq's message names host and reason, never the password. */
		one_line(msg, sizeof(msg), PQerrorMessage(c->pg));
		lis_error_set(err, DB_E_CONNECT, "database: cannot connect: %s",
			      msg[0] ? msg : "unknown error");
		db_close(c);
		return NULL;
	}
	PQsetNoticeProcessor(c->pg, ignore_notice, NULL);

	const char *const tv[] = {DB_STATEMENT_TIMEOUT};
	PGresult *res = db_exec(c, "database: set statement_timeout",
				"SELECT set_config('statement_timeout', $1, false)", 1, tv,
				PGRES_TUPLES_OK, err);
	if (!res) {
		db_close(c);
		return NULL;
	}
	PQclear(res);
	return c;
}

void db_close(struct db_conn *c)
{
	if (!c)
		return;
	if (c->pg)
		PQfinish(c->pg);
	free(c);
}

bool db_is_ok(const struct db_conn *c)
{
	return c && c->pg && PQstatus(c->pg) == CONNECTION_OK;
}

int db_set_error(struct db_conn *c, const PGresult *res, struct lis_error *err,
		 const char *what)
{
	char msg[200], detail[120] = "";
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	enum lis_errc code = DB_E_QUERY;

	one_line(msg, sizeof(msg), primary ? primary : PQerrorMessage(c->pg));
	if (!db_is_ok(c))
		code = DB_E_CONNECT;
	else if (state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
		code = DB_E_INPUT;
	/* A unique violation says which key in its detail ("Key (mac)=(...) already exists."):
	 * without it the operator cannot tell which value collided. Other details may repeat
	 * a whole row, so they stay out. */
	if (state && strcmp(state, "23505") == 0)
		one_line(detail, sizeof(detail), PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
	return lis_error_set(err, code, "%s: %s%s%s", what, msg[0] ? msg : "unknown error",
			     detail[0] ? ": " : "", detail);
}

static PGresult *check_result(struct db_conn *c, PGresult *res, ExecStatusType want,
			      const char *what, struct lis_error *err)
{
	if (res && PQresultStatus(res) == want)
		return res;
	db_set_error(c, res, err, what);
	PQclear(res);
	return NULL;
}

PGresult *db_exec(struct db_conn *c, const char *what, const char *sql, int n_params,
		  const char *const *values, ExecStatusType want, struct lis_error *err)
{
	return db_exec_fmt(c, what, sql, n_params, values, false, want, err);
}

PGresult *db_exec_fmt(struct db_conn *c, const char *what, const char *sql, int n_params,
		      const char *const *values, bool binary, ExecStatusType want,
		      struct lis_error *err)
{
	if (!db_is_ok(c)) {
		lis_error_set(err, DB_E_CONNECT, "%s: not connected", what);
		return NULL;
	}
	return check_result(c, PQexecParams(c->pg, sql, n_params, NULL, values, NULL, NULL,
					    binary ? 1 : 0),
			    want, what, err);
}

PGresult *db_exec_stmt(struct db_conn *c, const struct db_stmt *s, const char *what,
		       const char *const *values, ExecStatusType want, struct lis_error *err)
{
	unsigned bit = 1u << s->id;

	if (!what)
		what = s->name;
	if (!db_is_ok(c)) {
		lis_error_set(err, DB_E_CONNECT, "%s: not connected", what);
		return NULL;
	}
	if (!(c->prepared & bit)) {
		PGresult *res = check_result(c, PQprepare(c->pg, s->name, s->sql, s->n_params,
							  NULL),
					     PGRES_COMMAND_OK, what, err);
		if (!res)
			return NULL;
		PQclear(res);
		c->prepared |= bit;
	}
	return check_result(c, PQexecPrepared(c->pg, s->name, s->n_params, values, NULL, NULL, 0),
			    want, what, err);
}
