/* lisctl token issue, list and revoke: per-device API tokens of the self-service API
 * (lisd(8) SELF-SERVICE). The secret is printed once, at issue; the database keeps its
 * SHA-256 and its first characters (the prefix that names it). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctl.h"
#include "db_web.h"
#include "lis_secret.h"

void ctl_token_usage(FILE *out)
{
	fprintf(out, "usage: lisctl token issue --user USER [--endpoint KEY] [--label TEXT]\n"
		     "                          [--expires DAYS]\n"
		     "       lisctl token list [--user USER]\n"
		     "       lisctl token revoke ID|PREFIX\n");
}

static bool is_word(const char *s)
{
	return s && *s && *s != '-' && !strpbrk(s, " \t\r\n");
}

static int issue(const char *conninfo, int argc, char **argv)
{
	const char *user = NULL, *endpoint = NULL, *label = NULL, *days_text = NULL;
	for (int i = 2; i < argc; i++) {
		int r;
		if ((r = ctl_take_opt(argc, argv, &i, "--user", &user)) != 0 ||
		    (r = ctl_take_opt(argc, argv, &i, "--endpoint", &endpoint)) != 0 ||
		    (r = ctl_take_opt(argc, argv, &i, "--label", &label)) != 0 ||
		    (r = ctl_take_opt(argc, argv, &i, "--expires", &days_text)) != 0) {
			if (r < 0)
				return -1;
		} else {
			fprintf(stderr, "lisctl: token issue: unknown option \"%s\"\n", argv[i]);
			return -1;
		}
	}
	if (!is_word(user)) {
		fprintf(stderr, "lisctl: token issue: give --user USER (one word)\n");
		return -1;
	}
	long days = 0;
	if (days_text && ctl_parse_count("token issue", "--expires", days_text, 1, 3650, "days",
					 &days) < 0)
		return CTL_EXIT_USAGE;
	char secret[LIS_SECRET_TEXT], token[sizeof LIS_TOKEN_PREFIX + LIS_SECRET_TEXT];
	char prefix[LIS_TOKEN_SHOWN + 1], expires[40];
	unsigned char hash[32];
	if (lis_secret_new(secret) < 0) {
		fprintf(stderr, "lisctl: token issue: the system's random source failed\n");
		return CTL_EXIT_FAIL;
	}
	snprintf(token, sizeof token, LIS_TOKEN_PREFIX "%s", secret);
	memcpy(prefix, token, LIS_TOKEN_SHOWN);
	prefix[LIS_TOKEN_SHOWN] = '\0';
	lis_secret_hash(token, hash);
	struct lis_error err = {0};
	struct db_conn *c = db_connect(conninfo, &err);
	long long id = 0;
	int rc = c ? db_token_issue(c, hash, prefix, user, endpoint, label, (unsigned)days, &id,
				    expires, sizeof expires, &err) : -1;
	db_close(c);
	if (rc < 0) {
		fprintf(stderr, "lisctl: token issue: %s%s\n", err.msg,
			endpoint && err.code == DB_E_INPUT ? " (is the endpoint's key right?)" : "");
		OPENSSL_cleanse(token, sizeof token);
		return CTL_EXIT_FAIL;
	}
	printf("token %lld for user %s%s%s, %s%s\n%s\n", id, user, endpoint ? " via endpoint " : "",
	       endpoint ? endpoint : "", expires[0] ? "expires " : "never expires",
	       expires, token);
	fprintf(stderr, "lisctl: token issue: the secret above is shown this once; give it to "
		"the device (Authorization: Bearer ...)\n");
	OPENSSL_cleanse(token, sizeof token);
	OPENSSL_cleanse(secret, sizeof secret);
	return CTL_EXIT_OK;
}

static void print_token(void *ctx, const struct db_token_row *r)
{
	size_t *n = ctx;
	(*n)++;
	printf("%s %s user=%s endpoint=%s label=\"%s\" created=%s expires=%s last_used=%s "
	       "state=%s\n", r->id, r->prefix, r->user, r->endpoint[0] ? r->endpoint : "-",
	       r->label, r->created_at, r->expires_at[0] ? r->expires_at : "never",
	       r->last_used_at[0] ? r->last_used_at : "never", r->state);
}

int ctl_cmd_token(const char *conninfo, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct lis_error err = {0};
	if (strcmp(sub, "issue") == 0) {
		int rc = issue(conninfo, argc, argv);
		if (rc >= 0)
			return rc;
	} else if (strcmp(sub, "list") == 0 && (argc == 2 || (argc == 4 &&
		   strcmp(argv[2], "--user") == 0 && is_word(argv[3])))) {
		struct db_conn *c = db_connect(conninfo, &err);
		size_t n = 0;
		int rc = c ? db_token_list(c, argc == 4 ? argv[3] : NULL, print_token, &n, &err)
			   : -1;
		db_close(c);
		if (rc < 0) {
			fprintf(stderr, "lisctl: token list: %s\n", err.msg);
			return CTL_EXIT_FAIL;
		}
		if (!n)
			printf("no tokens\n");
		return CTL_EXIT_OK;
	} else if (strcmp(sub, "revoke") == 0 && argc == 3 && is_word(argv[2])) {
		struct db_conn *c = db_connect(conninfo, &err);
		int n = c ? db_token_revoke(c, argv[2], &err) : -1;
		db_close(c);
		if (n < 0) {
			fprintf(stderr, "lisctl: token revoke: %s\n", err.msg);
			return CTL_EXIT_FAIL;
		}
		if (n == 0) {
			fprintf(stderr, "lisctl: token revoke: no valid token %s (lisctl token list "
				"shows them)\n", argv[2]);
			return CTL_EXIT_FAIL;
		}
		printf("revoked token %s\n", argv[2]);
		return CTL_EXIT_OK;
	}
	ctl_token_usage(stderr);
	return CTL_EXIT_USAGE;
}
