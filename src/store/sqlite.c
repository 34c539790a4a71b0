/* sqlite.c: the SQLite backend. One connection per thread (SQLITE_OPEN_NOMUTEX), WAL,
 * foreign keys on, a 5 s busy timeout, synchronous FULL unless set to NORMAL. Prepared
 * statements are cached per connection in an array indexed by the statement id, and reset
 * and cleared after every use. */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "store/db_impl.h"
#include "store/group.h"

struct sqlite_db {
	struct db base;
	sqlite3 *h;
	sqlite3_stmt **stmts; /* indexed by db_sql id; NULL = not prepared yet */
	bool *rowid;          /* per statement: an INSERT whose RETURNING id is the rowid */
	size_t nstmts;
};

static int map_rc(int rc)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return GH_ECONFLICT;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return GH_EBUSY;
	default:
		return GH_EDB;
	}
}

static int fail(struct sqlite_db *s, int rc, const char *what, const struct db_sql *q)
{
	return db_fail(&s->base, map_rc(rc), what, q, sqlite3_errmsg(s->h));
}

static void sq_close(struct db *db)
{
	struct sqlite_db *s = (struct sqlite_db *)db;
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i]);
	free(s->stmts);
	free(s->rowid);
	sqlite3_close(s->h);
	free(s);
}

static bool only_space(const char *p)
{
	for (; p && *p; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';')
			return false;
	return true;
}

/* "INSERT INTO t ... VALUES (one row) [ON CONFLICT ... DO NOTHING] RETURNING id" where t's id is
 * its rowid: SQLite runs RETURNING through a temporary table of its own (opened, written, read
 * and closed at every run: a sixth of the group-commit writer's instructions, two of them per
 * submission), where the rowid of the row just inserted says the same. *len gets the length
 * of the statement without its RETURNING, 0 when the statement is not of this form. */
static bool ascii_prefix(const char *p, const char *word)
{
	for (; *word; p++, word++)
		if ((*p | 0x20) != *word)
			return false;
	return true;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* After the "(" of a VALUES list: the character after its matching ")", quotes respected. */
static const char *close_paren(const char *p)
{
	int depth = 1;
	for (; *p && depth; p++) {
		if (*p == '\'') {
			while (*++p && *p != '\'')
				;
			if (!*p)
				return NULL;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			depth--;
		}
	}
	return depth ? NULL : p;
}

static size_t returning_rowid_form(const char *sql, char *table, size_t tablen)
{
	const char *p = skip_space(sql);
	if (!ascii_prefix(p, "insert into "))
		return 0;
	p = skip_space(p + 12);
	size_t n = 0;
	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '_')
		n++;
	if (!n || n >= tablen)
		return 0;
	memcpy(table, p, n);
	table[n] = 0;
	const char *ret = NULL, *values = NULL;
	for (const char *q = p + n; *q; q++) {
		if (*q == ' ' && ascii_prefix(q + 1, "returning id") && only_space(q + 13))
			ret = q;
		else if (*q == ' ' && ascii_prefix(q + 1, "values ") && !values)
			values = q + 8;
		else if (*q == ' ' && ascii_prefix(q + 1, "do update"))
			return 0; /* an upsert's update sets no rowid */
	}
	if (!ret || !values || *(values = skip_space(values)) != '(')
		return 0;
	const char *end = close_paren(values + 1);
	if (!end || end > ret || *skip_space(end) == ',')
		return 0; /* one row only: the rowid names the last */
	return (size_t)(ret - sql);
}

/* The table's id is its rowid: the one column of its primary key, declared INTEGER, in a
 * table with rowids. */
