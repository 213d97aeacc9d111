/* held_write_response() and pidf_write() (proto/held_write.h, the answer path) against the
 * tree builders they replace, held_build_response() and pidf_build(): byte for byte, over
 * every location of the sample wiremap (deploy/sample/locations.csv) and of the CSV
 * fixture (tests/data/csv/locations.csv), plus locations made to be awkward (text to escape,
 * non-ASCII, no xml:lang, altitude, no uncertainty, one form only, values the builders
 * refuse), each put in a snapshot and read back through wm_pidf_fill() and the fragment
 * cached on the location (wm_pidf_frag()), and every answer a request can ask for: requests
 * parsed by held_parse_request() with each locationType list (any, each form, each order),
 * exact true and false, each responseTime, with and without a device to echo, with and
 * without a location URI possible; methods, fallback notes, a MAC named or not, entities
 * and times. Any byte that differs fails the test, and the first difference is shown. */
#include "check.h"
#include "ctl.h"
#include "held.h"
#include "held_write.h"
#include "pidf_tree.h"
#include "schema_check.h"
#include "wm_builder.h"
#include "wm_pidf.h"
#include "wm_resolve.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOCS 64

static const char *top = ".";
static struct wm_snapshot *snap;
static const struct wm_location *locs[MAX_LOCS];
static size_t n_locs;
static unsigned long compared, refused, validated;

/* ---------------------------------------------------------------- the wiremap */

struct maker {
	struct wm_builder *b;
	const struct db_snapshot_sink *k;
	long long next_id;
};

static void put_location(struct maker *m, const struct db_rec_location *r)
{
	struct lis_error err = { 0 };
	char prefix[32];
	struct db_rec_location x = *r;
	x.id = m->next_id++;
	x.site_id = 1;
	CHECKF(m->k->location(m->k->ctx, &x, &err) == 0, "location %s: %s", r->key, err.msg);
	/* each location reachable by an address of its own: 10.0.<id>.0/24 */
	snprintf(prefix, sizeof prefix, "10.0.%lld.0/24", x.id);
	struct db_rec_subnet s = { .prefix = prefix, .location_id = x.id };
	CHECKF(m->k->subnet(m->k->ctx, &s, &err) == 0, "subnet %s: %s", prefix, err.msg);
}

static void load_csv(struct maker *m, const char *rel)
{
	char path[4096];
	struct ctl_file f;
	struct ctl_errors errs;
	memset(&errs, 0, sizeof errs);
	snprintf(path, sizeof path, "%s/%s", top, rel);
	if (!CHECKF(ctl_load(DB_LOCATIONS, path, CTL_FORMAT_AUTO, &f, &errs) == 0,
		    "%s does not load", path)) {
		ctl_file_free(&f);
		return;
	}
	CHECKF(f.n > 0, "%s has no locations", path);
	const struct db_location_row *rows = f.rows;
	for (size_t i = 0; i < f.n; i++) {
		struct db_rec_location r = { .key = rows[i].key, .lang = rows[i].lang,
					     .has_geo = rows[i].has_geo, .lat = rows[i].lat,
					     .lon = rows[i].lon, .has_alt = rows[i].has_alt,
					     .alt = rows[i].alt,
					     .uncertainty = rows[i].uncertainty };
		memcpy(r.civic, rows[i].civic, sizeof r.civic);
		put_location(m, &r);
	}
	/* the builder copies every string */
	ctl_file_free(&f);
}

/* Locations the sample does not have: every character text and attributes escape,
 * non-ASCII, no language, 3-D shapes, a point without uncertainty, one form only, values
 * on the edge of the rounding, and values the builders refuse (a bad language tag, a latitude
 * out of range, text that is not XML) which must fall back to the tree builder. */
