/* The JSON API of the self-service listener (lisd(8) SELF-SERVICE): /api/v1/me and a user's
 * declared locations, for a session (cookie, and X-CSRF-Token on writes) or a per-device
 * token (Authorization: Bearer). The location writes here are also the page's forms'. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lis_log.h"
#include "lis_web_priv.h"

#define DEFAULT_DAYS 365
#define MAX_DAYS 3650
#define LABEL_MAX 64
#define VALUE_MAX 256

/* ---- checks and writes shared with the page ---- */

static void add_error(json_t *errors, const char *field, const char *msg)
{
	if (errors)
		json_array_append_new(errors, json_pack("{ssss}", "field", field, "message", msg));
}

/* A label: 1..64 letters, digits, . _ - (it is a path segment of the API). */
static bool label_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > LABEL_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-", *s)))
			return false;
	return true;
}

/* UTF-8 a PIDF-LO can carry: no control characters, at most VALUE_MAX bytes. */
static bool value_is_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > VALUE_MAX)
		return false;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = lis_utf8_seq((const unsigned char *)s + i, n - i, &cp);
		if (!k || cp < 0x20 || cp == 0x7f)
			return false;
		i += k;
	}
	return true;
}

struct field_errors {
	json_t *errors;
	size_t n;
};

static void on_problem(void *ctx, int field, bool error, const char *msg)
{
	struct field_errors *fe = ctx;
	if (!error)
		return; /* a home has no ROOM and no geodetic point: not worth a word */
	char name[48];
	snprintf(name, sizeof name, "address.%s", field < 0 ? "" : civic_field_name(field));
	add_error(fe->errors, name, msg);
	fe->n++;
}

/* 400's checks of a create or replace; the number of problems added. */
static size_t check_input(struct web_req *r, const struct web_loc_in *in, json_t *errors)
{
	struct field_errors fe = {errors, 0};
	if (in->lang && !value_is_valid(in->lang)) {
		add_error(errors, "lang", "lang must be a language tag such as en");
		fe.n++;
	}
	if (in->days < 0 || in->days > MAX_DAYS) {
		add_error(errors, "days", "days must be 1 to 3650");
		fe.n++;
	}
	for (int f = 0; f < CIVIC_N_FIELDS; f++) {
		if (in->civic[f] && !value_is_valid(in->civic[f])) {
			char name[48], msg[120];
			snprintf(name, sizeof name, "address.%s", civic_field_name(f));
			snprintf(msg, sizeof msg, "%s must be text of 1 to %d bytes without control "
				 "characters", civic_field_name(f), VALUE_MAX);
			add_error(errors, name, msg);
			fe.n++;
		}
	}
	if (fe.n)
		return fe.n;
	char name[LABEL_MAX + 300];
	snprintf(name, sizeof name, "%s/%s", r->actor.user, in->label);
	lis_dispatch_check(name, in->civic, true, r->iso, on_problem, &fe);
	return fe.n;
}

