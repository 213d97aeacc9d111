/* lisctl against a real PostgreSQL: migrations, CSV import (all or nothing, file:line:col
 * errors), and longest-prefix lookup over what was imported. */
#include "check.h"
#include "db.h"
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct th_pg pg;
static bool pg_up;
static char sample_ci[512];   /* database "sample" for deploy/sample */
static char *work;            /* temp dir for bad CSV files */

/* Run lisctl --db CONNINFO args...; the argv after the conninfo is NULL-terminated. */
static void ctl(struct th_proc *p, const char *conninfo, const char *a1, const char *a2,
		const char *a3, const char *a4, const char *a5, const char *a6, const char *a7,
		const char *a8)
{
	const char *argv[16];
	int n = 0;
	argv[n++] = th_lisctl_path();
	if (conninfo) {
		argv[n++] = "--db";
		argv[n++] = conninfo;
	}
	const char *rest[] = {a1, a2, a3, a4, a5, a6, a7, a8};
	for (size_t i = 0; i < 8 && rest[i]; i++)
		argv[n++] = rest[i];
	argv[n] = NULL;
	th_run(p, (char *const *)argv, NULL, 60);
	if (p->status != 0)
		t_diag("lisctl exit %d; stdout: %s; stderr: %s", p->status, th_flat(p->out),
		       th_flat(p->err));
}

static void import3(struct th_proc *p, const char *ci, const char *dir)
{
	char s[1024], l[1024], n[1024];
	snprintf(s, sizeof s, "%s/sites.csv", dir);
	snprintf(l, sizeof l, "%s/locations.csv", dir);
	snprintf(n, sizeof n, "%s/subnets.csv", dir);
	ctl(p, ci, "import", "--sites", s, "--locations", l, "--subnets", n, NULL);
}

/* A digest of every wiremap row, to prove that a step changed nothing. */
static char *snapshot(const char *dbname)
{
	struct th_pg other = pg;
	snprintf(other.conninfo, sizeof other.conninfo, "host=%s user=postgres dbname=%s", pg.dir,
		 dbname);
	return th_pg_query1(&other,
		"SELECT md5(coalesce((SELECT string_agg(t::text, '|' ORDER BY t.id) FROM site t), '')"
		" || '#' || coalesce((SELECT string_agg(t::text, '|' ORDER BY t.id) FROM location t), '')"
		" || '#' || coalesce((SELECT string_agg(t::text, '|' ORDER BY t.id) FROM subnet t), ''))");
}

static long rows(const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	return th_pg_count(&pg, sql);
}

/* Longest-prefix match through the db layer lisd uses (db_lookup_subnet); "(none)" when no
 * subnet covers ip, "(error: ...)" on failure. */
static char *lookup(const char *ip)
{
	struct lis_error err = {0};
	struct db_conn *c = db_connect(pg.conninfo, &err);
	char buf[400];
	if (!c) {
		snprintf(buf, sizeof buf, "(error: %s)", err.msg);
		return strdup(buf);
	}
	struct db_location loc;
	memset(&loc, 0, sizeof loc);
	int rc = db_lookup_subnet(c, ip, &loc, &err);
	if (rc == 1)
		snprintf(buf, sizeof buf, "%s", loc.key ? loc.key : "(null key)");
	else if (rc == 0)
		snprintf(buf, sizeof buf, "(none)");
	else
		snprintf(buf, sizeof buf, "(error: %s)", err.msg);
	if (rc == 1)
		db_location_clear(&loc);
	db_close(c);
	return strdup(buf);
}

static void write_in(const char *dir, const char *name, const char *text)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	th_write_file(p, text);
}

/* ---- cases ---- */

static void test_setup_postgresql_cluster(void)
{
	pg_up = th_pg_start(&pg) == 0;
	CHECK(pg_up);
	work = th_tmpdir("ctl");
	CHECK(work != NULL);
	if (pg_up) {
		CHECK(th_pg_exec(&pg, "postgres", "CREATE DATABASE sample") == 0);
		snprintf(sample_ci, sizeof sample_ci, "host=%s user=postgres dbname=sample", pg.dir);
	}
}

