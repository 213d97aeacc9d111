/* db_snapshot_load() against a real PostgreSQL, a table larger than one FETCH batch: every
 * row arrives once, though the next batch is asked for before the rows of this one are
 * handed on; a database that goes away in the middle gives a connection error that names
 * the table, and a sink that refuses a row leaves the connection ready for the next load.
 * (That lisd keeps serving its snapshot meanwhile: test_snapshot_outage.) */
#include "check.h"
#include "db.h"
#include "db_snapshot.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Two batches of 10000 exactly: the last FETCH is the empty one. */
#define N_SUBNETS 20000

static struct th_pg pg;
static bool pg_up;
static char loader_ci[600];   /* pg.conninfo with an application_name to find it by */

/* What a sink saw, and what it does on the subnet row numbered at (1-based; 0: nothing). */
struct count {
	long sites, locations, subnets;
	long at;
	enum { AT_NOTHING, AT_TERMINATE, AT_REFUSE } act;
};

static int site_cb(void *ctx, const struct db_rec_site *r, struct lis_error *err)
{
	(void)r, (void)err;
	((struct count *)ctx)->sites++;
	return 0;
}

static int location_cb(void *ctx, const struct db_rec_location *r, struct lis_error *err)
{
	(void)r, (void)err;
	((struct count *)ctx)->locations++;
	return 0;
}

static int subnet_cb(void *ctx, const struct db_rec_subnet *r, struct lis_error *err)
{
	struct count *k = ctx;
	(void)r;
	if (++k->subnets != k->at)
		return 0;
	if (k->act == AT_REFUSE)
		return lis_error_set(err, LIS_E_SYSTEM, "subnet %ld refused by the test", k->at);
	/* The loader's backend goes, and pg_terminate_backend waits until it has. */
	char *t = th_pg_query1(&pg, "SELECT bool_and(pg_terminate_backend(pid, 10000)) FROM "
			       "pg_stat_activity WHERE application_name = 'snapshot-load-test'");
	CHECKF(t && strcmp(t, "t") == 0, "pg_terminate_backend: %s", t ? t : "(failed)");
	free(t);
	return 0;
}

static struct db_snapshot_sink sink_of(struct count *k)
{
	return (struct db_snapshot_sink){.ctx = k, .site = site_cb, .location = location_cb,
					 .subnet = subnet_cb};
}

static void test_setup_postgresql_with_20000_subnets(void)
{
	pg_up = th_pg_start(&pg) == 0;
	if (!CHECK(pg_up))
		return;
	snprintf(loader_ci, sizeof loader_ci, "%s application_name=snapshot-load-test",
		 pg.conninfo);
	struct th_proc p;
	char *a[] = {(char *)th_lisctl_path(), "--db", pg.conninfo, "db", "migrate", NULL};
	th_run(&p, a, NULL, 60);
	pg_up = CHECKF(p.status == 0, "lisctl db migrate: %s", th_flat(p.err));
	th_proc_free(&p);
	if (pg_up)
		pg_up = CHECK(th_pg_exec(&pg, "lis",
			"INSERT INTO site (key, name) VALUES ('s1', 'Site 1');"
			"INSERT INTO location (key, site_id, country)"
			" SELECT 'l1', id, 'US' FROM site;"
			"INSERT INTO subnet (prefix, location_id) SELECT"
			" ('10.' || g / 256 || '.' || g % 256 || '.0/24')::cidr, l.id"
			" FROM generate_series(0, 19999) g, location l") == 0);
}

static struct db_conn *connect_loader(void)
{
	struct lis_error err = {0};
	struct db_conn *c = db_connect(loader_ci, &err);
	CHECKF(c, "connect: %s", err.msg);
	return c;
}

/* Load everything through c: each row once. */
static void check_full_load(struct db_conn *c, const char *when)
{
	struct lis_error err = {0};
	struct count k = {0};
	struct db_snapshot_sink sink = sink_of(&k);
	CHECKF(db_snapshot_load(c, &sink, NULL, &err) == 0, "load %s: %s", when, err.msg);
	CHECK(k.sites == 1 && k.locations == 1);
	CHECKF(k.subnets == N_SUBNETS, "%ld subnets %s", k.subnets, when);
}

/* Load through c with k's action at its subnet row: the load must fail, err says how. */
static void check_stopped_load(struct db_conn *c, struct count *k, struct lis_error *err)
{
	struct db_snapshot_sink sink = sink_of(k);
	CHECK(db_snapshot_load(c, &sink, NULL, err) == -1);
}

static void test_every_row_of_a_table_of_two_batches_arrives_once(void)
{
	struct db_conn *c = connect_loader();
	if (c)
		check_full_load(c, "first");
	db_close(c);
}

static void test_database_gone_mid_load_is_a_connection_error_naming_the_table(void)
{
	struct db_conn *c = connect_loader();
	if (!c)
		return;
	/* in the first batch: the second one is asked for already */
	struct count k = {.at = 5000, .act = AT_TERMINATE};
	struct lis_error err = {0};
	check_stopped_load(c, &k, &err);
	CHECKF(err.code == DB_E_CONNECT, "code %d: %s", err.code, err.msg);
	CHECKF(strncmp(err.msg, "snapshot: subnets: ", 19) == 0, "message: %s", err.msg);
	CHECKF(k.subnets < N_SUBNETS, "%ld subnets after the database went", k.subnets);
	CHECK(!db_is_ok(c));
	t_diag("%s", err.msg);
	db_close(c);
	/* the database itself is fine: a new connection loads everything */
	c = connect_loader();
	if (c)
		check_full_load(c, "on a new connection");
	db_close(c);
}

static void test_refused_row_keeps_its_error_and_the_connection_usable(void)
{
	struct db_conn *c = connect_loader();
	if (!c)
		return;
	struct count k = {.at = 5000, .act = AT_REFUSE};
	struct lis_error err = {0};
	check_stopped_load(c, &k, &err);
	CHECKF(err.code == LIS_E_SYSTEM && strcmp(err.msg, "subnet 5000 refused by the test") == 0,
	       "code %d: %s", err.code, err.msg);
	CHECK(db_is_ok(c));
	/* the FETCH in flight was read and the transaction rolled back: the same connection
	 * loads again */
	check_full_load(c, "on the same connection");
	db_close(c);
}

int main(void)
{
	t_run("setup_postgresql_with_20000_subnets", test_setup_postgresql_with_20000_subnets);
	if (!pg_up) {
		t_skip("load cases", "PostgreSQL did not start");
		th_pg_stop(&pg);
		return t_done();
	}
	t_run("every_row_of_a_table_of_two_batches_arrives_once",
	      test_every_row_of_a_table_of_two_batches_arrives_once);
	t_run("database_gone_mid_load_is_a_connection_error_naming_the_table",
	      test_database_gone_mid_load_is_a_connection_error_naming_the_table);
	t_run("refused_row_keeps_its_error_and_the_connection_usable",
	      test_refused_row_keeps_its_error_and_the_connection_usable);
	int rc = t_done();
	th_pg_stop(&pg);
	return rc;
}
