/* lisctl: the operators' command. CSV loading and validation (ctl_csv.c) need no database,
 * so the unit tests call them directly; the commands (ctl_import.c, ctl_db.c) compose them
 * with db/. */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include <stdio.h>

#include "db.h"

/* lisctl prints at most this many errors, then how many more there were. */
#define CTL_ERRORS_MAX 50

/* Collected "FILE:LINE:COL: message" lines. */
struct ctl_errors {
	size_t n;       /* stored in msg[] */
	size_t total;   /* reported, including those past CTL_ERRORS_MAX */
	char msg[CTL_ERRORS_MAX][320];
};
void ctl_errors_add(struct ctl_errors *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ctl_errors_print(const struct ctl_errors *e, FILE *out);

struct ctl_csv; /* a parsed file: its cells own every string the rows below point to */

struct ctl_sites {
	struct ctl_csv *csv;
	struct db_site_row *rows;
	size_t n;
};
struct ctl_locations {
	struct ctl_csv *csv;
	struct db_location_row *rows;
	size_t n;
};
struct ctl_subnets {
	struct ctl_csv *csv;
	struct db_subnet_row *rows; /* prefix in canonical form (inet_ntop + "/len") */
	size_t n;
};

/* Read and validate one wiremap CSV file (format: lis-wiremap(5)). Every problem found is
 * added to errs, named "PATH:LINE:COL" with PATH as given. Returns 0 when the file is valid
 * (out filled), -1 otherwise (out empty). Free out in either case. */
int ctl_load_sites(const char *path, struct ctl_sites *out, struct ctl_errors *errs);
int ctl_load_locations(const char *path, struct ctl_locations *out, struct ctl_errors *errs);
int ctl_load_subnets(const char *path, struct ctl_subnets *out, struct ctl_errors *errs);
void ctl_sites_free(struct ctl_sites *s);
void ctl_locations_free(struct ctl_locations *l);
void ctl_subnets_free(struct ctl_subnets *s);

#define CTL_DEFAULT_CONFIG "/etc/lis/lis.conf"

/* The conninfo to use: db_option (--db), else $LIS_DB, else [database] conninfo of config
 * (NULL = CTL_DEFAULT_CONFIG, which may be missing: then "" for libpq's defaults).
 * *out is malloc'd. Returns -1 after printing why (file unreadable, syntax error). */
int ctl_conninfo(const char *db_option, const char *config, char **out);

/* Commands; argv[0] is the command's last word. They return the exit status. */
enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };
int ctl_cmd_import(const char *conninfo, int argc, char **argv);
int ctl_cmd_db_migrate(const char *conninfo);
int ctl_cmd_db_status(const char *conninfo);

#endif
