/* session.c: cookie sessions for pages, bearer tokens for the API, the authenticate and CSRF
 * hooks. Only keyed hashes of tokens are stored, so a copy of the database gives no session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/util.h"
#include "http/msg.h"
#include "http/multipart.h"
#include "http/server.h"
#include "http/write.h"
#include "identity/identity_impl.h"
#include "store/db.h"

/* last_seen is written at most this often, so most page views do not write. */
#define TOUCH_SECONDS 60

DB_SQL(q_session_insert,
       "INSERT INTO sessions (token_hash, account_id, acting_for, mfa_pending, created_at, last_seen, "
       "expires_at, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
DB_SQL(q_session_get,
       "SELECT s.id, s.account_id, s.acting_for, s.mfa_pending, s.last_seen, s.expires_at, a.kind, a.name, "
       "a.department, a.staff_roles, a.status, (SELECT e.status FROM accounts e WHERE e.id = s.acting_for), "
       "(SELECT COUNT(*) FROM enterprise_agents g WHERE g.enterprise_id = s.acting_for AND g.agent_id = s.account_id) "
       "FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?");
DB_SQL(q_session_touch, "UPDATE sessions SET last_seen = ? WHERE id = ?");
DB_SQL(q_session_delete, "DELETE FROM sessions WHERE id = ?");
DB_SQL(q_session_rekey, "UPDATE sessions SET token_hash = ?, mfa_pending = 0, last_seen = ? WHERE id = ?");
DB_SQL(q_session_act, "UPDATE sessions SET acting_for = ? WHERE id = ?");
DB_SQL(q_session_delete_account, "DELETE FROM sessions WHERE account_id = ? AND id <> ?");
DB_SQL(q_tokens_revoke_account,
       "UPDATE api_tokens SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL");
DB_SQL(q_token_insert,
       "INSERT INTO api_tokens (token_hash, account_id, acting_for, name, channel, scopes, created_at, "
       "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
DB_SQL(q_token_get,
       "SELECT t.id, t.account_id, t.acting_for, t.scopes, t.expires_at, t.revoked_at, t.last_used, a.kind, "
       "a.name, a.department, a.staff_roles, a.status, (SELECT e.status FROM accounts e WHERE e.id = t.acting_for), "
       "(SELECT COUNT(*) FROM enterprise_agents g WHERE g.enterprise_id = t.acting_for AND g.agent_id = t.account_id) "
       "FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = ?");
DB_SQL(q_token_touch, "UPDATE api_tokens SET last_used = ? WHERE id = ?");
DB_SQL(q_token_revoke, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL");
DB_SQL(q_token_list,
       "SELECT id, name, channel, scopes, created_at, expires_at, last_used, revoked_at FROM api_tokens "
       "WHERE account_id = ? ORDER BY id DESC LIMIT 100");

static const struct {
	const char *word;
	unsigned bit;
} scope_words[] = {
	{ "profile", SCOPE_PROFILE },
	{ "account", SCOPE_ACCOUNT },
	{ "apply", SCOPE_APPLY },
	{ "admin", SCOPE_ADMIN },
};

int scopes_parse(const char *s, unsigned *out)
{
	unsigned bits = 0;
	while (s && *s) {
		while (*s == ' ' || *s == ',')
			s++;
		size_t n = strcspn(s, ", ");
		if (!n)
			break;
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(scope_words); i++)
			if (strlen(scope_words[i].word) == n && strncmp(scope_words[i].word, s, n) == 0) {
				bits |= scope_words[i].bit;
				known = true;
			}
		if (!known)
			return -1;
		s += n;
	}
	*out = bits;
	return 0;
}

const char *scopes_str(struct arena *a, unsigned scopes)
{
	struct sb sb = SB_INIT;
	for (size_t i = 0; i < ARRAY_LEN(scope_words); i++)
		if (scopes & scope_words[i].bit) {
			if (sb.len)
				sb_addch(&sb, ',');
			sb_adds(&sb, scope_words[i].word);
		}
	char *r = arena_strndup(a, sb.buf, sb.len);
	sb_release(&sb);
	return r;
}

unsigned scopes_allowed(const char *kind)
{
	if (strcmp(kind, "admin") == 0)
		return SCOPE_ALL;
	return SCOPE_PROFILE | SCOPE_ACCOUNT | SCOPE_APPLY;
}

unsigned role_of(const char *kind, int64_t acting_for)
{
	if (strcmp(kind, "individual") == 0)
		return acting_for ? ROLE_AGENT : ROLE_CITIZEN;
	if (strcmp(kind, "enterprise") == 0)
		return ROLE_ENTERPRISE;
	if (strcmp(kind, "staff") == 0)
		return ROLE_STAFF;
	if (strcmp(kind, "admin") == 0)
		return ROLE_ADMIN;
	return ROLE_ANON;
}

/* Bookkeeping of the authenticate hook, written along with the request (its answer does not
 * depend on it): a session or token used, a session ended or no longer acting for an
 * enterprise. */
enum touch_op { TOUCH_SESSION, TOUCH_TOKEN, END_SESSION, STOP_ACTING };
struct touch {
	enum touch_op op;
	int64_t id, now;
};

static int touch_write(struct db *db, void *p)
{
	const struct touch *t = p;
	switch (t->op) {
	case TOUCH_SESSION: return db_exec(db, &q_session_touch, DB_ARGS(DB_INT(t->now), DB_INT(t->id)), NULL);
	case TOUCH_TOKEN: return db_exec(db, &q_token_touch, DB_ARGS(DB_INT(t->now), DB_INT(t->id)), NULL);
	case END_SESSION: return db_exec(db, &q_session_delete, DB_ARGS(DB_INT(t->id)), NULL);
	case STOP_ACTING: return db_exec(db, &q_session_act, DB_ARGS(DB_NULL, DB_INT(t->id)), NULL);
	}
	return GH_EINTERNAL;
}

static void touch(struct req *r, enum touch_op op, int64_t id, int64_t now)
{
	struct touch t = { op, id, now };
	req_write_also(r, touch_write, &t, sizeof(t));
}

static void set_cookie(struct req *r, const char *name, const char *value, long max_age)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s=%s; Path=/; HttpOnly; SameSite=Lax%s; Max-Age=%ld", name, value,
		 r->app->cfg.behind_tls ? "; Secure" : "", max_age);
	resp_header(r, "Set-Cookie", buf);
}

