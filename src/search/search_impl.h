/* search_impl.h: the search module's private interface, shared by its files only.
 *
 * - smap.c: a string -> uint32 hash map with its own key pool (dictionaries, vocabularies).
 * - lex.c: lexical resources loaded once at start and read-only afterwards: jieba's word
 *   frequencies (segmentation), the pinyin of every common Han character (ICU Han-Latin),
 *   the stop words and the synonym / colloquial dictionary; normalisation (ICU NFKC
 *   case-fold, OpenCC Traditional / Hong Kong / Taiwan -> Simplified), segmentation,
 *   English stemming.
 * - index.c: documents -> in-memory inverted index with BM25F weights precomputed per
 *   posting; query analysis (words, bigrams, synonyms, pinyin, homophones, English) and
 *   ranking with filters; highlighting.
 * - docs.c: where documents come from (one function per source).
 * - guide.c: the guided service (智能导办) questionnaire.
 * - pages.c / api.c: HTML and JSON handlers; eval.c: search-eval and search-bench.
 */
#ifndef GH_SEARCH_IMPL_H
#define GH_SEARCH_IMPL_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/sb.h"

struct db;

/* ---- string map (smap.c) ---------------------------------------------------------------- */

struct smap_ent {
	uint32_t hash, off, len, val;
};
struct smap {
	uint32_t *slots; /* entry index + 1; 0 = empty */
	size_t cap, n;
	struct smap_ent *ent;
	size_t entcap;
	char *pool;
	size_t poollen, poolcap;
};
void smap_init(struct smap *m);
void smap_release(struct smap *m);
/* Inserts key (copied) with val unless present; returns the entry index. *existed (may be
 * NULL) tells which. */
uint32_t smap_put(struct smap *m, const char *k, size_t n, uint32_t val, bool *existed);
/* The entry index of key, or -1. */
int64_t smap_find(const struct smap *m, const char *k, size_t n);
static inline const char *smap_key(const struct smap *m, uint32_t e) { return m->pool + m->ent[e].off; }
size_t smap_bytes(const struct smap *m);

/* ---- UTF-8 -------------------------------------------------------------------------------- */

/* Decodes the code point at s[*i] (n bytes in all) and advances *i; invalid bytes give
 * U+FFFD and advance one byte. */
uint32_t u8_next(const char *s, size_t n, size_t *i);
void u8_put(struct sb *sb, uint32_t cp);
static inline bool cp_is_han(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0x20000 && c <= 0x2FFFF);
}
static inline bool cp_is_alnum_ascii(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}
/* The end (byte offset) of the run of Han characters of s (n bytes) going on at i. */
size_t u8_han_run_end(const char *s, size_t n, size_t i);

/* ---- lexical resources (lex.c) ------------------------------------------------------------ */

struct lex;

/* A synonym rule: a query containing one of its phrases also searches its terms. */
struct syn_rule {
	const char *terms; /* official wording, space-separated */
};

/* Loads data_dir/search/{dict.txt, stopwords.txt, synonyms.txt}. extra_synonyms (may be
 * NULL) holds administrators' rules in the synonyms.txt line format. */
int lex_load(const char *data_dir, const char *extra_synonyms, struct lex **out, char *err, size_t errlen);
void lex_free(struct lex *lx);
size_t lex_bytes(const struct lex *lx);

/* NFKC case-fold, then Traditional / HK / TW wording -> Simplified (only when non-ASCII),
 * appended to out. Thread-safe (OpenCC handles are per thread). */
void lex_normalize(const struct lex *lx, const char *s, size_t n, bool convert_traditional, struct sb *out);
/* Segments a run of Han text (jieba's dictionary, maximum-probability route). Calls emit for
 * each word (byte offsets into s); in search mode, words longer than two characters also
 * give their dictionary sub-words of two and three characters. */
