/* Address lists and subject-DN lists: see lis_acl.h. */
#include "lis_acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Parse one "ADDR" or "ADDR/LEN" of len bytes. */
static int parse_prefix(const char *s, size_t len, struct lis_acl_entry *e, char *why,
			size_t why_size)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (len >= sizeof buf) {
		snprintf(why, why_size, "\"%.*s\" is not an address or CIDR prefix", (int)(len > 64 ? 64 : len), s);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(e, 0, sizeof *e);
	unsigned max;
	if (inet_pton(AF_INET, buf, e->addr) == 1) {
		e->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, e->addr) == 1) {
		e->family = AF_INET6;
		max = 128;
	} else {
		snprintf(why, why_size, "\"%.*s\" is not an address or CIDR prefix", (int)len, s);
		return -1;
	}
	e->prefix_len = max;
	if (slash) {
		const char *d = slash + 1;
		unsigned n = 0;
		bool ok = *d != '\0' && strlen(d) <= 3;
		for (const char *q = d; *q && ok; q++) {
			ok = *q >= '0' && *q <= '9';
			n = n * 10 + (unsigned)(*q - '0');
		}
		if (!ok || n > max) {
			snprintf(why, why_size, "\"%.*s\": prefix length must be 0..%u", (int)len, s, max);
			return -1;
		}
		e->prefix_len = n;
	}
	for (unsigned bit = e->prefix_len; bit < max; bit++)
		if (e->addr[bit / 8] & (0x80u >> (bit % 8))) {
			snprintf(why, why_size, "\"%.*s\": host bits set beyond /%u", (int)len, s,
				 e->prefix_len);
			return -1;
		}
	return 0;
}

int lis_acl_parse(const char *text, struct lis_acl *acl, char *why, size_t why_size)
{
	memset(acl, 0, sizeof *acl);
	const char *p = text;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, " \t,");
		struct lis_acl_entry e;
		if (parse_prefix(p, len, &e, why, why_size) < 0) {
			lis_acl_free(acl);
			return -1;
		}
		struct lis_acl_entry *ne = realloc(acl->e, (acl->n + 1) * sizeof *ne);
		if (!ne) {
			snprintf(why, why_size, "out of memory");
			lis_acl_free(acl);
			return -1;
		}
		acl->e = ne;
		acl->e[acl->n++] = e;
		p += len;
	}
	return 0;
}

bool lis_acl_match(const struct lis_acl *acl, const char *ip)
{
	unsigned char a[16];
	int family;
	if (!acl || !ip)
		return false;
	if (inet_pton(AF_INET, ip, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, ip, a) == 1)
		family = AF_INET6;
	else
		return false;
	for (size_t i = 0; i < acl->n; i++) {
		const struct lis_acl_entry *e = &acl->e[i];
		if (e->family != family)
			continue;
		unsigned full = e->prefix_len / 8, rest = e->prefix_len % 8;
		if (memcmp(a, e->addr, full) != 0)
			continue;
		if (rest && ((a[full] ^ e->addr[full]) & (0xffu << (8 - rest)) & 0xffu))
			continue;
		return true;
	}
	return false;
}

void lis_acl_free(struct lis_acl *acl)
{
	if (!acl)
		return;
	free(acl->e);
	acl->e = NULL;
	acl->n = 0;
}

int lis_subjects_parse(const char *text, struct lis_subjects *s, char *why, size_t why_size)
{
	memset(s, 0, sizeof *s);
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, ";");
		size_t a = 0, b = len;
		while (a < b && (p[a] == ' ' || p[a] == '\t'))
			a++;
		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
			b--;
		if (a < b) {
			if (!memchr(p + a, '=', b - a)) {
				snprintf(why, why_size, "\"%.*s\" is not a subject DN (e.g. CN=sbc1.example.net,O=Example)",
					 (int)((b - a) > 64 ? 64 : (b - a)), p + a);
				lis_subjects_free(s);
				return -1;
			}
			char **nd = realloc(s->dn, (s->n + 1) * sizeof *nd);
			char *dn = nd ? strndup(p + a, b - a) : NULL;
			if (nd)
				s->dn = nd;
			if (!dn) {
				snprintf(why, why_size, "out of memory");
				lis_subjects_free(s);
				return -1;
			}
			s->dn[s->n++] = dn;
		}
		p += len;
		if (*p == ';')
			p++;
	}
	return 0;
}

bool lis_subjects_match(const struct lis_subjects *s, const char *dn)
{
	if (!s || !dn || !dn[0])
		return false;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->dn[i], dn) == 0)
			return true;
	return false;
}

void lis_subjects_free(struct lis_subjects *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->dn[i]);
	free(s->dn);
	s->dn = NULL;
	s->n = 0;
}
