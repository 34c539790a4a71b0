/* index.c: the in-memory inverted index, query analysis and BM25F ranking.
 *
 * Terms carry a one-byte kind: 'w' a Chinese word (jieba's segmentation, search mode), 'b' a
 * Chinese character bigram, 'e' an English (or other Latin-script) stem. Each posting stores
 * the document and its BM25F pseudo-frequency (field frequencies weighted and normalised by
 * field length) already saturated, tf (k1 + 1) / (k1 + tf), computed once at build time, so
 * a query only adds weight * idf * that per posting.
 *
 * Pinyin and homophones: every Chinese word of the documents and of the synonym dictionary is
 * filed under its toneless pinyin ("shenfenzheng") and its initials ("sfz"). A Latin token of
 * the query that is such a key becomes those words; a run of Chinese characters of the query
 * that is not a known word but sounds like one (身分证, 营业执招) adds that word. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "search/search_impl.h"

static const float field_weight[F_N] = {
	[F_NAME] = 4.0f, [F_KEYWORDS] = 2.5f, [F_ALIAS] = 3.0f, [F_OUTCOME] = 3.0f, [F_MATERIALS] = 0.4f,
	[F_CONDITIONS] = 0.6f, [F_DEPT] = 0.4f, [F_BODY] = 1.0f,
};
/* Fields that say what a document is (rather than what it asks for). */
#define PRIMARY(tf) ((tf)[F_NAME] || (tf)[F_KEYWORDS] || (tf)[F_ALIAS] || (tf)[F_OUTCOME] || (tf)[F_BODY])
#define BM25_B 0.6f
#define BM25_K1 1.2f

/* Query term weights by origin. */
#define QW_WORD 1.0f
#define QW_SYN LEX_RULE_WEIGHT
#define QW_PINYIN 1.0f
#define QW_SOUND 0.9f
#define QW_BIGRAM 0.3f
#define QW_PART 0.8f /* a character's meaning in a compound nobody knows */
#define QW_EN 1.0f
/* The ranking's factors. Set once at start (search-eval --param and --fit change them for
 * measuring; the server never does), read by every search. */
static struct {
	float bundle_cue;     /* bundles when the query asks for everything a situation takes */
	float bundle_nocue;   /* bundles otherwise */
	float group_rest;     /* share of a group's other terms beside its best */
	float secondary;      /* replacing / renewing items when the query does not say so */
	float secondary_end;  /* closing / transferring items when the query does not say so */
	float ops_other;      /* an item doing another thing than the query asks */
	float ops_default;    /* an item issuing the thing when the query replaces, closes ... it */
	float ops_query;      /* looking something up, and an item that does */
	float coverage;       /* how much the share of the query's concepts a document answers counts */
} rank = { 2.5f, 0.8f, 0.25f, 0.7f, 0.85f, 0.5f, 0.6f, 1.2f, 0.0f };

static const struct {
	const char *name;
	float *v;
} rank_params[] = {
	{ "bundle_cue", &rank.bundle_cue },	  { "bundle_nocue", &rank.bundle_nocue },
	{ "group_rest", &rank.group_rest },	  { "secondary", &rank.secondary },
	{ "secondary_end", &rank.secondary_end }, { "ops_other", &rank.ops_other },
	{ "ops_default", &rank.ops_default },	  { "ops_query", &rank.ops_query },
	{ "coverage", &rank.coverage },
};

int sindex_param(const char *name, double v, double *old)
{
	for (size_t i = 0; i < ARRAY_LEN(rank_params); i++)
		if (!strcmp(rank_params[i].name, name)) {
			if (old)
				*old = *rank_params[i].v;
			if (v == v) /* NaN: read only */
				*rank_params[i].v = (float)v;
			return 0;
		}
	return -1;
}

void sindex_params_describe(struct sb *out)
{
	for (size_t i = 0; i < ARRAY_LEN(rank_params); i++)
		sb_addf(out, "%s%s=%g", i ? " " : "", rank_params[i].name, (double)*rank_params[i].v);
}

struct sdoc {
	int kind;
	const char *code, *name_zh, *name_en, *department, *dept_name_zh, *dept_name_en, *theme;
	const char *summary_zh, *summary_en;
	unsigned audience;
	float prior;
	unsigned ops;   /* SOP_* its name says (补领, 换发, 变更, 注销, 转移 ...) */
	const char *item_type, *outcome;
	int online_depth;
};

struct sindex {
	uint64_t generation;
	struct arena *strings;
	struct sdoc *docs;
	size_t ndocs;
	struct smap terms; /* kind byte + text -> term id */
	float *idf;
	uint32_t *start; /* nterms + 1 */
	uint32_t *pdoc;
	float *pwtf;
	uint8_t *pprim; /* the term is in a primary field of the document */
	size_t npost;
	/* pinyin vocabulary */
	struct smap vocab;  /* Chinese word -> id */
	struct smap pyfull; /* pinyin -> chain head + 1 */
	struct smap pyinit; /* initials -> chain head + 1 */
	struct pychain {
		uint32_t word, next;
	} *chain;
	size_t nchain, chaincap;
	size_t bytes;
	struct lex *rules; /* administrators' synonyms (may be NULL) */
	struct sdept *depts;
	size_t ndepts, deptcap;
};

struct rawpost {
	uint32_t term, doc;
	uint16_t tf[F_N];
};

struct sindex_builder {
	const struct lex *lx;
	struct sindex *ix;
	size_t doccap;
	struct rawpost *raw;
	size_t nraw, rawcap;
	uint32_t *flen; /* ndocs * F_N */
	/* the document being analysed */
	struct occ {
		uint32_t term;
		uint8_t field;
	} *occ;
	size_t nocc, occcap;
	int cur_field;
	bool bigrams; /* the current field gets character bigrams */
	struct sb tmp;
	sdoc_tap_fn tap;
	void *tapctx;
	struct smap memo; /* field text -> offset in memo_terms */
	uint32_t *memo_terms;
	size_t nmemo, memocap;
};

void sindex_builder_set_tap(struct sindex_builder *b, sdoc_tap_fn tap, void *ctx)
{
	b->tap = tap;
	b->tapctx = ctx;
}

/* ---- building ------------------------------------------------------------------------------ */

static uint32_t term_id(struct sindex *ix, char kind, const char *w, size_t n)
{
	char buf[256];
	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	buf[0] = kind;
	memcpy(buf + 1, w, n);
	return smap_put(&ix->terms, buf, n + 1, 0, NULL);
}

static void occ_add(struct sindex_builder *b, uint32_t t)
{
	if (b->nocc == b->occcap) {
		b->occcap = b->occcap ? b->occcap * 2 : 1024;
		b->occ = xrealloc(b->occ, b->occcap * sizeof(*b->occ));
	}
	b->occ[b->nocc++] = (struct occ){ t, (uint8_t)b->cur_field };
}

static void vocab_add(struct sindex *ix, const struct lex *lx, const char *w, size_t n);

static void emit_doc_word(void *ctx, const char *w, size_t n)
{
	struct sindex_builder *b = ctx;
	size_t i = 0;
	u8_next(w, n, &i);
	if (i >= n) /* single characters are left to the bigrams */
		return;
	occ_add(b, term_id(b->ix, 'w', w, n));
	vocab_add(b->ix, b->lx, w, n);
}

