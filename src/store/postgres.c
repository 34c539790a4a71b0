/* postgres.c: the PostgreSQL backend (libpq, synchronous). Each struct db_sql is prepared
 * once per connection as "s<id>" after its '?' placeholders are rewritten to $n; parameters
 * are sent as text (BLOBs in binary format) and results read as text, bytea decoded back to
 * bytes. A connection found broken is reset once (prepared statements are then re-prepared
 * lazily); the failed statement is retried only outside a transaction. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "store/db_impl.h"

#define BYTEAOID 17

struct pg_db {
	struct db base;
	PGconn *conn;
	int *nparams;  /* indexed by db_sql id: placeholder count, -1 = not prepared here */
	size_t nstmts;
};

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* NOTICEs ("relation exists, skipping"...) are not errors */
}

static int map_state(const char *state)
{
	if (!state)
		return GH_EDB;
	if (!strcmp(state, "23505"))
		return GH_ECONFLICT;
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
		return GH_EBUSY;
	if (!strncmp(state, "08", 2) || !strcmp(state, "57P01") || !strcmp(state, "57P03"))
		return GH_EUNAVAILABLE;
	return GH_EDB;
}

/* Maps a failed result (or a NULL one) to a code and records it. Only the primary message and
 * SQLSTATE are kept: PostgreSQL's DETAIL lines may quote parameter values. */
static int fail_res(struct pg_db *p, PGresult *res, const char *what, const struct db_sql *q)
{
	char msg[300];
	int code;
	if (PQstatus(p->conn) == CONNECTION_BAD) {
		snprintf(msg, sizeof(msg), "connection lost: %s", PQerrorMessage(p->conn));
		code = GH_EUNAVAILABLE;
	} else if (res) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(msg, sizeof(msg), "%s (SQLSTATE %s)",
			 prim ? prim : PQresultErrorMessage(res), state ? state : "?");
		code = map_state(state);
	} else {
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(p->conn));
		code = GH_EDB;
	}
	return db_fail(&p->base, code, what, q, msg);
}

static void forget_prepared(struct pg_db *p)
{
	for (size_t i = 0; i < p->nstmts; i++)
		p->nparams[i] = -1;
}

/* Resets a broken connection. Returns true when it is usable again. */
static bool reconnect(struct pg_db *p)
{
	forget_prepared(p);
	PQreset(p->conn);
	if (PQstatus(p->conn) == CONNECTION_OK)
		return true;
	char msg[300];
	snprintf(msg, sizeof(msg), "reconnect failed: %s", PQerrorMessage(p->conn));
	db_fail(&p->base, GH_EUNAVAILABLE, "reset", NULL, msg);
	return false;
}

static void pg_close(struct db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	PQfinish(p->conn);
	free(p->nparams);
	free(p);
}

static int prepare(struct pg_db *p, struct db_sql *q, size_t id, const char *name)
{
	if (id >= p->nstmts) {
		size_t n = p->nstmts ? p->nstmts : 16;
		while (n <= id)
			n *= 2;
		p->nparams = xrealloc(p->nparams, n * sizeof(*p->nparams));
		for (size_t i = p->nstmts; i < n; i++)
			p->nparams[i] = -1;
		p->nstmts = n;
	}
	if (p->nparams[id] >= 0)
		return 0;
	struct sb sql = SB_INIT;
	int n = db_pg_rewrite(db_sql_text(DB_POSTGRES, q), &sql);
	PGresult *res = PQprepare(p->conn, name, sql.buf, 0, NULL);
	sb_release(&sql);
	int ret = 0;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ret = fail_res(p, res, "prepare", q);
	else
		p->nparams[id] = n;
	PQclear(res);
	if (!ret)
		db_stat_prepare();
	return ret;
}

/* Decodes bytea's text output ("\x0a1b...") into bytes in place; returns the length. */
static size_t unhex(char *s, size_t len)
{
	if (len < 2 || s[0] != '\\' || s[1] != 'x')
		return len; /* escape format is never produced by a default server */
	size_t o = 0;
	for (size_t i = 2; i + 1 < len; i += 2) {
		int hi = s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10;
		int lo = s[i + 1] <= '9' ? s[i + 1] - '0' : (s[i + 1] | 0x20) - 'a' + 10;
		s[o++] = (char)(hi << 4 | lo);
	}
	s[o] = 0;
	return o;
}

