/* Integration harness: a throwaway PostgreSQL cluster, a real lisd over TLS, real HTTPS
 * requests. Everything it starts is stopped at exit, on a fatal signal, and (through
 * PR_SET_PDEATHSIG) when the test process dies without running its handlers. */
#ifndef TH_HARNESS_H
#define TH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* Paths handed over by meson (environment): LIS_LISD, LIS_LISCTL, LIS_SRCDIR. */
const char *th_lisd_path(void);
const char *th_lisctl_path(void);
const char *th_srcdir(void);
/* A path under the source tree (static buffer rotated over 8 calls). */
const char *th_src(const char *rel);

/* Fresh temporary directory under /tmp (removed at exit); NULL on failure. */
char *th_tmpdir(const char *tag);
/* Write a whole file; 0 on success. */
int th_write_file(const char *path, const char *text);
/* Read a whole file (malloc'd, NUL-terminated) or NULL. */
char *th_read_file(const char *path, size_t *len);

/* ---- PostgreSQL ---- */
struct th_pg {
	char dir[256];        /* cluster root: data/ and the Unix socket live here */
	char conninfo[512];   /* "host=DIR user=postgres dbname=lis" */
	pid_t pid;            /* postmaster, 0 when stopped */
};
/* initdb (trust, superuser postgres), start on a Unix socket only, create database lis.
 * As root the server runs as user postgres. Returns 0, or -1 with a reason on stderr. */
int th_pg_start(struct th_pg *pg);
/* Fast shutdown; the cluster stays on disk for th_pg_restart(). */
int th_pg_stop(struct th_pg *pg);
int th_pg_restart(struct th_pg *pg);
/* A streaming standby of primary in a cluster directory of its own (own socket):
 * pg_basebackup -R over the primary's socket (initdb's pg_hba trusts local replication),
 * then started as a hot standby. With sync, the primary is made to wait for it at commit
 * (synchronous_standby_names, and synchronous_commit on for database lis), so that a commit
 * acknowledged before a failover is on the standby. 0, or -1 with a reason on stderr. */
int th_pg_standby_start(struct th_pg *primary, struct th_pg *standby, bool sync);
/* Wait (timeout_s at most) until standby has replayed all the primary has written so far. */
bool th_pg_wait_replayed(const struct th_pg *primary, const struct th_pg *standby,
			 double timeout_s);
/* Promote a standby (SELECT pg_promote(), which waits) and wait until it accepts writes. */
int th_pg_promote(struct th_pg *standby);
/* A crash: SIGQUIT (immediate shutdown, no checkpoint) or SIGKILL to the postmaster; waits. */
int th_pg_kill(struct th_pg *pg, int sig);
/* Run one SQL statement and return the first column of the first row (malloc'd), or NULL. */
char *th_pg_query1(const struct th_pg *pg, const char *sql);
/* Run one statement on database dbname of the cluster; 0 on success. */
int th_pg_exec(const struct th_pg *pg, const char *dbname, const char *sql);
/* Like th_pg_query1 but returns the value as a number, -1 on error. */
long th_pg_count(const struct th_pg *pg, const char *sql);

/* ---- processes ---- */
struct th_proc {
	int status;           /* exit code, or 128+signal, or -1 if it could not run */
	char *out;            /* stdout (malloc'd, NUL-terminated) */
	char *err;            /* stderr */
};
/* Run argv (NULL-terminated) with extra environment (NULL or "K=V" list), wait at most
 * timeout_s seconds (killed after that, status 128+9). */
int th_run(struct th_proc *p, char *const argv[], char *const env[], int timeout_s);
void th_proc_free(struct th_proc *p);
/* Start argv in the background, stdout and stderr appended to out_path; stopped at exit like
 * every child. Returns its pid, or -1. */
pid_t th_spawn(char *const argv[], const char *out_path);
/* SIGTERM (SIGKILL after 10 s) and wait: the exit status as th_proc.status, -1 for no pid. */
int th_stop(pid_t pid);