/* Splits normalised text into Han runs (segmented, plus bigrams) and Latin words (stemmed). */
static void analyze_doc_text(struct sindex_builder *b, const char *t, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t s = i;
		uint32_t c = u8_next(t, n, &i);
		if (cp_is_han(c)) {
			size_t e = i, prev = s;
			while (e < n) {
				size_t k = e;
				uint32_t d = u8_next(t, n, &k);
				if (!cp_is_han(d))
					break;
				if (b->bigrams)
					occ_add(b, term_id(b->ix, 'b', t + prev, k - prev));
				prev = e;
				e = k;
			}
			lex_segment(b->lx, t + s, e - s, true, emit_doc_word, b);
			i = e;
		} else if (cp_is_alnum_ascii(c)) {
			size_t e = i;
			while (e < n && cp_is_alnum_ascii((unsigned char)t[e]))
				e++;
			if (!lex_stopword(b->lx, t + s, e - s)) {
				sb_reset(&b->tmp);
				lex_stem(t + s, e - s, &b->tmp);
				occ_add(b, term_id(b->ix, 'e', b->tmp.buf, b->tmp.len));
			}
			i = e;
		}
	}
}

/* Aliases and keywords are phrases people type whole (狗证, 二手房过户): each piece of two to
 * ten Chinese characters that the dictionary does not know as one word is also a term, which
 * a query meets when its words, run together, spell it. */
struct runs_ctx {
	struct sindex_builder *b;
	const char *w[8];
	size_t n[8], k;
};

/* Runs of two and three consecutive words of a phrase (个人/交/社保: 个人交, 交社保,
 * 个人交社保), so a query meets a part of a phrase when its own words spell that part. */
static void emit_run_word(void *ctx, const char *w, size_t n)
{
	struct runs_ctx *c = ctx;
	if (c->k == 8) {
		memmove(c->w, c->w + 1, 7 * sizeof(c->w[0]));
		memmove(c->n, c->n + 1, 7 * sizeof(c->n[0]));
		c->k = 7;
	}
	c->w[c->k] = w;
	c->n[c->k++] = n;
	if (lex_stopword(c->b->lx, w, n))
		return; /* a phrase does not end on a function word (开个) */
	for (size_t len = 2; len <= 3 && len <= c->k; len++) {
		const char *s = c->w[c->k - len];
		size_t l = (size_t)(w + n - s);
		if (str_utf8_chars(s, l) <= 8 && !lex_stopword(c->b->lx, s, c->n[c->k - len]))
			occ_add(c->b, term_id(c->b->ix, 'w', s, l));
	}
}

static void analyze_phrases(struct sindex_builder *b, const char *t, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t s = i, chars = 0;
		bool han = true;
		while (i < n) {
			size_t k = i;
			uint32_t c = u8_next(t, n, &k);
			if (c == 0xFF1B || c == ';' || c == ',' || c == 0xFF0C || c == 0x3001 || c == ' ')
				break;
			han = han && cp_is_han(c);
			chars++;
			i = k;
		}
		if (han && chars >= 2 && chars <= 10) {
			struct runs_ctx rc = { .b = b };
			lex_segment(b->lx, t + s, i - s, false, emit_run_word, &rc);
			if (rc.k > 1 || !lex_in_dict(b->lx, t + s, i - s)) {
				if (rc.k > 3 || chars > 8) /* not one of the runs above */
					occ_add(b, term_id(b->ix, 'w', t + s, i - s));
				vocab_add(b->ix, b->lx, t + s, i - s);
			}
		}
		if (i < n)
			u8_next(t, n, &i);
	}
}

/* Field texts recur (materials such as 居民身份证 in most items, shared conditions): the
 * terms of a text already analysed are reused (memo: text -> its term ids in memo_terms, as
 * a count followed by the ids). */
static void analyze_field(struct sindex_builder *b, int field, const char *text)
{
	if (!text || !*text)
		return;
	size_t n = strlen(text);
	b->cur_field = field;
	/* Character bigrams (for partial matches and typos) where a document says what it is:
	 * names, keywords, outcome, bundle descriptions; the long texts (materials, conditions)
	 * give words only, which keeps posting lists short. */
	b->bigrams = field == F_NAME || field == F_KEYWORDS || field == F_ALIAS || field == F_OUTCOME || field == F_BODY;
	char key[4096];
	int64_t m = -1;
	if (n < sizeof(key) - 1) {
		key[0] = b->bigrams ? 'B' : 'W';
		memcpy(key + 1, text, n);
		m = smap_find(&b->memo, key, n + 1);
	}
	if (m >= 0) {
		const uint32_t *t = b->memo_terms + b->memo.ent[m].val;
		for (uint32_t i = 1; i <= t[0]; i++)
			occ_add(b, t[i]);
		return;
	}
	size_t first = b->nocc;
	struct sb norm = SB_INIT, en = SB_INIT;
	lex_normalize(b->lx, text, n, false, &norm);
	lex_contractions(norm.buf, norm.len, &en);
	analyze_doc_text(b, en.buf, en.len);
	if (field == F_ALIAS || field == F_KEYWORDS)
		analyze_phrases(b, en.buf, en.len);
	sb_release(&norm);
	sb_release(&en);
	if (n >= sizeof(key) - 1)
		return;
	size_t k = b->nocc - first;
	if (b->nmemo + k + 1 > b->memocap) {
		while (b->nmemo + k + 1 > b->memocap)
			b->memocap = b->memocap ? b->memocap * 2 : 65536;
		b->memo_terms = xrealloc(b->memo_terms, b->memocap * sizeof(uint32_t));
	}
	smap_put(&b->memo, key, n + 1, (uint32_t)b->nmemo, NULL);
	b->memo_terms[b->nmemo++] = (uint32_t)k;
	for (size_t i = first; i < b->nocc; i++)
		b->memo_terms[b->nmemo++] = b->occ[i].term;
}

struct sindex_builder *sindex_builder_new(const struct lex *lx)
{
	struct sindex_builder *b = xcalloc(1, sizeof(*b));
	b->lx = lx;
	b->ix = xcalloc(1, sizeof(*b->ix));
	b->ix->strings = arena_new(64 * 1024);
	smap_init(&b->ix->terms);
	b->tmp = (struct sb)SB_INIT;
	return b;
}

static const char *dup(struct sindex *ix, const char *s)
{
	return s ? arena_strdup(ix->strings, s) : NULL;
}

static int occ_cmp(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;
	return x->term < y->term ? -1 : x->term > y->term;
}

