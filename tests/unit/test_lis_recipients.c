/* [notify] recipients (lis/conf/lis_recipients.c): rules per site, * for the rest, and the
 * words that stop lisd at start. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lis_recipients.h"

static void test_rules_give_each_site_its_own_else_the_star_rule(void)
{
	struct lis_recipients rs;
	char why[200] = "";
	if (!CHECKF(lis_recipients_parse(" hq = webhook:https://desk.hq.example/lis?k=1 , "
					 "mail:desk@hq.example, syslog ;; * = mail:soc@example.org",
					 &rs, why, sizeof why) == 0, "%s", why))
		return;
	CHECK(rs.n == 4);
	const struct lis_recipient *r[8];
	size_t n = lis_recipients_of(&rs, "hq", r, 8);
	if (CHECK(n == 3)) {
		CHECK(r[0]->channel == LIS_CH_WEBHOOK);
		CHECK_STR(r[0]->address, "https://desk.hq.example/lis?k=1");
		CHECK(r[1]->channel == LIS_CH_MAIL);
		CHECK_STR(r[1]->address, "desk@hq.example");
		CHECK(r[2]->channel == LIS_CH_SYSLOG);
		CHECK_STR(lis_channel_name(r[2]->channel), "syslog");
	}
	n = lis_recipients_of(&rs, "branch", r, 8);
	CHECK(n == 1 && strcmp(r[0]->address, "soc@example.org") == 0);
	n = lis_recipients_of(&rs, NULL, r, 8);     /* not located: the * rule */
	CHECK(n == 1 && r[0]->channel == LIS_CH_MAIL);
	CHECK(lis_recipients_use(&rs, LIS_CH_WEBHOOK) && lis_recipients_use(&rs, LIS_CH_SYSLOG));
	lis_recipients_free(&rs);

	CHECK(lis_recipients_parse("", &rs, why, sizeof why) == 0 && rs.n == 0);
	CHECK(lis_recipients_of(&rs, "hq", r, 8) == 0);
	lis_recipients_free(&rs);
}

static void test_bad_rules_are_refused_with_the_reason(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"hq webhook:https://x", "is not SITE = CHANNEL"},
		{"hq = webhook:http://x.example/", "is not an https URL"},
		{"hq = mail:desk", "is not an e-mail address"},
		{"hq = mail:a@b@c", "is not an e-mail address"},
		{"hq = mail", "needs an address"},
		{"hq = syslog:/dev/log", "takes no address"},
		{"hq = pager:123", "is not webhook:URL"},
		{" = syslog", "the site before = is empty"},
		{"hq = syslog,", "an empty item"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct lis_recipients rs;
		char why[200] = "";
		CHECKF(lis_recipients_parse(bad[i].text, &rs, why, sizeof why) < 0 &&
		       strstr(why, bad[i].why), "\"%s\": %s", bad[i].text, why);
		CHECK(rs.n == 0);
	}
}

int main(void)
{
	t_run("rules_give_each_site_its_own_else_the_star_rule",
	      test_rules_give_each_site_its_own_else_the_star_rule);
	t_run("bad_rules_are_refused_with_the_reason", test_bad_rules_are_refused_with_the_reason);
	return t_done();
}
