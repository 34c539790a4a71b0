/* test_store.c: the storage interface (src/store). Every backend test runs twice: against
 * SQLite in a temporary file, and against PostgreSQL when GOVHALL_TEST_PG holds a
 * postgresql:// URL (scripts/pg-test.sh run -- ...); without it the PostgreSQL runs are
 * skipped. On PostgreSQL each test starts from an empty public schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "store/cover.h"
#include "store/db.h"
#include "store/db_impl.h"
#include "store/personal.h"
#include "testdb.h"

struct fx {
	enum db_kind kind;
	struct testdb t;
	struct arena *a;
};

static enum db_kind kind_sqlite = DB_SQLITE, kind_pg = DB_POSTGRES;

static int setup(void **state)
{
	enum db_kind kind = *(enum db_kind *)*state;
	struct fx *f = xcalloc(1, sizeof(*f));
	f->kind = kind;
	*state = f;
	int rc = testdb_open(&f->t, kind, "store");
	if (rc == 1)
		return 0; /* tests skip when f->t.db is NULL */
	if (rc)
		return -1;
	f->a = arena_new(4096);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	testdb_close(&f->t);
	if (f->a)
		arena_free(f->a);
	free(f);
	return 0;
}

#define FX()                          \
	struct fx *f = *state;        \
	if (!f->t.db)                   \
		skip();               \
	(void)f

static const char *blob_type(const struct fx *f)
{
	return f->kind == DB_POSTGRES ? "BYTEA" : "BLOB";
}

static void make_table(struct fx *f)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE t (id INTEGER PRIMARY KEY, i BIGINT, s TEXT, b %s,"
		 " u TEXT UNIQUE)",
		 blob_type(f));
	assert_int_equal(db_exec_script(f->t.db, sql), 0);
}

static void migrate_ok(struct fx *f)
{
	char err[256] = "x";
	int rc = db_migrate(f->t.db, err, sizeof(err));
	if (rc)
		fprintf(stderr, "db_migrate: %s\n", err);
	assert_int_equal(rc, 0);
}

/* ---- backend tests ---- */

static void test_open_close(void **state)
{
	FX();
	assert_int_equal(db_kind(f->t.db), f->kind);
	assert_string_equal(db_kind_name(f->t.db), f->kind == DB_SQLITE ? "sqlite" : "postgres");
	struct db *second = NULL;
	char err[256];
	assert_int_equal(db_open(f->t.url, &second, err, sizeof(err)), 0);
	assert_non_null(second);
	db_close(second);
	db_close(NULL); /* allowed */
}

static void test_migrate_idempotent(void **state)
{
	FX();
	assert_true(db_schema_version_known() >= 1);
	assert_int_equal(db_schema_version(f->t.db), 0);
	migrate_ok(f);
	assert_int_equal(db_schema_version(f->t.db), db_schema_version_known());
	migrate_ok(f);
	assert_int_equal(db_schema_version(f->t.db), db_schema_version_known());

	DB_SQL(q_count, "SELECT count(*) FROM schema_migrations");
	DB_SQL(q_gen, "SELECT value FROM catalog_meta WHERE key = ?");
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q_count, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), db_schema_version_known());
	assert_int_equal(db_query(f->t.db, f->a, &q_gen, DB_ARGS(DB_TEXT("catalog_generation")), &rows),
			 0);
	assert_int_equal(rows.nrows, 1);
	assert_string_equal(db_cell(&rows, 0, 0), "0");
	/* a second connection sees the same version */
	struct db *other;
	char err[256];
	assert_int_equal(db_open(f->t.url, &other, err, sizeof(err)), 0);
	assert_int_equal(db_schema_version(other), db_schema_version_known());
	db_close(other);
}

/* A migration whose row is missing below the highest version (a database put back to the form
 * before it) is applied again, in its place; the version held does not change. */
static void test_migrate_fills_gap(void **state)
{
	FX();
	migrate_ok(f);
	int version = 0;
	for (size_t i = 0; i < db_migrations_sqlite_count; i++)
		if (strstr(db_migrations_sqlite[i].name, "_national_catalog.sql")) /* three tables, nothing else */
			version = db_migrations_sqlite[i].version;
	assert_true(version > 0 && version < db_schema_version_known());
	static const char drop[] = "DROP TABLE fed_nat_items; DROP TABLE fed_nat_sources; DROP TABLE fed_nat_stats";
	DB_SQL(q_unrecord, "DELETE FROM schema_migrations WHERE version = ?");
	DB_SQL(q_has, "SELECT count(*) FROM fed_nat_items, fed_nat_sources, fed_nat_stats");
	DB_SQL(q_recorded, "SELECT count(*) FROM schema_migrations WHERE version = ?");
	assert_int_equal(db_exec_script(f->t.db, drop), 0);
	assert_int_equal(db_exec(f->t.db, &q_unrecord, DB_ARGS(DB_INT(version)), NULL), 0);
	migrate_ok(f);
	struct db_rows rows;
	assert_int_equal(db_query(f->t.db, f->a, &q_has, DB_NOARGS, &rows), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_recorded, DB_ARGS(DB_INT(version)), &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 1);
	assert_int_equal(db_schema_version(f->t.db), db_schema_version_known());
}

