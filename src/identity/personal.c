/* personal.c: what identity holds about a person (store/personal.h), closing an account, and
 * the password check that confirms it.
 *
 * Kept at closure: the account's kind, name and ID number (sealed, its mask shown), which name
 * the party of the records the law requires keeping (applications, payments, certificates);
 * and the security events (log-ins, password changes), kept as network logs for their own
 * period. Erased: the password's hash, contact data (phone, e-mail), the second factor, the
 * look-up indexes (so the same ID number or phone may register again), sessions and API tokens
 * (their hashes: never shown), and the agents authorised by an enterprise. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/util.h"
#include "http/server.h"
#include "identity/identity_impl.h"
#include "identity/password.h"
#include "store/cover.h"
#include "store/db.h"
#include "store/personal.h"

#define CLOSE_TRIES_PER_HOUR 10 /* password confirmations of a closure, per account */

DB_SQL(q_account, "SELECT id, kind, name, id_mask, legal_rep, status, created_at, closed_at FROM accounts WHERE id = ?");
DB_SQL(q_contact, "SELECT phone_mask, phone_verified_at, email_mask, totp_enabled, password_changed_at FROM accounts "
		  "WHERE id = ? AND (phone_mask IS NOT NULL OR email_mask IS NOT NULL OR totp_enabled = 1)");
DB_SQL(q_contact_erase,
       "UPDATE accounts SET phone_enc = NULL, phone_index = NULL, phone_mask = NULL, phone_verified_at = NULL, "
       "email_enc = NULL, email_mask = NULL, totp_enc = NULL, totp_enabled = 0 WHERE id = ?");
DB_SQL(q_sessions, "SELECT id, created_at, last_seen AS last_seen_at, expires_at, ip FROM sessions "
		   "WHERE account_id = ? ORDER BY id DESC LIMIT 2000");
DB_SQL(q_sessions_erase, "DELETE FROM sessions WHERE account_id = ? OR acting_for = ?");
DB_SQL(q_tokens, "SELECT id, name, channel, scopes, created_at, expires_at, last_used AS last_used_at, revoked_at "
		 "FROM api_tokens WHERE account_id = ? ORDER BY id DESC LIMIT 2000");
DB_SQL(q_tokens_erase, "DELETE FROM api_tokens WHERE account_id = ? OR acting_for = ?");
DB_SQL(q_events, "SELECT id, at AS happened_at, kind, ip FROM security_events WHERE account_id = ? "
		 "ORDER BY id DESC LIMIT 2000");
DB_SQL(q_agents, "SELECT g.enterprise_id, g.agent_id, e.name AS enterprise_name, a.name AS agent_name, g.granted_at "
		 "FROM enterprise_agents g JOIN accounts e ON e.id = g.enterprise_id JOIN accounts a ON a.id = g.agent_id "
		 "WHERE g.enterprise_id = ? OR g.agent_id = ? ORDER BY g.granted_at DESC LIMIT 2000");
DB_SQL(q_agents_of, "SELECT enterprise_id, agent_id FROM enterprise_agents WHERE enterprise_id = ? OR agent_id = ?");
DB_SQL(q_agent_erase, "DELETE FROM enterprise_agents WHERE enterprise_id = ? AND agent_id = ?");
/* The password's hash goes too: "!" (as for accounts made by a hub) matches no password. */
DB_SQL(q_close, "UPDATE accounts SET status = 'disabled', closed_at = ?, id_index = NULL, password_hash = '!' "
		"WHERE id = ? AND closed_at IS NULL AND kind IN ('individual', 'enterprise')");

/* The contact fields are covered (accounts): the erasure is a logged change of the row. */
static int contact_erase(struct db *db, struct arena *a, int64_t account)
{
	(void)a;
	return cover_touch_id(db, "accounts", account, "erasure");
}

/* Each authorisation is a covered row: deleted one by one, each deletion logged. */
static int agents_erase(struct db *db, struct arena *a, int64_t account)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_agents_of, DB_ARGS(DB_INT(account), DB_INT(account)), &rows);
	for (size_t i = 0; !rc && i < rows.nrows; i++) {
		int64_t ent = db_cell_int(&rows, i, 0), agent = db_cell_int(&rows, i, 1);
		char key[48];
		snprintf(key, sizeof(key), "%lld:%lld", (long long)ent, (long long)agent);
		rc = db_exec(db, &q_agent_erase, DB_ARGS(DB_INT(ent), DB_INT(agent)), NULL);
		if (!rc)
			rc = cover_touch(db, "enterprise_agents", key, "erasure");
	}
	return rc;
}

static const struct personal_part parts[] = {
	{ .name = "account", .kept = true, .query = &q_account, .words = "kind=admin_kind_,status=admin_status_" },
	{ .name = "contact", .query = &q_contact, .erase_sql = { &q_contact_erase }, .erase = contact_erase },
	{ .name = "sessions", .query = &q_sessions, .erase_sql = { &q_sessions_erase } },
	{ .name = "api_tokens", .query = &q_tokens, .erase_sql = { &q_tokens_erase } },
	{ .name = "agents", .query = &q_agents, .erase = agents_erase },
	{ .name = "security_events", .kept = true, .query = &q_events },
};

void identity_personal_declare(void)
{
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		personal_declare(&parts[i]);
	identity_namefix_declare();
}

int identity_account_close(struct req *w)
{
	int64_t changed = 0;
	int rc = db_exec(w->db, &q_close, DB_ARGS(DB_INT(identity_now()), DB_INT(w->who.account)), &changed);
	if (!rc && !changed)
		rc = GH_ECONFLICT; /* closed already, or an account of staff */
	if (!rc)
		rc = cover_touch_id(w->db, "accounts", w->who.account, "account.close");
	if (!rc)
		identity_event(w->db, "account.close", w->who.account, w->who.account, w->ip, w->api ? "api" : "page");
	return rc;
}

/* ---- the password that confirms a closure --------------------------------------------- */

struct confirm_job {
	char *hash, *password;
	bool ok;
	int (*done)(struct req *r, void *arg, bool ok);
	void *arg;
};

static void confirm_work(void *p)
{
	struct confirm_job *j = p;
	j->ok = *j->hash && password_verify(j->hash, j->password);
	sodium_memzero(j->password, strlen(j->password));
}

static int confirm_done(struct req *r, void *p)
{
	struct confirm_job *j = p;
	return j->done(r, j->arg, j->ok);
}

int identity_password_confirm(struct req *r, const char *password, int (*done)(struct req *r, void *arg, bool ok),
			      void *arg)
{
	char key[64];
	snprintf(key, sizeof(key), "close:%lld", (long long)r->who.account);
	int rc = identity_rate_limit(r, key, CLOSE_TRIES_PER_HOUR, 3600);
	if (rc)
		return rc;
	struct account acc;
	if ((rc = account_get(r->db, r->arena, r->who.account, &acc)))
		return rc;
	struct confirm_job *j = arena_zalloc(r->arena, sizeof(*j));
	j->hash = arena_strdup(r->arena, acc.password_hash ? acc.password_hash : "");
	j->password = arena_strdup(r->arena, password && strlen(password) <= PASSWORD_MAX_BYTES ? password : "");
	j->done = done;
	j->arg = arg;
	return req_job(r, confirm_work, confirm_done, j);
}
