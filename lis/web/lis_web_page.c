/* The self-service page (lisd(8) SELF-SERVICE): server-rendered HTML that works without
 * JavaScript on a phone's screen, one inline stylesheet (allowed by its hash), forms that
 * POST to the page with the session's CSRF token, and after a write a redirect (303) to
 * the page, so that reloading never repeats it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lis_web_priv.h"

const char web_style[] =
	"body{font:16px/1.4 system-ui,sans-serif;margin:0;padding:0 12px 24px;color:#111;"
	"background:#f6f7f9}"
	"main{max-width:40rem;margin:0 auto}"
	"h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:1.5rem}"
	"section,form.box{background:#fff;border:1px solid #ccd;border-radius:6px;padding:12px;"
	"margin:12px 0}"
	"label{display:block;margin:6px 0 2px}"
	"input[type=text],input[type=password],input[type=number]{width:100%;box-sizing:border-box;"
	"padding:8px;font-size:1rem}"
	"button,.button{display:inline-block;margin:8px 6px 0 0;padding:8px 14px;font-size:1rem;"
	"border:1px solid #225;border-radius:4px;background:#e8ecf8;color:#112;"
	"text-decoration:none}"
	".msg{padding:8px;border-radius:4px;background:#fee;border:1px solid #c66}"
	".state-valid{color:#060}.state-due,.state-expired{color:#a00}"
	"ul.errors{margin:4px 0;padding-left:20px}"
	"form.inline{display:inline}"
	".grid{display:grid;grid-template-columns:1fr 1fr;gap:0 10px}"
	"@media (max-width:480px){.grid{grid-template-columns:1fr}}";

/* ---- forms ---- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

const char *web_form_value(const struct web_req *r, const char *name, char *buf, size_t size)
{
	const char *p = r->body.s, *end = p ? p + r->body.len : NULL;
	size_t nl = strlen(name);
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t o = 0;
			for (const char *s = p + nl + 1; s < stop && o + 1 < size; s++) {
				if (*s == '+') {
					buf[o++] = ' ';
				} else if (*s == '%' && stop - s > 2 && hexval(s[1]) >= 0 &&
					   hexval(s[2]) >= 0) {
					buf[o++] = (char)(hexval(s[1]) * 16 + hexval(s[2]));
					s += 2;
				} else {
					buf[o++] = *s;
				}
			}
			buf[o] = '\0';
			if (strlen(buf) != o) /* an encoded NUL */
				return NULL;
			return buf;
		}
		p = amp ? amp + 1 : end;
	}
	return NULL;
}

/* ---- HTML ---- */

static void esc(struct strbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': strbuf_puts(b, "&lt;"); break;
		case '>': strbuf_puts(b, "&gt;"); break;
		case '&': strbuf_puts(b, "&amp;"); break;
		case '"': strbuf_puts(b, "&quot;"); break;
		case '\'': strbuf_puts(b, "&#39;"); break;
		default: strbuf_put(b, s, 1);
		}
	}
}

static void head(struct strbuf *b, const char *title)
{
	strbuf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<title>");
	esc(b, title);
	strbuf_printf(b, "</title><style>%s</style></head><body><main>", web_style);
}

static enum MHD_Result finish(struct web_req *r, struct strbuf *b, unsigned status)
{
	strbuf_puts(b, "</main></body></html>\n");
	enum MHD_Result ret = b->cut ? web_reply(r, 500, "text/plain; charset=utf-8",
						 "out of memory\n", 14, NULL, NULL)
				     : web_reply(r, status, "text/html; charset=utf-8", b->s,
						 b->len, NULL, NULL);
	strbuf_free(b);
	return ret;
}

static void message(struct strbuf *b, const char *msg, const json_t *errors)
{
	if (!msg)
		return;
	strbuf_puts(b, "<p class=\"msg\" id=\"message\" role=\"alert\">");
	esc(b, msg);
	strbuf_puts(b, "</p>");
	if (json_array_size(errors)) {
		size_t i;
		json_t *e;
		strbuf_puts(b, "<ul class=\"errors\" id=\"errors\">");
		json_array_foreach(errors, i, e) {
			strbuf_puts(b, "<li>");
			esc(b, json_string_value(json_object_get(e, "message")));
			strbuf_puts(b, "</li>");
		}
		strbuf_puts(b, "</ul>");
	}
}

enum MHD_Result web_page_signin(struct web_req *r, unsigned status, const char *msg,
				const char *user)
{
	struct strbuf b = {0};
	head(&b, "Sign in: emergency location");
	strbuf_puts(&b, "<h1>Your emergency location</h1><p>Sign in to tell the emergency "
		    "services where you are when you call from outside the offices.</p>");
	message(&b, msg, NULL);
	if (r->cfg->ldap_uri[0]) {
		strbuf_puts(&b, "<form class=\"box\" id=\"signin\" method=\"post\" "
			    "action=\"/signin\"><label for=\"user\">User name</label>"
			    "<input type=\"text\" id=\"user\" name=\"user\" autocomplete=\"username\" "
			    "autocapitalize=\"none\" required value=\"");
		esc(&b, user);
		strbuf_puts(&b, "\"><label for=\"password\">Password</label><input type=\"password\" "
			    "id=\"password\" name=\"password\" autocomplete=\"current-password\" "
			    "required><button type=\"submit\">Sign in</button></form>");
	}
	if (r->sso)
		strbuf_puts(&b, "<p><a class=\"button\" id=\"sso\" href=\"/signin/oidc\">Sign in "
			    "with SSO</a></p>");
	return finish(r, &b, status);
}

