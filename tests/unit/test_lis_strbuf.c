/* Text pieces (lis_strbuf.c): in a bounded buffer a piece is added whole or not at all and a
 * cut buffer stays cut; a zeroed one grows; lis_strcatf cuts and then adds nothing more, and
 * so does a text for people, without printf; the one UTF-8 decoder refuses what RFC 3629
 * forbids. */
#include "check.h"
#include "lis_strbuf.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static void test_pieces_are_whole_or_absent_and_cut_stays(void)
{
	char mem[8];
	struct strbuf b;
	strbuf_init(&b, mem, sizeof mem);
	CHECK_STR(mem, "");
	strbuf_puts(&b, "abc");
	strbuf_printf(&b, "%d", 12);
	CHECK_STR(mem, "abc12");
	CHECK(b.len == 5 && !b.cut);
	strbuf_puts(&b, "xyz");         /* 8 bytes with the NUL: one too many */
	CHECK_STR(mem, "abc12");
	CHECK(b.cut);
	strbuf_puts(&b, "x");           /* would fit, but the text is cut already */
	CHECK_STR(mem, "abc12");
	strbuf_init(&b, mem, sizeof mem);
	strbuf_printf(&b, "%s", "1234567");
	CHECK_STR(mem, "1234567");
	CHECK(!b.cut && b.len == 7);
	strbuf_init(&b, mem, sizeof mem);
	strbuf_printf(&b, "%s", "12345678");
	CHECK_STR(mem, "");
	CHECK(b.cut && b.len == 0);
}

static void test_attach_goes_on_from_the_text(void)
{
	char mem[6] = "ab";
	struct strbuf b;
	strbuf_attach(&b, mem, sizeof mem);
	strbuf_put(&b, "cdef", 3);
	CHECK_STR(mem, "abcde");
	CHECK(!b.cut);
	char full[3] = { 'x', 'y', 'z' };   /* no NUL within size: taken as cut */
	strbuf_attach(&b, full, sizeof full);
	CHECK(b.cut && b.len == 2 && full[2] == '\0');
}

static void test_growing_text_grows_and_frees(void)
{
	struct strbuf b = { 0 };
	CHECK(b.s == NULL);
	for (int i = 0; i < 1000; i++)
		strbuf_printf(&b, "%04d,", i);
	CHECK(!b.cut && b.len == 5000 && strlen(b.s) == 5000);
	CHECK(strncmp(b.s, "0000,0001,", 10) == 0 && strcmp(b.s + 4995, "0999,") == 0);
	strbuf_put(&b, "x", 1);
	CHECK(b.len == 5001 && b.s[5001] == '\0');
	strbuf_free(&b);
	CHECK(b.s == NULL && b.len == 0 && !b.cut);
}

static void test_strcatf_cuts_then_adds_nothing(void)
{
	char buf[8] = "";
	CHECK(lis_strcatf(buf, sizeof buf, "%s", "abc"));
	CHECK(!lis_strcatf(buf, sizeof buf, ", %s", "defgh"));
	CHECK_STR(buf, "abc, de");
	CHECK(!lis_strcatf(buf, sizeof buf, "x"));
	CHECK_STR(buf, "abc, de");
}

/* A text for people reads as snprintf and lis_strcatf would write it, at every size: the
 * prefix of the whole that fits, and nothing once cut. */
