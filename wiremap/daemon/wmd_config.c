#include "wmd_config.h"

#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lis_log.h"
#include "lis_version.h"

enum key_type {
	K_STR,          /* any text */
	K_UINT,         /* decimal, min..max */
	K_FRACTION,     /* decimal fraction 0..0.5 */
	K_BOOL,
	K_TARGET,       /* stderr | syslog */
	K_LEVEL,        /* err | warn | info | debug */
	/* profile keys */
	K_VERSION,      /* 2c | 3 */
	K_NAME,         /* non-empty text, no control bytes (user) */
	K_SECRET,       /* non-empty; its value never appears in a message */
	K_AUTHPROTO,    /* SHA | SHA-224 | SHA-256 | SHA-384 | SHA-512 | MD5 */
	K_PRIVPROTO,    /* AES | DES */
};
#define K_IS_STRING(t) ((t) == K_STR || (t) == K_NAME || (t) == K_SECRET || \
			(t) == K_AUTHPROTO || (t) == K_PRIVPROTO)

struct key_def {
	const char *section;      /* "snmp": every [snmp] and [snmp.NAME] section */
	const char *name;
	enum key_type type;
	size_t off;               /* into struct wmd_config, or struct wmd_snmp_profile */
	const char *def;          /* default, parsed like any other value */
	unsigned long min, max;   /* K_UINT */
	const char *opt;          /* command-line twin; NULL: --NAME with '-' for '_' */
	const char *arg;          /* placeholder in --help */
	const char *help;
};

#define OFF(f) offsetof(struct wmd_config, f)
#define POFF(f) offsetof(struct wmd_snmp_profile, f)

/* The one table of configuration keys. Man page wiremapd.conf(5) and
 * deploy/wiremapd.conf.example follow it; keep them in step. */
static const struct key_def keys[] = {
	{ "database", "conninfo", K_STR, OFF(conninfo), "dbname=lis", 0, 0, NULL, "CONNINFO",
	  "libpq connection string; never logged" },
	{ "poll", "interval", K_UINT, OFF(interval), "300", 10, 604800, NULL, "SECONDS",
	  "seconds between polls (a switch's poll_interval overrides)" },
	{ "poll", "jitter", K_FRACTION, OFF(jitter), "0.1", 0, 0, NULL, "FRACTION",
	  "random spread of each wait, 0..0.5 (0.1: +-10%)" },
	{ "poll", "concurrency", K_UINT, OFF(concurrency), "32", 1, 1024, NULL, "N",
	  "switches polled at once" },
	{ "poll", "timeout_ms", K_UINT, OFF(timeout_ms), "2000", 50, 60000, NULL, "MS",
	  "wait for each SNMP answer" },
	{ "poll", "retries", K_UINT, OFF(retries), "2", 0, 10, NULL, "N",
	  "resends of an unanswered SNMP request" },
	{ "poll", "max_backoff", K_UINT, OFF(max_backoff), "3600", 10, 604800, NULL, "SECONDS",
	  "longest wait of an unreachable switch" },
	{ "poll", "uplink_mac_threshold", K_UINT, OFF(uplink_mac_threshold), "8", 0, 1000000,
	  NULL, "N", "more learned MACs on a port: uplink; 0: LLDP only" },
	{ "netlink", "enabled", K_BOOL, OFF(netlink_enabled), "true", 0, 0, "netlink", "BOOL",
	  "kernel neighbour table -> ip-mac bindings" },
	{ "netlink", "write_interval", K_UINT, OFF(netlink_write_interval), "5", 1, 3600,
	  "netlink-write-interval", "SECONDS", "neighbour events are written this often" },
	{ "log", "target", K_TARGET, OFF(log_target), "stderr", 0, 0, NULL, "stderr|syslog",
	  "where log lines go" },
	{ "log", "level", K_LEVEL, OFF(log_level), "info", 0, 0, NULL, "err|warn|info|debug",
	  "most verbose level written" },
};
#define N_KEYS (sizeof keys / sizeof keys[0])

