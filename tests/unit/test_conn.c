/* Unit tests for the connection layer: the strict HTTP/1.1 request parser (http/h1.c), client
 * addresses through trusted proxies (http/proxy.c: CIDR lists, PROXY protocol v1 and v2,
 * X-Forwarded-For), and the log's limit on repeated lines (base/log.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "http/h1.h"
#include "http/proxy.h"

static const struct h1_limits lim = { .max_target = 4096, .max_head = 16384, .max_fields = 100, .max_body = 1 << 20 };

/* Feeds s whole, or in pieces of `step` bytes; returns the final status (400, 413, ... or 0
 * for a complete request) and leaves the parser for inspection. */
static int parse_steps(struct h1 *h, const char *s, size_t len, size_t step)
{
	size_t off = 0;
	for (;;) {
		size_t n = len - off < step ? len - off : step, used;
		enum h1_status st = h1_feed(h, s + off, n, &used);
		off += used;
		switch (st) {
		case H1_ERROR:
			return h1_error(h, NULL);
		case H1_DONE:
			return 0;
		case H1_HEAD:
			continue;
		case H1_MORE:
			if (off >= len)
				return -1; /* incomplete */
			continue;
		}
	}
}

static int parse(const char *s)
{
	int results[3];
	size_t steps[3] = { (size_t)-1, 1, 7 };
	for (int i = 0; i < 3; i++) {
		struct h1 *h = h1_new(&lim);
		results[i] = parse_steps(h, s, strlen(s), steps[i]);
		h1_free(h);
	}
	/* However the bytes are cut, the verdict is the same. */
	assert_int_equal(results[0], results[1]);
	assert_int_equal(results[0], results[2]);
	return results[0];
}