static void test_refuses_newer_schema(void **state)
{
	FX();
	migrate_ok(f);
	int newer = db_schema_version_known() + 6;
	DB_SQL(q_bump, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
	assert_int_equal(db_exec(f->t.db, &q_bump, DB_ARGS(DB_INT(newer), DB_TEXT("2099-01-01T00:00:00Z")),
				 NULL),
			 0);
	assert_int_equal(db_schema_version(f->t.db), newer);
	char err[256] = "", want[160];
	assert_int_equal(db_migrate(f->t.db, err, sizeof(err)), GH_EUNAVAILABLE);
	snprintf(want, sizeof(want),
		 "database schema version %d is newer than this govhall (knows up to %d); "
		 "upgrade govhall",
		 newer, db_schema_version_known());
	assert_string_equal(err, want);
	/* err may be NULL */
	assert_int_equal(db_migrate(f->t.db, NULL, 0), GH_EUNAVAILABLE);
}

static void test_param_types(void **state)
{
	FX();
	make_table(f);
	static const char zh[] = "国务院办公厅：政务服务“一网通办”，高效办成一件事 ✓";
	static const unsigned char blob[] = { 0x00, 0x01, 0xff, 0x00, 'a', '\\', 'x', 0x7f };
	static const char textn[] = "abcdef";
	DB_SQL(q_ins, "INSERT INTO t (id, i, s, b) VALUES (?, ?, ?, ?)");
	int64_t changes = -1;
	assert_int_equal(db_exec(f->t.db, &q_ins,
				 DB_ARGS(DB_INT(1), DB_INT(INT64_MAX), DB_TEXT(zh),
					 DB_BLOB(blob, sizeof(blob))),
				 &changes),
			 0);
	assert_int_equal(changes, 1);
	assert_int_equal(db_exec(f->t.db, &q_ins,
				 DB_ARGS(DB_INT(2), DB_INT(INT64_MIN), DB_TEXTN(textn, 3), DB_NULL),
				 NULL),
			 0);
	assert_int_equal(db_exec(f->t.db, &q_ins,
				 DB_ARGS(DB_INT(3), DB_NULL, DB_TEXT(NULL), DB_BLOB("", 0)), NULL),
			 0);
	assert_int_equal(db_exec(f->t.db, &q_ins,
				 DB_ARGS(DB_INT(4), DB_INT(-42), DB_TEXT(""), DB_BLOB(NULL, 0)), NULL),
			 0);

	DB_SQL(q_sel, "SELECT id, i, s, b FROM t WHERE id >= ? ORDER BY id");
	struct db_rows r;
	assert_int_equal(db_query(f->t.db, f->a, &q_sel, DB_ARGS(DB_INT(1)), &r), 0);
	assert_int_equal(r.nrows, 4);
	assert_int_equal(r.ncols, 4);
	assert_string_equal(r.names[0], "id");
	assert_string_equal(r.names[3], "b");

	assert_int_equal(db_cell_int(&r, 0, 0), 1);
	assert_int_equal(db_cell_int(&r, 0, 1), INT64_MAX);
	assert_string_equal(db_cell(&r, 0, 1), "9223372036854775807");
	assert_string_equal(db_cell(&r, 0, 2), zh);
	assert_int_equal(r.lens[0 * 4 + 2], strlen(zh));
	assert_int_equal(r.lens[0 * 4 + 3], sizeof(blob));
	assert_memory_equal(db_cell(&r, 0, 3), blob, sizeof(blob));

	assert_int_equal(db_cell_int(&r, 1, 1), INT64_MIN);
	assert_string_equal(db_cell(&r, 1, 2), "abc");
	assert_null(db_cell(&r, 1, 3));

	assert_null(db_cell(&r, 2, 1));
	assert_null(db_cell(&r, 2, 2));
	assert_non_null(db_cell(&r, 2, 3)); /* empty blob is not NULL */
	assert_int_equal(r.lens[2 * 4 + 3], 0);
	assert_int_equal(db_cell_int(&r, 2, 1), 0); /* NULL reads as 0 */

	assert_int_equal(db_cell_int(&r, 3, 1), -42);
	assert_string_equal(db_cell(&r, 3, 2), "");
	assert_null(db_cell(&r, 3, 3));

	/* out of range */
	assert_null(db_cell(&r, 4, 0));
	assert_null(db_cell(&r, 0, 4));

	/* Chinese text as a parameter in a WHERE clause, and LIKE */
	DB_SQL(q_find, "SELECT id FROM t WHERE s = ? OR s LIKE ?");
	assert_int_equal(db_query(f->t.db, f->a, &q_find, DB_ARGS(DB_TEXT(zh), DB_TEXT("%一网通办%")),
				  &r),
			 0);
	assert_int_equal(r.nrows, 1);
	assert_int_equal(db_cell_int(&r, 0, 0), 1);

	/* no rows: still has columns */
	assert_int_equal(db_query(f->t.db, f->a, &q_sel, DB_ARGS(DB_INT(100)), &r), 0);
	assert_int_equal(r.nrows, 0);
	assert_int_equal(r.ncols, 4);

	/* changes for UPDATE and DELETE */
	DB_SQL(q_upd, "UPDATE t SET s = ? WHERE id <= ?");
	assert_int_equal(db_exec(f->t.db, &q_upd, DB_ARGS(DB_TEXT("x"), DB_INT(2)), &changes), 0);
	assert_int_equal(changes, 2);
	DB_SQL(q_del, "DELETE FROM t WHERE id = ?");
	assert_int_equal(db_exec(f->t.db, &q_del, DB_ARGS(DB_INT(99)), &changes), 0);
	assert_int_equal(changes, 0);

	/* wrong parameter count is an error, not a crash */
	assert_int_equal(db_exec(f->t.db, &q_del, DB_NOARGS, NULL), GH_EDB);
}

static void test_unique_conflict(void **state)
{
	FX();
	make_table(f);
	DB_SQL(q_ins, "INSERT INTO t (id, u) VALUES (?, ?)");
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("a")), NULL), 0);
	/* primary key */
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("b")), NULL), GH_ECONFLICT);
	/* unique column */
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(2), DB_TEXT("a")), NULL), GH_ECONFLICT);
	assert_true(strlen(db_last_error(f->t.db)) > 0);
	/* the connection is still fine */
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(2), DB_TEXT("b")), NULL), 0);
	/* a syntax error is GH_EDB */
	DB_SQL(q_bad, "SELEKT 1");
	struct db_rows r;
	assert_int_equal(db_query(f->t.db, f->a, &q_bad, DB_NOARGS, &r), GH_EDB);
}

/* INSERT ... RETURNING id answers the same on both backends, whichever way the backend
 * makes the answer (SQLite: the rowid of the row inserted, where that is the id). */
static void test_returning_id(void **state)
{
	FX();
	assert_int_equal(db_exec_script(f->t.db, f->kind == DB_POSTGRES
							 ? "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, i BIGINT, u TEXT UNIQUE)"
							 : "CREATE TABLE t (id INTEGER PRIMARY KEY, i BIGINT, u TEXT UNIQUE)"),
			 0);
	assert_int_equal(db_exec_script(f->t.db, "CREATE TABLE k (id TEXT PRIMARY KEY, v TEXT)"), 0);
	DB_SQL(q_one, "INSERT INTO t (i, u) VALUES (?, ?) RETURNING id");
	DB_SQL(q_given, "INSERT INTO t (id, u) VALUES (?, ?)\n RETURNING id ");
	DB_SQL(q_nothing, "INSERT INTO t (i, u) VALUES (?, ?) ON CONFLICT (u) DO NOTHING RETURNING id");
	DB_SQL(q_update, "INSERT INTO t (i, u) VALUES (?, ?) ON CONFLICT (u) DO UPDATE SET i = excluded.i RETURNING id");
	DB_SQL(q_two, "INSERT INTO t (i, u) VALUES (?, 'x,y'), (?, '(z') RETURNING id");
	DB_SQL(q_text, "INSERT INTO k (id, v) VALUES (?, ?) RETURNING id");
	DB_SQL(q_ids, "SELECT id FROM t ORDER BY id");
	struct db_rows r;
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_INT(1), DB_TEXT("a")), &r), 0);
	assert_int_equal(r.nrows, 1);
	assert_int_equal(r.ncols, 1);
	assert_string_equal(r.names[0], "id");
	int64_t first = db_cell_int(&r, 0, 0);
	assert_true(first > 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_given, DB_ARGS(DB_INT(42), DB_TEXT("b")), &r), 0);
	assert_int_equal(r.nrows, 1);
	assert_string_equal(db_cell(&r, 0, 0), "42");
	/* A conflict that inserts nothing answers no row, not the rowid of the insert before. */
	assert_int_equal(db_query(f->t.db, f->a, &q_nothing, DB_ARGS(DB_INT(2), DB_TEXT("a")), &r), 0);
	assert_int_equal(r.nrows, 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_nothing, DB_ARGS(DB_INT(2), DB_TEXT("c")), &r), 0);
	assert_int_equal(r.nrows, 1);
	int64_t third = db_cell_int(&r, 0, 0);
	assert_true(third > first && third != 42);
	/* An upsert's update answers the row it updated (SQLite sets no rowid for it). */
	assert_int_equal(db_query(f->t.db, f->a, &q_update, DB_ARGS(DB_INT(3), DB_TEXT("a")), &r), 0);
	assert_int_equal(r.nrows, 1);
	assert_int_equal(db_cell_int(&r, 0, 0), first);
	/* Two rows answer two ids; an id that is not the rowid answers itself. */
	assert_int_equal(db_query(f->t.db, f->a, &q_two, DB_ARGS(DB_INT(4), DB_INT(5)), &r), 0);
	assert_int_equal(r.nrows, 2);
	assert_true(db_cell_int(&r, 0, 0) > third && db_cell_int(&r, 1, 0) > db_cell_int(&r, 0, 0));
	assert_int_equal(db_query(f->t.db, f->a, &q_text, DB_ARGS(DB_TEXT("k-1"), DB_TEXT("v")), &r), 0);
	assert_int_equal(r.nrows, 1);
	assert_string_equal(db_cell(&r, 0, 0), "k-1");
	assert_int_equal(db_query(f->t.db, f->a, &q_ids, DB_NOARGS, &r), 0);
	assert_int_equal(r.nrows, 5);
}

/* An application's channel is one of six names on both backends (SQLite writes the check as
 * comparisons since migration 0041, PostgreSQL as a list): the same accepted, the same refused. */
