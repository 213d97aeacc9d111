/* HELD (RFC 5985) requests, responses and errors: bytes in, structs out, and back.
 * Pure code: no sockets, files, database, logging or globals. */
#ifndef HELD_H
#define HELD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ident.h"
#include "lis_error.h"
#include "pidf.h"

#define HELD_NS "urn:ietf:params:xml:ns:geopriv:held"
#define HELD_ID_NS "urn:ietf:params:xml:ns:geopriv:held:id"
#define HELD_LM_NS "urn:ietf:params:xml:ns:geopriv:lm"
#define HELD_LM_WIFI_NS "urn:ietf:params:xml:ns:geopriv:lm:wifi"
#define HELD_FLOW_NS "urn:ietf:params:xml:ns:geopriv:held:flow"
#define HELD_MEDIA_TYPE "application/held+xml"

/* RFC 5985 §6.3 error codes (plus RFC 6155 badIdentifier). HELD_OK is not a code; it means
 * "no error". */
enum held_error_code {
	HELD_OK = 0,
	HELD_E_REQUEST_ERROR,        /* requestError */
	HELD_E_XML_ERROR,            /* xmlError */
	HELD_E_GENERAL_LIS_ERROR,    /* generalLisError */
	HELD_E_LOCATION_UNKNOWN,     /* locationUnknown */
	HELD_E_UNSUPPORTED_MESSAGE,  /* unsupportedMessage */
	HELD_E_TIMEOUT,              /* timeout */
	HELD_E_CANNOT_PROVIDE_LI_TYPE, /* cannotProvideLiType */
	HELD_E_NOT_LOCATABLE,        /* notLocatable */
	HELD_E_BAD_IDENTIFIER,       /* badIdentifier (RFC 6155, IANA HELD Error Codes): a device
				      * identifier unsupported, badly formatted, or not one the
				      * requester is authorized to ask about */
};
const char *held_error_code_name(enum held_error_code code);

/* The forms of location information a locationType names (RFC 5985 §6.2). Each is one bit,
 * so that what an answer can hold is a set; the order asked for is a struct held_loctypes. */
enum held_loctype {
	HELD_LT_CIVIC = 1u << 0,
	HELD_LT_GEODETIC = 1u << 1,
	HELD_LT_URI = 1u << 2,
};
#define HELD_N_LOCTYPES 3

/* Forms in order, each at most once: as a request listed them, or as an answer gives them.
 * RFC 5985 §6.2: the LIS "SHOULD provide the locations in the response in the same order in
 * which they were included in the "locationType" element", and RFC 5491 §3 rule #8 has a
 * reader take the first. In a request, n == 0 is "any", which an absent locationType also
 * means (§6.2). */
struct held_loctypes {
	size_t n;
	enum held_loctype form[HELD_N_LOCTYPES];
};

/* Append t unless it is there already. */
void held_loctypes_add(struct held_loctypes *l, enum held_loctype t);
/* The forms as a set of enum held_loctype bits (0 for any). */
unsigned held_loctypes_bits(const struct held_loctypes *l);

enum held_response_time {
	HELD_RT_ABSENT = 0,
	HELD_RT_EMERGENCY_ROUTING,
	HELD_RT_EMERGENCY_DISPATCH,
	HELD_RT_MILLISECONDS,
};

/* RFC 6155 device identifiers: each <device> child becomes one identity (proto/ident.h): the
 * kinds of ident.h in their kept spelling, IDENT_OTHER for an element of no kind we know.
 * lisd locates by those the resolver can use (IP, MAC, SIP and tel URIs) and answers
 * badIdentifier for the others. */
#define HELD_MAX_IDS 8

/* RFC 7105 802.11 measurements: the access points the client reported (unreadable entries
 * skipped; at most HELD_MAX_WIFI kept). */
#define HELD_MAX_WIFI 16
struct held_wifi_ap {
	char bssid[18];                   /* "00:11:22:33:44:55", lower case */
	bool serving;                     /* the AP the client is associated with */
};

