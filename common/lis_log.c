#include "lis_log.h"
#include "lis_strbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Set by lis_log_init() before any worker thread starts (or while the other threads do not
 * log, on a reload); read-only otherwise. */
static enum lis_log_target log_target = LIS_LOG_STDERR;
/* atomic: a reload (lis_log_set_level) changes it while other threads log */
static atomic_int log_max = LIS_LOG_INFO;
static const char *log_program;   /* NULL: program_invocation_short_name (glibc) */

static const char *const level_names[] = {
	[LIS_LOG_ERR] = "err",
	[LIS_LOG_WARN] = "warn",
	[LIS_LOG_INFO] = "info",
	[LIS_LOG_DEBUG] = "debug",
};

const char *lis_log_level_name(enum lis_log_level level)
{
	if ((unsigned)level < sizeof level_names / sizeof level_names[0])
		return level_names[level];
	return "info";
}

int lis_log_level_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static const char *program_name(void)
{
	return log_program ? log_program : program_invocation_short_name;
}

void lis_log_init(const char *program, enum lis_log_target target, enum lis_log_level max_level)
{
	if (log_target == LIS_LOG_SYSLOG)
		closelog();
	if (program && program[0])
		log_program = program;
	log_target = target;
	atomic_store_explicit(&log_max, (int)max_level, memory_order_relaxed);
	if (target == LIS_LOG_SYSLOG)
		openlog(program_name(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void lis_log_close(void)
{
	if (log_target == LIS_LOG_SYSLOG)
		closelog();
	log_target = LIS_LOG_STDERR;
}

const char *lis_log_value(char *buf, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	bool plain = s[0] != '\0';

	if (size == 0)
		return "";
	for (const char *p = s; *p && plain; p++) {
		unsigned char c = (unsigned char)*p;
		plain = c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
	}
	if (plain) {
		lis_strcopy(buf, size, s);
		return buf;
	}
	/* Quoted: room for the closing quote and NUL is kept at every step. */
	size_t o = 0;
	if (size < 3) {
		buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[4];
		size_t n = 0;
		if (c == '"' || c == '\\') {
			esc[n++] = '\\';
			esc[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			esc[n++] = '\\';
			esc[n++] = 'x';
			esc[n++] = hex[c >> 4];
			esc[n++] = hex[c & 15];
		} else {
			esc[n++] = (char)c;
		}
		if (o + n + 2 > size)
			break;
		memcpy(buf + o, esc, n);
		o += n;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

#define LINE_MAX_BYTES 2048

/* Line for level, event and the fields of fmt into line (LINE_MAX_BYTES), ending in a
 * newline for stderr and without one for syslog; returns its length. */
static size_t format_line(char *line, enum lis_log_level level, const char *event,
			  const char *fmt, va_list ap)
{
	size_t o = 0;

	if (log_target == LIS_LOG_STDERR) {
		/* A request thread logs a line per answer: the date and time to the second are
		 * made once a second per thread, the milliseconds by hand. */
		static _Thread_local time_t sec_made = -1;
		static _Thread_local char sec_text[24];
		static _Thread_local size_t sec_len;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (ts.tv_sec != sec_made) {
			struct tm tm;
			gmtime_r(&ts.tv_sec, &tm);
			sec_len = strftime(sec_text, sizeof sec_text, "%Y-%m-%dT%H:%M:%S", &tm);
			sec_made = ts.tv_sec;
		}
		memcpy(line, sec_text, sec_len);
		o = sec_len;
		long ms = ts.tv_nsec / 1000000L;
		line[o++] = '.';
		line[o++] = (char)('0' + ms / 100);
		line[o++] = (char)('0' + ms / 10 % 10);
		line[o++] = (char)('0' + ms % 10);
	}
	/* "Z level program " and the event, from pieces: every answer logs a line */
	struct strbuf b;
	strbuf_init_text(&b, line + o, LINE_MAX_BYTES - o);
	if (log_target == LIS_LOG_STDERR)
		strbuf_cat(&b, "Z ", lis_log_level_name(level), " ", program_name(), " ");
	strbuf_puts(&b, event);
	o += b.len;

	if (fmt && fmt[0] && o + 1 < LINE_MAX_BYTES) {
		line[o++] = ' ';
		if (strcmp(fmt, "%s") == 0) {
			/* fields made already (lisd's line per answer): copied, cut as printf
			 * would cut them */
			strbuf_init_text(&b, line + o, LINE_MAX_BYTES - o);
			strbuf_cat(&b, va_arg(ap, const char *));
			o += b.len;
		} else {
			int n = vsnprintf(line + o, LINE_MAX_BYTES - o, fmt, ap);
			if (n > 0)
				o += (size_t)n;
			if (o >= LINE_MAX_BYTES)
				o = LINE_MAX_BYTES - 1;
		}
	}
	if (log_target == LIS_LOG_SYSLOG) {
		line[o] = '\0';
		return o;
	}
	if (o >= LINE_MAX_BYTES - 1)
		o = LINE_MAX_BYTES - 2;
	line[o++] = '\n';
	return o;
}

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;  /* nowhere to say so */
		p += w;
		n -= (size_t)w;
	}
}

/* Lines of lis_log_batched(), kept in memory and written to stderr by a thread of their own
 * in batches: one write() for many lines, at most BATCH_PAUSE_MS after they were logged,
 * instead of one each. Every other line (lis_log) first writes those waiting, and so comes
 * after them, as it was logged. */
#define BATCH_BYTES ((size_t)1 << 20)
#define BATCH_PAUSE_MS 5
static struct {
	pthread_mutex_t queue;        /* buf, len, stop, running */
	pthread_mutex_t out;          /* held while writing to stderr: lines keep their order */
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stop;
	char *buf, *spare;            /* the lines waiting; the batch being written */
	size_t len;
} B = {.queue = PTHREAD_MUTEX_INITIALIZER, .out = PTHREAD_MUTEX_INITIALIZER,
       .wake = PTHREAD_COND_INITIALIZER};

/* Write line (n bytes) now, after the batched lines waiting. */
static void write_now(const char *line, size_t n)
{
	pthread_mutex_lock(&B.queue);
	pthread_mutex_lock(&B.out);
	if (B.len)
		write_all(B.buf, B.len);
	B.len = 0;
	pthread_mutex_unlock(&B.queue);
	write_all(line, n);
	pthread_mutex_unlock(&B.out);
}

static void emit(enum lis_log_level level, const char *line, size_t n)
{
	if (log_target == LIS_LOG_SYSLOG) {
		static const int prio[] = {
			[LIS_LOG_ERR] = LOG_ERR, [LIS_LOG_WARN] = LOG_WARNING,
			[LIS_LOG_INFO] = LOG_INFO, [LIS_LOG_DEBUG] = LOG_DEBUG,
		};
		syslog(prio[level], "%s", line);
		return;
	}
	/* One write() per line, so that lines from worker threads never interleave. */
	write_now(line, n);
}

static void log_line(bool batched, enum lis_log_level level, const char *event,
		     const char *fmt, va_list ap)
{
	char line[LINE_MAX_BYTES];
	if ((int)level > atomic_load_explicit(&log_max, memory_order_relaxed))
		return;
	size_t n = format_line(line, level, event, fmt, ap);
	if (batched && log_target == LIS_LOG_STDERR) {
		pthread_mutex_lock(&B.queue);
		if (B.running && !B.stop && B.len + n <= BATCH_BYTES) {
			bool first = B.len == 0;
			memcpy(B.buf + B.len, line, n);
			B.len += n;
			pthread_mutex_unlock(&B.queue);
			if (first)
				pthread_cond_signal(&B.wake);
			return;
		}
		pthread_mutex_unlock(&B.queue);
	}
	emit(level, line, n);  /* not batched, not running, or a megabyte waiting: now */
}

void lis_log(enum lis_log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(false, level, event, fmt, ap);
	va_end(ap);
}

void lis_log_batched(enum lis_log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(true, level, event, fmt, ap);
	va_end(ap);
}

static void *batch_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&B.queue);
	for (;;) {
		while (!B.len && !B.stop)
			pthread_cond_wait(&B.wake, &B.queue);
		if (!B.len)
			break;
		char *batch = B.buf;
		size_t n = B.len;
		B.buf = B.spare;
		B.spare = batch;
		B.len = 0;
		bool stopping = B.stop;
		pthread_mutex_lock(&B.out);
		pthread_mutex_unlock(&B.queue);
		write_all(batch, n);
		pthread_mutex_unlock(&B.out);
		/* let the next lines gather: one write() for all of them */
		struct timespec pause = {0, BATCH_PAUSE_MS * 1000000L};
		if (!stopping)
			nanosleep(&pause, NULL);
		pthread_mutex_lock(&B.queue);
	}
	pthread_mutex_unlock(&B.queue);
	return NULL;
}

int lis_log_batch_start(void)
{
	char *a = malloc(BATCH_BYTES), *b = malloc(BATCH_BYTES);
	pthread_mutex_lock(&B.queue);
	bool ok = !B.running && a && b;
	if (ok) {
		B.buf = a;
		B.spare = b;
		B.len = 0;
		B.stop = false;
		ok = pthread_create(&B.thread, NULL, batch_main, NULL) == 0;
		B.running = ok;
		if (!ok)
			B.buf = B.spare = NULL;
	}
	pthread_mutex_unlock(&B.queue);
	if (!ok) {
		free(a);
		free(b);
		return -1;
	}
	return 0;
}

void lis_log_batch_stop(void)
{
	pthread_mutex_lock(&B.queue);
	bool running = B.running;
	B.stop = true;
	pthread_mutex_unlock(&B.queue);
	if (!running)
		return;
	pthread_cond_signal(&B.wake);
	pthread_join(B.thread, NULL);  /* it writes what waits before it ends */
	pthread_mutex_lock(&B.queue);
	B.running = false;
	free(B.buf);
	free(B.spare);
	B.buf = B.spare = NULL;
	B.len = 0;
	pthread_mutex_unlock(&B.queue);
}

void lis_log_set_level(enum lis_log_level max_level)
{
	atomic_store_explicit(&log_max, (int)max_level, memory_order_relaxed);
}
