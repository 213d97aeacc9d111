#include "lis_strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *b, char *mem, size_t size)
{
	*b = (struct strbuf){ .s = mem, .size = size, .fixed = true };
	mem[0] = '\0';
}

void strbuf_attach(struct strbuf *b, char *mem, size_t size)
{
	*b = (struct strbuf){ .s = mem, .size = size, .fixed = true };
	b->len = strnlen(mem, size);
	if (b->len == size) {
		b->cut = true;
		b->len = size - 1;
		mem[b->len] = '\0';
	}
}

void strbuf_init_text(struct strbuf *b, char *mem, size_t size)
{
	strbuf_init(b, mem, size);
	b->text = true;
}

void strbuf_attach_text(struct strbuf *b, char *mem, size_t size)
{
	strbuf_attach(b, mem, size);
	b->text = true;
}

/* Room for n more bytes and the NUL; false (and cut) when there is none. */
static bool room(struct strbuf *b, size_t n)
{
	if (b->cut)
		return false;
	if (n < b->size - b->len)
		return true;
	if (!b->fixed && n < SIZE_MAX / 2 - b->len) {
		size_t size = b->size ? b->size : 256;
		while (size <= b->len + n)
			size *= 2;
		char *s = realloc(b->s, size);
		if (s) {
			b->s = s;
			b->size = size;
			return true;
		}
	}
	b->cut = true;
	return false;
}

void strbuf_put(struct strbuf *b, const char *p, size_t n)
{
	bool was_cut = b->cut;
	if (!room(b, n)) {
		if (!b->text || was_cut)
			return;
		n = b->size - 1 - b->len;  /* a text for people: what fits of the piece */
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_put(b, s, strlen(s));
}

void strbuf_putsn(struct strbuf *b, const char *s, size_t max)
{
	strbuf_put(b, s, strnlen(s, max));
}

void strbuf_put_int(struct strbuf *b, long long v)
{
	char d[24];
	size_t i = sizeof d;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		d[--i] = '-';
	strbuf_put(b, d + i, sizeof d - i);
}

void strbuf_cat_n(struct strbuf *b, const char *const *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strbuf_puts(b, s[i] ? s[i] : "(null)");
}

void strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	bool was_cut = b->cut;
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0) {
		b->cut = true;
	} else if (room(b, (size_t)n)) {
		vsnprintf(b->s + b->len, b->size - b->len, fmt, again);
		b->len += (size_t)n;
	} else if (b->text && !was_cut) {
		/* a text for people: what fits of the piece (room() left it cut) */
		vsnprintf(b->s + b->len, b->size - b->len, fmt, again);
		b->len = b->size - 1;
	}
	va_end(again);
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

void strbuf_free(struct strbuf *b)
{
	if (b->fixed) {
		strbuf_init(b, b->s, b->size);
		return;
	}
	free(b->s);
	*b = (struct strbuf){ 0 };
}

bool lis_strcatf(char *buf, size_t size, const char *fmt, ...)
{
	size_t o = strnlen(buf, size);
	if (o + 1 >= size)
		return false;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + o, size - o, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size - o;
}

void lis_strcopy(char *buf, size_t size, const char *s)
{
	struct strbuf b;
	strbuf_init_text(&b, buf, size);
	strbuf_puts(&b, s);
}

size_t lis_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		len = 1, c = s[0];
	} else {
		if (s[0] >= 0xc2 && s[0] <= 0xdf)
			len = 2, c = s[0] & 0x1fu;
		else if (s[0] >= 0xe0 && s[0] <= 0xef)
			len = 3, c = s[0] & 0x0fu;
		else if (s[0] >= 0xf0 && s[0] <= 0xf4)
			len = 4, c = s[0] & 0x07u;
		else
			return 0;
		if (len > n)
			return 0;
		for (size_t i = 1; i < len; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i] & 0x3fu);
		}
		if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	if (cp)
		*cp = c;
	return len;
}
