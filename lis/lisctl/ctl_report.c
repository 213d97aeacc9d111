/* `lisctl report`: what auditors ask of the wiremap and the query log. db/db_report.c runs
 * one SELECT per section; this file picks the sections of a report and writes them as CSV
 * (RFC 4180), JSON (jansson) or one self-contained HTML page. The whole output is built in
 * memory first, so a failing query leaves no half-written file behind. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_csv.h"
#include "ctl_report.h"

#define DEFAULT_DAYS 7u
#define DEFAULT_COMPLIANCE_DAYS 30u     /* the compliance report's period */
#define SUMMARY_TOP 5                   /* rows of each risk shown on the summary page */
#define MAX_SECTIONS 16

/* The reports lisctl runs a list of sections for; compliance is ctl_compliance.c's. */
struct ctl_report {
	const char *name, *title;
	enum db_report_section sec[MAX_SECTIONS];
	size_t n;
};

static const struct ctl_report reports[] = {
	{"queries", "Query log", {DB_REP_QUERIES}, 1},
	{"coverage", "Coverage", {DB_REP_SUBNETS_NO_LOCATION, DB_REP_PORTS_NO_LOCATION,
		DB_REP_BSSIDS_NO_LOCATION, DB_REP_ENDPOINTS_UNLOCATABLE,
		DB_REP_LOCATIONS_NOT_DISPATCHABLE}, 5},
	{"staleness", "Staleness", {DB_REP_STALE_BINDINGS, DB_REP_STALE_SWITCHES,
		DB_REP_STALE_DECLARATIONS}, 3},
	{"risk", "Risks", {DB_REP_SHARED_LOCATIONS, DB_REP_SITE_DISAGREEMENTS,
		DB_REP_EMERGENCY_FALLBACK, DB_REP_MAC_MOVES_BETWEEN_SITES}, 4},
	{"summary", "Location service summary", {DB_REP_SUMMARY_SITES, DB_REP_SUMMARY_SOURCES,
		DB_REP_SUMMARY_DAYS, DB_REP_SUBNETS_NO_LOCATION, DB_REP_PORTS_NO_LOCATION,
		DB_REP_BSSIDS_NO_LOCATION, DB_REP_ENDPOINTS_UNLOCATABLE,
		DB_REP_LOCATIONS_NOT_DISPATCHABLE, DB_REP_STALE_BINDINGS, DB_REP_STALE_SWITCHES,
		DB_REP_STALE_DECLARATIONS, DB_REP_SHARED_LOCATIONS, DB_REP_SITE_DISAGREEMENTS,
		DB_REP_EMERGENCY_FALLBACK, DB_REP_MAC_MOVES_BETWEEN_SITES}, 15},
	{"never-located", "Endpoints never located", {DB_REP_NEVER_LOCATED}, 1},
	{"declarations", "Declared locations", {DB_REP_DECLARATIONS_EXPIRED,
		DB_REP_DECLARATIONS_DUE, DB_REP_USERS_WITHOUT_DECLARATION}, 3},
	{"compliance", "E911 compliance report", {0}, 0},
};

