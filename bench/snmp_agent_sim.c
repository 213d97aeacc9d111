/* snmp_agent_sim: many SNMPv2c agents in one process, on loopback, all replaying one snmprec
 * recording (snmpsim's format: `OID|TYPE|VALUE` a line), for bench/collector.sh.
 *
 * Agent k (0-based) listens on UDP ADDRESS:BASE+k and answers GET, GETNEXT and GETBULK
 * (RFC 3416) from the recording as it reads for k: the recording is a template in which
 * `{EXPR}` or `{EXPR:SPEC}` stands for an integer computed from the agent's index `i` (EXPR:
 * integers, i, ( ), * // % + - << >> & ^ | with Python's precedence; SPEC: [0][width](d|x|X),
 * as Python's format()); `{{` and `}}` are literal braces. A recording without braces is
 * served as it is by every agent. The per-switch differences are thus applied as a request is
 * answered, not stored N times: 10,000 switches cost the memory of one recording.
 *
 * Why not snmpsimd: it is Python and cost 25 times the CPU of the collector it fed (issue 13).
 * Why our own BER: the three requests and the one response of SNMPv2c are a few fixed
 * sequences; net-snmp's snmp_parse()/snmp_build() would allocate a PDU and a list cell per
 * variable binding and re-encode every value on every request, which is the collector's own
 * cost, while here the constant variable bindings are encoded once, at load, and copied.
 *
 * The rows are sorted once by their OIDs for agent 0, and the order is checked to be the
 * same for a sample of other agents (a template whose order depends on i is refused): a
 * lookup is then a binary search that expands only the OIDs it compares.
 *
 * One epoll loop over one socket per agent; the soft RLIMIT_NOFILE is raised to the hard
 * one. Only loopback addresses are accepted. Run as root, it drops to nobody after binding.
 * SIGTERM/SIGINT: prints what it served (requests, variable bindings, drops) and exits 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_OID 128              /* sub-identifiers */
#define MAX_MSG 65507            /* the largest UDP datagram on IPv4 */
#define MAX_EXPR 64              /* tokens of one placeholder */
#define MAX_REQ_VARBINDS 128
#define HEADROOM 64              /* for the message headers, prepended after the bindings */

/* BER tags (X.690) and the SNMP ones (RFC 2578, RFC 3416). */
enum {
	T_INTEGER = 0x02, T_OCTETS = 0x04, T_NULL = 0x05, T_OID = 0x06, T_SEQ = 0x30,
	T_IPADDR = 0x40, T_COUNTER32 = 0x41, T_GAUGE32 = 0x42, T_TIMETICKS = 0x43, T_OPAQUE = 0x44,
	T_COUNTER64 = 0x46, T_NOSUCHOBJECT = 0x80, T_NOSUCHINSTANCE = 0x81, T_ENDOFMIBVIEW = 0x82,
	PDU_GET = 0xa0, PDU_GETNEXT = 0xa1, PDU_RESPONSE = 0xa2, PDU_GETBULK = 0xa5,
};
#define ERR_TOOBIG 1

/* ---- placeholders: `{EXPR[:SPEC]}` ---- */

enum tok { TK_NUM, TK_I, TK_MUL, TK_DIV, TK_MOD, TK_ADD, TK_SUB, TK_SHL, TK_SHR, TK_AND,
	   TK_XOR, TK_OR, TK_LPAREN };

struct expr {                    /* in reverse Polish order */
	enum tok op[MAX_EXPR];
	long long num[MAX_EXPR];
	int n;
};

/* A piece of a template: literal text, or an expression and how to print it. */
struct piece {
	const char *text;        /* literal when expr is NULL */
	size_t len;
	struct expr *expr;
	int width;
	bool zero;
	char conv;               /* 'd', 'x' or 'X' */
};

struct tmpl {
	struct piece *p;
	int n;
	bool constant;
};

/* One line of the recording. */
struct row {
	struct tmpl oid_t, val_t;
	int tag;                 /* BER tag of the value */
	bool hex;                /* TYPE had the `x` suffix: the value is hexadecimal */
	int line;
	uint32_t oid[MAX_OID];   /* when oid_t is constant */
	size_t oid_len;
	unsigned char *vb;       /* the whole encoded binding, when oid and value are constant */
	size_t vb_len;
};

