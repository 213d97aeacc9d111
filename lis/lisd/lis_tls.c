/* The served TLS certificate and key (see lis_tls.h): a list of every set loaded, newest
 * first, the newest published through an atomic pointer that handshakes read without a lock.
 * Sets are never freed while lisd serves: GnuTLS neither copies nor releases what the
 * callback returns, and a handshake may be using an older set when a new one is published.
 * A few kilobytes per renewal. */
#include "lis_tls.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest chain accepted: server certificate and intermediates. */
#define MAX_CHAIN 16

struct tls_set {
	struct tls_set *older;
	gnutls_pcert_st pcert[MAX_CHAIN];
	unsigned int n;
	gnutls_privkey_t key;
};

static pthread_mutex_t sets_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tls_set *sets;                 /* every set, newest first (under sets_mu) */
static _Atomic(struct tls_set *) current;
static atomic_ulong generation;

static void set_free(struct tls_set *s)
{
	for (unsigned int i = 0; i < s->n; i++)
		gnutls_pcert_deinit(&s->pcert[i]);
	if (s->key)
		gnutls_privkey_deinit(s->key);
	free(s);
}

int lis_tls_set(const char *cert, const char *key, struct lis_error *err)
{
	struct tls_set *s = calloc(1, sizeof *s);
	if (!s) {
		lis_error_set(err, LIS_E_SYSTEM, "out of memory");
		return -1;
	}
	gnutls_datum_t c = {(unsigned char *)(uintptr_t)cert, (unsigned int)strlen(cert)};
	gnutls_datum_t k = {(unsigned char *)(uintptr_t)key, (unsigned int)strlen(key)};
	s->n = MAX_CHAIN;
	int rc = gnutls_pcert_list_import_x509_raw(s->pcert, &s->n, &c, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0) {
		s->n = 0;
		lis_error_set(err, LIS_E_SYSTEM, "TLS certificate chain: %s", gnutls_strerror(rc));
		set_free(s);
		return -1;
	}
	rc = gnutls_privkey_init(&s->key);
	if (rc == 0)
		rc = gnutls_privkey_import_x509_raw(s->key, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		lis_error_set(err, LIS_E_SYSTEM, "TLS key: %s", gnutls_strerror(rc));
		set_free(s);
		return -1;
	}
	pthread_mutex_lock(&sets_mu);
	s->older = sets;
	sets = s;
	atomic_store_explicit(&current, s, memory_order_release);
	atomic_fetch_add(&generation, 1);
	pthread_mutex_unlock(&sets_mu);
	return 0;
}

int lis_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int n_req_ca,
		     const gnutls_pk_algorithm_t *pk_algos, int n_pk_algos,
		     gnutls_pcert_st **pcert, unsigned int *n_pcert, gnutls_privkey_t *pkey)
{
	(void)session; (void)req_ca_dn; (void)n_req_ca; (void)pk_algos; (void)n_pk_algos;
	struct tls_set *s = atomic_load_explicit(&current, memory_order_acquire);
	if (!s)
		return -1;
	*pcert = s->pcert;
	*n_pcert = s->n;
	*pkey = s->key;
	return 0;
}

unsigned long lis_tls_generation(void)
{
	return atomic_load(&generation);
}

void lis_tls_shutdown(void)
{
	pthread_mutex_lock(&sets_mu);
	atomic_store(&current, NULL);
	while (sets) {
		struct tls_set *s = sets;
		sets = s->older;
		set_free(s);
	}
	pthread_mutex_unlock(&sets_mu);
}
