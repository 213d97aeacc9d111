/* `lisctl report compliance`: the report an auditor signs (lisctl(8), COMPLIANCE REPORT).
 * db/db_report.c reads the sites and their locations, the active endpoints, the port and
 * BSSID counts and the notification and test-call logs. Each endpoint is resolved here by
 * the same wm_resolve() as lisd, lisctl explain and verify, against a snapshot loaded as
 * lisd loads it, and judged by the obligation its class falls under: the resolver already
 * applies the class's policy, so this file only reads its answer. What is computed becomes
 * tables like the database's (struct db_table), and HTML and JSON walk one list of them.
 * PDF is the HTML printed by headless Chromium. The whole output is built in memory and
 * written at once, so a failure leaves no half-written file. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_explain.h"
#include "ctl_report.h"
#include "ident.h"
#include "lis_strbuf.h"
#include "lis_version.h"
#include "wm_resolve.h"

/* The sections read from the database, by their index in tab[]. */
enum {
	T_DATABASE, T_SITES, T_ERLS_DB, T_ENDPOINTS, T_PORTS, T_BSSIDS, T_NOT_DISPATCHABLE,
	T_PORTS_NO_LOC, T_BSSIDS_NO_LOC, T_STALE_DECL, T_NOTIFY_LOG, T_TEST_CALLS, N_DB
};
static const enum db_report_section from_db[N_DB] = {
	DB_REP_COMPLIANCE_DATABASE, DB_REP_COMPLIANCE_SITES, DB_REP_COMPLIANCE_ERLS,
	DB_REP_COMPLIANCE_ENDPOINTS, DB_REP_COMPLIANCE_PORTS, DB_REP_COMPLIANCE_BSSIDS,
	DB_REP_LOCATIONS_NOT_DISPATCHABLE, DB_REP_PORTS_NO_LOCATION, DB_REP_BSSIDS_NO_LOCATION,
	DB_REP_STALE_DECLARATIONS, DB_REP_NOTIFICATION_LOG, DB_REP_TEST_CALLS,
};

/* The schema version that has everything the report reads. */
#define MIN_SCHEMA 9

/* The obligations, in the order of the obligations table (lisctl(8) says the same). */
enum ob { OB_FIXED, OB_ON_PREMISES, OB_OFF_PREMISES, OB_NOTIFIED, OB_N };
static const struct {
	const char *name;               /* its row, and its findings table: "findings_NAME" */
	const char *title;
	const char *rule;               /* the rule and how it is checked */
	const char *counted;            /* "N <counted>" */
	const char *failed;             /* "N of M <counted> <failed>" */
} obligations[OB_N] = {
	[OB_FIXED] = {"fixed", "Fixed devices located automatically",
		"47 CFR 9.16(b)(1): a fixed device's dispatchable location is conveyed with the "
		"call automatically. Endpoints of a fixed class must resolve to a location by "
		"switch port, switch, BSSID or static assignment, not by a subnet or site "
		"default.", "fixed devices", "not located automatically"},
	[OB_ON_PREMISES] = {"on_premises", "On-premises non-fixed devices located",
		"47 CFR 9.16(b)(2): a non-fixed device on premises is located automatically "
		"where feasible. Non-fixed endpoints the office network places on premises must "
		"resolve to a location by fresh port or BSSID evidence or a static assignment, "
		"not by a fallback.", "non-fixed devices on premises",
		"located only by a fallback or not at all"},
	[OB_OFF_PREMISES] = {"off_premises", "Off-premises devices with a current declaration",
		"47 CFR 9.16(b)(3): off premises, the user's declared location (or the "
		"carrier's). Endpoints that may leave the premises and that no office evidence "
		"locates must be answered by the user's current declared location: not expired "
		"and confirmed within the class's reconfirm_interval. A class that answers "
		"locationUnknown routes on the carrier's location instead.",
		"devices off premises", "without a current declared location"},
	[OB_NOTIFIED] = {"notifications", "Notifications delivered",
		"47 CFR 9.16(a)(2), Kari's Law: a notice to a central point for every emergency "
		"call. Every notification of a real call in the period must have at least one "
		"delivery, and every delivery must have been delivered.", "notifications",
		"not delivered"},
};

/* The tables computed here, after the database's in tab[]. */
enum {
	C_ABOUT = N_DB, C_ERLS, C_COVERAGE, C_CLASSES, C_OBLIGATIONS, C_FINDINGS,
	N_TABS = C_FINDINGS + OB_N
};

struct compliance {
	const struct ctl_report_opts *op;
	struct db_table tab[N_TABS];
	long checked[OB_N], failing[OB_N];
	time_t now;
};

/* ---- tables made here ---- */

static int tab_init(struct db_table *t, const char *name, const char *const *cols,
		    const enum db_col_type *types, size_t nc)
{
	memset(t, 0, sizeof *t);
	t->name = name;
	t->section = DB_REP_N_;
	t->cols = calloc(nc, sizeof *t->cols);
	t->types = calloc(nc, sizeof *t->types);
	t->cells = calloc(1, sizeof *t->cells);
	if (!t->cols || !t->types || !t->cells)
		return -1;
	t->n_cols = nc;
	for (size_t j = 0; j < nc; j++) {
		t->types[j] = types ? types[j] : DB_COL_TEXT;
		if (!(t->cols[j] = strdup(cols[j])))
			return -1;
	}
	return 0;
}

