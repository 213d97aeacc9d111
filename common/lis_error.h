/* The one error-carrying struct shared by every layer: a code and words for a human. */
#ifndef LIS_ERROR_H
#define LIS_ERROR_H

#include <stdarg.h>

struct lis_error {
	int code;      /* layer-specific; for HELD faults an enum held_error_code */
	char msg[256]; /* names the failing thing and the input */
};

/* Fill err (if not NULL) with code and a printf-style message; returns -1 so that callers
 * can write `return lis_error_set(err, ...);`. */
int lis_error_set(struct lis_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
