#include "lis_held.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <pthread.h>

#include <openssl/rand.h>

#include "held.h"
#include "held_write.h"
#include "lis_log.h"
#include "lis_strbuf.h"
#include "lis_snapshot.h"
#include "lis_uri.h"
#include "pidf.h"
#include "wm_pidf.h"
#include "wm_resolve.h"
#include "wm_snapshot.h"
#include "ident.h"

static const struct lis_config *held_cfg;
static struct lis_uri_key uri_key;
static bool uri_enabled;              /* uri_base is set: location URIs are issued */
static atomic_ullong disagreements;   /* answers whose evidence disagreed about the site */

enum mode {
	MODE_HELD,                    /* POST to held_path */
	MODE_DEREF_POST,              /* POST to a location URI, or a GET in HELD form */
	MODE_DEREF_GET,               /* GET of a location URI */
};

/* Who is being located: the identities (RFC 6155, or the requester's own address) and, from
 * RFC 7105 measurements, the access point it reports. */
struct target {
	struct ident ids[HELD_MAX_IDS];
	size_t n_ids;
	char bssid[18];                   /* serving BSSID, "" when none */
	char identity[LIS_URI_IDENTITY_MAX + 1]; /* identity text: "ip:10.1.2.3 mac:...", cut
						  * short when too long */
	bool identity_fits;               /* identity is whole: a location URI may carry it */
	const struct held_device *echo;   /* RFC 6155 §2.2: the device a successful answer
	                                   * echoes (third-party requests); NULL: none */
};

int lis_held_init(const struct lis_config *cfg, struct lis_error *err)
{
	held_cfg = cfg;
	uri_enabled = cfg->uri_base[0] != '\0';
	atomic_store(&disagreements, 0);
	/* the configuration refuses more than 24 hours; less than 30 minutes is allowed (tests)
	 * but against RFC 5985 §6.5.2 */
	if (uri_enabled && cfg->uri_lifetime < 1800)
		lis_log(LIS_LOG_WARN, "start",
			"uri_lifetime=%lu reason=\"location URIs should live at least 1800 s "
			"(RFC 5985 section 6.5.2)\"", cfg->uri_lifetime);
	if (cfg->uri_key_file[0])
		return lis_uri_key_load(cfg->uri_key_file, &uri_key, err);
	if (lis_uri_key_random(&uri_key, err) < 0)
		return -1;
	if (uri_enabled)
		lis_log(LIS_LOG_WARN, "start",
			"uri_key=random reason=\"uri_key_file is not set: location URIs die with this "
			"process and other lisd instances cannot dereference them\"");
	return 0;
}

void lis_held_shutdown(void)
{
	lis_log(LIS_LOG_INFO, "held", "disagreements=%llu", atomic_load(&disagreements));
	lis_uri_key_wipe(&uri_key);
}

/* The identity text of the target (ident.h), for location URI tokens and logs. */
static void make_identity(struct target *t)
{
	t->identity_fits = ident_text_format(t->ids, t->n_ids, t->identity, sizeof t->identity) == 0;
}

static struct wm_target target_view(const struct target *t)
{
	return (struct wm_target){ .ids = t->ids, .n_ids = t->n_ids,
				   .bssid = t->bssid[0] ? t->bssid : NULL };
}

/* The requester's own address as the only identity of t. */
static void target_is_requester(const char *requester, struct target *t)
{
	memset(t->ids, 0, sizeof t->ids);
	t->ids[0].kind = IDENT_IP;
	lis_strcopy(t->ids[0].value, sizeof t->ids[0].value, requester);
	t->n_ids = 1;
}

/* RFC 6155 §1.1: a device in the request makes it third-party "unless [the LIS] is able to
 * ensure that the provided Device identity is uniquely attributable to the requestor". It is
 * when the wiremap shows every identifier to be the device at the requester's address
 * (wm_target_is_at(): that address, or the one MAC freshly bound to it, directly or through
 * the endpoint a SIP or tel URI names). Return routability vouches for the address, which is
 * the "specific measure" §1.1 asks for before treating such a request as the device's own. */
static bool device_is_requester(const char *requester, const struct wm_target *wt)
{
	struct wm_policy pol = { .now = time(NULL),
				 .max_binding_age = (unsigned)held_cfg->max_binding_age };
	lis_snapshot_read_lock();
	bool self = wm_target_is_at(lis_snapshot_current(), wt, requester, &pol);
	lis_snapshot_read_unlock();
	return self;
}

/* RFC 6155: the target from the device element, else the requester's own address (RFC 5985
 * §4). Sets *third_party when the request is about someone else; a device shown to be the
 * requester is located as the requester, by its address. Returns 0, or -1 with err saying
 * why (to send with badIdentifier): a kind the resolver cannot locate by, two of one kind. */
