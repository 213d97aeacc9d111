/* lisctl report: each report on the wiremap and query log of tests/data/report, whose right
 * answers are written down here, read back through a parser of each format: CSV with libcsv
 * (RFC 4180), JSON with jansson, HTML with libxml2's HTML parser and XPath; and the summary
 * page rendered by headless Chromium, which must show the same numbers without a single
 * console error or network fetch. The compliance report reads tests/data/compliance in a
 * database of its own: its HTML, the same page as Chromium renders it, its JSON, and its
 * PDF (pdfinfo for the pages, pdftotext for what each page says). */
#include "check.h"
#include "harness.h"
#include "xp.h"

#include <csv.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#define PERIOD "--from", "2026-11-02", "--to", "2026-11-05"

static struct th_pg PG;
static char *WORK;
static bool db_up;
static char COMPLIANCE_CI[600];         /* the compliance sample's database */
static bool compliance_up;

static const char *fixture(const char *name)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof bufs[0], "%s/tests/data/report/%s", th_srcdir(), name);
	return b;
}

static bool exec_file(const char *name)
{
	char *sql = th_read_file(fixture(name), NULL);
	bool ok = CHECKF(sql && th_pg_exec(&PG, "lis", sql) == 0, "cannot run %s", name);
	free(sql);
	return ok;
}

/* lisctl on database ci with the arguments pre[0..n_pre) then those of ap (NULL-terminated;
 * 17 in all at most). */
static void lisctl_args(struct th_proc *p, const char *ci, const char *const *pre, int n_pre,
			va_list ap)
{
	char *argv[20] = {NULL};
	int n = 0;
	for (; n < n_pre; n++)
		argv[n] = (char *)pre[n];
	for (const char *a; n < 17 && (a = va_arg(ap, const char *)) != NULL;)
		argv[n++] = (char *)a;
	th_lisctl(p, ci, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6],
		  argv[7], argv[8], argv[9], argv[10], argv[11], argv[12], argv[13], argv[14],
		  argv[15], argv[16], (char *)NULL);
}

/* lisctl report ARGS... (NULL-terminated, at most 16). */
static void report(struct th_proc *p, ...)
{
	static const char *const pre[] = {"report"};
	va_list ap;
	va_start(ap, p);
	lisctl_args(p, PG.conninfo, pre, 1, ap);
	va_end(ap);
}

static void test_setup_fixture_wiremap_and_logs(void)
{
	if (!CHECK(th_pg_start(&PG) == 0))
		return;
	WORK = th_tmpdir("report");
	struct th_proc p;
	th_lisctl(&p, PG.conninfo, "db", "migrate", (char *)NULL);
	bool ok = CHECKF(p.status == 0, "migrate: %s", th_flat(p.err));
	th_proc_free(&p);
	if (!ok)
		return;
	char mp[600], im[600], mb[600];
	snprintf(mp, sizeof mp, "%s/mac_ports.csv", WORK);
	snprintf(im, sizeof im, "%s/ip_macs.csv", WORK);
	snprintf(mb, sizeof mb, "%s/mac_bssids.csv", WORK);
	if (!CHECK(th_csv_from_template(fixture("mac_ports.csv.in"), mp) == 0 &&
		   th_csv_from_template(fixture("ip_macs.csv.in"), im) == 0 &&
		   th_csv_from_template(fixture("mac_bssids.csv.in"), mb) == 0))
		return;
	char f[7][1024];
	const char *names[7] = {"sites.csv", "locations.csv", "subnets.csv", "switches.csv",
		"ports.csv", "bssids.csv", "endpoints.csv"};
	for (int i = 0; i < 7; i++)
		snprintf(f[i], sizeof f[i], "%s", fixture(names[i]));
	th_lisctl(&p, PG.conninfo, "import", "--sites", f[0], "--locations", f[1], "--subnets",
		  f[2], "--switches", f[3], "--ports", f[4], "--bssids", f[5], "--endpoints", f[6],
		  "--mac-ports", mp, "--ip-macs", im, "--mac-bssids", mb, (char *)NULL);
	ok = CHECKF(p.status == 0, "import exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);
	db_up = ok && exec_file("wiremap_extra.sql") && exec_file("collector.sql") &&
		exec_file("query_log.sql");
}

/* ---- CSV, read with libcsv ---- */

struct csv_doc {
	size_t n;
	struct csv_row {
		size_t n;
		char **f;
	} rows[128];
	bool overflow;
};

static void on_field(void *s, size_t len, void *data)
{
	struct csv_doc *d = data;
	if (d->n >= 128) {
		d->overflow = true;
		return;
	}
	struct csv_row *r = &d->rows[d->n];
	r->f = realloc(r->f, (r->n + 1) * sizeof *r->f);
	/* libcsv's field is not NUL-terminated: copy exactly len bytes */
	char *f = malloc(len + 1);
	if (f) {
		if (len)
			memcpy(f, s, len);
		f[len] = '\0';
	}
	r->f[r->n++] = f;
}

static void on_row(int c, void *data)
{
	(void)c;
	struct csv_doc *d = data;
	if (d->n < 128)
		d->n++;
}

static bool csv_read(const char *text, struct csv_doc *d)
{
	struct csv_parser p;
	memset(d, 0, sizeof *d);
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return false;
	size_t len = strlen(text);
	bool ok = csv_parse(&p, text, len, on_field, on_row, d) == len &&
		  csv_fini(&p, on_field, on_row, d) == 0;
	if (!ok)
		t_diag("CSV error: %s", csv_strerror(csv_error(&p)));
	csv_free(&p);
	return ok && !d->overflow;
}

static void csv_doc_free(struct csv_doc *d)
{
	for (size_t i = 0; i < d->n && i < 128; i++) {
		for (size_t j = 0; j < d->rows[i].n; j++)
			free(d->rows[i].f[j]);
		free(d->rows[i].f);
	}
}

/* Row index of the header of a section that has rows, -1 if none. */
static int csv_header(const struct csv_doc *d, const char *section)
{
	for (size_t i = 0; i + 1 < d->n; i++)
		if (d->rows[i].n && strcmp(d->rows[i].f[0], "section") == 0 &&
		    d->rows[i + 1].n && strcmp(d->rows[i + 1].f[0], section) == 0)
			return (int)i;
	return -1;
}

/* Number of data rows of a section. */
static int csv_count(const struct csv_doc *d, const char *section)
{
	int n = 0;
	for (size_t i = 0; i < d->n; i++)
		n += d->rows[i].n && strcmp(d->rows[i].f[0], section) == 0;
	return n;
}

/* Cell (row-th data row of section, column named col), NULL if absent. */
static const char *csv_cell(const struct csv_doc *d, const char *section, int row,
			    const char *col)
{
	int h = csv_header(d, section);
	if (h < 0)
		return NULL;
	size_t c = 0;
	while (c < d->rows[h].n && strcmp(d->rows[h].f[c], col) != 0)
		c++;
	if (c == d->rows[h].n)
		return NULL;
	int k = -1;
	for (size_t i = (size_t)h + 1; i < d->n; i++)
		if (d->rows[i].n && strcmp(d->rows[i].f[0], section) == 0 && ++k == row)
			return c < d->rows[i].n ? d->rows[i].f[c] : NULL;
	return NULL;
}

/* Run a report as CSV and parse it; false (after a failed check) when either fails. */
static bool csv_report(struct csv_doc *d, const char *what, ...)
{
	char *argv[20];
	int n = 0;
	va_list ap;
	va_start(ap, what);
	for (const char *a; n < 18 && (a = va_arg(ap, const char *)) != NULL;)
		argv[n++] = (char *)a;
	va_end(ap);
	for (int i = n; i < 20; i++)
		argv[i] = NULL;
	struct th_proc p;
	report(&p, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7],
	       argv[8], argv[9], argv[10], argv[11], argv[12], argv[13], (char *)NULL);
	bool ok = CHECKF(p.status == 0, "%s: exit %d: %s", what, p.status, th_flat(p.err)) &&
		  CHECKF(csv_read(p.out, d), "%s: not RFC 4180 CSV: %s", what, th_flat(p.out));
	th_proc_free(&p);
	return ok;
}

