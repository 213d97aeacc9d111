/* lisctl import's checks, dry run, --replace, JSON and export, against a real PostgreSQL:
 * each validation error class gives its exact FILE:LINE:COL message and writes nothing;
 * warnings are listed and do not block; a dry run counts and writes nothing; export then
 * import changes nothing, in CSV and in JSON. Fixtures: tests/data/csv/wiremap and
 * tests/data/json (the same wiremap in both formats). */
#include "check.h"
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static struct th_pg pg;
static bool pg_up;
static char *work;
static const char *ctl_env[2]; /* extra environment of lisctl, as th_run takes it */

#define MAX_ARGS 36

/* lisctl --db CONNINFO ARGS... (NULL-terminated); diagnostics when it fails. */
static void vctl(struct th_proc *p, const char *first, va_list ap)
{
	const char *argv[MAX_ARGS + 4];
	int n = 0;

	argv[n++] = th_lisctl_path();
	argv[n++] = "--db";
	argv[n++] = pg.conninfo;
	for (const char *a = first; a && n < MAX_ARGS; a = va_arg(ap, const char *))
		argv[n++] = a;
	argv[n] = NULL;
	th_run(p, (char *const *)argv, ctl_env[0] ? (char *const *)ctl_env : NULL, 60);
}

static void ctl(struct th_proc *p, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	vctl(p, first, ap);
	va_end(ap);
}

/* "DIR/NAME" in one of a few rotating buffers. */
static const char *in(const char *dir, const char *name)
{
	static char bufs[16][600];
	static int next;
	char *b = bufs[next++ % 16], tmp[600];
	snprintf(tmp, sizeof tmp, "%s/%s", dir, name);
	memcpy(b, tmp, sizeof tmp);
	return b;
}

static const char *mkdir_in(const char *name)
{
	const char *d = in(work, name);
	mkdir(d, 0755);
	return d;
}

static void write_in(const char *dir, const char *name, const char *text)
{
	th_write_file(in(dir, name), text);
}

/* Import the seven wiremap files of dir (extension ext), plus up to four more arguments. */
static void import_dir(struct th_proc *p, const char *dir, const char *ext, const char *a1,
		       const char *a2, const char *a3, const char *a4)
{
	char f[8][600];
	static const char *const names[8] = {"sites", "locations", "subnets", "switches", "ports",
					     "bssids", "endpoints", "classes"};
	for (int i = 0; i < 8; i++)
		snprintf(f[i], sizeof f[i], "%s/%s.%s", dir, names[i], ext);
	/* classes: where the directory has them (an export does) */
	bool classes = access(f[7], F_OK) == 0;
	ctl(p, "import", "--sites", f[0], "--locations", f[1], "--subnets", f[2], "--switches",
	    f[3], "--ports", f[4], "--bssids", f[5], "--endpoints", f[6],
	    classes ? "--classes" : a1, classes ? f[7] : a2, classes ? a1 : a3,
	    classes ? a2 : a4, classes ? a3 : NULL, classes ? a4 : NULL, NULL);
}

/* A digest of every wiremap table, to prove that a step changed nothing. */
static char *snapshot(void)
{
	return th_pg_query1(&pg,
		"SELECT md5(concat_ws('#',"
		" (SELECT string_agg(t::text, '|' ORDER BY t.id) FROM site t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t.id) FROM location t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t.id) FROM subnet t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t.id) FROM switch t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t.id) FROM switch_port t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t.id) FROM bssid t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t.id) FROM endpoint t),"
		" (SELECT string_agg(t::text, '|' ORDER BY t.id) FROM endpoint_class t)))");
}

static long count(const char *sql)
{
	return th_pg_count(&pg, sql);
}

/* lisctl import ARGS... (NULL-terminated) must fail with exactly the error lines `want`
 * (NULL-terminated) on stderr, and change nothing. */
static void check_refused(const char *what, const char *const *want, ...)
{
	char *before = snapshot();
	struct th_proc p;
	size_t n = 0;
	va_list ap;

	va_start(ap, want);
	vctl(&p, "import", ap);
	va_end(ap);
	CHECKF(p.status == 1, "%s: exit %d", what, p.status);
	for (; want[n]; n++)
		CHECKF(strstr(p.err, want[n]) != NULL, "%s: no \"%s\" in: %s", what, want[n],
		       p.err);
	char summary[64];
	snprintf(summary, sizeof summary, "lisctl: import: %zu error%s, nothing written\n", n,
		 n == 1 ? "" : "s");
	CHECKF(strstr(p.err, summary) != NULL, "%s: want \"%s\" in: %s", what, summary, p.err);
	th_proc_free(&p);
	char *after = snapshot();
	CHECK_STR(after, before);
	free(before);
	free(after);
}

/* Every file of a and b (the seven wiremap files, extension ext) byte for byte equal. */
static void check_same_files(const char *a, const char *b, const char *ext)
{
	static const char *const names[7] = {"sites", "locations", "subnets", "switches", "ports",
					     "bssids", "endpoints"};
	for (int i = 0; i < 7; i++) {
		char name[64];
		size_t la = 0, lb = 0;
		snprintf(name, sizeof name, "%s.%s", names[i], ext);
		char *x = th_read_file(in(a, name), &la), *y = th_read_file(in(b, name), &lb);
		CHECKF(x && y && la == lb && memcmp(x, y, la) == 0, "%s differs:\n%s\n---\n%s",
		       name, x ? x : "(none)", y ? y : "(none)");
		free(x);
		free(y);
	}
}

/* ---- cases ---- */

static void test_setup_postgresql_and_migrate(void)
{
	struct th_proc p;

	pg_up = th_pg_start(&pg) == 0;
	work = th_tmpdir("impchk");
	if (!CHECK(pg_up && work))
		return;
	ctl(&p, "db", "migrate", NULL);
	CHECKF(p.status == 0, "migrate: %s", p.err);
	th_proc_free(&p);
}