static struct row *rows;
static size_t n_rows;
static const char *rec_path;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("snmp_agent_sim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static int prec(enum tok t)
{
	switch (t) {
	case TK_MUL: case TK_DIV: case TK_MOD: return 6;
	case TK_ADD: case TK_SUB: return 5;
	case TK_SHL: case TK_SHR: return 4;
	case TK_AND: return 3;
	case TK_XOR: return 2;
	case TK_OR: return 1;
	default: return 0;
	}
}

/* Shunting-yard: s[0..len) into e; -1 on a syntax error. */
static int expr_compile(const char *s, size_t len, struct expr *e)
{
	enum tok stack[MAX_EXPR];
	int sp = 0;
	bool want_operand = true;
	const char *end = s + len;
	e->n = 0;
	while (s < end) {
		enum tok t;
		if (*s == ' ') {
			s++;
			continue;
		}
		if (want_operand) {
			if (*s == '(') {
				if (sp == MAX_EXPR)
					return -1;
				stack[sp++] = TK_LPAREN;
				s++;
				continue;
			}
			if (e->n == MAX_EXPR)
				return -1;
			if (*s == 'i') {
				e->op[e->n] = TK_I;
				s++;
			} else if (*s >= '0' && *s <= '9') {
				char *q;
				e->op[e->n] = TK_NUM;
				e->num[e->n] = strtoll(s, &q, 0);
				if (q > end)
					return -1;
				s = q;
			} else {
				return -1;
			}
			e->n++;
			want_operand = false;
			continue;
		}
		if (*s == ')') {
			while (sp > 0 && stack[sp - 1] != TK_LPAREN) {
				if (e->n == MAX_EXPR)
					return -1;
				e->op[e->n++] = stack[--sp];
			}
			if (sp == 0)
				return -1;
			sp--;
			s++;
			continue;
		}
		size_t left = (size_t)(end - s);
		if (left >= 2 && !strncmp(s, "//", 2)) t = TK_DIV, s += 2;
		else if (left >= 2 && !strncmp(s, "<<", 2)) t = TK_SHL, s += 2;
		else if (left >= 2 && !strncmp(s, ">>", 2)) t = TK_SHR, s += 2;
		else if (*s == '*') t = TK_MUL, s++;
		else if (*s == '%') t = TK_MOD, s++;
		else if (*s == '+') t = TK_ADD, s++;
		else if (*s == '-') t = TK_SUB, s++;
		else if (*s == '&') t = TK_AND, s++;
		else if (*s == '^') t = TK_XOR, s++;
		else if (*s == '|') t = TK_OR, s++;
		else return -1;
		while (sp > 0 && stack[sp - 1] != TK_LPAREN && prec(stack[sp - 1]) >= prec(t)) {
			if (e->n == MAX_EXPR)
				return -1;
			e->op[e->n++] = stack[--sp];
		}
		if (sp == MAX_EXPR)
			return -1;
		stack[sp++] = t;
		want_operand = true;
	}
	if (want_operand)
		return -1;
	while (sp > 0) {
		if (stack[sp - 1] == TK_LPAREN || e->n == MAX_EXPR)
			return -1;
		e->op[e->n++] = stack[--sp];
	}
	return 0;
}

static long long expr_eval(const struct expr *e, long long i)
{
	long long st[MAX_EXPR];
	int sp = 0;
	for (int k = 0; k < e->n; k++) {
		long long a, b;
		switch (e->op[k]) {
		case TK_NUM: st[sp++] = e->num[k]; continue;
		case TK_I: st[sp++] = i; continue;
		default: break;
		}
		b = st[--sp];
		a = st[--sp];
		switch (e->op[k]) {
		case TK_MUL: a *= b; break;
		case TK_DIV: a = b ? a / b : 0; break;
		case TK_MOD: a = b ? a % b : 0; break;
		case TK_ADD: a += b; break;
		case TK_SUB: a -= b; break;
		case TK_SHL: a = (long long)((unsigned long long)a << (b & 63)); break;
		case TK_SHR: a >>= (b & 63); break;
		case TK_AND: a &= b; break;
		case TK_XOR: a ^= b; break;
		case TK_OR: a |= b; break;
		default: break;
		}
		st[sp++] = a;
	}
	return sp ? st[0] : 0;
}

/* Cut text s[0..len) into literal and placeholder pieces. */
static void tmpl_parse(const char *s, size_t len, struct tmpl *t, int line)
{
	const char *end = s + len;
	t->p = xmalloc(sizeof *t->p * (len + 1));
	t->n = 0;
	t->constant = true;
	while (s < end) {
		struct piece *pc = &t->p[t->n++];
		memset(pc, 0, sizeof *pc);
		if ((*s == '{' || *s == '}') && s + 1 < end && s[1] == *s) {   /* {{ or }} */
			pc->text = s;
			pc->len = 1;
			s += 2;
			t->constant = false;   /* the text differs from the line: never copied as is */
			continue;
		}
		if (*s == '}')
			die("%s:%d: '}' outside a placeholder (write '}}')", rec_path, line);
		if (*s != '{') {
			const char *q = s;
			while (q < end && *q != '{' && *q != '}')
				q++;
			pc->text = s;
			pc->len = (size_t)(q - s);
			s = q;
			continue;
		}
		const char *close = memchr(s, '}', (size_t)(end - s));
		if (!close)
			die("%s:%d: '{' without '}'", rec_path, line);
		const char *colon = memchr(s, ':', (size_t)(close - s));
		const char *ex_end = colon ? colon : close;
		pc->expr = xmalloc(sizeof *pc->expr);
		pc->conv = 'd';
		if (expr_compile(s + 1, (size_t)(ex_end - s - 1), pc->expr) < 0)
			die("%s:%d: \"%.*s\" is not an expression of i", rec_path, line,
			    (int)(ex_end - s - 1), s + 1);
		if (colon) {
			const char *f = colon + 1;
			if (f < close && *f == '0')
				pc->zero = true, f++;
			while (f < close && *f >= '0' && *f <= '9')
				pc->width = pc->width * 10 + (*f++ - '0');
			if (f < close && (*f == 'd' || *f == 'x' || *f == 'X'))
				pc->conv = *f++;
			if (f != close || pc->width > 32)
				die("%s:%d: format \"%.*s\" is not [0][width](d|x|X)", rec_path, line,
				    (int)(close - colon - 1), colon + 1);
		}
		t->constant = false;
		s = close + 1;
	}
}

/* v as Python's format(v, SPEC) prints it (a sign, then zeros when SPEC starts with 0),
 * into out; the length, or -1 if it does not fit. By hand: snprintf() was a third of the
 * simulator's time. */
static int format_int(long long v, const struct piece *pc, char *out, size_t cap)
{
	const char *digits = pc->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned base = pc->conv == 'd' ? 10 : 16;
	unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
	char rev[24];
	int nd = 0, k = 0;
	do {
		rev[nd++] = digits[u % base];
		u /= base;
	} while (u);
	int len = nd + (v < 0);
	int pad = pc->width > len ? pc->width - len : 0;
	if ((size_t)(len + pad) > cap)
		return -1;
	for (; !pc->zero && pad > 0; pad--)
		out[k++] = ' ';
	if (v < 0)
		out[k++] = '-';
	for (; pad > 0; pad--)
		out[k++] = '0';
	while (nd > 0)
		out[k++] = rev[--nd];
	return k;
}

/* Expand t for agent i into buf (cap bytes); returns the length, or -1 if it does not fit. */
static int tmpl_expand(const struct tmpl *t, long long i, char *buf, size_t cap)
{
	size_t n = 0;
	for (int k = 0; k < t->n; k++) {
		const struct piece *pc = &t->p[k];
		if (!pc->expr) {
			if (n + pc->len > cap)
				return -1;
			memcpy(buf + n, pc->text, pc->len);
			n += pc->len;
			continue;
		}
		int m = format_int(expr_eval(pc->expr, i), pc, buf + n, cap - n);
		if (m < 0)
			return -1;
		n += (size_t)m;
	}
	return (int)n;
}

/* ---- BER ---- */

/* Dotted text into sub-identifiers; -1 if it is not an OID. */
static int oid_parse(const char *s, size_t len, uint32_t *oid, size_t *oid_len)
{
	const char *end = s + len;
	size_t n = 0;
	if (s < end && *s == '.')
		s++;
	while (s < end) {
		unsigned long long v = 0;
		const char *start = s;
		while (s < end && *s >= '0' && *s <= '9' && v <= UINT32_MAX)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (s == start || v > UINT32_MAX || n == MAX_OID)
			return -1;
		oid[n++] = (uint32_t)v;
		if (s < end && *s++ != '.')
			return -1;
		if (s == end && s[-1] == '.')
			return -1;
	}
	if (n < 2)
		return -1;
	*oid_len = n;
	return 0;
}

static int oid_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	for (size_t k = 0; k < n; k++)
		if (a[k] != b[k])
			return a[k] < b[k] ? -1 : 1;
	return an < bn ? -1 : an > bn;
}