static void test_channel_check(void **state)
{
	FX();
	migrate_ok(f);
	DB_SQL(q_dep, "INSERT INTO departments (code, name_zh, name_en) VALUES ('gov', 'g', 'g')");
	DB_SQL(q_item,
	       "INSERT INTO service_items (code, version, is_current, department, audience, theme,"
	       " item_type, level, name_zh, name_en, legal_limit_days, promised_limit_days,"
	       " fee_yuan, online_depth, visits_required, materials, form, keywords_zh,"
	       " content_hash, created_at)"
	       " VALUES ('A1', 1, 1, 'gov', 'individual', 'birth', 'admin_permit', 'city', 'i', 'Item',"
	       " 20, 5, 0, 4, 0, '[]', '[]', '[]', 'h', '2024-01-01T00:00:00Z')");
	DB_SQL(q_acc, "INSERT INTO accounts (kind, name, password_hash, key_id, created_at, password_changed_at) "
		      "VALUES ('individual', 'p', 'x', 1, 1, 1) RETURNING id");
	DB_SQL(q_app, "INSERT INTO applications (item_code, item_version, department, applicant_id, channel, state, "
		      "form, materials, limit_days, legal_limit_days, created_at, updated_at) "
		      "VALUES ('A1', 1, 'gov', ?, ?, 'draft', '{}', '[]', 5, 20, 1, 1) RETURNING id");
	struct db_rows r;
	assert_int_equal(db_exec(f->t.db, &q_dep, DB_NOARGS, NULL), 0);
	assert_int_equal(db_exec(f->t.db, &q_item, DB_NOARGS, NULL), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_acc, DB_NOARGS, &r), 0);
	int64_t acc = db_cell_int(&r, 0, 0);
	const char *ok[] = { "web", "app", "miniprogram", "kiosk", "counter", "open311" };
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		assert_int_equal(db_query(f->t.db, f->a, &q_app, DB_ARGS(DB_INT(acc), DB_TEXT(ok[i])), &r), 0);
		assert_int_equal(r.nrows, 1);
	}
	const char *bad[] = { "fax", "Web", "", "web " };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(db_query(f->t.db, f->a, &q_app, DB_ARGS(DB_INT(acc), DB_TEXT(bad[i])), &r), GH_EDB);
	assert_int_equal(db_query(f->t.db, f->a, &q_app, DB_ARGS(DB_INT(acc), DB_NULL), &r), GH_EDB);
}

static void test_catalog_schema(void **state)
{
	FX();
	migrate_ok(f);
	DB_SQL(q_dep, "INSERT INTO departments (code, name_zh, name_en) VALUES (?, ?, ?)");
	DB_SQL(q_item,
	       "INSERT INTO service_items (code, version, is_current, department, audience, theme,"
	       " item_type, level, name_zh, name_en, legal_limit_days, promised_limit_days,"
	       " fee_yuan, online_depth, visits_required, materials, form, keywords_zh,"
	       " content_hash, created_at)"
	       " VALUES (?, ?, ?, ?, 'individual', 'birth', 'admin_permit', 'city', ?, 'Item',"
	       " 20, 5, ?, 4, 0, '[]', '[]', '[\"出生\"]', 'h', '2024-01-01T00:00:00Z')");
	assert_int_equal(db_exec(f->t.db, &q_dep, DB_ARGS(DB_TEXT("gov"), DB_TEXT("政务服务管理局"),
						       DB_TEXT("Government Services Bureau")),
				 NULL),
			 0);
	assert_int_equal(db_exec(f->t.db, &q_item,
				 DB_ARGS(DB_TEXT("A1"), DB_INT(1), DB_INT(0), DB_TEXT("gov"),
					 DB_TEXT("出生医学证明"), DB_TEXT("12.5")),
				 NULL),
			 0);
	assert_int_equal(db_exec(f->t.db, &q_item,
				 DB_ARGS(DB_TEXT("A1"), DB_INT(2), DB_INT(1), DB_TEXT("gov"),
					 DB_TEXT("出生医学证明"), DB_INT(0)),
				 NULL),
			 0);
	/* a second current version violates the partial unique index */
	assert_int_equal(db_exec(f->t.db, &q_item,
				 DB_ARGS(DB_TEXT("A1"), DB_INT(3), DB_INT(1), DB_TEXT("gov"),
					 DB_TEXT("x"), DB_INT(0)),
				 NULL),
			 GH_ECONFLICT);
	/* foreign keys are enforced (SQLite: PRAGMA foreign_keys) */
	assert_int_equal(db_exec(f->t.db, &q_item,
				 DB_ARGS(DB_TEXT("B1"), DB_INT(1), DB_INT(1), DB_TEXT("nope"),
					 DB_TEXT("x"), DB_INT(0)),
				 NULL),
			 GH_EDB);
	DB_SQL(q_fee, "SELECT fee_yuan, name_zh FROM service_items WHERE code = ? ORDER BY version");
	struct db_rows r;
	assert_int_equal(db_query(f->t.db, f->a, &q_fee, DB_ARGS(DB_TEXT("A1")), &r), 0);
	assert_int_equal(r.nrows, 2);
	assert_true(strtod(db_cell(&r, 0, 0), NULL) == 12.5);
	assert_string_equal(db_cell(&r, 0, 1), "出生医学证明");
	/* regions: level is checked */
	DB_SQL(q_reg, "INSERT INTO regions (code, parent, level, name_zh, name_en) VALUES (?, ?, ?, ?, ?)");
	assert_int_equal(db_exec(f->t.db, &q_reg,
				 DB_ARGS(DB_TEXT("310000"), DB_NULL, DB_TEXT("city"), DB_TEXT("上海市"),
					 DB_TEXT("Shanghai")),
				 NULL),
			 0);
	assert_int_equal(db_exec(f->t.db, &q_reg,
				 DB_ARGS(DB_TEXT("310101"), DB_TEXT("310000"), DB_TEXT("town"),
					 DB_TEXT("黄浦区"), DB_TEXT("Huangpu")),
				 NULL),
			 GH_EDB);
	/* bundle items cascade */
	assert_int_equal(db_exec_script(f->t.db,
					"INSERT INTO bundles (code, name_zh, name_en, description_zh,"
					" description_en) VALUES ('b', '出生一件事', 'Birth', '', '');"
					"INSERT INTO bundle_items (bundle, item, position) VALUES ('b', 'A1', 1);"
					"DELETE FROM bundles WHERE code = 'b';"),
			 0);
	DB_SQL(q_bi, "SELECT count(*) FROM bundle_items");
	assert_int_equal(db_query(f->t.db, f->a, &q_bi, DB_NOARGS, &r), 0);
	assert_int_equal(db_cell_int(&r, 0, 0), 0);
}

static void test_transactions(void **state)
{
	FX();
	make_table(f);
	DB_SQL(q_ins, "INSERT INTO t (id, s) VALUES (?, ?)");
	DB_SQL(q_count, "SELECT count(*) FROM t");
	struct db_rows r;

	assert_int_equal(db_rollback(f->t.db), 0); /* no-op outside a transaction */

	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("rolled back")), NULL), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_count, DB_NOARGS, &r), 0);
	assert_int_equal(db_cell_int(&r, 0, 0), 1);
	assert_int_equal(db_rollback(f->t.db), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_count, DB_NOARGS, &r), 0);
	assert_int_equal(db_cell_int(&r, 0, 0), 0);

	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("kept")), NULL), 0);
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(2), DB_TEXT("kept")), NULL), 0);
	assert_int_equal(db_commit(f->t.db), 0);

	/* another connection sees the committed rows */
	struct db *other;
	char err[256];
	assert_int_equal(db_open(f->t.url, &other, err, sizeof(err)), 0);
	assert_int_equal(db_query(other, f->a, &q_count, DB_NOARGS, &r), 0);
	assert_int_equal(db_cell_int(&r, 0, 0), 2);

	/* a failed statement inside a transaction, then rollback keeps the connection usable */
	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(3), DB_TEXT("x")), NULL), 0);
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("dup")), NULL), GH_ECONFLICT);
	assert_int_equal(db_rollback(f->t.db), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_count, DB_NOARGS, &r), 0);
	assert_int_equal(db_cell_int(&r, 0, 0), 2);

	/* busy: another connection holds the write lock (SQLite) or the row lock (PostgreSQL) */
	DB_SQL(q_upd, "UPDATE t SET s = ? WHERE id = ?");
	assert_int_equal(db_begin(other), 0);
	assert_int_equal(db_exec(other, &q_upd, DB_ARGS(DB_TEXT("locked"), DB_INT(1)), NULL), 0);
	if (f->kind == DB_SQLITE) {
		assert_int_equal(db_exec_script(f->t.db, "PRAGMA busy_timeout = 0"), 0);
		assert_int_equal(db_begin(f->t.db), GH_EBUSY);
		assert_int_equal(db_exec(f->t.db, &q_upd, DB_ARGS(DB_TEXT("me"), DB_INT(1)), NULL),
				 GH_EBUSY);
	} else {
		assert_int_equal(db_exec_script(f->t.db, "SET lock_timeout = '50ms'"), 0);
		assert_int_equal(db_begin(f->t.db), 0);
		assert_int_equal(db_exec(f->t.db, &q_upd, DB_ARGS(DB_TEXT("me"), DB_INT(1)), NULL),
				 GH_EBUSY);
		/* the transaction is aborted now: commit reports it */
		assert_int_equal(db_commit(f->t.db), GH_EDB);
	}
	assert_int_equal(db_rollback(f->t.db), 0);
	assert_int_equal(db_commit(other), 0);
	db_close(other);
}

