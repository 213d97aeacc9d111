/* libFuzzer target: the query-log spool's record decoder (lisd/lis_querylog.c), which reads
 * back at start whatever a crash or a full disk left in the spool file. The first byte
 * chooses how the rest becomes lines: split on LF; bit 0 appends to each line the CRC it
 * needs (so that the fuzzer gets past the check to the fields); bit 1 glues the lines
 * together, as a damaged LF does. Each line, in a buffer of exactly its length, goes to
 * lis_querylog_decode_line(): what it says must be consistent, an entry's strings must lie
 * in the line, and an entry must encode to a line that decodes and encodes to itself. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "lis_querylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const char *s, const char *line, size_t len)
{
	return !s || (s >= line && s < line + len && memchr(s, '\0', (size_t)(line + len - s)));
}

static bool strings_inside(const struct db_query_log_entry *e, const char *line, size_t len)
{
	const char *s[] = { e->kind, e->requester_ip, e->requester_subject, e->target, e->source,
			    e->evidence, e->location_key, e->site_key, e->address, e->method,
			    e->disagreement, e->result, e->response_time };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		if (!inside(s[i], line, len))
			return false;
	return true;
}

/* An entry encodes to a line that gives it back: encode(decode(encode(e))) == encode(e). */
static void round_trip(const struct db_query_log_entry *e)
{
	static char l1[1 << 16], l2[1 << 16];
	struct db_query_log_entry again;
	long long mark = 0;
	size_t bad = 0;
	/* A latency of 1e27 ms or more does not fit the encoder's "%.3f" buffer and is cut to
	 * another number; lisd measures no such latency, and only a hand-made spool line holds
	 * one, so that is left out here. */
	size_t n1 = e->latency_ms < 1e26 ? lis_querylog_encode(e, l1, sizeof l1) : 0;
	if (n1 == 0)
		return;
	if (n1 < 2 || l1[n1 - 1] != '\n' || memchr(l1, '\n', n1 - 1))
		abort();
	char *copy = malloc(n1 - 1);
	if (!copy)
		return;
	memcpy(copy, l1, n1 - 1);
	if (lis_querylog_decode_line(copy, n1 - 1, &again, &mark, &bad) != 'Q' || bad != 0 ||
	    again.seq != e->seq)
		abort();
	size_t n2 = lis_querylog_encode(&again, l2, sizeof l2);
	if (n2 != n1 || memcmp(l1, l2, n1) != 0)
		abort();
	free(copy);
}

static void decode(const char *text, size_t len)
{
	struct db_query_log_entry e;
	long long mark = 0;
	size_t bad = 12345;
	char *line = malloc(len ? len : 1);
	if (!line)
		return;
	memcpy(line, text, len);
	int t = lis_querylog_decode_line(line, len, &e, &mark, &bad);
	if (t == 0 ? bad != len : bad >= len)
		abort();
	if (t == 'M' && mark <= 0)
		abort();
	if (t == 'Q') {
		if (e.seq <= 0 || !e.kind || !e.result || !strings_inside(&e, line, len))
			abort();
		round_trip(&e);
	} else if (t != 0 && t != 'M') {
		abort();
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool add_crc = data[0] & 1, glue = data[0] & 2;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	/* the lines, each with room for its CRC */
	char *buf = malloc(11 * size + 1);
	size_t n = 0;
	if (!buf)
		return 0;
	while (p <= end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t l = lf ? (size_t)(lf - p) : (size_t)(end - p);
		char *start = buf + n;
		memcpy(start, p, l);
		n += l;
		if (add_crc) {
			unsigned long crc = crc32(0, (const unsigned char *)start, (unsigned)l);
			n += (size_t)snprintf(buf + n, 11, "\t%08lx", crc);
		}
		if (!glue) {
			decode(start, (size_t)(buf + n - start));
			n = 0;
		}
		if (!lf)
			break;
		p = lf + 1;
	}
	if (glue)
		decode(buf, n);
	free(buf);
	return 0;
}
