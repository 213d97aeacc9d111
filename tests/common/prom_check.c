/* A checker of the Prometheus text exposition format 0.0.4 (prom_check.h), strict enough to
 * refuse what a Prometheus server would, for the texts lisd and wiremapd write. */
#include "prom_check.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_name(const char *s, size_t n, bool colon)
{
	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && !(colon && s[i] == ':'))
			return false;
	return true;
}

/* A sample value: a Go ParseFloat number, +Inf, -Inf or NaN, the whole token. */
static bool is_value(const char *s, double *v)
{
	if (strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0 || strcmp(s, "NaN") == 0) {
		*v = strcmp(s, "NaN") == 0 ? NAN : s[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	char *end;
	*v = strtod(s, &end);
	return end != s && *end == '\0' && !isalpha((unsigned char)s[0]);
}

struct family {
	char name[128];
	char type[16];
	bool help, typed, sampled;
};

const char *prom_check(const char *text)
{
	static char why[600];
	static struct family fams[128];
	static char series[1024][200];
	size_t n_fams = 0, n_series = 0;
	struct family *cur = NULL;
	double last_bucket = -1, inf_bucket = -1;
	int lineno = 0;
	why[0] = '\0';
#define BAD(...) do { \
		int k_ = snprintf(why, sizeof why, "line %d: ", lineno); \
		snprintf(why + k_, sizeof why - (size_t)k_, __VA_ARGS__); \
		return why; \
	} while (0)
	if (!text[0] || text[strlen(text) - 1] != '\n')
		BAD("the text is empty or does not end with a newline");
	for (const char *p = text; *p; ) {
		const char *nl = strchr(p, '\n');
		char line[2048];
		size_t len = (size_t)(nl - p);
		lineno++;
		if (len >= sizeof line)
			BAD("too long");
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0) {
			bool help = line[2] == 'H';
			char *name = line + 7, *sp = strchr(name, ' ');
			if (!sp || !is_name(name, (size_t)(sp - name), true))
				BAD("%.100s without a metric name and text",
				    help ? "HELP" : "TYPE");
			*sp = '\0';
			struct family *f = NULL;
			for (size_t i = 0; i < n_fams; i++)
				if (strcmp(fams[i].name, name) == 0)
					f = &fams[i];
			if (!f) {
				if (n_fams == 128)
					BAD("too many families");
				f = &fams[n_fams++];
				memset(f, 0, sizeof *f);
				snprintf(f->name, sizeof f->name, "%.127s", name);
			}
			if (f->sampled)
				BAD("%.100s of %.100s after its samples",
				    help ? "HELP" : "TYPE", name);
			if (help) {
				if (f->help)
					BAD("second HELP for %.100s", name);
				f->help = true;
				for (char *c = sp + 1; *c; c++)
					if (*c == '\\' && c[1] != '\\' && c[1] != 'n')
						BAD("HELP of %.100s: bad escape", name);
			} else {
				const char *t = sp + 1;
				if (f->typed)
					BAD("second TYPE for %.100s", name);
				if (strcmp(t, "counter") && strcmp(t, "gauge") &&
				    strcmp(t, "histogram") && strcmp(t, "summary") &&
				    strcmp(t, "untyped"))
					BAD("TYPE %.100s: unknown type \"%.100s\"", name, t);
				f->typed = true;
				snprintf(f->type, sizeof f->type, "%.15s", t);
			}
			if (cur != f && cur && strcmp(cur->type, "histogram") == 0 &&
			    inf_bucket >= 0)
				BAD("histogram %.100s ended without its _count", cur->name);
			cur = f;
			last_bucket = inf_bucket = -1;
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			continue;
		/* a sample: name [{labels}] value [timestamp] */
		size_t nlen = strcspn(line, "{ ");
		if (!is_name(line, nlen, true))
			BAD("bad metric name in \"%.100s\"", line);
		char name[200];
		snprintf(name, sizeof name, "%.*s", (int)nlen, line);
		const char *q = line + nlen;
		char le[64] = "";
		if (*q == '{') {
			q++;
			while (*q != '}') {
				size_t ln = strcspn(q, "=");
				if (!is_name(q, ln, false) || q[ln] != '=' || q[ln + 1] != '"')
					BAD("bad label in \"%.100s\"", line);
				bool is_le = ln == 2 && strncmp(q, "le", 2) == 0;
				q += ln + 2;
				char val[128];
				size_t vn = 0;
				while (*q != '"') {
					if (!*q)
						BAD("unterminated label value in \"%.100s\"", line);
					if (*q == '\\') {
						if (q[1] != '\\' && q[1] != '"' && q[1] != 'n')
							BAD("bad escape in \"%.100s\"", line);
						q++;
					}
					if (vn + 1 < sizeof val)
						val[vn++] = *q;
					q++;
				}
				val[vn] = '\0';
				if (is_le)
					snprintf(le, sizeof le, "%s", val);
				q++;
				if (*q == ',')
					q++;
				else if (*q != '}')
					BAD("labels not separated by , in \"%.100s\"", line);
			}
			q++;
		}
		if (*q != ' ')
			BAD("no space before the value in \"%.100s\"", line);
		q++;
		char tok[64];
		size_t tn = strcspn(q, " ");
		if (tn == 0 || tn >= sizeof tok)
			BAD("no value in \"%.100s\"", line);
		snprintf(tok, sizeof tok, "%.*s", (int)tn, q);
		double v;
		if (!is_value(tok, &v))
			BAD("\"%.100s\" is not a value", tok);
		if (q[tn] == ' ') {
			const char *ts = q + tn + 1;
			const char *digits = ts + (*ts == '-');
			if (!*digits || strspn(digits, "0123456789") != strlen(digits))
				BAD("bad timestamp in \"%.100s\"", line);
		}
		/* the sample belongs to the family declared last */
		if (!cur)
			BAD("sample \"%.100s\" before any TYPE", name);
		size_t fl = strlen(cur->name);
		bool hist = strcmp(cur->type, "histogram") == 0;
		const char *suffix = strncmp(name, cur->name, fl) == 0 ? name + fl : NULL;
		if (!suffix || (*suffix && !(hist && (strcmp(suffix, "_bucket") == 0 ||
						      strcmp(suffix, "_sum") == 0 ||
						      strcmp(suffix, "_count") == 0))))
			BAD("sample %.100s is not of family %.100s", name, cur->name);
		cur->sampled = true;
		if (hist && strcmp(suffix, "_bucket") == 0) {
			if (!le[0])
				BAD("bucket without le");
			if (v < last_bucket)
				BAD("buckets of %.100s not cumulative", cur->name);
			last_bucket = v;
			if (strcmp(le, "+Inf") == 0)
				inf_bucket = v;
		} else if (hist && strcmp(suffix, "_count") == 0) {
			if (inf_bucket < 0 || v != inf_bucket)
				BAD("%.100s_count %g is not the le=\"+Inf\" bucket", cur->name, v);
			inf_bucket = -1;
		}
		char key[200];
		snprintf(key, sizeof key, "%.*s", (int)(q - 1 - line), line);
		for (size_t i = 0; i < n_series; i++)
			if (strcmp(series[i], key) == 0)
				BAD("series %.100s twice", key);
		if (n_series < 1024)
			snprintf(series[n_series++], sizeof series[0], "%s", key);
	}
	if (cur && strcmp(cur->type, "histogram") == 0 && inf_bucket >= 0)
		BAD("histogram %.100s ended without its _count", cur->name);
	for (size_t i = 0; i < n_fams; i++)
		if (!fams[i].help || !fams[i].typed)
			BAD("family %.100s lacks HELP or TYPE", fams[i].name);
#undef BAD
	return "";
}

double prom_sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

