/* Identities as the wiremap stores them: MAC addresses and SIP/tel URIs, one spelling each,
 * so that a lookup by what a request or a switch says finds what a person imported. Pure. */
#ifndef IDENT_H
#define IDENT_H

#include <stddef.h>
#include <stdint.h>

/* 00:11:22:33:44:55, 00-11-22-33-44-55, 0011.2233.4455 or 001122334455; -1 otherwise. */
int ident_mac_parse(const char *text, uint8_t mac[6]);
/* "00:11:22:33:44:55" */
void ident_mac_format(const uint8_t mac[6], char buf[18]);
/* Normalized SIP/SIPS or tel URI, as endpoints are stored; -1 if not such a URI. */
int ident_uri_normalize(const char *uri, char *buf, size_t size);

#endif
