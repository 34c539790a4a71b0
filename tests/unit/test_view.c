/* test_view.c: the Mustache engine against the official spec, and the view module (template
 * directory, catalogs, "t"/"lang" injection, error reporting). Runs from the project root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "view/linkify.h"
#include "view/mustache.h"
#include "view/view.h"

#define SPEC_DIR "tests/data/mustache-spec"

/* ---- the official spec -------------------------------------------------------------- */

struct spec_partials {
	const char *names[32];
	struct mustache *t[32];
	size_t n;
};

static const struct mustache *spec_resolve(void *ud, const char *name, size_t len)
{
	struct spec_partials *p = ud;
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->names[i]) == len && memcmp(p->names[i], name, len) == 0)
			return p->t[i];
	return NULL;
}

/* Runs one test case; returns 0 when it passes, 1 (and prints why) when not. */
static int spec_case(const char *module, json_t *tc)
{
	const char *name = json_string_value(json_object_get(tc, "name"));
	const char *tpl = json_string_value(json_object_get(tc, "template"));
	const char *expected = json_string_value(json_object_get(tc, "expected"));
	json_t *data = json_object_get(tc, "data");
	json_t *partials = json_object_get(tc, "partials");
	struct spec_partials sp = { .n = 0 };
	char err[256];
	int failed = 0;

	if (!name || !tpl || !expected) {
		printf("  %s: malformed test case\n", module);
		return 1;
	}
	const char *key;
	json_t *val;
	json_object_foreach(partials, key, val) {
		if (sp.n == ARRAY_LEN(sp.t))
			break;
		if (mustache_compile(json_string_value(val), json_string_length(val), &sp.t[sp.n], err,
				     sizeof(err)) != 0) {
			printf("  %s / %s: partial %s: %s\n", module, name, key, err);
			failed = 1;
			goto out;
		}
		sp.names[sp.n++] = key;
	}
	struct mustache *t;
	if (mustache_compile(tpl, strlen(tpl), &t, err, sizeof(err)) != 0) {
		printf("  %s / %s: compile: %s\n", module, name, err);
		failed = 1;
		goto out;
	}
	struct sb out = SB_INIT;
	int rc = mustache_render(t, data, spec_resolve, &sp, &out);
	if (rc != 0 || strcmp(out.buf, expected) != 0) {
		printf("  %s / %s: rc %d\n    expected: \"%s\"\n    got:      \"%s\"\n", module, name,
		       rc, expected, out.buf);
		failed = 1;
	}
	sb_release(&out);
	mustache_free(t);
out:
	for (size_t i = 0; i < sp.n; i++)
		mustache_free(sp.t[i]);
	return failed;
}

static void run_spec(const char *module)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.json", SPEC_DIR, module);
	struct stat st;
	if (stat(SPEC_DIR, &st) != 0) {
		fail_msg("mustache spec not found at %s (run from the project root)", SPEC_DIR);
	}
	json_error_t je;
	json_t *spec = json_load_file(path, 0, &je);
	if (!spec)
		fail_msg("%s: line %d: %s", path, je.line, je.text);
	json_t *tests = json_object_get(spec, "tests");
	assert_true(json_is_array(tests));
	size_t i, failed = 0;
	json_t *tc;
	json_array_foreach(tests, i, tc)
		failed += (size_t)spec_case(module, tc);
	printf("spec %s: %zu/%zu passed\n", module, json_array_size(tests) - failed,
	       json_array_size(tests));
	size_t total = json_array_size(tests);
	json_decref(spec);
	assert_true(total > 0);
	assert_int_equal(failed, 0);
}

static void test_spec_comments(void **state)
{
	run_spec("comments");
}

static void test_spec_delimiters(void **state)
{
	run_spec("delimiters");
}

static void test_spec_interpolation(void **state)
{
	run_spec("interpolation");
}

static void test_spec_inverted(void **state)
{
	run_spec("inverted");
}

static void test_spec_partials(void **state)
{
	run_spec("partials");
}

static void test_spec_sections(void **state)
{
	run_spec("sections");
}

/* ---- engine details beyond the spec ------------------------------------------------- */

/* Renders tpl with the JSON data; returns the malloc'd output (rc in *rcp). */
static char *render(const char *tpl, const char *data, mustache_partial_fn pf, void *ud, int *rcp)
{
	char err[256];
	struct mustache *t;
	int rc = mustache_compile(tpl, strlen(tpl), &t, err, sizeof(err));
	if (rc)
		fail_msg("compile %s: %s", tpl, err);
	json_error_t je;
	json_t *ctx = json_loads(data, JSON_DECODE_ANY, &je);
	if (!ctx)
		fail_msg("data %s: %s", data, je.text);
	struct sb out = SB_INIT;
	rc = mustache_render(t, ctx, pf, ud, &out);
	if (rcp)
		*rcp = rc;
	else
		assert_int_equal(rc, 0);
	json_decref(ctx);
	mustache_free(t);
	return sb_detach(&out, NULL);
}