/* A forward writer with a bound; ok turns false when something did not fit. */
struct wbuf {
	unsigned char *p;
	size_t n, cap;
	bool ok;
};

static void put(struct wbuf *w, const void *d, size_t len)
{
	if (!w->ok || len > w->cap - w->n) {
		w->ok = false;
		return;
	}
	if (len)
		memcpy(w->p + w->n, d, len);
	w->n += len;
}

static size_t len_size(size_t len)
{
	return len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4;
}

static void put_hdr(struct wbuf *w, int tag, size_t len)
{
	unsigned char h[5];
	size_t k = 0;
	h[k++] = (unsigned char)tag;
	if (len < 0x80) {
		h[k++] = (unsigned char)len;
	} else {
		size_t m = len_size(len) - 1;
		h[k++] = (unsigned char)(0x80 | m);
		for (size_t b = m; b-- > 0;)
			h[k++] = (unsigned char)(len >> (8 * b));
	}
	put(w, h, k);
}

/* Content octets of an OID (X.690 §8.19) into out (room for 5 bytes a sub-identifier). */
static size_t oid_content(const uint32_t *oid, size_t n, unsigned char *out)
{
	size_t k = 0;
	for (size_t j = 1; j < n; j++) {
		uint64_t v = j == 1 ? (uint64_t)oid[0] * 40 + oid[1] : oid[j];
		unsigned char tmp[10];
		int m = 0;
		do {
			tmp[m++] = (unsigned char)(v & 0x7f);
			v >>= 7;
		} while (v);
		while (m-- > 0)
			out[k++] = (unsigned char)(tmp[m] | (m ? 0x80 : 0));
	}
	return k;
}

