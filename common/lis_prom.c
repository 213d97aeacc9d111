/* The Prometheus text exposition format 0.0.4 (lis_prom.h). */
#include "lis_prom.h"

#include <math.h>

void prom_family(struct strbuf *b, const char *name, const char *type, const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_label_value(struct strbuf *b, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\\')
			strbuf_puts(b, "\\\\");
		else if (*p == '"')
			strbuf_puts(b, "\\\"");
		else if (*p == '\n')
			strbuf_puts(b, "\\n");
		else
			strbuf_put(b, p, 1);
	}
}

/* Go's ParseFloat reads what %lld and %.9g write; NaN is spelt as the format spells it. */
void prom_value(struct strbuf *b, double v)
{
	if (isnan(v))
		strbuf_puts(b, "NaN");
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		strbuf_printf(b, "%lld", (long long)v);
	else
		strbuf_printf(b, "%.9g", v);
}

void prom_scalars(struct strbuf *b, const struct prom_scalar *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		prom_family(b, m[i].name, m[i].type, m[i].help);
		strbuf_printf(b, "%s ", m[i].name);
		prom_value(b, m[i].v);
		strbuf_puts(b, "\n");
	}
}

void prom_histogram(struct strbuf *b, const char *name, const char *help, const double *le,
		    const unsigned long long *counts, size_t n, double sum)
{
	unsigned long long cum = 0;
	prom_family(b, name, "histogram", help);
	for (size_t i = 0; i <= n; i++) {
		cum += counts[i];
		if (i < n)
			strbuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, le[i], cum);
		else
			strbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, cum);
	}
	strbuf_printf(b, "%s_sum ", name);
	prom_value(b, sum);
	strbuf_printf(b, "\n%s_count %llu\n", name, cum);
}

size_t prom_bucket(const double *le, size_t n, double v)
{
	size_t i = 0;
	while (i < n && v > le[i])
		i++;
	return i;
}
