#include "lis_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lis_auth.h"
#include "lis_log.h"
#include "lis_version.h"

enum key_type {
	K_STR,          /* any text */
	K_NONEMPTY,     /* text, required */
	K_ADDR,         /* IPv4 or IPv6 literal */
	K_URLPATH,      /* "/..." without spaces or control bytes */
	K_DOMAIN,       /* host name */
	K_UINT,         /* decimal, min..max */
	K_BOOL,
	K_TARGET,       /* stderr | syslog */
	K_LEVEL,        /* err | warn | info | debug */
	K_ADDRLIST,     /* addresses and CIDR prefixes, comma-separated */
	K_SUBJECTS,     /* subject DNs, ';'-separated */
	K_URIBASE,      /* "" or https://host[:port]/path/ */
	K_DEREF,        /* possession | authorized */
	K_INSTANCE,     /* "" or a name usable in a file name: letters, digits, . _ - */
};
#define K_IS_STRING(t) ((t) == K_STR || (t) == K_NONEMPTY || (t) == K_ADDR || \
			(t) == K_URLPATH || (t) == K_DOMAIN || (t) == K_ADDRLIST || \
			(t) == K_SUBJECTS || (t) == K_URIBASE || (t) == K_INSTANCE)

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	size_t off;               /* into struct lis_config */
	const char *def;          /* default, parsed like any other value */
	unsigned long min, max;   /* K_UINT */
	const char *arg;          /* placeholder in --help */
	const char *help;
};

#define OFF(f) offsetof(struct lis_config, f)

/* The one table of configuration keys. Man page lis.conf(5) and deploy/lis.conf.example
 * follow it; keep them in step. */
