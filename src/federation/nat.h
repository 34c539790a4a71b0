/* nat.h: the national catalog (natcat.c) and national supervision (natstats.c): documents a
 * hall publishes signed with its message key, which the hub collects (a duty), keeps and
 * serves (docs/federation.md, "One catalog" and "National supervision").
 *
 * A signed document is a JWS compact token (jwt.h: EdDSA) of the hall's message key (the key
 * the hub's directory lists for it), whose claims are {"iss": hall id, "kind", "iat", "exp",
 * ...}. The hub takes one only when it verifies under a key of that hall's approved
 * registration, names that hall and the kind asked for, is not expired, was issued no more
 * than FED_SKEW seconds ahead, and answers the request made (a feed page: the cursor asked).
 *
 * Invariants: fetching runs on the duty's own thread, never on an event loop; the hub writes
 * what it took in one transaction per document on the duty's connection; a refused document
 * changes nothing (the reason is logged and kept in fed_nat_sources.error). */
#ifndef GH_FED_NAT_H
#define GH_FED_NAT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "http/http.h"

#define NAT_DOC_MAX (4 * 1024 * 1024) /* longest signed document the hub reads */
#define NAT_DOC_TTL 600               /* seconds a signed document is valid */
#define NAT_PAGE_MAX 200              /* items in one page of a catalog feed */

struct db;
struct arena;

/* natcat.c (hall side): the claims signed with this hall's message key as a JWS answer. */
int nat_doc_answer(struct req *r, json_t *claims);
/* natcat.c (hub side): GET url from hall (its keys: the JSON array of its registration),
 * checked as above; the claims (json_decref) and the token as signed (*raw, in a; raw may be
 * NULL), or GH_EINVAL with *why, GH_EUNAVAILABLE when the hall cannot be read. */
int nat_doc_fetch(struct app *app, const char *url, const char *hall, const char *keys_json, const char *kind,
		  json_t **claims, const char **raw, const char **why, struct arena *a);
/* Records the last refusal or failure of hall's documents (NULL: none). */
void nat_source_error(struct db *db, const char *hall, const char *why);

/* Pure checks (fuzzed by tests/fuzz/fuzz_natdoc.c):
 * - a feed cursor: "" (the start, *seq 0) or the number of the last entry taken, in decimal
 *   without a leading zero (at most 18 digits); 0 with *seq, or GH_EINVAL;
 * - a feed page's claims: NULL when it answers the cursor asked and its items and withdrawals
 *   are well formed (at most NAT_PAGE_MAX together, guides under base), else why not;
 * - a statistics document: NULL when its range and departments are well formed (whole counts
 *   of at least 0, no part above its whole), else why not. */
int nat_cursor_parse(const char *c, int64_t *seq);
const char *nat_feed_check(const json_t *claims, const char *asked, const char *base);
const char *nat_stats_check(const json_t *doc);

/* natstats.c */
extern const struct route nat_stats_routes[];
extern const size_t nat_stats_routes_n;
/* One pass of the hub over hall's statistics document. */
int nat_stats_pull(struct app *app, struct db *db, const char *hall, const char *base_url, const char *keys_json);

/* natcat.c: the routes of both sides, and the hub's duty (fetches feeds and statistics). */
extern const struct route nat_cat_routes[];
extern const size_t nat_cat_routes_n;
int nat_start(struct app *app, char *err, size_t errlen);
void nat_stop(void);

#endif
