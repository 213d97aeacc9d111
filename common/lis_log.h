/* The one logging module of every daemon (lisd, wiremapd): one line per event, `key=value`
 * fields, to stderr (with a timestamp and the program name, for systemd's journal or a
 * terminal) or to syslog (tagged with the program name). Safe from any thread. */
#ifndef LIS_LOG_H
#define LIS_LOG_H

#include <stddef.h>

enum lis_log_level {
	LIS_LOG_ERR = 0,
	LIS_LOG_WARN,
	LIS_LOG_INFO,
	LIS_LOG_DEBUG,
};

enum lis_log_target {
	LIS_LOG_STDERR = 0,
	LIS_LOG_SYSLOG,
};

/* Choose the program name ("lisd", "wiremapd"; a string that outlives the log), where lines
 * go and the most verbose level written. Before this is called, lines go to stderr at level
 * info under the name the program was started as. May be called again (on a reload). */
void lis_log_init(const char *program, enum lis_log_target target, enum lis_log_level max_level);
void lis_log_close(void);

/* Write one line: "event k=v k=v". The format must produce the fields after the event name;
 * values a client or an operator's data can influence must pass through lis_log_value(). */
void lis_log(enum lis_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same for a line of which there is one per request (lisd's answers): while
 * lis_log_batch_start() runs (stderr only), it is kept in memory and written with the others
 * by a thread of their own, in one write() a batch and at most a few milliseconds late,
 * instead of one write() a line: that write cost a busy lisd a tenth of its answers. A line
 * of lis_log() first writes the batched lines logged before it, so the order holds. Without
 * the batch thread (syslog, or not started) it is lis_log(). */
void lis_log_batched(enum lis_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Start and stop that thread; stop writes what waits (call it before exiting). Start
 * returns -1 (lines are then written at once) when it cannot allocate or start it. */
int lis_log_batch_start(void);
void lis_log_batch_stop(void);

/* Make s safe as one log value: returned as-is when it is a plain token, else double-quoted
 * with ", \ and control bytes escaped; truncated to fit. Returns buf. */
const char *lis_log_value(char *buf, size_t size, const char *s);

/* "err", "warn", "info", "debug"; and back (-1 when unknown). */
const char *lis_log_level_name(enum lis_log_level level);
/* Change the most verbose level written, e.g. on a reload; safe while other threads log. */
void lis_log_set_level(enum lis_log_level max_level);
int lis_log_level_from_name(const char *name);

#endif
