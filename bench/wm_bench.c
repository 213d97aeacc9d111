/* wm_bench: the in-memory wiremap at scale. Two modes:
 *
 *   wm_bench [--seed S] [--queries Q] N...
 *   wm_bench --db CONNINFO [--repeat R]
 *   wm_bench --fresh MIB
 *
 * Without --db: no database. Builds a snapshot of N mixed entries through the same builder
 * sink the database loader feeds, then times lookups.
 *
 * Mix of the N entries: 20% subnets (3/4 IPv4 /24, 1/4 IPv6 /64), 1% switches, 20% switch
 * ports, 10% BSSIDs (1 in 16 a /44 range), 10% endpoints (MAC, SIP and tel URI), and 13% each
 * of ip-mac, mac-port and mac-bssid bindings (one of each per device), plus 1% locations.
 * For each N it prints one line of key=value fields:
 *   build_ms       wm_builder_new .. wm_builder_finish (rows handed over, tables built)
 *   bytes_per_entry snapshot bytes (wm_snapshot_get_stats) / N
 *   resolve_ns     mean wm_resolve() over Q targets: a third by ip (ip -> mac -> port),
 *                  a third by mac, a third by SIP URI, every one located
 *   resolve_cpu_ns the same in this thread's CPU time: what a busy machine (the run
 *                  waiting for a core) adds to resolve_ns is not in it
 *   ip_ns, mac_ns, uri_ns  the same targets again, one kind at a time
 *   subnet_ns      mean wm_lookup_subnet() over Q addresses inside stored prefixes
 *   miss_ns        this machine's price of one cache miss at this size: the mean time of a
 *                  load whose address the load before gave, at random over as many bytes
 *                  as the snapshot holds (huge pages, as the snapshot's). A walk's steps
 *                  wait for each other like these loads do: what resolve_ns grows by
 *                  between sizes, over miss_ns, is how many such waits it added
 *
 * With --db: the reload lisd does on start and on every NOTIFY, against whatever wiremap the
 * database holds (bench/run.sh fills one with SQL). R times (default 5) it times
 * db_snapshot_load() into a sink that only counts rows (the database's share: the queries,
 * the transfer, libpq's parsing) and wm_snapshot_load() (the whole reload: the same fetch
 * plus wm_builder). Prints one line of key=value fields:
 *   rows           rows read (all ten wiremap tables), = entries of the snapshot
 *   bytes, bytes_per_entry  snapshot memory (wm_snapshot_get_stats) and per row
 *   load_min_ms, load_median_ms, load_max_ms    wm_snapshot_load()
 *   fetch_min_ms, fetch_median_ms               db_snapshot_load() into the counting sink
 *   and the row count of each table (sites= locations= ... bind_mac_bssid=).
 *
 * With --fresh: this machine's price of memory a process has not touched before, which a
 * reload pays for the new snapshot (lisd frees the old one to the system afterwards). It
 * maps MIB MiB afresh, as huge pages like the snapshot's, and writes a byte in every 4 KiB;
 * then unmaps it, maps as much again and does the same. Prints fresh_ms= (the first) and
 * again_ms= (memory the system just took back, typically cheaper on a virtual machine
 * whose idle free pages go back to the host).
 * Exit 0 ok, 1 failure (a target not located, a wrong answer, a load error), 2 usage. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench_rng.h"
#include "db.h"
#include "wm_builder.h"
#include "wm_resolve.h"
#include "ident.h"

static double clock_ms(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

struct world {
	size_t n_loc, n_sub, n_sw, n_port, n_bssid, n_ep, n_dev;
};

/* Subnet i: IPv4 /24 blocks spread by an odd multiplier (a bijection mod 2^24), IPv6 /64s. */
static void subnet_text(size_t i, char *buf, size_t size, bool host, unsigned h)
{
	if (i % 4 != 3) {
		uint32_t net = (uint32_t)((i * 2654435761u) & 0xffffffu) << 8;
		if (host)
			snprintf(buf, size, "%u.%u.%u.%u", net >> 24, net >> 16 & 255, net >> 8 & 255,
				 1 + h % 250);
		else
			snprintf(buf, size, "%u.%u.%u.0/24", net >> 24, net >> 16 & 255, net >> 8 & 255);
	} else {
		if (host)
			snprintf(buf, size, "2001:db8:%x:%x::%x", (unsigned)(i >> 16),
				 (unsigned)(i & 0xffff), 1 + h % 250);
		else
			snprintf(buf, size, "2001:db8:%x:%x::/64", (unsigned)(i >> 16),
				 (unsigned)(i & 0xffff));
	}
}

