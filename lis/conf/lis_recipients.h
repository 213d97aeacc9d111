/* Who hears of an emergency call (lis.conf(5) [notify] recipients), as lis.conf spells it:
 *   SITE = CHANNEL[:ADDRESS], ... ; SITE = ...
 * e.g. "hq = webhook:https://desk.hq.example/lis, mail:desk@hq.example, syslog;
 *       * = mail:soc@example.org". SITE is a site key, or "*" for every site without a rule
 * of its own and for calls whose site is not known. CHANNEL is webhook (ADDRESS an https
 * URL), mail (ADDRESS an e-mail address) or syslog (no ADDRESS). Pure: lis_conf checks the
 * text wherever lis.conf is read, lisd's notifier and `lisctl notify test` look sites up. */
#ifndef LIS_RECIPIENTS_H
#define LIS_RECIPIENTS_H

#include <stddef.h>

enum lis_channel { LIS_CH_WEBHOOK, LIS_CH_MAIL, LIS_CH_SYSLOG, LIS_CH_N_ };

struct lis_recipient {
	char *site;                   /* site key, or "*" */
	enum lis_channel channel;
	char *address;                /* URL, e-mail address; "syslog" for syslog */
};
struct lis_recipients {
	size_t n;
	struct lis_recipient *r;
};

/* The channel's name in lis.conf and in table notify_delivery; -1 for an unknown name. */
const char *lis_channel_name(enum lis_channel ch);
int lis_channel_parse(const char *name);

/* Parse text (empty: none). On error -1 with the reason in why. */
int lis_recipients_parse(const char *text, struct lis_recipients *out, char *why,
			 size_t why_size);
void lis_recipients_free(struct lis_recipients *rs);
/* The recipients of site (NULL or "": unknown): its own rules, else those of "*". Fills
 * out[0..max) with pointers into rs; returns how many. */
size_t lis_recipients_of(const struct lis_recipients *rs, const char *site,
			 const struct lis_recipient **out, size_t max);
/* Whether some rule uses channel ch. */
int lis_recipients_use(const struct lis_recipients *rs, enum lis_channel ch);

#endif