unsigned web_loc_apply(struct web_req *r, enum web_loc_op op, const struct web_loc_in *in,
		       json_t *errors, char *msg, size_t msg_size)
{
	struct lis_error err = {0};
	if (!label_is_valid(in->label)) {
		add_error(errors, "label", "label must be 1 to 64 letters, digits, '.', '_' or '-'");
		snprintf(msg, msg_size, "the label is not valid");
		return 400;
	}
	bool writes_address = op == WEB_LOC_CREATE || op == WEB_LOC_REPLACE;
	if (writes_address && check_input(r, in, errors)) {
		snprintf(msg, msg_size, "the address is not valid: nothing was saved");
		return 400;
	}
	if (!web_db(r)) {
		snprintf(msg, msg_size, "the database cannot be reached: nothing was saved; try "
			 "again later");
		return 503;
	}
	if (db_web_begin(r->db, r->actor.user, r->via, r->from, &err) < 0)
		goto failed;
	int n;
	if (writes_address) {
		struct db_declaration d = {
			.user = r->actor.user, .label = in->label, .lang = in->lang,
			.current = in->current,
			.expires_at = time(NULL) + (time_t)(in->days ? in->days : DEFAULT_DAYS) * 86400,
		};
		memcpy(d.civic, in->civic, sizeof d.civic);
		n = db_web_location_put(r->db, &d, op == WEB_LOC_CREATE, &err);
		if (n > 0 && op == WEB_LOC_REPLACE && in->current)
			n = db_declared_change(r->db, r->actor.user, in->label,
					       DB_DECLARED_MAKE_CURRENT, &err);
	} else {
		static const enum db_declared_op ops[] = {
			[WEB_LOC_DELETE] = DB_DECLARED_REMOVE,
			[WEB_LOC_CURRENT] = DB_DECLARED_MAKE_CURRENT,
			[WEB_LOC_CONFIRM] = DB_DECLARED_CONFIRM,
		};
		n = db_declared_change(r->db, r->actor.user, in->label, ops[op], &err);
	}
	if (n < 0 || db_web_end(r->db, n > 0, &err) < 0)
		goto failed;
	static const char *const op_names[] = {
		[WEB_LOC_CREATE] = "create", [WEB_LOC_REPLACE] = "replace",
		[WEB_LOC_DELETE] = "delete", [WEB_LOC_CURRENT] = "current",
		[WEB_LOC_CONFIRM] = "confirm",
	};
	lis_log(LIS_LOG_INFO, "selfservice", "event=location op=%s user=%s label=%s via=%s "
		"from=%s result=%s", op_names[op], r->actor.user, in->label, r->via, r->from,
		n ? "ok" : op == WEB_LOC_CREATE ? "exists" : "not_found");
	if (n == 0 && op == WEB_LOC_CREATE) {
		add_error(errors, "label", "you have a location of this label already");
		snprintf(msg, msg_size, "you have a location labelled %s already: change it with "
			 "PUT, or choose another label", in->label);
		return 409;
	}
	if (n == 0) {
		snprintf(msg, msg_size, "you have no location labelled %s", in->label);
		return 404;
	}
	return op == WEB_LOC_CREATE ? 201 : 200;
failed:
	db_web_end(r->db, false, NULL);
	lis_log(LIS_LOG_WARN, "selfservice", "event=location user=%s result=error reason=%s",
		r->actor.user, WEB_LV(err.msg));
	snprintf(msg, msg_size, err.code == DB_E_INPUT ? "the database refused the address: "
		 "nothing was saved" : "saving failed: nothing was saved; try again later");
	return err.code == DB_E_INPUT ? 400 : 503;
}

json_t *web_loc_json(const struct db_web_location *l)
{
	json_t *addr = json_object();
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		if (l->civic[f])
			json_object_set_new(addr, civic_field_name(f), json_string(l->civic[f]));
	json_t *o = json_pack("{sssbsssssssO}", "label", l->label, "current", l->current,
			      "state", l->state, "confirmed_at", l->confirmed_at, "expires_at",
			      l->expires_at, "address", addr);
	if (o && l->lang[0])
		json_object_set_new(o, "lang", json_string(l->lang));
	json_decref(addr);
	return o;
}

static void add_loc(void *ctx, const struct db_web_location *l)
{
	json_array_append_new(ctx, web_loc_json(l));
}

json_t *web_locations_json(struct web_req *r)
{
	struct lis_error err = {0};
	json_t *locs = json_array();
	if (!web_db(r) || db_web_locations(r->db, r->actor.user, add_loc, locs, &err) < 0) {
		json_decref(locs);
		return NULL;
	}
	return locs;
}

struct me {
	struct web_req *r;
	json_t *endpoints;
	char words[1024];          /* the top-level answer: of the first endpoint whose class
	                            * uses declarations, else of the first */
	bool words_declared;
};

/* The address in one line, street first: "742 Maple ST, floor 2, room 210, Springfield IL
 * 62704 US". */