static void test_help_and_version_exit_0(void)
{
	struct th_proc p;
	char *a[] = {(char *)th_lisctl_path(), "--help", NULL};
	th_run(&p, a, NULL, 10);
	CHECKF(p.status == 0, "exit %d", p.status);
	CHECKF(strstr(p.out, "migrate") && strstr(p.out, "import"), "--help: %s", th_flat(p.out));
	th_proc_free(&p);
	char *b[] = {(char *)th_lisctl_path(), "--version", NULL};
	th_run(&p, b, NULL, 10);
	CHECKF(p.status == 0, "exit %d", p.status);
	CHECKF(strstr(p.out, "0.") != NULL, "--version: %s", th_flat(p.out));
	th_proc_free(&p);
	/* every command takes --help (and -h): its usage on stdout, exit 0, no database needed */
	static const char *const cmds[] = {"db", "import", "export", "explain", "report", "purge",
					   "verify", "endpoint", "user"};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char want[64];
		snprintf(want, sizeof want, "usage: lisctl %s", cmds[i]);
		char *c[] = {(char *)th_lisctl_path(), "--db", "host=/nonexistent", (char *)cmds[i],
			i % 2 ? "-h" : "--help", NULL};
		th_run(&p, c, NULL, 10);
		CHECKF(p.status == 0 && strncmp(p.out, want, strlen(want)) == 0 && !p.err[0],
		       "%s --help: exit %d: %s %s", cmds[i], p.status, th_flat(p.out),
		       th_flat(p.err));
		th_proc_free(&p);
	}
}

static void test_no_command_is_usage_error_exit_2(void)
{
	struct th_proc p;
	char *a[] = {(char *)th_lisctl_path(), NULL};
	th_run(&p, a, NULL, 10);
	CHECKF(p.status == 2, "exit %d", p.status);
	th_proc_free(&p);
	char *b[] = {(char *)th_lisctl_path(), "--db", "dbname=x", "frobnicate", NULL};
	th_run(&p, b, NULL, 10);
	CHECKF(p.status == 2, "exit %d", p.status);
	th_proc_free(&p);
}

static int migrated_version;

/* The migration files of the source tree (db/migrations/NNNN_*.sql). */
static int migration_files(void)
{
	DIR *d = opendir(th_src("db/migrations"));
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		n += len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0;
	}
	if (d)
		closedir(d);
	return n;
}

static void test_migrate_fresh_database_applies_all(void)
{
	struct th_proc p;
	ctl(&p, pg.conninfo, "db", "migrate", NULL, NULL, NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0, "exit %d", p.status);
	int v = -1, applied = -1;
	CHECKF(sscanf(p.out, "schema at version %d (applied %d)", &v, &applied) == 2,
	       "stdout: %s", th_flat(p.out));
	CHECK(v >= 1);
	/* numbers may have gaps (each branch takes its own): every file is one migration */
	int files = migration_files();
	CHECKF(applied == files, "applied %d of %d files", applied, files);
	migrated_version = v;
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM lis_schema") == files);
	CHECK(th_pg_count(&pg, "SELECT max(version) FROM lis_schema") == v);
	th_proc_free(&p);
}

static void test_migrate_again_applies_0(void)
{
	struct th_proc p;
	ctl(&p, pg.conninfo, "db", "migrate", NULL, NULL, NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0, "exit %d", p.status);
	int v = -1, applied = -1;
	CHECKF(sscanf(p.out, "schema at version %d (applied %d)", &v, &applied) == 2,
	       "stdout: %s", th_flat(p.out));
	CHECK(v == migrated_version);
	CHECK(applied == 0);
	th_proc_free(&p);
}

static void test_db_status_shows_current_version(void)
{
	struct th_proc p;
	ctl(&p, pg.conninfo, "db", "status", NULL, NULL, NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0, "exit %d", p.status);
	char v[16];
	snprintf(v, sizeof v, "%d", migrated_version);
	CHECKF(strstr(p.out, v) != NULL, "stdout: %s", th_flat(p.out));
	/* no wiremapd has run here */
	CHECKF(strstr(p.out, "\ncollector lease held by nobody\n") != NULL, "stdout: %s",
	       th_flat(p.out));
	th_proc_free(&p);
}

/* A migration missing below the highest recorded (one a branch merged after a higher one,
 * or a row lost) makes the schema older than its highest number: status says to migrate,
 * and lisd would refuse it the same way (db_schema_version). */
