/* lisd's configuration: one table of keys (lis_config.c) drives the INI file, the
 * command-line twins (--KEY VALUE), --help and the defaults. */
#ifndef LIS_CONFIG_H
#define LIS_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "lis_error.h"

#define LIS_CONFIG_DEFAULT_FILE "/etc/lis/lis.conf"

/* Exit codes of lisd (design.md). */
enum lis_exit {
	LIS_EXIT_OK = 0,
	LIS_EXIT_RUNTIME = 1,
	LIS_EXIT_USAGE = 2,
};

/* Who may dereference a location URI (RFC 6753 §3). */
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
	/* [database] */
	char *conninfo;               /* libpq conninfo; never logged */
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
	/* [querylog] */
	bool querylog_enabled;        /* every answer is logged to table query_log */
	char *querylog_spool_dir;     /* the durable spool file lives here */
	char *querylog_instance;      /* this lisd's name in the log; "" in the file: host name */
	unsigned long querylog_batch; /* entries per INSERT */
	unsigned long querylog_flush_ms; /* longest wait before a partial batch is written */
	/* [log] */
	int log_target;               /* enum lis_log_target */
	int log_level;                /* enum lis_log_level */
};

/* What the command line asked for besides option values. */
enum lis_config_action {
	LIS_ACTION_RUN = 0,
	LIS_ACTION_CHECK,             /* --check-config */
	LIS_ACTION_HELP,              /* --help: already printed */
	LIS_ACTION_VERSION,           /* --version: already printed */
};

/* Fill cfg from defaults, then the config file (-c FILE, else LIS_CONFIG_DEFAULT_FILE when it
 * exists), then the command line. On a usage or configuration error returns -1 with a message
 * ("FILE:LINE: reason" or "--option: reason") in err. --help and --version print to out. */
int lis_config_load(struct lis_config *cfg, int argc, char **argv, FILE *out,
		    enum lis_config_action *action, const char **config_file,
		    struct lis_error *err);
void lis_config_free(struct lis_config *cfg);

/* The path part of uri_base ("/loc/" of "https://lis.example.net:8443/loc/"): the prefix
 * under which location URIs are dereferenced; NULL when uri_base is empty. */
const char *lis_config_deref_path(const struct lis_config *cfg);

/* Read a whole (small) file into a malloc'd NUL-terminated buffer. */
int lis_read_file(const char *path, size_t max, char **data, size_t *len, struct lis_error *err);

/* Load the TLS certificate chain and key and check that the key belongs to the certificate.
 * *cert and *key are malloc'd PEM text (free the key with lis_free_secret()). */
int lis_config_load_tls(const struct lis_config *cfg, char **cert, char **key,
			struct lis_error *err);
void lis_free_secret(char *s);

#endif
