/* accounts.c: the accounts table. Personal data is sealed, indexed and masked here and
 * nowhere else. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/sb.h"
#include "base/util.h"
#include "identity/identity_impl.h"
#include "store/cover.h"
#include "store/db.h"

/* ---- what the transparency log covers (store/cover.h) ------------------------------------
 * An account's kind, powers (department, duties, status), names and contact data (committed
 * as plaintext: re-sealing under a new key is no change), and each enterprise's agents. The
 * functions below that write them touch the row in the caller's transaction (or their own).
 * Credentials (password hash, second factor) are left out: docs/security.md. */
static const struct keyring *cover_ring;

void account_cover_keys(const struct keyring *k)
{
	cover_ring = k;
}

const struct keyring *identity_keyring(void)
{
	return cover_ring;
}

int identity_unseal(struct arena *a, const char *field, const char *stored, size_t len, const char **out,
		    size_t *outlen)
{
	if (!cover_ring)
		return GH_EUNAVAILABLE;
	char *p;
	int rc = crypto_open(cover_ring, a, field, (const unsigned char *)stored, len, &p, outlen, NULL);
	*out = p;
	return rc;
}

static int account_plain(struct arena *a, const char *col, const char *stored, size_t len, const char **out,
			 size_t *outlen)
{
	static const struct {
		const char *col, *field;
	} sealed[] = { { "id_enc", "id" }, { "phone_enc", "phone" }, { "email_enc", "email" } };
	for (size_t i = 0; i < ARRAY_LEN(sealed); i++)
		if (!strcmp(col, sealed[i].col))
			return identity_unseal(a, sealed[i].field, stored, len, out, outlen);
	return GH_EINTERNAL;
}

static const struct cover_table cover_accounts = {
	.table = "accounts", .key = "id",
	.cols = "kind, name, id_enc, id_index, id_mask, phone_enc, phone_index, phone_mask, email_enc, email_mask, "
		"legal_rep, department, staff_roles, status, created_at",
	.plain_cols = "id_enc, phone_enc, email_enc", .plain = account_plain,
};
static const struct cover_table cover_agents = {
	.table = "enterprise_agents", .key = "enterprise_id, agent_id", .cols = "granted_at",
};

void identity_register(void)
{
	cover_declare(&cover_accounts);
	cover_declare(&cover_agents);
	cover_declare(&identity_namefix_cover);
}

/* Ends a write of an agent's authorisation (keyed by both accounts), as cover_tx_end_id. */

static int agent_end(struct db *db, bool own, int rc, int64_t enterprise, int64_t agent, const char *action)
{
	char key[48];
	snprintf(key, sizeof(key), "%lld:%lld", (long long)enterprise, (long long)agent);
	if (!rc)
		rc = cover_touch(db, "enterprise_agents", key, action);
	return cover_tx_end(db, own, rc);
}

#define ACCOUNT_COLS                                                                              \
	"id, kind, name, id_mask, phone_mask, legal_rep, department, staff_roles, password_hash, " \
	"totp_enc, totp_enabled, status, created_at, password_changed_at, email_mask, phone_verified_at, must_renew "

DB_SQL(q_insert,
       "INSERT INTO accounts (kind, name, id_enc, id_index, id_mask, phone_enc, phone_index, phone_mask, "
       "legal_rep, department, staff_roles, password_hash, totp_enc, totp_enabled, key_id, created_at, "
       "password_changed_at, phone_verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
       "RETURNING id");