/* One row of t->n_cols values (NULL: SQL NULL). */
static int tab_add(struct db_table *t, const char *const *v)
{
	char **c = realloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof *c);
	if (!c)
		return -1;
	t->cells = c;
	c += t->n_rows * t->n_cols;
	for (size_t j = 0; j < t->n_cols; j++)
		c[j] = NULL;
	t->n_rows++;
	for (size_t j = 0; j < t->n_cols; j++)
		if (v[j] && !(c[j] = strdup(v[j])))
			return -1;
	return 0;
}

/* a of b in percent, one decimal; NULL when b is 0 (nothing to cover). */
static const char *pct(long a, long b, char *buf, size_t size)
{
	if (b <= 0)
		return NULL;
	snprintf(buf, size, "%.1f", 100.0 * (double)a / (double)b);
	return buf;
}

static const char *num(long v, char *buf, size_t size)
{
	snprintf(buf, size, "%ld", v);
	return buf;
}

/* ---- judging one endpoint ---- */

/* Which obligation a class falls under, by its policy: a class that counts declared
 * locations (or falls back on them) is for devices that may leave the premises; one that
 * does not, with a max_binding_age of its own, for devices that move on the premises; the
 * rest (no policy at all included) for fixed devices. */
static enum ob class_obligation(const struct wm_class *c)
{
	if ((c->evidence & WM_EV_DECLARED) || c->no_fresh == WM_NO_FRESH_DECLARED)
		return OB_OFF_PREMISES;
	return c->max_binding_age ? OB_ON_PREMISES : OB_FIXED;
}

static const char *class_kind(const struct wm_class *c)
{
	switch (class_obligation(c)) {
	case OB_OFF_PREMISES:
		return "non-fixed, may leave the premises";
	case OB_ON_PREMISES:
		return "non-fixed, on premises";
	default:
		return "fixed";
	}
}

struct verdict {
	enum ob ob;
	bool meets;                     /* meets its obligation */
	bool precise;                   /* located, and not by a fallback or stale declaration */
	const char *site;               /* NULL: none */
	char answer[200];
	char reason[300];
};

static void judge(const struct wm_class *c, int located, const struct wm_result *r,
		  struct verdict *v)
{
	bool by_declared = located && r->source == WM_SRC_DECLARED;
	v->ob = class_obligation(c);
	/* a device that may leave, located by office evidence, is on premises */
	if (v->ob == OB_OFF_PREMISES && located && !by_declared)
		v->ob = OB_ON_PREMISES;
	v->precise = located && !r->fallback && !r->unconfirmed;
	switch (v->ob) {
	case OB_FIXED:
		v->meets = located && !r->fallback && !by_declared;
		break;
	case OB_ON_PREMISES:
		v->meets = located && !r->fallback;
		break;
	default:
		v->meets = located ? by_declared && !r->unconfirmed
				   : c->no_fresh == WM_NO_FRESH_UNKNOWN;
		break;
	}
	snprintf(v->answer, sizeof v->answer, "%s", located && r->loc->key ? r->loc->key :
		 located ? "?" : "not located");
	if (located && r->loc->site)
		lis_strcatf(v->answer, sizeof v->answer, " (site %s)", r->loc->site->key);
	if (located)
		lis_strcatf(v->answer, sizeof v->answer, " by %s", wm_source_name(r->source));
	if (!located)
		snprintf(v->reason, sizeof v->reason, "%s", r->unknown_reason);
	else if (r->note[0])
		snprintf(v->reason, sizeof v->reason, "%s", r->note);
	if (v->meets && !located)
		snprintf(v->reason, sizeof v->reason, "class %s: routed on the carrier's location",
			 c->key);
}

/* ---- computing the report ---- */

struct site_cov {
	const char *key;
	long ep, ep_ok, ports, ports_ok, bssids, bssids_ok;
};

static struct site_cov *cov_of(struct site_cov *cov, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (key && cov[i].key && strcmp(cov[i].key, key) == 0)
			return &cov[i];
	return &cov[n];                 /* no site */
}

static int cov_row(struct db_table *t, const struct site_cov *c, const char *label)
{
	char b[9][32];
	const char *v[10] = {label, num(c->ep, b[0], 32), num(c->ep_ok, b[1], 32),
		pct(c->ep_ok, c->ep, b[2], 32), num(c->ports, b[3], 32), num(c->ports_ok, b[4], 32),
		pct(c->ports_ok, c->ports, b[5], 32), num(c->bssids, b[6], 32),
		num(c->bssids_ok, b[7], 32), pct(c->bssids_ok, c->bssids, b[8], 32)};
	return tab_add(t, v);
}

/* A count cell; 0 for NULL. */
static long count_of(const struct db_table *t, size_t row, size_t col)
{
	const char *v = db_table_cell(t, row, col);
	return v ? strtol(v, NULL, 10) : 0;
}

struct class_count {
	const struct wm_class *cls;
	long n, ok;
};