static int target_from_request(const char *requester, const struct held_request *req,
			       struct target *t, bool *third_party, struct lis_error *err)
{
	memset(t, 0, sizeof *t);
	if (!req->has_device) {
		target_is_requester(requester, t);
	} else {
		memcpy(t->ids, req->ids, req->n_ids * sizeof req->ids[0]);
		t->n_ids = req->n_ids;
	}
	/* RFC 7105: the access point the client is associated with. */
	for (size_t i = 0; i < req->n_wifi; i++)
		if (req->wifi[i].serving) {
			lis_strcopy(t->bssid, sizeof t->bssid, req->wifi[i].bssid);
			break;
		}
	struct wm_target wt = target_view(t);
	if (wm_target_check(&wt, err) < 0)
		return -1;
	*third_party = req->has_device && !device_is_requester(requester, &wt);
	if (req->has_device && !*third_party)
		target_is_requester(requester, t);
	make_identity(t);
	return 0;
}

static int answer_error(enum held_error_code code, const char *message, char **out,
			size_t *out_len, struct lis_held_outcome *oc)
{
	struct lis_error err = { 0 };
	oc->result = held_error_code_name(code);
	oc->internal = code == HELD_E_GENERAL_LIS_ERROR;
	if (!oc->reason[0])
		snprintf(oc->reason, sizeof oc->reason, "%s", message);
	if (held_build_error(code, message, out, out_len, &err) < 0) {
		snprintf(oc->reason, sizeof oc->reason, "building HELD error failed: %s", err.msg);
		return -1;
	}
	return 0;
}

/* 16 random bytes from a per-thread store of RAND_bytes output, refilled 4 KiB at a time
 * (RAND_bytes for each answer cost 4% of lisd's CPU under load: locks and a fork check; a
 * refill of 512 bytes every 32 answers still 1.2%, its DRBG state cold by then); what is
 * handed out is wiped from the store. */
static int entity_random(unsigned char r[16])
{
	static _Thread_local unsigned char store[4096];
	static _Thread_local size_t left;
	if (left < 16) {
		if (RAND_bytes(store, sizeof store) != 1)
			return -1;
		left = sizeof store;
	}
	left -= 16;
	memcpy(r, store + left, 16);
	OPENSSL_cleanse(store + left, 16);
	return 0;
}

/* Random presence entity: unguessable, so that answers cannot be linked by their entity. */
static int make_entity(char *buf, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char r[16];
	size_t domain = strlen(held_cfg->domain);
	if (5 + 2 * sizeof r + 1 + domain >= size || entity_random(r) != 0)
		return -1;
	char *p = buf;
	memcpy(p, "pres:", 5);
	p += 5;
	for (size_t i = 0; i < sizeof r; i++) {
		*p++ = digits[r[i] >> 4];
		*p++ = digits[r[i] & 15];
	}
	*p++ = '@';
	memcpy(p, held_cfg->domain, domain + 1);
	return 0;
}

static void begin(struct lis_held_outcome *oc)
{
	memset(oc, 0, sizeof *oc);
	oc->source = wm_source_name(WM_SRC_NONE);
	oc->snapshot_age = lis_snapshot_age();
	oc->fallback = -1;
	oc->evidence_age = -1;
}

/* For the query log: the evidence walked, one step after the other ("port mac ... on sw1
 * port Gi1/0/7 -> hq-410 age=120s origin=snmp chosen; subnet 10.1.2.0/24 -> campus"), and
 * the age of the one that won. Made on every answer: from pieces, without printf. */
static void note_evidence(const struct wm_result *res, time_t now, struct lis_held_outcome *oc)
{
	struct strbuf ev;
	strbuf_attach_text(&ev, oc->evidence, sizeof oc->evidence);
	for (size_t i = 0; i < res->n_evidence; i++) {
		const struct wm_evidence *e = &res->ev[i];
		char what[WM_EVIDENCE_TEXT_MAX];
		strbuf_cat(&ev, i ? "; " : "", wm_evidence_step(e), " ",
			   wm_evidence_text(e, what, sizeof what));
		if (e->loc)
			strbuf_cat(&ev, " -> ", e->loc->key ? e->loc->key : "?");
		if (e->last_seen) {
			strbuf_puts(&ev, " age=");
			strbuf_put_int(&ev, (long long)(now - e->last_seen));
			strbuf_puts(&ev, "s");
		}
		if (e->origin)
			strbuf_cat(&ev, " origin=", e->origin);
		if (e->stale)
			strbuf_puts(&ev, " stale");
		if (e->unverified)
			strbuf_puts(&ev, " unverified");
		if (e->excluded)
			strbuf_puts(&ev, " excluded");
		if (e->chosen) {
			strbuf_puts(&ev, " chosen");
			if (e->last_seen)
				oc->evidence_age = (long long)(now - e->last_seen);
		}
	}
	/* the policy that decided (47 CFR 9.16(b)) */
	if (res->cls)
		strbuf_cat(&ev, res->n_evidence ? "; " : "", "class ", res->cls->key, " (",
			   res->class_how, ")");
	if (res->premises[0])
		strbuf_cat(&ev, "; ", res->premises);
}

