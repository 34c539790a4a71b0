/* db.h: one storage interface, two backends (SQLite, PostgreSQL).
 *
 * Invariants:
 * - A struct db is one connection, used by one thread at a time. Each worker thread opens
 *   its own; nodes share nothing but the database.
 * - SQL is written once with '?' placeholders; the PostgreSQL backend rewrites them to $1..$n.
 *   Write portable SQL (both dialects accept it); where they differ, struct db_sql carries a
 *   PostgreSQL variant. Parameters are always bound, never spliced into the text.
 * - Each struct db_sql is prepared once per connection and cached (keyed by the statement's
 *   lazily assigned id), so statements must be static or otherwise live forever (DB_SQL()).
 * - Result rows are copied into the caller's arena as NUL-terminated text (NULL for SQL NULL);
 *   nothing returned points into backend memory.
 * - Backend errors become GH_E* codes: a unique or primary-key violation is GH_ECONFLICT on
 *   both backends, a busy/locked database GH_EBUSY, anything else GH_EDB (details logged).
 *
 * Backend differences callers should know (the store tests pin these down):
 * - Values come back as text. Integers print the same on both; use INTEGER 0/1 rather than
 *   boolean (PostgreSQL prints booleans as t/f). Floating point: SQLite prints 1.0 as "1.0",
 *   PostgreSQL as "1"; parse with strtod rather than comparing text.
 * - BLOB results: SQLite BLOB and PostgreSQL bytea columns both come back as the raw bytes
 *   (the PostgreSQL backend decodes bytea's hex text output), with the length in lens[].
 * - Parameters go to PostgreSQL as text (integers printed in decimal, BLOBs in binary
 *   format), and the server infers each placeholder's type from its context; write
 *   CAST(? AS bigint) where the context does not say (e.g. SELECT ? + ?).
 * - '?' is always a placeholder outside quotes and comments, so PostgreSQL's jsonb ?, ?| and
 *   ?& operators cannot be used: call jsonb_exists() and friends instead.
 * - db_begin() is BEGIN IMMEDIATE on SQLite (takes the write lock up front, so busy_timeout
 *   can wait for it instead of failing a lock upgrade) and BEGIN on PostgreSQL.
 * - PostgreSQL: the URL may list several hosts (failover: see postgres.c). A connection the
 *   server closed while idle is replaced before the next call, which then runs there. A call
 *   whose connection goes while it runs fails with GH_EUNAVAILABLE and is not run again (it
 *   may have committed); inside a transaction every call, db_commit included, then fails with
 *   GH_EUNAVAILABLE until db_rollback (or db_commit) ends it. db_commit's GH_EUNAVAILABLE
 *   means the outcome is unknown: do not write the same thing again unless it is idempotent.
 */
#ifndef GH_DB_H
#define GH_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

struct db;

enum db_kind { DB_SQLITE = 1, DB_POSTGRES = 2 };

struct db_sql {
	const char *sql;    /* portable SQL with ? placeholders */
	const char *pg_sql; /* optional PostgreSQL variant (also with ?) */
	int _id;            /* assigned on first use; 0 = not yet */
};
#define DB_SQL(name, text) static struct db_sql name = { .sql = (text) }
#define DB_SQL2(name, text, pgtext) static struct db_sql name = { .sql = (text), .pg_sql = (pgtext) }

enum db_type { DB_T_NULL, DB_T_INT, DB_T_TEXT, DB_T_BLOB };

struct db_val {
	enum db_type type;
	int64_t i;
	const char *s; /* TEXT or BLOB */
	size_t len;    /* for TEXT: (size_t)-1 means strlen(s) */
};
#define DB_NULL ((struct db_val){ .type = DB_T_NULL })
#define DB_INT(v) ((struct db_val){ .type = DB_T_INT, .i = (int64_t)(v) })
/* DB_TEXT(NULL) binds SQL NULL. An inline function rather than a ?: on the argument, so a
 * char array argument does not trip -Waddress. */
