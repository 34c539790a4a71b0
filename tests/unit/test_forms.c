/* Unit tests for src/cases/forms: validation of every field type (valid, invalid, missing,
 * optional), normalisation, messages in both languages, malformed definitions, the template
 * view, and every form of the demo catalog (data/catalog/services.json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "cases/forms.h"
#include "view/view.h"

/* The project's catalogs: the messages are theirs. */
static struct view *V;

#define LABEL_ZH "测试字段"
#define LABEL_EN "Test field"
#define FILE_REF "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static json_t *jload(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, s);
	return j;
}

/* A definition of one field "f" of the given type. */
static json_t *def1(const char *type, int required)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:b}", "key", "f", "label_zh", LABEL_ZH,
			      "label_en", LABEL_EN, "type", type, "required", required);
	if (strcmp(type, "select") == 0)
		json_object_set_new(f, "options",
				    jload("[{\"value\": \"window\", \"label_zh\": \"窗口领取\", "
					  "\"label_en\": \"At the counter\"}, {\"value\": \"post\", "
					  "\"label_zh\": \"邮寄\", \"label_en\": \"By post\"}]"));
	json_t *d = json_array();
	json_array_append_new(d, f);
	return d;
}

/* Validates {"f": value} (value NULL = absent) against def1(type, required) in lang and
 * returns the value of f (malloc'd, NULL when absent) and the error (malloc'd, or NULL). */
static void run1(const char *type, int required, const char *value, const char *lang,
		 char **val, char **err)
{
	json_t *d = def1(type, required), *in = json_object(), *values, *errors;
	if (value)
		json_object_set_new(in, "f", json_string(value));
	assert_int_equal(forms_validate(d, in, V, lang, &values, &errors), 0);
	json_t *v = json_object_get(values, "f"), *e = json_object_get(errors, "f");
	*val = v ? xstrdup(json_string_value(v)) : NULL;
	*err = e ? xstrdup(json_string_value(e)) : NULL;
	/* A field is in exactly one of them, or neither when optional and empty. */
	assert_false(v && e);
	assert_true(json_object_size(values) + json_object_size(errors) <= 1);
	json_decref(d);
	json_decref(in);
	json_decref(values);
	json_decref(errors);
}

static void ok(const char *type, const char *value, const char *want)
{
	char *v, *e;
	run1(type, 1, value, "zh", &v, &e);
	if (e || !v)
		fail_msg("%s \"%s\": unexpected error %s", type, value, e ? e : "(none, no value)");
	if (strcmp(v, want) != 0)
		fail_msg("%s \"%s\": got \"%s\", want \"%s\"", type, value, v, want);
	free(v);
}

/* The value is refused in both languages with a message naming the field; zh_part (if not
 * NULL) must be in the Chinese message. */
static void bad(const char *type, const char *value, const char *zh_part)
{
	char *v, *e;
	run1(type, 1, value, "zh", &v, &e);
	if (v || !e)
		fail_msg("%s \"%.40s\": accepted as \"%s\"", type, value, v ? v : "(nothing)");
	if (!strstr(e, LABEL_ZH))
		fail_msg("%s: zh message without the label: %s", type, e);
	if (zh_part && !strstr(e, zh_part))
		fail_msg("%s \"%.40s\": message \"%s\" lacks \"%s\"", type, value, e, zh_part);
	assert_true(strlen(e) < 400); /* never echoes the input */
	free(e);
	run1(type, 1, value, "en", &v, &e);
	assert_null(v);
	assert_non_null(e);
	if (!strstr(e, LABEL_EN))
		fail_msg("%s: en message without the label: %s", type, e);
	assert_true(strlen(e) < 400);
	free(e);
}

static const char *const all_types[] = { "text", "textarea", "number", "date", "select",
					 "id_number", "uscc", "phone", "email", "address",
					 "file" };

