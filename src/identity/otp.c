/* otp.c: one-time codes sent to an account's registered phone, and how identity tells an
 * account's owner something (the messenger main.c wires to src/notify/notify.c).
 *
 * A code is OTP_DIGITS digits from libsodium's uniform generator. The table keeps a keyed
 * BLAKE2b hash of "otp:<purpose>:<account>:<salt>:<code>" (the key file's token key, so a copy
 * of the database alone cannot try the million codes), a random salt per code, its expiry
 * and the wrong attempts. The SMS text travels sealed through the outbox (the key file's
 * field key, "outbox_sms" as associated data) and is opened only when handed to the gateway. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "identity/identity_impl.h"
#include "store/db.h"
#include "view/view.h"

#define SALT_BYTES 16
#define SMS_FIELD "outbox_sms"

static struct identity_messenger messenger;

void identity_set_messenger(const struct identity_messenger *m)
{
	messenger = m ? *m : (struct identity_messenger){ 0 };
}

/* ---- codes ------------------------------------------------------------------------------ */

DB_SQL(q_recent, "SELECT COUNT(*), COALESCE(MAX(created_at), 0) FROM one_time_codes "
		 "WHERE account_id = ? AND purpose = ? AND created_at > ?");
DB_SQL(q_end_live, "UPDATE one_time_codes SET expires_at = ? WHERE account_id = ? AND purpose = ? "
		   "AND used_at IS NULL AND expires_at > ?");
DB_SQL(q_insert, "INSERT INTO one_time_codes (account_id, purpose, salt, code_hash, created_at, expires_at) "
		 "VALUES (?, ?, ?, ?, ?, ?)");
DB_SQL(q_live, "SELECT id, salt, code_hash FROM one_time_codes WHERE account_id = ? AND purpose = ? "
	       "AND used_at IS NULL AND expires_at > ? AND attempts < ? ORDER BY id DESC LIMIT 1");
DB_SQL(q_use, "UPDATE one_time_codes SET used_at = ? WHERE id = ? AND used_at IS NULL");
DB_SQL(q_attempt, "UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = ?");

static void code_hash(const struct keyring *k, const char *purpose, int64_t account, const char *salt,
		      const char *code, char out[CRYPTO_HASH_HEX + 1])
{
	char buf[160];
	snprintf(buf, sizeof(buf), "otp:%s:%lld:%s:%s", purpose, (long long)account, salt, code);
	crypto_token_hash(k, buf, out);
	sodium_memzero(buf, sizeof(buf));
}

int otp_issue(struct db *db, const struct keyring *k, int64_t account, const char *purpose, int64_t now,
	      char code[OTP_DIGITS + 1])
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_recent, DB_ARGS(DB_INT(account), DB_TEXT(purpose), DB_INT(now - 3600)), &rows);
	if (!rc && rows.nrows == 1 &&
	    (db_cell_int(&rows, 0, 0) >= OTP_PER_HOUR || db_cell_int(&rows, 0, 1) > now - OTP_RESEND_AFTER))
		rc = GH_ERATELIMIT;
	if (!rc)
		rc = db_exec(db, &q_end_live, DB_ARGS(DB_INT(now), DB_INT(account), DB_TEXT(purpose), DB_INT(now)), NULL);
	if (!rc) {
		unsigned char raw[SALT_BYTES];
		char salt[2 * SALT_BYTES + 1], hash[CRYPTO_HASH_HEX + 1];
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(salt, sizeof(salt), raw, sizeof(raw));
		snprintf(code, OTP_DIGITS + 1, "%06u", (unsigned)randombytes_uniform(1000000));
		code_hash(k, purpose, account, salt, code, hash);
		rc = db_exec(db, &q_insert,
			     DB_ARGS(DB_INT(account), DB_TEXT(purpose), DB_TEXT(salt), DB_TEXT(hash), DB_INT(now),
				     DB_INT(now + OTP_TTL)),
			     NULL);
		if (rc)
			sodium_memzero(code, OTP_DIGITS + 1);
	}
	arena_free(a);
	return rc;
}

/* The digits of a typed code ("123 456" is fine); false for anything else. */
static bool digits_of(const char *typed, char out[OTP_DIGITS + 1])
{
	size_t n = 0;
	for (const char *p = typed; p && *p; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (*p < '0' || *p > '9' || n == OTP_DIGITS)
			return false;
		out[n++] = *p;
	}
	out[n] = 0;
	return n == OTP_DIGITS;
}

