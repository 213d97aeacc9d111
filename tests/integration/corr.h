/* Shared kit of the correlation-engine integration tests: the wiremap of
 * tests/data/integration/correlation loaded into a fresh PostgreSQL, a lisd over TLS on it,
 * HELD request builders, and element-by-element checks of the PIDF-LO lisd answers with. */
#ifndef CORR_H
#define CORR_H

#include <stdbool.h>

#include "harness.h"
#include "xp.h"

#define HELD_NS "urn:ietf:params:xml:ns:geopriv:held"
#define HELDID_NS "urn:ietf:params:xml:ns:geopriv:held:id"
#define CK_DOMAIN "lis.test.invalid"

struct ck_env {
	struct th_pg pg;
	struct th_tls tls;
	struct th_lisd lisd;
	char *work;                 /* temp dir: generated binding CSVs */
	bool up;
};

/* The fixture directory (tests/data/integration/correlation/NAME). */
const char *ck_fixture(const char *name);
/* PostgreSQL + migrate + import of every fixture (bindings generated relative to now). */
bool ck_db_setup(struct ck_env *e);
/* lisctl import of every fixture file at once (bindings generated relative to now). */
bool ck_import_fixtures(struct ck_env *e);
/* lisd on 127.0.0.1 over e->pg with the [wiremap] section plus extra (may be NULL), then
 * wait (10 s at most) until its snapshot answers for 127.0.0.10. */
bool ck_lisd_start(struct ck_env *e, struct th_lisd *l, const char *extra_sections);
/* Both of the above. */
bool ck_setup(struct ck_env *e, const char *extra_sections);

/* Import extra CSV rows: kind is a lisctl import option ("--mac-ports", "--subnets", ...),
 * csv the whole file (header included; "now-N" cells allowed). True on exit 0. */
bool ck_import(struct ck_env *e, const char *kind, const char *csv);

/* Request bodies (static rotating buffers, 8 live). */
const char *ck_req(const char *location_type, bool exact);        /* NULL type: none */
const char *ck_req_device(const char *id_xml);                    /* <device>id_xml</device> */
const char *ck_req_device_type(const char *id_xml, const char *location_type, bool exact);
const char *ck_req_wifi(const char *bssid);                      /* RFC 7105 serving AP */

/* A HELD locationResponse with exactly one presence; returns the parsed document (NULL
 * after failed checks). */
xmlDocPtr ck_held_located(const struct th_resp *r);
/* An HTTP 200 HELD error with this code and a non-empty message. */
void ck_held_error(const struct th_resp *r, const char *code);

/* What the PIDF-LO at presence_path (e.g. "/held:locationResponse/pidf:presence") must say:
 * one location (civic, as in locations.csv under loc_key) in one dm:device with
 * dm:deviceID "mac:<mac12>" (mac12 != NULL) or in one pidf:tuple (mac12 == NULL); method;
 * a note (xml:lang en) that says "fallback" when fallback, no fallback note otherwise; the
 * usage rules and a timestamp. */
void ck_pidf(xmlDocPtr d, const char *presence_path, const char *loc_key, const char *method,
	     const char *mac12, bool fallback);
/* The helpers below that POST take the caller's file:line (the macros pass it), so that a
 * body the harness's schema check refuses names the test's line, not this kit's. */

/* POST req from local_addr (cert may be NULL) and check the answer as ck_pidf does. */
void ck_expect_at(struct ck_env *e, const char *req, const char *local_addr,
		  const struct th_cert *cert, const char *loc_key, const char *method,
		  const char *mac12, bool fallback, const char *file, int line);
#define ck_expect(e, req, local_addr, cert, loc_key, method, mac12, fallback) \
	ck_expect_at((e), (req), (local_addr), (cert), (loc_key), (method), (mac12), \
		     (fallback), __FILE__, __LINE__)
/* POST req and expect HELD error code. Returns the body (malloc'd) for comparisons. */
char *ck_expect_error_at(struct ck_env *e, const char *req, const char *local_addr,
			 const struct th_cert *cert, const char *code, const char *file,
			 int line);
#define ck_expect_error(e, req, local_addr, cert, code) \
	ck_expect_error_at((e), (req), (local_addr), (cert), (code), __FILE__, __LINE__)

/* The lisd log has, or gets within 30 s, a line holding every one of the NULL-terminated
 * needles (lisd writes its line per answer in batches, a few milliseconds late). */
bool ck_log_has(const struct th_lisd *l, ...) __attribute__((sentinel));
/* The lisd log has no such line now. Absence is only meaningful once lisd has written what
 * it logged before: for a line per answer, wait (ck_log_has) for that answer's line first. */
bool ck_log_lacks(const struct th_lisd *l, ...) __attribute__((sentinel));
/* Print the last n bytes of the lisd log as a TAP diagnostic. */
void ck_log_tail(const struct th_lisd *l, size_t n);

/* The civic location the answer to a request names: the ca:ROOM/FLR/BLD/LOC text, as the
 * location key of locations.csv it matches ("" when it matches none, "error:CODE" for a
 * HELD error). For polling. */
char *ck_which_at(struct ck_env *e, const struct th_lisd *l, const char *req,
		  const char *local_addr, const char *file, int line);
#define ck_which(e, l, req, local_addr) \
	ck_which_at((e), (l), (req), (local_addr), __FILE__, __LINE__)
/* For th_wait_until(): does l answer a civic request from `from` with want (as ck_which
 * names it)? ctx is a struct ck_answer. */
struct ck_answer {
	struct ck_env *e;
	const struct th_lisd *l;
	const char *from, *want;
};
bool ck_answers(void *ctx);
/* The method (gp:method) of l's answer to a civic request from `from`, or "error:CODE"
 * (malloc'd; "" when neither). */
char *ck_method(struct ck_env *e, const struct th_lisd *l, const char *from);
/* For th_wait_until(): is the method of l's answer from `from` want (as ck_method says)? ctx
 * is a struct ck_answer. */
bool ck_answers_method(void *ctx);
/* A lisctl run that must have succeeded (exit 0): a failed check shows its output. */
void ck_lisctl_ok(const char *what, const struct th_proc *p);
/* lisctl ARGS... against e's database, which must succeed; its output is not looked at. */
#define CK_LISCTL_OK(e, ...)                                                           \
	do {                                                                           \
		struct th_proc p_;                                                     \
		th_lisctl(&p_, (e)->pg.conninfo, __VA_ARGS__, (char *)NULL);          \
		ck_lisctl_ok(#__VA_ARGS__, &p_);                                      \
		th_proc_free(&p_);                                                     \
	} while (0)
/* How many full snapshot loads ("loaded trigger=" lines) l's log shows so far. */
int ck_loads(const struct th_lisd *l);

#endif