static void address_words(const json_t *address, char *buf, size_t size)
{
	static const char *const order[] = {
		"HNO", "HNS", "PRD", "RD", "STS", "POD", NULL, "LMK", "LOC", "NAM", "BLD", "FLR",
		"UNIT", "ROOM", "SEAT", NULL, "A6", "A5", "A4", "A3", "A2", "A1", "PC", "country",
	};
	static const char *const label[] = {
		[7] = "", [8] = "", [9] = "", [10] = "building ", [11] = "floor ",
		[12] = "unit ", [13] = "room ", [14] = "seat ",
	};
	size_t len = 0;
	bool group = false;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (!order[i]) {
			group = false;
			continue;
		}
		const char *v = json_string_value(json_object_get(address, order[i]));
		if (!v || !v[0])
			continue;
		bool labelled = i < sizeof label / sizeof label[0] && label[i];
		int n = snprintf(buf + len, size - len, "%s%s%s", !len ? "" : labelled || !group
				 ? ", " : " ", labelled ? label[i] : "", v);
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
		group = !labelled;
	}
}

void web_answer_words(const char *endpoint, const json_t *answer, char *buf, size_t size)
{
	const char *result = json_string_value(json_object_get(answer, "result"));
	const char *note = json_string_value(json_object_get(answer, "note"));
	const char *reason = json_string_value(json_object_get(answer, "reason"));
	if (!result || strcmp(result, "unavailable") == 0) {
		snprintf(buf, size, "%s: lisd's wiremap is not available here", endpoint);
	} else if (strcmp(result, "located") != 0) {
		snprintf(buf, size, "%s: no location (%s): %s", endpoint, result,
			 reason ? reason : "");
	} else {
		char line[600];
		address_words(json_object_get(answer, "address"), line, sizeof line);
		snprintf(buf, size, "%s: %s (method %s, from %s)%s%s", endpoint, line,
			 json_string_value(json_object_get(answer, "method")),
			 json_string_value(json_object_get(answer, "source")), note ? ": " : "",
			 note ? note : "");
	}
}

/* The endpoint's identities as lisd's resolver takes them. */
static struct lis_web_device device_of(const struct db_web_endpoint *e)
{
	return (struct lis_web_device){e->mac, e->uri, e->tel, e->ip};
}

/* What lisd answers for the endpoint now, from its resolver: {result, source, method,
 * fallback, address, note} or {result, reason}. */
static json_t *endpoint_answer(struct me *m, const struct db_web_endpoint *e)
{
	struct lis_web_answer a;
	struct lis_web_device dev = device_of(e);
	memset(&a, 0, sizeof a);
	if (!m->r->preview || m->r->preview(&dev, &a) < 0)
		return json_pack("{ssss}", "result", "unavailable", "reason",
				 "lisd's wiremap is not available here");
	if (strcmp(a.result, "located") != 0)
		return json_pack("{ssss}", "result", a.result, "reason", a.note);
	json_t *addr = json_object();
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		if (a.civic[f])
			json_object_set_new(addr, civic_field_name(f), json_string(a.civic[f]));
	json_t *o = json_pack("{sssssssbso}", "result", a.result, "source", a.source, "method",
			      a.method, "fallback", a.fallback == 1, "address", addr);
	if (o && a.note[0])
		json_object_set_new(o, "note", json_string(a.note));
	return o;
}

static void add_endpoint(void *ctx, const struct db_web_endpoint *e)
{
	struct me *m = ctx;
	char words[1024];
	json_t *o = json_pack("{sssssbss}", "endpoint", e->key, "class", e->cls, "use_declared",
			      e->use_declared, "no_fresh", e->no_fresh);
	if (!o)
		return;
	if (e->reconfirm_interval)
		json_object_set_new(o, "reconfirm_interval", json_integer(e->reconfirm_interval));
	json_t *answer = endpoint_answer(m, e);
	web_answer_words(e->key, answer, words, sizeof words);
	json_object_set_new(o, "answer", answer);
	if (!m->words[0] || (e->use_declared && !m->words_declared)) {
		snprintf(m->words, sizeof m->words, "%s", words);
		m->words_declared = e->use_declared;
	}
	json_array_append_new(m->endpoints, o);
}

