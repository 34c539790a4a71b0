/* rows.c: the covered rows (store/cover.h) as the log sees them — the statements over each
 * declared table (built once, from the declaration), the rows part of `govhall audit`, the
 * backfill of rows without a leaf, and `govhall ledger correct`.
 *
 * The audit's rule: every covered row has a latest leaf (the highest index ledger_refs names
 * for it), and that leaf's "rows" commit exactly the row's current content; every row a
 * latest leaf commits as present exists; every leaf pointer column names a leaf of its kind
 * that logs the row. (audit.c checks ledger_refs against the leaves themselves.) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/sb.h"
#include "ledger/ledger_ext.h"
#include "store/cover.h"
#include "store/db.h"

#define PAGE_ROWS 500

struct tsql {
	bool built;
	struct db_sql walk, orphans, backfill, ptr[4];
};
static struct tsql tsql[64];

static char *sql_text(struct sb *sb)
{
	return sb_detach(sb, NULL);
}

/* text with every "l.salt" read as its hex text, for PostgreSQL (the column holds its bytes). */
static char *salt_pg(const char *text)
{
	struct sb sb = SB_INIT;
	const char *p = text, *at;
	while ((at = strstr(p, "l.salt"))) {
		sb_add(&sb, p, (size_t)(at - p));
		sb_addf(&sb, "%s", LEDGER_SALT_PG("l.salt"));
		p = at + strlen("l.salt");
	}
	sb_addf(&sb, "%s", p);
	return sql_text(&sb);
}

/* The statements of declared table i (built at the first use; commands are single-threaded). */
static struct tsql *sql_of(size_t i)
{
	struct tsql *q = &tsql[i];
	if (q->built)
		return q;
	const struct cover_info *ci = cover_at(i);
	const char *w = ci->t->where ? ci->t->where : "1 = 1", *k = ci->key_sql;
	bool two = ci->nkeys == 2;
	struct sb sb = SB_INIT;
	/* walk: a page of rows in key order after the last key (flag 0: from the start), each
	 * with its latest leaf */
	sb_addf(&sb, "SELECT t.*, l.salt, l.leaf FROM (SELECT %s AS gh_k, %s AS gh_k1", k, ci->keys[0]);
	if (two)
		sb_addf(&sb, ", %s AS gh_k2", ci->keys[1]);
	for (size_t c = 0; c < ci->ncols; c++)
		sb_addf(&sb, ", %s", ci->cols[c]);
	sb_addf(&sb, ", (SELECT g.idx FROM gh_latest g WHERE g.tbl = '%s' AND g.rkey = %s) AS gh_li FROM %s "
		     "WHERE (%s) AND (CAST(? AS INTEGER) = 0 OR %s > ?",
		ci->table, k, ci->table, w, ci->keys[0]);
	if (two)
		sb_addf(&sb, " OR (%s = ? AND %s > ?)", ci->keys[0], ci->keys[1]);
	sb_addf(&sb, ") ORDER BY %s%s%s LIMIT %d) t LEFT JOIN ledger_leaves l ON l.idx = t.gh_li ORDER BY t.gh_k1%s",
		ci->keys[0], two ? ", " : "", two ? ci->keys[1] : "", PAGE_ROWS, two ? ", t.gh_k2" : "");
	q->walk.sql = sql_text(&sb);
	q->walk.pg_sql = salt_pg(q->walk.sql);
	/* orphans: rows whose latest leaf exists but the row does not (or left the condition) */
	sb_addf(&sb, "SELECT x.rkey, x.idx, l.salt, l.leaf FROM gh_latest x JOIN ledger_leaves l ON l.idx = x.idx "
		     "LEFT JOIN (SELECT %s AS k FROM %s WHERE (%s)) t ON t.k = x.rkey WHERE x.tbl = '%s' AND t.k IS NULL "
		     "ORDER BY x.idx",
		k, ci->table, w, ci->table);
	q->orphans.sql = sql_text(&sb);
	q->orphans.pg_sql = salt_pg(q->orphans.sql);
	sb_addf(&sb, "SELECT %s FROM %s WHERE (%s) AND NOT EXISTS (SELECT 1 FROM gh_latest g WHERE g.tbl = '%s' "
		     "AND g.rkey = %s) ORDER BY %s%s%s",
		k, ci->table, w, ci->table, k, ci->keys[0], two ? ", " : "", two ? ci->keys[1] : "");
	q->backfill.sql = sql_text(&sb);
	for (size_t p = 0; p < ci->nptr; p++) {
		sb_addf(&sb, "SELECT %s, %s FROM %s WHERE %s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_refs r "
			     "JOIN ledger_leaves l ON l.idx = r.idx WHERE r.tbl = '%s' AND r.rkey = %s AND r.idx = %s.%s "
			     "AND l.kind = '%s')",
			k, ci->ptr_col[p], ci->table, ci->ptr_col[p], ci->table, k, ci->table, ci->ptr_col[p],
			ci->ptr_kind[p]);
		q->ptr[p].sql = sql_text(&sb);
	}
	sb_release(&sb);
	q->built = true;
	return q;
}

