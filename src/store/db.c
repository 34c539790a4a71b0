/* db.c: the backend-independent half of db.h: URL dispatch, statement ids, counters, row
 * copying, cell accessors, error recording and the '?' -> $n rewriter for PostgreSQL. */
#include "store/db_impl.h"
#include "store/cover.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"

static atomic_int next_sql_id;
static _Atomic uint64_t stat_queries, stat_errors, stat_prepares;

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

const char *db_url_sqlite_path(const char *url)
{
	if (!url || !*url || has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"))
		return NULL;
	if (has_prefix(url, "sqlite:")) {
		const char *path = url + strlen("sqlite:");
		if (has_prefix(path, "//"))
			path += 2; /* sqlite:///abs/path and sqlite://rel/path */
		return *path ? path : NULL;
	}
	return strstr(url, "://") ? NULL : url;
}

int db_open(const char *url, struct db **out, char *err, size_t errlen)
{
	return db_open_named(url, "govhall", out, err, errlen);
}

int db_open_named(const char *url, const char *name, struct db **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!url || !*url) {
		db_set_err(err, errlen, "no database URL configured");
		return GH_EUNAVAILABLE;
	}
	if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"))
		return db_pg_open(url, name, out, err, errlen);
	if (has_prefix(url, "sqlite:")) {
		const char *path = url + strlen("sqlite:");
		if (has_prefix(path, "//"))
			path += 2; /* sqlite:///abs/path and sqlite://rel/path */
		if (!*path) {
			db_set_err(err, errlen, "sqlite: URL without a file path");
			return GH_EUNAVAILABLE;
		}
		return db_sqlite_open(path, out, err, errlen);
	}
	const char *sep = strstr(url, "://");
	if (sep) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "unsupported database URL scheme '%.*s' (use sqlite:PATH or postgresql://...)",
			 (int)(sep - url > 32 ? 32 : sep - url), url);
		db_set_err(err, errlen, msg);
		return GH_EUNAVAILABLE;
	}
	return db_sqlite_open(url, out, err, errlen);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	cover_release(db);
	free(db->_txmem);
	db->_be->close(db);
}

enum db_kind db_kind(const struct db *db)
{
	return db->_be->kind;
}

const char *db_kind_name(const struct db *db)
{
	return db->_be->name;
}

const char *db_last_error(const struct db *db)
{
	return db->_errmsg;
}

static int count(int rc)
{
	atomic_fetch_add_explicit(&stat_queries, 1, memory_order_relaxed);
	if (rc < 0)
		atomic_fetch_add_explicit(&stat_errors, 1, memory_order_relaxed);
	return rc;
}

/* Whether sql is a read: its first word (after white space and comments) is SELECT, WITH or
 * VALUES. */
static bool sql_reads(const char *sql)
{
	for (;;) {
		while (isspace((unsigned char)*sql))
			sql++;
		if (sql[0] == '-' && sql[1] == '-')
			sql += strcspn(sql, "\n");
		else if (sql[0] == '/' && sql[1] == '*' && strstr(sql + 2, "*/"))
			sql = strstr(sql + 2, "*/") + 2;
		else
			break;
	}
	static const char *const reads[] = { "SELECT", "WITH", "VALUES" };
	for (size_t i = 0; i < ARRAY_LEN(reads); i++) {
		size_t n = strlen(reads[i]);
		if (strncasecmp(sql, reads[i], n) == 0 && !isalnum((unsigned char)sql[n]) && sql[n] != '_')
			return true;
	}
	return false;
}

/* Whether sql locks the rows it reads (SELECT ... FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE,
 * FOR KEY SHARE): a write for a connection that refuses writes, which would wait on the
 * writer's locks. Words inside quotes do not count. */
static bool sql_locks(const char *sql)
{
	bool after_for = false;
	while (*sql) {
		if (*sql == '\'' || *sql == '"') {
			const char *end = strchr(sql + 1, *sql);
			if (!end)
				return false;
			sql = end + 1;
			after_for = false;
			continue;
		}
		if (!isalpha((unsigned char)*sql)) {
			sql++;
			continue;
		}
		size_t n = 0;
		while (isalnum((unsigned char)sql[n]) || sql[n] == '_')
			n++;
		static const char *const locks[] = { "UPDATE", "SHARE", "NO", "KEY" };
		for (size_t i = 0; after_for && i < ARRAY_LEN(locks); i++)
			if (n == strlen(locks[i]) && strncasecmp(sql, locks[i], n) == 0)
				return true;
		after_for = n == 3 && strncasecmp(sql, "FOR", 3) == 0;
		sql += n;
	}
	return false;
}