/* Titles and one line on why each section matters: for people, in HTML. */
static const struct {
	const char *title, *why;
} info[DB_REP_N_] = {
	[DB_REP_QUERIES] = {"Queries", "Every HELD and dereference answer of the period."},
	[DB_REP_SUBNETS_NO_LOCATION] = {"Subnets with no location",
		"A device in these subnets cannot be located by its address."},
	[DB_REP_PORTS_NO_LOCATION] = {"Switch ports with no location",
		"Neither the port nor its switch has a location: a phone plugged in here is "
		"located by a fallback at best. Ports not in the wiremap were seen in MAC "
		"bindings."},
	[DB_REP_BSSIDS_NO_LOCATION] = {"BSSIDs with no location",
		"Wi-Fi clients of these access points cannot be located by them."},
	[DB_REP_ENDPOINTS_UNLOCATABLE] = {"Endpoints with no way to be located",
		"No static location, and no MAC address or no fresh switch-port or Wi-Fi "
		"binding for it."},
	[DB_REP_LOCATIONS_NOT_DISPATCHABLE] = {"Locations that are not dispatchable",
		"A dispatcher needs country, A1, A3, RD and HNO, and the floor (FLR) in a "
		"building with more than one."},
	[DB_REP_STALE_BINDINGS] = {"Stale bindings",
		"Observations not refreshed within the period: the collector no longer sees "
		"these devices, or no longer runs."},
	[DB_REP_STALE_SWITCHES] = {"Switches not polled",
		"Switches with a management address that were not polled successfully within "
		"the period."},
	[DB_REP_STALE_DECLARATIONS] = {"Declared locations no longer current",
		"Users' declared addresses that expired or were not confirmed again in time: "
		"off premises, their calls get the class's fallback (RAY BAUM'S Act)."},
	[DB_REP_SHARED_LOCATIONS] = {"One location for endpoints of several sites",
		"Endpoints from more than one site were given the same location, typically a "
		"headquarters default: a caller may be sent to the wrong building."},
	[DB_REP_SITE_DISAGREEMENTS] = {"Sources that disagree about a site",
		"The evidence for these targets pointed at different sites."},
	[DB_REP_EMERGENCY_FALLBACK] = {"Emergency queries answered by fallback or not at all",
		"Queries with responseTime emergencyRouting or emergencyDispatch that got a "
		"fallback location or an error."},
	[DB_REP_MAC_MOVES_BETWEEN_SITES] = {"MAC moves between sites",
		"Devices that moved from a switch of one site to a switch of another."},
	[DB_REP_SUMMARY_SITES] = {"Sites", "The wiremap of each site, and the queries "
		"answered with its locations in the period."},
	[DB_REP_SUMMARY_SOURCES] = {"Sources", "Which evidence answered the queries of the "
		"period."},
	[DB_REP_SUMMARY_DAYS] = {"Queries per day", "By result (UTC days)."},
	[DB_REP_NEVER_LOCATED] = {"Endpoints never located",
		"Active endpoints that no located answer of lisd names (in the period): "
		"onboarded but never called from, or never found by the wiremap."},
	[DB_REP_DECLARATIONS_EXPIRED] = {"Expired declarations",
		"Declared addresses past their expiry: they answer no call, except as an "
		"unconfirmed fallback of a class that says so (lisctl declarations purge)."},
	[DB_REP_DECLARATIONS_DUE] = {"Declarations due",
		"Current declarations that expire, or must be confirmed again by the user's "
		"class, within the next days."},
	[DB_REP_USERS_WITHOUT_DECLARATION] = {"Users without a declaration",
		"Users of an endpoint that may be off premises (its class counts declared "
		"locations) with no current declaration that has not expired."},
	[DB_REP_COMPLIANCE_DATABASE] = {"Database", "Where the report was read from."},
	[DB_REP_COMPLIANCE_SITES] = {"Sites", "The sites the report covers."},
	[DB_REP_COMPLIANCE_ERLS] = {"Dispatchable locations (ERLs)",
		"Every location of the site, with the address a dispatcher is given."},
	[DB_REP_COMPLIANCE_ENDPOINTS] = {"Endpoints", "Active endpoints, as lisd resolves them."},
	[DB_REP_COMPLIANCE_PORTS] = {"Switch port coverage",
		"Ports of the wiremap and ports seen in MAC bindings; located when the port or "
		"its switch has a location."},
	[DB_REP_COMPLIANCE_BSSIDS] = {"BSSID coverage", "Access points of the site's locations."},
	[DB_REP_NOTIFICATION_LOG] = {"Notification log",
		"Emergency calls of the period (not test calls) and each notice sent about them "
		"(47 CFR 9.16(a)(2), Kari's Law)."},
	[DB_REP_TEST_CALLS] = {"Test calls",
		"Test-mode queries of the period (lisd TEST MODE), kept out of every other "
		"figure, and the notices they caused."},
};

const char *ctl_report_title(enum db_report_section s, const char **why)
{
	if (why)
		*why = (unsigned)s < DB_REP_N_ ? info[s].why : NULL;
	return (unsigned)s < DB_REP_N_ ? info[s].title : NULL;
}

void ctl_report_usage(FILE *out)
{
	fprintf(out, "usage: lisctl report queries|coverage|staleness|risk|summary|never-located|"
		     "declarations\n"
		     "                     [--from T] [--to T] [--site KEY] [--result R] "
		     "[--source S]\n"
		     "                     [--days N] [--format csv|json|html] [-o FILE]\n"
		     "       lisctl report compliance [--from T] [--to T | --days N] [--site KEY]\n"
		     "                     [--organisation NAME] [--format html|pdf|json] [-o FILE]\n"
		     "                     [--paper a4|letter] [--chromium PATH]\n"
		     "--days: reports older than N days stale (default %u); compliance: the period\n"
		     "is the N days (default %u) up to --to, else up to now.\n",
		DEFAULT_DAYS, DEFAULT_COMPLIANCE_DAYS);
}

/* ---- options ---- */

