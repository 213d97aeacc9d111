#include "lis_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lis_conftab.h"
#include "lis_version.h"

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
	conftab_print_help(&lis_conf_table, out);
}

/* 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104: the admin listener's default reach. */
static bool is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return false;
	return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

int lis_config_load(struct lis_config *cfg, int argc, char **argv, FILE *out,
		    enum lis_config_action *action, const char **config_file,
		    struct lis_error *err)
{
	static const char *const flags[] = { "--check-config", NULL };
	const char *file = NULL;
	char why[200];

	memset(cfg, 0, sizeof *cfg);
	*action = LIS_ACTION_RUN;

	/* Pass 1: the options that are not keys, and the shape of the rest. */
	switch (conftab_early_option(argc, argv)) {
	case CONFTAB_HELP:
		print_help(out);
		*action = LIS_ACTION_HELP;
		return 0;
	case CONFTAB_VERSION:
		fprintf(out, "lisd %s\n", LIS_VERSION);
		*action = LIS_ACTION_VERSION;
		return 0;
	case CONFTAB_RUN:
		break;
	}
	bool check = false;
	if (conftab_check_args(&lis_conf_table, argc, argv, flags, &check, "lisd", &file, err) < 0)
		return -1;
	if (check)
		*action = LIS_ACTION_CHECK;

	if (!file) {
		FILE *f = fopen(LIS_CONFIG_DEFAULT_FILE, "r");
		if (f) {
			fclose(f);
			file = LIS_CONFIG_DEFAULT_FILE;
		}
	}
	if (lis_conf_load(cfg, file, err) < 0)
		return -1;
	if (config_file)
		*config_file = file;

	/* Pass 2: command-line twins override the file. */
	if (conftab_apply_args(&lis_conf_table, cfg, argc, argv, flags, err) < 0)
		return -1;
	if (cfg->admin_port && !cfg->admin_remote && !is_loopback(cfg->admin_listen))
		return lis_error_set(err, LIS_E_USAGE,
				     "[admin] listen = %s is not a loopback address: /metrics and "
				     "/readyz answer anyone who reaches them; set [admin] remote = "
				     "true to mean it, or port = 0 for no admin listener",
				     cfg->admin_listen);
	if (lis_conf_check_notify(cfg, err) < 0 || lis_conf_check_selfservice(cfg, err) < 0)
		return -1;
	if (!cfg->querylog_instance[0]) {
		/* lis.conf(5) [querylog]: the instance defaults to the host name. */
		char host[256] = "";
		if (gethostname(host, sizeof host - 1) < 0 || !host[0])
			snprintf(host, sizeof host, "lisd");
		const struct conftab_key *k = conftab_find(&lis_conf_table, "querylog",
							   "instance");
		if (conftab_set(cfg, k, host, why, sizeof why) < 0)
			return lis_error_set(err, LIS_E_USAGE,
					     "[querylog] instance is empty and the host name will not "
					     "do (%s); set instance", why);
	}
	return 0;
}

/* The rest of lis_read_file() once f is open; closes f. */
static int read_open(FILE *f, const char *path, size_t max, char **data, size_t *len,
		     struct lis_error *err)
{
	char *buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return lis_error_set(err, LIS_E_SYSTEM, "%s: out of memory", path);
	}
	size_t n = fread(buf, 1, max + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad || n > max) {
		lis_free_secret(buf);
		return lis_error_set(err, LIS_E_SYSTEM, "%s: %s", path,
				     bad ? "read error" : "file too large");
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

int lis_read_file(const char *path, size_t max, char **data, size_t *len, struct lis_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return lis_error_set(err, LIS_E_SYSTEM, "%s: cannot open: %s", path,
				     strerror(errno));
	return read_open(f, path, max, data, len, err);
}

int lis_read_secret(const char *path, size_t max, char **data, size_t *len,
		    struct lis_error *err)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f)
		return lis_error_set(err, LIS_E_SYSTEM, "%s: cannot open: %s", path,
				     strerror(errno));
	if (fstat(fileno(f), &st) < 0) {
		fclose(f);
		return lis_error_set(err, LIS_E_SYSTEM, "%s: %s", path, strerror(errno));
	}
	/* Group access is left to the operator (Debian's ssl-cert group reads keys 0640). */
	if (st.st_mode & S_IRWXO) {
		fclose(f);
		return lis_error_set(err, LIS_E_USAGE, "%s: a secret others may read or write "
				     "(mode %04o); make it 0600 or 0640: chmod o-rwx %s", path,
				     (unsigned)(st.st_mode & 07777), path);
	}
	return read_open(f, path, max, data, len, err);
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
	if (lis_read_secret(cfg->tls_key, 1 << 20, &key, &key_len, err) < 0)
		goto out;

	bio = BIO_new_mem_buf(cert, (int)cert_len);
	x509 = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!x509) {
		lis_error_set(err, LIS_E_SYSTEM, "%s: no PEM certificate in it", cfg->tls_cert);
		goto out;
	}
	bio = BIO_new_mem_buf(key, (int)key_len);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!pkey) {
		lis_error_set(err, LIS_E_SYSTEM,
			      "%s: no unencrypted PEM private key in it", cfg->tls_key);
		goto out;
	}
	if (X509_check_private_key(x509, pkey) != 1) {
		lis_error_set(err, LIS_E_SYSTEM, "%s: key does not match the certificate in %s",
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