static void expect_render(const char *tpl, const char *data, const char *want)
{
	char *got = render(tpl, data, NULL, NULL, NULL);
	assert_string_equal(got, want);
	free(got);
}

static void expect_error(const char *tpl, const char *want)
{
	char err[256];
	struct mustache *t = (void *)1;
	assert_int_equal(mustache_compile(tpl, strlen(tpl), &t, err, sizeof(err)), GH_EINVAL);
	assert_null(t);
	if (!strstr(err, want))
		fail_msg("error for \"%s\" is \"%s\", want \"%s\"", tpl, err, want);
}

static void test_numbers(void **state)
{
	expect_render("{{a}} {{b}} {{c}} {{d}} {{e}}", "{\"a\": 1.21, \"b\": 0.1, \"c\": -7, \"d\": 1e300,"
		      " \"e\": 2.0}", "1.21 0.1 -7 1e+300 2");
	expect_render("{{x}}", "{\"x\": 0.30000000000000004}", "0.30000000000000004");
	expect_render("{{t}}/{{f}}/{{o}}/{{a}}", "{\"t\": true, \"f\": false, \"o\": {}, \"a\": [1]}",
		      "true/false//");
}

static void test_escaping(void **state)
{
	expect_render("{{s}}|{{{s}}}|{{&s}}", "{\"s\": \"<a href='x'>&`=\\\"\"}",
		      "&lt;a href&#61;&#39;x&#39;&gt;&amp;&#96;&#61;&quot;|<a href='x'>&`=\"|"
		      "<a href='x'>&`=\"");
}

static void test_compile_errors(void **state)
{
	expect_error("abc {{name", "line 1: unclosed tag");
	expect_error("a\nb\n{{{name}}", "line 3: unclosed tag");
	expect_error("x\n{{#a}}\ny", "line 2: unclosed section 'a'");
	expect_error("{{#a}}\n{{/b}}", "line 2: mismatched section close");
	expect_error("{{/a}}", "line 1: section close");
	expect_error("\n{{=<% =}}", "line 2: bad delimiter");
	expect_error("{{=a b c=}}", "bad delimiter");
	expect_error("{{=a= b=}}", "bad delimiter");
	expect_error("{{}}", "empty tag");

	struct sb deep = SB_INIT;
	for (int i = 0; i < 101; i++)
		sb_adds(&deep, "{{#a}}");
	expect_error(deep.buf, "nested deeper");
	sb_release(&deep);
}

static void test_nesting_limit_ok(void **state)
{
	struct sb tpl = SB_INIT;
	for (int i = 0; i < 100; i++)
		sb_adds(&tpl, "{{#a}}");
	sb_adds(&tpl, "{{b}}");
	for (int i = 0; i < 100; i++)
		sb_adds(&tpl, "{{/a}}");
	expect_render(tpl.buf, "{\"a\": true, \"b\": \"deep\"}", "deep");
	sb_release(&tpl);
}

static const struct mustache *self_resolve(void *ud, const char *name, size_t len)
{
	return ud;
}

static void test_recursion_limit(void **state)
{
	char err[256];
	struct mustache *t;
	const char *src = "x{{>self}}";
	assert_int_equal(mustache_compile(src, strlen(src), &t, err, sizeof(err)), 0);
	struct sb out = SB_INIT;
	assert_int_equal(mustache_render(t, NULL, self_resolve, t, &out), GH_EINVAL);
	sb_release(&out);
	mustache_free(t);

	/* Recursion that ends on data is fine, however it is nested. */
	src = "{{#n}}({{>self}}){{/n}}";
	mustache_compile(src, strlen(src), &t, err, sizeof(err));
	json_t *ctx = json_loads("{\"n\": {\"n\": {\"n\": {\"n\": false}}}}", 0, NULL);
	assert_int_equal(mustache_render(t, ctx, self_resolve, t, &out), 0);
	assert_string_equal(out.buf, "((()))");
	sb_release(&out);
	json_decref(ctx);
	mustache_free(t);
}

