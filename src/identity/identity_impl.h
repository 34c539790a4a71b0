/* identity_impl.h: the identity module's private interface, shared by its files only.
 *
 * - accounts.c: the accounts table (seal, index, mask personal data), agents.
 * - session.c: sessions, API tokens, the authenticate and CSRF hooks, cookies.
 * - ratelimit.c: counters for failed log-ins and registrations, shared by all nodes.
 * - events.c: security events.
 * - login.c: log-in, second factor, log-out and registration (pages and API), whose password
 *   work runs on the job pool.
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
#include "base/arena.h"
#include "http/http.h"
#include "identity/crypto.h"
#include "identity/idcheck.h"
#include "identity/identity.h"
#include "identity/password.h"
#include "identity/totp.h"

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
};

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
};

/* Inserts an account. GH_ECONFLICT when the ID number, credit code or phone is taken. */
int account_create(struct db *db, const struct keyring *k, struct arena *a, const struct account_new *in,
		   int64_t *id);
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

/* Codes sent to an account's registered phone: OTP_DIGITS random digits, stored as a keyed
 * hash (BLAKE2b under the key file's token key, with a salt of their own), valid OTP_TTL
 * seconds, used once, dead after OTP_ATTEMPTS wrong tries; a new code of the same purpose
 * ends the earlier ones. purpose names the use ("login"; later "recovery"). */
#define OTP_DIGITS 6
#define OTP_TTL 600
#define OTP_ATTEMPTS 5
#define OTP_RESEND_AFTER 60  /* a new code is made at most this often per account and purpose */
#define OTP_PER_HOUR 5       /* and at most this many per hour */
/* Makes a code for (account, purpose) at now into code (OTP_DIGITS + 1 bytes). GH_ERATELIMIT
 * when one was made less than OTP_RESEND_AFTER seconds ago or OTP_PER_HOUR in the last hour
 * (the earlier code stays valid), else 0 or a database error. */
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

/* ---- telling an account's owner (main.c wires notify/notify.h through identity.h) -------- */

/* An inbox message to account with the texts of message keys title_key and body_key in both
 * languages (body: {detail} replaced by detail); no-op without a messenger. Errors logged. */
void identity_tell(struct req *r, int64_t account, const char *kind, const char *title_key, const char *body_key,
		   const char *detail_zh, const char *detail_en);

/* ---- helpers shared by the handlers ---------------------------------------------------- */

/* Now, in unix seconds (inline: every file of the module reads the clock, none through another). */
static inline int64_t identity_now(void)
{
	return (int64_t)time(NULL);
}
/* A safe local redirect target from a "next" parameter ("/..." but not "//..."), or dflt. */
const char *identity_safe_next(const char *next, const char *dflt);
/* Reads the posted form (pages) or JSON object (API) into a flat string object: both
 * shapes reach the same validation. GH_EINVAL / GH_EUNSUPPORTED with a detail. */
int identity_read_input(struct req *r, json_t **out);
/* The JSON half of identity_read_input, without a request (fuzzed): adds the members of the
 * object in body to o as strings. GH_EINVAL / GH_ETOOBIG with a message in detail. */
int identity_input_from_json(const char *body, size_t len, json_t *o, char *detail, size_t detail_len);
/* The string value of key in an input object, "" when absent. */
const char *identity_field(json_t *in, const char *key);
/* Sets a validation message for field on errs (object field -> message). */
void identity_field_error(json_t *errs, const char *field, const char *msg);
/* Answers a validation failure: the form page again (with values kept, passwords never) or
 * a 422 JSON error listing the fields. */
int identity_invalid(struct req *r, const char *tpl, json_t *ctx, json_t *errs);

#endif