/* ---- the rows' latest leaves ---- */

/* ledger_refs is kept in the log's order; the audit and the backfill index it by row for the
 * time they run: gh_latest (table, key) -> the row's latest leaf, a temporary table of their
 * connection. */
DB_SQL(q_latest_drop, "DROP TABLE IF EXISTS gh_latest");
DB_SQL2(q_latest_make,
	"CREATE TEMP TABLE gh_latest (tbl TEXT NOT NULL, rkey TEXT NOT NULL, idx INTEGER NOT NULL, "
	"PRIMARY KEY (tbl, rkey)) WITHOUT ROWID",
	"CREATE TEMP TABLE gh_latest (tbl TEXT NOT NULL, rkey TEXT NOT NULL, idx BIGINT NOT NULL, "
	"PRIMARY KEY (tbl, rkey))");
DB_SQL(q_latest_fill, "INSERT INTO gh_latest (tbl, rkey, idx) SELECT tbl, rkey, MAX(idx) FROM ledger_refs GROUP BY tbl, rkey");
DB_SQL(q_latest_stats, "ANALYZE gh_latest");

static int latest_index(struct db *db)
{
	int rc = db_exec(db, &q_latest_drop, DB_NOARGS, NULL);
	if (!rc)
		rc = db_exec(db, &q_latest_make, DB_NOARGS, NULL);
	if (!rc)
		rc = db_exec(db, &q_latest_fill, DB_NOARGS, NULL);
	if (!rc)
		rc = db_exec(db, &q_latest_stats, DB_NOARGS, NULL);
	return rc;
}

/* ---- backfill and corrections ---- */

int ledger_backfill_rows(struct db *db, struct arena *a, size_t *rows)
{
	*rows = 0;
	int irc = latest_index(db);
	if (irc)
		return irc;
	for (size_t i = 0; i < cover_count(); i++) {
		const struct cover_info *ci = cover_at(i);
		struct db_rows r;
		int rc = db_query(db, a, &sql_of(i)->backfill, DB_NOARGS, &r);
		if (rc)
			return rc;
		for (size_t k = 0; k < r.nrows; k++) {
			if ((rc = cover_touch(db, ci->table, db_cell(&r, k, 0), "backfill")))
				return rc;
			/* a leaf per few hundred rows, without holding every row's touch */
			if (++*rows % 1000 == 0 && (rc = ledger_change_logger(db)))
				return rc;
		}
	}
	return ledger_change_logger(db);
}

