/* HELD request handling: from a request body and the requester to a HELD answer
 * (locationResponse or error), from the in-memory wiremap (lis_snapshot.h), never from a
 * query per request. Also the two dereference forms of a location URI (RFC 6753). Knows
 * nothing of HTTP: authorization of the requester is a callback. */
#ifndef LIS_HELD_H
#define LIS_HELD_H

#include <stdbool.h>
#include <stddef.h>

#include "civic.h"
#include "ident.h"
#include "lis_auth.h"
#include "lis_config.h"

/* Who asks. authorize is called only when the request needs it (a third-party request, a
 * dereference under deref_auth = authorized), at most once per request. */
struct lis_requester {
	const char *ip;               /* the TCP peer, IPv4-mapped IPv6 already unmapped */
	void (*authorize)(void *ctx, const char *ip, struct lis_auth_result *ar);
	void *ctx;
};

/* What happened, for the request's log line. */
struct lis_held_outcome {
	const char *result;           /* "located" or a HELD error code name */
	const char *source;           /* wm_source_name(), "none" when not located */
	char location[128];           /* the location's key, "" when none */
	char target[320];             /* identity text (proto/ident.h): "ip:...", "mac:...
	                               * uri:sip:...", "tel:..."; "" when the request never
	                               * got that far */
	bool internal;                /* a fault of the LIS (no wiremap yet...), not of the request */
	char reason[320];             /* why it failed, for the log only; "" when located */
	struct lis_auth_result auth;  /* auth.checked: authorization was asked */
	bool uri_issued;              /* a locationUriSet was sent */
	char disagree[200];           /* sources disagree about the site, "" when not */
	unsigned long long disagreements; /* the running count, when disagree is set */
	long snapshot_age;            /* lis_snapshot_age() at the answer; -1: none */
	/* For the query log (lis_querylog.h). */
	long long location_id;        /* 0 when no location was found */
	char site[128];               /* the location's site key, "" when none */
	char method[32];              /* RFC 4119 method of the location, "" when none */
	int fallback;                 /* 1 subnet/site default, 0 precise, -1 no location */
	char evidence[1024];          /* the evidence walked with ages, one line; "" when none */
	long long evidence_age;       /* seconds since the winning binding was seen; -1: none */
	char address[1024];           /* the civic address as sent, one line; "" when none */
	char response_time[32];       /* responseTime asked; "" when absent */
	bool test;                    /* lisd(8) TEST MODE: set by the HTTP front */
	char deactivated[160];        /* what the request named that is offboarded: "endpoint
	                               * KEY", "user KEY"; "" when nothing (lisd(8)) */
};

/* Read the location URI key (uri_key_file, or a random one with a warning). Errors are
 * configuration errors (exit 2) with "FILE:LINE: reason". cfg must outlive every request. */
int lis_held_init(const struct lis_config *cfg, struct lis_error *err);
/* After the HTTP server has stopped: logs the disagreement count, wipes the key. */
void lis_held_shutdown(void);

/* Answer one HELD request body. On success returns 0 with *out a malloc'd
 * application/held+xml document (free() it); -1 only when not even a HELD error could be
 * built. */
int lis_held_handle(const struct lis_requester *who, const char *body, size_t len, char **out,
		    size_t *out_len, struct lis_held_outcome *oc);

/* What lisd would answer now for a device named by ids[0..n) (its SIP or tel URI, MAC, or
 * the address a VPN binding gives it), as a request naming it would be answered, without
 * building a document: for the self-service page's "if you call 911 now" (lisd(8)
 * SELF-SERVICE). */
struct lis_held_preview {
	const char *civic[CIVIC_N_FIELDS]; /* the civic address answered, into text; NULL:
					    * absent (all NULL when not located) */
	char text[1024];
	char note[320];                    /* the PIDF-LO note, or why not located; "" none */
};
/* 0 when located (oc->source, method, fallback, address as for an answer), 1 when not
 * (oc->result the HELD error code, oc->reason and pv->note why). */
int lis_held_preview(const struct ident *ids, size_t n, struct lis_held_outcome *oc,
		     struct lis_held_preview *pv);

/* POST of a HELD locationRequest to a location URI whose last path part is token: a
 * locationResponse by value, or a HELD error: locationUnknown for an unknown, forged or
 * expired token as for a target not located now. */
int lis_held_deref_post(const struct lis_requester *who, const char *token, const char *body,
			size_t len, char **out, size_t *out_len, struct lis_held_outcome *oc);

/* The form of the answer to a GET of a location URI, negotiated on Accept (RFC 6753 §3.2). */
enum lis_deref_form {
	LIS_DEREF_HELD,               /* a HELD locationResponse or error */
	LIS_DEREF_PIDF,               /* the bare presence; a failure as a HELD error */
	LIS_DEREF_PIDF_ONLY,          /* the bare presence; a failure as an HTTP status (the
	                               * client does not accept application/held+xml) */
};

/* GET of a location URI whose last path part is token, answered as RFC 6753 §3.2 says: "as
 * if" its Figure 1 locationRequest (locationType "geodetic civic", exact="false") had been
 * POSTed. Returns the HTTP status: 200 with *out a malloc'd document, *pidf telling its type
 * (true: application/pidf+xml, the presence; false: application/held+xml, a locationResponse
 * or a HELD error); for LIS_DEREF_PIDF_ONLY a failure is 404 (unknown, forged or expired, or
 * not located now), 403 (deref_auth = authorized and the requester is not) or 503 (no
 * wiremap yet) with *out NULL; 500 (*out NULL) when not even an error could be built. */
unsigned lis_held_deref_get(const struct lis_requester *who, const char *token,
			    enum lis_deref_form form, char **out, size_t *out_len, bool *pidf,
			    struct lis_held_outcome *oc);

#endif