DB_SQL(q_get, "SELECT " ACCOUNT_COLS "FROM accounts WHERE id = ?");
DB_SQL(q_by_id_index, "SELECT " ACCOUNT_COLS "FROM accounts WHERE id_index = ?");
DB_SQL(q_by_phone_index, "SELECT " ACCOUNT_COLS "FROM accounts WHERE phone_index = ?");
DB_SQL(q_contact, "SELECT name, phone_enc, email_enc FROM accounts WHERE id = ?");
DB_SQL(q_set_email, "UPDATE accounts SET email_enc = ?, email_mask = ? WHERE id = ?");
DB_SQL(q_set_password, "UPDATE accounts SET password_hash = ?, password_changed_at = ? WHERE id = ?");
DB_SQL(q_set_totp, "UPDATE accounts SET totp_enc = ?, totp_enabled = ? WHERE id = ?");
DB_SQL(q_totp_use, "UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?");
DB_SQL(q_set_status, "UPDATE accounts SET status = ? WHERE id = ? AND closed_at IS NULL"); /* closed: for good */
DB_SQL(q_set_staff, "UPDATE accounts SET department = ?, staff_roles = ? WHERE id = ? AND kind = 'staff'");
DB_SQL(q_list_all, "SELECT " ACCOUNT_COLS "FROM accounts ORDER BY id DESC LIMIT ? OFFSET ?");
DB_SQL(q_list_kind, "SELECT " ACCOUNT_COLS "FROM accounts WHERE kind = ? ORDER BY id DESC LIMIT ? OFFSET ?");
DB_SQL(q_count_all, "SELECT COUNT(*) FROM accounts");
DB_SQL(q_count_kind, "SELECT COUNT(*) FROM accounts WHERE kind = ?");
DB_SQL(q_agent_add, "INSERT INTO enterprise_agents (enterprise_id, agent_id, granted_at) VALUES (?, ?, ?)");
DB_SQL(q_agent_remove, "DELETE FROM enterprise_agents WHERE enterprise_id = ? AND agent_id = ?");
DB_SQL(q_agent_list, "SELECT a.id, a.kind, a.name, a.id_mask, a.phone_mask, a.legal_rep, a.department, "
		     "a.staff_roles, a.password_hash, a.totp_enc, a.totp_enabled, a.status, a.created_at, "
		     "a.password_changed_at, a.email_mask, a.phone_verified_at, a.must_renew "
		     "FROM enterprise_agents g JOIN accounts a ON a.id = g.agent_id "
		     "WHERE g.enterprise_id = ? ORDER BY g.granted_at, a.id");
DB_SQL(q_agent_enterprises, "SELECT a.id, a.kind, a.name, a.id_mask, a.phone_mask, a.legal_rep, a.department, "
			    "a.staff_roles, a.password_hash, a.totp_enc, a.totp_enabled, a.status, a.created_at, "
			    "a.password_changed_at, a.email_mask, a.phone_verified_at, a.must_renew "
			    "FROM enterprise_agents g JOIN accounts a ON a.id = g.enterprise_id "
			    "WHERE g.agent_id = ? AND a.status = 'active' ORDER BY a.name, a.id");
DB_SQL(q_agent_may, "SELECT 1 FROM enterprise_agents g JOIN accounts a ON a.id = g.enterprise_id "
		    "WHERE g.agent_id = ? AND g.enterprise_id = ? AND a.status = 'active'");

static const struct {
	const char *word;
	unsigned bit;
} staff_words[] = {
	{ "counter", STAFF_COUNTER },
	{ "reviewer", STAFF_REVIEWER },
	{ "head", STAFF_HEAD },
};

void account_random_password(char out[ACCOUNT_INITIAL_PASSWORD_LEN + 1])
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	for (int i = 0; i < ACCOUNT_INITIAL_PASSWORD_LEN; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[ACCOUNT_INITIAL_PASSWORD_LEN] = 0;
}

int account_parse_staff_roles(const char *s, unsigned *out)
{
	unsigned bits = 0;
	while (s && *s) {
		size_t n = strcspn(s, ",");
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(staff_words); i++)
			if (strlen(staff_words[i].word) == n && strncmp(staff_words[i].word, s, n) == 0) {
				bits |= staff_words[i].bit;
				known = true;
			}
		if (!known && n > 0)
			return -1;
		s += n;
		if (*s == ',')
			s++;
	}
	*out = bits;
	return 0;
}

const char *account_staff_roles_str(struct arena *a, unsigned roles)
{
	struct sb sb = SB_INIT;
	for (size_t i = 0; i < ARRAY_LEN(staff_words); i++)
		if (roles & staff_words[i].bit) {
			if (sb.len)
				sb_addch(&sb, ',');
			sb_adds(&sb, staff_words[i].word);
		}
	char *r = arena_strndup(a, sb.buf, sb.len);
	sb_release(&sb);
	return r;
}

