/* identity_impl.h: the identity module's private interface, shared by its files only.
 *
 * - accounts.c: the accounts table (seal, index, mask personal data), agents.
 * - session.c: sessions, API tokens, the authenticate and CSRF hooks, cookies.
 * - ratelimit.c: counters for failed log-ins and registrations, shared by all nodes.
 * - events.c: security events.
 * - login.c: log-in, second factor, log-out and registration (pages and API), whose password
 *   work runs on the job pool.
 * - recover.c: verified phones (at registration and on change), forgot password, an
 *   administrator's reset of staff and administrators and the renewal at their next log-in.
 * - account_pages.c / admin_pages.c / api.c: profile, password, agents, tokens, TOTP
 *   enrolment, administrators' pages, and their JSON twins.
 * - cli.c: `govhall user` and `govhall key`.
 */
#ifndef GH_IDENTITY_IMPL_H
#define GH_IDENTITY_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "app.h"
struct cover_table;
#include "base/arena.h"
#include "base/clock.h"
#include "http/http.h"
#include "identity/crypto.h"
#include "identity/idcheck.h"
#include "identity/identity.h"
#include "identity/password.h"
#include "identity/totp.h"

struct msg_arg;
struct db;

/* ---- accounts (accounts.c) ------------------------------------------------------------ */

struct account {
	int64_t id;
	const char *kind;       /* individual, enterprise, staff, admin */
	const char *name;
	const char *id_mask;    /* masked ID number or credit code (may be NULL for staff) */
	const char *phone_mask;
	const char *email_mask; /* NULL: no e-mail address for notifications */
	const char *legal_rep;  /* enterprise */
	const char *department; /* staff */
	unsigned staff_roles;   /* STAFF_* */
	const char *password_hash;
	const unsigned char *totp_enc;
	size_t totp_enc_len;
	bool totp_enabled;
	const char *status;     /* active, disabled */
	int64_t created_at;
	int64_t password_changed_at;
	int64_t phone_verified_at; /* 0: the number was never proved by a code */
	int must_renew;            /* ACCOUNT_RENEW_* */
};

/* What an administrator's reset asks of the owner at the next log-in. */
#define ACCOUNT_RENEW_NONE 0
#define ACCOUNT_RENEW_PASSWORD 1 /* a new password */
#define ACCOUNT_RENEW_TOTP 2     /* a new password and a new authenticator app */

/* What registration or `govhall user add` gives. Plain values; they are sealed here. */
struct account_new {
	const char *kind;
	const char *name;
	const char *id_number;  /* individual (required), staff/admin (optional): normalised */
	const char *uscc;       /* enterprise: normalised */
	const char *phone;      /* required for individuals, staff, admins */
	const char *legal_rep;  /* enterprise */
	const char *department; /* staff */
	unsigned staff_roles;
	const char *password_hash; /* already hashed (job pool) */
	const char *totp_secret;   /* base32, or NULL */
	bool phone_verified;       /* the number is proved already (the demo accounts) */
	int64_t released;          /* out: the account whose unproved claim on the number gave way */
};

/* Inserts an account. GH_ECONFLICT when the ID number or credit code is taken, or the phone
 * number by an account that proved it; an account holding the number without having proved
 * it loses it to the new one (in->released names it, to be told). */
int account_create(struct db *db, const struct keyring *k, struct arena *a, struct account_new *in,
		   int64_t *id);
/* Sets the account's phone number (sealed, indexed, masked), proved at verified_at (0: not
 * proved), in the caller's transaction or its own. An account holding the number without
 * having proved it loses it (*released names it, 0: none); GH_ECONFLICT when another account
 * proved it. */
int account_set_phone(struct db *db, const struct keyring *k, struct arena *a, int64_t id, const char *phone,
		      int64_t verified_at, int64_t *released);
/* The plain ID number (or credit code) and phone number of acc (NULL when none), in a, for
 * the password rules that refuse them. GH_EINVAL when they do not open. */
int account_plain_ids(struct db *db, const struct keyring *k, struct arena *a, int64_t id, char **ident,
		      char **phone);
/* An administrator's reset: the password hash, what the owner must renew (ACCOUNT_RENEW_*;
 * ACCOUNT_RENEW_TOTP also removes the second factor), counters cleared by the caller. */
int account_reset(struct db *db, int64_t id, const char *hash, int renew, int64_t now);
/* The renewal done: the new password, the second factor enrolled (when it was asked), no
 * renewal due any more. GH_ENOTFOUND when none was due. */