/* Resolve every endpoint: the coverage counts, the class table and three findings tables. */
static int judge_endpoints(struct compliance *r, const struct wm_snapshot *s,
			   struct site_cov *cov, size_t n_sites, struct class_count *cc,
			   size_t *n_cc)
{
	static struct wm_result res;    /* large: not on the stack */
	const struct db_table *ep = &r->tab[T_ENDPOINTS];
	const char *site_filter = r->op->f.site;
	struct wm_policy pol = {.now = r->now, .max_binding_age = r->op->f.max_binding_age};

	for (size_t i = 0; i < ep->n_rows; i++) {
		const char *key = db_table_cell(ep, i, 0), *cls_key = db_table_cell(ep, i, 1);
		const char *ids[3] = {db_table_cell(ep, i, 2), db_table_cell(ep, i, 3),
			db_table_cell(ep, i, 4)};
		struct ident id;
		struct lis_error err = {0};
		int located = 0;
		size_t k = 0;
		while (k < 3 && (!ids[k] || ctl_guess_ident(ids[k], &id) < 0))
			k++;
		const struct wm_class *cls = wm_lookup_class(s, cls_key);
		if (!cls)
			cls = &wm_class_none;
		memset(&res, 0, sizeof res);
		if (k < 3) {
			struct wm_target t = {.ids = &id, .n_ids = 1};
			located = wm_resolve(s, &t, &pol, &res, &err);
			if (located < 0) {
				fprintf(stderr, "lisctl: report compliance: endpoint %s: %s\n", key,
					err.msg);
				return -1;
			}
		} else {
			snprintf(res.unknown_reason, sizeof res.unknown_reason,
				 "no MAC address, SIP URI or tel URI to locate it by");
		}
		struct verdict v = {0};
		judge(cls, located, &res, &v);
		v.site = located && res.loc->site ? res.loc->site->key : db_table_cell(ep, i, 6);
		if (site_filter && (!v.site || strcmp(v.site, site_filter) != 0))
			continue;
		struct site_cov *c = cov_of(cov, n_sites, v.site);
		c->ep++;
		c->ep_ok += v.precise;
		size_t j = 0;
		while (j < *n_cc && cc[j].cls != cls)
			j++;
		if (j == *n_cc)
			cc[(*n_cc)++].cls = cls;
		cc[j].n++;
		cc[j].ok += v.meets;
		r->checked[v.ob]++;
		if (v.meets)
			continue;
		r->failing[v.ob]++;
		const char *row[5] = {key, cls_key, v.site, v.answer, v.reason};
		if (tab_add(&r->tab[C_FINDINGS + v.ob], row) < 0)
			return -1;
	}
	return 0;
}

/* Notifications: one per notification id of the log; failing unless it has deliveries and
 * all were delivered. The log comes ordered by notification. */
static int judge_notifications(struct compliance *r)
{
	const struct db_table *t = &r->tab[T_NOTIFY_LOG];
	for (size_t i = 0; i < t->n_rows;) {
		const char *id = db_table_cell(t, i, 0);
		char problem[400] = "";
		size_t j = i;
		for (; j < t->n_rows && strcmp(db_table_cell(t, j, 0), id) == 0; j++) {
			const char *ch = db_table_cell(t, j, 7), *to = db_table_cell(t, j, 8);
			const char *state = db_table_cell(t, j, 9), *error = db_table_cell(t, j, 12);
			if (strcmp(state, "none") == 0)
				lis_strcatf(problem, sizeof problem, "no delivery planned");
			else if (strcmp(state, "delivered") != 0)
				lis_strcatf(problem, sizeof problem, "%s%s %s %s%s%s", *problem ? "; " : "",
					    ch, to, state, error ? ": " : "", error ? error : "");
		}
		r->checked[OB_NOTIFIED]++;
		if (*problem) {
			r->failing[OB_NOTIFIED]++;
			const char *row[5] = {id, db_table_cell(t, i, 1), db_table_cell(t, i, 2),
				db_table_cell(t, i, 5), problem};
			if (tab_add(&r->tab[C_FINDINGS + OB_NOTIFIED], row) < 0)
				return -1;
		}
		i = j;
	}
	return 0;
}

static int make_about(struct compliance *r, const char *user, const char *host)
{
	const struct ctl_report_opts *op = r->op;
	const struct db_table *db = &r->tab[T_DATABASE];
	char from[32], to[32], now[32], period[96], by[512], dbs[320];
	ctl_iso8601(op->f.from, from, sizeof from);
	ctl_iso8601(op->f.to, to, sizeof to);
	snprintf(period, sizeof period, "%s to %s", from, to);
	snprintf(by, sizeof by, "%s on %s (lisctl report compliance)", user, host);
	snprintf(dbs, sizeof dbs, "%s (PostgreSQL %s, schema version %s)",
		 db->n_rows ? db_table_cell(db, 0, 0) : "?",
		 db->n_rows ? db_table_cell(db, 0, 1) : "?",
		 db->n_rows && db_table_cell(db, 0, 2) ? db_table_cell(db, 0, 2) : "?");
	static const char *const cols[] = {"item", "value"};
	const char *rows[][2] = {
		{"organisation", op->organisation ? op->organisation : "(not given)"},
		{"period", period},
		{"sites", op->f.site ? op->f.site : "all"},
		{"generated_at", ctl_iso8601(r->now, now, sizeof now)},
		{"generated_by", by},
		{"software", "lisctl " LIS_VERSION},
		{"database", dbs},
	};
	if (tab_init(&r->tab[C_ABOUT], "about", cols, NULL, 2) < 0)
		return -1;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (tab_add(&r->tab[C_ABOUT], rows[i]) < 0)
			return -1;
	return 0;
}