static void from_row(const struct db_rows *rows, size_t i, void *elem)
{
	struct account *out = elem;
	memset(out, 0, sizeof(*out));
	out->id = db_cell_int(rows, i, 0);
	out->kind = db_cell(rows, i, 1);
	out->name = db_cell(rows, i, 2);
	out->id_mask = db_cell(rows, i, 3);
	out->phone_mask = db_cell(rows, i, 4);
	out->legal_rep = db_cell(rows, i, 5);
	out->department = db_cell(rows, i, 6);
	unsigned roles = 0;
	if (account_parse_staff_roles(db_cell(rows, i, 7), &roles) == 0)
		out->staff_roles = roles;
	out->password_hash = db_cell(rows, i, 8);
	out->totp_enc = (const unsigned char *)db_cell(rows, i, 9);
	out->totp_enc_len = rows->lens[i * rows->ncols + 9];
	out->totp_enabled = db_cell_int(rows, i, 10) != 0;
	out->status = db_cell(rows, i, 11);
	out->created_at = db_cell_int(rows, i, 12);
	out->password_changed_at = db_cell_int(rows, i, 13);
	out->email_mask = db_cell(rows, i, 14);
	out->phone_verified_at = db_cell(rows, i, 15) ? db_cell_int(rows, i, 15) : 0;
	out->must_renew = (int)db_cell_int(rows, i, 16);
}