static int parse_opts(int argc, char **argv, struct ctl_report_opts *o)
{
	const char *from = NULL, *to = NULL, *fmt = NULL, *days = NULL, *paper = NULL;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "lisctl: report: name a report\n");
		return -1;
	}
	for (size_t k = 0; k < sizeof reports / sizeof reports[0]; k++)
		if (strcmp(argv[1], reports[k].name) == 0)
			o->rep = &reports[k];
	if (!o->rep) {
		fprintf(stderr, "lisctl: report: unknown report \"%s\"\n", argv[1]);
		return -1;
	}
	const struct {
		const char *name;
		const char **to;
	} opts[] = {
		{ "--from", &from }, { "--to", &to }, { "--site", &o->f.site },
		{ "--result", &o->f.result }, { "--source", &o->f.source }, { "--days", &days },
		{ "--format", &fmt }, { "-o", &o->out_path }, { "--output", &o->out_path },
		{ "--organisation", &o->organisation }, { "--paper", &paper },
		{ "--chromium", &o->chromium },
	};
	for (int i = 2; i < argc; i++) {
		int took = 0;
		for (size_t k = 0; k < sizeof opts / sizeof opts[0] && took == 0; k++)
			took = ctl_take_opt(argc, argv, &i, opts[k].name, opts[k].to);
		if (took == 0)
			fprintf(stderr, "lisctl: report: unknown option \"%s\"\n", argv[i]);
		if (took <= 0)
			return -1;
	}
	if (from) {
		if (ctl_parse_when(from, &o->f.from) < 0) {
			fprintf(stderr, "lisctl: report: --from \"%s\" is not a date (2026-11-01) or "
					"a timestamp with a zone (2026-11-01T08:00:00Z)\n", from);
			return -1;
		}
		o->f.has_from = true;
	}
	if (to) {
		if (ctl_parse_when(to, &o->f.to) < 0) {
			fprintf(stderr, "lisctl: report: --to \"%s\" is not a date (2026-12-01) or "
					"a timestamp with a zone (2026-12-01T00:00:00Z)\n", to);
			return -1;
		}
		o->f.has_to = true;
	}
	if (from && to && o->f.to <= o->f.from) {
		fprintf(stderr, "lisctl: report: --to %s is not after --from %s\n", to, from);
		return -1;
	}
	bool compliance = strcmp(o->rep->name, "compliance") == 0;
	if (!compliance && (o->organisation || paper || o->chromium)) {
		fprintf(stderr, "lisctl: report: --organisation, --paper and --chromium are the "
				"compliance report's\n");
		return -1;
	}
	if (compliance && (o->f.result || o->f.source)) {
		fprintf(stderr, "lisctl: report: compliance takes no --result or --source\n");
		return -1;
	}
	if (compliance && from && days) {
		fprintf(stderr, "lisctl: report: compliance: give --from or --days, not both\n");
		return -1;
	}
	o->paper = "A4";
	if (paper && strcmp(paper, "a4") != 0 && strcmp(paper, "letter") != 0) {
		fprintf(stderr, "lisctl: report: --paper \"%s\": use a4 or letter\n", paper);
		return -1;
	}
	if (paper && strcmp(paper, "letter") == 0)
		o->paper = "letter";
	o->f.days = compliance ? DEFAULT_COMPLIANCE_DAYS : DEFAULT_DAYS;
	if (days) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(days, &end, 10);
		if (errno || end == days || *end || days[0] == '-' || v == 0 || v > 36500) {
			fprintf(stderr, "lisctl: report: --days \"%s\" is not a number of days "
					"(1..36500)\n", days);
			return -1;
		}
		o->f.days = (unsigned)v;
	}
	o->fmt = strcmp(o->rep->name, "summary") == 0 || compliance ? FMT_HTML : FMT_CSV;
	if (fmt) {
		o->fmt_given = true;
		if (strcmp(fmt, "csv") == 0 && !compliance)
			o->fmt = FMT_CSV;
		else if (strcmp(fmt, "json") == 0)
			o->fmt = FMT_JSON;
		else if (strcmp(fmt, "html") == 0)
			o->fmt = FMT_HTML;
		else if (strcmp(fmt, "pdf") == 0 && compliance)
			o->fmt = FMT_PDF;
		else {
			fprintf(stderr, "lisctl: report: --format \"%s\": use %s\n", fmt,
				compliance ? "html, pdf or json" : "csv, json or html");
			return -1;
		}
	}
	if (compliance) {
		time_t now = time(NULL);
		if (!o->f.has_to)
			o->f.to = now;
		if (!o->f.has_from)
			o->f.from = o->f.to - (time_t)o->f.days * 86400;
		o->f.has_from = o->f.has_to = true;
		if (o->f.to <= o->f.from) {
			fprintf(stderr, "lisctl: report: compliance: --from %s is not before now\n",
				from);
			return -1;
		}
	}
	if (o->out_path && !o->out_path[0]) {
		fprintf(stderr, "lisctl: report: -o needs a file name\n");
		return -1;
	}
	return 0;
}

const char *ctl_iso8601(time_t t, char *buf, size_t size)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* ---- CSV (ctl_csv_put: RFC 4180, CRLF, formulas defused) ---- */

/* One block per section: a header row whose first column is "section", then its rows; an
 * empty line between blocks. A section that could not be reported has a "note" column. */
static void write_csv(FILE *f, const struct db_table *t, size_t n)
{
	struct ctl_csv_out o = {f, "\r\n", 0};

	for (size_t k = 0; k < n; k++) {
		if (k)
			ctl_csv_end_row(&o);
		ctl_csv_put(&o, "section");
		if (t[k].missing) {
			ctl_csv_put(&o, "note");
			ctl_csv_end_row(&o);
			ctl_csv_put(&o, t[k].name);
			ctl_csv_put(&o, t[k].missing);
			ctl_csv_end_row(&o);
			continue;
		}
		for (size_t j = 0; j < t[k].n_cols; j++)
			ctl_csv_put(&o, t[k].cols[j]);
		ctl_csv_end_row(&o);
		for (size_t i = 0; i < t[k].n_rows; i++) {
			ctl_csv_put(&o, t[k].name);
			for (size_t j = 0; j < t[k].n_cols; j++)
				ctl_csv_put(&o, db_table_cell(&t[k], i, j));
			ctl_csv_end_row(&o);
		}
	}
}