/* For the query log: the civic address sent, "country=US; A1=TX; ...; ROOM=410", in RFC 5139
 * order. */
static void note_address(const struct civic_address *ca, struct lis_held_outcome *oc)
{
	struct strbuf b;
	strbuf_attach_text(&b, oc->address, sizeof oc->address);
	for (int f = 0; f < CIVIC_N_FIELDS; f++) {
		if (!ca->field[f] || !ca->field[f][0])
			continue;
		strbuf_cat(&b, b.len ? "; " : "", civic_field_name((enum civic_field)f), "=",
			   ca->field[f]);
	}
}

static void note_response_time(const struct held_request *req, struct lis_held_outcome *oc)
{
	switch (req->rt) {
	case HELD_RT_ABSENT:
		break;
	case HELD_RT_EMERGENCY_ROUTING:
		lis_strcopy(oc->response_time, sizeof oc->response_time, "emergencyRouting");
		break;
	case HELD_RT_EMERGENCY_DISPATCH:
		lis_strcopy(oc->response_time, sizeof oc->response_time, "emergencyDispatch");
		break;
	case HELD_RT_MILLISECONDS:
		snprintf(oc->response_time, sizeof oc->response_time, "%lu ms", req->rt_ms);
		break;
	}
}

/* Ask the requester's authorization once. */
static bool is_authorized(const struct lis_requester *who, struct lis_held_outcome *oc)
{
	if (!oc->auth.checked) {
		if (who->authorize)
			who->authorize(who->ctx, who->ip, &oc->auth);
		oc->auth.checked = true;
	}
	return oc->auth.authorized;
}

/* What a failed locate says, for the three modes. */
struct failure {
	enum held_error_code code;
	unsigned status;              /* HTTP status for GET */
	char msg[256];
};

static int fail(struct failure *f, enum held_error_code code, unsigned status, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));
static int fail(struct failure *f, enum held_error_code code, unsigned status, const char *fmt,
		...)
{
	va_list ap;
	f->code = code;
	f->status = status;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof f->msg, fmt, ap);
	va_end(ap);
	return 1;
}

/* What an answer needs of the location: inside the snapshot's read-side section it borrows
 * from the snapshot; the tree builders get a copy (wm_pidf_detach()). */
struct located {
	struct wm_pidf wp;            /* every form the location has (wm_pidf.h) */
	unsigned have;                /* HELD_LT_CIVIC, HELD_LT_GEODETIC bits */
	const struct pidf_frag *frag; /* its pieces, written once (held_write.h); NULL: none */
};

/* Resolve t in the current snapshot. The resolver's result points into the snapshot, so
 * the log's fields in oc are copied out; the location in *loc is left borrowing from it, for
 * build_answer(), which copies the answer out and ends the RCU read-side section. Returns 0
 * with *loc filled, still inside the section (release loc->wp after it), or 1 with *f
 * describing the failure, outside it. */
static int resolve(const struct target *t, struct located *loc, struct lis_held_outcome *oc,
		   struct failure *f)
{
	struct lis_error err = { 0 };
	struct wm_result res;
	struct wm_target wt = target_view(t);
	const int ret = 1;