static int one(struct db *db, struct arena *a, struct db_sql *q, const struct db_val *args, size_t n,
	       struct account *out)
{
	struct db_rows rows;
	int rc = db_query(db, a, q, args, n, &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	from_row(&rows, 0, out);
	return 0;
}

int identity_seal_value(const struct keyring *k, struct arena *a, const char *field, const char *value,
			struct identity_sealed *s)
{
	memset(s, 0, sizeof(*s));
	if (!value || !*value)
		return 0;
	size_t n = strlen(value);
	int rc = crypto_seal(k, a, field, value, n, &s->enc, &s->enc_len);
	if (rc)
		return rc;
	crypto_blind_index(k, field, value, n, s->index);
	s->mask = arena_alloc(a, n + 1);
	idcheck_mask(value, n, s->mask, n + 1);
	return 0;
}

static struct db_val blob_or_null(const struct identity_sealed *s)
{
	return s->enc ? DB_BLOB(s->enc, s->enc_len) : DB_NULL;
}

static struct db_val index_or_null(const struct identity_sealed *s)
{
	return s->enc ? DB_TEXT(s->index) : DB_NULL;
}

/* ---- phone numbers ------------------------------------------------------------------------
 * A number belongs to the account that proved it by a code. An account may hold a number it
 * has not proved yet (registration gives one), but such a claim gives way: to a new account
 * registering with the number, and to any account proving it. The unique index on
 * phone_index keeps one holder at a time. */

DB_SQL(q_phone_holder, "SELECT id, phone_verified_at FROM accounts WHERE phone_index = ?");
DB_SQL(q_phone_drop, "UPDATE accounts SET phone_enc = NULL, phone_index = NULL, phone_mask = NULL, "
		     "phone_verified_at = NULL WHERE id = ? AND phone_verified_at IS NULL");
DB_SQL(q_phone_set, "UPDATE accounts SET phone_enc = ?, phone_index = ?, phone_mask = ?, phone_verified_at = ? "
		    "WHERE id = ?");

/* Takes the number of index away from an account other than except that holds it without
 * having proved it (in the caller's transaction). *released: that account (0: none).
 * GH_ECONFLICT when another account proved the number. */
static int phone_claim(struct db *db, struct arena *a, const char *index, int64_t except, int64_t *released)
{
	struct db_rows rows;
	*released = 0;
	int rc = db_query(db, a, &q_phone_holder, DB_ARGS(DB_TEXT(index)), &rows);
	if (rc || rows.nrows == 0 || db_cell_int(&rows, 0, 0) == except)
		return rc;
	int64_t holder = db_cell_int(&rows, 0, 0);
	if (db_cell(&rows, 0, 1))
		return GH_ECONFLICT;
	int64_t changed = 0;
	if ((rc = db_exec(db, &q_phone_drop, DB_ARGS(DB_INT(holder)), &changed)))
		return rc;
	if (changed != 1)
		return GH_ECONFLICT; /* proved meanwhile */
	*released = holder;
	return cover_touch_id(db, "accounts", holder, "account.phone_released");
}

int account_set_phone(struct db *db, const struct keyring *k, struct arena *a, int64_t id, const char *phone,
		      int64_t verified_at, int64_t *released)
{
	struct identity_sealed s;
	bool own;
	int rc = identity_seal_value(k, a, "phone", phone, &s);
	if (!rc && !s.enc)
		rc = GH_EINVAL;
	if (!rc)
		rc = cover_tx_begin(db, &own);
	if (rc)
		return rc;
	rc = phone_claim(db, a, s.index, id, released);
	if (!rc)
		rc = db_exec(db, &q_phone_set,
			     DB_ARGS(DB_BLOB(s.enc, s.enc_len), DB_TEXT(s.index), DB_TEXT(s.mask),
				     verified_at ? DB_INT(verified_at) : DB_NULL, DB_INT(id)),
			     NULL);
	return cover_tx_end_id(db, own, rc, "accounts", id, "account.phone");
}

int account_create(struct db *db, const struct keyring *k, struct arena *a, struct account_new *in,
		   int64_t *id)
{
	struct identity_sealed idn, phone, totp;
	const char *ident = in->uscc ? in->uscc : in->id_number;
	int rc = identity_seal_value(k, a, "id", ident, &idn);
	if (!rc)
		rc = identity_seal_value(k, a, "phone", in->phone, &phone);
	if (!rc)
		rc = identity_seal_value(k, a, "totp", in->totp_secret, &totp);
	if (rc)
		return rc;
	int64_t now = identity_now();
	struct db_rows rows;
	bool own;
	in->released = 0;
	if ((rc = cover_tx_begin(db, &own)))
		return rc;
	/* A number proved by another account is taken: the insert below fails on it. */
	if (phone.enc && (rc = phone_claim(db, a, phone.index, 0, &in->released)) == GH_ECONFLICT)
		rc = 0;
	if (!rc)
		rc = db_query(db, a, &q_insert,
		      DB_ARGS(DB_TEXT(in->kind), DB_TEXT(in->name), blob_or_null(&idn), index_or_null(&idn),
			      DB_TEXT(idn.mask), blob_or_null(&phone), index_or_null(&phone), DB_TEXT(phone.mask),
			      DB_TEXT(in->legal_rep), DB_TEXT(in->department),
			      DB_TEXT(account_staff_roles_str(a, in->staff_roles)), DB_TEXT(in->password_hash),
			      blob_or_null(&totp), DB_INT(in->totp_secret ? 1 : 0), DB_INT(keyring_current_id(k)),
			      DB_INT(now), DB_INT(now), in->phone_verified && phone.enc ? DB_INT(now) : DB_NULL),
		      &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_EDB;
	if (!rc)
		*id = db_cell_int(&rows, 0, 0);
	if (rc)
		in->released = 0;
	return cover_tx_end_id(db, own, rc, "accounts", rc ? 0 : *id, "account.create");
}

int account_get(struct db *db, struct arena *a, int64_t id, struct account *out)
{
	return one(db, a, &q_get, DB_ARGS(DB_INT(id)), out);
}

int account_find_login(struct db *db, const struct keyring *k, struct arena *a, const char *login,
		       struct account *out, char index[CRYPTO_HASH_HEX + 1])
{
	char norm[64];
	size_t n = idcheck_normalize(login, strlen(login), norm, sizeof(norm));
	char idx[CRYPTO_HASH_HEX + 1];
	const char *field = NULL;
	if (n && idcheck_phone(norm, n) == IDCHECK_OK)
		field = "phone";
	else if (n && (idcheck_id_number(norm, n) == IDCHECK_OK || idcheck_uscc(norm, n) == IDCHECK_OK))
		field = "id";
	/* Unknown shapes still get a stable key, so rate limits apply to them too. */
	crypto_blind_index(k, field ? field : "login", n ? norm : login, n ? n : strlen(login), idx);
	if (index)
		memcpy(index, idx, sizeof(idx));
	if (!field)
		return GH_ENOTFOUND;
	return one(db, a, strcmp(field, "phone") == 0 ? &q_by_phone_index : &q_by_id_index,
		   DB_ARGS(DB_TEXT(idx)), out);
}

int account_find_individual(struct db *db, const struct keyring *k, struct arena *a, const char *id_number,
			    struct account *out)
{
	char norm[64];
	size_t n = idcheck_normalize(id_number, strlen(id_number), norm, sizeof(norm));
	if (!n || idcheck_id_number(norm, n) != IDCHECK_OK)
		return GH_ENOTFOUND;
	char idx[CRYPTO_HASH_HEX + 1];
	crypto_blind_index(k, "id", norm, n, idx);
	int rc = one(db, a, &q_by_id_index, DB_ARGS(DB_TEXT(idx)), out);
	if (!rc && strcmp(out->kind, "individual") != 0)
		return GH_ENOTFOUND;
	return rc;
}

int identity_contact(struct db *db, const struct keyring *k, struct arena *a, int64_t account, char **phone,
		     char **email, char **name)
{
	struct db_rows rows;
	int rc = db_query(db, a, &q_contact, DB_ARGS(DB_INT(account)), &rows);
	if (rc)
		return rc;
	if (rows.nrows == 0)
		return GH_ENOTFOUND;
	*name = (char *)db_cell(&rows, 0, 0);
	if (phone)
		*phone = NULL;
	if (email)
		*email = NULL;
	static const char *const fields[] = { NULL, "phone", "email" };
	for (size_t col = 1; col <= 2; col++) {
		char **out = col == 1 ? phone : email;
		const unsigned char *enc = (const unsigned char *)db_cell(&rows, 0, col);
		size_t enc_len = rows.lens[col];
		if (!out || !enc || !enc_len)
			continue;
		size_t len;
		if ((rc = crypto_open(k, a, fields[col], enc, enc_len, out, &len, NULL)))
			return rc;
	}
	return 0;
}

/* "z***@example.com": the first character of the local part and the domain. */
static char *email_mask(struct arena *a, const char *email)
{
	size_t n = strlen(email);
	return idcheck_mask_email(email, n, arena_alloc(a, n + 4), n + 4);
}

int account_set_email(struct db *db, const struct keyring *k, struct arena *a, int64_t id, const char *email)
{
	unsigned char *enc = NULL;
	size_t enc_len = 0;
	bool own;
	int rc = email && *email ? crypto_seal(k, a, "email", email, strlen(email), &enc, &enc_len) : 0;
	if (!rc)
		rc = cover_tx_begin(db, &own);
	if (rc)
		return rc;
	rc = enc ? db_exec(db, &q_set_email, DB_ARGS(DB_BLOB(enc, enc_len), DB_TEXT(email_mask(a, email)), DB_INT(id)), NULL)
		 : db_exec(db, &q_set_email, DB_ARGS(DB_NULL, DB_NULL, DB_INT(id)), NULL);
	return cover_tx_end_id(db, own, rc, "accounts", id, "account.profile");
}

int account_set_password(struct db *db, int64_t id, const char *hash, int64_t now)
{
	return db_exec(db, &q_set_password, DB_ARGS(DB_TEXT(hash), DB_INT(now), DB_INT(id)), NULL);
}

DB_SQL(q_plain_ids, "SELECT id_enc, phone_enc FROM accounts WHERE id = ?");

int account_plain_ids(struct db *db, const struct keyring *k, struct arena *a, int64_t id, char **ident,
		      char **phone)
{
	struct db_rows rows;
	*ident = *phone = NULL;
	int rc = db_query(db, a, &q_plain_ids, DB_ARGS(DB_INT(id)), &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	static const char *const fields[] = { "id", "phone" };
	for (size_t col = 0; col < 2; col++) {
		const unsigned char *enc = (const unsigned char *)db_cell(&rows, 0, col);
		if (enc && rows.lens[col] && crypto_open(k, a, fields[col], enc, rows.lens[col], col ? phone : ident, NULL, NULL))
			return GH_EINVAL;
	}
	return 0;
}

DB_SQL(q_reset, "UPDATE accounts SET password_hash = ?, password_changed_at = ?, must_renew = ?, "
		"totp_enc = CASE WHEN ? = 2 THEN NULL ELSE totp_enc END, "
		"totp_enabled = CASE WHEN ? = 2 THEN 0 ELSE totp_enabled END, "
		"totp_last_step = CASE WHEN ? = 2 THEN 0 ELSE totp_last_step END WHERE id = ?");
DB_SQL(q_renewed, "UPDATE accounts SET password_hash = ?, password_changed_at = ?, must_renew = 0, "
		  "totp_enabled = CASE WHEN must_renew = 2 THEN 1 ELSE totp_enabled END "
		  "WHERE id = ? AND must_renew <> 0 AND (must_renew = 1 OR totp_enc IS NOT NULL)");

int account_reset(struct db *db, int64_t id, const char *hash, int renew, int64_t now)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_reset,
			 DB_ARGS(DB_TEXT(hash), DB_INT(now), DB_INT(renew), DB_INT(renew), DB_INT(renew), DB_INT(renew),
				 DB_INT(id)),
			 &changed);
	return rc ? rc : changed ? 0 : GH_ENOTFOUND;
}

int account_renewed(struct db *db, int64_t id, const char *hash, int64_t now)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_renewed, DB_ARGS(DB_TEXT(hash), DB_INT(now), DB_INT(id)), &changed);
	return rc ? rc : changed ? 0 : GH_ENOTFOUND;
}

