/* lisd configuration (lis.conf's keys in lis/conf/lis_conf.c, the command line in
 * lis_config.c): the issue-3 keys ([wiremap], [auth], [held] location URIs), their defaults,
 * command-line twins and error messages. */
#include "check.h"
#include "lis_config.h"
#include "lis_uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[64];

/* Write text to a fresh temporary config file (its name in path). */
static void write_conf(const char *text)
{
	snprintf(path, sizeof path, "/tmp/test_lis_config.XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!CHECK(f != NULL))
		return;
	fputs(text, f);
	fclose(f);
}

static int load(struct lis_config *cfg, int argc, char **argv, struct lis_error *err)
{
	enum lis_config_action action;
	FILE *devnull = fopen("/dev/null", "w");
	int rc = lis_config_load(cfg, argc, argv, devnull, &action, NULL, err);
	fclose(devnull);
	return rc;
}

static void test_new_keys_have_design_defaults(void)
{
	struct lis_config cfg;
	struct lis_error err = { 0 };
	write_conf("[server]\nport = 8443\n");
	char *argv[] = { "lisd", "-c", path, NULL };
	CHECKF(load(&cfg, 3, argv, &err) == 0, "%s", err.msg);
	CHECK(cfg.max_binding_age == 86400);
	CHECK_STR(cfg.client_ca, "");
	CHECK_STR(cfg.allowed_subjects, "");
	CHECK_STR(cfg.allowed_addresses, "");
	CHECK_STR(cfg.uri_base, "");
	CHECK_STR(cfg.uri_key_file, "");
	CHECK(cfg.uri_lifetime == 1800);
	CHECK(cfg.deref_auth == LIS_DEREF_POSSESSION);
	CHECK(lis_config_deref_path(&cfg) == NULL);
	/* RFC 5985 §6.6: no device identity in the PIDF-LO unless a Rule Maker permits it */
	CHECK(!cfg.include_device_id);
	lis_config_free(&cfg);
	unlink(path);
}

static void test_new_keys_are_read_from_file_and_twins_override(void)
{
	struct lis_config cfg;
	struct lis_error err = { 0 };
	write_conf("[wiremap]\nmax_binding_age = 600\n"
		   "[auth]\nclient_ca = /etc/lis/tls/clients.pem\n"
		   "allowed_subjects = CN=sbc1.example.net,O=Example; CN=sbc2.example.net,O=Example\n"
		   "allowed_addresses = 192.0.2.10, 2001:db8::/32\n"
		   "[held]\nuri_base = https://lis.example.net:8443/loc/\n"
		   "uri_key_file = /etc/lis/uri.key\nuri_lifetime = 300\n"
		   "deref_auth = authorized\n"
		   "[privacy]\ninclude_device_id = true\n");
	char *argv[] = { "lisd", "-c", path, "--uri-lifetime", "60", "--deref-auth=possession",
			 "--allowed-addresses", "10.0.0.0/8", NULL };
	CHECKF(load(&cfg, 8, argv, &err) == 0, "%s", err.msg);
	CHECK(cfg.include_device_id);
	CHECK(cfg.max_binding_age == 600);
	CHECK_STR(cfg.client_ca, "/etc/lis/tls/clients.pem");
	CHECK_STR(cfg.allowed_subjects,
		  "CN=sbc1.example.net,O=Example; CN=sbc2.example.net,O=Example");
	CHECK_STR(cfg.allowed_addresses, "10.0.0.0/8");
	CHECK_STR(cfg.uri_base, "https://lis.example.net:8443/loc/");
	CHECK_STR(lis_config_deref_path(&cfg), "/loc/");
	CHECK_STR(cfg.uri_key_file, "/etc/lis/uri.key");
	CHECK(cfg.uri_lifetime == 60);
	CHECK(cfg.deref_auth == LIS_DEREF_POSSESSION);
	lis_config_free(&cfg);
	unlink(path);
}

/* Each bad value stops the start with FILE:LINE: and words naming the key. */
static void check_bad(const char *text, unsigned line, const char *words)
{
	struct lis_config cfg;
	struct lis_error err = { 0 };
	write_conf(text);
	char *argv[] = { "lisd", "-c", path, NULL };
	CHECK(load(&cfg, 3, argv, &err) < 0);
	char want[100];
	snprintf(want, sizeof want, "%s:%u: ", path, line);
	CHECKF(strncmp(err.msg, want, strlen(want)) == 0, "got \"%s\", want prefix %s", err.msg,
	       want);
	CHECKF(strstr(err.msg, words) != NULL, "got \"%s\", want %s", err.msg, words);
	lis_config_free(&cfg);
	unlink(path);
}

static void test_bad_values_name_file_line_and_key(void)
{
	check_bad("[held]\nuri_base = http://lis.example.net/loc/\n", 2, "uri_base");
	check_bad("[held]\nuri_base = https://lis.example.net/loc\n", 2, "uri_base");
	check_bad("[held]\nuri_base = https:///loc/\n", 2, "uri_base");
	check_bad("[held]\nuri_base = https://lis.example.net/loc/?x=\n", 2, "uri_base");
	check_bad("[held]\nderef_auth = anyone\n", 2, "deref_auth");
	check_bad("[held]\nuri_lifetime = 0\n", 2, "uri_lifetime");
	/* RFC 5985 §6.5.2: at most 24 hours, and the message says why */
	check_bad("[held]\nuri_lifetime = 86401\n", 2, "uri_lifetime");
	check_bad("[held]\nuri_lifetime = 31536000\n", 2, "within 24 hours");
	check_bad("[wiremap]\nmax_binding_age = -1\n", 2, "max_binding_age");
	check_bad("[auth]\n\nallowed_addresses = 10.0.0.1/8\n", 3, "allowed_addresses");
	check_bad("[auth]\nallowed_subjects = sbc1\n", 2, "allowed_subjects");
	check_bad("[wiremap]\nmax_age = 5\n", 2, "max_age");
}

/* lisd(8) NOTIFICATIONS: a [notify] that could not reach anyone stops the start, saying
 * what is missing; a bad recipient names the key and the line. */
static void check_notify_refused(const char *text, const char *words)
{
	struct lis_config cfg;
	struct lis_error err = { 0 };
	write_conf(text);
	char *argv[] = { "lisd", "-c", path, NULL };
	CHECK(load(&cfg, 3, argv, &err) < 0);
	CHECKF(strstr(err.msg, words) != NULL, "got \"%s\", want %s", err.msg, words);
	lis_config_free(&cfg);
	unlink(path);
}

static void test_notify_without_what_it_needs_is_refused(void)
{
	check_notify_refused("[notify]\nenabled = true\n", "recipients is empty");
	check_notify_refused("[notify]\nenabled = true\nrecipients = * = syslog\n"
			     "[querylog]\nenabled = false\n", "needs [querylog] enabled = true");
	check_notify_refused("[notify]\nenabled = true\n"
			     "recipients = * = webhook:https://desk.example/\n",
			     "webhook_secret_file is not set");
	check_notify_refused("[notify]\nenabled = true\nrecipients = * = mail:d@example.org\n",
			     "set mail_server and mail_from");
	check_notify_refused("[notify]\nenabled = true\nrecipients = * = syslog\n"
			     "retry_min = 60\nretry_max = 10\n", "retry_min (60) is more than");
	check_bad("[notify]\n\nrecipients = hq = pager:1\n", 3, "recipients");
	check_bad("[notify]\nmail_server = smtps://mail.example:465\n", 2, "mail_server");
	check_bad("[test]\naddresses = 10.0.0.1/8\n", 2, "addresses");

	struct lis_config cfg;
	struct lis_error err = { 0 };
	write_conf("[notify]\nenabled = true\nrecipients = hq = syslog\n"
		   "[test]\naddresses = 192.0.2.0/24\nheader = true\n");
	char *argv[] = { "lisd", "-c", path, NULL };
	CHECKF(load(&cfg, 3, argv, &err) == 0, "%s", err.msg);
	CHECK(cfg.notify_enabled && cfg.notify_window == 60 && cfg.notify_attempts == 20);
	CHECK_STR(cfg.notify_syslog_socket, "/dev/log");
	CHECK_STR(cfg.test_addresses, "192.0.2.0/24");
	CHECK(cfg.test_header);
	lis_config_free(&cfg);
	unlink(path);
}

/* lisd(8) SELF-SERVICE: never a plain-text LDAP bind, and a listener nobody could sign in
 * to is refused at start. */
static void test_selfservice_without_a_safe_sign_in_is_refused(void)
{
	check_bad("[ldap]\nuri = http://ldap.example.net\n", 2, "uri");
	check_bad("[ldap]\nuri = ldaps://ldap.example.net/dc=x\n", 2, "uri");
	check_bad("[oidc]\nissuer = http://idp.example.net\n", 2, "issuer");
	check_notify_refused("[selfservice]\nport = 9445\n", "nobody could sign in");
	check_notify_refused("[selfservice]\nport = 9445\n[ldap]\nuri = ldaps://l.example\n",
			     "set bind_dn");
	check_notify_refused("[ldap]\nuri = ldap://l.example\nbind_dn = uid=x,dc=example\n",
			     "has no %u");
	check_notify_refused("[oidc]\nissuer = https://idp.example\n", "client_id");
	struct lis_config cfg;
	struct lis_error err = { 0 };
	write_conf("[selfservice]\nport = 9445\n[ldap]\nuri = ldap://l.example:389\n"
		   "bind_dn = uid=%u,dc=example\n");
	char *argv[] = { "lisd", "-c", path, NULL };
	CHECKF(load(&cfg, 3, argv, &err) == 0, "%s", err.msg);
	CHECK(cfg.web_port == 9445 && cfg.web_signin_rate == 10 && cfg.ldap_timeout == 5);
	CHECK_STR(cfg.ldap_search_filter, "(uid=%u)");
	lis_config_free(&cfg);
	unlink(path);
}

static void test_twin_errors_name_the_option(void)
{
	struct lis_config cfg;
	struct lis_error err = { 0 };
	char *argv[] = { "lisd", "--allowed-addresses", "10.0.0.0/33", NULL };
	CHECK(load(&cfg, 3, argv, &err) < 0);
	CHECKF(strncmp(err.msg, "--allowed-addresses: ", 21) == 0, "%s", err.msg);
	lis_config_free(&cfg);
}

/* A key others may read is refused with its mode and the fix; 0600 and 0640 are read. */
static void test_key_readable_by_others_is_refused(void)
{
	char dir[] = "/tmp/test_lis_config_key.XXXXXX";
	if (!CHECK(mkdtemp(dir) != NULL))
		return;
	char key[128], cert[128];
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	FILE *f = fopen(key, "w");
	if (!CHECK(f != NULL))
		return;
	fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", f);
	fclose(f);
	f = fopen(cert, "w");
	if (!CHECK(f != NULL))
		return;
	fputs("not a certificate\n", f);
	fclose(f);

	struct lis_error err = { 0 };
	char *data = NULL;
	size_t len;
	CHECK(chmod(key, 0644) == 0);
	CHECK(lis_read_secret(key, 4096, &data, &len, &err) < 0 && data == NULL);
	CHECK(err.code == LIS_E_USAGE);
	CHECKF(strstr(err.msg, "mode 0644") && strstr(err.msg, "chmod o-rwx"), "%s", err.msg);
	struct lis_uri_key k;
	CHECK(lis_uri_key_load(key, &k, &err) < 0 && err.code == LIS_E_USAGE);
	CHECKF(strstr(err.msg, "others may read"), "%s", err.msg);
	struct lis_config cfg = { .tls_cert = cert, .tls_key = key };
	char *c = NULL, *kk = NULL;
	CHECK(lis_config_load_tls(&cfg, &c, &kk, &err) < 0);
	CHECKF(strstr(err.msg, "others may read"), "%s", err.msg);
	CHECK(chmod(key, 0606) == 0);   /* written by others is as bad */
	CHECK(lis_read_secret(key, 4096, &data, &len, &err) < 0);
	for (unsigned mode = 0600; mode <= 0640; mode += 040) {
		CHECK(chmod(key, mode) == 0);
		data = NULL;
		CHECKF(lis_read_secret(key, 4096, &data, &len, &err) == 0 && len == 65,
		       "mode %o: %s", mode, err.msg);
		lis_free_secret(data);
		CHECK(lis_uri_key_load(key, &k, &err) == 0);
		lis_uri_key_wipe(&k);
	}
	unlink(key);
	unlink(cert);
	rmdir(dir);
}

/* [server] user and group must exist (by name or number); lisd looks them up at start. */
static void test_user_and_group_must_exist(void)
{
	struct lis_config cfg;
	struct lis_error err = { 0 };
	char *ok[] = { "lisd", "--user", "nobody", "--group", "0", NULL };
	CHECKF(load(&cfg, 5, ok, &err) == 0, "%s", err.msg);
	CHECK_STR(cfg.user, "nobody");
	lis_config_free(&cfg);
	char *bad_user[] = { "lisd", "--user", "no-such-user-4711", NULL };
	CHECK(load(&cfg, 3, bad_user, &err) < 0 && err.code == LIS_E_USAGE);
	CHECKF(strstr(err.msg, "user \"no-such-user-4711\" does not exist"), "%s", err.msg);
	lis_config_free(&cfg);
	char *bad_group[] = { "lisd", "--group", "no-such-group-4711", NULL };
	CHECK(load(&cfg, 3, bad_group, &err) < 0);
	CHECKF(strstr(err.msg, "group \"no-such-group-4711\" does not exist"), "%s", err.msg);
	lis_config_free(&cfg);
}

int main(void)
{
	t_run("new_keys_have_design_defaults", test_new_keys_have_design_defaults);
	t_run("new_keys_are_read_from_file_and_twins_override",
	      test_new_keys_are_read_from_file_and_twins_override);
	t_run("bad_values_name_file_line_and_key", test_bad_values_name_file_line_and_key);
	t_run("notify_without_what_it_needs_is_refused",
	      test_notify_without_what_it_needs_is_refused);
	t_run("selfservice_without_a_safe_sign_in_is_refused",
	      test_selfservice_without_a_safe_sign_in_is_refused);
	t_run("twin_errors_name_the_option", test_twin_errors_name_the_option);
	t_run("key_readable_by_others_is_refused", test_key_readable_by_others_is_refused);
	t_run("user_and_group_must_exist", test_user_and_group_must_exist);
	return t_done();
}