/* Keys of every [snmp] / [snmp.NAME] profile: no twins. */
static const struct key_def profile_keys[] = {
	{ "snmp", "version", K_VERSION, POFF(version), "2c", 0, 0, NULL, "2c|3", "" },
	{ "snmp", "community", K_SECRET, POFF(community), "public", 0, 0, NULL, "", "" },
	{ "snmp", "user", K_NAME, POFF(user), NULL, 0, 0, NULL, "", "" },
	{ "snmp", "auth_protocol", K_AUTHPROTO, POFF(auth_protocol), "SHA", 0, 0, NULL, "", "" },
	{ "snmp", "auth_password", K_SECRET, POFF(auth_password), NULL, 0, 0, NULL, "", "" },
	{ "snmp", "priv_protocol", K_PRIVPROTO, POFF(priv_protocol), "AES", 0, 0, NULL, "", "" },
	{ "snmp", "priv_password", K_SECRET, POFF(priv_password), NULL, 0, 0, NULL, "", "" },
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

static void free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Parse and store one value into base (a struct wmd_config or wmd_snmp_profile). On failure
 * writes the reason (without location) to why; a secret's value is never quoted. */
static int set_value(void *base, const struct key_def *k, const char *v, char *why,
		     size_t why_size)
{
	char *field = (char *)base + k->off;

	switch (k->type) {
	case K_STR:
	case K_NAME:
	case K_SECRET:
	case K_AUTHPROTO:
	case K_PRIVPROTO: {
		if (k->type == K_SECRET && v[0] == '\0') {
			snprintf(why, why_size, "%s must not be empty", k->name);
			return -1;
		}
		if (k->type == K_NAME) {
			bool ok = v[0] != '\0' && strlen(v) <= 64;
			for (const char *p = v; *p && ok; p++)
				ok = (unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f;
			if (!ok) {
				snprintf(why, why_size, "%s: \"%.64s\" is not a user name (1 to 64 "
					 "printable characters)", k->name, v);
				return -1;
			}
		}
		if (k->type == K_SECRET) {
			for (const char *p = v; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f) {
					snprintf(why, why_size, "%s holds a control character",
						 k->name);
					return -1;
				}
		}
		if (k->type == K_AUTHPROTO &&
		    !one_of(v, auth_protocols, sizeof auth_protocols / sizeof auth_protocols[0])) {
			snprintf(why, why_size, "%s: \"%.64s\" is not SHA, SHA-224, SHA-256, "
				 "SHA-384, SHA-512 or MD5", k->name, v);
			return -1;
		}
		if (k->type == K_PRIVPROTO &&
		    !one_of(v, priv_protocols, sizeof priv_protocols / sizeof priv_protocols[0])) {
			snprintf(why, why_size, "%s: \"%.64s\" is not AES or DES", k->name, v);
			return -1;
		}
		char *copy = strdup(v);
		if (!copy) {
			snprintf(why, why_size, "out of memory");
			return -1;
		}
		if (k->type == K_AUTHPROTO || k->type == K_PRIVPROTO)
			for (char *p = copy; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		char **slot = (char **)(void *)field;
		free_secret(*slot);
		*slot = copy;
		return 0;
	}
	case K_UINT: {
		char *end;
		unsigned long n;
		errno = 0;
		if (v[0] < '0' || v[0] > '9')
			goto bad_number;
		n = strtoul(v, &end, 10);
		if (errno != 0 || *end != '\0' || n < k->min || n > k->max)
			goto bad_number;
		*(unsigned long *)(void *)field = n;
		return 0;
bad_number:
		snprintf(why, why_size, "%s: \"%.64s\" is not a whole number in %lu..%lu",
			 k->name, v, k->min, k->max);
		return -1;
	}
	case K_FRACTION: {
		/* Digits and at most one '.', read by hand: no locale (decimal comma), no
		 * exponent, no "nan". */
		size_t len = strlen(v);
		const char *dot = strchr(v, '.');
		bool ok = len > 0 && len <= 8 && v[0] != '.' && strspn(v, "0123456789.") == len &&
			  (!dot || dot == strrchr(v, '.'));
		double d = 0, scale = 1;
		if (ok) {
			d = (double)strtoul(v, NULL, 10);
			for (const char *p = dot ? dot + 1 : ""; *p; p++) {
				scale /= 10;
				d += (*p - '0') * scale;
			}
		}
		if (!ok || d > 0.5) {
			snprintf(why, why_size, "%s: \"%.64s\" is not a fraction in 0..0.5",
				 k->name, v);
			return -1;
		}
		*(double *)(void *)field = d;
		return 0;
	}
	case K_BOOL: {
		static const char *const yes[] = { "true", "yes", "on", "1" };
		static const char *const no[] = { "false", "no", "off", "0" };
		for (size_t i = 0; i < 4; i++) {
			if (strcasecmp(v, yes[i]) == 0) {
				*(bool *)(void *)field = true;
				return 0;
			}
			if (strcasecmp(v, no[i]) == 0) {
				*(bool *)(void *)field = false;
				return 0;
			}
		}
		snprintf(why, why_size, "%s: \"%.64s\" is not true or false", k->name, v);
		return -1;
	}
	case K_TARGET:
		if (strcmp(v, "stderr") == 0) {
			*(int *)(void *)field = LIS_LOG_STDERR;
			return 0;
		}
		if (strcmp(v, "syslog") == 0) {
			*(int *)(void *)field = LIS_LOG_SYSLOG;
			return 0;
		}
		snprintf(why, why_size, "%s: \"%.64s\" is not stderr or syslog", k->name, v);
		return -1;
	case K_LEVEL: {
		int l = lis_log_level_from_name(v);
		if (l < 0) {
			snprintf(why, why_size, "%s: \"%.64s\" is not err, warn, info or debug",
				 k->name, v);
			return -1;
		}
		*(int *)(void *)field = l;
		return 0;
	}
	case K_VERSION:
		if (strcmp(v, "2c") == 0 || strcmp(v, "2") == 0) {
			*(int *)(void *)field = 2;
			return 0;
		}
		if (strcmp(v, "3") == 0) {
			*(int *)(void *)field = 3;
			return 0;
		}
		snprintf(why, why_size, "%s: \"%.64s\" is not 2c or 3 (SNMPv1 is not supported)",
			 k->name, v);
		return -1;
	}
	snprintf(why, why_size, "%s: unhandled type", k->name);
	return -1;
}

static const struct key_def *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if ((!section || strcmp(keys[i].section, section) == 0) &&
		    strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static const struct key_def *find_profile_key(const char *name)
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

static bool section_exists(const char *section)
{
	if (profile_name_of(section))
		return true;
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
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
	for (size_t i = 0; i < N_PKEYS; i++)
		if (K_IS_STRING(profile_keys[i].type)) {
			char **slot = (char **)(void *)((char *)p + profile_keys[i].off);
			free_secret(*slot);
			*slot = NULL;
		}
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
		if (profile_keys[i].def && set_value(p, &profile_keys[i], profile_keys[i].def, why,
						     sizeof why) < 0)
			return NULL;
	return p;
}

/* libinih does not tell the handler the line number; the reader below counts lines so that
 * every message can say FILE:LINE. */
struct ini_state {
	FILE *f;
	unsigned line;
	struct wmd_config *cfg;
	unsigned seen[N_KEYS];        /* line where each key was set, 0 = not yet */
	unsigned (*pseen)[N_PKEYS];   /* the same per profile, parallel to cfg->profiles */
	bool indented;                /* the current line starts with a space or tab */
	unsigned err_line;
	char why[200];
};

static void fail_at(struct ini_state *st, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_at(struct ini_state *st, unsigned line, const char *fmt, ...)
{
	if (st->err_line)
		return;   /* report only the first error */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->why, sizeof st->why, fmt, ap);
	va_end(ap);
	st->err_line = line;
}

/* A [snmp] or [snmp.NAME] header: the profile starts here (a second header of the same
 * profile is refused, so that one profile is read in one place). */
static void open_profile(struct ini_state *st, const char *name)
{
	struct wmd_config *cfg = st->cfg;
	const struct wmd_snmp_profile *p = wmd_config_profile(cfg, name);
	if (p && p->line) {
		fail_at(st, st->line, "section [snmp%s%s] given twice (first on line %u)",
			name[0] ? "." : "", name, p->line);
		return;
	}
	if (p) {   /* the built-in default, now given in the file */
		cfg->profiles[0].line = st->line;
		return;
	}
	unsigned (*grown)[N_PKEYS] = realloc(st->pseen, (cfg->n_profiles + 1) * sizeof *grown);
	if (!grown) {
		fail_at(st, st->line, "out of memory");
		return;
	}
	st->pseen = grown;
	memset(grown[cfg->n_profiles], 0, sizeof grown[0]);
	if (!profile_add(cfg, name, st->line))
		fail_at(st, st->line, "out of memory");
}

static char *read_line(char *str, int num, void *stream)
{
	struct ini_state *st = stream;
	char *r = fgets(str, num, st->f);
	if (!r)
		return NULL;
	st->line++;
	const char *p = r + strspn(r, " \t");
	st->indented = p != r;
	/* libinih reports a section only with its first key: sections are checked here. */
	if (*p == '[' && !st->err_line) {
		const char *end = strchr(p, ']');
		char name[80];
		if (end && (size_t)(end - p - 1) < sizeof name) {
			memcpy(name, p + 1, (size_t)(end - p - 1));
			name[end - p - 1] = '\0';
			if (!section_exists(name)) {
				if (strncmp(name, "snmp.", 5) == 0)
					fail_at(st, st->line, "[%s]: a profile name is 1 to 64 of "
						"A-Z a-z 0-9 _ . -", name);
				else
					fail_at(st, st->line, "unknown section [%s]", name);
			} else if (profile_name_of(name)) {
				open_profile(st, profile_name_of(name));
			}
		}
	}
	return r;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	const struct key_def *k;
	unsigned *seen;
	void *base;

	if (st->err_line)
		return 1;
	if (!section_exists(section)) {
		fail_at(st, st->line, "unknown section [%.64s]", section);
		return 0;
	}
	const char *pname = profile_name_of(section);
	if (pname) {
		k = find_profile_key(name);
		const struct wmd_snmp_profile *p = wmd_config_profile(st->cfg, pname);
		if (!p || !p->line) {
			fail_at(st, st->line, "key \"%.64s\" outside its section", name);
			return 0;
		}
		size_t pi = (size_t)(p - st->cfg->profiles);
		base = &st->cfg->profiles[pi];
		seen = k ? &st->pseen[pi][k - profile_keys] : NULL;
	} else {
		k = find_key(section, name);
		base = st->cfg;
		seen = k ? &st->seen[k - keys] : NULL;
	}
	if (!k) {
		fail_at(st, st->line, "unknown key \"%.64s\" in section [%s]", name, section);
		return 0;
	}
	if (*seen) {
		if (st->indented) /* libinih takes an indented line as a continuation */
			fail_at(st, st->line,
				"indented line continues %s; remove the leading space", name);
		else
			fail_at(st, st->line, "%s given twice (first on line %u)", name, *seen);
		return 0;
	}
	*seen = st->line;
	if (set_value(base, k, value, st->why, sizeof st->why) < 0) {
		st->err_line = st->line;
		return 0;
	}
	return 1;
}

/* What a profile's keys must agree on, checked once the file is read; the message points at
 * the key at fault (or the section header). RFC 3414 §11.2: USM passwords are at least 8
 * characters (net-snmp refuses shorter ones). */
static void check_profile(struct ini_state *st, size_t pi)
{
	const struct wmd_snmp_profile *p = &st->cfg->profiles[pi];
	const unsigned *seen = st->pseen ? st->pseen[pi] : NULL;
	char sect[80];
	snprintf(sect, sizeof sect, "[snmp%s%s]", p->name[0] ? "." : "", p->name);
	unsigned head = p->line;
#define AT(key) (seen && seen[key] ? seen[key] : head)

	if (p->version == 2) {
		static const int v3_only[] = { P_USER, P_AUTHPROTO, P_AUTHPASS, P_PRIVPROTO,
					       P_PRIVPASS };
		for (size_t i = 0; i < sizeof v3_only / sizeof v3_only[0]; i++)
			if (seen && seen[v3_only[i]])
				fail_at(st, seen[v3_only[i]],
					"%s: %s is for version 3, but the profile is version 2c",
					sect, profile_keys[v3_only[i]].name);
		return;
	}
	if (seen && seen[P_COMMUNITY])
		fail_at(st, seen[P_COMMUNITY], "%s: community is for version 2c, but the profile "
			"is version 3", sect);
	if (!p->user)
		fail_at(st, AT(P_VERSION), "%s: version 3 needs a user", sect);
	if (p->auth_password && strlen(p->auth_password) < 8)
		fail_at(st, AT(P_AUTHPASS), "%s: auth_password is shorter than 8 characters "
			"(RFC 3414 11.2)", sect);
	if (p->priv_password && strlen(p->priv_password) < 8)
		fail_at(st, AT(P_PRIVPASS), "%s: priv_password is shorter than 8 characters "
			"(RFC 3414 11.2)", sect);
	if (p->priv_password && !p->auth_password)
		fail_at(st, AT(P_PRIVPASS), "%s: priv_password needs an auth_password "
			"(privacy without authentication does not exist in SNMPv3)", sect);
#undef AT
}

static int load_file(struct wmd_config *cfg, const char *path, struct lis_error *err)
{
	struct ini_state st = { .cfg = cfg };
	st.pseen = calloc(cfg->n_profiles, sizeof *st.pseen);
	if (!st.pseen)
		return lis_error_set(err, WMD_EXIT_USAGE, "%s: out of memory", path);
	st.f = fopen(path, "r");
	if (!st.f) {
		free(st.pseen);
		return lis_error_set(err, WMD_EXIT_USAGE, "%s: cannot open: %s", path,
				     strerror(errno));
	}
	int rc = ini_parse_stream(read_line, &st, on_key, &st);
	fclose(st.f);
	if (rc == 0 && !st.err_line)
		for (size_t i = 0; i < cfg->n_profiles; i++)
			check_profile(&st, i);
	free(st.pseen);
	if (rc == 0 && !st.err_line)
		return 0;
	if (st.err_line && (rc <= 0 || (unsigned)rc >= st.err_line))
		return lis_error_set(err, WMD_EXIT_USAGE, "%s:%u: %s", path, st.err_line, st.why);
	if (rc > 0)
		return lis_error_set(err, WMD_EXIT_USAGE,
				     "%s:%d: syntax error (expected [section], key = value or "
				     "; comment)", path, rc);
	return lis_error_set(err, WMD_EXIT_USAGE, "%s: cannot read", path);
}

static void option_name(const struct key_def *k, char *buf, size_t size)
{
	if (k->opt) {
		snprintf(buf, size, "%s", k->opt);
		return;
	}
	snprintf(buf, size, "%s", k->name);
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = '-';
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
	const char *section = "";
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &keys[i];
		char name[48], opt[80];
		option_name(k, name, sizeof name);
		snprintf(opt, sizeof opt, "--%s %s", name, k->arg);
		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, " [%s]\n", section);
		}
		fprintf(out, "  %-34s %s (default: %s)\n", opt, k->help, k->def);
	}
}

/* The key whose twin is "--OPT" (opt without the dashes, len bytes); NULL when none. */
static const struct key_def *key_for_option(const char *opt, size_t len)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		char name[48];
		option_name(&keys[i], name, sizeof name);
		if (strlen(name) == len && memcmp(name, opt, len) == 0)
			return &keys[i];
	}
	return NULL;
}