int account_set_totp(struct db *db, const struct keyring *k, struct arena *a, int64_t id, const char *secret,
		     bool enabled)
{
	struct identity_sealed s;
	int rc = identity_seal_value(k, a, "totp", secret, &s);
	if (rc)
		return rc;
	return db_exec(db, &q_set_totp, DB_ARGS(blob_or_null(&s), DB_INT(enabled ? 1 : 0), DB_INT(id)), NULL);
}

int account_totp_secret(const struct keyring *k, struct arena *a, const struct account *acc, char **secret)
{
	if (!acc->totp_enc || !acc->totp_enc_len)
		return GH_ENOTFOUND;
	return crypto_open(k, a, "totp", acc->totp_enc, acc->totp_enc_len, secret, NULL, NULL);
}

int account_totp_use(struct db *db, int64_t id, int64_t step)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_totp_use, DB_ARGS(DB_INT(step), DB_INT(id), DB_INT(step)), &changed);
	return rc ? rc : changed ? 0 : GH_ECONFLICT;
}

int account_set_status(struct db *db, int64_t id, const char *status)
{
	int64_t changed = 0;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_exec(db, &q_set_status, DB_ARGS(DB_TEXT(status), DB_INT(id)), &changed);
	if (!rc && !changed)
		rc = GH_ENOTFOUND;
	return cover_tx_end_id(db, own, rc, "accounts", id, "account.status");
}