static void dev_mac(size_t k, uint8_t m[6])
{
	m[0] = 0x02;
	m[1] = 0x42;
	m[2] = (uint8_t)(k >> 24);
	m[3] = (uint8_t)(k >> 16);
	m[4] = (uint8_t)(k >> 8);
	m[5] = (uint8_t)k;
}

static void bssid_of(size_t j, uint8_t m[6])
{
	m[0] = 0x0a;
	m[1] = 0x00;
	m[2] = (uint8_t)(j >> 20);
	m[3] = (uint8_t)(j >> 12);
	m[4] = (uint8_t)(j >> 4);
	m[5] = (uint8_t)(j << 4);
}

#define SINK(fn, rec) do { if (k->fn(k->ctx, rec, &err) < 0) goto fail; } while (0)

static struct wm_snapshot *build(size_t n, struct world *w, double *ms)
{
	struct lis_error err = {0};
	char a[96], b[96];
	w->n_loc = n / 100 + 1;
	w->n_sub = n / 5 + 1;
	w->n_sw = n / 100 + 1;
	w->n_port = n / 5;
	w->n_bssid = n / 10;
	w->n_ep = n / 10;
	w->n_dev = n * 13 / 100;

	double t0 = now_ms();
	struct wm_builder *bld = wm_builder_new();
	const struct db_snapshot_sink *k = wm_builder_sink(bld);
	for (long long s = 1; s <= 10; s++) {
		snprintf(a, sizeof a, "site-%lld", s);
		struct db_rec_site r = {.id = s, .key = a, .name = a, .allow_default = s % 2,
					.default_location_id = s};
		SINK(site, &r);
	}
	for (size_t i = 0; i < w->n_loc; i++) {
		snprintf(a, sizeof a, "loc-%zu", i);
		snprintf(b, sizeof b, "%zu", 100 + i % 900);
		struct db_rec_location r = {.id = (long long)i + 1, .site_id = (long long)(i % 10) + 1,
					    .key = a, .lang = "en-US", .has_geo = true,
					    .lat = 37.0 + (double)i * 1e-6, .lon = -122.0,
					    .uncertainty = 10};
		r.civic[CIVIC_COUNTRY] = "US";
		r.civic[CIVIC_A1] = "CA";
		r.civic[CIVIC_A3] = "San Francisco";
		r.civic[CIVIC_RD] = "Market";
		r.civic[CIVIC_HNO] = "1355";
		r.civic[CIVIC_ROOM] = b;
		SINK(location, &r);
	}
	for (size_t i = 0; i < w->n_sub; i++) {
		subnet_text(i, a, sizeof a, false, 0);
		struct db_rec_subnet r = {.prefix = a, .location_id = (long long)(i % w->n_loc) + 1};
		SINK(subnet, &r);
	}
	for (size_t i = 0; i < w->n_sw; i++) {
		snprintf(a, sizeof a, "sw-%zu", i);
		snprintf(b, sizeof b, "chassis-%zu", i);
		struct db_rec_switch r = {.id = (long long)i + 1, .site_id = (long long)(i % 10) + 1,
					  .key = a, .chassis_id = b,
					  .location_id = i % 3 ? (long long)(i % w->n_loc) + 1 : 0};
		SINK(sw, &r);
	}
	for (size_t j = 0; j < w->n_port; j++) {
		snprintf(a, sizeof a, "Gi1/0/%zu", j / w->n_sw);
		struct db_rec_port r = {.switch_id = (long long)(j % w->n_sw) + 1, .port_id = a,
					.location_id = (long long)(j % w->n_loc) + 1};
		SINK(port, &r);
	}
	for (size_t j = 0; j < w->n_bssid; j++) {
		snprintf(a, sizeof a, "ap-%zu", j);
		struct db_rec_bssid r = {.prefix_len = j % 16 == 0 ? 44 : 48, .key = a,
					 .location_id = (long long)(j % w->n_loc) + 1};
		bssid_of(j, r.bssid);
		if (r.prefix_len == 44)
			r.bssid[5] &= 0xf0;
		SINK(bssid, &r);
	}
	for (size_t e = 0; e < w->n_ep; e++) {
		snprintf(a, sizeof a, "sip:user%zu@example.com", e);
		snprintf(b, sizeof b, "tel:+1555%07zu", e);
		struct db_rec_endpoint r = {.id = (long long)e + 1, .key = a, .class_ = "desk_phone",
					    .has_mac = true, .uri = a, .tel = b,
					    .location_id = (long long)(e % w->n_loc) + 1};
		dev_mac(e, r.mac);
		SINK(endpoint, &r);
	}
	time_t now = time(NULL);
	for (size_t d = 0; d < w->n_dev; d++) {
		struct db_rec_binding r = {.first_seen = now - 3600, .last_seen = now - 60,
					   .source = "snmp"};
		dev_mac(d, r.mac);
		r.kind = DB_BIND_IP_MAC;
		subnet_text(d % w->n_sub, a, sizeof a, true, (unsigned)(d / w->n_sub));
		r.ip = a;
		SINK(binding, &r);
		r.kind = DB_BIND_MAC_PORT;
		size_t port = d % (w->n_port ? w->n_port : 1);
		snprintf(b, sizeof b, "Gi1/0/%zu", port / w->n_sw);
		r.switch_id = (long long)(port % w->n_sw) + 1;
		r.port_id = b;
		SINK(binding, &r);
		r.kind = DB_BIND_MAC_BSSID;
		bssid_of(d % (w->n_bssid ? w->n_bssid : 1), r.bssid);
		SINK(binding, &r);
	}
	struct wm_snapshot *s = wm_builder_finish(bld, &err);
	wm_builder_free(bld);
	*ms = now_ms() - t0;
	if (!s)
		fprintf(stderr, "wm_bench: %s\n", err.msg);
	return s;
fail:
	fprintf(stderr, "wm_bench: %s\n", err.msg);
	wm_builder_free(bld);
	return NULL;
}