/* NULL when q only reads, in the text of every backend (so a locking read that only the
 * PostgreSQL variant spells is refused on SQLite too, where the tests run first); otherwise
 * the text that writes or locks. */
static const char *query_writes(const struct db_sql *q)
{
	for (int k = 0; k < 2; k++) {
		const char *sql = k ? q->pg_sql : q->sql;
		if (sql && (!sql_reads(sql) || sql_locks(sql)))
			return sql;
	}
	return NULL;
}

/* A write on a connection that refuses them (see db_refuse_writes, db_guard_writes). */
static int refused(struct db *db, const char *what, const char *sql)
{
	char msg[320];
	snprintf(msg, sizeof(msg), "a write on an event loop's connection by %s (%s %.100s): writes go through req_write",
		 db->_guard ? db->_guard : "-", what, sql ? sql : "");
	return count(db_fail(db, GH_EINTERNAL, "write refused", NULL, msg));
}

void db_guard_writes(struct db *db, const char *owner)
{
	db->_guard = owner;
}

static bool writes_refused(const struct db *db)
{
	return db->_read_only || db->_guard;
}

int db_refuse_writes(struct db *db)
{
	int rc = db->_be->refuse_writes(db);
	if (rc)
		return rc;
	db->_read_only = true;
	return 0;
}

/* ---- read snapshots ---- */

void db_read_snapshot(struct db *db)
{
	if (db->_snap == SNAP_OFF)
		db->_snap = SNAP_ARMED;
}

/* Ends the snapshot's transaction (nothing to keep: it only read); again is what the
 * snapshot becomes (SNAP_ARMED: the next read takes a new one). */
static int snapshot_close(struct db *db, int again)
{
	bool open = db->_snap == SNAP_OPEN;
	db->_snap = again;
	return open ? db->_be->rollback(db) : 0;
}

int db_read_end(struct db *db)
{
	return count(snapshot_close(db, SNAP_OFF));
}

/* Before a read: opens the armed snapshot (unless the caller has a transaction of its own). */
static int snapshot_open(struct db *db)
{
	if (db->_snap != SNAP_ARMED || db->_be->in_tx(db))
		return 0;
	int rc = db->_be->begin_read(db);
	if (!rc)
		db->_snap = SNAP_OPEN;
	return rc;
}

/* Before a write on a connection that may write: the write is not made inside the snapshot
 * (which PostgreSQL opened read-only); later reads take a new one. */
static void snapshot_leave(struct db *db)
{
	if (db->_snap == SNAP_OPEN)
		snapshot_close(db, SNAP_ARMED);
}

int db_query(struct db *db, struct arena *arena, struct db_sql *q, const struct db_val *params,
	     size_t nparams, struct db_rows *out)
{
	memset(out, 0, sizeof(*out));
	bool reads = sql_reads(db_sql_text(db->_be->kind, q));
	const char *writes = writes_refused(db) ? query_writes(q) : NULL;
	if (writes)
		return refused(db, sql_reads(writes) ? "locking read (FOR UPDATE/SHARE)" : "query", writes);
	if (!reads)
		snapshot_leave(db);
	int rc = snapshot_open(db);
	if (rc)
		return count(rc);
	rc = db->_be->run(db, q, params, nparams, arena, out, NULL);
	/* A failed statement ends the snapshot's transaction (PostgreSQL would refuse everything
	 * after it), so the request's next read runs, in a snapshot of its own. */
	if (rc && db->_snap == SNAP_OPEN)
		snapshot_close(db, SNAP_ARMED);
	return count(rc);
}

int db_data_version(struct db *db, uint64_t *v)
{
	/* Inside the caller's own transaction what it reads may yet be rolled back. */
	if (!db->_be->data_version || db_in_transaction(db))
		return GH_EUNSUPPORTED;
	int rc = snapshot_open(db);
	if (!rc)
		rc = db->_be->data_version(db, v);
	return count(rc);
}

