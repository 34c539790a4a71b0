/* migrate.c: brings a database to the schema this binary knows, from the migrations embedded
 * at build time (scripts/embed_sql.py over migrations/<dialect>/NNNN_name.sql).
 * Each migration runs in its own transaction together with its schema_migrations row, so a
 * failed migration leaves the previous version intact. On PostgreSQL the whole run holds an
 * advisory lock, so nodes starting at once apply each migration exactly once. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/util.h"
#include "store/db_impl.h"

/* pg_advisory_lock key: "govhall" folded into a bigint, fixed forever. */
#define MIGRATE_LOCK "7429531840013"

static const struct db_migration *migrations(const struct db *db, size_t *n)
{
	if (db_kind(db) == DB_POSTGRES) {
		*n = db_migrations_postgres_count;
		return db_migrations_postgres;
	}
	*n = db_migrations_sqlite_count;
	return db_migrations_sqlite;
}

int db_schema_version_known(void)
{
	int a = (int)db_migrations_sqlite_count, b = (int)db_migrations_postgres_count;
	return a < b ? a : b; /* equal: embed_sql.py insists both dialects have every version */
}

DB_SQL2(q_has_table,
	"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
	"SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END");
DB_SQL(q_max_version, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
DB_SQL(q_record, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");

int db_schema_version(struct db *db)
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int ret = db_query(db, a, &q_has_table, DB_NOARGS, &rows);
	if (!ret && db_cell_int(&rows, 0, 0) > 0) {
		ret = db_query(db, a, &q_max_version, DB_NOARGS, &rows);
		if (!ret)
			ret = (int)db_cell_int(&rows, 0, 0);
	}
	arena_free(a);
	return ret;
}

void db_now_iso(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int apply(struct db *db, const struct db_migration *m, char *err, size_t errlen)
{
	char when[32], msg[512];
	db_now_iso(when, sizeof(when));
	int ret = db_begin(db);
	if (!ret)
		ret = db_exec_script(db, m->sql);
	if (!ret)
		ret = db_exec(db, &q_record, DB_ARGS(DB_INT(m->version), DB_TEXT(when)), NULL);
	if (!ret)
		ret = db_commit(db);
	if (ret) {
		snprintf(msg, sizeof(msg), "migration %s failed: %s", m->name, db_last_error(db));
		db_set_err(err, errlen, msg);
		db_rollback(db);
	}
	return ret;
}

int db_migrate(struct db *db, char *err, size_t errlen)
{
	char msg[256];
	bool pg = db_kind(db) == DB_POSTGRES;
	if (err && errlen)
		err[0] = 0;
	if (pg) {
		int rc = db_exec_script(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")");
		if (rc) {
			snprintf(msg, sizeof(msg), "cannot take the migration lock: %s",
				 db_last_error(db));
			db_set_err(err, errlen, msg);
			return rc;
		}
	}
	int ret = db_exec_script(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
				     "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
	if (ret) {
		snprintf(msg, sizeof(msg), "cannot create schema_migrations: %s", db_last_error(db));
		db_set_err(err, errlen, msg);
		goto out;
	}
	int have = db_schema_version(db);
	if (have < 0) {
		ret = have;
		snprintf(msg, sizeof(msg), "cannot read the schema version: %s", db_last_error(db));
		db_set_err(err, errlen, msg);
		goto out;
	}
	size_t n;
	const struct db_migration *ms = migrations(db, &n);
	int known = db_schema_version_known();
	if (have > known) {
		snprintf(msg, sizeof(msg),
			 "database schema version %d is newer than this govhall (knows up to %d); "
			 "upgrade govhall",
			 have, known);
		db_set_err(err, errlen, msg);
		ret = GH_EUNAVAILABLE;
		goto out;
	}
	for (size_t i = 0; i < n && !ret; i++)
		if (ms[i].version > have)
			ret = apply(db, &ms[i], err, errlen);
out:
	if (pg)
		db_exec_script(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")");
	return ret;
}

int db_open_migrated(const char *url, struct db **db)
{
	char err[512];
	if (db_open(url, db, err, sizeof(err))) {
		fprintf(stderr, "govhall: cannot open database %s: %s\n", url, err);
		return -1;
	}
	if (db_migrate(*db, err, sizeof(err))) {
		fprintf(stderr, "govhall: %s\n", err);
		db_close(*db);
		return -1;
	}
	return 0;
}
