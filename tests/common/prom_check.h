/* Tests of metrics: check a text against the Prometheus text exposition format 0.0.4, and
 * read one sample of it. */
#ifndef PROM_CHECK_H
#define PROM_CHECK_H

/* Check text against the format: # HELP and # TYPE at most once per name, TYPE before the
 * family's samples, samples of one family together and named after it (a histogram's
 * _bucket, _sum, _count), label names and escaped values, values, no series twice, and a
 * histogram's buckets cumulative up to le="+Inf" equal to _count. Returns "" or what is
 * wrong with which line (static buffer; not thread-safe). */
const char *prom_check(const char *text);

/* The value of one series ("name" or "name{label=\"v\"}", labels as written); NAN when
 * absent. */
double prom_sample(const char *text, const char *series);

#endif