/* The ERLs with whether each is dispatchable (locations_not_dispatchable says what not). */
static int make_erls(struct compliance *r)
{
	static const char *const cols[] = {"site", "location", "address", "building", "floor",
		"room", "dispatchable"};
	const struct db_table *e = &r->tab[T_ERLS_DB], *nd = &r->tab[T_NOT_DISPATCHABLE];
	if (tab_init(&r->tab[C_ERLS], "erls", cols, NULL, 7) < 0)
		return -1;
	for (size_t i = 0; i < e->n_rows; i++) {
		char disp[200] = "yes";
		for (size_t j = 0; j < nd->n_rows; j++)
			if (strcmp(db_table_cell(nd, j, 1), db_table_cell(e, i, 1)) == 0)
				snprintf(disp, sizeof disp, "no: missing %s", db_table_cell(nd, j, 2));
		const char *v[7];
		for (size_t k = 0; k < 6; k++)
			v[k] = db_table_cell(e, i, k);
		v[6] = disp;
		if (tab_add(&r->tab[C_ERLS], v) < 0)
			return -1;
	}
	return 0;
}

static int make_obligations(struct compliance *r)
{
	static const char *const cols[] = {"obligation", "result", "checked", "findings",
		"reason"};
	static const enum db_col_type types[] = {DB_COL_TEXT, DB_COL_TEXT, DB_COL_INT, DB_COL_INT,
		DB_COL_TEXT};
	if (tab_init(&r->tab[C_OBLIGATIONS], "obligations", cols, types, 5) < 0)
		return -1;
	for (int k = 0; k < OB_N; k++) {
		char n[32], f[32], why[300];
		long c = r->checked[k], bad = r->failing[k];
		if (c == 0)
			snprintf(why, sizeof why, "no %s in scope: nothing to fail",
				 obligations[k].counted);
		else if (bad == 0)
			snprintf(why, sizeof why, "all %ld %s met it", c, obligations[k].counted);
		else
			snprintf(why, sizeof why, "%ld of %ld %s %s", bad, c, obligations[k].counted,
				 obligations[k].failed);
		const char *v[5] = {obligations[k].title, bad ? "FAIL" : "PASS", num(c, n, 32),
			num(bad, f, 32), why};
		if (tab_add(&r->tab[C_OBLIGATIONS], v) < 0)
			return -1;
	}
	return 0;
}

static int compute(struct compliance *r, const struct wm_snapshot *s, const char *user,
		   const char *host)
{
	static const char *const cov_cols[] = {"site", "endpoints", "endpoints_precise",
		"endpoints_pct", "ports", "ports_located", "ports_pct", "bssids", "bssids_located",
		"bssids_pct"};
	static const enum db_col_type cov_types[] = {DB_COL_TEXT, DB_COL_INT, DB_COL_INT,
		DB_COL_REAL, DB_COL_INT, DB_COL_INT, DB_COL_REAL, DB_COL_INT, DB_COL_INT,
		DB_COL_REAL};
	static const char *const cls_cols[] = {"class", "kind", "endpoints", "meeting_policy",
		"meeting_pct"};
	static const enum db_col_type cls_types[] = {DB_COL_TEXT, DB_COL_TEXT, DB_COL_INT,
		DB_COL_INT, DB_COL_REAL};
	static const char *const find_cols[] = {"endpoint", "class", "site", "answer", "reason"};
	static const char *const nfind_cols[] = {"notification", "call_at", "target", "site",
		"problem"};
	static const char *find_names[OB_N];
	static char find_buf[OB_N][40];
	const struct db_table *sites = &r->tab[T_SITES];
	size_t n_sites = sites->n_rows;
	int rc = -1;

	for (int k = 0; k < OB_N; k++) {
		snprintf(find_buf[k], sizeof find_buf[k], "findings_%s", obligations[k].name);
		find_names[k] = find_buf[k];
		if (tab_init(&r->tab[C_FINDINGS + k], find_names[k],
			     k == OB_NOTIFIED ? nfind_cols : find_cols, NULL, 5) < 0)
			return -1;
	}
	struct site_cov *cov = calloc(n_sites + 1, sizeof *cov);
	struct class_count *cc = calloc(r->tab[T_ENDPOINTS].n_rows + 1, sizeof *cc);
	size_t n_cc = 0;
	if (!cov || !cc)
		goto out;
	for (size_t i = 0; i < n_sites; i++)
		cov[i].key = db_table_cell(sites, i, 0);
	for (size_t i = 0; i < r->tab[T_PORTS].n_rows; i++) {
		struct site_cov *c = cov_of(cov, n_sites, db_table_cell(&r->tab[T_PORTS], i, 0));
		c->ports += count_of(&r->tab[T_PORTS], i, 1);
		c->ports_ok += count_of(&r->tab[T_PORTS], i, 2);
	}
	for (size_t i = 0; i < r->tab[T_BSSIDS].n_rows; i++) {
		struct site_cov *c = cov_of(cov, n_sites, db_table_cell(&r->tab[T_BSSIDS], i, 0));
		c->bssids += count_of(&r->tab[T_BSSIDS], i, 1);
		c->bssids_ok += count_of(&r->tab[T_BSSIDS], i, 2);
	}
	/* BSSIDs with no location are in no site: counted in the total only */
	cov[n_sites].bssids += (long)r->tab[T_BSSIDS_NO_LOC].n_rows;
	if (judge_endpoints(r, s, cov, n_sites, cc, &n_cc) < 0 || judge_notifications(r) < 0)
		goto out;

	if (tab_init(&r->tab[C_COVERAGE], "coverage", cov_cols, cov_types, 10) < 0)
		goto out;
	struct site_cov all = {0};
	for (size_t i = 0; i <= n_sites; i++) {
		all.ep += cov[i].ep;
		all.ep_ok += cov[i].ep_ok;
		all.ports += cov[i].ports;
		all.ports_ok += cov[i].ports_ok;
		all.bssids += cov[i].bssids;
		all.bssids_ok += cov[i].bssids_ok;
		bool none = i == n_sites;
		if (none && !cov[i].ep && !cov[i].bssids)
			continue;
		if (cov_row(&r->tab[C_COVERAGE], &cov[i], none ? "(no site)" : cov[i].key) < 0)
			goto out;
	}
	if (cov_row(&r->tab[C_COVERAGE], &all, "(all)") < 0)
		goto out;

	if (tab_init(&r->tab[C_CLASSES], "classes", cls_cols, cls_types, 5) < 0)
		goto out;
	for (size_t i = 0; i < n_cc; i++) {
		char n[32], ok[32], p[32];
		const char *v[5] = {cc[i].cls->key ? cc[i].cls->key : "(none)",
			class_kind(cc[i].cls), num(cc[i].n, n, 32), num(cc[i].ok, ok, 32),
			pct(cc[i].ok, cc[i].n, p, 32)};
		if (tab_add(&r->tab[C_CLASSES], v) < 0)
			goto out;
	}
	rc = make_about(r, user, host) < 0 || make_erls(r) < 0 || make_obligations(r) < 0
		     ? -1 : 0;
out:
	free(cov);
	free(cc);
	if (rc < 0)
		fprintf(stderr, "lisctl: report compliance: out of memory\n");
	return rc;
}

