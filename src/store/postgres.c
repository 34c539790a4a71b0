/* postgres.c: the PostgreSQL backend (libpq, synchronous). Each struct db_sql is prepared
 * once per connection as "s<id>" after its '?' placeholders are rewritten to $n; parameters
 * are sent as text (BLOBs in binary format) and results read as text, bytea decoded back to
 * bytes.
 *
 * Failover. The URL may name several hosts (postgresql://h1:p1,h2:p2/db?target_session_attrs=
 * read-write): libpq tries them in order at every (re)connection and keeps the first that
 * qualifies. A session is replaced (PQreset; prepared statements are prepared again on first
 * use) when it is found lost or read-only (SQLSTATE 25006, or the readiness probe: a standby,
 * or default_transaction_read_only). What becomes of the call that found it:
 * - lost before the call (the server closed it while it was idle: noticed by a poll of the
 *   socket before anything is sent), or refused as read-only: the call runs on the new
 *   session, outside a transaction;
 * - lost while the call ran: it may have run (a write may have committed), so it is not run
 *   again; GH_EUNAVAILABLE (an HTTP 503 with Retry-After), and the next call reconnects;
 * - inside a transaction: the transaction is gone, and every call fails with GH_EUNAVAILABLE
 *   until the caller ends it (db_rollback; or db_commit, which fails too), so no statement of
 *   it can run, or commit, on the next session. A COMMIT whose connection went while it ran
 *   has an unknown outcome: GH_EUNAVAILABLE, and callers must not run it again (group.c).
 * Reconnection attempts are the process's, not each connection's: one at a time, and after a
 * failed one none for a backoff (BACKOFF_MIN_MS doubling to BACKOFF_MAX_MS), calls meanwhile
 * failing at once without logging; the first that gets through lets every connection reconnect
 * at its next call. An attempt blocks its thread for at most connect_timeout per host that does
 * not answer. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "store/db_impl.h"

#define BYTEAOID 17
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 500

struct pg_db {
	struct db base;
	PGconn *conn;
	int *nparams;  /* indexed by db_sql id: placeholder count, -1 = not prepared here */
	size_t nstmts;
	bool lost_tx;       /* a transaction lost its session: calls fail until it is ended */
	bool read_only;     /* the session accepts no writes: reconnect before the next call */
	bool loop;          /* db_refuse_writes: an event loop's session, read-only by our own SET */
};

/* What makes a loop's session refuse writes (db_refuse_writes); set again on every new
 * session. */
#define LOOP_READ_ONLY "SET default_transaction_read_only = on"

/* Reconnection attempts, for the whole process (all its connections go to one database):
 * after a failed attempt, no other before pg_next_attempt (monotonic ms), pg_backoff_ms later.
 * One connection attempts while the others fail at once; the first that gets through resets
 * both, and every other connection then reconnects at its next call. */
static _Atomic int64_t pg_next_attempt;
static _Atomic int pg_backoff_ms;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq prints the server's notices and warnings to stderr unless told otherwise: they go to
 * the JSON log instead (WARNINGs at warn; NOTICEs such as "relation exists, skipping" are not
 * errors, so at debug). */
static void log_notice(void *arg, const char *message)
{
	(void)arg;
	size_t n = strlen(message);
	while (n && (message[n - 1] == '\n' || message[n - 1] == ' '))
		n--;
	log_msg(strncmp(message, "WARNING", 7) == 0 ? LOG_WARN : LOG_DEBUG, "db: postgres says: %.*s", (int)n, message);
}