static void test_json_import_writes_every_row_and_lists_warnings(void)
{
	struct th_proc p;

	import_dir(&p, th_src("tests/data/json"), "json", NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0, "exit %d: %s", p.status, p.err);
	CHECK(count("SELECT count(*) FROM site") == 2);
	CHECK(count("SELECT count(*) FROM location") == 4);
	CHECK(count("SELECT count(*) FROM subnet") == 4);
	CHECK(count("SELECT count(*) FROM switch_port") == 3);
	CHECK(count("SELECT count(*) FROM bssid") == 2);
	CHECK(count("SELECT count(*) FROM endpoint") == 2);
	CHECK(count("SELECT count(*) FROM location WHERE key = 'hq-lobby' AND latitude = 40.7506"
		    " AND uncertainty = 15") == 1);
	CHECK(count("SELECT count(*) FROM site s JOIN location l ON l.id = s.default_location_id"
		    " WHERE s.key = 'hq' AND l.key = 'hq-lobby' AND s.allow_default") == 1);
	/* Warnings name the file, the line and column of the object's "location" key. */
	CHECKF(strstr(p.err, "/locations.json:6:4: warning: location \"hq-410\" has no "
			     "geodetic point (latitude, longitude)\n") != NULL, "%s", p.err);
	CHECKF(strstr(p.err, "warning: location \"hq-lobby\"") == NULL, "%s", p.err);
	CHECKF(strstr(p.err, "lisctl: import: 3 warnings\n") != NULL, "%s", p.err);
	CHECKF(strstr(p.out, "imported 2 sites (2 changed), 4 locations (4 changed)") != NULL,
	       "%s", p.out);
	th_proc_free(&p);
}

static void test_reimport_json_and_same_wiremap_as_csv_change_nothing(void)
{
	char *before = snapshot();
	struct th_proc p;

	import_dir(&p, th_src("tests/data/json"), "json", "--no-warnings", NULL, NULL, NULL);
	CHECKF(p.status == 0, "exit %d: %s", p.status, p.err);
	CHECKF(strcmp(p.err, "") == 0, "--no-warnings still printed: %s", p.err);
	CHECKF(strstr(p.out, "imported 2 sites (0 changed), 4 locations (0 changed), 4 subnets "
			     "(0 changed), 2 switches (0 changed), 3 ports (0 changed), 2 BSSIDs "
			     "(0 changed), 2 endpoints (0 changed)") != NULL, "%s", p.out);
	th_proc_free(&p);
	import_dir(&p, th_src("tests/data/csv/wiremap"), "csv", "--no-warnings", NULL, NULL,
		   NULL);
	CHECKF(p.status == 0, "exit %d: %s", p.status, p.err);
	CHECKF(strstr(p.out, "2 sites (0 changed), 4 locations (0 changed)") != NULL, "%s",
	       p.out);
	th_proc_free(&p);
	char *after = snapshot();
	CHECK_STR(after, before);
	free(before);
	free(after);
}

static void test_dry_run_counts_and_writes_nothing(void)
{
	const char *d = mkdir_in("dry");
	char *before = snapshot();
	struct th_proc p;

	write_in(d, "locations.csv",
		 "location,site,country,A1,A3,RD,HNO,BLD,FLR,ROOM\n"
		 "hq-410,hq,US,NY,New York,Broadway,123,North,4,410\n"
		 "hq-420,hq,US,NY,New York,Broadway,123,North,4,421\n"
		 "hq-430,hq,US,NY,New York,Broadway,123,North,4,430\n");
	ctl(&p, "import", "--dry-run", "--verbose", "--no-warnings", "--locations",
	    in(d, "locations.csv"), NULL);
	CHECKF(p.status == 0, "exit %d: %s", p.status, p.err);
	/* hq-410 changes too: the file has no lang, STS or PC, which are stored. */
	CHECKF(strstr(p.out, "dry run: nothing written\n"
			     "locations: added 1, changed 2, unchanged 0\n"
			     "  changed hq-410\n  changed hq-420\n  added hq-430\n") != NULL,
	       "%s", p.out);
	th_proc_free(&p);
	ctl(&p, "import", "--dry-run", "--locations",
	    th_src("tests/data/csv/wiremap/locations.csv"), "--subnets",
	    th_src("tests/data/csv/wiremap/subnets.csv"), NULL);
	CHECKF(p.status == 0, "exit %d: %s", p.status, p.err);
	CHECKF(strstr(p.out, "locations: added 0, changed 0, unchanged 4\n"
			     "subnets: added 0, changed 0, unchanged 4\n") != NULL, "%s", p.out);
	th_proc_free(&p);
	char *after = snapshot();
	CHECK_STR(after, before);
	CHECK(count("SELECT count(*) FROM location WHERE key = 'hq-430'") == 0);
	free(before);
	free(after);
}

static void test_bad_cidr_and_mac_are_errors(void)
{
	const char *d = mkdir_in("badshape");

	write_in(d, "subnets.csv", "prefix,location\n10.9.0.0/16,hq-410\n10.9.1.0/33,hq-410\n");
	write_in(d, "endpoints.csv", "endpoint,class,mac\nphone-x,desk_phone,00:11:22\n");
	check_refused("bad CIDR and MAC",
		      (const char *const[]){
			      "subnets.csv:3:1: \"10.9.1.0/33\" is not a CIDR prefix\n",
			      "endpoints.csv:2:3: \"00:11:22\" is not a MAC address (e.g. "
			      "00:11:22:33:44:55)\n",
			      NULL},
		      "--subnets", in(d, "subnets.csv"), "--endpoints", in(d, "endpoints.csv"),
		      NULL, NULL);
}