static const struct key_def keys[] = {
	{ "server", "listen", K_ADDR, OFF(listen), "127.0.0.1", 0, 0, "ADDR",
	  "address to bind (IPv4 or IPv6 literal)" },
	{ "server", "port", K_UINT, OFF(port), "8443", 1, 65535, "PORT",
	  "TCP port for HTTPS" },
	{ "server", "held_path", K_URLPATH, OFF(held_path), "/held", 0, 0, "PATH",
	  "URL path that accepts HELD requests" },
	{ "server", "tls_cert", K_NONEMPTY, OFF(tls_cert), "/etc/lis/tls/cert.pem", 0, 0, "FILE",
	  "TLS certificate chain (PEM), server certificate first" },
	{ "server", "tls_key", K_NONEMPTY, OFF(tls_key), "/etc/lis/tls/key.pem", 0, 0, "FILE",
	  "TLS private key (PEM, unencrypted); never logged" },
	{ "server", "threads", K_UINT, OFF(threads), "4", 1, 256, "N",
	  "worker threads (libmicrohttpd thread pool)" },
	{ "server", "max_body", K_UINT, OFF(max_body), "65536", 256, 16777216, "BYTES",
	  "largest request body accepted; larger gets 413" },
	{ "server", "timeout", K_UINT, OFF(timeout), "30", 1, 3600, "SECONDS",
	  "close connections idle this long" },
	{ "database", "conninfo", K_STR, OFF(conninfo), "dbname=lis", 0, 0, "CONNINFO",
	  "libpq connection string; never logged" },
	{ "wiremap", "max_binding_age", K_UINT, OFF(max_binding_age), "86400", 1, 315360000,
	  "SECONDS", "older observed bindings are not evidence" },
	{ "auth", "client_ca", K_STR, OFF(client_ca), "", 0, 0, "FILE",
	  "PEM CA bundle; set: clients are asked for a certificate" },
	{ "auth", "allowed_subjects", K_SUBJECTS, OFF(allowed_subjects), "", 0, 0, "DNS",
	  "';'-separated certificate subject DNs that may ask third-party requests" },
	{ "auth", "allowed_addresses", K_ADDRLIST, OFF(allowed_addresses), "", 0, 0, "LIST",
	  "comma-separated addresses or CIDR prefixes that may ask third-party requests" },
	{ "held", "domain", K_DOMAIN, OFF(domain), "lis.invalid", 0, 0, "DOMAIN",
	  "presence entity is pres:<random id>@DOMAIN" },
	{ "held", "retention", K_UINT, OFF(retention), "86400", 0, 315360000, "SECONDS",
	  "gbp:retention-expiry is this long after the answer" },
	{ "held", "retransmission_allowed", K_BOOL, OFF(retransmission_allowed), "true", 0, 0,
	  "BOOL", "value of gbp:retransmission-allowed" },
	{ "held", "uri_base", K_URIBASE, OFF(uri_base), "", 0, 0, "URI",
	  "location URIs are URI + token, e.g. https://lis.example.net:8443/loc/; empty: none" },
	{ "held", "uri_key_file", K_STR, OFF(uri_key_file), "", 0, 0, "FILE",
	  "location URI key (64 hex digits) shared by all lisd; empty: random per start" },
	{ "held", "uri_lifetime", K_UINT, OFF(uri_lifetime), "1800", 1, 31536000, "SECONDS",
	  "how long a location URI is valid" },
	{ "held", "deref_auth", K_DEREF, OFF(deref_auth), "possession", 0, 0,
	  "possession|authorized", "who may dereference location URIs" },
	{ "querylog", "enabled", K_BOOL, OFF(querylog_enabled), "true", 0, 0, "BOOL",
	  "log every HELD answer and dereference to table query_log" },
	{ "querylog", "spool_dir", K_NONEMPTY, OFF(querylog_spool_dir), "/var/lib/lis/spool", 0, 0,
	  "DIR", "durable spool of log entries not yet in PostgreSQL (one file per instance)" },
	{ "querylog", "instance", K_INSTANCE, OFF(querylog_instance), "", 0, 0, "NAME",
	  "this lisd's name in the log (letters, digits, . _ -); empty: the host name" },
	{ "querylog", "batch", K_UINT, OFF(querylog_batch), "500", 1, 10000, "N",
	  "log entries per INSERT" },
	{ "querylog", "flush_ms", K_UINT, OFF(querylog_flush_ms), "200", 1, 60000, "MS",
	  "longest wait before a partial batch is spooled and inserted" },
	{ "log", "target", K_TARGET, OFF(log_target), "stderr", 0, 0, "stderr|syslog",
	  "where log lines go" },
	{ "log", "level", K_LEVEL, OFF(log_level), "info", 0, 0, "err|warn|info|debug",
	  "most verbose level written" },
};
#define N_KEYS (sizeof keys / sizeof keys[0])

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

const char *lis_config_deref_path(const struct lis_config *cfg)
{
	if (!cfg->uri_base || !cfg->uri_base[0])
		return NULL;
	return strchr(cfg->uri_base + 8, '/');
}