static void test_statement_cache(void **state)
{
	FX();
	make_table(f);
	DB_SQL(q_ins, "INSERT INTO t (id, s) VALUES (?, ?)");
	DB_SQL(q_get, "SELECT s FROM t WHERE id = ?");
	struct db_stats before, after;
	struct db_rows r;
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("one")), NULL), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_get, DB_ARGS(DB_INT(1)), &r), 0);
	assert_true(q_get._id > 0);
	assert_true(q_ins._id != q_get._id);
	db_stats_get(&before);
	for (int i = 2; i < 50; i++) {
		assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(i), DB_TEXT("n")), NULL), 0);
		assert_int_equal(db_query(f->t.db, f->a, &q_get, DB_ARGS(DB_INT(i)), &r), 0);
		assert_string_equal(db_cell(&r, 0, 0), "n");
	}
	db_stats_get(&after);
	assert_int_equal(after.prepares, before.prepares);
	assert_true(after.queries >= before.queries + 96);
	/* errors are counted */
	assert_int_equal(db_exec(f->t.db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("dup")), NULL), GH_ECONFLICT);
	db_stats_get(&after);
	assert_int_equal(after.errors, before.errors + 1);
	/* a new connection prepares again, once */
	struct db *other;
	char err[256];
	assert_int_equal(db_open(f->t.url, &other, err, sizeof(err)), 0);
	db_stats_get(&before);
	assert_int_equal(db_query(other, f->a, &q_get, DB_ARGS(DB_INT(1)), &r), 0);
	assert_int_equal(db_query(other, f->a, &q_get, DB_ARGS(DB_INT(2)), &r), 0);
	db_stats_get(&after);
	assert_int_equal(after.prepares, before.prepares + 1);
	db_close(other);
}

static void test_qmark_in_literals(void **state)
{
	FX();
	/* Only the bare ? is a parameter; the others are text, an identifier and comments. */
	DB_SQL(q, "SELECT '?' AS a, 'it''s ?' AS \"b?\", ? AS c /* ? */ -- ?\n, '?''?' AS d");
	struct db_rows r;
	assert_int_equal(db_query(f->t.db, f->a, &q, DB_ARGS(DB_TEXT("p")), &r), 0);
	assert_int_equal(r.nrows, 1);
	assert_string_equal(db_cell(&r, 0, 0), "?");
	assert_string_equal(db_cell(&r, 0, 1), "it's ?");
	assert_string_equal(r.names[1], "b?");
	assert_string_equal(db_cell(&r, 0, 2), "p");
	assert_string_equal(db_cell(&r, 0, 3), "?'?");
	if (f->kind == DB_POSTGRES) {
		DB_SQL(q_pg, "SELECT $x$?$x$ AS a, E'\\'?' AS b, CAST(? AS bigint) + 1 AS c");
		assert_int_equal(db_query(f->t.db, f->a, &q_pg, DB_ARGS(DB_INT(41)), &r), 0);
		assert_string_equal(db_cell(&r, 0, 0), "?");
		assert_string_equal(db_cell(&r, 0, 1), "'?");
		assert_string_equal(db_cell(&r, 0, 2), "42");
	}
	/* pg_sql variant is used on PostgreSQL only */
	DB_SQL2(q2, "SELECT 'sqlite' WHERE ? = 1", "SELECT 'postgres' WHERE ? = 1");
	assert_int_equal(db_query(f->t.db, f->a, &q2, DB_ARGS(DB_INT(1)), &r), 0);
	assert_string_equal(db_cell(&r, 0, 0), f->kind == DB_POSTGRES ? "postgres" : "sqlite");
}

static void test_ping(void **state)
{
	FX();
	assert_int_equal(db_ping(f->t.db), 0);
	assert_int_equal(db_exec_script(f->t.db, ""), 0);
	assert_int_equal(db_exec_script(f->t.db, "NOT SQL AT ALL"), GH_EDB);
	assert_int_equal(db_ping(f->t.db), 0);
}

/* The server ends victim's session (from killer's) and waits until its process is gone. */
static void end_session(struct fx *f, struct db *victim, struct db *killer)
{
	DB_SQL(q_pid, "SELECT pg_backend_pid()");
	DB_SQL(q_kill, "SELECT pg_terminate_backend(CAST(? AS integer), 5000)");
	struct db_rows r;
	assert_int_equal(db_query(victim, f->a, &q_pid, DB_NOARGS, &r), 0);
	int64_t pid = db_cell_int(&r, 0, 0);
	assert_int_equal(db_query(killer, f->a, &q_kill, DB_ARGS(DB_INT(pid)), &r), 0);
	assert_string_equal(db_cell(&r, 0, 0), "t");
}

static struct db *open_killer(struct fx *f)
{
	struct db *killer;
	char err[256];
	assert_int_equal(db_open(f->t.url, &killer, err, sizeof(err)), 0);
	return killer;
}

static void test_reconnect(void **state)
{
	FX();
	if (f->kind != DB_POSTGRES)
		skip(); /* SQLite has no connection to lose */
	DB_SQL(q_one, "SELECT ? AS x");
	struct db_rows r;
	struct db *killer = open_killer(f);

	/* outside a transaction: reset and retried transparently, statements re-prepared */
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_TEXT("before")), &r), 0);
	end_session(f, f->t.db, killer);
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_TEXT("after")), &r), 0);
	assert_string_equal(db_cell(&r, 0, 0), "after");

	/* inside a transaction: the call fails, the next one works */
	assert_int_equal(db_begin(f->t.db), 0);
	end_session(f, f->t.db, killer);
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_TEXT("x")), &r), GH_EUNAVAILABLE);
	assert_int_equal(db_rollback(f->t.db), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_TEXT("again")), &r), 0);
	assert_string_equal(db_cell(&r, 0, 0), "again");

	/* a transaction whose session is lost before its ROLLBACK: the ROLLBACK ends it all the
	 * same, and the next call works (the session went with the transaction) */
	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_TEXT("in")), &r), 0);
	end_session(f, f->t.db, killer);
	db_rollback(f->t.db);
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_TEXT("next")), &r), 0);
	assert_string_equal(db_cell(&r, 0, 0), "next");

	/* the same for a read snapshot (a loop's, ended when its run returns) */
	db_read_snapshot(f->t.db);
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_TEXT("seen")), &r), 0);
	end_session(f, f->t.db, killer);
	db_read_end(f->t.db);
	db_read_snapshot(f->t.db);
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_TEXT("later")), &r), 0);
	assert_string_equal(db_cell(&r, 0, 0), "later");
	assert_int_equal(db_query(f->t.db, f->a, &q_one, DB_ARGS(DB_TEXT("and again")), &r), 0);
	assert_int_equal(db_read_end(f->t.db), 0);

	/* db_ping also recovers */
	end_session(f, f->t.db, killer);
	assert_int_equal(db_ping(f->t.db), 0);
	db_close(killer);
}

/* PostgreSQL only (the cases below lose sessions), with the table t. */
DB_SQL(q_t_ins, "INSERT INTO t (id, s) VALUES (?, ?)");
DB_SQL(q_t_count, "SELECT COUNT(*) FROM t");

static void pg_with_table(struct fx *f)
{
	if (f->kind != DB_POSTGRES)
		skip();
	make_table(f);
}

/* The rows of t as db sees them. */
static int64_t t_rows(struct fx *f, struct db *db)
{
	struct db_rows r;
	assert_int_equal(db_query(db, f->a, &q_t_count, DB_NOARGS, &r), 0);
	return db_cell_int(&r, 0, 0);
}

/* A transaction whose session is lost: no statement after the loss runs (on the next session
 * it would commit on its own), the COMMIT fails, nothing of it is written; after the rollback
 * the connection works again on a new session, its statements prepared again. */