typedef void (*lex_emit_fn)(void *ctx, const char *w, size_t n);
void lex_segment(const struct lex *lx, const char *s, size_t n, bool search_mode, lex_emit_fn emit, void *ctx);
/* Toneless pinyin syllable of a Han character, or NULL. */
const char *lex_pinyin(const struct lex *lx, uint32_t cp);
bool lex_stopword(const struct lex *lx, const char *w, size_t n);
bool lex_in_dict(const struct lex *lx, const char *w, size_t n);
/* jieba's frequency of w (0 when not a dictionary word). */
uint32_t lex_dict_freq(const struct lex *lx, const char *w, size_t n);
/* Operations (data/search/actions.txt): what is to be done — getting something for the first
 * time, replacing a lost one, renewing, changing, closing, transferring or moving, looking
 * up. */
enum {
	SOP_NEW = 1,
	SOP_REPLACE = 2,
	SOP_RENEW = 4,
	SOP_CHANGE = 8,
	SOP_CLOSE = 16,
	SOP_TRANSFER = 32,
	SOP_QUERY = 64,
};
/* Operations done to something one already has (the "direction" of a request). */
#define SOP_DERIVED (SOP_REPLACE | SOP_RENEW | SOP_CHANGE | SOP_CLOSE | SOP_TRANSFER)
/* The operations a word names (normalised Chinese, or an English stem); a Chinese verb
 * followed by a particle or complement in the same word (丢了, 卖掉, 转过去) counts. */
unsigned lex_ops(const struct lex *lx, const char *w, size_t n);
/* The operations a text names: its words and runs of up to three words, never part of a
 * word (an item's name). */
unsigned lex_text_ops(const struct lex *lx, const char *s);
/* English: lower-case ASCII word -> Snowball stem (appended to out). */
void lex_stem(const char *w, size_t n, struct sb *out);
/* Latin words of s (normalised) stemmed, joined by single spaces, appended to out. */
void lex_stem_words(const char *s, size_t n, struct sb *out);
/* English contractions spelled out in normalised text (can't -> can not, I'm -> i am, the
 * possessive 's dropped), appended to out. */
void lex_contractions(const char *s, size_t n, struct sb *out);
/* Synonym rules whose phrase is exactly w (normalised); returns the number found (<= max). */
size_t lex_synonyms(const struct lex *lx, const char *w, size_t n, const char **terms, size_t max);
/* The same with each rule's weight: LEX_RULE_WEIGHT, or 1 for an equivalence ("a = b"). */
#define LEX_RULE_WEIGHT 0.9f
size_t lex_rules(const struct lex *lx, const char *w, size_t n, const char **terms, float *weights, size_t max);
/* Longest synonym phrase in characters (to bound substring look-ups). */
size_t lex_syn_maxchars(const struct lex *lx);
/* Every synonym phrase and term, for the pinyin vocabulary. */
void lex_each_syn_word(const struct lex *lx, lex_emit_fn emit, void *ctx);
/* How a query asks for everything a life event takes (data/search/life_events.txt): a phrase
 * that says so (一件事, 一起办), or a word for procedures (手续, 流程, paperwork) together with
 * one asking for their whole (哪些, 全部, what). lex_cue gives the kinds w is. */
enum { LEX_CUE_PHRASE = 1, LEX_CUE_NOUN = 2, LEX_CUE_MARKER = 4, LEX_CUE_MATERIAL = 8 };
unsigned lex_cue(const struct lex *lx, const char *w, size_t n);
/* Asking which documents to bring (证件, 材料, documents) is a question about one item. */
static inline bool lex_cue_is_life_event(unsigned cue)
{
	return (cue & LEX_CUE_PHRASE) ||
	       ((cue & LEX_CUE_NOUN) && (cue & LEX_CUE_MARKER) && !(cue & LEX_CUE_MATERIAL));
}

/* ---- documents and index (docs.c, index.c) ------------------------------------------------ */

/* F_ALIAS: what people call a thing (the catalog's aliases: 俗称, 常用名). */
enum sfield { F_NAME, F_KEYWORDS, F_ALIAS, F_OUTCOME, F_MATERIALS, F_CONDITIONS, F_DEPT, F_BODY, F_N };

/* What a document is; SDOC_INFO: a published announcement or policy document (src/publish);
 * SDOC_FAQ: a consultation's public answer (src/interact), whose code is its item's. */
enum sdoc_kind { SDOC_ITEM = 1, SDOC_BUNDLE = 2, SDOC_INFO = 3, SDOC_FAQ = 4 };