/* Parse and store one value. On failure writes the reason (without location) to why. */
static int set_value(struct lis_config *cfg, const struct key_def *k, const char *v,
		     char *why, size_t why_size)
{
	char *field = (char *)cfg + k->off;

	switch (k->type) {
	case K_NONEMPTY:
	case K_STR:
	case K_ADDR:
	case K_URLPATH:
	case K_DOMAIN:
	case K_ADDRLIST:
	case K_SUBJECTS:
	case K_URIBASE:
	case K_INSTANCE: {
		if ((k->type == K_NONEMPTY || k->type == K_ADDR || k->type == K_URLPATH ||
		     k->type == K_DOMAIN) && v[0] == '\0') {
			snprintf(why, why_size, "%s must not be empty", k->name);
			return -1;
		}
		if (k->type == K_ADDR) {
			unsigned char tmp[sizeof(struct in6_addr)];
			if (inet_pton(AF_INET, v, tmp) != 1 && inet_pton(AF_INET6, v, tmp) != 1) {
				snprintf(why, why_size, "%s: \"%.64s\" is not an IPv4 or IPv6 address",
					 k->name, v);
				return -1;
			}
		}
		if (k->type == K_URLPATH) {
			bool ok = v[0] == '/' && strlen(v) < 256;
			for (const char *p = v; *p && ok; p++)
				ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f &&
				     *p != '?' && *p != '#';
			if (!ok) {
				snprintf(why, why_size,
					 "%s: \"%.64s\" is not a URL path (starts with /, no spaces, ? or #)",
					 k->name, v);
				return -1;
			}
		}
		if (k->type == K_DOMAIN) {
			bool ok = strlen(v) <= 253;
			for (const char *p = v; *p && ok; p++)
				ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.';
			if (!ok) {
				snprintf(why, why_size, "%s: \"%.64s\" is not a domain name", k->name, v);
				return -1;
			}
		}
		if (k->type == K_ADDRLIST) {
			struct lis_acl acl;
			char w[160];
			if (lis_acl_parse(v, &acl, w, sizeof w) < 0) {
				snprintf(why, why_size, "%s: %s", k->name, w);
				return -1;
			}
			lis_acl_free(&acl);
		}
		if (k->type == K_SUBJECTS) {
			struct lis_subjects subj;
			char w[160];
			if (lis_subjects_parse(v, &subj, w, sizeof w) < 0) {
				snprintf(why, why_size, "%s: %s", k->name, w);
				return -1;
			}
			lis_subjects_free(&subj);
		}
		if (k->type == K_INSTANCE) {
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
		}
		if (k->type == K_URIBASE && v[0] && !uri_base_is_valid(v)) {
			snprintf(why, why_size,
				 "%s: \"%.64s\" is not an https URI ending in / "
				 "(e.g. https://lis.example.net:8443/loc/)", k->name, v);
			return -1;
		}
		char *copy = strdup(v);
		if (!copy) {
			snprintf(why, why_size, "out of memory");
			return -1;
		}
		char **slot = (char **)(void *)field;
		free(*slot);
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
	case K_DEREF:
		if (strcmp(v, "possession") == 0) {
			*(int *)(void *)field = LIS_DEREF_POSSESSION;
			return 0;
		}
		if (strcmp(v, "authorized") == 0) {
			*(int *)(void *)field = LIS_DEREF_AUTHORIZED;
			return 0;
		}
		snprintf(why, why_size, "%s: \"%.64s\" is not possession or authorized", k->name, v);
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

static bool section_exists(const char *section)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

/* libinih does not tell the handler the line number; the reader below counts lines so that
 * every message can say FILE:LINE. */
struct ini_state {
	FILE *f;
	unsigned line;
	struct lis_config *cfg;
	unsigned seen[N_KEYS];        /* line where each key was set, 0 = not yet */
	bool indented;                /* the current line starts with a space or tab */
	unsigned err_line;
	char why[200];
};

static char *read_line(char *str, int num, void *stream)
{
	struct ini_state *st = stream;
	char *r = fgets(str, num, st->f);
	if (!r)
		return NULL;
	st->line++;
	/* libinih reports a section only with its first key: check empty sections here. */
	const char *p = r + strspn(r, " \t");
	st->indented = p != r;
	if (*p == '[' && !st->err_line) {
		const char *end = strchr(p, ']');
		char name[80];
		if (end && (size_t)(end - p - 1) < sizeof name) {
			memcpy(name, p + 1, (size_t)(end - p - 1));
			name[end - p - 1] = '\0';
			if (!section_exists(name)) {
				snprintf(st->why, sizeof st->why, "unknown section [%s]", name);
				st->err_line = st->line;
			}
		}
	}
	return r;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	const struct key_def *k;

	if (st->err_line)
		return 1;   /* report only the first error */
	if (!section_exists(section)) {
		snprintf(st->why, sizeof st->why, "unknown section [%.64s]", section);
		goto fail;
	}
	k = find_key(section, name);
	if (!k) {
		snprintf(st->why, sizeof st->why, "unknown key \"%.64s\" in section [%s]", name,
			 section);
		goto fail;
	}
	size_t i = (size_t)(k - keys);
	if (st->seen[i]) {
		if (st->indented) /* libinih takes an indented line as a continuation */
			snprintf(st->why, sizeof st->why,
				 "indented line continues %s; remove the leading space", name);
		else
			snprintf(st->why, sizeof st->why, "%s given twice (first on line %u)", name,
				 st->seen[i]);
		goto fail;
	}
	st->seen[i] = st->line;
	if (set_value(st->cfg, k, value, st->why, sizeof st->why) < 0)
		goto fail;
	return 1;
fail:
	st->err_line = st->line;
	return 0;
}

static int load_file(struct lis_config *cfg, const char *path, struct lis_error *err)
{
	struct ini_state st = { .cfg = cfg };
	st.f = fopen(path, "r");
	if (!st.f)
		return lis_error_set(err, LIS_EXIT_USAGE, "%s: cannot open: %s", path, strerror(errno));
	int rc = ini_parse_stream(read_line, &st, on_key, &st);
	fclose(st.f);
	if (rc == 0 && !st.err_line)
		return 0;
	if (st.err_line && (rc <= 0 || (unsigned)rc >= st.err_line))
		return lis_error_set(err, LIS_EXIT_USAGE, "%s:%u: %s", path, st.err_line, st.why);
	if (rc > 0)
		return lis_error_set(err, LIS_EXIT_USAGE,
				     "%s:%d: syntax error (expected [section], key = value or ; comment)",
				     path, rc);
	return lis_error_set(err, LIS_EXIT_USAGE, "%s: cannot read", path);
}

static void print_help(FILE *out)
{
	fprintf(out,
		"Usage: lisd [-c FILE] [--OPTION VALUE ...] [--check-config] [--help] [--version]\n"
		"HELD (RFC 5985) Location Information Server over HTTPS.\n\n"
		"  -c, --config FILE   configuration file (default %s; skipped when absent\n"
		"                      and not given)\n"
		"  --check-config      read the configuration and TLS files, print\n"
		"                      \"configuration OK\" and exit\n"
		"  -h, --help          print this help and exit\n"
		"  -V, --version       print the version and exit\n\n"
		"Every configuration key has a twin that overrides the file:\n",
		LIS_CONFIG_DEFAULT_FILE);
	const char *section = "";
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &keys[i];
		char opt[64];
		size_t n = (size_t)snprintf(opt, sizeof opt, "--%s %s", k->name, k->arg);
		for (size_t j = 2; j < n && opt[j] != ' '; j++)
			if (opt[j] == '_')
				opt[j] = '-';
		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, " [%s]\n", section);
		}
		fprintf(out, "  %-34s %s (default: %s)\n", opt, k->help,
			k->def[0] ? k->def : "\"\"");
	}
}

