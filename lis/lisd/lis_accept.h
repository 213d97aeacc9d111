/* Proactive content negotiation on the Accept header field (RFC 9110 §12.5.1): how much a
 * client accepts each media type lisd can answer with. Pure functions of text: no HTTP
 * library, no state. */
#ifndef LIS_ACCEPT_H
#define LIS_ACCEPT_H

#include <stddef.h>

/* The weight, in thousandths (0 to 1000), that the Accept field value accept gives the media
 * type type ("type/subtype", optionally with parameters, as "application/held+xml;charset=
 * utf-8"): the qvalue of the most specific media range that matches type. Most specific is
 * type and subtype with the most parameters, then type and subtype, then a subtype wildcard,
 * then the full wildcard; a range with parameters matches only when type has each of them with
 * an equal value. Among equally specific matches the highest weight counts. 0 means not
 * acceptable: no range matches, or the best one says q=0.
 *
 * accept NULL (no Accept field: no preference stated) accepts anything: 1000. A malformed
 * element of the list (a bad token or qvalue, a wildcard type with a named subtype, stray
 * text) is skipped; a field value with no well-formed element at all is disregarded like an
 * absent one, which a server may do with any Accept (RFC 9110 §12.1). */
int lis_accept_weight(const char *accept, const char *type);

/* The best of the n offers for accept: the index of the one with the highest weight, the
 * first of them on a tie (offers go in the server's order of preference), or -1 when every
 * weight is 0. weights, when not NULL, gets the n weights. */
int lis_accept_choose(const char *accept, const char *const *offers, size_t n, int *weights);

#endif
