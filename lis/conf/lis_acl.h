/* The lists behind third-party authorization, as lis.conf spells them: addresses and CIDR
 * prefixes (allowed_addresses) and client-certificate subject DNs (allowed_subjects). Pure:
 * lis_conf checks them wherever lis.conf is read (lisd and lisctl), lisd's lis_auth matches
 * requesters against them. */
#ifndef LIS_ACL_H
#define LIS_ACL_H

#include <stdbool.h>
#include <stddef.h>

/* A list of addresses and CIDR prefixes, IPv4 and IPv6. */
struct lis_acl_entry {
	int family;                   /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix_len;
};
struct lis_acl {
	size_t n;
	struct lis_acl_entry *e;
};
/* Parse "10.0.0.5, 192.0.2.0/24, 2001:db8::/32" (commas, spaces allowed; empty = none).
 * Host bits beyond the prefix must be zero. On error writes the reason to why. */
int lis_acl_parse(const char *text, struct lis_acl *acl, char *why, size_t why_size);
bool lis_acl_match(const struct lis_acl *acl, const char *ip);
void lis_acl_free(struct lis_acl *acl);

/* A ';'-separated list of subject DNs, each trimmed; compared exactly with the subject as
 * GnuTLS prints it (RFC 4514: "CN=sbc1.example.net,O=Example"). */
struct lis_subjects {
	size_t n;
	char **dn;
};
int lis_subjects_parse(const char *text, struct lis_subjects *s, char *why, size_t why_size);
bool lis_subjects_match(const struct lis_subjects *s, const char *dn);
void lis_subjects_free(struct lis_subjects *s);

#endif