int db_query_array(struct db *db, struct arena *arena, struct db_sql *q, const struct db_val *params,
		   size_t nparams, size_t size, void (*row)(const struct db_rows *rows, size_t i, void *elem), void *out,
		   size_t *n)
{
	struct db_rows rows;
	int rc = db_query(db, arena, q, params, nparams, &rows);
	if (rc)
		return rc;
	char *v = arena_array(arena, rows.nrows ? rows.nrows : 1, size);
	for (size_t i = 0; i < rows.nrows; i++)
		row(&rows, i, v + i * size);
	memcpy(out, &v, sizeof(v));
	*n = rows.nrows;
	return 0;
}

int db_exec(struct db *db, struct db_sql *q, const struct db_val *params, size_t nparams,
	    int64_t *changes)
{
	if (changes)
		*changes = 0;
	if (writes_refused(db))
		return refused(db, "statement", db_sql_text(db->_be->kind, q));
	snapshot_leave(db);
	return count(db->_be->run(db, q, params, nparams, NULL, NULL, changes));
}

int db_exec_script(struct db *db, const char *sql)
{
	if (writes_refused(db))
		return refused(db, "script", sql);
	snapshot_leave(db);
	return count(db->_be->script(db, sql));
}

int db_copy(struct db *db, const char *sql, const char *data, size_t len)
{
	if (!db->_be->copy)
		return GH_EUNSUPPORTED;
	return count(db->_be->copy(db, sql, data, len));
}

/* A value no connection's epoch had before. */
static uint64_t new_epoch(void)
{
	static _Atomic uint64_t last;
	return atomic_fetch_add_explicit(&last, 1, memory_order_relaxed) + 1;
}

int db_begin(struct db *db)
{
	if (writes_refused(db))
		return refused(db, "transaction", "BEGIN");
	snapshot_leave(db);
	int rc = db->_be->begin(db);
	if (!rc && !db->_be->nested) {
		db->_tx = new_epoch();
		db->_defer = NULL;
	}
	return count(rc);
}

int db_commit(struct db *db)
{
	int rc = cover_before_commit(db);
	if (!rc && !db->_be->nested)
		rc = db_tx_flush(db);
	if (rc)
		return rc;
	rc = db->_be->commit(db);
	if (!db->_be->nested)
		db->_tx = db->_be->in_tx(db) ? new_epoch() : 0; /* a failed COMMIT may leave it open */
	return count(rc);
}

int db_rollback(struct db *db)
{
	cover_discard(db);
	int rc = db->_be->rollback(db);
	if (!db->_be->nested) {
		db->_tx = 0;
		db->_defer = NULL;
	} else {
		db_tx_undone(db);
	}
	return count(rc);
}

void db_tx_undone(struct db *db)
{
	if (db->_tx)
		db->_tx = new_epoch();
	db->_defer = NULL;
}

uint64_t db_tx_epoch(struct db *db)
{
	return db->_tx;
}

int db_tx_defer(struct db *db, int (*fn)(struct db *db))
{
	if (!db->_tx || (db->_defer && db->_defer != fn))
		return db_fail(db, GH_EINTERNAL, "defer", NULL,
			       db->_tx ? "another function is deferred already" : "no transaction is open");
	db->_defer = fn;
	return 0;
}

int db_tx_flush(struct db *db)
{
	int (*fn)(struct db *) = db->_defer;
	db->_defer = NULL;
	return fn ? fn(db) : 0;
}

void *db_tx_memory(struct db *db, size_t size)
{
	if (!db->_txmem)
		db->_txmem = xcalloc(1, size);
	return db->_txmem;
}

bool db_in_transaction(struct db *db)
{
	return db->_snap != SNAP_OPEN && db->_be->in_tx(db);
}

/* ---- duties' locks ---- */

DB_SQL(q_duty_lock, "SELECT CASE WHEN pg_try_advisory_lock(CAST(? AS bigint)) THEN 1 ELSE 0 END");
DB_SQL(q_duty_unlock, "SELECT CASE WHEN pg_advisory_unlock(CAST(? AS bigint)) THEN 1 ELSE 0 END");