static int map_state(const char *state)
{
	if (!state)
		return GH_EDB;
	if (!strcmp(state, "23505"))
		return GH_ECONFLICT;
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
		return GH_EBUSY;
	/* 08: connection exceptions; 57P01-57P03: the server shuts down, crashed or is
	 * starting; 25006: a write on a read-only session (the server is, or became, a standby) */
	if (!strncmp(state, "08", 2) || !strcmp(state, "57P01") || !strcmp(state, "57P02") ||
	    !strcmp(state, "57P03") || !strcmp(state, "25006"))
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
		if (p->loop && state && !strcmp(state, "25006")) {
			/* Our own SET refused it: a write on a loop, the programming error. */
			snprintf(msg, sizeof(msg), "a write on an event loop's connection refused by PostgreSQL (%s): writes go through req_write",
				 prim ? prim : "read-only");
			code = GH_EINTERNAL;
		}
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

/* Whether the server says this session accepts no writes: in_hot_standby and
 * default_transaction_read_only are reported at connection start and on change by servers
 * 14 and later (older ones report neither: taken as writable). */
static bool session_read_only(PGconn *conn)
{
	const char *hs = PQparameterStatus(conn, "in_hot_standby");
	const char *ro = PQparameterStatus(conn, "default_transaction_read_only");
	return (hs && !strcmp(hs, "on")) || (ro && !strcmp(ro, "on"));
}

/* A failed reconnection: records msg (logged for the first failure of a streak only) and
 * sets the process's next attempt a backoff later. */
static bool reconnect_failed(struct pg_db *p, const char *msg)
{
	int b = atomic_load(&pg_backoff_ms);
	if (!b)
		db_fail(&p->base, GH_EUNAVAILABLE, "reconnect", NULL, msg);
	else
		db_set_err(p->base._errmsg, sizeof(p->base._errmsg), msg);
	b = b ? b * 2 : BACKOFF_MIN_MS;
	if (b > BACKOFF_MAX_MS)
		b = BACKOFF_MAX_MS;
	atomic_store(&pg_backoff_ms, b);
	atomic_store(&pg_next_attempt, mono_ms() + b);
	return false;
}

/* The process connected: every waiting connection may try again at once. */
static void connected(void)
{
	atomic_store(&pg_backoff_ms, 0);
	atomic_store(&pg_next_attempt, 0);
}

/* Replaces a lost or read-only session with a new one (PQreset: the URL's hosts in order),
 * unless the process's last attempt failed less than its backoff ago or another connection is
 * attempting now. A session replacing a read-only one must accept writes. Returns true when
 * the new session is usable; its prepared statements are then prepared again on first use. */
static bool reconnect(struct pg_db *p)
{
	int64_t now = mono_ms(), next = atomic_load(&pg_next_attempt);
	/* Claim the attempt: while it runs (up to connect_timeout per silent host) the others
	 * wait as after a failure. */
	if (now < next || !atomic_compare_exchange_strong(&pg_next_attempt, &next,
							  now + atomic_load(&pg_backoff_ms))) {
		db_set_err(p->base._errmsg, sizeof(p->base._errmsg),
			   "no writable PostgreSQL server reached yet; waiting before the next attempt");
		return false;
	}
	forget_prepared(p);
	PQreset(p->conn);
	char msg[300];
	if (PQstatus(p->conn) != CONNECTION_OK) {
		snprintf(msg, sizeof(msg), "reconnect failed: %s", PQerrorMessage(p->conn));
		return reconnect_failed(p, msg);
	}
	if (p->read_only && session_read_only(p->conn)) {
		snprintf(msg, sizeof(msg), "%s:%s accepts no writes (a standby, or default_transaction_read_only)",
			 PQhost(p->conn), PQport(p->conn));
		return reconnect_failed(p, msg);
	}
	if (p->loop) {
		PGresult *res = PQexec(p->conn, LOOP_READ_ONLY);
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok) {
			snprintf(msg, sizeof(msg), "reconnect: %s failed: %s", LOOP_READ_ONLY, PQerrorMessage(p->conn));
			return reconnect_failed(p, msg);
		}
	}
	connected();
	log_info("db: reconnected to PostgreSQL at %s:%s", PQhost(p->conn), PQport(p->conn));
	p->read_only = false;
	return true;
}

/* Before a call. A session the server closed while it was idle (a failover, a restart) is
 * noticed here, before anything is sent, by a poll of its socket: then the call can go to a
 * new session, as it certainly did not run on the old one. Refuses every call while a
 * transaction that lost its session is not ended. 0 or GH_EUNAVAILABLE. */
