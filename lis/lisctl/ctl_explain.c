/* `lisctl explain`: the administrator's test mode. Loads the wiremap snapshot as lisd does,
 * resolves one target, and prints the walk: every piece of evidence with its age and origin,
 * which one won and why, any disagreement between sites, and the PIDF-LO lisd would send
 * for a locationRequest without locationType. Exit 0 located, 3 not located, 1 error. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_explain.h"
#include "pidf.h"
#include "wm_pidf.h"
#include "wm_resolve.h"
#include "ident.h"

#define EXPLAIN_EXIT_NOT_LOCATED 3
#define RETENTION (24 * 3600)

/* The target options are the kinds of identity the resolver locates by (proto/ident.h):
 * --ip, --mac, --uri (SIP), --tel. */
void ctl_explain_usage(FILE *out)
{
	fprintf(out, "usage: lisctl explain (");
	for (int k = 0, n = 0; k < IDENT_N_KINDS; k++)
		if (wm_resolve_locates_by((enum ident_kind)k))
			fprintf(out, "%s--%s VALUE", n++ ? " | " : "",
				ident_kind_info((enum ident_kind)k)->name);
	fprintf(out, ") [--bssid B]\n"
		     "                      [--max-binding-age S]\n");
}

/* "seen 2 min ago": coarse on purpose, an administrator reads it at a glance. */
static void format_age(time_t now, time_t then, char *buf, size_t size)
{
	if (then > now) {
		snprintf(buf, size, "seen %lld s in the future (clock skew?)", (long long)(then - now));
		return;
	}
	long long d = (long long)(now - then);
	if (d < 120)
		snprintf(buf, size, "seen %lld s ago", d);
	else if (d < 7200)
		snprintf(buf, size, "seen %lld min ago", d / 60);
	else if (d < 2 * 86400)
		snprintf(buf, size, "seen %lld h ago", d / 3600);
	else
		snprintf(buf, size, "seen %lld days ago", d / 86400);
}

static const char *why(enum wm_source s)
{
	switch (s) {
	case WM_SRC_PORT:
		return "a switch port is the most precise evidence there is";
	case WM_SRC_SWITCH:
		return "the device's switch port has no location of its own, so its switch's "
		       "location answers; nothing more precise was found";
	case WM_SRC_BSSID:
		return "no fresh switch-port evidence; the Wi-Fi access point is the next most "
		       "precise";
	case WM_SRC_STATIC:
		return "no fresh switch-port or Wi-Fi evidence; the endpoint's static assignment "
		       "answers";
	case WM_SRC_CLIENT_BSSID:
		return "no switch-port, Wi-Fi binding or static evidence; the access point the "
		       "client reported answers, because the network's evidence puts the device "
		       "in the same site";
	case WM_SRC_SUBNET:
		return "no switch-port, Wi-Fi or static evidence; the subnet answers (a fallback)";
	case WM_SRC_SITE_DEFAULT:
		return "nothing more precise; the site's policy allows its default location "
		       "(a fallback)";
	case WM_SRC_DECLARED:
		return "no office location counts for this target; the user's declared civic "
		       "address answers (RAY BAUM'S Act, 47 CFR 9.16(b))";
	case WM_SRC_NONE:
		break;
	}
	return "";
}

static void print_location(const struct wm_location *l)
{
	if (!l->site) {
		printf("%s (declared, no site)", l->key ? l->key : "?");
		return;
	}
	printf("%s (site %s)", l->key ? l->key : "?", l->site->key ? l->site->key : "?");
}

/* The class policy that decided, and where the target is (47 CFR 9.16(b)). */
static void print_policy(const struct wm_result *r, unsigned max_age)
{
	const struct wm_class *c = r->cls ? r->cls : &wm_class_none;
	static const struct {
		unsigned bit;
		const char *name;
	} kinds[] = {{WM_EV_PORT, "port"}, {WM_EV_BSSID, "bssid"}, {WM_EV_STATIC, "static"},
		     {WM_EV_SUBNET, "subnet"}, {WM_EV_DECLARED, "declared"}};
	printf("class: %s (from %s); counts:", c->key, r->class_how);
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (c->evidence & kinds[i].bit)
			printf(" %s", kinds[i].name);
	printf("; bindings up to %u s old", c->max_binding_age ? c->max_binding_age : max_age);
	if (c->reconfirm_interval)
		printf("; declarations confirmed within %u s", c->reconfirm_interval);
	printf("; with nothing fresh: %s\n", wm_no_fresh_name(c->no_fresh));
	if (r->user)
		printf("user: %s\n", r->user);
	if (r->deactivated)
		printf("deactivated endpoint: %s (located as an unknown device)\n",
		       r->deactivated->key);
	if (r->user_deactivated && !r->user)
		printf("deactivated user: %s (no declared location, no VPN binding used)\n",
		       r->user_deactivated);
	if (r->premises[0])
		printf("premises: %s\n", r->premises);
}