static void test_lost_transaction(void **state)
{
	FX();
	pg_with_table(f);
	struct db_rows r;
	struct db *killer = open_killer(f);

	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(db_exec(f->t.db, &q_t_ins, DB_ARGS(DB_INT(1), DB_TEXT("before")), NULL), 0);
	end_session(f, f->t.db, killer);
	assert_int_equal(db_exec(f->t.db, &q_t_ins, DB_ARGS(DB_INT(2), DB_TEXT("lost")), NULL), GH_EUNAVAILABLE);
	/* a caller that ignores the failure and goes on: still refused */
	assert_int_equal(db_exec(f->t.db, &q_t_ins, DB_ARGS(DB_INT(3), DB_TEXT("after")), NULL), GH_EUNAVAILABLE);
	assert_int_equal(db_query(f->t.db, f->a, &q_t_count, DB_NOARGS, &r), GH_EUNAVAILABLE);
	assert_int_equal(db_commit(f->t.db), GH_EUNAVAILABLE);
	assert_int_equal(db_rollback(f->t.db), 0);

	struct db_stats before, after;
	db_stats_get(&before);
	assert_int_equal(t_rows(f, f->t.db), 0);
	assert_int_equal(db_exec(f->t.db, &q_t_ins, DB_ARGS(DB_INT(4), DB_TEXT("new session")), NULL), 0);
	db_stats_get(&after);
	assert_true(after.prepares >= before.prepares + 2); /* other threads may prepare too */
	assert_int_equal(t_rows(f, killer), 1);

	/* A caller that ends the lost transaction with db_commit alone (no db_rollback): the
	 * commit fails and ends it, and the next statement runs. */
	assert_int_equal(db_begin(f->t.db), 0);
	end_session(f, f->t.db, killer);
	assert_int_equal(db_exec(f->t.db, &q_t_ins, DB_ARGS(DB_INT(5), DB_TEXT("lost")), NULL), GH_EUNAVAILABLE);
	assert_int_equal(db_commit(f->t.db), GH_EUNAVAILABLE);
	assert_int_equal(db_exec(f->t.db, &q_t_ins, DB_ARGS(DB_INT(6), DB_TEXT("next")), NULL), 0);
	assert_int_equal(t_rows(f, killer), 2);
	db_close(killer);
}

/* A session that accepts no writes (as on a standby, or with default_transaction_read_only):
 * the readiness probe says so and the connection replaces the session; a write refused as
 * read-only outside a transaction runs again on a new session; inside one it loses the
 * transaction. */
static void test_read_only_session(void **state)
{
	FX();
	pg_with_table(f);
	assert_int_equal(db_ping(f->t.db), 0);
	assert_int_equal(db_exec_script(f->t.db, "SET default_transaction_read_only = on"), 0);
	assert_int_equal(db_ping(f->t.db), GH_EUNAVAILABLE);
	assert_int_equal(db_ping(f->t.db), 0); /* a new, writable session */

	assert_int_equal(db_exec_script(f->t.db, "SET default_transaction_read_only = on"), 0);
	assert_int_equal(db_exec(f->t.db, &q_t_ins, DB_ARGS(DB_INT(1), DB_TEXT("retried")), NULL), 0);

	assert_int_equal(db_exec_script(f->t.db, "SET default_transaction_read_only = on"), 0);
	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(db_exec(f->t.db, &q_t_ins, DB_ARGS(DB_INT(2), DB_TEXT("refused")), NULL), GH_EUNAVAILABLE);
	assert_int_equal(db_exec(f->t.db, &q_t_ins, DB_ARGS(DB_INT(3), DB_TEXT("refused")), NULL), GH_EUNAVAILABLE);
	assert_int_equal(db_commit(f->t.db), GH_EUNAVAILABLE);
	assert_int_equal(t_rows(f, f->t.db), 1);
}

/* The database turns read-only (here: ALTER DATABASE ... default_transaction_read_only, as a
 * demoted primary would be) under a connection whose URL lists two hosts, the first of which
 * answers nothing, and asks for target_session_attrs=read-write: once its session is gone it
 * finds no writable server (not ready), and finds it again when the database is writable. */
static void test_multi_host_read_write(void **state)
{
	FX();
	if (f->kind != DB_POSTGRES)
		skip();
	const char *at = strchr(f->t.url, '@'), *slash = at ? strchr(at, '/') : NULL;
	if (!at || !slash || strchr(f->t.url, '?'))
		skip(); /* a URL of another shape: nothing to build a host list from */
	char url[600], dbname[128];
	snprintf(url, sizeof(url), "%.*s127.0.0.1:1,%.*s?target_session_attrs=read-write", (int)(at + 1 - f->t.url),
		 f->t.url, (int)strlen(at + 1), at + 1);
	snprintf(dbname, sizeof(dbname), "%s", slash + 1);
	struct db *db, *other;
	char err[256], sql[256];
	assert_int_equal(db_open(url, &db, err, sizeof(err)), 0);
	assert_int_equal(db_ping(db), 0);

	snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" SET default_transaction_read_only = on", dbname);
	assert_int_equal(db_exec_script(f->t.db, sql), 0);
	end_session(f, db, f->t.db);
	assert_int_equal(db_ping(db), GH_EUNAVAILABLE);
	assert_int_equal(db_ping(db), GH_EUNAVAILABLE);
	assert_int_equal(db_open(url, &other, err, sizeof(err)), GH_EUNAVAILABLE);

	snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" RESET default_transaction_read_only", dbname);
	assert_int_equal(db_exec_script(f->t.db, sql), 0);
	/* A new connection anywhere in the process lets the waiting one try at once. */
	assert_int_equal(db_open(url, &other, err, sizeof(err)), 0);
	assert_int_equal(db_ping(db), 0);
	db_close(other);
	db_close(db);
}

/* ---- backend-independent tests ---- */

static void test_bad_url(void **state)
{
	(void)state;
	struct db *db = (struct db *)1;
	char err[256];
	err[0] = 0;
	assert_int_equal(db_open("postgresql://postgres@127.0.0.1:1/nope", &db, err, sizeof(err)),
			 GH_EUNAVAILABLE);
	assert_null(db);
	assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
	assert_null(strchr(err, '\n'));

	err[0] = 0;
	assert_int_equal(db_open("mysql://localhost/x", &db, err, sizeof(err)), GH_EUNAVAILABLE);
	assert_non_null(strstr(err, "unsupported database URL scheme 'mysql'"));

	err[0] = 0;
	assert_int_equal(db_open("sqlite:/nonexistent-govhall-dir/sub/x.db", &db, err, sizeof(err)),
			 GH_EUNAVAILABLE);
	assert_non_null(strstr(err, "SQLite"));

	err[0] = 0;
	assert_int_equal(db_open("", &db, err, sizeof(err)), GH_EUNAVAILABLE);
	assert_true(strlen(err) > 0);
	assert_int_equal(db_open(NULL, &db, NULL, 0), GH_EUNAVAILABLE);
}

static void rewrite_is(const char *in, const char *want, int nwant)
{
	struct sb sb = SB_INIT;
	int n = db_pg_rewrite(in, &sb);
	assert_string_equal(sb.buf, want);
	assert_int_equal(n, nwant);
	sb_release(&sb);
}

static void test_pg_rewrite(void **state)
{
	(void)state;
	rewrite_is("", "", 0);
	rewrite_is("SELECT 1", "SELECT 1", 0);
	rewrite_is("a = ? AND b = ?", "a = $1 AND b = $2", 2);
	rewrite_is("'?' ? '?''?' ?", "'?' $1 '?''?' $2", 2);
	rewrite_is("\"a?\"\"?\" ?", "\"a?\"\"?\" $1", 1);
	rewrite_is("? -- ? ?\n?", "$1 -- ? ?\n$2", 2);
	rewrite_is("? /* ? /* ? */ ? */ ?", "$1 /* ? /* ? */ ? */ $2", 2);
	rewrite_is("E'\\'?' ?", "E'\\'?' $1", 1);
	rewrite_is("e'\\\\' ?", "e'\\\\' $1", 1);  /* escaped backslash closes normally */
	rewrite_is("name'?' ?", "name'?' $1", 1); /* not an E-string: E preceded by letters */
	rewrite_is("$$?$$ ?", "$$?$$ $1", 1);
	rewrite_is("$fn$ ? $x$ ? $fn$ ?", "$fn$ ? $x$ ? $fn$ $1", 1);
	rewrite_is("a$b ? $1", "a$b $1 $1", 1); /* identifier with $, existing $n untouched */
	rewrite_is("'unterminated ?", "'unterminated ?", 0);
	rewrite_is("/* unterminated ?", "/* unterminated ?", 0);
	rewrite_is("'中文?' ?", "'中文?' $1", 1);
	char big[64];
	struct sb sb = SB_INIT;
	for (int i = 0; i < 12; i++)
		sb_adds(&sb, "?,");
	struct sb out = SB_INIT;
	assert_int_equal(db_pg_rewrite(sb.buf, &out), 12);
	snprintf(big, sizeof(big), "%.*s", 8, out.buf + out.len - 8);
	assert_string_equal(big, "$11,$12,");
	sb_release(&sb);
	sb_release(&out);
}