/* ---- the reports ---- */

static void test_queries_report_filters_period_site_result_source(void)
{
	if (!db_up)
		return;
	struct csv_doc d;
	if (csv_report(&d, "queries", "queries", PERIOD, NULL)) {
		CHECKF(csv_count(&d, "queries") == 10, "%d rows", csv_count(&d, "queries"));
		CHECK_STR(csv_cell(&d, "queries", 0, "at"), "2026-11-02T09:00:00Z");
		CHECK_STR(csv_cell(&d, "queries", 0, "target"), "ip:10.1.0.10");
		CHECK_STR(csv_cell(&d, "queries", 0, "fallback"), "false");
		CHECK_STR(csv_cell(&d, "queries", 5, "disagreement"),
			  "port says branch, subnet says hq");
		CHECK_STR(csv_cell(&d, "queries", 9, "result"), "404");
		CHECK_STR(csv_cell(&d, "queries", 9, "kind"), "deref_get");
	}
	csv_doc_free(&d);
	if (csv_report(&d, "all", "queries", NULL))
		CHECK(csv_count(&d, "queries") == 11);
	csv_doc_free(&d);
	if (csv_report(&d, "--site hq", "queries", PERIOD, "--site", "hq", NULL))
		CHECKF(csv_count(&d, "queries") == 6, "%d", csv_count(&d, "queries"));
	csv_doc_free(&d);
	if (csv_report(&d, "--result", "queries", PERIOD, "--result", "located", NULL))
		CHECK(csv_count(&d, "queries") == 8);
	csv_doc_free(&d);
	if (csv_report(&d, "--source", "queries", PERIOD, "--source", "port", NULL)) {
		CHECK(csv_count(&d, "queries") == 4);
		CHECK_STR(csv_cell(&d, "queries", 3, "instance"), "lis2");
		CHECK_STR(csv_cell(&d, "queries", 3, "seq"), "3");
	}
	csv_doc_free(&d);
	/* a timestamp with a zone bounds it to the second */
	if (csv_report(&d, "timestamps", "queries", "--from", "2026-11-03T09:00:00+00:00", "--to",
		       "2026-11-03T11:00:00Z", NULL))
		CHECK(csv_count(&d, "queries") == 2);
	csv_doc_free(&d);
}

/* A requester chooses its SIP URI, and auditors open CSV reports in spreadsheets: a cell
 * that would run as a formula is defused with a leading apostrophe; numbers stay numbers. */
static void test_csv_cells_that_look_like_formulas_are_defused(void)
{
	if (!db_up)
		return;
	if (!CHECK(th_pg_exec(&PG, "lis",
			      "INSERT INTO query_log (instance, seq, at, kind, target, result,"
			      " latency_ms) VALUES ('lis9', 1, '2025-01-01T10:00:00Z', 'held',"
			      " '=HYPERLINK(\"http://x\",\"y\")', 'locationUnknown', -1.5)") == 0))
		return;
	struct csv_doc d;
	if (csv_report(&d, "formula", "queries", "--from", "2025-01-01T00:00:00Z", "--to",
		       "2025-01-02T00:00:00Z", NULL)) {
		CHECK(csv_count(&d, "queries") == 1);
		CHECK_STR(csv_cell(&d, "queries", 0, "target"), "'=HYPERLINK(\"http://x\",\"y\")");
		CHECK_STR(csv_cell(&d, "queries", 0, "latency_ms"), "-1.5");
	}
	csv_doc_free(&d);
	th_pg_exec(&PG, "lis", "DELETE FROM query_log WHERE instance = 'lis9'");
}

/* lisd(8) TEST MODE: test queries are not risks. Rows that would add to each query-log risk
 * section, all flagged test, change none of them. */
static void test_test_mode_queries_stay_out_of_the_risks(void)
{
	if (!db_up)
		return;
	if (!CHECK(th_pg_exec(&PG, "lis",
			      "INSERT INTO query_log (instance, seq, at, kind, target, result,"
			      " response_time, disagreement, site_key, test) VALUES"
			      " ('lis8', 1, '2026-11-03T10:00:00Z', 'held', 'ip:10.9.9.9',"
			      " 'locationUnknown', 'emergencyRouting', NULL, NULL, true),"
			      " ('lis8', 2, '2026-11-03T10:00:01Z', 'held',"
			      " 'mac:00:50:b6:00:00:02', 'located', NULL,"
			      " 'port says hq, subnet says branch', 'hq', true)") == 0))
		return;
	struct csv_doc d;
	if (csv_report(&d, "risk with tests", "risk", PERIOD, NULL)) {
		CHECK(csv_count(&d, "emergency_fallback") == 3);
		CHECK(csv_count(&d, "site_disagreements") == 1);
		CHECK_STR(csv_cell(&d, "site_disagreements", 0, "queries"), "2");
	}
	csv_doc_free(&d);
	th_pg_exec(&PG, "lis", "DELETE FROM query_log WHERE instance = 'lis8'");
}

static void test_coverage_report_finds_every_gap(void)
{
	if (!db_up)
		return;
	struct csv_doc d;
	if (!csv_report(&d, "coverage", "coverage", NULL)) {
		csv_doc_free(&d);
		return;
	}
	/* the schema requires a location for these: the sections are there, empty */
	CHECK(csv_count(&d, "subnets_without_location") == 0);
	CHECK(csv_count(&d, "bssids_without_location") == 0);

	CHECKF(csv_count(&d, "ports_without_location") == 3, "%d",
	       csv_count(&d, "ports_without_location"));
	const char *want_ports[3][4] = {{"branch", "sw-br1", "ge-0/0/1", "true"},
		{"branch", "sw-br1", "ge-0/0/9", "false"}, {"hq", "sw-hq2", "Gi1/0/1", "true"}};
	for (int i = 0; i < 3; i++) {
		CHECK_STR(csv_cell(&d, "ports_without_location", i, "site"), want_ports[i][0]);
		CHECK_STR(csv_cell(&d, "ports_without_location", i, "switch"), want_ports[i][1]);
		CHECK_STR(csv_cell(&d, "ports_without_location", i, "port"), want_ports[i][2]);
		CHECK_STR(csv_cell(&d, "ports_without_location", i, "in_wiremap"),
			  want_ports[i][3]);
	}
	/* a comma inside a cell survives the round trip */
	CHECK_STR(csv_cell(&d, "ports_without_location", 0, "description"), "gap, with a comma");

	CHECK(csv_count(&d, "endpoints_unlocatable") == 3);
	CHECK_STR(csv_cell(&d, "endpoints_unlocatable", 0, "endpoint"), "phone-old");
	CHECK_STR(csv_cell(&d, "endpoints_unlocatable", 0, "site"), "hq");
	CHECK_STR(csv_cell(&d, "endpoints_unlocatable", 0, "reason"),
		  "no static location and no fresh binding for its MAC");
	CHECK_STR(csv_cell(&d, "endpoints_unlocatable", 1, "endpoint"), "soft-1");
	CHECK_STR(csv_cell(&d, "endpoints_unlocatable", 1, "reason"),
		  "no static location and no MAC address");
	CHECK_STR(csv_cell(&d, "endpoints_unlocatable", 2, "endpoint"), "tel-only");

	CHECK(csv_count(&d, "locations_not_dispatchable") == 3);
	CHECK_STR(csv_cell(&d, "locations_not_dispatchable", 0, "location"), "br-noa1");
	CHECK_STR(csv_cell(&d, "locations_not_dispatchable", 0, "missing"), "A1, HNO");
	CHECK_STR(csv_cell(&d, "locations_not_dispatchable", 1, "location"), "hq-north-nofloor");
	CHECK_STR(csv_cell(&d, "locations_not_dispatchable", 1, "missing"), "FLR");
	CHECK_STR(csv_cell(&d, "locations_not_dispatchable", 1, "note"),
		  "building North has locations on floors 1, 4");
	CHECK_STR(csv_cell(&d, "locations_not_dispatchable", 2, "location"), "lab-geo");
	CHECK_STR(csv_cell(&d, "locations_not_dispatchable", 2, "missing"),
		  "country, A1, A3, RD, HNO");
	csv_doc_free(&d);

	if (csv_report(&d, "coverage --site hq", "coverage", "--site", "hq", NULL)) {
		CHECK(csv_count(&d, "ports_without_location") == 1);
		CHECK(csv_count(&d, "endpoints_unlocatable") == 1);
		CHECK(csv_count(&d, "locations_not_dispatchable") == 1);
	}
	csv_doc_free(&d);
}

