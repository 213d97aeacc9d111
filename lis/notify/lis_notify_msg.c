/* The texts of a notification (see lis_notify.h). */
#include "lis_notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/hmac.h>

#include "lis_strbuf.h"

void lis_notify_id(const struct db_notification *n, char *buf, size_t size)
{
	if (n->id > 0) {
		snprintf(buf, size, "lis-notification-%lld", n->id);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, size, "lis-test-%lld%06ld-%ld", (long long)ts.tv_sec, ts.tv_nsec / 1000,
		 (long)getpid());
}

void lis_notify_callback(const char *target, char *buf, size_t size)
{
	/* identity text (proto/ident.h): words separated by spaces, a tel URI written as is */
	buf[0] = '\0';
	for (const char *p = target ? target : ""; *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > 4 && strncmp(p, "tel:", 4) == 0) {
			snprintf(buf, size, "%.*s", (int)len, p);
			return;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
}

/* "" as JSON null: the outbox gives "" for SQL NULL. */
static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

char *lis_notify_json(const struct db_notification *n)
{
	char id[80], cb[200];
	lis_notify_id(n, id, sizeof id);
	lis_notify_callback(n->target, cb, sizeof cb);
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "test", json_boolean(n->test));
	json_object_set_new(o, "kind", json_string("emergency_call"));
	json_object_set_new(o, "response_time", str_or_null(n->response_time));
	json_object_set_new(o, "at", str_or_null(n->first_at));
	json_object_set_new(o, "last_at", str_or_null(n->last_at));
	json_object_set_new(o, "queries", json_integer(n->queries));
	json_object_set_new(o, "target", str_or_null(n->target));
	json_object_set_new(o, "callback", str_or_null(cb));
	json_object_set_new(o, "requester", str_or_null(n->requester_ip));
	json_object_set_new(o, "requester_subject", str_or_null(n->requester_subject));
	json_object_set_new(o, "result", str_or_null(n->result));
	json_object_set_new(o, "site", str_or_null(n->site_key));
	json_object_set_new(o, "location", str_or_null(n->location_key));
	json_object_set_new(o, "address", str_or_null(n->address));
	json_object_set_new(o, "source", str_or_null(n->source));
	json_object_set_new(o, "evidence", str_or_null(n->evidence));
	json_object_set_new(o, "lis_instance", str_or_null(n->instance));
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	return s;
}

/* One header value: control bytes (a CR or LF would start a header of its own) as spaces. */
static void put_header_value(struct strbuf *b, const char *s)
{
	for (; s && *s; s++)
		strbuf_put(b, (unsigned char)*s < 0x20 || *s == 0x7f ? " " : s, 1);
}

/* One body line "Name: value" (a value's line breaks as spaces). */
static void put_line(struct strbuf *b, const char *name, const char *value)
{
	strbuf_printf(b, "%-14s ", name);
	put_header_value(b, value && value[0] ? value : "-");
	strbuf_puts(b, "\r\n");
}

char *lis_notify_mail(const struct db_notification *n, const char *from, const char *to,
		      const char *domain)
{
	char id[80], cb[200], date[64], queries[32];
	struct strbuf b = {0};
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	lis_notify_id(n, id, sizeof id);
	lis_notify_callback(n->target, cb, sizeof cb);
	snprintf(queries, sizeof queries, "%d", n->queries);
	const char *test = n->test ? "[TEST] " : "";

	strbuf_printf(&b, "From: %s\r\nTo: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n", from, to,
		      date, id, domain);
	strbuf_printf(&b, "Subject: %sEmergency call: ", test);
	put_header_value(&b, n->target);
	if (n->location_key && n->location_key[0]) {
		strbuf_puts(&b, " at ");
		put_header_value(&b, n->location_key);
	}
	strbuf_puts(&b, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n");
	if (n->test)
		strbuf_puts(&b, "X-LIS-Test: 1\r\n");
	strbuf_puts(&b, "\r\n");
	if (n->test)
		strbuf_puts(&b, "THIS IS A TEST. No emergency call was made.\r\n\r\n");
	strbuf_puts(&b, "The location server answered an emergency location request.\r\n\r\n");
	put_line(&b, "When:", n->first_at);
	put_line(&b, "Last query:", n->last_at);
	put_line(&b, "Queries:", queries);
	put_line(&b, "Request:", n->response_time);
	put_line(&b, "Who:", n->target);
	put_line(&b, "Callback:", cb);
	put_line(&b, "Requester:", n->requester_ip);
	put_line(&b, "Result:", n->result);
	put_line(&b, "Site:", n->site_key);
	put_line(&b, "Location:", n->location_key);
	put_line(&b, "Address:", n->address);
	put_line(&b, "Source:", n->source);
	put_line(&b, "Evidence:", n->evidence);
	put_line(&b, "Notification:", id);
	if (b.cut) {
		strbuf_free(&b);
		return NULL;
	}
	return b.s;
}

void lis_notify_syslog_line(const struct db_notification *n, char *buf, size_t size)
{
	char id[80], cb[200];
	lis_notify_id(n, id, sizeof id);
	lis_notify_callback(n->target, cb, sizeof cb);
	struct strbuf b;
	strbuf_init(&b, buf, size);
	strbuf_printf(&b, "emergency_call%s id=%s at=%s queries=%d response_time=%s target=\"",
		      n->test ? " TEST" : "", id, n->first_at, n->queries, n->response_time);
	put_header_value(&b, n->target);
	strbuf_printf(&b, "\" callback=%s result=%s site=%s location=\"", cb[0] ? cb : "-",
		      n->result, n->site_key[0] ? n->site_key : "-");
	put_header_value(&b, n->location_key);
	strbuf_puts(&b, "\" address=\"");
	put_header_value(&b, n->address);
	strbuf_printf(&b, "\" source=%s", n->source[0] ? n->source : "-");
}

void lis_notify_signature(const unsigned char *key, size_t key_len, const char *body,
			  size_t len, char *out, size_t size)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	struct strbuf b;
	strbuf_init(&b, out, size);
	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)body, len, mac,
		  &mac_len))
		mac_len = 0;
	strbuf_puts(&b, "sha256=");
	for (unsigned i = 0; i < mac_len; i++)
		strbuf_printf(&b, "%02x", mac[i]);
}
