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
	/* Snowball (Porter2) */
	const char *in[] = { "licences", "renewing", "registration", "benefits", "card", "bills", "married", "applies" };
	const char *out[] = { "licenc", "renew", "registr", "benefit", "card", "bill", "marri", "appli" };
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

/* ---- the classes of the search's failures, each with cases of its own ---------------------- */

struct doc {
	const char *code, *zh, *en, *aliases;
	int kind;
};

static struct sindex *index_of(const struct doc *d, size_t n, struct lex *rules, uint64_t gen)
{
	struct sindex_builder *b = sindex_builder_new(lx);
	sindex_builder_set_rules(b, rules);
	for (size_t i = 0; i < n; i++) {
		struct sdoc_in in = { .kind = d[i].kind ? d[i].kind : SDOC_ITEM, .code = d[i].code, .name_zh = d[i].zh,
				      .name_en = d[i].en, .department = "x", .theme = "household", .audience = 1 };
		in.text[F_ALIAS][0] = d[i].aliases;
		sindex_builder_add(b, &in);
	}
	return sindex_builder_finish(b, gen);
}

/* A rule applies to whole words of the query, never to a part of a word: 领养 (adopt) is not
 * read inside 领养老金 (draw a pension), nor 交房 (hand over a flat) inside 交房租 (pay rent). */
static void test_rules_apply_to_whole_words(void **state)
{
	(void)state;
	struct lex *rules = lex_rules_new(lx, "领养 => 收养登记\n交房 => 新建商品房\n");
	const struct doc d[] = {
		{ "adopt", "收养登记", "Adoption registration", NULL },
		{ "pension", "领取养老金人员待遇资格认证", "Pension eligibility", NULL },
		{ "newflat", "新建商品房转移登记", "New flat transfer", NULL },
		{ "rent", "租赁住房提取住房公积金", "Housing fund for rent", "房租提取" },
	};
	struct sindex *ix = index_of(d, ARRAY_LEN(d), rules, 1);
	struct arena *a = arena_new(4096);
	assert_string_equal(top(ix, a, "领养老金", NULL), "pension");
	assert_string_equal(top(ix, a, "我想领养一个孩子", NULL), "adopt"); /* the whole word: the rule applies */
	assert_string_equal(top(ix, a, "交房租能用公积金吗", NULL), "rent");
	assert_string_equal(top(ix, a, "开发商交房了", NULL), "newflat");
	arena_free(a);
	sindex_free(ix);
}

/* The longest rule wins: 育儿津贴 is one concept, not 育儿津贴 plus a generic 津贴. */
static void test_longest_rule_wins(void **state)
{
	(void)state;
	struct lex *rules = lex_rules_new(lx, "育儿津贴 => 育儿补贴\n津贴 => 津贴 补贴\n");
	const struct doc d[] = {
		{ "child", "育儿补贴申领", "Childcare subsidy", NULL },
		{ "old", "高龄津贴发放", "Old-age allowance", "老年津贴" },
	};
	struct sindex *ix = index_of(d, ARRAY_LEN(d), rules, 1);
	struct arena *a = arena_new(4096);
	assert_string_equal(top(ix, a, "育儿津贴", NULL), "child");
	assert_string_equal(top(ix, a, "津贴", NULL), "old");
	arena_free(a);
	sindex_free(ix);
}