struct held_request {
	struct held_loctypes loctypes;    /* in the order given; n == 0: any, or absent */
	bool exact;                       /* exact attribute, default false */
	enum held_response_time rt;
	unsigned long rt_ms;              /* when rt == HELD_RT_MILLISECONDS */
	bool has_device;                  /* a heldid:device element was present */
	size_t n_ids;
	struct ident ids[HELD_MAX_IDS];
	struct ident given[HELD_MAX_IDS]; /* the same identifiers as written (trimmed), for the
	                                   * RFC 6155 §2.2 echo of the device */
	size_t n_wifi;
	struct held_wifi_ap wifi[HELD_MAX_WIFI];
};

/* Hardened parsing limits. */
struct held_limits {
	size_t max_bytes;                 /* larger documents are refused unparsed */
	unsigned max_depth;               /* deeper element nesting is refused */
};
#define HELD_DEFAULT_MAX_BYTES 65536
#define HELD_DEFAULT_MAX_DEPTH 32

/* Parse a locationRequest. On failure returns -1 and fills err with code LIS_E_HELD and
 * err->held the enum held_error_code to answer (xmlError, requestError, unsupportedMessage,
 * badIdentifier, generalLisError when out of memory) and a message fit to send back (printable ASCII).
 * req is zeroed first, and again on failure. limits may be NULL, and a zero member means its
 * default. No DTD, no entities, no network.
 * Thread-safe once xmlInitParser() has been called (call it in main() before threads). */
int held_parse_request(const char *buf, size_t len, const struct held_limits *limits,
		       struct held_request *req, struct lis_error *err);

/* True if req asked for this form (explicitly, or via any/absent). */
bool held_request_wants(const struct held_request *req, enum held_loctype t);

/* RFC 5985 §6.2 negotiation: which forms one answer holds, in which order. asked is the
 * request's locationType (n == 0: any), exact its exact attribute, have the forms this answer
 * can hold (enum held_loctype bits). Returns HELD_OK with *give the forms to send (at least
 * one): the listed ones that exist in the order listed, then any stand-ins (exact="false")
 * in lisd's order, civic, geodetic, locationURI, which is also the order of "any".
 * HELD_E_CANNOT_PROVIDE_LI_TYPE when exact and a listed form is missing, with *missing the
 * first such form in the order listed (missing may be NULL); HELD_E_LOCATION_UNKNOWN when
 * there is nothing to give. */
enum held_error_code held_negotiate(const struct held_loctypes *asked, bool exact, unsigned have,
				    struct held_loctypes *give, unsigned *missing);

/* A locationUriSet (RFC 5985 §6.5): the URIs and their expiry. */
struct held_uri_set {
	time_t expires;
	size_t n;
	const char *const *uris;
};

/* A device element (RFC 6155 §2.2, schema §6): identifiers of kinds with an element
 * (ident_kind_info()->element), each value the text to write. */
struct held_device {
	size_t n;
	const struct ident *ids;
};

/* Build a locationResponse holding (optionally) a locationUriSet, (optionally) a PIDF-LO
 * presence, and (optionally) the echo of the request's device; at least one of the first two
 * must be given. RFC 6155 §2.2: a LIS "echoes the "device" element in a successful HELD
 * response, including the identifiers that were used as the basis for location
 * determination"; it goes last, in the §7 schema's slot for other namespaces. A MAC is
 * written in the schema's IEEE 802 form (hyphens) when given otherwise; an ip gets v="4" or
 * v="6" from its address. *out is malloc'd, NUL-terminated; the caller frees it with
 * free(). */
int held_build_response(const struct held_uri_set *uris, const struct pidf_doc *pidf,
			const struct held_device *device, char **out, size_t *out_len,
			struct lis_error *err);

/* Build a HELD error document with a human-readable message (xml:lang="en"). */
int held_build_error(enum held_error_code code, const char *message,
		     char **out, size_t *out_len, struct lis_error *err);

#endif
