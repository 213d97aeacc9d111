/* Helpers every db_*.c file shares: statements without a result (BEGIN, COMMIT, DECLARE),
 * ending a failed transaction, the fields of COPY lines, and PostgreSQL array literals,
 * which carry a batch of rows as one parameter: no SQL text is ever built from data. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

int db_run(struct db_conn *c, const char *what, const char *sql, struct lis_error *err)
{
	PGresult *res = db_exec(c, what, sql, 0, NULL, PGRES_COMMAND_OK, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int db_exec_touched(struct db_conn *c, const char *what, const char *sql, int n,
		    const char *const *values, struct lis_error *err)
{
	PGresult *res = db_exec(c, what, sql, n, values, PGRES_COMMAND_OK, err);
	if (!res)
		return -1;
	int k = atoi(PQcmdTuples(res));
	PQclear(res);
	return k;
}

void db_rollback(struct db_conn *c)
{
	/* Nothing to report: the caller already holds the error that made it roll back, and
	 * on a broken connection the server rolls back by itself. */
	if (db_is_ok(c))
		PQclear(PQexec(c->pg, "ROLLBACK"));
}

/* COPY text format: backslash, tab, newline and carriage return escaped; NULL as \N. */
void db_copy_field(struct strbuf *b, const char *v, bool first)
{
	if (!first)
		strbuf_put(b, "\t", 1);
	if (!v) {
		strbuf_put(b, "\\N", 2);
		return;
	}
	while (*v) {
		size_t n = strcspn(v, "\\\t\n\r");
		strbuf_put(b, v, n);
		v += n;
		if (!*v)
			break;
		strbuf_put(b, *v == '\\' ? "\\\\" : *v == '\t' ? "\\t" :
			   *v == '\n' ? "\\n" : "\\r", 2);
		v++;
	}
}

/* The array input syntax (not SQL): NULL unquoted, anything else double-quoted with " and
 * \ escaped. A quoted element is read by its type's input function, numbers included. */
void db_array_add(struct db_array *a, const char *v)
{
	strbuf_put(&a->t, a->n++ ? "," : "{", 1);
	if (!v) {
		strbuf_put(&a->t, "NULL", 4);
		return;
	}
	strbuf_put(&a->t, "\"", 1);
	while (*v) {
		size_t run = strcspn(v, "\"\\");

		strbuf_put(&a->t, v, run);
		v += run;
		if (*v) {
			const char esc[2] = {'\\', *v++};
			strbuf_put(&a->t, esc, 2);
		}
	}
	strbuf_put(&a->t, "\"", 1);
}

void db_array_addf(struct db_array *a, const char *fmt, ...)
{
	va_list ap;

	/* Numbers and MACs hold no quote or backslash: nothing to escape. */
	strbuf_put(&a->t, a->n++ ? ",\"" : "{\"", 2);
	va_start(ap, fmt);
	strbuf_vprintf(&a->t, fmt, ap);
	va_end(ap);
	strbuf_put(&a->t, "\"", 1);
}

const char *db_array_end(struct db_array *a)
{
	if (!a->n)
		strbuf_put(&a->t, "{", 1);
	strbuf_put(&a->t, "}", 1);
	return a->t.cut ? NULL : a->t.s;
}

void db_arrays_free(struct db_array *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strbuf_free(&a[i].t);
		a[i].n = 0;
	}
}
