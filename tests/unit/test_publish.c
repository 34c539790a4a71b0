/* Unit tests for src/publish: Markdown rendered in safe mode (raw HTML removed, script links
 * dropped, ordinary Markdown kept), the size and encoding limits, and the workflow table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "publish/publish_impl.h"

static char *render(struct arena *a, const char *md)
{
	char *html = NULL;
	assert_int_equal(publish_markdown_html(a, md, strlen(md), &html), 0);
	return html;
}

static void test_markdown_safe(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	char *h = render(a, "# 标题\n\n**粗体** and [link](https://example.gov.cn/a?b=1&c=2)\n");
	assert_non_null(strstr(h, "<h1>标题</h1>"));
	assert_non_null(strstr(h, "<strong>粗体</strong>"));
	assert_non_null(strstr(h, "<a href=\"https://example.gov.cn/a?b=1&amp;c=2\">link</a>"));
	h = render(a, "<script>alert(1)</script>\n\n<b onclick=\"x()\">hi</b> <img src=x onerror=alert(1)>\n");
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "onclick"));
	assert_null(strstr(h, "onerror"));
	assert_non_null(strstr(h, "raw HTML omitted"));
	h = render(a, "[a](javascript:alert(1)) [b](JAVASCRIPT:x) ![c](vbscript:y) [d](data:text/html;base64,PGI+)\n");
	assert_null(strstr(h, "javascript:"));
	assert_null(strstr(h, "JAVASCRIPT:"));
	assert_null(strstr(h, "vbscript:"));
	assert_null(strstr(h, "data:text/html"));
	/* Text that looks like markup is escaped, not interpreted. */
	h = render(a, "`<b>` \\<i\\> 5 < 6 & 7\n");
	assert_non_null(strstr(h, "<code>&lt;b&gt;</code>"));
	assert_non_null(strstr(h, "&lt;i&gt;"));
	assert_non_null(strstr(h, "5 &lt; 6 &amp; 7"));
	arena_free(a);
}

static void test_markdown_limits(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	char *html;
	assert_int_equal(publish_markdown_html(a, "\xff\xfe", 2, &html), GH_EINVAL);
	assert_int_equal(publish_markdown_html(a, "a\0b", 3, &html), GH_EINVAL);
	size_t n = PUBLISH_MAX_BODY + 1;
	char *big = malloc(n);
	memset(big, 'x', n);
	assert_int_equal(publish_markdown_html(a, big, n, &html), GH_EINVAL);
	assert_int_equal(publish_markdown_html(a, big, n - 1, &html), 0);
	free(big);
	assert_int_equal(publish_markdown_html(a, "", 0, &html), 0);
	assert_string_equal(html, "");
	arena_free(a);
}

static void test_workflow(void **state)
{
	(void)state;
	const struct pub_action *s = pub_action("submit"), *ap = pub_action("approve"), *ret = pub_action("return"),
				*w = pub_action("withdraw");
	assert_non_null(s);
	assert_string_equal(s->from, "draft");
	assert_string_equal(s->to, "review");
	assert_false(s->head);
	assert_true(ap->head && !ap->need_note);
	assert_string_equal(ap->to, "published");
	assert_true(ret->head && ret->need_note);
	assert_string_equal(ret->to, "draft");
	assert_true(w->head && w->need_note);
	assert_string_equal(w->from, "published");
	assert_null(pub_action("delete"));
	assert_null(pub_action(NULL));
	assert_true(pub_category_ok("policy"));
	assert_false(pub_category_ok("Policy"));
	assert_false(pub_category_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markdown_safe),
		cmocka_unit_test(test_markdown_limits),
		cmocka_unit_test(test_workflow),
	};
	return cmocka_run_group_tests_name("publish", tests, NULL, NULL);
}