	memset(loc, 0, sizeof *loc);
	lis_snapshot_read_lock();
	const struct wm_snapshot *snap = lis_snapshot_current();
	oc->snapshot_age = lis_snapshot_age();
	if (!snap) {
		fail(f, HELD_E_GENERAL_LIS_ERROR, 503,
		     "the wiremap is not loaded yet; try again later");
		snprintf(oc->reason, sizeof oc->reason, "no wiremap snapshot (database not reached yet)");
		goto out;
	}
	struct wm_policy pol = { .now = time(NULL), .max_binding_age = (unsigned)held_cfg->max_binding_age };
	int rc = wm_resolve(snap, &wt, &pol, &res, &err);
	if (rc < 0) {
		/* RFC 6155 §2.2: badIdentifier for an identifier that is badly formatted. */
		fail(f, HELD_E_BAD_IDENTIFIER, 404, "%s", err.msg[0] ? err.msg : "bad device identifier");
		goto out;
	}
	note_evidence(&res, pol.now, oc);
	if (res.deactivated)
		snprintf(oc->deactivated, sizeof oc->deactivated, "endpoint %.120s",
			 res.deactivated->key);
	else if (res.user_deactivated && !res.user)
		snprintf(oc->deactivated, sizeof oc->deactivated, "user %.120s",
			 res.user_deactivated);
	if (res.disagreement) {
		oc->disagreements = atomic_fetch_add(&disagreements, 1) + 1;
		lis_strcopy(oc->disagree, sizeof oc->disagree, res.disagree);
	}
	if (rc == 0 || !res.loc) {
		if (res.unknown_reason[0])
			fail(f, HELD_E_LOCATION_UNKNOWN, 404, "%s", res.unknown_reason);
		else
			fail(f, HELD_E_LOCATION_UNKNOWN, 404, "no location is known for %.160s",
			     oc->target);
		goto out;
	}
	oc->source = wm_source_name(res.source);
	lis_strcopy(oc->location, sizeof oc->location, res.loc->key ? res.loc->key : "");
	oc->location_id = res.loc->id;
	lis_strcopy(oc->site, sizeof oc->site,
		    res.loc->site && res.loc->site->key ? res.loc->site->key : "");
	lis_strcopy(oc->method, sizeof oc->method, res.method ? res.method : "");
	oc->fallback = res.fallback;
	loc->have = (res.loc->has_civic ? HELD_LT_CIVIC : 0u) |
		    (res.loc->has_geo ? HELD_LT_GEODETIC : 0u);
	wm_pidf_fill(&res, true, true, &loc->wp);
	/* RFC 5985 §6.6 (and RFC 6753 §6 for dereference): the device is named only where the
	 * operator, as Rule Maker, allows it */
	if (held_cfg->include_device_id)
		wm_pidf_name_device(&loc->wp);
	/* the note is res's, on this stack: the document keeps a copy of its own */
	if (loc->wp.doc.note) {
		size_t n = strnlen(loc->wp.doc.note, sizeof loc->wp.note - 1);
		memcpy(loc->wp.note, loc->wp.doc.note, n);
		loc->wp.note[n] = '\0';
		loc->wp.doc.note = loc->wp.note;
	}
	loc->frag = wm_pidf_frag(snap, res.loc);
	return 0;
out:
	lis_snapshot_read_unlock();
	return ret;
}

/* Which forms to answer with, in which order (RFC 5985 §6.2, held_negotiate()), and in words
 * why not when none can be given. A location URI is possible only for a HELD request to a
 * LIS that issues them and a target whose identity fits in a token (RFC 6753 §3.1: never when
 * dereferencing). A GET comes with RFC 6753 §3.2's request (get_request: geodetic, then
 * civic). Returns 0 with *give set, or 1 with *f describing the failure. */
static int choose_forms(const struct target *t, const struct held_request *req, enum mode mode,
			unsigned have, struct held_loctypes *give, struct lis_held_outcome *oc,
			struct failure *f)
{
	bool uri_possible = mode == MODE_HELD && uri_enabled && t->identity_fits;
	unsigned missing = 0;
	switch (held_negotiate(&req->loctypes, req->exact,
			       have | (uri_possible ? HELD_LT_URI : 0u), give, &missing)) {
	case HELD_OK:
		return 0;
	case HELD_E_CANNOT_PROVIDE_LI_TYPE:
		if (missing != HELD_LT_URI)
			return fail(f, HELD_E_CANNOT_PROVIDE_LI_TYPE, 404,
				    "no %s location is recorded for %.160s",
				    missing == HELD_LT_CIVIC ? "civic" : "geodetic", oc->target);
		if (mode != MODE_HELD)
			return fail(f, HELD_E_CANNOT_PROVIDE_LI_TYPE, 404,
				    "a location URI cannot be asked for by dereferencing one "
				    "(RFC 6753); ask without locationURI");
		if (!uri_enabled)
			return fail(f, HELD_E_CANNOT_PROVIDE_LI_TYPE, 404,
				    "this LIS does not issue location URIs; ask without "
				    "exact=\"true\" for location by value");
		return fail(f, HELD_E_CANNOT_PROVIDE_LI_TYPE, 404,
			    "the target's identity is too long for a location URI");
	default:
		snprintf(oc->reason, sizeof oc->reason,
			 "location %.127s has neither civic nor geodetic data", oc->location);
		return fail(f, HELD_E_LOCATION_UNKNOWN, 404,
			    "no usable location is recorded for %.160s", oc->target);
	}
}

/* True when give puts geodetic before civic. */
static bool geodetic_first(const struct held_loctypes *give)
{
	for (size_t i = 0; i < give->n; i++)
		if (give->form[i] & (HELD_LT_CIVIC | HELD_LT_GEODETIC))
			return give->form[i] == HELD_LT_GEODETIC;
	return false;
}

/* The thread's buffer for answers (held_write.h), kept from one request to the next. */
struct answer_buf {
	char *buf;
	size_t cap;
};
#define ANSWER_BUF_START 8192
static pthread_key_t answer_key;
static pthread_once_t answer_once = PTHREAD_ONCE_INIT;
static bool answer_key_ok;

static void answer_buf_free(void *p)
{
	struct answer_buf *b = p;
	if (b)
		free(b->buf);
	free(b);
}

static void answer_key_init(void)
{
	answer_key_ok = pthread_key_create(&answer_key, answer_buf_free) == 0;
}