/* Whether an individual's credential acting for an enterprise still rests on a current
 * authorisation (columns from `kindcol` on, see fill_caller). */
static bool authorised(const struct db_rows *rows, size_t kindcol)
{
	const char *kind = db_cell(rows, 0, kindcol);
	return !kind || strcmp(kind, "individual") != 0 || db_cell_int(rows, 0, kindcol + 6) == 1;
}

/* Fills r->who and r->role from an account row of a session or token query (columns from
 * `kindcol` on: kind, name, department, staff_roles, status, the status of the enterprise
 * acted for, whether the agent's authorisation for it stands). Returns false for a disabled
 * account, an enterprise disabled meanwhile, or an authorisation that ended. */
static bool fill_caller(struct req *r, const struct db_rows *rows, size_t kindcol, int64_t account,
			int64_t acting_for, int64_t id)
{
	const char *status = db_cell(rows, 0, kindcol + 4);
	if (!status || strcmp(status, "active") != 0)
		return false;
	/* Acting for an enterprise that was disabled meanwhile, or whose authorisation of this
	 * agent ended: the credential acts for it no more. */
	const char *ent_status = db_cell(rows, 0, kindcol + 5);
	if (acting_for && (!ent_status || strcmp(ent_status, "active") != 0 || !authorised(rows, kindcol)))
		return false;
	struct caller *w = &r->who;
	w->account = account;
	w->kind = db_cell(rows, 0, kindcol);
	w->name = db_cell(rows, 0, kindcol + 1);
	w->department = db_cell(rows, 0, kindcol + 2);
	unsigned roles = 0;
	if (account_parse_staff_roles(db_cell(rows, 0, kindcol + 3), &roles) == 0)
		w->staff_roles = roles;
	w->session = id;
	if (strcmp(w->kind, "enterprise") == 0)
		w->enterprise = account;
	else if (acting_for)
		w->enterprise = acting_for;
	r->role = role_of(w->kind, acting_for);
	return true;
}

