/* The Prometheus text exposition format 0.0.4, written into a strbuf: the # HELP and # TYPE
 * lines of a family, label values escaped as the format wants, sample values spelt as it
 * reads them. lisd's /metrics and wiremapd's metrics file are written with it. */
#ifndef LIS_PROM_H
#define LIS_PROM_H

#include <stddef.h>

#include "lis_strbuf.h"

/* The Content-Type of the format. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help" and "# TYPE name type". help is our own text: no backslash, no
 * newline. */
void prom_family(struct strbuf *b, const char *name, const char *type, const char *help);
/* A label value with backslash, double quote and newline escaped (without the quotes). */
void prom_label_value(struct strbuf *b, const char *v);
/* A sample value: an integer as one, NaN as "NaN", else 9 significant digits. */
void prom_value(struct strbuf *b, double v);

/* A metric of one sample without labels. */
struct prom_scalar {
	const char *name, *type, *help;
	double v;
};
/* Each with its HELP and TYPE lines and its sample. */
void prom_scalars(struct strbuf *b, const struct prom_scalar *m, size_t n);

/* A histogram without labels, its HELP and TYPE lines included: n bucket bounds le[]
 * (ascending), counts[0..n] per bucket, not cumulative (counts[n]: above every bound), and
 * the sum of the values. Writes the cumulative _bucket series, +Inf last, _sum and _count. */
void prom_histogram(struct strbuf *b, const char *name, const char *help, const double *le,
		    const unsigned long long *counts, size_t n, double sum);
/* The bucket of such a histogram a value v falls in: the first i with v <= le[i], n when v
 * is above every bound. */
size_t prom_bucket(const double *le, size_t n, double v);

#endif