static void test_db_status_sees_a_migration_missing_in_the_middle(void)
{
	char *first = th_pg_query1(&pg, "SELECT version FROM lis_schema ORDER BY 1 LIMIT 1");
	char *second = th_pg_query1(&pg, "SELECT version FROM lis_schema ORDER BY 1 OFFSET 1 "
				    "LIMIT 1");
	char sql[200], want[160];
	if (!CHECK(first && second))
		goto out;
	snprintf(sql, sizeof sql, "BEGIN; CREATE TABLE aside AS SELECT * FROM lis_schema WHERE "
		 "version = %s; DELETE FROM lis_schema WHERE version = %s; COMMIT", second,
		 second);
	if (!CHECK(th_pg_exec(&pg, "lis", sql) == 0))
		goto out;
	struct th_proc p;
	ctl(&p, pg.conninfo, "db", "status", NULL, NULL, NULL, NULL, NULL, NULL);
	snprintf(want, sizeof want, "schema at version %s, latest %d (run lisctl db migrate)\n",
		 first, migrated_version);
	CHECKF(p.status == 0 && strncmp(p.out, want, strlen(want)) == 0, "stdout: %s",
	       th_flat(p.out));
	th_proc_free(&p);
	CHECK(th_pg_exec(&pg, "lis", "BEGIN; INSERT INTO lis_schema SELECT * FROM aside; "
			 "DROP TABLE aside; COMMIT") == 0);
	ctl(&p, pg.conninfo, "db", "status", NULL, NULL, NULL, NULL, NULL, NULL);
	CHECKF(strstr(p.out, "(up to date)"), "stdout: %s", th_flat(p.out));
	th_proc_free(&p);
out:
	free(first);
	free(second);
}

static void test_conninfo_from_env_LIS_DB(void)
{
	char env[600];
	snprintf(env, sizeof env, "LIS_DB=%s", pg.conninfo);
	char *envv[] = {env, NULL};
	char *a[] = {(char *)th_lisctl_path(), "db", "status", NULL};
	struct th_proc p;
	th_run(&p, a, envv, 30);
	CHECKF(p.status == 0, "exit %d: %s", p.status, th_flat(p.err));
	th_proc_free(&p);
}

static void test_import_deploy_sample_and_reimport_changes_nothing(void)
{
	struct th_proc p;
	ctl(&p, sample_ci, "db", "migrate", NULL, NULL, NULL, NULL, NULL, NULL);
	CHECK(p.status == 0);
	th_proc_free(&p);
	import3(&p, sample_ci, th_src("deploy/sample"));
	CHECKF(p.status == 0, "exit %d", p.status);
	th_proc_free(&p);
	char *a = snapshot("sample");
	struct th_pg s = pg;
	snprintf(s.conninfo, sizeof s.conninfo, "%s", sample_ci);
	CHECK(th_pg_count(&s, "SELECT count(*) FROM subnet") > 0);
	CHECK(th_pg_count(&s, "SELECT count(*) FROM location") > 0);
	import3(&p, sample_ci, th_src("deploy/sample"));
	CHECKF(p.status == 0, "exit %d", p.status);
	th_proc_free(&p);
	char *b = snapshot("sample");
	CHECK(a != NULL);
	CHECK_STR(b, a);
	free(a);
	free(b);
}

static void test_import_fixture_writes_every_row(void)
{
	struct th_proc p;
	import3(&p, pg.conninfo, th_src("tests/data/integration"));
	CHECKF(p.status == 0, "exit %d", p.status);
	th_proc_free(&p);
	CHECK(rows("site") == 2);
	CHECK(rows("location") == 4);
	CHECK(rows("subnet") == 6);
	char *v = th_pg_query1(&pg, "SELECT l.a3 || '|' || l.room || '|' || s.key FROM location l "
			       "JOIN site s ON s.id = l.site_id WHERE l.key = 'hq-410'");
	CHECK_STR(v, "New York|410|hq");
	free(v);
	v = th_pg_query1(&pg, "SELECT round(latitude::numeric, 4) || ' ' || "
			 "round(longitude::numeric, 4) FROM location WHERE key = 'hq-geo'");
	CHECK_STR(v, "40.7506 -73.9935");
	free(v);
	v = th_pg_query1(&pg, "SELECT coalesce(description, '(null)') FROM site WHERE key = 'hq'");
	CHECK_STR(v, "Main office, New York");
	free(v);
}