static void hidden_csrf(struct strbuf *b, const struct web_req *r)
{
	strbuf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	esc(b, r->actor.csrf);
	strbuf_puts(b, "\">");
}

static void location_item(struct strbuf *b, const struct web_req *r, const json_t *l)
{
	const char *label = json_string_value(json_object_get(l, "label"));
	const char *state = json_string_value(json_object_get(l, "state"));
	json_t *a = json_object_get(l, "address");
	static const char *const order[] = {"HNO", "HNS", "RD", "STS", "UNIT", "FLR", "A3", "A1",
					    "PC", "country"};
	strbuf_puts(b, "<li class=\"location\" data-label=\"");
	esc(b, label);
	strbuf_puts(b, "\"><strong>");
	esc(b, label);
	strbuf_puts(b, "</strong>");
	if (json_is_true(json_object_get(l, "current")))
		strbuf_puts(b, " (current)");
	strbuf_puts(b, ": ");
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const char *v = json_string_value(json_object_get(a, order[i]));
		if (v) {
			esc(b, v);
			strbuf_puts(b, " ");
		}
	}
	strbuf_printf(b, "<br><span class=\"state-%s\">%s</span>, confirmed ", state,
		      strcmp(state, "due") == 0 ? "due for confirmation"
		      : strcmp(state, "expired") == 0 ? "expired" : "good");
	esc(b, json_string_value(json_object_get(l, "confirmed_at")));
	strbuf_puts(b, ", expires ");
	esc(b, json_string_value(json_object_get(l, "expires_at")));
	strbuf_puts(b, "<br>");
	static const char *const actions[][2] = {{"current", "I am here now"},
						 {"confirm", "Confirm"}, {"delete", "Delete"}};
	for (size_t i = 0; i < 3; i++) {
		strbuf_puts(b, "<form class=\"inline\" method=\"post\" action=\"/locations/");
		esc(b, label);
		strbuf_printf(b, "/%s\">", actions[i][0]);
		hidden_csrf(b, r);
		strbuf_printf(b, "<button type=\"submit\" name=\"do\" value=\"%s\">%s</button>"
			      "</form>", actions[i][0], actions[i][1]);
	}
	strbuf_puts(b, "</li>");
}

/* The fields of the form "Add an address": civic element and its words. */
static const struct {
	const char *el, *label;
	bool required;
} form_fields[] = {
	{"HNO", "House number", true}, {"HNS", "Suffix (A, 1/2)", false},
	{"RD", "Street", true}, {"STS", "Street type (Ave, St)", false},
	{"UNIT", "Apartment or unit", false}, {"FLR", "Floor", false},
	{"A3", "City", true}, {"A1", "State or province (IL, CA)", true},
	{"PC", "Postal code", false}, {"country", "Country (US)", true},
};

