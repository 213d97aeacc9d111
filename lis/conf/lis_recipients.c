#include "lis_recipients.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const channel_names[LIS_CH_N_] = {
	[LIS_CH_WEBHOOK] = "webhook", [LIS_CH_MAIL] = "mail", [LIS_CH_SYSLOG] = "syslog",
};

const char *lis_channel_name(enum lis_channel ch)
{
	return ch >= 0 && ch < LIS_CH_N_ ? channel_names[ch] : "?";
}

int lis_channel_parse(const char *name)
{
	for (int i = 0; i < LIS_CH_N_; i++)
		if (strcmp(name, channel_names[i]) == 0)
			return i;
	return -1;
}

/* s[0..n) without the spaces around it, as a new string. */
static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	char *t = malloc(n + 1);
	if (t) {
		memcpy(t, s, n);
		t[n] = '\0';
	}
	return t;
}

static bool is_printable_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '"' ||
		    *s == '\\')
			return false;
	return true;
}

/* An address for channel ch, checked enough that a typo stops start-up rather than a call's
 * notification: an https URL, a local@domain address; nothing for syslog. */
static int check_address(enum lis_channel ch, const char *a, char *why, size_t why_size)
{
	switch (ch) {
	case LIS_CH_WEBHOOK:
		if (strncasecmp(a, "https://", 8) != 0 || !a[8] || !is_printable_word(a)) {
			snprintf(why, why_size, "webhook:\"%.80s\" is not an https URL", a);
			return -1;
		}
		return 0;
	case LIS_CH_MAIL: {
		const char *at = strchr(a, '@');
		if (!at || at == a || !at[1] || strchr(at + 1, '@') || strchr(a, '<') ||
		    strchr(a, '>') || strchr(a, ',') || !is_printable_word(a)) {
			snprintf(why, why_size, "mail:\"%.80s\" is not an e-mail address", a);
			return -1;
		}
		return 0;
	}
	default:
		if (a[0]) {
			snprintf(why, why_size, "syslog takes no address (\"%.80s\")", a);
			return -1;
		}
		return 0;
	}
}

static int add(struct lis_recipients *rs, const char *site, const char *item, char *why,
	       size_t why_size)
{
	const char *colon = strchr(item, ':');
	size_t nlen = colon ? (size_t)(colon - item) : strlen(item);
	char name[16];
	snprintf(name, sizeof name, "%.*s", (int)(nlen < sizeof name ? nlen : sizeof name - 1),
		 item);
	int ch = nlen < sizeof name ? lis_channel_parse(name) : -1;
	if (ch < 0) {
		snprintf(why, why_size, "site %.64s: \"%.40s\" is not webhook:URL, mail:ADDRESS "
			 "or syslog", site, item);
		return -1;
	}
	const char *addr = colon ? colon + 1 : "";
	if ((ch != LIS_CH_SYSLOG && !addr[0]) ||
	    check_address((enum lis_channel)ch, addr, why, why_size) < 0) {
		if (!addr[0])
			snprintf(why, why_size, "site %.64s: %s needs an address (%s:...)", site,
				 name, name);
		return -1;
	}
	struct lis_recipient *r = realloc(rs->r, (rs->n + 1) * sizeof *r);
	if (!r) {
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	rs->r = r;
	r[rs->n].site = strdup(site);
	r[rs->n].channel = (enum lis_channel)ch;
	r[rs->n].address = strdup(ch == LIS_CH_SYSLOG ? "syslog" : addr);
	rs->n++;
	if (!r[rs->n - 1].site || !r[rs->n - 1].address) {
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	return 0;
}

/* One rule "SITE = item, item". */
static int parse_rule(struct lis_recipients *rs, const char *rule, char *why, size_t why_size)
{
	const char *eq = strchr(rule, '=');
	if (!eq) {
		snprintf(why, why_size, "\"%.64s\" is not SITE = CHANNEL[:ADDRESS], ...", rule);
		return -1;
	}
	char *site = trimmed(rule, (size_t)(eq - rule));
	if (!site)
		return -1;
	int rc = 0;
	if (!is_printable_word(site)) {
		snprintf(why, why_size, "\"%.64s\": the site before = is empty or not one word",
			 rule);
		rc = -1;
	}
	for (const char *p = eq + 1; rc == 0;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char *item = trimmed(p, n);
		if (!item)
			rc = -1;
		else if (!item[0])
			snprintf(why, why_size, "site %.64s: an empty item", site), rc = -1;
		else
			rc = add(rs, site, item, why, why_size);
		free(item);
		if (!comma)
			break;
		p = comma + 1;
	}
	free(site);
	return rc;
}

int lis_recipients_parse(const char *text, struct lis_recipients *out, char *why,
			 size_t why_size)
{
	memset(out, 0, sizeof *out);
	for (const char *p = text ? text : ""; *p;) {
		const char *semi = strchr(p, ';');
		size_t n = semi ? (size_t)(semi - p) : strlen(p);
		char *rule = trimmed(p, n);
		int rc = rule ? 0 : -1;
		if (rule && rule[0])
			rc = parse_rule(out, rule, why, why_size);
		free(rule);
		if (rc < 0) {
			lis_recipients_free(out);
			return -1;
		}
		if (!semi)
			break;
		p = semi + 1;
	}
	return 0;
}

void lis_recipients_free(struct lis_recipients *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->r[i].site);
		free(rs->r[i].address);
	}
	free(rs->r);
	memset(rs, 0, sizeof *rs);
}

static size_t collect(const struct lis_recipients *rs, const char *site,
		      const struct lis_recipient **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->n && n < max; i++)
		if (strcmp(rs->r[i].site, site) == 0)
			out[n++] = &rs->r[i];
	return n;
}

size_t lis_recipients_of(const struct lis_recipients *rs, const char *site,
			 const struct lis_recipient **out, size_t max)
{
	size_t n = site && site[0] ? collect(rs, site, out, max) : 0;
	return n ? n : collect(rs, "*", out, max);
}

int lis_recipients_use(const struct lis_recipients *rs, enum lis_channel ch)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].channel == ch)
			return 1;
	return 0;
}