static void test_staleness_report_bindings_and_switches(void)
{
	if (!db_up)
		return;
	struct csv_doc d;
	if (csv_report(&d, "staleness", "staleness", NULL)) {
		CHECKF(csv_count(&d, "stale_bindings") == 3, "%d", csv_count(&d, "stale_bindings"));
		CHECK_STR(csv_cell(&d, "stale_bindings", 0, "kind"), "mac-port");
		CHECK_STR(csv_cell(&d, "stale_bindings", 0, "mac"), "00:50:b6:00:00:03");
		CHECK_STR(csv_cell(&d, "stale_bindings", 0, "seen_on"), "sw-hq2 Gi1/0/1");
		CHECK_STR(csv_cell(&d, "stale_bindings", 0, "age_days"), "30");
		CHECK_STR(csv_cell(&d, "stale_bindings", 1, "kind"), "ip-mac");
		CHECK_STR(csv_cell(&d, "stale_bindings", 1, "site"), "hq");
		CHECK_STR(csv_cell(&d, "stale_bindings", 2, "kind"), "mac-bssid");
		CHECK_STR(csv_cell(&d, "stale_bindings", 2, "site"), "hq");
		CHECK(csv_count(&d, "stale_switches") == 2);
		CHECK_STR(csv_cell(&d, "stale_switches", 0, "switch"), "sw-br1");
		CHECK_STR(csv_cell(&d, "stale_switches", 0, "status"), "never polled successfully");
		CHECK_STR(csv_cell(&d, "stale_switches", 1, "switch"), "sw-hq2");
		CHECK_STR(csv_cell(&d, "stale_switches", 1, "last_error"), "timeout");
		CHECK_STR(csv_cell(&d, "stale_switches", 1, "consecutive_failures"), "40");
	}
	csv_doc_free(&d);
	if (csv_report(&d, "--days 1", "staleness", "--days", "1", NULL)) {
		CHECK(csv_count(&d, "stale_bindings") == 4);
		CHECK_STR(csv_cell(&d, "stale_bindings", 3, "site"), "branch");
	}
	csv_doc_free(&d);
	if (csv_report(&d, "--days 31 --site hq", "staleness", "--days", "31", "--site", "hq",
		       NULL)) {
		CHECK(csv_count(&d, "stale_bindings") == 0);
		CHECK(csv_count(&d, "stale_switches") == 0);
	}
	csv_doc_free(&d);
}

/* A database whose schema predates switch_poll_status: the report says so and goes on. */
static void test_staleness_without_poll_status_table_says_so(void)
{
	if (!db_up)
		return;
	if (!CHECK(th_pg_exec(&PG, "postgres", "CREATE DATABASE lis_old TEMPLATE lis") == 0) ||
	    !CHECK(th_pg_exec(&PG, "lis_old", "DROP TABLE switch_poll_status") == 0))
		return;
	char ci[600];
	snprintf(ci, sizeof ci, "host=%s user=postgres dbname=lis_old", PG.dir);
	struct th_proc p;
	th_lisctl(&p, ci, "report", "staleness", (char *)NULL);
	struct csv_doc d;
	if (CHECKF(p.status == 0, "exit %d: %s", p.status, th_flat(p.err)) &&
	    CHECK(csv_read(p.out, &d))) {
		CHECK(csv_count(&d, "stale_bindings") == 3);
		const char *note = csv_cell(&d, "stale_switches", 0, "note");
		CHECKF(note && strstr(note, "switch_poll_status does not exist"), "note: %s",
		       note ? note : "(none)");
		csv_doc_free(&d);
	}
	th_proc_free(&p);
}

static void test_risk_report_finds_each_failure_mode(void)
{
	if (!db_up)
		return;
	struct csv_doc d;
	if (csv_report(&d, "risk", "risk", PERIOD, NULL)) {
		CHECKF(csv_count(&d, "shared_locations") == 1, "%d",
		       csv_count(&d, "shared_locations"));
		CHECK_STR(csv_cell(&d, "shared_locations", 0, "location"), "hq-lobby");
		CHECK_STR(csv_cell(&d, "shared_locations", 0, "site"), "hq");
		CHECK_STR(csv_cell(&d, "shared_locations", 0, "endpoints"), "4");
		CHECK_STR(csv_cell(&d, "shared_locations", 0, "endpoint_sites"), "3");
		CHECK_STR(csv_cell(&d, "shared_locations", 0, "endpoints_by_site"),
			  "branch 2, hq 1, lab 1");

		CHECK(csv_count(&d, "site_disagreements") == 1);
		CHECK_STR(csv_cell(&d, "site_disagreements", 0, "target"), "mac:00:50:b6:00:00:02");
		CHECK_STR(csv_cell(&d, "site_disagreements", 0, "queries"), "2");

		CHECK(csv_count(&d, "emergency_fallback") == 3);
		CHECK_STR(csv_cell(&d, "emergency_fallback", 0, "target"), "ip:10.2.0.10");
		CHECK_STR(csv_cell(&d, "emergency_fallback", 0, "problem"), "fallback");
		CHECK_STR(csv_cell(&d, "emergency_fallback", 1, "target"), "ip:10.1.0.20");
		CHECK_STR(csv_cell(&d, "emergency_fallback", 2, "problem"), "not located");
		CHECK_STR(csv_cell(&d, "emergency_fallback", 2, "result"), "locationUnknown");

		CHECK(csv_count(&d, "mac_moves_between_sites") == 1);
		CHECK_STR(csv_cell(&d, "mac_moves_between_sites", 0, "mac"), "00:50:b6:00:00:02");
		CHECK_STR(csv_cell(&d, "mac_moves_between_sites", 0, "from_site"), "hq");
		CHECK_STR(csv_cell(&d, "mac_moves_between_sites", 0, "to_site"), "branch");
	}
	csv_doc_free(&d);
	/* over the whole log: one more branch endpoint on the lobby, one more move */
	if (csv_report(&d, "risk, all time", "risk", NULL)) {
		CHECK_STR(csv_cell(&d, "shared_locations", 0, "endpoints_by_site"),
			  "branch 3, hq 1, lab 1");
		CHECK(csv_count(&d, "emergency_fallback") == 4);
		CHECK(csv_count(&d, "mac_moves_between_sites") == 2);
	}
	csv_doc_free(&d);
}

