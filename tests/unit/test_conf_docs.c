/* The configuration pages and examples against the key tables they document: lis.conf(5)
 * and deploy/lis.conf.example against lisd's (lis/conf/lis_conf.c), wiremapd.conf(5) and
 * deploy/wiremapd.conf.example against wiremapd's (wiremap/wiremapd/wmd_config.c).
 *
 * - The page: every key has an entry (a .TP paragraph whose tag line begins with the key)
 *   under its section's header ([section] in .SH or .SS), and the paragraph gives the
 *   table's default: "(default X" or "Default X", or for an empty default "empty", "(the
 *   default)" or what empty means ("(default: the host name)").
 * - The example: every key has its line under its section ("key = value", or ";key = value"
 *   where the value is one to choose rather than the default), and an uncommented line sets
 *   the table's default.
 * Both are read from the source tree (argv[1]). */
#include "check.h"
#include "lis_conf.h"
#include "lis_conftab.h"
#include "wmd_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct docs {
	const char *name;                 /* in messages */
	const struct conftab_table *t;
	const char *page_path, *example_path;  /* under the source tree */
	char *page, *example;
};

static struct docs docs[] = {
	{"lis.conf", &lis_conf_table, "man/lis.conf.5", "deploy/lis.conf.example", NULL, NULL},
	{"wiremapd.conf", &wmd_conf_table, "man/wiremapd.conf.5", "deploy/wiremapd.conf.example",
	 NULL, NULL},
};
#define N_DOCS (sizeof docs / sizeof docs[0])

/* The line at l: its length, and where the next begins (NULL: none). */
static size_t line_len(const char *l, const char **next)
{
	const char *end = strchr(l, '\n');
	*next = end ? end + 1 : NULL;
	return end ? (size_t)(end - l) : strlen(l);
}

/* A line of the page as read: without its macro (".BR " ...), quotes and "\-" escapes. */
static void plain(const char *l, size_t n, char *out, size_t size)
{
	size_t i = 0, o = 0;
	if (n && l[0] == '.') {
		while (i < n && l[i] != ' ')
			i++;
		i++;
	}
	for (; i < n && o + 1 < size; i++) {
		if (l[i] == '"')
			continue;
		if (l[i] == '\\' && i + 1 < n && l[i + 1] == '-')
			continue;
		out[o++] = l[i];
	}
	out[o] = '\0';
}

static bool section_end(const char *l)
{
	return strncmp(l, ".SH", 3) == 0 || strncmp(l, ".SS", 3) == 0;
}

static bool paragraph_end(const char *l)
{
	return section_end(l) || strncmp(l, ".TP", 3) == 0;
}

/* The entry of key name under [section] of the page, as plain text (tag line and paragraph,
 * joined by spaces) into out; false: none. */
static bool page_entry(const char *page, const char *section, const char *name, char *out,
		       size_t size)
{
	char head[96], key[96];
	const char *l = NULL, *next;
	for (int m = 0; m < 2 && !l; m++) {
		snprintf(head, sizeof head, "\n.%s [%s]\n", m ? "SS" : "SH", section);
		l = strstr(page, head);
	}
	if (!l)
		return false;
	t_roff_dashes(name, key, sizeof key);
	size_t k = strlen(key);
	line_len(l + 1, &l);  /* past the header */
	bool tag = false;     /* the line before was .TP */
	for (; l && !section_end(l); l = next) {
		size_t n = line_len(l, &next);
		/* ".B", ".BI" or ".BR", then the key (read past ".B" only where it is) */
		const char *a = strncmp(l, ".B", 2) == 0 ? l + 2 + strspn(l + 2, "IR") : l;
		if (tag && a != l && *a == ' ' && strncmp(a + 1, key, k) == 0 &&
		    (a[1 + k] == ' ' || a + 1 + k == l + n)) {
			size_t o = 0;
			for (const char *p = l; p && (p == l || !paragraph_end(p)); p = next) {
				size_t pn = line_len(p, &next);
				char buf[512];
				plain(p, pn, buf, sizeof buf);
				o += (size_t)snprintf(out + o, size - o, "%s ", buf);
				if (o >= size)
					return true;  /* a long paragraph: its start will do */
			}
			return true;
		}
		tag = n == 3 && strncmp(l, ".TP", 3) == 0;
	}
	return false;
}

/* Does text hold what (then a boundary: space, punctuation or its end)? */
static bool has_word(const char *text, const char *what)
{
	size_t n = strlen(what);
	for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
		if (!p[n] || strchr(" ,.;)", p[n]))
			return true;
	return false;
}