static enum MHD_Result main_page(struct web_req *r, unsigned status, const char *msg,
				 const json_t *errors)
{
	json_t *me = web_me_json(r);
	json_t *list = me ? web_locations_json(r) : NULL;
	if (!me || !list) {
		json_decref(me);
		json_decref(list);
		return web_page_signin(r, 503, "The database cannot be reached: try again later. "
				       "Emergency calls are not affected.", NULL);
	}
	struct strbuf b = {0};
	head(&b, "Your emergency location");
	strbuf_puts(&b, "<h1>Your emergency location</h1><p id=\"who\">Signed in as <strong>");
	esc(&b, r->actor.user);
	strbuf_puts(&b, "</strong></p><form class=\"inline\" id=\"signout\" method=\"post\" "
		    "action=\"/signout\">");
	hidden_csrf(&b, r);
	strbuf_puts(&b, "<button type=\"submit\">Sign out</button></form>");
	message(&b, msg, errors);
	strbuf_puts(&b, "<section id=\"now\"><h2>If you call 911 now</h2><p id=\"answer\">");
	esc(&b, json_string_value(json_object_get(me, "answer")));
	strbuf_puts(&b, "</p>");
	/* with more than one device: what each would send */
	const json_t *eps = json_object_get(me, "endpoints");
	if (json_array_size(eps) > 1) {
		strbuf_puts(&b, "<p>From each of your devices:</p><ul id=\"devices\">");
		size_t k;
		json_t *e;
		json_array_foreach(eps, k, e) {
			char words[1024];
			web_answer_words(json_string_value(json_object_get(e, "endpoint")),
					 json_object_get(e, "answer"), words, sizeof words);
			strbuf_puts(&b, "<li>");
			esc(&b, words);
			strbuf_puts(&b, "</li>");
		}
		strbuf_puts(&b, "</ul>");
	}
	json_t *cur = json_object_get(me, "declaration");
	if (json_is_object(cur)) {
		strbuf_puts(&b, "<ul>");
		location_item(&b, r, cur);
		strbuf_puts(&b, "</ul>");
	}
	strbuf_puts(&b, "</section><section id=\"saved\"><h2>Your addresses</h2><ul>");
	size_t i;
	json_t *l;
	json_array_foreach(list, i, l)
		location_item(&b, r, l);
	if (!json_array_size(list))
		strbuf_puts(&b, "<li>none yet</li>");
	strbuf_puts(&b, "</ul></section><form class=\"box\" id=\"add\" method=\"post\" "
		    "action=\"/locations\"><h2>Add an address</h2>");
	hidden_csrf(&b, r);
	strbuf_puts(&b, "<label for=\"label\">Name it (home, cabin)</label><input type=\"text\" "
		    "id=\"label\" name=\"label\" required pattern=\"[A-Za-z0-9._\\-]{1,64}\">"
		    "<div class=\"grid\">");
	for (size_t k = 0; k < sizeof form_fields / sizeof form_fields[0]; k++)
		strbuf_printf(&b, "<div><label for=\"f-%s\">%s</label><input type=\"text\" "
			      "id=\"f-%s\" name=\"%s\"%s></div>", form_fields[k].el,
			      form_fields[k].label, form_fields[k].el, form_fields[k].el,
			      form_fields[k].required ? " required" : "");
	strbuf_puts(&b, "</div><label><input type=\"checkbox\" name=\"current\" value=\"1\" "
		    "checked> I am here now</label><button type=\"submit\">Save</button></form>");
	json_decref(me);
	json_decref(list);
	return finish(r, &b, status);
}

/* POST /locations and /locations/LABEL/(current|confirm|delete) from the page's forms. */
static enum MHD_Result form_write(struct web_req *r, const char *rest)
{
	char csrf[64], label[80], vals[CIVIC_N_FIELDS][260], cur[8], msg[256];
	struct web_loc_in in = {0};
	enum web_loc_op op = WEB_LOC_CREATE;
	if (!web_csrf_ok(r, web_form_value(r, "csrf", csrf, sizeof csrf)))
		return web_page_signin(r, 403, "The form was stale or forged (no valid CSRF "
				       "token): reload the page and try again.", NULL);
	if (rest[0]) {
		size_t n = strcspn(rest, "/");
		const char *action = rest[n] ? rest + n + 1 : "";
		if (n >= sizeof label)
			return main_page(r, 404, "No such address.", NULL);
		memcpy(label, rest, n);
		label[n] = '\0';
		in.label = label;
		op = strcmp(action, "current") == 0 ? WEB_LOC_CURRENT
		     : strcmp(action, "confirm") == 0 ? WEB_LOC_CONFIRM
		     : strcmp(action, "delete") == 0 ? WEB_LOC_DELETE : WEB_LOC_CREATE;
		if (op == WEB_LOC_CREATE)
			return main_page(r, 404, "No such action.", NULL);
	} else {
		in.label = web_form_value(r, "label", label, sizeof label);
		for (int f = 0; f < CIVIC_N_FIELDS; f++) {
			in.civic[f] = web_form_value(r, civic_field_name(f), vals[f], sizeof vals[f]);
			if (in.civic[f] && !in.civic[f][0])
				in.civic[f] = NULL;
		}
		in.current = web_form_value(r, "current", cur, sizeof cur) != NULL;
	}
	json_t *errors = json_array();
	unsigned status = web_loc_apply(r, op, &in, errors, msg, sizeof msg);
	enum MHD_Result ret = status < 300
		? web_reply(r, 303, "text/plain; charset=utf-8", "saved\n", 6, NULL, "/")
		: main_page(r, status, msg, errors);
	json_decref(errors);
	return ret;
}

enum MHD_Result web_page(struct web_req *r)
{
	bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	bool post = strcmp(r->method, "POST") == 0;
	bool root = strcmp(r->url, "/") == 0;
	bool locs = strcmp(r->url, "/locations") == 0 || strncmp(r->url, "/locations/", 11) == 0;
	if (!(root && get) && !(locs && post))
		return web_reply(r, 404, "text/plain; charset=utf-8", "not found\n", 10, NULL,
				 NULL);
	if (!web_auth(r) || strcmp(r->via, "web") != 0)
		return !r->db_down ? web_page_signin(r, get ? 200 : 401, get ? NULL : "Sign in "
						       "first.", NULL)
				     : web_page_signin(r, 503, "The database cannot be reached: "
						       "sign-in is not possible now. Emergency "
						       "calls are not affected.", NULL);
	if (get)
		return main_page(r, 200, NULL, NULL);
	return form_write(r, strcmp(r->url, "/locations") == 0 ? "" : r->url + 11);
}
