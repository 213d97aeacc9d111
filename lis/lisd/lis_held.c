#include "lis_held.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/rand.h>

#include "held.h"
#include "lis_log.h"
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
	MODE_DEREF_POST,              /* POST to a location URI */
	MODE_DEREF_GET,               /* GET of a location URI */
};

/* Who is being located, as identifiers (RFC 6155) and the identity a location URI names. */
struct target {
	char ip[HELD_ID_VALUE_MAX];
	char mac[HELD_ID_VALUE_MAX];
	char uri[HELD_ID_VALUE_MAX];      /* normalized sip:/sips: URI */
	char tel[HELD_ID_VALUE_MAX];      /* normalized tel: URI */
	char bssid[18];                   /* RFC 7105 serving BSSID, "" when none */
	char identity[LIS_URI_IDENTITY_MAX + 1]; /* "ip:10.1.2.3 mac:..." ("" if too long) */
};

int lis_held_init(const struct lis_config *cfg, struct lis_error *err)
{
	held_cfg = cfg;
	uri_enabled = cfg->uri_base[0] != '\0';
	atomic_store(&disagreements, 0);
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

static void append_identity(struct target *t, const char *kind, const char *value)
{
	size_t o = strlen(t->identity);
	if (o == 0 && t->identity[1] == '!')
		return;   /* already too long */
	int n = snprintf(t->identity + o, sizeof t->identity - o, "%s%s%s", o ? " " : "", kind,
			 value);
	if (n < 0 || (size_t)n >= sizeof t->identity - o) {
		/* Too long for a token: no location URI for this target. */
		t->identity[0] = '\0';
		t->identity[1] = '!';
	}
}

/* The identity of a target in tokens and logs: "ip:A", "mac:M", "uri:sip:...", and the tel
 * URI itself ("tel:+1..."), space-separated. */
static void make_identity(struct target *t)
{
	memset(t->identity, 0, sizeof t->identity);
	if (t->ip[0])
		append_identity(t, "ip:", t->ip);
	if (t->mac[0])
		append_identity(t, "mac:", t->mac);
	if (t->uri[0])
		append_identity(t, "uri:", t->uri);
	if (t->tel[0])
		append_identity(t, "", t->tel);
}

/* Back from a token's identity. Returns 0, -1 when it holds something else (cannot happen
 * for a token this code made, but the key may be shared with a newer lisd). */
static int target_from_identity(const char *identity, struct target *t)
{
	memset(t, 0, sizeof *t);
	const char *p = identity;
	while (*p) {
		size_t len = strcspn(p, " ");
		char *slot = NULL;
		size_t skip = 0;
		if (len > 3 && strncmp(p, "ip:", 3) == 0)
			slot = t->ip, skip = 3;
		else if (len > 4 && strncmp(p, "mac:", 4) == 0)
			slot = t->mac, skip = 4;
		else if (len > 4 && strncmp(p, "uri:", 4) == 0)
			slot = t->uri, skip = 4;
		else if (len > 4 && strncmp(p, "tel:", 4) == 0)
			slot = t->tel, skip = 0;
		if (!slot || slot[0] || len - skip >= HELD_ID_VALUE_MAX)
			return -1;
		memcpy(slot, p + skip, len - skip);
		slot[len - skip] = '\0';
		p += len;
		while (*p == ' ')
			p++;
	}
	make_identity(t);
	return t->identity[0] ? 0 : -1;
}

static bool same_address(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
	return false;
}

static const char *id_type_name(const struct held_identifier *id)
{
	switch (id->type) {
	case HELD_ID_IP: return "ip";
	case HELD_ID_MAC: return "mac";
	case HELD_ID_URI: return "uri";
	case HELD_ID_FQDN: return "fqdn";
	case HELD_ID_NAI: return "nai";
	case HELD_ID_DUID: return "duid";
	case HELD_ID_UDPPORT: return "udpport";
	case HELD_ID_TCPPORT: return "tcpport";
	case HELD_ID_SCTPPORT: return "sctpport";
	case HELD_ID_MSISDN: return "msisdn";
	case HELD_ID_IMSI: return "imsi";
	case HELD_ID_IMEI: return "imei";
	case HELD_ID_MIN: return "min";
	case HELD_ID_MDN: return "mdn";
	case HELD_ID_OTHER: return id->value;   /* the element's local name */
	}
	return "unknown";
}

/* RFC 6155: the target from the device element, else the requester's own address. Sets
 * *third_party when the request is about someone else. Returns 0, or -1 with msg (to send
 * with badIdentifier). */
static int target_from_request(const char *requester, const struct held_request *req,
			       struct target *t, bool *third_party, char *msg, size_t msg_size)
{
	memset(t, 0, sizeof *t);
	*third_party = false;
	if (!req->has_device) {
		snprintf(t->ip, sizeof t->ip, "%s", requester);
	} else {
		for (size_t i = 0; i < req->n_ids; i++) {
			const struct held_identifier *id = &req->ids[i];
			char *slot;
			char norm[HELD_ID_VALUE_MAX];
			const char *value = id->value;
			switch (id->type) {
			case HELD_ID_IP:
				slot = t->ip;
				break;
			case HELD_ID_MAC:
				slot = t->mac;
				break;
			case HELD_ID_URI:
				/* sip:, sips: and tel: URIs name endpoints; other schemes do not. */
				if (ident_uri_normalize(id->value, norm, sizeof norm) < 0) {
					snprintf(msg, msg_size,
						 "identifier uri \"%.64s\" is not a sip:, sips: or tel: URI; "
						 "other URI schemes are not supported", id->value);
					return -1;
				}
				value = norm;
				slot = strncasecmp(norm, "tel:", 4) == 0 ? t->tel : t->uri;
				break;
			default:
				snprintf(msg, msg_size, "identifier type %.64s is not supported",
					 id_type_name(id));
				return -1;
			}
			if (slot[0]) {
				snprintf(msg, msg_size,
					 "the device names more than one %s identifier; give one of each type",
					 slot == t->tel ? "tel" : id_type_name(id));
				return -1;
			}
			snprintf(slot, HELD_ID_VALUE_MAX, "%s", value);
		}
		/* A device naming only the requester's own address is the requester. */
		*third_party = !(t->ip[0] && !t->mac[0] && !t->uri[0] && !t->tel[0] &&
				 same_address(t->ip, requester));
	}
	/* RFC 7105: the access point the client is associated with. */
	for (size_t i = 0; i < req->n_wifi; i++)
		if (req->wifi[i].serving) {
			snprintf(t->bssid, sizeof t->bssid, "%s", req->wifi[i].bssid);
			break;
		}
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

/* Random presence entity: unguessable, so that answers cannot be linked by their entity. */
static int make_entity(char *buf, size_t size)
{
	unsigned char r[16];
	char hex[33];
	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	int n = snprintf(buf, size, "pres:%s@%s", hex, held_cfg->domain);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static void begin(struct lis_held_outcome *oc)
{
	memset(oc, 0, sizeof *oc);
	oc->source = wm_source_name(WM_SRC_NONE);
	oc->snapshot_age = lis_snapshot_age();
	oc->fallback = -1;
	oc->evidence_age = -1;
}

/* Append to a fixed buffer, cutting off what does not fit. */
static void add(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *buf, size_t size, const char *fmt, ...)
{
	size_t o = strlen(buf);
	if (o + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + o, size - o, fmt, ap);
	va_end(ap);
}

/* For the query log: the evidence walked, one step after the other ("port mac ... on sw1
 * port Gi1/0/7 -> hq-410 age=120s origin=snmp chosen; subnet 10.1.2.0/24 -> campus"), and
 * the age of the one that won. */
static void note_evidence(const struct wm_result *res, time_t now, struct lis_held_outcome *oc)
{
	for (size_t i = 0; i < res->n_evidence; i++) {
		const struct wm_evidence *e = &res->ev[i];
		add(oc->evidence, sizeof oc->evidence, "%s%s %s", i ? "; " : "",
		    e->source == WM_SRC_NONE ? "ip->mac" : wm_source_name(e->source), e->what);
		if (e->loc)
			add(oc->evidence, sizeof oc->evidence, " -> %s", e->loc->key ? e->loc->key : "?");
		if (e->last_seen)
			add(oc->evidence, sizeof oc->evidence, " age=%llds",
			    (long long)(now - e->last_seen));
		if (e->origin)
			add(oc->evidence, sizeof oc->evidence, " origin=%s", e->origin);
		if (e->stale)
			add(oc->evidence, sizeof oc->evidence, " stale");
		if (e->chosen) {
			add(oc->evidence, sizeof oc->evidence, " chosen");
			if (e->last_seen)
				oc->evidence_age = (long long)(now - e->last_seen);
		}
	}
}

/* For the query log: the civic address sent, "country=US; A1=TX; ...; ROOM=410", in RFC 5139
 * order. */
static void note_address(const struct civic_address *ca, struct lis_held_outcome *oc)
{
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		if (ca->field[f] && ca->field[f][0])
			add(oc->address, sizeof oc->address, "%s%s=%s", oc->address[0] ? "; " : "",
			    civic_field_name((enum civic_field)f), ca->field[f]);
}

static void note_response_time(const struct held_request *req, struct lis_held_outcome *oc)
{
	switch (req->rt) {
	case HELD_RT_ABSENT:
		break;
	case HELD_RT_EMERGENCY_ROUTING:
		snprintf(oc->response_time, sizeof oc->response_time, "emergencyRouting");
		break;
	case HELD_RT_EMERGENCY_DISPATCH:
		snprintf(oc->response_time, sizeof oc->response_time, "emergencyDispatch");
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

/* The answer for target t: resolve in the snapshot and build, all inside one RCU read-side
 * section (the result points into the snapshot). req is NULL for GET. Returns 0 with *out
 * built, 1 with *f describing a failure to answer, -1 when building failed. */
static int locate(const struct target *t, const struct held_request *req, enum mode mode,
		  char **out, size_t *out_len, struct lis_held_outcome *oc, struct failure *f)
{
	struct lis_error err = { 0 };
	struct wm_result res;
	int ret = 1;

	snprintf(oc->target, sizeof oc->target, "%.319s", t->identity[0] ? t->identity : t->ip);
	lis_snapshot_read_lock();
	const struct wm_snapshot *snap = lis_snapshot_current();
	oc->snapshot_age = lis_snapshot_age();
	if (!snap) {
		f->code = HELD_E_GENERAL_LIS_ERROR;
		f->status = 503;
		snprintf(f->msg, sizeof f->msg, "the wiremap is not loaded yet; try again later");
		snprintf(oc->reason, sizeof oc->reason, "no wiremap snapshot (database not reached yet)");
		goto out;
	}
	struct wm_target wt = {
		.ip = t->ip[0] ? t->ip : NULL,
		.mac = t->mac[0] ? t->mac : NULL,
		.uri = t->uri[0] ? t->uri : NULL,
		.tel = t->tel[0] ? t->tel : NULL,
		.bssid = t->bssid[0] ? t->bssid : NULL,
	};
	struct wm_policy pol = { .now = time(NULL), .max_binding_age = (unsigned)held_cfg->max_binding_age };
	memset(&res, 0, sizeof res);
	int rc = wm_resolve(snap, &wt, &pol, &res, &err);
	if (rc < 0) {
		/* RFC 6155: badIdentifier for an identifier that is badly formatted. */
		f->code = HELD_E_BAD_IDENTIFIER;
		f->status = 404;
		snprintf(f->msg, sizeof f->msg, "%s", err.msg[0] ? err.msg : "bad device identifier");
		goto out;
	}
	note_evidence(&res, pol.now, oc);
	if (res.disagreement) {
		oc->disagreements = atomic_fetch_add(&disagreements, 1) + 1;
		snprintf(oc->disagree, sizeof oc->disagree, "%s", res.disagree);
	}
	if (rc == 0 || !res.loc) {
		f->code = HELD_E_LOCATION_UNKNOWN;
		f->status = 404;
		if (res.unknown_reason[0])
			snprintf(f->msg, sizeof f->msg, "%s", res.unknown_reason);
		else
			snprintf(f->msg, sizeof f->msg, "no location is known for %.160s", oc->target);
		goto out;
	}
	oc->source = wm_source_name(res.source);
	snprintf(oc->location, sizeof oc->location, "%s", res.loc->key ? res.loc->key : "");
	oc->location_id = res.loc->id;
	snprintf(oc->site, sizeof oc->site, "%s",
		 res.loc->site && res.loc->site->key ? res.loc->site->key : "");
	snprintf(oc->method, sizeof oc->method, "%s", res.method ? res.method : "");
	oc->fallback = res.fallback;

	bool have_civic = res.loc->has_civic;
	bool have_geo = res.loc->has_geo;
	unsigned lt = req ? req->loctypes : 0;
	bool exact = req && req->exact;
	bool any = lt == 0 || (lt & HELD_LT_ANY);
	bool uri_possible = mode == MODE_HELD && uri_enabled && t->identity[0];

	if (exact) {
		/* RFC 5985 §6.5: exact="true" means every listed form, or cannotProvideLiType. */
		const char *missing = NULL;
		if ((lt & HELD_LT_CIVIC) && !have_civic)
			missing = "civic";
		else if ((lt & HELD_LT_GEODETIC) && !have_geo)
			missing = "geodetic";
		else if ((lt & HELD_LT_URI) && !uri_possible)
			missing = "locationURI";
		if (missing) {
			f->code = HELD_E_CANNOT_PROVIDE_LI_TYPE;
			f->status = 404;
			if (strcmp(missing, "locationURI") != 0)
				snprintf(f->msg, sizeof f->msg, "no %s location is recorded for %.160s",
					 missing, oc->target);
			else if (mode != MODE_HELD)
				snprintf(f->msg, sizeof f->msg,
					 "a location URI cannot be asked for by dereferencing one "
					 "(RFC 6753); ask without locationURI");
			else if (!uri_enabled)
				snprintf(f->msg, sizeof f->msg,
					 "this LIS does not issue location URIs; ask without "
					 "exact=\"true\" for location by value");
			else
				snprintf(f->msg, sizeof f->msg,
					 "the target's identity is too long for a location URI");
			goto out;
		}
	}
	bool give_civic, give_geo, give_uri;
	if (any) {
		give_civic = have_civic;
		give_geo = have_geo;
		give_uri = uri_possible;
	} else {
		give_civic = (lt & HELD_LT_CIVIC) && have_civic;
		give_geo = (lt & HELD_LT_GEODETIC) && have_geo;
		give_uri = (lt & HELD_LT_URI) && uri_possible;
	}
	/* exact="false": when none of the forms asked by value exists, or only a URI was asked
	 * and none can be given, other forms are allowed: give what there is. */
	if (!exact && !give_civic && !give_geo &&
	    ((lt & (HELD_LT_CIVIC | HELD_LT_GEODETIC)) || !give_uri)) {
		give_civic = have_civic;
		give_geo = have_geo;
	}
	if (!give_civic && !give_geo && !give_uri) {
		f->code = HELD_E_LOCATION_UNKNOWN;
		f->status = 404;
		snprintf(f->msg, sizeof f->msg, "no usable location is recorded for %.160s", oc->target);
		snprintf(oc->reason, sizeof oc->reason,
			 "location %.127s has neither civic nor geodetic data", oc->location);
		goto out;
	}
	if (mode == MODE_DEREF_GET && !give_civic && !give_geo)
		goto out;

	char entity[320];
	if (make_entity(entity, sizeof entity) < 0) {
		f->code = HELD_E_GENERAL_LIS_ERROR;
		f->status = 500;
		snprintf(f->msg, sizeof f->msg, "internal error");
		snprintf(oc->reason, sizeof oc->reason, "RAND_bytes failed");
		goto out;
	}
	time_t now = time(NULL);
	struct wm_pidf wp;
	memset(&wp, 0, sizeof wp);
	if (give_civic || give_geo) {
		wm_pidf_fill(&res, give_civic, give_geo, &wp);
		wp.doc.entity = entity;
		wp.doc.timestamp = now;
		wp.doc.retransmission_allowed = held_cfg->retransmission_allowed;
		wp.doc.retention_expiry = now + (time_t)held_cfg->retention;
	}

	char token[LIS_URI_TOKEN_MAX + 1];
	char uri[LIS_URI_TOKEN_MAX + 256];
	const char *uris[1] = { uri };
	struct held_uri_set set = { .expires = now + (time_t)held_cfg->uri_lifetime, .n = 1,
				    .uris = uris };
	if (give_uri) {
		if (lis_uri_token_encode(&uri_key, t->identity, set.expires, token, sizeof token,
					 &err) < 0 ||
		    (size_t)snprintf(uri, sizeof uri, "%s%s", held_cfg->uri_base, token) >= sizeof uri) {
			f->code = HELD_E_GENERAL_LIS_ERROR;
			f->status = 500;
			snprintf(f->msg, sizeof f->msg, "internal error");
			snprintf(oc->reason, sizeof oc->reason, "location URI: %s", err.msg);
			goto out;
		}
	}

	if (mode == MODE_DEREF_GET)
		rc = pidf_build(&wp.doc, out, out_len, &err);
	else
		rc = held_build_response(give_uri ? &set : NULL,
					 give_civic || give_geo ? &wp.doc : NULL, out, out_len, &err);
	memset(token, 0, sizeof token);
	memset(uri, 0, sizeof uri);
	if (rc < 0) {
		snprintf(oc->reason, sizeof oc->reason, "building the answer failed: %s", err.msg);
		ret = -1;
		goto out;
	}
	oc->uri_issued = give_uri;
	if (give_civic && wp.doc.civic)
		note_address(wp.doc.civic, oc);
	oc->result = "located";
	ret = 0;
out:
	lis_snapshot_read_unlock();
	if (ret == 1 && !f->msg[0]) {
		f->code = HELD_E_LOCATION_UNKNOWN;
		f->status = 404;
		snprintf(f->msg, sizeof f->msg, "no location by value is recorded for %.160s", oc->target);
	}
	return ret;
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
	memset(req, 0, sizeof *req);
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
	char msg[256];
	bool third_party;

	begin(oc);
	int rc = parse(body, len, &req, out, out_len, oc);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	note_response_time(&req, oc);

	if (target_from_request(who->ip, &req, &t, &third_party, msg, sizeof msg) < 0)
		return answer_error(HELD_E_BAD_IDENTIFIER, msg, out, out_len, oc);

	/* RFC 6155 §4 (and RFC 5985 §9's return routability): only authorized requesters may
	 * ask about another device. The refusal is the same whether or not the device is in
	 * the wiremap: it is decided before any lookup. */
	if (third_party && !is_authorized(who, oc)) {
		snprintf(oc->target, sizeof oc->target, "%.319s", t.identity);
		snprintf(oc->reason, sizeof oc->reason, "unauthorized");
		return answer_error(HELD_E_BAD_IDENTIFIER,
				    "not authorized to request the location of another device", out,
				    out_len, oc);
	}

	rc = locate(&t, &req, MODE_HELD, out, out_len, oc, &f);
	if (rc == 1)
		return answer_failure(&f, out, out_len, oc);
	return rc;
}

/* The target of a location URI, or -1 whatever is wrong with it. */
static int target_from_token(const char *token, struct target *t)
{
	char identity[LIS_URI_IDENTITY_MAX + 1];
	int rc = lis_uri_token_decode(&uri_key, token, time(NULL), identity, sizeof identity,
				      NULL);
	if (rc == 0 && target_from_identity(identity, t) == 0)
		return 0;
	memset(t, 0, sizeof *t);
	return -1;
}

int lis_held_deref_post(const struct lis_requester *who, const char *token, const char *body,
			size_t len, char **out, size_t *out_len, struct lis_held_outcome *oc)
{
	struct held_request req;
	struct target t;
	struct failure f = { 0 };

	begin(oc);
	/* RFC 6753 §3.3 authorization model: decided before the token is looked at. */
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
		/* RFC 6753 §6: an unknown or expired URI. notLocatable: do not retry it. */
		snprintf(oc->reason, sizeof oc->reason, "location URI unknown, forged or expired");
		return answer_error(HELD_E_NOT_LOCATABLE,
				    "this location URI is not valid (unknown or expired)", out,
				    out_len, oc);
	}
	rc = locate(&t, &req, MODE_DEREF_POST, out, out_len, oc, &f);
	if (rc == 1)
		return answer_failure(&f, out, out_len, oc);
	return rc;
}

unsigned lis_held_deref_get(const struct lis_requester *who, const char *token, char **out,
			    size_t *out_len, struct lis_held_outcome *oc)
{
	struct target t;
	struct failure f = { 0 };

	begin(oc);
	*out = NULL;
	*out_len = 0;
	if (held_cfg->deref_auth == LIS_DEREF_AUTHORIZED && !is_authorized(who, oc)) {
		oc->result = "403";
		snprintf(oc->reason, sizeof oc->reason, "unauthorized");
		return 403;
	}
	if (target_from_token(token, &t) < 0) {
		oc->result = "404";
		snprintf(oc->reason, sizeof oc->reason, "location URI unknown, forged or expired");
		return 404;
	}
	int rc = locate(&t, NULL, MODE_DEREF_GET, out, out_len, oc, &f);
	if (rc == 0)
		return 200;
	free(*out);
	*out = NULL;
	*out_len = 0;
	if (rc < 0) {
		oc->result = "500";
		oc->internal = true;
		return 500;
	}
	oc->result = f.status == 503 ? "503" : "404";
	oc->internal = f.status >= 500;
	if (!oc->reason[0])
		snprintf(oc->reason, sizeof oc->reason, "%s", f.msg);
	return f.status;
}
