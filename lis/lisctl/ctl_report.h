/* `lisctl report NAME` (lisctl(8)): auditors' reports over the wiremap and the query log,
 * as CSV (RFC 4180), JSON or self-contained HTML. argv[0] is "report". Returns the exit
 * status: 0 written, 1 error, 2 usage. */
#ifndef CTL_REPORT_H
#define CTL_REPORT_H

struct ctl_settings;
/* Coverage judges bindings by the configuration's [wiremap] max_binding_age (lisd's
 * default when unset), as lisd would. */
int ctl_cmd_report(const struct ctl_settings *set, int argc, char **argv);
/* Its usage lines (lisctl report --help). */
void ctl_report_usage(FILE *out);

#endif