static inline struct db_val db_text_(const char *s)
{
	struct db_val v = { .type = s ? DB_T_TEXT : DB_T_NULL, .s = s, .len = (size_t)-1 };
	return v;
}
#define DB_TEXT(v) db_text_(v)
#define DB_TEXTN(v, n) ((struct db_val){ .type = DB_T_TEXT, .s = (v), .len = (n) })
#define DB_BLOB(v, n) ((struct db_val){ .type = DB_T_BLOB, .s = (const char *)(v), .len = (n) })
#define DB_ARGS(...) ((const struct db_val[]){ __VA_ARGS__ }), \
	(sizeof((const struct db_val[]){ __VA_ARGS__ }) / sizeof(struct db_val))
#define DB_NOARGS NULL, 0

struct db_rows {
	size_t nrows, ncols;
	char **cells;  /* nrows * ncols, row-major; NULL = SQL NULL */
	size_t *lens;  /* byte length of each cell (BLOBs may hold NULs) */
	char **names;  /* ncols column names */
};

/* Opens a connection. url: a file path or "sqlite:PATH" for SQLite, "postgresql://..." or
 * "postgres://..." for PostgreSQL. On failure returns GH_EUNAVAILABLE and writes a message
 * for the operator into err (may be NULL). */
int db_open(const char *url, struct db **out, char *err, size_t errlen);
/* The same, naming what the connection is for: PostgreSQL shows name as the connection's
 * application_name in pg_stat_activity (unless the URL sets one); SQLite ignores it. */
int db_open_named(const char *url, const char *name, struct db **out, char *err, size_t errlen);
void db_close(struct db *db);
/* The file path of a SQLite database URL (a plain path or sqlite:PATH, pointing into url), or
 * NULL for PostgreSQL and anything else. */
const char *db_url_sqlite_path(const char *url);

/* Backups of SQLite databases (backup.c); PostgreSQL has pg_dump and pg_basebackup.
 * db_sqlite_backup copies the database at path into a new file dest, consistently while other
 * connections read and write (SQLite's online backup API, one read transaction), as a single
 * file (rollback-journal mode), checked with quick_check; written to a temporary file beside
 * dest and renamed, so dest is whole or absent. Refuses (GH_ECONFLICT) when dest exists.
 * db_sqlite_restore replaces the database at target with the backup file: the backup must pass
 * quick_check and have a schema version this binary knows (else GH_EINVAL); the target must
 * not be open anywhere else (GH_EBUSY: a server uses it), and must be empty unless force
 * (GH_ECONFLICT). The copy is one transaction of the target, so the target is either the old
 * database or the restored one. Both give *schema (may be NULL) and a message in err. */
int db_sqlite_backup(const char *path, const char *dest, int *schema, int64_t *bytes, char *err, size_t errlen);
int db_sqlite_restore(const char *backup, const char *target, bool force, int *schema, char *err, size_t errlen);
enum db_kind db_kind(const struct db *db);
const char *db_kind_name(const struct db *db);

/* Runs a query and copies every row into arena. */
int db_query(struct db *db, struct arena *arena, struct db_sql *q, const struct db_val *params,
	     size_t nparams, struct db_rows *out);
/* A read made into an array, one element of size bytes per row: row(rows, i, elem) fills
 * element i (zeroed before). out is the address of the caller's element pointer (T **), set
 * to the array in arena (never NULL, even for no rows); *n the number of rows. 0 or
 * db_query's code. */
int db_query_array(struct db *db, struct arena *arena, struct db_sql *q, const struct db_val *params,
		   size_t nparams, size_t size, void (*row)(const struct db_rows *rows, size_t i, void *elem), void *out,
		   size_t *n);
/* Runs a statement that returns no rows; *changes (may be NULL) gets the affected row count. */
int db_exec(struct db *db, struct db_sql *q, const struct db_val *params, size_t nparams,
	    int64_t *changes);
