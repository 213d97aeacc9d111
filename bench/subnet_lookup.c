/* subnet_lookup: time db_lookup_subnet(), the database's longest-prefix match, against
 * whatever subnet table the database holds. lisd no longer runs it per HELD request: it
 * answers from its in-memory wiremap snapshot (wiremap/, timed by wm_bench), and neither
 * lisctl nor the import runs it. This measures the PostgreSQL index alone: what the old
 * per-request path cost, kept as the SQL baseline the in-memory lookup is compared with.
 *
 *   subnet_lookup [--seed N] [--hit-ratio F] [--warmup N] CONNINFO M PREFIX_FILE
 *
 * PREFIX_FILE lists some of the stored prefixes (one CIDR a line; bench/run.sh exports a random
 * sample with psql). A share F of the M lookups (default 0.8) asks for a random host inside a
 * random listed prefix, which must match; the rest ask for a random address in 198.18.0.0/15
 * or 2001:db8::/32, ranges bench/run.sh never fills, which must not. Hits and misses are
 * counted on both sides so a wrong answer shows up beside the timing.
 *
 * Prints one line of key=value fields (mean, p50, p99, max in microseconds per lookup). The
 * program issues no SQL of its own: it only calls the db layer. Exit 0 ok, 1 failure, 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_rng.h"
#include "db.h"

struct prefix {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network address, 4 or 16 bytes used */
	unsigned len;            /* mask length */
};

/* xorshift64*: fast, deterministic for a given seed, good enough to scatter addresses. */
static int parse_prefix(const char *text, struct prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t n = strcspn(text, "\r\n");
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, text, n);
	buf[n] = '\0';

	char *slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	memset(p, 0, sizeof *p);
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		p->len = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		p->len = 128;
	} else {
		return -1;
	}
	if (slash != NULL) {
		char *end;
		errno = 0;
		unsigned long l = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == slash + 1 || l > p->len)
			return -1;
		p->len = (unsigned)l;
	}
	return 0;
}

/* Keep the first `keep` bits of addr and fill the remaining host bits at random. */
static void randomize_host(unsigned char *addr, unsigned nbytes, unsigned keep)
{
	for (unsigned i = 0; i < nbytes; i++) {
		unsigned first_bit = i * 8;
		if (first_bit + 8 <= keep)
			continue;
		unsigned char r = (unsigned char)bench_rng();
		if (first_bit >= keep) {
			addr[i] = r;
		} else {
			unsigned char net_mask = (unsigned char)(0xffu << (8 - (keep - first_bit)));
			addr[i] = (unsigned char)((addr[i] & net_mask) | (r & ~net_mask));
		}
	}
}

static void address_inside(const struct prefix *p, char *out, size_t outlen)
{
	unsigned char a[16];
	unsigned nbytes = p->family == AF_INET ? 4 : 16;
	memcpy(a, p->addr, nbytes);
	randomize_host(a, nbytes, p->len);
	inet_ntop(p->family, a, out, (socklen_t)outlen);
}

/* 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8::/32 (RFC 3849 documentation): run.sh
 * generates no subnet there, so these lookups exercise the "no subnet" path. */