/* ---- credential checks remembered per worker -------------------------------------------
 * A worker keeps the answer row of the session and token queries (q_session_get,
 * q_token_get) per credential (direct-mapped by its keyed hash), with the database's data
 * version read right before it (db_data_version), and answers from it while the version is the
 * same: while nobody (no writer, node or command) has committed any change to the database, so
 * the row is the one the query would read. A log-out, a revoked token or a disabled account is
 * therefore refused by the next request on every node, as without the memory. Where the
 * backend cannot tell (PostgreSQL) every check asks the database. The row is only the query's
 * answer: expiry, idleness, revocation and the account's state are judged on it at every
 * request, as on a row just read; a request gets its own copy in its arena. */
#define MEMO_SLOTS 128
#define MEMO_FILLS 4096 /* fills before the memo's arena starts over */

struct credential_memo {
	const struct db_sql *q;         /* the query it answers; NULL = empty */
	char hash[CRYPTO_HASH_HEX + 1];
	uint64_t version;               /* db_data_version() before the row was read */
	struct db_rows row;             /* one row, cells in the memos' arena */
};

struct credential_memos {
	struct arena *a;
	size_t fills;
	struct credential_memo v[MEMO_SLOTS];
};

static void *memos_make(void)
{
	struct credential_memos *m = xcalloc(1, sizeof(*m));
	m->a = arena_new(1 << 14);
	return m;
}

static void memos_release(void *p)
{
	struct credential_memos *m = p;
	arena_free(m->a);
	free(m);
}

/* rows' first row copied into a (cells NULL stay NULL; no column names). */
static void row_copy(struct arena *a, const struct db_rows *rows, struct db_rows *out)
{
	*out = (struct db_rows){ .nrows = 1, .ncols = rows->ncols };
	out->cells = arena_array(a, rows->ncols ? rows->ncols : 1, sizeof(char *));
	out->lens = arena_array(a, rows->ncols ? rows->ncols : 1, sizeof(size_t));
	for (size_t c = 0; c < rows->ncols; c++) {
		out->lens[c] = rows->lens[c];
		out->cells[c] = rows->cells[c] ? arena_strndup(a, rows->cells[c], rows->lens[c]) : NULL;
	}
}

static struct credential_memo *memo_slot(struct credential_memos *m, const char *hash)
{
	unsigned v = 0;
	for (int i = 0; i < 8; i++)
		v = v * 31 + (unsigned char)hash[i];
	return &m->v[v % MEMO_SLOTS];
}

/* The row of q for the credential of this hash (its one parameter), remembered or read. */
static int credential_row(struct req *r, struct db_sql *q, const char *hash, struct db_rows *rows)
{
	/* Only a worker remembers (a request of the writer's or of a command has none). */
	uint64_t version = 0;
	struct credential_memos *m =
		r->worker && db_data_version(r->db, &version) == 0 ? req_worker_local(r, memos_make, memos_release) : NULL;
	struct credential_memo *e = m ? memo_slot(m, hash) : NULL;
	if (e && e->q == q && e->version == version && strcmp(e->hash, hash) == 0) {
		row_copy(r->arena, &e->row, rows);
		return 0;
	}
	int rc = db_query(r->db, r->arena, q, DB_ARGS(DB_TEXT(hash)), rows);
	if (rc || !e || rows->nrows != 1)
		return rc;
	if (++m->fills > MEMO_FILLS) {
		/* The arena holds every row filled since it started: start over. */
		arena_free(m->a);
		m->a = arena_new(1 << 14);
		memset(m->v, 0, sizeof(m->v));
		m->fills = 1;
	}
	e->q = q;
	memcpy(e->hash, hash, sizeof(e->hash));
	e->version = version;
	row_copy(m->a, rows, &e->row);
	return 0;
}