static void test_nested_subnets_of_other_sites_are_errors(void)
{
	const char *d = mkdir_in("overlap");

	/* 10.1.9.0/24 lies in the stored 10.1.0.0/16 (hq); 10.3.0.0/16 (hq) holds the
	 * file's own 10.3.1.0/24 (branch). Same-site nesting (10.1.5.0/24) is fine. */
	write_in(d, "subnets.csv", "prefix,location\n10.1.9.0/24,br-100\n10.3.0.0/16,hq-410\n"
				   "10.3.1.0/24,br-100\n10.1.5.0/24,hq-420\n");
	check_refused("overlap",
		      (const char *const[]){
			      "subnets.csv:2:1: subnet \"10.1.9.0/24\" (site \"branch\") lies "
			      "inside 10.1.0.0/16 (the database, site \"hq\"): nested subnets "
			      "must be in the same site\n",
			      "subnets.csv:4:1: subnet \"10.3.1.0/24\" (site \"branch\") lies "
			      "inside 10.3.0.0/16 (",
			      NULL},
		      "--subnets", in(d, "subnets.csv"), NULL, NULL, NULL, NULL);
}

static void test_unknown_reference_and_duplicate_key_are_errors(void)
{
	const char *d = mkdir_in("refs");

	write_in(d, "sites.csv", "site,name\nx-site,X\nx-site,X again\n");
	write_in(d, "subnets.csv", "prefix,location\n10.9.0.0/16,nowhere\n");
	/* A format error and a reference error of other files come out in one run. */
	check_refused("references",
		      (const char *const[]){
			      "sites.csv:3:1: duplicate site \"x-site\" (first on line 2)\n",
			      "subnets.csv:2:2: unknown location \"nowhere\" (in neither the "
			      "locations file nor the database)\n",
			      NULL},
		      "--sites", in(d, "sites.csv"), "--subnets", in(d, "subnets.csv"), NULL,
		      NULL);
	/* ...and of one file: a row with a bad value, and its neighbour's unknown site. A
	 * reference to a row that has errors of its own is not an error again. */
	write_in(d, "locations.csv", "location,site,country,A1,A3,RD,HNO,ROOM,latitude\n"
				     "l-1,no-site,US,NY,New York,Broadway,1,1,\n"
				     "l-2,hq,US,NY,New York,Broadway,1,2,91\n");
	write_in(d, "subnets2.csv", "prefix,location\n10.9.0.0/16,l-2\n");
	check_refused("one pass",
		      (const char *const[]){
			      "locations.csv:3:9: \"91\" is not a latitude (decimal degrees, -90 "
			      "to 90)\n",
			      "locations.csv:2:2: unknown site \"no-site\" (in neither the sites "
			      "file nor the database)\n",
			      NULL},
		      "--locations", in(d, "locations.csv"), "--subnets", in(d, "subnets2.csv"),
		      "--no-warnings", NULL);
	check_refused("references",
		      (const char *const[]){
			      "subnets.csv:2:2: unknown location \"nowhere\" (in neither the "
			      "locations file nor the database)\n",
			      NULL},
		      "--subnets", in(d, "subnets.csv"), NULL, NULL, NULL, NULL);
}

static void test_not_dispatchable_addresses_are_errors(void)
{
	const char *d = mkdir_in("dispatch");

	write_in(d, "locations.csv",
		 "location,site,country,A1,A3,RD,HNO,BLD,FLR,ROOM\n"
		 "no-hno,hq,US,NY,New York,Broadway,,North,4,1\n"
		 "no-rd,hq,US,NY,New York,,123,North,4,2\n"
		 "no-city,hq,US,NY,,Broadway,123,North,4,3\n"
		 "no-state,hq,US,,New York,Broadway,123,North,4,4\n"
		 "bad-country,hq,XX,NY,New York,Broadway,123,North,4,5\n"
		 "no-floor,hq,US,NY,New York,Broadway,123,North,,6\n");
	check_refused("dispatchable",
		      (const char *const[]){
			      "locations.csv:2:7: location \"no-hno\" is not dispatchable: no "
			      "street number (HNO)\n",
			      "locations.csv:3:6: location \"no-rd\" is not dispatchable: no street "
			      "name (RD)\n",
			      "locations.csv:4:5: location \"no-city\" is not dispatchable: no city "
			      "(A3)\n",
			      "locations.csv:5:4: location \"no-state\" is not dispatchable: no "
			      "state or province (A1)\n",
			      "locations.csv:6:3: location \"bad-country\" is not dispatchable: "
			      "\"XX\" is not an ISO 3166-1 country code\n",
			      "locations.csv:7:9: location \"no-floor\" is not dispatchable: no floor "
			      "(FLR), and building \"North\" of site \"hq\" has locations on floors "
			      "1, 4\n",
			      NULL},
		      "--locations", in(d, "locations.csv"), NULL, NULL, NULL, NULL);
}

/* RFC 4119: HNO is the number only, a suffix goes in HNS; PC in the country's format. Both
 * errors of a file come out in one pass, with the missing street number beside them. */