/* ---- rows covered by the transparency log (store/cover.h) ---- */

/* "Sealed" values are "encN:" + plaintext: what is committed is the plaintext, so re-sealing
 * under another key is no change. */
static int t_plain(struct arena *a, const char *col, const char *stored, size_t len, const char **out, size_t *outlen)
{
	(void)a;
	if (!strcmp(col, "s") && len > 5 && !strncmp(stored, "enc", 3) && stored[4] == ':') {
		*out = stored + 5;
		*outlen = len - 5;
		return 0;
	}
	if (!strcmp(col, "s") && len && stored[0] == '!')
		return GH_EINVAL; /* does not open */
	*out = stored;
	*outlen = len;
	return 0;
}

static const struct cover_table cover_t = {
	.table = "cover_t", .key = "id", .cols = "a, s", .where = "a <> 'draft'", .plain_cols = "s", .plain = t_plain,
};

static struct {
	int calls;
	size_t n;
	bool present[8];
	char keys[8][16];
	unsigned char digest[8][COVER_DIGEST_LEN];
	const char *action;
} logged;

static int t_logger(struct db *db)
{
	struct arena *a = arena_new(1024);
	struct cover_entry *e;
	size_t n;
	const char *action;
	int rc = cover_take(db, a, &e, &n, &action);
	logged.calls++;
	logged.n = n;
	logged.action = action && !strcmp(action, "first") ? "first" : action ? "other" : NULL;
	for (size_t i = 0; i < n && i < 8; i++) {
		logged.present[i] = e[i].present;
		snprintf(logged.keys[i], sizeof(logged.keys[i]), "%s", e[i].key);
		memcpy(logged.digest[i], e[i].digest, COVER_DIGEST_LEN);
	}
	arena_free(a);
	return rc;
}

static void test_cover(void **state)
{
	FX();
	cover_declare(&cover_t);
	cover_set_logger(t_logger);
	memset(&logged, 0, sizeof(logged));
	struct db *db = f->t.db;
	assert_int_equal(db_exec_script(db, "CREATE TABLE cover_t (id INTEGER PRIMARY KEY, a TEXT, s TEXT)"), 0);
	DB_SQL(q_ins, "INSERT INTO cover_t (id, a, s) VALUES (?, ?, ?)");
	DB_SQL(q_set, "UPDATE cover_t SET a = ?, s = ? WHERE id = ?");
	DB_SQL(q_del, "DELETE FROM cover_t WHERE id = ?");

	/* a touch needs the transaction that wrote the row; the table must be declared */
	assert_false(db_in_transaction(db));
	assert_int_equal(cover_touch_id(db, "cover_t", 1, NULL), GH_EINTERNAL);
	assert_int_equal(db_begin(db), 0);
	assert_true(db_in_transaction(db));
	assert_int_equal(cover_touch_id(db, "no_such_table", 1, NULL), GH_EINTERNAL);
	bool own = true;
	assert_int_equal(cover_tx_begin(db, &own), 0);
	assert_false(own); /* inside the caller's transaction */

	/* two rows touched (one twice): one call of the log's hook at commit, in touch order */
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("x"), DB_TEXT("enc1:secret")), NULL), 0);
	assert_int_equal(cover_touch_id(db, "cover_t", 1, "first"), 0);
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(2), DB_TEXT("y"), DB_NULL), NULL), 0);
	assert_int_equal(cover_touch_id(db, "cover_t", 2, "second"), 0);
	assert_int_equal(cover_touch_id(db, "cover_t", 1, NULL), 0);
	assert_true(cover_pending(db));
	assert_int_equal(db_commit(db), 0);
	assert_false(cover_pending(db));
	assert_int_equal(logged.calls, 1);
	assert_int_equal(logged.n, 2);
	assert_string_equal(logged.keys[0], "1");
	assert_string_equal(logged.keys[1], "2");
	assert_true(logged.present[0] && logged.present[1]);
	assert_string_equal(logged.action, "first");
	unsigned char d1[COVER_DIGEST_LEN];
	memcpy(d1, logged.digest[0], sizeof(d1));
	assert_memory_not_equal(logged.digest[0], logged.digest[1], COVER_DIGEST_LEN);

	/* rolled back: nothing reaches the log */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_exec(db, &q_set, DB_ARGS(DB_TEXT("z"), DB_TEXT("enc1:secret"), DB_INT(1)), NULL), 0);
	assert_int_equal(cover_touch_id(db, "cover_t", 1, NULL), 0);
	assert_int_equal(db_rollback(db), 0);
	assert_false(cover_pending(db));
	assert_int_equal(logged.calls, 1);

	/* re-sealed under another key: the same content; another plaintext: another */
	bool present;
	unsigned char d[COVER_DIGEST_LEN];
	const struct cover_info *ci = cover_find("cover_t");
	assert_non_null(ci);
	assert_int_equal(db_exec(db, &q_set, DB_ARGS(DB_TEXT("x"), DB_TEXT("enc2:secret"), DB_INT(1)), NULL), 0);
	assert_int_equal(cover_read(db, f->a, ci, "1", &present, d), 0);
	assert_true(present);
	assert_memory_equal(d, d1, COVER_DIGEST_LEN);
	assert_int_equal(db_exec(db, &q_set, DB_ARGS(DB_TEXT("x"), DB_TEXT("enc2:other"), DB_INT(1)), NULL), 0);
	assert_int_equal(cover_read(db, f->a, ci, "1", &present, d), 0);
	assert_memory_not_equal(d, d1, COVER_DIGEST_LEN);
	/* NULL and "" differ; a value that does not open is an error */
	unsigned char dn[COVER_DIGEST_LEN], de[COVER_DIGEST_LEN];
	const char *cells[2] = { "x", NULL };
	size_t lens[2] = { 1, 0 };
	assert_int_equal(cover_digest(ci, f->a, cells, lens, dn), 0);
	cells[1] = "";
	assert_int_equal(cover_digest(ci, f->a, cells, lens, de), 0);
	assert_memory_not_equal(dn, de, COVER_DIGEST_LEN);
	cells[1] = "!bad";
	lens[1] = 4;
	assert_int_equal(cover_digest(ci, f->a, cells, lens, de), GH_EINVAL);

	/* outside the covered condition, or deleted: absent */
	assert_int_equal(db_exec(db, &q_set, DB_ARGS(DB_TEXT("draft"), DB_NULL, DB_INT(2)), NULL), 0);
	assert_int_equal(cover_read(db, f->a, ci, "2", &present, d), 0);
	assert_false(present);
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_exec(db, &q_del, DB_ARGS(DB_INT(1)), NULL), 0);
	assert_int_equal(cover_touch_id(db, "cover_t", 1, NULL), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(logged.calls, 2);
	assert_int_equal(logged.n, 1);
	assert_false(logged.present[0]);
	assert_null(logged.action);

	/* a write that begins its own transaction when the caller has none */
	assert_int_equal(cover_tx_begin(db, &own), 0);
	assert_true(own);
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(3), DB_TEXT("w"), DB_NULL), NULL), 0);
	assert_int_equal(cover_tx_end_id(db, own, 0, "cover_t", 3, "own"), 0);
	assert_false(db_in_transaction(db));
	assert_int_equal(logged.calls, 3);
	/* ... and rolls it back on an error, with the touch */
	assert_int_equal(cover_tx_begin(db, &own), 0);
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(4), DB_TEXT("v"), DB_NULL), NULL), 0);
	assert_int_equal(cover_tx_end_id(db, own, GH_ECONFLICT, "cover_t", 4, NULL), GH_ECONFLICT);
	assert_false(db_in_transaction(db));
	assert_false(cover_pending(db));
	assert_int_equal(logged.calls, 3);
	cover_set_logger(NULL);
}