static bool id_is_rowid(sqlite3 *h, const char *table)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;
	if (sqlite3_prepare_v2(h,
			       "SELECT (SELECT count(*) FROM pragma_table_info(?1) WHERE pk > 0) = 1 "
			       "AND EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE pk = 1 AND name = 'id' "
			       "AND upper(type) = 'INTEGER') "
			       "AND NOT EXISTS (SELECT 1 FROM pragma_index_list(?1) WHERE origin = 'pk')",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		yes = sqlite3_column_int(st, 0) == 1;
	sqlite3_finalize(st);
	return yes;
}

static int get_stmt(struct sqlite_db *s, struct db_sql *q, sqlite3_stmt **out)
{
	size_t id = (size_t)db_sql_id(q);
	if (id >= s->nstmts) {
		size_t n = s->nstmts ? s->nstmts : 16;
		while (n <= id)
			n *= 2;
		s->stmts = xrealloc(s->stmts, n * sizeof(*s->stmts));
		s->rowid = xrealloc(s->rowid, n * sizeof(*s->rowid));
		memset(s->stmts + s->nstmts, 0, (n - s->nstmts) * sizeof(*s->stmts));
		memset(s->rowid + s->nstmts, 0, (n - s->nstmts) * sizeof(*s->rowid));
		s->nstmts = n;
	}
	if (!s->stmts[id]) {
		const char *tail = NULL, *sql = db_sql_text(DB_SQLITE, q);
		char table[64];
		size_t len = returning_rowid_form(sql, table, sizeof(table));
		if (len && !id_is_rowid(s->h, table))
			len = 0;
		int rc = sqlite3_prepare_v3(s->h, sql, len ? (int)len : -1, SQLITE_PREPARE_PERSISTENT,
					    &s->stmts[id], &tail);
		if (rc != SQLITE_OK)
			return fail(s, rc, "prepare", q);
		db_stat_prepare();
		if (!s->stmts[id])
			return db_fail(&s->base, GH_EDB, "prepare", q, "empty statement");
		if (!only_space(len ? sql + len + 13 : tail)) {
			sqlite3_finalize(s->stmts[id]);
			s->stmts[id] = NULL;
			return db_fail(&s->base, GH_EDB, "prepare", q,
				       "more than one statement (use db_exec_script)");
		}
		s->rowid[id] = len != 0;
	}
	*out = s->stmts[id];
	return 0;
}

static int bind(struct sqlite_db *s, sqlite3_stmt *st, struct db_sql *q,
		const struct db_val *params, size_t nparams)
{
	int want = sqlite3_bind_parameter_count(st);
	if ((size_t)want != nparams) {
		char msg[96];
		snprintf(msg, sizeof(msg), "statement has %d parameters, %zu given", want, nparams);
		return db_fail(&s->base, GH_EDB, "bind", q, msg);
	}
	for (size_t i = 0; i < nparams; i++) {
		const struct db_val *v = &params[i];
		int k = (int)i + 1, rc;
		switch (v->type) {
		case DB_T_INT:
			rc = sqlite3_bind_int64(st, k, v->i);
			break;
		case DB_T_TEXT:
			if (!v->s)
				rc = sqlite3_bind_null(st, k);
			else
				rc = sqlite3_bind_text64(st, k, v->s,
							 v->len == (size_t)-1 ? strlen(v->s) : v->len,
							 SQLITE_STATIC, SQLITE_UTF8);
			break;
		case DB_T_BLOB:
			if (!v->s)
				rc = sqlite3_bind_null(st, k);
			else if (!v->len)
				rc = sqlite3_bind_zeroblob(st, k, 0);
			else
				rc = sqlite3_bind_blob64(st, k, v->s, v->len, SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, k);
			break;
		}
		if (rc != SQLITE_OK)
			return fail(s, rc, "bind", q);
	}
	return 0;
}

static int sq_run(struct db *db, struct db_sql *q, const struct db_val *params, size_t nparams,
		  struct arena *arena, struct db_rows *out, int64_t *changes)
{
	struct sqlite_db *s = (struct sqlite_db *)db;
	sqlite3_stmt *st = NULL;
	int ret = get_stmt(s, q, &st);
	if (ret)
		return ret;
	ret = bind(s, st, q, params, nparams);
	struct db_rowbuf rb;
	bool rowid = s->rowid[db_sql_id(q)];
	int ncols = rowid ? 1 : sqlite3_column_count(st);
	if (out)
		db_rowbuf_init(&rb, arena, (size_t)ncols);
	while (!ret) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			ret = fail(s, rc, "step", q);
			break;
		}
		if (!out)
			continue;
		for (int c = 0; c < ncols; c++) {
			int t = sqlite3_column_type(st, c);
			const void *p;
			if (t == SQLITE_NULL) {
				db_rowbuf_add(&rb, NULL, 0);
				continue;
			}
			if (t == SQLITE_BLOB) {
				p = sqlite3_column_blob(st, c);
				if (!p)
					p = ""; /* a zero-length blob */
			} else {
				p = sqlite3_column_text(st, c);
			}
			db_rowbuf_add(&rb, p, (size_t)sqlite3_column_bytes(st, c));
		}
	}
	if (!ret && rowid && out && sqlite3_changes64(s->h) == 1) {
		char idtext[24];
		int n = snprintf(idtext, sizeof(idtext), "%lld", (long long)sqlite3_last_insert_rowid(s->h));
		db_rowbuf_add(&rb, idtext, (size_t)n);
	}
	if (!ret && changes)
		*changes = sqlite3_changes64(s->h);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!out)
		return ret;
	if (ret) {
		db_rowbuf_release(&rb);
		return ret;
	}
	db_rowbuf_finish(&rb, out);
	out->names = arena_array(arena, (size_t)ncols, sizeof(char *));
	for (int c = 0; c < ncols; c++) {
		const char *name = rowid ? "id" : sqlite3_column_name(st, c);
		out->names[c] = arena_strdup(arena, name ? name : "");
	}
	return 0;
}

