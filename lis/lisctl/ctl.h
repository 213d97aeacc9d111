/* lisctl: the operators' command. Loading and checking wiremap files (ctl_load.c) needs no
 * database, so the unit tests call it directly; the commands (ctl_import.c, ctl_export.c,
 * ctl_db.c, ...) compose it with db/. */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "db.h"
#include "lis_conf.h"
#include "lis_dispatch.h"

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

struct ctl_rows; /* a parsed file (ctl_rows.h) */

/* One wiremap file of an entity, read and checked. */
struct ctl_file {
	struct ctl_rows *cells;  /* the parsed file: owns every string the rows point to */
	void *rows;              /* n rows of the entity's row struct (db.h) */
	size_t n;
	void *broken;            /* n_broken rows with errors whose identity could be read */
	size_t n_broken;
	bool unread;             /* no row could be read: no file, bad syntax, bad header */
};
/* Read and check the file of entity e at path (format: lis-wiremap(5); CTL_FORMAT_AUTO: by
 * its name). Every problem found is added to errs, named "PATH:LINE:COL" with PATH as
 * given. Returns 0 when the file is valid, -1 otherwise; in either case out holds the
 * rows that passed (and those that did not, as broken), for the checks across files. Free
 * out in either case. */
int ctl_load(enum db_entity e, const char *path, enum ctl_format fmt, struct ctl_file *out,
	     struct ctl_errors *errs);
void ctl_file_free(struct ctl_file *f);
/* The same checks a row at a time, for files too large to hold (issue 10): a CSV file is
 * read as it is checked, and each row whose identity could be read goes to on_row (ok:
 * it passed every check of its own; key_col: where its key is, for messages), valid only
 * during the call. Duplicate keys are not
 * looked for: on_row's owner does that. *unread as ctl_file.unread. Returns 0 when the
 * file is valid. */
int ctl_load_each(enum db_entity e, const char *path, enum ctl_format fmt,
		  struct ctl_errors *errs,
		  void (*on_row)(void *ctx, const void *row, bool ok, unsigned key_col), void *ctx,
		  bool *unread);
/* A row's identity as messages write it: its DB_COL_ID values joined by spaces ("sw1
 * Gi1/0/1"), a BSSID with its length ("00:3a:7d:10:20:40/44"). */
const char *ctl_row_key(enum db_entity e, const void *row, char *buf, size_t size);

/* ---- checks across files and the database (ctl_check.c); pure, no I/O ---- */

/* The dispatchability checks of one location row (what ctl_check_wiremap runs on each
 * location; lisctl declare on a declared address): errors and warnings "FILE:LINE:COL". */
void ctl_check_dispatchable(const struct db_location_row *r, const struct lis_iso *iso,
			    struct ctl_errors *errs, struct ctl_errors *warns);

/* A location's geodetic point further than this from the median of its site's other points
 * is an error: a typo in a coordinate, a swapped sign, or latitude and longitude swapped. */
#define CTL_GEO_MAX_KM 50.0

/* What the checks across files look at. */
struct ctl_check_in {
	const struct db_import_set *files;  /* the files' rows that passed their own checks */
	/* the files' rows that did not, but whose identity was read: they count as known keys
	 * (so that one error is not reported twice), nothing more; NULL: none */
	const struct db_import_set *broken;
	unsigned unread;   /* bit 1 << e: entity e's file could not be read at all, so a
			    * reference to an e is not checked */
	const struct db_import_set *db;     /* what the database holds (may be empty) */
	const struct lis_iso *iso;          /* NULL: country and A1 not checked */
};
/* Check the files' rows against each other and against what the database holds: unknown
 * references, dispatchability, multi-floor buildings without FLR, place types, geodetic
 * points far from their site's, switches, ports and BSSIDs whose locations are in another
 * site than theirs, subnets and BSSID prefixes inside one another whose locations are in
 * different sites, and unique values (chassis_id, an endpoint's identities) the database
 * holds for another key. Errors go to errs, warnings (no ROOM/SEAT/UNIT, no geodetic
 * point) to warns; both "FILE:LINE:COL: ...". Returns 0 when errs got nothing. */
int ctl_check_wiremap(const struct ctl_check_in *in, struct ctl_errors *errs,
		      struct ctl_errors *warns);
/* The references check of ctl_check_wiremap a row at a time, for rows that are not in
 * in->files (a file read with ctl_load_each): the keys of in are indexed once, then each
 * row's references are looked up. ctl_refs_new returns NULL when out of memory. */
struct ctl_refs;
struct ctl_refs *ctl_refs_new(const struct ctl_check_in *in);
void ctl_refs_check(const struct ctl_refs *refs, enum db_entity e, const void *row,
		    struct ctl_errors *errs);
void ctl_refs_free(struct ctl_refs *refs);