static int auth_token(struct req *r)
{
	const char *h = req_header(r, "Authorization");
	if (!h)
		return 0;
	if (strncasecmp(h, "Bearer ", 7) != 0 || strlen(h + 7) != CRYPTO_TOKEN_LEN) {
		req_error_detail(r, "%s", M(r, "identity_bearer_malformed"));
		return GH_EUNAUTH;
	}
	char hash[CRYPTO_HASH_HEX + 1];
	crypto_token_hash(r->app->keys, h + 7, hash);
	struct db_rows rows;
	int rc = credential_row(r, &q_token_get, hash, &rows);
	if (rc)
		return rc;
	int64_t now = identity_now();
	if (rows.nrows != 1 || db_cell(&rows, 0, 5) || db_cell_int(&rows, 0, 4) <= now) {
		req_error_detail(r, "%s", M(r, "identity_token_invalid"));
		return GH_EUNAUTH;
	}
	int64_t id = db_cell_int(&rows, 0, 0);
	unsigned scopes = 0;
	scopes_parse(db_cell(&rows, 0, 3), &scopes);
	if (!fill_caller(r, &rows, 7, db_cell_int(&rows, 0, 1), db_cell_int(&rows, 0, 2), id)) {
		req_error_detail(r, "%s", M(r, "identity_token_account_disabled"));
		return GH_EUNAUTH;
	}
	r->who.token = true;
	r->who.scopes = scopes;
	const char *last = db_cell(&rows, 0, 6);
	if (!last || now - db_cell_int(&rows, 0, 6) >= TOUCH_SECONDS)
		touch(r, TOUCH_TOKEN, id, now);
	return 0;
}

static int auth_cookie(struct req *r)
{
	const char *tok = req_cookie(r, SESSION_COOKIE);
	if (!tok || strlen(tok) != CRYPTO_TOKEN_LEN)
		return 0;
	char hash[CRYPTO_HASH_HEX + 1];
	crypto_token_hash(r->app->keys, tok, hash);
	struct db_rows rows;
	int rc = credential_row(r, &q_session_get, hash, &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1) {
		set_cookie(r, SESSION_COOKIE, "", 0); /* a stale cookie: forget it */
		return 0;
	}
	int64_t id = db_cell_int(&rows, 0, 0), now = identity_now();
	int64_t last = db_cell_int(&rows, 0, 4), expires = db_cell_int(&rows, 0, 5);
	if (now - last >= r->app->cfg.session_idle || now >= expires) {
		touch(r, END_SESSION, id, now);
		set_cookie(r, SESSION_COOKIE, "", 0);
		return 0;
	}
	if (db_cell_int(&rows, 0, 3)) {
		/* Password accepted, second factor due: anonymous everywhere but that page. */
		r->who.mfa_pending = true;
		r->who.session = id;
		r->who.account = 0;
		return 0;
	}
	int64_t acting_for = db_cell_int(&rows, 0, 2);
	if (acting_for && !authorised(&rows, 6)) {
		/* The enterprise's authorisation ended (agent_remove also does this at once): the
		 * session goes on for the person alone. */
		touch(r, STOP_ACTING, id, now);
		acting_for = 0;
	}
	if (!fill_caller(r, &rows, 6, db_cell_int(&rows, 0, 1), acting_for, id)) {
		touch(r, END_SESSION, id, now);
		set_cookie(r, SESSION_COOKIE, "", 0);
		return 0;
	}
	r->who.scopes = SCOPE_ALL;
	if (now - last >= TOUCH_SECONDS)
		touch(r, TOUCH_SESSION, id, now);
	return 0;
}

int identity_authenticate(struct req *r)
{
	return r->api ? auth_token(r) : auth_cookie(r);
}

const char *identity_csrf_token(struct req *r)
{
	char *out = arena_alloc(r->arena, CRYPTO_CSRF_LEN + 1);
	const char *base = req_cookie(r, SESSION_COOKIE);
	if (!base || strlen(base) != CRYPTO_TOKEN_LEN || !(r->who.account || r->who.mfa_pending)) {
		base = req_cookie(r, PRESESSION_COOKIE);
		if (!base || strlen(base) != CRYPTO_TOKEN_LEN) {
			char *fresh = arena_alloc(r->arena, CRYPTO_TOKEN_LEN + 1);
			crypto_new_token(fresh);
			set_cookie(r, PRESESSION_COOKIE, fresh, 86400);
			base = fresh;
		}
	}
	crypto_csrf_token(r->app->keys, base, out);
	return out;
}