/* A random cycle through the cache lines of `bytes` of memory (Sattolo's shuffle), walked
 * `steps` loads long: ns per load. */
static double miss_ns(size_t bytes, size_t steps)
{
	size_t n = bytes / 64 > 2 ? bytes / 64 : 2;
	size_t size = (n * 64 + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
	void *mem;
	if (posix_memalign(&mem, (size_t)2 << 20, size) != 0)
		return 0;
	(void)madvise(mem, size, MADV_HUGEPAGE);
	char *line = mem;
	size_t *order = malloc(n * sizeof *order);
	if (!order) {
		free(mem);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(bench_rng() % i), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		*(char **)(line + order[i] * 64) = line + order[(i + 1) % n] * 64;
	free(order);
	char *p = line;
	for (size_t i = 0; i < n && i < steps; i++)  /* warm-up: the pages mapped */
		p = *(char **)p;
	double t0 = now_ms();
	for (size_t i = 0; i < steps; i++)
		p = *(char **)p;
	double ns = (now_ms() - t0) * 1e6 / (double)steps;
	__asm__ volatile("" : : "r"(p));
	free(mem);
	return ns;
}

struct query {
	char text[48];
	int kind; /* 0 ip, 1 mac, 2 uri */
};

static int run(size_t n, size_t q)
{
	struct world w;
	double build_ms;
	struct wm_snapshot *s = build(n, &w, &build_ms);
	if (!s)
		return 1;
	struct wm_snapshot_stats st;
	wm_snapshot_get_stats(s, &st);
	size_t entries = st.sites + st.locations + st.subnets + st.switches + st.ports + st.bssids +
			 st.endpoints + st.bind_ip_mac + st.bind_mac_port + st.bind_mac_bssid;

	struct query *qs = malloc(q * sizeof *qs);
	char (*ips)[48] = malloc(q * sizeof *ips);
	if (!qs || !ips)
		return 1;
	for (size_t i = 0; i < q; i++) {
		size_t d = (size_t)(bench_rng() % w.n_dev);
		uint8_t m[6];
		qs[i].kind = (int)(i % 3);
		if (qs[i].kind == 0) {
			subnet_text(d % w.n_sub, qs[i].text, sizeof qs[i].text, true,
				    (unsigned)(d / w.n_sub));
		} else if (qs[i].kind == 1) {
			dev_mac(d, m);
			ident_mac_format(m, qs[i].text);
		} else {
			snprintf(qs[i].text, sizeof qs[i].text, "sip:user%zu@example.com",
				 (size_t)(bench_rng() % w.n_ep));
		}
		subnet_text((size_t)(bench_rng() % w.n_sub), ips[i], sizeof ips[i], true,
			    (unsigned)bench_rng());
	}
	static struct wm_result res;
	struct wm_policy pol = {.now = time(NULL), .max_binding_age = 86400};
	struct lis_error err = {0};
	size_t located = 0, hits = 0;
	/* warm-up, unmeasured */
	static const enum ident_kind kinds[] = {IDENT_IP, IDENT_MAC, IDENT_SIP};
	struct ident id;
	struct wm_target t = {.ids = &id, .n_ids = 1};
	for (size_t i = 0; i < q / 10; i++) {
		id.kind = IDENT_IP;
		memcpy(id.value, qs[i].text, strlen(qs[i].text) + 1);
		(void)wm_resolve(s, &t, &pol, &res, &err);
	}
	double t0 = now_ms(), c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
	for (size_t i = 0; i < q; i++) {
		id.kind = kinds[qs[i].kind];
		memcpy(id.value, qs[i].text, strlen(qs[i].text) + 1);
		located += wm_resolve(s, &t, &pol, &res, &err) == 1;
	}
	double resolve_ns = (now_ms() - t0) * 1e6 / (double)q;
	double resolve_cpu_ns = (clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e6 / (double)q;
	/* the same targets again, one kind at a time: which walk costs what */
	double kind_ns[3];
	for (int k = 0; k < 3; k++) {
		size_t nk = 0;
		double tk = now_ms();
		for (size_t i = (size_t)k; i < q; i += 3, nk++) {
			id.kind = kinds[k];
			memcpy(id.value, qs[i].text, strlen(qs[i].text) + 1);
			(void)wm_resolve(s, &t, &pol, &res, &err);
		}
		kind_ns[k] = nk ? (now_ms() - tk) * 1e6 / (double)nk : 0;
	}
	t0 = now_ms();
	for (size_t i = 0; i < q; i++)
		hits += wm_lookup_subnet(s, ips[i], NULL, 0) != NULL;
	double subnet_ns = (now_ms() - t0) * 1e6 / (double)q;
	double miss = miss_ns(st.bytes, 2000000);

	printf("entries=%zu build_ms=%.1f bytes=%zu bytes_per_entry=%.1f resolve_ns=%.0f "
	       "resolve_cpu_ns=%.0f subnet_ns=%.0f located=%zu/%zu subnet_hits=%zu/%zu "
	       "ip_ns=%.0f mac_ns=%.0f uri_ns=%.0f miss_ns=%.1f\n", entries, build_ms, st.bytes,
	       (double)st.bytes / (double)entries, resolve_ns, resolve_cpu_ns, subnet_ns, located,
	       q, hits, q, kind_ns[0], kind_ns[1], kind_ns[2], miss);
	fflush(stdout);
	free(qs);
	free(ips);
	wm_snapshot_free(s);
	return located == q && hits == q ? 0 : 1;
}

/* --db mode: a sink that only counts, to time the database's share of a reload. */
#define COUNTER(name, type)                                                              \
	static int count_##name(void *ctx, const struct type *r, struct lis_error *err)  \
	{                                                                                \
		(void)r;                                                                 \
		(void)err;                                                               \
		++*(size_t *)ctx;                                                        \
		return 0;                                                                \
	}
COUNTER(site, db_rec_site)
COUNTER(location, db_rec_location)
COUNTER(subnet, db_rec_subnet)
COUNTER(sw, db_rec_switch)
COUNTER(port, db_rec_port)
COUNTER(bssid, db_rec_bssid)
COUNTER(endpoint, db_rec_endpoint)
COUNTER(binding, db_rec_binding)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_db(const char *conninfo, int repeat)
{
	struct lis_error err = {0};
	struct db_conn *db = db_connect(conninfo, &err);
	if (!db) {
		fprintf(stderr, "wm_bench: connect: %s\n", err.msg);
		return 1;
	}
	double *load = calloc((size_t)repeat, sizeof *load);
	double *fetch = calloc((size_t)repeat, sizeof *fetch);
	struct wm_snapshot_stats st = {0};
	size_t rows = 0;
	int rc = 1;
	if (!load || !fetch)
		goto out;
	for (int r = 0; r < repeat; r++) {
		size_t counted = 0;
		struct db_snapshot_sink sink = {
			.ctx = &counted,
			.site = count_site, .location = count_location, .subnet = count_subnet,
			.sw = count_sw, .port = count_port, .bssid = count_bssid,
			.endpoint = count_endpoint, .binding = count_binding,
		};
		double t0 = now_ms();
		if (db_snapshot_load(db, &sink, NULL, &err) < 0) {
			fprintf(stderr, "wm_bench: db_snapshot_load: %s\n", err.msg);
			goto out;
		}
		fetch[r] = now_ms() - t0;
		t0 = now_ms();
		struct wm_snapshot *s = wm_snapshot_load(db, NULL, &err);
		load[r] = now_ms() - t0;
		if (!s) {
			fprintf(stderr, "wm_bench: wm_snapshot_load: %s\n", err.msg);
			goto out;
		}
		wm_snapshot_get_stats(s, &st);
		wm_snapshot_free(s);
		rows = counted;
	}
	size_t entries = st.sites + st.locations + st.subnets + st.switches + st.ports +
			 st.bssids + st.endpoints + st.bind_ip_mac + st.bind_mac_port +
			 st.bind_mac_bssid;
	double lmin = load[0], lmax = load[0], fmin = fetch[0];
	for (int r = 1; r < repeat; r++) {
		lmin = load[r] < lmin ? load[r] : lmin;
		lmax = load[r] > lmax ? load[r] : lmax;
		fmin = fetch[r] < fmin ? fetch[r] : fmin;
	}
	printf("rows=%zu entries=%zu bytes=%zu bytes_per_entry=%.1f repeat=%d load_min_ms=%.1f "
	       "load_median_ms=%.1f load_max_ms=%.1f fetch_min_ms=%.1f fetch_median_ms=%.1f "
	       "sites=%zu locations=%zu subnets=%zu switches=%zu ports=%zu bssids=%zu "
	       "endpoints=%zu bind_mac_port=%zu bind_ip_mac=%zu bind_mac_bssid=%zu\n",
	       rows, entries, st.bytes, entries ? (double)st.bytes / (double)entries : 0.0, repeat,
	       lmin, median(load, repeat), lmax, fmin, median(fetch, repeat), st.sites,
	       st.locations, st.subnets, st.switches, st.ports, st.bssids, st.endpoints,
	       st.bind_mac_port, st.bind_ip_mac, st.bind_mac_bssid);
	fflush(stdout);
	/* Every row read must be in the snapshot: a row the builder dropped would show here. */
	rc = rows == entries ? 0 : 1;
	if (rc)
		fprintf(stderr, "wm_bench: %zu rows read but %zu entries in the snapshot\n", rows,
			entries);
out:
	free(load);
	free(fetch);
	db_close(db);
	return rc;
}

/* Map `mib` MiB (2 MB aligned, huge pages offered), write one byte per 4 KiB, unmap: ms. */
static double touch_fresh(size_t mib)
{
	size_t size = mib << 20;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	(void)madvise(p, size, MADV_HUGEPAGE); /* a hint, as the snapshot's */
	double t0 = now_ms();
	for (size_t off = 0; off < size; off += 4096)
		((volatile char *)p)[off] = 1;
	double ms = now_ms() - t0;
	munmap(p, size);
	return ms;
}

static int run_fresh(size_t mib)
{
	double fresh = touch_fresh(mib), again = touch_fresh(mib);
	if (fresh < 0 || again < 0) {
		perror("wm_bench: mmap");
		return 1;
	}
	printf("mib=%zu fresh_ms=%.1f again_ms=%.1f\n", mib, fresh, again);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: wm_bench [--seed S] [--queries Q] N...\n"
			"       wm_bench --db CONNINFO [--repeat R]\n"
			"       wm_bench --fresh MIB\n");
	return 2;
}

int main(int argc, char **argv)
{
	size_t q = 300000;
	const char *conninfo = NULL;
	int repeat = 5;
	int i = 1, rc = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			bench_rng_seed(strtoull(argv[++i], NULL, 10));
		else if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc)
			q = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			conninfo = argv[++i];
		else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (strcmp(argv[i], "--fresh") == 0 && i + 1 < argc) {
			char *end;
			unsigned long long mib = strtoull(argv[++i], &end, 10);
			if (*end || mib < 1 || mib > 65536 || i + 1 < argc)
				return usage();
			return run_fresh((size_t)mib);
		} else
			return usage();
	}
	if (conninfo) {
		if (i < argc || repeat < 1 || repeat > 1000)
			return usage();
		return run_db(conninfo, repeat);
	}
	if (i >= argc || q == 0)
		return usage();
	for (; i < argc; i++) {
		size_t n = strtoull(argv[i], NULL, 10);
		if (n < 100) {
			fprintf(stderr, "wm_bench: N must be at least 100\n");
			return 2;
		}
		rc |= run(n, q);
	}
	return rc;
}
