/* Unit tests for src/http/compress.c: Accept-Encoding (q-values, identity refused, *, bad
 * elements), the choice of a coding, compressible types, gzip and Brotli round trips, ETag
 * variants and If-None-Match lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <brotli/decode.h>
#include <string.h>
#include <zlib.h>

#include "base/sb.h"
#include "http/compress.h"

static enum coding pick(const char *ae, bool worth)
{
	struct accept_enc a;
	accept_enc_parse(ae, ae ? strlen(ae) : 0, &a);
	return accept_enc_choose(&a, worth);
}

static void test_accept_encoding(void **state)
{
	(void)state;
	/* no field, an empty one: identity only */
	assert_int_equal(pick(NULL, true), CODING_IDENTITY);
	assert_int_equal(pick("", true), CODING_IDENTITY);
	/* what browsers send: br first */
	assert_int_equal(pick("gzip, deflate, br", true), CODING_BR);
	assert_int_equal(pick("gzip, deflate", true), CODING_GZIP);
	assert_int_equal(pick("GZip", true), CODING_GZIP);
	assert_int_equal(pick("x-gzip", true), CODING_GZIP);
	assert_int_equal(pick("deflate, compress", true), CODING_IDENTITY);
	/* q-values decide; ties go to br, then gzip */
	assert_int_equal(pick("br;q=0.5, gzip;q=0.8", true), CODING_GZIP);
	assert_int_equal(pick("br ; q=0.8 , gzip;Q=0.8", true), CODING_BR);
	assert_int_equal(pick("gzip;q=0.5", true), CODING_GZIP); /* identity unnamed: least preferred */
	assert_int_equal(pick("gzip;q=0.5, identity", true), CODING_IDENTITY);
	assert_int_equal(pick("gzip;q=0.5, *;q=0.6", true), CODING_BR); /* * names br too */
	assert_int_equal(pick("gzip;q=0.5, br;q=0, *;q=0.6", true), CODING_IDENTITY);
	assert_int_equal(pick("gzip;q=0.5, identity;q=0.4", true), CODING_GZIP);
	assert_int_equal(pick("br;q=0, gzip", true), CODING_GZIP);
	assert_int_equal(pick("gzip;q=0, br;q=0", true), CODING_IDENTITY);
	assert_int_equal(pick("gzip;q=0.001, identity;q=0.5", true), CODING_IDENTITY);
	assert_int_equal(pick("gzip;q=1.000, identity;q=0.999", true), CODING_GZIP);
	/* *: every coding not named */
	assert_int_equal(pick("*", true), CODING_BR);
	assert_int_equal(pick("br;q=0, *", true), CODING_GZIP);
	assert_int_equal(pick("*;q=0, gzip", true), CODING_GZIP);
	assert_int_equal(pick("*;q=0", true), CODING_IDENTITY);
	/* too small to be worth it: identity, unless identity is refused */
	assert_int_equal(pick("gzip, br", false), CODING_IDENTITY);
	assert_int_equal(pick("gzip, identity;q=0", false), CODING_GZIP);
	assert_int_equal(pick("br, *;q=0", false), CODING_BR);
	/* malformed elements are skipped, the rest still counts */
	assert_int_equal(pick("gzip;q=2", true), CODING_IDENTITY);
	assert_int_equal(pick("gzip;q=0.5000, br", true), CODING_BR);
	assert_int_equal(pick("gzip;q=abc", true), CODING_IDENTITY);
	assert_int_equal(pick("gzip;q=1.5, br;q=0.1, identity;q=0", true), CODING_BR);
	assert_int_equal(pick("g\"zip, gzip", true), CODING_GZIP);
	assert_int_equal(pick(";;;,,,=, br", true), CODING_BR);
	assert_int_equal(pick("gzip;level=9;q=0.9", true), CODING_GZIP);
	/* the first mention counts */
	assert_int_equal(pick("gzip;q=0, gzip", true), CODING_IDENTITY);
	/* q-values in thousandths */
	struct accept_enc a;
	const char *v = "gzip;q=0.123, br;q=1., identity;q=0";
	accept_enc_parse(v, strlen(v), &a);
	assert_int_equal(a.q[CODING_GZIP], 123);
	assert_int_equal(a.q[CODING_BR], 1000);
	assert_int_equal(a.q[CODING_IDENTITY], 0);
	/* len, not NUL, ends the value */
	accept_enc_parse("gzipXYZ", 4, &a);
	assert_int_equal(a.q[CODING_GZIP], 1000);
}