int account_set_staff(struct db *db, int64_t id, const char *department, unsigned staff_roles)
{
	struct arena *a = arena_new(1024);
	int64_t changed = 0;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_exec(db, &q_set_staff,
			     DB_ARGS(DB_TEXT(department), DB_TEXT(account_staff_roles_str(a, staff_roles)), DB_INT(id)),
			     &changed);
	arena_free(a);
	if (!rc && !changed)
		rc = GH_ENOTFOUND;
	return cover_tx_end_id(db, own, rc, "accounts", id, "account.roles");
}

static int many(struct db *db, struct arena *a, struct db_sql *q, const struct db_val *args, size_t nargs,
		struct account **out, size_t *n)
{
	return db_query_array(db, a, q, args, nargs, sizeof(**out), from_row, out, n);
}

int account_list(struct db *db, struct arena *a, const char *kind, long page, long per_page,
		 struct account **out, size_t *n, long *total)
{
	struct db_rows rows;
	int64_t off = (int64_t)(page - 1) * per_page;
	int rc = kind ? db_query(db, a, &q_count_kind, DB_ARGS(DB_TEXT(kind)), &rows)
		      : db_query(db, a, &q_count_all, DB_NOARGS, &rows);
	if (rc)
		return rc;
	*total = (long)db_cell_int(&rows, 0, 0);
	if (kind)
		return many(db, a, &q_list_kind, DB_ARGS(DB_TEXT(kind), DB_INT(per_page), DB_INT(off)), out, n);
	return many(db, a, &q_list_all, DB_ARGS(DB_INT(per_page), DB_INT(off)), out, n);
}

json_t *account_json(const struct account *acc)
{
	struct arena *a = arena_new(1024);
	json_t *j = json_pack("{s:I,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s,s:b,s:s,s:I}", "id", (json_int_t)acc->id,
			      "kind", acc->kind, "name", acc->name, "id_masked", acc->id_mask, "phone_masked",
			      acc->phone_mask, "legal_representative", acc->legal_rep, "department",
			      acc->department, "staff_roles", account_staff_roles_str(a, acc->staff_roles),
			      "totp_enabled", acc->totp_enabled, "status", acc->status, "created_at",
			      (json_int_t)acc->created_at);
	if (j && acc->email_mask)
		json_object_set_new(j, "email_masked", json_string(acc->email_mask));
	if (j && acc->phone_mask)
		json_object_set_new(j, "phone_verified", json_boolean(acc->phone_verified_at != 0));
	arena_free(a);
	return j;
}

