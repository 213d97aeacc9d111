#include "lis_conftab.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lis_log.h"

static bool is_string(enum conftab_type t)
{
	return t == CONFTAB_STR || t == CONFTAB_PATH;
}

void conftab_free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static int set_string(char *field, const struct conftab_key *k, const char *v, char *why,
		      size_t why_size)
{
	if ((k->type == CONFTAB_PATH || (k->flags & CONFTAB_NONEMPTY)) && v[0] == '\0') {
		snprintf(why, why_size, "%s must not be empty", k->name);
		return -1;
	}
	if (k->check && k->check(k, v, why, why_size) < 0)
		return -1;
	char *copy = strdup(v);
	if (!copy) {
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	if (k->flags & CONFTAB_UPCASE)
		for (char *p = copy; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	char **slot = (char **)(void *)field;
	conftab_free_secret(*slot);
	*slot = copy;
	return 0;
}

/* Digits and at most one '.', read by hand: no locale (decimal comma), no exponent, no
 * "nan". */
static int set_double(char *field, const struct conftab_key *k, const char *v, char *why,
		      size_t why_size)
{
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
	if (!ok || d < k->dmin || d > k->dmax) {
		snprintf(why, why_size, "%s: \"%.64s\" is not a fraction in %g..%g", k->name, v,
			 k->dmin, k->dmax);
		return -1;
	}
	*(double *)(void *)field = d;
	return 0;
}

int conftab_set(void *base, const struct conftab_key *k, const char *v, char *why,
		size_t why_size)
{
	char *field = (char *)base + k->off;

	switch (k->type) {
	case CONFTAB_STR:
	case CONFTAB_PATH:
		return set_string(field, k, v, why, why_size);
	case CONFTAB_UINT: {
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
		snprintf(why, why_size, "%s: \"%.64s\" is not a whole number in %lu..%lu%s%s",
			 k->name, v, k->min, k->max, k->range_why ? " " : "",
			 k->range_why ? k->range_why : "");
		return -1;
	}
	case CONFTAB_DOUBLE:
		return set_double(field, k, v, why, why_size);
	case CONFTAB_BOOL: {
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
	case CONFTAB_LOG_TARGET:
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
	case CONFTAB_LOG_LEVEL: {
		int l = lis_log_level_from_name(v);
		if (l < 0) {
			snprintf(why, why_size, "%s: \"%.64s\" is not err, warn, info or debug",
				 k->name, v);
			return -1;
		}
		*(int *)(void *)field = l;
		return 0;
	}
	case CONFTAB_ENUM:
		for (size_t i = 0; i < k->choices->n; i++)
			if (strcmp(v, k->choices->names[i]) == 0) {
				*(int *)(void *)field = k->choices->values[i];
				return 0;
			}
		snprintf(why, why_size, "%s: \"%.64s\" is not %s", k->name, v,
			 k->choices->expect);
		return -1;
	}
	snprintf(why, why_size, "%s: unhandled type", k->name);
	return -1;
}

int conftab_set_defaults(const struct conftab_table *tab, void *base,
			 struct lis_error *err)
{
	char why[200];
	for (size_t i = 0; i < tab->n_keys; i++)
		if (tab->keys[i].def &&
		    conftab_set(base, &tab->keys[i], tab->keys[i].def, why, sizeof why) < 0)
			return lis_error_set(err, LIS_E_USAGE, "default of %s", why);
	return 0;
}

const struct conftab_key *conftab_find(const struct conftab_table *tab, const char *section,
				       const char *name)
{
	for (size_t i = 0; i < tab->n_keys; i++)
		if ((!section || strcmp(tab->keys[i].section, section) == 0) &&
		    strcmp(tab->keys[i].name, name) == 0)
			return &tab->keys[i];
	return NULL;
}

static bool section_in_table(const struct conftab_table *tab, const char *section)
{
	for (size_t i = 0; i < tab->n_keys; i++)
		if (strcmp(tab->keys[i].section, section) == 0)
			return true;
	return false;
}

void conftab_fail(struct conftab_file *cf, unsigned line, const char *fmt, ...)
{
	if (cf->err_line)
		return;   /* report only the first error */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cf->why, sizeof cf->why, fmt, ap);
	va_end(ap);
	cf->err_line = line;
}

static char *read_line(char *str, int num, void *stream)
{
	struct conftab_file *cf = stream;
	char *r = fgets(str, num, cf->f);
	if (!r)
		return NULL;
	cf->line++;
	const char *p = r + strspn(r, " \t");
	cf->indented = p != r;
	/* libinih reports a section only with its first key: sections are checked here. */
	if (*p == '[' && !cf->err_line) {
		const char *end = strchr(p, ']');
		char name[80];
		if (end && (size_t)(end - p - 1) < sizeof name) {
			memcpy(name, p + 1, (size_t)(end - p - 1));
			name[end - p - 1] = '\0';
			if (!section_in_table(cf->tab, name) &&
			    (!cf->tab->section || cf->tab->section(cf, name) < 0))
				conftab_fail(cf, cf->line, "unknown section [%s]", name);
		}
	}
	return r;
}

int conftab_file_store(struct conftab_file *cf, const char *section, const char *name,
		       const struct conftab_key *k, void *base, unsigned *seen,
		       const char *value)
{
	if (!k) {
		conftab_fail(cf, cf->line, "unknown key \"%.64s\" in section [%s]", name, section);
		return 0;
	}
	if (*seen) {
		if (cf->indented) /* libinih takes an indented line as a continuation */
			conftab_fail(cf, cf->line,
				     "indented line continues %s; remove the leading space", name);
		else
			conftab_fail(cf, cf->line, "%s given twice (first on line %u)", name,
				     *seen);
		return 0;
	}
	*seen = cf->line;
	if (conftab_set(base, k, value, cf->why, sizeof cf->why) < 0) {
		cf->err_line = cf->line;
		return 0;
	}
	return 1;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct conftab_file *cf = user;
	const struct conftab_table *tab = cf->tab;

	if (cf->err_line)
		return 1;
	if (!section_in_table(tab, section)) {
		int r = tab->key ? tab->key(cf, section, name, value) : -1;
		if (r >= 0)
			return r;
		conftab_fail(cf, cf->line, "unknown section [%.64s]", section);
		return 0;
	}
	const struct conftab_key *k = conftab_find(tab, section, name);
	return conftab_file_store(cf, section, name, k, cf->base,
				  k ? &cf->seen[k - tab->keys] : NULL, value);
}

int conftab_load_file(const struct conftab_table *tab, void *base, const char *path,
		      struct lis_error *err)
{
	struct conftab_file cf = { .tab = tab, .base = base };
	cf.seen = calloc(tab->n_keys ? tab->n_keys : 1, sizeof *cf.seen);
	if (!cf.seen)
		return lis_error_set(err, LIS_E_SYSTEM, "%s: out of memory", path);
	cf.f = fopen(path, "r");
	if (!cf.f) {
		free(cf.seen);
		return lis_error_set(err, LIS_E_USAGE, "%s: cannot open: %s", path, strerror(errno));
	}
	int rc = ini_parse_stream(read_line, &cf, on_key, &cf);
	fclose(cf.f);
	free(cf.seen);
	if (rc == 0 && !cf.err_line && tab->finish)
		tab->finish(&cf);
	if (rc == 0 && !cf.err_line)
		return 0;
	if (cf.err_line && (rc <= 0 || (unsigned)rc >= cf.err_line))
		return lis_error_set(err, LIS_E_USAGE, "%s:%u: %s", path, cf.err_line, cf.why);
	if (rc > 0)
		return lis_error_set(err, LIS_E_USAGE,
				     "%s:%d: syntax error (expected [section], key = value or "
				     "; comment)", path, rc);
	return lis_error_set(err, LIS_E_USAGE, "%s: cannot read", path);
}

static void option_name(const struct conftab_key *k, char *buf, size_t size)
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

const struct conftab_key *conftab_option(const struct conftab_table *tab, const char *opt,
					 size_t len)
{
	for (size_t i = 0; i < tab->n_keys; i++) {
		char name[64];
		option_name(&tab->keys[i], name, sizeof name);
		if (strlen(name) == len && memcmp(name, opt, len) == 0)
			return &tab->keys[i];
	}
	return NULL;
}

/* The index of a in flags; -1 when a is no flag. */
static int flag_index(const char *a, const char *const *flags)
{
	for (int i = 0; flags && flags[i]; i++)
		if (strcmp(a, flags[i]) == 0)
			return i;
	return -1;
}

int conftab_check_args(const struct conftab_table *tab, int argc, char **argv,
		       const char *const *flags, bool *flag_seen, const char *prog,
		       const char **file, struct lis_error *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int f = flag_index(a, flags);
		if (f >= 0) {
			if (flag_seen)
				flag_seen[f] = true;
			continue;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc)
				return lis_error_set(err, LIS_E_USAGE, "%s: needs a FILE", a);
			*file = argv[++i];
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0) {
			*file = a + 9;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return lis_error_set(err, LIS_E_USAGE, "unexpected argument \"%.64s\" "
					     "(see %s --help)", a, prog);
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		if (!conftab_option(tab, a + 2, len))
			return lis_error_set(err, LIS_E_USAGE, "unknown option %.*s (see %s --help)",
					     (int)len + 2, a, prog);
		if (!eq) {
			if (i + 1 >= argc)
				return lis_error_set(err, LIS_E_USAGE, "%s: needs a value", a);
			i++;
		}
	}
	return 0;
}

int conftab_apply_args(const struct conftab_table *tab, void *base, int argc, char **argv,
		       const char *const *flags, struct lis_error *err)
{
	char why[200];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (flag_index(a, flags) >= 0 || strncmp(a, "--config=", 9) == 0)
			continue;
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			i++;
			continue;
		}
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		const struct conftab_key *k = conftab_option(tab, a + 2, len);
		const char *v = eq ? eq + 1 : argv[++i];
		if (conftab_set(base, k, v, why, sizeof why) < 0)
			return lis_error_set(err, LIS_E_USAGE, "--%.*s: %s", (int)len, a + 2,
					     strchr(why, ':') ? strchr(why, ':') + 2 : why);
	}
	return 0;
}

