/* A tiny TAP test runner: each t_run() is one test case ("ok N - name" or "not ok N - name");
 * CHECK() records a failed assertion with file:line and what was expected. */
#ifndef CHECK_H
#define CHECK_H

#include <stdbool.h>
#include <stddef.h>

void t_run(const char *name, void (*fn)(void));
/* Print a skip line for a case that cannot run here, with the reason. */
void t_skip(const char *name, const char *why);
/* Print the plan and return the process exit status (0 if nothing failed). */
int t_done(void);
/* Have t_done() call fn before the plan, e.g. for a helper's summary as a diagnostic line. */
void t_at_done(void (*fn)(void));

bool t_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Diagnostic line ("# ...") in the TAP stream. */
void t_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond) t_check((cond), __FILE__, __LINE__, #cond, NULL)
#define CHECKF(cond, ...) t_check((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
/* Compare two strings (either may be NULL) and show both on failure. */
#define CHECK_STR(got, want) t_check_str((got), (want), __FILE__, __LINE__, #got)
bool t_check_str(const char *got, const char *want, const char *file, int line, const char *expr);

/* A whole file, NUL-terminated (malloc'd; *len, when not NULL, gets its bytes); NULL when it
 * cannot be opened. Out of memory aborts: a test has no use for half a file. */
char *t_read_file(const char *path, size_t *len);
/* text as a man page writes it: each '-' as "\-" (into out, cut to size). */
void t_roff_dashes(const char *text, char *out, size_t size);

#endif