void wmd_config_free(struct wmd_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < N_KEYS; i++)
		if (K_IS_STRING(keys[i].type)) {
			char **slot = (char **)(void *)((char *)cfg + keys[i].off);
			free_secret(*slot);
			*slot = NULL;
		}
	for (size_t i = 0; i < cfg->n_profiles; i++)
		profile_free(&cfg->profiles[i]);
	free(cfg->profiles);
	cfg->profiles = NULL;
	cfg->n_profiles = 0;
}

static bool is_flag(const char *a)
{
	return strcmp(a, "--once") == 0 || strcmp(a, "--check-config") == 0;
}

int wmd_config_load(struct wmd_config *cfg, int argc, char **argv, FILE *out,
		    enum wmd_action *action, const char **config_file, struct lis_error *err)
{
	const char *file = NULL;
	char why[200];
	bool once = false, check = false;

	memset(cfg, 0, sizeof *cfg);
	*action = WMD_ACTION_RUN;
	if (config_file)
		*config_file = NULL;

	/* Pass 1: the options that are not keys, and the shape of the rest. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_help(out);
			*action = WMD_ACTION_HELP;
			return 0;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			fprintf(out, "wiremapd %s\n", LIS_VERSION);
			*action = WMD_ACTION_VERSION;
			return 0;
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--once") == 0) {
			once = true;
			continue;
		}
		if (strcmp(a, "--check-config") == 0) {
			check = true;
			continue;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc)
				return lis_error_set(err, WMD_EXIT_USAGE, "%s: needs a FILE", a);
			file = argv[++i];
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0) {
			file = a + 9;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return lis_error_set(err, WMD_EXIT_USAGE, "unexpected argument \"%.64s\" "
					     "(see wiremapd --help)", a);
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		if (!key_for_option(a + 2, len))
			return lis_error_set(err, WMD_EXIT_USAGE,
					     "unknown option %.*s (see wiremapd --help)",
					     (int)len + 2, a);
		if (!eq) {
			if (i + 1 >= argc)
				return lis_error_set(err, WMD_EXIT_USAGE, "%s: needs a value", a);
			i++;
		}
	}
	if (once && check)
		return lis_error_set(err, WMD_EXIT_USAGE,
				     "--once and --check-config: choose one");
	*action = check ? WMD_ACTION_CHECK : once ? WMD_ACTION_ONCE : WMD_ACTION_RUN;

	for (size_t i = 0; i < N_KEYS; i++)
		if (set_value(cfg, &keys[i], keys[i].def, why, sizeof why) < 0)
			return lis_error_set(err, WMD_EXIT_USAGE, "default of %s", why);
	if (!profile_add(cfg, "", 0))
		return lis_error_set(err, WMD_EXIT_USAGE, "out of memory");

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
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (is_flag(a) || strncmp(a, "--config=", 9) == 0)
			continue;
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			i++;
			continue;
		}
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		const struct key_def *k = key_for_option(a + 2, len);
		const char *v = eq ? eq + 1 : argv[++i];
		if (set_value(cfg, k, v, why, sizeof why) < 0)
			return lis_error_set(err, WMD_EXIT_USAGE, "--%.*s: %s", (int)len, a + 2,
					     strchr(why, ':') ? strchr(why, ':') + 2 : why);
	}
	return 0;
}
