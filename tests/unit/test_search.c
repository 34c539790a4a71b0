/* test_search.c: the search's text analysis (segmentation, pinyin, Traditional and regional
 * wording, stemming, typo tolerance), the index and a ranking regression over the demo catalog
 * on a small fixed query set, administrators' rules. Runs from the project root (data/
 * holds the dictionaries and the demo catalog) on SQLite, and on PostgreSQL when
 * GOVHALL_TEST_PG is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "search/search_impl.h"
#include "store/db.h"
#include "testdb.h"

static struct lex *lx;
static struct search_labels labels;

/* ---- text ------------------------------------------------------------------------------ */

struct words {
	char buf[1024];
};

static void collect(void *ctx, const char *w, size_t n)
{
	struct words *c = ctx;
	size_t l = strlen(c->buf);
	snprintf(c->buf + l, sizeof(c->buf) - l, "%s%.*s", l ? "/" : "", (int)n, w);
}

static const char *seg(const char *s, bool search_mode, struct words *w)
{
	w->buf[0] = 0;
	lex_segment(lx, s, strlen(s), search_mode, collect, w);
	return w->buf;
}

static void test_segmentation(void **state)
{
	(void)state;
	struct words w;
	assert_string_equal(seg("身份证丢了怎么办", false, &w), "身份证/丢/了/怎么办");
	assert_string_equal(seg("我想办理住房公积金提取", false, &w), "我/想/办理/住房/公积金/提取");
	/* search mode adds the dictionary sub-words of longer words */
	assert_non_null(strstr(seg("住房公积金", true, &w), "公积金"));
	assert_non_null(strstr(seg("中华人民共和国", true, &w), "人民"));
	/* no text, no words; one character, one word */
	assert_string_equal(seg("", false, &w), "");
	assert_string_equal(seg("房", false, &w), "房");
}

static const char *norm(const char *s, struct sb *out)
{
	sb_reset(out);
	lex_normalize(lx, s, strlen(s), true, out);
	return out->buf;
}

static void test_normalisation(void **state)
{
	(void)state;
	struct sb sb = SB_INIT;
	/* Traditional, Taiwan phrases, Hong Kong variants -> Simplified */
	assert_string_equal(norm("辦理結婚證需要什麼證件", &sb), "办理结婚证需要什么证件");
	assert_string_equal(norm("公司註銷流程", &sb), "公司注销流程");
	assert_string_equal(norm("駕照到期換發", &sb), "驾照到期换发");
	/* full-width letters and digits, case */
	assert_string_equal(norm("ＧＪＪ　１２３４５", &sb), "gjj 12345");
	assert_string_equal(norm("Renew Driving LICENCE", &sb), "renew driving licence");
	/* simplified text stays as it is */
	assert_string_equal(norm("居民身份证补领", &sb), "居民身份证补领");
	sb_release(&sb);
}

static void test_pinyin_and_stem(void **state)
{
	(void)state;
	assert_string_equal(lex_pinyin(lx, 0x8EAB /* 身 */), "shen");
	assert_string_equal(lex_pinyin(lx, 0x79EF /* 积 */), "ji");
	assert_null(lex_pinyin(lx, 'a'));
	struct sb sb = SB_INIT;
	const char *in[] = { "licences", "renewing", "registration", "benefits", "card", "bills" };
	const char *out[] = { "licenc", "renew", "registr", "benefit", "card", "bill" };
	for (size_t i = 0; i < ARRAY_LEN(in); i++) {
		sb_reset(&sb);
		lex_stem(in[i], strlen(in[i]), &sb);
		assert_string_equal(sb.buf, out[i]);
	}
	sb_release(&sb);
	assert_true(lex_stopword(lx, "怎么办", strlen("怎么办")));
	assert_true(lex_stopword(lx, "the", 3));
	assert_false(lex_stopword(lx, "公积金", strlen("公积金")));
	const char *terms[4];
	assert_int_equal(lex_synonyms(lx, "驾照", strlen("驾照"), terms, 4), 1);
	assert_non_null(strstr(terms[0], "驾驶证"));
	/* administrators' rules parse the same way */
	struct lex *r = lex_rules_new(lx, "# comment\n小本本, 红本本 => 结婚证\nbad line\n");
	assert_int_equal(lex_synonyms(r, "红本本", strlen("红本本"), terms, 4), 1);
	assert_string_equal(terms[0], "结婚证");
	assert_int_equal(lex_synonyms(r, "bad line", 8, terms, 4), 0);
	lex_free(r);
	/* a rule written in Traditional characters meets the Simplified query */
	r = lex_rules_new(lx, "結婚證書 => 结婚登记\n");
	assert_int_equal(lex_synonyms(r, "结婚证书", strlen("结婚证书"), terms, 4), 1);
	lex_free(r);
}