/* ---- HTML ---- */

/* For print first: A4 or Letter, a page per site, table headers repeated on each page,
 * no row cut in two, the signature block in one piece. No web fonts, no scripts: the CSP
 * forbids any fetch. */
static const char CSS[] =
	"body{font:13px/1.4 'DejaVu Sans',Helvetica,Arial,sans-serif;color:#111;"
	"margin:2em auto;max-width:1100px;padding:0 1em}"
	"h1{font-size:1.6em;margin:0 0 .3em}"
	"h2{font-size:1.3em;margin:1.4em 0 .4em;border-bottom:1px solid #999}"
	"h3{font-size:1.05em;margin:1.1em 0 .3em}"
	".why{color:#333;margin:.2em 0 .5em}"
	"table{border-collapse:collapse;margin:.3em 0 1em;width:100%;font-size:.92em}"
	"th,td{border:1px solid #999;padding:.2em .45em;text-align:left;vertical-align:top;"
	"overflow-wrap:break-word}"
	"th{background:#eee}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
	"td.pass{color:#1b5e20;font-weight:bold}td.fail{color:#b71c1c;font-weight:bold}"
	"tr.none td{color:#1b5e20;font-style:italic}"
	"table.about th{width:12em}"
	"table.wide{table-layout:fixed;font-size:.8em}"
	"table.wide td,table.wide th{overflow-wrap:anywhere}"
	".sign td{height:3em}"
	"thead{display:table-header-group}tr{break-inside:avoid}"
	"@media print{body{margin:0;max-width:none;font-size:9.5pt;color:#000}"
	"section.site,section#findings{break-before:page}"
	"h2,h3,p.why{break-after:avoid}section#signature{break-inside:avoid}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

#define WIDE_COLS 10

static bool is_num(enum db_col_type t)
{
	return t == DB_COL_INT || t == DB_COL_REAL;
}

/* Table t, its rows whose first column is site (all when site is NULL; then the first
 * column is not shown). Empty: one row saying "0 <none_word>". */
static void html_table(FILE *o, const struct db_table *t, const char *id, const char *site,
		       const char *none_word)
{
	size_t from = site ? 1 : 0, shown = 0;
	if (t->missing) {
		fputs("<p class=\"why\">", o);
		ctl_html_text(o, t->missing);
		fputs("</p>\n", o);
		return;
	}
	/* a table too wide for the page gets columns of equal width, its text broken where it
	 * must */
	fputs(t->n_cols - from > WIDE_COLS ? "<table class=\"wide\" id=\"" : "<table id=\"", o);
	ctl_html_text(o, id);
	fputs("\">\n<thead><tr>", o);
	for (size_t j = from; j < t->n_cols; j++) {
		fputs(is_num(t->types[j]) ? "<th class=\"num\">" : "<th>", o);
		for (const char *c = t->cols[j]; *c; c++)
			putc(*c == '_' ? ' ' : *c, o);   /* column names are ours: [a-z_] */
		fputs("</th>", o);
	}
	fputs("</tr></thead>\n<tbody>\n", o);
	for (size_t i = 0; i < t->n_rows; i++) {
		if (site && strcmp(db_table_cell(t, i, 0) ? db_table_cell(t, i, 0) : "", site) != 0)
			continue;
		shown++;
		fputs("<tr>", o);
		for (size_t j = from; j < t->n_cols; j++) {
			const char *v = db_table_cell(t, i, j);
			if (v && (strcmp(v, "PASS") == 0 || strcmp(v, "FAIL") == 0))
				fprintf(o, "<td class=\"%s\">", v[0] == 'P' ? "pass" : "fail");
			else
				fputs(is_num(t->types[j]) ? "<td class=\"num\">" : "<td>", o);
			ctl_html_text(o, v ? v : "\u2014");
			fputs("</td>", o);
		}
		fputs("</tr>\n", o);
	}
	if (!shown)
		fprintf(o, "<tr class=\"none\"><td colspan=\"%zu\">0 %s</td></tr>\n",
			t->n_cols - from, none_word);
	fputs("</tbody>\n</table>\n", o);
}

