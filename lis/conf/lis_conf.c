#include "lis_conf.h"
#include "lis_priv.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lis_acl.h"
#include "lis_recipients.h"

#define OFF(f) offsetof(struct lis_config, f)

static conftab_check_fn check_addr, check_urlpath, check_domain, check_addrlist,
	check_subjects, check_uri_base, check_instance, check_recipients, check_mail_server,
	check_mail_from, check_ldap_uri, check_https_uri;

static const char *const deref_names[] = { "possession", "authorized" };
static const int deref_values[] = { LIS_DEREF_POSSESSION, LIS_DEREF_AUTHORIZED };
static const struct conftab_enum deref_choices = { deref_names, deref_values, 2,
						   "possession or authorized" };

/* The one table of configuration keys. Man page lis.conf(5) and deploy/lis.conf.example
 * follow it; keep them in step. */
static const struct conftab_key keys[] = {
	{ "server", "listen", CONFTAB_STR, OFF(listen), "127.0.0.1", 0, 0, NULL, "ADDR",
	  "address to bind (IPv4 or IPv6 literal)", .flags = CONFTAB_NONEMPTY,
	  .check = check_addr },
	{ "server", "port", CONFTAB_UINT, OFF(port), "8443", 1, 65535, NULL, "PORT",
	  "TCP port for HTTPS", .flags = 0 },
	{ "server", "held_path", CONFTAB_STR, OFF(held_path), "/held", 0, 0, NULL, "PATH",
	  "URL path that accepts HELD requests", .flags = CONFTAB_NONEMPTY,
	  .check = check_urlpath },
	{ "server", "tls_cert", CONFTAB_PATH, OFF(tls_cert), "/etc/lis/tls/cert.pem", 0, 0, NULL,
	  "FILE", "TLS certificate chain (PEM), server certificate first", .flags = 0 },
	{ "server", "tls_key", CONFTAB_PATH, OFF(tls_key), "/etc/lis/tls/key.pem", 0, 0, NULL,
	  "FILE", "TLS private key (PEM, unencrypted); never logged", .flags = 0 },
	{ "server", "user", CONFTAB_STR, OFF(user), "", 0, 0, NULL, "NAME",
	  "started as root: run as this user once bound and keys read; empty: as started",
	  .check = lis_priv_check_user },
	{ "server", "group", CONFTAB_STR, OFF(group), "", 0, 0, NULL, "NAME",
	  "the group to run as with user; empty: the user's own",
	  .check = lis_priv_check_group },
	{ "server", "threads", CONFTAB_UINT, OFF(threads), "4", 1, 256, NULL, "N",
	  "worker threads (libmicrohttpd thread pool)", .flags = 0 },
	{ "server", "max_body", CONFTAB_UINT, OFF(max_body), "65536", 256, 16777216, NULL,
	  "BYTES", "largest request body accepted; larger gets 413", .flags = 0 },
	{ "server", "timeout", CONFTAB_UINT, OFF(timeout), "30", 1, 3600, NULL, "SECONDS",
	  "close connections idle this long", .flags = 0 },
	{ "server", "handshake_timeout", CONFTAB_UINT, OFF(handshake_timeout), "10", 1, 3600,
	  NULL, "SECONDS", "cut a connection that has not sent its first request this long after "
	  "it was accepted (TCP, TLS handshake, headers), however it trickles", .flags = 0 },
	{ "server", "max_connections", CONFTAB_UINT, OFF(max_connections), "4096", 1, 1000000,
	  NULL, "N", "connections open at once, all clients together; more wait to be accepted",
	  .flags = 0 },
	{ "server", "max_connections_per_address", CONFTAB_UINT,
	  OFF(max_connections_per_address), "64", 0, 1000000, NULL, "N",
	  "connections open at once from one client address; 0: no limit of its own",
	  .flags = 0 },
	{ "server", "drain", CONFTAB_UINT, OFF(drain), "0", 0, 600, NULL, "SECONDS",
	  "on SIGTERM, /readyz says 503 and lisd goes on answering this long before it stops",
	  .flags = 0 },
	{ "server", "proxy_from", CONFTAB_STR, OFF(proxy_from), "", 0, 0, NULL, "LIST",
	  "load balancers (addresses, CIDR prefixes) whose connections begin with a PROXY "
	  "protocol v2 header naming the client; empty: none", .check = check_addrlist },
	{ "database", "conninfo", CONFTAB_STR, OFF(conninfo), "dbname=lis", 0, 0, NULL,
	  "CONNINFO", "libpq connection string; never logged", .flags = 0 },
	{ "database", "read_conninfo", CONFTAB_STR, OFF(read_conninfo), "", 0, 0, NULL,
	  "CONNINFO", "where the wiremap loader reads (a standby will do); empty: conninfo",
	  .flags = 0 },
	{ "wiremap", "max_binding_age", CONFTAB_UINT, OFF(max_binding_age), "86400", 1,
	  315360000, NULL, "SECONDS", "older observed bindings are not evidence", .flags = 0 },
	{ "auth", "client_ca", CONFTAB_STR, OFF(client_ca), "", 0, 0, NULL, "FILE",
	  "PEM CA bundle; set: clients are asked for a certificate", .flags = 0 },
	{ "auth", "allowed_subjects", CONFTAB_STR, OFF(allowed_subjects), "", 0, 0, NULL, "DNS",
	  "';'-separated certificate subject DNs that may ask third-party requests",
	  .check = check_subjects },
	{ "auth", "allowed_addresses", CONFTAB_STR, OFF(allowed_addresses), "", 0, 0, NULL,
	  "LIST", "comma-separated addresses or CIDR prefixes that may ask third-party requests",
	  .check = check_addrlist },
	{ "held", "domain", CONFTAB_STR, OFF(domain), "lis.invalid", 0, 0, NULL, "DOMAIN",
	  "presence entity is pres:<random id>@DOMAIN", .flags = CONFTAB_NONEMPTY,
	  .check = check_domain },
	{ "held", "retention", CONFTAB_UINT, OFF(retention), "86400", 0, 315360000, NULL,
	  "SECONDS", "gbp:retention-expiry is this long after the answer", .flags = 0 },
	{ "held", "retransmission_allowed", CONFTAB_BOOL, OFF(retransmission_allowed), "true",
	  0, 0, NULL, "BOOL", "value of gbp:retransmission-allowed", .flags = 0 },
	{ "held", "uri_base", CONFTAB_STR, OFF(uri_base), "", 0, 0, NULL, "URI",
	  "location URIs are URI + token, e.g. https://lis.example.net:8443/loc/; empty: none",
	  .check = check_uri_base },
	{ "held", "uri_key_file", CONFTAB_STR, OFF(uri_key_file), "", 0, 0, NULL, "FILE",
	  "location URI key (64 hex digits) shared by all lisd; empty: random per start", .flags = 0 },
	/* RFC 5985 §6.5.2: expires "is RECOMMENDED not to exceed 24 hours", and anyone holding a
	 * URI may follow the device until then (RFC 6753 §4.1): more is refused, not warned of */
	{ "held", "uri_lifetime", CONFTAB_UINT, OFF(uri_lifetime), "1800", 1, 86400, NULL,
	  "SECONDS", "how long a location URI is valid (at most 24 hours)", .flags = 0,
	  .range_why = "(RFC 5985 section 6.5.2: a location URI should expire within 24 hours)" },
	{ "held", "deref_auth", CONFTAB_ENUM, OFF(deref_auth), "possession", 0, 0, NULL,
	  "possession|authorized", "who may dereference location URIs",
	  .choices = &deref_choices },
	/* RFC 5985 §6.6: "The LIS MUST NOT include any means of identifying the Device in the
	 * PIDF-LO unless ... inclusion of identity is expressly permitted by a Rule Maker": off
	 * unless the operator, as Rule Maker, turns it on */
	{ "privacy", "include_device_id", CONFTAB_BOOL, OFF(include_device_id), "false", 0, 0,
	  NULL, "BOOL", "name the device (dm:deviceID mac:...) in the PIDF-LO; RFC 5985 6.6 says "
	  "only where a Rule Maker expressly permits it", .flags = 0 },
	{ "querylog", "enabled", CONFTAB_BOOL, OFF(querylog_enabled), "true", 0, 0, NULL, "BOOL",
	  "log every HELD answer and dereference to table query_log", .flags = 0 },
	{ "querylog", "spool_dir", CONFTAB_PATH, OFF(querylog_spool_dir), "/var/lib/lis/spool",
	  0, 0, NULL, "DIR",
	  "durable spool of log entries not yet in PostgreSQL (one file per instance)", .flags = 0 },
	{ "querylog", "instance", CONFTAB_STR, OFF(querylog_instance), "", 0, 0, NULL, "NAME",
	  "this lisd's name in the log (letters, digits, . _ -); empty: the host name",
	  .check = check_instance },
	{ "querylog", "batch", CONFTAB_UINT, OFF(querylog_batch), "500", 1, 10000, NULL, "N",
	  "log entries per statement (a COPY)", .flags = 0 },
	{ "querylog", "queue", CONFTAB_UINT, OFF(querylog_queue), "32768", 16, 1048576, NULL, "N",
	  "log entries held in memory before the spool (1 KB each); when full, answers wait for "
	  "the spool's disk", .flags = 0 },
	{ "querylog", "flush_ms", CONFTAB_UINT, OFF(querylog_flush_ms), "200", 1, 60000, NULL,
	  "MS", "longest wait before a partial batch is spooled and inserted", .flags = 0 },
	/* lisd(8) NOTIFICATIONS: the security desk hears of every emergency call */
	{ "notify", "enabled", CONFTAB_BOOL, OFF(notify_enabled), "false", 0, 0, "notify",
	  "BOOL", "notify recipients of emergency answers (needs [querylog] enabled)",
	  .flags = 0 },
	{ "notify", "window", CONFTAB_UINT, OFF(notify_window), "60", 1, 86400, "notify-window",
	  "SECONDS", "a target's emergency queries within this long of its first make one "
	  "notification", .flags = 0 },
	{ "notify", "recipients", CONFTAB_STR, OFF(notify_recipients), "", 0, 0,
	  "notify-recipients", "RULES",
	  "'SITE = CHANNEL[:ADDRESS], ...; ...': webhook:URL, mail:ADDRESS, syslog; SITE * for "
	  "the rest", .check = check_recipients },
	{ "notify", "webhook_ca", CONFTAB_STR, OFF(notify_webhook_ca), "", 0, 0,
	  "notify-webhook-ca", "FILE", "PEM CA bundle webhook servers must verify against; "
	  "empty: the system's", .flags = 0 },
	{ "notify", "webhook_secret_file", CONFTAB_STR, OFF(notify_webhook_secret_file), "", 0,
	  0, "notify-webhook-secret-file", "FILE",
	  "key of the X-LIS-Signature HMAC-SHA256 (first line); never logged", .flags = 0 },
	{ "notify", "mail_server", CONFTAB_STR, OFF(notify_mail_server), "", 0, 0,
	  "notify-mail-server", "URL", "smtp://HOST[:PORT] of the mail relay (STARTTLS "
	  "required)", .check = check_mail_server },
	{ "notify", "mail_ca", CONFTAB_STR, OFF(notify_mail_ca), "", 0, 0, "notify-mail-ca",
	  "FILE", "PEM CA bundle the mail server must verify against; empty: the system's",
	  .flags = 0 },
	{ "notify", "mail_from", CONFTAB_STR, OFF(notify_mail_from), "", 0, 0,
	  "notify-mail-from", "ADDRESS", "sender of notification mail", .check = check_mail_from },
	{ "notify", "syslog_socket", CONFTAB_PATH, OFF(notify_syslog_socket), "/dev/log", 0, 0,
	  "notify-syslog-socket", "FILE", "datagram socket of the syslog channel", .flags = 0 },
	{ "notify", "timeout", CONFTAB_UINT, OFF(notify_timeout), "10", 1, 300,
	  "notify-timeout", "SECONDS", "longest one delivery attempt may take", .flags = 0 },
	{ "notify", "attempts", CONFTAB_UINT, OFF(notify_attempts), "20", 1, 1000,
	  "notify-attempts", "N", "attempts of one delivery before it is given up as failed",
	  .flags = 0 },
	{ "notify", "retry_min", CONFTAB_UINT, OFF(notify_retry_min), "2", 1, 3600,
	  "notify-retry-min", "SECONDS", "wait before the first retry; doubled after each",
	  .flags = 0 },
	{ "notify", "retry_max", CONFTAB_UINT, OFF(notify_retry_max), "300", 1, 86400,
	  "notify-retry-max", "SECONDS", "longest wait between two attempts", .flags = 0 },
	/* lisd(8) TEST MODE: answered as any request, flagged test in the log */
	{ "test", "addresses", CONFTAB_STR, OFF(test_addresses), "", 0, 0, "test-addresses",
	  "LIST", "comma-separated addresses or CIDR prefixes whose requests are tests",
	  .check = check_addrlist },
	{ "test", "subjects", CONFTAB_STR, OFF(test_subjects), "", 0, 0, "test-subjects", "DNS",
	  "';'-separated client certificate subject DNs whose requests are tests",
	  .check = check_subjects },
	{ "test", "header", CONFTAB_BOOL, OFF(test_header), "false", 0, 0, "test-header", "BOOL",
	  "a request with the header \"LIS-Test: 1\" is a test", .flags = 0 },
	{ "log", "target", CONFTAB_LOG_TARGET, OFF(log_target), "stderr", 0, 0, NULL,
	  "stderr|syslog", "where log lines go", .flags = 0 },
	{ "log", "level", CONFTAB_LOG_LEVEL, OFF(log_level), "info", 0, 0, NULL,
	  "err|warn|info|debug", "most verbose level written", .flags = 0 },
	/* The admin listener (lisd(8) ADMIN LISTENER): /healthz, /readyz, /metrics over HTTPS
	 * with [server]'s certificate; loopback only unless remote = true */
	{ "admin", "listen", CONFTAB_STR, OFF(admin_listen), "127.0.0.1", 0, 0, "admin-listen",
	  "ADDR",
	  "address of the admin listener (loopback unless remote = true)",
	  .flags = CONFTAB_NONEMPTY, .check = check_addr },
	{ "admin", "port", CONFTAB_UINT, OFF(admin_port), "9444", 0, 65535, "admin-port",
	  "PORT",
	  "TCP port of the admin listener (HTTPS); 0: none", .flags = 0 },
	{ "admin", "remote", CONFTAB_BOOL, OFF(admin_remote), "false", 0, 0, "admin-remote",
	  "BOOL",
	  "accept a listen address other than loopback (metrics are not authenticated)",
	  .flags = 0 },
	/* The self-service page and API (lisd(8) SELF-SERVICE): users declare where they are
	 * when away from the offices; HTTPS with [server]'s certificate */
	{ "selfservice", "listen", CONFTAB_STR, OFF(web_listen), "127.0.0.1", 0, 0,
	  "selfservice-listen", "ADDR", "address of the self-service listener",
	  .flags = CONFTAB_NONEMPTY, .check = check_addr },
	{ "selfservice", "port", CONFTAB_UINT, OFF(web_port), "0", 0, 65535, "selfservice-port",
	  "PORT", "TCP port of the self-service page and API (HTTPS); 0: none", .flags = 0 },
	{ "selfservice", "session_lifetime", CONFTAB_UINT, OFF(web_session_lifetime), "28800",
	  60, 2592000, "selfservice-session-lifetime", "SECONDS",
	  "how long a sign-in lasts", .flags = 0 },
	{ "selfservice", "signin_rate", CONFTAB_UINT, OFF(web_signin_rate), "10", 1, 10000,
	  "selfservice-signin-rate", "N",
	  "sign-in attempts a minute from one address, and for one user name; more get 429",
	  .flags = 0 },
	{ "selfservice", "max_body", CONFTAB_UINT, OFF(web_max_body), "16384", 1024, 1048576,
	  "selfservice-max-body", "BYTES", "largest request body; larger gets 413", .flags = 0 },
	{ "ldap", "uri", CONFTAB_STR, OFF(ldap_uri), "", 0, 0, "ldap-uri", "URI",
	  "ldaps://HOST[:PORT], or ldap://HOST[:PORT] with StartTLS (required); empty: no LDAP "
	  "sign-in", .check = check_ldap_uri },
	{ "ldap", "ca_file", CONFTAB_STR, OFF(ldap_ca_file), "", 0, 0, "ldap-ca-file", "FILE",
	  "PEM CA bundle the directory's certificate must verify against; empty: the system's",
	  .flags = 0 },
	{ "ldap", "bind_dn", CONFTAB_STR, OFF(ldap_bind_dn), "", 0, 0, "ldap-bind-dn", "DN",
	  "the user's DN, %u the user name (e.g. uid=%u,ou=people,dc=example,dc=com); empty: "
	  "search_base and search_filter find it", .flags = 0 },
	{ "ldap", "search_base", CONFTAB_STR, OFF(ldap_search_base), "", 0, 0,
	  "ldap-search-base", "DN", "where an anonymous search finds the user's DN",
	  .flags = 0 },
	{ "ldap", "search_filter", CONFTAB_STR, OFF(ldap_search_filter), "(uid=%u)", 0, 0,
	  "ldap-search-filter", "FILTER", "the search's filter, %u the user name (escaped)",
	  .flags = 0 },
	{ "ldap", "timeout", CONFTAB_UINT, OFF(ldap_timeout), "5", 1, 60, "ldap-timeout",
	  "SECONDS", "longest wait for the directory, each operation", .flags = 0 },
	{ "oidc", "issuer", CONFTAB_STR, OFF(oidc_issuer), "", 0, 0, "oidc-issuer", "URL",
	  "the OpenID Provider (https://...); empty: no \"Sign in with SSO\"",
	  .check = check_https_uri },
	{ "oidc", "client_id", CONFTAB_STR, OFF(oidc_client_id), "", 0, 0, "oidc-client-id",
	  "ID", "lisd's client id at the provider", .flags = 0 },
	{ "oidc", "client_secret_file", CONFTAB_STR, OFF(oidc_client_secret_file), "", 0, 0,
	  "oidc-client-secret-file", "FILE", "the client secret (first line); empty: a public "
	  "client; never logged", .flags = 0 },
	{ "oidc", "redirect_uri", CONFTAB_STR, OFF(oidc_redirect_uri), "", 0, 0,
	  "oidc-redirect-uri", "URL", "https://HOST:PORT/signin/oidc/callback as registered",
	  .check = check_https_uri },
	{ "oidc", "user_claim", CONFTAB_STR, OFF(oidc_user_claim), "email", 0, 0,
	  "oidc-user-claim", "CLAIM", "the ID token's claim that is the user name",
	  .flags = CONFTAB_NONEMPTY },
	{ "oidc", "ca_file", CONFTAB_STR, OFF(oidc_ca_file), "", 0, 0, "oidc-ca-file", "FILE",
	  "PEM CA bundle the provider must verify against; empty: the system's", .flags = 0 },
};

