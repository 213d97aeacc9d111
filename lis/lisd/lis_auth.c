#include "lis_auth.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

/* Set once by lis_auth_init() before the HTTP threads start; read-only afterwards. */
static struct lis_acl auth_acl;
static struct lis_subjects auth_subjects;
static bool auth_have_ca;
/* lisd(8) TEST MODE: requesters whose requests are tests. */
static struct lis_acl test_acl;
static struct lis_subjects test_subjects;

int lis_auth_init(const struct lis_config *cfg, char **client_ca_pem, struct lis_error *err)
{
	char why[200];
	*client_ca_pem = NULL;
	lis_auth_shutdown();
	if (lis_acl_parse(cfg->allowed_addresses, &auth_acl, why, sizeof why) < 0)
		return lis_error_set(err, LIS_E_USAGE, "allowed_addresses: %s", why);
	if (lis_subjects_parse(cfg->allowed_subjects, &auth_subjects, why, sizeof why) < 0) {
		lis_auth_shutdown();
		return lis_error_set(err, LIS_E_USAGE, "allowed_subjects: %s", why);
	}
	/* NULL (a struct not filled from the key table) reads as empty */
	const char *test_addresses = cfg->test_addresses ? cfg->test_addresses : "";
	const char *test_subject_list = cfg->test_subjects ? cfg->test_subjects : "";
	if (lis_acl_parse(test_addresses, &test_acl, why, sizeof why) < 0) {
		lis_auth_shutdown();
		return lis_error_set(err, LIS_E_USAGE, "[test] addresses: %s", why);
	}
	if (lis_subjects_parse(test_subject_list, &test_subjects, why, sizeof why) < 0) {
		lis_auth_shutdown();
		return lis_error_set(err, LIS_E_USAGE, "[test] subjects: %s", why);
	}
	if ((auth_subjects.n || test_subjects.n) && !cfg->client_ca[0]) {
		lis_auth_shutdown();
		return lis_error_set(err, LIS_E_USAGE,
				     "allowed_subjects or [test] subjects is set but client_ca is "
				     "empty: certificates "
				     "cannot be verified without the CA");
	}
	if (!cfg->client_ca[0])
		return 0;

	char *pem = NULL;
	size_t len;
	if (lis_read_file(cfg->client_ca, 1 << 20, &pem, &len, err) < 0) {
		lis_auth_shutdown();
		err->code = LIS_E_USAGE;
		return -1;
	}
	/* Load it once here so that a bad file stops the start with words, not a TLS error. */
	gnutls_certificate_credentials_t cred;
	int n = -1;
	if (gnutls_certificate_allocate_credentials(&cred) == GNUTLS_E_SUCCESS) {
		gnutls_datum_t d = { .data = (unsigned char *)pem, .size = (unsigned)len };
		n = gnutls_certificate_set_x509_trust_mem(cred, &d, GNUTLS_X509_FMT_PEM);
		gnutls_certificate_free_credentials(cred);
	}
	if (n <= 0) {
		free(pem);
		lis_auth_shutdown();
		return lis_error_set(err, LIS_E_USAGE, "client_ca: %s: no PEM CA certificate in it%s%s",
				     cfg->client_ca, n < 0 ? ": " : "",
				     n < 0 ? gnutls_strerror(n) : "");
	}
	auth_have_ca = true;
	*client_ca_pem = pem;
	return 0;
}

void lis_auth_shutdown(void)
{
	lis_acl_free(&auth_acl);
	lis_subjects_free(&auth_subjects);
	lis_acl_free(&test_acl);
	lis_subjects_free(&test_subjects);
	auth_have_ca = false;
}

bool lis_auth_configured(void)
{
	return auth_acl.n > 0 || auth_subjects.n > 0;
}

void lis_auth_decide(const char *verified_subject, const char *ip, struct lis_auth_result *ar)
{
	ar->checked = true;
	ar->authorized = false;
	ar->how = NULL;
	if (verified_subject && verified_subject[0] &&
	    lis_subjects_match(&auth_subjects, verified_subject)) {
		ar->authorized = true;
		ar->how = "certificate";
		return;
	}
	if (lis_acl_match(&auth_acl, ip)) {
		ar->authorized = true;
		ar->how = "address";
		return;
	}
	if (!ar->why[0])
		snprintf(ar->why, sizeof ar->why, "%s",
			 verified_subject && verified_subject[0]
				 ? "certificate subject not in allowed_subjects, address not in allowed_addresses"
				 : "no verified client certificate, address not in allowed_addresses");
}

/* The peer's certificate subject, and whether the chain verifies against client_ca. RFC 6155
 * leaves authentication to TLS; libmicrohttpd asks for the certificate (client_ca as
 * MHD_OPTION_HTTPS_MEM_TRUST) but does not check it, so this does. */
static bool verify_client_cert(struct MHD_Connection *conn, struct lis_auth_result *ar)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	gnutls_session_t session = (gnutls_session_t)ci->tls_session;
	unsigned n = 0;
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(session, &n);
	if (!peers || n == 0)
		return false;

	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS)
		return false;
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == GNUTLS_E_SUCCESS) {
		gnutls_datum_t dn = { 0 };
		if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == GNUTLS_E_SUCCESS) {
			snprintf(ar->subject, sizeof ar->subject, "%.*s", (int)dn.size,
				 (const char *)dn.data);
			gnutls_free(dn.data);
		}
	}
	gnutls_x509_crt_deinit(crt);
	if (!auth_have_ca)
		return false;

	unsigned status = 0;
	int rc = gnutls_certificate_verify_peers2(session, &status);
	if (rc != GNUTLS_E_SUCCESS) {
		snprintf(ar->why, sizeof ar->why, "client certificate not verified: %s",
			 gnutls_strerror(rc));
		return false;
	}
	if (status != 0) {
		gnutls_datum_t out = { 0 };
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) ==
		    GNUTLS_E_SUCCESS) {
			size_t n = out.size;
			while (n && (out.data[n - 1] == ' ' || out.data[n - 1] == '.'))
				n--;
			snprintf(ar->why, sizeof ar->why, "client certificate rejected: %.*s",
				 (int)n, (const char *)out.data);
			gnutls_free(out.data);
		} else {
			snprintf(ar->why, sizeof ar->why, "client certificate rejected");
		}
		return false;
	}
	return true;
}

void lis_auth_check(struct MHD_Connection *conn, const char *ip, struct lis_auth_result *ar)
{
	memset(ar, 0, sizeof *ar);
	bool verified = verify_client_cert(conn, ar);
	lis_auth_decide(verified ? ar->subject : NULL, ip, ar);
}

bool lis_auth_is_test(struct MHD_Connection *conn, const char *ip)
{
	if (lis_acl_match(&test_acl, ip))
		return true;
	if (!test_subjects.n)
		return false;
	struct lis_auth_result ar;
	memset(&ar, 0, sizeof ar);
	return verify_client_cert(conn, &ar) && lis_subjects_match(&test_subjects, ar.subject);
}