static void test_nested_partial_indent(void **state)
{
	struct spec_partials sp = { .n = 0 };
	char err[256];
	const char *outer = "<ul>\n  {{>inner}}\n</ul>\n";
	sp.names[0] = "inner";
	const char *inner = "<li>\n  {{>leaf}}\n</li>\n";
	assert_int_equal(mustache_compile(inner, strlen(inner), &sp.t[0], err, sizeof(err)), 0);
	sp.names[1] = "leaf";
	const char *leaf = "{{#xs}}\n{{.}}\n{{/xs}}\n";
	assert_int_equal(mustache_compile(leaf, strlen(leaf), &sp.t[1], err, sizeof(err)), 0);
	sp.n = 2;
	char *got = render(outer, "{\"xs\": [\"a\", \"b\"]}", spec_resolve, &sp, NULL);
	assert_string_equal(got, "<ul>\n  <li>\n    a\n    b\n  </li>\n</ul>\n");
	free(got);
	mustache_free(sp.t[0]);
	mustache_free(sp.t[1]);
}

static void test_render_limit(void **state)
{
	char err[256];
	struct mustache *t;
	const char *src = "{{#a}}{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}{{/a}}";
	assert_int_equal(mustache_compile(src, strlen(src), &t, err, sizeof(err)), 0);
	json_t *ctx = json_loads("{\"a\": [1,2,3,4,5,6,7,8,9,10]}", 0, NULL);
	struct sb out = SB_INIT;
	assert_int_equal(mustache_render_limit(t, ctx, NULL, NULL, &out, 1000), GH_ETOOBIG);
	sb_reset(&out);
	assert_int_equal(mustache_render(t, ctx, NULL, NULL, &out), 0);
	assert_int_equal(out.len, 10000);
	/* An output cap stops rendering early with the sticky error set. */
	sb_release(&out);
	sb_set_cap(&out, 100);
	assert_int_equal(mustache_render(t, ctx, NULL, NULL, &out), 0);
	assert_true(sb_failed(&out));
	assert_true(out.len <= 100);
	sb_release(&out);
	json_decref(ctx);
	mustache_free(t);
}

/* ---- view --------------------------------------------------------------------------- */

struct fixture {
	char root[64];
	char tpl[128], i18n[128];
};

static void write_file(const char *dir, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	/* Make parent directories. */
	for (char *p = path + strlen(dir) + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(path, 0700);
			*p = '/';
		}
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

static int fixture_setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	snprintf(fx->root, sizeof(fx->root), "/tmp/test_view.XXXXXX");
	if (!mkdtemp(fx->root))
		return -1;
	snprintf(fx->tpl, sizeof(fx->tpl), "%s/templates", fx->root);
	snprintf(fx->i18n, sizeof(fx->i18n), "%s/i18n", fx->root);
	mkdir(fx->tpl, 0700);
	mkdir(fx->i18n, 0700);
	write_file(fx->tpl, "layout/page.mustache",
		   "<html lang=\"{{lang}}\">\n<h1>{{t.title}}</h1>\n  {{>catalog/item}}\n</html>\n");
	write_file(fx->tpl, "catalog/item.mustache", "<p>{{name}}</p>\n<p>{{{name}}}</p>\n");
	write_file(fx->tpl, "hello.mustache", "{{t.hello}}, {{who}}! {{t.only_zh}} {{lang}}");
	write_file(fx->tpl, "notes.txt", "not a template {{");
	write_file(fx->tpl, ".hidden.mustache", "{{#broken}}");
	write_file(fx->i18n, "zh.json",
		   "{\"title\": \"政务服务\", \"hello\": \"你好\", \"only_zh\": \"仅中文\"}");
	write_file(fx->i18n, "en.json", "{\"title\": \"Government services\", \"hello\": \"Hello\"}");
	*state = fx;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *fx = *state;
	rm_rf(fx->root);
	free(fx);
	return 0;
}

static struct view *load_ok(struct fixture *fx)
{
	char err[512];
	struct view *v = NULL;
	int rc = view_load(fx->tpl, fx->i18n, &v, err, sizeof(err));
	if (rc)
		fail_msg("view_load: %s", err);
	assert_non_null(v);
	return v;
}

