/* Wiremap files as JSON (lis-wiremap(5)): an array of objects whose keys are the CSV
 * columns. jansson checks the syntax and decodes the values; it keeps no positions for
 * values, so a small scan of the same bytes finds where each object and each key starts,
 * and errors name PATH:LINE:COL like the CSV ones (COL counts characters from 1). The rows
 * become the cells a CSV file gives, so that both formats go through one validation. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"

struct pos {
	unsigned line, col;
	size_t off;          /* byte offset of the value (keys only) */
};
/* One element of the top-level array: where it starts, and its keys in order. */
struct element {
	struct pos at;
	struct pos *keys;
	size_t n_keys, cap;
};
struct scan {
	struct element *el;
	size_t n, cap;
	bool oom;
};

static bool push_key(struct element *e, struct pos p)
{
	if (e->n_keys == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 16;
		struct pos *k = realloc(e->keys, cap * sizeof(*k));
		if (!k)
			return false;
		e->keys = k;
		e->cap = cap;
	}
	e->keys[e->n_keys++] = p;
	return true;
}

/* Walk text that jansson has already accepted: track depth, and at depth 1 (inside the
 * top-level array) note each element; at depth 2 inside an object note each key and where
 * its value starts. Strings are skipped whole, so brackets inside them do not count. */
static void scan_positions(const char *buf, size_t len, struct scan *sc)
{
	unsigned line = 1, col = 1, depth = 0;
	bool in_object2 = false, want_key = false, want_value = false, in_element = false;

	for (size_t i = 0; i < len && !sc->oom; i++) {
		unsigned char c = (unsigned char)buf[i];
		struct pos here = {line, col, i};

		if (c == '\n') {
			line++;
			col = 1;
			continue;
		}
		if ((c & 0xC0) != 0x80)
			col++;
		if (c == ' ' || c == '\t' || c == '\r')
			continue;
		if (depth == 1 && c == ',') {
			in_element = false;
		} else if (depth == 1 && c != ']' && !in_element) {
			in_element = true;
			/* an element starts */
			if (sc->n == sc->cap) {
				size_t cap = sc->cap ? 2 * sc->cap : 64;
				struct element *e = realloc(sc->el, cap * sizeof(*e));
				if (!e) {
					sc->oom = true;
					return;
				}
				sc->el = e;
				sc->cap = cap;
			}
			sc->el[sc->n++] = (struct element){.at = here};
			in_object2 = c == '{';
			want_key = in_object2;
		} else if (depth == 2 && in_object2) {
			if (want_key && c == '"') {
				sc->oom |= !push_key(&sc->el[sc->n - 1], here);
				want_key = false;
			} else if (c == ':') {
				want_value = true;
				continue;
			} else if (want_value) {
				sc->el[sc->n - 1].keys[sc->el[sc->n - 1].n_keys - 1].off = i;
			} else if (c == ',') {
				want_key = true;
			}
		}
		want_value = false;
		if (c == '"') {
			/* skip the string; its characters still count as columns */
			for (i++; i < len && buf[i] != '"'; i++) {
				if (buf[i] == '\\')
					i++, col++;
				if (((unsigned char)buf[i] & 0xC0) != 0x80)
					col++;
			}
			col++;
		} else if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
}

static void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->el[i].keys);
	free(sc->el);
}

/* A JSON value as the text of a cell: strings as they are, numbers as written in the file
 * (so 40.7506 stays 40.7506), true/false as words, null as absent. */
static bool cell_text(struct ctl_errors *errs, const char *path, const char *buf, json_t *v,
		      const struct pos *p, const char *key, struct ctl_cell *out)
{
	const char *s = NULL;
	size_t n = 0;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		if (!ctl_check_text(errs, path, p->line, p->col, (const unsigned char *)s, n)) {
			out->bad = true;
			return true;
		}
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		s = buf + p->off;
		n = strcspn(s, ",} \t\r\n");
		break;
	case JSON_TRUE:
		s = "true", n = 4;
		break;
	case JSON_FALSE:
		s = "false", n = 5;
		break;
	case JSON_NULL:
		return true;
	default:
		ctl_error_at(errs, path, p->line, p->col,
			      "the value of \"%.60s\" must be a string, a number, true, false or "
			      "null", key);
		out->bad = true;
		return true;
	}
	if (n == 0)
		return true;
	out->s = strndup(s, n);
	return out->s != NULL;
}

