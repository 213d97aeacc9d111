#include "lis_held.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "db.h"
#include "held.h"
#include "lis_log.h"
#include "pidf.h"
#include "wm_resolve.h"

static const struct lis_config *held_cfg;

/* One database connection per worker thread, made on the thread's first request and closed
 * by the key's destructor when libmicrohttpd ends the thread. */
static pthread_key_t db_key;
static bool db_key_made;

static void db_key_destroy(void *p)
{
	db_close(p);
}

int lis_held_init(const struct lis_config *cfg)
{
	held_cfg = cfg;
	if (!db_key_made) {
		if (pthread_key_create(&db_key, db_key_destroy) != 0)
			return -1;
		db_key_made = true;
	}
	return 0;
}

void lis_held_shutdown(void)
{
	if (db_key_made) {
		/* Threads have exited (their destructors ran); this thread never connects. */
		pthread_key_delete(db_key);
		db_key_made = false;
	}
}

/* The calling thread's connection, (re)connected when missing or broken. *fresh tells
 * whether it was made just now. */
static struct db_conn *thread_db(bool *fresh, struct lis_error *err)
{
	struct db_conn *c = pthread_getspecific(db_key);
	*fresh = false;
	if (c && db_is_ok(c))
		return c;
	if (c) {
		db_close(c);
		pthread_setspecific(db_key, NULL);
	}
	c = db_connect(held_cfg->conninfo, err);
	if (!c)
		return NULL;
	pthread_setspecific(db_key, c);
	*fresh = true;
	return c;
}

/* Resolve with the thread's connection. A connection that sat idle while PostgreSQL
 * restarted still looks fine until its first query fails: then reconnect and try once more,
 * so that every worker thread recovers on its next request, not on the one after. */
static int resolve(const char *ip, struct wm_result *res, struct lis_error *err)
{
	bool fresh;
	struct db_conn *db = thread_db(&fresh, err);
	if (!db)
		return -1;
	int rc = wm_resolve_ip(db, ip, res, err);
	if (rc >= 0 || db_is_ok(db))
		return rc;
	wm_result_clear(res);
	db_close(db);
	pthread_setspecific(db_key, NULL);
	if (fresh)
		return -1;
	db = thread_db(&fresh, err);
	if (!db)
		return -1;
	rc = wm_resolve_ip(db, ip, res, err);
	if (rc < 0 && !db_is_ok(db)) {
		db_close(db);
		pthread_setspecific(db_key, NULL);
	}
	return rc;
}