static void check_page(const struct docs *d)
{
	for (size_t i = 0; i < d->t->n_keys; i++) {
		const struct conftab_key *k = &d->t->keys[i];
		char para[4096], want[300];
		if (!CHECKF(page_entry(d->page, k->section, k->name, para, sizeof para),
			    "%s: no entry for [%s] %s", d->page_path, k->section, k->name))
			continue;
		if (!k->def || !*k->def) {
			CHECKF(strstr(para, "(default empty") || strstr(para, "(default: ") ||
			       strstr(para, "Default empty") || strstr(para, "(the default)"),
			       "%s: [%s] %s has no default, the entry says: %.300s", d->page_path,
			       k->section, k->name, para);
			continue;
		}
		snprintf(want, sizeof want, "(default %s", k->def);
		bool ok = has_word(para, want);
		snprintf(want, sizeof want, "Default %s", k->def);
		CHECKF(ok || has_word(para, want),
		       "%s: [%s] %s defaults to %s, the entry says: %.300s", d->page_path,
		       k->section, k->name, k->def, para);
	}
}

/* The value of key's line under [section] of the example ("key = value", or
 * ";key = value": *commented), without a comment after it; false: no such line. */
static bool example_line(const char *ex, const char *section, const char *name, char *val,
			 size_t size, bool *commented)
{
	char head[96];
	snprintf(head, sizeof head, "\n[%s]\n", section);
	const char *l = strstr(ex, head), *next;
	if (!l)
		return false;
	size_t k = strlen(name);
	line_len(l + 1, &l);
	for (; l && *l != '['; l = next) {
		size_t n = line_len(l, &next);
		const char *a = l + (*l == ';');
		if (strncmp(a, name, k) != 0 || !strchr(" =", a[k]))
			continue;
		const char *v = a + k + strspn(a + k, " ");
		if (*v != '=')
			continue;
		v += 1 + strspn(v + 1, " ");
		size_t vn = n - (size_t)(v - l);
		const char *c = memchr(v, ';', vn);  /* a comment: "; ..." after a space */
		while (c && c > v && c[-1] != ' ' && c[-1] != '\t')
			c = memchr(c + 1, ';', vn - (size_t)(c + 1 - v));
		if (c)
			vn = (size_t)(c - v);
		while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		snprintf(val, size, "%.*s", (int)vn, v);
		*commented = *l == ';';
		return true;
	}
	return false;
}

static void check_example(const struct docs *d)
{
	for (size_t i = 0; i < d->t->n_keys; i++) {
		const struct conftab_key *k = &d->t->keys[i];
		char val[512];
		bool commented = false;
		if (!CHECKF(example_line(d->example, k->section, k->name, val, sizeof val,
					 &commented),
			    "%s: no line for [%s] %s", d->example_path, k->section, k->name))
			continue;
		const char *def = k->def ? k->def : "";
		CHECKF(commented || strcmp(val, def) == 0,
		       "%s sets [%s] %s = %s, its default is %s", d->example_path, k->section,
		       k->name, val, def);
	}
}

static void test_lis_conf_page_has_every_key_and_default(void)
{
	check_page(&docs[0]);
}

static void test_lis_conf_example_shows_every_key_with_its_default(void)
{
	check_example(&docs[0]);
}

static void test_wiremapd_conf_page_has_every_key_and_default(void)
{
	check_page(&docs[1]);
}

static void test_wiremapd_conf_example_shows_every_key_with_its_default(void)
{
	check_example(&docs[1]);
}

int main(int argc, char **argv)
{
	const char *top = argc > 1 ? argv[1] : ".";
	for (size_t i = 0; i < N_DOCS; i++) {
		char path[2][1024];
		snprintf(path[0], sizeof path[0], "%s/%s", top, docs[i].page_path);
		snprintf(path[1], sizeof path[1], "%s/%s", top, docs[i].example_path);
		docs[i].page = t_read_file(path[0], NULL);
		docs[i].example = t_read_file(path[1], NULL);
		if (!docs[i].page || !docs[i].example) {
			printf("Bail out! %s cannot be read\n", docs[i].page ? path[1] : path[0]);
			return 1;
		}
	}
	t_run("lis_conf_page_has_every_key_and_default",
	      test_lis_conf_page_has_every_key_and_default);
	t_run("lis_conf_example_shows_every_key_with_its_default",
	      test_lis_conf_example_shows_every_key_with_its_default);
	t_run("wiremapd_conf_page_has_every_key_and_default",
	      test_wiremapd_conf_page_has_every_key_and_default);
	t_run("wiremapd_conf_example_shows_every_key_with_its_default",
	      test_wiremapd_conf_example_shows_every_key_with_its_default);
	for (size_t i = 0; i < N_DOCS; i++) {
		free(docs[i].page);
		free(docs[i].example);
	}
	return t_done();
}