static const struct db_rec_location awkward[] = {
	{ .key = "escapes", .lang = "en-GB", .civic[CIVIC_COUNTRY] = "GB",
	  .civic[CIVIC_A1] = "Tom & Jerry's <\"county\">",
	  .civic[CIVIC_A3] = "Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac",
	  .civic[CIVIC_LOC] = "line one\nline two\r\n\ttabbed > done",
	  .civic[CIVIC_NAM] = "]]> & &amp; &#13;", .civic[CIVIC_ROOM] = "  spaced  ",
	  .has_geo = true, .lat = -33.8688197, .lon = 151.2092955, .has_alt = true, .alt = 58.25,
	  .uncertainty = 3.5 },
	{ .key = "no-lang-point", .civic[CIVIC_COUNTRY] = "US", .civic[CIVIC_HNO] = "1",
	  .has_geo = true, .lat = 0.00000005, .lon = -0.00000004 },
	{ .key = "geo-only-3d-point", .has_geo = true, .lat = 90, .lon = -180, .has_alt = true,
	  .alt = -12.0005 },
	{ .key = "geo-only-circle", .has_geo = true, .lat = 47.123456789, .lon = 8.5,
	  .uncertainty = 1000000.0004 },
	{ .key = "bad-lang", .lang = "not a tag", .civic[CIVIC_COUNTRY] = "US", .has_geo = true,
	  .lat = 1, .lon = 2 },
	{ .key = "bad-text", .civic[CIVIC_COUNTRY] = "US", .civic[CIVIC_A1] = "bell\a" },
	{ .key = "bad-latitude", .civic[CIVIC_COUNTRY] = "US", .has_geo = true, .lat = 91 },
};

/* Locations the sample does not have (the table above, then one with every civic field):
 * every character text and attributes escape, non-ASCII, no language, 3-D shapes, a point
 * without uncertainty, one form only, values on the edge of the rounding, and values the
 * builders refuse (a bad language tag, text that is not XML, a latitude out of range),
 * which the writer must leave to the tree builder. */
static void add_awkward(struct maker *m)
{
	for (size_t i = 0; i < sizeof awkward / sizeof awkward[0]; i++)
		put_location(m, &awkward[i]);
	struct db_rec_location r = { .key = "civic-only-every-field", .lang = "de" };
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		r.civic[f] = civic_field_name((enum civic_field)f);
	r.civic[CIVIC_COUNTRY] = "DE";
	put_location(m, &r);
}

static void build_world(void)
{
	struct lis_error err = { 0 };
	struct maker m = { .b = wm_builder_new(), .next_id = 1 };
	if (!m.b)
		return;
	m.k = wm_builder_sink(m.b);
	struct db_rec_site site = { .id = 1, .key = "site", .name = "site" };
	CHECK(m.k->site(m.k->ctx, &site, &err) == 0);
	load_csv(&m, "deploy/sample/locations.csv");
	load_csv(&m, "tests/data/csv/locations.csv");
	add_awkward(&m);
	snap = wm_builder_finish(m.b, &err);
	wm_builder_free(m.b);
	if (!CHECKF(snap != NULL, "snapshot: %s", err.msg))
		return;
	for (long long id = 1; id < m.next_id && n_locs < MAX_LOCS; id++) {
		char ip[32];
		snprintf(ip, sizeof ip, "10.0.%lld.1", id);
		const struct wm_location *l = wm_lookup_subnet(snap, ip, NULL, 0);
		if (CHECKF(l != NULL, "no location at %s", ip))
			locs[n_locs++] = l;
	}
}

/* ---------------------------------------------------------------- comparing */

/* The first difference, with some context, for the diagnostic. */
static void show_difference(const char *want, size_t want_len, const char *got, size_t got_len)
{
	size_t i = 0;
	while (i < want_len && i < got_len && want[i] == got[i])
		i++;
	size_t from = i > 60 ? i - 60 : 0;
	t_diag("first difference at byte %zu (tree %zu bytes, writer %zu bytes)", i, want_len,
	       got_len);
	t_diag("  tree:   \"%.*s\"", (int)((want_len > from ? want_len - from : 0) < 120
					      ? want_len - from : 120), want + from);
	t_diag("  writer: \"%.*s\"", (int)((got_len > from ? got_len - from : 0) < 120
					      ? got_len - from : 120), got + from);
}

/* Write with the writer into a buffer of cap bytes, growing it as the writer asks. */
static int write_doc(bool held, const struct held_uri_set *uris, const struct pidf_doc *pd,
		     const struct pidf_frag *frag, const struct held_device *dev, char **buf,
		     size_t *len, size_t cap)
{
	struct held_out o = { .buf = malloc(cap), .cap = cap };
	int rc;
	for (;;) {
		if (!o.buf)
			return -2;
		rc = held ? held_write_response(uris, pd, frag, dev, &o) : pidf_write(pd, frag, &o);
		if (rc != 1)
			break;
		CHECKF(o.len >= o.cap, "too small, yet len %zu < cap %zu", o.len, o.cap);
		free(o.buf);
		o.cap = o.len + 1;
		o.buf = malloc(o.cap);
	}
	*buf = o.buf;
	*len = o.len;
	return rc;
}