static void copy_rows(PGresult *res, struct arena *arena, struct db_rows *out)
{
	size_t nr = (size_t)PQntuples(res), nc = (size_t)PQnfields(res);
	struct db_rowbuf rb;
	db_rowbuf_init(&rb, arena, nc);
	for (size_t r = 0; r < nr; r++)
		for (size_t c = 0; c < nc; c++) {
			if (PQgetisnull(res, (int)r, (int)c)) {
				db_rowbuf_add(&rb, NULL, 0);
				continue;
			}
			db_rowbuf_add(&rb, PQgetvalue(res, (int)r, (int)c),
				      (size_t)PQgetlength(res, (int)r, (int)c));
			if (PQftype(res, (int)c) == BYTEAOID)
				rb.lens[rb.n - 1] = unhex(rb.cells[rb.n - 1], rb.lens[rb.n - 1]);
		}
	db_rowbuf_finish(&rb, out);
	out->names = arena_array(arena, nc, sizeof(char *));
	for (size_t c = 0; c < nc; c++)
		out->names[c] = arena_strdup(arena, PQfname(res, (int)c));
}

static int pg_run(struct db *db, struct db_sql *q, const struct db_val *params, size_t nparams,
		  struct arena *arena, struct db_rows *out, int64_t *changes)
{
	struct pg_db *p = (struct pg_db *)db;
	size_t id = (size_t)db_sql_id(q);
	char name[24];
	snprintf(name, sizeof(name), "s%zu", id);
	if (nparams > 65535)
		return db_fail(db, GH_EDB, "bind", q, "too many parameters");

	/* Parameter text: one buffer of NUL-terminated values (libpq reads text parameters as
	 * C strings, and DB_TEXTN values need not be terminated), pointers taken afterwards. */
	struct sb buf = SB_INIT;
	size_t *offs = xcalloc(nparams + 1, sizeof(size_t));
	const char **vals = xcalloc(nparams + 1, sizeof(char *));
	int *lens = xcalloc(nparams + 1, sizeof(int));
	int *fmts = xcalloc(nparams + 1, sizeof(int));
	for (size_t i = 0; i < nparams; i++) {
		const struct db_val *v = &params[i];
		offs[i] = buf.len;
		if (v->type == DB_T_INT)
			sb_addf(&buf, "%" PRId64, v->i);
		else if (v->type == DB_T_TEXT && v->s)
			sb_add(&buf, v->s, v->len == (size_t)-1 ? strlen(v->s) : v->len);
		else if (v->type == DB_T_BLOB && v->s) {
			if (v->len > INT32_MAX) {
				sb_release(&buf);
				free(offs), free(vals), free(lens), free(fmts);
				return db_fail(db, GH_EDB, "bind", q, "BLOB parameter too large");
			}
			sb_add(&buf, v->s, v->len);
			lens[i] = (int)v->len;
			fmts[i] = 1;
		}
		sb_addch(&buf, 0);
	}
	for (size_t i = 0; i < nparams; i++) {
		const struct db_val *v = &params[i];
		bool null = v->type == DB_T_NULL || (v->type != DB_T_INT && !v->s);
		vals[i] = null ? NULL : buf.buf + offs[i];
	}

	int ret = 0;
	bool retried = false;
again:
	if (PQstatus(p->conn) == CONNECTION_BAD && !reconnect(p)) {
		ret = GH_EUNAVAILABLE;
		goto out;
	}
	bool in_tx = PQtransactionStatus(p->conn) != PQTRANS_IDLE;
	ret = prepare(p, q, id, name);
	if (!ret && (size_t)p->nparams[id] != nparams) {
		char msg[96];
		snprintf(msg, sizeof(msg), "statement has %d parameters, %zu given", p->nparams[id],
			 nparams);
		ret = db_fail(db, GH_EDB, "bind", q, msg);
		goto out;
	}
	PGresult *res = NULL;
	if (!ret) {
		res = PQexecPrepared(p->conn, name, (int)nparams, vals, lens, fmts, 0);
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			if (out)
				copy_rows(res, arena, out);
			else if (changes)
				*changes = strtoll(PQcmdTuples(res), NULL, 10);
		} else {
			ret = fail_res(p, res, "exec", q);
		}
		PQclear(res);
	}
	if (ret && PQstatus(p->conn) == CONNECTION_BAD) {
		if (!in_tx && !retried) {
			retried = true;
			if (reconnect(p))
				goto again;
		} else if (in_tx) {
			reconnect(p); /* the transaction is gone; the next call gets a fresh start */
		}
		ret = GH_EUNAVAILABLE;
	}