/* Content octets of an INTEGER (signed) or of an unsigned type (a leading 0 if needed). */
static size_t int_content(long long v, bool is_unsigned, unsigned char *out)
{
	unsigned char tmp[9];
	size_t m = 0;
	unsigned long long u = (unsigned long long)v;
	if (is_unsigned) {
		do {
			tmp[m++] = (unsigned char)(u & 0xff);
			u >>= 8;
		} while (u);
		if (tmp[m - 1] & 0x80)
			tmp[m++] = 0;
	} else {
		do {
			tmp[m++] = (unsigned char)(v & 0xff);
			v >>= 8;   /* arithmetic shift: stops at 0 or -1 with the right sign bit */
		} while (!((v == 0 && !(tmp[m - 1] & 0x80)) || (v == -1 && (tmp[m - 1] & 0x80))));
	}
	for (size_t k = 0; k < m; k++)
		out[k] = tmp[m - 1 - k];
	return m;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The value text of row r (already expanded) into content octets; -1 if it does not read as
 * its type. */
static long value_content(const struct row *r, const char *s, size_t len, unsigned char *out,
			  size_t cap)
{
	char num[64];
	if (r->hex) {
		if (len % 2 || len / 2 > cap)
			return -1;
		for (size_t k = 0; k < len; k += 2) {
			int a = hexval(s[k]), b = hexval(s[k + 1]);
			if (a < 0 || b < 0)
				return -1;
			out[k / 2] = (unsigned char)(a << 4 | b);
		}
		return (long)(len / 2);
	}
	switch (r->tag) {
	case T_OCTETS:
	case T_OPAQUE:
		if (len > cap)
			return -1;
		memcpy(out, s, len);
		return (long)len;
	case T_NULL:
		return 0;
	case T_OID: {
		uint32_t oid[MAX_OID];
		size_t n;
		if (oid_parse(s, len, oid, &n) < 0 || cap < n * 5)
			return -1;
		return (long)oid_content(oid, n, out);
	}
	case T_IPADDR: {
		struct in_addr a;
		if (len >= sizeof num || cap < 4)
			return -1;
		memcpy(num, s, len);
		num[len] = 0;
		if (inet_pton(AF_INET, num, &a) != 1)
			return -1;
		memcpy(out, &a, 4);
		return 4;
	}
	default: {                     /* INTEGER, Counter32, Gauge32, TimeTicks, Counter64 */
		char *e;
		if (len == 0 || len >= sizeof num || cap < 9)
			return -1;
		memcpy(num, s, len);
		num[len] = 0;
		errno = 0;
		if (r->tag == T_INTEGER) {
			long long v = strtoll(num, &e, 10);
			if (*e || errno || v < INT32_MIN || v > INT32_MAX)
				return -1;
			return (long)int_content(v, false, out);
		}
		if (num[0] == '-')
			return -1;
		unsigned long long v = strtoull(num, &e, 10);
		if (*e || errno || (r->tag != T_COUNTER64 && v > UINT32_MAX))
			return -1;
		return (long)int_content((long long)v, true, out);
	}
	}
}

/* The OID of row r for agent i. */
static int row_oid(const struct row *r, long long i, uint32_t *oid, size_t *n)
{
	char txt[MAX_OID * 11];
	int len;
	if (r->oid_t.constant) {
		memcpy(oid, r->oid, r->oid_len * sizeof *oid);
		*n = r->oid_len;
		return 0;
	}
	len = tmpl_expand(&r->oid_t, i, txt, sizeof txt);
	return len < 0 ? -1 : oid_parse(txt, (size_t)len, oid, n);
}

/* Append one variable binding: name and value (tag, content). */
static void put_varbind(struct wbuf *w, const uint32_t *oid, size_t n, int tag,
			const unsigned char *val, size_t val_len)
{
	unsigned char oc[MAX_OID * 5];
	size_t ol = oid_content(oid, n, oc);
	size_t inner = 1 + len_size(ol) + ol + 1 + len_size(val_len) + val_len;
	put_hdr(w, T_SEQ, inner);
	put_hdr(w, T_OID, ol);
	put(w, oc, ol);
	put_hdr(w, tag, val_len);
	put(w, val, val_len);
}

/* Row r as agent i has it, appended to w; -1 if the row does not expand into its type. */
static int put_row(struct wbuf *w, const struct row *r, long long i)
{
	static unsigned char val[MAX_MSG];
	static char txt[MAX_MSG];
	uint32_t oid[MAX_OID];
	size_t n;
	if (r->vb) {
		put(w, r->vb, r->vb_len);
		return 0;
	}
	int tl = tmpl_expand(&r->val_t, i, txt, sizeof txt);
	long vl = tl < 0 ? -1 : value_content(r, txt, (size_t)tl, val, sizeof val);
	if (vl < 0 || row_oid(r, i, oid, &n) < 0)
		return -1;
	put_varbind(w, oid, n, r->tag, val, (size_t)vl);
	return 0;
}

/* ---- the recording ---- */

static int row_cmp_i0(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	uint32_t ox[MAX_OID], oy[MAX_OID];
	size_t nx = 0, ny = 0;
	row_oid(x, 0, ox, &nx);
	row_oid(y, 0, oy, &ny);
	int c = oid_cmp(ox, nx, oy, ny);
	return c ? c : x->line - y->line;
}

/* Rows must be in strictly increasing OID order for agent i. */
static void check_order(long long i)
{
	uint32_t a[MAX_OID], b[MAX_OID];
	size_t an = 0, bn;
	for (size_t k = 0; k < n_rows; k++) {
		if (row_oid(&rows[k], i, b, &bn) < 0)
			die("%s:%d: the OID is not an OID for agent %lld", rec_path, rows[k].line, i);
		if (k > 0 && oid_cmp(a, an, b, bn) >= 0)
			die("%s:%d: for agent %lld this OID is %s line %d's: the rows' order must "
			    "not depend on i", rec_path, rows[k].line, i,
			    oid_cmp(a, an, b, bn) ? "before" : "the same as", rows[k - 1].line);
		memcpy(a, b, bn * sizeof *b);
		an = bn;
	}
}

static void load(const char *path, long long agents)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	int lineno = 0;
	rec_path = path;
	if (!f)
		die("%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (len == 0 || line[0] == '#')
			continue;
		char *b1 = strchr(line, '|'), *b2 = b1 ? strchr(b1 + 1, '|') : NULL;
		if (!b2)
			die("%s:%d: not OID|TYPE|VALUE", path, lineno);
		if (n_rows == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			rows = realloc(rows, alloc * sizeof *rows);
			if (!rows)
				die("out of memory");
		}
		struct row *r = &rows[n_rows++];
		memset(r, 0, sizeof *r);
		r->line = lineno;
		char *tend;
		long tag = strtol(b1 + 1, &tend, 10);
		if (tend == b1 + 1)
			die("%s:%d: TYPE \"%.*s\" is not a number", path, lineno, (int)(b2 - b1 - 1),
			    b1 + 1);
		if (*tend == 'x')
			r->hex = true, tend++;
		if (tend != b2)
			die("%s:%d: TYPE \"%.*s\": only NUMBER or NUMBERx (hexadecimal) are served "
			    "(no variation modules)", path, lineno, (int)(b2 - b1 - 1), b1 + 1);
		switch (tag) {
		case T_INTEGER: case T_OCTETS: case T_NULL: case T_OID: case T_IPADDR:
		case T_COUNTER32: case T_GAUGE32: case T_TIMETICKS: case T_OPAQUE:
		case T_COUNTER64:
			break;
		default:
			die("%s:%d: TYPE %ld is not an SNMP value type", path, lineno, tag);
		}
		r->tag = (int)tag;
		/* the text stays referenced by the pieces: each line keeps its own copy */
		size_t total = (size_t)len;
		char *copy = xmalloc(total + 1);
		memcpy(copy, line, total + 1);
		size_t o1 = (size_t)(b1 - line), o2 = (size_t)(b2 - line);
		tmpl_parse(copy, o1, &r->oid_t, lineno);
		tmpl_parse(copy + o2 + 1, total - o2 - 1, &r->val_t, lineno);
		if (r->oid_t.constant && oid_parse(copy, o1, r->oid, &r->oid_len) < 0)
			die("%s:%d: \"%.*s\" is not an OID", path, lineno, (int)o1, copy);
	}
	free(line);
	fclose(f);
	if (n_rows == 0)
		die("%s: no rows", path);
	for (size_t k = 0; k < n_rows; k++) {
		uint32_t o[MAX_OID];
		size_t on;
		if (row_oid(&rows[k], 0, o, &on) < 0)
			die("%s:%d: the OID is not an OID for agent 0", path, rows[k].line);
	}
	qsort(rows, n_rows, sizeof *rows, row_cmp_i0);
	/* the order for a sample of agents: the first, the last and some in between */
	long long sample[] = {0, 1, 2, agents / 3, agents / 2, agents - 2, agents - 1};
	for (size_t k = 0; k < sizeof sample / sizeof *sample; k++)
		if (sample[k] >= 0 && sample[k] < agents)
			check_order(sample[k]);
	/* constant rows: encoded once; every row: its value must read as its type */
	for (size_t k = 0; k < n_rows; k++) {
		struct row *r = &rows[k];
		unsigned char *buf = xmalloc(MAX_MSG);
		struct wbuf w = {buf, 0, MAX_MSG, true};
		if (put_row(&w, r, 0) < 0 || !w.ok)
			die("%s:%d: the value does not read as type %d%s", path, r->line, r->tag,
			    r->hex ? "x" : "");
		if (r->oid_t.constant && r->val_t.constant) {
			r->vb = realloc(buf, w.n);
			r->vb_len = w.n;
		} else {
			free(buf);
		}
	}
}

