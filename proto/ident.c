/* Identity spellings: see ident.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ident.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 12 hex digits, grouped by one separator kind at the usual places: 00:11:22:33:44:55,
 * 00-11-22-33-44-55, 0011.2233.4455, or none at all. */
int ident_mac_parse(const char *text, uint8_t mac[6])
{
	if (!text)
		return -1;
	size_t n = strlen(text);
	char sep = 0;
	size_t group = 0;
	if (n == 17 && (text[2] == ':' || text[2] == '-')) {
		sep = text[2];
		group = 2;
	} else if (n == 14 && text[4] == '.') {
		sep = '.';
		group = 4;
	} else if (n != 12) {
		return -1;
	}
	int digits = 0;
	uint8_t out[6] = {0};
	for (size_t i = 0; i < n; i++) {
		if (sep && (i + 1) % (group + 1) == 0) {
			if (text[i] != sep)
				return -1;
			continue;
		}
		int v = hexval((unsigned char)text[i]);
		if (v < 0)
			return -1;
		out[digits / 2] = (uint8_t)(out[digits / 2] << 4 | v);
		digits++;
	}
	if (digits != 12)
		return -1;
	memcpy(mac, out, 6);
	return 0;
}

void ident_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

/* sip:/sips: (RFC 3261 §19.1.4: scheme and host compare case-insensitively, the user part
 * case-sensitively; parameters and headers are not part of who it is) and tel: (RFC 3966
 * §5.1.1: visual separators carry no meaning; parameters dropped). */
int ident_uri_normalize(const char *uri, char *buf, size_t size)
{
	if (!uri || size == 0)
		return -1;
	while (isspace((unsigned char)*uri))
		uri++;
	size_t n = strlen(uri);
	while (n > 0 && isspace((unsigned char)uri[n - 1]))
		n--;
	const char *colon = memchr(uri, ':', n);
	if (!colon)
		return -1;
	size_t slen = (size_t)(colon - uri);
	char scheme[5] = {0};
	if (slen == 0 || slen > 4)
		return -1;
	for (size_t i = 0; i < slen; i++)
		scheme[i] = (char)tolower((unsigned char)uri[i]);
	const char *rest = colon + 1;
	size_t rlen = n - slen - 1;
	size_t o = 0;
#define PUT(c) do { if (o + 1 >= size) return -1; buf[o++] = (c); } while (0)
	if (strcmp(scheme, "tel") == 0) {
		for (const char *p = "tel:"; *p; p++)
			PUT(*p);
		size_t kept = 0;
		for (size_t i = 0; i < rlen && rest[i] != ';'; i++) {
			char c = rest[i];
			if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ')
				continue;
			if (!(isdigit((unsigned char)c) || (c == '+' && kept == 0) ||
			      isxdigit((unsigned char)c) || c == '*' || c == '#'))
				return -1;
			PUT((char)tolower((unsigned char)c));
			kept++;
		}
		if (kept == 0 || (kept == 1 && buf[o - 1] == '+'))
			return -1;
	} else if (strcmp(scheme, "sip") == 0 || strcmp(scheme, "sips") == 0) {
		for (const char *p = scheme; *p; p++)
			PUT(*p);
		PUT(':');
		size_t end = 0;
		while (end < rlen && rest[end] != ';' && rest[end] != '?')
			end++;
		const char *at = memchr(rest, '@', end);
		size_t host_from = at ? (size_t)(at - rest) + 1 : 0;
		if (end == 0 || host_from >= end)
			return -1;
		for (size_t i = 0; i < end; i++) {
			char c = rest[i];
			if ((unsigned char)c <= ' ')
				return -1;
			PUT(i >= host_from ? (char)tolower((unsigned char)c) : c);
		}
	} else {
		return -1;
	}
#undef PUT
	buf[o] = '\0';
	return 0;
}
