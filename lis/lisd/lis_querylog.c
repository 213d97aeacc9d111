/* The query log writer (see lis_querylog.h for the path of an entry and the spool format).
 *
 * Locks: qlock guards the queue; slock guards the spool file (fd, sizes, next seq). A thread
 * that needs both takes slock first. Request threads take only qlock, except when the queue
 * is full. The inserter thread alone replaces the spool file and changes fd. */
#include "lis_querylog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "db.h"
#include "db_notify.h"
#include "lis_log.h"
#include "lis_priv.h"
#include "lis_strbuf.h"

/* Bytes of queue per entry it holds ([querylog] queue entries): a typical record takes
 * less (an answer of the sample wiremap about 700). */
#define QUEUE_BYTES_PER_ENTRY 1024
/* What the spooler encodes before one write (and fdatasync): lines, and bytes of text;
 * enough for a batch of the default size in one write. */
#define CHUNK_ENTRIES 2048
#define CHUNK_TEXT (1024 * 1024)
/* Longest field kept, in bytes (evidence and address are longer than the rest). */
#define FIELD_MAX 512
#define FIELD_MAX_LONG 2048
/* An encoded entry is at most this long (19 fields, escaped, plus seq and crc). */
#define BODY_MAX (16 * 1024)
/* Committed lines the spool keeps before the inserter drops them (compact_locked): each
 * compaction costs a new file, two fdatasyncs and a rename, which after every batch tripled
 * the spool's syncs. It also compacts after a second with nothing new to insert, and at stop;
 * a crash leaves at most this much to replay, which the unique key skips. */
#define COMPACT_BYTES ((off_t)4 << 20)
/* Reconnect backoff of the inserter: 0.5 s doubling to this. */
#define BACKOFF_MAX_MS 10000

static struct {
	bool started;
	const struct lis_config *cfg;
	char instance[80];
	char path[4200], tmp_path[4220], dir[4096];
	unsigned long batch, flush_ms;

	/* queue: records (struct rec and its strings, one after the other) in a ring of bytes
	 * allocated at start; head and tail count bytes from the start and only grow (the
	 * offset in ring is their remainder). Request threads copy a record in under qlock;
	 * the records between head and tail belong to whoever holds slock (the spooler, or a
	 * request thread spooling a full queue), which encodes them without qlock and moves
	 * head on under it. */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;           /* spooler: a batch is ready, or stop */
	char *ring;
	size_t ring_size, head, tail;
	size_t cap, count;              /* entries at most, entries queued */
	bool stopping;
	/* under slock: CHUNK_TEXT bytes of lines to write, where each ends and the bytes of
	 * its record (CHUNK_ENTRIES each), one record read out (REC_MAX bytes) */
	char *text;
	size_t *ends, *bytes;
	char *rec;

	/* spool */
	pthread_mutex_t slock;
	pthread_cond_t dcond;           /* inserter: durable data, or stop */
	int fd;
	long long next_seq;
	off_t write_end;                /* bytes written */
	off_t durable_end;              /* bytes written and fdatasync'ed */
	off_t compact_end;              /* write_end after the last compaction: beyond it the
	                                 * spool holds lines (committed or not) */
	bool spool_broken;              /* a write failed: overflow entries cannot be spooled */
	unsigned long long lost;        /* entries dropped because the spool could not be written
	                                 * (under slock) */
	unsigned long long pending;     /* entries spooled, not yet committed (under slock) */
	unsigned long long waited;      /* answers that spooled a full queue (under slock) */
	time_t waited_logged;           /* when that was last logged (under slock) */

	pthread_t spooler, inserter;
} Q = {
	.qlock = PTHREAD_MUTEX_INITIALIZER,
	.qcond = PTHREAD_COND_INITIALIZER,
	.slock = PTHREAD_MUTEX_INITIALIZER,
	.dcond = PTHREAD_COND_INITIALIZER,
	.fd = -1,
};

/* ---- records ---- */

/* CRC-32 (IEEE 802.3) of each spool record: zlib's, several bytes a step (the byte-at-a-time
 * table loop it replaces was 3% of lisd's CPU under load, encoding and decoding). */
static uint32_t crc32_of(const char *p, size_t n)
{
	return (uint32_t)crc32(0L, (const Bytef *)p, (uInt)n);
}

/* A string field: TAB first, then "\N" for NULL, else the value made one line of valid
 * UTF-8 (control bytes -> space, invalid bytes -> '?'), '\' doubled, cut to max bytes. */
static void tb_str(struct strbuf *b, const char *v, size_t max)
{
	strbuf_put(b, "\t", 1);
	if (!v) {
		strbuf_put(b, "\\N", 2);
		return;
	}
	const unsigned char *p = (const unsigned char *)v;
	size_t n = strlen(v), used = 0;
	while (n > 0) {
		/* printable ASCII other than '\' goes as it is: a run of it in one piece */
		size_t run = 0;
		while (run < n && used + run < max && p[run] >= 0x20 && p[run] < 0x7f &&
		       p[run] != '\\')
			run++;
		if (run) {
			strbuf_put(b, (const char *)p, run);
			used += run;
			p += run;
			n -= run;
			continue;
		}
		size_t l = lis_utf8_seq(p, n, NULL);
		if (used + (l ? l : 1) > max)
			break;
		if (l == 0)
			strbuf_put(b, "?", 1);
		else if (*p < 0x20 || *p == 0x7f)
			strbuf_put(b, " ", 1);
		else if (*p == '\\')
			strbuf_put(b, "\\\\", 2);
		else
			strbuf_put(b, (const char *)p, l);
		used += l ? l : 1;
		p += l ? l : 1;
		n -= l ? l : 1;
	}
}

/* The spooler encodes every answer's record: its numbers without printf. */
static void tb_num(struct strbuf *b, bool null, long long v)
{
	if (null) {
		strbuf_put(b, "\t\\N", 3);
		return;
	}
	strbuf_put(b, "\t", 1);
	strbuf_put_int(b, v);
}