/* ---- JSON ---- */

json_t *ctl_json_cell(const char *v, enum db_col_type type)
{
	if (!v)
		return json_null();
	switch (type) {
	case DB_COL_INT:
		return json_integer(strtoll(v, NULL, 10));
	case DB_COL_REAL:
		return json_real(strtod(v, NULL));
	case DB_COL_BOOL:
		return json_boolean(strcmp(v, "true") == 0);
	case DB_COL_TEXT:
		break;
	}
	json_t *s = json_string(v);
	/* The database sends UTF-8; should a stray byte slip through, say so visibly
	 * rather than fail the whole report. */
	return s ? s : json_string("(not valid UTF-8)");
}

static int write_json(FILE *o, const struct ctl_report_opts *op, const struct db_table *t,
		      size_t n, time_t now)
{
	char buf[32];
	json_t *root = json_object(), *filters = json_object(), *secs = json_array();
	if (!root || !filters || !secs) {
		json_decref(root);
		json_decref(filters);
		json_decref(secs);
		return -1;
	}
	json_object_set_new(root, "report", json_string(op->rep->name));
	json_object_set_new(root, "generated_at", json_string(ctl_iso8601(now, buf, sizeof buf)));
	json_object_set_new(filters, "from", op->f.has_from ?
			    json_string(ctl_iso8601(op->f.from, buf, sizeof buf)) : json_null());
	json_object_set_new(filters, "to", op->f.has_to ?
			    json_string(ctl_iso8601(op->f.to, buf, sizeof buf)) : json_null());
	json_object_set_new(filters, "site", op->f.site ? json_string(op->f.site) : json_null());
	json_object_set_new(filters, "result",
			    op->f.result ? json_string(op->f.result) : json_null());
	json_object_set_new(filters, "source",
			    op->f.source ? json_string(op->f.source) : json_null());
	json_object_set_new(filters, "days", json_integer(op->f.days));
	json_object_set_new(filters, "max_binding_age_s", json_integer(op->f.max_binding_age));
	json_object_set_new(root, "filters", filters);
	for (size_t k = 0; k < n; k++) {
		json_t *s = json_object(), *cols = json_array(), *rows = json_array();
		json_object_set_new(s, "name", json_string(t[k].name));
		json_object_set_new(s, "title", json_string(info[t[k].section].title));
		json_object_set_new(s, "available", json_boolean(!t[k].missing));
		if (t[k].missing)
			json_object_set_new(s, "note", json_string(t[k].missing));
		for (size_t j = 0; j < t[k].n_cols; j++)
			json_array_append_new(cols, json_string(t[k].cols[j]));
		for (size_t i = 0; i < t[k].n_rows; i++) {
			json_t *row = json_object();
			for (size_t j = 0; j < t[k].n_cols; j++)
				json_object_set_new(row, t[k].cols[j],
						    ctl_json_cell(db_table_cell(&t[k], i, j),
							      t[k].types[j]));
			json_array_append_new(rows, row);
		}
		json_object_set_new(s, "count", json_integer((json_int_t)t[k].n_rows));
		json_object_set_new(s, "columns", cols);
		json_object_set_new(s, "rows", rows);
		json_array_append_new(secs, s);
	}
	json_object_set_new(root, "sections", secs);
	int rc = json_dumpf(root, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	fputc('\n', o);
	return rc;
}

/* ---- HTML ---- */

/* Every piece of text that is not a literal of this file goes through here. */
void ctl_html_text(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default: putc(*s, o);
		}
	}
}

void ctl_html_textf(FILE *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	ctl_html_text(o, buf);
}

/* Printing is the point of the page: colours survive it, tables do not split, and nothing
 * depends on a screen. No web fonts, no scripts; the CSP forbids any fetch. */