int identity_csrf_check(struct req *r)
{
	if (r->who.token)
		return 0; /* bearer tokens are never sent by a browser on its own */
	const char *base = (r->who.account || r->who.mfa_pending) ? req_cookie(r, SESSION_COOKIE)
								  : req_cookie(r, PRESESSION_COOKIE);
	const char *sent = req_header(r, "X-CSRF-Token");
	if (!sent) {
		struct kvlist form;
		const struct multipart *mp;
		const struct multipart_part *p;
		if (req_form(r, &form) == 0)
			sent = kv_get(&form, "_csrf");
		else if (req_multipart(r, &mp, NULL) == 0 && (p = multipart_get(mp, "_csrf")) && !p->filename)
			sent = p->value; /* forms with files: the token is one of the fields */
	}
	if (!base || !sent || strlen(base) != CRYPTO_TOKEN_LEN)
		return GH_ECSRF;
	char want[CRYPTO_CSRF_LEN + 1];
	crypto_csrf_token(r->app->keys, base, want);
	return crypto_str_equal(want, sent) ? 0 : GH_ECSRF;
}

int session_create(struct req *w, int64_t account, int64_t acting_for, bool mfa_pending,
		   char tok[CRYPTO_TOKEN_LEN + 1])
{
	/* A log-in replaces whatever session the browser had. */
	int rc;
	if (w->who.session && !w->who.token &&
	    (rc = db_exec(w->db, &q_session_delete, DB_ARGS(DB_INT(w->who.session)), NULL)))
		return rc;
	char hash[CRYPTO_HASH_HEX + 1];
	crypto_new_token(tok);
	crypto_token_hash(w->app->keys, tok, hash);
	int64_t now = identity_now();
	struct db_rows rows;
	return db_query(w->db, w->arena, &q_session_insert,
			DB_ARGS(DB_TEXT(hash), DB_INT(account), acting_for ? DB_INT(acting_for) : DB_NULL,
				DB_INT(mfa_pending ? 1 : 0), DB_INT(now), DB_INT(now),
				DB_INT(now + w->app->cfg.session_max), DB_TEXT(w->ip)),
			&rows);
}

void session_cookie(struct req *r, const char *tok)
{
	if (tok && *tok)
		set_cookie(r, SESSION_COOKIE, tok, r->app->cfg.session_max);
	else
		set_cookie(r, SESSION_COOKIE, "", 0);
}

int session_mfa_done(struct req *w, char tok[CRYPTO_TOKEN_LEN + 1])
{
	char hash[CRYPTO_HASH_HEX + 1];
	crypto_new_token(tok);
	crypto_token_hash(w->app->keys, tok, hash);
	return db_exec(w->db, &q_session_rekey, DB_ARGS(DB_TEXT(hash), DB_INT(identity_now()), DB_INT(w->who.session)),
		       NULL);
}

DB_SQL(q_pending_account, "SELECT account_id FROM sessions WHERE id = ? AND mfa_pending = 1");

