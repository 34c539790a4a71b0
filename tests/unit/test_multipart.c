/* Unit tests for src/http/multipart.c: boundaries, browser-like bodies, limits, file names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/sb.h"
#include "http/multipart.h"

#define B "----WebKitFormBoundary7MA4YWxkTrZu0gW"

/* Parses a copy of [body, body+len) in an exact-size heap buffer, so ASan catches any read
 * past the end. */
static int parse(struct arena *a, const char *body, size_t len, const char *boundary, struct multipart *m,
		 const char **why)
{
	char *copy = malloc(len ? len : 1);
	memcpy(copy, body, len);
	int rc = multipart_parse(a, copy, len, boundary, m, why);
	/* Views into the body would dangle: re-point them into a's copy for the checks. */
	if (rc == 0)
		for (size_t i = 0; i < m->n; i++) {
			char *d = arena_alloc(a, m->parts[i].len + 1);
			memcpy(d, m->parts[i].data, m->parts[i].len);
			d[m->parts[i].len] = 0;
			m->parts[i].data = d;
		}
	free(copy);
	return rc;
}

static int parse_s(struct arena *a, const char *body, struct multipart *m, const char **why)
{
	return parse(a, body, strlen(body), B, m, why);
}

static void test_boundary(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	const char *b;
	assert_int_equal(multipart_boundary(a, "multipart/form-data; boundary=" B, &b), 0);
	assert_string_equal(b, B);
	assert_int_equal(multipart_boundary(a, "Multipart/Form-Data;boundary=\"a b:c\"", &b), 0);
	assert_string_equal(b, "a b:c");
	assert_int_equal(multipart_boundary(a, "multipart/form-data; charset=utf-8; BOUNDARY=xyz ; x=\"y;z\"", &b), 0);
	assert_string_equal(b, "xyz");
	assert_int_equal(multipart_boundary(a, "  multipart/form-data ; boundary=\"q\\\"\"", &b), GH_EINVAL); /* '"' not a bchar */
	assert_int_equal(multipart_boundary(a, "application/x-www-form-urlencoded", &b), GH_EUNSUPPORTED);
	assert_int_equal(multipart_boundary(a, "multipart/mixed; boundary=x", &b), GH_EUNSUPPORTED);
	assert_int_equal(multipart_boundary(a, "multipart/form-datax; boundary=x", &b), GH_EUNSUPPORTED);
	assert_int_equal(multipart_boundary(a, NULL, &b), GH_EUNSUPPORTED);
	assert_int_equal(multipart_boundary(a, "multipart/form-data", &b), GH_EINVAL);
	assert_int_equal(multipart_boundary(a, "multipart/form-data; boundary=", &b), GH_EINVAL);
	assert_int_equal(multipart_boundary(a, "multipart/form-data; boundary=\"\"", &b), GH_EINVAL);
	assert_int_equal(multipart_boundary(a, "multipart/form-data; boundary=\"abc", &b), GH_EINVAL);
	assert_int_equal(multipart_boundary(a, "multipart/form-data; boundary=a; boundary=b", &b), GH_EINVAL);
	assert_int_equal(multipart_boundary(a, "multipart/form-data; boundary=\"abc \"", &b), GH_EINVAL);
	assert_int_equal(multipart_boundary(a, "multipart/form-data; boundary=a\x01", &b), GH_EINVAL);
	char ct[200];
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%070d", 7);
	assert_int_equal(multipart_boundary(a, ct, &b), 0);
	assert_int_equal(strlen(b), 70);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%071d", 7);
	assert_int_equal(multipart_boundary(a, ct, &b), GH_EINVAL);
	arena_free(a);
}

static const char bin1[] = "\x89PNG\r\n\x1a\n\0\0\r\n--" B "x\r\nz--" B "\r\n\r\n--\r\n-- " B "-\r\nend";