/* Required and empty: the "fill in" message in both languages; optional and empty: left out. */
static void test_missing_and_optional(void **state)
{
	(void)state;
	const char *empties[] = { NULL, "", "   ", "\xE3\x80\x80\t\n" };
	for (size_t t = 0; t < ARRAY_LEN(all_types); t++) {
		const char *type = all_types[t];
		const char *zh = strcmp(type, "select") == 0 ? "请选择" LABEL_ZH "。"
				 : strcmp(type, "file") == 0 ? "请上传" LABEL_ZH "。"
							       : "请填写" LABEL_ZH "。";
		const char *en = strcmp(type, "select") == 0 ? "Please choose " LABEL_EN "."
				 : strcmp(type, "file") == 0 ? "Please upload " LABEL_EN "."
							       : "Please fill in " LABEL_EN ".";
		for (size_t i = 0; i < ARRAY_LEN(empties); i++) {
			char *v, *e;
			run1(type, 1, empties[i], "zh", &v, &e);
			assert_null(v);
			assert_non_null(e);
			assert_string_equal(e, zh);
			free(e);
			run1(type, 1, empties[i], "en", &v, &e);
			assert_null(v);
			assert_string_equal(e, en);
			free(e);
			run1(type, 0, empties[i], "zh", &v, &e);
			assert_null(v);
			assert_null(e);
		}
	}
	/* JSON null counts as empty. */
	json_t *d = def1("text", 1), *in = jload("{\"f\": null}"), *values, *errors;
	assert_int_equal(forms_validate(d, in, V, "zh", &values, &errors), 0);
	assert_string_equal(json_string_value(json_object_get(errors, "f")), "请填写" LABEL_ZH "。");
	json_decref(values);
	json_decref(errors);
	json_decref(in);
	json_decref(d);
}

static char *repeat(const char *s, size_t n)
{
	size_t l = strlen(s);
	char *out = xmalloc(l * n + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * l, s, l);
	out[l * n] = '\0';
	return out;
}

static void test_text(void **state)
{
	(void)state;
	const char *types[] = { "text", "address" };
	for (size_t t = 0; t < 2; t++) {
		const char *ty = types[t];
		ok(ty, "张三", "张三");
		ok(ty, "  清河市东城区人民路1号 \xE3\x80\x80", "清河市东城区人民路1号");
		ok(ty, "张三\xC2\xA0", "张三");
		ok(ty, "\xC2\xA0" "O'Brien & Sons <Ltd>" "\xEF\xBB\xBF", "O'Brien & Sons <Ltd>");
		char *max = repeat("中", FORMS_TEXT_MAX), *over = repeat("中", FORMS_TEXT_MAX + 1);
		ok(ty, max, max);
		bad(ty, over, "200");
		free(max);
		free(over);
		char *huge = repeat("a", 100000);
		bad(ty, huge, "200");
		free(huge);
		bad(ty, "a\tb", "控制字符");
		bad(ty, "line\nbreak", "控制字符");
		bad(ty, "a\x01z", "控制字符");
		bad(ty, "a\x7fz", "控制字符");
		bad(ty, "a\xC2\x85z", "控制字符"); /* U+0085 NEXT LINE */
	}
}

static void test_textarea(void **state)
{
	(void)state;
	ok("textarea", "第一行\n第二行", "第一行\n第二行");
	ok("textarea", "\r\none\r\ntwo\rthree\n\n", "one\ntwo\nthree");
	char *max = repeat("中", FORMS_TEXTAREA_MAX), *over = repeat("中", FORMS_TEXTAREA_MAX + 1);
	ok("textarea", max, max);
	bad("textarea", over, "2000");
	free(max);
	free(over);
	/* CR LF counts as one character. */
	char *lines = repeat("a\r\n", FORMS_TEXTAREA_MAX / 2);
	char *want = repeat("a\n", FORMS_TEXTAREA_MAX / 2);
	want[strlen(want) - 1] = '\0';
	ok("textarea", lines, want);
	free(lines);
	free(want);
	bad("textarea", "a\tb", "控制字符");
	bad("textarea", "a\x1b[31mred", "控制字符");
}

static void test_number(void **state)
{
	(void)state;
	ok("number", "007.50", "7.5");
	ok("number", "0", "0");
	ok("number", "0.00", "0");
	ok("number", "000", "0");
	ok("number", "1280", "1280");
	ok("number", " 35.5 ", "35.5");
	ok("number", ".5", "0.5");
	ok("number", "5.", "5");
	ok("number", "12.340", "12.34");
	ok("number", "999999999999.99", "999999999999.99");
	ok("number", "0000000000000000001", "1");
	ok("number", "\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x8E\xEF\xBC\x95", "12.5"); /* full width */
	bad("number", "1000000000000", "12位");
	bad("number", "12.345", "两位小数");
	bad("number", "-1", "不小于0");
	bad("number", "+1", NULL);
	bad("number", "1e5", NULL);
	bad("number", "1,000", NULL);
	bad("number", ".", NULL);
	bad("number", "1.2.3", NULL);
	bad("number", "12 5", NULL);
	bad("number", "0x10", NULL);
	bad("number", "NaN", NULL);
	char *huge = repeat("1", 100000);
	bad("number", huge, NULL);
	free(huge);
}

