#include "wmd_poll.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lis_log.h"
#include "wm_collect.h"
#include "wmd_metrics.h"
#include "wm_snmp.h"

struct poll_ctx {
	struct db_conn *db;
	const struct wmd_config *cfg;
	const volatile sig_atomic_t *stop;
	struct wmd_poll_stats *st;
};

static const char *result_name(enum wm_poll_result r)
{
	return r == WM_POLL_OK ? "ok" : r == WM_POLL_TIMEOUT ? "timeout" : "error";
}

/* One line per switch poll (wiremapd(8) LOGGING); the error (when any) comes from wm_snmp
 * or the database layer, neither of which ever puts a credential into words. */
static void log_poll(const struct db_poll_switch *sw, const char *result, size_t rows,
		     size_t macs, size_t moves, const struct wm_collect_result *r, double ms,
		     const char *error)
{
	char name[200], addr[100], ups[600], upv[700], ev[400];
	size_t o = 0;

	ups[0] = '\0';
	for (size_t i = 0; r && i < r->n_uplinks && o < sizeof ups; i++) {
		int n = snprintf(ups + o, sizeof ups - o, "%s%s", i ? "," : "",
				 r->uplinks[i].port_id);
		if (n > 0)
			o += (size_t)n;
	}
	lis_log(error ? LIS_LOG_WARN : LIS_LOG_INFO, "poll",
		"switch=%s address=%s result=%s rows=%zu macs=%zu moves=%zu uplinks=%s ms=%.0f%s%s",
		lis_log_value(name, sizeof name, sw->key),
		lis_log_value(addr, sizeof addr, sw->address), result, rows, macs, moves,
		ups[0] ? lis_log_value(upv, sizeof upv, ups) : "-", ms,
		error ? " error=" : "", error ? lis_log_value(ev, sizeof ev, error) : "");
}

static void record_failure(struct poll_ctx *ctx, const struct db_poll_switch *sw,
			   const char *result, const char *error, double ms)
{
	struct lis_error err = { 0 };
	ctx->st->polled++;
	ctx->st->failed++;
	wmd_metrics_poll(sw->key, result, 0, 0, 0);
	log_poll(sw, result, 0, 0, 0, NULL, ms, error);
	if (db_collect_failed(ctx->db, sw->id, time(NULL), error, ctx->cfg->instance,
			      &err) < 0) {
		char name[200], why[300];
		lis_log(LIS_LOG_ERR, "status", "switch=%s result=failed reason=%s",
			lis_log_value(name, sizeof name, sw->key),
			lis_log_value(why, sizeof why, err.msg));
	}
}

/* wm_collect's observations in the shape db_collect_write takes (strings borrowed). */
static int write_result(struct poll_ctx *ctx, const struct db_poll_switch *sw,
			const struct wm_collect_result *r, time_t at,
			struct db_collect_stats *stats, struct lis_error *err)
{
	struct db_obs_mac_port *mp = calloc(r->n_mac_ports + 1, sizeof *mp);
	struct db_obs_ip_mac *im = calloc(r->n_ip_macs + 1, sizeof *im);
	struct db_obs_lldp *ll = calloc(r->n_lldp + 1, sizeof *ll);
	const char **up = calloc(r->n_uplinks + 1, sizeof *up);
	int rc = -1;

	if (!mp || !im || !ll || !up) {
		lis_error_set(err, LIS_E_SYSTEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->n_mac_ports; i++) {
		memcpy(mp[i].mac, r->mac_ports[i].mac, 6);
		mp[i].port_id = r->mac_ports[i].port_id;
	}
	for (size_t i = 0; i < r->n_ip_macs; i++) {
		im[i].ip = r->ip_macs[i].ip;
		memcpy(im[i].mac, r->ip_macs[i].mac, 6);
	}
	for (size_t i = 0; i < r->n_lldp; i++) {
		const struct wm_obs_lldp *s = &r->lldp[i];
		ll[i] = (struct db_obs_lldp){
			.local_port_id = s->local_port_id,
			.chassis_subtype = s->chassis_subtype, .chassis_id = s->chassis_id,
			.port_subtype = s->port_subtype, .port_id = s->port_id,
			.sys_name = s->sys_name, .sys_capabilities = s->sys_capabilities,
			.is_network_device = s->is_network_device,
		};
		for (int f = 0; f < LLDP_MED_N; f++)
			ll[i].med[f] = s->med[f];
	}
	for (size_t i = 0; i < r->n_uplinks; i++)
		up[i] = r->uplinks[i].port_id;
	struct db_switch_poll poll = {
		.switch_id = sw->id, .at = at, .source = "snmp", .collector = ctx->cfg->instance,
		.mac_ports = mp, .n_mac_ports = r->n_mac_ports,
		.ip_macs = im, .n_ip_macs = r->n_ip_macs,
		.lldp = ll, .n_lldp = r->n_lldp,
		.uplink_ports = up, .n_uplinks = r->n_uplinks,
	};
	rc = db_collect_write(ctx->db, &poll, stats, err);
out:
	free(mp);
	free(im);
	free(ll);
	free(up);
	return rc;
}

/* Called by wm_snmp_poll() as each switch finishes: its tables are written and released at
 * once, so that a cycle over many switches never holds all their tables. */
static void on_done(void *user, const struct wm_snmp_target *target,
		    struct wm_switch_tables *t, void *arg)
{
	struct poll_ctx *ctx = arg;
	const struct db_poll_switch *sw = user;
	(void)target;