static void test_browser_body(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	struct sb body = SB_INIT;
	sb_adds(&body, "This is a preamble, to be ignored.\r\n");
	sb_adds(&body, "--" B "\r\n"
		       "Content-Disposition: form-data; name=\"applicant\"\r\n\r\n"
		       "张三\r\n"
		       "--" B "\r\n"
		       "content-disposition: form-data; name=\"note\"\r\n\r\n"
		       "line one\r\nline two -- --" B "X\r\n"
		       "--" B "\r\n"
		       "Content-Disposition: form-data; name=\"empty\"\r\n\r\n"
		       "\r\n"
		       "--" B "\r\n"
		       "Content-Disposition: form-data; name=\"id_card\"; filename=\"身份证.png\"\r\n"
		       "Content-Type: image/png\r\n\r\n");
	sb_add(&body, bin1, sizeof(bin1) - 1);
	sb_adds(&body, "\r\n--" B "  \t\r\n" /* transport padding */
		       "CONTENT-DISPOSITION: form-data; filename=\"a\\\"b.pdf\"; NAME=proof\r\n"
		       "Content-Type: application/pdf\r\nX-Other: ignored\r\n\r\n"
		       "%PDF-1.4\n\r\n\r\n%%EOF\n"
		       "\r\n--" B "--\r\nThis is the epilogue, also ignored.\r\n--" B "\r\n");
	struct multipart m;
	const char *why = "unset";
	assert_int_equal(parse(a, body.buf, body.len, B, &m, &why), 0);
	assert_null(why);
	assert_int_equal(m.n, 5);
	assert_string_equal(m.parts[0].name, "applicant");
	assert_string_equal(m.parts[0].value, "张三");
	assert_null(m.parts[0].filename);
	assert_null(m.parts[0].content_type);
	assert_string_equal(m.parts[1].value, "line one\r\nline two -- --" B "X");
	assert_string_equal(m.parts[2].value, "");
	assert_int_equal(m.parts[2].len, 0);
	const struct multipart_part *f = multipart_get(&m, "id_card");
	assert_non_null(f);
	assert_string_equal(f->filename, "身份证.png");
	assert_string_equal(f->content_type, "image/png");
	assert_null(f->value);
	assert_int_equal(f->len, sizeof(bin1) - 1);
	assert_memory_equal(f->data, bin1, sizeof(bin1) - 1);
	f = multipart_get(&m, "proof");
	assert_non_null(f);
	assert_string_equal(f->filename, "a\"b.pdf");
	assert_int_equal(f->len, strlen("%PDF-1.4\n\r\n\r\n%%EOF\n"));
	assert_memory_equal(f->data, "%PDF-1.4\n\r\n\r\n%%EOF\n", f->len);
	assert_null(multipart_get(&m, "nope"));

	/* The views point into the body: nothing of the file was copied. */
	struct multipart m2;
	assert_int_equal(multipart_parse(a, body.buf, body.len, B, &m2, NULL), 0);
	const char *d = multipart_get(&m2, "id_card")->data;
	assert_true(d > body.buf && d < body.buf + body.len);
	sb_release(&body);
	arena_free(a);
}

static void test_edges(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	struct multipart m;
	const char *why;
	/* Only the closing delimiter: no parts. */
	assert_int_equal(parse_s(a, "--" B "--", &m, &why), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(parse_s(a, "--" B "--\r\n", &m, &why), 0);
	/* Empty value right before the delimiter. */
	assert_int_equal(parse_s(a, "--" B "\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--" B "--", &m, &why), 0);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.parts[0].value, "");
	/* filename*=UTF-8'' wins over filename. */
	assert_int_equal(parse_s(a, "--" B "\r\nContent-Disposition: form-data; name=f; filename=\"x.pdf\"; "
				    "filename*=UTF-8''%E8%AF%81%E6%98%8E.pdf\r\n\r\nDATA\r\n--" B "--", &m, &why), 0);
	assert_string_equal(m.parts[0].filename, "证明.pdf");
	/* ... unless it cannot be decoded. */
	assert_int_equal(parse_s(a, "--" B "\r\nContent-Disposition: form-data; name=f; filename=\"x.pdf\"; "
				    "filename*=latin1''%E9.pdf\r\n\r\nDATA\r\n--" B "--", &m, &why), 0);
	assert_string_equal(m.parts[0].filename, "x.pdf");
	/* An empty file input. */
	assert_int_equal(parse_s(a, "--" B "\r\nContent-Disposition: form-data; name=f; filename=\"\"\r\n"
				    "Content-Type: application/octet-stream\r\n\r\n\r\n--" B "--", &m, &why), 0);
	assert_string_equal(m.parts[0].filename, "file");
	assert_int_equal(m.parts[0].len, 0);
	/* Binary file data may hold NUL and invalid UTF-8. */
	static const char nul[] = "--" B "\r\nContent-Disposition: form-data; name=f; filename=a.bin\r\n\r\n\0\xff\r\n--" B "--";
	assert_int_equal(parse(a, nul, sizeof(nul) - 1, B, &m, &why), 0);
	assert_int_equal(m.parts[0].len, 2);
	arena_free(a);
}

