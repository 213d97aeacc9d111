/* The table-driven configuration engine of the daemons (lisd, wiremapd): one table of keys
 * drives the INI file (libinih, every message "FILE:LINE: reason"), the command-line twins
 * (--KEY-NAME VALUE), the help text, the defaults and freeing. What only one daemon has
 * (lisd's URI checks, wiremapd's [snmp.NAME] profiles) comes in through hooks. */
#ifndef LIS_CONFTAB_H
#define LIS_CONFTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lis_error.h"

enum conftab_type {
	CONFTAB_STR,          /* char *: any text (flags, check hook) */
	CONFTAB_PATH,         /* char *: non-empty text, a file or directory */
	CONFTAB_UINT,         /* unsigned long: decimal, min..max */
	CONFTAB_DOUBLE,       /* double: decimal fraction dmin..dmax, no exponent, no locale */
	CONFTAB_BOOL,         /* bool: true|yes|on|1, false|no|off|0 */
	CONFTAB_LOG_TARGET,   /* int: stderr | syslog (enum lis_log_target) */
	CONFTAB_LOG_LEVEL,    /* int: err | warn | info | debug (enum lis_log_level) */
	CONFTAB_ENUM,         /* int: one of choices (exact spelling) */
};

/* flags of a CONFTAB_STR key */
#define CONFTAB_NONEMPTY 1u   /* "NAME must not be empty" */
#define CONFTAB_UPCASE   2u   /* stored in capitals (the check sees the value as given) */

struct conftab_key;

/* A daemon's own test of a text value: 0 when fine, else -1 with the reason in why (starting
 * with the key's name, as "name: \"value\" is not ..."). */
typedef int conftab_check_fn(const struct conftab_key *k, const char *v, char *why,
			     size_t why_size);

/* The words of a CONFTAB_ENUM key: names[i] stores values[i]. */
struct conftab_enum {
	const char *const *names;
	const int *values;
	size_t n;
	const char *expect;       /* "is not EXPECT" in the message */
};

struct conftab_key {
	const char *section;
	const char *name;
	enum conftab_type type;
	size_t off;               /* into the daemon's struct */
	const char *def;          /* default, parsed like any other value; NULL: none */
	unsigned long min, max;   /* CONFTAB_UINT */
	const char *opt;          /* command-line twin; NULL: --NAME with '-' for '_' */
	const char *arg;          /* placeholder in --help */
	const char *help;
	unsigned flags;           /* CONFTAB_STR */
	conftab_check_fn *check;  /* CONFTAB_STR: NULL or the daemon's test */
	const struct conftab_enum *choices;   /* CONFTAB_ENUM */
	double dmin, dmax;        /* CONFTAB_DOUBLE */
	const char *range_why;    /* CONFTAB_UINT: why the range is what it is, said after an
	                           * out-of-range value ("(RFC ... says ...)"); NULL: nothing */
};

/* One file being read. libinih does not tell its handler the line number; the engine's
 * reader counts lines so that every message can say FILE:LINE. */
struct conftab_file {
	const struct conftab_table *tab;
	void *base;               /* the daemon's struct */
	FILE *f;
	unsigned line;            /* line being read */
	unsigned *seen;           /* line where each table key was set, 0 = not yet */
	bool indented;            /* the current line starts with a space or tab */
	unsigned err_line;        /* 0: no error yet; only the first error is kept */
	char why[200];
};

struct conftab_table {
	const struct conftab_key *keys;
	size_t n_keys;
	void *user;               /* for the hooks */
	/* A header [name] of a section without keys in the table: 0 when the hook took it
	 * (it may have called conftab_fail()), -1 for "unknown section [name]". */
	int (*section)(struct conftab_file *cf, const char *name);
	/* A key in a section without keys in the table: 1 when stored, 0 after conftab_fail(),
	 * -1 for "unknown section [section]". */
	int (*key)(struct conftab_file *cf, const char *section, const char *name,
		   const char *value);
	/* The file was read without error: the checks across keys. */
	void (*finish)(struct conftab_file *cf);
};

/* Parse and store one value of key k into base. On failure -1 with the reason (without
 * location) in why; strings replaced are wiped. */
int conftab_set(void *base, const struct conftab_key *k, const char *v, char *why,
		size_t why_size);

/* Set every key that has a default; on failure -1 with "default of REASON" in err. */
int conftab_set_defaults(const struct conftab_table *tab, void *base,
			 struct lis_error *err);

/* The table's key in section (NULL: any section) named name; NULL when none. */
const struct conftab_key *conftab_find(const struct conftab_table *tab, const char *section,
				       const char *name);

/* Remember the first error of a file, at line. */
void conftab_fail(struct conftab_file *cf, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Store value of key k (NULL: unknown key) read in section into base; *seen is the line
 * where the key was set before (0: not yet). The ini handler's answer: 1 stored, 0 failed. */
int conftab_file_store(struct conftab_file *cf, const char *section, const char *name,
		       const struct conftab_key *k, void *base, unsigned *seen,
		       const char *value);

/* Read the INI file at path into base. On failure -1 with "PATH:LINE: reason" (or
 * "PATH: reason") in err, code LIS_E_USAGE (LIS_E_SYSTEM when out of memory). */
int conftab_load_file(const struct conftab_table *tab, void *base, const char *path,
		      struct lis_error *err);

/* The twin of "--OPT" (opt without the dashes, len bytes); NULL when none. */
const struct conftab_key *conftab_option(const struct conftab_table *tab, const char *opt,
					 size_t len);

/* The command line's options besides flags (NULL-terminated list, e.g. "--check-config";
 * flag_seen[i] is set when flags[i] is given), -c FILE and --config=FILE: each must be a twin
 * with a value. *file gets the FILE given (else it is left alone); on a usage error -1 with
 * the reason in err. prog names the program in "see PROG --help". */
int conftab_check_args(const struct conftab_table *tab, int argc, char **argv,
		       const char *const *flags, bool *flag_seen, const char *prog,
		       const char **file, struct lis_error *err);

/* Apply the command-line twins (already checked) to base: they override the file. */
int conftab_apply_args(const struct conftab_table *tab, void *base, int argc, char **argv,
		       const char *const *flags, struct lis_error *err);

/* Whether key k holds the same value in a and b (two structs the table fills). */
bool conftab_same(const struct conftab_key *k, const void *a, const void *b);

/* The first of -h/--help and -V/--version on the command line, which stop a program before
 * anything else is read: CONFTAB_HELP or CONFTAB_VERSION; CONFTAB_RUN when neither is given. */
enum conftab_early { CONFTAB_RUN, CONFTAB_HELP, CONFTAB_VERSION };
enum conftab_early conftab_early_option(int argc, char **argv);

/* The options' part of --help: one line per key, under its [section]. */
void conftab_print_help(const struct conftab_table *tab, FILE *out);

/* Free, and wipe, the strings the table's keys hold in base. */
void conftab_free(const struct conftab_key *keys, size_t n_keys, void *base);

/* Wipe and free a string; NULL does nothing. */
void conftab_free_secret(char *s);

#endif
