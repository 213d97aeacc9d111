/* lisd's configuration: lis.conf through the table lisd shares with lisctl (lis_conf.h),
 * then the command-line twins (--KEY VALUE), --help, and what needs a running lisd: the host
 * name as [querylog] instance, the TLS files. */
#ifndef LIS_CONFIG_H
#define LIS_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "lis_conf.h"
#include "lis_error.h"

/* Exit codes of lisd (lisd(8) EXIT STATUS). */
enum lis_exit {
	LIS_EXIT_OK = 0,
	LIS_EXIT_RUNTIME = 1,
	LIS_EXIT_USAGE = 2,
};

/* What the command line asked for besides option values. */
enum lis_config_action {
	LIS_ACTION_RUN = 0,
	LIS_ACTION_CHECK,             /* --check-config */
	LIS_ACTION_HELP,              /* --help: already printed */
	LIS_ACTION_VERSION,           /* --version: already printed */
};

/* Fill cfg from defaults, then the config file (-c FILE, else LIS_CONFIG_DEFAULT_FILE when it
 * exists), then the command line. On a usage or configuration error returns -1 with a message
 * ("FILE:LINE: reason" or "--option: reason") in err. --help and --version print to out. */
int lis_config_load(struct lis_config *cfg, int argc, char **argv, FILE *out,
		    enum lis_config_action *action, const char **config_file,
		    struct lis_error *err);

/* Read a whole (small) file into a malloc'd NUL-terminated buffer. */
int lis_read_file(const char *path, size_t max, char **data, size_t *len, struct lis_error *err);
/* The same for a key: refused (LIS_E_USAGE) when others may read or write it. */
int lis_read_secret(const char *path, size_t max, char **data, size_t *len,
		    struct lis_error *err);

/* Load the TLS certificate chain and key and check that the key belongs to the certificate.
 * *cert and *key are malloc'd PEM text (free the key with lis_free_secret()). */
int lis_config_load_tls(const struct lis_config *cfg, char **cert, char **key,
			struct lis_error *err);
void lis_free_secret(char *s);

#endif
