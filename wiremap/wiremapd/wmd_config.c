#include "wmd_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lis_conftab.h"
#include "lis_log.h"
#include "lis_priv.h"
#include "lis_version.h"

#define OFF(f) offsetof(struct wmd_config, f)
#define POFF(f) offsetof(struct wmd_snmp_profile, f)

static conftab_check_fn check_instance;

/* The one table of configuration keys. Man page wiremapd.conf(5) and
 * deploy/wiremapd.conf.example follow it; keep them in step. */
static const struct conftab_key keys[] = {
	{ "database", "conninfo", CONFTAB_STR, OFF(conninfo), "dbname=lis", 0, 0, NULL,
	  "CONNINFO", "libpq connection string; never logged", .flags = 0 },
	{ "poll", "interval", CONFTAB_UINT, OFF(interval), "300", 10, 604800, NULL, "SECONDS",
	  "seconds between polls (a switch's poll_interval overrides)", .flags = 0 },
	{ "poll", "jitter", CONFTAB_DOUBLE, OFF(jitter), "0.1", 0, 0, NULL, "FRACTION",
	  "random spread of each wait, 0..0.5 (0.1: +-10%)", .dmin = 0, .dmax = 0.5 },
	{ "poll", "concurrency", CONFTAB_UINT, OFF(concurrency), "32", 1, 1024, NULL, "N",
	  "switches polled at once", .flags = 0 },
	{ "poll", "timeout_ms", CONFTAB_UINT, OFF(timeout_ms), "2000", 50, 60000, NULL, "MS",
	  "wait for each SNMP answer", .flags = 0 },
	{ "poll", "retries", CONFTAB_UINT, OFF(retries), "2", 0, 10, NULL, "N",
	  "resends of an unanswered SNMP request", .flags = 0 },
	{ "poll", "max_backoff", CONFTAB_UINT, OFF(max_backoff), "3600", 10, 604800, NULL,
	  "SECONDS", "longest wait of an unreachable switch", .flags = 0 },
	{ "poll", "uplink_mac_threshold", CONFTAB_UINT, OFF(uplink_mac_threshold), "8", 0,
	  1000000, NULL, "N", "more learned MACs on a port: uplink; 0: LLDP only", .flags = 0 },
	{ "collector", "lease", CONFTAB_BOOL, OFF(lease), "true", 0, 0, NULL, "BOOL",
	  "poll only while holding the collector lease (one leader per database)",
	  .flags = 0 },
	{ "collector", "instance", CONFTAB_STR, OFF(instance), "", 0, 0, NULL, "NAME",
	  "this collector's name in the lease and in switch_poll_status; empty: the host name",
	  .check = check_instance },
	{ "collector", "lease_interval", CONFTAB_UINT, OFF(lease_interval), "5", 1, 300, NULL,
	  "SECONDS", "seconds between checks of the lease (take it; renew it)",
	  .flags = 0 },
	{ "netlink", "enabled", CONFTAB_BOOL, OFF(netlink_enabled), "true", 0, 0, "netlink",
	  "BOOL", "kernel neighbour table -> ip-mac bindings", .flags = 0 },
	{ "netlink", "write_interval", CONFTAB_UINT, OFF(netlink_write_interval), "5", 1, 3600,
	  "netlink-write-interval", "SECONDS", "neighbour events are written this often",
	  .flags = 0 },
	{ "daemon", "user", CONFTAB_STR, OFF(user), "", 0, 0, NULL, "NAME",
	  "started as root: run as this user from the start on; empty: as started",
	  .check = lis_priv_check_user },
	{ "daemon", "group", CONFTAB_STR, OFF(group), "", 0, 0, NULL, "NAME",
	  "the group to run as with user; empty: the user's own",
	  .check = lis_priv_check_group },
	{ "metrics", "textfile", CONFTAB_STR, OFF(metrics_textfile), "", 0, 0,
	  "metrics-textfile", "FILE", "metrics in the Prometheus text format, written after "
	  "every cycle (e.g. for node_exporter's textfile collector); empty: none",
	  .flags = 0 },
	{ "log", "target", CONFTAB_LOG_TARGET, OFF(log_target), "stderr", 0, 0, NULL,
	  "stderr|syslog", "where log lines go", .flags = 0 },
	{ "log", "level", CONFTAB_LOG_LEVEL, OFF(log_level), "info", 0, 0, NULL,
	  "err|warn|info|debug", "most verbose level written", .flags = 0 },
};