static void test_view_render(void **state)
{
	struct fixture *fx = *state;
	struct view *v = load_ok(fx);
	json_t *ctx = json_pack("{s:s}", "name", "<A & B>");
	struct sb out = SB_INIT;

	assert_int_equal(view_render(v, "layout/page", "en", ctx, &out), 0);
	assert_string_equal(out.buf, "<html lang=\"en\">\n<h1>Government services</h1>\n"
				     "  <p>&lt;A &amp; B&gt;</p>\n  <p><A & B></p>\n</html>\n");
	/* The context keeps what view_render added. */
	assert_string_equal(json_string_value(json_object_get(ctx, "lang")), "en");
	assert_true(json_object_get(ctx, "t") == view_messages(v, "en"));
	json_decref(ctx);

	/* zh, the default; en falls back to zh for untranslated keys. */
	ctx = json_pack("{s:s}", "who", "<script>");
	sb_reset(&out);
	assert_int_equal(view_render(v, "hello", NULL, ctx, &out), 0);
	assert_string_equal(out.buf, "你好, &lt;script&gt;! 仅中文 zh");
	json_decref(ctx);
	ctx = json_pack("{s:s}", "who", "world");
	sb_reset(&out);
	assert_int_equal(view_render(v, "hello", "en", ctx, &out), 0);
	assert_string_equal(out.buf, "Hello, world! 仅中文 en");
	json_decref(ctx);

	/* A caller's own "lang" and "t" win. */
	ctx = json_pack("{s:s,s:{s:s}}", "lang", "fr", "t", "hello", "Bonjour");
	sb_reset(&out);
	assert_int_equal(view_render(v, "hello", "en", ctx, &out), 0);
	assert_string_equal(out.buf, "Bonjour, !  fr");
	json_decref(ctx);

	/* NULL context. */
	sb_reset(&out);
	assert_int_equal(view_render(v, "catalog/item", "zh", NULL, &out), 0);
	assert_string_equal(out.buf, "<p></p>\n<p></p>\n");

	sb_reset(&out);
	assert_int_equal(view_render(v, "nope", "zh", NULL, &out), GH_ENOTFOUND);
	assert_int_equal(view_render(v, "catalog", "zh", NULL, &out), GH_ENOTFOUND);
	assert_int_equal(view_render(v, "notes", "zh", NULL, &out), GH_ENOTFOUND);
	assert_int_equal(view_render(v, ".hidden", "zh", NULL, &out), GH_ENOTFOUND);
	sb_release(&out);
	view_free(v);
}

static void test_view_msg(void **state)
{
	struct fixture *fx = *state;
	struct view *v = load_ok(fx);
	assert_string_equal(view_msg(v, "zh", "hello"), "你好");
	assert_string_equal(view_msg(v, "en", "hello"), "Hello");
	assert_string_equal(view_msg(v, "en", "only_zh"), "仅中文");
	assert_string_equal(view_msg(v, "en", "missing.key"), "missing.key");
	assert_string_equal(view_msg(v, "xx", "title"), "政务服务");
	assert_true(json_is_object(view_messages(v, "zh")));
	view_free(v);
}

static void test_view_missing_catalogs(void **state)
{
	struct fixture *fx = *state;
	char err[512], nodir[256];
	struct view *v;
	snprintf(nodir, sizeof(nodir), "%s/no-such-dir", fx->root);
	assert_int_equal(view_load(fx->tpl, nodir, &v, err, sizeof(err)), 0);
	assert_string_equal(view_msg(v, "en", "title"), "title");
	view_free(v);
}

static void test_view_compile_error(void **state)
{
	struct fixture *fx = *state;
	char err[512];
	struct view *v = (void *)1;
	write_file(fx->tpl, "cases/broken.mustache", "<p>\n{{#items}}\n{{/items}}\n{{name\n");
	assert_int_equal(view_load(fx->tpl, fx->i18n, &v, err, sizeof(err)), GH_EINVAL);
	assert_null(v);
	if (!strstr(err, "cases/broken.mustache: line 4: unclosed tag"))
		fail_msg("unexpected error: %s", err);
}

static void test_view_bad_catalog(void **state)
{
	struct fixture *fx = *state;
	char err[512];
	struct view *v;
	write_file(fx->i18n, "en.json", "{\"title\": \"x\",\n \"oops\" }");
	assert_int_equal(view_load(fx->tpl, fx->i18n, &v, err, sizeof(err)), GH_EINVAL);
	if (!strstr(err, "en.json: line 2"))
		fail_msg("unexpected error: %s", err);
	write_file(fx->i18n, "en.json", "{\"title\": 3}");
	assert_int_equal(view_load(fx->tpl, fx->i18n, &v, err, sizeof(err)), GH_EINVAL);
	if (!strstr(err, "en.json") || !strstr(err, "title"))
		fail_msg("unexpected error: %s", err);
	write_file(fx->i18n, "en.json", "[]");
	assert_int_equal(view_load(fx->tpl, fx->i18n, &v, err, sizeof(err)), GH_EINVAL);
	assert_non_null(strstr(err, "en.json"));
}