int account_renewed(struct db *db, int64_t id, const char *hash, int64_t now);
int account_get(struct db *db, struct arena *a, int64_t id, struct account *out);
/* Finds the account a log-in name designates: an ID number, a credit code or a phone
 * number (normalised here). GH_ENOTFOUND when none (or when the text is none of these).
 * *index (may be NULL) gets the blind index used, for rate-limit keys. */
int account_find_login(struct db *db, const struct keyring *k, struct arena *a, const char *login,
		       struct account *out, char index[CRYPTO_HASH_HEX + 1]);
/* Finds an individual by ID number (for adding an agent). */
int account_find_individual(struct db *db, const struct keyring *k, struct arena *a, const char *id_number,
			    struct account *out);
int account_set_password(struct db *db, int64_t id, const char *hash, int64_t now);
/* Sets (sealed, with a masked copy) or, with email NULL or "", removes the address
 * notifications are e-mailed to. email must already be checked (str_email_norm). */
int account_set_email(struct db *db, const struct keyring *k, struct arena *a, int64_t id, const char *email);
int account_set_totp(struct db *db, const struct keyring *k, struct arena *a, int64_t id, const char *secret,
		     bool enabled);
/* The account's TOTP secret (base32, arena), or GH_ENOTFOUND when it has none. */
int account_totp_secret(const struct keyring *k, struct arena *a, const struct account *acc, char **secret);
/* Records that the code of TOTP time step `step` was used; GH_ECONFLICT when this or a later
 * step was used already (a code works once, on every node). */
int account_totp_use(struct db *db, int64_t id, int64_t step);
int account_set_status(struct db *db, int64_t id, const char *status);
/* The keys with which the log's declaration of accounts reads sealed columns (identity_init). */
void account_cover_keys(const struct keyring *k);
int account_set_staff(struct db *db, int64_t id, const char *department, unsigned staff_roles);
/* The name of the department `code` in English (en) or Chinese, for people; the code itself
 * when there is no such department (or the database cannot answer). */
const char *account_department_name(struct db *db, struct arena *a, const char *code, bool en);
/* Lists accounts (administrators): kind may be NULL (all); newest first. */
int account_list(struct db *db, struct arena *a, const char *kind, long page, long per_page,
		 struct account **out, size_t *n, long *total);
/* An initial password for accounts that administrators create: 16 random characters from an
 * alphabet without look-alikes (no 0/O, 1/l/I). */
#define ACCOUNT_INITIAL_PASSWORD_LEN 16
void account_random_password(char out[ACCOUNT_INITIAL_PASSWORD_LEN + 1]);
/* "counter,reviewer" <-> STAFF_* bits; unknown words give -1. */
int account_parse_staff_roles(const char *s, unsigned *out);
const char *account_staff_roles_str(struct arena *a, unsigned roles);
/* The account as JSON for pages and the API: masked values only. */
json_t *account_json(const struct account *acc);

/* Agents: individuals an enterprise authorised to act for it. */
int agent_add(struct db *db, int64_t enterprise, int64_t agent, int64_t now);
int agent_remove(struct db *db, int64_t enterprise, int64_t agent);
int agent_list(struct db *db, struct arena *a, int64_t enterprise, struct account **out, size_t *n);
/* The enterprises an individual may act for. */
int agent_enterprises(struct db *db, struct arena *a, int64_t agent, struct account **out, size_t *n);
bool agent_may_act(struct db *db, struct arena *a, int64_t agent, int64_t enterprise);

/* ---- sessions and tokens (session.c) --------------------------------------------------- */

#define SESSION_COOKIE "gh_sid"
#define PRESESSION_COOKIE "gh_pre"

/* Functions taking `struct req *w` write: call them from a write (http/write.h), on the
 * writer's copy of the request; what the browser must be told (session_cookie) is said
 * afterwards, on the loop. */
/* Starts a session for account, ending the one the request came with, and gives its token
 * (a new one every time: no fixation) for session_cookie. mfa_pending sessions only reach
 * the second-factor page. */
int session_create(struct req *w, int64_t account, int64_t acting_for, bool mfa_pending,
		   char tok[CRYPTO_TOKEN_LEN + 1]);
/* Sets the session cookie on r's answer to tok, or clears it (tok NULL or ""). */
void session_cookie(struct req *r, const char *tok);
/* Marks the current session's second factor as done and gives it a new token. */
int session_mfa_done(struct req *w, char tok[CRYPTO_TOKEN_LEN + 1]);
/* Switches the acting-for enterprise of the current session (0 = act as oneself). */
int session_act_for(struct req *w, int64_t enterprise);
/* Ends the current session (then clear the cookie); end_all also ends every other session
 * and revokes every API token of the account. */