/* Map "--held-path" to its key ("held_path"); NULL when not a key's twin. */
static const struct key_def *key_for_option(const char *opt, size_t len)
{
	char name[64];
	if (len >= sizeof name)
		return NULL;
	for (size_t i = 0; i < len; i++)
		name[i] = opt[i] == '-' ? '_' : opt[i];
	name[len] = '\0';
	/* The file's spelling with underscores is not the option's: keep one spelling. */
	if (memchr(opt, '_', len))
		return NULL;
	return find_key(NULL, name);
}

void lis_config_free(struct lis_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		enum key_type t = keys[i].type;
		if (K_IS_STRING(t)) {
			char **slot = (char **)(void *)((char *)cfg + keys[i].off);
			free(*slot);
			*slot = NULL;
		}
	}
}

int lis_config_load(struct lis_config *cfg, int argc, char **argv, FILE *out,
		    enum lis_config_action *action, const char **config_file,
		    struct lis_error *err)
{
	const char *file = NULL;
	char why[200];

	memset(cfg, 0, sizeof *cfg);
	*action = LIS_ACTION_RUN;

	/* Pass 1: the options that are not keys, and the shape of the rest. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_help(out);
			*action = LIS_ACTION_HELP;
			return 0;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			fprintf(out, "lisd %s\n", LIS_VERSION);
			*action = LIS_ACTION_VERSION;
			return 0;
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--check-config") == 0) {
			*action = LIS_ACTION_CHECK;
			continue;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc)
				return lis_error_set(err, LIS_EXIT_USAGE, "%s: needs a FILE", a);
			file = argv[++i];
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0) {
			file = a + 9;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return lis_error_set(err, LIS_EXIT_USAGE,
					     "unexpected argument \"%.64s\" (see lisd --help)", a);
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		if (!key_for_option(a + 2, len))
			return lis_error_set(err, LIS_EXIT_USAGE,
					     "unknown option %.*s (see lisd --help)", (int)len + 2, a);
		if (!eq) {
			if (i + 1 >= argc)
				return lis_error_set(err, LIS_EXIT_USAGE, "%s: needs a value", a);
			i++;
		}
	}

	for (size_t i = 0; i < N_KEYS; i++)
		if (set_value(cfg, &keys[i], keys[i].def, why, sizeof why) < 0)
			return lis_error_set(err, LIS_EXIT_USAGE, "default of %s", why);

	if (!file) {
		FILE *f = fopen(LIS_CONFIG_DEFAULT_FILE, "r");
		if (f) {
			fclose(f);
			file = LIS_CONFIG_DEFAULT_FILE;
		}
	}
	if (file && load_file(cfg, file, err) < 0)
		return -1;
	if (config_file)
		*config_file = file;

	/* Pass 2: command-line twins override the file. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--check-config") == 0 || strncmp(a, "--config=", 9) == 0)
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
			return lis_error_set(err, LIS_EXIT_USAGE, "--%.*s: %s", (int)len, a + 2,
					     strchr(why, ':') ? strchr(why, ':') + 2 : why);
	}
	if (!cfg->querylog_instance[0]) {
		/* design.md: the instance defaults to the host name. */
		char host[256] = "";
		if (gethostname(host, sizeof host - 1) < 0 || !host[0])
			snprintf(host, sizeof host, "lisd");
		const struct key_def *k = find_key("querylog", "instance");
		if (set_value(cfg, k, host, why, sizeof why) < 0)
			return lis_error_set(err, LIS_EXIT_USAGE,
					     "[querylog] instance is empty and the host name will not "
					     "do (%s); set instance", why);
	}
	return 0;
}