/* Each domain keeps its messages in <lang>/<domain>.json; they join the main catalog, and a
 * key defined twice is refused with the file that repeats it. */
static void test_view_domain_catalogs(void **state)
{
	struct fixture *fx = *state;
	char err[512];
	struct view *v;
	write_file(fx->i18n, "zh/search.json", "{\"search.box\": \"搜索\"}");
	write_file(fx->i18n, "en/search.json", "{\"search.box\": \"Search\"}");
	write_file(fx->i18n, "zh/notes.txt", "not json");
	v = load_ok(fx);
	assert_string_equal(view_msg(v, "zh", "search.box"), "搜索");
	assert_string_equal(view_msg(v, "en", "search.box"), "Search");
	assert_string_equal(view_msg(v, "en", "hello"), "Hello");
	view_free(v);
	write_file(fx->i18n, "zh/ledger.json", "{\"hello\": \"又一个\"}");
	assert_int_equal(view_load(fx->tpl, fx->i18n, &v, err, sizeof(err)), GH_EINVAL);
	if (!strstr(err, "zh/ledger.json") || !strstr(err, "hello"))
		fail_msg("unexpected error: %s", err);
}

/* The runs of text as "text|[href]text|..." for comparison. */
static char *runs_str(const char *text)
{
	json_t *runs = view_linkify(text, strlen(text));
	static char out[1024];
	size_t at = 0, i;
	json_t *r;
	out[0] = 0;
	json_array_foreach(runs, i, r) {
		const char *h = json_string_value(json_object_get(r, "href"));
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%s%s", i ? "|" : "", h ? "[link]" : "",
				       json_string_value(json_object_get(r, "text")));
	}
	json_decref(runs);
	return out;
}

static void test_linkify(void **state)
{
	(void)state;
	assert_string_equal(runs_str("请反馈：/evaluations/12"), "请反馈：|[link]/evaluations/12");
	assert_string_equal(runs_str("/inbox/settings."), "[link]/inbox/settings|.");
	assert_string_equal(runs_str("see https://www.gov.cn/a?b=1&c=2, then"),
			    "see |[link]https://www.gov.cn/a?b=1&c=2|, then");
	assert_string_equal(runs_str("(HTTP://X.CN/p)"), "(|[link]HTTP://X.CN/p|)");
	/* Never another scheme, a protocol-relative address, a date or part of a word. */
	assert_string_equal(runs_str("javascript:alert(1)"), "javascript:alert(1)");
	assert_string_equal(runs_str("data:text/html,<b>x</b>"), "data:text/html,<b>x</b>");
	assert_string_equal(runs_str("//evil.example/x"), "//evil.example/x");
	assert_string_equal(runs_str("10/12 and a/b"), "10/12 and a/b");
	assert_string_equal(runs_str("xhttp://a.b"), "xhttp://a.b");
	assert_string_equal(runs_str("http://"), "http://");
	assert_string_equal(runs_str("https://\"onmouseover=x"), "https://\"onmouseover=x");
	/* A quote or an angle bracket ends the address. */
	assert_string_equal(runs_str("/a\"b"), "[link]/a|\"b");
	assert_string_equal(runs_str("/a<script>"), "[link]/a|<script>");
	assert_string_equal(runs_str(""), "");
	/* At most LINKIFY_MAX_LINKS links. */
	char many[LINKIFY_MAX_LINKS * 4 + 16];
	size_t len = 0;
	for (int i = 0; i < LINKIFY_MAX_LINKS + 3; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, " /a");
	json_t *runs = view_linkify(many, len);
	size_t links = 0, i;
	json_t *r;
	json_array_foreach(runs, i, r) links += json_is_string(json_object_get(r, "href"));
	assert_int_equal(links, LINKIFY_MAX_LINKS);
	json_decref(runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_comments),
		cmocka_unit_test(test_spec_delimiters),
		cmocka_unit_test(test_spec_interpolation),
		cmocka_unit_test(test_spec_inverted),
		cmocka_unit_test(test_spec_partials),
		cmocka_unit_test(test_spec_sections),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_nesting_limit_ok),
		cmocka_unit_test(test_recursion_limit),
		cmocka_unit_test(test_nested_partial_indent),
		cmocka_unit_test(test_render_limit),
		cmocka_unit_test(test_linkify),
		cmocka_unit_test_setup_teardown(test_view_render, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_view_msg, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_view_missing_catalogs, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_view_compile_error, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_view_bad_catalog, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_view_domain_catalogs, fixture_setup,
						fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