int session_end(struct req *w, bool all);
/* Ends every session and revokes every token of account (password change, disabling). */
int session_end_account(struct db *db, int64_t account, int64_t keep_session);
/* An agent whose authorisation was withdrawn stops acting for enterprise: its sessions go
 * back to acting for itself and its tokens acting for the enterprise are revoked. */
int session_end_acting(struct db *db, int64_t agent, int64_t enterprise);

struct api_token {
	int64_t id;
	const char *name, *channel, *scopes_str;
	unsigned scopes;
	int64_t created_at, expires_at, last_used, revoked_at;
};
/* Issues a bearer token for account (token returned once, only its hash is kept). */
int token_issue(struct req *w, int64_t account, int64_t acting_for, const char *name, const char *channel,
		unsigned scopes, int64_t ttl, char token[CRYPTO_TOKEN_LEN + 1], int64_t *id);
int token_revoke(struct db *db, int64_t account, int64_t id, int64_t now);
int token_list(struct db *db, struct arena *a, int64_t account, struct api_token **out, size_t *n);
/* "profile,account" <-> SCOPE_* bits; unknown words give -1. */
int scopes_parse(const char *s, unsigned *out);
const char *scopes_str(struct arena *a, unsigned scopes);
/* The scopes an account kind may hold at most. */
unsigned scopes_allowed(const char *kind);
/* ROLE_* for an account kind (and acting-for). */
unsigned role_of(const char *kind, int64_t acting_for);

/* ---- rate limits (ratelimit.c) --------------------------------------------------------- */

/* GH_ERATELIMIT (with Retry-After set on r) while key is blocked. */
int ratelimit_check(struct req *r, const char *key);
/* Counts a failure: past free_failures within 15 minutes the key is blocked for 30 s,
 * doubling with each further failure up to 15 minutes. */
int ratelimit_fail(struct db *db, const char *key, int64_t now, int64_t free_failures);
/* Failures allowed before blocking: per account (guessing one password), per address (many
 * people share an office's or a mobile carrier's address), per second-factor session. */
#define RATELIMIT_FREE_ACCOUNT 4
#define RATELIMIT_FREE_ADDRESS 50
#define RATELIMIT_FREE_TOTP 4
void ratelimit_clear(struct db *db, const char *key);
/* The same two, written along with request r (req_write_also), for a handler on its loop. */
void ratelimit_fail_along(struct req *r, const char *key, int64_t free_failures);
void ratelimit_clear_along(struct req *r, const char *key);
/* Counts one event against a budget of max per window seconds; GH_ERATELIMIT when over. */
int ratelimit_hit(struct req *r, const char *key, long max, long window);

/* The log-in throttle (table auth_throttle). A rule: the first `free` failures of a key cost
 * nothing; the failure after them blocks the key for `first` seconds and each further one
 * doubles that, up to `max`; a key whose last failure is more than `forget` seconds old
 * starts again from zero (forget 0: the count is of consecutive failures, ended only by a
 * success, which clears the key). first 0: the key is counted, never blocked. The figures are
 * in docs/security.md; tests/unit/test_identity.c checks them. */
struct throttle_rule {
	int64_t free, first, max, forget;
};
/* Password failures per (account, address): 5 free, then 30 s doubling to 15 min, forgotten
 * after a day without failure. The owner elsewhere is never slowed by someone else's. */
extern const struct throttle_rule throttle_pair;
/* Password failures per address, any account: 50 free, then 30 s doubling to 15 min,
 * forgotten after 15 min without failure. */
extern const struct throttle_rule throttle_address;
/* Wrong second-factor codes per account and factor, from anywhere: 9 free; the 10th refuses
 * that factor for 15 min, each further one doubles it, up to a day; consecutive. */
extern const struct throttle_rule throttle_factor;
/* Consecutive password failures per account, from anywhere: never blocks; at
 * LOGIN_CEILING a log-in also needs the owner's second factor. */
extern const struct throttle_rule throttle_account;
#define LOGIN_CEILING 100

/* Seconds a key is blocked after its failures-th failure under rule (0: not blocked). */
int64_t throttle_delay(const struct throttle_rule *rule, int64_t failures);
/* Counts a failure of key at now (atomically, so concurrent failures on several nodes all
 * count): *failures (may be NULL) gets the count after it, *blocked_for (may be NULL) the
 * seconds the key is now blocked (0: not). 0 or a database error. */
