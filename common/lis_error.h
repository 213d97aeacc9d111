/* The one error-carrying struct of every layer: what kind of failure (one meaning per code,
 * whichever layer sets it), the HELD error to answer when the failure is a HELD fault, and
 * words for a human that name the failing thing and the input. */
#ifndef LIS_ERROR_H
#define LIS_ERROR_H

#include <stdarg.h>

enum lis_errc {
	LIS_OK = 0,
	LIS_E_USAGE,     /* bad command line, configuration or file named by the operator */
	LIS_E_SYSTEM,    /* the system failed us: I/O, memory, a library, a socket */
	LIS_E_INPUT,     /* bytes from outside (a request, a record, a row, a reply) are unusable */
	LIS_E_HELD,      /* a HELD request gets an error answer: held says which */
	DB_E_CONNECT,    /* PostgreSQL unreachable or refused us: try again later */
	DB_E_QUERY,      /* a statement failed */
	DB_E_SCHEMA,     /* schema missing or newer than this program knows */
	DB_E_INPUT,      /* the caller's data was refused (constraint, bad value) */
};

struct lis_error {
	enum lis_errc code;
	int held;       /* with LIS_E_HELD: the enum held_error_code to answer; else 0 */
	char msg[256];
};

/* Fill err (if not NULL) with code and a printf-style message; returns -1 so that callers
 * can write `return lis_error_set(err, ...);`. */
int lis_error_set(struct lis_error *err, enum lis_errc code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a HELD fault: code LIS_E_HELD, held = held_code (an enum held_error_code). */
int lis_error_held(struct lis_error *err, int held_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The exit status of a program that stops on err: 2 for what the operator must fix
 * (LIS_E_USAGE, DB_E_SCHEMA), 1 for anything else. */
int lis_error_exit_status(const struct lis_error *err);
/* The code's name, for logs and tests ("usage", "db-connect", ...). */
const char *lis_errc_name(enum lis_errc code);

#endif
