/* The channels of a notification (see lis_notify.h). */
#include "lis_notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "lis_strbuf.h"

int lis_notify_global_init(struct lis_error *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return lis_error_set(err, LIS_E_SYSTEM, "notify: libcurl cannot start");
	return 0;
}

int lis_notify_transport_init(struct lis_notify_transport *t, const struct lis_config *cfg,
			      struct lis_error *err)
{
	memset(t, 0, sizeof *t);
	t->cfg = cfg;
	const char *path = cfg->notify_webhook_secret_file;
	if (!path || !path[0])
		return 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return lis_error_set(err, LIS_E_USAGE, "[notify] webhook_secret_file %s: cannot be "
				     "read: %s", path, strerror(errno));
	char line[sizeof t->secret + 2];
	bool got = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	size_t n = got ? strcspn(line, "\r\n") : 0;
	int rc = 0;
	if (n == 0)
		rc = lis_error_set(err, LIS_E_USAGE, "[notify] webhook_secret_file %s: the first "
				   "line is empty", path);
	else if (n > sizeof t->secret)
		rc = lis_error_set(err, LIS_E_USAGE, "[notify] webhook_secret_file %s: the first "
				   "line is longer than %zu bytes", path, sizeof t->secret);
	else {
		memcpy(t->secret, line, n);
		t->secret_len = n;
	}
	OPENSSL_cleanse(line, sizeof line);
	return rc;
}

void lis_notify_transport_wipe(struct lis_notify_transport *t)
{
	OPENSSL_cleanse(t->secret, sizeof t->secret);
	t->secret_len = 0;
}

/* A handle with what every transfer shares: a deadline, no signals, no redirects, the
 * protocol the channel allows (nothing leaves by another way than asked). */
static CURL *easy(const struct lis_notify_transport *t, const char *url, long proto,
		  const char *ca, char *errbuf)
{
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)t->cfg->notify_timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)t->cfg->notify_timeout);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, proto == CURLPROTO_HTTPS ? "https" : "smtp");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca && ca[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	return c;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p; (void)ctx;
	return size * n;
}

static int send_webhook(const struct lis_notify_transport *t, const struct db_notification *n,
			char *why, size_t why_size)
{
	char errbuf[CURL_ERROR_SIZE], id[80], h_id[128], h_sig[128], sig[80];
	char *body = lis_notify_json(n);
	if (!body)
		return snprintf(why, why_size, "out of memory"), -1;
	if (!t->secret_len) {
		free(body);
		return snprintf(why, why_size, "no webhook_secret_file"), -1;
	}
	size_t len = strlen(body);
	lis_notify_id(n, id, sizeof id);
	lis_notify_signature(t->secret, t->secret_len, body, len, sig, sizeof sig);
	snprintf(h_id, sizeof h_id, "Idempotency-Key: %s", id);
	snprintf(h_sig, sizeof h_sig, "X-LIS-Signature: %s", sig);
	struct curl_slist *h = NULL, *x;
	const char *lines[] = {"Content-Type: application/json", h_id, h_sig,
			       n->test ? "X-LIS-Test: 1" : NULL, "Expect:"};
	int rc = -1;
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		if (!lines[i])
			continue;
		if (!(x = curl_slist_append(h, lines[i])))
			goto out;
		h = x;
	}
	CURL *c = easy(t, n->recipient, CURLPROTO_HTTPS, t->cfg->notify_webhook_ca, errbuf);
	if (!c)
		goto out;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK)
		snprintf(why, why_size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else if (status < 200 || status > 299)
		snprintf(why, why_size, "HTTP status %ld", status);
	else
		rc = 0;
out:
	if (rc < 0 && !why[0])
		snprintf(why, why_size, "out of memory");
	curl_slist_free_all(h);
	free(body);
	return rc;
}

struct upload {
	const char *p;
	size_t left;
};

static size_t read_upload(char *buf, size_t size, size_t n, void *ctx)
{
	struct upload *u = ctx;
	size_t k = size * n < u->left ? size * n : u->left;
	memcpy(buf, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

/* RFC 3207 STARTTLS is required (CURLUSESSL_ALL): a server that does not offer it, or
 * whose certificate does not verify, gets nothing. */
static int send_mail(const struct lis_notify_transport *t, const struct db_notification *n,
		     char *why, size_t why_size)
{
	const struct lis_config *cfg = t->cfg;
	char errbuf[CURL_ERROR_SIZE], from[300], to[300];
	const char *domain = strchr(cfg->notify_mail_from, '@');
	char *msg = lis_notify_mail(n, cfg->notify_mail_from, n->recipient,
				    domain ? domain + 1 : "lis.invalid");
	if (!msg)
		return snprintf(why, why_size, "out of memory"), -1;
	snprintf(from, sizeof from, "<%s>", cfg->notify_mail_from);
	snprintf(to, sizeof to, "<%s>", n->recipient);
	struct curl_slist *rcpt = curl_slist_append(NULL, to);
	CURL *c = rcpt ? easy(t, cfg->notify_mail_server, CURLPROTO_SMTP, cfg->notify_mail_ca,
			      errbuf) : NULL;
	int rc = -1;
	if (!c) {
		snprintf(why, why_size, "out of memory");
		goto out;
	}
	struct upload u = {msg, strlen(msg)};
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	CURLcode cc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK)
		snprintf(why, why_size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else
		rc = 0;
out:
	curl_slist_free_all(rcpt);
	free(msg);
	return rc;
}

/* RFC 3164 over the local datagram socket, facility daemon, severity alert: "<25>". */
static int send_syslog(const struct lis_notify_transport *t, const struct db_notification *n,
		       char *why, size_t why_size)
{
	char line[3000], msg[3200], stamp[32];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = t->cfg->notify_syslog_socket;
	if (strlen(path) >= sizeof sa.sun_path)
		return snprintf(why, why_size, "syslog_socket path too long"), -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
	lis_notify_syslog_line(n, line, sizeof line);
	int len = snprintf(msg, sizeof msg, "<25>%s lisd-notify[%ld]: %s", stamp, (long)getpid(),
			   line);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return snprintf(why, why_size, "socket: %s", strerror(errno)), -1;
	ssize_t w = sendto(fd, msg, len < (int)sizeof msg ? (size_t)len : sizeof msg - 1, 0,
			   (const struct sockaddr *)&sa, sizeof sa);
	int e = errno;
	close(fd);
	if (w < 0)
		return snprintf(why, why_size, "%s: %s", path, strerror(e)), -1;
	return 0;
}

int lis_notify_send(const struct lis_notify_transport *t, const struct db_notification *n,
		    char *why, size_t why_size)
{
	why[0] = '\0';
	switch (lis_channel_parse(n->channel)) {
	case LIS_CH_WEBHOOK:
		return send_webhook(t, n, why, why_size);
	case LIS_CH_MAIL:
		return send_mail(t, n, why, why_size);
	case LIS_CH_SYSLOG:
		return send_syslog(t, n, why, why_size);
	default:
		snprintf(why, why_size, "unknown channel \"%.20s\"", n->channel);
		return -1;
	}
}