json_t *web_me_json(struct web_req *r)
{
	struct lis_error err = {0};
	struct me m = {.r = r, .endpoints = json_array()};
	json_t *locs = json_array();
	if (!web_db(r) || db_web_endpoints(r->db, r->actor.user, add_endpoint, &m, &err) < 0 ||
	    db_web_locations(r->db, r->actor.user, add_loc, locs, &err) < 0) {
		json_decref(m.endpoints);
		json_decref(locs);
		return NULL;
	}
	json_t *cur = json_array_size(locs) ? json_array_get(locs, 0) : NULL;
	if (cur && !json_is_true(json_object_get(cur, "current")))
		cur = NULL;
	if (!m.words[0])
		snprintf(m.words, sizeof m.words, "you have no devices registered; ask the help "
			 "desk");
	json_t *o = json_pack("{sssssOsOss}", "user", r->actor.user, "via", r->via, "endpoints",
			      m.endpoints, "declaration", cur ? cur : json_null(), "answer",
			      m.words);
	if (o && r->actor.endpoint[0])
		json_object_set_new(o, "token_endpoint", json_string(r->actor.endpoint));
	json_decref(m.endpoints);
	json_decref(locs);
	return o;
}

/* ---- the API ---- */

static bool is_json(struct web_req *r)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");
	return ct && strncasecmp(ct, "application/json", n) == 0 && (!ct[n] || ct[n] == ';');
}

/* A location's JSON body: {"label", "lang", "current", "days", "address": {ELEMENT:
 * text}}; every problem to errors. 0 when in holds it (strings owned by j). */
static int read_body(json_t *j, struct web_loc_in *in, bool label_from_body, json_t *errors)
{
	size_t bad = 0;
	const char *key;
	json_t *v;
	if (!json_is_object(j)) {
		add_error(errors, "", "the body must be a JSON object");
		return -1;
	}
	json_object_foreach(j, key, v) {
		if (strcmp(key, "label") == 0 && label_from_body && json_is_string(v)) {
			in->label = json_string_value(v);
		} else if (strcmp(key, "lang") == 0 && json_is_string(v)) {
			in->lang = json_string_value(v);
		} else if (strcmp(key, "current") == 0 && json_is_boolean(v)) {
			in->current = json_is_true(v);
		} else if (strcmp(key, "days") == 0 && json_is_integer(v)) {
			in->days = json_integer_value(v) > 0 && json_integer_value(v) <= 3650
					   ? (long)json_integer_value(v) : -1;
		} else if (strcmp(key, "address") == 0 && json_is_object(v)) {
			const char *el;
			json_t *t;
			json_object_foreach(v, el, t) {
				int f = civic_field_from_name(el);
				char name[80];
				snprintf(name, sizeof name, "address.%.60s", el);
				if (f < 0 || !json_is_string(t)) {
					add_error(errors, name, f < 0 ? "not a civic element (country, "
						  "A1..A6, RD, HNO, PC, ... as RFC 5139 names them)"
						  : "must be a string");
					bad++;
				} else {
					in->civic[f] = json_string_value(t);
				}
			}
		} else {
			char msg[120];
			snprintf(msg, sizeof msg, "unknown member or wrong type (label, lang: strings; "
				 "current: boolean; days: integer; address: object)");
			add_error(errors, key, msg);
			bad++;
		}
	}
	if (!json_object_get(j, "address")) {
		add_error(errors, "address", "give the address");
		bad++;
	}
	if (label_from_body && !in->label) {
		add_error(errors, "label", "give a label");
		bad++;
	}
	return bad ? -1 : 0;
}

/* The label of /api/v1/locations/LABEL[/ACTION] into label; action "" or the rest. */
static bool split_path(const char *rest, char *label, size_t size, const char **action)
{
	size_t n = strcspn(rest, "/");
	if (n == 0 || n >= size)
		return false;
	memcpy(label, rest, n);
	label[n] = '\0';
	*action = rest[n] ? rest + n + 1 : "";
	return true;
}