static void test_reimport_same_files_changes_nothing(void)
{
	char *a = snapshot("lis");
	struct th_proc p;
	import3(&p, pg.conninfo, th_src("tests/data/integration"));
	CHECKF(p.status == 0, "exit %d", p.status);
	th_proc_free(&p);
	char *b = snapshot("lis");
	CHECK(a != NULL);
	CHECK_STR(b, a);
	free(a);
	free(b);
}

static void test_bad_prefix_on_line_4_writes_nothing(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/badprefix", work);
	mkdir(dir, 0755);
	write_in(dir, "sites.csv", "site,name\nnew-site,New Site\n");
	write_in(dir, "locations.csv", "location,site,country,A1\nnew-loc,new-site,US,CA\n");
	write_in(dir, "subnets.csv",
		 "prefix,location\n10.9.0.0/16,new-loc\n10.9.1.0/24,new-loc\n10.9.2.0/33,new-loc\n");
	char *a = snapshot("lis");
	struct th_proc p;
	import3(&p, pg.conninfo, dir);
	CHECKF(p.status == 1, "exit %d", p.status);
	CHECKF(strstr(p.err, "subnets.csv:4:1:") != NULL, "stderr: %s", th_flat(p.err));
	th_proc_free(&p);
	char *b = snapshot("lis");
	CHECK_STR(b, a);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM site WHERE key = 'new-site'") == 0);
	free(a);
	free(b);
}

static void test_unknown_location_reference_writes_nothing(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/unknownloc", work);
	mkdir(dir, 0755);
	write_in(dir, "sites.csv", "site,name\nnew-site,New Site\n");
	write_in(dir, "locations.csv", "location,site,country\nnew-loc,new-site,US\n");
	write_in(dir, "subnets.csv",
		 "prefix,location\n10.8.0.0/16,new-loc\n10.8.1.0/24,nowhere\n");
	char *a = snapshot("lis");
	struct th_proc p;
	import3(&p, pg.conninfo, dir);
	CHECKF(p.status == 1, "exit %d", p.status);
	CHECKF(strstr(p.err, "subnets.csv:3:") != NULL, "stderr: %s", th_flat(p.err));
	CHECKF(strstr(p.err, "nowhere") != NULL, "stderr names the key: %s", th_flat(p.err));
	th_proc_free(&p);
	char *b = snapshot("lis");
	CHECK_STR(b, a);
	free(a);
	free(b);
}

static void test_unknown_site_reference_writes_nothing(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/unknownsite", work);
	mkdir(dir, 0755);
	write_in(dir, "sites.csv", "site,name\nnew-site,New Site\n");
	write_in(dir, "locations.csv",
		 "location,site,country\nnew-loc,new-site,US\nother-loc,no-such-site,US\n");
	write_in(dir, "subnets.csv", "prefix,location\n10.7.0.0/16,new-loc\n");
	char *a = snapshot("lis");
	struct th_proc p;
	import3(&p, pg.conninfo, dir);
	CHECKF(p.status == 1, "exit %d", p.status);
	CHECKF(strstr(p.err, "locations.csv:3:") != NULL, "stderr: %s", th_flat(p.err));
	th_proc_free(&p);
	char *b = snapshot("lis");
	CHECK_STR(b, a);
	free(a);
	free(b);
}

static void test_unknown_column_is_an_error_on_line_1(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/badcolumn", work);
	mkdir(dir, 0755);
	write_in(dir, "sites.csv", "site,name,colour\nx-site,X,blue\n");
	char s[1024];
	snprintf(s, sizeof s, "%s/sites.csv", dir);
	char *a = snapshot("lis");
	struct th_proc p;
	ctl(&p, pg.conninfo, "import", "--sites", s, NULL, NULL, NULL, NULL, NULL);
	CHECKF(p.status == 1, "exit %d", p.status);
	CHECKF(strstr(p.err, "sites.csv:1:3:") != NULL, "stderr: %s", th_flat(p.err));
	th_proc_free(&p);
	char *b = snapshot("lis");
	CHECK_STR(b, a);
	free(a);
	free(b);
}

