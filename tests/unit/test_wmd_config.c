/* wiremapd configuration (wmd_config.c): defaults, SNMP profiles, command-line twins, and
 * every refusal naming FILE:LINE without echoing a secret. */
#include "check.h"
#include "lis_log.h"
#include "wmd_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

/* Write text to a fresh temporary config file (its name in path). */
static void write_conf(const char *text)
{
	snprintf(path, sizeof path, "/tmp/test_wmd_config.XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!CHECK(f != NULL))
		return;
	fputs(text, f);
	fclose(f);
}

static int load_args(struct wmd_config *cfg, int argc, char **argv, enum wmd_action *action,
		     struct lis_error *err)
{
	FILE *devnull = fopen("/dev/null", "w");
	int rc = wmd_config_load(cfg, argc, argv, devnull, action, NULL, err);
	fclose(devnull);
	return rc;
}

/* Load text as the config file with no other options. */
static int load_text(struct wmd_config *cfg, const char *text, struct lis_error *err)
{
	enum wmd_action action;
	write_conf(text);
	char *argv[] = { "wiremapd", "-c", path, NULL };
	int rc = load_args(cfg, 3, argv, &action, err);
	unlink(path);
	return rc;
}

/* The message must be "PATH:LINE: ..." and hold `want`. */
static void expect_error(const char *text, unsigned line, const char *want)
{
	struct wmd_config cfg;
	struct lis_error err = { 0 };
	int rc = load_text(&cfg, text, &err);
	char prefix[96];
	snprintf(prefix, sizeof prefix, "%s:%u: ", path, line);
	CHECKF(rc < 0, "accepted: %s", text);
	CHECKF(err.code == LIS_E_USAGE, "code %d", err.code);
	CHECKF(strncmp(err.msg, prefix, strlen(prefix)) == 0, "\"%s\" does not start with \"%s\"",
	       err.msg, prefix);
	CHECKF(strstr(err.msg, want) != NULL, "\"%s\" does not hold \"%s\"", err.msg, want);
	wmd_config_free(&cfg);
}

static void test_defaults_follow_the_design(void)
{
	struct wmd_config cfg;
	struct lis_error err = { 0 };
	CHECKF(load_text(&cfg, "; nothing\n", &err) == 0, "%s", err.msg);
	CHECK_STR(cfg.conninfo, "dbname=lis");
	CHECK(cfg.interval == 300);
	CHECK(cfg.jitter > 0.0999 && cfg.jitter < 0.1001);
	CHECK(cfg.concurrency == 32);
	CHECK(cfg.timeout_ms == 2000);
	CHECK(cfg.retries == 2);
	CHECK(cfg.max_backoff == 3600);
	CHECK(cfg.uplink_mac_threshold == 8);
	CHECK(cfg.netlink_enabled);
	CHECK(cfg.netlink_write_interval == 5);
	/* a lone collector always holds the lease: on by default changes nothing for it */
	CHECK(cfg.lease);
	CHECK(cfg.lease_interval == 5);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	CHECK_STR(cfg.instance, host[0] ? host : "wiremapd");
	CHECK(cfg.log_target == LIS_LOG_STDERR);
	CHECK(cfg.log_level == LIS_LOG_INFO);
	CHECK(cfg.n_profiles == 1);
	const struct wmd_snmp_profile *p = wmd_config_profile(&cfg, NULL);
	if (CHECK(p != NULL)) {
		CHECK(p->version == 2);
		CHECK_STR(p->community, "public");
	}
	CHECK(wmd_config_profile(&cfg, "core") == NULL);
	CHECK(!wmd_config_has_secrets(&cfg));
	wmd_config_free(&cfg);
}

static void test_design_example_with_profiles_is_read(void)
{
	struct wmd_config cfg;
	struct lis_error err = { 0 };
	int rc = load_text(&cfg,
		"[database]\nconninfo = host=/tmp dbname=lis\n"
		"[snmp]                      ; the default profile\n"
		"version = 2c\ncommunity = s3cret-ro\n"
		"[snmp.core]\nversion = 3\nuser = lis\nauth_protocol = SHA\n"
		"auth_password = authpass123\npriv_protocol = aes\npriv_password = privpass123\n"
		"[snmp.noauth]\nversion = 3\nuser = watcher\n"
		"[poll]\ninterval = 600\njitter = 0.25\nconcurrency = 4\ntimeout_ms = 500\n"
		"retries = 0\nmax_backoff = 7200\nuplink_mac_threshold = 0\n"
		"[netlink]\nenabled = false\nwrite_interval = 2\n"
		"[log]\ntarget = syslog\nlevel = debug\n", &err);
	CHECKF(rc == 0, "%s", err.msg);
	CHECK_STR(cfg.conninfo, "host=/tmp dbname=lis");
	CHECK(cfg.interval == 600 && cfg.concurrency == 4 && cfg.timeout_ms == 500);
	CHECK(cfg.jitter > 0.2499 && cfg.jitter < 0.2501);
	CHECK(cfg.retries == 0 && cfg.max_backoff == 7200 && cfg.uplink_mac_threshold == 0);
	CHECK(!cfg.netlink_enabled && cfg.netlink_write_interval == 2);
	CHECK(cfg.log_target == LIS_LOG_SYSLOG && cfg.log_level == LIS_LOG_DEBUG);
	CHECK(cfg.n_profiles == 3);
	const struct wmd_snmp_profile *d = wmd_config_profile(&cfg, "");
	const struct wmd_snmp_profile *c = wmd_config_profile(&cfg, "core");
	const struct wmd_snmp_profile *n = wmd_config_profile(&cfg, "noauth");
	if (CHECK(d && c && n)) {
		CHECK_STR(d->community, "s3cret-ro");
		CHECK(c->version == 3);
		CHECK_STR(c->user, "lis");
		CHECK_STR(c->auth_protocol, "SHA");
		CHECK_STR(c->auth_password, "authpass123");
		CHECK_STR(c->priv_protocol, "AES");   /* case folded */
		CHECK_STR(c->priv_password, "privpass123");
		CHECK(n->version == 3 && n->auth_password == NULL && n->priv_password == NULL);
	}
	CHECK(wmd_config_has_secrets(&cfg));
	wmd_config_free(&cfg);
}

static void test_twins_override_the_file_and_flags_set_the_action(void)
{
	struct wmd_config cfg;
	struct lis_error err = { 0 };
	enum wmd_action action;
	write_conf("[poll]\ninterval = 600\n[netlink]\nenabled = true\n");
	char *argv[] = { "wiremapd", "-c", path, "--interval", "120", "--jitter=0",
			 "--netlink", "off", "--timeout-ms", "750", "--once", NULL };
	CHECKF(load_args(&cfg, 11, argv, &action, &err) == 0, "%s", err.msg);
	CHECK(action == WMD_ACTION_ONCE);
	CHECK(cfg.interval == 120);
	CHECK(cfg.jitter == 0.0);
	CHECK(!cfg.netlink_enabled);
	CHECK(cfg.timeout_ms == 750);
	wmd_config_free(&cfg);

	write_conf("[collector]\nlease = true\ninstance = dc-a\nlease_interval = 2\n");
	char *argv3[] = { "wiremapd", "-c", path, "--instance", "dc-b", "--lease", "off",
			  "--lease-interval", "30", NULL };
	CHECKF(load_args(&cfg, 9, argv3, &action, &err) == 0, "%s", err.msg);
	CHECK_STR(cfg.instance, "dc-b");
	CHECK(!cfg.lease);
	CHECK(cfg.lease_interval == 30);
	wmd_config_free(&cfg);

	char opt[96];
	snprintf(opt, sizeof opt, "--config=%s", path);
	char *argv2[] = { "wiremapd", opt, "--check-config", NULL };
	CHECKF(load_args(&cfg, 3, argv2, &action, &err) == 0, "%s", err.msg);
	CHECK(action == WMD_ACTION_CHECK);
	wmd_config_free(&cfg);
	unlink(path);
}

static void test_bad_command_lines_are_refused(void)
{
	struct wmd_config cfg;
	struct lis_error err = { 0 };
	enum wmd_action action;
	char *unknown[] = { "wiremapd", "--community", "x", NULL };
	CHECK(load_args(&cfg, 3, unknown, &action, &err) < 0);
	CHECKF(strstr(err.msg, "unknown option --community") != NULL, "%s", err.msg);
	wmd_config_free(&cfg);
	char *bad[] = { "wiremapd", "-c", "/dev/null", "--concurrency", "0", NULL };
	CHECK(load_args(&cfg, 5, bad, &action, &err) < 0);
	CHECKF(strstr(err.msg, "--concurrency: \"0\" is not a whole number in 1..1024") != NULL,
	       "%s", err.msg);
	wmd_config_free(&cfg);
	char *missing[] = { "wiremapd", "-c", NULL };
	CHECK(load_args(&cfg, 2, missing, &action, &err) < 0);
	wmd_config_free(&cfg);
	char *both[] = { "wiremapd", "-c", "/dev/null", "--once", "--check-config", NULL };
	CHECK(load_args(&cfg, 5, both, &action, &err) < 0);
	wmd_config_free(&cfg);
	char *stray[] = { "wiremapd", "once", NULL };
	CHECK(load_args(&cfg, 2, stray, &action, &err) < 0);
	CHECKF(strstr(err.msg, "unexpected argument") != NULL, "%s", err.msg);
	wmd_config_free(&cfg);
	char *nofile[] = { "wiremapd", "-c", "/nonexistent/wiremapd.conf", NULL };
	CHECK(load_args(&cfg, 3, nofile, &action, &err) < 0);
	CHECKF(strstr(err.msg, "/nonexistent/wiremapd.conf: cannot open") != NULL, "%s", err.msg);
	wmd_config_free(&cfg);
}

static void test_help_and_version(void)
{
	struct wmd_config cfg;
	struct lis_error err = { 0 };
	enum wmd_action action;
	char *help[] = { "wiremapd", "--help", NULL };
	CHECK(load_args(&cfg, 2, help, &action, &err) == 0 && action == WMD_ACTION_HELP);
	wmd_config_free(&cfg);
	char *version[] = { "wiremapd", "-V", NULL };
	CHECK(load_args(&cfg, 2, version, &action, &err) == 0 && action == WMD_ACTION_VERSION);
	wmd_config_free(&cfg);
}

static void test_bad_values_name_file_and_line(void)
{
	expect_error("[poll]\ninterval = 300\njitter = 0.7\n", 3,
		     "jitter: \"0.7\" is not a fraction in 0..0.5");
	expect_error("[poll]\njitter = 1e-1\n", 2, "is not a fraction");
	expect_error("[poll]\n\ninterval = soon\n", 3,
		     "interval: \"soon\" is not a whole number in 10..604800");
	expect_error("[poll]\nretries = -1\n", 2, "retries");
	expect_error("[poll]\nconcurrency = 99999999999999999999999\n", 2, "concurrency");
	expect_error("[netlink]\nenabled = maybe\n", 2, "is not true or false");
	expect_error("[log]\nlevel = loud\n", 2, "is not err, warn, info or debug");
	expect_error("[collector]\nlease_interval = 0\n", 2,
		     "lease_interval: \"0\" is not a whole number in 1..300");
	expect_error("[collector]\ninstance = dc\001a\n", 2, "is not an instance name");
	expect_error("[collector]\nlease = sometimes\n", 2, "is not true or false");
	expect_error("[log]\ntarget = file\n", 2, "is not stderr or syslog");
	expect_error("[poll]\ninterval = 300\ninterval = 301\n", 3,
		     "interval given twice (first on line 2)");
	expect_error("[poll]\nintervall = 300\n", 2, "unknown key \"intervall\" in section [poll]");
	expect_error("; top\n[server]\nport = 1\n", 2, "unknown section [server]");
	expect_error("[database]\nconninfo = x\n[bogus]\n", 3, "unknown section [bogus]");
	expect_error("[poll]\n  interval = 300\n  jitter = 0.1\n", 3, "indented line");
	expect_error("[poll]\nthis is not ini\n", 2, "syntax error");
}

static void test_bad_profiles_name_file_and_line(void)
{
	expect_error("[snmp]\nversion = 1\n", 2, "version: \"1\" is not 2c or 3");
	expect_error("[snmp.core]\nversion = 3\nauth_password = authpass123\n", 2,
		     "[snmp.core]: version 3 needs a user");
	expect_error("[snmp.x]\nversion = 3\nuser = u\nauth_protocol = SHA-1\n", 4,
		     "auth_protocol: \"SHA-1\" is not SHA, SHA-224");
	expect_error("[snmp.x]\nversion = 3\nuser = u\npriv_protocol = 3DES\n", 4,
		     "priv_protocol: \"3DES\" is not AES or DES");
	expect_error("[snmp.x]\nversion = 3\nuser = u\nauth_password = authpass123\n"
		     "priv_password = privpass123\ncommunity = c\n", 6,
		     "community is for version 2c");
	expect_error("[snmp]\ncommunity = c\nuser = u\n", 3,
		     "[snmp]: user is for version 3, but the profile is version 2c");
	expect_error("[snmp.x]\nversion = 3\nuser = u\npriv_password = privpass123\n", 4,
		     "priv_password needs an auth_password");
	expect_error("[snmp.dup]\ncommunity = a\n[poll]\n[snmp.dup]\ncommunity = b\n", 4,
		     "section [snmp.dup] given twice (first on line 1)");
	expect_error("[snmp]\ncommunity = a\n[snmp]\n", 3,
		     "section [snmp] given twice (first on line 1)");
	expect_error("[snmp.bad name]\nversion = 3\n", 1, "a profile name is 1 to 64 of");
	expect_error("[snmp.x]\ncommunity =\n", 2, "community must not be empty");
	expect_error("[snmp.x]\nversion = 3\nuser = u\nsecurity = high\n", 4,
		     "unknown key \"security\" in section [snmp.x]");
}

/* A refused secret is described, never quoted. */
static void test_secrets_never_appear_in_messages(void)
{
	struct wmd_config cfg;
	struct lis_error err = { 0 };
	CHECK(load_text(&cfg, "[snmp.v3]\nversion = 3\nuser = u\nauth_password = Sh0rtPw\n",
			&err) < 0);
	CHECKF(strstr(err.msg, ":4: [snmp.v3]: auth_password is shorter than 8") != NULL, "%s",
	       err.msg);
	CHECKF(strstr(err.msg, "Sh0rtPw") == NULL, "secret in \"%s\"", err.msg);
	wmd_config_free(&cfg);
	CHECK(load_text(&cfg, "[snmp.v3]\nversion = 3\nuser = u\nauth_password = longenough1\n"
			"priv_password = Pr1v\n", &err) < 0);
	CHECKF(strstr(err.msg, ":5: [snmp.v3]: priv_password is shorter than 8") != NULL, "%s",
	       err.msg);
	CHECKF(strstr(err.msg, "Pr1v") == NULL, "secret in \"%s\"", err.msg);
	wmd_config_free(&cfg);
	CHECK(load_text(&cfg, "[snmp]\ncommunity = se\x01cret\n", &err) < 0);
	CHECKF(strstr(err.msg, "community holds a control character") != NULL, "%s", err.msg);
	CHECKF(strstr(err.msg, "cret") == NULL, "secret in \"%s\"", err.msg);
	wmd_config_free(&cfg);
}

int main(void)
{
	t_run("test_defaults_follow_the_design", test_defaults_follow_the_design);
	t_run("test_design_example_with_profiles_is_read",
	      test_design_example_with_profiles_is_read);
	t_run("test_twins_override_the_file_and_flags_set_the_action",
	      test_twins_override_the_file_and_flags_set_the_action);
	t_run("test_bad_command_lines_are_refused", test_bad_command_lines_are_refused);
	t_run("test_help_and_version", test_help_and_version);
	t_run("test_bad_values_name_file_and_line", test_bad_values_name_file_and_line);
	t_run("test_bad_profiles_name_file_and_line", test_bad_profiles_name_file_and_line);
	t_run("test_secrets_never_appear_in_messages", test_secrets_never_appear_in_messages);
	return t_done();
}