/* An event loop's connection reads and refuses every write: while guarded (db_guard_writes)
 * and for good (db_refuse_writes), with reads, CTE reads and comments before a read allowed. */
static void test_refuse_writes(void **state)
{
	FX();
	make_table(f);
	struct db *db = f->t.db;
	DB_SQL(q_ins, "INSERT INTO t (id, u) VALUES (?, ?)");
	DB_SQL(q_ins_ret, "INSERT INTO t (id, u) VALUES (?, ?) RETURNING id");
	DB_SQL(q_upd, "  UPDATE t SET s = 'x'");
	DB_SQL(q_sel, "SELECT COUNT(*) FROM t");
	DB_SQL(q_with, "/* a read */ WITH c AS (SELECT id FROM t) SELECT COUNT(*) FROM c");
	DB_SQL(q_cte_write, "WITH c AS (SELECT 5 AS id) INSERT INTO t (id) SELECT id FROM c");
	struct db_rows rows;
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("a")), NULL), 0);

	db_guard_writes(db, "test.route");
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(2), DB_TEXT("b")), NULL), GH_EINTERNAL);
	assert_non_null(strstr(db_last_error(db), "test.route"));
	assert_int_equal(db_query(db, f->a, &q_ins_ret, DB_ARGS(DB_INT(3), DB_TEXT("c")), &rows), GH_EINTERNAL);
	assert_int_equal(db_exec(db, &q_upd, DB_NOARGS, NULL), GH_EINTERNAL);
	assert_int_equal(db_exec_script(db, "DELETE FROM t"), GH_EINTERNAL);
	assert_int_equal(db_begin(db), GH_EINTERNAL);
	assert_int_equal(db_query(db, f->a, &q_sel, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 1);
	assert_int_equal(db_query(db, f->a, &q_with, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 1);
	db_guard_writes(db, NULL);
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(2), DB_TEXT("b")), NULL), 0);

	assert_int_equal(db_refuse_writes(db), 0);
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(4), DB_TEXT("d")), NULL), GH_EINTERNAL);
	/* a read that locks rows is a write here (it would wait on the writer's locks), in
	 * whichever backend's text it is spelt, and in any spelling of the clause; the words in a
	 * quoted string or a name are no clause */
	DB_SQL2(q_lock_pg, "SELECT COUNT(*) FROM t", "SELECT COUNT(*) FROM (SELECT id FROM t FOR UPDATE) l");
	DB_SQL2(q_lock_share, "SELECT COUNT(*) FROM t", "SELECT id FROM t for\n  share");
	DB_SQL2(q_lock_nokey, "SELECT COUNT(*) FROM t", "SELECT id FROM t FOR NO KEY UPDATE SKIP LOCKED");
	DB_SQL(q_not_lock, "SELECT COUNT(*) FROM t WHERE COALESCE(s, '') <> 'wait for update'");
	DB_SQL(q_for_col, "SELECT COUNT(*) FROM (SELECT 1 AS \"for\") x");
	struct db_sql *locking[] = { &q_lock_pg, &q_lock_share, &q_lock_nokey };
	for (size_t i = 0; i < sizeof(locking) / sizeof(*locking); i++) {
		assert_int_equal(db_query(db, f->a, locking[i], DB_NOARGS, &rows), GH_EINTERNAL);
		assert_non_null(strstr(db_last_error(db), "locking read"));
	}
	assert_int_equal(db_query(db, f->a, &q_not_lock, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 2);
	assert_int_equal(db_query(db, f->a, &q_for_col, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 1);
	/* a write dressed as a read gets past the statement check: the database itself refuses
	 * it (SQLite's query_only, PostgreSQL's read-only session), in every build */
	assert_int_not_equal(db_query(db, f->a, &q_cte_write, DB_NOARGS, &rows), 0);
	if (f->kind == DB_POSTGRES) /* our refusal, not a standby: no failover */
		assert_non_null(strstr(db_last_error(db), "event loop"));
	assert_int_equal(db_query(db, f->a, &q_sel, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 2);
	assert_int_equal(db_ping(db), 0); /* ready: the server accepts writes, the session does not */
	/* inside a read snapshot too, and the snapshot's next read still runs */
	db_read_snapshot(db);
	assert_int_equal(db_query(db, f->a, &q_sel, DB_NOARGS, &rows), 0);
	assert_int_not_equal(db_query(db, f->a, &q_cte_write, DB_NOARGS, &rows), 0);
	assert_int_equal(db_query(db, f->a, &q_sel, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 2);
	assert_int_equal(db_read_end(db), 0);
	if (f->kind == DB_POSTGRES) {
		/* a new session (after the server ended the old one) refuses writes as well */
		struct db *killer = open_killer(f);
		end_session(f, db, killer);
		assert_int_not_equal(db_query(db, f->a, &q_cte_write, DB_NOARGS, &rows), 0);
		assert_int_equal(t_rows(f, killer), 2);
		db_close(killer);
	}
	assert_int_equal(db_query(db, f->a, &q_sel, DB_NOARGS, &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 2);
}

/* The text of t's row id as db sees it now. */
static const char *t_text(struct fx *f, struct db *db, int64_t id)
{
	DB_SQL(q_s, "SELECT s FROM t WHERE id = ?");
	struct db_rows r;
	assert_int_equal(db_query(db, f->a, &q_s, DB_ARGS(DB_INT(id)), &r), 0);
	return r.nrows ? db_cell(&r, 0, 0) : NULL;
}

/* A read snapshot (db_read_snapshot .. db_read_end): a second connection (the writer) commits
 * between two reads; inside the snapshot the second read still sees the first read's moment,
 * after it the new state. Without one, each statement sees the latest commit. */
static void test_read_snapshot(void **state)
{
	FX();
	make_table(f);
	struct db *db = f->t.db, *writer;
	char err[256];
	assert_int_equal(db_open(f->t.url, &writer, err, sizeof(err)), 0);
	DB_SQL(q_ins, "INSERT INTO t (id, s) VALUES (?, ?)");
	DB_SQL(q_upd, "UPDATE t SET s = ? WHERE id = ?");
	DB_SQL(q_bad, "SELECT nothing FROM no_such_table");
	struct db_rows r;
	assert_int_equal(db_exec(writer, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("order due")), NULL), 0);
	assert_int_equal(db_exec(writer, &q_ins, DB_ARGS(DB_INT(2), DB_TEXT("fee due")), NULL), 0);
	assert_int_equal(db_refuse_writes(db), 0); /* as the loops' connections are */

	/* without a snapshot: the second read sees the commit (the skew) */
	assert_string_equal(t_text(f, db, 1), "order due");
	assert_int_equal(db_exec(writer, &q_upd, DB_ARGS(DB_TEXT("order paid"), DB_INT(1)), NULL), 0);
	assert_string_equal(t_text(f, db, 1), "order paid");

	/* nothing read: nothing opened, nothing to end */
	db_read_snapshot(db);
	assert_false(db_in_transaction(db));
	assert_int_equal(db_read_end(db), 0);

	/* inside one: both rows from the moment of the first read */
	db_read_snapshot(db);
	assert_string_equal(t_text(f, db, 1), "order paid");
	assert_false(db_in_transaction(db)); /* a snapshot is no transaction to write in */
	assert_int_equal(db_begin(writer), 0);
	assert_int_equal(db_exec(writer, &q_upd, DB_ARGS(DB_TEXT("order refunded"), DB_INT(1)), NULL), 0);
	assert_int_equal(db_exec(writer, &q_upd, DB_ARGS(DB_TEXT("fee refunded"), DB_INT(2)), NULL), 0);
	assert_int_equal(db_commit(writer), 0);
	assert_string_equal(t_text(f, db, 2), "fee due");
	assert_string_equal(t_text(f, db, 1), "order paid");
	assert_int_equal(t_rows(f, db), 2);
	assert_int_equal(db_exec(writer, &q_ins, DB_ARGS(DB_INT(3), DB_TEXT("new")), NULL), 0);
	assert_int_equal(t_rows(f, db), 2);
	assert_int_equal(db_read_end(db), 0);
	assert_string_equal(t_text(f, db, 2), "fee refunded");
	assert_int_equal(t_rows(f, db), 3);

	/* a failed read ends the snapshot; the next read runs, in a new one */
	db_read_snapshot(db);
	assert_int_equal(t_rows(f, db), 3);
	assert_int_not_equal(db_query(db, f->a, &q_bad, DB_NOARGS, &r), 0);
	assert_int_equal(db_exec(writer, &q_ins, DB_ARGS(DB_INT(4), DB_TEXT("later")), NULL), 0);
	assert_int_equal(t_rows(f, db), 4);
	assert_int_equal(db_exec(writer, &q_ins, DB_ARGS(DB_INT(5), DB_TEXT("later still")), NULL), 0);
	assert_int_equal(t_rows(f, db), 4);
	assert_int_equal(db_read_end(db), 0);
	assert_int_equal(t_rows(f, db), 5);
	db_close(writer);
}

/* On a connection that may write, a write inside a snapshot ends it first (the write is made
 * and seen; later reads take a new snapshot). */
static void test_snapshot_then_write(void **state)
{
	FX();
	make_table(f);
	struct db *db = f->t.db;
	DB_SQL(q_ins, "INSERT INTO t (id, s) VALUES (?, ?)");
	db_read_snapshot(db);
	assert_int_equal(t_rows(f, db), 0);
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("a")), NULL), 0);
	assert_int_equal(t_rows(f, db), 1);
	assert_int_equal(db_begin(db), 0);
	assert_true(db_in_transaction(db));
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(2), DB_TEXT("b")), NULL), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(db_read_end(db), 0);
	assert_int_equal(t_rows(f, db), 2);
}