/* Every field after seq, each with its leading TAB. */
static bool encode_body(const struct db_query_log_entry *e, struct strbuf *b)
{
	char lat[32];
	tb_num(b, false, e->at_us);
	tb_str(b, e->kind, FIELD_MAX);
	tb_str(b, e->requester_ip, FIELD_MAX);
	tb_str(b, e->requester_subject, FIELD_MAX);
	tb_str(b, e->target, FIELD_MAX);
	tb_str(b, e->source, FIELD_MAX);
	tb_str(b, e->evidence, FIELD_MAX_LONG);
	tb_num(b, e->evidence_age_s < 0, e->evidence_age_s);
	tb_num(b, e->location_id <= 0, e->location_id);
	tb_str(b, e->location_key, FIELD_MAX);
	tb_str(b, e->site_key, FIELD_MAX);
	tb_str(b, e->address, FIELD_MAX_LONG);
	tb_str(b, e->method, FIELD_MAX);
	tb_str(b, e->fallback < 0 ? NULL : e->fallback ? "t" : "f", 1);
	tb_str(b, e->disagreement, FIELD_MAX);
	tb_str(b, e->result ? e->result : "unknown", FIELD_MAX);
	tb_str(b, e->response_time, FIELD_MAX);
	if (e->latency_ms >= 0)
		snprintf(lat, sizeof lat, "%.3f", e->latency_ms);
	tb_str(b, e->latency_ms >= 0 ? lat : NULL, sizeof lat);
	tb_str(b, e->test ? "t" : "f", 1);
	return !b->cut;
}

/* "TAG\tN" + body + "\tCRC\n". */
static bool encode_line(struct strbuf *b, const char *tag, long long n, const char *body)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = b->len;
	strbuf_cat(b, tag, "\t");
	strbuf_put_int(b, n);
	if (body)
		strbuf_put(b, body, strlen(body));
	if (b->cut)
		return false;
	uint32_t crc = crc32_of(b->s + start, b->len - start);
	char t[10] = {'\t'};  /* "\t%08x\n" */
	for (int i = 0; i < 8; i++)
		t[1 + i] = hex[(crc >> (28 - 4 * i)) & 15];
	t[9] = '\n';
	strbuf_put(b, t, sizeof t);
	return !b->cut;
}

size_t lis_querylog_encode(const struct db_query_log_entry *e, char *buf, size_t size)
{
	char body[BODY_MAX];
	struct strbuf bb;
	strbuf_init(&bb, body, sizeof body);
	struct strbuf lb;
	strbuf_init(&lb, buf, size);
	if (size == 0 || !encode_body(e, &bb) || !encode_line(&lb, "Q1", e->seq, body))
		return 0;
	return lb.len;
}

/* ---- queued records ----
 *
 * An entry is queued as a record: its numbers, and its strings copied as they are (the
 * request thread does no encoding): each cut to its field's limit plus 3 bytes, so that
 * tb_str(), which stops before a UTF-8 sequence that would cross the limit, decides as it
 * would on the whole string. The spooler encodes the record into the spool line. */

enum rec_str { R_KIND, R_REQUESTER_IP, R_SUBJECT, R_TARGET, R_SOURCE, R_EVIDENCE, R_LOCATION_KEY,
	       R_SITE_KEY, R_ADDRESS, R_METHOD, R_DISAGREEMENT, R_RESULT, R_RESPONSE_TIME,
	       N_REC_STR };
#define REC_NULL UINT32_MAX

struct rec {
	uint32_t size;                  /* of the record, strings included, a multiple of 8 */
	uint32_t len[N_REC_STR];        /* each string's length without its NUL; REC_NULL */
	long long at_us, evidence_age_s, location_id;
	int fallback;
	double latency_ms;
	bool test;
};

#define REC_MAX (sizeof(struct rec) + (N_REC_STR - 2) * (FIELD_MAX + 4) + \
		 2 * (FIELD_MAX_LONG + 4) + 8)

/* The entry's string field i (enum rec_str). */
static const char **rec_field(struct db_query_log_entry *e, enum rec_str i)
{
	const char **f[N_REC_STR] = {
		[R_KIND] = &e->kind, [R_REQUESTER_IP] = &e->requester_ip,
		[R_SUBJECT] = &e->requester_subject, [R_TARGET] = &e->target,
		[R_SOURCE] = &e->source, [R_EVIDENCE] = &e->evidence,
		[R_LOCATION_KEY] = &e->location_key, [R_SITE_KEY] = &e->site_key,
		[R_ADDRESS] = &e->address, [R_METHOD] = &e->method,
		[R_DISAGREEMENT] = &e->disagreement, [R_RESULT] = &e->result,
		[R_RESPONSE_TIME] = &e->response_time,
	};
	return f[i];
}

/* The bytes of field i a record keeps: tb_str()'s limit, and the rest of a sequence. */
static size_t rec_keep(enum rec_str i)
{
	return (i == R_EVIDENCE || i == R_ADDRESS ? FIELD_MAX_LONG : FIELD_MAX) + 3;
}

/* Entry e as a record in buf (REC_MAX bytes); returns its size. */
static size_t rec_make(const struct db_query_log_entry *e, char *buf)
{
	struct db_query_log_entry x = *e;
	struct rec h = { .at_us = e->at_us, .evidence_age_s = e->evidence_age_s,
			 .location_id = e->location_id, .fallback = e->fallback,
			 .latency_ms = e->latency_ms, .test = e->test };
	size_t at = sizeof h;
	for (int i = 0; i < N_REC_STR; i++) {
		const char *v = *rec_field(&x, (enum rec_str)i);
		if (!v) {
			h.len[i] = REC_NULL;
			continue;
		}
		size_t n = strnlen(v, rec_keep((enum rec_str)i));
		memcpy(buf + at, v, n);
		buf[at + n] = '\0';
		h.len[i] = (uint32_t)n;
		at += n + 1;
	}
	h.size = (uint32_t)((at + 7) & ~(size_t)7);
	memcpy(buf, &h, sizeof h);
	return h.size;
}

