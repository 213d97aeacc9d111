/* lisctl declare, declarations, vpn-bind and vpn-unbind: the civic addresses users declare
 * for when they are off premises (47 CFR 9.16(b)(3)), and the addresses the VPN
 * concentrator hands them. Every change to a declaration is audited by the database
 * (migration 0008) with who ran lisctl, "lisctl", and from where. */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_csv.h"
#include "db_declared.h"

#define DEFAULT_DAYS 365
#define DEFAULT_TTL 3600
#define MAX_TTL 31536000L

void ctl_declare_usage(FILE *out)
{
	fprintf(out, "usage: lisctl declare USER LABEL --address-file FILE [--current]\n"
		     "                      [--expires T | --days N]\n"
		     "       lisctl declare USER LABEL (--confirm | --current | --remove)\n");
}

void ctl_declarations_usage(FILE *out)
{
	fprintf(out, "usage: lisctl declarations USER [--audit]\n"
		     "       lisctl declarations purge --expired-before DATE [--dry-run]\n");
}

void ctl_vpn_bind_usage(FILE *out)
{
	fprintf(out, "usage: lisctl vpn-bind IP USER [--ttl SECONDS] [--class CLASS]\n");
}

void ctl_vpn_unbind_usage(FILE *out)
{
	fprintf(out, "usage: lisctl vpn-unbind IP\n");
}

static bool is_word(const char *s)
{
	return s && *s && !strpbrk(s, " \t\r\n");
}

/* Connect and say who acts: the Unix user running lisctl, via lisctl, from the SSH
 * client's address when there is one, else "local". */
struct db_conn *ctl_connect_as_actor(const char *conninfo, const char *cmd)
{
	struct lis_error err = {0};
	struct db_conn *c = db_connect(conninfo, &err);
	if (!c) {
		fprintf(stderr, "lisctl: %s: %s\n", cmd, err.msg);
		return NULL;
	}
	char who[64], from[64] = "local";
	const struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		snprintf(who, sizeof who, "%s", pw->pw_name);
	else
		snprintf(who, sizeof who, "uid %u", (unsigned)geteuid());
	const char *ssh = getenv("SSH_CLIENT");
	if (ssh && *ssh)
		snprintf(from, sizeof from, "%.*s", (int)strcspn(ssh, " "), ssh);
	if (db_set_actor(c, who, "lisctl", from, &err) < 0) {
		fprintf(stderr, "lisctl: %s: %s\n", cmd, err.msg);
		db_close(c);
		return NULL;
	}
	return c;
}

/* The address file: a CSV header of civic element names as locations.csv spells them
 * (country, A1, ... PLC) and lang, and one row. Checked as a wiremap location is. */
static int read_address(const char *path, const char *name, struct ctl_rows **rows,
			struct db_declaration *d, const struct lis_iso *iso)
{
	struct ctl_errors errs = {0}, warns = {0};
	struct db_location_row loc = {.key = name, .file = path, .line = 2, .key_col = 1};
	*rows = ctl_csv_read(path, &errs);
	if (*rows && (*rows)->n_rows != 2)
		ctl_errors_add(&errs, "%s: give a header and one row (the address); it has %zu "
			       "rows", path, (*rows)->n_rows ? (*rows)->n_rows - 1 : 0);
	if (*rows && (*rows)->n_rows == 2) {
		const struct ctl_row *h = &(*rows)->rows[0], *r = &(*rows)->rows[1];
		for (size_t k = 0; k < h->n; k++) {
			const char *col = h->cells[k].s ? h->cells[k].s : "";
			const char *val = k < r->n ? r->cells[k].s : NULL;
			int f = civic_field_from_name(col);
			if (strcmp(col, "lang") == 0) {
				d->lang = val;
			} else if (f >= 0) {
				d->civic[f] = loc.civic[f] = val;
				loc.civic_col[f] = (unsigned)k + 1;
			} else {
				ctl_errors_add(&errs, "%s:1:%zu: unknown column \"%s\" (civic "
					       "element names as in locations.csv, and lang)", path,
					       k + 1, col);
			}
		}
		if (!errs.total)
			ctl_check_dispatchable(&loc, iso, &errs, &warns);
	}
	if (!errs.total)
		return 0;
	ctl_errors_print(&errs, stderr);
	fprintf(stderr, "lisctl: declare: %zu error%s, nothing written\n", errs.total,
		errs.total == 1 ? "" : "s");
	return -1;
}

