/* Emergency notifications as they leave the LIS (lisd(8) NOTIFICATIONS): the texts (a JSON
 * document for webhooks, a mail, a syslog line) made from one notification, and the three
 * channels that carry them: an HTTPS POST signed with HMAC-SHA256 (libcurl, OpenSSL), SMTP
 * with STARTTLS (libcurl), a datagram to the syslog socket. lisd's notifier sends from its
 * outbox, `lisctl notify test` sends a TEST. Nothing here touches the database. */
#ifndef LIS_NOTIFY_H
#define LIS_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "db_notify.h"
#include "lis_conf.h"
#include "lis_error.h"
#include "lis_recipients.h"

/* What the channels need of lis.conf, and the webhook key read from its file. */
struct lis_notify_transport {
	const struct lis_config *cfg;
	unsigned char secret[256];
	size_t secret_len;            /* 0: no webhook key (no webhook recipient) */
};

/* Read the webhook secret (first line of webhook_secret_file, when set). Errors are
 * configuration errors (LIS_E_USAGE) naming the file, never its contents. Call
 * curl_global_init() once before (lis_notify_global_init()). */
int lis_notify_transport_init(struct lis_notify_transport *t, const struct lis_config *cfg,
			      struct lis_error *err);
void lis_notify_transport_wipe(struct lis_notify_transport *t);
/* libcurl's global set-up: once per process, before threads start. */
int lis_notify_global_init(struct lis_error *err);

/* The id deliveries carry (Idempotency-Key, Message-ID's left part): "lis-notification-ID",
 * or for a test outside the outbox (id 0) "lis-test-" and the time. */
void lis_notify_id(const struct db_notification *n, char *buf, size_t size);
/* The callback number: the tel: URI among the target's identities, "" when none. */
void lis_notify_callback(const char *target, char *buf, size_t size);

/* The webhook body (malloc'd JSON), the mail (malloc'd RFC 5322 message to `to`), the syslog
 * message (into buf). NULL when out of memory. */
char *lis_notify_json(const struct db_notification *n);
char *lis_notify_mail(const struct db_notification *n, const char *from, const char *to,
		      const char *domain);
void lis_notify_syslog_line(const struct db_notification *n, char *buf, size_t size);

/* "sha256=" and the lower-case hex HMAC-SHA256 of body under key. */
void lis_notify_signature(const unsigned char *key, size_t key_len, const char *body,
			  size_t len, char *out, size_t size);

/* Deliver n through n->channel to n->recipient. 0 when the receiver took it (webhook 2xx,
 * SMTP 250 after DATA, the datagram sent); -1 with why (no secret in it). */
int lis_notify_send(const struct lis_notify_transport *t, const struct db_notification *n,
		    char *why, size_t why_size);

#endif