const char *ctl_evidence_state(const struct wm_evidence *e)
{
	if (e->stale && e->source == WM_SRC_DECLARED)
		return e->chosen ? "stale, chosen: the class answers the last declaration, "
				   "unconfirmed"
				 : "stale (expired, or not confirmed again in time): not evidence";
	if (e->text == WM_EVT_ENDPOINT_DEACTIVATED || e->text == WM_EVT_VPN_USER_DEACTIVATED)
		return "deactivated: not evidence";
	if (e->stale && e->origin && strcmp(e->origin, "vpn") == 0)
		return "expired: not evidence";
	if (e->stale)
		return "stale (older than the maximum binding age): not evidence";
	if (e->excluded)
		return "excluded by the policy: not evidence";
	if (e->unverified)
		return "unverified (the client's word alone): not evidence";
	if (e->chosen)
		return "chosen";
	if (e->source == WM_SRC_NONE)
		return "followed";
	if (!e->loc)
		return "leads to no location";
	return "not used (less precise)";
}

void ctl_print_evidence(const struct wm_evidence *e)
{
	char what[WM_EVIDENCE_TEXT_MAX];
	printf("%-12s %s", wm_evidence_step(e), wm_evidence_text(e, what, sizeof what));
	if (e->loc) {
		printf(" -> ");
		print_location(e->loc);
	} else if (e->source != WM_SRC_NONE) {
		printf(" -> no location");
	}
}

static void print_evidence(const struct wm_result *r, time_t now)
{
	printf("evidence, in the order walked:\n");
	if (r->n_evidence == 0)
		printf("  (none: nothing in the wiremap mentions this target)\n");
	for (size_t i = 0; i < r->n_evidence; i++) {
		const struct wm_evidence *e = &r->ev[i];
		printf("  %2zu. ", i + 1);
		ctl_print_evidence(e);
		printf("\n      ");
		if (e->last_seen) {
			char age[64];
			format_age(now, e->last_seen, age, sizeof age);
			printf("%s, origin %s; ", age, e->origin ? e->origin : "?");
		} else {
			printf("origin %s; ", e->source == WM_SRC_CLIENT_BSSID
						   ? "the request (RFC 7105 measurement)"
						   : "the wiremap");
		}
		printf("%s\n", ctl_evidence_state(e));
	}
}

static int print_pidf(const struct wm_result *r, bool name_device, time_t now)
{
	char host[256] = "", entity[300];
	if (gethostname(host, sizeof host) < 0 || !host[0] || strchr(host, ' '))
		snprintf(host, sizeof host, "lis.invalid");
	host[sizeof host - 1] = '\0';
	snprintf(entity, sizeof entity, "pres:explain@%s", host);

	struct wm_pidf p;
	/* RFC 5985 §6.2: no locationType means "any": lisd sends every form it has */
	wm_pidf_fill(r, true, true, &p);
	if (name_device)
		wm_pidf_name_device(&p);
	p.doc.entity = entity;
	p.doc.timestamp = now;
	p.doc.retention_expiry = now + RETENTION;
	p.doc.retransmission_allowed = true;
	char *xml = NULL;
	size_t len = 0;
	struct lis_error err = {0};
	if (pidf_build(&p.doc, &xml, &len, &err) < 0) {
		fprintf(stderr, "lisctl: explain: cannot build the PIDF-LO: %s\n", err.msg);
		return -1;
	}
	printf("\nPIDF-LO lisd would return (locationRequest without locationType):\n");
	fwrite(xml, 1, len, stdout);
	if (len && xml[len - 1] != '\n')
		putchar('\n');
	free(xml);
	return 0;
}

