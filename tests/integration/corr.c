/* Shared kit of the correlation-engine integration tests (see corr.h). */
#include "corr.h"

#include "check.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Count this file's failed checks, so that a caller can show the document that failed. */
static int ck_fails;
static bool ck_note(bool ok)
{
	if (!ok)
		ck_fails++;
	return ok;
}
#undef CHECK
#undef CHECKF
#undef CHECK_STR
#define CHECK(c) ck_note(t_check((c), __FILE__, __LINE__, #c, NULL))
#define CHECKF(c, ...) ck_note(t_check((c), __FILE__, __LINE__, #c, __VA_ARGS__))
#define CHECK_STR(got, want) ck_note(t_check_str((got), (want), __FILE__, __LINE__, #got))

/* ---- the expected locations, read from the fixture itself ---- */

#define MAX_COLS 40
#define MAX_LOCS 40
static int n_cols;
static char *col_name[MAX_COLS];
static int n_locs;
static char *loc_cell[MAX_LOCS][MAX_COLS];
static bool locs_read;

/* locations.csv of the fixture: plain cells (no quotes), first row the header. */
static void read_locations(void)
{
	if (locs_read)
		return;
	locs_read = true;
	char *text = th_read_file(ck_fixture("locations.csv"), NULL);
	if (!text) {
		t_diag("cannot read %s", ck_fixture("locations.csv"));
		return;
	}
	int row = -1;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		int c = 0;
		for (char *p = line;; c++) {
			size_t len = strcspn(p, ",\r");
			char *cell = strndup(p, len);
			if (row < 0 && c < MAX_COLS)
				col_name[n_cols++] = cell;
			else if (row >= 0 && row < MAX_LOCS && c < MAX_COLS)
				loc_cell[row][c] = cell;
			else
				free(cell);
			p += len;
			if (*p != ',')
				break;
			p++;
		}
		row++;
	}
	n_locs = row < MAX_LOCS ? row : MAX_LOCS;
	free(text);
}

static int find_loc(const char *key)
{
	read_locations();
	for (int i = 0; i < n_locs; i++)
		if (loc_cell[i][0] && strcmp(loc_cell[i][0], key) == 0)
			return i;
	return -1;
}

/* Columns 0..2 are location, site, lang; the rest are RFC 5139 element names. */
#define FIRST_CIVIC 3

/* ---- set-up ---- */

const char *ck_fixture(const char *name)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof bufs[0], "%s/tests/data/integration/correlation/%s", th_srcdir(), name);
	return b;
}

bool ck_import_fixtures(struct ck_env *e)
{
	char ipm[600], mp[600], mb[600];
	snprintf(ipm, sizeof ipm, "%s/ip_macs.csv", e->work);
	snprintf(mp, sizeof mp, "%s/mac_ports.csv", e->work);
	snprintf(mb, sizeof mb, "%s/mac_bssids.csv", e->work);
	if (th_csv_from_template(ck_fixture("ip_macs.csv.in"), ipm) < 0 ||
	    th_csv_from_template(ck_fixture("mac_ports.csv.in"), mp) < 0 ||
	    th_csv_from_template(ck_fixture("mac_bssids.csv.in"), mb) < 0)
		return CHECKF(false, "cannot write binding CSVs in %s", e->work);
	char f[7][1024];
	const char *names[7] = {"sites.csv", "locations.csv", "subnets.csv", "switches.csv",
		"ports.csv", "bssids.csv", "endpoints.csv"};
	for (int i = 0; i < 7; i++)
		snprintf(f[i], sizeof f[i], "%s", ck_fixture(names[i]));
	struct th_proc p;
	th_lisctl(&p, e->pg.conninfo, "import", "--sites", f[0], "--locations", f[1],
		  "--subnets", f[2], "--switches", f[3], "--ports", f[4], "--bssids", f[5],
		  "--endpoints", f[6], "--ip-macs", ipm, "--mac-ports", mp, "--mac-bssids", mb,
		  (char *)NULL);
	bool ok = CHECKF(p.status == 0, "import exit %d: %s %s", p.status, th_flat(p.out),
			 th_flat(p.err));
	th_proc_free(&p);
	return ok;
}