static enum MHD_Result api_write(struct web_req *r, enum web_loc_op op, const char *label)
{
	json_t *errors = json_array(), *j = NULL;
	struct web_loc_in in = {.label = label};
	char msg[256];
	unsigned status;
	if ((op == WEB_LOC_CREATE || op == WEB_LOC_REPLACE)) {
		json_error_t jerr;
		if (!is_json(r)) {
			json_decref(errors);
			return web_json_error(r, 415, "send the location as application/json");
		}
		j = json_loadb(r->body.s ? r->body.s : "", r->body.len, JSON_REJECT_DUPLICATES,
			       &jerr);
		if (!j) {
			snprintf(msg, sizeof msg, "the body is not JSON: %s (line %d)", jerr.text,
				 jerr.line);
			json_decref(errors);
			return web_json_error(r, 400, msg);
		}
		if (read_body(j, &in, op == WEB_LOC_CREATE, errors) < 0) {
			json_decref(j);
			return web_json(r, 400, json_pack("{ssso}", "error", "the location is not "
							  "valid: nothing was saved", "errors",
							  errors));
		}
	}
	status = web_loc_apply(r, op, &in, errors, msg, sizeof msg);
	json_t *out = NULL;
	if (status < 300) {
		json_t *locs = op != WEB_LOC_DELETE ? web_locations_json(r) : NULL;
		if (locs) {
			size_t i;
			json_t *l;
			json_array_foreach(locs, i, l)
				if (strcmp(json_string_value(json_object_get(l, "label")),
					   in.label) == 0)
					out = json_incref(l);
		}
		json_decref(locs);
		if (!out)
			out = json_pack("{ss}", "deleted", in.label);
		json_decref(errors);
	} else {
		out = json_pack("{ss}", "error", msg);
		if (json_array_size(errors))
			json_object_set_new(out, "errors", errors);
		else
			json_decref(errors);
	}
	json_decref(j);
	return web_json(r, status, out);
}

enum MHD_Result web_api(struct web_req *r)
{
	const char *path = r->url + strlen("/api/v1/");
	bool get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;
	bool put = strcmp(r->method, "PUT") == 0, del = strcmp(r->method, "DELETE") == 0;
	char label[LABEL_MAX + 2];
	const char *action = "";
	enum { ME, LOCATIONS, ONE, NONE } route = strcmp(path, "me") == 0 ? ME
						  : strcmp(path, "locations") == 0 ? LOCATIONS
						  : strncmp(path, "locations/", 10) == 0 &&
								    split_path(path + 10, label,
									       sizeof label, &action)
							    ? ONE : NONE;
	if (route == NONE || (route == ONE && action[0] && strcmp(action, "current") != 0 &&
			      strcmp(action, "confirm") != 0))
		return web_json_error(r, 404, "no such resource: /api/v1/me, /api/v1/locations, "
				      "/api/v1/locations/LABEL[/current|/confirm]");
	bool allowed = route == ME ? get : route == LOCATIONS ? get || post
		       : action[0] ? post : put || del;
	if (!allowed)
		return web_json_error(r, 405, "method not allowed here");
	if (!web_auth(r)) {
		if (r->db_down)
			return web_json_error(r, 503, "the database cannot be reached; try again "
					      "later");
		return web_json_error(r, 401, "sign in, or send Authorization: Bearer TOKEN");
	}
	if (!get && !web_csrf_ok(r, MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
								"X-CSRF-Token")))
		return web_json_error(r, 403, "missing or wrong X-CSRF-Token (the session's "
				      "csrf of GET /api/v1/me)");
	if (route == ME) {
		json_t *me = web_me_json(r);
		if (me && strcmp(r->via, "web") == 0)
			json_object_set_new(me, "csrf", json_string(r->actor.csrf));
		return me ? web_json(r, 200, me) : web_json_error(r, 503, "the database failed; "
								   "try again later");
	}
	if (route == LOCATIONS && get) {
		json_t *locs = web_locations_json(r);
		if (!locs)
			return web_json_error(r, 503, "the database failed; try again later");
		return web_json(r, 200, json_pack("{so}", "locations", locs));
	}
	if (route == LOCATIONS)
		return api_write(r, WEB_LOC_CREATE, NULL);
	if (strcmp(action, "current") == 0)
		return api_write(r, WEB_LOC_CURRENT, label);
	if (strcmp(action, "confirm") == 0)
		return api_write(r, WEB_LOC_CONFIRM, label);
	return api_write(r, put ? WEB_LOC_REPLACE : WEB_LOC_DELETE, label);
}
