/* `lisctl explain` (lisctl(8)): argv[0] is "explain". Returns the exit status: 0 located,
 * 3 not located, 1 error, 2 usage. */
#ifndef CTL_EXPLAIN_H
#define CTL_EXPLAIN_H

struct ctl_settings;
/* Bindings are judged by --max-binding-age, else the configuration's [wiremap]
 * max_binding_age, else lisd's default. */
int ctl_cmd_explain(const struct ctl_settings *set, int argc, char **argv);
/* Its usage lines (lisctl explain --help). */
void ctl_explain_usage(FILE *out);

#endif