int session_pending_account(struct req *r, struct account *acc)
{
	struct db_rows rows;
	int rc = db_query(r->db, r->arena, &q_pending_account, DB_ARGS(DB_INT(r->who.session)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	return account_get(r->db, r->arena, db_cell_int(&rows, 0, 0), acc);
}

int session_act_for(struct req *w, int64_t enterprise)
{
	return db_exec(w->db, &q_session_act,
		       DB_ARGS(enterprise ? DB_INT(enterprise) : DB_NULL, DB_INT(w->who.session)), NULL);
}

int session_end_account(struct db *db, int64_t account, int64_t keep_session)
{
	int rc = db_exec(db, &q_session_delete_account, DB_ARGS(DB_INT(account), DB_INT(keep_session)), NULL);
	if (!rc)
		rc = db_exec(db, &q_tokens_revoke_account, DB_ARGS(DB_INT(identity_now()), DB_INT(account)), NULL);
	return rc;
}

int session_end(struct req *w, bool all)
{
	int rc = 0;
	if (all && w->who.account)
		rc = session_end_account(w->db, w->who.account, w->who.session);
	if (!rc && w->who.session)
		rc = db_exec(w->db, &q_session_delete, DB_ARGS(DB_INT(w->who.session)), NULL);
	return rc;
}

int token_issue(struct req *w, int64_t account, int64_t acting_for, const char *name, const char *channel,
		unsigned scopes, int64_t ttl, char token[CRYPTO_TOKEN_LEN + 1], int64_t *id)
{
	char hash[CRYPTO_HASH_HEX + 1];
	crypto_new_token(token);
	crypto_token_hash(w->app->keys, token, hash);
	int64_t now = identity_now();
	struct db_rows rows;
	int rc = db_query(w->db, w->arena, &q_token_insert,
			  DB_ARGS(DB_TEXT(hash), DB_INT(account), acting_for ? DB_INT(acting_for) : DB_NULL,
				  DB_TEXT(name), DB_TEXT(channel), DB_TEXT(scopes_str(w->arena, scopes)), DB_INT(now),
				  DB_INT(now + ttl)),
			  &rows);
	if (rc)
		return rc;
	*id = db_cell_int(&rows, 0, 0);
	return 0;
}

int token_revoke(struct db *db, int64_t account, int64_t id, int64_t now)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_token_revoke, DB_ARGS(DB_INT(now), DB_INT(id), DB_INT(account)), &changed);
	return rc ? rc : changed ? 0 : GH_ENOTFOUND;
}

static void token_row(const struct db_rows *rows, size_t i, void *out)
{
	struct api_token *v = out;
	v->id = db_cell_int(rows, i, 0);
	v->name = db_cell(rows, i, 1);
	v->channel = db_cell(rows, i, 2);
	v->scopes_str = db_cell(rows, i, 3);
	scopes_parse(v->scopes_str, &v->scopes);
	v->created_at = db_cell_int(rows, i, 4);
	v->expires_at = db_cell_int(rows, i, 5);
	v->last_used = db_cell(rows, i, 6) ? db_cell_int(rows, i, 6) : 0;
	v->revoked_at = db_cell(rows, i, 7) ? db_cell_int(rows, i, 7) : 0;
}

int token_list(struct db *db, struct arena *a, int64_t account, struct api_token **out, size_t *n)
{
	return db_query_array(db, a, &q_token_list, DB_ARGS(DB_INT(account)), sizeof(**out), token_row, out, n);
}

DB_SQL(q_session_stop_acting, "UPDATE sessions SET acting_for = NULL WHERE account_id = ? AND acting_for = ?");
DB_SQL(q_tokens_revoke_acting,
       "UPDATE api_tokens SET revoked_at = ? WHERE account_id = ? AND acting_for = ? AND revoked_at IS NULL");

int session_end_acting(struct db *db, int64_t agent, int64_t enterprise)
{
	int rc = db_exec(db, &q_session_stop_acting, DB_ARGS(DB_INT(agent), DB_INT(enterprise)), NULL);
	if (!rc)
		rc = db_exec(db, &q_tokens_revoke_acting,
			     DB_ARGS(DB_INT(identity_now()), DB_INT(agent), DB_INT(enterprise)), NULL);
	return rc;
}

/* ---- ownership ---------------------------------------------------------------------------- */

#define OWNERS (ROLE_CITIZEN | ROLE_AGENT | ROLE_ENTERPRISE)

struct identity_owner identity_owner_of(const struct req *r)
{
	if (!r->who.account || !(r->role & OWNERS))
		return (struct identity_owner){ 0, 0 };
	return (struct identity_owner){ r->who.account, r->who.enterprise };
}

int64_t identity_owner_id(const struct req *r)
{
	struct identity_owner o = identity_owner_of(r);
	return o.enterprise ? o.enterprise : o.person;
}

bool identity_owns(const struct req *r, int64_t person, int64_t enterprise)
{
	struct identity_owner o = identity_owner_of(r);
	if (!o.person)
		return false;
	if (enterprise)
		return o.enterprise == enterprise;
	return !o.enterprise && o.person == person;
}