static struct answer_buf *answer_buf(void)
{
	pthread_once(&answer_once, answer_key_init);
	if (!answer_key_ok)
		return NULL;
	struct answer_buf *b = pthread_getspecific(answer_key);
	if (b)
		return b;
	b = calloc(1, sizeof *b);
	if (b && pthread_setspecific(answer_key, b) != 0) {
		free(b);
		b = NULL;
	}
	return b;
}

/* The answer written by held_write_response() (or pidf_write() for a GET in PIDF form)
 * with the location's pieces, into the thread's buffer, then copied out (the one
 * allocation). Returns 0 with *out built, -1 when the tree builders must do it: a value
 * held_write.h leaves to them (they say what is wrong with it), or no memory. */
static int write_answer(enum mode mode, const struct held_uri_set *uris,
			const struct pidf_doc *doc, const struct pidf_frag *frag,
			const struct held_device *echo, char **out, size_t *out_len)
{
	struct answer_buf *b = answer_buf();
	if (!b || (doc && !frag))
		return -1;
	for (;;) {
		struct held_out o = { .buf = b->buf, .cap = b->cap };
		int rc = mode == MODE_DEREF_GET ? pidf_write(doc, frag, &o)
						: held_write_response(uris, doc, frag, echo, &o);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			char *copy = malloc(o.len + 1);
			if (!copy)
				return -1;
			memcpy(copy, o.buf, o.len + 1);
			*out = copy;
			*out_len = o.len;
			return 0;
		}
		size_t cap = b->cap ? b->cap : ANSWER_BUF_START;
		while (cap < o.len + 1)
			cap *= 2;
		char *grown = realloc(b->buf, cap);
		if (!grown)
			return -1;
		b->buf = grown;
		b->cap = cap;
	}
}

/* Build the answer from the forms chosen: a random presence entity, the location URI's
 * token, the document. Called inside the snapshot's read-side section (resolve()), which it
 * ends: the answer is written there from the location's pieces (write_answer(): copies, no
 * tree); only when that cannot be does it copy the location out (wm_pidf_detach()) and leave
 * the section before the tree builders run. Returns 0 with *out built, 1 with *f
 * describing a failure, -1 when building failed. */
static int build_answer(const struct target *t, enum mode mode,
			const struct held_loctypes *forms, struct located *loc, char **out,
			size_t *out_len, struct lis_held_outcome *oc, struct failure *f)
{
	struct lis_error err = { 0 };
	unsigned give = held_loctypes_bits(forms);
	bool by_value = give & (HELD_LT_CIVIC | HELD_LT_GEODETIC);
	bool give_uri = give & HELD_LT_URI;
	struct pidf_doc *doc = &loc->wp.doc;

	char entity[320];
	if (make_entity(entity, sizeof entity) < 0) {
		lis_snapshot_read_unlock();
		snprintf(oc->reason, sizeof oc->reason, "RAND_bytes failed");
		return fail(f, HELD_E_GENERAL_LIS_ERROR, 500, "internal error");
	}
	time_t now = time(NULL);
	if (!(give & HELD_LT_CIVIC))
		doc->civic = NULL;
	if (!(give & HELD_LT_GEODETIC))
		doc->geo = NULL;
	/* RFC 5985 §6.2: the order asked for (the URI set's place is fixed by the §7 schema) */
	doc->geodetic_first = geodetic_first(forms);
	doc->entity = entity;
	doc->timestamp = now;
	doc->retransmission_allowed = held_cfg->retransmission_allowed;
	doc->retention_expiry = now + (time_t)held_cfg->retention;

	char token[LIS_URI_TOKEN_MAX + 1];
	char uri[LIS_URI_TOKEN_MAX + 256];
	const char *uris[1] = { uri };
	struct held_uri_set set = { .expires = now + (time_t)held_cfg->uri_lifetime, .n = 1,
				    .uris = uris };
	if (give_uri) {
		if (lis_uri_token_encode(&uri_key, t->identity, set.expires, token, sizeof token,
					 &err) < 0 ||
		    (size_t)snprintf(uri, sizeof uri, "%s%s", held_cfg->uri_base, token) >= sizeof uri) {
			lis_snapshot_read_unlock();
			snprintf(oc->reason, sizeof oc->reason, "location URI: %s", err.msg);
			memset(token, 0, sizeof token);
			memset(uri, 0, sizeof uri);
			return fail(f, HELD_E_GENERAL_LIS_ERROR, 500, "internal error");
		}
	}

	const struct held_uri_set *uri_set = give_uri ? &set : NULL;
	const struct pidf_doc *by = by_value ? doc : NULL;
	int rc = write_answer(mode, uri_set, by, loc->frag, t->echo, out, out_len);
	if (rc == 0) {
		if (doc->civic)
			note_address(doc->civic, oc);
		lis_snapshot_read_unlock();
	} else {
		int copied = wm_pidf_detach(&loc->wp);
		lis_snapshot_read_unlock();
		if (copied < 0) {
			memset(token, 0, sizeof token);
			memset(uri, 0, sizeof uri);
			snprintf(oc->reason, sizeof oc->reason, "out of memory copying the location");
			return fail(f, HELD_E_GENERAL_LIS_ERROR, 500, "internal error");
		}
		if (mode == MODE_DEREF_GET)
			rc = pidf_build(doc, out, out_len, &err);
		else
			rc = held_build_response(uri_set, by, t->echo, out, out_len, &err);
		if (rc == 0 && doc->civic)
			note_address(doc->civic, oc);
	}
	memset(token, 0, sizeof token);
	memset(uri, 0, sizeof uri);
	if (rc < 0) {
		snprintf(oc->reason, sizeof oc->reason, "building the answer failed: %s", err.msg);
		return -1;
	}
	oc->uri_issued = give_uri;
	oc->result = "located";
	return 0;
}

