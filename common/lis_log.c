#include "lis_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
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
		snprintf(buf, size, "%s", s);
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

void lis_log(enum lis_log_level level, const char *event, const char *fmt, ...)
{
	char line[2048];
	size_t o = 0;
	int n;

	if ((int)level > atomic_load_explicit(&log_max, memory_order_relaxed))
		return;

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
		n = snprintf(line + o, sizeof line - o, "Z %s %s ", lis_log_level_name(level),
			     program_name());
		if (n > 0)
			o += (size_t)n;
	}
	n = snprintf(line + o, sizeof line - o, "%s", event);
	if (n > 0)
		o += (size_t)n;
	if (o >= sizeof line)
		o = sizeof line - 1;

	if (fmt && fmt[0] && o + 1 < sizeof line) {
		line[o++] = ' ';
		va_list ap;
		va_start(ap, fmt);
		n = vsnprintf(line + o, sizeof line - o, fmt, ap);
		va_end(ap);
		if (n > 0)
			o += (size_t)n;
		if (o >= sizeof line)
			o = sizeof line - 1;
	}

	if (log_target == LIS_LOG_SYSLOG) {
		static const int prio[] = {
			[LIS_LOG_ERR] = LOG_ERR, [LIS_LOG_WARN] = LOG_WARNING,
			[LIS_LOG_INFO] = LOG_INFO, [LIS_LOG_DEBUG] = LOG_DEBUG,
		};
		line[o] = '\0';
		syslog(prio[level], "%s", line);
		return;
	}
	/* One write() per line, so that lines from worker threads never interleave. */
	if (o >= sizeof line - 1)
		o = sizeof line - 2;
	line[o++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, o);
	(void)w;
}

void lis_log_set_level(enum lis_log_level max_level)
{
	atomic_store_explicit(&log_max, (int)max_level, memory_order_relaxed);
}