int ledger_correct(struct db *db, struct arena *a, const char *const *refs, size_t n, const char *action,
		   const char *reason, FILE *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		const char *colon = strchr(refs[i], ':');
		const struct cover_info *ci = colon ? cover_find(arena_strndup(a, refs[i], (size_t)(colon - refs[i]))) : NULL;
		if (!ci) {
			fprintf(err, "govhall: %s is not TABLE:KEY of a covered table (govhall audit --coverage lists them)\n",
				refs[i]);
			return GH_EINVAL;
		}
		rc = cover_touch(db, ci->table, colon + 1, action);
	}
	struct cover_entry *rows;
	size_t nrows;
	if (!rc)
		rc = cover_take(db, a, &rows, &nrows, NULL);
	if (rc)
		return rc;
	char salt[LEDGER_SALT_HEX + 1], h[65];
	ledger_salt_new(salt);
	ledger_personal_hash(salt, "reason", reason, h);
	json_t *o = json_pack("{s:s,s:I,s:s}", "action", action, "at", (json_int_t)time(NULL), "reason", h);
	return ledger_append_rows(db, a, "change", NULL, salt, o, rows, nrows, NULL);
}

/* ---- the audit ---- */

/* The leaf last parsed (rows of one page often share it). */
struct leafcache {
	int64_t idx;
	json_t *rows;
};

static json_t *leaf_rows(struct leafcache *lc, int64_t idx, const char *text)
{
	if (lc->idx == idx)
		return lc->rows;
	json_decref(lc->rows);
	lc->rows = NULL;
	lc->idx = idx;
	json_t *v = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	json_t *rows = json_object_get(v, "rows");
	if (json_is_object(rows))
		lc->rows = json_incref(rows);
	json_decref(v);
	return lc->rows;
}

/* What leaf idx says of row table:key: 1 present with content hash equal to the row's, 0 present
 * but different (or absent), -1 not logged by the leaf. present/digest: the row now. */
static int leaf_verdict(json_t *rows, const char *salt, const char *table, const char *key, bool present,
			const unsigned char digest[COVER_DIGEST_LEN], bool *says_absent)
{
	char id[65], content[65], absent[65];
	static const unsigned char zero[COVER_DIGEST_LEN];
	ledger_row_hashes(salt, table, key, present, present ? digest : zero, id, content);
	const char *got = json_string_value(json_object_get(rows, id));
	if (!got)
		return -1;
	ledger_row_hashes(salt, table, key, false, zero, id, absent);
	*says_absent = !strcmp(got, absent);
	return !strcmp(got, content) ? 1 : 0;
}