/* The answer for target t to req. Returns 0 with *out built, 1 with *f
 * describing a failure to answer, -1 when building failed. */
static int locate(const struct target *t, const struct held_request *req, enum mode mode,
		  char **out, size_t *out_len, struct lis_held_outcome *oc, struct failure *f)
{
	struct located loc;
	struct held_loctypes give;

	lis_strcopy(oc->target, sizeof oc->target, t->identity);
	int rc = resolve(t, &loc, oc, f);
	if (rc != 0)
		return rc;
	/* inside the snapshot's read-side section: build_answer() ends it */
	rc = choose_forms(t, req, mode, loc.have, &give, oc, f);
	if (rc == 0)
		rc = build_answer(t, mode, &give, &loc, out, out_len, oc, f);
	else
		lis_snapshot_read_unlock();
	wm_pidf_release(&loc.wp);
	return rc;
}

/* The HELD side of a failure. */
static int answer_failure(const struct failure *f, char **out, size_t *out_len,
			  struct lis_held_outcome *oc)
{
	return answer_error(f->code, f->msg, out, out_len, oc);
}

static int parse(const char *body, size_t len, struct held_request *req, char **out,
		 size_t *out_len, struct lis_held_outcome *oc)
{
	struct held_limits limits = { .max_bytes = held_cfg->max_body,
				      .max_depth = HELD_DEFAULT_MAX_DEPTH };
	struct lis_error err = { 0 };
	/* held_parse_request() zeroes req itself, whatever it returns */
	if (held_parse_request(body, len, &limits, req, &err) == 0)
		return 0;
	enum held_error_code code = err.code == LIS_E_HELD ? (enum held_error_code)err.held
							    : HELD_E_REQUEST_ERROR;
	snprintf(oc->reason, sizeof oc->reason, "%s", err.msg);
	if (answer_error(code, err.msg[0] ? err.msg : "the request could not be parsed", out,
			 out_len, oc) < 0)
		return -1;
	return 1;
}

int lis_held_handle(const struct lis_requester *who, const char *body, size_t len, char **out,
		    size_t *out_len, struct lis_held_outcome *oc)
{
	struct held_request req;
	struct target t;
	struct failure f = { 0 };
	struct lis_error err = { 0 };
	bool third_party;

	begin(oc);
	int rc = parse(body, len, &req, out, out_len, oc);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	note_response_time(&req, oc);

	if (target_from_request(who->ip, &req, &t, &third_party, &err) < 0)
		return answer_error(HELD_E_BAD_IDENTIFIER, err.msg, out, out_len, oc);
	if (req.has_device && !third_party) {
		/* for the log: the device named was matched to the requester (auth=same-device) */
		oc->auth.checked = true;
		oc->auth.authorized = true;
		oc->auth.how = "same-device";
	}

	/* RFC 6155 §1.1, §5 (and RFC 5985 §9.3's return routability): only authorized
	 * requesters may ask about another device. The refusal is the same whether or not the
	 * device is in the wiremap: the only lookup before it asks what is bound to the
	 * requester's own address. */
	if (third_party && !is_authorized(who, oc)) {
		snprintf(oc->target, sizeof oc->target, "%.319s", t.identity);
		snprintf(oc->reason, sizeof oc->reason, "unauthorized");
		return answer_error(HELD_E_BAD_IDENTIFIER,
				    "not authorized to request the location of another device", out,
				    out_len, oc);
	}

	/* RFC 6155 §2.2: a successful answer echoes the device it was asked about, with the
	 * identifiers it was located by (all of them: lisd refuses those it cannot use); no echo
	 * means the source address was used, as for a request about the requester itself */
	struct held_device echo = { .n = req.n_ids, .ids = req.given };
	if (third_party)
		t.echo = &echo;
	rc = locate(&t, &req, MODE_HELD, out, out_len, oc, &f);
	if (rc == 1)
		return answer_failure(&f, out, out_len, oc);
	return rc;
}

int lis_held_preview(const struct ident *ids, size_t n, struct lis_held_outcome *oc,
		     struct lis_held_preview *pv)
{
	struct target t;
	struct located loc;
	struct failure f = { 0 };