int ctl_cmd_declare(const char *conninfo, int argc, char **argv)
{
	const char *user = argc > 1 ? argv[1] : NULL, *label = argc > 2 ? argv[2] : NULL;
	const char *file = NULL, *expires = NULL, *days = NULL;
	bool current = false, confirm = false, remove = false;
	for (int i = 3; i < argc; i++) {
		int r;
		if (strcmp(argv[i], "--current") == 0)
			current = true;
		else if (strcmp(argv[i], "--confirm") == 0)
			confirm = true;
		else if (strcmp(argv[i], "--remove") == 0)
			remove = true;
		else if ((r = ctl_take_opt(argc, argv, &i, "--address-file", &file)) != 0 ||
			 (r = ctl_take_opt(argc, argv, &i, "--expires", &expires)) != 0 ||
			 (r = ctl_take_opt(argc, argv, &i, "--days", &days)) != 0) {
			if (r < 0)
				goto usage;
		} else {
			fprintf(stderr, "lisctl: declare: unknown option \"%s\"\n", argv[i]);
			goto usage;
		}
	}
	if (!is_word(user) || !is_word(label) || user[0] == '-' || label[0] == '-') {
		fprintf(stderr, "lisctl: declare: give a USER and a LABEL (one word each)\n");
		goto usage;
	}
	if (file ? confirm || remove : (expires || days || confirm + current + remove != 1)) {
		fprintf(stderr, "lisctl: declare: give --address-file (with --current, --expires "
			"or --days), or one of --confirm, --current and --remove\n");
		goto usage;
	}
	if (expires && days) {
		fprintf(stderr, "lisctl: declare: give --expires or --days, not both\n");
		goto usage;
	}
	time_t until = time(NULL) + (time_t)DEFAULT_DAYS * 86400;
	if (days) {
		long d;
		if (ctl_parse_count("declare", "--days", days, 1, 3650, "days", &d) < 0)
			return CTL_EXIT_USAGE;
		until = time(NULL) + (time_t)d * 86400;
	} else if (expires && (ctl_parse_when(expires, &until) < 0 || until <= time(NULL))) {
		fprintf(stderr, "lisctl: declare: --expires \"%s\" is not a date (2027-01-31) or a "
			"timestamp with its zone in the future\n", expires);
		return CTL_EXIT_USAGE;
	}

	char name[300];
	snprintf(name, sizeof name, "%s/%s", user, label);
	struct lis_error err = {0};
	struct ctl_rows *rows = NULL;
	struct lis_iso *iso = NULL;
	struct db_conn *c = NULL;
	int rc = CTL_EXIT_FAIL;
	if (file) {
		struct db_declaration d = {.user = user, .label = label, .current = current,
					   .expires_at = until};
		if (!(iso = lis_iso_load(NULL, &err)))
			fprintf(stderr, "lisctl: warning: country and A1 are not checked "
				"against ISO 3166: %s (install iso-codes)\n", err.msg);
		if (read_address(file, name, &rows, &d, iso) < 0 ||
		    !(c = ctl_connect_as_actor(conninfo, "declare")))
			goto out;
		if (db_declare(c, &d, &err) < 0) {
			fprintf(stderr, "lisctl: declare: %s: %s\n", name, err.msg);
			goto out;
		}
		char when[32];
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&until));
		printf("declared %s%s, confirmed now, expires %s\n", name,
		       current ? " (current)" : "", when);
		rc = CTL_EXIT_OK;
		goto out;
	}
	if (!(c = ctl_connect_as_actor(conninfo, "declare")))
		goto out;
	enum db_declared_op op = confirm ? DB_DECLARED_CONFIRM
			       : current ? DB_DECLARED_MAKE_CURRENT : DB_DECLARED_REMOVE;
	int n = db_declared_change(c, user, label, op, &err);
	if (n < 0) {
		fprintf(stderr, "lisctl: declare: %s: %s\n", name, err.msg);
	} else if (n == 0) {
		fprintf(stderr, "lisctl: declare: user %s has no declared location %s "
			"(lisctl declarations %s lists them)\n", user, label, user);
	} else {
		const char *done = op == DB_DECLARED_CONFIRM ? "confirmed"
				   : op == DB_DECLARED_MAKE_CURRENT ? "made current" : "removed";
		printf("%s %s\n", done, name);
		rc = CTL_EXIT_OK;
	}
out:
	db_close(c);
	ctl_rows_free(rows);
	lis_iso_free(iso);
	return rc;
usage:
	ctl_declare_usage(stderr);
	return CTL_EXIT_USAGE;
}

struct listing {
	const char *user;
	size_t n;
};

static void print_row(void *ctx, const struct db_declared_row *r)
{
	struct listing *l = ctx;
	l->n++;
	printf("%s/%s%s confirmed %s expires %s%s: %s\n", l->user, r->label,
	       r->current ? " current" : "", r->confirmed_at, r->expires_at,
	       r->expired ? " (expired)" : "", r->address);
}

static void print_audit(void *ctx, const struct db_declared_audit_row *a)
{
	(void)ctx;
	printf("audit %s %s %s by %s via %s from %s\n", a->at, a->op, a->label, a->who, a->via,
	       a->from);
	if (a->old)
		printf("  old %s\n", a->old);
	if (a->new_)
		printf("  new %s\n", a->new_);
}