/* ---- TLS ---- */
struct th_tls {
	char dir[256];
	char cert[300], key[300];
};
/* Self-signed certificate for 127.0.0.1, ::1 and localhost (openssl CLI). */
int th_tls_make(struct th_tls *tls);

/* A certificate authority for client certificates (openssl CLI): a self-signed CA with
 * basicConstraints CA:TRUE and keyCertSign, subject "/CN=<cn>". */
struct th_ca {
	char dir[256];
	char cert[300], key[300];
};
int th_ca_make(struct th_ca *ca, const char *cn);
/* A client certificate (extendedKeyUsage clientAuth) signed by ca, subject in openssl -subj
 * form ("/O=Example/CN=sbc1.example.net", which RFC 4514 prints as
 * "CN=sbc1.example.net,O=Example"). Files live in ca->dir, named after tag. */
struct th_cert {
	char cert[300], key[300];
};
int th_cert_make(const struct th_ca *ca, const char *tag, const char *subj, struct th_cert *out);

/* ---- lisd ---- */
struct th_lisd {
	char dir[256];
	char conf[300];
	char log[300];
	char listen[64];
	int port;
	pid_t pid;
	char url[160];        /* https://HOST:PORT/held */
	char base[128];       /* https://HOST:PORT */
};
/* A free TCP port on address (bound then released). */
int th_free_port(const char *addr);
/* Write a config ([server] listen/port/tls, [database] conninfo, plus `extra` lines added at
 * the end of [server] ... may be NULL), start lisd, wait until it answers over TLS.
 * extra_sections is appended to the file verbatim (NULL for none). */
int th_lisd_start(struct th_lisd *l, const char *listen, const struct th_tls *tls,
		  const char *conninfo, const char *server_extra, const char *extra_sections);
/* In server_extra and extra_sections, "{PORT}" is replaced by the chosen port (for
 * uri_base) and "{DIR}" by lisd's own temporary directory. */
/* th_lisd_start() in two steps: write the configuration (l->conf) and pick the port; then
 * start argv (lisd, or a wrapper that runs it, output to l->log) and wait until it answers
 * over TLS. */
int th_lisd_prepare(struct th_lisd *l, const char *listen, const struct th_tls *tls,
		    const char *conninfo, const char *server_extra, const char *extra_sections);
int th_lisd_run(struct th_lisd *l, const struct th_tls *tls, char *const argv[]);
/* SIGTERM, wait; returns the exit status (as th_proc.status) or -1. */
int th_lisd_stop(struct th_lisd *l);
/* The lisd log so far (malloc'd). */
char *th_lisd_log(const struct th_lisd *l);

/* ---- HTTPS client ---- */
struct th_req {
	const char *method;        /* "POST" by default */
	const char *url;
	const char *content_type;  /* NULL: no Content-Type header */
	const char *body;
	size_t body_len;           /* 0 with body != NULL: strlen(body) */
	const char *cafile;
	const char *local_addr;    /* source address to bind, e.g. "127.0.0.2" */
	long tls_min, tls_max;     /* CURL_SSLVERSION_* / CURL_SSLVERSION_MAX_*; 0 = default */
	const char *ciphers;       /* OpenSSL cipher list, NULL = default */
	long timeout_ms;           /* 0: 15000 */
	const char *client_cert;   /* PEM client certificate (CURLOPT_SSLCERT), NULL: none */
	const char *client_key;    /* its PEM key (CURLOPT_SSLKEY) */
	const char *const *headers; /* more request header lines ("Accept: ..."), NULL-terminated;
	                             * NULL: none. Method "HEAD" asks for no body. */
};
struct th_resp {
	int curl_code;             /* CURLcode; 0 = a response was received */
	char errbuf[256];
	long status;
	char content_type[128];
	char allow[128];           /* the Allow header, if any */
	char *body;
	size_t body_len;
	double seconds;
	char headers[2048];        /* the header lines of the (last) response, as received */
};
/* Every response whose Content-Type is application/held+xml or application/pidf+xml is
 * validated here (tests/common/schema.h: the RFC schemas and RFC 5491 §5 shapes), so that no
 * test can forget it: a refused body is a failed check at the caller's file:line (the _at
 * forms take it, the macros pass their own). Other bodies (text/plain refusals) are not. */
