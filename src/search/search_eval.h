/* search_eval.h: the FTS5 baseline shared by search-eval and search-bench (eval.c, bench.c). */
#ifndef GH_SEARCH_EVAL_H
#define GH_SEARCH_EVAL_H
#include <sqlite3.h>

#include "search/search_impl.h"

struct fts {
	sqlite3 *db;
	const struct lex *lx;
};
/* Creates the table docs(code, body) in the database at path (":memory:" or a file) and
 * starts a transaction for the inserts; fts_finish commits. */
int fts_open(struct fts *f, const char *path, const struct lex *lx);
void fts_finish(struct fts *f);
void fts_close(struct fts *f);
/* The document tap that inserts each document (ctx: struct fts). */
sdoc_tap_fn fts_tap_fn(void);
void fts_match(const struct lex *lx, const char *q, struct sb *out);
/* Up to max codes for q, best first; *stp caches the statement of this connection. */
size_t fts_search(sqlite3 *db, sqlite3_stmt **stp, const struct lex *lx, const char *q, char codes[][32], size_t max);
double search_now_ms(void);

#endif
