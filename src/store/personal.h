/* personal.h: what each domain holds about a person, and what closing the person's account
 * does to it (the "my data" pages of src/privacy read this registry; no domain reads another's
 * tables).
 *
 * Invariants:
 * - Each domain declares, once at start (app_cover_declare) and in one place, a part per kind
 *   of personal record it keeps: a name (the export's key, and the suffix of its words in the
 *   message catalogs: mydata_part_<name>, mydata_why_<name>), whether closing the account
 *   keeps the rows (records a law requires the hall to keep) or erases them, the query that
 *   reads the subject's rows and, for erased parts, the statements that erase them.
 * - The subject is one account: an individual's own rows (not what they filed for an
 *   enterprise as its agent) or an enterprise's rows. Every `?` of a part's query and erase
 *   statements is bound to the subject's account id.
 * - Queries return what a page may show: masks of sealed values, never a sealed value, a
 *   secret (password hash, token hash, second factor) or another person's personal data.
 *   Column names are the export's; columns ending in "_at" hold Unix seconds.
 * - Erasure runs inside the caller's transaction (the one write that closes the account);
 *   a part whose rows the transparency log covers touches them (store/cover.h) so that the
 *   erasure is a logged action.
 */
#ifndef GH_STORE_PERSONAL_H
#define GH_STORE_PERSONAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

struct db;
struct db_sql;
struct db_rows;

#define PERSONAL_PARTS_MAX 40
#define PERSONAL_ERASE_MAX 4

struct personal_part {
	const char *name;     /* "applications": [a-z_]+, unique */
	bool kept;            /* closure keeps the rows (see mydata_why_<name>) */
	struct db_sql *query; /* the subject's rows, at most PERSONAL_ROWS_MAX of them, newest first */
	/* NULL, or a function that turns stored cells into what the export shows (a sealed form
	 * into its masks), in place, in a. */
	int (*fix)(struct arena *a, struct db_rows *rows);
	/* Closure of an erased part: statements run in order (NULL-terminated), then erase (may be
	 * NULL) for what statements cannot do alone (touching covered rows). */
	struct db_sql *erase_sql[PERSONAL_ERASE_MAX];
	int (*erase)(struct db *db, struct arena *a, int64_t account);
	/* columns whose values are code words, and the message prefix that names them for people:
	 * "state=case_state_,channel=case_channel_" (NULL: none) */
	const char *words;
};

#define PERSONAL_ROWS_MAX 2000 /* per part: a query's LIMIT; the export says when it is reached */

/* Registers p (static storage; call at start, before serving; not thread-safe). Dies on a
 * malformed part, a name declared twice or more than PERSONAL_PARTS_MAX parts. */
void personal_declare(const struct personal_part *p);
size_t personal_count(void);
const struct personal_part *personal_at(size_t i);

/* The rows of part p for account (query bound, then fix), in a. 0 or a GH_E code. */
int personal_rows(struct db *db, struct arena *a, const struct personal_part *p, int64_t account,
		  struct db_rows *out);
/* Erases part p for account in db's open transaction (nothing for a kept part). */
int personal_erase(struct db *db, struct arena *a, const struct personal_part *p, int64_t account);

#endif