static const char CSS[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,"
	"sans-serif;color:#1a1a1a;margin:2em auto;max-width:1100px;padding:0 1em}"
	"h1{font-size:1.6em;margin:0 0 .2em}"
	"h2{font-size:1.25em;margin:1.6em 0 .4em;border-bottom:1px solid #ccc}"
	"h3{font-size:1.05em;margin:1.2em 0 .3em}"
	".meta{color:#555;margin:0}.why{color:#444;margin:.2em 0 .5em}"
	".none{color:#2e7d32}.missing{color:#b71c1c;font-weight:bold}.more{color:#555}"
	"table{border-collapse:collapse;margin:.4em 0 1em;font-size:.92em}"
	"th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}"
	"th{background:#f0f0f0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
	"tbody tr:nth-child(even){background:#fafafa}"
	".count{color:#555;font-weight:normal}"
	"svg.chart{max-width:100%;height:auto;display:block}"
	".legend span.sw{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;"
	"vertical-align:-.1em;border:1px solid #555}"
	"@media print{body{margin:0;max-width:none;font-size:10pt;color:#000}"
	"h2,h3{break-after:avoid}table,figure,section.risk{break-inside:avoid}"
	"tbody tr:nth-child(even){background:none}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}"
	"@page{margin:15mm}";

static void html_head(FILE *o, const struct ctl_report_opts *op, time_t now)
{
	char buf[32];
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>", o);
	ctl_html_textf(o, "lis report: %s", op->rep->name);
	fputs("</title>\n<style>", o);
	fputs(CSS, o);
	fputs("</style>\n</head>\n<body>\n<header>\n<h1>", o);
	ctl_html_text(o, op->rep->title);
	fputs("</h1>\n<p class=\"meta\" id=\"generated\">", o);
	ctl_html_textf(o, "Generated %s by lisctl report %s.", ctl_iso8601(now, buf, sizeof buf),
		   op->rep->name);
	fputs("</p>\n<p class=\"meta\" id=\"filters\">", o);
	char from[32] = "the first entry", to[32] = "now";
	if (op->f.has_from)
		ctl_iso8601(op->f.from, from, sizeof from);
	if (op->f.has_to)
		ctl_iso8601(op->f.to, to, sizeof to);
	ctl_html_textf(o, "Period: %s to %s (query log, MAC moves). Stale: older than %u days.",
		   from, to, op->f.days);
	if (op->f.site)
		ctl_html_textf(o, " Site: %s.", op->f.site);
	if (op->f.result)
		ctl_html_textf(o, " Result: %s.", op->f.result);
	if (op->f.source)
		ctl_html_textf(o, " Source: %s.", op->f.source);
	fputs("</p>\n</header>\n", o);
}

static void html_table(FILE *o, const struct db_table *t, size_t max_rows)
{
	if (t->missing) {
		fputs("<p class=\"missing\">", o);
		ctl_html_text(o, t->missing);
		fputs("</p>\n", o);
		return;
	}
	if (t->n_rows == 0) {
		fputs("<p class=\"none\">None.</p>\n", o);
		return;
	}
	fputs("<table id=\"", o);
	ctl_html_text(o, t->name);
	fputs("\">\n<thead><tr>", o);
	for (size_t j = 0; j < t->n_cols; j++) {
		bool num = t->types[j] == DB_COL_INT || t->types[j] == DB_COL_REAL;
		fputs(num ? "<th class=\"num\">" : "<th>", o);
		ctl_html_text(o, t->cols[j]);
		fputs("</th>", o);
	}
	fputs("</tr></thead>\n<tbody>\n", o);
	size_t n = t->n_rows < max_rows ? t->n_rows : max_rows;
	for (size_t i = 0; i < n; i++) {
		fputs("<tr>", o);
		for (size_t j = 0; j < t->n_cols; j++) {
			bool num = t->types[j] == DB_COL_INT || t->types[j] == DB_COL_REAL;
			fputs(num ? "<td class=\"num\">" : "<td>", o);
			ctl_html_text(o, db_table_cell(t, i, j));
			fputs("</td>", o);
		}
		fputs("</tr>\n", o);
	}
	fputs("</tbody>\n</table>\n", o);
	if (n < t->n_rows) {
		fputs("<p class=\"more\">", o);
		ctl_html_textf(o, "%zu more: see lisctl report %s.", t->n_rows - n,
			   t->section == DB_REP_QUERIES ? "queries" : "risk");
		fputs("</p>\n", o);
	}
}

static void html_section(FILE *o, const struct db_table *t, const char *level,
			 const char *cls, size_t max_rows)
{
	fprintf(o, "<section class=\"%s\" id=\"s-", cls);
	ctl_html_text(o, t->name);
	fprintf(o, "\">\n<%s>", level);
	ctl_html_text(o, info[t->section].title);
	if (!t->missing) {
		fputs(" <span class=\"count\">", o);
		ctl_html_textf(o, "(%zu)", t->n_rows);
		fputs("</span>", o);
	}
	fprintf(o, "</%s>\n<p class=\"why\">", level);
	ctl_html_text(o, info[t->section].why);
	fputs("</p>\n", o);
	html_table(o, t, max_rows);
	fputs("</section>\n", o);
}

static void write_html(FILE *o, const struct ctl_report_opts *op, const struct db_table *t,
		       size_t n, time_t now)
{
	html_head(o, op, now);
	fputs("<main>\n", o);
	for (size_t k = 0; k < n; k++)
		html_section(o, &t[k], "h2", "report", SIZE_MAX);
	fputs("</main>\n</body>\n</html>\n", o);
}

/* ---- the summary page ---- */

/* Located answers green, fallbacks amber, failures in distinct darker hues that stay
 * apart in greyscale print. */
static const char *const PALETTE[] = {"#c62828", "#6a1b9a", "#1565c0", "#5d4037", "#00838f",
	"#ad1457", "#455a64", "#827717"};

struct day_chart {
	size_t n_days, n_cats;
	time_t first;               /* 00:00 UTC of the first day */
	const char **cats;          /* result categories, located first */
	long *count;                /* n_days * n_cats */
};

static int cat_rank(const char *c)
{
	if (strcmp(c, "located") == 0)
		return 0;
	if (strcmp(c, "located (fallback)") == 0)
		return 1;
	return 2;
}

static int cat_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int rx = cat_rank(x), ry = cat_rank(y);
	return rx != ry ? rx - ry : strcmp(x, y);
}