/* Index of key in the header, adding it (at p) when new; -1 when out of memory. */
static long header_index(struct ctl_row *h, const char *key, const struct pos *p)
{
	struct ctl_cell *c;

	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->cells[i].s, key) == 0)
			return (long)i;
	c = realloc(h->cells, (h->n + 1) * sizeof(*c));
	if (!c)
		return -1;
	h->cells = c;
	c[h->n] = (struct ctl_cell){strdup(key), p->line, false, p->col};
	if (!c[h->n].s)
		return -1;
	return (long)h->n++;
}

struct ctl_rows *ctl_json_read(const char *path, struct ctl_errors *errs)
{
	struct scan sc = {0};
	json_error_t je;
	size_t len;
	char *buf = ctl_read_file(path, &len, errs);
	struct ctl_rows *csv = NULL;
	json_t *root;
	size_t before = errs->total;

	if (!buf)
		return NULL;
	/* RFC 8259 §4: names within an object SHOULD be unique; here they must be. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		ctl_error_at(errs, path, je.line > 0 ? (unsigned)je.line : 1,
			      je.column > 0 ? (unsigned)je.column : 1, "JSON syntax error: %s",
			      je.text);
		free(buf);
		return NULL;
	}
	scan_positions(buf, len, &sc);
	csv = calloc(1, sizeof(*csv));
	if (sc.oom || !csv || !(csv->path = strdup(path)) ||
	    !(csv->rows = calloc(json_is_array(root) ? json_array_size(root) + 1 : 1,
				 sizeof(struct ctl_row))))
		goto oom;
	csv->json = true;
	csv->n_rows = 1;
	csv->rows[0].line = 1;
	if (!json_is_array(root) || sc.n != json_array_size(root)) {
		ctl_error_at(errs, path, 1, 1, "expected a JSON array of objects, one per row");
		goto fail;
	}
	/* The header first: every key, in order of first use. */
	for (size_t i = 0; i < sc.n; i++) {
		json_t *obj = json_array_get(root, i);
		const char *key;
		json_t *v;
		size_t k = 0;

		if (!json_is_object(obj)) {
			ctl_error_at(errs, path, sc.el[i].at.line, sc.el[i].at.col,
				      "row %zu is not a JSON object", i + 1);
			continue;
		}
		/* jansson keeps an object's keys in the order of the text (since 2.8) */
		json_object_foreach(obj, key, v) {
			if (k >= sc.el[i].n_keys || header_index(&csv->rows[0], key,
								  &sc.el[i].keys[k]) < 0)
				goto oom;
			k++;
		}
	}
	if (errs->total > before)
		goto fail;
	for (size_t i = 0; i < sc.n; i++) {
		json_t *obj = json_array_get(root, i);
		struct ctl_row *r = &csv->rows[csv->n_rows++];
		const char *key;
		json_t *v;
		size_t k = 0;

		r->line = sc.el[i].at.line;
		r->n = csv->rows[0].n;
		r->cells = calloc(r->n ? r->n : 1, sizeof(*r->cells));
		if (!r->cells)
			goto oom;
		for (size_t j = 0; j < r->n; j++)
			r->cells[j] = (struct ctl_cell){NULL, sc.el[i].at.line, false, sc.el[i].at.col};
		json_object_foreach(obj, key, v) {
			const struct pos *p = &sc.el[i].keys[k++];
			long j = header_index(&csv->rows[0], key, p);
			if (j < 0)
				goto oom;
			r->cells[j].line = p->line;
			r->cells[j].col = p->col;
			if (!cell_text(errs, path, buf, v, p, key, &r->cells[j]))
				goto oom;
		}
	}
	json_decref(root);
	scan_free(&sc);
	free(buf);
	return csv;
oom:
	ctl_errors_add(errs, "%s: out of memory", path);
fail:
	json_decref(root);
	scan_free(&sc);
	free(buf);
	ctl_rows_free(csv);
	return NULL;
}