void sindex_builder_add(struct sindex_builder *b, const struct sdoc_in *d)
{
	struct sindex *ix = b->ix;
	if (b->tap)
		b->tap(b->tapctx, d);
	if (ix->ndocs == b->doccap) {
		b->doccap = b->doccap ? b->doccap * 2 : 256;
		ix->docs = xrealloc(ix->docs, b->doccap * sizeof(*ix->docs));
		b->flen = xrealloc(b->flen, b->doccap * F_N * sizeof(*b->flen));
	}
	uint32_t doc = (uint32_t)ix->ndocs++;
	ix->docs[doc] = (struct sdoc){
		.kind = d->kind, .code = dup(ix, d->code), .name_zh = dup(ix, d->name_zh),
		.name_en = dup(ix, d->name_en), .department = dup(ix, d->department),
		.dept_name_zh = dup(ix, d->dept_name_zh), .dept_name_en = dup(ix, d->dept_name_en),
		.theme = dup(ix, d->theme), .summary_zh = dup(ix, d->summary_zh),
		.summary_en = dup(ix, d->summary_en), .audience = d->audience,
		.prior = (float)log1p(d->usage > 0 ? d->usage : 0), .item_type = dup(ix, d->item_type),
		.outcome = dup(ix, d->outcome), .online_depth = d->online_depth,
	};
	ix->docs[doc].ops = lex_text_ops(b->lx, d->name_zh);
	if (d->department && d->kind == SDOC_ITEM) {
		bool seen = false;
		for (size_t i = 0; i < ix->ndepts && !seen; i++)
			seen = !strcmp(ix->depts[i].code, d->department);
		if (!seen) {
			if (ix->ndepts == ix->deptcap) {
				ix->deptcap = ix->deptcap ? ix->deptcap * 2 : 32;
				ix->depts = xrealloc(ix->depts, ix->deptcap * sizeof(*ix->depts));
			}
			ix->depts[ix->ndepts++] = (struct sdept){ dup(ix, d->department), dup(ix, d->dept_name_zh),
								  dup(ix, d->dept_name_en) };
		}
	}
	b->nocc = 0;
	analyze_field(b, F_NAME, d->name_zh);
	analyze_field(b, F_NAME, d->name_en);
	analyze_field(b, F_DEPT, d->dept_name_zh);
	analyze_field(b, F_DEPT, d->dept_name_en);
	for (int f = 0; f < F_N; f++)
		for (int l = 0; l < 2; l++)
			analyze_field(b, f, d->text[f][l]);
	for (int f = 0; f < F_N; f++)
		b->flen[doc * F_N + (size_t)f] = 0;
	for (size_t i = 0; i < b->nocc; i++)
		b->flen[doc * F_N + b->occ[i].field]++;
	qsort(b->occ, b->nocc, sizeof(*b->occ), occ_cmp);
	for (size_t i = 0; i < b->nocc;) {
		if (b->nraw == b->rawcap) {
			b->rawcap = b->rawcap ? b->rawcap * 2 : 4096;
			b->raw = xrealloc(b->raw, b->rawcap * sizeof(*b->raw));
		}
		struct rawpost *p = &b->raw[b->nraw++];
		memset(p, 0, sizeof(*p));
		p->term = b->occ[i].term;
		p->doc = doc;
		size_t j = i;
		for (; j < b->nocc && b->occ[j].term == p->term; j++)
			if (p->tf[b->occ[j].field] < UINT16_MAX)
				p->tf[b->occ[j].field]++;
		i = j;
	}
}

/* ---- pinyin vocabulary -------------------------------------------------------------------- */

static void chain_add(struct sindex *ix, struct smap *m, const char *key, size_t keylen, uint32_t word)
{
	bool existed;
	uint32_t e = smap_put(m, key, keylen, 0, &existed);
	for (uint32_t c = m->ent[e].val; c; c = ix->chain[c - 1].next)
		if (ix->chain[c - 1].word == word)
			return;
	if (ix->nchain == ix->chaincap) {
		ix->chaincap = ix->chaincap ? ix->chaincap * 2 : 1024;
		ix->chain = xrealloc(ix->chain, ix->chaincap * sizeof(*ix->chain));
	}
	ix->chain[ix->nchain] = (struct pychain){ word, m->ent[e].val };
	m->ent[e].val = (uint32_t)++ix->nchain;
}

static void vocab_add(struct sindex *ix, const struct lex *lx, const char *w, size_t n)
{
	bool existed;
	if (smap_find(&ix->vocab, w, n) >= 0)
		return;
	char full[128], init[32];
	size_t fl = 0, il = 0, nc = 0;
	for (size_t i = 0; i < n;) {
		uint32_t c = u8_next(w, n, &i);
		const char *py = lex_pinyin(lx, c);
		if (!py)
			return; /* only all-Han words */
		size_t pl = strlen(py);
		if (fl + pl >= sizeof(full) || il + 1 >= sizeof(init))
			return;
		memcpy(full + fl, py, pl);
		fl += pl;
		init[il++] = py[0];
		nc++;
	}
	if (nc < 2)
		return;
	uint32_t id = smap_put(&ix->vocab, w, n, 0, &existed);
	if (existed)
		return;
	chain_add(ix, &ix->pyfull, full, fl, id);
	chain_add(ix, &ix->pyinit, init, il, id);
}

struct vocab_ctx {
	struct sindex *ix;
	const struct lex *lx;
};

static void emit_vocab_seg(void *ctx, const char *w, size_t n)
{
	struct vocab_ctx *v = ctx;
	vocab_add(v->ix, v->lx, w, n);
}

static void emit_vocab(void *ctx, const char *w, size_t n)
{
	struct vocab_ctx *v = ctx;
	/* The phrase itself and, for longer ones, its words. */
	vocab_add(v->ix, v->lx, w, n);
	size_t i = 0;
	while (i < n) {
		size_t s = i;
		if (!cp_is_han(u8_next(w, n, &i)))
			continue;
		size_t e = i;
		while (e < n) {
			size_t k = e;
			if (!cp_is_han(u8_next(w, n, &k)))
				break;
			e = k;
		}
		lex_segment(v->lx, w + s, e - s, false, emit_vocab_seg, v);
		i = e;
	}
}

static int dept_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sdept *)a)->code, ((const struct sdept *)b)->code);
}

