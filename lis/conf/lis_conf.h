/* lis.conf(5), the file lisd and lisctl share: struct lis_config, the one table of its keys
 * (lis_conf.c: sections, names, limits, defaults, the checks of values) and the reading of the
 * file through the configuration engine (lis_conftab). Both programs read the file here, so
 * they accept the same files and refuse a bad one with the same "FILE:LINE: reason". What
 * needs a running lisd (the command line, the host name, TLS files) stays in lisd. */
#ifndef LIS_CONF_H
#define LIS_CONF_H

#include <stdbool.h>

#include "lis_conftab.h"
#include "lis_error.h"

#define LIS_CONFIG_DEFAULT_FILE "/etc/lis/lis.conf"

/* Who may dereference a location URI (RFC 6753 §4). */
enum lis_deref_auth {
	LIS_DEREF_POSSESSION = 0,     /* anyone holding the URI, for its lifetime */
	LIS_DEREF_AUTHORIZED,         /* only requesters authorized as for third-party requests */
};

struct lis_config {
	/* [server] */
	char *listen;                 /* IPv4 or IPv6 literal */
	unsigned long port;
	char *held_path;              /* starts with '/' */
	char *tls_cert;               /* PEM file */
	char *tls_key;                /* PEM file; its contents never logged */
	unsigned long threads;
	unsigned long max_body;       /* bytes */
	unsigned long timeout;        /* idle connection timeout, seconds */
	unsigned long handshake_timeout; /* seconds from accept to the first request */
	unsigned long max_connections; /* open at once, in all */
	unsigned long max_connections_per_address; /* 0: no limit of its own */
	char *user;                   /* run as this user once bound; "": as started */
	char *group;                  /* and this group; "": the user's own */
	/* [database] */
	char *proxy_from;             /* balancers sending PROXY v2 headers; "": none */
	unsigned long drain;          /* seconds answered after SIGTERM, /readyz 503 */
	char *conninfo;               /* libpq conninfo; never logged */
	char *read_conninfo;          /* the wiremap loader's, "": conninfo; never logged */
	/* [wiremap] */
	unsigned long max_binding_age; /* seconds; older bindings are not evidence */
	/* [auth] */
	char *client_ca;              /* PEM CA bundle; "": no client certificates asked */
	char *allowed_subjects;       /* ';'-separated subject DNs */
	char *allowed_addresses;      /* comma-separated addresses or CIDR prefixes */
	/* [held] */
	char *domain;
	unsigned long retention;      /* seconds */
	bool retransmission_allowed;
	char *uri_base;               /* "https://host[:port]/path/"; "": no location URIs */
	char *uri_key_file;           /* 64 hex digits; "": random key per start */
	unsigned long uri_lifetime;   /* seconds a location URI is valid */
	int deref_auth;               /* enum lis_deref_auth */
	/* [privacy] */
	bool include_device_id;       /* dm:deviceID in the PIDF-LO; RFC 5985 §6.6: only when a
	                               * Rule Maker expressly permits it */
	/* [querylog] */
	bool querylog_enabled;        /* every answer is logged to table query_log */
	char *querylog_spool_dir;     /* the durable spool file lives here */
	char *querylog_instance;      /* this lisd's name in the log; "" in the file: host name */
	unsigned long querylog_batch; /* entries per statement (a COPY) */
	unsigned long querylog_queue; /* entries the in-memory queue holds */
	unsigned long querylog_flush_ms; /* longest wait before a partial batch is written */
	/* [notify] (lisd(8) NOTIFICATIONS) */
	bool notify_enabled;          /* emergency answers are notified (needs the query log) */
	unsigned long notify_window;  /* seconds: a target's calls within it make one */
	char *notify_recipients;      /* lis_recipients.h: "SITE = CHANNEL[:ADDRESS], ...; ..." */
	char *notify_webhook_ca;      /* PEM CA bundle for webhook servers; "": the system's */
	char *notify_webhook_secret_file; /* HMAC-SHA256 key of the signature; never logged */
	char *notify_mail_server;     /* smtp://HOST[:PORT], STARTTLS required */
	char *notify_mail_ca;         /* PEM CA bundle for the mail server; "": the system's */
	char *notify_mail_from;       /* envelope and From: address */
	char *notify_syslog_socket;   /* the syslog channel's datagram socket */
	unsigned long notify_timeout; /* seconds one attempt may take */
	unsigned long notify_attempts; /* attempts of one delivery before it has failed */
	unsigned long notify_retry_min; /* seconds before the first retry, doubled each time */
	unsigned long notify_retry_max; /* longest wait between retries */
	/* [test] (lisd(8) TEST MODE) */
	char *test_addresses;         /* requesters whose requests are tests */
	char *test_subjects;          /* client certificate subjects whose requests are tests */
	bool test_header;             /* a request with "LIS-Test: 1" is a test */
	/* [log] */
	int log_target;               /* enum lis_log_target */
	int log_level;                /* enum lis_log_level */
	/* [admin] */
	char *admin_listen;           /* IPv4 or IPv6 literal; loopback unless admin_remote */
	unsigned long admin_port;     /* 0: no admin listener */
	bool admin_remote;            /* a listen address other than loopback is accepted */
	/* [selfservice] (lisd(8) SELF-SERVICE) */
	char *web_listen;             /* IPv4 or IPv6 literal */
	unsigned long web_port;       /* 0: no self-service listener */
	unsigned long web_session_lifetime; /* seconds a sign-in lasts */
	unsigned long web_signin_rate; /* sign-in attempts per minute per address, per user */
	unsigned long web_max_body;   /* bytes; larger gets 413 */
	/* [ldap] */
	char *ldap_uri;               /* ldaps://... or ldap://... (StartTLS); "": no LDAP */
	char *ldap_ca_file;           /* PEM CA bundle; "": the system's */
	char *ldap_bind_dn;           /* template, %u the user name; "": search */
	char *ldap_search_base;       /* with search_filter: find the user's DN */
	char *ldap_search_filter;     /* %u the user name (escaped) */
	unsigned long ldap_timeout;   /* seconds, each operation */
	/* [oidc] */
	char *oidc_issuer;            /* https://...; "": no OpenID Connect */
	char *oidc_client_id;
	char *oidc_client_secret_file; /* first line; "": a public client; never logged */
	char *oidc_redirect_uri;      /* https://.../signin/oidc/callback */
	char *oidc_user_claim;        /* the claim that is the user name */
	char *oidc_ca_file;           /* "": the system's */
};