int throttle_fail(struct db *db, const char *key, const struct throttle_rule *rule, int64_t now, int64_t *failures,
		  int64_t *blocked_for);
/* The failures counted for key at now (forgotten ones not) and the seconds it stays blocked
 * (0: not blocked); either may be NULL. 0 or a database error. */
int throttle_state(struct db *db, const char *key, int64_t now, int64_t *failures, int64_t *retry);
/* A success: the key's failures are forgotten. */
void throttle_clear(struct db *db, const char *key);
/* Forgets every log-in counter of account (its ceiling, its factors, its pairs): an
 * administrator's `govhall user unblock`. GH_ENOTFOUND when there was none. */
int throttle_clear_account(struct db *db, int64_t account);
/* GH_ERATELIMIT with Retry-After set on r while key is blocked; 0 otherwise. */
int throttle_check(struct req *r, const char *key);
/* GH_ERATELIMIT with Retry-After: wait seconds. */
int throttle_refuse(struct req *r, int64_t wait);
/* Addresses a log-in succeeded from within GOOD_ADDRESS_DAYS: their hashing goes first
 * under a flood (unless wrong passwords came from them since). */
#define GOOD_ADDRESS_DAYS 30
void throttle_good_address(struct db *db, const char *address, int64_t now);
int throttle_is_good(struct db *db, const char *address, int64_t now, bool *good);

/* ---- one-time codes (otp.c) ------------------------------------------------------------ */

/* Codes sent by SMS: OTP_DIGITS random digits, stored as a keyed hash (BLAKE2b under the key
 * file's token key, with a salt of their own), valid OTP_TTL seconds, used once, dead after
 * OTP_ATTEMPTS wrong tries; a new code of the same subject and purpose ends the earlier ones.
 * purpose names the use: "login" (past the ceiling), "phone" (proving a number), "recovery"
 * (forgot password). A code belongs to a subject, "acct:<id>" (otp_subject) or, for a name
 * typed in the recovery form that designates no account that may recover, "name:<blind
 * index>": such a code serves nobody and never matches, so that the same work is done and the
 * same rows are written whether or not the account exists. Only a code sent to a number the
 * account proved (phone_verified_at) logs in or recovers. */
#define OTP_DIGITS 6
#define OTP_TTL 600
#define OTP_ATTEMPTS 5
#define OTP_RESEND_AFTER 60  /* a new code is made at most this often per subject and purpose */
#define OTP_PER_HOUR 5       /* and at most this many per hour */
/* Makes a code for (account, purpose) at now into code (OTP_DIGITS + 1 bytes). GH_ERATELIMIT
 * when one not used yet was made less than OTP_RESEND_AFTER seconds ago, or OTP_PER_HOUR were
 * made in the last hour (the earlier code stays valid), else 0 or a database error. */
int otp_issue(struct db *db, const struct keyring *k, int64_t account, const char *purpose, int64_t now,
	      char code[OTP_DIGITS + 1]);
/* Checks code against the live code of (account, purpose) at now: 0 (the code is used up),
 * GH_EINVAL for a wrong code (its attempt counted), GH_ENOTFOUND when no code is live
 * (none made, expired, used or tried too often). */
int otp_check(struct db *db, const struct keyring *k, int64_t account, const char *purpose, const char *code,
	      int64_t now);
/* Makes a code and sends it by SMS to the account's registered phone, with the text of
 * message key text_key ({code} replaced) in both languages. GH_ERATELIMIT as otp_issue,
 * GH_EUNAVAILABLE when no SMS can be sent (no messenger, no gateway or no phone). */
int otp_send(struct req *r, int64_t account, const char *purpose, const char *text_key);

#define OTP_SUBJECT_MAX 96
#define OTP_PER_PHONE_HOUR 10 /* codes to one number per hour, whatever the purpose */
/* "acct:<id>" into out. */
void otp_subject(char out[OTP_SUBJECT_MAX], int64_t account);
/* A code to make and send. */
struct otp_code {
	const char *subject;  /* otp_subject(), or "name:<blind index>" */
	int64_t account;      /* the account the code serves; 0: nobody (it never matches) */
	const char *target;   /* the number the code proves (purpose "phone"; sealed at rest), or NULL */
	const char *to;       /* the number the SMS goes to; "" or NULL: nobody (same work, no SMS) */
	const char *phone_key; /* counts the SMS per number: the blind index of `to` (or of the name) */
};
/* Makes a code of c for purpose at now (otp_issue's limits per subject), counts it against
 * the number (OTP_PER_PHONE_HOUR) and queues the SMS with the text of message key text_key
 * ({code} replaced), its number and text sealed (messenger.sms_to), in the caller's
 * transaction. GH_ERATELIMIT with Retry-After set on r, GH_EUNAVAILABLE without an SMS
 * gateway. */