/* An ISO 8601 timestamp with a zone ("2026-11-25T08:00:00Z", "2026-11-25 09:00:00+01:00";
 * fractions of a second are dropped) as seconds since the epoch. Returns -1 if it is not
 * one. */
int ctl_parse_timestamp(const char *s, time_t *out);
/* ctl_parse_timestamp(), or a date (YYYY-MM-DD: that day's 00:00 UTC). */
int ctl_parse_when(const char *s, time_t *out);

/* What lisctl takes from lis.conf(5), which it reads as lisd does (lis_conf.h). */
struct ctl_settings {
	char *conninfo;            /* malloc'd */
	unsigned max_binding_age;  /* [wiremap] max_binding_age, the file's or the table's
	                            * default: never 0 */
	bool include_device_id;    /* [privacy] include_device_id: explain shows what lisd sends */
	struct lis_config cfg;     /* the whole file (defaults without one): `notify test` */
};
/* The conninfo to use: db_option (--db), else $LIS_DB, else [database] conninfo of config
 * (NULL = LIS_CONFIG_DEFAULT_FILE, which may be missing: then "" for libpq's defaults). The
 * file, when there is one, is read whole through lisd's key table: a value or key lisd
 * refuses is refused here with lisd's "FILE:LINE: reason" in err. Returns 0 or -1. */
int ctl_settings_read(const char *db_option, const char *config, struct ctl_settings *out,
		      struct lis_error *err);
void ctl_settings_clear(struct ctl_settings *s);

/* "NAME VALUE" or "NAME=VALUE" at argv[*i] (name with its dashes: "--site", "-o"): 1 with
 * the value in *out and *i past what it used; 0 when argv[*i] is not that option; -1 (said
 * on stderr) when its value is missing. */
int ctl_take_opt(int argc, char **argv, int *i, const char *name, const char **out);

/* A whole number from lo to hi given as option opt of command cmd (e.g. "purge",
 * "--older-than", "days"): 0 with *out set, or -1 after saying on stderr what is wrong. */
int ctl_parse_count(const char *cmd, const char *opt, const char *text, long lo, long hi,
		    const char *unit, long *out);

/* Commands; argv[0] is the command's last word. They return the exit status. */
enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };
int ctl_cmd_import(const char *conninfo, int argc, char **argv);
/* "LEAD [--sites FILE] ... [--no-warnings]": one option per entity, lines wrapped at 78. */
void ctl_import_synopsis(FILE *out, const char *lead);
int ctl_cmd_export(const char *conninfo, int argc, char **argv);
int ctl_cmd_db_migrate(const char *conninfo);
int ctl_cmd_db_status(const char *conninfo);
/* Each command's usage lines, for `lisctl COMMAND --help` (stdout) and its errors (stderr);
 * explain's and report's are in their own headers. */
void ctl_import_usage(FILE *out);
void ctl_export_usage(FILE *out);
void ctl_db_usage(FILE *out);
void ctl_purge_usage(FILE *out);
/* lisctl purge (--older-than DAYS | --before T) [--dry-run]: query-log retention. */
int ctl_cmd_purge(const char *conninfo, int argc, char **argv);
/* Declared locations and VPN bindings (ctl_declare.c): lisctl declare, declarations,
 * vpn-bind, vpn-unbind. */
void ctl_declare_usage(FILE *out);
void ctl_declarations_usage(FILE *out);
void ctl_vpn_bind_usage(FILE *out);
void ctl_vpn_unbind_usage(FILE *out);
int ctl_cmd_declare(const char *conninfo, int argc, char **argv);
int ctl_cmd_declarations(const char *conninfo, int argc, char **argv);
int ctl_cmd_vpn_bind(const char *conninfo, int argc, char **argv);
int ctl_cmd_vpn_unbind(const char *conninfo, int argc, char **argv);
/* Connect and say who acts, for the database's audits (db_set_actor): the Unix user
 * running lisctl, via "lisctl", from the SSH client's address or "local". NULL after saying
 * on stderr why ("lisctl: CMD: ..."). */
struct db_conn *ctl_connect_as_actor(const char *conninfo, const char *cmd);
/* Offboarding and onboarding (ctl_lifecycle.c): lisctl endpoint and user
 * (deactivate|reactivate|history) KEY. */
void ctl_endpoint_usage(FILE *out);
void ctl_user_usage(FILE *out);
int ctl_cmd_endpoint(const char *conninfo, int argc, char **argv);
int ctl_cmd_user(const char *conninfo, int argc, char **argv);

/* API tokens of the self-service API (ctl_token.c): lisctl token issue, list, revoke. */
void ctl_token_usage(FILE *out);
int ctl_cmd_token(const char *conninfo, int argc, char **argv);
/* `lisctl notify test SITE` (ctl_notify.c). */
int ctl_cmd_notify(const struct ctl_settings *set, int argc, char **argv);
void ctl_notify_usage(FILE *out);

#endif