out:
	sb_release(&buf);
	free(offs), free(vals), free(lens), free(fmts);
	return ret;
}

/* Runs sql with the simple protocol (several statements allowed, no parameters). */
static int simple(struct pg_db *p, const char *sql, const char *what, PGresult **keep)
{
	bool retried = false;
again:
	if (PQstatus(p->conn) == CONNECTION_BAD && !reconnect(p))
		return GH_EUNAVAILABLE;
	bool in_tx = PQtransactionStatus(p->conn) != PQTRANS_IDLE;
	PGresult *res = PQexec(p->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
		if (keep)
			*keep = res;
		else
			PQclear(res);
		return 0;
	}
	int ret = fail_res(p, res, what, NULL);
	PQclear(res);
	if (PQstatus(p->conn) == CONNECTION_BAD) {
		if (!in_tx && !retried) {
			retried = true;
			if (reconnect(p))
				goto again;
		} else if (in_tx) {
			reconnect(p);
		}
		return GH_EUNAVAILABLE;
	}
	return ret;
}

static int pg_script(struct db *db, const char *sql)
{
	return simple((struct pg_db *)db, sql, "script", NULL);
}

static int pg_begin(struct db *db)
{
	return simple((struct pg_db *)db, "BEGIN", "begin", NULL);
}

static int pg_commit(struct db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	PGresult *res = NULL;
	int ret = simple(p, "COMMIT", "commit", &res);
	if (ret)
		return ret;
	/* COMMIT of a transaction that already failed succeeds with the tag ROLLBACK. */
	if (!strcmp(PQcmdStatus(res), "ROLLBACK"))
		ret = db_fail(db, GH_EDB, "commit", NULL,
			      "transaction was aborted by an earlier error and rolled back");
	PQclear(res);
	return ret;
}

static int pg_rollback(struct db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	if (PQstatus(p->conn) == CONNECTION_OK &&
	    PQtransactionStatus(p->conn) == PQTRANS_IDLE)
		return 0;
	return simple(p, "ROLLBACK", "rollback", NULL);
}

static int pg_ping(struct db *db)
{
	return simple((struct pg_db *)db, "SELECT 1", "ping", NULL);
}

static bool pg_in_tx(struct db *db)
{
	return PQtransactionStatus(((struct pg_db *)db)->conn) != PQTRANS_IDLE;
}

static const struct db_backend pg_backend = {
	.kind = DB_POSTGRES,
	.name = "postgres",
	.close = pg_close,
	.run = pg_run,
	.script = pg_script,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.ping = pg_ping,
	.in_tx = pg_in_tx,
};

int db_pg_open(const char *url, struct db **out, char *err, size_t errlen)
{
	*out = NULL;
	/* Defaults first: with expand_dbname the URL's own settings override them. */
	const char *const keys[] = { "connect_timeout", "application_name", "client_encoding",
				     "dbname", NULL };
	const char *const vals[] = { "10", "govhall", "UTF8", url, NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	if (!conn) {
		db_set_err(err, errlen, "PostgreSQL: out of memory");
		return GH_EUNAVAILABLE;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
		db_set_err(err, errlen, msg);
		PQfinish(conn);
		return GH_EUNAVAILABLE;
	}
	PQsetNoticeProcessor(conn, quiet_notice, NULL);
	struct pg_db *p = xcalloc(1, sizeof(*p));
	p->base._be = &pg_backend;
	p->conn = conn;
	*out = &p->base;
	return 0;
}