/* The keys of lis.conf over struct lis_config. lisd derives its command-line twins and
 * --help from it. */
extern const struct conftab_table lis_conf_table;

/* Fill cfg with the defaults of every key, then the file at path (NULL: no file). On failure
 * -1 with "PATH:LINE: reason" (or "PATH: reason") in err, code LIS_E_USAGE. Either way
 * cfg is to be freed with lis_config_free(). */
int lis_conf_load(struct lis_config *cfg, const char *path, struct lis_error *err);

/* Free, and wipe, the strings cfg holds; NULL does nothing. */
void lis_config_free(struct lis_config *cfg);

/* The checks across keys of [notify] and [querylog]: notifications need the query log, a
 * webhook recipient the secret file, a mail recipient the server and From address. -1 with
 * the reason in err (LIS_E_USAGE). */
int lis_conf_check_notify(const struct lis_config *cfg, struct lis_error *err);

/* The checks across keys of [selfservice], [ldap] and [oidc]: a self-service listener needs
 * a way to sign in; an LDAP directory a bind_dn or a search; OIDC its client and callback.
 * -1 with the reason in err (LIS_E_USAGE). */
int lis_conf_check_selfservice(const struct lis_config *cfg, struct lis_error *err);

/* The path part of uri_base ("/loc/" of "https://lis.example.net:8443/loc/"): the prefix
 * under which location URIs are dereferenced; NULL when uri_base is empty. */
const char *lis_config_deref_path(const struct lis_config *cfg);

#endif