int agent_add(struct db *db, int64_t enterprise, int64_t agent, int64_t now)
{
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_exec(db, &q_agent_add, DB_ARGS(DB_INT(enterprise), DB_INT(agent), DB_INT(now)), NULL);
	return agent_end(db, own, rc, enterprise, agent, "agent.grant");
}

int agent_remove(struct db *db, int64_t enterprise, int64_t agent)
{
	int64_t changed = 0;
	bool own;
	int rc = cover_tx_begin(db, &own);
	if (!rc)
		rc = db_exec(db, &q_agent_remove, DB_ARGS(DB_INT(enterprise), DB_INT(agent)), &changed);
	if (!rc && !changed)
		rc = GH_ENOTFOUND;
	return agent_end(db, own, rc, enterprise, agent, "agent.revoke");
}

int agent_list(struct db *db, struct arena *a, int64_t enterprise, struct account **out, size_t *n)
{
	return many(db, a, &q_agent_list, DB_ARGS(DB_INT(enterprise)), out, n);
}

int agent_enterprises(struct db *db, struct arena *a, int64_t agent, struct account **out, size_t *n)
{
	return many(db, a, &q_agent_enterprises, DB_ARGS(DB_INT(agent)), out, n);
}

bool agent_may_act(struct db *db, struct arena *a, int64_t agent, int64_t enterprise)
{
	struct db_rows rows;
	return db_query(db, a, &q_agent_may, DB_ARGS(DB_INT(agent), DB_INT(enterprise)), &rows) == 0 &&
	       rows.nrows == 1;
}

/* What other domains see of the account a read found (rc: the read's result, returned). */
static int as_person(int rc, const struct account *acc, struct identity_person *out)
{
	if (!rc)
		*out = (struct identity_person){ .id = acc->id, .name = acc->name, .id_mask = acc->id_mask,
						 .status = acc->status };
	return rc;
}

int identity_find_individual(struct app *app, struct db *db, struct arena *a, const char *id_number,
			     struct identity_person *out)
{
	struct account acc;
	return as_person(account_find_individual(db, app->keys, a, id_number, &acc), &acc, out);
}

int identity_person_get(struct db *db, struct arena *a, int64_t id, struct identity_person *out)
{
	struct account acc;
	return as_person(account_get(db, a, id, &acc), &acc, out);
}

DB_SQL(q_dept_staff, "SELECT id, name, staff_roles FROM accounts WHERE kind = 'staff' AND status = 'active' "
		     "AND department = ? ORDER BY name, id");

static void staff_row(const struct db_rows *rows, size_t i, void *out)
{
	struct identity_staff *v = out;
	v->id = db_cell_int(rows, i, 0);
	v->name = db_cell(rows, i, 1);
	unsigned roles = 0;
	if (account_parse_staff_roles(db_cell(rows, i, 2), &roles) == 0)
		v->staff_roles = roles;
}

int identity_department_staff(struct db *db, struct arena *a, const char *department, struct identity_staff **out,
			      size_t *n)
{
	return db_query_array(db, a, &q_dept_staff, DB_ARGS(DB_TEXT(department)), sizeof(**out), staff_row, out, n);
}

DB_SQL(q_dept_name, "SELECT name_zh, name_en FROM departments WHERE code = ?");

const char *account_department_name(struct db *db, struct arena *a, const char *code, bool en)
{
	struct db_rows rows;
	if (!code || db_query(db, a, &q_dept_name, DB_ARGS(DB_TEXT(code)), &rows) || !rows.nrows)
		return code;
	const char *name = db_cell(&rows, 0, en ? 1 : 0);
	return name && *name ? name : code;
}

DB_SQL(q_latest_sealed, "SELECT phone_enc FROM accounts WHERE phone_enc IS NOT NULL ORDER BY id DESC LIMIT 1");

int identity_keys_fit(const struct keyring *k, struct db *db)
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_latest_sealed, DB_NOARGS, &rows);
	if (!rc && rows.nrows == 1) {
		char *plain;
		size_t n;
		rc = crypto_open(k, a, "phone", (const unsigned char *)rows.cells[0], rows.lens[0], &plain, &n, NULL)
			     ? GH_EINVAL
			     : 0;
	}
	arena_free(a);
	return rc;
}