bool ck_db_setup(struct ck_env *e)
{
	e->work = th_tmpdir("corr");
	if (!CHECK(e->work != NULL) || !CHECK(th_pg_start(&e->pg) == 0) ||
	    !CHECK(th_tls_make(&e->tls) == 0))
		return false;
	struct th_proc p;
	th_lisctl(&p, e->pg.conninfo, "db", "migrate", (char *)NULL);
	bool ok = CHECKF(p.status == 0, "migrate exit %d: %s %s", p.status, th_flat(p.out),
			 th_flat(p.err));
	th_proc_free(&p);
	return ok && ck_import_fixtures(e);
}

struct located_ctx {
	struct ck_env *e;
	const struct th_lisd *l;
};

static bool snapshot_answers(void *ctx)
{
	struct located_ctx *c = ctx;
	char *w = ck_which(c->e, c->l, ck_req(NULL, false), "127.0.0.10");
	bool ok = strcmp(w, "hq-410") == 0;
	free(w);
	return ok;
}

bool ck_lisd_start(struct ck_env *e, struct th_lisd *l, const char *extra_sections)
{
	char sect[4096];
	snprintf(sect, sizeof sect, "[wiremap]\nmax_binding_age = 86400\n%s",
		 extra_sections ? extra_sections : "");
	if (!CHECK(th_lisd_start(l, "127.0.0.1", &e->tls, e->pg.conninfo, NULL, sect) == 0))
		return false;
	struct located_ctx c = {e, l};
	double dt = 0;
	if (!CHECKF(th_wait_until(60, 100, snapshot_answers, &c, &dt),
		    "lisd never located 127.0.0.10 from its snapshot")) {
		ck_log_tail(l, 1200);
		return false;
	}
	t_diag("snapshot answered %.2f s after start-up", dt);
	return true;
}

bool ck_setup(struct ck_env *e, const char *extra_sections)
{
	if (!ck_db_setup(e) || !ck_lisd_start(e, &e->lisd, extra_sections))
		return false;
	e->up = true;
	return true;
}

bool ck_import(struct ck_env *e, const char *kind, const char *csv)
{
	static int seq;
	char tmpl[600], path[600];
	snprintf(tmpl, sizeof tmpl, "%s/extra-%d.csv.in", e->work, seq);
	snprintf(path, sizeof path, "%s/extra-%d.csv", e->work, seq++);
	if (th_write_file(tmpl, csv) < 0 || th_csv_from_template(tmpl, path) < 0)
		return CHECK(false);
	struct th_proc p;
	th_lisctl(&p, e->pg.conninfo, "import", kind, path, (char *)NULL);
	bool ok = CHECKF(p.status == 0, "import %s exit %d: %s %s", kind, p.status, th_flat(p.out),
			 th_flat(p.err));
	th_proc_free(&p);
	return ok;
}

/* ---- requests ---- */

static char *rbuf(void)
{
	static char bufs[8][2048];
	static int next;
	return bufs[next++ % 8];
}

const char *ck_req(const char *location_type, bool exact)
{
	char *b = rbuf();
	if (!location_type)
		snprintf(b, 2048, "<locationRequest xmlns=\"" HELD_NS "\"/>");
	else
		snprintf(b, 2048, "<locationRequest xmlns=\"" HELD_NS "\">"
			 "<locationType exact=\"%s\">%s</locationType></locationRequest>",
			 exact ? "true" : "false", location_type);
	return b;
}