/* lisctl declarations purge --expired-before DATE [--dry-run] */
static int purge(const char *conninfo, int argc, char **argv)
{
	const char *when = NULL;
	bool dry_run = false;
	for (int i = 2; i < argc; i++) {
		int r = ctl_take_opt(argc, argv, &i, "--expired-before", &when);
		if (r < 0)
			goto usage;
		if (r == 0 && strcmp(argv[i], "--dry-run") == 0) {
			dry_run = true;
		} else if (r == 0) {
			fprintf(stderr, "lisctl: declarations purge: unknown option \"%s\"\n",
				argv[i]);
			goto usage;
		}
	}
	time_t before;
	if (!when || ctl_parse_when(when, &before) < 0) {
		fprintf(stderr, "lisctl: declarations purge: give --expired-before a date "
				"(2026-01-01) or a timestamp with a zone\n");
		goto usage;
	}
	struct db_conn *c = ctl_connect_as_actor(conninfo, "declarations purge");
	if (!c)
		return CTL_EXIT_FAIL;
	struct lis_error err = {0};
	long n = db_declared_purge(c, before, dry_run, &err);
	db_close(c);
	if (n < 0) {
		fprintf(stderr, "lisctl: declarations purge: %s\n", err.msg);
		return CTL_EXIT_FAIL;
	}
	printf("%s %ld declaration%s expired before %s and not current%s\n",
	       dry_run ? "would delete" : "deleted", n, n == 1 ? "" : "s", when,
	       dry_run ? "" : " (their audit rows stay)");
	return CTL_EXIT_OK;
usage:
	ctl_declarations_usage(stderr);
	return CTL_EXIT_USAGE;
}

int ctl_cmd_declarations(const char *conninfo, int argc, char **argv)
{
	/* "purge" followed by an option is the purge; "declarations purge" alone lists user
	 * purge's declarations */
	if (argc > 2 && strcmp(argv[1], "purge") == 0 && argv[2][0] == '-' &&
	    strcmp(argv[2], "--audit") != 0)
		return purge(conninfo, argc, argv);
	bool audit = argc == 3 && strcmp(argv[2], "--audit") == 0;
	if ((argc != 2 && !audit) || !is_word(argv[1]) || argv[1][0] == '-') {
		ctl_declarations_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	struct lis_error err = {0};
	struct db_conn *c = db_connect(conninfo, &err);
	struct listing l = {.user = argv[1]};
	int rc = c ? db_declared_list(c, argv[1], print_row, audit ? print_audit : NULL, &l,
				      &err) : -1;
	db_close(c);
	if (rc < 0) {
		fprintf(stderr, "lisctl: declarations: %s\n", err.msg);
		return CTL_EXIT_FAIL;
	}
	if (!l.n)
		printf("user %s has no declared location\n", argv[1]);
	return CTL_EXIT_OK;
}

static bool is_address(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int ctl_cmd_vpn_bind(const char *conninfo, int argc, char **argv)
{
	const char *ip = argc > 1 ? argv[1] : NULL, *user = argc > 2 ? argv[2] : NULL;
	const char *ttl_text = NULL, *cls = NULL;
	for (int i = 3; i < argc; i++) {
		int r;
		if ((r = ctl_take_opt(argc, argv, &i, "--ttl", &ttl_text)) != 0 ||
		    (r = ctl_take_opt(argc, argv, &i, "--class", &cls)) != 0) {
			if (r < 0)
				goto usage;
		} else {
			fprintf(stderr, "lisctl: vpn-bind: unknown option \"%s\"\n", argv[i]);
			goto usage;
		}
	}
	if (!ip || !is_address(ip)) {
		fprintf(stderr, "lisctl: vpn-bind: \"%s\" is not an IP address\n", ip ? ip : "");
		goto usage;
	}
	if (!is_word(user) || user[0] == '-') {
		fprintf(stderr, "lisctl: vpn-bind: give a USER (one word)\n");
		goto usage;
	}
	long ttl = DEFAULT_TTL;
	if (ttl_text && ctl_parse_count("vpn-bind", "--ttl", ttl_text, 1, MAX_TTL, "seconds",
					&ttl) < 0)
		return CTL_EXIT_USAGE;
	struct lis_error err = {0};
	struct db_conn *c = db_connect(conninfo, &err);
	char until[40] = "";
	int rc = c ? db_vpn_bind(c, ip, user, cls, (unsigned)ttl, "lisctl", until, sizeof until,
				 &err)
		   : -1;
	db_close(c);
	if (rc < 0) {
		fprintf(stderr, "lisctl: vpn-bind: %s: %s\n", ip, err.msg);
		return CTL_EXIT_FAIL;
	}
	printf("bound %s to user %s (class %s) until %s\n", ip, user, cls ? cls : "softphone",
	       until);
	return CTL_EXIT_OK;
usage:
	ctl_vpn_bind_usage(stderr);
	return CTL_EXIT_USAGE;
}

int ctl_cmd_vpn_unbind(const char *conninfo, int argc, char **argv)
{
	if (argc != 2 || !is_address(argv[1])) {
		ctl_vpn_unbind_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	struct lis_error err = {0};
	struct db_conn *c = db_connect(conninfo, &err);
	int n = c ? db_vpn_unbind(c, argv[1], &err) : -1;
	db_close(c);
	if (n < 0) {
		fprintf(stderr, "lisctl: vpn-unbind: %s: %s\n", argv[1], err.msg);
		return CTL_EXIT_FAIL;
	}
	printf(n ? "removed the VPN binding of %s\n" : "%s had no VPN binding\n", argv[1]);
	return CTL_EXIT_OK;
}
