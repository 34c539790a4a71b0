/* Unit tests for src/http: route patterns and the router, form/query/path/cookie decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "http/http.h"
#include "http/router.h"
#include "http/sections.h"

static int h_dummy(struct req *r)
{
	(void)r;
	return 0;
}

static void test_route_match(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	struct kvlist p;
	assert_true(route_match(a, "/", "/", &p));
	assert_int_equal(p.n, 0);
	assert_true(route_match(a, "/services/{code}", "/services/psb-0001", &p));
	assert_int_equal(p.n, 1);
	assert_string_equal(kv_get(&p, "code"), "psb-0001");
	assert_false(route_match(a, "/services/{code}", "/services/", &p));
	assert_false(route_match(a, "/services/{code}", "/services/a/b", &p));
	assert_false(route_match(a, "/services/{code}", "/services", &p));
	assert_false(route_match(a, "/services", "/services/", &p));
	assert_true(route_match(a, "/a/{x}/b/{y}", "/a/1/b/清河", &p));
	assert_string_equal(kv_get(&p, "y"), "清河");
	assert_true(route_match(a, "/static/{path*}", "/static/css/site.css", &p));
	assert_string_equal(kv_get(&p, "path"), "css/site.css");
	assert_false(route_match(a, "/static/{path*}", "/static/", &p));
	assert_false(route_match(a, "/x", "x", &p));
	arena_free(a);
}

static const struct route table[] = {
	{ HTTP_GET, "/services", h_dummy, ROLE_PUBLIC, 0, "list" },
	{ HTTP_GET, "/services/{code}", h_dummy, ROLE_PUBLIC, 0, "item" },
	{ HTTP_GET, "/services/new", h_dummy, ROLE_ADMIN, 0, "new" },
	{ HTTP_POST, "/services/{code}/apply", h_dummy, ROLE_CITIZEN, ROUTE_CSRF, "apply" },
};

static void test_router(void **state)
{
	(void)state;
	struct router *rt = router_new();
	assert_int_equal(router_add(rt, table, 4), 0);
	assert_int_equal(router_count(rt), 4);
	struct arena *a = arena_new(4096);
	const struct route *r;
	struct kvlist p;
	unsigned allowed = 0;
	assert_int_equal(router_match(rt, a, HTTP_GET, "/services/psb-0001", &r, &p, &allowed), ROUTER_FOUND);
	assert_string_equal(r->name, "item");
	/* A literal segment beats a parameter. */
	assert_int_equal(router_match(rt, a, HTTP_GET, "/services/new", &r, &p, &allowed), ROUTER_FOUND);
	assert_string_equal(r->name, "new");
	/* HEAD is implied by GET. */
	assert_int_equal(router_match(rt, a, HTTP_HEAD, "/services", &r, &p, &allowed), ROUTER_FOUND);
	assert_int_equal(router_match(rt, a, HTTP_DELETE, "/services", &r, &p, &allowed), ROUTER_METHOD);
	assert_true(allowed & HTTP_GET);
	assert_true(allowed & HTTP_HEAD);
	assert_false(allowed & HTTP_POST);
	char buf[96];
	assert_string_equal(http_methods_str(allowed, buf, sizeof(buf)), "GET, HEAD, OPTIONS");
	assert_int_equal(router_match(rt, a, HTTP_GET, "/services/x/apply", &r, &p, &allowed), ROUTER_METHOD);
	assert_true(allowed & HTTP_POST);
	assert_int_equal(router_match(rt, a, HTTP_GET, "/nothing", &r, &p, &allowed), ROUTER_NOT_FOUND);
	/* Each route knows its place in the table (metrics count per route). */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(router_index(rt, &table[i]), i);
	assert_int_equal(router_index(rt, NULL), router_count(rt));
	static const struct route stranger = { HTTP_GET, "/x", h_dummy, ROLE_PUBLIC, 0, "x" };
	assert_int_equal(router_index(rt, &stranger), router_count(rt));

	/* A route must declare who may call it. */
	static const struct route bad[] = { { HTTP_GET, "/x", h_dummy, 0, 0, "x" } };
	assert_int_equal(router_add(rt, bad, 1), GH_EINVAL);
	static const struct route bad2[] = { { HTTP_GET, "/x/{a*}/y", h_dummy, ROLE_PUBLIC, 0, "x" } };
	assert_int_equal(router_add(rt, bad2, 1), GH_EINVAL);
	arena_free(a);
	router_free(rt);
}

/* Paths told apart only past their first two segments (the API's /api/v1/...): the quick
 * look at the first four segments passes over no route that matches, whether a parameter or
 * a rest stands in any of them. */