static void test_date(void **state)
{
	(void)state;
	ok("date", "2025-03-01", "2025-03-01");
	ok("date", "2024-02-29", "2024-02-29");
	ok("date", "1900-01-01", "1900-01-01");
	ok("date", "2100-12-31", "2100-12-31");
	ok("date", " 2025-12-31 ", "2025-12-31");
	ok("date", "２０２５－０３－０１", "2025-03-01");
	bad("date", "2023-02-29", "年-月-日");
	bad("date", "2025-13-01", NULL);
	bad("date", "2025-04-31", NULL);
	bad("date", "2025-00-10", NULL);
	bad("date", "2025-3-1", NULL);
	bad("date", "2025/03/01", NULL);
	bad("date", "20250301", NULL);
	bad("date", "2025-03-01T00:00", NULL);
	bad("date", "1899-12-31", "1900");
	bad("date", "2101-01-01", "2100");
}

static void test_select(void **state)
{
	(void)state;
	ok("select", "window", "window");
	ok("select", " post ", "post");
	bad("select", "Window", "列表");
	bad("select", "pickup", "列表");
	bad("select", "窗口领取", "列表"); /* a label is not a value */
}

static void test_id_number(void **state)
{
	(void)state;
	ok("id_number", "11010519491231002X", "11010519491231002X");
	ok("id_number", "11010519491231002x", "11010519491231002X");
	ok("id_number", " 110105 19491231 002x ", "11010519491231002X");
	ok("id_number", "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X");
	bad("id_number", "110105194912310021", "校验位");
	bad("id_number", "11010519491231002", "18位");
	bad("id_number", "1101051949123100X2", NULL);
	bad("id_number", "11010519491331002X", "出生日期");
	bad("id_number", "ab", NULL);
	char *huge = repeat("1", 100000);
	bad("id_number", huge, "18位");
	free(huge);
	/* The message is the field's label and idcheck's reason. */
	char *v, *e;
	run1("id_number", 1, "110105194912310021", "en", &v, &e);
	assert_string_equal(e, LABEL_EN ": The check character of the ID number is wrong; please "
				    "check the number and enter it again.");
	free(e);
}

static void test_uscc(void **state)
{
	(void)state;
	ok("uscc", "91310110666007217T", "91310110666007217T");
	ok("uscc", "91310110666007217t", "91310110666007217T");
	ok("uscc", "9131 0110 6660 0721 7T", "91310110666007217T");
	bad("uscc", "91310110666007217A", "校验位");
	bad("uscc", "9131011066600721", "18位");
	bad("uscc", "91310110666OO7217T", NULL);
}

static void test_phone(void **state)
{
	(void)state;
	ok("phone", "13800000001", "13800000001");
	ok("phone", "138 0000 0001", "13800000001");
	ok("phone", "138-0000-0001", "13800000001");
	ok("phone", "+86 138 0000 0001", "13800000001");
	ok("phone", "8613800000001", "13800000001");
	ok("phone", "１３８０００００００１", "13800000001");
	ok("phone", "138\xE3\x80\x80" "0000\xE3\x80\x80" "0001", "13800000001");
	bad("phone", "12345678901", "13至19");
	bad("phone", "1380000000", "11位");
	bad("phone", "0588-1234567", NULL);
	bad("phone", "1380000000a", NULL);
	bad("phone", "+1 138 0000 0001", NULL);
}

