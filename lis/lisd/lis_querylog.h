/* The query log writer: every HELD answer and every dereference becomes one row of table
 * query_log, without an answer ever waiting for PostgreSQL or for the disk.
 *
 * Path of an entry: lis_querylog_append() (request thread: its fields copied as they are
 * into a record, the record into a ring of bytes allocated at start, under the queue's lock:
 * bounded, no encoding, no allocation) -> spooler thread (encodes it into a spool line,
 * numbers it with the next seq, appends it to the spool file <spool_dir>/<instance>.spool,
 * fdatasync per batch) -> inserter thread (reads the spool from where it last committed,
 * COPYs batches in, again as INSERT ... ON CONFLICT (instance, seq) DO NOTHING where some
 * were stored before, and when everything spooled is committed and the spool holds 4 MiB of
 * lines, or nothing new came for a second, or at stop, replaces the spool with a one-line
 * file that remembers the next seq). While PostgreSQL is away the spool grows and is
 * replayed in order when it returns; after a crash the spool is replayed at start, and rows
 * already stored (up to those 4 MiB) are skipped by the unique key. When the queue is full the request thread
 * writes the queue and its own entry to the spool itself: entries are never dropped for
 * want of memory.
 *
 * Spool file format (text, one record a line, fields separated by TAB):
 *   Q1 <seq> <at_us> <kind> <requester_ip> <requester_subject> <target> <source> <evidence>
 *      <evidence_age_s> <location_id> <location_key> <site_key> <address> <method>
 *      <fallback t|f> <disagreement> <result> <response_time> <latency_ms> <test t|f> <crc>
 *      (a spool written before test mode has no <test>: read as f)
 *   M1 <next_seq> <crc>
 * A field is "\N" for NULL; a backslash in a value is written "\\" (values never hold TAB,
 * CR or LF: those become spaces when the entry is made). crc is the CRC-32 (IEEE) of the
 * line before its last TAB, 8 lower-case hex digits. At start, a last line without its LF
 * (a crash in the middle of a write) is cut off; a damaged line anywhere costs only itself:
 * it is copied to <spool>.damaged for inspection, logged (result=damaged_record), and the
 * records before and after it are replayed. */
#ifndef LIS_QUERYLOG_H
#define LIS_QUERYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "db_querylog.h"
#include "lis_config.h"
#include "lis_error.h"

/* Open (create) and lock the spool, read it back (next seq, pending entries; the database's
 * highest seq for this instance when the spool is new) and start the threads. Does nothing
 * when [querylog] enabled = false. A spool that cannot be created or is locked by another
 * lisd is an error: the log would not be what it promises. */
int lis_querylog_start(const struct lis_config *cfg, struct lis_error *err);

/* For --check-config: the spool can be opened, or its folder created, by this user (the
 * spool folder or the nearest one above it that exists takes new files). Nothing is made. */
int lis_querylog_check(const struct lis_config *cfg, struct lis_error *err);

/* Before lisd gives up root: the spool folder and files become uid:gid's, so that the
 * spooler and the inserter (which replaces the spool file) go on writing. */
int lis_querylog_give_to(uid_t uid, gid_t gid, struct lis_error *err);

/* Queue one entry (seq is ignored and assigned later; at_us 0 means now). Strings are
 * copied; they are made one line of valid UTF-8 and cut to a bounded length. Never waits for
 * PostgreSQL; takes no lock but the queue's, except when the queue is full. No-op when the
 * log is not started. */
void lis_querylog_append(const struct db_query_log_entry *e);

/* For the admin listener (lis_admin.h): how far behind the log is. Takes the queue's and the
 * spool's locks for a moment; not for the request path. */
struct lis_querylog_stats {
	bool enabled;                 /* started ([querylog] enabled = true) */
	size_t queued;                /* entries in memory, not yet in the spool */
	unsigned long long spooled;   /* entries in the spool, not yet committed to PostgreSQL */
	unsigned long long lost;      /* entries dropped since start (the spool not writable) */
	unsigned long long waited;    /* answers that found the queue full and spooled it
	                               * themselves, waiting for the disk */
};
void lis_querylog_get_stats(struct lis_querylog_stats *st);

/* After the HTTP server has stopped: spool what is queued (fdatasync), give the inserter one
 * last chance when PostgreSQL is connected, stop the threads, unlock the spool. */
void lis_querylog_stop(void);

/* Spool records, exposed for tests. Encode entry e with seq into buf (a whole line with its
 * LF); returns the length, or 0 when size is too small. */
size_t lis_querylog_encode(const struct db_query_log_entry *e, char *buf, size_t size);
/* The same line for e as it is encoded after the queue (its fields kept in a record, cut
 * to what the encoding keeps of them): always lis_querylog_encode()'s. */
size_t lis_querylog_encode_queued(const struct db_query_log_entry *e, char *buf, size_t size);
/* Decode one line (without its LF; modified in place, e's strings point into it). Returns
 * 'Q' for an entry, 'M' for a next-seq mark (*mark_seq set), 0 for a bad line. */
int lis_querylog_decode(char *line, size_t len, struct db_query_log_entry *e,
			long long *mark_seq);
/* The same for a line of the spool, which may hold a damaged record glued to a good one (a
 * damaged LF): *bad gets the length of the damaged part at the start of the line (0: none;
 * len: the whole line), and the good record after it, if any, is decoded. */
int lis_querylog_decode_line(char *line, size_t len, struct db_query_log_entry *e,
			     long long *mark_seq, size_t *bad);

#endif