static int sq_script(struct db *db, const char *sql)
{
	struct sqlite_db *s = (struct sqlite_db *)db;
	char *msg = NULL;
	int rc = sqlite3_exec(s->h, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	int ret = db_fail(db, map_rc(rc), "script", NULL, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return ret;
}

/* The transaction statements are prepared once per connection like any other (every
 * submission's batch and every loop's read snapshot runs them): no parsing per use. */
DB_SQL(q_begin, "BEGIN IMMEDIATE");
DB_SQL(q_commit, "COMMIT");
DB_SQL(q_rollback, "ROLLBACK");
DB_SQL(q_begin_read, "BEGIN");

static int sq_begin(struct db *db)
{
	return sq_run(db, &q_begin, NULL, 0, NULL, NULL, NULL);
}

static int sq_commit(struct db *db)
{
	return sq_run(db, &q_commit, NULL, 0, NULL, NULL, NULL);
}

static int sq_rollback(struct db *db)
{
	struct sqlite_db *s = (struct sqlite_db *)db;
	if (sqlite3_get_autocommit(s->h))
		return 0; /* no transaction open (or SQLite already rolled it back) */
	return sq_run(db, &q_rollback, NULL, 0, NULL, NULL, NULL);
}

/* Deferred: WAL gives the transaction one snapshot, taken at its first read. */
static int sq_begin_read(struct db *db)
{
	return sq_run(db, &q_begin_read, NULL, 0, NULL, NULL, NULL);
}

/* PRAGMA data_version: changes when another connection committed (within a read transaction,
 * as of its snapshot); with this connection's own changes counted in the high half. */
DB_SQL(q_data_version, "PRAGMA data_version");

static int sq_data_version(struct db *db, uint64_t *v)
{
	struct sqlite_db *s = (struct sqlite_db *)db;
	sqlite3_stmt *st;
	int rc = get_stmt(s, &q_data_version, &st);
	if (rc)
		return rc;
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*v = (uint64_t)sqlite3_column_int64(st, 0) + ((uint64_t)sqlite3_total_changes64(s->h) << 32);
	else
		rc = fail(s, step, "step", &q_data_version);
	sqlite3_reset(st);
	return rc;
}

static int sq_refuse_writes(struct db *db)
{
	return sq_script(db, "PRAGMA query_only = ON");
}

static int sq_ping(struct db *db)
{
	return sq_script(db, "SELECT 1");
}

static bool sq_in_tx(struct db *db)
{
	return !sqlite3_get_autocommit(((struct sqlite_db *)db)->h);
}

static const struct db_backend sqlite_backend = {
	.kind = DB_SQLITE,
	.name = "sqlite",
	.close = sq_close,
	.run = sq_run,
	.script = sq_script,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.begin_read = sq_begin_read,
	.refuse_writes = sq_refuse_writes,
	.ping = sq_ping,
	.in_tx = sq_in_tx,
	.data_version = sq_data_version,
};

/* FULL: every COMMIT waits for the WAL to reach the disk (survives power loss); group commit
 * (group.h) pays that once per batch. NORMAL syncs only at checkpoints. */
static atomic_bool sync_full = true;

void db_sqlite_set_synchronous(bool full)
{
	atomic_store(&sync_full, full);
}

/* Before the library's first use: no memory statistics. They are global counters behind a
 * mutex that every allocation of every connection takes (a tenth of the group-commit
 * writer's time went to that lock and SQLite's allocator); nothing here reads them. */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int db_sqlite_open(const char *path, struct db **out, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
	*out = NULL;
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(path, &h,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
					 SQLITE_OPEN_URI,
				 NULL);
	char msg[512];
	if (rc != SQLITE_OK) {
		snprintf(msg, sizeof(msg), "cannot open SQLite database '%s': %s", path,
			 h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(h, 1);
	/* busy_timeout first, so the WAL switch itself waits for other connections. */
	const char *const pragmas[] = {
		"PRAGMA busy_timeout = 5000",
		"PRAGMA journal_mode = WAL",
		"PRAGMA foreign_keys = ON",
		atomic_load(&sync_full) ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	};
	for (size_t i = 0; i < ARRAY_LEN(pragmas); i++) {
		char *emsg = NULL;
		rc = sqlite3_exec(h, pragmas[i], NULL, NULL, &emsg);
		if (rc != SQLITE_OK) {
			snprintf(msg, sizeof(msg), "cannot set up SQLite database '%s' (%s): %s", path,
				 pragmas[i], emsg ? emsg : sqlite3_errstr(rc));
			sqlite3_free(emsg);
			goto fail;
		}
	}
	struct sqlite_db *s = xcalloc(1, sizeof(*s));
	s->base._be = &sqlite_backend;
	s->h = h;
	*out = &s->base;
	return 0;
fail:
	db_set_err(err, errlen, msg);
	sqlite3_close(h);
	return GH_EUNAVAILABLE;
}
