/* store.c: the Open311 tables (migrations NNNN_open311.sql) and the observer that keeps each
 * request's status in step with its application. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "cases/cases.h"
#include "identity/crypto.h"
#include "identity/identity.h"
#include "notify/notify.h"
#include "open311/open311.h"
#include "open311/open311_impl.h"
#include "store/cover.h"
#include "store/db.h"

DB_SQL(q_key_by_hash, "SELECT id, revoked_at, last_used FROM open311_keys WHERE key_hash = ?");
DB_SQL(q_key_touch, "UPDATE open311_keys SET last_used = ? WHERE id = ?");
DB_SQL(q_key_insert,
       "INSERT INTO open311_keys (name, key_hash, key_hint, created_at) VALUES (?, ?, ?, ?) RETURNING id");
DB_SQL(q_key_list, "SELECT id, name, key_hint, created_at, last_used, revoked_at FROM open311_keys ORDER BY id");
DB_SQL(q_key_revoke, "UPDATE open311_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
DB_SQL(q_applicant, "SELECT account_id FROM open311_applicant WHERE id = 1");
/* An individual without credentials: no ID number or phone (the only log-in names), and a
 * password hash no password matches. */
DB_SQL(q_applicant_account,
       "INSERT INTO accounts (kind, name, password_hash, status, key_id, created_at, password_changed_at) "
       "VALUES ('individual', 'Open311', '!open311', 'active', 0, ?, ?) RETURNING id");
DB_SQL(q_applicant_set, "INSERT INTO open311_applicant (id, account_id) VALUES (1, ?)");

/* ... and the number of the request it was merged into (NULL: none) */
#define REQ_COLS                                                                                   \
	"number, token, service_code, department, lat, lon, address_string, address_id, description, " \
	"media_url, state, status_notes, closed, expected_day, requested_at, updated_at, "              \
	"(SELECT p.number FROM open311_merges m JOIN open311_requests p ON p.id = m.into_id "           \
	"WHERE m.request_id = open311_requests.id) "