int lis_read_file(const char *path, size_t max, char **data, size_t *len, struct lis_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return lis_error_set(err, LIS_EXIT_RUNTIME, "%s: cannot open: %s", path,
				     strerror(errno));
	char *buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return lis_error_set(err, LIS_EXIT_RUNTIME, "%s: out of memory", path);
	}
	size_t n = fread(buf, 1, max + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad || n > max) {
		lis_free_secret(buf);
		return lis_error_set(err, LIS_EXIT_RUNTIME, "%s: %s", path,
				     bad ? "read error" : "file too large");
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

void lis_free_secret(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Refuse to prompt for a passphrase: lisd starts unattended. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

int lis_config_load_tls(const struct lis_config *cfg, char **cert_out, char **key_out,
			struct lis_error *err)
{
	char *cert = NULL, *key = NULL;
	size_t cert_len, key_len;
	BIO *bio = NULL;
	X509 *x509 = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = -1;

	if (lis_read_file(cfg->tls_cert, 1 << 20, &cert, &cert_len, err) < 0)
		goto out;
	if (lis_read_file(cfg->tls_key, 1 << 20, &key, &key_len, err) < 0)
		goto out;

	bio = BIO_new_mem_buf(cert, (int)cert_len);
	x509 = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!x509) {
		lis_error_set(err, LIS_EXIT_RUNTIME, "%s: no PEM certificate in it", cfg->tls_cert);
		goto out;
	}
	bio = BIO_new_mem_buf(key, (int)key_len);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!pkey) {
		lis_error_set(err, LIS_EXIT_RUNTIME,
			      "%s: no unencrypted PEM private key in it", cfg->tls_key);
		goto out;
	}
	if (X509_check_private_key(x509, pkey) != 1) {
		lis_error_set(err, LIS_EXIT_RUNTIME, "%s: key does not match the certificate in %s",
			      cfg->tls_key, cfg->tls_cert);
		goto out;
	}
	*cert_out = cert;
	*key_out = key;
	cert = key = NULL;
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	X509_free(x509);
	free(cert);
	lis_free_secret(key);
	return rc;
}