#define N_KEYS (sizeof keys / sizeof keys[0])
const struct conftab_table wmd_conf_table = { keys, N_KEYS, NULL, NULL, NULL, NULL };

static conftab_check_fn check_user, check_secret, check_auth_protocol, check_priv_protocol;

static const char *const version_names[] = { "2c", "2", "3" };
static const int version_values[] = { 2, 2, 3 };
static const struct conftab_enum version_choices = {
	version_names, version_values, 3, "2c or 3 (SNMPv1 is not supported)" };

/* Keys of every [snmp] / [snmp.NAME] profile: no twins. */
static const struct conftab_key profile_keys[] = {
	{ "snmp", "version", CONFTAB_ENUM, POFF(version), "2c", 0, 0, NULL, "2c|3", "",
	  .choices = &version_choices },
	{ "snmp", "community", CONFTAB_STR, POFF(community), "public", 0, 0, NULL, "", "",
	  .flags = CONFTAB_NONEMPTY, .check = check_secret },
	{ "snmp", "user", CONFTAB_STR, POFF(user), NULL, 0, 0, NULL, "", "",
	  .check = check_user },
	{ "snmp", "auth_protocol", CONFTAB_STR, POFF(auth_protocol), "SHA", 0, 0, NULL, "", "",
	  .flags = CONFTAB_UPCASE, .check = check_auth_protocol },
	{ "snmp", "auth_password", CONFTAB_STR, POFF(auth_password), NULL, 0, 0, NULL, "", "",
	  .flags = CONFTAB_NONEMPTY, .check = check_secret },
	{ "snmp", "priv_protocol", CONFTAB_STR, POFF(priv_protocol), "AES", 0, 0, NULL, "", "",
	  .flags = CONFTAB_UPCASE, .check = check_priv_protocol },
	{ "snmp", "priv_password", CONFTAB_STR, POFF(priv_password), NULL, 0, 0, NULL, "", "",
	  .flags = CONFTAB_NONEMPTY, .check = check_secret },
};
#define N_PKEYS (sizeof profile_keys / sizeof profile_keys[0])
enum { P_VERSION, P_COMMUNITY, P_USER, P_AUTHPROTO, P_AUTHPASS, P_PRIVPROTO, P_PRIVPASS };

static const char *const auth_protocols[] = { "SHA", "SHA-224", "SHA-256", "SHA-384",
					      "SHA-512", "MD5" };
static const char *const priv_protocols[] = { "AES", "DES" };

static bool one_of(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v, list[i]) == 0)
			return true;
	return false;
}

/* 1 to 64 bytes, no control bytes */
static bool is_name(const char *v)
{
	bool ok = v[0] != '\0' && strlen(v) <= 64;
	for (const char *p = v; *p && ok; p++)
		ok = (unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f;
	return ok;
}

static int check_user(const struct conftab_key *k, const char *v, char *why, size_t why_size)
{
	if (!is_name(v)) {
		snprintf(why, why_size, "%s: \"%.64s\" is not a user name (1 to 64 "
			 "printable characters)", k->name, v);
		return -1;
	}
	return 0;
}

/* [collector] instance: empty (the host name) or a name as check_user takes it. */
static int check_instance(const struct conftab_key *k, const char *v, char *why,
			  size_t why_size)
{
	if (v[0] && !is_name(v)) {
		snprintf(why, why_size, "%s: \"%.64s\" is not an instance name (1 to 64 "
			 "printable characters)", k->name, v);
		return -1;
	}
	return 0;
}

/* Its value never appears in a message. */
static int check_secret(const struct conftab_key *k, const char *v, char *why,
			size_t why_size)
{
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f) {
			snprintf(why, why_size, "%s holds a control character", k->name);
			return -1;
		}
	return 0;
}

static int check_auth_protocol(const struct conftab_key *k, const char *v, char *why,
			       size_t why_size)
{
	if (!one_of(v, auth_protocols, sizeof auth_protocols / sizeof auth_protocols[0])) {
		snprintf(why, why_size, "%s: \"%.64s\" is not SHA, SHA-224, SHA-256, "
			 "SHA-384, SHA-512 or MD5", k->name, v);
		return -1;
	}
	return 0;
}

