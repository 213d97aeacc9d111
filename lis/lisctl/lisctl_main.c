/* lisctl: the operators' command (lisctl(8)). Parses arguments and hands over to ctl_*. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_explain.h"
#include "ctl_report.h"
#include "lis_conf.h"
#include "lis_version.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lisctl [-c FILE] [--db CONNINFO] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  db migrate          apply pending schema migrations\n"
		"  db status           print the current and the latest schema version\n");
	ctl_import_synopsis(out, "  import");
	fprintf(out,
		"                      validate the wiremap files (lis-wiremap(5)), CSV or JSON,\n"
		"                      then write them in one transaction; on any error write\n"
		"                      nothing\n"
		"  export --dir DIR [--format csv|json] [--site KEY] [--bindings]\n"
		"                      write the wiremap back as the files import reads\n"
		"  explain (--ip A | --mac M | --uri U | --tel T) [--bssid B] [--max-binding-age S]\n"
		"                      show how lisd would locate a target, and its PIDF-LO\n"
		"  verify EXPECTED.csv [--max-binding-age S]\n"
		"                      resolve each row's target as lisd would and compare the\n"
		"                      location with the one the row expects (PASS or FAIL)\n"
		"  report queries|coverage|staleness|risk|summary|never-located|declarations\n"
		"         [--from T] [--to T] [--site KEY]\n"
		"         [--result R] [--source S] [--days N] [--format csv|json|html] [-o FILE]\n"
		"                      auditors' reports on the wiremap and the query log\n"
		"  report compliance [--from T] [--to T | --days N] [--site KEY]\n"
		"         [--organisation NAME] [--format html|pdf|json] [-o FILE]\n"
		"         [--paper a4|letter] [--chromium PATH]\n"
		"                      the E911 compliance report an auditor signs\n"
		"  purge (--older-than DAYS | --before T) [--dry-run]\n"
		"                      delete query-log entries answered before then (each\n"
		"                      lisd's newest is kept), and notifications opened before\n"
		"                      then with nothing pending; --dry-run only counts them\n"
		"  declare USER LABEL --address-file FILE [--current] [--expires T | --days N]\n"
		"  declare USER LABEL (--confirm | --current | --remove)\n"
		"                      a user's declared civic address (home, hotel), for when\n"
		"                      the user is off premises; every change is audited\n"
		"  declarations USER [--audit]\n"
		"                      list a user's declared addresses (and their audit)\n"
		"  declarations purge --expired-before DATE [--dry-run]\n"
		"                      delete declarations expired before DATE that are not\n"
		"                      current (the audit keeps them)\n"
		"  vpn-bind IP USER [--ttl SECONDS] [--class CLASS]\n"
		"                      the VPN concentrator gave IP to USER for that long\n"
		"  vpn-unbind IP       remove the VPN binding of IP\n"
		"  endpoint (deactivate | reactivate | history) KEY\n"
		"                      offboard an endpoint: lisd no longer answers its static\n"
		"                      location, class or owner's declarations (or undo it);\n"
		"                      every change is audited\n"
		"  user (deactivate | reactivate | history) KEY\n"
		"                      offboard a user: lisd no longer answers the user's\n"
		"                      declared addresses or VPN bindings, the user's sessions\n"
		"                      end and tokens are refused (or undo it); audited\n"
		"  token issue --user USER [--endpoint KEY] [--label TEXT] [--expires DAYS]\n"
		"                      a per-device token of the self-service API; the secret\n"
		"                      is printed once\n"
		"  token list [--user USER]\n"
		"  token revoke ID|PREFIX\n"
		"  notify test SITE    send a TEST notification to every recipient of SITE\n"
		"                      ([notify] recipients) and print each outcome\n"
		"\n"
		"options:\n"
		"  -c FILE             configuration file (default " LIS_CONFIG_DEFAULT_FILE "),\n"
		"                      checked as lisd checks it; lisctl uses [database]\n"
		"                      conninfo, [wiremap] max_binding_age, [privacy]\n"
		"                      include_device_id and [notify]\n"
		"  --db CONNINFO       libpq connection string; overrides $LIS_DB and the file\n"
		"  --help              show this help (COMMAND --help: that command's)\n"
		"  --version           show the version\n"
		"\n"
		"The connection string comes from --db, else $LIS_DB, else the configuration\n"
		"file. If neither is given and " LIS_CONFIG_DEFAULT_FILE " does not exist, an empty\n"
		"connection string is used: libpq's defaults (PGHOST, PGDATABASE, ...).\n"
		"Exit status: 0 success, 1 failure, 2 usage or configuration error.\n");
}

int main(int argc, char **argv)
{
	const char *config = NULL, *db = NULL;
	struct ctl_settings set;
	struct lis_error err = {0};
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return CTL_EXIT_OK;
		} else if (strcmp(a, "--version") == 0) {
			printf("lisctl %s\n", LIS_VERSION);
			return CTL_EXIT_OK;
		} else if ((strcmp(a, "-c") == 0 || strcmp(a, "--db") == 0) && i + 1 < argc) {
			*(a[1] == 'c' ? &config : &db) = argv[++i];
		} else if (strncmp(a, "--db=", 5) == 0) {
			db = a + 5;
		} else {
			fprintf(stderr, "lisctl: unknown or incomplete option \"%s\"\n", a);
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}

	const char *cmd = argv[i], *sub = i + 1 < argc ? argv[i + 1] : "";
	/* COMMAND --help (or -h): that command's usage, with no database or configuration */
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		static const struct {
			const char *name;
			void (*usage)(FILE *out);
		} helps[] = {
			{"db", ctl_db_usage}, {"import", ctl_import_usage},
			{"export", ctl_export_usage}, {"explain", ctl_explain_usage},
			{"report", ctl_report_usage}, {"purge", ctl_purge_usage},
			{"verify", ctl_verify_usage}, {"declare", ctl_declare_usage},
			{"declarations", ctl_declarations_usage}, {"vpn-bind", ctl_vpn_bind_usage},
			{"vpn-unbind", ctl_vpn_unbind_usage}, {"token", ctl_token_usage},
			{"notify", ctl_notify_usage}, {"endpoint", ctl_endpoint_usage},
			{"user", ctl_user_usage},
		};
		for (size_t k = 0; k < sizeof helps / sizeof helps[0]; k++)
			if (strcmp(cmd, helps[k].name) == 0) {
				helps[k].usage(stdout);
				printf("See lisctl(8).\n");
				return CTL_EXIT_OK;
			}
	}
	bool is_db = strcmp(cmd, "db") == 0 && i + 2 == argc &&
		     (strcmp(sub, "migrate") == 0 || strcmp(sub, "status") == 0);
	static const struct {
		const char *name;
		int (*run)(const char *conninfo, int argc, char **argv);
	} plain[] = {
		{"export", ctl_cmd_export}, {"purge", ctl_cmd_purge}, {"import", ctl_cmd_import},
		{"declare", ctl_cmd_declare}, {"declarations", ctl_cmd_declarations},
		{"vpn-bind", ctl_cmd_vpn_bind}, {"vpn-unbind", ctl_cmd_vpn_unbind},
		{"endpoint", ctl_cmd_endpoint}, {"user", ctl_cmd_user},
		{"token", ctl_cmd_token},
	};
	int (*run)(const char *conninfo, int argc, char **argv) = NULL;
	for (size_t k = 0; k < sizeof plain / sizeof plain[0]; k++)
		if (strcmp(cmd, plain[k].name) == 0)
			run = plain[k].run;
	if (!is_db && !run && strcmp(cmd, "explain") != 0 && strcmp(cmd, "report") != 0 &&
	    strcmp(cmd, "verify") != 0 && strcmp(cmd, "notify") != 0) {
		fprintf(stderr, "lisctl: unknown command \"%s%s%s\"\n", cmd, *sub ? " " : "", sub);
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (ctl_settings_read(db, config, &set, &err) < 0) {
		fprintf(stderr, "lisctl: %s\n", err.msg);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(cmd, "explain") == 0)
		rc = ctl_cmd_explain(&set, argc - i, argv + i);
	else if (strcmp(cmd, "verify") == 0)
		rc = ctl_cmd_verify(&set, argc - i, argv + i);
	else if (strcmp(cmd, "report") == 0)
		rc = ctl_cmd_report(&set, argc - i, argv + i);
	else if (strcmp(cmd, "notify") == 0)
		rc = ctl_cmd_notify(&set, argc - i, argv + i);
	else if (run)
		rc = run(set.conninfo, argc - i, argv + i);
	else if (strcmp(sub, "migrate") == 0)
		rc = ctl_cmd_db_migrate(set.conninfo);
	else
		rc = ctl_cmd_db_status(set.conninfo);
	ctl_settings_clear(&set);
	return rc;
}
