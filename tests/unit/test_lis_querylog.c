/* Query log spool records (lis_querylog.h): an entry survives the round trip field by
 * field, values are made one line of valid UTF-8, a damaged line is refused, and a good
 * record glued to a damaged one is still read. */
#include "check.h"
#include "lis_querylog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct db_query_log_entry full = {
	.seq = 42, .at_us = 1764057600123456LL, .kind = "held", .requester_ip = "10.1.2.3",
	.requester_subject = "CN=sbc1.example.net,O=Example", .target = "ip:10.1.2.3",
	.source = "port", .evidence = "port mac 00:11:22:33:44:55 on sw1 port Gi1/0/7 age=60s",
	.evidence_age_s = 60, .location_id = 7, .location_key = "hq-410", .site_key = "hq",
	.address = "country=US; A1=NY; RD=Broadway \\ Ave", .method = "Wiremap", .fallback = 0,
	.disagreement = NULL, .result = "located", .response_time = "emergencyRouting",
	.latency_ms = 1.25,
};

static void test_entry_round_trips_field_by_field(void)
{
	char line[4096];
	size_t n = lis_querylog_encode(&full, line, sizeof line);
	if (!CHECK(n > 0 && line[n - 1] == '\n'))
		return;
	struct db_query_log_entry e;
	long long mark = 0;
	line[n - 1] = '\0';
	if (!CHECK(lis_querylog_decode(line, n - 1, &e, &mark) == 'Q'))
		return;
	CHECK(e.seq == 42 && e.at_us == full.at_us && e.evidence_age_s == 60 &&
	      e.location_id == 7 && e.fallback == 0 && e.latency_ms > 1.24 && e.latency_ms < 1.26);
	CHECK_STR(e.kind, "held");
	CHECK_STR(e.requester_subject, full.requester_subject);
	CHECK_STR(e.address, full.address);
	CHECK_STR(e.evidence, full.evidence);
	CHECK(e.disagreement == NULL);
	CHECK_STR(e.response_time, "emergencyRouting");
}

static void test_nulls_round_trip_as_nulls(void)
{
	struct db_query_log_entry x = {.seq = 1, .at_us = 1, .kind = "deref_get", .result = "404",
		.evidence_age_s = -1, .location_id = 0, .fallback = -1, .latency_ms = -1};
	char line[1024];
	size_t n = lis_querylog_encode(&x, line, sizeof line);
	struct db_query_log_entry e;
	line[n - 1] = '\0';
	if (!CHECK(lis_querylog_decode(line, n - 1, &e, NULL) == 'Q'))
		return;
	CHECK(!e.requester_ip && !e.target && !e.address && !e.response_time);
	CHECK(e.evidence_age_s < 0 && e.location_id == 0 && e.fallback < 0 && e.latency_ms < 0);
	CHECK_STR(e.result, "404");
}

static void test_control_bytes_and_bad_utf8_are_made_one_line(void)
{
	struct db_query_log_entry x = full;
	x.target = "uri:sip:a\tb\nc\x01@ex\xff\xc3\xa9";
	char line[4096];
	size_t n = lis_querylog_encode(&x, line, sizeof line);
	CHECK(memchr(line, '\n', n - 1) == NULL);
	struct db_query_log_entry e;
	line[n - 1] = '\0';
	if (CHECK(lis_querylog_decode(line, n - 1, &e, NULL) == 'Q'))
		CHECK_STR(e.target, "uri:sip:a b c @ex?\xc3\xa9");
}

static void test_damaged_or_torn_line_is_refused(void)
{
	char line[4096];
	size_t n = lis_querylog_encode(&full, line, sizeof line);
	struct db_query_log_entry e;
	char copy[4096];
	memcpy(copy, line, n);
	copy[10] ^= 1;                          /* one bit flipped */
	CHECK(lis_querylog_decode(copy, n - 1, &e, NULL) == 0);
	memcpy(copy, line, n);
	CHECK(lis_querylog_decode(copy, n / 2, &e, NULL) == 0);   /* cut in the middle */
	char mark[] = "M1\t17\t00000000";
	CHECK(lis_querylog_decode(mark, strlen(mark), &e, NULL) == 0);
}

/* A spool written before lisd took zlib's crc32 is still read after an upgrade: the mark
 * below is what that lisd wrote (seen in strace). */
static void test_record_of_an_earlier_lisd_is_read(void)
{
	char mark[] = "M1\t5879310\te4329b83";
	long long seq = 0;
	struct db_query_log_entry e;
	CHECK(lis_querylog_decode(mark, strlen(mark), &e, &seq) == 'M');
	CHECK(seq == 5879310);
}

/* A damaged LF glues a record to the next: the second is still read, the first is the
 * damaged part. */
static void test_record_glued_to_a_damaged_one_is_still_read(void)
{
	char a[4096], b[4096], line[8192];
	struct db_query_log_entry x = full;
	size_t na = lis_querylog_encode(&full, a, sizeof a);
	x.seq = 43;
	x.target = "ip:10.9.9.9";
	size_t nb = lis_querylog_encode(&x, b, sizeof b);
	if (!CHECK(na > 0 && nb > 0))
		return;
	memcpy(line, a, na);
	line[na - 1] = 'X';                     /* the LF damaged */
	memcpy(line + na, b, nb - 1);           /* without its own LF */
	size_t len = na + nb - 1, bad = 0;
	struct db_query_log_entry e;
	CHECK(lis_querylog_decode(line, len, &e, NULL) == 0);
	if (!CHECK(lis_querylog_decode_line(line, len, &e, NULL, &bad) == 'Q'))
		return;
	CHECK(bad == na);
	CHECK(e.seq == 43);
	CHECK_STR(e.target, "ip:10.9.9.9");
	/* a whole line of junk: all of it is damaged */
	char junk[] = "Q1\tnot a record\tQ1\tnor this";
	CHECK(lis_querylog_decode_line(junk, strlen(junk), &e, NULL, &bad) == 0);
	CHECK(bad == strlen(junk));
	/* a good line: nothing damaged */
	a[na - 1] = '\0';
	CHECK(lis_querylog_decode_line(a, na - 1, &e, NULL, &bad) == 'Q' && bad == 0);
}

