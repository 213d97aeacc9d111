/* lis.conf(5) and deploy/lis.conf.example against lisd's key table (lis/conf/lis_conf.c):
 * every key has its entry under its section in the page, with the default the table has,
 * and its line under its section in the example, with that default when the line is not a
 * comment (";user = lis" shows a value to choose). Both are read from the source tree
 * (argv[1]). */
#include "check.h"
#include "lis_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *top = ".";
static char *page, *example;

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

/* The value of key's line under [section] of the example ("key = value" or ";key = value",
 * *commented set for the latter) into val; false: no such line. */
static bool example_line(const char *section, const char *name, char *val, size_t size,
			 bool *commented)
{
	char head[96];
	snprintf(head, sizeof head, "\n[%s]\n", section);
	const char *l = strstr(example, head);
	if (!l)
		return false;
	size_t k = strlen(name);
	for (l = strchr(l + 1, '\n') + 1; *l && *l != '[';) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		const char *a = l + (*l == ';');
		if (strncmp(a, name, k) == 0 && strchr(" =", a[k])) {
			const char *v = a + k + strspn(a + k, " ");
			if (*v == '=') {
				v += 1 + strspn(v + 1, " ");
				snprintf(val, size, "%.*s", (int)(n - (size_t)(v - l)), v);
				*commented = *l == ';';
				return true;
			}
		}
		l += n + (end != NULL);
	}
	return false;
}

static void test_example_shows_every_key_with_its_default(void)
{
	const struct conftab_table *t = &lis_conf_table;
	for (size_t i = 0; i < t->n_keys; i++) {
		const struct conftab_key *k = &t->keys[i];
		char val[512];
		bool commented = false;
		if (!CHECKF(example_line(k->section, k->name, val, sizeof val, &commented),
			    "lis.conf.example has no line for [%s] %s", k->section, k->name))
			continue;
		const char *def = k->def ? k->def : "";
		CHECKF(commented || strcmp(val, def) == 0,
		       "lis.conf.example sets [%s] %s = %s, the table's default is %s", k->section,
		       k->name, val, def);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1)
		top = argv[1];
	char path[1024], path2[1024];
	snprintf(path, sizeof path, "%s/man/lis.conf.5", top);
	snprintf(path2, sizeof path2, "%s/deploy/lis.conf.example", top);
	page = read_all(path);
	example = read_all(path2);
	if (!page || !example) {
		printf("Bail out! %s cannot be read\n", page ? path2 : path);
		return 1;
	}
	t_run("every_key_has_its_entry_and_default", test_every_key_has_its_entry_and_default);
	t_run("example_shows_every_key_with_its_default",
	      test_example_shows_every_key_with_its_default);
	free(page);
	free(example);
	return t_done();
}