/* ---- JSON, read with jansson ---- */

static json_t *json_section(json_t *root, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(root, "sections"), i, s)
		if (json_is_string(json_object_get(s, "name")) &&
		    strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
			return s;
	return NULL;
}

static void test_json_format_parses_with_types(void)
{
	if (!db_up)
		return;
	struct th_proc p;
	report(&p, "risk", PERIOD, "--format", "json", (char *)NULL);
	json_error_t je;
	json_t *root = p.status == 0 ? json_loads(p.out, 0, &je) : NULL;
	if (CHECKF(root != NULL, "exit %d, not JSON: %s", p.status, th_flat(p.out))) {
		CHECK_STR(json_string_value(json_object_get(root, "report")), "risk");
		CHECK_STR(json_string_value(json_object_get(json_object_get(root, "filters"),
							    "from")), "2026-11-02T00:00:00Z");
		json_t *s = json_section(root, "shared_locations");
		json_t *row = json_array_get(json_object_get(s, "rows"), 0);
		CHECK(json_integer_value(json_object_get(s, "count")) == 1);
		CHECK(json_is_integer(json_object_get(row, "endpoints")) &&
		      json_integer_value(json_object_get(row, "endpoints")) == 4);
		CHECK_STR(json_string_value(json_object_get(row, "location")), "hq-lobby");
		s = json_section(root, "emergency_fallback");
		CHECK(json_array_size(json_object_get(s, "rows")) == 3);
		row = json_array_get(json_object_get(s, "rows"), 2);
		CHECK(json_is_null(json_object_get(row, "location")));
		CHECK(json_is_true(json_object_get(json_section(root, "mac_moves_between_sites"),
						   "available")));
	}
	json_decref(root);
	th_proc_free(&p);

	report(&p, "queries", PERIOD, "--site", "branch", "--format=json", (char *)NULL);
	root = p.status == 0 ? json_loads(p.out, 0, &je) : NULL;
	if (CHECKF(root != NULL, "exit %d, not JSON: %s", p.status, th_flat(p.out))) {
		json_t *rows = json_object_get(json_section(root, "queries"), "rows");
		CHECK(json_array_size(rows) == 2);
		json_t *r0 = json_array_get(rows, 0);
		CHECK(json_is_false(json_object_get(r0, "fallback")));
		CHECK(json_is_real(json_object_get(r0, "latency_ms")) &&
		      json_real_value(json_object_get(r0, "latency_ms")) == 4.0);
		CHECK(json_integer_value(json_object_get(r0, "seq")) == 6);
		CHECK_STR(json_string_value(json_object_get(r0, "requester_ip")), "10.9.9.9");
	}
	json_decref(root);
	th_proc_free(&p);
}

/* ---- HTML, read with libxml2's HTML parser ---- */