/* h (h2, h3) with title and why, then the table. */
static void html_part(FILE *o, const char *h, const char *title, const char *why,
		      const struct db_table *t, const char *id, const char *site,
		      const char *none_word)
{
	fprintf(o, "<%s>", h);
	ctl_html_text(o, title);
	fprintf(o, "</%s>\n", h);
	if (why) {
		fputs("<p class=\"why\">", o);
		ctl_html_text(o, why);
		fputs("</p>\n", o);
	}
	html_table(o, t, id, site, none_word);
}

static void html_db_part(FILE *o, const struct compliance *r, int k, const char *none_word)
{
	const char *why, *title = ctl_report_title(from_db[k], &why);
	html_part(o, "h3", title, why, &r->tab[k], r->tab[k].name, NULL, none_word);
}

static void write_html(FILE *o, const struct compliance *r)
{
	const struct ctl_report_opts *op = r->op;
	const struct db_table *about = &r->tab[C_ABOUT], *sites = &r->tab[T_SITES];

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n<title>E911 compliance report</title>\n<style>", o);
	fputs(CSS, o);
	/* every printed page says what it belongs to, and which of how many it is; the period
	 * is ours (digits, '-', ':', 'T', 'Z'): nothing to escape in a CSS string */
	fprintf(o, "@page{size:%s;margin:14mm 12mm 16mm;@bottom-left{content:\"E911 compliance "
		   "report, %s\";font-size:8pt;color:#555}@bottom-right{content:\"Page \" "
		   "counter(page) \" of \" counter(pages);font-size:8pt;color:#555}}</style>\n"
		   "</head>\n<body>\n", op->paper, db_table_cell(about, 1, 1));
	fputs("<header>\n<h1>E911 compliance report</h1>\n<table class=\"about\" id=\"about\">\n"
	      "<tbody>\n", o);
	for (size_t i = 0; i < about->n_rows; i++) {
		fputs("<tr><th>", o);
		for (const char *c = db_table_cell(about, i, 0); *c; c++)
			putc(*c == '_' ? ' ' : *c, o);
		fputs("</th><td id=\"about-", o);
		ctl_html_text(o, db_table_cell(about, i, 0));
		fputs("\">", o);
		ctl_html_text(o, db_table_cell(about, i, 1));
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody>\n</table>\n</header>\n<main>\n<section id=\"summary\">\n", o);
	html_part(o, "h2", "Obligations", "PASS when no endpoint or notification in scope "
		  "fails the obligation; lisctl(8) says how each is checked.",
		  &r->tab[C_OBLIGATIONS], "obligations", NULL, "obligations");
	html_part(o, "h2", "Coverage", "Endpoints that resolve to a precise location (not a "
		  "fallback, not a stale declaration), as lisd would answer them now; ports and "
		  "BSSIDs with a location.", &r->tab[C_COVERAGE], "coverage", NULL, "sites");
	html_part(o, "h2", "Endpoints by class", "Endpoints of each class that meet the "
		  "obligation their class falls under.", &r->tab[C_CLASSES], "classes", NULL,
		  "endpoints");
	fputs("</section>\n", o);

	for (size_t i = 0; i < sites->n_rows; i++) {
		const char *key = db_table_cell(sites, i, 0);
		fputs("<section class=\"site\" id=\"site-", o);
		ctl_html_text(o, key);
		fputs("\">\n<h2>", o);
		ctl_html_textf(o, "Site %s: %s", key, db_table_cell(sites, i, 1));
		fputs("</h2>\n", o);
		char id[160];
		snprintf(id, sizeof id, "erls-%s", key);
		const char *why, *title = ctl_report_title(DB_REP_COMPLIANCE_ERLS, &why);
		html_part(o, "h3", title, why, &r->tab[C_ERLS], id, key, "locations");
		snprintf(id, sizeof id, "coverage-%s", key);
		html_part(o, "h3", "Coverage", NULL, &r->tab[C_COVERAGE], id, key, "rows");
		fputs("</section>\n", o);
	}

	fputs("<section id=\"findings\">\n<h2>Findings</h2>\n", o);
	for (int k = 0; k < OB_N; k++)
		html_part(o, "h3", obligations[k].title, obligations[k].rule,
			  &r->tab[C_FINDINGS + k], r->tab[C_FINDINGS + k].name, NULL, "findings");
	html_db_part(o, r, T_NOT_DISPATCHABLE, "findings");
	html_db_part(o, r, T_PORTS_NO_LOC, "findings");
	html_db_part(o, r, T_BSSIDS_NO_LOC, "findings");
	html_db_part(o, r, T_STALE_DECL, "findings");
	fputs("</section>\n<section id=\"logs\">\n", o);
	const char *why, *title = ctl_report_title(DB_REP_NOTIFICATION_LOG, &why);
	html_part(o, "h2", title, why, &r->tab[T_NOTIFY_LOG], "notification_log", NULL,
		  "notifications");
	title = ctl_report_title(DB_REP_TEST_CALLS, &why);
	html_part(o, "h2", title, why, &r->tab[T_TEST_CALLS], "test_calls", NULL, "test calls");
	fputs("</section>\n<section id=\"signature\">\n<h2>Sign-off</h2>\n<p class=\"why\">", o);
	ctl_html_textf(o, "I have reviewed this report for the period %s.",
		       db_table_cell(about, 1, 1));
	fputs("</p>\n<table class=\"sign\" id=\"sign\">\n<thead><tr><th>role</th><th>name</th>"
	      "<th>signature</th><th>date</th></tr></thead>\n<tbody>\n"
	      "<tr><td>Prepared by</td><td></td><td></td><td></td></tr>\n"
	      "<tr><td>Reviewed by (auditor)</td><td></td><td></td><td></td></tr>\n"
	      "</tbody>\n</table>\n</section>\n</main>\n</body>\n</html>\n", o);
}