/* Runs a script of several statements without parameters (migrations only). */
int db_exec_script(struct db *db, const char *sql);
/* PostgreSQL's COPY ... FROM STDIN: runs sql (a COPY statement in text format) and sends data
 * (len bytes of rows in COPY's text format: tab-separated, \N for NULL, backslash escapes)
 * as its input; for bulk writers (`govhall bench-scale`). GH_EUNSUPPORTED on SQLite; GH_E code
 * when the statement or a row is refused (nothing of it is written). */
int db_copy(struct db *db, const char *sql, const char *data, size_t len);

/* The last backend error message on this connection ("" if none); for operators and tests,
 * never for citizens. Valid until the next call on db. */
const char *db_last_error(const struct db *db);

/* Transactions do not nest. db_commit() of a transaction PostgreSQL already aborted returns
 * GH_EDB. db_rollback() outside a transaction is a no-op returning 0, so an error path can
 * always call it. db_commit() first appends the log leaf of the covered rows the transaction
 * changed (store/cover.h); its failure fails the commit. db_rollback() forgets them. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
/* Whether a transaction (or the group writer's batch) is open on db. */
bool db_in_transaction(struct db *db);

/* Work held until the end of the transaction: a module may keep in memory what it wrote in
 * the open transaction and write it once, right before the transaction's own COMMIT (the
 * transparency log's head: once per batch of the group-commit writer, not once per append).
 * - db_tx_epoch() names the moment: 0 outside a transaction; it changes at every BEGIN, COMMIT
 *   and ROLLBACK and at every rollback to a savepoint, so memory kept for an epoch that is no
 *   longer current is stale (what it described may have been undone).
 * - db_tx_defer(db, fn): fn(db) runs before the COMMIT of the open transaction (not before a
 *   nested one's), and before a savepoint is taken (store/group.c), so a rollback to that
 *   savepoint finds the database as the memory was; its failure fails the commit. A rollback
 *   forgets it. One deferred function per connection: another one is GH_EINTERNAL.
 * - db_tx_flush() runs the deferred function now (when there is one): before a direct read or
 *   write of what it holds.
 * - db_tx_memory(db, size): size zeroed bytes kept with the connection for such a module (one
 *   per process), allocated at the first call and freed with the connection. */
uint64_t db_tx_epoch(struct db *db);
int db_tx_defer(struct db *db, int (*fn)(struct db *db));
int db_tx_flush(struct db *db);
void *db_tx_memory(struct db *db, size_t size);

/* A number that differs whenever a change was committed to the database by any connection
 * (of this process or another: the group-commit writer, another node, a command; db's own
 * changes too) between two calls, as of what db's reads see: with a read snapshot armed
 * (db_read_snapshot), it opens it first, so the number describes the snapshot the next reads
 * see. For node-local memories of rows that must answer as the database would (identity's
 * session and token checks): a row read after the call and remembered with the number is what
 * the database still holds while the number is the same. SQLite: its data_version.
 * GH_EUNSUPPORTED where the backend cannot tell (PostgreSQL), or inside a transaction db
 * opened (db_begin): remember nothing then. */
int db_data_version(struct db *db, uint64_t *v);

/* Makes db refuse every write from now on: db_exec, db_exec_script, db_begin, and db_query of
 * a statement that is not a read (SELECT, WITH, VALUES), or that locks the rows it reads
 * (FOR UPDATE, FOR SHARE: in either backend's text, so SQLite refuses what only the PostgreSQL
 * variant spells), fail with GH_EINTERNAL, logged as the programming error it is (with the
 * statement), and the database itself refuses whatever
 * else would write (a write dressed as a read: WITH ... INSERT): SQLite's query_only pragma,
 * PostgreSQL's default_transaction_read_only set on the session (and on every session that
 * replaces it; the readiness probe then asks whether the server is a standby or the database
 * read-only), its refusal GH_EINTERNAL too. For the event loops' connections in every build:
 * handlers read there and write through the group-commit writer (http/write.h), so a write on
 * a loop cannot hide. 0 or a GH_E code (the setting could not be made). */