static xmlDocPtr html_parse(const char *text)
{
	return htmlReadMemory(text, (int)strlen(text), NULL, "utf-8",
			      HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
}

static char *xs(xmlDocPtr d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *xs(xmlDocPtr d, const char *fmt, ...)
{
	char expr[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(expr, sizeof expr, fmt, ap);
	va_end(ap);
	return xp_str(d, expr);
}

#define CHECK_XS(d, want, ...) do { \
		char *got_ = xs((d), __VA_ARGS__); \
		CHECK_STR(got_, (want)); \
		free(got_); \
	} while (0)

/* Nothing on the page may fetch anything: no scripts, no external resources. */
static void check_self_contained(xmlDocPtr d)
{
	CHECK(xp_count(d, "//script") == 0);
	CHECK(xp_count(d, "//link | //img | //iframe | //object | //embed") == 0);
	CHECK(xp_count(d, "//@src | //@href | //@*[local-name()='href']") == 0);
	CHECK(xp_count(d, "//@*[starts-with(name(), 'on')]") == 0);
	char *css = xp_str(d, "string(//style)");
	CHECK(strstr(css, "url(") == NULL && strstr(css, "@import") == NULL);
	CHECK(strstr(css, "@media print") != NULL);
	free(css);
}

static void test_html_format_is_escaped_and_self_contained(void)
{
	if (!db_up)
		return;
	struct th_proc p;
	report(&p, "coverage", "--format", "html", (char *)NULL);
	xmlDocPtr d = p.status == 0 ? html_parse(p.out) : NULL;
	if (CHECKF(d != NULL, "exit %d: %s", p.status, th_flat(p.err))) {
		check_self_contained(d);
		CHECK(xp_count(d, "//table[@id='ports_without_location']/tbody/tr") == 3);
		CHECK_XS(d, "sw-hq2", "string(//table[@id='ports_without_location']/tbody/tr[3]/td[2])");
		CHECK_XS(d, "A1, HNO", "string(//table[@id='locations_not_dispatchable']/tbody/"
			 "tr[td[2]='br-noa1']/td[3])");
		CHECK(xp_count(d, "//section[@id='s-subnets_without_location']/p[@class='none']")
		      == 1);
	}
	xmlFreeDoc(d);
	th_proc_free(&p);

	/* the site whose name holds & " < > comes out as text, not markup */
	report(&p, "summary", PERIOD, (char *)NULL);
	d = p.status == 0 ? html_parse(p.out) : NULL;
	if (CHECKF(d != NULL, "exit %d: %s", p.status, th_flat(p.err))) {
		CHECK_XS(d, "R&D \"Lab\", <Annex>",
			 "string(//table[@id='sites']/tbody/tr[td[1]='lab']/td[2])");
		CHECK(xp_count(d, "//Annex | //annex") == 0);
		CHECK(strstr(p.out, "R&amp;D &quot;Lab&quot;, &lt;Annex&gt;") != NULL);
	}
	xmlFreeDoc(d);
	th_proc_free(&p);
}

/* The summary's numbers, wherever the DOM came from (lisctl's output or Chromium's). */
static void check_summary_dom(xmlDocPtr d)
{
	static const char *const sites[3][10] = {
		/* site, name, locations, subnets, switches, ports, bssids, queries, fallback,
		 * emergency */
		{"hq", "Headquarters", "3", "1", "2", "3", "1", "6", "4", "3"},
		{"branch", "Branch Office", "2", "1", "1", "2", "0", "2", "0", "2"},
		{"lab", "R&D \"Lab\", <Annex>", "2", "1", "1", "0", "0", "0", "0", "0"},
	};
	static const char *const cols[] = {"site", "name", "locations", "subnets", "switches",
		"ports", "bssids", "queries", "fallback", "emergency"};
	CHECK(xp_count(d, "//table[@id='sites']/tbody/tr") == 3);
	for (int s = 0; s < 3; s++)
		for (int c = 1; c < 10; c++)
			CHECK_XS(d, sites[s][c], "string(//table[@id='sites']/tbody/tr[td[1]='%s']/"
				 "td[count(//table[@id='sites']/thead/tr/th[.='%s']/"
				 "preceding-sibling::th) + 1])", sites[s][0], cols[c]);
	/* per source */
	CHECK_XS(d, "port", "string(//table[@id='sources']/tbody/tr[1]/td[1])");
	CHECK_XS(d, "4", "string(//table[@id='sources']/tbody/tr[1]/td[2])");
	CHECK_XS(d, "2", "string(//table[@id='sources']/tbody/tr[td[1]='(none)']/td[2])");
	CHECK_XS(d, "2", "string(//table[@id='sources']/tbody/tr[td[1]='site_default']/td[4])");
	/* the chart: one segment per (day, result) with queries, stacked */
	CHECK(xp_count(d, "//*[local-name()='svg']") == 1);
	CHECK(xp_count(d, "//*[local-name()='rect'][@class='bar']") == 7);
	CHECK_XS(d, "2", "string(//*[local-name()='rect'][@data-day='2026-11-02']"
		 "[@data-result='located (fallback)']/@data-count)");
	CHECK_XS(d, "1", "string(//*[local-name()='rect'][@data-day='2026-11-04']"
		 "[@data-result='locationUnknown']/@data-count)");
	CHECK_XS(d, "3", "string(//table[@id='days']/tbody/tr[td[1]='2026-11-04']/td[last()])");
	/* the top risks */
	CHECK_XS(d, "hq-lobby", "string(//section[@id='s-shared_locations']//tbody/tr[1]/td[1])");
	CHECK(xp_count(d, "//section[@id='s-emergency_fallback']//tbody/tr") == 3);
	CHECK(xp_count(d, "//section[@id='s-mac_moves_between_sites']//tbody/tr") == 1);
}

static void test_summary_html_has_counts_chart_and_risks(void)
{
	if (!db_up)
		return;
	struct th_proc p;
	char out[600];
	snprintf(out, sizeof out, "%s/summary.html", WORK);
	report(&p, "summary", PERIOD, "-o", out, (char *)NULL);
	CHECKF(p.status == 0 && p.out[0] == '\0', "exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);
	char *text = th_read_file(out, NULL);
	xmlDocPtr d = text ? html_parse(text) : NULL;
	if (CHECKF(d != NULL, "no %s", out)) {
		check_self_contained(d);
		check_summary_dom(d);
	}
	xmlFreeDoc(d);
	free(text);
}

/* ---- the summary in a real browser ---- */

static const char *chromium_path(void)
{
	static const char *const cands[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser",
		"/usr/bin/google-chrome"};
	for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

/* Console messages, script errors and blocked fetches as Chromium logs them. */
static bool console_error(const char *log)
{
	return strstr(log, "CONSOLE") || strstr(log, "Uncaught") ||
	       strstr(log, "Refused to") || strstr(log, "net::ERR_");
}

/* The DOM headless Chromium makes of the page at html (--dump-dom), with its profile in
 * profile; NULL (a check failed) when it did not run. Console errors fail a check. */
static xmlDocPtr chromium_dom(const char *html, const char *profile)
{
	char url[700], dir_opt[700];
	snprintf(url, sizeof url, "file://%s", html);
	snprintf(dir_opt, sizeof dir_opt, "--user-data-dir=%s/profile", profile);
	/* The browser reads the file as itself; as root that is fine, as another user the
	 * temp dir must be readable. */
	chmod(WORK, 0755);
	chmod(html, 0644);
	char *const dump[] = {(char *)chromium_path(), "--headless", "--no-sandbox",
		"--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		dir_opt, "--enable-logging=stderr", "--v=0", "--dump-dom", url, NULL};
	char *const env[] = {"HOME=/tmp", NULL};
	struct th_proc p;
	th_run(&p, dump, env, 90);
	xmlDocPtr d = p.status == 0 ? html_parse(p.out) : NULL;
	if (CHECKF(d != NULL, "chromium exit %d: %s", p.status, th_flat(p.err)))
		CHECKF(!console_error(p.err), "console errors: %s", th_flat(p.err));
	th_proc_free(&p);
	return d;
}

static void test_summary_renders_in_headless_chromium(void)
{
	if (!db_up)
		return;
	const char *chrome = chromium_path();
	if (!chrome) {
		t_diag("SKIP: chromium is not installed (apt-get install chromium)");
		return;
	}
	char html[600], url[700], profile[400], shot[600], shot_opt[700], dir_opt[700];
	snprintf(html, sizeof html, "%s/summary.html", WORK);
	struct th_proc p;
	report(&p, "summary", PERIOD, "-o", html, (char *)NULL);
	bool ok = CHECKF(p.status == 0, "exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);
	if (!ok)
		return;
	snprintf(url, sizeof url, "file://%s", html);
	const char *prof = th_tmpdir("chromium");   /* the harness's: removed at exit */
	if (!CHECK(prof != NULL))
		return;
	snprintf(profile, sizeof profile, "%s", prof);
	snprintf(dir_opt, sizeof dir_opt, "--user-data-dir=%s/profile", profile);
	char *const env[] = {"HOME=/tmp", NULL};
	xmlDocPtr d = chromium_dom(html, profile);
	if (d) {
		CHECK_XS(d, "Location service summary", "string(//h1)");
		check_summary_dom(d);
	}
	xmlFreeDoc(d);

	snprintf(shot, sizeof shot, "%s/summary.png", profile);
	snprintf(shot_opt, sizeof shot_opt, "--screenshot=%s", shot);
	char *const snap[] = {(char *)chrome, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", dir_opt, "--enable-logging=stderr",
		"--v=0", "--hide-scrollbars", "--window-size=1200,1600", shot_opt, url, NULL};
	th_run(&p, snap, env, 90);
	size_t len = 0;
	char *png = th_read_file(shot, &len);
	CHECKF(p.status == 0 && png && len > 1000 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0,
	       "screenshot: exit %d, %zu bytes: %s", p.status, len, th_flat(p.err));
	CHECKF(!console_error(p.err), "console errors: %s", th_flat(p.err));
	if (png)
		t_diag("screenshot: %s (%zu bytes)", shot, len);
	free(png);
	th_proc_free(&p);
}

/* ---- the compliance report ---- */

#define C_PERIOD "--from", "2026-11-02", "--to", "2026-11-05"
#define C_ORG "Example Corp <Audit> & Co"

static void test_setup_compliance_sample(void)
{
	if (!db_up || !CHECK(th_pg_exec(&PG, "lis", "CREATE DATABASE compliance") == 0))
		return;
	snprintf(COMPLIANCE_CI, sizeof COMPLIANCE_CI, "host=%s user=postgres dbname=compliance",
		 PG.dir);
	struct th_proc p;
	th_lisctl(&p, COMPLIANCE_CI, "db", "migrate", (char *)NULL);
	bool ok = CHECKF(p.status == 0, "migrate: %s", th_flat(p.err));
	th_proc_free(&p);
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/data/compliance/sample.sql", th_srcdir());
	char *sql = ok ? th_read_file(path, NULL) : NULL;
	compliance_up = CHECKF(sql && th_pg_exec(&PG, "compliance", sql) == 0, "cannot run %s",
			       path);
	free(sql);
}

/* lisctl report compliance C_PERIOD --organisation C_ORG ARGS... (at most 9) */
static void compliance(struct th_proc *p, ...)
{
	static const char *const pre[] = {"report", "compliance", C_PERIOD, "--organisation",
		C_ORG};
	va_list ap;
	va_start(ap, p);
	lisctl_args(p, COMPLIANCE_CI, pre, 8, ap);
	va_end(ap);
}

/* The report as format into WORK/name (path gets its name): whether it was written, with
 * nothing on standard output. */
static bool compliance_file(const char *name, const char *format, char *path, size_t size)
{
	struct th_proc p;
	snprintf(path, size, "%s/%s", WORK, name);
	compliance(&p, "--format", format, "-o", path, (char *)NULL);
	bool ok = CHECKF(p.status == 0 && p.out[0] == '\0', "%s: exit %d: %s", name, p.status,
			 th_flat(p.err));
	th_proc_free(&p);
	return ok;
}

/* Cell col (by its header) of the row of table id whose first cell is key. */
#define CELL(d, want, id, key, col) \
	CHECK_XS(d, want, "string(//table[@id='%s']/tbody/tr[td[1]='%s']/td[count(//table" \
		 "[@id='%s']/thead/tr/th[.='%s']/preceding-sibling::th) + 1])", id, key, id, col)

/* What the sample's report must say, wherever the DOM came from. */
static void check_compliance_dom(xmlDocPtr d)
{
	char by[400], host[256] = "";
	struct passwd *pw = getpwuid(geteuid());
	gethostname(host, sizeof host - 1);
	snprintf(by, sizeof by, "%s on %s (lisctl report compliance)", pw ? pw->pw_name : "?",
		 host);

	CHECK_XS(d, "E911 compliance report", "string(//h1)");
	CHECK_XS(d, C_ORG, "string(//td[@id='about-organisation'])");
	CHECK_XS(d, "2026-11-02T00:00:00Z to 2026-11-05T00:00:00Z",
		 "string(//td[@id='about-period'])");
	CHECK_XS(d, by, "string(//td[@id='about-generated_by'])");
	char *at = xs(d, "string(//td[@id='about-generated_at'])");
	CHECKF(th_is_datetime(at), "generated at \"%s\"", at);
	free(at);
	CHECK_XS(d, "lisctl 0.1.0", "string(//td[@id='about-software'])");
	char *db = xs(d, "string(//td[@id='about-database'])");
	/* the fixture is migrated to the newest schema; the report needs 0009 at least */
	const char *ver = strstr(db, "schema version ");
	CHECKF(strncmp(db, "compliance (PostgreSQL ", 23) == 0 && ver &&
	       atoi(ver + strlen("schema version ")) >= 9, "database \"%s\"", db);
	free(db);

	/* obligations: checked, findings, verdict */
	static const char *const obl[4][4] = {
		{"Fixed devices located automatically", "FAIL", "3", "1"},
		{"On-premises non-fixed devices located", "PASS", "2", "0"},
		{"Off-premises devices with a current declaration", "FAIL", "3", "1"},
		{"Notifications delivered", "FAIL", "2", "1"},
	};
	CHECK(xp_count(d, "//table[@id='obligations']/tbody/tr") == 4);
	for (int i = 0; i < 4; i++) {
		CELL(d, obl[i][1], "obligations", obl[i][0], "result");
		CELL(d, obl[i][2], "obligations", obl[i][0], "checked");
		CELL(d, obl[i][3], "obligations", obl[i][0], "findings");
	}
	CHECK(xp_count(d, "//table[@id='obligations']//td[@class='fail']") == 3);
	CHECK(xp_count(d, "//table[@id='obligations']//td[@class='pass']") == 1);

	/* coverage: endpoints precise, ports and BSSIDs located, and the percentages */
	static const char *const cov[4][10] = {
		{"hq", "3", "2", "66.7", "3", "2", "66.7", "1", "1", "100.0"},
		{"branch", "2", "2", "100.0", "2", "2", "100.0", "0", "0", "\u2014"},
		{"(no site)", "3", "1", "33.3", "0", "0", "\u2014", "0", "0", "\u2014"},
		{"(all)", "8", "5", "62.5", "5", "4", "80.0", "1", "1", "100.0"},
	};
	static const char *const cov_cols[10] = {"site", "endpoints", "endpoints precise",
		"endpoints pct", "ports", "ports located", "ports pct", "bssids", "bssids located",
		"bssids pct"};
	CHECK(xp_count(d, "//table[@id='coverage']/tbody/tr") == 4);
	for (int i = 0; i < 4; i++)
		for (int c = 1; c < 10; c++)
			CELL(d, cov[i][c], "coverage", cov[i][0], cov_cols[c]);
	CELL(d, "66.7", "classes", "desk_phone", "meeting pct");
	CELL(d, "fixed", "classes", "desk_phone", "kind");
	CELL(d, "3", "classes", "softphone", "endpoints");
	CELL(d, "2", "classes", "softphone", "meeting policy");
	CELL(d, "100.0", "classes", "mobile", "meeting pct");
	CHECK(xp_count(d, "//table[@id='classes']/tbody/tr[td[1]='desk_phone' or "
		       "td[1]='wifi_handset' or td[1]='softphone' or td[1]='mobile']") == 4);

	/* a section per site: its ERLs with their addresses, in the order of the keys */
	CHECK(xp_count(d, "//section[@class='site']") == 2);
	CHECK_XS(d, "site-branch", "string(//section[@class='site'][1]/@id)");
	CHECK_XS(d, "Site branch: Branch <Office> & Co",
		 "string(//section[@id='site-branch']/h2)");
	CHECK(xp_count(d, "//table[@id='erls-hq']/tbody/tr") == 3);
	CHECK(xp_count(d, "//table[@id='erls-branch']/tbody/tr") == 1);
	CELL(d, "50 Market ST, Newark, NJ 07102, US", "erls-branch", "br-main", "address");
	CELL(d, "123 Broadway ST, New York, NY 10001, US", "erls-hq", "hq-410", "address");
	CELL(d, "410", "erls-hq", "hq-410", "room");
	CELL(d, "yes", "erls-hq", "hq-410", "dispatchable");
	CELL(d, "no: missing HNO", "erls-hq", "hq-nohno", "dispatchable");
	CELL(d, "66.7", "coverage-hq", "3", "endpoints pct");

	/* findings, and an explicit row where there are none */
	CHECK(xp_count(d, "//table[@id='findings_fixed']/tbody/tr") == 1);
	CELL(d, "hq", "findings_fixed", "desk-2", "site");
	CHECK(xp_count(d, "//table[@id='findings_off_premises']/tbody/tr") == 1);
	CELL(d, "softphone", "findings_off_premises", "soft-3", "class");
	CHECK_XS(d, "0 findings", "string(//table[@id='findings_on_premises']/tbody/"
		 "tr[@class='none'])");
	CHECK_XS(d, "0 findings", "string(//table[@id='bssids_without_location']/tbody/"
		 "tr[@class='none'])");
	CHECK(xp_count(d, "//table[@id='findings_notifications']/tbody/tr") == 1);
	char *why = xs(d, "string(//table[@id='findings_notifications']/tbody/tr/td[5])");
	CHECKF(strcmp(why, "webhook https://security.example/hook failed: HTTP 500: <b>down</b>")
	       == 0, "problem \"%s\"", why);
	free(why);
	CHECK(xp_count(d, "//b") == 0);
	CELL(d, "HNO", "locations_not_dispatchable", "hq", "missing");

	/* the notification log: real calls only, a row per delivery; test calls apart */
	CHECK(xp_count(d, "//table[@id='notification_log']/tbody/tr") == 3);
	CHECK(xp_count(d, "//table[@id='notification_log']//td[.='ip:10.1.0.50']") == 0);
	CHECK(xp_count(d, "//table[@id='notification_log']/tbody/tr[td[10]='failed']") == 1);
	CHECK(xp_count(d, "//table[@id='test_calls']/tbody/tr") == 1);
	CHECK_XS(d, "ip:10.1.0.50", "string(//table[@id='test_calls']/tbody/tr/td[2])");
	CHECK_XS(d, "webhook https://security.example/hook: delivered",
		 "string(//table[@id='test_calls']/tbody/tr/td[8])");
	CHECK(xp_count(d, "//section[@id='signature']//table[@id='sign']/tbody/tr") == 2);
}

static void test_compliance_html_has_erls_coverage_obligations_and_logs(void)
{
	if (!compliance_up)
		return;
	char out[600];
	struct th_proc p;
	compliance_file("compliance.html", "html", out, sizeof out);
	char *text = th_read_file(out, NULL);
	xmlDocPtr d = text ? html_parse(text) : NULL;
	if (CHECKF(d != NULL, "no %s", out)) {
		check_self_contained(d);
		check_compliance_dom(d);
		char *css = xp_str(d, "string(//style)");
		CHECK(strstr(css, "@page{size:A4;") != NULL);
		CHECK(strstr(css, "break-before:page") != NULL);
		CHECK(strstr(css, "thead{display:table-header-group}") != NULL);
		CHECK(strstr(css, "tr{break-inside:avoid}") != NULL);
		free(css);
		CHECK(strstr(text, "Branch &lt;Office&gt; &amp; Co") != NULL);
	}
	xmlFreeDoc(d);
	free(text);

	/* -o a device, not a file to replace: written to */
	compliance(&p, "--format", "json", "-o", "/dev/null", (char *)NULL);
	CHECKF(p.status == 0 && p.out[0] == '\0', "exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);

	/* one site: its ERLs and endpoints only */
	compliance(&p, "--site", "branch", "--paper", "letter", (char *)NULL);
	d = p.status == 0 ? html_parse(p.out) : NULL;
	if (CHECKF(d != NULL, "exit %d: %s", p.status, th_flat(p.err))) {
		CHECK(xp_count(d, "//section[@class='site']") == 1);
		CHECK(xp_count(d, "//table[@id='coverage']/tbody/tr") == 2);
		CELL(d, "2", "coverage", "(all)", "endpoints");
		CELL(d, "1", "obligations", "Notifications delivered", "checked");
		CELL(d, "FAIL", "obligations", "Notifications delivered", "result");
		CELL(d, "PASS", "obligations", "Fixed devices located automatically", "result");
		CHECK(strstr(p.out, "@page{size:letter;") != NULL);
	}
	xmlFreeDoc(d);
	th_proc_free(&p);
}

static void test_compliance_json_has_the_same_figures(void)
{
	if (!compliance_up)
		return;
	struct th_proc p;
	compliance(&p, "--format", "json", (char *)NULL);
	json_error_t je;
	json_t *root = p.status == 0 ? json_loads(p.out, 0, &je) : NULL;
	if (CHECKF(root != NULL, "exit %d: %s", p.status, th_flat(p.err))) {
		CHECK_STR(json_string_value(json_object_get(json_object_get(root, "about"),
							    "organisation")), C_ORG);
		json_t *obl = json_section(root, "obligations");
		json_t *rows = json_object_get(obl, "rows");
		CHECK(json_array_size(rows) == 4);
		CHECK_STR(json_string_value(json_object_get(json_array_get(rows, 1), "result")),
			  "PASS");
		CHECK(json_integer_value(json_object_get(json_array_get(rows, 0), "checked")) == 3);
		json_t *cov = json_object_get(json_section(root, "coverage"), "rows");
		json_t *all = json_array_get(cov, json_array_size(cov) - 1);
		CHECK(json_real_value(json_object_get(all, "endpoints_pct")) == 62.5);
		CHECK(json_is_null(json_object_get(json_array_get(cov, 0), "bssids_pct")));
		CHECK(json_integer_value(json_object_get(json_section(root, "test_calls"),
							 "count")) == 1);
	}
	json_decref(root);
	th_proc_free(&p);
}

static bool have(const char *path)
{
	return access(path, X_OK) == 0;
}

/* lisctl's private directory for Chromium goes in TMPDIR: one of ours, to see it go. */
static char *PDF_TMP;

static void pdf_tmp_start(void)
{
	if (!PDF_TMP)
		PDF_TMP = th_tmpdir("pdf-tmp");
	if (PDF_TMP)
		setenv("TMPDIR", PDF_TMP, 1);
}

static void pdf_tmp_check_empty(void)
{
	unsetenv("TMPDIR");
	struct th_proc p;
	char *const ls[] = {"/bin/ls", "-A", PDF_TMP ? PDF_TMP : "/nonexistent", NULL};
	th_run(&p, ls, NULL, 10);
	CHECKF(p.status == 0 && p.out[0] == '\0', "left in TMPDIR: %s", th_flat(p.out));
	th_proc_free(&p);
}

static void test_compliance_renders_in_headless_chromium(void)
{
	if (!compliance_up)
		return;
	char html[600];
	bool ok = compliance_file("compliance-dom.html", "html", html, sizeof html);
	const char *prof = th_tmpdir("chromium-compliance");
	if (!ok || !CHECK(prof != NULL))
		return;
	xmlDocPtr d = chromium_dom(html, prof);
	if (d)
		check_compliance_dom(d);
	xmlFreeDoc(d);
}

/* Page n's text (pdftotext -f n -l n; n 0: every page), malloc'd; NULL when it cannot be
 * read. */
static char *pdf_page(const char *pdf, int n)
{
	char num[16];
	snprintf(num, sizeof num, "%d", n);
	char *const one[] = {"/usr/bin/pdftotext", "-layout", "-f", num, "-l", num, (char *)pdf,
		"-", NULL};
	char *const all[] = {"/usr/bin/pdftotext", "-layout", (char *)pdf, "-", NULL};
	char *const *argv = n ? one : all;
	struct th_proc p;
	th_run(&p, argv, NULL, 60);
	char *text = p.status == 0 ? strdup(p.out) : NULL;
	th_proc_free(&p);
	return text;
}

/* The PDF: a summary page, a page per site, the findings and logs after; A4. The count is
 * exact for this sample, as Chromium lays it out: a change of layout shows here. */
static void test_compliance_pdf_has_a_page_per_site(void)
{
	if (!compliance_up)
		return;
	char pdf[600];
	struct th_proc p;
	pdf_tmp_start();
	bool ok = compliance_file("compliance.pdf", "pdf", pdf, sizeof pdf);
	pdf_tmp_check_empty();
	size_t len = 0;
	char *bytes = ok ? th_read_file(pdf, &len) : NULL;
	ok = CHECKF(bytes && len > 1000 && memcmp(bytes, "%PDF-", 5) == 0, "%s: %zu bytes", pdf,
		    len);
	free(bytes);
	if (!ok)
		return;
	char *const info[] = {"/usr/bin/pdfinfo", pdf, NULL};
	th_run(&p, info, NULL, 60);
	int pages = -1;
	const char *at = strstr(p.out, "Pages:");
	if (at)
		pages = atoi(at + 6);
	CHECKF(strstr(p.out, "(A4)"), "not A4: %s", th_flat(p.out));
	th_proc_free(&p);
	/* the summary, branch, hq, then the findings and the logs: two pages of A4 here */
	if (!CHECKF(pages == 5, "pages: %d", pages))
		for (int i = 1; i <= pages && i < 10; i++) {
			char *text = pdf_page(pdf, i);
			t_diag("page %d: %s", i, text ? th_flat(text) : "(unreadable)");
			free(text);
		}

	static const char *const want[4][3] = {
		{"E911 compliance report", "Notifications delivered", "62.5"},
		{"Site branch: Branch <Office> & Co", "50 Market ST, Newark, NJ 07102, US", "br-main"},
		{"Site hq: Headquarters", "no: missing HNO", "hq-410"},
		{"Findings", "0 findings", "desk-2"},
	};
	for (int i = 0; i < pages; i++) {
		char *text = pdf_page(pdf, i + 1), foot[32];
		for (int k = 0; k < 3 && i < 4; k++)
			CHECKF(text && strstr(text, want[i][k]), "page %d lacks \"%s\"", i + 1,
			       want[i][k]);
		snprintf(foot, sizeof foot, "Page %d of %d", i + 1, pages);
		CHECKF(text && strstr(text, foot) && strstr(text, "E911 compliance report, "
							   "2026-11-02T00:00:00Z to 2026-11-05T00:00:00Z"),
		       "page %d has no footer", i + 1);
		free(text);
	}
	char *last = pdf_page(pdf, pages), *all = pdf_page(pdf, 0);
	CHECKF(last && strstr(last, "Sign-off") && strstr(last, "Reviewed by (auditor)"),
	       "last page: %s", last ? th_flat(last) : "(none)");
	CHECKF(all && strstr(all, "Notification log") && strstr(all, "Test calls") &&
	       strstr(all, "ip:10.1.0.50") && strstr(all, "HTTP 500: <b>down</b>"),
	       "the logs are not in the PDF");
	free(last);
	free(all);
}

/* No browser, or one that fails: exit 1, a message that says so, and the file at -o as it
 * was (here: not there at all, or its old content). */
static void test_compliance_pdf_without_working_chromium_leaves_no_file(void)
{
	if (!compliance_up)
		return;
	char pdf[600], fake[600], old[600];
	snprintf(pdf, sizeof pdf, "%s/none.pdf", WORK);
	snprintf(old, sizeof old, "%s/old.pdf", WORK);
	snprintf(fake, sizeof fake, "%s/fake-chromium", WORK);
	CHECK(th_write_file(fake, "#!/bin/sh\necho 'fake: no display' >&2\nexit 0\n") == 0);
	chmod(fake, 0755);
	CHECK(th_write_file(old, "old") == 0);
	struct {
		const char *chromium, *out, *says;
	} cases[] = {
		{"/nonexistent/chromium", pdf, "--chromium /nonexistent/chromium: No such file"},
		{"/bin/false", pdf, "/bin/false failed (exit status 1)"},
		{fake, pdf, "exited without writing a PDF"},
		{"/bin/false", old, "no PDF written"},
	};
	struct th_proc p;
	pdf_tmp_start();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		compliance(&p, "--format", "pdf", "--chromium", cases[i].chromium, "-o", cases[i].out,
			   (char *)NULL);
		CHECKF(p.status == 1 && strstr(p.err, cases[i].says), "case %zu: exit %d: %s", i,
		       p.status, th_flat(p.err));
		th_proc_free(&p);
	}
	pdf_tmp_check_empty();
	CHECK(access(pdf, F_OK) != 0);
	/* a site that does not exist is an error, not a report of nothing */
	compliance(&p, "--site", "nosuch", "-o", pdf, (char *)NULL);
	CHECKF(p.status == 1 && strstr(p.err, "--site nosuch: no such site"), "exit %d: %s",
	       p.status, th_flat(p.err));
	th_proc_free(&p);
	/* a database never migrated: said, and nothing written */
	char empty[700];
	snprintf(empty, sizeof empty, "host=%s user=postgres dbname=empty", PG.dir);
	CHECK(th_pg_exec(&PG, "lis", "CREATE DATABASE empty") == 0);
	th_lisctl(&p, empty, "report", "compliance", "-o", pdf, (char *)NULL);
	CHECKF(p.status == 1 && strstr(p.err, "schema is version 0; the report needs version 9"),
	       "exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);
	CHECK(access(pdf, F_OK) != 0);
	char *kept = th_read_file(old, NULL);
	CHECK_STR(kept, "old");
	free(kept);
	/* no temporary file left beside the output */
	char *const ls[] = {"/bin/sh", "-c", "ls -a \"$0\" | grep -c 'pdf\\.'", WORK, NULL};
	th_run(&p, ls, NULL, 10);
	CHECKF(atoi(p.out) == 0, "left: %s", p.out);
	th_proc_free(&p);
}

static void test_usage_errors_exit_2_and_database_errors_exit_1(void)
{
	struct th_proc p;
	const char *ci = db_up ? PG.conninfo : "host=/nonexistent";
	const char *cases[][4] = {
		{"report", NULL}, {"report", "nosuch", NULL}, {"report", "queries", "--format", "xml"},
		{"report", "queries", "--from", "yesterday"}, {"report", "staleness", "--days", "0"},
		{"report", "queries", "--bogus", NULL},
		{"report", "compliance", "--format", "csv"},
		{"report", "compliance", "--paper", "a5"},
		{"report", "queries", "--organisation", "X"},
		{"report", "compliance", "--result", "located"},
		{"report", "compliance", "--from", "2999-01-01"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		th_lisctl(&p, ci, cases[i][0], cases[i][1], cases[i][2], cases[i][3], (char *)NULL);
		CHECKF(p.status == 2 && p.err[0], "case %zu: exit %d", i, p.status);
		th_proc_free(&p);
	}
	th_lisctl(&p, "host=/nonexistent connect_timeout=2", "report", "coverage", (char *)NULL);
	CHECKF(p.status == 1 && strstr(p.err, "lisctl: report"), "exit %d: %s", p.status,
	       th_flat(p.err));
	th_proc_free(&p);
	if (!db_up)
		return;
	/* -o into a directory that does not exist: exit 1, nothing half-written */
	th_lisctl(&p, PG.conninfo, "report", "risk", "-o", "/nonexistent/dir/r.csv", (char *)NULL);
	CHECKF(p.status == 1 && strstr(p.err, "/nonexistent/dir/r.csv"), "exit %d", p.status);
	th_proc_free(&p);
}

int main(void)
{
	t_run("test_setup_fixture_wiremap_and_logs", test_setup_fixture_wiremap_and_logs);
	t_run("test_queries_report_filters_period_site_result_source",
	      test_queries_report_filters_period_site_result_source);
	t_run("test_csv_cells_that_look_like_formulas_are_defused",
	      test_csv_cells_that_look_like_formulas_are_defused);
	t_run("test_coverage_report_finds_every_gap", test_coverage_report_finds_every_gap);
	t_run("test_staleness_report_bindings_and_switches",
	      test_staleness_report_bindings_and_switches);
	t_run("test_staleness_without_poll_status_table_says_so",
	      test_staleness_without_poll_status_table_says_so);
	t_run("test_risk_report_finds_each_failure_mode", test_risk_report_finds_each_failure_mode);
	t_run("test_test_mode_queries_stay_out_of_the_risks",
	      test_test_mode_queries_stay_out_of_the_risks);
	t_run("test_json_format_parses_with_types", test_json_format_parses_with_types);
	t_run("test_html_format_is_escaped_and_self_contained",
	      test_html_format_is_escaped_and_self_contained);
	t_run("test_summary_html_has_counts_chart_and_risks",
	      test_summary_html_has_counts_chart_and_risks);
	if (chromium_path())
		t_run("test_summary_renders_in_headless_chromium",
		      test_summary_renders_in_headless_chromium);
	else
		t_skip("test_summary_renders_in_headless_chromium",
		       "chromium is not installed (apt-get install chromium)");
	t_run("test_setup_compliance_sample", test_setup_compliance_sample);
	t_run("test_compliance_html_has_erls_coverage_obligations_and_logs",
	      test_compliance_html_has_erls_coverage_obligations_and_logs);
	t_run("test_compliance_json_has_the_same_figures",
	      test_compliance_json_has_the_same_figures);
	if (chromium_path() && have("/usr/bin/pdfinfo") && have("/usr/bin/pdftotext")) {
		t_run("test_compliance_renders_in_headless_chromium",
		      test_compliance_renders_in_headless_chromium);
		t_run("test_compliance_pdf_has_a_page_per_site",
		      test_compliance_pdf_has_a_page_per_site);
	} else {
		t_skip("test_compliance_renders_in_headless_chromium", "chromium or poppler-utils "
		       "is not installed");
		t_skip("test_compliance_pdf_has_a_page_per_site", "chromium or poppler-utils is "
		       "not installed");
	}
	t_run("test_compliance_pdf_without_working_chromium_leaves_no_file",
	      test_compliance_pdf_without_working_chromium_leaves_no_file);
	t_run("test_usage_errors_exit_2_and_database_errors_exit_1",
	      test_usage_errors_exit_2_and_database_errors_exit_1);
	th_pg_stop(&PG);
	return t_done();
}
