/* search_pages.h: what the search's handlers share (api.c, pages.c, guide.c). */
#ifndef GH_SEARCH_PAGES_H
#define GH_SEARCH_PAGES_H
#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "search/search_impl.h"

#define SEARCH_Q_MAX 400     /* bytes of q accepted (100 characters and more) */
#define SEARCH_MAX_HITS 200  /* deepest result reachable by paging */

/* The parameters of a search request (all optional but q for the API). */
struct sparams {
	const char *q;
	struct squery_filter f;
	const char *audience, *kind; /* as given */
	long page, limit;
};

/* One result, copied into the request's arena; name_html and summary_html are escaped HTML
 * with the matches in <mark>. */
struct sresult {
	const char *kind, *code, *name_zh, *name_en, *name_html, *summary_html, *href;
	const char *department, *dept_name, *theme;
	unsigned audience;
	float score;
};
struct sresults {
	struct sresult *r;
	size_t n, total;
	struct sdept *depts; /* every department, for the filter */
	size_t ndepts;
};

/* Reads q, audience, department, theme, kind, page, limit; GH_EINVAL with a detail for the
 * citizen when one is bad (an unknown department is found by search_run). */
int search_read_params(struct req *r, struct sparams *p);
/* Runs p (no q: only the departments are filled) and copies results offset..offset+limit. */
int search_run(struct req *r, const struct sparams *p, size_t offset, size_t limit, struct sresults *out);
/* The routes' cache generation (catalog and synonyms). */
int search_cache_gen(struct req *r, uint64_t *gen);
/* The name (en: English, else Chinese) of code in labels (an array of {code, name_zh,
 * name_en}), or NULL; search_theme_name: in the themes'. */
const char *search_label_name(json_t *labels, const char *code, bool en);
const char *search_theme_name(const char *code, bool en);
const char *search_doc_href(struct req *r, int kind, const char *code);

#endif