static void test_text_for_people_cuts_as_snprintf(void)
{
	char want[64], got[64];
	bool same = true;
	for (size_t size = 1; size <= 40; size++) {
		snprintf(want, size, "ip %s has mac %s%lld%s", "10.1.2.3", "00:11", -42LL, "(null)");
		memset(got, 'x', sizeof got);
		struct strbuf b;
		strbuf_init_text(&b, got, size);
		strbuf_cat(&b, "ip ", "10.1.2.3", " has mac ");
		strbuf_putsn(&b, "00:11:22", 5);
		strbuf_put_int(&b, -42);
		strbuf_cat(&b, (const char *)NULL);
		same &= strcmp(got, want) == 0 && b.len == strlen(want) &&
			b.cut == (size <= strlen("ip 10.1.2.3 has mac 00:11-42(null)"));
	}
	CHECK(same);
	/* cut, it stays cut though a later piece would fit */
	char mem[8];
	struct strbuf b;
	strbuf_init_text(&b, mem, sizeof mem);
	strbuf_puts(&b, "abc, defgh");
	strbuf_puts(&b, "");
	strbuf_printf(&b, "%s", "x");
	CHECK_STR(mem, "abc, de");
	CHECK(b.cut);
	/* printf pieces cut the same way; attach goes on from the text */
	char buf[8] = "ab";
	strbuf_attach_text(&b, buf, sizeof buf);
	strbuf_printf(&b, "%d-%s", 12, "xyz");
	CHECK_STR(buf, "ab12-xy");
	CHECK(b.cut && b.len == 7);
	/* the whole range of integers, as %lld */
	char n[64];
	strbuf_init_text(&b, n, sizeof n);
	strbuf_put_int(&b, LLONG_MIN);
	strbuf_puts(&b, " ");
	strbuf_put_int(&b, 0);
	strbuf_puts(&b, " ");
	strbuf_put_int(&b, LLONG_MAX);
	snprintf(want, sizeof want, "%lld 0 %lld", LLONG_MIN, LLONG_MAX);
	CHECK_STR(n, want);
	/* a copy is cut as snprintf("%s") cuts it */
	lis_strcopy(n, 4, "abcdef");
	CHECK_STR(n, "abc");
	lis_strcopy(n, sizeof n, "");
	CHECK_STR(n, "");
}

static void test_utf8_sequences(void)
{
	uint32_t cp = 0;
	CHECK(lis_utf8_seq((const unsigned char *)"A", 1, &cp) == 1 && cp == 'A');
	CHECK(lis_utf8_seq((const unsigned char *)"\xc3\xa9", 2, &cp) == 2 && cp == 0xe9);
	CHECK(lis_utf8_seq((const unsigned char *)"\xe2\x82\xac", 3, &cp) == 3 && cp == 0x20ac);
	CHECK(lis_utf8_seq((const unsigned char *)"\xf0\x9f\x9a\x92", 4, &cp) == 4 &&
	      cp == 0x1f692);
	CHECK(lis_utf8_seq((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, NULL) == 4);
	/* overlong, surrogate, past U+10FFFF, stray continuation, cut short, nothing */
	CHECK(lis_utf8_seq((const unsigned char *)"\xc0\xaf", 2, NULL) == 0);
	CHECK(lis_utf8_seq((const unsigned char *)"\xe0\x80\xaf", 3, NULL) == 0);
	CHECK(lis_utf8_seq((const unsigned char *)"\xf0\x80\x80\xaf", 4, NULL) == 0);
	CHECK(lis_utf8_seq((const unsigned char *)"\xed\xa0\x80", 3, NULL) == 0);
	CHECK(lis_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4, NULL) == 0);
	CHECK(lis_utf8_seq((const unsigned char *)"\x80", 1, NULL) == 0);
	CHECK(lis_utf8_seq((const unsigned char *)"\xe2\x82\xac", 2, NULL) == 0);
	CHECK(lis_utf8_seq((const unsigned char *)"\xe2\x28\xac", 3, NULL) == 0);
	CHECK(lis_utf8_seq((const unsigned char *)"", 0, NULL) == 0);
}

int main(void)
{
	t_run("test_pieces_are_whole_or_absent_and_cut_stays",
	      test_pieces_are_whole_or_absent_and_cut_stays);
	t_run("test_attach_goes_on_from_the_text", test_attach_goes_on_from_the_text);
	t_run("test_growing_text_grows_and_frees", test_growing_text_grows_and_frees);
	t_run("test_strcatf_cuts_then_adds_nothing", test_strcatf_cuts_then_adds_nothing);
	t_run("test_text_for_people_cuts_as_snprintf", test_text_for_people_cuts_as_snprintf);
	t_run("test_utf8_sequences", test_utf8_sequences);
	return t_done();
}