	if (t->result != WM_POLL_OK) {
		/* Stopped before its turn: not a failure of the switch, nothing recorded. */
		if (ctx->stop && *ctx->stop && t->requests == 0) {
			ctx->st->not_polled++;
		} else {
			record_failure(ctx, sw, result_name(t->result),
				       t->error[0] ? t->error : "no answer", t->ms);
		}
		wm_switch_tables_clear(t);
		return;
	}

	struct wm_collect_policy policy = {
		.uplink_mac_threshold = (unsigned)ctx->cfg->uplink_mac_threshold,
	};
	struct wm_collect_result r;
	struct lis_error err = { 0 };
	struct db_collect_stats stats = { 0 };
	double ms = t->ms;
	if (wm_collect_bindings(t, &policy, &r, &err) < 0) {
		wm_switch_tables_clear(t);
		record_failure(ctx, sw, "error", err.msg, ms);
		return;
	}
	wm_switch_tables_clear(t);
	if (write_result(ctx, sw, &r, time(NULL), &stats, &err) < 0) {
		/* The poll status is not written either (one transaction): the switch stays
		 * due and is polled again once the database is back. */
		char why[300];
		snprintf(why, sizeof why, "database: %s", err.msg);
		ctx->st->polled++;
		ctx->st->failed++;
		wmd_metrics_poll(sw->key, "error", 0, 0, 0);
		log_poll(sw, "error", 0, 0, 0, &r, ms, why);
	} else {
		ctx->st->polled++;
		ctx->st->ok++;
		ctx->st->moves += stats.moves;
		wmd_metrics_poll(sw->key, "ok", r.n_mac_ports, r.n_ip_macs, r.n_lldp);
		log_poll(sw, "ok", r.n_mac_ports + r.n_ip_macs + r.n_lldp, r.n_mac_ports,
			 stats.moves, &r, ms, NULL);
	}
	wm_collect_result_free(&r);
}

/* Profile -> net-snmp credentials; the security level follows from the passwords given. */
static void cred_of(const struct wmd_snmp_profile *p, struct wm_snmp_cred *c)
{
	*c = (struct wm_snmp_cred){
		.version = p->version,
		.community = p->community,
		.user = p->user,
		.auth_proto = p->auth_password ? p->auth_protocol : NULL,
		.auth_pass = p->auth_password,
		.priv_proto = p->priv_password ? p->priv_protocol : NULL,
		.priv_pass = p->priv_password,
	};
}

int wmd_poll(struct db_conn *db, const struct wmd_config *cfg, const struct db_poll_switch *sw,
	     const size_t *idx, size_t k, const volatile sig_atomic_t *stop,
	     struct wmd_poll_stats *st, struct lis_error *err)
{
	struct poll_ctx ctx = { .db = db, .cfg = cfg, .stop = stop, .st = st };
	struct wm_snmp_cred *creds = calloc(cfg->n_profiles + 1, sizeof *creds);
	struct wm_snmp_target *targets = calloc(k + 1, sizeof *targets);
	struct wm_switch_tables *out = calloc(k + 1, sizeof *out);
	size_t n = 0;
	int rc = -1;

	if (!creds || !targets || !out) {
		lis_error_set(err, LIS_E_SYSTEM, "out of memory for %zu switches", k);
		goto done;
	}
	for (size_t i = 0; i < cfg->n_profiles; i++)
		cred_of(&cfg->profiles[i], &creds[i]);
	for (size_t j = 0; j < k; j++) {
		const struct db_poll_switch *s = &sw[idx[j]];
		const struct wmd_snmp_profile *p = wmd_config_profile(cfg, s->snmp_profile);
		if (!p) {
			char why[200];
			snprintf(why, sizeof why, "no SNMP profile [snmp.%.64s] in wiremapd.conf",
				 s->snmp_profile);
			record_failure(&ctx, s, "error", why, 0);
			continue;
		}
		targets[n++] = (struct wm_snmp_target){
			.name = s->key, .address = s->address, .port = s->snmp_port,
			.cred = &creds[p - cfg->profiles],
			.timeout_ms = (unsigned)cfg->timeout_ms, .retries = (unsigned)cfg->retries,
			.user = (void *)s,
		};
	}
	if (n > 0 && wm_snmp_poll(targets, n, (unsigned)cfg->concurrency, out, on_done, &ctx, stop,
				  err) < 0)
		goto done;
	rc = 0;
done:
	for (size_t j = 0; out && j < n; j++)
		wm_switch_tables_clear(&out[j]);
	free(out);
	free(targets);
	/* The credentials point into the configuration: nothing to wipe here. */
	free(creds);
	return rc;
}