/* The entry the record in buf holds; its strings point into buf. */
static void rec_read(const char *buf, struct db_query_log_entry *e)
{
	struct rec h;
	memcpy(&h, buf, sizeof h);
	memset(e, 0, sizeof *e);
	e->at_us = h.at_us;
	e->evidence_age_s = h.evidence_age_s;
	e->location_id = h.location_id;
	e->fallback = h.fallback;
	e->latency_ms = h.latency_ms;
	e->test = h.test;
	size_t at = sizeof h;
	for (int i = 0; i < N_REC_STR; i++) {
		if (h.len[i] == REC_NULL)
			continue;
		*rec_field(e, (enum rec_str)i) = buf + at;
		at += h.len[i] + 1;
	}
}

size_t lis_querylog_encode_queued(const struct db_query_log_entry *e, char *buf, size_t size)
{
	static _Thread_local char rec[REC_MAX];
	struct db_query_log_entry x;
	rec_make(e, rec);
	rec_read(rec, &x);
	x.seq = e->seq;
	return lis_querylog_encode(&x, buf, size);
}

/* Undo the field escaping in place; NULL for "\N". */
static char *unescape(char *f)
{
	if (strcmp(f, "\\N") == 0)
		return NULL;
	char *w = f;
	for (char *r = f; *r; r++) {
		if (*r == '\\' && r[1] == '\\')
			r++;
		*w++ = *r;
	}
	*w = '\0';
	return f;
}

