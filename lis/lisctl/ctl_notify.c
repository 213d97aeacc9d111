/* `lisctl notify test SITE`: a TEST notification through every channel [notify] recipients
 * gives the site, sent as lisd's notifier sends (lis/notify), each outcome printed and, when
 * the database answers, logged in notify_log with sender lisctl. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "db_notify.h"
#include "lis_notify.h"
#include "lis_recipients.h"

void ctl_notify_usage(FILE *out)
{
	fprintf(out,
		"usage: lisctl notify test SITE\n"
		"  send a TEST notification to every recipient of site SITE ([notify] recipients\n"
		"  of lis.conf: the site's rule, else *) and print each outcome; exit 0 when all\n"
		"  were delivered, 1 when one was not, 2 when the site has no recipient\n");
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/* A notification that exists nowhere else: id 0 (lis_notify_id() makes a lis-test- id). */
static int fake(struct db_notification *n, const char *site)
{
	char now[40];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	memset(n, 0, sizeof *n);
	n->test = true;
	n->queries = 1;
	char **fields[] = {&n->target, &n->first_at, &n->last_at, &n->instance, &n->requester_ip,
			   &n->requester_subject, &n->response_time, &n->result, &n->site_key,
			   &n->location_key, &n->address, &n->source, &n->evidence};
	const char *values[] = {"lisctl-notify-test", now, now, "lisctl", "", "",
				"emergencyRouting", "test", site, "", "", "", ""};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (!(*fields[i] = dup_or_empty(values[i])))
			return -1;
	return 0;
}

int ctl_cmd_notify(const struct ctl_settings *set, int argc, char **argv)
{
	/* argv[0] "notify", argv[1] "test", argv[2] SITE */
	if (argc != 3 || strcmp(argv[1], "test") != 0) {
		ctl_notify_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	const char *site = argv[2];
	struct lis_recipients rs;
	struct lis_notify_transport tr;
	struct lis_error err = {0};
	char why[300];
	if (lis_recipients_parse(set->cfg.notify_recipients, &rs, why, sizeof why) < 0) {
		fprintf(stderr, "lisctl: [notify] recipients: %s\n", why);
		return CTL_EXIT_USAGE;
	}
	const struct lis_recipient *to[64];
	size_t n = lis_recipients_of(&rs, site, to, 64);
	if (n == 0) {
		fprintf(stderr, "lisctl: notify test: site %s has no recipient ([notify] "
			"recipients has no rule for it, nor *)\n", site);
		lis_recipients_free(&rs);
		return CTL_EXIT_USAGE;
	}
	if (lis_notify_global_init(&err) < 0 ||
	    lis_notify_transport_init(&tr, &set->cfg, &err) < 0) {
		fprintf(stderr, "lisctl: notify test: %s\n", err.msg);
		lis_recipients_free(&rs);
		return lis_error_exit_status(&err);
	}
	struct db_conn *db = db_connect(set->conninfo, &err);
	if (!db)
		fprintf(stderr, "lisctl: notify test: attempts not logged in notify_log: %s\n",
			err.msg);
	struct db_notification note;
	bool oom = fake(&note, site) < 0, failed = oom;
	if (oom)
		fprintf(stderr, "lisctl: notify test: out of memory\n");
	for (size_t i = 0; i < n && !oom; i++) {
		const char *channel = lis_channel_name(to[i]->channel);
		free(note.channel);
		free(note.recipient);
		note.channel = dup_or_empty(channel);
		note.recipient = dup_or_empty(to[i]->address);
		bool ok = note.channel && note.recipient &&
			  lis_notify_send(&tr, &note, why, sizeof why) == 0;
		if (ok)
			printf("%s %s delivered\n", channel, to[i]->address);
		else
			printf("%s %s failed: %s\n", channel, to[i]->address, why);
		if (db && db_notify_log_add(db, site, channel, to[i]->address, true,
					    ok ? DB_NOTIFY_DELIVERED : DB_NOTIFY_FAILED,
					    ok ? NULL : why, "lisctl", &err) < 0)
			fprintf(stderr, "lisctl: notify test: %s\n", err.msg);
		failed |= !ok;
	}
	db_notification_clear(&note);
	db_close(db);
	lis_notify_transport_wipe(&tr);
	lis_recipients_free(&rs);
	return failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