static void test_ipv4_longest_prefix_wins(void)
{
	char *v = lookup("127.1.2.3");
	CHECK_STR(v, "lab-bench");
	free(v);
	v = lookup("127.1.9.9");
	CHECK_STR(v, "campus");
	free(v);
	v = lookup("127.0.0.1");
	CHECK_STR(v, "hq-410");
	free(v);
	v = lookup("127.0.0.2");
	CHECK_STR(v, "(none)");
	free(v);
}

static void test_ipv6_longest_prefix_wins(void)
{
	char *v = lookup("2001:db8:1::5");
	CHECK_STR(v, "lab-bench");
	free(v);
	v = lookup("2001:db8:2::5");
	CHECK_STR(v, "campus");
	free(v);
	v = lookup("::1");
	CHECK_STR(v, "hq-geo");
	free(v);
	v = lookup("2001:db9::1");
	CHECK_STR(v, "(none)");
	free(v);
}

/* Query-log retention: old entries go, each instance's newest stays (its numbering goes
 * on), --dry-run only counts, and what is not a retention period is refused. */
static void test_purge_deletes_old_entries_but_each_instances_newest(void)
{
	/* a: 3 entries 400 days old and its newest 10 days old; b: only 2 old ones */
	CHECK(th_pg_exec(&pg, "lis", "INSERT INTO query_log (instance, seq, at, kind, result) "
			 "SELECT 'purge-a', g, now() - interval '400 days', 'held', 'located' "
			 "FROM generate_series(1, 3) g UNION ALL "
			 "SELECT 'purge-a', 4, now() - interval '10 days', 'held', 'located' "
			 "UNION ALL SELECT 'purge-b', g, now() - interval '500 days', 'held', "
			 "'locationUnknown' FROM generate_series(1, 2) g") == 0);
	const char *count = "SELECT count(*) FROM query_log WHERE instance LIKE 'purge-%'";
	struct th_proc p;
	ctl(&p, pg.conninfo, "purge", "--older-than", "365", "--dry-run", NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0 && strstr(p.out, "would purge 4 query-log entries"), "%s",
	       th_flat(p.out));
	th_proc_free(&p);
	CHECK(th_pg_count(&pg, count) == 6);
	ctl(&p, pg.conninfo, "purge", "--older-than=365", NULL, NULL, NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0 && strstr(p.out, "purged 4 query-log entries"), "%s",
	       th_flat(p.out));
	th_proc_free(&p);
	CHECK(th_pg_count(&pg, count) == 2);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM query_log WHERE (instance, seq) IN "
			  "(('purge-a', 4), ('purge-b', 2))") == 2);
	/* by date: a's newest is the newest, so it stays whatever the date */
	ctl(&p, pg.conninfo, "purge", "--before", "2999-01-01", NULL, NULL, NULL, NULL, NULL);
	CHECK(p.status == 2 && strstr(p.err, "in the future"));
	th_proc_free(&p);
	static const char *const bad[][2] = {{"--older-than", "0"}, {"--older-than", "ten"},
		{"--before", "yesterday"}};
	for (size_t i = 0; i < 3; i++) {
		ctl(&p, pg.conninfo, "purge", bad[i][0], bad[i][1], NULL, NULL, NULL, NULL, NULL);
		CHECKF(p.status == 2, "%s %s: exit %d", bad[i][0], bad[i][1], p.status);
		th_proc_free(&p);
	}
	ctl(&p, pg.conninfo, "purge", NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	CHECK(p.status == 2 && strstr(p.err, "--older-than or --before"));
	th_proc_free(&p);
	CHECK(th_pg_count(&pg, count) == 2);
}

/* The notifications go with the query log: an old one whose deliveries are done goes with
 * them and their log; an old one still pending, and a recent one, stay. */