const char *ck_req_device_type(const char *id_xml, const char *location_type, bool exact)
{
	char *b = rbuf();
	char lt[256] = "";
	if (location_type)
		snprintf(lt, sizeof lt, "<locationType exact=\"%s\">%s</locationType>",
			 exact ? "true" : "false", location_type);
	snprintf(b, 2048, "<locationRequest xmlns=\"" HELD_NS "\">%s"
		 "<device xmlns=\"" HELDID_NS "\">%s</device></locationRequest>", lt, id_xml);
	return b;
}

const char *ck_req_device(const char *id_xml)
{
	return ck_req_device_type(id_xml, NULL, false);
}

const char *ck_req_wifi(const char *bssid)
{
	char *b = rbuf();
	snprintf(b, 2048, "<locationRequest xmlns=\"" HELD_NS "\">"
		 "<measurements xmlns=\"urn:ietf:params:xml:ns:geopriv:lm\">"
		 "<wifi xmlns=\"urn:ietf:params:xml:ns:geopriv:lm:wifi\">"
		 "<ap serving=\"true\"><bssid>%s</bssid></ap></wifi></measurements>"
		 "</locationRequest>", bssid);
	return b;
}

/* ---- checks ---- */

static bool is_ct(const char *ct, const char *want)
{
	size_t n = strlen(want);
	return strncmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

void ck_held_error(const struct th_resp *r, const char *code)
{
	if (!CHECKF(r->curl_code == 0, "curl: %s", r->errbuf))
		return;
	CHECKF(r->status == 200, "HTTP %ld", r->status);
	CHECKF(is_ct(r->content_type, "application/held+xml"), "Content-Type %s", r->content_type);
	xmlDocPtr d = xp_parse(r->body, r->body_len);
	if (!CHECKF(d != NULL, "not XML: %s", th_flat(r->body)))
		return;
	CHECKF(xp_count(d, "/held:error") == 1, "root is not held:error: %s", th_flat(r->body));
	char *c = xp_str(d, "/held:error/@code");
	if (!CHECK_STR(c, code))
		t_diag("body: %s", th_flat(r->body));
	free(c);
	char *m = xp_str(d, "normalize-space(/held:error/held:message)");
	CHECKF(m[0] != '\0', "empty message: %s", th_flat(r->body));
	free(m);
	xmlFreeDoc(d);
}

xmlDocPtr ck_held_located(const struct th_resp *r)
{
	if (!CHECKF(r->curl_code == 0, "curl: %s", r->errbuf))
		return NULL;
	CHECKF(r->status == 200, "HTTP %ld", r->status);
	CHECKF(is_ct(r->content_type, "application/held+xml"), "Content-Type %s", r->content_type);
	xmlDocPtr d = xp_parse(r->body, r->body_len);
	if (!CHECKF(d != NULL, "not XML: %s", th_flat(r->body)))
		return NULL;
	if (!CHECKF(xp_count(d, "/held:locationResponse/pidf:presence") == 1,
		    "no locationResponse/presence: %s", th_flat(r->body))) {
		xmlFreeDoc(d);
		return NULL;
	}
	char *ent = xp_str(d, "/held:locationResponse/pidf:presence/@entity");
	size_t el = strlen(ent), dl = strlen("@" CK_DOMAIN);
	CHECKF(el > 5 + dl && strcmp(ent + el - dl, "@" CK_DOMAIN) == 0, "entity \"%s\"", ent);
	free(ent);
	return d;
}

static char *xs(xmlDocPtr d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *xs(xmlDocPtr d, const char *fmt, ...)
{
	char x[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x, sizeof x, fmt, ap);
	va_end(ap);
	return xp_str(d, x);
}

static int xc(xmlDocPtr d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int xc(xmlDocPtr d, const char *fmt, ...)
{
	char x[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x, sizeof x, fmt, ap);
	va_end(ap);
	return xp_count(d, x);
}

#define CHECK_X(d, want, ...) do { char *v_ = xs(d, __VA_ARGS__); CHECK_STR(v_, want); \
	free(v_); } while (0)

static bool has_word_fallback(const char *s)
{
	for (const char *p = s; *p; p++)
		if (strncasecmp(p, "fallback", 8) == 0)
			return true;
	return false;
}

void ck_pidf(xmlDocPtr d, const char *P, const char *loc_key, const char *method,
	     const char *mac12, bool fallback)
{
	int li = find_loc(loc_key);
	if (!CHECKF(li >= 0, "no location %s in the fixture", loc_key))
		return;
	/* RFC 3863 entity: pres:ID@DOMAIN (the domain is lisd's; ck_held_located checks it) */
	char *ent = xs(d, "%s/@entity", P);
	const char *at = strchr(ent, '@');
	CHECKF(strncmp(ent, "pres:", 5) == 0 && at && at > ent + 5 && at[1], "entity \"%s\"", ent);
	free(ent);

	/* one location, so one holder: dm:device when a MAC is known (RFC 4479 deviceID is
	 * mandatory there), else a PIDF tuple (RFC 3863: status > geopriv, then timestamp) */
	char H[512], G[600];
	const char *ns;
	if (mac12) {
		CHECKF(xc(d, "%s/dm:device", P) == 1, "dm:device count %d", xc(d, "%s/dm:device", P));
		CHECK(xc(d, "%s/pidf:tuple", P) == 0);
		snprintf(H, sizeof H, "%s/dm:device", P);
		snprintf(G, sizeof G, "%s/gp:geopriv", H);
		ns = "dm";
		char want[40];
		snprintf(want, sizeof want, "mac:%s", mac12);
		CHECK_X(d, want, "%s/dm:deviceID", H);
		CHECK(xc(d, "%s/dm:deviceID", H) == 1);
		CHECK_X(d, "true", "boolean(%s/@id)", H);
	} else {
		CHECKF(xc(d, "%s/pidf:tuple", P) == 1, "tuple count %d", xc(d, "%s/pidf:tuple", P));
		CHECK(xc(d, "%s//dm:*", P) == 0);
		snprintf(H, sizeof H, "%s/pidf:tuple", P);
		snprintf(G, sizeof G, "%s/pidf:status/gp:geopriv", H);
		ns = "pidf";
		CHECK_X(d, "true", "boolean(%s/@id)", H);
	}
	if (!CHECKF(xc(d, "%s", G) == 1, "no geopriv at %s", G))
		return;
	/* RFC 5491 §3: one location per geopriv, here the civic address of loc_key */
	CHECK(xc(d, "%s/gp:location-info/*", G) == 1);
	char CA[700];
	snprintf(CA, sizeof CA, "%s/gp:location-info/ca:civicAddress", G);
	if (!CHECKF(xc(d, "%s", CA) == 1, "no civicAddress (want %s)", loc_key))
		return;
	const char *lang = loc_cell[li][2];
	if (lang && *lang)
		CHECK_X(d, lang, "%s/@xml:lang", CA);
	int n_present = 0;
	for (int c = FIRST_CIVIC; c < n_cols; c++) {
		const char *v = loc_cell[li][c];
		if (v && *v) {
			n_present++;
			char *got = xs(d, "%s/ca:%s", CA, col_name[c]);
			CHECKF(strcmp(got, v) == 0, "%s ca:%s is \"%s\", want \"%s\"", loc_key,
			       col_name[c], got, v);
			free(got);
			CHECK(xc(d, "%s/ca:%s", CA, col_name[c]) == 1);
		} else {
			CHECKF(xc(d, "%s/ca:%s", CA, col_name[c]) == 0, "%s: unexpected ca:%s",
			       loc_key, col_name[c]);
		}
	}
	CHECKF(xc(d, "%s/*", CA) == n_present, "civicAddress has %d elements, want %d",
	       xc(d, "%s/*", CA), n_present);
	/* method says which source answered (RFC 4119 §2.2.3) */
	CHECK_X(d, method, "%s/gp:method", G);
	CHECK(xc(d, "%s/gp:method", G) == 1);
	CHECK_X(d, "true", "%s/gp:usage-rules/gbp:retransmission-allowed", G);
	char *re = xs(d, "%s/gp:usage-rules/gbp:retention-expiry", G);
	CHECKF(th_is_datetime(re), "retention-expiry \"%s\"", re);
	free(re);
	/* when the target was located: now (doc/protocol.md "Usage rules, method and timestamp") */
	char *ts = xs(d, "%s/%s:timestamp", H, ns);
	time_t t = th_parse_datetime(ts), now = time(NULL);
	CHECKF(t != (time_t)-1 && t > now - 120 && t < now + 120, "timestamp \"%s\"", ts);
	free(ts);
	/* a fallback is never presented as if it were precise */
	int n_notes = xc(d, "%s/%s:note", H, ns);
	if (fallback) {
		if (CHECKF(n_notes >= 1, "fallback answer (%s) without a note", loc_key)) {
			char *note = xs(d, "%s/%s:note", H, ns);
			CHECKF(has_word_fallback(note), "note \"%s\" does not say fallback", note);
			free(note);
			CHECK_X(d, "en", "%s/%s:note/@xml:lang", H, ns);
		}
	} else {
		for (int i = 1; i <= n_notes; i++) {
			char *note = xs(d, "%s/%s:note[%d]", H, ns, i);
			CHECKF(!has_word_fallback(note), "precise answer with note \"%s\"", note);
			free(note);
		}
	}
}

void ck_expect_at(struct ck_env *e, const char *req, const char *local_addr,
		  const struct th_cert *cert, const char *loc_key, const char *method,
		  const char *mac12, bool fallback, const char *file, int line)
{
	struct th_resp r;
	int before = ck_fails;
	th_held_post_cert_at(&e->lisd, &e->tls, req, local_addr, cert, &r, file, line);
	xmlDocPtr d = ck_held_located(&r);
	if (d) {
		ck_pidf(d, "/held:locationResponse/pidf:presence", loc_key, method, mac12, fallback);
		CHECK(xp_count(d, "/held:locationResponse/held:locationUriSet") == 0);
		xmlFreeDoc(d);
	}
	if (ck_fails != before || getenv("CK_DUMP"))
		t_diag("answer from %s: %s", local_addr ? local_addr : "127.0.0.1", th_flat(r.body));
	th_resp_free(&r);
}

char *ck_expect_error_at(struct ck_env *e, const char *req, const char *local_addr,
			 const struct th_cert *cert, const char *code, const char *file,
			 int line)
{
	struct th_resp r;
	th_held_post_cert_at(&e->lisd, &e->tls, req, local_addr, cert, &r, file, line);
	ck_held_error(&r, code);
	char *body = r.body ? strdup(r.body) : strdup("");
	th_resp_free(&r);
	return body;
}

struct log_needles {
	const struct th_lisd *l;
	const char *s[16];
	int n;
};

static void needles_from(struct log_needles *nd, const struct th_lisd *l, va_list ap)
{
	const char *s;
	nd->l = l;
	nd->n = 0;
	while (nd->n < 16 && (s = va_arg(ap, const char *)) != NULL)
		nd->s[nd->n++] = s;
}

static bool log_has_line(void *ctx);

/* Has the log (wait: or gets it within 30 s) a line holding the needles of ap? */
static bool log_check(const struct th_lisd *l, bool wait, va_list ap)
{
	struct log_needles nd;
	needles_from(&nd, l, ap);
	return log_has_line(&nd) || (wait && th_wait_until(30, 20, log_has_line, &nd, NULL));
}

/* th_wait_until(): does the log have a line holding every needle? */
static bool log_has_line(void *ctx)
{
	const struct log_needles *nd = ctx;
	char *log = th_lisd_log(nd->l);
	bool found = false;
	for (char *save = NULL, *line = strtok_r(log, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		bool all = true;
		for (int i = 0; i < nd->n && all; i++)
			all = strstr(line, nd->s[i]) != NULL;
		found = all;
	}
	free(log);
	return found;
}

bool ck_log_has(const struct th_lisd *l, ...)
{
	va_list ap;
	va_start(ap, l);
	bool has = log_check(l, true, ap);
	va_end(ap);
	return has;
}

bool ck_log_lacks(const struct th_lisd *l, ...)
{
	va_list ap;
	va_start(ap, l);
	bool has = log_check(l, false, ap);
	va_end(ap);
	return !has;
}

void ck_log_tail(const struct th_lisd *l, size_t n)
{
	char *log = th_lisd_log(l);
	size_t len = strlen(log);
	t_diag("lisd log tail: %s", th_flat(len > n ? log + len - n : log));
	free(log);
}

char *ck_which_at(struct ck_env *e, const struct th_lisd *l, const char *req,
		  const char *local_addr, const char *file, int line)
{
	struct th_resp r;
	th_held_post_cert_at(l, &e->tls, req, local_addr, NULL, &r, file, line);
	char out[200] = "";
	xmlDocPtr d = r.curl_code == 0 ? xp_parse(r.body, r.body_len) : NULL;
	if (r.curl_code != 0) {
		snprintf(out, sizeof out, "curl:%d", r.curl_code);
	} else if (!d) {
		snprintf(out, sizeof out, "http:%ld", r.status);
	} else if (xp_count(d, "/held:error") == 1) {
		char *c = xp_str(d, "/held:error/@code");
		snprintf(out, sizeof out, "error:%s", c);
		free(c);
	} else {
		read_locations();
		for (int i = 0; i < n_locs && !out[0]; i++) {
			bool match = true;
			for (int c = FIRST_CIVIC; c < n_cols && match; c++) {
				char *got = xs(d, "//ca:civicAddress/ca:%s", col_name[c]);
				const char *want = loc_cell[i][c] ? loc_cell[i][c] : "";
				match = strcmp(got, want) == 0;
				free(got);
			}
			if (match)
				snprintf(out, sizeof out, "%s", loc_cell[i][0]);
		}
	}
	xmlFreeDoc(d);
	th_resp_free(&r);
	return strdup(out);
}

bool ck_answers(void *ctx)
{
	struct ck_answer *c = ctx;
	char *w = ck_which(c->e, c->l, ck_req("civic", false), c->from);
	bool ok = strcmp(w, c->want) == 0;
	free(w);
	return ok;
}

char *ck_method(struct ck_env *e, const struct th_lisd *l, const char *from)
{
	struct th_resp r;
	th_held_post(l, &e->tls, ck_req("civic", false), from, &r);
	xmlDocPtr d = r.body ? xp_parse(r.body, r.body_len) : NULL;
	char *out = NULL;
	if (d && xp_count(d, "/held:error") == 1) {
		char *code = xp_str(d, "/held:error/@code");
		size_t n = strlen(code ? code : "") + 8;
		out = malloc(n);
		if (out)
			snprintf(out, n, "error:%s", code ? code : "");
		free(code);
	} else if (d) {
		out = xp_str(d, "/held:locationResponse/pidf:presence/pidf:tuple/pidf:status/"
			     "gp:geopriv/gp:method");
	}
	if (d)
		xmlFreeDoc(d);
	th_resp_free(&r);
	return out ? out : strdup("");
}

bool ck_answers_method(void *ctx)
{
	struct ck_answer *c = ctx;
	char *got = ck_method(c->e, c->l, c->from);
	bool ok = strcmp(got, c->want) == 0;
	free(got);
	return ok;
}

void ck_lisctl_ok(const char *what, const struct th_proc *p)
{
	CHECKF(p->status == 0, "%s: exit %d: %s %s", what, p->status, th_flat(p->out),
	       th_flat(p->err));
}

int ck_loads(const struct th_lisd *l)
{
	char *log = th_lisd_log(l);
	int n = 0;
	for (const char *p = log; p && (p = strstr(p, "loaded trigger=")); p++)
		n++;
	free(log);
	return n;
}