/* A document as a source hands it over (strings copied by the builder). */
struct sdoc_in {
	int kind;
	const char *code, *name_zh, *name_en;
	const char *department; /* code, may be NULL (bundles: the first item's) */
	const char *dept_name_zh, *dept_name_en;
	const char *theme;      /* code, may be NULL */
	unsigned audience;      /* 1 individual, 2 enterprise */
	const char *text[F_N][2]; /* per field: zh, en (NULL = none); F_NAME is taken from names */
	const char *summary_zh, *summary_en; /* shown under the title */
	double usage;           /* applications filed (the prior) */
	const char *item_type, *outcome; /* codes, may be NULL (the guided service asks about them) */
	int online_depth;
};

struct sindex;
struct sindex_builder;

struct sindex_builder *sindex_builder_new(const struct lex *lx);
void sindex_builder_add(struct sindex_builder *b, const struct sdoc_in *d);
/* Finishes the index (the builder is consumed). */
struct sindex *sindex_builder_finish(struct sindex_builder *b, uint64_t generation);
void sindex_free(struct sindex *ix);
size_t sindex_bytes(const struct sindex *ix);
size_t sindex_ndocs(const struct sindex *ix);
uint64_t sindex_generation(const struct sindex *ix);

/* Labels of the catalog's vocabularies (data/catalog/themes.json, ecert_types.json). */
struct search_labels {
	struct json_t *themes, *ecerts;
};
/* Reads every document source from the database into a new index. */
typedef void (*sdoc_tap_fn)(void *ctx, const struct sdoc_in *d);
void sindex_builder_set_tap(struct sindex_builder *b, sdoc_tap_fn tap, void *ctx);
/* tap (may be NULL) sees every document too (search-eval feeds FTS5 the same documents). */
int search_docs_build(struct db *db, const struct lex *lx, struct lex *rules, const struct search_labels *lb,
		      uint64_t generation, sdoc_tap_fn tap, void *tapctx, struct sindex **out);

struct squery_filter {
	unsigned audience;      /* 0 = any */
	const char *department; /* NULL = any */
	const char *theme;      /* NULL = any */
	int kind;               /* 0 = any, SDOC_* */
};

struct shit {
	uint32_t doc;
	float score;
};

struct sdoc_view {
	int kind;
	const char *code, *name_zh, *name_en, *department, *dept_name_zh, *dept_name_en, *theme;
	const char *summary_zh, *summary_en;
	unsigned audience;
	const char *item_type, *outcome;
	int online_depth;
	bool secondary; /* replaces, renews or changes something one has */
	unsigned ops;   /* SOP_* its name says */
	float prior;
};

/* The analysed query: terms with weights and the surface strings to highlight. */
struct squery;
/* Analyses q (at most SEARCH_QUERY_MAX bytes are looked at). Lives in a. */
struct squery *squery_parse(const struct sindex *ix, const struct lex *lx, struct arena *a, const char *q, size_t n);
size_t squery_nterms(const struct squery *sq);
/* Debug listing of the terms ("term:weight ..."). */
void squery_describe(const struct squery *sq, struct sb *out);
/* Debug listing of what each term of sq adds to doc's score. */
void squery_explain(const struct sindex *ix, const struct squery *sq, uint32_t doc, struct sb *out);
/* The ranking's factors by name (bundle_cue, ops_default, coverage ...): sets one to v (NaN:
 * leaves it) and gives the old value; -1 for an unknown name. Not thread-safe: for
 * search-eval, before any search runs. */
int sindex_param(const char *name, double v, double *old);
void sindex_params_describe(struct sb *out);
/* Ranks documents: up to max hits, best first, *total = all matches. */
size_t sindex_search(const struct sindex *ix, const struct squery *sq, const struct squery_filter *f,
		     struct shit *out, size_t max, size_t *total);
void sindex_doc(const struct sindex *ix, uint32_t doc, struct sdoc_view *out);
/* The departments of the indexed documents, by code. */
struct sdept {
	const char *code, *name_zh, *name_en;
};
size_t sindex_departments(const struct sindex *ix, const struct sdept **out);
/* Appends text HTML-escaped with the query's matches in <mark>. */
void squery_highlight(const struct squery *sq, const char *text, struct sb *out);