static int check_priv_protocol(const struct conftab_key *k, const char *v, char *why,
			       size_t why_size)
{
	if (!one_of(v, priv_protocols, sizeof priv_protocols / sizeof priv_protocols[0])) {
		snprintf(why, why_size, "%s: \"%.64s\" is not AES or DES", k->name, v);
		return -1;
	}
	return 0;
}

static const struct conftab_key *find_profile_key(const char *name)
{
	for (size_t i = 0; i < N_PKEYS; i++)
		if (strcmp(profile_keys[i].name, name) == 0)
			return &profile_keys[i];
	return NULL;
}

/* "snmp" -> "", "snmp.core" -> "core"; NULL when the section is no profile. The name obeys
 * the database's CHECK on switch.snmp_profile. */
static const char *profile_name_of(const char *section)
{
	if (strcmp(section, "snmp") == 0)
		return "";
	if (strncmp(section, "snmp.", 5) != 0)
		return NULL;
	const char *n = section + 5;
	size_t len = strlen(n);
	if (len == 0 || len > 64 ||
	    strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != len)
		return NULL;
	return n;
}

const struct wmd_snmp_profile *wmd_config_profile(const struct wmd_config *cfg,
						  const char *name)
{
	if (!name)
		name = "";
	for (size_t i = 0; i < cfg->n_profiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	return NULL;
}

bool wmd_config_has_secrets(const struct wmd_config *cfg)
{
	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const struct wmd_snmp_profile *p = &cfg->profiles[i];
		if ((p->version == 2 && p->community && strcmp(p->community, "public") != 0) ||
		    (p->version == 3 && (p->auth_password || p->priv_password)))
			return true;
	}
	return false;
}

static void profile_free(struct wmd_snmp_profile *p)
{
	conftab_free(profile_keys, N_PKEYS, p);
	free(p->name);
	p->name = NULL;
}

/* Append a profile with the built-in defaults; NULL when out of memory. */
static struct wmd_snmp_profile *profile_add(struct wmd_config *cfg, const char *name,
					    unsigned line)
{
	struct wmd_snmp_profile *grown = realloc(cfg->profiles,
						 (cfg->n_profiles + 1) * sizeof *grown);
	if (!grown)
		return NULL;
	cfg->profiles = grown;
	struct wmd_snmp_profile *p = &grown[cfg->n_profiles];
	memset(p, 0, sizeof *p);
	p->name = strdup(name);
	if (!p->name)
		return NULL;
	p->line = line;
	cfg->n_profiles++;
	char why[160];
	for (size_t i = 0; i < N_PKEYS; i++)
		if (profile_keys[i].def && conftab_set(p, &profile_keys[i], profile_keys[i].def,
						       why, sizeof why) < 0)
			return NULL;
	return p;
}

/* The profiles' part of reading a file: the line where each profile key was set, parallel
 * to cfg->profiles. */
struct profile_state {
	struct wmd_config *cfg;
	unsigned (*pseen)[N_PKEYS];
};

/* A [snmp] or [snmp.NAME] header: the profile starts here (a second header of the same
 * profile is refused, so that one profile is read in one place). */
static void open_profile(struct conftab_file *cf, const char *name)
{
	struct profile_state *ps = cf->tab->user;
	struct wmd_config *cfg = ps->cfg;
	const struct wmd_snmp_profile *p = wmd_config_profile(cfg, name);
	if (p && p->line) {
		conftab_fail(cf, cf->line, "section [snmp%s%s] given twice (first on line %u)",
			     name[0] ? "." : "", name, p->line);
		return;
	}
	if (p) {   /* the built-in default, now given in the file */
		cfg->profiles[0].line = cf->line;
		return;
	}
	unsigned (*grown)[N_PKEYS] = realloc(ps->pseen, (cfg->n_profiles + 1) * sizeof *grown);
	if (!grown) {
		conftab_fail(cf, cf->line, "out of memory");
		return;
	}
	ps->pseen = grown;
	memset(grown[cfg->n_profiles], 0, sizeof grown[0]);
	if (!profile_add(cfg, name, cf->line))
		conftab_fail(cf, cf->line, "out of memory");
}