static int usable(struct pg_db *p)
{
	if (!p->lost_tx && PQstatus(p->conn) == CONNECTION_OK) {
		bool in_tx = PQtransactionStatus(p->conn) != PQTRANS_IDLE;
		/* Whatever waits (a notice, the server's last FATAL message, then the end of the
		 * stream, which libpq sees only on a read of its own) is read; a few rounds at most. */
		struct pollfd pfd = { .fd = PQsocket(p->conn), .events = POLLIN };
		for (int i = 0; i < 4 && pfd.fd >= 0 && poll(&pfd, 1, 0) > 0; i++) {
			if (!PQconsumeInput(p->conn)) {
				p->lost_tx = in_tx; /* the session is gone, and its transaction with it */
				break;
			}
		}
	}
	if (p->lost_tx) {
		db_set_err(p->base._errmsg, sizeof(p->base._errmsg),
			   "the transaction lost its connection to PostgreSQL; it must be rolled back");
		return GH_EUNAVAILABLE;
	}
	if ((PQstatus(p->conn) == CONNECTION_BAD || p->read_only) && !reconnect(p))
		return GH_EUNAVAILABLE;
	return 0;
}

/* After a failed call: whether the session failed rather than the statement (it was lost,
 * or it is read-only: SQLSTATE 25006). */
static bool session_failed(struct pg_db *p, PGresult *res)
{
	if (PQstatus(p->conn) == CONNECTION_BAD)
		return true;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state && !strcmp(state, "25006") && !p->loop) {
		p->read_only = true;
		return true;
	}
	return false;
}

/* The session failed during a call. Inside a transaction, the transaction is lost. Outside
 * one, reconnects and says whether to run the call again (once: *retried) — only when it
 * certainly changed nothing: refused as read-only, or `safe` (BEGIN, ROLLBACK, a probe). A
 * statement whose connection went while it ran may have committed, so it is not run again:
 * the caller gets GH_EUNAVAILABLE (503 with Retry-After) and the next call reconnects. */
static bool recover(struct pg_db *p, bool in_tx, bool safe, bool *retried)
{
	if (in_tx) {
		p->lost_tx = true;
		return false;
	}
	if (*retried || !(safe || p->read_only))
		return false;
	*retried = true;
	return reconnect(p);
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
	if ((ret = usable(p)))
		goto out;
	bool in_tx = PQtransactionStatus(p->conn) != PQTRANS_IDLE;
	ret = prepare(p, q, id, name);
	if (!ret && (size_t)p->nparams[id] != nparams) {
		char msg[96];
		snprintf(msg, sizeof(msg), "statement has %d parameters, %zu given", p->nparams[id],
			 nparams);
		ret = db_fail(db, GH_EDB, "bind", q, msg);
		goto out;
	}
	bool failed_session = false;
	if (ret) {
		failed_session = session_failed(p, NULL); /* prepare() kept no result to look at */
	} else {
		PGresult *res = PQexecPrepared(p->conn, name, (int)nparams, vals, lens, fmts, 0);
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			if (out)
				copy_rows(res, arena, out);
			else if (changes)
				*changes = strtoll(PQcmdTuples(res), NULL, 10);
		} else {
			ret = fail_res(p, res, "exec", q);
			failed_session = session_failed(p, res);
		}
		PQclear(res);
	}
	if (failed_session) {
		if (recover(p, in_tx, false, &retried))
			goto again;
		ret = GH_EUNAVAILABLE;
	}
out:
	sb_release(&buf);
	free(offs), free(vals), free(lens), free(fmts);
	return ret;
}

/* Runs sql with the simple protocol (several statements allowed, no parameters). safe: the
 * SQL changes nothing, so it may be sent again after its session was lost while it ran. */
static int simple(struct pg_db *p, const char *sql, const char *what, bool safe, PGresult **keep)
{
	bool retried = false;
	int ret;
again:
	if ((ret = usable(p)))
		return ret;
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
	ret = fail_res(p, res, what, NULL);
	bool failed_session = session_failed(p, res);
	PQclear(res);
	if (failed_session) {
		if (recover(p, in_tx, safe, &retried))
			goto again;
		return GH_EUNAVAILABLE;
	}
	return ret;
}

#define COPY_CHUNK (1u << 20)

static int pg_copy(struct db *db, const char *sql, const char *data, size_t len)
{
	struct pg_db *p = (struct pg_db *)db;
	int ret = usable(p);
	if (ret)
		return ret;
	PGresult *res = PQexec(p->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		ret = fail_res(p, res, "copy", NULL);
		PQclear(res);
		return ret;
	}
	PQclear(res);
	/* A blocking connection: each call returns once the chunk is queued or sent. */
	for (size_t off = 0; off < len; off += COPY_CHUNK) {
		size_t n = len - off < COPY_CHUNK ? len - off : COPY_CHUNK;
		if (PQputCopyData(p->conn, data + off, (int)n) != 1) {
			PQputCopyEnd(p->conn, "the client could not send");
			break;
		}
	}
	if (PQputCopyEnd(p->conn, NULL) != 1)
		return fail_res(p, NULL, "copy", NULL);
	while ((res = PQgetResult(p->conn))) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && !ret)
			ret = fail_res(p, res, "copy", NULL);
		PQclear(res);
	}
	return ret;
}

