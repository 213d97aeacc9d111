/* lis.conf read by lisctl (ctl_settings_read) and by lisd (lis_config_load) through the one
 * key table of lis/conf: the same values, the same defaults, and for a bad file the same
 * "FILE:LINE: reason" with the same code. */
#include "check.h"
#include "ctl.h"
#include "lis_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

/* Write text to a fresh temporary config file (its name in path). */
static void write_conf(const char *text)
{
	snprintf(path, sizeof path, "/tmp/test_lis_conf_shared.XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!CHECK(f != NULL))
		return;
	fputs(text, f);
	fclose(f);
}

/* lisd as started with -c FILE. */
static int lisd_load(const char *file, struct lis_config *cfg, struct lis_error *err)
{
	enum lis_config_action action;
	char *argv[] = { "lisd", "-c", (char *)file, NULL };
	FILE *devnull = fopen("/dev/null", "w");
	int rc = lis_config_load(cfg, 3, argv, devnull, &action, NULL, err);
	fclose(devnull);
	return rc;
}

/* Both read text to the same conninfo and max_binding_age, which are the ones wanted. */
static void check_same_values(const char *text, const char *conninfo, unsigned long age)
{
	struct lis_config cfg;
	struct ctl_settings set;
	struct lis_error err = { 0 }, cerr = { 0 };
	write_conf(text);
	CHECKF(lisd_load(path, &cfg, &err) == 0, "lisd: %s", err.msg);
	CHECKF(ctl_settings_read(NULL, path, &set, &cerr) == 0, "lisctl: %s", cerr.msg);
	CHECK_STR(set.conninfo, cfg.conninfo);
	CHECK_STR(set.conninfo, conninfo);
	CHECK(set.max_binding_age == cfg.max_binding_age);
	CHECK(set.max_binding_age == age);
	ctl_settings_clear(&set);
	lis_config_free(&cfg);
	unlink(path);
}

static void test_lisctl_reads_the_values_lisd_reads(void)
{
	/* lisd-only sections and keys are read too, and do not stop lisctl */
	check_same_values("[server]\nlisten = ::1\nport = 9443\ntls_cert = /x/cert.pem\n"
			  "[database]\nconninfo = host=/run/postgresql dbname=lis_test\n"
			  "[wiremap]\nmax_binding_age = 600\n"
			  "[auth]\nallowed_addresses = 192.0.2.0/24\n"
			  "[held]\nuri_base = https://lis.example.net/loc/\n"
			  "[querylog]\ninstance = a1\n[log]\nlevel = debug\n",
			  "host=/run/postgresql dbname=lis_test", 600);
}

static void test_lisctl_takes_lisd_defaults_for_keys_the_file_lacks(void)
{
	check_same_values("[server]\nport = 8443\n", "dbname=lis", 86400);
}

static void test_db_option_and_LIS_DB_still_override_the_file(void)
{
	write_conf("[database]\nconninfo = dbname=from_file\n");
	struct ctl_settings set;
	struct lis_error err = { 0 };
	CHECKF(ctl_settings_read("dbname=from_option", path, &set, &err) == 0, "%s", err.msg);
	CHECK_STR(set.conninfo, "dbname=from_option");
	ctl_settings_clear(&set);
	setenv("LIS_DB", "dbname=from_env", 1);
	CHECKF(ctl_settings_read(NULL, path, &set, &err) == 0, "%s", err.msg);
	CHECK_STR(set.conninfo, "dbname=from_env");
	ctl_settings_clear(&set);
	unsetenv("LIS_DB");
	unlink(path);
}

/* Both refuse text with the same message (which starts "FILE:LINE: " when line is not 0) and
 * the same code. */
static void check_same_refusal(const char *text, unsigned line)
{
	struct lis_config cfg;
	struct ctl_settings set;
	struct lis_error err = { 0 }, cerr = { 0 };
	write_conf(text);
	CHECKF(lisd_load(path, &cfg, &err) < 0, "lisd took: %s", text);
	CHECKF(ctl_settings_read(NULL, path, &set, &cerr) < 0, "lisctl took: %s", text);
	CHECK_STR(cerr.msg, err.msg);
	CHECK(cerr.code == err.code);
	CHECK(cerr.code == LIS_E_USAGE);
	if (line) {
		char want[100];
		snprintf(want, sizeof want, "%s:%u: ", path, line);
		CHECKF(strncmp(cerr.msg, want, strlen(want)) == 0, "got \"%s\", want prefix %s",
		       cerr.msg, want);
	}
	lis_config_free(&cfg);
	unlink(path);
}

static void test_bad_file_gives_lisctl_and_lisd_the_same_message(void)
{
	/* the keys lisctl uses: lisd's limits 1..315360000 (lisctl took 0 < N <= UINT_MAX) */
	check_same_refusal("[database]\nconninfo = dbname=lis\n[wiremap]\nmax_binding_age = soon\n",
			   4);
	check_same_refusal("[wiremap]\nmax_binding_age = 0\n", 2);
	check_same_refusal("[wiremap]\nmax_binding_age = 315360001\n", 2);
	check_same_refusal("[wiremap]\nmax_binding_age = 600\nmax_binding_age = 700\n", 3);
	/* keys lisctl does not use: the file is lisd's, so lisctl refuses it as lisd would */
	check_same_refusal("[server]\nport = 99999\n", 2);
	check_same_refusal("[auth]\nallowed_addresses = 10.0.0.1/8\n", 2);
	check_same_refusal("[held]\nuri_base = http://lis.example.net/loc/\n", 2);
	check_same_refusal("[wiremap]\nmax_age = 5\n", 2);
	check_same_refusal("[database]\nconninfo = dbname=lis\n[nosuch]\nkey = 1\n", 3);
	check_same_refusal("[database]\nconninfo\n", 2);
}

static void test_missing_file_given_gives_the_same_message(void)
{
	struct lis_config cfg;
	struct ctl_settings set;
	struct lis_error err = { 0 }, cerr = { 0 };
	const char *missing = "/nonexistent/lis.conf";
	CHECK(lisd_load(missing, &cfg, &err) < 0);
	CHECK(ctl_settings_read(NULL, missing, &set, &cerr) < 0);
	CHECK_STR(cerr.msg, err.msg);
	CHECKF(strstr(cerr.msg, "/nonexistent/lis.conf: cannot open") == cerr.msg, "%s",
	       cerr.msg);
	lis_config_free(&cfg);
}

int main(void)
{
	unsetenv("LIS_DB");
	t_run("lisctl_reads_the_values_lisd_reads", test_lisctl_reads_the_values_lisd_reads);
	t_run("lisctl_takes_lisd_defaults_for_keys_the_file_lacks",
	      test_lisctl_takes_lisd_defaults_for_keys_the_file_lacks);
	t_run("db_option_and_LIS_DB_still_override_the_file",
	      test_db_option_and_LIS_DB_still_override_the_file);
	t_run("bad_file_gives_lisctl_and_lisd_the_same_message",
	      test_bad_file_gives_lisctl_and_lisd_the_same_message);
	t_run("missing_file_given_gives_the_same_message",
	      test_missing_file_given_gives_the_same_message);
	return t_done();
}
