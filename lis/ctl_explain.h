/* `lisctl explain` (lisctl(8)): argv[0] is "explain". Returns the exit status: 0 located,
 * 3 not located, 1 error, 2 usage. */
#ifndef CTL_EXPLAIN_H
#define CTL_EXPLAIN_H

int ctl_cmd_explain(const char *conninfo, int argc, char **argv);

#endif