DB_SQL(q_req_insert,
       "INSERT INTO open311_requests (token, key_id, application_id, number, service_code, department, lat, lon, "
       "address_string, address_id, description, media_url, contact_enc, state, closed, requested_at, updated_at) "
       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id");
DB_SQL(q_req_get, "SELECT " REQ_COLS "FROM open311_requests WHERE number = ?");
DB_SQL(q_token_get, "SELECT number FROM open311_requests WHERE token = ?");
DB_SQL(q_req_list,
       "SELECT " REQ_COLS "FROM open311_requests WHERE requested_at >= ? AND requested_at <= ? "
       "AND (CAST(? AS TEXT) IS NULL OR service_code = ?) AND (CAST(? AS INTEGER) IS NULL OR closed = ?) "
       "ORDER BY requested_at DESC, id DESC LIMIT ?");
DB_SQL(q_req_follow,
       "UPDATE open311_requests SET state = ?, closed = ?, status_notes = ?, expected_day = ?, updated_at = ? "
       "WHERE application_id = ? AND state <> 'merged' RETURNING id");
/* A merge (open311_request_merge): the record, then the duplicate closed. */
DB_SQL(q_merge_add, "INSERT INTO open311_merges (request_id, into_id, merged_by, merged_at) VALUES "
		    "((SELECT id FROM open311_requests WHERE number = ?), (SELECT id FROM open311_requests WHERE number = ?), ?, ?) "
		    "RETURNING id");
DB_SQL(q_merge_close, "UPDATE open311_requests SET state = 'merged', closed = 1, status_notes = NULL, expected_day = NULL, "
		      "updated_at = ? WHERE number = ? AND closed = 0 RETURNING id");
/* Followers (report_followers, subject_kind 'open311'): "this is my problem too" and those
 * moved by a merge. The rows are covered (the interact domain declares the table). */
#define REQ_ID "(SELECT id FROM open311_requests WHERE number = ?)"
DB_SQL(q_follow_add, "INSERT INTO report_followers (subject_kind, subject_id, account_id, enterprise_id, via, created_at) "
		     "SELECT 'open311', id, CAST(? AS bigint), CAST(? AS bigint), 'follow', CAST(? AS bigint) "
		     "FROM open311_requests WHERE number = ? ON CONFLICT DO NOTHING RETURNING id");
DB_SQL(q_followers, "SELECT account_id, COALESCE(enterprise_id, 0) FROM report_followers WHERE subject_kind = 'open311' "
		    "AND subject_id = ? ORDER BY id LIMIT 10000");
DB_SQL(q_follow_move, "INSERT INTO report_followers (subject_kind, subject_id, account_id, enterprise_id, via, created_at) "
		      "SELECT 'open311', " REQ_ID ", f.account_id, f.enterprise_id, 'merge', CAST(? AS bigint) "
		      "FROM report_followers f WHERE f.subject_kind = 'open311' AND f.subject_id = " REQ_ID " "
		      "ON CONFLICT DO NOTHING RETURNING id");
DB_SQL(q_follower_of, "SELECT 1 FROM report_followers WHERE subject_kind = 'open311' AND subject_id = " REQ_ID
		      " AND account_id = ?");

/* ---- what the transparency log covers (store/cover.h) ------------------------------------
 * A request as posted (its reporter's contact data committed as plaintext) and the status it
 * answers with; the look-up token is a credential (docs/security.md). */
static int request_plain(struct arena *a, const char *col, const char *stored, size_t len, const char **out,
			 size_t *outlen)
{
	(void)col; /* "contact_enc" */
	return identity_unseal(a, "open311.contact", stored, len, out, outlen);
}

/* Which request a duplicate was merged into, by whom and when (staff, docs/api.md). */
static const struct cover_table cover_merges = {
	.table = "open311_merges", .key = "id", .cols = "request_id, into_id, merged_by, merged_at",
};

static const struct cover_table cover_requests = {
	.table = "open311_requests", .key = "id",
	.cols = "key_id, application_id, number, service_code, department, lat, lon, address_string, address_id, "
		"description, media_url, contact_enc, state, closed, status_notes, expected_day, requested_at, updated_at",
	.plain_cols = "contact_enc", .plain = request_plain,
};

void open311_register(void)
{
	cover_declare(&cover_requests);
	cover_declare(&cover_merges);
}

int open311_key_check(struct db *db, struct arena *a, const struct keyring *k, const char *key, int64_t *key_id,
		      bool *stale)
{
	*stale = false;
	if (!key || strlen(key) != CRYPTO_TOKEN_LEN)
		return GH_ENOTFOUND;
	char hash[CRYPTO_HASH_HEX + 1];
	crypto_token_hash(k, key, hash);
	struct db_rows rows;
	int rc = db_query(db, a, &q_key_by_hash, DB_ARGS(DB_TEXT(hash)), &rows);
	if (!rc && (rows.nrows != 1 || db_cell(&rows, 0, 1)))
		rc = GH_ENOTFOUND;
	if (!rc) {
		*key_id = db_cell_int(&rows, 0, 0);
		/* last_used at most once a minute, so a busy client does not write per request */
		*stale = !db_cell(&rows, 0, 2) || (int64_t)time(NULL) - db_cell_int(&rows, 0, 2) >= 60;
	}
	return rc;
}

int open311_key_touch(struct db *db, void *key_id)
{
	return db_exec(db, &q_key_touch, DB_ARGS(DB_INT((int64_t)time(NULL)), DB_INT(*(int64_t *)key_id)), NULL);
}

int open311_applicant(struct db *db, struct arena *a, int64_t *account)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_applicant, DB_NOARGS, &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	*account = db_cell_int(&rows, 0, 0);
	return 0;
}

int open311_applicant_ensure(struct db *db, struct arena *a, int64_t now, int64_t *account)
{
	int rc = open311_applicant(db, a, account);
	if (rc != GH_ENOTFOUND)
		return rc;
	if ((rc = db_begin(db)))
		return rc;
	struct db_rows rows;
	rc = db_query(db, a, &q_applicant_account, DB_ARGS(DB_INT(now), DB_INT(now)), &rows);
	if (!rc && rows.nrows == 1) {
		*account = db_cell_int(&rows, 0, 0);
		rc = db_exec(db, &q_applicant_set, DB_ARGS(DB_INT(*account)), NULL);
		if (!rc)
			rc = cover_touch_id(db, "accounts", *account, "account.create");
	} else if (!rc) {
		rc = GH_EDB;
	}
	if (rc) {
		db_rollback(db);
		/* Another process made it meanwhile: use theirs. */
		return rc == GH_ECONFLICT ? open311_applicant(db, a, account) : rc;
	}
	return db_commit(db);
}