static int check_table(struct db *db, struct arena *a, size_t ti, ledger_report_fn report, void *ctx, size_t *nrows)
{
	const struct cover_info *ci = cover_at(ti);
	struct tsql *q = sql_of(ti);
	struct leafcache lc = { -1, NULL };
	char *last1 = NULL, *last2 = NULL;
	int rc = 0;
	size_t base = 2 + ci->nkeys - 1; /* gh_k, gh_k1[, gh_k2] */
	for (;;) {
		arena_reset(a);
		struct db_rows r;
		struct db_val args[4] = { DB_INT(last1 ? 1 : 0), DB_TEXT(last1), DB_TEXT(last1), DB_TEXT(last2) };
		if ((rc = db_query(db, a, &q->walk, args, ci->nkeys == 2 ? 4 : 2, &r)))
			break;
		for (size_t i = 0; i < r.nrows; i++) {
			const char *key = db_cell(&r, i, 0);
			const char *li = db_cell(&r, i, base + ci->ncols);
			const char *salt = db_cell(&r, i, base + ci->ncols + 1), *leaf = ledger_leaf_cell(a, &r, i, base + ci->ncols + 2);
			(*nrows)++;
			unsigned char digest[COVER_DIGEST_LEN];
			int d = cover_digest(ci, a, (const char *const *)&r.cells[i * r.ncols + base], &r.lens[i * r.ncols + base],
					     digest);
			if (d) {
				report(ctx, "%s:%s: the row cannot be read (%s): its sealed data was altered, or the key file is "
					    "not the hall's",
				       ci->table, key, err_name(d));
				continue;
			}
			if (!li) {
				report(ctx, "%s:%s: no leaf in the log for this row (written around the application, or "
					    "stored before the log covered it: see govhall ledger backfill)",
				       ci->table, key);
				continue;
			}
			if (!leaf) {
				report(ctx, "%s:%s: its latest leaf %s is missing from ledger_leaves", ci->table, key, li);
				continue;
			}
			bool absent = false;
			int v = leaf_verdict(leaf_rows(&lc, strtoll(li, NULL, 10), leaf), salt ? salt : "", ci->table, key, true,
					     digest, &absent);
			if (v < 0)
				report(ctx, "%s:%s: its latest leaf %s (by ledger_refs) does not log it", ci->table, key, li);
			else if (v == 0 && absent)
				report(ctx, "%s:%s: the row exists, but its latest leaf %s says it was removed", ci->table, key, li);
			else if (v == 0)
				report(ctx, "%s:%s: the row differs from what its latest logged action says (leaf %s)", ci->table,
				       key, li);
		}
		if (r.nrows < PAGE_ROWS)
			break;
		/* the next page starts after the last key (copied: the arena is reset) */
		free(last1);
		free(last2);
		last1 = strdup(db_cell(&r, r.nrows - 1, 1));
		last2 = ci->nkeys == 2 ? strdup(db_cell(&r, r.nrows - 1, 2)) : NULL;
	}
	free(last1);
	free(last2);
	json_decref(lc.rows);
	lc = (struct leafcache){ -1, NULL };
	if (rc)
		return rc;
	/* rows whose latest leaf says they are there */
	arena_reset(a);
	struct db_rows r;
	if ((rc = db_query(db, a, &q->orphans, DB_NOARGS, &r)))
		return rc;
	static const unsigned char zero[COVER_DIGEST_LEN];
	for (size_t i = 0; i < r.nrows; i++) {
		const char *key = db_cell(&r, i, 0), *li = db_cell(&r, i, 1), *salt = db_cell(&r, i, 2);
		bool absent = false;
		int v = leaf_verdict(leaf_rows(&lc, db_cell_int(&r, i, 1), ledger_leaf_cell(a, &r, i, 3)), salt ? salt : "", ci->table,
				     key, false, zero, &absent);
		if (v < 0)
			report(ctx, "%s:%s: its latest leaf %s (by ledger_refs) does not log it", ci->table, key, li);
		else if (v == 0)
			report(ctx, "%s:%s: the row is gone (removed, or moved out of what is covered), but its latest leaf "
				    "%s says it is there",
			       ci->table, key, li);
	}
	json_decref(lc.rows);
	for (size_t p = 0; p < ci->nptr; p++) {
		if ((rc = db_query(db, a, &q->ptr[p], DB_NOARGS, &r)))
			return rc;
		for (size_t i = 0; i < r.nrows; i++)
			report(ctx, "%s:%s: %s names leaf %s, which is not a %s leaf logging this row", ci->table,
			       db_cell(&r, i, 0), ci->ptr_col[p], db_cell(&r, i, 1), ci->ptr_kind[p]);
	}
	return 0;
}

int ledger_audit_rows(struct db *db, ledger_report_fn report, void *ctx, size_t *nrows)
{
	struct arena *a = arena_new(1 << 20);
	int rc = latest_index(db);
	*nrows = 0;
	for (size_t i = 0; !rc && i < cover_count(); i++)
		rc = check_table(db, a, i, report, ctx, nrows);
	arena_free(a);
	return rc;
}

json_t *ledger_coverage_json(void)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < cover_count(); i++) {
		const struct cover_info *ci = cover_at(i);
		json_t *cols = json_array(), *keys = json_array(), *ptrs = json_object();
		for (size_t c = 0; c < ci->ncols; c++)
			json_array_append_new(cols, json_string(ci->cols[c]));
		for (size_t k = 0; k < ci->nkeys; k++)
			json_array_append_new(keys, json_string(ci->keys[k]));
		for (size_t p = 0; p < ci->nptr; p++)
			json_object_set_new(ptrs, ci->ptr_col[p], json_string(ci->ptr_kind[p]));
		json_array_append_new(arr, json_pack("{s:s,s:o,s:o,s:s?,s:o}", "table", ci->table, "key", keys, "columns",
						     cols, "where", ci->t->where, "pointers", ptrs));
	}
	return arr;
}
