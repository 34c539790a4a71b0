/* otp.c: one-time codes sent by SMS, and how identity tells an account's owner something (the
 * messenger main.c wires to src/notify/notify.c).
 *
 * A code is OTP_DIGITS digits from libsodium's uniform generator. The table keeps a keyed
 * BLAKE2b hash of "otp:<purpose>:<subject>:<salt>:<code>" (the key file's token key, so a copy
 * of the database alone cannot try the million codes), a random salt per code, its expiry,
 * the wrong attempts and, for a code that proves a number, that number sealed. Every SMS
 * travels through the outbox with its number and its text sealed (the key file's field key,
 * "outbox_sms_to" and "outbox_sms" as associated data), opened only when handed to the
 * gateway; the number is padded to a fixed width, so the row of a code that reaches nobody
 * (a recovery for no account) is the same as any other. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "http/msg.h"
#include "identity/identity_impl.h"
#include "store/db.h"
#include "view/view.h"

#define SALT_BYTES 16
#define SMS_FIELD "outbox_sms"
#define SMS_TO_FIELD "outbox_sms_to"
#define TO_WIDTH 24 /* the sealed number's width: longer than any number idcheck_phone accepts */

static struct identity_messenger messenger;

void identity_set_messenger(const struct identity_messenger *m)
{
	messenger = m ? *m : (struct identity_messenger){ 0 };
}

/* ---- codes ------------------------------------------------------------------------------ */

/* Codes of the last hour, the last one not used yet (a used code does not delay the next), the
 * first. */
DB_SQL(q_recent, "SELECT COUNT(*), COALESCE(MAX(CASE WHEN used_at IS NULL THEN created_at END), 0), "
		 "COALESCE(MIN(created_at), 0) FROM one_time_codes WHERE subject = ? AND purpose = ? AND created_at > ?");
DB_SQL(q_end_live, "UPDATE one_time_codes SET expires_at = ? WHERE subject = ? AND purpose = ? "
		   "AND used_at IS NULL AND expires_at > ?");
