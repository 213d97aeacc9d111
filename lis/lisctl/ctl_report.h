/* `lisctl report NAME` (lisctl(8)): auditors' reports over the wiremap and the query log,
 * as CSV (RFC 4180), JSON or self-contained HTML; and the compliance report
 * (ctl_compliance.c), as HTML, PDF or JSON. argv[0] is "report". Returns the exit status:
 * 0 written, 1 error, 2 usage. */
#ifndef CTL_REPORT_H
#define CTL_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "db_report.h"

struct ctl_settings;
/* Coverage judges bindings by the configuration's [wiremap] max_binding_age (lisd's
 * default when unset), as lisd would. */
int ctl_cmd_report(const struct ctl_settings *set, int argc, char **argv);
/* Its usage lines (lisctl report --help). */
void ctl_report_usage(FILE *out);

enum ctl_report_fmt { FMT_CSV, FMT_JSON, FMT_HTML, FMT_PDF };

/* The command line of a report, checked. For compliance the period is always set (f.from,
 * f.to). */
struct ctl_report_opts {
	const struct ctl_report *rep;
	enum ctl_report_fmt fmt;
	bool fmt_given;
	const char *out_path;
	const char *organisation;       /* compliance: printed in the header */
	const char *paper;              /* compliance: "A4" or "letter" (CSS @page size) */
	const char *chromium;           /* compliance --format pdf: the browser; NULL: search */
	struct db_report_filter f;
};

/* What the reports share (ctl_report.c). */
/* Text as HTML character data or attribute value: & < > " ' escaped. */
void ctl_html_text(FILE *o, const char *s);
void ctl_html_textf(FILE *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A section's title and (why, if not NULL) one line on why it matters. */
const char *ctl_report_title(enum db_report_section s, const char **why);
/* A cell as JSON of its column's type. */
json_t *ctl_json_cell(const char *v, enum db_col_type type);
/* t as "2026-11-02T08:00:00Z" into buf; returns buf. */
const char *ctl_iso8601(time_t t, char *buf, size_t size);
/* buf to stdout (path NULL), or to path atomically (a temporary file beside it, renamed).
 * Returns 0, or -1 after saying on stderr what failed. */
int ctl_report_write_out(const char *path, const char *buf, size_t len);

/* `lisctl report compliance` (ctl_compliance.c), options parsed. */
int ctl_compliance_run(const struct ctl_settings *set, const struct ctl_report_opts *op);

#endif
