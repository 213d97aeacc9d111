/* ISO 3166-1 countries and ISO 3166-2 subdivisions as Debian's iso-codes package ships
 * them (JSON, one array of objects per file), read at run time so that the lists are as
 * new as the system's and not copied into our programs. The lookups are what the checks of
 * lis_dispatch.c call; they never read a file. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lis_dispatch.h"
#include "lis_error.h"

struct lis_iso {
	char (*country)[3];          /* alpha-2 codes, sorted */
	size_t n_country;
	struct subdivision {
		char *code;              /* "US-CA" */
		char *name;              /* "California" */
	} *sub;                      /* sorted by code, so a country's are together */
	size_t n_sub;
};

void lis_iso_free(struct lis_iso *iso)
{
	if (!iso)
		return;
	for (size_t i = 0; i < iso->n_sub; i++) {
		free(iso->sub[i].code);
		free(iso->sub[i].name);
	}
	free(iso->sub);
	free(iso->country);
	free(iso);
}

static int cmp_country(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int cmp_sub(const void *a, const void *b)
{
	return strcmp(((const struct subdivision *)a)->code,
		      ((const struct subdivision *)b)->code);
}

/* The array under `key` of a file's root object ("3166-1": [...]). */
static json_t *entries(const char *text, const char *key, const char *what,
		       struct lis_error *err)
{
	json_error_t je;
	json_t *root = json_loads(text, 0, &je), *a;

	if (!root) {
		lis_error_set(err, LIS_E_INPUT, "%s: line %d: %s", what, je.line, je.text);
		return NULL;
	}
	a = json_object_get(root, key);
	if (!json_is_array(a)) {
		lis_error_set(err, LIS_E_INPUT, "%s: no \"%s\" array", what, key);
		json_decref(root);
		return NULL;
	}
	json_incref(a);
	json_decref(root);
	return a;
}

static const char *text_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

struct lis_iso *lis_iso_parse(const char *iso_3166_1, const char *iso_3166_2,
			      struct lis_error *err)
{
	struct lis_iso *iso = calloc(1, sizeof(*iso));
	json_t *c = entries(iso_3166_1, "3166-1", "iso_3166-1.json", err);
	json_t *s = c ? entries(iso_3166_2, "3166-2", "iso_3166-2.json", err) : NULL;
	size_t i;
	json_t *o;

	if (!iso || !s)
		goto fail;
	iso->country = calloc(json_array_size(c) + 1, sizeof(*iso->country));
	iso->sub = calloc(json_array_size(s) + 1, sizeof(*iso->sub));
	if (!iso->country || !iso->sub)
		goto oom;
	json_array_foreach(c, i, o) {
		const char *a2 = text_of(o, "alpha_2");
		if (a2 && strlen(a2) == 2)
			memcpy(iso->country[iso->n_country++], a2, 3);
	}
	json_array_foreach(s, i, o) {
		const char *code = text_of(o, "code"), *name = text_of(o, "name");
		if (!code || !name || strlen(code) < 4 || code[2] != '-')
			continue;
		struct subdivision *d = &iso->sub[iso->n_sub];
		if (!(d->code = strdup(code)) || !(d->name = strdup(name))) {
			free(d->code);
			goto oom;
		}
		iso->n_sub++;
	}
	if (iso->n_country == 0) {
		lis_error_set(err, LIS_E_INPUT, "iso_3166-1.json: no country codes in it");
		goto fail;
	}
	qsort(iso->country, iso->n_country, sizeof(*iso->country), cmp_country);
	qsort(iso->sub, iso->n_sub, sizeof(*iso->sub), cmp_sub);
	json_decref(c);
	json_decref(s);
	return iso;
oom:
	lis_error_set(err, LIS_E_SYSTEM, "out of memory");
fail:
	json_decref(c);
	json_decref(s);
	lis_iso_free(iso);
	return NULL;
}

/* The whole file, NUL-terminated (malloc'd), or NULL with why in err. */
static char *read_text(const char *path, struct lis_error *err)
{
	FILE *f = fopen(path, "rb");
	char *t = NULL;
	size_t n = 0, size = 0;
	if (!f) {
		lis_error_set(err, LIS_E_SYSTEM, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 65536 + 1 > size) {
			char *bigger = realloc(t, size = n + 65536 * 4 + 1);
			if (!bigger)
				break;
			t = bigger;
		}
		size_t k = fread(t + n, 1, size - n - 1, f);
		n += k;
		if (k == 0)
			break;
	}
	bool ok = t && !ferror(f);
	fclose(f);
	if (!ok) {
		free(t);
		lis_error_set(err, LIS_E_SYSTEM, "%s: cannot read", path);
		return NULL;
	}
	t[n] = '\0';
	return t;
}

struct lis_iso *lis_iso_load(const char *dir, struct lis_error *err)
{
	char p1[512], p2[512];
	struct lis_iso *iso = NULL;
	char *t1, *t2 = NULL;

	if (!dir)
		dir = getenv("LIS_ISO_CODES_DIR");
	if (!dir || !*dir)
		dir = LIS_ISO_CODES_DIR;
	snprintf(p1, sizeof(p1), "%s/iso_3166-1.json", dir);
	snprintf(p2, sizeof(p2), "%s/iso_3166-2.json", dir);
	t1 = read_text(p1, err);
	if (t1)
		t2 = read_text(p2, err);
	if (t1 && t2) {
		struct lis_error e = {0};
		if (!(iso = lis_iso_parse(t1, t2, &e)))
			lis_error_set(err, e.code, "%s/%s", dir, e.msg);
	}
	free(t1);
	free(t2);
	return iso;
}

bool lis_iso_country_is_known(const struct lis_iso *iso, const char *code)
{
	if (!code || strlen(code) != 2)
		return false;
	return bsearch(code, iso->country, iso->n_country, sizeof(*iso->country),
		       cmp_country) != NULL;
}

/* RFC 4776 §3.4 and RFC 5139: A1 is the national subdivision (state, province, Land). It
 * is taken as ISO 3166-2 writes it: the code without its country ("CA" of US-CA) or the
 * subdivision's name ("California"), in any case. */
bool lis_iso_subdivision_is_known(const struct lis_iso *iso, const char *country,
				  const char *a1, const char **near)
{
	struct lis_near n = lis_near_start(a1);
	size_t lo = 0, hi = iso->n_sub;
	bool any = false;

	if (near)
		*near = NULL;
	if (!country || strlen(country) != 2)
		return true;
	/* the first subdivision whose code is not below "CC-" */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strncmp(iso->sub[mid].code, country, 2) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < iso->n_sub && strncmp(iso->sub[i].code, country, 2) == 0; i++) {
		const struct subdivision *d = &iso->sub[i];
		any = true;
		if (strcasecmp(d->code + 3, a1) == 0 || strcasecmp(d->name, a1) == 0)
			return true;
		lis_near_try(&n, d->code + 3);
		lis_near_try(&n, d->name);
	}
	if (near)
		*near = n.best;
	/* a country without subdivisions in ISO 3166-2 takes any A1 */
	return !any;
}
