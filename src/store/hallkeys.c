/* hallkeys.c: the published keys (see hallkeys.h). */
#include "store/hallkeys.h"

#include <string.h>

#include "base/err.h"

DB_SQL2(q_exists, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'hall_keys'",
	"SELECT CASE WHEN to_regclass('hall_keys') IS NULL THEN 0 ELSE 1 END");
DB_SQL(q_list, "SELECT kind, key_id, fingerprint FROM hall_keys ORDER BY kind, key_id");
DB_SQL(q_get, "SELECT fingerprint FROM hall_keys WHERE kind = ? AND key_id = ?");
DB_SQL(q_put, "INSERT INTO hall_keys (kind, key_id, fingerprint, created_at) VALUES (?, ?, ?, ?)");

int hallkeys_list(struct db *db, struct arena *a, struct hallkey **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct db_rows rows;
	int rc = db_query(db, a, &q_exists, DB_NOARGS, &rows);
	if (rc || db_cell_int(&rows, 0, 0) == 0)
		return rc;
	if ((rc = db_query(db, a, &q_list, DB_NOARGS, &rows)))
		return rc;
	*out = arena_array(a, rows.nrows ? rows.nrows : 1, sizeof(**out));
	for (size_t i = 0; i < rows.nrows; i++)
		(*out)[i] = (struct hallkey){ db_cell(&rows, i, 0), (uint32_t)db_cell_int(&rows, i, 1), db_cell(&rows, i, 2) };
	*n = rows.nrows;
	return 0;
}

int hallkeys_record(struct db *db, const char *kind, uint32_t id, const char *fingerprint, int64_t now)
{
	int rc = db_exec(db, &q_put, DB_ARGS(DB_TEXT(kind), DB_INT(id), DB_TEXT(fingerprint), DB_INT(now)), NULL);
	if (rc != GH_ECONFLICT)
		return rc;
	struct arena *a = arena_new(512);
	struct db_rows rows;
	rc = db_query(db, a, &q_get, DB_ARGS(DB_TEXT(kind), DB_INT(id)), &rows);
	if (!rc)
		rc = rows.nrows == 1 && strcmp(db_cell(&rows, 0, 0), fingerprint) == 0 ? 0 : GH_ECONFLICT;
	arena_free(a);
	return rc;
}