static const char *cat_color(const struct day_chart *c, size_t k)
{
	if (strcmp(c->cats[k], "located") == 0)
		return "#2e7d32";
	if (strcmp(c->cats[k], "located (fallback)") == 0)
		return "#f9a825";
	size_t failures_before = 0;
	for (size_t i = 0; i < k; i++)
		failures_before += cat_rank(c->cats[i]) == 2;
	return PALETTE[failures_before % (sizeof PALETTE / sizeof PALETTE[0])];
}

static time_t day_start(const char *day)
{
	time_t t;
	char buf[32];
	snprintf(buf, sizeof buf, "%.10sT00:00:00Z", day);
	return ctl_parse_timestamp(buf, &t) < 0 ? (time_t)-1 : t;
}

#define MAX_CHART_DAYS 400

/* Rows (day, result, queries) into a day x category grid, gaps filled with zero days. */
static int chart_build(const struct db_table *t, struct day_chart *c)
{
	memset(c, 0, sizeof *c);
	if (t->missing || t->n_rows == 0 || t->n_cols < 3)
		return 0;
	c->cats = calloc(t->n_rows, sizeof *c->cats);
	if (!c->cats)
		return -1;
	time_t first = (time_t)-1, last = (time_t)-1;
	for (size_t i = 0; i < t->n_rows; i++) {
		const char *cat = db_table_cell(t, i, 1) ? db_table_cell(t, i, 1) : "(none)";
		size_t k = 0;
		while (k < c->n_cats && strcmp(c->cats[k], cat) != 0)
			k++;
		if (k == c->n_cats)
			c->cats[c->n_cats++] = cat;
		time_t d = day_start(db_table_cell(t, i, 0));
		if (d == (time_t)-1)
			continue;
		if (first == (time_t)-1 || d < first)
			first = d;
		if (d > last)
			last = d;
	}
	qsort(c->cats, c->n_cats, sizeof *c->cats, cat_cmp);
	if (first == (time_t)-1)
		return 0;
	c->first = first;
	c->n_days = (size_t)((last - first) / 86400) + 1;
	if (c->n_days > MAX_CHART_DAYS) {
		c->first = last - (MAX_CHART_DAYS - 1) * 86400;
		c->n_days = MAX_CHART_DAYS;
	}
	c->count = calloc(c->n_days * c->n_cats, sizeof *c->count);
	if (!c->count)
		return -1;
	for (size_t i = 0; i < t->n_rows; i++) {
		const char *cat = db_table_cell(t, i, 1) ? db_table_cell(t, i, 1) : "(none)";
		time_t d = day_start(db_table_cell(t, i, 0));
		if (d == (time_t)-1 || d < c->first)
			continue;
		size_t di = (size_t)((d - c->first) / 86400), k = 0;
		while (strcmp(c->cats[k], cat) != 0)
			k++;
		c->count[di * c->n_cats + k] += strtol(db_table_cell(t, i, 2), NULL, 10);
	}
	return 0;
}

static void chart_free(struct day_chart *c)
{
	free(c->cats);
	free(c->count);
}

static void day_label(time_t d, const char *fmt, char *buf, size_t size)
{
	struct tm tm;
	gmtime_r(&d, &tm);
	strftime(buf, size, fmt, &tm);
}

/* A stacked bar per day; each segment carries its numbers (a <title> for the tooltip and
 * data- attributes for anyone reading the markup), and a table under it repeats them. */
