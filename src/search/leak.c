/* leak.c: is a query of an evaluation set written into the search's own rules?
 *
 * Every entry a person wrote for the search — the phrases the rules of data/search/synonyms.txt
 * and regional.txt match (their right sides are the catalog's official wording), the words of
 * actions.txt, life_events.txt and
 * stopwords.txt, and the aliases of every item and bundle of the catalog
 * (data/catalog/services.json, bundles.json) — is normalised like a query (NFKC case-fold,
 * Simplified, English contractions spelled out, stop words dropped, only letters, digits and
 * Chinese characters kept) and cut into character bigrams. A query is close to an entry when
 * the two normalised texts are equal or their bigram sets overlap by three quarters or more
 * (Jaccard): "身份证丢了" is close to the query "身份证丢了怎么办" (the question words drop
 * out), "社保卡" is not close to "社保卡丢了" (the query says more).
 *
 * search-eval reports the queries of a set close to an entry; tests/unit/test_search_leak.c
 * fails when a query of the dev set is. Jieba's dictionary (dict.txt) is a third-party word
 * list, not rules written for the search, and is not read. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/util.h"
#include "search/search_impl.h"

struct leak_ent {
	char *text, *norm, *source;
	uint32_t *bg; /* sorted distinct bigrams, each two code points packed */
	size_t nbg;
};

struct leak_set {
	const struct lex *lx;
	struct leak_ent *e;
	size_t n, cap;
};

struct norm_ctx {
	const struct lex *lx;
	struct sb *out;
};

static void keep_word(void *ctx, const char *w, size_t n)
{
	struct norm_ctx *c = ctx;
	if (!lex_stopword(c->lx, w, n))
		sb_add(c->out, w, n);
}

void search_leak_normalize(const struct lex *lx, const char *s, struct sb *out)
{
	struct sb a = SB_INIT, t = SB_INIT;
	lex_normalize(lx, s, strlen(s), true, &a);
	lex_contractions(a.buf, a.len, &t);
	struct norm_ctx c = { lx, out };
	for (size_t i = 0; i < t.len;) {
		size_t st = i;
		uint32_t cp = u8_next(t.buf, t.len, &i);
		if (cp_is_han(cp)) {
			size_t e = u8_han_run_end(t.buf, t.len, i);
			lex_segment(lx, t.buf + st, e - st, false, keep_word, &c);
			i = e;
		} else if (cp_is_alnum_ascii(cp)) {
			size_t e = i;
			while (e < t.len && cp_is_alnum_ascii((unsigned char)t.buf[e]))
				e++;
			if (!lex_stopword(lx, t.buf + st, e - st))
				sb_add(out, t.buf + st, e - st);
			i = e;
		}
	}
	sb_release(&a);
	sb_release(&t);
}

static int u32cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Distinct bigrams of s (a single character is its own "bigram"); returns how many. */
static size_t bigrams(const char *s, size_t n, uint32_t **out)
{
	size_t nc = str_utf8_chars(s, n), k = 0;
	uint32_t *b = xmalloc((nc ? nc : 1) * sizeof(uint32_t)), prev = 0;
	for (size_t i = 0, c = 0; i < n; c++) {
		uint32_t cp = u8_next(s, n, &i);
		if (nc == 1)
			b[k++] = cp;
		else if (c > 0)
			b[k++] = (prev * 2654435761u) ^ cp; /* a pair, hashed to 32 bits */
		prev = cp;
	}
	qsort(b, k, sizeof(*b), u32cmp);
	size_t d = 0;
	for (size_t i = 0; i < k; i++)
		if (!d || b[d - 1] != b[i])
			b[d++] = b[i];
	*out = b;
	return d;
}

void search_leak_add(struct leak_set *ls, const char *text, const char *source)
{
	struct sb n = SB_INIT;
	search_leak_normalize(ls->lx, text, &n);
	if (!n.len) {
		sb_release(&n);
		return;
	}
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 1024;
		ls->e = xrealloc(ls->e, ls->cap * sizeof(*ls->e));
	}
	struct leak_ent *e = &ls->e[ls->n++];
	e->text = xstrdup(text);
	e->source = xstrdup(source);
	e->nbg = bigrams(n.buf, n.len, &e->bg);
	e->norm = sb_detach(&n, NULL);
}

/* Splits a rule line's phrases like the rule parser: commas, tabs, or a space not followed by
 * a Latin letter. */