int open311_request_add(struct db *db, struct arena *a, const struct open311_new *in, const char **token)
{
	char *tok = arena_alloc(a, CRYPTO_TOKEN_LEN + 1);
	crypto_new_token(tok);
	*token = tok;
	struct db_val contact = in->contact_enc ? DB_BLOB(in->contact_enc, in->contact_len) : DB_NULL;
	struct db_rows rows;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_query(db, a, &q_req_insert,
			      DB_ARGS(DB_TEXT(tok), DB_INT(in->key_id), DB_INT(in->application_id), DB_TEXT(in->number),
				      DB_TEXT(in->service_code), DB_TEXT(in->department), DB_TEXT(in->lat), DB_TEXT(in->lon),
				      DB_TEXT(in->address_string), DB_TEXT(in->address_id), DB_TEXT(in->description),
				      DB_TEXT(in->media_url), contact, DB_TEXT(in->state), DB_INT(in->now), DB_INT(in->now)),
			      &rows);
	return cover_tx_end_id(db, own, rc, "open311_requests", rc ? 0 : db_cell_int(&rows, 0, 0), "open311.request");
}

static void req_from_row(const struct db_rows *rows, size_t i, void *out)
{
	struct open311_request *o = out;
	size_t c = 0;
	o->number = db_cell(rows, i, c++);
	o->token = db_cell(rows, i, c++);
	o->service_code = db_cell(rows, i, c++);
	o->department = db_cell(rows, i, c++);
	o->lat = db_cell(rows, i, c++);
	o->lon = db_cell(rows, i, c++);
	o->address_string = db_cell(rows, i, c++);
	o->address_id = db_cell(rows, i, c++);
	o->description = db_cell(rows, i, c++);
	o->media_url = db_cell(rows, i, c++);
	o->state = db_cell(rows, i, c++);
	o->status_notes = db_cell(rows, i, c++);
	o->closed = db_cell_int(rows, i, c++) != 0;
	o->expected_day = (int32_t)db_cell_int(rows, i, c++);
	o->requested_at = db_cell_int(rows, i, c++);
	o->updated_at = db_cell_int(rows, i, c++);
	o->merged_into = db_cell(rows, i, c++);
}

int open311_request_get(struct db *db, struct arena *a, const char *number, struct open311_request *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_req_get, DB_ARGS(DB_TEXT(number)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	req_from_row(&rows, 0, out);
	return 0;
}

int open311_token_get(struct db *db, struct arena *a, const char *token, const char **number)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_token_get, DB_ARGS(DB_TEXT(token)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	*number = db_cell(&rows, 0, 0);
	return 0;
}

int open311_request_list(struct db *db, struct arena *a, const struct open311_query *q, struct open311_request **out,
			 size_t *n)
{
	struct db_val closed = q->closed < 0 ? DB_NULL : DB_INT(q->closed);
	return db_query_array(db, a, &q_req_list,
			      DB_ARGS(DB_INT(q->from), DB_INT(q->to), DB_TEXT(q->service_code), DB_TEXT(q->service_code),
				      closed, closed, DB_INT(q->limit)),
			      sizeof(**out), req_from_row, out, n);
}

/* Each follower of request id (open311_requests.id) is told m, a message of kind kind. */
static int followers_tell(struct db *db, struct arena *a, int64_t id, const char *kind, const struct open311_message *m)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_followers, DB_ARGS(DB_INT(id)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		int64_t to = db_cell_int(&rows, i, 1) ? db_cell_int(&rows, i, 1) : db_cell_int(&rows, i, 0);
		rc = notify_message(db, a, to, 0, kind, m->title_zh, m->title_en, m->body_zh, m->body_en);
	}
	return rc;
}

int open311_request_follow(struct db *db, struct arena *a, const char *number, int64_t account, int64_t enterprise,
			   int64_t now)
{
	struct db_rows rows;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_query(db, a, &q_follow_add,
			      DB_ARGS(DB_INT(account), enterprise ? DB_INT(enterprise) : DB_NULL, DB_INT(now), DB_TEXT(number)),
			      &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++)
		rc = cover_touch(db, "report_followers", db_cell(&rows, i, 0), "open311.follow");
	return cover_tx_end(db, own, rc);
}

