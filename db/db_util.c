/* Helpers every db_*.c file shares: statements without a result (BEGIN, COMMIT, DECLARE),
 * ending a failed transaction, a growing text, and PostgreSQL array literals, which carry
 * a batch of rows as one parameter so that no SQL text is ever built from data. */
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

void db_rollback(struct db_conn *c)
{
	/* Nothing to report: the caller already holds the error that made it roll back, and
	 * on a broken connection the server rolls back by itself. */
	if (db_is_ok(c))
		PQclear(PQexec(c->pg, "ROLLBACK"));
}

void db_text_put(struct db_text *t, const char *p, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 256;
		char *s;

		while (cap < t->len + n + 1)
			cap *= 2;
		s = realloc(t->s, cap);
		if (!s) {
			t->oom = true;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
	memcpy(t->s + t->len, p, n);
	t->len += n;
	t->s[t->len] = '\0';
}

void db_text_add(struct db_text *t, const char *s)
{
	db_text_put(t, s, strlen(s));
}

static void text_vaddf(struct db_text *t, const char *fmt, va_list ap)
{
	char buf[256];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0 || (size_t)n >= sizeof(buf))
		t->oom = true; /* only short pieces go through here; a cut one would be wrong */
	else
		db_text_put(t, buf, (size_t)n);
}

void db_text_addf(struct db_text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_vaddf(t, fmt, ap);
	va_end(ap);
}

void db_text_free(struct db_text *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

/* The array input syntax (not SQL): NULL unquoted, anything else double-quoted with " and
 * \ escaped. A quoted element is read by its type's input function, numbers included. */
void db_array_add(struct db_array *a, const char *v)
{
	db_text_put(&a->t, a->n++ ? "," : "{", 1);
	if (!v) {
		db_text_put(&a->t, "NULL", 4);
		return;
	}
	db_text_put(&a->t, "\"", 1);
	while (*v) {
		size_t run = strcspn(v, "\"\\");

		db_text_put(&a->t, v, run);
		v += run;
		if (*v) {
			const char esc[2] = {'\\', *v++};
			db_text_put(&a->t, esc, 2);
		}
	}
	db_text_put(&a->t, "\"", 1);
}

void db_array_addf(struct db_array *a, const char *fmt, ...)
{
	va_list ap;

	/* Numbers and MACs hold no quote or backslash: nothing to escape. */
	db_text_put(&a->t, a->n++ ? ",\"" : "{\"", 2);
	va_start(ap, fmt);
	text_vaddf(&a->t, fmt, ap);
	va_end(ap);
	db_text_put(&a->t, "\"", 1);
}

const char *db_array_end(struct db_array *a)
{
	if (!a->n)
		db_text_put(&a->t, "{", 1);
	db_text_put(&a->t, "}", 1);
	return a->t.oom ? NULL : a->t.s;
}

void db_arrays_free(struct db_array *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		db_text_free(&a[i].t);
		a[i].n = 0;
	}
}