/* db_data_version: moves when any connection commits a change (another one's, or db's own),
 * not for reads; inside a read snapshot it is the snapshot's; inside db's own transaction, and
 * on PostgreSQL, there is none. */
static void test_data_version(void **state)
{
	FX();
	make_table(f);
	struct db *db = f->t.db, *other;
	char err[256];
	uint64_t v0, v1, v2;
	if (f->kind == DB_POSTGRES) {
		assert_int_equal(db_data_version(db, &v0), GH_EUNSUPPORTED);
		return;
	}
	assert_int_equal(db_open(f->t.url, &other, err, sizeof(err)), 0);
	DB_SQL(q_ins, "INSERT INTO t (id, s) VALUES (?, ?)");
	assert_int_equal(db_data_version(db, &v0), 0);
	assert_int_equal(t_rows(f, db), 0);
	assert_int_equal(db_data_version(db, &v1), 0);
	assert_true(v0 == v1); /* a read changes nothing */
	assert_int_equal(db_exec(other, &q_ins, DB_ARGS(DB_INT(1), DB_TEXT("a")), NULL), 0);
	assert_int_equal(db_data_version(db, &v1), 0);
	assert_true(v1 != v0); /* another connection committed */
	assert_int_equal(db_exec(db, &q_ins, DB_ARGS(DB_INT(2), DB_TEXT("b")), NULL), 0);
	assert_int_equal(db_data_version(db, &v2), 0);
	assert_true(v2 != v1); /* db's own change */

	/* a snapshot: the version of what it reads, however the database moves meanwhile */
	db_read_snapshot(db);
	assert_int_equal(db_data_version(db, &v0), 0);
	assert_int_equal(db_exec(other, &q_ins, DB_ARGS(DB_INT(3), DB_TEXT("c")), NULL), 0);
	assert_int_equal(db_data_version(db, &v1), 0);
	assert_true(v0 == v1);
	assert_int_equal(t_rows(f, db), 2);
	assert_int_equal(db_read_end(db), 0);
	assert_int_equal(db_data_version(db, &v2), 0);
	assert_true(v2 != v1);
	assert_int_equal(t_rows(f, db), 3);

	/* inside db's own transaction: none (what it reads may be rolled back) */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_data_version(db, &v0), GH_EUNSUPPORTED);
	assert_int_equal(db_rollback(db), 0);
	db_close(other);
}

/* The personal parts every domain declares (store/personal.h, app_cover_declare in testdb_open):
 * names unique, a second declaration of the same part is no change, and on the migrated
 * schema of each backend every part's query runs for an account and every erasure runs in a
 * transaction, while a kept part's erasure changes nothing. */
static void test_personal(void **state)
{
	FX();
	struct db *db = f->t.db;
	char err[256];
	assert_int_equal(db_migrate(db, err, sizeof(err)), 0);
	size_t n = personal_count();
	assert_true(n >= 20);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const struct personal_part *p = personal_at(i);
		kept += p->kept;
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(personal_at(j)->name, p->name);
	}
	assert_true(kept > 0 && kept < n);
	personal_declare(personal_at(0));
	assert_int_equal(personal_count(), n);
	assert_null(personal_at(n));

	DB_SQL(q_acc, "INSERT INTO accounts (kind, name, password_hash, key_id, created_at, password_changed_at) "
		      "VALUES ('individual', 'p', 'x', 1, 1, 1) RETURNING id");
	DB_SQL(q_inbox, "INSERT INTO inbox (account_id, kind, title_zh, title_en, body_zh, body_en, created_at) "
			"VALUES (?, 'k', 't', 't', 'b', 'b', 1)");
	DB_SQL(q_count, "SELECT COUNT(*) FROM inbox WHERE account_id = ?");
	struct db_rows rows;
	assert_int_equal(db_query(db, f->a, &q_acc, DB_NOARGS, &rows), 0);
	int64_t id = db_cell_int(&rows, 0, 0);
	assert_int_equal(db_exec(db, &q_inbox, DB_ARGS(DB_INT(id)), NULL), 0);
	for (size_t i = 0; i < n; i++) {
		const struct personal_part *p = personal_at(i);
		assert_int_equal(personal_rows(db, f->a, p, id, &rows), 0);
		if (strcmp(p->name, "account") == 0 || strcmp(p->name, "inbox") == 0)
			assert_int_equal(rows.nrows, 1);
	}
	assert_int_equal(db_begin(db), 0);
	for (size_t i = 0; i < n; i++) {
		const struct personal_part *p = personal_at(i);
		if (!p->kept)
			continue;
		assert_int_equal(personal_erase(db, f->a, p, id), 0); /* nothing */
	}
	assert_int_equal(db_query(db, f->a, &q_count, DB_ARGS(DB_INT(id)), &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 1);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(personal_erase(db, f->a, personal_at(i), id), 0);
	assert_int_equal(db_query(db, f->a, &q_count, DB_ARGS(DB_INT(id)), &rows), 0);
	assert_int_equal(db_cell_int(&rows, 0, 0), 0);
	assert_int_equal(db_rollback(db), 0);
}

/* Each backend test twice, named so the output says which backend failed. */
#define BOTH(fn)                                                      \
	{ #fn " [sqlite]", fn, setup, teardown, &kind_sqlite },       \
	{                                                             \
		#fn " [postgres]", fn, setup, teardown, &kind_pg      \
	}

int main(void)
{
	if (!getenv("GOVHALL_TEST_PG"))
		fprintf(stderr, "test_store: GOVHALL_TEST_PG not set; PostgreSQL tests are skipped "
				"(run under scripts/pg-test.sh run -- ...)\n");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_pg_rewrite),
		BOTH(test_open_close),
		BOTH(test_migrate_idempotent),
		BOTH(test_migrate_fills_gap),
		BOTH(test_refuses_newer_schema),
		BOTH(test_param_types),
		BOTH(test_unique_conflict),
		BOTH(test_returning_id),
		BOTH(test_channel_check),
		BOTH(test_catalog_schema),
		BOTH(test_transactions),
		BOTH(test_statement_cache),
		BOTH(test_qmark_in_literals),
		BOTH(test_ping),
		BOTH(test_reconnect),
		BOTH(test_lost_transaction),
		BOTH(test_read_only_session),
		BOTH(test_multi_host_read_write),
		BOTH(test_cover),
		BOTH(test_refuse_writes),
		BOTH(test_personal),
		BOTH(test_read_snapshot),
		BOTH(test_snapshot_then_write),
		BOTH(test_data_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
