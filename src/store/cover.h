/* cover.h: the rows the transparency log covers, and how their changes reach it.
 *
 * Invariants:
 * - Each domain declares, once at start and in one place, the tables whose rows record what
 *   the hall promises cannot change unseen (decisions and their content, evaluations,
 *   answers, publications, certificates, the powers of accounts): the key, the covered
 *   columns, optionally which rows are covered, columns that hold a leaf's index, and a
 *   function that turns a stored value into the content committed (a sealed value into its
 *   plaintext, so that re-sealing under a new key is no change). `govhall audit --coverage`
 *   lists the declarations; docs/security.md lists every column left out and why.
 * - A row's content is the digest of its covered columns (cover_digest). Whatever the
 *   application writes to a covered row, it writes inside a transaction and then calls
 *   cover_touch() (or cover_touch_row() with the values it has): the rows touched are
 *   committed, under the leaf's salt, in the next leaf that transaction appends to the log,
 *   or in a leaf of kind "change" that db_commit() appends before committing. So every
 *   change the application makes is a logged action, and `govhall audit` checks that each
 *   covered row is what its latest leaf says, that no row lacks a leaf and no leaf's row is
 *   gone (a deletion is committed as such).
 * - A row outside the declared condition ("where") counts as absent; a row leaving the
 *   condition is committed as absent, a row never logged stays unlogged.
 * - Touches live with the connection (struct db) until the leaf takes them, db_rollback()
 *   drops them, or the connection closes. Not thread-safe beyond struct db's own rule.
 */
#ifndef GH_STORE_COVER_H
#define GH_STORE_COVER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

struct db;

#define COVER_DIGEST_LEN 32 /* SHA-256 */
#define COVER_COLS_MAX 48
#define COVER_KEY_MAX 160   /* bytes of a row's key text */

/* A declaration (static storage: the registry keeps the pointer). */
struct cover_table {
	const char *table;    /* "applications" */
	const char *key;      /* key columns, comma-separated, at most two: "id", "enterprise_id, agent_id" */
	const char *cols;     /* covered columns, comma-separated */
	const char *where;    /* NULL, or an SQL condition on the table's columns: the rows covered */
	const char *pointers; /* NULL, or "col=kind, ...": columns holding the index of a leaf of that
			       * kind which logs this row (written after the leaf, so not in cols) */
	/* NULL, or the columns (comma-separated, among cols) whose stored value is not their content,
	 * and the function giving the content of such a column col from its stored value (len
	 * bytes, not NULL): 0 with *out and *outlen set (in a), or a GH_E code (the row cannot be
	 * read). Other columns are committed as stored. */
	const char *plain_cols;
	int (*plain)(struct arena *a, const char *col, const char *stored, size_t len, const char **out,
		     size_t *outlen);
};

/* Registers t (call at start, before any connection is opened; not thread-safe). Dies on a
 * malformed declaration or a table declared twice. */
void cover_declare(const struct cover_table *t);

/* A declared table, as the audit and the log use it. */
struct cover_info {
	const struct cover_table *t;
	const char *table;
	const char *cols[COVER_COLS_MAX];
	size_t ncols;
	const char *keys[2];
	size_t nkeys;
	const char *key_sql;  /* SQL expression giving a row's key text: "CAST(id AS TEXT)" */
	const char *ptr_col[4], *ptr_kind[4];
	size_t nptr;
	bool plain[COVER_COLS_MAX]; /* cols[i] goes through t->plain */
};
size_t cover_count(void);
const struct cover_info *cover_at(size_t i);
const struct cover_info *cover_find(const char *table);

/* The digest of one row from the stored cells of its covered columns (in declaration order;
 * cells[i] NULL for SQL NULL, lens[i] its byte length), after the table's plain function.
 * GH_E code when a value cannot be read. */
int cover_digest(const struct cover_info *ci, struct arena *a, const char *const *cells, const size_t *lens,
		 unsigned char out[COVER_DIGEST_LEN]);
/* Reads row key of ci and its digest: 0 (found, *present true), 0 with *present false when
 * the row is absent or outside the declared condition, or a GH_E code. */
int cover_read(struct db *db, struct arena *a, const struct cover_info *ci, const char *key, bool *present,
	       unsigned char out[COVER_DIGEST_LEN]);

/* ---- changes --------------------------------------------------------------------------- */

/* Marks row key of table as changed by the application, inside the caller's open
 * transaction; its content is read when the leaf takes it. action (may be NULL) names the
 * change for a "change" leaf ("account.roles", "correction", "erasure", ...). GH_EINTERNAL
 * outside a transaction or for an undeclared table. */
int cover_touch(struct db *db, const char *table, const char *key, const char *action);
int cover_touch_id(struct db *db, const char *table, int64_t id, const char *action);
/* The same with the row's n covered columns (in declaration order) as the database stores
 * them (the cells of a RETURNING clause listing exactly the declared columns, or the values the
 * caller wrote), so nothing is read again; content: the caller gives the content of the plain
 * columns already (a form's plaintext it has in hand), so the plain function is not run.
 * GH_EINTERNAL when n is not the declared count. */
int cover_touch_row(struct db *db, const char *table, const char *key, const char *const *cells, const size_t *lens,
		    size_t n, bool content);

/* A touched row as the log takes it. */
struct cover_entry {
	const struct cover_info *ci;
	const char *key;
	bool present; /* false: absent (deleted, or out of the declared condition) */
	unsigned char digest[COVER_DIGEST_LEN];
};
/* Takes the rows touched on db (reading those without values), in the order touched, and
 * forgets them. *action gets the first action named (NULL if none). In a. */
int cover_take(struct db *db, struct arena *a, struct cover_entry **out, size_t *n, const char **action);
bool cover_pending(const struct db *db);
/* Forgets the touches of db (db_rollback, a group item undone); cover_release also frees what
 * the connection kept for them (db_close). */
void cover_discard(struct db *db);
void cover_release(struct db *db);

/* The log installs the function db_commit() calls while touches are pending: it appends the
 * "change" leaf(s) that take them. Without one (tools and tests without the log) touches are
 * dropped at commit. */
void cover_set_logger(int (*fn)(struct db *db));
/* db_commit's hook (db.c). */
int cover_before_commit(struct db *db);

/* For writes that may or may not run inside the caller's transaction: begins one when none is
 * open (*own true). cover_tx_end commits it when own and rc == 0, rolls it back when own and
 * rc != 0, and returns rc or the commit's error. */
int cover_tx_begin(struct db *db, bool *own);
int cover_tx_end(struct db *db, bool own, int rc);
/* The usual end of one such write: touches row id of table (when rc == 0), then cover_tx_end. */
int cover_tx_end_id(struct db *db, bool own, int rc, const char *table, int64_t id, const char *action);

#endif