static void expect_err(const char *body, size_t len, int code, const char *reason)
{
	struct arena *a = arena_new(4096);
	struct multipart m;
	const char *why = NULL;
	assert_int_equal(parse(a, body, len, B, &m, &why), code);
	assert_non_null(why);
	if (reason)
		assert_string_equal(why, reason);
	arena_free(a);
}

#define EXPECT_ERR(body, code, reason) expect_err(body, sizeof(body) - 1, code, reason)

static void test_malformed(void **state)
{
	(void)state;
	EXPECT_ERR("", GH_EINVAL, "no boundary");
	EXPECT_ERR("--" B, GH_EINVAL, "no boundary");
	EXPECT_ERR("--" B "x\r\n", GH_EINVAL, "no boundary");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue\r\n", GH_EINVAL,
		   "missing closing boundary");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue\r\n--" B, GH_EINVAL,
		   "missing closing boundary");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue\r\n--" B "-", GH_EINVAL,
		   "missing closing boundary");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=a\r\n", GH_EINVAL, "unterminated part headers");
	/* LF-only line endings are refused (see multipart.c). */
	EXPECT_ERR("--" B "\nContent-Disposition: form-data; name=a\n\nvalue\n--" B "--\n", GH_EINVAL, "no boundary");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=a\n\nvalue\n--" B "--\n", GH_EINVAL, NULL);
	EXPECT_ERR("--" B "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "part without Content-Disposition");
	EXPECT_ERR("--" B "\r\n\r\nx\r\n--" B "--", GH_EINVAL, "part without Content-Disposition");
	EXPECT_ERR("--" B "\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "part is not form-data");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; filename=a.pdf\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "part without a name");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "part without a name");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "duplicate Content-Disposition parameter");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "malformed Content-Disposition");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nx\r\n--" B "--",
		   GH_EINVAL, "two Content-Disposition headers");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "malformed part header");
	EXPECT_ERR("--" B "\r\nContent-Disposition form-data; name=a\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "malformed part header");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "NUL in part headers");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=\"a\rb\"\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "control character in part headers");
	/* Field values must be UTF-8 without NUL; field names too. */
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n\xe8\xaf\r\n--" B "--", GH_EINVAL,
		   "field value is not valid UTF-8");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\nx\0y\r\n--" B "--", GH_EINVAL,
		   "field value is not valid UTF-8");
	EXPECT_ERR("--" B "\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\nx\r\n--" B "--", GH_EINVAL,
		   "field name is not valid UTF-8");
	/* A bad boundary from the caller. */
	struct arena *a = arena_new(4096);
	struct multipart m;
	assert_int_equal(multipart_parse(a, "x", 1, "", &m, NULL), GH_EINVAL);
	arena_free(a);
}

static void test_limits(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	struct multipart m;
	const char *why;
	struct sb body = SB_INIT;
	for (int i = 0; i < 65; i++)
		sb_addf(&body, "--" B "\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv%d\r\n", i, i);
	sb_adds(&body, "--" B "--\r\n");
	assert_int_equal(parse(a, body.buf, body.len, B, &m, &why), GH_ETOOBIG);
	assert_string_equal(why, "too many parts");
	/* 64 are fine. */
	sb_reset(&body);
	for (int i = 0; i < 64; i++)
		sb_addf(&body, "--" B "\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv%d\r\n", i, i);
	sb_adds(&body, "--" B "--\r\n");
	assert_int_equal(parse(a, body.buf, body.len, B, &m, &why), 0);
	assert_int_equal(m.n, 64);
	assert_string_equal(multipart_get(&m, "f63")->value, "v63");

	/* Huge headers, terminated or not. */
	sb_reset(&body);
	sb_adds(&body, "--" B "\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ");
	for (int i = 0; i < 3000; i++)
		sb_addch(&body, 'x');
	sb_adds(&body, "\r\n\r\nv\r\n--" B "--");
	assert_int_equal(parse(a, body.buf, body.len, B, &m, &why), GH_ETOOBIG);
	assert_string_equal(why, "part headers too large");
	body.len -= strlen("\r\n\r\nv\r\n--" B "--");
	assert_int_equal(parse(a, body.buf, body.len, B, &m, &why), GH_ETOOBIG);
	/* Just under the limit is fine. */
	sb_reset(&body);
	sb_adds(&body, "--" B "\r\n");
	size_t hs = body.len;
	sb_adds(&body, "Content-Disposition: form-data; name=a\r\nX-Pad: ");
	while (body.len - hs < MULTIPART_MAX_HEADER - 2)
		sb_addch(&body, 'x');
	sb_adds(&body, "\r\n\r\nv\r\n--" B "--");
	assert_int_equal(parse(a, body.buf, body.len, B, &m, &why), 0);

	/* Field names: 128 bytes fine, 129 too long. */
	char name[200];
	memset(name, 'n', sizeof(name));
	sb_reset(&body);
	sb_addf(&body, "--" B "\r\nContent-Disposition: form-data; name=\"%.*s\"\r\n\r\nv\r\n--" B "--", 128, name);
	assert_int_equal(parse(a, body.buf, body.len, B, &m, &why), 0);
	sb_reset(&body);
	sb_addf(&body, "--" B "\r\nContent-Disposition: form-data; name=\"%.*s\"\r\n\r\nv\r\n--" B "--", 129, name);
	assert_int_equal(parse(a, body.buf, body.len, B, &m, &why), GH_ETOOBIG);
	assert_string_equal(why, "field name too long");

	/* File names are cut, keeping the extension, on a character boundary. */
	sb_reset(&body);
	sb_adds(&body, "--" B "\r\nContent-Disposition: form-data; name=f; filename=\"");
	for (int i = 0; i < 100; i++)
		sb_adds(&body, "证");
	sb_adds(&body, ".pdf\"\r\n\r\nDATA\r\n--" B "--");
	assert_int_equal(parse(a, body.buf, body.len, B, &m, &why), 0);
	const char *fn = m.parts[0].filename;
	assert_true(strlen(fn) <= MULTIPART_MAX_NAME);
	assert_int_equal(strlen(fn), 41 * 3 + 4);
	assert_true(str_utf8_valid(fn, strlen(fn)));
	assert_string_equal(fn + strlen(fn) - 4, ".pdf");
	sb_release(&body);
	arena_free(a);
}

