#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_cases, n_failed_cases;
static bool current_failed;

void t_run(const char *name, void (*fn)(void))
{
	current_failed = false;
	fn();
	n_cases++;
	if (current_failed)
		n_failed_cases++;
	printf("%sok %d - %s\n", current_failed ? "not " : "", n_cases, name);
	fflush(stdout);
}

void t_skip(const char *name, const char *why)
{
	n_cases++;
	printf("ok %d - %s # SKIP %s\n", n_cases, name, why);
	fflush(stdout);
}

/* A few helpers at most register one each (schema.c's count of validated documents). */
#define MAX_DONE_HOOKS 4
static void (*done_hooks[MAX_DONE_HOOKS])(void);
static int n_done_hooks;

void t_at_done(void (*fn)(void))
{
	if (n_done_hooks < MAX_DONE_HOOKS)
		done_hooks[n_done_hooks++] = fn;
}

int t_done(void)
{
	for (int i = 0; i < n_done_hooks; i++)
		done_hooks[i]();
	printf("1..%d\n", n_cases);
	return n_failed_cases ? 1 : 0;
}

void t_diag(const char *fmt, ...)
{
	va_list ap;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

bool t_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
	if (ok)
		return true;
	current_failed = true;
	printf("# %s:%d: check failed: %s", file, line, expr);
	if (fmt) {
		va_list ap;
		fputs(": ", stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	fputc('\n', stdout);
	fflush(stdout);
	return false;
}

bool t_check_str(const char *got, const char *want, const char *file, int line, const char *expr)
{
	bool ok = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);
	if (!ok)
		t_check(false, file, line, expr, "got \"%s\", want \"%s\"", got ? got : "(null)",
			want ? want : "(null)");
	return ok;
}

char *t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0, r;
	do {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb)
				abort();
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

void t_roff_dashes(const char *text, char *out, size_t size)
{
	size_t n = 0;
	for (; *text && n + 3 < size; text++) {
		if (*text == '-')
			out[n++] = '\\';
		out[n++] = *text;
	}
	out[n] = '\0';
}