struct sindex *sindex_builder_finish(struct sindex_builder *b, uint64_t generation)
{
	struct sindex *ix = b->ix;
	ix->generation = generation;
	struct vocab_ctx vc = { ix, b->lx };
	lex_each_syn_word(b->lx, emit_vocab, &vc);
	if (ix->rules)
		lex_each_syn_word(ix->rules, emit_vocab, &vc);
	size_t nterms = ix->terms.n;
	double avg[F_N] = { 0 };
	for (size_t d = 0; d < ix->ndocs; d++)
		for (int f = 0; f < F_N; f++)
			avg[f] += b->flen[d * F_N + (size_t)f];
	for (int f = 0; f < F_N; f++)
		avg[f] = ix->ndocs ? avg[f] / (double)ix->ndocs : 1;
	/* Document frequencies: in all fields, and where a term says what a document is about
	 * (name, keywords, outcome, bundle text). */
	uint32_t *dfall = xcalloc(nterms + 1, sizeof(uint32_t)), *dfp = xcalloc(nterms + 1, sizeof(uint32_t));
	for (size_t i = 0; i < b->nraw; i++) {
		const struct rawpost *p = &b->raw[i];
		dfall[p->term]++;
		if (PRIMARY(p->tf))
			dfp[p->term]++;
	}
	/* A term in more than a fifth of the documents keeps only its postings where it says
	 * what a document is about: its mentions in long texts (居民身份证 among the materials of
	 * most items) hardly move a ranking but would make every query walk them. */
	size_t common = ix->ndocs / 5 > 20 ? ix->ndocs / 5 : 20;
#define KEEP(p) (PRIMARY((p)->tf) || dfall[(p)->term] <= common)
	ix->start = xcalloc(nterms + 1, sizeof(uint32_t));
	size_t kept = 0;
	for (size_t i = 0; i < b->nraw; i++)
		if (KEEP(&b->raw[i])) {
			ix->start[b->raw[i].term + 1]++;
			kept++;
		}
	for (size_t t = 0; t < nterms; t++)
		ix->start[t + 1] += ix->start[t];
	ix->npost = kept;
	ix->pdoc = xmalloc((kept ? kept : 1) * sizeof(uint32_t));
	ix->pwtf = xmalloc((kept ? kept : 1) * sizeof(float));
	ix->pprim = xmalloc(kept ? kept : 1);
	uint32_t *fill = xmalloc((nterms + 1) * sizeof(uint32_t));
	memcpy(fill, ix->start, (nterms + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < b->nraw; i++) {
		const struct rawpost *p = &b->raw[i];
		if (!KEEP(p))
			continue;
		double wtf = 0;
		for (int f = 0; f < F_N; f++) {
			if (!p->tf[f])
				continue;
			double len = b->flen[(size_t)p->doc * F_N + (size_t)f];
			double norm = 1.0 - BM25_B + BM25_B * (avg[f] > 0 ? len / avg[f] : 1.0);
			wtf += field_weight[f] * p->tf[f] / norm;
		}
		uint32_t at = fill[p->term]++;
		ix->pdoc[at] = p->doc;
		ix->pwtf[at] = (float)(wtf * (BM25_K1 + 1) / (BM25_K1 + wtf)); /* saturated once, here */
		/* 1: where the document says what it is; 2: its name, keywords or aliases (a
		 * bundle's situation, not the member items its description lists) */
		ix->pprim[at] = (uint8_t)((PRIMARY(p->tf) ? 1 : 0) |
					  (p->tf[F_NAME] || p->tf[F_KEYWORDS] || p->tf[F_ALIAS] ? 2 : 0));
	}
#undef KEEP
	free(fill);
	/* A term's rarity is judged where it says what a document is about: 居民身份证 is among
	 * the materials of half the items but names four. Terms found only elsewhere count all
	 * their documents. */
	ix->idf = xmalloc((nterms ? nterms : 1) * sizeof(float));
	for (size_t t = 0; t < nterms; t++) {
		double df = dfp[t] ? dfp[t] : dfall[t];
		ix->idf[t] = (float)log(1.0 + ((double)ix->ndocs - df + 0.5) / (df + 0.5));
	}
	free(dfp);
	free(dfall);
	float maxprior = 0;
	for (size_t d = 0; d < ix->ndocs; d++)
		if (ix->docs[d].prior > maxprior)
			maxprior = ix->docs[d].prior;
	for (size_t d = 0; d < ix->ndocs; d++)
		ix->docs[d].prior = maxprior > 0 ? ix->docs[d].prior / maxprior : 0;
	ix->bytes = sizeof(*ix) + arena_used(ix->strings) + ix->ndocs * sizeof(struct sdoc) +
		    smap_bytes(&ix->terms) + nterms * (sizeof(float) + sizeof(uint32_t)) +
		    ix->npost * (sizeof(uint32_t) + sizeof(float) + 1) + smap_bytes(&ix->vocab) +
		    smap_bytes(&ix->pyfull) + smap_bytes(&ix->pyinit) + ix->chaincap * sizeof(struct pychain);
	if (ix->ndepts)
		qsort(ix->depts, ix->ndepts, sizeof(*ix->depts), dept_cmp);
	smap_release(&b->memo);
	free(b->memo_terms);
	free(b->raw);
	free(b->flen);
	free(b->occ);
	sb_release(&b->tmp);
	free(b);
	return ix;
}

size_t sindex_departments(const struct sindex *ix, const struct sdept **out)
{
	*out = ix ? ix->depts : NULL;
	return ix ? ix->ndepts : 0;
}

void sindex_free(struct sindex *ix)
{
	if (!ix)
		return;
	free(ix->depts);
	arena_free(ix->strings);
	free(ix->docs);
	smap_release(&ix->terms);
	free(ix->idf);
	free(ix->start);
	free(ix->pdoc);
	free(ix->pwtf);
	free(ix->pprim);
	smap_release(&ix->vocab);
	smap_release(&ix->pyfull);
	smap_release(&ix->pyinit);
	free(ix->chain);
	lex_free(ix->rules);
	free(ix);
}

void sindex_builder_set_rules(struct sindex_builder *b, struct lex *rules)
{
	lex_free(b->ix->rules);
	b->ix->rules = rules;
}

size_t sindex_bytes(const struct sindex *ix) { return ix ? ix->bytes : 0; }
size_t sindex_ndocs(const struct sindex *ix) { return ix ? ix->ndocs : 0; }
uint64_t sindex_generation(const struct sindex *ix) { return ix ? ix->generation : 0; }

void sindex_doc(const struct sindex *ix, uint32_t doc, struct sdoc_view *out)
{
	const struct sdoc *d = &ix->docs[doc];
	*out = (struct sdoc_view){ .kind = d->kind, .code = d->code, .name_zh = d->name_zh, .name_en = d->name_en,
				   .department = d->department, .dept_name_zh = d->dept_name_zh,
				   .dept_name_en = d->dept_name_en, .theme = d->theme, .summary_zh = d->summary_zh,
				   .summary_en = d->summary_en, .audience = d->audience, .item_type = d->item_type,
				   .outcome = d->outcome, .online_depth = d->online_depth,
				   .secondary = (d->ops & (SOP_REPLACE | SOP_RENEW | SOP_CHANGE)) != 0, .ops = d->ops,
				   .prior = d->prior };
}

/* ---- queries ------------------------------------------------------------------------------ */

#define QMAX_TERMS 256
#define QMAX_MARKS 64
#define QMAX_GROUPS 128
#define QMAX_WORDS 160
#define QMAX_SPANS 96
#define SOUND_MAX_FREQ 100 /* a window this common in jieba's dictionary is a word, not a typo */

/* A query is a set of concepts (groups): a word the citizen wrote with its sub-words, a
 * phrase with its synonyms, a bigram. A document scores, per group, its best term plus a
 * quarter of the others, so a concept said three ways does not count three times. */
struct qterm {
	uint32_t term;
	float w;
	uint16_t group;
};

struct squery {
	struct qterm t[QMAX_TERMS];
	size_t n;
	const char *gkey[QMAX_GROUPS]; /* surface of each group, kind byte first */
	float gw[QMAX_GROUPS];         /* the group's weight in the query's coverage (0: a bigram) */
	size_t ngroups;
	const char *marks[QMAX_MARKS]; /* strings to highlight (normalised) */
	size_t nmarks;
	unsigned cue; /* LEX_CUE_*: how the query asks for everything a situation takes */
	unsigned ops; /* SOP_* the query names */
	struct arena *a;
	const struct sindex *ix;
	const struct lex *lx;
};

static void q_mark(struct squery *q, const char *s, size_t n)
{
	if (q->nmarks == QMAX_MARKS || !n)
		return;
	for (size_t i = 0; i < q->nmarks; i++)
		if (strlen(q->marks[i]) == n && memcmp(q->marks[i], s, n) == 0)
			return;
	q->marks[q->nmarks++] = arena_strndup(q->a, s, n);
}

/* The group of a surface string (the same words from two routes are one concept). */
static uint16_t q_group(struct squery *q, char kind, const char *s, size_t n)
{
	for (size_t i = 0; i < q->ngroups; i++)
		if (q->gkey[i][0] == kind && strlen(q->gkey[i] + 1) == n && memcmp(q->gkey[i] + 1, s, n) == 0)
			return (uint16_t)i;
	if (q->ngroups == QMAX_GROUPS)
		return QMAX_GROUPS - 1;
	char *k = arena_alloc(q->a, n + 2);
	k[0] = kind;
	memcpy(k + 1, s, n);
	k[n + 1] = 0;
	q->gkey[q->ngroups] = k;
	q->gw[q->ngroups] = 0;
	return (uint16_t)q->ngroups++;
}

static int64_t q_term(const struct squery *q, char kind, const char *w, size_t n)
{
	char buf[256];
	if (n + 1 > sizeof(buf))
		return -1;
	buf[0] = kind;
	memcpy(buf + 1, w, n);
	return smap_find(&q->ix->terms, buf, n + 1);
}

/* Adds a term to a group if the index knows it; returns true then. */
static bool q_add(struct squery *q, char kind, const char *w, size_t n, float weight, uint16_t g)
{
	int64_t t = q_term(q, kind, w, n);
	if (t < 0)
		return false;
	if (kind != 'b') {
		/* A concept weighs what its most telling term does (weight x rarity). */
		float cw = weight * q->ix->idf[t];
		if (cw > q->gw[g])
			q->gw[g] = cw;
	}
	for (size_t i = 0; i < q->n; i++)
		if (q->t[i].term == (uint32_t)t && q->t[i].group == g) {
			if (q->t[i].w < weight)
				q->t[i].w = weight;
			return true;
		}
	if (q->n < QMAX_TERMS)
		q->t[q->n++] = (struct qterm){ (uint32_t)t, weight, g };
	if (kind != 'b')
		q_mark(q, w, n);
	return true;
}

static size_t utf8_offsets(const char *t, size_t n, size_t *off, size_t max)
{
	size_t nc = 0, i = 0;
	off[0] = 0;
	while (i < n && nc < max) {
		u8_next(t, n, &i);
		off[++nc] = i;
	}
	return nc;
}

/* A Chinese word into group g: the word, its dictionary sub-words, and when the index does
 * not know it as a word, its bigrams (养犬登记 → 养犬, 犬登, 登记). */
static void q_word(struct squery *q, const char *w, size_t n, float weight, uint16_t g, bool bigram_fallback)
{
	size_t off[64];
	size_t nc = utf8_offsets(w, n, off, 63);
	if (nc < 2 || lex_stopword(q->lx, w, n))
		return;
	bool known = q_add(q, 'w', w, n, weight, g);
	if (nc > 2)
		for (size_t len = 2; len <= 3 && len < nc; len++)
			for (size_t a = 0; a + len <= nc; a++)
				if (lex_in_dict(q->lx, w + off[a], off[a + len] - off[a]) &&
				    !lex_stopword(q->lx, w + off[a], off[a + len] - off[a]))
					q_add(q, 'w', w + off[a], off[a + len] - off[a], weight * 0.7f, g);
	if (!known && bigram_fallback)
		for (size_t a = 0; a + 2 <= nc; a++)
			if (q_add(q, 'b', w + off[a], off[a + 2] - off[a], weight * 0.6f, g))
				q_mark(q, w + off[a], off[a + 2] - off[a]);
}

/* The words of a Chinese run, as byte offsets. */
struct qwords {
	size_t from[QMAX_WORDS], to[QMAX_WORDS];
	size_t n;
	const char *base;
};

static void emit_qw(void *ctx, const char *w, size_t n)
{
	struct qwords *c = ctx;
	if (c->n < QMAX_WORDS) {
		c->from[c->n] = (size_t)(w - c->base);
		c->to[c->n++] = (size_t)(w - c->base) + n;
	}
}

/* Expansion text (a rule's official wording) into group g: Chinese words and English stems.
 * The operations it names count as the query's. */
static void q_expand_text(struct squery *q, const char *t, size_t n, float w, uint16_t g)
{
	struct sb st = SB_INIT;
	size_t i = 0;
	while (i < n) {
		size_t s = i;
		uint32_t ch = u8_next(t, n, &i);
		if (cp_is_han(ch)) {
			size_t e = u8_han_run_end(t, n, i);
			q->ops |= lex_ops(q->lx, t + s, e - s);
			/* The whole expansion word (it may be an index word as such); else its words
			 * and its bigrams, which reward the phrase where it occurs whole. */
			if (q_term(q, 'w', t + s, e - s) >= 0) {
				q_word(q, t + s, e - s, w, g, false);
			} else {
				struct qwords ws = { .base = t };
				lex_segment(q->lx, t + s, e - s, false, emit_qw, &ws);
				for (size_t k = 0; k < ws.n; k++)
					q_word(q, t + ws.from[k], ws.to[k] - ws.from[k], w, g, true);
				size_t off[64];
				size_t nc = utf8_offsets(t + s, e - s, off, 63);
				for (size_t k = 0; k + 2 <= nc; k++)
					q_add(q, 'b', t + s + off[k], off[k + 2] - off[k], w * 0.6f, g);
			}
			i = e;
		} else if (cp_is_alnum_ascii(ch)) {
			size_t e = i;
			while (e < n && cp_is_alnum_ascii((unsigned char)t[e]))
				e++;
			sb_reset(&st);
			lex_stem(t + s, e - s, &st);
			q->ops |= lex_ops(q->lx, st.buf, st.len);
			q_add(q, 'e', st.buf, st.len, w, g);
			i = e;
		}
	}
	sb_release(&st);
}

/* The rules (shipped, then administrators') whose phrase is exactly w: their wording joins
 * w's group. Returns whether there was one. */
static bool q_synonyms(struct squery *q, const char *w, size_t n, float weight)
{
	const char *terms[8];
	float rw[8];
	size_t k = lex_rules(q->lx, w, n, terms, rw, 8);
	k += lex_rules(q->ix->rules, w, n, terms + k, rw + k, 8 - k);
	if (!k)
		return false;
	uint16_t g = q_group(q, cp_is_alnum_ascii((unsigned char)w[0]) ? 'e' : 'w', w, n);
	for (size_t i = 0; i < k; i++)
		q_expand_text(q, terms[i], strlen(terms[i]), rw[i] * weight, g);
	return true;
}

/* Chinese words of the vocabulary filed under a pinyin key; appended to out separated by
 * spaces. Returns how many. */
static size_t py_words(const struct squery *q, const struct smap *m, const char *key, size_t n, size_t max,
		       struct sb *out)
{
	int64_t e = smap_find(m, key, n);
	size_t k = 0;
	if (e < 0)
		return 0;
	for (uint32_t c = m->ent[e].val; c && k < max; c = q->ix->chain[c - 1].next, k++) {
		uint32_t wid = q->ix->chain[c - 1].word;
		sb_addch(out, ' ');
		sb_add(out, smap_key(&q->ix->vocab, wid), q->ix->vocab.ent[wid].len);
	}
	return k;
}

/* Splits a Latin token into full-pinyin words of the vocabulary (shebaokaguashi), longest
 * first with backtracking; appends the words found. */
static bool py_split(const struct squery *q, const char *s, size_t n, struct sb *out, int depth)
{
	if (!n)
		return true;
	if (depth > 6)
		return false;
	for (size_t k = n; k >= 2; k--) {
		if (smap_find(&q->ix->pyfull, s, k) < 0)
			continue;
		size_t mark = out->len;
		py_words(q, &q->ix->pyfull, s, k, 2, out);
		if (py_split(q, s + k, n - k, out, depth + 1))
			return true;
		out->len = mark;
		out->buf[mark] = 0;
	}
	return false;
}

/* A Latin word: its stem, rules on it and on the two-word phrase it ends (pinyin readings
 * into han_extra). */
static void q_latin(struct squery *q, const char *t, size_t s, size_t e, size_t prev_s, bool has_prev,
		    struct sb *prev_stem, struct sb *han_extra)
{
	const char *w = t + s;
	size_t n = e - s;
	struct sb st = SB_INIT;
	bool stop = lex_stopword(q->lx, w, n), english = false;
	lex_stem(w, n, &st);
	q->ops |= lex_ops(q->lx, st.buf, st.len);
	if (!stop) {
		english = q_add(q, 'e', st.buf, st.len, QW_EN, q_group(q, 'e', w, n));
		q_synonyms(q, st.buf, st.len, 1.0f); /* English rules are kept by stem */
	}
	if (has_prev) { /* two-word phrases ("housing fund", "id card", "sole trader") */
		sb_addch(prev_stem, ' ');
		sb_add(prev_stem, st.buf, st.len);
		q_synonyms(q, prev_stem->buf, prev_stem->len, 1.0f);
		q->cue |= lex_cue(q->lx, t + prev_s, e - prev_s);
		q->ops |= lex_ops(q->lx, prev_stem->buf, prev_stem->len);
	}
	sb_reset(prev_stem);
	sb_add(prev_stem, st.buf, st.len);
	q->cue |= lex_cue(q->lx, w, n);
	/* Pinyin: a whole word, words run together, or initials (three letters or more, and
	 * not an English word of the documents). */
	bool letters = true;
	for (size_t i = 0; i < n; i++)
		if (w[i] < 'a' || w[i] > 'z')
			letters = false;
	if (letters && n >= 2 && !stop) {
		size_t mark = han_extra->len;
		if (!py_words(q, &q->ix->pyfull, w, n, 3, han_extra) && !py_split(q, w, n, han_extra, 0)) {
			han_extra->len = mark;
			han_extra->buf[mark] = 0;
			if (n >= 3 && n <= 6 && !english)
				py_words(q, &q->ix->pyinit, w, n, 3, han_extra);
		}
	}
	sb_release(&st);
}

enum { QH_BIGRAMS = 1, QH_SOUND = 2 };

static void q_han(struct squery *q, const char *t, size_t n, float w, unsigned flags);

/* Sound-alike words: a window of 2-5 characters starting where a word starts, that is neither
 * a word of the vocabulary nor a common word, and sounds exactly like a vocabulary word
 * differing in one character (身分证 → 身份证, 营业执招 → 营业执照, 公基金 → 公积金; not 工证
 * inside 焊工证). */
static void q_sound(struct squery *q, const char *t, size_t n, const size_t *off, size_t nc, const bool *start, float w)
{
	for (size_t a = 0; a + 2 <= nc; a++)
		for (size_t b = a + 2; b <= nc && b - a <= 5 && start[a]; b++) {
			const char *ws = t + off[a];
			size_t wl = off[b] - off[a];
			/* grammar is not mistyped meaning (不办 is not 补办) */
			if (lex_stopword(q->lx, t + off[b - 1], off[b] - off[b - 1]) ||
			    (b == a + 2 && lex_stopword(q->lx, ws, off[a + 1] - off[a])))
				break;
			if (smap_find(&q->ix->vocab, ws, wl) >= 0 || lex_dict_freq(q->lx, ws, wl) >= SOUND_MAX_FREQ)
				continue;
			char key[128];
			size_t kl = 0;
			bool ok = true;
			for (size_t k = a; k < b && ok; k++) {
				size_t p = off[k];
				const char *py = lex_pinyin(q->lx, u8_next(t, n, &p));
				size_t pl = py ? strlen(py) : 0;
				if (!py || kl + pl >= sizeof(key))
					ok = false;
				else {
					memcpy(key + kl, py, pl);
					kl += pl;
				}
			}
			if (!ok)
				continue;
			int64_t e = smap_find(&q->ix->pyfull, key, kl);
			if (e < 0)
				continue;
			for (uint32_t c = q->ix->pyfull.ent[e].val; c; c = q->ix->chain[c - 1].next) {
				uint32_t wid = q->ix->chain[c - 1].word;
				const char *cand = smap_key(&q->ix->vocab, wid);
				size_t cl = q->ix->vocab.ent[wid].len, diff = 0, i = 0, j = 0;
				while (i < wl && j < cl) {
					if (u8_next(ws, wl, &i) != u8_next(cand, cl, &j))
						diff++;
				}
				if (diff == 1 && i == wl && j == cl)
					q_han(q, cand, cl, w * QW_SOUND, 0);
			}
		}
}

/* A run of Chinese characters. It is segmented into words first (jieba's dictionary); every
 * rule, operation word, life-event cue and index phrase is looked up on whole words and on
 * runs of consecutive words, never on a part of a word: 领养 is not read inside 领养老金,
 * nor 交房 inside 交房租. Then each word the citizen wrote is a concept of its own unless a
 * rule's phrase covers it, with sound-alike words for typos and bigrams for partial matches. */
static void q_han(struct squery *q, const char *t, size_t n, float w, unsigned flags)
{
	struct qwords ws = { .base = t };
	lex_segment(q->lx, t, n, false, emit_qw, &ws);
	size_t maxsyn = lex_syn_maxchars(q->lx);
	if (lex_syn_maxchars(q->ix->rules) > maxsyn)
		maxsyn = lex_syn_maxchars(q->ix->rules);
	if (maxsyn < 10)
		maxsyn = 10; /* index phrases are up to ten characters */
	/* Phrases: runs of up to six whole words. A rule's phrase inside a longer rule's
	 * phrase gives way to it (育儿津贴 is one concept, not 育儿津贴 and 津贴). */
	struct qspan {
		uint16_t a, b; /* words a..b */
		bool rule, phrase;
	} sp[QMAX_SPANS];
	size_t nsp = 0;
	for (size_t a = 0; a < ws.n; a++) {
		size_t chars = 0;
		for (size_t b = a; b < ws.n && b < a + 6; b++) {
			chars += str_utf8_chars(t + ws.from[b], ws.to[b] - ws.from[b]);
			if (chars > maxsyn)
				break;
			const char *ph = t + ws.from[a];
			size_t pl = ws.to[b] - ws.from[a];
			if (b < a + 3)
				q->ops |= lex_ops(q->lx, ph, pl);
			q->cue |= lex_cue(q->lx, ph, pl);
			if (lex_stopword(q->lx, ph, pl))
				continue;
			const char *terms[1];
			bool rule = lex_synonyms(q->lx, ph, pl, terms, 1) || lex_synonyms(q->ix->rules, ph, pl, terms, 1);
			/* words run together that the documents hold as one phrase */
			bool phrase = b > a && q_term(q, 'w', ph, pl) >= 0;
			if ((rule || phrase) && nsp < QMAX_SPANS)
				sp[nsp++] = (struct qspan){ (uint16_t)a, (uint16_t)b, rule, phrase };
		}
	}
	/* covered[i]: the group of the longest phrase covering word i and more (-1: none) */
	int covered[QMAX_WORDS];
	size_t cover_len[QMAX_WORDS];
	for (size_t i = 0; i < ws.n; i++) {
		covered[i] = -1;
		cover_len[i] = 0;
	}
	for (size_t s = 0; s < nsp; s++) {
		bool inner = false;
		for (size_t o = 0; o < nsp && !inner; o++)
			inner = o != s && sp[o].rule && sp[o].a <= sp[s].a && sp[s].b <= sp[o].b &&
				sp[o].b - sp[o].a > sp[s].b - sp[s].a;
		if (inner)
			continue;
		const char *ph = t + ws.from[sp[s].a];
		size_t pl = ws.to[sp[s].b] - ws.from[sp[s].a];
		uint16_t g = q_group(q, 'w', ph, pl);
		if (sp[s].rule)
			q_synonyms(q, ph, pl, w);
		if (sp[s].phrase)
			q_add(q, 'w', ph, pl, w, g);
		if (sp[s].b > sp[s].a)
			for (size_t k = sp[s].a; k <= sp[s].b; k++)
				if (pl > cover_len[k]) {
					covered[k] = g;
					cover_len[k] = pl;
				}
	}
	for (size_t i = 0; i < ws.n; i++) {
		const char *wd = t + ws.from[i];
		size_t wl = ws.to[i] - ws.from[i];
		/* A word inside a phrase: the phrase's concept stands for it (租房 in 公租房),
		 * though the word itself still counts there. */
		int g = covered[i] >= 0 ? covered[i] : q_group(q, 'w', wd, wl);
		q_word(q, wd, wl, w, (uint16_t)g, (flags & QH_BIGRAMS) == 0);
		/* A compound neither the documents nor the rules know is read through its
		 * characters' everyday meanings (狗牌: 狗; 套房: 房). */
		const char *terms[1];
		if (covered[i] < 0 && wl > 3 && q_term(q, 'w', wd, wl) < 0 && !lex_stopword(q->lx, wd, wl) &&
		    !lex_synonyms(q->lx, wd, wl, terms, 1))
			for (size_t k = 0; k < wl;) {
				size_t c0 = k;
				u8_next(wd, wl, &k);
				if (lex_synonyms(q->lx, wd + c0, k - c0, terms, 1))
					q_synonyms(q, wd + c0, k - c0, w * QW_PART);
			}
	}
	if (flags & QH_SOUND) {
		size_t off[SEARCH_QUERY_MAX + 1];
		size_t nc = utf8_offsets(t, n, off, SEARCH_QUERY_MAX);
		bool start[SEARCH_QUERY_MAX + 1] = { false };
		for (size_t i = 0, c = 0; i < ws.n; i++) {
			while (c < nc && off[c] < ws.from[i])
				c++;
			if (c < nc && off[c] == ws.from[i])
				start[c] = true;
		}
		q_sound(q, t, n, off, nc, start, w);
	}
	if (flags & QH_BIGRAMS)
		for (size_t i = 0; i < ws.n; i++) {
			/* Bigrams within the words a citizen wrote (stop words say nothing). */
			const char *wd = t + ws.from[i];
			size_t wl = ws.to[i] - ws.from[i];
			if (lex_stopword(q->lx, wd, wl))
				continue;
			size_t off[64];
			size_t nc = utf8_offsets(wd, wl, off, 63);
			for (size_t a = 0; a + 2 <= nc; a++)
				q_add(q, 'b', wd + off[a], off[a + 2] - off[a], QW_BIGRAM * w,
				      q_group(q, 'b', wd + off[a], off[a + 2] - off[a]));
		}
}

struct squery *squery_parse(const struct sindex *ix, const struct lex *lx, struct arena *a, const char *q0, size_t n0)
{
	struct squery *q = arena_zalloc(a, sizeof(*q));
	q->a = a;
	q->ix = ix;
	q->lx = lx;
	if (!ix)
		return q;
	size_t n = 0;
	while (n < n0 && n < SEARCH_QUERY_MAX) {
		size_t k = n;
		u8_next(q0, n0, &k);
		if (k > SEARCH_QUERY_MAX)
			break;
		n = k;
	}
	struct sb t0 = SB_INIT, t = SB_INIT, extra = SB_INIT, prev_stem = SB_INIT;
	lex_normalize(lx, q0, n, true, &t0);
	lex_contractions(t0.buf, t0.len, &t);
	sb_release(&t0);
	if (t.len > SEARCH_QUERY_MAX * 2)
		t.len = SEARCH_QUERY_MAX * 2; /* NFKC may expand; cut (a partial character is skipped) */
	size_t i = 0, prev_s = 0;
	bool has_prev = false;
	while (i < t.len) {
		size_t s = i;
		uint32_t c = u8_next(t.buf, t.len, &i);
		if (cp_is_han(c)) {
			size_t e = u8_han_run_end(t.buf, t.len, i);
			q_han(q, t.buf + s, e - s, 1.0f, QH_BIGRAMS | QH_SOUND);
			i = e;
			has_prev = false;
		} else if (cp_is_alnum_ascii(c)) {
			size_t e = i;
			while (e < t.len && cp_is_alnum_ascii((unsigned char)t.buf[e]))
				e++;
			q_latin(q, t.buf, s, e, prev_s, has_prev, &prev_stem, &extra);
			prev_s = s;
			has_prev = true;
			i = e;
		} else if (c != ' ' && c != '-') {
			has_prev = false;
		}
	}
	/* Words recognised from pinyin go through the Chinese analysis (synonyms included). */
	for (size_t k = 0; k < extra.len;) {
		while (k < extra.len && extra.buf[k] == ' ')
			k++;
		size_t e = k;
		while (e < extra.len && extra.buf[e] != ' ')
			e++;
		/* A word of the documents is a likelier reading than one only the dictionary knows
		 * (jsz: 驾驶证 before 教师证). */
		if (e > k)
			q_han(q, extra.buf + k, e - k, q_term(q, 'w', extra.buf + k, e - k) >= 0 ? QW_PINYIN : QW_PINYIN * 0.8f, 0);
		k = e;
	}
	sb_release(&t);
	sb_release(&extra);
	sb_release(&prev_stem);
	return q;
}

size_t squery_nterms(const struct squery *sq)
{
	return sq->n;
}

void squery_describe(const struct squery *sq, struct sb *out)
{
	for (size_t i = 0; i < sq->n; i++) {
		const char *k = smap_key(&sq->ix->terms, sq->t[i].term);
		sb_addf(out, "%s%u%c:%s:%.2f", i ? " " : "", sq->t[i].group, k[0], k + 1, (double)sq->t[i].w);
	}
	if (sq->cue)
		sb_addf(out, " [cue %#x]", sq->cue);
	if (sq->ops)
		sb_addf(out, " [ops %#x]", sq->ops);
}

void squery_explain(const struct sindex *ix, const struct squery *sq, uint32_t doc, struct sb *out)
{
	for (size_t i = 0; i < sq->n; i++) {
		uint32_t t = sq->t[i].term;
		for (uint32_t p = ix->start[t]; p < ix->start[t + 1]; p++)
			if (ix->pdoc[p] == doc) {
				const char *k = smap_key(&ix->terms, t);
				sb_addf(out, " %u%c:%s=%.2f%s", sq->t[i].group, k[0], k + 1,
					(double)(sq->t[i].w * ix->idf[t] * ix->pwtf[p]), ix->pprim[p] & 2 ? "*" : "");
			}
	}
}

/* Per-thread accumulators, grown to the largest index seen, freed when the thread ends. */
struct scratch {
	float *acc, *gmax, *gsum, *cov;
	uint8_t *gprim, *prim;
	uint32_t *touched, *gtouched;
	size_t cap;
};
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

/* The accumulators' arrays (not s itself). */
static void scratch_arrays_free(struct scratch *s)
{
	free(s->acc);
	free(s->gmax);
	free(s->gsum);
	free(s->cov);
	free(s->gprim);
	free(s->prim);
	free(s->touched);
	free(s->gtouched);
}

static void scratch_free(void *p)
{
	scratch_arrays_free(p);
	free(p);
}

static void scratch_key_make(void)
{
	pthread_key_create(&scratch_key, scratch_free);
}

static struct scratch *scratch_get(size_t n)
{
	pthread_once(&scratch_once, scratch_key_make);
	struct scratch *s = pthread_getspecific(scratch_key);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		pthread_setspecific(scratch_key, s);
	}
	if (s->cap < n) {
		scratch_arrays_free(s);
		s->cap = n;
		s->acc = xcalloc(n, sizeof(float));
		s->gmax = xcalloc(n, sizeof(float));
		s->gsum = xcalloc(n, sizeof(float));
		s->cov = xcalloc(n, sizeof(float));
		s->gprim = xcalloc(n, 1);
		s->prim = xcalloc(n, 1);
		s->touched = xmalloc(n * sizeof(uint32_t));
		s->gtouched = xmalloc(n * sizeof(uint32_t));
	}
	return s;
}