	begin(oc);
	memset(pv, 0, sizeof *pv);
	memset(&t, 0, sizeof t);
	t.n_ids = n < HELD_MAX_IDS ? n : HELD_MAX_IDS;
	memcpy(t.ids, ids, t.n_ids * sizeof ids[0]);
	make_identity(&t);
	snprintf(oc->target, sizeof oc->target, "%.319s", t.identity);
	if (resolve(&t, &loc, oc, &f) != 0) {
		oc->result = held_error_code_name(f.code);
		oc->internal = f.code == HELD_E_GENERAL_LIS_ERROR;
		if (!oc->reason[0])
			snprintf(oc->reason, sizeof oc->reason, "%s", f.msg);
		snprintf(pv->note, sizeof pv->note, "%s", f.msg);
		return 1;
	}
	/* inside the snapshot's read-side section: copy out what the page shows */
	const struct pidf_doc *doc = &loc.wp.doc;
	size_t used = 0;
	for (int k = 0; doc->civic && k < CIVIC_N_FIELDS; k++) {
		const char *v = doc->civic->field[k];
		size_t len = v ? strlen(v) : 0;
		if (!len || used + len + 1 > sizeof pv->text)
			continue;
		memcpy(pv->text + used, v, len + 1);
		pv->civic[k] = pv->text + used;
		used += len + 1;
	}
	if (doc->civic)
		note_address(doc->civic, oc);
	if (doc->note)
		snprintf(pv->note, sizeof pv->note, "%s", doc->note);
	lis_snapshot_read_unlock();
	wm_pidf_release(&loc.wp);
	oc->result = "located";
	return 0;
}

/* The target of a location URI, or -1 whatever is wrong with it. A token holding what this
 * lisd cannot locate by (made by a newer one sharing the key) is as good as unknown. */
static int target_from_token(const char *token, struct target *t)
{
	char identity[LIS_URI_IDENTITY_MAX + 1];
	memset(t, 0, sizeof *t);
	int rc = lis_uri_token_decode(&uri_key, token, time(NULL), identity, sizeof identity,
				      NULL);
	if (rc == 0 && ident_text_parse(identity, t->ids, HELD_MAX_IDS, &t->n_ids) == 0) {
		struct wm_target wt = target_view(t);
		if (wm_target_check(&wt, NULL) == 0) {
			make_identity(t);
			return 0;
		}
	}
	memset(t, 0, sizeof *t);
	return -1;
}

/* What a failed dereference tells the recipient. RFC 6753 §6: "the LS MUST NOT provide any
 * information about the Target except its location", and locate()'s messages name the
 * target ("... locates ip 10.1.2.3"), written for a Device asking about itself; the
 * recipient gets one message per code, the log keeps locate()'s. */
static void hide_target(struct failure *f, struct lis_held_outcome *oc)
{
	const char *m;
	switch (f->code) {
	case HELD_E_LOCATION_UNKNOWN:
		m = "the location of this location URI's target cannot be determined now";
		break;
	case HELD_E_CANNOT_PROVIDE_LI_TYPE:
		m = "no location of the form asked for: the target has none recorded, or it is a "
		    "location URI, which a dereference never gives (RFC 6753 section 3.1)";
		break;
	case HELD_E_BAD_IDENTIFIER:
		m = "the target of this location URI cannot be located";
		break;
	default:
		return;               /* generalLisError: nothing of the target in it */
	}
	if (!oc->reason[0])
		snprintf(oc->reason, sizeof oc->reason, "%s", f->msg);
	snprintf(f->msg, sizeof f->msg, "%s", m);
}

/* An unknown, forged or expired location URI. RFC 5985 §6.5.2 says only that a dereference
 * after expiry "SHOULD fail". Not notLocatable: that code tells the asker it "MUST NOT make
 * further attempts to retrieve LI from this LIS" (§6.3), meant for a Device outside the
 * LIS's network; the holder of a stale URI may hold a good one tomorrow. locationUnknown
 * says the LIS "could not determine the location", with retries limited (§6.3), and is what
 * a valid URI whose target is gone answers too (§9.3: such a Device's URIs "SHOULD be
 * invalidated"). The token check does not tell which of the three it was. */
static void fail_bad_token(struct failure *f, struct lis_held_outcome *oc)
{
	snprintf(oc->reason, sizeof oc->reason,
		 "location URI unknown, forged or expired (locationUnknown: notLocatable would "
		 "bar the recipient from this LIS, RFC 5985 section 6.3)");
	fail(f, HELD_E_LOCATION_UNKNOWN, 404,
	     "this location URI is not valid (unknown or expired)");
}