int th_https_at(const struct th_req *req, struct th_resp *resp, const char *file, int line);
#define th_https(req, resp) th_https_at((req), (resp), __FILE__, __LINE__)
void th_resp_free(struct th_resp *resp);

/* Convenience: POST a HELD document with application/held+xml. */
#define th_held_post(l, tls, xml, local_addr, resp) \
	th_held_post_cert_at((l), (tls), (xml), (local_addr), NULL, (resp), __FILE__, __LINE__)

/* POST a HELD document from local_addr (NULL: default) with a client certificate (NULL:
 * none). */
int th_held_post_cert_at(const struct th_lisd *l, const struct th_tls *tls, const char *xml,
			 const char *local_addr, const struct th_cert *cert,
			 struct th_resp *resp, const char *file, int line);
#define th_held_post_cert(l, tls, xml, local_addr, cert, resp) \
	th_held_post_cert_at((l), (tls), (xml), (local_addr), (cert), (resp), __FILE__, __LINE__)

/* A HELD POST of xml to l on a libcurl easy handle (a CURL *) kept between calls, so that
 * a persistent connection is reused, trusting cafile, from local_addr (NULL: default). The
 * HTTP status, 0 when there was no answer (*code, if not NULL, says why); *connects how many
 * new connections it took (-1 when no answer). The answer's body is not kept. */
long th_keepalive_post(void *curl, const struct th_lisd *l, const char *cafile,
		       const char *local_addr, const char *xml, long *connects, int *code);

/* The value of "Name:" in /proc/PID/status, tabs made spaces; "" when absent. */
void th_status_field(pid_t pid, const char *name, char *out, size_t size);

/* How many of process PID's threads run at nice level NICE; *threads (if not NULL) how many
 * it has. */
int th_threads_at_nice(pid_t pid, int nice, int *threads);
/* The same among its threads named NAME (their comm); *threads how many have that name. */
int th_threads_named_at_nice(pid_t pid, const char *name, int nice, int *threads);

/* ---- lisctl, time, waiting ---- */
/* lisctl --db conninfo ARGS... (NULL-terminated), 60 s at most; p->status is its exit. */
int th_lisctl(struct th_proc *p, const char *conninfo, ...) __attribute__((sentinel));
/* Monotonic clock, seconds. */
double th_now(void);
void th_sleep_ms(long ms);
/* UTC xs:dateTime "YYYY-MM-DDThh:mm:ssZ" of t (rotating static buffers, 8 live). */
const char *th_iso8601(time_t t);
/* Parse an xs:dateTime with Z or +hh:mm/-hh:mm; (time_t)-1 if it is not one. */
time_t th_parse_datetime(const char *s);
/* Copy a CSV template to dst, replacing every cell "now-N" (N seconds, or N followed by
 * s, m, h or d) and "now" with the UTC timestamp of that moment. 0 on success. */
int th_csv_from_template(const char *tmpl, const char *dst);
/* Call pred(ctx) every poll_ms until it returns true or timeout_s passes; returns true if it
 * did, with the time it took in *elapsed (may be NULL). */
bool th_wait_until(double timeout_s, long poll_ms, bool (*pred)(void *ctx), void *ctx,
		   double *elapsed);

/* s on one line (newlines shown as " | "), at most ~1500 bytes, for TAP diagnostics
 * (a raw newline would break the TAP stream). Rotating static buffers: 8 live at once. */
const char *th_flat(const char *s);

/* True if s is an xs:dateTime with a time zone (YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm|-hh:mm)). */
bool th_is_datetime(const char *s);

#endif