static bool filter_ok(const struct sdoc *d, const struct squery_filter *f)
{
	if (!f)
		return true;
	if (f->kind && d->kind != f->kind)
		return false;
	if (f->audience && !(d->audience & f->audience))
		return false;
	if (f->department && (!d->department || strcmp(f->department, d->department)))
		return false;
	if (f->theme && (!d->theme || strcmp(f->theme, d->theme)))
		return false;
	return true;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct shit *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* The direction of the request against the item's: an item that does something else to the
 * thing (issuing it when the citizen lost it, replacing it when the citizen sells it) ranks
 * lower; so does an item that replaces, renews or changes when the query says nothing of the
 * kind ("营业执照怎么办" asks for a first licence). */
static float ops_factor(unsigned q, unsigned d)
{
	unsigned qd = q & SOP_DERIVED, dd = d & SOP_DERIVED;
	float f = 1.0f;
	if (qd) {
		if (!(dd & qd))
			f = dd ? rank.ops_other : rank.ops_default;
	} else if (dd & (SOP_REPLACE | SOP_RENEW | SOP_CHANGE)) {
		f = q & SOP_NEW ? rank.ops_other : rank.secondary;
	} else if (dd) { /* closing or transferring, when the query says nothing of it */
		f = q & SOP_NEW ? rank.ops_other : rank.secondary_end;
	}
	if ((q & SOP_QUERY) && (d & SOP_QUERY))
		f *= rank.ops_query;
	return f;
}

size_t sindex_search(const struct sindex *ix, const struct squery *sq, const struct squery_filter *f,
		     struct shit *out, size_t max, size_t *total)
{
	*total = 0;
	if (!ix || !sq || !sq->n || !ix->ndocs)
		return 0;
	struct scratch *sc = scratch_get(ix->ndocs);
	float *acc = sc->acc, *gmax = sc->gmax, *gsum = sc->gsum, *cov = sc->cov;
	uint8_t *gprim = sc->gprim, *prim = sc->prim;
	uint32_t *touched = sc->touched, *gtouched = sc->gtouched;
	size_t nt = 0;
	float gwtotal = 0;
	for (size_t g = 0; g < sq->ngroups; g++) {
		size_t ng = 0;
		gwtotal += sq->gw[g];
		for (size_t i = 0; i < sq->n; i++) {
			if (sq->t[i].group != g)
				continue;
			uint32_t t = sq->t[i].term;
			float qw = sq->t[i].w * ix->idf[t];
			for (uint32_t p = ix->start[t]; p < ix->start[t + 1]; p++) {
				uint32_t d = ix->pdoc[p];
				float c = qw * ix->pwtf[p];
				if (gsum[d] == 0)
					gtouched[ng++] = d;
				gsum[d] += c;
				if (c > gmax[d])
					gmax[d] = c;
				gprim[d] |= ix->pprim[p];
			}
		}
		for (size_t k = 0; k < ng; k++) {
			uint32_t d = gtouched[k];
			if (acc[d] == 0)
				touched[nt++] = d;
			acc[d] += gmax[d] + rank.group_rest * (gsum[d] - gmax[d]);
			/* Coverage: the concepts a document answers, fully where it says what it is. */
			cov[d] += sq->gw[g] * (gprim[d] & 1 ? 1.0f : 0.5f);
			if (sq->gw[g] > 0)
				prim[d] |= gprim[d];
			gmax[d] = gsum[d] = 0;
			gprim[d] = 0;
		}
	}
	/* Keep the best max in out (an insertion buffer; max is at most a few dozen). */
	size_t nout = 0;
	for (size_t i = 0; i < nt; i++) {
		uint32_t d = touched[i];
		float s = acc[d], c = gwtotal > 0 ? cov[d] / gwtotal : 1.0f;
		bool pr = (prim[d] & 2) != 0;
		acc[d] = cov[d] = 0;
		prim[d] = 0;
		const struct sdoc *doc = &ix->docs[d];
		if (!filter_ok(doc, f))
			continue;
		s *= 1.0f - rank.coverage + rank.coverage * c;
		/* A life event asked for as such ("生孩子要办哪些手续") wants the bundle first, when the
		 * bundle itself speaks of it; otherwise an item answers the question. */
		if (doc->kind == SDOC_BUNDLE)
			s *= lex_cue_is_life_event(sq->cue) && pr ? rank.bundle_cue : rank.bundle_nocue;
		else
			s *= ops_factor(sq->ops, doc->ops);
		s *= 1.0f + 0.1f * doc->prior;
		(*total)++;
		struct shit h = { d, s };
		if (nout < max) {
			out[nout++] = h;
		} else if (max && hit_cmp(&h, &out[nout - 1]) < 0) {
			out[nout - 1] = h;
		} else {
			continue;
		}
		for (size_t k = nout - 1; k > 0 && hit_cmp(&out[k], &out[k - 1]) < 0; k--) {
			struct shit tmp = out[k];
			out[k] = out[k - 1];
			out[k - 1] = tmp;
		}
	}
	return nout;
}

/* ---- highlighting ------------------------------------------------------------------------- */

void squery_highlight(const struct squery *sq, const char *text, struct sb *out)
{
	if (!text)
		return;
	size_t n = strlen(text);
	if (!sq || !sq->nmarks || n > 4096) {
		sb_add_html(out, text, n);
		return;
	}
	uint8_t stackmask[1024], *mask = n <= sizeof(stackmask) ? stackmask : xmalloc(n);
	memset(mask, 0, n);
	for (size_t m = 0; m < sq->nmarks; m++) {
		const char *needle = sq->marks[m];
		size_t nl = strlen(needle);
		if (!nl || nl > n)
			continue;
		bool latin = cp_is_alnum_ascii((unsigned char)needle[0]);
		for (size_t i = 0; i + nl <= n; i++) {
			if (latin) {
				if (i > 0 && cp_is_alnum_ascii((unsigned char)text[i - 1]))
					continue;
				if (strncasecmp(text + i, needle, nl) != 0)
					continue;
				size_t e = i + nl;
				while (e < n && cp_is_alnum_ascii((unsigned char)text[e]))
					e++;
				memset(mask + i, 1, e - i);
			} else if (memcmp(text + i, needle, nl) == 0) {
				memset(mask + i, 1, nl);
			}
		}
	}
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && mask[e] == mask[i])
			e++;
		if (mask[i])
			sb_adds(out, "<mark>");
		sb_add_html(out, text + i, e - i);
		if (mask[i])
			sb_adds(out, "</mark>");
		i = e;
	}
	if (mask != stackmask)
		free(mask);
}