int otp_send_to(struct req *r, const struct otp_code *c, const char *purpose, const char *text_key);
/* Whether SMS can be sent at all (a messenger, a gateway, the key file). */
bool otp_sms_ready(const struct req *r);
/* Makes a code of c for purpose at now into code (otp_issue's limits). */
int otp_issue_code(struct db *db, const struct keyring *k, const struct otp_code *c, const char *purpose, int64_t now,
		   char code[OTP_DIGITS + 1]);
/* A right code: the code's row, the account it serves, the number it proves (plain, in a;
 * NULL when none). */
struct otp_match {
	int64_t id, account;
	char *target;
};
/* Checks code against the live code of (subject, purpose) at now without using it up: 0 when
 * right (then otp_use), GH_EINVAL when wrong (its attempt counted; a code serving nobody is
 * always wrong), GH_ENOTFOUND when no code is live. */
int otp_match(struct db *db, const struct keyring *k, struct arena *a, const char *subject, const char *purpose,
	      const char *code, int64_t now, struct otp_match *out);
/* Uses up the code of row id: 0, or GH_ENOTFOUND when it was used meanwhile. */
int otp_use(struct db *db, int64_t id, int64_t now);
/* Ends every live code of account for purpose (a reset done: the other codes die). */
int otp_end_all(struct db *db, int64_t account, const char *purpose, int64_t now);

/* ---- telling an account's owner (main.c wires notify/notify.h through identity.h) -------- */

/* An inbox message to account with the texts of message keys title_key and body_key in both
 * languages (the body's placeholders filled from args[0..nargs)); no-op without a messenger.
 * Errors logged. */
void identity_tell(struct req *r, int64_t account, const char *kind, const char *title_key, const char *body_key,
		   const struct msg_arg *args, size_t nargs);

/* ---- recovery (recover.c) ----------------------------------------------------------------- */

/* After a registration created account with phone (plain): tells the owner of released (0:
 * none), whose unproved claim on the number gave way, and sends the code that proves it. */
void recover_registered(struct req *r, int64_t account, const char *phone, int64_t released);
/* Makes sure acc has the secret of an authenticator app waiting to be enrolled (sealed in the
 * account until a code proves the app has it): when it has none, one is made through the
 * writer and acc read back; then(r, arg, rc) follows (account.c). Read the secret with
 * account_totp_secret. */
int account_totp_ensure(struct req *r, struct account *acc, int (*then)(struct req *r, void *arg, int rc), void *arg);
/* The account of the current half-done log-in (password right, a second factor or a renewal
 * due): GH_ENOTFOUND when the session is not such (session.c). */
int session_pending_account(struct req *r, struct account *acc);

/* ---- helpers shared by the handlers ---------------------------------------------------- */

/* Now, in unix seconds (inline: every file of the module reads the clock, none through another). */
static inline int64_t identity_now(void)
{
	return clock_now();
}
/* Reads the posted form (pages) or JSON object (API) into a flat string object: both
 * shapes reach the same validation. GH_EINVAL / GH_EUNSUPPORTED with a detail. */
int identity_read_input(struct req *r, json_t **out);
/* s without surrounding ASCII spaces and tabs, in r's arena. */
const char *identity_trimmed(struct req *r, const char *s);
/* namefix.c: the requests to correct a name (covered by the log; declared by identity_register),
 * and their personal part (declared by identity_personal_declare). */
extern const struct cover_table identity_namefix_cover;
void identity_namefix_declare(void);
/* Why a JSON body was refused: the message key (identity_json_*) and the values it names. */
struct input_problem {
	const char *key;
	int line, column; /* where the JSON parser stopped ({line}, {column}) */
	char field[48];   /* the member at fault ({field}) */
};
/* The JSON half of identity_read_input, without a request (fuzzed): adds the members of the
 * object in body to o as strings. GH_EINVAL / GH_ETOOBIG with the reason in *why. */
int identity_input_from_json(const char *body, size_t len, json_t *o, struct input_problem *why);
/* The string value of key in an input object, "" when absent. */
const char *identity_field(json_t *in, const char *key);
/* Sets a validation message for field on errs (object field -> message). */
void identity_field_error(json_t *errs, const char *field, const char *msg);

#endif