static void test_router_deep(void **state)
{
	(void)state;
	static const struct route deep[] = {
		{ HTTP_GET, "/api/v1/services", h_dummy, ROLE_PUBLIC, 0, "services" },
		{ HTTP_GET, "/api/v1/services/{code}", h_dummy, ROLE_PUBLIC, 0, "service" },
		{ HTTP_POST, "/api/v1/services/{code}/applications", h_dummy, ROLE_CITIZEN, 0, "apply" },
		{ HTTP_GET, "/api/v1/applications/{id}/events", h_dummy, ROLE_CITIZEN, 0, "events" },
		{ HTTP_GET, "/api/v1/applications/mine/events", h_dummy, ROLE_CITIZEN, 0, "mine" },
		{ HTTP_GET, "/api/{ver}/applications/{id}/files", h_dummy, ROLE_CITIZEN, 0, "files" },
		{ HTTP_GET, "/api/v1/docs/{path*}", h_dummy, ROLE_PUBLIC, 0, "docs" },
		{ HTTP_GET, "/{any*}", h_dummy, ROLE_PUBLIC, 0, "fallback" },
		{ HTTP_GET, "/1/2/3/4/5/6/7/8/9/10/11/12/{n}", h_dummy, ROLE_PUBLIC, 0, "long" },
		{ HTTP_GET, "/1/2/3/4/5/6/7/8/9/10/11/12/13/{n}", h_dummy, ROLE_PUBLIC, 0, "longer" },
	};
	static const struct {
		unsigned method;
		const char *path, *want; /* NULL: no route for the method */
	} cases[] = {
		{ HTTP_GET, "/api/v1/services", "services" },
		{ HTTP_GET, "/api/v1/services/gsa-0001", "service" },
		{ HTTP_POST, "/api/v1/services/gsa-0001/applications", "apply" },
		{ HTTP_GET, "/api/v1/applications/7/events", "events" },
		{ HTTP_GET, "/api/v1/applications/mine/events", "mine" },
		{ HTTP_GET, "/api/v2/applications/7/files", "files" },
		{ HTTP_GET, "/api/v1/applications/7/files", "files" },
		{ HTTP_GET, "/api/v1/docs/a", "docs" },
		{ HTTP_GET, "/api/v1/docs/a/b/c/d/e", "docs" },
		{ HTTP_GET, "/api/v1/services/gsa-0001/applications", "fallback" },
		{ HTTP_GET, "/api/v1/applications/7/other", "fallback" },
		{ HTTP_POST, "/api/v1/services/gsa-0001", NULL },
		{ HTTP_GET, "/1/2/3/4/5/6/7/8/9/10/11/12/x", "long" },
		{ HTTP_GET, "/1/2/3/4/5/6/7/8/9/10/11/12/13/x", "longer" },
		{ HTTP_GET, "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/x", "fallback" },
	};
	struct router *rt = router_new();
	assert_int_equal(router_add(rt, deep, ARRAY_LEN(deep)), 0);
	struct arena *a = arena_new(4096);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct route *r = NULL;
		struct kvlist p;
		unsigned allowed = 0;
		enum router_result res = router_match(rt, a, cases[i].method, cases[i].path, &r, &p, &allowed);
		if (!cases[i].want) {
			assert_int_not_equal(res, ROUTER_FOUND);
			continue;
		}
		if (res != ROUTER_FOUND || strcmp(r->name, cases[i].want) != 0)
			fail_msg("%s: %s, not %s", cases[i].path, res == ROUTER_FOUND ? r->name : "no route", cases[i].want);
	}
	const struct route *r;
	struct kvlist p;
	unsigned allowed;
	assert_int_equal(router_match(rt, a, HTTP_GET, "/api/v2/applications/9/files", &r, &p, &allowed), ROUTER_FOUND);
	assert_string_equal(kv_get(&p, "ver"), "v2");
	assert_string_equal(kv_get(&p, "id"), "9");
	arena_free(a);
	router_free(rt);
}

/* What a caller may follow (navigation, links in pages): the route's roles, and for staff one
 * of the route's duties; anonymous visitors are offered what a log-in opens to citizens. */