/* First row whose OID is >= q (exact: and == q, else n_rows) for agent i. */
static size_t find(long long i, const uint32_t *q, size_t qn, bool exact)
{
	size_t lo = 0, hi = n_rows;
	uint32_t o[MAX_OID];
	size_t on;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		row_oid(&rows[mid], i, o, &on);
		if (oid_cmp(o, on, q, qn) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (exact && lo < n_rows) {
		row_oid(&rows[lo], i, o, &on);
		if (oid_cmp(o, on, q, qn) != 0)
			return n_rows;
	}
	return lo;
}

/* The first row after q. */
static size_t find_next(long long i, const uint32_t *q, size_t qn)
{
	size_t k = find(i, q, qn, false);
	uint32_t o[MAX_OID];
	size_t on = 0;
	if (k < n_rows) {
		row_oid(&rows[k], i, o, &on);
		if (oid_cmp(o, on, q, qn) == 0)
			k++;
	}
	return k;
}

/* ---- requests ---- */

struct in {
	const unsigned char *p, *end;
};

/* Read a TLV header of tag `tag`; its content is [*c, *c + *len). -1 if malformed. */
static int get_tlv(struct in *in, int tag, const unsigned char **c, size_t *len)
{
	if (in->end - in->p < 2 || in->p[0] != tag)
		return -1;
	const unsigned char *p = in->p + 1;
	size_t l = *p++;
	if (l & 0x80) {
		size_t m = l & 0x7f;
		if (m == 0 || m > 3 || (size_t)(in->end - p) < m)
			return -1;
		l = 0;
		while (m--)
			l = l << 8 | *p++;
	}
	if ((size_t)(in->end - p) < l)
		return -1;
	*c = p;
	*len = l;
	in->p = p + l;
	return 0;
}

static int get_int(struct in *in, long long *v)
{
	const unsigned char *c;
	size_t len;
	if (get_tlv(in, T_INTEGER, &c, &len) < 0 || len == 0 || len > 8)
		return -1;
	long long x = (c[0] & 0x80) ? -1 : 0;
	for (size_t k = 0; k < len; k++)
		x = (long long)((unsigned long long)x << 8) | c[k];
	*v = x;
	return 0;
}

static int get_oid(struct in *in, uint32_t *oid, size_t *n)
{
	const unsigned char *c;
	size_t len, k = 0;
	uint64_t v = 0;
	if (get_tlv(in, T_OID, &c, &len) < 0 || len == 0)
		return -1;
	for (size_t j = 0; j < len; j++) {
		v = v << 7 | (c[j] & 0x7f);
		if (v > UINT32_MAX + 80ull)
			return -1;
		if (c[j] & 0x80)
			continue;
		if (k == 0) {
			uint32_t a = v < 40 ? 0 : v < 80 ? 1 : 2;
			oid[k++] = a;
			oid[k++] = (uint32_t)(v - 40 * a);
		} else {
			if (k == MAX_OID || v > UINT32_MAX)
				return -1;
			oid[k++] = (uint32_t)v;
		}
		v = 0;
	}
	if (c[len - 1] & 0x80)
		return -1;
	*n = k;
	return 0;
}

struct stats {
	unsigned long long requests, varbinds, dropped, toobig;
};

static struct stats st;
static const char *community = "public";

struct qvb {                     /* a requested variable binding */
	uint32_t oid[MAX_OID];
	size_t n;
};

/* One binding of the answer: a row, or an exception (tag). The exception names what was
 * asked, except past the last row, where it names the last row if that is further (as
 * snmpsimd does: a walk's endOfMibView carries the last name it saw). */
static void answer_one(struct wbuf *w, long long i, const struct qvb *q, size_t row, int exc)
{
	uint32_t o[MAX_OID];
	size_t on;
	if (row < n_rows && put_row(w, &rows[row], i) == 0) {
		st.varbinds++;
		return;
	}
	if (exc == T_ENDOFMIBVIEW && row_oid(&rows[n_rows - 1], i, o, &on) == 0 &&
	    oid_cmp(o, on, q->oid, q->n) > 0) {
		put_varbind(w, o, on, exc, NULL, 0);
		return;
	}
	put_varbind(w, q->oid, q->n, exc, NULL, 0);
}

/* Answer a request datagram for agent i into out (HEADROOM bytes before the bindings are
 * for the headers); the response starts at *start. 0, or -1 to drop the datagram. */
static int answer(long long i, const unsigned char *msg, size_t len, unsigned char *out,
		  size_t *start, size_t *out_len)
{
	static struct qvb q[MAX_REQ_VARBINDS];
	struct in in = {msg, msg + len}, pdu, vbl;
	const unsigned char *c, *comm;
	size_t l, comm_len;
	long long version, reqid, nonrep, maxrep;
	size_t nq = 0;
	if (get_tlv(&in, T_SEQ, &c, &l) < 0)
		return -1;
	in = (struct in){c, c + l};
	if (get_int(&in, &version) < 0 || version != 1)   /* SNMPv2c only */
		return -1;
	if (get_tlv(&in, T_OCTETS, &comm, &comm_len) < 0 || comm_len != strlen(community) ||
	    memcmp(comm, community, comm_len))
		return -1;
	if (in.p >= in.end)
		return -1;
	int type = in.p[0];
	if (type != PDU_GET && type != PDU_GETNEXT && type != PDU_GETBULK)
		return -1;
	if (get_tlv(&in, type, &c, &l) < 0)
		return -1;
	pdu = (struct in){c, c + l};
	if (get_int(&pdu, &reqid) < 0 || get_int(&pdu, &nonrep) < 0 ||
	    get_int(&pdu, &maxrep) < 0 || get_tlv(&pdu, T_SEQ, &c, &l) < 0)
		return -1;
	vbl = (struct in){c, c + l};
	while (vbl.p < vbl.end) {
		struct in vb;
		if (nq == MAX_REQ_VARBINDS || get_tlv(&vbl, T_SEQ, &c, &l) < 0)
			return -1;
		vb = (struct in){c, c + l};
		if (get_oid(&vb, q[nq].oid, &q[nq].n) < 0)
			return -1;
		nq++;
	}
	st.requests++;

	/* the bindings, after room for the headers */
	struct wbuf w = {out + HEADROOM, 0, MAX_MSG - HEADROOM, true};
	long long err = 0;
	if (type == PDU_GET) {
		for (size_t k = 0; k < nq; k++) {
			size_t r = find(i, q[k].oid, q[k].n, true);
			/* noSuchInstance for every missing name, as snmpsimd answers */
			int exc = T_NOSUCHINSTANCE;
			answer_one(&w, i, &q[k], r, exc);
		}
	} else if (type == PDU_GETNEXT) {
		for (size_t k = 0; k < nq; k++)
			answer_one(&w, i, &q[k], find_next(i, q[k].oid, q[k].n), T_ENDOFMIBVIEW);
	} else {
		/* RFC 3416 §4.2.3: N non-repeaters once, then M repetitions of the R others;
		 * fewer repetitions only when the message would exceed the largest datagram:
		 * past the last row, the repetitions are endOfMibView, as snmpsimd fills them */
		size_t n = nonrep < 0 ? 0 : (size_t)nonrep > nq ? nq : (size_t)nonrep;
		size_t m = maxrep < 0 ? 0 : maxrep > 65535 ? 65535 : (size_t)maxrep;
		size_t cur[MAX_REQ_VARBINDS];
		for (size_t k = 0; k < n; k++)
			answer_one(&w, i, &q[k], find_next(i, q[k].oid, q[k].n), T_ENDOFMIBVIEW);
		for (size_t k = n; k < nq; k++)
			cur[k] = find_next(i, q[k].oid, q[k].n);
		for (size_t rep = 0; rep < m && nq > n && w.ok; rep++) {
			size_t before = w.n;
			for (size_t k = n; k < nq; k++) {
				answer_one(&w, i, &q[k], cur[k], T_ENDOFMIBVIEW);
				if (cur[k] < n_rows)
					cur[k]++;
			}
			if (!w.ok) {       /* this repetition did not fit: leave it out */
				w.n = before;
				w.ok = rep > 0 || n > 0;
				break;
			}
		}
	}
	if (!w.ok) {                   /* tooBig (RFC 3416 §4.2.1): no bindings, error-status */
		st.toobig++;
		err = ERR_TOOBIG;
		w.n = 0;
		w.ok = true;
	}

	/* the headers, backwards in front of the bindings */
	unsigned char hdr[HEADROOM], ic[3][9];
	size_t il[3];
	il[0] = int_content(reqid, false, ic[0]);
	il[1] = int_content(err, false, ic[1]);
	il[2] = int_content(0, false, ic[2]);
	size_t vbl_len = w.n;
	size_t pdu_len = 1 + len_size(vbl_len) + vbl_len;
	for (int k = 0; k < 3; k++)
		pdu_len += 1 + len_size(il[k]) + il[k];
	size_t msg_len = 3 + (1 + len_size(comm_len) + comm_len) + 1 + len_size(pdu_len) +
			 pdu_len;
	struct wbuf h = {hdr, 0, sizeof hdr, true};
	put_hdr(&h, T_SEQ, msg_len);
	put_hdr(&h, T_INTEGER, 1);
	put(&h, "\x01", 1);
	put_hdr(&h, T_OCTETS, comm_len);
	put(&h, comm, comm_len);
	put_hdr(&h, PDU_RESPONSE, pdu_len);
	for (int k = 0; k < 3; k++) {
		put_hdr(&h, T_INTEGER, il[k]);
		put(&h, ic[k], il[k]);
	}
	put_hdr(&h, T_SEQ, vbl_len);
	if (!h.ok)
		return -1;
	memcpy(out + HEADROOM - h.n, hdr, h.n);
	*start = HEADROOM - h.n;
	*out_len = h.n + vbl_len;
	return 0;
}

/* ---- the loop ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fputs("usage: snmp_agent_sim [--address 127.0.0.1] [--port BASE] [--count N]\n"
	      "                      [--community public] [--ready-file FILE] RECORDING\n"
	      "Serves N SNMPv2c agents on ADDRESS:BASE .. BASE+N-1 (--port 0, the default: a free\n"
	      "block, written to --ready-file once every socket is bound). Agent k replays\n"
	      "RECORDING (snmprec) with its {EXPR[:SPEC]} placeholders expanded for i = k.\n", f);
}

/* Bind count sockets on addr from base on; 0, or -1 (all closed) if one port is taken. */
static int bind_block(struct in_addr addr, unsigned base, long long count, int *fds)
{
	for (long long k = 0; k < count; k++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = addr,
					 .sin_port = htons((uint16_t)(base + k))};
		fds[k] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fds[k] < 0)
			die("socket: %s (agent %lld; RLIMIT_NOFILE?)", strerror(errno), k);
		if (bind(fds[k], (struct sockaddr *)&sa, sizeof sa) < 0) {
			int e = errno;
			for (long long j = 0; j <= k; j++)
				close(fds[j]);
			if (e != EADDRINUSE && e != EACCES)
				die("bind 127.x:%lld: %s", base + k, strerror(e));
			return -1;
		}
	}
	return 0;
}

