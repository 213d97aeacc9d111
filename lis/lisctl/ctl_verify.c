/* `lisctl verify EXPECTED.csv`: a regression test of the wiremap. Each row names a target
 * and the location lisd should answer for it; the wiremap is loaded once as lisd loads it,
 * each target resolved by the same wm_resolve() as lisctl explain and lisd, and each row
 * printed PASS or FAIL with the evidence the walk saw. The file is CSV (RFC 4180):
 *
 *   target,location[,bssid]
 *
 * target: an IP address, a MAC address, a SIP or SIPS URI or a tel URI, told apart by
 * their shape as lisd's identity parsers read them (proto/ident.h); location: the key of
 * the location expected, or "-" when lisd should not locate the target (locationUnknown);
 * bssid (optional): the serving BSSID the client reports (RFC 7105), as explain --bssid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_csv.h"
#include "ctl_explain.h"
#include "ctl_rows.h"
#include "ident.h"
#include "wm_resolve.h"

/* The file's columns, in the order the usage names them. */
enum { COL_TARGET, COL_LOCATION, COL_BSSID, N_COLS };
static const char *const col_names[N_COLS] = {"target", "location", "bssid"};

void ctl_verify_usage(FILE *out)
{
	fprintf(out, "usage: lisctl verify EXPECTED.csv [--max-binding-age S]\n"
		     "EXPECTED.csv: CSV with the header target,location[,bssid]; target an IP\n"
		     "address, MAC address, SIP/SIPS URI or tel URI; location the key lisd\n"
		     "should answer with, or - for not located; bssid the serving BSSID the\n"
		     "client reports. Exit 1 when a row fails or is malformed.\n");
}

int ctl_guess_ident(const char *text, struct ident *id)
{
	for (int k = 0; k < IDENT_N_KINDS; k++)
		if (wm_resolve_locates_by((enum ident_kind)k) &&
		    ident_parse((enum ident_kind)k, text, id) == 0)
			return 0;
	return -1;
}

/* Map the header; unknown or missing columns are errors at line 1. */
static int map_header(const struct ctl_rows *f, int at[N_COLS], struct ctl_errors *errs)
{
	const struct ctl_row *h = &f->rows[0];
	size_t before = errs->total;

	for (int k = 0; k < N_COLS; k++)
		at[k] = -1;
	for (size_t i = 0; i < h->n; i++) {
		const char *name = h->cells[i].s ? h->cells[i].s : "";
		struct lis_near near = lis_near_start(name);
		int k = 0;
		while (k < N_COLS && strcmp(col_names[k], name) != 0)
			lis_near_try(&near, col_names[k++]);
		if (k < N_COLS && at[k] < 0) {
			at[k] = (int)i;
		} else if (k < N_COLS) {
			ctl_error_at(errs, f->path, 1, (unsigned)i + 1, "duplicate column %s",
				     Q(name));
		} else {
			char dym[128] = "";
			if (near.best)
				snprintf(dym, sizeof(dym), " (did you mean \"%s\"?)", near.best);
			ctl_error_at(errs, f->path, 1, (unsigned)i + 1, "unknown column %s%s",
				     Q(name), dym);
		}
	}
	for (int k = 0; k < COL_BSSID; k++)
		if (at[k] < 0)
			ctl_error_at(errs, f->path, 1, 1, "missing required column \"%s\"",
				     col_names[k]);
	return errs->total == before ? 0 : -1;
}

/* One row: resolve and judge it. Returns 1 passed, 0 failed, -1 malformed (in errs), -2
 * when the resolver failed (said on stderr). */
static int verify_row(const struct ctl_rows *f, const struct ctl_row *r, const int at[N_COLS],
		      const struct wm_snapshot *s, const struct wm_policy *pol,
		      struct ctl_errors *errs)
{
	static struct wm_result res; /* large: not on the stack */
	const char *v[N_COLS] = {NULL};
	struct lis_error err = {0};
	struct ident id;
	size_t before = errs->total;

