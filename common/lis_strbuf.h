/* Text built piece by piece, and the one UTF-8 decoder.
 *
 * A strbuf is either bounded, in memory the caller owns (strbuf_init, strbuf_attach), or
 * growing on the heap: a zeroed struct strbuf ({0}) grows as pieces come, and strbuf_free()
 * gives its memory back. A piece is added whole or not at all: once a piece does not fit (or
 * memory runs out), the text is cut and stays so (nothing later is added either), so it never
 * has a hole in its middle and a caller that must not use a cut text (a query log record, an
 * SQL statement) can tell by `cut`. The text is NUL-terminated once anything was added (a
 * growing strbuf's s is NULL until then).
 *
 * A bounded text for people (strbuf_init_text, strbuf_attach_text: a log field, a message)
 * is cut as lis_strcatf() and snprintf() cut it instead: the piece that does not fit is added
 * as far as it fits, and then nothing more. Built from strbuf_put/puts/putsn/put_int, it
 * costs no printf: for text made on every answer. */
#ifndef LIS_STRBUF_H
#define LIS_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *s;
	size_t len;     /* bytes before the NUL */
	size_t size;    /* of s, NUL included */
	bool cut;
	bool fixed;     /* the caller's memory: never grown, never freed */
	bool text;      /* cut as snprintf() cuts: the last piece as far as it fits */
};

/* Start an empty text in mem (size >= 1 bytes). */
void strbuf_init(struct strbuf *b, char *mem, size_t size);
/* Go on from the NUL-terminated text already in mem. */
void strbuf_attach(struct strbuf *b, char *mem, size_t size);

/* The same, for a text for people (see above). */
void strbuf_init_text(struct strbuf *b, char *mem, size_t size);
void strbuf_attach_text(struct strbuf *b, char *mem, size_t size);

/* Add n bytes of p. */
void strbuf_put(struct strbuf *b, const char *p, size_t n);
/* Add a NUL-terminated string. */
void strbuf_puts(struct strbuf *b, const char *s);
/* Add at most max bytes of s, as printf's "%.*s" does. */
void strbuf_putsn(struct strbuf *b, const char *s, size_t max);
/* Add v in decimal, as printf's "%lld" does. */
void strbuf_put_int(struct strbuf *b, long long v);
/* Add each string of the list in turn, a NULL one as printf's "%s" prints it. */
#define strbuf_cat(b, ...) \
	strbuf_cat_n((b), (const char *const[]){__VA_ARGS__}, \
		     sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
void strbuf_cat_n(struct strbuf *b, const char *const *s, size_t n);
/* Add printf-style text. */
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Give a growing strbuf's memory back and zero it (a bounded one is only emptied). */
void strbuf_free(struct strbuf *b);

/* Append printf-style text to the NUL-terminated text in buf (size bytes) for a message or
 * a log line: what does not fit is cut off, and the text then fills buf so that nothing later
 * is added. Returns false when the text was cut (or buf was full already). */
bool lis_strcatf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copy s into buf (size >= 1 bytes) as snprintf(buf, size, "%s", s) does, without printf:
 * what does not fit is cut off. */
void lis_strcopy(char *buf, size_t size, const char *s);

/* The valid UTF-8 sequence at s (at most n bytes): its length, with its code point in *cp
 * (cp may be NULL); 0 when not valid: overlong forms, surrogates and code points above
 * U+10FFFF are not (RFC 3629 §3, §4). */
size_t lis_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

#endif