static void test_hno_suffix_and_postal_code_format_are_errors(void)
{
	const char *d = mkdir_in("hnopc");

	write_in(d, "locations.csv",
		 "location,site,country,A1,A3,RD,HNO,HNS,PC,ROOM\n"
		 "suffix,hq,US,NY,New York,Broadway,12A,,10001,1\n"
		 "half,hq,US,NY,New York,Broadway,12 1/2,,10001,2\n"
		 "zip,hq,US,NY,New York,Broadway,12,A,1001,3\n"
		 "postcode,hq,GB,LND,London,Whitehall,10,,SW1A1,4\n"
		 "fine,hq,CA,ON,Ottawa,Wellington,111,,K1A 0A9,5\n"
		 "no-hno,hq,US,NY,New York,Broadway,,,10001,6\n");
	check_refused("hno and pc",
		      (const char *const[]){
			      "locations.csv:2:7: location \"suffix\": HNO \"12A\" must be digits; "
			      "put a suffix such as 'A' or '1/2' in HNS\n",
			      "locations.csv:3:7: location \"half\": HNO \"12 1/2\" must be digits; "
			      "put a suffix such as 'A' or '1/2' in HNS\n",
			      "locations.csv:4:9: location \"zip\": postal code (PC) \"1001\" is not "
			      "in the US format: 5 digits, or ZIP+4 as 12345-6789\n",
			      "locations.csv:5:9: location \"postcode\": postal code (PC) \"SW1A1\" "
			      "is not in the GB format: an outward and an inward code, as SW1A 1AA\n",
			      "locations.csv:7:7: location \"no-hno\" is not dispatchable: no "
			      "street number (HNO)\n",
			      NULL},
		      "--locations", in(d, "locations.csv"), NULL, NULL, NULL, NULL);
}

/* ISO 3166-2 A1 (RFC 5139), RFC 4589 PLC, a geodetic point far from its site's: one
 * error each, with a did-you-mean where one is close. */
static void test_subdivision_place_type_and_far_point_are_errors(void)
{
	const char *d = mkdir_in("quality");

	write_in(d, "locations.csv",
		 "location,site,country,A1,A3,RD,HNO,ROOM,PLC,latitude,longitude\n"
		 "a1-code,hq,US,CA,Los Angeles,Main,1,1,office,,\n"
		 "a1-name,hq,DE,Bayern,München,Marienplatz,8,1,,,\n"
		 "a1-typo,hq,US,Californa,Los Angeles,Main,1,1,,,\n"
		 "a1-other,hq,DE,CA,Berlin,Unter den Linden,1,1,,,\n"
		 "plc-typo,hq,US,NY,New York,Broadway,123,1,offise,,\n"
		 "near-1,hq,US,NY,New York,Broadway,123,2,,40.7510,-73.9930\n"
		 "near-2,hq,US,NY,New York,Broadway,123,3,,40.7480,-73.9850\n"
		 "far,hq,US,NY,New York,Broadway,123,4,,40.7506,73.9935\n");
	check_refused("quality",
		      (const char *const[]){
			      "locations.csv:4:4: location \"a1-typo\" is not dispatchable: A1 "
			      "\"Californa\" is not a subdivision of US in ISO 3166-2 (give its "
			      "code, as CA of US-CA, or its name) (did you mean \"California\"?)\n",
			      "locations.csv:5:4: location \"a1-other\" is not dispatchable: A1 "
			      "\"CA\" is not a subdivision of DE in ISO 3166-2 (give its code, as "
			      "CA "
			      "of US-CA, or its name)\n",
			      "locations.csv:6:9: location \"plc-typo\": PLC \"offise\" is not an "
			      "RFC 4589 location type (did you mean \"office\"?)\n",
			      "locations.csv:9:1: location \"far\" lies 10393 km from the median "
			      "(40.7506, -73.9930) of the other 3 geodetic "
			      "points of site \"hq\", more than 50 km: check its latitude and "
			      "longitude\n",
			      NULL},
		      "--no-warnings", "--locations", in(d, "locations.csv"), NULL, NULL, NULL);
}

/* Without iso-codes' files the import still runs, says once that country and A1 were not
 * checked, and says it again in its summary. */
