/* lisctl: the operators' command. CSV loading and validation (ctl_csv.c) need no database,
 * so the unit tests call them directly; the commands (ctl_import.c, ctl_db.c) compose them
 * with db/. */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

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

/* A wiremap file's format: by its name (".json" is JSON, anything else CSV) unless forced
 * (lisctl --format). */
enum ctl_format { CTL_FORMAT_AUTO, CTL_FORMAT_CSV, CTL_FORMAT_JSON };
enum ctl_format ctl_format_of(const char *path, enum ctl_format forced);
/* "csv" or "json" -> the format; -1 for anything else. */
int ctl_format_parse(const char *s, enum ctl_format *out);

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
struct ctl_switches {
	struct ctl_csv *csv;
	struct db_switch_row *rows;
	size_t n;
};
struct ctl_ports {
	struct ctl_csv *csv;
	struct db_port_row *rows;
	size_t n;
};
struct ctl_bssids {
	struct ctl_csv *csv;
	struct db_bssid_row *rows;
	size_t n;
};
struct ctl_endpoints {
	struct ctl_csv *csv;
	struct db_endpoint_row *rows;
	size_t n;
};
struct ctl_mac_ports {
	struct ctl_csv *csv;
	struct db_mac_port_row *rows;
	size_t n;
};
struct ctl_ip_macs {
	struct ctl_csv *csv;
	struct db_ip_mac_row *rows;
	size_t n;
};
struct ctl_mac_bssids {
	struct ctl_csv *csv;
	struct db_mac_bssid_row *rows;
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
int ctl_load_switches(const char *path, struct ctl_switches *out, struct ctl_errors *errs);
int ctl_load_ports(const char *path, struct ctl_ports *out, struct ctl_errors *errs);
int ctl_load_bssids(const char *path, struct ctl_bssids *out, struct ctl_errors *errs);
int ctl_load_endpoints(const char *path, struct ctl_endpoints *out, struct ctl_errors *errs);
int ctl_load_mac_ports(const char *path, struct ctl_mac_ports *out, struct ctl_errors *errs);
int ctl_load_ip_macs(const char *path, struct ctl_ip_macs *out, struct ctl_errors *errs);
int ctl_load_mac_bssids(const char *path, struct ctl_mac_bssids *out,
			struct ctl_errors *errs);
void ctl_switches_free(struct ctl_switches *x);
void ctl_ports_free(struct ctl_ports *x);
void ctl_bssids_free(struct ctl_bssids *x);
void ctl_endpoints_free(struct ctl_endpoints *x);
void ctl_mac_ports_free(struct ctl_mac_ports *x);
void ctl_ip_macs_free(struct ctl_ip_macs *x);
void ctl_mac_bssids_free(struct ctl_mac_bssids *x);

/* The same with the format given (CTL_FORMAT_AUTO: by the file name). */
int ctl_load_sites_as(const char *path, enum ctl_format fmt, struct ctl_sites *out,
		 struct ctl_errors *errs);
int ctl_load_locations_as(const char *path, enum ctl_format fmt, struct ctl_locations *out,
		 struct ctl_errors *errs);
int ctl_load_subnets_as(const char *path, enum ctl_format fmt, struct ctl_subnets *out,
		 struct ctl_errors *errs);
int ctl_load_switches_as(const char *path, enum ctl_format fmt, struct ctl_switches *out,
		 struct ctl_errors *errs);
int ctl_load_ports_as(const char *path, enum ctl_format fmt, struct ctl_ports *out,
		 struct ctl_errors *errs);
int ctl_load_bssids_as(const char *path, enum ctl_format fmt, struct ctl_bssids *out,
		 struct ctl_errors *errs);
int ctl_load_endpoints_as(const char *path, enum ctl_format fmt, struct ctl_endpoints *out,
		 struct ctl_errors *errs);
int ctl_load_mac_ports_as(const char *path, enum ctl_format fmt, struct ctl_mac_ports *out,
		 struct ctl_errors *errs);
int ctl_load_ip_macs_as(const char *path, enum ctl_format fmt, struct ctl_ip_macs *out,
		 struct ctl_errors *errs);
int ctl_load_mac_bssids_as(const char *path, enum ctl_format fmt, struct ctl_mac_bssids *out,
		 struct ctl_errors *errs);

/* ---- checks across files and the database (ctl_csv_check.c); pure, no I/O ---- */

/* ISO 3166-1 alpha-2: one of the 249 assigned codes (upper case). */
bool ctl_country_is_known(const char *code);

/* What a location lacks to be dispatchable (PROTOCOL.md "Dispatchable location": RAY
 * BAUM's Act; country, A1, A3, RD and HNO required): a bit per CTL_MISSING_* problem. A
 * location with no civic element at all (a geodetic point only) is not judged here. */
enum {
	CTL_MISSING_HNO = 1u << 0,     /* street (house) number */
	CTL_MISSING_RD = 1u << 1,      /* street name */
	CTL_MISSING_A3 = 1u << 2,      /* city */
	CTL_MISSING_A1 = 1u << 3,      /* state or province */
	CTL_MISSING_COUNTRY = 1u << 4,
	CTL_BAD_COUNTRY = 1u << 5,     /* not an ISO 3166-1 alpha-2 code */
};
unsigned ctl_civic_problems(const char *const civic[CIVIC_N_FIELDS]);

/* Check the files' rows against each other and against what the database holds (db, may
 * be empty): unknown references, dispatchability, multi-floor buildings without FLR,
 * subnets inside one another whose locations are in different sites. Errors go to errs,
 * warnings (no ROOM/SEAT/UNIT, no geodetic point) to warns; both "FILE:LINE:COL: ...".
 * Returns 0 when errs got nothing. */
int ctl_check_wiremap(const struct db_import_set *files, const struct db_import_set *db,
		      struct ctl_errors *errs, struct ctl_errors *warns);

/* An ISO 8601 timestamp with a zone ("2026-11-25T08:00:00Z", "2026-11-25 09:00:00+01:00";
 * fractions of a second are dropped) as seconds since the epoch. Returns -1 if it is not
 * one. */
int ctl_parse_timestamp(const char *s, time_t *out);

/* What lisctl takes from lis.conf(5), which it reads as lisd does (lis_conf.h). */
struct ctl_settings {
	char *conninfo;            /* malloc'd */
	unsigned max_binding_age;  /* [wiremap] max_binding_age, the file's or the default */
};
/* The conninfo to use: db_option (--db), else $LIS_DB, else [database] conninfo of config
 * (NULL = LIS_CONFIG_DEFAULT_FILE, which may be missing: then "" for libpq's defaults). The
 * file, when there is one, is read whole through lisd's key table: a value or key lisd
 * refuses is refused here with lisd's "FILE:LINE: reason" in err. Returns 0 or -1. */
int ctl_settings_read(const char *db_option, const char *config, struct ctl_settings *out,
		      struct lis_error *err);
void ctl_settings_clear(struct ctl_settings *s);

/* Commands; argv[0] is the command's last word. They return the exit status. */
enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };
int ctl_cmd_import(const char *conninfo, int argc, char **argv);
int ctl_cmd_export(const char *conninfo, int argc, char **argv);
int ctl_cmd_db_migrate(const char *conninfo);
int ctl_cmd_db_status(const char *conninfo);

#endif
