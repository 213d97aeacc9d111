/* What the CSV and the JSON readers share: the rows-and-cells model of a wiremap file,
 * reading a whole file, checking text, and collecting "PATH:LINE:COL: message" errors. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_rows.h"
#include "lis_strbuf.h"

void ctl_errors_add(struct ctl_errors *e, const char *fmt, ...)
{
	va_list ap;

	e->total++;
	if (e->n >= CTL_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg[e->n++], sizeof(e->msg[0]), fmt, ap);
	va_end(ap);
}

void ctl_errors_print(const struct ctl_errors *e, FILE *out)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(out, "%s\n", e->msg[i]);
	if (e->total > e->n)
		fprintf(out, "(%zu more errors not shown)\n", e->total - e->n);
}

void ctl_verror_at(struct ctl_errors *e, const char *path, unsigned line, unsigned col,
		   const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	ctl_errors_add(e, "%s:%u:%u: %s", path ? path : "(input)", line, col ? col : 1, msg);
}

void ctl_error_at(struct ctl_errors *e, const char *path, unsigned line, unsigned col,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verror_at(e, path, line, col, fmt, ap);
	va_end(ap);
}

/* A value as it appears in a message: in double quotes, with quotes, backslashes and
 * control characters escaped, cut (at a character boundary) after about 60 bytes.
 * Only called on values already known to be valid UTF-8. */

/* ---- text ---- */

/* Values end up in XML (PIDF-LO), which cannot carry most control characters. */
bool ctl_check_text(struct ctl_errors *errs, const char *path, unsigned line,
			unsigned col, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = lis_utf8_seq(s + i, n - i, NULL);
		if (len == 0) {
			ctl_error_at(errs, path, line, col,
			       "invalid UTF-8 (byte 0x%02X at offset %zu of the field)", s[i], i);
			return false;
		}
		if (len == 1 && ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') ||
				 s[i] == 0x7F)) {
			ctl_error_at(errs, path, line, col,
			       "control character U+%04X is not allowed", s[i]);
			return false;
		}
		i += len;
	}
	return true;
}

/* ---- rows ---- */

void ctl_row_free(struct ctl_row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->cells[i].s);
	free(r->cells);
}

void ctl_rows_free(struct ctl_rows *csv)
{
	if (!csv)
		return;
	for (size_t i = 0; i < csv->n_rows; i++)
		ctl_row_free(&csv->rows[i]);
	free(csv->rows);
	free(csv->path);
	free(csv);
}

char *ctl_read_file(const char *path, size_t *len, struct ctl_errors *errs)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		ctl_errors_add(errs, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 1 >= cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				ctl_errors_add(errs, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		ctl_errors_add(errs, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