	if (r->n != f->rows[0].n) {
		ctl_error_at(errs, f->path, r->line, 1, "row has %zu fields, the header has %zu",
			     r->n, f->rows[0].n);
		return -1;
	}
	for (int k = 0; k < N_COLS; k++)
		if (at[k] >= 0 && !r->cells[at[k]].bad)
			v[k] = r->cells[at[k]].s;
	for (int k = 0; k < COL_BSSID; k++)
		if (!v[k] && !r->cells[at[k]].bad)
			ctl_error_at(errs, f->path, r->line, (unsigned)at[k] + 1,
				     "missing value for required column \"%s\"", col_names[k]);
	if (v[COL_TARGET] && ctl_guess_ident(v[COL_TARGET], &id) < 0)
		ctl_error_at(errs, f->path, r->line, (unsigned)at[COL_TARGET] + 1,
			     "target %s is not an IP address, a MAC address, a SIP URI or a tel "
			     "URI", Q(v[COL_TARGET]));
	if (errs->total != before || !v[COL_TARGET] || !v[COL_LOCATION])
		return -1;

	struct wm_target t = {.ids = &id, .n_ids = 1, .bssid = v[COL_BSSID]};
	if (wm_target_check(&t, &err) < 0) {
		ctl_error_at(errs, f->path, r->line, (unsigned)at[COL_TARGET] + 1, "%s", err.msg);
		return -1;
	}
	int located = wm_resolve(s, &t, pol, &res, &err);
	if (located < 0) {
		fprintf(stderr, "lisctl: verify: %s:%u: %s\n", f->path, r->line, err.msg);
		return -2;
	}
	bool want_none = strcmp(v[COL_LOCATION], "-") == 0;
	bool pass = located ? !want_none && res.loc && res.loc->key &&
				      strcmp(res.loc->key, v[COL_LOCATION]) == 0
			    : want_none;

	printf("%s %s:%u: %s %s", pass ? "PASS" : "FAIL", f->path, r->line, ident_name(&id),
	       id.value);
	if (t.bssid)
		printf(" (serving bssid %s)", t.bssid);
	if (located)
		printf(" -> %s (site %s) by %s", res.loc->key ? res.loc->key : "?",
		       res.loc->site && res.loc->site->key ? res.loc->site->key : "?",
		       wm_source_name(res.source));
	else
		printf(" -> not located (%s)", res.unknown_reason);
	if (!pass)
		printf(", expected %s", want_none ? "not located" : v[COL_LOCATION]);
	printf("\n");
	for (size_t i = 0; i < res.n_evidence; i++) {
		printf("    ");
		ctl_print_evidence(&res.ev[i]);
		printf(": %s\n", ctl_evidence_state(&res.ev[i]));
	}
	return pass;
}

int ctl_cmd_verify(const struct ctl_settings *set, int argc, char **argv)
{
	static struct ctl_errors errs; /* large: not on the stack */
	const char *path = NULL, *age_text = NULL;
	unsigned max_age = set->max_binding_age;
	struct wm_snapshot *s = NULL;
	struct ctl_rows *f = NULL;
	size_t passed = 0, failed = 0, malformed = 0;
	int at[N_COLS], rc = CTL_EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		int took = ctl_take_opt(argc, argv, &i, "--max-binding-age", &age_text);
		if (took < 0 || (took == 0 && (path || argv[i][0] == '-'))) {
			if (took == 0)
				fprintf(stderr, "lisctl: verify: unexpected argument \"%s\"\n",
					argv[i]);
			ctl_verify_usage(stderr);
			return CTL_EXIT_USAGE;
		}
		if (took == 0)
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "lisctl: verify: name the file of expected locations\n");
		ctl_verify_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (age_text && ctl_parse_max_age("verify", age_text, &max_age) < 0)
		return CTL_EXIT_USAGE;

	memset(&errs, 0, sizeof(errs));
	if (!(f = ctl_csv_read(path, &errs)) || map_header(f, at, &errs) < 0) {
		ctl_errors_print(&errs, stderr);
		fprintf(stderr, "lisctl: verify: %s: nothing verified\n", path);
		goto out;
	}
	if (!(s = ctl_snapshot_open(set->conninfo, "verify")))
		goto out;
	struct wm_policy pol = {.now = time(NULL), .max_binding_age = max_age};
	for (size_t i = 1; i < f->n_rows; i++) {
		int r = verify_row(f, &f->rows[i], at, s, &pol, &errs);
		if (r == -2)
			goto out;
		passed += r == 1;
		failed += r != 1;
		malformed += r == -1;
	}
	/* the malformed rows, after the rows that ran */
	ctl_errors_print(&errs, stderr);
	printf("%zu passed, %zu failed", passed, failed);
	if (malformed)
		printf(" (%zu malformed row%s)", malformed, malformed == 1 ? "" : "s");
	printf("\n");
	rc = failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
	wm_snapshot_free(s);
	ctl_rows_free(f);
	return rc;
}
