/* search.h: one search over service items and bundles (and, as they arrive, FAQ answers and
 * published information), its pages and JSON API, the guided service (智能导办), and the
 * search-eval / search-bench commands.
 *
 * Invariants: the index lives in memory on each node; it is built from the database at start
 * (search_init) and rebuilt when the catalog generation or the administrators' synonyms change
 * (checked on each search request against catalog_meta; the rebuild happens once, the other
 * requests keep using the previous index meanwhile). Search routes are public and GET only. */
#ifndef GH_SEARCH_H
#define GH_SEARCH_H
#include <stddef.h>
#include <stdint.h>

struct app;
struct router;
struct sb;

/* Loads the dictionaries (data_dir/search) and builds the first index. err gets a message for
 * the operator. */
int search_init(struct app *app, char *err, size_t errlen);
void search_release(struct app *app);
/* From now on the index is rebuilt in app->jobs (the job pool), off the event loops. */
void search_start(struct app *app);
int search_add_routes(struct router *rt);

/* Searchable content outside the catalog changed (a document published or withdrawn): bumps
 * catalog_meta.search_generation on db, inside the caller's transaction when there is one,
 * so that every node rebuilds its index at its next search. */
struct db;
int search_content_changed(struct db *db);
/* Appends the search gauges (index bytes, documents, builds) in the Prometheus format. */
void search_metrics(struct sb *out);

/* `govhall search-eval FILE.json`: MRR@10 and Recall@1 of the index and of an SQLite FTS5
 * baseline over the same documents, overall and per query kind. Returns the exit status. */
int search_cli_eval(const char *db_url, const char *data_dir, int nargs, char **args);
/* `govhall search-bench [--items N] [--clients N] [--threads N] [--seconds S]`: build time for N generated
 * items, queries/s and p99 with concurrent clients, beside FTS5. Returns the exit status. */
int search_cli_bench(const char *data_dir, int nargs, char **args);

/* Search over service items this hall does not hold itself (the hub's national catalog): the
 * same index, query analysis and ranking as the catalog's own search. Strings are copied. */
struct arena;
struct search_item {
	const char *name_zh, *name_en, *department, *dept_zh, *dept_en;
	const char *keywords;  /* space-separated */
	const char *materials; /* names, space-separated (may be NULL) */
	const char *summary_zh, *summary_en;
	int online_depth;
};
struct search_set;
/* NULL before search_init loaded the dictionaries. */
struct search_set *search_set_build(const struct search_item *items, size_t n, uint64_t generation);
void search_set_free(struct search_set *s);
uint64_t search_set_generation(const struct search_set *s);
/* Ranks the set's items for q: up to max of them (their indices in the array the set was built
 * from) into idx, best first; *total: all that match. Works in a. */
size_t search_set_query(const struct search_set *s, struct arena *a, const char *q, size_t *idx, size_t max,
			size_t *total);
/* The place a query names: the index of the first of names (e.g. the directory's regions, 兰山)
 * that q holds, as written or as its toneless pinyin in one word, any case ("in Lanshan"); -1
 * when none. *rest: q without that name (in a), or q itself. */
int search_place(struct arena *a, const char *q, const char *const *names, size_t n, const char **rest);

/* The place a query names that other halls serve (a region of the federation's directory, not
 * this hall's), or NULL: the search page then offers that region's services (src/federation
 * sets it at start on a hall of the federation). */
typedef const char *(*search_place_fn)(struct arena *a, const char *q);
void search_set_places(search_place_fn fn);

#endif