static void html_chart(FILE *o, const struct db_table *t)
{
	struct day_chart c;
	fputs("<section class=\"report\" id=\"s-queries_per_day\">\n<h2>", o);
	ctl_html_text(o, info[DB_REP_SUMMARY_DAYS].title);
	fputs("</h2>\n<p class=\"why\">", o);
	ctl_html_text(o, info[DB_REP_SUMMARY_DAYS].why);
	fputs("</p>\n", o);
	if (t->missing || chart_build(t, &c) < 0 || c.n_days == 0) {
		if (t->missing)
			html_table(o, t, 0);
		else
			fputs("<p class=\"none\">No queries in the period.</p>\n", o);
		fputs("</section>\n", o);
		return;
	}
	long max = 1;
	for (size_t d = 0; d < c.n_days; d++) {
		long sum = 0;
		for (size_t k = 0; k < c.n_cats; k++)
			sum += c.count[d * c.n_cats + k];
		if (sum > max)
			max = sum;
	}
	const int left = 44, top = 10, plot_h = 200, bottom = 44;
	int bw = (int)(760 / c.n_days);
	bw = bw < 4 ? 4 : bw > 48 ? 48 : bw;
	int step = bw + (bw >= 8 ? bw / 4 : 1);
	int width = left + (int)c.n_days * step + 10, height = top + plot_h + bottom;
	char day[16], label[16];

	fprintf(o, "<figure>\n<svg class=\"chart\" id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
		   "role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"
		   "<title>", width, height, width, height);
	ctl_html_text(o, "Queries per day by result");
	fputs("</title>\n", o);
	/* y axis: 0, half, max */
	for (int g = 0; g <= 2; g++) {
		long v = max * g / 2;
		int y = top + plot_h - (int)((double)plot_h * (double)v / (double)max);
		fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ccc\"/>"
			   "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%ld</text>\n",
			left - 4, y, width - 6, y, left - 8, y + 4, v);
	}
	int label_every = (int)(c.n_days / 12) + 1;
	for (size_t d = 0; d < c.n_days; d++) {
		time_t dt = c.first + (time_t)d * 86400;
		day_label(dt, "%Y-%m-%d", day, sizeof day);
		int x = left + (int)d * step, y = top + plot_h;
		for (size_t k = 0; k < c.n_cats; k++) {
			long v = c.count[d * c.n_cats + k];
			if (!v)
				continue;
			int h = (int)((double)plot_h * (double)v / (double)max + 0.5);
			y -= h;
			fprintf(o, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
				   "fill=\"%s\" data-day=\"%s\" data-result=\"", x, y, bw, h,
				cat_color(&c, k), day);
			ctl_html_text(o, c.cats[k]);
			fprintf(o, "\" data-count=\"%ld\"><title>", v);
			ctl_html_textf(o, "%s %s: %ld", day, c.cats[k], v);
			fputs("</title></rect>\n", o);
		}
		if ((int)d % label_every == 0) {
			day_label(dt, "%m-%d", label, sizeof label);
			fprintf(o, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">",
				x + bw / 2, top + plot_h + 16);
			ctl_html_text(o, label);
			fputs("</text>\n", o);
		}
	}
	fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n</svg>\n",
		left - 4, top + plot_h, width - 6, top + plot_h);
	fputs("<figcaption class=\"legend\">", o);
	for (size_t k = 0; k < c.n_cats; k++) {
		fprintf(o, "<span class=\"sw\" style=\"background:%s\"></span>", cat_color(&c, k));
		ctl_html_text(o, c.cats[k]);
	}
	fputs("</figcaption>\n</figure>\n", o);

	/* the same numbers as a table: for print, screen readers and copying */
	fputs("<table id=\"days\">\n<thead><tr><th>day</th>", o);
	for (size_t k = 0; k < c.n_cats; k++) {
		fputs("<th class=\"num\">", o);
		ctl_html_text(o, c.cats[k]);
		fputs("</th>", o);
	}
	fputs("<th class=\"num\">total</th></tr></thead>\n<tbody>\n", o);
	for (size_t d = 0; d < c.n_days; d++) {
		long sum = 0;
		day_label(c.first + (time_t)d * 86400, "%Y-%m-%d", day, sizeof day);
		fputs("<tr><td>", o);
		ctl_html_text(o, day);
		fputs("</td>", o);
		for (size_t k = 0; k < c.n_cats; k++) {
			sum += c.count[d * c.n_cats + k];
			fprintf(o, "<td class=\"num\">%ld</td>", c.count[d * c.n_cats + k]);
		}
		fprintf(o, "<td class=\"num\">%ld</td></tr>\n", sum);
	}
	fputs("</tbody>\n</table>\n</section>\n", o);
	chart_free(&c);
}

static const struct db_table *find(const struct db_table *t, size_t n,
				   enum db_report_section s)
{
	for (size_t k = 0; k < n; k++)
		if (t[k].section == s)
			return &t[k];
	return NULL;
}

static bool is_risk(enum db_report_section s)
{
	return s == DB_REP_SHARED_LOCATIONS || s == DB_REP_SITE_DISAGREEMENTS ||
	       s == DB_REP_EMERGENCY_FALLBACK || s == DB_REP_MAC_MOVES_BETWEEN_SITES;
}

