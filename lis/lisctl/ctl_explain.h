/* `lisctl explain` (lisctl(8)): argv[0] is "explain". Returns the exit status: 0 located,
 * 3 not located, 1 error, 2 usage. */
#ifndef CTL_EXPLAIN_H
#define CTL_EXPLAIN_H

#include <stdio.h>

struct ctl_settings;
struct wm_evidence;
struct wm_snapshot;
/* Bindings are judged by --max-binding-age, else the configuration's [wiremap]
 * max_binding_age, else lisd's default. */
int ctl_cmd_explain(const struct ctl_settings *set, int argc, char **argv);
/* Its usage lines (lisctl explain --help). */
void ctl_explain_usage(FILE *out);

/* What explain and verify share. */
/* What the walk made of one piece of evidence: "chosen", "not used (less precise)", ... */
const char *ctl_evidence_state(const struct wm_evidence *e);
/* One piece of evidence on stdout, on one line without its end: "port   sw1 Gi1/0/2 ->
 * hq-420 (site hq)". */
void ctl_print_evidence(const struct wm_evidence *e);
/* The wiremap snapshot as lisd loads it, or NULL (said on stderr as "lisctl: CMD: ..."). */
struct wm_snapshot *ctl_snapshot_open(const char *conninfo, const char *cmd);
/* text as the first kind of identity the resolver locates by that accepts it: 0, or -1
 * when none does. */
struct ident;
int ctl_guess_ident(const char *text, struct ident *id);
/* --max-binding-age's value as seconds (1..UINT_MAX); -1, said on stderr, when it is not. */
int ctl_parse_max_age(const char *cmd, const char *text, unsigned *out);

/* `lisctl verify EXPECTED.csv` (lisctl(8)): each row's target resolved as lisd would,
 * against the location the row expects. Returns 0 when every row passed, 1 otherwise (a
 * malformed row fails), 2 usage. */
int ctl_cmd_verify(const struct ctl_settings *set, int argc, char **argv);
void ctl_verify_usage(FILE *out);

#endif