DB_SQL(q_insert, "INSERT INTO one_time_codes (subject, account_id, purpose, salt, code_hash, target_enc, created_at, "
		 "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
DB_SQL(q_live, "SELECT id, salt, code_hash, account_id, target_enc FROM one_time_codes WHERE subject = ? "
	       "AND purpose = ? AND used_at IS NULL AND expires_at > ? AND attempts < ? ORDER BY id DESC LIMIT 1");
DB_SQL(q_use, "UPDATE one_time_codes SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?");
DB_SQL(q_attempt, "UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = ?");
DB_SQL(q_end_account, "UPDATE one_time_codes SET expires_at = ? WHERE account_id = ? AND purpose = ? "
		      "AND used_at IS NULL AND expires_at > ?");

static void code_hash(const struct keyring *k, const char *purpose, const char *subject, const char *salt,
		      const char *code, char out[CRYPTO_HASH_HEX + 1])
{
	char buf[256];
	snprintf(buf, sizeof(buf), "otp:%s:%s:%s:%s", purpose, subject, salt, code);
	crypto_token_hash(k, buf, out);
	sodium_memzero(buf, sizeof(buf));
}

void otp_subject(char out[OTP_SUBJECT_MAX], int64_t account)
{
	snprintf(out, OTP_SUBJECT_MAX, "acct:%lld", (long long)account);
}

/* otp_issue_code, with the seconds until a new code may be made in *retry when refused. */
static int issue(struct db *db, const struct keyring *k, const struct otp_code *c, const char *purpose, int64_t now,
		 char code[OTP_DIGITS + 1], int64_t *retry)
{
	struct arena *a = arena_new(1024);
	struct db_rows rows;
	int rc = db_query(db, a, &q_recent, DB_ARGS(DB_TEXT(c->subject), DB_TEXT(purpose), DB_INT(now - 3600)), &rows);
	if (!rc && rows.nrows == 1) {
		int64_t n = db_cell_int(&rows, 0, 0), last = db_cell_int(&rows, 0, 1), first = db_cell_int(&rows, 0, 2);
		if (n >= OTP_PER_HOUR || last > now - OTP_RESEND_AFTER) {
			*retry = n >= OTP_PER_HOUR ? first + 3600 - now : last + OTP_RESEND_AFTER - now;
			rc = GH_ERATELIMIT;
		}
	}
	unsigned char *target = NULL;
	size_t target_len = 0;
	if (!rc && c->target)
		rc = crypto_seal(k, a, "phone", c->target, strlen(c->target), &target, &target_len);
	if (!rc)
		rc = db_exec(db, &q_end_live, DB_ARGS(DB_INT(now), DB_TEXT(c->subject), DB_TEXT(purpose), DB_INT(now)),
			     NULL);
	if (!rc) {
		unsigned char raw[SALT_BYTES];
		char salt[2 * SALT_BYTES + 1], hash[CRYPTO_HASH_HEX + 1];
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(salt, sizeof(salt), raw, sizeof(raw));
		snprintf(code, OTP_DIGITS + 1, "%06u", (unsigned)randombytes_uniform(1000000));
		code_hash(k, purpose, c->subject, salt, code, hash);
		rc = db_exec(db, &q_insert,
			     DB_ARGS(DB_TEXT(c->subject), c->account ? DB_INT(c->account) : DB_NULL, DB_TEXT(purpose),
				     DB_TEXT(salt), DB_TEXT(hash), target ? DB_BLOB(target, target_len) : DB_NULL,
				     DB_INT(now), DB_INT(now + OTP_TTL)),
			     NULL);
		if (rc)
			sodium_memzero(code, OTP_DIGITS + 1);
	}
	arena_free(a);
	return rc;
}

int otp_issue_code(struct db *db, const struct keyring *k, const struct otp_code *c, const char *purpose, int64_t now,
		   char code[OTP_DIGITS + 1])
{
	int64_t retry;
	return issue(db, k, c, purpose, now, code, &retry);
}

int otp_issue(struct db *db, const struct keyring *k, int64_t account, const char *purpose, int64_t now,
	      char code[OTP_DIGITS + 1])
{
	char subject[OTP_SUBJECT_MAX];
	otp_subject(subject, account);
	return otp_issue_code(db, k, &(struct otp_code){ .subject = subject, .account = account }, purpose, now, code);
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

int otp_match(struct db *db, const struct keyring *k, struct arena *a, const char *subject, const char *purpose,
	      const char *code, int64_t now, struct otp_match *out)
{
	struct db_rows rows;
	memset(out, 0, sizeof(*out));
	int rc = db_query(db, a, &q_live, DB_ARGS(DB_TEXT(subject), DB_TEXT(purpose), DB_INT(now), DB_INT(OTP_ATTEMPTS)),
			  &rows);
	if (rc)
		return rc;
	if (rows.nrows != 1)
		return GH_ENOTFOUND;
	int64_t id = db_cell_int(&rows, 0, 0);
	char digits[OTP_DIGITS + 1], hash[CRYPTO_HASH_HEX + 1];
	bool ok = digits_of(code, digits);
	if (ok) {
		code_hash(k, purpose, subject, db_cell(&rows, 0, 1), digits, hash);
		ok = crypto_str_equal(hash, db_cell(&rows, 0, 2));
	}
	sodium_memzero(digits, sizeof(digits));
	/* A code that serves nobody is wrong, even typed right. */
	if (!ok || !db_cell(&rows, 0, 3)) {
		rc = db_exec(db, &q_attempt, DB_ARGS(DB_INT(id)), NULL);
		return rc ? rc : GH_EINVAL;
	}
	out->id = id;
	out->account = db_cell_int(&rows, 0, 3);
	const unsigned char *target = (const unsigned char *)db_cell(&rows, 0, 4);
	size_t target_len = rows.lens[4];
	if (target && target_len && crypto_open(k, a, "phone", target, target_len, &out->target, NULL, NULL))
		return GH_EINVAL;
	return 0;
}

int otp_use(struct db *db, int64_t id, int64_t now)
{
	int64_t changed = 0;
	int rc = db_exec(db, &q_use, DB_ARGS(DB_INT(now), DB_INT(id), DB_INT(now)), &changed);
	return rc ? rc : changed == 1 ? 0 : GH_ENOTFOUND; /* used by a concurrent request */
}

int otp_check(struct db *db, const struct keyring *k, int64_t account, const char *purpose, const char *code,
	      int64_t now)
{
	struct arena *a = arena_new(1024);
	char subject[OTP_SUBJECT_MAX];
	otp_subject(subject, account);
	struct otp_match m;
	int rc = otp_match(db, k, a, subject, purpose, code, now, &m);
	if (!rc)
		rc = otp_use(db, m.id, now);
	arena_free(a);
	return rc;
}

int otp_end_all(struct db *db, int64_t account, const char *purpose, int64_t now)
{
	return db_exec(db, &q_end_account, DB_ARGS(DB_INT(now), DB_INT(account), DB_TEXT(purpose), DB_INT(now)), NULL);
}

/* plain sealed under field, as hex in a. */
static char *seal_hex(struct req *r, const char *field, const char *plain, size_t len)
{
	unsigned char *sealed;
	size_t sealed_len;
	if (crypto_seal(r->app->keys, r->arena, field, plain, len, &sealed, &sealed_len))
		return NULL;
	char *hex = arena_alloc(r->arena, 2 * sealed_len + 1);
	sodium_bin2hex(hex, 2 * sealed_len + 1, sealed, sealed_len);
	return hex;
}

bool otp_sms_ready(const struct req *r)
{
	const char *url = r->app->cfg.notify_sms_url;
	return messenger.sms && r->app->keys && url && *url;
}

int otp_send_to(struct req *r, const struct otp_code *c, const char *purpose, const char *text_key)
{
	if (!messenger.sms || !r->app->keys)
		return GH_EUNAVAILABLE;
	const char *key = arena_printf(r->arena, "otp:phone:%s", c->phone_key ? c->phone_key : "");
	int rc = ratelimit_hit(r, key, OTP_PER_PHONE_HOUR, 3600);
	if (rc)
		return rc;
	char code[OTP_DIGITS + 1];
	int64_t retry = 0;
	if ((rc = issue(r->db, r->app->keys, c, purpose, identity_now(), code, &retry)))
		return rc == GH_ERATELIMIT ? throttle_refuse(r, retry) : rc;
	/* Copies of their own: they are wiped below. */
	char *zh = arena_strdup(r->arena, VF(r->app->view, "zh", r->arena, text_key, MA("code", code)));
	char *en = arena_strdup(r->arena, VF(r->app->view, "en", r->arena, text_key, MA("code", code)));
	char *text = arena_printf(r->arena, "%s %s", zh, en);
	/* The number, padded: a message to nobody is as long as any other. */
	char to[TO_WIDTH + 1];
	memset(to, ' ', TO_WIDTH);
	to[TO_WIDTH] = 0;
	size_t tl = c->to ? strlen(c->to) : 0;
	memcpy(to, c->to ? c->to : "", tl < TO_WIDTH ? tl : TO_WIDTH);
	char *sealed_to = seal_hex(r, SMS_TO_FIELD, to, TO_WIDTH);
	char *sealed_text = seal_hex(r, SMS_FIELD, text, strlen(text));
	sodium_memzero(to, sizeof(to));
	sodium_memzero(text, strlen(text));
	sodium_memzero(zh, strlen(zh));
	sodium_memzero(en, strlen(en));
	sodium_memzero(code, sizeof(code));
	if (!sealed_to || !sealed_text)
		return GH_EINTERNAL;
	return messenger.sms(r->db, r->arena, arena_printf(r->arena, "otp_%s", purpose), sealed_to, sealed_text);
}

int otp_send(struct req *r, int64_t account, const char *purpose, const char *text_key)
{
	struct account acc;
	char *phone = NULL, *name = NULL;
	int rc = account_get(r->db, r->arena, account, &acc);
	if (rc)
		return rc;
	if (!acc.phone_verified_at || !r->app->keys)
		return GH_EUNAVAILABLE; /* codes go only to a number the owner proved */
	if ((rc = identity_contact(r->db, r->app->keys, r->arena, account, &phone, NULL, &name)))
		return rc;
	if (!phone)
		return GH_EUNAVAILABLE;
	char subject[OTP_SUBJECT_MAX], index[CRYPTO_HASH_HEX + 1];
	otp_subject(subject, account);
	crypto_blind_index(r->app->keys, "phone", phone, strlen(phone), index);
	rc = otp_send_to(r, &(struct otp_code){ .subject = subject, .account = account, .to = phone, .phone_key = index },
			 purpose, text_key);
	sodium_memzero(phone, strlen(phone));
	return rc;
}

/* Opens hex sealed under field into *out (in a, NUL-terminated). */
static int open_hex(const struct keyring *k, struct arena *a, const char *field, const char *sealed_hex, char **out,
		    size_t *outlen)
{
	size_t hexlen = sealed_hex ? strlen(sealed_hex) : 0, len = 0;
	if (!hexlen || hexlen % 2 || hexlen > 8192)
		return GH_EINVAL;
	unsigned char *bin = arena_alloc(a, hexlen / 2);
	if (sodium_hex2bin(bin, hexlen / 2, sealed_hex, hexlen, NULL, &len, NULL) || len != hexlen / 2)
		return GH_EINVAL;
	return crypto_open(k, a, field, bin, len, out, outlen, NULL);
}

int identity_open_text(const struct keyring *k, struct arena *a, const char *sealed_hex, char **text)
{
	size_t n;
	return open_hex(k, a, SMS_FIELD, sealed_hex, text, &n);
}

int identity_open_number(const struct keyring *k, struct arena *a, const char *sealed_hex, char **phone)
{
	size_t n = 0;
	int rc = open_hex(k, a, SMS_TO_FIELD, sealed_hex, phone, &n);
	if (rc)
		return rc;
	while (n && (*phone)[n - 1] == ' ')
		n--;
	(*phone)[n] = 0;
	return 0;
}

/* ---- telling the owner ------------------------------------------------------------------ */

void identity_tell(struct req *r, int64_t account, const char *kind, const char *title_key, const char *body_key,
		   const struct msg_arg *args, size_t nargs)
{
	if (!messenger.inbox || !account)
		return;
	const struct view *v = r->app->view;
	int rc = messenger.inbox(r->db, r->arena, account, 0, kind, view_msg(v, "zh", title_key),
				 view_msg(v, "en", title_key),
				 view_fmt(v, "zh", r->arena, body_key, args, nargs),
				 view_fmt(v, "en", r->arena, body_key, args, nargs));
	if (rc)
		log_error("identity: the inbox message %s to account %lld failed (%s)", kind, (long long)account,
			  err_name(rc));
}