/* One document both ways; a writer that refuses must face a builder that refuses too. */
static void compare(const char *what, bool held, const struct held_uri_set *uris,
		    const struct pidf_doc *pd, const struct pidf_frag *frag,
		    const struct held_device *dev, size_t cap)
{
	struct lis_error err = { 0 };
	char *want = NULL, *got = NULL;
	size_t want_len = 0, got_len = 0;
	int trc = held ? held_build_response(uris, pd, dev, &want, &want_len, &err)
		       : pidf_build(pd, &want, &want_len, &err);
	int wrc = write_doc(held, uris, pd, frag, dev, &got, &got_len, cap);
	if (wrc == -1) {
		refused++;
		CHECKF(trc < 0, "%s: the writer refused what the tree builder wrote", what);
	} else if (trc < 0) {
		CHECKF(false, "%s: the writer wrote what the tree builder refused (%s)", what,
		       err.msg);
	} else {
		compared++;
		bool same = want_len == got_len && memcmp(want, got, want_len) == 0;
		if (!CHECKF(same, "%s: the documents differ", what))
			show_difference(want, want_len, got, got_len);
		CHECK(strlen(got) == got_len);
		/* a sample of them through the schemas too (the tree's output is checked in
		 * test_held_build): every 97th */
		if (same && compared % 97 == 0) {
			validated++;
			CHECK_SCHEMA_VALID(got, got_len);
		}
	}
	free(want);
	free(got);
}

/* ---------------------------------------------------------------- requests */

static const char *const loctype_lists[] = {
	NULL, "civic", "geodetic", "locationURI", "civic geodetic", "geodetic civic",
	"civic locationURI", "locationURI civic", "geodetic locationURI", "locationURI geodetic",
	"civic geodetic locationURI", "civic locationURI geodetic", "geodetic civic locationURI",
	"geodetic locationURI civic", "locationURI civic geodetic", "locationURI geodetic civic",
	"any",
};
static const char *const response_times[] = { NULL, "emergencyRouting", "emergencyDispatch",
					      "8000" };
static const char *const devices[] = {
	NULL,
	"<ip v=\"4\">192.0.2.7</ip>",
	"<ip v=\"6\">2001:db8::7</ip><mac>00:50:b6:a1:c2:d3</mac>",
	"<mac>00-50-B6-A1-C2-D3</mac><uri>sip:alice&amp;bob@example.com</uri>"
	"<uri>tel:+15551234567</uri>",
};

static bool parse_request(const char *loctypes, bool exact, const char *rt, const char *device,
			  struct held_request *req)
{
	char body[2048];
	struct lis_error err = { 0 };
	char lt[256] = "", rta[64] = "", dev[1024] = "";
	if (loctypes)
		snprintf(lt, sizeof lt, "<locationType exact=\"%s\">%s</locationType>",
			 exact ? "true" : "false", loctypes);
	if (rt)
		snprintf(rta, sizeof rta, " responseTime=\"%s\"", rt);
	if (device)
		snprintf(dev, sizeof dev,
			 "<device xmlns=\"urn:ietf:params:xml:ns:geopriv:held:id\">%s</device>",
			 device);
	snprintf(body, sizeof body, "<?xml version=\"1.0\"?>\n<locationRequest xmlns="
		 "\"urn:ietf:params:xml:ns:geopriv:held\"%s>%s%s</locationRequest>", rta, lt, dev);
	memset(req, 0, sizeof *req);
	return CHECKF(held_parse_request(body, strlen(body), NULL, req, &err) == 0,
		      "request does not parse: %s: %s", err.msg, body);
}

/* What varies per answer besides the forms, chosen by a counter so that every value meets
 * every form over the run. */
struct answer_kind {
	const char *method, *note, *entity;
	bool has_mac, name_device, retransmission;
	time_t now;
};

static const char *const methods[] = { "Wiremap", "802.11", "Manual", NULL, "",
				       "DHCP <&> \"x\"" };
