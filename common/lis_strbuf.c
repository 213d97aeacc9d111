#include "lis_strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void strbuf_init(struct strbuf *b, char *mem, size_t size)
{
	b->s = mem;
	b->size = size;
	b->len = 0;
	b->cut = false;
	mem[0] = '\0';
}

void strbuf_attach(struct strbuf *b, char *mem, size_t size)
{
	b->s = mem;
	b->size = size;
	b->len = strnlen(mem, size);
	b->cut = b->len == size;
	if (b->cut) {
		b->len = size - 1;
		mem[b->len] = '\0';
	}
}

void strbuf_put(struct strbuf *b, const char *p, size_t n)
{
	if (b->cut || n >= b->size - b->len) {
		b->cut = true;
		return;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_put(b, s, strlen(s));
}

static void vprintf_to(struct strbuf *b, const char *fmt, va_list ap)
{
	if (b->cut)
		return;
	size_t room = b->size - b->len;
	int n = vsnprintf(b->s + b->len, room, fmt, ap);
	if (n < 0 || (size_t)n >= room) {
		b->cut = true;
		b->s[b->len] = '\0';    /* the piece is whole or absent */
		return;
	}
	b->len += (size_t)n;
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf_to(b, fmt, ap);
	va_end(ap);
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