/* What is to be done: an item doing something else to the thing ranks below the one doing it. */
static void test_operations(void **state)
{
	(void)state;
	assert_true(lex_text_ops(lx, "居民身份证补领") & SOP_REPLACE);
	assert_true(lex_text_ops(lx, "居民身份证换领") & SOP_RENEW);
	assert_true(lex_text_ops(lx, "企业变更登记") & SOP_CHANGE);
	assert_true(lex_text_ops(lx, "企业注销登记") & SOP_CLOSE);
	assert_true(lex_text_ops(lx, "机动车转移登记") & SOP_TRANSFER);
	assert_true(lex_text_ops(lx, "户口迁入") & SOP_TRANSFER);
	assert_true(lex_text_ops(lx, "不动产登记资料查询") & SOP_QUERY);
	assert_true(lex_text_ops(lx, "居民身份证首次申领") & SOP_NEW);
	assert_int_equal(lex_text_ops(lx, "拆迁补偿安置"), 0);  /* 迁 inside 拆迁 is no move */
	assert_int_equal(lex_text_ops(lx, "养老保险待遇"), 0);
	assert_true(lex_ops(lx, "卖掉", strlen("卖掉")) & SOP_TRANSFER); /* verb + complement */
	assert_true(lex_ops(lx, "丢了", strlen("丢了")) & SOP_REPLACE);
	const struct doc d[] = {
		{ "open", "企业设立登记", "Establishment registration of an enterprise", NULL },
		{ "change", "企业变更登记", "Change registration of an enterprise", NULL },
		{ "close", "企业注销登记", "Deregistration of an enterprise", NULL },
		{ "cardnew", "社会保障卡申领", "Application for a social security card", NULL },
		{ "cardlost", "社会保障卡挂失与补换", "Reporting loss and replacing a social security card", NULL },
		{ "carnew", "机动车注册登记", "Motor vehicle registration", NULL },
		{ "carsell", "机动车转移登记", "Transfer registration of a motor vehicle", NULL },
	};
	struct sindex *ix = index_of(d, ARRAY_LEN(d), NULL, 1);
	struct arena *a = arena_new(4096);
	assert_string_equal(top(ix, a, "企业", NULL), "open");          /* no operation: the first one */
	assert_string_equal(top(ix, a, "企业不干了", NULL), "close");
	assert_string_equal(top(ix, a, "企业要改名字", NULL), "change");
	assert_string_equal(top(ix, a, "社保卡", NULL), "cardnew");
	assert_string_equal(top(ix, a, "社保卡被偷", NULL), "cardlost");
	assert_string_equal(top(ix, a, "车卖掉了", NULL), "carsell");
	assert_string_equal(top(ix, a, "closing down an enterprise", NULL), "close");
	assert_string_equal(top(ix, a, "I lost my social security card", NULL), "cardlost");
	assert_string_equal(top(ix, a, "selling a vehicle", NULL), "carsell");
	arena_free(a);
	sindex_free(ix);
}

static const char *contract(const char *s, struct sb *out)
{
	sb_reset(out);
	lex_contractions(s, strlen(s), out);
	return out->buf ? out->buf : "";
}

static void test_english(void **state)
{
	(void)state;
	struct sb sb = SB_INIT;
	assert_string_equal(contract("i can't find it", &sb), "i can not find it");
	assert_string_equal(contract("we won't, they don't", &sb), "we will not, they do not");
	assert_string_equal(contract("i'm moving, we've moved", &sb), "i am moving, we have moved");
	assert_string_equal(contract("the driver\u2019s licence", &sb), "the driver licence");
	assert_string_equal(contract("'quoted'", &sb), "'quoted'");
	const struct doc d[] = {
		{ "marry", "内地居民结婚登记", "Marriage registration", NULL },
		{ "reg", "企业设立登记", "Establishment registration of an enterprise", NULL },
		{ "premar", "婚前医学检查", "Premarital medical examination", "couples preparing to marry" },
	};
	struct sindex *ix = index_of(d, ARRAY_LEN(d), NULL, 1);
	struct arena *a = arena_new(4096);
	assert_string_equal(top(ix, a, "registering an enterprise", NULL), "reg"); /* register = registration */
	assert_string_equal(top(ix, a, "we're marrying", NULL), "marry");          /* marry = marriage */
	arena_free(a);
	sindex_free(ix);
	sb_release(&sb);
}

/* Taiwan and Hong Kong wording for the same things, through OpenCC and data/search/regional.txt. */
static void test_regional_wording(void **state)
{
	(void)state;
	const struct doc d[] = {
		{ "title", "不动产权证书补发、换发", "Reissue of a real estate title certificate", NULL },
		{ "dibao", "最低生活保障审核确认", "Minimum living allowance", NULL },
		{ "moto", "机动车注册登记", "Motor vehicle registration", NULL },
		{ "med", "基本医疗保险关系转移接续", "Transfer of medical insurance", NULL },
	};
	struct sindex *ix = index_of(d, ARRAY_LEN(d), NULL, 1);
	struct arena *a = arena_new(4096);
	assert_string_equal(top(ix, a, "所有權狀不見了", NULL), "title"); /* Taiwan */
	assert_string_equal(top(ix, a, "點樣申請綜合社會保障援助", NULL), "dibao"); /* Hong Kong */
	assert_string_equal(top(ix, a, "電單車登記", NULL), "moto");
	assert_string_equal(top(ix, a, "全民健保轉移", NULL), "med");
	arena_free(a);
	sindex_free(ix);
}