static const char *const notes[] = {
	"", "fallback: the subnet 10.1.0.0/16 of site hq, not the device's own location",
	"client-reported AP 00:11:22:33:44:55 <unverified> & \"quoted\"\r\nsecond line",
};
static const char *const entities[] = {
	"pres:0123456789abcdef0123456789abcdef@lis.example.com",
	"pres:x@lis.\xc3\xa9xample.com",
	"pres:a&b<c>\"d\"\te\nf\r@example",
};
static const time_t times[] = {
	1700000000, 0, 951782400 /* 2000-02-29 */, 4107542399 /* 2100-02-28T23:59:59 */,
	-86401, 253402300799 - 86400 * 30 /* 9999-12-01 */, 253402300799 + 1 /* year 10000 */,
};

#define N_OF(a) (sizeof (a) / sizeof (a)[0])
/* Every combination once in N_CHOICES consecutive values of i (mixed radix). */
#define N_CHOICES (N_OF(methods) * N_OF(notes) * N_OF(entities) * 2 * 3 * 2 * N_OF(times))

static void pick(unsigned long i, struct answer_kind *k)
{
	k->method = methods[i % N_OF(methods)];
	i /= N_OF(methods);
	k->note = notes[i % N_OF(notes)];
	i /= N_OF(notes);
	k->entity = entities[i % N_OF(entities)];
	i /= N_OF(entities);
	k->has_mac = i % 2;
	i /= 2;
	k->name_device = i % 3 != 0;
	i /= 3;
	k->retransmission = i % 2;
	i /= 2;
	k->now = times[i % N_OF(times)];
}

/* As lis_held.c's build_answer(): the forms given, geodetic first as asked, the per-answer
 * values; then the HELD answer (and the dereference's bare presence) both ways. */
static void answer(size_t li, const struct held_request *req, bool uri_possible,
		   const struct answer_kind *k, const char *label)
{
	const struct wm_location *loc = locs[li];
	unsigned have = (loc->has_civic ? HELD_LT_CIVIC : 0u) | (loc->has_geo ? HELD_LT_GEODETIC : 0u) |
			(uri_possible ? HELD_LT_URI : 0u);
	struct held_loctypes give;
	if (held_negotiate(&req->loctypes, req->exact, have, &give, NULL) != HELD_OK)
		return;
	unsigned bits = held_loctypes_bits(&give);

	struct wm_result res;
	memset(&res, 0, sizeof res);
	res.loc = loc;
	res.method = k->method;
	snprintf(res.note, sizeof res.note, "%s", k->note);
	res.has_mac = k->has_mac;
	memcpy(res.mac, "\x00\x50\xb6\xa1\xc2\xd3", 6);
	struct wm_pidf wp;
	wm_pidf_fill(&res, true, true, &wp);
	if (k->name_device)
		wm_pidf_name_device(&wp);
	struct pidf_doc *doc = &wp.doc;
	if (!(bits & HELD_LT_CIVIC))
		doc->civic = NULL;
	if (!(bits & HELD_LT_GEODETIC))
		doc->geo = NULL;
	doc->geodetic_first = false;
	for (size_t i = 0; i < give.n; i++)
		if (give.form[i] & (HELD_LT_CIVIC | HELD_LT_GEODETIC)) {
			doc->geodetic_first = give.form[i] == HELD_LT_GEODETIC;
			break;
		}
	doc->entity = k->entity;
	doc->timestamp = k->now;
	doc->retransmission_allowed = k->retransmission;
	doc->retention_expiry = k->now + 86400;

	const char *uris[2] = { "https://lis.example.com/loc/AbC-_9?x=1&y=<2>",
				"https://lis.example.com/loc/second" };
	struct held_uri_set set = { .expires = k->now + 1800, .n = 1 + (k->now & 1),
				    .uris = uris };
	struct held_device echo = { .n = req->n_ids, .ids = req->given };
	bool by_value = bits & (HELD_LT_CIVIC | HELD_LT_GEODETIC);
	const struct pidf_frag *frag = wm_pidf_frag(snap, loc);
	CHECK(frag != NULL);
	CHECK(frag == wm_pidf_frag(snap, loc));     /* made once, then kept */

	char what[512];
	snprintf(what, sizeof what, "%s location %s (%s)", label, loc->key, "held");
	/* a buffer too small for any answer first, then one that fits, as lisd grows its own */
	compare(what, true, bits & HELD_LT_URI ? &set : NULL, by_value ? doc : NULL, frag,
		req->has_device ? &echo : NULL, compared % 2 ? 64 : 16384);
	if (by_value) {
		snprintf(what, sizeof what, "%s location %s (pidf)", label, loc->key);
		compare(what, false, NULL, doc, frag, NULL, 16384);
	}
}