static void drop_privileges(void)
{
	struct passwd *pw;
	if (getuid() != 0)
		return;
	pw = getpwnam("nobody");
	if (!pw || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		die("cannot drop privileges to nobody: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *address = "127.0.0.1", *ready = NULL, *path = NULL;
	long long count = 1, base = 0;
	for (int k = 1; k < argc; k++) {
		const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (a[0] != '-') {
			path = a;
			continue;
		}
		if (!v)
			die("%s needs a value", a);
		k++;
		if (!strcmp(a, "--address"))
			address = v;
		else if (!strcmp(a, "--port"))
			base = atoll(v);
		else if (!strcmp(a, "--count"))
			count = atoll(v);
		else if (!strcmp(a, "--community"))
			community = v;
		else if (!strcmp(a, "--ready-file"))
			ready = v;
		else
			die("unknown option %s (--help)", a);
	}
	struct in_addr addr;
	if (!path) {
		usage(stderr);
		return 2;
	}
	if (inet_pton(AF_INET, address, &addr) != 1 || (ntohl(addr.s_addr) >> 24) != 127)
		die("--address %s: only IPv4 loopback (127.0.0.0/8) is served", address);
	if (count < 1 || count > 60000 || base < 0 || base + count > 65536)
		die("--count %lld from --port %lld does not fit in the UDP ports", count, base);
	load(path, count);

	/* one descriptor an agent, the epoll one and a few more */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)count + 16)
		die("%lld agents need %lld descriptors; RLIMIT_NOFILE is %llu (hard limit)", count,
		    count + 16, (unsigned long long)rl.rlim_cur);
	int *fds = xmalloc(sizeof *fds * (size_t)count);
	if (base) {
		if (bind_block(addr, (unsigned)base, count, fds) < 0)
			die("a port of %lld..%lld on %s is taken", base, base + count - 1, address);
	} else {
		srand((unsigned)time(NULL) ^ (unsigned)getpid());
		int tries = 0;
		do {
			if (++tries > 200)
				die("no block of %lld free UDP ports on %s", count, address);
			base = 20000 + rand() % (60000 - 20000 - count);
		} while (bind_block(addr, (unsigned)base, count, fds) < 0);
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	for (long long k = 0; k < count; k++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)k};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[k], &ev) < 0)
			die("epoll_ctl: %s", strerror(errno));
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ready) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", ready);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%lld\n", base) < 0 || fclose(f) != 0 || rename(tmp, ready) < 0)
			die("%s: %s", ready, strerror(errno));
	}
	drop_privileges();   /* after the ready file: it is written where the caller may write */
	fprintf(stderr, "snmp_agent_sim: %lld agents on %s:%lld..%lld, %zu rows from %s\n", count,
		address, base, base + count - 1, n_rows, path);

	static unsigned char msg[MAX_MSG + 1], out[MAX_MSG + HEADROOM];
	struct epoll_event evs[256];
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (int e = 0; e < n; e++) {
			long long k = (long long)evs[e].data.u64;
			for (;;) {      /* everything queued on this agent's socket */
				struct sockaddr_storage from;
				socklen_t fl = sizeof from;
				ssize_t len = recvfrom(fds[k], msg, sizeof msg, 0,
						       (struct sockaddr *)&from, &fl);
				size_t start, olen;
				if (len < 0)
					break;
				if (answer(k, msg, (size_t)len, out, &start, &olen) < 0) {
					st.dropped++;
					continue;
				}
				if (sendto(fds[k], out + start, olen, 0, (struct sockaddr *)&from,
					   fl) < 0)
					st.dropped++;
			}
		}
	}
	fprintf(stderr, "snmp_agent_sim: requests=%llu varbinds=%llu dropped=%llu toobig=%llu\n",
		st.requests, st.varbinds, st.dropped, st.toobig);
	return 0;
}