/* A life event asked for as a whole ranks its bundle first; naming one step finds the step. */
static void test_life_event_bundle(void **state)
{
	(void)state;
	const struct doc d[] = {
		{ "bundle", "新生儿出生一件事", "Newborn birth", "宝宝出生", SDOC_BUNDLE },
		{ "hukou", "出生登记", "Birth registration", "新生儿落户" },
		{ "cert", "出生医学证明首次签发", "Medical certificate of birth", NULL },
	};
	struct sindex *ix = index_of(d, ARRAY_LEN(d), NULL, 1);
	struct arena *a = arena_new(4096);
	assert_string_equal(top(ix, a, "宝宝出生了要办哪些手续", NULL), "bundle");
	assert_string_equal(top(ix, a, "宝宝出生的全部流程", NULL), "bundle");
	assert_string_equal(top(ix, a, "宝宝出生登记", NULL), "hukou");
	assert_string_equal(top(ix, a, "baby born, what paperwork", NULL), "bundle");
	arena_free(a);
	sindex_free(ix);
}

/* An unknown compound is read through its characters; a typo is sought where a word starts. */
static void test_compounds_and_typos(void **state)
{
	(void)state;
	const struct doc d[] = {
		{ "dog", "养犬登记", "Dog registration", NULL },
		{ "weld", "特种作业操作证申领", "Special operations certificate", "焊工证" },
		{ "notary", "国内民事公证", "Notarisation", NULL },
	};
	struct sindex *ix = index_of(d, ARRAY_LEN(d), NULL, 1);
	struct arena *a = arena_new(4096);
	assert_string_equal(top(ix, a, "狗牌", NULL), "dog");
	assert_string_equal(top(ix, a, "焊工证", NULL), "weld"); /* 工证 is not a typo of 公证 */
	assert_string_equal(top(ix, a, "民事公挣", NULL), "notary"); /* 公挣 is */
	arena_free(a);
	sindex_free(ix);
}

/* The index is swapped while requests read the previous one: a reader keeps what it holds
 * until it lets go, then the old index is freed (AddressSanitizer watches). */
static void test_swap_while_reading(void **state)
{
	(void)state;
	const struct doc d1[] = { { "a", "养犬登记", "Dog registration", NULL } };
	const struct doc d2[] = { { "a", "养犬登记", "Dog registration", NULL }, { "b", "收养登记", "Adoption", NULL } };
	search_swap(index_of(d1, 1, NULL, 1));
	const struct sindex *held = search_acquire(NULL, NULL);
	assert_int_equal(sindex_generation(held), 1);
	search_swap(index_of(d2, 2, NULL, 2)); /* a rebuild finishes meanwhile */
	assert_int_equal(search_current_generation(), 2);
	assert_int_equal(sindex_ndocs(held), 1); /* still readable */
	struct arena *a = arena_new(4096);
	assert_string_equal(top(held, a, "养狗", NULL), "a");
	search_unlock();
	const struct sindex *now = search_acquire(NULL, NULL);
	assert_int_equal(sindex_ndocs(now), 2);
	search_unlock();
	search_swap(NULL);
	arena_free(a);
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
		cmocka_unit_test(test_garbage_queries),  cmocka_unit_test(test_rules_apply_to_whole_words),
		cmocka_unit_test(test_longest_rule_wins), cmocka_unit_test(test_operations),
		cmocka_unit_test(test_english),           cmocka_unit_test(test_regional_wording),
		cmocka_unit_test(test_life_event_bundle), cmocka_unit_test(test_compounds_and_typos),
		cmocka_unit_test(test_swap_while_reading), cmocka_unit_test(test_ranking_sqlite),
		cmocka_unit_test(test_ranking_pg),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	lex_free(lx);
	search_labels_release(&labels);
	return rc;
}