int db_refuse_writes(struct db *db);

/* The same for a while: from now until the next call with NULL, writes on db are refused in
 * the name of owner (what runs on it, e.g. a route's name; in the message). For connections
 * that serve both code that may write and code that must not. */
void db_guard_writes(struct db *db, const char *owner);

/* Read snapshots. After db_read_snapshot(db), the next read (db_query) opens a read-only
 * transaction, and every read after it until db_read_end(db) sees the database as it was at
 * that first read: what the writer commits meanwhile (on another connection) is not seen, so
 * rows read by separate statements belong to one moment. SQLite: a deferred BEGIN (WAL gives
 * it one snapshot); PostgreSQL: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY. Nothing is
 * opened when nothing is read, or when the caller has a transaction of its own. A failed read
 * ends the snapshot (PostgreSQL refuses every statement after an error), and the next read
 * takes a new one. A write on a connection that may write ends it first. db_in_transaction is
 * false inside a snapshot. db_read_end ends it (no-op when none is open): 0 or a GH_E code. */
void db_read_snapshot(struct db *db);
int db_read_end(struct db *db);

/* A background duty's pass that one node of many runs at a time: on PostgreSQL a session
 * advisory lock on key, tried without waiting (*run false: another node runs the pass now,
 * skip it); on SQLite (one node) *run is always true. After a pass that ran, db_duty_unlock
 * releases the lock (0 or a GH_E code; 0 on SQLite). */
int db_duty_lock(struct db *db, int64_t key, bool *run);
int db_duty_unlock(struct db *db, int64_t key);

/* Readiness: 0 when the database answers and accepts writes (on this connection; on one that
 * refuses writes by db_refuse_writes, on its server: not a standby, the database not set
 * read-only); otherwise GH_EUNAVAILABLE (PostgreSQL: no server reached, or a read-only one,
 * e.g. a standby: the connection then looks for a writable server at its next call). */
int db_ping(struct db *db);

/* Cell accessors: r row, c column. */
const char *db_cell(const struct db_rows *rows, size_t r, size_t c);
int64_t db_cell_int(const struct db_rows *rows, size_t r, size_t c);

/* Counters for /metrics (process-wide, thread-safe). */
struct db_stats {
	uint64_t queries, errors, prepares;
};
void db_stats_get(struct db_stats *out);

/* SQLite durability for connections opened from now on: full (every commit reaches the disk
 * before it is answered) or normal (WAL keeps the file consistent; the last commits may be
 * lost on power loss). Call before opening connections. */
void db_sqlite_set_synchronous(bool full);

/* Migrations (migrate.c): brings the schema to the version this binary knows. Refuses a
 * database whose schema is newer than the binary (GH_EUNAVAILABLE, message in err). */
int db_migrate(struct db *db, char *err, size_t errlen);
/* For commands: opens url and migrates it, saying on stderr what went wrong. 0, or -1 (*db
 * closed). */
int db_open_migrated(const char *url, struct db **db);
/* Now in UTC as "2026-03-01T06:05:09Z" (the created_at / applied_at text columns; len >= 21). */
void db_now_iso(char *buf, size_t len);
/* The highest applied migration (0 for an empty database), or a negative GH_E* code. */
int db_schema_version(struct db *db);
/* The highest migration this binary carries. */
int db_schema_version_known(void);

struct sb;
/* Appends sql to out with each '?' placeholder rewritten to $1..$n, leaving '?' inside
 * string literals ('...', E'...', $tag$...$tag$), quoted identifiers and comments alone.
 * Returns n. Used by the PostgreSQL backend; exported for tests. Does not fail. */
int db_pg_rewrite(const char *sql, struct sb *out);

#endif