static void test_filename(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
#define FN(s) multipart_filename(a, s, sizeof(s) - 1)
	assert_string_equal(FN("C:\\Users\\a\\证明.pdf"), "证明.pdf");
	assert_string_equal(FN("../../etc/passwd"), "passwd");
	assert_string_equal(FN("scan.jpg"), "scan.jpg");
	assert_string_equal(FN(""), "file");
	assert_string_equal(FN("dir/"), "file");
	assert_string_equal(FN("a/.."), "file");
	assert_string_equal(FN("  a b.png  "), "a b.png");
	assert_string_equal(FN("a\x01\tb\x7f.png"), "ab.png");
	assert_string_equal(FN("a\xc2\x85" "b.png"), "ab.png");                 /* U+0085 */
	assert_string_equal(FN("invoice\xe2\x80\xaegpj.exe"), "invoicegpj.exe"); /* U+202E */
	assert_string_equal(FN("\xff\xfe.pdf"), "file");
	assert_string_equal(FN("a\0b.pdf"), "file");
	assert_string_equal(FN("\xe8\xaf.pdf"), "file");
	/* Long names without a short extension are cut on a character boundary. */
	char buf[400];
	size_t n = 0;
	buf[n++] = 'x';
	for (int i = 0; i < 100; i++) {
		memcpy(buf + n, "证", 3);
		n += 3;
	}
	const char *fn = multipart_filename(a, buf, n);
	assert_int_equal(strlen(fn), 1 + 42 * 3);
	assert_true(str_utf8_valid(fn, strlen(fn)));
	memset(buf, 'a', 300);
	memcpy(buf + 100, ".abcdefghijklmnopqrstuvwxyz", 27); /* extension too long to keep */
	fn = multipart_filename(a, buf, 300);
	assert_int_equal(strlen(fn), MULTIPART_MAX_NAME);
	/* Via the header, an MSIE full path with unescaped backslashes. */
	struct multipart m;
	const char *why;
	assert_int_equal(parse_s(a, "--" B "\r\nContent-Disposition: form-data; name=f; "
				    "filename=\"C:\\Users\\a\\证明.pdf\"\r\n\r\nx\r\n--" B "--", &m, &why), 0);
	assert_string_equal(m.parts[0].filename, "证明.pdf");
	assert_int_equal(parse_s(a, "--" B "\r\nContent-Disposition: form-data; name=f; "
				    "filename=\"C:\\\\Users\\\\b.pdf\"\r\n\r\nx\r\n--" B "--", &m, &why), 0);
	assert_string_equal(m.parts[0].filename, "b.pdf");
	assert_int_equal(parse_s(a, "--" B "\r\nContent-Disposition: form-data; name=f; "
				    "filename=../../etc/passwd\r\n\r\nx\r\n--" B "--", &m, &why), 0);
	assert_string_equal(m.parts[0].filename, "passwd");
#undef FN
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_browser_body),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_filename),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