static void write_summary(FILE *o, const struct ctl_report_opts *op, const struct db_table *t,
			  size_t n, time_t now)
{
	html_head(o, op, now);
	fputs("<main>\n", o);
	html_section(o, find(t, n, DB_REP_SUMMARY_SITES), "h2", "report", SIZE_MAX);
	html_section(o, find(t, n, DB_REP_SUMMARY_SOURCES), "h2", "report", SIZE_MAX);
	html_chart(o, find(t, n, DB_REP_SUMMARY_DAYS));

	fputs("<section class=\"report\" id=\"s-top_risks\">\n<h2>Top risks</h2>\n"
	      "<p class=\"why\">", o);
	ctl_html_textf(o, "The first %d of each; lisctl report risk lists them all.", SUMMARY_TOP);
	fputs("</p>\n", o);
	for (size_t k = 0; k < n; k++)
		if (is_risk(t[k].section))
			html_section(o, &t[k], "h3", "risk", SUMMARY_TOP);
	fputs("</section>\n", o);

	fputs("<section class=\"report\" id=\"s-checks\">\n<h2>Checks</h2>\n<p class=\"why\">", o);
	ctl_html_text(o, "How many findings each report has; lisctl report coverage, staleness "
		     "and risk list them.");
	fputs("</p>\n<table id=\"checks\">\n<thead><tr><th>check</th><th class=\"num\">"
	      "findings</th></tr></thead>\n<tbody>\n", o);
	for (size_t k = 0; k < n; k++) {
		if (t[k].section < DB_REP_SUBNETS_NO_LOCATION ||
		    t[k].section > DB_REP_MAC_MOVES_BETWEEN_SITES)
			continue;
		fputs("<tr><td>", o);
		ctl_html_text(o, info[t[k].section].title);
		fputs("</td><td class=\"num\">", o);
		if (t[k].missing)
			ctl_html_text(o, "not available");
		else
			ctl_html_textf(o, "%zu", t[k].n_rows);
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody>\n</table>\n</section>\n</main>\n</body>\n</html>\n", o);
}

/* ---- the command ---- */

/* The whole output to stdout, or to path through a temporary file beside it and a rename:
 * whoever opens path sees the old file or the whole new one, never a half-written one. */
int ctl_report_write_out(const char *path, const char *buf, size_t len)
{
	if (!path) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
			fprintf(stderr, "lisctl: report: writing standard output: %s\n",
				strerror(errno));
			return -1;
		}
		return 0;
	}
	/* not a file to replace (/dev/stdout, a FIFO): written to as it is */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		FILE *f = fopen(path, "w");
		bool ok = f && fwrite(buf, 1, len, f) == len;
		ok = f && fclose(f) == 0 && ok;
		if (!ok)
			fprintf(stderr, "lisctl: report: writing %s: %s\n", path, strerror(errno));
		return ok ? 0 : -1;
	}
	size_t n = strlen(path);
	char *tmp = malloc(n + sizeof ".XXXXXX");
	if (!tmp) {
		fprintf(stderr, "lisctl: report: out of memory\n");
		return -1;
	}
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".XXXXXX", sizeof ".XXXXXX");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "lisctl: report: cannot create %s: %s\n", path, strerror(errno));
		free(tmp);
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	bool ok = fchmod(fd, 0666 & ~mask) == 0;
	for (size_t off = 0; ok && off < len;) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		off += ok ? (size_t)w : 0;
	}
	ok = close(fd) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok) {
		fprintf(stderr, "lisctl: report: writing %s: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

int ctl_cmd_report(const struct ctl_settings *set, int argc, char **argv)
{
	struct ctl_report_opts op = {0};
	if (parse_opts(argc, argv, &op) < 0) {
		ctl_report_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	op.f.max_binding_age = set->max_binding_age;
	if (strcmp(op.rep->name, "compliance") == 0)
		return ctl_compliance_run(set, &op);

	struct lis_error err = {0};
	struct db_conn *c = db_connect(set->conninfo, &err);
	if (!c) {
		fprintf(stderr, "lisctl: report: %s\n", err.msg);
		return CTL_EXIT_FAIL;
	}
	struct db_table t[MAX_SECTIONS];
	size_t n = 0;
	int rc = CTL_EXIT_OK;
	for (; n < op.rep->n; n++) {
		if (db_report_run(c, op.rep->sec[n], &op.f, &t[n], &err) < 0) {
			fprintf(stderr, "lisctl: report %s: %s\n", op.rep->name, err.msg);
			rc = CTL_EXIT_FAIL;
			break;
		}
	}
	db_close(c);

	char *buf = NULL;
	size_t len = 0;
	FILE *o = rc == CTL_EXIT_OK ? open_memstream(&buf, &len) : NULL;
	if (rc == CTL_EXIT_OK && !o) {
		fprintf(stderr, "lisctl: report: out of memory\n");
		rc = CTL_EXIT_FAIL;
	}
	if (o) {
		time_t now = time(NULL);
		int wrc = 0;
		if (op.fmt == FMT_CSV)
			write_csv(o, t, n);
		else if (op.fmt == FMT_JSON)
			wrc = write_json(o, &op, t, n, now);
		else if (strcmp(op.rep->name, "summary") == 0)
			write_summary(o, &op, t, n, now);
		else
			write_html(o, &op, t, n, now);
		if (fclose(o) != 0 || wrc < 0) {
			fprintf(stderr, "lisctl: report: out of memory\n");
			rc = CTL_EXIT_FAIL;
		} else if (ctl_report_write_out(op.out_path, buf, len) < 0) {
			rc = CTL_EXIT_FAIL;
		}
	}
	free(buf);
	for (size_t k = 0; k < n; k++)
		db_table_clear(&t[k]);
	return rc;
}