/* Runs q (one of the above) with key on PostgreSQL; *yes: it answered 1. */
static int duty_lock_query(struct db *db, struct db_sql *q, int64_t key, bool *yes)
{
	struct arena *a = arena_new(256);
	struct db_rows rows;
	int rc = db_query(db, a, q, DB_ARGS(DB_INT(key)), &rows);
	*yes = !rc && rows.nrows == 1 && db_cell_int(&rows, 0, 0) == 1;
	arena_free(a);
	return rc;
}

int db_duty_lock(struct db *db, int64_t key, bool *run)
{
	*run = db->_be->kind != DB_POSTGRES;
	return *run ? 0 : duty_lock_query(db, &q_duty_lock, key, run);
}

int db_duty_unlock(struct db *db, int64_t key)
{
	bool released;
	return db->_be->kind != DB_POSTGRES ? 0 : duty_lock_query(db, &q_duty_unlock, key, &released);
}

int db_ping(struct db *db)
{
	return count(db->_be->ping(db));
}

const char *db_cell(const struct db_rows *rows, size_t r, size_t c)
{
	if (r >= rows->nrows || c >= rows->ncols)
		return NULL;
	return rows->cells[r * rows->ncols + c];
}

int64_t db_cell_int(const struct db_rows *rows, size_t r, size_t c)
{
	const char *s = db_cell(rows, r, c);
	return s ? strtoll(s, NULL, 10) : 0;
}

void db_stats_get(struct db_stats *out)
{
	out->queries = atomic_load_explicit(&stat_queries, memory_order_relaxed);
	out->errors = atomic_load_explicit(&stat_errors, memory_order_relaxed);
	out->prepares = atomic_load_explicit(&stat_prepares, memory_order_relaxed);
}

void db_stat_prepare(void)
{
	atomic_fetch_add_explicit(&stat_prepares, 1, memory_order_relaxed);
}

