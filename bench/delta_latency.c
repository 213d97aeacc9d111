/* delta_latency: how long a wiremap change takes from its commit to the first HELD answer
 * that shows it. For each of N changes: UPDATE the ROOM of one location through libpq
 * (autocommit: PQexec returns after the commit), then POST a HELD request to lisd over one
 * kept-alive TLS connection (libcurl) in a tight loop until the answer carries the new
 * ROOM. The figure is the time from PQexec's return to that answer: the change feed's poll,
 * the delta, and one HELD round trip.
 *
 *   delta_latency CONNINFO URL BODY_FILE LOCATION_KEY CHANGES [TAG [STANDBY_CONNINFO]]
 *
 * Prints one line: DELTASTAT tag=TAG n=N p50_ms=.. p99_ms=.. max_ms=.. all_ms=a,b,...
 * (p99 over N < 100 is the largest but one when N >= 20). Exit 1 when a change is not seen
 * within 30 s. Loopback only: the URL must name 127.0.0.1.
 *
 * With STANDBY_CONNINFO (the standby lisd reads from), each change's share of replication
 * is timed too: after the commit, the primary's WAL position (pg_current_wal_lsn(), the
 * commit's end or a little past it when others write meanwhile), then, between HELD
 * requests, the standby's pg_last_wal_replay_lsn() until it is there. The line gains
 * replay_p50_ms=.. replay_p99_ms=.. replay_max_ms=.. replay_all_ms=..: commit to replayed
 * on the standby; the rest of all_ms is lisd's (the feed's poll, the delta, the answer). */
#include <curl/curl.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct buf {
	char *p;
	size_t n, cap;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* " PREFIXp50_ms=.. PREFIXp99_ms=.. PREFIXmax_ms=.. PREFIXall_ms=a,b,..." of v[0..n) */
static void print_stat(const char *prefix, const double *v, int n)
{
	double *s = malloc((size_t)n * sizeof *s);
	if (!s)
		return;
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	int p99 = n >= 20 ? (int)((n - 1) * 0.99) : n - 1;
	printf(" %sp50_ms=%.1f %sp99_ms=%.1f %smax_ms=%.1f %sall_ms=", prefix, s[(n - 1) / 2],
	       prefix, s[p99], prefix, s[n - 1], prefix);
	for (int k = 0; k < n; k++)
		printf("%s%.0f", k ? "," : "", v[k]);
	free(s);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *p = malloc(1 << 16);
	size_t n = p ? fread(p, 1, (1 << 16) - 1, f) : 0;
	fclose(f);
	if (p)
		p[n] = '\0';
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: delta_latency CONNINFO URL BODY_FILE LOCATION_KEY CHANGES "
			"[TAG [STANDBY_CONNINFO]]\n");
		return 2;
	}
	const char *conninfo = argv[1], *url = argv[2], *key = argv[4];
	const char *tag = argc > 6 ? argv[6] : "delta";
	const char *standby = argc > 7 ? argv[7] : NULL;
	int n = atoi(argv[5]);
	if (n < 1 || n > 10000 || strncmp(url, "https://127.0.0.1:", 18) != 0) {
		fprintf(stderr, "delta_latency: CHANGES 1..10000 and a https://127.0.0.1 URL\n");
		return 2;
	}
	char *body = read_all(argv[3]);
	if (!body) {
		fprintf(stderr, "delta_latency: cannot read %s\n", argv[3]);
		return 2;
	}
	PGconn *pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "delta_latency: %s", PQerrorMessage(pg));
		return 1;
	}
	/* The bench's cluster runs with synchronous_commit off (a throwaway cluster, section 4);
	 * a change that matters is flushed at commit, and only then sent to standbys. */
	PGresult *set = PQexec(pg, "SET synchronous_commit TO on");
	PQclear(set);
	PGconn *sb = NULL;
	if (standby) {
		sb = PQconnectdb(standby);
		if (PQstatus(sb) != CONNECTION_OK) {
			fprintf(stderr, "delta_latency: standby: %s", PQerrorMessage(sb));
			return 1;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	struct buf b = {0};
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/held+xml; "
						 "charset=utf-8");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L); /* the bench's own self-signed cert */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	double *lat = calloc((size_t)n, sizeof *lat), *rep = calloc((size_t)n, sizeof *rep);
	int rc = 0;
	for (int k = 0; k < n && !rc; k++) {
		char sql[300], room[64], needle[80];
		snprintf(room, sizeof room, "%s-%d-%ld", tag, k, (long)time(NULL));
		snprintf(needle, sizeof needle, ">%s<", room);
		snprintf(sql, sizeof sql, "UPDATE location SET room = '%s' WHERE key = '%s'", room,
			 key);
		PGresult *r = PQexec(pg, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdTuples(r), "1") != 0) {
			fprintf(stderr, "delta_latency: %s: %s", sql, PQerrorMessage(pg));
			PQclear(r);
			rc = 1;
			break;
		}
		PQclear(r);
		double t0 = now_ms();
		/* where the standby must have replayed to: read after t0, so it costs the figure
		 * nothing but one round trip to the primary */
		char lsn[64] = "";
		if (sb) {
			r = PQexec(pg, "SELECT pg_current_wal_lsn()");
			if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
				snprintf(lsn, sizeof lsn, "%s", PQgetvalue(r, 0, 0));
			PQclear(r);
			if (!lsn[0]) {
				fprintf(stderr, "delta_latency: %s", PQerrorMessage(pg));
				rc = 1;
				break;
			}
		}
		bool replayed = !sb;
		for (;;) {
			if (!replayed) {
				const char *v[] = {lsn};
				r = PQexecParams(sb, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", 1,
						 NULL, v, NULL, NULL, 0);
				if (PQresultStatus(r) != PGRES_TUPLES_OK) {
					fprintf(stderr, "delta_latency: standby: %s", PQerrorMessage(sb));
					PQclear(r);
					rc = 1;
					break;
				}
				if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
					replayed = true;
					rep[k] = now_ms() - t0;
				}
				PQclear(r);
			}
			b.n = 0;
			CURLcode cc = curl_easy_perform(c);
			if (cc == CURLE_OK && b.p && strstr(b.p, needle)) {
				lat[k] = now_ms() - t0;
				/* lisd saw it: replayed by now, whatever the last look said */
				if (!replayed)
					rep[k] = lat[k];
				break;
			}
			if (now_ms() - t0 > 30000) {
				fprintf(stderr, "delta_latency: change %d not answered within 30 s\n", k);
				rc = 1;
				break;
			}
		}
		/* changes a little apart, as a switch poll or an operator makes them */
		struct timespec gap = {0, 20 * 1000000L};
		nanosleep(&gap, NULL);
	}
	if (!rc) {
		printf("DELTASTAT tag=%s n=%d", tag, n);
		print_stat("", lat, n);
		if (sb)
			print_stat("replay_", rep, n);
		printf("\n");
	}
	free(lat);
	free(rep);
	PQfinish(sb);
	free(b.p);
	free(body);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	PQfinish(pg);
	return rc;
}