static void add_phrases(struct leak_set *ls, char *s, const char *source)
{
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		char *e = s;
		while (*e && *e != ',' && *e != '\t' && !(*e == ' ' && (e[1] == ' ' || !cp_is_alnum_ascii((unsigned char)e[1]))))
			e++;
		if (e > s) {
			char c = *e;
			*e = 0;
			for (char *u = s; *u; u++)
				if (*u == '_')
					*u = ' ';
			search_leak_add(ls, s, source);
			*e = c;
		}
		s = e;
	}
}

static void load_text(struct leak_set *ls, const char *data_dir, const char *file, int kind)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/search/%s", data_dir, file);
	size_t len;
	char *buf = read_file(path, 4u << 20, &len);
	if (!buf)
		return;
	char *p = buf;
	while (*p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		char *line = p;
		p = nl ? nl + 1 : p + strlen(p);
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#')
			continue;
		if (kind == 0) { /* rules: the phrases they match (the right side is official wording) */
			char *arrow = strstr(line, "=>");
			if (!arrow)
				arrow = strstr(line, " = ");
			if (!arrow)
				continue;
			*arrow = 0;
			add_phrases(ls, line, file);
		} else { /* "kind: words" lists, or plain word lists */
			char *colon = strchr(line, ':');
			add_phrases(ls, kind == 1 && colon ? colon + 1 : line, file);
		}
	}
	free(buf);
}

static void load_aliases(struct leak_set *ls, const char *data_dir, const char *file)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/catalog/%s", data_dir, file);
	json_t *arr = json_load_file(path, 0, NULL);
	size_t i, k;
	json_t *rec, *a;
	json_array_foreach(arr, i, rec)
	{
		const char *code = json_string_value(json_object_get(rec, "code"));
		char src[160];
		snprintf(src, sizeof(src), "%s aliases of %s", file, code ? code : "?");
		static const char *const keys[] = { "aliases_zh", "aliases_en" };
		for (size_t f = 0; f < ARRAY_LEN(keys); f++)
			json_array_foreach(json_object_get(rec, keys[f]), k, a)
				if (json_is_string(a))
					search_leak_add(ls, json_string_value(a), src);
	}
	json_decref(arr);
}

struct leak_set *search_leak_load(const struct lex *lx, const char *data_dir)
{
	struct leak_set *ls = xcalloc(1, sizeof(*ls));
	ls->lx = lx;
	if (data_dir) {
		load_text(ls, data_dir, "synonyms.txt", 0);
		load_text(ls, data_dir, "regional.txt", 0);
		load_text(ls, data_dir, "actions.txt", 1);
		load_text(ls, data_dir, "life_events.txt", 1);
		load_text(ls, data_dir, "stopwords.txt", 2);
		load_aliases(ls, data_dir, "services.json");
		load_aliases(ls, data_dir, "bundles.json");
	}
	return ls;
}

size_t search_leak_size(const struct leak_set *ls)
{
	return ls ? ls->n : 0;
}

void search_leak_free(struct leak_set *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->e[i].text);
		free(ls->e[i].norm);
		free(ls->e[i].source);
		free(ls->e[i].bg);
	}
	free(ls->e);
	free(ls);
}

size_t search_leak_find(const struct leak_set *ls, const char *query, struct leak_hit *hits, size_t max)
{
	struct sb n = SB_INIT;
	search_leak_normalize(ls->lx, query, &n);
	size_t found = 0;
	if (n.len) {
		uint32_t *qb;
		size_t nq = bigrams(n.buf, n.len, &qb);
		for (size_t i = 0; i < ls->n; i++) {
			const struct leak_ent *e = &ls->e[i];
			size_t inter = 0;
			for (size_t a = 0, b = 0; a < nq && b < e->nbg;) {
				if (qb[a] == e->bg[b]) {
					inter++;
					a++;
					b++;
				} else if (qb[a] < e->bg[b]) {
					a++;
				} else {
					b++;
				}
			}
			double j = (double)inter / (double)(nq + e->nbg - inter);
			if (strcmp(n.buf, e->norm) != 0 && j < SEARCH_LEAK_JACCARD)
				continue;
			if (found < max)
				hits[found] = (struct leak_hit){ e->text, e->source, j };
			found++;
		}
		free(qb);
	}
	sb_release(&n);
	return found;
}