/* ---- a small index ----------------------------------------------------------------------- */

static struct sindex *small_index(void)
{
	struct sindex_builder *b = sindex_builder_new(lx);
	struct sdoc_in d[] = {
		{ .kind = SDOC_ITEM, .code = "a", .name_zh = "居民身份证补领", .name_en = "Replacement of a lost resident identity card",
		  .department = "psb", .theme = "household", .audience = 1 },
		{ .kind = SDOC_ITEM, .code = "b", .name_zh = "居民身份证换领", .name_en = "Renewal of a resident identity card",
		  .department = "psb", .theme = "household", .audience = 1 },
		{ .kind = SDOC_ITEM, .code = "c", .name_zh = "营业执照遗失补领", .name_en = "Replacement of a business licence",
		  .department = "amr", .theme = "business_operation", .audience = 2 },
		{ .kind = SDOC_ITEM, .code = "d", .name_zh = "租赁住房提取住房公积金", .name_en = "Withdrawing housing provident fund to pay rent",
		  .department = "hpf", .theme = "housing", .audience = 1 },
		{ .kind = SDOC_ITEM, .code = "e", .name_zh = "养犬登记", .name_en = "Dog registration", .department = "psb",
		  .theme = "household", .audience = 1 },
	};
	d[3].text[F_KEYWORDS][0] = "租房提取";
	for (size_t i = 0; i < ARRAY_LEN(d); i++)
		sindex_builder_add(b, &d[i]);
	return sindex_builder_finish(b, 7);
}

static const char *top(const struct sindex *ix, struct arena *a, const char *q, const struct squery_filter *f)
{
	struct squery *sq = squery_parse(ix, lx, a, q, strlen(q));
	struct shit h[3];
	size_t total;
	size_t n = sindex_search(ix, sq, f, h, 3, &total);
	if (!n)
		return "-";
	struct sdoc_view v;
	sindex_doc(ix, h[0].doc, &v);
	return v.code;
}

static void test_index_understands(void **state)
{
	(void)state;
	struct sindex *ix = small_index();
	struct arena *a = arena_new(4096);
	assert_int_equal(sindex_ndocs(ix), 5);
	assert_int_equal(sindex_generation(ix), 7);
	assert_true(sindex_bytes(ix) > 0);
	assert_string_equal(top(ix, a, "身份证丢了", NULL), "a");       /* colloquial */
	assert_string_equal(top(ix, a, "身份证过期了", NULL), "b");
	assert_string_equal(top(ix, a, "身分證丟了", NULL), "a");       /* Taiwan form, Traditional */
	assert_string_equal(top(ix, a, "营业执招丢了", NULL), "c");     /* homophone typo */
	assert_string_equal(top(ix, a, "shenfenzheng buban", NULL), "a"); /* pinyin */
	assert_string_equal(top(ix, a, "sfz huanling", NULL), "b");       /* initials */
	assert_string_equal(top(ix, a, "gjj zufang", NULL), "d");
	assert_string_equal(top(ix, a, "LOST my ID card", NULL), "a");   /* English */
	assert_string_equal(top(ix, a, "dogs", NULL), "e");              /* stemming */
	assert_string_equal(top(ix, a, "养狗要登记吗", NULL), "e");      /* synonym + bigrams */
	/* filters */
	struct squery_filter f = { .audience = 2 };
	assert_string_equal(top(ix, a, "补领", &f), "c");
	f = (struct squery_filter){ .department = "hpf" };
	assert_string_equal(top(ix, a, "补领", &f), "-");
	/* nothing to find */
	assert_string_equal(top(ix, a, "", NULL), "-");
	assert_string_equal(top(ix, a, "的了吗", NULL), "-");
	assert_string_equal(top(ix, a, "xyzzy qwerty", NULL), "-");
	/* highlighting escapes and marks */
	struct squery *sq = squery_parse(ix, lx, a, "身份证<b>", strlen("身份证<b>"));
	struct sb hl = SB_INIT;
	squery_highlight(sq, "居民身份证 <i>", &hl);
	assert_string_equal(hl.buf, "<mark>居民身份证</mark> &lt;i&gt;");
	sb_release(&hl);
	arena_free(a);
	sindex_free(ix);
}