const struct conftab_table lis_conf_table = { keys, sizeof keys / sizeof keys[0], NULL, NULL,
					     NULL, NULL };

static int check_addr(const struct conftab_key *k, const char *v, char *why, size_t why_size)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, v, tmp) != 1 && inet_pton(AF_INET6, v, tmp) != 1) {
		snprintf(why, why_size, "%s: \"%.64s\" is not an IPv4 or IPv6 address", k->name, v);
		return -1;
	}
	return 0;
}

/* "/..." without spaces or control bytes */
static int check_urlpath(const struct conftab_key *k, const char *v, char *why,
			 size_t why_size)
{
	bool ok = v[0] == '/' && strlen(v) < 256;
	for (const char *p = v; *p && ok; p++)
		ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != '?' && *p != '#';
	if (!ok) {
		snprintf(why, why_size,
			 "%s: \"%.64s\" is not a URL path (starts with /, no spaces, ? or #)",
			 k->name, v);
		return -1;
	}
	return 0;
}

static int check_domain(const struct conftab_key *k, const char *v, char *why,
			size_t why_size)
{
	bool ok = strlen(v) <= 253;
	for (const char *p = v; *p && ok; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.';
	if (!ok) {
		snprintf(why, why_size, "%s: \"%.64s\" is not a domain name", k->name, v);
		return -1;
	}
	return 0;
}

/* addresses and CIDR prefixes, comma-separated */
static int check_addrlist(const struct conftab_key *k, const char *v, char *why,
			  size_t why_size)
{
	struct lis_acl acl;
	char w[160];
	if (lis_acl_parse(v, &acl, w, sizeof w) < 0) {
		snprintf(why, why_size, "%s: %s", k->name, w);
		return -1;
	}
	lis_acl_free(&acl);
	return 0;
}

/* subject DNs, ';'-separated */
static int check_subjects(const struct conftab_key *k, const char *v, char *why,
			  size_t why_size)
{
	struct lis_subjects subj;
	char w[160];
	if (lis_subjects_parse(v, &subj, w, sizeof w) < 0) {
		snprintf(why, why_size, "%s: %s", k->name, w);
		return -1;
	}
	lis_subjects_free(&subj);
	return 0;
}

static int check_recipients(const struct conftab_key *k, const char *v, char *why,
			    size_t why_size)
{
	struct lis_recipients rs;
	char w[200];
	if (lis_recipients_parse(v, &rs, w, sizeof w) < 0) {
		snprintf(why, why_size, "%s: %s", k->name, w);
		return -1;
	}
	lis_recipients_free(&rs);
	return 0;
}

/* Whether v is SCHEME://HOST[:PORT] with one of schemes and nothing after it. */
static bool is_host_url(const char *v, const char *const *schemes)
{
	size_t skip = 0;
	for (; *schemes && !skip; schemes++)
		if (strncasecmp(v, *schemes, strlen(*schemes)) == 0)
			skip = strlen(*schemes);
	bool ok = skip && v[skip] && strlen(v) < 256;
	for (const char *p = v + skip; *p && ok; p++)
		ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != '/' &&
		     *p != '@' && *p != '?' && *p != '#';
	return ok;
}

/* "" or smtp://host[:port] with nothing after it: STARTTLS is asked for on it (smtps:// would
 * be TLS from the first byte, which libcurl also does; one form keeps the man page short). */
static int check_mail_server(const struct conftab_key *k, const char *v, char *why,
			     size_t why_size)
{
	if (v[0] && !is_host_url(v, (const char *const[]){"smtp://", NULL})) {
		snprintf(why, why_size, "%s: \"%.64s\" is not smtp://HOST[:PORT]", k->name, v);
		return -1;
	}
	return 0;
}

static int check_mail_from(const struct conftab_key *k, const char *v, char *why,
			   size_t why_size)
{
	char line[300];
	struct lis_recipients rs;
	snprintf(line, sizeof line, "x = mail:%.200s", v);
	if (v[0] && lis_recipients_parse(line, &rs, why, why_size) < 0) {
		snprintf(why, why_size, "%s: \"%.64s\" is not an e-mail address", k->name, v);
		return -1;
	}
	if (v[0])
		lis_recipients_free(&rs);
	return 0;
}

int lis_conf_check_notify(const struct lis_config *cfg, struct lis_error *err)
{
	struct lis_recipients rs;
	char why[200];
	if (!cfg->notify_enabled)
		return 0;
	if (!cfg->querylog_enabled)
		return lis_error_set(err, LIS_E_USAGE, "[notify] enabled = true needs [querylog] "
				     "enabled = true: notifications are made from the query log");
	if (lis_recipients_parse(cfg->notify_recipients, &rs, why, sizeof why) < 0)
		return lis_error_set(err, LIS_E_USAGE, "[notify] recipients: %s", why);
	int rc = 0;
	if (rs.n == 0)
		rc = lis_error_set(err, LIS_E_USAGE, "[notify] enabled = true and recipients is "
				   "empty: nobody would hear of an emergency call");
	else if (lis_recipients_use(&rs, LIS_CH_WEBHOOK) && !cfg->notify_webhook_secret_file[0])
		rc = lis_error_set(err, LIS_E_USAGE, "[notify] recipients has a webhook and "
				   "webhook_secret_file is not set (deliveries are signed)");
	else if (lis_recipients_use(&rs, LIS_CH_MAIL) &&
		 (!cfg->notify_mail_server[0] || !cfg->notify_mail_from[0]))
		rc = lis_error_set(err, LIS_E_USAGE, "[notify] recipients has a mail address: set "
				   "mail_server and mail_from");
	else if (cfg->notify_retry_min > cfg->notify_retry_max)
		rc = lis_error_set(err, LIS_E_USAGE, "[notify] retry_min (%lu) is more than "
				   "retry_max (%lu)", cfg->notify_retry_min, cfg->notify_retry_max);
	lis_recipients_free(&rs);
	return rc;
}

/* "" or ldaps://host[:port] or ldap://host[:port] (StartTLS is then required): no plain
 * text bind is ever made. */
static int check_ldap_uri(const struct conftab_key *k, const char *v, char *why,
			  size_t why_size)
{
	if (v[0] && !is_host_url(v, (const char *const[]){"ldaps://", "ldap://", NULL})) {
		snprintf(why, why_size, "%s: \"%.64s\" is not ldaps://HOST[:PORT] or "
			 "ldap://HOST[:PORT] (StartTLS)", k->name, v);
		return -1;
	}
	return 0;
}

/* "" or https://... without spaces */
static int check_https_uri(const struct conftab_key *k, const char *v, char *why,
			   size_t why_size)
{
	bool ok = !v[0] || (strncasecmp(v, "https://", 8) == 0 && v[8] && strlen(v) < 256);
	for (const char *p = v; *p && ok; p++)
		ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
	if (!ok) {
		snprintf(why, why_size, "%s: \"%.64s\" is not an https:// URL", k->name, v);
		return -1;
	}
	return 0;
}

int lis_conf_check_selfservice(const struct lis_config *cfg, struct lis_error *err)
{
	if (cfg->ldap_uri[0] && !cfg->ldap_bind_dn[0] && !cfg->ldap_search_base[0])
		return lis_error_set(err, LIS_E_USAGE, "[ldap] uri is set: set bind_dn (a "
				     "template with %%u) or search_base");
	if (cfg->ldap_bind_dn[0] && !strstr(cfg->ldap_bind_dn, "%u"))
		return lis_error_set(err, LIS_E_USAGE, "[ldap] bind_dn \"%.64s\" has no %%u "
				     "(the user name)", cfg->ldap_bind_dn);
	if (cfg->oidc_issuer[0] && (!cfg->oidc_client_id[0] || !cfg->oidc_redirect_uri[0]))
		return lis_error_set(err, LIS_E_USAGE, "[oidc] issuer is set: set client_id and "
				     "redirect_uri too");
	if (cfg->web_port && !cfg->ldap_uri[0] && !cfg->oidc_issuer[0])
		return lis_error_set(err, LIS_E_USAGE, "[selfservice] port is set and nobody "
				     "could sign in: set [ldap] uri or [oidc] issuer");
	return 0;
}

/* "" or a name usable in a file name: letters, digits, . _ - */
static int check_instance(const struct conftab_key *k, const char *v, char *why,
			  size_t why_size)
{
	/* It names the spool file: no '/', no leading '.'. */
	bool ok = strlen(v) <= 64 && v[0] != '.';
	for (const char *p = v; *p && ok; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_';
	if (!ok) {
		snprintf(why, why_size,
			 "%s: \"%.64s\" is not a name of at most 64 letters, digits, "
			 ". _ or - (not starting with .)", k->name, v);
		return -1;
	}
	return 0;
}

/* "https://" host [":" port] path, where path starts and ends with '/' and holds no
 * query, fragment, space or control byte: tokens are appended to it. */
static bool uri_base_is_valid(const char *v)
{
	if (strncasecmp(v, "https://", 8) != 0)
		return false;
	const char *host = v + 8;
	const char *path = strchr(host, '/');
	if (!path || path == host || strlen(v) > 200 || v[strlen(v) - 1] != '/')
		return false;
	for (const char *p = host; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '@' || c == '\\' ||
		    c == '"' || c == '<' || c == '>')
			return false;
	}
	return true;
}

/* "" or https://host[:port]/path/ */
static int check_uri_base(const struct conftab_key *k, const char *v, char *why,
			  size_t why_size)
{
	if (v[0] && !uri_base_is_valid(v)) {
		snprintf(why, why_size,
			 "%s: \"%.64s\" is not an https URI ending in / "
			 "(e.g. https://lis.example.net:8443/loc/)", k->name, v);
		return -1;
	}
	return 0;
}

const char *lis_config_deref_path(const struct lis_config *cfg)
{
	if (!cfg->uri_base || !cfg->uri_base[0])
		return NULL;
	return strchr(cfg->uri_base + 8, '/');
}

void lis_config_free(struct lis_config *cfg)
{
	if (!cfg)
		return;
	conftab_free(keys, lis_conf_table.n_keys, cfg);
}

int lis_conf_load(struct lis_config *cfg, const char *path, struct lis_error *err)
{
	memset(cfg, 0, sizeof *cfg);
	if (conftab_set_defaults(&lis_conf_table, cfg, err) < 0)
		return -1;
	if (path && conftab_load_file(&lis_conf_table, cfg, path, err) < 0)
		return -1;
	return 0;
}