/* Hook of a section header not in the table: the profiles. */
static int on_section(struct conftab_file *cf, const char *name)
{
	const char *pname = profile_name_of(name);
	if (pname) {
		open_profile(cf, pname);
		return 0;
	}
	if (strncmp(name, "snmp.", 5) == 0) {
		conftab_fail(cf, cf->line, "[%s]: a profile name is 1 to 64 of "
			     "A-Z a-z 0-9 _ . -", name);
		return 0;
	}
	return -1;
}

/* Hook of a key in a section not in the table: a profile's key. */
static int on_profile_key(struct conftab_file *cf, const char *section, const char *name,
			  const char *value)
{
	struct profile_state *ps = cf->tab->user;
	const char *pname = profile_name_of(section);
	if (!pname)
		return -1;
	const struct conftab_key *k = find_profile_key(name);
	const struct wmd_snmp_profile *p = wmd_config_profile(ps->cfg, pname);
	if (!p || !p->line) {
		conftab_fail(cf, cf->line, "key \"%.64s\" outside its section", name);
		return 0;
	}
	size_t pi = (size_t)(p - ps->cfg->profiles);
	return conftab_file_store(cf, section, name, k, &ps->cfg->profiles[pi],
				  k ? &ps->pseen[pi][k - profile_keys] : NULL, value);
}

/* What a profile's keys must agree on, checked once the file is read; the message points at
 * the key at fault (or the section header). RFC 3414 §11.2: USM passwords are at least 8
 * characters (net-snmp refuses shorter ones). */
static void check_profile(struct conftab_file *cf, size_t pi)
{
	const struct profile_state *ps = cf->tab->user;
	const struct wmd_snmp_profile *p = &ps->cfg->profiles[pi];
	const unsigned *seen = ps->pseen ? ps->pseen[pi] : NULL;
	char sect[80];
	snprintf(sect, sizeof sect, "[snmp%s%s]", p->name[0] ? "." : "", p->name);
	unsigned head = p->line;
#define AT(key) (seen && seen[key] ? seen[key] : head)

	if (p->version == 2) {
		static const int v3_only[] = { P_USER, P_AUTHPROTO, P_AUTHPASS, P_PRIVPROTO,
					       P_PRIVPASS };
		for (size_t i = 0; i < sizeof v3_only / sizeof v3_only[0]; i++)
			if (seen && seen[v3_only[i]])
				conftab_fail(cf, seen[v3_only[i]],
					"%s: %s is for version 3, but the profile is version 2c",
					sect, profile_keys[v3_only[i]].name);
		return;
	}
	if (seen && seen[P_COMMUNITY])
		conftab_fail(cf, seen[P_COMMUNITY], "%s: community is for version 2c, but the profile "
			"is version 3", sect);
	if (!p->user)
		conftab_fail(cf, AT(P_VERSION), "%s: version 3 needs a user", sect);
	if (p->auth_password && strlen(p->auth_password) < 8)
		conftab_fail(cf, AT(P_AUTHPASS), "%s: auth_password is shorter than 8 characters "
			"(RFC 3414 11.2)", sect);
	if (p->priv_password && strlen(p->priv_password) < 8)
		conftab_fail(cf, AT(P_PRIVPASS), "%s: priv_password is shorter than 8 characters "
			"(RFC 3414 11.2)", sect);
	if (p->priv_password && !p->auth_password)
		conftab_fail(cf, AT(P_PRIVPASS), "%s: priv_password needs an auth_password "
			"(privacy without authentication does not exist in SNMPv3)", sect);
#undef AT
}

static void check_profiles(struct conftab_file *cf)
{
	const struct profile_state *ps = cf->tab->user;
	for (size_t i = 0; i < ps->cfg->n_profiles; i++)
		check_profile(cf, i);
}

static int load_file(struct wmd_config *cfg, const char *path, struct lis_error *err)
{
	struct profile_state ps = { .cfg = cfg };
	ps.pseen = calloc(cfg->n_profiles, sizeof *ps.pseen);
	if (!ps.pseen)
		return lis_error_set(err, LIS_E_SYSTEM, "%s: out of memory", path);
	const struct conftab_table tab = { keys, N_KEYS, &ps, on_section, on_profile_key,
					   check_profiles };
	int rc = conftab_load_file(&tab, cfg, path, err);
	free(ps.pseen);
	return rc;
}