static void test_garbage_queries(void **state)
{
	(void)state;
	struct sindex *ix = small_index();
	struct arena *a = arena_new(4096);
	const char *qs[] = { "\xff\xfe\x80", "a\0b", "''''\"\"\"", "%%%%", "😀😀😀", "ａ" };
	for (size_t i = 0; i < ARRAY_LEN(qs); i++)
		top(ix, a, qs[i], NULL);
	char big[4000];
	for (size_t i = 0; i + 3 < sizeof(big); i += 3)
		memcpy(big + i, "证", 3);
	big[sizeof(big) - 1 - (sizeof(big) - 1) % 3] = 0;
	top(ix, a, big, NULL);
	arena_free(a);
	sindex_free(ix);
}

/* ---- ranking regression over the demo catalog ------------------------------------------- */

static const struct {
	const char *q, *expect;
} fixed[] = {
	{ "护照丢了怎么补", "eea-0002" },   { "驾驶证丢了", "psb-0014" },
	{ "二手房过户", "nrb-0002" },       { "退休了公积金怎么取", "hpf-0006" },
	{ "劳动仲裁怎么申请", "hrss-0011" }, { "孩子转学", "edu-0003" },
	{ "gongjijin daikuan", "hpf-0008" }, { "jiehun dengji", "civ-0001" },
	{ "離婚登記", "civ-0002" },         { "report a lost passport", "eea-0002" },
	{ "dog registration", "psb-0012" },  { "居住正怎么办", "psb-0010" },
	{ "退休要办哪些手续", "bundle-retirement" },
};

static void ranking(enum db_kind kind)
{
	struct testdb t;
	int rc = testdb_open(&t, kind, "search");
	if (rc == 1)
		skip();
	assert_int_equal(rc, 0);
	char err[256];
	assert_int_equal(db_migrate(t.db, err, sizeof(err)), 0);
	struct catalog_import_report rep = { 0 };
	assert_int_equal(catalog_import_demo(t.db, "data", stderr, &rep), 0);
	struct sindex *ix = NULL;
	assert_int_equal(search_docs_build(t.db, lx, NULL, &labels, 1, NULL, NULL, &ix), 0);
	assert_true(sindex_ndocs(ix) > 150);
	struct arena *a = arena_new(4096);
	for (size_t i = 0; i < ARRAY_LEN(fixed); i++) {
		const char *got = top(ix, a, fixed[i].q, NULL);
		if (strcmp(got, fixed[i].expect))
			fail_msg("%s: expected %s first, got %s", fixed[i].q, fixed[i].expect, got);
	}
	/* administrators' synonyms take part */
	assert_int_equal(db_exec_script(t.db, "INSERT INTO search_synonyms (phrases, terms, created_at) "
					      "VALUES ('小红本', '结婚登记', 0)"),
			 0);
	struct arena *ra = arena_new(4096);
	struct lex *rules = NULL;
	assert_int_equal(search_rules_load(t.db, ra, lx, &rules), 0);
	assert_non_null(rules);
	struct sindex *ix2 = NULL;
	assert_int_equal(search_docs_build(t.db, lx, rules, &labels, 2, NULL, NULL, &ix2), 0);
	assert_string_equal(top(ix2, a, "小红本", NULL), "civ-0001");
	assert_string_equal(top(ix, a, "小红本", NULL), "-");
	sindex_free(ix2);
	arena_free(ra);
	arena_free(a);
	sindex_free(ix);
	testdb_close(&t);
}

static void test_ranking_sqlite(void **state)
{
	(void)state;
	ranking(DB_SQLITE);
}

static void test_ranking_pg(void **state)
{
	(void)state;
	ranking(DB_POSTGRES);
}

int main(void)
{
	char err[256];
	if (lex_load("data", NULL, &lx, err, sizeof(err)) || search_labels_load("data", &labels)) {
		fprintf(stderr, "test_search: %s\n", err);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segmentation),     cmocka_unit_test(test_normalisation),
		cmocka_unit_test(test_pinyin_and_stem),  cmocka_unit_test(test_index_understands),
		cmocka_unit_test(test_garbage_queries),  cmocka_unit_test(test_ranking_sqlite),
		cmocka_unit_test(test_ranking_pg),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	lex_free(lx);
	search_labels_release(&labels);
	return rc;
}
