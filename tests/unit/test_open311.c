/* Unit tests for src/open311/format.c: resource suffixes, ISO 8601 times, coordinates,
 * attribute keys, comma lists, XML escaping and the JSON/XML writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/sb.h"
#include "open311/open311_impl.h"

static void test_format_suffix(void **state)
{
	(void)state;
	struct arena *a = arena_new(1024);
	const char *name;
	enum open311_fmt fmt;
	assert_int_equal(open311_split_format(a, "gsa-0001.json", &name, &fmt), 0);
	assert_string_equal(name, "gsa-0001");
	assert_int_equal(fmt, OPEN311_JSON);
	assert_int_equal(open311_split_format(a, "QH1.xml", &name, &fmt), 0);
	assert_string_equal(name, "QH1");
	assert_int_equal(fmt, OPEN311_XML);
	assert_int_equal(open311_split_format(a, ".json", &name, &fmt), GH_EINVAL);
	assert_int_equal(open311_split_format(a, "gsa-0001", &name, &fmt), GH_EINVAL);
	assert_int_equal(open311_split_format(a, "a.yaml", &name, &fmt), GH_EINVAL);
	assert_int_equal(open311_split_format(a, NULL, &name, &fmt), GH_EINVAL);
	arena_free(a);
}

static void test_times(void **state)
{
	(void)state;
	int64_t t;
	/* 2010-01-01T00:00:00Z = 1262304000 */
	assert_int_equal(open311_parse_time("2010-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1262304000);
	assert_int_equal(open311_parse_time("2010-01-01T08:00:00+08:00", &t), 0);
	assert_int_equal(t, 1262304000);
	assert_int_equal(open311_parse_time("2009-12-31T19:00:00-0500", &t), 0);
	assert_int_equal(t, 1262304000);
	assert_int_equal(open311_parse_time("2010-01-01T08:00", &t), 0); /* no zone: CST */
	assert_int_equal(t, 1262304000);
	assert_int_equal(open311_parse_time("2010-01-01", &t), 0);
	assert_int_equal(t, 1262304000 - 8 * 3600);
	assert_int_equal(open311_parse_time("2010-01-01T00:00:00.123Z", &t), 0);
	assert_int_equal(t, 1262304000);
	const char *bad[] = { "", "yesterday", "2010-13-01", "2010-02-30", "2010-01-01T24:00:00Z", "2010-01-01T00:60Z",
			      "2010-01-01T00:00:00+15:00", "2010-01-01T00:00:00Zjunk", "2010-01-01T", "2010-01-01T0:00Z",
			      "2010-01-01T00:00:00.Z" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(open311_parse_time(bad[i], &t), GH_EINVAL);
	char out[26];
	open311_format_time(1262304000, out);
	assert_string_equal(out, "2010-01-01T08:00:00+08:00");
	open311_format_time(0, out);
	assert_string_equal(out, "1970-01-01T08:00:00+08:00");
	open311_format_time(-3600 * 9, out);
	assert_string_equal(out, "1969-12-31T23:00:00+08:00");
}

static void test_coords(void **state)
{
	(void)state;
	double d;
	assert_int_equal(open311_parse_coord("31.2304", -90, 90, &d), 0);
	assert_true(d > 31.23 && d < 31.231);
	assert_int_equal(open311_parse_coord("-180", -180, 180, &d), 0);
	assert_int_equal(open311_parse_coord("+0.5", -180, 180, &d), 0);
	const char *bad[] = { "", "91", "0x1p3", "inf", "nan", "1e2", "1.2.3", "-", ".", "12 ", "1,5" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(open311_parse_coord(bad[i], -90, 90, &d), GH_EINVAL);
}

static void test_attr_keys_and_lists(void **state)
{
	(void)state;
	struct arena *a = arena_new(1024);
	const char *code;
	bool multi;
	assert_int_equal(open311_attr_key(a, "attribute[kind]", &code, &multi), 0);
	assert_string_equal(code, "kind");
	assert_false(multi);
	assert_int_equal(open311_attr_key(a, "attribute[kind][]", &code, &multi), 0);
	assert_true(multi);
	const char *bad[] = { "attribute", "attribute[]", "attribute[a", "attribute[a]b", "attribute[[a]]", "attr[a]" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(open311_attr_key(a, bad[i], &code, &multi), GH_EINVAL);
	const char **v;
	size_t n;
	assert_int_equal(open311_split_list(a, " a, b ,,c", 10, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	assert_string_equal(v[2], "c");
	assert_int_equal(open311_split_list(a, " , ,", 10, &v, &n), GH_EINVAL);
	assert_int_equal(open311_split_list(a, "a,b,c", 2, &v, &n), GH_ETOOBIG);
	arena_free(a);
}

static void test_xml(void **state)
{
	(void)state;
	struct sb sb = SB_INIT;
	static const char in[] = "a<b>&\"'\x01\xff\xe4\xba\xba";
	open311_xml_text(&sb, in, sizeof(in) - 1);
	assert_string_equal(sb.buf, "a&lt;b&gt;&amp;&quot;&apos;\xEF\xBF\xBD\xEF\xBF\xBD\xe4\xba\xba");
	sb_release(&sb);
	json_t *v = json_pack("[{s:s,s:i,s:b,s:n,s:[s,s]}]", "service_code", "x&y", "order", 2, "required", 1,
			      "address", "values", "k1", "k2");
	sb_init(&sb, 0);
	open311_render(&sb, OPEN311_XML, "services", v);
	assert_string_equal(sb.buf, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service><service_code>x&amp;y"
				    "</service_code><order>2</order><required>true</required><address/><values><value>k1"
				    "</value><value>k2</value></values></service></services>\n");
	sb_release(&sb);
	sb_init(&sb, 0);
	open311_render(&sb, OPEN311_JSON, "services", v);
	assert_string_equal(sb.buf, "[{\"service_code\":\"x&y\",\"order\":2,\"required\":true,\"address\":null,"
				    "\"values\":[\"k1\",\"k2\"]}]");
	sb_release(&sb);
	json_decref(v);
	/* A member name that is not an XML name is left out rather than written. */
	v = json_pack("{s:s,s:s}", "ok", "1", "bad name<", "2");
	sb_init(&sb, 0);
	open311_xml(&sb, "x", v);
	assert_string_equal(sb.buf, "<x><ok>1</ok></x>");
	sb_release(&sb);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_suffix), cmocka_unit_test(test_times),
		cmocka_unit_test(test_coords),	      cmocka_unit_test(test_attr_keys_and_lists),
		cmocka_unit_test(test_xml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