/* [collector] instance left empty: the host name, as gethostname() gives it. */
static int default_instance(struct wmd_config *cfg, struct lis_error *err)
{
	char host[256];
	if (cfg->instance[0])
		return 0;
	if (gethostname(host, sizeof host) < 0 || !host[0])
		snprintf(host, sizeof host, "wiremapd");
	host[sizeof host - 1] = '\0';
	char *v = strdup(host);
	if (!v)
		return lis_error_set(err, LIS_E_SYSTEM, "out of memory");
	free(cfg->instance);
	cfg->instance = v;
	return 0;
}

static void print_help(FILE *out)
{
	fprintf(out,
		"Usage: wiremapd [-c FILE] [--once] [--check-config] [--OPTION VALUE ...]\n"
		"                [--help] [--version]\n"
		"Keeps the wiremap's bindings current: polls switches over SNMP (LLDP, FDB, ARP)\n"
		"and follows the kernel neighbour table over netlink.\n\n"
		"  -c, --config FILE   configuration file (default %s; skipped when absent\n"
		"                      and not given)\n"
		"  --once              poll every switch once and dump the neighbour table, then\n"
		"                      exit: 0 if every switch answered, 1 if some did not\n"
		"  --check-config      read the configuration, print \"configuration OK\"\n"
		"                      and exit\n"
		"  -h, --help          print this help and exit\n"
		"  -V, --version       print the version and exit\n\n"
		"Every configuration key but the SNMP profiles ([snmp], [snmp.NAME]) has a twin\n"
		"that overrides the file:\n",
		WMD_CONFIG_DEFAULT_FILE);
	conftab_print_help(&wmd_conf_table, out);
}

void wmd_config_free(struct wmd_config *cfg)
{
	if (!cfg)
		return;
	conftab_free(keys, N_KEYS, cfg);
	for (size_t i = 0; i < cfg->n_profiles; i++)
		profile_free(&cfg->profiles[i]);
	free(cfg->profiles);
	cfg->profiles = NULL;
	cfg->n_profiles = 0;
}

int wmd_config_load(struct wmd_config *cfg, int argc, char **argv, FILE *out,
		    enum wmd_action *action, const char **config_file, struct lis_error *err)
{
	static const char *const flags[] = { "--once", "--check-config", NULL };
	const char *file = NULL;

	memset(cfg, 0, sizeof *cfg);
	*action = WMD_ACTION_RUN;
	if (config_file)
		*config_file = NULL;

	/* Pass 1: the options that are not keys, and the shape of the rest. */
	switch (conftab_early_option(argc, argv)) {
	case CONFTAB_HELP:
		print_help(out);
		*action = WMD_ACTION_HELP;
		return 0;
	case CONFTAB_VERSION:
		fprintf(out, "wiremapd %s\n", LIS_VERSION);
		*action = WMD_ACTION_VERSION;
		return 0;
	case CONFTAB_RUN:
		break;
	}
	bool seen[2] = { false, false };
	if (conftab_check_args(&wmd_conf_table, argc, argv, flags, seen, "wiremapd", &file,
			       err) < 0)
		return -1;
	bool once = seen[0], check = seen[1];
	if (once && check)
		return lis_error_set(err, LIS_E_USAGE,
				     "--once and --check-config: choose one");
	*action = check ? WMD_ACTION_CHECK : once ? WMD_ACTION_ONCE : WMD_ACTION_RUN;

	if (conftab_set_defaults(&wmd_conf_table, cfg, err) < 0)
		return -1;
	if (!profile_add(cfg, "", 0))
		return lis_error_set(err, LIS_E_SYSTEM, "out of memory");

	if (!file) {
		FILE *f = fopen(WMD_CONFIG_DEFAULT_FILE, "r");
		if (f) {
			fclose(f);
			file = WMD_CONFIG_DEFAULT_FILE;
		}
	}
	if (file && load_file(cfg, file, err) < 0)
		return -1;
	if (config_file)
		*config_file = file;

	/* Pass 2: command-line twins override the file. */
	if (conftab_apply_args(&wmd_conf_table, cfg, argc, argv, flags, err) < 0)
		return -1;
	return default_instance(cfg, err);
}
