/* Identity kinds and spellings: see ident.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ident.h"
#include "lis_strbuf.h"

/* text as it is, when it fits */
static int keep(const char *text, char *value, size_t size)
{
	size_t n = strlen(text);
	if (n >= size)
		return -1;
	memcpy(value, text, n + 1);
	return 0;
}

static int parse_ip(const char *text, char *value, size_t size)
{
	unsigned char bin[16];
	if (inet_pton(AF_INET, text, bin) != 1 && inet_pton(AF_INET6, text, bin) != 1)
		return -1;
	return keep(text, value, size);
}

static int parse_mac(const char *text, char *value, size_t size)
{
	uint8_t mac[6];
	return ident_mac_parse(text, mac) < 0 ? -1 : keep(text, value, size);
}

/* sip:/sips: and tel: share one normalizer; the scheme says which kind it is. */
static int parse_uri_scheme(const char *text, char *value, size_t size, bool tel)
{
	if (ident_uri_normalize(text, value, size) < 0)
		return -1;
	if ((strncmp(value, "tel:", 4) == 0) != tel) {
		value[0] = '\0';
		return -1;
	}
	return 0;
}

static int parse_sip(const char *text, char *value, size_t size)
{
	return parse_uri_scheme(text, value, size, false);
}

static int parse_tel(const char *text, char *value, size_t size)
{
	return parse_uri_scheme(text, value, size, true);
}

/* RFC 6155 §3.3: a port number, 0..65535 */
static int parse_port(const char *text, char *value, size_t size)
{
	unsigned long v = 0;
	if (!*text)
		return -1;
	for (const char *s = text; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	return keep(text, value, size);
}

/* Kinds nothing locates by yet are kept as written (not empty), so that lisd can say which
 * one it does not support. */
static int parse_text(const char *text, char *value, size_t size)
{
	return *text ? keep(text, value, size) : -1;
}

#define OPAQUE(k, n) [k] = {n, n, n ":", n " ", "an identifier", parse_text}
#define PORT(k, n) [k] = {n, n, n ":", n " ", "a port number", parse_port}

/* The one list of identity kinds. The words of IP, MAC, SIP and tel are those of location
 * URI tokens already issued: never change them. */
static const struct ident_kind_info kinds[IDENT_N_KINDS] = {
	[IDENT_IP] = {"ip", "ip", "ip:", "ip ", "an IP address", parse_ip},
	[IDENT_MAC] = {"mac", "mac", "mac:", "mac ", "a MAC address", parse_mac},
	[IDENT_SIP] = {"uri", "uri", "uri:", "", "a sip: or sips: URI", parse_sip},
	[IDENT_TEL] = {"tel", "uri", "", "", "a tel: URI", parse_tel},
	OPAQUE(IDENT_FQDN, "fqdn"),
	OPAQUE(IDENT_NAI, "nai"),
	OPAQUE(IDENT_DUID, "duid"),
	PORT(IDENT_UDPPORT, "udpport"),
	PORT(IDENT_TCPPORT, "tcpport"),
	PORT(IDENT_SCTPPORT, "sctpport"),
	OPAQUE(IDENT_MSISDN, "msisdn"),
	OPAQUE(IDENT_IMSI, "imsi"),
	OPAQUE(IDENT_IMEI, "imei"),
	OPAQUE(IDENT_MIN, "min"),
	OPAQUE(IDENT_MDN, "mdn"),
	[IDENT_OTHER] = {"other", NULL, NULL, "", "an identifier", parse_text},
};

const struct ident_kind_info *ident_kind_info(enum ident_kind k)
{
	return (unsigned)k < IDENT_N_KINDS ? &kinds[k] : NULL;
}

int ident_parse(enum ident_kind k, const char *text, struct ident *id)
{
	const struct ident_kind_info *ki = ident_kind_info(k);
	memset(id, 0, sizeof *id);
	if (!ki || !text || ki->parse(text, id->value, sizeof id->value) < 0) {
		id->value[0] = '\0';
		return -1;
	}
	id->kind = k;
	return 0;
}

int ident_parse_element(const char *element, const char *text, struct ident *id)
{
	int rc = -2;
	for (int k = 0; k < IDENT_N_KINDS; k++) {
		if (!kinds[k].element || strcmp(kinds[k].element, element) != 0)
			continue;
		if (ident_parse((enum ident_kind)k, text, id) == 0)
			return 0;
		rc = -1;
	}
	return rc;
}

const char *ident_name(const struct ident *id)
{
	return id->kind == IDENT_OTHER ? id->value : kinds[id->kind].name;
}

const struct ident *ident_find(const struct ident *ids, size_t n, enum ident_kind k)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i].kind == k)
			return &ids[i];
	return NULL;
}

int ident_text_format(const struct ident *ids, size_t n, char *buf, size_t size)
{
	struct strbuf b;  /* every request's target: no printf */
	if (size == 0)
		return -1;
	strbuf_init_text(&b, buf, size);
	for (int k = 0; k < IDENT_N_KINDS; k++) {
		for (size_t i = 0; i < n; i++) {
			if (ids[i].kind != (enum ident_kind)k)
				continue;
			if (!kinds[k].word)
				return -1;
			strbuf_cat(&b, b.len ? " " : "", kinds[k].word, ids[i].value);
		}
	}
	return b.cut ? -1 : 0;
}

/* The kind of one word of identity text: a kind whose word prefix it starts with, else a
 * kind written bare whose parser takes the whole word. */
static int read_word(const char *word, struct ident *id)
{
	for (int k = 0; k < IDENT_N_KINDS; k++) {
		size_t p = kinds[k].word ? strlen(kinds[k].word) : 0;
		if (p && strncmp(word, kinds[k].word, p) == 0)
			return ident_parse((enum ident_kind)k, word + p, id);
	}
	for (int k = 0; k < IDENT_N_KINDS; k++)
		if (kinds[k].word && !kinds[k].word[0] && ident_parse((enum ident_kind)k, word, id) == 0)
			return 0;
	return -1;
}

int ident_text_parse(const char *text, struct ident *ids, size_t max, size_t *n)
{
	char word[IDENT_VALUE_MAX + 16];
	*n = 0;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, " ");
		if (len >= sizeof word || *n == max)
			return -1;
		memcpy(word, p, len);
		word[len] = '\0';
		if (read_word(word, &ids[*n]) < 0 || ident_find(ids, *n, ids[*n].kind))
			return -1;
		++*n;
		p += len;
		while (*p == ' ')
			p++;
	}
	return *n ? 0 : -1;
}

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
	/* By hand: the resolver spells the MAC of every answer's evidence (snprintf cost 2% of
	 * lisd's CPU under load). */
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 6; i++) {
		buf[3 * i] = hex[mac[i] >> 4];
		buf[3 * i + 1] = hex[mac[i] & 15];
		buf[3 * i + 2] = i < 5 ? ':' : '\0';
	}
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