static void test_email(void **state)
{
	(void)state;
	ok("email", "zhang.san@example.com", "zhang.san@example.com");
	ok("email", " Zhang.San+tag@Mail.Example.COM ", "Zhang.San+tag@mail.example.com");
	ok("email", "a@b-c.d2", "a@b-c.d2");
	ok("email", "ｔｅｓｔ＠ｅｘａｍｐｌｅ．ｃｏｍ", "test@example.com");
	bad("email", "zhangsan", "name@example.com");
	bad("email", "zhangsan@", NULL);
	bad("email", "@example.com", NULL);
	bad("email", "a@@example.com", NULL);
	bad("email", "a@b@example.com", NULL);
	bad("email", "a@localhost", NULL);
	bad("email", "a b@example.com", NULL);
	bad("email", "a@exa mple.com", NULL);
	bad("email", "a@example..com", NULL);
	bad("email", "a@example.com.", NULL);
	bad("email", "a@.example.com", NULL);
	bad("email", "a@-example.com", NULL);
	bad("email", "a@example-.com", NULL);
	bad("email", "a@exam_ple.com", NULL);
	bad("email", "张三@example.com", NULL);
	bad("email", "a@例子.中国", NULL);
	char *local = repeat("a", 64), *local65 = repeat("a", 65);
	char buf[400];
	snprintf(buf, sizeof(buf), "%s@example.com", local);
	ok("email", buf, buf);
	snprintf(buf, sizeof(buf), "%s@example.com", local65);
	bad("email", buf, NULL);
	/* 254 characters in all is the most. */
	char *lab = repeat("b", 63);
	snprintf(buf, sizeof(buf), "%s@%s.%s.%s.%s", local, lab, lab, lab, "cc");
	assert_int_equal(strlen(buf), 64 + 1 + 63 * 3 + 3 + 2); /* 259 */
	bad("email", buf, NULL);
	snprintf(buf, sizeof(buf), "%.59s@%s.%s.%s.%s", local, lab, lab, lab, "cc");
	assert_int_equal(strlen(buf), 254);
	ok("email", buf, buf);
	char *label64 = repeat("c", 64);
	snprintf(buf, sizeof(buf), "a@%s.com", label64);
	bad("email", buf, NULL);
	free(label64);
	free(lab);
	free(local);
	free(local65);
}