static bool parse_ll(const char *s, long long *v)
{
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

#define Q_FIELDS 22   /* Q1, seq, 19 values, crc; spools written before test mode lack the
		       * last value (test): one field fewer */

int lis_querylog_decode(char *line, size_t len, struct db_query_log_entry *e,
			long long *mark_seq)
{
	char *f[Q_FIELDS + 1];
	size_t nf = 0;

	if (len < 12 || memchr(line, '\0', len) || line[len - 9] != '\t')
		return 0;
	uint32_t want = 0;
	for (size_t i = len - 8; i < len; i++) {
		char c = line[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return 0;
		want = want << 4 | (uint32_t)d;
	}
	if (crc32_of(line, len - 9) != want)
		return 0;
	line[len - 9] = '\0';
	for (char *p = line; nf <= Q_FIELDS; ) {
		f[nf++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	long long v;
	if (nf == 2 && strcmp(f[0], "M1") == 0 && parse_ll(f[1], &v) && v > 0) {
		if (mark_seq)
			*mark_seq = v;
		return 'M';
	}
	if ((nf != Q_FIELDS - 1 && nf != Q_FIELDS - 2) || strcmp(f[0], "Q1") != 0)
		return 0;
	memset(e, 0, sizeof *e);
	if (!parse_ll(f[1], &e->seq) || e->seq <= 0 || !parse_ll(f[2], &e->at_us))
		return 0;
	e->kind = unescape(f[3]);
	e->requester_ip = unescape(f[4]);
	e->requester_subject = unescape(f[5]);
	e->target = unescape(f[6]);
	e->source = unescape(f[7]);
	e->evidence = unescape(f[8]);
	const char *age = unescape(f[9]);
	const char *id = unescape(f[10]);
	e->evidence_age_s = -1;
	if (age && !parse_ll(age, &e->evidence_age_s))
		return 0;
	if (id && !parse_ll(id, &e->location_id))
		return 0;
	e->location_key = unescape(f[11]);
	e->site_key = unescape(f[12]);
	e->address = unescape(f[13]);
	e->method = unescape(f[14]);
	const char *fb = unescape(f[15]);
	e->fallback = !fb ? -1 : strcmp(fb, "t") == 0;
	e->disagreement = unescape(f[16]);
	e->result = unescape(f[17]);
	e->response_time = unescape(f[18]);
	const char *lat = unescape(f[19]);
	e->latency_ms = lat ? strtod(lat, NULL) : -1;
	const char *test = nf == Q_FIELDS - 1 ? unescape(f[20]) : NULL;
	e->test = test && strcmp(test, "t") == 0;
	if (!e->kind || !e->result)
		return 0;
	return 'Q';
}

int lis_querylog_decode_line(char *line, size_t len, struct db_query_log_entry *e,
			     long long *mark_seq, size_t *bad)
{
	*bad = 0;
	int t = lis_querylog_decode(line, len, e, mark_seq);
	if (t)
		return t;
	/* A damaged newline glues a record to the next one: the whole record at the end of the
	 * line is still good. lis_querylog_decode checks the CRC before it changes the line, so
	 * a failed try leaves it as it was. */
	for (size_t p = 1; p + 3 <= len; p++) {
		if ((line[p] != 'Q' && line[p] != 'M') || line[p + 1] != '1' || line[p + 2] != '\t')
			continue;
		t = lis_querylog_decode(line + p, len - p, e, mark_seq);
		if (t) {
			*bad = p;
			return t;
		}
	}
	*bad = len;
	return 0;
}

/* ---- the spool file ---- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return -1;
	int rc = fsync(d);
	close(d);
	return rc;
}

/* Append lines (already numbered) under slock, fdatasync, publish. On a failed write the
 * partial write is cut off again and -1 returned (the caller keeps its entries). */
static int spool_write_locked(const char *text, size_t n)
{
	char v[200];
	if (n == 0)
		return 0;
	if (write_all(Q.fd, text, n) < 0 || fdatasync(Q.fd) < 0) {
		int e = errno;
		/* If this fails too, the next start cuts the torn line off by its CRC. */
		int trc = ftruncate(Q.fd, Q.write_end);
		(void)trc;
		if (!Q.spool_broken)
			lis_log(LIS_LOG_ERR, "querylog", "spool=%s result=write_failed reason=%s",
				lis_log_value(v, sizeof v, Q.path), strerror(e));
		Q.spool_broken = true;
		return -1;
	}
	if (Q.spool_broken)
		lis_log(LIS_LOG_INFO, "querylog", "spool=%s result=writable_again",
			lis_log_value(v, sizeof v, Q.path));
	Q.spool_broken = false;
	Q.write_end += (off_t)n;
	Q.durable_end = Q.write_end;
	pthread_cond_signal(&Q.dcond);
	return 0;
}

/* n bytes at byte count at of the ring (which they may wrap around) into p, or from p. */
static void ring_read(size_t at, void *p, size_t n)
{
	size_t o = at % Q.ring_size, k = n < Q.ring_size - o ? n : Q.ring_size - o;
	memcpy(p, Q.ring + o, k);
	memcpy((char *)p + k, Q.ring, n - k);
}

static void ring_write(size_t at, const void *p, size_t n)
{
	size_t o = at % Q.ring_size, k = n < Q.ring_size - o ? n : Q.ring_size - o;
	memcpy(Q.ring + o, p, k);
	memcpy(Q.ring, (const char *)p + k, n - k);
}

/* n entries, bytes long, leave the queue from its head. */
static void dequeue(size_t n, size_t bytes)
{
	pthread_mutex_lock(&Q.qlock);
	Q.head += bytes;
	Q.count -= n;
	pthread_mutex_unlock(&Q.qlock);
}

/* The next chunk of records from byte count *at (below tail) encoded into Q.text, numbered
 * from next_seq: line i ends at end[i] and its record takes bytes[i]. Returns the lines. */
static size_t encode_chunk(size_t *at, size_t tail, struct strbuf *b, size_t *end,
			   size_t *bytes)
{
	char body[BODY_MAX], v[200];
	size_t n = 0;
	strbuf_init(b, Q.text, CHUNK_TEXT);
	while (*at < tail && n < CHUNK_ENTRIES && CHUNK_TEXT - b->len > BODY_MAX + 64) {
		struct rec h;
		struct db_query_log_entry e;
		struct strbuf bb;
		ring_read(*at, &h, sizeof h);
		ring_read(*at, Q.rec, h.size);
		rec_read(Q.rec, &e);
		strbuf_init(&bb, body, sizeof body);
		size_t before = b->len;
		if (encode_body(&e, &bb) && encode_line(b, "Q1", Q.next_seq + (long long)n, body)) {
			*at += h.size;
			end[n] = b->len;
			bytes[n++] = h.size;
			continue;
		}
		b->len = before;
		b->cut = false;
		if (n)
			break;          /* the chunk ends before it; the next one starts with it */
		/* Cannot happen with the field limits; never silently. */
		*at += h.size;
		dequeue(1, h.size);
		Q.lost++;
		lis_log(LIS_LOG_ERR, "querylog", "spool=%s result=lost reason=\"entry too large\"",
			lis_log_value(v, sizeof v, Q.path));
	}
	return n;
}

/* Spool the records queued when called, oldest first: a chunk encoded (numbered from
 * next_seq) and written at once, or, when that fails (a full disk), one entry per write
 * until one does not fit, so that a batch is not lost whole while there is room for part of
 * it. What is spooled leaves the queue; the rest stays, in order. Returns true when all of
 * it was spooled. slock held. */
static bool spool_queue_locked(void)
{
	size_t *end = Q.ends, *bytes = Q.bytes;
	pthread_mutex_lock(&Q.qlock);
	size_t at = Q.head, tail = Q.tail;
	pthread_mutex_unlock(&Q.qlock);
	while (at < tail) {
		struct strbuf b;
		size_t n = encode_chunk(&at, tail, &b, end, bytes), k = 0, off = 0, done = 0;
		if (n && spool_write_locked(Q.text, b.len) == 0) {
			for (; k < n; k++)
				done += bytes[k];
		} else {
			for (; n > 1 && k < n; k++) {
				if (spool_write_locked(Q.text + off, end[k] - off) < 0)
					break;
				off = end[k];
				done += bytes[k];
			}
		}
		Q.next_seq += (long long)k;
		Q.pending += k;
		dequeue(k, done);
		if (k < n)
			return false;
	}
	return true;
}

/* The spooler and the inserter run at the request threads' level, LIS_WORKER_NICE below the
 * rest of lisd (lis_priv.h): a batch of theirs then waits its turn on a busy core instead of
 * delaying the answers there. On the bench's 2 cores (h2load at a quarter of lisd's top
 * rate, medians of 5 runs) p99 went 2.07 -> 1.40 ms in one set and 1.35 -> 1.26 in another,
 * and a full load's query log was stored as soon after it as before. Where setpriority is
 * refused they stay as they are, said once. */
static void querylog_nice(void)
{
	static atomic_bool warned;
	if (lis_priv_lower_thread(LIS_WORKER_NICE) < 0 && !atomic_exchange(&warned, true))
		lis_log(LIS_LOG_INFO, "querylog", "querylog_nice=unchanged reason=%s",
			strerror(errno));
}

/* ---- spooler thread: queue -> spool ---- */

static void *spooler_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "querylog-spool");
	querylog_nice();
	for (;;) {
		pthread_mutex_lock(&Q.qlock);
		if (!Q.stopping && Q.count < Q.batch) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			long long ns = until.tv_nsec + (long long)Q.flush_ms * 1000000LL;
			until.tv_sec += (time_t)(ns / 1000000000LL);
			until.tv_nsec = (long)(ns % 1000000000LL);
			pthread_cond_timedwait(&Q.qcond, &Q.qlock, &until);
		}
		bool stop = Q.stopping;
		pthread_mutex_unlock(&Q.qlock);

		pthread_mutex_lock(&Q.slock);
		bool ok = spool_queue_locked();
		pthread_mutex_unlock(&Q.slock);
		if (stop) {
			/* what a spool that cannot be written leaves queued, lis_querylog_stop()
			 * counts as lost */
			pthread_mutex_lock(&Q.qlock);
			bool empty = Q.count == 0;
			pthread_mutex_unlock(&Q.qlock);
			if (empty || !ok)
				break;
		} else if (!ok) {
			struct timespec d = {1, 0};
			nanosleep(&d, NULL);
		}
	}
	return NULL;
}

/* ---- inserter thread: spool -> PostgreSQL ---- */

struct reader {
	char *buf;
	size_t size;
	struct db_query_log_entry *e;
};

/* Replace the spool by one mark line when everything in it is committed, so that it does
 * not grow while PostgreSQL is up. slock held; *done is the committed offset. */
static void compact_locked(off_t *done)
{
	char v[200], line[64];
	if (*done != Q.write_end || *done != Q.durable_end)
		return;
	struct strbuf b;
	strbuf_init(&b, line, sizeof line);
	if (!encode_line(&b, "M1", Q.next_seq, NULL))
		return;
	/* The mark must reach the disk before the old file goes: write, sync, rename, sync. */
	int fd = open(Q.tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	if (write_all(fd, line, b.len) < 0 || fdatasync(fd) < 0) {
		close(fd);
		unlink(Q.tmp_path);
		goto fail;
	}
	close(fd);
	int nfd = open(Q.tmp_path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (nfd < 0 || flock(nfd, LOCK_EX | LOCK_NB) < 0) {
		if (nfd >= 0)
			close(nfd);
		unlink(Q.tmp_path);
		goto fail;
	}
	if (rename(Q.tmp_path, Q.path) < 0) {
		close(nfd);
		unlink(Q.tmp_path);
		goto fail;
	}
	fsync_dir(Q.dir);
	close(Q.fd);
	Q.fd = nfd;
	Q.write_end = Q.durable_end = Q.compact_end = *done = (off_t)b.len;
	return;
fail:
	lis_log(LIS_LOG_WARN, "querylog", "spool=%s result=compact_failed reason=%s",
		lis_log_value(v, sizeof v, Q.path), strerror(errno));
}

/* Read up to batch whole records from offset *at (below end) into r->e. Returns the count;
 * *used gets the bytes they take. Marks and bad lines are stepped over. */
static size_t read_batch(struct reader *r, int fd, off_t at, off_t end, size_t *used)
{
	size_t n = 0, off = 0, have = 0;
	*used = 0;
	size_t want = (size_t)(end - at);
	if (want > r->size - 1)
		want = r->size - 1;
	while (have < want) {
		ssize_t k = pread(fd, r->buf + have, want - have, at + (off_t)have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
	}
	while (n < Q.batch && off < have) {
		char *nl = memchr(r->buf + off, '\n', have - off);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (r->buf + off));
		*nl = '\0';
		long long mark;
		size_t bad;
		int t = lis_querylog_decode_line(r->buf + off, len, &r->e[n], &mark, &bad);
		if (t == 'Q')
			n++;
		if (bad)
			lis_log(LIS_LOG_WARN, "querylog", "spool_offset=%lld result=bad_record "
				"bytes=%zu", (long long)(at + (off_t)off), bad);
		off += len + 1;
	}
	*used = off;
	return n;
}

/* Insert e[0..n): one statement; when the server refuses a value (it cannot happen for
 * entries this code made, but a poisoned batch must not block the log forever), one by one,
 * and the refused entry is logged and skipped. Returns 0, or -1 to retry later. */
static int insert_batch(struct db_conn *db, struct db_query_log_entry *e, size_t n,
			size_t *inserted)
{
	struct lis_error err = {0};
	char v[300];
	if (db_query_log_insert(db, Q.instance, e, n, inserted, &err) == 0)
		return 0;
	if (err.code != DB_E_INPUT) {
		lis_log(LIS_LOG_WARN, "querylog", "result=insert_failed entries=%zu reason=%s", n,
			lis_log_value(v, sizeof v, err.msg));
		return -1;
	}
	*inserted = 0;
	for (size_t i = 0; i < n; i++) {
		size_t one = 0;
		if (db_query_log_insert(db, Q.instance, &e[i], 1, &one, &err) == 0) {
			*inserted += one;
			continue;
		}
		if (err.code != DB_E_INPUT)
			return -1;
		lis_log(LIS_LOG_ERR, "querylog", "seq=%lld result=refused reason=%s", e[i].seq,
			lis_log_value(v, sizeof v, err.msg));
	}
	return 0;
}

static void *inserter_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "querylog-insert");
	querylog_nice();
	struct db_conn *db = NULL;
	struct reader r = {0};
	off_t done = 0;                 /* spool bytes committed (or stepped over) */
	long backoff = 500;
	bool down_logged = false;
	unsigned long long replayed = 0;
	char v[300];

	r.size = (size_t)Q.batch * 4096 + BODY_MAX + 1;
	r.buf = malloc(r.size);
	r.e = calloc(Q.batch, sizeof *r.e);
	if (!r.buf || !r.e) {
		lis_log(LIS_LOG_ERR, "querylog", "result=failed reason=\"out of memory\"");
		goto out;
	}
	for (;;) {
		pthread_mutex_lock(&Q.slock);
		bool stop;
		for (;;) {
			pthread_mutex_lock(&Q.qlock);
			stop = Q.stopping;
			pthread_mutex_unlock(&Q.qlock);
			if (stop || Q.durable_end > done)
				break;
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			/* a second with nothing new: drop what is committed */
			if (pthread_cond_timedwait(&Q.dcond, &Q.slock, &until) == ETIMEDOUT &&
			    Q.write_end > Q.compact_end)
				compact_locked(&done);
		}
		off_t end = Q.durable_end;
		int fd = Q.fd;
		bool finished = end <= done && stop;
		if (finished && Q.write_end > Q.compact_end)
			compact_locked(&done);
		pthread_mutex_unlock(&Q.slock);
		if (finished)
			break;
		if (end <= done)
			continue;

		if (!db) {
			struct lis_error err = {0};
			/* At stop, no new connection: the spool keeps what is left for the next start. */
			if (stop)
				break;
			db = db_connect(Q.cfg->conninfo, &err);
			/* lisd(8) NOTIFICATIONS: emergency rows open notifications */
			if (db && Q.cfg->notify_enabled &&
			    db_notify_session(db, Q.cfg->notify_window, &err) < 0) {
				db_close(db);
				db = NULL;
			}
			if (!db) {
				if (!down_logged)
					lis_log(LIS_LOG_WARN, "querylog", "db=unreachable result=spooling "
						"reason=%s", lis_log_value(v, sizeof v, err.msg));
				down_logged = true;
				goto wait;
			}
		}
		size_t used, inserted = 0;
		size_t n = read_batch(&r, fd, done, end, &used);
		if (used == 0) {
			/* A record longer than the buffer cannot be: step over the rest. */
			lis_log(LIS_LOG_ERR, "querylog", "spool_offset=%lld result=unreadable",
				(long long)done);
			done = end;
			continue;
		}
		if (n > 0 && insert_batch(db, r.e, n, &inserted) < 0) {
			if (!db_is_ok(db)) {
				db_close(db);
				db = NULL;
				down_logged = true;
				lis_log(LIS_LOG_WARN, "querylog", "db=unreachable result=spooling");
			}
			if (stop)
				break;
			goto wait;
		}
		if (down_logged) {
			replayed += n;
		}
		done += (off_t)used;
		backoff = 500;
		pthread_mutex_lock(&Q.slock);
		Q.pending -= n < Q.pending ? n : Q.pending;
		if (done == Q.durable_end && done == Q.write_end) {
			if (down_logged) {
				lis_log(LIS_LOG_INFO, "querylog", "db=ok result=replayed entries=%llu",
					replayed);
				down_logged = false;
				replayed = 0;
			}
			if (Q.write_end - Q.compact_end >= COMPACT_BYTES)
				compact_locked(&done);
		}
		pthread_mutex_unlock(&Q.slock);
		continue;
wait:
		{
			/* Sleep the backoff, waking early only to stop. */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			long long ns = until.tv_nsec + (long long)backoff * 1000000LL;
			until.tv_sec += (time_t)(ns / 1000000000LL);
			until.tv_nsec = (long)(ns % 1000000000LL);
			pthread_mutex_lock(&Q.qlock);
			if (!Q.stopping)
				pthread_cond_timedwait(&Q.qcond, &Q.qlock, &until);
			pthread_mutex_unlock(&Q.qlock);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		}
	}
out:
	db_close(db);
	free(r.buf);
	free(r.e);
	return NULL;
}

/* ---- start, append, stop ---- */

static int mkdir_p(const char *path)
{
	char p[4096];
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Keep a damaged piece of the spool aside, for inspection, in <spool>.damaged. */
static void quarantine(const char *p, size_t n, off_t at, size_t *records)
{
	char path[sizeof Q.path + 16], v[300];
	snprintf(path, sizeof path, "%s.damaged", Q.path);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	bool kept = fd >= 0 && write_all(fd, p, n) == 0 && write_all(fd, "\n", 1) == 0 &&
		    fdatasync(fd) == 0;
	if (fd >= 0)
		close(fd);
	(*records)++;
	lis_log(LIS_LOG_ERR, "querylog", "spool=%s result=damaged_record offset=%lld bytes=%zu "
		"kept=%s", lis_log_value(v, sizeof v, Q.path), (long long)at, n,
		kept ? "yes" : "no");
}

/* Read the spool back: the highest seq (records or mark), how many entries wait, and where
 * the last whole line ends (a torn tail, a crash in the middle of a write, is cut off
 * there). A damaged line costs itself only: it is kept aside (quarantine), counted in
 * *damaged, and the lines after it are read as usual (the inserter steps over it). */
static int scan_spool(int fd, long long *max_seq, size_t *pending, off_t *good_end,
		      size_t *damaged, struct lis_error *err)
{
	size_t size = BODY_MAX * 4, have = 0;
	char *buf = malloc(size);
	off_t at = 0;
	bool skipping = false;       /* in a line longer than any record: damaged */
	*max_seq = 0;
	*pending = 0;
	*good_end = 0;
	*damaged = 0;
	if (!buf)
		return lis_error_set(err, LIS_E_SYSTEM, "querylog: out of memory");
	for (;;) {
		ssize_t k = pread(fd, buf + have, size - have, at + (off_t)have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(buf);
			return lis_error_set(err, LIS_E_SYSTEM, "%s: cannot read: %s", Q.path,
					     strerror(errno));
		}
		have += (size_t)k;
		size_t off = 0;
		for (;;) {
			char *nl = memchr(buf + off, '\n', have - off);
			if (!nl)
				break;
			size_t len = (size_t)(nl - (buf + off)), bad = 0;
			struct db_query_log_entry e;
			long long mark = 0;
			int t = 0;
			if (skipping)
				bad = len;
			else
				t = lis_querylog_decode_line(buf + off, len, &e, &mark, &bad);
			if (bad && !skipping)
				quarantine(buf + off, bad, at + (off_t)off, damaged);
			skipping = false;
			if (t == 'Q') {
				(*pending)++;
				if (e.seq > *max_seq)
					*max_seq = e.seq;
			} else if (t == 'M' && mark - 1 > *max_seq) {
				*max_seq = mark - 1;
			}
			off += len + 1;
			*good_end = at + (off_t)off;
		}
		if (k == 0)
			break;
		if (off == 0 && have == size) {
			/* a line longer than any record: keep its start aside, skip to its end */
			if (!skipping)
				quarantine(buf, have, at, damaged);
			skipping = true;
			off = have;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		at += (off_t)off;
	}
	free(buf);
	return 0;
}

int lis_querylog_check(const struct lis_config *cfg, struct lis_error *err)
{
	char p[4096], spool[4300];
	struct stat st;
	if (!cfg->querylog_enabled)
		return 0;
	snprintf(spool, sizeof spool, "%s/%s.spool", cfg->querylog_spool_dir,
		 cfg->querylog_instance);
	if (stat(spool, &st) == 0)
		return access(spool, R_OK | W_OK) == 0 ? 0 :
			lis_error_set(err, LIS_E_USAGE, "[querylog] spool %s: cannot be written: %s",
				      spool, strerror(errno));
	/* The spool folder, or the nearest folder above it that exists, must take new files. */
	snprintf(p, sizeof p, "%s", cfg->querylog_spool_dir);
	while (stat(p, &st) < 0) {
		char *slash = strrchr(p, '/');
		if (errno != ENOENT || !slash)
			return lis_error_set(err, LIS_E_USAGE, "[querylog] spool_dir %s: %s: %s",
					     cfg->querylog_spool_dir, p, strerror(errno));
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (!S_ISDIR(st.st_mode))
		return lis_error_set(err, LIS_E_USAGE, "[querylog] spool_dir %s: %s is not a folder",
				     cfg->querylog_spool_dir, p);
	if (access(p, W_OK | X_OK) < 0)
		return lis_error_set(err, LIS_E_USAGE, "[querylog] spool_dir %s: cannot be %s: %s: "
				     "%s", cfg->querylog_spool_dir,
				     strcmp(p, cfg->querylog_spool_dir) == 0 ? "written" : "created",
				     p, strerror(errno));
	return 0;
}

int lis_querylog_give_to(uid_t uid, gid_t gid, struct lis_error *err)
{
	char v[sizeof Q.path + 16];
	if (Q.fd < 0)
		return 0;       /* [querylog] enabled = false */
	snprintf(v, sizeof v, "%s.damaged", Q.path);
	pthread_mutex_lock(&Q.slock);
	int rc = chown(Q.dir, uid, gid) < 0 || fchown(Q.fd, uid, gid) < 0 ||
		 (chown(v, uid, gid) < 0 && errno != ENOENT) ? -1 : 0;
	pthread_mutex_unlock(&Q.slock);
	if (rc < 0)
		return lis_error_set(err, LIS_E_SYSTEM, "%s: cannot hand the spool to uid %u: %s",
				     Q.dir, (unsigned)uid, strerror(errno));
	return 0;
}

/* The queue's ring and the spooler's buffers, allocated at start. */
static void free_buffers(void)
{
	free(Q.ring);
	free(Q.text);
	free(Q.rec);
	free(Q.ends);
	free(Q.bytes);
	Q.ring = Q.text = Q.rec = NULL;
	Q.ends = Q.bytes = NULL;
}

int lis_querylog_start(const struct lis_config *cfg, struct lis_error *err)
{
	char v[300];
	if (!cfg->querylog_enabled)
		return 0;
	Q.cfg = cfg;
	snprintf(Q.instance, sizeof Q.instance, "%s", cfg->querylog_instance);
	snprintf(Q.dir, sizeof Q.dir, "%s", cfg->querylog_spool_dir);
	snprintf(Q.path, sizeof Q.path, "%s/%s.spool", Q.dir, Q.instance);
	snprintf(Q.tmp_path, sizeof Q.tmp_path, "%s/%s.spool.new", Q.dir, Q.instance);
	Q.batch = cfg->querylog_batch;
	Q.flush_ms = cfg->querylog_flush_ms;
	/* What the queue holds is how long the spool's disk may stall (an fdatasync of 100 to
	 * 275 ms seen on the bench machine) before answers wait for it: 32768 entries, the
	 * default, is a second at 30,000 answers a second. */
	Q.cap = cfg->querylog_queue;
	Q.ring_size = Q.cap * QUEUE_BYTES_PER_ENTRY;
	Q.head = Q.tail = Q.count = 0;
	Q.stopping = false;
	Q.spool_broken = false;
	Q.lost = 0;
	Q.waited = 0;
	Q.waited_logged = 0;

	if (mkdir_p(Q.dir) < 0)
		return lis_error_set(err, LIS_E_SYSTEM, "[querylog] spool_dir %s: cannot create: %s", Q.dir,
				     strerror(errno));
	Q.fd = open(Q.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (Q.fd < 0)
		return lis_error_set(err, LIS_E_SYSTEM, "%s: cannot open the query log spool: %s", Q.path,
				     strerror(errno));
	if (flock(Q.fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(Q.fd);
		Q.fd = -1;
		if (e == EWOULDBLOCK)
			return lis_error_set(err, LIS_E_USAGE, "%s: in use by another lisd; give each lisd its "
					     "own [querylog] instance (or spool_dir)", Q.path);
		return lis_error_set(err, LIS_E_SYSTEM, "%s: cannot lock: %s", Q.path, strerror(e));
	}
	long long max_seq;
	size_t pending, damaged;
	off_t good_end;
	struct stat st;
	if (scan_spool(Q.fd, &max_seq, &pending, &good_end, &damaged, err) < 0 ||
	    fstat(Q.fd, &st) < 0)
		goto fail;
	if (damaged)
		lis_log(LIS_LOG_ERR, "querylog", "spool=%s result=damaged records=%zu kept=%s.damaged "
			"reason=\"damaged lines skipped; the records around them are kept\"",
			lis_log_value(v, sizeof v, Q.path), damaged, Q.path);
	if (good_end < st.st_size) {
		lis_log(LIS_LOG_WARN, "querylog", "spool=%s result=truncated bytes=%lld "
			"reason=\"incomplete last record (crash while writing)\"",
			lis_log_value(v, sizeof v, Q.path), (long long)(st.st_size - good_end));
		if (ftruncate(Q.fd, good_end) < 0 || fdatasync(Q.fd) < 0) {
			lis_error_set(err, LIS_E_SYSTEM, "%s: cannot cut off a torn record: %s", Q.path,
				      strerror(errno));
			goto fail;
		}
	}
	const char *from = "spool";
	if (good_end == 0) {
		/* A new spool: continue the database's numbering for this instance. Without the
		 * database, number from the clock in microseconds: above anything numbered one by
		 * one before, so that no entry collides with an old one and is skipped. */
		struct lis_error dberr = {0};
		struct db_conn *db = db_connect(cfg->conninfo, &dberr);
		if (db && db_query_log_max_seq(db, Q.instance, &max_seq, &dberr) == 0) {
			from = "database";
		} else {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			max_seq = (long long)now.tv_sec * 1000000LL + now.tv_nsec / 1000;
			from = "clock";
			lis_log(LIS_LOG_WARN, "querylog", "seq_from=clock reason=%s",
				lis_log_value(v, sizeof v, dberr.msg));
		}
		db_close(db);
	}
	Q.next_seq = max_seq + 1;
	Q.pending = pending;
	Q.write_end = Q.durable_end = good_end;
	Q.compact_end = 0;  /* what the spool holds is not known to be stored */
	if (good_end == 0) {
		/* Remember where numbering stands before any entry exists. */
		char line[64];
		struct strbuf b;
		strbuf_init(&b, line, sizeof line);
		if (!encode_line(&b, "M1", Q.next_seq, NULL) || spool_write_locked(line, b.len) < 0) {
			lis_error_set(err, LIS_E_SYSTEM, "%s: cannot write: %s", Q.path, strerror(errno));
			goto fail;
		}
		Q.compact_end = Q.write_end;  /* the mark alone: nothing to drop */
	}
	Q.ring = malloc(Q.ring_size);
	Q.text = malloc(CHUNK_TEXT);
	Q.rec = malloc(REC_MAX);
	Q.ends = malloc(CHUNK_ENTRIES * sizeof *Q.ends);
	Q.bytes = malloc(CHUNK_ENTRIES * sizeof *Q.bytes);
	if (!Q.ring || !Q.text || !Q.rec || !Q.ends || !Q.bytes) {
		lis_error_set(err, LIS_E_SYSTEM, "querylog: out of memory");
		goto fail;
	}
	Q.started = true;
	if (pthread_create(&Q.spooler, NULL, spooler_main, NULL) != 0) {
		Q.started = false;
		lis_error_set(err, LIS_E_SYSTEM, "querylog: cannot start the spooler thread");
		goto fail;
	}
	if (pthread_create(&Q.inserter, NULL, inserter_main, NULL) != 0) {
		pthread_mutex_lock(&Q.qlock);
		Q.stopping = true;
		pthread_cond_broadcast(&Q.qcond);
		pthread_mutex_unlock(&Q.qlock);
		pthread_join(Q.spooler, NULL);
		Q.started = false;
		lis_error_set(err, LIS_E_SYSTEM, "querylog: cannot start the inserter thread");
		goto fail;
	}
	lis_log(LIS_LOG_INFO, "querylog", "instance=%s spool=%s next_seq=%lld seq_from=%s "
		"pending=%zu batch=%lu flush_ms=%lu", Q.instance,
		lis_log_value(v, sizeof v, Q.path), Q.next_seq, from, pending, Q.batch, Q.flush_ms);
	return 0;
fail:
	free_buffers();
	close(Q.fd);
	Q.fd = -1;
	return -1;
}

/* The queue is full (the disk is slower than the requests): spool the queue, in order, and
 * this entry (its record in rec) here rather than hold more in memory or drop anything. */
static void spool_overflow(const char *rec)
{
	char body[BODY_MAX];
	struct db_query_log_entry e;
	struct strbuf bb, b;
	size_t n = 1;
	pthread_mutex_lock(&Q.slock);
	/* an answer waits for the disk here: counted, and said at most once a second */
	Q.waited++;
	time_t now = time(NULL);
	if (now != Q.waited_logged) {
		Q.waited_logged = now;
		lis_log(LIS_LOG_WARN, "querylog", "result=queue_full waited_total=%llu queue=%zu "
			"reason=\"the spool's disk is slower than the answers: they wait for it; a "
			"larger [querylog] queue rides out longer stalls\"", Q.waited, Q.cap);
	}
	if (!spool_queue_locked()) {
		/* the spool takes no more: what is queued is lost, and this entry with it */
		pthread_mutex_lock(&Q.qlock);
		n += Q.count;
		Q.head = Q.tail;
		Q.count = 0;
		pthread_mutex_unlock(&Q.qlock);
	} else {
		rec_read(rec, &e);
		strbuf_init(&bb, body, sizeof body);
		strbuf_init(&b, Q.text, CHUNK_TEXT);
		if (encode_body(&e, &bb) && encode_line(&b, "Q1", Q.next_seq, body) &&
		    spool_write_locked(Q.text, b.len) == 0) {
			Q.next_seq++;
			Q.pending++;
			n = 0;
		}
	}
	if (n) {
		Q.lost += n;
		lis_log(LIS_LOG_ERR, "querylog", "result=lost entries=%zu lost_total=%llu "
			"reason=\"queue full and spool not writable\"", n, Q.lost);
	}
	pthread_mutex_unlock(&Q.slock);
}

void lis_querylog_append(const struct db_query_log_entry *e)
{
	if (!Q.started)
		return;
	/* one record on this thread's stack, then one copy into the queue: no encoding and no
	 * allocation here (the spooler encodes) */
	char rec[REC_MAX];
	struct db_query_log_entry x = *e;
	if (x.at_us == 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		x.at_us = (long long)now.tv_sec * 1000000LL + now.tv_nsec / 1000;
	}
	size_t size = rec_make(&x, rec);
	pthread_mutex_lock(&Q.qlock);
	if (Q.count < Q.cap && Q.ring_size - (Q.tail - Q.head) >= size) {
		ring_write(Q.tail, rec, size);
		Q.tail += size;
		Q.count++;
		if (Q.count >= Q.batch)
			pthread_cond_signal(&Q.qcond);
		pthread_mutex_unlock(&Q.qlock);
		return;
	}
	pthread_mutex_unlock(&Q.qlock);
	spool_overflow(rec);
}

void lis_querylog_get_stats(struct lis_querylog_stats *st)
{
	memset(st, 0, sizeof *st);
	if (!Q.started)
		return;
	st->enabled = true;
	pthread_mutex_lock(&Q.qlock);
	st->queued = Q.count;
	pthread_mutex_unlock(&Q.qlock);
	pthread_mutex_lock(&Q.slock);
	st->spooled = Q.pending;
	st->lost = Q.lost;
	st->waited = Q.waited;
	pthread_mutex_unlock(&Q.slock);
}

void lis_querylog_stop(void)
{
	if (!Q.started)
		return;
	pthread_mutex_lock(&Q.qlock);
	Q.stopping = true;
	pthread_cond_broadcast(&Q.qcond);
	pthread_mutex_unlock(&Q.qlock);
	pthread_join(Q.spooler, NULL);
	pthread_mutex_lock(&Q.slock);
	pthread_cond_broadcast(&Q.dcond);
	pthread_mutex_unlock(&Q.slock);
	pthread_join(Q.inserter, NULL);
	Q.started = false;
	pthread_mutex_lock(&Q.qlock);
	size_t left = Q.count;
	Q.count = 0;
	Q.head = Q.tail;
	pthread_mutex_unlock(&Q.qlock);
	free_buffers();
	/* The spooler gave up on a spool it could not write: what was still queued is lost,
	 * and said so like every other loss. */
	if (left) {
		Q.lost += left;
		lis_log(LIS_LOG_ERR, "querylog", "result=lost entries=%zu lost_total=%llu "
			"reason=\"spool not writable at stop\"", left, Q.lost);
	}
	lis_log(LIS_LOG_INFO, "querylog", "result=stopped next_seq=%lld lost_total=%llu",
		Q.next_seq, Q.lost);
	close(Q.fd);
	Q.fd = -1;
}