int otp_check(struct db *db, const struct keyring *k, int64_t account, const char *purpose, const char *code,
	      int64_t now)
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_live, DB_ARGS(DB_INT(account), DB_TEXT(purpose), DB_INT(now), DB_INT(OTP_ATTEMPTS)),
			  &rows);
	if (!rc && rows.nrows != 1)
		rc = GH_ENOTFOUND;
	if (!rc) {
		int64_t id = db_cell_int(&rows, 0, 0);
		char digits[OTP_DIGITS + 1], hash[CRYPTO_HASH_HEX + 1];
		bool ok = digits_of(code, digits);
		if (ok) {
			code_hash(k, purpose, account, db_cell(&rows, 0, 1), digits, hash);
			ok = crypto_str_equal(hash, db_cell(&rows, 0, 2));
		}
		if (ok) {
			int64_t changed = 0;
			rc = db_exec(db, &q_use, DB_ARGS(DB_INT(now), DB_INT(id)), &changed);
			if (!rc && changed != 1)
				rc = GH_ENOTFOUND; /* used by a concurrent request */
		} else {
			rc = db_exec(db, &q_attempt, DB_ARGS(DB_INT(id)), NULL);
			if (!rc)
				rc = GH_EINVAL;
		}
		sodium_memzero(digits, sizeof(digits));
	}
	arena_free(a);
	return rc;
}

/* text with {code} (or {detail}) replaced, into a. */
static char *subst(struct arena *a, const char *text, const char *name, const char *value)
{
	const char *at = strstr(text, name);
	if (!at)
		return arena_strdup(a, text);
	return arena_printf(a, "%.*s%s%s", (int)(at - text), text, value ? value : "", at + strlen(name));
}

int otp_send(struct req *r, int64_t account, const char *purpose, const char *text_key)
{
	if (!messenger.sms || !r->app->keys)
		return GH_EUNAVAILABLE;
	char code[OTP_DIGITS + 1];
	int rc = otp_issue(r->db, r->app->keys, account, purpose, identity_now(), code);
	if (rc)
		return rc;
	char *zh = subst(r->arena, view_msg(r->app->view, "zh", text_key), "{code}", code);
	char *en = subst(r->arena, view_msg(r->app->view, "en", text_key), "{code}", code);
	char *text = arena_printf(r->arena, "%s %s", zh, en);
	unsigned char *sealed;
	size_t sealed_len;
	crypto_seal(r->app->keys, r->arena, SMS_FIELD, text, strlen(text), &sealed, &sealed_len);
	char *hex = arena_alloc(r->arena, 2 * sealed_len + 1);
	sodium_bin2hex(hex, 2 * sealed_len + 1, sealed, sealed_len);
	sodium_memzero(text, strlen(text));
	sodium_memzero(zh, strlen(zh));
	sodium_memzero(en, strlen(en));
	sodium_memzero(code, sizeof(code));
	return messenger.sms(r->db, r->arena, account, arena_printf(r->arena, "otp_%s", purpose), hex);
}

int identity_open_text(const struct keyring *k, struct arena *a, const char *sealed_hex, char **text)
{
	size_t hexlen = sealed_hex ? strlen(sealed_hex) : 0, len = 0;
	if (!hexlen || hexlen % 2 || hexlen > 8192)
		return GH_EINVAL;
	unsigned char *bin = arena_alloc(a, hexlen / 2);
	if (sodium_hex2bin(bin, hexlen / 2, sealed_hex, hexlen, NULL, &len, NULL) || len != hexlen / 2)
		return GH_EINVAL;
	size_t outlen;
	return crypto_open(k, a, SMS_FIELD, bin, len, text, &outlen, NULL);
}

/* ---- telling the owner ------------------------------------------------------------------ */

void identity_tell(struct req *r, int64_t account, const char *kind, const char *title_key, const char *body_key,
		   const char *detail_zh, const char *detail_en)
{
	if (!messenger.inbox || !account)
		return;
	const struct view *v = r->app->view;
	int rc = messenger.inbox(r->db, r->arena, account, 0, kind, view_msg(v, "zh", title_key),
				 view_msg(v, "en", title_key),
				 subst(r->arena, view_msg(v, "zh", body_key), "{detail}", detail_zh),
				 subst(r->arena, view_msg(v, "en", body_key), "{detail}", detail_en));
	if (rc)
		log_error("identity: the inbox message %s to account %lld failed (%s)", kind, (long long)account,
			  err_name(rc));
}