static int answer_error(enum held_error_code code, const char *message, char **out,
			size_t *out_len, struct lis_held_outcome *oc)
{
	struct lis_error err = { 0 };
	oc->result = held_error_code_name(code);
	oc->internal = code == HELD_E_GENERAL_LIS_ERROR;
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

int lis_held_handle(const char *requester, const char *body, size_t len, char **out,
		    size_t *out_len, struct lis_held_outcome *oc)
{
	struct held_limits limits = { .max_bytes = held_cfg->max_body,
				      .max_depth = HELD_DEFAULT_MAX_DEPTH };
	struct held_request req;
	struct lis_error err = { 0 };
	char msg[256];

	memset(oc, 0, sizeof *oc);
	oc->source = wm_source_name(WM_SRC_NONE);
	memset(&req, 0, sizeof req);

	if (held_parse_request(body, len, &limits, &req, &err) < 0) {
		enum held_error_code code = err.code > HELD_OK && err.code <= HELD_E_BAD_IDENTIFIER
			? (enum held_error_code)err.code : HELD_E_REQUEST_ERROR;
		snprintf(oc->reason, sizeof oc->reason, "%s", err.msg);
		return answer_error(code, err.msg[0] ? err.msg : "the request could not be parsed",
				    out, out_len, oc);
	}

	/* RFC 6155 third-party request: only authorized requesters (SBCs, call servers) may ask
	 * about another device, and lisd has no authorization yet. Refuse without looking the
	 * device up, so the requester learns nothing about it. RFC 6155's badIdentifier covers
	 * an identifier the requester is not authorized to use. */
	if (req.has_device) {
		snprintf(oc->reason, sizeof oc->reason, "third-party request refused");
		return answer_error(HELD_E_BAD_IDENTIFIER,
				    "third-party requests (device identity) are not supported by this LIS yet",
				    out, out_len, oc);
	}

	struct wm_result res;
	memset(&res, 0, sizeof res);
	int rc = resolve(requester, &res, &err);
	if (rc < 0) {
		wm_result_clear(&res);
		snprintf(oc->reason, sizeof oc->reason, "%s", err.msg);
		return answer_error(HELD_E_GENERAL_LIS_ERROR,
				    "the location database is unavailable; try again later",
				    out, out_len, oc);
	}
	if (rc == 0) {
		wm_result_clear(&res);
		snprintf(msg, sizeof msg, "no wiremap entry covers %s", requester);
		snprintf(oc->reason, sizeof oc->reason, "%s", msg);
		return answer_error(HELD_E_LOCATION_UNKNOWN, msg, out, out_len, oc);
	}

	oc->source = wm_source_name(res.source);
	snprintf(oc->location, sizeof oc->location, "%s", res.loc.key ? res.loc.key : "");

	bool have_civic = !civic_address_is_empty(&res.loc.civic);
	bool have_geo = res.loc.has_geo;

	/* RFC 5985 §6.5 locationType. Absent or "any": every form we have. */
	unsigned lt = req.loctypes;
	bool any = lt == 0 || (lt & HELD_LT_ANY);
	bool give_civic, give_geo;
	if (any) {
		give_civic = have_civic;
		give_geo = have_geo;
	} else {
		give_civic = (lt & HELD_LT_CIVIC) && have_civic;
		give_geo = (lt & HELD_LT_GEODETIC) && have_geo;
	}
	if (req.exact) {
		/* RFC 5985 §6.5: exact=true means every listed form or cannotProvideLiType; lisd
		 * issues no location URIs yet. */
		const char *missing = NULL;
		if ((lt & HELD_LT_CIVIC) && !have_civic)
			missing = "civic";
		else if ((lt & HELD_LT_GEODETIC) && !have_geo)
			missing = "geodetic";
		else if (lt & HELD_LT_URI)
			missing = "locationURI";
		if (missing) {
			if (lt & HELD_LT_URI && strcmp(missing, "locationURI") == 0)
				snprintf(msg, sizeof msg,
					 "this LIS does not issue location URIs; ask without exact=\"true\" "
					 "for location by value");
			else
				snprintf(msg, sizeof msg, "no %s location is recorded for %s", missing,
					 requester);
			snprintf(oc->reason, sizeof oc->reason, "%s", msg);
			wm_result_clear(&res);
			return answer_error(HELD_E_CANNOT_PROVIDE_LI_TYPE, msg, out, out_len, oc);
		}
	} else if (!give_civic && !give_geo) {
		/* exact=false: none of the asked forms exists (or only locationURI was asked):
		 * other forms are allowed, so give what there is. */
		give_civic = have_civic;
		give_geo = have_geo;
	}
	if (!give_civic && !give_geo) {
		snprintf(oc->reason, sizeof oc->reason, "location has neither civic nor geodetic data");
		wm_result_clear(&res);
		snprintf(msg, sizeof msg, "no usable location is recorded for %s", requester);
		return answer_error(HELD_E_LOCATION_UNKNOWN, msg, out, out_len, oc);
	}

	char entity[320];
	if (make_entity(entity, sizeof entity) < 0) {
		wm_result_clear(&res);
		snprintf(oc->reason, sizeof oc->reason, "RAND_bytes failed");
		return answer_error(HELD_E_GENERAL_LIS_ERROR, "internal error", out, out_len, oc);
	}
	time_t now = time(NULL);
	struct pidf_geo geo = {
		.lat = res.loc.lat, .lon = res.loc.lon,
		.has_alt = res.loc.has_alt, .alt = res.loc.alt,
		.radius = res.loc.uncertainty > 0 ? res.loc.uncertainty : 0,
	};
	struct pidf_doc doc = {
		.entity = entity,
		.method = res.method,
		.timestamp = now,
		.retransmission_allowed = held_cfg->retransmission_allowed,
		.retention_expiry = now + (time_t)held_cfg->retention,
		.civic = give_civic ? &res.loc.civic : NULL,
		.geo = give_geo ? &geo : NULL,
	};
	rc = held_build_response(NULL, &doc, out, out_len, &err);
	wm_result_clear(&res);
	if (rc < 0) {
		snprintf(oc->reason, sizeof oc->reason, "building response failed: %s", err.msg);
		return answer_error(HELD_E_GENERAL_LIS_ERROR, "internal error", out, out_len, oc);
	}
	oc->result = "located";
	return 0;
}