int lis_held_deref_post(const struct lis_requester *who, const char *token, const char *body,
			size_t len, char **out, size_t *out_len, struct lis_held_outcome *oc)
{
	struct held_request req;
	struct target t;
	struct failure f = { 0 };

	begin(oc);
	/* RFC 6753 §4 authorization models: decided before the token is looked at. */
	if (held_cfg->deref_auth == LIS_DEREF_AUTHORIZED && !is_authorized(who, oc)) {
		snprintf(oc->reason, sizeof oc->reason, "unauthorized");
		return answer_error(HELD_E_BAD_IDENTIFIER,
				    "not authorized to dereference location URIs", out, out_len, oc);
	}
	/* Always checked, before the body: the same work whatever the token holds. */
	int tok = target_from_token(token, &t);
	int rc = parse(body, len, &req, out, out_len, oc);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	note_response_time(&req, oc);
	if (tok < 0) {
		fail_bad_token(&f, oc);
		return answer_error(f.code, f.msg, out, out_len, oc);
	}
	rc = locate(&t, &req, MODE_DEREF_POST, out, out_len, oc, &f);
	if (rc == 1) {
		hide_target(&f, oc);
		return answer_failure(&f, out, out_len, oc);
	}
	return rc;
}

/* RFC 6753 §3.2 Figure 1: the locationRequest a GET of a location URI stands for. */
static const char get_request[] =
	"<locationRequest xmlns=\"urn:ietf:params:xml:ns:geopriv:held\">"
	"<locationType exact=\"false\">geodetic civic</locationType></locationRequest>";

/* The result of a GET answered by an HTTP status alone, for the logs. */
static const char *status_result(unsigned status)
{
	switch (status) {
	case 403:
		return "403";
	case 404:
		return "404";
	case 503:
		return "503";
	default:
		return "500";
	}
}

/* A GET that failed inside lisd: no HELD error either, whatever the form. */
static const struct failure get_internal_failure = { .code = HELD_E_GENERAL_LIS_ERROR,
						     .status = 500 };

/* A failed GET: the HELD error in a 200 (RFC 5985 §6.3: HELD errors "MUST be carried by a
 * 200 OK") when the client accepts HELD; else the presence it asked for does not exist and
 * the HTTP status says why (RFC 9110 §12.1: Accept applies to "representations of error"
 * too). Returns the status. */
static unsigned deref_get_failed(const struct failure *f, enum lis_deref_form form, char **out,
				 size_t *out_len, struct lis_held_outcome *oc)
{
	unsigned status = f->status;
	if (form != LIS_DEREF_PIDF_ONLY) {
		if (answer_error(f->code, f->msg, out, out_len, oc) == 0)
			return 200;
		status = 500;
	}
	if (status != 403 && status != 404 && status != 503)
		status = 500;
	oc->result = status_result(status);
	oc->internal = status >= 500;
	if (!oc->reason[0])
		snprintf(oc->reason, sizeof oc->reason, "%s", f->msg);
	return status;
}

unsigned lis_held_deref_get(const struct lis_requester *who, const char *token,
			    enum lis_deref_form form, char **out, size_t *out_len, bool *pidf,
			    struct lis_held_outcome *oc)
{
	struct held_request req;
	struct target t;
	struct failure f = { 0 };

	begin(oc);
	*out = NULL;
	*out_len = 0;
	*pidf = false;
	/* RFC 6753 §4 authorization models: decided before the token is looked at. */
	if (held_cfg->deref_auth == LIS_DEREF_AUTHORIZED && !is_authorized(who, oc)) {
		snprintf(oc->reason, sizeof oc->reason, "unauthorized");
		fail(&f, HELD_E_BAD_IDENTIFIER, 403, "not authorized to dereference location URIs");
		return deref_get_failed(&f, form, out, out_len, oc);
	}
	/* Always checked, and before the request: the same work whatever the token holds. */
	int tok = target_from_token(token, &t);
	if (parse(get_request, sizeof get_request - 1, &req, out, out_len, oc) != 0) {
		/* Figure 1 is well-formed: only memory can fail here */
		free(*out);
		*out = NULL;
		*out_len = 0;
		return deref_get_failed(&get_internal_failure, LIS_DEREF_PIDF_ONLY, out, out_len,
					oc);
	}
	if (tok < 0) {
		fail_bad_token(&f, oc);
		return deref_get_failed(&f, form, out, out_len, oc);
	}
	/* The HELD form is the answer to Figure 1 POSTed; the presence is the same answer with
	 * locationResponse left out (RFC 6753 §5, Figure 8). */
	int rc = locate(&t, &req, form == LIS_DEREF_HELD ? MODE_DEREF_POST : MODE_DEREF_GET, out,
			out_len, oc, &f);
	if (rc == 0) {
		*pidf = form != LIS_DEREF_HELD;
		return 200;
	}
	free(*out);
	*out = NULL;
	*out_len = 0;
	if (rc < 0)
		return deref_get_failed(&get_internal_failure, LIS_DEREF_PIDF_ONLY, out, out_len,
					oc);
	hide_target(&f, oc);
	return deref_get_failed(&f, form, out, out_len, oc);
}