bool open311_following(struct db *db, struct arena *a, const char *number, int64_t account)
{
	struct db_rows rows;
	return !db_query(db, a, &q_follower_of, DB_ARGS(DB_TEXT(number), DB_INT(account)), &rows) && rows.nrows > 0;
}

int open311_request_merge(struct db *db, struct arena *a, const char *number, const char *into, int64_t by, int64_t now,
			  const struct open311_message *told)
{
	struct db_rows rows;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_query(db, a, &q_merge_add, DB_ARGS(DB_TEXT(number), DB_TEXT(into), DB_INT(by), DB_INT(now)), &rows);
	if (!rc)
		rc = cover_touch(db, "open311_merges", db_cell(&rows, 0, 0), "open311.merge");
	if (!rc)
		rc = db_query(db, a, &q_merge_close, DB_ARGS(DB_INT(now), DB_TEXT(number)), &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_ECONFLICT;
	int64_t dup = rc ? 0 : db_cell_int(&rows, 0, 0);
	if (!rc)
		rc = cover_touch(db, "open311_requests", db_cell(&rows, 0, 0), "open311.merge");
	/* its followers follow the primary, and are told */
	if (!rc)
		rc = db_query(db, a, &q_follow_move, DB_ARGS(DB_TEXT(into), DB_INT(now), DB_TEXT(number)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++)
		rc = cover_touch(db, "report_followers", db_cell(&rows, i, 0), "open311.merge");
	if (!rc)
		rc = followers_tell(db, a, dup, "open311_merged", told);
	return cover_tx_end(db, own, rc);
}

int open311_key_add(struct db *db, struct arena *a, const char *name, const char *hash, const char *hint, int64_t now,
		    int64_t *id)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_key_insert, DB_ARGS(DB_TEXT(name), DB_TEXT(hash), DB_TEXT(hint), DB_INT(now)), &rows);
	if (rc)
		return rc;
	*id = rows.nrows ? db_cell_int(&rows, 0, 0) : 0;
	return 0;
}

static void key_row(const struct db_rows *rows, size_t i, void *out)
{
	*(struct open311_key *)out = (struct open311_key){
		.id = db_cell_int(rows, i, 0), .name = db_cell(rows, i, 1), .hint = db_cell(rows, i, 2),
		.created_at = db_cell_int(rows, i, 3), .last_used = db_cell_int(rows, i, 4),
		.revoked_at = db_cell_int(rows, i, 5),
	};
}

int open311_key_list(struct db *db, struct arena *a, struct open311_key **out, size_t *n)
{
	return db_query_array(db, a, &q_key_list, DB_NOARGS, sizeof(**out), key_row, out, n);
}

int open311_key_revoke(struct db *db, int64_t id, int64_t now)
{
	int64_t changes = 0;
	int rc = db_exec(db, &q_key_revoke, DB_ARGS(DB_INT(now), DB_INT(id)), &changes);
	if (!rc && changes != 1)
		rc = GH_ENOTFOUND;
	return rc;
}

int open311_observe(struct db *db, struct arena *a, const struct case_change *c)
{
	if (!c->channel || strcmp(c->channel, "open311") != 0)
		return 0;
	/* Requests are public: the status note is the state's name (request_json), never the
	 * reason staff wrote to the applicant, which may name people or hold personal data. */
	const char *notes = NULL;
	struct db_rows rows;
	int rc = db_query(db, a, &q_req_follow,
			  DB_ARGS(DB_TEXT(c->to_state), DB_INT(c->terminal ? 1 : 0), DB_TEXT(notes),
				  c->due_day ? DB_INT(c->due_day) : DB_NULL, DB_INT(c->at), DB_INT(c->application_id)),
			  &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		rc = cover_touch(db, "open311_requests", db_cell(&rows, i, 0), "open311.status");
		if (!rc) /* its followers hear of it (the state, never a reason) */
			rc = followers_tell(db, a, db_cell_int(&rows, i, 0), "open311_update", open311_followed_news(a, c));
	}
	return rc;
}
