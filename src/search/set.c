/* set.c: search over documents this hall does not hold itself — the hub's national catalog
 * (src/federation/natcat.c) — with the very index, query analysis and ranking the catalog's
 * own search uses (index.c, the dictionaries of lex.c); and the place a query names. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "search/search.h"
#include "search/search_impl.h"

struct search_set {
	struct sindex *ix;
};

struct search_set *search_set_build(const struct search_item *items, size_t n, uint64_t generation)
{
	if (!search_state.lx)
		return NULL;
	struct arena *a = arena_new(0);
	struct sindex_builder *b = sindex_builder_new(search_state.lx);
	for (size_t i = 0; i < n; i++) {
		const struct search_item *it = &items[i];
		struct sdoc_in d = {
			.kind = SDOC_ITEM, .code = arena_printf(a, "%zu", i), .name_zh = it->name_zh, .name_en = it->name_en,
			.department = it->department, .dept_name_zh = it->dept_zh, .dept_name_en = it->dept_en,
			.audience = 3, .summary_zh = it->summary_zh, .summary_en = it->summary_en,
			.online_depth = it->online_depth,
		};
		d.text[F_KEYWORDS][0] = it->keywords;
		d.text[F_MATERIALS][0] = it->materials;
		d.text[F_CONDITIONS][0] = it->summary_zh;
		d.text[F_CONDITIONS][1] = it->summary_en;
		sindex_builder_add(b, &d);
	}
	struct search_set *s = xcalloc(1, sizeof(*s));
	s->ix = sindex_builder_finish(b, generation);
	arena_free(a);
	return s;
}

void search_set_free(struct search_set *s)
{
	if (!s)
		return;
	sindex_free(s->ix);
	free(s);
}

uint64_t search_set_generation(const struct search_set *s)
{
	return s ? sindex_generation(s->ix) : 0;
}

size_t search_set_query(const struct search_set *s, struct arena *a, const char *q, size_t *idx, size_t max,
			size_t *total)
{
	*total = 0;
	if (!s || !q || !max)
		return 0;
	struct squery *sq = squery_parse(s->ix, search_state.lx, a, q, strlen(q));
	struct shit *hits = arena_array(a, max, sizeof(*hits));
	struct squery_filter f = { 0 };
	size_t n = sindex_search(s->ix, sq, &f, hits, max, total);
	for (size_t i = 0; i < n; i++) {
		struct sdoc_view v;
		sindex_doc(s->ix, hits[i].doc, &v);
		idx[i] = strtoul(v.code, NULL, 10);
	}
	return n;
}

/* The toneless pinyin of the Han characters of name, joined (兰山 -> "lanshan"), or NULL when
 * name holds anything else. */
static char *pinyin_of(struct arena *a, const char *name)
{
	struct sb out = SB_INIT;
	size_t i = 0, n = strlen(name);
	bool ok = n > 0;
	while (ok && i < n) {
		uint32_t cp = u8_next(name, n, &i);
		const char *py = cp_is_han(cp) ? lex_pinyin(search_state.lx, cp) : NULL;
		if (py)
			sb_adds(&out, py);
		else
			ok = false;
	}
	char *r = ok ? arena_strndup(a, out.buf, out.len) : NULL;
	sb_release(&out);
	return r;
}

/* Where the ASCII word w (lower case) stands in s as a whole word, case aside; -1 if nowhere. */
static long find_word(const char *s, const char *w)
{
	size_t n = strlen(s), m = strlen(w);
	for (size_t i = 0; m && i + m <= n; i++) {
		if (strncasecmp(s + i, w, m))
			continue;
		bool left = i == 0 || !isalnum((unsigned char)s[i - 1]);
		bool right = i + m == n || !isalnum((unsigned char)s[i + m]);
		if (left && right)
			return (long)i;
	}
	return -1;
}

int search_place(struct arena *a, const char *q, const char *const *names, size_t n, const char **rest)
{
	*rest = q;
	if (!q)
		return -1;
	for (size_t k = 0; k < n; k++) {
		if (!names[k] || !*names[k])
			continue;
		const char *hit = strstr(q, names[k]);
		size_t len = strlen(names[k]);
		if (!hit && search_state.lx) {
			const char *py = pinyin_of(a, names[k]);
			long at = py ? find_word(q, py) : -1;
			if (at >= 0) {
				hit = q + at;
				len = strlen(py);
			}
		}
		if (!hit)
			continue;
		*rest = arena_printf(a, "%.*s %s", (int)(hit - q), q, hit + len);
		return (int)k;
	}
	return -1;
}