static void test_router_can(void **state)
{
	(void)state;
	static const struct route t[] = {
		{ HTTP_GET, "/", h_dummy, ROLE_PUBLIC, 0, "home" },
		{ HTTP_GET, "/mine", h_dummy, ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE, 0, "cases.mine" },
		{ HTTP_GET, "/queue", h_dummy, ROLE_STAFF, 0, "cases.queue" },
		{ HTTP_GET, "/intake", h_dummy, ROLE_STAFF, 0, "cases.intake", .duties = STAFF_COUNTER },
		{ HTTP_GET, "/publish/new", h_dummy, ROLE_STAFF | ROLE_ADMIN, 0, "publish.new",
		  .duties = STAFF_REVIEWER | STAFF_HEAD },
		{ HTTP_GET, "/admin", h_dummy, ROLE_ADMIN, 0, "admin" },
	};
	struct router *rt = router_new();
	assert_int_equal(router_add(rt, t, ARRAY_LEN(t)), 0);
	assert_true(router_allows(&t[1], ROLE_ANON, 0));
	assert_false(router_allows(&t[2], ROLE_ANON, 0));
	assert_false(router_allows(&t[1], ROLE_STAFF, STAFF_COUNTER));
	assert_false(router_allows(&t[3], ROLE_STAFF, STAFF_REVIEWER));
	assert_true(router_allows(&t[3], ROLE_STAFF, STAFF_COUNTER | STAFF_HEAD));
	assert_true(router_allows(&t[4], ROLE_STAFF, STAFF_HEAD));
	assert_true(router_allows(&t[4], ROLE_ADMIN, 0)); /* duties bind staff only */
	assert_false(router_allows(&t[5], ROLE_STAFF, STAFF_COUNTER | STAFF_REVIEWER | STAFF_HEAD));

	json_t *clerk = router_can(rt, ROLE_STAFF, STAFF_COUNTER);
	assert_true(json_is_true(json_object_get(json_object_get(clerk, "cases"), "intake")));
	assert_true(json_is_true(json_object_get(json_object_get(clerk, "cases"), "queue")));
	assert_null(json_object_get(json_object_get(clerk, "cases"), "mine"));
	assert_null(json_object_get(clerk, "publish"));
	assert_null(json_object_get(clerk, "admin"));
	json_t *head = router_can(rt, ROLE_STAFF, STAFF_HEAD);
	assert_ptr_not_equal(head, clerk); /* one object per combination of duties */
	assert_null(json_object_get(json_object_get(head, "cases"), "intake"));
	assert_true(json_is_true(json_object_get(json_object_get(head, "publish"), "new")));
	assert_ptr_equal(router_can(rt, ROLE_STAFF, STAFF_COUNTER), clerk); /* kept */
	json_t *citizen = router_can(rt, ROLE_CITIZEN, 0);
	assert_true(json_is_true(json_object_get(json_object_get(citizen, "cases"), "mine")));
	assert_null(json_object_get(json_object_get(citizen, "cases"), "queue"));
	json_t *admin = router_can(rt, ROLE_ADMIN, 0);
	assert_true(json_is_true(json_object_get(admin, "admin")));
	assert_true(json_is_true(json_object_get(json_object_get(admin, "publish"), "new")));
	router_free(rt);
}

static void test_form_decode(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	struct kvlist l;
	const char *q = "a=1&b=hello+world&c=%E6%B8%85%E6%B2%B3&d&=e&&f=";
	assert_int_equal(form_decode(a, q, strlen(q), 64, &l), 0);
	assert_string_equal(kv_get(&l, "a"), "1");
	assert_string_equal(kv_get(&l, "b"), "hello world");
	assert_string_equal(kv_get(&l, "c"), "清河");
	assert_string_equal(kv_get(&l, "d"), "");
	assert_string_equal(kv_get(&l, "f"), "");
	assert_null(kv_get(&l, "g"));
	assert_int_equal(form_decode(a, "a=%zz", 5, 64, &l), GH_EINVAL);
	assert_int_equal(form_decode(a, "a=%f", 4, 64, &l), GH_EINVAL);
	assert_int_equal(form_decode(a, "a=%", 3, 64, &l), GH_EINVAL);
	assert_int_equal(form_decode(a, "a=%ff", 5, 64, &l), GH_EINVAL);   /* not UTF-8 */
	assert_int_equal(form_decode(a, "a=%00", 5, 64, &l), GH_EINVAL);   /* NUL */
	assert_int_equal(form_decode(a, "a&b&c", 5, 2, &l), GH_ETOOBIG);
	assert_int_equal(form_decode(a, "", 0, 2, &l), 0);
	assert_int_equal(l.n, 0);
	arena_free(a);
}