static void test_types(void **state)
{
	(void)state;
	const char *yes[] = { "text/html; charset=utf-8", "text/css", "text/javascript; charset=utf-8", "text/csv",
			      "application/json", "application/json; charset=utf-8", "image/svg+xml",
			      "application/xml", "application/manifest+json", "application/problem+json",
			      "application/atom+xml", "TEXT/PLAIN", "text/yaml; charset=utf-8" };
	const char *no[] = { NULL, "", "text/event-stream", "text/event-stream; charset=utf-8", "application/pdf",
			     "image/png", "image/jpeg", "font/woff2", "application/zip", "application/octet-stream",
			     "application/gzip", "text/", "+json", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(compress_type_ok(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(compress_type_ok(no[i]));
}

static void gunzip(const struct sb *z, struct sb *out)
{
	z_stream s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(inflateInit2(&s, 15 + 16), Z_OK);
	char buf[4096];
	s.next_in = (Bytef *)z->buf;
	s.avail_in = (uInt)z->len;
	int rc;
	do {
		s.next_out = (Bytef *)buf;
		s.avail_out = sizeof(buf);
		rc = inflate(&s, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
		sb_add(out, buf, sizeof(buf) - s.avail_out);
	} while (rc != Z_STREAM_END);
	inflateEnd(&s);
}

static void unbrotli(const struct sb *z, struct sb *out, size_t plain_len)
{
	sb_grow(out, plain_len);
	size_t n = plain_len;
	assert_int_equal(BrotliDecoderDecompress(z->len, (const uint8_t *)z->buf, &n, (uint8_t *)out->buf),
			 BROTLI_DECODER_RESULT_SUCCESS);
	out->len = n;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct sb plain = SB_INIT;
	for (int i = 0; i < 2000; i++)
		sb_addf(&plain, "<li class=\"item\">办事指南 %d</li>\n", i % 37);
	for (int c = CODING_GZIP; c <= CODING_BR; c++) {
		for (int best = 0; best <= 1; best++) {
			struct sb z = SB_INIT, back = SB_INIT;
			sb_adds(&z, "prefix"); /* appends */
			assert_int_equal(compress_buf(c, best, plain.buf, plain.len, &z), 0);
			assert_true(z.len - 6 < plain.len / 5);
			struct sb body = SB_INIT;
			sb_add(&body, z.buf + 6, z.len - 6);
			if (c == CODING_GZIP)
				gunzip(&body, &back);
			else
				unbrotli(&body, &back, plain.len);
			assert_int_equal(back.len, plain.len);
			assert_memory_equal(back.buf, plain.buf, plain.len);
			/* the same input gives the same bytes */
			struct sb again = SB_INIT;
			assert_int_equal(compress_buf(c, best, plain.buf, plain.len, &again), 0);
			assert_int_equal(again.len, body.len);
			assert_memory_equal(again.buf, body.buf, body.len);
			sb_release(&again);
			sb_release(&body);
			sb_release(&z);
			sb_release(&back);
		}
	}
	/* an empty body still makes a valid stream */
	struct sb z = SB_INIT, back = SB_INIT;
	assert_int_equal(compress_buf(CODING_GZIP, false, "", 0, &z), 0);
	gunzip(&z, &back);
	assert_int_equal(back.len, 0);
	sb_release(&z);
	sb_release(&back);
	assert_int_equal(compress_buf(CODING_IDENTITY, false, "x", 1, &z) != 0, 1);
	sb_release(&plain);
}

static void test_etags(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(etag_variant("\"abc\"", CODING_GZIP, buf, sizeof(buf)), "\"abc-gz\"");
	assert_string_equal(etag_variant("\"abc\"", CODING_BR, buf, sizeof(buf)), "\"abc-br\"");
	assert_string_equal(etag_variant("W/\"abc\"", CODING_BR, buf, sizeof(buf)), "W/\"abc-br\"");
	assert_string_equal(etag_variant("\"abc\"", CODING_IDENTITY, buf, sizeof(buf)), "\"abc\"");
	assert_string_equal(etag_variant("\"abc\"", CODING_GZIP, buf, 8), "\"abc\""); /* no room */

	const char *e = "\"abc-gz\"";
#define M(list, want) assert_int_equal(etag_list_match(list, strlen(list), e), want)
	M("\"abc-gz\"", true);
	M("W/\"abc-gz\"", true); /* weak comparison */
	M("\"abc\"", false);      /* another coding's variant */
	M("\"abc-br\"", false);
	M("\"x\", \"abc-gz\"", true);
	M("\"x\",W/\"abc-gz\" ,\"y\"", true);
	M("*", true);
	M("", false);
	M("abc-gz", false);        /* no quotes */
	M("\"abc-gz", false);       /* unterminated */
	M("junk, \"abc-gz\"", false); /* nothing after a malformed element */
	M(" , ,\"abc-gz\"", true);
#undef M
	assert_true(etag_list_match("\"abc\"", 5, "W/\"abc\""));
	assert_false(etag_list_match("\"abc\"", 5, "abc"));
	assert_false(etag_list_match(NULL, 0, "\"abc\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_encoding),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_etags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