int ctl_parse_max_age(const char *cmd, const char *text, unsigned *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v == 0 || v > UINT_MAX || text[0] == '-') {
		fprintf(stderr, "lisctl: %s: --max-binding-age \"%s\" is not a number of seconds "
				"(1..%u)\n", cmd, text, UINT_MAX);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

struct wm_snapshot *ctl_snapshot_open(const char *conninfo, const char *cmd)
{
	struct lis_error err = {0};
	struct db_conn *c = db_connect(conninfo, &err);
	struct wm_snapshot *s;

	if (!c) {
		fprintf(stderr, "lisctl: %s: %s\n", cmd, err.msg);
		return NULL;
	}
	s = wm_snapshot_load(c, NULL, &err);
	db_close(c);
	if (!s)
		fprintf(stderr, "lisctl: %s: loading the wiremap: %s\n", cmd, err.msg);
	return s;
}

/* "--NAME VALUE" for a kind the resolver locates by: the identity, replacing one of the
 * same kind given before. Returns 1 when argv[*i] was such an option, 0 when not, -1 when
 * its value is missing, -2 when it is not of that kind. */
static int take_ident(int argc, char **argv, int *i, struct ident *ids, size_t *n)
{
	for (int k = 0; k < IDENT_N_KINDS; k++) {
		const struct ident_kind_info *ki = ident_kind_info((enum ident_kind)k);
		char opt[32];
		const char *text;
		snprintf(opt, sizeof opt, "--%s", ki->name);
		int took = wm_resolve_locates_by((enum ident_kind)k)
			   ? ctl_take_opt(argc, argv, i, opt, &text) : 0;
		if (took <= 0) {
			if (took < 0)
				return -1;
			continue;
		}
		struct ident id;
		if (ident_parse((enum ident_kind)k, text, &id) < 0) {
			fprintf(stderr, "lisctl: explain: %s \"%s\" is not %s\n", opt, text, ki->what);
			return -2;
		}
		size_t at = 0;
		while (at < *n && ids[at].kind != id.kind)
			at++;
		ids[at] = id;
		*n += at == *n;
		return 1;
	}
	return 0;
}

int ctl_cmd_explain(const struct ctl_settings *set, int argc, char **argv)
{
	struct ident ids[IDENT_N_KINDS];
	struct wm_target t = {.ids = ids};
	const char *age_text = NULL;
	unsigned max_age = set->max_binding_age;

	for (int i = 1; i < argc; i++) {
		int took = take_ident(argc, argv, &i, ids, &t.n_ids);
		if (took == 0)
			took = ctl_take_opt(argc, argv, &i, "--bssid", &t.bssid);
		if (took == 0)
			took = ctl_take_opt(argc, argv, &i, "--max-binding-age", &age_text);
		if (took == -2)
			return CTL_EXIT_FAIL;
		if (took <= 0) {
			if (took == 0)
				fprintf(stderr, "lisctl: explain: unknown option \"%s\"\n", argv[i]);
			ctl_explain_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (t.n_ids == 0) {
		fprintf(stderr, "lisctl: explain: name a target with one of the options below\n");
		ctl_explain_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (age_text && ctl_parse_max_age("explain", age_text, &max_age) < 0)
		return CTL_EXIT_USAGE;

	/* A malformed target is refused before the database is asked anything, with the
	 * checks the real walk makes. */
	struct lis_error err = {0};
	static struct wm_result res;
	struct wm_policy pol = {.now = time(NULL), .max_binding_age = max_age};
	if (wm_target_check(&t, &err) < 0) {
		fprintf(stderr, "lisctl: explain: %s\n", err.msg);
		return CTL_EXIT_FAIL;
	}

	struct wm_snapshot *s = ctl_snapshot_open(set->conninfo, "explain");
	if (!s)
		return CTL_EXIT_FAIL;
	struct wm_snapshot_stats st;
	wm_snapshot_get_stats(s, &st);
	pol.now = time(NULL);
	int rc = wm_resolve(s, &t, &pol, &res, &err);
	if (rc < 0) {
		fprintf(stderr, "lisctl: explain: %s\n", err.msg);
		wm_snapshot_free(s);
		return CTL_EXIT_FAIL;
	}

	printf("target:");
	for (size_t i = 0; i < t.n_ids; i++)
		printf(" %s %s", ident_name(&ids[i]), ids[i].value);
	if (t.bssid)
		printf(" (serving bssid %s)", t.bssid);
	printf("\nwiremap: %zu locations, %zu subnets, %zu switches, %zu ports, %zu bssids, "
	       "%zu endpoints, %zu bindings; loaded in %.1f ms\n", st.locations, st.subnets,
	       st.switches, st.ports, st.bssids, st.endpoints,
	       st.bind_mac_port + st.bind_ip_mac + st.bind_mac_bssid, st.load_ms);
	printf("users: %zu endpoint classes, %zu current declared locations, %zu VPN bindings\n",
	       st.classes, st.declared, st.vpn);
	printf("bindings older than %u s are not evidence (unless the class says otherwise)\n",
	       max_age);
	printf("chain: ip -> mac (ip-mac bindings), uri/tel -> endpoint -> mac; then, most "
	       "precise first: switch port, bssid, static, subnet, site default, declared\n");
	print_policy(&res, max_age);
	printf("\n");
	if (res.has_mac) {
		char m[18];
		ident_mac_format(res.mac, m);
		printf("mac of the device: %s\n", m);
	}
	print_evidence(&res, pol.now);
	printf("\n");

	if (rc == 0) {
		printf("result: not located: %s\n", res.unknown_reason);
		wm_snapshot_free(s);
		return EXPLAIN_EXIT_NOT_LOCATED;
	}
	printf("winner: %s chosen, location ", wm_source_name(res.source));
	print_location(res.loc);
	printf(", method %s\n", res.method);
	printf("why: %s\n", why(res.source));
	if (res.fallback || res.source == WM_SRC_DECLARED)
		printf("note (sent in the PIDF-LO): %s\n", res.note);
	if (res.disagreement)
		printf("disagreement between sites: %s (lisd logs and counts it)\n", res.disagree);
	rc = print_pidf(&res, set->include_device_id, pol.now);
	wm_snapshot_free(s);
	return rc < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