static void test_path_decode(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	char *p;
	assert_int_equal(path_decode(a, "/services/psb-0001", 18, &p), 0);
	assert_string_equal(p, "/services/psb-0001");
	assert_int_equal(path_decode(a, "/a%20b+c", 8, &p), 0);
	assert_string_equal(p, "/a b+c");
	const char *bad[] = { "/../etc/passwd", "/static/%2e%2e/x", "/a/..", "/a/./b", "/%ff", "/%00",
			      "/a\\b", "relative", "/%2", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(path_decode(a, bad[i], strlen(bad[i]), &p), GH_EINVAL);
	/* Dots inside names are fine. */
	assert_int_equal(path_decode(a, "/static/site.v2.css", 19, &p), 0);
	assert_int_equal(path_decode(a, "/a/...b", 7, &p), 0);
	arena_free(a);
}

static void test_cookie_parse(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	struct kvlist l;
	const char *c = "lang=en; sid=abc123;  theme=\"dark\"; junk; bad=a,b; x=";
	assert_int_equal(cookie_parse(a, c, strlen(c), 32, &l), 0);
	assert_string_equal(kv_get(&l, "lang"), "en");
	assert_string_equal(kv_get(&l, "sid"), "abc123");
	assert_string_equal(kv_get(&l, "theme"), "dark");
	assert_null(kv_get(&l, "junk"));
	assert_null(kv_get(&l, "bad"));
	assert_string_equal(kv_get(&l, "x"), "");
	assert_int_equal(cookie_parse(a, "a=1;b=2;c=3", 11, 2, &l), GH_ETOOBIG);
	arena_free(a);
}

/* ---- the page section registry (http/sections.h) ---- */

/* Each section appends its letter to ctx's "seen" and checks what it was given. */
static int seen(json_t *ctx, const char *letter)
{
	const char *was = json_string_value(json_object_get(ctx, "seen"));
	char buf[32];
	snprintf(buf, sizeof(buf), "%s%s", was ? was : "", letter);
	json_object_set_new(ctx, "seen", json_string(buf));
	return 0;
}
static int sec_a(struct req *r, const void *subject, json_t *ctx)
{
	(void)r;
	assert_string_equal(subject, "item-1");
	return seen(ctx, "a");
}
static int sec_b(struct req *r, const void *subject, json_t *ctx)
{
	(void)r;
	(void)subject;
	return seen(ctx, "b");
}
static int sec_c(struct req *r, const void *subject, json_t *ctx)
{
	(void)r;
	(void)subject;
	return seen(ctx, "c");
}
static int sec_fail(struct req *r, const void *subject, json_t *ctx)
{
	(void)r;
	(void)subject;
	seen(ctx, "!");
	return GH_ENOTFOUND;
}

static void test_sections_order(void **state)
{
	(void)state;
	page_sections_reset();
	/* Registered out of order; b and c share an order and keep their registration order. */
	page_section_add("test.page", 30, sec_a);
	page_section_add("test.page", 10, sec_b);
	page_section_add("other.page", 5, sec_a);
	page_section_add("test.page", 10, sec_c);
	page_section_add("test.page", 10, sec_b); /* again: no change */
	page_section_fn fns[8];
	assert_int_equal(page_sections("test.page", fns, 8), 3);
	assert_ptr_equal(fns[0], sec_b);
	assert_ptr_equal(fns[1], sec_c);
	assert_ptr_equal(fns[2], sec_a);
	assert_int_equal(page_sections("other.page", fns, 8), 1);
	json_t *ctx = json_object();
	assert_int_equal(page_sections_run(NULL, "test.page", "item-1", ctx), 0);
	assert_string_equal(json_string_value(json_object_get(ctx, "seen")), "bca");
	json_decref(ctx);
	/* A failing section stops the page with its code; those after it do not run. */
	page_section_add("test.page", 20, sec_fail);
	ctx = json_object();
	assert_int_equal(page_sections_run(NULL, "test.page", "item-1", ctx), GH_ENOTFOUND);
	assert_string_equal(json_string_value(json_object_get(ctx, "seen")), "bc!");
	json_decref(ctx);
	page_sections_reset();
}

static void test_sections_none(void **state)
{
	(void)state;
	page_sections_reset();
	page_section_add("test.page", 10, sec_b);
	json_t *ctx = json_pack("{s:s}", "title", "t");
	assert_int_equal(page_sections("empty.page", NULL, 0), 0);
	assert_int_equal(page_sections_run(NULL, "empty.page", NULL, ctx), 0);
	assert_int_equal(json_object_size(ctx), 1); /* untouched */
	assert_string_equal(json_string_value(json_object_get(ctx, "title")), "t");
	json_decref(ctx);
	page_sections_reset();
	assert_int_equal(page_sections("test.page", NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_match),
		cmocka_unit_test(test_sections_order),
		cmocka_unit_test(test_sections_none),
		cmocka_unit_test(test_router),
		cmocka_unit_test(test_router_deep),
		cmocka_unit_test(test_router_can),
		cmocka_unit_test(test_form_decode),
		cmocka_unit_test(test_path_decode),
		cmocka_unit_test(test_cookie_parse),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