/* ---- JSON ---- */

static json_t *json_table(const struct db_table *t, const char *title)
{
	json_t *s = json_object(), *rows = json_array();
	json_object_set_new(s, "name", json_string(t->name));
	if (title)
		json_object_set_new(s, "title", json_string(title));
	json_object_set_new(s, "available", json_boolean(!t->missing));
	if (t->missing)
		json_object_set_new(s, "note", json_string(t->missing));
	for (size_t i = 0; i < t->n_rows; i++) {
		json_t *row = json_object();
		for (size_t j = 0; j < t->n_cols; j++)
			json_object_set_new(row, t->cols[j],
					    ctl_json_cell(db_table_cell(t, i, j), t->types[j]));
		json_array_append_new(rows, row);
	}
	json_object_set_new(s, "count", json_integer((json_int_t)t->n_rows));
	json_object_set_new(s, "rows", rows);
	return s;
}

static int write_json(FILE *o, const struct compliance *r)
{
	json_t *root = json_object(), *about = json_object(), *secs = json_array();
	const struct db_table *a = &r->tab[C_ABOUT];
	json_object_set_new(root, "report", json_string("compliance"));
	for (size_t i = 0; i < a->n_rows; i++)
		json_object_set_new(about, db_table_cell(a, i, 0),
				    json_string(db_table_cell(a, i, 1)));
	json_object_set_new(root, "about", about);
	static const int order[] = {C_OBLIGATIONS, C_COVERAGE, C_CLASSES, T_SITES, C_ERLS,
		C_FINDINGS + OB_FIXED, C_FINDINGS + OB_ON_PREMISES, C_FINDINGS + OB_OFF_PREMISES,
		C_FINDINGS + OB_NOTIFIED, T_NOT_DISPATCHABLE, T_PORTS_NO_LOC, T_BSSIDS_NO_LOC,
		T_STALE_DECL, T_NOTIFY_LOG, T_TEST_CALLS};
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
		int i = order[k];
		json_array_append_new(secs, json_table(&r->tab[i], i < N_DB ?
						       ctl_report_title(from_db[i], NULL) : NULL));
	}
	json_object_set_new(root, "sections", secs);
	int rc = json_dumpf(root, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	fputc('\n', o);
	return rc;
}

/* ---- PDF: the HTML printed by headless Chromium ---- */

#define CHROMIUM_TIMEOUT_S 120

static const char *find_chromium(void)
{
	static const char *const cands[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser",
		"/usr/bin/google-chrome"};
	for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static char *file_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* The last line of Chromium's messages, for the error. */
static void last_line(const char *path, char *out, size_t size)
{
	char line[512];
	FILE *f = fopen(path, "r");
	out[0] = '\0';
	while (f && fgets(line, sizeof line, f))
		if (line[0] != '\n') {
			line[strcspn(line, "\n")] = '\0';
			out[0] = '\0';
			lis_strcatf(out, size, "%s", line);
		}
	if (f)
		fclose(f);
}

/* Run Chromium on dir/report.html into dir/report.pdf: 0, or -1 said on stderr. Offline:
 * every host name resolves to nothing, and the page's CSP forbids fetches anyway. */
static int run_chromium(const char *chrome, const char *dir)
{
	char *html = file_in(dir, "report.html"), *pdf = file_in(dir, "report.pdf");
	char *log = file_in(dir, "chromium.log"), *prof = file_in(dir, "profile");
	char url[4200], pdf_opt[4200], prof_opt[4200];
	int rc = -1;
	if (!html || !pdf || !log || !prof)
		goto out;
	snprintf(url, sizeof url, "file://%s", html);
	snprintf(pdf_opt, sizeof pdf_opt, "--print-to-pdf=%s", pdf);
	snprintf(prof_opt, sizeof prof_opt, "--user-data-dir=%s", prof);
	char *argv[] = {(char *)chrome, "--headless", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND",
		prof_opt, "--no-pdf-header-footer", pdf_opt, url,
		geteuid() == 0 ? "--no-sandbox" : NULL, NULL};
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "lisctl: report: cannot start %s: %s\n", chrome, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open("/dev/null", O_RDONLY);
		if (fd < 0 || in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		setpgid(0, 0);
		setenv("HOME", dir, 1);
		execv(chrome, argv);
		dprintf(2, "cannot run %s: %s\n", chrome, strerror(errno));
		_exit(127);
	}
	/* Chromium's helpers are in its process group: a hung print takes them all. */
	int st = 0;
	time_t deadline = time(NULL) + CHROMIUM_TIMEOUT_S;
	pid_t w;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && time(NULL) < deadline)
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	if (w == 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fprintf(stderr, "lisctl: report: %s did not finish the PDF within %d s\n", chrome,
			CHROMIUM_TIMEOUT_S);
		goto out;
	}
	char why[400];
	last_line(log, why, sizeof why);
	if (w < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "lisctl: report: %s failed (%s %d)%s%s; no PDF written\n", chrome,
			w >= 0 && WIFSIGNALED(st) ? "signal" : "exit status",
			w >= 0 && WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
			why[0] ? ": " : "", why);
		goto out;
	}
	rc = 0;