static void test_every_location_every_request_same_bytes_as_the_tree(void)
{
	unsigned long i = 0;
	char label[256];
	if (!CHECK(snap != NULL && n_locs > 0))
		return;
	for (size_t lt = 0; lt < sizeof loctype_lists / sizeof loctype_lists[0]; lt++)
		for (int exact = 0; exact < 2; exact++)
			for (size_t rt = 0; rt < sizeof response_times / sizeof response_times[0];
			     rt++)
				for (size_t dv = 0; dv < sizeof devices / sizeof devices[0]; dv++) {
					struct held_request req;
					if (!parse_request(loctype_lists[lt], exact, response_times[rt],
							   devices[dv], &req))
						continue;
					for (size_t li = 0; li < n_locs; li++)
						for (int up = 0; up < 2; up++) {
							struct answer_kind k;
							pick(i++, &k);
							snprintf(label, sizeof label,
								 "locationType=\"%s\" exact=%d rt=%s "
								 "device=%zu uri=%d",
								 loctype_lists[lt] ? loctype_lists[lt]
										   : "(absent)",
								 exact, response_times[rt]
									? response_times[rt] : "-",
								 dv, up);
							answer(li, &req, up, &k, label);
						}
				}
	t_diag("%lu documents compared byte for byte, %lu refused by both, %lu schema-checked",
	       compared, refused, validated);
	CHECK(compared > 10000);
	CHECK(refused > 0);
}

/* Every value of every per-answer choice with every form, on the sample's first location. */
static void test_every_answer_choice_on_one_location(void)
{
	if (!CHECK(snap != NULL && n_locs > 0))
		return;
	struct held_request req;
	const char *lists[] = { "civic geodetic locationURI", "geodetic civic", "civic",
				"geodetic", NULL };
	for (size_t lt = 0; lt < sizeof lists / sizeof lists[0]; lt++) {
		if (!parse_request(lists[lt], false, NULL, devices[2], &req))
			continue;
		for (unsigned long i = 0; i < N_CHOICES; i++) {
			struct answer_kind k;
			pick(i, &k);
			answer(0, &req, i % 2, &k, "choices");
		}
	}
}

/* held_write_time() is pidf_format_time() without gmtime_r and printf: the same text, and
 * the same range, over four centuries of days and the edges. */
static void test_time_text_same_as_gmtime(void)
{
	char a[32], b[32];
	unsigned bad = 0;
	for (long long t = -62135596800LL - 86400; t < 253402300800LL + 86400 * 2;
	     t += 86400 * 7 + 3601) {
		int ra = pidf_format_time(a, sizeof a, (time_t)t);
		int rb = held_write_time(b, (time_t)t);
		if (ra != rb || (ra == 0 && strcmp(a, b) != 0)) {
			if (bad++ < 5)
				t_diag("t=%lld: gmtime %d \"%s\", writer %d \"%s\"", t, ra,
				       ra ? "" : a, rb, rb ? "" : b);
		}
	}
	CHECKF(bad == 0, "%u times differ", bad);
	const long long edges[] = { -62135596800LL, -62135596801LL, 253402300799LL,
				    253402300800LL, 0, -1, 951782400, 951868799 };
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		int ra = pidf_format_time(a, sizeof a, (time_t)edges[i]);
		int rb = held_write_time(b, (time_t)edges[i]);
		CHECKF(ra == rb && (ra != 0 || strcmp(a, b) == 0), "t=%lld", edges[i]);
	}
}

static void done(void)
{
	wm_snapshot_free(snap);
	sc_free();
	xmlCleanupParser();
}

int main(int argc, char **argv)
{
	xmlInitParser();
	if (argc > 1)
		top = argv[1];
	t_at_done(done);
	build_world();
	t_run("test_every_location_every_request_same_bytes_as_the_tree",
	      test_every_location_every_request_same_bytes_as_the_tree);
	t_run("test_every_answer_choice_on_one_location", test_every_answer_choice_on_one_location);
	t_run("test_time_text_same_as_gmtime", test_time_text_same_as_gmtime);
	return t_done();
}
