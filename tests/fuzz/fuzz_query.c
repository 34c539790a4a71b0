/* Fuzzes search query analysis (normalisation, segmentation, synonyms, pinyin, sound-alike
 * words, ranking, highlighting) and the synonym rule parser that administrators' entries go
 * through. The dictionaries are loaded once from data/ (found from the current directory or
 * from this file's location, so the replay runs from the build directory too). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "search/search_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lex *lx;
static struct sindex *ix;

static void cleanup(void)
{
	sindex_free(ix);
	lex_free(lx);
}

static void init(void)
{
	char err[256], dir[4096];
	const char *src = __FILE__, *at = strstr(src, "tests/fuzz/");
	snprintf(dir, sizeof(dir), "%.*sdata", at ? (int)(at - src) : 0, src);
	if (lex_load("data", NULL, &lx, err, sizeof(err)) && lex_load(dir, NULL, &lx, err, sizeof(err))) {
		fprintf(stderr, "fuzz_query: %s\n", err);
		exit(1);
	}
	struct sindex_builder *b = sindex_builder_new(lx);
	struct sdoc_in d[] = {
		{ .kind = SDOC_ITEM, .code = "a", .name_zh = "居民身份证补领", .name_en = "Replacement of a lost identity card",
		  .department = "psb", .theme = "household", .audience = 1 },
		{ .kind = SDOC_ITEM, .code = "b", .name_zh = "租赁住房提取住房公积金", .name_en = "Housing fund for rent",
		  .department = "hpf", .theme = "housing", .audience = 1 },
		{ .kind = SDOC_BUNDLE, .code = "c", .name_zh = "企业开办一件事", .name_en = "Starting a business",
		  .department = "amr", .theme = "business_startup", .audience = 2 },
	};
	for (size_t i = 0; i < ARRAY_LEN(d); i++)
		sindex_builder_add(b, &d[i]);
	ix = sindex_builder_finish(b, 1);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!lx)
		init();
	struct arena *a = arena_new(4096);
	struct squery *sq = squery_parse(ix, lx, a, (const char *)data, size);
	struct shit hits[4];
	size_t total;
	struct squery_filter f = { .audience = size & 1 ? 1 : 0 };
	size_t n = sindex_search(ix, sq, &f, hits, 4, &total);
	struct sb out = SB_INIT;
	squery_describe(sq, &out);
	for (size_t i = 0; i < n; i++) {
		struct sdoc_view v;
		sindex_doc(ix, hits[i].doc, &v);
		squery_highlight(sq, v.name_zh, &out);
		squery_highlight(sq, v.name_en, &out);
	}
	sb_release(&out);
	char *text = xstrndup((const char *)data, size);
	struct lex *rules = lex_rules_new(lx, text);
	const char *terms[4];
	lex_synonyms(rules, text, strlen(text), terms, 4);
	lex_free(rules);
	free(text);
	arena_free(a);
	return 0;
}