int db_sql_id(struct db_sql *q)
{
	int id = __atomic_load_n(&q->_id, __ATOMIC_ACQUIRE);
	if (id)
		return id;
	int fresh = atomic_fetch_add(&next_sql_id, 1) + 1;
	int expected = 0;
	if (__atomic_compare_exchange_n(&q->_id, &expected, fresh, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return fresh;
	return expected; /* another thread won; its id stands (ours is simply unused) */
}

const char *db_sql_text(enum db_kind kind, const struct db_sql *q)
{
	return kind == DB_POSTGRES && q->pg_sql ? q->pg_sql : q->sql;
}

void db_set_err(char *err, size_t errlen, const char *msg)
{
	if (!err || !errlen)
		return;
	size_t j = 0;
	for (size_t i = 0; msg && msg[i] && j + 1 < errlen; i++) {
		char c = msg[i];
		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c == ' ' && (j == 0 || err[j - 1] == ' '))
			continue;
		err[j++] = c;
	}
	while (j > 0 && err[j - 1] == ' ')
		j--;
	err[j] = 0;
}

int db_fail(struct db *db, int code, const char *what, const struct db_sql *q, const char *msg)
{
	db_set_err(db->_errmsg, sizeof(db->_errmsg), msg ? msg : "unknown error");
	if (code == GH_ECONFLICT)
		return code;
	char sql[64] = "";
	if (q)
		db_set_err(sql, sizeof(sql), db_sql_text(db->_be->kind, q));
	/* While the database is away every request and duty fails the same way: one line a
	 * second says so, with how many more there were. */
	if (code == GH_EUNAVAILABLE) {
		static _Atomic int64_t last_s, quiet;
		int64_t now = (int64_t)time(NULL), prev = atomic_load(&last_s);
		if (prev == now || !atomic_compare_exchange_strong(&last_s, &prev, now)) {
			atomic_fetch_add(&quiet, 1);
			return code;
		}
		int64_t n = atomic_exchange(&quiet, 0);
		/* The SQL text carries placeholders only, never values, so a prefix is safe to log. */
		char more[64] = "";
		if (n)
			snprintf(more, sizeof(more), " (and %lld more not logged since)", (long long)n);
		log_error("db: %s %s failed (%s, statement %d: %s): %s%s", db->_be->name, what, err_name(code),
			  q ? q->_id : 0, q ? sql : "-", db->_errmsg, more);
		return code;
	}
	log_msg(code == GH_EBUSY ? LOG_WARN : LOG_ERROR, "db: %s %s failed (%s, statement %d: %s): %s", db->_be->name,
		what, err_name(code), q ? q->_id : 0, q ? sql : "-", db->_errmsg);
	return code;
}

void db_rowbuf_init(struct db_rowbuf *rb, struct arena *arena, size_t ncols)
{
	memset(rb, 0, sizeof(*rb));
	rb->arena = arena;
	rb->ncols = ncols;
}

void db_rowbuf_add(struct db_rowbuf *rb, const void *p, size_t len)
{
	if (rb->n == rb->cap) {
		rb->cap = rb->cap ? rb->cap * 2 : 64;
		if (rb->cap > SIZE_MAX / sizeof(char *))
			die("db: too many result cells");
		rb->cells = xrealloc(rb->cells, rb->cap * sizeof(*rb->cells));
		rb->lens = xrealloc(rb->lens, rb->cap * sizeof(*rb->lens));
	}
	rb->cells[rb->n] = p ? arena_strndup(rb->arena, p, len) : NULL;
	rb->lens[rb->n] = p ? len : 0;
	rb->n++;
}

void db_rowbuf_finish(struct db_rowbuf *rb, struct db_rows *out)
{
	out->ncols = rb->ncols;
	out->nrows = rb->ncols ? rb->n / rb->ncols : 0;
	out->cells = arena_array(rb->arena, rb->n, sizeof(char *));
	out->lens = arena_array(rb->arena, rb->n, sizeof(size_t));
	if (rb->n) {
		memcpy(out->cells, rb->cells, rb->n * sizeof(char *));
		memcpy(out->lens, rb->lens, rb->n * sizeof(size_t));
	}
	db_rowbuf_release(rb);
}

void db_rowbuf_release(struct db_rowbuf *rb)
{
	free(rb->cells);
	free(rb->lens);
	rb->cells = NULL;
	rb->lens = NULL;
	rb->n = rb->cap = 0;
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* At s[i] == '$': returns the length of a dollar-quote tag ($$ or $tag$), or 0. */
static size_t dollar_tag(const char *s, size_t i)
{
	if (i > 0 && ident_char(s[i - 1]))
		return 0; /* part of an identifier like a$b */
	size_t j = i + 1;
	if (s[j] && !isdigit((unsigned char)s[j]))
		while (s[j] && s[j] != '$' && (isalnum((unsigned char)s[j]) || s[j] == '_' ||
						(unsigned char)s[j] >= 0x80))
			j++;
	return s[j] == '$' ? j - i + 1 : 0;
}

int db_pg_rewrite(const char *s, struct sb *out)
{
	int n = 0;
	size_t i = 0, start = 0;
	while (s[i]) {
		char c = s[i];
		if (c == '?') {
			sb_add(out, s + start, i - start);
			sb_addf(out, "$%d", ++n);
			start = ++i;
		} else if (c == '\'' || c == '"') {
			/* E'...' strings honour backslash escapes; '' and "" are doubled quotes,
			 * which this loop handles as a close followed by an open. */
			bool esc = c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
				   (i < 2 || !ident_char(s[i - 2]));
			i++;
			while (s[i] && s[i] != c) {
				if (esc && s[i] == '\\' && s[i + 1])
					i++;
				i++;
			}
			if (s[i])
				i++;
		} else if (c == '-' && s[i + 1] == '-') {
			while (s[i] && s[i] != '\n')
				i++;
		} else if (c == '/' && s[i + 1] == '*') {
			int depth = 1; /* PostgreSQL block comments nest */
			i += 2;
			while (s[i] && depth) {
				if (s[i] == '/' && s[i + 1] == '*')
					depth++, i += 2;
				else if (s[i] == '*' && s[i + 1] == '/')
					depth--, i += 2;
				else
					i++;
			}
		} else if (c == '$') {
			size_t tl = dollar_tag(s, i);
			if (!tl) {
				i++;
				continue;
			}
			const char *tag = s + i;
			i += tl;
			while (s[i] && strncmp(s + i, tag, tl) != 0)
				i++;
			if (s[i])
				i += tl;
		} else {
			i++;
		}
	}
	sb_add(out, s + start, i - start);
	return n;
}
