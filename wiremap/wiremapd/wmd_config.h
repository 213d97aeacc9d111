/* wiremapd's configuration: one table of keys (wmd_config.c) drives the INI file, the
 * command-line twins (--KEY VALUE), --help and the defaults; SNMP credential profiles
 * ([snmp] and [snmp.NAME]) have a table of their own and no twins (secrets stay out of
 * argv and ps). */
#ifndef WMD_CONFIG_H
#define WMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lis_error.h"

#define WMD_CONFIG_DEFAULT_FILE "/etc/lis/wiremapd.conf"

/* The keys of wiremapd.conf but the SNMP profiles, over struct wmd_config: the twins,
 * --help and the defaults come from it (tests hold wiremapd.conf(5) to it). */
struct conftab_table;
extern const struct conftab_table wmd_conf_table;

/* Exit codes of wiremapd (wiremapd(8) EXIT STATUS). */
enum wmd_exit {
	WMD_EXIT_OK = 0,
	WMD_EXIT_RUNTIME = 1,        /* also: --once and some switch did not answer */
	WMD_EXIT_USAGE = 2,          /* bad command line or configuration */
};

/* One set of SNMP credentials. Secrets are wiped when the configuration is freed and never
 * reach a log or a message. */
struct wmd_snmp_profile {
	char *name;                  /* "" for [snmp], NAME for [snmp.NAME] */
	unsigned line;               /* line of its section header (0: built in) */
	int version;                 /* 2 (2c) or 3 */
	char *community;             /* 2c */
	char *user;                  /* 3: USM securityName */
	char *auth_protocol;         /* 3: SHA | SHA-224 | SHA-256 | SHA-384 | SHA-512 | MD5 */
	char *auth_password;         /* 3: ""= noAuthNoPriv */
	char *priv_protocol;         /* 3: AES | DES */
	char *priv_password;         /* 3: "" = authNoPriv */
};

struct wmd_config {
	/* [database] */
	char *conninfo;              /* libpq conninfo; never logged */
	/* [poll] */
	unsigned long interval;      /* seconds between polls of a switch (its own overrides) */
	double jitter;               /* 0..0.5: each wait is interval * (1 +- jitter) */
	unsigned long concurrency;   /* switches polled at once */
	unsigned long timeout_ms;    /* per SNMP request */
	unsigned long retries;       /* resends after the first try */
	unsigned long max_backoff;   /* seconds; cap of an unreachable switch's wait */
	unsigned long uplink_mac_threshold;
	/* [collector] */
	bool lease;                  /* take part in the collector lease (wiremapd(8) LEASE) */
	char *instance;              /* this collector's name in table collector; "": host name */
	unsigned long lease_interval; /* seconds between checks of the lease */
	/* [netlink] */
	bool netlink_enabled;
	unsigned long netlink_write_interval; /* seconds: neighbour events are written this often */
	/* [daemon] */
	char *user;                  /* run as this user; "": as started */
	char *group;                 /* and this group; "": the user's own */
	/* [metrics] */
	char *metrics_textfile;      /* written after every cycle; "": none */
	/* [log] */
	int log_target;              /* enum lis_log_target */
	int log_level;               /* enum lis_log_level */
	/* [snmp], [snmp.NAME]: profiles[0] is always the default [snmp] */
	struct wmd_snmp_profile *profiles;
	size_t n_profiles;
};

/* What the command line asked for besides option values. */
enum wmd_action {
	WMD_ACTION_RUN = 0,
	WMD_ACTION_ONCE,             /* --once */
	WMD_ACTION_CHECK,            /* --check-config */
	WMD_ACTION_HELP,             /* --help: already printed */
	WMD_ACTION_VERSION,          /* --version: already printed */
};

/* Fill cfg from defaults, then the config file (-c FILE, else WMD_CONFIG_DEFAULT_FILE when
 * it exists), then the command line. On a usage or configuration error returns -1 with a
 * message ("FILE:LINE: reason" or "--option: reason") in err (code WMD_EXIT_USAGE). --help
 * and --version print to out. *config_file (may be NULL) gets the file read, or NULL. */
int wmd_config_load(struct wmd_config *cfg, int argc, char **argv, FILE *out,
		    enum wmd_action *action, const char **config_file, struct lis_error *err);
/* Free what cfg holds, wiping the secrets; a zeroed or freed cfg is fine. */
void wmd_config_free(struct wmd_config *cfg);

/* The profile a switch names (NULL or "": the default [snmp]); NULL when there is none. */
const struct wmd_snmp_profile *wmd_config_profile(const struct wmd_config *cfg,
						  const char *name);

/* True when some profile holds a secret (a community or a password): the file should then
 * not be readable by others. */
bool wmd_config_has_secrets(const struct wmd_config *cfg);

#endif