static int pg_script(struct db *db, const char *sql)
{
	return simple((struct pg_db *)db, sql, "script", false, NULL);
}

static int pg_begin(struct db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	p->lost_tx = false; /* a new transaction: whatever was lost before is over */
	return simple(p, "BEGIN", "begin", true, NULL);
}

/* One snapshot for every statement until the transaction ends, taken at the first. */
static int pg_begin_read(struct db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	p->lost_tx = false;
	return simple(p, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin", true, NULL);
}

static int pg_refuse_writes(struct db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	int rc = simple(p, LOOP_READ_ONLY, "refuse writes", true, NULL);
	if (!rc)
		p->loop = true;
	return rc;
}

static int pg_commit(struct db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	if (p->lost_tx) {
		p->lost_tx = false;
		return db_fail(db, GH_EUNAVAILABLE, "commit", NULL,
			       "the transaction lost its connection before COMMIT; nothing was committed");
	}
	PGresult *res = NULL;
	/* A connection lost during COMMIT leaves the outcome unknown (GH_EUNAVAILABLE): the
	 * transaction may have committed. Either way COMMIT ends it. */
	int ret = simple(p, "COMMIT", "commit", false, &res);
	p->lost_tx = false;
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
	p->lost_tx = false;
	/* A lost or read-only session is replaced at the next call, its transaction with it. */
	if (PQstatus(p->conn) != CONNECTION_OK || p->read_only ||
	    PQtransactionStatus(p->conn) == PQTRANS_IDLE)
		return 0;
	/* The transaction ends here even when the session turns out lost on the way (usable()
	 * then marks the transaction lost): it went with its session, and a mark left behind
	 * would refuse every later call of this connection. */
	int rc = simple(p, "ROLLBACK", "rollback", true, NULL);
	p->lost_tx = false;
	return rc;
}

/* Readiness: the database answers and this session accepts writes (a read-only one is
 * replaced at the next call, by a writable one or none). A loop's session refuses writes by
 * its own SET: it asks whether the server is a standby, or the database read-only without it
 * (the setting a RESET would restore). */
static int pg_ping(struct db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	PGresult *res = NULL;
	int ret = simple(p, p->loop ? "SELECT CASE WHEN pg_is_in_recovery() OR (SELECT reset_val FROM pg_settings WHERE"
				      " name = 'default_transaction_read_only') = 'on' THEN 'on' ELSE 'off' END"
				    : "SHOW transaction_read_only",
			 "ping", true, &res);
	if (ret)
		return ret;
	if (PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 0), "on")) {
		p->read_only = true;
		db_set_err(db->_errmsg, sizeof(db->_errmsg),
			   "the server accepts no writes (a standby, or default_transaction_read_only)");
		ret = GH_EUNAVAILABLE;
	}
	PQclear(res);
	return ret;
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
	.begin_read = pg_begin_read,
	.refuse_writes = pg_refuse_writes,
	.ping = pg_ping,
	.in_tx = pg_in_tx,
	.copy = pg_copy,
};

int db_pg_open(const char *url, const char *name, struct db **out, char *err, size_t errlen)
{
	*out = NULL;
	/* Defaults first: with expand_dbname the URL's own settings override them. A (re)connection
	 * waits connect_timeout for each host of the URL that does not answer; keepalives notice a
	 * server that vanished without closing its connections (about a minute). The
	 * application_name says what the connection is for (pg_stat_activity). */
	const char *const keys[] = { "connect_timeout", "keepalives_idle", "keepalives_interval",
				     "keepalives_count", "application_name", "client_encoding",
				     "dbname", NULL };
	const char *const vals[] = { "5", "30", "10", "3", name, "UTF8", url, NULL };
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
	connected();
	PQsetNoticeProcessor(conn, log_notice, NULL);
	struct pg_db *p = xcalloc(1, sizeof(*p));
	p->base._be = &pg_backend;
	p->conn = conn;
	*out = &p->base;
	return 0;
}