#define SEARCH_QUERY_MAX 400 /* bytes of a query that are analysed (about 130 Chinese characters) */

/* Administrators' synonym rules (a lex with rules only, may be NULL): the index owns them. */
void sindex_builder_set_rules(struct sindex_builder *b, struct lex *rules);
/* A lex holding only the rules of text (the synonyms.txt line format), normalised with base's
 * converters (base may be NULL: no Traditional conversion). */
struct lex *lex_rules_new(const struct lex *base, const char *text);

/* ---- evaluation sets against the rules (leak.c) --------------------------------------------- */

/* Every entry people wrote for the search (rule files, word lists, the catalog's aliases),
 * normalised for comparing with queries. */
struct leak_set;
#define SEARCH_LEAK_JACCARD 0.75 /* bigram overlap from which a query and an entry are close */
struct leak_hit {
	const char *entry, *source;
	double jaccard;
};
/* Loads data_dir's entries (NULL: none). */
struct leak_set *search_leak_load(const struct lex *lx, const char *data_dir);
void search_leak_add(struct leak_set *ls, const char *text, const char *source);
size_t search_leak_size(const struct leak_set *ls);
void search_leak_free(struct leak_set *ls);
/* Entries close to query: returns how many, the first max in hits (pointing into ls). */
size_t search_leak_find(const struct leak_set *ls, const char *query, struct leak_hit *hits, size_t max);
/* The comparison form of s: normalised, stop words dropped, letters and Chinese only. */
void search_leak_normalize(const struct lex *lx, const char *s, struct sb *out);

/* ---- module state (search.c) -------------------------------------------------------------- */

/* The current index and the requests reading it: each search_acquire takes a reference, each
 * search_unlock drops it, and the state holds one of its own until the next swap. A swap
 * replaces the pointer under a mutex held for a few instructions; the replaced index is freed
 * by whoever drops its last reference, so no reader waits for a build and the builder never
 * waits for readers. */
struct sindex_ref {
	struct sindex *ix;
	_Atomic int refs;
};

struct search_state {
	pthread_mutex_t mu;       /* guards cur (the pointer and taking a reference) */
	pthread_mutex_t build_mu; /* one build at a time */
	struct lex *lx;
	struct search_labels labels;
	struct sindex_ref *cur;
	bool built_once;
	_Atomic bool rebuild_pending; /* a rebuild job is queued or running */
	struct jobs *jobs; /* NULL until the server starts: builds then happen on the caller */
	char db_url[1024];
	uint64_t builds;
	double last_build_ms;
};
extern struct search_state search_state;
/* Makes ix (may be NULL) the current index; the state owns it from now on. */
void search_swap(struct sindex *ix);
/* The generation of the current index (UINT64_MAX when there is none). */
uint64_t search_current_generation(void);

int search_labels_load(const char *data_dir, struct search_labels *lb);
void search_labels_release(struct search_labels *lb);
/* The sum of catalog_generation and search_generation (both only grow). */
int search_db_generation(struct db *db, struct arena *a, uint64_t *gen);
/* Builds a new index from db and swaps it in (once per generation). When another thread is
 * already building, wait = false returns at once (the caller keeps the current index). */
int search_rebuild(struct db *db, uint64_t gen, bool wait);
/* The current index, rebuilt first when db's generation moved (db may be NULL: no check).
 * Returns with the read lock held (the index may be NULL): call search_unlock() when done
 * with it and everything that points into it. */
const struct sindex *search_acquire(struct db *db, struct arena *a);
void search_unlock(void);
/* Administrators' synonyms from the database as a rules-only lex (NULL when none), normalised
 * with base. */
int search_rules_load(struct db *db, struct arena *a, const struct lex *base, struct lex **out);

#include "http/http.h"
extern const struct route search_routes[];
extern const size_t search_routes_n;
extern const struct route guide_routes[];
extern const size_t guide_routes_n;
extern const struct route search_admin_routes[];
extern const size_t search_admin_routes_n;

#endif