static void test_h1_accepts(void **state)
{
	(void)state;
	struct h1 *h = h1_new(&lim);
	const char *req = "POST /api/v1/x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
			  "X-Empty:\r\nX-Pad:  v  \r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t used;
	assert_int_equal(h1_feed(h, req, strlen(req), &used), H1_HEAD);
	const struct h1_request *q = h1_request(h);
	assert_string_equal(q->method, "POST");
	assert_string_equal(q->target, "/api/v1/x?y=1");
	assert_string_equal(h1_field(h, "host"), "a");
	assert_string_equal(h1_field(h, "X-Empty"), "");
	assert_string_equal(h1_field(h, "x-pad"), "v");
	assert_true(q->has_body);
	size_t off = used;
	assert_int_equal(h1_feed(h, req + off, strlen(req) - off, &used), H1_DONE);
	off += used;
	assert_int_equal(q->body_len, 5);
	assert_string_equal(q->body, "hello");
	assert_true(q->keep_alive);
	/* The pipelined request after it. */
	h1_next(h);
	assert_false(h1_started(h));
	assert_int_equal(h1_feed(h, req + off, strlen(req) - off, &used), H1_HEAD);
	off += used;
	assert_int_equal(h1_feed(h, req + off, strlen(req) - off, &used), H1_DONE);
	assert_string_equal(h1_request(h)->method, "GET");
	assert_false(h1_request(h)->has_body);
	h1_free(h);

	/* Chunked, with extensions (accepted and ignored) and a trailer field (dropped). */
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
			       "3;name=value;flag\r\nabc\r\n2;q=\"quoted \\\" ext\"\r\nde\r\n0;last=1\r\nX-T: 1\r\n\r\n"), 0);
	static const char *const exts[] = { "3;a", "3;a=b", "3;a=b;c", "3;a=b;c=d", "3 ;a", "3; a = b ; c",
					    "3;a=\"\"", "3;a=\"x;y=z\"", "003;a=b", "3;a=b\t;c" };
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		char ext_req[256];
		snprintf(ext_req, sizeof(ext_req), "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\nabc\r\n0\r\n\r\n",
			 exts[i]);
		if (parse(ext_req) != 0)
			print_error("chunk extension %s refused\n", exts[i]);
		assert_int_equal(parse(ext_req), 0);
	}
	h = h1_new(&lim);
	const char *c = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n";
	assert_int_equal(parse_steps(h, c, strlen(c), 1), 0);
	assert_string_equal(h1_request(h)->body, "abc");
	h1_free(h);
	/* HTTP/1.0 without Host; leading empty lines; absolute-form target; Connection: close. */
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n"), 0);
	assert_int_equal(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	assert_int_equal(parse("GET http://a/b?c HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	h = h1_new(&lim);
	c = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	assert_int_equal(parse_steps(h, c, strlen(c), 100), 0);
	assert_false(h1_request(h)->keep_alive);
	h1_free(h);
	h = h1_new(&lim);
	c = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
	assert_int_equal(h1_feed(h, c, strlen(c), &used), H1_HEAD);
	assert_true(h1_request(h)->expect_continue);
	h1_free(h);
}

/* The request-smuggling class: every framing a proxy in front may read differently. */
static void test_h1_refuses(void **state)
{
	(void)state;
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		/* Content-Length */
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413 },
		/* Transfer-Encoding */
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400 },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
		/* chunks */
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nabc\r\n0\r\n\r\n", 413 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b c\r\nabc\r\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T : 1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n folded\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", 413 },
		/* lines */
		{ "GET / HTTP/1.1\nHost: a\n\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\r\n\tb\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX\x01Y: v\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f" "b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00" "b\r\n\r\n", -2 }, /* see below */
		/* request line */
		{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
		{ "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", 400 },
		{ "GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "get / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
		{ "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
		{ "BREW / HTTP/1.1\r\nHost: a\r\n\r\x03", 501 }, /* the method comes first */
		{ "GARBAGE\r\n\r\n", 400 },                          /* not a request line at all */
		{ "BREW /\r\n\r\n", 400 },
		{ "BREW / HTTP/1.1 x\r\nHost: a\r\n\r\n", 400 },
		{ "PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
		{ "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
		{ "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/9.9\r\nHost: a\r\n\r\n", 505 },
		{ "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505 },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505 },
		{ "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET / http/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\nContent-Length: 1\r\n\r\nx", 417 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nExpect: nothing\r\n\r\n", 417 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].req);
		int want = cases[i].status;
		if (want == -2) {
			/* A NUL inside a value (strlen stops there): built by hand. */
			static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\0\r\n\r\n0\r\n\r\n";
			struct h1 *h = h1_new(&lim);
			int got = parse_steps(h, nul, sizeof(nul) - 1, 1000);
			h1_free(h);
			assert_int_equal(got, 400);
			continue;
		}
		(void)len;
		int got = parse(cases[i].req);
		if (got != want)
			print_error("case %zu: %s -> %d, expected %d\n", i, cases[i].req, got, want);
		assert_int_equal(got, want);
	}
}

static void test_h1_limits(void **state)
{
	(void)state;
	struct h1_limits small = { .max_target = 16, .max_head = 64, .max_fields = 3, .max_body = 4 };
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "GET /0123456789abcde HTTP/1.1\r\nHost: a\r\n\r\n", 0 },
		{ "GET /0123456789abcdef HTTP/1.1\r\nHost: a\r\n\r\n", 414 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nA: 0123456789012345678901234567890123456789012345678901234567890\r\n\r\n", 431 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd", 0 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde", 413 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n", 0 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n", 413 },
		/* Leading empty lines count against the head's size. */
		{ "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", 431 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t step = 1; step < 64; step *= 3) {
			struct h1 *h = h1_new(&small);
			int got = parse_steps(h, cases[i].req, strlen(cases[i].req), step);
			h1_free(h);
			if (got != cases[i].status)
				print_error("case %zu step %zu: -> %d, expected %d\n", i, step, got, cases[i].status);
			assert_int_equal(got, cases[i].status);
		}
	}
	/* An error keeps the target when it was read, so /api/ errors can answer in JSON. */
	struct h1 *h = h1_new(&lim);
	const char *bad = "POST /api/v1/auth/token HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n";
	size_t used;
	assert_int_equal(h1_feed(h, bad, strlen(bad), &used), H1_ERROR);
	assert_non_null(h1_target(h));
	assert_string_equal(h1_target(h), "/api/v1/auth/token");
	h1_free(h);
}

static void test_cidrs(void **state)
{
	(void)state;
	struct net_cidr *v;
	size_t n;
	char err[128];
	assert_int_equal(net_cidrs_parse("10.0.0.0/8, 192.168.1.7 ::1,fd00::/8", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	struct net_addr a;
	const char *in[] = { "10.1.2.3", "192.168.1.7", "::1", "fd12::1", "::ffff:10.9.9.9" };
	const char *out[] = { "11.0.0.1", "192.168.1.8", "::2", "fe00::1", "2001:db8::1" };
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(net_addr_parse(in[i], strlen(in[i]), &a), 0);
		assert_true(net_cidrs_match(v, n, &a));
		assert_int_equal(net_addr_parse(out[i], strlen(out[i]), &a), 0);
		assert_false(net_cidrs_match(v, n, &a));
	}
	free(v);
	assert_int_equal(net_cidrs_parse("", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	const char *bad[] = { "10.0.0.0/33", "10.0.0.0/", "10.0.0", "example.com", "::1/129", "10.0.0.0/8x", "1.2.3.4/-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(net_cidrs_parse(bad[i], &v, &n, err, sizeof(err)), -1);
	/* One spelling per client: v4-mapped IPv6 is IPv4. */
	char buf[64];
	assert_int_equal(net_addr_parse("::ffff:203.0.113.7", 18, &a), 0);
	net_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.7");
	/* IPv6 clients are counted per /64. */
	struct net_addr b;
	net_addr_parse("2001:db8:1:2::1", 15, &a);
	net_addr_parse("2001:db8:1:2:ffff::9", 20, &b);
	struct net_addr ka = net_addr_client_key(&a), kb = net_addr_client_key(&b);
	assert_true(net_addr_equal(&ka, &kb));
}

static void test_xff(void **state)
{
	(void)state;
	struct net_cidr *t;
	size_t n;
	char err[128];
	assert_int_equal(net_cidrs_parse("10.0.0.0/8", &t, &n, err, sizeof(err)), 0);
	static const struct {
		const char *xff, *want; /* want NULL: the header names nobody */
	} cases[] = {
		{ "203.0.113.7", "203.0.113.7" },
		{ "1.1.1.1, 203.0.113.7", "203.0.113.7" },           /* a spoofed hop on the left */
		{ "203.0.113.7, 10.0.0.2", "203.0.113.7" },          /* through a second proxy */
		{ "6.6.6.6, 203.0.113.7, 10.0.0.3, 10.0.0.2", "203.0.113.7" },
		{ "10.0.0.9, 10.0.0.2", "10.0.0.9" },                /* all trusted: the leftmost */
		{ "garbage, 10.0.0.2", "10.0.0.2" },                 /* nobody vouches for the garbage */
		{ "203.0.113.7,,  ", "203.0.113.7" },                /* empty elements */
		{ "", NULL },
		{ "unknown", NULL },
		{ "203.0.113.7:443", NULL },
		{ " 2001:db8::7 ", "2001:db8::7" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct net_addr a;
		int rc = xff_client(cases[i].xff, strlen(cases[i].xff), t, n, &a);
		if (!cases[i].want) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		char buf[64];
		net_addr_format(&a, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
	free(t);
}

static void test_proxy_protocol(void **state)
{
	(void)state;
	struct proxy_info pi;
	size_t used;
	char buf[64];
	const char *v1 = "PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\nGET / HTTP/1.1\r\n";
	assert_int_equal(proxy_parse((const uint8_t *)v1, strlen(v1), &pi, &used), PROXY_DONE);
	assert_int_equal(used, 43);
	assert_false(pi.local);
	net_addr_format(&pi.src, buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.7");
	assert_int_equal(pi.src_port, 51234);
	const char *v6 = "PROXY TCP6 2001:db8::7 2001:db8::1 1 2\r\n";
	assert_int_equal(proxy_parse((const uint8_t *)v6, strlen(v6), &pi, &used), PROXY_DONE);
	net_addr_format(&pi.src, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::7");
	const char *unk = "PROXY UNKNOWN\r\n";
	assert_int_equal(proxy_parse((const uint8_t *)unk, strlen(unk), &pi, &used), PROXY_DONE);
	assert_true(pi.local);
	/* Every prefix of a valid header asks for more. */
	for (size_t k = 0; k < strlen(v6); k++)
		assert_int_equal(proxy_parse((const uint8_t *)v6, k, &pi, &used), PROXY_MORE);
	const char *bad[] = {
		"GET / HTTP/1.1\r\n", "PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 51234 443 \r\n", "PROXY TCP4  203.0.113.7 10.0.0.1 1 2\r\n",
		"PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n", "PROXY TCP6 203.0.113.7 10.0.0.1 1 2\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 65536 2\r\n", "PROXY TCP4 203.0.113.7 10.0.0.1 01 2\r\n",
		"PROXY UDP4 203.0.113.7 10.0.0.1 1 2\r\n", "PROXY TCP4 203.0.113.7 10.0.0.1 1\r\n",
		"PROXY TCP4 a.b.c.d 10.0.0.1 1 2\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proxy_parse((const uint8_t *)bad[i], strlen(bad[i]), &pi, &used), PROXY_BAD);

	/* v2: PROXY, INET, STREAM: 203.0.113.7:51234 -> 10.0.0.1:443, then a TLV. */
	uint8_t v2[16 + 12 + 4] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
				    0x21, 0x11, 0x00, 16, 203, 0, 113, 7, 10, 0, 0, 1, 0xC8, 0x22, 0x01, 0xBB,
				    0x04, 0x00, 0x01, 0x00 };
	assert_int_equal(proxy_parse(v2, sizeof(v2), &pi, &used), PROXY_DONE);
	assert_int_equal(used, sizeof(v2));
	net_addr_format(&pi.src, buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.7");
	assert_int_equal(pi.src_port, 51234);
	for (size_t k = 0; k < sizeof(v2); k++)
		assert_int_equal(proxy_parse(v2, k, &pi, &used), PROXY_MORE);
	/* LOCAL (a health check): the peer stands for itself. */
	uint8_t local[16] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0, 0 };
	assert_int_equal(proxy_parse(local, sizeof(local), &pi, &used), PROXY_DONE);
	assert_true(pi.local);
	/* Wrong version, a command beyond PROXY, an address block shorter than its family's. */
	uint8_t broken[sizeof(v2)];
	memcpy(broken, v2, sizeof(v2));
	broken[12] = 0x11;
	assert_int_equal(proxy_parse(broken, sizeof(broken), &pi, &used), PROXY_BAD);
	broken[12] = 0x22;
	assert_int_equal(proxy_parse(broken, sizeof(broken), &pi, &used), PROXY_BAD);
	memcpy(broken, v2, sizeof(v2));
	broken[15] = 8;
	assert_int_equal(proxy_parse(broken, 24, &pi, &used), PROXY_BAD);
	broken[14] = 0xff; /* longer than any header we take */
	assert_int_equal(proxy_parse(broken, sizeof(broken), &pi, &used), PROXY_BAD);
}

/* Lines written to stderr while fn runs. */
static char *capture_stderr(void (*fn)(void))
{
	fflush(stderr);
	FILE *tmp = tmpfile();
	int saved = dup(2);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	long n = ftell(tmp);
	fseek(tmp, 0, SEEK_END);
	n = ftell(tmp);
	rewind(tmp);
	char *s = calloc(1, (size_t)n + 1);
	size_t got = fread(s, 1, (size_t)n, tmp);
	s[got] = 0;
	fclose(tmp);
	return s;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void flood(void)
{
	for (int i = 0; i < 1000; i++)
		log_warn("accept: Too many open files");
	log_warn("another line");
	log_warn("line %d", 1);
	log_warn("line %d", 2);
	log_repeats_flush(true);
}

static void test_log_repeats(void **state)
{
	(void)state;
	log_set_level("info");
	char *out = capture_stderr(flood);
	/* The first line, then one line with the count of the 999 others. */
	assert_int_equal(count(out, "Too many open files"), 2);
	assert_int_equal(count(out, "\"repeated\":999"), 1);
	/* Different lines are not held back. */
	assert_int_equal(count(out, "another line"), 1);
	assert_int_equal(count(out, "line 1"), 1);
	assert_int_equal(count(out, "line 2"), 1);
	assert_int_equal(count(out, "\n"), 5);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_h1_accepts),
		cmocka_unit_test(test_h1_refuses),
		cmocka_unit_test(test_h1_limits),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_xff),
		cmocka_unit_test(test_proxy_protocol),
		cmocka_unit_test(test_log_repeats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