static void test_missing_iso_codes_skip_the_check_with_a_warning(void)
{
	const char *d = mkdir_in("noiso");
	struct th_proc p;

	write_in(d, "locations.csv", "location,site,country,A1,A3,RD,HNO,ROOM\n"
				     "hq-noiso,hq,US,Nowhere,New York,Broadway,123,9\n");
	ctl_env[0] = "LIS_ISO_CODES_DIR=/nonexistent";
	ctl(&p, "import", "--dry-run", "--no-warnings", "--locations", in(d, "locations.csv"),
	    NULL);
	ctl_env[0] = NULL;
	CHECKF(p.status == 0 && strstr(p.err, "lisctl: warning: country and A1 are not checked "
					      "against ISO 3166: /nonexistent/iso_3166-1.json: "
					      "cannot open: No such file or directory (install "
					      "iso-codes)\n") &&
	       strstr(p.out, "ISO 3166 check skipped: country and A1 were not checked\n"),
	       "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
}

/* Switches, ports and BSSIDs whose locations are in another site than theirs; unique
 * values the database holds for another key, named by that key. */
static void test_cross_site_rows_and_taken_unique_values_are_errors(void)
{
	const char *d = mkdir_in("crosssite");

	write_in(d, "switches.csv", "switch,site,chassis_id,location\n"
				    "sw-x,hq,00:11:22:33:44:99,br-100\n"
				    "sw-copy,branch,00:11:22:33:44:04,\n");
	write_in(d, "ports.csv", "switch,port,location\nsw-hq-4,Gi1/0/9,br-100\n");
	write_in(d, "bssids.csv", "bssid,location,ap\n00:aa:bb:cc:dd:05,br-100,ap-x\n"
				  "00:aa:bb:cc:ee:01,br-100,ap-4-east\n");
	write_in(d, "endpoints.csv",
		 "endpoint,class,mac\nphone-new,desk_phone,00:50:b6:00:04:20\n");
	check_refused("cross-site",
		      (const char *const[]){
			      "switches.csv:2:4: switch \"sw-x\" is in site \"hq\", but its "
			      "location "
			      "\"br-100\" is in site \"branch\": a switch's location must be in "
			      "its "
			      "own site\n",
			      "ports.csv:2:3: port \"sw-hq-4\" \"Gi1/0/9\": location \"br-100\" is "
			      "in site \"branch\", but switch \"sw-hq-4\" is in site \"hq\": a "
			      "port's location must be in its switch's site\n",
			      "switches.csv:3:1: chassis_id \"00:11:22:33:44:04\" of switch "
			      "\"sw-copy\" is already switch \"sw-hq-4\" (site \"hq\") in the "
			      "database\n",
			      "endpoints.csv:2:1: mac \"00:50:b6:00:04:20\" of endpoint "
			      "\"phone-new\" is already endpoint \"phone-420\" (site \"hq\") in "
			      "the "
			      "database\n",
			      "bssids.csv:2:1: BSSID \"00:aa:bb:cc:dd:05/48\" (site \"branch\") "
			      "lies "
			      "inside 00:aa:bb:cc:dd:00/44 (the database, site \"hq\"): nested "
			      "BSSID "
			      "ranges must be in the same site\n",
			      "bssids.csv:3:1: BSSID \"00:aa:bb:cc:ee:01/48\" of access point "
			      "\"ap-4-east\" is in site \"branch\", but its BSSID "
			      "00:aa:bb:cc:dd:00/44 (the database) is in site \"hq\": an access "
			      "point's BSSIDs must be in one site\n",
			      NULL},
		      "--switches", in(d, "switches.csv"), "--ports", in(d, "ports.csv"),
		      "--bssids", in(d, "bssids.csv"), "--endpoints", in(d, "endpoints.csv"),
		      NULL);
}

/* Issue 12: two switches trading chassis IDs in one import is a legitimate change (a
 * chassis taken by a switch the files do not give stays an error, above). */
static void test_switches_swapping_chassis_ids_in_one_import(void)
{
	const char *d = mkdir_in("swap");
	struct th_proc p;

	write_in(d, "switches.csv", "switch,site,chassis_id\n"
				    "sw-swap-a,hq,02:5a:00:00:00:0a\n"
				    "sw-swap-b,hq,02:5a:00:00:00:0b\n");
	ctl(&p, "import", "--switches", in(d, "switches.csv"), NULL);
	CHECKF(p.status == 0, "%s", p.err);
	th_proc_free(&p);
	write_in(d, "swapped.csv", "switch,site,chassis_id\n"
				   "sw-swap-a,hq,02:5a:00:00:00:0b\n"
				   "sw-swap-b,hq,02:5a:00:00:00:0a\n");
	ctl(&p, "import", "--switches", in(d, "swapped.csv"), NULL);
	CHECKF(p.status == 0, "%s", p.err);
	CHECK_STR(p.out, "imported 2 switches (2 changed)\n");
	th_proc_free(&p);
	char *got = th_pg_query1(&pg, "SELECT string_agg(key || ' ' || chassis_id, ', ' ORDER BY"
				      " key) FROM switch WHERE key LIKE 'sw-swap-%'");
	CHECK_STR(got, "sw-swap-a 02:5a:00:00:00:0b, sw-swap-b 02:5a:00:00:00:0a");
	free(got);
	ctl(&p, "import", "--switches", in(d, "swapped.csv"), NULL);
	CHECK_STR(p.out, "imported 2 switches (0 changed)\n");
	th_proc_free(&p);
	/* the cases after this one count the switches */
	CHECK(th_pg_exec(&pg, "lis", "DELETE FROM switch WHERE key LIKE 'sw-swap-%'") == 0);
}

static void test_json_syntax_and_field_errors_have_positions(void)
{
	const char *d = mkdir_in("json");

	write_in(d, "sites.json", "[\n  {\"site\": \"a\", \"name\": \"A\"},\n  {\"site\": \"b\" "
				  "\"name\": \"B\"}\n]\n");
	check_refused("json syntax",
		      (const char *const[]){"sites.json:3:21: JSON syntax error: '}' expected near '\"name\"'\n", NULL},
		      "--sites", in(d, "sites.json"), NULL, NULL, NULL, NULL);
	write_in(d, "endpoints.json",
		 "[\n  {\"endpoint\": \"p1\", \"class\": \"desk_phone\",\n"
		 "   \"mac\": \"00:11:22\"},\n  {\"endpoint\": \"p2\", \"class\": \"a robot\", "
		 "\"tel\": \"tel:+15550001\"}\n]\n");
	check_refused("json fields",
		      (const char *const[]){
			      "endpoints.json:3:4: \"00:11:22\" is not a MAC address (e.g. "
			      "00:11:22:33:44:55)\n",
			      "endpoints.json:4:22: class key \"a robot\" contains white space",
			      NULL},
		      "--endpoints", in(d, "endpoints.json"), NULL, NULL, NULL, NULL);
	/* --format json reads a file whatever its name. */
	write_in(d, "sites.txt", "[{\"site\": \"a\", \"name\": \"A\", \"colour\": \"blue\"}]");
	check_refused("json format option",
		      (const char *const[]){"sites.txt:1:29: unknown column \"colour\"\n", NULL},
		      "--format", "json", "--sites", in(d, "sites.txt"), NULL, NULL);
}

static void test_replace_entity_removes_what_the_file_lacks(void)
{
	const char *d = mkdir_in("replace-subnets");
	struct th_proc p;

	write_in(d, "subnets.csv", "prefix,location,description\n10.1.0.0/16,hq-lobby,HQ\n"
				   "10.1.4.0/24,hq-410,Floor 4\n10.2.0.0/16,br-100,Branch\n");
	ctl(&p, "import", "--dry-run", "--verbose", "--replace", "subnets", "--subnets",
	    in(d, "subnets.csv"), NULL);
	CHECKF(p.status == 0 && strstr(p.out, "subnets: added 0, changed 0, removed 1, "
					      "unchanged 3\n  removed 2001:db8:1::/48\n"),
	       "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
	CHECK(count("SELECT count(*) FROM subnet") == 4);
	ctl(&p, "import", "--replace", "subnets", "--subnets", in(d, "subnets.csv"), NULL);
	CHECKF(p.status == 0 && strstr(p.out, "imported 3 subnets (0 changed, 1 removed)\n"),
	       "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
	CHECK(count("SELECT count(*) FROM subnet") == 3);
	CHECK(count("SELECT count(*) FROM subnet WHERE family(prefix) = 6") == 0);
}

static void test_replace_site_removes_its_rows_or_refuses(void)
{
	const char *d = mkdir_in("replace-site");
	const char *w = th_src("tests/data/csv/wiremap");
	struct th_proc p;

	/* The branch's only location is still used by its subnet, switch, port and BSSID,
	 * none of whose files is given: refused, nothing removed. */
	write_in(d, "locations.csv", "location,site,country,A1,A3,RD,HNO,BLD,FLR,ROOM\n");
	char *before = snapshot();
	ctl(&p, "import", "--replace", "site:branch", "--locations", in(d, "locations.csv"),
	    NULL);
	CHECKF(p.status == 1 && strstr(p.err, "replace: cannot remove location \"br-100\" (not "
					      "in the files): BSSID 00:aa:bb:cc:dd:ee/48 still "
					      "uses it; remove that too, or point it elsewhere\n"
					      "lisctl: import: nothing written\n"),
	       "exit %d: %s", p.status, p.err);
	th_proc_free(&p);
	char *after = snapshot();
	CHECK_STR(after, before);
	free(before);
	free(after);

	/* With every file, HQ's rows only: the branch's rows go, HQ's stay. */
	write_in(d, "locations.csv",
		 "location,site,lang,country,A1,A3,RD,STS,HNO,PC,BLD,FLR,ROOM,latitude,longitude,"
		 "uncertainty\n"
		 "hq-lobby,hq,en-US,US,NY,New York,Broadway,ST,123,10001,North,1,Lobby,40.7506,"
		 "-73.9935,15\n"
		 "hq-410,hq,en-US,US,NY,New York,Broadway,ST,123,10001,North,4,410,,,\n"
		 "hq-420,hq,en-US,US,NY,New York,Broadway,ST,123,10001,North,4,420,,,\n");
	write_in(d, "subnets.csv", "prefix,location\n");
	write_in(d, "switches.csv", "switch,site,chassis_id\n");
	write_in(d, "ports.csv", "switch,port\n");
	write_in(d, "bssids.csv", "bssid,location\n");
	ctl(&p, "import", "--no-warnings", "--replace", "site:branch", "--locations",
	    in(d, "locations.csv"), "--subnets", in(d, "subnets.csv"), "--switches",
	    in(d, "switches.csv"), "--ports", in(d, "ports.csv"), "--bssids",
	    in(d, "bssids.csv"), NULL);
	CHECKF(p.status == 0 && strstr(p.out, "imported 3 locations (0 changed, 1 removed), 0 "
					      "subnets (0 changed, 1 removed), 0 switches (0 "
					      "changed, 1 removed), 0 ports (0 changed, 1 removed), "
					      "0 BSSIDs (0 changed, 1 removed)\n"),
	       "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
	CHECK(count("SELECT count(*) FROM location") == 3);
	CHECK(count("SELECT count(*) FROM subnet") == 2);
	CHECK(count("SELECT count(*) FROM switch") == 1);
	CHECK(count("SELECT count(*) FROM switch_port") == 2);
	CHECK(count("SELECT count(*) FROM site WHERE key = 'branch'") == 1);

	/* Put the whole wiremap back for the round trips. */
	import_dir(&p, w, "csv", "--no-warnings", NULL, NULL, NULL);
	CHECKF(p.status == 0, "exit %d: %s", p.status, p.err);
	th_proc_free(&p);
}

static void test_export_then_import_is_a_no_op(void)
{
	const char *fmts[] = {"csv", "json"};

	for (int f = 0; f < 2; f++) {
		char a[64], b[64];
		snprintf(a, sizeof a, "export-%s-1", fmts[f]);
		snprintf(b, sizeof b, "export-%s-2", fmts[f]);
		const char *da = in(work, a), *db = in(work, b);
		char *before = snapshot();
		struct th_proc p;

		ctl(&p, "export", "--dir", da, "--format", fmts[f], NULL);
		CHECKF(p.status == 0 && strstr(p.out, "exported 2 sites, 4 locations, 4 subnets, "
						      "2 switches, 3 ports, 2 BSSIDs, 5 endpoint "
						      "classes, 2 endpoints"),
		       "%s: exit %d: %s %s", fmts[f], p.status, p.out, p.err);
		th_proc_free(&p);
		import_dir(&p, da, fmts[f], "--dry-run", "--no-warnings", NULL, NULL);
		int same = 0;
		for (const char *o = p.out; (o = strstr(o, ": added 0, changed 0, unchanged ")); o++)
			same++;
		CHECKF(p.status == 0 && same == 8,
		       "%s: exit %d: %s %s", fmts[f], p.status, p.out, p.err);
		th_proc_free(&p);
		import_dir(&p, da, fmts[f], "--no-warnings", NULL, NULL, NULL);
		CHECKF(p.status == 0 && strstr(p.out, "imported 2 sites (0 changed), 4 locations "
						      "(0 changed), 4 subnets (0 changed), 2 "
						      "switches (0 changed), 3 ports (0 changed), "
						      "2 BSSIDs (0 changed), 5 endpoint classes "
						      "(0 changed), 2 endpoints (0 changed)"),
		       "%s: exit %d: %s %s", fmts[f], p.status, p.out, p.err);
		th_proc_free(&p);
		ctl(&p, "export", "--dir", db, "--format", fmts[f], NULL);
		CHECK(p.status == 0);
		th_proc_free(&p);
		check_same_files(da, db, fmts[f]);
		char *after = snapshot();
		CHECK_STR(after, before);
		free(before);
		free(after);
	}
}

static void test_export_one_site(void)
{
	const char *d = in(work, "export-site");
	struct th_proc p;

	ctl(&p, "export", "--dir", d, "--site", "branch", NULL);
	CHECKF(p.status == 0 && strstr(p.out, "exported 1 sites, 1 locations, 1 subnets, "
					      "1 switches, 1 ports, 1 BSSIDs, 0 endpoint "
					      "classes, 0 endpoints"),
	       "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
	char *s = th_read_file(in(d, "subnets.csv"), NULL);
	CHECK_STR(s, "prefix,location,description,remote\n10.2.0.0/16,br-100,Branch,false\n");
	free(s);
}

static void test_bindings_export_then_import_is_a_no_op(void)
{
	const char *d = mkdir_in("bindings"), *x = in(work, "export-bindings");
	struct th_proc p;

	write_in(d, "mac_ports.csv", "mac,switch,port,last_seen,first_seen,source\n"
				     "00-50-B6-00-04-20,sw-hq-4,Gi1/0/2,2026-11-25T08:00:00Z,"
				     "2026-11-20 08:00:00+01,snmp\n");
	write_in(d, "ip_macs.csv", "ip,mac,last_seen\n10.1.4.20,0050.b600.0420,"
				   "2026-11-25T08:00:00Z\n");
	ctl(&p, "import", "--mac-ports", in(d, "mac_ports.csv"), "--ip-macs",
	    in(d, "ip_macs.csv"), NULL);
	CHECKF(p.status == 0, "exit %d: %s", p.status, p.err);
	th_proc_free(&p);
	ctl(&p, "export", "--dir", x, "--bindings", NULL);
	CHECK(p.status == 0);
	th_proc_free(&p);
	char *mp = th_read_file(in(x, "mac_ports.csv"), NULL);
	CHECK_STR(mp, "mac,switch,port,last_seen,first_seen,source\n"
		      "00:50:b6:00:04:20,sw-hq-4,Gi1/0/2,2026-11-25T08:00:00Z,2026-11-20T07:00:00Z,"
		      "snmp\n");
	free(mp);
	ctl(&p, "import", "--dry-run", "--mac-ports", in(x, "mac_ports.csv"), "--ip-macs",
	    in(x, "ip_macs.csv"), "--mac-bssids", in(x, "mac_bssids.csv"), NULL);
	CHECKF(p.status == 0 && strstr(p.out, "MAC-port bindings: added 0, changed 0, unchanged 1\n"
					      "IP-MAC bindings: added 0, changed 0, unchanged 1\n"
					      "MAC-BSSID bindings: added 0, changed 0, "
					      "unchanged 0\n"),
	       "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
}

/* man lisctl(8), EXAMPLES: the commands as printed there, run from tests/data/json. */
static void test_man_page_examples(void)
{
	const char *j = th_src("tests/data/json");
	const char *d = in(work, "man-backup");
	struct th_proc p;

	ctl(&p, "import", "--dry-run", "--verbose", "--sites", in(j, "sites.json"),
	    "--locations", in(j, "locations.json"), "--subnets", in(j, "subnets.json"), NULL);
	CHECKF(p.status == 0 && strstr(p.out, "sites: added 0, changed 0, unchanged 2\n"),
	       "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
	ctl(&p, "export", "--dir", d, "--format", "json", NULL);
	CHECK(p.status == 0);
	th_proc_free(&p);
	ctl(&p, "import", "--replace", "subnets", "--subnets", in(d, "subnets.json"), NULL);
	CHECKF(p.status == 0 && strstr(p.out, "imported 4 subnets (0 changed, 0 removed)"),
	       "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
}

/* An export opened in a spreadsheet must not run formulas: a cell that starts with =, +, -,
 * @ or a tab gets a leading apostrophe (numbers such as -87.6298 stay as they are), and
 * import takes exactly that apostrophe off again, so the round trip still changes nothing
 * and exports the same bytes. */
static void test_export_defuses_formulas_and_import_undoes_it(void)
{
	/* in() reuses its buffers: keep copies */
	char *d = strdup(mkdir_in("formulas")), *x = strdup(in(work, "export-formulas"));
	char *y = strdup(in(work, "export-formulas-2"));
	struct th_proc p;

	write_in(d, "sites.csv", "site,name,description\n"
				 "fx,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",@SUM(A1)\n"
				 "fy,+1 555 0100,\"\t-tab first\"\n"
				 "fz,''=already defused,-5 dB\n");
	write_in(d, "locations.csv", "location,site,country,A1,A3,RD,HNO,ROOM,latitude,longitude\n"
				     "fx-1,fx,US,IL,Chicago,=Main,1,-1,41.8781,-87.6298\n");
	ctl(&p, "import", "--no-warnings", "--sites", in(d, "sites.csv"), "--locations",
	    in(d, "locations.csv"), NULL);
	CHECKF(p.status == 0, "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
	char *v = th_pg_query1(&pg, "SELECT name || '|' || description FROM site WHERE key = 'fx'");
	CHECK_STR(v, "=HYPERLINK(\"http://x\",\"y\")|@SUM(A1)");
	free(v);
	v = th_pg_query1(&pg, "SELECT name FROM site WHERE key = 'fz'");
	CHECK_STR(v, "'=already defused");
	free(v);

	ctl(&p, "export", "--dir", x, "--site", "fx", NULL);
	CHECK(p.status == 0);
	th_proc_free(&p);
	char *sites = th_read_file(in(x, "sites.csv"), NULL);
	CHECK_STR(sites, "site,name,description,default_location,allow_default\n"
			 "fx,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",\"'@SUM(A1)\",,false\n");
	free(sites);
	char *locs = th_read_file(in(x, "locations.csv"), NULL);
	CHECKF(locs && strstr(locs, ",\"'=Main\",") && strstr(locs, ",41.8781,-87.6298,") &&
	       strstr(locs, ",-1,"), "%s", locs ? locs : "(none)");
	free(locs);

	/* the whole wiremap, with fy's tab and fz's apostrophe, back and forth */
	ctl(&p, "export", "--dir", x, NULL);
	CHECK(p.status == 0);
	th_proc_free(&p);
	sites = th_read_file(in(x, "sites.csv"), NULL);
	CHECKF(sites && strstr(sites, "\nfy,\"'+1 555 0100\",\"'\t-tab first\",,false\n") &&
	       strstr(sites, "\nfz,\"''=already defused\",\"'-5 dB\",,false\n"), "%s",
	       sites ? sites : "(none)");
	free(sites);
	char *before = snapshot();
	import_dir(&p, x, "csv", "--no-warnings", NULL, NULL, NULL);
	int changed = 0;
	for (const char *o = p.out; (o = strstr(o, " changed")); o++)
		changed += o[-1] != '0';
	CHECKF(p.status == 0 && strstr(p.out, "imported ") && changed == 0,
	       "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
	char *after = snapshot();
	CHECK_STR(after, before);
	free(before);
	free(after);
	ctl(&p, "export", "--dir", y, NULL);
	CHECK(p.status == 0);
	th_proc_free(&p);
	check_same_files(x, y, "csv");
	free(d);
	free(x);
	free(y);
}

/* Numbers are exported in plain decimals: an altitude of 20 and an uncertainty of 30 are
 * "20" and "30", not "2e+01" and "3e+01" (the shortest text that reads back as the same
 * double is in exponent form for them); and they read back unchanged. */
static void test_export_writes_plain_decimals(void)
{
	const char *d = mkdir_in("decimals"), *x = in(work, "export-decimals");
	write_in(d, "locations.csv",
		 "location,site,lang,country,A1,A3,RD,HNO,FLR,latitude,longitude,altitude,"
		 "uncertainty\n"
		 "hq-roof,hq,en-US,US,NY,New York,Broadway,123,R,40.7506,-73.9935,20,30\n");
	struct th_proc p;
	ctl(&p, "import", "--locations", in(d, "locations.csv"), NULL);
	CHECKF(p.status == 0, "exit %d: %s %s", p.status, p.out, p.err);
	th_proc_free(&p);
	ctl(&p, "export", "--dir", x, NULL);
	CHECK(p.status == 0);
	th_proc_free(&p);
	char *csv = th_read_file(in(x, "locations.csv"), NULL);
	const char *line = csv ? strstr(csv, "hq-roof,") : NULL;
	size_t n = line ? strcspn(line, "\n") : 0;
	CHECKF(line && memmem(line, n, ",20,30", 6) && !memmem(line, n, "e+", 2) &&
	       !memmem(line, n, "e-", 2), "%.*s", (int)n, line ? line : "(no hq-roof line)");
	free(csv);
	ctl(&p, "import", "--dry-run", "--locations", in(x, "locations.csv"), NULL);
	CHECKF(p.status == 0 && strstr(p.out, "changed 0"), "exit %d: %s %s", p.status, p.out,
	       p.err);
	th_proc_free(&p);
}

int main(void)
{
	t_run("setup_postgresql_and_migrate", test_setup_postgresql_and_migrate);
	if (!pg_up || !work) {
		t_skip("database cases", "PostgreSQL did not start");
		return t_done();
	}
	t_run("json_import_writes_every_row_and_lists_warnings",
	      test_json_import_writes_every_row_and_lists_warnings);
	t_run("reimport_json_and_same_wiremap_as_csv_change_nothing",
	      test_reimport_json_and_same_wiremap_as_csv_change_nothing);
	t_run("dry_run_counts_and_writes_nothing", test_dry_run_counts_and_writes_nothing);
	t_run("bad_cidr_and_mac_are_errors", test_bad_cidr_and_mac_are_errors);
	t_run("nested_subnets_of_other_sites_are_errors",
	      test_nested_subnets_of_other_sites_are_errors);
	t_run("unknown_reference_and_duplicate_key_are_errors",
	      test_unknown_reference_and_duplicate_key_are_errors);
	t_run("not_dispatchable_addresses_are_errors", test_not_dispatchable_addresses_are_errors);
	t_run("hno_suffix_and_postal_code_format_are_errors",
	      test_hno_suffix_and_postal_code_format_are_errors);
	t_run("subdivision_place_type_and_far_point_are_errors",
	      test_subdivision_place_type_and_far_point_are_errors);
	t_run("missing_iso_codes_skip_the_check_with_a_warning",
	      test_missing_iso_codes_skip_the_check_with_a_warning);
	t_run("cross_site_rows_and_taken_unique_values_are_errors",
	      test_cross_site_rows_and_taken_unique_values_are_errors);
	t_run("switches_swapping_chassis_ids_in_one_import",
	      test_switches_swapping_chassis_ids_in_one_import);
	t_run("json_syntax_and_field_errors_have_positions",
	      test_json_syntax_and_field_errors_have_positions);
	t_run("replace_entity_removes_what_the_file_lacks",
	      test_replace_entity_removes_what_the_file_lacks);
	t_run("replace_site_removes_its_rows_or_refuses",
	      test_replace_site_removes_its_rows_or_refuses);
	t_run("export_then_import_is_a_no_op", test_export_then_import_is_a_no_op);
	t_run("export_one_site", test_export_one_site);
	t_run("bindings_export_then_import_is_a_no_op",
	      test_bindings_export_then_import_is_a_no_op);
	t_run("man_page_examples", test_man_page_examples);
	t_run("export_defuses_formulas_and_import_undoes_it",
	      test_export_defuses_formulas_and_import_undoes_it);
	t_run("export_writes_plain_decimals", test_export_writes_plain_decimals);
	int rc = t_done();
	th_pg_stop(&pg);
	return rc;
}