out:
	if (!html || !pdf || !log || !prof)
		fprintf(stderr, "lisctl: report: out of memory\n");
	free(html);
	free(pdf);
	free(log);
	free(prof);
	return rc;
}

/* html printed to PDF into *out (malloc'd). */
static int print_pdf(const struct ctl_report_opts *op, const char *html, size_t len,
		     char **out, size_t *out_len)
{
	const char *chrome = op->chromium ? op->chromium : find_chromium();
	if (!chrome) {
		fprintf(stderr, "lisctl: report: --format pdf needs Chromium, and none of "
				"/usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome "
				"is there: apt-get install chromium, or give --chromium PATH\n");
		return -1;
	}
	if (access(chrome, X_OK) != 0) {
		fprintf(stderr, "lisctl: report: --chromium %s: %s\n", chrome, strerror(errno));
		return -1;
	}
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/lisctl-report.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "lisctl: report: cannot create a directory in %s: %s\n",
			tmp && *tmp ? tmp : "/tmp", strerror(errno));
		return -1;
	}
	int rc = -1;
	char *path = file_in(dir, "report.html");
	FILE *f = path ? fopen(path, "w") : NULL;
	bool ok = f && fwrite(html, 1, len, f) == len;
	if (f)
		ok = fclose(f) == 0 && ok;
	free(path);
	if (!ok) {
		fprintf(stderr, "lisctl: report: cannot write the page in %s: %s\n", dir,
			strerror(errno));
	} else if (run_chromium(chrome, dir) == 0) {
		path = file_in(dir, "report.pdf");
		f = path ? fopen(path, "rb") : NULL;
		char *buf = NULL;
		size_t n = 0;
		FILE *m = f ? open_memstream(&buf, &n) : NULL;
		char chunk[65536];
		size_t got;
		while (m && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
			fwrite(chunk, 1, got, m);
		if (m)
			fclose(m);
		if (f)
			fclose(f);
		free(path);
		if (!buf || n < 5 || memcmp(buf, "%PDF-", 5) != 0) {
			fprintf(stderr, "lisctl: report: %s exited without writing a PDF; no PDF "
					"written\n", chrome);
			free(buf);
		} else {
			*out = buf;
			*out_len = n;
			rc = 0;
		}
	}
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

/* ---- the command ---- */

static void who(char *user, size_t usize, char *host, size_t hsize)
{
	struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		snprintf(user, usize, "%s", pw->pw_name);
	else
		snprintf(user, usize, "uid %u", (unsigned)geteuid());
	if (gethostname(host, hsize) != 0)
		snprintf(host, hsize, "(unknown host)");
	host[hsize - 1] = '\0';
}

int ctl_compliance_run(const struct ctl_settings *set, const struct ctl_report_opts *op)
{
	static struct compliance r;     /* large: not on the stack */
	struct lis_error err = {0};
	struct wm_snapshot *s = NULL;
	char user[128], host[256];
	size_t n = 0;
	int rc = CTL_EXIT_FAIL;

	memset(&r, 0, sizeof r);
	r.op = op;
	r.now = time(NULL);
	who(user, sizeof user, host, sizeof host);
	struct db_conn *c = db_connect(set->conninfo, &err);
	if (!c) {
		fprintf(stderr, "lisctl: report: %s\n", err.msg);
		return CTL_EXIT_FAIL;
	}
	for (; n < N_DB; n++) {
		if (db_report_run(c, from_db[n], &op->f, &r.tab[n], &err) < 0) {
			fprintf(stderr, "lisctl: report compliance: %s\n", err.msg);
			break;
		}
		/* endpoint classes (0008) and notifications (0009) are what it judges */
		long v = n == T_DATABASE ? count_of(&r.tab[n], 0, 2) : MIN_SCHEMA;
		if (v < MIN_SCHEMA) {
			fprintf(stderr, "lisctl: report compliance: the database's schema is version "
					"%ld; the report needs version %d or later: run lisctl db "
					"migrate\n", v, MIN_SCHEMA);
			break;
		}
	}
	db_close(c);
	if (n < N_DB)
		goto out;
	/* a mistyped key would make a report of nothing, every obligation passed */
	if (op->f.site && r.tab[T_SITES].n_rows == 0) {
		fprintf(stderr, "lisctl: report compliance: --site %s: no such site\n", op->f.site);
		goto out;
	}
	/* the snapshot lisd would load now, read after the tables: as current as they are */
	if (!(s = ctl_snapshot_open(set->conninfo, "report")) || compute(&r, s, user, host) < 0)
		goto out;

	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	int wrc = 0;
	if (o && op->fmt == FMT_JSON)
		wrc = write_json(o, &r);
	else if (o)
		write_html(o, &r);
	if (!o || fclose(o) != 0 || wrc < 0) {
		fprintf(stderr, "lisctl: report: out of memory\n");
	} else if (op->fmt == FMT_PDF) {
		char *pdf = NULL;
		size_t pdf_len = 0;
		if (print_pdf(op, buf, len, &pdf, &pdf_len) == 0 &&
		    ctl_report_write_out(op->out_path, pdf, pdf_len) == 0)
			rc = CTL_EXIT_OK;
		free(pdf);
	} else if (ctl_report_write_out(op->out_path, buf, len) == 0) {
		rc = CTL_EXIT_OK;
	}
	free(buf);
out:
	wm_snapshot_free(s);
	for (size_t k = 0; k < N_TABS; k++)
		db_table_clear(&r.tab[k]);
	return rc;
}