void conftab_print_help(const struct conftab_table *tab, FILE *out)
{
	const char *section = "";
	for (size_t i = 0; i < tab->n_keys; i++) {
		const struct conftab_key *k = &tab->keys[i];
		char name[64], opt[80];
		option_name(k, name, sizeof name);
		snprintf(opt, sizeof opt, "--%s %s", name, k->arg);
		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, " [%s]\n", section);
		}
		fprintf(out, "  %-34s %s (default: %s)\n", opt, k->help,
			k->def && k->def[0] ? k->def : "\"\"");
	}
}

void conftab_free(const struct conftab_key *keys, size_t n_keys, void *base)
{
	for (size_t i = 0; i < n_keys; i++)
		if (is_string(keys[i].type)) {
			char **slot = (char **)(void *)((char *)base + keys[i].off);
			conftab_free_secret(*slot);
			*slot = NULL;
		}
}

enum conftab_early conftab_early_option(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return CONFTAB_HELP;
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)
			return CONFTAB_VERSION;
	}
	return CONFTAB_RUN;
}

bool conftab_same(const struct conftab_key *k, const void *a, const void *b)
{
	const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
	switch (k->type) {
	case CONFTAB_STR:
	case CONFTAB_PATH: {
		const char *x = *(char *const *)(const void *)pa;
		const char *y = *(char *const *)(const void *)pb;
		return strcmp(x ? x : "", y ? y : "") == 0;
	}
	case CONFTAB_UINT:
		return *(const unsigned long *)(const void *)pa ==
		       *(const unsigned long *)(const void *)pb;
	case CONFTAB_DOUBLE:
		return *(const double *)(const void *)pa == *(const double *)(const void *)pb;
	case CONFTAB_BOOL:
		return *(const bool *)(const void *)pa == *(const bool *)(const void *)pb;
	case CONFTAB_LOG_TARGET:
	case CONFTAB_LOG_LEVEL:
	case CONFTAB_ENUM:
		return *(const int *)(const void *)pa == *(const int *)(const void *)pb;
	}
	return false;
}
