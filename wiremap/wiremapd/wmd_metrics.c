/* wiremapd's counters and their file (wmd_metrics.h). The poll callbacks and the run loop
 * share them under one mutex: a few updates per switch and cycle, never on a hot path. */
#include "wmd_metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lis_prom.h"
#include "lis_strbuf.h"

/* The outcomes of a poll, as result= in the poll log line. */
static const char *const outcomes[] = { "ok", "timeout", "error" };
#define N_OUTCOMES (sizeof outcomes / sizeof outcomes[0])
/* The observations written, by kind. */
static const char *const kinds[] = { "mac_port", "ip_mac", "lldp" };
#define N_KINDS (sizeof kinds / sizeof kinds[0])

struct sw_count {
	char *key;
	unsigned long long polls[N_OUTCOMES];
};

static struct {
	pthread_mutex_t mu;
	struct sw_count *sw;            /* every switch polled since start, in order first seen */
	size_t n_sw, cap_sw;
	unsigned long long written[N_KINDS];
	unsigned long long cycles;
	double last_cycle_s;
	long long last_cycle_at;
	long long started;
	int leader;                     /* 1: polls (holds the lease, or lease off); 0: waits */
	unsigned long long lease_changes;
} M = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The switch's counts, added when new; NULL when out of memory (the poll is not counted). */
static struct sw_count *switch_of(const char *key)
{
	for (size_t i = 0; i < M.n_sw; i++)
		if (strcmp(M.sw[i].key, key) == 0)
			return &M.sw[i];
	if (M.n_sw == M.cap_sw) {
		size_t cap = M.cap_sw ? M.cap_sw * 2 : 64;
		struct sw_count *n = realloc(M.sw, cap * sizeof *n);
		if (!n)
			return NULL;
		M.sw = n;
		M.cap_sw = cap;
	}
	struct sw_count *s = &M.sw[M.n_sw];
	memset(s, 0, sizeof *s);
	s->key = strdup(key);
	if (!s->key)
		return NULL;
	M.n_sw++;
	return s;
}

void wmd_metrics_init(void)
{
	M.started = (long long)time(NULL);
}

void wmd_metrics_poll(const char *switch_key, const char *outcome, size_t mac_ports,
		      size_t ip_macs, size_t lldp)
{
	size_t o = N_OUTCOMES - 1;      /* anything else is an error */
	for (size_t i = 0; i < N_OUTCOMES; i++)
		if (strcmp(outcome, outcomes[i]) == 0)
			o = i;
	pthread_mutex_lock(&M.mu);
	struct sw_count *s = switch_of(switch_key);
	if (s)
		s->polls[o]++;
	M.written[0] += mac_ports;
	M.written[1] += ip_macs;
	M.written[2] += lldp;
	pthread_mutex_unlock(&M.mu);
}

void wmd_metrics_leader(bool leader, bool changed)
{
	pthread_mutex_lock(&M.mu);
	M.leader = leader;
	if (changed)
		M.lease_changes++;
	pthread_mutex_unlock(&M.mu);
}

void wmd_metrics_cycle(double seconds)
{
	pthread_mutex_lock(&M.mu);
	M.cycles++;
	M.last_cycle_s = seconds;
	M.last_cycle_at = (long long)time(NULL);
	pthread_mutex_unlock(&M.mu);
}

/* The whole text, under the mutex. */
static void render(struct strbuf *b)
{
	prom_family(b, "wiremapd_polls_total", "counter",
		    "SNMP polls of each switch by outcome (as result= in the log).");
	for (size_t i = 0; i < M.n_sw; i++)
		for (size_t o = 0; o < N_OUTCOMES; o++) {
			strbuf_puts(b, "wiremapd_polls_total{switch=\"");
			prom_label_value(b, M.sw[i].key);
			strbuf_printf(b, "\",outcome=\"%s\"} %llu\n", outcomes[o],
				      M.sw[i].polls[o]);
		}
	prom_family(b, "wiremapd_bindings_written_total", "counter",
		    "Observations written to PostgreSQL by polls, by kind.");
	for (size_t k = 0; k < N_KINDS; k++)
		strbuf_printf(b, "wiremapd_bindings_written_total{kind=\"%s\"} %llu\n", kinds[k],
			      M.written[k]);
	const struct prom_scalar m[] = {
		{ "wiremapd_cycles_total", "counter", "Poll cycles that ended.",
		  (double)M.cycles },
		{ "wiremapd_last_cycle_duration_seconds", "gauge",
		  "How long the last poll cycle took.", M.last_cycle_s },
		{ "wiremapd_last_cycle_timestamp_seconds", "gauge",
		  "When the last poll cycle ended (Unix time); 0: none yet.",
		  (double)M.last_cycle_at },
		{ "wiremapd_start_time_seconds", "gauge", "When wiremapd started (Unix time).",
		  (double)M.started },
		{ "wiremapd_leader", "gauge",
		  "1 while this collector polls (holds the collector lease, or lease is off), "
		  "else 0.", (double)M.leader },
		{ "wiremapd_lease_changes_total", "counter",
		  "Times this collector took or lost the collector lease.",
		  (double)M.lease_changes },
	};
	prom_scalars(b, m, sizeof m / sizeof m[0]);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int wmd_metrics_write(const char *path, struct lis_error *err)
{
	struct strbuf b = { 0 };
	char tmp[4200];
	pthread_mutex_lock(&M.mu);
	render(&b);
	pthread_mutex_unlock(&M.mu);
	if (b.cut || !b.s) {
		strbuf_free(&b);
		return lis_error_set(err, LIS_E_SYSTEM, "[metrics] textfile %s: out of memory",
				     path);
	}
	/* Not ending in .prom: node_exporter never reads a half-written file. */
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = fd < 0 || write_all(fd, b.s, b.len) < 0 ? -1 : 0;
	int e = errno;
	if (fd >= 0 && close(fd) < 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = -1;
		e = errno;
	}
	strbuf_free(&b);
	if (rc < 0) {
		if (fd >= 0)
			unlink(tmp);
		return lis_error_set(err, LIS_E_SYSTEM, "[metrics] textfile %s: cannot write: %s",
				     path, strerror(e));
	}
	return 0;
}

void wmd_metrics_free(void)
{
	pthread_mutex_lock(&M.mu);
	for (size_t i = 0; i < M.n_sw; i++)
		free(M.sw[i].key);
	free(M.sw);
	M.sw = NULL;
	M.n_sw = M.cap_sw = 0;
	pthread_mutex_unlock(&M.mu);
}