/* The request thread queues a record of the entry's fields, cut to what the encoding keeps,
 * and the spooler encodes it: the line is the one the entry itself encodes to, also for
 * fields longer than their limit with a UTF-8 sequence across it, bytes to escape, control
 * bytes and invalid UTF-8 at the cut. */
static void test_queued_record_encodes_to_the_same_line(void)
{
	static char a[64 * 1024], b[64 * 1024];
	char longs[4][4000];
	const char *fill[] = { "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\", "a\tb\xff\xc3" };
	for (int i = 0; i < 4; i++) {
		size_t o = 0, f = strlen(fill[i]);
		for (size_t k = 0; o + f + (size_t)i < sizeof longs[i] - 1; k++) {
			/* shift the pattern by i bytes so that its sequences meet every cut */
			if (k == 0)
				for (int j = 0; j < i; j++)
					longs[i][o++] = 'x';
			memcpy(longs[i] + o, fill[i], f);
			o += f;
		}
		longs[i][o] = '\0';
	}
	unsigned bad = 0;
	for (int i = 0; i < 4; i++)
		for (size_t cut = 500; cut < 530; cut++) {
			char s[4000], l[4000];
			snprintf(s, sizeof s, "%.*s", (int)cut, longs[i]);
			snprintf(l, sizeof l, "%.*s", (int)(cut + 1536), longs[(i + 1) % 4]);
			struct db_query_log_entry x = full;
			x.kind = s;
			x.target = s;
			x.disagreement = s;
			x.evidence = l;
			x.address = l;
			x.response_time = i % 2 ? NULL : s;
			x.requester_subject = NULL;
			x.test = cut % 2 == 0;      /* a test-mode entry stays one once queued */
			size_t na = lis_querylog_encode(&x, a, sizeof a);
			size_t nb = lis_querylog_encode_queued(&x, b, sizeof b);
			if (na == 0 || na != nb || memcmp(a, b, na) != 0)
				bad++;
		}
	CHECKF(bad == 0, "%u entries encode otherwise once queued", bad);
	size_t na = lis_querylog_encode(&full, a, sizeof a);
	size_t nb = lis_querylog_encode_queued(&full, b, sizeof b);
	CHECK(na > 0 && na == nb && memcmp(a, b, na) == 0);
}

/* --check-config's spool check: a folder to be made under one this user may write is fine,
 * one under a folder it may not write is refused with the folder named. Run as an
 * unprivileged child (root may write anywhere). */
static void test_spool_check_names_the_folder_it_cannot_write(void)
{
	if (geteuid() != 0)
		t_diag("not root: the unprivileged case needs setuid; only the good case runs");
	char top[] = "/tmp/test_lis_querylog.XXXXXX";
	if (!CHECK(mkdtemp(top) != NULL) || !CHECK(chmod(top, 0755) == 0))
		return;
	char shut[128], open_[128], deep[200];
	snprintf(shut, sizeof shut, "%s/shut", top);
	snprintf(open_, sizeof open_, "%s/open", top);
	CHECK(mkdir(shut, 0755) == 0 && mkdir(open_, 0777) == 0 && chmod(open_, 0777) == 0);
	snprintf(deep, sizeof deep, "%s/a/b/spool", open_);
	struct lis_config cfg = { .querylog_enabled = true, .querylog_instance = "t" };
	struct lis_error err = { 0 };
	cfg.querylog_spool_dir = deep;
	CHECKF(lis_querylog_check(&cfg, &err) == 0, "%s", err.msg);
	if (geteuid() == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			int bad = setgid(65534) < 0 || setuid(65534) < 0;
			struct lis_config c = cfg;
			struct lis_error e = { 0 };
			c.querylog_spool_dir = deep;
			bad |= lis_querylog_check(&c, &e) != 0;
			snprintf(deep, sizeof deep, "%s/spool", shut);
			c.querylog_spool_dir = deep;
			bad |= lis_querylog_check(&c, &e) == 0 || e.code != LIS_E_USAGE ||
			       !strstr(e.msg, "cannot be created") || !strstr(e.msg, shut);
			c.querylog_spool_dir = shut;
			bad |= lis_querylog_check(&c, &e) == 0 || !strstr(e.msg, "cannot be written");
			_exit(bad);
		}
		int st = 0;
		CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	}
	rmdir(shut);
	rmdir(open_);
	rmdir(top);
}

int main(void)
{
	t_run("entry_round_trips_field_by_field", test_entry_round_trips_field_by_field);
	t_run("nulls_round_trip_as_nulls", test_nulls_round_trip_as_nulls);
	t_run("control_bytes_and_bad_utf8_are_made_one_line",
	      test_control_bytes_and_bad_utf8_are_made_one_line);
	t_run("damaged_or_torn_line_is_refused", test_damaged_or_torn_line_is_refused);
	t_run("record_of_an_earlier_lisd_is_read", test_record_of_an_earlier_lisd_is_read);
	t_run("spool_check_names_the_folder_it_cannot_write",
	      test_spool_check_names_the_folder_it_cannot_write);
	t_run("queued_record_encodes_to_the_same_line",
	      test_queued_record_encodes_to_the_same_line);
	t_run("record_glued_to_a_damaged_one_is_still_read",
	      test_record_glued_to_a_damaged_one_is_still_read);
	return t_done();
}