static void test_file(void **state)
{
	(void)state;
	ok("file", FILE_REF, FILE_REF);
	ok("file", " " FILE_REF " ", FILE_REF);
	bad("file", "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "重新上传");
	bad("file", "0123456789abcdef", NULL);
	bad("file", FILE_REF "0", NULL);
	bad("file", "../../etc/passwd", NULL);
	bad("file", "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL);
}

static json_t *sample_def(void)
{
	return jload(
		"[{\"key\": \"name\", \"label_zh\": \"姓名\", \"label_en\": \"Name\", \"type\": \"text\", \"required\": true},"
		" {\"key\": \"id_number\", \"label_zh\": \"公民身份号码\", \"label_en\": \"ID number\", \"type\": \"id_number\", \"required\": true},"
		" {\"key\": \"amount\", \"label_zh\": \"金额\", \"label_en\": \"Amount\", \"type\": \"number\", \"required\": false},"
		" {\"key\": \"how\", \"label_zh\": \"领取方式\", \"label_en\": \"Collection\", \"type\": \"select\", \"required\": true,"
		"  \"options\": [{\"value\": \"window\", \"label_zh\": \"窗口领取\", \"label_en\": \"At the counter\"},"
		"               {\"value\": \"post\", \"label_zh\": \"邮寄\"}]},"
		" {\"key\": \"note\", \"label_zh\": \"备注\", \"type\": \"textarea\"},"
		" {\"key\": \"scan\", \"label_zh\": \"扫描件\", \"label_en\": \"Scan\", \"type\": \"file\", \"required\": false}]");
}

static void test_unknown_keys_and_input_shapes(void **state)
{
	(void)state;
	json_t *d = sample_def(), *values, *errors;
	json_t *in = jload("{\"name\": \"张三\", \"id_number\": \"11010519491231002x\", \"how\": \"post\","
			   " \"amount\": \"\", \"admin\": \"true\", \"status\": \"approved\", \"__proto__\": \"x\"}");
	assert_int_equal(forms_validate(d, in, V, "zh", &values, &errors), 0);
	assert_int_equal(json_object_size(errors), 0);
	assert_int_equal(json_object_size(values), 3);
	assert_null(json_object_get(values, "admin"));
	assert_null(json_object_get(values, "status"));
	assert_null(json_object_get(values, "amount"));
	assert_string_equal(json_string_value(json_object_get(values, "id_number")), "11010519491231002X");
	json_decref(values);
	json_decref(errors);
	json_decref(in);

	/* Input that is not an object counts as empty; NULL too. */
	json_t *inputs[] = { NULL, json_array(), json_string("x"), json_null() };
	for (size_t i = 0; i < ARRAY_LEN(inputs); i++) {
		assert_int_equal(forms_validate(d, inputs[i], V, "en", &values, &errors), 0);
		assert_int_equal(json_object_size(values), 0);
		assert_int_equal(json_object_size(errors), 3);
		assert_string_equal(json_string_value(json_object_get(errors, "name")), "Please fill in Name.");
		assert_string_equal(json_string_value(json_object_get(errors, "how")), "Please choose Collection.");
		json_decref(values);
		json_decref(errors);
		json_decref(inputs[i]);
	}

	/* Values that are not strings are refused, naming the field. */
	in = jload("{\"name\": 12, \"id_number\": [\"11010519491231002X\"], \"how\": {\"value\": \"post\"},"
		   " \"amount\": 12.5, \"note\": true}");
	assert_int_equal(forms_validate(d, in, V, "zh", &values, &errors), 0);
	assert_int_equal(json_object_size(values), 0);
	assert_int_equal(json_object_size(errors), 5);
	assert_string_equal(json_string_value(json_object_get(errors, "name")),
			    "姓名的格式不正确，请重新填写。");
	/* A field without label_en is named in Chinese in English messages. */
	assert_non_null(strstr(json_string_value(json_object_get(errors, "note")), "备注"));
	json_decref(values);
	json_decref(errors);
	json_decref(in);

	/* Language: anything but "en" is Chinese. */
	in = json_object();
	const char *langs[] = { NULL, "", "fr", "zh-CN", "EN" };
	for (size_t i = 0; i < ARRAY_LEN(langs); i++) {
		assert_int_equal(forms_validate(d, in, V, langs[i], &values, &errors), 0);
		assert_string_equal(json_string_value(json_object_get(errors, "name")), "请填写姓名。");
		json_decref(values);
		json_decref(errors);
	}
	json_decref(in);
	json_decref(d);
}

static void test_malformed_definitions(void **state)
{
	(void)state;
	const char *defs[] = {
		"{}",
		"\"text\"",
		"null",
		"[1]",
		"[[]]",
		"[{\"type\": \"text\"}]",
		"[{\"key\": \"a\"}]",
		"[{\"key\": \"\", \"type\": \"text\"}]",
		"[{\"key\": 5, \"type\": \"text\"}]",
		"[{\"key\": \"a b\", \"type\": \"text\"}]",
		"[{\"key\": \"a\\\"><script>\", \"type\": \"text\"}]",
		"[{\"key\": \"a\", \"type\": \"string\"}]",
		"[{\"key\": \"a\", \"type\": \"TEXT\"}]",
		"[{\"key\": \"a\", \"type\": 1}]",
		"[{\"key\": \"a\", \"type\": \"text\", \"required\": \"yes\"}]",
		"[{\"key\": \"a\", \"type\": \"select\"}]",
		"[{\"key\": \"a\", \"type\": \"select\", \"options\": []}]",
		"[{\"key\": \"a\", \"type\": \"select\", \"options\": {}}]",
		"[{\"key\": \"a\", \"type\": \"select\", \"options\": [\"x\"]}]",
		"[{\"key\": \"a\", \"type\": \"select\", \"options\": [{\"label_zh\": \"x\"}]}]",
		"[{\"key\": \"a\", \"type\": \"select\", \"options\": [{\"value\": 1}]}]",
		"[{\"key\": \"a\", \"type\": \"text\"}, {\"key\": \"a\", \"type\": \"date\"}]",
		"[{\"key\": \"a\", \"type\": \"text\"}, 7]",
	};
	for (size_t i = 0; i < ARRAY_LEN(defs); i++) {
		json_t *d = jload(defs[i]), *in = json_object(), *values = json_true(),
		       *errors = json_true();
		if (forms_validate(d, in, V, "zh", &values, &errors) != GH_EINVAL)
			fail_msg("accepted definition %s", defs[i]);
		assert_null(values);
		assert_null(errors);
		assert_int_equal(forms_def_check(d), GH_EINVAL);
		assert_null(forms_view(d, NULL, NULL, V, "zh"));
		json_decref(d);
		json_decref(in);
	}
	json_t *values, *errors;
	assert_int_equal(forms_validate(NULL, NULL, V, "zh", &values, &errors), GH_EINVAL);
	assert_null(forms_view(NULL, NULL, NULL, V, "en"));

	/* Too many fields. */
	json_t *d = json_array();
	for (int i = 0; i < 101; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i);
		json_array_append_new(d, json_pack("{s:s, s:s}", "key", k, "type", "text"));
	}
	assert_int_equal(forms_def_check(d), GH_EINVAL);
	json_array_remove(d, 100);
	assert_int_equal(forms_def_check(d), 0);
	json_decref(d);

	/* Empty definition: nothing to fill in. */
	d = json_array();
	assert_int_equal(forms_validate(d, NULL, V, "zh", &values, &errors), 0);
	assert_int_equal(json_object_size(values) + json_object_size(errors), 0);
	json_decref(values);
	json_decref(errors);
	json_t *v = forms_view(d, NULL, NULL, V, "zh");
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	json_decref(d);
}

static const char *sget(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_view(void **state)
{
	(void)state;
	json_t *d = sample_def();
	json_t *values = jload("{\"name\": \"张三\", \"how\": \"post\", \"amount\": \"12.5\"}");
	json_t *errors = jload("{\"id_number\": \"公民身份号码：校验位不正确\"}");
	json_t *v = forms_view(d, values, errors, V, "en");
	assert_int_equal(json_array_size(v), json_array_size(d));

	json_t *f = json_array_get(v, 0);
	assert_string_equal(sget(f, "key"), "name");
	assert_string_equal(sget(f, "name"), "name");
	assert_string_equal(sget(f, "id"), "f_name");
	assert_string_equal(sget(f, "label"), "Name");
	assert_string_equal(sget(f, "type"), "text");
	assert_string_equal(sget(f, "input_type"), "text");
	assert_string_equal(sget(f, "value"), "张三");
	assert_true(json_is_true(json_object_get(f, "required")));
	assert_true(json_is_true(json_object_get(f, "is_text")));
	assert_true(json_is_true(json_object_get(f, "is_input")));
	assert_null(json_object_get(f, "is_select"));
	assert_null(json_object_get(f, "error"));
	assert_null(json_object_get(f, "has_error"));
	assert_int_equal(json_integer_value(json_object_get(f, "maxlength")), FORMS_TEXT_MAX);

	f = json_array_get(v, 1);
	assert_string_equal(sget(f, "input_type"), "text");
	assert_string_equal(sget(f, "inputmode"), "text");
	assert_string_equal(sget(f, "autocomplete"), "off");
	assert_int_equal(json_integer_value(json_object_get(f, "maxlength")), 18);
	assert_true(json_is_true(json_object_get(f, "is_id_number")));
	assert_string_equal(sget(f, "error"), "公民身份号码：校验位不正确");
	assert_true(json_is_true(json_object_get(f, "has_error")));
	assert_string_equal(sget(f, "value"), "");
	assert_non_null(strstr(sget(f, "hint"), "18"));

	f = json_array_get(v, 2);
	assert_string_equal(sget(f, "input_type"), "text");
	assert_string_equal(sget(f, "inputmode"), "decimal");
	assert_true(json_is_false(json_object_get(f, "required")));
	assert_true(json_is_true(json_object_get(f, "is_number")));
	assert_string_equal(sget(f, "value"), "12.5");

	f = json_array_get(v, 3);
	assert_string_equal(sget(f, "input_type"), "select");
	assert_true(json_is_true(json_object_get(f, "is_select")));
	assert_true(json_is_false(json_object_get(f, "is_input")));
	json_t *opts = json_object_get(f, "options");
	assert_int_equal(json_array_size(opts), 2);
	assert_string_equal(sget(json_array_get(opts, 0), "value"), "window");
	assert_string_equal(sget(json_array_get(opts, 0), "label"), "At the counter");
	assert_true(json_is_false(json_object_get(json_array_get(opts, 0), "selected")));
	assert_string_equal(sget(json_array_get(opts, 1), "label"), "邮寄"); /* zh fallback */
	assert_true(json_is_true(json_object_get(json_array_get(opts, 1), "selected")));

	f = json_array_get(v, 4);
	assert_string_equal(sget(f, "label"), "备注"); /* zh fallback */
	assert_string_equal(sget(f, "input_type"), "textarea");
	assert_true(json_is_true(json_object_get(f, "is_textarea")));
	assert_true(json_is_false(json_object_get(f, "required")));
	assert_true(json_is_false(json_object_get(f, "is_input")));

	f = json_array_get(v, 5);
	assert_string_equal(sget(f, "input_type"), "file");
	assert_string_equal(sget(f, "accept"), ".pdf,.jpg,.jpeg,.png");
	assert_true(json_is_true(json_object_get(f, "is_file")));
	assert_true(json_is_false(json_object_get(f, "is_input")));
	json_decref(v);

	/* Chinese labels and hints; no values nor errors at all. */
	v = forms_view(d, NULL, NULL, V, "zh");
	assert_string_equal(sget(json_array_get(v, 0), "label"), "姓名");
	assert_string_equal(sget(json_array_get(v, 0), "value"), "");
	assert_non_null(strstr(sget(json_array_get(v, 1), "hint"), "X"));
	assert_string_equal(sget(json_array_get(json_object_get(json_array_get(v, 3), "options"), 0),
				 "label"), "窗口领取");
	json_decref(v);

	/* A huge raw value passed back is not echoed. */
	char *huge = repeat("x", 100000);
	json_t *raw = json_pack("{s:s}", "name", huge);
	v = forms_view(d, raw, NULL, V, "zh");
	assert_string_equal(sget(json_array_get(v, 0), "value"), "");
	json_decref(v);
	json_decref(raw);
	free(huge);

	json_decref(values);
	json_decref(errors);
	json_decref(d);

	/* Every type's flags and input attributes. */
	static const struct {
		const char *type, *input_type, *inputmode, *autocomplete;
		int maxlength;
		int has_hint;
	} want[] = {
		{ "text", "text", NULL, NULL, FORMS_TEXT_MAX, 0 },
		{ "textarea", "textarea", NULL, NULL, FORMS_TEXTAREA_MAX, 0 },
		{ "number", "text", "decimal", "off", 16, 1 },
		{ "date", "date", NULL, NULL, 0, 1 },
		{ "select", "select", NULL, NULL, 0, 0 },
		{ "id_number", "text", "text", "off", 18, 1 },
		{ "uscc", "text", "text", "off", 18, 1 },
		{ "phone", "tel", "numeric", "tel", 11, 1 },
		{ "email", "email", NULL, "email", FORMS_EMAIL_MAX, 0 },
		{ "address", "text", NULL, "street-address", FORMS_TEXT_MAX, 0 },
		{ "file", "file", NULL, NULL, 0, 1 },
	};
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		d = def1(want[i].type, 1);
		v = forms_view(d, NULL, NULL, V, "en");
		assert_int_equal(json_array_size(v), 1);
		f = json_array_get(v, 0);
		assert_string_equal(sget(f, "type"), want[i].type);
		assert_string_equal(sget(f, "input_type"), want[i].input_type);
		assert_string_equal(sget(f, "id"), "f_f");
		assert_string_equal(sget(f, "label"), LABEL_EN);
		char flag[32];
		for (size_t j = 0; j < ARRAY_LEN(all_types); j++) {
			snprintf(flag, sizeof(flag), "is_%s", all_types[j]);
			assert_int_equal(json_is_true(json_object_get(f, flag)),
					 strcmp(all_types[j], want[i].type) == 0);
		}
		if (want[i].inputmode)
			assert_string_equal(sget(f, "inputmode"), want[i].inputmode);
		else
			assert_null(json_object_get(f, "inputmode"));
		if (want[i].autocomplete)
			assert_string_equal(sget(f, "autocomplete"), want[i].autocomplete);
		else
			assert_null(json_object_get(f, "autocomplete"));
		assert_int_equal(json_integer_value(json_object_get(f, "maxlength")), want[i].maxlength);
		assert_int_equal(json_object_get(f, "hint") != NULL, want[i].has_hint);
		json_decref(v);
		json_decref(d);
	}
}

/* A valid sample value for a field of the demo catalog. */
static const char *sample_value(json_t *field)
{
	const char *t = json_string_value(json_object_get(field, "type"));
	if (strcmp(t, "text") == 0)
		return "张三";
	if (strcmp(t, "textarea") == 0)
		return "因工作调动需要办理。\n特此申请。";
	if (strcmp(t, "number") == 0)
		return "12.5";
	if (strcmp(t, "date") == 0)
		return "2025-03-01";
	if (strcmp(t, "select") == 0)
		return json_string_value(
			json_object_get(json_array_get(json_object_get(field, "options"), 0), "value"));
	if (strcmp(t, "id_number") == 0)
		return "11010519491231002X";
	if (strcmp(t, "uscc") == 0)
		return "91310110666007217T";
	if (strcmp(t, "phone") == 0)
		return "13800000001";
	if (strcmp(t, "email") == 0)
		return "zhangsan@example.com";
	if (strcmp(t, "address") == 0)
		return "清河市东城区人民路1号";
	if (strcmp(t, "file") == 0)
		return FILE_REF;
	fail_msg("unknown type %s", t);
	return NULL;
}

static void test_catalog_forms(void **state)
{
	(void)state;
	json_error_t je;
	json_t *items = json_load_file("data/catalog/services.json", 0, &je);
	if (!items)
		fail_msg("data/catalog/services.json: %s (run from the project root)", je.text);
	assert_int_equal(json_array_size(items), 173);
	size_t i, j, nrequired = 0;
	json_t *it, *field;
	json_array_foreach(items, i, it) {
		const char *code = json_string_value(json_object_get(it, "code"));
		json_t *def = json_object_get(it, "form");
		assert_int_equal(forms_def_check(def), 0);
		json_t *in = json_object(), *values, *errors;
		json_array_foreach(def, j, field)
			json_object_set_new(in, json_string_value(json_object_get(field, "key")),
					    json_string(sample_value(field)));
		assert_int_equal(forms_validate(def, in, V, "zh", &values, &errors), 0);
		if (json_object_size(errors) != 0) {
			char *dump = json_dumps(errors, JSON_ENSURE_ASCII);
			fail_msg("%s: errors for valid input: %s", code, dump);
		}
		assert_int_equal(json_object_size(values), json_array_size(def));
		json_array_foreach(def, j, field) {
			const char *k = json_string_value(json_object_get(field, "key"));
			assert_string_equal(json_string_value(json_object_get(values, k)),
					    sample_value(field));
		}

		json_t *view = forms_view(def, values, errors, V, "en");
		assert_int_equal(json_array_size(view), json_array_size(def));
		json_array_foreach(def, j, field) {
			json_t *vf = json_array_get(view, j);
			assert_string_equal(sget(vf, "key"), sget(field, "key"));
			assert_string_equal(sget(vf, "label"), sget(field, "label_en"));
			assert_string_equal(sget(vf, "value"), sample_value(field));
			char flag[32];
			snprintf(flag, sizeof(flag), "is_%s", sget(field, "type"));
			assert_true(json_is_true(json_object_get(vf, flag)));
		}
		json_decref(view);
		json_decref(values);
		json_decref(errors);

		/* Each required field left out in turn gives exactly its error. */
		json_array_foreach(def, j, field) {
			const char *k = json_string_value(json_object_get(field, "key"));
			const char *t = json_string_value(json_object_get(field, "type"));
			json_t *saved = json_incref(json_object_get(in, k));
			json_object_del(in, k);
			for (int l = 0; l < 2; l++) {
				assert_int_equal(forms_validate(def, in, V, l ? "en" : "zh", &values, &errors), 0);
				if (json_is_true(json_object_get(field, "required"))) {
					char want[512];
					const char *label = sget(field, l ? "label_en" : "label_zh");
					if (strcmp(t, "select") == 0)
						snprintf(want, sizeof(want), l ? "Please choose %s." : "请选择%s。", label);
					else
						snprintf(want, sizeof(want), l ? "Please fill in %s." : "请填写%s。", label);
					assert_int_equal(json_object_size(errors), 1);
					assert_string_equal(sget(errors, k), want);
					assert_int_equal(json_object_size(values), json_array_size(def) - 1);
				} else {
					assert_int_equal(json_object_size(errors), 0);
					assert_int_equal(json_object_size(values), json_array_size(def) - 1);
				}
				assert_null(json_object_get(values, k));
				json_decref(values);
				json_decref(errors);
			}
			nrequired += json_is_true(json_object_get(field, "required"));
			json_object_set_new(in, k, saved);
		}
		json_decref(in);
	}
	assert_true(nrequired > 900);
	json_decref(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_and_optional),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_textarea),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_id_number),
		cmocka_unit_test(test_uscc),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_unknown_keys_and_input_shapes),
		cmocka_unit_test(test_malformed_definitions),
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_catalog_forms),
	};
	char err[512];
	if (view_load("templates", "data/i18n", &V, err, sizeof(err))) {
		fprintf(stderr, "view_load: %s\n", err);
		return 1;
	}
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	view_free(V);
	return rc;
}
