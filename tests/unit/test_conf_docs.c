/* lis.conf(5) against lisd's key table (lis/conf/lis_conf.c): every key has its entry under
 * its section, and the entry gives the default the table has. The page is read from the
 * source tree (argv[1]). */
#include "check.h"
#include "lis_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *top = ".";
static char *page;

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *s = malloc(cap);
	size_t r;
	while (s && (r = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n + 1 == cap) {
			char *t = realloc(s, cap *= 2);
			if (!t)
				free(s);
			s = t;
		}
	}
	fclose(f);
	if (s)
		s[n] = '\0';
	return s;
}

/* roff: a '-' is written "\-" */
static void roff(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (; *in && n + 3 < size; in++) {
		if (*in == '-')
			out[n++] = '\\';
		out[n++] = *in;
	}
	out[n] = '\0';
}

/* The line of key's entry in section's part of the page (".SH [section]" up to the next
 * ".SH"): a ".TP" paragraph's tag ".BR name ..." or ".B name"; NULL: none. A mention of the
 * key in a sentence is no entry. */
static const char *entry(const char *section, const char *name, size_t *len)
{
	char head[96], key[96];
	snprintf(head, sizeof head, "\n.SH [%s]\n", section);
	roff(name, key, sizeof key);
	const char *l = strstr(page, head);
	if (!l)
		return NULL;
	for (l = strchr(l + 1, '\n') + 1; *l && strncmp(l, ".SH", 3) != 0;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		/* the line before is ".TP" (the section's header line comes before any) */
		bool tag = strncmp(l - 5, "\n.TP\n", 5) == 0;
		const char *a = !tag ? NULL : strncmp(l, ".BR ", 4) == 0 ? l + 4
			      : strncmp(l, ".B ", 3) == 0 ? l + 3 : NULL;
		size_t k = strlen(key);
		if (a && strncmp(a, key, k) == 0 && (a[k] == ' ' || a + k == l + n)) {
			*len = n;
			return l;
		}
		l += n + (end != NULL);
	}
	return NULL;
}

static void test_every_key_has_its_entry_and_default(void)
{
	const struct conftab_table *t = &lis_conf_table;
	CHECKF(t->n_keys > 60, "only %zu keys in the table", t->n_keys);
	for (size_t i = 0; i < t->n_keys; i++) {
		const struct conftab_key *k = &t->keys[i];
		size_t n = 0;
		const char *l = entry(k->section, k->name, &n);
		if (!CHECKF(l, "lis.conf(5) has no entry for [%s] %s", k->section, k->name))
			continue;
		char line[512], want[256], def[200];
		snprintf(line, sizeof line, "%.*s", (int)n, l);
		if (!k->def || !*k->def) {
			/* no default: the page says what empty means ("empty", "empty: ...",
			 * or what lisd takes instead: "the host name") */
			CHECKF(strstr(line, "(default empty") || strstr(line, "(default: "),
			       "[%s] %s: the table has no default, the page says: %s", k->section,
			       k->name, line);
			continue;
		}
		roff(k->def, def, sizeof def);
		snprintf(want, sizeof want, "(default %s", def);
		const char *at = strstr(line, want);
		size_t w = strlen(want);
		CHECKF(at && (at[w] == ',' || at[w] == ')' || at[w] == ' ' || at[w] == ';'),
		       "[%s] %s: the table's default is %s, the page says: %s", k->section, k->name,
		       k->def, line);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1)
		top = argv[1];
	char path[1024];
	snprintf(path, sizeof path, "%s/man/lis.conf.5", top);
	page = read_all(path);
	if (!page) {
		printf("Bail out! %s cannot be read\n", path);
		return 1;
	}
	t_run("every_key_has_its_entry_and_default", test_every_key_has_its_entry_and_default);
	free(page);
	return t_done();
}