static void address_outside(bool v6, char *out, size_t outlen)
{
	unsigned char a[16] = {0};
	if (v6) {
		a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
		randomize_host(a, 16, 32);
		inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
	} else {
		a[0] = 198; a[1] = 18;
		randomize_host(a, 4, 15);
		inet_ntop(AF_INET, a, out, (socklen_t)outlen);
	}
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *sorted, size_t n, double pct)
{
	size_t rank = (size_t)(pct / 100.0 * (double)n + 0.5);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static int load_prefixes(const char *path, struct prefix **out, size_t *n_out)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "subnet_lookup: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = 0, cap = 1024;
	struct prefix *v = malloc(cap * sizeof *v);
	char line[256];
	unsigned lineno = 0;
	while (v != NULL && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (line[0] == '\n' || line[0] == '\0')
			continue;
		if (n == cap) {
			struct prefix *nv = realloc(v, 2 * cap * sizeof *v);
			if (nv == NULL) {
				free(v);
				v = NULL;
				break;
			}
			v = nv;
			cap *= 2;
		}
		if (parse_prefix(line, &v[n]) < 0) {
			fprintf(stderr, "subnet_lookup: %s:%u: \"%.*s\" is not a CIDR prefix\n",
				path, lineno, (int)strcspn(line, "\r\n"), line);
			free(v);
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	if (v == NULL) {
		fprintf(stderr, "subnet_lookup: out of memory reading %s\n", path);
		return -1;
	}
	if (n == 0) {
		fprintf(stderr, "subnet_lookup: %s lists no prefix\n", path);
		free(v);
		return -1;
	}
	*out = v;
	*n_out = n;
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: subnet_lookup [--seed N] [--hit-ratio F] [--warmup N] CONNINFO M PREFIX_FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	double hit_ratio = 0.8;
	unsigned long warmup = 200;
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			return usage();
		char *end;
		if (strcmp(argv[i], "--seed") == 0) {
			bench_rng_seed(strtoull(argv[i + 1], &end, 10));
		} else if (strcmp(argv[i], "--hit-ratio") == 0) {
			hit_ratio = strtod(argv[i + 1], &end);
			if (hit_ratio < 0 || hit_ratio > 1)
				return usage();
		} else if (strcmp(argv[i], "--warmup") == 0) {
			warmup = strtoul(argv[i + 1], &end, 10);
		} else {
			return usage();
		}
		if (*end != '\0')
			return usage();
	}
	if (argc - i != 3)
		return usage();
	const char *conninfo = argv[i];
	char *end;
	unsigned long m = strtoul(argv[i + 1], &end, 10);
	if (*end != '\0' || m == 0 || m > 100000000UL)
		return usage();

	struct prefix *prefixes;
	size_t n_prefixes;
	if (load_prefixes(argv[i + 2], &prefixes, &n_prefixes) < 0)
		return 1;

	struct lis_error err = {0};
	struct db_conn *c = db_connect(conninfo, &err);
	if (c == NULL) {
		fprintf(stderr, "subnet_lookup: connect: %s\n", err.msg);
		free(prefixes);
		return 1;
	}

	double *lat = malloc(m * sizeof *lat);
	if (lat == NULL) {
		fprintf(stderr, "subnet_lookup: out of memory for %lu samples\n", m);
		db_close(c);
		free(prefixes);
		return 1;
	}

	unsigned long in_n = 0, in_hit = 0, out_n = 0, out_hit = 0;
	int rc = 0;
	for (unsigned long k = 0; k < warmup + m; k++) {
		char ip[INET6_ADDRSTRLEN];
		bool inside = bench_rng_unit() < hit_ratio;
		if (inside)
			address_inside(&prefixes[bench_rng() % n_prefixes], ip, sizeof ip);
		else
			address_outside(bench_rng() & 1, ip, sizeof ip);

		struct db_location loc;
		memset(&loc, 0, sizeof loc);
		double t0 = now_us();
		int r = db_lookup_subnet(c, ip, &loc, &err);
		double t1 = now_us();
		if (r < 0) {
			fprintf(stderr, "subnet_lookup: lookup of %s: %s\n", ip, err.msg);
			rc = 1;
			break;
		}
		if (r == 1)
			db_location_clear(&loc);
		if (k < warmup)
			continue;
		lat[k - warmup] = t1 - t0;
		if (inside) {
			in_n++;
			in_hit += r == 1;
		} else {
			out_n++;
			out_hit += r == 1;
		}
	}

	if (rc == 0) {
		double sum = 0;
		for (unsigned long k = 0; k < m; k++)
			sum += lat[k];
		qsort(lat, m, sizeof *lat, cmp_double);
		printf("lookups=%lu inside=%lu inside_hits=%lu outside=%lu outside_hits=%lu "
		       "mean_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
		       m, in_n, in_hit, out_n, out_hit, sum / (double)m,
		       percentile(lat, m, 50), percentile(lat, m, 99), lat[m - 1]);
		if (in_hit != in_n || out_hit != 0) {
			fprintf(stderr, "subnet_lookup: wrong answers: %lu of %lu inside addresses "
				"unmatched, %lu of %lu outside addresses matched\n",
				in_n - in_hit, in_n, out_hit, out_n);
			rc = 1;
		}
	}
	free(lat);
	db_close(c);
	free(prefixes);
	return rc;
}