static void test_purge_takes_old_notifications_not_pending_ones(void)
{
	CHECK(th_pg_exec(&pg, "lis",
			 "WITH n AS (INSERT INTO notification (target, test, first_at, window_end, "
			 "instance, seq, response_time, result) VALUES "
			 "('ip:192.0.2.1', false, now() - interval '400 days', "
			 "now() - interval '400 days' + interval '1 minute', 'p', 1, "
			 "'emergencyRouting', 'located'), "
			 "('ip:192.0.2.2', false, now() - interval '400 days', "
			 "now() - interval '400 days' + interval '1 minute', 'p', 2, "
			 "'emergencyRouting', 'located'), "
			 "('ip:192.0.2.3', false, now() - interval '1 day', "
			 "now() - interval '1 day' + interval '1 minute', 'p', 3, "
			 "'emergencyRouting', 'located') RETURNING id, seq), "
			 "d AS (INSERT INTO notify_delivery (notification_id, channel, recipient, "
			 "state) SELECT id, 'syslog', 'syslog', CASE WHEN seq = 2 THEN 'pending' "
			 "ELSE 'delivered' END FROM n RETURNING id, notification_id) "
			 "INSERT INTO notify_log (at, delivery_id, notification_id, channel, recipient, "
			 "test, outcome, sender) SELECT now() - interval '400 days', id, "
			 "notification_id, 'syslog', 'syslog', false, 'delivered', 'p' FROM d "
			 "UNION ALL SELECT now() - interval '400 days', NULL, NULL, 'mail', "
			 "'d@example.org', true, 'delivered', 'lisctl'") == 0);
	struct th_proc p;
	ctl(&p, pg.conninfo, "purge", "--older-than", "365", "--dry-run", NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0 && strstr(p.out, "would purge 1 notifications"), "%s",
	       th_flat(p.out));
	th_proc_free(&p);
	ctl(&p, pg.conninfo, "purge", "--older-than", "365", NULL, NULL, NULL, NULL, NULL);
	CHECKF(p.status == 0 && strstr(p.out, "purged 1 notifications"), "%s", th_flat(p.out));
	th_proc_free(&p);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM notification WHERE target IN "
			  "('ip:192.0.2.2', 'ip:192.0.2.3')") == 2);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM notification") == 2);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM notify_delivery") == 2);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM notify_log") == 2);
	CHECK(th_pg_count(&pg, "SELECT count(*) FROM notify_log WHERE sender = 'lisctl'") == 0);
}

int main(void)
{
	t_run("setup_postgresql_cluster", test_setup_postgresql_cluster);
	t_run("help_and_version_exit_0", test_help_and_version_exit_0);
	t_run("no_command_is_usage_error_exit_2", test_no_command_is_usage_error_exit_2);
	if (!pg_up) {
		t_skip("database cases", "PostgreSQL did not start");
		return t_done();
	}
	t_run("migrate_fresh_database_applies_all", test_migrate_fresh_database_applies_all);
	t_run("migrate_again_applies_0", test_migrate_again_applies_0);
	t_run("db_status_shows_current_version", test_db_status_shows_current_version);
	t_run("db_status_sees_a_migration_missing_in_the_middle",
	      test_db_status_sees_a_migration_missing_in_the_middle);
	t_run("conninfo_from_env_LIS_DB", test_conninfo_from_env_LIS_DB);
	t_run("import_deploy_sample_and_reimport_changes_nothing",
	      test_import_deploy_sample_and_reimport_changes_nothing);
	t_run("import_fixture_writes_every_row", test_import_fixture_writes_every_row);
	t_run("reimport_same_files_changes_nothing", test_reimport_same_files_changes_nothing);
	t_run("bad_prefix_on_line_4_writes_nothing", test_bad_prefix_on_line_4_writes_nothing);
	t_run("unknown_location_reference_writes_nothing",
	      test_unknown_location_reference_writes_nothing);
	t_run("unknown_site_reference_writes_nothing", test_unknown_site_reference_writes_nothing);
	t_run("unknown_column_is_an_error_on_line_1", test_unknown_column_is_an_error_on_line_1);
	t_run("ipv4_longest_prefix_wins", test_ipv4_longest_prefix_wins);
	t_run("ipv6_longest_prefix_wins", test_ipv6_longest_prefix_wins);
	t_run("purge_deletes_old_entries_but_each_instances_newest",
	      test_purge_deletes_old_entries_but_each_instances_newest);
	t_run("purge_takes_old_notifications_not_pending_ones",
	      test_purge_takes_old_notifications_not_pending_ones);
	int rc = t_done();
	th_pg_stop(&pg);
	return rc;
}
